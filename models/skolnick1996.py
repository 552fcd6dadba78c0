"""Slow adaptation of cortical NMDA receptors to chronic antidepressant treatment (Skolnick 1996).

What the model reproduces (Skolnick 1996, Pharmacopsychiatry 29:23-26; Nowak et al. 1993,
J Pharmacol Exp Ther 265:1380; Paul et al. 1993, Eur J Pharmacol 247:305; Nowak, Li & Paul
1996, Eur J Pharmacol 295:75): chronic (14 daily doses), not acute (1 day), antidepressant
treatment of mice lowers the proportion of high-affinity glycine sites that inhibit
[3H]CGP-39653 binding (about 45 % in controls), makes glycine less potent at displacing
[3H]5,7-DCKA, and lowers basal (non-equilibrium) [3H]MK-801 binding; the change develops
slowly, is dose dependent and persists after the last dose; cortex only.

Model (time in days, concentrations in uM)::

    depot --ka--> body --ke-->                   drug PK (models.pharmacokinetics)
    E  = C / (C + EC50)                          drug drive (ECS: E = ecs, decaying stimulus)
    S  : dS/dt = k_act E (1 - S) - S / tau_S     drug-induced signal (saturating, persists)
    A  : dA/dt = (S - A) / tau_A                 slow adaptive process
    H <-> L                                      receptor glycine-site states, relaxing with the
        fH* = fH0 (1 - m A),  tau_R              receptor turnover time to the set point fH*

``fH`` (fraction of receptors in the high-affinity state H) is the readout of the
[3H]CGP-39653 assay; the [3H]5,7-DCKA readout is the IC50 of glycine against the
H/L mixture (glycine Kd ``K_H`` in H, ``K_L`` in L; :func:`glycine_ic50_uM`); basal
[3H]MK-801 binding falls because the L state binds the residual glycine of the
membranes less (:func:`mk801_basal_binding`).

Fast binding inside the slow model (ms to days)
-----------------------------------------------
The H <-> L conversion is taken to act on glycine-free receptors only: a bound
glycine holds the site in its state. The *full* scheme (``qss=False``) therefore
carries glycine binding (time constant ~0.1 s) beside processes of days::

    H0 + gly <-> HG    kon_gly, kon_gly K_H          H0 -> L0   a / u_H
    L0 + gly <-> LG    kon_gly, kon_gly K_L          L0 -> H0   b / u_L

with ``u_X = K_X / (K_X + gly)`` the glycine-free fraction at quasi-steady state. The
*reduced* scheme (``qss=True``, default) eliminates the fast binding: ``H -> L`` at
``a``, ``L -> H`` at ``b``. Both are solved by the package's solvers (the full one
needs the stiff Rosenbrock method); tests/test_chronic.py shows they agree to
< 1e-4 over a treatment and washout, and that the check fails when glycine
binding is made slow.

Parameters
----------
Sourced: ``fH0`` (about 45 %, the control value of these studies; unverified, see its note), ``kon_gly``
(Parsons et al. 1993), ``K_H`` ([3H]glycine Kd in cortex,
O'Shea et al. 1991), ``K_L`` (derived: the ratio ``K_L/K_H`` = 2.906 makes the 6.2-fold
fall of fH reported for chronic citalopram give the 1.5-fold rise of the glycine IC50
reported in the same study, Nowak, Li & Paul 1996), the PK parameters
(models.pharmacokinetics). **Unsourced choices** (no published numbers; each note says
how the value was chosen): the time constants ``tau_S``, ``tau_A``, ``tau_R``, ``k_act``,
``m``, the drug potencies ``EC50`` (calibrated, see :func:`calibrate_ec50`), the ECS
stimulus, the in-vivo glycine level (which only matters for the full scheme), and the
MK-801 assay conditions. The glycine association rate (full scheme) is the sourced value
of models.glun1_glun2.

Examples
--------
>>> from models import skolnick1996 as sk
>>> r = sk.simulate_chronic("citalopram", 15.0, days=14)
>>> round(float(r.high_affinity_fraction[0]), 3), round(float(r.high_affinity_fraction[14]), 3)
(0.45, 0.073)
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

import kinetics as kx
from kinetics import Parameter
from kinetics.errors import ArgumentError, did_you_mean
from kinetics.simulate import simulate

from models import nmda_ligands as nl
from models import pharmacokinetics as pk

__all__ = ["CONTROL_HIGH_AFFINITY_FRACTION", "TREATMENTS", "REFERENCE_DOSE_MG_PER_KG", "adaptation_parameters",
           "chronic_scheme", "treatment_protocol", "ChronicResult", "simulate_chronic", "glycine_ic50_uM",
           "glycine_site_constants", "mk801_basal_binding", "MK801_BASAL_ASSAY", "calibrate_ec50",
           "calibration_report", "unsourced_parameters"]

UNSOURCED = "UNSOURCED CHOICE:"
SKOLNICK_1996 = "Skolnick P et al. (1996) Pharmacopsychiatry 29:23-26, doi:10.1055/s-2007-979537"
NOWAK_1993 = "Nowak G, Trullas R, Layer RT, Skolnick P, Paul IA (1993) J Pharmacol Exp Ther 265:1380-1386 (abstract)"
NOWAK_1996 = ("Nowak G, Li Y, Paul IA (1996) Eur J Pharmacol 295:75-85 (abstract: chronic citalopram, 6.2-fold "
              "fall of the proportion of high-affinity glycine-displaceable [3H]CGP-39653 sites, 1.5-fold fall of "
              "glycine potency against [3H]5,7-DCKA, mouse cortex)")
FH0_READOUT = ("readout described by Nowak et al. (1993) J Pharmacol Exp Ther 265:1380-1386, Paul IA et al. "
               "(1993) Eur J Pharmacol 247:305-311 (rat cortex) and Skolnick 1996; the value 0.45 itself is not "
               "in these abstracts and is unverified")

#: Fraction of high-affinity glycine sites in control cortex.
CONTROL_HIGH_AFFINITY_FRACTION = 0.45
#: Treatments the model knows.
TREATMENTS = ("imipramine", "citalopram", "ecs")
#: Dose at which the drug potencies are calibrated (mg/kg/day, i.p.).
REFERENCE_DOSE_MG_PER_KG = 15.0
#: Fold-fall of fH after 14 days of citalopram (Nowak, Li & Paul 1996) and of the glycine potency.
CITALOPRAM_FH_FOLD, CITALOPRAM_IC50_FOLD = 6.2, 1.5
#: Chosen fold-fall of fH for imipramine at the reference dose (no number available; see the EC50 note).
IMIPRAMINE_FH_FOLD = 2.0

_K_RATIO = 2.9059  # K_L / K_H, solved from the Nowak et al. 1996 ratios (see glycine_site_constants)

_TIME_NOTE = (f"{UNSOURCED} the papers report only that the change is absent after 1 day, present after 14, "
              "builds up slowly and persists for some time after the last dose (Skolnick 1996); ")


def adaptation_parameters() -> dict:
    """The adaptation model's parameters (``kinetics.Parameter`` by name), with sources or explained choices."""
    P = Parameter
    params = [
        P("fH0", CONTROL_HIGH_AFFINITY_FRACTION, "1", bounds=(0, 1), reference=FH0_READOUT,
          note="control proportion of high-affinity glycine sites inhibiting [3H]CGP-39653 binding. UNVERIFIED "
               "VALUE: about 45 % in control cortex is the figure associated with these studies, but it is not "
               "stated in the abstracts of Nowak et al. 1993, Paul et al. 1993 or Skolnick 1996, and the full "
               "texts were not checked"),
        P("m", 1.0, "1", bounds=(0, 1),
          note=f"{UNSOURCED} maximal relative fall of fH; 1 because chronic citalopram eliminated the "
               "high-affinity sites in most animals (Nowak et al. 1998, Eur J Pharmacol 342:367, abstract)"),
        P("k_act", 20.0, "1/day",
          note=_TIME_NOTE + "activation rate of the drug signal at full drive; with tau_S it makes the "
                            "daily signal saturate at high doses (graded dose dependence below)"),
        P("tau_S", 5.0, "day", note=_TIME_NOTE + "decay of the drug signal; sets how long the change persists"),
        P("tau_A", 3.0, "day", note=_TIME_NOTE + "slow adaptive process between signal and receptor"),
        P("tau_R", 2.5, "day", note=_TIME_NOTE + "relaxation (turnover) time of the H/L receptor population; "
                                               "tau_A and tau_R together keep the day-1 change below 5 %"),
        P("tau_ecs", 0.1, "day",
          note=f"{UNSOURCED} decay of the post-shock stimulus of one electroconvulsive shock (drive = ecs)"),
        P("K_H", nl.GLYCINE.value("Kd"), "uM", reference=nl.OSHEA_1991,
          note="glycine Kd of the high-affinity state = [3H]glycine Kd in cortex"),
        P("K_L", _K_RATIO * nl.GLYCINE.value("Kd"), "uM", reference=NOWAK_1996,
          note=f"derived: K_L/K_H = {_K_RATIO} makes the reported 6.2-fold fall of fH give the reported 1.5-fold "
               "rise of the glycine IC50 against [3H]5,7-DCKA (glycine_site_constants)"),
        P("gly", 1.0, "uM",
          note=f"{UNSOURCED} extracellular glycine in cortex (low micromolar order); only used by the full "
               "scheme with explicit glycine binding, where it sets the glycine-free fractions"),
        P("kon_gly", 9.5, "1/(uM*s)",
          reference="Parsons CG, Zong X, Lux HD (1993) Br J Pharmacol, doi:10.1111/j.1476-5381.1993.tb13556.x "
                    "(abstract: 9.5e6 /M/s; the value of models.glun1_glun2)",
          note="glycine association rate; with K_H, K_L it sets how fast glycine binding is (~0.1 s), which "
               "the quasi-steady-state scheme takes as instantaneous"),
    ]
    return {p.name: p for p in params}


def _drug_ec50(drug: str) -> Parameter:
    if drug == "citalopram":
        return Parameter("EC50", 3.12577, "uM", reference=NOWAK_1996,
                         note=f"calibrated (calibrate_ec50): 14 daily doses of {REFERENCE_DOSE_MG_PER_KG:g} mg/kg "
                              f"lower fH {CITALOPRAM_FH_FOLD}-fold (the dose used in the study is not given in its "
                              f"abstract; {REFERENCE_DOSE_MG_PER_KG:g} mg/kg is a choice)")
    if drug == "imipramine":
        return Parameter("EC50", 25.4347, "uM",
                         note=f"{UNSOURCED} calibrated (calibrate_ec50) to a {IMIPRAMINE_FH_FOLD:g}-fold fall of fH "
                              f"after 14 daily doses of {REFERENCE_DOSE_MG_PER_KG:g} mg/kg; Nowak et al. 1993 report "
                              "a decrease without a number in the abstract, and SSRIs change this measure more "
                              "than other antidepressants (Nowak et al. 1998), hence a smaller fall than citalopram")
    raise ArgumentError(f"no drug potency for `{drug}`")


def _check_treatment(treatment) -> str:
    t = str(treatment).lower()
    if t not in TREATMENTS:
        raise ArgumentError(f"unknown treatment `{treatment}`" + did_you_mean(t, TREATMENTS)
                            + f"; choose one of {list(TREATMENTS)}")
    return t


def chronic_scheme(treatment: str = "imipramine", *, qss: bool = True, parameters: dict | None = None) -> kx.Scheme:
    """The adaptation scheme for ``treatment`` (``"imipramine"``, ``"citalopram"``, ``"ecs"``).

    Parameters
    ----------
    qss : bool
        True: glycine binding at quasi-steady state (species ``H``, ``L``). False:
        explicit glycine binding (``H0``, ``HG``, ``L0``, ``LG``), stiff (ms to days).
    parameters : dict, optional
        Replacement values (declared units) for parameters of the scheme.

    Returns
    -------
    Scheme
        Units day and uM. Observables ``fH`` (high-affinity fraction), ``E`` (drive),
        ``C`` (drug, uM; not for ECS).
    """
    t = _check_treatment(treatment)
    units = kx.UnitSystem(time="day", concentration="uM")
    ap = adaptation_parameters()
    params = [ap[n] for n in ("fH0", "m", "k_act", "tau_S", "tau_A", "tau_R", "K_H", "K_L")]
    species, reactions, observables = [], [], []
    if t == "ecs":
        params.append(ap["tau_ecs"])
        species.append(kx.Species("ecs", 0.0, unit="1", note="post-shock stimulus (1 per shock)"))
        reactions.append(kx.reaction("ecs ->", "1/tau_ecs", name="ecs_decay"))
        observables.append(kx.Observable("E", "ecs", unit="1", note="drive of the adaptation"))
    else:
        pks = pk.one_compartment(t, units=units)
        species += list(pks.species)
        reactions += list(pks.reactions)
        params += list(pks.parameters) + [_drug_ec50(t)]
        observables += list(pks.observables)
        observables.append(kx.Observable("E", "C/(C + EC50)", unit="1", note="drive of the adaptation"))
    species += [kx.Species("S", 0.0, unit="1", note="drug-induced signal"),
                kx.Species("A", 0.0, unit="1", note="slow adaptive process")]
    reactions += [kx.reaction("-> S", rate="k_act*E*(1 - S) - S/tau_S", name="signal"),
                  kx.reaction("-> A", rate="(S - A)/tau_A", name="adaptation")]
    observables.append(kx.Observable("fH_set", "fH0*(1 - m*A)", unit="1", note="set point of fH"))
    # effective conversion rates (per day) of the receptor population
    a = "(1 - fH_set)/tau_R"
    b = "fH_set/tau_R"
    fh0 = float(ap["fH0"].value)
    if qss:
        species += [kx.Species("H", fh0, unit="1", note="high-affinity glycine-site state"),
                    kx.Species("L", 1.0 - fh0, unit="1", note="low-affinity glycine-site state")]
        reactions += [kx.reaction("H -> L", a, name="to_low"), kx.reaction("L -> H", b, name="to_high")]
        observables.append(kx.Observable("fH", "H/(H + L)", unit="1", note="high-affinity fraction"))
    else:
        params += [ap["gly"], ap["kon_gly"]]
        vals = {**{p.name: p.value for p in params}, **(parameters or {})}
        uh = vals["K_H"] / (vals["K_H"] + vals["gly"])
        ul = vals["K_L"] / (vals["K_L"] + vals["gly"])
        species += [kx.Species("H0", fh0 * uh, unit="1", note="H state, glycine-free"),
                    kx.Species("HG", fh0 * (1 - uh), unit="1", note="H state, glycine bound"),
                    kx.Species("L0", (1 - fh0) * ul, unit="1", note="L state, glycine-free"),
                    kx.Species("LG", (1 - fh0) * (1 - ul), unit="1", note="L state, glycine bound")]
        observables += [kx.Observable("u_H", "K_H/(K_H + gly)", unit="1"),
                        kx.Observable("u_L", "K_L/(K_L + gly)", unit="1")]
        reactions += [kx.reaction("H0 <-> HG", "kon_gly*gly", "kon_gly*K_H", name="glycine_H"),
                      kx.reaction("L0 <-> LG", "kon_gly*gly", "kon_gly*K_L", name="glycine_L"),
                      kx.reaction("H0 -> L0", f"{a}/u_H", name="to_low"),
                      kx.reaction("L0 -> H0", f"{b}/u_L", name="to_high")]
        observables.append(kx.Observable("fH", "(H0 + HG)/(H0 + HG + L0 + LG)", unit="1",
                                         note="high-affinity fraction"))
    scheme = kx.Scheme(f"skolnick1996_{t}" + ("" if qss else "_full"), species=species, parameters=params,
                       reactions=reactions, observables=observables, units=units,
                       description="slow adaptation of cortical NMDA receptor glycine sites to chronic "
                                   + ("electroconvulsive shock" if t == "ecs" else t)
                                   + (" (glycine binding at quasi-steady state)" if qss else
                                      " (explicit glycine binding; stiff)"),
                       reference=f"{SKOLNICK_1996}; {NOWAK_1993}; {NOWAK_1996}")
    if parameters:
        scheme = scheme.with_parameters(parameters)
    return scheme


def treatment_protocol(treatment: str, dose_mg_per_kg: float | None, days: int) -> kx.Protocol:
    """Daily i.p. doses (or one ECS a day) on days 0 .. days-1, in the scheme's time unit (day)."""
    t = _check_treatment(treatment)
    if t == "ecs":
        return pk.ecs_schedule(days, time_unit="day")
    if dose_mg_per_kg is None:
        raise ArgumentError(f"`dose_mg_per_kg` is required for {t}")
    return pk.daily_dosing(t, dose_mg_per_kg, days, time_unit="day")


# --------------------------------------------------------------------------- readouts
def glycine_site_constants(parameters: dict | None = None) -> tuple:
    """``(K_H, K_L)`` in uM."""
    ap = adaptation_parameters()
    vals = {n: p.value for n, p in ap.items()}
    vals.update(parameters or {})
    return float(vals["K_H"]), float(vals["K_L"])


def glycine_ic50_uM(f_high, *, parameters: dict | None = None, ligand_nM: float | None = None,
                    kd_dcka_nM: float | None = None):
    """IC50 (uM) of glycine against [3H]5,7-DCKA for a receptor mixture with high-affinity fraction ``f_high``.

    Equilibrium, no depletion: the two-site displacement equation with
    ``IC50_X = K_X (1 + L/Kd_DCKA)`` (Cheng-Prusoff), solved for half displacement.
    tests/test_chronic.py checks it against the kinetic competition assay.
    """
    from scipy.optimize import brentq

    kh, kl = glycine_site_constants(parameters)
    L = nl.DCKA.value("L_assay") if ligand_nM is None else float(ligand_nM)
    kd = nl.DCKA.value("Kd") if kd_dcka_nM is None else float(kd_dcka_nM)
    c = 1.0 + L / kd
    f = np.atleast_1d(np.asarray(f_high, dtype=float))
    if np.any((f < 0) | (f > 1)):
        raise ArgumentError("`f_high` must lie in [0, 1]")
    out = np.empty(f.size)
    for i, fi in enumerate(f):
        fn = lambda x: fi / (1 + x / (c * kh)) + (1 - fi) / (1 + x / (c * kl)) - 0.5  # noqa: E731
        out[i] = brentq(fn, 1e-9 * c * kh, 1e9 * c * kl, xtol=1e-14, rtol=1e-13)
    return out if np.ndim(f_high) else float(out[0])


#: Conditions of the simulated basal (non-equilibrium) [3H]MK-801 assay. UNSOURCED CHOICES: Nowak et al.
#: (1993) state only "basal binding under non-equilibrium conditions"; the values below are typical of
#: such assays and chosen so that binding is far from equilibrium (the condition named by the paper).
MK801_BASAL_ASSAY = {"ligand_nM": 5.0, "incubation_min": 30.0, "protein_mg_per_mL": 0.2,
                     "residual_glycine_uM": 0.1, "residual_glutamate_uM": 0.0}


def mk801_basal_binding(f_high, *, glutamate_uM: float | None = None, parameters: dict | None = None,
                        assay: dict | None = None):
    """Specific [3H]MK-801 binding (nM) after a short incubation without added agonists.

    The residual glycine of the membranes occupies H-state sites more than
    L-state sites, so a population shifted to L opens fewer channels and binds
    [3H]MK-801 more slowly (models.nmda_ligands.mk801_binding, kinetic).
    """
    cond = {**MK801_BASAL_ASSAY, **(assay or {})}
    kh, kl = glycine_site_constants(parameters)
    g = cond["residual_glycine_uM"]
    glu = cond["residual_glutamate_uM"] if glutamate_uM is None else glutamate_uM
    f = np.atleast_1d(np.asarray(f_high, dtype=float))
    out = np.empty(f.size)
    for i, fi in enumerate(f):
        occ = fi * g / (g + kh) + (1 - fi) * g / (g + kl)
        out[i] = nl.mk801_binding(cond["incubation_min"], ligand_nM=cond["ligand_nM"],
                                  protein_mg_per_mL=cond["protein_mg_per_mL"], glutamate_uM=glu,
                                  glycine_occupancy=occ)
    return out if np.ndim(f_high) else float(out[0])


# --------------------------------------------------------------------------- simulation
@dataclass(frozen=True)
class ChronicResult:
    """Daily readouts of a chronic treatment and washout.

    ``days`` (0 = first dose; the value at day d is sampled 24 h after the dose of
    day d-1), ``high_affinity_fraction``, ``glycine_ic50_uM``, ``mk801_basal_relative``
    (basal [3H]MK-801 binding / control), and the continuous traces ``t``, ``fH``, ``E``.
    """

    treatment: str
    dose_mg_per_kg: float | None
    treatment_days: int
    washout_days: int
    days: np.ndarray
    high_affinity_fraction: np.ndarray
    glycine_ic50_uM: np.ndarray
    mk801_basal_relative: np.ndarray
    t: np.ndarray = field(repr=False, default=None)
    fH: np.ndarray = field(repr=False, default=None)
    E: np.ndarray = field(repr=False, default=None)

    def to_json_dict(self) -> dict:
        return {"treatment": self.treatment, "dose_mg_per_kg": self.dose_mg_per_kg,
                "treatment_days": self.treatment_days, "washout_days": self.washout_days,
                "days": [int(d) for d in self.days],
                "high_affinity_fraction": [float(x) for x in self.high_affinity_fraction],
                "glycine_ic50_uM": [float(x) for x in self.glycine_ic50_uM],
                "mk801_basal_relative": [float(x) for x in self.mk801_basal_relative]}

    def to_json(self) -> str:
        return json.dumps(self.to_json_dict(), indent=1)

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame({"day": self.days, "high_affinity_fraction": self.high_affinity_fraction,
                             "glycine_ic50_uM": self.glycine_ic50_uM,
                             "mk801_basal_relative": self.mk801_basal_relative})

    def report(self) -> str:
        f0 = self.high_affinity_fraction[0]
        lines = [f"{self.treatment}" + (f" {self.dose_mg_per_kg:g} mg/kg/day" if self.dose_mg_per_kg else "")
                 + f" x {self.treatment_days} days, washout {self.washout_days} days",
                 "  day   fH      change   glycine IC50 (uM)   basal [3H]MK-801"]
        for d, f, ic, mk in zip(self.days, self.high_affinity_fraction, self.glycine_ic50_uM,
                                self.mk801_basal_relative):
            lines.append(f"  {int(d):3d}   {f:.4f}  {100 * (f / f0 - 1):+6.1f} %  {ic:10.4f}         {mk:.3f}")
        return "\n".join(lines)

    def plot(self, axes=None):
        """Three panels over days: high-affinity glycine-site fraction, glycine IC50, basal [3H]MK-801 binding.
        The shaded span is the treatment period (days 0 to ``treatment_days``, one dose a day); after it,
        washout. Returns the axes."""
        from kinetics.plotstyle import label, style

        treatment = f"{self.treatment}" + (f" {self.dose_mg_per_kg:g} mg/kg/day" if self.dose_mg_per_kg else "")
        with style():
            if axes is None:
                import matplotlib.pyplot as plt

                _, axes = plt.subplots(1, 3, figsize=(12, 3.6), constrained_layout=True)
            ax1, ax2, ax3 = axes
            if self.t is not None:
                ax1.plot(self.t, self.fH, color="0.6", lw=0.8, label="continuous")
            ax1.plot(self.days, self.high_affinity_fraction, "o", ms=3, label="each day")
            ax1.set_ylabel(label("high-affinity glycine sites", "fraction"))
            ax1.set_title("high-affinity glycine sites")
            ax2.plot(self.days, self.glycine_ic50_uM, "o-", ms=3)
            ax2.set_ylabel(label("glycine IC50 vs [3H]5,7-DCKA", "uM"))
            ax2.set_title("glycine potency")
            ax3.plot(self.days, self.mk801_basal_relative, "o-", ms=3)
            ax3.set_ylabel(label("basal [3H]MK-801 binding", "of control"))
            ax3.set_title("basal [3H]MK-801 binding")
            for ax in axes:
                ax.set_xlabel(label("time", "day"))
                ax.axvspan(0, self.treatment_days, color="C3", alpha=0.12,
                           label=f"treatment ({self.treatment_days} days)")
            for ax in axes:
                ax.legend(loc="best")
            axes[0].figure.suptitle(f"chronic {treatment}: shaded = daily treatment, then "
                                    f"{self.washout_days} days washout")
        return axes


def _int(name, v, minimum):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) and not (isinstance(v, float) and v.is_integer()):
        raise ArgumentError(f"`{name}` must be an integer number of days, got {v!r}")
    v = int(v)
    if v < minimum:
        raise ArgumentError(f"`{name}` must be >= {minimum}, got {v}")
    return v


def simulate_chronic(treatment: str, dose_mg_per_kg: float | None, days: int, washout_days: int = 0, *,
                     qss: bool = True, method: str = "auto", parameters: dict | None = None,
                     points_per_day: int = 24, readouts: bool = True) -> ChronicResult:
    """Simulate daily treatment for ``days`` days and a drug-free washout, sampled daily.

    Parameters
    ----------
    treatment : {"imipramine", "citalopram", "ecs"}
    dose_mg_per_kg : float or None
        Daily i.p. dose (ignored for ECS: one shock a day).
    days, washout_days : int
    qss : bool
        Quasi-steady-state (default) or full stiff scheme.
    method : str
        Solver (``"auto"``; the full scheme is best run with ``"rodas"``).
    parameters : dict, optional
        Parameter replacements (declared units).
    readouts : bool
        Compute the glycine IC50 and MK-801 readouts (False: NaN, faster).

    Examples
    --------
    >>> r = simulate_chronic("imipramine", 15.0, days=1, washout_days=1)
    >>> r.days.tolist()
    [0, 1, 2]
    """
    t = _check_treatment(treatment)
    days = _int("days", days, 0)
    washout_days = _int("washout_days", washout_days, 0)
    if days + washout_days < 1:
        raise ArgumentError("nothing to simulate: `days + washout_days` must be >= 1")
    if t != "ecs":
        if dose_mg_per_kg is None:
            raise ArgumentError(f"`dose_mg_per_kg` is required for {t}")
        pk.dose_amount(t, dose_mg_per_kg)  # validates
    scheme = chronic_scheme(t, qss=qss, parameters=parameters)
    protocol = treatment_protocol(t, dose_mg_per_kg, days)
    total = days + washout_days
    t_eval = np.linspace(0.0, float(total), total * int(points_per_day) + 1)
    res = simulate(scheme, protocol, t_end=float(total), t_eval=t_eval, method=method, rtol=1e-8, atol=1e-11)
    fH = np.asarray(res["fH"])
    idx = np.arange(total + 1) * int(points_per_day)
    daily = fH[idx]
    if readouts:
        ic50 = glycine_ic50_uM(daily, parameters=parameters)
        mk = mk801_basal_binding(daily, parameters=parameters)
        mk_rel = mk / mk801_basal_binding(CONTROL_HIGH_AFFINITY_FRACTION, parameters=parameters)
    else:
        ic50 = mk_rel = np.full(daily.shape, np.nan)
    return ChronicResult(treatment=t, dose_mg_per_kg=None if t == "ecs" else float(dose_mg_per_kg),
                         treatment_days=days, washout_days=washout_days, days=np.arange(total + 1),
                         high_affinity_fraction=daily, glycine_ic50_uM=np.asarray(ic50),
                         mk801_basal_relative=np.asarray(mk_rel), t=res.t, fH=fH, E=np.asarray(res["E"]))


# --------------------------------------------------------------------------- calibration
def calibrate_ec50(drug: str, fold: float, *, dose_mg_per_kg: float = REFERENCE_DOSE_MG_PER_KG,
                   days: int = 14, parameters: dict | None = None) -> float:
    """EC50 (uM) of ``drug`` for which ``days`` daily doses lower fH by ``fold`` (fH0 / fold at day ``days``).

    ``parameters`` replaces other parameters during the calibration (e.g. another half-life).
    """
    from scipy.optimize import brentq

    t = _check_treatment(drug)
    if t == "ecs":
        raise ArgumentError("ECS has no EC50")
    target = CONTROL_HIGH_AFFINITY_FRACTION / float(fold)

    def gap(log_ec50):
        r = simulate_chronic(t, dose_mg_per_kg, days, parameters={**(parameters or {}), "EC50": math.exp(log_ec50)},
                             readouts=False,
                             points_per_day=4)
        return r.high_affinity_fraction[days] - target

    return math.exp(brentq(gap, math.log(1e-4), math.log(1e4), xtol=1e-10))


def calibration_report() -> str:
    """Model values at the calibration points next to the published ratios."""
    cit = simulate_chronic("citalopram", REFERENCE_DOSE_MG_PER_KG, 14)
    imi = simulate_chronic("imipramine", REFERENCE_DOSE_MG_PER_KG, 14)
    f0 = CONTROL_HIGH_AFFINITY_FRACTION
    return "\n".join([
        f"control fH {cit.high_affinity_fraction[0]:.3f} (about 0.45: {FH0_READOUT})",
        f"citalopram {REFERENCE_DOSE_MG_PER_KG:g} mg/kg x 14 d: fH fold-fall {f0 / cit.high_affinity_fraction[14]:.2f}"
        f" (published {CITALOPRAM_FH_FOLD}), glycine IC50 fold-rise "
        f"{cit.glycine_ic50_uM[14] / cit.glycine_ic50_uM[0]:.3f} (published {CITALOPRAM_IC50_FOLD}) [{NOWAK_1996}]",
        f"imipramine {REFERENCE_DOSE_MG_PER_KG:g} mg/kg x 14 d: fH fold-fall {f0 / imi.high_affinity_fraction[14]:.2f}"
        f" (chosen {IMIPRAMINE_FH_FOLD:g}; no published number retrieved)",
    ])


def unsourced_parameters() -> list:
    """Names of the adaptation parameters whose values no source gives (see their notes)."""
    names = [n for n, p in adaptation_parameters().items() if p.note.startswith(UNSOURCED)]
    names.append("EC50[imipramine]")
    names += [f"MK801_BASAL_ASSAY[{k}]" for k in MK801_BASAL_ASSAY]
    return names
