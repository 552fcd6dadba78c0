"""Tokens of an NMODL file.

Comments (``:`` or ``?`` to the end of a line, ``COMMENT ... ENDCOMMENT``) and ``TITLE`` lines are
dropped. A ``VERBATIM ... ENDVERBATIM`` block becomes one ``VERBATIM`` token (its C code is never read
further, let alone run); the parser rejects it with its line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ParseError

#: Largest .mod file read (bytes of text).
MAX_NMODL_CHARS = 1_000_000

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r\f\v]+|\n)
  | (?P<comment>[:?][^\n]*)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>"[^"\n]*")
  | (?P<op><->|<<|->|<=|>=|==|!=|&&|\|\||[~{}()\[\],=<>+\-*/^'!%])
""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str      # "name", "number", "string", "op", "VERBATIM", "eof"
    text: str
    line: int
    start: int     # offset in the source
    end: int


def tokenize(text: str, source: str | None = None) -> list:
    """The tokens of ``text`` (a list ending with an ``eof`` token)."""
    if len(text) > MAX_NMODL_CHARS:
        raise ParseError(f"NMODL file too large ({len(text)} characters; at most {MAX_NMODL_CHARS})",
                         source=source)
    tokens, pos, line, n = [], 0, 1, len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ParseError(f"unexpected character {text[pos]!r}", line=line, source=source)
        kind, value = m.lastgroup, m.group()
        if kind == "ws":
            line += value.count("\n")
            pos = m.end()
            continue
        if kind == "comment":
            pos = m.end()
            continue
        if kind == "name" and value in ("COMMENT", "VERBATIM"):
            close = "END" + value
            found = re.compile(r"\b" + close + r"\b").search(text, m.end())
            if found is None:
                raise ParseError(f"{value} without {close}", line=line, source=source)
            if value == "VERBATIM":
                tokens.append(Token("VERBATIM", value, line, m.start(), found.end()))
            line += text.count("\n", pos, found.end())
            pos = found.end()
            continue
        if kind == "name" and value == "TITLE":
            end = text.find("\n", pos)
            pos = n if end < 0 else end
            continue
        tokens.append(Token(kind, value, line, m.start(), m.end()))
        pos = m.end()
    tokens.append(Token("eof", "", line, n, n))
    return tokens
