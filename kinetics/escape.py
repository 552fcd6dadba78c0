"""Free text in generated code: one escaping function per target language and context.

Names (of schemes and components) are identifiers by one rule
(:func:`kinetics.scheme.check_name`) and can be written anywhere unchanged.
Everything else a user writes — descriptions, references, parameter sources,
notes, unit strings, imported SBML names — is *free text*, and generated code
(the native solver's C, the C, Python, NMODL and LaTeX exports, SBML) must only
ever contain it inside a string literal or a comment, escaped here for exactly
that place. The rule for comments is the simple robust one: the text becomes a
single line (newlines and every control, format, separator or unassigned
character become a space) and the target's comment terminator is neutralised.

============================  ==========================================================
function                      for
============================  ==========================================================
:func:`c_comment`             text inside ``/* ... */`` (one line; ``*/``, ``/*``, trigraphs)
:func:`c_string`              a complete C string literal ``"..."`` (ASCII, octal escapes)
:func:`py_string`             a complete Python string literal (``repr``)
:func:`py_comment`            text after ``#`` (one line)
:func:`py_docstring`          text inside a ``\"\"\"...\"\"\"`` (non-raw) docstring (repr-style escapes)
:func:`nmodl_comment`         NMODL ``TITLE``, ``COMMENT ... ENDCOMMENT``, ``:`` comments (one ASCII line,
                              no ``VERBATIM``/``ENDCOMMENT``, no ``"`` or ``\\``: nocmodl pastes the TITLE into C++)
:func:`latex_text`            LaTeX text mode (specials escaped, one line)
:func:`latex_comment`         text after ``%`` (one line)
:func:`xml_text`              SBML notes, names and annotation values (libsbml escapes ``<>"``;
                              this writes ``&``, tab, CR, LF as references, drops what XML cannot hold)
============================  ==========================================================

Examples
--------
>>> c_comment("x */ int main(void) { /* y")
'x * / int main(void) { / * y'
>>> nmodl_comment("a\\nVERBATIM\\nsystem(0);")
'a VERB-ATIM system(0);'
>>> latex_text(r"\\input{/etc/passwd}")
'\\\\textbackslash{}input\\\\{/etc/passwd\\\\}'
"""
from __future__ import annotations

import re
import unicodedata

__all__ = ["one_line", "c_comment", "c_string", "py_string", "py_comment", "py_docstring", "nmodl_comment",
           "latex_text", "latex_comment", "xml_text"]

# Unicode categories that never belong in a one-line comment: controls (newlines, NUL, ESC...), format
# characters (bidirectional overrides: "trojan source"), surrogates, private use, unassigned, and line and
# paragraph separators (U+2028/U+2029, which some tools treat as newlines).
_DROP = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def one_line(text) -> str:
    """``text`` on one line: every control/format/separator character a space, whitespace runs collapsed."""
    s = "" if text is None else str(text)
    s = "".join(" " if unicodedata.category(c) in _DROP else c for c in s)
    return " ".join(s.split())


# --------------------------------------------------------------------------- C
def c_comment(text) -> str:
    """``text`` for the inside of a C ``/* ... */`` comment: one line, no ``*/`` (or ``/*``), no trigraphs.

    A trailing backslash is followed by ``.`` (it cannot splice the next line onto this one), a trailing ``*``
    or ``/`` by a space.
    """
    s = one_line(text)
    s = s.replace("*/", "* /").replace("/*", "/ *")
    while "??" in s:  # trigraphs (``??/`` is a backslash in strict ISO C)
        s = s.replace("??", "? ?")
    if s.endswith("\\"):
        s += "."
    elif s.endswith(("*", "/")):  # cannot meet a `/` or `*` the caller writes next
        s += " "
    return s


def c_string(text) -> str:
    """A complete C string literal holding ``text`` (printable ASCII as is, everything else as octal escapes)."""
    out = ['"']
    for b in str(text).encode("utf-8"):
        c = chr(b)
        if c in '\\"?':  # `?`: no trigraphs
            out.append("\\" + c)
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append(f"\\{b:03o}")
    out.append('"')
    return "".join(out)


# --------------------------------------------------------------------------- Python
def py_string(text) -> str:
    """A complete Python string literal holding ``text`` (``repr``: every quote, backslash and control escaped)."""
    return repr(str(text))


def py_comment(text) -> str:
    """``text`` for a Python ``#`` comment: one line."""
    return one_line(text)


def py_docstring(text) -> str:
    """``text`` for the inside of a non-raw ``\"\"\"`` docstring: backslashes and quotes escaped, newlines kept,
    other control/format characters as ``repr`` escapes; the docstring's value is ``text`` itself."""
    out = []
    for c in str(text):
        if c == "\n":
            out.append(c)
        elif c in '\\"':
            out.append("\\" + c)
        elif not c.isprintable():
            out.append(repr(c)[1:-1])
        else:
            out.append(c)
    return "".join(out)


# --------------------------------------------------------------------------- NMODL


def nmodl_comment(text) -> str:
    """``text`` for an NMODL ``TITLE`` line, a ``COMMENT ... ENDCOMMENT`` block line or a ``:`` comment.

    One line (a newline would end a ``:`` comment or TITLE), ASCII (NFKC, then ``?`` for what is left:
    the NMODL translators read bytes), and ``ENDCOMMENT``, ``VERBATIM`` and ``ENDVERBATIM`` (any case)
    broken with a hyphen (``END-COMMENT``, ``VERB-ATIM``, ``ENDVERB-ATIM``) so that no block can end or
    start inside it. NEURON's nocmodl pastes the TITLE unescaped into a C++ string literal (and the whole
    file, escaped, into another): ``"`` becomes ``'``, ``\\`` becomes ``/`` and trigraphs (``??/``) are broken.
    """
    s = unicodedata.normalize("NFKC", one_line(text))
    s = "".join(c if ord(c) < 0x7F else "?" for c in s)
    # nocmodl writes the TITLE into a C++ string literal *unescaped* (and the file, escaped, into another):
    # no quote, no backslash, no trigraph can end or bend it
    s = s.replace('"', "'").replace("\\", "/")
    while "??" in s:
        s = s.replace("??", "? ?")
    s = re.sub(r"(?i)(verb)(atim)", r"\1-\2", s)          # VERBATIM, ENDVERBATIM
    return re.sub(r"(?i)(end)\s*(comment)", r"\1-\2", s)  # ENDCOMMENT (and END COMMENT)


# --------------------------------------------------------------------------- LaTeX
_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
          "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_text(text) -> str:
    """``text`` for LaTeX text mode: one line, the specials ``\\ { } $ & # ^ _ % ~`` escaped.

    No command, group, math shift, parameter or ``^^`` character code survives, so ``\\input{...}`` is text.
    """
    return "".join(_LATEX.get(c, c) for c in one_line(text))


def latex_comment(text) -> str:
    """``text`` for a LaTeX ``%`` comment: one line."""
    return one_line(text)


# --------------------------------------------------------------------------- XML
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text) -> str:
    """``text`` for an XML text node or attribute value that libsbml writes (``XMLToken``, ``setName``,
    ``XMLAttributes``).

    libsbml escapes ``<``, ``>`` and quotes but keeps anything that looks like an entity or character
    reference (``&amp;``, ``&#0;``) as it is, which would change the text or make the document malformed;
    so every ``&`` is written ``&amp;`` here, and tab, newline and carriage return as character references
    (which XML readers do not normalise away), so the text reads back exactly; the characters XML 1.0
    cannot hold (the other C0 controls; surrogates; U+FFFE, U+FFFF) are removed.
    """
    s = _XML_INVALID.sub("", "" if text is None else str(text)).replace("&", "&amp;")
    # and whitespace that XML readers would normalise (in attribute values) as character references
    return s.replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;")
