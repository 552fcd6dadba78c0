"""MathML in SBML, both ways: sympy -> libsbml ASTNode (:func:`to_ast`, export) and libsbml ASTNode -> sympy
(:class:`MathReader`, import), plus the comparisons of exact expressions with what SBML math holds.

Trees are built and read node by node: no formula strings, no XML by hand. ``Heaviside(x, h0)`` is written as
``piecewise(1, x > 0, h0, x == 0, 0)`` and :func:`restore_steps` reads that form back as ``Heaviside``.
"""
from __future__ import annotations

import math
from typing import Mapping

import sympy

from ..errors import ParseError, SchemeError
from ..expressions import bounded_power, check_magnitude
from ..scheme import TIME
from ._common import libsbml_module, unsupported

__all__ = ["to_ast", "MathReader", "ast_names", "same15", "restore_steps", "AVOGADRO", "MAX_CALL_DEPTH"]

#: The value of the ``avogadro`` csymbol that SBML Level 3 defines (CODATA 2006, as in libsbml and the SBML Test
#: Suite), not the exact SI value 6.02214076e23 of 2019 (:data:`kinetics.stochastic.AVOGADRO`).
AVOGADRO = 6.02214179e23
#: Deepest nesting of function-definition calls followed (checked before libsbml's consistency check).
MAX_CALL_DEPTH = 64


# --------------------------------------------------------------------------- writing: sympy -> AST
def _node(kind, *children):
    n = libsbml_module("SBML export").ASTNode(kind)
    for c in children:
        if n.addChild(c) != 0:  # pragma: no cover - libsbml refuses only malformed trees
            raise SchemeError("libsbml refused to build a MathML tree")
    return n


def _number(x) -> "object":
    L = libsbml_module("SBML export")
    x = sympy.sympify(x)
    if x.is_Integer:
        v = int(x)
        if abs(v) < 2 ** 31:
            n = L.ASTNode(L.AST_INTEGER)
            n.setValue(v)
            return n
        x = sympy.Float(x)
    if x.is_Rational:
        p, q = int(x.p), int(x.q)
        if abs(p) < 2 ** 31 and q < 2 ** 31:  # libsbml reads MathML integers as 32-bit
            n = L.ASTNode(L.AST_RATIONAL)
            n.setValue(p, q)
            return n
    v = float(x)
    if not math.isfinite(v):
        raise SchemeError(f"cannot write the non-finite number {x} in SBML math")
    # libsbml writes reals with 15 significant digits (relative rounding <= 5e-16)
    n = L.ASTNode(L.AST_REAL)
    n.setValue(v)
    return n


_FUNCS = {
    sympy.exp: "AST_FUNCTION_EXP", sympy.log: "AST_FUNCTION_LN", sympy.sin: "AST_FUNCTION_SIN",
    sympy.cos: "AST_FUNCTION_COS", sympy.tan: "AST_FUNCTION_TAN", sympy.sinh: "AST_FUNCTION_SINH",
    sympy.cosh: "AST_FUNCTION_COSH", sympy.tanh: "AST_FUNCTION_TANH", sympy.Abs: "AST_FUNCTION_ABS",
    sympy.floor: "AST_FUNCTION_FLOOR", sympy.ceiling: "AST_FUNCTION_CEILING",
    sympy.asin: "AST_FUNCTION_ARCSIN", sympy.acos: "AST_FUNCTION_ARCCOS", sympy.atan: "AST_FUNCTION_ARCTAN",
}
_REL = {"<": "AST_RELATIONAL_LT", "<=": "AST_RELATIONAL_LEQ", ">": "AST_RELATIONAL_GT",
        ">=": "AST_RELATIONAL_GEQ", "==": "AST_RELATIONAL_EQ", "!=": "AST_RELATIONAL_NEQ"}


def to_ast(expr, names: Mapping[str, str] | None = None, time_symbol: str = "t"):
    """Convert a sympy expression to a libsbml ASTNode.

    ``names`` maps scheme symbol names to SBML ids (default: unchanged); the
    symbol ``time_symbol`` becomes the csymbol ``time``. ``Heaviside(x, h0)``
    becomes ``piecewise(1, x > 0, h0, x == 0, 0)``.
    """
    L = libsbml_module("SBML export")
    names = names or {}

    def conv(e):
        if isinstance(e, sympy.Symbol):
            if e.name == time_symbol:
                n = L.ASTNode(L.AST_NAME_TIME)
                n.setName("time")
                return n
            n = L.ASTNode(L.AST_NAME)
            n.setName(names.get(e.name, e.name))
            return n
        if e is sympy.pi:
            return L.ASTNode(L.AST_CONSTANT_PI)
        if e is sympy.E:
            return L.ASTNode(L.AST_CONSTANT_E)
        if e is sympy.true:
            return L.ASTNode(L.AST_CONSTANT_TRUE)
        if e is sympy.false:
            return L.ASTNode(L.AST_CONSTANT_FALSE)
        if e.is_Number:
            if e.is_negative:
                return _node(L.AST_MINUS, _number(-e))
            return _number(e)
        if isinstance(e, sympy.Add):
            terms = list(e.as_ordered_terms())
            pos = [a for a in terms if not _is_negative_term(a)]
            neg = [-a for a in terms if _is_negative_term(a)]
            if not pos:
                return _node(L.AST_MINUS, conv(sympy.Add(*neg, evaluate=False)))
            out = conv(pos[0]) if len(pos) == 1 else _node(L.AST_PLUS, *[conv(a) for a in pos])
            for a in neg:
                out = _node(L.AST_MINUS, out, conv(a))
            return out
        if isinstance(e, sympy.Mul):
            if _is_negative_term(e):
                return _node(L.AST_MINUS, conv(-e))
            num, den = sympy.fraction(e, exact=True)
            if den != 1:
                return _node(L.AST_DIVIDE, conv(num), conv(den))
            factors = list(e.as_ordered_factors())
            return _node(L.AST_TIMES, *[conv(a) for a in factors])
        if isinstance(e, sympy.Pow):
            base, ex = e.args
            if ex.is_Number and ex.is_negative:
                return _node(L.AST_DIVIDE, _number(1), conv(base ** (-ex)))
            if ex == sympy.S.Half:
                return _node(L.AST_FUNCTION_ROOT, conv(base))
            return _node(L.AST_POWER, conv(base), conv(ex))
        if isinstance(e, sympy.Heaviside):
            x = e.args[0]
            h0 = e.args[1] if len(e.args) > 1 else sympy.S.Half
            return conv(sympy.Piecewise((1, x > 0), (h0, sympy.Eq(x, 0)), (0, True)))
        if isinstance(e, sympy.Piecewise):
            kids = []
            for val, cond in e.args:
                if cond is sympy.true:
                    kids.append(conv(val))
                    break
                kids += [conv(val), conv(cond)]
            return _node(L.AST_FUNCTION_PIECEWISE, *kids)
        if isinstance(e, (sympy.Min, sympy.Max)):
            kind = L.AST_FUNCTION_MIN if isinstance(e, sympy.Min) else L.AST_FUNCTION_MAX
            return _node(kind, *[conv(a) for a in e.args])
        if isinstance(e, sympy.core.relational.Relational):
            return _node(getattr(L, _REL[e.rel_op]), conv(e.lhs), conv(e.rhs))
        if isinstance(e, sympy.And):
            return _node(L.AST_LOGICAL_AND, *[conv(a) for a in e.args])
        if isinstance(e, sympy.Or):
            return _node(L.AST_LOGICAL_OR, *[conv(a) for a in e.args])
        if isinstance(e, sympy.Not):
            return _node(L.AST_LOGICAL_NOT, conv(e.args[0]))
        if isinstance(e, sympy.log) and len(e.args) == 1:
            return _node(L.AST_FUNCTION_LN, conv(e.args[0]))
        for cls, kind in _FUNCS.items():
            if isinstance(e, cls):
                return _node(getattr(L, kind), *[conv(a) for a in e.args])
        if isinstance(e, (sympy.erf, sympy.erfc)):
            raise SchemeError(f"cannot write `{e}` in SBML math: MathML (SBML Level 3) has no error function")
        raise SchemeError(f"cannot write `{e}` ({type(e).__name__}) in SBML math")

    return conv(sympy.sympify(expr))


def _is_bool(v) -> bool:
    """Whether ``v`` is a condition (a sympy Symbol is a Boolean too, and is no condition here)."""
    from sympy.logic.boolalg import BooleanAtom, BooleanFunction

    return isinstance(v, (BooleanAtom, BooleanFunction, sympy.core.relational.Relational))


def _number_of(v):
    """A condition as the number SBML L3V2 makes of it in numeric context (1 if true, else 0); numbers as they
    are."""
    if _is_bool(v):
        if v is sympy.true or v is sympy.false:
            return sympy.Integer(1 if v is sympy.true else 0)
        return sympy.Piecewise((1, v), (0, True))
    return v


def _no_derivative(fname, arg, where):
    """Refuse ``fname`` (floor, ceiling...) of an expression of anything but time and numbers."""
    varying = sorted(s.name for s in arg.free_symbols if s != TIME)
    if varying:
        raise unsupported(f"`{fname}` of an expression of {', '.join(f'`{n}`' for n in varying)}",
                          where, "kinetics differentiates rate laws (Jacobian, sensitivities) and "
                                 f"`{fname}` has no derivative; it is supported only of time and numbers")


def _area_log(f, x):
    """The inverse hyperbolic function ``f`` (asinh, acosh, atanh) of ``x`` written with logarithms."""
    if f is sympy.asinh:
        return sympy.log(x + sympy.sqrt(x ** 2 + 1))
    if f is sympy.acosh:
        return sympy.log(x + sympy.sqrt(x - 1) * sympy.sqrt(x + 1))
    return sympy.log((1 + x) / (1 - x)) / 2


def _is_negative_term(a) -> bool:
    if a.is_Number:
        return bool(a.is_negative)
    if isinstance(a, sympy.Mul):
        c = a.as_coeff_Mul()[0]
        return bool(c.is_Number and c.is_negative)
    return False


# --------------------------------------------------------------------------- reading: AST -> sympy
class MathReader:
    """libsbml AST -> sympy, with function definitions inlined and ids renamed."""

    def __init__(self, model, rename: Mapping[str, str]):
        L = libsbml_module("SBML import")
        self.L = L
        self.rename = rename
        self.functions = {}
        self.empty = set()
        self.nonfinite = False
        for i in range(model.getNumFunctionDefinitions()):
            fd = model.getFunctionDefinition(i)
            if fd.getMath() is None or fd.getBody() is None:
                self.empty.add(fd.getId())   # allowed by SBML L3V2; calling it is an error
                continue
            args = [fd.getArgument(j).getName() for j in range(fd.getNumArguments())]
            self.functions[fd.getId()] = (args, fd.getBody(), fd.getId())
        self.memo = {}   # values of constant subexpressions (magnitude guard), shared by every conversion

    def __call__(self, ast, where: str, local=None, *, boolean: bool = False, nonfinite: bool = False):
        """The sympy form of ``ast``: a number (booleans as 1 and 0) unless ``boolean`` (a condition, numbers
        being true when non-zero). ``nonfinite`` lets the numbers inf and NaN through (initial values)."""
        if ast is None:
            raise unsupported("missing math", where)
        self.nonfinite = nonfinite
        try:
            out = self.cond(ast, where, dict(local or {}), 0) if boolean else \
                _number_of(self.conv(ast, where, dict(local or {}), 0))
        except RecursionError:
            raise unsupported("math nested too deeply", where) from None
        finally:
            self.nonfinite = False
        if not nonfinite and isinstance(out, sympy.Basic) and out.has(sympy.zoo, sympy.oo, -sympy.oo):
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

        def c(x):  # a numeric operand (SBML L3V2: true and false are 1 and 0 there)
            return _number_of(self.conv(x, where, local, depth))

        if t == L.AST_INTEGER:
            return sympy.Integer(a.getInteger())
        if t in (L.AST_REAL, L.AST_REAL_E):
            v = a.getReal()
            if not math.isfinite(v):
                if self.nonfinite:
                    return sympy.nan if math.isnan(v) else (sympy.oo if v > 0 else -sympy.oo)
                raise unsupported("infinite or NaN number in math", where)
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
                _no_derivative("floor" if t == L.AST_FUNCTION_FLOOR else "ceiling", arg, where)
            return simple[t](arg)
        inverse = {L.AST_FUNCTION_ARCSEC: sympy.acos, L.AST_FUNCTION_ARCCSC: sympy.asin,
                   L.AST_FUNCTION_ARCCOT: sympy.atan, L.AST_FUNCTION_SECH: sympy.cosh,
                   L.AST_FUNCTION_CSCH: sympy.sinh, L.AST_FUNCTION_COTH: sympy.tanh}
        if t in inverse:   # arcsec(x) = arccos(1/x), sech(x) = 1/cosh(x)...
            arg = c(kids[0])
            if t in (L.AST_FUNCTION_SECH, L.AST_FUNCTION_CSCH, L.AST_FUNCTION_COTH):
                return self.power(inverse[t](arg), sympy.Integer(-1), where)
            return inverse[t](self.power(arg, sympy.Integer(-1), where))
        area = {L.AST_FUNCTION_ARCSINH: (False, sympy.asinh), L.AST_FUNCTION_ARCCOSH: (False, sympy.acosh),
                L.AST_FUNCTION_ARCTANH: (False, sympy.atanh), L.AST_FUNCTION_ARCCSCH: (True, sympy.asinh),
                L.AST_FUNCTION_ARCSECH: (True, sympy.acosh), L.AST_FUNCTION_ARCCOTH: (True, sympy.atanh)}
        if t in area:   # as logarithms (what every code generator can print): arcsinh(x) = ln(x + sqrt(x^2 + 1))
            invert, f = area[t]
            arg = c(kids[0])
            if invert:
                arg = self.power(arg, sympy.Integer(-1), where)
            return _area_log(f, arg)
        if t == L.AST_FUNCTION_FACTORIAL:
            arg = c(kids[0])
            if arg.free_symbols:
                raise unsupported("`factorial` of an expression of "
                                  + ", ".join(f"`{s.name}`" for s in sorted(arg.free_symbols, key=str)), where,
                                  "it is supported only of numbers")
            if not (arg.is_integer and arg >= 0) and not (arg.is_Float and float(arg).is_integer() and arg >= 0):
                raise ParseError(f"{where}: factorial of {arg}, which is not a non-negative integer")
            if int(arg) > 170:
                raise ParseError(f"{where}: factorial of {arg} overflows a float")
            return sympy.Integer(math.factorial(int(arg)))
        if t in (L.AST_FUNCTION_QUOTIENT, L.AST_FUNCTION_REM):
            # MathML: a = b q + r with q an integer rounded towards zero (r has the sign of a)
            a_, b_ = c(kids[0]), c(kids[1])
            if getattr(b_, "is_zero", False):
                raise ParseError(f"{where}: division by zero")
            ratio = a_ * self.power(b_, sympy.Integer(-1), where)
            _no_derivative("quotient" if t == L.AST_FUNCTION_QUOTIENT else "rem", ratio, where)
            q = sympy.Piecewise((sympy.floor(ratio), ratio >= 0), (sympy.ceiling(ratio), True))
            return q if t == L.AST_FUNCTION_QUOTIENT else a_ - b_ * q
        if t == L.AST_FUNCTION_MAX:
            return sympy.Max(*[c(k) for k in kids])
        if t == L.AST_FUNCTION_MIN:
            return sympy.Min(*[c(k) for k in kids])
        if t == L.AST_FUNCTION_PIECEWISE:
            pieces = []
            for i in range(0, len(kids) - 1, 2):  # (SBML L3V2: the values may be booleans, as 1 and 0)
                pieces.append((c(kids[i]), self.cond(kids[i + 1], where, local, depth)))
            if len(kids) % 2 == 1:
                pieces.append((c(kids[-1]), sympy.true))
            else:
                pieces.append((sympy.nan, sympy.true))  # undefined outside the pieces: NaN, never a silent 0
            # the step forms nmdakin writes for heaviside() are Heaviside again at once, before sympy
            # distributes a product or a division over the pieces (x/heaviside(x) would become zoo)
            return restore_steps(sympy.Piecewise(*pieces))
        if t == L.AST_FUNCTION:
            name = a.getName()
            if name in self.empty:
                raise unsupported(f"call of function `{name}`, which has no math", where)
            if name not in self.functions:
                raise unsupported(f"call of unknown function `{name}`", where)
            if depth > MAX_CALL_DEPTH:
                raise unsupported(f"function calls nested deeper than {MAX_CALL_DEPTH} (`{name}`)", where)
            args, body, fid = self.functions[name]
            if len(args) != len(kids):
                raise ParseError(f"{where}: function `{name}` takes {len(args)} argument(s), got {len(kids)}")
            bound = {n: c(k) for n, k in zip(args, kids)}
            return self.conv(body, f"{where}, function `{fid}`", bound, depth + 1)
        rel = {L.AST_RELATIONAL_EQ: sympy.Eq, L.AST_RELATIONAL_NEQ: sympy.Ne, L.AST_RELATIONAL_GT: sympy.Gt,
               L.AST_RELATIONAL_LT: sympy.Lt, L.AST_RELATIONAL_GEQ: sympy.Ge, L.AST_RELATIONAL_LEQ: sympy.Le}
        if t in rel or t in (L.AST_LOGICAL_AND, L.AST_LOGICAL_OR, L.AST_LOGICAL_NOT, L.AST_LOGICAL_XOR,
                             L.AST_LOGICAL_IMPLIES):
            return self.cond(a, where, local, depth)
        names = {L.AST_FUNCTION_DELAY: "csymbol `delay`", L.AST_FUNCTION_RATE_OF: "csymbol `rateOf`",
                 L.AST_LAMBDA: "lambda outside a function definition"}
        what = names.get(t, f"MathML element `{a.getName() or L.AST_NAME}` (AST type {t})")
        raise unsupported(what, where)

    def cond(self, a, where, local, depth):
        L = self.L
        t = a.getType()
        kids = [a.getChild(i) for i in range(a.getNumChildren())]
        rel = {L.AST_RELATIONAL_EQ: sympy.Eq, L.AST_RELATIONAL_NEQ: sympy.Ne, L.AST_RELATIONAL_GT: sympy.Gt,
               L.AST_RELATIONAL_LT: sympy.Lt, L.AST_RELATIONAL_GEQ: sympy.Ge, L.AST_RELATIONAL_LEQ: sympy.Le}
        if t in rel:
            vals = [_number_of(self.conv(k, where, local, depth)) for k in kids]
            if len(vals) < 2:
                raise unsupported("relation with fewer than two operands", where)
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
        if t == L.AST_LOGICAL_IMPLIES:
            return sympy.Or(sympy.Not(self.cond(kids[0], where, local, depth)),
                            self.cond(kids[1], where, local, depth))
        if t in (L.AST_CONSTANT_TRUE, L.AST_CONSTANT_FALSE):
            return sympy.true if t == L.AST_CONSTANT_TRUE else sympy.false
        v = self.conv(a, where, local, depth)   # a number as a condition: true when not zero (SBML L3V2)
        if _is_bool(v):
            return v
        return sympy.Ne(v, 0)


def ast_names(ast) -> set:
    out = set()
    stack = [ast]
    while stack:
        a = stack.pop()
        if a.isName():
            out.add(a.getName())
        stack.extend(a.getChild(i) for i in range(a.getNumChildren()))
    return out


# --------------------------------------------------------------------------- exact expressions against SBML math
def _round15(expr):
    """``expr`` with every float rounded to the 15 significant digits libsbml writes."""
    expr = sympy.sympify(expr)
    floats = {f: sympy.Float(float("%.15g" % float(f))) for f in expr.atoms(sympy.Float)}
    return expr.xreplace(floats) if floats else expr


def same15(exact, from_sbml) -> bool:
    """Whether an exact expression (from an nmdakin annotation) is what SBML math holds, to 15 digits."""
    a, b = _round15(exact), _round15(from_sbml)
    if a == b:
        return True
    try:
        return _round15(sympy.expand(a - b)) == 0
    except Exception:  # pragma: no cover - sympy failures mean "not the same"
        return False


def restore_steps(expr):
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
