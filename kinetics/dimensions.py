"""Dimensional consistency of a scheme: checked when it is built, and a fuller report.

The inference walks the sympy trees of a :class:`~kinetics.scheme.Scheme` and
finds the places where the declared units do not fit together. It runs twice
over:

* **at build** (:func:`require_consistent_units`, called by every Scheme
  unless built with ``check_units=False``): only *definite* errors raise
  :class:`~kinetics.errors.UnitError` — what the declarations decide. Species
  without a unit, parameters of unit ``1`` (the default when no unit is
  declared), inputs without a unit and bare numbers (which may carry the unit
  system's unit: a rate constant ``0.5``, ``1e-3*heaviside(x)``) are unknown
  and never fail; a first-order rate constant must be 1/time whatever its
  species' unit. Results are memoised on the scheme's structure and units, so
  rebuilding a scheme with other values costs nothing;
* **on request** (:func:`check_units`, ``scheme.unit_issues()``): a report that
  raises nothing and also reads species without a unit as concentrations in the
  scheme's unit and parameters of unit ``1`` as dimensionless.

Dimensions of symbols (in the report; see above for the check at build)
-------------------------------------------------------------------------
* species: their ``unit``, or the scheme's concentration unit when ``None``;
* parameters: their ``unit``; inputs: their ``unit`` (unknown when ``None``);
* observables: inferred from their expression (and compared with their
  declared ``unit`` when given; other expressions then use the declared unit);
* ``t``: time. Numbers and ``pi`` are dimensionless.

Rules
-----
* products and quotients add and subtract exponents; numeric powers scale
  them. A symbolic exponent must be dimensionless; a dimensional base is then
  raised to the exponent's value when the exponent is made of dimensionless
  parameters (``Ca**n_H / (K**n_H + Ca**n_H)``), else the power is unknown;
* the terms of a sum, the sides of a comparison and the branches of
  ``min``/``max``/``piecewise`` must have one dimension (``0`` fits any);
* ``exp``, ``log``, trigonometric and hyperbolic functions (so ``sigmoid``)
  need a dimensionless argument and give a dimensionless value;
  ``heaviside`` depends only on the sign of its argument, which may have any
  (consistent) dimension; ``abs`` keeps the dimension.

Literals with an implied unit
-----------------------------
Empirical formulas write constants whose unit is implied by the unit system,
e.g. the Mg2+ block of Jahr & Stevens (1990), ``exp(-0.062*V)`` with V in mV.
Inside the argument of a transcendental function, a product of a numeric
literal (other than +-1) with a dimensional quantity, and a bare number added
to such a product, are taken to carry that unknown unit: the argument is then
*unknown* instead of an error. Unknown (also: inputs without a unit) matches
any dimension and propagates (``exp(unknown)`` is unknown), so it never
produces an issue. Outside transcendental arguments numbers are
dimensionless: ``V + 27`` is reported.

Checks
------
* mass action: ``k * prod(reactant**coeff)`` must have the dimension of the
  reaction's species unit per time (so a second-order rate constant is
  1/(concentration*time) with concentration species and 1/time with
  dimensionless fractions); the reverse constant likewise with the products.
  A reaction between species of different dimensions is reported;
* a general rate law (``rate=``) and a rate rule: species unit per time;
* an observable with a declared unit: that unit.

Examples
--------
A binding constant declared first-order is refused when the scheme is built;
``check_units=False`` builds it anyway, and the report lists the issue:

>>> import kinetics as kx
>>> from kinetics.dimensions import check_units
>>> parts = dict(species=[kx.Species("R", 1.0, unit="1"), kx.Species("LR", 0.0, unit="1")],
...              parameters=[kx.Parameter("kon", 1.0, "1/ms"), kx.Parameter("koff", 0.1, "1/ms")],
...              inputs=[kx.Input("L", 0.0, "mM")], reactions=[kx.reaction("R <-> LR", "kon*L", "koff")])
>>> kx.Scheme("bind", **parts)  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
kinetics.errors.UnitError: scheme `bind`: reaction 0 (`R <-> LR`) forward rate: ...
>>> for issue in check_units(kx.Scheme("bind", **parts, check_units=False)):
...     print(issue)
reaction 0 (`R <-> LR`) forward rate: the rate constant `L*kon` has the wrong dimension (inferred mM/ms, expected 1/ms)
"""
from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, NamedTuple

import sympy

from .errors import UnitError
from .scheme import Scheme, as_scheme, expression_text
from .units import BASE_DIMENSIONS, KINDS, UnitSystem, conversion_factor, dimension

__all__ = ["UnitIssue", "check_units", "require_consistent_units", "format_unit_report", "dimension_text"]

_N = len(BASE_DIMENSIONS)
_ONE = (0,) * _N
_TIME = tuple(dimension("s"))


# --------------------------------------------------------------------------- dimension arithmetic
# dimensions are tuples of ints, or of Fractions where an exponent is not whole (ints are much faster)
def _as_dim(unit) -> tuple:
    return dimension(unit)


def _add(a, b):
    return tuple(x + y for x, y in zip(a, b))


def _sub(a, b):
    return tuple(x - y for x, y in zip(a, b))


def _scale(a, k):
    if isinstance(k, Fraction) and k.denominator == 1:
        k = k.numerator
    return tuple(_whole(x * k) for x in a)


def _whole(x):
    return x.numerator if isinstance(x, Fraction) and x.denominator == 1 else x


# --------------------------------------------------------------------------- readable text
# kinds in order of preference when several spellings of a dimension are equally short
_KIND_ORDER = ("time", "concentration", "voltage", "current", "conductance", "charge", "capacitance",
               "length", "volume", "amount", "mass", "temperature")
_KIND_DIMS = {k: _as_dim(UnitSystem().unit_of(k)) for k in KINDS}
# order of the tokens in the text: time last ("1/(mM*ms)", "mM/ms")
_DISPLAY_ORDER = ("concentration", "voltage", "current", "conductance", "charge", "capacitance", "length",
                  "volume", "amount", "mass", "temperature", "time")
# a basis of the SI dimensions made of kinds (fallback for rational exponents and long products)
_BASIS = ("time", "concentration", "voltage", "current", "length", "temperature")


_INT_KIND_DIMS = [tuple(int(x) for x in _KIND_DIMS[k]) for k in _KIND_ORDER]


@functools.lru_cache(maxsize=None)
def _candidates(n: int, top: int) -> list:
    """Products of ``n`` kinds with exponents up to ``top`` in size: ``(dimension, spelling)``, shortest first."""
    exps = [e for e in range(-top, top + 1) if e]
    out = []
    for kinds in itertools.combinations(range(len(_KIND_ORDER)), n):
        for es in itertools.product(exps, repeat=n):
            out.append((sum(abs(e) for e in es), kinds, es))
    out.sort()
    return [(tuple(sum(_INT_KIND_DIMS[k][i] * e for k, e in zip(kinds, es)) for i in range(_N)),
             tuple((_KIND_ORDER[k], e) for k, e in zip(kinds, es))) for _, kinds, es in out]


def _spell(dim) -> tuple | None:
    """The shortest product of at most four kinds with dimension ``dim`` (integer exponents), or None."""
    target = tuple(int(x) for x in dim)
    for n, top in ((1, 4), (2, 3), (3, 2), (4, 1)):
        for d, spelling in _candidates(n, top):
            if d == target:
                return spelling
    return None


def _solve_in_basis(dim) -> tuple:
    m = sympy.Matrix([[sympy.Rational(x.numerator, x.denominator) for x in _KIND_DIMS[k]] for k in _BASIS]).T
    sol = m.LUsolve(sympy.Matrix([sympy.Rational(x.numerator, x.denominator) for x in dim]))
    return tuple((k, Fraction(int(sympy.fraction(v)[0]), int(sympy.fraction(v)[1])))
                 for k, v in zip(_BASIS, sol) if v != 0)


@functools.lru_cache(maxsize=1024)
def dimension_text(dim, units: UnitSystem = UnitSystem()) -> str:
    """A dimension (exponents of :data:`~kinetics.units.BASE_DIMENSIONS`) as unit text in ``units``.

    ``None`` (unknown) is ``"unknown"``; a dimensionless quantity is ``"1"``.

    >>> from kinetics.units import dimension
    >>> dimension_text(dimension("1/(uM*s)"))
    '1/(mM*ms)'
    >>> dimension_text(dimension("nS*mV"))
    'pA'
    """
    if dim is None:
        return "unknown"
    dim = tuple(Fraction(x) for x in dim)
    if not any(dim):
        return "1"
    spelled = _spell(dim) if all(x.denominator == 1 for x in dim) else None
    if spelled is None:
        spelled = _solve_in_basis(dim)
    spelled = [(units.unit_of(k), e) for k, e in sorted(spelled, key=lambda ke: _DISPLAY_ORDER.index(ke[0]))]

    def term(tok, e):
        if e == 1:
            return tok
        return f"{tok}^{e}" if e.denominator == 1 else f"{tok}^({e})"

    num = [term(t, e) for t, e in spelled if e > 0]
    den = [term(t, -e) for t, e in spelled if e < 0]
    top = "*".join(num) if num else "1"
    if not den:
        return top
    bottom = den[0] if len(den) == 1 else "(" + "*".join(den) + ")"
    return f"{top}/{bottom}"


# --------------------------------------------------------------------------- issues
@dataclass(frozen=True)
class UnitIssue:
    """One dimensional inconsistency of a scheme.

    Attributes
    ----------
    where : str
        The component, e.g. ``"reaction 2 (`C0 <-> C1`) forward rate"``,
        ``"observable `I_NMDA`"``, ``"rate rule of `Ca`"``.
    message : str
        What is wrong.
    inferred, expected : str or None
        The inferred and the expected dimension as unit text in the scheme's
        unit system (``"1/(mM*ms)"``), when the issue compares two dimensions.
    component : tuple or None
        ``("reaction", index)``, ``("observable", name)`` or ``("rate_rule", species)``
        (readers use it to point at a line; not compared).
    """

    where: str
    message: str
    inferred: str | None = None
    expected: str | None = None
    component: tuple | None = field(default=None, compare=False)

    def __str__(self) -> str:
        dims = ""
        if self.inferred is not None or self.expected is not None:
            dims = f" (inferred {self.inferred or 'unknown'}, expected {self.expected or 'unknown'})"
        return f"{self.where}: {self.message}{dims}"


def format_unit_report(issues: Iterable[UnitIssue], title: str | None = None) -> str:
    """The issues as a report one can paste: a headline and one line per issue.

    >>> print(format_unit_report([]))
    Units: no dimensional inconsistencies found.
    """
    issues = list(issues)
    head = f"Units of {title}" if title else "Units"
    if not issues:
        return f"{head}: no dimensional inconsistencies found."
    lines = [f"{head}: {len(issues)} dimensional inconsistenc{'y' if len(issues) == 1 else 'ies'}"]
    lines += [f"  - {issue}" for issue in issues]
    return "\n".join(lines)


# --------------------------------------------------------------------------- inference
class _V(NamedTuple):
    """An inferred dimension: ``dim`` (None = unknown), ``scaled`` (a literal with an implied unit
    sets it), ``literal`` (the expression is a bare number)."""

    dim: tuple | None
    scaled: bool = False
    literal: bool = False


_UNKNOWN = _V(None)
_TRANSCENDENTAL = (sympy.exp, sympy.log, sympy.sin, sympy.cos, sympy.tan, sympy.sinh, sympy.cosh, sympy.tanh,
                   sympy.asin, sympy.acos, sympy.atan, sympy.asinh, sympy.acosh, sympy.atanh)
_SAME_DIMENSION = (sympy.Abs, sympy.re, sympy.im, sympy.floor, sympy.ceiling)


def _fraction(value) -> Fraction | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    if f != f or f in (float("inf"), float("-inf")):
        return None
    return Fraction(f).limit_denominator(1000)


class _Checker:
    """The inference. ``definite`` (the check run when a scheme is built) treats what may be undeclared as
    unknown: species without a unit and parameters of unit ``1`` (the default of an undeclared unit)."""

    def __init__(self, scheme: Scheme, definite: bool = False):
        self.scheme = scheme
        self.units = scheme.units
        self.definite = definite
        self.issues: list[UnitIssue] = []
        self._seen: set = set()
        self.consulted: dict[str, float] = {}   # parameter values the inference used (symbolic exponents)
        self.component = None
        conc = None if definite else _as_dim(scheme.units.concentration)
        self.symbols: dict[str, tuple | None] = {"t": _TIME}
        for s in scheme.species:
            self.symbols[s.name] = _as_dim(s.unit) if s.unit is not None else conc
        self.dimensionless_parameters = set()
        for p in scheme.parameters:
            d = _as_dim(p.unit)
            if not any(d):
                self.dimensionless_parameters.add(p.name)
                if definite:
                    d = None
            self.symbols[p.name] = d
        for u in scheme.inputs:
            self.symbols[u.name] = _as_dim(u.unit) if u.unit is not None else None
        self.parameters = {p.name: p for p in scheme.parameters}

    def value(self, name) -> float:
        """A parameter's value in the scheme's unit system (recorded: the result depends on it)."""
        p = self.parameters[name]
        v = p.value * conversion_factor(p.unit, self.units)
        self.consulted[name] = p.value
        return v

    # ------------------------------------------------------------- helpers
    def text(self, dim) -> str:
        return dimension_text(dim, self.units)

    def report(self, where, message, inferred=None, expected=None, *, dims=True):
        # `where` and `message` may be callables: their text is made only when there is an issue
        where = where() if callable(where) else where
        message = message() if callable(message) else message
        issue = UnitIssue(where, message, self.text(inferred) if dims else None,
                          self.text(expected) if dims else None, self.component)
        if issue not in self._seen:
            self._seen.add(issue)
            self.issues.append(issue)

    def agree(self, items, where, what, trans):
        """One dimension for ``items`` (pairs of sympy expression, _V) or an issue; returns a _V."""
        zero = [v.literal and e == 0 for e, v in items]
        known = [(e, v) for (e, v), z in zip(items, zero) if v.dim is not None and not z]
        scaled = any(v.scaled for _, v in items)
        dims = {v.dim for _, v in known}
        if not dims:  # only unknowns (unknown) or only zeros (dimensionless)
            return _V(None if any(v.dim is None for _, v in items) else _ONE, scaled)
        if len(dims) == 1:  # unknown terms and zeros fit any dimension
            return _V(dims.pop(), scaled, all(v.literal for _, v in items))
        if trans:
            strict = {v.dim for _, v in known if not v.scaled and not v.literal}
            if len(strict) <= 1:  # the mismatch is carried by literals with an implied unit
                return _V(None, True)
        terms = ", ".join(f"`{expression_text(e)}` [{self.text(v.dim)}]" for e, v in known)
        what = what() if callable(what) else what
        self.report(where, f"{what} of different dimensions: {terms}", dims=False)
        return _UNKNOWN

    # ------------------------------------------------------------- the walk
    def infer(self, expr, where, trans=False) -> _V:
        if isinstance(expr, sympy.Symbol):
            return _V(self.symbols.get(expr.name))
        if isinstance(expr, (sympy.Number, sympy.NumberSymbol)) or expr in (sympy.E, sympy.pi):
            # at build, a bare number may carry the unit system's unit (a rate constant `0.5`, `V + 27`)
            return _V(None if self.definite and expr not in (sympy.E, sympy.pi) else _ONE, literal=True)
        if isinstance(expr, sympy.logic.boolalg.BooleanAtom):
            return _V(_ONE)
        if isinstance(expr, sympy.Mul):
            return self.mul(expr, where, trans)
        if isinstance(expr, sympy.Add):
            vals = [(a, self.infer(a, where, trans)) for a in expr.args]
            return self.agree(vals, where, "terms of a sum", trans)
        if isinstance(expr, sympy.Pow):
            return self.power(expr, where, trans)
        if isinstance(expr, _TRANSCENDENTAL):
            return self.transcendental(expr, where)
        if isinstance(expr, sympy.Heaviside):
            self.infer(expr.args[0], where, True)
            for extra in expr.args[1:]:
                self.require_dimensionless(extra, where, lambda: f"the value at 0 of `{expression_text(expr)}`")
            return _V(_ONE)
        if isinstance(expr, sympy.sign):
            self.infer(expr.args[0], where, True)
            return _V(_ONE)
        if isinstance(expr, _SAME_DIMENSION):
            return self.infer(expr.args[0], where, trans)
        if isinstance(expr, (sympy.Min, sympy.Max)):
            vals = [(a, self.infer(a, where, trans)) for a in expr.args]
            return self.agree(vals, where, f"arguments of {type(expr).__name__.lower()}", trans)
        if isinstance(expr, sympy.Piecewise):
            vals = []
            for value, cond in expr.args:
                vals.append((value, self.infer(value, where, trans)))
                self.infer(cond, where, trans)
            return self.agree(vals, where, "branches of a piecewise", trans)
        if isinstance(expr, sympy.core.relational.Relational):
            vals = [(a, self.infer(a, where, trans)) for a in (expr.lhs, expr.rhs)]
            self.agree(vals, where, lambda: f"sides of `{expression_text(expr)}`", trans)
            return _V(_ONE)
        if isinstance(expr, (sympy.And, sympy.Or, sympy.Not, sympy.Xor)):
            for a in expr.args:
                self.infer(a, where, trans)
            return _V(_ONE)
        for a in expr.args:  # anything else: check inside, dimension unknown
            if isinstance(a, sympy.Basic):
                self.infer(a, where, trans)
        return _UNKNOWN

    def mul(self, expr, where, trans) -> _V:
        coeff, rest = expr.as_coeff_Mul()
        vals = [self.infer(a, where, trans) for a in sympy.Mul.make_args(rest)]
        scaled = any(v.scaled for v in vals)
        if any(v.dim is None for v in vals):
            return _V(None, scaled)
        dim = _ONE
        for v in vals:
            dim = _add(dim, v.dim)
        literal_factor = coeff.is_Number and coeff not in (1, -1)
        if self.definite and literal_factor and not any(dim):  # `1e-3*heaviside(x)`: the number may carry a unit
            return _V(None, True)
        return _V(dim, scaled or (literal_factor and any(dim)), literal=all(v.literal for v in vals))

    def power(self, expr, where, trans) -> _V:
        base, exp = expr.args
        b = self.infer(base, where, trans)
        if exp.is_Number:
            k = _fraction(exp)
            if b.dim is None or k is None:
                return _V(None, b.scaled)
            return _V(_scale(b.dim, k), b.scaled, b.literal)
        e = self.require_dimensionless(exp, where, lambda: f"the exponent of `{expression_text(expr)}`")
        if b.dim is None:
            return _V(None, b.scaled)
        if not any(b.dim):
            return _V(_ONE, b.scaled, b.literal)
        # a dimensional base: use the exponent's value when it is made of dimensionless parameters
        if (e or self.definite) and exp.free_symbols and \
                all(s.name in self.dimensionless_parameters for s in exp.free_symbols):
            k = _fraction(exp.xreplace({s: sympy.Float(self.value(s.name)) for s in exp.free_symbols}))
            if k is not None:
                return _V(_scale(b.dim, k), b.scaled)
        return _V(None, b.scaled)

    def transcendental(self, expr, where) -> _V:
        name = type(expr).__name__
        dimensionless = True
        for arg in expr.args:
            v = self.infer(arg, where, True)
            if v.dim is None:
                dimensionless = False
            elif any(v.dim):
                if v.scaled:  # a literal with an implied unit (exp(-0.062*V))
                    dimensionless = False
                else:
                    self.report(where, f"the argument of {name} must be dimensionless: `{expression_text(arg)}`",
                                v.dim, _ONE)
        return _V(_ONE) if dimensionless else _UNKNOWN

    def require_dimensionless(self, expr, where, what) -> bool:
        """Report ``what`` unless dimensionless; True when it is known to be dimensionless."""
        v = self.infer(expr, where, True)
        if v.dim is None:
            return False
        if any(v.dim):
            if not v.scaled:
                self.report(where, lambda: f"{what() if callable(what) else what} must be dimensionless",
                            v.dim, _ONE)
            return False
        return True

    # ------------------------------------------------------------- checks
    def expect(self, expr, where, expected, message):
        v = self.infer(expr, where)
        if v.dim is not None and expected is not None and v.dim != expected:
            self.report(where, message, v.dim, expected)
        return v

    def run(self) -> list[UnitIssue]:
        s = self.scheme
        obs = {o.name: o for o in s.observables}
        for name in s.observable_order():
            o = obs[name]
            self.component = ("observable", name)
            where = f"observable `{name}`"
            declared = _as_dim(o.unit) if o.unit is not None else None
            v = self.expect(o.expr, where, declared, "the expression does not have the declared unit "
                                                     f"`{o.unit}`")
            self.symbols[name] = declared if declared is not None else v.dim
        for i, r in enumerate(s.reactions):
            self.component = ("reaction", i)
            self.reaction(i, r)
        for rr in s.rate_rules:
            self.component = ("rate_rule", rr.species)
            sp = self.symbols[rr.species]
            self.expect(rr.expr, f"rate rule of `{rr.species}`", None if sp is None else _sub(sp, _TIME),
                        f"d{rr.species}/dt must have the unit of `{rr.species}` per time")
        self.component = None
        return self.issues

    def reaction(self, i, r):
        def label():
            return f"reaction {i}" + (f" `{r.name}`" if r.name else "") + f" (`{r.equation()}`)"

        sp = {n: self.symbols[n] for n in r.species}
        dims = {d for d in sp.values() if d is not None}
        if len(dims) > 1:
            listing = ", ".join(f"`{n}` [{self.text(d)}]" for n, d in sp.items())
            self.report(label(), f"species of different dimensions in one reaction: {listing}", dims=False)
            for part, e in (("forward rate", r.forward), ("reverse rate", r.reverse), ("rate", r.rate)):
                if e is not None:
                    self.infer(e, lambda part=part: f"{label()} {part}")
            return
        # species of unknown unit (undeclared, in the check at build) leave the flux unknown, but a first-order
        # rate constant is 1/time whatever the species' unit
        flux = _sub(dims.pop(), _TIME) if dims and None not in sp.values() else None
        if r.rate is not None:
            self.expect(r.rate, lambda: f"{label()} rate", flux,
                        "the rate law must have the unit of the species per time")
            return
        for part, k, side in (("forward rate", r.forward, r.reactants), ("reverse rate", r.reverse, r.products)):
            if k is None:
                continue
            if sum(c for _, c in side) == 1:
                expected = _scale(_TIME, -1)
            elif flux is None:
                expected = None
            else:
                expected = flux
                for n, c in side:
                    expected = _sub(expected, _scale(sp[n], c))
            self.expect(k, lambda part=part: f"{label()} {part}", expected,
                        lambda k=k: f"the rate constant `{expression_text(k)}` has the wrong dimension")


def _check_key(scheme: Scheme, definite: bool) -> tuple:
    """Everything the inference reads, except parameter values (see :func:`_issues`)."""
    return (definite, scheme.units,
            tuple((s.name, s.unit) for s in scheme.species),
            tuple((p.name, p.unit) for p in scheme.parameters),
            tuple((u.name, u.unit) for u in scheme.inputs),
            tuple((o.name, o.expr, o.unit) for o in scheme.observables),
            tuple((r.reactants, r.products, r.forward, r.reverse, r.rate, r.name) for r in scheme.reactions),
            tuple((rr.species, rr.expr) for rr in scheme.rate_rules))


_CACHE: dict = {}
_CACHE_SIZE = 512


def _issues(scheme: Scheme, definite: bool) -> list:
    """The issues of a scheme, memoised on its structure and units (schemes are rebuilt often with other
    values: ``with_parameters``, composition); values matter only where a symbolic exponent was evaluated."""
    key = _check_key(scheme, definite)
    hit = _CACHE.get(key)
    if hit is not None:
        consulted, issues = hit
        values = scheme.parameter_values()
        if all(values.get(n) == v for n, v in consulted.items()):
            return list(issues)
    checker = _Checker(scheme, definite)
    issues = checker.run()
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (dict(checker.consulted), tuple(issues))
    return issues


def require_consistent_units(scheme: Scheme) -> None:
    """Raise :class:`~kinetics.errors.UnitError` if a scheme has a definite dimensional error.

    The check every :class:`~kinetics.scheme.Scheme` runs when it is built (unless built with
    ``check_units=False``). Only what the declarations decide is an error: species without a unit and
    parameters of unit ``1`` (the default when no unit is declared) count as unknown and never fail, and a
    first-order rate constant must be 1/time whatever its species' unit. :func:`check_units` is the fuller,
    advisory report (there species without a unit are in the scheme's concentration unit and parameters of
    unit ``1`` are dimensionless).

    Raises
    ------
    UnitError
        Naming each faulty reaction, observable or rate rule with the inferred and the expected unit; its
        ``issues`` attribute holds the :class:`UnitIssue` list.

    Examples
    --------
    >>> import kinetics as kx
    >>> kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("koff", 0.1, "1/mM")],
    ...           reactions=[kx.reaction("A ->", "koff")])  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    kinetics.errors.UnitError: scheme `decay`: reaction 0 (`A ->`) forward rate: the rate constant `koff` ...
    """
    issues = _issues(scheme, True)
    if issues:
        raise UnitError.from_issues(scheme.name, issues)


def check_units(scheme) -> list[UnitIssue]:
    """Dimensional inconsistencies of a scheme (empty list when it is consistent).

    Rules and checks are described in the module docstring. Nothing is
    raised for an inconsistent scheme: the issues are returned, in the order
    observables, reactions, rate rules.

    Parameters
    ----------
    scheme : Scheme
        A scheme, or a library model wrapper with a ``.scheme``.

    Returns
    -------
    list of UnitIssue

    Examples
    --------
    >>> import kinetics as kx
    >>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)],
    ...               parameters=[kx.Parameter("k", 0.1, "1/s")], reactions=[kx.reaction("A ->", "k")])
    >>> check_units(s)
    []
    """
    return _issues(as_scheme(scheme), False)
