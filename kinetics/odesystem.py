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

import threading
from functools import cached_property

import numpy as np
import sympy

from .cache import LRUCache
from .errors import SchemeError
from .scheme import TIME, Scheme, expression_text

__all__ = ["OdeSystem", "derive", "system_of"]


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

    #: Attributes computed by :meth:`_derive` on first use (the symbolic derivation).
    _DERIVED = frozenset({"observables", "stoichiometry", "fluxes", "rate_rule_terms", "rate_rule_states", "rhs",
                          "_raw_fluxes", "_raw_rate_rules", "_raw_observables"})

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
        # The equations are derived on first use (:meth:`_derive`): a compiled model found in the on-disk cache
        # by its structure key never needs them (see :mod:`kinetics.model`).
        self._scheme = scheme
        self._lock = threading.Lock()

    def __getattr__(self, name):
        # only called for attributes not set yet: the derived ones are computed once, on first access
        if name in OdeSystem._DERIVED:
            self._derive()
            return self.__dict__[name]
        raise AttributeError(f"'OdeSystem' object has no attribute '{name}'")

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def derived(self) -> bool:
        """True once the equations have been derived in this process."""
        return "rhs" in self.__dict__

    def _derive(self) -> None:
        """Derive the equations of the scheme (once; thread-safe). Raises SchemeError for an invalid one."""
        with self._lock:
            if "rhs" in self.__dict__:
                return
            self.__dict__.update(_derive_equations(self._scheme, self.y, self.state_names, self.observable_names))

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
    def event_roots(self) -> tuple:
        """The root functions of the scheme's event triggers: ``((g, strict), ...)``, one per distinct relation
        (``a > b`` is ``(a - b, True)``, ``a <= b`` is ``(b - a, False)``; the relation holds when ``g > 0``,
        or ``g >= 0`` when not strict), observables substituted (:func:`kinetics.events.trigger_atoms`)."""
        from .events import trigger_atoms

        atoms, _ = trigger_atoms(self._scheme)
        subs = {sympy.Symbol(n): e for n, e in self.observables.items()}
        return tuple((g.xreplace(subs), strict) for g, strict in atoms)

    @cached_property
    def jacobian(self) -> sympy.Matrix:
        """``d rhs / d y`` (n_states x n_states). Derivatives of step functions are taken as 0.

        Computed sparsely, ``J = N dv/dy + dr/dy``: each flux and rate-rule term is differentiated only with
        respect to the states it contains (the same entries as ``rhs.jacobian(y)``, at a fraction of the cost
        for large schemes)."""
        n = self.n_states
        index = {s: i for i, s in enumerate(self.y)}
        states = frozenset(self.y)
        terms: dict = {}
        columns: dict = {}
        for (i, j), c in sorted(self.stoichiometry.todok().items()):
            if c != 0:
                columns.setdefault(j, []).append((i, c))
        for j, flux in enumerate(self.fluxes):
            rows = columns.get(j)
            if not rows:
                continue
            for s in sorted(flux.free_symbols & states, key=index.get):
                d = flux.diff(s)
                for i, c in rows:
                    terms.setdefault((i, index[s]), []).append(c * d)
        for i, r in enumerate(self.rate_rule_terms):
            for s in sorted(r.free_symbols & states, key=index.get):
                terms.setdefault((i, index[s]), []).append(r.diff(s))
        J = sympy.zeros(n, n)
        for (i, k), parts in terms.items():
            J[i, k] = sympy.Add(*parts)
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


def _derive_equations(scheme: Scheme, y, state_names, observable_names) -> dict:
    """The symbolic derivation of :class:`OdeSystem`: observables resolved, stoichiometry, fluxes, rhs."""
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
    out = {"observables": {name: resolved[sympy.Symbol(name)] for name in observable_names},
           "_raw_observables": {name: obs[name] for name in scheme.observable_order()}}
    n = len(state_names)
    index = {nm: i for i, nm in enumerate(state_names)}
    N = sympy.zeros(n, len(scheme.reactions))
    net = []                                   # per reaction, {state index: net coefficient}
    for j, r in enumerate(scheme.reactions):
        col: dict = {}
        for nm, c in r.reactants:
            col[index[nm]] = col.get(index[nm], 0) - c
        for nm, c in r.products:
            col[index[nm]] = col.get(index[nm], 0) + c
        for i, c in col.items():
            N[i, j] = c
        net.append(col)
    raw = [r.flux() for r in scheme.reactions]
    fluxes = [resolve(f, f"the flux of reaction `{r}`") for f, r in zip(raw, scheme.reactions)]
    rr = sympy.zeros(n, 1)
    for rule in scheme.rate_rules:
        rr[index[rule.species], 0] += resolve(rule.expr, f"the rate rule of `{rule.species}`")
    # dy_i/dt = sum_j N_ij v_j + r_i over the non-zero N_ij only (a dense product of sympy matrices costs
    # O(n_states * n_reactions) symbolic operations)
    rows = [[] for _ in range(n)]
    for j, col in enumerate(net):
        for i, c in col.items():
            if c != 0:
                rows[i].append(c * fluxes[j])
    out.update(
        stoichiometry=N,
        _raw_fluxes=raw,
        _raw_rate_rules={r.species: r.expr for r in scheme.rate_rules},
        fluxes=sympy.Matrix(fluxes) if fluxes else sympy.zeros(0, 1),
        rate_rule_terms=rr,
        rate_rule_states=tuple(r.species for r in scheme.rate_rules),
        rhs=sympy.Matrix([sympy.Add(*rows[i], rr[i, 0]) for i in range(n)]),
    )
    return out


_SYSTEMS = LRUCache("derived systems", maxsize=64)


def system_of(scheme: Scheme) -> OdeSystem:
    """The cached :class:`OdeSystem` of ``scheme``'s structure, its equations not derived yet (cheap).

    Examples
    --------
    >>> from kinetics import Scheme, Species, Parameter, reaction
    >>> s = Scheme("lazy", species=[Species("X", 1.0), Species("Y", 0.0)],
    ...            parameters=[Parameter("k", 1.0, "1/ms")], reactions=[reaction("X -> Y", "k")])
    >>> sysm = system_of(s)
    >>> sysm.state_names, sysm.derived
    (('X', 'Y'), False)
    >>> sysm.rhs.T, sysm.derived
    (Matrix([[-X*k, X*k]]), True)
    """
    return _SYSTEMS.get_or_build(scheme.structure_key(), lambda: OdeSystem(scheme))


def derive(scheme: Scheme) -> OdeSystem:
    """Derive (or fetch from the cache) the :class:`OdeSystem` of ``scheme``."""
    system = system_of(scheme)
    system._derive()
    return system
