"""Spine calcium: unit conversions, GHK flux, buffering, extrusion, VGCC influx — against closed forms."""
import math

import mpmath
import numpy as np
import pytest

import kinetics as kx
from kinetics import Protocol, SchemeError, pulses, steps
from kinetics.simulate import simulate
from models import calcium, destexhe1994, kampa2004, mg_block

TIGHT = dict(rtol=1e-10, atol=1e-16)

# Physical constants written out here, independently of the module (SI 2019 exact values)
F_SI = 96485.33212          # C/mol
R_SI = 8.314462618          # J/(mol K)
T_K = 308.15


def receptor():
    """Two-state receptor + Jahr-Stevens block: O(t) = O0 exp(-beta t) when glu = 0."""
    return mg_block.with_nmda_current(destexhe1994.two_state())


def observables_at(scheme, y0=None, inputs=None):
    """Observables of a scheme at one state (simulate to t = 0 only)."""
    s = scheme.with_inputs(inputs) if inputs else scheme
    res = simulate(s, Protocol.empty(), t_end=1e-9, t_eval=[0.0], y0=y0)
    return {k: float(res[k][0]) for k in res.observable_names}


def test_flux_unit_conversion_by_hand():
    """1 pA of Ca2+ current into 0.15 fL is 1e-12 C/s / (2 * 96485.33212 C/mol * 0.15e-15 L) = 0.0345476 M/s."""
    rec = receptor()
    s = rec + calcium.spine_calcium(rec, nmda_influx="fixed_fraction")
    f = s.parameter_factors()
    assert f["F"] == 1e12 and f["vol_spine"] == 1e-15 and f["Ca_rest"] == 1e-3    # fC/mmol, L, mM
    assert f["R_gas"] == 1e15                                                       # mV fC/(mmol K)
    obs = observables_at(s.with_initial(C=0.0, O=1.0), inputs={"V": -60.0, "Mg": 1.0})
    b = 1.0 / (1.0 + math.exp(0.062 * 60.0) / 3.57)
    assert obs["I_NMDA"] == pytest.approx(-60.0 * b, rel=1e-14)                    # 1 nS x B x (-60 mV) in pA
    assert obs["I_Ca_NMDA"] == pytest.approx(-0.477758212770988, rel=1e-12)         # Pf = 0.10
    j_hand = 0.477758212770988 * 1e-12 / (2 * F_SI * 0.15e-15)                     # mol/(L s) = mM/ms
    assert j_hand == pytest.approx(0.477758212770988 * 0.0345475655, rel=1e-9)
    assert obs["J_Ca"] == pytest.approx(j_hand, rel=1e-12)
    assert obs["Ca_uM"] == pytest.approx(0.07, rel=1e-12)                          # 70 nM at rest


def test_fixed_fraction_influx_integrates_to_the_closed_form():
    """O = exp(-beta t), no Mg, no extrusion: Ca(t) = Ca0 + Pf g |V - E| (1 - e^-beta t) / (beta 2 F vol (1 + kappa))."""
    rec = receptor()
    s = rec + calcium.spine_calcium(rec, nmda_influx="fixed_fraction", extrusion=False)
    s = s.with_initial(C=0.0, O=1.0).with_inputs(V=-70.0, Mg=0.0)
    t = np.linspace(0.0, 500.0, 51)
    res = simulate(s, Protocol.empty(), t_end=500.0, t_eval=t, **TIGHT)
    beta = 0.0066
    i_ca_pA = 0.10 * 1.0 * 70.0                                  # inward magnitude at O = 1
    rate0 = i_ca_pA * 1e-12 / (2 * F_SI * 0.15e-15) / 21.0       # mM/ms at O = 1, kappa = 20
    exact = 70e-6 + rate0 * (1 - np.exp(-beta * t)) / beta
    assert np.abs(res["Ca"] - exact).max() < 1e-12 * 1e3 * exact.max()
    assert res["Ca_total"][-1] == pytest.approx(21.0 * exact[-1], rel=1e-9)


def ghk_closed_form(V, ca_i, ca_o=2.0):
    """GHK current per unit permeability, in (C/mol)(mol/m^3) = C/m^3, evaluated with mpmath (z = 2)."""
    V = mpmath.mpf(V) * mpmath.mpf("1e-3")
    u = 2 * F_SI * V / (R_SI * T_K)
    c_i, c_o = mpmath.mpf(ca_i), mpmath.mpf(ca_o)          # mM = mol/m^3
    if u == 0:
        return 2 * F_SI * (c_i - c_o)
    return 2 * F_SI * u * (c_i - c_o * mpmath.exp(-u)) / (1 - mpmath.exp(-u))


def test_ghk_flux_against_closed_form_and_reversal():
    rec = receptor()
    s = rec + calcium.spine_calcium(rec, nmda_influx="ghk")
    s = s.with_initial(C=0.0, O=1.0)
    ca0 = 70e-6
    P = 0.10 * 1.0 * (-60.0) * float(1.0 / (1 + math.exp(0.062 * 60) / 3.57)) / float(ghk_closed_form(-60.0, ca0))
    for V in (-80.0, -60.0, -20.0, -1e-3, 0.0, 2e-4, 20.0, 40.0, 100.0):
        obs = observables_at(s, inputs={"V": V, "Mg": 1.0})
        b = 1.0 / (1.0 + math.exp(-0.062 * V) / 3.57)
        # P is per unit of open, unblocked conductance: it scales with G = g O B
        expected = P / float(1.0 / (1 + math.exp(0.062 * 60) / 3.57)) * b * float(ghk_closed_form(V, ca0))
        assert obs["I_Ca_NMDA"] == pytest.approx(expected, rel=1e-9, abs=1e-15)
    # at V_ref the GHK current is the fixed fraction of I_NMDA
    obs = observables_at(s, inputs={"V": -60.0})
    assert obs["I_Ca_NMDA"] == pytest.approx(0.10 * obs["I_NMDA"], rel=1e-12)
    # reversal at E_Ca = RT/(2F) ln(Ca_o/Ca_i) ~ +136 mV, inward below, outward above
    e_ca = R_SI * T_K / (2 * F_SI) * 1e3 * math.log(2.0 / ca0)
    assert e_ca == pytest.approx(136.225780347896, rel=1e-12)
    obs = observables_at(s, inputs={"V": e_ca})
    assert obs["E_Ca"] == pytest.approx(e_ca, rel=1e-12)
    assert abs(obs["I_Ca_NMDA"]) < 1e-12 * abs(observables_at(s, inputs={"V": 40.0})["I_Ca_NMDA"]) * 1e3
    assert observables_at(s, inputs={"V": e_ca - 5})["I_Ca_NMDA"] < 0 < observables_at(s, inputs={"V": e_ca + 5})["I_Ca_NMDA"]
    # the module's numpy helper agrees (GHK with the same P in L/ms)
    p_model = observables_at(s, inputs={"V": 10.0})["P_Ca_NMDA"]
    assert calcium.ghk_current(10.0, ca0, 2.0, p_model) == pytest.approx(observables_at(s, inputs={"V": 10.0})["I_Ca_NMDA"], rel=1e-9)


def test_ghk_rectifies_where_the_fixed_fraction_fails():
    rec = receptor()
    ghk = (rec + calcium.spine_calcium(rec, nmda_influx="ghk")).with_initial(C=0.0, O=1.0)
    ff = (rec + calcium.spine_calcium(rec, nmda_influx="fixed_fraction")).with_initial(C=0.0, O=1.0)
    for V in (20.0, 40.0):
        assert observables_at(ff, inputs={"V": V})["I_Ca_NMDA"] > 0           # ohmic fraction: efflux
        assert observables_at(ghk, inputs={"V": V})["I_Ca_NMDA"] < 0          # GHK: still influx
    for V in (-80.0, -40.0):
        a = observables_at(ghk, inputs={"V": V})["I_Ca_NMDA"]
        b = observables_at(ff, inputs={"V": V})["I_Ca_NMDA"]
        assert a < 0 and b < 0 and a == pytest.approx(b, rel=0.3)


@pytest.mark.parametrize("buffer", ["kappa", "explicit"])
def test_decay_at_the_extrusion_rate(buffer):
    frag = calcium.spine_calcium(None, nmda_influx=None, vgcc=True, buffer=buffer).with_parameters(g_VGCC=0.0)
    tau = 14.0
    t = np.linspace(0.0, 100.0, 101)
    if buffer == "kappa":
        s = frag.with_initial(Ca=1e-3)
    else:
        s = frag.with_parameters(B_total=0.0).with_initial(Ca=1e-3, Bf=0.0, CaB=0.0)
    res = simulate(s, Protocol.empty(), t_end=100.0, t_eval=t, **TIGHT)
    exact = 70e-6 + (1e-3 - 70e-6) * np.exp(-t / tau)
    assert np.abs(res["Ca"] - exact).max() < 1e-9 * 1e-3
    if buffer == "explicit":
        # a fast explicit buffer (rates x 1000, same Kd): free Ca2+ decays with tau_Ca again (small step)
        p = frag.parameter_values()
        fast = frag.with_parameters(kon_B=p["kon_B"] * 1e3, koff_B=p["koff_B"] * 1e3)
        y0 = {sp.name: sp.initial for sp in fast.species}
        d = 1e-7
        y0["Ca"] += d / 21.0
        y0["CaB"] += d * 20.0 / 21.0
        y0["Bf"] -= d * 20.0 / 21.0
        res = simulate(fast, Protocol.empty(), t_end=60.0, t_eval=[0.0, 14.0, 28.0], y0=[y0[n] for n in fast.species_names],
                       rtol=1e-12, atol=1e-20)
        excess = res["Ca"] - 70e-6
        assert excess[1] / excess[0] == pytest.approx(math.exp(-1.0), rel=0.01)
        assert excess[2] / excess[1] == pytest.approx(math.exp(-1.0), rel=0.01)


def test_total_calcium_conserved_without_extrusion():
    frag = calcium.spine_calcium(None, nmda_influx=None, vgcc=True, buffer="explicit", extrusion=False)
    s = frag.with_parameters(g_VGCC=0.0).with_initial(Ca=5e-3)          # far from buffer equilibrium
    res = simulate(s, Protocol.empty(), t_end=50.0, t_eval=np.linspace(0, 50, 201), **TIGHT)
    total = res["Ca"] + res["CaB"]
    assert np.abs(total - total[0]).max() < 1e-14
    assert np.abs(res["Bf"] + res["CaB"] - res["Bf"][0] - res["CaB"][0]).max() < 1e-14
    assert res["CaB"][-1] > 3 * res["CaB"][0]                           # it did re-equilibrate
    kd = frag.parameter_values()["koff_B"] / frag.parameter_values()["kon_B"] * 1e-3   # mM
    assert res["Ca"][-1] * res["Bf"][-1] / res["CaB"][-1] == pytest.approx(kd, rel=1e-6)
    # with NMDA influx, the total rises by exactly the integrated influx
    rec = receptor()
    s = (rec + calcium.spine_calcium(rec, nmda_influx="fixed_fraction", buffer="explicit", extrusion=False))
    s = s.with_initial(C=0.0, O=1.0).with_inputs(V=-70.0, Mg=0.0)
    t = np.linspace(0.0, 300.0, 31)
    res = simulate(s, Protocol.empty(), t_end=300.0, t_eval=t, **TIGHT)
    rate0 = 0.10 * 70.0 * 1e-12 / (2 * F_SI * 0.15e-15)
    influx = rate0 * (1 - np.exp(-0.0066 * t)) / 0.0066
    assert np.abs(res["Ca_total"] - res["Ca_total"][0] - influx).max() < 1e-9 * influx.max()


def test_vgcc_rate_functions_are_the_published_ones():
    frag = calcium.spine_calcium(None, nmda_influx=None, vgcc=True)
    for V in (-80.0, -40.0, -27.0 + 3e-7, -27.0 - 3e-7, -10.0, 20.0):
        obs = observables_at(frag, inputs={"V": V})
        x = -27.0 - V
        am = 0.055 * x / (math.exp(x / 3.8) - 1)
        assert obs["alpha_m_VGCC"] == pytest.approx(am, rel=1e-6)
        assert obs["beta_m_VGCC"] == pytest.approx(0.94 * math.exp((-75.0 - V) / 17.0), rel=1e-12)
        assert obs["alpha_h_VGCC"] == pytest.approx(0.000457 * math.exp((-13.0 - V) / 50.0), rel=1e-12)
        assert obs["beta_h_VGCC"] == pytest.approx(0.0065 / (math.exp((-V - 15.0) / 28.0) + 1), rel=1e-12)
    assert observables_at(frag, inputs={"V": -27.0})["alpha_m_VGCC"] == pytest.approx(0.055 * 3.8, rel=1e-12)
    # under a clamp each gate relaxes exponentially: x(t) = x_inf + (x0 - x_inf) exp(-(alpha + beta) t)
    t = np.array([0.0, 0.5, 2.0, 100.0, 600.0])
    res = simulate(frag, Protocol([steps("V", [0.0], [-20.0])]), t_end=600.0, t_eval=t, rtol=1e-11, atol=1e-15)
    am, bm, ah, bh = (float(r) for r in calcium.vgcc_rates(-20.0))
    m0, h0 = calcium.vgcc_steady_state(-65.0)
    m_exact = am / (am + bm) + (m0 - am / (am + bm)) * np.exp(-(am + bm) * t)
    h_exact = ah / (ah + bh) + (h0 - ah / (ah + bh)) * np.exp(-(ah + bh) * t)
    assert np.abs(res["m_VGCC"] - m_exact).max() < 1e-9 and np.abs(res["h_VGCC"] - h_exact).max() < 1e-9
    assert frag.get_species("m_VGCC").initial == m0 and frag.get_species("h_VGCC").initial == h0


def test_bap_calcium_transient_is_the_calibrated_size():
    frag = calcium.spine_calcium(None, nmda_influx=None, vgcc=True)
    t = np.linspace(0.0, 100.0, 20001)
    rest = simulate(frag, Protocol.empty(), t_end=100.0, t_eval=t, **TIGHT)
    assert np.abs(rest["Ca_uM"] - 0.07).max() < 1e-6                    # no drift at rest
    res = simulate(frag, Protocol([calcium.reference_bap([10.0])]), t_end=100.0, t_eval=t, **TIGHT)
    assert res["V"].max() == pytest.approx(35.0, abs=1e-6)
    rise = res["Ca_uM"].max() - 0.07
    assert rise == pytest.approx(1.10, rel=0.005)                        # calibration target of g_VGCC
    after = t > t[np.argmax(res["Ca_uM"])] + 10.0
    decay = np.polyfit(t[after][:500], np.log(res["Ca_uM"][after][:500] - 0.07), 1)[0]
    assert -1.0 / decay == pytest.approx(14.0, rel=0.02)                 # extrusion sets the decay


def test_nmda_and_bap_calcium_is_supralinear_and_timing_dependent():
    """Glutamate then a bAP 10 ms later: more Ca2+ than the sum of either alone, and more than bAP-then-glutamate."""
    rec5 = mg_block.with_nmda_current(destexhe1994.five_state())
    syn = rec5 + calcium.spine_calcium(rec5, nmda_influx="ghk", vgcc=True)
    t = np.linspace(0.0, 300.0, 30001)
    peak, charge = {}, {}
    for name, comps in {"glu": [pulses("glu", [10.0])], "bap": [calcium.reference_bap([20.0])],
                        "pre_post": [pulses("glu", [10.0]), calcium.reference_bap([20.0])],
                        "post_pre": [pulses("glu", [20.0]), calcium.reference_bap([10.0])]}.items():
        res = simulate(syn, Protocol(comps), t_end=300.0, t_eval=t, rtol=1e-9, atol=1e-14)
        peak[name] = res["Ca_uM"].max() - 0.07
        charge[name] = np.trapezoid(res["I_Ca_NMDA"], t)
    assert peak["pre_post"] > 1.1 * (peak["glu"] + peak["bap"])
    assert peak["pre_post"] > 1.5 * peak["post_pre"]
    assert charge["pre_post"] < 1.05 * charge["glu"] < 0          # the bAP unblocks NMDA receptors (more inward)


def test_fragment_composes_with_receptors_and_shares_components():
    rec = receptor()
    frag = calcium.spine_calcium(rec, nmda_influx="ghk", vgcc=True)
    assert {"O", "V", "Mg", "g_NMDA", "B", "G_NMDA", "I_NMDA"} <= set(frag.species_names + frag.input_names
                                                                        + frag.parameter_names + frag.observable_names)
    syn = rec + frag
    assert syn.species_names.count("O") == 1 and syn.input_names.count("V") == 1
    # Kampa's kinetic block has its own G_NMDA (no static B)
    k = kampa2004.scheme()
    ksyn = k + calcium.spine_calcium(k, nmda_influx="fixed_fraction")
    assert "B" not in ksyn.observable_names and "Ca" in ksyn.species_names
    assert kx.derive(ksyn).conservation_laws.shape[0] == 1              # receptor occupancy only


def test_calcium_errors():
    with pytest.raises(SchemeError, match=r"unknown nmda_influx `ghkk`.*did you mean `ghk`"):
        calcium.spine_calcium(receptor(), nmda_influx="ghkk")
    with pytest.raises(SchemeError, match="unknown buffer `kapa`"):
        calcium.spine_calcium(receptor(), buffer="kapa")
    with pytest.raises(SchemeError, match="needs a Ca2\\+ source"):
        calcium.spine_calcium(None, nmda_influx=None)
    with pytest.raises(SchemeError, match="`receptor`.*is required"):
        calcium.spine_calcium(None, nmda_influx="ghk")
    with pytest.raises(SchemeError, match="has no `G_NMDA`"):
        calcium.spine_calcium(destexhe1994.five_state(), nmda_influx="ghk")


def test_every_calcium_parameter_has_a_source_or_a_note():
    rec = receptor()
    for kw in ({"nmda_influx": "ghk", "vgcc": True}, {"nmda_influx": "fixed_fraction", "buffer": "explicit"}):
        frag = calcium.spine_calcium(rec, **kw)
        for p in frag.parameters:
            assert p.reference or p.note, p.name
