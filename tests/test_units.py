"""Tests of kinetics.units: unit parsing, dimensions, conversion to a unit system."""
import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinetics.errors import SchemeError, UnitError
from kinetics.units import (
    BASE_DIMENSIONS,
    KINDS,
    UNITS,
    Unit,
    UnitSystem,
    conversion_factor,
    convert,
    dimension,
    format_unit,
    parse_unit,
    same_dimension,
    unit_composition,
    unit_kind,
)

DEFAULT = UnitSystem()


# --------------------------------------------------------------------------- UnitSystem
def test_default_system():
    s = UnitSystem()
    assert (s.time, s.concentration, s.voltage, s.current, s.conductance) == ("ms", "mM", "mV", "pA", "nS")
    assert (s.capacitance, s.charge, s.length, s.volume, s.amount, s.mass, s.temperature) == \
        ("pF", "fC", "um", "L", "mmol", "kg", "K")
    assert str(s) == "ms, mM, mV, pA, nS"
    assert str(UnitSystem(time="s", charge="pC")) == "s, mM, mV, pA, nS, charge=pC"
    assert s.unit_of("voltage") == "mV"
    assert s.as_dict()["time"] == "ms"
    assert tuple(s.as_dict()) == KINDS


def test_system_hashable_and_equal():
    assert UnitSystem() == UnitSystem()
    assert hash(UnitSystem()) == hash(UnitSystem())
    assert UnitSystem(time="s") != UnitSystem()
    assert len({UnitSystem(), UnitSystem(), UnitSystem(concentration="uM")}) == 2
    with pytest.raises(Exception):
        UnitSystem().time = "s"  # frozen


def test_system_normalises_micro():
    assert UnitSystem(concentration="µM") == UnitSystem(concentration="uM")


def test_default_system_is_coherent():
    # nS*mV = pA, pA*ms = fC, fC/mV = pF, mmol/L = mM
    assert conversion_factor("nS*mV", DEFAULT) == 1.0 and same_dimension("nS*mV", "pA")
    assert convert(1, "nS*mV", "pA") == pytest.approx(1.0)
    assert convert(1, "pA*ms", "fC") == pytest.approx(1.0)
    assert convert(1, "fC/mV", "pF") == pytest.approx(1.0)
    assert convert(1, "mmol/L", "mM") == pytest.approx(1.0)


@pytest.mark.parametrize("kwargs, pattern", [
    ({"time": "mM"}, r"`mM` is a concentration unit, not a time unit"),
    ({"time": "msec"}, r"unknown time unit `msec`; did you mean `sec`\?"),
    ({"concentration": "Hz"}, r"`Hz` is a frequency unit, not a concentration unit"),
    ({"voltage": 3}, r"must be a unit string"),
    ({"conductance": "nS*mV"}, r"unknown conductance unit"),
])
def test_system_validation(kwargs, pattern):
    with pytest.raises(UnitError, match=pattern):
        UnitSystem(**kwargs)


# --------------------------------------------------------------------------- parsing
@pytest.mark.parametrize("text, powers", [
    ("1/(uM*s)", {"uM": -1, "s": -1}),
    ("/mM/ms", {"mM": -1, "ms": -1}),
    ("mM^-1 ms^-1", {"mM": -1, "ms": -1}),
    ("mM**-1*ms**-1", {"mM": -1, "ms": -1}),
    ("(mM*ms)^-1", {"mM": -1, "ms": -1}),
    ("uM/s", {"uM": 1, "s": -1}),
    ("mg/kg", {"mg": 1, "kg": -1}),
    ("mV^-1", {"mV": -1}),
    ("m^(3)", {"m": 3}),
    ("m^(-2)", {"m": -2}),
    ("um^2", {"um": 2}),
    ("J/(mol*K)", {"J": 1, "mol": -1, "K": -1}),
    ("mM*mM/mM", {"mM": 1}),
    ("mM/mM", {}),
    ("1", {}),
    ("", {}),
    ("  ", {}),
    ("%", {"%": 1}),
    ("µM", {"uM": 1}),
    ("μM/ms", {"uM": 1, "ms": -1}),
    ("MΩ", {"MOhm": 1}),
    ("1 / s", {"s": -1}),
    ("mV·nS", {"mV": 1, "nS": 1}),
])
def test_parse_unit(text, powers):
    u = parse_unit(text)
    assert isinstance(u, Unit)
    assert dict(u) == powers
    assert len(u) == len(powers)


def test_unit_is_hashable_mapping():
    u = parse_unit("1/(uM*s)")
    assert u == parse_unit("uM^-1 s^-1") == parse_unit("/s/uM")
    assert hash(u) == hash(parse_unit("uM^-1 s^-1"))
    assert u["uM"] == -1 and "s" in u and "ms" not in u
    with pytest.raises(KeyError):
        u["ms"]
    assert u.scale == Fraction(1000)  # 1/(1e-3 mol/m^3 * 1 s)
    assert {u: 1}[parse_unit("s^-1*uM^-1")] == 1
    assert parse_unit(u) is u
    assert parse_unit("1").dimensionless and parse_unit("%").dimensionless
    assert not parse_unit("ms").dimensionless


def test_parse_is_cached():
    assert parse_unit("mM/ms") is parse_unit("mM/ms")


@pytest.mark.parametrize("text, pattern", [
    ("mMol", r"unknown unit `mMol`; did you mean `mmol`\?"),
    ("MM", r"unknown unit `MM`; did you mean `mM`\?"),
    ("1/mMol", r"unknown unit `mMol` in `1/mMol`; did you mean `mmol`\?"),
    ("xyz", r"unknown unit `xyz`"),
    ("ms-1", r"write powers with `\^`.*`ms\^-1`"),
    ("ms2", r"write powers with `\^`.*`ms\^2`"),
    ("2/ms", r"numbers other than `1` are not allowed"),
    ("mM^1.5", r"only integer powers"),
    ("mM^", r"expected an integer power"),
    ("mM^x", r"expected an integer power"),
    ("(mM", r"expected `\)`"),
    ("mM)", r"unexpected symbol"),
    ("mM//ms", r"expected a unit"),
    ("*ms", r"expected a unit"),
    ("1/mM ms", r"ambiguous unit"),
    ("mM$", r"unexpected character `\$`"),
    ("m_s", r"unexpected character `_`"),
])
def test_parse_unit_errors(text, pattern):
    with pytest.raises(UnitError, match=pattern):
        parse_unit(text)


def test_unit_error_is_scheme_error():
    with pytest.raises(SchemeError):
        parse_unit("bogus")
    with pytest.raises(ValueError):
        parse_unit("bogus")
    with pytest.raises(UnitError, match="must be a string"):
        parse_unit(5)
    with pytest.raises(UnitError, match="too long"):
        parse_unit("mM*" * 100 + "mM")


# --------------------------------------------------------------------------- conversion
@pytest.mark.parametrize("unit, factor", [
    ("1/(uM*s)", 1.0),
    ("1/(mM*ms)", 1.0),
    ("1/s", 1e-3),
    ("1/ms", 1.0),
    ("1/min", 1.0 / 60000.0),
    ("pS", 1e-3),
    ("nS", 1.0),
    ("uS", 1e3),
    ("%", 0.01),
    ("Hz", 1e-3),
    ("kHz", 1.0),
    ("mg/kg", 1e-6),
    ("uM", 1e-3),
    ("nM", 1e-6),
    ("M", 1e3),
    ("uM/s", 1e-6),
    ("V", 1e3),
    ("mV^-1", 1.0),
    ("1/V", 1e-3),
    ("nA", 1e3),
    ("nF", 1e3),
    ("pC", 1e3),
    ("cm", 1e4),
    ("um^2", 1.0),
    ("mL", 1e-3),
    ("umol", 1e-3),
    ("g", 1e-3),
    ("K", 1.0),
    ("s", 1e3),
    ("h", 3.6e6),
    ("1", 1.0),
    ("", 1.0),
    ("GOhm", 1.0),   # GOhm = mV/pA
    ("MOhm", 1e-3),
])
def test_conversion_factor(unit, factor):
    assert conversion_factor(unit, DEFAULT) == pytest.approx(factor, rel=1e-15)


def test_exact_factors():
    # scales are exact fractions: common factors come out as exact floats
    assert conversion_factor("1/(uM*s)", DEFAULT) == 1.0
    assert conversion_factor("1/s", DEFAULT) == 1e-3
    assert conversion_factor("pS", DEFAULT) == 1e-3
    assert conversion_factor("%", DEFAULT) == 0.01
    assert conversion_factor("Hz", DEFAULT) == 1e-3
    assert conversion_factor("mg/kg", DEFAULT) == 1e-6


def test_rate_constant_example():
    # 5 /uM/s is 5 /mM/ms
    assert 5 * conversion_factor("1/(uM*s)", DEFAULT) == 5.0


def test_other_systems():
    sec_uM = UnitSystem(time="s", concentration="uM")
    assert conversion_factor("1/(uM*s)", sec_uM) == 1.0
    assert conversion_factor("1/(mM*ms)", sec_uM) == pytest.approx(1.0)
    assert conversion_factor("1/ms", sec_uM) == 1e3
    assert conversion_factor("Hz", sec_uM) == 1.0
    assert conversion_factor("mM", sec_uM) == 1e3


def test_nernst_constants():
    # R T / F in mV with R in J/(mol*K) and F in C/mol: J -> mV*fC, mol -> mmol, C -> fC
    R = 8.314462618 * conversion_factor("J/(mol*K)", DEFAULT)
    F = 96485.33212 * conversion_factor("C/mol", DEFAULT)
    assert R * 310.0 / F == pytest.approx(26.712, rel=1e-4)


def test_conversion_factor_needs_system():
    with pytest.raises(UnitError, match="needs a UnitSystem"):
        conversion_factor("ms", "ms")
    with pytest.raises(UnitError, match="unknown unit"):
        conversion_factor("mMol", DEFAULT)


# --------------------------------------------------------------------------- dimensions
def test_dimension():
    assert BASE_DIMENSIONS == ("length", "mass", "time", "current", "temperature", "amount")
    assert dimension("ms") == (0, 0, 1, 0, 0, 0)
    assert dimension("Hz") == (0, 0, -1, 0, 0, 0) == dimension("1/s")
    assert dimension("mM") == (-3, 0, 0, 0, 0, 1)
    assert dimension("1") == dimension("%") == dimension("mg/kg") == (0,) * 6
    assert dimension("pA") == (0, 0, 0, 1, 0, 0)


@pytest.mark.parametrize("a, b", [
    ("uM", "mmol/L"), ("nS*mV", "pA"), ("pA*ms", "fC"), ("fC/mV", "pF"), ("Hz", "1/min"),
    ("J", "V*C"), ("GOhm", "mV/pA"), ("1/(uM*s)", "L/(mol*s)"), ("%", "1"), ("um^3", "fL"),
])
def test_same_dimension(a, b):
    assert same_dimension(a, b)


@pytest.mark.parametrize("a, b", [("mM", "mmol"), ("ms", "Hz"), ("pA", "pC"), ("mV", "nS"), ("K", "1")])
def test_different_dimension(a, b):
    assert not same_dimension(a, b)
    with pytest.raises(UnitError, match="different dimensions"):
        convert(1.0, a, b)


def test_convert():
    assert convert(5, "uM", "mM") == pytest.approx(0.005)
    assert convert(1, "h", "s") == 3600.0
    assert convert(50, "%", "1") == 0.5


def test_unit_kind():
    assert unit_kind("mM") == "concentration"
    assert unit_kind("µM") == "concentration"
    assert unit_kind("Hz") == "frequency"
    with pytest.raises(UnitError, match="did you mean `mmol`"):
        unit_kind("mMol")
    assert UNITS["pS"] == "conductance"
    assert unit_composition("mM") == (("concentration", 1),)
    assert unit_composition("Hz") == (("time", -1),)
    assert unit_composition("kJ") == (("voltage", 1), ("charge", 1))
    assert unit_composition("%") == ()
    with pytest.raises(UnitError, match="unknown unit"):
        unit_composition("parsec")


# --------------------------------------------------------------------------- formatting
@pytest.mark.parametrize("text, canonical", [
    ("1/(uM*s)", "1/(s*uM)"),
    ("/mM/ms", "1/(mM*ms)"),
    ("mM^-1 ms^-1", "1/(mM*ms)"),
    ("uM/s", "uM/s"),
    ("mV^-1", "1/mV"),
    ("m^(3)", "m^3"),
    ("", "1"),
    ("mM/mM", "1"),
    ("J/(mol*K)", "J/(K*mol)"),
    ("um^2/ms", "um^2/ms"),
    ("1/ms^2", "1/ms^2"),
])
def test_format_unit(text, canonical):
    assert format_unit(text) == canonical
    assert str(parse_unit(text)) == canonical
    assert parse_unit(format_unit(text)) == parse_unit(text)


_TOKENS = st.sampled_from(sorted(UNITS))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_TOKENS, st.integers(-3, 3)), max_size=5))
def test_format_round_trip(pairs):
    text = " ".join(f"{tok}^{e}" for tok, e in pairs) or "1"
    u = parse_unit(text)
    assert parse_unit(format_unit(u)) == u
    # the factor of a product is the product of the factors
    expected = math.prod(conversion_factor(tok, DEFAULT) ** e for tok, e in pairs)
    assert conversion_factor(text, DEFAULT) == pytest.approx(expected, rel=1e-12)
