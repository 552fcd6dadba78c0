"""``nmdakin synapse-fit``: the fit of the L5 synapse to published plasticity data (:mod:`models.synapse_fit`).

``nmdakin synapse-fit --json OUT [--plot PNG] [--starts N] [--no-profiles]``
    Refits the synapse's unmeasured constants from the hand-calibrated set to Sjostrom et al. (2001), Brock
    et al. (2020) and the frequency independence of tLTD (Thomazeau et al. 2025) and writes the record in the
    format of the shipped fit (``models/data/synapse_l5_fit.json``): values, profile intervals, flags, report.
    Long: about a minute per optimiser iteration (each evaluates 14 whole protocols with their sensitivities).

``nmdakin synapse-fit --check --json OUT [--plot PNG]``
    No fitting: the shipped set ``L5`` (and the hand set ``L5_hand``) against every data point, with z-scores.
"""
from __future__ import annotations

from ._common import check_output, refuse_options, write_json

__all__ = ["add_subcommands", "cmd_synapse_fit", "DEFAULT_STARTS"]

#: Number of local fits unless ``--starts`` says otherwise.
DEFAULT_STARTS = 4


def _print_comparison(comps) -> None:
    head = f"{'data set':16s} {'dt (ms)':>8s} {'f (Hz)':>7s} {'data':>12s}" + "".join(
        f" {c['set']:>9s} {'z':>5s}" for c in comps)
    print(head)
    for k, p in enumerate(comps[0]["points"]):
        row = f"{p['dataset']:16s} {p['dt_ms']:8.0f} {p['freq_hz']:7.1f} {p['data']:6.2f} +- {p['sem']:.2f}"
        for c in comps:
            q = c["points"][k]
            row += f" {q['model']:9.3f} {q['z']:+5.1f}"
        print(row)
    print("chi2: " + ", ".join(f"{c['set']} {c['chi2']:.2f}" for c in comps)
          + f" ({len(comps[0]['points'])} points)")


def cmd_synapse_fit(args) -> int:
    from models import synapse_fit as sf

    json_path = check_output(args.json, "JSON")
    plot_path = check_output(args.plot, "figure")
    if args.check:
        refuse_options([flag for flag, value in (("--starts", args.starts), ("--no-profiles", args.no_profiles or None),
                                                 ("--progress", args.progress)) if value is not None],
                       "to a fit", "--check compares the shipped sets without fitting")
        comps = [sf.compare("L5"), sf.compare("L5_hand")]
        _print_comparison(comps)
        payload = {"comparisons": comps}
    else:
        result = sf.run_fit(n_starts=DEFAULT_STARTS if args.starts is None else args.starts,
                            profiles=not args.no_profiles, progress=args.progress)
        print(result.report())
        payload = sf.fit_record(result)
    if plot_path is not None:
        comps = payload["comparisons"] if args.check else [
            sf.compare("L5_hand", {k: v["value"] for k, v in payload["parameters"].items()}, label="refit"),
            sf.compare("L5_hand")]
        sf.plot_comparison(comps, plot_path)
    write_json(json_path, payload)
    print(f"wrote {json_path}" + (f" and {plot_path}" if plot_path else ""))
    return 0


def add_subcommands(subparsers) -> None:
    """Add the ``synapse-fit`` subcommand to an ``argparse`` subparsers object."""
    from ._common import positive_int

    p = subparsers.add_parser(
        "synapse-fit", help="fit the L5 synapse to Sjostrom 2001, Brock 2020 and Thomazeau 2025 (or --check it)",
        description="Fit the unmeasured constants of the L5 synapse model (eCB, CB1, coupling, JNK2, k_ltd, "
                    "Ca_unit, gamma_p) jointly to the Sjostrom et al. 2001 frequency table (+-10 ms), the Brock "
                    "et al. 2020 tLTD and the frequency independence of tLTD, with kinetics.fitting (exact "
                    "sensitivities). The pharmacology table is held out (nmdakin pharmacology). --check compares "
                    "the shipped sets with the data without fitting.")
    p.add_argument("--json", required=True, metavar="OUT", help="output JSON path (written atomically)")
    p.add_argument("--plot", default=None, metavar="PNG", help="also write a figure of data and model")
    p.add_argument("--check", action="store_true", help="no fit: compare the shipped sets L5 and L5_hand with the "
                                                        "data (about 15 s)")
    p.add_argument("--starts", type=positive_int, default=None, metavar="N",
                   help=f"local fits: the hand set and N-1 Latin-hypercube starts (default {DEFAULT_STARTS})")
    p.add_argument("--no-profiles", action="store_true", help="skip the likelihood profiles (Wald intervals only)")
    p.add_argument("--progress", action="store_true", default=None, help="progress bars even when not on a "
                                                                          "terminal")
    p.set_defaults(func=cmd_synapse_fit)
