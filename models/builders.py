"""Scheme builders of the library by name, for experiment files (``builder = "destexhe1994.five_state"``).

:func:`scheme_builder` is the ``resolve_builder`` that ``nmdakin fit`` passes to
:func:`kinetics.fitting.read_experiment`: the engine knows no model library, and an experiment file can name only
functions this resolver allows.

Examples
--------
>>> scheme_builder("destexhe1994.five_state").__name__
'five_state'
"""
from __future__ import annotations

import importlib
import re

from kinetics.errors import ArgumentError, SchemeError, did_you_mean, short_repr

__all__ = ["scheme_builder"]

_BUILDER = re.compile(r"^([a-z][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$")


def _returns_scheme(fn) -> bool:
    import inspect

    try:
        ret = inspect.signature(fn).return_annotation
    except (TypeError, ValueError):
        return False
    ret = ret if isinstance(ret, str) else getattr(ret, "__name__", "")
    return ret == "Scheme" or ret.endswith(".Scheme")


def scheme_builder(name: str):
    """The ``resolve_builder`` of :func:`kinetics.fitting.read_experiment` for this library: the scheme builder
    named ``MODULE.FUNCTION`` (``destexhe1994.five_state``).

    Only functions that a models module lists in its ``__all__``, defines itself and declares as returning a
    ``Scheme`` are accepted (``destexhe1994.five_state``, ``mg_block.with_nmda_current``); anything else
    (constants, the CLI's ``cli.main``, private modules) is an :class:`~kinetics.errors.ArgumentError` or
    :class:`~kinetics.errors.SchemeError`.
    """
    import inspect
    import pkgutil

    m = _BUILDER.match(name) if isinstance(name, str) and len(name) <= 200 else None
    if not m:
        raise ArgumentError(f"`builder` must be MODULE.FUNCTION of nmdakin's models package "
                            f"(e.g. `destexhe1994.five_state`), got {short_repr(name)}")
    mod_name, fn_name = m.groups()
    import models

    known = [mi.name for mi in pkgutil.iter_modules(models.__path__) if not mi.name.startswith("_")]
    if mod_name not in known:
        raise SchemeError(f"unknown model module `{mod_name}`" + did_you_mean(mod_name, known))
    module = importlib.import_module(f"models.{mod_name}")
    public = [n for n in getattr(module, "__all__", ()) if isinstance(n, str)]
    builders = []
    for n in public:
        f = getattr(module, n, None)
        fn = inspect.unwrap(f) if callable(f) else None
        if inspect.isfunction(fn) and fn.__module__ == module.__name__ and _returns_scheme(fn):
            builders.append(n)
    if fn_name not in builders:
        raise SchemeError(f"`{fn_name}` is not a builder of `models.{mod_name}` (a function returning a Scheme)"
                          + did_you_mean(fn_name, builders) + f"; choose one of {builders}")
    return getattr(module, fn_name)
