"""Chronic antidepressant adaptation (models/skolnick1996.py) and dosing/PK (models/pharmacokinetics.py).

The qualitative findings of Skolnick 1996 are asserted as inequalities with margins; the
quantitative ones (45 % control, 6.2-fold / 1.5-fold for chronic citalopram) against
tests/data/skolnick1996_targets.json. Those numbers were used to calibrate the model (fH0, the
drug EC50s, K_L/K_H), so the tests named ``test_calibration_*`` only show that the calibration
holds. Tests of what the calibration did not fix (``test_structure_*``) check properties that
follow from the model's structure: the drug-free washout is the linear S -> A -> fH cascade with
the declared time constants, the drug potency only rescales the dose axis, the low-dose response
is proportional to dose, and the glycine IC50 is fixed by fH and the ratio K_L/K_H.
"""
import argparse
import json
import math
from pathlib import Path

import numpy as np
import pytest

from kinetics.errors import ArgumentError, KineticsError
from models import binding_assays as ba
from models import pharmacokinetics as pk
from models import skolnick1996 as sk

TARGETS = json.loads((Path(__file__).parent / "data" / "skolnick1996_targets.json").read_text())
F0 = TARGETS["control_high_affinity_fraction"]["value"]
DOSE = 15.0


@pytest.fixture(scope="module")
def imipramine_run():
    return sk.simulate_chronic("imipramine", DOSE, days=14, washout_days=28)


@pytest.fixture(scope="module")
def citalopram_run():
    return sk.simulate_chronic("citalopram", DOSE, days=14, washout_days=7)


def change(r, day):
    """Relative fall of the high-affinity fraction at ``day`` (0 = none, 1 = all gone)."""
    return 1.0 - r.high_affinity_fraction[day] / r.high_affinity_fraction[0]


# --------------------------------------------------------------------------- the published findings
def test_calibration_control_has_45_percent_high_affinity_sites():
    """Calibration check: fH0 is set to 45 % (our notes; unverified, see the fH0 note); untreated, fH stays there."""
    r = sk.simulate_chronic("imipramine", 0.0, days=14)
    assert np.allclose(r.high_affinity_fraction, F0, rtol=1e-9)
    assert r.high_affinity_fraction[0] == pytest.approx(0.45)


@pytest.mark.parametrize("treatment", ["imipramine", "citalopram", "ecs"])
def test_calibration_acute_no_meaningful_change_chronic_clear_change(treatment):
    """Calibration check: the size of the day-14 change is set by the calibrated EC50s (6.2-fold for
    citalopram, a chosen 2-fold for imipramine) and the chosen ECS stimulus; the small day-1 change by the
    chosen tau_A, tau_R. The model is built to pass this test; see the test_structure_* tests."""
    r = sk.simulate_chronic(treatment, DOSE, days=14, readouts=False)
    assert abs(change(r, 1)) < 0.05          # 1 day: < 5 % (measured 0.8-4.5 %)
    assert change(r, 14) > 0.40              # 14 days: > 40 % (measured 50-92 %)
    assert change(r, 14) > 10 * abs(change(r, 1))


def test_calibration_citalopram_matches_published_fold_changes(citalopram_run):
    """Calibration check: EC50[citalopram] was solved for the 6.2-fold fall of fH and K_L/K_H for the
    1.5-fold rise of the glycine IC50 (Nowak, Li & Paul 1996); this shows the stored values still do that."""
    r = citalopram_run
    fold_fh = TARGETS["citalopram_chronic_fold_fall_high_affinity_fraction"]["value"]
    fold_ic50 = TARGETS["citalopram_chronic_fold_fall_glycine_potency_dcka"]["value"]
    assert r.high_affinity_fraction[0] / r.high_affinity_fraction[14] == pytest.approx(fold_fh, rel=0.01)
    assert r.glycine_ic50_uM[14] / r.glycine_ic50_uM[0] == pytest.approx(fold_ic50, rel=0.01)


# --------------------------------------------------------------------------- what the calibration did not fix
def _cascade_recurrence():
    """Coefficients (e1, e2, e3) of d[k+3] = e1 d[k+2] - e2 d[k+1] + e3 d[k] for the drug-free model.

    With no drug (E = 0) the model is linear: dS/dt = -S/tau_S, dA/dt = (S - A)/tau_A and, with H + L = 1,
    dfH/dt = (fH0 (1 - m A) - fH)/tau_R. The deviation d = fH0 - fH is then a sum of exp(-t/tau_S),
    exp(-t/tau_A), exp(-t/tau_R), so daily samples obey the linear recurrence whose characteristic roots
    are r_i = exp(-1 day/tau_i): e1, e2, e3 are their elementary symmetric polynomials.
    """
    ap = sk.adaptation_parameters()
    r = np.exp(-1.0 / np.array([ap["tau_S"].value, ap["tau_A"].value, ap["tau_R"].value]))
    return r.sum(), r[0] * r[1] + r[0] * r[2] + r[1] * r[2], r.prod()


@pytest.mark.parametrize("drug, dose", [("imipramine", DOSE), ("imipramine", 40.0), ("citalopram", 3.0),
                                        ("citalopram", DOSE)])
def test_structure_washout_is_the_drug_free_linear_cascade(drug, dose):
    """Persistence after the last dose follows from the declared time constants, not from the calibration.

    The drugs are cleared within hours (half-lives 1.5-2 h), so from a few days after the last dose the
    state relaxes through the linear cascade S -> A -> fH alone (see _cascade_recurrence). Whatever the
    dose, drug or EC50, the daily fH must satisfy the third-order recurrence built from tau_S, tau_A and
    tau_R. A wrong decay law, a drive that does not switch off, or time constants applied to the wrong
    stage break it. The deviation still present at the end of treatment then decays no faster than the
    slowest time constant (the persistence the papers report).
    """
    e1, e2, e3 = _cascade_recurrence()
    r = sk.simulate_chronic(drug, dose, days=14, washout_days=21, readouts=False)
    d = F0 - r.high_affinity_fraction
    assert d[14] > 0.01
    for k in range(14, 33):   # predicts days 17..35 from the three days before each
        assert e1 * d[k + 2] - e2 * d[k + 1] + e3 * d[k] == pytest.approx(d[k + 3], abs=1e-6 * d[14]), k + 3
    slowest = math.exp(-1.0 / max(sk.adaptation_parameters()[n].value for n in ("tau_S", "tau_A", "tau_R")))
    late = d[25:36] / d[24:35]
    assert np.all(late > slowest) and np.all(np.diff(late) < 0)   # decays ever slower, towards exp(-1/tau_S)


@pytest.mark.parametrize("drug", ["imipramine", "citalopram"])
def test_structure_potency_only_rescales_the_dose_axis(drug):
    """The drive is E = C/(C + EC50) and the PK is linear (C proportional to dose), so a treatment depends
    on dose and EC50 only through dose/EC50: doubling both leaves every readout unchanged. The calibration
    of EC50 therefore fixes only where the (predetermined) dose-response curve sits on the dose axis."""
    ec50 = sk.chronic_scheme(drug).get_parameter("EC50").value
    base = sk.simulate_chronic(drug, 7.0, days=14, washout_days=3, readouts=False)
    scaled = sk.simulate_chronic(drug, 14.0, days=14, washout_days=3, parameters={"EC50": 2 * ec50}, readouts=False)
    assert np.allclose(scaled.high_affinity_fraction, base.high_affinity_fraction, rtol=1e-6, atol=1e-9)
    assert change(base, 14) > 0.05


@pytest.mark.parametrize("drug", ["imipramine", "citalopram"])
def test_structure_low_dose_response_is_proportional_to_dose(drug):
    """Far below the calibration dose every stage is linear (E ~ C/EC50, S << 1, fH linear in A): no
    threshold, so the change doubles with the dose and the shortfall from doubling shrinks in proportion
    to the dose (first-order correction)."""
    c = {d: change(sk.simulate_chronic(drug, d, days=14, readouts=False), 14) for d in (0.01, 0.02, 0.05, 0.1)}
    assert c[0.02] / c[0.01] == pytest.approx(2.0, rel=0.01)
    shortfall_small, shortfall_large = 2.0 - c[0.02] / c[0.01], 2.0 - c[0.1] / c[0.05]
    assert shortfall_small > 0 and shortfall_large / shortfall_small == pytest.approx(5.0, rel=0.1)


def _two_site_half_point(f, rho):
    """IC50 (in units of c K_H) of the two-site displacement f/(1 + x) + (1 - f)/(1 + x/rho) = 1/2:
    the positive root of x^2 + (2f - 1)(rho - 1) x - rho = 0."""
    q = (2 * f - 1) * (rho - 1)
    return 0.5 * (-q + math.sqrt(q * q + 4 * rho))


def test_structure_glycine_ic50_follows_from_fh_and_the_site_constants(imipramine_run):
    """The [3H]5,7-DCKA readout is fixed by fH and K_L/K_H alone (the Cheng-Prusoff factor cancels in folds).

    K_L/K_H is solved here from the published 0.45, 6.2-fold and 1.5-fold (closed-form two-site half point),
    independently of the model's stored ratio; then the glycine IC50 fold of imipramine on every day of
    build-up and washout - conditions no calibration used - follows from the simulated fH.
    """
    from scipy.optimize import brentq

    fold_fh = TARGETS["citalopram_chronic_fold_fall_high_affinity_fraction"]["value"]
    fold_ic50 = TARGETS["citalopram_chronic_fold_fall_glycine_potency_dcka"]["value"]
    rho = brentq(lambda x: _two_site_half_point(F0 / fold_fh, x) / _two_site_half_point(F0, x) - fold_ic50,
                 1.0001, 100.0, xtol=1e-12)
    kh, kl = sk.glycine_site_constants()
    assert kl / kh == pytest.approx(rho, rel=1e-4)
    r = imipramine_run
    predicted = np.array([_two_site_half_point(f, rho) for f in r.high_affinity_fraction]) / _two_site_half_point(F0, rho)
    assert np.allclose(r.glycine_ic50_uM / r.glycine_ic50_uM[0], predicted, rtol=1e-4)
    assert 1.1 < predicted[14] < fold_ic50        # imipramine's 2-fold fall of fH: a smaller rise than citalopram


def test_change_builds_up_over_days(imipramine_run):
    f = imipramine_run.high_affinity_fraction[:15]
    assert np.all(np.diff(f) < -1e-3)                     # falls every day of treatment
    assert 0.3 < change(imipramine_run, 7) / change(imipramine_run, 14) < 0.85   # half-way, not done, at day 7
    ic50 = imipramine_run.glycine_ic50_uM[:15]
    assert np.all(np.diff(ic50) > 0)                       # glycine becomes less potent day by day


def test_change_persists_after_last_dose_then_recovers(imipramine_run):
    r = imipramine_run
    c14 = change(r, 14)
    assert change(r, 17) > 0.8 * c14          # 3 days after the last dose: > 80 % of the effect left
    assert change(r, 21) > 0.4 * c14          # 7 days after: still > 40 %
    assert abs(change(r, 42)) < 0.1 * c14     # 4 weeks after: mostly recovered
    assert np.all(np.diff(r.high_affinity_fraction[16:]) > 0)


@pytest.mark.parametrize("drug", ["imipramine", "citalopram"])
def test_monotone_dose_dependence(drug):
    doses = [0.0, 2.5, 5.0, 10.0, 20.0, 40.0]
    f14 = [sk.simulate_chronic(drug, d, days=14, readouts=False).high_affinity_fraction[14] for d in doses]
    assert np.all(np.diff(f14) < -0.005), f14   # every dose step lowers fH by at least 0.005
    assert f14[0] == pytest.approx(F0)


def test_basal_mk801_binding_falls_and_glutamate_reduces_the_deficit(citalopram_run):
    r = citalopram_run
    assert r.mk801_basal_relative[0] == pytest.approx(1.0)
    assert r.mk801_basal_relative[14] < 0.95
    assert r.mk801_basal_relative[1] > 0.99
    f14 = r.high_affinity_fraction[14]
    with_glu = sk.mk801_basal_binding(f14, glutamate_uM=10.0) / sk.mk801_basal_binding(F0, glutamate_uM=10.0)
    assert 1 - with_glu < 0.75 * (1 - r.mk801_basal_relative[14])


def test_glycine_ic50_equals_simulated_dcka_displacement_assay():
    from models import nmda_ligands as nl

    kh, kl = sk.glycine_site_constants()
    L, kd = nl.DCKA.value("L_assay"), nl.DCKA.value("Kd")
    gly_nM = np.concatenate([[0.0], np.geomspace(30.0, 3e3, 80)])
    for f in (0.45, 0.2, 0.0726):
        curve = ba.competition(gly_nM, ligand_nM=L, receptor_nM=1e-3, kd_nM=kd, kon=0.01, f_high=f,
                               ki_high_nM=1000 * kh, ki_low_nM=1000 * kl, depletion=False)
        assert ba.curve_ic50(gly_nM, curve.specific) / 1000 == pytest.approx(sk.glycine_ic50_uM(f), rel=2e-3)


# --------------------------------------------------------------------------- ms-to-days: QSS vs full stiff
def test_quasi_steady_state_agrees_with_full_stiff_scheme():
    full = sk.simulate_chronic("imipramine", DOSE, days=14, washout_days=7, qss=False, method="rodas",
                               readouts=False)
    red = sk.simulate_chronic("imipramine", DOSE, days=14, washout_days=7, qss=True, readouts=False)
    assert np.max(np.abs(full.high_affinity_fraction - red.high_affinity_fraction)) < 1e-4
    s_full = sk.chronic_scheme("imipramine", qss=False)
    rates = [s_full.get_parameter("kon_gly").value * s_full.parameter_factors()["kon_gly"],
             1.0 / s_full.get_parameter("tau_S").value]
    assert rates[0] / rates[1] > 1e6   # the full scheme spans > 6 decades of time scales


def test_quasi_steady_state_check_fails_when_glycine_binding_is_slow():
    slow = {"kon_gly": 1e-7}   # glycine binding on a time scale of days: QSS no longer applies
    full = sk.simulate_chronic("imipramine", DOSE, days=14, qss=False, method="rodas", parameters=slow,
                               readouts=False)
    red = sk.simulate_chronic("imipramine", DOSE, days=14, qss=True, readouts=False)
    assert np.max(np.abs(full.high_affinity_fraction - red.high_affinity_fraction)) > 0.05


def test_imipramine_half_life_choice_is_absorbed_by_calibration():
    base = sk.simulate_chronic("imipramine", DOSE, days=14, washout_days=7, readouts=False)
    for t_half in (1.0, 4.0):
        p = {"ke": math.log(2) / t_half}
        ec50 = sk.calibrate_ec50("imipramine", sk.IMIPRAMINE_FH_FOLD, parameters=p)
        r = sk.simulate_chronic("imipramine", DOSE, days=14, washout_days=7, parameters={**p, "EC50": ec50},
                                readouts=False)
        assert np.max(np.abs(r.high_affinity_fraction - base.high_affinity_fraction)) < 0.01


def test_stored_potencies_are_the_calibrated_ones():
    for drug, fold in (("citalopram", sk.CITALOPRAM_FH_FOLD), ("imipramine", sk.IMIPRAMINE_FH_FOLD)):
        stored = sk.chronic_scheme(drug).get_parameter("EC50").value
        assert sk.calibrate_ec50(drug, fold) == pytest.approx(stored, rel=1e-4)


# --------------------------------------------------------------------------- pharmacokinetics
def test_single_dose_equals_bateman_function():
    t = np.linspace(0.0, 12.0, 49)
    for drug in ("imipramine", "citalopram"):
        r = pk.simulate_pk(drug, pk.single_dose(drug, 10.0), t_end_h=12.0, t_eval_h=t, rtol=1e-10, atol=1e-13)
        assert np.allclose(r["C"], pk.bateman(t, drug, 10.0), rtol=1e-7, atol=1e-12)


def test_daily_dosing_is_superposition_of_single_doses():
    t = np.linspace(0.0, 24.0 * 16, 385)
    r = pk.simulate_pk("citalopram", pk.daily_dosing("citalopram", 10.0, 14), t_end_h=t[-1], t_eval_h=t,
                       rtol=1e-10, atol=1e-13)
    expected = sum(np.where(t >= 24.0 * k, pk.bateman(np.clip(t - 24.0 * k, 0, None), "citalopram", 10.0), 0.0)
                   for k in range(14))
    assert np.allclose(r["C"], expected, rtol=1e-6, atol=1e-10)
    assert r["C"][-1] < 1e-6 * r["C"].max()   # washout: the drug is gone 2 days after the last dose


def test_pk_parameters_sources():
    assert pk.CITALOPRAM.half_life_h == pytest.approx(1.5)
    cl = pk.CITALOPRAM.ke.value * pk.CITALOPRAM.vd.value   # L/h/kg
    assert cl * 1000 / 60 == pytest.approx(87.0)           # mL/min/kg, male mouse
    assert pk.IMIPRAMINE.vd.value == 19.9
    assert pk.IMIPRAMINE.ke.note.startswith(pk.UNSOURCED) and pk.IMIPRAMINE.ka.note.startswith(pk.UNSOURCED)
    assert pk.dose_amount("imipramine", 28.041) == pytest.approx(100.0)


def test_ecs_schedule_and_drug_errors():
    p = pk.ecs_schedule(3, time_unit="day")
    assert list(p.components[0].times) == [0.0, 1.0, 2.0]
    assert pk.time_factor("h") == 24.0 and pk.time_factor("min") == 1440.0
    with pytest.raises(ArgumentError, match="unknown drug `fluoxetin`"):
        pk.get_drug("fluoxetin")
    with pytest.raises(ArgumentError, match="dose must be finite and >= 0"):
        pk.daily_dosing("citalopram", -1.0, 3)
    with pytest.raises(ArgumentError, match="must be a time unit"):
        pk.time_factor("mM")


# --------------------------------------------------------------------------- API errors and parameters
def test_simulate_chronic_errors():
    with pytest.raises(ArgumentError, match="unknown treatment `imipramin`; did you mean `imipramine`"):
        sk.simulate_chronic("imipramin", 10.0, 14)
    with pytest.raises(ArgumentError, match="`dose_mg_per_kg` is required"):
        sk.simulate_chronic("citalopram", None, 14)
    with pytest.raises(ArgumentError, match="`washout_days` must be >= 0"):
        sk.simulate_chronic("citalopram", 10.0, 14, -2)
    with pytest.raises(ArgumentError, match="nothing to simulate"):
        sk.simulate_chronic("citalopram", 10.0, 0, 0)
    with pytest.raises(KineticsError, match="unknown parameter `tau_x`"):
        sk.simulate_chronic("citalopram", 10.0, 3, parameters={"tau_x": 1.0})


def test_every_parameter_has_source_or_explained_choice():
    for treatment in sk.TREATMENTS:
        for p in sk.chronic_scheme(treatment, qss=False).parameters:
            assert p.reference or len(p.note) > 30, p.name
    unsourced = set(sk.unsourced_parameters())
    assert {"k_act", "tau_S", "tau_A", "tau_R", "gly", "EC50[imipramine]"} <= unsourced
    assert not {"K_H", "K_L", "fH0", "kon_gly"} & unsourced


# --------------------------------------------------------------------------- CLI
def _parser():
    from models.cli.chronic import add_subcommands

    ap = argparse.ArgumentParser(prog="nmdakin")
    add_subcommands(ap.add_subparsers(dest="command", required=True))
    return ap


def test_cli_chronic_writes_daily_json_and_png(tmp_path, capsys):
    out, png = tmp_path / "chronic.json", tmp_path / "chronic.png"
    args = _parser().parse_args(["chronic", "--drug", "imipramine", "--dose", "15", "--days", "14",
                                 "--washout", "7", "--json", str(out), "--plot", str(png)])
    assert args.func(args) == 0
    data = json.loads(out.read_text())
    assert data["days"] == list(range(22))
    assert len(data["high_affinity_fraction"]) == len(data["glycine_ic50_uM"]) == 22
    direct = sk.simulate_chronic("imipramine", 15.0, 14, 7)
    assert np.allclose(data["high_affinity_fraction"], direct.high_affinity_fraction, rtol=1e-12)
    assert data["high_affinity_fraction"][0] == pytest.approx(0.45)
    assert data["glycine_ic50_uM"][14] > data["glycine_ic50_uM"][0]
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "wrote" in capsys.readouterr().out


def test_cli_chronic_errors(tmp_path):
    out = tmp_path / "c.json"
    args = _parser().parse_args(["chronic", "--drug", "citalopram", "--days", "14", "--json", str(out)])
    with pytest.raises(ArgumentError, match="--dose"):
        args.func(args)
    assert not out.exists()
    with pytest.raises(SystemExit):
        _parser().parse_args(["chronic", "--drug", "prozac", "--days", "14", "--json", str(out)])
    with pytest.raises(SystemExit):
        _parser().parse_args(["chronic", "--drug", "ecs", "--days", "-3", "--json", str(out)])
    args = _parser().parse_args(["chronic", "--drug", "ecs", "--days", "2", "--json", str(out)])
    assert args.func(args) == 0 and json.loads(out.read_text())["days"] == [0, 1, 2]
