"""The ``nmdakin`` command line.

Subcommands
-----------
``nmdakin demo``
    The main job: NMDA receptor EPSCs (Destexhe five-state scheme + Jahr-Stevens
    Mg2+ block, 1 mM x 1 ms glutamate) at several holding potentials (PNG + CSV),
    the pharmacology table of the single-synapse model and its STDP curve (JSON +
    PNG each).
``nmdakin simulate FILE --t-end T --points N --csv OUT [--param name=value ...] [--amounts ID,ID]``
    Simulate a scheme written in the kinetics text format, or an SBML file
    (``.xml``/``.sbml``, :mod:`models.cli_export`); CSV columns are ``time`` and
    every species (and, for SBML, every parameter or compartment that changes).
``nmdakin export MODEL --format FMT -o OUT``
    Export a library model or a scheme file to LaTeX, SBML, NMODL, C, Python or JSON.
``nmdakin stdp``, ``nmdakin frequency``, ``nmdakin models``
    Plasticity experiments and the model list (:mod:`models.cli_experiments`).
``nmdakin pharmacology``
    The tLTD/tLTP pharmacology table of the single-synapse model (:mod:`models.cli_pharmacology`).
``nmdakin fit EXPERIMENT.toml``
    Fit rate constants to data (:mod:`models.cli_fit`, :mod:`kinetics.fitting`).
``nmdakin chronic``, ``nmdakin binding``
    Chronic antidepressant adaptation and radioligand binding assays (:mod:`models.cli_chronic`).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _param_override(text: str) -> tuple[str, float]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected name=value, got {text!r}")
    name, value = text.split("=", 1)
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"value of {name.strip()!r} is not a number: {value!r}") from None


def _demo_epsc(out: Path) -> None:
    """EPSCs of the Destexhe five-state receptor with the Jahr-Stevens block at several holding potentials."""
    import numpy as np

    from kinetics import Protocol, pulses, simulate, steps
    from kinetics._io import atomic_write_text
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
    header = "time," + ",".join(f"I_NMDA_{v:+.0f}mV" for v in voltages) + ",Popen"
    table = np.column_stack([t_eval] + [traces[v]["I_NMDA"] for v in voltages] + [popen])
    csv_path = out / "nmdakin_demo.csv"
    atomic_write_text(csv_path, header + "\n" + "\n".join(",".join(f"{x:.10g}" for x in row) for row in table) + "\n")

    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for v in voltages:
        ax1.plot(t_eval, traces[v]["I_NMDA"], label=f"{v:+.0f} mV")
    ax1.set_xlabel("time (ms)")
    ax1.set_ylabel("I_NMDA (pA per nS of g_NMDA)")
    ax1.set_title("NMDA EPSC, 1 mM x 1 ms glutamate")
    ax1.legend(fontsize="small")
    vv, pk = zip(*rows)
    ax2.plot(vv, pk, "o-")
    ax2.axhline(0, color="0.7", lw=0.8)
    ax2.set_xlabel("holding potential (mV)")
    ax2.set_ylabel("peak I_NMDA (pA)")
    ax2.set_title("I-V with 1 mM Mg2+ (Jahr-Stevens)")
    png_path = out / "nmdakin_demo.png"
    fig.savefig(png_path, dpi=120)
    plt.close(fig)
    print(f"      wrote {png_path} and {csv_path}")


def cmd_demo(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from models.cli_experiments import _write_json
    from models.experiments import plot_stdp, stdp
    from models.pharmacology import pharmacology, plot_pharmacology

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _demo_epsc(out)
    if args.quick:
        return 0

    print("[2/3] pharmacology of the L5 synapse (tLTD: -25 ms at 20 Hz; tLTP: +10 ms at 50 Hz)")
    table = pharmacology()
    _write_json(out / "pharmacology.json", table)
    plot_pharmacology(table, out / "pharmacology.png")
    print("      condition                 tLTD    tLTP")
    for row in table["conditions"]:
        print(f"      {row['name']:24s} {row['tLTD']:6.3f}  {row['tLTP']:6.3f}")
    print(f"      wrote {out / 'pharmacology.json'} and {out / 'pharmacology.png'}")

    print("[3/3] STDP curve of the single-synapse model (60 pairs at 1 Hz)")
    curve = stdp(model="synapse", dt_ms=list(range(-100, 101, 5)), freq_hz=1.0, pairs=60)
    _write_json(out / "stdp_synapse.json", curve)
    plot_stdp(curve, out / "stdp_synapse.png")
    i_min = min(range(len(curve["change"])), key=lambda i: curve["change"][i])
    print(f"      strongest depression {curve['change'][i_min]:.3f} at dt = {curve['dt_ms'][i_min]:g} ms")
    print(f"      wrote {out / 'stdp_synapse.json'} and {out / 'stdp_synapse.png'}")
    return 0


def cmd_simulate(args) -> int:
    import numpy as np

    from kinetics import read_scheme, simulate

    if args.file.lower().endswith((".xml", ".sbml")):
        from models import cli_export

        return cli_export.simulate_sbml(args)

    scheme = read_scheme(args.file)
    params = dict(args.param or [])
    if args.points < 2:
        raise SystemExit("nmdakin simulate: --points must be at least 2")
    t_eval = np.linspace(0.0, args.t_end, args.points)
    res = simulate(scheme, t_end=args.t_end, t_eval=t_eval, params=params, method=args.method,
                   rtol=args.rtol, atol=args.atol)
    res.to_csv(args.csv)
    print(f"wrote {args.csv}: {len(t_eval)} rows, columns time + {len(res.state_names)} species")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nmdakin", description="Kinetic models of NMDA-receptor synapses.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="the main job: EPSCs, the tLTD/tLTP pharmacology table and the synapse STDP "
                                    "curve, with figures")
    p.add_argument("--out", default="nmdakin-demo", help="output folder (default: nmdakin-demo)")
    p.add_argument("--quick", action="store_true", help="only the EPSC part")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("simulate", help="simulate a scheme file (text syntax or SBML) and write a CSV")
    p.add_argument("file", help="scheme in the kinetics text format, or an SBML file (.xml, .sbml)")
    p.add_argument("--t-end", type=float, required=True, help="end time (the scheme's time unit)")
    p.add_argument("--points", type=int, default=1001, help="number of output points (default 1001)")
    p.add_argument("--csv", required=True, help="output CSV path")
    p.add_argument("--param", action="append", type=_param_override, metavar="NAME=VALUE",
                   help="override a parameter (its declared unit); repeatable")
    p.add_argument("--method", default="auto")
    p.add_argument("--rtol", type=float, default=1e-6)
    p.add_argument("--atol", type=float, default=1e-9)
    p.set_defaults(func=cmd_simulate)

    from models import cli_chronic, cli_experiments, cli_export, cli_fit, cli_pharmacology

    cli_export.add_sbml_simulate_options(p)
    cli_export.add_subcommands(sub)
    cli_experiments.add_subcommands(sub)
    cli_pharmacology.add_subcommands(sub)
    cli_fit.add_subcommands(sub)
    cli_chronic.add_subcommands(sub)
    return parser


def main(argv=None) -> int:
    from kinetics.errors import KineticsError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (KineticsError, FileNotFoundError) as exc:
        print(f"nmdakin {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
