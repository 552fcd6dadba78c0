"""Symbolic reaction schemes: species, parameters, inputs, reactions, observables.

A :class:`Scheme` is an immutable, hashable description of a kinetic model. It is
written with sympy expressions (or strings parsed safely by
:func:`kinetics.expressions.parse_expression`) and knows nothing about how it is
solved: :mod:`kinetics.odesystem` derives the ODEs from it.

Mass-action convention
----------------------
A reaction ``a A + b B -> products`` with rate constant ``k`` has the flux
``k * A**a * B**b``. No statistical factors are ever added: a scheme in which two
identical sites bind (``C0 -> C1`` at twice the single-site rate) must write the
factor explicitly, e.g. ``C0 <-> C1 ; 2*Rb*glu, Ru``. A reversible reaction has
the net flux ``kf * prod(reactants) - kr * prod(products)``. A reaction given a
general rate law (``rate=...``) uses that expression as its (net) flux.

Units
-----
Every parameter carries the unit its source states it in (``"1/(uM*s)"``). A
scheme has a :class:`~kinetics.units.UnitSystem` (default ms, mM, mV, pA, nS...);
parameter values are converted to it once, before code generation, so the
right-hand side never does unit arithmetic. Species and input values are used as
given, in the scheme's units (their ``unit`` is documentation). When a scheme is
built its dimensions are checked: a definite error (a rate constant of the wrong
order, a sum of terms of different dimensions, an exponent with units) raises
:class:`~kinetics.errors.UnitError`, undeclared units are never an error, and
``check_units=False`` opts out (:mod:`kinetics.dimensions`).

Examples
--------
>>> from kinetics import Scheme, Species, Parameter, Input, reaction
>>> s = Scheme(
...     "binding",
...     species=[Species("R", 1.0, unit="1"), Species("LR", 0.0, unit="1")],
...     parameters=[Parameter("kon", 1.0, "1/(mM*ms)"), Parameter("koff", 0.1, "1/ms")],
...     inputs=[Input("L", 0.0, "mM")],
...     reactions=[reaction("R <-> LR", "kon*L", "koff")],
... )
>>> s.species_names
('R', 'LR')
"""
from __future__ import annotations

import hashlib
import keyword
import math
import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping, Sequence

import sympy

from .errors import SchemeError, did_you_mean
from .units import UnitSystem, conversion_factor, parse_unit

__all__ = [
    "Species",
    "Parameter",
    "Input",
    "Reaction",
    "Observable",
    "RateRule",
    "Event",
    "Scheme",
    "reaction",
    "as_scheme",
    "TIME",
    "RESERVED_NAMES",
    "check_name",
    "name_part",
    "name_from_text",
    "qualified_name",
]

#: The symbol for time in every expression.
TIME = sympy.Symbol("t")
#: Names no component may take.
RESERVED_NAMES = frozenset({"t", "time", "pi", "e", "E_", "inf", "nan"}) | frozenset(keyword.kwlist)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_name(name, kind: str = "component") -> str:
    """The one rule for every name: of a scheme, species, parameter, input, observable, reaction, rate-rule target.

    Returns the name in its canonical form, or raises :class:`~kinetics.errors.SchemeError`:

    1. the name is NFKC-normalised — Python's parser (which reads every expression, see
       :mod:`kinetics.expressions`) does so for identifiers, so ``ﬁ`` in an expression *is* ``fi``; the
       component must be the same one, and two names equal once normalised are one name (a duplicate);
    2. the result must be an **ASCII** identifier, ``[A-Za-z_][A-Za-z0-9_]*``: names are written unchanged
       as SBML ids (SId is ASCII), C and NMODL identifiers, so they can never carry anything else into
       generated code (free text goes through :mod:`kinetics.escape`);
    3. it must not be reserved (:data:`RESERVED_NAMES`: ``t``, ``pi``, Python keywords...) nor start with
       ``_`` (kept for generated temporaries).

    Names built from free text (a file name, a condition label) use :func:`name_part` first.

    >>> check_name("ﬁ", "species")
    'fi'
    >>> check_name("µ", "parameter")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    kinetics.errors.SchemeError: parameter name 'µ' is not a valid name: names are ASCII identifiers ...
    """
    if not isinstance(name, str):
        raise SchemeError(f"{kind} name must be a string, got {type(name).__name__}: {name!r}")
    norm = unicodedata.normalize("NFKC", name)
    if _NAME.fullmatch(norm) is None:
        after = f"; after NFKC normalisation {norm!r}" if norm != name else ""
        raise SchemeError(f"{kind} name {name!r} is not a valid name: names are ASCII identifiers (letters A-Z, a-z, "
                          f"digits and _, not starting with a digit{after}), because they are written unchanged as "
                          f"SBML ids and C and NMODL identifiers; put free text in a description or note")
    if norm in RESERVED_NAMES or norm.startswith("_"):
        raise SchemeError(f"{kind} name `{norm}` is reserved; choose another name")
    return norm


_check_name = check_name


def _nfkc(name):
    """A name looked up as the rule writes it (``ﬁ`` finds ``fi``); other values unchanged."""
    return unicodedata.normalize("NFKC", name) if isinstance(name, str) else name


def name_part(text, default: str = "x") -> str:
    """Free text made into a piece of a name: NFKC, every run of characters other than ASCII letters and
    digits one ``_``, no ``_`` at either end (``"AP5+SP"`` -> ``"AP5_SP"``); ``default`` if nothing is left.

    The result is not checked: a name starting with it goes through :func:`check_name`.
    """
    s = re.sub(r"[^A-Za-z0-9]+", "_", unicodedata.normalize("NFKC", str(text))).strip("_")
    return s or default


def name_from_text(text, default: str = "scheme") -> str:
    """A valid name made from free text (a file's stem, an SBML model's name): :func:`name_part`, ``m_`` before
    a leading digit, ``_`` after a reserved word. For *defaults* only: a name the user gives is checked, never
    rewritten."""
    s = name_part(text, default)
    if s[0].isdigit():
        s = "m_" + s
    while s in RESERVED_NAMES:
        s += "_"
    return check_name(s)


def qualified_name(base: str, *qualifiers) -> str:
    """The name of a variant of scheme ``base``: ``base__q1_q2`` (``__`` then the qualifiers, each through
    :func:`name_part`, joined by ``_``): ``qualified_name("glun1_glun2", "destexhe1994", "AP5")`` is
    ``"glun1_glun2__destexhe1994_AP5"``. This is the library's convention for names that used to be
    written ``base[q1,q2]``; a readable label belongs in the scheme's ``description``.
    """
    parts = [name_part(q, "") for q in qualifiers]
    parts = [p for p in parts if p]
    return check_name(base + ("__" + "_".join(parts) if parts else ""), "scheme")


def _finite(value, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SchemeError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise SchemeError(f"{what} must be finite, got {v}")
    return v


def expression_text(expr) -> str:
    """``expr`` in the kinetics expression syntax (re-parseable), or sympy's text if the syntax cannot hold it."""
    from .expressions import format_expression

    try:
        return format_expression(expr)
    except SchemeError:
        return sympy.sstr(expr)


def _as_expr(value, what: str) -> sympy.Expr:
    """Turn a number, string or sympy expression into a sympy expression (strings parsed safely)."""
    from .expressions import parse_expression

    if isinstance(value, sympy.Basic):
        expr = value
    elif isinstance(value, str):
        expr = parse_expression(value)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        _finite(value, what)
        expr = sympy.Float(value) if isinstance(value, float) else sympy.Integer(value)
    else:
        raise SchemeError(f"{what} must be an expression string, a number or a sympy expression, got {value!r}")
    # canonical plain symbols, whatever assumptions the caller's symbols carried, named in NFKC as the
    # parser and check_name write names (a sympy Symbol("ﬁ") is the component `fi`)
    return expr.xreplace({s: sympy.Symbol(unicodedata.normalize("NFKC", s.name))
                          for s in expr.free_symbols if isinstance(s, sympy.Symbol)})


@dataclass(frozen=True)
class Species:
    """A state variable: a chemical species or receptor state.

    Parameters
    ----------
    name : str
    initial : float
        Initial value, in ``unit`` (default the scheme's concentration unit).
    unit : str, optional
        ``"1"`` for dimensionless occupancies/fractions.
    nonnegative : bool
        Concentrations and occupancies are >= 0 (checked for ``initial``); set
        False for states such as an efficacy offset or a potential.
    note : str
    """

    name: str
    initial: float = 0.0
    unit: str | None = None
    nonnegative: bool = True
    note: str = ""

    def __post_init__(self):
        object.__setattr__(self, "name", check_name(self.name, "species"))
        object.__setattr__(self, "initial", _finite(self.initial, f"initial value of species `{self.name}`"))
        if self.nonnegative and self.initial < 0:
            raise SchemeError(f"initial value of species `{self.name}` is negative ({self.initial}); "
                              "pass nonnegative=False if this state may be negative")
        if self.unit is not None:
            parse_unit(self.unit)


@dataclass(frozen=True)
class Parameter:
    """A named constant with its unit, bounds and source.

    ``value`` is in ``unit``; the scheme converts it to its unit system once.
    ``bounds`` default to ``(0, inf)``: rate constants are non-negative. A
    parameter that may be negative (a reversal potential, a half-activation
    voltage) declares wider bounds.

    Examples
    --------
    >>> Parameter("Rb", 5.0, "1/(uM*s)", reference="Destexhe et al. 1998")
    Parameter(name='Rb', value=5.0, unit='1/(uM*s)', bounds=(0.0, inf), reference='Destexhe et al. 1998', note='')
    """

    name: str
    value: float
    unit: str = "1"
    bounds: tuple = (0.0, math.inf)
    reference: str = ""
    note: str = ""

    def __post_init__(self):
        object.__setattr__(self, "name", check_name(self.name, "parameter"))
        object.__setattr__(self, "value", _finite(self.value, f"value of parameter `{self.name}`"))
        parse_unit(self.unit)
        try:
            lo, hi = (float(b) for b in self.bounds)
        except (TypeError, ValueError):
            raise SchemeError(f"bounds of parameter `{self.name}` must be a pair (low, high), got {self.bounds!r}") from None
        if math.isnan(lo) or math.isnan(hi) or lo > hi:
            raise SchemeError(f"bounds of parameter `{self.name}` are invalid: {self.bounds!r}")
        object.__setattr__(self, "bounds", (lo, hi))
        if not lo <= self.value <= hi:
            raise SchemeError(f"value of parameter `{self.name}` ({self.value}) is outside its bounds [{lo}, {hi}]"
                              + ("; rate constants must be non-negative" if lo == 0 and self.value < 0 else ""))

    def with_value(self, value) -> "Parameter":
        """A copy with another value (same unit), validated against the bounds."""
        return replace(self, value=value)


@dataclass(frozen=True)
class Input:
    """A time-dependent quantity a protocol supplies (transmitter, voltage, drug).

    ``default`` is its value when the protocol does not drive it.
    """

    name: str
    default: float = 0.0
    unit: str | None = None
    note: str = ""

    def __post_init__(self):
        object.__setattr__(self, "name", check_name(self.name, "input"))
        object.__setattr__(self, "default", _finite(self.default, f"default of input `{self.name}`"))
        if self.unit is not None:
            parse_unit(self.unit)


def _stoich(pairs, what) -> tuple:
    out = []
    for item in pairs:
        if isinstance(item, str):
            name, coeff = item, 1
        else:
            name, coeff = item
        name = check_name(name, "species")
        if isinstance(coeff, bool) or not isinstance(coeff, (int, float)) or coeff <= 0 or int(coeff) != coeff:
            raise SchemeError(f"stoichiometric coefficient of `{name}` in {what} must be a positive integer, got {coeff!r}")
        out.append((name, int(coeff)))
    merged: dict[str, int] = {}
    for name, c in out:
        merged[name] = merged.get(name, 0) + c
    return tuple(merged.items())


@dataclass(frozen=True)
class Reaction:
    """A reaction with mass-action rate constants or a general rate law.

    Give ``forward`` (and ``reverse`` for a reversible reaction) as *rate
    constants* (expressions, may depend on inputs and observables: ``2*Rb*glu``),
    or ``rate`` as the full net flux. Use :func:`reaction` to write it as text.
    """

    reactants: tuple
    products: tuple
    forward: sympy.Expr | None = None
    reverse: sympy.Expr | None = None
    rate: sympy.Expr | None = None
    name: str = ""

    def __post_init__(self):
        label = self.name or "reaction"
        object.__setattr__(self, "reactants", _stoich(self.reactants, f"the reactants of {label}"))
        object.__setattr__(self, "products", _stoich(self.products, f"the products of {label}"))
        if not self.reactants and not self.products:
            raise SchemeError(f"{label} has neither reactants nor products")
        if self.rate is not None:
            if self.forward is not None or self.reverse is not None:
                raise SchemeError(f"{label}: give either `rate` or `forward`/`reverse` rate constants, not both")
            object.__setattr__(self, "rate", _as_expr(self.rate, f"rate of {label}"))
        else:
            if self.forward is None:
                raise SchemeError(f"{label} needs a `forward` rate constant or a `rate` law")
            object.__setattr__(self, "forward", _as_expr(self.forward, f"forward rate of {label}"))
            if self.reverse is not None:
                object.__setattr__(self, "reverse", _as_expr(self.reverse, f"reverse rate of {label}"))
        if self.name:
            object.__setattr__(self, "name", check_name(self.name, "reaction"))

    @property
    def reversible(self) -> bool:
        return self.reverse is not None

    @property
    def species(self) -> tuple:
        return tuple(dict.fromkeys([n for n, _ in self.reactants] + [n for n, _ in self.products]))

    def flux(self) -> sympy.Expr:
        """The net flux as a sympy expression (mass-action convention in the module docstring)."""
        if self.rate is not None:
            return self.rate
        fwd = self.forward * sympy.Mul(*[sympy.Symbol(n) ** c for n, c in self.reactants])
        if self.reverse is None:
            return fwd
        return fwd - self.reverse * sympy.Mul(*[sympy.Symbol(n) ** c for n, c in self.products])

    def expressions(self) -> tuple:
        return tuple(e for e in (self.forward, self.reverse, self.rate) if e is not None)

    def equation(self) -> str:
        """The reaction as text, e.g. ``"2 A + B <-> C"``."""
        def side(pairs):
            return " + ".join((f"{c} {n}" if c != 1 else n) for n, c in pairs)
        arrow = "<->" if self.reversible else "->"
        return f"{side(self.reactants)} {arrow} {side(self.products)}".strip()

    def __str__(self) -> str:
        if self.rate is not None:
            return f"{self.equation()} ; rate = {expression_text(self.rate)}"
        rates = expression_text(self.forward) + (f", {expression_text(self.reverse)}" if self.reversible else "")
        return f"{self.equation()} ; {rates}"


def reaction(equation: str, forward=None, reverse=None, *, rate=None, name: str = "") -> Reaction:
    """Build a :class:`Reaction` from text.

    Examples
    --------
    >>> str(reaction("C0 <-> C1", "2*Rb*glu", "Ru"))
    'C0 <-> C1 ; 2*Rb*glu, Ru'
    >>> str(reaction("-> Ca", rate="k_in*O"))
    '-> Ca ; rate = O*k_in'
    """
    from .expressions import parse_equation

    reactants, products, reversible = parse_equation(equation)
    if rate is None:
        if reversible and reverse is None:
            raise SchemeError(f"reversible reaction `{equation}` needs a reverse rate constant")
        if not reversible and reverse is not None:
            raise SchemeError(f"irreversible reaction `{equation}` got a reverse rate constant; write `<->`")
    elif reversible:
        raise SchemeError(f"reaction `{equation}` with a general rate law must be written with `->` (the rate is the net flux)")
    return Reaction(reactants, products, forward=forward, reverse=reverse, rate=rate, name=name)


@dataclass(frozen=True)
class Observable:
    """A named expression of states, parameters, inputs and time (open probability, a current).

    Observables may be used inside rate laws and other observables (no cycles).
    """

    name: str
    expr: sympy.Expr
    unit: str | None = None
    note: str = ""

    def __post_init__(self):
        object.__setattr__(self, "name", check_name(self.name, "observable"))
        object.__setattr__(self, "expr", _as_expr(self.expr, f"observable `{self.name}`"))
        if self.unit is not None:
            parse_unit(self.unit)


@dataclass(frozen=True)
class RateRule:
    """An extra term of a state's ODE: ``d species/dt += expr`` (for non-reaction dynamics)."""

    species: str
    expr: sympy.Expr

    def __post_init__(self):
        object.__setattr__(self, "species", check_name(self.species, "species"))
        object.__setattr__(self, "expr", _as_expr(self.expr, f"rate rule of `{self.species}`"))


_RELATIONS = (sympy.StrictGreaterThan, sympy.GreaterThan, sympy.StrictLessThan, sympy.LessThan)


def _as_condition(value, what: str):
    """A trigger: a sympy boolean of the relations ``<``, ``<=``, ``>``, ``>=`` (combined with and/or/not),
    from a string (parsed safely, as a piecewise condition) or a sympy boolean."""
    from .expressions import parse_expression

    if isinstance(value, str):
        try:
            pw = parse_expression(f"piecewise(1, {value}, 0)")
        except SchemeError as exc:
            raise SchemeError(f"{what} `{value}` is not a valid condition: {exc}") from None
        if not isinstance(pw, sympy.Piecewise):
            raise SchemeError(f"{what} `{value}` is constant (always true or always false); "
                              "a trigger must depend on time, states or inputs")
        cond = pw.args[0].cond
    elif isinstance(value, sympy.logic.boolalg.Boolean) and not isinstance(value, sympy.Symbol):
        cond = value
    else:
        raise SchemeError(f"{what} must be a condition such as `A > 1` (a string or a sympy relation, combined "
                          f"with and/or/not), got {value!r}")
    if cond in (sympy.true, sympy.false):
        raise SchemeError(f"{what} is constant ({cond}); a trigger must depend on time, states or inputs")

    def check(c):
        if isinstance(c, _RELATIONS):
            return
        if isinstance(c, (sympy.And, sympy.Or, sympy.Not)):
            for a in c.args:
                check(a)
            return
        if isinstance(c, (sympy.Eq, sympy.Ne)):
            raise SchemeError(f"{what}: `==` and `!=` cannot trigger an event (an equality is crossed, never "
                              f"held); write `>=` or `<=`")
        raise SchemeError(f"{what}: `{c}` is not a relation (<, <=, >, >=) nor and/or/not of relations")

    check(cond)
    return cond.xreplace({x: sympy.Symbol(unicodedata.normalize("NFKC", x.name))
                          for x in cond.free_symbols if isinstance(x, sympy.Symbol)})


def condition_text(cond) -> str:
    """A trigger condition in the kinetics expression syntax (``A > 1 and t >= 5``).

    >>> condition_text(Event("ev", "A > 1 and t >= 5", {"A": "0"}).trigger)
    '(t >= 5) and (A > 1)'
    """
    from .expressions import format_expression

    text = format_expression(sympy.Piecewise((1, cond), (0, True)))
    head, tail = "piecewise(1, ", ", 0)"
    if text.startswith(head) and text.endswith(tail):
        return text[len(head):-len(tail)]
    return sympy.sstr(cond)  # pragma: no cover - the printer always writes this form


@dataclass(frozen=True)
class Event:
    """A discrete event (SBML semantics): when ``trigger`` turns from false to true, the ``assignments`` are
    applied (after ``delay``, if given).

    Parameters
    ----------
    name : str
    trigger : str or sympy boolean
        Relations ``<``, ``<=``, ``>``, ``>=`` of states, parameters, inputs, observables and ``t``, combined
        with ``and``/``or``/``not`` (``"V > -20"``, ``"A < 0.1 and t > 5"``).
    assignments : mapping target -> expression
        New values of species (each an expression, like a rate law). All of an event's assignments are
        evaluated before any is applied.
    delay : expression, optional
        Time from the trigger to the assignments (evaluated when the trigger fires; must not be negative).
    priority : expression, optional
        Events that fire at the same time run in decreasing priority (then in declaration order; an event
        without a priority runs after those with one).
    persistent : bool
        A delayed event still fires if its trigger turns false before the delay is over (default). With
        ``False`` it is cancelled.
    initial_value : bool
        The trigger's value just before the start: with ``False`` an event whose trigger holds at ``t0``
        fires at ``t0``.
    use_values_from_trigger_time : bool
        A delayed event's assignments are evaluated when it is triggered (default) or when it fires.
    note : str

    Examples
    --------
    >>> ev = Event("reset", "V > 1", {"V": "0"})
    >>> ev.trigger, ev.assignments
    (V > 1, (('V', 0),))
    """

    name: str
    trigger: object
    assignments: tuple = ()
    delay: sympy.Expr | None = None
    priority: sympy.Expr | None = None
    persistent: bool = True
    initial_value: bool = True
    use_values_from_trigger_time: bool = True
    note: str = ""

    def __post_init__(self):
        object.__setattr__(self, "name", check_name(self.name, "event"))
        label = f"event `{self.name}`"
        object.__setattr__(self, "trigger", _as_condition(self.trigger, f"trigger of {label}"))
        items = self.assignments.items() if isinstance(self.assignments, Mapping) else self.assignments
        try:
            items = [(k, v) for k, v in items]
        except (TypeError, ValueError):
            raise SchemeError(f"assignments of {label} must be a mapping target -> expression, "
                              f"got {self.assignments!r}") from None
        if not items:
            raise SchemeError(f"{label} has no assignments: it would do nothing")
        out, seen = [], set()
        for target, expr in items:
            target = check_name(target, f"target of {label}")
            if target in seen:
                raise SchemeError(f"{label} assigns `{target}` twice")
            seen.add(target)
            out.append((target, _as_expr(expr, f"assignment to `{target}` in {label}")))
        object.__setattr__(self, "assignments", tuple(out))
        if self.delay is not None:
            d = _as_expr(self.delay, f"delay of {label}")
            if d.is_number and (not d.is_real or float(d) < 0):
                raise SchemeError(f"delay of {label} must not be negative, got {d}")
            object.__setattr__(self, "delay", d)
        if self.priority is not None:
            object.__setattr__(self, "priority", _as_expr(self.priority, f"priority of {label}"))
        for flag in ("persistent", "initial_value", "use_values_from_trigger_time"):
            if not isinstance(getattr(self, flag), bool):
                raise SchemeError(f"`{flag}` of {label} must be True or False, got {getattr(self, flag)!r}")

    def expressions(self) -> tuple:
        """Every expression of the event (trigger, assignments, delay, priority)."""
        return (self.trigger, *(e for _, e in self.assignments),
                *(e for e in (self.delay, self.priority) if e is not None))

    def key(self) -> str:
        """Text naming everything of the event (for :meth:`Scheme.structure_key`)."""
        return "|".join([self.name, sympy.srepr(self.trigger),
                         *[f"{k}={sympy.srepr(v)}" for k, v in self.assignments],
                         sympy.srepr(self.delay) if self.delay is not None else "",
                         sympy.srepr(self.priority) if self.priority is not None else "",
                         f"{self.persistent:d}{self.initial_value:d}{self.use_values_from_trigger_time:d}"])

    def __str__(self) -> str:
        parts = [f"when {condition_text(self.trigger)}: "
                 + ", ".join(f"{k} = {expression_text(v)}" for k, v in self.assignments)]
        if self.delay is not None:
            parts.append(f"delay {expression_text(self.delay)}")
        if self.priority is not None:
            parts.append(f"priority {expression_text(self.priority)}")
        if not self.persistent:
            parts.append("not persistent")
        if not self.initial_value:
            parts.append("initially false")
        if not self.use_values_from_trigger_time:
            parts.append("values at firing")
        return f"{self.name}: " + "; ".join(parts)


def _tuple_of(items, cls, what):
    items = tuple(items)
    for it in items:
        if not isinstance(it, cls):
            raise SchemeError(f"{what} must be {cls.__name__} objects, got {type(it).__name__}: {it!r}")
    return items


@dataclass(frozen=True)
class Scheme:
    """An immutable reaction scheme. See the module docstring for conventions.

    Parameters
    ----------
    name : str
    species, parameters, inputs, reactions, observables, rate_rules : sequences
        The components. Names are unique across species, parameters, inputs and
        observables.
    units : UnitSystem
        The units in which the derived equations are written.
    description, reference : str
        Free text for reports and exports.
    events : sequence of Event
        Discrete events (:class:`Event`; run by :mod:`kinetics.events`).
    check_units : bool
        Check the dimensions when the scheme is built (default): a definite
        dimensional error raises :class:`~kinetics.errors.UnitError` (see
        :func:`kinetics.dimensions.require_consistent_units`). ``False`` skips
        it, for units known to be right; schemes derived from this one
        (``replace``, ``with_parameters``, ``rename``, ``compose``) keep it.

    Raises
    ------
    SchemeError
        For duplicate or unknown names, bad values, cyclic observables or a
        scheme with no states.
    UnitError
        For a rate constant of the wrong order, a sum of terms of different
        dimensions, an exponent with units...
    """

    name: str
    species: tuple = ()
    parameters: tuple = ()
    inputs: tuple = ()
    reactions: tuple = ()
    observables: tuple = ()
    rate_rules: tuple = ()
    units: UnitSystem = field(default_factory=UnitSystem)
    description: str = ""
    reference: str = ""
    events: tuple = ()
    check_units: bool = field(default=True, compare=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip():
            raise SchemeError("a scheme needs a non-empty `name`")
        object.__setattr__(self, "name", check_name(self.name, "scheme"))
        for attr, cls in (("species", Species), ("parameters", Parameter), ("inputs", Input),
                          ("reactions", Reaction), ("observables", Observable), ("rate_rules", RateRule),
                          ("events", Event)):
            object.__setattr__(self, attr, _tuple_of(getattr(self, attr), cls, f"`{attr}` of scheme `{self.name}`"))
        if not isinstance(self.units, UnitSystem):
            raise SchemeError(f"`units` of scheme `{self.name}` must be a UnitSystem")
        if not isinstance(self.check_units, bool):
            raise SchemeError(f"`check_units` of scheme `{self.name}` must be True or False, "
                              f"got {self.check_units!r}")
        self._validate()
        if self.check_units:
            from .dimensions import require_consistent_units

            require_consistent_units(self)

    # ----------------------------------------------------------------- validation
    def _validate(self):
        if not self.species:
            raise SchemeError(f"scheme `{self.name}` has no species")
        if not self.reactions and not self.rate_rules:
            raise SchemeError(f"scheme `{self.name}` has no reactions and no rate rules: nothing changes")
        seen: dict[str, str] = {}
        for kind, items in (("species", self.species), ("parameter", self.parameters),
                            ("input", self.inputs), ("observable", self.observables)):
            for it in items:
                if it.name in seen:
                    raise SchemeError(f"duplicate name `{it.name}` in scheme `{self.name}`: "
                                      f"already used by a {seen[it.name]}, now as a {kind} (names are compared "
                                      f"after NFKC normalisation: `ﬁ` is `fi`)")
                seen[it.name] = kind
        known = set(seen) | {"t"}
        species = set(self.species_names)

        def check_expr(expr, where):
            for sym in expr.free_symbols:
                if sym.name not in known:
                    raise SchemeError(f"unknown name `{sym.name}` in {where} of scheme `{self.name}`"
                                      + did_you_mean(sym.name, known))

        for i, r in enumerate(self.reactions):
            where = f"reaction {i} (`{r.equation()}`)"
            for n in r.species:
                if n not in species:
                    raise SchemeError(f"unknown species `{n}` in {where} of scheme `{self.name}`"
                                      + did_you_mean(n, species))
            for e in r.expressions():
                check_expr(e, where)
        rr_seen = set()
        for rr in self.rate_rules:
            if rr.species not in species:
                raise SchemeError(f"rate rule for unknown species `{rr.species}` in scheme `{self.name}`"
                                  + did_you_mean(rr.species, species))
            if rr.species in rr_seen:
                raise SchemeError(f"species `{rr.species}` has two rate rules in scheme `{self.name}`; add the terms into one")
            rr_seen.add(rr.species)
            check_expr(rr.expr, f"the rate rule of `{rr.species}`")
        for ob in self.observables:
            check_expr(ob.expr, f"observable `{ob.name}`")
        self.observable_order()  # raises on cycles
        ev_names = set()
        for ev in self.events:
            where = f"event `{ev.name}`"
            if ev.name in seen or ev.name in ev_names:
                raise SchemeError(f"duplicate name `{ev.name}` in scheme `{self.name}`: event names must differ "
                                  f"from each other and from the scheme's components")
            ev_names.add(ev.name)
            for e in ev.expressions():
                check_expr(e, where)
            for target, _ in ev.assignments:
                if target not in species:
                    kind = seen.get(target)
                    if kind == "parameter":
                        raise SchemeError(f"{where} of scheme `{self.name}` assigns parameter `{target}`: events "
                                          f"may assign species only (for now); make `{target}` a species "
                                          f"without reactions (it stays constant between events)")
                    raise SchemeError(f"{where} of scheme `{self.name}` assigns unknown species `{target}`"
                                      + (f" (it is a {kind})" if kind else did_you_mean(target, species)))
        for p in self.parameters:
            try:
                conversion_factor(p.unit, self.units)
            except SchemeError as exc:
                raise SchemeError(f"parameter `{p.name}`: {exc}") from None

    def observable_order(self) -> tuple:
        """Observable names in an order where each depends only on earlier ones."""
        obs = {o.name: o for o in self.observables}
        deps = {n: {s.name for s in o.expr.free_symbols if s.name in obs} for n, o in obs.items()}
        order, state = [], {}

        def visit(n, path):
            if state.get(n) == 2:
                return
            if state.get(n) == 1:
                cycle = " -> ".join(path + [n])
                raise SchemeError(f"observables of scheme `{self.name}` depend on each other in a cycle: {cycle}")
            state[n] = 1
            for d in sorted(deps[n]):
                visit(d, path + [n])
            state[n] = 2
            order.append(n)

        for n in obs:
            visit(n, [])
        return tuple(order)

    # ----------------------------------------------------------------- access
    @property
    def species_names(self) -> tuple:
        return tuple(s.name for s in self.species)

    @property
    def parameter_names(self) -> tuple:
        return tuple(p.name for p in self.parameters)

    @property
    def input_names(self) -> tuple:
        return tuple(u.name for u in self.inputs)

    @property
    def observable_names(self) -> tuple:
        return tuple(o.name for o in self.observables)

    def _lookup(self, items, name, kind):
        name = _nfkc(name)
        for it in items:
            if it.name == name:
                return it
        raise SchemeError(f"unknown {kind} `{name}` in scheme `{self.name}`"
                          + did_you_mean(name, [it.name for it in items]))

    def get_species(self, name: str) -> Species:
        return self._lookup(self.species, name, "species")

    def get_parameter(self, name: str) -> Parameter:
        return self._lookup(self.parameters, name, "parameter")

    def get_input(self, name: str) -> Input:
        return self._lookup(self.inputs, name, "input")

    def get_observable(self, name: str) -> Observable:
        return self._lookup(self.observables, name, "observable")

    def parameter_values(self) -> dict:
        """Parameter values in their declared units, ``{name: value}``."""
        return {p.name: p.value for p in self.parameters}

    def parameter_factors(self) -> dict:
        """Factor converting each parameter from its declared unit to the scheme's unit system."""
        return {p.name: conversion_factor(p.unit, self.units) for p in self.parameters}

    def initial_values(self) -> dict:
        return {s.name: s.initial for s in self.species}

    # ----------------------------------------------------------------- new schemes
    def replace(self, **changes) -> "Scheme":
        """A new scheme with some fields replaced (validated again)."""
        return replace(self, **changes)

    def with_parameters(self, values: Mapping[str, float] | None = None, **kw) -> "Scheme":
        """A new scheme with parameter values replaced (each in the parameter's own unit).

        >>> s2 = s.with_parameters(koff=0.2)  # doctest: +SKIP
        """
        values = {_nfkc(k): v for k, v in {**(values or {}), **kw}.items()}
        names = set(self.parameter_names)
        for n in values:
            if n not in names:
                raise SchemeError(f"unknown parameter `{n}` in scheme `{self.name}`" + did_you_mean(n, names))
        return replace(self, parameters=tuple(p.with_value(values[p.name]) if p.name in values else p
                                              for p in self.parameters))

    def with_initial(self, values: Mapping[str, float] | None = None, **kw) -> "Scheme":
        """A new scheme with initial values replaced."""
        values = {_nfkc(k): v for k, v in {**(values or {}), **kw}.items()}
        names = set(self.species_names)
        for n in values:
            if n not in names:
                raise SchemeError(f"unknown species `{n}` in scheme `{self.name}`" + did_you_mean(n, names))
        return replace(self, species=tuple(replace(s, initial=values[s.name]) if s.name in values else s
                                           for s in self.species))

    def with_inputs(self, values: Mapping[str, float] | None = None, **kw) -> "Scheme":
        """A new scheme with input defaults replaced."""
        values = {_nfkc(k): v for k, v in {**(values or {}), **kw}.items()}
        names = set(self.input_names)
        for n in values:
            if n not in names:
                raise SchemeError(f"unknown input `{n}` in scheme `{self.name}`" + did_you_mean(n, names))
        return replace(self, inputs=tuple(replace(u, default=values[u.name]) if u.name in values else u
                                          for u in self.inputs))

    def rename(self, mapping: Mapping[str, str], name: str | None = None) -> "Scheme":
        """A new scheme with components (and events) renamed everywhere (``{"O": "O_pre"}``)."""
        known = set(self.species_names) | set(self.parameter_names) | set(self.input_names) | set(self.observable_names)
        known |= {ev.name for ev in self.events}
        mapping = {unicodedata.normalize("NFKC", str(o)): check_name(n) for o, n in mapping.items()}
        for old in mapping:
            if old not in known:
                raise SchemeError(f"cannot rename unknown name `{old}` in scheme `{self.name}`" + did_you_mean(old, known))
        subs = {sympy.Symbol(o): sympy.Symbol(n) for o, n in mapping.items()}

        def rn(x):
            return mapping.get(x, x)

        def rx(e):
            return None if e is None else e.xreplace(subs)

        return Scheme(
            name=name or self.name,
            species=tuple(replace(s, name=rn(s.name)) for s in self.species),
            parameters=tuple(replace(p, name=rn(p.name)) for p in self.parameters),
            inputs=tuple(replace(u, name=rn(u.name)) for u in self.inputs),
            reactions=tuple(Reaction(tuple((rn(n), c) for n, c in r.reactants), tuple((rn(n), c) for n, c in r.products),
                                     forward=rx(r.forward), reverse=rx(r.reverse), rate=rx(r.rate), name=r.name)
                            for r in self.reactions),
            observables=tuple(replace(o, name=rn(o.name), expr=rx(o.expr)) for o in self.observables),
            rate_rules=tuple(RateRule(rn(rr.species), rx(rr.expr)) for rr in self.rate_rules),
            units=self.units, description=self.description, reference=self.reference,
            events=tuple(replace(ev, name=rn(ev.name), trigger=ev.trigger.xreplace(subs),
                                 assignments=tuple((rn(k), rx(v)) for k, v in ev.assignments),
                                 delay=rx(ev.delay), priority=rx(ev.priority)) for ev in self.events),
            check_units=self.check_units,
        )

    def prefixed(self, prefix: str, *, keep: Iterable[str] = (), name: str | None = None) -> "Scheme":
        """Rename every component to ``prefix + name`` except those in ``keep`` (shared symbols)."""
        keep = set(keep)
        names = list(self.species_names) + list(self.parameter_names) + list(self.input_names) + list(self.observable_names)
        names += [ev.name for ev in self.events]
        for k in keep:
            if k not in names:
                raise SchemeError(f"`keep` names unknown `{k}` in scheme `{self.name}`" + did_you_mean(k, names))
        return self.rename({n: prefix + n for n in names if n not in keep}, name=name or prefix + self.name)

    def __add__(self, other: "Scheme") -> "Scheme":
        """Compose two schemes that share symbols (same-named components must agree)."""
        if not isinstance(other, Scheme):
            return NotImplemented
        return compose([self, other])

    def unit_issues(self) -> list:
        """Dimensional inconsistencies of the scheme's rate laws and observables (empty list if consistent).

        Definite errors already raise when a scheme is built; this fuller, advisory report also reads species
        without a unit as concentrations and parameters of unit ``1`` as dimensionless
        (:func:`kinetics.dimensions.check_units`).
        """
        from .dimensions import check_units

        return check_units(self)

    # ----------------------------------------------------------------- identity
    def __getstate__(self):
        # private memos (the structure key, the compiled model) are rebuilt where the scheme is unpickled
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def structure_key(self) -> str:
        """Hash of everything that shapes the derived equations (not parameter values or initial values).

        Two schemes with the same key share derivation and compiled code.
        Computed once per scheme object (a private memo: schemes are immutable).
        """
        hit = self.__dict__.get("_structure_key")
        if hit is not None:
            return hit
        h = hashlib.sha256()
        parts = [
            "species", *self.species_names, "params", *self.parameter_names, "inputs", *self.input_names,
            "obs", *[f"{o.name}={sympy.srepr(o.expr)}" for o in self.observables],
            "rr", *[f"{r.species}={sympy.srepr(r.expr)}" for r in self.rate_rules],
            "rx", *[f"{r.reactants}|{r.products}|{sympy.srepr(r.forward) if r.forward is not None else ''}|"
                    f"{sympy.srepr(r.reverse) if r.reverse is not None else ''}|{sympy.srepr(r.rate) if r.rate is not None else ''}"
                    for r in self.reactions],
            "factors", *[repr(conversion_factor(p.unit, self.units)) for p in self.parameters],
        ]
        if self.events:        # (schemes without events keep the keys they always had)
            parts += ["events", *[ev.key() for ev in self.events]]
        h.update("\x1f".join(parts).encode())
        key = h.hexdigest()
        object.__setattr__(self, "_structure_key", key)
        return key

    def summary(self) -> str:
        """A multi-line, human-readable description of the scheme."""
        lines = [f"Scheme `{self.name}`" + (f" — {self.description}" if self.description else "")]
        if self.reference:
            lines.append(f"  reference: {self.reference}")
        lines.append(f"  units: {self.units}")
        lines.append("  species: " + ", ".join(f"{s.name}={s.initial:g}" for s in self.species))
        if self.inputs:
            lines.append("  inputs: " + ", ".join(f"{u.name} (default {u.default:g}{' ' + u.unit if u.unit else ''})" for u in self.inputs))
        lines.append("  reactions:")
        lines += [f"    {r}" for r in self.reactions]
        if self.rate_rules:
            lines.append("  rate rules:")
            lines += [f"    d{rr.species}/dt = {expression_text(rr.expr)}" for rr in self.rate_rules]
        if self.observables:
            lines.append("  observables:")
            lines += [f"    {o.name} = {expression_text(o.expr)}" for o in self.observables]
        if self.events:
            lines.append("  events:")
            lines += [f"    {ev}" for ev in self.events]
        lines.append("  parameters:")
        for p in self.parameters:
            src = f"  [{p.reference}]" if p.reference else ""
            lines.append(f"    {p.name} = {p.value:g} {p.unit}{src}")
        return "\n".join(lines)


def _merge(items_lists, kind, key=lambda x: x):
    out: dict[str, object] = {}
    for items in items_lists:
        for it in items:
            prev = out.get(it.name)
            if prev is None:
                out[it.name] = it
            elif key(prev) != key(it):
                raise SchemeError(f"cannot compose: {kind} `{it.name}` differs between the schemes "
                                  f"({key(prev)!r} vs {key(it)!r}); rename one (Scheme.prefixed) or make them equal")
    return tuple(out.values())


def compose(schemes: Sequence[Scheme], name: str | None = None, description: str = "") -> Scheme:
    """Compose schemes that share symbols into one (a synapse = receptor + calcium + plasticity).

    Components with the same name are one and the same and must agree (same
    value, unit, expression); reactions and rate rules are concatenated.
    """
    schemes = list(schemes)
    if not schemes:
        raise SchemeError("compose() needs at least one scheme")
    units = schemes[0].units
    for s in schemes[1:]:
        if s.units != units:
            raise SchemeError(f"cannot compose `{schemes[0].name}` and `{s.name}`: different unit systems "
                              f"({units} vs {s.units})")
    rr: dict[str, sympy.Expr] = {}
    for s in schemes:
        for r in s.rate_rules:
            rr[r.species] = rr.get(r.species, 0) + r.expr
    return Scheme(
        name=name or "__".join(s.name for s in schemes),
        species=_merge([s.species for s in schemes], "species", lambda x: (x.initial, x.unit, x.nonnegative)),
        parameters=_merge([s.parameters for s in schemes], "parameter", lambda x: (x.value, x.unit, x.bounds)),
        inputs=_merge([s.inputs for s in schemes], "input", lambda x: (x.default, x.unit)),
        reactions=tuple(r for s in schemes for r in s.reactions),
        observables=_merge([s.observables for s in schemes], "observable", lambda x: sympy.srepr(x.expr)),
        rate_rules=tuple(RateRule(k, v) for k, v in rr.items()),
        events=tuple(ev for s in schemes for ev in s.events),
        units=units,
        description=description,
        check_units=all(s.check_units for s in schemes),
    )


def as_scheme(model) -> Scheme:
    """The :class:`Scheme` of ``model``: a Scheme, or an object with a ``.scheme`` (a library model wrapper)."""
    if isinstance(model, Scheme):
        return model
    scheme = getattr(model, "scheme", None)
    if isinstance(scheme, Scheme):
        return scheme
    from .errors import ArgumentError

    raise ArgumentError(f"`model` must be a kinetics.Scheme (or have a `.scheme`), got {type(model).__name__}")
