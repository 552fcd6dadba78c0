"""The command-line options that drive a model's inputs, shared by ``nmdakin simulate`` and ``nmdakin export``.

``--input NAME=VALUE``
    The input's value where nothing else sets it (its default, replacing the one the file declares).
``--pulse NAME=T1,T2,...`` (with ``--pulse-amplitude A``, ``--pulse-width W``; default 1 and 1)
    Square pulses added to the input at these times (:func:`kinetics.protocol.pulses`).
``--hold NAME=VALUE``
    The input clamped to VALUE from t = 0 (:func:`kinetics.protocol.steps`).

Each option replaces what the file's own protocol does to that input: the file's components on an input
named by any of them are dropped, the components on other inputs (and species jumps) are kept. On one input
the options combine as in a protocol: pulses ride on the ``--hold`` level or the ``--input`` value. Values and
times are in the scheme's units.
"""
from __future__ import annotations

import argparse

__all__ = ["add_protocol_options", "apply_protocol_options", "undriven_inputs"]


def _pair(text: str, what: str) -> tuple:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return name.strip(), value


def _value(text: str):
    name, value = _pair(text, "NAME=VALUE")
    try:
        return name, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"value of {name!r} is not a number: {value!r}") from None


def _pulse(text: str):
    name, times = _pair(text, "INPUT=T1,T2,...")
    try:
        values = [float(x) for x in times.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"pulse times of {name!r} must be numbers: {times!r}") from None
    if not values:
        raise argparse.ArgumentTypeError(f"no pulse times for {name!r}")
    return name, values


def add_protocol_options(parser) -> None:
    """Add ``--input``, ``--pulse``, ``--pulse-amplitude``, ``--pulse-width`` and ``--hold`` to a parser."""
    parser.add_argument("--input", action="append", type=_value, metavar="NAME=VALUE", dest="input_value",
                        help="an input's value where nothing else sets it (replaces its declared default and what "
                             "the file's protocol does to it); repeatable")
    parser.add_argument("--pulse", action="append", type=_pulse, metavar="INPUT=T1,T2,...",
                        help="square pulses on an input at these times (replace the file's protocol on that "
                             "input); repeatable")
    parser.add_argument("--pulse-amplitude", type=float, default=None,
                        help="with --pulse: pulse amplitude (default 1, the input's unit)")
    parser.add_argument("--pulse-width", type=float, default=None,
                        help="with --pulse: pulse width (default 1, the scheme's time unit)")
    parser.add_argument("--hold", action="append", type=_value, metavar="INPUT=VALUE",
                        help="clamp an input to a value from t = 0 (replaces the file's protocol on that input); "
                             "repeatable")


def _check_inputs(scheme, given) -> None:
    from kinetics.errors import ArgumentError, did_you_mean

    inputs = scheme.input_names
    seen = {}
    for flag, name in given:
        if name not in inputs:
            kind = ("a parameter" if name in scheme.parameter_names else "a species" if name in scheme.species_names
                    else "an observable" if name in scheme.observable_names else None)
            extra = f" (`{name}` is {kind})" if kind else did_you_mean(name, inputs)
            listed = f"; its inputs: {', '.join(inputs)}" if inputs else "; it has no inputs"
            raise ArgumentError(f"{flag} {name}=...: `{name}` is not an input of scheme `{scheme.name}`{extra}"
                                f"{listed}")
        if flag != "--pulse" and (flag, name) in seen:
            raise ArgumentError(f"{flag} gives input `{name}` twice")
        seen[(flag, name)] = True


def apply_protocol_options(scheme, protocol, args):
    """``(scheme, protocol)`` after ``--input``/``--pulse``/``--hold`` (module docstring); ``protocol`` may be
    None (none in the file). Raises :class:`~kinetics.errors.ArgumentError` for a name that is not an input.

    ``--pulse-amplitude``/``--pulse-width`` without ``--pulse`` are refused (they would be ignored).
    """
    from kinetics import Protocol, pulses, steps

    from ._common import refuse_options

    values = getattr(args, "input_value", None) or []
    pulse = getattr(args, "pulse", None) or []
    hold = getattr(args, "hold", None) or []
    amplitude, width = getattr(args, "pulse_amplitude", None), getattr(args, "pulse_width", None)
    if not pulse:
        refuse_options([flag for flag, value in (("--pulse-amplitude", amplitude), ("--pulse-width", width))
                        if value is not None], "with --pulse INPUT=T1,T2,...", "they shape its pulses")
    given = [("--input", n) for n, _ in values] + [("--pulse", n) for n, _ in pulse] + [("--hold", n) for n, _ in hold]
    protocol = protocol if protocol is not None else Protocol.empty()
    if not given:
        return scheme, protocol
    _check_inputs(scheme, given)
    if values:
        scheme = scheme.with_inputs(dict(values))
    named = {n for _, n in given}
    kept = [c for c in protocol.components if c._label == "jumps" or c.input not in named]
    comps = [pulses(n, t, amplitude=1.0 if amplitude is None else amplitude, width=1.0 if width is None else width)
             for n, t in pulse]
    comps += [steps(n, [0.0], [v]) for n, v in hold]
    return scheme, Protocol(kept + comps)


def undriven_inputs(scheme, protocol) -> list:
    """Inputs the scheme's equations or observables read, that ``protocol`` does not drive and whose default is
    zero: what a simulation would silently keep at zero."""
    used = set()
    for r in scheme.reactions:
        for e in r.expressions():
            used |= {str(s) for s in e.free_symbols}
    for item in list(scheme.observables) + list(scheme.rate_rules):
        used |= {str(s) for s in item.expr.free_symbols}
    driven = set(protocol.inputs) if protocol is not None else set()
    return [u.name for u in scheme.inputs if u.name in used and u.name not in driven and u.default == 0]
