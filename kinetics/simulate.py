"""Simulation: ``simulate()`` one trajectory, ``sweep()`` many parameter sets.

Methods
-------
``"auto"`` (default)
    The native fast path (:mod:`kinetics.native`): the whole integration loop in
    C, compiled once per scheme structure. Each segment starts with Dormand–Prince
    5(4) and switches to an L-stable Rosenbrock method (with the analytic Jacobian)
    when stiffness is detected. Without a working C compiler the same integrator
    runs compiled by numba (:mod:`kinetics.jit`, one warning says so);
    ``$NMDAKIN_BACKEND`` (``auto``, ``native``, ``jit``, ``scipy``) forces a path
    (:mod:`kinetics.jit.backend`). scipy ``LSODA`` is the last resort, with a
    warning, when neither can be built.
``"dopri5"``, ``"rodas"``
    The native explicit or Rosenbrock method alone (in C or on the JIT path).
``"LSODA"``, ``"BDF"``, ``"Radau"``, ``"RK45"``, ``"DOP853"``, ``"RK23"``
    scipy's ``solve_ivp`` with lambdified RHS and analytic Jacobian.

Every method restarts at each protocol breakpoint and never steps across a
discontinuity. Default tolerances: ``rtol=1e-6``, ``atol=1e-9``.

A scheme with events (:class:`kinetics.Event`) runs through the event driver of
:mod:`kinetics.events` on the native C path and with the scipy methods; the numba JIT path has no event roots
yet (``"auto"`` then uses LSODA with a warning, ``"dopri5"``/``"rodas"`` raise). ``Result.stats["events_fired"]``
counts the firings.
"""
from __future__ import annotations

import dataclasses
import math
import os
import warnings
from collections.abc import Sequence
from typing import Mapping

import numpy as np

from .errors import ArgumentError, CompilerError, SolverError, did_you_mean
from .executor import Executor, ThreadExecutor, as_executor
from .model import CompiledModel, compile as compile_model
from .protocol import Protocol
from .result import Result, SweepResult
from .protocol.schedule import JUMP_SET

__all__ = ["simulate", "sweep", "NATIVE_METHODS", "SCIPY_METHODS", "DEFAULT_RTOL", "DEFAULT_ATOL",
           "MAX_OUTPUT_BYTES", "check_output_size"]

NATIVE_METHODS = {"auto": 0, "dopri5": 1, "rodas": 2}
SCIPY_METHODS = ("LSODA", "BDF", "Radau", "RK45", "DOP853", "RK23")
DEFAULT_RTOL = 1e-6
DEFAULT_ATOL = 1e-9
DEFAULT_POINTS = 1001
#: Largest memory (bytes) the output arrays of one call may take: time, states, observables and inputs of
#: ``simulate`` (float64), all the trajectories of ``sweep``. 1 GiB: about 13 million time points of a
#: 10-column model. Checked before anything is allocated.
MAX_OUTPUT_BYTES = 2 ** 30
#: What ``simulate(..., nonfinite=...)`` may do with NaN/inf states or observables.
_NONFINITE_MODES = ("raise", "warn")

#: Solver statistics reported by every method (scipy methods leave out what scipy does not count).
_NATIVE_STATS = {"n_steps": "steps", "n_rejected": "rejected_steps", "n_rhs": "rhs_evaluations",
                 "n_jac": "jacobian_evaluations", "n_lu": "lu_decompositions", "n_segments": "segments",
                 "n_switches": "stiffness_switches", "n_rodas_steps": "rodas_steps"}

_native_failures: dict = {}     # (structure key, $CC, $NMDAKIN_BACKEND) -> the CompilerError of a failed build
_native_warned: set = set()


# --------------------------------------------------------------------------- helpers
def _check_tolerances(rtol, atol, n_states, state_names):
    try:
        rtol = float(rtol)
    except (TypeError, ValueError):
        raise ArgumentError(f"`rtol` must be a number, got {rtol!r}") from None
    if not (math.isfinite(rtol) and 1e-15 <= rtol < 1):
        raise ArgumentError(f"`rtol` must be in [1e-15, 1), got {rtol}")
    if isinstance(atol, Mapping):
        vec = np.full(n_states, DEFAULT_ATOL)
        for k, v in atol.items():
            if k not in state_names:
                raise ArgumentError(f"`atol` names unknown state `{k}`" + did_you_mean(k, state_names))
            vec[state_names.index(k)] = v
        atol = vec
    atol_arr = np.asarray(atol, dtype=float)
    if atol_arr.ndim == 0:
        atol_arr = np.full(n_states, float(atol_arr))
    if atol_arr.shape != (n_states,):
        raise ArgumentError(f"`atol` must be a number or one value per state ({n_states}), got shape {atol_arr.shape}")
    if not np.all(np.isfinite(atol_arr)) or np.any(atol_arr <= 0):
        raise ArgumentError(f"`atol` must be finite and > 0, got {atol}")
    return rtol, atol_arr


def check_output_size(n_points, n_columns: int, runs: int = 1) -> None:
    """Raise :class:`ArgumentError` if ``runs`` trajectories of ``n_points`` times x ``n_columns`` float64
    values would exceed :data:`MAX_OUTPUT_BYTES` (call it before allocating a time grid)."""
    n_columns, runs = max(int(n_columns), 1), max(int(runs), 1)
    size = 8 * int(n_points) * n_columns * runs
    if size > MAX_OUTPUT_BYTES:
        most = MAX_OUTPUT_BYTES // (8 * n_columns * runs)
        raise ArgumentError(f"{int(n_points)} output points x {n_columns} columns"
                            + (f" x {runs} runs" if runs > 1 else "")
                            + f" would take {size / 2 ** 30:.3g} GiB; the limit is "
                              f"{MAX_OUTPUT_BYTES / 2 ** 30:.3g} GiB (kinetics.simulate.MAX_OUTPUT_BYTES): "
                              f"ask for at most {most} points")


def _time_grid(t0, t_end, t_eval, n_points=None, n_columns: int = 1) -> tuple[float, float, np.ndarray]:
    try:
        t0, t_end = float(t0), float(t_end)
    except (TypeError, ValueError):
        raise ArgumentError(f"`t0` and `t_end` must be numbers, got {t0!r}, {t_end!r}") from None
    if not (math.isfinite(t0) and math.isfinite(t_end)):
        raise ArgumentError(f"`t0` and `t_end` must be finite, got {t0}, {t_end}")
    if t_end <= t0:
        raise ArgumentError(f"`t_end` ({t_end}) must be greater than `t0` ({t0})")
    if n_points is not None:
        if t_eval is not None:
            raise ArgumentError("give `t_eval` or `n_points`, not both")
        if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 1:
            raise ArgumentError(f"`n_points` must be a positive integer, got {n_points!r}")
    if t_eval is None:
        n = DEFAULT_POINTS if n_points is None else int(n_points)
        check_output_size(n, n_columns)
        return t0, t_end, np.linspace(t0, t_end, n)
    te = np.asarray(t_eval, dtype=float).ravel()
    check_output_size(te.size, n_columns)
    if te.size == 0:
        raise ArgumentError("`t_eval` is empty")
    if not np.all(np.isfinite(te)):
        raise ArgumentError("`t_eval` contains non-finite times")
    if np.any(np.diff(te) < 0):
        raise ArgumentError("`t_eval` must be sorted in increasing order")
    if te[0] < t0 or te[-1] > t_end:
        raise ArgumentError(f"`t_eval` must lie within [t0, t_end] = [{t0}, {t_end}], got [{te[0]}, {te[-1]}]")
    return t0, t_end, te


def _native_or_fallback(model: CompiledModel, method: str, resolved: str):
    """``(solver, resolved)``: the engine's solver of ``model`` (native C, or the numba JIT path, see
    :meth:`CompiledModel.native_solver`), or ``(None, "LSODA")`` with a warning when neither can be built (with
    ``NMDAKIN_BACKEND=native`` and a broken compiler, or a model numba cannot compile) and ``method`` is
    ``"auto"``; an explicitly requested native method re-raises the :class:`CompilerError`."""
    failure_key = (model.key, os.environ.get("CC"), os.environ.get("NMDAKIN_BACKEND"))
    try:
        if failure_key in _native_failures:
            raise _native_failures[failure_key]
        return model.native_solver(), resolved
    except CompilerError as exc:
        _native_failures[failure_key] = exc
        if method != "auto":
            raise
        if failure_key not in _native_warned:
            _native_warned.add(failure_key)
            reason = str(exc).splitlines()[0]
            warnings.warn(f"the native solver could not be built ({reason}): kinetics falls back to scipy LSODA "
                          "(slower) for this model", RuntimeWarning, stacklevel=3)
        return None, "LSODA"


def _events_off_jit(model: CompiledModel, requested: str):
    """``(None, "LSODA")`` for a scheme with events when the engine's solver is the numba JIT one (which has no
    event roots yet): with a warning for ``method="auto"``, an :class:`ArgumentError` for ``"dopri5"``/``"rodas"``."""
    if requested != "auto":
        raise ArgumentError(f"scheme `{model.scheme.name}` has events, which method `{requested}` runs only on the "
                            f"native C path (the numba JIT path has no event support yet): use method='auto' or a "
                            f"scipy method, or make a C compiler available")
    key = ("events-jit", model.key)
    if key not in _native_warned:
        _native_warned.add(key)
        warnings.warn(f"scheme `{model.scheme.name}` has events, which the numba JIT path does not run yet: "
                      "using scipy LSODA for it", RuntimeWarning, stacklevel=4)
    return None, "LSODA"


def _resolve_method(method: str) -> str:
    """The method to run: a native method name stays (its solver, C or JIT, is chosen by
    :meth:`CompiledModel.native_solver`), except ``"auto"`` under ``NMDAKIN_BACKEND=scipy``, which is LSODA."""
    if method in NATIVE_METHODS:
        from .jit import backend

        if method == "auto" and backend.resolve() == "scipy":
            return "LSODA"
        return method
    if method in SCIPY_METHODS:
        return method
    raise ArgumentError(f"unknown method `{method}`" + did_you_mean(method, list(NATIVE_METHODS) + list(SCIPY_METHODS))
                        + f"; choose one of {sorted(NATIVE_METHODS)} or {list(SCIPY_METHODS)}")


def _native_stats(stats: dict) -> dict:
    return {_NATIVE_STATS.get(k, k): v for k, v in stats.items()}


class _StatsRows(Sequence):
    """The per-run statistics of a native sweep as a read-only sequence of dicts, made on access from one integer
    array (a 10^5-run sweep ships and keeps one array, not 10^5 dicts)."""

    def __init__(self, table: np.ndarray):
        from .native import STATS_KEYS

        self._table = table
        self._keys = [_NATIVE_STATS.get(k, k) for k in STATS_KEYS]

    def __len__(self) -> int:
        return self._table.shape[0]

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return {k: int(v) for k, v in zip(self._keys, self._table[i])}

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and len(self) == len(other) and all(a == b for a, b in zip(self, other))

    def __repr__(self) -> str:
        return f"<statistics of {len(self)} runs>"


def _solve_scipy(model: CompiledModel, schedule, p_vec, y0, t_eval, method, rtol, atol, max_step, first_step):
    funcs, state_index = model.numpy, model.state_index
    from scipy.integrate import solve_ivp

    y = y0.copy()
    out = np.empty((t_eval.size, y.size))
    stats = {"rhs_evaluations": 0, "jacobian_evaluations": 0, "lu_decompositions": 0,
             "segments": schedule.n_segments}
    b = schedule.boundaries
    implicit = method in ("BDF", "Radau", "LSODA")
    for s in range(schedule.n_segments):
        for k in range(schedule.jump_ptr[s], schedule.jump_ptr[s + 1]):
            j = state_index[schedule.jump_target[k]]
            y[j] = schedule.jump_value[k] if schedule.jump_kind[k] == JUMP_SET else y[j] + schedule.jump_value[k]
        lo, hi = b[s], b[s + 1]
        last = s == schedule.n_segments - 1
        i0 = np.searchsorted(t_eval, lo, side="left")
        i1 = np.searchsorted(t_eval, hi, side="right" if last else "left")
        seg_t = t_eval[i0:i1]
        terms = range(schedule.term_ptr[s], schedule.term_ptr[s + 1])
        const = schedule.const[s]
        if len(terms):
            def u_of(t, s=s):
                return schedule.segment_inputs(s, t)
        else:
            def u_of(t, const=const):
                return const
        def fun(t, yy, u_of=u_of):
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                dy = funcs.rhs(t, yy, p_vec, u_of(t))
            if not np.all(np.isfinite(dy)):  # scipy's LSODA would loop on overflow instead of failing
                raise SolverError("non-finite right-hand side (the solution blows up or a rate law is singular)",
                                  t=float(t), status=-3, method=method)
            return dy
        jac = (lambda t, yy: funcs.jac(t, yy, p_vec, u_of(t))) if implicit else None
        evals = np.unique(np.concatenate([seg_t, [hi]]))
        kw = {"rtol": rtol, "atol": atol, "t_eval": evals}
        if jac is not None:
            kw["jac"] = jac
        if max_step:
            kw["max_step"] = max_step
        if first_step:
            kw["first_step"] = min(first_step, hi - lo)
        sol = solve_ivp(fun, (lo, hi), y, method=method, **kw)
        if sol.status != 0:
            t_fail = float(sol.t[-1]) if sol.t.size else lo
            raise SolverError(f"scipy solve_ivp failed: {sol.message}", t=t_fail, status=sol.status, method=method)
        if not np.all(np.isfinite(sol.y)):
            raise SolverError("non-finite state", t=lo, status=-3, method=method)
        out[i0:i1] = sol.y[:, : i1 - i0].T
        out[i0:i1][seg_t == lo] = y            # at the segment start the state is known exactly (no interpolant)
        y = sol.y[:, -1].copy()
        stats["rhs_evaluations"] += int(sol.nfev)
        stats["jacobian_evaluations"] += int(sol.njev)
        stats["lu_decompositions"] += int(sol.nlu)
    return out, y, stats


def _check_step_options(max_step, first_step, max_steps):
    for name, v in (("max_step", max_step), ("first_step", first_step)):
        if v is not None and not (math.isfinite(v) and v > 0):
            raise ArgumentError(f"`{name}` must be a positive number, got {v}")
    if max_steps is not None and (int(max_steps) != max_steps or max_steps <= 0):
        raise ArgumentError(f"`max_steps` must be a positive integer, got {max_steps}")


class _Runner:
    """Solves one compiled model under one schedule for given parameter vectors (native or scipy).

    Picklable (it carries the scheme, not the loaded library), so sweeps can ship it to worker processes or a
    dask cluster; each process compiles (or finds in the disk cache) the model once.
    """

    def __init__(self, model: CompiledModel, protocol, schedule, t_eval, y0, method, requested, rtol, atol,
                 max_step=None, first_step=None, max_steps=None):
        self.scheme, self.protocol, self.schedule = model.scheme, protocol, schedule
        self.t_eval, self.y0, self.method, self.requested = t_eval, y0, method, requested
        self.rtol, self.atol = rtol, atol
        self.max_step, self.first_step, self.max_steps = max_step, first_step, max_steps
        self._prepared = None

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_prepared"] = None
        return state

    def prepare(self):
        """``(model, solver or None, method, segments)``, built once per process."""
        if self._prepared is None:
            model = compile_model(self.scheme)
            solver, method = None, self.method
            if method in NATIVE_METHODS:
                solver, method = _native_or_fallback(model, self.requested, method)
                if solver is not None and self.scheme.events and getattr(solver, "n_roots", None) is None:
                    solver, method = _events_off_jit(model, self.requested)
            seg = model.segments(self.schedule) if solver is not None else None
            self._prepared = (model, solver, method, seg)
        return self._prepared

    def solve(self, p_vec):
        """``(y_out (n_t, n), y_final (n,), stats)`` for one model-unit parameter vector."""
        model, solver, method, seg = self.prepare()
        if self.scheme.events:                      # the event driver (kinetics.events)
            from .events import solve_events

            y_out, y_fin, stats = solve_events(model, solver, method, self.schedule, p_vec, self.y0, self.t_eval,
                                               self.rtol, self.atol, self.max_step, self.first_step,
                                               self.max_steps)
            return y_out, y_fin, (_native_stats(stats) if solver is not None else stats)
        if solver is not None:
            y_out, y_fin, stats = solver.solve(p_vec, self.y0, seg, self.t_eval, method=method, rtol=self.rtol,
                                               atol=self.atol, first_step=self.first_step or 0.0,
                                               max_step=self.max_step or 0.0, max_steps=int(self.max_steps or 0))
            return y_out, y_fin, _native_stats(stats)
        return _solve_scipy(model, self.schedule, p_vec, self.y0, self.t_eval, method, self.rtol, self.atol,
                            self.max_step, self.first_step)

    def __call__(self, task):
        """Solve the rows of one sweep chunk: ``task = (first_row, P_chunk, (names, values_chunk))``, where
        ``values_chunk`` holds the swept values of each row (for error messages only). Native chunks return
        their statistics as one integer array (columns :data:`kinetics.native.STATS_KEYS`), cheap to ship."""
        first, P, (names, values) = task

        def label(i):
            return ", ".join(f"{k}={v:g}" for k, v in zip(names, values[i]))

        model, solver, method, seg = self.prepare()
        if solver is not None and not self.scheme.events:   # the whole chunk in one call of the native library
            try:
                return solver.solve_many(P, self.y0, seg, self.t_eval, n_workers=1, raw_stats=True, method=method,
                                         rtol=self.rtol, atol=self.atol)
            except SolverError as exc:
                row = exc.row
                reason = exc.reason.removeprefix(f"row {row}: ")
                raise SolverError(f"run {first + row} ({label(row)}): {reason}", t=exc.t, status=exc.status,
                                  method=exc.method) from None
        finals, trajs, stats = [], [], []
        for i, p_vec in enumerate(P):
            try:
                y_out, y_fin, st = self.solve(p_vec)
            except SolverError as exc:
                raise SolverError(f"run {first + i} ({label(i)}): {exc.reason}", t=exc.t, status=exc.status,
                                  method=exc.method) from None
            finals.append(y_fin)
            trajs.append(y_out)
            stats.append(st)
        return np.array(trajs), np.array(finals), stats


# --------------------------------------------------------------------------- public API
def simulate(model, protocol: Protocol | None = None, *, t_end: float, t_eval=None, params=None, y0=None,
             method: str = "auto", rtol: float = DEFAULT_RTOL, atol=DEFAULT_ATOL, t0: float = 0.0,
             max_step: float | None = None, first_step: float | None = None, max_steps: int | None = None,
             n_points: int | None = None, nonfinite: str = "raise") -> Result:
    """Simulate a scheme under a protocol.

    Parameters
    ----------
    model : Scheme
    protocol : Protocol, optional
        Inputs and state jumps over time; inputs not driven keep their defaults.
    t_end : float
        End time, in the scheme's time unit.
    t_eval : array_like, optional
        Sorted output times in ``[t0, t_end]``; default 1001 evenly spaced points.
    n_points : int, optional
        Instead of ``t_eval``: this many evenly spaced output points. The output arrays (time, states,
        observables, inputs) may take at most :data:`MAX_OUTPUT_BYTES` (1 GiB); a larger request is an
        :class:`ArgumentError` before anything is allocated.
    params : mapping, optional
        Parameter overrides, each in the parameter's declared unit.
    y0 : mapping or array, optional
        Initial-state overrides (a non-negative species may not be set below zero).
    method : str
        ``"auto"`` (native), ``"dopri5"``, ``"rodas"``, or a scipy method (see module docstring).
    rtol, atol : float
        Relative and absolute tolerances (``atol`` may be per state: an array or a mapping).
    t0 : float
    max_step, first_step : float, optional
    max_steps : int, optional
        Step budget of the native solver (default 10**7).
    nonfinite : {"raise", "warn"}
        What to do when a state or observable is NaN or infinite at an output time (e.g. an observable
        ``log(A - 1)`` once ``A < 1``): ``"raise"`` (default) a :class:`SolverError` naming it and the first
        such time; ``"warn"`` returns the result with a warning and the offenders in ``Result.nonfinite``.

    Returns
    -------
    Result

    Raises
    ------
    SolverError
        When the solver fails (with the time reached, status and message), or a state or observable is not
        finite (unless ``nonfinite="warn"``).
    SchemeError, ArgumentError, ProtocolError
        For invalid input, before any work starts.

    Examples
    --------
    >>> from kinetics import Scheme, Species, Parameter, reaction, simulate
    >>> s = Scheme("decay", species=[Species("A", 1.0)], parameters=[Parameter("k", 0.5, "1/ms")],
    ...            reactions=[reaction("A ->", "k")])
    >>> res = simulate(s, t_end=2.0, t_eval=[0.0, 1.0, 2.0], rtol=1e-10, atol=1e-12)
    >>> bool(abs(res["A"][-1] - 0.36787944117144233) < 1e-8)
    True
    """
    model = compile_model(model)
    scheme = model.scheme
    if nonfinite not in _NONFINITE_MODES:
        raise ArgumentError(f"`nonfinite` must be one of {list(_NONFINITE_MODES)}, got {nonfinite!r}")
    n_columns = 1 + len(scheme.species) + len(scheme.observables) + len(scheme.inputs)
    t0, t_end, t_eval = _time_grid(t0, t_end, t_eval, n_points, n_columns)
    rtol, atol_vec = _check_tolerances(rtol, atol, len(scheme.species), scheme.species_names)
    values = model.parameter_values(params)
    p_vec = model.parameter_vector(params)
    y_init = model.initial_state(y0, tolerance=atol_vec)
    _check_step_options(max_step, first_step, max_steps)
    schedule = model.schedule(protocol, t0, t_end)
    runner = _Runner(model, protocol, schedule, t_eval, y_init, _resolve_method(method), method, rtol, atol_vec,
                     max_step, first_step, max_steps)
    y_out, _, stats = runner.solve(p_vec)
    resolved = runner.prepare()[2]
    result = Result(t=t_eval, y=y_out, scheme=scheme, params=values, protocol=protocol, method=resolved,
                    stats=stats, schedule=schedule, p_model=p_vec,
                    observable_fn=model.observable_function() if model.observable_names else None)
    return _check_finite(result, nonfinite)


def _check_finite(result: Result, mode: str) -> Result:
    """Raise (or warn about) NaN/inf states and observables, naming each and the first time it happens."""
    bad = result.nonfinite_columns()
    if not bad:
        return result
    order = sorted(bad, key=bad.get)
    first = order[0]
    listed = ", ".join(f"`{n}` (from t = {bad[n]:.6g})" for n in order[:5])
    what = "observable" if first in result.observable_names else "state"
    if mode == "raise":
        also = f" (also non-finite: {', '.join(f'`{n}`' for n in order[1:6])})" if len(order) > 1 else ""
        raise SolverError(f"{what} `{first}` is not finite (NaN or inf) from t = {bad[first]:.9g}{also}; check "
                          f"its expression and the parameter values, or pass nonfinite='warn' to get the "
                          f"result with these values flagged", t=bad[first], method=result.method)
    warnings.warn(f"non-finite values (NaN or inf) in {listed}; see Result.nonfinite", RuntimeWarning,
                  stacklevel=3)
    return dataclasses.replace(result, nonfinite=dict(bad))


def _param_table(model: CompiledModel, params, product: bool) -> dict:
    """Normalise sweep parameters to ``{name: float array (m,)}`` (the grid of every combination if ``product``)."""
    if hasattr(params, "to_dict") and hasattr(params, "columns"):  # a DataFrame
        params = {c: params[c].to_numpy() for c in params.columns}
    elif isinstance(params, (list, tuple)):
        if not params:
            raise ArgumentError("`params` is empty: nothing to sweep")
        if product:
            raise ArgumentError("`product=True` needs a mapping of name -> values, not a list of rows")
        keys = list(params[0])
        for i, row in enumerate(params):
            if set(row) != set(keys):
                raise ArgumentError(f"`params` row {i} has keys {sorted(row)}, expected {sorted(keys)}")
        params = {k: np.array([row[k] for row in params], dtype=float) for k in keys}
    if not isinstance(params, Mapping) or not params:
        raise ArgumentError("`params` must be a non-empty mapping of name -> values, a list of dicts or a DataFrame")
    table = {k: np.atleast_1d(np.asarray(v, dtype=float)).ravel() for k, v in params.items()}
    if product:
        for k, v in table.items():
            if v.size == 0:
                raise ArgumentError(f"swept parameter `{k}` has no values")
        mesh = np.meshgrid(*table.values(), indexing="ij")
        table = {k: g.ravel() for k, g in zip(table, mesh)}
    model.parameter_matrix(table)          # validates names, sizes, finiteness and bounds
    return table


def sweep(model, params, protocol: Protocol | None = None, *, t_end: float, t_eval=None, y0=None,
          method: str = "auto", rtol: float = DEFAULT_RTOL, atol=DEFAULT_ATOL, t0: float = 0.0,
          product: bool = False, executor=None, n_workers: int | None = None,
          progress: bool | None = None, chunk_size: int | None = None) -> SweepResult:
    """Simulate one scheme for many parameter sets, in parallel.

    Parameters
    ----------
    params : mapping name -> array (m,), list of dicts, or DataFrame
        The parameter sets (declared units); parameters not named keep the scheme's values.
    product : bool
        If True, ``params`` maps names to value lists and every combination is run (a grid: the row order is
        that of ``itertools.product`` over the names in order).
    t_eval : array_like, optional
        If given, trajectories are kept on this grid (``SweepResult.y``); otherwise only final states.
    executor : None, "threads", "processes", "serial", int, dask.distributed.Client or Executor
        Who runs the batch (:func:`kinetics.executor.as_executor`). Default: threads in this process (the
        native solver releases the GIL). Rows are sent in chunks, a few per worker, so the per-task overhead
        stays small; results are bit-identical whatever runs them.
    n_workers : int, optional
        Threads of the default executor (default: every core).
    progress : bool, optional
        Show a progress bar (default: only when running in a terminal).
    chunk_size : int, optional
        Rows per task (default: about four tasks per worker).

    Returns
    -------
    SweepResult

    Examples
    --------
    >>> import kinetics as kx
    >>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 1.0, "1/ms")],
    ...               reactions=[kx.reaction("A ->", "k")])
    >>> sw = kx.sweep(s, {"k": [0.5, 1.0, 2.0]}, t_end=1.0, rtol=1e-10, atol=1e-12)
    >>> [round(float(a), 6) for a in sw["A"]]          # exp(-k)
    [0.606531, 0.367879, 0.135335]
    """
    model = compile_model(model)
    scheme = model.scheme
    table = _param_table(model, params, product)
    m = next(iter(table.values())).size
    t0, t_end, grid = _time_grid(t0, t_end, t_eval if t_eval is not None else [t_end])
    check_output_size(grid.size, len(scheme.species) + 1, runs=m)
    rtol, atol_vec = _check_tolerances(rtol, atol, len(scheme.species), scheme.species_names)
    y_init = model.initial_state(y0, tolerance=atol_vec)
    schedule = model.schedule(protocol, t0, t_end)
    P = model.parameter_matrix(table)
    runner = _Runner(model, protocol, schedule, grid, y_init, _resolve_method(method), method, rtol, atol_vec)
    resolved = runner.prepare()[2]
    if executor is not None and n_workers is not None:
        raise ArgumentError("give `executor` or `n_workers`, not both")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer))
                                   or chunk_size < 1):
        raise ArgumentError(f"`chunk_size` must be a positive integer, got {chunk_size!r}")
    ex = ThreadExecutor(n_workers) if executor is None else as_executor(executor)
    owned = not isinstance(executor, Executor)        # made here: closed here (a user's client never is)
    chunk = max(1, -(-m // (4 * max(ex.n_workers, 1)))) if chunk_size is None else int(chunk_size)
    names, values = list(table), np.column_stack(list(table.values()))
    tasks = [(a, P[a:a + chunk], (names, values[a:a + chunk])) for a in range(0, m, chunk)]
    try:
        outs = ex.map(runner, tasks, desc=f"sweep {scheme.name}", progress=progress)
    finally:
        if owned:
            ex.close()
    final = np.concatenate([o[1] for o in outs])
    y = np.concatenate([o[0] for o in outs]) if t_eval is not None else None
    stats = _StatsRows(np.concatenate([o[2] for o in outs])) if isinstance(outs[0][2], np.ndarray) else \
        [s for o in outs for s in o[2]]
    return SweepResult(params=table, final=final, y=y, t=grid if t_eval is not None else None, model=model,
                       p_model=P, schedule=schedule, stats=stats, method=resolved)
