"""NMODL import (kinetics.nmodl): structure of the ModelDB corpus, analytic solutions, NET_RECEIVE protocols,
and a clear error (construct and line) for everything outside the subset.

The comparison with NEURON itself is in test_nmodl_neuron.py.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import sympy

import kinetics as kx
from kinetics.errors import ParseError, ProtocolError
from kinetics.nmodl import read_nmodl, read_nmodl_model

DATA = Path(__file__).parent / "data" / "nmodl"

BINDING = """
NEURON { POINT_PROCESS Syn  RANGE g  NONSPECIFIC_CURRENT i }
UNITS { (nA) = (nanoamp)  (mV) = (millivolt)  (umho) = (micromho) }
PARAMETER { kon = 2 (/ms mM)  koff = 0.5 (/ms)  gmax = 0.001 (umho)  Erev = 0 (mV) }
ASSIGNED { v (mV)  i (nA)  g (umho)  C (mM) }
STATE { R  O }
INITIAL { R = 1  O = 0 }
BREAKPOINT { SOLVE kin METHOD sparse  g = gmax*O  i = g*(v - Erev) }
KINETIC kin { ~ R <-> O (kon*C, koff)  CONSERVE R + O = 1 }
"""


def _write(tmp_path, text, name="m.mod"):
    path = tmp_path / name
    path.write_text(text)
    return path


# --------------------------------------------------------------------------- corpus structure
def test_corpus_imports_and_has_the_published_structure():
    files = sorted(DATA.glob("modeldb_*/*.mod"))
    assert len(files) >= 15
    models = {p.name: read_nmodl_model(p) for p in files}
    ampa5 = models["ampa5.mod"]
    assert ampa5.scheme.species_names == ("C0", "C1", "C2", "D1", "D2", "O")
    assert len(ampa5.scheme.reactions) == 5 and ampa5.pointers == ("C",) and not ampa5.has_events
    assert ampa5.scheme.get_parameter("Rb").value == 13.0
    assert ampa5.scheme.get_parameter("Rb").unit == "1/(mM*ms)"
    # gmax is declared in pS: the scheme's conductance unit is the file's (pS), so the value is kept as written
    assert ampa5.scheme.units.conductance == "pS" and ampa5.scheme.get_parameter("gmax").unit == "pS"
    gabab3 = models["gabab3.mod"]
    assert {r.species for r in gabab3.scheme.rate_rules} == {"R", "D", "G"}
    exp2 = models["exp2EPSG.mod"]
    assert exp2.renamed == {"e": "e_"} and "e_" in exp2.scheme.parameter_names
    assert models["SynNMDA16.mod"].scheme.get_input("nao").default == 140.0     # NEURON's default nao
    assert len(models["SynNMDA16.mod"].scheme.species) == 16


def test_kinetics_package_exports_read_nmodl():
    assert kx.read_nmodl is read_nmodl


def test_json_round_trip_of_an_imported_scheme():
    s = read_nmodl(DATA / "modeldb_225080" / "nmda_kin2.mod")
    assert kx.read_json(kx.export(s, "json")) == s


# --------------------------------------------------------------------------- analytic solutions
def test_two_state_binding_matches_the_analytic_solution(tmp_path):
    s = read_nmodl(_write(tmp_path, BINDING), inputs={"v": -60.0})
    c, kon, koff, gmax = 0.5, 2.0, 0.5, 0.001
    t = np.linspace(0.0, 5.0, 51)
    res = kx.simulate(s, kx.Protocol([kx.steps("C", [0.0], [c])]), t_end=5.0, t_eval=t, rtol=1e-10, atol=1e-13)
    k = kon * c + koff
    o = kon * c / k * (1.0 - np.exp(-k * t))
    np.testing.assert_allclose(res["O"], o, rtol=1e-7, atol=1e-11)
    np.testing.assert_allclose(res["i"], gmax * o * (-60.0), rtol=1e-7, atol=1e-13)


def test_exp2syn_event_peaks_at_its_weight():
    """Exp2Syn's INITIAL `factor` normalises the peak of g = B - A to the NetCon weight."""
    m = read_nmodl_model(DATA / "modeldb_225080" / "exp2EPSG.mod")
    tau1, tau2, w, t0 = 0.1, 10.0, 0.5, 2.0
    tp = t0 + tau1 * tau2 / (tau2 - tau1) * math.log(tau2 / tau1)
    t = np.array([0.0, t0, tp, 20.0])
    res = kx.simulate(m.scheme, m.protocol([t0], weight=w), t_end=20.0, t_eval=t, rtol=1e-11, atol=1e-14)
    assert res["g"][0] == 0.0
    assert res["g"][2] == pytest.approx(w, rel=1e-7)
    factor = 1.0 / (math.exp(-(tp - t0) / tau2) - math.exp(-(tp - t0) / tau1))
    expected = w * factor * (math.exp(-(20.0 - t0) / tau2) - math.exp(-(20.0 - t0) / tau1))
    assert res["g"][3] == pytest.approx(expected, rel=1e-7)


def test_jahr_stevens_block_and_piecewise_procedure():
    nmda5 = read_nmodl_model(DATA / "modeldb_18198" / "nmda5.mod", inputs={"v": -60.0})
    b = nmda5.scheme.get_observable("B").expr.subs({"mg": 1.0, "v": -60.0})
    assert float(b) == pytest.approx(1.0 / (1.0 + math.exp(0.062 * 60.0) / 3.57), rel=1e-14)
    kin2 = read_nmodl(DATA / "modeldb_225080" / "nmda_kin2.mod")
    kf = kin2.get_observable("kin_factor").expr
    assert isinstance(kf, sympy.Piecewise)
    values = {"kin_slope": -0.00754, "kin_offset": 1.302}
    for v, expected in ((-80.0, -0.00754 * -70 + 1.302), (0.0, 1.302), (50.0, 1.0)):
        assert float(kf.subs({**values, "v": v})) == pytest.approx(expected, rel=1e-14)


# --------------------------------------------------------------------------- NET_RECEIVE protocols
def test_cdur_pattern_becomes_a_transmitter_pulse():
    m = read_nmodl_model(DATA / "modeldb_225080" / "ampa_kin.mod")
    assert m.has_events and m.scheme.input_names == ("C", "scale", "v")
    p = m.protocol([5.0], weight=2.0)
    by_target = {c.target: c for c in p.components}
    assert by_target["C"].times == (5.0, 5.3) and by_target["C"].values == (1.0, 0.0)
    assert by_target["scale"].times == (5.0,) and by_target["scale"].values == (2.0,)
    longer = m.protocol([5.0], params={"Cdur": 1.0, "Cmax": 3.0})
    c = {x.target: x for x in longer.components}["C"]
    assert c.times == (5.0, 6.0) and c.values == (3.0, 0.0)
    assert m.scheme.get_input("C").default == 0.0 and m.scheme.get_input("scale").default == 1.0


def test_protocol_errors(tmp_path):
    with pytest.raises(ProtocolError, match="no NET_RECEIVE"):
        read_nmodl_model(DATA / "modeldb_18198" / "ampa5.mod").protocol([1.0])
    text = BINDING + "NET_RECEIVE(weight, w2) { C = weight }\n"
    with pytest.raises(ProtocolError, match=r"m\.mod:10: NET_RECEIVE with 2 arguments"):
        read_nmodl_model(_write(tmp_path, text)).protocol([1.0])
    text = BINDING + "NET_RECEIVE(weight) { O = O * weight }\n"
    with pytest.raises(ProtocolError, match="state `O` to a value that depends on the states"):
        read_nmodl_model(_write(tmp_path, text)).protocol([1.0], weight=2.0)
    text = BINDING + "NET_RECEIVE(weight) { net_move(t + 1) }\n"
    with pytest.raises(ProtocolError, match=r"m\.mod:10:.*net_move"):
        read_nmodl_model(_write(tmp_path, text)).protocol([1.0])
    with pytest.raises(ProtocolError, match="unknown parameter `kn`"):
        read_nmodl_model(_write(tmp_path, BINDING + "NET_RECEIVE(weight) { C = 1 }\n")).protocol([1.0],
                                                                                               params={"kn": 1})


# --------------------------------------------------------------------------- unsupported constructs
_KIN = BINDING.replace("KINETIC kin { ~ R <-> O (kon*C, koff)  CONSERVE R + O = 1 }\n", "")


@pytest.mark.parametrize("snippet, line, construct", [
    (BINDING + "PROCEDURE p() {\nVERBATIM\n return 0;\nENDVERBATIM\n}\n", 11, "`VERBATIM`"),
    (BINDING + 'INCLUDE "netcon.inc"\n', 10, "`INCLUDE`"),
    (BINDING + "LINEAR lin { }\n", 10, "`LINEAR`"),
    (BINDING.replace("INITIAL { R = 1  O = 0 }", "INITIAL {\n SOLVE kin STEADYSTATE sparse }"), 8,
     "`SOLVE kin STEADYSTATE sparse`"),
    (_KIN.replace("SOLVE kin METHOD sparse", "SOLVE st METHOD after_cvode")
     + "DERIVATIVE st { O' = -O }\n", 8, "`SOLVE st METHOD after_cvode`"),
    (BINDING + "NET_RECEIVE(weight) {\n WATCH (v > 0) 2\n}\n", 11, "`WATCH`"),
    (BINDING.replace("INITIAL { R = 1  O = 0 }", "INITIAL { LOCAL k\n FROM k = 0 TO 2 { R = 1 } }"), 8, "`FROM`"),
    (BINDING.replace("CONSERVE R + O = 1", "~ O << (1)"), 9, "`~ x << (flux)`"),
    (BINDING.replace("ASSIGNED { v (mV)", "ASSIGNED { v (mV) x[2]"), 5, "`array x[...]`"),
    (BINDING.replace("UNITS {", "UNITS { FARADAY = (faraday) (coulomb)"), 3, "`UNITS constant FARADAY`"),
    (BINDING.replace("g = gmax*O", "rates(v)\n g = gmax*O") + "PROCEDURE rates(v) {\n TABLE DEPEND C FROM -100 "
     "TO 100 WITH 200\n koff = 1 }\n", 12, "`TABLE ... DEPEND C"),
    (BINDING.replace("INITIAL { R = 1  O = 0 }", "INITIAL { R = 1\n koff = 2*koff }"), 8,
     "INITIAL changes PARAMETER `koff`"),
    (BINDING.replace("g = gmax*O", "g = gmax*O*dt"), 8, "NEURON variable `dt`"),
    (BINDING.replace("g = gmax*O", "g = gmax*hill(O)"), 8, "unknown function hill"),
    (BINDING.replace("g = gmax*O", "g = gmax*O*(v > 0)"), 8, "a condition used as a number"),
    (BINDING.replace("NONSPECIFIC_CURRENT i", "NONSPECIFIC_CURRENT i USEION ca WRITE cai"), 2,
     "`USEION ca WRITE cai`"),
    (BINDING.replace("KINETIC kin {", "KINETIC kin {\n printf(\"x\")"), 10, "`printf`"),
    (BINDING.replace("CONSERVE R + O = 1", "\n~ R <-> O (O', 1)"), 10, "`derivative O' used in an expression`"),
    (BINDING + "NET_RECEIVE(w) {\n INITIAL { C = 0 } }\n", 11, "`INITIAL block inside a block`"),
])
def test_unsupported_construct_is_named_with_its_line(tmp_path, snippet, line, construct):
    path = _write(tmp_path, snippet)
    with pytest.raises(ParseError) as err:
        read_nmodl(path)
    message = str(err.value)
    assert message.startswith(f"{path}:{line}:"), message
    assert construct in message, message


def test_syntax_errors_and_missing_files(tmp_path):
    with pytest.raises(ParseError, match=r"m\.mod:9: expected an expression, found `\)`"):
        read_nmodl(_write(tmp_path, BINDING.replace("kon*C, koff", "kon*C, )")))
    with pytest.raises(ParseError, match="unknown name `kof`"):
        read_nmodl(_write(tmp_path, BINDING.replace("kon*C, koff)", "kon*C, kof)")))
    with pytest.raises(ParseError, match="no NEURON block"):
        read_nmodl(_write(tmp_path, "PARAMETER { a = 1 }\n"))
    with pytest.raises(ParseError, match="cannot read NMODL file"):
        read_nmodl(tmp_path / "missing.mod")
    with pytest.raises(ParseError, match="COMMENT without ENDCOMMENT"):
        read_nmodl(_write(tmp_path, "COMMENT\n" + BINDING))


def test_verbatim_is_never_run(tmp_path):
    """A real ModelDB file with VERBATIM C code (accession 145836's SynNMDA10_2 pattern) is refused."""
    text = BINDING.replace("g = gmax*O", "release()\n g = gmax*O") + (
        "PROCEDURE release() {\nVERBATIM\n system(\"touch /tmp/nmdakin_pwned\");\nENDVERBATIM\n}\n")
    with pytest.raises(ParseError, match=r"m\.mod:12: unsupported NMODL construct `VERBATIM`"):
        read_nmodl(_write(tmp_path, text))
    assert not Path("/tmp/nmdakin_pwned").exists()


def test_compartment_scales_the_rates_and_ions_are_inputs(tmp_path):
    """COMPARTMENT vol {R O}: d(vol*X)/dt = flux, so every rate is divided by vol; USEION ... READ cai is an
    input with NEURON's default; a SUFFIX mechanism's units are mA/cm2 and S/cm2."""
    text = BINDING.replace("POINT_PROCESS Syn", "SUFFIX syn USEION ca READ cai").replace(
        "KINETIC kin {", "KINETIC kin { COMPARTMENT 4 {R O}").replace(
        "ASSIGNED { v (mV)  i (nA)  g (umho)", "ASSIGNED { v (mV)  i (mA/cm2)  g (S/cm2)  cai (mM)").replace(
        "gmax = 0.001 (umho)", "gmax = 0.001 (S/cm2)").replace("g = gmax*O", "g = gmax*O*cai")
    m = read_nmodl_model(_write(tmp_path, text), inputs={"v": -60.0})
    s = m.scheme
    assert not m.point_process and s.units.current == "mA" and s.get_parameter("gmax").unit == "S/cm^2"
    assert s.get_input("cai").default == 5e-5 and s.get_input("cai").unit == "mM"
    c, kon, koff = 0.5, 2.0, 0.5
    t = np.linspace(0.0, 5.0, 11)
    res = kx.simulate(s, kx.Protocol([kx.steps("C", [0.0], [c])]), t_end=5.0, t_eval=t, rtol=1e-10, atol=1e-13)
    k = (kon * c + koff) / 4.0
    o = kon * c / (kon * c + koff) * (1.0 - np.exp(-k * t))
    np.testing.assert_allclose(res["O"], o, rtol=1e-7, atol=1e-11)
    np.testing.assert_allclose(res["i"], 0.001 * o * 5e-5 * (-60.0), rtol=1e-7, atol=1e-20)


def test_unknown_input_override_is_an_argument_error(tmp_path):
    with pytest.raises(kx.ArgumentError, match="`vv` is not a variable of mechanism `Syn`; did you mean `v`"):
        read_nmodl(_write(tmp_path, BINDING), inputs={"vv": -60.0})


def test_absurd_nesting_is_a_parse_error(tmp_path):
    deep = BINDING.replace("kon*C, koff", "(" * 60 + "kon*C" + ")" * 60 + ", koff")
    with pytest.raises(ParseError, match=r"m\.mod:9: expression or blocks nested deeper than 50"):
        read_nmodl(_write(tmp_path, deep))
    long = BINDING.replace("kon*C, koff", "+".join(["kon*C"] * 20000) + ", koff")
    with pytest.raises(ParseError, match="nested too deeply"):
        read_nmodl(_write(tmp_path, long))


def test_read_model_and_simulate_take_mod_files(tmp_path):
    """A .mod file goes through kinetics.read_model (scheme, empty protocol) and `nmdakin simulate`, whose
    --pulse drives the transmitter input the NET_RECEIVE block would set."""
    from models.cli import main

    path = Path(__file__).parent / "data" / "nmodl" / "modeldb_18198" / "ampa5.mod"
    m = kx.read_model(path)
    assert m.scheme == kx.read_nmodl(path) and len(m.protocol) == 0 and m.t_end is None
    assert m.scheme.input_names == ("C", "v")                        # C: the transmitter NET_RECEIVE sets
    out = tmp_path / "ampa.csv"
    assert main(["simulate", str(path), "--t-end", "20", "--points", "201", "--csv", str(out),
                 "--pulse", "C=1", "--pulse-amplitude", "1", "--pulse-width", "1"]) == 0
    table = np.genfromtxt(out, delimiter=",", names=True)
    res = kx.simulate(m.scheme, kx.Protocol([kx.pulses("C", [1.0], amplitude=1.0, width=1.0)]), t_end=20.0,
                      n_points=201, rtol=1e-10, atol=1e-12)
    assert table["O_1"][0] == 0.0 and table["O_1"].max() > 0.01       # the pulse opens channels
    np.testing.assert_allclose(table["O_1"], res["O"], rtol=1e-5, atol=1e-9)
