"""Reaction channels and propensities of a :class:`~kinetics.scheme.Scheme` for exact stochastic simulation.

Counts and concentrations
-------------------------
A species value ``c`` (in the scheme's units) is a count ``n = c * Omega``:

* ``volume=V`` (litres): ``Omega = N_A * V * u``, with ``N_A`` Avogadro's number and ``u`` the scheme's
  concentration unit in mol/L (``1e-3`` for mM). One molecule in 1 fL (``1e-15`` L) is 1.66 nM.
* ``n_copies=N``: ``Omega = N``. For receptor schemes whose species are *fractions* of a pool of ``N``
  receptors (every reaction first order in the states, e.g. ``models.destexhe1994.five_state()``): an
  occupancy of 1 is ``N`` receptors.

Initial values and ``jumps`` amounts are converted with the same ``Omega`` and rounded to the nearest integer.

Propensities (mass action with the combinatorial factors)
---------------------------------------------------------
Each direction of a reaction is one channel. A channel with rate constant ``k`` (in the scheme's unit system,
as the ODE uses it) and reactants ``a_1 A_1 + ... + a_m A_m`` (total order ``M = sum a_i``) has the propensity::

    a(n) = k * Omega**(1 - M) * prod_i  n_i! / (n_i - a_i)!          (falling factorials)

so ``A + B`` gives ``k / Omega * nA * nB``, ``2 A`` gives ``k / Omega * nA * (nA - 1)``, ``A`` gives
``k * nA`` and a source ``-> A`` gives ``k * Omega``. With the scheme's convention (flux ``k * A**2`` for ``2 A``,
no statistical factor added, see :mod:`kinetics.scheme`), the mean of the counts follows ``Omega`` times the ODE
solution whenever the propensities are linear in the counts, and in the limit of large ``Omega`` otherwise
(the reaction-rate equation of Gillespie 1977).

Refused (:class:`~kinetics.errors.SchemeError`): a reaction with a general rate law (``rate=``), rate rules,
a rate constant that depends on a species (directly or through an observable), a species that may be
negative, and, with ``n_copies``, reactions of order > 1 in the states. A rate constant that evaluates
negative raises when the simulation meets it.

Examples
--------
>>> import kinetics as kx
>>> s = kx.Scheme("dimer", species=[kx.Species("A", 1e-3), kx.Species("A2", 0.0)],
...     parameters=[kx.Parameter("k", 1.0, "1/(mM*ms)")], reactions=[kx.reaction("2 A -> A2", "k")])
>>> ch = channels(s, volume=1e-15)
>>> round(ch.omega, 1)              # molecules per mM in 1 fL
602214.1
>>> ch.describe().splitlines()[0]
'2 A -> A2 : k / Omega * n_A*(n_A - 1)'
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy

from ..errors import ArgumentError, SchemeError
from ..scheme import TIME, Scheme, as_scheme

__all__ = ["AVOGADRO", "Channels", "channels", "omega_of"]

#: Avogadro's number (1/mol), exact since the 2019 SI.
AVOGADRO = 6.02214076e23


def omega_of(scheme: Scheme, volume=None, n_copies=None) -> float:
    """The number of molecules per unit of the scheme's species values (see the module docstring)."""
    if (volume is None) == (n_copies is None):
        raise ArgumentError("give exactly one of `volume` (litres: counts = concentration * N_A * volume) or "
                            "`n_copies` (a pool of N receptors: counts = fraction * N)")
    if n_copies is not None:
        if isinstance(n_copies, bool) or not isinstance(n_copies, (int, np.integer, float)) \
                or not math.isfinite(n_copies) or n_copies < 1 or int(n_copies) != n_copies:
            raise ArgumentError(f"`n_copies` must be a positive integer, got {n_copies!r}")
        return float(n_copies)
    try:
        v = float(volume)
    except (TypeError, ValueError):
        raise ArgumentError(f"`volume` must be a number of litres, got {volume!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise ArgumentError(f"`volume` must be a positive, finite number of litres, got {volume!r}")
    from ..units import convert

    return AVOGADRO * v * convert(1.0, scheme.units.concentration, "M")


@dataclass(frozen=True, eq=False)
class Channels:
    """The reaction channels of a scheme for the SSA (one per direction of each reaction).

    Attributes
    ----------
    scheme : Scheme
    omega : float
        Molecules per unit of species value.
    mode : str
        ``"volume"`` or ``"copies"``.
    labels : tuple of str
        ``"A + B -> C"`` per channel.
    rate_constants : tuple of sympy.Expr
        ``k`` per channel, in ``t``, parameters and inputs only (observables substituted).
    reactants : tuple of tuple of (state index, order)
    change : ndarray of int64, shape (n_channels, n_states)
        Net change of the counts when the channel fires.
    order : ndarray of int, shape (n_channels,)
    scale : ndarray, shape (n_channels,)
        ``Omega**(1 - order)``.
    time_dependent : ndarray of bool
        Channels whose rate constant depends on ``t`` explicitly.
    """

    scheme: Scheme
    omega: float
    mode: str
    labels: tuple
    rate_constants: tuple
    reactants: tuple
    change: np.ndarray
    order: np.ndarray
    scale: np.ndarray
    time_dependent: np.ndarray

    @property
    def n_channels(self) -> int:
        return len(self.labels)

    @property
    def state_names(self) -> tuple:
        return self.scheme.species_names

    def combinatorial_text(self, j: int) -> str:
        parts = []
        for i, a in self.reactants[j]:
            n = f"n_{self.state_names[i]}"
            parts.append("*".join([n] + [f"({n} - {m})" for m in range(1, a)]))
        return "*".join(parts) or "1"

    def describe(self) -> str:
        """One line per channel: its propensity as text."""
        lines = []
        for j in range(self.n_channels):
            k = sympy.sstr(self.rate_constants[j])
            o = int(self.order[j])
            om = {0: " * Omega", 1: "", 2: " / Omega"}.get(o, f" / Omega**{o - 1}")
            lines.append(f"{self.labels[j]} : {k}{om} * {self.combinatorial_text(j)}")
        return "\n".join(lines)

    def counts(self, values) -> np.ndarray:
        """Species values (scheme units) to counts, rounded to the nearest integer; refuses negative counts."""
        n = np.rint(np.asarray(values, dtype=float) * self.omega)
        if np.any(n < 0):
            i = int(np.flatnonzero(n < 0)[0])
            raise ArgumentError(f"species `{self.state_names[i]}` would start with a negative count ({n[i]:g})")
        if np.any(n > 2 ** 53):
            raise ArgumentError("counts above 2**53 are too large for exact stochastic simulation; use "
                                "kinetics.simulate (the ODE) at such copy numbers")
        return n.astype(np.int64)


def _resolved_observables(scheme: Scheme) -> dict:
    from ..odesystem import derive

    system = derive(scheme)
    return {sympy.Symbol(n): e for n, e in system.observables.items()}


def channels(model, *, volume=None, n_copies=None) -> Channels:
    """The :class:`Channels` of ``model`` (a Scheme or an object with ``.scheme``) for a volume or a copy
    number. See the module docstring for the conventions and what is refused.

    Raises
    ------
    SchemeError
        A rate law without a propensity meaning (module docstring).
    ArgumentError
        Neither or both of ``volume`` and ``n_copies``, or a bad value.
    """
    scheme = as_scheme(model)
    omega = omega_of(scheme, volume, n_copies)
    mode = "copies" if n_copies is not None else "volume"
    name = scheme.name
    if scheme.rate_rules:
        raise SchemeError(f"scheme `{name}` has rate rules ({', '.join(r.species for r in scheme.rate_rules)}): "
                          "a rate rule is a deterministic ODE term with no propensity meaning, so the exact SSA "
                          "cannot simulate it; write those dynamics as reactions")
    for sp in scheme.species:
        if not sp.nonnegative:
            raise SchemeError(f"species `{sp.name}` of scheme `{name}` may be negative (nonnegative=False): it "
                              "is not an amount of molecules, and the SSA counts molecules")
    obs = _resolved_observables(scheme)
    index = {n: i for i, n in enumerate(scheme.species_names)}
    species = {sympy.Symbol(n) for n in scheme.species_names}
    labels, ks, reactants, changes, orders = [], [], [], [], []

    def side(pairs):
        return " + ".join((f"{c} {n}" if c != 1 else n) for n, c in pairs)

    for r in scheme.reactions:
        if r.rate is not None:
            raise SchemeError(f"reaction `{r}` of scheme `{name}` has a general rate law (`rate=`): the SSA needs "
                              "mass-action rate constants to give it a propensity; write it with forward "
                              "(and reverse) rate constants, e.g. reaction('A + B <-> C', 'kon', 'koff')")
        for direction, k, left, right in (("forward", r.forward, r.reactants, r.products),
                                          ("reverse", r.reverse, r.products, r.reactants)):
            if k is None:
                continue
            try:
                kk = k.xreplace(obs)
            except (TypeError, ValueError, ArithmeticError) as exc:
                raise SchemeError(f"reaction `{r}`: its {direction} rate constant is not valid with the "
                                  f"observables substituted: {exc}") from None
            dep = sorted(s.name for s in kk.free_symbols & species)
            if dep:
                raise SchemeError(f"reaction `{r}` of scheme `{name}`: the {direction} rate constant "
                                  f"`{sympy.sstr(k)}` depends on the species {', '.join(dep)} (directly or through "
                                  "an observable): that is not mass action and has no propensity in the SSA; "
                                  "write the dependence as reactions with those species as reactants")
            if kk.is_number and (not kk.is_finite or kk.is_extended_negative):
                raise SchemeError(f"reaction `{r}` of scheme `{name}`: the {direction} rate constant is "
                                  f"{sympy.sstr(kk)}; a propensity must be finite and >= 0")
            order = sum(c for _, c in left)
            if mode == "copies" and order > 1:
                raise SchemeError(f"reaction `{r}` of scheme `{name}` is of order {order} in its states; with "
                                  "`n_copies` the species are fractions of a pool of receptors and every "
                                  "transition must be first order in them. Give a `volume` to simulate "
                                  "molecules that meet in a compartment")
            delta = np.zeros(len(index), dtype=np.int64)
            for n, c in left:
                delta[index[n]] -= c
            for n, c in right:
                delta[index[n]] += c
            labels.append(f"{side(left)} -> {side(right)}".strip())
            ks.append(kk)
            reactants.append(tuple((index[n], c) for n, c in left))
            changes.append(delta)
            orders.append(order)
    if not labels:
        raise SchemeError(f"scheme `{name}` has no reactions for the SSA")
    order = np.array(orders, dtype=np.int64)
    return Channels(
        scheme=scheme, omega=omega, mode=mode, labels=tuple(labels), rate_constants=tuple(ks),
        reactants=tuple(reactants), change=np.array(changes, dtype=np.int64).reshape(len(labels), -1),
        order=order, scale=np.array([omega ** (1 - int(o)) for o in order]),
        time_dependent=np.array([k.has(TIME) for k in ks], dtype=bool),
    )


# --------------------------------------------------------------------------- interval bounds
class Unboundable(SchemeError):
    """An expression the interval bound of the thinning method cannot handle."""


def interval_program(exprs, names: dict) -> tuple[list, list]:
    """The interval-arithmetic program bounding each of ``exprs``, for a back-end to print.

    One walk of each expression tree (sums, products, powers, ``exp``, ``log``, ``sqrt``, ``Abs``, ``tanh``);
    returns ``(ops, outs)``: ``ops`` is a list of ``(variable, operation, operands)`` in evaluation order, where
    ``operation`` is one of ``"const"`` (operand: a float), ``"add"``, ``"mul"`` (two or more interval operands),
    ``"powi"`` / ``"powr"`` (an interval and an int / float exponent), ``"pow"`` (interval base and exponent),
    ``"exp"``, ``"log"``, ``"abs"``, ``"tanh"``; an interval operand is a variable or an entry of ``names`` (the
    back-end's spelling of a symbol's interval). ``outs`` names the interval of each expression.

    Raises :class:`Unboundable` for other functions, unknown symbols and non-finite numbers.

    Examples
    --------
    >>> import sympy
    >>> ops, outs = interval_program([sympy.sympify("2*exp(V)")], {"V": "U[0]"})
    >>> [op for _, op, _ in ops]
    ['const', 'exp', 'mul']
    """
    ops, counter = [], [0]

    def new():
        counter[0] += 1
        return f"v{counter[0]}"

    unary = {sympy.exp: "exp", sympy.Abs: "abs", sympy.tanh: "tanh"}

    def emit(e) -> str:
        if e.is_Number:
            x = float(e)
            if not math.isfinite(x):
                raise Unboundable(f"non-finite number in `{sympy.sstr(e)}`")
            v = new()
            ops.append((v, "const", (x,)))
            return v
        if e.is_Symbol:
            if e.name not in names:
                raise Unboundable(f"unknown symbol `{e.name}`")
            return names[e.name]
        if e.is_Pow and e.args[1].is_Number:
            base, x = emit(e.args[0]), e.args[1]
            v = new()
            ops.append((v, "powi", (base, int(x))) if x.is_Integer else (v, "powr", (base, float(x))))
            return v
        kind = "add" if e.is_Add else "mul" if e.is_Mul else "pow" if e.is_Pow else \
            "log" if isinstance(e, sympy.log) and len(e.args) == 1 else unary.get(type(e))
        if kind is None:
            raise Unboundable(f"`{type(e).__name__}` in `{sympy.sstr(e)}`")
        args = tuple(emit(a) for a in e.args)
        v = new()
        ops.append((v, kind, args))
        return v

    outs = [emit(sympy.sympify(e)) for e in exprs]
    return ops, outs


def interval_lines(exprs, names: dict, prefix: str, point) -> tuple[list, list]:
    """The program of :func:`interval_program` printed for a back-end whose interval helpers are called
    ``{prefix}add``, ``{prefix}mul``, ``{prefix}powi``, ``{prefix}powr``, ``{prefix}exp``, ``{prefix}log``,
    ``{prefix}abs``, ``{prefix}tanh``, and whose point interval of a float ``x`` is ``point(x)``.

    Returns ``(assignments, outs)``: ``(variable, expression text)`` pairs in evaluation order and the variable of
    each expression's interval.
    """
    def call(op, args):
        if op == "const":
            return point(args[0])
        if op in ("add", "mul"):
            acc = args[0]
            for a in args[1:]:
                acc = f"{prefix}{op}({acc}, {a})"
            return acc
        if op == "pow":             # x**y = exp(y log x)
            return f"{prefix}exp({prefix}mul({prefix}log({args[0]}), {args[1]}))"
        return f"{prefix}{op}({', '.join(a if isinstance(a, str) else repr(a) for a in args)})"

    ops, outs = interval_program(exprs, names)
    return [(v, call(op, args)) for v, op, args in ops], outs


def interval_source(exprs, names: dict) -> str:
    """Python source of ``_bounds(T, U, P)`` returning ``[(lo, hi), ...]`` enclosing each of ``exprs`` when every
    symbol ``s`` lies in the ``(lo, hi)`` pair the Python expression ``names[s]`` (``"T"``, ``"U[0]"``, ``"P[2]"``)
    gives (the program of :func:`interval_program`, printed as Python over :data:`INTERVAL_NAMESPACE`),
    rigorous up to round-off.

    Raises :class:`Unboundable` for what :func:`interval_program` cannot bound.
    """
    assignments, outs = interval_lines(exprs, names, "_i", lambda x: f"({x!r}, {x!r})")
    lines = [f"    {v} = {text}" for v, text in assignments]
    return "def _bounds(T, U, P):\n" + "\n".join(lines) + f"\n    return [{', '.join(outs)}]\n"


def _iadd(a, b):
    return (a[0] + b[0], a[1] + b[1])


def _imul(a, b):
    p = (a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1])
    p = [0.0 if x != x else x for x in p]          # 0 * inf -> 0 (a zero factor stays zero)
    return (min(p), max(p))


def _ipowi(a, n):
    lo, hi = a
    if n == 0:
        return (1.0, 1.0)
    if n < 0:
        if lo <= 0.0 <= hi:
            return (-math.inf, math.inf)
        inv = (1.0 / hi, 1.0 / lo)
        return _ipowi(inv, -n)
    if n % 2 == 1:
        return (lo ** n, hi ** n)
    if lo >= 0:
        return (lo ** n, hi ** n)
    if hi <= 0:
        return (hi ** n, lo ** n)
    return (0.0, max(lo ** n, hi ** n))


def _ipowr(a, x):
    lo, hi = a
    if lo < 0:
        return (-math.inf, math.inf)
    if x >= 0:
        return (lo ** x, hi ** x)
    return (hi ** x if hi > 0 else math.inf, lo ** x if lo > 0 else math.inf)


def _iexp(a):
    def ex(x):
        try:
            return math.exp(x)
        except OverflowError:
            return math.inf
    return (ex(a[0]), ex(a[1]))


def _ilog(a):
    lo, hi = a
    return (math.log(lo) if lo > 0 else -math.inf, math.log(hi) if hi > 0 else -math.inf)


def _itanh(a):
    return (math.tanh(a[0]), math.tanh(a[1]))


def _iabs(a):
    lo, hi = a
    if lo >= 0:
        return (lo, hi)
    if hi <= 0:
        return (-hi, -lo)
    return (0.0, max(-lo, hi))


INTERVAL_NAMESPACE = {"math": math, "_iadd": _iadd, "_imul": _imul, "_ipowi": _ipowi, "_ipowr": _ipowr,
                      "_iexp": _iexp, "_ilog": _ilog, "_iabs": _iabs, "_itanh": _itanh}
