"""NMDA receptor ligands with sourced binding constants: radioligands and endogenous agonists.

===================  ==========  =============================================================
ligand               site        constants (rat cortex unless stated)
===================  ==========  =============================================================
[3H]MK-801           channel     Kd 45 nM basal, 11 nM + glutamate, 18 nM + glycine, 6.2 nM +
                                 both; Bmax 1.86 pmol/mg; open-channel unblock tau ~ 90 min
[3H]CGP-39653        glutamate   Kd 6 nM (frontal cortex); glycine inhibits its binding in a
                                 complex (two-component) manner
[3H]5,7-DCKA         glycine     Kd 29 nM, Bmax 5.73 pmol/mg (cortex); 69 nM, 14.5 pmol/mg (brain)
glycine              glycine     Kd 0.13 uM, Bmax 3.1 pmol/mg ([3H]glycine, cerebral cortex)
glutamate            glutamate   K = Ru/Rb = 2.58 uM (Destexhe et al. 1994 rate constants)
===================  ==========  =============================================================

Every number is a :class:`kinetics.Parameter` carrying its unit, source and
note; values that no source gives are marked as choices in their notes
(:func:`unsourced`).

[3H]MK-801 needs open channels
------------------------------
MK-801 binds inside the open channel, so its binding depends on glutamate and
glycine. The four measured apparent Kd values (basal, + glutamate, + glycine,
+ both) define an *activation* factor ``g = Kd(glu+gly) / Kd_apparent`` at the
four corners of (glutamate occupancy, glycine occupancy); :func:`mk801_activation`
interpolates bilinearly between them (exact at the four measured conditions).
Association is gated, ``kon_apparent = g * kon_open``, with ``koff`` fixed, so
``Kd_apparent = Kd_open / g`` reproduces the data and binding slows when channels
rarely open. (Agonists also speed dissociation - Reynolds & Miller 1988 - which
this equilibrium-calibrated description leaves out.)

Examples
--------
>>> from models import nmda_ligands as nl
>>> round(float(nl.mk801_apparent_kd(0.0, 0.0)), 3), round(float(nl.mk801_apparent_kd(1e4, 1e4)), 2)
(45.0, 6.2)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kinetics import Parameter
from kinetics.errors import ArgumentError, SchemeError, did_you_mean

__all__ = ["Ligand", "LIGANDS", "MK801", "CGP39653", "DCKA", "GLYCINE", "GLUTAMATE", "get", "unsourced",
           "occupancy", "mk801_activation", "mk801_apparent_kd", "mk801_rate_constants", "mk801_binding"]

# --------------------------------------------------------------------------- sources
MK801_WASHED = ("[3H]MK-801 saturation in extensively washed rat cortical membranes (abstract at "
                "https://www.scilit.net/publications/9e4879ca142640404df23e83c60be21b; the retrieved record shows "
                "the abstract but not its bibliographic details)")
HUETTNER_BEAN = ("Huettner JE, Bean BP (1988) Block of N-methyl-D-aspartate-activated current by the anticonvulsant "
                 "MK-801: selective binding to open channels. Proc Natl Acad Sci USA 85:1307-1311 (abstract)")
REYNOLDS_MILLER = ("Reynolds IJ, Miller RJ (1988) Multiple sites for the regulation of the N-methyl-D-aspartate "
                   "receptor. Mol Pharmacol 33:581-584 (abstract)")
CGP_1991 = ("[3H]CGP 39653: a new N-methyl-D-aspartate antagonist radioligand with low nanomolar affinity in rat "
            "brain. Eur J Pharmacol (1991), doi:10.1016/0014-2999(91)90063-V (abstract)")
DCKA_1992 = ("A rapid filtration assay for the glycine binding site on the NMDA receptor in rat cortical membranes "
             "using [3H]dichlorokynurenic acid. J Pharm Pharmacol (1992) 44(10):812-816, PMID 1360506 (abstract)")
DCKA_SYNAPTOSOMES = ("[3H]5,7-DCKA binding to rat brain synaptosomes, specific activity 17.6 Ci/mmol (abstract at "
                     "https://scilit.com/publications/c56d0f99392c3413c89f6d38fc1a7156; Baron et al. 1991, Eur J "
                     "Pharmacol, describe this radioligand)")
OSHEA_1991 = ("O'Shea RD, Manallack DT, Conway EL, Mercer LD, Beart PM (1991) Evidence for heterogenous glycine "
              "domains but conserved multiple states of the excitatory amino acid recognition site of the NMDA "
              "receptor: regional binding studies with [3H]glycine and [3H]L-glutamate. Exp Brain Res (abstract)")
DESTEXHE_1994 = ("Destexhe A, Mainen ZF, Sejnowski TJ (1998) Kinetic models of synaptic transmission, in Methods in "
                 "Neuronal Modeling, 2nd ed, MIT Press (Rb = 5 /uM/s, Ru = 12.9 /s; as models/destexhe1994.py)")

#: Marker put at the start of the note of every value that no source gives.
UNSOURCED = "UNSOURCED CHOICE:"


@dataclass(frozen=True)
class Ligand:
    """A ligand of the NMDA receptor complex and its constants (``kinetics.Parameter`` objects)."""

    name: str
    site: str
    role: str
    constants: tuple
    note: str = ""

    def get(self, name: str) -> Parameter:
        for p in self.constants:
            if p.name == name:
                return p
        raise SchemeError(f"ligand `{self.name}` has no constant `{name}`"
                          + did_you_mean(name, [p.name for p in self.constants]))

    def value(self, name: str, unit: str | None = None) -> float:
        """Value of a constant, optionally converted to ``unit`` (same dimension)."""
        p = self.get(name)
        if unit is None or unit == p.unit:
            return p.value
        from kinetics.units import parse_unit, same_dimension

        if not same_dimension(p.unit, unit):
            raise ArgumentError(f"cannot convert `{name}` of `{self.name}` from {p.unit} to {unit}")
        return p.value * float(parse_unit(p.unit).scale / parse_unit(unit).scale)

    def table(self) -> str:
        rows = [f"{self.name} ({self.site} site, {self.role})"]
        for p in self.constants:
            rows.append(f"  {p.name:>14} = {p.value:<10.4g} {p.unit:<12} {p.reference or p.note}")
        return "\n".join(rows)


_KOFF_OPEN = 1.0 / 90.0  # 1/min: open-channel unblock time constant ~90 min at -70 to -80 mV

MK801 = Ligand(
    "[3H]MK-801", "channel", "radioligand (open-channel blocker)",
    (
        Parameter("Kd_basal", 45.0, "nM", reference=MK801_WASHED, note="no added glutamate or glycine"),
        Parameter("Kd_glu", 11.0, "nM", reference=MK801_WASHED, note="high (maximally effective) L-glutamate"),
        Parameter("Kd_gly", 18.0, "nM", reference=MK801_WASHED, note="high glycine"),
        Parameter("Kd_glu_gly", 6.2, "nM", reference=MK801_WASHED, note="L-glutamate + glycine, maximal"),
        Parameter("Bmax", 1.86, "pmol/mg", reference=MK801_WASHED, note="per mg membrane protein"),
        Parameter("koff", _KOFF_OPEN, "1/min", reference=HUETTNER_BEAN,
                  note="recovery from MK-801 block in continuous NMDA, tau ~ 90 min at -70 to -80 mV (rat "
                       "neocortical neurons); used as the dissociation rate in membrane assays (no voltage), "
                       "an approximation"),
        Parameter("kon_open", _KOFF_OPEN / 6.2, "1/(nM*min)",
                  note="derived: koff / Kd_glu_gly, association to fully activated receptors (g = 1)"),
    ),
    note="binding and unbinding need the transmitter-activated channel (Huettner & Bean 1988); agonists speed "
         "both association and dissociation (Reynolds & Miller 1988). Other preparations give other values.",
)

CGP39653 = Ligand(
    "[3H]CGP-39653", "glutamate", "radioligand (competitive antagonist)",
    (
        Parameter("Kd", 6.0, "nM", reference=CGP_1991, note="rat frontal cortical membranes, one site"),
        Parameter("kon", 0.01, "1/(nM*min)",
                  note=f"{UNSOURCED} no association rate in the source abstract; 0.01 /(nM*min) "
                       "(1.7e5 /M/s) sets only the time scale of simulated time courses, not equilibria"),
    ),
    note="glycine inhibits [3H]CGP-39653 binding in a complex manner (same source); the proportion of "
         "high-affinity glycine sites doing so is taken as about 45 % in mouse cortex controls (the readout of "
         "Nowak et al. 1993 and Skolnick 1996; the number itself is not in their abstracts and is unverified)",
)

DCKA = Ligand(
    "[3H]5,7-DCKA", "glycine", "radioligand (glycine-site antagonist)",
    (
        Parameter("Kd", 29.0, "nM", reference=DCKA_1992, note="rat cortical membranes, single site"),
        Parameter("Bmax", 5.73, "pmol/mg", reference=DCKA_1992),
        Parameter("Kd_synaptosomes", 69.0, "nM", reference=DCKA_SYNAPTOSOMES, note="+/- 23 nM"),
        Parameter("Bmax_synaptosomes", 14.5, "pmol/mg", reference=DCKA_SYNAPTOSOMES, note="+/- 3.2"),
        Parameter("L_assay", 10.0, "nM", reference=DCKA_SYNAPTOSOMES,
                  note="radioligand concentration at which binding was 65-70 % specific; used as the assay "
                       "concentration of the simulated glycine-displacement assay"),
        Parameter("kon", 0.01, "1/(nM*min)",
                  note=f"{UNSOURCED} no association rate in the sources; time scale of simulated time "
                       "courses only"),
    ),
)

GLYCINE = Ligand(
    "glycine", "glycine", "co-agonist",
    (
        Parameter("Kd", 0.13, "uM", reference=OSHEA_1991, note="[3H]glycine, cerebral cortex synaptic membranes"),
        Parameter("Bmax", 3.1, "pmol/mg", reference=OSHEA_1991),
        Parameter("Kd_cerebellum", 0.31, "uM", reference=OSHEA_1991),
    ),
)

GLUTAMATE = Ligand(
    "L-glutamate", "glutamate", "agonist",
    (
        Parameter("K", 12.9 / 5.0, "uM", reference=DESTEXHE_1994,
                  note="per-site dissociation constant Ru/Rb of the Destexhe five-state scheme "
                       "(models.destexhe1994), used as the glutamate-site affinity"),
    ),
)

LIGANDS = {"mk801": MK801, "cgp39653": CGP39653, "dcka": DCKA, "glycine": GLYCINE, "glutamate": GLUTAMATE}


def get(name: str) -> Ligand:
    """A ligand by key (``"mk801"``, ``"cgp39653"``, ``"dcka"``, ``"glycine"``, ``"glutamate"``)."""
    key = name.lower().replace("[3h]", "").replace("-", "").replace(",", "").replace(" ", "")
    key = {"57dcka": "dcka", "lglutamate": "glutamate"}.get(key, key)
    if key not in LIGANDS:
        raise ArgumentError(f"unknown ligand `{name}`" + did_you_mean(key, LIGANDS) + f"; choose one of {list(LIGANDS)}")
    return LIGANDS[key]


def unsourced() -> list:
    """``(ligand, constant)`` pairs whose value no source gives (their notes explain the choice)."""
    return [(lig.name, p.name) for lig in LIGANDS.values() for p in lig.constants if p.note.startswith(UNSOURCED)]


# --------------------------------------------------------------------------- occupancies and MK-801
def occupancy(concentration, kd):
    """Equilibrium occupancy ``c / (c + Kd)`` (same units for both)."""
    c = np.asarray(concentration, dtype=float)
    if np.any(c < 0) or kd <= 0:
        raise ArgumentError("occupancy needs concentrations >= 0 and Kd > 0")
    return c / (c + kd)


def _activation_corners() -> tuple:
    k11 = MK801.value("Kd_glu_gly")
    return (k11 / MK801.value("Kd_basal"), k11 / MK801.value("Kd_glu"), k11 / MK801.value("Kd_gly"), 1.0)


def mk801_activation(glutamate_uM, glycine_uM, *, glycine_occupancy=None):
    """Activation factor ``g`` of [3H]MK-801 association (1 with saturating glutamate + glycine).

    ``g`` is bilinear in glutamate-site occupancy ``u`` and glycine-site occupancy
    ``y``, exact at the four measured conditions: ``g(0,0) = 6.2/45``,
    ``g(1,0) = 6.2/11``, ``g(0,1) = 6.2/18``, ``g(1,1) = 1``.

    Parameters
    ----------
    glutamate_uM, glycine_uM : float or array
        Free agonist concentrations in the assay (uM).
    glycine_occupancy : float or array, optional
        Use this glycine-site occupancy instead of ``glycine_uM / (glycine_uM + Kd)``
        (e.g. for a mixture of high- and low-affinity receptor states).
    """
    g00, g10, g01, g11 = _activation_corners()
    u = occupancy(glutamate_uM, GLUTAMATE.value("K"))
    y = occupancy(glycine_uM, GLYCINE.value("Kd")) if glycine_occupancy is None else np.asarray(glycine_occupancy)
    return g00 * (1 - u) * (1 - y) + g10 * u * (1 - y) + g01 * (1 - u) * y + g11 * u * y


def mk801_apparent_kd(glutamate_uM, glycine_uM, *, glycine_occupancy=None):
    """Equilibrium apparent Kd of [3H]MK-801 (nM): ``Kd_glu_gly / g``."""
    return MK801.value("Kd_glu_gly") / mk801_activation(glutamate_uM, glycine_uM, glycine_occupancy=glycine_occupancy)


def mk801_rate_constants(glutamate_uM, glycine_uM, *, glycine_occupancy=None) -> tuple:
    """``(kon, koff)`` of [3H]MK-801 (1/(nM*min), 1/min) under the given agonist conditions."""
    g = float(mk801_activation(glutamate_uM, glycine_uM, glycine_occupancy=glycine_occupancy))
    return g * MK801.value("kon_open"), MK801.value("koff")


def mk801_binding(incubation_min: float, *, ligand_nM: float, protein_mg_per_mL: float,
                  glutamate_uM: float = 0.0, glycine_uM: float = 0.0, glycine_occupancy=None,
                  bmax_pmol_per_mg: float | None = None) -> float:
    """Specific [3H]MK-801 binding (nM in the tube) after a finite incubation (kinetic simulation).

    Runs :func:`models.binding_assays.association` with the gated association rate.
    """
    from models.binding_assays import association

    if not (math.isfinite(incubation_min) and incubation_min > 0):
        raise ArgumentError(f"`incubation_min` must be > 0, got {incubation_min!r}")
    bmax = MK801.value("Bmax") if bmax_pmol_per_mg is None else float(bmax_pmol_per_mg)
    kon, koff = mk801_rate_constants(glutamate_uM, glycine_uM, glycine_occupancy=glycine_occupancy)
    curve = association([0.0, incubation_min], ligand_nM=ligand_nM, receptor_nM=bmax * protein_mg_per_mL,
                        kon=kon, koff=koff)
    return float(curve.specific[-1])
