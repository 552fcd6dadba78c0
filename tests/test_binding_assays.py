"""Radioligand binding assays (models/binding_assays.py) and NMDA ligand constants (models/nmda_ligands.py).

Oracles: the textbook relations where they hold (no depletion, equilibrium), the exact
quadratic equilibrium with depletion, an independent closed-form IC50 with depletion, and
published constants in tests/data/nmda_ligand_constants.json.
"""
import argparse
import json
from pathlib import Path

import math

import numpy as np
import pytest
from scipy.optimize import curve_fit

from kinetics.errors import ArgumentError, KineticsError
from models import binding_assays as ba
from models import nmda_ligands as nl

DATA = json.loads((Path(__file__).parent / "data" / "nmda_ligand_constants.json").read_text())
KD, KON = 2.0, 0.05            # nM, 1/(nM*min): generic test radioligand
KOFF = KD * KON


# --------------------------------------------------------------------------- simulations vs analytic formulas
def test_association_equals_pseudo_first_order_solution():
    t = np.linspace(0.0, 60.0, 31)
    for L in (0.5, 2.0, 8.0):
        c = ba.association(t, ligand_nM=L, receptor_nM=0.3, kd_nM=KD, kon=KON, depletion=False)
        exact = ba.association_curve(t, L, 0.3, KON, KOFF)
        assert np.allclose(c.specific, exact, rtol=1e-7, atol=1e-12)


def test_observed_rate_is_kon_L_plus_koff():
    t = np.linspace(0.0, 120.0, 61)
    for L in (1.0, 4.0, 16.0):
        c = ba.association(t, ligand_nM=L, receptor_nM=0.01, kd_nM=KD, kon=KON, depletion=False)
        kobs = ba.fit_association(t, c.specific)["kobs"]
        assert kobs == pytest.approx(ba.observed_rate(L, KON, KOFF), rel=1e-6)


def test_dissociation_is_single_exponential_from_equilibrium():
    t = np.linspace(0.0, 50.0, 26)
    c = ba.dissociation(t, ligand_nM=KD, receptor_nM=0.2, kd_nM=KD, kon=KON)
    b0 = float(ba.depleted_specific_binding(KD, 0.2, KD))
    assert c.conditions["B0"] == pytest.approx(b0, rel=1e-9)
    assert np.allclose(c.specific, ba.dissociation_curve(t, b0, KOFF), rtol=1e-7)


def test_saturation_total_nonspecific_specific_without_depletion():
    L = np.geomspace(0.1, 40.0, 12)
    ns = 0.03
    sat = ba.saturation(L, receptor_nM=0.5, kd_nM=KD, kon=KON, ns=ns, depletion=False)
    assert np.allclose(sat.specific, ba.specific_binding(L, 0.5, KD), rtol=1e-8)
    assert np.allclose(sat.nonspecific, ns * L, rtol=1e-8)
    assert np.allclose(sat.total, sat.specific + sat.nonspecific, rtol=1e-12)


def test_saturation_with_depletion_equals_quadratic_and_hyperbola_on_free_axis():
    L = np.geomspace(0.1, 40.0, 12)
    sat = ba.saturation(L, receptor_nM=KD, kd_nM=KD, kon=KON)
    assert np.allclose(sat.specific, ba.depleted_specific_binding(L, KD, KD), rtol=1e-8)
    assert np.allclose(sat.free_ligand, L - sat.specific, rtol=1e-10)
    assert np.allclose(sat.specific, ba.specific_binding(sat.free_ligand, KD, KD), rtol=1e-8)


def test_finite_incubation_by_sweep_converges_to_equilibrium():
    L = np.geomspace(0.2, 20.0, 6)
    eq = ba.saturation(L, receptor_nM=0.1, kd_nM=KD, kon=KON)
    long = ba.saturation(L, receptor_nM=0.1, kd_nM=KD, kon=KON, incubation_min=40.0 / KOFF)
    assert np.allclose(long.specific, eq.specific, rtol=1e-6)
    # a short incubation: every point is the pseudo-first-order solution at 5 min (no depletion)
    short = ba.saturation(L, receptor_nM=0.1, kd_nM=KD, kon=KON, incubation_min=5.0, depletion=False)
    assert np.allclose(short.specific, ba.association_curve(5.0, L, 0.1, KON, KOFF), rtol=1e-7)
    lag = short.specific / ba.specific_binding(L, 0.1, KD)
    assert lag[0] < 0.5 and np.all(np.diff(lag) > 0)  # low concentrations are furthest from equilibrium


def test_one_site_competition_equals_cheng_prusoff_curve():
    I = np.concatenate([[0.0], np.geomspace(0.01, 1e4, 25)])
    L, ki = 3.0, 5.0
    c = ba.competition(I, ligand_nM=L, receptor_nM=1e-4, kd_nM=KD, kon=KON, ki_nM=ki, depletion=False)
    ic50 = ki * (1 + L / KD)
    assert np.allclose(c.specific, ba.one_site_competition(I, c.specific[0], ic50), rtol=1e-7)
    assert ba.cheng_prusoff(ba.curve_ic50(I, c.specific), L, KD) == pytest.approx(ki, rel=0.02)


def test_two_site_competition_equals_displacement_equation():
    I = np.concatenate([[0.0], np.geomspace(0.1, 1e6, 30)])
    L, f = KD, 0.45
    c = ba.competition(I, ligand_nM=L, receptor_nM=1e-4, kd_nM=KD, kon=KON, f_high=f, ki_high_nM=10.0,
                       ki_low_nM=3000.0, depletion=False)
    exact = ba.two_site_competition(I, c.specific[0], f, 10.0 * (1 + L / KD), 3000.0 * (1 + L / KD))
    assert np.allclose(c.specific, exact, rtol=1e-7)


def test_homologous_ic50_is_kd_plus_L():
    I = np.concatenate([[0.0], np.geomspace(0.01, 1e3, 40)])
    for L in (0.5, 4.0):
        c = ba.homologous_competition(I, ligand_nM=L, receptor_nM=1e-4, kd_nM=KD, kon=KON, depletion=False)
        assert np.allclose(c.specific, ba.one_site_competition(I, c.specific[0], ba.homologous_ic50(KD, L)),
                           rtol=1e-7)


def _exact_ic50_with_depletion(LT, RT, kd, ki):
    """Independent closed form: state at 50 % inhibition, then the competitor total that produces it."""
    rl = 0.5 * float(ba.depleted_specific_binding(LT, RT, kd))
    L = LT - rl
    R = rl * kd / L
    RI = RT - rl - R
    return RI * ki / R + RI


@pytest.mark.parametrize("rt", [0.1, 1.0, 5.0])
def test_depleted_competition_ic50_matches_closed_form(rt):
    kd = ki = 1.0
    I = np.concatenate([[0.0], np.geomspace(1e-2, 1e3, 200)])
    c = ba.competition(I, ligand_nM=kd, receptor_nM=rt, kd_nM=kd, kon=0.1, ki_nM=ki)
    assert ba.curve_ic50(I, c.specific) == pytest.approx(_exact_ic50_with_depletion(kd, rt, kd, ki), rel=2e-3)


# --------------------------------------------------------------------------- biases of the textbook formulas
def _quadratic_bound(LT, RT, kd):
    """Independent oracle: exact equilibrium complex with depletion, the root of B^2 - (LT+RT+Kd) B + LT RT."""
    s = LT + RT + kd
    return 0.5 * (s - np.sqrt(s * s - 4.0 * LT * RT))


def _curve_fit_hyperbola(L, B, bmax0, kd0):
    """Independent textbook fit: unweighted least squares of Bmax L/(Kd + L) with scipy.optimize.curve_fit."""
    (bmax, kd), _ = curve_fit(lambda x, bm, k: bm * x / (k + x), L, B, p0=[bmax0, kd0], xtol=1e-15, ftol=1e-15,
                              gtol=1e-15, maxfev=100000)
    return bmax, kd


BIAS_GRID = np.geomspace(0.05, 40.0, 25)   # added ligand / Kd of the simulated saturation series


@pytest.mark.parametrize("kd, rt", [(1.0, 0.01), (1.0, 1.0), (1.0, 5.0), (3.0, 1.5)])
def test_depletion_bias_equals_curve_fit_to_the_exact_quadratic(kd, rt):
    """The textbook Kd bias is what curve_fit of the hyperbola to the exact depleted binding gives."""
    b = ba.depletion_bias(kd, rt, ligand_over_kd=BIAS_GRID)
    LT = kd * BIAS_GRID
    bmax, kd_fit = _curve_fit_hyperbola(LT, _quadratic_bound(LT, rt, kd), rt, kd)
    assert b.kd_apparent == pytest.approx(kd_fit, rel=1e-6)
    assert b.bmax_apparent == pytest.approx(bmax, rel=1e-6)
    assert b.kd_relative_error == pytest.approx(kd_fit / kd - 1.0, rel=1e-6, abs=1e-9)
    assert b.bound_fraction_at_kd == pytest.approx(_quadratic_bound(kd, rt, kd) / kd, rel=1e-9)
    # the simulated competition IC50 equals the closed form at LT = Kd, competitor Ki = Kd
    assert b.ic50_simulated == pytest.approx(_exact_ic50_with_depletion(kd, rt, kd, kd), rel=2e-3)


def test_depletion_bias_quantified():
    small = ba.depletion_bias(1.0, 0.01)
    equal = ba.depletion_bias(1.0, 1.0)
    large = ba.depletion_bias(1.0, 5.0)
    for b in (small, equal, large):  # exact half saturation Kd + RT/2
        assert b.half_saturation_added == pytest.approx(b.kd_true + b.receptor_nM / 2, rel=1e-9)
        assert b.kd_free_axis == pytest.approx(b.kd_true, rel=1e-6)  # the free-ligand axis is unbiased
    assert abs(small.kd_relative_error) < 0.02 and abs(small.ki_relative_error) < 0.02
    # receptor = Kd = ligand: B^2 - 3B + 1 = 0, so (3 - sqrt 5)/2 = 0.382 of the ligand is bound
    assert equal.bound_fraction_at_kd == pytest.approx((3.0 - math.sqrt(5.0)) / 2.0, rel=1e-9)
    # the default grid is BIAS_GRID: the bias is the curve_fit of the hyperbola to the exact quadratic
    _, kd_fit = _curve_fit_hyperbola(BIAS_GRID, _quadratic_bound(BIAS_GRID, 1.0, 1.0), 1.0, 1.0)
    assert equal.kd_apparent == pytest.approx(kd_fit, rel=1e-6)
    assert equal.ki_cheng_prusoff == pytest.approx(1.5, rel=5e-3)   # IC50 = 3 exactly: Ki 1.5 instead of 1
    assert large.kd_relative_error > 2 * equal.kd_relative_error
    assert "Cheng-Prusoff" in equal.report()


@pytest.mark.parametrize("kd, kon, t_inc", [(1.0, 0.01, 30.0), (1.0, 0.01, 3000.0), (2.0, 0.05, 10.0)])
def test_incubation_bias_equals_curve_fit_to_the_association_solution(kd, kon, t_inc):
    """Finite incubation, no depletion: every point is Beq (1 - exp(-(kon L + koff) t)), written out here."""
    b = ba.incubation_bias(kd, kon, t_inc)
    rt = 1e-3                                   # incubation_bias default receptor (nM)
    LT = kd * np.geomspace(0.1, 10.0, 15)       # incubation_bias default grid
    kobs = kon * LT + kon * kd
    B = rt * LT / (LT + kd) * (1.0 - np.exp(-kobs * t_inc))
    bmax, kd_fit = _curve_fit_hyperbola(LT, B, rt, kd)
    assert b.kd_apparent == pytest.approx(kd_fit, rel=1e-6)
    assert b.bmax_apparent == pytest.approx(bmax, rel=1e-6)
    assert b.fraction_of_equilibrium_at_lowest == pytest.approx(1.0 - math.exp(-kobs[0] * t_inc), rel=1e-6)


def test_incubation_bias_shrinks_with_time():
    short = ba.incubation_bias(1.0, 0.01, 30.0)
    long = ba.incubation_bias(1.0, 0.01, 3000.0)
    assert short.kd_relative_error > 0.5
    assert abs(long.kd_relative_error) < 0.01
    assert short.fraction_of_equilibrium_at_lowest < 0.5 < long.fraction_of_equilibrium_at_lowest


# --------------------------------------------------------------------------- fits recover synthetic truth
def _noisy(y, rng, cv=0.02):
    return y * (1 + cv * rng.standard_normal(np.shape(y)))


def test_fit_saturation_recovers_kd_bmax():
    rng = np.random.default_rng(1)
    L = np.geomspace(0.2, 40.0, 14)
    sat = ba.saturation(L, receptor_nM=0.05, kd_nM=6.0, kon=0.01, depletion=False)
    f = ba.fit_saturation(L, _noisy(sat.specific, rng))
    assert f.success
    assert f["Kd"] == pytest.approx(6.0, rel=0.05)
    assert f["Bmax"] == pytest.approx(0.05, rel=0.05)
    assert f.stderr["Kd"] < 0.05 * 6.0


def test_fit_competition_recovers_ic50_and_ki():
    rng = np.random.default_rng(2)
    I = np.geomspace(0.1, 1e5, 22)
    L, ki = 5.0, 40.0
    c = ba.competition(I, ligand_nM=L, receptor_nM=1e-3, kd_nM=KD, kon=KON, ki_nM=ki, depletion=False)
    f = ba.fit_competition(I, _noisy(c.specific, rng), model="one_site", ligand_nM=L, kd_nM=KD)
    assert f["IC50"] == pytest.approx(ki * (1 + L / KD), rel=0.05)
    assert f["Ki"] == pytest.approx(ki, rel=0.05)


def test_fit_two_site_recovers_fraction_and_hill_is_shallow():
    I = np.geomspace(0.01, 1e6, 40)
    L = KD
    c = ba.competition(I, ligand_nM=L, receptor_nM=1e-3, kd_nM=KD, kon=KON, f_high=0.45, ki_high_nM=5.0,
                       ki_low_nM=2000.0, depletion=False)
    exact = ba.fit_competition(I, c.specific, model="two_site", ligand_nM=L, kd_nM=KD)
    assert exact["f_high"] == pytest.approx(0.45, rel=1e-6) and exact["Ki_high"] == pytest.approx(5.0, rel=1e-6)
    y = _noisy(c.specific, np.random.default_rng(4), cv=0.005)
    f = ba.fit_competition(I, y, model="two_site", ligand_nM=L, kd_nM=KD)
    for name, truth in (("f_high", 0.45), ("Ki_high", 5.0), ("Ki_low", 2000.0)):
        assert f[name] == pytest.approx(truth, rel=0.05)
    for name, truth in (("f_high", 0.45), ("IC50_high", 10.0), ("IC50_low", 4000.0)):
        assert abs(f[name] - truth) < 4 * f.stderr[name]  # standard errors are consistent with the scatter
    h = ba.fit_competition(I, y, model="hill")
    assert h["nH"] < 0.6  # heterogeneous sites: a shallow curve


def test_two_site_fit_standard_errors_match_the_monte_carlo_scatter():
    """Reported standard errors = the spread of the fitted values over repeated noisy experiments.

    200 synthetic curves with additive Gaussian noise (sigma = 0.5 % of B0) around the exact
    displacement equation, fitted one by one: the RMS of the reported standard errors must be
    within 20 % of the standard deviation of the fitted values (the sampling error of a standard
    deviation from 200 draws is 5 %). Fits whose errors were 2x too small or large fail.
    """
    I = np.geomspace(0.01, 1e6, 40)
    truth = {"B0": 1.0, "f_high": 0.45, "IC50_high": 10.0, "IC50_low": 4000.0}
    exact = truth["B0"] * (truth["f_high"] / (1 + I / truth["IC50_high"])
                           + (1 - truth["f_high"]) / (1 + I / truth["IC50_low"]))
    values = {k: [] for k in truth}
    errors = {k: [] for k in truth}
    for seed in range(200):
        y = exact + 0.005 * np.random.default_rng(1000 + seed).standard_normal(I.size)
        f = ba.fit_competition(I, y, model="two_site")
        for k in truth:
            values[k].append(f[k])
            errors[k].append(f.stderr[k])
    for k, t in truth.items():
        v, se = np.array(values[k]), np.array(errors[k])
        assert np.mean(v) == pytest.approx(t, rel=0.01), k                # unbiased at this noise level
        assert np.sqrt(np.mean(se ** 2)) / np.std(v, ddof=1) == pytest.approx(1.0, abs=0.2), k


def test_fit_kinetics_recovers_kon_koff_through_kinetics_fit():
    rng = np.random.default_rng(4)

    def additive(y):  # constant noise per curve: the noise model kinetics.fitting estimates
        return y + 0.02 * y.max() * rng.standard_normal(y.shape)

    t = np.linspace(0.0, 200.0, 41)
    curves = []
    for L in (1.0, 3.0, 9.0):
        c = ba.association(t, ligand_nM=L, receptor_nM=0.02, kd_nM=3.0, kon=0.01, depletion=False)
        curves.append((L, t, additive(c.specific)))
    td = np.linspace(0.0, 300.0, 31)
    d = ba.dissociation(td, ligand_nM=9.0, receptor_nM=0.02, kd_nM=3.0, kon=0.01, depletion=False)
    f = ba.fit_kinetics(curves, (td, additive(d.specific)))
    assert f.success
    assert f.values["kon"] == pytest.approx(0.01, rel=0.05)
    assert f.values["koff"] == pytest.approx(0.03, rel=0.05)
    assert f.values["RT"] == pytest.approx(0.02, rel=0.05)
    assert f.values["koff"] / f.values["kon"] == pytest.approx(3.0, rel=0.05)
    for k, truth in (("kon", 0.01), ("koff", 0.03), ("RT", 0.02), ("RL(0)[dissociation]", d.specific[0])):
        assert abs(f.values[k] - truth) < 4 * f.stderr[k]


def test_fit_kinetics_standard_errors_equal_the_linearised_covariance():
    """With known noise sigma, the standard errors are sqrt(diag((J^T J)^-1)), J = d(model/sigma)/d(values).

    J is built here from the closed-form pseudo-first-order solutions (association from a fitted
    starting complex b0: B = Beq + (b0 - Beq) exp(-kobs t), Beq = RT kon L/kobs, kobs = kon L + koff;
    dissociation B = B0 exp(-koff t)) by central differences at the fitted values.
    """
    sigma = 3e-4
    rng = np.random.default_rng(7)
    t, td, Ls = np.linspace(0.0, 200.0, 41), np.linspace(0.0, 300.0, 31), (1.0, 3.0, 9.0)

    def assoc(t, L, kon, koff, rt, b0):
        kobs = kon * L + koff
        beq = rt * kon * L / kobs
        return beq + (b0 - beq) * np.exp(-kobs * t)

    curves = [(L, t, assoc(t, L, 0.01, 0.03, 0.02, 0.0) + sigma * rng.standard_normal(t.size)) for L in Ls]
    yd = 0.02 * 9.0 / 12.0 * np.exp(-0.03 * td) + sigma * rng.standard_normal(td.size)
    f = ba.fit_kinetics(curves, (td, yd), sigma=sigma)
    assert f.success
    names = ["kon", "koff", "RT"] + [f"RL(0)[association_{i}]" for i in range(3)] + ["RL(0)[dissociation]"]
    assert set(names) == set(f.values)

    def scaled_model(p):
        out = [assoc(t, L, p["kon"], p["koff"], p["RT"], p[f"RL(0)[association_{i}]"]) for i, L in enumerate(Ls)]
        return np.concatenate(out + [p["RL(0)[dissociation]"] * np.exp(-p["koff"] * td)]) / sigma

    p0 = dict(f.values)
    cols = []
    for k in names:
        h = 1e-6 * max(abs(p0[k]), 1e-6)
        up, dn = dict(p0), dict(p0)
        up[k] += h
        dn[k] -= h
        cols.append((scaled_model(up) - scaled_model(dn)) / (2 * h))
    J = np.array(cols).T
    se = np.sqrt(np.diag(np.linalg.inv(J.T @ J)))
    for k, s in zip(names, se):
        assert f.stderr[k] == pytest.approx(s, rel=1e-4), k
    # and the fit itself sits on the closed form: residuals are the noise (chi2/dof ~ 1)
    r = scaled_model(p0) - np.concatenate([c[2] for c in curves] + [yd]) / sigma
    assert 0.7 < np.mean(r ** 2) * r.size / (r.size - len(names)) < 1.3


def test_depletion_aware_fits_recover_truth_where_textbook_fits_fail():
    rng = np.random.default_rng(5)
    L = np.geomspace(0.05, 40.0, 14)                    # receptor = Kd: strong depletion
    sat = ba.saturation(L, receptor_nM=1.0, kd_nM=1.0, kon=0.1)
    y = _noisy(sat.specific, rng)
    textbook = ba.fit_saturation(L, y)                  # hyperbola against added ligand
    exact = ba.fit_saturation_with_depletion(L, y)      # kinetic scheme through kinetics.fitting
    assert textbook["Kd"] > 1.4                         # biased by > 40 %
    assert exact.values["Kd"] == pytest.approx(1.0, rel=0.05)
    assert exact.values["RT"] == pytest.approx(1.0, rel=0.05)

    I = np.concatenate([[0.0], np.geomspace(0.01, 1e4, 24)])
    c = ba.competition(I, ligand_nM=1.0, receptor_nM=1.0, kd_nM=1.0, ki_nM=2.0)
    y = _noisy(c.specific, rng, cv=0.01)
    cp = ba.fit_competition(I, y, ligand_nM=1.0, kd_nM=1.0)["Ki"]   # Cheng-Prusoff, biased
    fit1 = ba.fit_competition_with_depletion(I, y, ligand_nM=1.0, kd_nM=1.0, receptor_nM=1.0)
    assert cp > 1.2 * 2.0
    assert fit1.values["Ki"] == pytest.approx(2.0, rel=0.05)


def test_depletion_aware_two_site_fit_recovers_fraction():
    rng = np.random.default_rng(6)
    I = np.concatenate([[0.0], np.geomspace(0.01, 1e4, 24)])
    c = ba.competition(I, ligand_nM=1.0, receptor_nM=0.5, kd_nM=1.0, f_high=0.45, ki_high_nM=0.5, ki_low_nM=200.0)
    y = _noisy(c.specific, rng, cv=0.005)
    f = ba.fit_competition_with_depletion(I, y, ligand_nM=1.0, kd_nM=1.0, receptor_nM=0.5, two_site=True)
    for k, truth in (("f_H", 0.45), ("Ki_H", 0.5), ("Ki_L", 200.0)):
        assert f.values[k] == pytest.approx(truth, rel=0.05)


# --------------------------------------------------------------------------- scheme structure and errors
def test_scheme_structure_and_conservation():
    s = ba.binding_scheme(sites=2, competitor=True)
    assert s.species_names == ("RL_H", "RL_L", "RI_H", "RI_L", "LN")
    assert {"L", "I", "R_H", "R_L", "B_specific", "B_total"} <= set(s.observable_names)
    c = ba.competition([0.0, 10.0], ligand_nM=5.0, receptor_nM=2.0, kd_nM=KD, f_high=0.3, ki_high_nM=1.0,
                       ki_low_nM=100.0, ns=0.1)
    assert np.allclose(c.free_ligand + c.total, 5.0, rtol=1e-10)


def test_bad_input_errors():
    with pytest.raises(ArgumentError, match="`sites` must be 1 or 2"):
        ba.binding_scheme(sites=3)
    with pytest.raises(ArgumentError, match="give `ki_nM`"):
        ba.competition([1.0], ligand_nM=1.0, receptor_nM=1.0, kd_nM=1.0)
    with pytest.raises(ArgumentError, match="`ligand_nM` must be > 0"):
        ba.saturation([0.0, 1.0], receptor_nM=1.0, kd_nM=1.0)
    with pytest.raises(ArgumentError, match="finite and >= 0"):
        ba.competition([-1.0], ligand_nM=1.0, receptor_nM=1.0, kd_nM=1.0, ki_nM=1.0)
    with pytest.raises(ArgumentError, match="inconsistent"):
        ba.association([0, 1], ligand_nM=1.0, receptor_nM=1.0, kd_nM=1.0, kon=1.0, koff=5.0)
    with pytest.raises(ArgumentError, match="unknown competition model `three_site`"):
        ba.fit_competition([1, 2, 3], [3, 2, 1], model="three_site")


# --------------------------------------------------------------------------- NMDA ligands
def test_ligand_constants_match_published_values():
    mk = DATA["mk801_kd_nM"]
    assert nl.MK801.value("Kd_basal") == mk["basal"] and nl.MK801.value("Kd_glu_gly") == mk["glutamate_glycine"]
    assert nl.MK801.value("Bmax") == DATA["mk801_bmax_pmol_per_mg"]["value"]
    assert 1.0 / nl.MK801.value("koff") == pytest.approx(DATA["mk801_unblock_tau_min"]["value"])
    assert nl.CGP39653.value("Kd") == DATA["cgp39653_kd_nM"]["value"]
    assert nl.DCKA.value("Kd") == DATA["dcka_kd_nM"]["value"]
    assert nl.GLYCINE.value("Kd", "nM") == pytest.approx(1000 * DATA["glycine_kd_uM"]["value"])
    r = DATA["glutamate_destexhe_rates"]
    assert nl.GLUTAMATE.value("K") == pytest.approx(r["Ru_per_s"] / r["Rb_per_uM_s"])
    for lig in nl.LIGANDS.values():
        for p in lig.constants:
            assert p.reference or p.note, f"{lig.name}.{p.name} has neither source nor note"
    assert set(nl.unsourced()) == {("[3H]CGP-39653", "kon"), ("[3H]5,7-DCKA", "kon")}


# Independent oracle for [3H]MK-801 under partial activation, from tests/data only. The documented law
# (models/nmda_ligands.py): the activation g = Kd(glu+gly)/Kd_apparent is bilinear in the glutamate-site
# occupancy u = glu/(glu + K_glu) (K_glu = Ru/Rb of the Destexhe rates) and the glycine-site occupancy
# y = gly/(gly + Kd_gly) ([3H]glycine Kd), exact at the four measured corners; equivalently 1/Kd_apparent
# is the bilinear interpolation of the four measured 1/Kd. Association is gated (kon = g kon_open,
# kon_open = koff/Kd(glu+gly)) and koff = 1/tau_unblock is fixed, so kon = koff/Kd_apparent.
_MK = DATA["mk801_kd_nM"]
_K_GLU_UM = DATA["glutamate_destexhe_rates"]["Ru_per_s"] / DATA["glutamate_destexhe_rates"]["Rb_per_uM_s"]
_K_GLY_UM = DATA["glycine_kd_uM"]["value"]
_MK_KOFF = 1.0 / DATA["mk801_unblock_tau_min"]["value"]
_MK_BMAX = DATA["mk801_bmax_pmol_per_mg"]["value"]


def _mk801_kd_oracle(glu_uM, gly_uM):
    u = glu_uM / (glu_uM + _K_GLU_UM)
    y = gly_uM / (gly_uM + _K_GLY_UM)
    inv = ((1 - u) * (1 - y) / _MK["basal"] + u * (1 - y) / _MK["glutamate"] + (1 - u) * y / _MK["glycine"]
           + u * y / _MK["glutamate_glycine"])
    return 1.0 / inv


def _second_order_association(t, L, RT, kd, koff):
    """Exact bound complex of R + L <-> RL from RL(0) = 0 with depletion (closed form of the Riccati ODE)."""
    kon = koff / kd
    s = L + RT + kd
    disc = math.sqrt(s * s - 4.0 * L * RT)
    b1, b2 = 0.5 * (s - disc), 0.5 * (s + disc)
    e = np.exp(-kon * (b2 - b1) * np.asarray(t, dtype=float))
    return b1 * b2 * (1.0 - e) / (b2 - b1 * e)


def test_mk801_activation_reproduces_the_four_measured_kd():
    mk = DATA["mk801_kd_nM"]
    sat = 1e7  # uM: saturating agonist
    cases = {(0, 0): mk["basal"], (sat, 0): mk["glutamate"], (0, sat): mk["glycine"], (sat, sat): mk["glutamate_glycine"]}
    for (glu, gly), kd in cases.items():
        assert nl.mk801_apparent_kd(glu, gly) == pytest.approx(kd, rel=1e-5)
    # the corners pass by construction; in between the occupancies decide. At glu = K_glu (2.58 uM) and
    # gly = Kd_gly (0.13 uM) both sites are half occupied: g is the mean of the four corner activations
    assert _K_GLU_UM == pytest.approx(2.58) and _K_GLY_UM == pytest.approx(0.13)
    mid = 6.2 / np.mean([6.2 / 45.0, 6.2 / 11.0, 6.2 / 18.0, 1.0])
    assert mid == pytest.approx(12.122, abs=1e-3)
    assert nl.mk801_apparent_kd(_K_GLU_UM, _K_GLY_UM) == pytest.approx(mid, rel=1e-9)
    # asymmetric conditions (a wrong glutamate or glycine affinity, or swapped sites, moves these)
    for glu, gly in [(0.5, 0.02), (1.0, 1.0), (10.0, 0.05), (0.3, 3.0), (2.58, 0.0), (0.0, 0.13), (100.0, 10.0)]:
        assert nl.mk801_apparent_kd(glu, gly) == pytest.approx(_mk801_kd_oracle(glu, gly), rel=1e-9), (glu, gly)
        assert nl.mk801_activation(glu, gly) == pytest.approx(_MK["glutamate_glycine"] / _mk801_kd_oracle(glu, gly),
                                                              rel=1e-9)
    # binding needs open channels: more agonist, more (faster) binding
    b = [nl.mk801_binding(30.0, ligand_nM=5.0, protein_mg_per_mL=0.2, glutamate_uM=g, glycine_uM=y)
         for g, y in ((0, 0), (0, 1.0), (10.0, 0), (10.0, 1.0))]
    assert b[0] < b[1] < b[3] and b[0] < b[2] < b[3]


def test_mk801_kinetic_binding_reaches_apparent_kd_equilibrium():
    kon, koff = nl.mk801_rate_constants(3.0, 0.5)
    kd_oracle = _mk801_kd_oracle(3.0, 0.5)
    assert koff == pytest.approx(_MK_KOFF, rel=1e-12)
    assert kon == pytest.approx(_MK_KOFF / kd_oracle, rel=1e-9)
    rt = _MK_BMAX * 0.001  # 1 ug/mL protein: no depletion
    late = nl.mk801_binding(20.0 / koff, ligand_nM=kd_oracle, protein_mg_per_mL=0.001, glutamate_uM=3.0,
                            glycine_uM=0.5)
    assert late == pytest.approx(rt / 2, rel=1e-3)


@pytest.mark.parametrize("glu, gly", [(0.0, 0.0), (2.58, 0.13), (0.5, 0.02), (10.0, 0.05), (0.3, 3.0)])
def test_mk801_binding_time_course_equals_analytic_association(glu, gly):
    """kinetic [3H]MK-801 binding = closed-form association with kon = koff/Kd_oracle, koff = 1/90 min."""
    kd = _mk801_kd_oracle(glu, gly)
    for t in (5.0, 30.0, 300.0):
        # assay conditions of the basal readout (0.2 mg/mL protein): depletion matters, exact second order
        b = nl.mk801_binding(t, ligand_nM=5.0, protein_mg_per_mL=0.2, glutamate_uM=glu, glycine_uM=gly)
        assert b == pytest.approx(float(_second_order_association(t, 5.0, _MK_BMAX * 0.2, kd, _MK_KOFF)), rel=1e-8)
        # trace receptor: the mono-exponential pseudo-first-order solution, kobs = kon L + koff
        rt = _MK_BMAX * 0.001
        kobs = _MK_KOFF / kd * 5.0 + _MK_KOFF
        mono = rt * 5.0 / (5.0 + kd) * (1.0 - math.exp(-kobs * t))
        b = nl.mk801_binding(t, ligand_nM=5.0, protein_mg_per_mL=0.001, glutamate_uM=glu, glycine_uM=gly)
        assert b == pytest.approx(mono, rel=2e-4)


def test_ligand_lookup_errors():
    assert nl.get("[3H]MK-801") is nl.MK801 and nl.get("5,7-DCKA") is nl.DCKA
    with pytest.raises(ArgumentError, match="unknown ligand `mk802`; did you mean `mk801`"):
        nl.get("mk802")
    with pytest.raises(KineticsError, match="no constant `Kd_x`"):
        nl.MK801.get("Kd_x")


# --------------------------------------------------------------------------- CLI
def _parser():
    from models.cli.binding import add_subcommands

    ap = argparse.ArgumentParser(prog="nmdakin")
    add_subcommands(ap.add_subparsers(dest="command", required=True))
    return ap


def test_cli_binding_saturation_json_and_png(tmp_path, capsys):
    out, png = tmp_path / "sat.json", tmp_path / "sat.png"
    args = _parser().parse_args(["binding", "saturation", "--radioligand", "dcka", "--receptor-nM", "30",
                                 "--ns", "0.02", "--fit-depletion", "--json", str(out), "--plot", str(png)])
    assert args.func(args) == 0
    data = json.loads(out.read_text())
    free = np.array(data["free_ligand_nM"])
    assert np.allclose(data["specific_nM"], ba.specific_binding(free, 30.0, 29.0), rtol=1e-6)
    assert data["fit_free_ligand"]["Kd"] == pytest.approx(29.0, rel=1e-4)
    assert data["fit_added_ligand"]["Kd"] > 1.3 * 29.0          # receptor ~ Kd: the textbook fit is biased
    assert data["fit_with_depletion"]["Kd"] == pytest.approx(29.0, rel=0.01)
    assert data["fit_with_depletion"]["RT"] == pytest.approx(30.0, rel=0.01)
    assert np.allclose(np.array(data["total_nM"]) - np.array(data["specific_nM"]), 0.02 * free, rtol=1e-6)
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "fitted Kd" in capsys.readouterr().out


def test_cli_binding_competition_and_kinetics(tmp_path):
    out = tmp_path / "c.json"
    args = _parser().parse_args(["binding", "competition", "--kd-nM", "6", "--f-high", "0.45", "--ki-high-nM", "100",
                                 "--ki-low-nM", "10000", "--receptor-nM", "0.001", "--no-depletion",
                                 "--points", "24", "--json", str(out)])
    assert args.func(args) == 0
    fits = json.loads(out.read_text())["fits"]
    assert fits["two_site"]["f_high"] == pytest.approx(0.45, rel=0.02)
    assert fits["hill"]["nH"] < 0.7
    out2 = tmp_path / "k.json"
    args = _parser().parse_args(["binding", "kinetics", "--radioligand", "mk801", "--glutamate-uM", "100",
                                 "--glycine-uM", "10", "--receptor-nM", "0.001", "--no-depletion",
                                 "--json", str(out2)])
    assert args.func(args) == 0
    data = json.loads(out2.read_text())
    kd = _mk801_kd_oracle(100.0, 10.0)     # independent of the package (tests/data + documented law)
    assert data["kon_per_nM_min"] == pytest.approx(_MK_KOFF / kd, rel=1e-9)
    assert data["koff_per_min"] == pytest.approx(_MK_KOFF, rel=1e-12)
    for curve in data["association"]:      # simulated curves = pseudo-first-order solution
        L, t = curve["ligand_nM"], np.array(curve["time_min"])
        kobs = _MK_KOFF / kd * L + _MK_KOFF
        assert np.allclose(curve["specific_nM"], 0.001 * L / (L + kd) * (1 - np.exp(-kobs * t)), rtol=1e-6, atol=1e-14)
    assert data["fit"]["koff"] == pytest.approx(_MK_KOFF, rel=0.01)
    assert data["fit"]["kon"] == pytest.approx(_MK_KOFF / kd, rel=0.01)
    assert data["fit"]["Kd"] == pytest.approx(kd, rel=0.01)


def test_cli_binding_errors_leave_no_file(tmp_path):
    out = tmp_path / "x.json"
    args = _parser().parse_args(["binding", "competition", "--kd-nM", "6", "--json", str(out)])
    with pytest.raises(ArgumentError, match="give --ki-nM"):
        args.func(args)
    assert not out.exists()
    args = _parser().parse_args(["binding", "saturation", "--json", str(out)])
    with pytest.raises(ArgumentError, match="--radioligand NAME or --kd-nM"):
        args.func(args)
    assert not out.exists()
    with pytest.raises(SystemExit):
        _parser().parse_args(["binding", "saturation", "--kd-nM", "-1", "--json", str(out)])
