"""``nmdakin fit``: fit a model to data described by an experiment file.

``nmdakin fit EXPERIMENT.toml --json OUT [--plot PNG] [--starts N] [--scheduler ADDRESS] [--workers N]
[--seed S] [--no-profiles] [--progress | --quiet]``

Reads the experiment file (format: :mod:`kinetics.fitting.experiment_file`, example in
``examples/fit_destexhe/``), runs the multistart fit (and likelihood profiles unless ``--no-profiles``) on a
local process pool, or on a dask.distributed cluster with ``--scheduler tcp://host:8786``, prints the report,
writes the result as JSON and, with ``--plot``, an overview figure (data vs fit, multistart waterfall,
profiles). Exit status: 0 when the fit converged, 3 when the optimiser stopped without converging (results are
still written), 2 for bad input.

A ``builder`` named in the file must be a scheme builder or transform of the model registry
(:func:`models.registry.scheme_builder`, ``nmdakin models``).
"""
from __future__ import annotations

import argparse
import sys

__all__ = ["add_subcommands", "cmd_fit", "DEFAULT_CONNECT_TIMEOUT"]

#: Seconds ``--scheduler`` waits for the dask scheduler unless ``--connect-timeout`` says otherwise.
DEFAULT_CONNECT_TIMEOUT = 10.0


def cmd_fit(args) -> int:
    """Run ``nmdakin fit`` with parsed ``args``; returns the exit status."""
    from kinetics.io import check_output_path
    from kinetics.errors import ArgumentError, KineticsError
    from kinetics.executor import check_scheduler_address, connect_scheduler
    from kinetics.fitting import read_experiment

    from models.registry import scheme_builder

    from ._common import check_input_path

    client = None
    try:
        # every path is checked before the (possibly hours long) fit: a bad --json must not lose the result
        check_input_path(args.experiment, "experiment file")
        check_output_path(args.json, "JSON")
        check_output_path(args.plot, "figure", figure=True)
        if args.scheduler and args.workers is not None:
            raise ArgumentError("--workers sets the local processes; with --scheduler the cluster's workers run "
                                "the fit: give one of them")
        if args.connect_timeout is not None and not args.scheduler:
            raise ArgumentError("--connect-timeout applies to --scheduler ADDRESS only")
        if args.scheduler:
            check_scheduler_address(args.scheduler)
        exp = read_experiment(args.experiment, resolve_builder=scheme_builder)
        executor = None
        if args.scheduler:
            timeout = DEFAULT_CONNECT_TIMEOUT if args.connect_timeout is None else args.connect_timeout
            client = connect_scheduler(args.scheduler, timeout=timeout)
            executor = client
        elif args.workers is not None:
            executor = "serial" if args.workers == 1 else args.workers
        progress = True if args.progress else (False if args.quiet else None)
        result = exp.run(executor=executor, n_starts=args.starts, seed=args.seed,
                         profiles=False if args.no_profiles else None, progress=progress)
        result.to_json(args.json)
        if args.plot:
            import matplotlib

            matplotlib.use("Agg")
            result.plot(args.plot)
    except (KineticsError, FileNotFoundError) as exc:
        print(f"nmdakin fit: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - a scheduler gone away: the result is already written
                pass
    if not args.quiet:
        print(f"experiment `{exp.name}`" + (f": {exp.description}" if exp.description else ""))
        print(result.report())
        print(f"wrote {args.json}" + (f" and {args.plot}" if args.plot else ""))
    return 0 if result.success else 3


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def add_subcommands(subparsers) -> None:
    """Add ``fit`` to an argparse subparsers object (``parser.add_subparsers()``)."""
    p = subparsers.add_parser(
        "fit", help="fit rate constants to data described by an experiment file (TOML)",
        description="Fit a model to datasets described by an experiment file (TOML): multistart least squares "
                    "with exact sensitivities, standard errors, profile-likelihood intervals and an "
                    "identifiability report. Format: kinetics/fitting/experiment_file.py, example: "
                    "examples/fit_destexhe/.")
    p.add_argument("experiment", help="experiment file (TOML)")
    p.add_argument("--json", required=True, metavar="OUT", help="write the result as JSON to OUT")
    p.add_argument("--plot", metavar="PNG", help="write an overview figure (fits, waterfall, profiles)")
    p.add_argument("--starts", type=_positive_int, metavar="N", help="number of starts (overrides the file)")
    p.add_argument("--seed", type=int, help="seed of the start design (overrides the file)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a dask.distributed scheduler (e.g. tcp://127.0.0.1:8786) instead of local processes")
    p.add_argument("--connect-timeout", type=float, default=None,
                   help=f"with --scheduler: seconds to wait for the dask scheduler (default "
                        f"{DEFAULT_CONNECT_TIMEOUT:g})")
    p.add_argument("--workers", type=_positive_int, metavar="N",
                   help="local worker processes, not with --scheduler (default: the file's `workers`, else every "
                        "core; 1: this process)")
    p.add_argument("--no-profiles", action="store_true", help="skip likelihood profiles (Wald intervals only)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--progress", action="store_true", help="always show progress bars")
    g.add_argument("--quiet", action="store_true", help="no progress bars, no report on stdout")
    p.set_defaults(func=cmd_fit)
