"""Import SBML models as kinetics schemes (python-libsbml), exactly or not at all.

:func:`read_sbml` returns a :class:`~kinetics.scheme.Scheme`; :func:`read_sbml_model`
returns an :class:`SbmlModel` that also carries the SBML events as a
:class:`~kinetics.protocol.Protocol` and knows how every SBML symbol is computed
from the scheme (for output columns named by SBML id).

Supported (SBML Level 3; Levels 1-2 are converted to L3V2 by libsbml first)
------------------------------------------------------------------------------
* compartments of any size, constant or varying (rate rule, assignment rule,
  time-triggered events);
* species given as amount or concentration, ``hasOnlySubstanceUnits``,
  boundary and constant species, species and model conversion factors
  (constant parameters);
* global and local parameters; reactions with any kinetic law; function
  definitions (inlined); assignment rules (observables); rate rules (states);
  initial assignments (evaluated at import: the scheme's initial values are
  numbers); the csymbols ``time`` and ``avogadro``;
* events without delay whose trigger depends on time only (``time >= t1``,
  ``t1 < time``...): they become protocol components — jumps of states
  (``S = S + a`` or ``S = a``) and steps of parameters/compartments, whose
  sequence of values is computed at import.

How SBML quantities become scheme quantities
--------------------------------------------
* A species' *symbol value* is what SBML math sees: its concentration unless
  ``hasOnlySubstanceUnits``, else its amount. In a constant compartment the
  state is the symbol value; reactions add ``stoichiometry * rate *
  conversion_factor`` (divided by the compartment size for concentrations).
* A concentration species in a compartment whose size changes is integrated as
  its *amount* (state ``<id>_amount``); the concentration is the observable
  ``<id> = <id>_amount / <compartment>`` (a change of size keeps amounts, as
  SBML prescribes). A rate rule on such a species still acts on the
  concentration.
* Reactions whose stoichiometries are positive integers and whose species
  share one scale become scheme reactions (flux = rate law x scale); others
  become rate-rule terms. A reaction id used in math becomes an observable.
* Local parameters become parameters named ``<reaction id>_<parameter id>``.
* Names that are reserved in kinetics (``t``, ``time``, ``e``, ``pi``,
  Python keywords such as ``in`` or ``lambda``, leading ``_``) get a trailing
  ``_`` (reported in ``SbmlModel.renamed`` and with a warning).

Not supported (a :class:`~kinetics.errors.SchemeError` names the construct and element)
----------------------------------------------------------------------------------------
algebraic rules; events with a delay, with state-dependent triggers or with
assignments that are not ``x + a`` / ``a`` for states; ``delay`` and
``rateOf`` csymbols; variable stoichiometries; fast reactions; 0-dimensional
or size-less compartments holding concentration species; ``quotient``,
``rem``, ``implies``, ``factorial``; infinite or NaN numbers; required SBML
Level 3 packages (comp, fbc, ...). Constraints are not simulated (a warning
says so). Loading never runs code from the file.

Examples
--------
>>> import kinetics as kx
>>> from kinetics.exporters import export
>>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 0.5, "1/ms")],
...               reactions=[kx.reaction("A ->", "k")])
>>> read_sbml(export(s, "sbml")) == s
True
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import sympy

from .errors import ArgumentError, ParseError, SchemeError, SolverError
from .expressions import bounded_power, check_magnitude
from .protocol import Protocol, jumps, steps
from .scheme import (TIME, Input, Observable, Parameter, RateRule, Reaction, Scheme, Species,
                     check_name, name_from_text, name_part)
from .units import UnitSystem, conversion_factor, parse_unit

__all__ = ["read_sbml", "read_sbml_model", "SbmlModel", "SbmlImportWarning"]

AVOGADRO = 6.02214076e23
#: SBML packages that do not change what a model computes (diagrams, grouping, extended math of L3V2 core).
_HARMLESS_PACKAGES = {"layout", "render", "groups", "l3v2extendedmath"}
#: Deepest nesting of function-definition calls followed (checked before libsbml's consistency check).
MAX_CALL_DEPTH = 64
#: Deepest XML element nesting read (MathML included; checked before libsbml parses the document, whose
#: recursive parser and consistency checks crash or take seconds on thousands of levels).
MAX_XML_DEPTH = 300
#: Largest SBML document read (bytes).
MAX_SBML_BYTES = 100_000_000
_NMDAKIN_NS = "urn:nmdakin:sbml-annotation:1"


class SbmlImportWarning(UserWarning):
    """Something of an SBML file was changed or left out on import (renamed ids, constraints)."""


def _libsbml():
    try:
        import libsbml
    except ImportError:  # pragma: no cover
        raise ArgumentError("SBML import needs python-libsbml: pip install python-libsbml") from None
    return libsbml


def _unsupported(construct: str, where: str, hint: str = "") -> SchemeError:
    return SchemeError(f"unsupported SBML construct: {construct} ({where})" + (f"; {hint}" if hint else ""))


# --------------------------------------------------------------------------- the result
@dataclass(frozen=True)
class SbmlModel:
    """An imported SBML model: the scheme, the protocol made of its events, and its SBML symbols.

    Attributes
    ----------
    scheme : Scheme
    protocol : Protocol
        Time-triggered SBML events as steps and jumps (empty if none).
    source : str or None
        File name.
    species : tuple of str
        SBML species ids, in document order.
    symbols : dict
        SBML id -> sympy expression (in scheme names) of the symbol value SBML
        math sees (a species' concentration unless ``hasOnlySubstanceUnits``).
    amounts : dict
        SBML species id -> sympy expression of its amount.
    varying : tuple of str
        Ids of parameters and compartments that change over time (rules, events).
    renamed : dict
        SBML id -> scheme name, for ids that had to be renamed.
    t_end : float or None
        End time stored by an nmdakin SBML export (``None`` otherwise).

    Examples
    --------
    >>> m = read_sbml_model("model.xml")                             # doctest: +SKIP
    >>> df = m.simulate(t_end=10.0, t_eval=np.linspace(0, 10, 101))  # doctest: +SKIP
    """

    scheme: Scheme
    protocol: Protocol
    source: str | None
    species: tuple
    symbols: dict = field(repr=False)
    amounts: dict = field(repr=False)
    varying: tuple = ()
    renamed: dict = field(default_factory=dict)
    t_end: float | None = None

    @property
    def columns(self) -> tuple:
        """Output columns of :meth:`simulate`: every species id, then the varying parameters/compartments."""
        return tuple(self.species) + tuple(v for v in self.varying if v not in self.species)

    def values(self, result, ids=None, amounts=()) -> dict:
        """Values of SBML symbols over a :class:`~kinetics.result.Result` of this model's scheme.

        Parameters
        ----------
        ids : sequence of str, optional
            SBML ids (default :attr:`columns`).
        amounts : sequence of str
            Species ids reported as amounts instead of their symbol value.
        """
        ids = self.columns if ids is None else tuple(ids)
        amounts = set(amounts)
        for a in amounts:
            if a not in self.amounts:
                from .errors import did_you_mean

                raise ArgumentError(f"`amounts` names `{a}`, which is not a species of the SBML model"
                                    + did_you_mean(a, self.amounts))
        factors = self.scheme.parameter_factors()
        pvals = {n: float(v) * factors[n] for n, v in result.params.items()}
        out = {}
        for i in ids:
            if i not in self.symbols:
                from .errors import did_you_mean

                raise ArgumentError(f"unknown SBML id `{i}`" + did_you_mean(i, self.symbols))
            expr = self.amounts[i] if i in amounts else self.symbols[i]
            out[i] = _evaluate_on(expr, result, pvals)
        return out

    def simulate(self, t_end: float, t_eval=None, *, amounts=(), **options):
        """Simulate with the model's protocol; a pandas DataFrame with ``time`` and :attr:`columns`.

        ``options`` go to :func:`kinetics.simulate` (``rtol``, ``atol``, ``method``...).
        """
        import pandas as pd

        from .simulate import simulate

        res = simulate(self.scheme, self.protocol, t_end=t_end, t_eval=t_eval, **options)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            vals = self.values(res, amounts=amounts)
        if options.get("nonfinite", "raise") == "raise":
            for k, v in vals.items():
                bad = ~np.isfinite(np.asarray(v, dtype=float))
                if bad.any():
                    t_bad = float(res.t[int(np.argmax(bad))])
                    raise SolverError(f"SBML symbol `{k}` is not finite (NaN or inf) from t = {t_bad:.9g}; pass "
                                      f"nonfinite='warn' to get the values anyway", t=t_bad, method=res.method)
        return pd.DataFrame({"time": res.t, **vals})


def _evaluate_on(expr, result, pvals) -> np.ndarray:
    n = result.t.size
    expr = sympy.sympify(expr)
    syms = sorted(expr.free_symbols, key=lambda s: s.name)
    if not syms:
        return np.full(n, float(expr))
    args = []
    for s in syms:
        if s == TIME:
            args.append(result.t)
        elif s.name in pvals:
            args.append(np.full(n, pvals[s.name]))
        else:
            args.append(np.asarray(result[s.name], dtype=float))
    f = sympy.lambdify(syms, expr, modules="numpy")
    return np.broadcast_to(np.asarray(f(*args), dtype=float), (n,)).copy()


# --------------------------------------------------------------------------- reading the document
class _TooDeep(Exception):
    pass


def _check_xml_limits(data, name) -> None:
    """Refuse documents over :data:`MAX_SBML_BYTES` or nested deeper than :data:`MAX_XML_DEPTH` elements,
    and DTDs (entity expansion), before libsbml parses them. Streams through expat (iterative, no
    recursion); malformed XML is left to libsbml, which reports it with its own messages."""
    from xml.parsers import expat

    if len(data) > MAX_SBML_BYTES:
        raise ParseError(f"SBML document too large ({len(data)} bytes; the limit is {MAX_SBML_BYTES})", source=name)
    parser = expat.ParserCreate()
    depth = [0]

    def start(tag, attrs):
        depth[0] += 1
        if depth[0] > MAX_XML_DEPTH:
            raise _TooDeep

    def end(tag):
        depth[0] -= 1

    def doctype(*args):
        raise ParseError("SBML document with a DTD (<!DOCTYPE ...>) is not read", source=name)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(data, True)
    except _TooDeep:
        raise ParseError(f"SBML document nested too deeply (more than {MAX_XML_DEPTH} levels of XML elements, "
                         f"e.g. MathML)", source=name) from None
    except expat.ExpatError:
        pass  # libsbml reports malformed XML


def _check_function_depth(model, name) -> None:
    """Refuse function definitions that call each other deeper than :data:`MAX_CALL_DEPTH` (or recursively),
    before libsbml's consistency check (which takes exponential time on such chains)."""
    L = _libsbml()
    calls = {}
    for i in range(model.getNumFunctionDefinitions()):
        fd = model.getFunctionDefinition(i)
        found = set()
        stack = [fd.getMath()] if fd.getMath() is not None else []
        while stack:
            a = stack.pop()
            if a.getType() == L.AST_FUNCTION and a.getName():
                found.add(a.getName())
            stack += [a.getChild(j) for j in range(a.getNumChildren())]
        calls[fd.getId()] = found
    depth = {}

    def too_deep(fid):
        return _unsupported(f"function definitions calling each other deeper than {MAX_CALL_DEPTH} levels "
                            f"(or recursively)", f"function `{fid}`" + (f" in {name}" if name else ""))

    def visit(fid, level):
        if level > MAX_CALL_DEPTH:
            raise too_deep(fid)
        if fid not in depth:
            depth[fid] = 1 + max((visit(g, level + 1) for g in calls[fid] if g in calls), default=0)
        return depth[fid]

    for fid in calls:
        if visit(fid, 1) > MAX_CALL_DEPTH:
            raise too_deep(fid)


def _read_document(source):
    L = _libsbml()
    name = None
    if isinstance(source, (str, Path)) and not (isinstance(source, str) and source.lstrip().startswith("<")):
        path = Path(source)
        name = str(path)
        if not path.is_file():
            raise ParseError(f"no such SBML file: `{path}`")
        try:
            if path.stat().st_size > MAX_SBML_BYTES:
                raise ParseError(f"SBML document too large ({path.stat().st_size} bytes; the limit is "
                                 f"{MAX_SBML_BYTES})", source=name)
            data = path.read_bytes()
        except OSError as exc:
            raise ParseError(f"cannot read SBML file `{path}`: {exc.strerror or exc}") from None
        _check_xml_limits(data, name)
        doc = L.readSBMLFromFile(str(path))
    elif isinstance(source, str):
        _check_xml_limits(source.encode("utf-8", "surrogatepass"), name)
        doc = L.readSBMLFromString(source)
    else:
        raise ArgumentError(f"read_sbml needs a path or SBML text, got {type(source).__name__}")
    fatal = [doc.getError(i) for i in range(doc.getNumErrors())
             if doc.getError(i).getSeverity() >= L.LIBSBML_SEV_ERROR]
    if fatal:
        msg = "; ".join(f"line {e.getLine()}: {e.getShortMessage()} — {e.getMessage().strip().splitlines()[0][:200]}"
                        for e in fatal[:3])
        raise ParseError(f"malformed or invalid SBML: {msg}", source=name)
    if doc.getModel() is None:
        raise ParseError("the SBML document has no <model>", source=name)
    _check_function_depth(doc.getModel(), name)
    for i in range(doc.getNumPlugins()):
        pkg = doc.getPlugin(i).getPackageName()
        if pkg in _HARMLESS_PACKAGES or doc.getLevel() < 3:
            continue
        if doc.isPackageEnabled(pkg) and doc.getPackageRequired(pkg):
            raise _unsupported(f"SBML Level 3 package `{pkg}` (required)", f"document {name or ''}".strip())
    if (doc.getLevel(), doc.getVersion()) != (3, 2):
        if not doc.setLevelAndVersion(3, 2, False):
            errs = "; ".join(doc.getError(i).getShortMessage() for i in range(doc.getNumErrors()))
            raise ParseError(f"cannot convert SBML Level {doc.getLevel()} Version {doc.getVersion()} to L3V2: {errs}",
                             source=name)
    doc.setConsistencyChecks(L.LIBSBML_CAT_UNITS_CONSISTENCY, False)
    doc.setConsistencyChecks(L.LIBSBML_CAT_MODELING_PRACTICE, False)
    doc.checkConsistency()
    errors = [doc.getError(i) for i in range(doc.getNumErrors())
              if doc.getError(i).getSeverity() >= L.LIBSBML_SEV_ERROR]
    if errors:
        msg = "; ".join(f"{e.getShortMessage()} — {e.getMessage().strip().splitlines()[-1][:200]}" for e in errors[:3])
        raise ParseError(f"invalid SBML ({len(errors)} error(s)): {msg}", source=name)
    return doc, name


# --------------------------------------------------------------------------- math
class _Math:
    """libsbml AST -> sympy, with function definitions inlined and ids renamed."""

    def __init__(self, model, rename: Mapping[str, str]):
        L = _libsbml()
        self.L = L
        self.rename = rename
        self.functions = {}
        for i in range(model.getNumFunctionDefinitions()):
            fd = model.getFunctionDefinition(i)
            if fd.getMath() is None:
                raise _unsupported("function definition without math", f"function `{fd.getId()}`")
            args = [fd.getArgument(j).getName() for j in range(fd.getNumArguments())]
            self.functions[fd.getId()] = (args, fd.getBody(), fd.getId())
        self.memo = {}   # values of constant subexpressions (magnitude guard), shared by every conversion

    def __call__(self, ast, where: str, local=None):
        if ast is None:
            raise _unsupported("missing math", where)
        try:
            out = self.conv(ast, where, dict(local or {}), 0)
        except RecursionError:
            raise _unsupported("math nested too deeply", where) from None
        if isinstance(out, sympy.Basic) and out.has(sympy.zoo, sympy.oo, -sympy.oo):
            raise ParseError(f"{where}: the math is infinite or undefined (a division by zero, log(0)...?)")
        return out

    def conv(self, a, where, local, depth):
        out = self._conv(a, where, local, depth)
        if isinstance(out, sympy.Expr):
            try:
                check_magnitude(out, self.memo)
            except ParseError as exc:
                raise ParseError(f"{where}: {exc}") from None
        return out

    def power(self, base, exponent, where):
        try:
            return bounded_power(base, exponent, self.memo)
        except ParseError as exc:
            raise ParseError(f"{where}: {exc}") from None

    def _conv(self, a, where, local, depth):
        L = self.L
        t = a.getType()
        kids = [a.getChild(i) for i in range(a.getNumChildren())]

        def c(x):
            return self.conv(x, where, local, depth)

        if t == L.AST_INTEGER:
            return sympy.Integer(a.getInteger())
        if t in (L.AST_REAL, L.AST_REAL_E):
            v = a.getReal()
            if not math.isfinite(v):
                raise _unsupported("infinite or NaN number in math", where)
            return sympy.Float(v)
        if t == L.AST_RATIONAL:
            return sympy.Rational(a.getNumerator(), a.getDenominator())
        if t == L.AST_NAME:
            n = a.getName()
            if n in local:
                return local[n]
            return sympy.Symbol(self.rename.get(n, n))
        if t == L.AST_NAME_TIME:
            return TIME
        if t == L.AST_NAME_AVOGADRO:
            return sympy.Float(AVOGADRO)
        if t == L.AST_CONSTANT_PI:
            return sympy.pi
        if t == L.AST_CONSTANT_E:
            return sympy.E
        if t == L.AST_CONSTANT_TRUE:
            return sympy.true
        if t == L.AST_CONSTANT_FALSE:
            return sympy.false
        if t == L.AST_PLUS:
            return sympy.Add(*[c(k) for k in kids])
        if t == L.AST_MINUS:
            if len(kids) == 1:
                return -c(kids[0])
            return c(kids[0]) - c(kids[1])
        if t == L.AST_TIMES:
            return sympy.Mul(*[c(k) for k in kids])
        if t == L.AST_DIVIDE:
            num, den = c(kids[0]), c(kids[1])
            if getattr(den, "is_zero", False):
                raise ParseError(f"{where}: division by zero")
            return num * self.power(den, sympy.Integer(-1), where)
        if t in (L.AST_POWER, L.AST_FUNCTION_POWER):
            return self.power(c(kids[0]), c(kids[1]), where)
        if t == L.AST_FUNCTION_ROOT:
            if len(kids) == 1:
                return self.power(c(kids[0]), sympy.S.Half, where)
            degree = c(kids[0])
            if getattr(degree, "is_zero", False):
                raise ParseError(f"{where}: root of degree 0")
            return self.power(c(kids[1]), self.power(degree, sympy.Integer(-1), where), where)
        if t == L.AST_FUNCTION_LOG:
            if len(kids) == 1:
                return sympy.log(c(kids[0]), 10)
            return sympy.log(c(kids[1]), c(kids[0]))
        simple = {L.AST_FUNCTION_EXP: sympy.exp, L.AST_FUNCTION_LN: sympy.log, L.AST_FUNCTION_ABS: sympy.Abs,
                  L.AST_FUNCTION_SIN: sympy.sin, L.AST_FUNCTION_COS: sympy.cos, L.AST_FUNCTION_TAN: sympy.tan,
                  L.AST_FUNCTION_SINH: sympy.sinh, L.AST_FUNCTION_COSH: sympy.cosh, L.AST_FUNCTION_TANH: sympy.tanh,
                  L.AST_FUNCTION_ARCSIN: sympy.asin, L.AST_FUNCTION_ARCCOS: sympy.acos,
                  L.AST_FUNCTION_ARCTAN: sympy.atan, L.AST_FUNCTION_FLOOR: sympy.floor,
                  L.AST_FUNCTION_CEILING: sympy.ceiling,
                  L.AST_FUNCTION_SEC: sympy.sec, L.AST_FUNCTION_CSC: sympy.csc, L.AST_FUNCTION_COT: sympy.cot}
        if t in simple:
            arg = c(kids[0])
            if t in (L.AST_FUNCTION_FLOOR, L.AST_FUNCTION_CEILING):
                varying = sorted(s.name for s in arg.free_symbols if s != TIME)
                if varying:
                    fname = "floor" if t == L.AST_FUNCTION_FLOOR else "ceiling"
                    raise _unsupported(f"`{fname}` of an expression of {', '.join(f'`{n}`' for n in varying)}",
                                       where, "kinetics differentiates rate laws (Jacobian, sensitivities) and "
                                              f"`{fname}` has no derivative; it is supported only of time "
                                              "and numbers")
            return simple[t](arg)
        if t == L.AST_FUNCTION_MAX:
            return sympy.Max(*[c(k) for k in kids])
        if t == L.AST_FUNCTION_MIN:
            return sympy.Min(*[c(k) for k in kids])
        if t == L.AST_FUNCTION_PIECEWISE:
            pieces = []
            for i in range(0, len(kids) - 1, 2):
                pieces.append((c(kids[i]), self.cond(kids[i + 1], where, local, depth)))
            if len(kids) % 2 == 1:
                pieces.append((c(kids[-1]), sympy.true))
            else:
                pieces.append((sympy.nan, sympy.true))  # undefined outside the pieces: NaN, never a silent 0
            return sympy.Piecewise(*pieces)
        if t == L.AST_FUNCTION:
            name = a.getName()
            if name not in self.functions:
                raise _unsupported(f"call of unknown function `{name}`", where)
            if depth > MAX_CALL_DEPTH:
                raise _unsupported(f"function calls nested deeper than {MAX_CALL_DEPTH} (`{name}`)", where)
            args, body, fid = self.functions[name]
            if len(args) != len(kids):
                raise ParseError(f"{where}: function `{name}` takes {len(args)} argument(s), got {len(kids)}")
            bound = {n: c(k) for n, k in zip(args, kids)}
            return self.conv(body, f"{where}, function `{fid}`", bound, depth + 1)
        rel = {L.AST_RELATIONAL_EQ: sympy.Eq, L.AST_RELATIONAL_NEQ: sympy.Ne, L.AST_RELATIONAL_GT: sympy.Gt,
               L.AST_RELATIONAL_LT: sympy.Lt, L.AST_RELATIONAL_GEQ: sympy.Ge, L.AST_RELATIONAL_LEQ: sympy.Le}
        if t in rel or t in (L.AST_LOGICAL_AND, L.AST_LOGICAL_OR, L.AST_LOGICAL_NOT, L.AST_LOGICAL_XOR):
            return self.cond(a, where, local, depth)
        names = {L.AST_FUNCTION_DELAY: "csymbol `delay`", L.AST_FUNCTION_RATE_OF: "csymbol `rateOf`",
                 L.AST_FUNCTION_QUOTIENT: "function `quotient`", L.AST_FUNCTION_REM: "function `rem`",
                 L.AST_LOGICAL_IMPLIES: "function `implies`", L.AST_FUNCTION_FACTORIAL: "function `factorial`",
                 L.AST_LAMBDA: "lambda outside a function definition"}
        what = names.get(t, f"MathML element `{a.getName() or L.AST_NAME}` (AST type {t})")
        raise _unsupported(what, where)

    def cond(self, a, where, local, depth):
        L = self.L
        t = a.getType()
        kids = [a.getChild(i) for i in range(a.getNumChildren())]
        rel = {L.AST_RELATIONAL_EQ: sympy.Eq, L.AST_RELATIONAL_NEQ: sympy.Ne, L.AST_RELATIONAL_GT: sympy.Gt,
               L.AST_RELATIONAL_LT: sympy.Lt, L.AST_RELATIONAL_GEQ: sympy.Ge, L.AST_RELATIONAL_LEQ: sympy.Le}
        if t in rel:
            vals = [self.conv(k, where, local, depth) for k in kids]
            if len(vals) < 2:
                raise _unsupported("relation with fewer than two operands", where)
            parts = [rel[t](x, y) for x, y in zip(vals, vals[1:])]
            return sympy.And(*parts) if len(parts) > 1 else parts[0]
        if t == L.AST_LOGICAL_AND:
            return sympy.And(*[self.cond(k, where, local, depth) for k in kids])
        if t == L.AST_LOGICAL_OR:
            return sympy.Or(*[self.cond(k, where, local, depth) for k in kids])
        if t == L.AST_LOGICAL_XOR:
            return sympy.Xor(*[self.cond(k, where, local, depth) for k in kids])
        if t == L.AST_LOGICAL_NOT:
            return sympy.Not(self.cond(kids[0], where, local, depth))
        if t in (L.AST_CONSTANT_TRUE, L.AST_CONSTANT_FALSE):
            return sympy.true if t == L.AST_CONSTANT_TRUE else sympy.false
        if t == L.AST_FUNCTION:
            v = self.conv(a, where, local, depth)
            if isinstance(v, sympy.logic.boolalg.Boolean):
                return v
        if t == L.AST_NAME and a.getName() in local:
            v = local[a.getName()]
            if isinstance(v, sympy.logic.boolalg.Boolean):
                return v
        raise _unsupported("a numeric value used as a condition", where)


# --------------------------------------------------------------------------- units
_SBML_TO_KINETICS = {"second": ("s", "time"), "mole": ("mol", "amount"), "litre": ("L", "volume"),
                     "liter": ("L", "volume"), "metre": ("m", "length"), "meter": ("m", "length"),
                     "volt": ("V", "voltage"), "ampere": ("A", "current"), "siemens": ("S", "conductance"),
                     "farad": ("F", "capacitance"), "coulomb": ("C", "charge"), "kilogram": ("kg", "mass"),
                     "gram": ("g", "mass"), "kelvin": ("K", "temperature"), "dimensionless": (None, None),
                     "item": (None, None)}
_PREFIX = {0: "", -3: "m", -6: "u", -9: "n", -12: "p", -15: "f", 3: "k"}


def _unit_text(model, uid: str):
    """kinetics unit text of an SBML unit reference, or None if it has no kinetics spelling."""
    if not uid:
        return None
    L = _libsbml()
    ud = model.getUnitDefinition(uid)
    if ud is None:
        if uid in _SBML_TO_KINETICS:
            tok = _SBML_TO_KINETICS[uid][0]
            return tok or "1"
        return None
    parts = []
    for i in range(ud.getNumUnits()):
        u = ud.getUnit(i)
        kind = L.UnitKind_toString(u.getKind())
        if kind not in _SBML_TO_KINETICS:
            return None
        base = _SBML_TO_KINETICS[kind][0]
        exp = u.getExponentAsDouble()
        if exp != int(exp):
            return None
        if base is None:
            if u.getMultiplier() != 1 or u.getScale() != 0:
                return None
            continue
        mult = u.getMultiplier() * 10.0 ** u.getScale()
        lg = math.log10(mult) if mult > 0 else float("nan")
        if not math.isfinite(lg) or abs(lg - round(lg)) > 1e-12:
            return None
        scale = int(round(lg))
        if kind == "kilogram":
            base, scale = "g", scale + 3
        if kind == "gram" and scale == 3:
            base, scale = "kg", 0
        prefix = _PREFIX.get(scale)
        if prefix is None:
            return None
        tok = (prefix + base) if not (base == "kg" and prefix == "") else "kg"
        try:
            parse_unit(tok)
        except SchemeError:
            return None
        parts.append(f"{tok}^{int(exp)}")
    if not parts:
        return "1"
    from .units import format_unit

    try:
        return format_unit("*".join(parts))
    except SchemeError:
        return None


def _unit_system(model) -> UnitSystem:
    """A UnitSystem matching the model's time, substance and volume units where kinetics can spell them."""
    fields = {}
    for attr, kind in (("getTimeUnits", "time"), ("getVolumeUnits", "volume"), ("getSubstanceUnits", "amount")):
        text = _unit_text(model, getattr(model, attr)())
        if text and "/" not in text and "*" not in text and "^" not in text:
            try:
                UnitSystem(**{kind: text})
                fields[kind] = text
            except SchemeError:
                pass
    if "amount" in fields and "volume" in fields:
        amt, vol = parse_unit(fields["amount"]), parse_unit(fields["volume"])
        conc_scale = (amt.scale / vol.scale) / 1  # mol/m^3
        for tok in ("M", "mM", "uM", "nM", "pM", "fM"):
            if parse_unit(tok).scale == conc_scale:
                fields["concentration"] = tok
                break
    try:
        return UnitSystem(**fields)
    except SchemeError:  # pragma: no cover
        return UnitSystem()


# --------------------------------------------------------------------------- annotations
def _annotation(element, tag):
    """Attributes of an ``nmdakin:<tag>`` annotation of an element, or None."""
    ann = element.getAnnotation()
    if ann is None:
        return None
    for i in range(ann.getNumChildren()):
        ch = ann.getChild(i)
        if ch.getURI() == _NMDAKIN_NS and ch.getName() == tag:
            attrs = ch.getAttributes()
            return {attrs.getName(j): attrs.getValue(j) for j in range(attrs.getLength())}
    return None


def _is_name(text) -> bool:
    """Whether ``text`` is a scheme name as it is (:func:`kinetics.scheme.check_name` keeps it unchanged)."""
    try:
        return check_name(text) == text
    except SchemeError:
        return False


def _name_base(text) -> str:
    """Letters, digits and ``_`` of ``text`` (not starting with a digit or ``_``); may still be reserved."""
    s = name_part(text, "x")
    return "m_" + s if s[0].isdigit() else s


def _notes_text(element) -> str:
    if not element.isSetNotes():
        return ""
    n = element.getNotes()

    def text(node):
        if node.isText():
            return node.getCharacters()
        return " ".join(x for x in (text(node.getChild(i)) for i in range(node.getNumChildren())) if x.strip())

    return " ".join(text(n).split())


# --------------------------------------------------------------------------- the importer
class _Importer:
    def __init__(self, doc, source):
        self.L = _libsbml()
        self.doc = doc
        self.model = doc.getModel()
        self.source = source
        self.where_file = f" in {source}" if source else ""

    def build(self) -> SbmlModel:
        m = self.model
        self.check_unsupported()

        # ---- every SBML id and its kind
        comps = [m.getCompartment(i) for i in range(m.getNumCompartments())]
        species = [m.getSpecies(i) for i in range(m.getNumSpecies())]
        params = [m.getParameter(i) for i in range(m.getNumParameters())]
        reactions = [m.getReaction(i) for i in range(m.getNumReactions())]
        kind = {}
        for c in comps:
            kind[c.getId()] = "compartment"
        for s in species:
            kind[s.getId()] = "species"
        for p in params:
            kind[p.getId()] = "parameter"
        for r in reactions:
            kind[r.getId()] = "reaction"
        sref = {}
        for r in reactions:
            for lst in (r.getListOfReactants(), r.getListOfProducts()):
                for j in range(lst.size()):
                    ref = lst.get(j)
                    if ref.isSetId() and ref.getId():
                        kind[ref.getId()] = "speciesReference"
                        sref[ref.getId()] = ref
        self.kind = kind

        # ---- names: SBML id -> scheme name (renaming reserved ones)
        taken = set(kind)
        rename = {}
        for sid in kind:
            if not _is_name(sid):  # the one name rule (kinetics.scheme.check_name); SIds are ASCII already
                new = _name_base(sid) + "_"
                while new in taken or not _is_name(new):
                    new += "_"
                taken.add(new)
                rename[sid] = new
        self.taken = taken
        self.rename = rename
        if rename:
            warnings.warn("SBML import renamed ids reserved in kinetics: "
                          + ", ".join(f"`{a}` -> `{b}`" for a, b in rename.items()), SbmlImportWarning, stacklevel=4)
        nm = lambda sid: rename.get(sid, sid)  # noqa: E731
        self.nm = nm
        self.math = _Math(m, rename)

        # ---- rules, initial assignments
        assign, rate = {}, {}
        for i in range(m.getNumRules()):
            rule = m.getRule(i)
            var = rule.getVariable()
            if rule.isAssignment():
                assign[var] = self.math(rule.getMath(), f"assignment rule for `{var}`")
            elif rule.isRate():
                rate[var] = self.math(rule.getMath(), f"rate rule for `{var}`")
        for v in list(assign) + list(rate):
            if kind.get(v) == "speciesReference":
                raise _unsupported("variable stoichiometry (rule on a species reference)", f"`{v}`")
        init = {}
        for i in range(m.getNumInitialAssignments()):
            ia = m.getInitialAssignment(i)
            init[ia.getSymbol()] = self.math(ia.getMath(), f"initial assignment to `{ia.getSymbol()}`")

        # ---- events (analysed later, once states are known)
        events = [m.getEvent(i) for i in range(m.getNumEvents())]
        event_targets = {}
        for ev in events:
            for j in range(ev.getNumEventAssignments()):
                ea = ev.getEventAssignment(j)
                event_targets.setdefault(ea.getVariable(), []).append(ev)
        for v in event_targets:
            if kind.get(v) == "speciesReference":
                raise _unsupported("variable stoichiometry (event assignment to a species reference)",
                                   f"event `{event_targets[v][0].getId()}`")

        # ---- compartments
        comp_role = {}
        for c in comps:
            cid = c.getId()
            if cid in assign:
                comp_role[cid] = "obs"
            elif cid in rate:
                comp_role[cid] = "state"
            elif cid in event_targets:
                comp_role[cid] = "input"
            else:
                comp_role[cid] = "param"
        self.comp_role = comp_role

        # ---- species roles
        participates = set()
        for r in reactions:
            for lst in (r.getListOfReactants(), r.getListOfProducts()):
                for j in range(lst.size()):
                    participates.add(lst.get(j).getSpecies())
        sp_info = {}
        for s in species:
            sid = s.getId()
            c = m.getCompartment(s.getCompartment())
            hosu = s.getHasOnlySubstanceUnits()
            varying = comp_role[c.getId()] != "param"
            if not hosu and c.getSpatialDimensionsAsDouble() == 0:
                raise _unsupported("concentration species in a 0-dimensional compartment",
                                   f"species `{sid}`, compartment `{c.getId()}`", "set hasOnlySubstanceUnits")
            if sid in assign:
                role = "obs"
            elif sid in rate:
                role = "state"
            elif not hosu and varying:
                role = "amount"   # amounts stay when the compartment changes (constant species too)
            elif s.getConstant():
                role = "param"
            else:
                role = "state"
            sp_info[sid] = {"hosu": hosu, "comp": c.getId(), "role": role, "boundary": s.getBoundaryCondition(),
                            "element": s}
        self.sp_info = sp_info

        # ---- initial values: every symbol's defining expression at t = 0
        defs = {}
        for c in comps:
            cid = c.getId()
            if c.isSetSize():
                defs[cid] = sympy.Float(c.getSize())
        for p in params:
            if p.isSetValue():
                defs[p.getId()] = sympy.Float(p.getValue())
        for s in species:
            sid = s.getId()
            info = sp_info[sid]
            V = sympy.Symbol(nm(info["comp"]))
            if s.isSetInitialAmount():
                a = sympy.Float(s.getInitialAmount())
                defs[sid] = a if info["hosu"] else a / V
            elif s.isSetInitialConcentration():
                cval = sympy.Float(s.getInitialConcentration())
                defs[sid] = cval * V if info["hosu"] else cval
        for rid, ref in sref.items():
            if ref.isSetStoichiometry():
                defs[rid] = sympy.Float(ref.getStoichiometry())
        local_params = {}
        for r in reactions:
            kl = r.getKineticLaw()
            if kl is None:
                continue
            for j in range(kl.getNumLocalParameters()):
                lp = kl.getLocalParameter(j)
                local_params.setdefault(r.getId(), []).append(lp)
        for sym, e in init.items():
            defs[sym] = e
        for sym, e in assign.items():
            defs[sym] = e
        # reaction rates may appear in initial assignments and rules
        kinetic = {}
        for r in reactions:
            rid = r.getId()
            kl = r.getKineticLaw()
            if kl is None or kl.getMath() is None:
                kinetic[rid] = sympy.Integer(0)
                continue
            local = {}
            for lp in local_params.get(rid, []):
                new = self.fresh(f"{rid}_{lp.getId()}")
                if not lp.isSetValue():
                    raise _unsupported("local parameter without a value", f"`{lp.getId()}` of reaction `{rid}`")
                local[lp.getId()] = sympy.Symbol(new)
                self.local_values = getattr(self, "local_values", {})
                self.local_values[new] = (lp.getValue(), lp, rid)
            kinetic[rid] = self.math(kl.getMath(), f"kinetic law of reaction `{rid}`", local)
            defs[rid] = kinetic[rid]
        self.local_values = getattr(self, "local_values", {})
        for new, (v, _, _) in self.local_values.items():
            defs[new] = sympy.Float(v)
        self.defs = {nm(k) if k in kind else k: v for k, v in defs.items()}
        self._cache = {}

        for c in comps:
            if nm(c.getId()) not in self.defs:
                if any(info["comp"] == c.getId() and not info["hosu"] for info in sp_info.values()):
                    raise _unsupported("compartment without a size holding concentration species",
                                       f"compartment `{c.getId()}`")
        for s in species:
            if nm(s.getId()) not in self.defs:
                raise ParseError(f"species `{s.getId()}` has no initial amount, concentration or assignment",
                                 source=self.source)
        for p in params:
            if nm(p.getId()) not in self.defs:
                raise ParseError(f"parameter `{p.getId()}` has no value, initial assignment or rule",
                                 source=self.source)
        for rid, ref in sref.items():
            if nm(rid) not in self.defs:
                raise _unsupported("species reference without a stoichiometry", f"`{rid}`")

        # ---- the scheme's components
        ann_scheme = _annotation(m, "scheme") or {}
        system = _unit_system(m)
        if ann_scheme:
            try:
                system = UnitSystem(**{k[5:]: v for k, v in ann_scheme.items() if k.startswith("unit_")})
            except SchemeError:
                pass
        self.system = system
        symbols, amounts = {}, {}
        state_species, parameters, inputs, observables, rate_rules = [], [], [], [], {}
        input_ids = []

        def param_from(sid, value, element, role_note=""):
            units = element.getUnits() if element is not None and hasattr(element, "getUnits") else ""
            unit, note = self.param_unit(units, system)
            ann = _annotation(element, "parameter") if element is not None else None
            if ann and "value" in ann and "unit" in ann:
                try:
                    dv = float(ann["value"])
                    f = conversion_factor(ann["unit"], system)
                    if math.isclose(dv * f, value, rel_tol=1e-14, abs_tol=0.0) or (dv == 0 and value == 0):
                        lo, hi = _bounds(ann.get("bounds"))
                        return Parameter(nm(sid), dv, ann["unit"], bounds=(lo, hi),
                                         reference=ann.get("reference", ""), note=ann.get("note", ""))
                except (ValueError, SchemeError):
                    pass
            notes = _notes_text(element) if element is not None else ""
            full_note = " ".join(x for x in (role_note, note, notes) if x)
            bounds = (0.0, math.inf) if value >= 0 else (-math.inf, math.inf)
            return Parameter(nm(sid), value, unit, bounds=bounds, note=full_note)

        # compartments
        for c in comps:
            cid = c.getId()
            role = comp_role[cid]
            sym = sympy.Symbol(nm(cid))
            ann = _annotation(c, "compartment")
            symbols[cid] = sym
            if role == "param":
                if ann and ann.get("role") == "unit" and self.value(nm(cid)) == 1.0:
                    symbols[cid] = sympy.Integer(1)
                    self.unit_compartment = nm(cid)
                    continue
                parameters.append(param_from(cid, self.value(nm(cid)), c, "compartment size."))
            elif role == "state":
                v0 = self.value(nm(cid))
                state_species.append(Species(nm(cid), v0, nonnegative=v0 >= 0, note="SBML compartment (rate rule)"))
                rate_rules[nm(cid)] = rate[cid]
            elif role == "obs":
                observables.append(Observable(nm(cid), assign[cid], note="SBML compartment (assignment rule)"))
            else:
                inputs.append(Input(nm(cid), self.value(nm(cid)), note="SBML compartment changed by events"))
                input_ids.append(cid)
        unit_comp = getattr(self, "unit_compartment", None)
        subs_unit = {sympy.Symbol(unit_comp): sympy.Integer(1)} if unit_comp else {}

        # parameters
        amounts_state_params = set()
        for p in params:
            pid = p.getId()
            if pid in assign:
                unit, _ = self.param_unit(p.getUnits(), system)
                ann = _annotation(p, "observable") or {}
                expr = assign[pid]
                if "expr" in ann:
                    exact = self.parse_annotation_expr(ann["expr"])
                    if exact is not None and _same15(exact, expr):
                        expr = exact
                if ann:
                    unit = _ann_unit(ann.get("unit"))
                elif not p.getUnits():
                    unit = None
                observables.append(Observable(nm(pid), expr, unit=unit, note=ann.get("note", "")))
                symbols[pid] = sympy.Symbol(nm(pid))
            elif pid in rate or _annotation(p, "species") is not None:
                # a state: a parameter with a rate rule (or a state nmdakin exported as a parameter)
                ann = _annotation(p, "species") or {}
                v0 = self.value(nm(pid))
                exact = ann.get("protocol_initial", ann.get("initial"))
                if exact is not None and math.isclose(float(exact), v0, rel_tol=1e-14, abs_tol=1e-300):
                    v0 = float(exact)
                nonneg = ann.get("nonnegative", "false") == "true" and v0 >= 0
                note = ann.get("note", "") if ann else "SBML parameter (rate rule)"
                state_species.append(Species(nm(pid), v0, nonnegative=nonneg, unit=_ann_unit(ann.get("unit")),
                                             note=note))
                if pid in rate:
                    rule = rate[pid]
                    if "rate_rule" in ann:
                        exact_rule = self.parse_annotation_expr(ann["rate_rule"])
                        if exact_rule is not None and _same15(exact_rule, rule):
                            rule = exact_rule
                    rate_rules[nm(pid)] = rule
                symbols[pid] = sympy.Symbol(nm(pid))
                amounts_state_params.add(pid)
            elif (pid in event_targets and pid not in amounts_state_params) or \
                    (not p.getConstant() and _annotation(p, "input") is not None):
                ann = _annotation(p, "input") or {}
                default = self.value(nm(pid))
                if ann.get("default") is not None and pid not in event_targets:
                    default = float(ann["default"])
                inputs.append(Input(nm(pid), default, unit=_ann_unit(ann.get("unit")),
                                    note=ann.get("note", "SBML parameter changed by events" if pid in event_targets else "")))
                input_ids.append(pid)
                symbols[pid] = sympy.Symbol(nm(pid))
            else:
                parameters.append(param_from(pid, self.value(nm(pid)), p))
                symbols[pid] = sympy.Symbol(nm(pid))
        for new, (v, lp, rid) in self.local_values.items():
            parameters.append(param_from(new, float(v), lp, f"local parameter of reaction `{rid}`."))
        for rid, ref in sref.items():
            parameters.append(Parameter(nm(rid), self.value(nm(rid)), "1",
                                        bounds=(0.0, math.inf) if self.value(nm(rid)) >= 0 else (-math.inf, math.inf),
                                        note="SBML species reference (stoichiometry)"))
            symbols[rid] = sympy.Symbol(nm(rid))

        # species
        scale = {}
        for s in species:
            sid = s.getId()
            info = sp_info[sid]
            V = symbols[info["comp"]]
            ann = _annotation(s, "species") or {}
            note = ann.get("note", _notes_text(s))
            unit = _ann_unit(ann["unit"]) if "unit" in ann else self.species_unit(s, info, system)
            nonneg = ann.get("nonnegative", "true") == "true"
            sym = sympy.Symbol(nm(sid))
            if info["role"] == "obs":
                observables.append(Observable(nm(sid), assign[sid], unit=unit, note=note))
                symbols[sid] = sym
                amounts[sid] = sym if info["hosu"] else sym * V
            elif info["role"] == "param":
                parameters.append(Parameter(nm(sid), self.value(nm(sid)), "1",
                                            bounds=(0.0, math.inf) if self.value(nm(sid)) >= 0 else (-math.inf, math.inf),
                                            note="SBML constant species" + (f" ({unit})" if unit else "")))
                symbols[sid] = sym
                amounts[sid] = sym if info["hosu"] else sym * V
            elif info["role"] == "amount":
                state = self.fresh(f"{sid}_amount")
                v0 = self.value(nm(sid)) * self.value(str(V)) if isinstance(V, sympy.Symbol) else self.value(nm(sid))
                state_species.append(Species(state, v0, nonnegative=v0 >= 0,
                                             note=f"amount of SBML species `{sid}` (its compartment changes size)"))
                observables.append(Observable(nm(sid), sympy.Symbol(state) / V, unit=unit,
                                              note=f"concentration of `{sid}`"))
                symbols[sid] = sym
                amounts[sid] = sympy.Symbol(state)
                scale[sid] = (state, sympy.Integer(1))
            else:
                v0 = self.value(nm(sid))
                exact = ann.get("protocol_initial", ann.get("initial"))
                if exact is not None and math.isclose(float(exact), v0, rel_tol=1e-14, abs_tol=1e-300):
                    v0 = float(exact)
                state_species.append(Species(nm(sid), v0, unit=unit, nonnegative=nonneg and v0 >= 0, note=note))
                if sid in rate:
                    rule = rate[sid]
                    if "rate_rule" in ann and not sp_info[sid]["boundary"]:
                        exact_rule = self.parse_annotation_expr(ann["rate_rule"])
                        if exact_rule is not None and _same15(exact_rule, rule):
                            rule = exact_rule
                    rate_rules[nm(sid)] = rule
                symbols[sid] = sym
                amounts[sid] = sym if info["hosu"] else sym * V
                scale[sid] = (nm(sid), sympy.Integer(1) if info["hosu"] else 1 / V)
            cf = s.getConversionFactor() if s.isSetConversionFactor() else m.getConversionFactor()
            if cf and sid in scale:
                if m.getParameter(cf) is None or not m.getParameter(cf).getConstant():
                    raise _unsupported("conversion factor that is not a constant parameter", f"species `{sid}`")
                st, sc = scale[sid]
                scale[sid] = (st, sc * sympy.Symbol(nm(cf)))

        # ---- reactions
        used_in_math = set()
        for e in list(assign.values()) + list(rate.values()) + list(kinetic.values()) + list(init.values()):
            used_in_math |= {x.name for x in e.free_symbols}
        for ev in events:
            for node in [ev.getTrigger().getMath() if ev.getTrigger() else None] + \
                        [ev.getEventAssignment(j).getMath() for j in range(ev.getNumEventAssignments())]:
                if node is not None:
                    used_in_math |= _ast_names(node)
        reactions_out = []
        for r in reactions:
            rid = r.getId()
            if r.isSetFast() and r.getFast():
                raise _unsupported("fast reaction", f"reaction `{rid}`")
            law = kinetic[rid]
            if nm(rid) in used_in_math or rid in used_in_math:
                observables.append(Observable(nm(rid), law, note=f"rate of SBML reaction `{rid}`"))
            net = {}
            stoich_ok = True
            sides = {"r": [], "p": []}
            for key, lst in (("r", r.getListOfReactants()), ("p", r.getListOfProducts())):
                for j in range(lst.size()):
                    ref = lst.get(j)
                    spid = ref.getSpecies()
                    if spid not in scale or sp_info[spid]["boundary"] or sp_info[spid]["role"] not in ("state", "amount") \
                            or spid in rate:
                        continue
                    if ref.isSetId() and ref.getId():
                        st = sympy.Symbol(nm(ref.getId()))
                        val = self.value(nm(ref.getId()))
                    else:
                        val = ref.getStoichiometry()
                        st = sympy.Integer(int(val)) if float(val).is_integer() else sympy.Float(val)
                    if not (val > 0 and float(val).is_integer()) or (ref.isSetId() and ref.getId()):
                        stoich_ok = False
                    sign = -1 if key == "r" else 1
                    net[spid] = net.get(spid, 0) + sign * st
                    sides[key].append((scale[spid][0], int(val) if float(val).is_integer() and val > 0 else 1))
            if not net:
                continue
            scales = {scale[sp][1] for sp in net}
            if stoich_ok and len(scales) == 1:
                flux = (law * next(iter(scales))).xreplace(subs_unit)
                rx = self.reaction_from_annotation(r, sides, flux)
                if rx is None:
                    rx = Reaction(tuple(sides["r"]), tuple(sides["p"]), rate=flux, name=nm(rid))
                reactions_out.append(rx)
            else:
                for sp, coeff in net.items():
                    st = scale[sp][0]
                    rate_rules[st] = rate_rules.get(st, 0) + coeff * law * scale[sp][1]

        # ---- events -> protocol
        self.state_params = amounts_state_params
        protocol, varying_inputs = self.events_to_protocol(events, symbols, scale, sp_info, assign)
        varying = [c.getId() for c in comps if comp_role[c.getId()] != "param"]
        varying += [p.getId() for p in params if p.getId() in assign or p.getId() in rate or p.getId() in event_targets]

        # ---- the scheme
        rule_order = [nm(m.getRule(i).getVariable()) for i in range(m.getNumRules()) if m.getRule(i).isRate()]
        ordered = [k for k in rule_order if k in rate_rules] + [k for k in rate_rules if k not in rule_order]
        rr = [RateRule(k, _restore_steps(sympy.sympify(rate_rules[k]).xreplace(subs_unit))) for k in ordered]
        if not reactions_out and not rr and state_species:
            # states that only events change: d/dt = 0 (a scheme needs some dynamics to be valid)
            rr = [RateRule(state_species[0].name, sympy.Integer(0))]
        observables = [Observable(o.name, _restore_steps(o.expr.xreplace(subs_unit)), unit=o.unit, note=o.note)
                       for o in observables]
        if not state_species:
            raise _unsupported("a model without state variables (no species or rate rules)",
                               f"model `{m.getId()}`", "there is nothing to integrate")
        order = ann_scheme.get("state_order", "").split()
        if order and sorted(order) == sorted(x.name for x in state_species):
            rank = {n: i for i, n in enumerate(order)}
            state_species.sort(key=lambda x: rank[x.name])
        # the scheme name is an SBML id (nmdakin's annotation, else the model's id), never the free-text
        # model name: that one is kept, as text, at the start of the description (escaped where written)
        name = next((x for x in (ann_scheme.get("name"), m.getId()) if x and _is_name(x)), None)
        if name is None:
            name = name_from_text(m.getId() or m.getName() or (Path(self.source).stem if self.source else ""), "sbml")
        description = ann_scheme.get("description", _notes_text(m) if not ann_scheme else "")
        label = " ".join(m.getName().split()) if m.isSetName() else ""
        if label and label != name and not description.startswith(label):
            description = f"{label}: {description}" if description else label
        try:
            scheme = Scheme(name, species=state_species, parameters=parameters, inputs=inputs, reactions=reactions_out,
                            observables=observables, rate_rules=rr, units=system, description=description,
                            reference=ann_scheme.get("reference", ""))
        except SchemeError as exc:
            raise SchemeError(f"SBML model `{m.getId()}`{self.where_file} does not make a valid scheme: {exc}") from None
        symbols = {k: (v.xreplace(subs_unit) if isinstance(v, sympy.Basic) else v) for k, v in symbols.items()}
        amounts = {k: v.xreplace(subs_unit) for k, v in amounts.items()}
        t_end = float(ann_scheme["t_end"]) if "t_end" in ann_scheme else None
        return SbmlModel(scheme=scheme, protocol=protocol, source=self.source, species=tuple(s.getId() for s in species),
                         symbols=symbols, amounts=amounts, varying=tuple(varying), renamed=dict(self.rename),
                         t_end=t_end)

    # ------------------------------------------------------------------ helpers
    def fresh(self, base: str) -> str:
        name = base if _is_name(base) else _name_base(base)
        while name in self.taken or not _is_name(name):
            name += "_"
        self.taken.add(name)
        return name

    def value(self, name: str) -> float:
        """Numeric value at t = 0 of a symbol (scheme name), following initial assignments and rules."""
        return float(self._value(name, ()))

    def _value(self, name, stack):
        if name in self._cache:
            return self._cache[name]
        if name in stack:
            raise ParseError(f"initial values depend on each other in a cycle: {' -> '.join(stack + (name,))}",
                             source=self.source)
        if name not in self.defs:
            raise ParseError(f"`{name}` has no value at t = 0", source=self.source)
        expr = self.defs[name]
        v = self._eval(expr, stack + (name,))
        self._cache[name] = v
        return v

    def _eval(self, expr, stack=(), overrides=None, t=0.0):
        expr = sympy.sympify(expr)
        subs = {}
        for s in expr.free_symbols:
            if s == TIME:
                subs[s] = sympy.Float(t)
            elif overrides and s.name in overrides:
                subs[s] = sympy.Float(overrides[s.name])
            else:
                subs[s] = sympy.Float(self._value(s.name, stack))
        v = expr.xreplace(subs)
        try:
            v = float(sympy.N(v, 17))
        except (TypeError, ValueError):
            raise ParseError(f"cannot evaluate `{expr}` to a number", source=self.source) from None
        if not math.isfinite(v):
            raise ParseError(f"`{expr}` evaluates to {v} at t = {t:g}", source=self.source)
        return v

    def param_unit(self, uid, system):
        text = _unit_text(self.model, uid) if uid else None
        if text is None:
            return "1", (f"SBML units `{uid}`." if uid else "")
        try:
            if conversion_factor(text, system) == 1.0:
                return text, ""
        except SchemeError:
            pass
        return "1", f"SBML units `{uid}` ({text})."

    def species_unit(self, s, info, system):
        m = self.model
        subst = s.getSubstanceUnits() or m.getSubstanceUnits()
        text = _unit_text(m, subst) if subst else None
        if info["hosu"]:
            return text
        comp = m.getCompartment(info["comp"])
        vol = comp.getUnits() or m.getVolumeUnits()
        vtext = _unit_text(m, vol) if vol else None
        if text and vtext:
            try:
                from .units import format_unit

                return format_unit(f"{text}/({vtext})")
            except SchemeError:
                return None
        return None

    def parse_annotation_expr(self, text):
        from .expressions import parse_expression

        try:
            return parse_expression(text)
        except SchemeError:
            return None

    def reaction_from_annotation(self, r, sides, flux):
        ann = _annotation(r, "reaction")
        if not ann:
            return None
        from .expressions import parse_expression

        try:
            fwd = parse_expression(ann["forward"]) if "forward" in ann else None
            rev = parse_expression(ann["reverse"]) if "reverse" in ann else None
            rt = parse_expression(ann["rate"]) if "rate" in ann else None
            rx = Reaction(tuple(sides["r"]), tuple(sides["p"]), forward=fwd, reverse=rev, rate=rt,
                          name=ann.get("name", ""))
        except SchemeError:
            return None
        if not _same15(rx.flux(), flux):
            return None  # the file was edited: keep its kinetic law
        return rx

    # ------------------------------------------------------------------ checks
    def check_unsupported(self):
        m = self.model
        for i in range(m.getNumRules()):
            rule = m.getRule(i)
            if rule.isAlgebraic():
                raise _unsupported("algebraic rule", f"rule #{i + 1}{self.where_file}")
        for i in range(m.getNumEvents()):
            ev = m.getEvent(i)
            if ev.isSetDelay() and ev.getDelay().getMath() is not None:
                raise _unsupported("event with a delay", f"event `{ev.getId() or '#' + str(i + 1)}`")
            if ev.getTrigger() is None or ev.getTrigger().getMath() is None:
                raise _unsupported("event without a trigger", f"event `{ev.getId() or '#' + str(i + 1)}`")
        if m.getNumConstraints():
            warnings.warn(f"SBML import: {m.getNumConstraints()} constraint(s) are not simulated "
                          "(they do not change trajectories)", SbmlImportWarning, stacklevel=4)

    # ------------------------------------------------------------------ events
    def events_to_protocol(self, events, symbols, scale, sp_info, assign):
        if not events:
            return Protocol.empty(), []
        nm = self.nm
        states = {s for s, _ in scale.values()} | {nm(k) for k, v in self.comp_role.items() if v == "state"}
        states |= {nm(p) for p in self.state_params}
        obs_defs = {nm(k): v for k, v in assign.items()}

        def expand(e, depth=0):
            # substitute assignment rules (observables) so triggers and assignments are in base symbols
            if depth > 100:
                raise _unsupported("assignment rules nested too deeply", "event math")
            subs = {s: obs_defs[s.name] for s in e.free_symbols if s.name in obs_defs}
            return expand(e.xreplace(subs), depth + 1) if subs else e

        dynamic = set()
        for sid, info in sp_info.items():
            if info["role"] in ("state", "amount", "obs"):
                dynamic.add(nm(sid))
        for k, v in self.comp_role.items():
            if v in ("state",):
                dynamic.add(nm(k))
        for i in range(self.model.getNumRules()):
            rule = self.model.getRule(i)
            if rule.isRate():
                dynamic.add(nm(rule.getVariable()))
        reactions = {nm(self.model.getReaction(i).getId()) for i in range(self.model.getNumReactions())}
        dynamic |= reactions

        fired = []  # (time, priority, order, event)
        for order, ev in enumerate(events):
            eid = ev.getId() or f"#{order + 1}"
            where = f"event `{eid}`"
            trig = ev.getTrigger()
            cond = expand(self.math(trig.getMath(), f"trigger of {where}"))
            t_fire = self.trigger_time(cond, trig, where, dynamic)
            if t_fire is None:
                continue
            prio = 0.0
            if ev.isSetPriority() and ev.getPriority().getMath() is not None:
                pe = expand(self.math(ev.getPriority().getMath(), f"priority of {where}"))
                if {s.name for s in pe.free_symbols} & dynamic:
                    raise _unsupported("event priority that depends on the model state", where)
                prio = self._eval(pe)
            fired.append((t_fire, -prio, order, ev, where))
        fired.sort(key=lambda x: (x[0], x[1], x[2]))
        for a, b in zip(fired, fired[1:]):
            if a[0] == b[0] and (a[1] == b[1]) and (a[3].isSetPriority() or b[3].isSetPriority()):
                raise _unsupported("simultaneous events with equal priorities", f"{a[4]} and {b[4]} at t = {a[0]:g}")

        # discrete simulation of event-driven parameters/compartments; jumps for states.
        # Events firing at the same time run in priority order; one with useValuesFromTriggerTime
        # computes its assignments from the values before any of them ran, the others from the
        # values left by the events before them.
        driven = {}
        current = {}
        jump_list = []
        group_time, before = None, {}
        for t_fire, _, _, ev, where in fired:
            if t_fire != group_time:
                group_time, before = t_fire, dict(current)
            from_trigger = ev.getUseValuesFromTriggerTime()
            env = before if from_trigger else current
            new_values = {}
            for j in range(ev.getNumEventAssignments()):
                ea = ev.getEventAssignment(j)
                var = ea.getVariable()
                expr = expand(self.math(ea.getMath(), f"assignment to `{var}` in {where}"))
                kind = self.kind.get(var)
                if kind == "species" and sp_info[var]["role"] in ("state", "amount") or \
                        (kind in ("parameter", "compartment") and nm(var) in states):
                    jump = self.state_jump(var, expr, t_fire, where, dynamic, env, scale, sp_info)
                    if from_trigger:  # its value was computed before the earlier events of this time
                        jump_list = [j_ for j_ in jump_list if not (j_[0] == jump[0] and j_[1] == t_fire)]
                    jump_list.append(jump)
                elif kind == "species" and sp_info[var]["role"] in ("obs", "param"):
                    raise _unsupported("event assignment to a species set by a rule or constant", where)
                elif kind in ("parameter", "compartment"):
                    names = {s.name for s in expr.free_symbols}
                    if names & dynamic:
                        raise _unsupported(f"event assignment to `{var}` that depends on the model state "
                                           f"({', '.join(sorted(names & dynamic))})", where)
                    new_values[nm(var)] = self._eval(expr, overrides=env, t=t_fire)
                else:
                    raise _unsupported(f"event assignment to `{var}`", where)
            for k, v in new_values.items():  # all assignments of one event use values from before it
                current[k] = v
                driven.setdefault(k, []).append((t_fire, v))
        components = []
        for name, seq in driven.items():
            ts, vs = [], []
            for t, v in seq:
                if ts and ts[-1] == t:
                    vs[-1] = v
                else:
                    ts.append(t)
                    vs.append(v)
            components.append(steps(name, ts, vs))
        for state, t, amount, mode in jump_list:
            components.append(jumps(state, [t], amount, mode=mode))
        return Protocol(components), list(driven)

    def trigger_time(self, cond, trig, where, dynamic):
        """Time at which a time-only trigger fires (None if never on t >= 0)."""
        names = {s.name for s in cond.free_symbols if s != TIME}
        if names & dynamic:
            raise _unsupported(f"event trigger that depends on the model state ({', '.join(sorted(names & dynamic))})",
                               where, "kinetics protocols hold only time-triggered events (time >= t1); "
                                      "state events need a core extension (Scheme events with root finding)")
        if cond in (sympy.true, sympy.false):
            initially = bool(cond)
            return 0.0 if (initially and not trig.getInitialValue()) else None
        if not isinstance(cond, sympy.core.relational.Relational) or TIME not in cond.free_symbols:
            raise _unsupported(f"event trigger `{cond}` (only `time >= t1` and equivalent relations are supported)",
                               where)
        lhs, rhs = cond.lhs, cond.rhs
        op = cond.rel_op
        if rhs == TIME and lhs != TIME:
            lhs, rhs = rhs, lhs
            op = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "==": "==", "!=": "!="}[op]
        if lhs != TIME or TIME in rhs.free_symbols:
            raise _unsupported(f"event trigger `{cond}` (only `time >= t1` and equivalent relations are supported)",
                               where)
        c = self._eval(rhs)
        if op in (">=", ">"):
            if c > 0 or (c == 0 and op == ">"):
                return c
            return 0.0 if not trig.getInitialValue() else None
        if op in ("<=", "<"):
            true_at_0 = (0 <= c) if op == "<=" else (0 < c)
            return 0.0 if (true_at_0 and not trig.getInitialValue()) else None
        raise _unsupported(f"event trigger `{cond}` (equality with time)", where)

    def state_jump(self, var, expr, t, where, dynamic, current, scale, sp_info):
        nm = self.nm
        sym = sympy.Symbol(nm(var))
        names = {s.name for s in expr.free_symbols}
        other = (names & dynamic) - {nm(var)}
        if other:
            raise _unsupported(f"event assignment to `{var}` that depends on other states ({', '.join(sorted(other))})",
                               where)
        if sym in expr.free_symbols:
            amount = sympy.expand(expr - sym)
            if sym in amount.free_symbols:
                raise _unsupported(f"event assignment `{var} = {expr}` (only `{var} + a` or a value is supported)",
                                   where)
            mode = "add"
        else:
            amount, mode = expr, "set"
        a = self._eval(amount, overrides=current, t=t)
        state = nm(var)
        if var in sp_info and sp_info[var]["role"] == "amount":
            comp = sp_info[var]["comp"]
            cname = nm(comp)
            if self.comp_role[comp] == "state" or self.comp_role[comp] == "obs":
                raise _unsupported(f"event assignment to concentration species `{var}` in compartment `{comp}` "
                                   "whose size is a state", where)
            V = current.get(cname, self.value(cname))
            a = a * V
            state = scale[var][0]
        return state, t, a, mode


def _round15(expr):
    """``expr`` with every float rounded to the 15 significant digits libsbml writes."""
    expr = sympy.sympify(expr)
    floats = {f: sympy.Float(float("%.15g" % float(f))) for f in expr.atoms(sympy.Float)}
    return expr.xreplace(floats) if floats else expr


def _same15(exact, from_sbml) -> bool:
    """Whether an exact expression (from an nmdakin annotation) is what SBML math holds, to 15 digits."""
    a, b = _round15(exact), _round15(from_sbml)
    if a == b:
        return True
    try:
        return _round15(sympy.expand(a - b)) == 0
    except Exception:  # pragma: no cover - sympy failures mean "not the same"
        return False


def _restore_steps(expr):
    """Write back as Heaviside the piecewise forms that nmdakin's SBML export gives a step function."""
    def is_step(e):
        if not isinstance(e, sympy.Piecewise):
            return None
        args = e.args
        if len(args) == 2 and args[0].expr == 1 and args[1].expr == 0 and args[1].cond is sympy.true:
            c = args[0].cond
            if isinstance(c, sympy.Or) and len(c.args) == 2:
                eq = [a for a in c.args if isinstance(a, sympy.Eq)]
                gt = [a for a in c.args if isinstance(a, sympy.StrictGreaterThan)]
                if eq and gt and sympy.expand(eq[0].lhs - eq[0].rhs - (gt[0].lhs - gt[0].rhs)) == 0:
                    return sympy.Heaviside(gt[0].lhs - gt[0].rhs, 1)
            if isinstance(c, sympy.StrictGreaterThan):
                return sympy.Heaviside(c.lhs - c.rhs, 0)
        if len(args) == 3 and args[0].expr == 1 and args[2].expr == 0 and args[2].cond is sympy.true:
            c1, c2 = args[0].cond, args[1].cond
            if isinstance(c1, sympy.StrictGreaterThan) and isinstance(c2, sympy.Eq):
                x = c1.lhs - c1.rhs
                if sympy.expand(c2.lhs - c2.rhs - x) == 0 and args[1].expr.is_Number:
                    return sympy.Heaviside(x, args[1].expr)
        return None

    return expr.replace(lambda e: is_step(e) is not None, lambda e: is_step(e))


def _ann_unit(text):
    """A unit stored in an nmdakin annotation (``-`` for no unit)."""
    return None if text in (None, "", "-") else text


def _bounds(text):
    if not text:
        return (0.0, math.inf)
    lo, hi = text.split()
    return float(lo), float(hi)


def _ast_names(ast) -> set:
    out = set()
    stack = [ast]
    while stack:
        a = stack.pop()
        if a.isName():
            out.add(a.getName())
        stack.extend(a.getChild(i) for i in range(a.getNumChildren()))
    return out


# --------------------------------------------------------------------------- public API
def read_sbml_model(source) -> SbmlModel:
    """Import an SBML file (or SBML text) as an :class:`SbmlModel`: scheme, protocol of its events, symbols.

    Raises
    ------
    ParseError
        Malformed XML, invalid SBML (libsbml's consistency checks), missing values.
    SchemeError
        An unsupported construct; the message names it and the element id.
    """
    doc, name = _read_document(source)
    return _Importer(doc, name).build()


def read_sbml(source) -> Scheme:
    """Import an SBML file (or SBML text) as a :class:`~kinetics.scheme.Scheme`.

    A model with events needs its protocol as well: use :func:`read_sbml_model`
    (this function raises rather than drop the events).

    Examples
    --------
    >>> scheme = read_sbml("tests/data/sbml/decay.xml")   # doctest: +SKIP
    """
    model = read_sbml_model(source)
    if len(model.protocol):
        raise SchemeError(f"SBML model `{model.scheme.name}` has events, which make a protocol: use "
                          "kinetics.sbml_import.read_sbml_model(path) (returns .scheme and .protocol) and "
                          "simulate(model.scheme, model.protocol, ...)")
    return model.scheme
