"""``nmdakin single-channel fit``: maximum-likelihood (HJC) fit of a scheme to an idealized single-channel record.

``nmdakin single-channel fit RECORD --scheme FILE --tres 25us [--tcrit 3.5ms] [--input NAME=VALUE ...]
(--open STATE,... | --conductance OBS) [--fit NAME,...] [--tie NAME=OTHER*FACTOR ...] [--reversibility NAME,...]
[--starts N] [--seed S] [--json OUT] [--plot PNG] [--agonist NAME] [--progress | --quiet]``

RECORD is a DCprogs ``.scn``, a QuB ``.dwt`` or a CSV of amplitude and duration
(:mod:`kinetics.singlechannel.records`); FILE a scheme in the kinetics text format or JSON. Times take a unit
(``25us``, ``3.5ms``, ``0.1s``; a bare number is in seconds). ``--input`` values are in the scheme's units (an
agonist concentration). Without ``--fit`` every scheme parameter not tied or set by reversibility is fitted.
Prints the report; ``--json`` writes the fitted values, standard errors and log-likelihood; ``--plot`` draws the
apparent open- and shut-time histograms (log time axis, square-root counts) with the fitted HJC pdfs and, with
``--agonist``, the fitted equilibrium P_open curve. Exit status 0 (converged), 3 (not converged), 2 (bad input).
"""
from __future__ import annotations

import argparse
import math
import re

__all__ = ["add_subcommands", "cmd_fit", "parse_time"]

_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ns": 1e-9}


def parse_time(text: str) -> float:
    """Seconds from ``"25us"``, ``"3.5 ms"``, ``"0.1s"`` or a bare number of seconds.

    >>> parse_time("25us"), parse_time("3.5ms"), parse_time("0.002")
    (2.5e-05, 0.0035, 0.002)
    """
    m = re.fullmatch(r"\s*([-+0-9.eE]+)\s*([a-zµμ]*)\s*", str(text))
    if not m or m.group(2) not in ("",) + tuple(_UNITS):
        raise argparse.ArgumentTypeError(f"expected a time such as 25us, 3.5ms or 0.1s, got {text!r}")
    try:
        v = float(m.group(1)) * _UNITS.get(m.group(2) or "s")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a time such as 25us, 3.5ms or 0.1s, got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"a time must be positive, got {text!r}")
    return round(v, 15)


def _name_value(text: str):
    name, sep, value = str(text).partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER, got {text!r}") from None


def _tie(text: str):
    m = re.fullmatch(r"\s*(\w+)\s*=\s*(\w+)\s*(?:\*\s*([-+0-9.eE]+))?\s*", str(text))
    if not m:
        raise argparse.ArgumentTypeError(f"expected NAME=OTHER or NAME=OTHER*FACTOR, got {text!r}")
    return m.group(1), (m.group(2), float(m.group(3) or 1.0))


def _names(text: str) -> list:
    return [n.strip() for n in str(text).split(",") if n.strip()]


def _read_scheme(path):
    from kinetics import read_scheme
    from kinetics.jsonformat import read_json

    return read_json(path) if str(path).lower().endswith(".json") else read_scheme(path)


def cmd_fit(args) -> int:
    """Run ``nmdakin single-channel fit`` with parsed ``args``; returns the exit status."""
    from kinetics.errors import ArgumentError
    from kinetics.io import check_output_path
    from kinetics.singlechannel import SingleChannelData, fit_records, read_record

    from ._common import check_input_path, write_json

    check_input_path(args.record, "record file")
    check_input_path(args.scheme, "scheme file")
    check_output_path(args.json, "JSON")
    check_output_path(args.plot, "figure", figure=True)
    if (args.open is None) == (args.conductance is None):
        raise ArgumentError("say which states are open: --open STATE,... or --conductance OBSERVABLE")
    if args.agonist and not args.plot:
        raise ArgumentError("--agonist adds a panel to the figure: give --plot PNG too")
    scheme = _read_scheme(args.scheme)
    record = read_record(args.record)
    inputs = dict(args.input or [])
    data = SingleChannelData(record, tres=args.tres, tcrit=args.tcrit, inputs=inputs, name=str(args.record))
    tied = dict(args.tie or [])
    mr = args.reversibility or []
    free = args.fit or [n for n in scheme.parameter_names if n not in tied and n not in mr]
    progress = True if args.progress else (False if args.quiet else None)
    result = fit_records(scheme, data, free, open_states=args.open, conductance=args.conductance, tied=tied,
                         reversibility=mr, n_starts=args.starts, seed=args.seed, progress=progress)
    if not args.quiet:
        print(f"record `{args.record}`: {data.n_intervals} apparent intervals in {len(data.bursts)} group(s) at "
              f"tres = {args.tres * 1e6:g} us" + (f", tcrit = {args.tcrit * 1e3:g} ms" if args.tcrit else ""))
        print(result.report())
    if args.json:
        write_json(args.json, {
            "scheme": scheme.name, "record": str(args.record), "tres_s": args.tres, "tcrit_s": args.tcrit,
            "inputs": inputs, "log_likelihood": result.log_likelihood, "success": result.success,
            "message": result.message, "free": list(result.free), "values": result.values,
            "standard_errors": {k: (v if math.isfinite(v) else None) for k, v in result.standard_errors.items()},
            "n_intervals": data.n_intervals, "n_groups": len(data.bursts)})
    if args.plot:
        _plot(args, result, data)
    if not args.quiet and (args.json or args.plot):
        print("wrote " + " and ".join(p for p in (args.json, args.plot) if p))
    return 0 if result.success else 3


def _plot(args, result, data) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from kinetics.singlechannel import HJC

    q = result.q_matrix(inputs=data.inputs, open_states=args.open, conductance=args.conductance)
    h = HJC(q, data.tres)
    flat = np.concatenate(data.bursts)
    pos = np.concatenate([np.arange(b.size) for b in data.bursts])
    from kinetics.plotstyle import label, style

    with style():
        fig = _draw(args, result, data, h, flat, pos, plt, label)
    from kinetics.io import atomic_savefig

    atomic_savefig(fig, args.plot, dpi=110)
    plt.close(fig)


def _draw(args, result, data, h, flat, pos, plt, label):
    import numpy as np

    from kinetics.singlechannel.qmatrix import popen_curve

    panels = 3 if args.agonist else 2
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.6))
    for ax, times, pdf, what in ((axes[0], flat[pos % 2 == 0], h.open_pdf, "apparent open time"),
                                 (axes[1], flat[pos % 2 == 1], h.shut_pdf, "apparent shut time")):
        if times.size == 0:
            ax.set_title(f"{what}: none")
            ax.set_xlabel(label(what, "s"))
            ax.set_ylabel(label("sqrt(count)", "per log bin"))
            continue
        edges = np.logspace(np.log10(data.tres), np.log10(times.max() * 1.5), 40)
        counts, _ = np.histogram(times, edges)
        ax.stairs(np.sqrt(counts), edges, color="0.4", label="record")
        t = np.logspace(np.log10(data.tres * 1.0001), np.log10(edges[-1]), 300)
        # expected counts per bin of width dlog10: N f(t) t ln(10) dlog10
        dlog = np.log10(edges[1] / edges[0])
        ax.plot(t, np.sqrt(times.size * pdf(t) * t * np.log(10) * dlog), color="C1", label="HJC fit")
        ax.set_xscale("log")
        ax.set_xlabel(label(what, "s"))
        ax.set_ylabel(label("sqrt(count)", "per log bin"))
        ax.set_title(f"{what} distribution")
        ax.legend()
    if args.agonist:
        c0 = data.inputs.get(args.agonist, 1.0) or 1.0
        c = np.logspace(np.log10(c0) - 4, np.log10(c0) + 4, 60)
        po = popen_curve(result.scheme, args.agonist, c, inputs=data.inputs, open_states=args.open,
                         conductance=args.conductance)
        axes[2].semilogx(c, po, "k")
        unit = next((u.unit for u in result.scheme.inputs if u.name == args.agonist and u.unit),
                    result.scheme.units.concentration)
        axes[2].set_xlabel(label(args.agonist, unit))
        axes[2].set_ylabel(label("equilibrium P_open", "fraction"))
        axes[2].set_title(f"P_open vs {args.agonist}")
    fig.tight_layout()
    return fig


def add_subcommands(subparsers) -> None:
    """Add ``single-channel`` (with its ``fit`` subcommand) to an argparse subparsers object."""
    from ._common import positive_int

    p = subparsers.add_parser("single-channel", help="single-channel kinetics: fit idealized records (HJC)",
                              description="Single-channel kinetics of a scheme: maximum-likelihood fits of "
                                          "idealized records with exact missed-events (HJC) likelihoods.")
    sub = p.add_subparsers(dest="single_channel_command", required=True, metavar="ACTION")
    f = sub.add_parser("fit", help="fit a scheme's rate constants to an idealized record",
                       description=__doc__.split("\n\n")[2] if __doc__ else None)
    f.add_argument("record", help="idealized record: .scn (DCprogs SCAN), .dwt (QuB) or .csv")
    f.add_argument("--scheme", required=True, metavar="FILE", help="scheme file (kinetics text format or JSON)")
    f.add_argument("--tres", required=True, type=parse_time, metavar="TIME", help="resolution, e.g. 25us")
    f.add_argument("--tcrit", type=parse_time, metavar="TIME",
                   help="critical shut time: fit bursts with CHS vectors (default: the whole record)")
    f.add_argument("--input", action="append", type=_name_value, metavar="NAME=VALUE",
                   help="constant input of the scheme (agonist concentration, in the scheme's units); repeatable")
    f.add_argument("--open", type=_names, metavar="STATE,...", help="the open states")
    f.add_argument("--conductance", metavar="OBS", help="observable whose non-zero terms are the open states")
    f.add_argument("--fit", type=_names, metavar="NAME,...", help="free rate constants (default: all others)")
    f.add_argument("--tie", action="append", type=_tie, metavar="NAME=OTHER*FACTOR", help="tie a rate; repeatable")
    f.add_argument("--reversibility", type=_names, metavar="NAME,...",
                   help="rates set by microscopic reversibility (one per independent cycle)")
    f.add_argument("--starts", type=positive_int, default=1, metavar="N", help="number of starts (default 1)")
    f.add_argument("--seed", type=int, help="seed of the random starts")
    f.add_argument("--json", metavar="OUT", help="write the result as JSON")
    f.add_argument("--plot", metavar="PNG", help="dwell-time histograms with the fitted HJC pdfs")
    f.add_argument("--agonist", metavar="NAME", help="with --plot: also draw the P_open curve of this input")
    g = f.add_mutually_exclusive_group()
    g.add_argument("--progress", action="store_true", help="always show the progress bar")
    g.add_argument("--quiet", action="store_true", help="no progress bar, no report on stdout")
    f.set_defaults(func=cmd_fit)
