"""The result of a fit: :class:`FitResult`.

Holds new :class:`~kinetics.scheme.Parameter` objects for the fitted values (the model and the datasets
passed to :func:`~kinetics.fitting.fit` are never changed), a scheme with the shared fitted values, standard
errors, covariance and correlations, confidence intervals (profile likelihood when profiles were computed,
else Wald), residuals, cost, AIC/BIC, success flag and message, every start's optimiser result, the profiles,
and the identifiability flags. ``report()`` writes a text summary in the manner of lmfit's ``fit_report``;
``to_dict()``/``to_json()`` give everything as JSON; ``plot_fit()``, ``plot_waterfall()``,
``plot_profiles()`` and ``plot()`` draw it.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ArgumentError, did_you_mean
from ..scheme import Parameter

if TYPE_CHECKING:
    from ..scheme import Scheme
    from .dataset import Dataset
    from .objective import Objective
    from .optimize import StartResult
    from .parameters import FitParameter
    from .uncertainty import Covariance, Flag, Profile

__all__ = ["FitResult"]


def _finite_or_none(v):
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _jsonable(obj):
    """Recursively convert numpy values and non-finite floats (-> None) for strict JSON."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return _finite_or_none(obj)
    return obj


def _fmt(v, digits=5) -> str:
    if v is None or not np.isfinite(v):
        return "-" if v is None else ("inf" if v > 0 else "-inf") if np.isinf(v) else "nan"
    return f"{v:.{digits}g}"


_ARRAY_FIELDS = ("x", "stderr_scaled", "covariance", "correlation", "fisher", "residuals", "jacobian")


def json_text(data: dict, path=None, *, indent: int = 1) -> str:
    """Strict JSON text of ``data`` (no NaN); written atomically to ``path`` if given (fit results' ``to_json``)."""
    text = json.dumps(data, indent=indent, allow_nan=False)
    if path is not None:
        from ..io import atomic_write_text

        atomic_write_text(path, text + "\n")
    return text


def _readonly(a) -> np.ndarray:
    """``a`` as a float array that cannot be written through (a read-only view; no copy)."""
    a = np.asarray(a, dtype=float)
    if a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False, repr=False)
class FitResult:
    """Everything a fit found (see the module docstring); immutable.

    Built once, with every field, by :func:`~kinetics.fitting.fit`; :func:`~kinetics.fitting.profile` returns
    a new result (``dataclasses.replace``) and leaves its input unchanged. Assigning an attribute raises
    :class:`dataclasses.FrozenInstanceError`; the array fields are read-only numpy arrays, and ``starts``,
    ``flags``, ``fit_parameters``, ``names`` and ``scales`` are tuples. (The dicts are plain dicts, for
    ``json``/pickle; treat them as read-only.)

    Attributes
    ----------
    model : Scheme
        The scheme as passed in (unchanged).
    scheme : Scheme
        ``model`` with the *shared* fitted parameter and initial values.
    datasets : tuple of Dataset
    objective : Objective
        The least-squares objective at the final noise levels (used by :meth:`predict` and :meth:`simulate`).
    fit_parameters : tuple of FitParameter
        The fitted quantities, in the order of ``names`` and ``x``.
    names : tuple of str
        Keys of the fitted quantities (``"Ru"``, ``"g[cell1]"``, ``"C0(0)"``).
    scales : tuple of str
        ``"log10"`` or ``"linear"`` per fitted quantity: the axis of ``x`` and of the covariance.
    x : ndarray
        The optimum in the scaled parameters.
    values : dict of key -> float
        Fitted values (declared units).
    parameters : dict of key -> Parameter
        New Parameter objects with the fitted values; ``note`` holds the uncertainty.
    stderr : dict of key -> float
        Standard errors (declared units; delta method from the scaled covariance; ``inf`` if not identifiable).
    stderr_scaled, covariance, correlation, fisher : ndarray
        In the scaled parameters (``scales``): standard errors, covariance, correlation matrix and Fisher
        information ``J^T J``.
    covariance_info : Covariance
        The full Fisher-information analysis (rank, null space, singular values...).
    ci : dict of key -> (low, high)
        Confidence intervals (declared units; ``None`` for an open side), method in ``ci_method``.
    ci_method : {"wald", "profile", "mixed"}
        Wald (Fisher information) intervals, profile-likelihood intervals for every parameter, or some of each.
    residuals : ndarray
        Weighted residuals ``(model - data) / sigma`` at the optimum.
    jacobian : ndarray, shape (n_data, n_parameters)
        ``d residuals / d x`` at the optimum (exact sensitivities or finite differences, per ``gradient``).
    cost, chi2, reduced_chi2, log_likelihood, aic, bic : float
        ``cost = chi2 / 2``; ``reduced_chi2`` is ``nan`` without degrees of freedom; AIC/BIC count the
        estimated noise levels as parameters.
    n_data, n_parameters, n_sigma : int
        Data points, fitted parameters, estimated noise levels.
    success : bool
        The best (refined) local fit converged.
    message : str
        The optimiser's message for it.
    starts : tuple of StartResult
        Every start, in start order (``best_start`` is the index of the best; its record is the refit when
        the noise was re-estimated).
    best_start : int
    profiles : dict of key -> Profile
        Likelihood profiles (empty unless computed).
    flags : tuple of Flag
        Identifiability findings (empty when every parameter is identifiable).
    sigma : dict of (dataset, observable) -> float or None
        The noise level used for each observable (``None`` where per-point sigma were given).
    settings : dict
        How the fit was run (starts, seed, gradient, tolerances, level, executor, options).
    n_simulations : int
        Model solves over the whole fit (starts, sigma refinement, profiles).
    wall_time : float
        Seconds (including the profiles computed for this result).
    blocks : dict of (dataset, observable) -> slice
        Where each observable's points lie in ``residuals`` (and the rows of ``jacobian``).
    """

    model: Scheme
    scheme: Scheme
    datasets: tuple[Dataset, ...]
    objective: Objective
    fit_parameters: tuple[FitParameter, ...]
    names: tuple[str, ...]
    scales: tuple[str, ...]
    x: np.ndarray
    values: dict[str, float]
    parameters: dict[str, Parameter]
    stderr: dict[str, float]
    stderr_scaled: np.ndarray
    covariance: np.ndarray
    correlation: np.ndarray
    fisher: np.ndarray
    covariance_info: Covariance
    ci: dict[str, tuple[float | None, float | None]]
    ci_method: str
    residuals: np.ndarray
    jacobian: np.ndarray
    cost: float
    chi2: float
    reduced_chi2: float
    log_likelihood: float
    aic: float
    bic: float
    n_data: int
    n_parameters: int
    n_sigma: int
    success: bool
    message: str
    starts: tuple[StartResult, ...]
    best_start: int
    profiles: dict[str, Profile]
    flags: tuple[Flag, ...]
    sigma: dict[tuple[str, str], float | None]
    settings: dict
    n_simulations: int
    wall_time: float
    blocks: dict[tuple[str, str], slice]

    def __post_init__(self):
        # frozen: normalise through object.__setattr__, once, at construction
        for name in _ARRAY_FIELDS:
            object.__setattr__(self, name, _readonly(getattr(self, name)))
        for name in ("datasets", "fit_parameters", "names", "scales", "starts", "flags"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    # ------------------------------------------------------------------ access
    @property
    def best(self):
        """The best start's :class:`~kinetics.fitting.optimize.StartResult`; ``best.raw`` is scipy's OptimizeResult."""
        return self.starts[self.best_start]

    @property
    def identifiable(self) -> bool:
        """True when no identifiability flag was raised."""
        return not any(f.kind in ("zero_dof", "singular", "flat_profile", "no_effect", "correlation")
                       for f in self.flags)

    def flagged(self) -> set:
        """Keys named by an identifiability flag."""
        return {k for f in self.flags for k in f.parameters}

    def __getitem__(self, key: str) -> float:
        if key not in self.values:
            raise KeyError(f"no fitted parameter `{key}`" + did_you_mean(key, self.values))
        return self.values[key]

    def _dataset_index(self, dataset) -> int:
        names = [d.name for d in self.datasets]
        if isinstance(dataset, int):
            if not 0 <= dataset < len(names):
                raise ArgumentError(f"dataset index {dataset} out of range (0..{len(names) - 1})")
            return dataset
        if dataset not in names:
            raise ArgumentError(f"unknown dataset `{dataset}`" + did_you_mean(str(dataset), names))
        return names.index(dataset)

    def predict(self, dataset=0, t=None) -> dict:
        """Fitted model values ``{observable: array}`` for a dataset at times ``t`` (default: its data times)."""
        return self.objective.predict(self.x, self._dataset_index(dataset), t)

    def simulate(self, dataset=0, *, t_eval=None, **kw):
        """:func:`kinetics.simulate` of a dataset's protocol with the fitted values; returns a Result."""
        from ..simulate import simulate

        k = self._dataset_index(dataset)
        obj = self.objective
        d = self.datasets[k]
        params, y0, _ = obj.dataset_values(k, self.x)
        kw.setdefault("rtol", obj.rtol)
        kw.setdefault("atol", obj.atol)
        return simulate(self.model, d.protocol, t0=d.t0, t_end=d.t_end, t_eval=t_eval, params=params, y0=y0, **kw)

    # ------------------------------------------------------------------ text
    def report(self, *, correlation_min: float = 0.5) -> str:
        """A readable summary (fit statistics, parameters with errors and intervals, correlations,
        identifiability, datasets), in the manner of lmfit's ``fit_report``."""
        lines = []
        n_ok = sum(1 for s in self.starts if s.success)
        n_fail = sum(1 for s in self.starts if s.error)
        costs = np.array([s.cost for s in self.starts if s.x is not None])
        hits = int(np.sum(costs <= self.best.cost + max(1e-3, 1e-6 * abs(self.best.cost)))) if costs.size else 0
        lines.append(f"[[Fit]] {self.model.name} to {len(self.datasets)} dataset(s), {self.n_data} data points")
        lines.append(f"    success            {self.success}: {self.message}")
        lines.append(f"    starts             {len(self.starts)} ({n_ok} converged, {n_fail} failed); the best cost "
                     f"was reached by {hits}")
        lines.append(f"    gradient           {self.settings.get('gradient')}; {self.n_simulations} simulations; "
                     f"{self.wall_time:.1f} s on {self.settings.get('executor')}")
        lines.append(f"    parameters         {self.n_parameters} fitted" +
                     (f", {self.n_sigma} noise level(s) estimated" if self.n_sigma else ""))
        lines.append(f"    cost (chi2 / 2)    {_fmt(self.cost, 8)}")
        lines.append(f"    reduced chi2       {_fmt(self.reduced_chi2)}  (chi2 {_fmt(self.chi2, 8)}, "
                     f"{self.n_data - self.n_parameters} degrees of freedom)")
        lines.append(f"    log-likelihood     {_fmt(self.log_likelihood, 8)}")
        lines.append(f"    AIC, BIC           {_fmt(self.aic, 8)}, {_fmt(self.bic, 8)}")
        pct = int(round(100 * self.settings.get("level", 0.95)))
        lines.append(f"[[Parameters]]  value +/- standard error (declared unit); {pct} % CI by "
                     f"{'profile likelihood' if self.ci_method == 'profile' else 'Wald (Fisher information)'}")
        w = max(len(k) for k in self.names)
        for p in self.fit_parameters:
            k = p.key
            v, se = self.values[k], self.stderr[k]
            rel = f"({100 * se / abs(v):.2g} %)" if np.isfinite(se) and v else "(not identifiable)" \
                if not np.isfinite(se) else ""
            lo, hi = self.ci[k]
            ci = f"[{_fmt(lo) if lo is not None else 'open'}, {_fmt(hi) if hi is not None else 'open'}]"
            lines.append(f"    {k:<{w}}  {_fmt(v, 6):>11} +/- {_fmt(se, 3):<8} {p.unit:<10} {rel:<10} CI {ci}  "
                         f"[{p.scale}; start {_fmt(p.start)}; bounds {_fmt(p.lower)}..{_fmt(p.upper)}]")
        pairs = []
        n = len(self.names)
        for a in range(n):
            for b in range(a + 1, n):
                c = self.correlation[a, b]
                if np.isfinite(c) and abs(c) >= correlation_min:
                    pairs.append((abs(c), f"    C({self.names[a]}, {self.names[b]}) = {c:+.4f}"))
        if pairs:
            lines.append(f"[[Correlations]]  (|C| >= {correlation_min})")
            lines += [t for _, t in sorted(pairs, reverse=True)]
        lines.append("[[Identifiability]]")
        if not self.flags:
            lines.append("    every parameter is identifiable" +
                         (" (Fisher information and profiles)" if self.profiles else
                          " from the Fisher information (compute profiles for a stronger check)"))
        for f in self.flags:
            lines.append(f"    ! {f.message}")
        lines.append("[[Datasets]]")
        for d in self.datasets:
            for o in d.observable_names:
                sl = self.blocks[(d.name, o)]
                r = self.residuals[sl]
                s = self.sigma.get((d.name, o))
                how = "estimated" if d.estimated(o) else "given"
                sig = f"sigma {_fmt(s, 4)} ({how})" if s is not None else "sigma per point (given)"
                lines.append(f"    {d.name}.{o}: {r.size} points, chi2 {_fmt(float(r @ r), 6)}, {sig}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        vals = ", ".join(f"{k}={_fmt(v, 4)}" for k, v in self.values.items())
        return f"<FitResult of `{self.model.name}`: cost {_fmt(self.cost, 6)}, success {self.success}; {vals}>"

    # ------------------------------------------------------------------ export
    def to_dict(self) -> dict:
        """Everything as plain Python (JSON-ready: non-finite numbers become ``None``)."""
        params = {}
        for i, p in enumerate(self.fit_parameters):
            k = p.key
            params[k] = {
                "value": self.values[k], "stderr": self.stderr[k], "ci": list(self.ci[k]),
                "unit": p.unit, "scale": p.scale, "bounds": [p.lower, p.upper], "start": p.start,
                "kind": p.kind, "dataset": p.dataset, "x": self.x[i], "stderr_scaled": self.stderr_scaled[i],
            }
        out = {
            "model": self.model.name,
            "success": self.success,
            "message": self.message,
            "parameters": params,
            "ci_method": self.ci_method,
            "names": list(self.names),
            "covariance_scaled": self.covariance,
            "correlation": self.correlation,
            "cost": self.cost, "chi2": self.chi2, "reduced_chi2": self.reduced_chi2,
            "log_likelihood": self.log_likelihood, "aic": self.aic, "bic": self.bic,
            "n_data": self.n_data, "n_parameters": self.n_parameters, "n_sigma": self.n_sigma,
            "sigma": [{"dataset": d, "observable": o, "sigma": s} for (d, o), s in self.sigma.items()],
            "identifiable": self.identifiable,
            "flags": [f.to_dict() for f in self.flags],
            "profiles": {k: p.to_dict() for k, p in self.profiles.items()},
            "starts": [s.to_dict() for s in self.starts],
            "best_start": self.best_start,
            "datasets": [{"name": d.name, "n_times": int(d.time.size), "observables": list(d.observable_names),
                          "residuals": {o: self.residuals[self.blocks[(d.name, o)]] for o in d.observable_names}}
                         for d in self.datasets],
            "settings": self.settings,
            "n_simulations": self.n_simulations,
            "wall_time": self.wall_time,
        }
        return _jsonable(out)

    def to_json(self, path=None, *, indent: int = 1) -> str:
        """JSON text of :meth:`to_dict`; written atomically to ``path`` if given."""
        return json_text(self.to_dict(), path, indent=indent)

    # ------------------------------------------------------------------ plots
    def plot_fit(self, axes=None, **kw):
        """Data and fitted curves, one panel per (dataset, observable). Returns the Figure."""
        from .plots import plot_fit

        return plot_fit(self, axes=axes, **kw)

    def plot_waterfall(self, ax=None):
        """Sorted final costs of the starts (multistart waterfall). Returns the Axes."""
        from .plots import plot_waterfall

        return plot_waterfall(self, ax=ax)

    def plot_profiles(self, axes=None):
        """Likelihood profiles with the threshold and intervals. Returns the Figure."""
        from .plots import plot_profiles

        return plot_profiles(self, axes=axes)

    def plot(self, path=None):
        """One overview figure (fits, waterfall, profiles); saved to ``path`` if given. Returns the Figure."""
        from .plots import plot_overview

        return plot_overview(self, path=path)


def make_parameters(fit_parameters, values, stderr, ci, ci_method, level, scheme, dataset_names) -> dict:
    """New Parameter objects (one per fitted key) carrying the fitted value and its uncertainty in ``note``."""
    out = {}
    pct = int(round(100 * level))
    for p in fit_parameters:
        v, se = values[p.key], stderr[p.key]
        lo, hi = ci[p.key]
        ci_text = f"[{_fmt(lo) if lo is not None else 'open'}, {_fmt(hi) if hi is not None else 'open'}]"
        if p.kind == "model":
            orig = scheme.get_parameter(p.name)
            bounds, unit, name = orig.bounds, orig.unit, p.name
            was = f"; was {_fmt(orig.value)}" + (f" ({orig.reference})" if orig.reference else "")
        elif p.kind == "initial":
            sp = scheme.get_species(p.name[:-3])
            bounds, unit, name = (-math.inf, math.inf), sp.unit or "1", sp.name
            was = f"; initial value, was {sp.initial:g}"
        else:
            bounds, unit, name, was = (-math.inf, math.inf), "1", p.name, ""
        where = f" for dataset `{p.dataset}`" if p.dataset else ""
        note = (f"fitted{where}: {_fmt(v, 6)} +/- {_fmt(se, 3)} {unit}; {pct} % CI ({ci_method}) {ci_text}; "
                f"start {_fmt(p.start)}{was}")
        out[p.key] = Parameter(name, v, unit=unit, bounds=bounds,
                               reference=f"fitted by kinetics.fitting to datasets {', '.join(dataset_names)}", note=note)
    return out
