"""Fitting to summary statistics: :class:`SummaryDataset`, :class:`Statistic`, :class:`Condition`.

A :class:`~kinetics.fitting.Dataset` compares a model with a recording, point by point in time. Many
measurements are not recordings but **one number per experiment**: the weight change after a pairing
protocol, the peak of a current, the charge it carries, the fraction of receptors still bound at the end of a
wash. A :class:`SummaryDataset` holds such numbers. Each data point is **one simulation** — its own protocol,
``t_end``, parameter values (a drug concentration) and initial values: a :class:`Condition` — reduced to a
scalar by a :class:`Statistic`: a *reduction* of an *expression* of species, scheme observables, parameters,
inputs and time ``t``.

Why "summary": a scalar function of a whole trajectory is a *summary statistic* (the term of pharmacokinetics'
non-compartmental analysis — Cmax, AUC, C(t) — and of simulation-based inference); "derived" is avoided on
purpose, because in this engine :func:`kinetics.derive` already means deriving the ODEs of a scheme.

Reductions
----------
With ``g(t)`` the statistic's expression along the condition's simulation on ``[t0, t_end]``:

* ``"final"`` — ``g(t_end)``;
* ``"at"`` — ``g(time)``;
* ``"mean"`` — ``(1 / (t2 - t1)) * integral of g over [t1, t2]``;
* ``"integral"`` — ``integral of g over [t1, t2]`` (a charge, an area under the curve);
* ``"max"``, ``"min"`` — the extremum of ``g`` over ``[t1, t2]`` (a peak);
* ``"ratio"`` — ``g(time) / g(t0)``, ``time`` defaulting to ``t_end`` (a weight change ``w(t_end) / w(0)``);
* ``"change"`` — ``g(time) - g(t0)``.

``window=(t1, t2)`` defaults to ``[t0, t_end]``; ``time`` and ``window`` may also be given per condition (a
sequence with one entry per condition). Every time must lie in ``[t0, t_end]`` of its condition. ``g(t0)`` is
the value after any jump the protocol makes at ``t0``; ``g(t_end)`` is the left limit at ``t_end``.

Sensitivities
-------------
Every statistic is ``S = sum_j w_j h(t_j)`` for some function ``h`` at some times ``t_j``, or a ratio of two
such values, and its exact derivative is the chain rule through ``h``::

    dh(t_j)/dtheta = dh/dy . dy(t_j)/dtheta + dh/dtheta

with ``dy/dtheta`` from the forward sensitivity equations (:mod:`kinetics.fitting.sensitivity`, via
:meth:`kinetics.model.CompiledModel.sensitivity_solver`) and the partial derivatives of ``h`` from sympy.

* ``"final"``, ``"at"``, ``"ratio"``, ``"change"``: exact (to the solver's tolerance).
* ``"mean"`` and ``"integral"`` add one **quadrature state** per integrand, ``dQ/dt = g(t, y, p, u)``,
  ``Q(t0) = 0``, to the model (a rate rule; the extended model is compiled once and cached like any other),
  so ``integral = Q(t2) - Q(t1)`` is integrated under the solver's error control, with its sensitivities —
  no quadrature rule, no grid error.
* ``"max"`` / ``"min"`` evaluate ``g`` on ``points`` equally spaced times of the window plus the protocol's
  breakpoints inside it (dense output: no extra steps), take the best grid point, and, when it and its two
  neighbours lie within one protocol segment, refine it to the vertex of the parabola through the three points.
  The value is then ``sum_j L_j(t*) g(t_j)`` (Lagrange weights at the vertex ``t*``) and, by the envelope
  theorem, its derivative is ``sum_j L_j(t*) dg(t_j)/dtheta`` — exact for the computed value. For a smooth
  peak the value converges to the true extremum as ``O(h^3)`` and the derivative to the true one as ``O(h^2)``
  (``h`` the grid spacing; with the default 1001 points on ``[0, 20]`` about 2e-8 and 2e-5 relative). An
  extremum at a breakpoint (the end of a pulse) or at the window's edge is a grid point: value and derivative
  exact. The left limit just before a jump is not seen (outputs at a breakpoint are after its jumps).
* ``"ratio"``: ``dS = (dg(time) - S dg(t0)) / g(t0)``.

Noise
-----
``sigma`` is required (a summary measurement comes with its standard error): a number, a mapping
``{statistic: number or array (one per condition)}``, or ``"estimate"`` (one unknown sigma per statistic,
as for :class:`~kinetics.fitting.Dataset`; needs more conditions than fitted parameters).

Examples
--------
>>> import numpy as np, kinetics as kx
>>> from kinetics.fitting import Condition, Statistic, SummaryDataset, fit
>>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 0.3, "1/ms")],
...               reactions=[kx.reaction("A ->", "k")])
>>> T = [1.0, 2.0, 4.0]
>>> ds = SummaryDataset("endpoints", statistics={"A_end": Statistic("A", "final")},
...                     conditions=[Condition(t_end=t) for t in T], data={"A_end": np.exp(-0.5 * np.array(T))},
...                     sigma=0.01)
>>> res = fit(s, ds, {"k": (0.01, 10.0)}, n_starts=2, executor="serial")
>>> round(res.values["k"], 6)
0.5
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import sympy

from ..codegen import lambdify_modules
from ..errors import ArgumentError, ParseError, SchemeError, SolverError, did_you_mean
from ..protocol import Protocol
from .dataset import ESTIMATE, Dataset, _float_array, check_name_and_protocol

__all__ = ["SummaryDataset", "Statistic", "Condition", "REDUCTIONS"]

#: The reductions a :class:`Statistic` may apply.
REDUCTIONS = ("final", "at", "mean", "integral", "max", "min", "ratio", "change")
#: Default number of grid points of a max/min window.
DEFAULT_POINTS = 1001

_WINDOWED = ("mean", "integral", "max", "min")
_TIMED = ("at", "ratio", "change")
_QUADRATURE = ("mean", "integral")


def _number(v, what):
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ArgumentError(f"{what} must be a number, got {v!r}") from None
    if not math.isfinite(f):
        raise ArgumentError(f"{what} must be finite, got {f}")
    return f


def _parse(expression, what):
    from ..expressions import parse_expression

    if isinstance(expression, sympy.Basic):
        return expression
    if not isinstance(expression, str) or not expression.strip():
        raise ArgumentError(f"{what}: `expression` must be a non-empty expression string, got {expression!r}")
    try:
        return parse_expression(expression)
    except ParseError as exc:
        raise ParseError(f"{what}: {exc}") from None


@dataclass(frozen=True)
class Statistic:
    """A scalar summary of one simulation: ``reduction`` of ``expression`` (see the module docstring).

    Parameters
    ----------
    expression : str
        An expression of species, scheme observables, parameters, inputs and time ``t`` (``"w"``,
        ``"-g*O*(V - E)"``). Other names are observation parameters (give them in the dataset's or the
        condition's ``parameters``, or fit them).
    reduction : str
        One of :data:`REDUCTIONS` (default ``"final"``).
    time : float or sequence of float, optional
        For ``"at"`` (required), ``"ratio"`` and ``"change"`` (default ``t_end``); one per condition if a
        sequence.
    window : (t1, t2) or sequence of (t1, t2), optional
        For ``"mean"``, ``"integral"``, ``"max"`` and ``"min"`` (default ``[t0, t_end]``); ``t1 < t2``.
    points : int
        Grid points of a ``"max"``/``"min"`` window (default :data:`DEFAULT_POINTS`; at least 3).

    Examples
    --------
    >>> Statistic("w", "ratio").reduction
    'ratio'
    >>> Statistic("O", "max", window=(0.0, 50.0)).window
    (0.0, 50.0)
    """

    expression: object
    reduction: str = "final"
    time: object = None
    window: object = None
    points: int = DEFAULT_POINTS

    def __post_init__(self):
        what = f"statistic `{self.reduction}({self.expression})`"
        if not isinstance(self.reduction, str) or self.reduction not in REDUCTIONS:
            raise ArgumentError(f"unknown reduction {self.reduction!r} (the reductions are {', '.join(REDUCTIONS)})"
                                + did_you_mean(str(self.reduction), REDUCTIONS))
        _parse(self.expression, what)
        r = self.reduction
        if self.time is not None and r not in _TIMED:
            raise ArgumentError(f"{what}: `time` is only for the reductions {_TIMED}"
                                + ("; give `window=(t1, t2)`" if r in _WINDOWED else
                                   "; 'final' is at each condition's t_end (use 'at' for another time)"))
        if self.window is not None and r not in _WINDOWED:
            raise ArgumentError(f"{what}: `window` is only for the reductions {_WINDOWED}")
        if r == "at" and self.time is None:
            raise ArgumentError(f"{what}: the reduction 'at' needs `time`")
        if self.time is not None:
            arr = np.asarray(self.time, dtype=object)
            if arr.ndim == 0:
                object.__setattr__(self, "time", _number(self.time, f"{what}: `time`"))
            else:
                object.__setattr__(self, "time", tuple(_number(v, f"{what}: `time`") for v in np.ravel(arr)))
        if self.window is not None:
            object.__setattr__(self, "window", self._check_window(self.window, what))
        if isinstance(self.points, bool) or not isinstance(self.points, (int, np.integer)) or self.points < 3:
            raise ArgumentError(f"{what}: `points` must be an integer >= 3, got {self.points!r}")
        object.__setattr__(self, "points", int(self.points))

    @staticmethod
    def _check_window(window, what):
        try:
            arr = np.array(window, dtype=float)
        except (TypeError, ValueError):
            raise ArgumentError(f"{what}: `window` must be a pair (t1, t2) or one pair per condition, "
                                f"got {window!r}") from None
        if arr.shape == (2,):
            pairs = [arr]
        elif arr.ndim == 2 and arr.shape[1] == 2 and arr.shape[0] > 0:
            pairs = list(arr)
        else:
            raise ArgumentError(f"{what}: `window` must be a pair (t1, t2) or one pair per condition, "
                                f"got shape {arr.shape}")
        for t1, t2 in pairs:
            if not (math.isfinite(t1) and math.isfinite(t2)):
                raise ArgumentError(f"{what}: `window` must be finite, got ({t1}, {t2})")
            if not t1 < t2:
                raise ArgumentError(f"{what}: `window` ({t1}, {t2}) must have t1 < t2")
        if arr.shape == (2,):
            return (float(arr[0]), float(arr[1]))
        return tuple((float(a), float(b)) for a, b in arr)

    @property
    def expr(self) -> sympy.Expr:
        """The parsed expression (sympy)."""
        return _parse(self.expression, "statistic")

    @classmethod
    def coerce(cls, name, spec) -> "Statistic":
        """A Statistic from a Statistic, an expression string (its final value) or a mapping of fields."""
        if isinstance(spec, Statistic):
            return spec
        if isinstance(spec, str):
            return cls(spec)
        if isinstance(spec, Mapping):
            fields_ = ("expression", "reduction", "time", "window", "points")
            unknown = set(spec) - set(fields_)
            if unknown:
                bad = sorted(unknown)[0]
                raise ArgumentError(f"statistic `{name}` has unknown field `{bad}`" + did_you_mean(bad, fields_))
            if "expression" not in spec:
                raise ArgumentError(f"statistic `{name}` needs an `expression`")
            return cls(**dict(spec))
        raise ArgumentError(f"statistic `{name}`: expected a Statistic, an expression string or a mapping, "
                            f"got {type(spec).__name__}")

    def times_for(self, k: int, n: int, t0: float, t_end: float, where: str):
        """``(time, (t1, t2))`` of condition ``k`` of ``n`` (checked against ``[t0, t_end]``)."""
        what = f"{where}, statistic `{self.reduction}({self.expression})`"
        time = window = None
        if self.reduction in _TIMED:
            time = t_end if self.time is None else self.time
            if isinstance(time, tuple):
                if len(time) != n:
                    raise ArgumentError(f"{what}: `time` has {len(time)} values, expected {n} (one per condition)")
                time = time[k]
            if not t0 <= time <= t_end:
                raise ArgumentError(f"{what}: time {time:g} is outside the simulated window [t0, t_end] = "
                                    f"[{t0:g}, {t_end:g}] of condition {k}")
        if self.reduction in _WINDOWED:
            window = (t0, t_end) if self.window is None else self.window
            if isinstance(window[0], tuple):
                if len(window) != n:
                    raise ArgumentError(f"{what}: `window` has {len(window)} pairs, expected {n} (one per condition)")
                window = window[k]
            t1, t2 = window
            if t1 < t0 or t2 > t_end:
                raise ArgumentError(f"{what}: window ({t1:g}, {t2:g}) is outside the simulated window [t0, t_end] "
                                    f"= [{t0:g}, {t_end:g}] of condition {k}")
        return time, window


@dataclass(frozen=True)
class Condition:
    """What one data point of a :class:`SummaryDataset` simulates.

    Parameters
    ----------
    protocol : Protocol, optional
        Default: the dataset's protocol.
    t_end : float, optional
        End of the simulation (default: the dataset's ``t_end``).
    parameters : mapping name -> float, optional
        Values for this condition (a drug concentration): scheme parameters (declared unit) and observation
        parameters; they override the dataset's ``parameters``. A fitted parameter cannot be set here.
    y0 : mapping species -> float, optional
        Initial values for this condition (override the dataset's ``y0``).
    label : str
        Free text for reports.
    """

    protocol: Protocol | None = None
    t_end: float | None = None
    parameters: Mapping[str, float] = field(default_factory=dict)
    y0: Mapping[str, float] = field(default_factory=dict)
    label: str = ""

    def __post_init__(self):
        if self.protocol is not None and not isinstance(self.protocol, Protocol):
            raise ArgumentError(f"condition: `protocol` must be a kinetics Protocol, got "
                                f"{type(self.protocol).__name__}")
        if self.t_end is not None:
            object.__setattr__(self, "t_end", _number(self.t_end, "condition: `t_end`"))
        for attr in ("parameters", "y0"):
            value = getattr(self, attr)
            if value is None:
                value = {}
            if not isinstance(value, Mapping):
                raise ArgumentError(f"condition: `{attr}` must be a mapping of name -> number")
            object.__setattr__(self, attr, {str(k): _number(v, f"condition: `{attr}` value of `{k}`")
                                            for k, v in value.items()})

    @classmethod
    def coerce(cls, spec, index: int) -> "Condition":
        if isinstance(spec, Condition):
            return spec
        if isinstance(spec, Mapping):
            allowed = ("protocol", "t_end", "parameters", "y0", "label")
            unknown = set(spec) - set(allowed)
            if unknown:
                bad = sorted(unknown)[0]
                raise ArgumentError(f"condition {index} has unknown field `{bad}`" + did_you_mean(bad, allowed))
            return cls(**dict(spec))
        raise ArgumentError(f"condition {index} must be a Condition or a mapping of its fields, "
                            f"got {type(spec).__name__}")


@dataclass(frozen=True, eq=False)
class SummaryDataset:
    """Summary measurements to fit: one scalar per (condition, statistic), each from its own simulation.

    Plugs into :func:`~kinetics.fitting.fit` like a :class:`~kinetics.fitting.Dataset` (and may be mixed with
    them): its statistics play the role of observables, its conditions that of time points.

    Parameters
    ----------
    name : str
        An identifier.
    statistics : mapping name -> Statistic (or expression string = its final value, or a mapping of fields)
        What is measured in every condition.
    conditions : sequence of Condition (or mappings of its fields)
        One simulation per entry.
    data : mapping statistic -> array_like (n_conditions,)
        Measured values; finite; one entry per statistic.
    sigma : number, mapping or "estimate"
        Standard error of each value (see the module docstring). Required.
    protocol : Protocol, optional
        The protocol of conditions that give none.
    parameters, y0 : mapping, optional
        Values shared by every condition (a condition's own values override them).
    t0 : float
        Start of every simulation (default 0).
    t_end : float, optional
        End of the simulations of conditions that give none.

    Raises
    ------
    ArgumentError
        Empty data or conditions, NaN/inf, missing ``t_end``, times or windows outside ``[t0, t_end]``,
        non-positive sigma — at construction, before any work. Names are checked against the scheme by
        :meth:`check` (called by the fit).
    """

    name: str
    statistics: Mapping[str, Statistic]
    conditions: Sequence[Condition]
    data: Mapping[str, np.ndarray]
    sigma: object
    protocol: Protocol = field(default_factory=Protocol.empty)
    parameters: Mapping[str, float] = field(default_factory=dict)
    y0: Mapping[str, float] = field(default_factory=dict)
    t0: float = 0.0
    t_end: float | None = None

    def __post_init__(self):
        where = check_name_and_protocol(self, "summary dataset")
        t0 = _number(self.t0, f"{where}: `t0`")
        object.__setattr__(self, "t0", t0)
        if self.t_end is not None:
            object.__setattr__(self, "t_end", _number(self.t_end, f"{where}: `t_end`"))
        # statistics
        if not isinstance(self.statistics, Mapping) or not self.statistics:
            raise ArgumentError(f"{where} is empty: `statistics` must map at least one name to a Statistic")
        stats = {}
        for k, v in self.statistics.items():
            if not isinstance(k, str) or not k.isidentifier():
                raise ArgumentError(f"{where}: statistic name {k!r} must be an identifier")
            stats[k] = Statistic.coerce(k, v)
        object.__setattr__(self, "statistics", stats)
        # conditions
        if isinstance(self.conditions, (Condition, Mapping)) or self.conditions is None:
            raise ArgumentError(f"{where}: `conditions` must be a list of Condition objects")
        conds = tuple(Condition.coerce(c, i) for i, c in enumerate(self.conditions))
        if not conds:
            raise ArgumentError(f"{where} is empty: `conditions` has no entries (one simulation per data point)")
        object.__setattr__(self, "conditions", conds)
        ends = []
        for i, c in enumerate(conds):
            te = c.t_end if c.t_end is not None else self.t_end
            if te is None:
                raise ArgumentError(f"{where}: condition {i} has no `t_end` (give it, or the dataset's `t_end`)")
            if not te > t0:
                raise ArgumentError(f"{where}: condition {i}: `t_end` ({te:g}) must be > t0 ({t0:g})")
            ends.append(te)
        ends = np.array(ends, dtype=float)
        ends.setflags(write=False)
        object.__setattr__(self, "_ends", ends)
        n = len(conds)
        # data
        if not isinstance(self.data, Mapping) or not self.data:
            raise ArgumentError(f"{where} is empty: `data` must map each statistic to its values")
        data = {}
        for k, v in self.data.items():
            if k not in stats:
                raise ArgumentError(f"{where}: `data` has values for `{k}`, which is not a statistic"
                                    + did_you_mean(str(k), stats))
            data[k] = _float_array(v, f"{where}: data of `{k}`", n)
        for k in stats:
            if k not in data:
                raise ArgumentError(f"{where}: statistic `{k}` has no data")
        object.__setattr__(self, "data", {k: data[k] for k in stats})
        if isinstance(self.sigma, str) and self.sigma != ESTIMATE:
            raise ArgumentError(f"{where}: `sigma` must be a number, a mapping, or 'estimate', got {self.sigma!r}")
        object.__setattr__(self, "sigma", Dataset._check_sigma(self.sigma, self.data, n, where))
        # times and windows of every statistic in every condition
        for k, st in stats.items():
            for i in range(n):
                st.times_for(i, n, t0, float(ends[i]), where)
        for attr in ("parameters", "y0"):
            mapping = dict(getattr(self, attr) or {})
            object.__setattr__(self, attr, {str(k): _number(v, f"{where}: `{attr}` value of `{k}`")
                                            for k, v in mapping.items()})

    # ------------------------------------------------------------------ access (the Dataset interface)
    @property
    def observable_names(self) -> tuple:
        """The statistics, in order (they play the role of a Dataset's observables)."""
        return tuple(self.statistics)

    @property
    def n_conditions(self) -> int:
        return len(self.conditions)

    @property
    def n_points(self) -> int:
        """Number of data values (conditions x statistics)."""
        return self.n_conditions * len(self.statistics)

    @property
    def time(self) -> np.ndarray:
        """The end time of each condition's simulation (one entry per condition; a Dataset's time axis)."""
        return self._ends

    def t_end_of(self, i: int) -> float:
        """``t_end`` of condition ``i``."""
        return float(self._ends[i])

    def protocol_of(self, i: int) -> Protocol:
        """The protocol of condition ``i``."""
        c = self.conditions[i]
        return c.protocol if c.protocol is not None else self.protocol

    def estimated(self, observable: str) -> bool:
        """True if the noise of statistic ``observable`` is estimated by the fit."""
        return isinstance(self.sigma[observable], str)

    def expression(self, observable: str, scheme) -> sympy.Expr:
        """The sympy expression of statistic ``observable`` (scheme observables not substituted)."""
        return self.statistics[observable].expr

    def _known(self, scheme) -> set:
        return set(scheme.species_names) | set(scheme.parameter_names) | set(scheme.input_names) \
            | set(scheme.observable_names) | {"t"}

    def free_names(self, scheme) -> set:
        """Names used in statistic expressions that the scheme does not define (observation parameters)."""
        known = self._known(scheme)
        names = set()
        for st in self.statistics.values():
            names |= {s.name for s in st.expr.free_symbols} - known
        return names

    def check(self, scheme) -> None:
        """Check the dataset against ``scheme`` (names, bounds, protocols); raises before any work."""
        from ..errors import ProtocolError

        where = f"summary dataset `{self.name}`"
        free = self.free_names(scheme)
        species = scheme.species_names
        for i, c in [(None, None)] + list(enumerate(self.conditions)):
            at = where if i is None else f"{where}, condition {i}"
            y0 = self.y0 if i is None else c.y0
            params = self.parameters if i is None else c.parameters
            for k, v in y0.items():
                if k not in species:
                    raise SchemeError(f"{at}: `y0` names unknown species `{k}`" + did_you_mean(k, species))
                if v < 0 and scheme.get_species(k).nonnegative:
                    raise ArgumentError(f"{at}: `y0` of `{k}` is negative ({v})")
            for k, v in params.items():
                if k in scheme.parameter_names:
                    lo, hi = scheme.get_parameter(k).bounds
                    if not lo <= v <= hi:
                        raise ArgumentError(f"{at}: parameter `{k}` = {v} is outside its bounds [{lo}, {hi}]")
                elif k not in free:
                    raise SchemeError(f"{at}: `parameters` names `{k}`, which is neither a parameter of scheme "
                                      f"`{scheme.name}` nor used in the statistics' expressions"
                                      + did_you_mean(k, list(scheme.parameter_names) + sorted(free)))
        for i in range(self.n_conditions):
            try:
                self.protocol_of(i).check_window(self.t0, self.t_end_of(i))
                self.schedule(scheme, i)
            except ProtocolError as exc:
                raise ProtocolError(f"{where}, condition {i}: {exc}") from None

    def schedule(self, scheme, i: int = 0):
        """The protocol of condition ``i`` compiled on ``[t0, t_end_i]`` for ``scheme``."""
        return self.protocol_of(i).schedule(self.t0, self.t_end_of(i), inputs=scheme.input_names,
                                            defaults={u.name: u.default for u in scheme.inputs},
                                            states=scheme.species_names)

    def observation_value_given(self, q: str) -> bool:
        """True if observation parameter ``q`` has a value in the dataset or in every condition."""
        return q in self.parameters or all(q in c.parameters for c in self.conditions)

    def replace(self, **changes) -> "SummaryDataset":
        """A copy with some fields changed (validated again)."""
        from dataclasses import replace

        return replace(self, **changes)

    def __repr__(self) -> str:
        return (f"<SummaryDataset `{self.name}`: {self.n_conditions} conditions, statistics "
                f"{', '.join(f'{k} = {s.reduction}({s.expression})' for k, s in self.statistics.items())}>")


# ====================================================================== evaluation (used by Objective)

def _fresh_names(taken: set, n: int, stem: str = "quad") -> list:
    out = []
    i = 0
    while len(out) < n:
        name = f"{stem}{i}"
        i += 1
        if name not in taken:
            out.append(name)
            taken.add(name)
    return out


class SummaryPlan:
    """How an :class:`~kinetics.fitting.objective.Objective` evaluates one SummaryDataset (picklable).

    Holds the model it solves — the scheme itself, or, when a statistic is a mean or an integral, the scheme
    extended with one quadrature state per integrand and with the dataset's observation parameters as
    parameters — its sensitivity directions, and the expressions of the point statistics.
    """

    def __init__(self, objective, k: int):
        from ..model import compile as compile_model
        from ..scheme import Parameter, RateRule, Species

        d = objective.datasets[k]
        scheme = objective.scheme
        self.k = k
        self.obs_names = objective.observation_names[k]
        self.n_base = len(scheme.parameter_names)
        # one quadrature state per distinct integrand
        integrands = []
        self.quad_of = {}
        for name, st in d.statistics.items():
            if st.reduction in _QUADRATURE:
                expr = st.expr
                if expr not in integrands:
                    integrands.append(expr)
                self.quad_of[name] = integrands.index(expr)
        self.augmented = bool(integrands)
        if self.augmented:
            taken = set(scheme.species_names) | set(scheme.parameter_names) | set(scheme.input_names) \
                | set(scheme.observable_names) | set(self.obs_names)
            qnames = _fresh_names(taken, len(integrands))
            aug = scheme.replace(
                name=f"{scheme.name}__summary",
                species=scheme.species + tuple(Species(n, 0.0, nonnegative=False) for n in qnames),
                parameters=scheme.parameters + tuple(Parameter(q, 1.0, "1", bounds=(-math.inf, math.inf))
                                                     for q in self.obs_names),
                rate_rules=scheme.rate_rules + tuple(RateRule(n, e) for n, e in zip(qnames, integrands)))
            self.model = compile_model(aug)
            self.quad_index = [self.model.state_index[n] for n in qnames]
            rhs_symbols = {s.name for s in self.model.system.rhs.free_symbols}
            fitted = {p.name for p in objective.parameters
                      if p.kind in ("model", "observation") and p.applies_to(d.name)}
            self.sens_parameters = tuple(n for n in self.model.parameter_names if n in fitted and n in rhs_symbols)
        else:
            self.model = objective.compiled
            self.quad_index = []
            self.sens_parameters = objective.sens_parameters
        self.sens_initial = objective.sens_initial
        self.n_state = len(objective.compiled.state_names)
        # point statistics: h = g with the scheme's observables substituted
        subs = {sympy.Symbol(n): e for n, e in objective.compiled.system.observables.items()}
        self.point_exprs = {name: st.expr.xreplace(subs) for name, st in d.statistics.items()
                            if st.reduction not in _QUADRATURE}
        # directions: index in the extended parameter vector [p_model, q] -> sensitivity column
        ext_names = list(scheme.parameter_names) + list(self.obs_names)
        self.direction_of_parameter = {ext_names.index(n): j for j, n in enumerate(self.sens_parameters)}
        self.direction_of_initial = {n: len(self.sens_parameters) + j for j, n in enumerate(self.sens_initial)}

    def build_runtime(self, objective) -> "_SummaryRuntime":
        return _SummaryRuntime(self, objective)

    # ------------------------------------------------------------------ values per condition
    def condition_values(self, objective, c: int, x) -> tuple:
        """Declared-unit ``(overrides, y0, q)`` of condition ``c`` at scaled ``x``: the condition's values over
        the dataset's, then the fitted ones (:meth:`Objective.dataset_values`)."""
        d = objective.datasets[self.k]
        cond = d.conditions[c]
        return objective.dataset_values(self.k, x, {**d.parameters, **cond.parameters}, {**d.y0, **cond.y0})

    def evaluate(self, objective, rt, x, jacobian: bool = False):
        """Values ``{statistic: (n_conditions,)}`` and, with ``jacobian``, ``{statistic: (n_conditions,
        n_parameters)}`` derivatives with respect to the scaled ``x``."""
        d = objective.datasets[self.k]
        x = np.asarray(x, dtype=float)
        n_c, n_x = d.n_conditions, objective.n_parameters
        values = {s: np.empty(n_c) for s in d.statistics}
        grads = {s: np.zeros((n_c, n_x)) for s in d.statistics} if jacobian else None
        compiled = objective.compiled
        n_quad = len(self.quad_index)
        for c in range(n_c):
            overrides, y0, q = self.condition_values(objective, c, x)
            p_model = compiled.parameter_vector(overrides, check_bounds=False)
            y0_vec = compiled.initial_state(y0, tolerance=objective.atol)
            q_vec = np.array([q[n] for n in self.obs_names], dtype=float)
            P = np.concatenate([p_model, q_vec])
            Y0 = np.concatenate([y0_vec, np.zeros(n_quad)])
            p_solve = P if self.augmented else p_model
            grid = rt.grids[c]
            kw = dict(method=objective.method, rtol=objective.rtol, atol=objective.atol,
                      max_steps=objective.max_steps)
            try:
                if jacobian:
                    y, dy, _ = rt.sens.solve(p_solve, Y0, rt.aug_segments[c], grid, **kw)
                else:
                    y, _, _ = rt.plain.solve(p_solve, Y0, rt.plain_segments[c], grid, **kw)
                    dy = None
            except SolverError as exc:
                raise SolverError(f"summary dataset `{d.name}`, condition {c}: {exc}") from None
            if not np.all(np.isfinite(y)):
                raise SolverError(f"summary dataset `{d.name}`, condition {c}: non-finite solution",
                                  method=objective.method)
            for name, st in d.statistics.items():
                idx = rt.index[c][name]
                if name in self.quad_of:
                    qi = self.quad_index[self.quad_of[name]]
                    h = y[idx, qi]
                    h_dir = dy[idx, qi, :] if jacobian else None
                    h_P = None
                else:
                    t = grid[idx]
                    out = rt.functions[name](t, y[idx].T, P, rt.inputs[c][:, idx])
                    nt = idx.size
                    arr = [np.broadcast_to(np.asarray(v, dtype=float), (nt,)) for v in out]
                    h = arr[0]
                    if jacobian:
                        n_y = y.shape[1]
                        h_y = np.column_stack(arr[1:1 + n_y])
                        h_P = np.column_stack(arr[1 + n_y:]) if P.size else np.zeros((nt, 0))
                        h_dir = np.einsum("tn,tnm->tm", h_y, dy[idx]) if dy.shape[2] else np.zeros((nt, 0))
                S, w = _reduce(st.reduction, h, grid[idx], rt.extra[c][name], rt.breaks[c])
                if not np.isfinite(S):
                    why = " (the reference value g(t0) is 0)" if st.reduction == "ratio" and h[0] == 0 else ""
                    raise SolverError(f"summary dataset `{d.name}`, condition {c}: statistic `{name}` is not "
                                      f"finite{why}", method=objective.method)
                values[name][c] = S
                if not jacobian:
                    continue
                dS_dir = w @ h_dir if h_dir.shape[1] else np.zeros(0)
                dS_P = w @ h_P if h_P is not None else None
                grads[name][c] = self._chain(objective, x, dS_dir, dS_P)
        return values, grads

    def _chain(self, objective, x, dS_dir, dS_P) -> np.ndarray:
        """``dS/dx`` from the derivative along the sensitivity directions and the partials in ``P``."""
        d = objective.datasets[self.k]
        row = np.zeros(objective.n_parameters)
        names = objective.compiled.parameter_names
        for i, p in enumerate(objective.parameters):
            if not p.applies_to(d.name):
                continue
            if p.kind == "model":
                kp = names.index(p.name)
                col = dS_P[kp] if dS_P is not None else 0.0
                j = self.direction_of_parameter.get(kp)
                if j is not None:
                    col += dS_dir[j]
                col *= p.factor
            elif p.kind == "initial":
                col = dS_dir[self.direction_of_initial[p.name[:-3]]]
            elif p.name in self.obs_names:
                kq = self.n_base + self.obs_names.index(p.name)
                col = dS_P[kq] if dS_P is not None else 0.0
                j = self.direction_of_parameter.get(kq)
                if j is not None:
                    col += dS_dir[j]
            else:
                continue
            row[i] = col * float(p.dvalue_dx(x[i]))
        return row


def _reduce(reduction, h, t, extra, breaks):
    """Value ``S`` and weights ``w`` (``dS = w . dh``) of one statistic from ``h`` at its times ``t``.

    Point layouts (built by :class:`_SummaryRuntime`): final/at ``[t]``; ratio/change ``[t0, time]``;
    mean/integral ``[t1, t2]`` of the quadrature state; max/min the window grid.
    """
    if reduction in ("final", "at"):
        return float(h[0]), np.ones(1)
    if reduction == "change":
        return float(h[1] - h[0]), np.array([-1.0, 1.0])
    if reduction == "ratio":
        with np.errstate(all="ignore"):
            S = float(h[1] / h[0])
            return S, np.array([-S / h[0], 1.0 / h[0]])
    if reduction in ("mean", "integral"):
        scale = 1.0 / (extra[1] - extra[0]) if reduction == "mean" else 1.0
        return float((h[1] - h[0]) * scale), np.array([-scale, scale])
    sign = 1.0 if reduction == "max" else -1.0
    return _extremum(sign * h, t, breaks, sign)


def _extremum(f, t, breaks, sign):
    """Max of ``f`` on grid ``t`` refined by the parabola through the best point and its neighbours (see the
    module docstring); returns ``(sign * value, weights)``."""
    n = f.size
    i = int(np.argmax(f))
    w = np.zeros(n)
    w[i] = 1.0
    value = f[i]
    if 0 < i < n - 1:
        tm, t0, tp = t[i - 1], t[i], t[i + 1]
        # one protocol segment: no breakpoint in (t_{i-1}, t_{i+1}] (outputs at a breakpoint are after its jumps)
        inside = not np.any((breaks > tm) & (breaks <= tp))
        if inside:
            a, b = tm - t0, tp - t0
            dm, dp = f[i - 1] - f[i], f[i + 1] - f[i]
            D = a * b * (a - b)
            alpha = (dm * b - dp * a) / D
            beta = (dp * a * a - dm * b * b) / D
            if alpha < 0:
                tau = -beta / (2.0 * alpha)
                if a <= tau <= b:
                    # Lagrange weights of the three points at tau (relative to t_i)
                    lm = tau * (tau - b) / (a * (a - b))
                    l0 = (tau - a) * (tau - b) / (a * b)
                    lp = tau * (tau - a) / (b * (b - a))
                    w[i] = 0.0
                    w[i - 1], w[i], w[i + 1] = lm, l0, lp
                    value = lm * f[i - 1] + l0 * f[i] + lp * f[i + 1]
    # S = sign * value = sum w * (sign * f) = sum w * h
    return float(sign * value), w


class _SummaryRuntime:
    """Per-process compiled state of a SummaryPlan: solvers, per-condition schedules and output grids."""

    def __init__(self, plan: SummaryPlan, objective):
        from .sensitivity import augmented_segments

        d = objective.datasets[plan.k]
        model = plan.model
        self.plain = model.native_solver()
        self.sens = model.sensitivity_solver(plan.sens_parameters, plan.sens_initial)
        self.grids, self.index, self.extra, self.breaks = [], [], [], []
        self.plain_segments, self.aug_segments, self.inputs = [], [], []
        n = d.n_conditions
        for c in range(n):
            t0, te = d.t0, d.t_end_of(c)
            sched = model.schedule(d.protocol_of(c), t0, te)
            self.plain_segments.append(model.segments(sched))
            self.aug_segments.append(augmented_segments(sched, self.sens))
            breaks = np.asarray(sched.boundaries[1:-1], dtype=float)
            self.breaks.append(breaks)
            wanted, extra = {}, {}
            for name, st in d.statistics.items():
                time, window = st.times_for(c, n, t0, te, f"summary dataset `{d.name}`")
                r = st.reduction
                if r == "final":
                    pts = np.array([te])
                elif r == "at":
                    pts = np.array([time])
                elif r in ("ratio", "change"):
                    pts = np.array([t0, time])
                elif r in _QUADRATURE:
                    pts = np.array(window)
                else:
                    t1, t2 = window
                    pts = np.union1d(np.linspace(t1, t2, st.points), breaks[(breaks >= t1) & (breaks <= t2)])
                wanted[name] = pts
                extra[name] = window
            grid = np.unique(np.concatenate(list(wanted.values())))
            self.grids.append(grid)
            self.index.append({name: np.searchsorted(grid, pts) for name, pts in wanted.items()})
            self.extra.append(extra)
            u = sched.input_values(grid) if model.input_names else np.zeros((grid.size, 0))
            self.inputs.append(np.ascontiguousarray(u.T))
        # h(t, Y, P, U) -> [h, dh/dy..., dh/dP...] for the point statistics
        sysm = model.system
        P_syms = list(objective.compiled.system.p) + [sympy.Symbol(q) for q in plan.obs_names]
        self.functions = {}
        for name, expr in plan.point_exprs.items():
            grads = [expr.diff(s) for s in sysm.y] + [expr.diff(s) for s in P_syms]
            args = [sysm.t, list(sysm.y), P_syms, list(sysm.u)]
            self.functions[name] = sympy.lambdify(args, [expr] + grads, modules=lambdify_modules(), cse=True,
                                                  docstring_limit=0)
