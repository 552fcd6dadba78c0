"""A protocol as plain data: one field table shared by the text syntax and the JSON form of model files.

:func:`component_to_dict` / :func:`component_from_dict` turn each component into a dict of JSON values
(``{"kind": "pulses", "input": "glu", "times": [...], "amplitude": 1.0, "width": 1.0}``) and back, through
the ordinary constructors (:func:`~kinetics.protocol.pulses`, :func:`~kinetics.protocol.steps`...), so every
value is validated exactly as in Python. :data:`FIELDS` lists, for each kind, its target and its fields:
:mod:`kinetics.textformat` reads and writes the same fields as ``key=value`` options
(``pulses glu times=[10, 20] amplitude=1 width=1``) and :mod:`kinetics.jsonformat` stores the dicts.
Values round-trip exactly (floats are written with ``repr``).

Field types
-----------
===========  ================================================================================================
``times``    a list of numbers (the text syntax also takes ``train(N, FREQ_HZ[, T0])``,
             :func:`~kinetics.protocol.regular_train`)
``number``   one number
``numbers``  one number, or a list of numbers (one per time)
``kernel``   ``{"kind": "exponential", "amplitude": A, "tau": TAU}``, ``alpha`` alike, ``biexponential`` with
             ``amplitude``, ``tau_rise``, ``tau_decay`` (text: ``biexponential(100, 0.5, 3)``)
``mode``     ``"add"`` or ``"set"``
===========  ================================================================================================

Examples
--------
>>> from kinetics.protocol import Protocol, pulses, waveform, biexponential
>>> p = Protocol([pulses("glu", [10.0, 20.0]), waveform("V", [15.0], biexponential(100.0, 0.5, 3.0))])
>>> data = protocol_to_list(p)
>>> data[0]
{'kind': 'pulses', 'input': 'glu', 'times': [10.0, 20.0], 'amplitude': 1.0, 'width': 1.0}
>>> protocol_from_list(data) == p
True
"""
from __future__ import annotations

import math

from ..errors import ProtocolError, did_you_mean
from ._additive import Pulses, WashIn, Waveform
from ._clamps import Ramp, Steps
from ._jumps import Jumps
from ._kernels import Alpha, Biexponential, Exponential
from ._protocol import Protocol

__all__ = ["FIELDS", "KERNELS", "component_to_dict", "component_from_dict", "protocol_to_list",
           "protocol_from_list"]

#: kind -> (class, target field, ((field, type, required), ...)) in constructor order.
FIELDS = {
    "pulses": (Pulses, "input", (("times", "times", True), ("amplitude", "numbers", False),
                                 ("width", "numbers", False))),
    "steps": (Steps, "input", (("times", "times", True), ("values", "times", True))),
    "ramp": (Ramp, "input", (("times", "times", True), ("values", "times", True))),
    "waveform": (Waveform, "input", (("times", "times", True), ("kernel", "kernel", True))),
    "wash_in": (WashIn, "input", (("time", "number", True), ("concentration", "number", True),
                                  ("tau", "number", False), ("washout", "number", False))),
    "jumps": (Jumps, "species", (("times", "times", True), ("amount", "numbers", True),
                                 ("mode", "mode", False))),
}
#: kernel kind -> (class, its number fields in constructor order).
KERNELS = {
    "exponential": (Exponential, ("amplitude", "tau")),
    "alpha": (Alpha, ("amplitude", "tau")),
    "biexponential": (Biexponential, ("amplitude", "tau_rise", "tau_decay")),
}
_KIND_OF = {cls: kind for kind, (cls, _, _) in FIELDS.items()}
_KERNEL_OF = {cls: kind for kind, (cls, _) in KERNELS.items()}


def _plain(value):
    """A component value as JSON data: tuples become lists of floats."""
    if isinstance(value, tuple):
        return [float(x) for x in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def component_to_dict(component) -> dict:
    """One protocol component as a dict of JSON values (``kind``, target, then every field).

    Examples
    --------
    >>> from kinetics.protocol import jumps
    >>> component_to_dict(jumps("Ca", [10.0], 0.1))
    {'kind': 'jumps', 'species': 'Ca', 'times': [10.0], 'amount': 0.1, 'mode': 'add'}
    """
    kind = _KIND_OF.get(type(component))
    if kind is None:
        raise ProtocolError(f"cannot serialise protocol component {component!r}")
    _, target, fields = FIELDS[kind]
    out = {"kind": kind, target: getattr(component, target)}
    for name, typ, _ in fields:
        value = getattr(component, name)
        if value is None:               # wash_in without washout
            continue
        if typ == "kernel":
            kk = _KERNEL_OF[type(value)]
            out[name] = {"kind": kk, **{f: float(getattr(value, f)) for f in KERNELS[kk][1]}}
        else:
            out[name] = _plain(value)
    return out


def _check_value(where: str, name: str, typ: str, value):
    """Type-check one field of the dict form (values themselves are checked by the constructors)."""
    def number(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    if typ == "times":
        if not isinstance(value, list) or not all(number(v) for v in value):
            raise ProtocolError(f"{where}: `{name}` must be a list of finite numbers, got {value!r}"[:300])
        return value
    if typ == "number":
        if not number(value):
            raise ProtocolError(f"{where}: `{name}` must be a finite number, got {value!r}"[:300])
        return value
    if typ == "numbers":
        if not (number(value) or (isinstance(value, list) and all(number(v) for v in value))):
            raise ProtocolError(f"{where}: `{name}` must be a number or a list of numbers, got {value!r}"[:300])
        return value
    if typ == "mode":
        if value not in ("add", "set"):
            raise ProtocolError(f"{where}: `mode` must be \"add\" or \"set\", got {value!r}"[:300])
        return value
    # kernel
    if not isinstance(value, dict) or value.get("kind") not in KERNELS:
        kinds = ", ".join(KERNELS)
        got = value.get("kind") if isinstance(value, dict) else value
        hint = did_you_mean(got, KERNELS) if isinstance(got, str) else ""
        raise ProtocolError(f"{where}: `kernel` must be an object with `kind` one of {kinds}, got {got!r}{hint}")
    cls, names = KERNELS[value["kind"]]
    extra = sorted(set(value) - set(names) - {"kind"})
    missing = [n for n in names if n not in value]
    if extra or missing:
        raise ProtocolError(f"{where}: kernel `{value['kind']}` takes {', '.join(names)}"
                            + (f"; missing {', '.join(missing)}" if missing else "")
                            + (f"; unknown {', '.join(map(repr, extra))}" if extra else ""))
    for n in names:
        if not number(value[n]):
            raise ProtocolError(f"{where}: kernel `{n}` must be a finite number, got {value[n]!r}"[:300])
    return cls(*(value[n] for n in names))


def component_from_dict(data, where: str = "component"):
    """Build a component from :func:`component_to_dict`'s form; :class:`ProtocolError` naming ``where``
    and the field for anything wrong (unknown kind or field, missing field, bad value).

    Examples
    --------
    >>> component_from_dict({"kind": "steps", "input": "V", "times": [0, 50], "values": [-70, 0]})
    Steps(input='V', times=(0.0, 50.0), values=(-70.0, 0.0))
    """
    if not isinstance(data, dict):
        raise ProtocolError(f"{where}: expected an object, got {type(data).__name__}")
    kind = data.get("kind")
    if kind not in FIELDS:
        hint = did_you_mean(kind, FIELDS) if isinstance(kind, str) else ""
        raise ProtocolError(f"{where}: unknown component kind {kind!r}{hint} (kinds: {', '.join(FIELDS)})")
    cls, target, fields = FIELDS[kind]
    known = {"kind", target} | {n for n, _, _ in fields}
    unknown = [k for k in data if k not in known]
    if unknown:
        raise ProtocolError(f"{where}: unknown field(s) {', '.join(map(repr, unknown[:5]))} for `{kind}`"
                            f" (fields: {', '.join(sorted(known - {'kind'}))})")
    missing = [n for n in [target] + [n for n, _, req in fields if req] if n not in data]
    if missing:
        raise ProtocolError(f"{where}: `{kind}` needs {', '.join(f'`{m}`' for m in missing)}")
    if not isinstance(data[target], str):
        raise ProtocolError(f"{where}: `{target}` must be a name, got {data[target]!r}"[:300])
    kw = {n: _check_value(where, n, typ, data[n]) for n, typ, _ in fields if n in data}
    try:
        return cls(data[target], **kw)
    except ProtocolError as exc:
        if where == kind:               # the constructor's message already starts with the kind
            raise
        raise ProtocolError(f"{where}: {exc}") from None


def protocol_to_list(protocol: Protocol) -> list:
    """The components of a protocol as a list of dicts (:func:`component_to_dict`), in order."""
    if not isinstance(protocol, Protocol):
        raise ProtocolError(f"expected a Protocol, got {type(protocol).__name__}")
    return [component_to_dict(c) for c in protocol.components]


def protocol_from_list(items, where: str = "protocol") -> Protocol:
    """A :class:`Protocol` from :func:`protocol_to_list`'s form; errors name ``where[i]``."""
    if not isinstance(items, list):
        raise ProtocolError(f"{where}: expected a list of components, got {type(items).__name__}")
    comps = [component_from_dict(c, f"{where}[{i}]") for i, c in enumerate(items)]
    try:
        return Protocol(comps)
    except ProtocolError as exc:
        raise ProtocolError(f"{where}: {exc}") from None
