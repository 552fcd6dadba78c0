"""A small, line-oriented text syntax for reaction schemes, parsed safely.

Reading a scheme file never runs code: every expression goes through
:func:`kinetics.expressions.parse_expression` (a whitelist over Python's
syntax tree) and every other field is read by a small hand-written lexer.

Syntax
------
One statement per line. ``#`` starts a comment (outside quoted strings); blank
lines are ignored; a line ending with ``\\`` continues on the next line.
Statements may come in any order (names can be used before they are
declared), but each header statement at most once.

Header::

    scheme NAME                      # a name (below); a human-readable label goes in the description
    description "free text"
    reference "free text"
    units time=ms concentration=mM voltage=mV      # any UnitSystem fields; others keep defaults
                                                   # `check=off`: build with check_units=False

Declarations (``[unit]`` is optional, it must follow the value; options are
``key=value`` pairs after it)::

    species NAME = NUMBER [UNIT]   nonnegative=false  note="..."
    parameter NAME = NUMBER [UNIT] source="..."  bounds=(LOW, HIGH)  note="..."
    input NAME = NUMBER [UNIT]     note="..."
    observable NAME = EXPRESSION [UNIT]  note="..."
    ode NAME = EXPRESSION            # rate rule: d NAME/dt += EXPRESSION

A parameter without a unit is dimensionless (``"1"``); ``source=`` is the
parameter's reference; ``bounds`` default to ``(0, inf)`` and may use ``inf``
and ``-inf``. A species, input or observable without a unit has no unit.
``nonnegative`` takes ``true`` or ``false``.

Reactions (the ``reaction`` keyword is optional when the line contains an
arrow; an optional name comes before a colon)::

    reaction C0 <-> C1 ; 2*Rb*glu, Ru     # reversible: forward, reverse rate constants
    C1 -> C2 ; k                           # irreversible: one rate constant
    bind: C2 <-> O ; Ro, Rc                # named reaction
    -> Ca ; rate = k_in*Popen              # general rate law (the net flux), only with `->`

Arrows are ``->`` / ``=>`` and ``<->`` / ``<=>``; a side may be empty (or
``0``, ``∅``) for sources and sinks; coefficients are positive integers
(``2 A + B -> C``). Mass-action rate constants multiply the reactants
(:mod:`kinetics.scheme` explains the convention).

Names (of the scheme and of every component) follow one rule,
:func:`kinetics.scheme.check_name`: NFKC-normalised (as Python's parser reads
the expressions: ``ﬁ`` is ``fi``), then an ASCII identifier
``[A-Za-z_][A-Za-z0-9_]*`` that is not reserved and does not start with ``_``.

Events
------
A discrete event (:class:`kinetics.scheme.Event`, run by :mod:`kinetics.events`)
is one line: a name, the trigger after ``when``, the assignments after ``do``,
then optional clauses, each after a ``;``::

    event reset when V > 1 do V = 0, W = W + 1
    event dose when t >= 10 and A < 0.5 do A = A + 1 ; delay 2 ; priority 1
    event late when A > 1 do B = A ; delay A ; not persistent ; initially false ; values at firing ; note "text"

The trigger is a condition of the expression syntax: relations ``<``,
``<=``, ``>``, ``>=`` combined with ``and``, ``or``, ``not``. Each
assignment ``SPECIES = EXPRESSION`` gives a species its new value. The
clauses (any order, each at most once) are ``delay EXPRESSION``, ``priority
EXPRESSION``, ``persistent`` (default) or ``not persistent``, ``initially
true`` (default) or ``initially false``, ``values at trigger`` (default) or
``values at firing``, and ``note "..."``; they are the fields of
:class:`~kinetics.scheme.Event`. An event's name must differ from every other
name of the scheme.

Protocol
--------
A model file may carry its experiment: protocol lines (one component of
:mod:`kinetics.protocol` each, in any order, mixed with the rest) and the end
of the simulated window. Times and amplitudes are in the scheme's units::

    pulses glu times=[10, 60, 110] amplitude=1 width=1     # square pulses added to an input
    pulses glu times=train(5, 20, 200) amplitude=[1, 1, 0.5, 0.5, 0.5] width=1
                                                           # train(N, FREQ_HZ[, T0]): N times, FREQ_HZ apart
                                                           # from T0 (ms, regular_train); per-pulse lists
    steps V times=[0, 50, 150] values=[-70, 0, -70]        # clamp (at most one steps/ramp per input)
    # ramp V times=[0, 100, 250] values=[-70, -100, 50]    # or a piecewise-linear clamp instead
    waveform V times=[10, 30] kernel=biexponential(100, 0.5, 3)
                                                           # or exponential(A, TAU), alpha(A, TAU)
    wash_in drug time=1000 concentration=0.05 tau=2000 washout=30000   # tau, washout optional
    jumps Ca times=[10, 30] amount=0.1 mode=add            # species jumps; mode add (default) or set
    t_end 300                                              # end of the simulated window (from t = 0)

Each line is ``KIND TARGET key=value ...``: the target is a declared input
(a species for ``jumps``); the fields and their defaults are those of the
Python constructors (:func:`~kinetics.protocol.pulses` ... :func:`~kinetics.protocol.jumps`),
listed in :data:`kinetics.protocol.serialize.FIELDS`; a single number may
stand for a one-element list of times. Values are numbers only (never
expressions): a protocol line runs no code either. :func:`parse_model` (and
:func:`kinetics.read_model` for files) returns the scheme with its protocol and
``t_end``; :func:`parse_scheme` and :func:`read_scheme` refuse a text with
protocol lines rather than drop them.

Values
------
Numbers are decimal literals (``1``, ``-0.5``, ``1e-3``). Strings are
double-quoted; inside them ``\\"``, ``\\\\``, ``\\n``, ``\\t``, ``\\r`` and
``\\uXXXX`` are escapes. Units use the syntax of :mod:`kinetics.units`
(``[1/(uM*s)]``, ``[mM^-1 ms^-1]``). Expressions use the syntax of
:mod:`kinetics.expressions` and may use every declared name and ``t``.

Errors
------
Every problem is a :class:`~kinetics.errors.ParseError` carrying the line
number (and the file name for :func:`read_scheme`), saying what was expected:
unknown keywords and names come with a did-you-mean hint. Scheme-level
validation errors (no species, observable cycles...) are re-raised as
ParseError with the line of the offending item where it is known.

Example
-------
::

    # Destexhe, Mainen & Sejnowski 1994 five-state NMDA receptor
    scheme destexhe1994
    description "five-state NMDA receptor"
    reference "Destexhe A, Mainen ZF, Sejnowski TJ (1994) J Comput Neurosci 1:195"
    units time=ms concentration=mM voltage=mV

    species C0 = 1 [1]
    species C1 = 0 [1]  note="singly bound"
    species C2 = 0 [1]
    species D = 0 [1]
    species O = 0 [1]

    parameter Rb = 5 [1/(uM*s)] source="Destexhe et al. 1998" bounds=(0, inf)
    parameter Ru = 12.9 [1/s]
    parameter Rd = 8.4 [1/s]
    parameter Rr = 6.8 [1/s]
    parameter Ro = 46.5 [1/s]
    parameter Rc = 73.8 [1/s]

    input glu = 0 [mM]
    observable Popen = O [1]

    reaction C0 <-> C1 ; 2*Rb*glu, Ru
    C1 <-> C2 ; Rb*glu, 2*Ru         # "reaction" keyword optional
    desens: C2 <-> D ; Rd, Rr        # optional reaction name before a colon
    bind: C2 <-> O ; Ro, Rc

:func:`format_scheme` writes this syntax back so that
``parse_scheme(format_scheme(s)) == s``, and with ``protocol=`` and ``t_end=``
so that :func:`parse_model` gives back the same scheme, protocol and ``t_end``
(a ``train(...)`` is written as its list of times).
"""
from __future__ import annotations

import math
import re
from pathlib import Path

from .errors import ParseError, ProtocolError, SchemeError, UnitError, did_you_mean
from .expressions import format_expression, parse_equation, parse_expression
from .io import ModelFile
from .protocol import Protocol, regular_train
from .protocol.serialize import FIELDS as _PROTOCOL_FIELDS
from .protocol.serialize import KERNELS as _KERNELS
from .protocol.serialize import component_from_dict, component_to_dict
from .scheme import (Event, Input, Observable, Parameter, RateRule, Reaction, Scheme, Species, check_name,
                     condition_text, name_from_text)
from .units import KINDS, UnitSystem

__all__ = ["parse_scheme", "read_scheme", "parse_model", "format_scheme", "format_component", "write_scheme"]

_HEADER = ("scheme", "description", "reference", "units", "t_end")
_DECLS = ("species", "parameter", "input", "observable", "ode")
_PROTOCOL = tuple(_PROTOCOL_FIELDS)
KEYWORDS = _HEADER + _DECLS + ("reaction", "event") + _PROTOCOL
_EVENT_EXAMPLE = "event reset when V > 1 do V = 0 ; delay 2"
#: the clauses of an event line after its assignments (first word -> the Event field it sets)
_EVENT_CLAUSES = {"delay": "delay", "priority": "priority", "persistent": "persistent", "not": "persistent",
                  "initially": "initial_value", "values": "use_values_from_trigger_time", "note": "note"}
_OPTIONS = {
    "species": {"nonnegative": "bool", "note": "str"},
    "parameter": {"source": "str", "bounds": "bounds", "note": "str"},
    "input": {"note": "str"},
    "observable": {"note": "str"},
}
_IDENT = r"[^\W\d]\w*"
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_ARROW = re.compile(r"<->|<=>|->|=>")
_OPTION_START = re.compile(rf"(?<=\s)({_IDENT})\s*=(?!=)")


class _Line:
    """A logical line: text without comment, its number, and helpers raising ParseError."""

    def __init__(self, text: str, lineno: int, source):
        self.text = text
        self.lineno = lineno
        self.source = source

    def error(self, message: str) -> ParseError:
        return ParseError(message, line=self.lineno, source=self.source)


# --------------------------------------------------------------------------- lexing helpers
def _strip_comment(raw: str, lineno: int, source) -> str:
    """The line without its ``#`` comment; checks strings are closed."""
    in_str = False
    i = 0
    while i < len(raw):
        ch = raw[i]
        if in_str:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == "#":
            return raw[:i]
        i += 1
    if in_str:
        raise ParseError("unterminated string: missing closing `\"`", line=lineno, source=source)
    return raw


def _outside_strings(text: str) -> str:
    """The text with the content of quoted strings blanked (for searching arrows, brackets)."""
    out = []
    in_str = False
    i = 0
    while i < len(text):
        ch = text[i]
        if in_str:
            if ch == "\\" and i + 1 < len(text):
                out.append("  ")
                i += 2
                continue
            if ch == '"':
                in_str = False
                out.append(ch)
            else:
                out.append(" ")
        else:
            if ch == '"':
                in_str = True
            out.append(ch)
        i += 1
    return "".join(out)


def _check_brackets(line: _Line):
    pairs = {")": "(", "]": "["}
    stack = []
    for ch in _outside_strings(line.text):
        if ch in "([":
            stack.append(ch)
        elif ch in ")]":
            if not stack or stack[-1] != pairs[ch]:
                raise line.error(f"unbalanced brackets: unexpected `{ch}`")
            stack.pop()
    if stack:
        closer = {"(": ")", "[": "]"}[stack[-1]]
        raise line.error(f"unbalanced brackets: `{stack[-1]}` is never closed (missing `{closer}`)")


def _logical_lines(text: str, source):
    """Yield :class:`_Line` objects: comments stripped, continuations joined, blanks skipped."""
    raw_lines = text.split("\n")
    buf, start = None, 0
    for i, raw in enumerate(raw_lines, start=1):
        if raw.endswith("\r"):
            raw = raw[:-1]
        body = _strip_comment(raw, i, source).rstrip()
        cont = body.endswith("\\")
        if cont:
            body = body[:-1]
        if buf is None:
            buf, start = body, i
        else:
            buf += " " + body.strip()
        if cont:
            continue
        if buf.strip():
            yield _Line(buf.strip(), start, source)
        buf = None
    if buf is not None:
        raise ParseError("the last line ends with `\\` but nothing follows", line=start, source=source)


class _Cursor:
    """Reads values from a line tail."""

    def __init__(self, line: _Line, pos: int):
        self.line = line
        self.text = line.text
        self.pos = pos

    def skip_ws(self):
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        self.skip_ws()
        return self.pos >= len(self.text)

    def peek(self) -> str:
        self.skip_ws()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def rest(self) -> str:
        return self.text[self.pos:].strip()

    def number(self, what: str, *, allow_inf=False) -> float:
        self.skip_ws()
        m = _NUMBER.match(self.text, self.pos)
        word = re.match(r"[-+]?\w+", self.text[self.pos:])
        if allow_inf and word and word.group().lower() in ("inf", "+inf", "-inf"):
            self.pos += word.end()
            return -math.inf if word.group().startswith("-") else math.inf
        end = m.end() if m else self.pos
        if m is None or (end < len(self.text) and (self.text[end].isalnum() or self.text[end] in "._")):
            got = self.text[self.pos:].split()[0] if self.text[self.pos:].split() else "end of line"
            raise self.line.error(f"expected a number for {what}, got `{got}`")
        self.pos = end
        value = float(m.group())
        if not math.isfinite(value):
            raise self.line.error(f"number for {what} is too large: `{m.group()}`")
        return value

    def string(self, what: str) -> str:
        self.skip_ws()
        if self.pos >= len(self.text) or self.text[self.pos] != '"':
            got = self.text[self.pos:].split()[0] if self.text[self.pos:].split() else "end of line"
            raise self.line.error(f"expected a quoted string for {what}, got `{got}`")
        out = []
        i = self.pos + 1
        escapes = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
        while i < len(self.text):
            ch = self.text[i]
            if ch == "\\":
                nxt = self.text[i + 1:i + 2]
                if nxt in escapes:
                    out.append(escapes[nxt])
                    i += 2
                    continue
                if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", self.text[i + 2:i + 6]):
                    out.append(chr(int(self.text[i + 2:i + 6], 16)))
                    i += 6
                    continue
                raise self.line.error(f"unknown escape `\\{nxt}` in a string "
                                      "(use \\\", \\\\, \\n, \\t, \\r or \\uXXXX)")
            if ch == '"':
                self.pos = i + 1
                return "".join(out)
            out.append(ch)
            i += 1
        raise self.line.error("unterminated string: missing closing `\"`")

    def unit(self):
        """An optional ``[unit]``; returns the text inside or None."""
        if self.peek() != "[":
            return None
        end = self.text.find("]", self.pos)
        if end < 0:
            raise self.line.error("unbalanced brackets: `[` is never closed (missing `]`)")
        text = self.text[self.pos + 1:end]
        self.pos = end + 1
        return text

    def options(self, kind: str) -> dict:
        allowed = _OPTIONS[kind]
        out: dict = {}
        while not self.at_end():
            m = re.compile(rf"({_IDENT})\s*=(?!=)").match(self.text, self.pos)
            if m is None:
                if self.peek() == "[":
                    raise self.line.error(f"the unit `[...]` of a {kind} must come right after its value")
                raise self.line.error(f"expected `key=value` options after the {kind} value, got `{self.rest()}`")
            key = m.group(1)
            if key not in allowed:
                raise self.line.error(f"unknown option `{key}` for a {kind}" + did_you_mean(key, allowed)
                                      + f" (allowed: {', '.join(allowed)})")
            if key in out:
                raise self.line.error(f"option `{key}` is given twice")
            self.pos = m.end()
            typ = allowed[key]
            if typ == "str":
                out[key] = self.string(f"`{key}`")
            elif typ == "bool":
                w = re.compile(r"\w+").match(self.text, self.pos) if not self.at_end() else None
                value = w.group().lower() if w else ""
                if value not in ("true", "false"):
                    raise self.line.error(f"expected `true` or `false` for `{key}`, got `{w.group() if w else 'nothing'}`")
                self.pos = w.end()
                out[key] = value == "true"
            elif typ == "bounds":
                if self.peek() != "(":
                    raise self.line.error("expected `(LOW, HIGH)` for `bounds`, e.g. `bounds=(0, inf)`")
                self.pos += 1
                lo = self.number("the lower bound", allow_inf=True)
                if self.peek() != ",":
                    raise self.line.error("expected `,` between the bounds, e.g. `bounds=(0, inf)`")
                self.pos += 1
                hi = self.number("the upper bound", allow_inf=True)
                if self.peek() != ")":
                    raise self.line.error("expected `)` after the upper bound, e.g. `bounds=(0, inf)`")
                self.pos += 1
                out[key] = (lo, hi)
            if self.pos < len(self.text) and not self.text[self.pos].isspace():
                raise self.line.error(f"expected a space after the value of `{key}`, got `{self.rest()}`")
        return out


def _split_top_level(text: str, sep: str = ","):
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _expression_end(text: str, pos: int) -> int:
    """End of an expression starting at ``pos``: a top-level ``[`` or ``key=`` option, or the end."""
    depth = 0
    i = pos
    while i < len(text):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            if ch == "[":
                return i
            if ch.isspace():
                m = _OPTION_START.match(text, i + 1)
                if m is not None:
                    return i
        i += 1
    return len(text)


# --------------------------------------------------------------------------- parsing
class _Builder:
    def __init__(self, source):
        self.source = source
        self.header: dict = {}        # keyword -> (value, line)
        self.decls: list = []         # (kind, name, line, cursor-position)
        self.names: dict = {}         # name -> (kind, lineno)
        self.reactions: list = []     # (line, body)
        self.odes: list = []
        self.protocol: list = []      # (line, kind) of protocol lines, in order
        self.events: list = []        # lines of `event` statements, in order
        self.check_units = True       # `units check=off` sets False

    def add_name(self, kind, name, line: _Line):
        if name in self.names:
            prev_kind, prev_line = self.names[name]
            raise line.error(f"duplicate name `{name}`: already declared as a {prev_kind} on line {prev_line} "
                             f"(names are compared after NFKC normalisation: `ﬁ` is `fi`)")
        self.names[name] = (kind, line.lineno)

    @staticmethod
    def check(kind, name, line: _Line) -> str:
        """``name`` in canonical form by the one name rule (:func:`kinetics.scheme.check_name`), or a line error."""
        try:
            return check_name(name, kind)
        except SchemeError as exc:
            raise line.error(str(exc)) from None

    # ----------------------------------------------------------- pass 1: classify
    def classify(self, line: _Line):
        text = line.text
        _check_brackets(line)
        m = re.match(rf"({_IDENT})", text)
        word = m.group(1) if m else None
        has_arrow = _ARROW.search(_outside_strings(text)) is not None
        if word in _DECLS:
            d = re.match(rf"{word}\s+({_IDENT})\s*=(?!=)", text)
            if d is not None:
                name = self.check("species" if word == "ode" else word, d.group(1), line)
                if word == "ode":
                    self.odes.append((line, name, d.end()))
                else:
                    self.add_name(word, name, line)
                    self.decls.append((word, name, line, d.end()))
                return
            if not has_arrow:
                n = re.match(rf"{word}\s+({_IDENT})", text)
                if n is None:
                    raise line.error(f"expected a name after `{word}`, e.g. `{_EXAMPLES[word]}`")
                raise line.error(f"expected `=` after `{word} {n.group(1)}`, e.g. `{_EXAMPLES[word]}`")
        if word == "event" and (not has_arrow or re.match(rf"event\s+{_IDENT}\s+when\b", text)):
            self.events.append(line)
            return
        if word == "reaction" and re.match(r"reaction\b", text):
            body = text[len("reaction"):]
            if not _ARROW.search(body):
                raise line.error(f"expected `->` or `<->` in reaction `{body.strip()}`")
            self.reactions.append((line, body))
            return
        if word in _HEADER and not has_arrow:
            self.read_header(word, line)
            return
        if word in _PROTOCOL and not has_arrow:
            self.protocol.append((line, word))
            return
        if has_arrow:
            self.reactions.append((line, text))
            return
        if word is None:
            raise line.error(f"expected a keyword ({', '.join(KEYWORDS)}) or a reaction such as "
                             f"`A <-> B ; kf, kr`, got `{text}`")
        raise line.error(f"unknown keyword `{word}`" + did_you_mean(word, KEYWORDS)
                         + f" (expected one of {', '.join(KEYWORDS)}, or a reaction with `->` or `<->`)")

    def read_header(self, word, line: _Line):
        if word in self.header:
            raise line.error(f"`{word}` is given twice (first on line {self.header[word][1]})")
        cur = _Cursor(line, len(word))
        if word == "scheme":
            if cur.peek() == '"':
                value = cur.string("the scheme name")
            else:
                m = re.compile(r"\S+").match(cur.text, cur.pos)
                if m is None:
                    raise line.error("expected a name after `scheme`, e.g. `scheme destexhe1994`")
                value = m.group()
                cur.pos = m.end()
            if not value.strip():
                raise line.error("the scheme name is empty")
            value = self.check("scheme", value, line)
        elif word in ("description", "reference"):
            value = cur.string(f"`{word}`")
        elif word == "t_end":
            value = cur.number("`t_end` (the end of the simulated window, in the scheme's time unit)")
            if not value > 0:
                raise line.error(f"`t_end` must be > 0 (the window starts at t = 0), got {_num(value)}")
        else:  # units
            value = {}
            check = True
            while not cur.at_end():
                m = re.compile(rf"({_IDENT})\s*=\s*([^\s=]+)").match(cur.text, cur.pos)
                if m is None:
                    raise line.error(f"expected `kind=unit` pairs after `units` (e.g. `units time=ms concentration=mM`), "
                                     f"got `{cur.rest()}`")
                kind, unit = m.groups()
                cur.pos = m.end()
                if kind == "check":  # the dimensional check at build (Scheme's check_units)
                    if unit not in ("on", "off"):
                        raise line.error(f"`check` takes `on` or `off`, got `{unit}`")
                    check = unit == "on"
                    continue
                if kind not in KINDS:
                    raise line.error(f"unknown unit kind `{kind}`" + did_you_mean(kind, KINDS)
                                     + f" (kinds: {', '.join(KINDS)})")
                if kind in value:
                    raise line.error(f"unit kind `{kind}` is given twice")
                value[kind] = unit
            try:
                value = UnitSystem(**value)
            except SchemeError as exc:
                raise line.error(str(exc)) from None
            self.check_units = check
        if not cur.at_end():
            raise line.error(f"unexpected text after `{word}`: `{cur.rest()}`")
        self.header[word] = (value, line.lineno)

    # ----------------------------------------------------------- pass 2: build
    def expr(self, text, line: _Line, what):
        if not text.strip():
            raise line.error(f"expected an expression for {what}")
        return parse_expression(text.strip(), names=self.names, source=self.source, line=line.lineno)

    def build_decl(self, kind, name, line: _Line, pos):
        cur = _Cursor(line, pos)
        try:
            if kind == "observable":
                end = _expression_end(line.text, cur.pos)
                expr = self.expr(line.text[cur.pos:end], line, f"observable `{name}`")
                cur.pos = end
                unit = cur.unit()
                opts = cur.options(kind)
                return Observable(name, expr, unit=unit, note=opts.get("note", ""))
            value = cur.number(f"{kind} `{name}`")
            unit = cur.unit()
            opts = cur.options(kind)
            if kind == "species":
                return Species(name, value, unit=unit, nonnegative=opts.get("nonnegative", True),
                               note=opts.get("note", ""))
            if kind == "parameter":
                kw = {}
                if "bounds" in opts:
                    kw["bounds"] = opts["bounds"]
                return Parameter(name, value, unit if unit is not None else "1",
                                 reference=opts.get("source", ""), note=opts.get("note", ""), **kw)
            return Input(name, value, unit=unit, note=opts.get("note", ""))
        except ParseError:
            raise
        except SchemeError as exc:
            raise line.error(str(exc)) from None

    def build_reaction(self, line: _Line, body: str):
        rname = ""
        m = re.match(rf"\s*({_IDENT})\s*:", body)
        if m is not None:
            rname = self.check("reaction", m.group(1), line)
            body = body[m.end():]
        if ";" not in body:
            raise line.error(f"expected `;` and rate constants after reaction `{body.strip()}`, "
                             "e.g. `A <-> B ; kf, kr` or `A -> B ; rate = k*A`")
        eq_text, rates_text = body.split(";", 1)
        if ";" in rates_text:
            raise line.error("a reaction line has one `;` (between the equation and its rates)")
        reactants, products, reversible = parse_equation(eq_text, source=self.source, line=line.lineno)
        # the names as the declarations and expressions hold them (NFKC, like Python's parser)
        reactants = tuple((self.check("species", n, line), c) for n, c in reactants)
        products = tuple((self.check("species", n, line), c) for n, c in products)
        label = f"reaction `{eq_text.strip()}`"
        species = {n for n, (k, _) in self.names.items() if k == "species"}
        for n, _ in reactants + products:
            if n not in species:
                kind = self.names.get(n, (None,))[0]
                extra = f" (`{n}` is a {kind}, not a species)" if kind else did_you_mean(n, species)
                raise line.error(f"unknown species `{n}` in {label}{extra}")
        kw: dict = {}
        rm = re.match(r"\s*rate\s*=(?!=)", rates_text)
        if rm is not None:
            if reversible:
                raise line.error(f"{label} with a general rate law must be written with `->` "
                                 "(the rate is the net flux)")
            kw["rate"] = self.expr(rates_text[rm.end():], line, f"the rate of {label}")
        else:
            parts = _split_top_level(rates_text)
            if any(not p.strip() for p in parts):
                raise line.error(f"expected rate constants after `;` in {label}, e.g. `; kf, kr`")
            if reversible and len(parts) != 2:
                raise line.error(f"reversible {label} needs two rate constants `; forward, reverse`, got {len(parts)}")
            if not reversible and len(parts) != 1:
                raise line.error(f"irreversible {label} takes one rate constant, got {len(parts)}; "
                                 "write `<->` for a reversible reaction")
            kw["forward"] = self.expr(parts[0], line, f"the forward rate of {label}")
            if reversible:
                kw["reverse"] = self.expr(parts[1], line, f"the reverse rate of {label}")
        try:
            return Reaction(reactants, products, name=rname, **kw)
        except SchemeError as exc:
            raise line.error(str(exc)) from None

    def build_ode(self, line: _Line, name, pos, seen):
        kind = self.names.get(name, (None,))[0]
        if kind != "species":
            species = [n for n, (k, _) in self.names.items() if k == "species"]
            extra = f" (`{name}` is a {kind})" if kind else did_you_mean(name, species)
            raise line.error(f"`ode` for unknown species `{name}`{extra}")
        if name in seen:
            raise line.error(f"species `{name}` has two `ode` rules (first on line {seen[name]}); add the terms into one")
        seen[name] = line.lineno
        expr = self.expr(line.text[pos:], line, f"the ode of `{name}`")
        try:
            return RateRule(name, expr)
        except SchemeError as exc:
            raise line.error(str(exc)) from None

    # ----------------------------------------------------------- events
    def build_event(self, line: _Line, seen: dict) -> Event:
        """One ``event NAME when CONDITION do SPECIES = EXPRESSION, ... [; clause]...`` line as an Event."""
        text = line.text
        m = re.match(rf"event\s+({_IDENT})", text)
        if m is None:
            raise line.error(f"expected a name after `event`, e.g. `{_EVENT_EXAMPLE}`")
        name = self.check("event", m.group(1), line)
        if name in seen:
            raise line.error(f"duplicate event name `{name}`: already an event on line {seen[name]}")
        if name in self.names:
            kind, lineno = self.names[name]
            raise line.error(f"duplicate name `{name}`: already declared as a {kind} on line {lineno} (an event's "
                             f"name must differ from every name of the scheme)")
        seen[name] = line.lineno
        label = f"event `{name}`"
        # clauses: split at the `;` outside strings and brackets
        blank = _outside_strings(text)
        cuts, depth = [], 0
        for i, ch in enumerate(blank):
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
            elif ch == ";" and depth == 0:
                cuts.append(i)
        bounds = list(zip([m.end()] + [c + 1 for c in cuts], cuts + [len(text)]))
        head = text[bounds[0][0]:bounds[0][1]]
        w = re.match(r"\s+when\b", head)
        if w is None:
            raise line.error(f"expected `when CONDITION do SPECIES = EXPRESSION` after `event {name}`, "
                             f"e.g. `{_EVENT_EXAMPLE}`")
        body = head[w.end():]
        split = None
        for dm in re.finditer(r"\bdo\b", body):
            before = body[:dm.start()]
            if (before.strip() and before.count("(") == before.count(")")
                    and re.match(rf"\s*{_IDENT}\s*=(?!=)", body[dm.end():])):
                split = dm
                break
        if split is None:
            raise line.error(f"expected `do SPECIES = EXPRESSION` after the trigger of {label} "
                             f"(`when CONDITION do SPECIES = EXPRESSION, ...`), e.g. `{_EVENT_EXAMPLE}`")
        trigger = body[:split.start()].strip()
        species = [n for n, (k, _) in self.names.items() if k == "species"]
        assignments = []
        for part in _split_top_level(body[split.end():]):
            a = re.match(rf"\s*({_IDENT})\s*=(?!=)", part)
            if a is None:
                raise line.error(f"expected `SPECIES = EXPRESSION` in the assignments of {label}, got "
                                 f"`{part.strip()}` (assignments are separated by `,`)")
            target = self.check("species", a.group(1), line)
            kind = self.names.get(target, (None,))[0]
            if kind != "species":
                extra = (f" (`{target}` is a {kind}; events assign species only)" if kind
                         else did_you_mean(target, species))
                raise line.error(f"{label} assigns unknown species `{target}`{extra}")
            assignments.append((target, self.expr(part[a.end():], line, f"the assignment to `{target}` in {label}")))
        fields: dict = {}
        for start, end in bounds[1:]:
            clause = text[start:end].strip()
            word_m = re.match(r"\w+", clause)
            key = _EVENT_CLAUSES.get(word_m.group()) if word_m else None
            if key is None:
                got = word_m.group() if word_m else clause
                raise line.error(f"unknown clause `{clause}` of {label}"
                                 + (did_you_mean(got, _EVENT_CLAUSES) if got else "")
                                 + " (clauses after `;`: delay EXPRESSION, priority EXPRESSION, [not] persistent, "
                                   "initially true|false, values at trigger|firing, note \"...\")")
            if key in fields:
                what = {"persistent": "persistent", "initial_value": "initially",
                        "use_values_from_trigger_time": "values at"}.get(key, key)
                raise line.error(f"the `{what}` clause of {label} is given twice")
            rest = clause[word_m.end():].strip()
            if key in ("delay", "priority"):
                fields[key] = self.expr(rest, line, f"the {key} of {label}")
            elif key == "note":
                cur = _Cursor(_Line(rest, line.lineno, line.source), 0)
                fields[key] = cur.string(f"the note of {label}")
                if not cur.at_end():
                    raise line.error(f"unexpected text after the note of {label}: `{cur.rest()}`")
            else:
                words = " ".join(clause.split())
                choices = {"persistent": {"persistent": True, "not persistent": False},
                           "initial_value": {"initially true": True, "initially false": False},
                           "use_values_from_trigger_time": {"values at trigger": True, "values at firing": False}}[key]
                if words not in choices:
                    raise line.error(f"expected {' or '.join(f'`{c}`' for c in choices)} in {label}, got `{clause}`")
                fields[key] = choices[words]
        try:
            event = Event(name, trigger, tuple(assignments), **fields)
        except SchemeError as exc:
            raise line.error(str(exc)) from None
        known = set(self.names) | {"t"}
        for sym in sorted(event.trigger.free_symbols, key=str):
            if sym.name not in known:
                raise line.error(f"unknown name `{sym.name}` in the trigger of {label}" + did_you_mean(sym.name, known))
        return event

    # ----------------------------------------------------------- protocol lines
    def build_component(self, line: _Line, kind: str, clamps: dict):
        """One protocol line ``KIND TARGET key=value ...`` as a component (fields: kinetics.protocol.serialize)."""
        _, target_field, fields = _PROTOCOL_FIELDS[kind]
        want = "species" if target_field == "species" else "input"
        cur = _Cursor(line, len(kind))
        cur.skip_ws()
        m = re.compile(rf"({_IDENT})(?=\s|$)").match(line.text, cur.pos)
        if m is None:
            raise line.error(f"expected the {want} after `{kind}`, e.g. `{_PROTOCOL_EXAMPLES[kind]}`")
        target = self.check(want, m.group(1), line)
        cur.pos = m.end()
        known = self.names.get(target, (None,))[0]
        if known != want:
            pool = [n for n, (k, _) in self.names.items() if k == want]
            if known is None:
                extra = did_you_mean(target, pool)
            elif want == "input":
                extra = f" (`{target}` is a {known}" + ("; `jumps` change species)" if known == "species" else ")")
            else:
                article = "an" if known[0] in "aeiou" else "a"
                extra = f" (`{target}` is {article} {known}; `jumps` change species, the other components drive inputs)"
            raise line.error(f"`{kind}` of unknown {want} `{target}`{extra}")
        data = {"kind": kind, target_field: target}
        types = {n: t for n, t, _ in fields}
        while not cur.at_end():
            om = re.compile(rf"({_IDENT})\s*=(?!=)\s*").match(cur.text, cur.pos)
            if om is None:
                raise line.error(f"expected `key=value` options after `{kind} {target}`, got `{cur.rest()}` "
                                 f"(e.g. `{_PROTOCOL_EXAMPLES[kind]}`)")
            key = om.group(1)
            if key not in types:
                raise line.error(f"unknown option `{key}` for `{kind}`" + did_you_mean(key, types)
                                 + f" (allowed: {', '.join(types)})")
            if key in data:
                raise line.error(f"option `{key}` is given twice")
            cur.pos = om.end()
            data[key] = self.protocol_value(cur, key, types[key])
            if cur.pos < len(cur.text) and not cur.text[cur.pos].isspace():
                raise line.error(f"expected a space after the value of `{key}`, got `{cur.rest()}`")
        missing = [n for n, _, required in fields if required and n not in data]
        if missing:
            raise line.error(f"`{kind}` needs {', '.join(f'`{n}=`' for n in missing)}, "
                             f"e.g. `{_PROTOCOL_EXAMPLES[kind]}`")
        if _PROTOCOL_FIELDS[kind][0]._clamp:
            if target in clamps:
                raise line.error(f"input `{target}` is already clamped on line {clamps[target]}: an input has at "
                                 f"most one `steps` or `ramp` (a ramp with a repeated time makes a step)")
            clamps[target] = line.lineno
        try:
            return component_from_dict(data, kind)
        except ProtocolError as exc:
            raise line.error(str(exc)) from None

    @staticmethod
    def protocol_value(cur: _Cursor, key: str, typ: str):
        line = cur.line
        if typ == "number":
            return cur.number(f"`{key}`")
        if typ == "mode":
            w = re.compile(r"\w+").match(cur.text, cur.pos)
            if w is None or w.group() not in ("add", "set"):
                raise line.error(f"expected `add` or `set` for `mode`, got `{w.group() if w else cur.rest()}`")
            cur.pos = w.end()
            return w.group()
        if typ == "kernel":
            w = re.compile(rf"({_IDENT})\s*\(").match(cur.text, cur.pos)
            kinds = ", ".join(f"{k}({', '.join(names)})" for k, (_, names) in _KERNELS.items())
            if w is None or w.group(1) not in _KERNELS:
                got = w.group(1) if w else cur.rest()
                raise line.error(f"unknown kernel `{got}`" + (did_you_mean(got, _KERNELS) if w else "")
                                 + f"; use one of {kinds}")
            names = _KERNELS[w.group(1)][1]
            cur.pos = w.end() - 1
            args = _Builder.number_list(cur, "(", ")", f"the kernel `{w.group(1)}`")
            if len(args) != len(names):
                raise line.error(f"kernel `{w.group(1)}` takes {len(names)} numbers ({', '.join(names)}), "
                                 f"got {len(args)}")
            return {"kind": w.group(1), **dict(zip(names, args))}
        if cur.peek() == "[":
            return _Builder.number_list(cur, "[", "]", f"`{key}`")
        if typ == "times" and re.compile(r"train\s*\(").match(cur.text, cur.pos):
            cur.pos = cur.text.index("(", cur.pos)
            args = _Builder.number_list(cur, "(", ")", "`train(N, FREQ_HZ[, T0])`")
            if not 2 <= len(args) <= 3:
                raise line.error(f"`train` takes 2 or 3 numbers (N, FREQ_HZ[, T0]: N times at FREQ_HZ from T0 ms), "
                                 f"got {len(args)}")
            if not float(args[0]).is_integer():
                raise line.error(f"the number of times of `train` must be an integer, got {_num(args[0])}")
            try:
                return regular_train(int(args[0]), *args[1:]).tolist()
            except ProtocolError as exc:
                raise line.error(str(exc)) from None
        value = cur.number(f"`{key}`" + (" (a number or a list `[t1, t2, ...]`)" if typ == "times" else ""))
        return [value] if typ == "times" else value

    @staticmethod
    def number_list(cur: _Cursor, opening: str, closing: str, what: str) -> list:
        if cur.peek() != opening:
            raise cur.line.error(f"expected `{opening}` for {what}")
        cur.pos += 1
        out = []
        if cur.peek() == closing:
            cur.pos += 1
            return out
        while True:
            out.append(cur.number(what))
            nxt = cur.peek()
            cur.pos += 1
            if nxt == closing:
                return out
            if nxt != ",":
                raise cur.line.error(f"expected `,` or `{closing}` in {what}, got `{nxt or 'end of line'}`")


_PROTOCOL_EXAMPLES = {
    "pulses": "pulses glu times=[10, 60] amplitude=1 width=1",
    "steps": "steps V times=[0, 50] values=[-70, 0]",
    "ramp": "ramp V times=[0, 100] values=[-100, 50]",
    "waveform": "waveform V times=[10, 30] kernel=biexponential(100, 0.5, 3)",
    "wash_in": "wash_in drug time=1000 concentration=0.05 tau=2000 washout=30000",
    "jumps": "jumps Ca times=[10, 30] amount=0.1 mode=add",
}

_EXAMPLES = {
    "species": "species C0 = 1 [1]",
    "parameter": "parameter Rb = 5 [1/(uM*s)]",
    "input": "input glu = 0 [mM]",
    "observable": "observable Popen = O [1]",
    "ode": "ode rho = -rho/tau",
}


def _parse(text: str, name, source, default_name) -> Scheme:
    """The scheme of a text that must hold no protocol (:func:`parse_scheme`, :func:`read_scheme`)."""
    model, b = _parse_all(text, name, source, default_name)
    if b.protocol or "t_end" in b.header:
        first = b.protocol[0][0].lineno if b.protocol else b.header["t_end"][1]
        what = "a protocol" if b.protocol else "a `t_end`"
        where = "kinetics.read_model(path)" if source is not None else "kinetics.parse_model(text)"
        raise ParseError(f"the model has {what} (from this line on), which a Scheme cannot hold: read it with "
                         f"{where}, which returns the scheme with its protocol and t_end", line=first, source=source)
    return model.scheme


def _parse_all(text: str, name, source, default_name):
    """``(ModelFile, builder)`` of a text in the syntax of the module docstring."""
    if not isinstance(text, str):
        raise ParseError(f"scheme text must be a string, got {type(text).__name__}", source=source)
    if text.startswith("\ufeff"):
        text = text[1:]
    b = _Builder(source)
    for line in _logical_lines(text, source):
        b.classify(line)
    items = {"species": [], "parameter": [], "input": [], "observable": []}
    for kind, iname, line, pos in b.decls:
        items[kind].append(b.build_decl(kind, iname, line, pos))
    reactions = [b.build_reaction(line, body) for line, body in b.reactions]
    seen: dict = {}
    rate_rules = [b.build_ode(line, rname, pos, seen) for line, rname, pos in b.odes]
    event_lines: dict = {}
    events = [b.build_event(line, event_lines) for line in b.events]
    scheme_name = name if name is not None else b.header.get("scheme", (default_name, None))[0]
    if scheme_name is None:
        raise ParseError("missing `scheme NAME` line (or pass name=...)", source=source)
    try:
        scheme = Scheme(
            name=scheme_name,
            species=items["species"],
            parameters=items["parameter"],
            inputs=items["input"],
            reactions=reactions,
            observables=items["observable"],
            rate_rules=rate_rules,
            units=b.header.get("units", (UnitSystem(), None))[0],
            description=b.header.get("description", ("", None))[0],
            reference=b.header.get("reference", ("", None))[0],
            check_units=b.check_units,
            events=events,
        )
    except ParseError:
        raise
    except SchemeError as exc:
        if isinstance(exc, UnitError) and exc.issues:  # a dimensional error: at the line of the first faulty item
            raise exc.located(_unit_error_line(exc, b), source) from None
        msg = str(exc)
        line = None
        cyc = re.search(rf"cycle: ({_IDENT})", msg)
        ev = re.search(rf"event `({_IDENT})`", msg)
        if ev and ev.group(1) in event_lines:
            line = event_lines[ev.group(1)]
        elif cyc and cyc.group(1) in b.names:
            line = b.names[cyc.group(1)][1]
        else:
            for cand in re.findall(r"`([^`]+)`", msg):
                if cand in b.names:
                    line = b.names[cand][1]
                    break
        raise ParseError(msg, line=line, source=source) from None
    clamps: dict = {}
    protocol = Protocol([b.build_component(line, kind, clamps) for line, kind in b.protocol])
    t_end = b.header.get("t_end", (None, None))[0]
    return ModelFile(scheme, protocol, t_end, source), b


def _unit_error_line(exc: UnitError, b) -> int | None:
    """The line of the first issue of a scheme's UnitError (its reaction, observable or ODE)."""
    for issue in exc.issues:
        kind, key = issue.component or (None, None)
        if kind == "reaction" and key < len(b.reactions):
            return b.reactions[key][0].lineno
        if kind == "observable" and key in b.names:
            return b.names[key][1]
        if kind == "rate_rule":
            for line, rname, _ in b.odes:
                if rname == key:
                    return line.lineno
    return None


def parse_scheme(text: str, *, name: str | None = None, source=None) -> Scheme:
    """Parse a scheme written in the text syntax (module docstring).

    Parameters
    ----------
    text : str
    name : str, optional
        The scheme's name; overrides the ``scheme`` line, and is required if
        the text has none.
    source : str, optional
        Where the text comes from (a file name), for error messages.

    Raises
    ------
    ParseError
        With the line number, for every syntax or validation problem.
    UnitError
        With the line of the faulty reaction, observable or ODE, for a definite
        dimensional error (:func:`kinetics.dimensions.require_consistent_units`;
        ``units check=off`` in the text opts out).
        A text with protocol lines or ``t_end`` is refused: :func:`parse_model` reads it.
    """
    return _parse(text, name, source, None)


def parse_model(text: str, *, name: str | None = None, source=None) -> ModelFile:
    """Parse a model in the text syntax: its scheme, its protocol (empty if it has no protocol lines) and
    its ``t_end`` (None if not given), as a :class:`kinetics.io.ModelFile`.

    :func:`kinetics.read_model` reads a file of any format (text, JSON, SBML) this way.

    Raises
    ------
    ParseError
        With the line number, for every problem of the scheme or of a protocol line (an unknown input or
        component, a negative width, a second clamp of an input...).

    Examples
    --------
    >>> m = parse_model('''
    ... scheme binding
    ... species R = 1
    ... species LR = 0
    ... parameter kon = 1 [1/(mM*ms)]
    ... parameter koff = 0.1 [1/ms]
    ... input L = 0 [mM]
    ... R <-> LR ; kon*L, koff
    ... steps L times=[0] values=[0.1]
    ... t_end 50
    ... ''')
    >>> m.protocol.describe().splitlines()[1], m.t_end
    ('  steps on `L`: 0.1 from 0', 50.0)
    """
    return _parse_all(text, name, source, None)[0]


def _read_text(p: Path) -> str:
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"scheme file not found: {str(p)!r}") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"scheme path is a directory, not a file: {str(p)!r}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ParseError(f"file is not valid UTF-8 text (byte {exc.start})", line=line, source=str(p)) from None


def _read_model_file(path, name: str | None = None) -> ModelFile:
    """The :class:`ModelFile` of a text-syntax file (what :func:`kinetics.read_model` does for text files)."""
    p = Path(path)
    return _parse_all(_read_text(p), name, str(p), name_from_text(p.stem))[0]


def read_scheme(path, *, name: str | None = None) -> Scheme:
    """Read a scheme file (UTF-8). Without a ``scheme`` line the file's stem, made a name
    (:func:`kinetics.scheme.name_from_text`: ``nmda-5state`` -> ``nmda_5state``), names the scheme.

    A file with protocol lines or ``t_end`` is a :class:`~kinetics.errors.ParseError` pointing to
    :func:`kinetics.read_model`, which returns the scheme *with* its protocol: a scheme read without the
    protocol its file gives would silently simulate with undriven inputs (as :func:`kinetics.read_sbml`
    refuses a model with events).

    Raises ``FileNotFoundError`` with a clear message for a missing file and
    :class:`~kinetics.errors.ParseError` (carrying the path and line) for bad content.
    """
    p = Path(path)
    return _parse(_read_text(p), name, str(p), name_from_text(p.stem))


# --------------------------------------------------------------------------- writing
def _quote(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or 0x7f <= ord(ch) < 0xa0 or ch in "\u2028\u2029\ufeff" or 0xd800 <= ord(ch) <= 0xdfff:
            if ord(ch) > 0xffff:  # pragma: no cover - astral control characters do not exist
                raise SchemeError(f"cannot write character {ch!r}")
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _num(v: float) -> str:
    v = float(v)
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v.is_integer() and abs(v) < 1e16:
        return str(int(v)) if v != 0 or math.copysign(1, v) > 0 else "-0.0"
    return repr(v)


def _unit_text(unit: str) -> str:
    if "]" in unit or "\n" in unit or "#" in unit or '"' in unit:
        raise SchemeError(f"cannot write unit {unit!r} in the text syntax")
    return f"[{unit}]"


def _name_text(name: str) -> str:
    bare = re.fullmatch(r"\w[\w.+\-]*", name) and not _ARROW.search(name)
    return name if bare else _quote(name)


def _declaration(keyword: str, name: str, value: str, unit, options: list, note: str) -> str:
    """One ``keyword NAME = VALUE [unit] options note="..."`` line."""
    line = f"{keyword} {name} = {value}"
    if unit is not None:
        line += " " + _unit_text(unit)
    for option in options:
        line += " " + option
    if note:
        line += f" note={_quote(note)}"
    return line


def _protocol_value(typ: str, value) -> str:
    if typ == "kernel":
        names = _KERNELS[value["kind"]][1]
        return f"{value['kind']}({', '.join(_num(value[n]) for n in names)})"
    if isinstance(value, list):
        return "[" + ", ".join(_num(v) for v in value) + "]"
    if isinstance(value, str):
        return value
    return _num(value)


def _event_line(ev: Event) -> str:
    """One event as an ``event`` line (the clauses of its non-default fields)."""
    line = (f"event {ev.name} when {condition_text(ev.trigger)} do "
            + ", ".join(f"{k} = {format_expression(v)}" for k, v in ev.assignments))
    if ev.delay is not None:
        line += f" ; delay {format_expression(ev.delay)}"
    if ev.priority is not None:
        line += f" ; priority {format_expression(ev.priority)}"
    if not ev.persistent:
        line += " ; not persistent"
    if not ev.initial_value:
        line += " ; initially false"
    if not ev.use_values_from_trigger_time:
        line += " ; values at firing"
    if ev.note:
        line += f" ; note {_quote(ev.note)}"
    return line


def format_component(component) -> str:
    """One protocol component as a line of the text syntax, e.g. ``pulses glu times=[10] amplitude=1 width=1``.

    Examples
    --------
    >>> from kinetics.protocol import waveform, alpha
    >>> format_component(waveform("V", [10.0, 30.0], alpha(20.0, 2.0)))
    'waveform V times=[10, 30] kernel=alpha(20, 2)'
    """
    data = component_to_dict(component)
    _, target, fields = _PROTOCOL_FIELDS[data["kind"]]
    parts = [data["kind"], data[target]]
    parts += [f"{n}={_protocol_value(typ, data[n])}" for n, typ, _ in fields if n in data]
    return " ".join(parts)


def format_scheme(scheme: Scheme, *, protocol: Protocol | None = None, t_end: float | None = None) -> str:
    """Write a scheme (and optionally its protocol and ``t_end``) in the text syntax.

    ``parse_scheme(format_scheme(s)) == s``; with a protocol,
    ``parse_model(format_scheme(s, protocol=p, t_end=T))`` gives back ``s``, ``p`` and ``T``.

    Raises :class:`~kinetics.errors.SchemeError` if an expression cannot be
    written (see :func:`kinetics.expressions.format_expression`), and
    :class:`~kinetics.errors.ProtocolError` for a protocol that is not a :class:`Protocol`.
    """
    if not isinstance(scheme, Scheme):
        raise SchemeError(f"format_scheme needs a Scheme, got {type(scheme).__name__}")
    if protocol is not None and not isinstance(protocol, Protocol):
        raise ProtocolError(f"format_scheme: `protocol` must be a Protocol, got {type(protocol).__name__}")
    if t_end is not None:
        t_end = float(t_end)
        if not (math.isfinite(t_end) and t_end > 0):
            raise ProtocolError(f"format_scheme: `t_end` must be a finite number > 0, got {t_end!r}")
    out = [f"scheme {_name_text(scheme.name)}"]
    if scheme.description:
        out.append(f"description {_quote(scheme.description)}")
    if scheme.reference:
        out.append(f"reference {_quote(scheme.reference)}")
    default = UnitSystem()
    main = ("time", "concentration", "voltage", "current", "conductance")
    units = [f"{k}={getattr(scheme.units, k)}" for k in KINDS
             if k in main or getattr(scheme.units, k) != getattr(default, k)]
    if not scheme.check_units:
        units.append("check=off")
    out.append("units " + " ".join(units))

    if scheme.species:
        out += ["", "# species: name = initial value [unit]"]
    for s in scheme.species:
        out.append(_declaration("species", s.name, _num(s.initial), s.unit,
                                ["nonnegative=false"] if not s.nonnegative else [], s.note))
    if scheme.parameters:
        out += ["", "# parameters: name = value [unit]"]
    for p in scheme.parameters:
        line = f"parameter {p.name} = {_num(p.value)} {_unit_text(p.unit)}"
        if tuple(p.bounds) != (0.0, math.inf):
            line += f" bounds=({_num(p.bounds[0])}, {_num(p.bounds[1])})"
        if p.reference:
            line += f" source={_quote(p.reference)}"
        if p.note:
            line += f" note={_quote(p.note)}"
        out.append(line)
    if scheme.inputs:
        out += ["", "# inputs: name = default [unit]"]
    for u in scheme.inputs:
        out.append(_declaration("input", u.name, _num(u.default), u.unit, [], u.note))
    if scheme.observables:
        out += ["", "# observables: name = expression [unit]"]
    for o in scheme.observables:
        out.append(_declaration("observable", o.name, format_expression(o.expr), o.unit, [], o.note))
    if scheme.reactions:
        out += ["", "# reactions: equation ; forward[, reverse] rate constants  (or ; rate = net flux)"]
    for r in scheme.reactions:
        label = f"{r.name}: " if r.name else ""
        if r.rate is not None:
            rates = f"rate = {format_expression(r.rate)}"
        else:
            rates = format_expression(r.forward)
            if r.reverse is not None:
                rates += f", {format_expression(r.reverse)}"
        out.append(f"reaction {label}{r.equation()} ; {rates}")
    if scheme.rate_rules:
        out += ["", "# rate rules: d species/dt += expression"]
    for rr in scheme.rate_rules:
        out.append(f"ode {rr.species} = {format_expression(rr.expr)}")
    if scheme.events:
        out += ["", "# events: event NAME when CONDITION do SPECIES = EXPRESSION, ... [; delay D] [; priority P] ..."]
    out += [_event_line(ev) for ev in scheme.events]
    if protocol is not None and len(protocol):
        out += ["", f"# protocol: times and amplitudes in the scheme's units ({scheme.units.time}, ...)"]
        out += [format_component(c) for c in protocol.components]
    if t_end is not None:
        out += ["", f"t_end {_num(t_end)}"]
    return "\n".join(out) + "\n"


def write_scheme(scheme: Scheme, path, *, protocol: Protocol | None = None, t_end: float | None = None) -> None:
    """Write a scheme file (with the protocol and ``t_end`` if given, as :func:`format_scheme`) atomically
    (a temporary file in the same folder, then ``os.replace``)."""
    from .io import atomic_write_text

    atomic_write_text(path, format_scheme(scheme, protocol=protocol, t_end=t_end))
