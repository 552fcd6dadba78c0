"""Units in SBML, both ways: kinetics unit text -> SBML unit definitions (export), and SBML unit references ->
kinetics unit text and a :class:`~kinetics.units.UnitSystem` (import)."""
from __future__ import annotations

import math
from fractions import Fraction

from ..errors import SchemeError
from ..units import UnitSystem, conversion_factor, format_unit, parse_unit, unit_kind
from ._common import libsbml_module

# --------------------------------------------------------------------------- writing
# kinetics base kind -> (SBML unit kinds with exponents, size of 1 SBML unit in the kind's SI unit)
_SBML_KIND = {
    "time": ((("second", 1),), Fraction(1)),
    "concentration": ((("mole", 1), ("litre", -1)), Fraction(1000)),   # 1 mol/L = 1000 mol/m^3
    "voltage": ((("volt", 1),), Fraction(1)),
    "current": ((("ampere", 1),), Fraction(1)),
    "conductance": ((("siemens", 1),), Fraction(1)),
    "capacitance": ((("farad", 1),), Fraction(1)),
    "charge": ((("coulomb", 1),), Fraction(1)),
    "length": ((("metre", 1),), Fraction(1)),
    "volume": ((("litre", 1),), Fraction(1, 1000)),                    # 1 L = 1e-3 m^3
    "amount": ((("mole", 1),), Fraction(1)),
    "mass": ((("kilogram", 1),), Fraction(1)),
    "temperature": ((("kelvin", 1),), Fraction(1)),
}


def unit_definition_base(powers) -> str:
    """Readable base of a unit definition id, e.g. ``mM_per_ms`` (not yet a unique or valid SId)."""
    num = "_".join(f"{t}{'' if e == 1 else e}" for t, e in powers if e > 0)
    den = "_".join(f"{t}{'' if e == -1 else -e}" for t, e in powers if e < 0)
    return (num or "one") + (f"_per_{den}" if den else "")


def fill_unit_definition(ud, powers) -> None:
    """Add to an SBML unit definition the units of kinetics unit tokens with exponents (``parse_unit().powers``)."""
    L = libsbml_module("SBML export")
    for tok, e in powers:
        kind = unit_kind(tok)
        comps, ref = _SBML_KIND[kind]
        mult = parse_unit(tok).scale / ref       # one token in SBML units of the kind
        for j, (sbml_kind, ke) in enumerate(comps):
            u = ud.createUnit()
            u.setKind(L.UnitKind_forName(sbml_kind))
            u.setExponent(float(e * ke))
            scale, multiplier = 0, 1.0
            if j == 0 and mult != 1:
                lg = math.log10(mult)
                if abs(lg - round(lg)) < 1e-12 and Fraction(10) ** round(lg) == mult:
                    scale = int(round(lg))
                else:
                    multiplier = float(mult)
            u.setScale(scale)
            u.setMultiplier(multiplier)


# --------------------------------------------------------------------------- reading
_SBML_TO_KINETICS = {"second": ("s", "time"), "mole": ("mol", "amount"), "litre": ("L", "volume"),
                     "liter": ("L", "volume"), "metre": ("m", "length"), "meter": ("m", "length"),
                     "volt": ("V", "voltage"), "ampere": ("A", "current"), "siemens": ("S", "conductance"),
                     "farad": ("F", "capacitance"), "coulomb": ("C", "charge"), "kilogram": ("kg", "mass"),
                     "gram": ("g", "mass"), "kelvin": ("K", "temperature"), "dimensionless": (None, None),
                     "item": (None, None)}
_PREFIX = {0: "", -3: "m", -6: "u", -9: "n", -12: "p", -15: "f", 3: "k"}


def unit_text(model, uid: str):
    """kinetics unit text of an SBML unit reference, or None if it has no kinetics spelling."""
    if not uid:
        return None
    L = libsbml_module("SBML import")
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
    try:
        return format_unit("*".join(parts))
    except SchemeError:
        return None


def unit_system(model) -> UnitSystem:
    """A UnitSystem matching the model's time, substance and volume units where kinetics can spell them."""
    fields = {}
    for attr, kind in (("getTimeUnits", "time"), ("getVolumeUnits", "volume"), ("getSubstanceUnits", "amount")):
        text = unit_text(model, getattr(model, attr)())
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


def parameter_unit(model, uid, system) -> tuple:
    """``(unit, note)`` of a parameter with SBML units ``uid``: the kinetics unit if its value needs no
    conversion in ``system``, else ``"1"`` and a note naming the SBML units."""
    text = unit_text(model, uid) if uid else None
    if text is None:
        return "1", (f"SBML units `{uid}`." if uid else "")
    try:
        if conversion_factor(text, system) == 1.0:
            return text, ""
    except SchemeError:
        pass
    return "1", f"SBML units `{uid}` ({text})."


def species_unit(model, s, hosu: bool, compartment: str):
    """kinetics unit text of a species' symbol value (its amount, or its concentration unless
    ``hosu``); None if it has no kinetics spelling."""
    subst = s.getSubstanceUnits() or model.getSubstanceUnits()
    text = unit_text(model, subst) if subst else None
    if hosu:
        return text
    comp = model.getCompartment(compartment)
    vol = comp.getUnits() or model.getVolumeUnits()
    vtext = unit_text(model, vol) if vol else None
    if text and vtext:
        try:
            return format_unit(f"{text}/({vtext})")
        except SchemeError:
            return None
    return None
