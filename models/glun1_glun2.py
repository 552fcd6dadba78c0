"""An NMDA receptor with two glutamate (GluN2) and two glycine (GluN1) sites, and three drugs.

The receptor is a GluN1/GluN2 tetramer: glutamate binds the two GluN2 subunits,
glycine (or D-serine) the two GluN1 subunits, and the channel opens only when all
four sites are occupied by agonist. Drugs act where they bind:

* **AP5** (D-AP5) competes with glutamate at the GluN2 sites;
* **7-CK** (7-chlorokynurenic acid, input ``CK7``) competes with glycine at the
  GluN1 sites (Kemp et al. 1988 PNAS 85:6547 identified it as a selective
  glycine-site antagonist);
* **MK-801** (dizocilpine) binds only the *open* channel and is trapped when the
  channel closes: blocked receptors keep binding and unbinding agonists and
  gating as unblocked ones do, but carry no current; MK-801 leaves only from the
  open-blocked state (Huettner & Bean 1988 PNAS 85:1307: binding and unbinding
  need the transmitter-activated channel).

States
------
``R{g}{a}_{y}{k}``: closed receptor with ``g`` glutamate and ``a`` AP5 molecules
on the two GluN2 sites and ``y`` glycine and ``k`` 7-CK molecules on the two
GluN1 sites (``g + a <= 2``, ``y + k <= 2``). ``O`` (open) and ``D``
(desensitised) are reached from ``R20_20`` only. With MK-801, ``B{g}{a}_{y}{k}``,
``OB`` and ``DB`` are the same states with MK-801 trapped in the pore; ``O <-> OB``
is the only way in or out. Drugs left out of ``drugs=`` are left out of the
scheme (fewer states).

Rate laws (mass action, statistical factors written explicitly; per-site rate
constants ``kon``, ``koff``): a pair of identical sites with ``f`` free sites binds
ligand ``L`` at ``f * kon * L`` and a pair holding ``n`` molecules of ``L`` loses
one at ``n * koff``::

    R00_yk <-> R10_yk : 2 Rb glu,  Ru          R00_yk <-> R01_yk : 2 kon_AP5 AP5, koff_AP5
    R10_yk <-> R20_yk :   Rb glu, 2 Ru         ...
    Rga_00 <-> Rga_10 : 2 kon_gly gly, koff_gly ...
    R20_20 <-> O : Ro, Rc        R20_20 <-> D : Rd, Rr
    O <-> OB : koff_MK801(0) / Kd_MK801 * MK801,  koff_MK801(V)

The sites are independent (no cooperativity between glutamate and glycine
binding) and the blocked arm mirrors the unblocked one, so every cycle satisfies
detailed balance by construction, and the glutamate-site occupancy is exactly
unchanged by MK-801 (the lumped chain is the drug-free chain).

Parameters
----------
Glutamate binding and gating: one of the Destexhe et al. rate sets
(:data:`models.destexhe1994.RATE_SETS`), read as per-site rate constants.
Glycine association: Parsons, Zong & Lux (1993) Br J Pharmacol
(doi:10.1111/j.1476-5381.1993.tb13556.x) report the glycine association rate
9.5e6 /M/s. Glycine dissociation: from the deactivation time constant after
glycine removal, 0.820 s for GluN1/2B receptors (PMC5508192, Mol Pharmacol 2017,
Table 2), assuming deactivation is limited by the loss of either of two glycines
from the closed fully liganded receptor, which equilibrates quickly with ``O``
and ``D``: ``koff_gly = (1 + Ro/Rc + Rd/Rr) / (2 tau)`` (:func:`glycine_koff`).
MK-801 unblock: Huettner & Bean (1988) report recovery from block during
continuous agonist with tau ~90 min at -70 to -80 mV and ~2 min at +30 mV; with
trapping, recovery proceeds from the open-blocked state only, so
``koff_MK801(V) = (Ro + Rc) / (Ro tau(V))`` with ``tau(V)`` exponential in V
through those two points. MK-801 binding: at equilibrium this trapping scheme
blocks a fraction ``MK801/(MK801 + koff/kon)`` whatever the agonists, so the
on-rate is ``koff(0 mV) / Kd`` with the [3H]MK-801 Kd of 6.2 nM measured in
rat cortical membranes with glutamate and glycine. The on- and off-rates of AP5
and 7-CK could not be sourced (see each parameter's note).

Observables: ``Popen`` (= ``O``), ``glu_bound_fraction`` (both GluN2 sites hold
glutamate, in any gating or block state — the signalling readout of a
non-ionotropic pathway), ``gly_bound_fraction`` (both GluN1 sites hold glycine),
``blocked_fraction`` (MK-801 trapped). Use :func:`models.mg_block.with_nmda_current`
for the current (only ``O`` conducts).

Examples
--------
>>> from models import glun1_glun2
>>> s = glun1_glun2.scheme(drugs=())
>>> len(s.species_names)     # 3 x 3 closed states + O + D
11
>>> s.input_names
('glu', 'gly', 'V')
"""
from __future__ import annotations

import itertools
import math

from kinetics import Input, Observable, Parameter, Scheme, Species, reaction
from kinetics.errors import SchemeError, did_you_mean
from kinetics.scheme import qualified_name

from . import destexhe1994

__all__ = ["scheme", "DRUGS", "state_name", "closed_states", "glycine_koff"]

#: Drugs the scheme can include, with the input that carries each concentration.
DRUGS = ("AP5", "CK7", "MK801")

_PARSONS = "Parsons CG, Zong X, Lux HD (1993) Br J Pharmacol, doi:10.1111/j.1476-5381.1993.tb13556.x (abstract)"
_AICP = "PMC5508192 (Mol Pharmacol 2017, glycine-site agonist AICP), Table 2: GluN1/2B glycine deactivation tau"
_HUETTNER = "Huettner JE, Bean BP (1988) Proc Natl Acad Sci USA 85:1307-1311 (abstract)"
_KEMP = "Kemp JA et al. (1988) Proc Natl Acad Sci USA 85:6547-6550"
_MK801_BINDING = ("[3H]MK-801 saturation binding in extensively washed rat cortical membranes, abstract at "
                  "https://www.scilit.net/publications/9e4879ca142640404df23e83c60be21b (bibliographic details "
                  "not shown in the retrieved record)")
_OSHEA = "O'Shea RD, Manallack DT, Conway EL, Mercer LD, Beart PM (1991) Exp Brain Res (abstract)"

#: Glycine deactivation time constant (s) used to set koff_gly.
GLY_DEACTIVATION_TAU_S = 0.820
#: Glycine association rate constant (1/(uM*s)): 9.5e6 /M/s.
GLY_KON = 9.5


def state_name(arm: str, g: int, a: int, y: int, k: int) -> str:
    """Name of a closed state: ``R20_20`` (arm ``R``) or ``B20_20`` (MK-801 trapped)."""
    return f"{arm}{g}{a}_{y}{k}"


def closed_states(drugs=DRUGS) -> list:
    """``(g, a, y, k)`` tuples of the closed states present for the given drugs."""
    ants_a = (0, 1, 2) if "AP5" in drugs else (0,)
    ants_k = (0, 1, 2) if "CK7" in drugs else (0,)
    glu = [(g, a) for g in (0, 1, 2) for a in ants_a if g + a <= 2]
    gly = [(y, k) for y in (0, 1, 2) for k in ants_k if y + k <= 2]
    return [(g, a, y, k) for (g, a), (y, k) in itertools.product(glu, gly)]


def glycine_koff(ro_per_s: float, rc_per_s: float, rd_per_s: float, rr_per_s: float,
                 tau_s: float = GLY_DEACTIVATION_TAU_S) -> float:
    """Glycine dissociation rate (1/s) giving the deactivation time constant ``tau_s``.

    Glycine leaves only the closed fully liganded receptor ``R20_20`` (either of
    its two glycines), which holds a fraction ``1/(1 + Ro/Rc + Rd/Rr)`` of the
    fully liganded receptors (``O`` and ``D`` equilibrate with it quickly), so
    ``1/tau = 2 koff / (1 + Ro/Rc + Rd/Rr)``.

    Examples
    --------
    >>> round(glycine_koff(46.5, 73.8, 8.4, 6.8), 4)
    1.7472
    """
    return (1.0 + ro_per_s / rc_per_s + rd_per_s / rr_per_s) / (2.0 * tau_s)


def _factor(n: int) -> str:
    return "" if n == 1 else f"{n}*"


def _pair_steps(n_lig: int, n_other: int, kon: str, koff: str, conc: str):
    """Rate constants (forward, reverse) of one more ligand binding at a pair of identical sites, or None if full."""
    free = 2 - n_lig - n_other
    if free <= 0:
        return None
    return f"{_factor(free)}{kon}*{conc}", f"{_factor(n_lig + 1)}{koff}"


def scheme(rate_set: str = "destexhe1994", *, drugs=DRUGS, gly_default: float = 0.01) -> Scheme:
    """The GluN1/GluN2 receptor scheme with explicit glutamate, glycine and drug binding.

    Parameters
    ----------
    rate_set : str
        Destexhe et al. rate set for glutamate binding, gating and desensitisation
        (``models.destexhe1994.rate_set_names()``).
    drugs : iterable of {"AP5", "CK7", "MK801"}
        Drugs to include (each adds an input of the same name, in mM, and its
        states). Default: all three.
    gly_default : float
        Default of the ``gly`` input (mM). 0.01 mM (10 uM) is a choice: ~50x the
        glycine Kd implied by the rates (0.18 uM with the default rate set), so
        both GluN1 sites are ~96 % occupied — close to the saturating-glycine
        condition of the Destexhe scheme.

    Returns
    -------
    Scheme
        Starts at equilibrium with ``gly_default`` glycine and no glutamate or drug.

    Raises
    ------
    SchemeError
        Unknown drug or rate set.

    Examples
    --------
    >>> s = scheme(drugs=("MK801",))
    >>> "OB" in s.species_names and "MK801" in s.input_names
    True
    """
    drugs = tuple(drugs)
    for d in drugs:
        if d not in DRUGS:
            raise SchemeError(f"unknown drug `{d}`" + did_you_mean(d, DRUGS) + f"; choose from {list(DRUGS)}")
    if len(set(drugs)) != len(drugs):
        raise SchemeError(f"`drugs` lists a drug twice: {list(drugs)}")
    gating = destexhe1994.rates(rate_set)
    values = {p.name: p.value for p in gating}
    koff_gly = glycine_koff(values["Ro"], values["Rc"], values["Rd"], values["Rr"])
    src = destexhe1994.RATE_SETS[rate_set][1]

    params = list(gating) + [
        Parameter("kon_gly", GLY_KON, "1/(uM*s)", reference=_PARSONS,
                  note="glycine association rate per site (9.5e6 /M/s: slope of the desensitisation rate vs glycine)"),
        Parameter("koff_gly", koff_gly, "1/s", reference=_AICP + "; gating rates: " + src,
                  note=f"glycine dissociation per site = (1 + Ro/Rc + Rd/Rr)/(2 tau) with tau = "
                       f"{GLY_DEACTIVATION_TAU_S} s (deactivation after glycine removal, GluN1/2B); see glycine_koff. "
                       f"The implied Kd ({koff_gly / GLY_KON:.3g} uM with this rate set) is close to the [3H]glycine "
                       f"Kd of 0.13 uM in cortical membranes ({_OSHEA})"),
    ]
    inputs = [Input("glu", 0.0, "mM", note="glutamate at the receptor"),
              Input("gly", gly_default, "mM", note="glycine (or D-serine) at the receptor; default a choice, see builder")]
    if "AP5" in drugs:
        params += [
            Parameter("kon_AP5", 10.0, "1/(uM*s)",
                      note="NOT SOURCED: no D-AP5 on-rate could be retrieved; 1e7 /M/s chosen (order of the glutamate "
                           "on-rate Rb), with koff_AP5 giving Kd = 1 uM"),
            Parameter("koff_AP5", 10.0, "1/s",
                      note="NOT SOURCED: chosen with kon_AP5 for Kd = 1 uM, so that a 50 uM bath application leaves "
                           "< 2 % of GluN2 sites free (AP5 abolished both tLTD and tLTP in Thomazeau et al. 2025)"),
        ]
        inputs.append(Input("AP5", 0.0, "mM", note="D-AP5, competitive at the GluN2 (glutamate) sites"))
    if "CK7" in drugs:
        params += [
            Parameter("kon_CK7", 10.0, "1/(uM*s)", reference=_KEMP + " (site of action only)",
                      note="NOT SOURCED: no 7-CK on-rate could be retrieved; 1e7 /M/s chosen, with koff_CK7 "
                           "giving Kd = 1 uM"),
            Parameter("koff_CK7", 10.0, "1/s", reference=_KEMP + " (site of action only)",
                      note="NOT SOURCED: chosen with kon_CK7 for Kd = 1 uM (micromolar glycine-site antagonist)"),
        ]
        inputs.append(Input("CK7", 0.0, "mM", note="7-chlorokynurenic acid, competitive at the GluN1 (glycine) sites"))
    if "MK801" in drugs:
        params += [
            Parameter("Kd_MK801", 6.2, "nM", reference=_MK801_BINDING,
                      note="[3H]MK-801 Kd with maximally effective L-glutamate + glycine. In this trapping scheme the "
                           "equilibrium blocked fraction is MK801/(MK801 + koff/kon) whatever the agonists (they "
                           "only set how fast it is reached), so kon = koff(0 mV)/Kd_MK801 (membranes have no "
                           "potential). The agonist dependence of the Kd in the same source (45 nM without "
                           "agonists) is therefore not reproduced at equilibrium."),
            Parameter("tau_MK801_neg", 90.0, "min", reference=_HUETTNER,
                      note="recovery from MK-801 block during continuous agonist at -70 to -80 mV"),
            Parameter("V_MK801_neg", -75.0, "mV", bounds=(-math.inf, math.inf), reference=_HUETTNER,
                      note="midpoint of the -70 to -80 mV range of that measurement"),
            Parameter("tau_MK801_pos", 2.0, "min", reference=_HUETTNER,
                      note="recovery from MK-801 block during continuous agonist at +30 mV"),
            Parameter("V_MK801_pos", 30.0, "mV", bounds=(-math.inf, math.inf), reference=_HUETTNER,
                      note="potential of that measurement"),
        ]
        inputs.append(Input("MK801", 0.0, "mM", note="MK-801 (dizocilpine), open-channel blocker, trapped on closure"))
    inputs.append(Input("V", -65.0, "mV", note="membrane potential (voltage dependence of MK-801 unblock)"))

    states = closed_states(drugs)
    arms = ("R", "B") if "MK801" in drugs else ("R",)
    reactions = []
    for arm in arms:
        for g, a, y, k in states:
            here = state_name(arm, g, a, y, k)
            steps = [((g + 1, a, y, k), _pair_steps(g, a, "Rb", "Ru", "glu"), "glu"),
                     ((g, a, y + 1, k), _pair_steps(y, k, "kon_gly", "koff_gly", "gly"), "gly")]
            if "AP5" in drugs:
                steps.append(((g, a + 1, y, k), _pair_steps(a, g, "kon_AP5", "koff_AP5", "AP5"), "AP5"))
            if "CK7" in drugs:
                steps.append(((g, a, y, k + 1), _pair_steps(k, y, "kon_CK7", "koff_CK7", "CK7"), "CK7"))
            for target, rates, lig in steps:
                if rates is None:
                    continue
                there = state_name(arm, *target)
                reactions.append(reaction(f"{here} <-> {there}", rates[0], rates[1], name=f"{here}_{lig}"))
        full = state_name(arm, 2, 0, 2, 0)
        o, d = ("O", "D") if arm == "R" else ("OB", "DB")
        reactions.append(reaction(f"{full} <-> {o}", "Ro", "Rc", name=f"gate_{arm}"))
        reactions.append(reaction(f"{full} <-> {d}", "Rd", "Rr", name=f"desensitise_{arm}"))
    if "MK801" in drugs:
        def koff(v):
            return (f"(Ro + Rc)/(Ro*tau_MK801_neg*exp(log(tau_MK801_pos/tau_MK801_neg)*({v} - V_MK801_neg)"
                    f"/(V_MK801_pos - V_MK801_neg)))")
        reactions.append(reaction("O <-> OB", f"{koff(0)}/Kd_MK801*MK801", koff("V"), name="MK801_block"))

    # initial state: equilibrium with the default glycine, no glutamate, no drug
    kd_gly_mM = koff_gly / GLY_KON * 1e-3          # (1/s)/(1/(uM s)) = uM -> mM
    p = gly_default / (gly_default + kd_gly_mM)
    init = {state_name("R", 0, 0, y, 0): math.comb(2, y) * p ** y * (1 - p) ** (2 - y) for y in (0, 1, 2)}
    species = []
    for arm in arms:
        for g, a, y, k in states:
            n = state_name(arm, g, a, y, k)
            species.append(Species(n, init.get(n, 0.0), unit="1"))
        species += ([Species("O", 0.0, unit="1", note="open"), Species("D", 0.0, unit="1", note="desensitised")]
                    if arm == "R" else
                    [Species("OB", 0.0, unit="1", note="open, MK-801 bound"),
                     Species("DB", 0.0, unit="1", note="desensitised, MK-801 trapped")])

    def total(names):
        return " + ".join(names) if names else "0"

    glu2 = [state_name(arm, 2, 0, y, k) for arm in arms for g, a, y, k in states if g == 2]
    glu2 += ["O", "D"] + (["OB", "DB"] if "MK801" in drugs else [])
    gly2 = [state_name(arm, g, a, y, k) for arm in arms for g, a, y, k in states if y == 2]
    gly2 += ["O", "D"] + (["OB", "DB"] if "MK801" in drugs else [])
    observables = [
        Observable("Popen", "O", unit="1", note="open probability (the only conducting state)"),
        Observable("glu_bound_fraction", total(glu2), unit="1",
                   note="both GluN2 sites hold glutamate (any gating or block state)"),
        Observable("gly_bound_fraction", total(gly2), unit="1", note="both GluN1 sites hold glycine"),
    ]
    if "MK801" in drugs:
        blocked = [state_name("B", *s) for s in states] + ["OB", "DB"]
        observables.append(Observable("blocked_fraction", total(blocked), unit="1", note="MK-801 bound or trapped"))
    return Scheme(
        qualified_name("glun1_glun2", rate_set, *drugs),
        species=species, parameters=params, inputs=inputs, reactions=reactions, observables=observables,
        description="NMDA receptor with two glutamate and two glycine sites; AP5 and 7-CK competitive, "
                    "MK-801 open-channel trapping block",
        reference="glutamate binding and gating: " + src,
    )
