"""Steady states that respect conservation laws.

A closed receptor scheme has a singular Jacobian: its total occupancy is
conserved, so ``f(y) = 0`` alone does not fix the state. :func:`steady_state`
replaces one equation per conservation law by the law itself
(``c . y = c . y0``), which makes the Newton system regular, and falls back to
integrating the ODEs forward when Newton's method does not converge.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import sympy

from .errors import ArgumentError, SchemeError, SolverError, did_you_mean
from .model import compile as compile_model
from .scheme import as_scheme

__all__ = ["SteadyState", "steady_state"]


@dataclass(frozen=True)
class SteadyState:
    """A steady state: ``y`` (dict), ``vector``, the RHS norm there, and how it was found."""

    y: dict
    vector: np.ndarray
    residual: float
    conserved: np.ndarray
    method: str

    def __getitem__(self, name):
        return self.y[name]


def _conservation(system):
    C = np.array(system.conservation_laws.tolist(), dtype=float).reshape(-1, system.n_states)
    if C.shape[0] == 0:
        return C, []
    _, pivots = sympy.Matrix(system.conservation_laws).rref()
    return C, list(pivots)


def steady_state(model, *, params=None, inputs: Mapping[str, float] | None = None, y0=None, t: float = 0.0,
                 tol: float = 1e-10, max_time: float | None = None) -> SteadyState:
    """Find the steady state of a scheme with constant inputs.

    Parameters
    ----------
    model : Scheme
    params : mapping, optional
        Parameter overrides (declared units).
    inputs : mapping, optional
        Constant input values (default: each input's default).
    y0 : mapping or array, optional
        Starting point; it also fixes the conserved totals (default: the scheme's
        initial values).
    tol : float
        Convergence tolerance on ``max |dy/dt|`` relative to ``max(1, max|y|)``.

    Raises
    ------
    SchemeError
        For a scheme with discrete events (:class:`~kinetics.scheme.Event`): a steady state of the ODEs
        alone would ignore them; simulate the scheme (:func:`kinetics.simulate`) instead.

    Examples
    --------
    >>> ss = steady_state(binding_scheme, inputs={"L": 0.1})   # doctest: +SKIP
    >>> ss["LR"]                                                # doctest: +SKIP
    """
    from scipy.optimize import root

    events = as_scheme(model).events
    if events:
        raise SchemeError(f"scheme `{as_scheme(model).name}` has discrete events "
                          f"({', '.join(e.name for e in events)}): a steady state of its ODEs would ignore them; "
                          f"simulate it instead (kinetics.simulate runs the events)")
    compiled = compile_model(model)
    scheme, system, funcs = compiled.scheme, compiled.system, compiled.numpy
    p = compiled.parameter_vector(params)
    y_start = compiled.initial_state(y0, tolerance=1e-9)     # round-off of a previous solution is accepted
    u = compiled.input_defaults()
    for k, v in (inputs or {}).items():
        if k not in scheme.input_names:
            raise ArgumentError(f"unknown input `{k}`" + did_you_mean(k, scheme.input_names))
        u[scheme.input_names.index(k)] = float(v)
    C, pivots = _conservation(system)
    totals = C @ y_start

    def F(y):
        r = funcs.rhs(t, y, p, u)
        for row, piv in enumerate(pivots):
            r[piv] = C[row] @ y - totals[row]
        return r

    def JF(y):
        J = funcs.jac(t, y, p, u)
        for row, piv in enumerate(pivots):
            J[piv] = C[row]
        return J

    def residual(y):
        return float(np.max(np.abs(funcs.rhs(t, y, p, u)))) if y.size else 0.0

    def ok(y):
        scale = max(1.0, float(np.max(np.abs(y))))
        return np.all(np.isfinite(y)) and residual(y) <= tol * scale and np.all(np.abs(C @ y - totals) <= 1e-8 * scale)

    sol = root(F, y_start, jac=JF, method="hybr", options={"xtol": 1e-13})
    if ok(sol.x) and np.all(sol.x >= -1e-9 * max(1.0, np.max(np.abs(sol.x)))):
        return _make(scheme, sol.x, residual(sol.x), C, "newton")

    # Newton failed or left the positive orthant: relax by integration, then polish.
    from .protocol import Protocol
    from .simulate import simulate

    rates = np.abs(np.linalg.eigvals(JF(y_start)))
    slow = rates[rates > 1e-300].min() if np.any(rates > 1e-300) else 1.0
    horizon = max_time or 50.0 / slow
    y = y_start
    scheme_u = scheme.with_inputs({k: float(v) for k, v in zip(scheme.input_names, u)}) if scheme.inputs else scheme
    for _ in range(6):
        res = simulate(scheme_u, Protocol.empty(), t_end=horizon, t_eval=[horizon], params=params, y0=y,
                       rtol=1e-10, atol=1e-12)
        y = res.y[-1]
        sol = root(F, y, jac=JF, method="hybr", options={"xtol": 1e-13})
        if ok(sol.x):
            return _make(scheme, sol.x, residual(sol.x), C, "integrate+newton")
        if ok(y):
            return _make(scheme, y, residual(y), C, "integrate")
        horizon *= 10
    raise SolverError(f"no steady state found for scheme `{scheme.name}` (residual {residual(y):.3g})", t=horizon,
                      method="steady_state")


def _make(scheme, y, res, C, method):
    y = np.asarray(y, dtype=float)
    return SteadyState(y=dict(zip(scheme.species_names, y)), vector=y, residual=res,
                       conserved=C @ y if C.size else np.zeros(0), method=method)
