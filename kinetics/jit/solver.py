""":class:`JitSolver`: the front end of one numba-compiled model, with :class:`kinetics.native.NativeSolver`'s
interface (``solve``, ``solve_many``, ``observables``, ``status_message``, the same statistics and the same
:class:`~kinetics.errors.SolverError` messages), so that :func:`kinetics.simulate`, sweeps, the executors and
fitting use either one unchanged.
"""
from __future__ import annotations

import threading

import numpy as np

from ..errors import SolverError, did_you_mean
from ..native import many_options, many_rows, raise_first_failure, run_rows
from .integrator import N_STATS, STATUS_MESSAGES, entry_points, work_sizes

__all__ = ["JitSolver"]

#: Method names and codes (as :data:`kinetics.native.METHODS`).
METHODS = {"auto": 0, "dopri5": 1, "rodas": 2}

_STATS_KEYS = ("n_steps", "n_rejected", "n_rhs", "n_jac", "n_lu", "n_segments", "n_switches", "n_rodas_steps")


def _stats_dict(stats) -> dict:
    return {k: int(v) for k, v in zip(_STATS_KEYS, stats)}


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


class JitSolver:
    """One model's numba-compiled functions and the JIT integrator (:mod:`kinetics.jit.integrator`).

    Parameters
    ----------
    functions : dict
        ``{"rhs", "jac", "obs"}`` compiled by :func:`kinetics.jit.pycode.compile_functions` (``obs`` may be None).
    n_state, n_param, n_input : int
    n_observables : int
        Observables ``obs`` writes (-1: none written in Python; then :meth:`observables` raises).
    nblock : int, optional
        The size of the leading diagonal block of a block lower-triangular system (forward sensitivities, see
        ``NK_NBLOCK`` in ``integrator.c``); default ``n_state`` (a dense system).
    autonomous : bool
        The right-hand side does not depend on ``t`` except through the inputs.

    Attributes
    ----------
    clamp_time : bool
        Clamp the time of a right-hand side evaluation to the segment end (``NK_CLAMP_TIME``; default True, tests
        switch it off to check that the steppers never ask past it).

    Instances are thread-safe: the compiled code has no shared mutable state and releases the GIL, so
    :meth:`solve_many` runs rows on threads.
    """

    def __init__(self, functions: dict, n_state: int, n_param: int, n_input: int, *, n_observables: int = -1,
                 nblock: int | None = None, autonomous: bool = False):
        self.n_state, self.n_param, self.n_input = int(n_state), int(n_param), int(n_input)
        self.n_observables = int(n_observables) if functions.get("obs") is not None else -1
        self.nblock = self.n_state if nblock is None else int(nblock)
        if not (0 < self.nblock <= self.n_state and self.n_state % self.nblock == 0):
            raise ValueError(f"nblock {self.nblock} must divide n_state {self.n_state}")
        self.autonomous = bool(autonomous)
        self.clamp_time = True
        self._rhs, self._jac, self._obs = functions["rhs"], functions["jac"], functions.get("obs")
        self._entries = entry_points()
        self._atol_cache = (None, None)          # (scalar, read-only array)

    def __repr__(self) -> str:
        return f"<JitSolver: {self.n_state} states, {self.n_param} parameters, {self.n_input} inputs>"

    def status_message(self, status: int) -> str:
        """The integrator's text for a status code (the same texts as the C library's)."""
        return STATUS_MESSAGES.get(int(status), "unknown status")

    def observables(self, t, Y, P, U) -> list:
        """The model's observables at many points (the arguments of :meth:`kinetics.native.NativeSolver.observables`).

        Returns one ``(n,)`` array per observable; raises ``ValueError`` if the observables could not be written
        in Python (:attr:`n_observables` is -1).
        """
        q = self.n_observables
        if q < 0:
            raise ValueError("this model has no observables compiled by the JIT path")
        t = np.asarray(t, dtype=np.float64)
        Y = np.asarray(Y, dtype=np.float64)
        P = np.asarray(P, dtype=np.float64)
        U = np.asarray(U, dtype=np.float64)
        cols = [a.shape[1] for a in (Y, P, U) if a.ndim == 2] + ([t.size] if t.ndim == 1 else [])
        n = max(cols) if cols else 1
        for a, rows, name in ((Y, self.n_state, "Y"), (P, self.n_param, "P"), (U, self.n_input, "U")):
            if a.shape[:1] != (rows,) or a.ndim > 2 or (a.ndim == 2 and a.shape[1] not in (1, n)):
                raise ValueError(f"{name} must have shape ({rows},) or ({rows}, {n}), got {a.shape}")
        if t.ndim > 1 or (t.ndim == 1 and t.size not in (1, n)):
            raise ValueError(f"t must be a scalar or have shape ({n},), got {t.shape}")
        if q == 0 or n == 0:
            return [np.empty(n) for _ in range(q)]
        # writable C-contiguous copies (the compiled signature's types)
        tt = np.array(np.broadcast_to(t.reshape(-1), (n,)), order="C")
        YT = np.array(np.broadcast_to(Y.reshape(self.n_state, -1).T, (n, self.n_state)), order="C")

        def shared_or_rows(a, rows):
            if a.ndim == 1 or a.shape[1] == 1:
                return (np.array(a.reshape(1, rows), order="C") if rows else np.zeros((1, 1))), 0
            return np.array(a.T, order="C"), 1

        PT, p_stride = shared_or_rows(P, self.n_param)
        UT, u_stride = shared_or_rows(U, self.n_input)
        out = np.empty((n, q))
        self._entries["observe"](self._obs, tt, YT, PT, p_stride, UT, u_stride, out)
        return list(out.T.copy())

    # -- argument preparation (shared by solve and solve_many) --------------------

    def _prepare(self, sa, t_out, method, rtol, atol, first_step, max_step, max_steps) -> tuple:
        from ..native import SegmentArrays

        if not isinstance(sa, SegmentArrays):
            raise TypeError("schedule_arrays must be a SegmentArrays")
        if sa.n_input != self.n_input:
            raise ValueError(f"schedule has {sa.n_input} inputs, model has {self.n_input}")
        if sa._max_jump_index >= self.n_state:
            raise ValueError(f"jump_index {sa._max_jump_index} out of range for {self.n_state} states")
        code = METHODS.get(method)
        if code is None:
            raise ValueError(f"unknown method `{method}`; expected one of {sorted(METHODS)}"
                             + did_you_mean(str(method), METHODS))
        t_out = np.ascontiguousarray(t_out, dtype=np.float64)
        if t_out.ndim != 1:
            raise ValueError(f"t_out must be 1-D, got shape {t_out.shape}")
        if t_out.flags.writeable:              # the compiled signature takes read-only arrays: a read-only view
            t_out = _readonly(t_out.view())
        if np.ndim(atol) == 0:
            cached_value, atol_arr = self._atol_cache
            if atol_arr is None or cached_value != atol:
                atol_arr = _readonly(np.full(self.n_state, float(atol)))
                self._atol_cache = (atol, atol_arr)
        else:
            atol_arr = np.ascontiguousarray(atol, dtype=np.float64)
            if atol_arr.shape != (self.n_state,):
                raise ValueError(f"atol must be a scalar or have shape ({self.n_state},), got {atol_arr.shape}")
            if atol_arr.flags.writeable:
                atol_arr = _readonly(atol_arr.view())
        seg = (sa.boundaries, sa.const, sa.term_ptr, sa.term_input, sa.term_data, sa.jump_ptr, sa.jump_index,
               sa.jump_kind, sa.jump_value)
        return seg, t_out, code, float(rtol), atol_arr, float(first_step), float(max_step), int(max_steps)

    def _work(self) -> tuple:
        """Fresh work arrays for one solve at a time (the integrator allocates nothing itself)."""
        nw, niw = work_sizes(self.n_state, self.n_input)
        return np.empty(nw), np.empty(niw, dtype=np.int64)

    def _call(self, prepared, p, y, y_out, stats, work) -> int:
        seg, t_out, code, rtol, atol, h0, hmax, max_steps = prepared
        return self._entries["solve"](self._rhs, self._jac, p, y, *seg, t_out, y_out, code, rtol, atol, h0, hmax,
                                      max_steps, stats, self.nblock, int(self.autonomous), int(self.clamp_time),
                                      *work)

    def _error(self, status, t_fail, method, prefix="") -> SolverError:
        msg = self.status_message(status)
        if status == -5:
            msg += (" (t_out must be sorted and inside [t0, t_end]; rtol >= 0, atol >= 0, "
                    "not both 0; first_step, max_step >= 0)")
        return SolverError(prefix + msg, t=float(t_fail), status=int(status), method=method)

    # -- public API ---------------------------------------------------------------

    def solve(self, params, y0, schedule_arrays, t_out, *, method="auto", rtol=1e-6, atol=1e-9, first_step=0.0,
              max_step=0.0, max_steps=0):
        """Integrate one trajectory over the whole schedule (see :meth:`kinetics.native.NativeSolver.solve`).

        Returns ``(y_out (n_out, n_state), y_final (n_state,), stats)``; raises :class:`SolverError`
        (``.status``, ``.t``) if the integration fails.

        Examples
        --------
        >>> import numpy as np, kinetics as kx
        >>> from kinetics.jit import model_solver
        >>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 1.0, "1/ms")],
        ...               reactions=[kx.reaction("A ->", "k")])
        >>> m = kx.compile(s)
        >>> solver = model_solver(m)
        >>> y, y_end, stats = solver.solve([0.5], [1.0], m.segments(m.schedule(None, 0.0, 2.0)), [2.0],
        ...                                rtol=1e-10, atol=1e-12)
        >>> bool(abs(y_end[0] - np.exp(-1.0)) < 1e-9), stats["n_segments"]
        (True, 1)
        """
        prepared = self._prepare(schedule_arrays, t_out, method, rtol, atol, first_step, max_step, max_steps)
        n, npar = self.n_state, self.n_param
        if np.shape(params) != (npar,):
            raise ValueError(f"params must have shape ({npar},), got {np.shape(params)}")
        if np.shape(y0) != (n,):
            raise ValueError(f"y0 must have shape ({n},), got {np.shape(y0)}")
        p = np.array(params, dtype=np.float64) if npar else np.zeros(1)
        y = np.array(y0, dtype=np.float64)
        n_out = prepared[1].size
        y_out = np.empty((n_out, n))
        stats = np.zeros(N_STATS)
        status = self._call(prepared, p, y, y_out, stats, self._work())
        if status != 0:
            raise self._error(status, stats[16], method)
        return y_out, y, _stats_dict(stats[:8])

    def solve_many(self, params_matrix, y0_matrix, schedule_arrays, t_out, *, n_workers=None,
                   raw_stats: bool = False, **kw):
        """One trajectory per row of ``params_matrix``, on a thread pool (see
        :meth:`kinetics.native.NativeSolver.solve_many`: same arguments, results and errors)."""
        options = many_options(kw)
        method = options[0]
        prepared = self._prepare(schedule_arrays, t_out, *options)
        n = self.n_state
        P, y_final = many_rows(params_matrix, y0_matrix, self.n_param, n)
        m = P.shape[0]
        if self.n_param == 0:
            P = np.zeros((m, 1))
        n_out = prepared[1].size
        y_out = np.empty((m, n_out, n))
        stats = np.zeros((m, N_STATS))
        local = threading.local()          # one work set per thread, reused row after row

        def run_row(i):
            if not hasattr(local, "work"):
                local.work = self._work()
            return self._call(prepared, P[i], y_final[i], y_out[i], stats[i], local.work)

        status = run_rows(m, run_row, n_workers)
        raise_first_failure(status, stats, self._error, method)
        if raw_stats:
            return y_out, y_final, stats[:, :len(_STATS_KEYS)].astype(np.int64)
        return y_out, y_final, [_stats_dict(row[:8]) for row in stats]
