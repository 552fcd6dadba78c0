"""What reading and writing SBML share: python-libsbml itself, and the error of an unsupported construct."""
from __future__ import annotations

from ..errors import ArgumentError, SchemeError


def libsbml_module(purpose: str = "SBML"):
    """The ``libsbml`` module; an :class:`~kinetics.errors.ArgumentError` saying how to install it if missing.

    ``purpose`` starts the message: ``"SBML import"``, ``"SBML export"``.
    """
    try:
        import libsbml
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ArgumentError(f"{purpose} needs python-libsbml: pip install python-libsbml") from None
    return libsbml


def unsupported(construct: str, where: str, hint: str = "") -> SchemeError:
    """The error of an SBML construct kinetics cannot represent, naming it and the element."""
    return SchemeError(f"unsupported SBML construct: {construct} ({where})" + (f"; {hint}" if hint else ""))
