"""SBML events -> a :class:`~kinetics.protocol.Protocol` when they are time-only, else scheme events.

Time-only events (no delay, ``time >= t1`` and equivalent relations) become steps of the parameters and
compartments they assign and jumps of the states they change: their firing times are found at import, events at
the same time are ordered by priority, and the values they assign to parameters and compartments are computed by
running the events in order (a discrete simulation). Any other event makes the importer start again in *event
mode* (``kinetics.sbml.read``): every event becomes a :class:`~kinetics.scheme.Event` (:meth:`_EventReader.
events_to_scheme`), the parameters and compartments that events assign becoming states without reactions.
"""
from __future__ import annotations

import sympy

from ..protocol import Protocol, jumps, steps
from ..errors import SchemeError
from ..scheme import TIME, Event
from ._annotations import read_annotation
from ._common import unsupported
from ._mathml import ast_names


def _constant_trigger_relation():
    """A relation true at every finite time (the SBML trigger ``true``: it fires once at the start when its
    initialValue is false)."""
    return sympy.GreaterThan(TIME, sympy.Float(-1e300))


class _EventReader:
    """The event part of the SBML importer (a mixin of ``kinetics.sbml.read._Importer``, whose ids, roles and
    values at t = 0 it uses)."""

    def events_to_protocol(self, events, scale, sp_info, assign) -> Protocol:
        """The protocol of the events (empty without events)."""
        if not events:
            return Protocol.empty()
        nm = self.nm
        states = {s for s, _ in scale.values()} | {nm(k) for k, v in self.comp_role.items() if v == "state"}
        states |= {nm(p) for p in self.state_params}
        expand = self.rule_expander(assign)
        dynamic = self.dynamic_names(sp_info)
        fired = self.fired_events(events, expand, dynamic)
        driven, jump_list = self.run_events(fired, expand, dynamic, states, scale, sp_info)
        return Protocol(_event_components(driven, jump_list))

    def events_to_scheme(self, parts) -> list:
        """The SBML events as :class:`~kinetics.scheme.Event` objects in scheme names (SBML L3 semantics:
        triggers, delays, priorities, persistent, initialValue, useValuesFromTriggerTime).

        An event without an id is named ``event_<k>`` (its position); events of equal priority that fire at the
        same time run in declaration order (SBML leaves that order random)."""
        self.check_random_order()
        out = []
        for k, ev in enumerate(self.events, 1):
            where = f"event `{ev.getId() or '#' + str(k)}`"
            event = self.scheme_event(ev, k, where, parts)
            if event is not None:
                out.append(event)
        return out

    def check_random_order(self):
        """Refuse events with the same constant priority that interact (one assigns what the other assigns or
        reads, its trigger included): should they fire together, SBML orders them at random."""
        prios = []
        for k, ev in enumerate(self.events, 1):
            if ev.isSetPriority() and ev.getPriority().getMath() is not None:
                pe = self.math(ev.getPriority().getMath(), f"priority of event `{ev.getId() or '#' + str(k)}`")
                names = {self.nm(v) for v in self.event_targets} | {
                    self.nm(r.getVariable()) for r in (self.model.getRule(i) for i in range(self.model.getNumRules()))}
                if not {x.name for x in pe.free_symbols} & (names | {TIME.name}):
                    prios.append((self._eval(pe), ev, f"event `{ev.getId() or '#' + str(k)}`"))
        for i, (pa, a, wa) in enumerate(prios):
            for pb, b, wb in prios[i + 1:]:
                if pa == pb and _interact(a, b, triggers=True):
                    raise unsupported("events of equal priority that assign or read the same variables (SBML orders "
                                      "them at random when they fire together)", f"{wa} and {wb}")

    def scheme_event(self, ev, k, where, parts):
        """One SBML event as a scheme Event (None if it can never fire)."""
        sub = self.subs_unit
        trig = ev.getTrigger()
        cond = self.math(trig.getMath(), f"trigger of {where}", boolean=True)
        if isinstance(cond, sympy.logic.boolalg.Boolean):
            cond = cond.xreplace(sub)
        if cond in (sympy.true, sympy.false):
            if cond == sympy.false or trig.getInitialValue():
                return None          # never turns from false to true
            cond = _constant_trigger_relation()
        assignments = []
        for j in range(ev.getNumEventAssignments()):
            ea = ev.getEventAssignment(j)
            if ea.getMath() is None:
                continue   # no effect (SBML L3V2)
            var = ea.getVariable()
            expr = self.math(ea.getMath(), f"assignment to `{var}` in {where}").xreplace(sub)
            assignments.append(self.event_target(var, expr, ev, where, parts))
        if not assignments:
            return None
        delay = priority = None
        if ev.isSetDelay() and ev.getDelay().getMath() is not None:
            delay = self.math(ev.getDelay().getMath(), f"delay of {where}").xreplace(sub)
        if ev.isSetPriority() and ev.getPriority().getMath() is not None:
            priority = self.math(ev.getPriority().getMath(), f"priority of {where}").xreplace(sub)
        ann = read_annotation(ev, "event") or {}
        name = self.fresh(ann.get("name") or ev.getId() or f"event_{k}")
        try:
            return Event(name, cond, dict(assignments), delay=delay, priority=priority, note=ann.get("note", ""),
                         persistent=bool(trig.getPersistent()), initial_value=bool(trig.getInitialValue()),
                         use_values_from_trigger_time=bool(ev.getUseValuesFromTriggerTime()))
        except SchemeError as exc:
            raise unsupported(f"event the engine cannot run: {exc}", where,
                              "triggers are relations <, <=, >, >= combined with and/or/not") from None

    def event_target(self, var, expr, ev, where, parts) -> tuple:
        """``(state, expression)`` of an event assignment to the SBML variable ``var``."""
        nm = self.nm
        kind = self.kind.get(var)
        if kind == "species":
            info = self.sp_info[var]
            if info["role"] == "state":
                return parts.scale[var][0], expr
            if info["role"] == "amount":
                # the amount, from the compartment size before the event (all assignments are evaluated before
                # any is applied, the compartment's included: SBML test case 01779)
                return parts.scale[var][0], expr * parts.symbols[info["comp"]]
            raise unsupported("event assignment to a species set by a rule or constant", where)
        if kind == "parameter" and var in self.state_params:
            return nm(var), expr
        if kind == "compartment" and self.comp_role.get(var) == "state":
            return nm(var), expr
        raise unsupported(f"event assignment to `{var}`", where)

    def rule_expander(self, assign):
        """A function substituting assignment rules (observables) so that triggers and assignments are in
        base symbols."""
        obs_defs = {self.nm(k): v for k, v in assign.items()}

        def expand(e, depth=0):
            if depth > 100:
                raise unsupported("assignment rules nested too deeply", "event math")
            subs = {s: obs_defs[s.name] for s in e.free_symbols if s.name in obs_defs}
            return expand(e.xreplace(subs), depth + 1) if subs else e

        return expand

    def dynamic_names(self, sp_info) -> set:
        """Scheme names whose value changes with the model state (states, observables, reaction rates)."""
        nm = self.nm
        dynamic = set()
        for sid, info in sp_info.items():
            if info["role"] in ("state", "amount", "obs"):
                dynamic.add(nm(sid))
        for k, v in self.comp_role.items():
            if v in ("state",):
                dynamic.add(nm(k))
        for i in range(self.model.getNumRules()):
            rule = self.model.getRule(i)
            if rule.isRate():
                dynamic.add(nm(rule.getVariable()))
        dynamic |= {nm(self.model.getReaction(i).getId()) for i in range(self.model.getNumReactions())}
        return dynamic

    def fired_events(self, events, expand, dynamic) -> list:
        """``(time, -priority, order, event, where)`` of every event that fires on t >= 0, in firing order."""
        fired = []
        for order, ev in enumerate(events):
            eid = ev.getId() or f"#{order + 1}"
            where = f"event `{eid}`"
            trig = ev.getTrigger()
            cond = expand(self.math(trig.getMath(), f"trigger of {where}", boolean=True))
            t_fire = self.trigger_time(cond, trig, where, dynamic)
            if t_fire is None:
                continue
            prio, dynamic_prio = 0.0, False
            if ev.isSetPriority() and ev.getPriority().getMath() is not None:
                pe = expand(self.math(ev.getPriority().getMath(), f"priority of {where}"))
                if {s.name for s in pe.free_symbols} & (dynamic | {self.nm(v) for v in self.event_targets}):
                    dynamic_prio = True   # matters only if another event fires at the same time
                else:
                    prio = self._eval(pe)
            fired.append((t_fire, -prio, order, ev, where, dynamic_prio))
        fired.sort(key=lambda x: (x[0], x[1], x[2]))
        for i, a in enumerate(fired):
            same_time = [b for b in fired if b[0] == a[0] and b is not a]
            if a[5] and same_time:
                raise unsupported("event priority that depends on the model state, for events firing at the same "
                                  "time", f"{a[4]} and {same_time[0][4]} at t = {a[0]:g}")
            for b in fired[i + 1:]:
                if b[0] == a[0] and b[1] == a[1] and (a[3].isSetPriority() or b[3].isSetPriority()) \
                        and _interact(a[3], b[3]):
                    raise unsupported("simultaneous events with equal priorities that assign or read the same "
                                      "variables (SBML leaves their order random)",
                                      f"{a[4]} and {b[4]} at t = {a[0]:g}")
        return [x[:5] for x in fired]

    def run_events(self, fired, expand, dynamic, states, scale, sp_info) -> tuple:
        """Discrete simulation of event-driven parameters/compartments; jumps for states.

        Events firing at the same time run in priority order; one with useValuesFromTriggerTime computes its
        assignments from the values before any of them ran, the others from the values left by the events
        before them. Returns ``({name: [(t, value)...]}, [(state, t, amount, mode)...])``.
        """
        nm = self.nm
        driven = {}
        current = {}
        jump_list = []
        group_time, before = None, {}
        for t_fire, _, _, ev, where in fired:
            if t_fire != group_time:
                group_time, before = t_fire, dict(current)
            from_trigger = ev.getUseValuesFromTriggerTime()
            env = before if from_trigger else current
            new_values = {}
            for j in range(ev.getNumEventAssignments()):
                ea = ev.getEventAssignment(j)
                var = ea.getVariable()
                if ea.getMath() is None:
                    continue   # no effect (SBML L3V2)
                expr = expand(self.math(ea.getMath(), f"assignment to `{var}` in {where}"))
                kind = self.kind.get(var)
                if kind == "species" and sp_info[var]["role"] in ("state", "amount") or \
                        (kind in ("parameter", "compartment") and nm(var) in states):
                    jump = self.state_jump(var, expr, t_fire, where, dynamic, env, scale, sp_info)
                    if from_trigger:  # its value was computed before the earlier events of this time
                        jump_list = [j_ for j_ in jump_list if not (j_[0] == jump[0] and j_[1] == t_fire)]
                    jump_list.append(jump)
                elif kind == "species" and sp_info[var]["role"] in ("obs", "param"):
                    raise unsupported("event assignment to a species set by a rule or constant", where)
                elif kind in ("parameter", "compartment"):
                    names = {s.name for s in expr.free_symbols}
                    if names & dynamic:
                        raise unsupported(f"event assignment to `{var}` that depends on the model state "
                                          f"({', '.join(sorted(names & dynamic))})", where)
                    new_values[nm(var)] = self._eval(expr, overrides=env, t=t_fire)
                else:
                    raise unsupported(f"event assignment to `{var}`", where)
            for k, v in new_values.items():  # all assignments of one event use values from before it
                current[k] = v
                driven.setdefault(k, []).append((t_fire, v))
        return driven, jump_list

    def trigger_time(self, cond, trig, where, dynamic):
        """Time at which a time-only trigger fires (None if never on t >= 0)."""
        names = {s.name for s in cond.free_symbols if s != TIME}
        if names & dynamic:
            raise unsupported(f"event trigger that depends on the model state ({', '.join(sorted(names & dynamic))})",
                               where, "kinetics protocols hold only time-triggered events (time >= t1); "
                                      "state events need a core extension (Scheme events with root finding)")
        assigned = {self.nm(v) for v in self.event_targets}
        if names & assigned:
            raise unsupported(f"event trigger that depends on variables that events change "
                              f"({', '.join(sorted(names & assigned))})", where,
                              "kinetics protocols hold only time-triggered events (time >= t1)")
        if TIME not in cond.free_symbols and isinstance(cond, sympy.logic.boolalg.Boolean):
            # a condition of constants only (e.g. ``p1 > 0``): true or false for good
            cond = cond.xreplace({s: sympy.Float(self.value(s.name)) for s in cond.free_symbols})
        if cond in (sympy.true, sympy.false):
            initially = bool(cond)
            return 0.0 if (initially and not trig.getInitialValue()) else None
        if not isinstance(cond, sympy.core.relational.Relational) or TIME not in cond.free_symbols:
            raise unsupported(f"event trigger `{cond}` (only `time >= t1` and equivalent relations are supported)",
                               where)
        lhs, rhs = cond.lhs, cond.rhs
        op = cond.rel_op
        if rhs == TIME and lhs != TIME:
            lhs, rhs = rhs, lhs
            op = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "==": "==", "!=": "!="}[op]
        if lhs != TIME or TIME in rhs.free_symbols:
            raise unsupported(f"event trigger `{cond}` (only `time >= t1` and equivalent relations are supported)",
                               where)
        c = self._eval(rhs)
        if op in (">=", ">"):
            if c > 0 or (c == 0 and op == ">"):
                return c
            return 0.0 if not trig.getInitialValue() else None
        if op in ("<=", "<"):
            true_at_0 = (0 <= c) if op == "<=" else (0 < c)
            return 0.0 if (true_at_0 and not trig.getInitialValue()) else None
        raise unsupported(f"event trigger `{cond}` (equality with time)", where)

    def state_jump(self, var, expr, t, where, dynamic, current, scale, sp_info):
        nm = self.nm
        sym = sympy.Symbol(nm(var))
        names = {s.name for s in expr.free_symbols}
        other = (names & dynamic) - {nm(var)}
        if other:
            raise unsupported(f"event assignment to `{var}` that depends on other states ({', '.join(sorted(other))})",
                               where)
        if sym in expr.free_symbols:
            amount = sympy.expand(expr - sym)
            if sym in amount.free_symbols:
                raise unsupported(f"event assignment `{var} = {expr}` (only `{var} + a` or a value is supported)",
                                   where)
            mode = "add"
        else:
            amount, mode = expr, "set"
        a = self._eval(amount, overrides=current, t=t)
        state = nm(var)
        if var in sp_info and sp_info[var]["role"] == "amount":
            comp = sp_info[var]["comp"]
            cname = nm(comp)
            if self.comp_role[comp] == "state" or self.comp_role[comp] == "obs":
                raise unsupported(f"event assignment to concentration species `{var}` in compartment `{comp}` "
                                   "whose size is a state", where)
            V = current.get(cname, self.value(cname))
            a = a * V
            state = scale[var][0]
        return state, t, a, mode


def _interact(a, b, triggers: bool = False) -> bool:
    """Whether events ``a`` and ``b`` assign a common variable, or one assigns what the other reads (in its
    assignments, and its trigger with ``triggers``): then the order in which they run changes the result."""
    def assigned(ev):
        return {ev.getEventAssignment(j).getVariable() for j in range(ev.getNumEventAssignments())}

    def read(ev):
        out = ast_names(ev.getTrigger().getMath()) if triggers else set()
        for j in range(ev.getNumEventAssignments()):
            node = ev.getEventAssignment(j).getMath()
            if node is not None:
                out |= ast_names(node)
        return out

    va, vb = assigned(a), assigned(b)
    return bool(va & vb or va & read(b) or vb & read(a))


def _event_components(driven: dict, jump_list: list) -> list:
    """Protocol components: one steps per event-driven name (the last value at a repeated time), one jumps per
    state jump."""
    components = []
    for name, seq in driven.items():
        ts, vs = [], []
        for t, v in seq:
            if ts and ts[-1] == t:
                vs[-1] = v
            else:
                ts.append(t)
                vs.append(v)
        components.append(steps(name, ts, vs))
    for state, t, amount, mode in jump_list:
        components.append(jumps(state, [t], amount, mode=mode))
    return components
