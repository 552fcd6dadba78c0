"""One L5 pyramidal-pyramidal synapse: presynaptic release and tLTD, postsynaptic NMDA receptors, calcium and tLTP.

The composed model (:func:`scheme`) joins, through shared names:

* **presynaptic** (:func:`models.presynaptic_tltd.presynaptic`): Tsodyks-Markram
  release with the baseline release probability ``Pr``; the non-ionotropic
  preNMDAR -> JNK2 -> STX1a pathway that lowers ``Pr`` lastingly when the
  retrograde eCB signal of a postsynaptic spike precedes presynaptic glutamate;
  the RIM1alpha/beta-dependent ionotropic branch;
* **postsynaptic receptor** (:func:`models.glun1_glun2.scheme`): two glutamate
  and two glycine sites, AP5, 7-CK and MK-801 as ligands with their own binding
  kinetics; the Jahr-Stevens Mg2+ block and the NMDA current
  (:func:`models.mg_block.with_nmda_current`), scaled by ``post_NMDAR_density``
  (0 = postsynaptic GluN1 deletion);
* **spine calcium** (:func:`models.calcium.spine_calcium`, GHK NMDA influx and
  high-voltage-activated channels opened by the back-propagating action
  potential);
* **postsynaptic plasticity**: the potentiation arm of Graupner & Brunel (2012)
  driven by the NMDA-receptor calcium.

Both sides see the same cleft glutamate (input ``glu``, 1 mM x 1 ms per
presynaptic spike) and the same bath drugs (``AP5``, ``CK7``, ``MK801``,
``SP600125``). :mod:`models.manipulations` applies the experimental conditions.

The postsynaptic rule, and why
------------------------------
Graupner & Brunel's rule (:mod:`models.graupner_brunel2012`) turns the time
calcium spends above a potentiation threshold into the mean change of a
population of bistable synapses. Here it reads the *NMDA-receptor calcium*
``Ca_NMDA`` — the share of spine calcium that entered through NMDA receptors
(the spine buffer and pump are linear, so the shares add) — normalised as
``c = Ca_NMDA / Ca_unit``. Two deliberate departures from the published rule,
both forced by the L5 experiments the model must reproduce:

1. **Potentiation only** (``gamma_d = 0``, and the noise acts above ``theta_p``
   only, i.e. ``theta_d = theta_p``). At L5 PC -> PC synapses tLTD is
   presynaptic: it survives postsynaptic GluN1 deletion and is abolished by AP5
   (Thomazeau et al. 2025; Sjostrom et al. 2003). A postsynaptic depression arm
   would add an LTD that postsynaptic deletion removes, and one driven by
   back-propagating-AP calcium would survive AP5; both contradict the data. The
   depression side of STDP is carried by the presynaptic pathway.
2. **NMDA calcium only**. The published rule sums pre- and postsynaptic calcium
   transients, so postsynaptic bursts alone can cross ``theta_p``; but tLTP is
   abolished by MK-801, AP5 and postsynaptic GluN1 deletion, which leave the
   back-propagating-AP calcium intact. Reading the NMDA share makes the Mg2+
   block the coincidence detector: glutamate-bound receptors conduct when the
   back-propagating AP relieves the block.

All other numbers of the rule (``theta_p``, ``gamma_p``, ``sigma``, ``tau``,
``rho*``, ``beta``, ``b``) start from its ``cortical_slices`` set, the fit to
Sjostrom et al. (2001) L5 data; they are scheme parameters (``theta_p``,
``gb_*``) read by the readout (:func:`post_change`). The threshold is smoothed
over ``theta_width`` (a numerical choice, so that the time above threshold has
exact parameter sensitivities).

Parameter sets
--------------
``L5`` (the default) is **fitted**: :mod:`models.synapse_fit` fits the
unmeasured constants — eCB transit and clearance, CB1 kinetics, coupling, JNK2
activation and inactivation, ``k_ltd``, ``Ca_unit`` and ``gb_gamma_p`` —
jointly to the Sjostrom et al. (2001) frequency table at +10 and -10 ms, the
Brock et al. (2020) tLTD and the frequency independence of tLTD (Thomazeau et
al. 2025), with :mod:`kinetics.fitting`; the Thomazeau et al. (2025)
pharmacology table is held out as a prediction. The values, their profile or
Wald intervals and the fit's report ship in ``models/data/synapse_l5_fit.json``
(:func:`fitted`); ``nmdakin synapse-fit`` reproduces them.

``L5_hand`` is the earlier **hand-calibrated** set: every constant as written in
the modules, ``k_ltd`` set to the 65 % of Brock et al. (2020) and ``Ca_unit``
calibrated (:func:`calibrate_ca_unit`) so that +10 ms, 50 Hz pairing gives the
change the ``cortical_slices`` set predicts for it (1.575,
:func:`calibration_target`). It contradicts Sjostrom et al. (2001) at 10-40 Hz
(pre-before-post trains read as post-before-pre by the presynaptic detector; no
potentiation below 50 Hz).

The weight change of a protocol is the product of the presynaptic change
(``Pr`` after/before, read when the JNK2 activity has subsided) and the
postsynaptic change (the rule's readout). The EPSP amplitude evoked by a test
spike at time ``t`` is proportional to ``Pr(t) x(t)`` times the postsynaptic
efficacy.

Simplifications (stated): the membrane potential ``V`` is the resting potential
plus back-propagating APs (:func:`models.calcium.reference_bap`) — the unitary
EPSP's own depolarisation is left out; postsynaptic receptors see the full
1 mM x 1 ms glutamate at every presynaptic spike whatever the release
probability (as the Graupner-Brunel rule's ``Cpre`` is fixed).

Examples
--------
>>> from models import synapse
>>> s = synapse.scheme()
>>> {"Pr", "O", "Ca", "Ca_NMDA", "T_above_p"} <= set(s.species_names)
True
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import numpy as np

from kinetics import Observable, Parameter, Protocol, RateRule, Scheme, Species, compose, jumps, pulses, simulate
from kinetics.errors import ArgumentError

from . import calcium, glun1_glun2, mg_block
from . import graupner_brunel2012 as gb
from . import manipulations as mp
from . import presynaptic_tltd as pt
from . import tsodyks_markram as tm
from .registry import ParameterSetInfo, PlasticityModel

__all__ = ["scheme", "protocol", "run", "SynapseRun", "ltp_rule_set", "calibrate_ca_unit", "CA_UNIT_UM",
           "GB_SET", "SynapseModel", "T_READOUT", "T_EQUILIBRATE", "SETS", "DEFAULT_SET", "fitted", "post_change",
           "readout_set", "POST_CHANGE_EXPRESSION", "THETA_WIDTH"]

#: The Graupner-Brunel set whose potentiation arm is used (fit to Sjostrom et al. 2001 L5 data).
GB_SET = "cortical_slices"
#: Calcium unit of the hand set L5_hand, uM of NMDA-receptor calcium (:func:`calibrate_ca_unit`; a test checks it).
CA_UNIT_UM = 2.8234
#: Drug equilibration before pairing, ms.
T_EQUILIBRATE = pt.T_EQUILIBRATE
#: Readout delay after the last spike, ms (the presynaptic JNK2 activity has subsided by then).
T_READOUT = pt.T_READOUT
#: Resting membrane potential (mV) of the postsynaptic cell between back-propagating APs.
V_REST = calcium.V_REST


def ltp_rule_set() -> gb.ParameterSet:
    """The potentiation-only variant of the ``cortical_slices`` set (``gamma_d = 0``, ``theta_d = theta_p``)."""
    ps = gb.get_set(GB_SET)
    return replace(ps.with_values(gamma_d=0.0, theta_d=ps.theta_p, note="potentiation arm only (nmdakin synapse "
                                                                        "model; see models.synapse)"),
                   name=f"{ps.name}_ltp_only")


def _postsynaptic_receptor() -> Scheme:
    rec = mg_block.with_nmda_current(glun1_glun2.scheme())
    density = Parameter("post_NMDAR_density", 1.0, "1", bounds=(0.0, 1.0),
                        note="postsynaptic NMDA receptors relative to wild type: 1 = intact, 0 = postsynaptic GluN1 "
                             "deletion (Thomazeau et al. 2025 deleted GluN1 in the postsynaptic cell)")
    obs = tuple(Observable("G_NMDA", "post_NMDAR_density*g_NMDA*O*B", unit="nS",
                           note="open, unblocked NMDA conductance (scaled by the receptor density)")
                if o.name == "G_NMDA" else o for o in rec.observables)
    return rec.replace(parameters=rec.parameters + (density,), observables=obs)


#: Width (in units of the normalised calcium c) over which the potentiation threshold is smoothed.
THETA_WIDTH = 0.01


def _readout_parameters(ps) -> list:
    """The Graupner-Brunel constants of the readout (:func:`post_change`), as scheme parameters (fittable)."""
    src = ps.source
    return [
        Parameter("gb_gamma_p", ps.gamma_p, "1", bounds=(0.0, math.inf), reference=src,
                  note="potentiation rate of the efficacy while c > theta_p, in units of 1/gb_tau (cortical_slices)"),
        Parameter("gb_tau", ps.tau_s, "s", bounds=(1e-9, math.inf), reference=src,
                  note="time constant of the efficacy (cortical_slices)"),
        Parameter("gb_sigma", ps.sigma, "1", bounds=(0.0, math.inf), reference=src,
                  note="noise amplitude of the efficacy (cortical_slices)"),
        Parameter("gb_rho_star", ps.rho_star, "1", bounds=(0.0, 1.0), reference=src,
                  note="boundary between the DOWN and UP basins of the efficacy (cortical_slices)"),
        Parameter("gb_beta", ps.beta, "1", bounds=(0.0, 1.0), reference=src,
                  note="fraction of synapses initially DOWN (cortical_slices)"),
        Parameter("gb_b", ps.b, "1", bounds=(1e-9, math.inf), reference=src,
                  note="ratio of UP to DOWN synaptic strength (cortical_slices)"),
    ]


def _ltp_fragment(ca_scheme: Scheme, ca_unit_um: float) -> Scheme:
    """NMDA-receptor calcium share, its normalisation, and the time above the potentiation threshold."""
    shared = calcium.shared_components(ca_scheme, ["I_Ca_NMDA", "F", "vol_spine", "kappa_Ca", "tau_Ca"])
    ps = ltp_rule_set()
    return Scheme(
        "nmda_calcium_ltp",
        species=shared["species"] + [
            Species("Ca_NMDA", 0.0, unit="mM", nonnegative=False,
                    note="share of the free spine Ca2+ above rest that entered through NMDA receptors"),
            Species("T_above_p", 0.0, unit="ms", note="time c has spent above theta_p (accumulated)"),
        ],
        parameters=shared["parameters"] + [
            Parameter("Ca_unit", max(ca_unit_um, 1e-12), "uM", reference=ps.source,
                      note="NMDA calcium that makes c = 1 (only Ca_unit*theta_p matters, so theta_p keeps its "
                           "published value). Hand set L5_hand: calibrated (models.synapse.calibrate_ca_unit) so "
                           "that +10 ms, 50 Hz pairing gives the change the Graupner-Brunel cortical_slices set "
                           "predicts for it; set L5: fitted (models.synapse_fit)"),
            Parameter("theta_p", ps.theta_p, "1", reference=ps.source, note="potentiation threshold (cortical_slices)"),
            Parameter("theta_width", THETA_WIDTH, "1", bounds=(1e-9, math.inf),
                      note="width of the smoothed threshold: T_above_p grows at sigmoid((c - theta_p)/theta_width) "
                           "instead of a step. A numerical choice, not biology: with a step, the time above "
                           "threshold has zero derivative with respect to every parameter (forward sensitivities "
                           "miss the threshold crossings), so it could not be fitted with exact gradients; 0.01 "
                           "(0.8 % of theta_p) changes the times above threshold of the Sjostrom protocols by a few "
                           "ms (hand set, +10 ms: 156 instead of 163 ms at 40 Hz, 453 instead of 452 ms at 50 Hz)"),
        ] + _readout_parameters(ps),
        inputs=shared["inputs"],
        observables=shared["observables"] + [
            Observable("c_NMDA", "Ca_NMDA/Ca_unit", unit="1", note="normalised NMDA calcium of the rule"),
        ],
        rate_rules=[
            RateRule("Ca_NMDA", "-I_Ca_NMDA/(2*F*vol_spine)/(1 + kappa_Ca) - Ca_NMDA/tau_Ca"),
            RateRule("T_above_p", "sigmoid((c_NMDA - theta_p)/theta_width)"),
        ],
        units=ca_scheme.units,
        description="NMDA-receptor calcium and time above the Graupner-Brunel potentiation threshold",
        reference=gb.REFERENCE,
    )


def _post_change_expression() -> str:
    """The postsynaptic change as an expression of ``T_above_p`` and the readout constants ``gb_*``.

    The Graupner-Brunel analytic prediction (:func:`models.graupner_brunel2012.predict`) with ``gamma_d = 0``
    and ``theta_d = theta_p``, written out: ``E = exp(-gamma_p T / tau)`` is the decay of the mean efficacy
    towards 1, ``S`` the spread of the efficacy, ``U`` (``D``) the fraction of DOWN (UP) synapses that
    switch. ``S`` gets a 1e-12 floor so that ``T = 0`` (spread 0) gives exactly 1 with finite derivatives.
    """
    e = "exp(-gb_gamma_p*T_above_p/gb_tau)"
    spread = f"sqrt(2*gb_sigma**2/gb_gamma_p*(1 - ({e})**2) + 1e-12)"
    up = f"(1 + erf((1 - ({e}) - gb_rho_star)/({spread})))/2"
    down = f"(1 + erf((gb_rho_star - 1)/({spread})))/2"
    return (f"(gb_beta*(1 - {up}) + (1 - gb_beta)*({down}) + gb_b*(gb_beta*{up} + (1 - gb_beta)*(1 - {down})))"
            f"/(gb_beta + (1 - gb_beta)*gb_b)")


#: The postsynaptic change (after/before) as an expression of ``T_above_p`` (see :func:`_post_change_expression`);
#: the fit's statistic (:mod:`models.synapse_fit`) and :func:`post_change` compute the same number.
POST_CHANGE_EXPRESSION = _post_change_expression()


@functools.lru_cache(maxsize=4)
def _base_scheme(ca_unit_um: float) -> Scheme:
    pre = pt.presynaptic().rename({"glu_pre": "glu"})
    rec = _postsynaptic_receptor()
    ca = calcium.spine_calcium(rec, nmda_influx="ghk", vgcc=True)
    post = compose([rec, ca])
    ltp = _ltp_fragment(post, ca_unit_um)
    s = compose([pre, post, ltp], name="l5_synapse",
                description="L5 PC->PC synapse: Tsodyks-Markram release, preNMDAR-JNK2-STX1a tLTD, GluN1/GluN2 "
                            "receptor with Mg2+ block, spine Ca2+, NMDA-calcium potentiation")
    return s.replace(
        observables=s.observables + (
            Observable("release_per_spike", "Pr*x", unit="1",
                       note="fraction of resources a spike at this moment would release"),
        ),
        reference=pt.THOMAZEAU)


#: Parameter sets: ``L5`` (fitted by :mod:`models.synapse_fit`, the default) and ``L5_hand`` (the
#: hand-calibrated constants written in the modules, each with the note that says how it was chosen).
SETS = ("L5", "L5_hand")
#: The default parameter set.
DEFAULT_SET = "L5"
#: The fitted set and its report, in the package data (written by ``nmdakin synapse-fit``).
FIT_FILE = "synapse_l5_fit.json"


@functools.lru_cache(maxsize=1)
def fitted() -> dict:
    """The shipped fit of the synapse (``models/data/synapse_l5_fit.json``): values, data, report, profiles."""
    import json
    from pathlib import Path

    return json.loads((Path(__file__).parent / "data" / FIT_FILE).read_text(encoding="utf-8"))


def _check_set(set) -> str:
    if set not in SETS:
        from kinetics.errors import did_you_mean

        raise ArgumentError(f"synapse: no parameter set `{set}`" + did_you_mean(str(set), SETS)
                            + f"; sets: {list(SETS)}")
    return set


def _fitted_scheme(s: Scheme) -> Scheme:
    fit = fitted()
    params = []
    for p in s.parameters:
        entry = fit["parameters"].get(p.name)
        if entry is None:
            params.append(p)
            continue
        lo, hi = ("open" if v is None else f"{v:.3g}" for v in entry["interval"])
        params.append(replace(
            p, value=float(entry["value"]), reference=fit["source"],
            note=f"fitted (set L5, models.synapse_fit): {entry['value']:.6g} {p.unit} "
                 f"({100 * fit['level']:.0f} % {entry['ci_method']} interval {lo} to {hi}"
                 f"{', not identified' if entry['flag'] != 'identified' else ''}); hand set L5_hand: "
                 f"{p.value:.6g}. {p.note}"))
    return s.replace(parameters=tuple(params))


@functools.lru_cache(maxsize=4)
def _set_scheme(set: str, ca_unit_um: float) -> Scheme:
    s = _base_scheme(ca_unit_um)
    return _fitted_scheme(s) if set == "L5" else s


def scheme(condition=None, *, set: str = DEFAULT_SET, ca_unit_um: float | None = None) -> Scheme:
    """The composed synapse with a parameter set, optionally with an experimental condition applied.

    Parameters
    ----------
    condition : str or Manipulation, optional
        One of :data:`models.manipulations.CONDITIONS` (default: control).
    set : {"L5", "L5_hand"}
        ``"L5"`` (default): the unmeasured constants fitted jointly to Sjostrom et al. (2001), Brock et al.
        (2020) and the frequency independence of tLTD (Thomazeau et al. 2025) by :mod:`models.synapse_fit`;
        ``"L5_hand"``: the hand-calibrated constants of the modules.
    ca_unit_um : float, optional
        Override of the calcium unit ``Ca_unit`` of the hand set (default :data:`CA_UNIT_UM`, calibrated by
        :func:`calibrate_ca_unit`); not allowed with the fitted set.

    Examples
    --------
    >>> scheme().get_parameter("tau_eCB_clear").value != scheme(set="L5_hand").get_parameter("tau_eCB_clear").value
    True
    """
    _check_set(set)
    if ca_unit_um is not None and set != "L5_hand":
        raise ArgumentError("synapse: `ca_unit_um` overrides the calibrated unit of the hand set; use "
                            "set='L5_hand' (the fitted set L5 has its own Ca_unit)")
    s = _set_scheme(set, float(CA_UNIT_UM if ca_unit_um is None else ca_unit_um))
    if condition is not None:
        s = mp.apply(s, condition)
    return s


def protocol(pre_times, post_times, *, spike_width: float = tm.SPIKE_WIDTH) -> Protocol:
    """Spikes of a pairing protocol for :func:`scheme`.

    Each presynaptic spike: a unit-area pulse on ``spike_pre`` (release) and a
    1 mM x 1 ms glutamate pulse on ``glu``. Each postsynaptic spike: the
    reference back-propagating AP on ``V`` (:func:`models.calcium.reference_bap`)
    and one unit of endocannabinoid (``eCB_post``).
    """
    pre = np.asarray(pre_times, dtype=float).ravel()
    post = np.asarray(post_times, dtype=float).ravel()
    comps = []
    if pre.size:
        comps += [tm.spike_pulses(pre, width=spike_width), pulses("glu", pre, amplitude=1.0, width=1.0)]
    if post.size:
        comps += [calcium.reference_bap(post), jumps("eCB_post", post, 1.0)]
    return Protocol(comps)


def _equilibrated(s: Scheme) -> dict:
    rest = simulate(s, None, t_end=T_EQUILIBRATE, t_eval=[T_EQUILIBRATE], rtol=1e-6, atol=1e-10)
    return {n: float(v) for n, v in zip(s.species_names, rest.y[-1])}


def readout_set(values) -> gb.ParameterSet:
    """The potentiation-only Graupner-Brunel set with the readout constants ``gb_*`` of a scheme's values."""
    return ltp_rule_set().with_values(gamma_p=values["gb_gamma_p"], tau_s=values["gb_tau"],
                                      sigma=values["gb_sigma"], rho_star=values["gb_rho_star"],
                                      beta=values["gb_beta"], b=values["gb_b"])


def post_change(t_above_p_ms, values=None) -> np.ndarray:
    """Graupner-Brunel analytic mean change for a total time ``t_above_p_ms`` above theta_p (vectorised).

    ``values``: the scheme's parameter values (declared units; default those of :func:`scheme`), of which
    the readout constants ``gb_*`` are used.
    """
    ps = readout_set(values if values is not None else scheme().parameter_values())
    t_above = np.atleast_1d(np.asarray(t_above_p_ms, dtype=float))
    out = np.ones_like(t_above)
    for i, ta in enumerate(t_above):
        if ta > 0:
            out[i] = gb.predict(1.0, 1.0, float(ta), ps).change
    return out


@dataclass(frozen=True)
class SynapseRun:
    """A pairing run of the synapse.

    Attributes
    ----------
    t : ndarray
        Output times (ms; pairing starts at 0).
    pr, release, post_efficacy, epsp, weight : ndarray
        Release probability ``Pr``; release per spike ``Pr x``; postsynaptic
        change so far (the rule's prediction for the time above threshold
        accumulated until ``t``); EPSP amplitude of a test spike at ``t``
        relative to baseline (``Pr x / Pr0`` times the postsynaptic efficacy);
        total weight change so far (``Pr/Pr0`` times the postsynaptic efficacy).
    pre_change, post_change, change : float
        Final presynaptic, postsynaptic and total change (after/before).
    result : kinetics.Result
    """

    t: np.ndarray
    pr: np.ndarray
    release: np.ndarray
    post_efficacy: np.ndarray
    epsp: np.ndarray
    weight: np.ndarray
    pre_change: float
    post_change: float
    change: float
    result: object


def run(pre_times, post_times, condition=None, *, set: str = DEFAULT_SET, n_points: int = 2001,
        rtol: float = 1e-6, atol: float = 1e-10) -> SynapseRun:
    """Simulate a pairing protocol (spike times in ms) under a condition and read out the lasting change.

    The drugs equilibrate for :data:`T_EQUILIBRATE` before the first spike; the
    change is read :data:`T_READOUT` after the last spike.

    Examples
    --------
    >>> from models.experiments import pairing_times
    >>> pre, post = pairing_times(5, 50.0, 10.0)
    >>> r = run(pre, post)                                  # doctest: +SKIP
    >>> r.post_change > 1                                   # doctest: +SKIP
    True
    """
    pre = np.asarray(pre_times, dtype=float).ravel()
    post = np.asarray(post_times, dtype=float).ravel()
    if pre.size == 0 and post.size == 0:
        raise ArgumentError("run: give at least one pre- or postsynaptic spike")
    if (pre.size and pre.min() < 0) or (post.size and post.min() < 0):
        raise ArgumentError("run: spike times must be >= 0 ms (pairing starts at 0)")
    return _simulate(scheme(condition, set=set), pre, post, n_points=n_points, rtol=rtol, atol=atol)


def _simulate(s, pre, post, *, n_points=2001, rtol=1e-6, atol=1e-10) -> SynapseRun:
    pre = np.asarray(pre, dtype=float).ravel()
    post = np.asarray(post, dtype=float).ravel()
    y0 = _equilibrated(s)
    last = max(pre.max() if pre.size else 0.0, post.max() if post.size else 0.0)
    t_end = float(last) + T_READOUT
    t = np.linspace(0.0, t_end, int(n_points))
    res = simulate(s, protocol(pre, post), t_end=t_end, t_eval=t, y0=y0, rtol=rtol, atol=atol)
    pr0 = y0["Pr"]
    pr = np.asarray(res["Pr"])
    release = np.asarray(res["release_per_spike"])
    post_eff = post_change(np.asarray(res["T_above_p"]), s.parameter_values())
    pre_final, post_final = float(pr[-1] / pr0), float(post_eff[-1])
    return SynapseRun(t=t, pr=pr, release=release, post_efficacy=post_eff, epsp=release / pr0 * post_eff,
                      weight=pr / pr0 * post_eff, pre_change=pre_final, post_change=post_final,
                      change=pre_final * post_final, result=res)


# --------------------------------------------------------------------------- calibration

#: The protocol whose potentiation calibrates ``Ca_unit``: +10 ms, 50 Hz, Sjostrom et al. (2001) bursts.
CALIBRATION_PROTOCOL = (10.0, 50.0)


def calibration_target() -> float:
    """The Graupner-Brunel ``cortical_slices`` analytic change for +10 ms, 50 Hz (Sjostrom 2001 protocol).

    That set is the paper's fit to Sjostrom et al. (2001); the synapse's
    postsynaptic potentiation is calibrated to reproduce it.
    """
    from .experiments import sjostrom_protocol

    return float(gb.analytic_change(*sjostrom_protocol(*CALIBRATION_PROTOCOL), GB_SET).change)


def calibrate_ca_unit(*, xtol_um: float = 1e-3) -> float:
    """The ``Ca_unit`` (uM) for which +10 ms, 50 Hz pairing gives the postsynaptic change of :func:`calibration_target`.

    Bisection on ``Ca_unit``: a smaller unit puts the NMDA calcium above
    ``theta_p`` for longer and potentiates more.
    """
    from scipy.optimize import brentq

    from .experiments import sjostrom_protocol

    target = calibration_target()
    pre, post = sjostrom_protocol(*CALIBRATION_PROTOCOL)

    def excess(unit_um):
        s = scheme(set="L5_hand", ca_unit_um=unit_um)
        return _simulate(s, pre, post, n_points=3).post_change - target

    return float(brentq(excess, 1.0, 10.0, xtol=xtol_um))


# --------------------------------------------------------------------------- registry


class SynapseModel(PlasticityModel):
    """The composed L5 synapse as a plasticity model (``nmdakin stdp --model synapse --condition AP5 ...``).

    Method ``"ode"``: the composed kinetic scheme is simulated (native solver)
    and the postsynaptic change read with the Graupner-Brunel analytic formula
    from the simulated time above threshold (options ``rtol``, ``atol``).
    Conditions: the pharmacology table (:data:`models.manipulations.CONDITIONS`).
    One parameter set, ``L5``.
    """

    name = "synapse"
    description = ("L5 PC->PC synapse: Tsodyks-Markram release, presynaptic non-ionotropic preNMDAR-JNK2-STX1a tLTD, "
                   "GluN1/GluN2 receptor with drugs and Mg2+ block, spine Ca2+, NMDA-calcium tLTP")
    reference = pt.THOMAZEAU
    methods = ("ode",)
    conditions = mp.CONDITION_NAMES
    default_set = "L5"

    @property
    def sets(self) -> tuple:
        fit = fitted()
        hand = "; ".join([pt.THOMAZEAU, pt.BROCK2020, tm.LOEBEL, gb.REFERENCE + " (cortical_slices set)"])
        return (
            ParameterSetInfo("L5", fit["source"],
                             f"{len(fit['parameters'])} unmeasured constants fitted jointly to Sjostrom et al. 2001 "
                             "(10 points), Brock et al. 2020 and the frequency independence of tLTD (Thomazeau et "
                             "al. 2025); the pharmacology table is held out (models.synapse_fit)"),
            ParameterSetInfo("L5_hand", hand,
                             "hand-calibrated: k_ltd set to Brock et al. 2020 (65 % at 20 Hz, -25 ms); Ca_unit "
                             "calibrated to the Graupner-Brunel cortical_slices prediction for +10 ms, 50 Hz; the "
                             "other signalling constants chosen by hand (see models.presynaptic_tltd)"),
        )

    def _change(self, pre_times, post_times, *, set, method, condition, rng, **options) -> float:
        extra = sorted(k for k in options if k not in ("rtol", "atol"))
        if extra:
            raise ArgumentError(f"model `synapse` takes no option `{extra[0]}`; its options: ['atol', 'rtol']")
        pre = np.asarray(pre_times, dtype=float).ravel()
        post = np.asarray(post_times, dtype=float).ravel()
        return _simulate(scheme(condition, set=set), pre, post, n_points=3, **options).change

