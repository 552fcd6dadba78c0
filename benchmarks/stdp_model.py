"""The STDP benchmark model, written with nmdakin (the ``kinetics`` package).

Destexhe's 5-state NMDA receptor scheme (no statistical factors) at a fixed
membrane potential with a Jahr-Stevens Mg block, a calcium pool fed by the open
state, and a calcium-controlled bistable synaptic efficacy ``rho`` (Graupner &
Brunel-style). Units: ms, mM, mV. Sixty 1 ms, 1 mM glutamate pulses at
``t_k = 10 + 1000 k`` ms, ``k = 0..59``; ``t_end = 60000`` ms.

This module is shared by ``benchmarks/stdp_benchmark.py``, the tests and the
docs. The plain-number description (``PARAMETERS``, ``INITIAL_STATE``,
``pulse_times()``, ``output_grid()``...) does not need ``kinetics``; only
:func:`build_scheme` and :func:`build_protocol` import it, so the peer
(libRoadRunner) and reference (scipy) parts of the benchmark can run without it.

Public functions: :func:`build_scheme`, :func:`build_protocol`,
:func:`output_grid`, :func:`pulse_times`, :func:`sweep_parameters`.

Equations::

    B = 1/(1 + exp(-0.062*V)*Mg/3.57)
    C0 <-> C1 (Rb*glu, Ru);  C1 <-> C2 (Rb*glu, Ru);  C2 <-> D (Rd, Rr);  C2 <-> O (Ro, Rc)
    dCa/dt  = k_ca*O*B - Ca/tau_ca
    S(x)    = 1/(1 + exp(-x/w))
    drho/dt = (-rho*(1-rho)*(rho_star-rho) + gamma_p*(1-rho)*S(Ca-theta_p)
               - gamma_d*rho*S(Ca-theta_d))/tau
"""
from __future__ import annotations

import math

import numpy as np

__all__ = [
    "build_scheme",
    "build_protocol",
    "output_grid",
    "pulse_times",
    "sweep_parameters",
    "STATE_NAMES",
    "INITIAL_STATE",
    "PARAMETERS",
    "PARAMETER_UNITS",
    "N_PULSES",
    "PULSE_START",
    "PULSE_PERIOD",
    "PULSE_WIDTH",
    "PULSE_AMPLITUDE",
    "T_END",
    "WINDOW",
    "WINDOW_STEP",
    "RTOL",
    "ATOL",
]

#: State variables, in the order every benchmark table uses.
STATE_NAMES = ("C0", "C1", "C2", "D", "O", "Ca", "rho")
#: Initial values (receptor state fractions; Ca in mM; rho dimensionless).
INITIAL_STATE = {"C0": 1.0, "C1": 0.0, "C2": 0.0, "D": 0.0, "O": 0.0, "Ca": 0.0, "rho": 0.3}
_STATE_UNITS = {"C0": "1", "C1": "1", "C2": "1", "D": "1", "O": "1", "Ca": "mM", "rho": "1"}

#: Parameter values in the units of :data:`PARAMETER_UNITS` (ms, mM, mV).
PARAMETERS = {
    "Rb": 5.0,          # binding, per mM per ms
    "Ru": 12.9e-3,      # unbinding
    "Rd": 8.4e-3,       # desensitisation
    "Rr": 6.8e-3,       # resensitisation
    "Ro": 46.5e-3,      # opening
    "Rc": 73.8e-3,      # closing
    "V": -30.0,         # membrane potential (fixed)
    "Mg": 1.0,          # extracellular Mg
    "k_ca": 0.75,       # Ca influx per open fraction
    "tau_ca": 20.0,     # Ca decay
    "tau": 150000.0,    # efficacy time constant
    "rho_star": 0.5,    # unstable fixed point of rho
    "gamma_p": 321.808,
    "gamma_d": 200.0,
    "theta_p": 1.3,
    "theta_d": 1.0,
    "w": 0.02,          # sigmoid width
}
PARAMETER_UNITS = {
    "Rb": "1/(mM*ms)", "Ru": "1/ms", "Rd": "1/ms", "Rr": "1/ms", "Ro": "1/ms", "Rc": "1/ms",
    "V": "mV", "Mg": "mM", "k_ca": "mM/ms", "tau_ca": "ms", "tau": "ms", "rho_star": "1",
    "gamma_p": "1", "gamma_d": "1", "theta_p": "mM", "theta_d": "mM", "w": "mM",
}
_FREE_SIGN = {"V"}  # parameters that may be negative

N_PULSES = 60
PULSE_START = 10.0       # ms, first pulse
PULSE_PERIOD = 1000.0    # ms
PULSE_WIDTH = 1.0        # ms
PULSE_AMPLITUDE = 1.0    # mM glutamate
T_END = 60000.0          # ms
WINDOW = 100.0           # ms of output after each pulse start
WINDOW_STEP = 0.5        # ms
#: Tolerances every tool is run with.
RTOL = 1e-7
ATOL = 1e-9

MG_BLOCK = "1/(1 + exp(-0.062*V)*Mg/3.57)"
CA_RATE = "k_ca*O*B - Ca/tau_ca"
RHO_RATE = ("(-rho*(1 - rho)*(rho_star - rho)"
            " + gamma_p*(1 - rho)/(1 + exp(-(Ca - theta_p)/w))"
            " - gamma_d*rho/(1 + exp(-(Ca - theta_d)/w)))/tau")


def pulse_times() -> np.ndarray:
    """Pulse start times ``t_k = 10 + 1000 k`` ms, ``k = 0..59`` (float array, exact)."""
    return PULSE_START + PULSE_PERIOD * np.arange(N_PULSES, dtype=float)


def output_grid() -> np.ndarray:
    """The output times: for each pulse ``t_k + 0, 0.5, ..., 100`` ms (201 points), then ``T_END``.

    12061 strictly increasing times, all exactly representable (multiples of 0.5).
    The grid contains every pulse start ``t_k`` and end ``t_k + 1``.
    """
    offsets = WINDOW_STEP * np.arange(int(round(WINDOW / WINDOW_STEP)) + 1, dtype=float)
    grid = (pulse_times()[:, None] + offsets[None, :]).ravel()
    return np.concatenate([grid, [T_END]])


def sweep_parameters(n: int = 1000, seed: int = 0) -> dict:
    """The benchmark sweep: ``{"Rb": ..., "Ro": ...}``, each nominal value times a factor in U[0.5, 1.5].

    Factors come from ``numpy.random.default_rng(seed)``: first ``n`` for ``Rb``, then ``n`` for ``Ro``.
    """
    rng = np.random.default_rng(seed)
    f_rb = rng.uniform(0.5, 1.5, n)
    f_ro = rng.uniform(0.5, 1.5, n)
    return {"Rb": PARAMETERS["Rb"] * f_rb, "Ro": PARAMETERS["Ro"] * f_ro}


def build_scheme():
    """The benchmark model as a :class:`kinetics.Scheme` (imports ``kinetics``)."""
    from kinetics import Input, Observable, Parameter, RateRule, Scheme, Species, reaction

    species = [Species(n, INITIAL_STATE[n], unit=_STATE_UNITS[n]) for n in STATE_NAMES]
    parameters = [
        Parameter(n, v, PARAMETER_UNITS[n], **({"bounds": (-math.inf, math.inf)} if n in _FREE_SIGN else {}))
        for n, v in PARAMETERS.items()
    ]
    return Scheme(
        "stdp_benchmark",
        species=species,
        parameters=parameters,
        inputs=[Input("glu", 0.0, "mM")],
        reactions=[
            reaction("C0 <-> C1", "Rb*glu", "Ru"),
            reaction("C1 <-> C2", "Rb*glu", "Ru"),
            reaction("C2 <-> D", "Rd", "Rr"),
            reaction("C2 <-> O", "Ro", "Rc"),
        ],
        observables=[Observable("B", MG_BLOCK)],
        rate_rules=[RateRule("Ca", CA_RATE), RateRule("rho", RHO_RATE)],
        description="STDP benchmark: Destexhe 5-state NMDA receptor, Mg block, Ca pool, bistable efficacy rho",
        reference="Destexhe, Mainen & Sejnowski 1994; Jahr & Stevens 1990; Graupner & Brunel 2012",
    )


def build_protocol():
    """Sixty 1 ms, 1 mM glutamate pulses at :func:`pulse_times` (imports ``kinetics``)."""
    from kinetics.protocol import Protocol, pulses

    return Protocol([pulses("glu", times=pulse_times(), amplitude=PULSE_AMPLITUDE, width=PULSE_WIDTH)])
