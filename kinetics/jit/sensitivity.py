"""Forward sensitivities on the JIT path: :class:`JitSensitivitySystem`."""
from __future__ import annotations

from ..fitting.sensitivity import SensitivitySystem

__all__ = ["JitSensitivitySystem"]


class JitSensitivitySystem(SensitivitySystem):
    """:class:`~kinetics.fitting.sensitivity.SensitivitySystem` whose :meth:`solver` is a JIT solver of the
    augmented system (the same equations; the block structure ``NK_NBLOCK`` of the C path is the solver's
    ``nblock``). It never builds a C library."""

    def library(self):
        from ..errors import CompilerError

        raise CompilerError("a JIT sensitivity system has no C library")

    def use_library(self, path) -> None:
        return None

    def solver(self):
        """The :class:`~kinetics.jit.solver.JitSolver` of the augmented system (compiled on first use)."""
        with self._lock:
            if self._solver is None:
                self._solver = self._build()
            return self._solver

    def _build(self):
        from ..codegen import generator_identity
        from .diskcache import model_functions
        from .solver import JitSolver

        identity = "\x1f".join([self.code_identity(), "jit", generator_identity("jit/pycode.py")])
        functions, meta = model_functions(identity, self._source,
                                          label=f"sensitivities of structure {self.system.key[:16]}")
        return JitSolver(functions, meta["n_state"], meta["n_param"], meta["n_input"], nblock=meta["nblock"],
                         autonomous=bool(meta["autonomous"]))

    def _source(self):
        """The :class:`~kinetics.jit.pycode.ModelSource` of the augmented system (as :meth:`c_source` for C)."""
        import sympy

        from . import pycode

        sysm = self.system
        n = self.n_state
        extra = {}
        for j in range(self.n_sens):
            extra.update({s.name: f"y[{n * (j + 1) + i}]" for i, s in enumerate(self.z[j])})
        extra.update({s.name: f"p[{self.n_param + j}]" for j, s in enumerate(self.w)})
        first_column = self.jacobian.copy()
        first_column[:, n:] = sympy.zeros(self.n_aug, self.n_aug - n)
        autonomous = not (self.rhs.has(sysm.t) or self.jacobian.has(sysm.t))
        return pycode.block_source(sysm, self.rhs, first_column, extra, self.n_param + self.n_sens, n, autonomous)
