"""Python source of a model's right-hand side, Jacobian and observables, compiled with numba.

The same equations as the C of :mod:`kinetics.codegen` (the structured right-hand side: observables and fluxes
computed once, then ``f[i] = sum_j N_ij v_j + r_i``; the Jacobian's non-zero entries after common subexpression
elimination; the observables), written by :class:`PyPrinter` as plain Python on float64 arrays
(``f(t, y, p, u, out)``, the arrays passed as pointers to their first elements) with :mod:`math` functions, then
``exec``'d and compiled by ``numba.njit`` against the integrator's function signature
(:mod:`kinetics.jit.integrator`).

The generated text holds nothing a user wrote: every symbol is printed through a map to ``y[i]``, ``p[i]``,
``u[i]``, ``t`` or a generated temporary (``_x<k>``, ``_o<k>``, ``_v<k>``), numbers as Python literals of finite
floats or integers, functions only from the printer's fixed table (sympy's strict Python printer raises on
anything else), so the ``exec`` runs only code of the package's own making.

Examples
--------
>>> import kinetics as kx
>>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 1.0, "1/ms")],
...               reactions=[kx.reaction("A ->", "k")])
>>> print(model_source(kx.derive(s)).rhs, end="")
def rhs(t, y, p, u, f):
    _v0 = y[0]*p[0]
    f[0] = -_v0
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import sympy
from sympy.printing.pycode import PythonCodePrinter

from ..codegen import needed_observables
from ..errors import ArgumentError, CompilerError

__all__ = ["PyPrinter", "ModelSource", "model_source", "block_source", "module_text", "compile_module"]

_TEMP = re.compile(r"_[xov][0-9]+")


class PyPrinter(PythonCodePrinter):
    """Python printer for derived equations, for numba.

    ``names`` maps scheme symbols to Python expressions (``{"C0": "y[0]"}``); a symbol that is neither there nor a
    generated temporary is an error. Floats are written as the shortest text that reads back as the same double;
    ``Heaviside`` and small integer powers get the same exact forms as :class:`kinetics.codegen.CPrinter`.
    """

    def __init__(self, names: dict):
        super().__init__({"strict": True, "fully_qualified_modules": True, "standard": "python3"})
        self.names = dict(names)

    def _print_Symbol(self, expr):
        name = self.names.get(expr.name)
        if name is not None:
            return name
        if _TEMP.fullmatch(expr.name):
            return expr.name
        raise ArgumentError(f"symbol `{expr.name}` has no place in the generated code")

    def _print_Float(self, expr):
        x = float(expr)
        if not math.isfinite(x):
            raise ArgumentError(f"cannot write the non-finite number {x} in generated code")
        return repr(x)

    def _print_Integer(self, expr):
        return str(int(expr))

    def _print_Rational(self, expr):
        return f"({int(expr.p)}/{int(expr.q)})"

    def _print_Heaviside(self, expr):
        x = self._print(expr.args[0])
        h0 = expr.args[1] if len(expr.args) > 1 else sympy.Rational(1, 2)
        return f"(1.0 if ({x}) > 0 else (0.0 if ({x}) < 0 else {repr(float(h0))}))"

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.args
        if exp.is_Integer and 1 < abs(int(exp)) <= 4:
            b = self._print(base)
            prod = "*".join([f"({b})"] * abs(int(exp)))
            return f"({prod})" if exp > 0 else f"(1.0/({prod}))"
        if exp == sympy.S.Half:
            return f"math.sqrt({self._print(base)})"
        if exp == -sympy.S.Half:
            return f"(1.0/math.sqrt({self._print(base)}))"
        if exp == -1:
            return f"(1.0/({self._print(base)}))"
        return f"(({self._print(base)})**({self._print(exp)}))"


def _statements(exprs, targets, printer: PyPrinter, indent: str = "    ") -> list:
    """Python statements assigning ``exprs`` to ``targets`` (``None`` skips one), with common subexpressions in
    ``_x<k>`` temporaries (as :func:`kinetics.codegen.c_statements`)."""
    temps, reduced = sympy.cse(list(exprs), symbols=sympy.numbered_symbols("_x"))
    lines = [f"{indent}{printer.doprint(s)} = {printer.doprint(e)}" for s, e in temps]
    lines += [f"{indent}{tgt} = {printer.doprint(e)}" for tgt, e in zip(targets, reduced) if tgt is not None]
    return lines


def _names(system, extra: dict | None = None) -> dict:
    names = {s.name: f"y[{i}]" for i, s in enumerate(system.y)}
    names.update({s.name: f"p[{i}]" for i, s in enumerate(system.p)})
    names.update({s.name: f"u[{i}]" for i, s in enumerate(system.u)})
    names.update(extra or {})
    names[system.t.name] = "t"
    return names


def _structured_rhs(system, names: dict) -> list:
    """Body of ``rhs`` written as the scheme is (:func:`kinetics.codegen.c_rhs_structured`)."""
    raw_obs = system._raw_observables
    fluxes = list(system._raw_fluxes)
    rules = system._raw_rate_rules
    local = dict(names)
    obs_names = {name: f"_o{k}" for k, name in enumerate(raw_obs)}
    local.update(obs_names)
    printer = PyPrinter(local)
    need = needed_observables(system)
    lines = [f"    {obs_names[name]} = {printer.doprint(expr)}" for name, expr in raw_obs.items() if name in need]
    lines += [f"    _v{j} = {printer.doprint(v)}" for j, v in enumerate(fluxes)]
    rows: dict = {}
    for (i, j), c in sorted(system.stoichiometry.todok().items()):
        if c != 0:
            rows.setdefault(i, []).append(c * sympy.Symbol(f"_v{j}"))
    for i, name in enumerate(system.state_names):
        terms = rows.get(i, [])
        if name in rules:
            terms.append(rules[name])
        lines.append(f"    f[{i}] = {printer.doprint(sympy.Add(*terms))}")
    return lines


@dataclass(frozen=True)
class ModelSource:
    """The generated functions' source: ``rhs``, ``jac`` and ``obs`` (``None`` when an observable cannot be
    written; then ``n_obs`` is -1), and the sizes the integrator needs."""

    rhs: str
    jac: str
    obs: str | None
    n_state: int
    n_param: int
    n_input: int
    n_obs: int
    autonomous: bool
    nblock: int


def _function(name: str, out: str, body: list) -> str:
    return "\n".join([f"def {name}(t, y, p, u, {out}):", *(body or ["    pass"])]) + "\n"


def model_source(system) -> ModelSource:
    """The Python source of one :class:`~kinetics.odesystem.OdeSystem` (the plain model)."""
    names = _names(system)
    n = system.n_states
    rhs = _function("rhs", "f", _structured_rhs(system, names))
    jac_exprs = list(system.jacobian)
    targets = [f"J[{k}]" if e != 0 else None for k, e in enumerate(jac_exprs)]
    jac_body = [f"    for _i in range({n * n}):", "        J[_i] = 0.0"] + _statements(jac_exprs, targets,
                                                                                         PyPrinter(names))
    jac = _function("jac", "J", jac_body)
    exprs = list(system.observables.values())
    obs, n_obs = _function("obs", "o", []), 0
    if exprs:
        try:
            obs = _function("obs", "o", _statements(exprs, [f"o[{k}]" for k in range(len(exprs))], PyPrinter(names)))
            n_obs = len(exprs)
        except (TypeError, ValueError, NotImplementedError, ArgumentError):
            obs, n_obs = None, -1
    return ModelSource(rhs=rhs, jac=jac, obs=obs, n_state=n, n_param=len(system.p), n_input=len(system.u),
                       n_obs=n_obs, autonomous=not system.rhs.has(system.t), nblock=n)


def block_source(system, rhs_exprs, first_column, extra_names: dict, n_param: int, nblock: int,
                 autonomous: bool) -> ModelSource:
    """The Python source of an augmented (sensitivity) system: ``rhs_exprs`` (n_aug) and the Jacobian's first
    block column ``first_column`` (n_aug x n_aug, zero outside the first ``nblock`` columns), with the extra
    symbols of the augmented system in ``extra_names``."""
    names = _names(system, extra_names)
    printer = PyPrinter(names)
    rhs_exprs = list(rhs_exprs)
    na = len(rhs_exprs)
    rhs = _function("rhs", "f", _statements(rhs_exprs, [f"f[{i}]" for i in range(na)], printer))
    jac_exprs = list(first_column)
    zero = [f"    for _r in range({na}):", f"        for _c in range({nblock}):",
            f"            J[_r * {na} + _c] = 0.0"]
    jac = _function("jac", "J", zero + _statements(jac_exprs, [f"J[{k}]" if e != 0 else None
                                                               for k, e in enumerate(jac_exprs)], printer))
    return ModelSource(rhs=rhs, jac=jac, obs=None, n_state=na, n_param=n_param, n_input=len(system.u), n_obs=-1,
                       autonomous=autonomous, nblock=nblock)


#: The metadata constants of a generated module (:func:`module_text`), with the ModelSource fields they hold.
_META = (("N_STATE", "n_state"), ("N_PARAM", "n_param"), ("N_INPUT", "n_input"), ("N_OBS", "n_obs"),
         ("AUTONOMOUS", "autonomous"), ("NBLOCK", "nblock"))


def module_text(source: ModelSource) -> str:
    """One Python module holding the sizes (``N_STATE``... as integer literals) and the functions ``rhs``,
    ``jac`` and, if written, ``obs``."""
    meta = "".join(f"{const} = {int(getattr(source, field))}\n" for const, field in _META)
    funcs = [source.rhs, source.jac] + ([source.obs] if source.obs else [])
    return "import math\n\n" + meta + "\n\n" + "\n\n".join(funcs)


def compile_module(text: str, filename: str, folder=None, label: str = "model") -> tuple:
    """``(functions, meta)``: the functions of a module made by :func:`module_text` compiled by numba
    (``{"rhs", "jac", "obs"}``, ``obs`` None without observables written in Python) and its sizes
    (``{"n_state", ...}``). ``filename`` names the code (a real file for numba's cache in ``folder``, see
    :func:`kinetics.jit.diskcache.compiled`; ``folder=None``: no cache). Raises :class:`CompilerError` if numba
    cannot compile a function."""
    from .diskcache import compiled
    from .integrator import FUNC_SIG

    import hashlib
    import sys
    import types

    # a registered module: numba's cache finds the functions' globals again by the module's name
    name = "_nmdakin_jit_" + hashlib.sha256(text.encode()).hexdigest()[:32]
    module = sys.modules.get(name)
    if module is None:
        module = types.ModuleType(name)
        module.__file__ = filename
        exec(compile(text, filename, "exec"), module.__dict__)  # noqa: S102 - the package's own generated code
        sys.modules[name] = module
    namespace = module.__dict__
    meta = {field: int(namespace[const]) for const, field in _META}
    out = {"obs": None}
    for name in ("rhs", "jac", "obs"):
        if name not in namespace:
            continue
        try:
            out[name] = compiled(namespace[name], FUNC_SIG, folder)
        except Exception as exc:    # numba's typing and lowering errors have no common public base class
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CompilerError(f"numba could not compile the {name} of {label}: {first}") from exc
    return out, meta
