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

:func:`sjostrom2001_data` returns the published points of that experiment
(package data ``models/data/l5_plasticity.json``); :func:`plot_frequency` draws
them beside the model when the protocol is theirs.

Figures (:func:`plot_stdp`, :func:`plot_frequency`) say in the title which
model, parameter set and method they show, and in a caption under the axes
what the method computes, what a flat stretch at change = 1 means for that
model (:data:`NO_CHANGE_NOTES`), and which data are shown (or why none).

Examples
--------
>>> from models import experiments
>>> r = experiments.stdp(dt_ms=[-20, 20])
>>> r["change"][0] < 1 < r["change"][1]
True
"""
from __future__ import annotations

import functools
import json
import textwrap
from pathlib import Path

import numpy as np

from kinetics.io import atomic_savefig
from kinetics.plotstyle import label, style
from kinetics.errors import ArgumentError, ProtocolError

from . import registry

__all__ = ["stdp", "frequency", "pairing_times", "sjostrom_protocol", "sjostrom2001_data", "plot_stdp",
           "plot_frequency", "NO_CHANGE_NOTES", "l5_data"]

#: The package data file of published L5 plasticity numbers.
L5_DATA = Path(__file__).parent / "data" / "l5_plasticity.json"

#: What a flat stretch at change = 1 means, per model (figure captions); other models get ``NO_CHANGE_NOTES[None]``.
NO_CHANGE_NOTES = {
    "graupner-brunel-2012": "change = 1 (flat) means calcium never rose above the depression threshold theta_d "
                            "(so not above theta_p either): the efficacy did not move. Near 1 with calcium above "
                            "threshold, potentiation and depression balance.",
    "synapse": "change = 1 (flat) means neither arm acted: the NMDA-receptor calcium stayed below the potentiation "
               "threshold theta_p (no tLTP), and no retrograde eCB signal of a postsynaptic spike preceded "
               "presynaptic glutamate (no presynaptic tLTD, which needs post-before-pre).",
    None: "change = 1 (flat): the protocol leaves the synaptic strength unchanged.",
}


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
    from kinetics.progress import progress_bar

    return progress_bar(items, total=total, desc=desc, progress=progress)


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
        One of the model's methods (default: its first). Graupner-Brunel: ``"exact"`` (default),
        ``"periodic"`` (the paper's Fig. 2 computation; equal to ``"exact"`` within 1e-9 for 60 pairs at
        1 Hz), ``"ode"``, ``"sde"``; ``"analytic"`` is the former name of ``"exact"``.
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
    ``cortical_slices``, the paper's fit to these data). Graupner-Brunel methods:
    ``"exact"`` (default) takes the times above threshold from the exact calcium
    of this burst protocol; ``"periodic"`` is the paper's own Fig. 4 computation
    (75 regular pairs at the pairing frequency, periodic calcium;
    :func:`models.graupner_brunel2012.periodic_change`), up to 0.157 above
    ``"exact"`` at 40 Hz; ``"ode"`` the deterministic limit; ``"sde"`` the full
    stochastic model. At 0.1 Hz the protocol lasts ~2 ``tau`` and both analytic
    methods overestimate LTD (see :mod:`models.graupner_brunel2012`).

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


# --------------------------------------------------------------------------- published data
@functools.lru_cache(maxsize=1)
def l5_data() -> dict:
    """The published L5 PC->PC plasticity numbers of the package data file ``models/data/l5_plasticity.json``
    (Sjostrom et al. 2001, Brock et al. 2020, Thomazeau et al. 2025; each entry names its source). Cached: do
    not modify it (:func:`sjostrom2001_data` returns a copy)."""
    return json.loads(L5_DATA.read_text(encoding="utf-8"))


def sjostrom2001_data() -> dict:
    """Sjostrom, Turrigiano & Nelson 2001 (Neuron 32:1149): plasticity vs pairing frequency at +10 and -10 ms.

    Read from the package data file ``models/data/l5_plasticity.json`` (key
    ``sjostrom2001``; its ``source`` says where the numbers come from).

    Returns
    -------
    dict
        ``{"source": str, "protocol": {"pairs_per_burst", "bursts", "burst_period_ms"},
        "points": [{"freq_hz", "dt_ms", "change", "sem"}, ...]}`` (a fresh copy; ``change`` is
        after/before, ``sem`` its standard error of the mean).

    Examples
    --------
    >>> d = sjostrom2001_data()
    >>> len(d["points"]), d["protocol"]["pairs_per_burst"], d["protocol"]["bursts"]
    (10, 5, 15)
    >>> [(p["dt_ms"], p["change"], p["sem"]) for p in d["points"] if p["freq_hz"] == 40]
    [(10.0, 1.53, 0.11), (-10.0, 1.56, 0.32)]
    """
    raw = l5_data()["sjostrom2001"]
    proto = raw["protocol"]
    return {"source": raw["source"],
            "protocol": {"pairs_per_burst": int(proto["pairs_per_burst"]), "bursts": int(proto["bursts"]),
                         "burst_period_ms": float(proto["burst_period_ms"])},
            "points": [{k: float(pt[k]) for k in ("freq_hz", "dt_ms", "change", "sem")} for pt in raw["points"]]}


# --------------------------------------------------------------------------- figures
_CAPTION_WIDTH = 106     # characters per caption line (fontsize 8 on a 6.4 in wide figure)


def _figure(caption_lines: int):
    from matplotlib.figure import Figure  # no pyplot: the user's backend is left alone; PNG via Agg

    height = 4.2 + 0.15 * caption_lines
    fig = Figure(figsize=(6.4, height), layout="constrained")
    fig.get_layout_engine().set(rect=(0.0, (0.15 * caption_lines + 0.1) / height, 1.0,
                                      1.0 - (0.15 * caption_lines + 0.1) / height))
    return fig, fig.add_subplot(1, 1, 1)


def _save(fig, path):
    if path is not None:
        atomic_savefig(fig, path, dpi=120)
    return fig


def _model(result):
    """The registry model of a result (``None`` for a model the registry does not know)."""
    try:
        return registry.get(result["model"], kind="plasticity")
    except ArgumentError:
        return None


def _title(result, protocol: str) -> str:
    cond = result.get("condition")
    extra = f", condition {cond}" if cond and cond != "control" else ""
    return f"{result['model']}: set {result['set']}, method {result['method']}{extra}\n{protocol}"


def _caption(result, data_note: str, note=None) -> str:
    """Caption text: what the method computes, what change = 1 means, which data are shown, ``note``."""
    m = _model(result)
    parts = []
    method_note = m.method_notes.get(result["method"], "") if m is not None else ""
    if method_note:
        parts.append(f"Method {result['method']}: {method_note}.")
    parts.append(NO_CHANGE_NOTES.get(result["model"], NO_CHANGE_NOTES[None]))
    parts.append(data_note)
    if note:
        parts.append(str(note))
    return "\n".join(textwrap.fill(p, _CAPTION_WIDTH) for p in parts)


def _draw_caption(fig, text):
    fig.text(0.01, 0.01, text, ha="left", va="bottom", fontsize=8, wrap=False)


def _stdp_data_points(result) -> list:
    """The Sjostrom et al. 2001 points whose protocol is the STDP protocol of ``result`` (same spike trains)."""
    d = sjostrom2001_data()
    proto = d["protocol"]
    lo, hi = min(result["dt_ms"]), max(result["dt_ms"])
    out = []
    for pt in d["points"]:
        if not (pt["freq_hz"] == result["freq_hz"] and lo <= pt["dt_ms"] <= hi):
            continue
        theirs = sjostrom_protocol(pt["dt_ms"], pt["freq_hz"], proto["pairs_per_burst"], proto["bursts"],
                                   proto["burst_period_ms"])
        ours = pairing_times(result["pairs"], result["freq_hz"], pt["dt_ms"], t0=max(0.0, -pt["dt_ms"]))
        if all(a.shape == b.shape and np.allclose(a, b) for a, b in zip(theirs, ours)):
            out.append(pt)
    return out


def _frequency_data_matches(result) -> bool:
    proto = sjostrom2001_data()["protocol"]
    return (result.get("pairs") == proto["pairs_per_burst"] and result.get("bursts") == proto["bursts"]
            and result.get("burst_period_ms") == proto["burst_period_ms"])


def _protocol_words(pairs, bursts, period_ms) -> str:
    return f"{pairs} pairs x {bursts} bursts every {period_ms / 1000.0:g} s"


@style()
def plot_stdp(result: dict, path=None, *, note=None):
    """Figure of an :func:`stdp` result (written as PNG to ``path`` if given); returns the matplotlib Figure.

    The title names the model, set and method; a caption under the axes says what
    the method computes, what a flat stretch at change = 1 means for the model,
    and ``note`` if given. Published points are drawn only where their protocol is
    this one: the Sjostrom et al. 2001 points (:func:`sjostrom2001_data`) when the
    STDP protocol produces their spike trains (75 regular pairs at 0.1 Hz, where
    their 5 x 15 bursts are one regular train); otherwise the caption says no data
    are shown and why.

    Examples
    --------
    >>> fig = plot_stdp(stdp(dt_ms=[-10.0, 10.0], freq_hz=0.1, pairs=75, progress=False))
    >>> fig.axes[0].containers[0].lines[0].get_xdata().tolist()   # Sjostrom et al. 2001 at 0.1 Hz, with SEM bars
    [10.0, -10.0]
    """
    d = sjostrom2001_data()
    points = _stdp_data_points(result)
    proto = d["protocol"]
    if points:
        data_note = (f"Points: Sjostrom et al. 2001 (mean +/- SEM), same spike trains "
                     f"({_protocol_words(proto['pairs_per_burst'], proto['bursts'], proto['burst_period_ms'])} at "
                     f"{result['freq_hz']:g} Hz is one regular train of {result['pairs']} pairs).")
    else:
        data_note = (f"No data shown: the published L5 STDP data nmdakin holds (Sjostrom et al. 2001) were recorded "
                     f"with {_protocol_words(proto['pairs_per_burst'], proto['bursts'], proto['burst_period_ms'])}"
                     f" at +/-10 ms (see nmdakin frequency), not {result['pairs']} regular pairs at "
                     f"{result['freq_hz']:g} Hz.")
    caption = _caption(result, data_note, note)
    fig, ax = _figure(caption.count("\n") + 1)
    ax.axhline(1.0, color="0.6", lw=0.8, ls="--")
    ax.axvline(0.0, color="0.6", lw=0.8, ls="--")
    ax.plot(result["dt_ms"], result["change"], "o-", ms=3, label="model")
    if points:
        ax.errorbar([p["dt_ms"] for p in points], [p["change"] for p in points], yerr=[p["sem"] for p in points],
                    fmt="s", color="k", mfc="white", capsize=3, label="Sjostrom et al. 2001 (mean +/- SEM)")
    ax.legend()
    ax.set_xlabel(label("dt = t_post - t_pre", "ms"))
    ax.set_ylabel(label("change in synaptic strength", "after/before"))
    ax.set_title(_title(result, f"{result['pairs']} regular pairs at {result['freq_hz']:g} Hz"))
    _draw_caption(fig, caption)
    return _save(fig, path)


@style()
def plot_frequency(result: dict, path=None, *, note=None):
    """Figure of a :func:`frequency` result (PNG to ``path`` if given); returns the matplotlib Figure.

    The title names the model, set and method; a caption under the axes says what
    the method computes and what a flat stretch at change = 1 means for the model.
    When the result's protocol is that of Sjostrom et al. 2001 (5 pairs x 15 bursts
    every 10 s) their points (:func:`sjostrom2001_data`, mean +/- SEM) are drawn for
    each plotted ``dt`` they measured (+10, -10 ms), in the colour of that curve;
    otherwise the caption says why they are not shown.

    Examples
    --------
    >>> r = frequency(freq_hz=[10.0, 40.0], method="periodic", progress=False)
    >>> fig = plot_frequency(r)
    >>> fig.axes[0].get_title().splitlines()[0]
    'graupner-brunel-2012: set cortical_slices, method periodic'
    >>> len(fig.axes[0].containers)          # Sjostrom et al. 2001 at +10 and -10 ms, with SEM bars
    2
    """
    d = sjostrom2001_data()
    proto = d["protocol"]
    theirs = _protocol_words(proto["pairs_per_burst"], proto["bursts"], proto["burst_period_ms"])
    matches = _frequency_data_matches(result)
    shown = [dt for dt in result["dt_ms"] if any(p["dt_ms"] == dt for p in d["points"])] if matches else []
    if shown:
        data_note = (f"Points: Sjostrom et al. 2001, L5 pairs (mean +/- SEM; {theirs}), in the colour of the "
                     f"curve with the same dt.")
    elif matches:
        data_note = "No data shown: Sjostrom et al. 2001 measured dt = +10 and -10 ms only."
    else:
        data_note = f"No data shown: Sjostrom et al. 2001 used {theirs}, not this protocol."
    caption = _caption(result, data_note, note)
    fig, ax = _figure(caption.count("\n") + 1)
    ax.axhline(1.0, color="0.6", lw=0.8, ls="--")
    for dt, row in zip(result["dt_ms"], result["change"]):
        (line,) = ax.plot(result["freq_hz"], row, "o-", label=f"model, dt = {dt:+g} ms")
        if dt in shown:
            pts = [p for p in d["points"] if p["dt_ms"] == dt]
            ax.errorbar([p["freq_hz"] for p in pts], [p["change"] for p in pts], yerr=[p["sem"] for p in pts],
                        fmt="s", color=line.get_color(), mfc="white", capsize=3,
                        label=f"Sjostrom 2001, dt = {dt:+g} ms")
    freqs = list(result["freq_hz"]) + ([p["freq_hz"] for p in d["points"]] if shown else [])
    if min(freqs) > 0 and max(freqs) / min(freqs) > 20:
        ax.set_xscale("log")
    ax.set_xlabel(label("pairing frequency", "Hz"))
    ax.set_ylabel(label("change in synaptic strength", "after/before"))
    ax.set_title(_title(result, _protocol_words(result["pairs"], result["bursts"], result["burst_period_ms"])))
    ax.legend()
    _draw_caption(fig, caption)
    return _save(fig, path)
