"""The pharmacology experiment: tLTD and tLTP of the L5 synapse under every condition of Thomazeau et al. (2025).

For each condition of :data:`models.manipulations.CONDITIONS` the composed
synapse (:mod:`models.synapse`) is paired twice with the protocol of Sjostrom
et al. (2001) — 5 pairs at the pairing frequency, repeated 15 times every 10 s:

* **tLTD**: post-before-pre, ``dt = -25 ms`` at 20 Hz;
* **tLTP**: pre-before-post, ``dt = +10 ms`` at 50 Hz;

and the change of synaptic strength (after/before, 1 = no change) is reported.

A condition is *represented* in the model when its manipulation changes
something in the synapse scheme (:func:`represented`; ``control``, the
unmanipulated model, is represented by definition). A manipulation with no
target in the scheme — the postsynaptic JNK2-STX1a peptide: no scheme has a
postsynaptic JNK2-STX1a target — leaves the scheme as it is, so its row is the
control run and says nothing about the experiment; such rows carry
``"represented": false`` and the table and figure say so.
:data:`EXPECTED` is the experimental table (Thomazeau et al. 2025, eLife
14:RP106284, also summarised in the eLife Insight by Smith 2025): ``"present"``/``"intact"`` (a
clear change), ``"abolished"`` (no change) or ``None`` (not tested).

Examples
--------
>>> from models import pharmacology
>>> r = pharmacology.pharmacology(["control", "AP5"])       # doctest: +SKIP
>>> [c["name"] for c in r["conditions"]]                    # doctest: +SKIP
['control', 'AP5']
>>> pharmacology.represented("JNK2_STX1a_peptide_post")      # no postsynaptic JNK2-STX1a in the model
False
"""
from __future__ import annotations

from kinetics.io import atomic_savefig
from kinetics.errors import ArgumentError

from . import manipulations as mp

__all__ = ["pharmacology", "plot_pharmacology", "represented", "EXPECTED", "TLTD_PROTOCOL", "TLTP_PROTOCOL"]

#: (dt_ms, freq_hz) of the tLTD and tLTP protocols.
TLTD_PROTOCOL = (-25.0, 20.0)
TLTP_PROTOCOL = (10.0, 50.0)

#: condition -> (tLTD, tLTP) outcome in the experiments (Thomazeau et al. 2025; None: not tested).
EXPECTED = {
    "control": ("present", "present"),
    "pre_GluN1_KO": ("abolished", None),
    "post_GluN1_KO": ("intact", "abolished"),
    "MK801": ("intact", "abolished"),
    "7CK": ("intact", None),
    "AP5": ("abolished", "abolished"),
    "SP600125": ("abolished", None),
    "JNK2_STX1a_peptide_pre": ("abolished", None),
    "JNK2_STX1a_peptide_post": ("intact", None),
    "RIM1ab_KO": ("intact", None),
}
_SOURCE = ("Thomazeau A, Rannio S, Brock JA, Wong HH, Sjostrom PJ (2025) eLife 14:RP106284 (tLTD and tLTP "
           "outcome of each condition); Smith I (2025) eLife Insight on that study")


def represented(condition, scheme=None) -> bool:
    """Whether a condition changes anything in ``scheme`` (default: the composed synapse of :mod:`models.synapse`).

    ``condition`` is a name of :data:`models.manipulations.CONDITIONS` or a
    :class:`models.manipulations.Manipulation`. A manipulation with no targets
    at all (``control``) is the model itself, hence represented; any other is
    represented when it touches at least one parameter or input of the scheme
    (:meth:`models.manipulations.Manipulation.touched`).

    Examples
    --------
    >>> represented("AP5"), represented("JNK2_STX1a_peptide_post")
    (True, False)
    """
    m = condition if isinstance(condition, mp.Manipulation) else mp.get(condition)
    if not m.parameters and not m.inputs:
        return True
    if scheme is None:
        from . import synapse

        scheme = synapse.scheme()
    return bool(m.touched(scheme))


def _progress(items, total, progress):
    from kinetics.progress import progress_bar

    return progress_bar(items, total=total, desc="pharmacology", progress=progress)


def pharmacology(conditions=None, *, progress=None) -> dict:
    """The pharmacology table of the synapse model.

    Parameters
    ----------
    conditions : iterable of str, optional
        Condition names (default: all ten, in the table's order).
    progress : bool, optional
        Progress bar (default: only on a terminal).

    Returns
    -------
    dict
        ``{"conditions": [{"name", "tLTD", "tLTP", "represented"}, ...], "model", "tLTD_protocol",
        "tLTP_protocol", "expected", "source"}``; ``tLTD``/``tLTP`` are the changes after/before;
        ``represented`` is False for a condition whose manipulation has no target in the synapse scheme
        (:func:`represented`): its numbers are those of the unmanipulated model, not a reproduction.
    """
    from . import synapse
    from .experiments import sjostrom_protocol

    names = list(mp.CONDITION_NAMES if conditions is None else conditions)
    if not names:
        raise ArgumentError("pharmacology: give at least one condition")
    for n in names:
        mp.get(n)
    ltd_spikes = sjostrom_protocol(*TLTD_PROTOCOL)
    ltp_spikes = sjostrom_protocol(*TLTP_PROTOCOL)
    base = synapse.scheme()
    rows = []
    for name in _progress(names, len(names), progress):
        rows.append({"name": name,
                     "tLTD": float(synapse.run(*ltd_spikes, name, n_points=3).change),
                     "tLTP": float(synapse.run(*ltp_spikes, name, n_points=3).change),
                     "represented": represented(name, base)})
    proto = "Sjostrom et al. 2001: 5 pairs at {f:g} Hz, dt = {dt:+g} ms, repeated 15 times every 10 s"
    return {
        "conditions": rows,
        "model": "synapse",
        "tLTD_protocol": proto.format(dt=TLTD_PROTOCOL[0], f=TLTD_PROTOCOL[1]),
        "tLTP_protocol": proto.format(dt=TLTP_PROTOCOL[0], f=TLTP_PROTOCOL[1]),
        "expected": {n: {"tLTD": EXPECTED[n][0], "tLTP": EXPECTED[n][1]} for n in names},
        "source": _SOURCE,
    }


def plot_pharmacology(result: dict, path=None):
    """Bar chart of a :func:`pharmacology` result (PNG to ``path`` if given); returns the matplotlib Figure.

    Bars: the model's tLTD (blue) and tLTP (red) change per condition; the
    experimental outcome is written under each bar ("abolished" bars should sit
    on the dashed line at 1). Conditions the model does not represent
    (``"represented": false``) are drawn hatched and pale and marked "not
    represented in the model".
    """
    from kinetics.plotstyle import style

    with style():
        fig = _draw_pharmacology(result)
    if path is not None:
        atomic_savefig(fig, path, dpi=120)
    return fig


def _draw_pharmacology(result):
    import numpy as np
    from matplotlib.figure import Figure

    rows = result["conditions"]
    names = [r["name"] for r in rows]
    x = np.arange(len(rows))
    # horizontal bars: condition names and outcome labels read horizontally at any number of conditions
    fig = Figure(figsize=(8.0, max(4.0, 0.75 * len(rows) + 1.8)), constrained_layout=True)
    ax = fig.add_subplot(1, 1, 1)
    h = 0.38
    y = -x  # first condition on top
    shown = [r.get("represented", True) for r in rows]
    expected = result.get("expected", {})
    top = max([1.2] + [r[k] for r in rows for k in ("tLTD", "tLTP")])
    for dy, key, color, label in ((h / 2, "tLTD", "C0", "tLTD (-25 ms, 20 Hz)"),
                                  (-h / 2, "tLTP", "C1", "tLTP (+10 ms, 50 Hz)")):
        bars = ax.barh(y + dy, [r[key] for r in rows], h, color=color, label=label)
        for bar, ok in zip(bars, shown):
            if not ok:
                bar.set_alpha(0.35)
                bar.set_hatch("//")
        for i, n in enumerate(names):
            outcome = expected.get(n, {}).get(key)
            if outcome:  # the experimental outcome, right of the bar end, on white: never under the hatching
                ax.text(rows[i][key] + 0.015 * top, y[i] + dy, f"expt: {outcome}", ha="left", va="center",
                        fontsize=8.5, color="0.1",
                        bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.85))
    ax.axvline(1.0, color="0.4", lw=0.8, ls="--", label="no change (1)")
    ax.set_yticks(y)
    ax.set_yticklabels(names)
    for i, ok in enumerate(shown):
        if not ok:
            ax.text(0.01 * top, y[i] - h - 0.04, "not represented in the model (hatched)", ha="left", va="top",
                    fontsize=8, color="0.25")
    ax.set_xlabel("change in synaptic strength [after/before]")
    ax.set_ylabel("condition")
    ax.set_title("L5 synapse model: tLTD and tLTP under each condition\nexpt: experimental outcome "
                 "(Thomazeau et al. 2025)\nhatched: condition not represented in the model")
    ax.set_xlim(0.0, 1.45 * top)
    ax.set_ylim(y[-1] - 0.75, y[0] + 0.6)
    ax.legend(loc="lower right")
    return fig
