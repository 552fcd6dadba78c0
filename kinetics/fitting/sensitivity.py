"""Forward sensitivity equations, derived symbolically (sympy) and compiled for the native solver.

For ``dy/dt = f(t, y, p, u)`` and a chosen set of quantities ``theta_j`` — model parameters ``p_k`` or
initial values ``y_i(t0)`` — the sensitivities ``s_j = dy/dtheta_j`` obey::

    ds_j/dt = J(t, y, p, u) s_j + df/dtheta_j,        J = df/dy
    s_j(t0) = dy(t0)/dtheta_j                         (e_i for the initial value of y_i, else 0)

The solver integrates the augmented system ``Y = [y, z_1, ..., z_m]`` with *scaled* sensitivities
``z_j = w_j s_j``; the weights ``w_j`` (``|theta_j|``, or 1 when ``theta_j = 0``) are extra parameters of the
compiled code, so one library serves every parameter value, and ``z_j`` has the size of ``y`` so that the
states' absolute tolerance suits the sensitivities too. Error control covers states and sensitivities
(as CVODES does with ``errconS``).

The augmented Jacobian has a block lower-triangular structure::

    [ J                                   0 ]
    [ d(J z_j)/dy + w_j d(df/dtheta_j)/dy  J ]   (one row block per j; J on the whole diagonal)

and its first block column is written, like the right-hand side, as C by :func:`kinetics.codegen`'s printer,
after common subexpression elimination; :func:`kinetics.native.build` compiles it once (cached on disk by the
source's hash) and :class:`kinetics.native.NativeSolver` integrates it with the same DOPRI5/RODAS4 code as plain
simulations, restarting at every protocol breakpoint. The source defines ``NK_NBLOCK`` (the number of states), so
RODAS factorises only the states' block ``I/(gamma h) - J`` and solves the others by block forward substitution:
``O(n^3 + m n^2)`` work per step instead of ``O((n (m + 1))^3)`` (CVODES likewise reuses the states' Newton
matrix for the sensitivities).

Protocol jumps target the original states: an ``add`` jump leaves the sensitivities unchanged (the amount does
not depend on theta); a ``set`` jump of ``y_i`` also sets ``s_j[i] = 0`` for every ``j``.

Examples
--------
>>> import kinetics as kx
>>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 0.5, "1/ms")],
...               reactions=[kx.reaction("A ->", "k")])
>>> sens = SensitivitySystem(kx.derive(s), parameters=["k"])
>>> sens.n_aug
2
>>> sens.rhs.T
Matrix([[-A*k, -A*_w0 - _s0_0*k]])
"""
from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path

import numpy as np
import sympy

from ..codegen import c_rhs_jacobian
from ..errors import ArgumentError, SchemeError, did_you_mean
from ..escape import c_comment
from ..odesystem import OdeSystem

__all__ = ["SensitivitySystem", "augmented_segments", "sensitivity_weights"]


def _no_delta(expr):
    """Derivatives of step functions are taken as 0 (as in :attr:`OdeSystem.jacobian`)."""
    if isinstance(expr, sympy.MatrixBase):
        return expr.applyfunc(_no_delta) if expr.has(sympy.DiracDelta) else expr
    if expr.has(sympy.DiracDelta):
        return expr.replace(lambda e: isinstance(e, sympy.DiracDelta), lambda e: sympy.S.Zero)
    return expr


class SensitivitySystem:
    """The forward sensitivity system of an :class:`~kinetics.odesystem.OdeSystem`.

    Parameters
    ----------
    system : OdeSystem
    parameters : sequence of str
        Model parameters whose sensitivities are integrated.
    initial : sequence of str
        Species whose initial values' sensitivities are integrated.

    Attributes
    ----------
    n_state, n_sens, n_aug : int
        States, sensitivity directions (``len(parameters) + len(initial)``) and augmented states.
    rhs, jacobian : sympy.Matrix
        The augmented right-hand side and its Jacobian (see the module docstring).
    """

    def __init__(self, system: OdeSystem, parameters=(), initial=()):
        events = getattr(getattr(system, "_scheme", None), "events", ())
        if events:
            raise SchemeError(f"scheme `{system.name}` has discrete events ({', '.join(e.name for e in events)}): "
                              f"sensitivities across discrete events (their jump conditions) are not implemented")
        self.system = system
        self.parameters = tuple(parameters)
        self.initial = tuple(initial)
        for p in self.parameters:
            if p not in system.parameter_names:
                raise SchemeError(f"unknown parameter `{p}` for sensitivities of `{system.name}`"
                                  + did_you_mean(p, system.parameter_names))
        for s in self.initial:
            if s not in system.state_names:
                raise SchemeError(f"unknown species `{s}` for sensitivities of `{system.name}`"
                                  + did_you_mean(s, system.state_names))
        if len(set(self.parameters)) != len(self.parameters) or len(set(self.initial)) != len(self.initial):
            raise ArgumentError("sensitivity parameters and initial values must not repeat")
        self.n_state = system.n_states
        self.n_param = len(system.p)
        self.n_input = len(system.u)
        self.n_sens = len(self.parameters) + len(self.initial)
        self.n_aug = self.n_state * (1 + self.n_sens)
        n = self.n_state
        self.z = tuple(tuple(sympy.Symbol(f"_s{j}_{i}") for i in range(n)) for j in range(self.n_sens))
        self.w = tuple(sympy.Symbol(f"_w{j}") for j in range(self.n_sens))
        self._lock = threading.Lock()
        self._solver = None
        self._path = None

    @property
    def key(self) -> tuple:
        return (self.system.key, self.parameters, self.initial)

    def code_identity(self) -> str:
        """What the generated code depends on: the structure key, the directions and the code generator
        (:func:`kinetics.codegen.generator_identity`, this module included). :meth:`library` finds the compiled
        library by it in the on-disk cache without deriving anything."""
        from ..codegen import generator_identity

        return "\x1f".join(["nmdakin-sensitivity", self.system.key, generator_identity("fitting/sensitivity.py"),
                             repr(self.parameters), repr(self.initial)])

    # ------------------------------------------------------------------ symbolic
    @cached_property
    def _df_dtheta(self) -> list:
        """``df/dtheta_j`` (n x 1) for every direction (zero for initial values)."""
        f = self.system.rhs
        out = []
        for name in self.parameters:
            out.append(_no_delta(f.diff(sympy.Symbol(name))))
        out += [sympy.zeros(self.n_state, 1) for _ in self.initial]
        return out

    @cached_property
    def rhs(self) -> sympy.Matrix:
        """Augmented right-hand side ``[f, J z_1 + w_1 df/dtheta_1, ...]`` (n_aug x 1)."""
        J = self.system.jacobian
        blocks = [self.system.rhs]
        for j in range(self.n_sens):
            zj = sympy.Matrix(self.z[j])
            blocks.append(J * zj + self.w[j] * self._df_dtheta[j])
        return sympy.Matrix.vstack(*blocks)

    @cached_property
    def jacobian(self) -> sympy.Matrix:
        """Augmented Jacobian (n_aug x n_aug), assembled block by block."""
        n, m = self.n_state, self.n_sens
        J = self.system.jacobian
        y = sympy.Matrix(self.system.y)
        A = sympy.zeros(self.n_aug, self.n_aug)
        A[0:n, 0:n] = J
        for j in range(m):
            r = n * (j + 1)
            zj = sympy.Matrix(self.z[j])
            lower = _no_delta((J * zj).jacobian(y) + self.w[j] * self._df_dtheta[j].jacobian(y))
            A[r:r + n, 0:n] = lower
            A[r:r + n, r:r + n] = J
        return A

    def c_source(self) -> str:
        """C99 source of ``nk_rhs``/``nk_jac`` of the augmented system (for :func:`kinetics.native.build`)."""
        sysm = self.system
        n = self.n_state
        names = {s.name: f"y[{i}]" for i, s in enumerate(sysm.y)}
        for j in range(self.n_sens):
            names.update({s.name: f"y[{n * (j + 1) + i}]" for i, s in enumerate(self.z[j])})
        names.update({s.name: f"p[{i}]" for i, s in enumerate(sysm.p)})
        names.update({s.name: f"p[{self.n_param + j}]" for j, s in enumerate(self.w)})
        names.update({s.name: f"u[{i}]" for i, s in enumerate(sysm.u)})
        # the integrator reads only the first block column (its diagonal blocks all equal J: NK_NBLOCK)
        first_column = self.jacobian.copy()
        first_column[:, n:] = sympy.zeros(self.n_aug, self.n_aug - n)
        rhs_body, jac_body = c_rhs_jacobian(self.rhs, first_column, names)
        na = self.n_aug
        autonomous = 0 if self.rhs.has(sysm.t) or self.jacobian.has(sysm.t) else 1
        return f"""/* generated by nmdakin (kinetics.fitting.sensitivity) from scheme `{c_comment(sysm.name)}`
 * (structure {sysm.key[:16]}): forward sensitivities for parameters {c_comment(list(self.parameters))}
 * and initial values {c_comment(list(self.initial))}; z_j = w_j dy/dtheta_j, w_j = p[{self.n_param} + j]. */
#include <math.h>
#include <string.h>
#define NK_NSTATE {na}
#define NK_NPARAM {self.n_param + self.n_sens}
#define NK_NINPUT {self.n_input}
#define NK_AUTONOMOUS {autonomous}
#define NK_NBLOCK {n}
static void nk_rhs(double t, const double *y, const double *p, const double *u, double *f)
{{
    (void)t; (void)y; (void)p; (void)u;
{rhs_body}
}}
static void nk_jac(double t, const double *y, const double *p, const double *u, double *J)
{{
    (void)t; (void)y; (void)p; (void)u;
    for (int row = 0; row < {na}; row++) memset(J + (size_t)row * {na}, 0, sizeof(double) * {n});
{jac_body}
}}
"""

    # ------------------------------------------------------------------ compiled
    def use_library(self, path) -> None:
        """Use an already built library of this system (skips generating the C source)."""
        with self._lock:
            if self._path is None and path is not None and Path(path).exists():
                self._path = Path(path)

    def library(self) -> Path:
        """Path of the compiled library: found in the on-disk cache by :meth:`code_identity`, generated and
        built only when missing."""
        from .. import native

        with self._lock:
            if self._path is None or not native.library_ok(self._path):
                self._path = native.build_keyed(self.code_identity(), self.c_source)
            return self._path

    def solver(self):
        """The loaded :class:`~kinetics.native.NativeSolver` of the augmented system."""
        from .. import native

        path = self.library()
        with self._lock:
            if self._solver is None:
                self._solver = native.NativeSolver(path, self.n_aug, self.n_param + self.n_sens, self.n_input)
            return self._solver

    def __getstate__(self):
        # Ship the symbolic definition and the library path; a worker reloads (or rebuilds) the library.
        state = {k: v for k, v in self.__dict__.items() if k not in ("_lock", "_solver", "rhs", "jacobian",
                                                                       "_df_dtheta")}
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._solver = None

    def solve(self, p_model, y0, segments, t_out, *, weights=None, method="auto", rtol=1e-8, atol=1e-10,
              max_steps=0):
        """Integrate states and sensitivities.

        Parameters
        ----------
        p_model : (n_param,) array
            Parameters in the scheme's unit system.
        y0 : (n_state,) array
        segments : SegmentArrays
            From :func:`augmented_segments`.
        t_out : (n_out,) sorted array
        weights : (n_sens,) array, optional
            Scaling of the sensitivities (default :func:`sensitivity_weights`).
        rtol, atol : float; atol may also be a (n_state,) array (used for the sensitivities too).

        Returns
        -------
        y : (n_out, n_state) ndarray
        dy : (n_out, n_state, n_sens) ndarray
            ``dy/dtheta_j`` (unscaled): per unit of the model-unit parameter, or of the initial value.
        stats : dict
        """
        n, m = self.n_state, self.n_sens
        p_model = np.asarray(p_model, dtype=float)
        y0 = np.asarray(y0, dtype=float)
        w = sensitivity_weights(self, p_model, y0) if weights is None else np.asarray(weights, dtype=float)
        y0_aug = np.zeros(self.n_aug)
        y0_aug[:n] = y0
        for k, sp in enumerate(self.initial):
            j = len(self.parameters) + k
            y0_aug[n * (j + 1) + self.system.state_names.index(sp)] = w[j]
        atol = np.broadcast_to(np.asarray(atol, dtype=float), (n,))
        atol_aug = np.tile(atol, 1 + m)
        out, _, stats = self.solver().solve(np.concatenate([p_model, w]), y0_aug, segments, t_out,
                                            method=method, rtol=rtol, atol=atol_aug, max_steps=max_steps)
        y = out[:, :n]
        dy = out[:, n:].reshape(out.shape[0], m, n).transpose(0, 2, 1) / w
        return y, dy, stats


def sensitivity_weights(sens: SensitivitySystem, p_model, y0) -> np.ndarray:
    """``w_j = |theta_j|`` (1 where ``theta_j = 0``) for the current parameter and initial values."""
    idx_p = [sens.system.parameter_names.index(n) for n in sens.parameters]
    idx_y = [sens.system.state_names.index(n) for n in sens.initial]
    w = np.abs(np.concatenate([np.asarray(p_model, float)[idx_p], np.asarray(y0, float)[idx_y]]))
    w[~(w > 0) | ~np.isfinite(w)] = 1.0
    return w


def augmented_segments(schedule, sens: SensitivitySystem):
    """:class:`~kinetics.native.SegmentArrays` of ``schedule`` for the augmented system.

    Jumps keep their original state targets; every ``set`` jump of state ``i`` also sets ``z_j[i] = 0``.
    """
    from ..native import SegmentArrays
    from ..protocol.schedule import JUMP_SET

    index = {name: i for i, name in enumerate(sens.system.state_names)}
    base = SegmentArrays.from_schedule(schedule, index)
    if not np.any(base.jump_kind == JUMP_SET) or sens.n_sens == 0:
        return base
    n = sens.n_state
    ptr, idx, kind, val = [0], [], [], []
    for s in range(base.n_segments):
        for k in range(base.jump_ptr[s], base.jump_ptr[s + 1]):
            i = int(base.jump_index[k])
            idx.append(i)
            kind.append(int(base.jump_kind[k]))
            val.append(float(base.jump_value[k]))
            if base.jump_kind[k] == JUMP_SET:
                for j in range(sens.n_sens):
                    idx.append(n * (j + 1) + i)
                    kind.append(JUMP_SET)
                    val.append(0.0)
        ptr.append(len(idx))
    return SegmentArrays(boundaries=base.boundaries, const=base.const, term_ptr=base.term_ptr,
                         term_input=base.term_input, term_data=base.term_data, jump_ptr=ptr,
                         jump_index=np.asarray(idx, dtype=np.intc), jump_kind=np.asarray(kind, dtype=np.intc),
                         jump_value=np.asarray(val, dtype=float))
