"""Radioligand binding assays as kinetic schemes: kinetics, saturation, competition, depletion.

A membrane preparation with receptor sites ``R`` (total ``RT``) is incubated with
a radioligand ``L`` (total ``LT``) and, in a competition assay, an unlabelled
competitor ``I`` (total ``IT``)::

    R + L <-> RL      kon, koff          (Kd  = koff / kon)
    R + I <-> RI      kon_I, koff_I      (Ki  = koff_I / kon_I)
    L     <-> LN      non-specific binding, LN = ns * L at equilibrium

With two receptor populations (``sites=2``: a fraction ``f_H`` of sites ``R_H``,
the rest ``R_L``) the competitor has its own constants at each population
(``kon_IH``, ``koff_IH``, ``kon_IL``, ``koff_IL``); the radioligand binds both
alike, which is the condition under which the textbook two-site displacement
equation holds.

How the schemes are written
---------------------------
Only the complexes are species; every *free* concentration is an observable
equal to total minus bound (``L = LT - RL - LN``, ``R = RT - RL - RI``). Mass is
conserved exactly, and the totals ``RT``, ``LT``, ``IT`` are parameters, so
:func:`kinetics.sweep` runs a whole saturation or competition series over them.
Each reaction is written as its net flux (``-> RL ; rate = kon*L*R - koff*RL``).
With ``depletion=False`` the free ligand and competitor are held at their totals
(``L = LT``, ``I = IT``): the assumption behind every textbook formula.

Units: minutes and nM (``UNITS``). Receptor concentration in an assay tube is
``Bmax`` (pmol/mg protein) times the protein concentration (mg/mL): 1 pmol/mL
is 1 nM.

Analytic relations (mass-action receptor binding; Cheng & Prusoff 1973 for ``Ki``) are provided as functions and
serve as test oracles in the regime where they hold (no depletion,
equilibrium): saturation ``B = Bmax L/(Kd + L)``, ``kobs = kon L + koff``,
Cheng-Prusoff ``Ki = IC50/(1 + L/Kd)``, the two-site displacement equation, and
the homologous ``IC50 = Kd + L``. :func:`depletion_bias` quantifies how wrong the
textbook formulas are when ``RT`` is not much smaller than ``Kd``;
:func:`incubation_bias` does the same for a finite incubation time.

Fitting: the kinetic schemes are fitted with the package's fitting
(:func:`kinetics.fitting.fit`): :func:`fit_kinetics` (kon, koff, Bmax from time
courses), :func:`fit_saturation_with_depletion` and
:func:`fit_competition_with_depletion` (Kd, Bmax, Ki, two-site fraction from
equilibrium data, depletion included). The *textbook* curve models
(hyperbola, one-site, two-site, Hill, exponentials: :func:`fit_saturation`,
:func:`fit_competition`, :func:`fit_association`, :func:`fit_dissociation`) are
algebraic, not schemes; they use a small private least-squares helper on
:func:`scipy.optimize.least_squares` (log-parameters, standard errors from the
Jacobian).

Examples
--------
>>> from models import binding_assays as ba
>>> sat = ba.saturation([0.5, 1.0, 2.0, 4.0], receptor_nM=1e-6, kd_nM=1.0, kon=0.1)
>>> [round(float(x), 5) for x in sat.specific / 1e-6]   # = L/(Kd + L) when RT << Kd
[0.33333, 0.5, 0.66667, 0.8]
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

import kinetics as kx
from kinetics.errors import ArgumentError
# Import the functions from their modules: `kx.simulate` can resolve to the submodule
# `kinetics.simulate` once that module has been imported by another route.
from kinetics.simulate import simulate, sweep
from kinetics.steady import steady_state

__all__ = [
    "UNITS",
    "binding_scheme",
    "AssayCurve",
    "association",
    "dissociation",
    "saturation",
    "competition",
    "homologous_competition",
    "specific_binding",
    "observed_rate",
    "association_curve",
    "dissociation_curve",
    "one_site_competition",
    "two_site_competition",
    "hill_competition",
    "cheng_prusoff",
    "homologous_ic50",
    "depleted_specific_binding",
    "curve_ic50",
    "FitSummary",
    "fit_saturation",
    "fit_competition",
    "fit_association",
    "fit_dissociation",
    "fit_kinetics",
    "fit_saturation_with_depletion",
    "fit_competition_with_depletion",
    "DepletionBias",
    "depletion_bias",
    "IncubationBias",
    "incubation_bias",
]

#: Unit system of every assay scheme: minutes and nM.
UNITS = kx.UnitSystem(time="min", concentration="nM")

_GENERIC = ("generic value of the assay template, not a property of any ligand; pass the constants of a "
            "real radioligand (models.nmda_ligands) to model a real assay")
_NS_RATE_NOTE = ("non-specific partitioning is taken to be fast (10/min) compared with specific binding; "
                 "no published rate, only the equilibrium ratio `ns` matters for equilibrium assays")


# --------------------------------------------------------------------------- schemes
@lru_cache(maxsize=None)
def binding_scheme(*, sites: int = 1, competitor: bool = False, depletion: bool = True,
                   nonspecific: bool = True, affinities: bool = False) -> kx.Scheme:
    """The kinetic scheme of a radioligand binding assay.

    Parameters
    ----------
    sites : {1, 2}
        One receptor population, or two (fraction ``f_H`` and ``1 - f_H``) that the
        radioligand binds alike and the competitor with different constants.
    competitor : bool
        Add an unlabelled competitor ``I`` (total ``IT``).
    depletion : bool
        True: free ligand = total - bound (exact). False: free ligand and
        competitor are held at their totals (the textbook assumption).
    nonspecific : bool
        Add linear non-specific binding ``LN`` (equilibrium ``LN = ns * L``).
    affinities : bool
        Parametrise by dissociation constants instead of off-rates: ``Kd``
        (``koff = kon Kd``), ``Ki`` or ``Ki_H``/``Ki_L`` (``koff_I = kon_I Ki``); the
        form used to fit equilibrium data (:func:`fit_saturation_with_depletion`).

    Returns
    -------
    Scheme
        Species: the complexes (``RL``, ``RI``, ``LN``; two sites: ``RL_H``,
        ``RL_L``, ``RI_H``, ``RI_L``). Observables: free ``L``, ``I``, ``R``
        (``R_H``, ``R_L``), ``B_specific``, ``B_nonspecific``, ``B_total``.

    Examples
    --------
    >>> s = binding_scheme(competitor=True)
    >>> s.species_names
    ('RL', 'RI', 'LN')
    """
    if sites not in (1, 2):
        raise ArgumentError(f"`sites` must be 1 or 2, got {sites!r}")
    P = kx.Parameter
    params = [
        P("RT", 1.0, "nM", note="total receptor sites in the tube (Bmax x protein concentration); " + _GENERIC),
        P("LT", 1.0, "nM", note="total radioligand added; " + _GENERIC),
        P("kon", 0.1, "1/(nM*min)", note="radioligand association rate constant; " + _GENERIC),
        P("Kd", 1.0, "nM", note="radioligand dissociation constant; " + _GENERIC) if affinities else
        P("koff", 0.1, "1/min", note="radioligand dissociation rate constant (Kd = koff/kon); " + _GENERIC),
    ]
    if sites == 2:
        params.append(P("f_H", 0.5, "1", bounds=(0.0, 1.0), note="fraction of sites in population H; " + _GENERIC))
    if competitor:
        params.append(P("IT", 0.0, "nM", note="total competitor added"))
        for p, label, off in ([("_I", "", 0.1)] if sites == 1 else [("_IH", ", population H", 0.1),
                                                                    ("_IL", ", population L", 1.0)]):
            params.append(P(f"kon{p}", 0.1, "1/(nM*min)", note=f"competitor association{label}; " + _GENERIC))
            if affinities:
                params.append(P("Ki" + p[2:].replace("H", "_H").replace("L", "_L"), off / 0.1, "nM",
                                note=f"competitor dissociation constant{label}; " + _GENERIC))
            else:
                params.append(P(f"koff{p}", off, "1/min", note=f"competitor dissociation{label} (Ki = koff/kon); "
                                + _GENERIC))
    if nonspecific:
        params += [P("ns", 0.0, "1", note="non-specific binding per free ligand at equilibrium (LN/L); "
                                       "measured in assays as binding in excess unlabelled ligand"),
                   P("k_ns", 10.0, "1/min", note=_NS_RATE_NOTE)]

    S, O, r = kx.Species, kx.Observable, kx.reaction
    pops = [""] if sites == 1 else ["_H", "_L"]
    species, reactions, observables = [], [], []
    bound_L = [f"RL{p}" for p in pops]
    bound_I = [f"RI{p}" for p in pops] if competitor else []
    for p in pops:
        species.append(S(f"RL{p}", 0.0, unit="nM", note="radioligand-receptor complex"))
    for p in pops if competitor else []:
        species.append(S(f"RI{p}", 0.0, unit="nM", note="competitor-receptor complex"))
    if nonspecific:
        species.append(S("LN", 0.0, unit="nM", note="non-specifically bound radioligand"))
    l_bound = " - ".join(bound_L + (["LN"] if nonspecific else []))
    observables.append(O("L", f"LT - {l_bound}" if depletion else "LT", unit="nM", note="free radioligand"))
    if competitor:
        observables.append(O("I", f"IT - {' - '.join(bound_I)}" if depletion else "IT", unit="nM",
                             note="free competitor"))
    for p in pops:
        total = "RT" if sites == 1 else ("f_H*RT" if p == "_H" else "(1 - f_H)*RT")
        occupied = f"RL{p}" + (f" - RI{p}" if competitor else "")
        observables.append(O(f"R{p}", f"{total} - {occupied}", unit="nM", note="free receptor sites"))
        law = f"kon*(L*R{p} - Kd*RL{p})" if affinities else f"kon*L*R{p} - koff*RL{p}"
        reactions.append(r(f"-> RL{p}", rate=law, name=f"radioligand_binding{p}"))
        if competitor:
            kon_i = "kon_I" if sites == 1 else f"kon_I{p[1:]}"
            if affinities:
                law = f"{kon_i}*(I*R{p} - {'Ki' if sites == 1 else 'Ki' + p}*RI{p})"
            else:
                law = f"{kon_i}*I*R{p} - {'koff_I' if sites == 1 else 'koff_I' + p[1:]}*RI{p}"
            reactions.append(r(f"-> RI{p}", rate=law, name=f"competitor_binding{p}"))
    if nonspecific:
        reactions.append(r("-> LN", rate="k_ns*(ns*L - LN)", name="nonspecific_binding"))
    observables.append(O("B_specific", " + ".join(bound_L), unit="nM", note="specifically bound radioligand"))
    observables.append(O("B_nonspecific", "LN" if nonspecific else "0", unit="nM"))
    observables.append(O("B_total", "B_specific + B_nonspecific", unit="nM", note="what a filter counts"))
    name = f"radioligand_assay_{sites}site" + ("_competition" if competitor else "") + \
        ("" if depletion else "_no_depletion") + ("_affinities" if affinities else "")
    return kx.Scheme(name, species=species, parameters=params, reactions=reactions, observables=observables,
                     units=UNITS, description="kinetic radioligand binding assay (free = total - bound)"
                     + ("" if depletion else "; free ligand held at its total (no depletion)"),
                     reference="textbook mass-action receptor binding kinetics; Cheng Y, Prusoff WH (1973) Biochem "
                               "Pharmacol 22:3099-3108 (Ki from IC50)")


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class AssayCurve:
    """One simulated assay: ``x`` (time in min, or ligand/competitor in nM) and binding in nM.

    ``specific``, ``nonspecific``, ``total`` are bound radioligand; ``free_ligand``
    is the free radioligand at the end of the incubation (or over time).
    """

    kind: str
    x: np.ndarray
    x_label: str
    specific: np.ndarray
    nonspecific: np.ndarray
    total: np.ndarray
    free_ligand: np.ndarray
    conditions: dict = field(default_factory=dict)

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame({self.x_label: self.x, "specific_nM": self.specific,
                             "nonspecific_nM": self.nonspecific, "total_nM": self.total,
                             "free_ligand_nM": self.free_ligand})

    def to_dict(self) -> dict:
        return {"kind": self.kind, self.x_label: self.x.tolist(), "specific_nM": self.specific.tolist(),
                "nonspecific_nM": self.nonspecific.tolist(), "total_nM": self.total.tolist(),
                "free_ligand_nM": self.free_ligand.tolist(), "conditions": dict(self.conditions)}

    def plot(self, ax=None, *, logx=None):
        """Plot total, non-specific and specific binding against ``x`` (the added radioligand of a saturation
        assay, the competitor, or time); returns the Axes."""
        from kinetics.plotstyle import label, style

        with style():
            if ax is None:
                import matplotlib.pyplot as plt

                _, ax = plt.subplots(figsize=(5, 3.5), constrained_layout=True)
            if np.any(self.nonspecific):
                ax.plot(self.x, self.total, "o-", ms=3, label="total")
                ax.plot(self.x, self.nonspecific, "s--", ms=3, label="non-specific")
            ax.plot(self.x, self.specific, "^-", ms=3, label="specific")
            if logx if logx is not None else self.kind == "competition":
                ax.set_xscale("log")
            quantity, _, unit = self.x_label.rpartition("_")
            quantity = {"ligand": "added radioligand", "competitor": "added competitor"}.get(quantity, quantity)
            ax.set_xlabel(label(quantity, unit))
            ax.set_ylabel(label("bound radioligand", "nM"))
            ax.set_title(f"{self.kind} assay")
            ax.legend()
        return ax


def _positive(name, value, *, allow_zero=False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ArgumentError(f"`{name}` must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ArgumentError(f"`{name}` must be {'>= 0' if allow_zero else '> 0'} and finite, got {value!r}")
    return v


def _concentrations(name, values) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(values, dtype=float))
    if arr.ndim != 1 or arr.size == 0:
        raise ArgumentError(f"`{name}` must be a non-empty 1-d sequence of concentrations (nM)")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ArgumentError(f"`{name}` must be finite and >= 0 (nM), got {values!r}")
    return arr


def _rates(kd_nM, kon, koff, what="radioligand"):
    """(kon, koff) from any two of Kd, kon, koff (kon defaults to 0.1 /(nM*min))."""
    if koff is not None and kd_nM is not None:
        kon2 = _positive("koff", koff) / _positive("kd_nM", kd_nM)
        if kon is not None and not math.isclose(kon2, kon, rel_tol=1e-9):
            raise ArgumentError(f"{what}: `kd_nM`, `kon` and `koff` are inconsistent (Kd must equal koff/kon)")
        return kon2, float(koff)
    kon = 0.1 if kon is None else _positive("kon", kon)
    if koff is not None:
        return kon, _positive("koff", koff)
    if kd_nM is None:
        raise ArgumentError(f"{what}: give `kd_nM` or `koff`")
    return kon, kon * _positive("kd_nM", kd_nM)


def _observe(scheme, rows, Y) -> dict:
    """Observables of ``scheme`` for states ``Y`` (m, n_states) and parameter overrides ``rows`` (m dicts)."""
    model = kx.compile(scheme)
    names = scheme.observable_names
    out = {n: np.empty(len(rows)) for n in names}
    for i, row in enumerate(rows):
        obs = model.numpy.observables(0.0, np.asarray(Y[i], dtype=float), model.parameter_vector(row),
                                      model.input_defaults())
        for n, v in zip(names, obs):
            out[n][i] = float(v)
    return out


def _equilibrium(scheme, params) -> dict:
    """Equilibrium states and observables of an assay scheme (:func:`kinetics.steady_state`)."""
    ss = steady_state(scheme, params=params, tol=1e-12)
    obs = _observe(scheme, [params], ss.vector[None, :])
    return {**{k: float(v) for k, v in ss.y.items()}, **{k: float(v[0]) for k, v in obs.items()}}


def _finals(scheme, table: dict, incubation: float) -> dict:
    """Observables at the end of an incubation for every row of a :func:`kinetics.sweep` over ``table``."""
    sw = sweep(scheme, table, t_end=incubation, executor="serial", progress=False, rtol=1e-9, atol=1e-13)
    return {n: sw.final_of(n) for n in scheme.observable_names}


def _curve(kind, x, x_label, obs, conditions) -> AssayCurve:
    return AssayCurve(kind=kind, x=np.asarray(x, dtype=float), x_label=x_label,
                      specific=np.asarray(obs["B_specific"]), nonspecific=np.asarray(obs["B_nonspecific"]),
                      total=np.asarray(obs["B_total"]), free_ligand=np.asarray(obs["L"]), conditions=conditions)


# --------------------------------------------------------------------------- assays
def association(times, *, ligand_nM: float, receptor_nM: float, kd_nM: float | None = None,
                kon: float | None = None, koff: float | None = None, ns: float = 0.0,
                depletion: bool = True) -> AssayCurve:
    """Association time course: bound radioligand after adding ``ligand_nM`` at t = 0.

    Parameters
    ----------
    times : array_like
        Sampling times (min), sorted, starting at >= 0.
    ligand_nM, receptor_nM : float
        Totals in the tube.
    kd_nM, kon, koff : float
        Any two of them (``kon`` defaults to 0.1 /(nM*min)).
    ns : float
        Non-specific binding per free radioligand.
    depletion : bool
        Free ligand = total - bound (True) or held at the total (False).

    Examples
    --------
    >>> c = association([0, 10, 1000], ligand_nM=1.0, receptor_nM=0.001, kd_nM=1.0, kon=0.1, depletion=False)
    >>> round(float(c.specific[-1] / 0.001), 6)   # Bmax L/(Kd + L)
    0.5
    """
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size == 0 or np.any(np.diff(t) < 0) or t[0] < 0 or not np.all(np.isfinite(t)):
        raise ArgumentError("`times` must be a sorted, non-empty 1-d sequence of times >= 0 (min)")
    kon, koff = _rates(kd_nM, kon, koff)
    scheme = binding_scheme(depletion=depletion)
    params = {"RT": _positive("receptor_nM", receptor_nM), "LT": _positive("ligand_nM", ligand_nM),
              "kon": kon, "koff": koff, "ns": _positive("ns", ns, allow_zero=True)}
    t_end = float(t[-1]) if t[-1] > 0 else 1.0
    res = simulate(scheme, t_end=t_end, t_eval=t, params=params, rtol=1e-10, atol=1e-14)
    obs = {n: res[n] for n in ("B_specific", "B_nonspecific", "B_total", "L")}
    return _curve("association", t, "time_min", obs, {**params, "depletion": depletion})


def dissociation(times, *, ligand_nM: float, receptor_nM: float, kd_nM: float | None = None,
                 kon: float | None = None, koff: float | None = None, depletion: bool = True) -> AssayCurve:
    """Dissociation time course after equilibrium, started by excess unlabelled ligand (no rebinding).

    The complex present at equilibrium decays with ``kon = 0`` (rebinding of the
    radioligand prevented): ``B(t) = B0 exp(-koff t)``. Non-specific binding is
    not followed (reported as zero).
    """
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size == 0 or np.any(np.diff(t) < 0) or t[0] < 0 or not np.all(np.isfinite(t)):
        raise ArgumentError("`times` must be a sorted, non-empty 1-d sequence of times >= 0 (min)")
    kon, koff = _rates(kd_nM, kon, koff)
    scheme = binding_scheme(depletion=depletion, nonspecific=False)
    params = {"RT": _positive("receptor_nM", receptor_nM), "LT": _positive("ligand_nM", ligand_nM),
              "kon": kon, "koff": koff}
    eq = _equilibrium(scheme, params)
    t_end = float(t[-1]) if t[-1] > 0 else 1.0
    res = simulate(scheme, t_end=t_end, t_eval=t, params={**params, "kon": 0.0}, y0={"RL": eq["RL"]},
                      rtol=1e-10, atol=1e-14)
    zero = np.zeros_like(t)
    obs = {"B_specific": res["B_specific"], "B_nonspecific": zero, "B_total": res["B_specific"], "L": res["L"]}
    return _curve("dissociation", t, "time_min", obs, {**params, "depletion": depletion, "B0": eq["RL"]})


def saturation(ligand_nM, *, receptor_nM: float, kd_nM: float | None = None, kon: float | None = None,
               koff: float | None = None, ns: float = 0.0, depletion: bool = True,
               incubation_min: float | None = None) -> AssayCurve:
    """Saturation assay: total, non-specific and specific binding against added radioligand.

    Parameters
    ----------
    ligand_nM : array_like
        Radioligand added (nM); the x axis of the result.
    incubation_min : float, optional
        Finite incubation time (min); ``None`` gives equilibrium
        (:func:`kinetics.steady_state`). Finite times run as one
        :func:`kinetics.sweep` over ``LT``.

    Returns
    -------
    AssayCurve
        ``free_ligand`` is the free radioligand at the end (what the textbook
        hyperbola needs on its x axis).
    """
    L = _concentrations("ligand_nM", ligand_nM)
    if np.any(L <= 0):
        raise ArgumentError("`ligand_nM` must be > 0 for a saturation assay")
    kon, koff = _rates(kd_nM, kon, koff)
    scheme = binding_scheme(depletion=depletion)
    base = {"RT": _positive("receptor_nM", receptor_nM), "kon": kon, "koff": koff,
            "ns": _positive("ns", ns, allow_zero=True)}
    if incubation_min is None:
        rows = [_equilibrium(scheme, {**base, "LT": float(x)}) for x in L]
        obs = {k: np.array([r[k] for r in rows]) for k in ("B_specific", "B_nonspecific", "B_total", "L")}
    else:
        table = {"LT": L, **{k: np.full(L.size, v) for k, v in base.items()}}
        obs = _finals(scheme, table, _positive("incubation_min", incubation_min))
    return _curve("saturation", L, "ligand_nM", obs,
                  {**base, "depletion": depletion, "incubation_min": incubation_min})


def competition(competitor_nM, *, ligand_nM: float, receptor_nM: float, kd_nM: float | None = None,
                kon: float | None = None, koff: float | None = None, ki_nM: float | None = None,
                kon_i: float | None = None, f_high: float | None = None, ki_high_nM: float | None = None,
                ki_low_nM: float | None = None, ns: float = 0.0, depletion: bool = True,
                incubation_min: float | None = None) -> AssayCurve:
    """Heterologous competition: radioligand binding against unlabelled competitor.

    One population: give ``ki_nM``. Two populations: give ``f_high`` (fraction of
    sites in the high-affinity population), ``ki_high_nM`` and ``ki_low_nM``.
    The competitor associates with ``kon_i`` (default: the radioligand's ``kon``)
    and dissociates with ``Ki * kon_i``.

    Examples
    --------
    >>> c = competition([0.0, 3.0], ligand_nM=1.0, receptor_nM=0.001, kd_nM=1.0, ki_nM=1.5, depletion=False)
    >>> round(float(c.specific[1] / c.specific[0]), 6)   # IC50 = Ki (1 + L/Kd) = 3 nM
    0.5
    """
    I = _concentrations("competitor_nM", competitor_nM)
    kon, koff = _rates(kd_nM, kon, koff)
    kon_i = kon if kon_i is None else _positive("kon_i", kon_i)
    two = f_high is not None or ki_high_nM is not None or ki_low_nM is not None
    if two:
        if ki_nM is not None or None in (f_high, ki_high_nM, ki_low_nM):
            raise ArgumentError("two-site competition needs `f_high`, `ki_high_nM` and `ki_low_nM` (and no `ki_nM`)")
        f = float(f_high)
        if not 0.0 <= f <= 1.0:
            raise ArgumentError(f"`f_high` must be in [0, 1], got {f_high!r}")
        comp = {"f_H": f, "kon_IH": kon_i, "koff_IH": kon_i * _positive("ki_high_nM", ki_high_nM),
                "kon_IL": kon_i, "koff_IL": kon_i * _positive("ki_low_nM", ki_low_nM)}
    else:
        if ki_nM is None:
            raise ArgumentError("give `ki_nM` (one site) or `f_high`, `ki_high_nM`, `ki_low_nM` (two sites)")
        comp = {"kon_I": kon_i, "koff_I": kon_i * _positive("ki_nM", ki_nM)}
    scheme = binding_scheme(sites=2 if two else 1, competitor=True, depletion=depletion)
    base = {"RT": _positive("receptor_nM", receptor_nM), "LT": _positive("ligand_nM", ligand_nM),
            "kon": kon, "koff": koff, "ns": _positive("ns", ns, allow_zero=True), **comp}
    if incubation_min is None:
        rows = [_equilibrium(scheme, {**base, "IT": float(x)}) for x in I]
        obs = {k: np.array([r[k] for r in rows]) for k in ("B_specific", "B_nonspecific", "B_total", "L")}
    else:
        table = {"IT": I, **{k: np.full(I.size, v) for k, v in base.items()}}
        obs = _finals(scheme, table, _positive("incubation_min", incubation_min))
    return _curve("competition", I, "competitor_nM", obs,
                  {**base, "depletion": depletion, "incubation_min": incubation_min})


def homologous_competition(competitor_nM, *, ligand_nM: float, receptor_nM: float, kd_nM: float | None = None,
                           kon: float | None = None, koff: float | None = None, ns: float = 0.0,
                           depletion: bool = True, incubation_min: float | None = None) -> AssayCurve:
    """Homologous competition: the competitor is the unlabelled radioligand (same kon, koff).

    Without depletion ``IC50 = Kd + L`` (:func:`homologous_ic50`).
    """
    kon, koff = _rates(kd_nM, kon, koff)
    return competition(competitor_nM, ligand_nM=ligand_nM, receptor_nM=receptor_nM, kon=kon, koff=koff,
                       ki_nM=koff / kon, kon_i=kon, ns=ns, depletion=depletion, incubation_min=incubation_min)


# --------------------------------------------------------------------------- analytic relations
def specific_binding(L, bmax, kd):
    """Equilibrium specific binding ``Bmax L / (Kd + L)`` (L = free radioligand)."""
    L = np.asarray(L, dtype=float)
    return bmax * L / (kd + L)


def observed_rate(L, kon, koff):
    """Observed association rate ``kobs = kon L + koff`` (pseudo-first order, no depletion)."""
    return kon * np.asarray(L, dtype=float) + koff


def association_curve(t, L, bmax, kon, koff):
    """``B(t) = Beq (1 - exp(-kobs t))`` with ``Beq = Bmax L/(Kd + L)`` (no depletion)."""
    t = np.asarray(t, dtype=float)
    kobs = kon * L + koff
    return bmax * kon * L / kobs * (1.0 - np.exp(-kobs * t))


def dissociation_curve(t, b0, koff):
    """``B(t) = B0 exp(-koff t)``."""
    return b0 * np.exp(-koff * np.asarray(t, dtype=float))


def one_site_competition(I, b0, ic50):
    """``B = B0 / (1 + I/IC50)``."""
    return b0 / (1.0 + np.asarray(I, dtype=float) / ic50)


def two_site_competition(I, b0, f_high, ic50_high, ic50_low):
    """``B = B0 [fH/(1 + I/IC50_H) + (1 - fH)/(1 + I/IC50_L)]`` (two independent site populations, mass action)."""
    I = np.asarray(I, dtype=float)
    return b0 * (f_high / (1.0 + I / ic50_high) + (1.0 - f_high) / (1.0 + I / ic50_low))


def hill_competition(I, b0, ic50, hill):
    """``B = B0 / (1 + (I/IC50)^nH)`` (empirical; nH < 1 for heterogeneous sites)."""
    I = np.asarray(I, dtype=float)
    return b0 / (1.0 + (I / ic50) ** hill)


def cheng_prusoff(ic50, L, kd):
    """Cheng-Prusoff ``Ki = IC50 / (1 + L/Kd)`` (competitive, equilibrium, no depletion)."""
    return ic50 / (1.0 + L / kd)


def homologous_ic50(kd, L):
    """IC50 of unlabelled radioligand against its labelled self: ``Kd + L`` (no depletion)."""
    return kd + L


def depleted_specific_binding(LT, RT, kd):
    """Exact equilibrium specific binding with ligand depletion (no non-specific binding).

    The root of ``B^2 - (LT + RT + Kd) B + LT RT = 0`` in ``[0, min(LT, RT)]``.
    """
    LT = np.asarray(LT, dtype=float)
    s = LT + RT + kd
    return 0.5 * (s - np.sqrt(s * s - 4.0 * LT * RT))


def curve_ic50(x, y) -> float:
    """Concentration at which a decreasing curve ``y(x)`` (y[0] at x = 0) falls to half of y[0].

    Log-linear interpolation between the two bracketing points.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    half = 0.5 * y[0]
    below = np.nonzero(y <= half)[0]
    if y[0] <= 0 or below.size == 0 or below[0] == 0:
        raise ArgumentError("the curve does not fall below half of its first value; extend the concentration range")
    j = below[0]
    x0, x1 = x[j - 1], x[j]
    if x0 <= 0:
        return float(x1 - (y[j] - half) * (x1 - x0) / (y[j] - y[j - 1]))
    lx = np.log(x0) + (half - y[j - 1]) * (np.log(x1) - np.log(x0)) / (y[j] - y[j - 1])
    return float(np.exp(lx))


# --------------------------------------------------------------------------- fitting
@dataclass(frozen=True)
class FitSummary:
    """Result of an assay fit: ``values`` and ``stderr`` by name, cost, success flag and message."""

    model: str
    values: dict
    stderr: dict
    cost: float
    success: bool
    message: str
    covariance: np.ndarray | None = field(default=None, repr=False)

    def __getitem__(self, name):
        return self.values[name]

    def report(self) -> str:
        lines = [f"fit `{self.model}`: {'converged' if self.success else 'FAILED'} ({self.message}); "
                 f"cost {self.cost:.3g}"]
        for k, v in self.values.items():
            se = self.stderr.get(k, float("nan"))
            lines.append(f"  {k:>12} = {v:.6g}" + (f" +/- {se:.2g}" if math.isfinite(se) else ""))
        return "\n".join(lines)


def _least_squares(model: str, names, residual, p0, *, log=None, lower=None, upper=None) -> FitSummary:
    """Private least-squares helper (scipy.optimize.least_squares); positive parameters fitted in log space.

    Intended to move onto ``kinetics.fitting`` once that module is available.
    """
    from scipy.optimize import least_squares

    n = len(names)
    log = [True] * n if log is None else list(log)
    p0 = np.asarray(p0, dtype=float)
    lo = np.full(n, -np.inf) if lower is None else np.asarray(lower, dtype=float)
    hi = np.full(n, np.inf) if upper is None else np.asarray(upper, dtype=float)
    to_q = lambda p: np.where(log, np.log(np.where(log, p, 1.0)), p)       # noqa: E731
    to_p = lambda q: np.where(log, np.exp(np.where(log, q, 0.0)), q)       # noqa: E731
    q0 = to_q(p0)
    qlo = np.where(log, np.log(np.where(lo > 0, lo, 1e-300)), lo)
    qhi = np.where(log, np.log(np.where(np.isfinite(hi), hi, 1e300)), hi)
    q0 = np.clip(q0, qlo + 1e-12, qhi - 1e-12)
    sol = least_squares(lambda q: residual(to_p(q)), q0, bounds=(qlo, qhi), method="trf",
                        x_scale="jac", xtol=1e-14, ftol=1e-14, gtol=1e-14, max_nfev=20000)
    p = to_p(sol.x)
    J = sol.jac / np.where(log, p, 1.0)  # d r/d p = (d r/d log p) / p
    dof = max(1, sol.fun.size - n)
    s2 = 2.0 * sol.cost / dof
    cov = np.linalg.pinv(J.T @ J) * s2
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    return FitSummary(model=model, values=dict(zip(names, map(float, p))), stderr=dict(zip(names, map(float, se))),
                      cost=float(sol.cost), success=bool(sol.success), message=str(sol.message), covariance=cov)


def _xy(x, y, what):
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.size != y.size or x.size < 3 or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ArgumentError(f"{what}: x and y must be finite arrays of the same length (>= 3 points)")
    return x, y


def fit_saturation(free_ligand_nM, specific_nM) -> FitSummary:
    """Fit ``Bmax`` and ``Kd`` of ``B = Bmax L/(Kd + L)`` (L = free radioligand).

    Examples
    --------
    >>> L = [0.25, 0.5, 1, 2, 4, 8]
    >>> f = fit_saturation(L, specific_binding(L, 2.0, 1.5))
    >>> round(f["Kd"], 6), round(f["Bmax"], 6)
    (1.5, 2.0)
    """
    L, B = _xy(free_ligand_nM, specific_nM, "fit_saturation")
    p0 = [max(B.max(), 1e-30) * 1.2, float(np.median(L[L > 0])) if np.any(L > 0) else 1.0]
    return _least_squares("one-site saturation", ["Bmax", "Kd"], lambda p: specific_binding(L, p[0], p[1]) - B, p0)


def fit_competition(competitor_nM, bound, *, model: str = "one_site", ligand_nM: float | None = None,
                    kd_nM: float | None = None) -> FitSummary:
    """Fit a competition curve: ``model`` = ``"one_site"``, ``"two_site"`` or ``"hill"``.

    ``B0`` is fitted too. With ``ligand_nM`` and ``kd_nM`` the Cheng-Prusoff
    ``Ki`` (or ``Ki_high``/``Ki_low``) is added to the values.
    """
    I, B = _xy(competitor_nM, bound, "fit_competition")
    b0 = float(B.max())
    pos = I[I > 0]
    if pos.size == 0:
        raise ArgumentError("fit_competition needs competitor concentrations > 0")
    try:
        mid = curve_ic50(np.concatenate([[0.0], pos]), np.concatenate([[b0], B[I > 0]]))
    except ArgumentError:
        mid = float(np.median(pos))
    if model == "one_site":
        fit = _least_squares("one-site competition", ["B0", "IC50"],
                             lambda p: one_site_competition(I, p[0], p[1]) - B, [b0, mid])
    elif model == "hill":
        fit = _least_squares("Hill competition", ["B0", "IC50", "nH"],
                             lambda p: hill_competition(I, p[0], p[1], p[2]) - B, [b0, mid, 1.0])
    elif model == "two_site":
        best = None
        for f0 in (0.3, 0.5, 0.7):  # a few starts: two-site fits have local minima
            cand = _least_squares(
                "two-site competition", ["B0", "f_high", "IC50_high", "IC50_low"],
                lambda p: two_site_competition(I, p[0], p[1], p[2], p[2] * (1.0 + p[3])) - B,
                [b0, f0, mid / 5.0, 24.0], log=[True, False, True, True],
                lower=[0, 0.0, 0, 1e-6], upper=[np.inf, 1.0, np.inf, np.inf])
            if best is None or cand.cost < best.cost:
                best = cand
        v, se = dict(best.values), dict(best.stderr)
        ratio = v.pop("IC50_low")  # fitted as IC50_low / IC50_high - 1 (keeps the two sites ordered)
        v["IC50_low"] = v["IC50_high"] * (1.0 + ratio)
        grad = np.array([0.0, 0.0, 1.0 + ratio, v["IC50_high"]])  # delta method
        se["IC50_low"] = float(np.sqrt(max(grad @ best.covariance @ grad, 0.0)))
        fit = FitSummary(best.model, v, se, best.cost, best.success, best.message, best.covariance)
    else:
        raise ArgumentError(f"unknown competition model `{model}`; choose `one_site`, `two_site` or `hill`")
    if ligand_nM is not None and kd_nM is not None:
        v = dict(fit.values)
        if model == "two_site":
            v["Ki_high"] = cheng_prusoff(v["IC50_high"], ligand_nM, kd_nM)
            v["Ki_low"] = cheng_prusoff(v["IC50_low"], ligand_nM, kd_nM)
        else:
            v["Ki"] = cheng_prusoff(v["IC50"], ligand_nM, kd_nM)
        fit = FitSummary(fit.model, v, fit.stderr, fit.cost, fit.success, fit.message, fit.covariance)
    return fit


def fit_association(times_min, bound_nM) -> FitSummary:
    """Fit ``B(t) = Beq (1 - exp(-kobs t))``: values ``Beq`` and ``kobs``."""
    t, B = _xy(times_min, bound_nM, "fit_association")
    beq = float(B.max())
    half = t[np.argmax(B >= 0.5 * beq)] if np.any(B >= 0.5 * beq) else t[-1]
    k0 = math.log(2) / max(half, 1e-12)
    return _least_squares("exponential association", ["Beq", "kobs"],
                          lambda p: p[0] * (1.0 - np.exp(-p[1] * t)) - B, [beq, k0])


def fit_dissociation(times_min, bound_nM) -> FitSummary:
    """Fit ``B(t) = B0 exp(-koff t)``: values ``B0`` and ``koff``."""
    t, B = _xy(times_min, bound_nM, "fit_dissociation")
    b0 = float(B[0])
    half = t[np.argmax(B <= 0.5 * b0)] if np.any(B <= 0.5 * b0) else t[-1]
    k0 = math.log(2) / max(half, 1e-12)
    return _least_squares("exponential dissociation", ["B0", "koff"],
                          lambda p: dissociation_curve(t, p[0], p[1]) - B, [b0, k0])


def fit_kinetics(association_curves, dissociation=None, *, bounds: dict | None = None, n_starts: int = 4,
                 executor="serial", sigma=None):
    """Fit ``kon``, ``koff`` and ``RT`` (Bmax in nM) of the kinetic scheme to time courses (:func:`kinetics.fitting.fit`).

    The scheme is :func:`binding_scheme` without depletion (the standard
    pseudo-first-order design, radioligand in excess of receptors).

    Parameters
    ----------
    association_curves : sequence of (ligand_nM, times_min, bound_nM)
        Association time courses from t = 0 (no bound radioligand at the start).
    dissociation : (times_min, bound_nM), optional
        Dissociation by dilution (no rebinding), fitted jointly. The complex at
        the start of every curve is then fitted too (``values["RL(0)[dissociation]"]``;
        ~0 for the association curves).
    bounds : dict, optional
        ``{"kon": (lo, hi), "koff": (lo, hi), "RT": (lo, hi)}`` in 1/(nM*min), 1/min, nM;
        defaults span 6 decades around rough estimates from the data.
    executor : str, int or Executor
        Where the starts run (default ``"serial"``: this process).
    sigma : float, optional
        Noise standard deviation (nM); default: estimated per curve.

    Returns
    -------
    kinetics.fitting.FitResult
        ``values["kon"]``, ``values["koff"]``, ``values["RT"]`` with standard errors and
        confidence intervals; ``Kd = koff / kon``.
    """
    from kinetics.fitting import Dataset, FitParameter, fit

    curves = [(float(L), *_xy(t, b, "fit_kinetics")) for L, t, b in association_curves]
    if not curves:
        raise ArgumentError("fit_kinetics needs at least one association curve")
    if len(curves) < 2 and dissociation is None:
        raise ArgumentError("kon and koff need association curves at >= 2 ligand concentrations, or a "
                            "dissociation curve")
    sig = "estimate" if sigma is None else float(sigma)
    datasets = [Dataset(f"association_{i}", time=t, data={"B_specific": b}, parameters={"LT": L}, sigma=sig)
                for i, (L, t, b) in enumerate(curves)]
    if dissociation is not None:
        td, bd = _xy(*dissociation, "fit_kinetics (dissociation)")
        # LT = 0: no rebinding; the starting complex RL(0) is fitted (per curve, see below)
        datasets.append(Dataset("dissociation", time=td - td[0], data={"B_specific": bd}, parameters={"LT": 0.0},
                                y0={"RL": float(bd[0])}, sigma=sig))
    # rough starts: kobs of each curve, then kobs = kon L + koff
    rates = np.array([(L, fit_association(t, b).values["kobs"]) for L, t, b in curves])
    if len(curves) >= 2:
        kon0, koff0 = np.polyfit(rates[:, 0], rates[:, 1], 1)
    else:
        koff0 = fit_dissociation(*dissociation).values["koff"]
        kon0 = (rates[0, 1] - koff0) / rates[0, 0]
    kon0 = max(kon0, 1e-6 * rates[:, 1].max() / rates[:, 0].max())
    koff0 = max(koff0, 1e-6 * rates[:, 1].max())
    rt0 = max(b.max() for _, _, b in curves) * (1 + koff0 / (kon0 * min(c[0] for c in curves)))
    default = {"kon": (kon0 / 1e3, kon0 * 1e3), "koff": (koff0 / 1e3, koff0 * 1e3), "RT": (rt0 / 1e3, rt0 * 1e3)}
    spec = [FitParameter(k, (bounds or {}).get(k, default[k]), start=start)
            for k, start in (("kon", kon0), ("koff", koff0), ("RT", rt0))]
    if dissociation is not None:
        # the complex at the start of each curve: ~0 for association, the fitted B0 of the dissociation
        top = 2.0 * max(float(np.max(bd)), max(float(b.max()) for _, _, b in curves))
        spec.append(FitParameter("RL(0)", (0.0, top), scale="linear", per_dataset=True))
    scheme = binding_scheme(depletion=False, nonspecific=False)
    return fit(scheme, datasets, spec, n_starts=n_starts, executor=executor, progress=False)


def _fit_equilibrium(scheme, x_name, x, y, fixed: dict, spec: dict, *, incubation_min, sigma, n_starts, executor):
    from kinetics.fitting import Dataset, fit

    s = float(sigma) if sigma is not None else 0.01 * float(np.max(np.abs(y)))
    datasets = [Dataset(f"point_{i}", time=[incubation_min], data={"B_specific": [float(b)]},
                        parameters={**fixed, x_name: float(v)}, sigma=s) for i, (v, b) in enumerate(zip(x, y))]
    return fit(scheme, datasets, spec, n_starts=n_starts, executor=executor, progress=False)


_FAST_KON = 10.0  # 1/(nM*min): association used to reach equilibrium quickly when only equilibria are fitted


def fit_saturation_with_depletion(ligand_nM, specific_nM, *, ns: float = 0.0, incubation_min: float | None = None,
                                  kon: float | None = None, sigma: float | None = None, n_starts: int = 4,
                                  executor="serial"):
    """Fit ``Kd`` and ``RT`` (Bmax, nM) to specific binding against *added* radioligand, depletion included.

    Uses :func:`kinetics.fitting.fit` on :func:`binding_scheme` (``affinities=True``,
    free = total - bound): one dataset per concentration. Where the textbook
    hyperbola (:func:`fit_saturation`) is biased by depletion (see
    :func:`depletion_bias`), this fit recovers the true constants.

    Parameters
    ----------
    ns : float
        Non-specific binding per free radioligand (measured separately); it
        depletes the free radioligand too.
    incubation_min, kon : float, optional
        A finite incubation: give its duration and the radioligand's ``kon``.
        Default: equilibrium (simulated with a fast association).
    sigma : float, optional
        Noise standard deviation (nM); default 1 % of the largest value (uniform
        weights; the standard errors then assume that noise).

    Returns
    -------
    kinetics.fitting.FitResult
        ``values["Kd"]`` (nM) and ``values["RT"]`` (nM).
    """
    L, B = _xy(ligand_nM, specific_nM, "fit_saturation_with_depletion")
    guess = fit_saturation(L, B).values
    if incubation_min is None:
        kon_used, t_inc = _FAST_KON, max(5000.0, 100.0 / (_FAST_KON * float(L.min())))
    else:
        if kon is None:
            raise ArgumentError("a finite `incubation_min` needs the radioligand's `kon`")
        kon_used, t_inc = _positive("kon", kon), _positive("incubation_min", incubation_min)
    spec = {"Kd": {"bounds": (guess["Kd"] / 1e3, guess["Kd"] * 1e2), "start": guess["Kd"]},
            "RT": {"bounds": (guess["Bmax"] / 1e2, guess["Bmax"] * 1e2), "start": guess["Bmax"]}}
    ns = _positive("ns", ns, allow_zero=True)
    scheme = binding_scheme(nonspecific=ns > 0, affinities=True)
    fixed = {"kon": kon_used, **({"ns": ns} if ns > 0 else {})}
    return _fit_equilibrium(scheme, "LT", L, B, fixed, spec, incubation_min=t_inc, sigma=sigma,
                            n_starts=n_starts, executor=executor)


def fit_competition_with_depletion(competitor_nM, specific_nM, *, ligand_nM: float, kd_nM: float,
                                   receptor_nM: float, two_site: bool = False, sigma: float | None = None,
                                   n_starts: int = 4, executor="serial"):
    """Fit ``Ki`` (or ``f_H``, ``Ki_H``, ``Ki_L``) to a competition curve, depletion of everything included.

    The radioligand's ``Kd`` and the receptor concentration are known (from a
    saturation assay); the competitor's constants are fitted with
    :func:`kinetics.fitting.fit` on :func:`binding_scheme` (``affinities=True``).

    Returns
    -------
    kinetics.fitting.FitResult
    """
    I, B = _xy(competitor_nM, specific_nM, "fit_competition_with_depletion")
    fixed = {"LT": _positive("ligand_nM", ligand_nM), "Kd": _positive("kd_nM", kd_nM),
             "RT": _positive("receptor_nM", receptor_nM), "kon": _FAST_KON}
    textbook = fit_competition(I, B, model="two_site" if two_site else "one_site", ligand_nM=ligand_nM, kd_nM=kd_nM)
    if two_site:
        v = textbook.values
        fixed.update(kon_IH=_FAST_KON, kon_IL=_FAST_KON)
        spec = {"f_H": {"bounds": (0.0, 1.0), "start": min(max(v["f_high"], 0.05), 0.95), "scale": "linear"},
                "Ki_H": {"bounds": (v["Ki_high"] / 1e3, v["Ki_high"] * 1e2), "start": v["Ki_high"]},
                "Ki_L": {"bounds": (v["Ki_low"] / 1e2, v["Ki_low"] * 1e3), "start": v["Ki_low"]}}
    else:
        ki = textbook.values["Ki"]
        fixed.update(kon_I=_FAST_KON)
        spec = {"Ki": {"bounds": (ki / 1e3, ki * 1e2), "start": ki}}
    scheme = binding_scheme(sites=2 if two_site else 1, competitor=True, nonspecific=False, affinities=True)
    t_inc = max(5000.0, 100.0 / (_FAST_KON * fixed["LT"]))
    return _fit_equilibrium(scheme, "IT", I, B, fixed, spec, incubation_min=t_inc, sigma=sigma,
                            n_starts=n_starts, executor=executor)


# --------------------------------------------------------------------------- biases of the textbook formulas
@dataclass(frozen=True)
class DepletionBias:
    """How ligand depletion biases the textbook estimates (``RT`` not << ``Kd``).

    Attributes
    ----------
    kd_true, receptor_nM : float
    kd_apparent : float
        Kd from fitting the hyperbola to specific binding against *added* ligand.
    kd_free_axis : float
        Kd from the same fit against the simulated *free* ligand (recovers the truth).
    half_saturation_added : float
        Added ligand giving half occupancy; exactly ``Kd + RT/2``.
    bound_fraction_at_kd : float
        Fraction of the added radioligand that is bound when ``LT = Kd``.
    ki_true, ki_cheng_prusoff : float
        True Ki of a competitor and the Cheng-Prusoff estimate from the simulated
        IC50 (radioligand at ``LT = Kd``, competitor also depleted).
    """

    kd_true: float
    receptor_nM: float
    kd_apparent: float
    kd_free_axis: float
    bmax_apparent: float
    half_saturation_added: float
    bound_fraction_at_kd: float
    ki_true: float
    ic50_simulated: float
    ki_cheng_prusoff: float

    @property
    def kd_relative_error(self) -> float:
        return self.kd_apparent / self.kd_true - 1.0

    @property
    def ki_relative_error(self) -> float:
        return self.ki_cheng_prusoff / self.ki_true - 1.0

    def report(self) -> str:
        return (f"receptor {self.receptor_nM:g} nM = {self.receptor_nM / self.kd_true:.3g} x Kd "
                f"(Kd {self.kd_true:g} nM)\n"
                f"  {100 * self.bound_fraction_at_kd:.1f} % of the radioligand is bound at LT = Kd\n"
                f"  hyperbola vs added ligand: Kd {self.kd_apparent:.4g} nM ({100 * self.kd_relative_error:+.1f} %), "
                f"Bmax {self.bmax_apparent:.4g} nM\n"
                f"  hyperbola vs free ligand:  Kd {self.kd_free_axis:.4g} nM\n"
                f"  half saturation at added {self.half_saturation_added:.4g} nM (exact Kd + RT/2 = "
                f"{self.kd_true + self.receptor_nM / 2:.4g})\n"
                f"  competitor Ki {self.ki_true:g} nM: IC50 {self.ic50_simulated:.4g} nM -> Cheng-Prusoff Ki "
                f"{self.ki_cheng_prusoff:.4g} nM ({100 * self.ki_relative_error:+.1f} %)")


def depletion_bias(kd_nM: float, receptor_nM: float, *, ki_nM: float | None = None,
                   ligand_over_kd=None) -> DepletionBias:
    """Quantify the depletion bias of the textbook saturation fit and of Cheng-Prusoff.

    Simulates (exact equilibrium, kinetic scheme with free = total - bound) a
    saturation series and a competition curve at ``receptor_nM``, then analyses
    them with the textbook formulas that assume free = added.

    Examples
    --------
    >>> b = depletion_bias(1.0, 1.0)
    >>> round(b.half_saturation_added, 6)
    1.5
    """
    kd = _positive("kd_nM", kd_nM)
    rt = _positive("receptor_nM", receptor_nM)
    ki = kd if ki_nM is None else _positive("ki_nM", ki_nM)
    x = np.geomspace(0.05, 40.0, 25) if ligand_over_kd is None else _concentrations("ligand_over_kd", ligand_over_kd)
    LT = kd * x
    sat = saturation(LT, receptor_nM=rt, kd_nM=kd)
    fit_added = fit_saturation(LT, sat.specific)
    fit_free = fit_saturation(sat.free_ligand, sat.specific)
    from scipy.optimize import brentq

    half = brentq(lambda lt: float(depleted_specific_binding(lt, rt, kd)) - rt / 2, 1e-12 * kd, 1e6 * (kd + rt))
    bound_at_kd = float(depleted_specific_binding(kd, rt, kd)) / kd
    I = np.concatenate([[0.0], ki * np.geomspace(1e-3, 1e4, 57)])
    comp = competition(I, ligand_nM=kd, receptor_nM=rt, kd_nM=kd, ki_nM=ki)
    ic50 = curve_ic50(I, comp.specific)
    return DepletionBias(kd_true=kd, receptor_nM=rt, kd_apparent=fit_added["Kd"], kd_free_axis=fit_free["Kd"],
                         bmax_apparent=fit_added["Bmax"], half_saturation_added=float(half),
                         bound_fraction_at_kd=bound_at_kd, ki_true=ki, ic50_simulated=ic50,
                         ki_cheng_prusoff=float(cheng_prusoff(ic50, kd, kd)))


@dataclass(frozen=True)
class IncubationBias:
    """Bias of a saturation fit when the incubation stops before equilibrium."""

    kd_true: float
    bmax_true: float
    incubation_min: float
    kd_apparent: float
    bmax_apparent: float
    fraction_of_equilibrium_at_lowest: float

    @property
    def kd_relative_error(self) -> float:
        return self.kd_apparent / self.kd_true - 1.0

    def report(self) -> str:
        return (f"incubation {self.incubation_min:g} min: apparent Kd {self.kd_apparent:.4g} nM "
                f"({100 * self.kd_relative_error:+.1f} % vs {self.kd_true:g}), Bmax {self.bmax_apparent:.4g} "
                f"(true {self.bmax_true:g}); lowest concentration reaches "
                f"{100 * self.fraction_of_equilibrium_at_lowest:.1f} % of equilibrium")


def incubation_bias(kd_nM: float, kon: float, incubation_min: float, *, receptor_nM: float = 1e-3,
                    ligand_over_kd=None) -> IncubationBias:
    """Saturation fit after a finite incubation (no depletion): slow low concentrations bias Kd upward."""
    kd = _positive("kd_nM", kd_nM)
    x = np.geomspace(0.1, 10.0, 15) if ligand_over_kd is None else _concentrations("ligand_over_kd", ligand_over_kd)
    LT = kd * x
    sat = saturation(LT, receptor_nM=receptor_nM, kd_nM=kd, kon=kon, depletion=False,
                     incubation_min=_positive("incubation_min", incubation_min))
    fit = fit_saturation(LT, sat.specific)
    eq0 = float(specific_binding(LT[0], receptor_nM, kd))
    return IncubationBias(kd_true=kd, bmax_true=receptor_nM, incubation_min=float(incubation_min),
                          kd_apparent=fit["Kd"], bmax_apparent=fit["Bmax"],
                          fraction_of_equilibrium_at_lowest=float(sat.specific[0]) / eq0)
