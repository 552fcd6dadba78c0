"""Mg2+ voltage block of NMDA receptors: the static Jahr & Stevens (1990) block.

Static block, Jahr & Stevens (1990)::

    B(V) = 1 / (1 + exp(-0.062 V) [Mg2+] / 3.57 mM)        (V in mV)

``B`` is the fraction of open channels free of Mg2+ at equilibrium; the block
is assumed instantaneous. Its slope is ``dB/dV = 0.062 B (1 - B)``.

:func:`with_nmda_current` gives a receptor scheme the block as an observable
``B`` (voltage ``V`` and ``Mg`` are inputs so a protocol can clamp or step them),
the open conductance ``G_NMDA = g_NMDA * O * B`` (nS) and the current
``I_NMDA = G_NMDA * (V - E_NMDA)`` (pA, inward < 0). The kinetic alternative, in
which Mg2+ binds and unbinds with voltage-dependent rates, is
:mod:`models.kampa2004`.

Examples
--------
>>> from models import destexhe1994, mg_block
>>> round(float(mg_block.jahr_stevens(-60.0, 1.0)), 4)
0.0796
>>> s = mg_block.with_nmda_current(destexhe1994.five_state())
>>> s.observable_names
('Popen', 'B', 'G_NMDA', 'I_NMDA')
"""
from __future__ import annotations

import math

import numpy as np

from kinetics import Input, Observable, Parameter, Scheme
from kinetics.errors import SchemeError
from kinetics.scheme import qualified_name

__all__ = ["jahr_stevens", "with_nmda_current", "static_iv", "JAHR_STEVENS", "MG_K0", "MG_DELTA"]

JAHR_STEVENS = "Jahr CE, Stevens CF (1990) J Neurosci 10:3178-3182"
#: Mg2+ dissociation constant at 0 mV (mM), Jahr & Stevens 1990.
MG_K0 = 3.57
#: Voltage dependence of the block (1/mV), Jahr & Stevens 1990.
MG_DELTA = 0.062


def jahr_stevens(V, mg=1.0):
    """Fraction of NMDA channels free of Mg2+ block, B(V), of Jahr & Stevens (1990).

    Parameters
    ----------
    V : float or array
        Membrane potential (mV).
    mg : float or array
        Extracellular Mg2+ (mM).

    Examples
    --------
    >>> float(jahr_stevens(0.0, 3.57))
    0.5
    """
    return 1.0 / (1.0 + np.exp(-MG_DELTA * np.asarray(V, dtype=float)) * np.asarray(mg, dtype=float) / MG_K0)


def static_iv(V, mg=1.0, g_nmda=1.0, e_nmda=0.0, p_open=1.0):
    """Current (pA) of ``p_open`` open NMDA channels under the static block: ``g P B(V) (V - E)``.

    ``g_nmda`` in nS, ``V`` and ``e_nmda`` in mV. The I-V curve has its most
    inward point where ``1 + 0.062 (V - E)(1 - B(V)) = 0`` and a negative slope
    conductance below it.

    Examples
    --------
    >>> round(float(static_iv(-60.0)), 3)
    -4.778
    """
    V = np.asarray(V, dtype=float)
    return g_nmda * p_open * jahr_stevens(V, mg) * (V - e_nmda)


def with_nmda_current(receptor: Scheme, *, g_nmda: float = 1.0, e_nmda: float = 0.0) -> Scheme:
    """Add the Jahr-Stevens block ``B``, ``G_NMDA`` (nS) and ``I_NMDA`` (pA) to a scheme with an ``O`` state.

    Parameters
    ----------
    receptor : Scheme
        A receptor scheme whose conducting state is the species ``O``.
    g_nmda : float
        ``g_NMDA`` (nS), the conductance of the whole synapse with every receptor
        open — a scale choice (1 nS by default, so currents read in units of
        ``g_NMDA``), not a published value.
    e_nmda : float
        Reversal potential of the NMDA current (mV); the current reverses near
        0 mV (mixed Na+/K+ permeability), 0 mV by default.

    Returns
    -------
    Scheme
        The receptor with parameters ``mg_K0, mg_delta, g_NMDA, E_NMDA``, inputs
        ``V`` (mV, default -65) and ``Mg`` (mM, default 1) unless the receptor
        already has them, and observables ``B``, ``G_NMDA``, ``I_NMDA``.

    Raises
    ------
    SchemeError
        If the receptor has no ``O`` species or already has a ``B``/``I_NMDA``.
    """
    if "O" not in receptor.species_names:
        raise SchemeError(f"with_nmda_current: scheme `{receptor.name}` has no open state `O`")
    for name in ("B", "G_NMDA", "I_NMDA"):
        if name in receptor.observable_names or name in receptor.species_names:
            raise SchemeError(f"with_nmda_current: scheme `{receptor.name}` already has `{name}`")
    extra = [
        Parameter("mg_K0", MG_K0, "mM", reference=JAHR_STEVENS, note="Mg2+ dissociation constant at 0 mV"),
        Parameter("mg_delta", MG_DELTA, "1/mV", reference=JAHR_STEVENS, note="voltage dependence of the block"),
        Parameter("g_NMDA", g_nmda, "nS", note="maximal synaptic NMDA conductance: a scale choice, not a published value"),
        Parameter("E_NMDA", e_nmda, "mV", bounds=(-math.inf, math.inf),
                  note="reversal potential of the NMDA current (~0 mV): a choice"),
    ]
    inputs = list(receptor.inputs)
    if "V" not in receptor.input_names:
        inputs.append(Input("V", -65.0, "mV", note="membrane potential"))
    if "Mg" not in receptor.input_names:
        inputs.append(Input("Mg", 1.0, "mM", note="extracellular Mg2+"))
    return receptor.replace(
        name=qualified_name(receptor.name, "mg_block"),
        parameters=receptor.parameters + tuple(extra),
        inputs=tuple(inputs),
        observables=receptor.observables + (
            Observable("B", "1/(1 + exp(-mg_delta*V)*Mg/mg_K0)", unit="1", note="Jahr-Stevens Mg2+ block"),
            Observable("G_NMDA", "g_NMDA*O*B", unit="nS", note="open, unblocked NMDA conductance"),
            Observable("I_NMDA", "G_NMDA*(V - E_NMDA)", unit="pA", note="NMDA current (inward < 0)"),
        ),
    )
