"""Clamps: components that set an input's baseline (:func:`steps`, :func:`ramp`); at most one per input."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ProtocolError
from ._component import _Component, _Piece
from ._validate import _array, _fmt, _name, _nondecreasing, _strictly_increasing


def _clamp_points(component, where: str, order_check) -> None:
    """Validate and normalise the ``input``, ``times`` and ``values`` of a clamp (steps, ramp)."""
    _name(where, "input", component.input)
    t = _array(where, "times", component.times)
    v = _array(where, "values", component.values)
    if t.size == 0:
        raise ProtocolError(f"{where}: `times` must not be empty")
    if v.size != t.size:
        raise ProtocolError(f"{where}: `values` must have one entry per time ({t.size}), got {v.size}")
    order_check(where, "times", t)
    object.__setattr__(component, "times", tuple(t.tolist()))
    object.__setattr__(component, "values", tuple(v.tolist()))


@dataclass(frozen=True)
class Steps(_Component):
    """Piecewise-constant clamp of an input; build with :func:`steps`."""

    input: str
    times: tuple
    values: tuple

    _label = "steps"
    _clamp = True

    def __post_init__(self):
        _clamp_points(self, "steps", _strictly_increasing)

    def _pieces(self) -> list:
        t = np.asarray(self.times, dtype=float)
        off = np.append(t[1:], np.inf)
        v = np.asarray(self.values, dtype=float)
        return [_Piece(self.input, t, off, 0.0, v, np.zeros(t.size), True)]

    def describe(self) -> str:
        pairs = ", ".join(f"{_fmt(v)} from {_fmt(t)}" for t, v in zip(self.times[:4], self.values[:4]))
        more = f", ... ({len(self.times)} steps)" if len(self.times) > 4 else ""
        return f"steps on `{self.input}`: {pairs}{more}"


@dataclass(frozen=True)
class Ramp(_Component):
    """Piecewise-linear clamp of an input; build with :func:`ramp`."""

    input: str
    times: tuple
    values: tuple

    _label = "ramp"
    _clamp = True

    def __post_init__(self):
        _clamp_points(self, "ramp", _nondecreasing)

    def _pieces(self) -> list:
        t = np.asarray(self.times, dtype=float)
        v = np.asarray(self.values, dtype=float)
        dt = np.diff(t)
        keep = dt > 0
        on = np.append(t[:-1][keep], t[-1])
        off = np.append(t[1:][keep], np.inf)
        p = np.append(v[:-1][keep], v[-1])
        slope = np.append(np.diff(v)[keep] / dt[keep], 0.0)
        return [_Piece(self.input, on, off, 0.0, p, slope, True)]

    def describe(self) -> str:
        pts = ", ".join(f"({_fmt(t)}, {_fmt(v)})" for t, v in zip(self.times[:4], self.values[:4]))
        more = f", ... ({len(self.times)} points)" if len(self.times) > 4 else ""
        return f"ramp on `{self.input}` through {pts}{more}"


def steps(input: str, times, values) -> Steps:
    """Piecewise-constant clamp: ``input`` is ``values[i]`` from ``times[i]`` until ``times[i+1]``.

    Before ``times[0]`` the input has its default; the last value holds to the
    end. The clamp replaces the input's default as its baseline; additive
    components (pulses, waveforms, wash-ins) on the same input ride on top. An
    input can have at most one clamp (:func:`steps` or :func:`ramp`).

    Parameters
    ----------
    input : str
        Input name, e.g. ``"V"``.
    times : array_like of float
        Strictly increasing step times.
    values : array_like of float
        Value from each time on.

    Examples
    --------
    Hold at -70 mV, depolarise to 0 mV for 100 ms:

    >>> c = steps("V", [0.0, 50.0, 150.0], [-70.0, 0.0, -70.0])
    >>> c.values
    (-70.0, 0.0, -70.0)
    """
    return Steps(input, times, values)


def ramp(input: str, times, values) -> Ramp:
    """Piecewise-linear clamp through the points ``(times[i], values[i])``.

    Before ``times[0]`` the input has its default; after ``times[-1]`` the last
    value holds. A repeated time makes a vertical jump (right-continuous: the
    later value holds from that time on). Like :func:`steps`, it sets the
    input's baseline; at most one clamp per input.

    Parameters
    ----------
    input : str
        Input name.
    times : array_like of float
        Non-decreasing times.
    values : array_like of float
        Values at those times.

    Examples
    --------
    A voltage ramp from -100 to +50 mV over 150 ms, from a -70 mV holding level:

    >>> c = ramp("V", [0.0, 100.0, 100.0, 250.0], [-70.0, -70.0, -100.0, 50.0])
    >>> len(c.times)
    4
    """
    return Ramp(input, times, values)
