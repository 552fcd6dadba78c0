"""Symbolic (and numeric) execution of NMODL statements: code blocks become expressions, never run.

:class:`Executor` walks the statement trees of :mod:`kinetics.nmodl._parser`. Variables hold sympy
expressions: in *symbolic* mode a variable not yet assigned is its own symbol, so running BREAKPOINT
(with its SOLVE'd KINETIC/DERIVATIVE block) yields every assigned variable as an expression of
parameters, states and inputs; in *numeric* mode (INITIAL, NET_RECEIVE) every variable holds a number.
FUNCTIONs are inlined, PROCEDUREs run in place, ``if`` on a symbolic condition merges its branches
into ``Piecewise``. Expressions are built from a whitelist of nodes and functions (those of
:mod:`kinetics.expressions`, with numbers read by :func:`~kinetics.expressions.parse_expression`);
nothing is evaluated as code.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from ..errors import ParseError
from ..expressions import _FUNCTIONS, parse_expression

# NMODL built-in functions -> kinetics expression functions
_BUILTIN = {"exp": "exp", "log": "log", "log10": "log10", "sqrt": "sqrt", "fabs": "abs", "sin": "sin",
            "cos": "cos", "tan": "tan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "pow": "pow",
            "fmin": "min", "fmax": "max", "erf": "erf", "erfc": "erfc"}
_RELATIONS = {"<": sympy.Lt, "<=": sympy.Le, ">": sympy.Gt, ">=": sympy.Ge, "==": sympy.Eq, "!=": sympy.Ne}
_MAX_CALL_DEPTH = 50


@dataclass
class Sink:
    """What running a block produced besides variable values."""

    reactions: list = field(default_factory=list)     # (reactants, products, kf, kb, line)
    derivs: dict = field(default_factory=dict)         # state -> (expr, line)
    compartments: dict = field(default_factory=dict)   # state -> (volume expr, line)
    solved: list = field(default_factory=list)         # (block, method, line)
    assigned_lines: dict = field(default_factory=dict)  # global name -> last line assigning it
    sends: list = field(default_factory=list)          # (delay, flag, line) of net_send
    on_assign: object = None                           # callback(name, value, line) -> bool (handled)


class Executor:
    """Runs statement trees over an environment of sympy values (see the module docstring)."""

    def __init__(self, mod, known: set, *, numeric: bool, source=None, context: str = "", constants=frozenset()):
        self.mod = mod
        self.constants = constants    # names a TABLE may DEPEND on (parameters)
        self.known = known            # names that are variables of the mechanism (or t)
        self.numeric = numeric
        self.source = source
        self.context = context
        self.depth = 0

    def error(self, message, line):
        return ParseError(message, line=line, source=self.source)

    def unsupported(self, construct, line):
        return self.error(f"unsupported NMODL construct `{construct}`"
                          + (f" in {self.context}" if self.context else ""), line)

    # ------------------------------------------------------------------ expressions
    def lookup(self, name, env, line):
        local, glob = env
        if name in local:
            return local[name]
        if name in glob:
            return glob[name]
        if name in ("dt", "area", "diam", "secondorder"):
            raise self.error(f"unsupported NMODL construct: NEURON variable `{name}`"
                             + (f" in {self.context}" if self.context else ""), line)
        if name == "t" or name in self.known:
            if self.numeric and name != "t":
                raise self.error(f"`{name}` has no value here", line)
            return sympy.Symbol(name)
        raise self.error(f"unknown name `{name}`", line)

    def expr(self, node, env):
        kind = node[0]
        if kind == "num":
            return parse_expression(node[1])
        if kind == "name":
            return self.lookup(node[1], env, node[2])
        if kind == "neg":
            return -self.arith(node[1], env)
        if kind == "not":
            return sympy.Not(self.condition(node[1], env))
        if kind == "call":
            return self.call(node[1], node[2], env, node[3], as_value=True)
        op, a, b, line = node[1], node[2], node[3], node[4]
        if op in ("&&", "||"):
            x, y = self.condition(a, env), self.condition(b, env)
            return sympy.And(x, y) if op == "&&" else sympy.Or(x, y)
        x, y = self.arith(a, env), self.arith(b, env)
        if op in _RELATIONS:
            return _RELATIONS[op](x, y)
        try:
            if op == "+":
                return x + y
            if op == "-":
                return x - y
            if op == "*":
                return x * y
            if op == "/":
                if y == 0:
                    raise self.error("division by zero", line)
                return x / y
            return x ** y
        except TypeError:
            raise self.error(f"`{op}` applied to a condition", line) from None

    def arith(self, node, env):
        v = self.expr(node, env)
        if not isinstance(v, sympy.Expr):            # a condition (relational, and/or/not, true/false)
            if v is sympy.true or v is sympy.false:
                return sympy.Integer(1 if v is sympy.true else 0)
            raise self.error("a condition used as a number", _line(node))
        return v

    def condition(self, node, env):
        v = self.expr(node, env)
        if isinstance(v, sympy.Expr):
            if v.is_number:
                return sympy.true if v != 0 else sympy.false
            return sympy.Ne(v, 0)
        return v

    def call(self, name, args, env, line, *, as_value):
        if name in _BUILTIN:
            lo, hi, builder = _FUNCTIONS[_BUILTIN[name]]
            if len(args) < lo or (hi is not None and len(args) > hi):
                raise self.error(f"`{name}` takes {lo} argument(s), got {len(args)}", line)
            return builder(*[self.arith(a, env) for a in args])
        block = self.mod.functions.get(name) or self.mod.procedures.get(name)
        if block is None:
            if name in ("net_send", "net_move", "net_event", "state_discontinuity"):
                raise self.unsupported(f"{name}(...) in an expression", line)
            raise self.unsupported(f"call of unknown function {name}(...)", line)
        if as_value and block.kind == "PROCEDURE":
            raise self.error(f"PROCEDURE `{name}` used as a value", line)
        if len(args) != len(block.args):
            raise self.error(f"`{name}` takes {len(block.args)} argument(s), got {len(args)}", line)
        self.depth += 1
        if self.depth > _MAX_CALL_DEPTH:
            raise self.error(f"calls nested deeper than {_MAX_CALL_DEPTH} (recursion is not supported)", line)
        local = {a: self.arith(x, env) for a, x in zip(block.args, args)}
        if block.kind == "FUNCTION":
            local[name] = sympy.Integer(0)
        self.run(block.body, (local, env[1]), self._sink)
        self.depth -= 1
        return local.get(name, sympy.Integer(0))

    # ------------------------------------------------------------------ statements
    def execute(self, stmts, env, sink: Sink):
        self._sink = sink
        self.run(stmts, env, sink)

    def assign(self, name, value, env, sink, line):
        local, glob = env
        if name in local:
            local[name] = value
            return
        if name == "t":
            raise self.error("assignment to `t`", line)
        if name not in self.known:
            raise self.error(f"assignment to unknown name `{name}`", line)
        if sink.on_assign is not None and sink.on_assign(name, value, line):
            return
        glob[name] = value
        sink.assigned_lines[name] = line

    def run(self, stmts, env, sink):
        for st in stmts:
            kind, line = st[0], st[-1]
            if kind == "assign":
                self.assign(st[1], self.arith(st[2], env), env, sink, line)
            elif kind == "local":
                for n in st[1]:
                    env[0][n] = sympy.Integer(0)
            elif kind == "deriv":
                if self.numeric:
                    raise self.unsupported(f"{st[1]}' = ...", line)
                if st[1] in sink.derivs:
                    raise self.error(f"two equations for {st[1]}'", line)
                sink.derivs[st[1]] = (self.arith(st[2], env), line)
            elif kind == "reaction":
                if self.numeric:
                    raise self.unsupported("~ reaction", line)
                sink.reactions.append((st[1], st[2], self.arith(st[3], env), self.arith(st[4], env), line))
            elif kind == "compartment":
                vol = self.arith(st[1], env)
                for n in st[2]:
                    sink.compartments[n] = (vol, line)
            elif kind == "table":
                bad = [n for n in st[1] if n not in self.constants]
                if bad:
                    raise self.unsupported(f"TABLE ... DEPEND {bad[0]} (a TABLE may depend on PARAMETERs only)", line)
            elif kind == "conserve":
                continue
            elif kind == "solve":
                if self.numeric:
                    raise self.unsupported(f"SOLVE {st[1]}", line)
                block = self.mod.blocks.get(st[1])
                if block is None:
                    raise self.error(f"SOLVE of unknown block `{st[1]}`"
                                     + (" (a PROCEDURE cannot be SOLVE'd here)" if st[1] in self.mod.procedures
                                        else ""), line)
                if block.kind == "KINETIC" and st[2] not in (None, "sparse"):
                    raise self.unsupported(f"SOLVE {st[1]} METHOD {st[2]} for a KINETIC block", line)
                if block.kind == "DERIVATIVE" and st[2] == "sparse":
                    raise self.unsupported(f"SOLVE {st[1]} METHOD sparse for a DERIVATIVE block", line)
                sink.solved.append((st[1], st[2], line))
                self.run(block.body, ({}, env[1]), sink)
            elif kind == "if":
                self.branch(st, env, sink)
            elif kind == "callstmt":
                self.call_statement(st, env, sink)
            else:  # pragma: no cover - the parser makes no other statements
                raise self.unsupported(kind, line)

    def call_statement(self, st, env, sink):
        name, args, line = st[1], st[2], st[3]
        if name == "state_discontinuity":
            if len(args) != 2 or args[0][0] != "name":
                raise self.error("state_discontinuity(state, value) expected", line)
            self.assign(args[0][1], self.arith(args[1], env), env, sink, line)
        elif name == "net_send":
            if len(args) != 2:
                raise self.error("net_send(delay, flag) expected", line)
            if not self.numeric:
                raise self.unsupported("net_send outside NET_RECEIVE", line)
            sink.sends.append((self.arith(args[0], env), self.arith(args[1], env), line))
        elif name in self.mod.procedures or name in self.mod.functions:
            self.call(name, args, env, line, as_value=False)
        else:
            raise self.unsupported(f"{name}(...)", line)

    def branch(self, st, env, sink):
        cond = self.condition(st[1], env)
        if cond is sympy.true or cond is sympy.false:
            self.run(st[2] if cond is sympy.true else st[3], env, sink)
            return
        if self.numeric:
            raise self.error("condition does not have a value here", st[-1])
        local, glob = env
        n_before = (len(sink.reactions), len(sink.derivs), len(sink.solved))
        envs = []
        for body in (st[2], st[3]):
            e = (dict(local), dict(glob))
            self.run(body, e, sink)
            envs.append(e)
        if (len(sink.reactions), len(sink.derivs), len(sink.solved)) != n_before:
            raise self.unsupported("reaction, derivative or SOLVE inside an `if` with a variable condition", st[-1])
        for k in (0, 1):
            target, a, b = env[k], envs[0][k], envs[1][k]
            for name in set(a) | set(b):
                default = target.get(name, sympy.Symbol(name))
                x, y = a.get(name, default), b.get(name, default)
                target[name] = x if x == y else sympy.Piecewise((x, cond), (y, True))


def _line(node):
    return node[-1] if isinstance(node[-1], int) else None
