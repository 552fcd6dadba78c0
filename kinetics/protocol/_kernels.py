"""Spike-triggered waveform kernels (:func:`exponential`, :func:`alpha`, :func:`biexponential`) for :func:`waveform`."""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ProtocolError
from ._validate import _fmt, _number


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
