"""SBML (Systems Biology Markup Language) in and out, with python-libsbml.

* Reading: :func:`read_sbml` (a :class:`~kinetics.scheme.Scheme`) and :func:`read_sbml_model` (an
  :class:`SbmlModel`: the scheme, the protocol made of time-only SBML events (other events are scheme events),
  and how every SBML symbol is computed);
  what is supported and how SBML quantities become scheme quantities is described in :mod:`kinetics.sbml.read`.
* Writing: the ``sbml`` format of :func:`kinetics.export` (:mod:`kinetics.sbml.write`, registered with the
  exporters): SBML Level 3 Version 2, scheme events as SBML events, protocols as events and assignment rules.
* Both ways: MathML (:mod:`kinetics.sbml._mathml`), units (:mod:`kinetics.sbml._units`) and the ``nmdakin:``
  annotations that make a round trip exact (:mod:`kinetics.sbml._annotations`, namespace :data:`NMDAKIN_NS`).

=================  ==========================================================================
module             what it holds
=================  ==========================================================================
``read``           :func:`read_sbml`, :func:`read_sbml_model`, the importer (in named steps)
``_events``        SBML events -> a protocol of steps and jumps, or scheme events
``_model``         :class:`SbmlModel`, the result of an import
``_document``      reading a document safely (size, nesting, DTDs, packages, consistency)
``write``          the exporter: ``FORMAT``, ``SUFFIX``, ``DESCRIPTION``, ``export()``
``_mathml``        sympy <-> libsbml ASTNode
``_units``         kinetics units <-> SBML unit definitions
``_annotations``   the ``nmdakin:`` annotations and XHTML notes, written and read
``_common``        the libsbml import, the error of an unsupported construct
=================  ==========================================================================

Examples
--------
>>> import kinetics as kx
>>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 0.5, "1/ms")],
...               reactions=[kx.reaction("A ->", "k")])
>>> read_sbml(kx.export(s, "sbml")) == s
True
"""
from __future__ import annotations

from ._annotations import NMDAKIN_NS
from ._model import SbmlModel
from .read import SbmlImportWarning, read_sbml, read_sbml_model

__all__ = ["read_sbml", "read_sbml_model", "SbmlModel", "SbmlImportWarning", "NMDAKIN_NS"]
