"""Presynaptic, non-ionotropic tLTD at neocortical L5 pyramidal-pyramidal synapses, step by step.

Thomazeau et al. (2025, eLife 14:RP106284) showed that timing-dependent LTD
(post-before-pre pairing) at L5 PC -> PC synapses needs *presynaptic* NMDA
receptors signalling without ion flow, through JNK2 and its partner
Syntaxin-1a (STX1a), and that it is expressed as a lasting drop of release
probability. This module writes that pathway as kinetic schemes, one per step,
that compose (through shared names) with the Tsodyks-Markram release model of
:mod:`models.tsodyks_markram` into :func:`presynaptic`.

Steps (each a builder returning a :class:`kinetics.Scheme`)
-----------------------------------------------------------
1. :func:`prenmdar` — glutamate released by the presynaptic spike (input
   ``glu_pre``, 1 mM x 1 ms per spike) binds the two GluN2 sites of presynaptic
   NMDA receptors (autoreceptors); D-AP5 competes for the same sites. States
   ``pR{g}{a}`` (uncoupled) and ``pK{g}{a}`` (coupled, below) hold ``g``
   glutamate and ``a`` AP5 molecules (``g + a <= 2``); per-site rate constants
   with explicit statistical factors, as in :mod:`models.glun1_glun2`::

       pR00 <-> pR10 <-> pR20       (2*Rb*glu, Ru ; Rb*glu, 2*Ru)
       pR00 <-> pR01 <-> pR02       (2*kon_AP5*AP5, koff_AP5 ; ...), mixed pR11
       pK..                         the same, for coupled receptors
       pR0a <-> pK0a                (k_couple*CB1a, k_uncouple)     glutamate-free receptors

   A receptor with both glutamate sites occupied is in the *signalling
   conformation* whether or not its channel opens (Dore et al. 2015: agonist
   binding alone moves the cytoplasmic domain, with no ion flow). The pore
   blocker MK-801 and the glycine-site antagonist 7-CK therefore do not enter
   this branch; AP5 and deletion of GluN1 (``pre_NMDAR_density = 0``) remove it.
   The rate constants (``Rb, Ru``, AP5) are those of the postsynaptic receptor
   model :mod:`models.glun1_glun2` — the presynaptic receptors' own kinetics are
   not measured — and share its parameter names, so one receptor type has one
   set of constants in the composed synapse.

   *Coincidence* (the eCB/CB1 step below) acts here: while presynaptic CB1
   receptors are active, glutamate-free receptors become coupled (``pK0a``) to
   the JNK2 signalling machinery, and a receptor keeps the coupling it had when
   glutamate bound until glutamate leaves. Glutamate arriving *after* the
   retrograde eCB signal (post-before-pre) therefore makes coupled signalling
   receptors ``pK20``; glutamate arriving *before* it (pre-before-post) has
   already bound uncoupled receptors, which stay uncoupled for the ~100 ms that
   glutamate stays bound. This ordered binding is a modelling choice, not a
   published mechanism: the literature establishes that tLTD needs coincident
   presynaptic NMDAR and CB1 activation (Sjostrom, Turrigiano & Nelson 2003) and
   is timing dependent, but not how the two signals meet.

2. :func:`ecb_cb1` — each postsynaptic spike releases endocannabinoid (a jump of
   one unit into ``eCB_post`` at each postsynaptic spike time), which reaches the
   presynaptic terminal after a short transit (``eCB_post -> eCB``), activates
   CB1 receptors (``CB1 <-> CB1a``) and is cleared.

3. :func:`jnk2_stx1a` — coupled signalling receptors activate JNK2
   (``J -> Ja`` at ``k_Jact * pre_NMDAR_density * pK20``; inactivation by
   phosphatases ``Ja -> J``). SP600125, an ATP-competitive JNK inhibitor, binds
   JNK2 in either activation state (``J <-> J_SP``, ``Ja <-> Ja_SP``); the bound
   kinase cannot act. Active, uninhibited JNK2 binds STX1a (``Ja + STX <-> JaSTX``);
   the JNK2-STX1a blocking peptide loaded into the presynaptic cell (input
   ``peptide_pre``) occupies the interaction site (``STX <-> STX_pep``). The
   JNK2-STX1a complex lowers the release probability lastingly::

       Pr ->   ;  k_ltd * JaSTX          (no recovery: long-term depression)

4. :func:`rim_replenishment` — the separate, Mg2+-sensitive *ionotropic*
   preNMDAR effect of Abrahamsson et al. (2017): current through presynaptic
   NMDARs (glutamate *and* glycine bound, pore not blocked by MK-801, Mg2+ block
   of Jahr & Stevens at the terminal potential ``V_pre``) activates a
   RIM1alpha/beta-dependent process that speeds up vesicle replenishment
   (the Tsodyks-Markram recovery ``z -> x``) during high-frequency firing.
   ``RIM1ab = 0`` (the deletion) removes it. It does not touch ``Pr``, so tLTD
   does not depend on it (Thomazeau et al. 2025: RIM1alpha/beta deletion left
   tLTD intact).

:func:`presynaptic` composes the Tsodyks-Markram scheme with the four steps.
Its outputs are the release probability ``Pr`` (the lasting change is
``Pr(after)/Pr(before)``), the Tsodyks-Markram resources and ``EPSC``.

Drugs and manipulations are inputs and parameters of these schemes
(``AP5``, ``CK7``, ``MK801``, ``SP600125``, ``peptide_pre``, ``Mg``,
``pre_NMDAR_density``, ``RIM1ab``); :mod:`models.manipulations` applies them.

Parameter sources
-----------------
Binding of glutamate, glycine and the drugs uses the constants of
:mod:`models.glun1_glun2` (Destexhe et al. 1994 glutamate rates and that module's
glycine, AP5, 7-CK and MK-801 constants, with their sources and notes): the
presynaptic receptors' own kinetics are not measured. The rates of the
signalling steps (coupling, eCB transit and clearance, CB1, JNK2, STX1a,
peptide) are not measured either: each note says how its value was chosen. The
one fitted number is ``k_ltd``, the gain of the final step, set so that the
control protocol (post-before-pre, -25 ms, 20 Hz, 5 pairs x 15 every 10 s)
lowers ``Pr`` to 65 % of baseline, the mean L5 PC -> PC tLTD of Brock et al.
(2020, Front Synaptic Neurosci, Fig. 3A: 65 +- 5 %, n = 9, 20 Hz, -25 ms).

Examples
--------
>>> from models import presynaptic_tltd as pt
>>> s = pt.presynaptic()
>>> {"Pr", "pK20", "Ja", "JaSTX", "CB1a"} <= set(s.species_names)
True
>>> res = pt.run_pairing(s, dt_ms=-25.0, freq_hz=20.0)     # doctest: +SKIP
>>> round(res.change, 2)                                    # doctest: +SKIP
0.65
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import sympy

from kinetics import Input, Observable, Parameter, Protocol, Scheme, Species, compose, jumps, pulses, reaction
from kinetics.errors import ArgumentError

from . import mg_block
from . import tsodyks_markram as tm

__all__ = [
    "prenmdar", "ecb_cb1", "jnk2_stx1a", "rim_replenishment", "presynaptic",
    "pairing_protocol", "run_pairing", "PairingResult", "DRUG_INPUTS",
    "THOMAZEAU", "DORE", "SJOSTROM2003", "ABRAHAMSSON", "BROCK2020", "LTD_TARGET",
]

THOMAZEAU = ("Thomazeau A, Rannio S, Brock JA, Wong HH, Sjostrom PJ (2025) eLife 14:RP106284, "
             "Neocortical layer-5 tLTD relies on non-ionotropic presynaptic NMDA receptor signaling")
DORE = "Dore K, Aow J, Malinow R (2015) PNAS 112:14705-14710"
SJOSTROM2003 = "Sjostrom PJ, Turrigiano GG, Nelson SB (2003) Neuron 39:641-654"
ABRAHAMSSON = "Abrahamsson T et al. (2017) Neuron 96:839-855"
BROCK2020 = ("Brock JA et al. (2020) Front Synaptic Neurosci 12:11, doi:10.3389/fnsyn.2020.00011, "
             "Fig. 3A: L5 PC->PC LTD at 20 Hz, dt = -25 ms, 65 +- 5 % (n = 9)")
BENDER2006 = "Bender VA, Bender KJ, Brasier DJ, Feldman DE (2006) J Neurosci 26:4166-4177"
JAHR_STEVENS = mg_block.JAHR_STEVENS
BENNETT2001 = "Bennett BL et al. (2001) PNAS 98:13681-13686 (SP600125)"

#: Mean L5 PC -> PC tLTD at 20 Hz, -25 ms (Brock et al. 2020, Fig. 3A): the target of ``k_ltd``.
LTD_TARGET = 0.65

#: Bath drugs and pipette loads: input name -> what it is.
DRUG_INPUTS = {
    "AP5": "D-AP5, competitive antagonist at the GluN2 glutamate site (mM)",
    "CK7": "7-chlorokynurenic acid, antagonist at the GluN1 glycine site (mM)",
    "MK801": "MK-801, open-channel (trapping) pore blocker (mM)",
    "SP600125": "SP600125, ATP-competitive JNK inhibitor (mM)",
    "peptide_pre": "JNK2-STX1a blocking peptide loaded into the presynaptic cell (mM)",
}


# --------------------------------------------------------------------------- shared declarations
# Components used by more than one step are declared identically in each step,
# so that kinetics.compose merges them into one.

def _density() -> Parameter:
    return Parameter("pre_NMDAR_density", 1.0, "1", bounds=(0.0, 1.0),
                     note="presynaptic NMDA receptors relative to wild type: 1 = intact, 0 = presynaptic GluN1 "
                          "deletion (Thomazeau et al. 2025 deleted GluN1 in the presynaptic cell)")


def _pk2() -> Species:
    return Species("pK20", 0.0, unit="1", note="CB1-coupled presynaptic NMDARs with both glutamate sites occupied: "
                                                "the signalling receptors that activate JNK2")


def _pr2() -> Species:
    return Species("pR20", 0.0, unit="1",
                   note="two glutamates, uncoupled (signalling conformation without JNK2 coupling)")


@functools.lru_cache(maxsize=1)
def _receptor() -> Scheme:
    from . import glun1_glun2

    return glun1_glun2.scheme()


def _receptor_parameters(*names) -> list:
    """Parameters of the postsynaptic receptor model, shared by name (same receptor, same constants)."""
    rec = _receptor()
    return [rec.get_parameter(n) for n in names]


def _receptor_input(name) -> Input:
    return _receptor().get_input(name)


def _mk801_block_rates():
    """The open-channel MK-801 block of :mod:`models.glun1_glun2` (forward, reverse, parameters), at ``V_pre``.

    Taken from that scheme's ``MK801_block`` reaction (``O <-> OB``), so the
    presynaptic pore uses the same, sourced, rate constants whatever their names.
    """
    rec = _receptor()
    rx = next(r for r in rec.reactions if r.name == "MK801_block")
    on = rx.forward.xreplace({sympy.Symbol("V"): sympy.Symbol("V_pre")})
    off = rx.reverse.xreplace({sympy.Symbol("V"): sympy.Symbol("V_pre")})
    names = sorted({sym.name for e in (on, off) for sym in e.free_symbols} & set(rec.parameter_names))
    return on, off, [rec.get_parameter(n) for n in names]


#: glutamate-site occupancies (g glutamate, a AP5) of a GluN2 pair
_SITES = [(g, a) for g in (0, 1, 2) for a in (0, 1, 2) if g + a <= 2]


def _cb1a() -> Species:
    return Species("CB1a", 0.0, unit="1", note="active fraction of presynaptic CB1 receptors")


def _pr(U: float) -> Species:
    return tm.scheme(U=U).get_species("Pr")


def _glu_input() -> Input:
    return Input("glu_pre", 0.0, "mM", note="cleft glutamate seen by presynaptic autoreceptors (1 mM x 1 ms per "
                                             "presynaptic spike)")


def _drug(name: str) -> Input:
    return Input(name, 0.0, "mM", note=DRUG_INPUTS[name])


# --------------------------------------------------------------------------- step 1: preNMDAR binding


def prenmdar() -> Scheme:
    """Step 1: glutamate and AP5 binding to presynaptic NMDA receptors, with CB1-gated coupling.

    Species are fractions of the presynaptic receptor pool (they sum to 1);
    ``pre_NMDAR_density`` scales every downstream effect of the pool.
    Observable ``pre_signalling`` = ``pR20 + pK20``: receptors in the
    glutamate-bound signalling conformation (Dore et al. 2015).

    Examples
    --------
    >>> s = prenmdar()
    >>> s.species_names[:6]
    ('pR00', 'pR01', 'pR02', 'pR10', 'pR11', 'pR20')
    >>> s.get_parameter("Rb").unit
    '1/(uM*s)'
    """
    species, reactions = [], []
    for arm, coupled in (("pR", False), ("pK", True)):
        for g, a in _SITES:
            name = f"{arm}{g}{a}"
            if (g, a) == (2, 0):
                species.append(_pk2() if coupled else _pr2())
                continue
            what = f"{g} glutamate, {a} AP5" + (", coupled to JNK2 signalling" if coupled else ", uncoupled")
            species.append(Species(name, 1.0 if name == "pR00" else 0.0, unit="1", note=what))
            free = 2 - g - a
            if free:
                f = "" if free == 1 else f"{free}*"
                reactions.append(reaction(f"{name} <-> {arm}{g + 1}{a}", f"{f}Rb*glu_pre",
                                          ("" if g == 0 else f"{g + 1}*") + "Ru", name=f"{name}_glu"))
                reactions.append(reaction(f"{name} <-> {arm}{g}{a + 1}", f"{f}kon_AP5*AP5",
                                          ("" if a == 0 else f"{a + 1}*") + "koff_AP5", name=f"{name}_ap5"))
    for a in (0, 1, 2):
        reactions.append(reaction(f"pR0{a} <-> pK0{a}", "k_couple*CB1a", "k_uncouple", name=f"cb1_coupling_{a}"))
    species.append(_cb1a())
    return Scheme(
        "prenmdar_signalling",
        species=species,
        parameters=_receptor_parameters("Rb", "Ru", "kon_AP5", "koff_AP5") + [
            Parameter("k_couple", 0.1, "1/ms",
                      note="coupling of glutamate-free receptors to JNK2 signalling per unit active CB1. Not "
                           "measured; chosen so that coupling follows CB1 activity within ~10-20 ms and stays far "
                           "from saturation (about a third of the free receptors couple after one postsynaptic "
                           "spike), so that successive pairings add similar increments"),
            Parameter("k_uncouple", 0.1, "1/ms",
                      note="uncoupling of glutamate-free receptors when CB1 is inactive. Not measured; chosen "
                           "10 ms, fast against the eCB clearance (100 ms) so the coupling reports the current "
                           "CB1 activity"),
        ],
        inputs=[_glu_input(), _drug("AP5")],
        reactions=reactions,
        observables=[Observable("pre_signalling", "pR20 + pK20", unit="1",
                                note="glutamate-bound presynaptic NMDARs (signalling conformation, no ion flow "
                                     "needed; Dore et al. 2015)")],
        description="presynaptic NMDAR glutamate/AP5 binding with CB1-gated coupling to JNK2",
        reference=THOMAZEAU,
    )


# --------------------------------------------------------------------------- step 2: eCB / CB1


def ecb_cb1() -> Scheme:
    """Step 2: retrograde endocannabinoid signalling from the postsynaptic spike to presynaptic CB1.

    Drive it with ``jumps("eCB_post", post_spike_times, 1.0)``: each
    postsynaptic spike releases one unit of eCB, which arrives presynaptically
    after a transit time and activates CB1 (Sjostrom et al. 2003: L5 tLTD needs
    CB1 receptors and presynaptic NMDARs).

    Examples
    --------
    >>> ecb_cb1().species_names
    ('eCB_post', 'eCB', 'CB1', 'CB1a')
    """
    return Scheme(
        "ecb_cb1",
        species=[
            Species("eCB_post", 0.0, unit="1", note="endocannabinoid mobilised by postsynaptic spikes (units per spike)"),
            Species("eCB", 0.0, unit="1", note="endocannabinoid at the presynaptic CB1 receptors (same units)"),
            Species("CB1", 1.0, unit="1", note="inactive presynaptic CB1 receptors (fraction)"),
            _cb1a(),
        ],
        parameters=[
            Parameter("tau_eCB_transit", 2.0, "ms", reference=SJOSTROM2003,
                      note="delay of the retrograde signal (synthesis, release, diffusion). Not measured; chosen "
                           "2 ms (with CB1 activation, the presynaptic signal peaks ~10-20 ms after the "
                           "postsynaptic spike) so that eCB is present when the presynaptic spike follows the postsynaptic one by "
                           "10-25 ms, the post-before-pre intervals that give L5 tLTD (Sjostrom et al. 2001, 2003)"),
            Parameter("tau_eCB_clear", 100.0, "ms", reference=BENDER2006,
                      note="clearance of eCB at the presynaptic terminal; sets how long after a postsynaptic spike "
                           "a presynaptic spike still gives LTD. Chosen 100 ms after the ~125 ms coincidence time "
                           "scale of the eCB-dependent LTD of Bender et al. 2006 (L4->L2/3 barrel cortex, not L5)"),
            Parameter("kon_CB1", 0.1, "1/ms",
                      note="CB1 activation per unit eCB. Not measured; chosen equal to koff_CB1, so one unit of eCB "
                           "(one postsynaptic spike) activates at most half of the CB1 receptors"),
            Parameter("koff_CB1", 0.1, "1/ms",
                      note="CB1 deactivation (10 ms). Not measured; chosen faster than eCB clearance so CB1 "
                           "activity tracks eCB"),
        ],
        reactions=[
            reaction("eCB_post -> eCB", "1/tau_eCB_transit", name="ecb_transit"),
            reaction("eCB ->", "1/tau_eCB_clear", name="ecb_clearance"),
            reaction("CB1 <-> CB1a", "kon_CB1*eCB", "koff_CB1", name="cb1_activation"),
        ],
        description="postsynaptic-spike-triggered retrograde eCB signal and presynaptic CB1 activation",
        reference=SJOSTROM2003,
    )


# --------------------------------------------------------------------------- step 3: JNK2 / STX1a


def jnk2_stx1a(U: float = tm.U_L5) -> Scheme:
    """Step 3: JNK2 activation by signalling preNMDARs, SP600125, STX1a and the lasting drop of ``Pr``.

    ``U`` is the initial release probability (must match the Tsodyks-Markram
    scheme it composes with).

    Examples
    --------
    >>> jnk2_stx1a().species_names
    ('J', 'Ja', 'J_SP', 'Ja_SP', 'STX', 'JaSTX', 'STX_pep', 'pK20', 'Pr')
    """
    return Scheme(
        "jnk2_stx1a",
        species=[
            Species("J", 1.0, unit="1", note="inactive JNK2 (fraction of presynaptic JNK2)"),
            Species("Ja", 0.0, unit="1", note="active JNK2"),
            Species("J_SP", 0.0, unit="1", note="inactive JNK2 with SP600125 bound"),
            Species("Ja_SP", 0.0, unit="1", note="active JNK2 with SP600125 bound (catalytically blocked)"),
            Species("STX", 1.0, unit="1", note="free STX1a (fraction of the STX1a pool that JNK2 can reach)"),
            Species("JaSTX", 0.0, unit="1", note="active JNK2-STX1a complex"),
            Species("STX_pep", 0.0, unit="1", note="STX1a with the JNK2-STX1a blocking peptide bound"),
            _pk2(),
            _pr(U),
        ],
        parameters=[
            _density(),
            Parameter("k_Jact", 1.0e-4, "1/ms",
                      note="JNK2 activation per unit of coupled signalling receptors. Not measured; chosen small "
                           "(activation far from saturation, so each pairing adds a similar increment)"),
            Parameter("k_Jinact", 1.0e-4, "1/ms",
                      note="JNK2 inactivation (10 s). Not measured; chosen as the burst period of the pairing "
                           "protocol, so activity builds up across bursts and decays within a minute after"),
            Parameter("kon_SP", 1.0, "1/(mM*ms)",
                      note="SP600125 association (1e6 /M/s). Not measured; chosen as a typical small-molecule "
                           "association rate"),
            Parameter("koff_SP", 4.0e-5, "1/ms", reference=BENNETT2001,
                      note="SP600125 dissociation giving Kd = 40 nM with kon_SP, the JNK2 IC50 commonly quoted from "
                           "Bennett et al. 2001 (in vitro enzyme assay; the value was not verified against the "
                           "paper). Any bath "
                           "concentration in the uM range saturates the kinase"),
            Parameter("kon_JS", 0.01, "1/ms",
                      note="binding of active JNK2 to STX1a (per unit free STX1a). Not measured; chosen with "
                           "koff_JS so that the complex follows JNK2 activity within ~1 s"),
            Parameter("koff_JS", 1.0e-3, "1/ms", note="JNK2-STX1a dissociation (1 s). Not measured; see kon_JS"),
            Parameter("kon_pep", 1.0, "1/(mM*ms)",
                      note="binding of the JNK2-STX1a blocking peptide at the interaction site (modelled on "
                           "STX1a). Not measured; with koff_pep a 10 nM affinity, so pipette-loaded peptide "
                           "saturates the site"),
            Parameter("koff_pep", 1.0e-5, "1/ms", note="peptide dissociation. Not measured; see kon_pep"),
            Parameter("k_ltd", 0.00066049, "1/ms", reference=BROCK2020,
                      note="lasting reduction of Pr per unit JNK2-STX1a complex: the one fitted number. Set so "
                           "the control protocol (-25 ms, 20 Hz, 5 pairs x 15 every 10 s) brings Pr to 65 % of "
                           "baseline, the mean L5 PC->PC tLTD of Brock et al. 2020 (Fig. 3A, 65 +- 5 %)"),
        ],
        inputs=[_drug("SP600125"), _drug("peptide_pre")],
        reactions=[
            reaction("J <-> Ja", "k_Jact*pre_NMDAR_density*pK20", "k_Jinact", name="jnk2_activation"),
            reaction("J_SP <-> Ja_SP", "k_Jact*pre_NMDAR_density*pK20", "k_Jinact", name="jnk2_activation_sp"),
            reaction("J <-> J_SP", "kon_SP*SP600125", "koff_SP", name="sp600125_binding"),
            reaction("Ja <-> Ja_SP", "kon_SP*SP600125", "koff_SP", name="sp600125_binding_active"),
            reaction("Ja + STX <-> JaSTX", "kon_JS", "koff_JS", name="jnk2_stx1a_binding"),
            reaction("JaSTX -> J + STX", "k_Jinact", name="jnk2_inactivation_in_complex"),
            reaction("STX <-> STX_pep", "kon_pep*peptide_pre", "koff_pep", name="peptide_binding"),
            reaction("Pr ->", "k_ltd*JaSTX", name="presynaptic_ltd"),
        ],
        observables=[Observable("JNK2_activity", "Ja + JaSTX", unit="1", note="active, uninhibited JNK2")],
        description="JNK2 activation by coupled presynaptic NMDARs, SP600125, STX1a and lasting release-probability drop",
        reference=THOMAZEAU,
    )


# --------------------------------------------------------------------------- step 4: RIM1ab branch


def rim_replenishment(tau_rec: float = tm.TAU_REC_L5) -> Scheme:
    """Step 4: the Mg2+-sensitive, ionotropic, RIM1alpha/beta-dependent preNMDAR boost of replenishment.

    The open presynaptic receptors need both glutamates (``pR20 + pK20``),
    glycine on both GluN1 sites (sites bind independently: ``pGg**2``; 7-CK
    competes for each site, ``pGk``) and an unblocked pore (``pPf``; MK-801
    blocks open channels and is trapped, ``pPmk``; block and unblock use the
    open-channel rate constants of :mod:`models.glun1_glun2`, applied to the open
    fraction ``pre_gating``, with the terminal potential ``V_pre``). The product of the three marginals,
    with gating at its equilibrium ``Ro/(Ro + Rc)``, is a mean-field
    (independent-sites) approximation of :mod:`models.glun1_glun2`, whose
    constants it shares. Their current (Jahr-Stevens Mg2+ block at ``V_pre``)
    activates ``RIMa``, which adds ``g_RIM * RIMa / tau_rec`` to the recovery
    rate of the Tsodyks-Markram resources (Abrahamsson et al. 2017: Mg2+-
    sensitive preNMDAR signalling upregulates readily-releasable-pool
    replenishment during high-frequency firing, and needs RIM1alpha/beta).

    Examples
    --------
    >>> "RIMa" in rim_replenishment().species_names
    True
    """
    tm_s = tm.scheme(tau_rec=tau_rec)
    mk_on, mk_off, mk_params = _mk801_block_rates()
    return Scheme(
        "rim1ab_replenishment",
        species=[
            tm_s.get_species("x"), tm_s.get_species("z"),
            _pr2(),
            _pk2(),
            Species("pGf", 1.0, unit="1", note="presynaptic GluN1 glycine sites, free (fraction of sites)"),
            Species("pGg", 0.0, unit="1", note="glycine sites occupied by glycine"),
            Species("pGk", 0.0, unit="1", note="glycine sites occupied by 7-CK"),
            Species("pPf", 1.0, unit="1", note="pores free of MK-801"),
            Species("pPmk", 0.0, unit="1", note="pores blocked (trapped) by MK-801"),
            Species("RIMi", 1.0, unit="1", note="RIM1alpha/beta-dependent replenishment boost, inactive"),
            Species("RIMa", 0.0, unit="1", note="RIM1alpha/beta-dependent replenishment boost, active"),
        ],
        parameters=[
            tm_s.get_parameter("tau_rec"),
            _density(),
            Parameter("RIM1ab", 1.0, "1", bounds=(0.0, 1.0), reference=ABRAHAMSSON,
                      note="RIM1alpha/beta present (1) or deleted (0)"),
        ] + _receptor_parameters(*dict.fromkeys(["Ro", "Rc", "kon_gly", "koff_gly", "kon_CK7", "koff_CK7"]
                                                + [p.name for p in mk_params])) + [
            Parameter("mg_K0", mg_block.MG_K0, "mM", reference=JAHR_STEVENS, note="Mg2+ dissociation constant at 0 mV"),
            Parameter("mg_delta", mg_block.MG_DELTA, "1/mV", reference=JAHR_STEVENS,
                      note="voltage dependence of the block"),
            Parameter("k_RIM", 1.0, "1/ms",
                      note="activation of the replenishment boost per unit presynaptic NMDAR current (unblocked "
                           "open fraction). Not measured; chosen so the boost builds up over a high-frequency train "
                           "and stays small at low frequency"),
            Parameter("tau_RIM", 200.0, "ms", note="decay of the replenishment boost. Not measured; chosen"),
            Parameter("g_RIM", 1.0, "1",
                      note="maximal relative speed-up of replenishment (1 = recovery twice as fast). Not measured; "
                           "chosen as a moderate effect"),
        ],
        inputs=[_receptor_input("gly"), _drug("CK7"), _drug("MK801"),
                Input("Mg", 1.0, "mM", note="extracellular Mg2+"),
                Input("V_pre", -65.0, "mV", note="presynaptic terminal potential (resting value by default)")],
        reactions=[
            reaction("pGf <-> pGg", "kon_gly*gly", "koff_gly", name="glycine_binding"),
            reaction("pGf <-> pGk", "kon_CK7*CK7", "koff_CK7", name="ck7_binding"),
            reaction("pPf <-> pPmk", mk_on * sympy.Symbol("pre_gating"), mk_off * sympy.Symbol("pre_gating"),
                     name="mk801_block"),
            reaction("RIMi <-> RIMa", "k_RIM*RIM1ab*pre_NMDAR_density*pre_current", "1/tau_RIM", name="rim_boost"),
            reaction("z -> x", "g_RIM*RIMa/tau_rec", name="rim_replenishment"),
        ],
        observables=[
            Observable("pre_gating", "Ro/(Ro + Rc)*(pR20 + pK20)*pGg**2", unit="1",
                       note="probability that a presynaptic NMDAR pore is open, blocked or not: both glutamates, both "
                            "glycine sites (independent sites, pGg**2), gating at its equilibrium Ro/(Ro + Rc)"),
            Observable("pre_open", "pre_gating*pPf", unit="1",
                       note="open, MK-801-free presynaptic NMDARs (fraction of the pool)"),
            Observable("pre_mg_unblock", "1/(1 + exp(-mg_delta*V_pre)*Mg/mg_K0)", unit="1",
                       note="Jahr-Stevens Mg2+ unblock at the terminal"),
            Observable("pre_current", "pre_open*pre_mg_unblock", unit="1", note="relative presynaptic NMDAR current"),
        ],
        description="Mg2+-sensitive ionotropic preNMDAR signalling through RIM1alpha/beta to vesicle replenishment",
        reference=ABRAHAMSSON,
    )


# --------------------------------------------------------------------------- the composed presynaptic model


def presynaptic(U: float = tm.U_L5, tau_rec: float = tm.TAU_REC_L5, tau_in: float = tm.TAU_IN,
                *, with_rim: bool = True) -> Scheme:
    """Tsodyks-Markram release + preNMDAR signalling + eCB/CB1 + JNK2/STX1a (+ the RIM1ab branch).

    Inputs: ``spike_pre`` (unit-area pulses), ``glu_pre`` (1 mM x 1 ms per
    presynaptic spike), drugs (:data:`DRUG_INPUTS`), ``gly``, ``Mg``, ``V_pre``;
    postsynaptic spikes enter as jumps of ``eCB_post`` (:func:`pairing_protocol`).

    Examples
    --------
    >>> s = presynaptic()
    >>> sorted(set(DRUG_INPUTS) - set(s.input_names))
    []
    """
    parts = [tm.scheme(U=U, tau_rec=tau_rec, tau_in=tau_in), prenmdar(), ecb_cb1(), jnk2_stx1a(U=U)]
    if with_rim:
        parts.append(rim_replenishment(tau_rec=tau_rec))
    s = compose(parts, name="presynaptic_tltd",
                description="presynaptic release (Tsodyks-Markram) with non-ionotropic preNMDAR-JNK2-STX1a tLTD")
    return s.replace(reference=THOMAZEAU)


# --------------------------------------------------------------------------- protocols and runs

#: Pairing protocol of Sjostrom et al. (2001, 2003): 5 pairs at the pairing frequency, 15 times every 10 s.
N_PAIRS, N_BURSTS, BURST_PERIOD = 5, 15, 10_000.0


def pairing_protocol(pre_times, post_times, *, spike_width: float = tm.SPIKE_WIDTH) -> Protocol:
    """Presynaptic spikes (release pulse + 1 mM x 1 ms glutamate) and postsynaptic spikes (one eCB unit each)."""
    pre = np.asarray(pre_times, dtype=float)
    post = np.asarray(post_times, dtype=float)
    comps = []
    if pre.size:
        comps += [tm.spike_pulses(pre, width=spike_width), pulses("glu_pre", pre, amplitude=1.0, width=1.0)]
    if post.size:
        comps.append(jumps("eCB_post", post, 1.0))
    return Protocol(comps)


@dataclass(frozen=True)
class PairingResult:
    """Outcome of a pairing run: ``change = Pr(end) / Pr(before pairing)``."""

    dt_ms: float
    freq_hz: float
    pr_before: float
    pr_after: float
    result: object

    @property
    def change(self) -> float:
        return self.pr_after / self.pr_before


#: Drug equilibration before pairing, ms (drugs are washed in well before induction in the experiments).
T_EQUILIBRATE = 60_000.0
#: Time after the last spike at which the lasting change is read, ms (JNK2 activity has decayed by then).
T_READOUT = 60_000.0


def run_pairing(scheme: Scheme, dt_ms: float, freq_hz: float, *, n_pairs: int = N_PAIRS, n_bursts: int = N_BURSTS,
                burst_period: float = BURST_PERIOD, rtol: float = 1e-6, atol: float = 1e-10) -> PairingResult:
    """Equilibrate the drugs, pair, wait, and report the lasting change of ``Pr``.

    The scheme is first run without spikes for :data:`T_EQUILIBRATE` (drug
    binding reaches equilibrium), then paired from t = 0 and read out
    :data:`T_READOUT` after the last spike.
    """
    from kinetics import simulate

    if "Pr" not in scheme.species_names:
        raise ArgumentError("run_pairing needs a scheme with the release probability species `Pr`")
    rest = simulate(scheme, None, t_end=T_EQUILIBRATE, t_eval=[0.0, T_EQUILIBRATE], rtol=rtol, atol=atol)
    y0 = {n: float(v) for n, v in zip(scheme.species_names, rest.y[-1])}
    from .experiments import sjostrom_protocol

    pre, post = sjostrom_protocol(dt_ms, freq_hz, n_pairs, n_bursts, burst_period)
    t_end = float(max(pre[-1], post[-1])) + T_READOUT
    res = simulate(scheme, pairing_protocol(pre, post), t_end=t_end, t_eval=np.linspace(0.0, t_end, 2001),
                   y0=y0, rtol=rtol, atol=atol)
    return PairingResult(dt_ms=float(dt_ms), freq_hz=float(freq_hz), pr_before=y0["Pr"],
                         pr_after=float(res["Pr"][-1]), result=res)
