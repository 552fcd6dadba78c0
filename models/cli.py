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

Errors
------
Every error ends the command with ONE line on standard error, ``nmdakin COMMAND: error: MESSAGE``, and exit
status 2 (:func:`main`, :func:`describe_error`): the project's own errors (:mod:`kinetics.errors`), operating
system errors (a folder given as a file, no permission, a full disk), bad input that Python itself refuses
(``ValueError``, ``RecursionError`` of too deeply nested files, ``MemoryError``) and any unexpected
exception. Ctrl-C prints ``nmdakin COMMAND: interrupted`` and exits with 130. ``--debug`` (anywhere on the
command line, or ``NMDAKIN_DEBUG=1``) prints the traceback before that line. Usage errors of the command line
itself are one line too (exit 2). Warnings are printed as one line each: ``nmdakin COMMAND: warning: ...``.
Output paths (``--json``, ``--csv``, ``--plot``, ``-o``, ``--out``) are checked before any work starts
(:func:`kinetics.io.check_output_path`), so a long fit is never lost to a bad output path.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

__all__ = ["main", "describe_error", "MAX_POINTS"]

#: Largest ``--points`` of ``nmdakin simulate`` (the CSV of 10 million rows is already gigabytes).
MAX_POINTS = 10_000_000
#: Longest error message printed (longer ones keep their start and end).
_MAX_MESSAGE = 1000


def _param_override(text: str) -> tuple[str, float]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected name=value, got {text!r}")
    name, value = text.split("=", 1)
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"value of {name.strip()!r} is not a number: {value!r}") from None


def _points(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 2 <= n <= MAX_POINTS:
        raise argparse.ArgumentTypeError(f"must be between 2 and {MAX_POINTS}, got {n}")
    return n


def check_input_path(path, what: str = "input file") -> Path:
    """``path`` as a :class:`Path` if it is a readable file; :class:`~kinetics.errors.ArgumentError` otherwise."""
    from kinetics.errors import ArgumentError

    p = Path(path)
    if not str(path).strip():
        raise ArgumentError(f"the {what} path is empty")
    if p.is_dir():
        raise ArgumentError(f"cannot read {what} `{p}`: it is a folder, not a file")
    if not p.exists():
        raise ArgumentError(f"{what} not found: `{p}`")
    if not os.access(p, os.R_OK):
        raise ArgumentError(f"cannot read {what} `{p}`: permission denied")
    return p


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
    try:
        atomic_savefig(fig, png_path, dpi=120)
    finally:
        plt.close(fig)
    print(f"      wrote {png_path} and {csv_path}")


def cmd_demo(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from models.cli_experiments import _write_json
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
    from kinetics.io import check_output_path
    from kinetics.errors import ArgumentError

    check_input_path(args.file, "model file")
    check_output_path(args.csv, "CSV")
    if not 2 <= args.points <= MAX_POINTS:
        raise ArgumentError(f"--points must be between 2 and {MAX_POINTS}, got {args.points}")
    if args.file.lower().endswith((".xml", ".sbml")):
        from models import cli_export

        return cli_export.simulate_sbml(args)

    if args.file.lower().endswith(".json"):
        from kinetics.jsonformat import read_json

        scheme = read_json(args.file)
    else:
        scheme = read_scheme(args.file)
    params = dict(args.param or [])
    t_eval = np.linspace(0.0, args.t_end, args.points)
    res = simulate(scheme, t_end=args.t_end, t_eval=t_eval, params=params, method=args.method,
                   rtol=args.rtol, atol=args.atol)
    res.to_csv(args.csv)
    print(f"wrote {args.csv}: {len(t_eval)} rows, columns time + {len(res.state_names)} species")
    return 0


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line (``PROG: error: MESSAGE (see PROG --help)``).

    ``add_subparsers`` creates subparsers of the same class, so every subcommand behaves alike."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {_one_line(' '.join(str(message).split()))} "
                     f"(see `{self.prog} --help`)\n")

    def _check_value(self, action, value):
        # argparse's own check, plus "did you mean" for a misspelt choice
        if action.choices is not None and value not in action.choices:
            from kinetics.errors import did_you_mean

            names = [str(c) for c in action.choices]
            raise argparse.ArgumentError(action, f"invalid choice: {value!r}" + did_you_mean(str(value), names)
                                         + f" (choose from {', '.join(names)})")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nmdakin", description="Kinetic models of NMDA-receptor synapses.")
    parser.add_argument("--debug", action="store_true",
                        help="show the Python traceback of an error (also accepted after the subcommand; "
                             "or set NMDAKIN_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="the main job: EPSCs, the tLTD/tLTP pharmacology table and the synapse STDP "
                                    "curve, with figures")
    p.add_argument("--out", default="nmdakin-demo", help="output folder (default: nmdakin-demo)")
    p.add_argument("--quick", action="store_true", help="only the EPSC part")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("simulate", help="simulate a scheme file (text syntax or SBML) and write a CSV")
    p.add_argument("file", help="scheme in the kinetics text format, JSON (.json, from `nmdakin export -f json`) "
                                "or SBML (.xml, .sbml)")
    p.add_argument("--t-end", type=float, required=True, help="end time (the scheme's time unit)")
    p.add_argument("--points", type=_points, default=1001,
                   help=f"number of output points, 2 to {MAX_POINTS} (default 1001)")
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


def _one_line(text: str) -> str:
    """``text`` on one line of printable characters, at most ``_MAX_MESSAGE`` long."""
    text = " | ".join(line.strip() for line in str(text).splitlines() if line.strip())
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(text) > _MAX_MESSAGE:
        keep = _MAX_MESSAGE - 200
        text = f"{text[:keep]} ...[{len(text) - keep - 150} characters]... {text[-150:]}"
    return text


_WRITE_ERRNOS = {"ENOSPC", "EDQUOT", "EROFS", "EFBIG"}


def describe_error(exc: BaseException) -> str:
    """The one-line message the command line prints for ``exc`` (without the ``nmdakin CMD: error:`` part)."""
    import errno

    from kinetics.errors import KineticsError

    if isinstance(exc, KineticsError):
        msg = str(exc)
    elif isinstance(exc, OSError):
        if exc.strerror and exc.filename is not None:
            names = f"`{exc.filename}`" + (f" -> `{exc.filename2}`" if exc.filename2 is not None else "")
            verb = "cannot write " if errno.errorcode.get(exc.errno) in _WRITE_ERRNOS else ""
            msg = f"{verb}{names}: {exc.strerror}"
        else:
            msg = exc.strerror or str(exc)
    elif isinstance(exc, RecursionError):
        msg = "the input is nested too deeply to be read (maximum recursion depth exceeded)"
    elif isinstance(exc, MemoryError):
        msg = "out of memory (is an input file, a range or --points too large?)"
    elif isinstance(exc, UnicodeError):
        msg = f"the input is not valid UTF-8 text ({exc})"
    elif isinstance(exc, ValueError):
        msg = str(exc)
    else:
        msg = f"{type(exc).__name__}: {exc} (an internal error: run with --debug for the traceback)"
    return _one_line(msg or type(exc).__name__)


def _pop_debug(argv: list) -> bool:
    """Remove every ``--debug`` before a ``--`` from ``argv``; True if there was one."""
    end = argv.index("--") if "--" in argv else len(argv)
    found = "--debug" in argv[:end]
    argv[:end] = [a for a in argv[:end] if a != "--debug"]
    return found


def main(argv=None) -> int:
    """Run the command line; returns the exit status (0 success, 2 error, 3 fit not converged, 130 Ctrl-C).

    Usage errors exit through ``SystemExit(2)`` (argparse), with one line on standard error."""
    import traceback
    import warnings

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = _pop_debug(argv) or os.environ.get("NMDAKIN_DEBUG", "").strip() not in ("", "0")
    prog = "nmdakin"
    old_showwarning = warnings.showwarning

    def showwarning(message, category, filename, lineno, file=None, line=None):
        if debug:
            return old_showwarning(message, category, filename, lineno, file, line)
        print(f"{prog}: warning: {_one_line(message)}", file=sys.stderr if file is None else file)

    warnings.showwarning = showwarning
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        prog = f"nmdakin {args.command}"
        status = args.func(args)
        sys.stdout.flush()               # a closed pipe shows up here, inside the error handling
        return status
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError as exc:
        if exc.filename is not None:     # a file, not our standard output read by a closed pipe
            if debug:
                traceback.print_exc()
            print(f"{prog}: error: {describe_error(exc)}", file=sys.stderr)
            return 2
        try:                             # `nmdakin ... | head`: stop quietly like other command-line tools
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141
    except Exception as exc:             # noqa: BLE001 - every error becomes one line (see the module docstring)
        if debug:
            traceback.print_exc()
        print(f"{prog}: error: {describe_error(exc)}", file=sys.stderr)
        return 2
    finally:
        warnings.showwarning = old_showwarning


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
