"""Derivation: from a :class:`~kinetics.scheme.Scheme` to the ODE system ``dy/dt = N v + r``.

``N`` is the stoichiometry matrix (states x reactions), ``v`` the flux vector of
the reactions (mass action or the given rate law), ``r`` the rate-rule terms.
Observables are substituted into fluxes, so the derived right-hand side depends
only on time ``t``, states ``y``, parameters ``p`` (in the scheme's unit system)
and inputs ``u``.

Derivation is done once per scheme *structure* (see
:meth:`Scheme.structure_key`): :func:`derive` caches its result, so schemes that
differ only in parameter or initial values share one :class:`OdeSystem`.

Examples
--------
>>> from kinetics import Scheme, Species, Parameter, reaction, derive
>>> s = Scheme("AB", species=[Species("A", 1.0), Species("B", 0.0)],
...            parameters=[Parameter("k", 1.0, "1/ms")], reactions=[reaction("A -> B", "k")])
>>> sys = derive(s)
>>> sys.rhs.T
Matrix([[-A*k, A*k]])
>>> sys.conservation_laws
Matrix([[1, 1]])
"""
from __future__ import annotations

from functools import cached_property

import numpy as np
import sympy

from .cache import LRUCache
from .errors import SchemeError
from .scheme import TIME, Scheme, expression_text

__all__ = ["OdeSystem", "derive"]


class OdeSystem:
    """The derived equations of a scheme structure (sympy), with cached derived quantities.

    Attributes
    ----------
    state_names, parameter_names, input_names, observable_names : tuple of str
    t : sympy.Symbol
    y, p, u : tuple of sympy.Symbol
        State, parameter and input symbols (named as in the scheme).
    stoichiometry : sympy.Matrix, shape (n_states, n_reactions)
    fluxes : sympy.Matrix, shape (n_reactions, 1)
    rate_rule_terms : sympy.Matrix, shape (n_states, 1)
    rhs : sympy.Matrix, shape (n_states, 1)
    observables : dict of name -> sympy.Expr
        Observables written in ``t, y, p, u`` only.
    """

    def __init__(self, scheme: Scheme):
        self.key = scheme.structure_key()
        self.name = scheme.name
        self.state_names = scheme.species_names
        self.parameter_names = scheme.parameter_names
        self.input_names = scheme.input_names
        self.observable_names = scheme.observable_names
        self.t = TIME
        self.y = tuple(sympy.Symbol(n) for n in self.state_names)
        self.p = tuple(sympy.Symbol(n) for n in self.parameter_names)
        self.u = tuple(sympy.Symbol(n) for n in self.input_names)

        obs = {o.name: o.expr for o in scheme.observables}
        resolved: dict[sympy.Symbol, sympy.Expr] = {}

        def resolve(expr, where):
            # sympy evaluates on substitution and may refuse the result (min(k, sqrt(O)) with O = -1)
            try:
                return expr.xreplace(resolved)
            except (TypeError, ValueError, ArithmeticError) as exc:
                raise SchemeError(f"scheme `{scheme.name}`: {where} with the observables substituted is not a "
                                  f"valid expression: {exc}") from None

        for name in scheme.observable_order():
            resolved[sympy.Symbol(name)] = resolve(obs[name], f"observable `{name}`")
        self.observables = {name: resolved[sympy.Symbol(name)] for name in self.observable_names}

        index = {n: i for i, n in enumerate(self.state_names)}
        N = sympy.zeros(len(self.state_names), len(scheme.reactions))
        for j, r in enumerate(scheme.reactions):
            for n, c in r.reactants:
                N[index[n], j] -= c
            for n, c in r.products:
                N[index[n], j] += c
        self.stoichiometry = N
        self._raw_fluxes = [r.flux() for r in scheme.reactions]
        self._raw_rate_rules = {r.species: r.expr for r in scheme.rate_rules}
        self.fluxes = sympy.Matrix([resolve(r.flux(), f"the flux of reaction `{r}`") for r in scheme.reactions]) \
            if scheme.reactions else sympy.zeros(0, 1)
        rr = sympy.zeros(len(self.state_names), 1)
        for rule in scheme.rate_rules:
            rr[index[rule.species], 0] += resolve(rule.expr, f"the rate rule of `{rule.species}`")
        self.rate_rule_terms = rr
        self.rate_rule_states = tuple(r.species for r in scheme.rate_rules)
        self.rhs = (N * self.fluxes + rr) if scheme.reactions else rr

    @property
    def n_states(self) -> int:
        return len(self.state_names)

    @cached_property
    def rhs_with_observables(self) -> tuple:
        """``dy/dt`` per state with observables kept as symbols (for readable exported code).

        Same equations as :attr:`rhs` once the observables are substituted; exporters
        that define observables as local variables use this form.
        """
        N = self.stoichiometry
        out = []
        for i, name in enumerate(self.state_names):
            e = sum((N[i, j] * f for j, f in enumerate(self._raw_fluxes) if N[i, j] != 0), sympy.Integer(0))
            out.append(e + self._raw_rate_rules.get(name, 0))
        return tuple(out)

    @cached_property
    def jacobian(self) -> sympy.Matrix:
        """``d rhs / d y`` (n_states x n_states). Derivatives of step functions are taken as 0."""
        J = self.rhs.jacobian(sympy.Matrix(self.y))
        if J.has(sympy.DiracDelta):
            J = J.replace(lambda e: isinstance(e, sympy.DiracDelta), lambda e: sympy.S.Zero)
        return J

    @cached_property
    def sparsity(self) -> np.ndarray:
        """Boolean structure of the Jacobian (True where an entry is not identically zero)."""
        J = self.jacobian
        return np.array([[J[i, j] != 0 for j in range(J.cols)] for i in range(J.rows)], dtype=bool).reshape(J.shape)

    @cached_property
    def conservation_laws(self) -> sympy.Matrix:
        """Rows ``c`` with ``c . dy/dt == 0`` identically (integer coefficients), shape (n_laws, n_states).

        Computed from the left null space of the stoichiometry matrix, excluding
        species that have rate rules. Closed receptor schemes conserve their total
        occupancy: the row of ones over the receptor states.
        """
        n = self.n_states
        if self.stoichiometry.cols == 0:
            return sympy.zeros(0, n)
        rows = [self.stoichiometry.T]
        rr_index = [self.state_names.index(s) for s in self.rate_rule_states]
        if rr_index:
            E = sympy.zeros(len(rr_index), n)
            for k, i in enumerate(rr_index):
                E[k, i] = 1
            rows.append(E)
        M = sympy.Matrix.vstack(*rows)
        basis = M.nullspace()
        if not basis:
            return sympy.zeros(0, n)
        B = sympy.Matrix.hstack(*basis).T
        # reduced row echelon form gives a canonical, sparse basis; scale rows to integers
        B, _ = B.rref()
        out = []
        for i in range(B.rows):
            row = B.row(i)
            if all(x == 0 for x in row):
                continue
            den = sympy.ilcm(*[sympy.fraction(x)[1] for x in row if x != 0])
            row = row * den
            nz = [x for x in row if x != 0]
            if nz and nz[0] < 0:
                row = -row
            out.append(row)
        return sympy.Matrix.vstack(*out) if out else sympy.zeros(0, n)

    def conserved_totals(self, y0) -> np.ndarray:
        """Values of each conservation law for state vector ``y0``."""
        C = np.array(self.conservation_laws.tolist(), dtype=float).reshape(-1, self.n_states)
        return C @ np.asarray(y0, dtype=float)

    def describe(self) -> str:
        """The derived ODEs as text, one per state."""
        lines = [f"d{n}/dt = {expression_text(e)}" for n, e in zip(self.state_names, self.rhs)]
        lines += [f"{n} = {expression_text(e)}" for n, e in self.observables.items()]
        return "\n".join(lines)


_SYSTEMS = LRUCache("derived systems", maxsize=64)


def derive(scheme: Scheme) -> OdeSystem:
    """Derive (or fetch from the cache) the :class:`OdeSystem` of ``scheme``."""
    return _SYSTEMS.get_or_build(scheme.structure_key(), lambda: OdeSystem(scheme))
