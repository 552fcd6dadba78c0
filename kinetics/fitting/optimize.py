"""Local least-squares fits and multistart.

:func:`local_fit` runs :func:`scipy.optimize.least_squares` (trust-region reflective, bounds in the scaled
box) with the exact Jacobian of :class:`~kinetics.fitting.objective.Objective`; one augmented simulation per
dataset gives both the residuals and the Jacobian, cached for the ``jac`` call at the same point. Some
parameters can be held fixed (likelihood profiles). A failed simulation at a trial point returns infinite
residuals, which makes ``least_squares`` shrink its trust region; a failure at the start point ends that
start with ``success=False`` and the error message.

:func:`multistart` draws start points from a space-filling design (Latin hypercube or scrambled Sobol,
:mod:`scipy.stats.qmc`) in the scaled box and runs every local fit through an executor. Every start's result
is kept, failures included.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field, fields
from functools import partial

import numpy as np

from ..errors import ArgumentError, KineticsError, SolverError
from .objective import Objective

__all__ = ["StartResult", "local_fit", "multistart", "start_points", "SAMPLERS"]

#: Space-filling designs for start points.
SAMPLERS = ("lhs", "sobol", "uniform")

_LS_DEFAULTS = {"method": "trf", "ftol": 1e-10, "xtol": 1e-10, "gtol": 1e-10, "x_scale": 1.0}


@dataclass
class StartResult:
    """One local optimisation of a multistart (or one point of a profile).

    ``x0``/``x`` are scaled; ``values`` are the declared-unit values at ``x``. ``success`` is False when the
    run failed (``error`` holds the message) or the optimiser stopped without converging. ``n_simulations``
    counts model solves (one per dataset per evaluation), ``nfev``/``njev`` are least_squares' counters.
    ``raw`` is scipy's :class:`~scipy.optimize.OptimizeResult` as returned (None when the start failed early).
    """

    index: int
    x0: np.ndarray
    x: np.ndarray | None = None
    cost: float = np.inf
    success: bool = False
    status: int | None = None
    message: str = ""
    nfev: int = 0
    njev: int = 0
    n_simulations: int = 0
    time: float = 0.0
    error: str | None = None
    values: dict = field(default_factory=dict)
    optimality: float | None = None
    active_mask: list | None = None
    raw: object = None

    def to_dict(self) -> dict:
        """Plain values for JSON (without ``raw``)."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "raw"}
        d["values"] = dict(self.values)
        d["x0"] = [float(v) for v in self.x0]
        d["x"] = None if self.x is None else [float(v) for v in self.x]
        return d


class _Evaluator:
    """Per-run cache: residuals and Jacobian at the last point (one augmented solve serves both)."""

    def __init__(self, objective: Objective, free: np.ndarray, x_full: np.ndarray):
        self.obj = objective
        self.free = free
        self.x_full = np.array(x_full, dtype=float)
        self._x = None
        self._r = None
        self._J = None
        self.last_error = None
        self.n_simulations = 0

    def full(self, xf):
        x = self.x_full.copy()
        x[self.free] = xf
        return x

    def _evaluate(self, xf):
        xf = np.array(xf, dtype=float)
        if self._x is not None and np.array_equal(xf, self._x):
            return
        exact = self.obj.gradient == "exact"
        self.n_simulations += len(self.obj.datasets)
        try:
            out = self.obj.residuals(self.full(xf), jacobian=exact)
            r, J = out if exact else (out, None)
        except SolverError as exc:
            self.last_error = str(exc)
            r, J = np.full(self.obj.n_data, np.inf), None
        self._x, self._r, self._J = xf, r, J

    def fun(self, xf):
        self._evaluate(xf)
        return self._r

    def jac(self, xf):
        self._evaluate(xf)
        if self._J is None:
            raise SolverError(f"no Jacobian: the simulation failed at this point ({self.last_error})")
        return self._J[:, self.free]


def local_fit(objective: Objective, x0, *, fixed: dict | None = None, options: dict | None = None,
              index: int = 0) -> StartResult:
    """One bounded least-squares fit from scaled ``x0``; ``fixed`` maps parameter indices to fixed scaled values.

    Never raises for a failing simulation: the result has ``success=False`` and ``error`` set.
    """
    from scipy.optimize import least_squares

    t_start = time.perf_counter()
    x0 = np.array(x0, dtype=float)
    fixed = dict(fixed or {})
    for i, v in fixed.items():
        x0[i] = v
    free = np.array([i for i in range(objective.n_parameters) if i not in fixed], dtype=int)
    lo, hi = objective.x_lower[free], objective.x_upper[free]
    ev = _Evaluator(objective, free, x0)
    res = StartResult(index=index, x0=x0.copy())
    opts = dict(_LS_DEFAULTS)
    opts.update(options or {})
    try:
        if free.size == 0:
            r = ev.fun(np.empty(0))
            if not np.all(np.isfinite(r)):
                raise SolverError(ev.last_error or "simulation failed")
            res.x, res.cost, res.success, res.status = x0, 0.5 * float(r @ r), True, 0
            res.message = "no free parameters"
        else:
            r0 = ev.fun(x0[free])
            if not np.all(np.isfinite(r0)):
                raise SolverError(f"simulation failed at the start point: {ev.last_error}")
            jac = ev.jac if objective.gradient == "exact" else objective.gradient
            sol = least_squares(ev.fun, np.clip(x0[free], lo, hi), jac=jac, bounds=(lo, hi), **opts)
            x = x0.copy()
            x[free] = sol.x
            res.x = x
            res.cost = float(sol.cost)
            res.status = int(sol.status)
            res.success = bool(sol.success) and sol.status > 0
            res.message = str(sol.message)
            res.nfev, res.njev = int(sol.nfev), int(sol.njev or 0)
            res.optimality = float(sol.optimality)
            res.active_mask = [int(a) for a in sol.active_mask]
            res.raw = sol
    except (KineticsError, ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
        res.success = False
        res.error = f"{type(exc).__name__}: {exc}"
        res.message = res.error
    except Exception as exc:  # noqa: BLE001 - a start that crashes is recorded, not fatal
        res.success = False
        res.error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}"
        res.message = f"{type(exc).__name__}: {exc}"
    res.n_simulations = ev.n_simulations
    if res.x is not None:
        res.values = objective.values(res.x)
    res.time = time.perf_counter() - t_start
    return res


def start_points(objective: Objective, n_starts: int, *, seed=0, sampler: str = "lhs",
                 include_start: bool = True) -> np.ndarray:
    """``(n_starts, n_parameters)`` scaled start points: the given start first (if ``include_start``), then a
    space-filling design in the scaled box."""
    return design_points(n_starts, objective.x_lower, objective.x_upper, objective.x_start, seed=seed,
                         sampler=sampler, include_start=include_start)


def design_points(n_starts: int, lower, upper, start, *, seed=0, sampler: str = "lhs",
                  include_start: bool = True) -> np.ndarray:
    """``(n_starts, d)`` points: ``start`` first (if ``include_start``), then a Latin hypercube (``"lhs"``),
    scrambled Sobol (``"sobol"``) or uniform random (``"uniform"``) design in the box ``[lower, upper]``."""
    if int(n_starts) != n_starts or n_starts < 1:
        raise ArgumentError(f"`n_starts` must be a positive integer, got {n_starts!r}")
    if sampler not in SAMPLERS:
        raise ArgumentError(f"`sampler` must be one of {SAMPLERS}, got {sampler!r}")
    from scipy.stats import qmc

    n_starts = int(n_starts)
    lo, hi = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    d = lo.size
    n_design = n_starts - 1 if include_start else n_starts
    if n_design > 0:
        if sampler == "lhs":
            u = qmc.LatinHypercube(d=d, rng=np.random.default_rng(seed)).random(n_design)
        elif sampler == "sobol":
            u = qmc.Sobol(d=d, scramble=True, rng=np.random.default_rng(seed)).random(n_design)
        else:
            u = np.random.default_rng(seed).random((n_design, d))
        design = qmc.scale(u, lo, hi) if d else np.zeros((n_design, 0))
    else:
        design = np.zeros((0, d))
    if include_start:
        design = np.vstack([np.asarray(start, dtype=float)[None, :], design])
    return design


def _run_start(objective, options, item):
    index, x0 = item
    return local_fit(objective, x0, options=options, index=index)


def multistart(objective: Objective, n_starts: int = 10, *, seed=0, sampler: str = "lhs",
               include_start: bool = True, executor=None, options: dict | None = None, progress=None) -> list:
    """Run ``n_starts`` local fits through ``executor``; returns every :class:`StartResult`, in start order."""
    from ..executor import as_executor

    X0 = start_points(objective, n_starts, seed=seed, sampler=sampler, include_start=include_start)
    ex = as_executor(executor)
    try:
        return ex.map(partial(_run_start, objective, options), list(enumerate(X0)), desc="multistart",
                      progress=progress)
    finally:
        if ex is not executor:
            ex.close()
