"""Tsodyks & Markram (1997): the dynamic synapse with resource depletion, as a kinetic scheme.

The model (Tsodyks & Markram 1997, PNAS 94:719) divides the synaptic resources
into three fractions: recovered ``x``, active ``y`` (the transmitter acting on
the receptors; the postsynaptic current is ``A_SE * y``) and inactive ``z``::

    dx/dt =  z/tau_rec                 - Pr * x * delta(t - t_spike)
    dy/dt = -y/tau_in                  + Pr * x * delta(t - t_spike)
    dz/dt =  y/tau_in - z/tau_rec

``Pr`` is the release probability of recovered resources (``U_SE`` in the paper).
L5 pyramidal-pyramidal connections are depressing: ``Pr = 0.46``,
``tau_rec = 525 ms`` (Loebel et al. 2009; see the parameter notes). Facilitation
is left out, as for these depressing connections in the original model.

Design: a spike-driven reaction, not a state-dependent jump
-----------------------------------------------------------
A presynaptic spike moves the fraction ``Pr`` of the *current* ``x`` into ``y``:
the jump depends on the state, which :func:`kinetics.jumps` (constant amounts)
cannot express. The scheme therefore writes the spike as a reaction::

    x -> y ;  k_release * spike_pre      with   k_release = -ln(1 - Pr)

driven by the input ``spike_pre``, a train of short square pulses of unit area
(:func:`spike_pulses`: amplitude ``1/width`` for ``width`` ms, default 0.01 ms).
During one pulse ``x`` decays by exactly ``exp(-k_release * 1) = 1 - Pr``, so
each spike releases ``Pr * x`` — the Tsodyks-Markram update — up to recovery
during the pulse, a relative error of order ``width/tau_rec`` (2e-5 for the
defaults). The same scheme therefore runs under every solver, composes with
other schemes (the presynaptic tLTD pathway lowers ``Pr`` through its own
reactions) and keeps ``x + y + z = 1``.

``Pr`` is a *species* with no dynamics of its own here: the baseline release
probability that long-term presynaptic plasticity changes. A scheme that lowers
it (``models.presynaptic_tltd``) composes with this one through the shared name.

Steady state of a regular train
-------------------------------
For spikes every ``T`` ms and ``tau_in -> 0`` the recovered fraction just before
a spike settles at (Tsodyks & Markram 1997)::

    x_ss = (1 - E) / (1 - (1 - Pr) E),      E = exp(-T / tau_rec),

and the release per spike at ``Pr * x_ss``. With finite ``tau_in`` the exact
steady state is the fixed point of the linear map "spike, then free decay for
T" (:func:`steady_state_release`, computed with the matrix exponential).

Examples
--------
>>> import numpy as np, kinetics as kx
>>> from models import tsodyks_markram as tm
>>> s = tm.scheme()
>>> spikes = kx.regular_train(20, 20.0, t0=10.0)
>>> res = kx.simulate(s, kx.Protocol([tm.spike_pulses(spikes)]), t_end=1000.0,
...                   t_eval=spikes, rtol=1e-9, atol=1e-12)
>>> x_before = res["x"]                          # recovered fraction just before each spike
>>> bool(abs(x_before[-1] - tm.closed_form_x_ss(tm.U_L5, tm.TAU_REC_L5, 50.0)) < 0.01)
True
"""
from __future__ import annotations

import math

import numpy as np

from kinetics import Input, Observable, Parameter, Scheme, Species, pulses, reaction
from kinetics.errors import ArgumentError

__all__ = ["scheme", "spike_pulses", "closed_form_x_ss", "closed_form_release_ss", "steady_state_release",
           "release_per_spike", "U_L5", "TAU_REC_L5", "TAU_IN", "SPIKE_WIDTH", "TSODYKS_MARKRAM", "LOEBEL"]

TSODYKS_MARKRAM = "Tsodyks MV, Markram H (1997) PNAS 94:719-723"
LOEBEL = ("Loebel A, Silberberg G, Helbig D, Markram H, Tsodyks M, Richardson MJE (2009) "
          "Front Comput Neurosci 3:27")

#: Release probability of L5 pyramidal-pyramidal connections (Loebel et al. 2009; see the parameter notes).
U_L5 = 0.46
#: Recovery time constant, ms (Loebel et al. 2009; see the parameter notes).
TAU_REC_L5 = 525.0
#: Inactivation time constant of the active resources, ms (Tsodyks & Markram 1997).
TAU_IN = 3.0
#: Default width of one spike pulse, ms.
SPIKE_WIDTH = 0.01


def scheme(U: float = U_L5, tau_rec: float = TAU_REC_L5, tau_in: float = TAU_IN, A_SE: float = 1.0) -> Scheme:
    """The Tsodyks-Markram depressing synapse driven by the input ``spike_pre``.

    Parameters
    ----------
    U : float
        Initial (baseline) release probability, the initial value of species ``Pr``.
    tau_rec, tau_in : float
        Recovery and inactivation time constants, ms.
    A_SE : float
        Absolute synaptic efficacy: the response when every resource is active
        (a scale; ``EPSC = A_SE * y``).

    Returns
    -------
    Scheme
        Species ``x, y, z`` (fractions, ``x + y + z = 1``) and ``Pr``; input
        ``spike_pre`` (unit-area pulses, see :func:`spike_pulses`); observables
        ``k_release`` and ``EPSC`` (= ``A_SE * y``).

    Examples
    --------
    >>> scheme().species_names
    ('x', 'y', 'z', 'Pr')
    """
    if not 0.0 < U < 1.0:
        raise ArgumentError(f"release probability `U` must be in (0, 1), got {U!r}")
    return Scheme(
        "tsodyks_markram1997",
        species=[
            Species("x", 1.0, unit="1", note="recovered resources"),
            Species("y", 0.0, unit="1", note="active resources (transmitter acting on the receptors)"),
            Species("z", 0.0, unit="1", note="inactive resources, recovering with tau_rec"),
            Species("Pr", U, unit="1", note="baseline release probability of recovered resources (U_SE); "
                    "constant here, lowered lastingly by presynaptic LTD when composed with "
                    "models.presynaptic_tltd. Initial value: U = 0.46 attributed to Loebel et al. 2009 for L5 "
                    "pairs (the place in the paper that gives it has not been verified)"),
        ],
        parameters=[
            Parameter("tau_rec", tau_rec, "ms", reference=LOEBEL,
                      note="recovery from depression; 525 ms for depressing L5 pyramidal-pyramidal pairs, "
                           "attributed to Loebel et al. 2009 (L5 pairs of somatosensory cortex); the table "
                           "or figure of the paper that gives it has not been verified"),
            Parameter("tau_in", tau_in, "ms", reference=TSODYKS_MARKRAM,
                      note="inactivation of active resources (~3 ms, sets the EPSC decay)"),
            Parameter("A_SE", A_SE, "1", note="absolute synaptic efficacy: a scale choice (1 = responses in "
                                              "units of A_SE), not a published value"),
        ],
        inputs=[Input("spike_pre", 0.0, "1/ms", note="presynaptic spikes as unit-area pulses (spike_pulses)")],
        reactions=[
            reaction("x -> y", "k_release*spike_pre", name="release"),
            reaction("y -> z", "1/tau_in", name="inactivation"),
            reaction("z -> x", "1/tau_rec", name="recovery"),
        ],
        observables=[
            Observable("k_release", "-log(1 - Pr)", unit="1",
                       note="release rate per unit spike area: one pulse releases the fraction Pr of x"),
            Observable("EPSC", "A_SE*y", unit="1", note="postsynaptic response, in units of A_SE"),
        ],
        description="Tsodyks-Markram dynamic synapse (depressing), spikes as unit-area pulses on spike_pre",
        reference=TSODYKS_MARKRAM,
    )


def spike_pulses(times, width: float = SPIKE_WIDTH, input: str = "spike_pre"):
    """Presynaptic spikes for :func:`scheme`: square pulses of unit area (amplitude ``1/width``).

    Examples
    --------
    >>> p = spike_pulses([10.0, 60.0])
    >>> p.amplitude * p.width
    1.0
    """
    if not (isinstance(width, (int, float)) and math.isfinite(width) and width > 0):
        raise ArgumentError(f"spike pulse `width` must be a positive number of ms, got {width!r}")
    return pulses(input, times, amplitude=1.0 / width, width=width)


def closed_form_x_ss(U: float, tau_rec: float, period: float) -> float:
    """Recovered fraction just before each spike of a long regular train (``tau_in -> 0``).

    ``x_ss = (1 - E) / (1 - (1 - U) E)`` with ``E = exp(-period/tau_rec)`` (Tsodyks & Markram 1997).

    Examples
    --------
    >>> round(closed_form_x_ss(0.46, 525.0, 50.0), 4)
    0.1785
    """
    e = math.exp(-period / tau_rec)
    return (1.0 - e) / (1.0 - (1.0 - U) * e)


def closed_form_release_ss(U: float, tau_rec: float, period: float) -> float:
    """Steady-state release per spike ``U * x_ss`` (``tau_in -> 0``)."""
    return U * closed_form_x_ss(U, tau_rec, period)


def steady_state_release(U: float, tau_rec: float, tau_in: float, period: float) -> float:
    """Exact steady-state release per spike of the three-state model with finite ``tau_in``.

    The state just before a spike, ``s = (x, y, z)``, obeys ``s' = expm(M T) J s``
    with the spike map ``J`` (``x -> (1-U) x``, ``y += U x``) and the free
    dynamics ``M``; on the plane ``x + y + z = 1`` this has one fixed point,
    found here by solving the 2x2 linear system for ``(x, y)``.
    """
    from scipy.linalg import expm

    M = np.array([[0.0, 0.0, 1.0 / tau_rec],
                  [0.0, -1.0 / tau_in, 0.0],
                  [0.0, 1.0 / tau_in, -1.0 / tau_rec]])
    J = np.array([[1.0 - U, 0.0, 0.0], [U, 1.0, 0.0], [0.0, 0.0, 1.0]])
    A = expm(M * period) @ J
    # eliminate z = 1 - x - y: s = P q + c with q = (x, y)
    P = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    c = np.array([0.0, 0.0, 1.0])
    lhs = (A @ P)[:2] - np.eye(2)
    rhs = -(A @ c)[:2]
    x, _ = np.linalg.solve(lhs, rhs)
    return U * x


def release_per_spike(result, spike_times, width: float = SPIKE_WIDTH) -> np.ndarray:
    """Release per spike measured from a simulation: ``x`` just before minus ``x`` just after each pulse.

    ``result`` must contain output times at each spike and at each spike + ``width``.
    Recovery during the pulse biases the measure by about ``z * width / tau_rec``
    (absolute), which matters relative to the small releases of fast trains: use a
    narrow ``width`` when comparing with exact values.
    """
    t = np.asarray(result.t)
    x = np.asarray(result["x"])
    out = []
    for ts in np.asarray(spike_times, dtype=float):
        i0 = np.flatnonzero(np.isclose(t, ts, rtol=0, atol=1e-9))
        i1 = np.flatnonzero(np.isclose(t, ts + width, rtol=0, atol=1e-9))
        if i0.size == 0 or i1.size == 0:
            raise ArgumentError(f"release_per_spike: the result has no output at t = {ts:g} and {ts + width:g} ms; "
                                "include both in t_eval")
        out.append(x[i0[0]] - x[i1[0]])
    return np.asarray(out)
