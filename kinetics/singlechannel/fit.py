"""Maximum-likelihood fit of a scheme's rate constants to idealized single-channel records (HJC likelihood).

:func:`fit_records` maximises the sum over :class:`SingleChannelData` sets (one per record and agonist
concentration) of the HJC log-likelihood (:mod:`.likelihood`; Colquhoun, Hawkes & Srodzinski 1996) over the free
parameters of a :class:`~kinetics.Scheme`, with

* **log-scale parameters** (the optimiser works on ``log10`` of each rate constant, as in
  :class:`kinetics.fitting.FitParameter`, whose ``name``, ``bounds`` and ``start`` are accepted here);
* **fixed rates**: every scheme parameter not fitted keeps its value;
* **tied rates**: ``tied={"k2p": ("k1p", 2.0)}`` sets ``k2p = 2 * k1p``;
* **microscopic reversibility**: ``reversibility=["ks2m"]`` computes each named parameter from the others so
  that the product of rates around its cycle is the same in both directions (Colquhoun & Hawkes 1982; the
  constraint as used by Colquhoun, Hawkes & Srodzinski 1996) — one parameter per independent cycle;
* **multistart** through a :mod:`kinetics.executor` executor (starts drawn log-uniformly inside the bounds),
  each a bounded Nelder-Mead simplex by default;
* **errors from the observed information**: the covariance of the log10 parameters is the inverse of the
  Hessian of ``-log L`` at the maximum (numerical central differences), and the standard error of a rate
  ``k`` is ``k ln(10) SE(log10 k)`` (the delta method; Colquhoun, Hatton & Hawkes 2003 discuss how well such
  errors describe HJCFIT estimates).

References
----------
Colquhoun D, Hawkes AG, Srodzinski K (1996) Phil Trans R Soc Lond A 354:2555-2590.
Colquhoun D, Hatton CJ, Hawkes AG (2003) The quality of maximum likelihood estimates of ion channel rate
constants. J Physiol 547:699-728.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
from scipy import optimize

from ..errors import ArgumentError, SchemeError, did_you_mean
from .likelihood import RecordLikelihood, check_bursts
from .qmatrix import QMatrix, q_matrix
from .records import Record, bursts as split_bursts, impose_resolution

__all__ = ["SingleChannelData", "SingleChannelFit", "Profile", "fit_records", "profile", "reversibility_solver"]


@dataclass
class SingleChannelData:
    """One idealized record at fixed inputs.

    Parameters
    ----------
    record : Record or sequence of bursts
        A raw :class:`~kinetics.singlechannel.Record` (the resolution is imposed here) or ready groups of
        apparent durations (s), each ``open, shut, ..., open``.
    tres : float
        Resolution (s).
    tcrit : float, optional
        Critical shut time (s): groups are separated by longer shut times and CHS vectors are used. None: the
        whole record (split only at unusable intervals) with equilibrium vectors.
    inputs : mapping
        Constant inputs of the scheme (agonist concentration... in the scheme's units).
    name : str
    """

    record: object
    tres: float
    tcrit: float | None = None
    inputs: Mapping = field(default_factory=dict)
    name: str = ""
    bursts: list = field(init=False, repr=False)
    likelihood: RecordLikelihood = field(init=False, repr=False)

    def __post_init__(self):
        try:
            self.tres = float(self.tres)
        except (TypeError, ValueError):
            raise ArgumentError(f"`tres` must be a number of seconds, got {self.tres!r}") from None
        if not self.tres > 0:
            raise ArgumentError("`tres` must be positive (s)")
        if self.tcrit is not None and not float(self.tcrit) > self.tres:
            raise ArgumentError("`tcrit` must exceed `tres`")
        if isinstance(self.record, Record):
            rec = self.record if self.record.tres == self.tres else impose_resolution(self.record, self.tres)
            self.bursts = split_bursts(rec, self.tcrit)
        else:
            self.bursts = check_bursts(self.record, self.tres)
        self.inputs = dict(self.inputs or {})
        self.likelihood = RecordLikelihood(self.bursts, self.tres, self.tcrit, checked=True)

    @property
    def n_intervals(self) -> int:
        return int(sum(b.size for b in self.bursts))


def reversibility_solver(scheme, names: Sequence[str], *, open_states, inputs=None):
    """A function ``values -> values`` that sets each parameter of ``names`` so that microscopic reversibility
    holds around the cycles of ``scheme`` (one parameter per independent cycle; each must scale one rate of
    its cycle). ``values`` are declared-unit parameter values (dict).

    >>> import kinetics as kx
    >>> s = kx.Scheme("cycle", species=[kx.Species("A", 1.0), kx.Species("B"), kx.Species("C")],
    ...     parameters=[kx.Parameter(n, v, "1/s") for n, v in
    ...                 [("k1", 1.0), ("k2", 2.0), ("k3", 3.0), ("k4", 4.0), ("k5", 5.0), ("k6", 6.0)]],
    ...     reactions=[kx.reaction("A <-> B", "k1", "k2"), kx.reaction("B <-> C", "k3", "k4"),
    ...                kx.reaction("C <-> A", "k5", "k6")])
    >>> fix = reversibility_solver(s, ["k6"], open_states=["C"])
    >>> v = fix({"k1": 1.0, "k2": 2.0, "k3": 3.0, "k4": 4.0, "k5": 5.0, "k6": 6.0})
    >>> round(v["k6"], 6)          # k1 k3 k5 = k2 k4 k6
    1.875
    """
    return _ReversibilityFix(scheme, list(names), open_states, inputs)


class _ReversibilityFix:
    """Picklable (for process executors) implementation of :func:`reversibility_solver`."""

    def __init__(self, scheme, names, open_states, inputs):
        self.scheme, self.names, self.kw = scheme, names, dict(open_states=open_states, inputs=inputs)
        base = dict(zip(scheme.parameter_names, (p.value for p in scheme.parameters)))
        c0 = self.cycles(base)
        if len(names) > len(c0):
            raise SchemeError(f"{len(names)} parameters named for microscopic reversibility but the scheme has "
                              f"{len(c0)} independent cycle(s)")
        sens = []
        for n in names:
            if n not in base:
                raise SchemeError(f"unknown parameter `{n}`" + did_you_mean(n, base))
            c1 = self.cycles({**base, n: base[n] * 2.0})
            sens.append([(b - a) / math.log(2.0) for a, b in zip(c0, c1)])
        self.S = np.array(sens).reshape(len(names), len(c0))       # d log ratio_c / d log p_n
        if len(names) and np.linalg.matrix_rank(self.S) < len(names):
            raise SchemeError(f"the parameters {names} cannot fix independent cycles (each must scale a rate of a "
                              f"different cycle)")

    def cycles(self, values):
        q = q_matrix(self.scheme, params=values, **self.kw)
        return [math.log(c.ratio) for c in q.reversibility(rtol=math.inf).cycles]

    def __call__(self, values):
        v = dict(values)
        for _ in range(3):
            r = np.array(self.cycles(v))
            if np.all(np.abs(r) < 1e-12):
                break
            step, *_ = np.linalg.lstsq(self.S.T, -r, rcond=None)
            for n, dlog in zip(self.names, step):
                v[n] = v[n] * math.exp(dlog)
        return v


@dataclass
class SingleChannelFit:
    """Result of :func:`fit_records`: fitted ``values`` (declared units, every scheme parameter), the fitted
    ``free`` names, ``standard_errors`` and ``covariance`` (log10 scale), the maximum ``log_likelihood``, the
    results of every start, the fitted ``scheme``, and :meth:`report`."""

    values: dict
    free: tuple
    standard_errors: dict
    covariance: np.ndarray
    log_likelihood: float
    starts: list
    scheme: object
    success: bool
    message: str
    n_evaluations: int
    elapsed: float
    constraints: dict
    settings: dict = field(default_factory=dict, repr=False)

    def q_matrix(self, **kw) -> QMatrix:
        """The fitted mechanism's Q-matrix (``kw`` as :func:`q_matrix`)."""
        return q_matrix(self.scheme, **kw)

    def report(self) -> str:
        lines = [f"single-channel HJC fit of `{self.scheme.name}`: log-likelihood {self.log_likelihood:.6f}",
                 f"  {'converged' if self.success else 'NOT converged'} ({self.message}); {self.n_evaluations} "
                 f"likelihood evaluations in {self.elapsed:.2f} s, {len(self.starts)} start(s)",
                 f"  {'parameter':<12} {'value':>14} {'SE':>12} {'CV %':>8}"]
        for n in self.free:
            v, se = self.values[n], self.standard_errors.get(n, math.nan)
            lines.append(f"  {n:<12} {v:>14.6g} {se:>12.4g} {100 * se / v if v else math.nan:>8.2f}")
        for n, (other, factor) in self.constraints.get("tied", {}).items():
            lines.append(f"  {n:<12} {self.values[n]:>14.6g}   (tied: {factor:g} x {other})")
        for n in self.constraints.get("reversibility", []):
            lines.append(f"  {n:<12} {self.values[n]:>14.6g}   (microscopic reversibility)")
        return "\n".join(lines)


class _Objective:
    """``-log L`` of the data as a function of the log10 free parameters (picklable)."""

    def __init__(self, scheme, data, free, tied, fix, open_states, conductance):
        self.scheme, self.data, self.free, self.tied, self.fix = scheme, data, free, tied, fix
        self.open_states, self.conductance = open_states, conductance
        self.base = dict(zip(scheme.parameter_names, (p.value for p in scheme.parameters)))
        self.n = 0

    def values(self, x) -> dict:
        v = dict(self.base)
        v.update({n: 10.0 ** xi for n, xi in zip(self.free, x)})
        for n, (other, factor) in self.tied.items():
            v[n] = factor * v[other]
        if self.fix is not None:
            v = self.fix(v)
        return v

    def __call__(self, x) -> float:
        self.n += 1
        if not np.all(np.isfinite(x)):
            return 1e300
        v = self.values(x)
        total = 0.0
        try:
            for d in self.data:
                q = q_matrix(self.scheme, params=v, inputs=d.inputs, open_states=self.open_states,
                             conductance=self.conductance)
                ll = d.likelihood(q)
                if not math.isfinite(ll):
                    return 1e300
                total += ll
        except (ArithmeticError, ValueError, RuntimeError, np.linalg.LinAlgError):
            return 1e300
        return -total


class _Start:
    def __init__(self, objective, bounds, method, maxiter):
        self.objective, self.bounds, self.method, self.maxiter = objective, bounds, method, maxiter

    def __call__(self, x0):
        n0 = self.objective.n
        if self.method == "L-BFGS-B":
            # -log L is O(n_intervals): finite-difference steps of 1e-6 in log10 units keep the gradient's
            # round-off small; restarted from its own end until it stops improving (the bounded quasi-Newton
            # line search can stop early far from the optimum)
            res = None
            x = np.asarray(x0, float)
            for _ in range(5):
                r = optimize.minimize(self.objective, x, method="L-BFGS-B", bounds=self.bounds,
                                      options={"maxiter": self.maxiter, "ftol": 1e-15, "gtol": 1e-6, "eps": 1e-6})
                improved = res is None or r.fun < res.fun - 1e-7 * max(1.0, abs(res.fun))
                if res is None or r.fun < res.fun:
                    res = r
                x = r.x
                if not improved:
                    break
        else:
            res = optimize.minimize(self.objective, x0, method=self.method, bounds=self.bounds,
                                    options={"maxiter": self.maxiter, "xatol": 1e-6, "fatol": 1e-6}
                                    if self.method == "Nelder-Mead" else {"maxiter": self.maxiter})
        return {"x": np.asarray(res.x, float), "fun": float(res.fun), "success": bool(res.success),
                "message": str(res.message), "nfev": self.objective.n - n0}


def _hessian(f, x, h=1e-3):
    n = x.size
    H = np.zeros((n, n))
    f0 = f(x)
    for i in range(n):
        ei = np.zeros(n)
        ei[i] = h
        H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h ** 2
        for j in range(i + 1, n):
            ej = np.zeros(n)
            ej[j] = h
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h * h)
    return H


def fit_records(scheme, data, parameters, *, open_states=None, conductance=None, tied=None,
                reversibility=None, n_starts: int = 1, seed=None, executor="serial", method: str = "Nelder-Mead",
                maxiter: int = 2000, progress=None) -> SingleChannelFit:
    """Maximum-likelihood rate constants of ``scheme`` from idealized records (see the module docstring).

    Parameters
    ----------
    scheme : Scheme
    data : SingleChannelData or sequence of them
    parameters : sequence of str or kinetics.fitting.FitParameter
        The free rate constants (positive; fitted on log10 scale). Bounds default to start/100 .. start*100.
    open_states, conductance :
        The open states, as :func:`~kinetics.singlechannel.q_matrix`.
    tied : mapping name -> (other, factor), optional
    reversibility : sequence of str, optional
        Parameters set by microscopic reversibility.
    n_starts : int
        Number of starts: the given values, then random log-uniform draws inside the bounds (``seed``).
    executor :
        Anything :func:`kinetics.executor.as_executor` accepts (default serial).
    method : str
        A bounded :func:`scipy.optimize.minimize` method: ``"Nelder-Mead"`` (default; the simplex, as HJCFIT
        uses, robust from poor starts), ``"L-BFGS-B"`` (finite-difference gradients; restarted until it stops
        improving) or ``"Powell"``.

    Returns
    -------
    SingleChannelFit
    """
    from ..executor import as_executor
    from ..fitting.parameters import FitParameter
    from ..scheme import as_scheme

    scheme = as_scheme(scheme)
    data = [data] if isinstance(data, SingleChannelData) else list(data)
    if not data or not all(isinstance(d, SingleChannelData) for d in data):
        raise ArgumentError("`data` must be one or more SingleChannelData")
    tied = dict(tied or {})
    mr = list(reversibility or [])
    base = dict(zip(scheme.parameter_names, (p.value for p in scheme.parameters)))
    specs = []
    for p in parameters:
        spec = FitParameter(p) if isinstance(p, str) else p
        if not isinstance(spec, FitParameter):
            raise ArgumentError(f"parameters must be names or FitParameter, got {type(p).__name__}")
        if spec.name not in base:
            raise SchemeError(f"unknown parameter `{spec.name}`" + did_you_mean(spec.name, base))
        if spec.scale not in (None, "log10"):
            raise ArgumentError("single-channel fits work on log10-scaled rate constants")
        specs.append(spec)
    free = tuple(s.name for s in specs)
    if not free:
        raise ArgumentError("no free parameter to fit")
    for n, (other, factor) in tied.items():
        if n not in base or other not in base:
            raise SchemeError(f"tied parameter `{n}` or `{other}` is not a scheme parameter")
        if n in free or n in mr:
            raise ArgumentError(f"`{n}` is tied: it cannot also be free or set by reversibility")
        if not float(factor) > 0:
            raise ArgumentError(f"the factor tying `{n}` to `{other}` must be positive")
    overlap = set(mr) & set(free)
    if overlap:
        raise ArgumentError(f"{sorted(overlap)} are set by microscopic reversibility: they cannot be free")
    fix = reversibility_solver(scheme, mr, open_states=open_states, inputs=data[0].inputs) if mr else None
    starts0, bounds = [], []
    for s in specs:
        start = float(s.start) if s.start is not None else base[s.name]
        if not start > 0:
            raise ArgumentError(f"the start of `{s.name}` must be positive (log10 scale), got {start}")
        lo, hi = s.bounds if s.bounds is not None else (start / 100.0, start * 100.0)
        lo, hi = max(float(lo), 1e-300), float(hi)
        if not lo < hi:
            raise ArgumentError(f"bad bounds for `{s.name}`: {(lo, hi)}")
        starts0.append(math.log10(start))
        bounds.append((math.log10(lo), math.log10(hi)))
    objective = _Objective(scheme, data, free, tied, fix, open_states, conductance)
    rng = np.random.default_rng(seed)
    x0s = [np.clip(np.array(starts0), [b[0] for b in bounds], [b[1] for b in bounds])]
    for _ in range(max(int(n_starts), 1) - 1):
        x0s.append(np.array([rng.uniform(lo, hi) for lo, hi in bounds]))
    t0 = time.perf_counter()
    runs = as_executor(executor).map(_Start(objective, bounds, method, maxiter), x0s,
                                     desc="single-channel fit", progress=progress)
    best = min(runs, key=lambda r: r["fun"])
    x = best["x"]
    H = _hessian(objective, x)
    try:
        cov = np.linalg.inv(H)
        if np.any(np.diag(cov) < 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        cov = np.full_like(H, np.nan)
    values = objective.values(x)
    se = {n: values[n] * math.log(10) * math.sqrt(cov[i, i]) if np.isfinite(cov[i, i]) else math.nan
          for i, n in enumerate(free)}
    fitted = scheme.with_parameters({n: values[n] for n in scheme.parameter_names})
    return SingleChannelFit(values=values, free=free, standard_errors=se, covariance=cov,
                            log_likelihood=-best["fun"], starts=runs, scheme=fitted, success=best["success"],
                            message=best["message"], n_evaluations=sum(r["nfev"] for r in runs),
                            elapsed=time.perf_counter() - t0, constraints={"tied": tied, "reversibility": mr},
                            settings={"data": data, "open_states": open_states, "conductance": conductance,
                                      "method": method, "maxiter": maxiter})


@dataclass(frozen=True)
class Profile:
    """A profile likelihood: the maximum log-likelihood with ``name`` fixed at each of ``values`` (the other
    free rates re-fitted), and the likelihood-ratio interval where ``2 (max - profile) <= chi2_1(level)``
    (Venzon & Moolgavkar 1988 describe the method; linear interpolation between grid points here)."""

    name: str
    values: np.ndarray
    log_likelihood: np.ndarray
    maximum: float
    interval: tuple
    level: float


def profile(result: SingleChannelFit, name: str, values=None, *, n_points: int = 9, width: float = 3.0,
            level: float = 0.95) -> Profile:
    """Profile likelihood of the fitted rate ``name`` of ``result`` (from :func:`fit_records`).

    ``values`` default to ``n_points`` values spaced evenly in log10 over ``estimate * 10^(+-width SE_log10)``.
    The interval is ``(nan, nan)`` on a side the grid does not reach.
    """
    from scipy.stats import chi2

    if name not in result.free:
        raise ArgumentError(f"`{name}` was not fitted" + did_you_mean(name, result.free))
    st = result.settings
    est = result.values[name]
    i = result.free.index(name)
    se_log = math.sqrt(result.covariance[i, i]) if np.isfinite(result.covariance[i, i]) else 0.1
    if values is None:
        values = est * 10.0 ** np.linspace(-width * se_log, width * se_log, int(n_points))
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or values.size < 2 or np.any(~(values > 0)):
        raise ArgumentError("profile values must be two or more positive numbers")
    others = [n for n in result.free if n != name]
    lls = []
    for v in values:
        sch = result.scheme.with_parameters({name: float(v)})
        if others:
            f = fit_records(sch, st["data"], others, open_states=st["open_states"], conductance=st["conductance"],
                            tied=result.constraints.get("tied"), reversibility=result.constraints.get("reversibility"),
                            method=st["method"], maxiter=st["maxiter"])
            lls.append(f.log_likelihood)
        else:
            obj = _Objective(sch, st["data"], (), result.constraints.get("tied", {}), None, st["open_states"],
                             st["conductance"])
            lls.append(-obj(np.zeros(0)))
    lls = np.array(lls)
    top = max(result.log_likelihood, float(lls.max()))
    cut = chi2.ppf(level, 1) / 2.0
    dev = top - lls - cut                       # < 0 inside the interval

    def crossing(rng):
        for a, b in zip(rng[:-1], rng[1:]):
            if dev[a] < 0 <= dev[b]:
                la, lb = math.log(values[a]), math.log(values[b])
                return math.exp(la + (lb - la) * (-dev[a]) / (dev[b] - dev[a]))
        return math.nan

    k = int(np.argmin(np.abs(np.log(values / est))))
    lower = crossing(list(range(k, -1, -1)))
    upper = crossing(list(range(k, values.size)))
    return Profile(name, values, lls, top, (lower, upper), level)
