"""The weighted least-squares objective of a model against datasets, with its exact Jacobian.

For parameters ``x`` (scaled, see :mod:`kinetics.fitting.parameters`) the residuals are::

    r = (g(t_k, y(t_k), p, u(t_k), q) - data_k) / sigma_k

for every dataset, observable and time point, where ``g`` is the observable's expression, ``y`` the solution
under the dataset's protocol, ``p`` the model parameters (scheme units), ``u`` the inputs and ``q`` the
observation parameters. The cost ``0.5 * sum(r**2)`` is the negative log-likelihood of Gaussian noise up to a
constant. The Jacobian ``dr/dx`` is exact: forward sensitivities from :mod:`kinetics.fitting.sensitivity`,
symbolic derivatives of ``g``, and the chain rule through units and scales::

    dr/dx_i = (dg/dy . dy/dp_k + dg/dp_k) * factor_k * dvalue/dx_i / sigma

A :class:`~kinetics.fitting.summary.SummaryDataset` contributes one residual per (condition, statistic),
``(S_c - data_c) / sigma_c``, each from its own simulation; its exact Jacobian is the chain rule through the
statistic's reduction (see :mod:`kinetics.fitting.summary`). Datasets are evaluated one after the other, and
the conditions of a summary dataset too (starts and profiles run in parallel through the executor).

An :class:`Objective` is a picklable description (model, datasets, parameters, tolerances); the compiled
solvers and lambdified functions are built lazily in each process that evaluates it.
"""
from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

import numpy as np
import sympy

from ..cache import LRUCache
from ..codegen import lambdify_modules
from ..errors import ArgumentError, SchemeError, SolverError, did_you_mean
from ..model import compile as compile_model
from ..scheme import as_scheme
from .dataset import Dataset
from .parameters import ResolvedParameter, resolve_parameters
from .summary import SummaryDataset, SummaryPlan

__all__ = ["Objective", "initial_sigma"]

DEFAULT_RTOL = 1e-8
DEFAULT_ATOL = 1e-10


def initial_sigma(values: np.ndarray) -> float:
    """A first estimate of white-noise sigma from the data alone: the MAD of second differences / sqrt(6).

    For a smooth signal sampled densely the second difference is dominated by the noise, whose variance it
    multiplies by 6. Falls back to the standard deviation (or 1) for short or noise-free series.
    """
    v = np.asarray(values, dtype=float)
    if v.size >= 5:
        d2 = v[2:] - 2.0 * v[1:-1] + v[:-2]
        s = 1.4826 * float(np.median(np.abs(d2 - np.median(d2)))) / np.sqrt(6.0)
        if s > 0:
            return s
    s = float(np.std(v))
    return s if s > 0 else 1.0


@dataclass
class _Block:
    """One (dataset, observable) block of the residual vector."""

    dataset: int
    observable: str
    start: int
    stop: int
    estimated: bool


class _Runtime:
    """Per-process compiled state of an Objective (never pickled)."""

    def __init__(self, obj: "Objective"):
        # The model's solvers run in C, or on the numba JIT path without a working C compiler
        # (CompiledModel.native_solver / sensitivity_solver, kinetics.jit).
        from .sensitivity import augmented_segments

        model = obj.compiled
        self.system = model.system
        self.plain = model.native_solver()
        self.sens = model.sensitivity_solver(obj.sens_parameters, obj.sens_initial) \
            if any(isinstance(d, Dataset) for d in obj.datasets) else None
        self.schedules, self.plain_segments, self.aug_segments, self.inputs = [], [], [], []
        # summary datasets: their own runtime (solvers, one schedule and output grid per condition)
        self.summary = [plan.build_runtime(obj) if plan is not None else None for plan in obj.summary_plans]
        for d in obj.datasets:
            if isinstance(d, SummaryDataset):
                for lst in (self.schedules, self.plain_segments, self.aug_segments, self.inputs):
                    lst.append(None)
                continue
            sched = d.schedule(model.scheme)
            self.schedules.append(sched)
            self.plain_segments.append(model.segments(sched))
            self.aug_segments.append(augmented_segments(sched, self.sens))
            u = sched.input_values(d.time) if model.input_names else np.zeros((d.time.size, 0))
            self.inputs.append(np.ascontiguousarray(u.T))
        self.observation = [[self._observation_function(obj, k, o) for o in d.observable_names]
                            if isinstance(d, Dataset) else None for k, d in enumerate(obj.datasets)]

    @staticmethod
    def _observation_function(obj, k, observable):
        """``f(t, Y, P, U, Q) -> [g, dg/dy..., dg/dp..., dg/dq...]`` for one observable of dataset ``k``."""
        sysm = obj.compiled.system
        expr = obj.expressions[k][observable]
        q = [sympy.Symbol(n) for n in obj.observation_names[k]]
        grads = [expr.diff(s) for s in sysm.y] + [expr.diff(s) for s in sysm.p] + [expr.diff(s) for s in q]
        args = [sysm.t, list(sysm.y), list(sysm.p), list(sysm.u), q]
        return sympy.lambdify(args, [expr] + grads, modules=lambdify_modules(), cse=True, docstring_limit=0)


def _check_conditions(d: SummaryDataset, parameters) -> None:
    """A condition may not set a quantity that the fit estimates for its dataset."""
    fitted = {p.name for p in parameters if p.applies_to(d.name)}
    for i, c in enumerate(d.conditions):
        for k in c.parameters:
            if k in fitted:
                raise ArgumentError(f"summary dataset `{d.name}`, condition {i} sets `{k}`, which is fitted; remove "
                                    f"it from the condition's parameters (or do not fit it)")
        for k in c.y0:
            if f"{k}(0)" in fitted:
                raise ArgumentError(f"summary dataset `{d.name}`, condition {i} sets the initial value of `{k}`, "
                                    f"which is fitted as `{k}(0)`; remove it from the condition's y0")


# Compiled runtimes by Objective token, per process: tasks of one fit (multistart, profiles) unpickle their own
# copy of the Objective but share the solvers and lambdified functions built once in each worker process.
_RUNTIMES = LRUCache("fit runtimes", maxsize=16)


class Objective:
    """Residuals and exact Jacobian of ``model`` against ``datasets`` as functions of the scaled parameters.

    Parameters
    ----------
    model : Scheme
    datasets : Dataset, SummaryDataset or a sequence of them
        Time courses (:class:`~kinetics.fitting.Dataset`) and summary statistics
        (:class:`~kinetics.fitting.SummaryDataset`, one simulation per condition) may be mixed.
    parameters : names, mapping or FitParameter list
        What to fit (see :func:`kinetics.fitting.fit`).
    rtol, atol : float
        Solver tolerances (states and sensitivities).
    method : str
        Native method: ``"auto"``, ``"dopri5"`` or ``"rodas"``.
    gradient : {"exact", "2-point", "3-point"}
        ``"exact"``: forward sensitivities; otherwise finite differences of plain simulations (for comparison).
    sigma : dict, optional
        ``{(dataset, observable): sigma}`` for the groups whose noise is estimated (default: a first estimate
        from the data, see :func:`initial_sigma`).

    Raises
    ------
    SchemeError, ArgumentError, ProtocolError
        For every inconsistency between model, datasets and parameters, before any simulation; a
        :class:`SchemeError` for a scheme with discrete events (:class:`~kinetics.scheme.Event`), which
        fitting does not support (any ``gradient``: the objective's solves do not run events, and the
        sensitivities would need the jump conditions at each event).
    """

    def __init__(self, model, datasets, parameters, *, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL,
                 method: str = "auto", gradient: str = "exact", sigma: dict | None = None,
                 max_steps: int = 0):
        scheme = as_scheme(model)
        if scheme.events:
            names = ", ".join(e.name for e in scheme.events)
            raise SchemeError(f"scheme `{scheme.name}` has discrete events ({names}):"
                              f" fitting does not support them yet (with any `gradient`: its solves do not run events, "
                              f"and sensitivities across events need jump conditions that are not implemented)")
        if isinstance(datasets, (Dataset, SummaryDataset)):
            datasets = [datasets]
        try:
            datasets = list(datasets)
        except TypeError:
            raise ArgumentError(f"`datasets` must be a Dataset or a list of Datasets, got {type(datasets).__name__}") \
                from None
        if not datasets:
            raise ArgumentError("`datasets` is empty: give at least one Dataset to fit")
        names = set()
        for d in datasets:
            if not isinstance(d, (Dataset, SummaryDataset)):
                raise ArgumentError(f"`datasets` must contain Dataset or SummaryDataset objects, got "
                                    f"{type(d).__name__}")
            if d.name in names:
                raise ArgumentError(f"two datasets are named `{d.name}`; dataset names must be unique")
            names.add(d.name)
            d.check(scheme)
        if gradient not in ("exact", "2-point", "3-point"):
            raise ArgumentError(f"`gradient` must be 'exact', '2-point' or '3-point', got {gradient!r}")
        from ..native import METHODS

        if method not in METHODS:
            raise ArgumentError(f"`method` must be one of {sorted(METHODS)} for fitting, got {method!r}")
        for name, v in (("rtol", rtol), ("atol", atol)):
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
                raise ArgumentError(f"`{name}` must be a positive number, got {v!r}")
        self.scheme = scheme
        self.compiled = compile_model(scheme)
        self.datasets = tuple(datasets)
        self.parameters: tuple[ResolvedParameter, ...] = resolve_parameters(scheme, self.datasets, parameters)
        self.rtol, self.atol, self.method, self.gradient = float(rtol), float(atol), method, gradient
        self.max_steps = int(max_steps)

        system = self.compiled.system
        substitutions = {sympy.Symbol(k): v for k, v in system.observables.items()}
        self.expressions = []
        self.observation_names = []
        for d in self.datasets:
            exprs = {o: d.expression(o, scheme).xreplace(substitutions) for o in d.observable_names}
            self.expressions.append(exprs)
            self.observation_names.append(tuple(sorted(d.free_names(scheme))))
        # Observation parameters must have a value: from the dataset, or fitted.
        for k, d in enumerate(self.datasets):
            fitted = {p.name for p in self.parameters if p.kind == "observation" and p.applies_to(d.name)}
            summary = isinstance(d, SummaryDataset)
            for q in self.observation_names[k]:
                given = d.observation_value_given(q) if summary else q in d.parameters
                if not given and q not in fitted:
                    what = "statistic" if summary else "observable"
                    raise SchemeError(f"dataset `{d.name}`: {what} expressions use `{q}`, which is not defined "
                                      f"by scheme `{scheme.name}`; give its value in the dataset's `parameters` "
                                      f"or fit it" + did_you_mean(q, list(scheme.species_names)
                                                                  + list(scheme.parameter_names)
                                                                  + list(scheme.observable_names)
                                                                  + list(scheme.input_names)))
            if summary:
                _check_conditions(d, self.parameters)
        # Sensitivity directions: fitted model parameters that appear in the right-hand side, fitted initials.
        rhs_symbols = {s.name for s in system.rhs.free_symbols}
        fitted_model = list(dict.fromkeys(p.name for p in self.parameters if p.kind == "model"))
        self.sens_parameters = tuple(n for n in scheme.parameter_names if n in fitted_model and n in rhs_symbols)
        self.sens_initial = tuple(n for n in scheme.species_names
                                  if any(p.kind == "initial" and p.name == f"{n}(0)" for p in self.parameters))
        self.summary_plans = [SummaryPlan(self, k) if isinstance(d, SummaryDataset) else None
                              for k, d in enumerate(self.datasets)]

        # Residual layout and noise.
        self.blocks: list[_Block] = []
        start = 0
        sigma = dict(sigma or {})
        self._sigma = []
        for k, d in enumerate(self.datasets):
            per = {}
            for o in d.observable_names:
                stop = start + d.time.size
                est = d.estimated(o)
                self.blocks.append(_Block(k, o, start, stop, est))
                if est:
                    s = float(sigma.get((d.name, o), initial_sigma(d.data[o])))
                    if not (np.isfinite(s) and s > 0):
                        raise ArgumentError(f"sigma of ({d.name}, {o}) must be a positive number, got {s}")
                    per[o] = np.full(d.time.size, s)
                else:
                    per[o] = np.asarray(d.sigma[o], dtype=float)
                start = stop
            self._sigma.append(per)
        self.n_data = start
        # Identifies what the compiled runtime depends on (model, datasets, parameters, method); copies made by
        # pickling or with_sigma() keep it.
        self._token = uuid.uuid4().hex
        self._runtime = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ pickling
    def __getstate__(self):
        state = dict(self.__dict__)
        state["_runtime"] = None
        state["_lock"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def runtime(self) -> _Runtime:
        """The compiled state (solvers, schedules, observation functions), built once per process."""
        if self._runtime is not None:
            return self._runtime
        with self._lock:
            if self._runtime is None:
                rt = _RUNTIMES.get_or_build(self._token, lambda: _Runtime(self))
                self._runtime = rt
            return self._runtime

    # ------------------------------------------------------------------ parameters
    @property
    def names(self) -> tuple:
        """Keys of the fitted quantities (``"Ru"``, ``"g[cell1]"``, ``"C0(0)"``), the order of ``x``."""
        return tuple(p.key for p in self.parameters)

    @property
    def n_parameters(self) -> int:
        return len(self.parameters)

    @property
    def x_start(self) -> np.ndarray:
        return np.array([p.x_start for p in self.parameters])

    @property
    def x_lower(self) -> np.ndarray:
        return np.array([p.x_lower for p in self.parameters])

    @property
    def x_upper(self) -> np.ndarray:
        return np.array([p.x_upper for p in self.parameters])

    def values(self, x) -> dict:
        """Declared-unit values ``{key: value}`` of scaled ``x``."""
        return {p.key: float(p.from_x(xi)) for p, xi in zip(self.parameters, np.asarray(x, dtype=float))}

    def to_x(self, values: dict) -> np.ndarray:
        """Scaled vector of declared-unit ``{key: value}`` (keys as in :attr:`names`)."""
        return np.array([float(p.to_x(values[p.key])) for p in self.parameters])

    def sigma(self, dataset: str | int, observable: str) -> np.ndarray:
        """The sigma used for one (dataset, observable) block."""
        k = dataset if isinstance(dataset, int) else [d.name for d in self.datasets].index(dataset)
        return self._sigma[k][observable]

    def estimated_groups(self) -> list:
        """``[(dataset name, observable)]`` whose sigma is estimated."""
        return [(self.datasets[b.dataset].name, b.observable) for b in self.blocks if b.estimated]

    def with_sigma(self, sigma: dict) -> "Objective":
        """A copy whose estimated groups use ``sigma[(dataset, observable)]``."""
        new = Objective.__new__(Objective)
        new.__setstate__(self.__getstate__())
        new._sigma = [dict(per) for per in self._sigma]
        for b in self.blocks:
            key = (self.datasets[b.dataset].name, b.observable)
            if b.estimated and key in sigma:
                new._sigma[b.dataset][b.observable] = np.full(b.stop - b.start, float(sigma[key]))
        return new

    # ------------------------------------------------------------------ evaluation
    def dataset_values(self, k: int, x, parameters=None, y0=None) -> tuple:
        """Declared-unit parameter values ``{name: value}``, initial state ``{species: value}`` and observation
        parameters ``{name: value}`` of dataset ``k`` at scaled ``x``: the fitted values over ``parameters`` and
        ``y0`` (default: the dataset's own; a SummaryDataset's condition passes its values merged over the
        dataset's, :meth:`condition_values`)."""
        d = self.datasets[k]
        base = d.parameters if parameters is None else parameters
        overrides = {name: v for name, v in base.items() if name in self.compiled.parameter_names}
        y0 = dict(d.y0 if y0 is None else y0)
        q = {n: base.get(n, np.nan) for n in self.observation_names[k]}
        for p, xi in zip(self.parameters, np.asarray(x, dtype=float)):
            if not p.applies_to(d.name):
                continue
            v = float(p.from_x(xi))
            if p.kind == "model":
                overrides[p.name] = v
            elif p.kind == "initial":
                y0[p.name[:-3]] = v
            elif p.name in q:
                q[p.name] = v
        return overrides, y0, q

    def condition_values(self, k: int, condition: int, x) -> tuple:
        """``(parameters, y0, observation parameters)`` (declared units) of one condition of SummaryDataset ``k``
        at scaled ``x``."""
        plan = self.summary_plans[k]
        if plan is None:
            raise ArgumentError(f"dataset `{self.datasets[k].name}` is not a SummaryDataset (it has no conditions)")
        return plan.condition_values(self, condition, x)

    def _dataset_inputs(self, k: int, x: np.ndarray):
        """Model parameters (scheme units), initial state and observation parameters of dataset ``k``."""
        overrides, y0, q = self.dataset_values(k, x)
        p_model = self.compiled.parameter_vector(overrides, check_bounds=False)
        y0_vec = self.compiled.initial_state(y0, tolerance=self.atol)
        q_vec = np.array([q[n] for n in self.observation_names[k]])
        return p_model, y0_vec, q_vec

    def _observe(self, rt, k, o_index, t, Y, p_model, U, q):
        """Values and gradients of one observable over a trajectory."""
        n, n_p = Y.shape[0], p_model.size
        out = rt.observation[k][o_index](t, Y, p_model, U, q)
        nt = t.size
        arr = [np.broadcast_to(np.asarray(v, dtype=float), (nt,)) for v in out]
        g = arr[0]
        g_y = np.column_stack(arr[1:1 + n]) if n else np.zeros((nt, 0))
        g_p = np.column_stack(arr[1 + n:1 + n + n_p]) if n_p else np.zeros((nt, 0))
        g_q = np.column_stack(arr[1 + n + n_p:]) if q.size else np.zeros((nt, 0))
        return g, g_y, g_p, g_q

    def simulate(self, x, k: int, t_out=None, sensitivities: bool = False, inputs=None):
        """Solve dataset ``k`` at ``x``: ``(y, dy or None)`` on ``t_out`` (default: the data times).
        ``inputs``: the ``(p_model, y0, q)`` of :meth:`_dataset_inputs` if already computed."""
        rt = self.runtime()
        d = self.datasets[k]
        if isinstance(d, SummaryDataset):
            raise ArgumentError(f"dataset `{d.name}` is a SummaryDataset (one simulation per condition): use "
                                f"predict() for its statistics")
        t = d.time if t_out is None else np.asarray(t_out, dtype=float)
        p_model, y0, _ = self._dataset_inputs(k, x) if inputs is None else inputs
        if sensitivities:
            y, dy, _ = rt.sens.solve(p_model, y0, rt.aug_segments[k], t, method=self.method, rtol=self.rtol,
                                     atol=self.atol, max_steps=self.max_steps)
            return y, dy
        y, _, _ = rt.plain.solve(p_model, y0, rt.plain_segments[k], t, method=self.method, rtol=self.rtol,
                                 atol=self.atol, max_steps=self.max_steps)
        return y, None

    def predict(self, x, dataset: int | str = 0, t_out=None) -> dict:
        """Model values ``{observable: array}`` of a dataset at ``x`` on ``t_out`` (default: the data times)."""
        k = dataset if isinstance(dataset, int) else [d.name for d in self.datasets].index(dataset)
        rt = self.runtime()
        d = self.datasets[k]
        if isinstance(d, SummaryDataset):
            if t_out is not None:
                raise ArgumentError(f"dataset `{d.name}` is a SummaryDataset: its model values are one per "
                                    f"condition, not at times (leave `t` out)")
            values, _ = self.summary_plans[k].evaluate(self, rt.summary[k], np.asarray(x, float))
            return values
        t = d.time if t_out is None else np.asarray(t_out, dtype=float)
        inputs = self._dataset_inputs(k, x)
        y, _ = self.simulate(np.asarray(x, float), k, t, inputs=inputs)
        p_model, _, q = inputs
        U = rt.inputs[k] if t_out is None else (
            np.ascontiguousarray(rt.schedules[k].input_values(t).T) if self.scheme.input_names
            else np.zeros((0, t.size)))
        return {o: self._observe(rt, k, i, t, y.T, p_model, U, q)[0] for i, o in enumerate(d.observable_names)}

    def residuals(self, x, jacobian: bool = False):
        """Weighted residuals at scaled ``x``; with ``jacobian=True`` also ``dr/dx`` (exact).

        Raises :class:`SolverError` if a simulation fails.
        """
        x = np.asarray(x, dtype=float)
        if x.shape != (self.n_parameters,):
            raise ArgumentError(f"`x` must have shape ({self.n_parameters},), got {x.shape}")
        rt = self.runtime()
        r = np.empty(self.n_data)
        J = np.zeros((self.n_data, self.n_parameters)) if jacobian else None
        sens_p = [self.scheme.parameter_names.index(n) for n in self.sens_parameters]
        bi = 0
        for k, d in enumerate(self.datasets):
            if isinstance(d, SummaryDataset):
                values, grads = self.summary_plans[k].evaluate(self, rt.summary[k], x, jacobian)
                for o in d.observable_names:
                    b = self.blocks[bi]
                    bi += 1
                    sig = self._sigma[k][o]
                    r[b.start:b.stop] = (values[o] - d.data[o]) / sig
                    if jacobian:
                        J[b.start:b.stop] = grads[o] / sig[:, None]
                continue
            p_model, y0, q = inputs = self._dataset_inputs(k, x)
            y, dy = self.simulate(x, k, sensitivities=jacobian, inputs=inputs)
            if not np.all(np.isfinite(y)):
                raise SolverError(f"dataset `{d.name}`: non-finite solution", method=self.method)
            Y = y.T
            for oi, o in enumerate(d.observable_names):
                b = self.blocks[bi]
                bi += 1
                g, g_y, g_p, g_q = self._observe(rt, k, oi, d.time, Y, p_model, rt.inputs[k], q)
                sig = self._sigma[k][o]
                r[b.start:b.stop] = (g - d.data[o]) / sig
                if not jacobian:
                    continue
                g_dir = np.einsum("tn,tnm->tm", g_y, dy) if dy.shape[2] else np.zeros((d.time.size, 0))
                for i, p in enumerate(self.parameters):
                    if not p.applies_to(d.name):
                        continue
                    dv = float(p.dvalue_dx(x[i]))
                    if p.kind == "model":
                        kp = self.scheme.parameter_names.index(p.name)
                        col = g_p[:, kp].copy()
                        if kp in sens_p:
                            col += g_dir[:, sens_p.index(kp)]
                        col *= p.factor
                    elif p.kind == "initial":
                        col = g_dir[:, len(sens_p) + self.sens_initial.index(p.name[:-3])]
                    elif p.name in self.observation_names[k]:
                        col = g_q[:, self.observation_names[k].index(p.name)]
                    else:  # an observation parameter that this dataset's observables do not use
                        continue
                    J[b.start:b.stop, i] = col * dv / sig
        if not np.all(np.isfinite(r)):
            raise SolverError("non-finite residuals (the model produced NaN or inf)", method=self.method)
        return (r, J) if jacobian else r

    def cost(self, x) -> float:
        """``0.5 * sum(residuals**2)``."""
        r = self.residuals(x)
        return 0.5 * float(r @ r)

    def block_slices(self) -> list:
        """``[(dataset name, observable, slice)]`` of the residual vector."""
        return [(self.datasets[b.dataset].name, b.observable, slice(b.start, b.stop)) for b in self.blocks]

    def log_sigma_sum(self) -> float:
        """``sum(log(sigma))`` over every data point (for the log-likelihood)."""
        return float(sum(np.sum(np.log(s)) for per in self._sigma for s in per.values()))
