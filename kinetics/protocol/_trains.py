"""Spike trains: validated time arrays for the ``times`` of components."""
from __future__ import annotations

import numpy as np

from ._validate import _array, _count, _number


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
