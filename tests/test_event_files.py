"""Discrete events in files (the text syntax's `event` line, the JSON `events` list) and the entry points that refuse
schemes with events (steady_state, ssa, fitting and sensitivities)."""
import copy
import json

import numpy as np
import pytest

import kinetics as kx
from kinetics.errors import ParseError, SchemeError
from kinetics.fitting.sensitivity import SensitivitySystem
from kinetics.jsonformat import read_json, read_json_model, scheme_to_dict, scheme_to_json
from kinetics.stochastic import ssa_path
from kinetics.textformat import format_scheme, parse_model, parse_scheme, read_scheme, write_scheme

TIGHT = dict(rtol=1e-11, atol=1e-13)


def every_field():
    """Three events using every field of Event between them (non-default values, expressions, a note with `;`)."""
    return kx.Scheme(
        "ev", species=[kx.Species("A", 0.0), kx.Species("B", 0.0), kx.Species("C", 1.0)],
        parameters=[kx.Parameter("k", 2.0, "1"), kx.Parameter("d", 0.5, "1")], inputs=[kx.Input("u", 0.0)],
        observables=[kx.Observable("tot", "A + B")],
        reactions=[kx.reaction("-> A", rate="1"), kx.reaction("C ->", "k")],
        events=[kx.Event("late", "A > 1", {"B": "A", "C": "C + k*min(A, 2)"}, delay="A*d", priority="k + 1",
                         persistent=False, initial_value=False, use_values_from_trigger_time=False,
                         note='a "note"; with ; semicolons # and a hash'),
                kx.Event("early", "(A > 1 and t >= 2) or not (tot < 0.5 or u > 1)", {"C": "0"}, delay=0.5),
                kx.Event("do", "A >= 3", {"A": "0"}, priority=-1)],
        check_units=False)


def delayed_values():
    """tests/test_events.py: A' = 1; `late` (B = A at firing, delay A) fires at t = 2 with A = 2; `early` (delay A,
    values at trigger) sets C = 1 at t = 2."""
    return kx.Scheme("d", species=[kx.Species("A", 0.0), kx.Species("B", 0.0), kx.Species("C", 0.0)],
                     reactions=[kx.reaction("-> A", rate="1"), kx.reaction("B -> B", "0")],
                     events=[kx.Event("late", "A > 1", {"B": "A"}, delay="A", use_values_from_trigger_time=False),
                             kx.Event("early", "A > 1", {"C": "A"}, delay="A")], check_units=False)


# ------------------------------------------------------------------------------------------- round trips
def test_text_round_trip_keeps_every_event_field():
    s = every_field()
    text = format_scheme(s)
    assert ("event late when A > 1 do B = A, C = C + k*min(2, A) ; delay A*d ; priority k + 1 ; not persistent ; "
            "initially false ; values at firing ; note \"a \\\"note\\\"; with ; semicolons # and a hash\"") in text
    assert "event do when A >= 3 do A = 0 ; priority -1" in text
    back = parse_scheme(text)
    assert back == s
    assert back.events == s.events and back.structure_key() == s.structure_key()
    late = back.events[0]
    assert (late.persistent, late.initial_value, late.use_values_from_trigger_time) == (False, False, False)
    assert late.note == 'a "note"; with ; semicolons # and a hash'
    assert format_scheme(back) == text


def test_text_event_lines_as_documented():
    text = """
scheme doc
species V = 0
species W = 0
species A = 1
species B = 0
reaction -> V ; rate = 1
event reset when V > 1 do V = 0, W = W + 1
event dose when t >= 10 and A < 0.5 do A = A + 1 ; delay 2 ; priority 1
event late when A > 1 do B = A ; delay A ; not persistent ; initially false ; values at firing ; note "text"
event explicit when A > 1 do B = 1 ; persistent ; initially true ; values at trigger
"""
    s = parse_scheme(text)
    reset, dose, late, explicit = s.events
    assert str(reset) == "reset: when V > 1: V = 0, W = W + 1"
    assert str(dose) == "dose: when (A < 0.5) and (t >= 10): A = A + 1; delay 2; priority 1"
    assert str(late) == "late: when A > 1: B = A; delay A; not persistent; initially false; values at firing"
    assert late.note == "text"
    assert explicit == kx.Event("explicit", "A > 1", {"B": "1"})
    assert parse_scheme(format_scheme(s)) == s


def test_text_round_trip_with_protocol_and_files(tmp_path):
    s = every_field()
    p = kx.Protocol([kx.pulses("u", [1.0, 3.0], 2.0, 0.5)])
    m = parse_model(format_scheme(s, protocol=p, t_end=5.0))
    assert (m.scheme, m.protocol, m.t_end) == (s, p, 5.0)
    path = tmp_path / "ev.txt"
    write_scheme(s, path)
    assert read_scheme(path) == s


def test_json_round_trip_keeps_every_event_field():
    s = every_field()
    data = scheme_to_dict(s)
    assert data["events"][0] == {
        "name": "late", "trigger": "A > 1", "assignments": [["B", "A"], ["C", "C + k*min(2, A)"]],
        "delay": "A*d", "priority": "k + 1", "persistent": False, "initial_value": False,
        "use_values_from_trigger_time": False, "note": 'a "note"; with ; semicolons # and a hash'}
    assert data["events"][1]["priority"] is None and data["events"][1]["delay"] == "0.5"
    back = read_json(scheme_to_json(s))
    assert back == s and back.events == s.events
    assert "events" not in scheme_to_dict(kx.Scheme("x", species=[kx.Species("A", 1.0)],
                                                    reactions=[kx.reaction("A ->", "1")], check_units=False))
    p = kx.Protocol([kx.jumps("A", [1.0], 0.5)])
    m = read_json_model(scheme_to_json(s, protocol=p, t_end=4.0))
    assert (m.scheme, m.protocol, m.t_end) == (s, p, 4.0)


def test_same_simulation_after_round_trips():
    s = delayed_values()
    t = [1.99, 2.0 + 1e-9, 3.0]
    ref = kx.simulate(s, t_end=3.0, t_eval=t, **TIGHT)
    np.testing.assert_allclose(ref["B"], [0.0, 2.0, 2.0], atol=1e-8)      # analytic (see delayed_values)
    np.testing.assert_allclose(ref["C"], [0.0, 1.0, 1.0], atol=1e-8)
    for back in (parse_scheme(format_scheme(s)), read_json(scheme_to_json(s))):
        assert back == s
        res = kx.simulate(back, t_end=3.0, t_eval=t, **TIGHT)
        np.testing.assert_allclose(res.y, ref.y, rtol=1e-12, atol=1e-12)
        assert res.stats["events_fired"] == ref.stats["events_fired"] == 2


# ------------------------------------------------------------------------------------------- text errors
HEAD = """scheme errs
species A = 0
species B = 0
parameter k = 1 [1]
reaction -> A ; rate = 1
"""


@pytest.mark.parametrize("line, message", [
    ("event", "expected a name after `event`"),
    ("event 1e when A > 1 do A = 0", "expected a name after `event`"),
    ("event ev A > 1 do A = 0", "expected `when CONDITION do SPECIES = EXPRESSION` after `event ev`"),
    ("event ev when A > 1 A = 0", "expected `do SPECIES = EXPRESSION` after the trigger of event `ev`"),
    ("event ev when do A = 0", "expected `do SPECIES = EXPRESSION` after the trigger"),
    ("event ev when A > 1 do Q = 0", "event `ev` assigns unknown species `Q`"),
    ("event ev when A > 1 do k = 0", "(`k` is a parameter; events assign species only)"),
    ("event ev when A > 1 do A = 0, B", "expected `SPECIES = EXPRESSION` in the assignments of event `ev`, got `B`"),
    ("event ev when A > 1 do A = 0, A = 1", "assigns `A` twice"),
    ("event ev when A > 1 do A = B +", "syntax error"),
    ("event ev when A > 1 do A = Bx", "unknown name `Bx`"),
    ("event ev when Ax > 1 do A = 0", "unknown name `Ax` in the trigger of event `ev`"),
    ("event ev when A + 1 do A = 0", "is not a valid condition"),
    ("event ev when A == 1 do A = 0", "`==` and `!=` cannot trigger an event"),
    ("event ev when 1 > 0 do A = 0", "constant"),
    ("event ev when A > 1 do A = 0 ; delay", "expected an expression for the delay of event `ev`"),
    ("event ev when A > 1 do A = 0 ; delay -1", "must not be negative"),
    ("event ev when A > 1 do A = 0 ; speed 2", "unknown clause `speed 2` of event `ev`"),
    ("event ev when A > 1 do A = 0 ; delay 1 ; delay 2", "the `delay` clause of event `ev` is given twice"),
    ("event ev when A > 1 do A = 0 ; persistent ; not persistent",
     "the `persistent` clause of event `ev` is given twice"),
    ("event ev when A > 1 do A = 0 ; initially maybe", "expected `initially true` or `initially false`"),
    ("event ev when A > 1 do A = 0 ; values at noon", "expected `values at trigger` or `values at firing`"),
    ("event ev when A > 1 do A = 0 ; note text", "expected a quoted string for the note of event `ev`"),
    ("event ev when A > 1 do A = 0 ; note \"x\" y", "unexpected text after the note of event `ev`"),
    ("event ev when A > 1 do A = 0 ;", "unknown clause ``"),
    ("event A when A > 1 do A = 0", "duplicate name `A`: already declared as a species on line 2"),
])
def test_text_event_errors(line, message):
    with pytest.raises(ParseError) as err:
        parse_scheme(HEAD + line + "\n")
    assert err.value.line == 6 and message in str(err.value)


def test_text_duplicate_event_names():
    with pytest.raises(ParseError) as err:
        parse_scheme(HEAD + "event ev when A > 1 do A = 0\nevent ev when A > 2 do B = 1\n")
    assert err.value.line == 7 and "duplicate event name `ev`: already an event on line 6" in str(err.value)


# ------------------------------------------------------------------------------------------- JSON errors
def _json_error(edit):
    data = scheme_to_dict(every_field())
    edit(data["events"])
    with pytest.raises(ParseError) as err:
        read_json(json.dumps(data))
    return str(err.value)


def _set(i, key, value):
    def edit(events):
        events[i][key] = value
    return edit


@pytest.mark.parametrize("edit, message", [
    (_set(0, "trigger", "A + 1"), "events[0].trigger: the trigger `A + 1` is not a valid condition"),
    (_set(0, "trigger", "A != 1"), "events[0].trigger: the trigger: `==` and `!=`"),
    (_set(0, "trigger", 3), "events[0].trigger: expected a string"),
    (_set(0, "trigger", "Ax > 1"), "events[0].trigger: unknown name `Ax`"),
    (_set(1, "assignments", [["Q", "0"]]), "events[1].assignments[0]: unknown species `Q`"),
    (_set(1, "assignments", [["k", "0"]]), "events[1].assignments[0]: unknown species `k` (it is a parameter"),
    (_set(1, "assignments", [["A", "B +"]]), "events[1].assignments[0]: "),
    (_set(1, "assignments", [["A", "Bx"]]), "events[1].assignments[0]: unknown name `Bx`"),
    (_set(1, "assignments", {"A": "0"}), "events[1].assignments: expected a list"),
    (_set(1, "assignments", [["A"]]), "events[1].assignments[0]: expected [species, expression]"),
    (_set(1, "assignments", [["A", "0"], ["A", "1"]]), "events[1].assignments: event `early` assigns `A` twice"),
    (_set(1, "assignments", []), "events[1].assignments: event `early` has no assignments"),
    (_set(0, "delay", "-1"), "events[0].delay: delay of event `late` must not be negative"),
    (_set(0, "delay", 2), "events[0].delay: expected a string"),
    (_set(0, "priority", "k +"), "events[0].priority: "),
    (_set(0, "persistent", "no"), "events[0].persistent: must be true or false"),
    (_set(0, "initial_value", 0), "events[0].initial_value: must be true or false"),
    (_set(0, "use_values_from_trigger_time", None), "events[0].use_values_from_trigger_time: must be true or false"),
    (_set(0, "note", 1), "events[0].note: expected a string"),
    (_set(0, "when", "A > 1"), "events[0]: unknown field(s) 'when'"),
    (_set(2, "name", "early"), "events[2].name: duplicate event name `early`"),
    (_set(2, "name", "tot"), "events[2].name: `tot` is already the name of a observable"),
    (_set(2, "name", "_x"), "events[2].name: "),
    (lambda ev: ev.__setitem__(0, "late"), "events[0]: expected an object"),
    (lambda ev: ev[0].pop("trigger"), "events[0]: missing field(s) 'trigger'"),
])
def test_json_event_errors(edit, message):
    assert message in _json_error(edit)


def test_json_events_must_be_a_list():
    data = scheme_to_dict(every_field())
    data["events"] = {"late": copy.deepcopy(data["events"][0])}
    with pytest.raises(ParseError, match=r"events: expected a list"):
        read_json(json.dumps(data))


# ------------------------------------------------------------------------------------------- guards
def test_steady_state_refuses_events():
    with pytest.raises(SchemeError, match=r"scheme `d` has discrete events \(late, early\): a steady state of its "
                                          r"ODEs would ignore them; simulate it instead"):
        kx.steady_state(delayed_values())


def test_ssa_refuses_events():
    s = delayed_values()
    with pytest.raises(SchemeError, match=r"has discrete events \(late, early\): the stochastic simulation does not "
                                          r"run them \(not supported yet\)"):
        kx.ssa(s, t_end=1.0, n_copies=10, seed=0)
    with pytest.raises(SchemeError, match="the stochastic simulation does not run them"):
        ssa_path(s, t_end=1.0, n_copies=10, seed=0)


@pytest.mark.parametrize("gradient", ["exact", "2-point"])
def test_fitting_refuses_events(gradient):
    s = kx.Scheme("g", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 1.0, "1/ms")],
                  reactions=[kx.reaction("-> A", rate="k*A")], events=[kx.Event("halve", "A > 2", {"A": "A/2"})])
    data = kx.Dataset("d", time=[0.0, 1.0, 2.0], data={"A": [1.0, 2.7, 3.7]})
    with pytest.raises(SchemeError, match=r"has discrete events \(halve\): fitting does not support them yet"):
        kx.fit(s, data, ["k"], n_starts=1, gradient=gradient, executor="serial")
    with pytest.raises(SchemeError, match="sensitivities across discrete events .* are not implemented"):
        SensitivitySystem(kx.derive(s), parameters=["k"])


def test_latex_export_lists_the_events():
    s = kx.Scheme("ev_latex", species=[kx.Species("A", 1.0), kx.Species("B", 0.0)],
                  parameters=[kx.Parameter("k", 1.0, "1/ms")], reactions=[kx.reaction("A -> B", "k")],
                  events=[kx.Event("refill", "A < 0.25 and t > 1", {"A": "A + 1", "B": "0"}, delay="0.5",
                                   persistent=False)])
    lines = [ln for ln in kx.export(s, "latex").splitlines() if "refill" in ln]
    assert lines == [r"\item \textbf{refill}: when $t > 1 \wedge A < 0.25$: $A \leftarrow A + 1,\; B \leftarrow 0$ "
                     r"(delay $0.5$; not persistent)"]
    import matplotlib.mathtext as mathtext

    parser = mathtext.MathTextParser("agg")
    for part in lines[0].split("$")[1::2]:                # every formula renders in matplotlib's mathtext
        parser.parse(f"${part}$")
