"""Stimulation protocols: what drives a model, and when.

A model declares *inputs* (transmitter concentration ``glu``, membrane voltage
``V``, a drug concentration...) and *species* (its state variables). A
:class:`Protocol` is an immutable collection of stimulus *components* that say
how the inputs vary in time and when species jump. It knows nothing about any
particular model: :meth:`Protocol.schedule` compiles it, for one model's input
and species names, into a :class:`~kinetics.schedule.Schedule` that the
solvers consume.

Units
-----
Every time and amplitude in a protocol is a plain number in the **model's
units** (the library's default units are ms, mM and mV): ``pulses("glu",
[10.0], amplitude=1.0, width=1.0)`` is a 1 mM, 1 ms pulse for a model in ms and
mM. Only the train helpers :func:`regular_train` and :func:`pairing_times`
assume milliseconds, because they turn a frequency in Hz into a period
``1000 / freq_hz``.

How inputs are built
--------------------
For every input ``u`` of the model::

    u(t) = baseline(t) + sum of the additive components that drive u

* The *baseline* is the input's default value (the ``defaults`` given to
  :meth:`Protocol.schedule`), or, where a clamp component (:func:`steps` or
  :func:`ramp`) drives the input, the clamp's value. An input may have at most
  one clamp; before the clamp's first time the default holds.
* :func:`pulses`, :func:`waveform` and :func:`wash_in` *add* to the baseline,
  and to each other: overlapping pulses add up, and a back-propagating action
  potential ``waveform("V", spikes, biexponential(100.0, 0.5, 3.0))`` rides on
  top of a voltage clamp.
* :func:`jumps` change species, not inputs: at each time the species is
  increased by (``mode="add"``) or set to (``mode="set"``) the amount.

Right-continuity
----------------
All inputs are right-continuous: at a discontinuity the *new* value holds. A
pulse at ``t`` of width ``w`` is on for ``t <= time < t + w``; a step at ``t``
has its new value at ``t``. Jumps are applied at the start of the segment that
begins at their time, before it is integrated, so outputs requested at exactly
that time see the state after the jump. Jumps at the same time are applied in
the order they appear in the protocol (and, within one :func:`jumps`
component, in the order given).

Simulation window
-----------------
:meth:`Protocol.schedule` covers ``[t0, t_end]``. Every discontinuity of every
component inside ``(t0, t_end)`` becomes a segment boundary (the solvers
restart there and never step across it); event times closer together than
``1e-12 * max(|t0|, |t_end|, t_end - t0)`` are merged into one boundary (the
earliest of them, or ``t0``/``t_end``). Components that started before ``t0``
still contribute what is left of them (the tail of an exponential, a step still
held); components after ``t_end`` are ignored. ``t_end`` itself belongs to the
last segment, so a discontinuity exactly at ``t_end`` does not show there (the
value at ``t_end`` is the left limit). Jumps take effect only for times in
``[t0, t_end)``: the initial state is assumed to already contain anything that
happened before ``t0``.

Examples
--------
Five 1 mM, 1 ms glutamate pulses at 20 Hz, with the membrane clamped at
-70 mV from t = 0 (the model's default for ``V`` is -65 mV):

>>> from kinetics.protocol import Protocol, pulses, regular_train, steps
>>> train = regular_train(5, 20.0)          # 0, 50, 100, 150, 200 ms
>>> protocol = Protocol([pulses("glu", train), steps("V", [0.0], [-70.0])])
>>> sched = protocol.schedule(-10.0, 300.0, inputs=["glu", "V"],
...                           defaults={"glu": 0.0, "V": -65.0})
>>> sched.input_values([-5.0, 0.0, 0.5, 1.0]).tolist()
[[0.0, -65.0], [1.0, -70.0], [1.0, -70.0], [0.0, -70.0]]
>>> sched.n_segments                        # boundaries at -10, 0, 1, 50, 51, ... 201, 300
11

Pre-before-post pairing (Sjostrom et al. 2001): 5 pairs at 50 Hz, the
postsynaptic spike 10 ms after the presynaptic one, repeated 15 times every
10 s; the postsynaptic spike back-propagates into ``V`` and each presynaptic
spike releases glutamate:

>>> from kinetics.protocol import biexponential, pairing_times, waveform
>>> pre, post = pairing_times(5, 50.0, 10.0, n_bursts=15, burst_period=10000.0)
>>> len(pre), pre[:3].tolist(), post[:3].tolist()
(75, [0.0, 20.0, 40.0], [10.0, 30.0, 50.0])
>>> stdp = Protocol([pulses("glu", pre),
...                  waveform("V", post, biexponential(100.0, 0.5, 3.0))])
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Mapping, NamedTuple, Sequence

import numpy as np

from .errors import ProtocolError, did_you_mean
from .schedule import JUMP_ADD, JUMP_SET, Schedule

__all__ = [
    "Protocol",
    "Pulses",
    "Steps",
    "Ramp",
    "Waveform",
    "WashIn",
    "Jumps",
    "Exponential",
    "Alpha",
    "Biexponential",
    "pulses",
    "steps",
    "ramp",
    "waveform",
    "wash_in",
    "jumps",
    "exponential",
    "alpha",
    "biexponential",
    "spike_train",
    "regular_train",
    "pairing_times",
]

#: Terms whose magnitude over the rest of the simulation is below this are dropped.
_NEGLIGIBLE = 1e-300
#: Breakpoints closer than this times the window scale are merged.
_MERGE_RTOL = 1e-12
_JUMP_MODES = {"add": JUMP_ADD, "set": JUMP_SET}


# --------------------------------------------------------------------------- validation


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


# --------------------------------------------------------------------------- pieces


class _Piece(NamedTuple):
    """A batch of exponential-polynomial pieces on one input.

    Piece ``k`` is ``(p[k] + q[k]*(t - on[k])) * exp(-rate*(t - on[k]))`` for
    ``on[k] <= t < off[k]`` (``off`` may be ``inf``). ``base`` pieces replace the
    input's default (clamps); the others add to the baseline.
    """

    input: str
    on: np.ndarray
    off: np.ndarray
    rate: float
    p: np.ndarray
    q: np.ndarray
    base: bool


class _Component:
    """Base class of protocol components (frozen dataclasses)."""

    #: Name used by :meth:`describe`.
    _label = "component"
    #: True for components that set the baseline of their input (at most one per input).
    _clamp = False

    @property
    def target(self) -> str:
        """The input (or, for :class:`Jumps`, the species) this component acts on."""
        return self.input

    def _pieces(self) -> list:
        return []

    def _event_times(self) -> np.ndarray:
        parts = [np.empty(0)]
        for pc in self._pieces():
            parts.append(pc.on)
            parts.append(pc.off[np.isfinite(pc.off)])
        return np.concatenate(parts)

    def describe(self) -> str:  # pragma: no cover - overridden
        return self._label


# --------------------------------------------------------------------------- kernels


class _Kernel:
    """Base class of spike-triggered waveform kernels."""

    def _terms(self) -> tuple:
        """``(rate, p, q)`` triples: the kernel is ``sum (p + q*s) * exp(-rate*s)`` for lag ``s >= 0``."""
        raise NotImplementedError


@dataclass(frozen=True)
class Exponential(_Kernel):
    """Kernel ``amplitude * exp(-s / tau)`` at lag ``s >= 0`` (0 before); build with :func:`exponential`."""

    amplitude: float
    tau: float

    def __post_init__(self):
        object.__setattr__(self, "amplitude", _number("exponential", "amplitude", self.amplitude))
        object.__setattr__(self, "tau", _number("exponential", "tau", self.tau, positive=True))

    def _terms(self) -> tuple:
        return ((1.0 / self.tau, self.amplitude, 0.0),)

    def describe(self) -> str:
        return f"exponential(amplitude={_fmt(self.amplitude)}, tau={_fmt(self.tau)})"


@dataclass(frozen=True)
class Alpha(_Kernel):
    """Kernel ``amplitude * (s/tau) * exp(1 - s/tau)``, peak ``amplitude`` at ``s = tau``.

    Build with :func:`alpha`.
    """

    amplitude: float
    tau: float

    def __post_init__(self):
        object.__setattr__(self, "amplitude", _number("alpha", "amplitude", self.amplitude))
        object.__setattr__(self, "tau", _number("alpha", "tau", self.tau, positive=True))

    def _terms(self) -> tuple:
        return ((1.0 / self.tau, 0.0, self.amplitude * math.e / self.tau),)

    def describe(self) -> str:
        return f"alpha(amplitude={_fmt(self.amplitude)}, tau={_fmt(self.tau)})"


@dataclass(frozen=True)
class Biexponential(_Kernel):
    """Kernel ``amplitude * (exp(-s/tau_decay) - exp(-s/tau_rise)) / norm`` with peak ``amplitude``.

    Build with :func:`biexponential`.
    """

    amplitude: float
    tau_rise: float
    tau_decay: float

    def __post_init__(self):
        where = "biexponential"
        object.__setattr__(self, "amplitude", _number(where, "amplitude", self.amplitude))
        object.__setattr__(self, "tau_rise", _number(where, "tau_rise", self.tau_rise, positive=True))
        object.__setattr__(self, "tau_decay", _number(where, "tau_decay", self.tau_decay, positive=True))
        if not self.tau_rise < self.tau_decay:
            raise ProtocolError(f"{where}: `tau_rise` ({_fmt(self.tau_rise)}) must be smaller than "
                                f"`tau_decay` ({_fmt(self.tau_decay)}); for equal time constants "
                                f"use alpha(amplitude, tau)")

    @property
    def peak_time(self) -> float:
        """Lag of the peak, ``tau_rise*tau_decay/(tau_decay - tau_rise) * ln(tau_decay/tau_rise)``."""
        tr, td = self.tau_rise, self.tau_decay
        return tr * td / (td - tr) * math.log(td / tr)

    def _terms(self) -> tuple:
        tr, td = self.tau_rise, self.tau_decay
        tp = self.peak_time
        norm = math.exp(-tp / td) - math.exp(-tp / tr)
        a = self.amplitude / norm
        return ((1.0 / td, a, 0.0), (1.0 / tr, -a, 0.0))

    def describe(self) -> str:
        return (f"biexponential(amplitude={_fmt(self.amplitude)}, tau_rise={_fmt(self.tau_rise)}, "
                f"tau_decay={_fmt(self.tau_decay)})")


def exponential(amplitude: float, tau: float) -> Exponential:
    """Exponentially decaying kernel ``amplitude * exp(-s/tau)`` for lag ``s >= 0``.

    It jumps to ``amplitude`` at the spike, so each spike is a discontinuity.

    Parameters
    ----------
    amplitude : float
        Value at the spike (model units of the input; may be negative).
    tau : float
        Decay time constant, > 0.

    Examples
    --------
    >>> k = exponential(2.0, 5.0)
    >>> k.amplitude, k.tau
    (2.0, 5.0)
    """
    return Exponential(amplitude, tau)


def alpha(amplitude: float, tau: float) -> Alpha:
    """Alpha-function kernel ``amplitude * (s/tau) * exp(1 - s/tau)`` for lag ``s >= 0``.

    Zero at the spike, peak ``amplitude`` at ``s = tau``.

    Parameters
    ----------
    amplitude : float
        Peak value (may be negative).
    tau : float
        Time to peak, > 0.

    Examples
    --------
    >>> alpha(1.0, 2.0)
    Alpha(amplitude=1.0, tau=2.0)
    """
    return Alpha(amplitude, tau)


def biexponential(amplitude: float, tau_rise: float, tau_decay: float) -> Biexponential:
    """Difference-of-exponentials kernel normalised so that its peak equals ``amplitude``.

    ``amplitude * (exp(-s/tau_decay) - exp(-s/tau_rise)) / norm`` for lag ``s >= 0``, where
    ``norm`` is the unnormalised value at the peak lag
    ``tau_rise*tau_decay/(tau_decay - tau_rise) * ln(tau_decay/tau_rise)``.

    Parameters
    ----------
    amplitude : float
        Peak value (may be negative).
    tau_rise, tau_decay : float
        Time constants, ``0 < tau_rise < tau_decay``.

    Examples
    --------
    A back-propagating action potential of 100 mV (added to ``V``'s baseline):

    >>> bap = biexponential(100.0, 0.5, 3.0)
    >>> round(bap.peak_time, 4)
    1.0751
    """
    return Biexponential(amplitude, tau_rise, tau_decay)


# --------------------------------------------------------------------------- components


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


@dataclass(frozen=True)
class Jumps(_Component):
    """State jumps of one species; build with :func:`jumps`.

    ``times`` are stored sorted (stable: equal times keep their order) with
    ``amount`` reordered alike; ``amount`` is a float or a tuple, one per time.
    """

    species: str
    times: tuple
    amount: object
    mode: str = "add"

    _label = "jumps"

    def __post_init__(self):
        where = "jumps"
        _name(where, "species", self.species)
        if not isinstance(self.mode, str) or self.mode not in _JUMP_MODES:
            hint = did_you_mean(self.mode, _JUMP_MODES) if isinstance(self.mode, str) else ""
            raise ProtocolError(f"{where}: unknown mode `{self.mode}`{hint}; use 'add' or 'set'")
        t = _array(where, "times", self.times)
        amount = _per_item(where, "amount", self.amount, t.size)
        order = np.argsort(t, kind="stable")
        object.__setattr__(self, "times", tuple(t[order].tolist()))
        object.__setattr__(self, "amount",
                           _freeze(amount[order] if isinstance(amount, np.ndarray) else amount))

    @property
    def target(self) -> str:
        return self.species

    def _event_times(self) -> np.ndarray:
        return np.asarray(self.times, dtype=float)

    def describe(self) -> str:
        verb = "add" if self.mode == "add" else "set to"
        return (f"jumps of `{self.species}`: {verb} {_value_text(self.amount)}; "
                f"{_times_text(self.times)}")


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


def jumps(species: str, times, amount, mode: str = "add") -> Jumps:
    """State jumps: at each time, ``species += amount`` (``mode="add"``) or ``species = amount`` (``"set"``).

    Jumps at the same time are applied in the order given. Only jumps in
    ``[t0, t_end)`` of a simulation take effect.

    Parameters
    ----------
    species : str
        Species (state variable) name.
    times : array_like of float
        Jump times, any order (sorted stably).
    amount : float or array_like
        Amount added or value set; one for all times, or one per time.
    mode : {"add", "set"}

    Examples
    --------
    Calcium influx of 0.1 mM at each postsynaptic spike:

    >>> c = jumps("Ca", [10.0, 30.0], 0.1)
    >>> c.times, c.amount, c.mode
    ((10.0, 30.0), 0.1, 'add')
    """
    return Jumps(species, times, amount, mode)


# --------------------------------------------------------------------------- trains


def spike_train(times) -> np.ndarray:
    """A validated spike train: a new sorted 1-D float array of finite times.

    Parameters
    ----------
    times : array_like of float
        Spike times (a scalar is one spike).

    Examples
    --------
    >>> spike_train([30.0, 10.0, 20.0]).tolist()
    [10.0, 20.0, 30.0]
    """
    return np.sort(_array("spike_train", "times", times))


def regular_train(n: int, freq_hz: float, t0: float = 0.0) -> np.ndarray:
    """``n`` regularly spaced spike times in ms: ``t0 + k * 1000/freq_hz``, ``k = 0..n-1``.

    Parameters
    ----------
    n : int
        Number of spikes, >= 0.
    freq_hz : float
        Frequency in Hz, > 0.
    t0 : float, default 0.0
        Time of the first spike, in ms.

    Examples
    --------
    >>> regular_train(4, 20.0, t0=10.0).tolist()
    [10.0, 60.0, 110.0, 160.0]
    """
    where = "regular_train"
    n = _count(where, "n", n, 0)
    freq_hz = _number(where, "freq_hz", freq_hz, positive=True)
    t0 = _number(where, "t0", t0)
    return t0 + np.arange(n, dtype=float) * 1000.0 / freq_hz


def pairing_times(n_pairs: int, freq_hz: float, dt_ms: float, t0: float = 0.0,
                  n_bursts: int = 1, burst_period: float | None = None):
    """Pre- and postsynaptic spike times of a spike-timing pairing protocol, in ms.

    ``n_pairs`` presynaptic spikes at ``freq_hz`` starting at ``t0``, each
    followed by a postsynaptic spike at ``pre + dt_ms``; the whole burst is
    repeated ``n_bursts`` times every ``burst_period`` ms.

    Parameters
    ----------
    n_pairs : int
        Pairs per burst, >= 1.
    freq_hz : float
        Pairing frequency in Hz, > 0.
    dt_ms : float
        ``t_post - t_pre`` in ms: > 0 is pre-before-post (potentiating), < 0
        post-before-pre (depressing).
    t0 : float, default 0.0
        First presynaptic spike, in ms. Must be chosen so that no spike is
        negative (``t0 >= -dt_ms`` when ``dt_ms < 0``).
    n_bursts : int, default 1
        Number of bursts, >= 1.
    burst_period : float, optional
        Burst onset-to-onset period in ms; required when ``n_bursts > 1``, and
        long enough that bursts do not overlap: ``> (n_pairs - 1)*1000/freq_hz + |dt_ms|``.

    Returns
    -------
    pre, post : ndarray
        Sorted spike times, ``n_pairs * n_bursts`` each; ``post - pre == dt_ms``.

    Examples
    --------
    Sjostrom et al. (2001): 5 pairs at 50 Hz, post 10 ms before pre, 15 times every 10 s:

    >>> pre, post = pairing_times(5, 50.0, -10.0, t0=10.0, n_bursts=15, burst_period=10000.0)
    >>> pre[:2].tolist(), post[:2].tolist(), float(pre[5])
    ([10.0, 30.0], [0.0, 20.0], 10010.0)
    """
    where = "pairing_times"
    n_pairs = _count(where, "n_pairs", n_pairs, 1)
    freq_hz = _number(where, "freq_hz", freq_hz, positive=True)
    dt_ms = _number(where, "dt_ms", dt_ms)
    t0 = _number(where, "t0", t0)
    n_bursts = _count(where, "n_bursts", n_bursts, 1)
    span = (n_pairs - 1) * 1000.0 / freq_hz + abs(dt_ms)
    if burst_period is None:
        if n_bursts > 1:
            raise ProtocolError(f"{where}: `burst_period` is required when n_bursts > 1")
        burst_period = 0.0
    else:
        burst_period = _number(where, "burst_period", burst_period, positive=True)
        if n_bursts > 1 and not burst_period > span:
            raise ProtocolError(f"{where}: `burst_period` ({_fmt(burst_period)} ms) must be longer "
                                f"than one burst ({_fmt(span)} ms) so bursts do not overlap")
    burst = t0 + np.arange(n_pairs, dtype=float) * 1000.0 / freq_hz
    pre = (np.arange(n_bursts, dtype=float)[:, None] * burst_period + burst[None, :]).ravel()
    post = pre + dt_ms
    first = min(pre[0], post[0])
    if first < 0:
        raise ProtocolError(f"{where}: the first spike would be at t = {_fmt(first)} ms (< 0); "
                            f"choose t0 >= {_fmt(t0 - first)}")
    return pre, post


# --------------------------------------------------------------------------- compilation


class _Grid(NamedTuple):
    """Segment boundaries of a window, with the merging of nearby event times."""

    boundaries: np.ndarray  # representatives, t0 first and t_end last
    starts: np.ndarray      # first (smallest) event time of each merged cluster
    tol: float

    def index(self, x) -> np.ndarray:
        """Boundary index each time snaps to: -1 before the window, n_seg + 1 after it."""
        x = np.asarray(x, dtype=float)
        b = self.boundaries
        n_seg = b.size - 1
        idx = np.searchsorted(self.starts, x, side="right") - 1
        idx = np.where(x < b[0], np.where(x > b[0] - self.tol, 0, -1), idx)
        idx = np.where(x > b[-1], np.where(x < b[-1] + self.tol, n_seg, n_seg + 1), idx)
        return idx


def _window(t0, t_end) -> tuple:
    t0 = _number("schedule", "t0", t0)
    t_end = _number("schedule", "t_end", t_end)
    if not t_end > t0:
        raise ProtocolError(f"schedule: `t_end` ({_fmt(t_end)}) must be greater than "
                            f"`t0` ({_fmt(t0)})")
    return t0, t_end


def _make_grid(t0: float, t_end: float, times: np.ndarray) -> _Grid:
    tol = _MERGE_RTOL * max(abs(t0), abs(t_end), t_end - t0)
    if not t_end - t0 > tol:
        raise ProtocolError(f"schedule: window [{t0!r}, {t_end!r}] is too short to resolve at "
                            f"this magnitude of time")
    inside = np.unique(times[(times > t0) & (times < t_end)])
    cand = np.concatenate([[t0], inside, [t_end]])
    if (np.diff(cand) >= tol).all():
        starts = cand
    else:
        kept = [t0]
        for x in cand[1:].tolist():
            if x - kept[-1] >= tol:
                kept.append(x)
        starts = np.asarray(kept)
    boundaries = starts.copy()
    boundaries[-1] = t_end
    return _Grid(boundaries, starts, tol)


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


def _assemble_inputs(pieces: list, grid: _Grid, inputs: tuple, default: np.ndarray):
    """``const``, ``term_ptr``, ``term_input``, ``term_data`` of a schedule."""
    B = grid.boundaries
    n_seg = B.size - 1
    n_in = len(inputs)
    col = {name: i for i, name in enumerate(inputs)}
    remaining = B[-1] - B[:-1]

    # One group per (input, rate, clamp?): all its pieces fold into one term per segment.
    keys = sorted({(col[pc.input], pc.rate, pc.base) for pc in pieces})
    group = {key: g for g, key in enumerate(keys)}
    n_g = len(keys)
    tot_p = np.zeros((n_seg, n_g))
    tot_q = np.zeros((n_seg, n_g))
    start_p = np.zeros((n_seg, n_g))
    start_q = np.zeros((n_seg, n_g))
    open_ended = np.zeros(n_g, dtype=bool)
    clamp_count = np.zeros((n_seg + 1, n_in), dtype=np.int64)

    for pc in pieces:
        if pc.on.size == 0:
            continue
        i = col[pc.input]
        g = group[(i, pc.rate, pc.base)]
        a = np.maximum(grid.index(pc.on), 0)
        b = grid.index(pc.off)
        forever = b >= n_seg
        b = np.minimum(b, n_seg)
        live = a < b
        if pc.base:
            np.add.at(clamp_count[:, i], a[live], 1)
            np.add.at(clamp_count[:, i], b[live], -1)
        # Pieces lasting to the end: fold once, at their first segment; carried forward below.
        f = live & forever
        if f.any():
            x = B[a[f]] - pc.on[f]
            e = np.exp(-pc.rate * x)
            np.add.at(start_p[:, g], a[f], (pc.p[f] + pc.q[f] * x) * e)
            np.add.at(start_q[:, g], a[f], pc.q[f] * e)
            open_ended[g] = True
        # Pieces that end inside the window: fold into each segment they cover.
        m = np.flatnonzero(live & ~forever)
        if m.size:
            length = b[m] - a[m]
            k = np.repeat(m, length)
            seg = np.repeat(a[m], length) + (np.arange(length.sum())
                                             - np.repeat(np.cumsum(length) - length, length))
            x = B[seg] - pc.on[k]
            e = np.exp(-pc.rate * x)
            np.add.at(tot_p[:, g], seg, (pc.p[k] + pc.q[k] * x) * e)
            np.add.at(tot_q[:, g], seg, pc.q[k] * e)

    gaps = np.diff(B)
    for g in np.flatnonzero(open_ended):
        rate = keys[g][1]
        if rate == 0 and not start_q[:, g].any():
            tot_p[:, g] += np.cumsum(start_p[:, g])
            continue
        decay = np.exp(-rate * gaps).tolist()
        gap = gaps.tolist()
        cap = 1.0 / (math.e * rate) if rate > 0 else math.inf
        rem = remaining.tolist()
        sp, sq = start_p[:, g].tolist(), start_q[:, g].tolist()
        out_p, out_q = [0.0] * n_seg, [0.0] * n_seg
        p = q = 0.0
        for s in range(n_seg):
            if s:
                k = decay[s - 1]
                p = (p + q * gap[s - 1]) * k
                q = q * k
            p += sp[s]
            q += sq[s]
            if rate > 0 and abs(p) + abs(q) * min(rem[s], cap) < _NEGLIGIBLE:
                p = q = 0.0
            out_p[s] = p
            out_q[s] = q
        tot_p[:, g] += out_p
        tot_q[:, g] += out_q

    # Constant part: baseline (clamp or default) plus the rate-0 additive groups.
    const = np.tile(default, (n_seg, 1))
    clamped = np.cumsum(clamp_count, axis=0)[:n_seg] > 0
    for (i, rate, base), g in group.items():
        if base:
            const[:, i] = np.where(clamped[:, i], tot_p[:, g], default[i])
    for (i, rate, base), g in group.items():
        if rate == 0 and not base:
            const[:, i] += tot_p[:, g]

    # Candidate terms, one column per (input, rate): rate-0 slopes of an input are merged.
    col_input, col_rate, col_p, col_q, col_keep = [], [], [], [], []
    for i in range(n_in):
        zero = [g for (j, rate, _), g in group.items() if j == i and rate == 0]
        if zero:
            q0 = tot_q[:, zero].sum(axis=1)
            col_input.append(i)
            col_rate.append(0.0)
            col_p.append(np.zeros(n_seg))
            col_q.append(q0)
            col_keep.append(np.abs(q0) * remaining >= _NEGLIGIBLE)
        for (j, rate, _), g in sorted(group.items()):
            if j == i and rate > 0:
                p, q = tot_p[:, g], tot_q[:, g]
                bound = np.abs(p) + np.abs(q) * np.minimum(remaining, 1.0 / (math.e * rate))
                col_input.append(i)
                col_rate.append(rate)
                col_p.append(p)
                col_q.append(q)
                col_keep.append(bound >= _NEGLIGIBLE)
    if col_input:
        keep = np.column_stack(col_keep)
        rows, cols = np.nonzero(keep)
        pm, qm = np.column_stack(col_p), np.column_stack(col_q)
        term_data = np.column_stack([B[rows], np.asarray(col_rate)[cols],
                                     pm[rows, cols], qm[rows, cols]])
        term_input = np.asarray(col_input, dtype=np.int32)[cols]
        per_seg = keep.sum(axis=1)
    else:
        term_data = np.empty((0, 4))
        term_input = np.empty(0, dtype=np.int32)
        per_seg = np.zeros(n_seg, dtype=np.int64)
    term_ptr = np.concatenate([[0], np.cumsum(per_seg)]).astype(np.int32)
    return const, term_ptr, term_input.astype(np.int32), term_data.reshape(-1, 4)


def _assemble_jumps(components: Sequence[_Component], grid: _Grid):
    """``jump_ptr``, ``jump_target``, ``jump_kind``, ``jump_value`` of a schedule."""
    n_seg = grid.boundaries.size - 1
    t_parts, kind_parts, value_parts, targets = [np.empty(0)], [np.empty(0, np.int32)], [np.empty(0)], []
    for c in components:
        if isinstance(c, Jumps):
            t = np.asarray(c.times, dtype=float)
            t_parts.append(t)
            kind_parts.append(np.full(t.size, _JUMP_MODES[c.mode], dtype=np.int32))
            value_parts.append(_values(c.amount, t.size))
            targets.extend([c.species] * t.size)
    t = np.concatenate(t_parts)
    kind = np.concatenate(kind_parts)
    value = np.concatenate(value_parts)
    idx = grid.index(t)
    keep = np.flatnonzero((idx >= 0) & (idx < n_seg))
    order = keep[np.lexsort((keep, t[keep], idx[keep]))]
    jump_ptr = np.concatenate([[0], np.cumsum(np.bincount(idx[order], minlength=n_seg))])
    return (jump_ptr.astype(np.int32), tuple(targets[j] for j in order.tolist()),
            kind[order].astype(np.int32), value[order].astype(float))


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, repr=False)
class Protocol:
    """An immutable collection of stimulus components.

    Parameters
    ----------
    components : iterable of components
        Made by :func:`pulses`, :func:`steps`, :func:`ramp`, :func:`waveform`,
        :func:`wash_in` and :func:`jumps`. Additive components on the same
        input add up; an input may have at most one clamp (steps or ramp).
        Stored as a tuple.

    Notes
    -----
    ``p1 + p2`` is the protocol with the components of ``p1`` then ``p2``
    (order matters only for jumps at the same time). See the module docstring
    for units and conventions.

    Examples
    --------
    >>> p = Protocol([pulses("glu", [10.0, 20.0])]) + Protocol([jumps("Ca", [15.0], 0.1)])
    >>> len(p), p.inputs, p.species
    (2, ('glu',), ('Ca',))
    >>> p.breakpoints(0.0, 100.0).tolist()
    [0.0, 10.0, 11.0, 15.0, 20.0, 21.0, 100.0]
    """

    components: tuple = ()

    def __post_init__(self):
        if isinstance(self.components, (_Component, Protocol)):
            raise ProtocolError("Protocol: `components` must be a list of components, e.g. "
                                "Protocol([pulses(...)]); combine protocols with p1 + p2")
        comps = tuple(self.components)
        for c in comps:
            if not isinstance(c, _Component):
                hint = "; combine protocols with p1 + p2" if isinstance(c, Protocol) else ""
                raise ProtocolError(f"Protocol: not a protocol component: {c!r} (use pulses(), "
                                    f"steps(), ramp(), waveform(), wash_in() or jumps()){hint}")
        clamps = {}
        for c in comps:
            if c._clamp:
                if c.input in clamps:
                    raise ProtocolError(f"Protocol: input `{c.input}` is clamped by both "
                                        f"{clamps[c.input]._label} and {c._label}; an input can have "
                                        f"only one steps/ramp component (a ramp with a repeated "
                                        f"time makes a step)")
                clamps[c.input] = c
        object.__setattr__(self, "components", comps)

    @classmethod
    def empty(cls) -> "Protocol":
        """The protocol with no components (every input at its default, no jumps).

        Examples
        --------
        >>> len(Protocol.empty())
        0
        """
        return cls(())

    def __add__(self, other):
        if not isinstance(other, Protocol):
            return NotImplemented
        return Protocol(self.components + other.components)

    def __len__(self) -> int:
        return len(self.components)

    def __repr__(self) -> str:
        inner = ", ".join(f"{c._label}({c.target!r})" for c in self.components)
        return f"Protocol([{inner}])"

    @property
    def inputs(self) -> tuple:
        """Names of the inputs driven by the protocol, in order of first appearance."""
        return tuple(dict.fromkeys(c.input for c in self.components if not isinstance(c, Jumps)))

    @property
    def species(self) -> tuple:
        """Names of the species the protocol jumps, in order of first appearance."""
        return tuple(dict.fromkeys(c.species for c in self.components if isinstance(c, Jumps)))

    def describe(self) -> str:
        """A short human-readable summary, one line per component.

        Examples
        --------
        >>> print(Protocol([pulses("glu", [10.0]), steps("V", [0.0], [-70.0])]).describe())
        Protocol with 2 components:
          pulses on `glu`: 1 x amplitude 1, width 1; t = 10
          steps on `V`: -70 from 0
        """
        n = len(self.components)
        lines = [f"Protocol with {n} component{'' if n == 1 else 's'}" + (":" if n else "")]
        lines += ["  " + c.describe() for c in self.components]
        return "\n".join(lines)

    def _event_times(self) -> np.ndarray:
        return np.concatenate([np.empty(0)] + [c._event_times() for c in self.components])

    def breakpoints(self, t0: float, t_end: float) -> np.ndarray:
        """Sorted segment boundaries on ``[t0, t_end]``: ``t0``, every discontinuity inside, ``t_end``.

        Times closer than ``1e-12 * max(|t0|, |t_end|, t_end - t0)`` are merged.

        Examples
        --------
        >>> Protocol([pulses("glu", [-0.5, 5.0])]).breakpoints(0.0, 10.0).tolist()
        [0.0, 0.5, 5.0, 6.0, 10.0]
        """
        t0, t_end = _window(t0, t_end)
        return _make_grid(t0, t_end, self._event_times()).boundaries.copy()

    def check_window(self, t0: float, t_end: float) -> None:
        """Refuse pulses that cannot act on ``[t0, t_end]``: a pulse of zero width, or a pulses component
        none of whose pulses overlaps the window (a typo in the times or the window, usually).

        :meth:`schedule` accepts both (they simply add nothing); :func:`kinetics.simulate`, :func:`kinetics.sweep`
        and fitting datasets call this first, so such a stimulus is an error rather than a silent no-op.

        Raises
        ------
        ProtocolError

        Examples
        --------
        >>> Protocol([pulses("glu", [500.0])]).check_window(0.0, 100.0)   # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        kinetics.errors.ProtocolError: pulses on `glu`: every pulse lies outside the simulated window [0, 100] ...
        """
        t0, t_end = _window(t0, t_end)
        for c in self.components:
            if not isinstance(c, Pulses) or not c.times:
                continue
            t = np.asarray(c.times, dtype=float)
            w = _values(c.width, t.size)
            zero = np.flatnonzero(w == 0)
            if zero.size:
                raise ProtocolError(f"pulses on `{c.input}`: the pulse at t = {_fmt(t[zero[0]])} has zero width "
                                    f"(no effect); remove it or give it a width > 0")
            live = (t + w > t0) & (t < t_end)
            if not live.any():
                raise ProtocolError(f"pulses on `{c.input}`: every pulse lies outside the simulated window "
                                    f"[{_fmt(t0)}, {_fmt(t_end)}] (the first starts at t = {_fmt(t[0])} and "
                                    f"ends at t = {_fmt(t[0] + w[0])})")

    def schedule(self, t0: float, t_end: float, inputs: Sequence[str],
                 defaults: Mapping[str, float], states: Sequence[str] = ()) -> Schedule:
        """Compile the protocol on ``[t0, t_end]`` for a model's inputs and species.

        Parameters
        ----------
        t0, t_end : float
            Simulation window, finite, ``t_end > t0``.
        inputs : sequence of str
            The model's input names; column order of the schedule's ``const``.
        defaults : mapping of str to float
            Each input's value where the protocol does not set it (exactly the
            keys of ``inputs``).
        states : sequence of str, optional
            The model's species names, targets of jumps.

        Returns
        -------
        Schedule
            Boundaries at every breakpoint; per segment the constant part of each
            input plus at most one exponential-polynomial term per (input, rate)
            with ``t_ref`` at the segment start; jumps at segment starts. Its
            arrays are read-only.

        Raises
        ------
        ProtocolError
            Bad window, a component driving an input not in ``inputs``, a jump of
            a species not in ``states``, missing or unknown defaults.

        Examples
        --------
        >>> p = Protocol([waveform("V", [1.0], exponential(10.0, 2.0))])
        >>> s = p.schedule(0.0, 5.0, inputs=["V"], defaults={"V": -70.0})
        >>> s.boundaries.tolist(), s.input_values([0.5, 1.0]).ravel().tolist()
        ([0.0, 1.0, 5.0], [-70.0, -60.0])
        """
        t0, t_end = _window(t0, t_end)
        inputs = _names("inputs", inputs)
        states = _names("states", states)
        default = _default_vector(inputs, defaults)
        for c in self.components:
            if isinstance(c, Jumps):
                if c.species not in states:
                    raise ProtocolError(f"protocol jumps unknown species `{c.species}`"
                                        f"{did_you_mean(c.species, states)}")
            elif c.input not in inputs:
                raise ProtocolError(f"protocol drives unknown input `{c.input}`"
                                    f"{did_you_mean(c.input, inputs)}")
        grid = _make_grid(t0, t_end, self._event_times())
        pieces = [pc for c in self.components for pc in c._pieces()]
        const, term_ptr, term_input, term_data = _assemble_inputs(pieces, grid, inputs, default)
        jump_ptr, jump_target, jump_kind, jump_value = _assemble_jumps(self.components, grid)
        return Schedule(
            inputs=inputs,
            boundaries=_readonly(grid.boundaries.copy()),
            const=_readonly(const),
            term_ptr=_readonly(term_ptr),
            term_input=_readonly(term_input),
            term_data=_readonly(term_data),
            jump_ptr=_readonly(jump_ptr),
            jump_target=jump_target,
            jump_kind=_readonly(jump_kind),
            jump_value=_readonly(jump_value),
        )
