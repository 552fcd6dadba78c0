"""``nmdakin simulate``: simulate a model file and write a CSV.

``nmdakin simulate FILE --csv OUT [--t-end T] [--points N] [--param NAME=VALUE ...] [--input NAME=VALUE ...]
[--pulse INPUT=T1,T2,... [--pulse-amplitude A] [--pulse-width W]] [--hold INPUT=VALUE ...] [--method M]
[--rtol R] [--atol A]``
    FILE is a model in the kinetics text format, JSON (``.json``, from ``nmdakin export -f json``) or SBML
    (``.xml``/``.sbml``), read with :func:`kinetics.read_model`: the file's protocol (text: protocol lines;
    JSON: ``"protocol"``; SBML: events) drives the simulation, and its ``t_end`` is the end time unless
    ``--t-end`` is given (one of the two is needed). ``--input``, ``--pulse`` and ``--hold`` replace what the
    file's protocol does to the inputs they name (:mod:`models.cli._protocol_options`); ``--param`` overrides a
    parameter (in its declared unit). An input the equations read that nothing drives and whose default is
    zero is reported in one warning. The CSV of a text or JSON file has ``time`` and every species and
    observable, each header with its unit (``time [ms]``, ``A [mM]``).
``nmdakin simulate FILE.xml ... [--amounts ID,ID]``
    :func:`simulate_sbml`: an SBML model with its events. The CSV has ``time``, every species id (its
    concentration unless the species has only substance units, or its amount for the ids in ``--amounts``),
    and every parameter or compartment that changes over time (observables exported by nmdakin among them).
"""
from __future__ import annotations

import argparse

from ._common import check_input_path

__all__ = ["add_subcommands", "add_sbml_simulate_options", "cmd_simulate", "simulate_sbml", "MAX_POINTS"]

#: Largest ``--points`` of ``nmdakin simulate`` (the CSV of 10 million rows is already gigabytes).
MAX_POINTS = 10_000_000


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


def _method_name(method: str) -> str:
    """The solver name as kinetics spells it, matched without case (``lsoda`` -> ``LSODA``); an unknown name is
    passed on, for kinetics' own error with a suggestion."""
    from kinetics.errors import resolve_name
    from kinetics.simulate import NATIVE_METHODS, SCIPY_METHODS

    return resolve_name(method, [*NATIVE_METHODS, *SCIPY_METHODS]) or method


def _check_params(scheme, params: dict, renamed=None) -> None:
    """``--param`` naming an input: say to use ``--input`` (the scheme reports other unknown names)."""
    from kinetics.errors import ArgumentError

    for name in params:
        if (renamed or {}).get(name, name) in scheme.input_names and name not in scheme.parameter_names:
            raise ArgumentError(f"--param {name}=...: `{name}` is an input, not a parameter: use --input "
                                f"{name}=VALUE (a constant value), or --pulse/--hold")


def _t_end(args, model) -> float:
    from kinetics.errors import ArgumentError

    if args.t_end is not None:
        return float(args.t_end)
    if model.t_end is None:
        raise ArgumentError(f"give --t-end: `{args.file}` has no `t_end` (the end of the simulated window)")
    return model.t_end


def _warn_undriven(scheme, protocol, file) -> None:
    import warnings

    from ._protocol_options import undriven_inputs

    names = undriven_inputs(scheme, protocol)
    if names:
        listed = ", ".join(f"`{n}`" for n in names)
        one = len(names) == 1
        warnings.warn(f"input{'' if one else 's'} {listed} {'is' if one else 'are'} driven by nothing (no protocol "
                      f"for {'it' if one else 'them'} in `{file}`, no --input/--pulse/--hold) and "
                      f"stay{'s' if one else ''} at {'its' if one else 'their'} default 0; give the file a protocol "
                      f"or use --input NAME=VALUE", UserWarning, stacklevel=2)


def cmd_simulate(args) -> int:
    import numpy as np

    from kinetics import read_model, simulate
    from kinetics.errors import ArgumentError
    from kinetics.io import check_output_path

    from ._protocol_options import apply_protocol_options

    check_input_path(args.file, "model file")
    check_output_path(args.csv, "CSV")
    args.method = _method_name(args.method)
    if not 2 <= args.points <= MAX_POINTS:
        raise ArgumentError(f"--points must be between 2 and {MAX_POINTS}, got {args.points}")
    if args.file.lower().endswith((".xml", ".sbml")):
        return simulate_sbml(args)
    if getattr(args, "amounts", None) or getattr(args, "columns", None):
        raise ArgumentError(f"{'--amounts' if getattr(args, 'amounts', None) else '--columns'} applies to SBML files "
                            "(.xml, .sbml) only: a kinetics scheme's CSV has every species and observable, in the "
                            "units they declare")

    model = read_model(args.file)
    params = dict(args.param or [])
    _check_params(model.scheme, params)
    scheme, protocol = apply_protocol_options(model.scheme, model.protocol, args)
    t_end = _t_end(args, model)
    _warn_undriven(scheme, protocol, args.file)
    t_eval = np.linspace(0.0, t_end, args.points)
    res = simulate(scheme, protocol, t_end=t_end, t_eval=t_eval, params=params, method=args.method,
                   rtol=args.rtol, atol=args.atol)
    res.to_csv(args.csv, include=("states", "observables"))
    n_obs = len(res.observable_names)
    print(f"wrote {args.csv}: {len(t_eval)} rows, columns time + {len(res.state_names)} species"
          + (f" + {n_obs} observable{'' if n_obs == 1 else 's'}" if n_obs else ""))
    return 0


def _id_list(text: str) -> list:
    return [x.strip() for x in text.split(",") if x.strip()]


def add_sbml_simulate_options(parser) -> None:
    """Add ``--amounts ID,ID`` to the ``simulate`` parser (used for SBML files only)."""
    parser.add_argument("--amounts", type=_id_list, default=None, metavar="ID,ID",
                        help="SBML: report these species as amounts instead of concentrations")
    parser.add_argument("--columns", type=_id_list, default=None, metavar="ID,ID",
                        help="SBML: the ids to write, in this order (species, parameters, compartments, "
                             "assignment-rule targets, species references; default every species and every "
                             "parameter or compartment that changes)")


def simulate_sbml(args) -> int:
    """Simulate an SBML file (``args.file``) with its events; write ``args.csv``.

    Uses ``args.t_end`` (None: the ``t_end`` an nmdakin export stored), ``args.points`` and, when present,
    ``args.amounts``, ``args.param`` (``[(id, value)]`` in the SBML model's units), the protocol options
    (``--input``, ``--pulse``, ``--hold``: :mod:`models.cli._protocol_options`), ``args.method``,
    ``args.rtol`` and ``args.atol``.
    """
    import dataclasses

    import numpy as np

    from kinetics.io import atomic_write_text, check_output_path
    from kinetics.errors import ArgumentError
    from kinetics.sbml import read_sbml_model

    from ._protocol_options import apply_protocol_options

    if args.points < 2:
        raise ArgumentError("--points must be at least 2")
    check_output_path(args.csv, "CSV")
    model = read_sbml_model(args.file)
    params = {}
    for name, value in getattr(args, "param", None) or []:
        params[model.renamed.get(name, name)] = value
    _check_params(model.scheme, params)
    scheme, protocol = apply_protocol_options(model.scheme, model.protocol, args)
    model = dataclasses.replace(model, scheme=scheme, protocol=protocol)
    t_end = _t_end(args, model)
    _warn_undriven(scheme, protocol, args.file)
    t_eval = np.linspace(0.0, t_end, int(args.points))
    kw = {k: getattr(args, k) for k in ("method", "rtol", "atol") if getattr(args, k, None) is not None}
    df = model.simulate(t_end, t_eval, ids=getattr(args, "columns", None),
                        amounts=getattr(args, "amounts", None) or (), params=params or None, **kw)
    cols = list(df.columns)
    lines = [",".join(cols)]
    for row in df.itertuples(index=False):
        lines.append(",".join(repr(float(x) + 0.0) for x in row))       # + 0.0: no "-0.0"
    atomic_write_text(args.csv, "\n".join(lines) + "\n")
    print(f"wrote {args.csv}: {len(df)} rows, columns {', '.join(cols)}")
    return 0


def add_subcommands(subparsers) -> None:
    """Add ``simulate`` to an argparse subparsers object."""
    from ._protocol_options import add_protocol_options

    p = subparsers.add_parser("simulate", help="simulate a model file (text syntax, JSON or SBML) with its protocol "
                                               "and write a CSV")
    p.add_argument("file", help="model in the kinetics text format, JSON (.json, from `nmdakin export -f json`) "
                                "or SBML (.xml, .sbml); its protocol drives the simulation")
    p.add_argument("--t-end", type=float, default=None,
                   help="end time (the scheme's time unit); default: the file's t_end")
    p.add_argument("--points", type=_points, default=1001,
                   help=f"number of output points, 2 to {MAX_POINTS} (default 1001)")
    p.add_argument("--csv", required=True, help="output CSV path")
    p.add_argument("--param", action="append", type=_param_override, metavar="NAME=VALUE",
                   help="override a parameter (its declared unit); repeatable")
    add_protocol_options(p)
    p.add_argument("--method", default="auto",
                   help="solver: auto (native Dormand-Prince switching to RODAS4 when stiff; default), dopri5, "
                        "rodas, or scipy's LSODA, BDF, Radau, RK45, DOP853, RK23")
    p.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance (default 1e-6)")
    p.add_argument("--atol", type=float, default=1e-9, help="absolute tolerance, in the scheme's units (default 1e-9)")
    p.set_defaults(func=cmd_simulate)
    add_sbml_simulate_options(p)
