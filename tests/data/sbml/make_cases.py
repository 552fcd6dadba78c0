"""Write the small SBML files used by tests/test_export_sbml_import.py (run from anywhere).

Each file exercises a few SBML constructs; the tests simulate it with
libRoadRunner (the peer) and with kinetics after ``read_sbml_model`` and compare
every species (as SBML math sees it) and every varying parameter/compartment.
The files are written with python-libsbml from the formulas below (libsbml's L3
infix parser), so they are valid SBML L3V2 by construction; ``malformed.xml``
is broken on purpose.

    python tests/data/sbml/make_cases.py
"""
from __future__ import annotations

from pathlib import Path

import libsbml

HERE = Path(__file__).resolve().parent


class Doc:
    def __init__(self, model_id: str, note: str):
        self.doc = libsbml.SBMLDocument(3, 2)
        self.m = self.doc.createModel()
        self.m.setId(model_id)
        self.m.setTimeUnits("second")
        self.m.setSubstanceUnits("mole")
        self.m.setVolumeUnits("litre")
        self.m.setExtentUnits("mole")
        self.note = note

    def math(self, formula: str):
        # with the model, ids such as `pi` or `e` are read as the model's ids, not as constants
        ast = libsbml.parseL3FormulaWithModel(formula, self.m)
        if ast is None:
            raise ValueError(f"bad formula {formula!r}: {libsbml.getLastParseL3Error()}")
        return ast

    def compartment(self, cid, size, constant=True, dims=3.0):
        c = self.m.createCompartment()
        c.setId(cid)
        c.setSize(size)
        c.setConstant(constant)
        c.setSpatialDimensions(dims)
        c.setUnits("litre")
        return c

    def species(self, sid, comp, *, amount=None, conc=None, hosu=False, boundary=False, constant=False, cf=None):
        s = self.m.createSpecies()
        s.setId(sid)
        s.setCompartment(comp)
        if amount is not None:
            s.setInitialAmount(amount)
        if conc is not None:
            s.setInitialConcentration(conc)
        s.setHasOnlySubstanceUnits(hosu)
        s.setBoundaryCondition(boundary)
        s.setConstant(constant)
        s.setSubstanceUnits("mole")
        if cf:
            s.setConversionFactor(cf)
        return s

    def parameter(self, pid, value=None, constant=True, units="dimensionless"):
        p = self.m.createParameter()
        p.setId(pid)
        if value is not None:
            p.setValue(value)
        p.setConstant(constant)
        if units:
            p.setUnits(units)
        return p

    def reaction(self, rid, reactants, products, law, modifiers=(), local=None):
        r = self.m.createReaction()
        r.setId(rid)
        r.setReversible(False)
        for side, make in ((reactants, r.createReactant), (products, r.createProduct)):
            for item in side:
                sid, st = (item, 1.0) if isinstance(item, str) else item
                ref = make()
                ref.setSpecies(sid)
                ref.setStoichiometry(st)
                ref.setConstant(True)
        for sid in modifiers:
            r.createModifier().setSpecies(sid)
        kl = r.createKineticLaw()
        for pid, v in (local or {}).items():
            lp = kl.createLocalParameter()
            lp.setId(pid)
            lp.setValue(v)
        kl.setMath(self.math(law))
        return r

    def rate_rule(self, var, formula):
        r = self.m.createRateRule()
        r.setVariable(var)
        r.setMath(self.math(formula))

    def assignment_rule(self, var, formula):
        r = self.m.createAssignmentRule()
        r.setVariable(var)
        r.setMath(self.math(formula))

    def algebraic_rule(self, formula):
        r = self.m.createAlgebraicRule()
        r.setMath(self.math(formula))

    def initial_assignment(self, sym, formula):
        ia = self.m.createInitialAssignment()
        ia.setSymbol(sym)
        ia.setMath(self.math(formula))

    def function(self, fid, formula):
        f = self.m.createFunctionDefinition()
        f.setId(fid)
        f.setMath(self.math(formula))

    def event(self, eid, trigger, assignments, *, delay=None, priority=None, initial_value=True):
        e = self.m.createEvent()
        e.setId(eid)
        e.setUseValuesFromTriggerTime(True)
        t = e.createTrigger()
        t.setInitialValue(initial_value)
        t.setPersistent(True)
        t.setMath(self.math(trigger))
        if delay is not None:
            d = e.createDelay()
            d.setMath(self.math(delay))
        if priority is not None:
            p = e.createPriority()
            p.setMath(self.math(priority))
        for var, formula in assignments:
            ea = e.createEventAssignment()
            ea.setVariable(var)
            ea.setMath(self.math(formula))

    def write(self, name: str, check=True):
        self.m.setNotes(f'<p xmlns="http://www.w3.org/1999/xhtml">{self.note}</p>')
        if check:
            self.doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
            self.doc.checkConsistency()
            errs = [self.doc.getError(i) for i in range(self.doc.getNumErrors())
                    if self.doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
            if errs:
                raise SystemExit(f"{name}: " + "; ".join(e.getMessage() for e in errs))
        libsbml.writeSBMLToFile(self.doc, str(HERE / name))


def compartments():
    d = Doc("compartments", "Two compartments of different (non-unity) size; transport between them; "
                            "amount vs concentration species and hasOnlySubstanceUnits.")
    d.compartment("cyt", 1.0)
    d.compartment("nuc", 0.25)
    d.species("A", "cyt", conc=2.0)                  # concentration species, given as a concentration
    d.species("B", "nuc", amount=0.1)                # concentration species, given as an amount (conc 0.4)
    d.species("C", "nuc", conc=0.5, hosu=True)       # amount species given as a concentration (amount 0.125)
    d.parameter("k_in", 0.3)
    d.parameter("k_out", 0.1)
    d.parameter("k_bind", 2.0)
    d.reaction("transport", ["A"], ["B"], "k_in*A*cyt - k_out*B*nuc")
    d.reaction("bind", [("B", 2.0)], ["C"], "k_bind*B^2*nuc")
    d.write("compartments.xml")


def varying_compartment():
    d = Doc("varying_compartment", "A growing compartment (rate rule), a compartment sized by an assignment "
                                   "rule, concentration species in both; a boundary species diluted by growth.")
    d.compartment("cell", 1.0, constant=False)
    d.compartment("vesicle", 0.5, constant=False)
    d.parameter("growth", 0.05)
    d.rate_rule("cell", "growth*cell")
    d.assignment_rule("vesicle", "0.5 + 0.1*sin(time)")
    d.species("S", "cell", conc=1.0)
    d.species("P", "cell", conc=0.0)
    d.species("X", "cell", conc=3.0, boundary=True)   # no rule: its amount stays, concentration falls
    d.species("Q", "vesicle", amount=0.2)
    d.parameter("k", 0.4)
    d.parameter("kq", 0.2)
    d.reaction("convert", ["S"], ["P"], "k*S*X/(1 + X)*cell", modifiers=["X"])
    d.reaction("leak", ["Q"], [], "kq*Q*vesicle")
    d.write("varying_compartment.xml")


def boundary_constant():
    d = Doc("boundary_constant", "Boundary species with a rate rule, a constant species as catalyst, "
                                 "species and model conversion factors, a reversible law with a local "
                                 "parameter that shadows a global one.")
    d.compartment("c", 2.0)
    d.parameter("k", 99.0)      # shadowed by the local parameter k of `r1`
    d.parameter("cf_model", 1.0)
    d.parameter("cf_B", 2.0)
    d.m.setConversionFactor("cf_model")
    d.species("E", "c", conc=0.5, constant=True, boundary=True)
    d.species("Src", "c", conc=1.0, boundary=True)
    d.species("A", "c", conc=0.0)
    d.species("B", "c", conc=0.0, cf="cf_B")
    d.rate_rule("Src", "-0.1*Src")
    d.reaction("r1", ["Src"], ["A"], "k*E*Src*c", modifiers=["E"], local={"k": 0.8})
    d.reaction("r2", ["A"], ["B"], "(kf*A - kr*B)*c", local={"kf": 0.6, "kr": 0.15})
    d.write("boundary_constant.xml")


def rules_functions():
    d = Doc("rules_functions", "Function definitions (nested), assignment rules on a parameter and a "
                               "species, a rate rule on a parameter, initial assignments, csymbol time, "
                               "reaction ids in math, non-integer stoichiometry.")
    d.compartment("c", 1.0)
    d.function("hill", "lambda(x, K, n, x^n/(K^n + x^n))")
    d.function("drive", "lambda(a, b, tau, hill(a, b, 2)*exp(-tau/20))")
    d.parameter("K", 0.5)
    d.parameter("vmax", 1.0)
    d.parameter("total", None)
    d.initial_assignment("total", "2*vmax + K")            # = 2.5
    d.parameter("signal", 0.0, constant=False)
    d.assignment_rule("signal", "drive(total, K, time)")
    d.parameter("acc", 0.0, constant=False)
    d.rate_rule("acc", "flux1 - 0.1*acc")
    d.species("A", "c", conc=None)
    d.initial_assignment("A", "total/5")                   # = 0.5
    d.species("B", "c", conc=0.0)
    d.species("R", "c", conc=0.0, boundary=True)
    d.assignment_rule("R", "A + 2*B")
    d.reaction("flux1", ["A"], [("B", 0.5)], "vmax*signal*A*c")
    d.reaction("flux2", ["B"], [], "0.3*B*c")
    d.write("rules_functions.xml")


def events():
    d = Doc("events", "Time-triggered events without delay: a species jump (add), a parameter that doubles, "
                      "a species set, a compartment resized (amounts kept), simultaneous events ordered by "
                      "priority.")
    d.compartment("c", 1.0, constant=False)
    d.species("S", "c", conc=1.0)
    d.species("P", "c", conc=0.0)
    d.species("N", "c", amount=1.0, hosu=True)
    d.parameter("k", 0.2, constant=False)
    d.parameter("stim", 0.0, constant=False)
    d.reaction("r", ["S"], ["P"], "k*S*c")
    d.reaction("prod", [], ["N"], "stim")
    d.event("add_S", "time >= 2", [("S", "S + 1")])
    d.event("double_k", "time >= 5", [("k", "2*k")])
    d.event("set_S", "7 <= time", [("S", "0.5")])
    d.event("grow", "time > 3.3", [("c", "2")])
    d.event("stim_on", "time >= 4", [("stim", "1")], priority="2")
    d.event("stim_more", "time >= 4", [("stim", "stim + 0.5")], priority="1")
    d.event("stim_off", "time >= 6", [("stim", "0")])
    d.write("events.xml")


def reserved_names():
    d = Doc("reserved_names", "Ids that are reserved words in kinetics/Python: `in`, `lambda`, `e`, `pi`.")
    d.compartment("cell", 1.0)
    d.species("lambda", "cell", conc=1.0)
    d.species("e", "cell", conc=0.0)
    d.parameter("in", 0.5)
    d.parameter("pi", 0.1)
    d.reaction("is", ["lambda"], ["e"], "in*lambda*cell - pi*e*cell")
    d.write("reserved_names.xml")


def unsupported():
    d = Doc("algebraic", "An algebraic rule (not supported).")
    d.compartment("c", 1.0)
    d.species("A", "c", conc=1.0)
    d.species("B", "c", conc=0.0)
    d.parameter("k", 1.0)
    d.reaction("r", ["A"], [], "k*A*c")
    d.algebraic_rule("A + B - 1")
    d.write("unsupported_algebraic.xml", check=False)

    d = Doc("delayed_event", "An event with a delay (not supported).")
    d.compartment("c", 1.0)
    d.species("A", "c", conc=1.0)
    d.parameter("k", 1.0)
    d.reaction("r", ["A"], [], "k*A*c")
    d.event("late", "time >= 1", [("A", "2")], delay="0.5")
    d.write("unsupported_delay_event.xml")

    d = Doc("state_event", "An event triggered by the state (not supported yet).")
    d.compartment("c", 1.0)
    d.species("A", "c", conc=1.0)
    d.parameter("k", 1.0)
    d.reaction("r", ["A"], [], "k*A*c")
    d.event("threshold", "A < 0.5", [("A", "1")])
    d.write("unsupported_state_event.xml")

    d = Doc("delay_csymbol", "The delay csymbol (not supported).")
    d.compartment("c", 1.0)
    d.species("A", "c", conc=1.0)
    d.parameter("k", 1.0)
    d.reaction("r", ["A"], [], "k*delay(A, 1)*c")
    d.write("unsupported_delay_csymbol.xml", check=False)

    (HERE / "malformed.xml").write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                                        '<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" '
                                        'version="2">\n  <model id="broken">\n    <listOfSpecies>\n'
                                        '      <species id="A" compartment="c"\n  </model>\n')


if __name__ == "__main__":
    compartments()
    varying_compartment()
    boundary_constant()
    rules_functions()
    events()
    reserved_names()
    unsupported()
    print("wrote", sorted(p.name for p in HERE.glob("*.xml")))
