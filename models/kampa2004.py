"""Kampa, Clements, Jonas & Stuart 2004: kinetic Mg2+ block and unblock of NMDA receptors.

Kampa BM, Clements J, Jonas P, Stuart GJ (2004) Kinetics of Mg2+ unblock of NMDA
receptors: implications for spike-timing dependent synaptic plasticity.
J Physiol 556:337-345. Fitted to NMDA receptor currents of nucleated patches from
rat neocortical layer-5 pyramidal neurons. The paper reports that unblock after a
depolarising step has a fast component (~100 us) and slower components (~4 ms and
~300 ms), and that Mg2+ binds closed as well as open receptors.

Scheme (ten states; Mg-free arm on top, Mg-bound arm below)::

    U  <-> Cl  <-> O          U   : unbound          Cl : glutamate bound, closed
           Cl  <-> D1 <-> D2  D1, D2 : desensitised   O  : open, conducting
    UMg <-> ClMg <-> OMg      ...Mg : the same states with Mg2+ in the pore
            ClMg <-> D1Mg <-> D2Mg
    X <-> XMg for X in U, Cl, D1, D2, O (Mg2+ binding/unbinding)

Rates (the numbers of the NEURON mechanism ``NMDA_Mg.mod`` published by the
authors with the paper, ModelDB entry 50207; the scheme here is written anew,
only the numbers are taken). The binding, gating, desensitisation and open-state
Mg2+ block rates and the voltage factors are those of ModelDB 50207; the
closed-state Mg2+ rates and the gating rates of the Mg2+-bound arm were read from
the copy of ``NMDA_Mg.mod`` distributed with ModelDB entry 135839, whose other
rates are identical:

* glutamate binding ``Rb*glu`` / unbinding ``Ru``; opening ``Ro`` / closing
  ``Rc``; desensitisation ``Rd1, Rr1, Rd2, Rr2``; the same steps with Mg2+ bound
  have their own rates (``RbMg, RuMg, RoMg, RcMg, Rd1Mg, ...``);
* Mg2+ binding to state X: ``RmXb * Mg * exp(-z delta (V - V_ref) / V_T)``,
  unbinding: ``RmXu * exp(z (1 - delta) (V - V_ref) / V_T)`` with ``z = 2``,
  ``delta = 0.8`` (fraction of the field at the Mg2+ site), ``V_T = 25 mV`` and
  rates given at ``V_ref = +40 mV``: the block rate scales as
  ``exp(-0.064 (V - 40))`` and unblock as ``exp(0.016 (V - 40))``.

``Popen`` is the open, Mg-free state ``O``; ``G_NMDA = g_NMDA O`` and
``I_NMDA = G_NMDA (V - E_NMDA)``. Inputs: ``glu`` (mM), ``V`` (mV), ``Mg`` (mM).
At a negative holding potential most receptors sit in ``UMg`` at rest: start
simulations from :func:`kinetics.steady_state` at the holding potential.

Detailed balance
----------------
The graph has four independent cycles (U-Cl-ClMg-UMg, Cl-O-OMg-ClMg,
Cl-D1-D1Mg-ClMg, D1-D2-D2Mg-D1Mg). The voltage factors cancel around each, but
the published numbers do not satisfy microscopic reversibility: the product of
the rate constants one way round each cycle over the product the other way is
1.477, 0.791, 0.961 and 1.406 for the four cycles in that order (see
``tests/test_models_receptors.py``). The rate set
``"detailed_balance"`` keeps every published rate except the four Mg2+ unbinding
rates from closed states (``Rmc1u, Rmc2u, Rmd1u, Rmd2u``, the least constrained
by the data: Mg2+ leaves closed receptors slowly) and computes those from the
cycle conditions. The published set is the default.

Examples
--------
>>> from models import kampa2004
>>> s = kampa2004.scheme()
>>> len(s.species_names)
10
>>> sorted(kampa2004.RATE_SETS)
['detailed_balance', 'modeldb50207']
"""
from __future__ import annotations

import math

from kinetics import Input, Observable, Parameter, Scheme, Species, reaction
from kinetics.errors import SchemeError, did_you_mean
from kinetics.scheme import qualified_name

__all__ = ["scheme", "RATE_SETS", "PUBLISHED_RATES", "balanced_rates", "rate_set_names", "STATES"]

KAMPA = "Kampa BM, Clements J, Jonas P, Stuart GJ (2004) J Physiol 556:337-345"
_MOD = KAMPA + "; number of the authors' NMDA_Mg.mod (ModelDB 50207)"
_MOD_COPY = (KAMPA + "; number of the Kampa NMDA_Mg.mod mechanism as redistributed in the ICGenealogy file "
             "135839_NMDA_Mg.mod (ModelDB 135839 is another model, Yu et al. 2008, that reuses it), whose listed "
             "rates agree with those of ModelDB 50207")
#: Rates read from that redistributed copy of the mechanism (closed-state Mg2+ rates, Mg2+-bound arm).
_FROM_COPY = ("Rmc1b", "Rmc1u", "Rmc2b", "Rmc2u", "Rmd1b", "Rmd1u", "Rmd2b", "Rmd2u",
              "RbMg", "RuMg", "RoMg", "RcMg", "Rd1Mg", "Rr1Mg", "Rd2Mg", "Rr2Mg")

#: The ten states, Mg-free arm first.
STATES = ("U", "Cl", "D1", "D2", "O", "UMg", "ClMg", "D1Mg", "D2Mg", "OMg")

#: name -> (value, unit, note) as in NMDA_Mg.mod (ModelDB 50207).
PUBLISHED_RATES = {
    "Rb": (10e-3, "1/(uM*ms)", "glutamate binding"),
    "Ru": (5.6e-3, "1/ms", "glutamate unbinding"),
    "Ro": (10e-3, "1/ms", "opening"),
    "Rc": (273e-3, "1/ms", "closing"),
    "Rd1": (2.2e-3, "1/ms", "fast desensitisation"),
    "Rr1": (1.6e-3, "1/ms", "recovery from fast desensitisation"),
    "Rd2": (0.43e-3, "1/ms", "slow desensitisation"),
    "Rr2": (0.5e-3, "1/ms", "recovery from slow desensitisation"),
    "Rmb": (0.05e-3, "1/(uM*ms)", "Mg2+ binding to the open state at +40 mV"),
    "Rmu": (12800e-3, "1/ms", "Mg2+ unbinding from the open state at +40 mV"),
    "Rmc1b": (0.00005e-3, "1/(uM*ms)", "Mg2+ binding to U at +40 mV"),
    "Rmc1u": (2.438312e-3, "1/ms", "Mg2+ unbinding from UMg at +40 mV"),
    "Rmc2b": (0.00005e-3, "1/(uM*ms)", "Mg2+ binding to Cl at +40 mV"),
    "Rmc2u": (5.041915e-3, "1/ms", "Mg2+ unbinding from ClMg at +40 mV"),
    "Rmd1b": (0.00005e-3, "1/(uM*ms)", "Mg2+ binding to D1 at +40 mV"),
    "Rmd1u": (2.98874e-3, "1/ms", "Mg2+ unbinding from D1Mg at +40 mV"),
    "Rmd2b": (0.00005e-3, "1/(uM*ms)", "Mg2+ binding to D2 at +40 mV"),
    "Rmd2u": (2.953408e-3, "1/ms", "Mg2+ unbinding from D2Mg at +40 mV"),
    "RbMg": (10e-3, "1/(uM*ms)", "glutamate binding, Mg2+ bound"),
    "RuMg": (17.1e-3, "1/ms", "glutamate unbinding, Mg2+ bound"),
    "RoMg": (10e-3, "1/ms", "opening, Mg2+ bound"),
    "RcMg": (548e-3, "1/ms", "closing, Mg2+ bound"),
    "Rd1Mg": (2.1e-3, "1/ms", "fast desensitisation, Mg2+ bound"),
    "Rr1Mg": (0.87e-3, "1/ms", "recovery from fast desensitisation, Mg2+ bound"),
    "Rd2Mg": (0.26e-3, "1/ms", "slow desensitisation, Mg2+ bound"),
    "Rr2Mg": (0.42e-3, "1/ms", "recovery from slow desensitisation, Mg2+ bound"),
}

_BALANCED = ("Rmc1u", "Rmc2u", "Rmd1u", "Rmd2u")


def balanced_rates(r: dict | None = None) -> dict:
    """Closed-state Mg2+ unbinding rates that make every cycle satisfy detailed balance.

    Given the other rate constants (default: the published ones, values only),
    returns ``{"Rmc2u", "Rmc1u", "Rmd1u", "Rmd2u"}`` (1/ms) from the cycle
    conditions (voltage factors cancel around each cycle)::

        Cl-O-OMg-ClMg    : Ro Rmb RcMg Rmc2u = Rmc2b RoMg Rmu Rc
        U-Cl-ClMg-UMg    : Rb Rmc2b RuMg Rmc1u = Rmc1b RbMg Rmc2u Ru
        Cl-D1-D1Mg-ClMg  : Rd1 Rmd1b Rr1Mg Rmc2u = Rmc2b Rd1Mg Rmd1u Rr1
        D1-D2-D2Mg-D1Mg  : Rd2 Rmd2b Rr2Mg Rmd1u = Rmd1b Rd2Mg Rmd2u Rr2

    Examples
    --------
    >>> round(balanced_rates()["Rmc2u"], 9)
    0.006376642
    """
    v = {k: val[0] for k, val in PUBLISHED_RATES.items()}
    v.update(r or {})
    out = {}
    # Cl-O-OMg-ClMg: Ro*Rmb*RcMg*Rmc2u = Rmc2b*RoMg*Rmu*Rc
    out["Rmc2u"] = v["Rmc2b"] * v["RoMg"] * v["Rmu"] * v["Rc"] / (v["Ro"] * v["Rmb"] * v["RcMg"])
    # U-Cl-ClMg-UMg: Rb*Rmc2b*RuMg*Rmc1u = Rmc1b*RbMg*Rmc2u*Ru
    out["Rmc1u"] = v["Rmc1b"] * v["RbMg"] * out["Rmc2u"] * v["Ru"] / (v["Rb"] * v["Rmc2b"] * v["RuMg"])
    # Cl-D1-D1Mg-ClMg: Rd1*Rmd1b*Rr1Mg*Rmc2u = Rmc2b*Rd1Mg*Rmd1u*Rr1
    out["Rmd1u"] = v["Rd1"] * v["Rmd1b"] * v["Rr1Mg"] * out["Rmc2u"] / (v["Rmc2b"] * v["Rd1Mg"] * v["Rr1"])
    # D1-D2-D2Mg-D1Mg: Rd2*Rmd2b*Rr2Mg*Rmd1u = Rmd1b*Rd2Mg*Rmd2u*Rr2
    out["Rmd2u"] = v["Rd2"] * v["Rmd2b"] * v["Rr2Mg"] * out["Rmd1u"] / (v["Rmd1b"] * v["Rd2Mg"] * v["Rr2"])
    return out


def _rate_set(name: str) -> dict:
    rates = {k: (v, u, note, _MOD_COPY if k in _FROM_COPY else _MOD) for k, (v, u, note) in PUBLISHED_RATES.items()}
    if name == "detailed_balance":
        for k, val in balanced_rates().items():
            _, u, note, _ = rates[k]
            rates[k] = (val, u, note + "; computed from detailed balance (see balanced_rates)",
                        _MOD_COPY + "; recomputed so that every cycle satisfies detailed balance")
    return rates


RATE_SETS = {
    "modeldb50207": "published rates of NMDA_Mg.mod, ModelDB 50207 (" + KAMPA + ")",
    "detailed_balance": "published rates with Rmc1u, Rmc2u, Rmd1u, Rmd2u recomputed from detailed balance",
}


def rate_set_names() -> tuple:
    return tuple(RATE_SETS)


def scheme(rate_set: str = "modeldb50207", *, g_nmda: float = 1.0, e_nmda: float = 5.0) -> Scheme:
    """The ten-state Kampa et al. (2004) NMDA receptor with kinetic Mg2+ block.

    Parameters
    ----------
    rate_set : {"modeldb50207", "detailed_balance"}
        The published rates, or those with four closed-state Mg2+ unbinding rates
        recomputed from detailed balance (module docstring).
    g_nmda : float
        Synaptic NMDA conductance with every receptor open (nS): a scale choice.
    e_nmda : float
        Reversal potential (mV); 5 mV as in the authors' NMDA_Mg.mod.

    Returns
    -------
    Scheme
        Species :data:`STATES` (start in ``U``), inputs ``glu, V, Mg``,
        observables ``Popen, open_total, Mg_bound_fraction, G_NMDA, I_NMDA``.

    Examples
    --------
    >>> scheme().get_parameter("Rmu").value
    12.8
    """
    if rate_set not in RATE_SETS:
        raise SchemeError(f"unknown rate set `{rate_set}`" + did_you_mean(rate_set, RATE_SETS)
                          + f"; choose one of {list(RATE_SETS)}")
    rates = _rate_set(rate_set)
    params = [Parameter(k, v, u, reference=src, note=note) for k, (v, u, note, src) in rates.items()]
    params += [
        Parameter("mg_z", 2.0, "1", reference=_MOD, note="valence of Mg2+ (the mod file writes -2 with the sign in the exponent)"),
        Parameter("mg_field", 0.8, "1", reference=_MOD, note="fraction of the membrane field at the Mg2+ site (memb_fraction)"),
        Parameter("mg_VT", 25.0, "mV", reference=_MOD, note="voltage scale of the exponent as written in the mod file"),
        Parameter("mg_Vref", 40.0, "mV", bounds=(-math.inf, math.inf), reference=_MOD,
                  note="potential at which the Mg2+ rates are given"),
        Parameter("g_NMDA", g_nmda, "nS", note="maximal synaptic NMDA conductance: a scale choice, not a published value"),
        Parameter("E_NMDA", e_nmda, "mV", bounds=(-math.inf, math.inf), reference=_MOD,
                  note="reversal potential of the NMDA current (Erev of the mod file)"),
    ]
    block = "Mg*exp(-mg_z*mg_field*(V - mg_Vref)/mg_VT)"
    unblock = "exp(mg_z*(1 - mg_field)*(V - mg_Vref)/mg_VT)"
    reactions = [
        reaction("U <-> Cl", "Rb*glu", "Ru", name="bind"),
        reaction("Cl <-> O", "Ro", "Rc", name="gate"),
        reaction("Cl <-> D1", "Rd1", "Rr1", name="desensitise1"),
        reaction("D1 <-> D2", "Rd2", "Rr2", name="desensitise2"),
        reaction("UMg <-> ClMg", "RbMg*glu", "RuMg", name="bind_Mg"),
        reaction("ClMg <-> OMg", "RoMg", "RcMg", name="gate_Mg"),
        reaction("ClMg <-> D1Mg", "Rd1Mg", "Rr1Mg", name="desensitise1_Mg"),
        reaction("D1Mg <-> D2Mg", "Rd2Mg", "Rr2Mg", name="desensitise2_Mg"),
        reaction("O <-> OMg", f"Rmb*{block}", f"Rmu*{unblock}", name="block_open"),
        reaction("U <-> UMg", f"Rmc1b*{block}", f"Rmc1u*{unblock}", name="block_U"),
        reaction("Cl <-> ClMg", f"Rmc2b*{block}", f"Rmc2u*{unblock}", name="block_Cl"),
        reaction("D1 <-> D1Mg", f"Rmd1b*{block}", f"Rmd1u*{unblock}", name="block_D1"),
        reaction("D2 <-> D2Mg", f"Rmd2b*{block}", f"Rmd2u*{unblock}", name="block_D2"),
    ]
    return Scheme(
        qualified_name("kampa2004", rate_set),
        species=[Species(n, 1.0 if n == "U" else 0.0, unit="1") for n in STATES],
        parameters=params,
        inputs=[Input("glu", 0.0, "mM", note="cleft glutamate"),
                Input("V", -65.0, "mV", note="membrane potential"),
                Input("Mg", 1.0, "mM", note="extracellular Mg2+")],
        reactions=reactions,
        observables=[
            Observable("Popen", "O", unit="1", note="open and Mg2+-free (conducting)"),
            Observable("open_total", "O + OMg", unit="1", note="open, with or without Mg2+"),
            Observable("Mg_bound_fraction", "UMg + ClMg + D1Mg + D2Mg + OMg", unit="1"),
            Observable("G_NMDA", "g_NMDA*O", unit="nS", note="conducting NMDA conductance"),
            Observable("I_NMDA", "G_NMDA*(V - E_NMDA)", unit="pA", note="NMDA current (inward < 0)"),
        ],
        description="NMDA receptor with kinetic Mg2+ block of open and closed states",
        reference=KAMPA,
    )
