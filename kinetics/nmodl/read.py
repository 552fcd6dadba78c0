"""Build a :class:`~kinetics.scheme.Scheme` (and a protocol factory) from a parsed .mod file."""
from __future__ import annotations

import heapq
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import sympy

from ..errors import ArgumentError, ParseError, ProtocolError, SchemeError, did_you_mean
from ..protocol import Protocol, jumps, steps
from ..scheme import Input, Observable, Parameter, RateRule, Reaction, Scheme, Species, check_name, name_from_text
from ..units import UnitSystem, conversion_factor, parse_unit, unit_kind
from ._interp import Executor, Sink
from ._parser import parse_nmodl
from ._units import nmodl_unit

#: NEURON's default values of the variables a mechanism may read (mV, mM, degC); ``v`` is ``v_init``.
NEURON_DEFAULTS = {"v": -65.0, "celsius": 6.3, "cai": 5e-5, "cao": 2.0, "nai": 10.0, "nao": 140.0, "ki": 54.4,
                   "ko": 2.5, "ena": 50.0, "ek": -77.0, "eca": 132.4579341637009, "cli": 0.0, "clo": 0.0}
_NEURON_GLOBALS = {"dt", "area", "diam", "secondorder", "nrn_ghk"}


@dataclass(frozen=True)
class NmodlModel:
    """An imported NMODL mechanism: the scheme, and how its NET_RECEIVE block turns events into a protocol.

    Attributes
    ----------
    scheme : Scheme
    mechanism : str
        The POINT_PROCESS or SUFFIX name.
    point_process : bool
    currents : tuple of str
        Observables that are the mechanism's currents (NONSPECIFIC_CURRENT, ion currents written),
        in nA for a point process and mA/cm2 for a density mechanism, as NEURON reports them.
    pointers : tuple of str
        POINTER variables (inputs the user drives, e.g. transmitter from a release mechanism).
    renamed : dict
        NMODL name -> scheme name, for names that are reserved in kinetics (``e`` -> ``e_``).
    source : str or None
    """

    scheme: Scheme
    mechanism: str
    point_process: bool
    currents: tuple
    pointers: tuple
    renamed: dict
    source: str | None
    _mod: object = field(repr=False, compare=False, default=None)
    _known: frozenset = field(repr=False, compare=False, default=frozenset())
    _initial: dict = field(repr=False, compare=False, default_factory=dict)

    @property
    def has_events(self) -> bool:
        """Whether the mechanism has a NET_RECEIVE block (and so a :meth:`protocol`)."""
        return self._mod.net_receive is not None

    def protocol(self, times, weight: float = 1.0, params=None) -> Protocol:
        """The protocol of NetCon events at ``times`` (ms) with ``weight``, as NET_RECEIVE defines it.

        NET_RECEIVE is run on the events (and the self-events it sends with ``net_send``), in time order:
        assignments to inputs (the transmitter ``C = Cmax``, ``scale = weight``) become steps of those
        inputs, increments of states (``A = A + weight*factor``) become jumps.

        Parameters
        ----------
        times : array_like of float
            Event times.
        weight : float
            The NetCon weight (the NET_RECEIVE argument).
        params : mapping, optional
            Parameter values other than the scheme's (as for :func:`kinetics.simulate`).

        Returns
        -------
        Protocol

        Raises
        ------
        ProtocolError
            No NET_RECEIVE block, or one this reader cannot turn into steps and jumps (the message
            names the construct and line).

        Examples
        --------
        The ``Cdur`` pattern: each event steps the transmitter ``C`` to ``Cmax`` for ``Cdur`` ms.

        >>> import tempfile, pathlib
        >>> mod = '''
        ... NEURON { POINT_PROCESS Syn  NONSPECIFIC_CURRENT i }
        ... PARAMETER { Cmax = 1 (mM)  Cdur = 0.3 (ms)  kon = 1 (/ms mM)  koff = 0.5 (/ms) }
        ... ASSIGNED { v (mV)  i (nA)  C (mM) }
        ... STATE { R  O }
        ... INITIAL { R = 1  C = 0 }
        ... BREAKPOINT { SOLVE kin METHOD sparse  i = O*v }
        ... KINETIC kin { ~ R <-> O (kon*C, koff) }
        ... NET_RECEIVE(weight) {
        ...     if (flag == 0) { C = Cmax  net_send(Cdur, 1) } else { C = 0 }
        ... }
        ... '''
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "cdur.mod"
        >>> _ = path.write_text(mod)
        >>> pulse = read_nmodl_model(path).protocol([10.0, 50.0]).components[0]
        >>> pulse.target, pulse.times, pulse.values
        ('C', (10.0, 10.3, 50.0, 50.3), (1.0, 0.0, 1.0, 0.0))
        """
        mod = self._mod
        if mod.net_receive is None:
            raise ProtocolError(f"mechanism `{self.mechanism}` has no NET_RECEIVE block; drive its inputs "
                                f"({', '.join(self.scheme.input_names)}) with a Protocol directly")
        block = mod.net_receive
        if len(block.args) != 1:
            raise ProtocolError(f"{self.source}:{block.line}: NET_RECEIVE with {len(block.args)} arguments; "
                                "only NET_RECEIVE(weight) is supported")
        values = dict(self._initial)
        for p in self.scheme.parameters:
            values[self._nmodl_name(p.name)] = sympy.Float(p.value)
        for k, v in (params or {}).items():
            if k not in self.scheme.parameter_names:
                raise ProtocolError(f"unknown parameter `{k}` of `{self.mechanism}`")
            values[self._nmodl_name(k)] = sympy.Float(float(v))
        inputs = {self._nmodl_name(n): n for n in self.scheme.input_names}
        states = {self._nmodl_name(n): n for n in self.scheme.species_names}
        for s in states:
            values[s] = sympy.Symbol(s)
        step_values: dict = {}
        jump_list: list = []
        now = [0.0]

        def on_assign(name, value, line):
            if name in states:
                value = sympy.sympify(value)
                inc = sympy.expand(value - sympy.Symbol(name))
                if not (inc.free_symbols & {sympy.Symbol(s) for s in states}):
                    jump_list.append((states[name], now[0], float(inc), "add"))
                elif not (value.free_symbols & {sympy.Symbol(s) for s in states}):
                    jump_list.append((states[name], now[0], float(value), "set"))
                else:
                    raise ProtocolError(f"{self.source}:{line}: NET_RECEIVE sets state `{name}` to a value that "
                                        "depends on the states; not supported")
                return True
            if name in inputs:
                step_values.setdefault(inputs[name], {})[now[0]] = float(value)
            return False

        ex = Executor(mod, self._known, numeric=True, source=self.source, context="NET_RECEIVE")
        queue = [(float(t), i, 0.0) for i, t in enumerate(sorted(float(x) for x in times))]
        heapq.heapify(queue)
        counter = len(queue)
        while queue:
            t, _, flag = heapq.heappop(queue)
            now[0] = t
            sink = Sink(on_assign=on_assign)
            glob = dict(values)
            glob["t"] = sympy.Float(t)
            try:
                ex.execute(block.body, ({block.args[0]: sympy.Float(weight), "flag": sympy.Float(flag)}, glob),
                           sink)
            except ParseError as exc:
                raise ProtocolError(str(exc)) from None
            glob.pop("t")
            values = glob
            for delay, fl, _line in sink.sends:
                counter += 1
                heapq.heappush(queue, (t + float(delay), counter, float(fl)))
            if counter > 100000:
                raise ProtocolError("NET_RECEIVE sends more than 100000 events")
        comps = []
        for name, seq in step_values.items():
            ts = sorted(seq)
            comps.append(steps(name, ts, [seq[t] for t in ts]))
        for species, t, amount, mode in jump_list:
            comps.append(jumps(species, [t], amount, mode=mode))
        return Protocol(comps)

    def _nmodl_name(self, name):
        for k, v in self.renamed.items():
            if v == name:
                return k
        return name


def _scheme_name(name: str, taken: set) -> str:
    out = name
    while True:
        try:
            if check_name(out) == out and out not in taken:
                return out
        except SchemeError:
            pass
        out += "_"


class _Builder:
    def __init__(self, mod, source, inputs):
        self.mod = mod
        self.source = source
        self.given = dict(inputs or {})
        self.input_defaults = dict(NEURON_DEFAULTS)
        self.input_defaults.update(self.given)

    def error(self, message, line=None):
        return ParseError(message, line=line, source=self.source)

    def build(self) -> NmodlModel:
        mod = self.mod
        params = {d.name: d for d in mod.parameters + mod.constants if d.name not in {"v"} | _NEURON_GLOBALS}
        states = {d.name: d for d in mod.states}
        assigned = {d.name: d for d in mod.assigned if d.name not in params and d.name not in states}
        ion_read, currents = [], list(mod.nonspecific)
        for ion, read, write, line in mod.ions:
            ion_read.extend(read)
            for w in write:
                if not w.startswith("i"):
                    raise self.error(f"unsupported NMODL construct `USEION {ion} WRITE {w}` (only ion currents "
                                     "may be written)", line)
                currents.append(w)
        known = set(params) | set(states) | set(assigned) | set(mod.pointers) | set(ion_read) | {"v", "celsius"}
        known |= set(currents)
        for name in self.given:
            if name not in known and name not in NEURON_DEFAULTS:
                raise ArgumentError(f"inputs: `{name}` is not a variable of mechanism `{mod.mechanism}`"
                                    + did_you_mean(name, sorted(known | set(NEURON_DEFAULTS))))

        # ---- INITIAL, numerically
        base = {}
        for name, d in params.items():
            base[name] = parse_value(d, self.source)
        if "celsius" not in params:
            base["celsius"] = sympy.Float(self.input_defaults["celsius"])
        elif params["celsius"].value is None:
            base["celsius"] = sympy.Float(self.input_defaults["celsius"])
        for name in set(states) | set(assigned) | set(mod.pointers) | set(currents):
            base[name] = sympy.Float(self.input_defaults.get(name, 0.0))
        for name in set(ion_read) | {"v"}:
            if name not in self.input_defaults:
                raise self.error(f"no default value for `{name}`; pass it in `inputs`")
            base[name] = sympy.Float(self.input_defaults[name])
        init = dict(base)
        if mod.initial is not None:
            sink = Sink()
            Executor(mod, known, numeric=True, source=self.source, context="INITIAL",
                     constants=frozenset(params) | {"celsius"}).execute(
                mod.initial, ({}, init), sink)
            for name in params:
                if name in sink.assigned_lines and init[name] != base[name]:
                    raise self.error(f"unsupported NMODL construct: INITIAL changes PARAMETER `{name}`",
                                     sink.assigned_lines[name])

        # ---- BREAKPOINT, symbolically
        if mod.breakpoint is None:
            raise self.error("no BREAKPOINT block")
        sink = Sink()
        glob: dict = {}
        ex = Executor(mod, known, numeric=False, source=self.source, context="BREAKPOINT",
                      constants=frozenset(params) | {"celsius"})
        ex.execute(mod.breakpoint, ({}, glob), sink)
        if not sink.solved:
            raise self.error("BREAKPOINT solves no KINETIC or DERIVATIVE block", mod.breakpoint_line)
        for name, line in sink.assigned_lines.items():
            if name in params or name == "celsius":
                raise self.error(f"unsupported NMODL construct: BREAKPOINT changes PARAMETER `{name}`", line)
            if name in ion_read or name == "v" or name in mod.pointers:
                raise self.error(f"unsupported NMODL construct: assignment to input `{name}`", line)

        dynamic = {n for r in sink.reactions for side in r[:2] for n, _ in side} | set(sink.derivs)
        for n in dynamic:
            if n not in states:
                raise self.error(f"`{n}` is not a STATE")
            if n in glob:
                raise self.error(f"STATE `{n}` is both assigned and integrated", sink.assigned_lines.get(n))
        computed = {n: e for n, e in glob.items() if n not in dynamic}

        def resolve(e):
            for _ in range(20):
                subs = {sympy.Symbol(n): computed[n] for n in (s.name for s in e.free_symbols) if n in computed
                        and computed[n] != sympy.Symbol(n)}
                if not subs:
                    return e
                e = e.xreplace(subs)
            raise self.error("assigned variables depend on each other in a cycle")

        computed = {n: resolve(e) for n, e in computed.items()}
        reactions = [(a, b, resolve(kf), resolve(kb), line) for a, b, kf, kb, line in sink.reactions]
        derivs = {n: (resolve(e), line) for n, (e, line) in sink.derivs.items()}

        # ---- names
        exprs = [e for _, _, kf, kb, _ in reactions for e in (kf, kb)] + [e for e, _ in derivs.values()]
        exprs += list(computed.values())
        free = set()
        for e in exprs:
            free |= {s.name for s in e.free_symbols}
        free.discard("t")
        input_names = sorted(n for n in free if n not in params and n not in dynamic and n != "celsius"
                             and n not in computed)
        taken, renamed = set(), {}
        order = list(dynamic) + list(params) + ["celsius"] + input_names + list(computed)
        for n in order:
            if n in renamed:
                continue
            new = _scheme_name(n, taken)
            taken.add(new)
            renamed[n] = new
        sym = {sympy.Symbol(k): sympy.Symbol(v) for k, v in renamed.items() if k != v}

        def rn(e):
            return e.xreplace(sym) if sym else e

        # ---- units
        system = self.unit_system(params, states, assigned)

        def unit_of(d):
            text = d.unit if d is not None else None
            unit = nmodl_unit(text, mod.units)
            if unit is None:
                return "1", (f"declared ({text}) in the .mod file" if text else "")
            try:
                factor = conversion_factor(unit, system)
            except SchemeError:
                factor = None
            if factor != 1.0:
                return "1", f"declared ({text}) in the .mod file; the value is used as written, as NEURON does"
            return unit, ""

        parameters = []
        for n, d in params.items():
            unit, note = unit_of(d)
            value = float(base[n])
            lo, hi = (d.limits if d.limits and d.limits[0] <= value <= d.limits[1] else (-math.inf, math.inf))
            parameters.append(Parameter(renamed.get(n, n), value, unit, bounds=(lo, hi), note=note))
        if "celsius" not in params and "celsius" in free:
            parameters.append(Parameter(renamed["celsius"], float(base["celsius"]), "1", bounds=(-math.inf, math.inf),
                                        note="temperature (degC), NEURON's global `celsius`"))
        species = []
        for n in states:
            if n not in dynamic:
                continue
            value = float(init[n])
            unit, note = unit_of(states[n])
            species.append(Species(renamed[n], value, unit=unit, nonnegative=value >= 0, note=note))
        inputs = []
        for n in input_names:
            d = assigned.get(n)
            unit = "mV" if n == "v" else (nmodl_unit(d.unit, mod.units) if d is not None else None)
            default = float(init[n]) if n in init else self.input_defaults.get(n, 0.0)
            note = ("POINTER" if n in mod.pointers else "membrane potential" if n == "v" else
                    "ion variable" if n in ion_read else "ASSIGNED, set outside BREAKPOINT")
            inputs.append(Input(renamed[n], default, unit, note=note))
        rxns = []
        for a, b, kf, kb, line in reactions:
            vols = {sympy.sympify(sink.compartments.get(n, (sympy.Integer(1), 0))[0]) for n, _ in a + b}
            if len(vols) > 1:
                raise self.error("unsupported NMODL construct: a reaction between STATEs in different "
                                 "COMPARTMENTs", line)
            vol = vols.pop()
            rxns.append(Reaction(tuple((renamed[n], c) for n, c in a), tuple((renamed[n], c) for n, c in b),
                                 forward=rn(kf / vol), reverse=rn(kb / vol)))
        rules = []
        for n, (e, line) in derivs.items():
            vol = sink.compartments.get(n, (sympy.Integer(1), 0))[0]
            rules.append(RateRule(renamed[n], rn(e / vol)))
        observables = []
        for n, e in computed.items():
            d = assigned.get(n) or states.get(n)
            unit = nmodl_unit(d.unit, mod.units) if d is not None else None
            observables.append(Observable(renamed[n], rn(e), unit=unit))
        missing = [c for c in currents if c not in computed]
        if missing:
            raise self.error(f"current `{missing[0]}` is not computed in BREAKPOINT", mod.breakpoint_line)
        scheme = Scheme(name_from_text(mod.mechanism), species=species, parameters=parameters, inputs=inputs,
                        reactions=rxns, observables=observables, rate_rules=rules, units=system,
                        description=f"imported from NMODL ({Path(self.source).name if self.source else 'text'})",
                        check_units=False)
        initial_env = {n: v for n, v in init.items() if n not in params}
        return NmodlModel(scheme, mod.mechanism, mod.point_process, tuple(renamed[c] for c in currents),
                          tuple(renamed.get(p, p) for p in mod.pointers),
                          {k: v for k, v in renamed.items() if k != v}, self.source, mod, frozenset(known),
                          initial_env)

    def unit_system(self, params, states, assigned) -> UnitSystem:
        """Units of the scheme: for each kind, the unit the file declares most (NEURON's defaults else)."""
        pp = self.mod.point_process
        chosen = {"time": "ms", "concentration": "mM", "voltage": "mV", "current": "nA" if pp else "mA",
                  "conductance": "uS" if pp else "S", "length": "um" if pp else "cm"}
        counts: dict = {}
        for d in list(params.values()) + list(states.values()) + list(assigned.values()):
            unit = nmodl_unit(d.unit, self.mod.units)
            if unit is None:
                continue
            for tok, _ in parse_unit(unit).powers:
                try:
                    kind = unit_kind(tok)
                except SchemeError:
                    continue
                counts.setdefault(kind, Counter())[tok] += 1
        for kind, c in counts.items():
            if kind in chosen or kind in UnitSystem.__dataclass_fields__:
                chosen[kind] = c.most_common(1)[0][0]
        return UnitSystem(**{k: v for k, v in chosen.items() if k in UnitSystem.__dataclass_fields__})


def parse_value(d, source):
    """The value of a PARAMETER/CONSTANT declaration (0 if none, as NEURON)."""
    if d.value is None:
        return sympy.Float(0.0)
    try:
        v = float(d.value)
    except ValueError:
        raise ParseError(f"bad number `{d.value}` for `{d.name}`", line=d.line, source=source) from None
    if not math.isfinite(v):
        raise ParseError(f"value of `{d.name}` is not finite", line=d.line, source=source)
    return sympy.Float(v)


def read_nmodl_model(path, *, inputs=None) -> NmodlModel:
    """Import an NMODL (.mod) file as an :class:`NmodlModel`: the scheme and its NET_RECEIVE protocol.

    Parameters
    ----------
    path : str or path-like
        The .mod file.
    inputs : mapping, optional
        Values of the variables the mechanism reads from NEURON (``v``, ``celsius``, ion concentrations
        and reversal potentials, POINTERs) used when INITIAL is run — once, at import — and as the
        inputs' defaults; NEURON's defaults (:data:`NEURON_DEFAULTS`, ``v`` = -65 mV) otherwise.

    Returns
    -------
    NmodlModel

    Raises
    ------
    ParseError
        Syntax errors and constructs outside the supported subset (the message names the construct and
        the line).
    ArgumentError
        A name in ``inputs`` that the mechanism does not have.

    Examples
    --------
    An Exp2Syn-style synapse: NET_RECEIVE's ``A = A + weight*factor`` becomes jumps of the states.

    >>> import tempfile, pathlib
    >>> mod = '''
    ... NEURON { POINT_PROCESS Exp2  NONSPECIFIC_CURRENT i }
    ... PARAMETER { tau1 = 0.5 (ms)  tau2 = 5 (ms)  e = 0 (mV) }
    ... ASSIGNED { v (mV)  i (nA)  g (uS)  factor }
    ... STATE { A (uS)  B (uS) }
    ... INITIAL { LOCAL tp
    ...     tp = (tau1*tau2)/(tau2 - tau1) * log(tau2/tau1)
    ...     factor = 1/(-exp(-tp/tau1) + exp(-tp/tau2)) }
    ... BREAKPOINT { SOLVE state METHOD cnexp  g = B - A  i = g*(v - e) }
    ... DERIVATIVE state { A' = -A/tau1  B' = -B/tau2 }
    ... NET_RECEIVE(weight (uS)) { A = A + weight*factor  B = B + weight*factor }
    ... '''
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "exp2.mod"
    >>> _ = path.write_text(mod)
    >>> m = read_nmodl_model(path, inputs={"v": -70.0})
    >>> m.renamed, m.currents
    ({'e': 'e_'}, ('i',))
    >>> import kinetics as kx
    >>> res = kx.simulate(m.scheme, m.protocol([1.0], weight=0.002), t_end=30.0, n_points=3001)
    >>> round(float(res["g"].max()), 6)        # the peak conductance is the weight
    0.002
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ParseError(f"cannot read NMODL file: {exc}", source=str(path)) from None
    try:
        mod = parse_nmodl(text, str(path))
        return _Builder(mod, str(path), inputs).build()
    except RecursionError:
        raise ParseError("expressions or calls nested too deeply (or a chain of operators too long) to import",
                         source=str(path)) from None


def read_nmodl(path, *, inputs=None) -> Scheme:
    """Import an NMODL (.mod) file as a :class:`~kinetics.scheme.Scheme`.

    KINETIC ``~`` reactions become reactions, DERIVATIVE equations rate rules, the variables BREAKPOINT
    computes (conductance, current) observables, ``v``, POINTERs, ion variables and ASSIGNED variables
    set elsewhere (the transmitter ``C`` of NET_RECEIVE) inputs. Values are used as written, as NEURON does;
    the scheme's units are those the file declares most. A NET_RECEIVE block's events are turned into a
    protocol by :meth:`NmodlModel.protocol` (:func:`read_nmodl_model`).

    Parameters
    ----------
    path : str or path-like
    inputs : mapping, optional
        See :func:`read_nmodl_model`.

    Returns
    -------
    Scheme

    Raises
    ------
    ParseError
        Syntax errors and unsupported constructs (named, with their line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> mod = '''
    ... NEURON { POINT_PROCESS Syn  RANGE g  NONSPECIFIC_CURRENT i }
    ... PARAMETER { kon = 1 (/ms mM)  koff = 0.5 (/ms)  gmax = 0.001 (uS)  Erev = 0 (mV) }
    ... ASSIGNED { v (mV)  i (nA)  g (uS)  C (mM) }
    ... STATE { R  O }
    ... INITIAL { R = 1  O = 0 }
    ... BREAKPOINT { SOLVE kin METHOD sparse  g = gmax*O  i = g*(v - Erev) }
    ... KINETIC kin { ~ R <-> O (kon*C, koff) }
    ... '''
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "syn.mod"
    >>> _ = path.write_text(mod)
    >>> s = read_nmodl(path)
    >>> s.species_names, s.input_names, s.observable_names
    (('R', 'O'), ('C', 'v'), ('g', 'i'))
    >>> print(s.reactions[0])
    R <-> O ; C*kon, koff
    """
    return read_nmodl_model(path, inputs=inputs).scheme
