"""Compiled fast path: generated model C code + the integrator template, via ctypes.

The caller generates a C block for one model (see ``integrator.c`` for the exact
contract: ``NK_NSTATE``/``NK_NPARAM``/``NK_NINPUT`` and ``nk_rhs``/``nk_jac``),
then::

    path = build(model_source)                 # compiled once, cached on disk
    solver = NativeSolver(path, n_state, n_param, n_input)
    arrays = SegmentArrays.from_schedule(schedule, state_index)
    y_out, y_final, stats = solver.solve(params, y0, arrays, t_out)

The whole integration of a schedule runs in C in one ctypes call, which releases
the GIL, so :meth:`NativeSolver.solve_many` runs parameter sweeps on threads.
"""
from __future__ import annotations

import ctypes
import hashlib
import itertools
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import CompilerError, ProtocolError, SolverError, did_you_mean

__all__ = [
    "METHODS",
    "CFLAGS",
    "compiler_available",
    "default_cache_dir",
    "build",
    "SegmentArrays",
    "NativeSolver",
]

#: Method names accepted by :meth:`NativeSolver.solve` and their C codes.
METHODS = {"auto": 0, "dopri5": 1, "rodas": 2}

#: Compiler flags (part of the cache key). No -ffast-math, no -march=native:
#: results must be reproducible and libraries portable across machines sharing a cache.
CFLAGS = ("-O2", "-fPIC", "-shared", "-std=c99")
LIBS = ("-lm",)

#: Put before the model block so that generated code may use <math.h> (exp, pow, NAN...).
_PRELUDE = "#include <math.h>\n#include <stdlib.h>\n#include <string.h>\n\n"

#: Bumped whenever the template's ABI changes (also part of the cache key).
_ABI_VERSION = 1

_STATS_KEYS = (
    "n_steps",          # accepted steps
    "n_rejected",       # rejected steps
    "n_rhs",            # right-hand side evaluations
    "n_jac",            # Jacobian evaluations
    "n_lu",             # LU decompositions
    "n_segments",       # segments integrated
    "n_switches",       # dopri5 -> rodas stiffness switches (auto)
    "n_rodas_steps",    # accepted steps taken by rodas
)

_COMPILE_TIMEOUT = 600.0
_STDERR_LINES = 40

if sys.platform == "win32":
    _LIB_SUFFIX = ".dll"
elif sys.platform == "darwin":
    _LIB_SUFFIX = ".dylib"
else:
    _LIB_SUFFIX = ".so"


# --------------------------------------------------------------------------- compiler

def _compiler_command() -> list[str] | None:
    """``$CC`` (split like a shell would) if set, else the first of cc/gcc/clang on PATH."""
    env = os.environ.get("CC", "").strip()
    if env:
        parts = shlex.split(env)
        exe = shutil.which(parts[0]) if parts else None
        return [exe, *parts[1:]] if exe else None
    for name in ("cc", "gcc", "clang"):
        exe = shutil.which(name)
        if exe:
            return [exe]
    return None


@lru_cache(maxsize=None)
def _compiler_identity(command: tuple) -> str:
    """First line of ``cc --version`` (part of the cache key); the path if that fails."""
    try:
        out = subprocess.run([*command, "--version"], capture_output=True, text=True,
                             timeout=60)
        first = (out.stdout or out.stderr).strip().splitlines()
        return first[0] if first else " ".join(command)
    except (OSError, subprocess.SubprocessError):
        return " ".join(command)


def compiler_available() -> bool:
    """True if a C compiler (``$CC``, ``cc``, ``gcc`` or ``clang``) is on the PATH."""
    return _compiler_command() is not None


def default_cache_dir() -> Path:
    """``$NMDAKIN_CACHE_DIR``, else ``$XDG_CACHE_HOME/nmdakin``, else ``~/.cache/nmdakin``."""
    env = os.environ.get("NMDAKIN_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "nmdakin"
    return Path.home() / ".cache" / "nmdakin"


@lru_cache(maxsize=1)
def _template() -> str:
    return resources.files(__name__).joinpath("integrator.c").read_text(encoding="utf-8")


# One lock per cache key: threads of one process compile a given model only once.
_build_locks: dict[str, threading.Lock] = {}
_build_locks_guard = threading.Lock()


def _lock_for(key: str) -> threading.Lock:
    with _build_locks_guard:
        lock = _build_locks.get(key)
        if lock is None:
            lock = _build_locks[key] = threading.Lock()
        return lock


def build(model_source: str, *, cache_dir: str | os.PathLike | None = None) -> Path:
    """Compile ``model_source`` + the integrator template into a cached shared library.

    The file name is the SHA-256 of the full source, the compiler identity, the flags
    and the ABI version, so any change recompiles and an unchanged model never does
    (the cached path is returned without invoking the compiler). The library is
    written to a private temporary directory and moved into place with
    :func:`os.replace`, so concurrent builders and failed compiles never leave a
    partial file. The full C source is kept next to it (``.c``) for debugging.

    Raises :class:`CompilerError` if no compiler is found or compilation fails.
    """
    command = _compiler_command()
    if command is None:
        cc = os.environ.get("CC")
        raise CompilerError(
            f"C compiler `{cc}` (from $CC) not found" if cc else
            "no C compiler found (set $CC or install cc/gcc/clang)")
    source = (_PRELUDE + model_source.rstrip()
              + "\n\n/* ---- integrator template ---- */\n" + _template())
    h = hashlib.sha256()
    for part in (f"abi={_ABI_VERSION}", _compiler_identity(tuple(command)), " ".join(command),
                 " ".join(CFLAGS + LIBS), source):
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    key = h.hexdigest()[:40]

    directory = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    lib_path = directory / f"nk_{key}{_LIB_SUFFIX}"
    if lib_path.exists():
        return lib_path

    with _lock_for(f"{directory}/{key}"):
        if lib_path.exists():          # built by another thread meanwhile
            return lib_path
        try:
            directory.mkdir(parents=True, exist_ok=True)
            tmpdir = tempfile.mkdtemp(prefix=f".nk_{key[:12]}.", dir=directory)
        except OSError as exc:
            raise CompilerError(f"cannot create cache directory {directory}: {exc}") from exc
        try:
            src = Path(tmpdir) / "model.c"
            out = Path(tmpdir) / f"model{_LIB_SUFFIX}"
            src.write_text(source, encoding="utf-8")
            cmd = [*command, *CFLAGS, "-o", str(out), str(src), *LIBS]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True,
                                      timeout=_COMPILE_TIMEOUT)
            except (OSError, subprocess.SubprocessError) as exc:
                raise CompilerError(f"could not run the C compiler {command[0]}: {exc}") from exc
            if proc.returncode != 0 or not out.exists():
                lines = (proc.stderr or proc.stdout or "").splitlines()
                shown = "\n".join(lines[:_STDERR_LINES])
                more = f"\n... ({len(lines) - _STDERR_LINES} more lines)" \
                    if len(lines) > _STDERR_LINES else ""
                raise CompilerError(
                    f"C compilation failed (exit status {proc.returncode}): "
                    f"{shlex.join(cmd)}\n{shown}{more}")
            os.chmod(out, 0o755)
            # Source first (for debugging), the library last: its presence means "done".
            os.replace(src, directory / f"nk_{key}.c")
            os.replace(out, lib_path)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
    return lib_path


# --------------------------------------------------------------------------- schedule arrays

def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class SegmentArrays:
    """The arrays of a schedule in the dtypes and layout ``nk_solve`` reads.

    Jump targets are already resolved to state indices. All arrays are C-contiguous,
    read-only, float64 or C ``int``; their addresses are computed once.
    """

    boundaries: np.ndarray   # (n_seg + 1,) float64, strictly increasing
    const: np.ndarray        # (n_seg, n_input) float64
    term_ptr: np.ndarray     # (n_seg + 1,) intc
    term_input: np.ndarray   # (n_terms,) intc
    term_data: np.ndarray    # (n_terms, 4) float64: t_ref, rate, p, q
    jump_ptr: np.ndarray     # (n_seg + 1,) intc
    jump_index: np.ndarray   # (n_jumps,) intc, state indices
    jump_kind: np.ndarray    # (n_jumps,) intc: 0 add, 1 set
    jump_value: np.ndarray   # (n_jumps,) float64

    def __post_init__(self):
        f64 = lambda a: np.array(a, dtype=np.float64, order="C", copy=True)  # noqa: E731
        i32 = lambda a: np.array(a, dtype=np.intc, order="C", copy=True)  # noqa: E731
        b = f64(self.boundaries).reshape(-1)
        n_seg = b.size - 1
        if n_seg < 1:
            raise ValueError("boundaries needs at least two entries")
        if not np.all(np.isfinite(b)) or not np.all(np.diff(b) > 0):
            raise ValueError("boundaries must be finite and strictly increasing")
        const = f64(self.const)
        if const.ndim == 1 and const.size == 0:
            const = const.reshape(n_seg, 0)
        if const.ndim != 2 or const.shape[0] != n_seg:
            raise ValueError(f"const must have shape (n_seg={n_seg}, n_input), got {const.shape}")
        term_ptr, term_input = i32(self.term_ptr).reshape(-1), i32(self.term_input).reshape(-1)
        term_data = f64(self.term_data).reshape(-1, 4)
        jump_ptr, jump_index = i32(self.jump_ptr).reshape(-1), i32(self.jump_index).reshape(-1)
        jump_kind, jump_value = i32(self.jump_kind).reshape(-1), f64(self.jump_value).reshape(-1)
        for name, ptr, n in (("term", term_ptr, term_input.size), ("jump", jump_ptr, jump_index.size)):
            if ptr.size != n_seg + 1 or ptr[0] != 0 or ptr[-1] != n or np.any(np.diff(ptr) < 0):
                raise ValueError(f"{name}_ptr must be a CSR pointer of length {n_seg + 1} "
                                 f"from 0 to {n}")
        if term_data.shape[0] != term_input.size:
            raise ValueError("term_data must have one row (t_ref, rate, p, q) per term")
        if term_input.size and (term_input.min() < 0 or term_input.max() >= const.shape[1]):
            raise ValueError("term_input out of range of the inputs")
        if not np.all(np.isfinite(const)) or not np.all(np.isfinite(term_data)):
            raise ValueError("input constants and terms must be finite")
        if jump_kind.size != jump_index.size or jump_value.size != jump_index.size:
            raise ValueError("jump_index, jump_kind and jump_value must have the same length")
        if jump_index.size and jump_index.min() < 0:
            raise ValueError("jump_index must be non-negative state indices")
        if np.any((jump_kind != 0) & (jump_kind != 1)):
            raise ValueError("jump_kind must be 0 (add) or 1 (set)")
        for name, value in (("boundaries", b), ("const", const), ("term_ptr", term_ptr),
                            ("term_input", term_input), ("term_data", term_data),
                            ("jump_ptr", jump_ptr), ("jump_index", jump_index),
                            ("jump_kind", jump_kind), ("jump_value", jump_value)):
            object.__setattr__(self, name, _frozen(value))
        object.__setattr__(self, "_ptrs", (
            b.ctypes.data, const.ctypes.data, term_ptr.ctypes.data, term_input.ctypes.data,
            term_data.ctypes.data, jump_ptr.ctypes.data, jump_index.ctypes.data,
            jump_kind.ctypes.data, jump_value.ctypes.data))
        object.__setattr__(self, "_max_jump_index",
                           int(jump_index.max()) if jump_index.size else -1)

    @property
    def n_segments(self) -> int:
        return self.boundaries.size - 1

    @property
    def n_input(self) -> int:
        return self.const.shape[1]

    @property
    def t0(self) -> float:
        return float(self.boundaries[0])

    @property
    def t_end(self) -> float:
        return float(self.boundaries[-1])

    @classmethod
    def from_schedule(cls, schedule, state_index: dict) -> "SegmentArrays":
        """Arrays of a :class:`kinetics.schedule.Schedule`; jump targets via ``state_index``."""
        try:
            index = [state_index[name] for name in schedule.jump_target]
        except KeyError as exc:
            name = exc.args[0]
            raise ProtocolError(f"jump target `{name}` is not a state"
                                + did_you_mean(str(name), state_index)) from None
        const = np.asarray(schedule.const, dtype=np.float64)
        if const.ndim == 1:
            const = const.reshape(len(schedule.boundaries) - 1, len(schedule.inputs))
        return cls(boundaries=schedule.boundaries, const=const,
                   term_ptr=schedule.term_ptr, term_input=schedule.term_input,
                   term_data=np.asarray(schedule.term_data, dtype=np.float64).reshape(-1, 4),
                   jump_ptr=schedule.jump_ptr, jump_index=np.asarray(index, dtype=np.intc),
                   jump_kind=schedule.jump_kind, jump_value=schedule.jump_value)

    @classmethod
    def single(cls, t0: float, t_end: float, const=None) -> "SegmentArrays":
        """One segment ``[t0, t_end]`` with constant inputs ``const`` and no jumps."""
        const = np.zeros((1, 0)) if const is None else np.asarray(const, float).reshape(1, -1)
        return cls(boundaries=[t0, t_end], const=const, term_ptr=[0, 0], term_input=[],
                   term_data=np.zeros((0, 4)), jump_ptr=[0, 0], jump_index=[],
                   jump_kind=[], jump_value=[])


# --------------------------------------------------------------------------- solver

_P = ctypes.c_void_p
_NK_SOLVE_ARGTYPES = [
    _P, _P,                               # p, y
    ctypes.c_int, _P, _P,                 # n_seg, boundaries, seg_const
    _P, _P, _P,                           # term_ptr, term_input, term_data
    _P, _P, _P, _P,                       # jump_ptr, jump_index, jump_kind, jump_value
    ctypes.c_int, _P, _P,                 # n_out, t_out, y_out
    ctypes.c_int, ctypes.c_double, _P,    # method, rtol, atol
    ctypes.c_double, ctypes.c_double,     # h0, hmax
    ctypes.c_long, _P, _P,                # max_steps, stats, t_fail
]
_F8 = 8  # sizeof(double)


def _stats_dict(stats) -> dict:
    return {k: int(v) for k, v in zip(_STATS_KEYS, stats)}


class NativeSolver:
    """ctypes front end of one compiled model library (see :func:`build`).

    Instances are thread-safe: :meth:`solve` may be called from several threads
    at once (the C code is reentrant and ctypes releases the GIL during the call).
    """

    def __init__(self, path, n_state: int, n_param: int, n_input: int):
        self.path = Path(path)
        self.n_state, self.n_param, self.n_input = int(n_state), int(n_param), int(n_input)
        lib = ctypes.CDLL(str(self.path))
        dims = (ctypes.c_int * 3)()
        lib.nk_dims.argtypes = [ctypes.c_void_p]
        lib.nk_dims.restype = None
        lib.nk_dims(dims)
        if tuple(dims) != (self.n_state, self.n_param, self.n_input):
            raise ValueError(f"library {self.path.name} was compiled for (n_state, n_param, "
                             f"n_input) = {tuple(dims)}, not "
                             f"{(self.n_state, self.n_param, self.n_input)}")
        lib.nk_abi_version.argtypes = []
        lib.nk_abi_version.restype = ctypes.c_int
        if lib.nk_abi_version() != _ABI_VERSION:
            raise ValueError(f"library {self.path.name} has ABI {lib.nk_abi_version()}, "
                             f"expected {_ABI_VERSION}")
        lib.nk_status_message.argtypes = [ctypes.c_int]
        lib.nk_status_message.restype = ctypes.c_char_p
        fn = lib.nk_solve
        fn.argtypes = _NK_SOLVE_ARGTYPES
        fn.restype = ctypes.c_int
        self._lib = lib
        self._fn = fn
        # Small identity caches (a tuple swap is atomic, so threads may share them).
        self._atol_cache = (None, None, 0)     # (scalar, array, address)
        self._t_out_cache = (None, 0)          # (array, address)

    def status_message(self, status: int) -> str:
        """The C library's text for a status code."""
        return self._lib.nk_status_message(int(status)).decode()

    # -- argument preparation (shared by solve and solve_many) --------------------

    def _prepare(self, schedule_arrays, t_out, method, rtol, atol, first_step, max_step,
                 max_steps) -> tuple:
        """Validate and convert the arguments shared by every row of a call.

        Returns ``(method, seg_args, n_out, t_out_ptr, code, rtol, atol_ptr, h0, hmax,
        max_steps, keep)``; ``keep`` holds the arrays whose addresses are passed.
        """
        sa = schedule_arrays
        if not isinstance(sa, SegmentArrays):
            raise TypeError("schedule_arrays must be a SegmentArrays")
        if sa.n_input != self.n_input:
            raise ValueError(f"schedule has {sa.n_input} inputs, model has {self.n_input}")
        if sa._max_jump_index >= self.n_state:
            raise ValueError(f"jump_index {sa._max_jump_index} out of range for "
                             f"{self.n_state} states")
        code = METHODS.get(method)
        if code is None:
            raise ValueError(f"unknown method `{method}`; expected one of {sorted(METHODS)}"
                             + did_you_mean(str(method), METHODS))
        cached_t, t_ptr = self._t_out_cache
        if t_out is not cached_t:
            if (isinstance(t_out, np.ndarray) and t_out.dtype == np.float64
                    and t_out.ndim == 1 and t_out.flags.c_contiguous):
                t_ptr = t_out.ctypes.data
                self._t_out_cache = (t_out, t_ptr)
            else:
                t_out = np.ascontiguousarray(t_out, dtype=np.float64)
                if t_out.ndim != 1:
                    raise ValueError(f"t_out must be 1-D, got shape {t_out.shape}")
                t_ptr = t_out.ctypes.data
        if np.ndim(atol) == 0:
            cached_value, atol_arr, atol_ptr = self._atol_cache
            if atol_arr is None or cached_value != atol:
                atol_arr = _frozen(np.full(self.n_state, float(atol)))
                atol_ptr = atol_arr.ctypes.data
                self._atol_cache = (atol, atol_arr, atol_ptr)
        else:
            atol_arr = np.ascontiguousarray(atol, dtype=np.float64)
            if atol_arr.shape != (self.n_state,):
                raise ValueError(f"atol must be a scalar or have shape ({self.n_state},), "
                                 f"got {atol_arr.shape}")
            atol_ptr = atol_arr.ctypes.data
        seg_args = (sa.boundaries.size - 1,) + sa._ptrs
        return (method, seg_args, t_out.size, t_ptr, code, float(rtol), atol_ptr,
                float(first_step), float(max_step), int(max_steps), (sa, t_out, atol_arr))

    def _error(self, status, t_fail, method, prefix="") -> SolverError:
        msg = self.status_message(status)
        if status == -5:
            msg += (" (t_out must be sorted and inside [t0, t_end]; rtol >= 0, atol >= 0, "
                    "not both 0; first_step, max_step >= 0)")
        return SolverError(prefix + msg, t=float(t_fail), status=int(status), method=method)

    # -- public API ---------------------------------------------------------------

    def solve(self, params, y0, schedule_arrays, t_out, *, method="auto", rtol=1e-6,
              atol=1e-9, first_step=0.0, max_step=0.0, max_steps=0):
        """Integrate one trajectory over the whole schedule.

        Parameters
        ----------
        params : (n_param,) array_like
        y0 : (n_state,) array_like
            State at ``schedule_arrays.t0`` (before the jumps of segment 0).
        schedule_arrays : SegmentArrays
        t_out : (n_out,) array_like
            Sorted output times inside ``[t0, t_end]``. A time equal to a segment
            boundary reports the state after that boundary's jumps.
        method : {"auto", "dopri5", "rodas"}
        rtol : float; atol : float or (n_state,) array
        first_step, max_step : float
            Initial step (0: automatic) and step limit (0: none).
        max_steps : int
            Budget of attempted steps for the whole call (<= 0: 10**7).

        Returns
        -------
        y_out : (n_out, n_state) ndarray
        y_final : (n_state,) ndarray, the state at ``t_end``
        stats : dict of int, keys ``n_steps``, ``n_rejected``, ``n_rhs``, ``n_jac``,
            ``n_lu``, ``n_segments``, ``n_switches``, ``n_rodas_steps``

        Raises :class:`SolverError` (``.status``, ``.t``) if the integration fails.
        """
        (method, seg_args, n_out, t_ptr, code, rtol, atol_ptr, h0, hmax, max_steps,
         _keep) = self._prepare(schedule_arrays, t_out, method, rtol, atol, first_step,
                                max_step, max_steps)
        n, npar = self.n_state, self.n_param
        if np.shape(params) != (npar,):
            raise ValueError(f"params must have shape ({npar},), got {np.shape(params)}")
        if np.shape(y0) != (n,):
            raise ValueError(f"y0 must have shape ({n},), got {np.shape(y0)}")
        # One buffer [params | y | stats(16) | t_fail | y_out]: one address lookup.
        buf = np.empty(npar + n + 17 + n_out * n)
        buf[:npar] = params
        buf[npar:npar + n] = y0
        a = buf.ctypes.data
        a_y = a + _F8 * npar
        a_st = a_y + _F8 * n
        status = self._fn(a, a_y, *seg_args, n_out, t_ptr, a_st + _F8 * 17, code, rtol,
                          atol_ptr, h0, hmax, max_steps, a_st, a_st + _F8 * 16)
        o = npar + n
        if status != 0:
            raise self._error(status, buf[o + 16], method)
        return (buf[o + 17:].reshape(n_out, n), buf[npar:o], _stats_dict(buf[o:o + 8]))

    def solve_many(self, params_matrix, y0_matrix, schedule_arrays, t_out, *,
                   n_workers=None, **kw):
        """Solve one trajectory per row of ``params_matrix`` on a thread pool.

        ``params_matrix`` is ``(m, n_param)``; ``y0_matrix`` is ``(m, n_state)`` or one
        ``(n_state,)`` start state for all rows. ``n_workers`` defaults to
        ``os.cpu_count()``. Other keyword arguments are those of :meth:`solve`.
        Returns ``(y_out (m, n_out, n_state), y_final (m, n_state), [stats, ...])``;
        each row's result is bit-identical to :meth:`solve` on that row. If rows
        fail, the :class:`SolverError` names the lowest failing row seen.
        """
        unknown = set(kw) - {"method", "rtol", "atol", "first_step", "max_step", "max_steps"}
        if unknown:
            raise TypeError(f"unexpected keyword arguments {sorted(unknown)}")
        (method, seg_args, n_out, t_ptr, code, rtol, atol_ptr, h0, hmax, max_steps,
         _keep) = self._prepare(schedule_arrays, t_out, kw.get("method", "auto"),
                                kw.get("rtol", 1e-6), kw.get("atol", 1e-9),
                                kw.get("first_step", 0.0), kw.get("max_step", 0.0),
                                kw.get("max_steps", 0))
        n = self.n_state
        P = np.ascontiguousarray(params_matrix, dtype=np.float64)
        if P.ndim != 2 or P.shape[1] != self.n_param:
            raise ValueError(f"params_matrix must have shape (m, {self.n_param}), "
                             f"got {P.shape}")
        m = P.shape[0]
        Y0 = np.asarray(y0_matrix, dtype=np.float64)
        if Y0.shape == (n,):
            y_final = np.tile(Y0, (m, 1))
        elif Y0.shape == (m, n):
            y_final = np.array(Y0, order="C", copy=True)
        else:
            raise ValueError(f"y0_matrix must have shape ({m}, {n}) or ({n},), "
                             f"got {Y0.shape}")
        y_out = np.empty((m, n_out, n))
        stats = np.zeros((m, 17))          # 16 stats + t_fail per row
        status = np.zeros(m, dtype=int)
        a_p, a_y, a_o, a_s = (P.ctypes.data, y_final.ctypes.data, y_out.ctypes.data,
                              stats.ctypes.data)
        s_p, s_y, s_o, s_s = _F8 * P.shape[1], _F8 * n, _F8 * n_out * n, _F8 * 17
        fn = self._fn
        counter = itertools.count()
        stop = threading.Event()

        def worker():
            while not stop.is_set():
                i = next(counter)          # atomic under the GIL
                if i >= m:
                    return
                st = fn(a_p + i * s_p, a_y + i * s_y, *seg_args, n_out, t_ptr,
                        a_o + i * s_o, code, rtol, atol_ptr, h0, hmax, max_steps,
                        a_s + i * s_s, a_s + i * s_s + _F8 * 16)
                if st != 0:
                    status[i] = st
                    stop.set()

        n_workers = (os.cpu_count() or 1) if n_workers is None else int(n_workers)
        n_workers = max(1, min(n_workers, m))
        if n_workers == 1:
            worker()
        else:
            with ThreadPoolExecutor(max_workers=n_workers) as pool:
                for fut in [pool.submit(worker) for _ in range(n_workers)]:
                    fut.result()
        failed = np.flatnonzero(status)
        if failed.size:
            i = int(failed[0])
            raise self._error(status[i], stats[i, 16], method, prefix=f"row {i}: ")
        return y_out, y_final, [_stats_dict(row) for row in stats]
