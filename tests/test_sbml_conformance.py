"""SBML import: the constructs of SBML Level 3 Version 2 that the semantic test suite exercises, on small inline
models with values computed by hand, and the clear errors of what is not supported."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import kinetics as kx
from kinetics.sbml import SbmlImportWarning, read_sbml_model

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" '
        'level="3" version="2"><model id="m">')
MATH = '<math xmlns="http://www.w3.org/1998/Math/MathML">{}</math>'


def sbml(*parts: str) -> str:
    return HEAD + "".join(parts) + "</model></sbml>"


def math_(body: str) -> str:
    return MATH.format(body)


def params(**values) -> str:
    return "<listOfParameters>" + "".join(
        f'<parameter id="{k}" value="{v}" constant="true"/>' for k, v in values.items()) + "</listOfParameters>"


def run(text, ids, t_end=1.0, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SbmlImportWarning)
        m = read_sbml_model(text)
    return m.simulate(t_end, [0.0, t_end], ids=ids, method="LSODA", rtol=1e-10, atol=1e-14, **kw)


def assigned(var: str, body: str) -> str:
    """A non-constant parameter ``var`` set by an assignment rule."""
    return (f'<listOfParameters><parameter id="{var}" constant="false"/></listOfParameters>'
            f'<listOfRules><assignmentRule variable="{var}">{math_(body)}</assignmentRule></listOfRules>')


def test_model_without_states_reports_rules_parameters_and_compartments():
    text = sbml('<listOfCompartments><compartment id="c" size="2.5" constant="true"/></listOfCompartments>'
                '<listOfParameters><parameter id="k" value="3" constant="true"/>'
                '<parameter id="y" constant="false"/></listOfParameters>'
                '<listOfRules><assignmentRule variable="y">'
                + math_('<apply><times/><ci>k</ci><csymbol encoding="text" '
                        'definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol></apply>')
                + '</assignmentRule></listOfRules>')
    df = run(text, ["y", "k", "c"], t_end=2.0)
    assert df["y"].tolist() == [0.0, 6.0]
    assert df["k"].tolist() == [3.0, 3.0] and df["c"].tolist() == [2.5, 2.5]


def test_species_in_a_0d_compartment_is_an_amount():
    # S decays at rate k*S (S an amount: no compartment size to divide by): S(1) = 2 exp(-0.5)
    text = sbml('<listOfCompartments><compartment id="c" spatialDimensions="0" constant="true"/>'
                '</listOfCompartments><listOfSpecies><species id="S" compartment="c" initialAmount="2" '
                'hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>'
                + params(k=0.5) +
                '<listOfReactions><reaction id="r" reversible="false"><listOfReactants><speciesReference '
                'species="S" stoichiometry="1" constant="true"/></listOfReactants><kineticLaw>'
                + math_('<apply><times/><ci>k</ci><ci>S</ci></apply>') + '</kineticLaw></reaction></listOfReactions>')
    df = run(text, ["S"], amounts=["S"])
    assert df["S"].iloc[-1] == pytest.approx(2 * math.exp(-0.5), rel=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SbmlImportWarning)
        m = read_sbml_model(text)
    res = kx.simulate(m.scheme, m.protocol, t_end=1.0, t_eval=[0, 1], method="LSODA")
    with pytest.raises(kx.ArgumentError, match="0-dimensional compartment: it has no concentration"):
        m.values(res, ["S"], concentrations=["S"])


def test_amounts_and_concentrations_of_species():
    text = sbml('<listOfCompartments><compartment id="c" size="4" constant="true"/></listOfCompartments>'
                '<listOfSpecies><species id="A" compartment="c" initialConcentration="3" hasOnlySubstanceUnits='
                '"false" boundaryCondition="false" constant="true"/><species id="B" compartment="c" '
                'initialAmount="2" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="true"/>'
                '</listOfSpecies>')
    df = run(text, ["A", "B"], amounts=["A"], concentrations=["B"])
    assert df["A"].tolist() == [12.0, 12.0] and df["B"].tolist() == [0.5, 0.5]
    df = run(text, ["A", "B"])   # symbol values: A a concentration, B (only substance units) an amount
    assert df["A"].tolist() == [3.0, 3.0] and df["B"].tolist() == [2.0, 2.0]
    with pytest.raises(kx.ArgumentError, match="`amounts` names `c`, which is not a species"):
        run(text, ["A"], amounts=["c"])
    with pytest.raises(kx.ArgumentError, match="both as amount and as concentration: A"):
        run(text, ["A"], amounts=["A"], concentrations=["A"])


def test_elements_without_math_have_no_effect():
    text = sbml('<listOfFunctionDefinitions><functionDefinition id="f"/></listOfFunctionDefinitions>'
                '<listOfParameters><parameter id="p" value="3" constant="false"/>'
                '<parameter id="q" value="5" constant="false"/></listOfParameters>'
                '<listOfInitialAssignments><initialAssignment symbol="p"/></listOfInitialAssignments>'
                '<listOfRules><rateRule variable="q"/></listOfRules>'
                '<listOfEvents><event id="e" useValuesFromTriggerTime="true"><listOfEventAssignments>'
                '<eventAssignment variable="p">' + math_("<cn>2</cn>") + '</eventAssignment>'
                '</listOfEventAssignments></event></listOfEvents>')
    with pytest.warns(SbmlImportWarning, match="elements without math have no effect: rate rule for `q`, "
                                                "initial assignment to `p`, event `e`"):
        m = read_sbml_model(text)
    df = m.simulate(2.0, [0.0, 2.0], ids=["p", "q"], method="LSODA")
    assert df["p"].tolist() == [3.0, 3.0] and df["q"].tolist() == [5.0, 5.0]
    call = sbml('<listOfFunctionDefinitions><functionDefinition id="f"/></listOfFunctionDefinitions>'
                + assigned("y", "<apply><ci>f</ci></apply>"))
    with pytest.raises(kx.SchemeError, match="unsupported SBML construct: call of function `f`, which has no math"):
        read_sbml_model(call)


def test_infinite_constants_are_outputs_and_refused_in_math():
    text = sbml('<listOfParameters><parameter id="P" value="INF" constant="true"/>'
                '<parameter id="R" constant="true"/></listOfParameters>'
                '<listOfInitialAssignments><initialAssignment symbol="R">' + math_("<notanumber/>")
                + '</initialAssignment></listOfInitialAssignments>')
    df = run(text, ["P", "R"], nonfinite="warn")
    assert df["P"].tolist() == [math.inf, math.inf] and np.isnan(df["R"]).all()
    used = sbml('<listOfParameters><parameter id="P" value="INF" constant="true"/>'
                '<parameter id="y" constant="false"/></listOfParameters><listOfRules><assignmentRule '
                'variable="y">' + math_("<apply><times/><cn>2</cn><ci>P</ci></apply>")
                + "</assignmentRule></listOfRules>")
    with pytest.raises(kx.ParseError, match="evaluates to inf"):
        read_sbml_model(used)


@pytest.mark.parametrize("body, value", [
    ("<apply><quotient/><cn>9</cn><cn>2</cn></apply>", 4.0),
    ("<apply><quotient/><cn>-9</cn><cn>2</cn></apply>", -4.0),          # rounded towards zero
    ("<apply><rem/><cn>-9</cn><cn>2</cn></apply>", -1.0),               # the sign of the dividend
    ("<apply><factorial/><cn>5</cn></apply>", 120.0),
    ("<apply><arcsec/><cn>2</cn></apply>", math.acos(0.5)),
    ("<apply><arccoth/><cn>3</cn></apply>", math.atanh(1 / 3)),
    ("<apply><arcsinh/><cn>2</cn></apply>", math.asinh(2)),
    ("<apply><arccosh/><cn>2</cn></apply>", math.acosh(2)),
    ("<apply><sech/><cn>1</cn></apply>", 1 / math.cosh(1)),
    ("<apply><plus/><true/><cn>1</cn></apply>", 2.0),                    # a boolean as a number
    ("<piecewise><piece><cn>7</cn><cn>2</cn></piece><otherwise><cn>3</cn></otherwise></piecewise>", 7.0),
    ("<piecewise><piece><cn>7</cn><apply><implies/><false/><false/></apply></piece>"
     "<otherwise><cn>3</cn></otherwise></piecewise>", 7.0),
    ("<csymbol encoding=\"text\" definitionURL=\"http://www.sbml.org/sbml/symbols/avogadro\">N</csymbol>",
     6.02214179e23),                                                     # the value SBML Level 3 defines
])
def test_math_of_sbml_level3_version2(body, value):
    df = run(sbml(assigned("y", body)), ["y"])
    assert df["y"].iloc[0] == pytest.approx(value, rel=1e-14, abs=1e-300)


def test_factorial_of_a_variable_is_refused():
    text = sbml('<listOfParameters><parameter id="n" value="3" constant="true"/><parameter id="y" '
                'constant="false"/></listOfParameters><listOfRules><assignmentRule variable="y">'
                + math_("<apply><factorial/><ci>n</ci></apply>") + "</assignmentRule></listOfRules>")
    with pytest.raises(kx.SchemeError, match="unsupported SBML construct: `factorial` of an expression of `n`"):
        read_sbml_model(text)


def test_fast_reaction_is_refused_by_name():
    text = HEAD.replace('version="2"', 'version="1"').replace("version2", "version1") + (
        '<listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>'
        '<listOfSpecies><species id="S" compartment="c" initialAmount="1" hasOnlySubstanceUnits="false" '
        'boundaryCondition="false" constant="false"/></listOfSpecies><listOfReactions><reaction id="r" '
        'reversible="false" fast="true"><listOfReactants><speciesReference species="S" stoichiometry="1" '
        'constant="true"/></listOfReactants><kineticLaw>' + math_("<ci>S</ci>")
        + "</kineticLaw></reaction></listOfReactions></model></sbml>")
    with pytest.raises(kx.SchemeError, match=r"unsupported SBML construct: fast reaction \(reaction `r`"):
        read_sbml_model(text)


def _event(eid, trigger, var, value, priority=None):
    prio = f"<priority>{math_(priority)}</priority>" if priority else ""
    return (f'<event id="{eid}" useValuesFromTriggerTime="true"><trigger initialValue="false" persistent="true">'
            f'{math_(trigger)}</trigger>{prio}<listOfEventAssignments><eventAssignment variable="{var}">'
            f'{math_(value)}</eventAssignment></listOfEventAssignments></event>')


def test_trigger_on_a_variable_that_events_change_is_a_scheme_event():
    """Both fire at t0 (initialValue false); E1 makes E2's trigger false, but E2 is persistent: y = 7."""
    text = sbml('<listOfParameters><parameter id="x" value="3" constant="false"/>'
                '<parameter id="y" value="6" constant="false"/></listOfParameters><listOfEvents>'
                + _event("E1", "<apply><gt/><ci>x</ci><cn>2</cn></apply>", "x", "<cn>0</cn>")
                + _event("E2", "<apply><gt/><ci>x</ci><cn>2</cn></apply>", "y", "<cn>7</cn>")
                + "</listOfEvents>")
    assert [e.name for e in read_sbml_model(text).scheme.events] == ["E1", "E2"]
    df = run(text, ["x", "y"])
    assert df["x"].tolist() == [0.0, 0.0] and df["y"].tolist() == [7.0, 7.0]


def test_constant_trigger_and_independent_events_of_equal_priority():
    t = '<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol>'
    text = sbml('<listOfParameters><parameter id="k" value="1" constant="true"/><parameter id="a" value="0" '
                'constant="false"/><parameter id="b" value="0" constant="false"/><parameter id="c" value="0" '
                'constant="false"/></listOfParameters><listOfEvents>'
                + _event("E0", "<apply><gt/><ci>k</ci><cn>0</cn></apply>", "c", "<cn>5</cn>")
                + _event("E1", f"<apply><geq/>{t}<cn>0.5</cn></apply>", "a", "<cn>1</cn>", "<cn>2</cn>")
                + _event("E2", f"<apply><geq/>{t}<cn>0.5</cn></apply>", "b", "<cn>2</cn>", "<cn>2</cn>")
                + "</listOfEvents>")
    df = run(text, ["a", "b", "c"])
    assert df["a"].tolist() == [0.0, 1.0] and df["b"].tolist() == [0.0, 2.0] and df["c"].tolist() == [5.0, 5.0]


def test_constant_rule_on_a_stoichiometry():
    # S -> 3 X with rate k: X(1) = 3 k (an assignment rule gives the stoichiometry a constant 3)
    text = sbml('<listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>'
                '<listOfSpecies><species id="X" compartment="c" initialAmount="0" hasOnlySubstanceUnits="true" '
                'boundaryCondition="false" constant="false"/></listOfSpecies>' + params(k=0.25)
                + '<listOfRules><assignmentRule variable="ref">' + math_("<cn>3</cn>")
                + '</assignmentRule></listOfRules><listOfReactions><reaction id="r" reversible="false">'
                '<listOfProducts><speciesReference id="ref" species="X" constant="false"/></listOfProducts>'
                '<kineticLaw>' + math_("<ci>k</ci>") + "</kineticLaw></reaction></listOfReactions>")
    assert run(text, ["X"])["X"].iloc[-1] == pytest.approx(0.75, rel=1e-10)


def test_rate_rule_on_a_concentration_in_a_compartment_resized_by_an_event():
    # d[S]/dt = 0.4, dV/dt = 0.2 (V(0) = 0.5); at t = 0.45 an event sets V = 0.2 keeping the amount:
    # [S](0.45) = 0.18 in V = 0.59 -> [S] = 0.18 * 0.59 / 0.2 = 0.531, then [S](0.5) = 0.551 (the suite's 01505)
    t = '<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol>'
    text = sbml('<listOfCompartments><compartment id="C" size="0.5" constant="false"/></listOfCompartments>'
                '<listOfSpecies><species id="S" compartment="C" initialConcentration="0" hasOnlySubstanceUnits='
                '"false" boundaryCondition="true" constant="false"/></listOfSpecies><listOfRules>'
                '<rateRule variable="S">' + math_("<cn>0.4</cn>") + '</rateRule><rateRule variable="C">'
                + math_("<cn>0.2</cn>") + "</rateRule></listOfRules><listOfEvents>"
                + _event("E", f"<apply><geq/>{t}<cn>0.45</cn></apply>", "C", "<cn>0.2</cn>") + "</listOfEvents>")
    df = run(text, ["S", "C"], t_end=0.5)
    assert df["S"].iloc[-1] == pytest.approx(0.551, rel=1e-9)
    assert df["C"].iloc[-1] == pytest.approx(0.21, rel=1e-9)


def test_cli_writes_the_requested_columns(tmp_path, capsys):
    """`nmdakin simulate model.xml --columns y,k,c` writes rule targets, constant parameters and compartments
    (the ids an SBML user asks for); --columns on a text scheme is refused."""
    from models.cli import main

    text = sbml('<listOfCompartments><compartment id="c" size="2.5" constant="true"/></listOfCompartments>'
                '<listOfParameters><parameter id="k" value="3" constant="true"/>'
                '<parameter id="y" constant="false"/></listOfParameters>'
                '<listOfRules><assignmentRule variable="y">'
                + math_('<apply><times/><ci>k</ci><csymbol encoding="text" '
                        'definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol></apply>')
                + '</assignmentRule></listOfRules>')
    xml, out = tmp_path / "rule.xml", tmp_path / "rule.csv"
    xml.write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SbmlImportWarning)
        assert main(["simulate", str(xml), "--t-end", "2", "--points", "3", "--csv", str(out),
                     "--columns", "y,k,c", "--method", "LSODA"]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].split(",") == ["time", "y", "k", "c"]
    assert [float(x) for x in lines[-1].split(",")] == [2.0, 6.0, 3.0, 2.5]
    txt = tmp_path / "decay.txt"
    txt.write_text("scheme decay\nspecies A = 1\nparameter k = 1 [1/ms]\nA -> ; k\n")
    assert main(["simulate", str(txt), "--t-end", "1", "--csv", str(out), "--columns", "A"]) == 2
    assert "--columns applies to SBML files" in capsys.readouterr().err
