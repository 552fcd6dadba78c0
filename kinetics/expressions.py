"""Safe parsing of rate expressions and reaction equations.

Loading a scheme must never run code, so expressions are *not* handed to
``eval``, ``sympify`` or ``parse_expr``. :func:`parse_expression` lets Python's
parser build a syntax tree (``ast.parse(..., mode="eval")`` only parses; it
executes nothing) and converts a whitelist of node types to sympy objects;
anything else is a :class:`~kinetics.errors.ParseError` that names the offending
construct and its column.

Expression syntax
-----------------
* numbers: ``3``, ``0.5``, ``1e-3`` (integers become :class:`sympy.Integer`,
  ``1/3`` is the exact rational, decimals become 53-bit :class:`sympy.Float`
  equal to the Python float of the literal);
* names: ``Rb``, ``glu``, ``t`` (time) become plain :class:`sympy.Symbol`;
  ``pi`` is the constant;
* operators: unary ``+ -``, binary ``+ - * /``, powers ``**`` or ``^`` (as in
  SBML infix; ``-a^2`` is ``-(a^2)`` and ``a^b^c`` is ``a^(b^c)``), parentheses;
* functions: ``exp``, ``log`` (natural; ``log(x, base)``), ``ln``, ``log10``,
  ``sqrt``, ``sin``, ``cos``, ``tan``, ``sinh``, ``cosh``, ``tanh``, ``abs``,
  ``min(a, b, ...)``, ``max(a, b, ...)``, ``pow(a, b)``, ``heaviside(x)``
  (the step with ``heaviside(0) = 1``; ``heaviside(x, h0)`` sets the value at
  0), ``sigmoid(x) = 1/(1 + exp(-x))``, ``erf(x)`` and ``erfc(x) = 1 - erf(x)``
  (the error function: Gaussian cumulative distributions);
* ``piecewise(v1, c1, v2, c2, ..., otherwise)``: the first ``v_i`` whose
  condition ``c_i`` holds, else ``otherwise``. Conditions are comparisons
  ``< <= > >= == !=`` (chains such as ``0 < x < 1`` allowed) combined with
  ``and``, ``or``, ``not``; comparisons are allowed nowhere else.

:func:`format_expression` writes an expression back in this syntax, so that
``parse_expression(format_expression(e)) == e`` for every expression
:func:`parse_expression` returns.

Examples
--------
>>> parse_expression("2*Rb*glu")
2*Rb*glu
>>> format_expression(parse_expression("piecewise(1, V > -20, 0)"))
'piecewise(1, V > -20, 0)'
>>> parse_equation("2A + B -> C")
((('A', 2), ('B', 1)), (('C', 1),), False)
"""
from __future__ import annotations

import ast
import cmath
import keyword
import math
import re
import sys
from typing import Iterable

import sympy
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from .errors import ParseError, SchemeError, did_you_mean

__all__ = ["parse_expression", "format_expression", "parse_equation", "FUNCTIONS",
           "MAX_EXPRESSION_LENGTH", "MAX_DEPTH", "MAX_COEFFICIENT", "bounded_power", "check_magnitude"]

#: Longest expression text accepted.
MAX_EXPRESSION_LENGTH = 10_000
#: Deepest nesting of the syntax tree accepted.
MAX_DEPTH = 200
#: Largest exact number (in bits) that a power or product of literals may produce.
_MAX_BITS = 100_000
#: Largest numeric exponent accepted.
_MAX_EXPONENT = 10_000
#: Largest integer power of a non-number (sympy's simplification expands such powers).
_MAX_SYMBOLIC_POWER = 64
#: Largest integer power of a non-number inside sin, cos, tan, sinh, cosh, tanh, heaviside.
_MAX_TRIG_POWER = 12
_TRIG = frozenset({"sin", "cos", "tan", "sinh", "cosh", "tanh", "heaviside"})
#: Largest exact number in a result (Python reads integer literals of at most 4300 digits).
_MAX_LITERAL_BITS = 13_000
#: Largest stoichiometric coefficient of a reaction equation (mass action raises a species to this power,
#: like the largest integer power of a name an expression may have).
MAX_COEFFICIENT = _MAX_SYMBOLIC_POWER


# --------------------------------------------------------------------------- functions
def _log(x, base=None):
    return sympy.log(x) if base is None else sympy.log(x, base)


def _heaviside(x, h0=sympy.Integer(1)):
    return sympy.Heaviside(x, h0)


def _sigmoid(x):
    return 1 / (1 + sympy.exp(-x))


# name -> (minimum arguments, maximum arguments or None, builder)
_FUNCTIONS = {
    "exp": (1, 1, sympy.exp),
    "log": (1, 2, _log),
    "ln": (1, 1, sympy.log),
    "log10": (1, 1, lambda x: sympy.log(x, 10)),
    "sqrt": (1, 1, sympy.sqrt),
    "sin": (1, 1, sympy.sin),
    "cos": (1, 1, sympy.cos),
    "tan": (1, 1, sympy.tan),
    "sinh": (1, 1, sympy.sinh),
    "cosh": (1, 1, sympy.cosh),
    "tanh": (1, 1, sympy.tanh),
    "abs": (1, 1, sympy.Abs),
    "min": (2, None, sympy.Min),
    "max": (2, None, sympy.Max),
    "pow": (2, 2, lambda a, b: a ** b),
    "heaviside": (1, 2, _heaviside),
    "sigmoid": (1, 1, _sigmoid),
    "erf": (1, 1, sympy.erf),
    "erfc": (1, 1, sympy.erfc),
    "piecewise": (3, None, None),  # handled specially (conditions)
}
#: Names of the functions an expression may call.
FUNCTIONS = frozenset(_FUNCTIONS)
_CONSTANTS = {"pi": sympy.pi}

# sympy heads format_expression can write (anything else sympy's evaluation
# introduces, e.g. ``re`` in ``abs(exp(x)) -> exp(re(x))``, is rejected by the parser)
_WRITABLE_FUNCS = (sympy.exp, sympy.log, sympy.sin, sympy.cos, sympy.tan, sympy.sinh, sympy.cosh,
                   sympy.tanh, sympy.erf, sympy.erfc, sympy.Abs, sympy.Min, sympy.Max, sympy.Heaviside,
                   sympy.Piecewise)

_COMPARE = {ast.Lt: (sympy.Lt, "<"), ast.LtE: (sympy.Le, "<="), ast.Gt: (sympy.Gt, ">"),
            ast.GtE: (sympy.Ge, ">="), ast.Eq: (sympy.Eq, "=="), ast.NotEq: (sympy.Ne, "!=")}
_BINOP_TEXT = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
               ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^"}
_NODE_TEXT = {
    ast.Attribute: "attribute access (`a.b`)",
    ast.Subscript: "subscript (`a[...]`)",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "generator expression",
    ast.List: "list (`[...]`)",
    ast.Tuple: "tuple",
    ast.Dict: "dict (`{...}`)",
    ast.Set: "set (`{...}`)",
    ast.Starred: "starred argument (`*x`)",
    ast.NamedExpr: "assignment expression (`:=`)",
    ast.JoinedStr: "f-string",
    ast.FormattedValue: "f-string",
    ast.Await: "`await`",
    ast.Yield: "`yield`",
    ast.YieldFrom: "`yield from`",
    ast.Slice: "slice",
}


class _Fail(Exception):
    """Internal: a conversion error at a node (message, node)."""

    def __init__(self, message, node=None):
        super().__init__(message)
        self.message = message
        self.node = node


def _replace_carets(text: str):
    """Replace ``^`` with ``**``; return the new text and a map new index -> original index."""
    out, orig = [], []
    for i, ch in enumerate(text):
        if ch == "^":
            out.append("**")
            orig += [i, i]
        else:
            out.append(ch)
            orig.append(i)
    orig.append(len(text))
    return "".join(out), orig


# --------------------------------------------------------------------------- magnitudes
_DOUBLE_MAX = sys.float_info.max


class _Overflow(Exception):
    """Internal: a constant subexpression whose value is beyond double precision."""

    def __init__(self, expr):
        try:  # unordered: ordering the terms of an Add would evaluate them (the hang this guards against)
            text = _Printer({"order": "none"}).doprint(expr)
        except (SchemeError, RecursionError):
            text = type(expr).__name__ + "(...)"
        super().__init__(text)
        self.text = text if len(text) <= 60 else text[:57] + "..."


def _finite(v, expr):
    if cmath.isinf(v):
        raise _Overflow(expr)
    return v


def _leaf_value(e):
    """Value of a number or constant leaf (complex), ``None`` for a symbol."""
    if isinstance(e, sympy.Integer):
        try:
            return complex(float(int(e)))
        except OverflowError:
            raise _Overflow(e) from None
    if isinstance(e, sympy.Rational):
        try:
            return complex(int(e.p) / int(e.q))
        except OverflowError:
            raise _Overflow(e) from None
    if isinstance(e, sympy.Float):
        return complex(_finite(float(e), e))
    if e is sympy.I:
        return 1j
    if isinstance(e, sympy.NumberSymbol):
        return complex(float(e))
    if isinstance(e, (sympy.Symbol, sympy.Dummy)):
        return None
    return complex(math.nan)  # oo, zoo, nan, true, false...: rejected elsewhere or not a magnitude


def _real_only(f):
    """A real function of a complex value: NaN off the real axis (a magnitude check, not a value)."""
    return lambda z: complex(f(z.real)) if z.imag == 0 else complex(math.nan)


_UNARY = {sympy.exp: cmath.exp, sympy.sin: cmath.sin, sympy.cos: cmath.cos, sympy.tan: cmath.tan,
          sympy.sinh: cmath.sinh, sympy.cosh: cmath.cosh, sympy.tanh: cmath.tanh,
          sympy.erf: _real_only(math.erf), sympy.erfc: _real_only(math.erfc)}


def _combine(e, vals):
    """Value of the constant node ``e`` from its arguments' values (may raise OverflowError/ValueError)."""
    if isinstance(e, sympy.Add):
        return sum(vals, 0j)
    if isinstance(e, sympy.Mul):
        out = 1 + 0j
        for v in vals:
            out *= v
        return out
    if isinstance(e, sympy.Pow):
        b, x = vals
        if b == 0:
            return complex(0.0) if x.real > 0 else complex(math.nan)
        return cmath.exp(x * cmath.log(b))
    f = _UNARY.get(type(e))
    if f is not None:
        return f(vals[0])
    if isinstance(e, sympy.log):
        v = cmath.log(vals[0])
        return v / cmath.log(vals[1]) if len(vals) > 1 else v
    if isinstance(e, sympy.Abs):
        return complex(abs(vals[0]))
    if isinstance(e, (sympy.Min, sympy.Max)):
        reals = [v.real for v in vals]
        return complex(min(reals) if isinstance(e, sympy.Min) else max(reals))
    if isinstance(e, sympy.Piecewise):        # a bound: the largest branch
        return max(vals, key=lambda v: abs(v) if not cmath.isnan(v) else -1.0)
    if isinstance(e, sympy.functions.elementary.piecewise.ExprCondPair):
        return vals[0]
    if isinstance(e, sympy.Heaviside):
        return complex(1.0 if vals[0].real > 0 else 0.0)
    return complex(math.nan)                  # a constant of unknown value; its arguments were checked


def _approx(e, memo):
    """Double-precision (complex) value of ``e`` if it is constant, ``None`` if it has symbols.

    Raises :class:`_Overflow` when ``e`` or one of its constant subexpressions is beyond double range.
    Memoised in ``memo`` (shared by one parse), so each distinct subexpression is evaluated once.
    """
    try:
        return memo[e]
    except KeyError:
        pass
    except TypeError:  # unhashable: not a sympy expression
        return None
    if not e.args:
        v = _leaf_value(e)
    else:
        vals = [_approx(a, memo) for a in e.args]
        if any(v is None for v in vals):
            v = None
        else:
            try:
                v = _combine(e, vals)
            except OverflowError:
                raise _Overflow(e) from None
            except (ValueError, ZeroDivisionError, TypeError):
                v = complex(math.nan)
    if v is not None:
        _finite(v, e)
    memo[e] = v
    return v


def bounded_power(base, exponent, memo=None):
    """``base ** exponent`` under the parser's limits (for importers that build sympy directly).

    Refuses, with a :class:`~kinetics.errors.ParseError`, exact powers too large to compute, large integer
    powers of non-numbers, and results whose value is beyond double precision (``9^(9^9)``).
    """
    conv = _Converter(None)
    if memo is not None:
        conv.memo = memo
    try:
        result = conv._power(base, exponent, None)
        conv._guard(result, None)
    except _Fail as exc:
        raise ParseError(exc.message) from None
    return result


def check_magnitude(expr, memo=None) -> None:
    """Raise :class:`~kinetics.errors.ParseError` if a constant subexpression of ``expr`` (a sympy
    expression) has a value beyond double precision; ``memo`` (a dict) may be shared between calls."""
    try:
        _approx(expr, {} if memo is None else memo)
    except _Overflow as exc:
        raise ParseError(f"the value of a constant subexpression (`{exc.text}`) is outside the double "
                         f"precision range (magnitude above {_DOUBLE_MAX:.3g})") from None


class _Converter:
    def __init__(self, names):
        self.names = names
        self.memo = {}

    # ------------------------------------------------------------ helpers
    @staticmethod
    def _bits(expr) -> int:
        if isinstance(expr, sympy.Rational):
            return max(int(expr.p).bit_length(), int(expr.q).bit_length())
        return max((_Converter._bits(a) for a in expr.atoms(sympy.Rational)), default=0)

    def _power(self, base, exponent, node):
        self._check_floats((base, exponent), node)
        if (isinstance(exponent, sympy.Integer) and abs(exponent) > _MAX_SYMBOLIC_POWER
                and not isinstance(base, sympy.Number)):
            raise _Fail(f"integer power {exponent} of a non-number is too large (at most {_MAX_SYMBOLIC_POWER})", node)
        if isinstance(exponent, sympy.Number) and exponent.is_finite:
            e = abs(float(exponent))
            if e > _MAX_EXPONENT and (isinstance(base, sympy.Number) or base.atoms(sympy.Number)):
                raise _Fail(f"exponent {exponent} is too large", node)
            if self._bits(base) * e > _MAX_BITS:
                raise _Fail("power of a number is too large to compute exactly", node)
        result = base ** exponent
        self._check_floats((result,), node)
        return result

    @staticmethod
    def _check_floats(args, node, exact_bits=None):
        """Reject floats beyond double range early (sympy evaluates functions of them very
        slowly); with ``exact_bits``, also exact numbers larger than that many bits."""
        for arg in args:
            for f in arg.atoms(sympy.Float):
                sign, man, exp, bc = f._mpf_
                if man and not -1021 <= exp + bc <= 1024:
                    raise _Fail("number outside the double precision range", node)
            if exact_bits is not None and _Converter._bits(arg) > exact_bits:
                raise _Fail("number too large for a function argument", node)

    @staticmethod
    def _check_trig_argument(arg, fname, node):
        """Large integer powers inside trigonometric/hyperbolic functions make sympy's
        automatic simplification (as_real_imag expansions) explode; refuse them."""
        for p in arg.atoms(sympy.Pow):
            e = p.exp
            if isinstance(e, sympy.Integer) and abs(e) > _MAX_TRIG_POWER and not isinstance(p.base, sympy.Number):
                raise _Fail(f"power {e} inside `{fname}(...)` is too large (at most {_MAX_TRIG_POWER})", node)

    def _product(self, factors, node):
        if sum(self._bits(f) for f in factors if isinstance(f, sympy.Rational)) > 2 * _MAX_BITS:
            raise _Fail("product of numbers is too large to compute exactly", node)
        return sympy.Mul(*factors)

    # ------------------------------------------------------------ magnitudes
    def _guard(self, expr, node):
        """Refuse ``expr`` if a constant subexpression's value is beyond double precision.

        sympy keeps constants such as ``exp(exp(exp(exp(9))))`` or ``100**exp(1e8)`` unevaluated and
        evaluates them (exactly, at growing precision) when it orders terms for printing or compares
        them, which hangs or overflows; so every constant subtree is evaluated here, bottom-up, in
        double-precision (complex) arithmetic, and any value beyond the double range is a ParseError.
        Exact rationals alone are bounded by the bit limits and checked at the end.
        """
        if not isinstance(expr, sympy.Basic) or isinstance(expr, sympy.Rational):
            return
        try:
            _approx(expr, self.memo)
        except _Overflow as exc:
            raise _Fail(f"the value of a constant subexpression (`{exc.text}`) is outside the double precision "
                        f"range (magnitude above {_DOUBLE_MAX:.3g})", node) from None

    # ------------------------------------------------------------ values
    def value(self, node, depth):
        result = self._value(node, depth)
        self._guard(result, node)
        return result

    def _value(self, node, depth):
        if depth > MAX_DEPTH:
            raise _Fail(f"expression is nested too deeply (more than {MAX_DEPTH} levels)", node)
        d = depth + 1
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return -self.value(node.operand, d)
            if isinstance(node.op, ast.UAdd):
                return self.value(node.operand, d)
            if isinstance(node.op, ast.Not):
                raise _Fail("`not` is only allowed in a condition of piecewise(...)", node)
            raise _Fail("operator `~` is not supported", node)
        if isinstance(node, ast.BinOp):
            op = type(node.op)
            if op in (ast.Add, ast.Sub):
                return self.chain(node, d, (ast.Add, ast.Sub))
            if op in (ast.Mult, ast.Div):
                return self.chain(node, d, (ast.Mult, ast.Div))
            if op is ast.Pow:
                return self._power(self.value(node.left, d), self.value(node.right, d), node)
            raise _Fail(f"operator `{_BINOP_TEXT.get(op, op.__name__)}` is not supported", node)
        if isinstance(node, ast.Call):
            return self.call(node, d)
        if isinstance(node, (ast.Compare, ast.BoolOp)):
            what = "comparison" if isinstance(node, ast.Compare) else f"`{'and' if isinstance(node.op, ast.And) else 'or'}`"
            raise _Fail(f"{what} is only allowed in a condition of piecewise(value, condition, ..., otherwise)", node)
        if isinstance(node, ast.IfExp):
            raise _Fail("conditional expression (`a if c else b`) is not supported; "
                        "write piecewise(a, c, b)", node)
        raise _Fail(f"{_NODE_TEXT.get(type(node), type(node).__name__)} is not allowed in an expression", node)

    def chain(self, node, depth, ops):
        """A left-leaning chain of + - (or * /) flattened without recursion."""
        items = []
        cur = node
        while isinstance(cur, ast.BinOp) and isinstance(cur.op, ops):
            items.append((cur.op, cur.right))
            cur = cur.left
        terms = [self.value(cur, depth)]
        for op, right in reversed(items):
            v = self.value(right, depth)
            if isinstance(op, ast.Sub):
                v = -v
            elif isinstance(op, ast.Div):
                v = self._power(v, sympy.Integer(-1), right)
            terms.append(v)
        if ops[0] is ast.Add:
            return sympy.Add(*terms)
        return self._product(terms, node)

    def constant(self, node):
        v = node.value
        if isinstance(v, bool) or v is None or v is Ellipsis:
            raise _Fail(f"`{v}` is not allowed in an expression", node)
        if isinstance(v, int):
            return sympy.Integer(v)
        if isinstance(v, float):
            if not math.isfinite(v):
                raise _Fail("number is too large (it overflows to infinity)", node)
            # the literal's shortest repr at double precision: equal to sympy.Float(v)
            return sympy.Float(repr(v), precision=53)
        if isinstance(v, complex):
            raise _Fail("complex number (`...j`) is not allowed", node)
        if isinstance(v, str):
            raise _Fail("string literal is not allowed in an expression", node)
        if isinstance(v, bytes):
            raise _Fail("bytes literal is not allowed in an expression", node)
        raise _Fail(f"constant {v!r} is not allowed", node)

    def name(self, node):
        n = node.id
        if n in _CONSTANTS:
            return _CONSTANTS[n]
        if n.startswith("__"):
            raise _Fail(f"name `{n}` is not allowed (names may not start with `__`)", node)
        if self.names is not None and n not in self.names:
            hint = did_you_mean(n, self.names)
            if not hint and n in _FUNCTIONS:
                hint = f"; `{n}` is a function: call it as {n}(...)"
            raise _Fail(f"unknown name `{n}`{hint}", node)
        return sympy.Symbol(n)

    def call(self, node, depth):
        func = node.func
        if not isinstance(func, ast.Name):
            if isinstance(func, ast.Attribute):
                raise _Fail("attribute access (`a.b`) is not allowed in an expression", func)
            raise _Fail("only named functions can be called", func)
        fname = func.id
        if fname not in _FUNCTIONS:
            raise _Fail(f"unknown function `{fname}`" + did_you_mean(fname, _FUNCTIONS)
                        + " (allowed: " + ", ".join(sorted(_FUNCTIONS)) + ")", func)
        if node.keywords:
            kw = node.keywords[0]
            label = f"`{kw.arg}=...`" if kw.arg else "`**kwargs`"
            raise _Fail(f"keyword argument {label} is not allowed in a call of `{fname}`", kw)
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise _Fail("starred argument (`*x`) is not allowed", a)
        lo, hi, builder = _FUNCTIONS[fname]
        n = len(node.args)
        if n < lo or (hi is not None and n > hi):
            if hi is None:
                want = f"at least {lo} arguments"
            elif lo == hi:
                want = f"{lo} argument{'s' if lo != 1 else ''}"
            else:
                want = f"{lo} to {hi} arguments"
            raise _Fail(f"function `{fname}` takes {want}, got {n}", node)
        if fname == "piecewise":
            return self.piecewise(node, depth)
        args = [self.value(a, depth) for a in node.args]
        self._check_floats(args, node, exact_bits=None if fname in ("min", "max", "pow") else 1100)
        if fname in _TRIG:
            self._check_trig_argument(args[0], fname, node)
        if fname == "pow":
            return self._power(args[0], args[1], node)
        try:
            result = builder(*args)
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise _Fail(f"cannot evaluate `{fname}(...)`: {exc}", node) from None
        self.check_writable(result, args, fname, node)
        return result

    def check_writable(self, result, args, fname, node):
        """Reject calls that sympy rewrites into functions outside the syntax (abs(exp(x)) -> exp(re(x)))."""
        for f in result.atoms(sympy.Function):
            if not isinstance(f, _WRITABLE_FUNCS):
                raise _Fail(f"`{fname}(...)` cannot be represented: sympy rewrites it as "
                            f"`{sympy.sstr(result)}`, which uses `{type(f).__name__}`", node)

    def piecewise(self, node, depth):
        args = node.args
        if len(args) % 2 == 0:
            raise _Fail("piecewise takes an odd number of arguments: "
                        "piecewise(value, condition, ..., otherwise)", node)
        pairs = []
        for i in range(0, len(args) - 1, 2):
            pairs.append((self.value(args[i], depth), self.condition(args[i + 1], depth)))
        pairs.append((self.value(args[-1], depth), sympy.true))
        try:
            return sympy.Piecewise(*pairs)
        except (TypeError, ValueError) as exc:
            raise _Fail(f"invalid piecewise(...): {exc}", node) from None

    # ------------------------------------------------------------ conditions
    def condition(self, node, depth):
        if depth > MAX_DEPTH:
            raise _Fail(f"expression is nested too deeply (more than {MAX_DEPTH} levels)", node)
        d = depth + 1
        if isinstance(node, ast.Compare):
            parts = []
            left = self.value(node.left, d)
            for op, comp in zip(node.ops, node.comparators):
                if type(op) not in _COMPARE:
                    text = {ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}.get(type(op), "?")
                    raise _Fail(f"comparison `{text}` is not supported (use < <= > >= == !=)", node)
                right = self.value(comp, d)
                try:
                    parts.append(_COMPARE[type(op)][0](left, right))
                except TypeError as exc:
                    raise _Fail(f"invalid comparison: {exc}", node) from None
                left = right
            return sympy.And(*parts)
        if isinstance(node, ast.BoolOp):
            vals = [self.condition(v, d) for v in node.values]
            return sympy.And(*vals) if isinstance(node.op, ast.And) else sympy.Or(*vals)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return sympy.Not(self.condition(node.operand, d))
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            raise _Fail(f"`{node.value}` is not allowed in an expression; write a comparison", node)
        raise _Fail("a piecewise condition must be a comparison such as `x > 0` "
                    "(combined with and/or/not)", node)


def parse_expression(text: str, *, names: Iterable[str] | None = None, source=None, line=None) -> sympy.Expr:
    """Parse an expression (syntax in the module docstring) into sympy, without running code.

    Parameters
    ----------
    text : str
    names : iterable of str, optional
        The names the expression may use; any other symbol is a ParseError with
        a did-you-mean hint. ``t`` (time) and the constant ``pi`` are always allowed.
    source, line : optional
        Where the text comes from, for error messages.

    Raises
    ------
    ParseError
        For syntax errors and every construct outside the whitelist, with the column.

    Examples
    --------
    >>> parse_expression("Rb*glu^2", names=["Rb", "glu"])
    Rb*glu**2
    """
    def fail(message):
        return ParseError(message, line=line, source=source)

    if not isinstance(text, str):
        raise fail(f"expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise fail(f"expression is too long ({len(text)} characters; the limit is {MAX_EXPRESSION_LENGTH})")
    if not text.strip():
        raise fail("empty expression")
    if "\x00" in text:
        raise fail("expression contains a NUL character")
    name_set = None if names is None else set(names) | {"t"}
    code, orig = _replace_carets(text)
    # leading whitespace is an IndentationError for ast; it carries no meaning here
    stripped = code.lstrip()
    lead = len(code) - len(stripped)
    shown = text if len(text) <= 80 else text[:77] + "..."

    def column(lineno, col, *, in_bytes=True):
        """1-based character column in the original text of a parser position (0-based ``col``)."""
        lines = stripped.split("\n")
        lineno = max(1, min(lineno or 1, len(lines)))
        prefix = sum(len(s) + 1 for s in lines[:lineno - 1])
        col = max(col or 0, 0)
        if in_bytes:
            col = len(lines[lineno - 1].encode("utf-8")[:col].decode("utf-8", "ignore"))
        idx = min(lead + prefix + col, len(orig) - 1)
        return orig[idx] + 1

    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        msg = exc.msg or "invalid syntax"
        if "nested" in msg:
            raise fail(f"expression is nested too deeply: `{shown}`") from None
        where = f" at column {column(exc.lineno, (exc.offset or 1) - 1, in_bytes=False)}" if exc.lineno else ""
        raise fail(f"syntax error{where} of `{shown}`: {msg}") from None
    except (RecursionError, MemoryError):
        raise fail(f"expression is nested too deeply or too complex: `{shown}`") from None
    except ValueError as exc:
        raise fail(f"invalid expression `{shown}`: {exc}") from None
    conv = _Converter(name_set)
    try:
        expr = conv.value(tree.body, 0)
    except _Fail as exc:
        node = exc.node
        where = ""
        if isinstance(node, ast.Attribute):  # point at the dot
            node = ast.Name(lineno=node.value.end_lineno, col_offset=node.value.end_col_offset)
        if node is not None and getattr(node, "lineno", None) is not None:
            where = f"at column {column(node.lineno, node.col_offset)} of "
        raise fail(f"{exc.message} ({where}`{shown}`)") from None
    except RecursionError:
        raise fail(f"expression is nested too deeply: `{shown}`") from None
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise fail(f"cannot evaluate expression `{shown}`: {exc}") from None
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise fail(f"expression `{shown}` is undefined or infinite (division by zero? log(0)?)")
    if isinstance(expr, sympy.logic.boolalg.Boolean) and not isinstance(expr, sympy.Expr):
        raise fail(f"expression `{shown}` is a condition, not a value")
    # sympy's automatic simplification depends on the order in which a tree is built
    # (Max(c, Min(-726, y)) is only reduced when built directly); rebuild bottom-up to
    # the canonical form that reading the written expression back produces
    try:
        for _ in range(4):
            rebuilt = _rebuild(expr)
            if rebuilt == expr:
                break
            expr = rebuilt
    except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        raise fail(f"cannot evaluate expression `{shown}`: {exc}") from None
    # sympy may evaluate functions of floats at another precision (sin(1e308)); the
    # syntax only has double-precision literals, so round every float to 53 bits
    for _ in range(3):
        odd = {f: sympy.Float(float(f)) for f in expr.atoms(sympy.Float) if f._prec != 53}
        if not odd:
            break
        expr = expr.xreplace(odd)
    for f in expr.atoms(sympy.Float):
        if f._prec != 53:
            raise fail(f"expression `{shown}` has a number that cannot be written at double precision")
        v = float(f)
        if not math.isfinite(v) or (abs(v) < 2.2250738585072014e-308 and not f.is_zero):
            raise fail(f"expression `{shown}` contains a number outside the double precision range")
    for r in expr.atoms(sympy.Rational):
        if _Converter._bits(r) > _MAX_LITERAL_BITS:
            raise fail(f"expression `{shown}` contains a number that is too large to write out")
    try:
        _approx(expr, conv.memo)
    except _Overflow as exc:
        raise fail(f"expression `{shown}`: the value of `{exc.text}` is outside the double precision range "
                   f"(magnitude above {_DOUBLE_MAX:.3g})") from None
    # every parsed expression must be writable back (format_expression) and re-readable
    try:
        written = _write(expr)
    except SchemeError as exc:
        raise fail(f"expression `{shown}` cannot be represented in the syntax: {exc}") from None
    if len(written) > MAX_EXPRESSION_LENGTH or _paren_depth(written) > MAX_DEPTH // 2:
        raise fail(f"expression `{shown}` is too large or too deeply nested once expanded")
    return expr


def _rebuild(expr):
    """The expression rebuilt from its leaves up with sympy's automatic evaluation."""
    if expr.is_Atom or not expr.args:
        return expr
    return expr.func(*[_rebuild(a) for a in expr.args])


def _paren_depth(text: str) -> int:
    depth = best = 0
    for ch in text:
        if ch == "(":
            depth += 1
            best = max(best, depth)
        elif ch == ")":
            depth -= 1
    return best


# --------------------------------------------------------------------------- formatting
class _Printer(StrPrinter):
    """sympy's str printer, with the function names and number forms of the syntax."""

    def emptyPrinter(self, expr):  # noqa: N802 (sympy API)
        raise SchemeError(f"cannot write `{expr}` ({type(expr).__name__}) in the expression syntax")

    def _print_Float(self, expr):
        # the syntax has double-precision literals: write the shortest repr of the double
        v = float(expr)
        if not math.isfinite(v):
            raise SchemeError(f"cannot write the number {sympy.sstr(expr)}: outside the double precision range")
        return repr(v)

    def _print_Symbol(self, expr):
        name = expr.name
        if not name.isidentifier() or keyword.iskeyword(name) or name in _CONSTANTS or name.startswith("__"):
            raise SchemeError(f"cannot write symbol `{name}`: not a plain name")
        return name

    _print_Dummy = emptyPrinter

    def _print_Mul(self, expr):
        # Written so that reading it back rebuilds the same product: denominators as a
        # chain of `/factor` (never `/(2*(a + b))`, which sympy would distribute), and a
        # leading minus never directly on a parenthesised sum (`-(a + b)*c` would also
        # distribute); the parser multiplies a whole `*`/`/` chain in one Mul.
        coeff, factors = expr.as_coeff_mul()
        sign = ""
        if coeff.is_negative:
            sign, coeff = "-", -coeff
        num, den = [], []
        if isinstance(coeff, sympy.Rational):
            if coeff.p != 1:
                num.append(str(coeff.p))
            if coeff.q != 1:
                den.append(str(coeff.q))
        elif coeff != 1:
            num.append(self._print(coeff))
        mul_prec = PRECEDENCE["Mul"]
        for f in factors:
            if (isinstance(f, sympy.Pow) and isinstance(f.exp, sympy.Rational) and f.exp.is_negative
                    and f.base != sympy.E):
                den.append(self.parenthesize(sympy.Pow(f.base, -f.exp), mul_prec, strict=True))
            else:
                num.append(self.parenthesize(f, mul_prec, strict=False))
        if sign and (not num or num[0].startswith("(")):
            num.insert(0, "1")
        text = "*".join(num) if num else "1"
        for d in den:
            text += "/" + d
        return sign + text

    def _print_Exp1(self, expr):
        return "exp(1)"

    def _print_Pi(self, expr):
        return "pi"

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_MinMaxBase(self, expr, name):
        return f"{name}(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Min(self, expr):
        return self._print_MinMaxBase(expr, "min")

    def _print_Max(self, expr):
        return self._print_MinMaxBase(expr, "max")

    def _print_Heaviside(self, expr):
        x = self._print(expr.args[0])
        h0 = expr.args[1] if len(expr.args) > 1 else sympy.S.Half
        if h0 == 1:
            return f"heaviside({x})"
        return f"heaviside({x}, {self._print(h0)})"

    def _print_Piecewise(self, expr):
        parts = []
        last = expr.args[-1]
        if last.cond != sympy.true:
            raise SchemeError(f"cannot write {expr}: piecewise needs an `otherwise` value (a last condition True)")
        for e, c in expr.args[:-1]:
            parts += [self._print(e), self._print_condition(c)]
        parts.append(self._print(last.expr))
        return "piecewise(" + ", ".join(parts) + ")"

    def _print_condition(self, c):
        if isinstance(c, sympy.core.relational.Relational):
            return self._print_Relational(c)
        if isinstance(c, (sympy.And, sympy.Or)):
            word = " and " if isinstance(c, sympy.And) else " or "
            return word.join(f"({self._print_condition(a)})" for a in c.args)
        if isinstance(c, sympy.Not):
            return f"not ({self._print_condition(c.args[0])})"
        raise SchemeError(f"cannot write the condition `{c}` in the expression syntax")

    def _print_Relational(self, expr):
        op = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}.get(expr.rel_op)
        if op is None:
            raise SchemeError(f"cannot write the relation `{expr}`")
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

    def _print_BooleanTrue(self, expr):
        raise SchemeError("cannot write a bare `True` in the expression syntax")

    _print_BooleanFalse = _print_BooleanTrue

    def _print_And(self, expr):
        return self._print_condition(expr)

    _print_Or = _print_And
    _print_Not = _print_And

    def _print_Function(self, expr):
        if isinstance(expr, (sympy.exp, sympy.log, sympy.sin, sympy.cos, sympy.tan,
                             sympy.sinh, sympy.cosh, sympy.tanh, sympy.erf, sympy.erfc)):
            return f"{type(expr).__name__}(" + ", ".join(self._print(a) for a in expr.args) + ")"
        raise SchemeError(f"cannot write the function `{type(expr).__name__}` in the expression syntax "
                          f"(allowed: {', '.join(sorted(_FUNCTIONS))})")

    def _print_NaN(self, expr):
        raise SchemeError("cannot write nan in the expression syntax")

    _print_Infinity = _print_NaN
    _print_NegativeInfinity = _print_NaN
    _print_ComplexInfinity = _print_NaN

    def _print_ImaginaryUnit(self, expr):
        raise SchemeError("cannot write the imaginary unit in the expression syntax")


def _write(expr) -> str:
    # a printer per call: sympy printers keep per-call state
    return _Printer({"order": None}).doprint(expr)


def format_expression(expr) -> str:
    """Write an expression in the syntax :func:`parse_expression` reads.

    ``parse_expression(format_expression(e)) == e`` for every expression the
    parser produces. Raises :class:`~kinetics.errors.SchemeError` for sympy
    objects the syntax cannot express (unknown functions, ``nan``, ``I``...).

    >>> format_expression(parse_expression("sigmoid((V + 20)/5)"))
    '1/(exp(-V/5 - 4) + 1)'
    """
    if isinstance(expr, (int, float)) and not isinstance(expr, bool):
        expr = sympy.Integer(expr) if isinstance(expr, int) else sympy.Float(expr)
    if not isinstance(expr, sympy.Basic):
        raise SchemeError(f"format_expression needs a sympy expression, got {type(expr).__name__}")
    return _write(expr)


# --------------------------------------------------------------------------- equations
_ARROWS = (("<->", True), ("<=>", True), ("->", False), ("=>", False))
_TERM = re.compile(r"^(?:(\d+)\s*)?([^\s\d.+-]\S*)$")
_BAD_COEFF = re.compile(r"^([-+]\d*\.?\d*|\d*\.\d*)\s*\S")


def parse_equation(text: str, *, source=None, line=None):
    """Parse a reaction equation: ``"2 A + B <-> C"``, ``"-> Ca"``, ``"Ca ->"``.

    Arrows: ``->`` or ``=>`` (irreversible), ``<->`` or ``<=>`` (reversible).
    A side may be empty, ``0`` or ``∅`` (a source or a sink). Coefficients are
    positive integers, written before the name with or without a space
    (``2 A``, ``2A``). A species appearing twice on one side is merged.

    Returns
    -------
    (reactants, products, reversible)
        ``reactants`` and ``products`` are tuples of ``(name, coefficient)`` in
        order of first appearance.
    """
    def fail(message):
        return ParseError(message, line=line, source=source)

    if not isinstance(text, str):
        raise fail(f"reaction equation must be a string, got {type(text).__name__}")
    found = []
    i = 0
    while i < len(text):
        for arrow, rev in _ARROWS:
            if text.startswith(arrow, i):
                found.append((i, arrow, rev))
                i += len(arrow)
                break
        else:
            i += 1
    if not found:
        hint = "; `<-` is not supported, swap the sides" if "<-" in text else ""
        raise fail(f"expected `->` or `<->` in reaction `{text.strip()}`{hint}")
    if len(found) > 1:
        raise fail(f"reaction `{text.strip()}` has {len(found)} arrows; write one reaction per line")
    pos, arrow, reversible = found[0]
    left, right = text[:pos], text[pos + len(arrow):]

    def side(s, what):
        s = s.strip()
        if s in ("", "0", "∅"):
            return ()
        merged: dict[str, int] = {}
        for term in s.split("+"):
            term = term.strip()
            if not term:
                raise fail(f"empty term among the {what} of reaction `{text.strip()}` (a stray `+`?)")
            bad = _BAD_COEFF.match(term)
            if bad is not None:
                raise fail(f"stoichiometric coefficient `{bad.group(1)}` must be a positive integer "
                           f"in reaction `{text.strip()}`")
            m = _TERM.match(term)
            if m is None:
                raise fail(f"`{term}` is not a species (with an optional coefficient, e.g. `2 A`) "
                           f"in reaction `{text.strip()}`")
            coeff_text, name = m.groups()
            if coeff_text is None:
                coeff = 1
            else:
                if len(coeff_text.lstrip("0")) > 6 or int(coeff_text) > MAX_COEFFICIENT:
                    raise fail(f"stoichiometric coefficient of `{name[:40]}` is too large (at most "
                               f"{MAX_COEFFICIENT}) in reaction `{text.strip()[:80]}`")
                coeff = int(coeff_text)
                if coeff <= 0:
                    raise fail(f"stoichiometric coefficient of `{name}` must be a positive integer, got {coeff} "
                               f"in reaction `{text.strip()}`")
            if not name.isidentifier():
                raise fail(f"`{name}` is not a valid species name in reaction `{text.strip()}`")
            merged[name] = merged.get(name, 0) + coeff
            if merged[name] > MAX_COEFFICIENT:
                raise fail(f"stoichiometric coefficient of `{name[:40]}` is too large (at most {MAX_COEFFICIENT}) "
                           f"in reaction `{text.strip()[:80]}`")
        return tuple(merged.items())

    reactants = side(left, "reactants")
    products = side(right, "products")
    if not reactants and not products:
        raise fail(f"reaction `{text.strip()}` has neither reactants nor products")
    return reactants, products, reversible
