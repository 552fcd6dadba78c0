"""Radioligand binding assays (models/binding_assays.py) and NMDA ligand constants (models/nmda_ligands.py).

Oracles: the textbook relations where they hold (no depletion, equilibrium), the exact
quadratic equilibrium with depletion, an independent closed-form IC50 with depletion, and
published constants in tests/data/nmda_ligand_constants.json.
"""
import argparse
import json
from pathlib import Path

import numpy as np
import pytest

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
def test_depletion_bias_quantified():
    small = ba.depletion_bias(1.0, 0.01)
    equal = ba.depletion_bias(1.0, 1.0)
    large = ba.depletion_bias(1.0, 5.0)
    for b in (small, equal, large):  # exact half saturation Kd + RT/2
        assert b.half_saturation_added == pytest.approx(b.kd_true + b.receptor_nM / 2, rel=1e-9)
        assert b.kd_free_axis == pytest.approx(b.kd_true, rel=1e-6)  # the free-ligand axis is unbiased
    assert abs(small.kd_relative_error) < 0.02 and abs(small.ki_relative_error) < 0.02
    assert 0.40 < equal.kd_relative_error < 0.90          # measured +65 %
    assert equal.ki_cheng_prusoff == pytest.approx(1.5, rel=5e-3)   # IC50 = 3 exactly: Ki 1.5 instead of 1
    assert large.kd_relative_error > 2 * equal.kd_relative_error
    assert 0.3 < equal.bound_fraction_at_kd < 0.45        # (3 - sqrt 5)/2 = 0.382 of the ligand bound
    assert "Cheng-Prusoff" in equal.report()


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


def test_mk801_activation_reproduces_the_four_measured_kd():
    mk = DATA["mk801_kd_nM"]
    sat = 1e7  # uM: saturating agonist
    cases = {(0, 0): mk["basal"], (sat, 0): mk["glutamate"], (0, sat): mk["glycine"], (sat, sat): mk["glutamate_glycine"]}
    for (glu, gly), kd in cases.items():
        assert nl.mk801_apparent_kd(glu, gly) == pytest.approx(kd, rel=1e-5)
    # binding needs open channels: more agonist, more (faster) binding
    b = [nl.mk801_binding(30.0, ligand_nM=5.0, protein_mg_per_mL=0.2, glutamate_uM=g, glycine_uM=y)
         for g, y in ((0, 0), (0, 1.0), (10.0, 0), (10.0, 1.0))]
    assert b[0] < b[1] < b[3] and b[0] < b[2] < b[3]


def test_mk801_kinetic_binding_reaches_apparent_kd_equilibrium():
    kon, koff = nl.mk801_rate_constants(3.0, 0.5)
    kd = koff / kon
    rt = 1.86 * 0.001  # 1 ug/mL protein: no depletion
    late = nl.mk801_binding(20.0 / koff, ligand_nM=kd, protein_mg_per_mL=0.001, glutamate_uM=3.0, glycine_uM=0.5)
    assert late == pytest.approx(rt / 2, rel=1e-3)
    assert kd == pytest.approx(nl.mk801_apparent_kd(3.0, 0.5), rel=1e-12)


def test_ligand_lookup_errors():
    assert nl.get("[3H]MK-801") is nl.MK801 and nl.get("5,7-DCKA") is nl.DCKA
    with pytest.raises(ArgumentError, match="unknown ligand `mk802`; did you mean `mk801`"):
        nl.get("mk802")
    with pytest.raises(KineticsError, match="no constant `Kd_x`"):
        nl.MK801.get("Kd_x")


# --------------------------------------------------------------------------- CLI
def _parser():
    from models.cli_chronic import add_subcommands

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
    assert data["fit"]["koff"] == pytest.approx(nl.MK801.value("koff"), rel=0.01)
    assert data["fit"]["kon"] == pytest.approx(data["kon_per_nM_min"], rel=0.01)
    assert data["fit"]["Kd"] == pytest.approx(nl.mk801_apparent_kd(100.0, 10.0), rel=0.01)


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
