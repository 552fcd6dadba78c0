"""JSON export: the lossless form of a scheme, read back by :func:`kinetics.read_json`.

See :mod:`kinetics.jsonformat` for the document layout.
"""
from __future__ import annotations

from ..jsonformat import scheme_to_json

FORMAT = "json"
SUFFIX = ".json"
DESCRIPTION = "lossless scheme (read back with kinetics.read_json)"


def export(scheme, *, indent: int | None = 1, protocol=None, t_end: float | None = None) -> str:
    """The scheme as JSON text; ``kinetics.read_json(text) == scheme``.

    Parameters
    ----------
    indent : int or None
        Indentation of the JSON text (None: one line).
    protocol : Protocol, optional
        Stored with the scheme (``kinetics.read_model`` / ``kinetics.jsonformat.read_json_model`` read it back).
    t_end : float, optional
        End of the simulated window, stored with the scheme.
    """
    return scheme_to_json(scheme, indent=indent, protocol=protocol, t_end=t_end)
