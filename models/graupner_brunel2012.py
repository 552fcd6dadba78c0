"""Graupner & Brunel 2012: calcium-based plasticity of a bistable synapse.

Graupner M, Brunel N (2012) Calcium-based plasticity model explains sensitivity
of synaptic changes to spike pattern, rate, and dendritic location. PNAS
109:3991-3996; noise term as in the published correction (PNAS 2013,
doi:10.1073/pnas.1220044110).

Model
-----
Calcium is a sum of exponential transients (dimensionless, normalised)::

    dc/dt = -c / tauCa
    c += Cpre   at each presynaptic spike + D       (NMDA-receptor calcium, delay D)
    c += Cpost  at each postsynaptic spike          (back-propagating AP calcium)

The synaptic efficacy ``rho`` has two stable states (DOWN ``rho = 0``, UP
``rho = 1``) separated by the unstable ``rho*``; calcium above a depression
(potentiation) threshold drives it down (up)::

    tau drho/dt = -rho (1 - rho) (rho* - rho)
                  + gamma_p (1 - rho) H(c - theta_p)
                  - gamma_d rho H(c - theta_d)
                  + sigma sqrt(tau) sqrt(H(c - theta_d) + H(c - theta_p)) eta(t)

``H`` is the Heaviside step, ``eta`` Gaussian white noise
(``<eta(t) eta(t')> = delta(t - t')``): noise acts only while calcium is above
a threshold (the form of the correction). ``gamma_d`` and ``gamma_p`` are rates
in units of ``1/tau``; ``tau`` is in seconds in the paper. This module works in
ms: the scheme declares ``tau`` as ``150 s`` and the engine converts it.

Readout (the paper's population of bistable synapses): a fraction ``beta`` of
the synapses starts DOWN (``rho = 0``), the rest UP (``rho = 1``); the UP
state is ``b`` times stronger than the DOWN state. With ``U`` the probability
of a DOWN -> UP transition and ``D`` that of an UP -> DOWN transition during
the protocol (``rho`` compared with ``rho*`` at the end; after the protocol the
deterministic drift carries every synapse to the state on its side of
``rho*``)::

    change = [beta (1 - U) + (1 - beta) D + b (beta U + (1 - beta)(1 - D))]
             / [beta + (1 - beta) b]

(ratio of the mean strength after/before; 1 = no change).

Analytic prediction (the paper's approximation)
-----------------------------------------------
Let ``alpha_d``, ``alpha_p`` be the fractions of the protocol duration ``T``
that calcium spends above ``theta_d``, ``theta_p``. Neglecting the cubic
(bistability) term during the protocol and replacing the threshold terms by
their time averages, ``rho`` is an Ornstein-Uhlenbeck process with::

    Gamma_p = gamma_p alpha_p,   Gamma_d = gamma_d alpha_d
    rho_bar = Gamma_p / (Gamma_p + Gamma_d)                     (its fixed point)
    sigma_rho^2 = sigma^2 (alpha_p + alpha_d) / (Gamma_p + Gamma_d)
    tau_eff = tau / (Gamma_p + Gamma_d)                         (its time constant)

Started at ``rho0`` it is Gaussian at ``T`` with mean
``rho_bar + (rho0 - rho_bar) exp(-T/tau_eff)`` and variance
``sigma_rho^2 (1 - exp(-2T/tau_eff)) / 2``, so::

    U = 1/2 [1 + erf((rho_bar (1 - exp(-T/tau_eff)) - rho*) / sqrt(sigma_rho^2 (1 - exp(-2T/tau_eff))))]
    D = 1/2 [1 + erf((rho* - rho_bar - (1 - rho_bar) exp(-T/tau_eff)) / sqrt(sigma_rho^2 (1 - exp(-2T/tau_eff))))]

and ``change`` follows from ``U``, ``D``, ``beta``, ``b``. Only the products
``alpha_x T`` (the total times above threshold) enter.

Two ways to get the times above threshold
-----------------------------------------
``exact`` (:func:`analytic_change`; the plasticity model's default method)
    the exact calcium of the spike trains actually delivered: any trains, and
    for the Sjostrom et al. 2001 bursts (5 pairs, 10 s apart) calcium starts
    from zero in every burst.
``periodic`` (:func:`periodic_change`, :func:`pairing_prediction`)
    the paper's own computation for its figures (Fig. 2: 60 pairs at 1 Hz;
    Fig. 4: 75 pairs at the pairing frequency): the steady-state periodic
    calcium of a regular pairing protocol (:func:`pairing_time_fractions`) and
    ``T = n_pairs / freq``. For spike trains, :func:`infer_pairing` reads
    ``dt``, the pairing frequency (the within-burst interval) and the number
    of pairs from them; trains that are not a pairing protocol are refused.

The two agree when successive pairs do not overlap in calcium (60 pairs at
1 Hz: within 1e-9); for one regular train they differ only by the build-up of
calcium over the first pairs and the decay after the last (DP set, 60 pairs
at 40 Hz: < 0.007). They differ most for the cortical set's Sjostrom bursts
at 40-50 Hz, where every burst of 5 pairs starts from zero calcium and the
periodic state is never reached (measured: periodic - exact = +0.157 at
40 Hz, -10 ms; +0.135 at 40 Hz, +10 ms). ``exact`` is the default because it applies to every spike
train and describes the protocol as delivered; ``periodic`` reproduces the
published curves. The ODE (deterministic limit) and the SDE ensemble (the full
stochastic model) are the model's other two methods.

The approximation holds when the protocol is short compared with ``tau`` (the
cubic term acts all the time, also between pairings) and each pairing moves
``rho`` little. Measured in the tests: SDE ensembles of the DP set (60 pairs at
1 Hz) lie 0.002-0.016 below the prediction (the time-averaging of the
threshold terms); for the cortical set with 75 pairs at 0.1 Hz (750 s, about 2
``tau``) the full model gives clearly less LTD than the prediction (0.80 vs
0.69 for -10 ms).

Parameter sets
--------------
Nine sets (``PARAMETER_SETS``): the six STDP-curve sets of the paper's Fig. 2
(``DP``, ``DPD``, ``DPD'``, ``P``, ``D``, ``D'``: depression/potentiation
windows by name) and the three fits to experimental data (``hippocampal_slices``,
used in the paper's Fig. 3; ``hippocampal_cultures``; ``cortical_slices``, the
fit to Sjostrom et al. 2001 used in the paper's Fig. 4). The digits are those
of the authors' public code (github.com/mgraupe/CalciumBasedPlasticityModel,
``synapticChange.py``; facts only — no code is taken from it). The paper's
spellings ``DPD'`` and ``D'`` are accepted for ``DPDprime`` and ``Dprime``.

Examples
--------
>>> from models import graupner_brunel2012 as gb
>>> round(gb.pairing_prediction(10.0, 1.0, 60, "DP").change, 3) > 1   # pre-before-post: LTP
True
>>> round(gb.pairing_prediction(-30.0, 1.0, 60, "DP").change, 3) < 1  # post-before-pre: LTD
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np

from kinetics import Parameter, Protocol, RateRule, Scheme, Species, jumps, simulate
from kinetics.errors import ArgumentError, did_you_mean
from kinetics.scheme import qualified_name

__all__ = [
    "ParameterSet",
    "PARAMETER_SETS",
    "SET_ALIASES",
    "REFERENCE",
    "get_set",
    "set_names",
    "scheme",
    "protocol",
    "calcium_events",
    "calcium",
    "time_above",
    "pairing_time_fractions",
    "Prediction",
    "predict",
    "analytic_change",
    "pairing_prediction",
    "Pairing",
    "infer_pairing",
    "periodic_change",
    "change_from_transitions",
    "EnsembleResult",
    "simulate_ode",
    "ode_change",
    "simulate_sde",
    "sde_change",
]

REFERENCE = ("Graupner M, Brunel N (2012) PNAS 109:3991-3996; noise term as corrected in "
             "PNAS (2013) doi:10.1073/pnas.1220044110")
_CODE = "digits as in the authors' public code (github.com/mgraupe/CalciumBasedPlasticityModel, synapticChange.py)"
_FIG2 = f"Graupner & Brunel 2012 PNAS 109:3991, Fig. 2 (STDP curves, 60 pairs at 1 Hz); {_CODE}"

#: Longest time step (ms) of the deterministic integration between calcium events in :func:`simulate_sde`.
QUIET_STEP_MS = 100.0


@dataclass(frozen=True)
class ParameterSet:
    """One published parameter set (times in ms, except ``tau_s`` in s, as in the paper).

    Attributes
    ----------
    tau_ca_ms : calcium decay time constant (ms)
    c_pre, c_post : calcium amplitude of a pre- (after the delay) and a postsynaptic spike
    theta_d, theta_p : depression and potentiation thresholds
    gamma_d, gamma_p : depression and potentiation rates (units of 1/tau)
    sigma : noise amplitude
    tau_s : time constant of the efficacy (s)
    rho_star : unstable fixed point separating DOWN and UP
    delay_ms : delay D of the presynaptic calcium transient (ms)
    beta : fraction of synapses initially DOWN
    b : UP/DOWN strength ratio
    """

    name: str
    tau_ca_ms: float
    c_pre: float
    c_post: float
    theta_d: float
    theta_p: float
    gamma_d: float
    gamma_p: float
    sigma: float
    tau_s: float
    rho_star: float
    delay_ms: float
    beta: float
    b: float
    source: str
    note: str = ""

    def __post_init__(self):
        for f in fields(self):
            if f.name in ("name", "source", "note"):
                continue
            v = getattr(self, f.name)
            if not (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)):
                raise ArgumentError(f"parameter `{f.name}` of set `{self.name}` must be a finite number, got {v!r}")
            object.__setattr__(self, f.name, float(v))
        positive = ("tau_ca_ms", "theta_d", "theta_p", "tau_s", "b")
        for n in positive:
            if not getattr(self, n) > 0:
                raise ArgumentError(f"parameter `{n}` of set `{self.name}` must be > 0, got {getattr(self, n)}")
        for n in ("c_pre", "c_post", "gamma_d", "gamma_p", "sigma", "delay_ms"):
            if getattr(self, n) < 0:
                raise ArgumentError(f"parameter `{n}` of set `{self.name}` must be >= 0, got {getattr(self, n)}")
        for n in ("rho_star", "beta"):
            if not 0 <= getattr(self, n) <= 1:
                raise ArgumentError(f"parameter `{n}` of set `{self.name}` must be in [0, 1], got {getattr(self, n)}")

    @property
    def tau_ms(self) -> float:
        """``tau`` in ms."""
        return self.tau_s * 1000.0

    def with_values(self, **values) -> "ParameterSet":
        """A copy with some values replaced (validated), e.g. ``sigma=0`` for the deterministic limit."""
        unknown = [k for k in values if k not in {f.name for f in fields(self)} or k in ("name", "source")]
        if unknown:
            names = [f.name for f in fields(self) if f.name not in ("name", "source", "note")]
            raise ArgumentError(f"unknown parameter `{unknown[0]}`" + did_you_mean(unknown[0], names)
                                + f"; parameters: {names}")
        return replace(self, **values)


def _set(name, tau_ca, c_pre, c_post, theta_d, theta_p, gamma_d, gamma_p, sigma, tau, rho_star, delay, beta, b,
         source, note=""):
    return ParameterSet(name, tau_ca, c_pre, c_post, theta_d, theta_p, gamma_d, gamma_p, sigma, tau, rho_star,
                        delay, beta, b, source, note)


#: name -> ParameterSet (tauCa ms, Cpre, Cpost, theta_d, theta_p, gamma_d, gamma_p, sigma, tau s, rho*, D ms, beta, b)
PARAMETER_SETS = {
    s.name: s for s in (
        _set("DP", 20, 1.0, 2.0, 1.0, 1.3, 200.0, 321.808, 2.8284, 150.0, 0.5, 13.7, 0.5, 5.0, _FIG2,
             "LTD for post-before-pre, LTP for pre-before-post"),
        _set("DPD", 20, 0.9, 0.9, 1.0, 1.3, 250.0, 550.0, 2.8284, 150.0, 0.5, 4.6, 0.5, 5.0, _FIG2,
             "LTD - LTP - LTD as the timing increases"),
        _set("DPDprime", 20, 1.0, 2.0, 1.0, 2.5, 50.0, 600.0, 2.8284, 150.0, 0.5, 2.2, 0.5, 5.0, _FIG2,
             "the paper's DPD'"),
        _set("P", 20, 2.0, 2.0, 1.0, 1.3, 160.0, 257.447, 2.8284, 150.0, 0.5, 0.0, 0.5, 5.0, _FIG2,
             "potentiation only"),
        _set("D", 20, 0.6, 0.6, 1.0, 1.3, 500.0, 550.0, 5.6568, 150.0, 0.5, 0.0, 0.5, 5.0, _FIG2,
             "depression only (near-coincident spikes)"),
        _set("Dprime", 20, 1.0, 2.0, 1.0, 3.5, 60.0, 600.0, 2.8284, 150.0, 0.5, 0.0, 0.5, 5.0, _FIG2,
             "the paper's D'"),
        _set("hippocampal_slices", 48.8373, 1.0, 0.275865, 1.0, 1.3, 313.0965, 1645.59, 9.1844, 688.355, 0.5,
             18.8008, 0.7, 5.28145,
             f"Graupner & Brunel 2012 PNAS 109:3991, fit to hippocampal slice data (used in Fig. 3); {_CODE}",
             "the experimental study fitted is named in the paper; not restated here"),
        _set("hippocampal_cultures", 11.9536, 0.58156, 1.76444, 1.0, 1.3, 61.141, 113.6545, 2.5654, 33.7596, 0.5,
             10.0, 0.5, 36.0263,
             f"Graupner & Brunel 2012 PNAS 109:3991, fit to hippocampal culture data; {_CODE}",
             "the experimental study fitted is named in the paper; not restated here"),
        _set("cortical_slices", 22.6936, 0.5617539, 1.23964, 1.0, 1.3, 331.909, 725.085, 3.3501, 346.3615, 0.5,
             4.6098, 0.5, 5.40988,
             f"Graupner & Brunel 2012 PNAS 109:3991, fit to Sjostrom, Turrigiano & Nelson 2001 (Neuron 32:1149) "
             f"used in Fig. 4; {_CODE}",
             "visual cortex L5 pairs; frequency dependence of +/-10 ms pairing"),
    )
}

#: Other accepted spellings -> canonical name.
SET_ALIASES = {"DPD'": "DPDprime", "D'": "Dprime"}


def set_names() -> tuple:
    """Canonical names of the parameter sets."""
    return tuple(PARAMETER_SETS)


def _canonical(name: str) -> str | None:
    if name in PARAMETER_SETS:
        return name
    if name in SET_ALIASES:
        return SET_ALIASES[name]
    key = name.strip().replace("'", "prime").replace(" ", "_").replace("-", "_")
    if key in PARAMETER_SETS:
        return key
    lowered = {n.lower(): n for n in PARAMETER_SETS}
    return lowered.get(key.lower())


def get_set(name="DP") -> ParameterSet:
    """The parameter set ``name`` (a :class:`ParameterSet` passes through).

    Raises
    ------
    ArgumentError
        For an unknown name, with the closest match.
    """
    if isinstance(name, ParameterSet):
        return name
    if not isinstance(name, str):
        raise ArgumentError(f"parameter set must be a name or a ParameterSet, got {name!r}")
    canonical = _canonical(name)
    if canonical is None:
        raise ArgumentError(f"unknown Graupner-Brunel parameter set `{name}`"
                            + did_you_mean(name, list(PARAMETER_SETS) + list(SET_ALIASES))
                            + f"; choose one of {list(PARAMETER_SETS)}")
    return PARAMETER_SETS[canonical]


# --------------------------------------------------------------------------- kinetic scheme
def scheme(set="DP") -> Scheme:
    """The deterministic model as a kinetic scheme (species ``c`` and ``rho``; time in ms).

    The calcium transients are state jumps supplied by :func:`protocol`. Every
    value of the set is a parameter with its unit and source (``Cpre``,
    ``Cpost``, ``D``, ``sigma``, ``beta`` and ``b`` do not enter the ODEs: the
    protocol, the noise and the readout use them).

    Examples
    --------
    >>> s = scheme("DP")
    >>> s.species_names, s.get_parameter("tau").unit
    (('c', 'rho'), 's')
    """
    ps = get_set(set)
    src = ps.source
    params = [
        Parameter("tauCa", ps.tau_ca_ms, "ms", reference=src, note="calcium decay time constant"),
        Parameter("Cpre", ps.c_pre, "1", reference=src, note="presynaptic calcium amplitude (normalised)"),
        Parameter("Cpost", ps.c_post, "1", reference=src, note="postsynaptic calcium amplitude (normalised)"),
        Parameter("theta_d", ps.theta_d, "1", reference=src, note="depression threshold"),
        Parameter("theta_p", ps.theta_p, "1", reference=src, note="potentiation threshold"),
        Parameter("gamma_d", ps.gamma_d, "1", reference=src, note="depression rate, in units of 1/tau"),
        Parameter("gamma_p", ps.gamma_p, "1", reference=src, note="potentiation rate, in units of 1/tau"),
        Parameter("sigma", ps.sigma, "1", reference=src, note="noise amplitude (SDE only)"),
        Parameter("tau", ps.tau_s, "s", reference=src, note="efficacy time constant"),
        Parameter("rho_star", ps.rho_star, "1", bounds=(0.0, 1.0), reference=src, note="unstable fixed point"),
        Parameter("D", ps.delay_ms, "ms", reference=src, note="delay of the presynaptic calcium transient"),
        Parameter("beta", ps.beta, "1", bounds=(0.0, 1.0), reference=src, note="fraction of synapses initially DOWN"),
        Parameter("b", ps.b, "1", reference=src, note="UP/DOWN strength ratio"),
    ]
    return Scheme(
        qualified_name("graupner_brunel2012", ps.name),
        species=[Species("c", 0.0, unit="1", note="calcium (normalised)"),
                 Species("rho", 0.0, unit="1", nonnegative=False, note="synaptic efficacy; DOWN 0, UP 1")],
        parameters=params,
        rate_rules=[
            RateRule("c", "-c/tauCa"),
            RateRule("rho", "(-rho*(1 - rho)*(rho_star - rho) + gamma_p*(1 - rho)*heaviside(c - theta_p)"
                            " - gamma_d*rho*heaviside(c - theta_d))/tau"),
        ],
        description="calcium-based bistable synaptic efficacy (deterministic part)",
        reference=REFERENCE,
    )


def protocol(pre_times, post_times, set="DP") -> Protocol:
    """Calcium jumps of a spike protocol: ``c += Cpre`` at ``pre + D``, ``c += Cpost`` at ``post`` (ms).

    Examples
    --------
    >>> len(protocol([0.0], [10.0], "DP"))     # two jump components: pre (at 13.7 ms) and post
    2
    """
    ps = get_set(set)
    pre, post = _train(pre_times, "pre_times"), _train(post_times, "post_times")
    parts = []
    if pre.size:
        parts.append(jumps("c", pre + ps.delay_ms, ps.c_pre))
    if post.size:
        parts.append(jumps("c", post, ps.c_post))
    return Protocol(parts)


# --------------------------------------------------------------------------- exact calcium
def _train(times, what) -> np.ndarray:
    try:
        a = np.asarray(times, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ArgumentError(f"`{what}` must be spike times in ms (numbers), got {times!r}") from None
    if not np.all(np.isfinite(a)):
        raise ArgumentError(f"`{what}` must be finite spike times in ms")
    return np.sort(a)


def calcium_events(pre_times, post_times, set="DP"):
    """Times (ms, sorted, distinct) and summed amplitudes of the calcium jumps of a spike protocol."""
    ps = get_set(set)
    pre, post = _train(pre_times, "pre_times"), _train(post_times, "post_times")
    times = np.concatenate([pre + ps.delay_ms, post])
    amps = np.concatenate([np.full(pre.size, ps.c_pre), np.full(post.size, ps.c_post)])
    if times.size == 0:
        return times, amps
    order = np.argsort(times, kind="stable")
    times, amps = times[order], amps[order]
    uniq, start = np.unique(times, return_index=True)
    return uniq, np.add.reduceat(amps, start)


def _peaks(times, amps, tau_ca) -> np.ndarray:
    """Calcium just after each event (zero calcium before the first)."""
    peaks = np.empty_like(amps)
    c, last = 0.0, None
    for k, (t, a) in enumerate(zip(times, amps)):
        c = (c * math.exp(-(t - last) / tau_ca) if last is not None else 0.0) + a
        peaks[k] = c
        last = t
    return peaks


def calcium(t, pre_times, post_times, set="DP") -> np.ndarray:
    """The exact calcium trace ``c(t)`` (sum of exponentials; right-continuous at the jumps).

    Examples
    --------
    >>> float(calcium([10.0], [10.0], [10.0], "P")[0])   # pre and post at 10 ms, D = 0: Cpre + Cpost
    4.0
    >>> round(float(calcium([30.0], [], [10.0], "P")[0]), 4)   # Cpost exp(-20/20)
    0.7358
    """
    ps = get_set(set)
    times, amps = calcium_events(pre_times, post_times, ps)
    t = np.asarray(t, dtype=float)
    if times.size == 0:
        return np.zeros_like(t)
    peaks = _peaks(times, amps, ps.tau_ca_ms)
    k = np.searchsorted(times, t, side="right") - 1
    out = np.where(k >= 0, peaks[np.maximum(k, 0)] * np.exp(-(t - times[np.maximum(k, 0)]) / ps.tau_ca_ms), 0.0)
    return out


def _above(times, peaks, tau_ca, theta):
    """Per event: time (ms) calcium stays above ``theta`` before the next event (the last one: until it decays)."""
    gaps = np.append(np.diff(times), np.inf)
    with np.errstate(divide="ignore"):
        decay = np.where(peaks > theta, tau_ca * np.log(np.maximum(peaks, 1e-300) / theta), 0.0)
    return np.minimum(gaps, decay)


def time_above(pre_times, post_times, set="DP"):
    """Total time (ms) the exact calcium of a spike protocol spends above ``theta_d`` and ``theta_p``.

    Returns
    -------
    (time_d, time_p) : tuple of float

    Examples
    --------
    A single postsynaptic spike of the DP set (Cpost = 2, tauCa = 20 ms):
    ``20 ln(2/1)`` above ``theta_d = 1`` and ``20 ln(2/1.3)`` above ``theta_p``.

    >>> [round(x, 4) for x in time_above([], [0.0], "DP")]
    [13.8629, 8.6157]
    """
    ps = get_set(set)
    times, amps = calcium_events(pre_times, post_times, ps)
    if times.size == 0:
        return 0.0, 0.0
    peaks = _peaks(times, amps, ps.tau_ca_ms)
    return (float(_above(times, peaks, ps.tau_ca_ms, ps.theta_d).sum()),
            float(_above(times, peaks, ps.tau_ca_ms, ps.theta_p).sum()))


def pairing_time_fractions(dt_ms: float, freq_hz: float, set="DP"):
    """Fractions ``(alpha_d, alpha_p)`` of a pairing period that the steady-state periodic calcium is above threshold.

    A regular pairing protocol at ``freq_hz``: presynaptic spikes at ``k P``,
    postsynaptic spikes at ``k P + dt_ms`` (``P = 1000/freq_hz`` ms). The
    steady-state periodic calcium just after an event ``j`` of the period is
    ``sum_i A_i exp(-((o_j - o_i) mod P)/tauCa) / (1 - exp(-P/tauCa))``; it
    decays monotonically to the next event, so the time above a threshold in
    each inter-event interval is ``min(interval, tauCa ln(c_j/theta))``.

    Examples
    --------
    DP at 1 Hz, pre 10 ms before post (the paper's ``alpha_d``, ``alpha_p``):

    >>> [round(a, 6) for a in pairing_time_fractions(10.0, 1.0, "DP")]
    [0.023283, 0.018036]
    """
    ps = get_set(set)
    dt_ms = float(dt_ms)
    freq_hz = float(freq_hz)
    if not (math.isfinite(freq_hz) and freq_hz > 0):
        raise ArgumentError(f"`freq_hz` must be > 0, got {freq_hz}")
    if not math.isfinite(dt_ms):
        raise ArgumentError(f"`dt_ms` must be finite, got {dt_ms}")
    period = 1000.0 / freq_hz
    tau = ps.tau_ca_ms
    offsets = np.array([ps.delay_ms % period, dt_ms % period])
    amps = np.array([ps.c_pre, ps.c_post])
    if abs(offsets[0] - offsets[1]) < 1e-12 * period or abs(abs(offsets[0] - offsets[1]) - period) < 1e-12 * period:
        offsets, amps = offsets[:1], np.array([ps.c_pre + ps.c_post])
    order = np.argsort(offsets)
    offsets, amps = offsets[order], amps[order]
    lag = (offsets[:, None] - offsets[None, :]) % period          # lag[j, i]: time since event i at event j
    peaks = (amps[None, :] * np.exp(-lag / tau)).sum(axis=1) / -math.expm1(-period / tau)
    gaps = np.diff(np.append(offsets, offsets[0] + period))
    out = []
    for theta in (ps.theta_d, ps.theta_p):
        above = np.where(peaks > theta, np.minimum(gaps, tau * np.log(np.maximum(peaks, 1e-300) / theta)), 0.0)
        out.append(float(above.sum() / period))
    return tuple(out)


# --------------------------------------------------------------------------- analytic prediction
@dataclass(frozen=True)
class Prediction:
    """The paper's analytic prediction for one protocol (see the module docstring).

    ``up`` is the DOWN -> UP transition probability ``U``, ``down`` the UP -> DOWN
    probability ``D``; ``mean_from_down``/``mean_from_up`` the mean efficacy at the
    end of the protocol for synapses started at 0 / 1; ``tau_eff_ms`` is infinite
    when calcium never crosses a threshold.
    """

    alpha_d: float
    alpha_p: float
    duration_ms: float
    rho_bar: float
    sigma_rho2: float
    tau_eff_ms: float
    mean_from_down: float
    mean_from_up: float
    up: float
    down: float
    change: float


def change_from_transitions(up, down, beta, b):
    """Mean strength after/before of a population with DOWN fraction ``beta`` and UP/DOWN ratio ``b``.

    Examples
    --------
    >>> change_from_transitions(0.0, 0.0, 0.5, 5.0)
    1.0
    >>> round(change_from_transitions(1.0, 0.0, 0.5, 5.0), 6)   # every DOWN synapse goes UP
    1.666667
    """
    up = np.asarray(up, dtype=float)
    down = np.asarray(down, dtype=float)
    out = ((beta * (1 - up) + (1 - beta) * down + b * (beta * up + (1 - beta) * (1 - down)))
           / (beta + (1 - beta) * b))
    return float(out) if out.ndim == 0 else out


def predict(alpha_d: float, alpha_p: float, duration_ms: float, set="DP") -> Prediction:
    """The analytic mean change when calcium is above ``theta_d`` (``theta_p``) a fraction ``alpha_d`` (``alpha_p``)
    of a protocol lasting ``duration_ms``.

    Examples
    --------
    No calcium above threshold: no change.

    >>> predict(0.0, 0.0, 60000.0, "DP").change
    1.0
    """
    ps = get_set(set)
    for name, v in (("alpha_d", alpha_d), ("alpha_p", alpha_p)):
        if not (math.isfinite(v) and 0.0 <= v <= 1.0 + 1e-12):
            raise ArgumentError(f"`{name}` must be a fraction in [0, 1], got {v}")
    if not (math.isfinite(duration_ms) and duration_ms >= 0):
        raise ArgumentError(f"`duration_ms` must be >= 0, got {duration_ms}")
    g_p, g_d = ps.gamma_p * alpha_p, ps.gamma_d * alpha_d
    total = g_p + g_d
    if total == 0.0 or duration_ms == 0.0:
        return Prediction(alpha_d, alpha_p, duration_ms, math.nan, 0.0, math.inf, 0.0, 1.0, 0.0, 0.0,
                          change_from_transitions(0.0, 0.0, ps.beta, ps.b))
    rho_bar = g_p / total
    sigma_rho2 = ps.sigma ** 2 * (alpha_p + alpha_d) / total
    tau_eff = ps.tau_ms / total
    decay = math.exp(-duration_ms / tau_eff)
    mean_down = rho_bar * (1.0 - decay)
    mean_up = rho_bar + (1.0 - rho_bar) * decay
    spread = math.sqrt(sigma_rho2 * -math.expm1(-2.0 * duration_ms / tau_eff))
    if spread > 0:
        up = 0.5 * (1.0 + math.erf((mean_down - ps.rho_star) / spread))
        down = 0.5 * (1.0 + math.erf((ps.rho_star - mean_up) / spread))
    else:  # deterministic limit (sigma = 0)
        up = float(mean_down > ps.rho_star)
        down = float(mean_up < ps.rho_star)
    return Prediction(alpha_d, alpha_p, duration_ms, rho_bar, sigma_rho2, tau_eff, mean_down, mean_up, up, down,
                      change_from_transitions(up, down, ps.beta, ps.b))


def _protocol_span(times, amps, ps) -> float:
    """From the first calcium event to the end of the last supra-threshold period (ms)."""
    peaks = _peaks(times, amps, ps.tau_ca_ms)
    end = times[-1] + (ps.tau_ca_ms * math.log(peaks[-1] / ps.theta_d) if peaks[-1] > ps.theta_d else 0.0)
    return float(end - times[0])


def analytic_change(pre_times, post_times, set="DP") -> Prediction:
    """The analytic prediction for arbitrary spike trains, with the exact times above threshold.

    The duration is the span of the calcium activity; only ``alpha * duration``
    (the times above threshold from :func:`time_above`) enters the result.

    Examples
    --------
    >>> from models.experiments import pairing_times
    >>> pre, post = pairing_times(60, 1.0, 10.0)
    >>> p = analytic_change(pre, post, "DP")
    >>> abs(p.change - pairing_prediction(10.0, 1.0, 60, "DP").change) < 1e-3
    True
    """
    ps = get_set(set)
    times, amps = calcium_events(pre_times, post_times, ps)
    if times.size == 0:
        return predict(0.0, 0.0, 0.0, ps)
    t_d, t_p = time_above(pre_times, post_times, ps)
    span = _protocol_span(times, amps, ps)
    if span <= 0:
        return predict(0.0, 0.0, 0.0, ps)
    return predict(min(t_d / span, 1.0), min(t_p / span, 1.0), span, ps)


def pairing_prediction(dt_ms: float, freq_hz: float, n_pairs: int, set="DP") -> Prediction:
    """The paper's prediction for ``n_pairs`` regular pairs: periodic calcium, ``T = n_pairs * 1000/freq_hz`` ms.

    This is how the paper computes its STDP curves (Fig. 2: 60 pairs at 1 Hz)
    and the frequency dependence (Fig. 4).
    """
    n_pairs = int(n_pairs)
    if n_pairs < 1:
        raise ArgumentError(f"`n_pairs` must be >= 1, got {n_pairs}")
    a_d, a_p = pairing_time_fractions(dt_ms, freq_hz, set)
    return predict(a_d, a_p, n_pairs * 1000.0 / float(freq_hz), set)


@dataclass(frozen=True)
class Pairing:
    """A pairing protocol read from spike trains (:func:`infer_pairing`).

    ``n_pairs`` pairs in ``n_bursts`` equal bursts of ``pairs_per_burst``; within a
    burst the pairs come every ``1000/freq_hz`` ms; bursts start every
    ``burst_period_ms`` (``None`` for one regular train); ``dt_ms = t_post - t_pre``.
    """

    dt_ms: float
    freq_hz: float
    n_pairs: int
    pairs_per_burst: int
    n_bursts: int
    burst_period_ms: float | None


#: Tolerance (ms) of :func:`infer_pairing` on spike times (float rounding of the protocol builders).
PAIRING_TOLERANCE_MS = 1e-6


def infer_pairing(pre_times, post_times) -> Pairing:
    """Read ``dt``, the pairing frequency and the number of pairs from the spike trains of a pairing protocol.

    A pairing protocol (as :func:`models.experiments.pairing_times` builds it)
    has as many post- as presynaptic spikes, the same ``t_post - t_pre`` for
    every pair (after sorting each train), presynaptic spikes at one interval
    (the pairing frequency) within bursts of equal size, and bursts starting at
    a fixed period (one burst: a regular train). Times agree within
    :data:`PAIRING_TOLERANCE_MS`.

    Raises
    ------
    ArgumentError
        If the trains are not such a protocol, or have fewer than 2 pairs (no
        pairing frequency); the message says which condition fails.

    Examples
    --------
    The Sjostrom et al. 2001 protocol at 20 Hz (5 pairs, 15 bursts 10 s apart):

    >>> from models.experiments import sjostrom_protocol
    >>> infer_pairing(*sjostrom_protocol(-10.0, 20.0))
    Pairing(dt_ms=-10.0, freq_hz=20.0, n_pairs=75, pairs_per_burst=5, n_bursts=15, burst_period_ms=10000.0)
    >>> try:
    ...     infer_pairing([0.0, 100.0], [5.0, 300.0])
    ... except ArgumentError as exc:
    ...     print(str(exc).split(";")[0])
    not a pairing protocol: t_post - t_pre differs between pairs (5 to 200 ms)
    """
    hint = "(use method `exact` for other spike trains)"
    pre, post = _train(pre_times, "pre_times"), _train(post_times, "post_times")
    tol = PAIRING_TOLERANCE_MS
    if pre.size != post.size:
        raise ArgumentError(f"not a pairing protocol: {pre.size} presynaptic and {post.size} postsynaptic spikes; "
                            f"a pairing protocol pairs every presynaptic spike with one postsynaptic spike {hint}")
    if pre.size < 2:
        raise ArgumentError(f"not a pairing protocol: {pre.size} pair(s); the periodic method needs at least 2 pairs "
                            f"to define the pairing frequency {hint}")
    offsets = post - pre
    dt = float(offsets[0])
    if np.ptp(offsets) > tol:
        raise ArgumentError(f"not a pairing protocol: t_post - t_pre differs between pairs ({offsets.min():g} to "
                            f"{offsets.max():g} ms); the periodic method needs the same dt for every pair {hint}")
    gaps = np.diff(pre)
    if gaps.min() <= tol:
        raise ArgumentError(f"not a pairing protocol: two presynaptic spikes at the same time "
                            f"({pre[1:][gaps <= tol][0]:g} ms) {hint}")
    interval = float(gaps.min())
    within = np.abs(gaps - interval) <= tol
    starts = np.concatenate([[0], np.flatnonzero(~within) + 1])
    sizes = np.diff(np.append(starts, pre.size))
    if np.ptp(sizes) > 0:
        raise ArgumentError(f"not a pairing protocol: bursts of unequal size ({sizes.min()} to {sizes.max()} pairs at "
                            f"the {interval:g} ms interval) {hint}")
    period = None
    if starts.size > 1:
        onsets = np.diff(pre[starts])
        if np.ptp(onsets) > tol:
            raise ArgumentError(f"not a pairing protocol: bursts start at irregular intervals ({onsets.min():g} to "
                                f"{onsets.max():g} ms) {hint}")
        period = float(onsets.mean())
    return Pairing(dt, 1000.0 / interval, int(pre.size), int(sizes[0]), int(starts.size), period)


def periodic_change(pre_times, post_times, set="DP") -> Prediction:
    """The paper's prediction for the pairing protocol given as spike trains (the ``periodic`` method).

    :func:`infer_pairing` reads ``dt``, the pairing frequency ``f`` and the
    number of pairs ``n`` from the trains; the result is
    :func:`pairing_prediction` ``(dt, f, n)``: steady-state periodic calcium and
    ``T = n/f``, i.e. bursts are treated as ``n`` regular pairs at ``f`` (the
    paper's Fig. 4 computation for Sjostrom et al. 2001: 75 pairs).

    Examples
    --------
    >>> from models.experiments import sjostrom_protocol
    >>> p = periodic_change(*sjostrom_protocol(-10.0, 40.0), "cortical_slices")
    >>> p.change == pairing_prediction(-10.0, 40.0, 75, "cortical_slices").change
    True
    >>> round(p.change - analytic_change(*sjostrom_protocol(-10.0, 40.0), "cortical_slices").change, 3)
    0.157
    """
    ps = get_set(set)
    pairing = infer_pairing(pre_times, post_times)
    return pairing_prediction(pairing.dt_ms, pairing.freq_hz, pairing.n_pairs, ps)


# --------------------------------------------------------------------------- deterministic (ODE) simulation
def _activity_end(pre_times, post_times, ps) -> float:
    times, amps = calcium_events(pre_times, post_times, ps)
    if times.size == 0:
        return 0.0
    return times[0] + _protocol_span(times, amps, ps)


def simulate_ode(pre_times, post_times, set="DP", *, rho0=0.0, t_end=None, t_eval=None, rtol=1e-9, atol=1e-12,
                 method="auto"):
    """Simulate the deterministic model (no noise) with :func:`kinetics.simulate`.

    ``t_end`` defaults to the end of the calcium activity plus 1 ms.
    Returns the :class:`kinetics.Result` (states ``c`` and ``rho``, time in ms).
    """
    ps = get_set(set)
    if t_end is None:
        t_end = max(_activity_end(pre_times, post_times, ps), 0.0) + 1.0
    sch = scheme(ps).with_initial(rho=float(rho0))
    return simulate(sch, protocol(pre_times, post_times, ps), t_end=t_end, t_eval=t_eval, rtol=rtol, atol=atol,
                    method=method)


def ode_change(pre_times, post_times, set="DP", **options) -> float:
    """The change of the deterministic limit: DOWN and UP synapses simulated with the ODE, classified at ``rho*``.

    Transitions are all-or-none without noise, so the result is one of four values.
    """
    ps = get_set(set)
    end = []
    for rho0 in (0.0, 1.0):
        res = simulate_ode(pre_times, post_times, ps, rho0=rho0, **options)
        end.append(float(res["rho"][-1]))
    return change_from_transitions(float(end[0] > ps.rho_star), float(end[1] < ps.rho_star), ps.beta, ps.b)


# --------------------------------------------------------------------------- stochastic (SDE) ensemble
@dataclass(frozen=True)
class EnsembleResult:
    """Outcome of an SDE ensemble: transition frequencies, their standard errors and the readout."""

    n_per_state: int
    up: float
    down: float
    change: float
    change_sem: float
    rho_from_down: np.ndarray
    rho_from_up: np.ndarray
    n_steps: int


def _segments(pre_times, post_times, ps, t_end):
    """Breakpoints where calcium jumps or crosses a threshold, and (H_d, H_p) on each piece."""
    times, amps = calcium_events(pre_times, post_times, ps)
    if times.size == 0:
        return np.array([0.0, t_end]), np.zeros((1, 2))
    peaks = _peaks(times, amps, ps.tau_ca_ms)
    points = [times]
    for theta in (ps.theta_d, ps.theta_p):
        stay = _above(times, peaks, ps.tau_ca_ms, theta)
        points.append((times + stay)[np.isfinite(stay) & (stay > 0)])
    start = min(0.0, float(times[0]))
    bps = np.unique(np.concatenate(points + [[start, t_end]]))
    bps = bps[(bps >= start) & (bps <= t_end)]
    keep = np.append(True, np.diff(bps) > 1e-9)
    bps = bps[keep]
    mids = 0.5 * (bps[:-1] + bps[1:])
    c_mid = calcium(mids, pre_times, post_times, ps)
    flags = np.column_stack([c_mid > ps.theta_d, c_mid > ps.theta_p]).astype(float)
    return bps, flags


def _rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise ArgumentError(f"`rng` must be a numpy Generator, an integer seed or None, got {rng!r}")


def simulate_sde(pre_times, post_times, set="DP", *, rho0, rng=None, step_ms=0.1, t_end=None):
    """Euler-Maruyama ensemble of the noisy model, vectorised over the synapses.

    The calcium is exact (sum of exponentials): every calcium jump and every
    threshold crossing is a grid point, so the Heaviside terms are constant
    and exact on each step. While calcium is above a threshold the step is at
    most ``step_ms``; while it is below both thresholds there is no noise and
    no calcium drive, and the remaining deterministic drift
    ``-rho(1-rho)(rho*-rho)/tau`` is integrated with classical Runge-Kutta
    (steps of at most ``QUIET_STEP_MS``).

    Parameters
    ----------
    rho0 : array_like
        Initial efficacies, one per synapse of the ensemble.
    rng : numpy.random.Generator or int, optional
    step_ms : float
        Largest Euler-Maruyama step (ms).
    t_end : float, optional
        Default: the end of the calcium activity.

    Returns
    -------
    (rho_end, n_steps) : (ndarray, int)
    """
    ps = get_set(set)
    gen = _rng(rng)
    if not (isinstance(step_ms, (int, float)) and math.isfinite(step_ms) and step_ms > 0):
        raise ArgumentError(f"`step_ms` must be a positive number of ms, got {step_ms!r}")
    rho = np.array(rho0, dtype=float).ravel()
    if rho.size == 0 or not np.all(np.isfinite(rho)):
        raise ArgumentError("`rho0` must be a non-empty array of finite initial efficacies")
    if t_end is None:
        t_end = _activity_end(pre_times, post_times, ps)
    bps, flags = _segments(pre_times, post_times, ps, float(t_end))
    tau, rs, gp, gd = ps.tau_ms, ps.rho_star, ps.gamma_p, ps.gamma_d

    def cubic(r):
        return -r * (1.0 - r) * (rs - r) / tau

    n_steps = 0
    for (a, b_), (hd, hp) in zip(zip(bps[:-1], bps[1:]), flags):
        length = b_ - a
        if hd == 0.0 and hp == 0.0:
            n = max(1, math.ceil(length / QUIET_STEP_MS))
            h = length / n
            for _ in range(n):
                k1 = cubic(rho)
                k2 = cubic(rho + 0.5 * h * k1)
                k3 = cubic(rho + 0.5 * h * k2)
                k4 = cubic(rho + h * k3)
                rho = rho + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
            n_steps += n
            continue
        n = max(1, math.ceil(length / step_ms - 1e-9))
        h = length / n
        noise = ps.sigma * math.sqrt(h / tau * (hd + hp))
        for _ in range(n):
            drift = -rho * (1.0 - rho) * (rs - rho) + gp * hp * (1.0 - rho) - gd * hd * rho
            rho = rho + (h / tau) * drift
            if noise > 0:
                rho += noise * gen.standard_normal(rho.size)
        n_steps += n
    return rho, n_steps


def sde_change(pre_times, post_times, set="DP", *, n_per_state=2000, rng=None, step_ms=0.1) -> EnsembleResult:
    """The change of the population readout estimated with an SDE ensemble.

    ``n_per_state`` synapses start DOWN (``rho = 0``) and as many UP
    (``rho = 1``); ``U`` and ``D`` are the fractions that end on the other side
    of ``rho*``. ``change_sem`` is the standard error of the change from the
    binomial errors of ``U`` and ``D``.
    """
    ps = get_set(set)
    n = int(n_per_state)
    if n < 1:
        raise ArgumentError(f"`n_per_state` must be >= 1, got {n_per_state}")
    rho0 = np.concatenate([np.zeros(n), np.ones(n)])
    rho, n_steps = simulate_sde(pre_times, post_times, ps, rho0=rho0, rng=rng, step_ms=step_ms)
    from_down, from_up = rho[:n], rho[n:]
    up = float(np.mean(from_down > ps.rho_star))
    down = float(np.mean(from_up < ps.rho_star))
    scale = 1.0 / (ps.beta + (1 - ps.beta) * ps.b)
    # d change / dU = beta (b - 1) scale ; d change / dD = (1 - beta)(1 - b) scale
    sem = scale * math.sqrt((ps.beta * (ps.b - 1)) ** 2 * up * (1 - up) / n
                            + ((1 - ps.beta) * (ps.b - 1)) ** 2 * down * (1 - down) / n)
    return EnsembleResult(n, up, down, change_from_transitions(up, down, ps.beta, ps.b), sem, from_down, from_up,
                          n_steps)
