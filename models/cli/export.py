"""``nmdakin export``: a library model or a scheme file in another format.

``nmdakin export MODEL --format FMT -o OUT [--t-end T] [--input NAME=VALUE] [--pulse INPUT=T1,T2,...]
[--hold INPUT=VALUE]``
    Export a model to ``latex``, ``sbml``, ``nmodl``, ``c``, ``python`` or ``json``
    (see :mod:`kinetics.exporters`). MODEL is a file (a model in the kinetics text
    format, ``.json`` from ``export --format json``, or SBML ``.xml``/``.sbml``; its
    protocol and t_end come along) or a scheme builder of the registry (``nmdakin models``
    lists them): ``MODULE[.BUILDER][:ARG]``, e.g. ``destexhe1994`` (a module's first builder),
    ``destexhe1994.two_state``, ``destexhe1994.five_state:hessler1993`` (the builder's
    first argument), ``pharmacokinetics.one_compartment:imipramine``, ``synapse``.
    ``--input`` sets an input's value, ``--pulse`` adds square pulses (``--pulse-amplitude``,
    ``--pulse-width``) and ``--hold`` clamps an input from t = 0, each replacing what the file's
    protocol does to that input: the protocol the ``sbml``, ``nmodl``, ``c`` and ``python``
    exports reproduce on their own (``--t-end`` or the file's t_end is then required) and
    ``json`` stores. ``-o -`` writes to standard output.
"""
from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["add_subcommands", "cmd_export", "library_builders", "load_model"]

#: The formats that carry a protocol (--pulse/--hold) and a simulated window (--t-end).
_PROTOCOL_FORMATS = ("sbml", "nmodl", "c", "python", "json")


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
    """A scheme with the protocol and t_end its file gives (:func:`kinetics.read_model`), or a library model.

    Returns ``(scheme, protocol_or_None, t_end_or_None)``.
    """
    path = Path(spec)
    if path.is_dir():
        from kinetics.errors import ArgumentError

        raise ArgumentError(f"cannot read model `{spec}`: it is a folder, not a file")
    if path.is_file():
        from kinetics import read_model

        m = read_model(path)
        return m.scheme, (m.protocol if len(m.protocol) else None), m.t_end
    return _resolve_library(spec), None, None


def cmd_export(args) -> int:
    from kinetics.io import check_output_path
    from kinetics.errors import ArgumentError
    from kinetics.exporters import export, exporter

    from ._protocol_options import apply_protocol_options

    ex = exporter(args.format)
    out = check_output_path(args.output, "output", allow_stdout=True)
    if out != "-" and out.suffix == "" and not out.is_dir():
        out = check_output_path(out.with_suffix(ex.suffix), "output")
    if ex.name not in _PROTOCOL_FORMATS:
        if args.pulse or args.hold:
            raise ArgumentError(f"format `{ex.name}` takes no protocol (--pulse/--hold)")
        if args.t_end is not None:
            raise ArgumentError(f"format `{ex.name}` has no simulated window: --t-end applies to "
                                f"{', '.join(_PROTOCOL_FORMATS)}")
    scheme, protocol, t_end = load_model(args.model)
    scheme, protocol = apply_protocol_options(scheme, protocol, args)
    protocol = protocol if len(protocol) else None
    if args.t_end is not None:
        t_end = args.t_end
    options = {}
    if ex.name == "json":
        options.update({k: v for k, v in (("protocol", protocol), ("t_end", t_end)) if v is not None})
    elif ex.name in _PROTOCOL_FORMATS:
        if protocol is not None:
            if t_end is None:
                raise ArgumentError("`--t-end` is needed with --pulse/--hold or a file's protocol (the end of the "
                                    "simulated window)")
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

    from ._protocol_options import add_protocol_options

    p = subparsers.add_parser("export", help="export a model: LaTeX, SBML, NMODL, C, Python or JSON",
                              description=__doc__.split("\n\n")[1].strip())
    p.add_argument("model", help="a scheme file (.txt, .json, .xml) or a library model (MODULE[.BUILDER][:SET])")
    p.add_argument("--format", "-f", required=True, choices=sorted(formats()), help="output format")
    p.add_argument("--output", "-o", required=True, help="output file ('-' for standard output)")
    p.add_argument("--t-end", type=float, default=None,
                   help="end of the simulated window (the scheme's time unit; default: the file's t_end): needed "
                        "with a protocol for sbml and nmodl; c and python also take it alone; json stores it")
    add_protocol_options(p)
    p.add_argument("--voltage", choices=("v", "pointer", "parameter"), default=None,
                   help="nmodl: how voltage inputs are supplied (default v)")
    p.add_argument("--fragment", action="store_true", help="latex: a fragment instead of a standalone document")
    p.set_defaults(func=cmd_export)
