"""Destexhe, Mainen & Sejnowski 1994: kinetic NMDA receptor schemes.

Five-state scheme (glutamate binding only; glycine assumed saturating)::

    C0 <-> C1 <-> C2 <-> O
                  C2 <-> D

    C0 <-> C1 : kf = s1 * Rb * glu,   kr = Ru
    C1 <-> C2 : kf = Rb * glu,        kr = s2 * Ru
    C2 <-> D  : Rd, Rr                (desensitisation)
    C2 <-> O  : Ro, Rc                (gating)

``glu`` is the cleft glutamate concentration (an input, mM; by convention a
square pulse of 1 mM for 1 ms per presynaptic spike).

Statistical factors
-------------------
The receptor has two identical glutamate sites. Written per site (``Rb``,
``Ru`` = single-site rate constants), the first binding can happen at either of
two empty sites and the last unbinding from either of two occupied sites, which
gives ``s1 = s2 = 2``. Published NEURON implementations of this scheme circulate
in both forms: the authors' own NMDA5 mechanism writes ``(rb, Ru)`` for both
steps (the rate constants then being macroscopic), while the adaptation in
ModelDB entry 7988 (Chen, Ren, Raymond & Murphy 2001, Mol Pharmacol 59:212)
writes ``(2*rb, Ru)`` and ``(rb, 2*Ru)``. This
module offers both: ``statistical_factors=False`` (default, ``s1 = s2 = 1``, the
form used by the performance benchmark) and ``statistical_factors=True``
(``s1 = s2 = 2``). The mass-action convention of :mod:`kinetics` adds no hidden
factor: what is written is what is simulated. The two conventions give different
EPSCs for the same numbers (see :func:`models.reference_values.destexhe1994_peaks`).

Rate sets (``Rb`` = 5 /uM/s in all; ``Ru, Rd, Rr, Ro, Rc`` in /s) as compiled by
Destexhe, Mainen & Sejnowski (1998, Methods in Neuronal Modeling, 2nd ed) from the
primary studies they cite (full references: ``docs/sources.md``); the same numbers
appear in the comment block of the authors'
``nmda5.mod`` (which credits them to Destexhe, Mainen & Sejnowski's 1996/1998
chapter "Kinetic models of synaptic transmission", fitted to Hessler et al. 1993;
the comment block lists the Hessler numbers also under Clements et al. 1992).

Two-state scheme
----------------
``C <-> O ; alpha*glu, beta`` (alpha = 0.072 /mM/ms, beta = 0.0066 /ms). With a
constant ``glu = T`` from ``O(0) = O0`` the solution is
``O(t) = O_inf + (O0 - O_inf) exp(-t/tau)``, ``O_inf = alpha T/(alpha T + beta)``,
``tau = 1/(alpha T + beta)``; after the pulse ``O`` decays as ``exp(-beta t)``.

Examples
--------
>>> from models import destexhe1994
>>> s = destexhe1994.five_state("hessler1993", statistical_factors=True)
>>> s.species_names
('C0', 'C1', 'C2', 'D', 'O')
>>> s.get_parameter("Ru").value
9.5
"""
from __future__ import annotations

from kinetics import Input, Observable, Parameter, Scheme, Species, reaction
from kinetics.errors import SchemeError, did_you_mean
from kinetics.scheme import qualified_name

__all__ = ["RATE_SETS", "five_state", "two_state", "rate_set_names", "rates"]

_DESTEXHE = ("Destexhe A, Mainen ZF, Sejnowski TJ (1998) Kinetic models of synaptic transmission. In: Koch C, Segev I "
             "(eds) Methods in Neuronal Modeling, 2nd ed, MIT Press, pp 1-25 (the rates as the authors' NMDA5 "
             "nmda5.mod credits them); scheme and formalism: Destexhe, Mainen & Sejnowski (1994) J Comput Neurosci "
             "1:195-230")
_DESTEXHE_TWO_STATE = ("Destexhe A, Mainen ZF, Sejnowski TJ (1995) Fast kinetic models for simulating AMPA, NMDA, "
                       "GABA(A) and GABA(B) receptors. In: Bower J (ed) The Neurobiology of Computation, Kluwer "
                       "(values as the authors' NMDA2 mechanism credits them)")

# name -> (Ru, Rd, Rr, Ro, Rc) in 1/s, and the source of the numbers.
RATE_SETS = {
    "destexhe1994": ((12.9, 8.4, 6.8, 46.5, 73.8), _DESTEXHE),
    "hessler1993": ((9.5, 16.0, 13.0, 25.0, 59.0), "Hessler NA, Shirke AM, Malinow R (1993) Nature 366:569, as compiled by Destexhe et al."),
    "clements_westbrook1991": ((5.0, 4.0, 0.3, 10.0, 322.0), "Clements JD, Westbrook GL (1991) Neuron 7:605, as compiled by Destexhe et al."),
    "edmonds_colquhoun1992": ((4.7, 8.4, 1.8, 46.5, 91.6), "Edmonds B, Colquhoun D (1992) Proc R Soc B 250:279, as compiled by Destexhe et al."),
    "lester_jahr1992": ((6.7, 15.2, 9.4, 83.8, 83.8), "Lester RAJ, Jahr CE (1992) J Neurosci 12:635, as compiled by Destexhe et al."),
}
#: Glutamate binding rate constant per site, common to all sets (1/(uM*s)).
RB = 5.0


def rate_set_names() -> tuple:
    """Names of the published rate sets, e.g. ``('destexhe1994', 'hessler1993', ...)``."""
    return tuple(RATE_SETS)


def _check_set(rate_set: str) -> None:
    if rate_set not in RATE_SETS:
        raise SchemeError(f"unknown rate set `{rate_set}`" + did_you_mean(rate_set, RATE_SETS)
                          + f"; choose one of {list(RATE_SETS)}")


def rates(rate_set: str = "destexhe1994") -> list:
    """The :class:`~kinetics.Parameter` objects ``Rb, Ru, Rd, Rr, Ro, Rc`` of one rate set.

    Shared with :mod:`models.glun1_glun2`, whose glutamate binding and gating use
    the same published numbers.
    """
    _check_set(rate_set)
    (ru, rd, rr, ro, rc), src = RATE_SETS[rate_set]
    return [
        Parameter("Rb", RB, "1/(uM*s)", reference=_DESTEXHE, note="glutamate binding, per site"),
        Parameter("Ru", ru, "1/s", reference=src, note="glutamate unbinding, per site"),
        Parameter("Rd", rd, "1/s", reference=src, note="desensitisation"),
        Parameter("Rr", rr, "1/s", reference=src, note="resensitisation"),
        Parameter("Ro", ro, "1/s", reference=src, note="opening"),
        Parameter("Rc", rc, "1/s", reference=src, note="closing"),
    ]


def five_state(rate_set: str = "destexhe1994", statistical_factors: bool = False) -> Scheme:
    """The five-state NMDA receptor scheme with one of the published rate sets.

    Parameters
    ----------
    rate_set : str
        One of :data:`RATE_SETS` (``rate_set_names()``).
    statistical_factors : bool
        ``False``: ``C0 -> C1`` at ``Rb*glu`` and ``C2 -> C1`` at ``Ru``;
        ``True``: at ``2*Rb*glu`` and ``2*Ru`` (two identical sites). See the
        module docstring.

    Returns
    -------
    Scheme
        Species ``C0, C1, C2, D, O`` (occupancies, start in ``C0``), input ``glu``
        (mM), observable ``Popen`` (= ``O``).

    Raises
    ------
    SchemeError
        For an unknown ``rate_set``.

    Examples
    --------
    >>> five_state("lester_jahr1992").get_parameter("Ro").value
    83.8
    """
    _check_set(rate_set)
    f = "2*" if statistical_factors else ""
    return Scheme(
        qualified_name("destexhe1994_five_state", rate_set),
        species=[Species("C0", 1.0, unit="1", note="unbound, closed"),
                 Species("C1", 0.0, unit="1", note="one glutamate bound, closed"),
                 Species("C2", 0.0, unit="1", note="two glutamate bound, closed"),
                 Species("D", 0.0, unit="1", note="desensitised"),
                 Species("O", 0.0, unit="1", note="open")],
        parameters=rates(rate_set),
        inputs=[Input("glu", 0.0, "mM", note="cleft glutamate")],
        reactions=[
            reaction("C0 <-> C1", f"{f}Rb*glu", "Ru", name="bind1"),
            reaction("C1 <-> C2", "Rb*glu", f"{f}Ru", name="bind2"),
            reaction("C2 <-> D", "Rd", "Rr", name="desensitise"),
            reaction("C2 <-> O", "Ro", "Rc", name="gate"),
        ],
        observables=[Observable("Popen", "O", unit="1", note="open probability")],
        description="five-state NMDA receptor (glutamate binding, desensitisation, gating)"
                    + (" with statistical factors 2*Rb, 2*Ru" if statistical_factors else
                       " without statistical factors"),
        reference=_DESTEXHE,
    )


def two_state() -> Scheme:
    """Destexhe 1994 two-state scheme ``C <-> O ; alpha*glu, beta`` (the simplest teaching model).

    Returns
    -------
    Scheme
        Species ``C, O``, input ``glu`` (mM), observable ``Popen``.

    Examples
    --------
    >>> two_state().get_parameter("alpha").value
    0.072
    """
    return Scheme(
        "destexhe1994_two_state",
        species=[Species("C", 1.0, unit="1"), Species("O", 0.0, unit="1")],
        parameters=[Parameter("alpha", 0.072, "1/(mM*ms)", reference=_DESTEXHE_TWO_STATE,
                              note="opening (binding) rate, NMDA receptor, per mM glutamate"),
                    Parameter("beta", 0.0066, "1/ms", reference=_DESTEXHE_TWO_STATE,
                              note="closing (unbinding) rate, NMDA receptor")],
        inputs=[Input("glu", 0.0, "mM", note="cleft glutamate")],
        reactions=[reaction("C <-> O", "alpha*glu", "beta", name="gate")],
        observables=[Observable("Popen", "O", unit="1", note="open probability")],
        description="two-state NMDA receptor",
        reference=_DESTEXHE_TWO_STATE,
    )
