"""Units as metadata, converted once.

Every parameter carries the unit its source states it in; a scheme converts
the values to its :class:`UnitSystem` once, before code generation. There is no
unit arithmetic at run time and no third-party units library: this module is a
small, explicit table of unit tokens and a parser for products and quotients
of them.

Unit strings
------------
A unit is a product or quotient of known tokens (``mM``, ``ms``, ``pS``...)
with optional integer powers::

    "1/(uM*s)"   "/mM/ms"   "mM^-1 ms^-1"   "mM**-1*ms**-1"   "uM/s"   "mg/kg"
    "mV^-1"      "J/(mol*K)"   "1"   ""   "%"

* ``*`` or whitespace multiply, ``/`` divides (left to right: ``a/b*c`` is
  ``(a/b)*c``; write ``a/(b*c)`` for the other reading), parentheses group;
* powers are ``^n`` or ``**n`` with an integer ``n`` (``mM^-1``, ``m^(3)``);
  ``ms-1`` or ``ms2`` are rejected (write ``ms^-1``, ``ms^2``);
* ``1`` (alone, or as the numerator of ``1/...``) and the empty string are
  dimensionless; a leading ``/`` means ``1/``;
* ``µ`` (micro sign) or ``μ`` (Greek mu) may be written for the ``u`` prefix.

Kinds and the unit system
-------------------------
Every base token has a *kind* (time, concentration, voltage, current,
conductance, capacitance, charge, length, volume, amount, mass, temperature)
and a scale to SI. A few derived tokens are defined through kinds: ``Hz`` is
time^-1, ``J`` is voltage*charge, ``Ohm`` is voltage/current. Temperatures are
absolute (K only): there are no offset units.

:func:`conversion_factor` converts a value written in a unit to the same
quantity written with every token replaced by the unit system's unit of the
token's kind: with the default system (ms, mM, mV, pA, nS, pF, fC, um, L,
mmol, kg, K) ``5 /uM/s`` is ``5 /mM/ms`` (factor 1), ``1/s`` is ``1e-3 /ms``,
``pS`` is ``1e-3 nS``. The default system is coherent for the quantities of
membrane kinetics: nS*mV = pA, pA*ms = fC, fC/mV = pF, mmol/L = mM. Scales are
exact fractions, so factors such as ``1e-3`` are exact floats.

:func:`dimension` gives the exponents of the SI base dimensions
(length, mass, time, current, temperature, amount), so ``uM`` and
``mmol/L`` have the same dimension, as do ``nS*mV`` and ``pA``.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from fractions import Fraction

from .errors import UnitError, did_you_mean

__all__ = [
    "UnitSystem",
    "Unit",
    "parse_unit",
    "format_unit",
    "conversion_factor",
    "convert",
    "dimension",
    "same_dimension",
    "unit_kind",
    "unit_composition",
    "KINDS",
    "BASE_DIMENSIONS",
    "UNITS",
]

#: Names of the SI base dimensions, the order of :func:`dimension` tuples.
BASE_DIMENSIONS = ("length", "mass", "time", "current", "temperature", "amount")


def _dim(length=0, mass=0, time=0, current=0, temperature=0, amount=0):
    return (length, mass, time, current, temperature, amount)


#: kind -> SI dimension of its SI unit
_KIND_DIMS = {
    "time": _dim(time=1),
    "concentration": _dim(length=-3, amount=1),            # mol/m^3
    "voltage": _dim(length=2, mass=1, time=-3, current=-1),  # V
    "current": _dim(current=1),                              # A
    "conductance": _dim(length=-2, mass=-1, time=3, current=2),   # S
    "capacitance": _dim(length=-2, mass=-1, time=4, current=2),   # F
    "charge": _dim(time=1, current=1),                      # C
    "length": _dim(length=1),                                # m
    "volume": _dim(length=3),                                # m^3
    "amount": _dim(amount=1),                                # mol
    "mass": _dim(mass=1),                                    # kg
    "temperature": _dim(temperature=1),                      # K
}
#: The kinds a :class:`UnitSystem` assigns a unit to, in field order.
KINDS = tuple(_KIND_DIMS)

_F = Fraction


def _p10(n: int) -> Fraction:
    return Fraction(10) ** n


@dataclass(frozen=True)
class _Token:
    name: str
    kind: str               # a KINDS entry, or a label of a derived token ("frequency", "energy"...)
    scale: Fraction         # value of 1 token in SI units of its composition
    composition: tuple      # ((kind, exponent), ...) in terms of KINDS


def _table():
    t: dict[str, _Token] = {}

    def base(kind, names_scales):
        for name, scale in names_scales:
            t[name] = _Token(name, kind, Fraction(scale), ((kind, 1),))

    base("time", [("s", 1), ("sec", 1), ("ms", _p10(-3)), ("us", _p10(-6)), ("ns", _p10(-9)),
                  ("min", 60), ("h", 3600), ("hr", 3600), ("day", 86400)])
    # SI concentration unit: mol/m^3; 1 M = 1 mol/L = 1e3 mol/m^3
    base("concentration", [("M", _p10(3)), ("mM", 1), ("uM", _p10(-3)), ("nM", _p10(-6)),
                           ("pM", _p10(-9)), ("fM", _p10(-12))])
    base("voltage", [("V", 1), ("mV", _p10(-3)), ("uV", _p10(-6))])
    base("current", [("A", 1), ("mA", _p10(-3)), ("uA", _p10(-6)), ("nA", _p10(-9)),
                     ("pA", _p10(-12)), ("fA", _p10(-15))])
    base("conductance", [("S", 1), ("mS", _p10(-3)), ("uS", _p10(-6)), ("nS", _p10(-9)),
                         ("pS", _p10(-12))])
    base("capacitance", [("F", 1), ("mF", _p10(-3)), ("uF", _p10(-6)), ("nF", _p10(-9)),
                         ("pF", _p10(-12))])
    base("charge", [("C", 1), ("mC", _p10(-3)), ("uC", _p10(-6)), ("nC", _p10(-9)),
                    ("pC", _p10(-12)), ("fC", _p10(-15))])
    base("length", [("m", 1), ("cm", _p10(-2)), ("mm", _p10(-3)), ("um", _p10(-6)), ("nm", _p10(-9))])
    # SI volume unit: m^3; 1 L = 1e-3 m^3
    base("volume", [("L", _p10(-3)), ("mL", _p10(-6)), ("uL", _p10(-9)), ("nL", _p10(-12)),
                    ("pL", _p10(-15)), ("fL", _p10(-18))])
    base("amount", [("mol", 1), ("mmol", _p10(-3)), ("umol", _p10(-6)), ("nmol", _p10(-9)),
                    ("pmol", _p10(-12)), ("fmol", _p10(-15))])
    base("mass", [("kg", 1), ("g", _p10(-3)), ("mg", _p10(-6)), ("ug", _p10(-9)), ("ng", _p10(-12))])
    base("temperature", [("K", 1)])

    def derived(kind, composition, names_scales):
        for name, scale in names_scales:
            t[name] = _Token(name, kind, Fraction(scale), tuple(composition))

    derived("frequency", [("time", -1)], [("Hz", 1), ("kHz", _p10(3))])
    derived("energy", [("voltage", 1), ("charge", 1)], [("J", 1), ("kJ", _p10(3)), ("mJ", _p10(-3))])
    derived("resistance", [("voltage", 1), ("current", -1)],
            [("Ohm", 1), ("kOhm", _p10(3)), ("MOhm", _p10(6)), ("GOhm", _p10(9))])
    derived("dimensionless", [], [("%", Fraction(1, 100))])
    return t


_TOKENS = _table()
#: Known unit tokens: ``{token: kind}``.
UNITS = {name: tok.kind for name, tok in _TOKENS.items()}

# alternative spellings normalised to the table's tokens
_ALIASES = {"Ω": "Ohm", "ohm": "Ohm", "kΩ": "kOhm", "MΩ": "MOhm", "GΩ": "GOhm"}
_MICRO = ("µ", "μ")  # micro sign U+00B5, Greek small mu U+03BC


def _normalise_token(name: str) -> str:
    if name in _ALIASES:
        return _ALIASES[name]
    for mu in _MICRO:
        if name.startswith(mu):
            name = "u" + name[len(mu):]
    return name


def _unknown_token(name: str, text: str) -> UnitError:
    lower = [k for k in _TOKENS if k.lower() == name.lower()]
    hint = f"; did you mean `{lower[0]}`?" if lower else did_you_mean(name, _TOKENS)
    where = f" in `{text}`" if text.strip() != name else ""
    return UnitError(f"unknown unit `{name}`{where}{hint}")


# --------------------------------------------------------------------------- Unit
@dataclass(frozen=True)
class Unit(Mapping):
    """A parsed unit: a frozen, hashable mapping ``{token: exponent}`` and its SI scale.

    ``powers`` holds ``(token, exponent)`` pairs sorted by token, with no zero
    exponents; ``scale`` is the exact SI value of one unit (a Fraction) and
    ``dimension`` the exponents of :data:`BASE_DIMENSIONS`. Build it with
    :func:`parse_unit`.
    """

    powers: tuple
    scale: Fraction
    dimension: tuple

    def __getitem__(self, token):
        for name, e in self.powers:
            if name == token:
                return e
        raise KeyError(token)

    def __iter__(self):
        return (name for name, _ in self.powers)

    def __len__(self):
        return len(self.powers)

    @property
    def dimensionless(self) -> bool:
        return not any(self.dimension)

    def __str__(self) -> str:
        return format_unit(self)


def _make_unit(powers: dict) -> Unit:
    items = tuple(sorted(((k, v) for k, v in powers.items() if v != 0), key=lambda kv: (kv[0].lower(), kv[0])))
    scale = Fraction(1)
    dim = [0] * len(BASE_DIMENSIONS)
    for name, e in items:
        tok = _TOKENS[name]
        scale *= tok.scale ** e
        for kind, ke in tok.composition:
            for i, d in enumerate(_KIND_DIMS[kind]):
                dim[i] += d * ke * e
    return Unit(items, scale, tuple(dim))


# --------------------------------------------------------------------------- parsing
_LEX = re.compile(r"""
    (?P<ws>\s+)
  | (?P<pow>\*\*|\^)
  | (?P<mul>\*|·|⋅)
  | (?P<div>/)
  | (?P<lp>\()
  | (?P<rp>\))
  | (?P<int>[-+]?\d+)
  | (?P<name>[^\W\d_]+|%|Ω)
""", re.VERBOSE)


def _lex(text: str):
    toks = []
    pos = 0
    while pos < len(text):
        m = _LEX.match(text, pos)
        if m is None:
            if text[pos] == "." and toks and toks[-1][0] == "int":
                raise UnitError(f"only integer powers are allowed in unit `{text}`")
            raise UnitError(f"unexpected character `{text[pos]}` at position {pos + 1} in unit `{text}`")
        kind = m.lastgroup
        value = m.group()
        after_pow = bool(toks) and (toks[-1][0] == "pow" or (toks[-1][0] == "lp" and len(toks) > 1
                                                               and toks[-2][0] == "pow"))
        if kind == "int" and value[0] in "+-" and not after_pow:
            if toks and toks[-1][0] in ("name", "rp"):
                raise UnitError(f"write powers with `^` in unit `{text}` "
                                f"(e.g. `{toks[-1][1] if toks[-1][0] == 'name' else 'x'}^{value}`)")
            raise UnitError(f"unexpected sign `{value[0]}` at position {pos + 1} in unit `{text}`")
        if kind == "int" and toks and toks[-1][0] == "name" and text[pos - 1] not in " \t":
            raise UnitError(f"write powers with `^` in unit `{text}` (e.g. `{toks[-1][1]}^{value}`)")
        if kind != "ws":
            toks.append((kind, value, pos, bool(pos > 0 and text[pos - 1].isspace())))
        pos = m.end()
    return toks


class _UnitParser:
    def __init__(self, text):
        self.text = text
        self.toks = _lex(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def error(self, what):
        tok = self.peek()
        at = f"`{tok[1]}` at position {tok[2] + 1}" if tok else "end of text"
        return UnitError(f"{what} in unit `{self.text}`, found {at}")

    def parse(self) -> dict:
        if not self.toks:
            return {}
        if self.peek()[0] == "div":  # "/mM/ms" == "1/mM/ms"
            result = {}
        else:
            result = self.factor()
        result = self.rest(result)
        if self.peek() is not None:
            raise self.error("unexpected symbol")
        return result

    def rest(self, acc):
        divided = False
        while True:
            tok = self.peek()
            if tok is None or tok[0] == "rp":
                return acc
            if tok[0] == "mul":
                self.take()
                acc = _combine(acc, self.factor(), 1)
            elif tok[0] == "div":
                self.take()
                divided = True
                acc = _combine(acc, self.factor(), -1)
            elif tok[0] in ("name", "lp", "int"):  # juxtaposition multiplies
                if divided:
                    raise UnitError(f"ambiguous unit `{self.text}`: a space after `/` could mean "
                                    "`*` or a longer denominator; write `*` and parentheses, "
                                    "e.g. `1/(mM*ms)`")
                acc = _combine(acc, self.factor(), 1)
            else:
                raise self.error("expected `*`, `/` or a unit")

    def factor(self) -> dict:
        tok = self.take()
        if tok is None:
            self.i -= 1
            raise self.error("expected a unit")
        if tok[0] == "name":
            name = _normalise_token(tok[1])
            if name not in _TOKENS:
                raise _unknown_token(tok[1], self.text)
            base = {name: 1}
        elif tok[0] == "int":
            if tok[1] != "1":
                raise UnitError(f"numbers other than `1` are not allowed in unit `{self.text}` "
                                f"(found `{tok[1]}`; write powers as `^{tok[1]}`)")
            base = {}
        elif tok[0] == "lp":
            inner = self.rest({} if self.peek() is not None and self.peek()[0] == "div" else self.factor())
            if self.peek() is None or self.peek()[0] != "rp":
                raise self.error("expected `)`")
            self.take()
            base = inner
        else:
            self.i -= 1
            raise self.error("expected a unit")
        nxt = self.peek()
        if nxt is not None and nxt[0] == "pow":
            self.take()
            exp = self.exponent()
            base = {k: v * exp for k, v in base.items()}
        return base

    def exponent(self) -> int:
        tok = self.take()
        if tok is not None and tok[0] == "int":
            return int(tok[1])
        if tok is not None and tok[0] == "lp":
            inner = self.take()
            close = self.take()
            if inner is not None and inner[0] == "int" and close is not None and close[0] == "rp":
                return int(inner[1])
        self.i -= 1
        raise self.error("expected an integer power (e.g. `^2`, `^-1`)")


def _combine(a: dict, b: dict, sign: int) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + sign * v
    return {k: v for k, v in out.items() if v != 0}


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Unit:
    return _make_unit(_UnitParser(text).parse())


def parse_unit(text) -> Unit:
    """Parse a unit string (grammar in the module docstring) into a :class:`Unit`.

    Raises :class:`~kinetics.errors.UnitError` for unknown tokens (with a
    did-you-mean hint) and malformed text. Results are cached.

    >>> parse_unit("1/(uM*s)") == parse_unit("uM^-1 s^-1")
    True
    """
    if isinstance(text, Unit):
        return text
    if not isinstance(text, str):
        raise UnitError(f"a unit must be a string, got {type(text).__name__}: {text!r}")
    if len(text) > 200:
        raise UnitError(f"unit text is too long ({len(text)} characters)")
    return _parse_cached(text.strip())


def format_unit(unit) -> str:
    """Canonical text of a unit: ``"mM/ms"``, ``"1/(mM*ms)"``, ``"m^2"``, ``"1"``.

    ``parse_unit(format_unit(u)) == parse_unit(u)``.
    """
    u = parse_unit(unit)
    if not u.powers:
        return "1"
    num = [(k, e) for k, e in u.powers if e > 0]
    den = [(k, -e) for k, e in u.powers if e < 0]

    def term(k, e):
        return k if e == 1 else f"{k}^{e}"

    top = "*".join(term(k, e) for k, e in num) if num else "1"
    if not den:
        return top
    bottom = "*".join(term(k, e) for k, e in den)
    if len(den) > 1:
        bottom = f"({bottom})"
    return f"{top}/{bottom}"


def dimension(unit) -> tuple:
    """Exponents of the SI base dimensions (:data:`BASE_DIMENSIONS`) of a unit.

    >>> dimension("uM") == dimension("mmol/L")
    True
    """
    return parse_unit(unit).dimension


def same_dimension(a, b) -> bool:
    """Whether two units measure the same kind of quantity (``"nS*mV"`` and ``"pA"`` do)."""
    return dimension(a) == dimension(b)


def unit_kind(token: str) -> str:
    """The kind of a single unit token (``"mM"`` -> ``"concentration"``)."""
    name = _normalise_token(token)
    if name not in _TOKENS:
        raise _unknown_token(token, token)
    return _TOKENS[name].kind


def unit_composition(token: str) -> tuple:
    """A token in terms of the system kinds: ``"mM"`` -> ``(("concentration", 1),)``,
    ``"Hz"`` -> ``(("time", -1),)``, ``"J"`` -> ``(("voltage", 1), ("charge", 1))``, ``"%"`` -> ``()``."""
    name = _normalise_token(token)
    if name not in _TOKENS:
        raise _unknown_token(token, token)
    return _TOKENS[name].composition


def convert(value: float, from_unit, to_unit) -> float:
    """Convert ``value`` between two units of the same dimension (``convert(5, "uM", "mM") == 0.005``)."""
    a, b = parse_unit(from_unit), parse_unit(to_unit)
    if a.dimension != b.dimension:
        raise UnitError(f"cannot convert `{format_unit(a)}` to `{format_unit(b)}`: different dimensions")
    return float(value) * float(a.scale / b.scale)


# --------------------------------------------------------------------------- UnitSystem
@dataclass(frozen=True)
class UnitSystem:
    """The units the derived equations are written in, one token per kind.

    The defaults are coherent for membrane kinetics: nS*mV = pA, pA*ms = fC,
    fC/mV = pF, mmol/L = mM. Other choices are allowed (any known token of the
    right kind); coherence across kinds is then the caller's responsibility.

    >>> str(UnitSystem())
    'ms, mM, mV, pA, nS'
    >>> str(UnitSystem(time="s"))
    's, mM, mV, pA, nS'
    """

    time: str = "ms"
    concentration: str = "mM"
    voltage: str = "mV"
    current: str = "pA"
    conductance: str = "nS"
    capacitance: str = "pF"
    charge: str = "fC"
    length: str = "um"
    volume: str = "L"
    amount: str = "mmol"
    mass: str = "kg"
    temperature: str = "K"

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, str):
                raise UnitError(f"unit system: {f.name} must be a unit string, got {value!r}")
            name = _normalise_token(value.strip())
            tok = _TOKENS.get(name)
            if tok is None:
                candidates = [k for k, t in _TOKENS.items() if t.kind == f.name]
                raise UnitError(f"unit system: unknown {f.name} unit `{value}`" + did_you_mean(value, candidates))
            if tok.kind != f.name:
                candidates = ", ".join(k for k, t in _TOKENS.items() if t.kind == f.name)
                raise UnitError(f"unit system: `{value}` is a {tok.kind} unit, not a {f.name} unit "
                                f"(choose one of {candidates})")
            object.__setattr__(self, f.name, name)

    def unit_of(self, kind: str) -> str:
        """The system's token for a kind (``"time"`` -> ``"ms"``)."""
        if kind not in KINDS:
            raise UnitError(f"unknown kind `{kind}`" + did_you_mean(kind, KINDS))
        return getattr(self, kind)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in KINDS}

    def __str__(self) -> str:
        main = ("time", "concentration", "voltage", "current", "conductance")
        parts = [getattr(self, k) for k in main]
        default = UnitSystem.__dataclass_fields__
        parts += [f"{k}={getattr(self, k)}" for k in KINDS
                  if k not in main and getattr(self, k) != default[k].default]
        return ", ".join(parts)


@functools.lru_cache(maxsize=4096)
def _factor_cached(unit: Unit, system: UnitSystem) -> float:
    factor = Fraction(1)
    for name, e in unit.powers:
        tok = _TOKENS[name]
        target = Fraction(1)
        for kind, ke in tok.composition:
            target *= _TOKENS[getattr(system, kind)].scale ** ke
        factor *= (tok.scale / target) ** e
    return float(factor)


def conversion_factor(unit, system: UnitSystem) -> float:
    """Factor converting a value in ``unit`` to the unit system ``system``.

    Every token is replaced by the system's unit of its kind (derived tokens
    through their definition: ``Hz`` -> 1/ms, ``J`` -> mV*fC), so the factor
    converts e.g. ``5 /uM/s`` to ``5 /mM/ms`` (factor 1.0) and ``1/s`` to
    ``1e-3 /ms``. Dimensionless tokens keep their scale (``%`` -> 0.01).

    >>> conversion_factor("pS", UnitSystem())
    0.001
    """
    if not isinstance(system, UnitSystem):
        raise UnitError(f"conversion_factor needs a UnitSystem, got {type(system).__name__}")
    return _factor_cached(parse_unit(unit), system)
