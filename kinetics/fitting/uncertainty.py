"""Uncertainty and identifiability: Fisher information, profile likelihoods, and a report of what the data
do not determine.

Fisher information
    With weighted residuals ``r(x)`` and Gaussian noise, the Fisher information of the scaled parameters is
    ``F = J^T J`` (``J = dr/dx`` at the optimum, exact). Its (pseudo-)inverse is the asymptotic covariance;
    standard errors of declared values follow by the delta method (``se(value) = |dvalue/dx| se(x)``).
    Directions in which the column-normalised ``J`` has a singular value below ``rcond`` (relative) are
    *structurally non-identifiable*: the parameters taking part in them get infinite standard errors, and
    the report names the combination the data do determine (e.g. only the product ``ka*kb``).

Profile likelihood
    For each parameter, step away from the optimum in both directions (adaptive steps on the scaled axis), fix
    it, refit all the others (warm started) and record ``delta cost = cost - best cost``. The confidence
    interval at level ``L`` is where the profile crosses ``chi2.ppf(L, 1) / 2`` (1.92 for 95 %), found by
    interpolation in ``sqrt(delta cost)``. A side that reaches its bound without crossing is *open*: the
    parameter is practically non-identifiable there (a flat profile). Each half profile is one task for the
    executor.

Identifiability report
    :func:`identifiability` lists flags: zero degrees of freedom, singular directions, ``|correlation| >= 0.99``,
    flat (open) profiles, relative standard errors above 100 %, optima on a bound, and profiles that found a
    lower cost than the reported optimum.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import partial

import numpy as np

from ..errors import ArgumentError
from .objective import Objective
from .optimize import local_fit

__all__ = ["Covariance", "covariance", "Profile", "profile_likelihood", "Flag", "identifiability",
           "profile_threshold", "RCOND", "CORRELATION_LIMIT"]

#: Relative singular value (of the column-normalised Jacobian) below which a direction is non-identifiable.
RCOND = 1e-6
#: |correlation| at or above which a pair is flagged.
CORRELATION_LIMIT = 0.99


def profile_threshold(level: float) -> float:
    """Rise of the cost (``0.5 chi2``) that bounds a profile-likelihood confidence interval at ``level``."""
    from scipy.stats import chi2

    if not 0 < level < 1:
        raise ArgumentError(f"`level` must be between 0 and 1, got {level}")
    return 0.5 * float(chi2.ppf(level, 1))


@dataclass
class Covariance:
    """Fisher-information results in the scaled parameters (see the module docstring).

    ``covariance``/``stderr``/``correlation`` are for the scaled ``x``; ``null_space`` rows are unit vectors
    of the directions the data do not determine; ``singular_values`` are those of the column-normalised
    Jacobian, relative to the largest; ``column_norms`` are zero for a parameter without any effect.
    """

    fisher: np.ndarray
    covariance: np.ndarray
    stderr: np.ndarray
    correlation: np.ndarray
    rank: int
    null_space: np.ndarray
    singular_values: np.ndarray
    column_norms: np.ndarray
    identifiable: np.ndarray


def covariance(J: np.ndarray, *, rcond: float = RCOND) -> Covariance:
    """Covariance of the scaled parameters from the weighted-residual Jacobian ``J`` (n_data x n_par)."""
    J = np.asarray(J, dtype=float)
    n = J.shape[1]
    norms = np.linalg.norm(J, axis=0)
    safe = np.where(norms > 0, norms, 1.0)
    Jn = J / safe
    _, s, Vt = np.linalg.svd(Jn, full_matrices=False)
    smax = s[0] if s.size and s[0] > 0 else 1.0
    rel = s / smax
    keep = rel > rcond
    keep &= np.isfinite(rel)
    null = Vt[~keep]
    zero_cols = norms == 0
    if zero_cols.any():
        extra = np.eye(n)[zero_cols]
        null = np.vstack([null, extra]) if null.size else extra
    inv = np.where(keep, 1.0 / np.where(keep, s, 1.0) ** 2, 0.0)
    cov_n = (Vt.T * inv) @ Vt
    cov = cov_n / np.outer(safe, safe)
    identifiable = ~zero_cols
    if null.size:
        identifiable &= np.max(np.abs(null), axis=0) < 0.1
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    se[~identifiable] = np.inf
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        corr = cov / np.outer(d, d)
    corr[~identifiable, :] = np.nan
    corr[:, ~identifiable] = np.nan
    np.fill_diagonal(corr, 1.0)
    out = Covariance(fisher=J.T @ J, covariance=cov, stderr=se, correlation=corr, rank=int(keep.sum()),
                     null_space=null.reshape(-1, n), singular_values=rel, column_norms=norms,
                     identifiable=identifiable)
    for a in (out.fisher, out.covariance, out.stderr, out.correlation, out.null_space, out.singular_values,
              out.column_norms, out.identifiable):
        a.flags.writeable = False      # shared with the FitResult that holds this analysis
    return out


@dataclass
class Profile:
    """The likelihood profile of one parameter.

    Attributes
    ----------
    key : str
    x, values : ndarray
        Profile points on the scaled axis and in the declared unit, increasing.
    delta_cost : ndarray
        ``cost - best cost`` at each point (others re-optimised).
    points : ndarray, shape (n_points, n_parameters)
        The full scaled parameter vector at each point.
    threshold, level : float
    ci : (float or None, float or None)
        Confidence interval in the declared unit; ``None`` on an open side.
    lower_open, upper_open : bool
        The profile reached the bound (or the point budget) without crossing the threshold.
    min_delta : float
        Lowest ``delta_cost`` seen; clearly negative means the optimum was not the best point.
    n_simulations : int
    """

    key: str
    scale: str
    x: np.ndarray
    values: np.ndarray
    delta_cost: np.ndarray
    points: np.ndarray
    threshold: float
    level: float
    ci: tuple
    lower_open: bool
    upper_open: bool
    min_delta: float
    n_simulations: int = 0
    messages: list = field(default_factory=list)

    @property
    def flat(self) -> bool:
        """True when at least one side did not rise above the threshold within the bounds."""
        return self.lower_open or self.upper_open

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("x", "values", "delta_cost"):
            d[k] = [float(v) for v in getattr(self, k)]
        d["points"] = [[float(v) for v in row] for row in self.points]
        d["ci"] = [None if v is None else float(v) for v in self.ci]
        return d


def _crossing(x_a, d_a, x_b, d_b, threshold):
    """x where the profile crosses the threshold between (x_a, d_a < thr) and (x_b, d_b >= thr)."""
    sa, sb, st = np.sqrt(max(d_a, 0.0)), np.sqrt(max(d_b, 0.0)), np.sqrt(threshold)
    if sb - sa <= 0:
        return x_b
    return x_a + (x_b - x_a) * (st - sa) / (sb - sa)


def _half_profile(objective: Objective, x_opt, cost_opt, threshold, options, max_points, task):
    """Walk one side of one parameter's profile; returns a dict of points and what happened."""
    i, direction, step0 = task
    lo, hi = objective.x_lower[i], objective.x_upper[i]
    span = hi - lo
    step = float(np.clip(step0, 1e-4 * span, 0.25 * span))
    x_prev = np.array(x_opt, dtype=float)
    d_prev = 0.0
    xs, ds, pts, msgs = [], [], [], []
    crossed = False
    at_bound = False
    n_sim = 0
    shrinks = 0
    while len(xs) < max_points:
        target = x_prev[i] + direction * step
        if (direction > 0 and target >= hi) or (direction < 0 and target <= lo):
            target = hi if direction > 0 else lo
            at_bound = True
        if target == x_prev[i]:
            break
        res = local_fit(objective, x_prev, fixed={i: target}, options=options)
        n_sim += res.n_simulations
        if res.x is None:
            if shrinks < 4:
                step *= 0.5
                shrinks += 1
                at_bound = False
                continue
            msgs.append(f"profile stopped at {x_prev[i]:.4g}: {res.error}")
            break
        d = res.cost - cost_opt
        if d > 2.0 * threshold and d_prev < threshold and shrinks < 6 and abs(target - x_prev[i]) > 1e-6 * span:
            step *= 0.5          # overshoot: bracket the crossing more tightly
            shrinks += 1
            at_bound = False
            continue
        xs.append(target)
        ds.append(d)
        pts.append(res.x)
        if d >= threshold:
            crossed = True
            break
        if at_bound:
            break
        inc = d - d_prev
        if inc < 0.05 * threshold:
            step = min(step * 2.0, 0.5 * span)
        elif inc > 0.4 * threshold:
            step *= 0.5
        x_prev, d_prev = res.x, d
    return {"i": i, "direction": direction, "x": xs, "delta": ds, "points": pts, "crossed": crossed,
            "at_bound": at_bound, "n_simulations": n_sim, "messages": msgs}


def profile_likelihood(objective: Objective, x_opt, cost_opt: float, *, indices=None, stderr=None,
                       level: float = 0.95, executor=None, options: dict | None = None, max_points: int = 40,
                       progress=None) -> dict:
    """Profiles ``{key: Profile}`` of the parameters ``indices`` (default all) around the optimum ``x_opt``.

    ``stderr`` (scaled, from :func:`covariance`) sets the first step (a quarter of a standard error); steps
    then double while the cost hardly rises and halve when it rises fast, so a quadratic profile gets about
    five points per side.
    """
    from ..executor import as_executor

    threshold = profile_threshold(level)
    n = objective.n_parameters
    indices = list(range(n)) if indices is None else [int(i) for i in indices]
    span = objective.x_upper - objective.x_lower
    se = np.full(n, np.nan) if stderr is None else np.asarray(stderr, dtype=float)
    tasks = []
    for i in indices:
        s = se[i]
        step0 = 0.25 * s if np.isfinite(s) and s > 0 else 0.05 * span[i]
        tasks += [(i, -1, step0), (i, +1, step0)]
    ex = as_executor(executor)
    try:
        halves = ex.map(partial(_half_profile, objective, np.asarray(x_opt, float), float(cost_opt), threshold,
                                options, max_points), tasks, desc="profiles", progress=progress)
    finally:
        if ex is not executor:
            ex.close()
    out = {}
    for i in indices:
        p = objective.parameters[i]
        lo_h = next(h for h in halves if h["i"] == i and h["direction"] < 0)
        hi_h = next(h for h in halves if h["i"] == i and h["direction"] > 0)
        x = list(reversed(lo_h["x"])) + [float(x_opt[i])] + hi_h["x"]
        d = list(reversed(lo_h["delta"])) + [0.0] + hi_h["delta"]
        pts = list(reversed(lo_h["points"])) + [np.asarray(x_opt, float)] + hi_h["points"]
        ci = []
        for h, sign in ((lo_h, -1), (hi_h, +1)):
            if h["crossed"]:
                xs = [float(x_opt[i])] + h["x"]
                ds = [0.0] + h["delta"]
                xc = _crossing(xs[-2], max(ds[-2], 0.0), xs[-1], ds[-1], threshold)
                ci.append(float(p.from_x(xc)))
            else:
                ci.append(None)
        x = np.array(x)
        out[p.key] = Profile(key=p.key, scale=p.scale, x=x, values=np.asarray(p.from_x(x), dtype=float),
                             delta_cost=np.array(d), points=np.array(pts), threshold=threshold, level=level,
                             ci=tuple(ci), lower_open=not lo_h["crossed"], upper_open=not hi_h["crossed"],
                             min_delta=float(min(d)), n_simulations=lo_h["n_simulations"] + hi_h["n_simulations"],
                             messages=lo_h["messages"] + hi_h["messages"])
    return out


@dataclass
class Flag:
    """One identifiability finding: which parameters, what kind, and a sentence for the report."""

    parameters: tuple
    kind: str
    message: str

    def to_dict(self) -> dict:
        return {"parameters": list(self.parameters), "kind": self.kind, "message": self.message}


def _combination_text(vec, keys, scales) -> str:
    big = [(k, v, s) for k, v, s in zip(keys, vec, scales) if abs(v) >= 0.1]
    terms = " ".join(f"{'+' if v >= 0 else '-'} {abs(v):.2f}*{('log10(' + k + ')') if s == 'log10' else k}"
                     for k, v, s in big)
    text = terms.lstrip("+ ")
    if len(big) == 2 and all(s == "log10" for _, _, s in big) and abs(abs(big[0][1]) - abs(big[1][1])) < 0.05:
        (a, va, _), (b, vb, _) = big
        kept = f"{a}*{b}" if va * vb < 0 else f"{a}/{b}"
        text += f" (only the {'product' if va * vb < 0 else 'ratio'} {kept} is determined)"
    return text


def identifiability(keys, scales, cov: Covariance, *, profiles: dict | None = None, x=None, lower=None,
                    upper=None, correlation_limit: float = CORRELATION_LIMIT, relative_se_limit: float = 1.0,
                    values=None, value_stderr=None, n_data: int | None = None) -> list:
    """Identifiability flags (list of :class:`Flag`) from the Fisher information and the profiles.

    With ``n_data`` (the number of data values) not above the number of parameters there are no degrees of
    freedom left: a ``zero_dof`` flag says so (the data can be matched exactly whatever they are, so nothing
    is established about the parameters), whatever the Fisher information looks like.
    """
    flags = []
    keys = list(keys)
    if n_data is not None and n_data <= len(keys):
        flags.append(Flag(tuple(keys), "zero_dof",
                          f"not identifiable: zero degrees of freedom ({n_data} data value(s) for {len(keys)} "
                          f"fitted parameter(s)): the model can pass through any such data, so the fit tests "
                          f"nothing and its intervals rest only on the given sigma"))
    for i, k in enumerate(keys):
        if cov.column_norms[i] == 0:
            flags.append(Flag((k,), "no_effect", f"`{k}` has no effect on the fitted data (zero sensitivity)"))
    for vec in cov.null_space:
        if np.count_nonzero(np.abs(vec) >= 0.1) >= 2:
            involved = tuple(k for k, v in zip(keys, vec) if abs(v) >= 0.1)
            flags.append(Flag(involved, "singular",
                              "structurally non-identifiable: the data do not determine the direction "
                              + _combination_text(vec, keys, scales)))
    n = len(keys)
    for a in range(n):
        for b in range(a + 1, n):
            c = cov.correlation[a, b]
            if np.isfinite(c) and abs(c) >= correlation_limit:
                flags.append(Flag((keys[a], keys[b]), "correlation",
                                  f"`{keys[a]}` and `{keys[b]}` are correlated ({c:+.3f}): the data determine a "
                                  f"combination of them better than either"))
    if values is not None and value_stderr is not None:
        for k, v, s in zip(keys, values, value_stderr):
            if np.isfinite(s) and v != 0 and s / abs(v) > relative_se_limit:
                flags.append(Flag((k,), "large_uncertainty",
                                  f"`{k}` has a relative standard error of {100 * s / abs(v):.0f} %"))
    if x is not None and lower is not None and upper is not None:
        for i, k in enumerate(keys):
            span = upper[i] - lower[i]
            if x[i] - lower[i] <= 1e-6 * span or upper[i] - x[i] <= 1e-6 * span:
                side = "lower" if x[i] - lower[i] <= 1e-6 * span else "upper"
                flags.append(Flag((k,), "at_bound", f"`{k}` is at its {side} bound; the bound, not the data, "
                                                    f"sets its value (widen the bounds or fix it)"))
    for k, pr in (profiles or {}).items():
        if pr.flat:
            sides = " and ".join(s for s, o in (("lower", pr.lower_open), ("upper", pr.upper_open)) if o)
            flags.append(Flag((k,), "flat_profile",
                              f"practically non-identifiable: the profile of `{k}` stays below the "
                              f"{100 * pr.level:.0f} % threshold on the {sides} side within the bounds"))
        if pr.min_delta < -1e-3 * max(1.0, pr.threshold):
            flags.append(Flag((k,), "better_optimum",
                              f"the profile of `{k}` found a cost {-pr.min_delta:.3g} below the reported optimum: "
                              f"the fit did not reach the best optimum (use more starts)"))
    return flags
