"""SBML Level 3 Version 2 export, written with python-libsbml (no XML by hand).

Mapping
-------
* One compartment (id ``compartment``, size 1 in the scheme's volume unit,
  constant). It is a bookkeeping device: the scheme has no volumes.
* Species whose unit is a concentration (or unset: the scheme's concentration
  unit) are concentration species (``hasOnlySubstanceUnits="false"``,
  ``initialConcentration``); occupancies (``"1"``), amounts and masses are
  amount species (``hasOnlySubstanceUnits="true"``, ``initialAmount``), so
  that every species symbol in SBML math has exactly the scheme's value. States
  in other units (a potential, an accumulated time) that take no part in
  reactions are non-constant parameters driven by their rate rule.
* Reactions keep their stoichiometry; the kinetic law is the scheme's net flux
  (times the compartment when a concentration species takes part, the SBML
  convention for concentration-based rate laws). Species that appear in a
  flux but are not reactants or products are modifiers.
* Parameters are constant SBML parameters with the value the equations use (in
  the scheme's unit system) and a unit definition; observables are
  non-constant parameters with assignment rules; inputs are non-constant
  parameters holding their default.
* A rate rule of a species that also takes part in reactions makes it a
  boundary species whose rate rule adds the reactions' rates (reaction ids in
  the math) to the rule.
* A protocol (``protocol=``, ``t_end=``) is compiled on ``[0, t_end]``
  (:meth:`kinetics.protocol.Protocol.schedule`). Piecewise-constant inputs
  (pulses, steps) are set by events at every breakpoint (trigger
  ``time >= t_k``, no delay); inputs with exponential or linear pieces
  (waveforms, ramps, wash-in) get an assignment rule
  ``u = u_c + sum_r (u_p_r + u_q_r*(time - u_tref)) * exp(-r*(time - u_tref))``
  whose coefficients the events set. Species jumps are event assignments;
  jumps at ``t = 0`` are folded into the initial values.
* Scheme events (:class:`~kinetics.scheme.Event`) are SBML events with the
  same id (trigger MathML with ``t`` as the csymbol ``time``; initialValue,
  persistent, useValuesFromTriggerTime; delay in the time unit; priority; one
  event assignment per target, its numbers in the unit of the target's value).
  Species are in the unit compartment (size 1), so each assignment sets the
  scheme's value exactly.
* Units: every parameter, species, compartment and input with a unit has a
  unit definition; model time, volume, substance and extent units are set.
* ``nmdakin:`` annotations (:mod:`kinetics.sbml._annotations`) keep what SBML
  has no field for (declared units and values, bounds, references, notes,
  mass-action forms), so that
  :func:`kinetics.read_sbml` restores the scheme exactly; notes
  carry the references for human readers.

Examples
--------
>>> import kinetics as kx
>>> from kinetics.exporters import export
>>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 0.5, "1/ms")],
...               reactions=[kx.reaction("A ->", "k")])
>>> xml = export(s, "sbml")
>>> 'level="3" version="2"' in xml
True
"""
from __future__ import annotations

import re

import numpy as np
import sympy

from ..errors import SchemeError
from ..escape import xml_text
from ..expressions import format_expression
from ..exporters._common import (GENERATED_BY, export_schedule, fmt_float, is_concentration, model_unit,
                                 parameter_model_values, species_unit)
from ..odesystem import derive
from ..protocol.schedule import JUMP_SET
from ..units import dimension, parse_unit
from ._annotations import format_bounds, format_unit_attr, write_annotation, write_notes
from ._common import libsbml_module
from ._mathml import to_ast
from ._units import fill_unit_definition, unit_definition_base

__all__ = ["export", "FORMAT", "SUFFIX", "DESCRIPTION"]

FORMAT = "sbml"
SUFFIX = ".xml"
DESCRIPTION = "SBML Level 3 Version 2 (python-libsbml); protocols as events"


def _libsbml():
    return libsbml_module("SBML export")


def _check(code, what):
    L = _libsbml()
    if code != L.LIBSBML_OPERATION_SUCCESS:
        raise SchemeError(f"libsbml refused to set {what}: {L.OperationReturnValue_toString(code)}")


def _sid(text: str) -> str:
    """A valid SBML SId from free text."""
    s = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_") or "model"
    return s if not s[0].isdigit() else "m_" + s


class _Builder:
    """One scheme (and the schedule of a protocol) -> an SBML document. :meth:`build` runs the steps in order;
    each step reads what the earlier ones left on ``self`` (unit ids, the compartment, species roles)."""

    def __init__(self, scheme, schedule, t_end, annotate):
        L = _libsbml()
        self.L = L
        self.scheme = scheme
        self.schedule = schedule
        self.t_end = t_end
        self.annotate = annotate
        self.units = scheme.units
        self.doc = L.SBMLDocument(3, 2)
        self.model = self.doc.createModel()
        self.ids = set()
        self.unit_ids = {}
        self.ud_text = {}
        for n in (list(scheme.species_names) + list(scheme.parameter_names) + list(scheme.input_names)
                  + list(scheme.observable_names)):
            self.ids.add(n)
        for r in scheme.reactions:
            if r.name:
                self.ids.add(r.name)

    # ---------------------------------------------------------------- helpers
    def unique(self, base: str) -> str:
        name = _sid(base)
        k = 1
        out = name
        while out in self.ids:
            k += 1
            out = f"{name}_{k}"
        self.ids.add(out)
        return out

    def unit_id(self, text: str | None):
        """Id of a unit definition for a kinetics unit in the model's system (None for no unit)."""
        if text is None:
            return None
        powers = parse_unit(text).powers
        if not powers:
            return "dimensionless"
        if text in self.unit_ids:
            return self.unit_ids[text]
        uid = _sid(unit_definition_base(powers))
        taken = set(self.unit_ids.values())
        k = 1
        out = uid
        while out in taken:
            k += 1
            out = f"{uid}_{k}"
        ud = self.model.createUnitDefinition()
        _check(ud.setId(out), f"unit id `{out}`")
        ud.setName(xml_text(text))
        fill_unit_definition(ud, powers)
        self.unit_ids[text] = out
        self.ud_text[out] = text
        return out

    def note(self, element, text: str):
        if not text:
            return
        _check(write_notes(element, text), "notes")

    def annotation(self, element, tag: str, **attrs):
        if not self.annotate:
            return
        _check(write_annotation(element, tag, attrs), "annotation")

    def math(self, expr, units_of_numbers=None):
        ast = to_ast(expr)
        if units_of_numbers:
            self._number_units(ast, units_of_numbers)
        return ast

    def _number_units(self, ast, uid):
        if ast.isNumber():
            ast.setUnits(uid)
        for i in range(ast.getNumChildren()):
            self._number_units(ast.getChild(i), uid)

    # ---------------------------------------------------------------- build
    def build(self) -> str:
        self.model_header()
        self.species_roles()
        self.ann_model()
        self.unit_compartment()
        y0 = self.initial_values()
        self.species(y0)
        self.parameters()
        self.inputs()
        self.observables()
        reaction_ids = self.reactions()
        self.rate_rules(reaction_ids)
        self.scheme_events()
        if self.schedule is not None:
            self.protocol_events()
        return self.finish()

    def model_header(self):
        """Model id, name and notes; time, volume and substance units (``self.t_unit``, ``self.vol_unit``,
        ``self.subst_unit``)."""
        s, m, system = self.scheme, self.model, self.units
        _check(m.setId(self.unique(s.name)), "model id")  # SIds are one namespace: the model id is not a species
        m.setName(xml_text(s.name))
        self.note(m, " ".join(x for x in (s.description, ("Reference: " + s.reference) if s.reference else "",
                                          f"Exported by {GENERATED_BY}.") if x))
        self.t_unit = self.unit_id(system.time)
        self.vol_unit = self.unit_id(system.volume)
        self.subst_unit = self.unit_id(model_unit(f"{system.concentration}*{system.volume}", system))
        m.setTimeUnits(self.t_unit)
        m.setVolumeUnits(self.vol_unit)
        m.setSubstanceUnits(self.subst_unit)

    def species_roles(self):
        """Which states are concentration species, amount species or parameters with rate rules; the substance
        unit of each (``self.subst_of``); the model's extent unit (the substance unit most species use)."""
        s, system = self.scheme, self.units
        self.sp_units = {sp.name: species_unit(sp, system) for sp in s.species}
        self.conc_species = {n for n, u in self.sp_units.items() if is_concentration(u)}
        self.in_reactions = {n for r in s.reactions for n in r.species}
        # states that are no quantity of substance (a potential, a time) and take no part in reactions are
        # SBML parameters with rate rules, not species
        self.state_params = {n for n, u in self.sp_units.items()
                             if n not in self.in_reactions and not _substance_like(u) and n not in self.conc_species}
        self.subst_of = {n: (self.subst_unit if n in self.conc_species else self.unit_id(u))
                         for n, u in self.sp_units.items()}
        counts = {}
        for n, u in self.subst_of.items():
            if n not in self.state_params:
                counts[u] = counts.get(u, 0) + 1
        if not counts:
            counts[self.subst_unit] = 1
        self.model.setExtentUnits(max(counts, key=lambda k: (counts[k], k == self.subst_unit)))

    def unit_compartment(self):
        """The one compartment (``self.comp_id``), size 1: a bookkeeping device, the scheme has no volumes."""
        comp_id = self.unique("compartment")
        c = self.model.createCompartment()
        _check(c.setId(comp_id), "compartment id")
        c.setSpatialDimensions(3.0)
        c.setSize(1.0)
        c.setConstant(True)
        c.setUnits(self.vol_unit)
        self.note(c, "Unit compartment: the scheme has no volumes; concentrations equal amounts per unit volume.")
        self.annotation(c, "compartment", role="unit")
        self.comp_id = comp_id

    def initial_values(self) -> dict:
        """Initial values of the states; jumps at t = 0 act before the first output: folded in."""
        s, sched = self.scheme, self.schedule
        y0 = {sp.name: sp.initial for sp in s.species}
        if sched is not None:
            for k in range(sched.jump_ptr[0], sched.jump_ptr[1]):
                n = sched.jump_target[k]
                v = float(sched.jump_value[k])
                y0[n] = v if sched.jump_kind[k] == JUMP_SET else y0[n] + v
            assert set(y0) == set(s.species_names)
        return y0

    def species(self, y0: dict):
        """States as species (concentration or amount) or as parameters driven by their rate rule."""
        s, m = self.scheme, self.model
        conc_unit = self.unit_id(model_unit(self.units.concentration, self.units))
        self.species_value_units = {n: (conc_unit if n in self.conc_species else self.subst_of[n])
                                    for n in self.sp_units}
        rr_species = {r.species for r in s.rate_rules}
        rr_expr = {r.species: r.expr for r in s.rate_rules}
        for sp in s.species:
            rule = rr_expr.get(sp.name)
            ann = dict(unit=format_unit_attr(sp.unit), nonnegative="true" if sp.nonnegative else "false",
                       initial=fmt_float(sp.initial), protocol_initial=fmt_float(y0[sp.name]),
                       rate_rule=None if rule is None else format_expression(rule))
            if sp.name in self.state_params:
                e = m.createParameter()
                _check(e.setId(sp.name), f"state id `{sp.name}`")
                e.setValue(y0[sp.name])
                e.setConstant(False)
                e.setUnits(self.subst_of[sp.name])
                self.note(e, " ".join(x for x in ("State of the scheme (a rate rule drives it).", sp.note) if x))
                self.annotation(e, "species", note=sp.note or None, **ann)
                continue
            e = m.createSpecies()
            _check(e.setId(sp.name), f"species id `{sp.name}`")
            e.setCompartment(self.comp_id)
            if sp.name in self.conc_species:
                e.setHasOnlySubstanceUnits(False)
                e.setInitialConcentration(y0[sp.name])
                e.setSubstanceUnits(self.subst_unit)
            else:
                e.setHasOnlySubstanceUnits(True)
                e.setInitialAmount(y0[sp.name])
                e.setSubstanceUnits(self.subst_of[sp.name])
            e.setBoundaryCondition(sp.name in rr_species and sp.name in self.in_reactions)
            e.setConstant(False)
            self.note(e, sp.note)
            self.annotation(e, "species", **ann)

    def parameters(self):
        """Parameters: constant, with the value the equations use; declared value and unit annotated."""
        s, system = self.scheme, self.units
        pvals = parameter_model_values(s)
        for p in s.parameters:
            e = self.model.createParameter()
            _check(e.setId(p.name), f"parameter id `{p.name}`")
            e.setValue(pvals[p.name])
            e.setConstant(True)
            e.setUnits(self.unit_id(model_unit(p.unit, system)))
            self.note(e, " ".join(x for x in (p.note, ("Source: " + p.reference) if p.reference else "") if x))
            self.annotation(e, "parameter", value=fmt_float(p.value), unit=p.unit, bounds=format_bounds(p.bounds),
                            reference=p.reference or None, note=p.note or None)

    def inputs(self):
        """Inputs: non-constant parameters holding their default (the protocol's value at t = 0 if it sets it)."""
        s, sched = self.scheme, self.schedule
        input_values = {u.name: u.default for u in s.inputs}
        if sched is not None:
            for i, name in enumerate(sched.inputs):
                input_values[name] = float(sched.const[0, i])
        self.input_units = {}
        self.param_units = {}
        for u in s.inputs:
            e = self.model.createParameter()
            _check(e.setId(u.name), f"input id `{u.name}`")
            e.setValue(input_values[u.name])
            e.setConstant(False)
            if u.unit is not None:
                uid = self.unit_id(model_unit(u.unit, self.units))
                e.setUnits(uid)
                self.input_units[u.name] = uid
                self.param_units[u.name] = uid
            self.note(e, "Input (time-dependent quantity a protocol supplies)." + (" " + u.note if u.note else ""))
            self.annotation(e, "input", default=fmt_float(u.default), unit=format_unit_attr(u.unit),
                            note=u.note or None)

    def observables(self):
        """Observables: non-constant parameters with assignment rules (all parameters first, then the rules)."""
        s, m = self.scheme, self.model
        for name in s.observable_order():
            o = s.get_observable(name)
            e = m.createParameter()
            _check(e.setId(o.name), f"observable id `{o.name}`")
            e.setConstant(False)
            if o.unit is not None:
                e.setUnits(self.unit_id(model_unit(o.unit, self.units)))
            self.note(e, "Observable." + (" " + o.note if o.note else ""))
            self.annotation(e, "observable", unit=format_unit_attr(o.unit), note=o.note or None,
                            expr=format_expression(o.expr))
        for name in s.observable_order():
            o = s.get_observable(name)
            rule = m.createAssignmentRule()
            rule.setVariable(o.name)
            _check(rule.setMath(self.math(o.expr)), f"math of observable `{o.name}`")

    def reactions(self) -> list:
        """Reactions with their stoichiometry, modifiers and the net flux as kinetic law; their SBML ids."""
        s = self.scheme
        reaction_ids, used = [], set()
        for j, r in enumerate(s.reactions):
            # reaction names are labels (composed schemes repeat them); SBML ids are unique
            rid = r.name if r.name and r.name not in used else self.unique(r.name or f"R{j + 1}")
            used.add(rid)
            reaction_ids.append(rid)
            e = self.model.createReaction()
            _check(e.setId(rid), f"reaction id `{rid}`")
            e.setReversible(r.reversible)
            for side, create in ((r.reactants, e.createReactant), (r.products, e.createProduct)):
                for n, cnum in side:
                    ref = create()
                    ref.setSpecies(n)
                    ref.setStoichiometry(float(cnum))
                    ref.setConstant(True)
            flux = r.flux()
            participants = set(r.species)
            for sym in sorted(flux.free_symbols, key=lambda x: x.name):
                if sym.name in s.species_names and sym.name not in participants:
                    mod = e.createModifier()
                    mod.setSpecies(sym.name)
            law = sympy.Symbol(self.comp_id) * flux if participants & self.conc_species else flux
            kl = e.createKineticLaw()
            _check(kl.setMath(self.math(law)), f"kinetic law of reaction `{rid}`")
            self.annotation(e, "reaction", name=r.name, forward=_fe(r.forward), reverse=_fe(r.reverse),
                            rate=_fe(r.rate))
        return reaction_ids

    def rate_rules(self, reaction_ids: list):
        """Rate rules; a species that also takes part in reactions adds their rates (reaction ids) to its rule."""
        s = self.scheme
        if not s.rate_rules:
            return
        N = derive(s).stoichiometry
        comp = sympy.Symbol(self.comp_id)
        for rule in s.rate_rules:
            expr = rule.expr
            i = s.species_names.index(rule.species)
            extra = 0
            for j, rid in enumerate(reaction_ids):
                if N[i, j] != 0:
                    term = N[i, j] * sympy.Symbol(rid)
                    extra += term / comp if rule.species in self.conc_species else term
            rr = self.model.createRateRule()
            rr.setVariable(rule.species)
            _check(rr.setMath(self.math(extra + expr)), f"rate rule of `{rule.species}`")

    def ann_model(self):
        s = self.scheme
        attrs = {"name": s.name, "description": s.description or None, "reference": s.reference or None}
        attrs.update({f"unit_{k}": v for k, v in s.units.as_dict().items()})
        if self.t_end is not None:
            attrs["t_end"] = fmt_float(self.t_end)
        attrs["state_order"] = " ".join(s.species_names)
        if not s.check_units:
            attrs["check_units"] = "false"
        self.annotation(self.model, "scheme", **attrs)

    # ---------------------------------------------------------------- events
    def scheme_events(self):
        """The scheme's events (:class:`~kinetics.scheme.Event`): trigger (``t`` as the csymbol ``time``),
        initialValue, persistent, useValuesFromTriggerTime, delay, priority and one assignment per target, numbers
        in the units of what they set (as initial values and rate laws; the unit compartment has size 1, so every
        species symbol is the scheme's value)."""
        for ev in self.scheme.events:
            e = self.model.createEvent()
            eid = self.unique(ev.name)
            _check(e.setId(eid), f"event id `{eid}`")
            e.setUseValuesFromTriggerTime(ev.use_values_from_trigger_time)
            trig = e.createTrigger()
            trig.setInitialValue(ev.initial_value)
            trig.setPersistent(ev.persistent)
            _check(trig.setMath(self.math(ev.trigger)), f"trigger of event `{ev.name}`")
            if ev.delay is not None:
                _check(e.createDelay().setMath(self.math(ev.delay, self.t_unit)), f"delay of event `{ev.name}`")
            if ev.priority is not None:
                _check(e.createPriority().setMath(self.math(ev.priority, "dimensionless")),
                       f"priority of event `{ev.name}`")
            for target, expr in ev.assignments:
                ea = e.createEventAssignment()
                _check(ea.setVariable(target), f"event assignment target `{target}`")
                _check(ea.setMath(self.math(expr, self.species_value_units.get(target))),
                       f"assignment to `{target}` in event `{ev.name}`")
            self.note(e, ev.note)
            self.annotation(e, "event", name=ev.name, note=ev.note or None)

    # ---------------------------------------------------------------- protocol
    def protocol_events(self):
        """The schedule as SBML: input rules, then one event per segment boundary where something changes."""
        series = self.protocol_series()
        self.segment_events(series)

    def protocol_series(self) -> dict:
        """The value of every protocol variable in each segment, ``{sbml id: array (n_seg,)}``: piecewise-constant
        inputs themselves; for inputs with exponential or linear terms, the coefficients of an assignment rule
        ``u = u_c + sum_r (u_p_r + u_q_r*(time - u_tref)) * exp(-r*(time - u_tref))`` (parameters created here)."""
        sched = self.schedule
        inputs = sched.inputs
        # per input: the rates of its exponential/linear terms
        rates = {i: sorted({float(sched.term_data[k, 1]) for k in range(len(sched.term_input))
                            if sched.term_input[k] == i}) for i in range(len(inputs))}
        series = {}
        for i, name in enumerate(inputs):
            if not rates[i]:
                series[name] = np.asarray(sched.const[:, i], dtype=float)
                continue
            self.input_rule(i, name, rates[i], series)
        return series

    def input_rule(self, i: int, name: str, rates: list, series: dict):
        """The assignment rule of input ``name`` (column ``i``) with terms of ``rates``; its coefficients'
        parameters, and their values per segment added to ``series``."""
        sched, m = self.schedule, self.model
        B = sched.boundaries
        n_seg = sched.n_segments
        c_id = self.unique(f"{name}_c")
        tref_id = self.unique(f"{name}_tref")
        uid = self.input_units.get(name)
        u_text = self.ud_text.get(uid)
        q_unit = self.unit_id(model_unit(f"({u_text})/{self.units.time}" if u_text else f"1/{self.units.time}",
                                         self.units)) if uid else None
        rate_unit = self.unit_id(model_unit(f"1/{self.units.time}", self.units))
        series[c_id] = np.asarray(sched.const[:, i], dtype=float)
        series[tref_id] = np.asarray(B[:-1], dtype=float)
        expr = sympy.Symbol(c_id)
        tt = sympy.Symbol("t") - sympy.Symbol(tref_id)
        params = [(c_id, uid), (tref_id, self.t_unit)]
        for j, rate in enumerate(rates):
            p_id, q_id = self.unique(f"{name}_p{j + 1}"), self.unique(f"{name}_q{j + 1}")
            pv, qv = np.zeros(n_seg), np.zeros(n_seg)
            for s_ in range(n_seg):
                for k in range(sched.term_ptr[s_], sched.term_ptr[s_ + 1]):
                    if sched.term_input[k] == i and float(sched.term_data[k, 1]) == rate:
                        t_ref, _, p, q = sched.term_data[k]
                        assert t_ref == B[s_]
                        pv[s_] += p
                        qv[s_] += q
            series[p_id], series[q_id] = pv, qv
            params += [(p_id, uid), (q_id, q_unit)]
            piece = sympy.Symbol(p_id) + sympy.Symbol(q_id) * tt
            if rate != 0:
                piece = piece * sympy.exp(-sympy.Float(rate) * tt)
            expr = expr + piece
        for pid, unit in params:
            e = m.createParameter()
            e.setId(pid)
            e.setValue(float(series[pid][0]))
            e.setConstant(False)
            if unit:
                e.setUnits(unit)
                self.param_units[pid] = unit
            self.annotation(e, "protocol", input=name)
        rule = m.createAssignmentRule()
        rule.setVariable(name)
        _check(rule.setMath(self.math(expr, rate_unit)), f"protocol rule of input `{name}`")

    def segment_events(self, series: dict):
        """One event per segment boundary where a protocol variable changes or states jump (trigger
        ``time >= t_k``, no delay); jumps at the same time are folded into one assignment per state."""
        L, sched = self.L, self.schedule
        B = sched.boundaries
        n_events = 0
        for s_ in range(1, sched.n_segments):
            assigns = []
            for var, values in series.items():
                if values[s_] != values[s_ - 1]:
                    assigns.append((var, sympy.Float(float(values[s_])), self.param_units.get(var)))
            folded = {}
            for k in range(sched.jump_ptr[s_], sched.jump_ptr[s_ + 1]):
                n = sched.jump_target[k]
                v = float(sched.jump_value[k])
                prev = folded.get(n, sympy.Symbol(n))
                folded[n] = sympy.Float(v) if sched.jump_kind[k] == JUMP_SET else prev + sympy.Float(v)
            assigns += [(n, e, self.species_value_units.get(n)) for n, e in folded.items()]
            if not assigns:
                continue
            n_events += 1
            ev = self.model.createEvent()
            ev.setId(self.unique(f"protocol_t{n_events}"))
            ev.setUseValuesFromTriggerTime(True)
            trig = ev.createTrigger()
            trig.setInitialValue(True)
            trig.setPersistent(True)
            tm = L.ASTNode(L.AST_NAME_TIME)
            tm.setName("time")
            when = self.math(sympy.Float(float(B[s_])), self.t_unit)
            cond = L.ASTNode(L.AST_RELATIONAL_GEQ)
            cond.addChild(tm)
            cond.addChild(when)
            _check(trig.setMath(cond), "event trigger")
            for var, expr, unit in assigns:
                ea = ev.createEventAssignment()
                ea.setVariable(var)
                _check(ea.setMath(self.math(expr, unit)), f"event assignment to `{var}`")
            self.annotation(ev, "protocol")

    # ---------------------------------------------------------------- checks
    def finish(self) -> str:
        L = self.L
        text = L.writeSBMLToString(self.doc)
        # validate what was written, as a reader will see it
        doc = L.readSBMLFromString(text)
        doc.checkConsistency()
        errors = [doc.getError(i) for i in range(doc.getNumErrors())
                  if doc.getError(i).getSeverity() >= L.LIBSBML_SEV_ERROR]
        if errors:  # pragma: no cover - a bug in this exporter
            msg = "; ".join(f"{e.getErrorId()}: {e.getShortMessage()} (line {e.getLine()})" for e in errors[:5])
            raise SchemeError(f"SBML export of scheme `{self.scheme.name}` is not valid SBML: {msg}")
        return text


def _substance_like(unit_text: str) -> bool:
    """Whether SBML accepts the unit as a species' substance units (amount, mass or dimensionless)."""
    d = dimension(unit_text)
    return d in (dimension("mol"), dimension("kg"), dimension("1"))


def _fe(e):
    return None if e is None else format_expression(e)


def export(scheme, *, protocol=None, t_end=None, annotate: bool = True) -> str:
    """SBML Level 3 Version 2 text of the scheme (and of a protocol, as events).

    Parameters
    ----------
    protocol : Protocol, optional
        Inputs and jumps to express in the file (events and assignment rules),
        compiled on ``[0, t_end]``.
    t_end : float
        End of the simulated window (needed with a protocol).
    annotate : bool
        Write ``nmdakin:`` annotations that let :func:`kinetics.read_sbml`
        restore declared units, sources and mass-action forms exactly.

    Raises
    ------
    ArgumentError
        A protocol without ``t_end``; python-libsbml missing.
    SchemeError
        An expression SBML math cannot hold.
    """
    schedule = export_schedule(scheme, protocol, t_end)
    return _Builder(scheme, schedule, None if t_end is None else float(t_end), annotate).build()
