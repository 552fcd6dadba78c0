"""``nmdakin models [--kind KIND] [--json OUT]``: the model registry (:mod:`models.registry`).

Prints every entry with its one-line description: the plasticity models (``nmdakin stdp --model NAME``) with
their reference, methods, conditions and parameter sets (each with its source), the scheme builders
(``nmdakin export NAME``, an experiment file's ``builder``) and the scheme transforms (an experiment file's
``transforms``). ``--json`` writes ``{"models": [{"name", "kind", "description", ...}]}`` in the same order.
"""
from __future__ import annotations

from ._common import check_output, write_json

__all__ = ["add_subcommands", "cmd_models"]

_HEADINGS = {
    "plasticity": "plasticity models (nmdakin stdp|frequency --model NAME)",
    "scheme": "scheme builders (nmdakin export NAME; experiment files: builder = \"NAME\")",
    "transform": "scheme transforms (experiment files: transforms = [{ builder = \"NAME\" }])",
}


def _row(entry) -> dict:
    row = {"name": entry.name, "kind": entry.kind, "description": entry.description}
    if entry.kind == "plasticity":
        info = entry.load().describe()
        row.update((k, v) for k, v in info.items() if k not in row)
    else:
        row["requires"] = list(entry.requires)
    return row


def cmd_models(args) -> int:
    from models import registry

    json_path = check_output(getattr(args, "json", None), "JSON")
    rows = [_row(e) for e in registry.available(getattr(args, "kind", None))]
    kind = None
    for row in rows:
        if row["kind"] != kind:
            kind = row["kind"]
            print(("" if kind == rows[0]["kind"] else "\n") + _HEADINGS[kind] + ":")
        if kind == "plasticity":
            print(f"{row['name']}: {row['description']}")
            print(f"  reference: {row['reference']}")
            print(f"  methods: {', '.join(row['methods'])}; conditions: {', '.join(row['conditions'])}; "
                  f"default set: {row['default_set']}")
            for s in row["sets"]:
                print(f"  - {s['name']}: {s['source']}")
        else:
            needs = f" (needs {', '.join(row['requires'])})" if row["requires"] else ""
            print(f"  {row['name']:36s} {row['description']}{needs}")
    if json_path is not None:
        write_json(json_path, {"models": rows})
        print(f"wrote {json_path}")
    return 0


def add_subcommands(subparsers) -> None:
    """Add ``models`` to an argparse subparsers object."""
    from models.registry import KINDS

    p = subparsers.add_parser("models", help="list the model registry: plasticity models (parameter sets, sources), "
                                             "scheme builders and transforms")
    p.add_argument("--kind", choices=KINDS, default=None, help="only this kind of entry")
    p.add_argument("--json", default=None, metavar="OUT", help="also write the list as JSON")
    p.set_defaults(func=cmd_models)
