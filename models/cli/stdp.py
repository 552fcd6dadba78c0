"""``nmdakin stdp`` and ``nmdakin frequency``: the plasticity experiments of :mod:`models.experiments`.

``nmdakin stdp --model MODEL [--set NAME] --dt -100:100:5 --freq 1 --pairs 60 [--method METHOD]
[--condition NAME] --json OUT [--plot PNG]``
    STDP curve; JSON ``{"model", "set", "method", "condition", "freq_hz", "pairs", "dt_ms": [...], "change": [...]}``.
``nmdakin frequency --model MODEL [--set NAME] --dt 10 -10 --freq 0.1 10 20 40 50 [--method METHOD] --json OUT
[--plot PNG]``
    Sjostrom et al. 2001 protocol (5 pairs x 15 every 10 s); JSON ``{..., "freq_hz": [...], "dt_ms": [...],
    "change": [[...]]}`` (rows follow dt_ms, columns freq_hz). The figure shows the Sjostrom et al. 2001 points
    (mean +/- SEM) when the protocol is theirs.

``--method`` (:data:`METHOD_HELP`): for ``graupner-brunel-2012``, ``exact`` (default), ``periodic`` (the
paper's Fig. 2 / Fig. 4 prediction), ``ode``, ``sde`` (``analytic``: the former name of ``exact``); for
``synapse``, ``ode``.

``--dt`` takes numbers and ranges ``start:stop:step`` (``stop`` included when
it is on the grid), e.g. ``--dt -100:100:5`` or ``--dt -50 -10 10 50``.

``--model`` is a plasticity model of the registry (``nmdakin models``).
"""
from __future__ import annotations

import argparse
import math
import re

from ._common import check_output, refuse_options, write_json

__all__ = ["add_subcommands", "parse_dt", "cmd_stdp", "cmd_frequency", "MAX_POINTS", "METHOD_HELP",
           "STOCHASTIC_METHODS"]

#: Help of ``--method`` (the models' methods: ``nmdakin models``).
METHOD_HELP = (
    "how the change is computed (default: the model's first method). graupner-brunel-2012: "
    "exact (default) = the paper's analytic formula with the times above threshold of the exact calcium of the "
    "spike trains as delivered (any trains); periodic = the paper's own prediction, as in its Fig. 2 and Fig. 4: "
    "steady-state periodic calcium of the n pairs as one regular train at the pairing frequency (dt, frequency "
    "and n are read from the trains; for the Sjostrom bursts up to 0.16 above exact at 40 Hz; at 1 Hz equal); "
    "ode = deterministic limit; sde = full stochastic model (--synapses, --step, --seed); analytic = old name of "
    "exact. synapse: ode. exact is the default because it holds for any spike train and reads the protocol as "
    "delivered; use periodic to reproduce the published curves")

#: Largest number of values one ``--dt`` range may produce.
MAX_POINTS = 100_000
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
# argparse treats "-100:100:5" as an unknown option unless it looks like a negative number to the subparser
_NEGATIVE_VALUE = re.compile(rf"^-(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?::{_NUMBER}){{0,2}}$")


def parse_dt(token: str) -> list:
    """One ``--dt`` token: a number or an inclusive range ``start:stop:step``.

    Examples
    --------
    >>> parse_dt("-10:10:5")
    [-10.0, -5.0, 0.0, 5.0, 10.0]
    >>> parse_dt("2.5")
    [2.5]
    """
    text = token.strip()
    parts = text.split(":")
    if len(parts) == 1:
        return [_float(parts[0], token)]
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"expected a number or start:stop:step, got {token!r}")
    start, stop, step = (_float(p, token) for p in parts)
    if step == 0 or (stop - start) * step < 0:
        raise argparse.ArgumentTypeError(f"range {token!r}: the step must be non-zero and go from start towards stop")
    count = math.floor((stop - start) / step + 1e-9) + 1
    if count > MAX_POINTS:
        raise argparse.ArgumentTypeError(f"range {token!r} has {count} values; at most {MAX_POINTS} are allowed")
    return [round(start + i * step, 12) for i in range(count)]


def _float(text: str, token: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r} in {token!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r} in {token!r}")
    return value


def _flatten(lists) -> list:
    return [x for sub in lists for x in sub]


#: The methods whose result is random: only they take --seed, --synapses and --step.
STOCHASTIC_METHODS = ("sde",)


def _resolve_names(args) -> None:
    """Match --model, --method, --condition and --set without case where that is unambiguous (``SDE`` -> ``sde``,
    ``ap5`` -> ``AP5``, ``l5`` -> ``L5``), and refuse the stochastic options of a deterministic method; an unknown
    name is passed on, for the model's own error with a suggestion."""
    from kinetics.errors import resolve_name
    from models import registry

    model = registry.get(args.model, kind="plasticity")
    args.model = model.name
    if args.method is not None:
        args.method = resolve_name(args.method, [*model.methods, *model.method_aliases]) or args.method
    if args.condition is not None:
        args.condition = resolve_name(args.condition, model.conditions) or args.condition
    if args.set is not None:
        args.set = resolve_name(args.set, model.set_names()) or args.set
    method = model.check_method(args.method)
    if method not in STOCHASTIC_METHODS:
        refuse_options([flag for flag, value in (("--seed", args.seed), ("--synapses", args.synapses),
                                                 ("--step", args.step)) if value is not None],
                       f"to a stochastic method ({', '.join(STOCHASTIC_METHODS)})",
                       f"`{model.name}` with method `{method}` is deterministic")


def _options(args) -> dict:
    out = {}
    if getattr(args, "synapses", None) is not None:
        out["n_per_state"] = args.synapses
    if getattr(args, "step", None) is not None:
        out["step_ms"] = args.step
    return out


def _print_method_note(result) -> None:
    from models import registry

    note = registry.get(result["model"], kind="plasticity").method_notes.get(result["method"], "")
    if note:
        print(f"  method {result['method']}: {note}")


def cmd_stdp(args) -> int:
    from models.experiments import plot_stdp, stdp

    json_path = check_output(args.json, "JSON")
    plot_path = check_output(args.plot, "figure")
    _resolve_names(args)
    result = stdp(args.model, args.set, dt_ms=_flatten(args.dt), freq_hz=args.freq, pairs=args.pairs,
                  method=args.method, condition=args.condition, seed=args.seed, **_options(args))
    write_json(json_path, result)
    print(f"{result['model']} [{result['set']}], {result['method']}: {result['pairs']} pairs at "
          f"{result['freq_hz']:g} Hz")
    _print_method_note(result)
    print("   dt (ms)   change")
    for dt, ch in zip(result["dt_ms"], result["change"]):
        print(f"{dt:10.4g}   {ch:.4f}")
    if plot_path is not None:
        plot_stdp(result, plot_path)
        print(f"wrote {json_path} and {plot_path}")
    else:
        print(f"wrote {json_path}")
    return 0


def cmd_frequency(args) -> int:
    from models.experiments import frequency, plot_frequency

    json_path = check_output(args.json, "JSON")
    plot_path = check_output(args.plot, "figure")
    _resolve_names(args)
    result = frequency(args.model, args.set, dt_ms=_flatten(args.dt), freq_hz=args.freq, pairs=args.pairs,
                       bursts=args.bursts, burst_period_ms=args.burst_period, method=args.method,
                       condition=args.condition, seed=args.seed, **_options(args))
    write_json(json_path, result)
    print(f"{result['model']} [{result['set']}], {result['method']}: {result['pairs']} pairs x "
          f"{result['bursts']} bursts every {result['burst_period_ms']:g} ms")
    _print_method_note(result)
    print("  dt (ms) | " + " ".join(f"{f:>8g} Hz" for f in result["freq_hz"]))
    for dt, row in zip(result["dt_ms"], result["change"]):
        print(f"{dt:9.4g} | " + " ".join(f"{c:11.4f}" for c in row))
    if plot_path is not None:
        plot_frequency(result, plot_path)
    print(f"wrote {json_path}" + (f" and {plot_path}" if plot_path else ""))
    return 0


def _common(p, *, default_dt, dt_help):
    p._negative_number_matcher = _NEGATIVE_VALUE
    p.add_argument("--model", default="graupner-brunel-2012", help="plasticity model (see `nmdakin models`)")
    p.add_argument("--set", help="parameter set (default: the model's choice for this experiment)")
    p.add_argument("--dt", nargs="+", type=parse_dt, default=[parse_dt(t) for t in default_dt], metavar="DT",
                   help=dt_help)
    p.add_argument("--method", default=None, help=METHOD_HELP)
    p.add_argument("--condition", default=None, help="experimental condition (default: control)")
    p.add_argument("--seed", type=int, default=None, help="random seed (stochastic methods: sde)")
    p.add_argument("--synapses", type=int, default=None, metavar="N",
                   help="SDE ensemble: synapses per initial state")
    p.add_argument("--step", type=float, default=None, metavar="MS", help="SDE: largest time step (ms)")
    p.add_argument("--json", required=True, metavar="OUT", help="output JSON path (written atomically)")
    p.add_argument("--plot", default=None, metavar="PNG", help="also write a PNG figure")


def add_subcommands(subparsers) -> None:
    """Add ``stdp`` and ``frequency`` to an argparse ``subparsers`` object."""
    p = subparsers.add_parser("stdp", help="STDP curve of a plasticity model; JSON and optional PNG",
                              description="Change of synaptic strength vs spike timing (pairing protocol).")
    _common(p, default_dt=["-100:100:5"], dt_help="timings t_post - t_pre in ms: numbers and start:stop:step "
                                                   "ranges (default -100:100:5)")
    p.add_argument("--freq", type=float, default=1.0, help="pairing frequency in Hz (default 1)")
    p.add_argument("--pairs", type=int, default=60, help="number of pairs (default 60)")
    p.set_defaults(func=cmd_stdp)

    p = subparsers.add_parser("frequency", help="plasticity vs pairing frequency (Sjostrom et al. 2001 protocol)",
                              description="Change of synaptic strength vs pairing frequency: bursts of pairs "
                                          "repeated every --burst-period ms.")
    _common(p, default_dt=["10", "-10"], dt_help="timings t_post - t_pre in ms (default 10 -10)")
    p.add_argument("--freq", nargs="+", type=float, default=[0.1, 10.0, 20.0, 40.0, 50.0], metavar="HZ",
                   help="pairing frequencies in Hz (default 0.1 10 20 40 50)")
    p.add_argument("--pairs", type=int, default=5, help="pairs per burst (default 5)")
    p.add_argument("--bursts", type=int, default=15, help="number of bursts (default 15)")
    p.add_argument("--burst-period", type=float, default=10000.0, metavar="MS",
                   help="burst onset-to-onset period in ms (default 10000)")
    p.set_defaults(func=cmd_frequency)

