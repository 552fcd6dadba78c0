"""Presynaptic release (Tsodyks-Markram) and the non-ionotropic preNMDAR-JNK2-STX1a tLTD pathway.

Published numbers and outcomes come from tests/data/presynaptic_tltd.json (with sources).
"""
import json
import math
from pathlib import Path

import numpy as np
import pytest

import kinetics as kx
from kinetics.errors import ArgumentError, KineticsError
from models import manipulations as mp
from models import pharmacology as ph
from models import presynaptic_tltd as pt
from models import tsodyks_markram as tm

DATA = json.loads((Path(__file__).parent / "data" / "presynaptic_tltd.json").read_text())

#: "abolished": the change stays within this distance of 1 (no change).
ABOLISHED_MARGIN = 0.05
#: "intact": the change stays within this distance of the control change.
INTACT_MARGIN = 0.02
#: frequency independence: changes at 0.1-20 Hz lie within a band this wide.
FREQUENCY_BAND = 0.10


# --------------------------------------------------------------------------- Tsodyks-Markram


def _train_release(scheme, freq_hz, n=40, width=1e-3):
    # release measured as the drop of x over a pulse is biased by the recovery during the pulse,
    # a relative error ~ z*width/(tau_rec*release): 4e-5 at 50 Hz for width = 1e-3 ms
    spikes = kx.regular_train(n, freq_hz, t0=10.0)
    t_eval = np.sort(np.concatenate([spikes, spikes + width]))
    res = kx.simulate(scheme, kx.Protocol([tm.spike_pulses(spikes, width=width)]), t_end=spikes[-1] + 50.0,
                      t_eval=t_eval, rtol=1e-10, atol=1e-12)
    return res, tm.release_per_spike(res, spikes, width=width)


def test_tm_parameters_are_the_published_l5_values():
    d = DATA["tsodyks_markram_L5"]
    s = tm.scheme()
    assert s.get_species("Pr").initial == d["U"]
    assert s.get_parameter("tau_rec").value == d["tau_rec_ms"]
    assert s.get_parameter("tau_in").value == d["tau_in_ms"]


@pytest.mark.parametrize("freq_hz", [2.0, 20.0, 50.0])
def test_tm_steady_state_release_matches_exact_fixed_point(freq_hz):
    res, rel = _train_release(tm.scheme(), freq_hz)
    assert rel[0] == pytest.approx(tm.U_L5, rel=1e-4)          # first spike releases U of a full pool
    exact = tm.steady_state_release(tm.U_L5, tm.TAU_REC_L5, tm.TAU_IN, 1000.0 / freq_hz)
    assert rel[-1] == pytest.approx(exact, rel=2e-4)
    # resources are conserved
    tot = res["x"] + res["y"] + res["z"]
    assert np.max(np.abs(tot - 1.0)) < 1e-8


@pytest.mark.parametrize("freq_hz", [5.0, 20.0, 40.0])
def test_tm_closed_form_depression_when_inactivation_is_instantaneous(freq_hz):
    # tau_in -> 0: the three-state model becomes the two-state model of the closed form
    s = tm.scheme(tau_in=1e-3)
    _, rel = _train_release(s, freq_hz, n=60)
    cf = tm.closed_form_release_ss(tm.U_L5, tm.TAU_REC_L5, 1000.0 / freq_hz)
    assert rel[-1] == pytest.approx(cf, rel=1e-3)
    # the second spike of a pair: U * (1 - U e^{-T/tau_rec} ...) exact two-state recursion
    T = 1000.0 / freq_hz
    x2 = (1 - tm.U_L5) * math.exp(-T / tm.TAU_REC_L5) + 1 - math.exp(-T / tm.TAU_REC_L5)
    assert rel[1] == pytest.approx(tm.U_L5 * x2, rel=1e-3)


def test_tm_closed_form_values():
    # x_ss = (1 - E)/(1 - (1 - U) E), E = exp(-T/tau_rec), computed by hand for 20 Hz
    E = math.exp(-50.0 / 525.0)
    assert tm.closed_form_x_ss(0.46, 525.0, 50.0) == pytest.approx((1 - E) / (1 - 0.54 * E), rel=1e-12)
    # limits: very slow trains recover fully, very fast trains deplete
    assert tm.closed_form_x_ss(0.46, 525.0, 1e6) == pytest.approx(1.0)
    assert tm.closed_form_x_ss(0.46, 525.0, 1e-3) < 1e-4


def test_tm_lower_release_probability_lowers_first_response_and_depression():
    _, rel_hi = _train_release(tm.scheme(U=0.46), 20.0, n=10)
    _, rel_lo = _train_release(tm.scheme(U=0.30), 20.0, n=10)
    assert rel_lo[0] == pytest.approx(0.30, rel=1e-4)
    # presynaptic LTD changes the paired-pulse ratio: less depression at lower Pr
    assert rel_lo[1] / rel_lo[0] > rel_hi[1] / rel_hi[0]


def test_tm_bad_input():
    with pytest.raises(ArgumentError, match="release probability"):
        tm.scheme(U=1.2)
    with pytest.raises(ArgumentError, match="width"):
        tm.spike_pulses([1.0], width=0.0)
    res = kx.simulate(tm.scheme(), kx.Protocol([tm.spike_pulses([10.0])]), t_end=20.0, t_eval=[0.0, 20.0])
    with pytest.raises(ArgumentError, match="no output"):
        tm.release_per_spike(res, [10.0])


# --------------------------------------------------------------------------- the steps on their own


def test_prenmdar_binding_equilibrium_has_the_two_site_form():
    # glutamate clamp, no CB1 activity: pR2 = (g/K)^2 / (1 + g/K)^2 with K = Ru/Rb (two identical sites)
    s = pt.prenmdar()
    glu = 0.002  # mM
    res = kx.simulate(s, kx.Protocol([kx.steps("glu_pre", [0.0], [glu])]), t_end=2000.0, t_eval=[2000.0],
                      rtol=1e-10, atol=1e-13)
    K = 12.9e-3 / 5.0  # Ru (1/ms) / Rb (1/(mM ms)) in mM
    a = glu / K
    assert res["pR20"][-1] == pytest.approx(a * a / (1 + a) ** 2, rel=1e-6)
    assert res["pR10"][-1] == pytest.approx(2 * a / (1 + a) ** 2, rel=1e-6)


def test_prenmdar_ap5_competes_at_both_sites():
    # AP5 alone (Kd = koff/kon per site): both sites free with probability 1/(1 + A/Kd)^2
    s = pt.prenmdar().with_inputs(AP5=0.01)
    kd = s.get_parameter("koff_AP5").value / s.get_parameter("kon_AP5").value * 1e-3  # (1/s)/(1/(uM s)) uM -> mM
    res = kx.simulate(s, None, t_end=5000.0, t_eval=[5000.0], rtol=1e-10, atol=1e-13)
    b = 0.01 / kd
    assert res["pR00"][-1] == pytest.approx(1 / (1 + b) ** 2, rel=1e-6)
    assert res["pR02"][-1] == pytest.approx(b * b / (1 + b) ** 2, rel=1e-6)
    # with glutamate and AP5 together, sites split glu : AP5 : free = g/Kg : b : 1 (independent identical sites)
    glu = 0.002
    s2 = s.with_inputs(glu_pre=glu)
    res2 = kx.simulate(s2, None, t_end=5000.0, t_eval=[5000.0], rtol=1e-10, atol=1e-13)
    g = glu / (12.9e-3 / 5.0)
    assert res2["pR20"][-1] == pytest.approx((g / (1 + g + b)) ** 2, rel=1e-6)


def test_presynaptic_receptor_shares_the_receptor_constants():
    from models import glun1_glun2

    rec = glun1_glun2.scheme()
    s = pt.presynaptic()
    shared = set(s.parameter_names) & set(rec.parameter_names)
    assert {"Rb", "Ru", "Ro", "Rc", "kon_AP5", "koff_AP5", "kon_gly", "koff_gly", "kon_CK7", "koff_CK7"} <= shared
    for name in shared:
        assert s.get_parameter(name) == rec.get_parameter(name)
    # the MK-801 block uses the receptor's open-channel rate law (its parameters are all shared)
    block = next(r for r in rec.reactions if r.name == "MK801_block")
    assert {sym.name for sym in block.forward.free_symbols} - {"MK801"} <= shared


def test_ecb_signal_is_delayed_and_transient():
    s = pt.ecb_cb1()
    t = np.linspace(0.0, 500.0, 5001)
    res = kx.simulate(s, kx.Protocol([kx.jumps("eCB_post", [0.0], 1.0)]), t_end=500.0, t_eval=t,
                      rtol=1e-9, atol=1e-12)
    i_peak = int(np.argmax(res["CB1a"]))
    assert res["CB1a"][0] == 0.0
    assert 5.0 < t[i_peak] < 40.0           # arrives with a delay after the postsynaptic spike
    assert res["CB1a"][-1] < 0.02 * res["CB1a"][i_peak]  # and is gone within ~half a second


def test_jnk2_step_without_signal_keeps_pr():
    s = pt.jnk2_stx1a()
    res = kx.simulate(s, None, t_end=1e5, t_eval=[1e5])
    assert res["Pr"][-1] == tm.U_L5
    # with a constant signalling drive, Pr falls
    s_on = s.with_initial(pK20=0.3)
    assert kx.simulate(s_on, None, t_end=1e5, t_eval=[1e5])["Pr"][-1] < 0.9 * tm.U_L5


# --------------------------------------------------------------------------- the composed pathway


@pytest.fixture(scope="module")
def presyn():
    return pt.presynaptic()


@pytest.fixture(scope="module")
def control_20hz(presyn):
    return pt.run_pairing(presyn, -25.0, 20.0)


def test_control_tltd_magnitude_at_20hz(control_20hz):
    d = DATA["control_tltd"]
    lo, hi = d["range_reported"]
    assert lo <= control_20hz.change <= hi
    # k_ltd was fitted to the mean of Brock et al. 2020: the fit holds
    assert control_20hz.change == pytest.approx(d["mean"], abs=0.01)
    # expressed presynaptically: Pr itself dropped, lastingly (still low a minute after pairing)
    assert control_20hz.pr_after < control_20hz.pr_before
    assert control_20hz.result["Pr"][-1] == pytest.approx(control_20hz.result["Pr"][-200], rel=1e-3)


def test_tltd_is_frequency_independent(presyn):
    freqs = DATA["frequency_independence"]["freq_hz"]
    changes = [pt.run_pairing(presyn, -25.0, f).change for f in freqs]
    assert all(c < 0.75 for c in changes)                    # LTD at every frequency
    assert max(changes) - min(changes) < FREQUENCY_BAND


def test_tltd_needs_post_before_pre_order(presyn):
    # single pairings at 0.1 Hz: post-before-pre depresses, pre-before-post leaves Pr unchanged
    assert pt.run_pairing(presyn, -10.0, 0.1).change < 0.85
    assert pt.run_pairing(presyn, +10.0, 0.1).change == pytest.approx(1.0, abs=0.01)
    # and the high-frequency pre-before-post protocol of tLTP barely engages the presynaptic pathway
    assert pt.run_pairing(presyn, +10.0, 50.0).change > 0.95


#: conditions whose manipulation has no target in the presynaptic scheme (postsynaptic GluN1, postsynaptic peptide)
NOT_IN_PRESYNAPTIC = {"post_GluN1_KO", "JNK2_STX1a_peptide_post"}


@pytest.mark.parametrize("condition", mp.CONDITION_NAMES)
def test_condition_table(presyn, control_20hz, condition):
    expected = DATA["tltd_table"][condition]
    manipulated = mp.CONDITIONS[condition].apply(presyn)
    if condition == "control":
        # the unmanipulated scheme: checked against the published tLTD, not against itself
        assert ph.represented(condition, presyn) and manipulated == presyn
        lo, hi = DATA["control_tltd"]["range_reported"]
        assert expected == "present" and lo <= control_20hz.change <= hi
        return
    # a manipulation that changes nothing in the scheme is reported as not represented, not as reproduced
    assert ph.represented(condition, presyn) == (condition not in NOT_IN_PRESYNAPTIC)
    assert (manipulated == presyn) == (condition in NOT_IN_PRESYNAPTIC)      # independent of touched()
    if condition in NOT_IN_PRESYNAPTIC:
        return
    change = pt.run_pairing(manipulated, -25.0, 20.0).change
    if expected == "abolished":
        assert abs(change - 1.0) < ABOLISHED_MARGIN, (condition, change)
    else:  # intact
        assert abs(change - control_20hz.change) < INTACT_MARGIN, (condition, change)
        assert change < 0.75


def test_peptide_abolishes_tltd_at_low_frequency_too(presyn):
    # Thomazeau et al.: the presynaptic peptide abolished tLTD regardless of frequency
    s = mp.CONDITIONS["JNK2_STX1a_peptide_pre"].apply(presyn)
    assert abs(pt.run_pairing(s, -25.0, 0.1).change - 1.0) < ABOLISHED_MARGIN


# --------------------------------------------------------------------------- the RIM1ab branch


def _release_50hz(scheme):
    rest = kx.simulate(scheme, None, t_end=pt.T_EQUILIBRATE, t_eval=[pt.T_EQUILIBRATE])
    y0 = dict(zip(scheme.species_names, rest.y[-1]))
    spikes = kx.regular_train(30, 50.0, t0=10.0)
    t_eval = np.sort(np.concatenate([spikes, spikes + tm.SPIKE_WIDTH]))
    res = kx.simulate(scheme, pt.pairing_protocol(spikes, []), t_end=spikes[-1] + 1.0, t_eval=t_eval, y0=y0,
                      rtol=1e-8, atol=1e-12)
    return tm.release_per_spike(res, spikes)


def test_rim_branch_boosts_replenishment_at_high_frequency_only_with_rim_and_open_channels(presyn):
    ctrl = _release_50hz(presyn)[-1]
    plain = tm.steady_state_release(tm.U_L5, tm.TAU_REC_L5, tm.TAU_IN, 20.0)
    assert ctrl > 1.3 * plain                                   # the boost is there in control
    for cond in ("RIM1ab_KO", "MK801", "pre_GluN1_KO"):  # ... needs RIM1ab, presynaptic NMDARs, an open pore
        rel = _release_50hz(mp.CONDITIONS[cond].apply(presyn))[-1]
        assert rel == pytest.approx(plain, rel=0.05), cond
    # 7-CK competes with the (saturating, 10 uM) glycine: it reduces the boost
    assert plain < _release_50hz(mp.CONDITIONS["7CK"].apply(presyn))[-1] < ctrl
    # Mg2+-sensitive: removing Mg2+ enlarges it
    assert _release_50hz(presyn.with_inputs(Mg=0.0))[-1] > 1.05 * ctrl


def test_presynaptic_without_rim_branch_has_same_tltd(presyn, control_20hz):
    s = pt.presynaptic(with_rim=False)
    assert "RIMa" not in s.species_names
    assert pt.run_pairing(s, -25.0, 20.0).change == pytest.approx(control_20hz.change, abs=1e-3)


# --------------------------------------------------------------------------- manipulations


def test_conditions_have_the_table_names_in_order():
    assert mp.CONDITION_NAMES == ("control", "pre_GluN1_KO", "post_GluN1_KO", "MK801", "7CK", "AP5", "SP600125",
                                  "JNK2_STX1a_peptide_pre", "JNK2_STX1a_peptide_post", "RIM1ab_KO")
    for m in mp.CONDITIONS.values():
        assert m.description and m.source


def test_manipulation_returns_new_scheme_and_leaves_original(presyn):
    before = presyn.structure_key(), presyn.parameter_values(), {u.name: u.default for u in presyn.inputs}
    s_ko = mp.apply(presyn, "pre_GluN1_KO")
    assert s_ko is not presyn
    assert s_ko.get_parameter("pre_NMDAR_density").value == 0.0
    assert presyn.get_parameter("pre_NMDAR_density").value == 1.0
    assert (presyn.structure_key(), presyn.parameter_values(), {u.name: u.default for u in presyn.inputs}) == before
    assert s_ko.name.endswith("__pre_GluN1_KO")
    # same structure: compiled code is shared
    assert s_ko.structure_key() == presyn.structure_key()


def test_manipulation_touches_only_existing_components(presyn):
    assert mp.CONDITIONS["MK801"].touched(presyn) == ("MK801",)
    assert mp.CONDITIONS["post_GluN1_KO"].touched(presyn) == ()
    assert mp.CONDITIONS["JNK2_STX1a_peptide_post"].touched(presyn) == ()
    assert mp.CONDITIONS["post_GluN1_KO"].apply(presyn) == presyn
    assert not ph.represented(mp.CONDITIONS["post_GluN1_KO"], presyn) and ph.represented("MK801", presyn)
    # works on a scheme that has none of the presynaptic names (the plain TM synapse)
    s = tm.scheme()
    assert mp.CONDITIONS["SP600125"].apply(s) == s


def test_combine_and_errors(presyn):
    m = mp.combine("AP5+SP", mp.CONDITIONS["AP5"], mp.CONDITIONS["SP600125"])
    s = m.apply(presyn)
    assert s.get_input("AP5").default == mp.AP5_MM and s.get_input("SP600125").default == mp.SP600125_MM
    with pytest.raises(ArgumentError, match="did you mean `AP5`"):
        mp.get("APV5")
    with pytest.raises(KineticsError, match="kinetics.Scheme"):
        mp.CONDITIONS["AP5"].apply("not a scheme")
    with pytest.raises(ArgumentError, match="non-empty name"):
        mp.Manipulation("", "x", "y")
