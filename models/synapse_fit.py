"""The fit of the L5 synapse (:mod:`models.synapse`) to published plasticity data, with :mod:`kinetics.fitting`.

The synapse's measured constants (receptor kinetics, Mg2+ block, calcium, release) come from their papers;
the constants of its signalling steps were never measured. This module fits those, jointly, to

* **Sjostrom, Turrigiano & Nelson (2001)**: the change of strength after pairing at +10 and -10 ms at 0.1,
  10, 20, 40 and 50 Hz (ten points, weighted by their standard errors);
* **Brock et al. (2020)**: tLTD 65 +- 5 % at 20 Hz, -25 ms;
* **Thomazeau et al. (2025)**: tLTD does not depend on the pairing frequency — read here as the same
  65 +- 5 % at -25 ms at 0.1, 1 and 10 Hz (a modelling reading of a qualitative statement, said so in the
  data file ``models/data/l5_plasticity.json``).

The Thomazeau et al. (2025) pharmacology table (ten conditions) is **held out**: it is a prediction of the
fitted synapse (``nmdakin pharmacology``), not a fitting target.

Each data point is one simulation of the whole pairing protocol (5 pairs x 15 bursts every 10 s, read out
60 s after the last spike), reduced to the weight change ``Pr(end)/Pr(0) x post(T_above_p(end))`` — a
:class:`kinetics.fitting.SummaryDataset` with a ``"ratio"`` statistic whose exact derivative comes from the
forward sensitivities of the scheme. The postsynaptic readout ``post`` is the Graupner-Brunel analytic
formula written as an expression (:data:`models.synapse.POST_CHANGE_EXPRESSION`).

What is fitted, and the bounds the literature allows, is :data:`FIT_PARAMETERS`. Two constants of the
published rule are deliberately *not* fitted because the data cannot separate them from a fitted one:
``theta_p`` (only ``Ca_unit * theta_p`` enters) and ``gb_tau`` (only ``gb_gamma_p / gb_tau`` enters).

Examples
--------
>>> from models import synapse_fit
>>> [d.name for d in synapse_fit.datasets()]
['sjostrom2001', 'tltd_frequency']
>>> len(synapse_fit.FIT_PARAMETERS)
10
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from kinetics.fitting import Condition, FitParameter, Statistic, SummaryDataset
from kinetics.plotstyle import label, style

from . import synapse as sy
from .experiments import l5_data, sjostrom_protocol

__all__ = ["FIT_PARAMETERS", "FitSpec", "datasets", "fit_parameters", "run_fit", "fit_record",
           "predictions", "RTOL", "ATOL"]

#: Solver tolerances of the fit (those of :func:`models.synapse.run`).
RTOL, ATOL = 1e-6, 1e-10


@dataclass(frozen=True)
class FitSpec:
    """One fitted constant: its bounds (declared unit) and why the literature allows them."""

    name: str
    low: float
    high: float
    why: str


#: The fitted constants. Bounds are wide on purpose: each spans the time scales the process can have,
#: not a guess of the answer.
FIT_PARAMETERS = (
    FitSpec("tau_eCB_transit", 0.5, 50.0, "ms; eCB synthesis, release and diffusion across the cleft: from "
            "sub-millisecond diffusion to the tens of ms of 2-AG synthesis"),
    FitSpec("tau_eCB_clear", 5.0, 1000.0, "ms; how long a postsynaptic spike keeps presynaptic CB1 receptors "
            "exposed: eCB-dependent tLTD windows extend over tens to ~100 ms (Sjostrom et al. 2003; Bender et al. "
            "2006: ~125 ms coincidence time, L4->L2/3)"),
    FitSpec("kon_CB1", 1e-3, 10.0, "1/ms per unit eCB; GPCR activation from ~1 ms to ~1 s"),
    FitSpec("koff_CB1", 1e-3, 10.0, "1/ms; GPCR deactivation from ~0.1 ms to ~1 s"),
    FitSpec("k_couple", 1e-3, 10.0, "1/ms per unit active CB1; coupling of free preNMDARs to JNK2 signalling, "
            "ms to s"),
    FitSpec("k_Jact", 1e-6, 1e-2, "1/ms per unit signalling receptors; JNK2 activation, far from saturation "
            "(each pairing adds a small increment)"),
    FitSpec("k_Jinact", 1e-5, 1e-2, "1/ms; JNK2 inactivation, 0.1 s to 100 s (kinase signalling outlasts a "
            "burst but not the 60 s readout)"),
    FitSpec("k_ltd", 1e-5, 1e-1, "1/ms per unit JNK2-STX1a complex; the gain of the last step"),
    FitSpec("Ca_unit", 0.3, 30.0, "uM; NMDA-receptor calcium that makes c = 1: spine NMDA calcium transients "
            "are ~0.1-10 uM"),
    FitSpec("gb_gamma_p", 50.0, 5000.0, "potentiation rate of the Graupner-Brunel rule in units of 1/tau; the "
            "paper's fits to data span 113-1646 (hippocampal cultures, cortical and hippocampal slices)"),
)


def fit_parameters(start: dict | None = None) -> dict:
    """``{name: FitParameter}`` for :func:`kinetics.fitting.fit` (log10 scale; start: ``start`` or the scheme's)."""
    start = start or {}
    return {f.name: FitParameter(f.name, bounds=(f.low, f.high), start=start.get(f.name)) for f in FIT_PARAMETERS}


def weight_statistic() -> Statistic:
    """The weight change of a pairing run: ``Pr x post(T_above_p)`` at the readout over its value at 0."""
    return Statistic(f"Pr*({sy.POST_CHANGE_EXPRESSION})", "ratio")


def _rest(scheme) -> dict:
    """The equilibrated state before pairing (it depends on no fitted constant: no spike, no eCB, no calcium)."""
    return sy._equilibrated(scheme)


def _condition(dt_ms: float, freq_hz: float, y0: dict) -> Condition:
    pre, post = sjostrom_protocol(dt_ms, freq_hz)
    t_end = float(max(pre.max(), post.max())) + sy.T_READOUT
    return Condition(protocol=sy.protocol(pre, post), t_end=t_end, y0=y0, label=f"{dt_ms:+g} ms, {freq_hz:g} Hz")


def sjostrom_points() -> list:
    """The ten points of Sjostrom et al. (2001): dicts with ``dt_ms``, ``freq_hz``, ``change``, ``sem``."""
    return [dict(p) for p in l5_data()["sjostrom2001"]["points"]]


def tltd_points() -> list:
    """tLTD at -25 ms: Brock et al. (2020) at 20 Hz and the frequency-independence reading at 0.1, 1, 10 Hz."""
    d = l5_data()
    brock, indep = d["brock2020_tltd"], d["thomazeau2025_frequency_independence"]
    return [{"dt_ms": indep["dt_ms"], "freq_hz": float(f), "change": brock["change"], "sem": brock["sem"]}
            for f in indep["freq_hz"]]


def datasets(scheme=None) -> list:
    """The two summary datasets of the fit (``scheme``: to equilibrate the start; default the hand set)."""
    scheme = scheme if scheme is not None else sy.scheme(set="L5_hand")
    y0 = _rest(scheme)
    out = []
    for name, points in (("sjostrom2001", sjostrom_points()), ("tltd_frequency", tltd_points())):
        out.append(SummaryDataset(
            name, statistics={"change": weight_statistic()},
            conditions=[_condition(p["dt_ms"], p["freq_hz"], y0) for p in points],
            data={"change": [p["change"] for p in points]},
            sigma={"change": [p["sem"] for p in points]}))
    return out


def run_fit(*, n_starts: int = 8, seed: int = 0, executor=None, profiles: bool = True, start: dict | None = None,
            progress=None, options: dict | None = None):
    """Fit :data:`FIT_PARAMETERS` of the hand set to :func:`datasets`; a :class:`kinetics.fitting.FitResult`.

    ``start``: start values (default the hand set's); ``n_starts``: local fits (the start and a Latin
    hypercube over the log-scaled bounds). About 1-2 min of CPU per local fit and per profile.
    """
    from kinetics.fitting import fit

    scheme = sy.scheme(set="L5_hand")
    return fit(scheme, datasets(scheme), fit_parameters(start), n_starts=n_starts, seed=seed, executor=executor,
               profiles=profiles, rtol=RTOL, atol=ATOL, options=options, progress=progress)


def predictions(set: str = sy.DEFAULT_SET, values: dict | None = None) -> dict:
    """The synapse's changes for every fitted data point: ``{"sjostrom2001": [...], "tltd_frequency": [...]}``.

    ``set``: the parameter set; ``values``: parameter values (declared units) that replace the set's.
    """
    scheme = sy.scheme(set=set)
    if values:
        scheme = scheme.with_parameters(values)
    out = {}
    for name, points in (("sjostrom2001", sjostrom_points()), ("tltd_frequency", tltd_points())):
        out[name] = [sy._simulate(scheme, *sjostrom_protocol(p["dt_ms"], p["freq_hz"]), n_points=3,
                                  rtol=RTOL, atol=ATOL).change for p in points]
    return out


def combinations(result, *, max_terms: int = 4) -> list:
    """What the data pin down: the eigen-directions of the Fisher information ``J^T J`` in the fit's log10
    parameters, stiffest first (the "sloppy model" analysis of Gutenkunst et al. 2007, PLoS Comput Biol
    3:e189).

    Each direction ``v`` is a combination ``prod_i p_i^(v_i)`` of the fitted constants whose log10 has the
    standard error ``1/sqrt(lambda)``: ``se_log10 = 0.1`` means the combination is known to about +-26 %.
    Returns ``[{"eigenvalue", "se_log10", "terms": {name: exponent}}]`` with the ``max_terms`` largest
    exponents of each direction (normalised so the largest is +1).
    """
    import numpy as np

    fisher = np.asarray(result.fisher, dtype=float)
    lam, vec = np.linalg.eigh(fisher)
    out = []
    for k in np.argsort(lam)[::-1]:
        v = vec[:, k]
        v = v / v[np.argmax(np.abs(v))]
        order = np.argsort(np.abs(v))[::-1][:max_terms]
        out.append({"eigenvalue": float(lam[k]),
                    "se_log10": float(1 / math.sqrt(lam[k])) if lam[k] > 0 else None,
                    "terms": {result.names[i]: round(float(v[i]), 3) for i in order if abs(v[i]) >= 0.05}})
    return out


def fit_record(result, note: str = "") -> dict:
    """The JSON record of a fit (``models/data/synapse_l5_fit.json``): values, intervals, flags, report, and
    ``note`` (how the fit was run, what it found)."""
    specs = {f.name: f for f in FIT_PARAMETERS}
    hand = sy.scheme(set="L5_hand")
    params = {}
    for name in result.names:
        # a side beyond the bounds the literature allows is open (None): the data do not close it
        lo, hi = result.ci[name]
        lo = lo if lo is not None and math.isfinite(lo) and lo > specs[name].low else None
        hi = hi if hi is not None and math.isfinite(hi) and hi < specs[name].high else None
        params[name] = {"value": float(result.values[name]), "unit": hand.get_parameter(name).unit,
                        "hand_value": float(hand.get_parameter(name).value),
                        "bounds": [specs[name].low, specs[name].high], "why_bounds": specs[name].why,
                        "interval": [lo, hi],
                        "ci_method": "profile" if name in result.profiles else "wald",
                        # identified: a closed interval inside the bounds (correlation flags are in "flags")
                        "flag": "identified" if lo is not None and hi is not None else "not identified"}
    return {
        "source": "nmdakin models.synapse_fit: joint weighted least-squares fit (kinetics.fitting) to Sjostrom et al. "
                  "2001 (Neuron 32:1149), Brock et al. 2020 (Front Synaptic Neurosci 12:11) and Thomazeau et al. "
                  "2025 (eLife 14:RP106284, frequency independence of tLTD)",
        "level": float(result.settings["level"]),
        "chi2": float(result.chi2),
        "n_data": int(result.n_data),
        "flags": [f.to_dict() for f in result.flags],
        "combinations": combinations(result),
        "parameters": params,
        "note": note,
        "report": result.report(),
    }


def compare(set: str = sy.DEFAULT_SET, values: dict | None = None, label: str | None = None) -> dict:
    """The synapse's predictions for every fitted data point under ``set`` (and ``values``), with the data and
    z-scores.

    Returns ``{"set": label or set, "chi2", "points": [{"dataset", "dt_ms", "freq_hz", "data", "sem", "model",
    "z"}]}``.

    Examples
    --------
    >>> c = compare()                                                  # doctest: +SKIP
    >>> max(abs(p["z"]) for p in c["points"]) < 2                      # doctest: +SKIP
    True
    """
    pred = predictions(set, values)
    points = []
    for name, data_points in (("sjostrom2001", sjostrom_points()), ("tltd_frequency", tltd_points())):
        for p, m in zip(data_points, pred[name]):
            points.append({"dataset": name, "dt_ms": float(p["dt_ms"]), "freq_hz": float(p["freq_hz"]),
                           "data": float(p["change"]), "sem": float(p["sem"]), "model": float(m),
                           "z": float((m - p["change"]) / p["sem"])})
    return {"set": label or set, "chi2": float(sum(p["z"] ** 2 for p in points)), "points": points}


@style()
def plot_comparison(comparisons, path=None):
    """Data (mean +- SE) and the synapse under one or more sets: Sjostrom et al. 2001 and tLTD vs frequency.

    ``comparisons``: results of :func:`compare` (a list, or one). Returns the Figure; written to ``path``
    (atomically) if given.
    """
    import matplotlib.pyplot as plt

    from kinetics.io import atomic_savefig

    comparisons = [comparisons] if isinstance(comparisons, dict) else list(comparisons)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10.5, 4.4))
    colors = {10.0: "C1", -10.0: "C0"}
    first = comparisons[0]["points"]
    for dt, c in colors.items():
        pts = [p for p in first if p["dataset"] == "sjostrom2001" and p["dt_ms"] == dt]
        ax1.errorbar([p["freq_hz"] for p in pts], [p["data"] for p in pts], yerr=[p["sem"] for p in pts],
                     fmt="o", color=c, capsize=3, label=f"Sjostrom 2001, {dt:+g} ms")
    tl = [p for p in first if p["dataset"] == "tltd_frequency"]
    ax2.errorbar([p["freq_hz"] for p in tl], [p["data"] for p in tl], yerr=[p["sem"] for p in tl], fmt="o",
                 color="k", capsize=3, label="65 +- 5 % (Brock 2020, 20 Hz; frequency-independent, Thomazeau 2025)")
    for k, comp in enumerate(comparisons):
        style = "-" if k == 0 else "--"
        for dt, c in colors.items():
            pts = [p for p in comp["points"] if p["dataset"] == "sjostrom2001" and p["dt_ms"] == dt]
            ax1.plot([p["freq_hz"] for p in pts], [p["model"] for p in pts], style, marker="s", mfc="none",
                     color=c, label=f"synapse [{comp['set']}], {dt:+g} ms")
        tl = [p for p in comp["points"] if p["dataset"] == "tltd_frequency"]
        ax2.plot([p["freq_hz"] for p in tl], [p["model"] for p in tl], style, marker="s", mfc="none", color="k",
                 label=f"synapse [{comp['set']}], -25 ms")
    for ax in (ax1, ax2):
        ax.axhline(1.0, color="0.6", lw=0.8)
        ax.set_xlabel(label("pairing frequency", "Hz"))
        ax.set_ylabel(label("change in synaptic strength", "after/before"))
        ax.legend(fontsize=7.5, loc="best")
    ax2.set_xscale("log")
    ax1.set_title("Sjostrom et al. 2001 (5 pairs x 15 every 10 s)")
    ax2.set_title("tLTD at -25 ms vs frequency")
    fig.suptitle("L5 synapse: " + ", ".join(f"set {c['set']} (chi2 {c['chi2']:.1f})" for c in comparisons))
    fig.text(0.01, 0.01, "Points: data (mean +- SE). Lines: the synapse model, one simulation of the whole protocol "
             "per point; 1 = no change (no presynaptic coincidence and no NMDA calcium above the potentiation "
             "threshold).", fontsize=8, wrap=True)
    fig.tight_layout(rect=(0, 0.05, 1, 0.95))
    if path is not None:
        atomic_savefig(fig, path)
    return fig
