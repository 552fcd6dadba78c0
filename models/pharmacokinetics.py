"""Dosing schedules and one-compartment pharmacokinetics of antidepressants in the mouse.

Scheme (amounts per kg body weight; ``C`` is the plasma-equivalent concentration)::

    depot --ka--> body --ke-->          C = body / Vd

An i.p. injection of ``D`` mg/kg puts ``1000 D / M`` umol/kg into the depot
(``M`` = molar mass): a state jump (:func:`kinetics.jumps`), so doses never
smear across a solver step. Schedules:

* :func:`daily_dosing` — N daily injections (the chronic regimen, 14 days in
  Skolnick 1996), optionally followed by a drug-free washout;
* :func:`single_dose` — the acute regimen;
* :func:`ecs_schedule` — electroconvulsive shock as a periodic stimulus: jumps
  into a stimulus species of the adaptation model (no pharmacokinetics).

Parameters and their sources
----------------------------
citalopram (mouse): elimination half-life 1.5 h and plasma clearance 87 mL/min/kg
(male mice) from "Kinetics of citalopram in test animals; drug exposure in safety
studies", Prog Neuropsychopharmacol Biol Psychiatry 1982;6:297-309 (PMID 6959194,
abstract); ``Vd = CL / ke`` is derived from them (11.3 L/kg).

imipramine: **no mouse elimination parameters were found** in the sources
searched. The volume of distribution is the rat steady-state value 19.9 L/kg
(Effect of phenobarbitone on the distribution and elimination of imipramine in
rats, J Pharm Pharmacol 1985;37:735-738, doi:10.1111/j.2042-7158.1985.tb04955.x,
abstract: clearance close to hepatic blood flow). The half-life is a choice
(2 h, same order as citalopram's 1.5 h in the mouse); see the parameter note.

Absorption from the peritoneum (``ka``) has no source for either drug: 4 /h is a
choice (peak about 0.6 h after injection). Doses are converted with the molar
mass of the free base; whether a study dosed the salt only rescales the dose
axis (the adaptation model is calibrated at a reference dose).

Examples
--------
>>> from models import pharmacokinetics as pk
>>> round(pk.dose_amount(pk.CITALOPRAM, 10.0), 3)   # umol/kg
30.827
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import kinetics as kx
from kinetics import Parameter
from kinetics.errors import ArgumentError, did_you_mean
from kinetics.simulate import simulate

__all__ = ["Drug", "CITALOPRAM", "IMIPRAMINE", "DRUGS", "get_drug", "dose_amount", "one_compartment",
           "daily_dosing", "single_dose", "ecs_schedule", "dosing_times", "bateman", "simulate_pk",
           "time_factor", "UNSOURCED"]

UNSOURCED = "UNSOURCED CHOICE:"

CITALOPRAM_KINETICS = ("Kinetics of citalopram in test animals; drug exposure in safety studies. Prog "
                       "Neuropsychopharmacol Biol Psychiatry 1982;6(3):297-309, PMID 6959194 (abstract: mouse "
                       "half-life 1.5 h; plasma clearance 87 mL/min/kg in male mice, 116 in female)")
IMIPRAMINE_RAT = ("Effect of phenobarbitone on the distribution and elimination of imipramine in rats. J Pharm "
                  "Pharmacol 1985;37(10):735-738, doi:10.1111/j.2042-7158.1985.tb04955.x (abstract: Vdss 19.9 L/kg "
                  "in control rats)")
_KA_NOTE = (f"{UNSOURCED} no measured i.p. absorption rate for the mouse was found; 4 /h (absorption half-time "
            "~10 min, peak ~0.6 h) is chosen; daily exposure (AUC) does not depend on it")


@dataclass(frozen=True)
class Drug:
    """A drug's one-compartment parameters (``kinetics.Parameter`` objects with sources)."""

    name: str
    molar_mass: Parameter
    ka: Parameter
    ke: Parameter
    vd: Parameter
    note: str = ""

    @property
    def parameters(self) -> tuple:
        return (self.ka, self.ke, self.vd)

    @property
    def half_life_h(self) -> float:
        from kinetics.units import conversion_factor

        return math.log(2) / (self.ke.value * conversion_factor(self.ke.unit, kx.UnitSystem(time="h")))


CITALOPRAM = Drug(
    "citalopram",
    Parameter("M", 324.39, "g/mol", note="free base C20H21FN2O (computed from the formula)"),
    Parameter("ka", 4.0, "1/h", note=_KA_NOTE),
    Parameter("ke", math.log(2) / 1.5, "1/h", reference=CITALOPRAM_KINETICS, note="ln 2 / 1.5 h (mouse)"),
    Parameter("Vd", 87e-3 * 60.0 / (math.log(2) / 1.5), "L/kg", reference=CITALOPRAM_KINETICS,
              note="derived: clearance 87 mL/min/kg (male mouse) / ke"),
)

IMIPRAMINE = Drug(
    "imipramine",
    Parameter("M", 280.41, "g/mol", note="free base C19H24N2 (computed from the formula)"),
    Parameter("ka", 4.0, "1/h", note=_KA_NOTE),
    Parameter("ke", math.log(2) / 2.0, "1/h",
              note=f"{UNSOURCED} no mouse half-life of imipramine was found; 2 h is chosen, the order of the "
                   "mouse citalopram half-life (1.5 h, PMID 6959194) and of a clearance near hepatic blood flow "
                   "(rat, J Pharm Pharmacol 1985;37:735). The adaptation potency (skolnick1996 EC50) is calibrated at "
                   "this half-life; with EC50 recalibrated, halving or doubling the half-life changes the daily "
                   "high-affinity fraction by < 0.01 (tests/test_chronic.py), with EC50 fixed it rescales the dose "
                   "axis"),
    Parameter("Vd", 19.9, "L/kg", reference=IMIPRAMINE_RAT, note="rat steady-state volume (no mouse value found)"),
    note="desipramine (active metabolite) is not modelled",
)

DRUGS = {"citalopram": CITALOPRAM, "imipramine": IMIPRAMINE}


def get_drug(name) -> Drug:
    """A drug by name (``"imipramine"`` or ``"citalopram"``); a :class:`Drug` is returned unchanged."""
    if isinstance(name, Drug):
        return name
    key = str(name).lower()
    if key not in DRUGS:
        raise ArgumentError(f"unknown drug `{name}`" + did_you_mean(key, DRUGS) + f"; choose one of {list(DRUGS)}")
    return DRUGS[key]


def dose_amount(drug, mg_per_kg: float) -> float:
    """Amount (umol/kg) of an injection of ``mg_per_kg``."""
    d = get_drug(drug)
    try:
        mg = float(mg_per_kg)
    except (TypeError, ValueError):
        raise ArgumentError(f"dose must be a number (mg/kg), got {mg_per_kg!r}") from None
    if not math.isfinite(mg) or mg < 0:
        raise ArgumentError(f"dose must be finite and >= 0 mg/kg, got {mg_per_kg!r}")
    return 1000.0 * mg / d.molar_mass.value


def time_factor(time_unit: str) -> float:
    """Length of one day in ``time_unit`` (``"h"`` -> 24, ``"day"`` -> 1, ``"min"`` -> 1440)."""
    from kinetics.errors import UnitError
    from kinetics.units import parse_unit, unit_kind

    try:
        kind = unit_kind(time_unit)
    except (UnitError, TypeError, AttributeError):
        kind = None
    if kind != "time":
        raise ArgumentError(f"`time_unit` must be a time unit (h, day, min, s), got {time_unit!r}")
    return float(parse_unit("day").scale / parse_unit(time_unit).scale)


def one_compartment(drug, *, units: kx.UnitSystem | None = None, prefix: str = "") -> kx.Scheme:
    """The depot -> body -> elimination scheme of ``drug``.

    Species ``depot`` and ``body`` (umol/kg), observable ``C`` (uM). The unit
    system must use uM for concentration (default: hours and uM).
    """
    d = get_drug(drug)
    units = units or kx.UnitSystem(time="h", concentration="uM")
    if units.concentration != "uM":
        raise ArgumentError(f"one_compartment needs a unit system in uM, got concentration `{units.concentration}`")
    n = lambda s: prefix + s  # noqa: E731
    params = [Parameter(n(p.name), p.value, p.unit, p.bounds, p.reference, p.note) for p in d.parameters]
    return kx.Scheme(
        f"{d.name}_one_compartment",
        species=[kx.Species(n("depot"), 0.0, unit="umol/kg", note="drug at the injection site (peritoneum)"),
                 kx.Species(n("body"), 0.0, unit="umol/kg", note="drug in the body")],
        parameters=params,
        reactions=[kx.reaction(f"{n('depot')} -> {n('body')}", n("ka"), name=n("absorption")),
                   kx.reaction(f"{n('body')} ->", n("ke"), name=n("elimination"))],
        observables=[kx.Observable(n("C"), f"{n('body')}/{n('Vd')}", unit="uM",
                                   note="plasma-equivalent concentration (amount / volume of distribution)")],
        units=units, description=f"one-compartment pharmacokinetics of {d.name} (mouse, i.p.)",
        reference=d.ke.reference or d.vd.reference,
    )


def dosing_times(days: int, *, start_day: float = 0.0, interval_days: float = 1.0) -> np.ndarray:
    """Injection times (days): ``start_day + k * interval_days`` for ``k = 0, 1, ..., days - 1``."""
    if isinstance(days, bool) or int(days) != days or days < 0:
        raise ArgumentError(f"`days` must be a non-negative integer, got {days!r}")
    if not (math.isfinite(interval_days) and interval_days > 0):
        raise ArgumentError(f"`interval_days` must be > 0, got {interval_days!r}")
    return float(start_day) + float(interval_days) * np.arange(int(days), dtype=float)


def daily_dosing(drug, dose_mg_per_kg: float, days: int, *, start_day: float = 0.0, interval_days: float = 1.0,
                 time_unit: str = "h", species: str = "depot") -> kx.Protocol:
    """N injections of ``dose_mg_per_kg``, one every ``interval_days`` (then nothing: the washout).

    Examples
    --------
    >>> p = daily_dosing("imipramine", 10.0, 3, time_unit="day")
    >>> [round(t, 3) for t in p.components[0].times]
    [0.0, 1.0, 2.0]
    """
    amount = dose_amount(drug, dose_mg_per_kg)
    times = dosing_times(days, start_day=start_day, interval_days=interval_days) * time_factor(time_unit)
    if times.size == 0 or amount == 0.0:
        return kx.Protocol.empty()
    return kx.Protocol([kx.jumps(species, times, amount)])


def single_dose(drug, dose_mg_per_kg: float, *, day: float = 0.0, time_unit: str = "h",
                species: str = "depot") -> kx.Protocol:
    """One injection (the acute regimen)."""
    return daily_dosing(drug, dose_mg_per_kg, 1, start_day=day, time_unit=time_unit, species=species)


def ecs_schedule(n_shocks: int, *, interval_days: float = 1.0, start_day: float = 0.0, time_unit: str = "h",
                 species: str = "ecs", amount: float = 1.0) -> kx.Protocol:
    """Electroconvulsive shock as a periodic stimulus: ``amount`` added to ``species`` at each shock."""
    times = dosing_times(n_shocks, start_day=start_day, interval_days=interval_days) * time_factor(time_unit)
    if times.size == 0:
        return kx.Protocol.empty()
    return kx.Protocol([kx.jumps(species, times, float(amount))])


def bateman(t_h, drug, dose_mg_per_kg: float):
    """Analytic concentration (uM) after one injection at t = 0 (the Bateman function), t in hours."""
    d = get_drug(drug)
    ka, ke, vd = d.ka.value, d.ke.value, d.vd.value
    t = np.asarray(t_h, dtype=float)
    a = dose_amount(d, dose_mg_per_kg)
    return a / vd * ka / (ka - ke) * (np.exp(-ke * t) - np.exp(-ka * t))


def simulate_pk(drug, protocol: kx.Protocol, *, t_end_h: float, t_eval_h=None, **kw):
    """Simulate the one-compartment scheme (hours, uM) under a dosing protocol (times in hours)."""
    return simulate(one_compartment(drug), protocol, t_end=t_end_h, t_eval=t_eval_h, **kw)
