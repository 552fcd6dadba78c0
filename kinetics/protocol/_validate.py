"""Argument checks of protocol components and of :meth:`Protocol.schedule`, and the text of values in messages.

Every check raises :class:`~kinetics.errors.ProtocolError` naming the function (``where``) and the argument.
"""
from __future__ import annotations

import math
import operator
from typing import Mapping, Sequence

import numpy as np

from ..errors import ProtocolError, did_you_mean

# --------------------------------------------------------------------------- component arguments


def _name(where: str, arg: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProtocolError(f"{where}: `{arg}` must be a non-empty string, got {value!r}")
    return value


def _number(where: str, arg: str, value, *, positive: bool = False,
            nonnegative: bool = False) -> float:
    if isinstance(value, (str, bytes, bool)):
        raise ProtocolError(f"{where}: `{arg}` must be a number, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ProtocolError(f"{where}: `{arg}` must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise ProtocolError(f"{where}: `{arg}` must be finite, got {x!r}")
    if positive and not x > 0:
        raise ProtocolError(f"{where}: `{arg}` must be > 0, got {x:g}")
    if nonnegative and x < 0:
        raise ProtocolError(f"{where}: `{arg}` must be >= 0, got {x:g}")
    return x


def _count(where: str, arg: str, value, minimum: int) -> int:
    if isinstance(value, bool):
        raise ProtocolError(f"{where}: `{arg}` must be an integer, got {value!r}")
    try:
        n = operator.index(value)
    except TypeError:
        raise ProtocolError(f"{where}: `{arg}` must be an integer, got {value!r}") from None
    if n < minimum:
        raise ProtocolError(f"{where}: `{arg}` must be >= {minimum}, got {n}")
    return n


def _array(where: str, arg: str, value) -> np.ndarray:
    """A 1-D float array of finite numbers (a scalar becomes a 1-element array)."""
    if isinstance(value, (str, bytes)):
        raise ProtocolError(f"{where}: `{arg}` must be a sequence of numbers, got {value!r}")
    try:
        a = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ProtocolError(f"{where}: `{arg}` must be a sequence of numbers, got {value!r}") from None
    if a.ndim == 0:
        a = a.reshape(1)
    if a.ndim != 1:
        raise ProtocolError(f"{where}: `{arg}` must be 1-D, got an array of shape {a.shape}")
    bad = ~np.isfinite(a)
    if bad.any():
        i = int(np.argmax(bad))
        raise ProtocolError(f"{where}: `{arg}` must be finite; {arg}[{i}] = {float(a[i])!r}")
    return a


def _per_item(where: str, arg: str, value, n: int, *, nonnegative: bool = False):
    """A scalar (returned as float) or one finite number per time (returned as an array)."""
    if np.ndim(value) == 0:
        return _number(where, arg, value, nonnegative=nonnegative)
    a = _array(where, arg, value)
    if a.size != n:
        raise ProtocolError(f"{where}: `{arg}` must be a number or have one entry per time "
                            f"({n}), got {a.size} entries")
    if nonnegative and (a < 0).any():
        i = int(np.argmax(a < 0))
        raise ProtocolError(f"{where}: `{arg}` must be >= 0; {arg}[{i}] = {a[i]:g}")
    return a


def _strictly_increasing(where: str, arg: str, t: np.ndarray) -> None:
    bad = np.diff(t) <= 0
    if bad.any():
        i = int(np.argmax(bad))
        raise ProtocolError(f"{where}: `{arg}` must be strictly increasing; "
                            f"{arg}[{i + 1}] = {t[i + 1]:g} does not come after "
                            f"{arg}[{i}] = {t[i]:g}")


def _nondecreasing(where: str, arg: str, t: np.ndarray) -> None:
    bad = np.diff(t) < 0
    if bad.any():
        i = int(np.argmax(bad))
        raise ProtocolError(f"{where}: `{arg}` must be sorted (non-decreasing); "
                            f"{arg}[{i + 1}] = {t[i + 1]:g} comes before {arg}[{i}] = {t[i]:g}")


def _freeze(value):
    """Store a validated scalar as float, an array as a tuple of floats."""
    if isinstance(value, np.ndarray):
        return tuple(value.tolist())
    return float(value)


def _values(value, n: int) -> np.ndarray:
    """A stored scalar or tuple as an array of length ``n``."""
    if isinstance(value, tuple):
        return np.asarray(value, dtype=float)
    return np.full(n, float(value))


# --------------------------------------------------------------------------- schedule arguments


def _window(t0, t_end) -> tuple:
    t0 = _number("schedule", "t0", t0)
    t_end = _number("schedule", "t_end", t_end)
    if not t_end > t0:
        raise ProtocolError(f"schedule: `t_end` ({_fmt(t_end)}) must be greater than "
                            f"`t0` ({_fmt(t0)})")
    return t0, t_end


def _names(arg: str, names) -> tuple:
    if isinstance(names, str):
        raise ProtocolError(f"schedule: `{arg}` must be a sequence of names, got the string {names!r}")
    names = tuple(names)
    seen = set()
    for name in names:
        _name("schedule", arg, name)
        if name in seen:
            raise ProtocolError(f"schedule: duplicate name `{name}` in `{arg}`")
        seen.add(name)
    return names


def _default_vector(inputs: tuple, defaults: Mapping[str, float]) -> np.ndarray:
    for key in defaults:
        if key not in inputs:
            raise ProtocolError(f"schedule: default given for unknown input `{key}`"
                                f"{did_you_mean(str(key), inputs)}")
    out = np.empty(len(inputs))
    for i, name in enumerate(inputs):
        if name not in defaults:
            raise ProtocolError(f"schedule: no default value for input `{name}`")
        out[i] = _number("schedule", f"defaults[{name!r}]", defaults[name])
    return out


# --------------------------------------------------------------------------- text


def _fmt(x: float) -> str:
    return f"{x:g}"


def _times_text(t: Sequence[float]) -> str:
    n = len(t)
    if n == 0:
        return "no times"
    if n <= 4:
        return "t = " + ", ".join(_fmt(x) for x in t)
    return f"t = {_fmt(t[0])}, {_fmt(t[1])}, ..., {_fmt(t[-1])} ({n} times)"


def _value_text(value) -> str:
    if isinstance(value, tuple):
        if not value:
            return "(none)"
        return f"{_fmt(min(value))}..{_fmt(max(value))} (per item)"
    return _fmt(value)
