"""``nmdakin export``: a library model or a scheme file in another format.

``nmdakin export MODEL --format FMT -o OUT [--t-end T] [--pulse INPUT=T1,T2,...] [--hold INPUT=VALUE]``
    Export a model to ``latex``, ``sbml``, ``nmodl``, ``c``, ``python`` or ``json``
    (see :mod:`kinetics.exporters`). MODEL is a file (a scheme in the kinetics text
    format, ``.json`` from ``export --format json``, or SBML ``.xml``/``.sbml``)
    or a scheme builder of the registry (:mod:`models.registry`, ``nmdakin models``):
    ``MODULE[.BUILDER][:ARG]``, e.g. ``destexhe1994`` (a module's first builder),
    ``destexhe1994.two_state``, ``destexhe1994.five_state:hessler1993`` (the builder's
    first argument), ``pharmacokinetics.one_compartment:imipramine``, ``synapse``. ``--pulse`` adds square pulses (``--pulse-amplitude``,
    ``--pulse-width``) and ``--hold`` clamps an input from t = 0: the protocol the ``sbml``,
    ``nmodl``, ``c`` and ``python`` exports reproduce on their own (``--t-end`` is then
    required). ``-o -`` writes to standard output.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_subcommands", "cmd_export", "library_builders", "load_model"]

#: The formats that carry a protocol (--pulse/--hold) and a simulated window (--t-end).
_PROTOCOL_FORMATS = ("sbml", "nmodl", "c", "python")


def library_builders() -> dict:
    """``{"module.builder": function}`` of the registry's scheme builders that need no argument."""
    from models import registry

    return {e.name: e.load() for e in registry.available("scheme") if not e.requires}


def _resolve_library(spec: str):
    from kinetics.errors import ArgumentError, did_you_mean
    from models import registry

    name, _, arg = spec.partition(":")
    entries = registry.available("scheme")
    key = name.strip().lower().replace("-", "_")
    entry = next((e for e in entries if e.name.lower() == key), None)
    if entry is None:
        entry = next((e for e in entries if e.module == key), None)     # a module: its first builder
    if entry is None:
        names = [e.name for e in entries]
        modules = sorted({e.module for e in entries})
        raise ArgumentError(f"unknown model `{spec}`" + did_you_mean(key, modules + names)
                            + f"; give a file or one of: {', '.join(sorted(names))}")
    if entry.requires and not arg:
        raise ArgumentError(f"`{entry.name}` needs its `{entry.requires[0]}`: give `{entry.name}:"
                            f"{entry.requires[0].upper()}`")
    func = entry.load()
    return func(arg) if arg else func()


def load_model(spec: str):
    """A scheme (and the protocol of an SBML file's events) from a file or a library model spec.

    Returns ``(scheme, protocol_or_None, t_end_or_None)``.
    """
    path = Path(spec)
    if path.is_dir():
        from kinetics.errors import ArgumentError

        raise ArgumentError(f"cannot read model `{spec}`: it is a folder, not a file")
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in (".xml", ".sbml"):
            from kinetics.sbml import read_sbml_model

            m = read_sbml_model(path)
            return m.scheme, (m.protocol if len(m.protocol) else None), m.t_end
        if suffix == ".json":
            from kinetics.jsonformat import read_json

            return read_json(path), None, None
        from kinetics import read_scheme

        return read_scheme(path), None, None
    return _resolve_library(spec), None, None


def _pulse(text: str):
    name, sep, times = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected INPUT=T1,T2,..., got {text!r}")
    try:
        values = [float(x) for x in times.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"pulse times of {name.strip()!r} must be numbers: {times!r}") from None
    if not values:
        raise argparse.ArgumentTypeError(f"no pulse times for {name.strip()!r}")
    return name.strip(), values


def _hold(text: str):
    name, sep, value = text.partition("=")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected INPUT=VALUE, got {text!r}") from None


def cmd_export(args) -> int:
    from kinetics import Protocol, pulses, steps
    from kinetics.io import check_output_path
    from kinetics.errors import ArgumentError
    from kinetics.exporters import export, exporter

    from ._common import refuse_options

    ex = exporter(args.format)
    out = check_output_path(args.output, "output", allow_stdout=True)
    if out != "-" and out.suffix == "" and not out.is_dir():
        out = check_output_path(out.with_suffix(ex.suffix), "output")
    if not args.pulse:
        refuse_options([flag for flag, value in (("--pulse-amplitude", args.pulse_amplitude),
                                                 ("--pulse-width", args.pulse_width)) if value is not None],
                       "with --pulse INPUT=T1,T2,...", "they shape its pulses")
    if ex.name not in _PROTOCOL_FORMATS:
        if args.pulse or args.hold:
            raise ArgumentError(f"format `{ex.name}` takes no protocol (--pulse/--hold)")
        if args.t_end is not None:
            raise ArgumentError(f"format `{ex.name}` has no simulated window: --t-end applies to "
                                f"{', '.join(_PROTOCOL_FORMATS)}")
    scheme, protocol, t_end = load_model(args.model)
    amplitude = 1.0 if args.pulse_amplitude is None else args.pulse_amplitude
    width = 1.0 if args.pulse_width is None else args.pulse_width
    comps = [pulses(n, t, amplitude=amplitude, width=width) for n, t in (args.pulse or [])]
    comps += [steps(n, [0.0], [v]) for n, v in (args.hold or [])]
    if comps:
        protocol = Protocol(comps) + protocol if protocol is not None else Protocol(comps)
    if args.t_end is not None:
        t_end = args.t_end
    options = {}
    if ex.name in _PROTOCOL_FORMATS:
        if protocol is not None:
            if t_end is None:
                raise ArgumentError("`--t-end` is needed with --pulse/--hold (the end of the simulated window)")
            options.update(protocol=protocol, t_end=t_end)
        elif t_end is not None and ex.name in ("c", "python"):
            options["t_end"] = t_end
        elif args.t_end is not None:
            raise ArgumentError(f"--t-end is the end of the window of a protocol: give --pulse or --hold too (the "
                                f"{ex.name} export of a scheme without a protocol has no end time)")
    if args.voltage is not None:
        if ex.name != "nmodl":
            raise ArgumentError("`--voltage` applies to --format nmodl only")
        options["voltage"] = args.voltage
    if args.fragment:
        if ex.name != "latex":
            raise ArgumentError("`--fragment` applies to --format latex only")
        options["standalone"] = False
    if args.output == "-":
        text = export(scheme, ex.name, **options)
        sys.stdout.write(text if isinstance(text, str) else text.decode())
        return 0
    export(scheme, ex.name, out, **options)
    print(f"wrote {out} ({ex.name}: {ex.description}) for scheme `{scheme.name}`")
    return 0


def add_subcommands(subparsers) -> None:
    """Add ``export`` to an ``argparse`` subparsers object."""
    from kinetics.exporters import formats

    p = subparsers.add_parser("export", help="export a model: LaTeX, SBML, NMODL, C, Python or JSON",
                              description=__doc__.split("\n\n")[1].strip())
    p.add_argument("model", help="a scheme file (.txt, .json, .xml) or a library model (MODULE[.BUILDER][:SET])")
    p.add_argument("--format", "-f", required=True, choices=sorted(formats()), help="output format")
    p.add_argument("--output", "-o", required=True, help="output file ('-' for standard output)")
    p.add_argument("--t-end", type=float, default=None,
                   help="end of the simulated window (the scheme's time unit): needed with --pulse/--hold for "
                        "sbml and nmodl; c and python also take it alone")
    p.add_argument("--pulse", action="append", type=_pulse, metavar="INPUT=T1,T2,...",
                   help="square pulses on an input at these times; repeatable")
    p.add_argument("--pulse-amplitude", type=float, default=None,
                   help="with --pulse: pulse amplitude (default 1, the input's unit)")
    p.add_argument("--pulse-width", type=float, default=None,
                   help="with --pulse: pulse width (default 1, the scheme's time unit)")
    p.add_argument("--hold", action="append", type=_hold, metavar="INPUT=VALUE",
                   help="clamp an input to a value from t = 0; repeatable")
    p.add_argument("--voltage", choices=("v", "pointer", "parameter"), default=None,
                   help="nmodl: how voltage inputs are supplied (default v)")
    p.add_argument("--fragment", action="store_true", help="latex: a fragment instead of a standalone document")
    p.set_defaults(func=cmd_export)
