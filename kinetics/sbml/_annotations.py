"""The ``nmdakin:`` annotations and the XHTML notes of SBML elements, written and read in one place.

An nmdakin SBML export keeps what SBML has no field for in one annotation per element, an XML element
``<nmdakin:TAG attr="..."/>`` in the namespace :data:`NMDAKIN_NS`, so that reading the file back restores the
scheme exactly:

=============== ============================ ==========================================================
tag             on                           attributes
=============== ============================ ==========================================================
``scheme``      the model                    ``name``, ``description``, ``reference``, ``unit_<kind>``,
                                             ``t_end``, ``state_order``, ``check_units``
                                             (``false`` when the scheme opted out)
``compartment`` the compartment              ``role="unit"`` (the bookkeeping compartment of size 1)
``species``     species, state parameters    ``unit``, ``nonnegative``, ``initial``, ``protocol_initial``,
                                             ``rate_rule``, ``note``
``parameter``   parameters                   ``value``, ``unit`` (declared), ``bounds``, ``reference``,
                                             ``note``
``input``       inputs                       ``default``, ``unit``, ``note``
``observable``  observables                  ``unit``, ``note``, ``expr``
``reaction``    reactions                    ``name``, ``forward``, ``reverse``, ``rate``
``protocol``    protocol parameters, events  ``input``
=============== ============================ ==========================================================

Units are kinetics unit text, ``-`` for none, ``[]`` for ``""`` (:func:`format_unit_attr`,
:func:`parse_unit_attr`); bounds are two numbers, ``inf`` allowed (:func:`format_bounds`, :func:`parse_bounds`);
expressions are kinetics expression text. Values written as text are escaped (:func:`kinetics.escape.xml_text`).
"""
from __future__ import annotations

import math

from ..escape import xml_text
from ..exporters._common import fmt_float
from ._common import libsbml_module

#: Namespace of the nmdakin annotations (the only definition).
NMDAKIN_NS = "urn:nmdakin:sbml-annotation:1"
#: Prefix of the nmdakin annotations.
NMDAKIN_PREFIX = "nmdakin"
#: Namespace of SBML notes.
XHTML_NS = "http://www.w3.org/1999/xhtml"


# --------------------------------------------------------------------------- writing
def write_annotation(element, tag: str, attrs: dict) -> int:
    """Append ``<nmdakin:tag .../>`` with the attributes that are not None; libsbml's return code."""
    L = libsbml_module("SBML export")
    ns = L.XMLNamespaces()
    ns.add(NMDAKIN_NS, NMDAKIN_PREFIX)
    a = L.XMLAttributes()
    for k, v in attrs.items():
        if v is None:
            continue
        a.add(k, xml_text(v))  # free text (references, notes, expressions): kinetics.escape.xml_text
    node = L.XMLNode(L.XMLTriple(tag, NMDAKIN_NS, NMDAKIN_PREFIX), a, ns)
    return element.appendAnnotation(node)


def write_notes(element, text: str) -> int:
    """Set the element's notes to one XHTML paragraph of free text; libsbml's return code."""
    L = libsbml_module("SBML export")
    ns = L.XMLNamespaces()
    ns.add(XHTML_NS)
    para = L.XMLNode(L.XMLTriple("p", XHTML_NS, ""), L.XMLAttributes(), ns)
    para.addChild(L.XMLNode(L.XMLToken(xml_text(text))))  # free text: kinetics.escape.xml_text
    return element.setNotes(para)


def format_unit_attr(unit) -> str:
    """A unit as an annotation attribute: its text, ``-`` for no unit, ``[]`` for the empty (dimensionless)
    unit ``""`` (libsbml drops an attribute whose value is empty)."""
    if unit is None:
        return "-"
    return unit or "[]"


def format_bound(x: float) -> str:
    """One bound as annotation text (``inf``, ``-inf`` or the shortest exact number)."""
    return "inf" if x == math.inf else "-inf" if x == -math.inf else fmt_float(x)


def format_bounds(bounds) -> str:
    """A parameter's ``(lower, upper)`` bounds as annotation text."""
    return f"{format_bound(bounds[0])} {format_bound(bounds[1])}"


# --------------------------------------------------------------------------- reading
def read_annotation(element, tag: str):
    """Attributes of an ``nmdakin:<tag>`` annotation of an element, or None."""
    ann = element.getAnnotation()
    if ann is None:
        return None
    for i in range(ann.getNumChildren()):
        ch = ann.getChild(i)
        if ch.getURI() == NMDAKIN_NS and ch.getName() == tag:
            attrs = ch.getAttributes()
            return {attrs.getName(j): attrs.getValue(j) for j in range(attrs.getLength())}
    return None


def read_notes(element) -> str:
    """The text of an element's notes, whitespace collapsed (empty if none)."""
    if not element.isSetNotes():
        return ""
    n = element.getNotes()

    def text(node):
        if node.isText():
            return node.getCharacters()
        return " ".join(x for x in (text(node.getChild(i)) for i in range(node.getNumChildren())) if x.strip())

    return " ".join(text(n).split())


def parse_unit_attr(text):
    """A unit stored in an nmdakin annotation (``-`` for no unit, ``[]`` for the empty unit ``""``)."""
    if text == "[]":
        return ""
    return None if text in (None, "", "-") else text


def parse_bounds(text):
    """Bounds stored in an nmdakin annotation (none stored: non-negative)."""
    if not text:
        return (0.0, math.inf)
    lo, hi = text.split()
    return float(lo), float(hi)
