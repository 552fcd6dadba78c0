"""Which path runs the engine's integrator: the compiled C library, or the numba JIT.

``$NMDAKIN_BACKEND`` chooses (read at every call, so a test or a user can switch it in one process):

``auto`` (default, or unset)
    The native C path when a working C compiler is found, else the JIT path with one
    :class:`JitFallbackWarning` saying why. "Working" is tested once per process and value of ``$CC`` and
    ``$PATH`` by compiling a tiny C file with the native path's command and flags (the headers and functions
    the models use) in a temporary folder, loading it and calling it (about 50 ms): a missing compiler,
    ``CC=/bin/false``, a stub that writes nothing or a compiler without the C library's headers all fall back.
``native``
    Always the C path; without a working compiler the native methods fail with
    :class:`~kinetics.errors.CompilerError` (and :func:`kinetics.simulate` with ``method="auto"`` falls back to
    scipy LSODA, as it did before the JIT path existed).
``jit``
    Always the numba JIT path (no compiler is looked for).
``scipy``
    :func:`kinetics.simulate` and :func:`kinetics.sweep` with ``method="auto"`` use scipy's LSODA; what needs the
    engine's own integrator (``"dopri5"``, ``"rodas"``, fitting's sensitivities) uses the JIT path.

Examples
--------
>>> import os
>>> os.environ["NMDAKIN_BACKEND"] = "jit"
>>> resolve()
'jit'
>>> del os.environ["NMDAKIN_BACKEND"]
"""
from __future__ import annotations

import os
import threading
import warnings
from functools import lru_cache

import numpy as np

from ..errors import ArgumentError, CompilerError, did_you_mean, resolve_name

__all__ = ["ENV", "BACKENDS", "JitFallbackWarning", "requested", "resolve", "compiler_problem"]

#: The environment variable that chooses the backend.
ENV = "NMDAKIN_BACKEND"
#: Its values.
BACKENDS = ("auto", "native", "jit", "scipy")


class JitFallbackWarning(RuntimeWarning):
    """No working C compiler (or a model's library could not be built): the numba JIT path is used instead."""


_warned: set = set()
_warn_lock = threading.Lock()

#: The probe: the headers and library functions the generated models and the integrator use.
_PROBE = """#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <float.h>
double nk_probe(double x) { double b[2]; memset(b, 0, sizeof b); b[1] = exp(-x) + DBL_EPSILON * 0.0;
                            return isfinite(b[1]) ? b[1] : (double)abs(-1); }
"""


def requested() -> str:
    """The backend ``$NMDAKIN_BACKEND`` asks for (``"auto"`` when unset or empty; case does not matter).

    Raises :class:`~kinetics.errors.ArgumentError` for any other value."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return "auto"
    name = resolve_name(raw, BACKENDS)
    if name is None:
        raise ArgumentError(f"${ENV} = {raw!r} is not a backend; choose one of {list(BACKENDS)}"
                            + did_you_mean(raw, BACKENDS))
    return name


def compiler_problem() -> str | None:
    """Why there is no working C compiler (one line), or ``None`` if there is one. Tested once per process and
    value of ``$CC`` and ``$PATH``."""
    return _probe(os.environ.get("CC", ""), os.environ.get("PATH", ""))


@lru_cache(maxsize=16)
def _probe(cc: str, path: str) -> str | None:
    """Compile :data:`_PROBE` with the native path's command and flags in a temporary folder, load it and call
    it; the reason it failed, or None."""
    import ctypes
    import shutil
    import subprocess
    import tempfile

    from .. import native

    try:
        command = native._compiler_command()
    except CompilerError as exc:             # an unparsable $CC
        return str(exc).strip().splitlines()[0]
    if command is None:
        return f"C compiler `{cc}` (from $CC) not found" if cc.strip() else \
            "no C compiler found (cc, gcc or clang on the PATH, or $CC)"
    folder = tempfile.mkdtemp(prefix="nmdakin-probe-")
    try:
        with open(os.path.join(folder, "probe.c"), "w", encoding="utf-8") as f:
            f.write(_PROBE)
        lib = "probe" + native._LIB_SUFFIX
        cmd = [*command, *native.CFLAGS, "-o", lib, "probe.c", *native.LIBS]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=folder, timeout=120)
        except (OSError, subprocess.SubprocessError) as exc:
            return f"cannot run the C compiler {command[0]} ({exc})"
        out = os.path.join(folder, lib)
        if proc.returncode != 0:
            return f"C compilation failed (exit status {proc.returncode}): {command[0]}"
        if not os.path.isfile(out) or os.path.getsize(out) == 0:
            return f"the C compiler {command[0]} wrote no library"
        try:
            fn = ctypes.CDLL(out).nk_probe
        except (OSError, AttributeError) as exc:
            return f"the library built by the C compiler {command[0]} cannot be loaded ({exc})"
        fn.argtypes, fn.restype = [ctypes.c_double], ctypes.c_double
        if not abs(fn(1.0) - float(np.exp(-1.0))) < 1e-12:
            return f"the library built by the C compiler {command[0]} computes exp(-1) wrongly"
        return None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def resolve() -> str:
    """The backend in force: ``"native"``, ``"jit"`` or ``"scipy"`` (see the module docstring). With ``auto`` and
    no working compiler, warns once (a :class:`JitFallbackWarning` naming the reason) and returns ``"jit"``."""
    choice = requested()
    if choice != "auto":
        return choice
    problem = compiler_problem()
    if problem is None:
        return "native"
    warn_once(("compiler", problem), f"no working C compiler ({problem}): using the numba JIT path (set "
                                     f"${ENV}=jit to choose it without this warning)")
    return "jit"


def warn_once(tag, message: str, stacklevel: int = 4) -> None:
    """Issue ``message`` as a :class:`JitFallbackWarning` the first time ``tag`` is seen in this process."""
    with _warn_lock:
        if tag in _warned:
            return
        _warned.add(tag)
    warnings.warn(message, JitFallbackWarning, stacklevel=stacklevel)
