"""PEtab parameter-estimation problems in and out: :func:`read_petab`, :class:`PetabProblem`, :func:`write_petab`.

`PEtab <https://petab.readthedocs.io>`_ (Schmiester et al. 2021, PLoS Comput Biol 17:e1008646) describes a
fitting problem as an SBML model and tab-separated tables: experimental conditions, observables (observation
and noise formulas, transformation, noise distribution), measurements (with per-row observable and noise
parameter overrides) and parameters (scale, bounds, nominal value, estimate flag, priors).

Reading
-------
:func:`read_petab` reads a PEtab 1 problem (the YAML file and the tables it names) into a
:class:`PetabProblem`: the SBML model becomes a :class:`~kinetics.scheme.Scheme` (:mod:`kinetics.sbml`),
each simulation condition a :class:`~kinetics.fitting.Dataset` of the states at its measurement times, and
the formulas sympy expressions parsed by the safe expression parser (:mod:`kinetics.expressions`; nothing in
the files is evaluated as code). Initial values defined by SBML initial assignments are recomputed for each
condition from the parameters (estimated ones included, with their sensitivities).

The likelihood is evaluated here, on top of the simulations of :class:`~kinetics.fitting.Objective` (states
and their exact forward sensitivities), because PEtab's noise models go beyond the least-squares objective:
for a measurement ``m``, simulated observable ``h`` and noise ``sigma`` (the noise formula) the negative
log-likelihood is, with ``phi`` the observable transformation (``lin``: identity, ``log``: ``ln``,
``log10``)::

    normal:   0.5*log(2*pi*sigma**2) + 0.5*((phi(m) - phi(h))/sigma)**2 + J(m)
    laplace:  log(2*sigma) + |phi(m) - phi(h)|/sigma + J(m)

where ``J(m)`` is the change of variables of the transformation: ``0`` (lin), ``log(m)`` (log),
``log(m*log(10))`` (log10). :meth:`PetabProblem.nllh` sums these terms; :meth:`PetabProblem.neg_log_prior`
adds the objective priors; :meth:`PetabProblem.fit` minimises their sum from many starts and returns a
:class:`~kinetics.fitting.FitResult`.

Not supported (a :class:`PetabError` names the feature): PEtab 2 and problems of several models, mapping
tables, pre-equilibration and steady-state (``inf``) measurement times, SBML events (and whatever
:mod:`kinetics.sbml` refuses), observable transformations and noise distributions other than the above,
condition-table columns that are not SBML parameters, compartments or species.

Writing
-------
:func:`write_petab` writes an nmdakin fitting problem (a :class:`~kinetics.fitting.FitResult` or an
:class:`~kinetics.fitting.Objective` of time-course datasets) as a PEtab 1 problem: the SBML export of the
scheme, one condition per dataset, one observable per dataset observable, the measurements, and the
parameters (fitted ones estimated, at the fitted values). Reading it back gives the same negative
log-likelihood as the nmdakin fit (``-FitResult.log_likelihood``).

Examples
--------
>>> problem = read_petab("Boehm_JProteomeRes2014.yaml")   # doctest: +SKIP
>>> round(problem.nllh(), 3)                              # doctest: +SKIP
138.222
>>> result = problem.fit(n_starts=20)                     # doctest: +SKIP
"""
from __future__ import annotations

import math
import re
import threading
import time as _time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy

from ..codegen import lambdify_modules
from ..errors import ArgumentError, KineticsError, SchemeError, SolverError, did_you_mean
from ..expressions import format_expression, parse_expression
from ..scheme import TIME

__all__ = ["PetabError", "PetabProblem", "read_petab", "write_petab", "SCALES", "NOISE_DISTRIBUTIONS",
           "TRANSFORMATIONS", "PRIOR_TYPES"]

#: PEtab parameter scales.
SCALES = ("lin", "log", "log10")
#: Observable transformations supported.
TRANSFORMATIONS = ("lin", "log", "log10")
#: Noise distributions supported.
NOISE_DISTRIBUTIONS = ("normal", "laplace")
#: Objective prior types supported.
PRIOR_TYPES = ("uniform", "normal", "laplace", "logNormal", "logLaplace", "parameterScaleUniform",
               "parameterScaleNormal", "parameterScaleLaplace")
#: Largest table file read (bytes).
MAX_TABLE_BYTES = 100_000_000
_LN10 = math.log(10.0)
_PLACEHOLDER = re.compile(r"^(observable|noise)Parameter([1-9][0-9]*)_(.+)$")
_SID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PetabError(KineticsError, ValueError):
    """A PEtab problem is malformed or uses a feature that nmdakin does not support (the message names it)."""


# --------------------------------------------------------------------------- small helpers
def _float(text, what: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        raise PetabError(f"{what} must be a number, got {text!r}") from None


def _is_number(text) -> bool:
    try:
        float(text)
        return True
    except (TypeError, ValueError):
        return False


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or \
        (isinstance(v, str) and v.strip() in ("", "nan", "NaN"))


def to_scale(value, scale: str):
    """A linear value on a PEtab scale."""
    value = np.asarray(value, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return value if scale == "lin" else np.log(value) if scale == "log" else np.log10(value)


def from_scale(x, scale: str):
    """The linear value of a value on a PEtab scale."""
    x = np.asarray(x, dtype=float)
    return x if scale == "lin" else np.exp(x) if scale == "log" else 10.0 ** x


def _dvalue_dx(x, scale: str):
    x = np.asarray(x, dtype=float)
    return np.ones_like(x) if scale == "lin" else np.exp(x) if scale == "log" else _LN10 * 10.0 ** x


def _read_table(path: Path, what: str):
    import pandas as pd

    if not path.is_file():
        raise PetabError(f"the {what} file `{path}` does not exist")
    if path.stat().st_size > MAX_TABLE_BYTES:
        raise PetabError(f"the {what} file `{path}` is too large ({path.stat().st_size} bytes; the limit is "
                         f"{MAX_TABLE_BYTES})")
    try:
        df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, na_filter=False)
    except (ValueError, OSError) as exc:
        raise PetabError(f"cannot read the {what} file `{path}`: {exc}") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _read_tables(paths, what: str, base: Path):
    import pandas as pd

    if isinstance(paths, str):
        paths = [paths]
    if not paths:
        raise PetabError(f"the PEtab problem names no {what} file")
    return pd.concat([_read_table(base / p, what) for p in paths], ignore_index=True)


def _need(df, columns, what: str):
    for c in columns:
        if c not in df.columns:
            raise PetabError(f"the {what} table has no column `{c}`" + did_you_mean(c, list(df.columns)))


# --------------------------------------------------------------------------- the parsed problem
@dataclass(frozen=True)
class PetabParameter:
    """One row of the PEtab parameter table (values linear, bounds linear)."""

    id: str
    scale: str
    lower: float
    upper: float
    nominal: float
    estimate: bool
    prior_type: str | None = None
    prior_parameters: tuple = ()
    name: str = ""


@dataclass(frozen=True)
class PetabObservable:
    """One row of the PEtab observable table, with its formulas in scheme names (placeholders kept)."""

    id: str
    formula: sympy.Expr
    noise: sympy.Expr
    transformation: str
    distribution: str
    n_observable_parameters: int
    n_noise_parameters: int
    text: str = ""
    noise_text: str = ""


# A value source: ("c", float) a constant or ("t", index) the parameter of that index in the parameter table.
def _source(text, what: str, index: dict):
    if _blank(text):
        return None
    s = str(text).strip()
    if _is_number(s):
        v = float(s)
        if math.isnan(v):
            return None
        return ("c", v)
    if s in index:
        return ("t", index[s])
    raise PetabError(f"{what}: `{s}` is neither a number nor a parameter of the parameter table"
                     + did_you_mean(s, list(index)))


class PetabProblem:
    """A PEtab problem read by :func:`read_petab`: scheme, conditions, observables, measurements, parameters.

    Attributes
    ----------
    scheme : Scheme
        The SBML model.
    sbml : SbmlModel
        The full import (SBML symbols).
    parameters : tuple of PetabParameter
        The parameter table, in its order.
    observables : dict of id -> PetabObservable
    conditions : tuple of str
        Simulation condition ids with measurements, in order of first appearance.
    datasets : tuple of Dataset
        One per condition: the states at the condition's measurement times (what is simulated).
    measurements : pandas.DataFrame
        The measurement table (rows in file order).
    x_names : tuple of str
        Ids of the estimated parameters: the order of ``x``.
    x_nominal, x_lower, x_upper : ndarray
        Nominal values and bounds of the estimated parameters on their PEtab scales.

    Examples
    --------
    >>> problem = read_petab("problem.yaml")   # doctest: +SKIP
    >>> problem.nllh(), problem.x_names         # doctest: +SKIP
    """

    def __init__(self, *, source, sbml, parameters, observables, condition_table, measurements,
                 rtol: float = 1e-8, atol: float = 1e-10):
        from .dataset import Dataset
        from .objective import Objective
        from .parameters import FitParameter

        self.source = source
        self.sbml = sbml
        self.scheme = sbml.scheme
        self.parameters = tuple(parameters)
        self.observables = dict(observables)
        self.measurements = measurements
        self.rtol, self.atol = float(rtol), float(atol)
        index = {p.id: i for i, p in enumerate(self.parameters)}
        self._index = index
        self.theta_nominal = np.array([p.nominal for p in self.parameters], dtype=float)
        est = [i for i, p in enumerate(self.parameters) if p.estimate]
        self._est = np.array(est, dtype=int)
        self.x_names = tuple(self.parameters[i].id for i in est)
        self.x_scales = tuple(self.parameters[i].scale for i in est)
        self.x_nominal = np.array([float(to_scale(self.parameters[i].nominal, self.parameters[i].scale))
                                   for i in est])
        self.x_lower = np.array([float(to_scale(self.parameters[i].lower, self.parameters[i].scale)) for i in est])
        self.x_upper = np.array([float(to_scale(self.parameters[i].upper, self.parameters[i].scale)) for i in est])
        scheme = self.scheme
        pnames = list(scheme.parameter_names)
        snames = list(scheme.species_names)
        self._pnames, self._snames = pnames, snames
        estimated = set(int(i) for i in self._est)

        # ---- conditions used by the measurements
        mt = measurements
        conds = list(dict.fromkeys(mt["simulationConditionId"]))
        ctab = {}
        for _, row in condition_table.iterrows():
            ctab[str(row["conditionId"]).strip()] = row
        for c in conds:
            if c not in ctab:
                raise PetabError(f"measurements use simulation condition `{c}`, which the condition table does not "
                                 f"define" + did_you_mean(c, list(ctab)))
        self.conditions = tuple(conds)
        ccols = [c for c in condition_table.columns if c not in ("conditionId", "conditionName")]
        renamed = dict(sbml.renamed)

        # ---- per condition: the source of every scheme parameter and species initial value
        # values are SBML values (the scheme's unit system); declared = SBML value / factor
        self._factor = dict(scheme.parameter_factors())
        base = {}
        for n in pnames:
            base[n] = ("c", float(scheme.get_parameter(n).value) * self._factor[n])
        for p in self.parameters:
            n = renamed.get(p.id, p.id)
            if n in base:
                base[n] = ("t", index[p.id])
        self._psrc, self._ysrc = [], []
        for c in conds:
            row = ctab[c]
            psrc, ysrc = dict(base), {}
            for col in ccols:
                src = _source(row[col], f"condition `{c}`, column `{col}`", index)
                if src is None:
                    continue
                n = renamed.get(col, col)
                if n in pnames:
                    psrc[n] = src
                elif n in snames:
                    ysrc[n] = src
                else:
                    raise PetabError(f"condition table column `{col}` is not a parameter, compartment or species "
                                     f"(state) of the SBML model; nmdakin cannot set it per condition"
                                     + did_you_mean(col, pnames + snames))
            self._psrc.append(psrc)
            self._ysrc.append(ysrc)

        # ---- initial values as functions of the scheme parameters (SBML initial assignments)
        self._y0_expr = {s: e for s, e in _initial_expressions(sbml, scheme).items()}
        psyms = [sympy.Symbol(n) for n in pnames]
        self._y0_fun = {}
        for s, e in self._y0_expr.items():
            grads = [e.diff(ps) for ps in psyms]
            self._y0_fun[s] = sympy.lambdify(psyms, [e] + grads, modules=lambdify_modules())

        # ---- what the Objective fits (per condition): model parameters and initial values that vary with x
        def varies(src):
            return src is not None and src[0] == "t" and src[1] in estimated

        fit_p = [n for n in pnames if any(varies(ps[n]) for ps in self._psrc)]
        fit_y = []
        for s in snames:
            for k in range(len(conds)):
                if s in self._ysrc[k]:
                    if varies(self._ysrc[k][s]):
                        fit_y.append(s)
                        break
                elif s in self._y0_expr and any(varies(self._psrc[k][str(v)]) for v in
                                                self._y0_expr[s].free_symbols if str(v) in self._psrc[k]):
                    fit_y.append(s)
                    break
        self._fit_p, self._fit_y = fit_p, fit_y

        # ---- measurement rows
        times = np.array([_float(t, "a measurement time") for t in mt["time"]])
        if np.any(~np.isfinite(times)):
            raise PetabError("measurement times `inf` (steady-state measurements) are not supported")
        if np.any(times < 0):
            raise PetabError("measurement times must be >= 0 (the simulation starts at t = 0)")
        values = np.array([_float(v, "a measurement") for v in mt["measurement"]])
        if np.any(~np.isfinite(values)):
            raise PetabError("measurements must be finite numbers")
        self._times, self._values = times, values
        cond_index = {c: k for k, c in enumerate(conds)}
        self._row_cond = np.array([cond_index[c] for c in mt["simulationConditionId"]], dtype=int)
        obs_ids = [str(o).strip() for o in mt["observableId"]]
        for o in obs_ids:
            if o not in self.observables:
                raise PetabError(f"measurements use observable `{o}`, which the observable table does not define"
                                 + did_you_mean(o, list(self.observables)))
        self._row_obs = obs_ids

        # datasets: one per condition, every state at the unique measurement times
        self.datasets = []
        self._row_tindex = np.zeros(len(times), dtype=int)
        names = set()
        for k, c in enumerate(conds):
            rows = np.flatnonzero(self._row_cond == k)
            tk = np.unique(times[rows])
            self._row_tindex[rows] = np.searchsorted(tk, times[rows])
            name = c if (c.isidentifier() and c not in names) else f"condition_{k}"
            names.add(name)
            fixed_p = {n: (src[1] if src[0] == "c" else float(self.theta_nominal[src[1]])) / self._factor[n]
                       for n, src in self._psrc[k].items() if n not in fit_p}
            y0 = {s: v for s, v in self._initial_values(k, self.theta_nominal)[0].items() if s not in fit_y}
            self.datasets.append(Dataset(name, time=tk, data={s: np.zeros(tk.size) for s in snames}, sigma=1.0,
                                         parameters=fixed_p, y0=y0))
        self.datasets = tuple(self.datasets)

        # ---- the simulation objective: per-condition copies of what varies
        specs = []
        for n in fit_p:
            p = scheme.get_parameter(n)
            lo = p.bounds[0] if math.isfinite(p.bounds[0]) else -1e300
            hi = p.bounds[1] if math.isfinite(p.bounds[1]) else 1e300
            specs.append(FitParameter(n, bounds=(lo, hi), scale="linear", start=min(max(float(p.value), lo), hi),
                                      per_dataset=True))
        for s in fit_y:
            sp = scheme.get_species(s)
            lo = 0.0 if sp.nonnegative else -1e300
            specs.append(FitParameter(f"{s}(0)", bounds=(lo, 1e300), scale="linear", start=max(sp.initial, lo),
                                      per_dataset=True))
        self._dummy = not specs
        if self._dummy:  # nothing varies: the Objective still needs one fitted quantity (held at its value)
            s = snames[0]
            sp = scheme.get_species(s)
            lo = 0.0 if sp.nonnegative else -1e300
            specs.append(FitParameter(f"{s}(0)", bounds=(lo, 1e300), scale="linear", start=max(sp.initial, lo),
                                      per_dataset=True))
            self._fit_y = fit_y = [s]
        self.objective = Objective(scheme, list(self.datasets), specs, rtol=self.rtol, atol=self.atol)
        self._obj_params = self.objective.parameters
        self._blocks = {(n, o): sl for n, o, sl in self.objective.block_slices()}

        # ---- observables: lambdified values and gradients
        self._compiled = None
        self._lock = threading.Lock()
        self._placeholders = {}
        for o, ob in self.observables.items():
            self._placeholders[o] = self._row_overrides(o, ob)

    # ------------------------------------------------------------------ pickling (lambdified code is rebuilt)
    def __getstate__(self):
        state = dict(self.__dict__)
        state["_compiled"] = None
        state["_lock"] = None
        state["_y0_fun"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()
        psyms = [sympy.Symbol(n) for n in self._pnames]
        self._y0_fun = {s: sympy.lambdify(psyms, [e] + [e.diff(ps) for ps in psyms], modules=lambdify_modules())
                        for s, e in self._y0_expr.items()}

    # ------------------------------------------------------------------ values
    def _param_values(self, k, theta) -> np.ndarray:
        """Scheme parameter values of condition ``k`` as SBML has them (the scheme's unit system)."""
        return np.array([src[1] if src[0] == "c" else float(theta[src[1]]) for src in
                         (self._psrc[k][n] for n in self._pnames)])

    def _initial_values(self, k, theta):
        """``({species: value}, {species: d value / d theta (array)})`` of condition ``k``: condition-table
        values, else the SBML initial value recomputed from the condition's parameters."""
        P = self._param_values(k, theta)
        n_theta = len(self.parameters)
        out, grad = {}, {}
        dP = self._dparam_dtheta(k)
        for s in self._snames:
            if s in self._ysrc[k]:
                src = self._ysrc[k][s]
                g = np.zeros(n_theta)
                if src[0] == "t":
                    out[s] = float(theta[src[1]])
                    g[src[1]] = 1.0
                else:
                    out[s] = src[1]
                grad[s] = g
            elif s in self._y0_fun:
                vals = self._y0_fun[s](*P)
                out[s] = float(vals[0])
                grad[s] = np.asarray([float(v) for v in vals[1:]]) @ dP
        return out, grad

    def _dparam_dtheta(self, k) -> np.ndarray:
        """``d (scheme parameters) / d theta`` of condition ``k`` (0/1 entries)."""
        D = np.zeros((len(self._pnames), len(self.parameters)))
        for i, n in enumerate(self._pnames):
            src = self._psrc[k][n]
            if src[0] == "t":
                D[i, src[1]] = 1.0
        return D

    def theta(self, x=None) -> np.ndarray:
        """Every parameter of the table (linear values): the nominal values with the estimated ones from ``x``.

        ``x``: None (nominal), the estimated parameters on their scales (array, order :attr:`x_names`), or a
        mapping ``{id: linear value}`` of any parameters of the table.
        """
        th = self.theta_nominal.copy()
        if x is None:
            return th
        if isinstance(x, dict):
            for k, v in x.items():
                if k not in self._index:
                    raise ArgumentError(f"unknown PEtab parameter `{k}`" + did_you_mean(k, list(self._index)))
                th[self._index[k]] = float(v)
            return th
        x = np.asarray(x, dtype=float)
        if x.shape != (len(self._est),):
            raise ArgumentError(f"`x` must have {len(self._est)} values (the estimated parameters "
                                f"{', '.join(self.x_names[:5])}{'...' if len(self.x_names) > 5 else ''} on their "
                                f"scales), got shape {x.shape}")
        for j, i in enumerate(self._est):
            th[i] = float(from_scale(x[j], self.parameters[i].scale))
        return th

    def _objective_x(self, theta):
        """The Objective's vector (linear values per condition) and ``d x_obj / d theta``."""
        n_theta = len(self.parameters)
        xo = np.empty(len(self._obj_params))
        A = np.zeros((len(self._obj_params), n_theta))
        names = [d.name for d in self.datasets]
        cache = {}
        for j, p in enumerate(self._obj_params):
            k = names.index(p.dataset)
            if p.kind == "model":
                src = self._psrc[k][p.name]
                f = self._factor[p.name]
                if src[0] == "t":
                    xo[j] = theta[src[1]] / f
                    A[j, src[1]] = 1.0 / f
                else:
                    xo[j] = src[1] / f
            else:
                if k not in cache:
                    cache[k] = self._initial_values(k, theta)
                vals, grads = cache[k]
                s = p.name[:-3]
                if s in vals:
                    xo[j] = vals[s]
                    A[j] = grads[s]
                else:
                    xo[j] = self.scheme.get_species(s).initial
            if self._dummy:
                A[j] = 0.0
        return xo, A

    # ------------------------------------------------------------------ overrides
    def _row_overrides(self, o, ob):
        """For the rows of observable ``o``: row indices and the sources of its placeholders."""
        rows = [i for i, r in enumerate(self._row_obs) if r == o]
        mt = self.measurements
        srcs = []
        for i in rows:
            row = mt.iloc[i]
            out = []
            for col, n, what in (("observableParameters", ob.n_observable_parameters, "observable"),
                                 ("noiseParameters", ob.n_noise_parameters, "noise")):
                text = row[col] if col in mt.columns else ""
                parts = [] if _blank(text) else [s.strip() for s in str(text).split(";")]
                if len(parts) != n:
                    raise PetabError(f"measurement row {i + 1} (observable `{o}`): {col} gives {len(parts)} value(s), "
                                     f"the {what} formula has {n} placeholder(s) `{what}ParameterN_{o}`")
                for s in parts:
                    src = _source(s, f"measurement row {i + 1}, {col}", self._index)
                    if src is None:
                        raise PetabError(f"measurement row {i + 1}: empty value in {col}")
                    out.append(src)
            srcs.append(out)
        return np.array(rows, dtype=int), srcs

    # ------------------------------------------------------------------ compiled observation functions
    def _functions(self):
        if self._compiled is not None:
            return self._compiled
        with self._lock:
            if self._compiled is None:
                comp = {}
                sysm = self.objective.compiled.system
                ys = list(sysm.y)
                ps = list(sysm.p)
                extra = [sympy.Symbol(f"theta__{p.id}") for p in self.parameters]
                for o, ob in self.observables.items():
                    ph = ([sympy.Symbol(f"observableParameter{n + 1}_{o}") for n in range(ob.n_observable_parameters)]
                          + [sympy.Symbol(f"noiseParameter{n + 1}_{o}") for n in range(ob.n_noise_parameters)])
                    args = [TIME] + ys + ps + ph + extra
                    fns = []
                    for expr in (ob.formula, ob.noise):
                        grads = [expr.diff(a) for a in args[1:]]
                        f = sympy.lambdify(args, [expr] + grads, modules=lambdify_modules(), cse=True,
                                           docstring_limit=0)
                        fns.append(f)
                    comp[o] = (fns, len(ys), len(ps), len(ph), len(extra))
                self._compiled = comp
        return self._compiled

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, x=None, *, gradient: bool = False) -> dict:
        """Simulated observables, noise and likelihood terms at ``x`` (see :meth:`theta`).

        Returns a dict with per-measurement arrays (file order) ``simulation``, ``sigma``, ``residual``
        (``(phi(m) - phi(h))/sigma``) and ``nllh_terms``, the total ``nllh``, and with ``gradient=True``
        ``grad_theta`` (d nllh / d theta, linear parameters), ``dres`` and ``dsigma`` (per row, d/d theta).
        """
        theta = self.theta(x)
        n_rows, n_theta = len(self._times), len(self.parameters)
        xo, A = self._objective_x(theta)
        out = self.objective.residuals(xo, jacobian=gradient)
        r, J = out if gradient else (out, None)
        comp = self._functions()
        h = np.empty(n_rows)
        sig = np.empty(n_rows)
        dh = np.zeros((n_rows, n_theta)) if gradient else None
        ds = np.zeros((n_rows, n_theta)) if gradient else None
        states = []
        for k, d in enumerate(self.datasets):
            Y = np.column_stack([r[self._blocks[(d.name, s)]] for s in self._snames])
            dY = None
            if gradient:
                dY = np.stack([J[self._blocks[(d.name, s)]] @ A for s in self._snames], axis=1)  # t, s, theta
            states.append((Y, dY, self._param_values(k, theta), self._dparam_dtheta(k)))
        extra_vals = theta
        for o, (rows, srcs) in self._placeholders.items():
            if rows.size == 0:
                continue
            fns, ny, npar, nph, nex = comp[o]
            t = self._times[rows]
            Yr = np.empty((rows.size, ny))
            Pr = np.empty((rows.size, npar))
            for j, i in enumerate(rows):
                k = self._row_cond[i]
                Yr[j] = states[k][0][self._row_tindex[i]]
                Pr[j] = states[k][2]
            PH = np.array([[s[1] if s[0] == "c" else theta[s[1]] for s in src] for src in srcs]).reshape(rows.size, nph)
            args = [t] + list(Yr.T) + list(Pr.T) + list(PH.T) + [np.full(rows.size, v) for v in extra_vals]
            for which, f in enumerate(fns):
                vals = [np.broadcast_to(np.asarray(v, dtype=float), (rows.size,)) for v in f(*args)]
                (h if which == 0 else sig)[rows] = vals[0]
                if not gradient:
                    continue
                g = np.column_stack(vals[1:]) if len(vals) > 1 else np.zeros((rows.size, 0))
                a1, a2 = ny + npar, ny + npar + nph
                gy, gp, gph, gex = g[:, :ny], g[:, ny:a1], g[:, a1:a2], g[:, a2:]
                D = np.zeros((rows.size, n_theta))
                for j, i in enumerate(rows):
                    k = self._row_cond[i]
                    Yd, Dp = states[k][1][self._row_tindex[i]], states[k][3]
                    D[j] = gy[j] @ Yd + gp[j] @ Dp + gex[j]
                    for q, s in enumerate(srcs[j]):
                        if s[0] == "t":
                            D[j, s[1]] += gph[j, q]
                (dh if which == 0 else ds)[rows] = D
        return self._likelihood(h, sig, dh, ds)

    def _likelihood(self, h, sig, dh, ds) -> dict:
        m = self._values
        n = m.size
        trans = np.array([self.observables[o].transformation for o in self._row_obs])
        dist = np.array([self.observables[o].distribution for o in self._row_obs])
        a, b = m.astype(float).copy(), h.copy()
        jac = np.zeros(n)
        db = np.ones(n)
        with np.errstate(divide="ignore", invalid="ignore"):
            for tr, f, jf in (("log", np.log, lambda v: np.log(v)), ("log10", np.log10, lambda v: np.log(v * _LN10))):
                sel = trans == tr
                if sel.any():
                    a[sel] = f(m[sel])
                    b[sel] = f(h[sel])
                    jac[sel] = jf(m[sel])
                    db[sel] = 1.0 / (h[sel] * (1.0 if tr == "log" else _LN10))
            res = (a - b) / sig
            normal = dist == "normal"
            terms = np.where(normal, 0.5 * np.log(2 * np.pi * sig ** 2) + 0.5 * res ** 2,
                             np.log(2 * sig) + np.abs(res)) + jac
        bad = ~np.isfinite(terms) | (sig <= 0)
        nll = float(np.sum(terms)) if not bad.any() else math.inf
        out = {"simulation": h, "sigma": sig, "measurement": m, "residual": res, "nllh_terms": terms, "nllh": nll,
               "transformed_simulation": b, "transformed_measurement": a, "normal": normal}
        if dh is not None:
            dB = dh * db[:, None]
            dres = -dB / sig[:, None] - (res / sig)[:, None] * ds
            dterm = np.where(normal[:, None], (ds / sig[:, None]) + res[:, None] * dres,
                             (ds / sig[:, None]) + np.sign(res)[:, None] * dres)
            out.update(grad_theta=np.sum(dterm, axis=0), dres=dres, dsigma=ds, dtransformed=dB)
        return out

    def observable_at(self, x, row: int, t) -> np.ndarray:
        """The observable of measurement ``row`` (its condition, observable and overrides) at times ``t``
        within ``[0, last measurement time of the condition]``."""
        theta = self.theta(x)
        t = np.asarray(t, dtype=float)
        k = int(self._row_cond[row])
        o = self._row_obs[row]
        rows, srcs = self._placeholders[o]
        src = srcs[int(np.flatnonzero(rows == row)[0])]
        xo, _ = self._objective_x(theta)
        y, _ = self.objective.simulate(xo, k, t_out=t)
        fns, ny, npar, nph, nex = self._functions()[o]
        n = t.size
        P = self._param_values(k, theta)
        ph = [s[1] if s[0] == "c" else theta[s[1]] for s in src]
        Y = np.asarray(y, dtype=float).reshape(n, ny)
        args = [t] + [Y[:, i] for i in range(ny)] + [np.full(n, v) for v in P] + [np.full(n, v) for v in ph] \
            + [np.full(n, v) for v in theta]
        return np.broadcast_to(np.asarray(fns[0](*args)[0], dtype=float), (n,)).copy()

    def nllh(self, x=None) -> float:
        """The PEtab negative log-likelihood at ``x`` (default: the nominal parameters), priors excluded.

        ``x``: the estimated parameters on their scales (order :attr:`x_names`) or ``{id: linear value}``.
        Every term is included: ``0.5*log(2*pi*sigma**2)`` (normal) or ``log(2*sigma)`` (Laplace), the
        residual term, and the change of variables ``log(m)`` / ``log(m*log(10))`` of log / log10
        observables. ``inf`` where a simulation is not positive under a log transformation.

        Examples
        --------
        >>> read_petab("problem.yaml").nllh()    # doctest: +SKIP
        138.2219969
        """
        return self.evaluate(x)["nllh"]

    # ------------------------------------------------------------------ priors
    def neg_log_prior(self, x=None) -> float:
        """The negative log-density of the objective priors at ``x`` (0 without priors)."""
        return self._prior(np.asarray(self.x_nominal if x is None else x, dtype=float))[0]

    def _prior(self, x):
        total, grad = 0.0, np.zeros(len(x))
        for j, i in enumerate(self._est):
            p = self.parameters[i]
            if not p.prior_type:
                continue
            xs = x[j]
            v = float(from_scale(xs, p.scale))
            dv = float(_dvalue_dx(xs, p.scale))
            t = p.prior_type
            a, b = (p.prior_parameters + (0.0, 0.0))[:2]
            if t in ("uniform", "parameterScaleUniform"):
                z = v if t == "uniform" else xs
                if not a <= z <= b:
                    return math.inf, grad
                total += math.log(b - a)
                continue
            if t in ("normal", "laplace"):
                z, dz = v, dv
            elif t in ("logNormal", "logLaplace"):
                if v <= 0:
                    return math.inf, grad
                z, dz = math.log(v), dv / v
                total += math.log(v)
                grad[j] += dv / v
            else:
                z, dz = xs, 1.0
            if t.endswith("ormal") or t == "normal":
                total += 0.5 * math.log(2 * math.pi * b * b) + 0.5 * ((z - a) / b) ** 2
                grad[j] += (z - a) / b ** 2 * dz
            else:
                total += math.log(2 * b) + abs(z - a) / b
                grad[j] += math.copysign(1.0, z - a) / b * dz
        return total, grad

    def objective_value(self, x=None) -> float:
        """The function :meth:`fit` minimises: :meth:`nllh` plus :meth:`neg_log_prior`."""
        x = self.x_nominal if x is None else np.asarray(x, dtype=float)
        return self.nllh(x) + self.neg_log_prior(x)

    def value_and_gradient(self, x) -> tuple:
        """``(nllh + neg_log_prior, gradient)`` at scaled ``x`` (exact forward sensitivities)."""
        x = np.asarray(x, dtype=float)
        ev = self.evaluate(x, gradient=True)
        pr, gpr = self._prior(x)
        g = ev["grad_theta"][self._est] * _dx(x, self.x_scales)
        return ev["nllh"] + pr, g + gpr

    # ------------------------------------------------------------------ least-squares form
    def _ls_ready(self) -> bool:
        """Every noise model normal, no prior but (parameter-scale) normal ones, and every noise formula a
        number or one parameter with a positive lower bound: then the objective is a sum of squares."""
        if any(ob.distribution != "normal" for ob in self.observables.values()):
            return False
        if any(self.parameters[i].prior_type not in (None, "", "parameterScaleNormal") for i in self._est):
            return False
        return self._sigma_floor() is not None

    def _sigma_floor(self):
        """A lower bound of each row's noise (None if a noise formula is not a number or one parameter)."""
        if hasattr(self, "_floor_cache"):
            return self._floor_cache
        floor = np.empty(len(self._times))
        ok = True
        for o, (rows, srcs) in self._placeholders.items():
            ob = self.observables[o]
            syms = ob.noise.free_symbols
            for j, i in enumerate(rows):
                if ob.noise.is_number:
                    floor[i] = float(ob.noise)
                    continue
                if len(syms) != 1 or ob.noise != next(iter(syms)):
                    ok = False
                    break
                name = str(next(iter(syms)))
                m = _PLACEHOLDER.match(name)
                if m and m.group(1) == "noise":
                    src = srcs[j][ob.n_observable_parameters + int(m.group(2)) - 1]
                elif name.startswith("theta__"):
                    src = ("t", self._index[name[7:]])
                else:
                    src = None
                if src is None:
                    ok = False
                    break
                if src[0] == "c":
                    floor[i] = src[1]
                else:
                    p = self.parameters[src[1]]
                    floor[i] = p.lower if p.estimate else p.nominal
            if not ok:
                break
        ok = ok and bool(np.all(floor > 0))
        self._floor_cache = floor if ok else None
        return self._floor_cache

    def _ls_residuals(self, x, jacobian: bool):
        """Residuals whose half sum of squares is the objective up to a constant (normal noise only)."""
        ev = self.evaluate(x, gradient=jacobian)
        sig, res = ev["sigma"], ev["residual"]
        floor = self._sigma_floor()
        with np.errstate(divide="ignore", invalid="ignore"):
            q = 2.0 * np.log(sig / floor)
        q = np.maximum(q, 0.0)
        rs = np.sqrt(q)
        pri, pj = [], []
        for j, i in enumerate(self._est):
            p = self.parameters[i]
            if p.prior_type == "parameterScaleNormal":
                mu, s = p.prior_parameters[:2]
                pri.append((x[j] - mu) / s)
                row = np.zeros(len(x))
                row[j] = 1.0 / s
                pj.append(row)
        r = np.concatenate([res, rs, np.array(pri)])
        if not np.all(np.isfinite(r)):
            r = np.full(r.size, 1e10)
            return (r, None) if jacobian else r
        if not jacobian:
            return r
        dx = _dx(x, self.x_scales)
        Jr = ev["dres"][:, self._est] * dx
        Js = (ev["dsigma"][:, self._est] * dx) / (sig * np.maximum(rs, 1e-8))[:, None]
        Jp = np.array(pj).reshape(len(pri), len(x))
        return r, np.vstack([Jr, Js, Jp])

    # ------------------------------------------------------------------ fitting
    def fit(self, n_starts: int = 10, *, seed=0, sampler: str = "lhs", include_start: bool = False,
            executor=None, options: dict | None = None, progress=None, level: float = 0.95):
        """Minimise :meth:`objective_value` from ``n_starts`` starts; returns a :class:`FitResult`.

        Starts are a space-filling design (``sampler``, seeded) in the box of the estimated parameters on
        their PEtab scales; ``include_start=True`` makes the nominal values the first start (off by default:
        the nominal values of the benchmark problems are their reported optimum). Each start runs
        :func:`scipy.optimize.least_squares` (trust region reflective, exact Jacobian, at most 100
        evaluations by default) when the objective is a sum of squares (normal noise whose noise formula is a
        number or one parameter; the ``log(sigma)`` terms become residuals ``sqrt(2*log(sigma/sigma_min))``),
        then L-BFGS-B with the exact gradient (which finishes optima on bounds quickly); L-BFGS-B alone
        otherwise. ``options`` go to ``least_squares`` (or to L-BFGS-B when it runs alone). Starts run through
        ``executor`` (see :func:`kinetics.fitting.fit`).

        Returns
        -------
        FitResult
            ``x``/``values`` of the estimated parameters (log and log10 scales reported as log10), the
            PEtab objective of each start in ``starts[i].cost``, ``log_likelihood = -nllh`` at the optimum,
            ``residuals`` ``(phi(m) - phi(h))/sigma`` per measurement, covariance from the Fisher
            information of the noise model.

        Examples
        --------
        >>> res = read_petab("problem.yaml").fit(n_starts=20)    # doctest: +SKIP
        >>> -res.log_likelihood                                   # doctest: +SKIP
        """
        from functools import partial

        from ..executor import as_executor
        from .optimize import SAMPLERS

        if isinstance(n_starts, bool) or int(n_starts) != n_starts or n_starts < 1:
            raise ArgumentError(f"`n_starts` must be a positive integer, got {n_starts!r}")
        if sampler not in SAMPLERS:
            raise ArgumentError(f"`sampler` must be one of {SAMPLERS}, got {sampler!r}")
        if not self.x_names:
            raise PetabError("the parameter table estimates no parameter (estimate = 1 nowhere): nothing to fit")
        t0 = _time.perf_counter()
        X0 = self.start_points(int(n_starts), seed=seed, sampler=sampler, include_start=include_start)
        self.objective.runtime()
        ex = as_executor(executor)
        try:
            starts = ex.map(partial(_run_start, self, options), list(enumerate(X0)), desc="petab multistart",
                            progress=progress)
        finally:
            if ex is not executor:
                ex.close()
        return self._assemble(starts, t0, level, {"n_starts": int(n_starts), "seed": seed, "sampler": sampler,
                                                  "include_start": include_start, "gradient": "exact",
                                                  "rtol": self.rtol, "atol": self.atol, "level": level,
                                                  "executor": ex.describe(), "options": dict(options or {}),
                                                  "method": "least_squares" if self._ls_ready() else "L-BFGS-B"})

    def start_points(self, n_starts: int, *, seed=0, sampler: str = "lhs", include_start: bool = False):
        """``(n_starts, n_estimated)`` start points on the PEtab scales."""
        from .optimize import design_points

        return design_points(n_starts, self.x_lower, self.x_upper, self.x_nominal, seed=seed, sampler=sampler,
                             include_start=include_start)

    def local_fit(self, x0, *, options: dict | None = None, index: int = 0):
        """One local optimisation from scaled ``x0``; a :class:`~kinetics.fitting.StartResult` (never raises for
        a failing simulation)."""
        from scipy.optimize import least_squares, minimize

        from .optimize import StartResult

        t0 = _time.perf_counter()
        x0 = np.clip(np.asarray(x0, dtype=float), self.x_lower, self.x_upper)
        res = StartResult(index=index, x0=x0.copy())
        n_eval = [0]
        lo, hi = self.x_lower, self.x_upper
        try:
            def vg(x):
                n_eval[0] += 1
                try:
                    v, g = self.value_and_gradient(x)
                except SolverError:
                    return 1e300, np.zeros(x.size)
                if not np.isfinite(v):
                    return 1e300, np.zeros(x.size)
                return v, g

            if self._ls_ready():
                cache = {}

                def both(x):
                    key = x.tobytes()
                    if key not in cache:
                        cache.clear()
                        n_eval[0] += 1
                        try:
                            cache[key] = self._ls_residuals(x, True)
                        except SolverError:
                            cache[key] = (None, None)
                    return cache[key]

                r0, _ = both(x0)
                if r0 is None:
                    raise SolverError("the simulation failed at the start point")
                n_res = r0.size

                def fun(x):
                    r, _ = both(x)
                    return np.full(n_res, 1e10) if r is None else r

                def jac(x):
                    r, J = both(x)
                    return np.zeros((n_res, x.size)) if J is None else J

                opts = {"method": "trf", "ftol": 1e-8, "xtol": 1e-8, "gtol": 1e-8, "max_nfev": 100}
                opts.update(options or {})
                ls = least_squares(fun, x0, jac=jac, bounds=(lo, hi), **opts)
                # trust-region reflective approaches optima on bounds slowly: L-BFGS-B (projected) finishes
                sol = minimize(vg, ls.x, jac=True, method="L-BFGS-B", bounds=list(zip(lo, hi)),
                               options={"maxiter": 2000})
                res.status = int(sol.status)
                res.success = bool(sol.success)
                res.nfev, res.njev = int(ls.nfev + getattr(sol, "nfev", 0)), int(ls.njev or 0)
                res.optimality = float(ls.optimality)
            else:
                opts = {"maxiter": 2000}
                opts.update(options or {})
                sol = minimize(vg, x0, jac=True, method="L-BFGS-B", bounds=list(zip(lo, hi)), options=opts)
                res.status = int(sol.status)
                res.success = bool(sol.success)
                res.nfev, res.njev = int(sol.nfev), int(getattr(sol, "njev", sol.nfev))
            res.x = np.asarray(sol.x, dtype=float)
            res.cost = float(self.objective_value(res.x))
            res.message = str(sol.message)
            res.raw = sol
            res.values = dict(zip(self.x_names, self.theta(res.x)[self._est].tolist()))
        except (KineticsError, ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
            res.success = False
            res.error = f"{type(exc).__name__}: {exc}"
            res.message = res.error
        res.n_simulations = n_eval[0] * len(self.datasets)
        res.time = _time.perf_counter() - t0
        return res

    # ------------------------------------------------------------------ the FitResult
    def _fit_parameters(self):
        from .parameters import ResolvedParameter

        out = []
        for j, i in enumerate(self._est):
            p = self.parameters[i]
            n = self.sbml.renamed.get(p.id, p.id)
            kind = "model" if n in self._pnames else "observation"
            unit = self.scheme.get_parameter(n).unit if kind == "model" and self._factor[n] == 1.0 else \
                "" if kind == "model" else "1"
            scale = "linear" if p.scale == "lin" else "log10"
            out.append(ResolvedParameter(key=p.id, name=n if kind == "model" else p.id, kind=kind, dataset=None,
                                         scale=scale, lower=p.lower, upper=p.upper,
                                         start=float(np.clip(p.nominal, p.lower, p.upper)), unit=unit,
                                         note=f"PEtab parameter ({p.scale} scale)"))
        return tuple(out)

    def _assemble(self, starts, t0, level, settings):
        from scipy.stats import norm

        from .result import FitResult, make_parameters
        from .uncertainty import covariance, identifiability

        ok = [s for s in starts if s.x is not None and np.isfinite(s.cost)]
        if not ok:
            first = next((s.error for s in starts if s.error), "unknown error")
            raise SolverError(f"all {len(starts)} starts failed; the first error: {first}")
        best = min(ok, key=lambda s: s.cost)
        xp = best.x
        ev = self.evaluate(xp, gradient=True)
        dx = _dx(xp, self.x_scales)
        # FitResult's axes: linear or log10 (a natural-log parameter is reported on log10)
        to10 = np.array([1.0 / _LN10 if s == "log" else 1.0 for s in self.x_scales])
        x10 = xp * to10
        Jres = ev["dres"][:, self._est] * dx / to10
        # Fisher information of the noise model: location rows dh/sigma, scale rows c*dsigma/sigma
        c = np.where(ev["normal"], math.sqrt(2.0), 1.0)[:, None]
        Jsig = c * ev["dsigma"][:, self._est] * dx / to10 / ev["sigma"][:, None]
        Jloc = ev["dtransformed"][:, self._est] * dx / to10 / ev["sigma"][:, None]
        cov = covariance(np.vstack([Jloc, Jsig]))
        params = self._fit_parameters()
        values = dict(zip(self.x_names, self.theta(xp)[self._est].tolist()))
        dv = np.array([float(p.dvalue_dx(xi)) for p, xi in zip(params, x10)])
        se_values = np.abs(dv) * cov.stderr
        stderr = {p.key: float(s) for p, s in zip(params, se_values)}
        z = float(norm.ppf(0.5 + level / 2))
        with np.errstate(over="ignore"):
            ci = {p.key: ((float(p.from_x(xi - z * s)), float(p.from_x(xi + z * s))) if np.isfinite(s)
                          else (None, None)) for p, xi, s in zip(params, x10, cov.stderr)}
        n, k = len(self._times), len(params)
        r = ev["residual"]
        nll = ev["nllh"]
        lo10, hi10 = self.x_lower * to10, self.x_upper * to10
        flags = identifiability([p.key for p in params], [p.scale for p in params], cov, x=x10, lower=lo10,
                                upper=hi10, values=[values[p.key] for p in params], value_stderr=se_values,
                                n_data=n)
        model_values = {p.name: values[p.key] / self._factor[p.name] for p in params if p.kind == "model"}
        scheme = self.scheme.with_parameters(model_values) if model_values else self.scheme
        datasets, blocks, sigma, order = self._measurement_datasets(ev)
        view = _PetabView(self, datasets, order)
        starts = list(starts)
        return FitResult(
            model=self.scheme, scheme=scheme, datasets=tuple(datasets), objective=view, fit_parameters=params,
            names=self.x_names, scales=tuple(p.scale for p in params), x=x10, values=values,
            parameters=make_parameters(params, values, stderr, ci, "wald", level, self.scheme,
                                       [d.name for d in datasets]),
            stderr=stderr, stderr_scaled=cov.stderr, covariance=cov.covariance, correlation=cov.correlation,
            fisher=cov.fisher, covariance_info=cov, ci=ci, ci_method="wald", residuals=r[order],
            jacobian=Jres[order], cost=0.5 * float(r @ r), chi2=float(r @ r),
            reduced_chi2=float(r @ r) / (n - k) if n > k else float("nan"), log_likelihood=-nll,
            aic=2 * k + 2 * nll, bic=k * math.log(n) + 2 * nll, n_data=n, n_parameters=k, n_sigma=0,
            success=bool(best.success), message=best.message, starts=starts, best_start=starts.index(best),
            profiles={}, flags=flags, sigma=sigma, settings=settings,
            n_simulations=sum(s.n_simulations for s in starts) + len(self.datasets),
            wall_time=_time.perf_counter() - t0, blocks=blocks)

    def _measurement_datasets(self, ev):
        """Datasets of the measurements (one per condition and observable, for reports and plots), their
        residual blocks, sigma, and the order of the measurement rows in them."""
        from .dataset import Dataset

        datasets, blocks, sigma, order = [], {}, {}, []
        names = set()
        for k, c in enumerate(self.conditions):
            for o in self.observables:
                rows = np.flatnonzero((self._row_cond == k) & (np.array(self._row_obs) == o))
                if rows.size == 0:
                    continue
                rows = rows[np.argsort(self._times[rows], kind="stable")]
                base = re.sub(r"\W", "_", f"{c}__{o}")
                name = base if base.isidentifier() and not base[0].isdigit() else f"d_{base}"
                while name in names:
                    name += "_"
                names.add(name)
                oname = o if o.isidentifier() else "y"
                sig = ev["sigma"][rows]
                datasets.append(Dataset(name, time=self._times[rows], data={oname: self._values[rows]},
                                        sigma={oname: sig}))
                blocks[(name, oname)] = slice(len(order), len(order) + rows.size)
                sigma[(name, oname)] = float(sig[0]) if np.all(sig == sig[0]) else None
                order.extend(rows.tolist())
        return datasets, blocks, sigma, np.array(order, dtype=int)

    def __repr__(self) -> str:
        return (f"<PetabProblem `{self.scheme.name}`: {len(self.conditions)} condition(s), {len(self.observables)} "
                f"observable(s), {len(self._times)} measurements, {len(self.x_names)} estimated parameters>")


def _dx(x, scales) -> np.ndarray:
    return np.array([float(_dvalue_dx(xi, s)) for xi, s in zip(np.asarray(x, dtype=float), scales)])


def _run_start(problem, options, item):
    index, x0 = item
    return problem.local_fit(x0, options=options, index=index)


class _PetabView:
    """What a :class:`FitResult` of a PEtab fit asks of its ``objective``: model values of the measurement
    datasets (one per condition and observable) and the parameters of their simulations."""

    def __init__(self, problem: PetabProblem, datasets, order):
        self.problem = problem
        self.datasets = tuple(datasets)
        self.rtol, self.atol = problem.rtol, problem.atol
        self.scheme = problem.scheme
        self.names = problem.x_names
        self._order = order

    def _x(self, x):
        to10 = np.array([_LN10 if s == "log" else 1.0 for s in self.problem.x_scales])
        return np.asarray(x, dtype=float) * to10

    def _where(self, k):
        sizes = [d.time.size for d in self.datasets]
        start = sum(sizes[:k])
        return self._order[start:start + sizes[k]]

    def predict(self, x, k, t_out=None) -> dict:
        """The observable of measurement dataset ``k`` at its times, or at ``t_out`` (with the observable and
        noise parameters of its first measurement)."""
        rows = self._where(k)
        name = self.datasets[k].observable_names[0]
        if t_out is None:
            return {name: self.problem.evaluate(self._x(x))["simulation"][rows]}
        return {name: self.problem.observable_at(self._x(x), int(rows[0]), t_out)}

    def dataset_values(self, k, x):
        """``(parameters, y0, {})`` of the simulation condition of measurement dataset ``k``."""
        p = self.problem
        cond = p._row_cond[self._where(k)[0]]
        theta = p.theta(self._x(x))
        params = {n: v / p._factor[n] for n, v in zip(p._pnames, p._param_values(cond, theta).tolist())}
        y0, _ = p._initial_values(cond, theta)
        return params, y0, {}


# --------------------------------------------------------------------------- SBML initial values
def _initial_expressions(sbml, scheme) -> dict:
    """``{species (state): initial value as an expression of scheme parameters}`` for states whose SBML
    initial value depends on parameters (initial assignments, compartment sizes)."""
    defs = getattr(sbml, "_petab_defs", None)
    if defs is None:
        return {}
    pn = set(scheme.parameter_names)
    out = {}
    for s in scheme.species_names:
        if s not in defs:
            continue
        e = defs[s] if isinstance(defs[s], sympy.Basic) else sympy.Float(defs[s])
        for _ in range(100):
            subs = {}
            for v in e.free_symbols:
                if v == TIME:
                    subs[v] = sympy.Integer(0)
                elif v.name not in pn and v.name in defs:
                    subs[v] = defs[v.name]
            if not subs:
                break
            e = e.xreplace(subs)
        else:
            raise PetabError(f"the initial value of `{s}` depends on itself through initial assignments")
        bad = [v.name for v in e.free_symbols if v.name not in pn]
        if bad:
            raise PetabError(f"the initial value of `{s}` depends on `{bad[0]}`, which has no value at t = 0")
        if e.free_symbols:
            out[s] = e
    return out


def _import_sbml(path: Path):
    """The SBML model, with the importer's defining expressions of values at t = 0 (for initial values)."""
    from ..sbml._document import read_document
    from ..sbml.read import _Importer

    try:
        doc, name = read_document(path)
        imp = _Importer(doc, name)
        if imp.model.getNumEvents():
            raise PetabError(f"the SBML model `{path.name}` has {imp.model.getNumEvents()} event(s): SBML events are "
                             f"not supported in PEtab problems")
        model = imp.build()
    except PetabError:
        raise
    except SchemeError as exc:
        raise PetabError(f"the SBML model `{path.name}` uses something nmdakin cannot import: {exc}") from exc
    object.__setattr__(model, "_petab_defs", dict(imp.defs))
    return model


# --------------------------------------------------------------------------- reading
def _parse_formula(text, what: str, allowed: dict, obs_id: str, kind_ok: tuple):
    """A PEtab formula in scheme names: SBML ids -> their expressions, ``time`` -> t, parameters of the table
    that the model lacks -> ``theta__<id>``, placeholders kept. Returns ``(expr, n_observable, n_noise)``."""
    if _blank(text):
        raise PetabError(f"{what} is empty")
    try:
        expr = parse_expression(str(text))
    except SchemeError as exc:
        raise PetabError(f"{what} `{text}` does not parse: {exc}") from None
    subs = {}
    counts = {"observable": 0, "noise": 0}
    for s in expr.free_symbols:
        n = s.name
        m = _PLACEHOLDER.match(n)
        if n in ("time", "t") and n not in allowed:
            subs[s] = TIME
        elif m and m.group(3) == obs_id:
            if m.group(1) not in kind_ok:
                raise PetabError(f"{what} uses the placeholder `{n}`, which belongs in the "
                                 f"{m.group(1)} formula")
            counts[m.group(1)] = max(counts[m.group(1)], int(m.group(2)))
        elif n in allowed:
            subs[s] = allowed[n]
        else:
            raise PetabError(f"{what} uses `{n}`, which is not an SBML id, a parameter of the parameter table or a "
                             f"placeholder `observableParameterN_{obs_id}` / `noiseParameterN_{obs_id}`"
                             + did_you_mean(n, list(allowed)))
    return expr.xreplace(subs), counts["observable"], counts["noise"]


def read_petab(yaml_path, *, rtol: float = 1e-8, atol: float = 1e-10) -> PetabProblem:
    """Read a PEtab 1 problem (YAML file and the tables it names) into a :class:`PetabProblem`.

    Parameters
    ----------
    yaml_path : str or Path
        The problem's YAML file.
    rtol, atol : float
        Solver tolerances of the simulations.

    Raises
    ------
    PetabError
        A malformed problem or a feature nmdakin does not support (PEtab 2, several models, mapping tables,
        pre-equilibration, steady-state measurements, events, unknown transformations or noise
        distributions...); the message names it.

    Examples
    --------
    >>> problem = read_petab("tests/data/petab/Boehm_JProteomeRes2014/Boehm_JProteomeRes2014.yaml")  # doctest: +SKIP
    """
    path = Path(yaml_path)
    if not path.is_file():
        raise PetabError(f"no PEtab problem file `{path}`")
    try:
        import yaml
    except ImportError:  # pragma: no cover - pyyaml comes with the petab extra
        raise PetabError("reading PEtab needs PyYAML: pip install nmdakin[petab]") from None
    if path.stat().st_size > MAX_TABLE_BYTES:
        raise PetabError(f"the PEtab file `{path}` is too large")
    try:
        spec = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise PetabError(f"`{path}` is not valid YAML: {exc}") from None
    if not isinstance(spec, dict):
        raise PetabError(f"`{path}` is not a PEtab problem file (a YAML mapping)")
    version = str(spec.get("format_version", ""))
    if version.split(".")[0] != "1":
        raise PetabError(f"PEtab format_version {version or '(missing)'} is not supported; nmdakin reads PEtab 1")
    if spec.get("extensions"):
        raise PetabError(f"PEtab extensions ({', '.join(map(str, spec['extensions']))}) are not supported")
    problems = spec.get("problems") or []
    if len(problems) != 1:
        raise PetabError(f"the PEtab file describes {len(problems)} problems; nmdakin reads exactly one")
    prob = problems[0]
    base = path.parent
    if prob.get("mapping_files"):
        raise PetabError("PEtab mapping tables (mapping_files) are not supported")
    sbml_files = prob.get("sbml_files") or []
    if isinstance(sbml_files, str):
        sbml_files = [sbml_files]
    if len(sbml_files) != 1:
        raise PetabError(f"the PEtab problem names {len(sbml_files)} SBML models; nmdakin reads exactly one")
    sbml = _import_sbml(base / sbml_files[0])
    scheme = sbml.scheme

    # parameter table
    ptab = _read_tables(spec.get("parameter_file"), "parameter", base)
    _need(ptab, ("parameterId", "parameterScale", "lowerBound", "upperBound", "nominalValue", "estimate"),
          "parameter")
    params = []
    for _, row in ptab.iterrows():
        pid = str(row["parameterId"]).strip()
        if not _SID.match(pid):
            raise PetabError(f"parameter id `{pid}` is not an identifier")
        scale = str(row["parameterScale"]).strip() or "lin"
        if scale not in SCALES:
            raise PetabError(f"parameter `{pid}`: parameterScale `{scale}` is not one of {SCALES}"
                             + did_you_mean(scale, SCALES))
        est = str(row["estimate"]).strip()
        if est not in ("0", "1"):
            raise PetabError(f"parameter `{pid}`: estimate must be 0 or 1, got {est!r}")
        nominal = _float(row["nominalValue"], f"nominalValue of parameter `{pid}`") \
            if not _blank(row["nominalValue"]) else math.nan
        lo = _float(row["lowerBound"], f"lowerBound of `{pid}`") if not _blank(row["lowerBound"]) else -math.inf
        hi = _float(row["upperBound"], f"upperBound of `{pid}`") if not _blank(row["upperBound"]) else math.inf
        if est == "1":
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise PetabError(f"parameter `{pid}` is estimated and needs finite bounds lowerBound < upperBound")
            if scale != "lin" and lo <= 0:
                raise PetabError(f"parameter `{pid}` on {scale} scale needs a positive lowerBound, got {lo}")
        if not math.isfinite(nominal):
            if est == "1":
                nominal = math.sqrt(lo * hi) if scale != "lin" else 0.5 * (lo + hi)
            else:
                raise PetabError(f"parameter `{pid}` is not estimated and needs a nominalValue")
        ptype = None
        pparams = ()
        if "objectivePriorType" in ptab.columns and not _blank(row["objectivePriorType"]):
            ptype = str(row["objectivePriorType"]).strip()
            if ptype not in PRIOR_TYPES:
                raise PetabError(f"parameter `{pid}`: objectivePriorType `{ptype}` is not supported; one of "
                                 f"{PRIOR_TYPES}" + did_you_mean(ptype, PRIOR_TYPES))
            text = row["objectivePriorParameters"] if "objectivePriorParameters" in ptab.columns else ""
            pparams = tuple(_float(v, f"objectivePriorParameters of `{pid}`") for v in str(text).split(";")
                            if v.strip())
            if len(pparams) != 2:
                raise PetabError(f"parameter `{pid}`: objectivePriorParameters must be two numbers `a;b`")
        params.append(PetabParameter(pid, scale, lo, hi, nominal, est == "1", ptype, pparams,
                                     str(row.get("parameterName", "") or "")))
    ids = [p.id for p in params]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise PetabError(f"parameter `{sorted(dup)[0]}` is listed twice in the parameter table")

    # symbols a formula may use
    renamed = dict(sbml.renamed)
    allowed = {}
    from ..model import compile as compile_model

    system = compile_model(scheme).system
    sysm_obs = {sympy.Symbol(k): v for k, v in system.observables.items()}
    for sid, expr in sbml.symbols.items():
        allowed[sid] = (expr if isinstance(expr, sympy.Basic) else sympy.Float(expr)).xreplace(sysm_obs)
    for p in params:
        n = renamed.get(p.id, p.id)
        if p.id not in allowed:
            allowed[p.id] = sympy.Symbol(n) if n in scheme.parameter_names else sympy.Symbol(f"theta__{p.id}")

    # observable table
    otab = _read_tables(prob.get("observable_files"), "observable", base)
    _need(otab, ("observableId", "observableFormula", "noiseFormula"), "observable")
    observables = {}
    for _, row in otab.iterrows():
        oid = str(row["observableId"]).strip()
        if not _SID.match(oid):
            raise PetabError(f"observable id `{oid}` is not an identifier")
        trans = str(row["observableTransformation"]).strip() if "observableTransformation" in otab.columns else ""
        trans = trans or "lin"
        if trans not in TRANSFORMATIONS:
            raise PetabError(f"observable `{oid}`: observableTransformation `{trans}` is not supported; one of "
                             f"{TRANSFORMATIONS}" + did_you_mean(trans, TRANSFORMATIONS))
        dist = str(row["noiseDistribution"]).strip() if "noiseDistribution" in otab.columns else ""
        dist = dist or "normal"
        if dist not in NOISE_DISTRIBUTIONS:
            raise PetabError(f"observable `{oid}`: noise distribution `{dist}` is not supported; one of "
                             f"{NOISE_DISTRIBUTIONS}" + did_you_mean(dist, NOISE_DISTRIBUTIONS))
        f, n_obs, _ = _parse_formula(row["observableFormula"], f"observableFormula of `{oid}`", allowed, oid,
                                     ("observable",))
        noise_text = row["noiseFormula"]
        nf, n_obs2, n_noise = _parse_formula(noise_text, f"noiseFormula of `{oid}`", allowed, oid,
                                             ("noise", "observable"))
        observables[oid] = PetabObservable(oid, f, nf, trans, dist, max(n_obs, n_obs2), n_noise,
                                           str(row["observableFormula"]), str(noise_text))
    if len(observables) != len(otab):
        raise PetabError("an observable id is listed twice in the observable table")

    # conditions and measurements
    ctab = _read_tables(prob.get("condition_files"), "condition", base)
    _need(ctab, ("conditionId",), "condition")
    mtab = _read_tables(prob.get("measurement_files"), "measurement", base)
    _need(mtab, ("observableId", "simulationConditionId", "measurement", "time"), "measurement")
    if len(mtab) == 0:
        raise PetabError("the measurement table has no rows")
    if "preequilibrationConditionId" in mtab.columns and \
            any(not _blank(v) for v in mtab["preequilibrationConditionId"]):
        raise PetabError("pre-equilibration (preequilibrationConditionId) is not supported: nmdakin simulates each "
                         "condition from the model's initial values at t = 0")
    mtab = mtab.copy()
    mtab["simulationConditionId"] = [str(v).strip() for v in mtab["simulationConditionId"]]
    return PetabProblem(source=str(path), sbml=sbml, parameters=params, observables=observables,
                        condition_table=ctab, measurements=mtab, rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- writing
def _petab_formula(expr) -> str:
    """PEtab math text of an expression (``^`` for powers, ``time`` for t)."""
    text = format_expression(expr.xreplace({TIME: sympy.Symbol("time")}))
    return text.replace("**", "^")


def _pid(text: str) -> str:
    """A PEtab id from a fitted key (``g[cell1]`` -> ``g__cell1``, ``C0(0)`` -> ``C0_0``)."""
    return re.sub(r"\W", "_", text.replace("[", "__").replace("]", "").replace("(0)", "_0"))


def _fresh_id(base: str, taken: set) -> str:
    """``base`` (made an identifier), with ``_`` appended while it names something of the model."""
    out = re.sub(r"\W", "_", base)
    while out in taken:
        out += "_"
    return out


def write_petab(fit_or_objective, folder, *, name: str | None = None) -> Path:
    """Write an nmdakin fitting problem as a PEtab 1 problem in ``folder``; returns the YAML file's path.

    Parameters
    ----------
    fit_or_objective : FitResult or Objective
        A fit (parameters at the fitted values, noise at the fitted levels) or an objective (parameters at
        their starts, estimated noise at its current level). Time-course datasets only.
    folder : str or Path
        Created if needed; receives ``model.xml`` (the scheme's SBML export), ``conditions.tsv``,
        ``observables.tsv``, ``measurements.tsv``, ``parameters.tsv`` and ``<name>.yaml``.
    name : str, optional
        The problem's name (default: the scheme's).

    Notes
    -----
    One condition per dataset (its parameter and initial-value overrides; a parameter or initial value
    fitted per dataset is a parameter ``<name>__<dataset>`` of the table, mapped in the condition table);
    one observable per data column (observation parameters become ``observableParameterN_<observable>``
    placeholders set per measurement); normal noise with ``noiseParameter1_<observable>`` set per
    measurement to the given sigma or to an estimated parameter ``sigma_<dataset>_<observable>``.
    Parameter values are written as the SBML file has them (the scheme's unit system).

    Raises
    ------
    PetabError
        Summary datasets, protocols (PEtab 1 conditions cannot carry stimuli), ``t0 != 0``, or observables
        using inputs.

    Examples
    --------
    >>> path = write_petab(result, "problem_dir")        # doctest: +SKIP
    >>> read_petab(path).nllh()                          # doctest: +SKIP
    """
    import pandas as pd

    from ..exporters import export
    from .dataset import Dataset
    from .objective import Objective
    from .result import FitResult

    if isinstance(fit_or_objective, FitResult):
        obj = fit_or_objective.objective
        if not isinstance(obj, Objective):
            raise PetabError("this FitResult comes from a PEtab fit; write its problem's files instead")
        x = np.asarray(fit_or_objective.x, dtype=float)
    elif isinstance(fit_or_objective, Objective):
        obj = fit_or_objective
        x = obj.x_start
    else:
        raise ArgumentError(f"write_petab needs a FitResult or an Objective, got {type(fit_or_objective).__name__}")
    scheme = obj.scheme
    name = name or scheme.name
    if not _SID.match(name):
        raise ArgumentError(f"`name` must be an identifier, got {name!r}")
    for d in obj.datasets:
        if not isinstance(d, Dataset):
            raise PetabError(f"dataset `{d.name}` is a {type(d).__name__}: only time-course datasets can be written "
                             f"as PEtab measurements")
        if len(d.protocol):
            raise PetabError(f"dataset `{d.name}` has a protocol: PEtab 1 conditions cannot carry stimuli (write a "
                             f"scheme whose inputs are fixed, or one dataset per protocol as its own model)")
        if d.t0 != 0.0:
            raise PetabError(f"dataset `{d.name}` starts at t0 = {d.t0}: PEtab simulations start at 0")
    values = obj.values(x)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    # parameters table: every fitted quantity
    prow, cond_map = [], {}
    for p in obj.parameters:
        pid = _pid(p.key)
        v = values[p.key] * (p.factor if p.kind == "model" else 1.0)
        lo, hi = p.lower * (p.factor if p.kind == "model" else 1.0), p.upper * (p.factor if p.kind == "model" else 1.0)
        prow.append({"parameterId": pid, "parameterName": p.key,
                     "parameterScale": "log10" if p.scale == "log10" else "lin",
                     "lowerBound": lo, "upperBound": hi, "nominalValue": v, "estimate": 1})
        if p.kind in ("model", "initial") and (p.dataset is not None or p.kind == "initial"):
            column = p.name if p.kind == "model" else p.name[:-3]
            owners = [p.dataset] if p.dataset is not None else [d.name for d in obj.datasets]
            for owner in owners:
                cond_map[(owner, column)] = pid

    # conditions table
    columns = []
    for d in obj.datasets:
        for n in d.parameters:
            if n in scheme.parameter_names and n not in columns:
                columns.append(n)
        for n in d.y0:
            if n not in columns:
                columns.append(n)
    for (_, c) in cond_map:
        if c not in columns:
            columns.append(c)
    crow = []
    compiled = obj.compiled
    for d in obj.datasets:
        row = {"conditionId": d.name}
        own = {k: v for k, v in d.parameters.items() if k in compiled.parameter_names}
        model_units = dict(zip(compiled.parameter_names, compiled.parameter_vector(own, check_bounds=False)))
        for c in columns:
            if (d.name, c) in cond_map:
                row[c] = cond_map[(d.name, c)]
            elif c in scheme.parameter_names:
                row[c] = float(model_units[c])
            else:
                row[c] = d.y0.get(c, scheme.get_species(c).initial)
        crow.append(row)

    # observables and measurements
    orow, mrow, formulas = {}, [], {}
    taken = set(scheme.species_names) | set(scheme.parameter_names) | set(scheme.observable_names) \
        | set(scheme.input_names) | {r["parameterId"] for r in prow}
    fitted = {(p.name, p.dataset): _pid(p.key) for p in obj.parameters if p.kind == "observation"}
    for k, d in enumerate(obj.datasets):
        obs_names = obj.observation_names[k]
        for o in d.observable_names:
            expr = d.expression(o, scheme)
            used = sorted(str(s) for s in expr.free_symbols if str(s) in obs_names)
            bad = [str(s) for s in expr.free_symbols if str(s) in scheme.input_names]
            if bad:
                raise PetabError(f"dataset `{d.name}`: observable `{o}` uses the input `{bad[0]}`; PEtab observables "
                                 f"cannot use protocol inputs")
            oid = _fresh_id(f"obs_{o}", taken)
            ph = {sympy.Symbol(q): sympy.Symbol(f"observableParameter{j + 1}_{oid}") for j, q in enumerate(used)}
            text = _petab_formula(expr.xreplace(ph))
            if oid in formulas and formulas[oid] != text:
                oid = _fresh_id(f"obs_{o}__{d.name}", taken)
                ph = {sympy.Symbol(q): sympy.Symbol(f"observableParameter{j + 1}_{oid}") for j, q in enumerate(used)}
                text = _petab_formula(expr.xreplace(ph))
            formulas[oid] = text
            orow[oid] = {"observableId": oid, "observableFormula": text, "noiseFormula": f"noiseParameter1_{oid}",
                         "observableTransformation": "lin", "noiseDistribution": "normal"}
            overrides = []
            for q in used:
                if (q, None) in fitted:
                    overrides.append(fitted[(q, None)])
                elif (q, d.name) in fitted:
                    overrides.append(fitted[(q, d.name)])
                else:
                    overrides.append(repr(float(d.parameters[q])))
            sig = np.broadcast_to(np.asarray(obj.sigma(k, o), dtype=float), d.time.shape)
            if d.estimated(o):
                sid = _pid(f"sigma_{d.name}_{o}")
                s0 = float(sig[0])
                prow.append({"parameterId": sid, "parameterName": f"sigma of {d.name}.{o}", "parameterScale": "log10",
                             "lowerBound": s0 / 1e3, "upperBound": s0 * 1e3, "nominalValue": s0, "estimate": 1})
            for i, t in enumerate(d.time):
                mrow.append({"observableId": oid, "simulationConditionId": d.name,
                             "measurement": float(d.data[o][i]), "time": float(t),
                             "observableParameters": ";".join(overrides),
                             "noiseParameters": sid if d.estimated(o) else repr(float(sig[i]))})
    files = {"model": "model.xml", "conditions": "conditions.tsv", "observables": "observables.tsv",
             "measurements": "measurements.tsv", "parameters": "parameters.tsv"}
    export(scheme, "sbml", folder / files["model"])
    ctab = pd.DataFrame(crow, columns=["conditionId"] + columns)
    ctab.to_csv(folder / files["conditions"], sep="\t", index=False)
    pd.DataFrame(list(orow.values())).to_csv(folder / files["observables"], sep="\t", index=False)
    pd.DataFrame(mrow).to_csv(folder / files["measurements"], sep="\t", index=False)
    pd.DataFrame(prow).to_csv(folder / files["parameters"], sep="\t", index=False)
    yaml_path = folder / f"{name}.yaml"
    yaml_path.write_text(
        "format_version: 1\n"
        f"parameter_file: {files['parameters']}\n"
        "problems:\n"
        f"- sbml_files: [{files['model']}]\n"
        f"  condition_files: [{files['conditions']}]\n"
        f"  measurement_files: [{files['measurements']}]\n"
        f"  observable_files: [{files['observables']}]\n")
    return yaml_path
