"""Experimental manipulations as model modifiers that return new schemes.

Each condition of the Thomazeau et al. (2025) experiments is a small frozen
:class:`Manipulation`: a set of parameter values and input defaults (drug
concentrations) that :meth:`Manipulation.apply` writes into a scheme through
the public API of :mod:`kinetics` (``Scheme.with_parameters`` /
``Scheme.with_inputs``). It never mutates the scheme it gets and it only
touches components that exist, so the same modifier works on the presynaptic
scheme (:func:`models.presynaptic_tltd.presynaptic`) and on the composed
synapse (``models.synapse``), which shares the names below:

==================  ============================================================
name in a scheme    meaning
==================  ============================================================
pre_NMDAR_density   presynaptic NMDA receptors (1 wild type, 0 GluN1 deleted)
post_NMDAR_density  postsynaptic NMDA receptors (1 wild type, 0 GluN1 deleted)
RIM1ab              RIM1alpha/beta present (1) or deleted (0)
AP5, CK7, MK801,    bath drug concentrations, mM (inputs)
SP600125
peptide_pre         JNK2-STX1a blocking peptide in the presynaptic cell, mM
peptide_post        the same peptide in the postsynaptic cell, mM (only a scheme
                    with a postsynaptic JNK2-STX1a target declares it; none of
                    nmdakin's schemes does, see ``JNK2_STX1a_peptide_post``)
==================  ============================================================

:data:`CONDITIONS` maps the condition names of the pharmacology table
(``control, pre_GluN1_KO, post_GluN1_KO, MK801, 7CK, AP5, SP600125,
JNK2_STX1a_peptide_pre, JNK2_STX1a_peptide_post, RIM1ab_KO``) to modifiers.

Drug concentrations
-------------------
The working concentrations are choices typical of slice pharmacology; the
concentrations Thomazeau et al. used are not given in the sources consulted
(the paper's abstract and the eLife Insight) except for MK-801, which the
eLife public review of the paper (reviewer 2) describes as used at 2 mM.
Every modelled drug concentration is far above the affinity the schemes give
the drug, so the outcome does not hinge on the exact value.

Examples
--------
>>> from models import presynaptic_tltd as pt
>>> from models.manipulations import CONDITIONS
>>> s = pt.presynaptic()
>>> s_ap5 = CONDITIONS["AP5"].apply(s)
>>> s_ap5.get_input("AP5").default, s.get_input("AP5").default
(0.05, 0.0)
>>> CONDITIONS["post_GluN1_KO"].touched(s)         # the presynaptic scheme has no postsynaptic receptors
()
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from kinetics import Scheme
from kinetics.errors import ArgumentError, did_you_mean, resolve_name
from kinetics.scheme import qualified_name

__all__ = ["Manipulation", "CONDITIONS", "CONDITION_NAMES", "get", "apply", "combine",
           "AP5_MM", "CK7_MM", "MK801_MM", "SP600125_MM", "PEPTIDE_MM"]

THOMAZEAU = "Thomazeau A, Rannio S, Brock JA, Wong HH, Sjostrom PJ (2025) eLife 14:RP106284"
ABRAHAMSSON = "Abrahamsson T et al. (2017) Neuron 96:839-855"
DORE = "Dore K, Aow J, Malinow R (2015) PNAS 112:14705-14710"

#: D-AP5 bath concentration, mM (50 uM: a typical choice for full glutamate-site block).
AP5_MM = 0.05
#: 7-chlorokynurenic acid bath concentration, mM (100 uM: a typical choice for glycine-site block).
CK7_MM = 0.1
#: MK-801 concentration, mM (2 mM, as stated in the eLife public review of Thomazeau et al. 2025).
MK801_MM = 2.0
#: SP600125 bath concentration, mM (10 uM: a typical choice in slice work).
SP600125_MM = 0.01
#: JNK2-STX1a blocking peptide in the recording pipette, mM (10 uM: a choice).
PEPTIDE_MM = 0.01


def _pairs(mapping) -> tuple:
    if isinstance(mapping, Mapping):
        items = mapping.items()
    else:
        items = tuple(mapping)
    out = []
    for k, v in items:
        if not isinstance(k, str) or not k:
            raise ArgumentError(f"manipulation targets must be names, got {k!r}")
        out.append((k, float(v)))
    return tuple(out)


@dataclass(frozen=True)
class Manipulation:
    """An experimental condition as a scheme modifier.

    Parameters
    ----------
    name : str
        Condition name (``"7CK"``, ``"pre_GluN1_KO"``...).
    description : str
        What the manipulation does in the model.
    source : str
        The experiment (paper) it stands for.
    parameters : mapping or pairs
        Parameter values to set (each in the parameter's declared unit).
    inputs : mapping or pairs
        Input defaults to set (drug concentrations, mM).

    Examples
    --------
    >>> m = Manipulation("half_AP5", "AP5 at 25 uM", "example", inputs={"AP5": 0.025})
    >>> m.inputs
    (('AP5', 0.025),)
    """

    name: str
    description: str
    source: str
    parameters: tuple = ()
    inputs: tuple = ()

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ArgumentError(f"a manipulation needs a non-empty name, got {self.name!r}")
        object.__setattr__(self, "parameters", _pairs(self.parameters))
        object.__setattr__(self, "inputs", _pairs(self.inputs))

    def touched(self, scheme: Scheme) -> tuple:
        """Names of the scheme's components this manipulation changes (in declaration order)."""
        scheme = _scheme_of(scheme)
        p, u = set(scheme.parameter_names), set(scheme.input_names)
        return tuple(n for n, _ in self.parameters if n in p) + tuple(n for n, _ in self.inputs if n in u)

    def apply(self, scheme: Scheme) -> Scheme:
        """A new scheme with the manipulation applied to the components that exist.

        The scheme's name gets ``__name`` appended when something was changed (``x__7CK``,
        :func:`kinetics.scheme.qualified_name`);
        a manipulation with no target in the scheme returns it unchanged.
        """
        scheme = _scheme_of(scheme)
        pnames, unames = set(scheme.parameter_names), set(scheme.input_names)
        params = {n: v for n, v in self.parameters if n in pnames}
        inputs = {n: v for n, v in self.inputs if n in unames}
        out = scheme
        if params:
            out = out.with_parameters(params)
        if inputs:
            out = out.with_inputs(inputs)
        if params or inputs:
            out = out.replace(name=qualified_name(scheme.name, self.name))
        return out

    __call__ = apply


def _scheme_of(model) -> Scheme:
    if isinstance(model, Scheme):
        return model
    raise ArgumentError(f"a manipulation applies to a kinetics.Scheme, got {type(model).__name__}")


def combine(name: str, *manipulations: Manipulation) -> Manipulation:
    """One manipulation doing all of several (later ones win on a shared target).

    Examples
    --------
    >>> m = combine("AP5+SP", CONDITIONS["AP5"], CONDITIONS["SP600125"])
    >>> dict(m.inputs)
    {'AP5': 0.05, 'SP600125': 0.01}
    """
    params, inputs = {}, {}
    for m in manipulations:
        params.update(dict(m.parameters))
        inputs.update(dict(m.inputs))
    return Manipulation(name, "; ".join(m.description for m in manipulations),
                        "; ".join(dict.fromkeys(m.source for m in manipulations)), params, inputs)


_LIST = [
    Manipulation(
        "control", "no manipulation", THOMAZEAU),
    Manipulation(
        "pre_GluN1_KO",
        "presynaptic GluN1 deletion: no presynaptic NMDA receptors (pre_NMDAR_density = 0), so neither the "
        "non-ionotropic JNK2 pathway nor the ionotropic RIM1ab branch is engaged",
        THOMAZEAU + " (GluN1 deleted in the presynaptic cell of the pair)",
        parameters={"pre_NMDAR_density": 0.0}),
    Manipulation(
        "post_GluN1_KO",
        "postsynaptic GluN1 deletion: no postsynaptic NMDA receptors (post_NMDAR_density = 0): no NMDA current "
        "or calcium, so no postsynaptic tLTP; the presynaptic pathway is untouched",
        THOMAZEAU + " (GluN1 deleted in the postsynaptic cell of the pair)",
        parameters={"post_NMDAR_density": 0.0}),
    Manipulation(
        "MK801",
        f"MK-801 ({MK801_MM:g} mM) blocks open NMDA receptor pores (trapping): postsynaptic NMDA current and "
        "calcium, and the presynaptic ionotropic (RIM1ab) branch, are lost; glutamate binding and the "
        "signalling conformation are not affected (Dore et al. 2015)",
        THOMAZEAU + "; " + DORE,
        inputs={"MK801": MK801_MM}),
    Manipulation(
        "7CK",
        f"7-chlorokynurenic acid ({CK7_MM * 1000:g} uM) occupies the GluN1 glycine site: channels cannot open "
        "(no current, no calcium) but glutamate still binds GluN2 and puts the receptor in the signalling "
        "conformation (Dore et al. 2015)",
        THOMAZEAU + "; " + DORE,
        inputs={"CK7": CK7_MM}),
    Manipulation(
        "AP5",
        f"D-AP5 ({AP5_MM * 1000:g} uM) competes with glutamate at the GluN2 site: no glutamate-bound receptors, "
        "so neither the presynaptic signalling conformation nor postsynaptic current",
        THOMAZEAU + "; " + DORE,
        inputs={"AP5": AP5_MM}),
    Manipulation(
        "SP600125",
        f"SP600125 ({SP600125_MM * 1000:g} uM in the bath), an ATP-competitive JNK inhibitor, binds JNK2 so active "
        "JNK2 cannot act with STX1a",
        THOMAZEAU + " (wash-in of the JNK2 blocker SP600125)",
        inputs={"SP600125": SP600125_MM}),
    Manipulation(
        "JNK2_STX1a_peptide_pre",
        f"JNK2-STX1a blocking peptide ({PEPTIDE_MM * 1000:g} uM) loaded into the presynaptic cell occupies the "
        "interaction site, so active JNK2 cannot bind STX1a",
        THOMAZEAU + " (peptide loaded presynaptically)",
        inputs={"peptide_pre": PEPTIDE_MM}),
    Manipulation(
        "JNK2_STX1a_peptide_post",
        "the same peptide loaded into the postsynaptic cell: it sets `peptide_post` where a scheme has a "
        "postsynaptic JNK2-STX1a target. nmdakin's schemes have none (the pathway is presynaptic; Thomazeau et "
        "al. found no postsynaptic requirement), so the manipulation leaves them unchanged",
        THOMAZEAU + " (peptide loaded postsynaptically)",
        inputs={"peptide_post": PEPTIDE_MM}),
    Manipulation(
        "RIM1ab_KO",
        "RIM1alpha/beta deletion (RIM1ab = 0): removes the Mg2+-sensitive ionotropic preNMDAR speed-up of vesicle "
        "replenishment (Abrahamsson et al. 2017); the JNK2-STX1a pathway does not use RIM1alpha/beta",
        THOMAZEAU + " (homozygous RIM1alpha/beta deletion); " + ABRAHAMSSON,
        parameters={"RIM1ab": 0.0}),
]

#: Condition name -> modifier, in the order of the pharmacology table.
CONDITIONS = {m.name: m for m in _LIST}
CONDITION_NAMES = tuple(CONDITIONS)


def get(name: str) -> Manipulation:
    """The modifier of a condition name (clear error with a suggestion for unknown names)."""
    key = resolve_name(name, CONDITIONS)
    if key is None:
        raise ArgumentError(f"unknown condition `{name}`" + did_you_mean(str(name), CONDITIONS)
                            + f"; choose one of {list(CONDITIONS)}")
    return CONDITIONS[key]


def apply(scheme: Scheme, condition) -> Scheme:
    """Apply a condition (a name or a :class:`Manipulation`) to a scheme; returns a new scheme."""
    m = condition if isinstance(condition, Manipulation) else get(condition)
    return m.apply(scheme)
