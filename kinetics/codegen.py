"""Compilation of derived equations: numpy functions (lambdify) and C source for the native solver.

Both are produced once per scheme structure by :class:`kinetics.model.CompiledModel`, which caches them
(:mod:`kinetics.cache`; the compiled shared library also on disk, see :mod:`kinetics.native`).

* :func:`numpy_functions` lambdifies the right-hand side, its Jacobian and the
  observables with common-subexpression elimination and *vector* arguments
  (``f(t, y, p, u)``), so there is no limit on the number of symbols.
* :func:`c_source` writes ``nk_rhs`` and ``nk_jac`` in C99 for the native
  integrator (:mod:`kinetics.native`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy
from sympy.printing.c import C99CodePrinter

from .errors import ArgumentError
from .escape import c_comment
from .odesystem import OdeSystem

__all__ = ["NumpyFunctions", "numpy_functions", "c_source", "CPrinter", "c_statements", "c_rhs_jacobian"]


@dataclass(frozen=True)
class NumpyFunctions:
    """Lambdified functions of one OdeSystem.

    ``rhs(t, y, p, u) -> (n,)``, ``jac(t, y, p, u) -> (n, n)``,
    ``observables(t, Y, P, U) -> list`` where ``Y`` is ``(n_states, n_t)`` (rows
    unpack to symbols), so observables evaluate on a whole trajectory at once.
    """

    rhs: Callable
    jac: Callable
    observables: Callable


def lambdify_modules() -> list:
    """The namespaces of every numpy function made from an expression: numpy, plus scipy's error functions
    (numpy has no ``erf``)."""
    from scipy.special import erf, erfc

    return [{"erf": erf, "erfc": erfc}, "numpy"]


def _lambdify(system: OdeSystem, exprs):
    args = [system.t, list(system.y), list(system.p), list(system.u)]
    return sympy.lambdify(args, exprs, modules=lambdify_modules(), cse=True, docstring_limit=0)


def numpy_functions(system: OdeSystem) -> NumpyFunctions:
    """Lambdify the RHS, Jacobian and observables of ``system`` (cached per structure by
    :attr:`kinetics.model.CompiledModel.numpy`)."""
    n = system.n_states
    rhs_list = _lambdify(system, list(system.rhs))
    jac_list = _lambdify(system, list(system.jacobian))
    obs_list = _lambdify(system, list(system.observables.values()))

    def rhs(t, y, p, u):
        return np.array(rhs_list(t, y, p, u), dtype=float)

    def jac(t, y, p, u):
        return np.array(jac_list(t, y, p, u), dtype=float).reshape(n, n)

    return NumpyFunctions(rhs=rhs, jac=jac, observables=obs_list)


class CPrinter(C99CodePrinter):
    """C99 printer for derived equations.

    ``names`` maps scheme symbols to C expressions (``{"C0": "y[0]"}``); floats are written as the shortest text
    that reads back as the same double; ``Heaviside`` and small integer powers get exact, fast forms.
    """

    def __init__(self, names: dict):
        super().__init__()
        self.names = dict(names)

    def _print_Symbol(self, expr):
        return self.names.get(expr.name) or super()._print_Symbol(expr)

    def _print_Float(self, expr):
        x = float(expr)
        if not math.isfinite(x):
            raise ArgumentError(f"cannot write the non-finite number {x} in C")
        return repr(x)

    def _print_Heaviside(self, expr):
        x = self._print(expr.args[0])
        h0 = expr.args[1] if len(expr.args) > 1 else sympy.Rational(1, 2)
        return f"(({x}) > 0 ? 1.0 : (({x}) < 0 ? 0.0 : {repr(float(h0))}))"

    def _print_Pow(self, expr):
        base, exp = expr.args
        if exp.is_Integer and 1 < abs(int(exp)) <= 4:
            b = self._print(base)
            prod = "*".join([f"({b})"] * abs(int(exp)))
            return f"({prod})" if exp > 0 else f"(1.0/({prod}))"
        return super()._print_Pow(expr)


def c_statements(exprs, targets, names: dict, indent: str = "    ") -> list:
    """C statements assigning ``exprs`` to ``targets`` (C lvalues; ``None`` skips one), with common
    subexpressions in ``const double _x<k>`` temporaries."""
    printer = CPrinter(names)
    temps, reduced = sympy.cse(list(exprs), symbols=sympy.numbered_symbols("_x"), optimizations="basic")
    lines = [f"{indent}const double {printer.doprint(s)} = {printer.doprint(e)};" for s, e in temps]
    lines += [f"{indent}{tgt} = {printer.doprint(e)};" for tgt, e in zip(targets, reduced) if tgt is not None]
    return lines


def c_rhs_jacobian(rhs, jacobian, names: dict) -> tuple:
    """Bodies of ``nk_rhs`` (every ``f[i]``) and ``nk_jac`` (non-zero ``J[i*n + j]`` only; the caller zeroes J)."""
    rhs = list(rhs)
    jac = list(jacobian)
    rhs_body = c_statements(rhs, [f"f[{i}]" for i in range(len(rhs))], names)
    jac_body = c_statements(jac, [f"J[{k}]" if e != 0 else None for k, e in enumerate(jac)], names)
    return "\n".join(rhs_body), "\n".join(jac_body)


def c_source(system: OdeSystem) -> str:
    """C99 source of ``nk_rhs`` / ``nk_jac`` for ``system`` (to be prepended to the integrator)."""
    names = {s.name: f"y[{i}]" for i, s in enumerate(system.y)}
    names.update({s.name: f"p[{i}]" for i, s in enumerate(system.p)})
    names.update({s.name: f"u[{i}]" for i, s in enumerate(system.u)})
    n = system.n_states
    rhs_body, jac_body = c_rhs_jacobian(system.rhs, system.jacobian, names)
    return f"""/* generated by nmdakin from scheme `{c_comment(system.name)}` (structure {system.key[:16]}) */
#include <math.h>
#include <string.h>
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#define NK_NSTATE {n}
#define NK_NPARAM {len(system.p)}
#define NK_NINPUT {len(system.u)}
#define NK_AUTONOMOUS {0 if system.rhs.has(system.t) else 1}
static void nk_rhs(double t, const double *y, const double *p, const double *u, double *f)
{{
    (void)t; (void)y; (void)p; (void)u;
{rhs_body}
}}
static void nk_jac(double t, const double *y, const double *p, const double *u, double *J)
{{
    (void)t; (void)y; (void)p; (void)u;
    memset(J, 0, sizeof(double) * {n * n});
{jac_body}
}}
"""
