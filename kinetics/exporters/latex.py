"""LaTeX export: the reaction scheme, the derived ODEs, observables, inputs and a parameter table.

A standalone document (``standalone=True``) or a fragment to ``\\input`` into a
paper whose preamble loads ``amsmath``, ``amssymb`` (``\\varnothing``),
``mathtools``, ``booktabs`` and ``longtable``. Rate constants label the
arrows (``\\xrightleftharpoons``); the ODEs are ``N v + r`` with observables kept
as named quantities; the parameter table gives each parameter's symbol, its
declared value and unit, the value the equations use (in the scheme's units) and
its source. :func:`equations` returns the equations as ``(lhs, rhs)`` LaTeX pairs
for display elsewhere (``IPython.display.Math``, matplotlib).

Step functions are written ``H(x)`` (``H(0) = 1``; ``H_{h}(x)`` when ``H(0) = h``).
Names are typeset as sympy does (``C0`` -> ``C_{0}``, ``alpha`` -> ``\\alpha``),
with multi-letter names upright (``\\mathrm{glu}``); pass ``symbols=`` to choose
other LaTeX for some names.

Examples
--------
>>> import kinetics as kx
>>> s = kx.Scheme("AB", species=[kx.Species("A", 1.0), kx.Species("B")],
...               parameters=[kx.Parameter("k", 0.5, "1/ms")], reactions=[kx.reaction("A -> B", "k")])
>>> equations(s)[0]
('\\\\frac{\\\\mathrm{d}A}{\\\\mathrm{d}t}', '- A k')
"""
from __future__ import annotations

import re

import sympy
from sympy.printing.conventions import split_super_sub
from sympy.printing.latex import LatexPrinter

from ..errors import ArgumentError
from ..escape import latex_comment, latex_text
from ..odesystem import derive
from ..units import parse_unit
from ._common import GENERATED_BY, fmt_float, model_unit, parameter_model_values

FORMAT = "latex"
SUFFIX = ".tex"
DESCRIPTION = "LaTeX: reaction scheme, ODEs, observables and a parameter table with units and sources"

_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu",
          "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega", "Gamma", "Delta",
          "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"}


def escape(text: str) -> str:
    """Text with LaTeX's special characters escaped (:func:`kinetics.escape.latex_text`)."""
    return latex_text(text)


def name_latex(name: str) -> str:
    """LaTeX of a component name: ``C0`` -> ``C_{0}``, ``glu`` -> ``\\mathrm{glu}``, ``tau_m`` -> ``\\tau_{m}``."""
    root, sup, sub = split_super_sub(name)

    def part(x):
        if x in _GREEK:
            return "\\" + x
        if len(x) > 1 and not x.isdigit():
            return r"\mathrm{" + escape(x) + "}"
        return escape(x)

    out = part(root)
    if sub:
        out += "_{" + ",".join(part(x) for x in sub) + "}"
    if sup:
        out += "^{" + ",".join(part(x) for x in sup) + "}"
    return out


def unit_latex(text) -> str:
    """LaTeX of a unit: ``1/(uM*s)`` -> ``\\mathrm{\\mu M^{-1}\\,s^{-1}}``; dimensionless -> ``1``."""
    if text is None:
        return ""
    powers = parse_unit(text).powers
    if not powers:
        return "1"
    parts = []
    for tok, e in sorted(powers, key=lambda kv: -kv[1]):
        t = tok.replace("Ohm", r"\Omega")
        if t.startswith("u") and len(t) > 1:
            t = r"\mu " + t[1:]
        t = t.replace("%", r"\%")
        parts.append(t + (f"^{{{e}}}" if e != 1 else ""))
    return r"\mathrm{" + r"\,".join(parts) + "}"


def _names(scheme, symbols):
    if symbols is not None and not isinstance(symbols, dict):
        raise ArgumentError(f"`symbols` must map names to LaTeX, got {type(symbols).__name__}")
    out = {}
    for n in (list(scheme.species_names) + list(scheme.parameter_names) + list(scheme.input_names)
              + list(scheme.observable_names)):
        out[sympy.Symbol(n)] = (symbols or {}).get(n) or name_latex(n)
    return out


class _Printer(LatexPrinter):
    """sympy's LaTeX, with the step function written H(x) (H(0) given when it is not 1)."""

    def _print_Heaviside(self, expr, exp=None):
        x = self._print(expr.args[0])
        h0 = expr.args[1] if len(expr.args) > 1 else sympy.S.Half
        text = rf"\mathrm{{H}}\left({x}\right)" if h0 == 1 else rf"\mathrm{{H}}_{{{self._print(h0)}}}\left({x}\right)"
        return f"{text}^{{{exp}}}" if exp else text


def _latex(expr, names) -> str:
    return _Printer({"symbol_names": names, "mul_symbol": None}).doprint(sympy.sympify(expr))


def equations(scheme, symbols=None) -> list:
    """The ODEs then the observables as ``(lhs, rhs)`` LaTeX strings (ODE right-hand sides use observables by name)."""
    names = _names(scheme, symbols)
    system = derive(scheme)
    N = system.stoichiometry
    fluxes = [r.flux() for r in scheme.reactions]
    rr = {r.species: r.expr for r in scheme.rate_rules}
    out = []
    for i, n in enumerate(scheme.species_names):
        e = sum((N[i, j] * fluxes[j] for j in range(len(fluxes)) if N[i, j] != 0), sympy.Integer(0)) + rr.get(n, 0)
        out.append((r"\frac{\mathrm{d}" + names[sympy.Symbol(n)] + r"}{\mathrm{d}t}", _latex(e, names)))
    for n in scheme.observable_order():
        out.append((names[sympy.Symbol(n)], _latex(scheme.get_observable(n).expr, names)))
    return out


def _reaction_line(r, names) -> str:
    def side(pairs):
        if not pairs:
            return r"\varnothing"
        return " + ".join((f"{c}\\," if c != 1 else "") + names[sympy.Symbol(x)] for x, c in pairs)

    lhs, rhs = side(r.reactants), side(r.products)
    if r.rate is not None:
        return f"{lhs} &\\longrightarrow {rhs} && v = {_latex(r.rate, names)}"
    kf = _latex(r.forward, names)
    if r.reverse is not None:
        return f"{lhs} &\\xrightleftharpoons[{_latex(r.reverse, names)}]{{{kf}}} {rhs}"
    return f"{lhs} &\\xrightarrow{{{kf}}} {rhs}"


def export(scheme, *, standalone: bool = True, symbols: dict | None = None) -> str:
    """LaTeX text of the scheme's equations and parameter table.

    Parameters
    ----------
    standalone : bool
        A complete document (default) or a fragment to ``\\input``.
    symbols : dict, optional
        LaTeX for some names, e.g. ``{"Rb": "R_b"}``.
    """
    s = scheme
    names = _names(s, symbols)
    units = s.units
    pvals = parameter_model_values(s)
    # free text only as escaped text (kinetics.escape.latex_text) or inside a one-line % comment
    L = [f"% nmdakin export of scheme `{latex_comment(s.name)}` (LaTeX)", f"% generated by {GENERATED_BY}"]
    if standalone:
        L += [r"\documentclass[11pt]{article}", r"\usepackage[margin=2cm]{geometry}", r"\usepackage{amsmath}",
              r"\usepackage{amssymb}", r"\usepackage{mathtools}", r"\usepackage{booktabs}", r"\usepackage{longtable}",
              r"\allowdisplaybreaks", r"\begin{document}", rf"\section*{{{escape(s.name)}}}"]
    else:
        L.append(rf"\subsection*{{{escape(s.name)}}}")
    if s.description:
        L.append(escape(s.description) + r"\par")
    if s.reference:
        L.append(r"Reference: " + escape(s.reference) + r"\par")
    L.append(r"Units: " + ", ".join(f"{k} {escape(v)}" for k, v in units.as_dict().items()
                                   if k in ("time", "concentration", "voltage", "current", "conductance"))
             + r". Mass action: the flux of $a\,A + b\,B \to \dots$ is $k\,A^a B^b$; statistical factors are "
               r"written explicitly.\par")
    if s.reactions:
        L += [r"\paragraph{Reaction scheme}", r"\begin{align*}"]
        L.append(" \\\\\n".join(_reaction_line(r, names) for r in s.reactions))
        L.append(r"\end{align*}")
    eqs = equations(s, symbols)
    n_ode = len(s.species)
    L += [r"\paragraph{Differential equations}", r"\begin{align*}"]
    L.append(" \\\\\n".join(f"{a} &= {b}" for a, b in eqs[:n_ode]))
    L.append(r"\end{align*}")
    if s.observables:
        L += [r"\paragraph{Observables}", r"\begin{align*}"]
        L.append(" \\\\\n".join(f"{a} &= {b}" for a, b in eqs[n_ode:]))
        L.append(r"\end{align*}")
    if s.inputs:
        L += [r"\paragraph{Inputs} (set by the stimulation protocol; default values)", r"\begin{itemize}"]
        for u in s.inputs:
            unit = _with_unit(model_unit(u.unit, units)) if u.unit else ""
            note = f" --- {escape(u.note)}" if u.note else ""
            L.append(rf"\item ${names[sympy.Symbol(u.name)]} = {fmt_float(u.default)}{unit}${note}")
        L.append(r"\end{itemize}")
    if s.events:
        L += [r"\paragraph{Events} (when a trigger turns from false to true, its assignments are applied; SBML "
              r"semantics)", r"\begin{itemize}"]
        for ev in s.events:
            assigns = ",\\; ".join(f"{names.get(sympy.Symbol(k), name_latex(k))} \\leftarrow {_latex(v, names)}"
                                   for k, v in ev.assignments)
            extras = [f"delay ${_latex(ev.delay, names)}$" if ev.delay is not None else "",
                      f"priority ${_latex(ev.priority, names)}$" if ev.priority is not None else "",
                      "" if ev.persistent else "not persistent", "" if ev.initial_value else "initially false",
                      "" if ev.use_values_from_trigger_time else "values at firing"]
            extra = "; ".join(x for x in extras if x)
            L.append(rf"\item \textbf{{{escape(ev.name)}}}: when ${_latex(ev.trigger, names)}$: ${assigns}$"
                     + (f" ({extra})" if extra else ""))
        L.append(r"\end{itemize}")
    L += [r"\paragraph{Initial values} $" + ",\\; ".join(f"{names[sympy.Symbol(x.name)]}(0) = {fmt_float(x.initial)}"
                                                        for x in s.species) + "$"]
    if s.parameters:
        L += [r"\paragraph{Parameters}", r"\begin{longtable}{lllp{0.45\textwidth}}", r"\toprule",
              r"Symbol & Value (declared) & Value used & Source / note \\", r"\midrule"]
        for p in s.parameters:
            declared = f"${_num(p.value)}{_with_unit(p.unit)}$"
            used = f"${_num(pvals[p.name])}{_with_unit(model_unit(p.unit, units))}$"
            src = "; ".join(escape(x) for x in (p.reference, p.note) if x) or "---"
            L.append(f"${names[sympy.Symbol(p.name)]}$ & {declared} & {used} & {src} \\\\")
        L += [r"\bottomrule", r"\end{longtable}"]
    if standalone:
        L.append(r"\end{document}")
    return "\n".join(L) + "\n"


def _with_unit(text) -> str:
    u = unit_latex(text)
    return "" if u in ("", "1") else r"\;" + u


def _num(x: float) -> str:
    text = f"{x:.6g}"
    m = re.fullmatch(r"(-?[\d.]+)e([+-]\d+)", text)
    if m:
        return f"{m.group(1)}\\times 10^{{{int(m.group(2))}}}"
    return text
