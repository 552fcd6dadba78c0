"""Spine calcium: influx through NMDA receptors and voltage-gated channels, buffering, extrusion.

:func:`spine_calcium` returns a scheme *fragment* — free calcium ``Ca`` of one
spine head with its sources and sinks — to compose with a receptor scheme::

    receptor = mg_block.with_nmda_current(destexhe1994.five_state())
    synapse = receptor + calcium.spine_calcium(receptor, nmda_influx="ghk", vgcc=True)

The fragment copies from the receptor the components its influx needs
(``G_NMDA``, ``I_NMDA`` and what they depend on: ``O``, ``B``, ``V``, ``Mg``,
``g_NMDA``...), so the two compose without conflicts.

Units
-----
Concentrations are in the engine's unit (mM): ``Ca`` is free [Ca2+]i in mM
(``Ca_uM`` reads it in uM). A Ca2+ current ``I`` (pA, inward < 0) carried by
divalent ions into a volume ``vol`` gives the flux ``J = -I / (2 F vol)``: with
``F`` in C/mol and ``vol`` in fL the engine converts both (``F`` -> fC/mmol,
``vol`` -> L) so that ``J`` is in mM/ms. Example: 1 pA into 0.15 fL is
``1e-12 / (2 * 96485.33 * 0.15e-15) = 0.03455 M/s = 34.55 uM/ms``.

NMDA receptor Ca2+ current (``nmda_influx``)
--------------------------------------------
``"fixed_fraction"``: ``I_Ca_NMDA = Pf * I_NMDA`` — a fixed fraction of the
ohmic NMDA current. Simple, but wrong away from the potential at which ``Pf`` was
measured: above ``E_NMDA`` it turns into a Ca2+ *efflux*.

``"ghk"``: the Goldman-Hodgkin-Katz current equation (Goldman 1943; Hodgkin &
Katz 1949) for a divalent ion, ``z = 2``, ``u = z F V / (R T)``::

    I_Ca = P z F u (Ca_i - Ca_o exp(-u)) / (1 - exp(-u))

scaled by the open conductance, ``P = Pf G_NMDA (V_ref - E_NMDA) / ghk(V_ref)``,
so that at ``V_ref`` (-60 mV, a choice) and resting Ca2+ it equals the fixed
fraction of the NMDA current; elsewhere it rectifies correctly: inward at all
potentials below ``E_Ca`` (~ +130 mV) and zero at ``E_Ca``. The Ca2+ current is
used for the Ca2+ influx only; it is part of, not added to, ``I_NMDA``.

Voltage-gated Ca2+ channels (``vgcc=True``)
-------------------------------------------
A high-voltage-activated conductance driven by the ``V`` input (e.g. a
back-propagating action potential written as a :func:`kinetics.waveform` on
``V``): ``I_Ca_VGCC = g_VGCC m^2 h (V - E_Ca)`` with the rate functions of
Reuveni, Friedman, Amitai & Gutnick (1993) J Neurosci 13:4609 as implemented in
``Ca_HVA.mod`` of the NEURON repository (``alpha_m = 0.055 (-27 - V)/(exp((-27 -
V)/3.8) - 1)``, ``beta_m = 0.94 exp((-75 - V)/17)``, ``alpha_h = 0.000457
exp((-13 - V)/50)``, ``beta_h = 0.0065/(exp((-V - 15)/28) + 1)``, per ms) and the
Nernst potential ``E_Ca = R T/(2 F) ln(Ca_o/Ca)``.

Buffering and extrusion
-----------------------
``buffer="kappa"``: a fast buffer in equilibrium with binding ratio ``kappa``
(the endogenous buffer capacity), ``dCa/dt = J/(1 + kappa) - (Ca - Ca_rest)/tau_Ca``;
``tau_Ca`` is the decay time constant of the free Ca2+ transient.

``buffer="explicit"``: ``Ca + Bf <-> CaB`` with ``kon_B``, ``koff_B`` and total
``B_total`` chosen so that the binding ratio at rest equals ``kappa``; the pump
removes free Ca2+ at rate ``(1 + kappa_B)/tau_Ca`` so that, when binding is fast,
free Ca2+ again decays with ``tau_Ca``. ``extrusion=False`` removes the pump
(total calcium ``Ca + CaB`` is then conserved between influxes).

Examples
--------
>>> from models import destexhe1994, mg_block, calcium
>>> rec = mg_block.with_nmda_current(destexhe1994.five_state())
>>> frag = calcium.spine_calcium(rec, nmda_influx="fixed_fraction")
>>> syn = rec + frag
>>> "Ca" in syn.species_names and "I_Ca_NMDA" in syn.observable_names
True
"""
from __future__ import annotations

import math

from kinetics import Input, Observable, Parameter, RateRule, Scheme, Species, UnitSystem, reaction, waveform, \
    biexponential
from kinetics.errors import SchemeError, did_you_mean
from kinetics.scheme import qualified_name

__all__ = ["spine_calcium", "NMDA_INFLUX", "BUFFERS", "FARADAY", "GAS_CONSTANT", "shared_components",
           "ghk_current", "nernst", "vgcc_rates", "vgcc_steady_state", "reference_bap", "V_REST"]

#: Faraday constant (C/mol), exact in the SI since 2019 (F = N_A e).
FARADAY = 96485.33212
#: Molar gas constant (J/(mol K)), exact in the SI since 2019 (R = N_A k).
GAS_CONSTANT = 8.314462618
_SI = "SI 2019 exact value (CODATA 2018): F = N_A e, R = N_A k"

NMDA_INFLUX = ("ghk", "fixed_fraction")
BUFFERS = ("kappa", "explicit")

_SABATINI = ("Sabatini BL, Oertner TG, Svoboda K (2002) Neuron 33:439-452; values as quoted in the parameter "
             "comments of the Blue Brain GluSynapse.mod")
_PF = ("Burnashev N, Zhou Z, Neher E, Sakmann B (1995) J Physiol 485:403-418 (fractional Ca2+ current of "
       "recombinant NMDA receptors); compiled with later measurements by Dingledine R, Borges K, "
       "Bowie D, Traynelis SF (1999) Pharmacol Rev 51:7-61, Table 7 (Pf(Ca) 0.1-0.19 for NR1-1a/NR2A)")
_HARRIS_WEINBERG = ("Harris KM, Weinberg RJ (2012) Ultrastructure of synapses in the mammalian brain. Cold Spring Harb Perspect Biol 4:a005587 (PMC3331701), Table 1: adult mouse visual cortex "
           "spine volume, median of reported means 0.15 um^3 (range 0.01-0.81)")
_REUVENI = ("Reuveni I, Friedman A, Amitai Y, Gutnick MJ (1993) J Neurosci 13:4609-4621, as implemented in "
            "Ca_HVA.mod of the NEURON repository")
_GHK = "Goldman DE (1943) J Gen Physiol 27:37; Hodgkin AL, Katz B (1949) J Physiol 108:37"
_YUSTE = ("Yuste R, Majewska A, Holthoff K (2000) Nat Neurosci 3:653-659: 'the endogenous calcium buffers in "
          "spines remain unknown'")


#: Resting potential at which the VGCC gates start (mV), the default of the ``V`` input.
V_REST = -65.0


def vgcc_rates(V):
    """HVA gate rate functions ``(alpha_m, beta_m, alpha_h, beta_h)`` (1/ms) of Reuveni et al. (1993).

    Examples
    --------
    >>> [round(float(r), 6) for r in vgcc_rates(-27.0)]
    [0.209, 0.055832, 0.000605, 0.002564]
    """
    import numpy as np

    V = np.asarray(V, dtype=float)
    x = -27.0 - V
    with np.errstate(invalid="ignore", divide="ignore"):
        am = np.where(np.abs(x) < 1e-6, 0.055 * (3.8 - x / 2), 0.055 * x / np.expm1(x / 3.8))
    bm = 0.94 * np.exp((-75.0 - V) / 17.0)
    ah = 0.000457 * np.exp((-13.0 - V) / 50.0)
    bh = 0.0065 / (np.exp((-V - 15.0) / 28.0) + 1.0)
    return am, bm, ah, bh


def vgcc_steady_state(V):
    """Steady-state ``(m_inf, h_inf)`` of the HVA gates at ``V`` (mV)."""
    am, bm, ah, bh = vgcc_rates(V)
    return float(am / (am + bm)), float(ah / (ah + bh))


def reference_bap(times):
    """The reference back-propagating action potential on ``V``: a protocol component.

    A biexponential of 100 mV peak (from the -65 mV baseline to +35 mV), rise
    0.5 ms, decay 3 ms, at each of ``times`` (ms): a choice used to calibrate
    ``g_VGCC``, not a recorded waveform. Combine with a ``V`` baseline (the input
    default, -65 mV).

    Examples
    --------
    >>> reference_bap([10.0]).input
    'V'
    """
    return waveform("V", times, biexponential(100.0, 0.5, 3.0))


def ghk_current(V, ca_i, ca_o, permeability, temperature=308.15):
    """GHK Ca2+ current (pA) for permeability in L/ms, concentrations in mM, V in mV (numpy).

    ``I = P z F u (ca_i - ca_o e^-u)/(1 - e^-u)``, ``u = z F V/(R T)``, ``z = 2``.

    Examples
    --------
    >>> round(float(ghk_current(-60.0, 7e-5, 2.0, 1e-18)), 4)
    -1.7633
    """
    import numpy as np

    V = np.asarray(V, dtype=float)
    F = FARADAY * 1e12                          # fC/mmol
    u = 2.0 * FARADAY * V * 1e-3 / (GAS_CONSTANT * temperature)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = np.where(np.abs(u) < 1e-4, 1.0 + u / 2.0 + u * u / 12.0, u / -np.expm1(-u))
    return permeability * 2.0 * F * g * (ca_i - ca_o * np.exp(-u))


def nernst(ca_i, ca_o, temperature=308.15):
    """Ca2+ equilibrium potential (mV) ``R T/(2 F) ln(ca_o/ca_i)``.

    Examples
    --------
    >>> round(float(nernst(7e-5, 2.0)), 2)
    136.23
    """
    import numpy as np

    return GAS_CONSTANT * temperature / (2.0 * FARADAY) * 1e3 * np.log(np.asarray(ca_o) / np.asarray(ca_i))


def _names(expr) -> set:
    return {s.name for s in expr.free_symbols}


def shared_components(receptor: Scheme, names) -> dict:
    """The components of ``receptor`` that ``names`` depend on, transitively.

    Returns ``{"species": [...], "parameters": [...], "inputs": [...],
    "observables": [...]}`` (component objects, in the receptor's order) so that
    a fragment built on them composes with the receptor without conflicts.
    """
    obs = {o.name: o for o in receptor.observables}
    known = set(receptor.species_names) | set(receptor.parameter_names) | set(receptor.input_names) | set(obs)
    todo, seen = list(names), set()
    while todo:
        n = todo.pop(0)
        if n in seen or n == "t":
            continue
        if n not in known:
            raise SchemeError(f"scheme `{receptor.name}` has no `{n}`" + did_you_mean(n, known)
                              + "; build the receptor with models.mg_block.with_nmda_current (or kampa2004.scheme)")
        seen.add(n)
        if n in obs:
            todo.extend(_names(obs[n].expr))
    return {
        "species": [s for s in receptor.species if s.name in seen],
        "parameters": [p for p in receptor.parameters if p.name in seen],
        "inputs": [u for u in receptor.inputs if u.name in seen],
        "observables": [o for o in receptor.observables if o.name in seen],
    }


def spine_calcium(receptor: Scheme | None = None, *, nmda_influx: str | None = "ghk", vgcc: bool = False,
                  buffer: str = "kappa", extrusion: bool = True) -> Scheme:
    """A spine-head calcium fragment: NMDA and/or VGCC influx, buffer, extrusion.

    Parameters
    ----------
    receptor : Scheme, optional
        The NMDA receptor scheme the influx comes from; it must have the
        observables ``G_NMDA`` (nS) and ``I_NMDA`` (pA) (see
        :func:`models.mg_block.with_nmda_current`, :func:`models.kampa2004.scheme`).
        Required unless ``nmda_influx`` is None.
    nmda_influx : {"ghk", "fixed_fraction", None}
        How the Ca2+ part of the NMDA current is computed (module docstring).
    vgcc : bool
        Add the high-voltage-activated Ca2+ conductance (states ``m_VGCC``,
        ``h_VGCC``) driven by the ``V`` input.
    buffer : {"kappa", "explicit"}
        Fast buffer as a binding ratio, or explicit buffer kinetics (``Bf``, ``CaB``).
    extrusion : bool
        Include the pump (decay of free Ca2+ to ``Ca_rest``).

    Returns
    -------
    Scheme
        Species ``Ca`` (mM; + ``Bf``, ``CaB``, ``m_VGCC``, ``h_VGCC`` as chosen);
        observables ``Ca_uM``, ``J_Ca`` (mM/ms), ``I_Ca_NMDA``, ``I_Ca_VGCC`` (pA),
        ``E_Ca`` (mV), ``Ca_total`` (mM).

    Raises
    ------
    SchemeError
        For an unknown option, a missing receptor, or no Ca2+ source at all.

    Examples
    --------
    >>> frag = spine_calcium(None, nmda_influx=None, vgcc=True)
    >>> frag.species_names
    ('Ca', 'm_VGCC', 'h_VGCC')
    """
    if nmda_influx is not None and nmda_influx not in NMDA_INFLUX:
        raise SchemeError(f"unknown nmda_influx `{nmda_influx}`" + did_you_mean(str(nmda_influx), NMDA_INFLUX)
                          + f"; choose one of {list(NMDA_INFLUX)} or None")
    if buffer not in BUFFERS:
        raise SchemeError(f"unknown buffer `{buffer}`" + did_you_mean(str(buffer), BUFFERS)
                          + f"; choose one of {list(BUFFERS)}")
    if nmda_influx is None and not vgcc:
        raise SchemeError("spine_calcium needs a Ca2+ source: give nmda_influx='ghk' or 'fixed_fraction', "
                          "or vgcc=True")
    if nmda_influx is not None and not isinstance(receptor, Scheme):
        raise SchemeError("spine_calcium: `receptor` (a Scheme with G_NMDA and I_NMDA) is required for NMDA influx")

    ca_rest = 70e-6  # mM
    kappa = 20.0
    params = [
        Parameter("F", FARADAY, "C/mol", reference=_SI, note="Faraday constant"),
        Parameter("R_gas", GAS_CONSTANT, "J/(mol*K)", reference=_SI, note="molar gas constant"),
        Parameter("T_abs", 308.15, "K",
                  note="temperature, 35 degC: a choice (near-physiological slice recordings); enters GHK and Nernst only"),
        Parameter("vol_spine", 0.15, "fL", reference=_HARRIS_WEINBERG, note="spine volume into which Ca2+ enters"),
        Parameter("Ca_rest", ca_rest * 1e3, "uM", reference=_SABATINI, note="resting free [Ca2+]i, 70 +- 29 nM"),
        Parameter("Ca_o", 2.0, "mM", note="extracellular [Ca2+]: a choice (a common slice-solution value)"),
    ]
    species = [Species("Ca", ca_rest, unit="mM", note="free spine [Ca2+]i (mM)")]
    observables = [Observable("Ca_uM", "1000*Ca", unit="uM", note="free [Ca2+]i in uM (1 mM = 1000 uM)"),
                   Observable("E_Ca", "R_gas*T_abs/(2*F)*log(Ca_o/Ca)", unit="mV",
                              note="Nernst potential of Ca2+")]
    inputs, reactions, rate_rules = [], [], []
    currents = []

    if nmda_influx is not None:
        shared = shared_components(receptor, ["G_NMDA", "I_NMDA"])
        species += shared["species"]
        params += shared["parameters"]
        inputs += shared["inputs"]
        observables += shared["observables"]
        params.append(Parameter("Pf_Ca", 0.10, "1", reference=_PF,
                                note="fraction of the NMDA current carried by Ca2+; 0.10 chosen at the low end of the "
                                     "0.1-0.19 range compiled by Dingledine et al. 1999 (about 10-15 % is the figure "
                                     "usually quoted from Burnashev et al. 1995; the paper's own table was not "
                                     "verified)"))
        if nmda_influx == "fixed_fraction":
            observables.append(Observable("I_Ca_NMDA", "Pf_Ca*I_NMDA", unit="pA",
                                          note="Ca2+ current through NMDA receptors: fixed fraction of I_NMDA"))
        else:
            params.append(Parameter("V_ref_Pf", -60.0, "mV", bounds=(-math.inf, math.inf),
                                    note="potential at which the GHK current is matched to Pf * I_NMDA: a choice"))
            observables += [
                Observable("u_Ca", "2*F*V/(R_gas*T_abs)", unit="1", note="z F V / (R T)"),
                Observable("u_Ca_safe", "piecewise(u_Ca, abs(u_Ca) >= 1e-4, 1)", unit="1",
                           note="u_Ca away from 0 (keeps the unused branch below finite)"),
                Observable("ghk_Ca", "2*F*(Ca - Ca_o*exp(-u_Ca))*piecewise(1 + u_Ca/2 + u_Ca^2/12, "
                                     "abs(u_Ca) < 1e-4, u_Ca_safe/(1 - exp(-u_Ca_safe)))",
                           unit="fC/L", note="GHK current per unit permeability (z = 2); series near V = 0"),
                Observable("u_Ca_ref", "2*F*V_ref_Pf/(R_gas*T_abs)", unit="1"),
                Observable("ghk_Ca_ref", "2*F*(Ca_rest - Ca_o*exp(-u_Ca_ref))*u_Ca_ref/(1 - exp(-u_Ca_ref))",
                           unit="fC/L", note="GHK current per unit permeability at V_ref and resting Ca2+"),
                Observable("P_Ca_NMDA", "Pf_Ca*G_NMDA*(V_ref_Pf - E_NMDA)/ghk_Ca_ref", unit="L/ms",
                           note="Ca2+ permeability of the open NMDA receptors, scaled with G_NMDA"),
                Observable("I_Ca_NMDA", "P_Ca_NMDA*ghk_Ca", unit="pA",
                           note="GHK Ca2+ current through NMDA receptors (inward < 0)"),
            ]
        currents.append("I_Ca_NMDA")

    if vgcc:
        if "V" not in {u.name for u in inputs}:
            inputs.append(Input("V", -65.0, "mV", note="membrane potential"))
        params.append(Parameter("g_VGCC", 0.00211, "nS", reference=_SABATINI + " (per-AP transient 1.1 uM)",
                                note="spine HVA Ca2+ conductance (2.11 pS): NOT a measured value; calibrated so that "
                                     "reference_bap() on a -65 mV baseline raises free Ca2+ by 1.10 uM with the "
                                     "default buffer and extrusion (kappa = 20, tau_Ca = 14 ms, 0.15 fL)"))
        # Reuveni et al. 1993 rate functions with their constants as parameters (units explicit, so the
        # formulas stay right in any unit system); the numbers are those of Ca_HVA.mod.
        hva = [("am_k", 0.055, "1/(mV*ms)", "alpha_m slope"), ("am_V", -27.0, "mV", "alpha_m half point"),
               ("am_s", 3.8, "mV", "alpha_m slope factor"), ("bm_k", 0.94, "1/ms", "beta_m rate"),
               ("bm_V", -75.0, "mV", "beta_m reference potential"), ("bm_s", 17.0, "mV", "beta_m slope factor"),
               ("ah_k", 0.000457, "1/ms", "alpha_h rate"), ("ah_V", -13.0, "mV", "alpha_h reference potential"),
               ("ah_s", 50.0, "mV", "alpha_h slope factor"), ("bh_k", 0.0065, "1/ms", "beta_h rate"),
               ("bh_V", -15.0, "mV", "beta_h half point"), ("bh_s", 28.0, "mV", "beta_h slope factor")]
        params += [Parameter(f"{n}_VGCC", v, u, bounds=(-math.inf, math.inf) if v < 0 else (0.0, math.inf),
                             reference=_REUVENI, note=f"HVA gate kinetics: {what}") for n, v, u, what in hva]
        x = "(am_V_VGCC - V)"
        xs = f"piecewise({x}, abs({x}/am_s_VGCC) >= 1e-6, am_s_VGCC)"
        am = (f"piecewise(am_k_VGCC*(am_s_VGCC - {x}/2), abs({x}/am_s_VGCC) < 1e-6, "
              f"am_k_VGCC*{xs}/(exp({xs}/am_s_VGCC) - 1))")
        bm = "bm_k_VGCC*exp((bm_V_VGCC - V)/bm_s_VGCC)"
        ah = "ah_k_VGCC*exp((ah_V_VGCC - V)/ah_s_VGCC)"
        bh = "bh_k_VGCC/(exp((bh_V_VGCC - V)/bh_s_VGCC) + 1)"
        m0, h0 = vgcc_steady_state(V_REST)
        species += [Species("m_VGCC", m0, unit="1", note=f"HVA activation gate (starts at steady state, {V_REST} mV)"),
                    Species("h_VGCC", h0, unit="1", note=f"HVA inactivation gate (starts at steady state, {V_REST} mV)")]
        observables += [
            Observable("alpha_m_VGCC", am, unit="1/ms", note=_REUVENI),
            Observable("beta_m_VGCC", bm, unit="1/ms", note=_REUVENI),
            Observable("alpha_h_VGCC", ah, unit="1/ms", note=_REUVENI),
            Observable("beta_h_VGCC", bh, unit="1/ms", note=_REUVENI),
            Observable("I_Ca_VGCC", "g_VGCC*m_VGCC^2*h_VGCC*(V - E_Ca)", unit="pA",
                       note="HVA Ca2+ current (inward < 0)"),
        ]
        rate_rules += [RateRule("m_VGCC", "alpha_m_VGCC*(1 - m_VGCC) - beta_m_VGCC*m_VGCC"),
                       RateRule("h_VGCC", "alpha_h_VGCC*(1 - h_VGCC) - beta_h_VGCC*h_VGCC")]
        currents.append("I_Ca_VGCC")

    observables.append(Observable("J_Ca", f"-({' + '.join(currents)})/(2*F*vol_spine)", unit="mM/ms",
                                  note="Ca2+ entry rate into the spine volume (before buffering)"))

    if buffer == "kappa":
        params.append(Parameter("kappa_Ca", kappa, "1", reference=_SABATINI,
                                note="endogenous buffer capacity kappa_E (24 +- 11; other estimates 14 and 22): "
                                     "20 chosen within that range"))
        terms = ["J_Ca/(1 + kappa_Ca)"]
        observables.append(Observable("Ca_total", "(1 + kappa_Ca)*Ca", unit="mM",
                                       note="free + buffered Ca2+ in the linear fast-buffer approximation"))
    else:
        kd_uM, kon = 1.0, 0.1
        b_total_uM = kappa * (kd_uM + ca_rest * 1e3) ** 2 / kd_uM
        params += [
            Parameter("kon_B", kon, "1/(uM*ms)", reference=_YUSTE,
                      note="NOT SOURCED (the spine buffer is unidentified): a fast buffer, 1e8 /M/s, chosen"),
            Parameter("koff_B", kon * kd_uM, "1/ms", reference=_YUSTE,
                      note="NOT SOURCED: chosen for Kd = 1 uM (above resting and typical peak Ca2+)"),
            Parameter("B_total", b_total_uM, "uM", reference=_SABATINI,
                      note="total buffer, chosen so that the resting binding ratio B_total Kd/(Kd + Ca_rest)^2 "
                           "equals kappa = 20"),
        ]
        cab0 = b_total_uM * ca_rest * 1e3 / (kd_uM + ca_rest * 1e3) * 1e-3      # mM
        species += [Species("Bf", b_total_uM * 1e-3 - cab0, unit="mM", note="free buffer"),
                    Species("CaB", cab0, unit="mM", note="Ca2+-bound buffer")]
        reactions.append(reaction("Ca + Bf <-> CaB", "kon_B", "koff_B", name="buffer"))
        observables += [
            Observable("kappa_B", "B_total*(koff_B/kon_B)/(koff_B/kon_B + Ca_rest)^2", unit="1",
                       note="binding ratio of the buffer at rest"),
            Observable("Ca_total", "Ca + CaB", unit="mM", note="free + buffered Ca2+"),
        ]
        terms = ["J_Ca"]
    if extrusion:
        params.append(Parameter("tau_Ca", 14.0, "ms", reference=_SABATINI,
                                note="decay time constant of spine Ca2+ transients, 14 ms (range 12-20 ms)"))
        terms.append("(Ca - Ca_rest)/tau_Ca" if buffer == "kappa" else "(1 + kappa_B)*(Ca - Ca_rest)/tau_Ca")
        rate_rules.append(RateRule("Ca", terms[0] + " - " + terms[1]))
    else:
        rate_rules.append(RateRule("Ca", terms[0]))

    return Scheme(
        qualified_name("spine_calcium", f"nmda={nmda_influx}", f"vgcc={vgcc}", f"buffer={buffer}",
                       f"extrusion={extrusion}"),
        species=species, parameters=params, inputs=inputs, reactions=reactions, observables=observables,
        rate_rules=rate_rules, units=receptor.units if isinstance(receptor, Scheme) else UnitSystem(),
        description="spine-head Ca2+: influx, buffering, extrusion",
        reference="; ".join([_SABATINI, _GHK]),
    )

