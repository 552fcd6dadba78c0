"""SBML import (kinetics.sbml) against libRoadRunner on small SBML files, and its errors.

The files in tests/data/sbml/ are written by tests/data/sbml/make_cases.py with
python-libsbml; each exercises a group of constructs (see the file's notes).
libRoadRunner simulates the same file; every species (as SBML math sees it:
concentration unless hasOnlySubstanceUnits) and every varying parameter or
compartment must agree to 1e-6 of its scale.
"""
from __future__ import annotations

import argparse
import csv
import warnings
from pathlib import Path

import numpy as np
import pytest

import kinetics as kx
from kinetics.sbml import SbmlImportWarning, read_sbml, read_sbml_model

DATA = Path(__file__).parent / "data" / "sbml"
CASES = ["compartments.xml", "varying_compartment.xml", "boundary_constant.xml", "rules_functions.xml",
         "events.xml", "reserved_names.xml"]
T_END = 10.0
T_EVAL = np.linspace(0.0, T_END, 41)   # 0.25 grid: event times 2, 4, 5, 6, 7 (`>=`) on it; 3.3 (`>`) off it


def _roadrunner(path: Path, ids, amounts=()):
    roadrunner = pytest.importorskip("roadrunner")
    import libsbml

    model = libsbml.readSBMLFromFile(str(path)).getModel()
    rr = roadrunner.RoadRunner(str(path))
    rr.integrator.relative_tolerance = 1e-10
    rr.integrator.absolute_tolerance = 1e-12
    sel = []
    for i in ids:
        sp = model.getSpecies(i)
        sel.append(f"[{i}]" if sp is not None and not sp.getHasOnlySubstanceUnits() and i not in amounts else i)
    rr.timeCourseSelections = ["time"] + sel
    return np.asarray(rr.simulate(0.0, T_END, len(T_EVAL)))


@pytest.mark.peer
@pytest.mark.parametrize("case", CASES)
def test_import_matches_roadrunner(case):
    path = DATA / case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SbmlImportWarning)
        model = read_sbml_model(path)
    df = model.simulate(T_END, T_EVAL, rtol=1e-10, atol=1e-12)
    ids = list(model.columns)
    ref = _roadrunner(path, ids)
    assert list(df.columns) == ["time", *ids]
    for j, i in enumerate(ids):
        a, b = df[i].to_numpy(), ref[:, j + 1]
        scale = np.max(np.abs(b)) + 1e-9
        assert np.max(np.abs(a - b)) <= 1e-6 * scale, f"{case}: `{i}` differs from libRoadRunner"


def test_compartments_amounts_and_concentrations():
    m = read_sbml_model(DATA / "compartments.xml")
    # B was given as an amount 0.1 in a 0.25 L compartment: its concentration is 0.4; C (only substance units,
    # given as concentration 0.5) has the amount 0.125
    assert m.scheme.initial_values() == {"A": 2.0, "B": 0.4, "C": 0.125}
    df = m.simulate(T_END, T_EVAL, amounts=["B"], rtol=1e-10, atol=1e-12)
    conc = m.simulate(T_END, T_EVAL, rtol=1e-10, atol=1e-12)
    assert np.allclose(df["B"], conc["B"] * 0.25, rtol=1e-12)
    ref = _roadrunner(DATA / "compartments.xml", ["B"], amounts=["B"])
    assert np.allclose(df["B"], ref[:, 1], rtol=1e-6, atol=1e-12)
    # mass balance: amount in cyt + nuc (B + 2 C, C bound two B) is conserved
    total = conc["A"] * 1.0 + conc["B"] * 0.25 + 2 * conc["C"]
    assert np.allclose(total, total[0], rtol=1e-8)


def test_varying_compartment_keeps_amounts():
    m = read_sbml_model(DATA / "varying_compartment.xml")
    assert "S_amount" in m.scheme.species_names and "S" in m.scheme.observable_names
    df = m.simulate(T_END, T_EVAL, rtol=1e-10, atol=1e-12)
    # X: boundary, no rule: its amount stays 3 while the cell grows as exp(0.05 t)
    assert np.allclose(df["X"], 3.0 * np.exp(-0.05 * T_EVAL), rtol=1e-7)
    assert np.allclose(df["cell"], np.exp(0.05 * T_EVAL), rtol=1e-7)


def test_rules_functions_and_initial_assignments():
    m = read_sbml_model(DATA / "rules_functions.xml")
    s = m.scheme
    assert s.get_parameter("total").value == 2.5            # initial assignment 2*vmax + K
    assert s.get_species("A").initial == 0.5                 # initial assignment total/5
    assert "flux1" in s.observable_names                     # a reaction id used in a rate rule
    t = sympy_t = kx.parse_expression("t")
    assert sympy_t in s.get_observable("signal").expr.free_symbols  # csymbol time
    del t
    df = m.simulate(T_END, T_EVAL, rtol=1e-10, atol=1e-12)
    signal = 2.5 ** 2 / (0.5 ** 2 + 2.5 ** 2) * np.exp(-T_EVAL / 20)   # hill(total, K, 2) * exp(-t/20)
    assert np.allclose(df["signal"], signal, rtol=1e-12)
    assert np.allclose(df["R"], df["A"] + 2 * df["B"], rtol=1e-12)


def test_events_become_a_protocol():
    m = read_sbml_model(DATA / "events.xml")
    text = m.protocol.describe()
    # simultaneous events at t = 4, by priority: stim = 1, then stim = stim + 0.5 computed with the value at the
    # trigger time (useValuesFromTriggerTime), i.e. 0 + 0.5; libRoadRunner agrees (test above)
    assert "steps on `stim`: 0.5 from 4, 0 from 6" in text
    assert "steps on `c`: 2 from 3.3" in text
    assert "steps on `k`: 0.4 from 5" in text
    assert "jumps of `S_amount`: add 1; t = 2" in text
    assert "set to 1; t = 7" in text                          # S = 0.5 in a compartment of size 2 -> amount 1
    with pytest.raises(kx.SchemeError, match="has events.*read_sbml_model"):
        read_sbml(DATA / "events.xml")


def test_reserved_ids_are_renamed_and_reported():
    with pytest.warns(SbmlImportWarning, match=r"`lambda` -> `lambda_`"):
        m = read_sbml_model(DATA / "reserved_names.xml")
    assert m.renamed == {"lambda": "lambda_", "e": "e_", "in": "in_", "pi": "pi_", "is": "is_"}
    assert set(m.scheme.species_names) == {"lambda_", "e_"}
    assert m.columns == ("lambda", "e")                       # output keeps the SBML ids


@pytest.mark.parametrize("case, message", [
    ("unsupported_algebraic.xml", r"unsupported SBML construct: algebraic rule \(rule #1"),
    ("unsupported_delay_csymbol.xml", r"csymbol `delay` \(kinetic law of reaction `r`\)"),
])
def test_unsupported_constructs_are_named(case, message):
    with pytest.raises(kx.SchemeError, match=message):
        read_sbml_model(DATA / case)


def test_malformed_xml_is_a_parse_error():
    with pytest.raises(kx.ParseError, match=r"malformed or invalid SBML: line \d+: .*XML"):
        read_sbml(DATA / "malformed.xml")
    with pytest.raises(kx.ParseError, match="no such SBML file"):
        read_sbml(DATA / "missing.xml")
    with pytest.raises(kx.ParseError, match="malformed"):
        read_sbml("<sbml><model></sbml>")


def _agrees_with_roadrunner(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SbmlImportWarning)
        m = read_sbml_model(path)
    assert m.scheme.events and len(m.protocol) == 0     # not time-only: every event is a scheme event
    df = m.simulate(T_END, T_EVAL, rtol=1e-10, atol=1e-12)
    ids = list(m.columns)
    ref = _roadrunner(path, ids)
    for j, i in enumerate(ids):
        a, b = df[i].to_numpy(), ref[:, j + 1]
        assert np.max(np.abs(a - b)) <= 1e-6 * (np.max(np.abs(b)) + 1e-9), f"{path.name}: `{i}` differs"


@pytest.mark.peer
@pytest.mark.parametrize("case", ["unsupported_delay_event.xml", "unsupported_state_event.xml"])
def test_delayed_and_state_events_become_scheme_events(case):
    _agrees_with_roadrunner(DATA / case)


@pytest.mark.peer
def test_event_assignment_that_scales_a_state_makes_scheme_events(tmp_path):
    libsbml = pytest.importorskip("libsbml")
    doc = libsbml.readSBMLFromFile(str(DATA / "events.xml"))
    ev = doc.getModel().getEvent("add_S")
    ev.getEventAssignment(0).setMath(libsbml.parseL3Formula("S * 2"))
    libsbml.writeSBMLToFile(doc, str(tmp_path / "scaled.xml"))
    _agrees_with_roadrunner(tmp_path / "scaled.xml")


def test_required_package_is_rejected():
    libsbml = pytest.importorskip("libsbml")
    ns = libsbml.SBMLNamespaces(3, 1, "comp", 1)
    doc = libsbml.SBMLDocument(ns)
    doc.setPackageRequired("comp", True)
    m = doc.createModel()
    m.setId("m")
    c = m.createCompartment()
    c.setId("c"); c.setSize(1); c.setConstant(True)
    s = m.createSpecies()
    s.setId("A"); s.setCompartment("c"); s.setInitialAmount(1); s.setHasOnlySubstanceUnits(True)
    s.setBoundaryCondition(False); s.setConstant(False)
    with pytest.raises(kx.SchemeError, match="package `comp`"):
        read_sbml_model(libsbml.writeSBMLToString(doc))


def test_level2_files_are_converted():
    libsbml = pytest.importorskip("libsbml")
    doc = libsbml.readSBMLFromFile(str(DATA / "compartments.xml"))
    assert doc.setLevelAndVersion(2, 4, False)
    m = read_sbml_model(libsbml.writeSBMLToString(doc))
    assert m.scheme.initial_values() == {"A": 2.0, "B": 0.4, "C": 0.125}


# --------------------------------------------------------------------------- CLI: nmdakin simulate FILE.xml
def _simulate_parser():
    """The main CLI's `simulate` parser (models/cli/simulate.py) with --amounts added, dispatching to simulate_sbml."""
    from models.cli.simulate import add_sbml_simulate_options, simulate_sbml

    parser = argparse.ArgumentParser(prog="nmdakin")
    sub = parser.add_subparsers()
    p = sub.add_parser("simulate")
    p.add_argument("file")
    p.add_argument("--t-end", type=float, required=True)
    p.add_argument("--points", type=int, default=1001)
    p.add_argument("--csv", required=True)
    p.add_argument("--rtol", type=float, default=1e-6)
    p.add_argument("--atol", type=float, default=1e-9)
    add_sbml_simulate_options(p)
    p.set_defaults(func=simulate_sbml)
    return parser


def _read_csv(path):
    with open(path) as fh:
        rows = list(csv.reader(fh))
    return rows[0], np.array(rows[1:], dtype=float)


def test_cli_simulate_sbml_writes_species_and_varying_quantities(tmp_path, capsys):
    out = tmp_path / "events.csv"
    args = _simulate_parser().parse_args(["simulate", str(DATA / "events.xml"), "--t-end", "10", "--points", "41",
                                          "--csv", str(out), "--amounts", "S", "--rtol", "1e-10", "--atol", "1e-12"])
    assert args.func(args) == 0
    header, data = _read_csv(out)
    assert header == ["time", "S", "P", "N", "c", "k", "stim"]
    assert np.allclose(data[:, 0], T_EVAL)
    ref = _roadrunner(DATA / "events.xml", ["S", "P", "N", "c", "k", "stim"], amounts=["S"])
    assert np.allclose(data[:, 1:], ref[:, 1:], rtol=1e-6, atol=1e-9)
    assert "wrote" in capsys.readouterr().out


def test_cli_simulate_sbml_rejects_unknown_amount_ids(tmp_path):
    out = tmp_path / "x.csv"
    args = _simulate_parser().parse_args(["simulate", str(DATA / "compartments.xml"), "--t-end", "1", "--csv",
                                          str(out), "--amounts", "Q"])
    with pytest.raises(kx.ArgumentError, match="`amounts` names `Q`"):
        args.func(args)
    assert not out.exists()
