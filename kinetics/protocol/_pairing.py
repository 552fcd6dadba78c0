"""Spike-timing pairing protocols (STDP): pre- and postsynaptic spike times.

Biology rather than engine: kept here, re-exported by :mod:`kinetics.protocol`, until it moves to
:mod:`models.experiments`.
"""
from __future__ import annotations

import numpy as np

from ..errors import ProtocolError
from ._validate import _count, _fmt, _number


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
