"""The pharmacology experiment: tLTD and tLTP of the L5 synapse under every condition of Thomazeau et al. (2025).

For each condition of :data:`models.manipulations.CONDITIONS` the composed
synapse (:mod:`models.synapse`) is paired twice with the protocol of Sjostrom
et al. (2001) — 5 pairs at the pairing frequency, repeated 15 times every 10 s:

* **tLTD**: post-before-pre, ``dt = -25 ms`` at 20 Hz;
* **tLTP**: pre-before-post, ``dt = +10 ms`` at 50 Hz;

and the change of synaptic strength (after/before, 1 = no change) is reported.
:data:`EXPECTED` is the experimental table (nmdakin DOMAIN.md section 6, from
Thomazeau et al. 2025 and the eLife Insight): ``"present"``/``"intact"`` (a
clear change), ``"abolished"`` (no change) or ``None`` (not tested).

Examples
--------
>>> from models import pharmacology
>>> r = pharmacology.pharmacology(["control", "AP5"])       # doctest: +SKIP
>>> [c["name"] for c in r["conditions"]]                    # doctest: +SKIP
['control', 'AP5']
"""
from __future__ import annotations

import io

from kinetics._io import atomic_write_bytes
from kinetics.errors import ArgumentError

from . import manipulations as mp

__all__ = ["pharmacology", "plot_pharmacology", "EXPECTED", "TLTD_PROTOCOL", "TLTP_PROTOCOL"]

#: (dt_ms, freq_hz) of the tLTD and tLTP protocols.
TLTD_PROTOCOL = (-25.0, 20.0)
TLTP_PROTOCOL = (10.0, 50.0)

#: condition -> (tLTD, tLTP) outcome in the experiments (DOMAIN.md 6; None: not tested).
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
_SOURCE = ("Thomazeau A, Rannio S, Brock JA, Wong HH, Sjostrom PJ (2025) eLife 14:RP106284; table as in nmdakin "
           "DOMAIN.md section 6")


def _progress(items, total, progress):
    from tqdm.auto import tqdm

    return tqdm(items, total=total, desc="pharmacology", disable=None if progress is None else not progress,
                leave=False)


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
        ``{"conditions": [{"name", "tLTD", "tLTP"}, ...], "model", "tLTD_protocol", "tLTP_protocol",
        "expected", "source"}``; ``tLTD``/``tLTP`` are the changes after/before.
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
    rows = []
    for name in _progress(names, len(names), progress):
        rows.append({"name": name,
                     "tLTD": float(synapse.run(*ltd_spikes, name, n_points=3).change),
                     "tLTP": float(synapse.run(*ltp_spikes, name, n_points=3).change)})
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
    on the dashed line at 1).
    """
    import numpy as np
    from matplotlib.figure import Figure

    rows = result["conditions"]
    names = [r["name"] for r in rows]
    x = np.arange(len(rows))
    fig = Figure(figsize=(max(6.0, 0.9 * len(rows) + 2.0), 4.5), constrained_layout=True)
    ax = fig.add_subplot(1, 1, 1)
    w = 0.38
    ax.bar(x - w / 2, [r["tLTD"] for r in rows], w, color="tab:blue", label="tLTD (-25 ms, 20 Hz)")
    ax.bar(x + w / 2, [r["tLTP"] for r in rows], w, color="tab:red", label="tLTP (+10 ms, 50 Hz)")
    ax.axhline(1.0, color="0.4", lw=0.8, ls="--")
    expected = result.get("expected", {})
    for i, n in enumerate(names):
        exp = expected.get(n, {})
        for dx, key in ((-w / 2, "tLTD"), (w / 2, "tLTP")):
            label = exp.get(key)
            if label:
                ax.text(i + dx, 0.02, label, rotation=90, ha="center", va="bottom", fontsize=7, color="white")
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("change in synaptic strength (after/before)")
    ax.set_title("L5 synapse model: tLTD and tLTP under each condition\n(bar labels: experimental outcome, "
                 "Thomazeau et al. 2025)", fontsize="medium")
    top = max([1.2] + [r[k] for r in rows for k in ("tLTD", "tLTP")])
    ax.set_ylim(0.0, 1.25 * top)
    ax.legend(fontsize="small", loc="upper center", ncol=2)
    if path is not None:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=120)
        atomic_write_bytes(path, buf.getvalue())
    return fig
