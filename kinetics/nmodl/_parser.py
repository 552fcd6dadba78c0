"""A grammar for the NMODL subset that synaptic receptor mechanisms use, producing a neutral model.

The result of :func:`parse_nmodl` is a :class:`ModFile`: the declarations (NEURON, UNITS, PARAMETER,
CONSTANT, ASSIGNED, STATE blocks) and the code blocks (INITIAL, BREAKPOINT, DERIVATIVE, KINETIC,
PROCEDURE, FUNCTION, NET_RECEIVE) as small syntax trees (tuples, below). Nothing is evaluated here.

Expression nodes: ``("num", text, line)``, ``("name", name, line)``, ``("call", name, args, line)``,
``("neg", e, line)``, ``("not", e, line)``, ``("bin", op, a, b, line)`` with ``op`` one of
``+ - * / ^ < <= > >= == != && ||``.

Statement nodes: ``("assign", name, expr, line)``, ``("deriv", name, expr, line)``,
``("reaction", reactants, products, kf, kb, line)`` (sides are ``((name, coefficient), ...)``),
``("conserve", line)``, ``("compartment", volume, names, line)``, ``("local", names, line)``,
``("solve", block, method, line)``, ``("if", cond, then, else, line)``, ``("callstmt", name, args, line)``,
``("table", depend, line)``.

Anything outside the subset raises :class:`~kinetics.errors.ParseError` naming the construct and its line.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ParseError
from ._lexer import tokenize

#: SOLVE methods accepted: they are numerical methods for the same equations, which nmdakin solves its own way.
SOLVE_METHODS = frozenset({"sparse", "cnexp", "derivimplicit", "runge", "euler"})
_MAX_NESTING = 50


@dataclass
class Decl:
    """A declared variable: name, value (text or None), unit (text or None), limits, line."""

    name: str
    value: str | None
    unit: str | None
    line: int
    limits: tuple | None = None


@dataclass
class Block:
    """A code block: its name (PROCEDURE/FUNCTION/DERIVATIVE/KINETIC), arguments, statements, line."""

    kind: str
    name: str
    args: tuple
    body: list
    line: int


@dataclass
class ModFile:
    """The neutral model of one .mod file (see the module docstring)."""

    source: str | None
    mechanism: str = ""
    point_process: bool = True
    range_names: list = field(default_factory=list)
    nonspecific: list = field(default_factory=list)      # NONSPECIFIC_CURRENT names
    ions: list = field(default_factory=list)             # (ion, read names, write names, line)
    pointers: list = field(default_factory=list)
    units: dict = field(default_factory=dict)            # (abbrev) -> (long name)
    parameters: list = field(default_factory=list)       # Decl (PARAMETER)
    constants: list = field(default_factory=list)        # Decl (CONSTANT)
    assigned: list = field(default_factory=list)         # Decl
    states: list = field(default_factory=list)           # Decl
    initial: list | None = None
    initial_line: int = 0
    breakpoint: list | None = None
    breakpoint_line: int = 0
    blocks: dict = field(default_factory=dict)           # name -> Block (DERIVATIVE, KINETIC)
    procedures: dict = field(default_factory=dict)       # name -> Block
    functions: dict = field(default_factory=dict)        # name -> Block
    net_receive: Block | None = None


class _Parser:
    def __init__(self, text: str, source):
        self.source = source
        self.text = text
        self.toks = tokenize(text, source)
        self.i = 0
        self.depth = 0

    # ------------------------------------------------------------------ token helpers
    @property
    def tok(self):
        return self.toks[self.i]

    def peek(self, k=1):
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self):
        t = self.toks[self.i]
        self.i = min(self.i + 1, len(self.toks) - 1)
        return t

    def error(self, message, line=None):
        return ParseError(message, line=self.tok.line if line is None else line, source=self.source)

    def unsupported(self, construct, line=None):
        return self.error(f"unsupported NMODL construct `{construct}` (nmdakin reads the subset described "
                          "in kinetics.nmodl)", line)

    def is_op(self, text, tok=None):
        t = tok or self.tok
        return t.kind == "op" and t.text == text

    def expect_op(self, text):
        if not self.is_op(text):
            raise self.error(f"expected `{text}`, found {self.describe(self.tok)}")
        return self.take()

    def expect_name(self, what="a name"):
        if self.tok.kind != "name":
            raise self.error(f"expected {what}, found {self.describe(self.tok)}")
        return self.take()

    @staticmethod
    def describe(tok):
        return "end of file" if tok.kind == "eof" else f"`{tok.text}`"

    def check_verbatim(self):
        if self.tok.kind == "VERBATIM":
            raise self.unsupported("VERBATIM")

    def units(self):
        """The raw text of a parenthesised unit, if one follows (else None)."""
        if not self.is_op("("):
            return None
        start = self.take()
        depth = 1
        while depth:
            t = self.take()
            if t.kind == "eof":
                raise self.error("unclosed `(` of a unit", start.line)
            if self.is_op("(", t):
                depth += 1
            elif self.is_op(")", t):
                depth -= 1
                end = t
        return self.text[start.end:end.start].strip()

    def braces(self):
        """Skip a balanced `{ ... }` block."""
        self.expect_op("{")
        depth = 1
        while depth:
            t = self.take()
            if t.kind == "eof":
                raise self.error("unclosed `{`")
            if t.kind == "VERBATIM":
                raise self.unsupported("VERBATIM", t.line)
            depth += self.is_op("{", t) - self.is_op("}", t)

    # ------------------------------------------------------------------ top level
    def parse(self) -> ModFile:
        mod = ModFile(self.source)
        while self.tok.kind != "eof":
            self.check_verbatim()
            t = self.expect_name("a block keyword (NEURON, PARAMETER, ...)")
            kw = t.text
            if kw == "NEURON":
                self.neuron_block(mod)
            elif kw == "UNITS":
                self.units_block(mod)
            elif kw in ("PARAMETER", "CONSTANT"):
                (mod.parameters if kw == "PARAMETER" else mod.constants).extend(self.declarations(kw, True))
            elif kw in ("ASSIGNED", "STATE"):
                (mod.assigned if kw == "ASSIGNED" else mod.states).extend(self.declarations(kw, False))
            elif kw == "INDEPENDENT":
                self.braces()
            elif kw in ("UNITSOFF", "UNITSON", "THREADSAFE"):
                continue
            elif kw == "INITIAL":
                mod.initial, mod.initial_line = self.body(), t.line
            elif kw == "BREAKPOINT":
                mod.breakpoint, mod.breakpoint_line = self.body(), t.line
            elif kw in ("DERIVATIVE", "KINETIC"):
                name = self.expect_name(f"the name of the {kw} block").text
                mod.blocks[name] = Block(kw, name, (), self.body(), t.line)
            elif kw in ("PROCEDURE", "FUNCTION"):
                name = self.expect_name(f"the name of the {kw}").text
                args = self.arglist()
                self.units()
                target = mod.procedures if kw == "PROCEDURE" else mod.functions
                if name in mod.procedures or name in mod.functions:
                    raise self.error(f"{kw} `{name}` is defined twice", t.line)
                target[name] = Block(kw, name, args, self.body(), t.line)
            elif kw == "NET_RECEIVE":
                args = self.arglist()
                if mod.net_receive is not None:
                    raise self.error("two NET_RECEIVE blocks", t.line)
                mod.net_receive = Block(kw, "NET_RECEIVE", args, self.body(), t.line)
            else:
                raise self.unsupported(kw, t.line)
        return mod

    def arglist(self):
        self.expect_op("(")
        args = []
        while not self.is_op(")"):
            args.append(self.expect_name("an argument name").text)
            self.units()
            if self.is_op(","):
                self.take()
        self.take()
        return tuple(args)

    def names_list(self):
        names = [self.expect_name().text]
        while self.is_op(","):
            self.take()
            names.append(self.expect_name().text)
        return names

    def neuron_block(self, mod):
        self.expect_op("{")
        while not self.is_op("}"):
            self.check_verbatim()
            t = self.expect_name("a NEURON block keyword")
            kw = t.text
            if kw in ("POINT_PROCESS", "SUFFIX"):
                mod.mechanism = self.expect_name("the mechanism name").text
                mod.point_process = kw == "POINT_PROCESS"
            elif kw in ("RANGE", "GLOBAL"):
                mod.range_names.extend(self.names_list())
            elif kw == "NONSPECIFIC_CURRENT":
                mod.nonspecific.extend(self.names_list())
            elif kw == "POINTER":
                mod.pointers.extend(self.names_list())
            elif kw == "USEION":
                ion = self.expect_name("an ion name").text
                read, write = [], []
                while self.tok.kind == "name" and self.tok.text in ("READ", "WRITE", "VALENCE"):
                    sub = self.take().text
                    if sub == "VALENCE":
                        if self.is_op("-"):
                            self.take()
                        if self.tok.kind != "number":
                            raise self.error("expected a number after VALENCE")
                        self.take()
                    else:
                        (read if sub == "READ" else write).extend(self.names_list())
                mod.ions.append((ion, read, write, t.line))
            elif kw == "THREADSAFE":
                continue
            else:
                raise self.unsupported(kw, t.line)
        self.take()

    def units_block(self, mod):
        self.expect_op("{")
        while not self.is_op("}"):
            self.check_verbatim()
            line = self.tok.line
            if self.is_op("("):
                short = self.units()
                self.expect_op("=")
                long = self.units()
                if long is None:
                    raise self.error("expected `(unit)` after `=` in the UNITS block")
                mod.units[short] = long
            else:
                name = self.expect_name("`(unit) = (unit)` in the UNITS block").text
                raise self.unsupported(f"UNITS constant {name}", line)
        self.take()

    def declarations(self, kw, values):
        self.expect_op("{")
        out = []
        while not self.is_op("}"):
            self.check_verbatim()
            t = self.expect_name(f"a name in the {kw} block")
            if self.is_op("["):
                raise self.unsupported(f"array {t.text}[...]", t.line)
            value = None
            if self.is_op("="):
                if not values:
                    raise self.error(f"`=` in the {kw} block", t.line)
                self.take()
                sign = ""
                if self.is_op("-") or self.is_op("+"):
                    sign = self.take().text.replace("+", "")
                if self.tok.kind != "number":
                    raise self.error(f"expected a number as the value of `{t.text}`", t.line)
                value = sign + self.take().text
            unit = self.units()
            limits = None
            if self.is_op("<"):
                self.take()
                lo = self.signed_number()
                self.expect_op(",")
                hi = self.signed_number()
                self.expect_op(">")
                limits = (lo, hi)
            if self.tok.kind == "name" and self.tok.text == "FROM":
                raise self.unsupported(f"FROM ... TO in the {kw} block", self.tok.line)
            out.append(Decl(t.text, value, unit, t.line, limits))
        self.take()
        return out

    def signed_number(self):
        sign = -1.0 if self.is_op("-") else 1.0
        if self.is_op("-") or self.is_op("+"):
            self.take()
        if self.tok.kind != "number":
            raise self.error("expected a number")
        return sign * float(self.take().text)

    # ------------------------------------------------------------------ statements
    def body(self):
        self.expect_op("{")
        self.nest()
        out = []
        while not self.is_op("}"):
            out.extend(self.statement())
        self.take()
        self.depth -= 1
        return out

    def statement(self):
        self.check_verbatim()
        t = self.tok
        line = t.line
        if self.is_op("~"):
            return [self.reaction()]
        if self.is_op("{"):
            return self.body()
        if t.kind != "name":
            raise self.error(f"expected a statement, found {self.describe(t)}")
        kw = t.text
        if kw == "LOCAL":
            self.take()
            return [("local", tuple(self.names_list()), line)]
        if kw in ("UNITSOFF", "UNITSON"):
            self.take()
            return []
        if kw == "SOLVE":
            self.take()
            block = self.expect_name("the block to SOLVE").text
            method = None
            if self.tok.kind == "name" and self.tok.text in ("METHOD", "STEADYSTATE"):
                how = self.take().text
                method = self.expect_name("a method").text
                if how == "STEADYSTATE":
                    raise self.unsupported(f"SOLVE {block} STEADYSTATE {method}", line)
                if method not in SOLVE_METHODS:
                    raise self.unsupported(f"SOLVE {block} METHOD {method}", line)
            return [("solve", block, method, line)]
        if kw == "CONSERVE":
            self.take()
            self.expression()
            self.expect_op("=")
            self.expression()
            return [("conserve", line)]
        if kw == "COMPARTMENT":
            self.take()
            volume = self.expression()
            if self.is_op(","):
                raise self.unsupported("COMPARTMENT index, volume {...}", line)
            self.expect_op("{")
            names = []
            while not self.is_op("}"):
                names.append(self.expect_name("a STATE name").text)
            self.take()
            return [("compartment", volume, tuple(names), line)]
        if kw == "TABLE":
            self.take()
            self.names_list() if self.tok.kind == "name" and self.tok.text not in ("DEPEND", "FROM") else None
            depend = ()
            if self.tok.kind == "name" and self.tok.text == "DEPEND":
                self.take()
                depend = tuple(self.names_list())
            if not (self.tok.kind == "name" and self.tok.text == "FROM"):
                raise self.error("expected FROM in TABLE")
            self.take()
            self.expression()
            if not (self.tok.kind == "name" and self.tok.text == "TO"):
                raise self.error("expected TO in TABLE")
            self.take()
            self.expression()
            if not (self.tok.kind == "name" and self.tok.text == "WITH"):
                raise self.error("expected WITH in TABLE")
            self.take()
            self.expression()
            return [("table", depend, line)]
        if kw == "if":
            return [self.if_statement()]
        if kw in ("else", "while", "for", "FROM", "WHILE", "MATCH", "WATCH", "printf", "VERBATIM", "LAG",
                  "SENS", "CONDUCTANCE", "PROTECT", "MUTEXLOCK", "MUTEXUNLOCK", "FOR_NETCONS", "INITIAL"):
            raise self.unsupported(kw + (" block inside a block" if kw == "INITIAL" else ""), line)
        self.take()
        if self.is_op("'"):
            self.take()
            self.expect_op("=")
            return [("deriv", kw, self.expression(), line)]
        if self.is_op("["):
            raise self.unsupported(f"array {kw}[...]", line)
        if self.is_op("="):
            self.take()
            return [("assign", kw, self.expression(), line)]
        if self.is_op("("):
            return [("callstmt", kw, self.call_args(), line)]
        raise self.error(f"expected `=`, `'` or `(` after `{kw}`, found {self.describe(self.tok)}", line)

    def if_statement(self):
        line = self.take().line
        self.expect_op("(")
        cond = self.expression()
        self.expect_op(")")
        then = self.body()
        other = []
        if self.tok.kind == "name" and self.tok.text == "else":
            self.take()
            if self.tok.kind == "name" and self.tok.text == "if":
                other = [self.if_statement()]
            else:
                other = self.body()
        return ("if", cond, then, other, line)

    def reaction(self):
        line = self.take().line
        left = self.side()
        if self.is_op("<<"):
            raise self.unsupported("~ x << (flux)", line)
        if self.is_op("->"):
            raise self.unsupported("~ ... -> (irreversible reaction)", line)
        self.expect_op("<->")
        right = self.side()
        self.expect_op("(")
        kf = self.expression()
        self.expect_op(",")
        kb = self.expression()
        self.expect_op(")")
        return ("reaction", left, right, kf, kb, line)

    def side(self):
        out = []
        while True:
            coeff = 1
            if self.tok.kind == "number":
                text = self.take().text
                try:
                    coeff = int(text)
                except ValueError:
                    raise self.error(f"stoichiometric coefficient `{text}` is not an integer") from None
            name = self.expect_name("a STATE name in a reaction").text
            if self.is_op("["):
                raise self.unsupported(f"array {name}[...]")
            out.append((name, coeff))
            if not self.is_op("+"):
                return tuple(out)
            self.take()

    def call_args(self):
        self.expect_op("(")
        args = []
        while not self.is_op(")"):
            args.append(self.expression())
            if self.is_op(","):
                self.take()
            elif not self.is_op(")"):
                raise self.error(f"expected `,` or `)` in an argument list, found {self.describe(self.tok)}")
        self.take()
        return tuple(args)

    # ------------------------------------------------------------------ expressions
    _LEVELS = (("||",), ("&&",), ("<", "<=", ">", ">=", "==", "!="), ("+", "-"), ("*", "/"))

    def expression(self, level=0):
        if level == len(self._LEVELS):
            return self.unary()
        left = self.expression(level + 1)
        while self.tok.kind == "op" and self.tok.text in self._LEVELS[level]:
            op = self.take()
            right = self.expression(level + 1)
            left = ("bin", op.text, left, right, op.line)
        return left

    def nest(self):
        """Count one level of nesting (parentheses, calls, unary operators, powers); refuse absurd depths."""
        self.depth += 1
        if self.depth > _MAX_NESTING:
            raise self.error(f"expression or blocks nested deeper than {_MAX_NESTING}")

    def unary(self):
        self.nest()
        try:
            return self._unary()
        finally:
            self.depth -= 1

    def _unary(self):
        if self.is_op("-"):
            line = self.take().line
            return ("neg", self.unary(), line)
        if self.is_op("+"):
            self.take()
            return self.unary()
        if self.is_op("!"):
            line = self.take().line
            return ("not", self.unary(), line)
        return self.power()

    def power(self):
        base = self.primary()
        if self.is_op("^"):
            line = self.take().line
            exponent = self.unary()        # right-associative, binds tighter than unary minus on its left
            return ("bin", "^", base, exponent, line)
        return base

    def primary(self):
        t = self.tok
        if t.kind == "number":
            self.take()
            self.units()               # a number may carry a unit: 0.062 (/mV)
            return ("num", t.text, t.line)
        if t.kind == "name":
            self.take()
            if self.is_op("("):
                return ("call", t.text, self.call_args(), t.line)
            if self.is_op("["):
                raise self.unsupported(f"array {t.text}[...]", t.line)
            if self.is_op("'"):
                raise self.unsupported(f"derivative {t.text}' used in an expression", t.line)
            return ("name", t.text, t.line)
        if self.is_op("("):
            self.take()
            e = self.expression()
            self.expect_op(")")
            return e
        if t.kind == "VERBATIM":
            raise self.unsupported("VERBATIM", t.line)
        raise self.error(f"expected an expression, found {self.describe(t)}")


def parse_nmodl(text: str, source: str | None = None) -> ModFile:
    """Parse NMODL text into a :class:`ModFile` (no evaluation)."""
    mod = _Parser(text, source).parse()
    if not mod.mechanism:
        raise ParseError("no NEURON block naming a POINT_PROCESS or SUFFIX", source=source)
    return mod
