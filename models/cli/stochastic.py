"""``nmdakin stochastic``: the synapse with N stochastic postsynaptic NMDA receptors (hybrid simulation).

``nmdakin stochastic --receptors 1 5 20 100 1000 [--runs 100] [--seed S] [--dt 10] [--freq 50] [--pairs 5]
[--bursts 15] [--set L5] [--condition NAME] --json OUT [--plot PNG] [--progress]``

The postsynaptic GluN1/GluN2 receptor states of :func:`models.synapse.scheme` (76 states, with the MK-801
trapped ones) are ``N`` receptors simulated exactly (:func:`kinetics.stochastic.hybrid`: SSA, exact between
events); the rest of the synapse (release, presynaptic tLTD, spine calcium, the potentiation rule) are ODEs
driven by the open receptors. The receptors start in the steady state of the resting synapse, each in a state
drawn from the ODE's steady-state fractions (``initial="multinomial"``). The pairing protocol is Sjostrom et
al. (2001)'s (:func:`models.experiments.sjostrom_protocol`: ``--pairs`` pairs at ``--freq`` Hz with the
postsynaptic spike ``--dt`` ms after the presynaptic one, ``--bursts`` bursts every 10 s).

The total NMDA conductance ``g_NMDA`` of the synapse is kept: ``N`` receptors share it (each conducts
``g_NMDA / N`` when open), so the mean current does not depend on ``N``, only its fluctuations do.

Per run: the peak inward NMDA current (pA: the largest inward current; the back-propagating APs make it
outward for a moment) and the peak spine calcium (uM) during the first burst (on a 0.25 ms grid), and the
weight change read :data:`models.synapse.T_READOUT` after the last spike (presynaptic x postsynaptic change,
:func:`models.synapse.run`). JSON: ``{"protocol": {...}, "ode": {"peak_current_pA",
"peak_calcium_uM", "change"}, "receptors": [N...], "runs": R, "seed": S, "results": [{"n_receptors",
"peak_current_pA": [...], "peak_calcium_uM": [...], "change": [...], "mean": {...}, "sd": {...},
"n_switches_mean"}...]}``. The figure: the NMDA current of a few runs per N over the first burst with the ODE,
and histograms of the three outcomes with the ODE value.
"""
from __future__ import annotations

import numpy as np

from kinetics.errors import ArgumentError

from ._common import check_outputs, positive_float, positive_int, write_outputs

__all__ = ["add_subcommands", "cmd_stochastic", "receptor_species", "synapse_hybrid", "synapse_ode",
           "MAX_RECEPTORS", "MAX_RUNS", "GRID_STEP_MS", "N_TRACES"]

#: Largest ``--receptors`` (a spine holds tens of NMDA receptors; 10**4 is far into the ODE limit).
MAX_RECEPTORS = 10_000
#: Largest ``--runs``.
MAX_RUNS = 100_000
#: Output grid step over the first burst (ms), where the peaks are read.
GRID_STEP_MS = 0.25
#: Runs per N whose NMDA current is kept for the figure.
N_TRACES = 5
#: Time after the first burst's last spike over which the peaks are sought (ms).
_TAIL_MS = 300.0


def receptor_species() -> tuple:
    """The postsynaptic receptor states of the synapse (:func:`models.glun1_glun2.scheme`), the stochastic part."""
    from models import glun1_glun2

    return glun1_glun2.scheme().species_names


def _setup(dt, freq, pairs, bursts, set, condition):
    from models import synapse
    from models.experiments import sjostrom_protocol

    s = synapse.scheme(condition, set=set)
    pre, post = sjostrom_protocol(dt, freq, pairs=pairs, bursts=bursts)
    y0 = synapse._equilibrated(s)
    t_end = float(max(pre.max(), post.max())) + synapse.T_READOUT
    first = min(t_end, (pairs - 1) * 1000.0 / freq + abs(dt) + _TAIL_MS)
    grid = np.arange(0.0, first + 0.5 * GRID_STEP_MS, GRID_STEP_MS)
    t_eval = np.append(grid[grid < t_end], t_end)
    return s, synapse.protocol(pre, post), y0, t_end, t_eval, grid.size


def _outcomes(i_nmda, ca_um, t_above, s, pr_end, pr0, n_first):
    from models import synapse

    peak_i = -np.min(i_nmda[..., :n_first], axis=-1)          # inward current is negative
    peak_ca = np.max(ca_um[..., :n_first], axis=-1)
    change = pr_end / pr0 * synapse.post_change(np.ravel(t_above), s.parameter_values()).reshape(np.shape(t_above))
    return peak_i, peak_ca, change


def synapse_ode(*, dt=10.0, freq=50.0, pairs=5, bursts=15, set="L5", condition=None) -> dict:
    """The deterministic synapse (all receptors as ODEs) on the same grid: ``{"t", "current_pA",
    "peak_current_pA", "peak_calcium_uM", "change"}``."""
    from kinetics import simulate

    s, prot, y0, t_end, t_eval, n_first = _setup(dt, freq, pairs, bursts, set, condition)
    res = simulate(s, prot, t_end=t_end, t_eval=t_eval, y0=y0, rtol=1e-6, atol=1e-10)
    i_nmda = np.asarray(res["I_NMDA"])
    pk_i, pk_ca, ch = _outcomes(i_nmda, np.asarray(res["Ca_uM"]), np.asarray(res["T_above_p"])[-1], s,
                                float(res["Pr"][-1]), y0["Pr"], n_first)
    return {"t": t_eval[:n_first], "current_pA": i_nmda[:n_first], "peak_current_pA": float(pk_i),
            "peak_calcium_uM": float(pk_ca), "change": float(ch)}


def synapse_hybrid(n_receptors, *, n_runs=100, seed=0, dt=10.0, freq=50.0, pairs=5, bursts=15, set="L5",
                   condition=None, progress=None, executor=None) -> dict:
    """``n_runs`` hybrid runs of the synapse with ``n_receptors`` stochastic postsynaptic receptors.

    Returns ``{"peak_current_pA", "peak_calcium_uM", "change"}`` (arrays of ``n_runs``), ``"t"`` and
    ``"current_pA"`` (the first :data:`N_TRACES` runs over the first burst), ``"n_switches"`` (open-count
    changes per run: the ODE restarts there) and ``"n_events"``.

    Examples
    --------
    >>> out = synapse_hybrid(20, n_runs=2, seed=1, bursts=1)      # doctest: +SKIP
    >>> out["change"].shape                                     # doctest: +SKIP
    (2,)
    """
    from kinetics.stochastic import hybrid

    s, prot, y0, t_end, t_eval, n_first = _setup(dt, freq, pairs, bursts, set, condition)
    res = hybrid(s, prot, t_end=t_end, t_eval=t_eval, stochastic=receptor_species(), n_copies=int(n_receptors),
                 n_runs=n_runs, seed=seed, y0=y0, initial="multinomial", progress=progress, executor=executor,
                 record=["T_above_p", "Pr", "I_NMDA", "Ca_uM"])
    i_nmda = res["I_NMDA"]
    pk_i, pk_ca, ch = _outcomes(i_nmda, res["Ca_uM"], res["T_above_p"][:, -1], s, res["Pr"][:, -1], y0["Pr"],
                                n_first)
    return {"peak_current_pA": pk_i, "peak_calcium_uM": pk_ca, "change": ch, "t": t_eval[:n_first],
            "current_pA": i_nmda[:N_TRACES, :n_first], "n_switches": res.n_switches, "n_events": res.n_events}


_OUTCOMES = (("peak_current_pA", "peak inward NMDA current", "pA"), ("peak_calcium_uM", "peak spine Ca2+", "uM"),
             ("change", "weight change", "1"))


def cmd_stochastic(args) -> int:
    from models import manipulations as mp
    from models import synapse

    if args.set not in synapse.SETS:
        raise ArgumentError(f"--set: no parameter set `{args.set}` of the synapse; sets: {list(synapse.SETS)}")
    condition = None if args.condition in (None, "control") else args.condition
    if condition is not None and condition not in mp.CONDITION_NAMES:
        from kinetics.errors import did_you_mean

        raise ArgumentError(f"--condition: no condition `{args.condition}`"
                            + did_you_mean(str(args.condition), mp.CONDITION_NAMES)
                            + f"; conditions: {list(mp.CONDITION_NAMES)}")
    if len(set(args.receptors)) != len(args.receptors):
        raise ArgumentError("--receptors lists a number twice")
    check_outputs(args)
    kw = dict(dt=args.dt, freq=args.freq, pairs=args.pairs, bursts=args.bursts, set=args.set, condition=condition)
    ode = synapse_ode(**kw)
    seed = args.seed if args.seed is not None else int(np.random.SeedSequence().entropy % 2**63)
    results = []
    for n in args.receptors:
        out = synapse_hybrid(n, n_runs=args.runs, seed=seed, progress=args.progress, **kw)
        ddof = 1 if args.runs > 1 else 0
        row = {"n_receptors": int(n)}
        for key, _, _ in _OUTCOMES:
            row[key] = [float(v) for v in out[key]]
        row["mean"] = {key: float(np.mean(out[key])) for key, _, _ in _OUTCOMES}
        row["sd"] = {key: float(np.std(out[key], ddof=ddof)) for key, _, _ in _OUTCOMES}
        row["n_switches_mean"] = float(np.mean(out["n_switches"]))
        results.append((row, out))
        m, sd = row["mean"], row["sd"]
        print(f"N = {n:5d}: peak current {m['peak_current_pA']:.3g} +/- {sd['peak_current_pA']:.2g} pA, "
              f"peak Ca {m['peak_calcium_uM']:.3g} +/- {sd['peak_calcium_uM']:.2g} uM, "
              f"change {m['change']:.4f} +/- {sd['change']:.2g}")
    print(f"ODE      : peak current {ode['peak_current_pA']:.3g} pA, peak Ca {ode['peak_calcium_uM']:.3g} uM, "
          f"change {ode['change']:.4f}")
    payload = {"protocol": {"dt_ms": args.dt, "freq_hz": args.freq, "pairs": args.pairs, "bursts": args.bursts,
                            "set": args.set, "condition": condition or "control"},
               "ode": {k: ode[k] for k in ("peak_current_pA", "peak_calcium_uM", "change")},
               "receptors": [int(n) for n in args.receptors], "runs": args.runs, "seed": seed,
               "results": [row for row, _ in results]}

    def draw(plt):
        from kinetics.plotstyle import label, style

        with style():
            fig, axes = plt.subplots(1, 4, figsize=(15, 3.6), constrained_layout=True)
            ax = axes[0]
            for k, (row, out) in enumerate(results):
                for j, trace in enumerate(out["current_pA"]):
                    ax.plot(out["t"], trace, color=f"C{k % 7}", lw=0.7, alpha=0.6,
                            label=f"N = {row['n_receptors']}" if j == 0 else None)
            ax.plot(ode["t"], ode["current_pA"], color="k", lw=1.4, label="ODE")
            ax.set_xlabel(label("time", "ms"))
            ax.set_ylabel(label("NMDA current", "pA"))
            ax.set_title("first burst")
            ax.legend()
            for ax, (key, name, unit) in zip(axes[1:], _OUTCOMES):
                edges = np.histogram_bin_edges(np.concatenate([out[key] for _, out in results] + [[ode[key]]]),
                                               bins=30)
                for k, (row, out) in enumerate(results):
                    ax.hist(out[key], bins=edges, histtype="step", color=f"C{k % 7}", density=True,
                            label=f"N = {row['n_receptors']}")
                ax.axvline(ode[key], color="k", lw=1.2, ls="--", label="ODE")
                ax.set_xlabel(label(name, unit) if unit != "1" else f"{name} (after/before)")
                ax.set_ylabel("density")
                ax.legend()
            fig.suptitle(f"{args.runs} hybrid runs per N: dt = {args.dt:g} ms, {args.freq:g} Hz, {args.pairs} pairs "
                         f"x {args.bursts} bursts")
        return fig

    write_outputs(args, payload, draw)
    print(f"wrote {args.json}" + (f" and {args.plot}" if args.plot else ""))
    return 0


def _receptors(text: str) -> int:
    from ._common import nonneg_int

    return nonneg_int(text, MAX_RECEPTORS, minimum=1)


def _runs(text: str) -> int:
    from ._common import nonneg_int

    return nonneg_int(text, MAX_RUNS, minimum=1)


def _dt(text: str) -> float:
    import argparse
    import math

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return v


def add_subcommands(subparsers) -> None:
    """Add ``stochastic`` to ``subparsers``."""
    p = subparsers.add_parser("stochastic", help="the synapse with N stochastic NMDA receptors (hybrid SSA/ODE): "
                                                 "distributions of peak current, calcium and weight change")
    p.add_argument("--receptors", nargs="+", type=_receptors, default=[1, 5, 20, 100], metavar="N",
                   help=f"numbers of postsynaptic receptors, each 1 to {MAX_RECEPTORS} (default 1 5 20 100)")
    p.add_argument("--runs", type=_runs, default=100, help="runs per number of receptors (default 100)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: a fresh one, written to the JSON)")
    p.add_argument("--dt", type=_dt, default=10.0, help="t_post - t_pre, ms (default 10)")
    p.add_argument("--freq", type=positive_float, default=50.0, help="pairing frequency, Hz (default 50)")
    p.add_argument("--pairs", type=positive_int, default=5, help="pairs per burst (default 5)")
    p.add_argument("--bursts", type=positive_int, default=15, help="bursts, every 10 s (default 15)")
    p.add_argument("--set", default="L5", help="parameter set of the synapse (default L5)")
    p.add_argument("--condition", default=None, help="experimental condition (default: control)")
    p.add_argument("--json", required=True, help="output JSON path")
    p.add_argument("--plot", help="output figure path (PNG, SVG or PDF)")
    p.add_argument("--progress", action="store_true", default=None,
                   help="progress bars even when not on a terminal")
    p.set_defaults(func=cmd_stochastic)
