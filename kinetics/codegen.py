"""Compilation of derived equations: numpy functions (lambdify) and C source for the native solver.

Both are produced once per scheme structure by :class:`kinetics.model.CompiledModel`, which caches them
(:mod:`kinetics.cache`; the compiled shared library also on disk, see :mod:`kinetics.native`).

* :func:`numpy_functions` lambdifies the right-hand side, its Jacobian and the
  observables with common-subexpression elimination and *vector* arguments
  (``f(t, y, p, u)``), so there is no limit on the number of symbols.
* :func:`c_source` writes ``nk_rhs``, ``nk_jac`` and ``nk_obs`` (the observables) in C99 for the native
  integrator (:mod:`kinetics.native`).
* :func:`generator_identity` names the code generator (its version, its source files and sympy's version):
  with a scheme's structure key it identifies the generated code without generating it, so a compiled model is
  found in the on-disk cache before any symbolic work (:meth:`kinetics.model.CompiledModel.native_solver`).
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import sympy
from sympy.printing.c import C99CodePrinter

from .errors import ArgumentError
from .escape import c_comment
from .odesystem import OdeSystem

__all__ = ["NumpyFunctions", "numpy_functions", "c_source", "CPrinter", "c_statements", "c_rhs_jacobian",
           "CODEGEN_VERSION", "generator_identity", "c_rhs_structured",
           "sparse_lu_plan", "minimum_degree_order", "c_sparse_lu", "needed_observables"]

#: The constants of <math.h> that sympy's C99 printer writes (``log(2)`` -> ``M_LN2``): POSIX, not C99, so
#: ``-std=c99`` hides them; defined when missing.
_MATH_CONSTANT_VALUES = {
    "M_E": "2.71828182845904523536", "M_LOG2E": "1.44269504088896340736", "M_LOG10E": "0.434294481903251827651",
    "M_LN2": "0.693147180559945309417", "M_LN10": "2.30258509299404568402", "M_PI": "3.14159265358979323846",
    "M_PI_2": "1.57079632679489661923", "M_PI_4": "0.785398163397448309616", "M_1_PI": "0.318309886183790671538",
    "M_2_PI": "0.636619772367581343076", "M_2_SQRTPI": "1.12837916709551257390",
    "M_SQRT2": "1.41421356237309504880", "M_SQRT1_2": "0.707106781186547524401"}
MATH_CONSTANTS = "".join(f"#ifndef {name}\n#define {name} {value}\n#endif\n"
                         for name, value in _MATH_CONSTANT_VALUES.items())


#: Bumped by hand when the generated code changes in a way the source files below do not show.
CODEGEN_VERSION = 3

#: The modules whose code decides what C is generated from a scheme (hashed into :func:`generator_identity`).
_GENERATOR_FILES = ("scheme.py", "odesystem.py", "codegen.py", "escape.py", "events.py")


@lru_cache(maxsize=None)
def generator_identity(*extra_files: str) -> str:
    """SHA-256 naming the code generator: :data:`CODEGEN_VERSION`, sympy's version (its printers and
    simplifications shape the output) and the bytes of the modules that generate code (``kinetics/`` paths;
    ``extra_files`` adds others, e.g. ``"fitting/sensitivity.py"``). Computed once per process.

    Examples
    --------
    >>> len(generator_identity())
    64
    """
    h = hashlib.sha256(f"nmdakin-codegen/{CODEGEN_VERSION}\0sympy/{sympy.__version__}\0".encode())
    root = Path(__file__).resolve().parent
    for name in _GENERATOR_FILES + tuple(extra_files):
        h.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return h.hexdigest()


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
    # plain CSE: sympy's "basic" optimisations cost ~6x the time on large schemes for no measurable speed-up
    # of the compiled code (benchmarks/startup_benchmark.py)
    temps, reduced = sympy.cse(list(exprs), symbols=sympy.numbered_symbols("_x"))
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


def needed_observables(system: OdeSystem) -> set:
    """The names of the observables the fluxes and rate rules read, with those they read in turn (the ones a
    structured right-hand side computes; :func:`c_rhs_structured`, :mod:`kinetics.jit.pycode`)."""
    raw_obs = system._raw_observables
    need: set = set()
    todo = [sym.name for e in [*system._raw_fluxes, *system._raw_rate_rules.values()] for sym in e.free_symbols
            if sym.name in raw_obs]
    while todo:
        name = todo.pop()
        if name not in need:
            need.add(name)
            todo += [sym.name for sym in raw_obs[name].free_symbols if sym.name in raw_obs]
    return need


def c_rhs_structured(system: OdeSystem, names: dict, indent: str = "    ") -> str:
    """Body of ``nk_rhs`` written as the scheme is: the observables the fluxes need (in dependency order) and
    every flux as ``const double`` temporaries, then ``f[i] = sum_j N_ij v_j + r_i``.

    The same equations as :attr:`OdeSystem.rhs` (where the observables are substituted) without a common
    subexpression search over it: an observable used by many reactions is computed once by construction, and
    generating the code takes a fraction of the time for large schemes.

    Examples
    --------
    >>> import kinetics as kx
    >>> s = kx.Scheme("bind", species=[kx.Species("R", 1.0), kx.Species("AR", 0.0)],
    ...               parameters=[kx.Parameter("k", 1.0, "1/ms")], inputs=[kx.Input("L", 0.0)],
    ...               reactions=[kx.reaction("R -> AR", "k*occ")], observables=[kx.Observable("occ", "L/(1 + L)")])
    >>> print(c_rhs_structured(kx.derive(s), {"R": "y[0]", "AR": "y[1]", "k": "p[0]", "L": "u[0]"}))
        const double _o0 = u[0]/(u[0] + 1);
        const double _v0 = y[0]*p[0]*_o0;
        f[0] = -_v0;
        f[1] = _v0;
    """
    raw_obs = system._raw_observables
    fluxes = list(system._raw_fluxes)
    rules = system._raw_rate_rules
    local = dict(names)
    obs_names = {name: f"_o{k}" for k, name in enumerate(raw_obs)}
    local.update(obs_names)
    printer = CPrinter(local)
    need = needed_observables(system)
    lines = [f"{indent}const double {obs_names[name]} = {printer.doprint(expr)};"
             for name, expr in raw_obs.items() if name in need]
    lines += [f"{indent}const double _v{j} = {printer.doprint(v)};" for j, v in enumerate(fluxes)]
    rows: dict = {}
    for (i, j), c in sorted(system.stoichiometry.todok().items()):
        if c != 0:
            rows.setdefault(i, []).append(c * sympy.Symbol(f"_v{j}"))
    for i, name in enumerate(system.state_names):
        terms = rows.get(i, [])
        if name in rules:
            terms.append(rules[name])
        lines.append(f"{indent}f[{i}] = {printer.doprint(sympy.Add(*terms))};")
    return "\n".join(lines)


def c_observables(system: OdeSystem, names: dict) -> tuple:
    """``(n_obs, body)`` of ``nk_obs`` (every ``o[k]``); ``n_obs = -1`` (and no body) when an observable cannot be
    written in C (then its values come from :func:`numpy_functions`)."""
    exprs = list(system.observables.values())
    if not exprs:
        return 0, ""
    try:
        return len(exprs), "\n".join(c_statements(exprs, [f"o[{k}]" for k in range(len(exprs))], names))
    except (TypeError, ValueError, NotImplementedError, ArgumentError):
        return -1, ""


#: Largest straight-line sparse factorisation generated (update operations + factor entries); above it, the
#: integrator's dense LU.
SPARSE_LU_MAX_OPS = 200_000
#: Largest multiplier the sparse factorisation accepts (it does not pivot); beyond it, the step uses the dense LU
#: with partial pivoting instead.
SPARSE_LU_GROWTH = 1e8


def minimum_degree_order(n: int, pattern) -> list:
    """A fill-reducing elimination order of ``n`` unknowns: minimum degree on the symmetrised ``pattern``
    (``(row, column)`` pairs), ties broken by the lowest index.

    >>> minimum_degree_order(4, [(0, 1), (0, 2), (0, 3)])      # an arrow: the hub last, no fill
    [1, 2, 0, 3]
    """
    adj = [set() for _ in range(n)]
    for i, j in pattern:
        if i != j:
            adj[i].add(j)
            adj[j].add(i)
    alive, order = set(range(n)), []
    while alive:
        k = min(alive, key=lambda v: (len(adj[v]), v))
        order.append(k)
        alive.remove(k)
        for a in adj[k]:
            adj[a] |= adj[k]
            adj[a].discard(a)
            adj[a].discard(k)
        adj[k] = set()
    return order


def sparse_lu_plan(n: int, pattern):
    """The symbolic LU factorisation of ``W = I/(gamma h) - J`` for a Jacobian with non-zero ``pattern``: the
    elimination ``order`` (:func:`minimum_degree_order`; no pivoting), and per pivot ``k`` the rows below it
    (``lower[k]``) and the columns right of it (``upper[k]``), fill included. ``None`` when a dense LU is as
    cheap (small or dense matrices) or the straight-line code would exceed :data:`SPARSE_LU_MAX_OPS`.

    >>> plan = sparse_lu_plan(6, [(i, i + 1) for i in range(5)] + [(i + 1, i) for i in range(5)])
    >>> plan["order"], plan["ops"]                              # a tridiagonal chain: no fill
    ([0, 1, 2, 3, 4, 5], 10)
    """
    if n < 4:
        return None
    rows = [{i} for i in range(n)]
    for i, j in pattern:
        rows[i].add(j)
    cols = [set() for _ in range(n)]
    for i in range(n):
        for j in rows[i]:
            cols[j].add(i)
    order = minimum_degree_order(n, pattern)
    done, lower, upper, ops = set(), {}, {}, 0
    for k in order:
        done.add(k)
        lo = sorted(i for i in cols[k] if i not in done)
        up = sorted(j for j in rows[k] if j not in done)
        for i in lo:
            for j in up:
                if j not in rows[i]:
                    rows[i].add(j)
                    cols[j].add(i)
        lower[k], upper[k] = lo, up
        ops += len(lo) * (1 + len(up))
        if ops > SPARSE_LU_MAX_OPS:
            return None
    nnz = sum(len(r) for r in rows)
    if nnz > 0.7 * n * n:
        return None
    index = sorted(i * n + j for i in range(n) for j in rows[i])
    return {"order": order, "lower": lower, "upper": upper, "ops": ops, "index": index}


def c_sparse_lu(n: int, plan) -> str:
    """C of the straight-line sparse factorisation (``nk_sp_lu``, in place on the row-major matrix, 1 when a pivot
    is zero, not finite, or a multiplier exceeds :data:`SPARSE_LU_GROWTH`) and solve (``nk_sp_solve``) of a
    :func:`sparse_lu_plan`, with ``nk_sp_index`` (the factors' entries) for the integrator."""
    order, lower, upper = plan["order"], plan["lower"], plan["upper"]
    index = plan["index"]
    lu = ["    double d;"]
    for k in order:
        kk = k * n + k
        lu.append(f"    d = A[{kk}]; if (!(fabs(d) > 0.0) || !isfinite(d)) return 1; d = 1.0 / d;")
        for i in lower[k]:
            ik = i * n + k
            lu.append(f"    A[{ik}] *= d; if (!(fabs(A[{ik}]) <= {SPARSE_LU_GROWTH!r})) return 1;")
            lu += [f"    A[{i * n + j}] -= A[{ik}] * A[{k * n + j}];" for j in upper[k]]
    lu.append("    return 0;")
    solve = []
    for k in order:
        solve += [f"    b[{i}] -= LU[{i * n + k}] * b[{k}];" for i in lower[k]]
    for k in reversed(order):
        terms = "".join(f" - LU[{k * n + j}] * b[{j}]" for j in upper[k])
        solve.append(f"    b[{k}] = (b[{k}]{terms}) / LU[{k * n + k}];")
    rows = ",".join(str(i) for i in index)
    return (f"#define NK_SPARSE 1\n#define NK_SP_NNZ {len(index)}\n"
            f"static const int nk_sp_index[NK_SP_NNZ] = {{{rows}}};\n"
            "static int nk_sp_lu(double *A)\n{\n" + "\n".join(lu) + "\n}\n"
            "static void nk_sp_solve(const double *LU, double *b)\n{\n" + "\n".join(solve) + "\n}\n")


def c_source(system: OdeSystem) -> str:
    """C99 source of ``nk_rhs`` / ``nk_jac`` / ``nk_obs`` for ``system`` (to be prepended to the integrator)."""
    names = {s.name: f"y[{i}]" for i, s in enumerate(system.y)}
    names.update({s.name: f"p[{i}]" for i, s in enumerate(system.p)})
    names.update({s.name: f"u[{i}]" for i, s in enumerate(system.u)})
    n = system.n_states
    rhs_body = c_rhs_structured(system, names)
    jac = list(system.jacobian)
    jac_body = "\n".join(c_statements(jac, [f"J[{k}]" if e != 0 else None for k, e in enumerate(jac)], names))
    plan = sparse_lu_plan(n, [divmod(k, n) for k, e in enumerate(jac) if e != 0])
    # with the sparse factorisation the integrator zeroes J once and nk_jac writes only its non-zero entries
    sparse = "" if plan is None else c_sparse_lu(n, plan)
    zero_jac = "" if plan is not None else f"\n    memset(J, 0, sizeof(double) * {n * n});"
    n_obs, obs_body = c_observables(system, names)
    roots = system.event_roots if getattr(system._scheme, "events", ()) else ()
    root_block = ""
    if roots:
        root_body = "\n".join(c_statements([g for g, _ in roots], [f"g[{k}]" for k in range(len(roots))], names))
        strict = ", ".join("1" if st else "0" for _, st in roots)
        root_block = f"""#define NK_NROOT {len(roots)}
static const int nk_root_strict[{len(roots)}] = {{{strict}}};
static void nk_roots(double t, const double *y, const double *p, const double *u, double *g)
{{
    (void)t; (void)y; (void)p; (void)u;
{root_body}
}}
"""
    obs = "" if n_obs <= 0 else f"""static void nk_obs(double t, const double *y, const double *p, const double *u,
                   double *o)
{{
    (void)t; (void)y; (void)p; (void)u; (void)o;
{obs_body}
}}
"""
    return f"""/* generated by nmdakin from scheme `{c_comment(system.name)}` (structure {system.key[:16]}) */
#include <math.h>
#include <string.h>
{MATH_CONSTANTS}#define NK_NSTATE {n}
#define NK_NPARAM {len(system.p)}
#define NK_NINPUT {len(system.u)}
#define NK_NOBS {n_obs}
#define NK_AUTONOMOUS {0 if system.rhs.has(system.t) else 1}
static void nk_rhs(double t, const double *y, const double *p, const double *u, double *f)
{{
    (void)t; (void)y; (void)p; (void)u;
{rhs_body}
}}
static void nk_jac(double t, const double *y, const double *p, const double *u, double *J)
{{
    (void)t; (void)y; (void)p; (void)u;{zero_jac}
{jac_body}
}}
{sparse}{obs}{root_block}"""
