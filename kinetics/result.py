"""Simulation results.

:class:`Result` holds one trajectory. Its layout is **time first**: ``y`` has
shape ``(n_t, n_states)`` — the transpose of scipy's ``solve_ivp`` layout — so
``result.y[:, i]`` is one state over time and ``result["O"]`` fetches a state,
observable or input by name.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from .errors import ArgumentError, SolverError, did_you_mean

__all__ = ["Result", "SweepResult"]


class Result:
    """One simulated trajectory.

    Attributes
    ----------
    t : ndarray, shape (n_t,)
    y : ndarray, shape (n_t, n_states)
        States at ``t`` (time first).
    state_names, observable_names, input_names : tuple of str
    params : dict
        Parameter values used, each in its declared unit.
    scheme, protocol
        What was simulated.
    method : str
        The solver that ran.
    stats : dict
        Solver statistics (steps, RHS and Jacobian evaluations, LU decompositions...).
    nonfinite : dict
        ``{name: first time}`` of the states and observables that are NaN or infinite somewhere; empty unless
        ``simulate(..., nonfinite="warn")`` let such a result through (by default simulate raises).

    Examples
    --------
    >>> res = simulate(scheme, protocol, t_end=100.0)      # doctest: +SKIP
    >>> res["O"].max()                                        # doctest: +SKIP
    >>> res.to_dataframe().head()                             # doctest: +SKIP
    """

    def __init__(self, *, t, y, scheme, system, p_model, schedule, params, protocol, method, stats, observable_fn):
        self.t = t
        self.y = y
        self.scheme = scheme
        self.state_names = system.state_names
        self.observable_names = system.observable_names
        self.input_names = system.input_names
        self.params = params
        self.protocol = protocol
        self.method = method
        self.stats = stats
        self._system = system
        self._p_model = p_model
        self._schedule = schedule
        self._observable_fn = observable_fn
        self.nonfinite = {}

    @cached_property
    def inputs(self) -> np.ndarray:
        """Input values at ``t``, shape ``(n_t, n_inputs)`` (right-continuous at breakpoints)."""
        if not self.input_names:
            return np.zeros((self.t.size, 0))
        return self._schedule.input_values(self.t)

    @cached_property
    def observables(self) -> dict:
        """``{name: values over t}`` for every observable of the scheme."""
        if not self.observable_names:
            return {}
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # NaN/inf are reported, not warned
            vals = self._observable_fn(self.t, self.y.T, self._p_model, self.inputs.T)
            return {n: np.broadcast_to(np.asarray(v, dtype=float), self.t.shape).copy()
                    for n, v in zip(self.observable_names, vals)}

    def nonfinite_columns(self) -> dict:
        """``{name: first time}`` of every state and observable that is NaN or infinite at an output time."""
        out = {}
        cols = [(n, self.y[:, i]) for i, n in enumerate(self.state_names)] + list(self.observables.items())
        for n, v in cols:
            bad = ~np.isfinite(v)
            if bad.any():
                out[n] = float(self.t[int(np.argmax(bad))])
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
        """Write ``time`` and the chosen columns as CSV (atomically).

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
        lines = [",".join(["time"] + names)]
        lines += [",".join(repr(float(x)) for x in row) for row in table]
        atomic_write_text(path, "\n".join(lines) + "\n")

    def plot(self, names=None, ax=None, **kw):
        """Plot the named traces (default: all states) against time; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        for n in (names or self.state_names):
            ax.plot(self.t, self[n], label=n, **kw)
        ax.set_xlabel(f"time ({self.scheme.units.time})")
        ax.legend(loc="best", fontsize="small")
        ax.set_title(self.scheme.name)
        return ax

    def __repr__(self) -> str:
        return (f"<Result of `{self.scheme.name}`: {self.t.size} time points in [{self.t[0]:g}, {self.t[-1]:g}], "
                f"{len(self.state_names)} states, method {self.method}>")


class SweepResult:
    """Results of many simulations of one scheme with different parameter sets.

    Attributes
    ----------
    params : dict of name -> ndarray (m,)
        The swept parameter values (declared units).
    final : ndarray, shape (m, n_states)
        Final state of each run.
    y : ndarray, shape (m, n_t, n_states) or None
        Trajectories, when ``t_eval`` was given.
    t : ndarray or None
    state_names : tuple of str
    stats : list of dict
    """

    def __init__(self, *, params, final, y, t, state_names, stats, method):
        self.params = params
        self.final = final
        self.y = y
        self.t = t
        self.state_names = state_names
        self.stats = stats
        self.method = method

    def final_of(self, name: str) -> np.ndarray:
        """Final value of one state across the runs."""
        if name not in self.state_names:
            raise ArgumentError(f"unknown state `{name}`" + did_you_mean(name, self.state_names))
        return self.final[:, self.state_names.index(name)]

    def to_dataframe(self):
        """One row per run: the swept parameters and the final states."""
        import pandas as pd

        data = {f"param:{k}": v for k, v in self.params.items()}
        data.update({n: self.final[:, i] for i, n in enumerate(self.state_names)})
        return pd.DataFrame(data)

    def __len__(self) -> int:
        return self.final.shape[0]

    def __repr__(self) -> str:
        return f"<SweepResult: {len(self)} runs of {len(self.state_names)} states, method {self.method}>"
