"""Scheme events through SBML: export -> import gives the same events and the same simulation, libRoadRunner runs
the exported events to the same trajectory, SBML events that are not time-only become scheme events, and what
the engine cannot run is refused with a clear error."""
import numpy as np
import pytest

import kinetics as kx
from kinetics.sbml import read_sbml, read_sbml_model

TIGHT = dict(rtol=1e-11, atol=1e-13)
T_END = 6.0
T_EVAL = np.linspace(0.0, T_END, 61)


def event_scheme():
    """A grows exponentially and is halved when it crosses th (counting the resets in C); two events of
    different priorities fire at the same time as the reset (their order matters: B*2 then B+1); a delayed,
    non-persistent event adds A to B 0.25 after t >= 1.5 and A < 1.8 (values at firing)."""
    return kx.Scheme(
        "evs", species=[kx.Species("A", 1.0), kx.Species("B", 0.5), kx.Species("C", 0.0, unit="1")],
        parameters=[kx.Parameter("k", 1.0, "1/ms"), kx.Parameter("th", 2.0, "mM"), kx.Parameter("kb", 0.2, "1/ms")],
        reactions=[kx.reaction("-> A", rate="k*A"), kx.reaction("B ->", "kb")],
        events=[kx.Event("reset", "A > th", {"A": "A/2", "C": "C + 1"}),
                kx.Event("double", "A > th", {"B": "2*B"}, priority="2", use_values_from_trigger_time=False),
                kx.Event("add", "A > th", {"B": "B + 1"}, priority="1", use_values_from_trigger_time=False),
                kx.Event("late", "t >= 1.5 and A < 1.8", {"B": "B + A"}, delay="0.25", persistent=False,
                         use_values_from_trigger_time=False, initial_value=False)])


def test_round_trip_keeps_events_and_simulation():
    s = event_scheme()
    xml = kx.export(s, "sbml")
    back = read_sbml(xml)
    assert back == s
    assert [(e.name, e.trigger, e.assignments, e.delay, e.priority, e.persistent, e.initial_value,
             e.use_values_from_trigger_time) for e in back.events] == \
           [(e.name, e.trigger, e.assignments, e.delay, e.priority, e.persistent, e.initial_value,
             e.use_values_from_trigger_time) for e in s.events]
    a = kx.simulate(s, t_end=T_END, t_eval=T_EVAL, **TIGHT)
    b = kx.simulate(back, t_end=T_END, t_eval=T_EVAL, **TIGHT)
    assert a.stats["events_fired"] == b.stats["events_fired"] > 10
    for n in s.species_names:
        np.testing.assert_allclose(b[n], a[n], rtol=1e-8, atol=1e-12)


def test_exported_events_are_sbml_events():
    import libsbml

    m = libsbml.readSBMLFromString(kx.export(event_scheme(), "sbml")).getModel()
    assert m.getNumEvents() == 4
    late = m.getEvent("late")
    assert not late.getUseValuesFromTriggerTime()
    assert not late.getTrigger().getPersistent() and not late.getTrigger().getInitialValue()
    assert libsbml.formulaToL3String(late.getDelay().getMath()) == "0.25 ms"
    assert libsbml.formulaToL3String(late.getTrigger().getMath()) == "(time >= 1.5) && (A < 1.8)"
    assert libsbml.formulaToL3String(m.getEvent("double").getPriority().getMath()) == "2 dimensionless"
    assert [m.getEvent("reset").getEventAssignment(j).getVariable() for j in range(2)] == ["A", "C"]


@pytest.mark.peer
def test_exported_events_agree_with_roadrunner():
    roadrunner = pytest.importorskip("roadrunner")
    s = event_scheme()
    xml = kx.export(s, "sbml")
    rr = roadrunner.RoadRunner(xml)
    rr.integrator.relative_tolerance = 1e-12
    rr.integrator.absolute_tolerance = 1e-14
    rr.integrator.maximum_num_steps = 10 ** 6
    rr.timeCourseSelections = ["time", "[A]", "[B]", "C"]
    out = np.asarray(rr.simulate(0.0, T_END, len(T_EVAL)))
    res = kx.simulate(s, t_end=T_END, t_eval=T_EVAL, **TIGHT)
    np.testing.assert_allclose(out[:, 0], T_EVAL)
    # no output time is an event time (events at n ln 2 and n ln 2 + 0.25; outputs every 0.1)
    for j, n in enumerate(["A", "B", "C"], 1):
        np.testing.assert_allclose(res[n], out[:, j], rtol=1e-6, atol=1e-9, err_msg=n)
    assert res["C"][-1] == 8.0     # A' = A from 1, halved on reaching 2: every ln 2, floor(6 / ln 2) = 8 times


SBML_HEAD = ('<?xml version="1.0" encoding="UTF-8"?><sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" '
             'level="3" version="2"><model id="m"><listOfCompartments><compartment id="c" size="1" constant="true"/>'
             '</listOfCompartments><listOfSpecies><species id="A" compartment="c" initialConcentration="1" '
             'hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>'
             '<listOfParameters><parameter id="k" value="1" constant="true"/>'
             '<parameter id="n" value="0" constant="false"/></listOfParameters>'
             '<listOfReactions><reaction id="R" reversible="false"><listOfProducts><speciesReference species="A" '
             'stoichiometry="1" constant="true"/></listOfProducts><kineticLaw><math '
             'xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>k</ci><ci>A</ci></apply></math>'
             '</kineticLaw></reaction></listOfReactions><listOfEvents>')
MATH = '<math xmlns="http://www.w3.org/1998/Math/MathML">{}</math>'


def _model(trigger, a_math="<apply><divide/><ci>A</ci><cn>2</cn></apply>"):
    return (SBML_HEAD + '<event useValuesFromTriggerTime="true"><trigger initialValue="true" persistent="true">'
            + MATH.format(trigger) + '</trigger><listOfEventAssignments>'
            '<eventAssignment variable="A">' + MATH.format(a_math)
            + '</eventAssignment><eventAssignment variable="n">'
            + MATH.format("<apply><plus/><ci>n</ci><cn>1</cn></apply>")
            + '</eventAssignment></listOfEventAssignments></event></listOfEvents></model></sbml>')


def test_state_event_of_an_sbml_file_assigning_a_parameter():
    """A' = A, halved when A > 2 (an event without id: `event_1`), counting in the parameter n (a species
    without reactions in the scheme, reported under its SBML id)."""
    m = read_sbml_model(_model("<apply><gt/><ci>A</ci><cn>2</cn></apply>"))
    assert [e.name for e in m.scheme.events] == ["event_1"]
    assert "n" in m.scheme.species_names and "n" in m.columns and len(m.protocol) == 0
    df = m.simulate(3.0, [0.0, 1.0, 3.0], **TIGHT)
    ln2 = np.log(2.0)
    np.testing.assert_allclose(df["A"], np.exp(np.mod([0.0, 1.0, 3.0], ln2)), rtol=1e-8)
    assert df["n"].tolist() == [0.0, 1.0, 4.0]


@pytest.mark.parametrize("trigger, message", [
    ("<apply><eq/><ci>A</ci><cn>2</cn></apply>", r"`==` and `!=` cannot trigger an event.*event `#1`"),
    ("<apply><xor/><apply><gt/><ci>A</ci><cn>2</cn></apply><apply><lt/><ci>A</ci><cn>3</cn></apply></apply>",
     r"unsupported SBML construct: event the engine cannot run.*not a relation"),
])
def test_triggers_the_engine_cannot_run_are_refused(trigger, message):
    with pytest.raises(kx.SchemeError, match=message):
        read_sbml_model(_model(trigger))


@pytest.mark.parametrize("a_math, protocol", [("<apply><plus/><ci>A</ci><cn>1</cn></apply>", True),
                                               ("<apply><divide/><ci>A</ci><cn>2</cn></apply>", False)])
def test_time_only_events_stay_a_protocol_where_exact(a_math, protocol):
    """``time >= 1``: ``A = A + 1`` is a protocol jump (and n a step); ``A = A/2`` is no jump: a scheme event."""
    m = read_sbml_model(_model("<apply><geq/><csymbol encoding='text' definitionURL="
                               "'http://www.sbml.org/sbml/symbols/time'>time</csymbol><cn>1</cn></apply>", a_math))
    assert (len(m.scheme.events), len(m.protocol)) == ((0, 2) if protocol else (1, 0))
    df = m.simulate(2.0, [0.0, 2.0], **TIGHT)
    expected = (np.exp(1.0) + 1) * np.exp(1.0) if protocol else np.exp(2.0) / 2
    np.testing.assert_allclose(df["A"].iloc[-1], expected, rtol=1e-8)
    assert df["n"].tolist() == [0.0, 1.0]


def test_lsoda_that_cannot_bracket_a_trigger_is_a_clear_error():
    """SBML suite case 00369 under scipy's LSODA: brentq on LSODA's interpolant finds no sign change (scipy issues
    14480, 17066); the error says so and names the methods that work, which then match the suite's results."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    import sbml_suite

    if not sbml_suite.ARCHIVE.exists():
        pytest.skip(f"the SBML Test Suite archive is not at {sbml_suite.ARCHIVE}")
    import tarfile

    with tarfile.open(sbml_suite.ARCHIVE) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("00369/00369-sbml-l3v2.xml"))
        text = tar.extractfile(member).read().decode()
    model = kx.read_sbml_model(text)
    t = np.linspace(0.0, 5.0, 51)
    with pytest.raises(kx.SolverError, match=r"could not locate an event's trigger .* use method='auto'"):
        model.simulate(5.0, t, method="LSODA", rtol=1e-10, atol=1e-14)
    a = model.simulate(5.0, t, method="auto", rtol=1e-10, atol=1e-14)
    b = model.simulate(5.0, t, method="BDF", rtol=1e-10, atol=1e-14, max_step=0.1)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-5, atol=1e-8)


def test_composed_schemes_with_repeated_reaction_names_export_valid_sbml():
    """Reaction names are labels: two receptors composed from one builder share them, and the SBML ids are made
    unique (the export was invalid SBML before); the import gives back the names and the same simulation."""
    from models import destexhe1994

    base = destexhe1994.five_state()
    parts = [base.rename({x: f"{x}_{r}" for x in (*base.species_names, *base.parameter_names,
                                                  *base.observable_names)}, name=f"receptor_{r}") for r in range(2)]
    s = kx.compose(parts, name="two_receptors")
    assert [r.name for r in s.reactions].count("bind1") == 2
    back = read_sbml(kx.export(s, "sbml"))
    assert [r.name for r in back.reactions] == [r.name for r in s.reactions]
    prot = kx.Protocol([kx.pulses("glu", [1.0], amplitude=1.0, width=1.0)])
    a = kx.simulate(s, prot, t_end=20.0, n_points=21, rtol=1e-10, atol=1e-12)
    b = kx.simulate(back, prot, t_end=20.0, n_points=21, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b["O_1"], a["O_1"], rtol=1e-9, atol=1e-14)


def test_an_input_step_at_t0_survives_the_sbml_round_trip():
    """nmdakin writes the protocol's value at t = 0 as the parameter's value and the input's default in its
    annotation; the import clamps the input to that value from t = 0 (it was lost: LR stayed 0)."""
    m = kx.parse_model("scheme binding\nspecies R = 1 [1]\nspecies LR = 0 [1]\nparameter kon = 1 [1/(uM*s)]\n"
                       "parameter koff = 0.1 [1/s]\ninput L = 0 [mM]\nR <-> LR ; kon*L, koff\n"
                       "steps L times=[0] values=[1e-4]\nt_end 60000\n")
    back = read_sbml_model(kx.export(m.scheme, "sbml", protocol=m.protocol, t_end=m.t_end))
    assert back.scheme.input_names == ("L",) and back.scheme.inputs[0].default == 0.0
    a = kx.simulate(m.scheme, m.protocol, t_end=m.t_end, n_points=5, rtol=1e-10, atol=1e-12)
    b = kx.simulate(back.scheme, back.protocol, t_end=m.t_end, n_points=5, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b["LR"], a["LR"], rtol=1e-9, atol=1e-14)
    assert b["LR"][-1] == pytest.approx(0.5, rel=1e-4)                  # Bmax L / (Kd + L), Kd = L = 100 nM
