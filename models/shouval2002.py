"""Shouval, Bear & Cooper 2002: the calcium-control hypothesis of bidirectional plasticity.

Shouval HZ, Bear MF, Cooper LN (2002) A unified model of NMDA receptor-dependent
bidirectional synaptic plasticity. PNAS 99:10831-10836.

The synaptic weight ``W`` relaxes towards a calcium-dependent target at a
calcium-dependent rate::

    dW/dt = eta(Ca) (Omega(Ca) - lambda W)

    Omega(Ca) = 0.25 + sig(Ca - alpha2, beta2) - 0.25 sig(Ca - alpha1, beta1),   sig(x, b) = exp(b x)/(1 + exp(b x))
    eta(Ca)   = 1 / tau(Ca),   tau(Ca) = P1 + P2 / (P3 + Ca^P4)

``Ca`` is the calcium concentration above rest (the paper measures calcium
relative to its resting level), in uM in the paper. Below ``alpha1`` the
target is the resting value 0.25 (no change); between ``alpha1`` and
``alpha2`` it drops to ~0 (LTD); above ``alpha2`` it rises to 1 (LTP). The
learning rate grows steeply with calcium: ``tau(0)`` is about 10^4 s (~3 h), so
resting calcium leaves the weight in place, and ``tau`` falls towards ``P1 = 1 s``
at high calcium.

Units: the scheme uses nmdakin's default units (ms, mM); every constant is
declared in the paper's units (uM, s) and converted by the engine. ``Ca`` is an
input (mM) in :func:`scheme`; :func:`with_calcium` composes the rule with a
scheme that has a calcium *species*.

Constants: ``alpha1 = 0.35 uM``, ``alpha2 = 0.55 uM``, ``beta1 = beta2 = 80 /uM``
(Omega). The learning-rate time constant is ``tau(Ca) = 1 s + 0.1 s / (1e-5 + Ca^3)``
(Ca in uM; ~1e4 s ~ 3 h at rest, ~1 s at high calcium). The paper's printed
formula for eta could not be checked here; the function is taken from an
independent reimplementation (github.com/folmez/CaDP-MatLab, ``eta_calcium.m``),
which writes ``tau = P1/(P2 + Ca^P3) + P4`` with ``P1 = 0.1 s``,
``P2 = P1 x 1e-4``, ``P3 = 3``, ``P4 = 1 s`` and notes a typo in the paper.
nmdakin names the same numbers differently (``P1 = 1 s`` the high-calcium
limit, ``P2 = 0.1 s uM^3``, ``P3 = 1e-5 uM^3``, ``P4 = 3`` the exponent) — the
function is identical. ``P2`` and ``P3`` carry ``uM^3`` so that ``Ca^3`` is
dimensionally consistent.
``lambda = 1``: see its note.

Examples
--------
>>> from models import shouval2002 as sbc
>>> round(float(sbc.omega(0.0)), 4), round(float(sbc.omega(0.45)), 4), round(float(sbc.omega(1.0)), 4)
(0.25, 0.0004, 1.0)
"""
from __future__ import annotations

import math

import numpy as np

from kinetics import Input, Observable, Parameter, RateRule, Scheme, Species, compose
from kinetics.errors import ArgumentError, SchemeError

__all__ = ["REFERENCE", "CONSTANTS", "omega", "eta", "resting_weight", "scheme", "with_calcium"]

REFERENCE = "Shouval HZ, Bear MF, Cooper LN (2002) PNAS 99:10831-10836"
_METHODS = f"{REFERENCE}, Methods (calcium-control rule)"
_CHECK = ("function as in the reimplementation github.com/folmez/CaDP-MatLab (eta_calcium.m), whose constant "
          "names differ from these; the paper's printed formula was not checked")

#: name -> (value, unit, note). Values in the paper's units.
CONSTANTS = {
    "alpha1": (0.35, "uM", "Omega: onset of the LTD window"),
    "alpha2": (0.55, "uM", "Omega: onset of LTP"),
    "beta1": (80.0, "1/uM", "Omega: steepness of the LTD sigmoid"),
    "beta2": (80.0, "1/uM", "Omega: steepness of the LTP sigmoid"),
    "P1": (1.0, "s", "eta: time constant at high calcium (the reimplementation's P4)"),
    "P2": (0.1, "s*uM^3", "eta: the reimplementation's P1 = 0.1 s; carries uM^3 so that P2/(P3 + Ca^3) is a time"),
    "P3": (1e-5, "uM^3", "eta: the reimplementation's P2 = P1 x 1e-4; sets tau(0) = P1 + P2/P3 ~ 1e4 s"),
    "P4": (3.0, "1", "eta: exponent of calcium (the reimplementation's P3; P2, P3 units assume 3)"),
    "lambda_": (1.0, "1", "weight decay constant; 1 as in the reimplementation (the paper's text was not "
                          "available to confirm its value), so the resting weight is Omega(0) = 0.25"),
}


def _value(name):
    return CONSTANTS[name][0]


def _sig(x, b):
    return 0.5 * (1.0 + np.tanh(0.5 * b * x))  # = exp(b x)/(1 + exp(b x)), without overflow


def omega(ca_uM):
    """The target function ``Omega(Ca)`` (``Ca`` above rest, in uM).

    Examples
    --------
    >>> round(float(omega(0.55)), 4)    # half-way up the LTP sigmoid (0.25 + 0.5 - ~0.25)
    0.5
    """
    ca = np.asarray(ca_uM, dtype=float)
    return 0.25 + _sig(ca - _value("alpha2"), _value("beta2")) - 0.25 * _sig(ca - _value("alpha1"), _value("beta1"))


def eta(ca_uM):
    """The learning rate ``eta(Ca) = 1/(P1 + P2/(P3 + Ca^P4))`` in 1/s (``Ca`` above rest, in uM).

    Examples
    --------
    >>> round(1.0 / float(eta(0.0)))    # ~3 h at rest
    10001
    """
    ca = np.asarray(ca_uM, dtype=float)
    if np.any(ca < 0):
        raise ArgumentError("calcium above rest must be >= 0 (uM)")
    return 1.0 / (_value("P1") + _value("P2") / (_value("P3") + ca ** _value("P4")))


def resting_weight() -> float:
    """The fixed point ``Omega(0)/lambda`` of the weight at resting calcium."""
    return float(omega(0.0)) / _value("lambda_")


def _parameters():
    return [Parameter(name, value, unit, reference=_METHODS, note=f"{note}; {_CHECK}")
            for name, (value, unit, note) in CONSTANTS.items()]


_OMEGA = "0.25 + sigmoid(beta2*(Ca - alpha2)) - 0.25*sigmoid(beta1*(Ca - alpha1))"
_TAU_W = "P1 + P2/(P3 + Ca^P4)"


def _rule_parts():
    return dict(
        parameters=_parameters(),
        observables=[Observable("Omega", _OMEGA, unit="1", note="target weight"),
                     Observable("tau_w", _TAU_W, unit="ms", note="1/eta: time constant of the weight")],
        rate_rules=[RateRule("W", "(Omega - lambda_*W)/tau_w")],
    )


def _weight(initial):
    w0 = resting_weight() if initial is None else float(initial)
    if not math.isfinite(w0):
        raise ArgumentError(f"initial weight must be finite, got {initial!r}")
    return Species("W", w0, unit="1", nonnegative=False, note="synaptic weight (resting value Omega(0)/lambda)")


def scheme(initial_weight=None) -> Scheme:
    """The rule driven by a calcium *input* ``Ca`` (mM above rest; the protocol supplies it).

    Examples
    --------
    >>> s = scheme()
    >>> s.species_names, s.input_names
    (('W',), ('Ca',))
    """
    return Scheme("shouval2002", species=[_weight(initial_weight)],
                  inputs=[Input("Ca", 0.0, "mM", note="calcium above rest")],
                  description="calcium-control plasticity rule", reference=REFERENCE, **_rule_parts())


def with_calcium(calcium_scheme: Scheme, species: str = "Ca", initial_weight=None) -> Scheme:
    """Compose the rule with a scheme whose species ``species`` is the calcium above rest (mM).

    Examples
    --------
    >>> import kinetics as kx
    >>> ca = kx.Scheme("spine_ca", species=[kx.Species("Ca", 0.0, unit="mM")],
    ...                parameters=[kx.Parameter("tau_ca", 50.0, "ms")], rate_rules=[kx.RateRule("Ca", "-Ca/tau_ca")])
    >>> with_calcium(ca).species_names
    ('Ca', 'W')
    """
    if not isinstance(calcium_scheme, Scheme):
        raise SchemeError(f"with_calcium needs a kinetics Scheme, got {calcium_scheme!r}")
    if species not in calcium_scheme.species_names:
        from kinetics.errors import did_you_mean

        raise SchemeError(f"scheme `{calcium_scheme.name}` has no species `{species}`"
                          + did_you_mean(species, calcium_scheme.species_names))
    parts = _rule_parts()
    if species != "Ca":
        import sympy

        sub = {sympy.Symbol("Ca"): sympy.Symbol(species)}
        parts["observables"] = [Observable(o.name, o.expr.xreplace(sub), unit=o.unit, note=o.note)
                                for o in parts["observables"]]
    ca = next(s for s in calcium_scheme.species if s.name == species)
    rule = Scheme("shouval2002", species=[ca, _weight(initial_weight)], description="calcium-control plasticity rule",
                  reference=REFERENCE, **parts)
    return compose([calcium_scheme, rule])
