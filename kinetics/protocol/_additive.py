"""Components that add to an input's baseline: square pulses, kernel waveforms, bath wash-in."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ProtocolError
from ._component import _Component, _Piece
from ._kernels import _Kernel
from ._validate import _array, _fmt, _freeze, _name, _number, _per_item, _times_text, _value_text, _values


@dataclass(frozen=True)
class Pulses(_Component):
    """Square pulses added to an input; build with :func:`pulses`.

    ``times`` are stored sorted (with ``amplitude`` and ``width`` reordered alike).
    ``amplitude`` and ``width`` are a float, or a tuple with one entry per pulse.
    """

    input: str
    times: tuple
    amplitude: object = 1.0
    width: object = 1.0

    _label = "pulses"

    def __post_init__(self):
        where = "pulses"
        _name(where, "input", self.input)
        t = _array(where, "times", self.times)
        amp = _per_item(where, "amplitude", self.amplitude, t.size)
        width = _per_item(where, "width", self.width, t.size, nonnegative=True)
        if not isinstance(width, np.ndarray) and width == 0:
            raise ProtocolError(f"{where}: `width` must be > 0, got 0 (a zero-width pulse has no effect)")
        order = np.argsort(t, kind="stable")
        object.__setattr__(self, "times", tuple(t[order].tolist()))
        object.__setattr__(self, "amplitude", _freeze(amp[order] if isinstance(amp, np.ndarray) else amp))
        object.__setattr__(self, "width", _freeze(width[order] if isinstance(width, np.ndarray) else width))

    def _pieces(self) -> list:
        t = np.asarray(self.times, dtype=float)
        n = t.size
        w = _values(self.width, n)
        a = _values(self.amplitude, n)
        on = w > 0
        return [_Piece(self.input, t[on], t[on] + w[on], 0.0, a[on], np.zeros(int(on.sum())), False)]

    def describe(self) -> str:
        return (f"pulses on `{self.input}`: {len(self.times)} x amplitude {_value_text(self.amplitude)}, "
                f"width {_value_text(self.width)}; {_times_text(self.times)}")


@dataclass(frozen=True)
class Waveform(_Component):
    """A kernel added to an input at each time; build with :func:`waveform`."""

    input: str
    times: tuple
    kernel: _Kernel

    _label = "waveform"

    def __post_init__(self):
        where = "waveform"
        _name(where, "input", self.input)
        t = _array(where, "times", self.times)
        if not isinstance(self.kernel, _Kernel):
            raise ProtocolError(f"{where}: `kernel` must be made by exponential(), alpha() or "
                                f"biexponential(), got {self.kernel!r}")
        object.__setattr__(self, "times", tuple(np.sort(t).tolist()))

    def _pieces(self) -> list:
        t = np.asarray(self.times, dtype=float)
        off = np.full(t.size, np.inf)
        return [_Piece(self.input, t, off, rate, np.full(t.size, p), np.full(t.size, q), False)
                for rate, p, q in self.kernel._terms()]

    def describe(self) -> str:
        return f"waveform on `{self.input}`: {self.kernel.describe()}; {_times_text(self.times)}"


@dataclass(frozen=True)
class WashIn(_Component):
    """Bath application of a drug, added to an input; build with :func:`wash_in`."""

    input: str
    time: float
    concentration: float
    tau: float = 0.0
    washout: float | None = None

    _label = "wash_in"

    def __post_init__(self):
        where = "wash_in"
        _name(where, "input", self.input)
        object.__setattr__(self, "time", _number(where, "time", self.time))
        object.__setattr__(self, "concentration",
                           _number(where, "concentration", self.concentration, nonnegative=True))
        object.__setattr__(self, "tau", _number(where, "tau", self.tau, nonnegative=True))
        if self.washout is not None:
            w = _number(where, "washout", self.washout)
            if not w > self.time:
                raise ProtocolError(f"{where}: `washout` ({_fmt(w)}) must come after `time` "
                                    f"({_fmt(self.time)})")
            object.__setattr__(self, "washout", w)

    def _pieces(self) -> list:
        t, c, tau = self.time, self.concentration, self.tau
        end = math.inf if self.washout is None else self.washout
        one = np.ones(1)
        zero = np.zeros(1)
        pieces = [_Piece(self.input, t * one, end * one, 0.0, c * one, zero, False)]
        if tau > 0:
            rate = 1.0 / tau
            pieces.append(_Piece(self.input, t * one, end * one, rate, -c * one, zero, False))
            if self.washout is not None:
                reached = -c * math.expm1(-(self.washout - t) / tau)
                pieces.append(_Piece(self.input, end * one, np.inf * one, rate, reached * one,
                                     zero, False))
        return pieces

    def describe(self) -> str:
        how = "step" if self.tau == 0 else f"tau {_fmt(self.tau)}"
        out = "" if self.washout is None else f", washout at {_fmt(self.washout)}"
        return (f"wash_in on `{self.input}`: {_fmt(self.concentration)} at {_fmt(self.time)} "
                f"({how}){out}")


def pulses(input: str, times, amplitude=1.0, width=1.0) -> Pulses:
    """Square pulses: ``amplitude`` added to ``input`` for ``times[k] <= t < times[k] + width``.

    Overlapping pulses add up. A zero ``width`` is an error; a zero entry of a per-pulse ``width`` has no
    effect on the schedule, and :func:`kinetics.simulate` refuses it (see :meth:`Protocol.check_window`).

    Parameters
    ----------
    input : str
        Input name, e.g. ``"glu"``.
    times : array_like of float
        Pulse onsets (any order; stored sorted). Model time units.
    amplitude : float or array_like, default 1.0
        Height of every pulse, or one per pulse (1 mM in the default units).
    width : float or array_like, default 1.0
        Duration of every pulse, or one per pulse; >= 0 (1 ms in the default units).

    Examples
    --------
    Sixty 1 mM, 1 ms glutamate pulses at 1 Hz:

    >>> c = pulses("glu", regular_train(60, 1.0))
    >>> len(c.times), c.times[1], c.amplitude, c.width
    (60, 1000.0, 1.0, 1.0)
    """
    return Pulses(input, times, amplitude, width)


def waveform(input: str, times, kernel: _Kernel) -> Waveform:
    """Add ``kernel(t - times[k])`` to ``input`` for every ``t >= times[k]``.

    Parameters
    ----------
    input : str
        Input name.
    times : array_like of float
        Trigger (spike) times, any order.
    kernel : Exponential, Alpha or Biexponential
        From :func:`exponential`, :func:`alpha` or :func:`biexponential`.

    Examples
    --------
    A 100 mV back-propagating action potential on ``V`` at each postsynaptic spike:

    >>> c = waveform("V", [10.0, 30.0], biexponential(100.0, 0.5, 3.0))
    >>> c.times
    (10.0, 30.0)
    """
    return Waveform(input, times, kernel)


def wash_in(input: str, time: float, concentration: float, tau: float = 0.0,
            washout: float | None = None) -> WashIn:
    """Drug applied at ``time``, added to ``input``.

    With ``tau == 0`` the concentration steps to ``concentration``; with
    ``tau > 0`` it approaches it as ``concentration*(1 - exp(-(t - time)/tau))``.
    At ``washout`` (if given) it decays back to 0 with the same ``tau``
    (``c_w * exp(-(t - washout)/tau)`` from the level ``c_w`` reached), or steps
    to 0 when ``tau == 0``.

    Parameters
    ----------
    input : str
        Input name, e.g. ``"drug"``.
    time : float
        Start of the application.
    concentration : float
        Final concentration, >= 0.
    tau : float, default 0.0
        Exchange time constant of the bath, >= 0.
    washout : float, optional
        Start of the washout; must come after ``time``.

    Examples
    --------
    >>> c = wash_in("APV", 1000.0, 0.05, tau=2000.0, washout=30000.0)
    >>> c.concentration, c.washout
    (0.05, 30000.0)
    """
    return WashIn(input, time, concentration, tau, washout)
