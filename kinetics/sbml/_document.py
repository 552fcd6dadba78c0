"""Reading an SBML document safely: size and nesting limits before libsbml parses it, no DTDs, bounded
function-definition chains, required packages refused, conversion to Level 3 Version 2, consistency checks."""
from __future__ import annotations

from pathlib import Path

from ..errors import ArgumentError, ParseError
from ._common import libsbml_module, unsupported
from ._mathml import MAX_CALL_DEPTH

#: SBML packages that do not change what a model computes (diagrams, grouping, extended math of L3V2 core).
_HARMLESS_PACKAGES = {"layout", "render", "groups", "l3v2extendedmath"}
#: libsbml consistency errors that do not change what a model computes, or whose meaning the importer fixes:
#: 21173, a local parameter named like a species of its reaction (an L3V1 warning, an error once converted to
#: L3V2; the local parameter wins inside its kinetic law, as SBML scoping says); 10313, a reference to a unit
#: that is not defined (units are only read to choose a unit system, and an unknown one is left out).
_TOLERATED_ERRORS = {21173, 10313}
#: Deepest XML element nesting read (MathML included; checked before libsbml parses the document, whose
#: recursive parser and consistency checks crash or take seconds on thousands of levels).
MAX_XML_DEPTH = 300
#: Largest SBML document read (bytes).
MAX_SBML_BYTES = 100_000_000


class _TooDeep(Exception):
    pass


def _check_xml_limits(data, name) -> None:
    """Refuse documents over :data:`MAX_SBML_BYTES` or nested deeper than :data:`MAX_XML_DEPTH` elements,
    and DTDs (entity expansion), before libsbml parses them. Streams through expat (iterative, no
    recursion); malformed XML is left to libsbml, which reports it with its own messages."""
    from xml.parsers import expat

    if len(data) > MAX_SBML_BYTES:
        raise ParseError(f"SBML document too large ({len(data)} bytes; the limit is {MAX_SBML_BYTES})", source=name)
    parser = expat.ParserCreate()
    depth = [0]

    def start(tag, attrs):
        depth[0] += 1
        if depth[0] > MAX_XML_DEPTH:
            raise _TooDeep

    def end(tag):
        depth[0] -= 1

    def doctype(*args):
        raise ParseError("SBML document with a DTD (<!DOCTYPE ...>) is not read", source=name)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(data, True)
    except _TooDeep:
        raise ParseError(f"SBML document nested too deeply (more than {MAX_XML_DEPTH} levels of XML elements, "
                         f"e.g. MathML)", source=name) from None
    except expat.ExpatError:
        pass  # libsbml reports malformed XML
    except LookupError as exc:  # an XML declaration naming an unknown encoding (expat asks Python's codecs)
        raise ParseError(f"SBML document in an unknown encoding: {exc}", source=name) from None


def _check_function_depth(model, name) -> None:
    """Refuse function definitions that call each other deeper than :data:`MAX_CALL_DEPTH` (or recursively),
    before libsbml's consistency check (which takes exponential time on such chains)."""
    L = libsbml_module("SBML import")
    calls = {}
    for i in range(model.getNumFunctionDefinitions()):
        fd = model.getFunctionDefinition(i)
        found = set()
        stack = [fd.getMath()] if fd.getMath() is not None else []
        while stack:
            a = stack.pop()
            if a.getType() == L.AST_FUNCTION and a.getName():
                found.add(a.getName())
            stack += [a.getChild(j) for j in range(a.getNumChildren())]
        calls[fd.getId()] = found
    depth = {}

    def too_deep(fid):
        return unsupported(f"function definitions calling each other deeper than {MAX_CALL_DEPTH} levels "
                            f"(or recursively)", f"function `{fid}`" + (f" in {name}" if name else ""))

    def visit(fid, level):
        if level > MAX_CALL_DEPTH:
            raise too_deep(fid)
        if fid not in depth:
            depth[fid] = 1 + max((visit(g, level + 1) for g in calls[fid] if g in calls), default=0)
        return depth[fid]

    for fid in calls:
        if visit(fid, 1) > MAX_CALL_DEPTH:
            raise too_deep(fid)


def read_document(source):
    """The checked libsbml document (Level 3 Version 2) of a path or SBML text, and the file name (or None)."""
    L = libsbml_module("SBML import")
    name = None
    if isinstance(source, (str, Path)) and not (isinstance(source, str) and source.lstrip().startswith("<")):
        path = Path(source)
        name = str(path)
        try:
            is_file = path.is_file()
        except (OSError, ValueError):  # a name too long for the file system
            is_file = False
        if not is_file:
            raise ParseError(f"no such SBML file: `{path}`")
        try:
            if path.stat().st_size > MAX_SBML_BYTES:
                raise ParseError(f"SBML document too large ({path.stat().st_size} bytes; the limit is "
                                 f"{MAX_SBML_BYTES})", source=name)
            data = path.read_bytes()
        except OSError as exc:
            raise ParseError(f"cannot read SBML file `{path}`: {exc.strerror or exc}") from None
        _check_xml_limits(data, name)
        doc = L.readSBMLFromFile(str(path))
    elif isinstance(source, str):
        try:
            data = source.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate: libsbml's wrapper raises TypeError on it
            raise ParseError(f"SBML text is not valid Unicode (a lone surrogate at character {exc.start})") from None
        _check_xml_limits(data, name)
        doc = L.readSBMLFromString(source)
    else:
        raise ArgumentError(f"read_sbml needs a path or SBML text, got {type(source).__name__}")
    fatal = [doc.getError(i) for i in range(doc.getNumErrors())
             if doc.getError(i).getSeverity() >= L.LIBSBML_SEV_ERROR]
    if fatal:
        msg = "; ".join(f"line {e.getLine()}: {e.getShortMessage()} — {e.getMessage().strip().splitlines()[0][:200]}"
                        for e in fatal[:3])
        raise ParseError(f"malformed or invalid SBML: {msg}", source=name)
    if doc.getModel() is None:
        raise ParseError("the SBML document has no <model>", source=name)
    _check_function_depth(doc.getModel(), name)
    for i in range(doc.getNumPlugins()):
        pkg = doc.getPlugin(i).getPackageName()
        if pkg in _HARMLESS_PACKAGES or doc.getLevel() < 3:
            continue
        if doc.isPackageEnabled(pkg) and doc.getPackageRequired(pkg):
            raise unsupported(f"SBML Level 3 package `{pkg}` (required)", f"document {name or ''}".strip())
    model = doc.getModel()
    for i in range(model.getNumReactions()):   # (libsbml cannot convert them to L3V2 either)
        r = model.getReaction(i)
        if r.isSetFast() and r.getFast():
            raise unsupported("fast reaction", f"reaction `{r.getId()}`" + (f" in {name}" if name else ""))
    if (doc.getLevel(), doc.getVersion()) != (3, 2):
        if not doc.setLevelAndVersion(3, 2, False):
            errs = "; ".join(doc.getError(i).getShortMessage() for i in range(doc.getNumErrors()))
            raise ParseError(f"cannot convert SBML Level {doc.getLevel()} Version {doc.getVersion()} to L3V2: {errs}",
                             source=name)
    doc.setConsistencyChecks(L.LIBSBML_CAT_UNITS_CONSISTENCY, False)
    doc.setConsistencyChecks(L.LIBSBML_CAT_MODELING_PRACTICE, False)
    doc.checkConsistency()
    errors = [doc.getError(i) for i in range(doc.getNumErrors())
              if doc.getError(i).getSeverity() >= L.LIBSBML_SEV_ERROR
              and doc.getError(i).getErrorId() not in _TOLERATED_ERRORS]
    if errors:
        msg = "; ".join(f"{e.getShortMessage()} — {e.getMessage().strip().splitlines()[-1][:200]}" for e in errors[:3])
        raise ParseError(f"invalid SBML ({len(errors)} error(s)): {msg}", source=name)
    return doc, name
