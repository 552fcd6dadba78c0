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
* **an EC50 constraint** (as in HJCFIT; Colquhoun, Hatton & Hawkes 2003 discuss why it helps):
  ``ec50=EC50Constraint("k2m", 5e-6, "A")`` computes ``k2m`` at every step so that the equilibrium
  P_open-concentration curve of the mechanism has its EC50 (:func:`~kinetics.singlechannel.ec50`) at the given
  concentration (scheme units) — the rate must move the EC50 monotonically (a binding rate, say);
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
from .qmatrix import QMatrix, ec50 as mechanism_ec50, q_matrix
from .records import Record, bursts as split_bursts, impose_resolution

__all__ = ["SingleChannelData", "SingleChannelFit", "EC50Constraint", "Profile", "fit_records", "profile",
           "reversibility_solver"]


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


@dataclass(frozen=True)
class EC50Constraint:
    """A rate constant set so that the mechanism's equilibrium P_open curve has a given EC50.

    Parameters
    ----------
    parameter : str
        The scheme parameter computed from the others (not free, tied or set by reversibility).
    value : float
        The EC50, in the scheme's units of the agonist input.
    agonist : str
        The agonist input.
    inputs : mapping, optional
        Other constant inputs for the P_open curve (default: the scheme's defaults).
    low, high : float
        The concentration bracket of :func:`~kinetics.singlechannel.ec50` (the maximum is taken at ``high``).

    Examples
    --------
    >>> EC50Constraint("k2m", 5e-6, "A")
    EC50Constraint(parameter='k2m', value=5e-06, agonist='A', inputs=None, low=1e-09, high=1000.0)
    """

    parameter: str
    value: float
    agonist: str
    inputs: Mapping | None = None
    low: float = 1e-9
    high: float = 1e3

    def __post_init__(self):
        try:
            v = float(self.value)
        except (TypeError, ValueError):
            raise ArgumentError(f"the EC50 must be a number, got {self.value!r}") from None
        if not (math.isfinite(v) and v > 0):
            raise ArgumentError(f"the EC50 must be a positive concentration, got {self.value!r}")
        if not self.low < v < self.high:
            raise ArgumentError(f"the EC50 {v:g} must lie inside the bracket ({self.low:g}, {self.high:g})")
        object.__setattr__(self, "value", v)


@dataclass
class SingleChannelFit:
    """Result of :func:`fit_records`, with the fields and methods of :class:`kinetics.fitting.FitResult` that
    apply to a likelihood fit: ``values`` (declared units, every scheme parameter), ``names`` (the fitted
    rates), ``stderr`` (also ``standard_errors``), ``ci`` (Wald intervals on the log10 scale, so asymmetric in
    the rates), ``covariance`` and ``correlation`` (log10 scale), ``log_likelihood``, ``aic``, ``bic``,
    ``n_data`` (intervals), ``success``, ``message``, every start's result, the fitted ``scheme``,
    :meth:`report` (in FitResult's layout), :meth:`to_dict` and :meth:`to_json`."""

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
    level: float = 0.95

    # ------------------------------------------------------------------ FitResult-style access
    @property
    def names(self) -> tuple:
        """The fitted rates, in the order of the covariance."""
        return self.free

    @property
    def stderr(self) -> dict:
        """Standard errors (declared units), as ``FitResult.stderr``."""
        return self.standard_errors

    @property
    def n_parameters(self) -> int:
        return len(self.free)

    @property
    def n_data(self) -> int:
        """Apparent intervals in the fitted records."""
        return int(sum(d.n_intervals for d in self.settings.get("data", [])))

    @property
    def aic(self) -> float:
        return 2 * self.n_parameters - 2 * self.log_likelihood

    @property
    def bic(self) -> float:
        return self.n_parameters * math.log(max(self.n_data, 1)) - 2 * self.log_likelihood

    @property
    def correlation(self) -> np.ndarray:
        d = np.sqrt(np.diag(self.covariance))
        with np.errstate(all="ignore"):
            return self.covariance / np.outer(d, d)

    @property
    def ci(self) -> dict:
        """Wald intervals at ``level`` on the log10 scale: ``10^(log10 k +- z SE_log10)`` (declared units)."""
        from scipy.stats import norm

        z = norm.ppf(0.5 + self.level / 2)
        out = {}
        for i, n in enumerate(self.free):
            var = self.covariance[i, i]
            if np.isfinite(var) and var >= 0:
                w = z * math.sqrt(var)
                out[n] = (self.values[n] * 10.0 ** -w, self.values[n] * 10.0 ** w)
            else:
                out[n] = (None, None)
        return out

    def __getitem__(self, key: str) -> float:
        if key not in self.values:
            raise KeyError(f"no parameter `{key}`" + did_you_mean(key, self.values))
        return self.values[key]

    def q_matrix(self, **kw) -> QMatrix:
        """The fitted mechanism's Q-matrix (``kw`` as :func:`q_matrix`)."""
        return q_matrix(self.scheme, **kw)

    # ------------------------------------------------------------------ text and export
    def report(self, *, correlation_min: float = 0.5) -> str:
        """A readable summary in the layout of :meth:`kinetics.fitting.FitResult.report`."""
        from ..fitting.result import _fmt

        data = self.settings.get("data", [])
        ok = sum(1 for r in self.starts if r["success"])
        lines = [f"[[Fit]] {self.scheme.name}: single-channel HJC likelihood, {len(data)} record(s), "
                 f"{self.n_data} apparent intervals",
                 f"    success            {self.success}: {self.message}",
                 f"    starts             {len(self.starts)} ({ok} converged); {self.n_evaluations} likelihood "
                 f"evaluations in {self.elapsed:.2f} s ({self.settings.get('method')})",
                 f"    log-likelihood     {_fmt(self.log_likelihood, 10)}",
                 f"    AIC, BIC           {_fmt(self.aic, 8)}, {_fmt(self.bic, 8)}",
                 f"[[Parameters]]  value +/- standard error (declared unit); {round(100 * self.level)} % CI by "
                 f"Wald (observed information, log10 scale)"]
        units = {p.name: p.unit for p in self.scheme.parameters}
        w = max([len(n) for n in self.values] + [9])
        for n in self.free:
            v, se = self.values[n], self.standard_errors.get(n, math.nan)
            lo, hi = self.ci[n]
            rel = f"({100 * se / abs(v):.2g} %)" if math.isfinite(se) and v else "(not identifiable)"
            ci = f"[{_fmt(lo) if lo is not None else 'open'}, {_fmt(hi) if hi is not None else 'open'}]"
            lines.append(f"    {n:<{w}}  {_fmt(v, 6):>11} +/- {_fmt(se, 3):<8} {units.get(n, ''):<10} {rel:<10} "
                         f"CI {ci}")
        cons = []
        for n, (other, factor) in self.constraints.get("tied", {}).items():
            cons.append(f"    {n:<{w}}  {_fmt(self.values[n], 6):>11}   tied: {factor:g} x {other}")
        for n in self.constraints.get("reversibility", []):
            cons.append(f"    {n:<{w}}  {_fmt(self.values[n], 6):>11}   microscopic reversibility")
        c = self.constraints.get("ec50")
        if c is not None:
            cons.append(f"    {c.parameter:<{w}}  {_fmt(self.values[c.parameter], 6):>11}   EC50 = {c.value:g} "
                        f"for {c.agonist}")
        if cons:
            lines.append("[[Constraints]]")
            lines += cons
        pairs = []
        C = self.correlation
        for a in range(len(self.free)):
            for b in range(a + 1, len(self.free)):
                if np.isfinite(C[a, b]) and abs(C[a, b]) >= correlation_min:
                    pairs.append((abs(C[a, b]), f"    C({self.free[a]}, {self.free[b]}) = {C[a, b]:+.4f}"))
        if pairs:
            lines.append(f"[[Correlations]]  (|C| >= {correlation_min})")
            lines += [t for _, t in sorted(pairs, reverse=True)]
        if data:
            lines.append("[[Datasets]]")
            for d in data:
                inp = ", ".join(f"{k} = {v:g}" for k, v in d.inputs.items())
                lines.append(f"    {d.name or 'record'}: {d.n_intervals} intervals in {len(d.bursts)} group(s), "
                             f"tres {d.tres * 1e6:g} us, " + (f"tcrit {d.tcrit * 1e3:g} ms (CHS vectors)"
                                                              if d.tcrit is not None else "equilibrium vectors")
                             + (f"; {inp}" if inp else ""))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Everything as plain Python (JSON-ready: non-finite numbers become ``None``)."""
        from ..fitting.result import _jsonable

        c = self.constraints.get("ec50")
        out = {
            "model": self.scheme.name, "kind": "single-channel HJC likelihood",
            "success": self.success, "message": self.message,
            "parameters": {n: {"value": self.values[n], "stderr": self.standard_errors.get(n), "ci": list(self.ci[n]),
                               "scale": "log10"} for n in self.free},
            "values": self.values, "names": list(self.free), "ci_method": "wald", "level": self.level,
            "covariance_scaled": self.covariance, "correlation": self.correlation,
            "log_likelihood": self.log_likelihood, "aic": self.aic, "bic": self.bic,
            "n_data": self.n_data, "n_parameters": self.n_parameters,
            "constraints": {"tied": {k: list(v) for k, v in self.constraints.get("tied", {}).items()},
                            "reversibility": list(self.constraints.get("reversibility", [])),
                            "ec50": None if c is None else {"parameter": c.parameter, "value": c.value,
                                                            "agonist": c.agonist}},
            "starts": [{"x": r["x"], "log_likelihood": -r["fun"], "success": r["success"], "message": r["message"],
                        "n_evaluations": r["nfev"]} for r in self.starts],
            "datasets": [{"name": d.name, "n_intervals": d.n_intervals, "n_groups": len(d.bursts), "tres": d.tres,
                          "tcrit": d.tcrit, "inputs": dict(d.inputs)} for d in self.settings.get("data", [])],
            "n_evaluations": self.n_evaluations, "wall_time": self.elapsed,
        }
        return _jsonable(out)

    def to_json(self, path=None, *, indent: int = 1) -> str:
        """JSON text of :meth:`to_dict`; written atomically to ``path`` if given."""
        from ..fitting.result import json_text

        return json_text(self.to_dict(), path, indent=indent)


class _Objective:
    """``-log L`` of the data as a function of the log10 free parameters (picklable)."""

    def __init__(self, scheme, data, free, tied, fix, open_states, conductance, ec50=None):
        self.scheme, self.data, self.free, self.tied, self.fix = scheme, data, free, tied, fix
        self.open_states, self.conductance, self.ec50 = open_states, conductance, ec50
        self.base = dict(zip(scheme.parameter_names, (p.value for p in scheme.parameters)))
        self.n = 0
        self._last_ec50_log = None                       # warm start of the EC50 solve

    def complete(self, v) -> dict:
        """Tied rates, then microscopic reversibility."""
        for n, (other, factor) in self.tied.items():
            v[n] = factor * v[other]
        return self.fix(v) if self.fix is not None else v

    def values(self, x) -> dict:
        v = dict(self.base)
        v.update({n: 10.0 ** xi for n, xi in zip(self.free, x)})
        v = self.complete(v)
        if self.ec50 is not None:
            v = self.solve_ec50(v)
        return v

    def log_ec50(self, v, log_p) -> tuple:
        c = self.ec50
        w = self.complete({**v, c.parameter: math.exp(log_p)})
        e = mechanism_ec50(self.scheme, c.agonist, low=c.low, high=c.high, params=w, inputs=c.inputs,
                           open_states=self.open_states, conductance=self.conductance)
        return math.log(e) - math.log(c.value), w

    def solve_ec50(self, v) -> dict:
        """Set the constrained rate so that the EC50 is the given one (secant steps on log rate vs log EC50,
        from the last solution; relative accuracy 1e-12). Raises ArithmeticError if it fails."""
        name = self.ec50.parameter
        x0 = self._last_ec50_log if self._last_ec50_log is not None else math.log(v[name])
        f0, w = self.log_ec50(v, x0)
        if abs(f0) < 1e-12:
            self._last_ec50_log = x0
            return w
        x1 = x0 - 0.1 if f0 > 0 else x0 + 0.1
        for _ in range(60):
            f1, w = self.log_ec50(v, x1)
            if abs(f1) < 1e-12 or (abs(x1 - x0) < 1e-13 and abs(f1) < 1e-9):
                self._last_ec50_log = x1
                return w
            if f1 == f0:
                break
            step = -f1 * (x1 - x0) / (f1 - f0)
            x0, f0 = x1, f1
            x1 = x1 + max(-2.0, min(2.0, step))          # at most a factor e^2 per step
            if not math.isfinite(x1):
                break
        raise ArithmeticError(f"no value of `{name}` gives the EC50 {self.ec50.value:g}")

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
                reversibility=None, ec50: EC50Constraint | None = None, n_starts: int = 1, seed=None,
                executor="serial", method: str = "Nelder-Mead",
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
    ec50 : EC50Constraint, optional
        A rate computed at every step so that the P_open curve has the given EC50.
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
    if ec50 is not None:
        if not isinstance(ec50, EC50Constraint):
            raise ArgumentError(f"`ec50` must be an EC50Constraint, got {type(ec50).__name__}")
        if ec50.parameter not in base:
            raise SchemeError(f"unknown parameter `{ec50.parameter}`" + did_you_mean(ec50.parameter, base))
        if ec50.parameter in free or ec50.parameter in tied or ec50.parameter in mr:
            raise ArgumentError(f"`{ec50.parameter}` is set by the EC50 constraint: it cannot also be free, tied "
                                f"or set by reversibility")
        if ec50.agonist not in scheme.input_names:
            raise ArgumentError(f"unknown agonist input `{ec50.agonist}`" + did_you_mean(ec50.agonist,
                                                                                       scheme.input_names))
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
    objective = _Objective(scheme, data, free, tied, fix, open_states, conductance, ec50)
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
                            elapsed=time.perf_counter() - t0,
                            constraints={"tied": tied, "reversibility": mr, "ec50": ec50},
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
                            ec50=result.constraints.get("ec50"),
                            method=st["method"], maxiter=st["maxiter"])
            lls.append(f.log_likelihood)
        else:
            mr = result.constraints.get("reversibility") or []
            fix = reversibility_solver(sch, mr, open_states=st["open_states"], inputs=st["data"][0].inputs) \
                if mr else None
            obj = _Objective(sch, st["data"], (), result.constraints.get("tied", {}), fix, st["open_states"],
                             st["conductance"], result.constraints.get("ec50"))
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
