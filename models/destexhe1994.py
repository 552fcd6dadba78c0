"""Destexhe, Mainen & Sejnowski 1994: kinetic NMDA receptor schemes.

Five-state scheme (glutamate binding only; glycine assumed saturating)::

    C0 <-> C1 <-> C2 <-> O
                  C2 <-> D

    C0 <-> C1 : kf = [s1] Rb*glu,  kr = Ru
    C1 <-> C2 : kf = Rb*glu,       kr = [s2] Ru
    C2 <-> D  : Rd, Rr
    C2 <-> O  : Ro, Rc

``glu`` is the transmitter concentration (an input; 1 mM for 1 ms per spike by
convention). With ``statistical_factors=False`` (the default, as in the
published NEURON implementation of the scheme and in the performance benchmark)
``s1 = s2 = 1``; with ``True`` the two identical binding sites give ``s1 = 2`` on
the first binding and ``s2 = 2`` on the last unbinding. The mass-action
convention of :mod:`kinetics` adds no hidden factor: what is written is what is
simulated.

Rate sets (Rb = 5 /uM/s in all; Ru, Rd, Rr, Ro, Rc in /s) as compiled in
nmdakin's ``shared/DOMAIN.md`` section 1 from Destexhe et al. (1994, 1996) and
the primary studies they cite.

Examples
--------
>>> from models import destexhe1994
>>> s = destexhe1994.five_state()
>>> s.species_names
('C0', 'C1', 'C2', 'D', 'O')
"""
from __future__ import annotations

from kinetics import Input, Observable, Parameter, Scheme, Species, reaction

__all__ = ["RATE_SETS", "five_state", "two_state", "rate_set_names"]

_DESTEXHE = "Destexhe A, Mainen ZF, Sejnowski TJ (1994) J Comput Neurosci 1:195-230"

# name -> (Ru, Rd, Rr, Ro, Rc) in 1/s, and the source of the numbers.
RATE_SETS = {
    "destexhe1994": ((12.9, 8.4, 6.8, 46.5, 73.8), _DESTEXHE),
    "hessler1993": ((9.5, 16.0, 13.0, 25.0, 59.0), "Hessler NA, Shirke AM, Malinow R (1993) Nature 366:569, as compiled by Destexhe et al."),
    "clements_westbrook1991": ((5.0, 4.0, 0.3, 10.0, 322.0), "Clements JD, Westbrook GL (1991) Neuron 7:605, as compiled by Destexhe et al."),
    "edmonds_colquhoun1992": ((4.7, 8.4, 1.8, 46.5, 91.6), "Edmonds B, Colquhoun D (1992) Proc R Soc B 250:279, as compiled by Destexhe et al."),
    "lester_jahr1992": ((6.7, 15.2, 9.4, 83.8, 83.8), "Lester RAJ, Jahr CE (1992) J Neurosci 12:635, as compiled by Destexhe et al."),
}


def rate_set_names() -> tuple:
    return tuple(RATE_SETS)


def five_state(rate_set: str = "destexhe1994", *, statistical_factors: bool = False) -> Scheme:
    """The five-state NMDA receptor scheme with one of the published rate sets.

    Observables: ``Popen`` (= O).
    """
    if rate_set not in RATE_SETS:
        from kinetics.errors import SchemeError, did_you_mean

        raise SchemeError(f"unknown rate set `{rate_set}`" + did_you_mean(rate_set, RATE_SETS)
                          + f"; choose one of {list(RATE_SETS)}")
    (ru, rd, rr, ro, rc), src = RATE_SETS[rate_set]
    f1, f2 = ("2*", "2*") if statistical_factors else ("", "")
    params = [
        Parameter("Rb", 5.0, "1/(uM*s)", reference=_DESTEXHE, note="glutamate binding, per site"),
        Parameter("Ru", ru, "1/s", reference=src, note="glutamate unbinding"),
        Parameter("Rd", rd, "1/s", reference=src, note="desensitisation"),
        Parameter("Rr", rr, "1/s", reference=src, note="resensitisation"),
        Parameter("Ro", ro, "1/s", reference=src, note="opening"),
        Parameter("Rc", rc, "1/s", reference=src, note="closing"),
    ]
    return Scheme(
        f"destexhe1994_five_state[{rate_set}]",
        species=[Species("C0", 1.0, unit="1", note="unbound, closed"), Species("C1", 0.0, unit="1"),
                 Species("C2", 0.0, unit="1"), Species("D", 0.0, unit="1", note="desensitised"),
                 Species("O", 0.0, unit="1", note="open")],
        parameters=params,
        inputs=[Input("glu", 0.0, "mM", note="cleft glutamate")],
        reactions=[
            reaction("C0 <-> C1", f"{f1}Rb*glu", "Ru", name="bind1"),
            reaction("C1 <-> C2", "Rb*glu", f"{f2}Ru", name="bind2"),
            reaction("C2 <-> D", "Rd", "Rr", name="desensitise"),
            reaction("C2 <-> O", "Ro", "Rc", name="gate"),
        ],
        observables=[Observable("Popen", "O", unit="1")],
        description="five-state NMDA receptor (glutamate binding, desensitisation, gating)"
                    + (" with statistical factors" if statistical_factors else ""),
        reference=_DESTEXHE,
    )


def two_state() -> Scheme:
    """Destexhe 1994 two-state scheme ``C <-> O ; alpha*glu, beta`` (the simplest teaching model)."""
    return Scheme(
        "destexhe1994_two_state",
        species=[Species("C", 1.0, unit="1"), Species("O", 0.0, unit="1")],
        parameters=[Parameter("alpha", 0.072, "1/(mM*ms)", reference=_DESTEXHE, note="opening (binding) rate"),
                    Parameter("beta", 0.0066, "1/ms", reference=_DESTEXHE, note="closing (unbinding) rate")],
        inputs=[Input("glu", 0.0, "mM")],
        reactions=[reaction("C <-> O", "alpha*glu", "beta")],
        observables=[Observable("Popen", "O", unit="1")],
        description="two-state NMDA receptor",
        reference=_DESTEXHE,
    )
