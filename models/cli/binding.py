"""``nmdakin binding saturation|competition|kinetics ... --json OUT [--plot PNG]``.

Simulated radioligand binding assays (models.binding_assays) and the fits of their textbook models;
``--radioligand mk801|cgp39653|dcka`` uses the sourced constants of models.nmda_ligands.
"""
from __future__ import annotations

import numpy as np

from kinetics.errors import ArgumentError

from ._common import check_outputs, nonneg_float, nonneg_int, positive_float, refuse_options, write_outputs

__all__ = ["add_subcommands", "cmd_binding_saturation", "cmd_binding_competition", "cmd_binding_kinetics",
           "MAX_ASSAY_POINTS"]

#: Largest --points of the binding assays.
MAX_ASSAY_POINTS = 10_000

#: Association rate constant used with --kd-nM when --kon is not given, 1/(nM*min).
DEFAULT_KON = 0.1


def _assay_points(text: str) -> int:
    return nonneg_int(text, MAX_ASSAY_POINTS)


def _radioligand(args):
    """(kd_nM, kon, koff, label) from --radioligand or --kd-nM/--kon."""
    from models import nmda_ligands as nl

    if args.radioligand:
        lig = nl.get(args.radioligand)
        if lig is nl.MK801:
            glu, gly = args.glutamate_uM or 0.0, args.glycine_uM or 0.0
            kon, koff = nl.mk801_rate_constants(glu, gly)
            return koff / kon, kon, koff, f"{lig.name} (glutamate {glu:g} uM, glycine {gly:g} uM)"
        kd = lig.value("Kd", "nM")
        kon = lig.value("kon")
        return kd, kon, kd * kon, lig.name
    if args.kd_nM is None:
        raise ArgumentError("give --radioligand NAME or --kd-nM (and optionally --kon)")
    kon = DEFAULT_KON if args.kon is None else args.kon
    return args.kd_nM, kon, args.kd_nM * kon, f"radioligand Kd {args.kd_nM:g} nM"


def _check_options(args) -> None:
    """Refuse options that the other options make meaningless (they would be ignored silently)."""
    if args.radioligand:
        if args.kd_nM is not None or args.kon is not None:
            given = " and ".join(f for f, v in (("--kd-nM", args.kd_nM), ("--kon", args.kon)) if v is not None)
            raise ArgumentError(f"--radioligand {args.radioligand} brings its own sourced constants; leave out "
                                f"{given} (or give --kd-nM without --radioligand)")
    if args.radioligand != "mk801":
        refuse_options([f for f, v in (("--glutamate-uM", args.glutamate_uM), ("--glycine-uM", args.glycine_uM))
                        if v is not None], "to --radioligand mk801", "its rates depend on the co-agonists")
    if not getattr(args, "data", None):
        refuse_options([f"--{n.replace('_', '-')}" for n in ("specific_activity", "efficiency", "volume_ml", "model")
                        if getattr(args, n, None) is not None], "with --data TABLE", "a measured table to fit")
    if getattr(args, "ki_nM", None) is not None and getattr(args, "f_high", None) is not None:
        raise ArgumentError("give --ki-nM (one site) or --f-high with --ki-high-nM/--ki-low-nM (two sites), not both")


def _range(lo, hi, n, what):
    if not (lo > 0 and hi > lo):
        raise ArgumentError(f"{what}: need 0 < min < max, got {lo}, {hi}")
    if n < 3:
        raise ArgumentError(f"{what}: need at least 3 points, got {n}")
    return np.geomspace(lo, hi, n)


_SIMULATION_ONLY = ("min_nM", "max_nM", "incubation_min", "ki_nM", "f_high", "ki_high_nM", "ki_low_nM")


def _fit_data(args, kind: str) -> int:
    """``--data FILE``: fit the bench table instead of simulating (models.binding_data)."""
    from models import binding_assays as ba
    from models.binding_data import fit_binding_table, read_binding_table

    given = [f"--{name.replace('_', '-')}" for name in _SIMULATION_ONLY
             if getattr(args, name, None) is not None]
    if getattr(args, "fit_depletion", False):
        given.append("--fit-depletion")
    refuse_options(given, "to a simulated assay", "--data fits a measured table")
    data = read_binding_table(args.data, specific_activity=args.specific_activity, efficiency=args.efficiency,
                              volume_ml=args.volume_ml)
    kd = L = None
    if kind == "competition" and (args.radioligand or args.kd_nM):
        kd = _radioligand(args)[0]
        L = args.ligand_nM if args.ligand_nM else None
        if L is None:
            raise ArgumentError("--data with a radioligand: give --ligand-nM (the radioligand in the assay) for "
                                "the Cheng-Prusoff Ki")
    model = (args.model or "one_site") if kind == "competition" else "one_site"
    fit = fit_binding_table(data, kind, model=model,
                            ligand_nM=L, kd_nM=kd)
    mean, sd, n = data.mean_sd()
    payload = {"assay": kind, "data": str(args.data), "unit": data.unit, "concentration_nM": data.x_nM.tolist(),
               "specific_mean": mean.tolist(), "specific_sd": [None if v != v else v for v in sd.tolist()],
               "replicates": n.tolist(), "fit": {"model": fit.model, "values": fit.values, "stderr": fit.stderr,
                                                 "success": fit.success}}

    def draw(plt):
        from kinetics.plotstyle import label as axis_label
        from kinetics.plotstyle import style

        with style():
            fig, ax = plt.subplots(figsize=(5.5, 4), constrained_layout=True)
            x, y = data.points()
            pos = data.x_nM > 0
            ax.plot(x, y, ".", alpha=0.5, label="replicates")
            ax.errorbar(data.x_nM[pos], mean[pos], yerr=np.nan_to_num(sd[pos]), fmt="o", ms=4, capsize=2,
                        label="mean +/- SD")
            xx = np.geomspace(data.x_nM[pos].min(), data.x_nM[pos].max(), 300)
            v = fit.values
            if kind == "saturation":
                yy = ba.specific_binding(xx, v["Bmax"], v["Kd"])
                text = f"fit: Kd {v['Kd']:.3g} nM, Bmax {v['Bmax']:.3g} {data.unit}"
            elif "IC50_high" in v:
                yy = ba.two_site_competition(xx, v["B0"], v["f_high"], v["IC50_high"], v["IC50_low"])
                text = f"two-site fit: IC50 {v['IC50_high']:.3g} and {v['IC50_low']:.3g} nM"
            elif "nH" in v:
                yy = ba.hill_competition(xx, v["B0"], v["IC50"], v["nH"])
                text = f"Hill fit: IC50 {v['IC50']:.3g} nM, nH {v['nH']:.2f}"
            else:
                yy = ba.one_site_competition(xx, v["B0"], v["IC50"])
                text = f"one-site fit: IC50 {v['IC50']:.3g} nM"
            ax.plot(xx, yy, "-", label=text)
            ax.set_xscale("log")
            ax.set_xlabel(axis_label(f"added {'radioligand' if kind == 'saturation' else 'competitor'}", "nM"))
            ax.set_ylabel(axis_label("specific binding", data.unit))
            ax.set_title(f"{kind} data: {data.path.name}")
            ax.legend()
        return fig

    write_outputs(args, payload, draw)
    print(fit.report())
    print(f"wrote {args.json}" + (f" and {args.plot}" if args.plot else ""))
    return 0


def cmd_binding_saturation(args) -> int:
    from models import binding_assays as ba

    check_outputs(args)
    _check_options(args)
    if args.data:
        return _fit_data(args, "saturation")
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
        from kinetics.plotstyle import style

        with style():
            fig, ax = plt.subplots(figsize=(5.5, 4), constrained_layout=True)
            sat.plot(ax)
            xx = np.geomspace(L[0], L[-1], 300) if L[0] > 0 else np.linspace(L[0], L[-1], 300)
            ax.plot(xx, fit_added["Bmax"] * xx / (fit_added["Kd"] + xx), ":", color="k",
                    label=f"fit vs added: Kd {fit_added['Kd']:.3g} nM")
            ax.legend()
            ax.set_title(f"saturation: {label}\n(x: added radioligand; fit vs free: Kd {fit_free['Kd']:.3g} nM)")
        return fig

    write_outputs(args, payload, draw)
    print(f"{label}: fitted Kd {fit_free['Kd']:.4g} nM (free-ligand axis), {fit_added['Kd']:.4g} nM (added-ligand "
          f"axis); Bmax {fit_free['Bmax']:.4g} nM; true Kd {kd:.4g} nM")
    print(f"wrote {args.json}" + (f" and {args.plot}" if args.plot else ""))
    return 0


def cmd_binding_competition(args) -> int:
    from models import binding_assays as ba

    check_outputs(args)
    _check_options(args)
    if args.data:
        return _fit_data(args, "competition")
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
        from kinetics.plotstyle import style

        with style():
            return _draw(plt)

    def _draw(plt):
        from kinetics.plotstyle import label as axis_label

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
        ax.set_xlabel(axis_label("added competitor", "nM"))
        ax.set_ylabel(axis_label("specific binding", "nM"))
        ax.set_title(f"competition: {label}")
        ax.legend()
        return fig

    write_outputs(args, payload, draw)
    f1 = fits["one_site"]
    print(f"{label}, L = {L:g} nM: one-site IC50 {f1['IC50']:.4g} nM -> Cheng-Prusoff Ki {f1['Ki']:.4g} nM; "
          f"Hill nH {fits['hill']['nH']:.3f}" + (f"; two-site f_high {fits['two_site']['f_high']:.3f}" if two else ""))
    print(f"wrote {args.json}" + (f" and {args.plot}" if args.plot else ""))
    return 0


def cmd_binding_kinetics(args) -> int:
    from models import binding_assays as ba

    check_outputs(args)
    _check_options(args)
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
        from kinetics.plotstyle import label as axis_label, style

        with style():
            fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
            for L, c in zip(Ls, assoc):
                a1.plot(times, c.specific, label=f"{L:.3g} nM")
            a1.set_xlabel(axis_label("time", "min"))
            a1.set_ylabel(axis_label("specific binding", "nM"))
            a1.set_title("association")
            a1.legend(title="radioligand")
            a2.semilogy(t_d, diss.specific)
            a2.set_xlabel(axis_label("time", "min"))
            a2.set_ylabel(axis_label("specific binding", "nM"))
            a2.set_title(f"dissociation from {Ls[-1]:.3g} nM (no rebinding)")
            fig.suptitle(label)
        return fig

    write_outputs(args, payload, draw)
    print(f"{label}: fitted kon {fit['kon']:.4g} /(nM*min), koff {fit['koff']:.4g} /min, Kd {fit['Kd']:.4g} nM "
          f"(true {kon:.4g}, {koff:.4g}, {kd:.4g})")
    print(f"wrote {args.json}" + (f" and {args.plot}" if args.plot else ""))
    return 0


def _common_binding(p):
    p.add_argument("--radioligand", choices=["mk801", "cgp39653", "dcka"],
                   help="use the sourced constants of models.nmda_ligands")
    p.add_argument("--glutamate-uM", type=nonneg_float, default=None, dest="glutamate_uM",
                   help="--radioligand mk801 only: glutamate in the assay (uM, default 0)")
    p.add_argument("--glycine-uM", type=nonneg_float, default=None, dest="glycine_uM",
                   help="--radioligand mk801 only: glycine in the assay (uM, default 0)")
    p.add_argument("--kd-nM", type=positive_float, dest="kd_nM", help="radioligand Kd (nM) without --radioligand")
    p.add_argument("--kon", type=positive_float, default=None,
                   help=f"with --kd-nM: association rate, 1/(nM*min) (default {DEFAULT_KON:g})")
    p.add_argument("--receptor-nM", type=positive_float, default=0.1, dest="receptor_nM",
                   help="receptor sites in the tube, nM = Bmax (pmol/mg) x protein (mg/mL) (default 0.1)")
    p.add_argument("--no-depletion", action="store_true", help="hold free ligand at the added amount (textbook)")
    p.add_argument("--points", type=_assay_points, default=16,
                   help=f"number of concentrations / time points (at most {MAX_ASSAY_POINTS})")
    p.add_argument("--json", required=True, help="output JSON path")
    p.add_argument("--plot", help="output PNG path")


def _data_options(p) -> None:
    p.add_argument("--data", help="fit a measured table instead of simulating: first column the concentration "
                                  "(unit in the header, e.g. 'ligand [nM]'), then replicate columns total_1, "
                                  "nonspecific_1 (or nsb_1), specific_1, ... of counts (models.binding_data)")
    p.add_argument("--specific-activity", type=positive_float, dest="specific_activity",
                   help="with --data: radioligand specific activity (Ci/mmol), to convert cpm to nM")
    p.add_argument("--efficiency", type=positive_float, help="with --data: counting efficiency (0-1)")
    p.add_argument("--volume-ml", type=positive_float, dest="volume_ml", help="with --data: assay volume (mL)")


def add_subcommands(subparsers) -> None:
    """Add ``binding`` (``saturation``, ``competition``, ``kinetics``) to ``subparsers``."""
    b = subparsers.add_parser("binding", help="simulated radioligand binding assays and their fits")
    bsub = b.add_subparsers(dest="assay", required=True, metavar="ASSAY")

    s = bsub.add_parser("saturation", help="total / non-specific / specific binding vs radioligand")
    _common_binding(s)
    s.add_argument("--min-nM", type=positive_float, dest="min_nM", help="lowest radioligand (default Kd/10)")
    s.add_argument("--max-nM", type=positive_float, dest="max_nM", help="highest radioligand (default 20 Kd)")
    s.add_argument("--ns", type=nonneg_float, default=0.0, help="non-specific binding per free ligand")
    s.add_argument("--incubation-min", type=positive_float, dest="incubation_min",
                   help="finite incubation time (default: equilibrium)")
    s.add_argument("--fit-depletion", action="store_true", dest="fit_depletion",
                   help="also fit Kd and Bmax with the depletion-aware kinetic scheme (kinetics.fitting)")
    _data_options(s)
    s.set_defaults(func=cmd_binding_saturation)

    c = bsub.add_parser("competition", help="radioligand binding vs unlabelled competitor (one or two sites)")
    _common_binding(c)
    c.add_argument("--ligand-nM", type=positive_float, dest="ligand_nM", help="radioligand (default: Kd)")
    c.add_argument("--ki-nM", type=positive_float, dest="ki_nM", help="competitor Ki (one site)")
    c.add_argument("--f-high", type=nonneg_float, dest="f_high", help="fraction of high-affinity sites (two sites)")
    c.add_argument("--ki-high-nM", type=positive_float, dest="ki_high_nM",
                   help="two sites: Ki of the high-affinity site (nM; with --f-high and --ki-low-nM)")
    c.add_argument("--ki-low-nM", type=positive_float, dest="ki_low_nM",
                   help="two sites: Ki of the low-affinity site (nM)")
    c.add_argument("--min-nM", type=positive_float, dest="min_nM", help="lowest competitor concentration")
    c.add_argument("--max-nM", type=positive_float, dest="max_nM", help="highest competitor concentration")
    c.add_argument("--ns", type=nonneg_float, default=0.0, help="non-specific binding per free ligand")
    c.add_argument("--incubation-min", type=positive_float, dest="incubation_min",
                   help="incubation time in minutes (default: equilibrium)")
    _data_options(c)
    c.add_argument("--model", choices=("one_site", "two_site", "hill"), default=None,
                   help="with --data: the competition model fitted (default one_site)")
    c.set_defaults(func=cmd_binding_competition)

    k = bsub.add_parser("kinetics", help="association and dissociation time courses; fit of kon and koff")
    _common_binding(k)
    k.add_argument("--ligand-nM", type=positive_float, nargs="+", dest="ligand_nM",
                   help="radioligand concentrations of the association curves (default Kd/2, Kd, 2 Kd)")
    k.add_argument("--t-end-min", type=positive_float, dest="t_end_min", help="association time window (min)")
    k.set_defaults(func=cmd_binding_kinetics, points=41)
