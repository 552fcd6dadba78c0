"""``nmdakin demo [--out DIR] [--quick]``: the main job.

NMDA receptor EPSCs (Destexhe five-state scheme + Jahr-Stevens Mg2+ block, 1 mM x 1 ms glutamate) at several
holding potentials (PNG + CSV), the pharmacology table of the single-synapse model and its STDP curve (JSON + PNG
each). ``--quick``: only the EPSCs.

The STDP figure (:func:`models.experiments.plot_stdp`) carries a caption: what change = 1 means for the synapse
model, why no published points are drawn (the L5 data nmdakin holds were recorded with another protocol), and, when
the curve is flat at dt > 0, why (:func:`stdp_flat_note`: the presynaptic and postsynaptic factors of one run at the
smallest positive dt, with Sjostrom et al. 2001's own low-frequency point).
"""
from __future__ import annotations

from pathlib import Path

from ._common import write_json

__all__ = ["add_subcommands", "cmd_demo", "stdp_flat_note"]

#: Largest |change - 1| at every dt > 0 for which the STDP curve counts as flat there.
FLAT_TOLERANCE = 0.02


def _demo_epsc(out: Path) -> None:
    """EPSCs of the Destexhe five-state receptor with the Jahr-Stevens block at several holding potentials."""
    import numpy as np

    from kinetics import Protocol, pulses, simulate, steps
    from kinetics.io import atomic_savefig, atomic_write_text
    from models import destexhe1994, mg_block

    scheme = mg_block.with_nmda_current(destexhe1994.five_state())
    voltages = [-80.0, -60.0, -40.0, -20.0, 0.0, 20.0, 40.0]
    t_eval = np.linspace(0.0, 500.0, 2001)
    pulse = pulses("glu", times=[10.0], amplitude=1.0, width=1.0)
    traces = {v: simulate(scheme, Protocol([pulse, steps("V", [0.0], [v])]), t_end=500.0, t_eval=t_eval,
                          rtol=1e-8, atol=1e-10) for v in voltages}
    popen = traces[voltages[0]]["Popen"]
    i_peak = int(np.argmax(popen))
    print(f"[1/3] NMDA receptor EPSC ({scheme.name})")
    print(f"      peak open probability {popen[i_peak]:.4f} at {t_eval[i_peak] - 10.0:.2f} ms after the pulse onset")
    print("      V (mV)   peak I_NMDA (pA, g_NMDA = 1 nS)")
    rows = []
    for v, res in traces.items():
        i = res["I_NMDA"]
        peak = i[np.argmax(np.abs(i))]
        rows.append((v, peak))
        print(f"      {v:6.1f}   {peak:10.4f}")
    # `name [unit]` headers that kinetics.data.read_table reads back (names are identifiers: m80mV = -80 mV)
    res = traces[voltages[0]]
    header = f"time [{scheme.units.time}]," + ",".join(
        f"I_NMDA_{'m' if v < 0 else 'p' if v > 0 else ''}{abs(v):.0f}mV [{res.unit_of('I_NMDA')}]" for v in voltages
    ) + f",Popen [{res.unit_of('Popen')}]"
    table = np.column_stack([t_eval] + [traces[v]["I_NMDA"] for v in voltages] + [popen]) + 0.0   # no "-0"
    csv_path = out / "nmdakin_demo.csv"
    atomic_write_text(csv_path, header + "\n" + "\n".join(",".join(f"{x:.10g}" for x in row) for row in table) + "\n")

    import matplotlib.pyplot as plt

    from kinetics.plotstyle import label, style

    with style():
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
        for v in voltages:
            ax1.plot(t_eval, traces[v]["I_NMDA"], label=f"{v:+.0f} mV")
        ax1.set_xlabel(label("time", "ms"))
        ax1.set_ylabel(label("I_NMDA per nS of g_NMDA", "pA"))
        ax1.set_title("NMDA EPSC, 1 mM x 1 ms glutamate")
        ax1.legend(title="holding potential")
        vv, pk = zip(*rows)
        ax2.plot(vv, pk, "o-")
        ax2.axhline(0, color="0.7", lw=0.8)
        ax2.set_xlabel(label("holding potential", "mV"))
        ax2.set_ylabel(label("peak I_NMDA (g_NMDA = 1 nS)", "pA"))
        ax2.set_title("I-V with 1 mM Mg2+ (Jahr-Stevens)")
    png_path = out / "nmdakin_demo.png"
    try:
        atomic_savefig(fig, png_path, dpi=120)
    finally:
        plt.close(fig)
    print(f"      wrote {png_path} and {csv_path}")


def stdp_flat_note(curve: dict) -> str | None:
    """Caption sentence for a synapse-model STDP curve that is flat (no change) at every dt > 0; else ``None``.

    Runs the synapse once at the smallest positive dt of the curve (same pairs, frequency and condition, the
    default set) and reports its presynaptic and postsynaptic factors, so the caption states what the model did:
    each factor within :data:`FLAT_TOLERANCE` of 1 is explained (no presynaptic tLTD: pre-before-post order; no
    tLTP: NMDA-receptor calcium below the potentiation threshold), factors that cancel are said to cancel.
    Sjostrom et al. 2001's lowest- and highest-frequency points at a positive dt (:func:`sjostrom2001_data`)
    put it beside the data.
    """
    from models import synapse
    from models.experiments import pairing_times, sjostrom2001_data

    positive = [(dt, c) for dt, c in zip(curve["dt_ms"], curve["change"]) if dt > 0]
    if not positive or max(abs(c - 1.0) for _, c in positive) >= FLAT_TOLERANCE:
        return None
    dt = min(d for d, _ in positive)
    condition = curve.get("condition")
    run = synapse.run(*pairing_times(curve["pairs"], curve["freq_hz"], dt),
                      None if condition == "control" else condition, n_points=3)
    pre_flat = abs(run.pre_change - 1.0) < FLAT_TOLERANCE
    post_flat = abs(run.post_change - 1.0) < FLAT_TOLERANCE
    why = [f"presynaptic factor {run.pre_change:.3f}"
           + (" (pre-before-post: the retrograde eCB signal of the postsynaptic spike comes after glutamate, so "
              "no presynaptic tLTD)" if pre_flat else ""),
           f"postsynaptic factor {run.post_change:.3f}"
           + (" (pairs this far apart leave the NMDA-receptor calcium below the potentiation threshold, so no "
              "tLTP; calcium must build up over closely spaced pairs)" if post_flat else "")]
    text = (f"Why dt > 0 gives no change at {curve['freq_hz']:g} Hz (every |change - 1| < {FLAT_TOLERANCE:g}): at "
            f"dt = {dt:+g} ms the " + " and the ".join(why)
            + ("." if pre_flat and post_flat else "; the two factors cancel."))
    published = [p for p in sjostrom2001_data()["points"] if p["dt_ms"] > 0]
    low = min(published, key=lambda p: p["freq_hz"])
    high = max(published, key=lambda p: p["freq_hz"])
    return (text + f" Sjostrom et al. 2001 found no LTP at {low['dt_ms']:+g} ms and {low['freq_hz']:g} Hz either "
            f"({low['change']:.2f} +/- {low['sem']:.2f}), against {high['change']:.2f} +/- {high['sem']:.2f} at "
            f"{high['freq_hz']:g} Hz.")


def cmd_demo(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from models.experiments import plot_stdp, stdp
    from models.pharmacology import pharmacology, plot_pharmacology

    from kinetics.io import check_output_path
    from kinetics.errors import ArgumentError

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ArgumentError(f"cannot write to `{out}`: it is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArgumentError(f"cannot create the output folder `{out}`: {exc.strerror or exc}") from None
    names = ["nmdakin_demo.csv", "nmdakin_demo.png"]
    if not args.quick:
        names += ["pharmacology.json", "pharmacology.png", "stdp_synapse.json", "stdp_synapse.png"]
    for name in names:
        check_output_path(out / name, "output", figure=name.endswith(".png"))
    _demo_epsc(out)
    if args.quick:
        return 0

    print("[2/3] pharmacology of the L5 synapse (tLTD: -25 ms at 20 Hz; tLTP: +10 ms at 50 Hz)")
    table = pharmacology()
    write_json(out / "pharmacology.json", table)
    plot_pharmacology(table, out / "pharmacology.png")
    print("      condition                 tLTD    tLTP")
    for row in table["conditions"]:
        print(f"      {row['name']:24s} {row['tLTD']:6.3f}  {row['tLTP']:6.3f}")
    print(f"      wrote {out / 'pharmacology.json'} and {out / 'pharmacology.png'}")

    print("[3/3] STDP curve of the single-synapse model (60 pairs at 1 Hz)")
    curve = stdp(model="synapse", dt_ms=list(range(-100, 101, 5)), freq_hz=1.0, pairs=60)
    write_json(out / "stdp_synapse.json", curve)
    plot_stdp(curve, out / "stdp_synapse.png", note=stdp_flat_note(curve))
    i_min = min(range(len(curve["change"])), key=lambda i: curve["change"][i])
    print(f"      strongest depression {curve['change'][i_min]:.3f} at dt = {curve['dt_ms'][i_min]:g} ms")
    print(f"      wrote {out / 'stdp_synapse.json'} and {out / 'stdp_synapse.png'}")
    return 0


def add_subcommands(subparsers) -> None:
    """Add ``demo`` to an argparse subparsers object."""
    p = subparsers.add_parser("demo", help="the main job: EPSCs, the tLTD/tLTP pharmacology table and the synapse "
                                           "STDP curve, with figures")
    p.add_argument("--out", default="nmdakin-demo", help="output folder (default: nmdakin-demo)")
    p.add_argument("--quick", action="store_true", help="only the EPSC part")
    p.set_defaults(func=cmd_demo)
