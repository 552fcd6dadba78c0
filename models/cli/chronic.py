"""``nmdakin chronic``: chronic antidepressant treatment and NMDA receptor adaptation (models.skolnick1996).

``nmdakin chronic --drug imipramine --dose MG_PER_KG --days N [--washout DAYS] --json OUT [--plot PNG]``
    Chronic treatment (one i.p. dose a day; ``--drug ecs``: one shock a day) and a
    drug-free washout. JSON: ``{"days": [...], "high_affinity_fraction": [...],
    "glycine_ic50_uM": [...], ...}`` sampled daily.
"""
from __future__ import annotations

from kinetics.errors import ArgumentError

from ._common import check_outputs, nonneg_float, nonneg_int, write_outputs

__all__ = ["add_subcommands", "cmd_chronic", "MAX_DAYS"]

#: Largest --days / --washout (ten years of daily doses).
MAX_DAYS = 3650


def _days(text: str) -> int:
    return nonneg_int(text, MAX_DAYS)


def cmd_chronic(args) -> int:
    from models import skolnick1996 as sk

    drug = args.drug
    if drug == "ecs" and args.dose is not None:
        raise ArgumentError("--dose does not apply to --drug ecs (one electroconvulsive shock a day, no dose); "
                            "leave it out")
    if drug != "ecs" and args.dose is None:
        raise ArgumentError(f"--dose (mg/kg/day) is required for {drug}")
    if args.days + args.washout < 1:
        raise ArgumentError("nothing to simulate: --days + --washout must be at least 1")
    check_outputs(args)
    res = sk.simulate_chronic(drug, args.dose, args.days, args.washout)
    payload = res.to_json_dict()

    def draw(plt):
        from kinetics.plotstyle import style

        with style():
            fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), constrained_layout=True)
            res.plot(axes)
        return fig

    write_outputs(args, payload, draw)
    f = res.high_affinity_fraction
    print(f"{drug}" + (f" {args.dose:g} mg/kg/day" if drug != "ecs" else " (1 shock/day)")
          + f" x {args.days} days + {args.washout} days washout")
    print(f"high-affinity glycine sites: day 0 {f[0]:.3f}, day {args.days} {f[args.days]:.3f}, "
          f"last day {f[-1]:.3f}; glycine IC50 {res.glycine_ic50_uM[0]:.3f} -> "
          f"{res.glycine_ic50_uM[args.days]:.3f} uM")
    print(f"wrote {args.json}" + (f" and {args.plot}" if args.plot else ""))
    return 0


def add_subcommands(subparsers) -> None:
    """Add ``chronic`` to ``subparsers``."""
    p = subparsers.add_parser("chronic", help="chronic antidepressant treatment: NMDA receptor adaptation over days")
    p.add_argument("--drug", required=True, choices=["imipramine", "citalopram", "ecs"],
                   help="treatment (ecs: one electroconvulsive shock a day)")
    p.add_argument("--dose", type=nonneg_float, help="daily i.p. dose, mg/kg (not for ecs)")
    p.add_argument("--days", type=_days, required=True, help=f"number of daily treatments (at most {MAX_DAYS})")
    p.add_argument("--washout", type=_days, default=0, help="drug-free days after the last dose (default 0)")
    p.add_argument("--json", required=True, help="output JSON path")
    p.add_argument("--plot", help="output PNG path")
    p.set_defaults(func=cmd_chronic)
