"""In-silico plasticity experiments: STDP curves and the frequency dependence of pairing.

Each experiment runs a plasticity model of the registry (:mod:`models.registry`) over a
protocol family and returns a plain dict — exactly what the command line writes
as JSON — so results can be saved, compared and plotted.

``stdp``
    ``pairs`` pre/post pairs at ``freq_hz`` for each timing ``dt = t_post - t_pre``
    (> 0: pre before post). Graupner & Brunel 2012 (Fig. 2) use 60 pairs at 1 Hz.
``frequency``
    The Sjostrom, Turrigiano & Nelson 2001 protocol: bursts of ``pairs`` = 5
    pairs at ``freq_hz``, repeated ``bursts`` = 15 times every 10 s, for each
    timing in ``dt_ms`` (+10 and -10 ms). When 5 pairs at a low frequency do
    not fit in the 10 s burst period (0.1 Hz), the 75 pairs are delivered as
    one regular train at that frequency: the burst structure is then moot (a
    modelling choice of nmdakin, not taken from Sjostrom et al. 2001).

Examples
--------
>>> from models import experiments
>>> r = experiments.stdp(dt_ms=[-20, 20])
>>> r["change"][0] < 1 < r["change"][1]
True
"""
from __future__ import annotations

import numpy as np

from kinetics.io import atomic_savefig
from kinetics.errors import ArgumentError, ProtocolError

from . import registry

__all__ = ["stdp", "frequency", "pairing_times", "sjostrom_protocol", "plot_stdp", "plot_frequency"]


def _numbers(values, what, *, positive=False) -> list:
    try:
        a = np.atleast_1d(np.asarray(values, dtype=float))
    except (TypeError, ValueError):
        raise ArgumentError(f"`{what}` must be numbers, got {values!r}") from None
    if a.ndim != 1 or a.size == 0:
        raise ArgumentError(f"`{what}` must be a non-empty 1-D sequence of numbers")
    if not np.all(np.isfinite(a)):
        raise ArgumentError(f"`{what}` must be finite")
    if positive and not np.all(a > 0):
        raise ArgumentError(f"`{what}` must be > 0, got {a.tolist()}")
    return [float(x) for x in a]


def _count(value, what, minimum=1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float)) or int(value) != value:
        raise ArgumentError(f"`{what}` must be an integer, got {value!r}")
    if int(value) < minimum:
        raise ArgumentError(f"`{what}` must be >= {minimum}, got {value}")
    return int(value)


def _progress(items, total, desc, progress):
    from tqdm.auto import tqdm

    return tqdm(items, total=total, desc=desc, disable=None if progress is None else not progress, leave=False)


def _prepare(model, set, method, condition, experiment):
    m = registry.get(model, kind="plasticity")
    resolved = m.resolve_set(set if set is not None else m.default_set_for(experiment))
    return m, resolved, m.check_method(method), m.check_condition(condition)


def _label(parameter_set):
    """The set's name for the JSON (a custom parameter-set object reports its ``name``)."""
    return parameter_set if parameter_set is None or isinstance(parameter_set, str) else parameter_set.name


def stdp(model="graupner-brunel-2012", set=None, dt_ms=np.arange(-100, 101, 5), freq_hz=1.0, pairs=60,
         method=None, condition=None, *, seed=None, progress=None, **options) -> dict:
    """Change of synaptic strength vs spike timing for a regular pairing protocol.

    Parameters
    ----------
    model : str or PlasticityModel
        A plasticity model of the registry (``models.available("plasticity")``), or a model instance.
    set : str, optional
        Parameter set (default: the model's default).
    dt_ms : array_like
        Timings ``t_post - t_pre`` (ms).
    freq_hz : float
        Pairing frequency.
    pairs : int
        Number of pairs.
    method : str, optional
        One of the model's methods (default: its first; Graupner-Brunel: ``"analytic"``, also ``"ode"``,
        ``"sde"``).
    condition : str, optional
        One of the model's conditions (default ``"control"``).
    seed : int, optional
        Seed of the random generator shared by all timings (stochastic methods).
    progress : bool, optional
        Progress bar (default: only on a terminal).
    **options
        Passed to the model (e.g. ``n_per_state``, ``step_ms`` for the SDE).

    Returns
    -------
    dict
        ``{"model", "set", "method", "condition", "freq_hz", "pairs", "dt_ms": [...], "change": [...]}``.
    """
    m, set_name, method, condition = _prepare(model, set, method, condition, "stdp")
    dts = _numbers(dt_ms, "dt_ms")
    freq = _numbers(freq_hz, "freq_hz", positive=True)
    if len(freq) != 1:
        raise ArgumentError("`freq_hz` of an STDP curve is one frequency")
    freq = freq[0]
    n = _count(pairs, "pairs")
    rng = np.random.default_rng(seed)
    changes = []
    for dt in _progress(dts, len(dts), f"stdp {m.name}", progress):
        pre, post = pairing_times(n, freq, dt, t0=max(0.0, -dt))
        changes.append(float(m.change(pre, post, set=set_name, method=method, condition=condition, rng=rng,
                                      **options)))
    return {"model": m.name, "set": _label(set_name), "method": method, "condition": condition, "freq_hz": freq,
            "pairs": n, "dt_ms": dts, "change": changes}


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
    n_pairs = _count(n_pairs, "n_pairs")
    n_bursts = _count(n_bursts, "n_bursts")
    freq_hz = _numbers(freq_hz, "freq_hz", positive=True)[0]
    dt_ms = _numbers(dt_ms, "dt_ms")[0]
    t0 = _numbers(t0, "t0")[0]
    span = (n_pairs - 1) * 1000.0 / freq_hz + abs(dt_ms)
    if burst_period is None:
        if n_bursts > 1:
            raise ProtocolError(f"{where}: `burst_period` is required when n_bursts > 1")
        burst_period = 0.0
    else:
        burst_period = _numbers(burst_period, "burst_period", positive=True)[0]
        if n_bursts > 1 and not burst_period > span:
            raise ProtocolError(f"{where}: `burst_period` ({_g(burst_period)} ms) must be longer "
                                f"than one burst ({_g(span)} ms) so bursts do not overlap")
    burst = t0 + np.arange(n_pairs, dtype=float) * 1000.0 / freq_hz
    pre = (np.arange(n_bursts, dtype=float)[:, None] * burst_period + burst[None, :]).ravel()
    post = pre + dt_ms
    first = min(pre[0], post[0])
    if first < 0:
        raise ProtocolError(f"{where}: the first spike would be at t = {_g(first)} ms (< 0); "
                            f"choose t0 >= {_g(t0 - first)}")
    return pre, post


def _g(x) -> str:
    return f"{x:g}"


def sjostrom_protocol(dt_ms: float, freq_hz: float, pairs: int = 5, bursts: int = 15, burst_period_ms: float = 10000.0):
    """Pre/post spike times (ms) of the Sjostrom et al. 2001 pairing protocol (see the module docstring).

    Examples
    --------
    >>> pre, post = sjostrom_protocol(-10.0, 50.0)
    >>> len(pre), float(pre[5] - pre[0]), float(post[0] - pre[0])
    (75, 10000.0, -10.0)
    """
    span = (pairs - 1) * 1000.0 / freq_hz + abs(dt_ms)
    t0 = max(0.0, -dt_ms)
    if bursts > 1 and span < burst_period_ms:
        return pairing_times(pairs, freq_hz, dt_ms, t0=t0, n_bursts=bursts, burst_period=burst_period_ms)
    return pairing_times(pairs * bursts, freq_hz, dt_ms, t0=t0)


def frequency(model="graupner-brunel-2012", set=None, dt_ms=(10.0, -10.0), freq_hz=(0.1, 10.0, 20.0, 40.0, 50.0),
              pairs=5, bursts=15, burst_period_ms=10000.0, method=None, condition=None, *, seed=None,
              progress=None, **options) -> dict:
    """Change of synaptic strength vs pairing frequency (Sjostrom et al. 2001 protocol).

    The default set is the model's choice for this experiment (Graupner-Brunel:
    ``cortical_slices``, the paper's fit to these data). The Graupner-Brunel
    ``"analytic"`` method takes the times above threshold from the exact calcium
    of this burst protocol; the paper's own Fig. 4 computation (75 regular
    pairs, periodic calcium) is :func:`models.graupner_brunel2012.pairing_prediction`.
    At 0.1 Hz the protocol lasts ~2 ``tau`` and the analysis overestimates LTD
    (see :mod:`models.graupner_brunel2012`); ``method="sde"`` runs the full model.

    Returns
    -------
    dict
        ``{"model", "set", "method", "condition", "pairs", "bursts", "burst_period_ms", "freq_hz": [...],
        "dt_ms": [...], "change": [[...]]}`` with one row of ``change`` per ``dt_ms`` and one column per
        ``freq_hz``.
    """
    m, set_name, method, condition = _prepare(model, set, method, condition, "frequency")
    dts = _numbers(dt_ms, "dt_ms")
    freqs = _numbers(freq_hz, "freq_hz", positive=True)
    n_pairs = _count(pairs, "pairs")
    n_bursts = _count(bursts, "bursts")
    period = _numbers(burst_period_ms, "burst_period_ms", positive=True)[0]
    rng = np.random.default_rng(seed)
    grid = [(dt, f) for dt in dts for f in freqs]
    flat = []
    for dt, f in _progress(grid, len(grid), f"frequency {m.name}", progress):
        pre, post = sjostrom_protocol(dt, f, n_pairs, n_bursts, period)
        flat.append(float(m.change(pre, post, set=set_name, method=method, condition=condition, rng=rng,
                                   **options)))
    rows = [flat[i * len(freqs):(i + 1) * len(freqs)] for i in range(len(dts))]
    return {"model": m.name, "set": _label(set_name), "method": method, "condition": condition, "pairs": n_pairs,
            "bursts": n_bursts, "burst_period_ms": period, "freq_hz": freqs, "dt_ms": dts, "change": rows}


# --------------------------------------------------------------------------- figures
def _figure():
    from matplotlib.figure import Figure  # no pyplot: the user's backend is left alone; PNG via Agg

    fig = Figure(figsize=(5.5, 4.0), constrained_layout=True)
    return fig, fig.add_subplot(1, 1, 1)


def _save(fig, path):
    if path is not None:
        atomic_savefig(fig, path, dpi=120)
    return fig


def _title(result):
    cond = result.get("condition")
    extra = f", {cond}" if cond and cond != "control" else ""
    return f"{result['model']} [{result['set']}{extra}], {result['method']}"


def plot_stdp(result: dict, path=None):
    """Figure of an :func:`stdp` result (written as PNG to ``path`` if given); returns the matplotlib Figure."""
    fig, ax = _figure()
    ax.axhline(1.0, color="0.6", lw=0.8, ls="--")
    ax.axvline(0.0, color="0.6", lw=0.8, ls="--")
    ax.plot(result["dt_ms"], result["change"], "o-", ms=3)
    ax.set_xlabel("dt = t_post - t_pre (ms)")
    ax.set_ylabel("change in synaptic strength (after/before)")
    ax.set_title(f"{_title(result)}\n{result['pairs']} pairs at {result['freq_hz']:g} Hz", fontsize="medium")
    return _save(fig, path)


def plot_frequency(result: dict, path=None):
    """Figure of a :func:`frequency` result (PNG to ``path`` if given); returns the matplotlib Figure."""
    fig, ax = _figure()
    ax.axhline(1.0, color="0.6", lw=0.8, ls="--")
    for dt, row in zip(result["dt_ms"], result["change"]):
        ax.plot(result["freq_hz"], row, "o-", label=f"dt = {dt:+g} ms")
    if min(result["freq_hz"]) > 0 and max(result["freq_hz"]) / min(result["freq_hz"]) > 20:
        ax.set_xscale("log")
    ax.set_xlabel("pairing frequency (Hz)")
    ax.set_ylabel("change in synaptic strength (after/before)")
    ax.set_title(f"{_title(result)}\n{result['pairs']} pairs x {result['bursts']} bursts", fontsize="medium")
    ax.legend(fontsize="small")
    return _save(fig, path)
