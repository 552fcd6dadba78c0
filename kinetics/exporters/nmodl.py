"""NMODL export: a NEURON point process that ``nrnivmodl`` compiles.

Layout of the mechanism
-----------------------
* ``POINT_PROCESS <name>``; every parameter, observable and non-pulsed input is
  ``RANGE`` (record ``syn._ref_Popen``, set ``syn.Mg = 1.2``).
* Species are ``STATE`` variables. A scheme made only of mass-action reactions
  (of at most :data:`KINETIC_MAX_STATES` states) becomes a ``KINETIC`` block
  (``~ C0 <-> C1 (Rb*glu, Ru)``); anything else (general rate laws, rate
  rules, big schemes, which NEURON compiles slowly as KINETIC) a ``DERIVATIVE``
  block with the derived equations (``block=`` chooses). They are solved with
  ``METHOD sparse``/``derivimplicit`` on fixed steps and as written under CVODE.
  Long expressions are split into ``LOCAL`` temporaries (nocmodl limits lines).
* Observables are ``ASSIGNED`` and computed in ``PROCEDURE observe()`` before
  the rates need them and after each step.
* **Transmitter pulses** use ``NET_RECEIVE``: each pulsed input (by default the
  inputs the protocol drives with :func:`~kinetics.protocol.pulses`, else the
  concentration inputs whose default is 0) has a weight in the NetCon's weight
  vector; an event adds ``weight * <input>_amp`` to the input and a self-event
  ``<input>_width`` later removes it, so overlapping pulses add up exactly as in
  kinetics.
* **Voltage** inputs (unit of a voltage): ``voltage="v"`` (default) reads the
  section's membrane potential ``v``; ``"pointer"`` declares a ``POINTER``;
  ``"parameter"`` a ``RANGE`` parameter (set it from Python). With ``"v"`` the
  observable with a current unit (``current=`` to choose) is written as the
  mechanism's ``NONSPECIFIC_CURRENT i`` in nA (outward positive, NEURON's
  convention, as ``g*(V - E)``).
* Other inputs are ``RANGE`` parameters holding their default.
* Times are NEURON's ms; a scheme in another time unit is rescaled exactly.
* **Events** (:class:`~kinetics.scheme.Event`) use ``WATCH``: the mechanism's ``INITIAL`` block sends itself an
  event (flag :data:`WATCH_FLAG`) that arms one ``WATCH (a > b) 1000+k`` per event; when it fires, the
  assignments run (all values computed before any is set) or, with a delay, ``net_send(delay, 2000+k)``
  schedules them. NEURON can express a trigger that is one relation (``>``/``>=`` become ``>``, ``<``/``<=``
  ``<``: they differ only on the threshold itself), a persistent delay whose assignments are evaluated when the
  event fires (or do not depend on time, states or inputs), no priority and ``initial_value=True``; anything
  else is a :class:`~kinetics.errors.SchemeError` naming the event and why.

Names that are reserved in NMODL or in the C++ NEURON generates (``v``, ``t``,
``i``, ``area``, ``NET_RECEIVE``, ``exp``, ``int``...) are renamed with a
trailing ``_`` (listed in the file header; :class:`~kinetics.exporters.ExportWarning`).

:func:`neuron_script` writes a small Python program that runs the compiled
mechanism in NEURON under a protocol (NetCon events for pulses, CVODE events for
steps of parameters and jumps of states) and saves the states as CSV.

Examples
--------
>>> import kinetics as kx
>>> from kinetics.exporters import export
>>> s = kx.Scheme("two", species=[kx.Species("C", 1.0, "1"), kx.Species("O", 0.0, "1")],
...               parameters=[kx.Parameter("a", 0.072, "1/(mM*ms)"), kx.Parameter("b", 0.0066, "1/ms")],
...               inputs=[kx.Input("glu", 0.0, "mM")], reactions=[kx.reaction("C <-> O", "a*glu", "b")])
>>> mod = export(s, "nmodl")
>>> "NET_RECEIVE" in mod and "~ C <-> O" in mod
True
"""
from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass

import sympy
from sympy.printing.str import StrPrinter

from ..errors import ArgumentError, ProtocolError, SchemeError

#: NET_RECEIVE flag of the self-event that arms the WATCH statements of the events (see the module docstring).
WATCH_FLAG = 999
from ..escape import nmodl_comment
from ..odesystem import derive
from ..protocol import Jumps, Pulses, Steps
from ..units import convert, dimension, parse_unit
from ._common import (GENERATED_BY, all_names, export_schedule, fmt_float, model_unit, parameter_model_values,
                      safe_names)

FORMAT = "nmodl"
SUFFIX = ".mod"
DESCRIPTION = "NEURON point process (KINETIC/DERIVATIVE, NET_RECEIVE pulses); compile with nrnivmodl"

#: NMODL keywords, NEURON built-ins and C/C++ words the generated C++ cannot take as variable names.
RESERVED = frozenset("""
NEURON UNITS PARAMETER ASSIGNED STATE INITIAL BREAKPOINT DERIVATIVE KINETIC NET_RECEIVE SOLVE METHOD CONSERVE
COMPARTMENT LONGITUDINAL_DIFFUSION FUNCTION PROCEDURE LOCAL TABLE DEPEND FROM TO WITH IF ELSE WHILE VERBATIM
ENDVERBATIM COMMENT ENDCOMMENT TITLE INDEPENDENT CONSTANT POINT_PROCESS ARTIFICIAL_CELL SUFFIX RANGE GLOBAL
POINTER BBCOREPOINTER NONSPECIFIC_CURRENT ELECTRODE_CURRENT USEION READ WRITE VALENCE THREADSAFE EXTERNAL
FUNCTION_TABLE LINEAR NONLINEAR PARTIAL DISCRETE MATCH SWEEP STEADYSTATE SENS LAG RESET FOR_NETCONS WATCH
BEFORE AFTER CONSTRUCTOR DESTRUCTOR UNITSON UNITSOFF REPRESENTS RANDOM PLOT INCLUDE DEFINE PROTECT MUTEXLOCK
MUTEXUNLOCK NRNMUTEX CONDUCTANCE SECTION TERMINAL ABSTOL ERROR PRINT OR AND NOT
v t dt i celsius area diam secondorder pi PI FARADAY R e flag weight
exp log log10 sqrt fabs pow floor ceil fmod sin cos tan asin acos atan atan2 sinh cosh tanh erf erfc exprelr
net_send net_event net_move at_time state_discontinuity nrn_random_play hoc_execerror printf fprintf
int long short char float double void signed unsigned const static extern auto register volatile struct union
enum typedef sizeof return if else for while do switch case default break continue goto inline restrict bool
true false new delete class this template typename namespace using public private protected virtual friend
operator try catch throw nullptr NULL main min max abs j0 j1 jn y0 y1 yn
""".split())

#: Largest mass-action scheme written as a KINETIC block by default (bigger ones: DERIVATIVE).
KINETIC_MAX_STATES = 20

#: Longest expression written on one line, and longest line (nocmodl limits lines to ~500 characters).
_MAX_EXPR = 240
_MAX_LINE = 200

#: NMODL/NEURON unit names for kinetics tokens (for the UNITS block; nocmodl does not check units).
_NEURON_UNITS = {"mM": "milli/liter", "uM": "micro/liter", "nM": "nano/liter", "M": "/liter", "pA": "picoamp",
                 "nA": "nanoamp", "uA": "microamp", "mA": "milliamp", "nS": "nanosiemens", "pS": "picosiemens",
                 "uS": "microsiemens", "mS": "millisiemens", "mV": "millivolt", "fC": "femtocoulomb",
                 "pC": "picocoulomb", "pF": "picofarad", "nF": "nanofarad", "um": "micron", "mmol": "millimole",
                 "umol": "micromole"}


def _nmodl_unit(text: str | None) -> str:
    """A unit text in NMODL's form: ``1/(mM*ms)`` -> ``(/mM-ms)``, ``mV/ms`` -> ``(mV/ms)``."""
    if text is None:
        return ""
    powers = parse_unit(text).powers
    if not powers:
        return "(1)"

    def part(items):
        return "-".join(k if e == 1 else f"{k}{e}" for k, e in items)

    num = part([(k, e) for k, e in powers if e > 0])
    den = part([(k, -e) for k, e in powers if e < 0])
    return f"({num}/{den})" if den else f"({num})"


class _Printer(StrPrinter):
    """Expressions in NMODL syntax; piecewise, min/max and steps become FUNCTIONs of the mechanism."""

    def __init__(self, names, functions, helpers=None):
        super().__init__({"full_prec": True})
        self.names = names
        self.functions = functions  # list of FUNCTION blocks (text)
        self._helpers = {} if helpers is None else helpers  # expression -> FUNCTION name

    def _print_Symbol(self, expr):
        return self.names.get(expr.name, expr.name)

    def _print_Float(self, expr):
        return fmt_float(float(expr))

    def _print_Integer(self, expr):
        return str(int(expr))

    def _print_Rational(self, expr):
        return f"({int(expr.p)}/{fmt_float(float(expr.q))})"

    def _print_Pow(self, expr, rational=False):
        base, ex = expr.args
        if ex == -1:
            return f"(1/{self.parenthesize(base, 1000)})"
        if ex == sympy.S.Half:
            return f"sqrt({self._print(base)})"
        return f"{self.parenthesize(base, 1000)}^{self.parenthesize(ex, 1000)}"

    def _print_Exp1(self, expr):
        return "exp(1)"

    def _print_Pi(self, expr):
        return fmt_float(math.pi)

    def _print_Function(self, expr):
        fn = {sympy.exp: "exp", sympy.log: "log", sympy.sin: "sin", sympy.cos: "cos", sympy.tan: "tan",
              sympy.sinh: "sinh", sympy.cosh: "cosh", sympy.tanh: "tanh", sympy.asin: "asin", sympy.acos: "acos",
              sympy.atan: "atan", sympy.floor: "floor", sympy.ceiling: "ceil", sympy.erf: "erf",
              sympy.erfc: "erfc"}
        for cls, name in fn.items():
            if isinstance(expr, cls):
                return f"{name}(" + ", ".join(self._print(a) for a in expr.args) + ")"
        raise SchemeError(f"cannot write `{expr}` in NMODL")

    def _print_Abs(self, expr):
        return f"fabs({self._print(expr.args[0])})"

    def _helper(self, expr):
        """A FUNCTION of the free symbols evaluating ``expr`` (piecewise, min/max, step) with IF/ELSE."""
        args = sorted(expr.free_symbols, key=lambda s: s.name)
        cache = self._helpers
        if expr in cache:
            return f"{cache[expr]}(" + ", ".join(self._print(s) for s in args) + ")"
        self.functions.append(None)  # reserve the name before nested helpers take theirs
        slot = len(self.functions) - 1
        fname = f"nk_f{slot + 1}"
        cache[expr] = fname
        local = {s.name: f"a{k + 1}" for k, s in enumerate(args)}
        inner = _Printer(local, self.functions, self._helpers)
        if isinstance(expr, sympy.Heaviside):
            x = expr.args[0]
            h0 = expr.args[1] if len(expr.args) > 1 else sympy.S.Half
            expr = sympy.Piecewise((1, x > 0), (h0, sympy.Eq(x, 0)), (0, True))
        if isinstance(expr, (sympy.Min, sympy.Max)):
            op = "<" if isinstance(expr, sympy.Min) else ">"
            items = list(expr.args)
            body = [f"    {fname} = {inner._print(items[0])}"]
            for it in items[1:]:
                val = inner._print(it)
                body.append(f"    if ({val} {op} {fname}) {{ {fname} = {val} }}")
        else:
            body = []
            closed = False
            for k, (val, cond) in enumerate(expr.args):
                if cond is sympy.true:
                    if k == 0:
                        body.append(f"    {fname} = {inner._print(val)}")
                        closed = True
                    else:
                        body += ["    } else {", f"        {fname} = {inner._print(val)}"]
                    break
                kw = "if" if k == 0 else "} else if"
                body += [f"    {kw} ({inner._cond(cond)}) {{", f"        {fname} = {inner._print(val)}"]
            else:
                raise SchemeError(f"piecewise `{expr}` has no otherwise value")
            if not closed:
                body.append("    }")
        params = ", ".join(local[s.name] for s in args)
        self.functions[slot] = f"FUNCTION {fname}({params}) {{\n" + "\n".join(body) + "\n}"
        return f"{fname}(" + ", ".join(self._print(s) for s in args) + ")"

    def _cond(self, c):
        if isinstance(c, sympy.core.relational.Relational):
            return f"{self._print(c.lhs)} {c.rel_op} {self._print(c.rhs)}"
        if isinstance(c, sympy.And):
            return " && ".join(f"({self._cond(a)})" for a in c.args)
        if isinstance(c, sympy.Or):
            return " || ".join(f"({self._cond(a)})" for a in c.args)
        if isinstance(c, sympy.Not):
            return f"!({self._cond(c.args[0])})"
        raise SchemeError(f"cannot write the condition `{c}` in NMODL")

    _print_Piecewise = _helper
    _print_Min = _helper
    _print_Max = _helper
    _print_Heaviside = _helper


@dataclass
class _Plan:
    """Every naming and mapping decision of one NMODL export (shared by the mod file and the driver)."""

    scheme: object
    name: str
    names: dict           # scheme name -> NMODL name
    pulsed: tuple         # input names driven by NET_RECEIVE
    voltage_inputs: tuple
    voltage: str
    current: str | None
    amp: dict             # pulsed input -> default amplitude
    width: dict           # pulsed input -> default width (scheme time unit)
    t_per_ms: float       # scheme time units per ms
    v_scale: float        # scheme voltage units per mV
    kinetic: bool = True  # KINETIC block (else DERIVATIVE)


def _mech_name(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_") or "scheme"
    if s[0].isdigit():
        s = "m" + s
    return s


def _plan(scheme, protocol, t_end, name, voltage, current, pulsed, block="auto") -> _Plan:
    schedule = export_schedule(scheme, protocol, t_end)  # validates protocol and t_end
    del schedule
    if voltage not in ("v", "pointer", "parameter"):
        raise ArgumentError(f"`voltage` must be 'v', 'pointer' or 'parameter', got {voltage!r}")
    vdim = dimension("mV")
    cdim = dimension("mM")
    units = scheme.units
    v_inputs = tuple(u.name for u in scheme.inputs if u.unit is not None and dimension(u.unit) == vdim)
    if voltage == "v" and len(v_inputs) > 1:
        raise ArgumentError(f"voltage='v' maps one input to the membrane potential, but scheme `{scheme.name}` has "
                            f"{len(v_inputs)} voltage inputs ({', '.join(v_inputs)}); use voltage='pointer'")
    amp, width = {}, {}
    if pulsed is None:
        if protocol is not None:
            pulsed = tuple(dict.fromkeys(c.input for c in protocol.components if isinstance(c, Pulses)))
        else:
            pulsed = tuple(u.name for u in scheme.inputs
                           if u.default == 0 and u.unit is not None and dimension(u.unit) == cdim)
    pulsed = tuple(pulsed)
    for p in pulsed:
        if p not in scheme.input_names:
            from ..errors import did_you_mean

            raise ArgumentError(f"`pulsed` names `{p}`, which is not an input of scheme `{scheme.name}`"
                                + did_you_mean(p, scheme.input_names))
        if p in v_inputs and voltage == "v":
            raise ArgumentError(f"input `{p}` is a voltage read from `v`; it cannot also be pulsed")
        amp[p], width[p] = 1.0, 1.0
    if protocol is not None:
        for c in protocol.components:
            if isinstance(c, Pulses) and c.input in pulsed:
                w = set(c.width) if isinstance(c.width, tuple) else {c.width}
                if len(w) > 1:
                    raise ProtocolError(f"NMODL export: pulses on `{c.input}` have different widths {sorted(w)}; "
                                        "NET_RECEIVE uses one width per input")
                width[c.input] = float(next(iter(w)))
                a = set(c.amplitude) if isinstance(c.amplitude, tuple) else {c.amplitude}
                if len(a) == 1:
                    amp[c.input] = float(next(iter(a)))
    t_per_ms = convert(1.0, "ms", units.time)
    v_scale = convert(1.0, "mV", units.voltage)
    if current is None and voltage == "v" and v_inputs:
        cur = [o.name for o in scheme.observables if o.unit is not None and dimension(o.unit) == dimension("pA")]
        current = cur[0] if len(cur) == 1 else None
    elif current is not None and current not in scheme.observable_names:
        raise ArgumentError(f"`current` must name an observable of scheme `{scheme.name}`, got {current!r}")
    mech = _mech_name(name or scheme.name)
    taken = {mech, "observe", "kin", "deriv", "i"} | {f"{p}_amp" for p in pulsed} | {f"{p}_width" for p in pulsed}
    names = safe_names(all_names(scheme), RESERVED, "NMODL", taken=taken)
    # nocmodl names the derivative of X `DX` (and may take any assigned name for a state): no name may be
    # `D` + another name
    states = set(names.values())
    used = set(names.values()) | taken
    clash = [k for k, v in names.items() if v.startswith("D") and v[1:] in states]
    for k in clash:
        new = names[k] + "_"
        while new in used or new in RESERVED or (new.startswith("D") and new[1:] in states):
            new += "_"
        used.add(new)
        names[k] = new
    # nocmodl keeps the initial value of STATE X in a variable `X0`: it must not be another name or a libm name
    for k in scheme.species_names:
        while names[k] + "0" in used or names[k] + "0" in RESERVED:
            old_name = names[k]
            new = old_name + "_"
            while new in used or new in RESERVED:
                new += "_"
            used.add(new)
            names[k] = new
            clash.append(k)
    if clash:
        from ._common import warn

        warn("NMODL export renamed identifiers that clash with names nocmodl generates (D<name> for "
             "derivatives, <state>0 for initial values): " + ", ".join(f"`{k}` -> `{names[k]}`" for k in clash))
    if voltage == "v" and v_inputs:
        names[v_inputs[0]] = "v"
    if block not in ("auto", "kinetic", "derivative"):
        raise ArgumentError(f"`block` must be 'auto', 'kinetic' or 'derivative', got {block!r}")
    mass_action = all(r.rate is None for r in scheme.reactions) and not scheme.rate_rules
    if block == "kinetic" and not mass_action:
        raise ArgumentError(f"block='kinetic' needs mass-action reactions only; scheme `{scheme.name}` has general "
                            "rate laws or rate rules (use 'derivative')")
    kinetic = mass_action if block == "kinetic" else (mass_action and len(scheme.species) <= KINETIC_MAX_STATES
                                                      if block == "auto" else False)
    return _Plan(scheme, mech, names, pulsed, v_inputs, voltage, current, amp, width, t_per_ms, v_scale, kinetic)


def export(scheme, *, protocol=None, t_end=None, name: str | None = None, voltage: str = "v",
           current: str | None = None, pulsed=None, block: str = "auto") -> str:
    """NMODL text of a NEURON point process for the scheme.

    Parameters
    ----------
    protocol, t_end : optional
        A protocol decides which inputs are pulsed (its :func:`pulses`) and their
        default amplitude and width; it is checked to be representable.
    name : str, optional
        Mechanism name (default: the scheme name made an identifier).
    voltage : {"v", "pointer", "parameter"}
        How voltage inputs are supplied (see the module docstring).
    current : str, optional
        Observable written as ``NONSPECIFIC_CURRENT`` with ``voltage="v"``
        (default: the only observable with a current unit).
    pulsed : sequence of str, optional
        Inputs driven by NET_RECEIVE (default: see the module docstring).
    block : {"auto", "kinetic", "derivative"}
        ``"auto"``: KINETIC for mass-action schemes of at most
        :data:`KINETIC_MAX_STATES` states (NEURON compiles large KINETIC
        blocks slowly), else DERIVATIVE.
    """
    _check_events(scheme)
    plan = _plan(scheme, protocol, t_end, name, voltage, current, pulsed, block)
    return _ModWriter(plan).text()


_WATCH_RELATIONS = {sympy.StrictGreaterThan: ">", sympy.GreaterThan: ">", sympy.StrictLessThan: "<",
                    sympy.LessThan: "<"}


def _check_events(scheme) -> None:
    """Raise :class:`SchemeError` for an event NEURON's WATCH/NET_RECEIVE cannot express."""
    for ev in getattr(scheme, "events", ()):
        where = f"NMODL export of scheme `{scheme.name}`: event `{ev.name}`"
        if type(ev.trigger) not in _WATCH_RELATIONS:
            raise SchemeError(f"{where} has the trigger `{ev.trigger}`; NEURON's WATCH takes one relation "
                              f"(a > b or a < b), not and/or/not of several: split it into events of one relation")
        if ev.priority is not None:
            raise SchemeError(f"{where} has a priority, which NEURON cannot express (it orders events by time)")
        if not ev.initial_value:
            raise SchemeError(f"{where} has initial_value=False (fire at t0 if the trigger holds), which WATCH "
                              f"cannot express (it fires on a crossing only)")
        if ev.delay is not None:
            if not ev.persistent:
                raise SchemeError(f"{where} is delayed and not persistent; a net_send self-event cannot be "
                                  f"cancelled when the trigger turns false")
            varying = {"t", *scheme.species_names, *scheme.input_names, *scheme.observable_names}
            if ev.delay.free_symbols & {sympy.Symbol(x) for x in varying}:
                raise SchemeError(f"{where} has a delay that depends on time, states, inputs or observables; "
                                  f"NMODL export needs a delay of numbers and parameters")
            if ev.use_values_from_trigger_time and any(
                    e.free_symbols & {sympy.Symbol(x) for x in varying} for _, e in ev.assignments):
                raise SchemeError(f"{where} is delayed with assignments evaluated at the trigger time that depend "
                                  f"on time, states or inputs; NEURON evaluates them when the event fires "
                                  f"(use_values_from_trigger_time=False)")


class _ModWriter:
    def __init__(self, plan: _Plan):
        self.plan = plan
        self.functions = []
        self.printer = _Printer(plan.names, self.functions)
        self.n_locals = 0

    def prep(self, e, rate=False):
        """Substitute NEURON's time (and voltage) scales; a rate (per scheme time) becomes per ms."""
        p = self.plan
        e = sympy.sympify(e)
        subs = {}
        if p.t_per_ms != 1.0 and e.has(sympy.Symbol("t")):
            subs[sympy.Symbol("t")] = sympy.Float(p.t_per_ms) * sympy.Symbol("t")
        if p.voltage == "v" and p.voltage_inputs and p.v_scale != 1.0:
            vn = p.voltage_inputs[0]
            subs[sympy.Symbol(vn)] = sympy.Float(p.v_scale) * sympy.Symbol(vn)
        if subs:
            e = e.xreplace(subs)
        if rate and p.t_per_ms != 1.0:
            e = sympy.Float(p.t_per_ms) * e
        return e

    def short(self, e, block) -> str:
        """NMODL text of ``e``, moving parts into LOCAL temporaries of ``block`` so that no line is too long.

        nocmodl rejects lines over ~500 characters and truncates long expressions it generates from them.
        """
        text = self.printer.doprint(e)
        if len(text) <= _MAX_EXPR or not e.args:
            return text
        big = {a: sympy.Symbol(self.local(a, block)) for a in e.args
               if a.args and len(self.printer.doprint(a)) > _MAX_EXPR // 2}
        if big:
            return self.short(e.xreplace(big), block)
        if isinstance(e, (sympy.Add, sympy.Mul)):
            # many short terms or factors: sum (multiply) them in groups
            groups, cur, size = [], [], 0
            for a in e.args:
                t = len(self.printer.doprint(a)) + 3
                if cur and size + t > _MAX_EXPR // 2:
                    groups.append(cur)
                    cur, size = [], 0
                cur.append(a)
                size += t
            groups.append(cur)
            parts = [sympy.Symbol(self.local(e.func(*g), block)) for g in groups]
            return self.short(e.func(*parts), block)
        return text

    def local(self, e, block) -> str:
        """Assign ``e`` to a new LOCAL variable of ``block`` (a dict with "locals" and "lines"); its name."""
        text = self.short(e, block)
        self.n_locals += 1
        name = f"nk_l{self.n_locals}"
        block["locals"].append(name)
        block["lines"].append(f"    {name} = {text}")
        return name

    def statement(self, target, e, block, rate=False, fmt="{target} = {value}"):
        value = self.short(self.prep(e, rate), block)
        block["lines"].append("    " + fmt.format(target=target, value=value))

    @staticmethod
    def emit(header, block, footer="}"):
        out = [header]
        for k in range(0, len(block["locals"]), 10):
            out.append("    LOCAL " + ", ".join(block["locals"][k:k + 10]))
        out += block["lines"]
        out += [footer, ""]
        return out

    def text(self) -> str:
        p = self.plan
        s = p.scheme
        n = p.names
        units = s.units
        pvals = parameter_model_values(s)
        mass_action = self.plan.kinetic
        lines = []
        if s.description:
            lines.append(s.description)
        if s.reference:
            lines.append(f"Reference: {s.reference}")
        lines += [f"Generated by {GENERATED_BY} from scheme `{s.name}` (units {units}).",
                  "Species are STATE variables (values in the scheme's units; times in ms)."]
        if p.pulsed:
            lines.append("Transmitter pulses: each NetCon event adds weight[k]*<input>_amp to pulsed input k for "
                         "<input>_width ms. NetCon weight order: " + ", ".join(n[x] for x in p.pulsed) + ".")
        if p.voltage_inputs:
            how = {"v": "the membrane potential v", "pointer": "a POINTER (h.setpointer)",
                   "parameter": "a RANGE parameter"}[p.voltage]
            lines.append("Voltage input(s) " + ", ".join(p.voltage_inputs) + f" read from {how}.")
        if p.current:
            lines.append(f"NONSPECIFIC_CURRENT i = {n[p.current]} converted to nA (outward positive).")
        renamed = [f"  {a} -> {b}" for a, b in n.items() if a != b and b != "v"]
        if renamed:
            lines.append("Renamed (reserved words in NMODL/C++):")
            lines += renamed
        if s.parameters:
            lines.append("Parameters (declared value and unit; source):")
            for par in s.parameters:
                src = "; ".join(x for x in (par.reference, par.note) if x)
                text = f"{n[par.name]} = {fmt_float(par.value)} {par.unit}" + (f"; {src}" if src else "")
                lines.append("  " + text)
        comment = []
        for line in lines:  # short lines, each escaped: nothing ends the comment early or opens a VERBATIM block
            indent = line[:len(line) - len(line.lstrip(" "))]
            comment += textwrap.wrap(indent + nmodl_comment(line), 100, subsequent_indent="      ") or [""]
        lines = [f"TITLE {nmodl_comment(s.name)} (exported by {GENERATED_BY})"[:_MAX_LINE], "", "COMMENT"] + comment
        lines += ["ENDCOMMENT", ""]

        v_set = set(p.voltage_inputs)
        pointer_inputs = [u for u in s.input_names if u in v_set and p.voltage == "pointer"]
        param_inputs = [u for u in s.input_names if u not in p.pulsed and not (u in v_set and p.voltage != "parameter")]
        ranges = [n[x] for x in s.parameter_names] + [n[x] for x in param_inputs] + [n[x] for x in p.pulsed]
        ranges += [f"{n[x]}_amp" for x in p.pulsed] + [f"{n[x]}_width" for x in p.pulsed]
        ranges += [n[x] for x in s.observable_names]
        lines += ["NEURON {", f"    POINT_PROCESS {p.name}"]
        for k in range(0, len(ranges), 8):
            lines.append("    RANGE " + ", ".join(ranges[k:k + 8]))
        if pointer_inputs:
            lines.append("    POINTER " + ", ".join(n[x] for x in pointer_inputs))
        if p.current:
            lines.append("    NONSPECIFIC_CURRENT i")
        if not pointer_inputs:
            lines.append("    THREADSAFE")
        lines += ["}", ""]
        used = set()
        for text in [model_unit(x.unit, units) for x in s.parameters] + [units.current, units.voltage,
                                                                         units.concentration]:
            used |= {k for k, _ in parse_unit(text).powers}
        lines.append("UNITS {")
        for tok in sorted(used):
            if tok in _NEURON_UNITS and tok not in ("ms",):
                lines.append(f"    ({tok}) = ({_NEURON_UNITS[tok]})")
        lines += ["}", ""]

        lines.append("PARAMETER {")
        for par in s.parameters:
            mu = model_unit(par.unit, units)
            lines.append(f"    {n[par.name]} = {fmt_float(pvals[par.name])} {_nmodl_unit(mu)} : "
                         + nmodl_comment(f"{fmt_float(par.value)} {par.unit}")[:_MAX_LINE])
        for u in s.inputs:
            if u.name in param_inputs:
                mu = model_unit(u.unit, units) if u.unit else None
                lines.append((f"    {n[u.name]} = {fmt_float(u.default)} {_nmodl_unit(mu)} : input" +
                              (f"; {nmodl_comment(u.note)}" if u.note else ""))[:_MAX_LINE])
        for u in p.pulsed:
            mu = model_unit(s.get_input(u).unit, units) if s.get_input(u).unit else None
            lines.append(f"    {n[u]}_amp = {fmt_float(p.amp[u])} {_nmodl_unit(mu)} : pulse amplitude per unit weight")
            lines.append(f"    {n[u]}_width = {fmt_float(p.width[u] / p.t_per_ms)} (ms) : pulse duration")
        lines += ["}", ""]

        lines.append("ASSIGNED {")
        if p.voltage == "v" and p.voltage_inputs:
            lines.append("    v (mV)")
        if p.current:
            lines.append("    i (nA)")
        for u in s.inputs:
            if u.name in p.pulsed or u.name in pointer_inputs:
                mu = model_unit(u.unit, units) if u.unit else None
                lines.append(f"    {n[u.name]} {_nmodl_unit(mu)}")
        for o in s.observables:
            mu = model_unit(o.unit, units) if o.unit else None
            lines.append(f"    {n[o.name]} {_nmodl_unit(mu)}")
        lines += ["}", ""]

        lines.append("STATE {")
        for sp in s.species:
            lines.append(f"    {n[sp.name]}")
        lines += ["}", ""]

        lines.append("INITIAL {")
        for u in p.pulsed:
            lines.append(f"    {n[u]} = {fmt_float(s.get_input(u).default)}")
        for sp in s.species:
            lines.append(f"    {n[sp.name]} = {fmt_float(sp.initial)}")
        lines.append("    observe()")
        if s.events:
            lines.append(f"    net_send(0, {WATCH_FLAG})  : arms the WATCH statements of the events")
        if p.current:
            lines.append(f"    i = {self.current_expr()}")
        lines += ["}", ""]

        lines.append("BREAKPOINT {")
        if mass_action:
            lines.append("    SOLVE kin METHOD sparse")
        else:
            lines.append("    SOLVE deriv METHOD derivimplicit")
        lines.append("    observe()")
        if p.current:
            lines.append(f"    i = {self.current_expr()}")
        lines += ["}", ""]

        block = {"locals": [], "lines": []}
        for name in s.observable_order():
            self.statement(n[name], s.get_observable(name).expr, block)
        lines += self.emit("PROCEDURE observe() {", block)

        block = {"locals": [], "lines": ["    observe()"]}
        if mass_action:
            for r in s.reactions:
                def side(pairs):
                    return " + ".join((f"{c}{n[x]}" if c != 1 else n[x]) for x, c in pairs)
                if not r.reactants or not r.products:
                    # sources and sinks: write the net flux into each species
                    flux = r.flux()
                    for x, c in r.reactants:
                        self.statement(n[x], -c * flux, block, rate=True, fmt="~ {target} << ({value})")
                    for x, c in r.products:
                        self.statement(n[x], c * flux, block, rate=True, fmt="~ {target} << ({value})")
                else:
                    kf = self.short(self.prep(r.forward, True), block)
                    kr = self.short(self.prep(r.reverse, True), block) if r.reverse is not None else "0"
                    block["lines"].append(f"    ~ {side(r.reactants)} <-> {side(r.products)} ({kf}, {kr})")
            lines += self.emit("KINETIC kin {", block)
        else:
            for sp, e in zip(s.species_names, derive(s).rhs_with_observables):
                self.statement(f"{n[sp]}'", e, block, rate=True)
            lines += self.emit("DERIVATIVE deriv {", block)

        if p.pulsed or s.events:
            args = ", ".join(f"w_{n[u]}" for u in p.pulsed) or "w_event"
            branches = []
            if p.pulsed:
                body = []
                for k, u in enumerate(p.pulsed):
                    body += [f"    if (w_{n[u]} != 0) {{", f"        {n[u]} = {n[u]} + w_{n[u]}*{n[u]}_amp",
                             f"        net_send({n[u]}_width, {k + 1})", "    }"]
                branches.append(("flag == 0", body))
                for k, u in enumerate(p.pulsed):
                    branches.append((f"flag == {k + 1}", [f"    {n[u]} = {n[u]} - w_{n[u]}*{n[u]}_amp"]))
            ev_locals = []
            if s.events:
                watch = []
                for k, ev in enumerate(s.events):
                    c = ev.trigger
                    watch.append(f"    WATCH ({self.printer.doprint(self.prep(c.lhs))} {_WATCH_RELATIONS[type(c)]} "
                                 f"{self.printer.doprint(self.prep(c.rhs))}) {1000 + k}  : event {ev.name}")
                branches.append((f"flag == {WATCH_FLAG}", watch))
                for k, ev in enumerate(s.events):
                    assign = []
                    for j, (target, e) in enumerate(ev.assignments):
                        ev_locals.append(f"nk_e{k}_{j}")
                        assign.append(f"    nk_e{k}_{j} = {self.printer.doprint(self.prep(e))}")
                    assign += [f"    {n[target]} = nk_e{k}_{j}" for j, (target, _) in enumerate(ev.assignments)]
                    if ev.delay is None:
                        branches.append((f"flag == {1000 + k}", assign))
                    else:
                        delay_ms = self.printer.doprint(self.prep(ev.delay / sympy.Float(p.t_per_ms)))
                        branches.append((f"flag == {1000 + k}", [f"    net_send({delay_ms}, {2000 + k})"]))
                        branches.append((f"flag == {2000 + k}", assign))
            lines.append(f"NET_RECEIVE({args}) {{")
            for k in range(0, len(ev_locals), 10):
                lines.append("    LOCAL " + ", ".join(ev_locals[k:k + 10]))
            if p.pulsed:
                # with an INITIAL block, finitialize keeps the NetCon weights after the first (else it zeroes them)
                lines.append("    INITIAL { " + " ".join(f"w_{n[u]} = w_{n[u]}" for u in p.pulsed) + " }")
            for k, (cond, body) in enumerate(branches):
                lines.append(f"    {'if' if k == 0 else '} else if'} ({cond}) {{")
                lines += ["    " + b for b in body]
            lines.append("    }")
            lines += ["}", ""]
        lines += self.functions
        return "\n".join(lines).rstrip() + "\n"

    def current_expr(self) -> str:
        p = self.plan
        f = convert(1.0, p.scheme.units.current, "nA")
        return f"{fmt_float(f)}*{p.names[p.current]}"


# --------------------------------------------------------------------------- NEURON driver
def neuron_script(scheme, protocol=None, *, t_end: float, t_eval, mod_dir: str, csv: str,
                  name: str | None = None, voltage: str = "v", current: str | None = None, pulsed=None,
                  rtol: float = 1e-8, atol: float = 1e-10, clamp: bool = False) -> str:
    """Python source that runs the exported mechanism in NEURON under ``protocol`` and writes a CSV.

    The mechanism must have been exported with the same ``name``, ``voltage``,
    ``current`` and ``pulsed`` options and compiled with ``nrnivmodl`` in
    ``mod_dir``. The CSV has ``time`` and every species (and ``i`` in nA when the
    mechanism writes a current). CVODE with ``rtol``/``atol`` integrates;
    transmitter pulses are NetCon events, steps of parameter inputs and jumps of
    species are CVODE events (the integrator is re-initialised at each).
    With ``voltage="v"`` and ``clamp=True`` an SEClamp holds the section at the
    voltage input's default (or its single step value from t = 0).

    Raises
    ------
    ProtocolError
        For protocol components NEURON cannot reproduce with this mechanism
        (waveforms, ramps, wash-in, steps of a pulsed input or of ``v`` after t = 0).
    """
    plan = _plan(scheme, protocol, t_end, name, voltage, current, pulsed)
    n = plan.names
    t_scale = 1.0 / plan.t_per_ms  # ms per scheme time unit
    pulses_by = {}   # (input, amplitude) -> times (ms)
    step_events, jump_events, v_hold = [], [], None
    comps = protocol.components if protocol is not None else ()
    for c in comps:
        if isinstance(c, Pulses):
            if c.input not in plan.pulsed:
                raise ProtocolError(f"NEURON driver: pulses on `{c.input}`, which the mechanism does not pulse")
            amps = c.amplitude if isinstance(c.amplitude, tuple) else (c.amplitude,) * len(c.times)
            for t, a in zip(c.times, amps):
                pulses_by.setdefault((c.input, float(a)), []).append(float(t) * t_scale)
        elif isinstance(c, Steps):
            if c.input in plan.pulsed:
                raise ProtocolError(f"NEURON driver: steps on pulsed input `{c.input}` are not supported")
            if c.input in plan.voltage_inputs and plan.voltage == "v":
                if len(c.times) != 1 or c.times[0] > 0:
                    raise ProtocolError("NEURON driver: with voltage='v' only a holding step at t <= 0 is supported "
                                        f"on `{c.input}`")
                v_hold = float(c.values[0]) / plan.v_scale
                continue
            for t, v in zip(c.times, c.values):
                step_events.append((float(t) * t_scale, n[c.input], float(v), "set_input"))
        elif isinstance(c, Jumps):
            amounts = c.amount if isinstance(c.amount, tuple) else (c.amount,) * len(c.times)
            for t, a in zip(c.times, amounts):
                jump_events.append((float(t) * t_scale, n[c.species], float(a), c.mode))
        else:
            raise ProtocolError(f"NEURON driver: {type(c).__name__.lower()} components cannot be reproduced by "
                                "the exported mechanism (use pulses, steps of parameter inputs, jumps)")
    if voltage == "v" and plan.voltage_inputs and v_hold is None:
        v_hold = scheme.get_input(plan.voltage_inputs[0]).default / plan.v_scale
    states = [n[x] for x in scheme.species_names]
    t_eval_ms = [float(x) * t_scale for x in t_eval]
    weights = {u: k for k, u in enumerate(plan.pulsed)}
    lines = [
        f"# NEURON driver for mechanism {plan.name} (generated by {GENERATED_BY})",
        "import numpy as np",
        "import neuron",
        "from neuron import h",
        f"if not hasattr(h, {plan.name!r}):  # NEURON loads ./x86_64 by itself when run from mod_dir",
        f"    neuron.load_mechanisms({mod_dir!r})",
        "h.load_file('stdrun.hoc')",
        "sec = h.Section(name='soma')",
        "sec.L = sec.diam = 10.0",
        f"syn = h.{plan.name}(sec(0.5))",
        "h.cvode.active(1)",
        f"h.cvode.rtol({rtol!r})",
        f"h.cvode.atol({atol!r})",
    ]
    if voltage == "v" and plan.voltage_inputs and clamp:
        lines += ["clamp = h.SEClamp(sec(0.5))", "clamp.rs = 1e-6", "clamp.dur1 = 1e9", f"clamp.amp1 = {v_hold!r}"]
    lines += [f"tvec = h.Vector({t_eval_ms!r})", "recs = {}"]
    for sp_name, st in zip(scheme.species_names, states):  # columns named as in the scheme
        lines.append(f"recs[{sp_name!r}] = h.Vector().record(syn._ref_{st}, tvec)")
    if plan.current:
        lines.append("recs['i'] = h.Vector().record(syn._ref_i, tvec)")
    nets = []
    for k, ((inp, amp), times) in enumerate(sorted(pulses_by.items())):
        w = [0.0] * len(plan.pulsed)
        w[weights[inp]] = amp / plan.amp[inp]
        lines.append(f"nc{k} = h.NetCon(None, syn)")
        for j, x in enumerate(w):
            lines.append(f"nc{k}.weight[{j}] = {x!r}")
        nets.append((f"nc{k}", sorted(times)))
    lines.append("def _events():")
    for var, times in nets:
        lines.append(f"    for tk in {times!r}:")
        lines.append(f"        {var}.event(tk)")
    for t, target, value, kind in step_events + jump_events:
        if t <= 0 and kind == "set_input":
            lines.append(f"    syn.{target} = {value!r}")
            continue
        if kind == "set_input" or kind == "set":
            body = f"setattr(syn, {target!r}, {value!r})"
        else:
            body = f"setattr(syn, {target!r}, getattr(syn, {target!r}) + {value!r})"
        lines.append(f"    h.cvode.event({t!r}, lambda: ({body}, h.cvode.re_init()))")
    lines.append("    pass")
    v0 = v_hold if v_hold is not None else -65.0
    lines += [
        "fih = h.FInitializeHandler(0, _events)",
        f"h.finitialize({v0!r})",
        "# CVODE takes a sample once time passes it: integrate a hair beyond the last one",
        f"h.cvode.solve({t_eval_ms[-1] + 1e-9 * max(1.0, abs(t_eval_ms[-1]))!r})",
        "cols = ['time'] + list(recs)",
        f"data = np.column_stack([np.array(tvec) / {t_scale!r}] + [np.array(v) for v in recs.values()])",
        f"np.savetxt({csv!r}, data, delimiter=',', header=','.join(cols), comments='')",
    ]
    return "\n".join(lines) + "\n"
