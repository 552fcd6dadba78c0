"""The compiler-free fast path: the engine's integrator and each model's functions compiled by numba.

Without a working C compiler (or with ``NMDAKIN_BACKEND=jit``, see :mod:`kinetics.jit.backend`),
:meth:`kinetics.model.CompiledModel.native_solver` and :meth:`~kinetics.model.CompiledModel.sensitivity_solver`
return the objects of this package instead of the C ones, with the same interface, so :func:`kinetics.simulate`,
sweeps, the executors and fitting run unchanged:

* :mod:`kinetics.jit.integrator` — ``kinetics/native/integrator.c`` ported to numba: the same methods (DOPRI5
  switching to RODAS4 on stiffness), error control, dense output, segments, statistics and status codes. It is
  compiled once per process (or loaded from numba's cache in the package's private cache folder,
  :mod:`kinetics.jit.diskcache`) and shared by every model.
* :mod:`kinetics.jit.pycode` — Python source of the right-hand side, Jacobian and observables generated from the
  derived equations (only validated identifiers and numeric literals reach it) and compiled by ``numba.njit``.
* :class:`~kinetics.jit.solver.JitSolver` — the front end (``solve``, ``solve_many``, ``observables``,
  ``status_message``), like :class:`kinetics.native.NativeSolver`.
* :class:`~kinetics.jit.sensitivity.JitSensitivitySystem` — forward sensitivities
  (:class:`kinetics.fitting.sensitivity.SensitivitySystem`) on the JIT path.

Costs: numba compiles the integrator once (about 20 s) and each model's functions once (a fraction of a second for
small schemes, several seconds for a 100-state one); later processes load them from the private disk cache
(:mod:`kinetics.jit.diskcache`) without deriving the equations again.

Examples
--------
>>> import kinetics as kx
>>> from kinetics.jit import model_solver
>>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 1.0, "1/ms")],
...               reactions=[kx.reaction("A ->", "k")])
>>> model_solver(kx.compile(s))
<JitSolver: 1 states, 1 parameters, 0 inputs>
"""
from __future__ import annotations

from ..cache import LRUCache

__all__ = ["model_solver", "cached_solver", "sensitivity_system"]

#: Loaded JIT solvers by structure key.
_SOLVERS = LRUCache("JIT solvers", maxsize=64)


def cached_solver(key):
    """The JIT solver of structure ``key`` if this process has built it, else ``None`` (never builds)."""
    return _SOLVERS.get(key)


def model_solver(model):
    """The :class:`~kinetics.jit.solver.JitSolver` of a :class:`~kinetics.model.CompiledModel` (generated and
    compiled on first use in the process, then shared by every scheme of the same structure)."""
    def build():
        from ..codegen import generator_identity
        from . import pycode
        from .diskcache import model_functions
        from .solver import JitSolver

        identity = f"nmdakin-jit-model\x1f{model.key}\x1f{generator_identity('jit/pycode.py')}"
        functions, meta = model_functions(identity, lambda: pycode.model_source(model.system),
                                          label=f"structure {model.key[:16]}")
        return JitSolver(functions, meta["n_state"], meta["n_param"], meta["n_input"],
                         n_observables=meta["n_obs"], nblock=meta["nblock"], autonomous=bool(meta["autonomous"]))

    return _SOLVERS.get_or_build(model.key, build)


def sensitivity_system(system, parameters=(), initial=()):
    """A :class:`~kinetics.jit.sensitivity.JitSensitivitySystem` (forward sensitivities on the JIT path)."""
    from .sensitivity import JitSensitivitySystem

    return JitSensitivitySystem(system, parameters, initial)
