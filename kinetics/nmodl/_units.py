"""NMODL unit text (``(/ms mM)``, ``(umho)``, ``(mA/cm2)``) as kinetics unit strings.

NMODL writes units as ``units(1)`` does: tokens multiply, a ``/`` puts *everything after it* in the
denominator (``/ms mM`` is ``1/(ms*mM)``), a trailing integer is a power (``cm2``). The UNITS block's
``(abbrev) = (long name)`` lines are followed. A unit this table cannot read gives ``None`` (the value
is then kept as written and the unit text goes into the parameter's note).
"""
from __future__ import annotations

import re

from ..errors import UnitError
from ..units import UNITS, parse_unit

# long names of the UNITS block (and NEURON's own abbreviations) -> kinetics tokens
_LONG = {
    "nanoamp": "nA", "milliamp": "mA", "microamp": "uA", "picoamp": "pA", "amp": "A", "ampere": "A",
    "millivolt": "mV", "volt": "V", "microvolt": "uV",
    "micromho": "uS", "millimho": "mS", "mho": "S", "nanomho": "nS", "picomho": "pS", "umho": "uS", "mmho": "mS",
    "siemens": "S", "millisiemens": "mS", "microsiemens": "uS", "nanosiemens": "nS", "picosiemens": "pS",
    "milli/liter": "mM", "micro/liter": "uM", "nano/liter": "nM", "millimolar": "mM", "micromolar": "uM",
    "nanomolar": "nM", "molar": "M", "mmol/liter": "mM", "mol/liter": "M",
    "micron": "um", "micrometer": "um", "centimeter": "cm", "millisecond": "ms", "second": "s", "sec": "s",
    "coul": "C", "coulomb": "C", "coulombs": "C", "joule": "J", "joules": "J", "liter": "L", "l": "L",
    "microfarad": "uF",
}
_POWER = re.compile(r"([A-Za-z]+?)(-?\d+)$")


def _token(tok: str, aliases: dict) -> str | None:
    tok = aliases.get(tok, tok)
    tok = _LONG.get(tok, tok)
    if tok in UNITS:
        return tok
    m = _POWER.fullmatch(tok)
    if m:
        base = _token(m.group(1), aliases)
        return None if base is None else f"{base}^{int(m.group(2))}"
    return None


def nmodl_unit(text: str | None, aliases: dict) -> str | None:
    """The kinetics unit string of NMODL unit text, or ``None`` if it cannot be read (or is absent).

    >>> nmodl_unit("/ms mM", {}), nmodl_unit("umho", {}), nmodl_unit("mA/cm2", {}), nmodl_unit("1", {})
    ('1/(ms*mM)', 'uS', 'mA/cm^2', '1')
    """
    if text is None:
        return None
    text = text.strip()
    if text in aliases:
        text = aliases[text].strip()
    if text in _LONG:
        return _LONG[text]
    if text in ("1", ""):
        return "1"
    num, den = [], []
    target = num
    for part in re.split(r"(/)|\s+", text):
        if not part:
            continue
        if part == "/":
            target = den
            continue
        if part == "1" and target is num:
            continue
        tok = _token(part, aliases)
        if tok is None:
            return None
        target.append(tok)
    top = "*".join(num) if num else "1"
    result = top if not den else f"{top}/{den[0]}" if len(den) == 1 else f"{top}/({'*'.join(den)})"
    try:
        parse_unit(result)
    except UnitError:
        return None
    return result
