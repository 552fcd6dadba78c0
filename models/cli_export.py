"""``nmdakin export`` and the SBML side of ``nmdakin simulate``.

``nmdakin export MODEL --format FMT -o OUT [--t-end T] [--pulse INPUT=T1,T2,...] [--hold INPUT=VALUE]``
    Export a model to ``latex``, ``sbml``, ``nmodl``, ``c``, ``python`` or ``json``
    (see :mod:`kinetics.exporters`). MODEL is a file (a scheme in the kinetics text
    format, ``.json`` from ``export --format json``, or SBML ``.xml``/``.sbml``)
    or a library model: ``MODULE[.BUILDER][:SET]``, e.g. ``destexhe1994``,
    ``destexhe1994.two_state``, ``destexhe1994.five_state:hessler1993``,
    ``synapse`` (``nmdakin export list --format json -o -`` lists them). ``--pulse``
    adds square pulses (``--pulse-amplitude``, ``--pulse-width``) and ``--hold``
    clamps an input from t = 0: the protocol the ``sbml``, ``nmodl``, ``c`` and
    ``python`` exports reproduce on their own (``--t-end`` is then required).
    ``-o -`` writes to standard output.

``nmdakin simulate FILE.xml --t-end T --points N --csv OUT [--amounts ID,ID]``
    :func:`simulate_sbml`, which the main CLI calls for ``.xml``/``.sbml`` files
    (:func:`add_sbml_simulate_options` adds ``--amounts`` to its parser). The CSV
    has ``time``, every species id (its concentration unless the species has
    only substance units, or its amount for the ids in ``--amounts``), and every
    parameter or compartment that changes over time.
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

__all__ = ["add_subcommands", "add_sbml_simulate_options", "simulate_sbml", "cmd_export", "library_builders",
           "load_model"]

#: Modules of the models package that hold no scheme builders.
_NOT_MODELS = {"registry", "experiments", "pharmacology", "__main__"}


def library_builders() -> dict:
    """``{"module.builder": function}`` for every builder in :mod:`models` callable without arguments.

    A builder is a public function (in the module's ``__all__``) whose
    parameters all have defaults and whose return annotation is ``Scheme``.
    """
    import models

    out = {}
    for info in pkgutil.iter_modules(models.__path__):
        if info.name.startswith("cli") or info.name in _NOT_MODELS or info.name.startswith("_"):
            continue
        try:
            mod = importlib.import_module(f"models.{info.name}")
        except ImportError:  # pragma: no cover - a model with a missing optional dependency
            continue
        for name in getattr(mod, "__all__", ()):
            f = getattr(mod, name, None)
            fn = inspect.unwrap(f) if callable(f) else None
            if not inspect.isfunction(fn) or fn.__module__ != mod.__name__:
                continue
            sig = inspect.signature(fn)
            ret = sig.return_annotation
            ret = ret if isinstance(ret, str) else getattr(ret, "__name__", "")
            if not (ret == "Scheme" or ret.endswith(".Scheme")):
                continue
            if any(p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                   for p in sig.parameters.values()):
                continue
            out[f"{info.name}.{name}"] = f
    return out


def _resolve_library(spec: str):
    from kinetics.errors import ArgumentError, did_you_mean

    builders = library_builders()
    name, _, arg = spec.partition(":")
    name = name.replace("-", "_")
    if name in builders:
        func = builders[name]
    else:
        in_module = [k for k in builders if k.split(".")[0] == name]
        if not in_module:
            modules = sorted({k.split(".")[0] for k in builders})
            raise ArgumentError(f"unknown model `{spec}`" + did_you_mean(name, modules + list(builders))
                                + f"; give a file or one of: {', '.join(sorted(builders))}")
        func = builders[in_module[0]]
    if arg:
        return func(arg)
    return func()


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

    ex = exporter(args.format)
    out = check_output_path(args.output, "output", allow_stdout=True)
    if out != "-" and out.suffix == "" and not out.is_dir():
        out = check_output_path(out.with_suffix(ex.suffix), "output")
    scheme, protocol, t_end = load_model(args.model)
    comps = [pulses(n, t, amplitude=args.pulse_amplitude, width=args.pulse_width) for n, t in (args.pulse or [])]
    comps += [steps(n, [0.0], [v]) for n, v in (args.hold or [])]
    if comps:
        protocol = Protocol(comps) + protocol if protocol is not None else Protocol(comps)
    if args.t_end is not None:
        t_end = args.t_end
    options = {}
    if ex.name in ("sbml", "nmodl", "c", "python"):
        if protocol is not None:
            if t_end is None:
                raise ArgumentError("`--t-end` is needed with --pulse/--hold (the end of the simulated window)")
            options.update(protocol=protocol, t_end=t_end)
        elif t_end is not None and ex.name in ("c", "python"):
            options["t_end"] = t_end
    elif comps:
        raise ArgumentError(f"format `{ex.name}` takes no protocol (--pulse/--hold)")
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
    p.add_argument("--t-end", type=float, default=None, help="end of the protocol window (the scheme's time unit)")
    p.add_argument("--pulse", action="append", type=_pulse, metavar="INPUT=T1,T2,...",
                   help="square pulses on an input at these times; repeatable")
    p.add_argument("--pulse-amplitude", type=float, default=1.0, help="pulse amplitude (default 1, model units)")
    p.add_argument("--pulse-width", type=float, default=1.0, help="pulse width (default 1, model time unit)")
    p.add_argument("--hold", action="append", type=_hold, metavar="INPUT=VALUE",
                   help="clamp an input to a value from t = 0; repeatable")
    p.add_argument("--voltage", choices=("v", "pointer", "parameter"), default=None,
                   help="nmodl: how voltage inputs are supplied (default v)")
    p.add_argument("--fragment", action="store_true", help="latex: a fragment instead of a standalone document")
    p.set_defaults(func=cmd_export)


def _id_list(text: str) -> list:
    return [x.strip() for x in text.split(",") if x.strip()]


def add_sbml_simulate_options(parser) -> None:
    """Add ``--amounts ID,ID`` to the ``simulate`` parser (used for SBML files only)."""
    parser.add_argument("--amounts", type=_id_list, default=None, metavar="ID,ID",
                        help="SBML: report these species as amounts instead of concentrations")


def simulate_sbml(args) -> int:
    """Simulate an SBML file (``args.file``) with its events; write ``args.csv``.

    Uses ``args.t_end``, ``args.points`` and, when present, ``args.amounts``,
    ``args.param`` (``[(id, value)]`` in the SBML model's units), ``args.method``,
    ``args.rtol`` and ``args.atol``.
    """
    import numpy as np

    from kinetics.io import atomic_write_text, check_output_path
    from kinetics.errors import ArgumentError
    from kinetics.sbml import read_sbml_model

    if args.points < 2:
        raise ArgumentError("--points must be at least 2")
    check_output_path(args.csv, "CSV")
    model = read_sbml_model(args.file)
    params = {}
    for name, value in getattr(args, "param", None) or []:
        params[model.renamed.get(name, name)] = value
    t_eval = np.linspace(0.0, float(args.t_end), int(args.points))
    kw = {k: getattr(args, k) for k in ("method", "rtol", "atol") if getattr(args, k, None) is not None}
    df = model.simulate(float(args.t_end), t_eval, amounts=getattr(args, "amounts", None) or (),
                        params=params or None, **kw)
    cols = list(df.columns)
    lines = [",".join(cols)]
    for row in df.itertuples(index=False):
        lines.append(",".join(repr(float(x)) for x in row))
    atomic_write_text(args.csv, "\n".join(lines) + "\n")
    print(f"wrote {args.csv}: {len(df)} rows, columns {', '.join(cols)}")
    return 0
