"""Helpers shared by the exporters: model checks, safe names, protocols, units in the model's system."""
from __future__ import annotations

import math
import warnings
from typing import Iterable, Mapping

from ..errors import ArgumentError, ProtocolError
from ..protocol import Protocol
from ..scheme import Scheme, as_scheme  # noqa: F401  (as_scheme re-exported for the exporters)
from ..units import KINDS, UnitSystem, conversion_factor, dimension, format_unit, parse_unit, unit_kind

__all__ = ["ExportWarning", "as_scheme", "safe_names", "export_schedule", "model_unit_powers", "model_unit",
           "species_unit", "fmt_float", "renaming_note", "GENERATED_BY"]

GENERATED_BY = "nmdakin (kinetics.export)"


class ExportWarning(UserWarning):
    """An export changed something the user should know about (a renamed identifier)."""


def all_names(scheme: Scheme) -> list:
    """Every component name of a scheme (species, parameters, inputs, observables)."""
    return (list(scheme.species_names) + list(scheme.parameter_names) + list(scheme.input_names)
            + list(scheme.observable_names))


def safe_names(names: Iterable[str], reserved: Iterable[str], language: str, *,
               case_insensitive: bool = False, taken: Iterable[str] = ()) -> dict:
    """Map each name to an identifier that is not reserved in ``language`` (appending ``_``).

    Returns ``{name: safe_name}`` for every name; renamed names are reported
    with an :class:`ExportWarning`. ``taken`` are further identifiers the
    generated code uses (never produced as a new name).
    """
    names = list(names)
    norm = (lambda s: s.lower()) if case_insensitive else (lambda s: s)
    reserved_set = {norm(r) for r in reserved}
    used = {norm(n) for n in names} | {norm(x) for x in taken}
    out, renamed = {}, []
    for n in names:
        if norm(n) in reserved_set:
            new = n + "_"
            while norm(new) in reserved_set or norm(new) in used:
                new += "_"
            used.add(norm(new))
            out[n] = new
            renamed.append((n, new))
        else:
            out[n] = n
    if renamed:
        pairs = ", ".join(f"`{a}` -> `{b}`" for a, b in renamed)
        warn(f"{language} export renamed identifiers that are reserved in {language}: {pairs}")
    return out


def warn(message: str) -> None:
    """An :class:`ExportWarning` attributed to the first caller outside the kinetics package."""
    import os
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    level, frame = 2, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(root + os.sep):
        frame = frame.f_back
        level += 1
    warnings.warn(message, ExportWarning, stacklevel=level)


def renaming_note(mapping: Mapping[str, str]) -> list:
    """Lines ``"renamed: a -> a_ (reserved word)"`` for the names that changed."""
    return [f"renamed: {a} -> {b} (reserved word in the target language)" for a, b in mapping.items() if a != b]


def export_schedule(scheme: Scheme, protocol, t_end):
    """Compile ``protocol`` on ``[0, t_end]`` for an export, or return None without a protocol.

    Raises ArgumentError if ``t_end`` is missing or invalid with a protocol, or
    if ``protocol`` is not a Protocol.
    """
    if protocol is None:
        if t_end is not None:
            _check_t_end(t_end)
        return None
    if not isinstance(protocol, Protocol):
        raise ArgumentError(f"`protocol` must be a kinetics.protocol.Protocol, got {type(protocol).__name__}")
    if t_end is None:
        raise ArgumentError("an export with a `protocol` needs `t_end` (the end of the simulated window, "
                            "in the scheme's time unit)")
    t_end = _check_t_end(t_end)
    try:
        return protocol.schedule(0.0, t_end, inputs=scheme.input_names,
                                 defaults={u.name: u.default for u in scheme.inputs},
                                 states=scheme.species_names)
    except ProtocolError as exc:
        raise ProtocolError(f"cannot export the protocol for scheme `{scheme.name}`: {exc}") from None


def _check_t_end(t_end) -> float:
    try:
        t = float(t_end)
    except (TypeError, ValueError):
        raise ArgumentError(f"`t_end` must be a number, got {t_end!r}") from None
    if not (math.isfinite(t) and t > 0):
        raise ArgumentError(f"`t_end` must be a finite number > 0 (exports start at t = 0), got {t_end!r}")
    return t


# --------------------------------------------------------------------------- units in the model's system
# Derived unit kinds of kinetics.units, in terms of base kinds.
_DERIVED = {"frequency": (("time", -1),), "energy": (("voltage", 1), ("charge", 1)),
            "resistance": (("voltage", 1), ("current", -1)), "dimensionless": ()}


def model_unit_powers(unit, system: UnitSystem) -> dict:
    """The unit a value declared in ``unit`` has once converted to ``system``: ``{system token: exponent}``.

    ``"1/(uM*s)"`` in the default system gives ``{"mM": -1, "ms": -1}``.
    """
    out: dict = {}
    for tok, e in parse_unit(unit).powers:
        kind = unit_kind(tok)
        comp = ((kind, 1),) if kind in KINDS else _DERIVED.get(kind)
        if comp is None:  # pragma: no cover - a kind added to kinetics.units later
            raise ArgumentError(f"unit `{unit}`: no export mapping for unit kind `{kind}`")
        for k, ke in comp:
            tk = system.unit_of(k)
            out[tk] = out.get(tk, 0) + e * ke
    out = {k: v for k, v in out.items() if v}
    text = model_unit_text(out)
    # guard: the model unit measures the same quantity and needs no further conversion
    assert dimension(text) == dimension(unit) and conversion_factor(text, system) == 1.0, (unit, text)
    return out


def model_unit_text(powers: Mapping[str, int]) -> str:
    if not powers:
        return "1"
    return format_unit("*".join(f"{k}^{v}" for k, v in powers.items()))


def model_unit(unit, system: UnitSystem) -> str:
    """Canonical text of the model-system unit of ``unit`` (``"1/(uM*s)"`` -> ``"1/(mM*ms)"``)."""
    return model_unit_text(model_unit_powers(unit, system))


def species_unit(species, system: UnitSystem) -> str:
    """Model-system unit of a species' values (no unit means the scheme's concentration unit)."""
    if species.unit is None:
        return system.concentration
    return model_unit(species.unit, system)


def is_concentration(unit_text: str) -> bool:
    """Whether a unit measures a concentration (amount / volume)."""
    return dimension(unit_text) == dimension("mol/L")


def fmt_float(x: float) -> str:
    """Shortest text that reads back as the same double (``repr``), ``inf`` -> error."""
    x = float(x)
    if not math.isfinite(x):
        raise ArgumentError(f"cannot export the non-finite number {x}")
    return repr(x)


def parameter_model_values(scheme: Scheme) -> dict:
    """Parameter values in the scheme's unit system (what the derived equations use)."""
    from ..model import compile as compile_model

    model = compile_model(scheme)
    return dict(zip(model.parameter_names, (float(v) for v in model.parameter_vector())))

