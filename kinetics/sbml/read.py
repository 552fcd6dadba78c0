"""Import SBML models as kinetics schemes (python-libsbml), exactly or not at all.

:func:`read_sbml` returns a :class:`~kinetics.scheme.Scheme`; :func:`read_sbml_model`
returns an :class:`SbmlModel` that also carries the SBML events as a
:class:`~kinetics.protocol.Protocol` and knows how every SBML symbol is computed
from the scheme (for output columns named by SBML id).

Supported (SBML Level 3; Levels 1-2 are converted to L3V2 by libsbml first)
------------------------------------------------------------------------------
* compartments of any size, constant or varying (rate rule, assignment rule,
  time-triggered events);
* species given as amount or concentration, ``hasOnlySubstanceUnits``,
  boundary and constant species, species and model conversion factors
  (constant parameters);
* global and local parameters; reactions with any kinetic law; function
  definitions (inlined); assignment rules (observables); rate rules (states);
  initial assignments (evaluated at import: the scheme's initial values are
  numbers); the csymbols ``time`` and ``avogadro`` (6.02214179e23, the value
  SBML Level 3 defines); models without state variables (rules and constants
  only: a constant placeholder state is integrated);
* the MathML of L3V2: booleans as numbers (1, 0) and numbers as conditions (true
  when not zero), ``implies``, ``quotient`` and ``rem`` (rounded towards zero),
  ``factorial`` of numbers, the inverse and reciprocal trigonometric and
  hyperbolic functions; constant parameters whose value is inf or NaN when no
  math reads them (an output only); elements whose math is absent have no
  effect (a warning lists them), as L3V2 says;
* species in 0-dimensional compartments (always amounts); constant assignment
  rules on species references (a constant stoichiometry);
* events. When every event is time-only (no delay, trigger ``time >= t1``,
  ``t1 < time``... or constants, assignments ``S = S + a`` or ``S = a`` of
  states and values of parameters/compartments) they become protocol
  components (:attr:`SbmlModel.protocol`) — jumps of states and steps of
  parameters/compartments, whose sequence of values is computed at import;
  simultaneous events run by priority (equal priorities only when their order
  cannot matter). Otherwise every event becomes a :class:`~kinetics.scheme.Event`
  of the scheme (SBML Level 3 semantics, run with root finding by
  :mod:`kinetics.events`): trigger (relations ``<``, ``<=``, ``>``, ``>=`` with
  ``and``/``or``/``not``), delay, priority, persistent, initialValue and
  useValuesFromTriggerTime (Level 2 files: their defaults, true). An event
  without id is named ``event_<k>`` (its position). Parameters and compartments
  that events assign become states without reactions (still reported under
  their SBML ids); species in such compartments are integrated as amounts.
  Events of equal priority (or none) firing at the same time run in
  declaration order (SBML leaves that order random).

How SBML quantities become scheme quantities
--------------------------------------------
* A species' *symbol value* is what SBML math sees: its concentration unless
  ``hasOnlySubstanceUnits``, else its amount. In a constant compartment the
  state is the symbol value; reactions add ``stoichiometry * rate *
  conversion_factor`` (divided by the compartment size for concentrations).
* A concentration species in a compartment whose size changes is integrated as
  its *amount* (state ``<id>_amount``); the concentration is the observable
  ``<id> = <id>_amount / <compartment>`` (a change of size keeps amounts, as
  SBML prescribes). A rate rule on such a species still acts on the
  concentration.
* Reactions whose stoichiometries are positive integers and whose species
  share one scale become scheme reactions (flux = rate law x scale); others
  become rate-rule terms. A reaction id used in math becomes an observable.
* Local parameters become parameters named ``<reaction id>_<parameter id>``.
* Names that are reserved in kinetics (``t``, ``time``, ``e``, ``pi``,
  Python keywords such as ``in`` or ``lambda``, leading ``_``) get a trailing
  ``_`` (reported in ``SbmlModel.renamed`` and with a warning).

Not supported (a :class:`~kinetics.errors.SchemeError` names the construct and element)
----------------------------------------------------------------------------------------
algebraic rules; event triggers with ``eq``, ``neq``, ``xor``, ``piecewise`` or
numbers as conditions (an equality is crossed, never held); ``delay`` and
``rateOf`` csymbols; variable stoichiometries; fast
reactions; size-less compartments holding concentration species or read by
math; ``floor``, ``ceiling``, ``quotient``, ``rem`` and ``factorial`` of
anything but numbers and time (rate laws are differentiated); infinite or NaN
numbers in math; required SBML Level 3 packages (comp, fbc, ...). Constraints
are not simulated (a warning says so). Loading never runs code from the file.

Conformance: ``tests/test_sbml_semantic_suite.py`` runs the SBML Test Suite's
semantic cases; every case that uses none of the above passes.

Examples
--------
>>> import kinetics as kx
>>> from kinetics.exporters import export
>>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 0.5, "1/ms")],
...               reactions=[kx.reaction("A ->", "k")])
>>> read_sbml(export(s, "sbml")) == s
True
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import sympy

from ..errors import ParseError, SchemeError, UnitError
from ..expressions import parse_expression
from ..scheme import (TIME, Input, Observable, Parameter, RateRule, Reaction, Scheme, Species, check_name,
                      name_from_text, name_part)
from ..protocol import Protocol
from ..units import UnitSystem, conversion_factor
from ._annotations import parse_bounds, parse_unit_attr, read_annotation, read_notes
from ._common import libsbml_module, unsupported
from ._document import MAX_SBML_BYTES, MAX_XML_DEPTH, read_document
from ._events import _EventReader
from ._mathml import MAX_CALL_DEPTH, MathReader, ast_names, restore_steps, same15
from ._model import SbmlModel
from ._units import parameter_unit, species_unit, unit_system

__all__ = ["read_sbml", "read_sbml_model", "SbmlModel", "SbmlImportWarning", "MAX_CALL_DEPTH", "MAX_XML_DEPTH",
           "MAX_SBML_BYTES"]


class SbmlImportWarning(UserWarning):
    """Something of an SBML file was changed or left out on import (renamed ids, constraints)."""


def _is_name(text) -> bool:
    """Whether ``text`` is a scheme name as it is (:func:`kinetics.scheme.check_name` keeps it unchanged)."""
    try:
        return check_name(text) == text
    except SchemeError:
        return False


def _name_base(text) -> str:
    """Letters, digits and ``_`` of ``text`` (not starting with a digit or ``_``); may still be reserved."""
    s = name_part(text, "x")
    return "m_" + s if s[0].isdigit() else s


def _free_bounds(value: float) -> tuple:
    """Bounds of an imported parameter without nmdakin's: non-negative if its value is."""
    return (0.0, math.inf) if value >= 0 else (-math.inf, math.inf)


@dataclass
class _Parts:
    """The scheme's components as the importer collects them, and how SBML symbols map onto them."""

    species: list = field(default_factory=list)       # scheme Species (the states)
    parameters: list = field(default_factory=list)
    inputs: list = field(default_factory=list)
    observables: list = field(default_factory=list)
    reactions: list = field(default_factory=list)
    rate_rules: dict = field(default_factory=dict)    # state name -> d/dt expression
    symbols: dict = field(default_factory=dict)       # SBML id -> sympy expression of the value SBML math sees
    amounts: dict = field(default_factory=dict)       # SBML species id -> sympy expression of its amount
    scale: dict = field(default_factory=dict)         # SBML species id -> (state, rate-to-derivative factor)


class _NeedsSchemeEvents(Exception):
    """The events of a model are not time-only events a protocol can hold: import them as Scheme events."""


# --------------------------------------------------------------------------- the importer
class _Importer(_EventReader):
    """One SBML model -> :class:`SbmlModel`. :meth:`build` runs the steps in order; each step reads what the
    earlier ones left on ``self`` (ids and names, rules, roles, values at t = 0, units)."""

    def __init__(self, doc, source, event_mode: bool = False):
        self.L = libsbml_module("SBML import")
        self.event_mode = event_mode   # events as Scheme events (else as a protocol, when they are time-only)
        self.doc = doc
        self.model = doc.getModel()
        self.source = source
        self.where_file = f" in {source}" if source else ""
        self.local_values = {}         # scheme name of a local parameter -> (value, element, reaction id)
        self.unit_compartment = None   # scheme name of nmdakin's unit compartment (its symbol is 1)
        self._cache = {}               # values at t = 0 by scheme name

    def build(self) -> SbmlModel:
        self.check_unsupported()
        self.collect_ids()
        self.rename_ids()
        self.read_rules()
        self.read_event_targets()
        self.assign_roles()
        self.define_initial_values()
        self.check_initial_values()
        self.choose_units()
        parts = _Parts()
        self.compartments_to_scheme(parts)
        self.parameters_to_scheme(parts)
        self.species_to_scheme(parts)
        self.reactions_to_scheme(parts)
        if self.event_mode:
            protocol, events = Protocol.empty(), self.events_to_scheme(parts)
        else:
            try:
                protocol, events = self.events_to_protocol(self.events, parts.scale, self.sp_info, self.assign), []
            except SchemeError as exc:
                raise _NeedsSchemeEvents(str(exc)) from None
        scheme = self.make_scheme(parts, events)
        return self.result(scheme, _with_start_values(protocol, self.start_values), parts)

    # ------------------------------------------------------------------ ids, names, rules, roles
    def collect_ids(self):
        """The model's elements, and every SBML id with its kind (``self.kind``, species references ``self.sref``)."""
        m = self.model
        self.comps = [m.getCompartment(i) for i in range(m.getNumCompartments())]
        self.species = [m.getSpecies(i) for i in range(m.getNumSpecies())]
        self.params = [m.getParameter(i) for i in range(m.getNumParameters())]
        self.reactions = [m.getReaction(i) for i in range(m.getNumReactions())]
        kind = {}
        for elements, what in ((self.comps, "compartment"), (self.species, "species"), (self.params, "parameter"),
                               (self.reactions, "reaction")):
            for e in elements:
                kind[e.getId()] = what
        sref = {}
        for r in self.reactions:
            for lst in (r.getListOfReactants(), r.getListOfProducts()):
                for j in range(lst.size()):
                    ref = lst.get(j)
                    if ref.isSetId() and ref.getId():
                        kind[ref.getId()] = "speciesReference"
                        sref[ref.getId()] = ref
        self.kind = kind
        self.sref = sref

    def rename_ids(self):
        """SBML id -> scheme name (``self.nm``), renaming ids reserved in kinetics; the math reader."""
        taken = set(self.kind)
        rename = {}
        for sid in self.kind:
            if not _is_name(sid):  # the one name rule (kinetics.scheme.check_name); SIds are ASCII already
                new = _name_base(sid) + "_"
                while new in taken or not _is_name(new):
                    new += "_"
                taken.add(new)
                rename[sid] = new
        self.taken = taken
        self.rename = rename
        if rename:
            warnings.warn("SBML import renamed ids reserved in kinetics: "
                          + ", ".join(f"`{a}` -> `{b}`" for a, b in rename.items()), SbmlImportWarning, stacklevel=5)
        self.nm = lambda sid: rename.get(sid, sid)
        self.math = MathReader(self.model, rename)

    def read_rules(self):
        """Assignment and rate rules (``self.assign``, ``self.rate``), initial assignments (``self.init``)."""
        m = self.model
        assign, rate = {}, {}
        ignored = []   # SBML L3V2 lets math be absent: the element then has no effect
        for i in range(m.getNumRules()):
            rule = m.getRule(i)
            var = rule.getVariable()
            if rule.getMath() is None and (rule.isAssignment() or rule.isRate()):
                ignored.append(f"{'assignment' if rule.isAssignment() else 'rate'} rule for `{var}`")
            elif rule.isAssignment():
                assign[var] = self.math(rule.getMath(), f"assignment rule for `{var}`")
            elif rule.isRate():
                rate[var] = self.math(rule.getMath(), f"rate rule for `{var}`")
        init = {}
        for v in list(assign) + list(rate):
            if self.kind.get(v) == "speciesReference":
                if v in assign and self.is_constant(assign[v]):
                    init[v] = assign.pop(v)   # a constant stoichiometry set by a rule: its value at t = 0
                    continue
                raise unsupported("variable stoichiometry (rule on a species reference)", f"`{v}`")
        for i in range(m.getNumInitialAssignments()):
            ia = m.getInitialAssignment(i)
            if ia.getMath() is None:
                ignored.append(f"initial assignment to `{ia.getSymbol()}`")
                continue
            init[ia.getSymbol()] = self.math(ia.getMath(), f"initial assignment to `{ia.getSymbol()}`",
                                             nonfinite=True)
        self.assign, self.rate, self.init = assign, rate, init
        self.ignored = ignored

    def is_constant(self, expr) -> bool:
        """Whether ``expr`` reads only numbers and constant parameters and compartments without rules."""
        m = self.model
        sid = {self.nm(k): k for k in self.kind}
        for x in expr.free_symbols:
            k = sid.get(x.name)
            el = m.getParameter(k) or m.getCompartment(k) if k is not None else None
            if el is None or not el.getConstant() or any(m.getRule(i).getVariable() == k
                                                          for i in range(m.getNumRules())):
                return False
        return True

    def read_event_targets(self):
        """The events (analysed later, once states are known) and the events assigning each variable."""
        m = self.model
        self.events = []
        for i in range(m.getNumEvents()):
            ev = m.getEvent(i)
            if ev.getTrigger() is None or ev.getTrigger().getMath() is None:
                self.ignored.append(f"event `{ev.getId() or '#' + str(i + 1)}` (no trigger math: it never fires)")
            else:
                self.events.append(ev)
        event_targets = {}
        for ev in self.events:
            for j in range(ev.getNumEventAssignments()):
                ea = ev.getEventAssignment(j)
                if ea.getMath() is None:
                    self.ignored.append(f"assignment to `{ea.getVariable()}` in event `{ev.getId()}`")
                    continue
                event_targets.setdefault(ea.getVariable(), []).append(ev)
        for v in event_targets:
            if self.kind.get(v) == "speciesReference":
                raise unsupported("variable stoichiometry (event assignment to a species reference)",
                                  f"event `{event_targets[v][0].getId()}`")
        self.event_targets = event_targets
        if self.ignored:
            warnings.warn("SBML import: elements without math have no effect: " + ", ".join(self.ignored),
                          SbmlImportWarning, stacklevel=5)

    def assign_roles(self):
        """What each compartment (``self.comp_role``) and species (``self.sp_info``) becomes in the scheme:
        ``param``, ``state``, ``obs``, ``input`` (compartments changed by events) or ``amount`` (species in a
        compartment whose size changes, integrated as amounts)."""
        comp_role = {}
        for c in self.comps:
            cid = c.getId()
            if cid in self.assign:
                comp_role[cid] = "obs"
            elif cid in self.rate:
                comp_role[cid] = "state"
            elif cid in self.event_targets:
                comp_role[cid] = "state" if self.event_mode else "input"
            else:
                comp_role[cid] = "param"
        self.comp_role = comp_role
        sp_info = {}
        for s in self.species:
            sid = s.getId()
            c = self.model.getCompartment(s.getCompartment())
            # a species in a 0-dimensional compartment is an amount whatever hasOnlySubstanceUnits says
            # (such a compartment has no size to divide by)
            hosu = s.getHasOnlySubstanceUnits() or c.getSpatialDimensionsAsDouble() == 0
            varying = comp_role[c.getId()] != "param"
            if sid in self.assign:
                role = "obs"
            elif sid in self.rate and not (not hosu and c.getId() in self.event_targets):
                role = "state"
            elif not hosu and varying:
                role = "amount"   # amounts stay when the compartment changes (constant species too)
            elif s.getConstant():
                role = "param"
            else:
                role = "state"
            sp_info[sid] = {"hosu": hosu, "comp": c.getId(), "role": role, "boundary": s.getBoundaryCondition(),
                            "element": s}
        self.sp_info = sp_info

    # ------------------------------------------------------------------ values at t = 0
    def define_initial_values(self):
        """``self.defs``: every symbol's defining expression at t = 0 (sizes, values, initial amounts or
        concentrations, stoichiometries, local parameters, initial assignments, rules, kinetic laws);
        ``self.kinetic``: the kinetic law of each reaction."""
        defs = {}
        for c in self.comps:
            if c.isSetSize():
                defs[c.getId()] = sympy.Float(c.getSize())
        for p in self.params:
            if p.isSetValue():
                defs[p.getId()] = sympy.Float(p.getValue())
        for s in self.species:
            sid = s.getId()
            info = self.sp_info[sid]
            V = sympy.Symbol(self.nm(info["comp"]))
            if s.isSetInitialAmount():
                a = sympy.Float(s.getInitialAmount())
                defs[sid] = a if info["hosu"] else a / V
            elif s.isSetInitialConcentration():
                cval = sympy.Float(s.getInitialConcentration())
                defs[sid] = cval * V if info["hosu"] else cval
        for rid, ref in self.sref.items():
            if ref.isSetStoichiometry():
                defs[rid] = sympy.Float(ref.getStoichiometry())
        defs.update(self.init)
        defs.update(self.assign)
        self.kinetic = self.kinetic_laws()   # reaction rates may appear in initial assignments and rules
        for r in self.reactions:
            kl = r.getKineticLaw()
            if kl is not None and kl.getMath() is not None:
                defs[r.getId()] = self.kinetic[r.getId()]
        for new, (v, _, _) in self.local_values.items():
            defs[new] = sympy.Float(v)
        self.defs = {self.nm(k) if k in self.kind else k: v for k, v in defs.items()}
        self._cache = {}

    def kinetic_laws(self) -> dict:
        """Reaction id -> kinetic law (0 without one), local parameters renamed ``<reaction>_<parameter>``
        and recorded in ``self.local_values``."""
        local_params = {}
        for r in self.reactions:
            kl = r.getKineticLaw()
            if kl is None:
                continue
            for j in range(kl.getNumLocalParameters()):
                local_params.setdefault(r.getId(), []).append(kl.getLocalParameter(j))
        kinetic = {}
        for r in self.reactions:
            rid = r.getId()
            kl = r.getKineticLaw()
            if kl is None or kl.getMath() is None:
                kinetic[rid] = sympy.Integer(0)
                continue
            local = {}
            for lp in local_params.get(rid, []):
                new = self.fresh(f"{rid}_{lp.getId()}")
                if not lp.isSetValue():
                    raise unsupported("local parameter without a value", f"`{lp.getId()}` of reaction `{rid}`")
                local[lp.getId()] = sympy.Symbol(new)
                self.local_values[new] = (lp.getValue(), lp, rid)
            kinetic[rid] = self.math(kl.getMath(), f"kinetic law of reaction `{rid}`", local)
        return kinetic

    def check_initial_values(self):
        """Refuse elements without a value at t = 0 (where the scheme needs one)."""
        nm = self.nm
        for c in self.comps:
            if nm(c.getId()) not in self.defs:
                if any(info["comp"] == c.getId() and not info["hosu"] for info in self.sp_info.values()):
                    raise unsupported("compartment without a size holding concentration species",
                                      f"compartment `{c.getId()}`")
        for s in self.species:
            if nm(s.getId()) not in self.defs:
                raise ParseError(f"species `{s.getId()}` has no initial amount, concentration or assignment",
                                 source=self.source)
        for p in self.params:
            if nm(p.getId()) not in self.defs:
                raise ParseError(f"parameter `{p.getId()}` has no value, initial assignment or rule",
                                 source=self.source)
        for rid in self.sref:
            if nm(rid) not in self.defs:
                raise unsupported("species reference without a stoichiometry", f"`{rid}`")

    def choose_units(self):
        """The scheme's unit system: nmdakin's annotation, else the model's units kinetics can spell."""
        self.ann_scheme = read_annotation(self.model, "scheme") or {}
        system = unit_system(self.model)
        if self.ann_scheme:
            try:
                system = UnitSystem(**{k[5:]: v for k, v in self.ann_scheme.items() if k.startswith("unit_")})
            except SchemeError:
                pass
        self.system = system

    # ------------------------------------------------------------------ the scheme's components
    def param_from(self, sid, value, element, role_note=""):
        """A scheme Parameter of an SBML value: declared unit, bounds and sources from nmdakin's annotation
        when it still matches the value, else the SBML units (where no conversion is needed) and notes."""
        units = element.getUnits() if element is not None and hasattr(element, "getUnits") else ""
        unit, note = parameter_unit(self.model, units, self.system)
        ann = read_annotation(element, "parameter") if element is not None else None
        if ann and "value" in ann:
            unit_attr = ann.get("unit", "")  # libsbml drops an empty attribute: the unit "" (dimensionless)
            try:
                dv = float(ann["value"])
                f = conversion_factor(unit_attr, self.system)
                if math.isclose(dv * f, value, rel_tol=1e-14, abs_tol=0.0) or (dv == 0 and value == 0):
                    lo, hi = parse_bounds(ann.get("bounds"))
                    return Parameter(self.nm(sid), dv, unit_attr, bounds=(lo, hi),
                                     reference=ann.get("reference", ""), note=ann.get("note", ""))
            except (ValueError, SchemeError):
                pass
        notes = read_notes(element) if element is not None else ""
        full_note = " ".join(x for x in (role_note, note, notes) if x)
        return Parameter(self.nm(sid), value, unit, bounds=_free_bounds(value), note=full_note)

    def compartments_to_scheme(self, parts: _Parts):
        """Compartments as parameters, states, observables or inputs (nmdakin's unit compartment: the number 1)."""
        nm = self.nm
        for c in self.comps:
            cid = c.getId()
            role = self.comp_role[cid]
            ann = read_annotation(c, "compartment")
            if role == "param" and nm(cid) not in self.defs:
                # a compartment without a size (e.g. 0-dimensional) is fine as long as no math reads it
                used = self.names_used_in_math()
                if nm(cid) in used or cid in used:
                    raise unsupported("compartment without a size used in math", f"compartment `{cid}`")
                continue
            parts.symbols[cid] = sympy.Symbol(nm(cid))
            if role == "param":
                if ann and ann.get("role") == "unit" and self.value(nm(cid)) == 1.0:
                    parts.symbols[cid] = sympy.Integer(1)
                    self.unit_compartment = nm(cid)
                    continue
                parts.parameters.append(self.param_from(cid, self.value(nm(cid)), c, "compartment size."))
            elif role == "state":
                v0 = self.value(nm(cid))
                parts.species.append(Species(nm(cid), v0, nonnegative=v0 >= 0,
                                             note="SBML compartment (rate rule)" if cid in self.rate
                                             else "SBML compartment changed by events"))
                if cid in self.rate:
                    parts.rate_rules[nm(cid)] = self.rate[cid]
            elif role == "obs":
                parts.observables.append(Observable(nm(cid), self.assign[cid],
                                                    note="SBML compartment (assignment rule)"))
            else:
                parts.inputs.append(Input(nm(cid), self.value(nm(cid)), note="SBML compartment changed by events"))

    @property
    def subs_unit(self) -> dict:
        """Substitution of nmdakin's unit compartment by 1 (empty if there is none)."""
        return {sympy.Symbol(self.unit_compartment): sympy.Integer(1)} if self.unit_compartment else {}

    def parameters_to_scheme(self, parts: _Parts):
        """Global parameters as observables, states, inputs or parameters; then local parameters and
        species-reference stoichiometries (``self.state_params``: the parameters that became states)."""
        self.state_params = set()
        self.start_values = {}
        for p in self.params:
            pid = p.getId()
            if pid in self.assign:
                parts.observables.append(self.observable_parameter(p))
            elif pid in self.rate or read_annotation(p, "species") is not None or \
                    (self.event_mode and pid in self.event_targets):
                self.state_parameter(p, parts)
                self.state_params.add(pid)
            elif (pid in self.event_targets and pid not in self.state_params) or \
                    (not p.getConstant() and read_annotation(p, "input") is not None):
                parts.inputs.append(self.input_parameter(p))
            else:
                v = self.nonfinite_constant(pid)
                if v is not None:   # inf or NaN, read by no math: an output only
                    parts.symbols[pid] = sympy.Float(v)
                    continue
                parts.parameters.append(self.param_from(pid, self.value(self.nm(pid)), p))
            parts.symbols[pid] = sympy.Symbol(self.nm(pid))
        for new, (v, lp, rid) in self.local_values.items():
            parts.parameters.append(self.param_from(new, float(v), lp, f"local parameter of reaction `{rid}`."))
        for rid in self.sref:
            v = self.value(self.nm(rid))
            parts.parameters.append(Parameter(self.nm(rid), v, "1", bounds=_free_bounds(v),
                                              note="SBML species reference (stoichiometry)"))
            parts.symbols[rid] = sympy.Symbol(self.nm(rid))

    def nonfinite_constant(self, pid):
        """The value of a constant parameter that is inf or NaN and that no math reads (SBML allows such
        values; a scheme parameter is finite), else None. One that math reads stays an error."""
        name = self.nm(pid)
        expr = self.defs.get(name)
        if expr is None or not isinstance(expr, sympy.Basic):
            return None
        if expr.free_symbols:
            try:
                expr = expr.xreplace({x: sympy.Float(self._value(x.name, (name,))) for x in expr.free_symbols
                                      if x != TIME})
            except (ParseError, SchemeError):
                return None
        try:
            v = float(sympy.N(expr, 17))
        except (TypeError, ValueError):
            return None
        if math.isfinite(v) or name in self.names_used_in_math():
            return None
        return v

    def observable_parameter(self, p) -> Observable:
        """A parameter with an assignment rule (its exact expression from nmdakin's annotation if it matches)."""
        pid = p.getId()
        unit, _ = parameter_unit(self.model, p.getUnits(), self.system)
        ann = read_annotation(p, "observable") or {}
        expr = self.assign[pid]
        if "expr" in ann:
            exact = self.parse_annotation_expr(ann["expr"])
            if exact is not None and same15(exact, expr):
                expr = exact
        if ann:
            unit = parse_unit_attr(ann.get("unit"))
        elif not p.getUnits():
            unit = None
        return Observable(self.nm(pid), expr, unit=unit, note=ann.get("note", ""))

    def state_parameter(self, p, parts: _Parts):
        """A state: a parameter with a rate rule (or a state nmdakin exported as a parameter)."""
        pid = p.getId()
        ann = read_annotation(p, "species") or {}
        v0 = self.exact_initial(ann, self.value(self.nm(pid)))
        nonneg = ann.get("nonnegative", "false") == "true" and v0 >= 0
        note = ann.get("note", "") if ann else \
            "SBML parameter (rate rule)" if pid in self.rate else "SBML parameter changed by events"
        parts.species.append(Species(self.nm(pid), v0, nonnegative=nonneg, unit=parse_unit_attr(ann.get("unit")),
                                     note=note))
        if pid in self.rate:
            parts.rate_rules[self.nm(pid)] = self.exact_rate_rule(ann, self.rate[pid])

    def input_parameter(self, p) -> Input:
        """An input: a parameter changed by events (or an input nmdakin exported)."""
        pid = p.getId()
        ann = read_annotation(p, "input") or {}
        default = self.value(self.nm(pid))
        if ann.get("default") is not None and pid not in self.event_targets:
            # nmdakin writes the protocol's value at t = 0 as the value (SBML keeps 15 digits: equal to that)
            if not math.isclose(float(ann["default"]), default, rel_tol=1e-14, abs_tol=1e-300):
                self.start_values[self.nm(pid)] = default
            default = float(ann["default"])
        return Input(self.nm(pid), default, unit=parse_unit_attr(ann.get("unit")),
                     note=ann.get("note", "SBML parameter changed by events" if pid in self.event_targets else ""))

    def exact_initial(self, ann: dict, v0: float) -> float:
        """The exact initial value nmdakin annotated, if it is the SBML one to 14 digits; else ``v0``."""
        exact = ann.get("protocol_initial", ann.get("initial"))
        if exact is not None and math.isclose(float(exact), v0, rel_tol=1e-14, abs_tol=1e-300):
            return float(exact)
        return v0

    def exact_rate_rule(self, ann: dict, rule):
        """The exact rate rule nmdakin annotated, if it is the SBML one to 15 digits; else ``rule``."""
        if "rate_rule" in ann:
            exact_rule = self.parse_annotation_expr(ann["rate_rule"])
            if exact_rule is not None and same15(exact_rule, rule):
                return exact_rule
        return rule

    def species_to_scheme(self, parts: _Parts):
        """Species as observables, constant parameters, amount states or states; their symbols, amounts and
        scales (reaction rate -> derivative of the state, conversion factors included)."""
        m = self.model
        for s in self.species:
            sid = s.getId()
            self.species_entry(s, parts)
            cf = s.getConversionFactor() if s.isSetConversionFactor() else m.getConversionFactor()
            if cf and sid in parts.scale:
                if m.getParameter(cf) is None or not m.getParameter(cf).getConstant():
                    raise unsupported("conversion factor that is not a constant parameter", f"species `{sid}`")
                st, sc = parts.scale[sid]
                parts.scale[sid] = (st, sc * sympy.Symbol(self.nm(cf)))

    def species_entry(self, s, parts: _Parts):
        """One species in the scheme, by its role."""
        nm = self.nm
        sid = s.getId()
        info = self.sp_info[sid]
        V = parts.symbols.get(info["comp"], sympy.Symbol(nm(info["comp"])))
        ann = read_annotation(s, "species") or {}
        note = ann.get("note", read_notes(s))
        unit = parse_unit_attr(ann["unit"]) if "unit" in ann else species_unit(self.model, s, info["hosu"],
                                                                              info["comp"])
        nonneg = ann.get("nonnegative", "true") == "true"
        sym = sympy.Symbol(nm(sid))
        parts.symbols[sid] = sym
        parts.amounts[sid] = sym if info["hosu"] else sym * V
        if info["role"] == "obs":
            parts.observables.append(Observable(nm(sid), self.assign[sid], unit=unit, note=note))
        elif info["role"] == "param":
            v = self.value(nm(sid))
            parts.parameters.append(Parameter(nm(sid), v, "1", bounds=_free_bounds(v),
                                              note="SBML constant species" + (f" ({unit})" if unit else "")))
        elif info["role"] == "amount":
            state = self.fresh(f"{sid}_amount")
            v0 = self.value(nm(sid)) * self.value(str(V)) if isinstance(V, sympy.Symbol) else self.value(nm(sid))
            parts.species.append(Species(state, v0, nonnegative=v0 >= 0,
                                         note=f"amount of SBML species `{sid}` (its compartment changes size)"))
            parts.observables.append(Observable(nm(sid), sympy.Symbol(state) / V, unit=unit,
                                                note=f"concentration of `{sid}`"))
            parts.amounts[sid] = sympy.Symbol(state)
            parts.scale[sid] = (state, sympy.Integer(1))
            if sid in self.rate:
                # a rate rule on the concentration of a species whose compartment events resize (the amount
                # stays at a resize): d(amount)/dt = d[S]/dt * V + [S] * dV/dt
                comp = info["comp"]
                dV = self.rate.get(comp, sympy.Integer(0))
                parts.rate_rules[state] = self.rate[sid] * V + sympy.Symbol(state) / V * dV
        else:
            v0 = self.exact_initial(ann, self.value(nm(sid)))
            parts.species.append(Species(nm(sid), v0, unit=unit, nonnegative=nonneg and v0 >= 0, note=note))
            if sid in self.rate:
                rule = self.rate[sid]
                parts.rate_rules[nm(sid)] = rule if info["boundary"] else self.exact_rate_rule(ann, rule)
            parts.scale[sid] = (nm(sid), sympy.Integer(1) if info["hosu"] else 1 / V)

    def names_used_in_math(self) -> set:
        """Every name that rules, kinetic laws, initial assignments and events use."""
        used = set()
        for e in (list(self.assign.values()) + list(self.rate.values()) + list(self.kinetic.values())
                  + list(self.init.values())):
            used |= {x.name for x in e.free_symbols}
        for ev in self.events:
            for node in [ev.getTrigger().getMath() if ev.getTrigger() else None] + \
                        [ev.getDelay().getMath() if ev.isSetDelay() else None] + \
                        [ev.getPriority().getMath() if ev.isSetPriority() else None] + \
                        [ev.getEventAssignment(j).getMath() for j in range(ev.getNumEventAssignments())]:
                if node is not None:
                    used |= ast_names(node)
        return used

    def reactions_to_scheme(self, parts: _Parts):
        """Reactions as scheme reactions (positive integer stoichiometries, one scale), else as rate-rule terms;
        the rate of a reaction used in math is an observable."""
        used_in_math = self.names_used_in_math()
        for r in self.reactions:
            rid = r.getId()
            if r.isSetFast() and r.getFast():
                raise unsupported("fast reaction", f"reaction `{rid}`")
            law = self.kinetic[rid]
            if self.nm(rid) in used_in_math or rid in used_in_math:
                parts.observables.append(Observable(self.nm(rid), law, note=f"rate of SBML reaction `{rid}`"))
            net, sides, stoich_ok = self.reaction_sides(r, parts.scale)
            if not net:
                continue
            scales = {parts.scale[sp][1] for sp in net}
            if stoich_ok and len(scales) == 1:
                flux = (law * next(iter(scales))).xreplace(self.subs_unit)
                rx = self.reaction_from_annotation(r, sides, flux)
                if rx is None:
                    # the file's kinetic law; the name nmdakin annotated (possibly none) still holds
                    ann = read_annotation(r, "reaction")
                    name = ann.get("name", "") if ann else self.nm(rid)
                    rx = Reaction(tuple(sides["r"]), tuple(sides["p"]), rate=flux, name=name)
                parts.reactions.append(rx)
            else:
                for sp, coeff in net.items():
                    st = parts.scale[sp][0]
                    parts.rate_rules[st] = parts.rate_rules.get(st, 0) + coeff * law * parts.scale[sp][1]

    def reaction_sides(self, r, scale: dict) -> tuple:
        """``(net, sides, stoich_ok)`` of a reaction over the species it changes: net stoichiometry by species
        id, ``{"r": [(state, n)...], "p": [...]}``, and whether every stoichiometry is a constant positive integer."""
        net = {}
        stoich_ok = True
        sides = {"r": [], "p": []}
        for key, lst in (("r", r.getListOfReactants()), ("p", r.getListOfProducts())):
            for j in range(lst.size()):
                ref = lst.get(j)
                spid = ref.getSpecies()
                info = self.sp_info.get(spid)
                if spid not in scale or info["boundary"] or info["role"] not in ("state", "amount") \
                        or spid in self.rate:
                    continue
                if ref.isSetId() and ref.getId():
                    st = sympy.Symbol(self.nm(ref.getId()))
                    val = self.value(self.nm(ref.getId()))
                else:
                    val = ref.getStoichiometry()
                    st = sympy.Integer(int(val)) if float(val).is_integer() else sympy.Float(val)
                if not (val > 0 and float(val).is_integer()) or (ref.isSetId() and ref.getId()):
                    stoich_ok = False
                sign = -1 if key == "r" else 1
                net[spid] = net.get(spid, 0) + sign * st
                sides[key].append((scale[spid][0], int(val) if float(val).is_integer() and val > 0 else 1))
        return net, sides, stoich_ok

    # ------------------------------------------------------------------ the scheme and the result
    def make_scheme(self, parts: _Parts, events=()) -> Scheme:
        """The scheme: rate rules in the model's rule order, the unit compartment replaced by 1, nmdakin's state
        order, name and description."""
        m = self.model
        subs_unit = self.subs_unit
        rule_order = [self.nm(m.getRule(i).getVariable()) for i in range(m.getNumRules()) if m.getRule(i).isRate()]
        ordered = [k for k in rule_order if k in parts.rate_rules] + \
                  [k for k in parts.rate_rules if k not in rule_order]
        rr = [RateRule(k, restore_steps(sympy.sympify(parts.rate_rules[k]).xreplace(subs_unit))) for k in ordered]
        if not parts.species:
            # a model of assignment rules and constants only: one constant placeholder state (a scheme
            # integrates something); it is no SBML symbol, so no output shows it
            parts.species.append(Species(self.fresh("sbml_placeholder"), 0.0,
                                         note="placeholder state of an SBML model without state variables"))
        if not parts.reactions and not rr:
            # states that only events change: d/dt = 0 (a scheme needs some dynamics to be valid)
            rr = [RateRule(parts.species[0].name, sympy.Integer(0))]
        observables = [Observable(o.name, restore_steps(o.expr.xreplace(subs_unit)), unit=o.unit, note=o.note)
                       for o in parts.observables]
        order = self.ann_scheme.get("state_order", "").split()
        if order and sorted(order) == sorted(x.name for x in parts.species):
            rank = {n: i for i, n in enumerate(order)}
            parts.species.sort(key=lambda x: rank[x.name])
        name, description = self.scheme_name_and_description()
        try:
            # An nmdakin export is checked unless it opted out. Any other SBML file is not (check_units=False):
            # SBML units are optional and often incomplete or inconsistent in legitimate files (the SBML
            # test-suite's), and its units map onto a scheme's only approximately; scheme.unit_issues() reports.
            check = bool(self.ann_scheme) and self.ann_scheme.get("check_units", "true") != "false"
            return Scheme(name, species=parts.species, parameters=parts.parameters, inputs=parts.inputs,
                          reactions=parts.reactions, observables=observables, rate_rules=rr, units=self.system,
                          description=description, reference=self.ann_scheme.get("reference", ""),
                          events=events, check_units=check)
        except SchemeError as exc:
            if isinstance(exc, UnitError) and exc.issues:  # a dimensional error of an nmdakin export
                raise exc.located(None, self.source) from None
            raise SchemeError(f"SBML model `{m.getId()}`{self.where_file} does not make a valid scheme: "
                              f"{exc}") from None

    def scheme_name_and_description(self) -> tuple:
        """The scheme name is an SBML id (nmdakin's annotation, else the model's id), never the free-text model
        name: that one is kept, as text, at the start of the description (escaped where written)."""
        m, ann = self.model, self.ann_scheme
        name = next((x for x in (ann.get("name"), m.getId()) if x and _is_name(x)), None)
        if name is None:
            name = name_from_text(m.getId() or m.getName() or (Path(self.source).stem if self.source else ""), "sbml")
        description = ann.get("description", read_notes(m) if not ann else "")
        label = " ".join(m.getName().split()) if m.isSetName() else ""
        if label and label != name and not description.startswith(label):
            description = f"{label}: {description}" if description else label
        return name, description

    def result(self, scheme: Scheme, protocol, parts: _Parts) -> SbmlModel:
        """The :class:`SbmlModel`: scheme, protocol, and the SBML symbols in scheme names."""
        subs_unit = self.subs_unit
        varying = [c.getId() for c in self.comps if self.comp_role[c.getId()] != "param"]
        varying += [p.getId() for p in self.params
                    if p.getId() in self.assign or p.getId() in self.rate or p.getId() in self.event_targets]
        symbols = {k: (v.xreplace(subs_unit) if isinstance(v, sympy.Basic) else v) for k, v in parts.symbols.items()}
        amounts = {k: v.xreplace(subs_unit) for k, v in parts.amounts.items()}
        concentrations = {}
        for sid, info in self.sp_info.items():
            comp = self.model.getCompartment(info["comp"])
            if comp.getSpatialDimensionsAsDouble() != 0 and info["comp"] in symbols:
                conc = symbols[sid] if not info["hosu"] else amounts[sid] / symbols[info["comp"]]
                concentrations[sid] = sympy.sympify(conc).xreplace(subs_unit)
        t_end = float(self.ann_scheme["t_end"]) if "t_end" in self.ann_scheme else None
        return SbmlModel(scheme=scheme, protocol=protocol, source=self.source,
                         species=tuple(s.getId() for s in self.species), symbols=symbols, amounts=amounts,
                         concentrations=concentrations,
                         varying=tuple(varying), renamed=dict(self.rename), t_end=t_end)

    # ------------------------------------------------------------------ helpers
    def fresh(self, base: str) -> str:
        """A new scheme name from ``base`` (not taken, not reserved)."""
        name = base if _is_name(base) else _name_base(base)
        while name in self.taken or not _is_name(name):
            name += "_"
        self.taken.add(name)
        return name

    def value(self, name: str) -> float:
        """Numeric value at t = 0 of a symbol (scheme name), following initial assignments and rules."""
        return float(self._value(name, ()))

    def _value(self, name, stack):
        if name in self._cache:
            return self._cache[name]
        if name in stack:
            raise ParseError(f"initial values depend on each other in a cycle: {' -> '.join(stack + (name,))}",
                             source=self.source)
        if name not in self.defs:
            raise ParseError(f"`{name}` has no value at t = 0", source=self.source)
        expr = self.defs[name]
        v = self._eval(expr, stack + (name,))
        self._cache[name] = v
        return v

    def _eval(self, expr, stack=(), overrides=None, t=0.0):
        expr = sympy.sympify(expr)
        subs = {}
        for s in expr.free_symbols:
            if s == TIME:
                subs[s] = sympy.Float(t)
            elif overrides and s.name in overrides:
                subs[s] = sympy.Float(overrides[s.name])
            else:
                subs[s] = sympy.Float(self._value(s.name, stack))
        # pi and e as the doubles SBML math computes with (``P == pi`` holds for a parameter of value pi)
        v = expr.xreplace({**subs, sympy.pi: sympy.Float(math.pi), sympy.E: sympy.Float(math.e)})
        try:
            v = float(sympy.N(v, 17))
        except (TypeError, ValueError):
            raise ParseError(f"cannot evaluate `{expr}` to a number", source=self.source) from None
        if not math.isfinite(v):
            raise ParseError(f"`{expr}` evaluates to {v} at t = {t:g}", source=self.source)
        return v

    def parse_annotation_expr(self, text):
        """An expression stored in an nmdakin annotation, or None if it does not parse."""
        try:
            return parse_expression(text)
        except SchemeError:
            return None

    def reaction_from_annotation(self, r, sides, flux):
        """The reaction as nmdakin annotated it (mass-action forms), if its flux is still the file's kinetic law."""
        ann = read_annotation(r, "reaction")
        if not ann:
            return None
        try:
            fwd = parse_expression(ann["forward"]) if "forward" in ann else None
            rev = parse_expression(ann["reverse"]) if "reverse" in ann else None
            rt = parse_expression(ann["rate"]) if "rate" in ann else None
            rx = Reaction(tuple(sides["r"]), tuple(sides["p"]), forward=fwd, reverse=rev, rate=rt,
                          name=ann.get("name", ""))
        except SchemeError:
            return None
        if not same15(rx.flux(), flux):
            return None  # the file was edited: keep its kinetic law
        return rx

    # ------------------------------------------------------------------ checks
    def check_unsupported(self):
        m = self.model
        for i in range(m.getNumRules()):
            rule = m.getRule(i)
            if rule.isAlgebraic():
                raise unsupported("algebraic rule", f"rule #{i + 1}{self.where_file}")
        for i in range(m.getNumEvents()):
            ev = m.getEvent(i)
            if ev.isSetDelay() and ev.getDelay().getMath() is not None and not self.event_mode:
                raise _NeedsSchemeEvents("event with a delay")
        if m.getNumConstraints():
            warnings.warn(f"SBML import: {m.getNumConstraints()} constraint(s) are not simulated "
                          "(they do not change trajectories)", SbmlImportWarning, stacklevel=4)


# --------------------------------------------------------------------------- public API
def read_sbml_model(source) -> SbmlModel:
    """Import an SBML file (or SBML text) as an :class:`SbmlModel`: scheme, protocol of its events, symbols.

    Raises
    ------
    ParseError
        Malformed XML, invalid SBML (libsbml's consistency checks), missing values.
    SchemeError
        An unsupported construct; the message names it and the element id.
    """
    doc, name = read_document(source)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = _Importer(doc, name).build()
        except _NeedsSchemeEvents:
            model = None
    if model is not None:   # time-only events: a protocol (exact); the warnings of this import
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return model
    return _Importer(doc, name, event_mode=True).build()


def read_sbml(source) -> Scheme:
    """Import an SBML file (or SBML text) as a :class:`~kinetics.scheme.Scheme`.

    Events that are not time-only are :attr:`Scheme.events <kinetics.scheme.Scheme.events>`; a model whose
    time-only events make a protocol needs it as well: use :func:`read_sbml_model` (this function raises rather
    than drop them).

    Examples
    --------
    >>> scheme = read_sbml("tests/data/sbml/decay.xml")   # doctest: +SKIP
    """
    model = read_sbml_model(source)
    if len(model.protocol):
        raise SchemeError(f"SBML model `{model.scheme.name}` has events, which make a protocol: use "
                          "kinetics.read_sbml_model(path) (returns .scheme and .protocol) and "
                          "simulate(model.scheme, model.protocol, ...)")
    return model.scheme


def _with_start_values(protocol: Protocol, start: dict) -> Protocol:
    """``protocol`` with the inputs an nmdakin export set at t = 0 (``{name: value}``; the annotated default is the
    input's own) clamped to that value from t = 0: prepended to the input's steps from later events, or a step of
    its own."""
    if not start:
        return protocol
    from ..protocol import steps
    from ..protocol._clamps import Steps

    components, done = [], set()
    for c in protocol.components:
        if isinstance(c, Steps) and c.input in start:
            times, values = list(c.times), list(c.values)
            if not times or times[0] > 0.0:
                times, values = [0.0, *times], [start[c.input], *values]
            components.append(steps(c.input, times, values))
            done.add(c.input)
        else:
            components.append(c)
    components += [steps(name, [0.0], [value]) for name, value in start.items() if name not in done]
    return Protocol(components)
