"""Export a scheme's derived equations and exchange formats: LaTeX, SBML, NMODL, C, Python, JSON.

One entry point, :func:`export`, and one registry of exporters: every public
module of this package that defines ``FORMAT`` (its name), ``SUFFIX``,
``DESCRIPTION`` and a function ``export(scheme, **options)`` is a format, and
so is each module named in ``_ELSEWHERE`` (the SBML writer,
:mod:`kinetics.sbml.write`, lives next to its reader). Adding a format means
adding one module.

==========  ======  =====================================================================
format      suffix  what it is (peer that checks it in the tests)
==========  ======  =====================================================================
``latex``   .tex    ODEs, reaction scheme, parameter table with units and sources (LaTeX)
``sbml``    .xml    SBML Level 3 Version 2 via python-libsbml; protocols as events (libRoadRunner)
``nmodl``   .mod    NEURON mechanism: KINETIC/DERIVATIVE, NET_RECEIVE pulses (nrnivmodl + NEURON)
``c``       .c      self-contained C99: RHS, Jacobian, protocol, the native DOPRI5/RODAS4 integrator
``python``  .py     standalone numpy/scipy module reproducing the simulation (python)
``json``    .json   lossless scheme (``kinetics.read_json`` reads it back exactly)
==========  ======  =====================================================================

Exports that reproduce a simulation on their own (``sbml``, ``nmodl``,
``python``, ``c``) take ``protocol=`` (a :class:`kinetics.protocol.Protocol`)
and ``t_end=``; times and amplitudes are in the scheme's units, the exported
simulation starts at ``t = 0``.

Names that are reserved words of the target language (``int`` in C,
``NET_RECEIVE`` or ``v`` in NMODL, ``min`` in Python...) are renamed by
appending ``_``; the renaming is listed in the exported text and reported with
an :class:`ExportWarning`.

Examples
--------
>>> import kinetics as kx
>>> from kinetics.exporters import export
>>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)],
...               parameters=[kx.Parameter("k", 0.5, "1/ms")], reactions=[kx.reaction("A ->", "k")])
>>> print(export(s, "latex", standalone=False).splitlines()[0])
% nmdakin export of scheme `decay` (LaTeX)
>>> sorted(formats())
['c', 'json', 'latex', 'nmodl', 'python', 'sbml']
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ArgumentError, did_you_mean
from ._common import ExportWarning, as_scheme

__all__ = ["export", "formats", "exporter", "Exporter", "ExportWarning"]


@dataclass(frozen=True)
class Exporter:
    """One registered format: its name, file suffix, description and export function."""

    name: str
    suffix: str
    description: str
    binary: bool
    function: Callable
    module: str

    @property
    def options(self) -> tuple:
        """Keyword options the format accepts."""
        sig = inspect.signature(self.function)
        return tuple(n for n, p in sig.parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY)


_REGISTRY: dict | None = None
#: Format modules that live next to their reader, outside this package.
_ELSEWHERE = ("kinetics.sbml.write",)


def _registry() -> dict:
    global _REGISTRY
    if _REGISTRY is None:
        found = {}
        here = [f"{__name__}.{info.name}" for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]
        for module in here + list(_ELSEWHERE):
            mod = importlib.import_module(module)
            name = getattr(mod, "FORMAT", None)
            if name is None:
                continue
            found[name] = Exporter(name=name, suffix=mod.SUFFIX, description=mod.DESCRIPTION,
                                   binary=getattr(mod, "BINARY", False), function=mod.export, module=mod.__name__)
        _REGISTRY = found
    return _REGISTRY


def formats() -> dict:
    """``{format name: description}`` of every registered exporter."""
    return {k: v.description for k, v in sorted(_registry().items())}


def exporter(fmt: str) -> Exporter:
    """The :class:`Exporter` of a format name (case-insensitive)."""
    reg = _registry()
    if not isinstance(fmt, str):
        raise ArgumentError(f"`fmt` must be a format name, got {fmt!r}; choose one of {sorted(reg)}")
    key = fmt.strip().lower()
    if key not in reg:
        raise ArgumentError(f"unknown export format `{fmt}`" + did_you_mean(key, reg) + f"; choose one of {sorted(reg)}")
    return reg[key]


def export(model, fmt: str, path=None, **options):
    """Export a scheme (or a model with a ``.scheme``) to a format; write it atomically if ``path`` is given.

    Parameters
    ----------
    model : Scheme
    fmt : str
        ``"latex"``, ``"sbml"``, ``"nmodl"``, ``"c"``, ``"python"`` or ``"json"`` (see :func:`formats`).
    path : str or Path, optional
        Where to write. The file is written atomically (a temporary file in the
        same folder, then renamed): on any error nothing is left behind.
    **options
        Format options, e.g. ``protocol=`` and ``t_end=`` for ``sbml``,
        ``nmodl``, ``python`` and ``c``; see each module's ``export`` docstring.

    Returns
    -------
    str (or bytes for binary formats)
        The exported text.

    Raises
    ------
    ArgumentError
        Unknown format or option, missing ``t_end`` with a protocol, unwritable path.
    SchemeError, ProtocolError
        When the scheme or protocol cannot be expressed in the format (the
        message names the construct).

    Examples
    --------
    >>> import kinetics as kx
    >>> s = kx.Scheme("AB", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 1.0, "1/ms")],
    ...               reactions=[kx.reaction("A ->", "k")])
    >>> text = export(s, "json")
    >>> from kinetics.jsonformat import read_json
    >>> read_json(text) == s
    True
    """
    scheme = as_scheme(model)
    ex = exporter(fmt)
    allowed = ex.options
    for key in options:
        if key not in allowed:
            raise ArgumentError(f"unknown option `{key}` for format `{ex.name}`" + did_you_mean(key, allowed)
                                + f"; accepted: {', '.join(allowed) or '(none)'}")
    if path is not None:
        target = Path(path)
        if target.is_dir():
            raise ArgumentError(f"cannot write `{target}`: it is a folder; give a file name such as "
                                f"`{target / ('model' + ex.suffix)}`")
    out = ex.function(scheme, **options)
    if path is not None:
        from ..io import atomic_write_bytes, atomic_write_text

        try:
            if isinstance(out, bytes):
                atomic_write_bytes(path, out)
            else:
                atomic_write_text(path, out)
        except OSError as exc:
            raise ArgumentError(f"cannot write `{path}`: {exc.strerror or exc}") from None
    return out
