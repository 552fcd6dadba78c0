"""sympy expression -> libsbml ASTNode (MathML), built node by node (no formula strings, no XML by hand)."""
from __future__ import annotations

import math
from typing import Mapping

import sympy

from ..errors import SchemeError

__all__ = ["to_ast"]


def _libsbml():
    import libsbml

    return libsbml


def _node(kind, *children):
    n = _libsbml().ASTNode(kind)
    for c in children:
        if n.addChild(c) != 0:  # pragma: no cover - libsbml refuses only malformed trees
            raise SchemeError("libsbml refused to build a MathML tree")
    return n


def _number(x) -> "object":
    L = _libsbml()
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
    L = _libsbml()
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
        raise SchemeError(f"cannot write `{e}` ({type(e).__name__}) in SBML math")

    return conv(sympy.sympify(expr))


def _is_negative_term(a) -> bool:
    if a.is_Number:
        return bool(a.is_negative)
    if isinstance(a, sympy.Mul):
        c = a.as_coeff_Mul()[0]
        return bool(c.is_Number and c.is_negative)
    return False
