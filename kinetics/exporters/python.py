"""Python export: a standalone module (numpy + scipy only) that reproduces the simulation.

The module defines the names (``STATES``, ``PARAMETERS``, ``INPUTS``,
``OBSERVABLES``), default values (parameters in the scheme's units, with their
declared values and sources in ``PARAMETER_SOURCES``), ``rhs(t, y, p, u)``,
``jacobian(t, y, p, u)``, ``observables(t, Y, p, U)`` (vectorised over time),
the compiled protocol (``BOUNDARIES``, input terms, jumps) with
``inputs(seg, t)``, and ``simulate(t_eval=None, params=None, y0=None,
method="LSODA", rtol=1e-8, atol=1e-10)`` which restarts scipy's ``solve_ivp`` at
every protocol breakpoint (the same semantics as :func:`kinetics.simulate`:
inputs right-continuous, jumps at segment starts). Run as a script it prints
``time``, the states and the observables as CSV::

    python model.py [--points N] [--t-end T] [--rtol R] [--atol A]

Identifiers that would shadow Python built-ins or the module's own names
(``min``, ``math``, ``rhs``...) are renamed with a trailing ``_``.

Examples
--------
>>> import kinetics as kx
>>> from kinetics.exporters import export
>>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 0.5, "1/ms")],
...               reactions=[kx.reaction("A ->", "k")])
>>> ns = {}
>>> exec(compile(export(s, "python", t_end=2.0), "decay.py", "exec"), ns)  # doctest: +SKIP
"""
from __future__ import annotations

import builtins
import keyword

import sympy
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import PythonCodePrinter

from ..escape import py_docstring, py_string
from ..odesystem import derive
from ._common import (GENERATED_BY, all_names, export_schedule, fmt_float, parameter_model_values, renaming_note,
                      safe_names)

FORMAT = "python"
SUFFIX = ".py"
DESCRIPTION = "standalone numpy/scipy module reproducing the simulation"

RESERVED = frozenset(keyword.kwlist) | frozenset(dir(builtins)) | frozenset("""
math numpy np scipy solve_ivp argparse sys t y p u dydt J Y U seg
STATES PARAMETERS INPUTS OBSERVABLES DEFAULT_PARAMETERS PARAMETER_SOURCES INITIAL_STATE INPUT_DEFAULTS T_END
BOUNDARIES CONST TERM_PTR TERM_INPUT TERM_DATA JUMP_PTR JUMP_TARGET JUMP_SET JUMP_VALUE
inputs rhs jacobian observables simulate main annotations
""".split())


class _NamesAndFloats:
    """Printer mixin: scheme symbols through ``names``; floats as the shortest exact text."""

    def __init__(self, names):
        super().__init__({"fully_qualified_modules": True})
        self._names = names

    def _print_Symbol(self, expr):
        return self._names.get(expr.name, expr.name)

    def _print_Float(self, expr):
        return fmt_float(float(expr))


class _Scalar(_NamesAndFloats, PythonCodePrinter):
    def _print_Heaviside(self, expr):
        x = self._print(expr.args[0])
        h0 = expr.args[1] if len(expr.args) > 1 else sympy.S.Half
        return f"(1.0 if ({x}) > 0 else (0.0 if ({x}) < 0 else {fmt_float(float(h0))}))"


class _Vector(_NamesAndFloats, NumPyPrinter):
    def _print_erf(self, expr):
        return f"scipy.special.erf({self._print(expr.args[0])})"

    def _print_erfc(self, expr):
        return f"scipy.special.erfc({self._print(expr.args[0])})"


def _list(values, fmt=fmt_float, per_line=6, indent="    "):
    items = [fmt(v) for v in values]
    if not items:
        return "[]"
    rows = [", ".join(items[k:k + per_line]) for k in range(0, len(items), per_line)]
    return "[\n" + ",\n".join(indent + r for r in rows) + ",\n]"


def export(scheme, *, protocol=None, t_end=None) -> str:
    """Source of a standalone Python module for the scheme (and protocol, on ``[0, t_end]``).

    ``t_end`` is also the default end of the script's run (100 time units without it).
    """
    if getattr(scheme, "events", ()):
        from ..errors import SchemeError

        raise SchemeError(f"scheme `{scheme.name}` has events, which the standalone Python export does not run yet "
                          "(its driver has no event handling); simulate it with kinetics.simulate")
    schedule = export_schedule(scheme, protocol, t_end)
    s = scheme
    system = derive(s)
    names = safe_names(all_names(s), RESERVED, "Python")
    sp = _Scalar(names)
    vp = _Vector(names)
    pvals = parameter_model_values(s)
    obs_expr = {o.name: o.expr for o in s.observables}
    obs_order = s.observable_order()

    def unpack(exprs, indent="    "):
        used = set()
        for e in exprs:
            used |= {x.name for x in sympy.sympify(e).free_symbols}
        for n in reversed(obs_order):
            if n in used:
                used |= {x.name for x in obs_expr[n].free_symbols}
        out = []
        for vec, group in (("y", s.species_names), ("p", s.parameter_names), ("u", s.input_names)):
            for i, n in enumerate(group):
                if n in used:
                    out.append(f"{indent}{names[n]} = {vec}[{i}]")
        for n in obs_order:
            if n in used:
                out.append(f"{indent}{names[n]} = {sp.doprint(obs_expr[n])}")
        return out

    def block(exprs, target, printer, indent="    "):
        temps, reduced = sympy.cse(list(exprs), symbols=sympy.numbered_symbols("_cse"), optimizations="basic")
        out = [f"{indent}{printer.doprint(a)} = {printer.doprint(b)}" for a, b in temps]
        return out, [printer.doprint(e) for e in reduced]

    rhs = list(system.rhs_with_observables)
    ns = len(s.species)
    jac = system.jacobian
    jac_items = [(i, j, jac[i, j]) for i in range(ns) for j in range(ns) if jac[i, j] != 0]

    # free text only inside string literals: the docstring through kinetics.escape.py_docstring, values py_string
    L = [f'"""{py_docstring(s.name)}: generated by {GENERATED_BY}; needs only numpy and scipy.', ""]
    if s.description:
        L.append(py_docstring(s.description))
    if s.reference:
        L.append("Reference: " + py_docstring(s.reference))
    L.append(f"Units: {py_docstring(s.units)}. Parameter values are in these units (declared values in "
             "PARAMETER_SOURCES).")
    L += [py_docstring(x) for x in renaming_note(names)]
    L += ["", "    python this_file.py [--points N] [--t-end T] [--rtol R] [--atol A]   # CSV on stdout", '"""',
          "import argparse", "import math", "import sys", "", "import numpy", "import scipy.special", "from scipy.integrate import solve_ivp",
          "", f"STATES = {tuple(s.species_names)!r}", f"PARAMETERS = {tuple(s.parameter_names)!r}",
          f"INPUTS = {tuple(s.input_names)!r}", f"OBSERVABLES = {tuple(s.observable_names)!r}",
          "DEFAULT_PARAMETERS = {" + ", ".join(f"{n!r}: {fmt_float(pvals[n])}" for n in s.parameter_names) + "}",
          "PARAMETER_SOURCES = {"]
    for par in s.parameters:
        L.append(f"    {py_string(par.name)}: ({fmt_float(par.value)}, {py_string(par.unit)}, "
                 f"{py_string(par.reference)}),")
    L += ["}",
          "INITIAL_STATE = {" + ", ".join(f"{x.name!r}: {fmt_float(x.initial)}" for x in s.species) + "}",
          "INPUT_DEFAULTS = {" + ", ".join(f"{u.name!r}: {fmt_float(u.default)}" for u in s.inputs) + "}",
          f"T_END = {fmt_float(t_end if t_end is not None else 100.0)}", ""]
    if schedule is not None:
        sc = schedule
        idx = {n: i for i, n in enumerate(s.species_names)}
        L += ["# protocol on [0, T_END]: segment boundaries; inside segment s input i is CONST[s][i] plus its terms",
              "# (p + q*(t - t_ref))*exp(-rate*(t - t_ref)) (TERM_DATA rows: t_ref, rate, p, q); jumps at segment starts",
              f"BOUNDARIES = {_list(sc.boundaries)}",
              "CONST = [" + ", ".join("[" + ", ".join(fmt_float(x) for x in row) + "]" for row in sc.const) + "]",
              f"TERM_PTR = {_list(sc.term_ptr, str, 16)}", f"TERM_INPUT = {_list(sc.term_input, str, 16)}",
              "TERM_DATA = [" + ", ".join("(" + ", ".join(fmt_float(x) for x in row) + ")" for row in sc.term_data)
              + "]",
              f"JUMP_PTR = {_list(sc.jump_ptr, str, 16)}",
              f"JUMP_TARGET = {_list([idx[x] for x in sc.jump_target], str, 16)}",
              f"JUMP_SET = {_list(sc.jump_kind, str, 16)}", f"JUMP_VALUE = {_list(sc.jump_value)}", ""]
    else:
        L += ["# no protocol: inputs at their defaults on [0, T_END]",
              "BOUNDARIES = [0.0, T_END]", f"CONST = [[{', '.join(fmt_float(u.default) for u in s.inputs)}]]",
              "TERM_PTR = [0, 0]", "TERM_INPUT = []", "TERM_DATA = []", "JUMP_PTR = [0, 0]", "JUMP_TARGET = []",
              "JUMP_SET = []", "JUMP_VALUE = []", ""]
    L += ["", "def inputs(seg, t):", '    """Input values at time t inside segment seg (a list in INPUTS order)."""',
          "    u = list(CONST[seg])", "    for k in range(TERM_PTR[seg], TERM_PTR[seg + 1]):",
          "        t_ref, rate, pp, qq = TERM_DATA[k]", "        dt = t - t_ref",
          "        u[TERM_INPUT[k]] += (pp + qq * dt) * math.exp(-rate * dt)", "    return u", "", "",
          "def rhs(t, y, p, u):", '    """d(states)/dt (a list) at time t, states y, parameters p, inputs u (sequences)."""']
    L += unpack(rhs)
    tmp, red = block(rhs, "dydt", sp)
    L += tmp
    L += ["    return [" + ", ".join(red) + "]", "", "",
          "def jacobian(t, y, p, u):", '    """d rhs_i / d y_j as an (n, n) numpy array."""']
    L += unpack([e for _, _, e in jac_items])
    L.append(f"    J = numpy.zeros(({ns}, {ns}))")
    tmp, red = block([e for _, _, e in jac_items], "J", sp)
    L += tmp
    L += [f"    J[{i}, {j}] = {r}" for (i, j, _), r in zip(jac_items, red)]
    L += ["    return J", "", "",
          "def observables(t, Y, p, U):",
          '    """Observables over time: Y (n_states, n_t), U (n_inputs, n_t) -> dict of arrays."""']
    used = set()
    for n in s.observable_names:
        used |= {x.name for x in obs_expr[n].free_symbols} | {n}
    for n in reversed(obs_order):
        if n in used:
            used |= {x.name for x in obs_expr[n].free_symbols}
    for vec, group in (("Y", s.species_names), ("p", s.parameter_names), ("U", s.input_names)):
        for i, n in enumerate(group):
            if n in used:
                L.append(f"    {names[n]} = {vec}[{i}]")
    for n in obs_order:
        L.append(f"    {names[n]} = {vp.doprint(obs_expr[n])}")
    L.append("    n_t = numpy.shape(t)")
    L.append("    return {" + ", ".join(f"{n!r}: numpy.broadcast_to({names[n]}, n_t).astype(float)"
                                        for n in s.observable_names) + "}")
    L += ["", "", _SIMULATE, ""]
    return "\n".join(L) + "\n"


_SIMULATE = r'''def simulate(t_eval=None, params=None, y0=None, method="LSODA", rtol=1e-8, atol=1e-10):
    """Simulate the protocol on [BOUNDARIES[0], T_END]; a dict: "time", each state, each observable, each input.

    params and y0 are dicts overriding DEFAULT_PARAMETERS (scheme units) and INITIAL_STATE. The solver restarts
    at every breakpoint; inputs are right-continuous and jumps act at segment starts (an output exactly at a
    breakpoint sees the new segment).
    """
    p = [dict(DEFAULT_PARAMETERS, **(params or {}))[n] for n in PARAMETERS]
    y = numpy.array([dict(INITIAL_STATE, **(y0 or {}))[n] for n in STATES], dtype=float)
    t_end = max(BOUNDARIES[-1], T_END)
    if t_eval is None:
        t_eval = numpy.linspace(BOUNDARIES[0], t_end, 1001)
    t_eval = numpy.asarray(t_eval, dtype=float)
    out = numpy.empty((t_eval.size, len(STATES)))
    U = numpy.empty((t_eval.size, max(len(INPUTS), 1)))
    n_seg = len(BOUNDARIES) - 1
    for seg in range(n_seg):
        for k in range(JUMP_PTR[seg], JUMP_PTR[seg + 1]):
            j = JUMP_TARGET[k]
            y[j] = JUMP_VALUE[k] if JUMP_SET[k] else y[j] + JUMP_VALUE[k]
        lo = BOUNDARIES[seg]
        hi = BOUNDARIES[seg + 1] if seg < n_seg - 1 else max(BOUNDARIES[seg + 1], t_eval[-1])
        last = seg == n_seg - 1
        i0 = numpy.searchsorted(t_eval, lo, side="left")
        i1 = numpy.searchsorted(t_eval, hi, side="right" if last else "left")
        if i0 >= t_eval.size:
            break  # every output time is already done
        evals = numpy.unique(numpy.concatenate([t_eval[i0:i1], [hi]]))
        sol = solve_ivp(lambda t, yy: rhs(t, yy, p, inputs(seg, t)), (lo, hi), y, method=method,
                        t_eval=evals, rtol=rtol, atol=atol,
                        jac=lambda t, yy: jacobian(t, yy, p, inputs(seg, t)))
        if sol.status != 0:
            raise RuntimeError(f"solve_ivp failed in segment {seg} [{lo}, {hi}]: {sol.message}")
        out[i0:i1] = sol.y[:, : i1 - i0].T
        for i in range(i0, i1):
            if INPUTS:
                U[i] = inputs(seg, t_eval[i])
        y = sol.y[:, -1].copy()
    result = {"time": t_eval}
    result.update({n: out[:, i] for i, n in enumerate(STATES)})
    result.update(observables(t_eval, out.T, p, U.T[: len(INPUTS)]))
    result.update({n: U[:, i] for i, n in enumerate(INPUTS)})
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1001)
    ap.add_argument("--t-end", type=float, default=T_END)
    ap.add_argument("--rtol", type=float, default=1e-8)
    ap.add_argument("--atol", type=float, default=1e-10)
    ap.add_argument("--method", default="LSODA")
    a = ap.parse_args(argv)
    res = simulate(numpy.linspace(BOUNDARIES[0], a.t_end, a.points), method=a.method, rtol=a.rtol, atol=a.atol)
    cols = ["time", *STATES, *OBSERVABLES]
    sys.stdout.write(",".join(cols) + "\n")
    for row in zip(*(res[c] for c in cols)):
        sys.stdout.write(",".join(repr(float(x)) for x in row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())'''
