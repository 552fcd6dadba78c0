"""models — the library of published NMDA-synapse kinetic models, built on :mod:`kinetics`.

Each module reads like its paper's methods section: a builder that returns a
:class:`kinetics.Scheme`, named parameter sets whose every value carries a unit
and a source, and a docstring with the equations. Models never run a
simulation at import.

The library's one registry (:mod:`models.registry`): :func:`available` lists
the plasticity models, scheme builders and transforms with a one-line
description each, :func:`get` returns one by name, and :func:`scheme_builder`
is the ``resolve_builder`` of :func:`kinetics.fitting.read_experiment`.
"""
from .registry import available, get, scheme_builder

__version__ = "0.1.0"

__all__ = ["available", "get", "scheme_builder"]
