"""A lossless JSON form of a :class:`~kinetics.scheme.Scheme`: ``scheme_to_json`` / ``read_json``.

Every field of a scheme is kept: names, values (as JSON numbers, which Python
writes and reads back as the same double), units, bounds, references, notes,
reactions in their mass-action or rate-law form, observables, rate rules and
the unit system. Expressions are written with
:func:`kinetics.expressions.format_expression` and read back with the safe
parser (:func:`kinetics.expressions.parse_expression`), so
``read_json(scheme_to_json(s)) == s`` and the derived equations are identical.
Reading never runs code from the file.

Document layout (``"format": "nmdakin-scheme"``, ``"version": 1``)::

    {"format": "nmdakin-scheme", "version": 1, "name": ..., "description": ..., "reference": ...,
     "units": {"time": "ms", ...},
     "species":     [{"name", "initial", "unit", "nonnegative", "note"}],
     "parameters":  [{"name", "value", "unit", "bounds": [low, high], "reference", "note"}],
     "inputs":      [{"name", "default", "unit", "note"}],
     "reactions":   [{"name", "reactants": [[species, coefficient]], "products": [...],
                      "forward", "reverse", "rate"}],           # expressions as text or null
     "observables": [{"name", "expr", "unit", "note"}],
     "rate_rules":  [{"species", "expr"}],
     "events":      [{"name", "trigger", "assignments": [[species, expression]], "delay", "priority",
                      "persistent", "initial_value", "use_values_from_trigger_time", "note"}],   # only with events
     "check_units": false,                                      # only when the scheme opted out
     "protocol":    [{"kind": "pulses", "input", "times", "amplitude", "width"}, ...],   # only with a protocol
     "t_end":       60000}                                      # only when given

Events are :class:`~kinetics.scheme.Event` fields: the trigger a condition in the expression syntax
(:func:`kinetics.scheme.condition_text`), the assignments ``[species, expression]`` pairs in their order,
``delay`` and ``priority`` expressions or null, the three flags booleans.
Infinite bounds are the strings ``"inf"`` and ``"-inf"`` (JSON has no infinity). The protocol's components
are the dicts of :mod:`kinetics.protocol.serialize` (the field table the text syntax uses too).
A document with a protocol or ``t_end`` is read by :func:`read_json_model` (or :func:`kinetics.read_model`),
which returns a :class:`kinetics.io.ModelFile`; :func:`read_json` returns a bare scheme and refuses such a
document rather than drop its protocol.

Examples
--------
>>> import kinetics as kx
>>> s = kx.Scheme("AB", species=[kx.Species("A", 1.0), kx.Species("B")],
...               parameters=[kx.Parameter("k", 0.1, "1/s", reference="a paper")],
...               reactions=[kx.reaction("A <-> B", "k", "2*k")])
>>> read_json(scheme_to_json(s)) == s
True
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

from .errors import ParseError, ProtocolError, SchemeError, UnitError, did_you_mean, short_repr
from .expressions import MAX_COEFFICIENT, format_expression, parse_expression
from .io import ModelFile
from .protocol import Protocol
from .protocol.serialize import protocol_from_list, protocol_to_list
from .scheme import (Event, Input, Observable, Parameter, RateRule, Reaction, Scheme, Species, _as_condition,
                     check_name, condition_text)
from .units import UnitSystem

__all__ = ["scheme_to_dict", "scheme_from_dict", "model_from_dict", "scheme_to_json", "read_json",
           "read_json_model", "FORMAT_NAME", "FORMAT_VERSION"]

FORMAT_NAME = "nmdakin-scheme"
FORMAT_VERSION = 1
#: Largest JSON document read (characters).
MAX_JSON_LENGTH = 50_000_000
#: Deepest nesting of JSON arrays and objects read (the format itself needs 4 levels).
MAX_JSON_DEPTH = 32
#: Most digits of a JSON integer (larger integers are refused before Python converts them).
MAX_INT_DIGITS = 30
#: Longest text of a JSON number.
MAX_NUMBER_LENGTH = 400

# a string (to its closing quote, or to the end of an unterminated one: linear, no backtracking) or a bracket
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*+(")?|[\[\]{}]', re.S)


def _json_depth_ok(text: str, limit: int) -> bool:
    """False if arrays/objects nest deeper than ``limit`` (strings skipped); stops at the first excess."""
    depth = 0
    for m in _JSON_TOKEN.finditer(text):
        tok = m.group(0)
        if tok[0] == '"':
            if m.group(1) is None:
                return True  # unterminated string: malformed, json reports it
            continue
        if tok in "[{":
            depth += 1
            if depth > limit:
                return False
        else:
            depth -= 1
    return True


def _bound(x: float):
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _expr(e):
    return None if e is None else format_expression(e)


def scheme_to_dict(scheme: Scheme, *, protocol: Protocol | None = None, t_end: float | None = None) -> dict:
    """The scheme (with a protocol and ``t_end`` if given) as a JSON-ready dict (layout in the module docstring)."""
    extra = {}
    if protocol is not None and len(protocol):
        extra["protocol"] = protocol_to_list(protocol)
    if t_end is not None:
        t_end = float(t_end)
        if not (math.isfinite(t_end) and t_end > 0):
            raise ProtocolError(f"scheme_to_dict: `t_end` must be a finite number > 0, got {t_end!r}")
        extra["t_end"] = t_end
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": scheme.name,
        "description": scheme.description,
        "reference": scheme.reference,
        "units": scheme.units.as_dict(),
        "species": [{"name": s.name, "initial": s.initial, "unit": s.unit, "nonnegative": s.nonnegative,
                     "note": s.note} for s in scheme.species],
        "parameters": [{"name": p.name, "value": p.value, "unit": p.unit, "bounds": [_bound(b) for b in p.bounds],
                        "reference": p.reference, "note": p.note} for p in scheme.parameters],
        "inputs": [{"name": u.name, "default": u.default, "unit": u.unit, "note": u.note} for u in scheme.inputs],
        "reactions": [{"name": r.name, "reactants": [[n, c] for n, c in r.reactants],
                       "products": [[n, c] for n, c in r.products], "forward": _expr(r.forward),
                       "reverse": _expr(r.reverse), "rate": _expr(r.rate)} for r in scheme.reactions],
        "observables": [{"name": o.name, "expr": format_expression(o.expr), "unit": o.unit, "note": o.note}
                        for o in scheme.observables],
        "rate_rules": [{"species": r.species, "expr": format_expression(r.expr)} for r in scheme.rate_rules],
        **({"events": [_event_to_dict(ev) for ev in scheme.events]} if scheme.events else {}),
        **({} if scheme.check_units else {"check_units": False}),
        **extra,
    }


def _event_to_dict(ev: Event) -> dict:
    return {"name": ev.name, "trigger": condition_text(ev.trigger),
            "assignments": [[k, format_expression(v)] for k, v in ev.assignments],
            "delay": _expr(ev.delay), "priority": _expr(ev.priority), "persistent": ev.persistent,
            "initial_value": ev.initial_value, "use_values_from_trigger_time": ev.use_values_from_trigger_time,
            "note": ev.note}


def scheme_to_json(scheme: Scheme, indent: int | None = 1, *, protocol: Protocol | None = None,
                   t_end: float | None = None) -> str:
    """The scheme (with a protocol and ``t_end`` if given) as JSON text (see :func:`scheme_to_dict`)."""
    data = scheme_to_dict(scheme, protocol=protocol, t_end=t_end)
    return json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False) + "\n"


# --------------------------------------------------------------------------- reading
class _Reader:
    def __init__(self, source):
        self.source = source

    def fail(self, where, msg):
        return ParseError(f"{where}: {msg}", source=self.source)

    def obj(self, value, where, required=(), optional=()):
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, got {type(value).__name__}")
        missing = [k for k in required if k not in value]
        if missing:
            raise self.fail(where, f"missing field(s) {', '.join(map(repr, missing))}")
        unknown = [k for k in value if k not in required and k not in optional]
        if unknown:
            raise self.fail(where, f"unknown field(s) {', '.join(map(short_repr, unknown[:5]))}")
        return value

    def list(self, value, where):
        if not isinstance(value, list):
            raise self.fail(where, f"expected a list, got {type(value).__name__}")
        return value

    def str(self, value, where, optional=False):
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise self.fail(where, f"expected a string, got {short_repr(value)}")
        return value

    def num(self, value, where):
        if isinstance(value, str) and value in ("inf", "-inf"):
            return float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(where, f"expected a number, got {short_repr(value)}")
        try:
            out = float(value)
        except OverflowError:
            out = math.inf
        if not math.isfinite(out):
            raise self.fail(where, "number outside the double precision range (write \"inf\" or \"-inf\" "
                                   "for an infinite bound)")
        return out

    def expr(self, value, where, optional=False):
        text = self.str(value, where, optional)
        if text is None:
            return None
        try:
            return parse_expression(text)
        except ParseError as exc:
            raise self.fail(where, str(exc)) from None


def scheme_from_dict(data: dict, source: str | None = None) -> Scheme:
    """Build a scheme from :func:`scheme_to_dict`'s layout, validating every field. A document with a
    protocol or ``t_end`` is refused: :func:`model_from_dict` reads it."""
    model = model_from_dict(data, source)
    if len(model.protocol) or model.t_end is not None:
        raise ParseError("the document has a " + ("protocol" if len(model.protocol) else "`t_end`")
                         + ", which a Scheme cannot hold: read it with kinetics.read_model(path) (or "
                           "kinetics.jsonformat.read_json_model), which returns the scheme with its protocol",
                         source=source)
    return model.scheme


def model_from_dict(data: dict, source: str | None = None) -> ModelFile:
    """The scheme, protocol and ``t_end`` of a document in :func:`scheme_to_dict`'s layout, every field
    validated (protocol components as in :func:`kinetics.protocol.serialize.component_from_dict`)."""
    rd = _Reader(source)
    top = rd.obj(data, "document", required=("format", "version", "name"),
                 optional=("description", "reference", "units", "species", "parameters", "inputs", "reactions",
                           "observables", "rate_rules", "events", "check_units", "protocol", "t_end"))
    scheme = _scheme_from_top(rd, top, source)
    try:
        protocol = protocol_from_list(top.get("protocol", []))
    except ProtocolError as exc:
        raise ParseError(str(exc), source=source) from None
    for i, c in enumerate(protocol.components):
        kind, names = ("species", scheme.species_names) if c._label == "jumps" else ("input", scheme.input_names)
        if c.target not in names:
            raise rd.fail(f"protocol[{i}]", f"`{c._label}` of unknown {kind} `{c.target}`"
                          + did_you_mean(c.target, names))
    t_end = top.get("t_end")
    if t_end is not None:
        t_end = rd.num(t_end, "t_end")
        if not t_end > 0:
            raise rd.fail("t_end", f"must be > 0 (the window starts at t = 0), got {t_end!r}")
    return ModelFile(scheme, protocol, t_end, source)


def _scheme_from_top(rd, top: dict, source) -> Scheme:
    if top["format"] != FORMAT_NAME:
        raise rd.fail("document", f"`format` is {top['format']!r}, expected {FORMAT_NAME!r}")
    if top["version"] != FORMAT_VERSION:
        raise rd.fail("document", f"unsupported version {top['version']!r} (this reader knows version {FORMAT_VERSION})")
    try:
        units = UnitSystem(**rd.obj(top.get("units", {}), "units", optional=tuple(UnitSystem.__dataclass_fields__)))
        species = []
        for i, s in enumerate(rd.list(top.get("species", []), "species")):
            w = f"species[{i}]"
            rd.obj(s, w, required=("name",), optional=("initial", "unit", "nonnegative", "note"))
            nonneg = s.get("nonnegative", True)
            if not isinstance(nonneg, bool):
                raise rd.fail(w, f"`nonnegative` must be true or false, got {nonneg!r}")
            species.append(Species(rd.str(s["name"], w), rd.num(s.get("initial", 0.0), w),
                                   unit=rd.str(s.get("unit"), w, True), nonnegative=nonneg,
                                   note=rd.str(s.get("note", ""), w)))
        params = []
        for i, p in enumerate(rd.list(top.get("parameters", []), "parameters")):
            w = f"parameters[{i}]"
            rd.obj(p, w, required=("name", "value"), optional=("unit", "bounds", "reference", "note"))
            b = rd.list(p.get("bounds", [0.0, "inf"]), w + ".bounds")
            if len(b) != 2:
                raise rd.fail(w, "`bounds` must be [low, high]")
            params.append(Parameter(rd.str(p["name"], w), rd.num(p["value"], w), unit=rd.str(p.get("unit", "1"), w),
                                    bounds=(rd.num(b[0], w), rd.num(b[1], w)),
                                    reference=rd.str(p.get("reference", ""), w), note=rd.str(p.get("note", ""), w)))
        inputs = []
        for i, u in enumerate(rd.list(top.get("inputs", []), "inputs")):
            w = f"inputs[{i}]"
            rd.obj(u, w, required=("name",), optional=("default", "unit", "note"))
            inputs.append(Input(rd.str(u["name"], w), rd.num(u.get("default", 0.0), w),
                                unit=rd.str(u.get("unit"), w, True), note=rd.str(u.get("note", ""), w)))
        reactions = []
        for i, r in enumerate(rd.list(top.get("reactions", []), "reactions")):
            w = f"reactions[{i}]"
            rd.obj(r, w, optional=("name", "reactants", "products", "forward", "reverse", "rate"))

            def side(key):
                out = []
                for j, item in enumerate(rd.list(r.get(key, []), f"{w}.{key}")):
                    if (not isinstance(item, list) or len(item) != 2 or not isinstance(item[0], str)
                            or isinstance(item[1], bool) or not isinstance(item[1], int)):
                        raise rd.fail(f"{w}.{key}[{j}]", f"expected [species, integer coefficient], "
                                                         f"got {short_repr(item)}")
                    if not 1 <= item[1] <= MAX_COEFFICIENT:
                        raise rd.fail(f"{w}.{key}[{j}]", f"stoichiometric coefficient must be an integer from 1 "
                                                         f"to {MAX_COEFFICIENT}, got {short_repr(item[1])}")
                    out.append((item[0], item[1]))
                return tuple(out)

            reactions.append(Reaction(side("reactants"), side("products"),
                                      forward=rd.expr(r.get("forward"), w + ".forward", True),
                                      reverse=rd.expr(r.get("reverse"), w + ".reverse", True),
                                      rate=rd.expr(r.get("rate"), w + ".rate", True),
                                      name=rd.str(r.get("name", ""), w)))
        observables = []
        for i, o in enumerate(rd.list(top.get("observables", []), "observables")):
            w = f"observables[{i}]"
            rd.obj(o, w, required=("name", "expr"), optional=("unit", "note"))
            observables.append(Observable(rd.str(o["name"], w), rd.expr(o["expr"], w), unit=rd.str(o.get("unit"), w, True),
                                          note=rd.str(o.get("note", ""), w)))
        rules = []
        for i, r in enumerate(rd.list(top.get("rate_rules", []), "rate_rules")):
            w = f"rate_rules[{i}]"
            rd.obj(r, w, required=("species", "expr"))
            rules.append(RateRule(rd.str(r["species"], w), rd.expr(r["expr"], w)))
        events = _events(rd, top.get("events", []), species, params, inputs, observables)
        check = top.get("check_units", True)
        if not isinstance(check, bool):
            raise rd.fail("check_units", f"must be true or false, got {short_repr(check)}")
        return Scheme(rd.str(top["name"], "name"), species=species, parameters=params, inputs=inputs,
                      reactions=reactions, observables=observables, rate_rules=rules, units=units, events=events,
                      description=rd.str(top.get("description", ""), "description"),
                      reference=rd.str(top.get("reference", ""), "reference"), check_units=check)
    except ParseError:
        raise
    except SchemeError as exc:
        if isinstance(exc, UnitError) and exc.issues:  # a dimensional error: it names the components
            raise exc.located(None, source) from None
        raise ParseError(str(exc), source=source) from None


_EVENT_FLAGS = ("persistent", "initial_value", "use_values_from_trigger_time")


def _events(rd, items, species, params, inputs, observables) -> list:
    """The ``events`` list as Event objects; every error names ``events[i].field``."""
    species_names = [s.name for s in species]
    others = {**{p.name: "parameter" for p in params}, **{u.name: "input" for u in inputs},
              **{o.name: "observable" for o in observables}}
    known = set(species_names) | set(others) | {"t"}
    out, seen = [], set()
    for i, e in enumerate(rd.list(items, "events")):
        w = f"events[{i}]"
        rd.obj(e, w, required=("name", "trigger", "assignments"),
               optional=("delay", "priority", *_EVENT_FLAGS, "note"))
        try:
            name = check_name(rd.str(e["name"], w + ".name"), "event")
        except ParseError:
            raise
        except SchemeError as exc:
            raise rd.fail(w + ".name", str(exc)) from None
        if name in seen:
            raise rd.fail(w + ".name", f"duplicate event name `{name}`")
        if name in known:
            kind = "species" if name in species_names else others.get(name, "the time")
            raise rd.fail(w + ".name", f"`{name}` is already the name of a {kind}: an event's name must differ "
                                       f"from every name of the scheme")
        seen.add(name)
        try:
            trigger = _as_condition(rd.str(e["trigger"], w + ".trigger"), "the trigger")
        except ParseError:
            raise
        except SchemeError as exc:
            raise rd.fail(w + ".trigger", str(exc)) from None
        assignments = []
        for j, pair in enumerate(rd.list(e["assignments"], w + ".assignments")):
            wj = f"{w}.assignments[{j}]"
            if not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[0], str):
                raise rd.fail(wj, f"expected [species, expression], got {short_repr(pair)}")
            if pair[0] not in species_names:
                kind = others.get(pair[0])
                extra = (f" (it is a {kind}; events assign species only)" if kind
                         else did_you_mean(pair[0], species_names))
                raise rd.fail(wj, f"unknown species `{pair[0]}`{extra}")
            assignments.append((pair[0], rd.expr(pair[1], wj)))
        kw = {key: rd.expr(e.get(key), f"{w}.{key}", True) for key in ("delay", "priority")}
        for flag in _EVENT_FLAGS:
            v = e.get(flag, True)
            if not isinstance(v, bool):
                raise rd.fail(f"{w}.{flag}", f"must be true or false, got {short_repr(v)}")
            kw[flag] = v
        kw["note"] = rd.str(e.get("note", ""), w + ".note")
        for field, expr in [("trigger", trigger), *((f"assignments[{j}]", x) for j, (_, x) in enumerate(assignments)),
                            ("delay", kw["delay"]), ("priority", kw["priority"])]:
            for sym in sorted(getattr(expr, "free_symbols", ()), key=str):
                if sym.name not in known:
                    raise rd.fail(f"{w}.{field}", f"unknown name `{sym.name}`" + did_you_mean(sym.name, known))
        try:
            out.append(Event(name, trigger, tuple(assignments), **kw))
        except SchemeError as exc:
            msg = str(exc)
            field = next((f for f in ("delay", "priority") if msg.startswith(f"{f} of")),
                         "assignments" if "assign" in msg else None)
            raise rd.fail(f"{w}.{field}" if field else w, msg) from None
    return out


def read_json(source) -> Scheme:
    """Read a scheme written by ``export(scheme, "json")`` (a path, or the JSON text itself).

    A document with a protocol is refused (a ParseError pointing to :func:`read_json_model`).

    Raises
    ------
    ParseError
        Malformed JSON, a document of another format, or any invalid field
        (the message names the field).
    """
    data, name = _load(source)
    return scheme_from_dict(data, source=name)


def read_json_model(source) -> ModelFile:
    """Read a model written by ``export(scheme, "json", protocol=..., t_end=...)`` (a path, or the JSON
    text): the scheme, its protocol (empty if none) and ``t_end`` (None if none).

    Examples
    --------
    >>> import kinetics as kx
    >>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 1.0, "1/ms")],
    ...               reactions=[kx.reaction("A ->", "k")])
    >>> text = scheme_to_json(s, protocol=kx.Protocol([kx.jumps("A", [1.0], 1.0)]), t_end=2.0)
    >>> m = read_json_model(text)
    >>> m.scheme == s, m.protocol.species, m.t_end
    (True, ('A',), 2.0)
    """
    data, name = _load(source)
    return model_from_dict(data, source=name)


def _load(source):
    """``(data, file name or None)`` of a JSON path or text, within the size and nesting limits."""
    name = None
    if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith(("{", "["))
                                    and len(source) <= 4096 and "\n" not in source):
        path = Path(source)
        name = str(path)
        try:
            if path.stat().st_size > 4 * MAX_JSON_LENGTH:   # utf-8: at most 4 bytes a character
                raise ParseError(f"JSON document too large ({path.stat().st_size} bytes)", source=name)
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ParseError(f"no such file: `{path}`") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ParseError(f"cannot read `{path}`: {exc}") from None
        except ParseError:
            raise
        except ValueError as exc:  # a NUL byte in the path (os.stat: "embedded null byte")
            raise ParseError(f"cannot read `{path}`: {exc}") from None
    elif isinstance(source, str):
        text = source
    else:
        raise ParseError(f"read_json needs a path or JSON text, got {type(source).__name__}")
    if len(text) > MAX_JSON_LENGTH:
        raise ParseError(f"JSON document too long ({len(text)} characters)", source=name)

    if not _json_depth_ok(text, MAX_JSON_DEPTH):
        raise ParseError(f"JSON document nested too deeply (more than {MAX_JSON_DEPTH} levels of arrays and "
                         f"objects)", source=name)

    def no_constants(c):
        raise ParseError(f"invalid JSON number `{c}`", source=name)

    def parse_int(digits):
        if len(digits.lstrip("-")) > MAX_INT_DIGITS:
            raise ParseError(f"JSON integer with {len(digits.lstrip('-'))} digits is too large (at most "
                             f"{MAX_INT_DIGITS} digits)", source=name)
        return int(digits)

    def parse_float(text_):
        if len(text_) > MAX_NUMBER_LENGTH:
            raise ParseError(f"JSON number of {len(text_)} characters is too long (at most {MAX_NUMBER_LENGTH})",
                             source=name)
        return float(text_)

    try:
        data = json.loads(text, parse_constant=no_constants, parse_int=parse_int, parse_float=parse_float)
    except json.JSONDecodeError as exc:
        raise ParseError(f"malformed JSON: {exc.msg}", line=exc.lineno, source=name) from None
    except RecursionError:
        raise ParseError("JSON document nested too deeply", source=name) from None
    except ParseError:
        raise
    except ValueError as exc:  # e.g. Python's limit on integer digits
        raise ParseError(f"invalid JSON: {exc}", source=name) from None
    return data, name
