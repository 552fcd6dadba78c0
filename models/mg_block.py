"""Mg2+ voltage block of NMDA receptors.

Static block, Jahr & Stevens (1990)::

    B(V) = 1 / (1 + exp(-0.062 V) [Mg2+] / 3.57 mM)        (V in mV)

A scheme gets the block as an observable ``B`` (voltage ``V`` and ``Mg`` are
inputs so a protocol can clamp or step them) and an NMDA current
``I_NMDA = g_NMDA * Popen * B * (V - E_NMDA)``.
"""
from __future__ import annotations

import math

import numpy as np

from kinetics import Input, Observable, Parameter, Scheme

__all__ = ["jahr_stevens", "with_nmda_current"]

JAHR_STEVENS = "Jahr CE, Stevens CF (1990) J Neurosci 10:3178-3182"


def jahr_stevens(V, mg=1.0):
    """B(V) of Jahr & Stevens (1990); ``V`` in mV, ``mg`` in mM (numpy-vectorised)."""
    return 1.0 / (1.0 + np.exp(-0.062 * np.asarray(V, dtype=float)) * mg / 3.57)


def with_nmda_current(receptor: Scheme, *, g_nmda: float = 1.0, e_nmda: float = 0.0) -> Scheme:
    """Add the Jahr-Stevens block ``B`` and the current ``I_NMDA`` (pA) to a receptor scheme with an ``O`` state.

    ``g_NMDA`` (nS) is the conductance of the whole synapse with every receptor
    open — a choice (1 nS by default, so currents read in units of g_NMDA), not a
    published value. ``E_NMDA = 0 mV``: the NMDA current reverses near 0 mV.
    """
    extra = [
        Parameter("mg_K0", 3.57, "mM", reference=JAHR_STEVENS, note="Mg2+ dissociation constant at 0 mV"),
        Parameter("mg_delta", 0.062, "1/mV", reference=JAHR_STEVENS, note="voltage dependence of the block"),
        Parameter("g_NMDA", g_nmda, "nS", note="maximal synaptic NMDA conductance: a scale choice, not a published value"),
        Parameter("E_NMDA", e_nmda, "mV", bounds=(-math.inf, math.inf), note="reversal potential of the NMDA current (~0 mV)"),
    ]
    return receptor.replace(
        name=receptor.name + "+mg_block",
        parameters=receptor.parameters + tuple(extra),
        inputs=receptor.inputs + (Input("V", -65.0, "mV", note="membrane potential"),
                                  Input("Mg", 1.0, "mM", note="extracellular Mg2+")),
        observables=receptor.observables + (
            Observable("B", "1/(1 + exp(-mg_delta*V)*Mg/mg_K0)", unit="1", note="Jahr-Stevens Mg2+ block"),
            Observable("I_NMDA", "g_NMDA*O*B*(V - E_NMDA)", unit="pA", note="NMDA current (inward < 0)"),
        ),
    )
