"""models — the library of published NMDA-synapse kinetic models, built on :mod:`kinetics`.

Each module reads like its paper's methods section: a builder that returns a
:class:`kinetics.Scheme`, named parameter sets whose every value carries a unit
and a source, and a docstring with the equations. Models never run a
simulation at import.
"""
__version__ = "0.1.0"
