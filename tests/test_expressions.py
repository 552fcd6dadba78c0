"""Tests of kinetics.expressions: safe expression parsing, formatting and reaction equations."""
import sys

import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kinetics.errors import ParseError, SchemeError
from kinetics.expressions import FUNCTIONS, format_expression, parse_equation, parse_expression

a, b, c, x, y, V, t = sympy.symbols("a b c x y V t")
Rb, Ru, glu = sympy.symbols("Rb Ru glu")


# --------------------------------------------------------------------------- accepted syntax
@pytest.mark.parametrize("text, expected", [
    ("2*Rb*glu", 2 * Rb * glu),
    ("Ru", Ru),
    ("a + b - c", a + b - c),
    ("a - b/2 + c**2", a - b / 2 + c ** 2),
    ("(a + b)*c", (a + b) * c),
    ("-a", -a),
    ("+a", a),
    ("--a", a),
    ("a/b/c", a / b / c),
    ("a**b", a ** b),
    ("a^b", a ** b),
    ("a^b^c", a ** (b ** c)),
    ("-a^2", -(a ** 2)),
    ("a^2 + 1", a ** 2 + 1),
    ("2^-1", sympy.Rational(1, 2)),
    ("1/3", sympy.Rational(1, 3)),
    ("3", sympy.Integer(3)),
    ("pi*x", sympy.pi * x),
    ("exp(-V/20)", sympy.exp(-V / 20)),
    ("exp(1)", sympy.E),
    ("log(x)", sympy.log(x)),
    ("ln(x)", sympy.log(x)),
    ("log(x, 2)", sympy.log(x) / sympy.log(2)),
    ("log10(x)", sympy.log(x) / sympy.log(10)),
    ("sqrt(x)", sympy.sqrt(x)),
    ("sin(x) + cos(x) + tan(x)", sympy.sin(x) + sympy.cos(x) + sympy.tan(x)),
    ("sinh(x)*cosh(x)/tanh(x)", sympy.sinh(x) * sympy.cosh(x) / sympy.tanh(x)),
    ("abs(x)", sympy.Abs(x)),
    ("min(a, b)", sympy.Min(a, b)),
    ("max(a, b, c)", sympy.Max(a, b, c)),
    ("pow(a, 3)", a ** 3),
    ("heaviside(x)", sympy.Heaviside(x, 1)),
    ("heaviside(x, 0)", sympy.Heaviside(x, 0)),
    ("sigmoid(x)", 1 / (1 + sympy.exp(-x))),
    ("piecewise(1, V > -20, 0)", sympy.Piecewise((1, V > -20), (0, True))),
    ("piecewise(a, x < 1, b, x >= 3, c)", sympy.Piecewise((a, x < 1), (b, x >= 3), (c, True))),
    ("piecewise(a, x <= 1 and y > 2, b)", sympy.Piecewise((a, sympy.And(x <= 1, y > 2)), (b, True))),
    ("piecewise(a, x == 1 or y != 2, b)", sympy.Piecewise((a, sympy.Or(sympy.Eq(x, 1), sympy.Ne(y, 2))), (b, True))),
    ("piecewise(a, not x < 1, b)", sympy.Piecewise((a, x >= 1), (b, True))),
    ("piecewise(a, 0 < x < 1, b)", sympy.Piecewise((a, sympy.And(x > 0, x < 1)), (b, True))),
    ("t", t),
    ("  a +\tb ", a + b),
])
def test_parse_structure(text, expected):
    assert parse_expression(text) == expected


def test_symbols_are_plain():
    e = parse_expression("Rb*glu")
    for s in e.free_symbols:
        assert s == sympy.Symbol(s.name)
        assert s.assumptions0 == sympy.Symbol("q").assumptions0


def test_numbers():
    e = parse_expression("0.1")
    assert isinstance(e, sympy.Float) and float(e) == 0.1
    assert e == sympy.Float(0.1)
    e = parse_expression("0.30000000000000004")
    assert float(e) == 0.30000000000000004
    assert format_expression(e) == "0.30000000000000004"
    assert parse_expression("1e-3") == sympy.Float(1e-3)
    i = parse_expression("12")
    assert isinstance(i, sympy.Integer) and i == 12
    # a decimal literal stays a float, an integer literal stays exact
    assert isinstance(parse_expression("2.0"), sympy.Float)
    assert isinstance(parse_expression("2"), sympy.Integer)
    assert format_expression(parse_expression("2.0")) == "2.0"


def test_names_are_checked():
    assert parse_expression("Rb*glu + t", names=["Rb", "glu"]) == Rb * glu + t
    with pytest.raises(ParseError, match=r"unknown name `Rbb`; did you mean `Rb`\?"):
        parse_expression("Rbb*glu", names=["Rb", "glu"])
    with pytest.raises(ParseError, match="unknown name `zz`"):
        parse_expression("zz", names=["Rb"])
    # pi is a constant, always allowed
    assert parse_expression("2*pi", names=[]) == 2 * sympy.pi
    with pytest.raises(ParseError, match="`exp` is a function"):
        parse_expression("exp", names=["Rb"])


def test_error_carries_line_and_source():
    with pytest.raises(ParseError, match=r"^model\.txt:7: unknown name") as info:
        parse_expression("q", names=["a"], source="model.txt", line=7)
    assert info.value.line == 7 and info.value.source == "model.txt"
    assert isinstance(info.value, ValueError) and isinstance(info.value, SchemeError)


# --------------------------------------------------------------------------- rejected constructs
@pytest.mark.parametrize("text, pattern", [
    ("__import__('os').system('x')", r"attribute access.*column 17"),
    ("__import__('os')", r"unknown function `__import__`"),
    ("().__class__", r"attribute access"),
    ("a.b", r"attribute access \(`a\.b`\).*column 2"),
    ("[1, 2]", r"list"),
    ("(1, 2)", r"tuple"),
    ("{1: 2}", r"dict"),
    ("{1, 2}", r"set"),
    ("lambda: 1", r"lambda"),
    ("[i for i in a]", r"comprehension"),
    ("(i for i in a)", r"generator expression"),
    ("f(x)", r"unknown function `f`.*column 1"),
    ("eval('1')", r"unknown function `eval`"),
    ("1j", r"complex number"),
    ("'s'", r"string literal"),
    ("b's'", r"bytes literal"),
    ("f'{a}'", r"f-string"),
    ("True", r"`True` is not allowed"),
    ("None", r"`None` is not allowed"),
    ("...", r"`Ellipsis` is not allowed"),
    ("a[0]", r"subscript"),
    ("(y := 1)", r"assignment expression"),
    ("exp(x=1)", r"keyword argument `x=\.\.\.`.*column 5"),
    ("max(*a)", r"starred argument"),
    ("a if b else c", r"piecewise\(a, c, b\)"),
    ("a < b", r"comparison is only allowed in a condition of piecewise"),
    ("a and b", r"`and` is only allowed"),
    ("not a", r"`not` is only allowed"),
    ("a // b", r"operator `//` is not supported"),
    ("a % b", r"operator `%` is not supported"),
    ("a @ b", r"operator `@` is not supported"),
    ("a | b", r"operator `\|` is not supported"),
    ("~a", r"operator `~` is not supported"),
    ("a.__class__.__bases__", r"attribute access"),
    ("__builtins__", r"names may not start with `__`"),
    ("exp(1, 2)", r"function `exp` takes 1 argument, got 2"),
    ("log(1, 2, 3)", r"function `log` takes 1 to 2 arguments, got 3"),
    ("max(a)", r"function `max` takes at least 2 arguments, got 1"),
    ("piecewise(a, x < 1)", r"at least 3 arguments"),
    ("piecewise(a, x < 1, b, c)", r"odd number of arguments"),
    ("piecewise(a, x, b)", r"condition must be a comparison"),
    ("piecewise(a, True, b)", r"`True` is not allowed"),
    ("piecewise(a, x is b, b)", r"comparison `is` is not supported"),
    ("1/0", r"undefined or infinite"),
    ("log(0)", r"undefined or infinite"),
    ("1e400", r"too large"),
    ("9**9**9", r"too large"),
    ("abs(exp(x))", r"cannot be represented"),
    ("a +", r"syntax error"),
    ("a b", r"syntax error"),
    ("(a", r"syntax error.*never closed"),
    ("", r"empty expression"),
    ("   ", r"empty expression"),
    ("import os", r"syntax error"),
    ("x = 1", r"syntax error"),
    ("a; b", r"syntax error"),
])
def test_rejected(text, pattern):
    with pytest.raises(ParseError, match=pattern):
        parse_expression(text)


def test_rejects_non_string():
    with pytest.raises(ParseError, match="must be a string"):
        parse_expression(3)


def test_too_long():
    with pytest.raises(ParseError, match="too long"):
        parse_expression("+".join(["a"] * 5001))
    # just under the limit is fine
    text = "+".join(["a"] * 1000)
    assert parse_expression(text) == 1000 * a


@pytest.mark.parametrize("text", [
    "(" * 250 + "a" + ")" * 250,
    "-" * 5000 + "a",
    "exp(" * 210 + "a" + ")" * 210,
    "a" + "**a" * 300,
    "piecewise(1, " + "not " * 300 + "a < 1, 0)",
])
def test_too_deep(text):
    with pytest.raises(ParseError, match="nested too deeply"):
        parse_expression(text)


def test_moderate_nesting_is_fine():
    e = parse_expression("exp(" * 50 + "a" + ")" * 50)
    assert parse_expression(format_expression(e)) == e
    assert parse_expression("(" * 100 + "a" + ")" * 100) == a


def test_caret_column_mapping():
    with pytest.raises(ParseError, match=r"column 6 of"):
        parse_expression("a ^ b.c")  # the dot is the 6th character


def test_no_code_runs(tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    payloads = [
        f"__import__('os').system('touch {marker}')",
        f"open('{marker}', 'w')",
        "().__class__.__bases__[0].__subclasses__()",
        f"exec(\"open('{marker}','w')\")",
    ]
    for p in payloads:
        with pytest.raises(ParseError):
            parse_expression(p)
    assert not marker.exists()


# --------------------------------------------------------------------------- formatting
@pytest.mark.parametrize("text, written", [
    ("2*Rb*glu", "2*Rb*glu"),
    ("abs(x)", "abs(x)"),
    ("min(a, b)", "min(a, b)"),
    ("max(a, b)", "max(a, b)"),
    ("heaviside(x)", "heaviside(x)"),
    ("heaviside(x, 0)", "heaviside(x, 0)"),
    ("piecewise(1, V > -20, 0)", "piecewise(1, V > -20, 0)"),
    ("piecewise(1, V == 2, 0)", "piecewise(1, V == 2, 0)"),
    ("exp(1)", "exp(1)"),
    ("pi", "pi"),
    ("a^2", "a**2"),
    ("0.1*x", "0.1*x"),
])
def test_format(text, written):
    assert format_expression(parse_expression(text)) == written


def test_format_rejects_what_the_syntax_cannot_express():
    with pytest.raises(SchemeError, match="cannot write"):
        format_expression(sympy.Function("f")(x))
    with pytest.raises(SchemeError, match="cannot write"):
        format_expression(sympy.re(x))
    with pytest.raises(SchemeError, match="cannot write"):
        format_expression(sympy.I * x)
    with pytest.raises(SchemeError, match="cannot write"):
        format_expression(sympy.nan)
    with pytest.raises(SchemeError, match="otherwise"):
        format_expression(sympy.Piecewise((x, x > 1)))
    with pytest.raises(SchemeError, match="cannot write symbol"):
        format_expression(sympy.Symbol("a b"))


def test_format_python_numbers():
    assert format_expression(2) == "2"
    assert format_expression(0.25) == "0.25"


# --------------------------------------------------------------------------- round trip (hypothesis)
_NAMES = st.sampled_from(["a", "b", "x", "V", "glu", "t", "pi"])
_INTS = st.integers(min_value=-1000, max_value=1000).map(lambda i: f"({i})")
_FLOATS = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6).map(lambda f: f"({f!r})")
_TINY_FLOATS = st.floats(allow_nan=False, allow_infinity=False).map(lambda f: f"({f!r})")
_LEAF = st.one_of(_NAMES, _INTS, _FLOATS, _TINY_FLOATS)
_UNARY = ["exp", "log", "ln", "log10", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "abs",
          "heaviside", "sigmoid", ""]
_CMP = ["<", "<=", ">", ">=", "==", "!="]


@st.composite
def _condition(draw, depth):
    kind = draw(st.integers(0, 4))
    if kind <= 1 or depth <= 0:
        return f"{draw(_expr(depth - 1))} {draw(st.sampled_from(_CMP))} {draw(_expr(depth - 1))}"
    if kind == 2:
        return f"{draw(_expr(depth - 1))} < {draw(_expr(depth - 1))} <= {draw(_expr(depth - 1))}"
    if kind == 3:
        op = draw(st.sampled_from(["and", "or"]))
        return f"({draw(_condition(depth - 1))}) {op} ({draw(_condition(depth - 1))})"
    return f"not ({draw(_condition(depth - 1))})"


@st.composite
def _expr(draw, depth=3):
    """Random expression text from the whole grammar (small trees)."""
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        return draw(_LEAF)
    sub = _expr(depth - 1)
    kind = draw(st.integers(0, 7))
    if kind == 0:
        op = draw(st.sampled_from(["+", "-", "*", "/", "**", "^"]))
        return f"({draw(sub)}) {op} ({draw(sub)})"
    if kind == 1:
        return f"-({draw(sub)})"
    if kind == 2:
        return f"{draw(st.sampled_from(_UNARY))}({draw(sub)})"
    if kind == 3:
        fn = draw(st.sampled_from(["min", "max", "pow", "log", "heaviside"]))
        return f"{fn}({draw(sub)}, {draw(sub)})"
    if kind == 4:
        fn = draw(st.sampled_from(["min", "max"]))
        args = [draw(sub) for _ in range(draw(st.integers(3, 4)))]
        return f"{fn}({', '.join(args)})"
    if kind == 5:
        return f"piecewise({draw(sub)}, {draw(_condition(depth - 1))}, {draw(sub)})"
    if kind == 6:
        return (f"piecewise({draw(sub)}, {draw(_condition(depth - 1))}, {draw(sub)}, "
                f"{draw(_condition(depth - 1))}, {draw(sub)})")
    return f"({draw(sub)}) {draw(st.sampled_from(['+', '*']))} ({draw(sub)}) - ({draw(sub)})"


_EXPR_TEXT = _expr()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(_EXPR_TEXT)
def test_round_trip(text):
    try:
        e = parse_expression(text)
    except ParseError:
        assume(False)
        return
    written = format_expression(e)
    again = parse_expression(written)
    assert again == e, (text, written, again)
    # writing is stable
    assert format_expression(again) == written


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_round_trip(v):
    if v != 0 and abs(v) < sys.float_info.min:
        # subnormal numbers cannot be held exactly at double precision by sympy
        with pytest.raises(ParseError, match="double precision range"):
            parse_expression(repr(v))
        return
    e = parse_expression(repr(v))
    assert float(e) == v
    assert parse_expression(format_expression(e)) == e
    assert format_expression(e) == repr(v) or v == 0


@pytest.mark.parametrize("text, pattern", [
    ("a^65", r"integer power 65 of a non-number is too large"),
    ("pi^-300", r"integer power -300 of a non-number is too large"),
    ("cosh(b^13)", r"power 13 inside `cosh\(\.\.\.\)` is too large"),
    ("heaviside(a^20)", r"power 20 inside `heaviside"),
    ("sinh(sinh(1e6))", r"outside the double precision range"),
    ("exp(2^2000)", r"number too large for a function argument"),
    ("2^200000", r"too large"),
    ("x*1e-310", r"outside the double precision range"),
    ("1e300*1e300*x", r"outside the double precision range"),
])
def test_resource_limits(text, pattern):
    with pytest.raises(ParseError, match=pattern):
        parse_expression(text)
    # and within the limits the same shapes are fine
    assert parse_expression("a^64 + cosh(b^12) + heaviside(a^12) + 2^1000") is not None


def test_functions_listed():
    assert {"exp", "log", "piecewise", "heaviside", "sigmoid", "min", "max"} <= FUNCTIONS


# --------------------------------------------------------------------------- equations
@pytest.mark.parametrize("text, expected", [
    ("C0 <-> C1", ((("C0", 1),), (("C1", 1),), True)),
    ("2 A + B -> C", ((("A", 2), ("B", 1)), (("C", 1),), False)),
    ("2A + B -> C", ((("A", 2), ("B", 1)), (("C", 1),), False)),
    ("-> Ca", ((), (("Ca", 1),), False)),
    ("Ca ->", ((("Ca", 1),), (), False)),
    ("0 -> Ca", ((), (("Ca", 1),), False)),
    ("Ca -> ∅", ((("Ca", 1),), (), False)),
    ("A <=> B", ((("A", 1),), (("B", 1),), True)),
    ("A => B", ((("A", 1),), (("B", 1),), False)),
    ("A + A -> B", ((("A", 2),), (("B", 1),), False)),
    ("  10 A_1+B2<->C  ", ((("A_1", 10), ("B2", 1)), (("C", 1),), True)),
    ("B + A -> C", ((("B", 1), ("A", 1)), (("C", 1),), False)),
])
def test_parse_equation(text, expected):
    assert parse_equation(text) == expected


@pytest.mark.parametrize("text, pattern", [
    ("A B", r"expected `->` or `<->` in reaction `A B`"),
    ("A <- B", r"`<-` is not supported"),
    ("A -> B -> C", r"2 arrows"),
    ("->", r"neither reactants nor products"),
    ("A + -> B", r"empty term"),
    ("0 A -> B", r"positive integer, got 0"),
    ("1.5 A -> B", r"positive integer"),
    ("-1 A -> B", r"positive integer"),
    ("A-B -> C", r"expected `->`|not a valid species name|2 arrows|not a species"),
    ("A.b -> C", r"`A\.b` is not a valid species name"),
    ("A B -> C", r"`A B` is not a species"),
])
def test_parse_equation_errors(text, pattern):
    with pytest.raises(ParseError, match=pattern):
        parse_equation(text)


def test_parse_equation_line():
    with pytest.raises(ParseError, match=r"^f:3: expected `->`"):
        parse_equation("A B", source="f", line=3)


def test_error_function():
    """erf/erfc parse, write back, evaluate alike in numpy and in the native (C) code, and are refused by SBML
    (MathML has no error function) with a clear message."""
    import math

    import numpy as np

    import kinetics as kx
    from kinetics.exporters import export

    e = parse_expression("erf(x/2) + erfc(y)")
    assert e == sympy.erf(sympy.Symbol("x") / 2) + sympy.erfc(sympy.Symbol("y"))
    assert parse_expression(format_expression(e)) == e
    assert float(parse_expression("erf(0.5)")) == pytest.approx(math.erf(0.5), rel=1e-15)
    s = kx.Scheme("erf_decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 0.3, "1/ms")],
                  reactions=[kx.reaction("A ->", "k*(1 + erf(A - 0.5))")],
                  observables=[kx.Observable("z", "erfc(A)")])
    native = kx.simulate(s, t_end=5.0, t_eval=[0.0, 2.5, 5.0], rtol=1e-10, atol=1e-12)
    lsoda = kx.simulate(s, t_end=5.0, t_eval=[0.0, 2.5, 5.0], method="LSODA", rtol=1e-10, atol=1e-12)
    assert np.allclose(native["A"], lsoda["A"], rtol=1e-6)
    assert np.allclose(native["z"], [math.erfc(a) for a in native["A"]], rtol=1e-12)
    ns = {}
    exec(compile(export(s, "python"), "erf_decay.py", "exec"), ns)
    assert np.allclose(ns["simulate"](t_eval=[0.0, 2.5, 5.0])["z"], native["z"], rtol=1e-6)
    with pytest.raises(SchemeError, match="no error function"):
        export(s, "sbml")
