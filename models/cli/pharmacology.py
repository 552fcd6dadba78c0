"""``nmdakin pharmacology``: the tLTD/tLTP table of the L5 synapse model under every condition.

``nmdakin pharmacology --json OUT [--plot PNG] [--conditions NAME ...]``
    Writes ``{"conditions": [{"name", "tLTD", "tLTP", "represented"}], ...}``
    (see :func:`models.pharmacology.pharmacology`) and, with ``--plot``, a bar
    chart. Conditions whose manipulation has no target in the model
    (``"represented": false``) are marked "not represented in the model".

The same model runs the STDP and frequency experiments: ``nmdakin stdp --model synapse --condition AP5``.
"""
from __future__ import annotations

from ._common import check_output, write_json

__all__ = ["add_subcommands", "cmd_pharmacology"]


def cmd_pharmacology(args) -> int:
    from models.pharmacology import plot_pharmacology, pharmacology

    json_path = check_output(args.json, "JSON")
    plot_path = check_output(args.plot, "figure")
    result = pharmacology(args.conditions)
    write_json(json_path, result)
    print(f"{'condition':26s} {'tLTD':>7s} {'tLTP':>7s}   expected (tLTD / tLTP)")
    for row in result["conditions"]:
        exp = result["expected"][row["name"]]
        note = "" if row["represented"] else "   (not represented in the model: its numbers are the control run)"
        print(f"{row['name']:26s} {row['tLTD']:7.3f} {row['tLTP']:7.3f}   {exp['tLTD']} / {exp['tLTP'] or '-'}"
              + note)
    print(f"tLTD: {result['tLTD_protocol']}\ntLTP: {result['tLTP_protocol']}")
    if plot_path is not None:
        plot_pharmacology(result, plot_path)
        print(f"wrote {json_path} and {plot_path}")
    else:
        print(f"wrote {json_path}")
    return 0


def add_subcommands(subparsers) -> None:
    """Add the ``pharmacology`` subcommand to an ``argparse`` subparsers object."""
    from models.manipulations import CONDITION_NAMES

    p = subparsers.add_parser("pharmacology", help="tLTD/tLTP of the L5 synapse model under each condition",
                              description="The pharmacology table of Thomazeau et al. 2025 (eLife 14:RP106284) "
                                          "computed with the composed L5 synapse model.")
    p.add_argument("--conditions", nargs="+", default=None, choices=CONDITION_NAMES, metavar="NAME",
                   help="conditions to run (default: all): " + ", ".join(CONDITION_NAMES))
    p.add_argument("--json", required=True, metavar="OUT", help="output JSON path (written atomically)")
    p.add_argument("--plot", default=None, metavar="PNG", help="also write a PNG bar chart")
    p.set_defaults(func=cmd_pharmacology)
