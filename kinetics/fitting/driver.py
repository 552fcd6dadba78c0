"""``fit()`` and ``profile()``: the user-facing fitting calls."""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from ..errors import ArgumentError, SolverError
from ..executor import Executor, as_executor
from .objective import DEFAULT_ATOL, DEFAULT_RTOL, Objective
from .optimize import SAMPLERS, local_fit, multistart
from .result import FitResult, make_parameters
from .uncertainty import covariance, identifiability, profile_likelihood, profile_threshold

__all__ = ["fit", "profile"]

_SIGMA_ITERATIONS = 10
_SIGMA_TOL = 1e-3


def fit(model, datasets, parameters, *, n_starts: int = 10, seed=0, sampler: str = "lhs",
        include_start: bool = True, executor=None, profiles: bool = False, level: float = 0.95,
        gradient: str = "exact", rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL, method: str = "auto",
        options: dict | None = None, progress=None) -> FitResult:
    """Fit parameters of ``model`` to ``datasets`` by weighted least squares, from many starts.

    Parameters
    ----------
    model : Scheme
    datasets : Dataset or list of Dataset
        Fitted together; parameters are shared unless fitted ``per_dataset``.
    parameters : list of str or FitParameter, or mapping name -> (low, high) / dict / FitParameter
        What to fit: scheme parameters (``"Ru"``), initial values (``"C0(0)"``) or observation parameters
        used in the datasets' observables. Bounds are in the declared unit; the default scale is log10 for
        positive quantities (see :class:`~kinetics.fitting.parameters.FitParameter`).
    n_starts : int
        Local fits from a space-filling design in the scaled box (the given start is the first unless
        ``include_start=False``).
    seed : int
        Seed of the design (reproducible starts).
    sampler : {"lhs", "sobol", "uniform"}
    executor : None, "serial", int, dask.distributed.Client or Executor
        Where starts and profiles run: default a local process pool using every core.
    profiles : bool
        Compute likelihood profiles (confidence intervals and the flat-profile check); see also :func:`profile`.
    level : float
        Confidence level of the intervals (0.95).
    gradient : {"exact", "2-point", "3-point"}
        Exact forward sensitivities (default) or finite differences (for comparison).
    rtol, atol : float
        Solver tolerances (defaults 1e-8, 1e-10).
    method : {"auto", "dopri5", "rodas"}
        Native solver method.
    options : dict, optional
        Extra keyword arguments of :func:`scipy.optimize.least_squares` (``ftol``, ``max_nfev``...).
    progress : bool, optional
        Progress bars (default: only when writing to a terminal).

    Returns
    -------
    FitResult

    Raises
    ------
    SchemeError, ArgumentError, ProtocolError
        Bad input (unknown names, NaN data, bounds excluding the start...), before any simulation.
    SolverError
        When every start failed (the message gives the first error).

    Examples
    --------
    >>> res = fit(scheme, [ds1, ds2], {"kon": (0.1, 10.0), "koff": (0.01, 1.0)}, n_starts=8)  # doctest: +SKIP
    >>> print(res.report())                                                                    # doctest: +SKIP
    """
    t_start = time.perf_counter()
    objective = Objective(model, datasets, parameters, rtol=rtol, atol=atol, method=method, gradient=gradient)
    _check_degrees_of_freedom(objective)
    profile_threshold(level)  # validates `level` before any work
    if options is not None and not isinstance(options, dict):
        raise ArgumentError(f"`options` must be a dict of least_squares keyword arguments, got {options!r}")
    if isinstance(n_starts, bool) or int(n_starts) != n_starts or n_starts < 1:
        raise ArgumentError(f"`n_starts` must be a positive integer, got {n_starts!r}")
    if sampler not in SAMPLERS:
        raise ArgumentError(f"`sampler` must be one of {SAMPLERS}, got {sampler!r}")
    ex = as_executor(executor)
    owned = ex is not executor
    # Compile (or load) the model and its sensitivity system here, once: a missing compiler or a compile
    # error surfaces before any worker starts, and workers load the built libraries.
    objective.runtime()
    try:
        starts = multistart(objective, n_starts, seed=seed, sampler=sampler, include_start=include_start,
                            executor=ex, options=options, progress=progress)
        result = _assemble(objective, starts, ex, options, level, t_start,
                           {"n_starts": int(n_starts), "seed": seed, "sampler": sampler,
                            "include_start": include_start, "gradient": gradient, "rtol": rtol, "atol": atol,
                            "method": method, "level": level, "executor": ex.describe(),
                            "options": dict(options or {})})
        if profiles:
            result = _with_profiles(result, ex, level=level, progress=progress, clock=(0.0, t_start))
    finally:
        if owned:
            ex.close()
    return result


def _check_degrees_of_freedom(objective: Objective) -> None:
    """Estimating the noise needs more data values than fitted parameters: with zero degrees of freedom the
    residuals can all be zero and the estimate (and every interval built on it) means nothing."""
    groups = objective.estimated_groups()
    n, k = objective.n_data, objective.n_parameters
    if groups and n <= k:
        which = ", ".join(f"`{d}.{o}`" for d, o in groups[:5])
        raise ArgumentError(f"cannot estimate the noise (sigma='estimate' for {which}) with zero degrees of "
                            f"freedom: {n} data value(s) for {k} fitted parameter(s); give sigma as a number "
                            f"(the measurement noise) or fit more data than parameters")


def _refine_sigma(objective: Objective, best, options):
    """Re-estimate the noise of the groups with ``sigma="estimate"`` from the residuals and refit, until the
    estimates change by less than 0.1 %. Returns (objective, best, extra simulations)."""
    extra = 0
    groups = objective.estimated_groups()
    if not groups:
        return objective, best, 0
    n, k = objective.n_data, objective.n_parameters
    dof_factor = n / max(n - k, 1)
    for _ in range(_SIGMA_ITERATIONS):
        r = objective.residuals(best.x)
        extra += len(objective.datasets)
        new = {}
        for name, o, sl in objective.block_slices():
            if (name, o) in groups:
                raw = r[sl] * objective.sigma(name, o)
                new[(name, o)] = float(np.sqrt(np.mean(raw ** 2) * dof_factor)) or 1e-300
        change = max(abs(new[g] / objective.sigma(*g)[0] - 1.0) for g in groups)
        if change < _SIGMA_TOL:
            break
        objective = objective.with_sigma(new)
        refit = local_fit(objective, best.x, options=options, index=best.index)
        extra += refit.n_simulations
        if refit.x is not None:
            best = refit
    return objective, best, extra


def _assemble(objective: Objective, starts, ex, options, level, t_start, settings) -> FitResult:
    ok = [s for s in starts if s.x is not None and np.isfinite(s.cost)]
    if not ok:
        first = next((s.error for s in starts if s.error), "unknown error")
        err = SolverError(f"all {len(starts)} starts failed; the first error: {first}")
        err.starts = starts
        raise err
    best = min(ok, key=lambda s: s.cost)
    n_sim = sum(s.n_simulations for s in starts)
    objective, refined, extra = _refine_sigma(objective, best, options)
    n_sim += extra
    r, J = objective.residuals(refined.x, jacobian=True)
    n_sim += len(objective.datasets)
    cov = covariance(J)
    x = np.array(refined.x, dtype=float)
    params = objective.parameters
    values = objective.values(x)
    dv = np.array([float(p.dvalue_dx(xi)) for p, xi in zip(params, x)])
    se_values = np.abs(dv) * cov.stderr
    stderr = {p.key: float(s) for p, s in zip(params, se_values)}
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + level / 2))
    ci = {}
    for p, xi, s in zip(params, x, cov.stderr):
        if np.isfinite(s):
            ci[p.key] = (float(p.from_x(xi - z * s)), float(p.from_x(xi + z * s)))
        else:
            ci[p.key] = (None, None)
    n, k = objective.n_data, objective.n_parameters
    n_sigma = len(objective.estimated_groups())
    cost = 0.5 * float(r @ r)
    loglik = -cost - objective.log_sigma_sum() - 0.5 * n * np.log(2 * np.pi)
    n_free = k + n_sigma
    sigma = {}
    for name, o, _ in objective.block_slices():
        s = objective.sigma(name, o)
        sigma[(name, o)] = float(s[0]) if np.all(s == s[0]) else None
    best_index = starts.index(best)
    # The refined optimum (noise re-estimated) replaces the best start's record where they differ.
    if refined is not best:
        starts = list(starts)
        refined = replace(refined, message=f"{refined.message} (refit after re-estimating the noise)")
        starts[best_index] = refined
    flags = identifiability(objective.names, [p.scale for p in params], cov, x=x, lower=objective.x_lower,
                            upper=objective.x_upper, values=[values[p.key] for p in params],
                            value_stderr=se_values, n_data=n)
    success = bool(refined.success)
    message = refined.message
    dataset_names = [d.name for d in objective.datasets]
    shared_model = {p.name: values[p.key] for p in params if p.kind == "model" and p.dataset is None}
    shared_init = {p.name[:-3]: values[p.key] for p in params if p.kind == "initial" and p.dataset is None}
    scheme = objective.scheme.with_parameters(shared_model) if shared_model else objective.scheme
    if shared_init:
        scheme = scheme.with_initial(shared_init)
    blocks = {(name, o): sl for name, o, sl in objective.block_slices()}
    return FitResult(
        model=objective.scheme, scheme=scheme, datasets=objective.datasets, objective=objective,
        fit_parameters=params, names=objective.names, scales=tuple(p.scale for p in params), x=x,
        values=values,
        parameters=make_parameters(params, values, stderr, ci, "wald", level, objective.scheme, dataset_names),
        stderr=stderr, stderr_scaled=cov.stderr, covariance=cov.covariance, correlation=cov.correlation,
        fisher=cov.fisher, covariance_info=cov, ci=ci, ci_method="wald", residuals=r, jacobian=J,
        cost=cost, chi2=2 * cost, reduced_chi2=2 * cost / (n - k) if n > k else float("nan"),
        log_likelihood=float(loglik),
        aic=float(2 * n_free - 2 * loglik), bic=float(n_free * np.log(n) - 2 * loglik),
        n_data=n, n_parameters=k, n_sigma=n_sigma, success=success, message=message, starts=starts,
        best_start=best_index, profiles={}, flags=flags, sigma=sigma, settings=settings, n_simulations=n_sim,
        wall_time=time.perf_counter() - t_start, blocks=blocks,
    )


def _with_profiles(result: FitResult, ex, *, names=None, level=None, progress=None, max_points=40,
                   clock=None) -> FitResult:
    """A new result (``dataclasses.replace``; ``result`` is unchanged) with the profiles of ``names``
    (default all) and the intervals, flags and parameters they change. ``clock = (seconds, t0)`` sets its
    ``wall_time`` to ``seconds`` plus the time since ``t0`` (default: the input's plus the profiling time)."""
    base, t0 = clock if clock is not None else (result.wall_time, time.perf_counter())
    level = result.settings.get("level", 0.95) if level is None else level
    keys = list(result.names)
    names = keys if names is None else ([names] if isinstance(names, str) else list(names))
    for nm in names:
        if nm not in keys:
            from ..errors import did_you_mean

            raise ArgumentError(f"cannot profile `{nm}`: not a fitted parameter" + did_you_mean(nm, keys))
    indices = [keys.index(nm) for nm in names]
    obj = result.objective
    profiles = profile_likelihood(obj, result.x, result.cost, indices=indices, stderr=result.stderr_scaled,
                                  level=level, executor=ex, options=result.settings.get("options") or None,
                                  max_points=max_points, progress=progress)
    all_profiles = dict(result.profiles)
    all_profiles.update(profiles)
    ci = dict(result.ci)
    for k, pr in profiles.items():
        ci[k] = pr.ci
    params = result.fit_parameters
    se_values = [result.stderr[p.key] for p in params]
    flags = identifiability(result.names, result.scales, result.covariance_info, profiles=all_profiles,
                            x=result.x, lower=obj.x_lower, upper=obj.x_upper,
                            values=[result.values[p.key] for p in params], value_stderr=se_values,
                            n_data=result.n_data)
    ci_method = "profile" if set(all_profiles) == set(keys) else "mixed"
    settings = dict(result.settings, level=level)
    return replace(
        result, profiles=all_profiles, ci=ci, ci_method=ci_method, flags=flags, settings=settings,
        n_simulations=result.n_simulations + sum(p.n_simulations for p in profiles.values()),
        parameters=make_parameters(params, result.values, result.stderr, ci, ci_method, level, result.model,
                                   [d.name for d in result.datasets]),
        wall_time=base + (time.perf_counter() - t0))


def profile(result: FitResult, names=None, *, level: float | None = None, executor=None, progress=None,
            max_points: int = 40) -> FitResult:
    """Likelihood profiles of fitted parameters (default: all), run through ``executor``.

    Returns a new :class:`FitResult` with ``profiles``, profile-likelihood confidence intervals and the
    identifiability flags updated (``result`` itself is not changed).

    Examples
    --------
    >>> res2 = profile(res, ["Ru", "Rd"])          # doctest: +SKIP
    >>> res2.profiles["Ru"].ci                      # doctest: +SKIP
    """
    if not isinstance(result, FitResult):
        raise ArgumentError(f"`result` must be a FitResult, got {type(result).__name__}")
    t0 = time.perf_counter()
    ex = as_executor(executor)
    owned = ex is not executor and not isinstance(executor, Executor)
    try:
        return _with_profiles(result, ex, names=names, level=level, progress=progress, max_points=max_points,
                              clock=(result.wall_time, t0))
    finally:
        if owned:
            ex.close()
