"""``nmdakin chronic`` and ``nmdakin binding ...`` subcommands.

:func:`add_subcommands` adds them to the parser of :mod:`models.cli`.

``nmdakin chronic --drug imipramine --dose MG_PER_KG --days N [--washout DAYS] --json OUT [--plot PNG]``
    Chronic treatment (one i.p. dose a day; ``--drug ecs``: one shock a day) and a
    drug-free washout (models.skolnick1996). JSON: ``{"days": [...],
    "high_affinity_fraction": [...], "glycine_ic50_uM": [...], ...}`` sampled daily.
``nmdakin binding saturation|competition|kinetics ... --json OUT [--plot PNG]``
    Simulated radioligand binding assays (models.binding_assays) and the fits of
    their textbook models; ``--radioligand mk801|cgp39653|dcka`` uses the sourced
    constants of models.nmda_ligands.
"""
from __future__ import annotations

import argparse
import json
import math

import numpy as np

from kinetics.errors import ArgumentError

__all__ = ["add_subcommands", "cmd_chronic", "cmd_binding_saturation", "cmd_binding_competition",
           "cmd_binding_kinetics"]


def _float_above(text: str, *, strict: bool) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(v) or (v <= 0 if strict else v < 0):
        raise argparse.ArgumentTypeError(f"must be {'>' if strict else '>='} 0, got {text!r}")
    return v


def _positive_float(text: str) -> float:
    return _float_above(text, strict=True)


def _nonneg_float(text: str) -> float:
    return _float_above(text, strict=False)


#: Largest --days / --washout (ten years of daily doses) and --points of the binding assays.
MAX_DAYS = 3650
MAX_ASSAY_POINTS = 10_000


def _nonneg_int(text: str, maximum: int | None = None) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    if maximum is not None and v > maximum:
        raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {text!r}")
    return v


def _days(text: str) -> int:
    return _nonneg_int(text, MAX_DAYS)


def _assay_points(text: str) -> int:
    return _nonneg_int(text, MAX_ASSAY_POINTS)


def _check_outputs(args) -> None:
    """Check ``--json`` and ``--plot`` before any work (:func:`kinetics.io.check_output_path`)."""
    from kinetics.io import check_output_path

    check_output_path(args.json, "JSON")
    check_output_path(getattr(args, "plot", None), "figure", figure=True)


def _write_outputs(args, payload: dict, draw) -> None:
    """Write the JSON (atomically) and, if asked, the PNG made by ``draw(fig)``; compute before writing."""
    from pathlib import Path

    from kinetics.io import figure_format, atomic_write_bytes, atomic_write_text

    text = json.dumps(payload, indent=1) + "\n"
    png = None
    if getattr(args, "plot", None):
        import io

        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig = draw(plt)
        buf = io.BytesIO()
        try:
            fig.savefig(buf, format=figure_format(Path(args.plot)), dpi=110)
        finally:
            plt.close(fig)
        png = buf.getvalue()
    atomic_write_text(args.json, text)
    if png is not None:
        atomic_write_bytes(args.plot, png)


# --------------------------------------------------------------------------- chronic
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
    _check_outputs(args)
    res = sk.simulate_chronic(drug, args.dose, args.days, args.washout)
    payload = res.to_json_dict()

    def draw(plt):
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), constrained_layout=True)
        res.plot(axes)
        return fig

    _write_outputs(args, payload, draw)
    f = res.high_affinity_fraction
    print(f"{drug}" + (f" {args.dose:g} mg/kg/day" if drug != "ecs" else " (1 shock/day)")
          + f" x {args.days} days + {args.washout} days washout")
    print(f"high-affinity glycine sites: day 0 {f[0]:.3f}, day {args.days} {f[args.days]:.3f}, "
          f"last day {f[-1]:.3f}; glycine IC50 {res.glycine_ic50_uM[0]:.3f} -> "
          f"{res.glycine_ic50_uM[args.days]:.3f} uM")
    print(f"wrote {args.json}" + (f" and {args.plot}" if args.plot else ""))
    return 0


# --------------------------------------------------------------------------- binding
def _radioligand(args):
    """(kd_nM, kon, koff, label) from --radioligand or --kd-nM/--kon."""
    from models import nmda_ligands as nl

    if args.radioligand:
        lig = nl.get(args.radioligand)
        if lig is nl.MK801:
            kon, koff = nl.mk801_rate_constants(args.glutamate_uM, args.glycine_uM)
            return koff / kon, kon, koff, f"{lig.name} (glutamate {args.glutamate_uM:g} uM, glycine " \
                                            f"{args.glycine_uM:g} uM)"
        kd = lig.value("Kd", "nM")
        kon = lig.value("kon")
        return kd, kon, kd * kon, lig.name
    if args.kd_nM is None:
        raise ArgumentError("give --radioligand NAME or --kd-nM (and optionally --kon)")
    return args.kd_nM, args.kon, args.kd_nM * args.kon, f"radioligand Kd {args.kd_nM:g} nM"


def _range(lo, hi, n, what):
    if not (lo > 0 and hi > lo):
        raise ArgumentError(f"{what}: need 0 < min < max, got {lo}, {hi}")
    if n < 3:
        raise ArgumentError(f"{what}: need at least 3 points, got {n}")
    return np.geomspace(lo, hi, n)


def cmd_binding_saturation(args) -> int:
    from models import binding_assays as ba

    _check_outputs(args)
    kd, kon, koff, label = _radioligand(args)
    L = _range(args.min_nM if args.min_nM else kd / 10, args.max_nM if args.max_nM else kd * 20, args.points,
               "saturation concentrations")
    sat = ba.saturation(L, receptor_nM=args.receptor_nM, kon=kon, koff=koff, ns=args.ns,
                        depletion=not args.no_depletion, incubation_min=args.incubation_min)
    fit_free = ba.fit_saturation(sat.free_ligand, sat.specific)
    fit_added = ba.fit_saturation(L, sat.specific)
    payload = {"assay": "saturation", "radioligand": label, "kd_nM": kd, "kon_per_nM_min": kon, "koff_per_min": koff,
               **sat.to_dict(), "fit_free_ligand": fit_free.values, "fit_added_ligand": fit_added.values}
    if args.fit_depletion:
        exact = ba.fit_saturation_with_depletion(L, sat.specific, ns=args.ns, incubation_min=args.incubation_min,
                                                 kon=kon if args.incubation_min else None)
        payload["fit_with_depletion"] = dict(exact.values)

    def draw(plt):
        fig, ax = plt.subplots(figsize=(5.5, 4), constrained_layout=True)
        sat.plot(ax)
        ax.set_title(f"saturation: {label}", fontsize="small")
        return fig

    _write_outputs(args, payload, draw)
    print(f"{label}: fitted Kd {fit_free['Kd']:.4g} nM (free-ligand axis), {fit_added['Kd']:.4g} nM (added-ligand "
          f"axis); Bmax {fit_free['Bmax']:.4g} nM; true Kd {kd:.4g} nM")
    print(f"wrote {args.json}" + (f" and {args.plot}" if args.plot else ""))
    return 0


def cmd_binding_competition(args) -> int:
    from models import binding_assays as ba

    _check_outputs(args)
    kd, kon, koff, label = _radioligand(args)
    two = args.f_high is not None
    if two and (args.ki_high_nM is None or args.ki_low_nM is None):
        raise ArgumentError("two-site competition needs --f-high, --ki-high-nM and --ki-low-nM")
    if not two and args.ki_nM is None:
        raise ArgumentError("give --ki-nM (one site) or --f-high/--ki-high-nM/--ki-low-nM (two sites)")
    kis = [args.ki_high_nM, args.ki_low_nM] if two else [args.ki_nM]
    I = np.concatenate([[0.0], _range(args.min_nM or min(kis) / 100, args.max_nM or max(kis) * 1000, args.points,
                                      "competitor concentrations")])
    L = args.ligand_nM if args.ligand_nM else kd
    kw = dict(f_high=args.f_high, ki_high_nM=args.ki_high_nM, ki_low_nM=args.ki_low_nM) if two else \
        dict(ki_nM=args.ki_nM)
    comp = ba.competition(I, ligand_nM=L, receptor_nM=args.receptor_nM, kon=kon, koff=koff, ns=args.ns,
                          depletion=not args.no_depletion, incubation_min=args.incubation_min, **kw)
    fits = {m: ba.fit_competition(I, comp.specific, model=m, ligand_nM=L, kd_nM=kd).values
            for m in (("one_site", "hill", "two_site") if two else ("one_site", "hill"))}
    payload = {"assay": "competition", "radioligand": label, "kd_nM": kd, "ligand_nM": L, **comp.to_dict(),
               "fits": fits}

    def draw(plt):
        fig, ax = plt.subplots(figsize=(5.5, 4), constrained_layout=True)
        x = I[1:]
        ax.semilogx(x, comp.specific[1:], "o", ms=3, label="simulated (specific)")
        xx = np.geomspace(x[0], x[-1], 300)
        f1 = fits["one_site"]
        ax.semilogx(xx, ba.one_site_competition(xx, f1["B0"], f1["IC50"]), label="one-site fit")
        if two:
            f2 = fits["two_site"]
            ax.semilogx(xx, ba.two_site_competition(xx, f2["B0"], f2["f_high"], f2["IC50_high"], f2["IC50_low"]),
                        "--", label="two-site fit")
        ax.set_xlabel("competitor (nM)")
        ax.set_ylabel("specific binding (nM)")
        ax.set_title(f"competition: {label}", fontsize="small")
        ax.legend(fontsize="small")
        return fig

    _write_outputs(args, payload, draw)
    f1 = fits["one_site"]
    print(f"{label}, L = {L:g} nM: one-site IC50 {f1['IC50']:.4g} nM -> Cheng-Prusoff Ki {f1['Ki']:.4g} nM; "
          f"Hill nH {fits['hill']['nH']:.3f}" + (f"; two-site f_high {fits['two_site']['f_high']:.3f}" if two else ""))
    print(f"wrote {args.json}" + (f" and {args.plot}" if args.plot else ""))
    return 0


def cmd_binding_kinetics(args) -> int:
    from models import binding_assays as ba

    _check_outputs(args)
    kd, kon, koff, label = _radioligand(args)
    if args.ligand_nM:
        Ls = list(args.ligand_nM)
    else:
        Ls = [kd / 2, kd, 2 * kd]
    t_end = args.t_end_min or 6.0 / (kon * min(Ls) + koff)  # ~6 time constants of the slowest curve
    times = np.linspace(0.0, t_end, args.points)
    assoc = [ba.association(times, ligand_nM=L, receptor_nM=args.receptor_nM, kon=kon, koff=koff,
                            depletion=not args.no_depletion) for L in Ls]
    t_d = np.linspace(0.0, 6.0 / koff, args.points)
    diss = ba.dissociation(t_d, ligand_nM=Ls[-1], receptor_nM=args.receptor_nM, kon=kon, koff=koff,
                           depletion=not args.no_depletion)
    result = ba.fit_kinetics([(L, times, c.specific) for L, c in zip(Ls, assoc)], (t_d, diss.specific))
    fit = {**result.values, "Kd": result.values["koff"] / result.values["kon"]}
    payload = {"assay": "kinetics", "radioligand": label, "kon_per_nM_min": kon, "koff_per_min": koff,
               "association": [{"ligand_nM": L, "time_min": times.tolist(), "specific_nM": c.specific.tolist()}
                               for L, c in zip(Ls, assoc)],
               "dissociation": {"time_min": t_d.tolist(), "specific_nM": diss.specific.tolist()},
               "fit": fit, "fit_stderr": dict(result.stderr)}

    def draw(plt):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
        for L, c in zip(Ls, assoc):
            a1.plot(times, c.specific, label=f"{L:.3g} nM")
        a1.set_xlabel("time (min)")
        a1.set_ylabel("specific binding (nM)")
        a1.set_title("association")
        a1.legend(fontsize="small")
        a2.semilogy(t_d, diss.specific)
        a2.set_xlabel("time (min)")
        a2.set_title("dissociation (no rebinding)")
        fig.suptitle(label, fontsize="small")
        return fig

    _write_outputs(args, payload, draw)
    print(f"{label}: fitted kon {fit['kon']:.4g} /(nM*min), koff {fit['koff']:.4g} /min, Kd {fit['Kd']:.4g} nM "
          f"(true {kon:.4g}, {koff:.4g}, {kd:.4g})")
    print(f"wrote {args.json}" + (f" and {args.plot}" if args.plot else ""))
    return 0


def _common_binding(p):
    p.add_argument("--radioligand", choices=["mk801", "cgp39653", "dcka"],
                   help="use the sourced constants of models.nmda_ligands")
    p.add_argument("--glutamate-uM", type=_nonneg_float, default=0.0, dest="glutamate_uM",
                   help="[3H]MK-801 only: glutamate in the assay (uM)")
    p.add_argument("--glycine-uM", type=_nonneg_float, default=0.0, dest="glycine_uM",
                   help="[3H]MK-801 only: glycine in the assay (uM)")
    p.add_argument("--kd-nM", type=_positive_float, dest="kd_nM", help="radioligand Kd (nM) without --radioligand")
    p.add_argument("--kon", type=_positive_float, default=0.1, help="association rate, 1/(nM*min) (default 0.1)")
    p.add_argument("--receptor-nM", type=_positive_float, default=0.1, dest="receptor_nM",
                   help="receptor sites in the tube, nM = Bmax (pmol/mg) x protein (mg/mL) (default 0.1)")
    p.add_argument("--no-depletion", action="store_true", help="hold free ligand at the added amount (textbook)")
    p.add_argument("--points", type=_assay_points, default=16,
                   help=f"number of concentrations / time points (at most {MAX_ASSAY_POINTS})")
    p.add_argument("--json", required=True, help="output JSON path")
    p.add_argument("--plot", help="output PNG path")


def add_subcommands(subparsers) -> None:
    """Add ``chronic`` and ``binding`` (``saturation``, ``competition``, ``kinetics``) to ``subparsers``."""
    p = subparsers.add_parser("chronic", help="chronic antidepressant treatment: NMDA receptor adaptation over days")
    p.add_argument("--drug", required=True, choices=["imipramine", "citalopram", "ecs"],
                   help="treatment (ecs: one electroconvulsive shock a day)")
    p.add_argument("--dose", type=_nonneg_float, help="daily i.p. dose, mg/kg (not for ecs)")
    p.add_argument("--days", type=_days, required=True, help=f"number of daily treatments (at most {MAX_DAYS})")
    p.add_argument("--washout", type=_days, default=0, help="drug-free days after the last dose (default 0)")
    p.add_argument("--json", required=True, help="output JSON path")
    p.add_argument("--plot", help="output PNG path")
    p.set_defaults(func=cmd_chronic)

    b = subparsers.add_parser("binding", help="simulated radioligand binding assays and their fits")
    bsub = b.add_subparsers(dest="assay", required=True, metavar="ASSAY")

    s = bsub.add_parser("saturation", help="total / non-specific / specific binding vs radioligand")
    _common_binding(s)
    s.add_argument("--min-nM", type=_positive_float, dest="min_nM", help="lowest radioligand (default Kd/10)")
    s.add_argument("--max-nM", type=_positive_float, dest="max_nM", help="highest radioligand (default 20 Kd)")
    s.add_argument("--ns", type=_nonneg_float, default=0.0, help="non-specific binding per free ligand")
    s.add_argument("--incubation-min", type=_positive_float, dest="incubation_min",
                   help="finite incubation time (default: equilibrium)")
    s.add_argument("--fit-depletion", action="store_true", dest="fit_depletion",
                   help="also fit Kd and Bmax with the depletion-aware kinetic scheme (kinetics.fitting)")
    s.set_defaults(func=cmd_binding_saturation)

    c = bsub.add_parser("competition", help="radioligand binding vs unlabelled competitor (one or two sites)")
    _common_binding(c)
    c.add_argument("--ligand-nM", type=_positive_float, dest="ligand_nM", help="radioligand (default: Kd)")
    c.add_argument("--ki-nM", type=_positive_float, dest="ki_nM", help="competitor Ki (one site)")
    c.add_argument("--f-high", type=_nonneg_float, dest="f_high", help="fraction of high-affinity sites (two sites)")
    c.add_argument("--ki-high-nM", type=_positive_float, dest="ki_high_nM")
    c.add_argument("--ki-low-nM", type=_positive_float, dest="ki_low_nM")
    c.add_argument("--min-nM", type=_positive_float, dest="min_nM", help="lowest competitor concentration")
    c.add_argument("--max-nM", type=_positive_float, dest="max_nM", help="highest competitor concentration")
    c.add_argument("--ns", type=_nonneg_float, default=0.0)
    c.add_argument("--incubation-min", type=_positive_float, dest="incubation_min")
    c.set_defaults(func=cmd_binding_competition)

    k = bsub.add_parser("kinetics", help="association and dissociation time courses; fit of kon and koff")
    _common_binding(k)
    k.add_argument("--ligand-nM", type=_positive_float, nargs="+", dest="ligand_nM",
                   help="radioligand concentrations of the association curves (default Kd/2, Kd, 2 Kd)")
    k.add_argument("--t-end-min", type=_positive_float, dest="t_end_min", help="association time window (min)")
    k.set_defaults(func=cmd_binding_kinetics, points=41)
