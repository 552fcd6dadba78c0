"""Simulation results.

:class:`Result` holds one trajectory. Its layout is **time first**: ``y`` has
shape ``(n_t, n_states)`` — the transpose of scipy's ``solve_ivp`` layout — so
``result.y[:, i]`` is one state over time and ``result["O"]`` fetches a state,
observable or input by name.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Optional

import numpy as np

from .cache import LRUCache
from .errors import ArgumentError, SolverError, did_you_mean

__all__ = ["Result", "SweepResult"]

#: Input values of a schedule (hashed by identity: schedules are immutable) on a time grid: repeated simulations
#: of one experiment (sweeps, fits, benchmarks) compute them once.
_INPUT_VALUES = LRUCache("input values", maxsize=64)
#: Larger input tables (values) are not kept: the cache holds at most 64 x 4 MB.
_INPUT_CACHE_MAX_VALUES = 500_000


def _with_unit(name: str, unit: str) -> str:
    """``name [unit]``, or ``name`` when the unit is unknown."""
    return f"{name} [{unit}]" if unit else name


@dataclass(frozen=True, eq=False, repr=False)
class Result:
    """One simulated trajectory (immutable).

    Attributes
    ----------
    t : ndarray, shape (n_t,)
    y : ndarray, shape (n_t, n_states)
        States at ``t`` (time first).
    scheme, protocol
        What was simulated.
    params : dict
        Parameter values used, each in its declared unit.
    method : str
        The solver that ran.
    stats : dict
        Solver statistics (steps, RHS and Jacobian evaluations, LU decompositions...).
    schedule : Schedule
        The protocol's schedule on the simulated window (inputs are read from it).
    p_model : ndarray
        The parameter vector in the scheme's unit system (what the solver used).
    nonfinite : dict
        ``{name: first time}`` of the states and observables that are NaN or infinite somewhere; empty unless
        ``simulate(..., nonfinite="warn")`` let such a result through (by default simulate raises).
    state_names, observable_names, input_names : tuple of str (from the scheme)

    Examples
    --------
    >>> res = simulate(scheme, protocol, t_end=100.0)      # doctest: +SKIP
    >>> res["O"].max()                                        # doctest: +SKIP
    >>> res.to_dataframe().head()                             # doctest: +SKIP
    """

    t: np.ndarray
    y: np.ndarray
    scheme: Any
    params: dict
    protocol: Any
    method: str
    stats: dict
    schedule: Any
    p_model: np.ndarray
    observable_fn: Optional[Callable] = None
    nonfinite: dict = field(default_factory=dict)

    def __post_init__(self):
        for a in (self.t, self.y, self.p_model):
            if isinstance(a, np.ndarray):
                a.setflags(write=False)

    @property
    def state_names(self) -> tuple:
        return self.scheme.species_names

    @property
    def observable_names(self) -> tuple:
        return self.scheme.observable_names

    @property
    def input_names(self) -> tuple:
        return self.scheme.input_names

    @cached_property
    def inputs(self) -> np.ndarray:
        """Input values at ``t``, shape ``(n_t, n_inputs)`` (right-continuous at breakpoints; read-only, shared by
        the results of one schedule on one time grid)."""
        if not self.input_names:
            return np.zeros((self.t.size, 0))

        def build():
            values = self.schedule.input_values(self.t)
            values.setflags(write=False)
            return values

        if self.t.size * len(self.input_names) > _INPUT_CACHE_MAX_VALUES:
            return build()
        return _INPUT_VALUES.get_or_build((self.schedule, self.t.tobytes()), build)

    @cached_property
    def observables(self) -> dict:
        """``{name: values over t}`` for every observable of the scheme."""
        if not self.observable_names:
            return {}
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # NaN/inf are reported, not warned
            vals = self.observable_fn(self.t, self.y.T, self.p_model, self.inputs.T)
            return {n: np.broadcast_to(np.asarray(v, dtype=float), self.t.shape).copy()
                    for n, v in zip(self.observable_names, vals)}

    def nonfinite_columns(self) -> dict:
        """``{name: first time}`` of every state and observable that is NaN or infinite at an output time."""
        out = {}
        finite = np.isfinite(self.y)
        if not finite.all():                              # one vectorised test; per column only on failure
            for i, n in enumerate(self.state_names):
                if not finite[:, i].all():
                    out[n] = float(self.t[int(np.argmin(finite[:, i]))])
        for n, v in self.observables.items():
            if not np.isfinite(v).all():
                out[n] = float(self.t[int(np.argmin(np.isfinite(v)))])
        return out

    @property
    def names(self) -> tuple:
        return self.state_names + self.observable_names + self.input_names

    def __getitem__(self, name: str) -> np.ndarray:
        if name in self.state_names:
            return self.y[:, self.state_names.index(name)]
        if name in self.observable_names:
            return self.observables[name]
        if name in self.input_names:
            return self.inputs[:, self.input_names.index(name)]
        if name in ("t", "time"):
            return self.t
        raise KeyError(f"no state, observable or input `{name}` in this result" + did_you_mean(name, self.names))

    def __contains__(self, name) -> bool:
        return name in self.names

    @property
    def final(self) -> dict:
        """``{state: value}`` at the last output time."""
        return dict(zip(self.state_names, self.y[-1]))

    def to_dataframe(self, include=("states", "observables", "inputs")):
        """A pandas DataFrame indexed by time with one column per state (and observable, input)."""
        import pandas as pd

        cols = {}
        if "states" in include:
            cols.update({n: self.y[:, i] for i, n in enumerate(self.state_names)})
        if "observables" in include:
            cols.update(self.observables)
        if "inputs" in include:
            cols.update({n: self.inputs[:, i] for i, n in enumerate(self.input_names)})
        df = pd.DataFrame(cols, index=pd.Index(self.t, name="time"))
        return df

    def to_csv(self, path, include=("states",), *, nonfinite: str = "raise") -> None:
        """Write ``time`` and the chosen columns as CSV (atomically), each header with its unit:
        ``time [ms]``, ``O [1]``, ``Ca [uM]`` (no brackets where the unit is unknown); the tables of
        :mod:`kinetics.data` read them back with their units.

        A NaN or infinite value is a :class:`~kinetics.errors.SolverError` naming the column and the first
        time, and nothing is written, unless ``nonfinite="write"`` (written as ``nan``, ``inf``, ``-inf``).
        """
        from .io import atomic_write_text

        if nonfinite not in ("raise", "write"):
            raise ArgumentError(f"`nonfinite` must be 'raise' or 'write', got {nonfinite!r}")
        names, cols = [], []
        if "states" in include:
            names += list(self.state_names)
            cols += [self.y[:, i] for i in range(len(self.state_names))]
        if "observables" in include:
            names += list(self.observable_names)
            cols += [self.observables[n] for n in self.observable_names]
        if "inputs" in include:
            names += list(self.input_names)
            cols += [self.inputs[:, i] for i in range(len(self.input_names))]
        table = np.column_stack([self.t] + cols) if cols else self.t[:, None]
        if nonfinite == "raise":
            bad = ~np.isfinite(table)
            if bad.any():
                cols_bad = np.flatnonzero(bad.any(axis=0))
                j = int(cols_bad[0])
                i = int(np.argmax(bad[:, j]))
                name = (["time"] + names)[j]
                raise SolverError(f"cannot write `{path}`: column `{name}` is not finite (NaN or inf) from "
                                  f"t = {self.t[i]:.9g}" + (f" ({len(cols_bad)} columns are)" if len(cols_bad) > 1
                                                             else "")
                                  + "; pass nonfinite='write' to write them as nan/inf", t=float(self.t[i]))
        header = [f"time [{self.scheme.units.time}]"] + [_with_unit(n, self.unit_of(n)) for n in names]
        lines = [",".join(header)]
        lines += [",".join(repr(float(x) + 0.0) for x in row) for row in table]      # + 0.0: no "-0.0"
        atomic_write_text(path, "\n".join(lines) + "\n")

    def unit_of(self, name: str) -> str:
        """The unit of a state, observable or input (``"1"`` for a fraction; states without a declared unit
        are in the scheme's concentration unit, observables and inputs without one are ``""``: unknown)."""
        sch = self.scheme
        for group, default in ((sch.species, sch.units.concentration), (sch.observables, ""), (sch.inputs, "")):
            for item in group:
                if item.name == name:
                    return item.unit if item.unit is not None else default
        raise KeyError(f"`{name}` is not a state, observable or input of `{sch.name}`")

    def plot(self, names=None, ax=None, **kw):
        """Plot the named traces (default: all states) against time; returns the Axes.

        Time is shown in a readable unit (:func:`kinetics.plotstyle.time_axis`: a 60 s run in s, not
        0-60000 ms); the y label names the quantity and its unit when all traces share one, a legend names
        the traces. Drawn in the :mod:`kinetics.plotstyle` style.

        Examples
        --------
        >>> import kinetics as kx
        >>> s = kx.parse_scheme("scheme decay\\nspecies A = 1 [1]\\nparameter k = 0.001 [1/ms]\\nA -> ; k")
        >>> ax = kx.simulate(s, t_end=60000.0, n_points=61).plot()
        >>> ax.get_xlabel(), ax.get_ylabel(), float(ax.get_xlim()[1]) < 100
        ('time [s]', 'A', True)
        >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
        """
        from .plotstyle import label, style, time_axis

        names = list(names or self.state_names)
        if not names:
            raise ValueError(f"nothing to plot: `{self.scheme.name}` has no states and no names were given")
        units = [self.unit_of(n) for n in names]
        with style():
            if ax is None:
                import matplotlib.pyplot as plt

                _, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
            t, tu = time_axis(self.t, self.scheme.units.time)
            for n in names:
                ax.plot(t, self[n], label=n, **kw)
            ax.set_xlabel(label("time", tu))
            if len(set(units)) == 1:
                quantity = names[0] if len(names) == 1 else ("fraction" if units[0] == "1" else "value")
                if len(names) > 1 and units[0] == self.scheme.units.concentration:
                    quantity = "concentration"
                ax.set_ylabel(label(quantity, units[0]))
            else:
                ax.set_ylabel("value [" + ", ".join(dict.fromkeys(f"{n}: {u or '?'}" for n, u in zip(names, units)))
                              + "]")
            ax.legend(loc="best")
            ax.set_title(self.scheme.name)
        return ax

    def __repr__(self) -> str:
        return (f"<Result of `{self.scheme.name}`: {self.t.size} time points in [{self.t[0]:g}, {self.t[-1]:g}], "
                f"{len(self.state_names)} states, method {self.method}>")


@dataclass(frozen=True, eq=False, repr=False)
class SweepResult:
    """Results of many simulations of one scheme with different parameter sets (immutable).

    Index it by name like a :class:`Result`: ``sw["LR"]`` is the final value of a state or observable in every
    run, shape ``(m,)``, or its trajectories ``(m, n_t)`` when the sweep kept them (``t_eval`` given);
    ``sw["koff"]`` is a swept parameter's values.

    Attributes
    ----------
    params : dict of name -> ndarray (m,)
        The swept parameter values (declared units).
    final : ndarray, shape (m, n_states)
        Final state of each run.
    y : ndarray, shape (m, n_t, n_states) or None
        Trajectories, when ``t_eval`` was given.
    t : ndarray or None
    model : CompiledModel
    p_model : ndarray, shape (m, n_param)
        Each run's parameter vector in the scheme's unit system.
    schedule : Schedule
    stats : list of dict
    method : str
    """

    params: dict
    final: np.ndarray
    y: Optional[np.ndarray]
    t: Optional[np.ndarray]
    model: Any
    p_model: np.ndarray
    schedule: Any
    stats: list
    method: str

    def __post_init__(self):
        for a in (self.final, self.y, self.t, self.p_model):
            if isinstance(a, np.ndarray):
                a.setflags(write=False)

    @property
    def state_names(self) -> tuple:
        return self.model.state_names

    @property
    def observable_names(self) -> tuple:
        return self.model.observable_names

    @property
    def names(self) -> tuple:
        return tuple(self.params) + self.state_names + self.observable_names

    @cached_property
    def observables(self) -> dict:
        """``{name: values}`` of every observable: ``(m,)`` at the end of each run, or ``(m, n_t)``."""
        if not self.observable_names:
            return {}
        fn = self.model.observable_function()
        m = len(self)
        with np.errstate(all="ignore"):
            if self.y is None:
                t_end = float(self.schedule.boundaries[-1])
                U = self.schedule.input_values([t_end])[0]
                vals = fn(t_end, self.final.T, self.p_model.T, U)
                return {n: np.broadcast_to(np.asarray(v, dtype=float), (m,)).copy()
                        for n, v in zip(self.observable_names, vals)}
            U = self.schedule.input_values(self.t).T
            out = {n: np.empty((m, self.t.size)) for n in self.observable_names}
            for i in range(m):
                vals = fn(self.t, self.y[i].T, self.p_model[i], U)
                for n, v in zip(self.observable_names, vals):
                    out[n][i] = np.broadcast_to(np.asarray(v, dtype=float), self.t.shape)
            return out

    def __getitem__(self, name: str) -> np.ndarray:
        if name in self.state_names:
            j = self.state_names.index(name)
            return self.final[:, j] if self.y is None else self.y[:, :, j]
        if name in self.observable_names:
            return self.observables[name]
        if name in self.params:
            return self.params[name]
        if name in ("t", "time") and self.t is not None:
            return self.t
        raise KeyError(f"no state, observable or swept parameter `{name}` in this sweep"
                       + did_you_mean(str(name), self.names))

    def __contains__(self, name) -> bool:
        return name in self.names

    def final_of(self, name: str) -> np.ndarray:
        """Final value of one state or observable across the runs, shape ``(m,)``."""
        if name in self.state_names:
            return self.final[:, self.state_names.index(name)]
        if name in self.observable_names:
            v = self.observables[name]
            return v if v.ndim == 1 else v[:, -1]
        raise ArgumentError(f"unknown state or observable `{name}`"
                            + did_you_mean(str(name), self.state_names + self.observable_names))

    def to_dataframe(self):
        """One row per run: one column per swept parameter (its name), then the final states and observables."""
        import pandas as pd

        data = {k: np.asarray(v) for k, v in self.params.items()}
        data.update({n: self.final[:, i] for i, n in enumerate(self.state_names)})
        data.update({n: self.final_of(n) for n in self.observable_names})
        return pd.DataFrame(data, index=pd.RangeIndex(len(self), name="run"))

    def __len__(self) -> int:
        return self.final.shape[0]

    def __repr__(self) -> str:
        return (f"<SweepResult: {len(self)} runs of {len(self.state_names)} states"
                + (f" on {self.t.size} time points" if self.t is not None else " (final states)")
                + f", method {self.method}>")
