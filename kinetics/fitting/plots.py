"""Figures of a :class:`~kinetics.fitting.result.FitResult`: data vs fit, multistart waterfall, profiles.

matplotlib is imported only when a plot is drawn.
"""
from __future__ import annotations

import math

import numpy as np

from ..plotstyle import label, style, time_axis, time_factor

__all__ = ["plot_fit", "plot_waterfall", "plot_profiles", "plot_overview"]


def _panels(result):
    return [(k, d, o) for k, d in enumerate(result.datasets) for o in d.observable_names]


def _dense_times(d, n=600):
    t = np.linspace(d.t0, d.t_end, n)
    return np.union1d(t, d.time)


def _obs_unit(model, d, name):
    """Unit of a fitted column: a species (default the concentration unit) or scheme observable's declared unit;
    ``""`` (unknown) for a dataset-defined expression."""
    if name in getattr(d, "observables", {}):
        return ""
    for sp in model.species:
        if sp.name == name:
            return sp.unit if sp.unit is not None else model.units.concentration
    for ob in model.observables:
        if ob.name == name:
            return ob.unit or ""
    return ""


def plot_fit(result, axes=None, *, dense: bool = True, max_points: int = 400):
    """Data (dots, at most ``max_points`` shown per panel) and the fitted model (line) for every
    (dataset, observable); y labels carry the observable's unit. Returns the Figure."""
    with style():
        return _plot_fit(result, axes, dense=dense, max_points=max_points)


def _plot_fit(result, axes, *, dense, max_points):
    import matplotlib.pyplot as plt

    panels = _panels(result)
    if axes is None:
        ncol = min(3, len(panels))
        nrow = math.ceil(len(panels) / ncol)
        fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False,
                                 constrained_layout=True)
        axes = axes.ravel()
    else:
        axes = np.atleast_1d(axes).ravel()
        fig = axes[0].figure
    t_unit = result.model.units.time
    for ax, (k, d, o) in zip(axes, panels):
        stride = max(1, d.time.size // max_points)
        t = _dense_times(d) if dense else d.time
        _, tu = time_axis(np.concatenate([d.time, t]), t_unit)
        scale = time_factor(t_unit, tu)
        ax.plot(d.time[::stride] * scale, d.data[o][::stride], ".", ms=3, color="0.45", label="data")
        ax.plot(t * scale, result.predict(k, t)[o], "-", color="C1", lw=1.5, label="fit")
        ax.set_title(f"{d.name}: {o}")
        ax.set_xlabel(label("time", tu))
        ax.set_ylabel(label(o, _obs_unit(result.model, d, o)))
        ax.legend(loc="best")
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    return fig


def plot_waterfall(result, ax=None):
    """Final cost of every start relative to the best, ``cost / best - 1``, sorted, on a log axis; failed
    starts marked at the top. Starts within ``1e-6`` of the best (relative; absolute when the best cost is
    0) cannot be drawn on a log axis as 0: they sit on the dotted floor line, labelled as "at the best", so a
    long run of them is the best optimum found repeatedly. Returns the Axes."""
    with style():
        return _plot_waterfall(result, ax)


def _plot_waterfall(result, ax):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5), constrained_layout=True)
    costs = np.array([s.cost if s.x is not None else np.inf for s in result.starts])
    ok = np.sort(costs[np.isfinite(costs)])
    best = ok[0] if ok.size else 0.0
    floor = 1e-6
    rel = (ok - best) / abs(best) if best != 0 else ok - best
    n_same = int(np.sum(rel <= floor))
    rel = np.maximum(rel, floor)
    ax.semilogy(np.arange(1, ok.size + 1), rel, "o-", ms=4, color="C0",
                label=f"converged ({n_same} at the best)")
    ax.axhline(floor, color="0.6", lw=0.8, ls=":", label=f"floor: within {floor:g} of the best")
    n_fail = int(np.sum(~np.isfinite(costs)))
    if n_fail:
        top = max(rel.max() * 10, floor * 100) if rel.size else 1.0
        ax.plot(np.arange(ok.size + 1, ok.size + n_fail + 1), np.full(n_fail, top), "x", color="C3",
                label=f"failed ({n_fail})")
    ax.set_ylim(bottom=floor / 3)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("start (rank by final cost)")
    ax.set_ylabel("cost / best cost - 1" if best != 0 else "cost - best cost (best = 0)")
    ax.set_title(f"multistart waterfall ({len(result.starts)} starts)")
    ax.legend(loc="upper left")
    return ax


def plot_profiles(result, axes=None):
    """One panel per profiled parameter: delta cost vs value, the threshold and the interval. Returns the
    Figure (``None`` when there are no profiles)."""
    with style():
        return _plot_profiles(result, axes)


def _plot_profiles(result, axes):
    import matplotlib.pyplot as plt

    profiles = result.profiles
    if not profiles:
        return None
    keys = list(profiles)
    if axes is None:
        ncol = min(3, len(keys))
        nrow = math.ceil(len(keys) / ncol)
        fig, axes = plt.subplots(nrow, ncol, figsize=(4 * ncol, 3 * nrow), squeeze=False, constrained_layout=True)
        axes = axes.ravel()
    else:
        axes = np.atleast_1d(axes).ravel()
        fig = axes[0].figure
    index = {key: i for i, key in enumerate(result.names)}
    for ax, k in zip(axes, keys):
        pr = profiles[k]
        ax.plot(pr.values, pr.delta_cost, "o-", ms=3, color="C0", label="profile")
        i = index[k]
        se = result.stderr_scaled[i]
        if np.isfinite(se) and se > 0:
            xs = np.linspace(pr.x.min(), pr.x.max(), 200)
            p = result.fit_parameters[i]
            ax.plot(p.from_x(xs), 0.5 * ((xs - result.x[i]) / se) ** 2, "--", color="0.6", lw=0.8,
                    label="quadratic (Fisher)")
        ax.axhline(pr.threshold, color="C3", lw=0.8, ls="--", label=f"{100 * pr.level:.0f} % threshold")
        ax.axvline(result.values[k], color="0.5", lw=0.8)
        for v in pr.ci:
            if v is not None:
                ax.axvline(v, color="C2", lw=0.8, ls=":")
        top = max(2.0 * pr.threshold, float(np.max(pr.delta_cost)) * 1.05)
        ax.set_ylim(min(-0.05 * top, float(np.min(pr.delta_cost))), top)
        lo, hi = float(np.min(pr.values)), float(np.max(pr.values))
        if pr.scale == "log10" and lo > 0 and hi / lo > 5:
            ax.set_xscale("log")
        else:
            ax.ticklabel_format(axis="x", style="plain", useOffset=False)
        ax.set_xlabel(label(k, _unit(result, k)))
        ax.set_ylabel("cost - best cost")
        ax.set_title(f"profile of {k}" + ("  (flat)" if pr.flat else ""))
        ax.legend(loc="best")
    for ax in axes[len(keys):]:
        ax.set_visible(False)
    return fig


def _unit(result, key):
    for p in result.fit_parameters:
        if p.key == key:
            return p.unit
    return ""


def plot_overview(result, path=None):
    """Fits, waterfall and profiles in one figure; saved to ``path`` (PNG, SVG, PDF) if given."""
    with style():
        return _plot_overview(result, path)


def _plot_overview(result, path):
    import matplotlib.pyplot as plt

    panels = _panels(result)
    keys = list(result.profiles)
    ncol = 3
    n_fit_rows = math.ceil(len(panels) / ncol)
    n_prof_rows = math.ceil((len(keys) + 1) / ncol)
    fig = plt.figure(figsize=(4.2 * ncol, 3.1 * (n_fit_rows + n_prof_rows)), constrained_layout=True)
    grid = fig.add_gridspec(n_fit_rows + n_prof_rows, ncol)
    fit_axes = [fig.add_subplot(grid[i // ncol, i % ncol]) for i in range(len(panels))]
    plot_fit(result, axes=fit_axes)
    rest = [fig.add_subplot(grid[n_fit_rows + i // ncol, i % ncol]) for i in range(len(keys) + 1)]
    plot_waterfall(result, ax=rest[0])
    if keys:
        plot_profiles(result, axes=rest[1:])
    fig.suptitle(f"fit of {result.model.name}")
    if path is not None:
        from ..io import atomic_savefig

        atomic_savefig(fig, path, dpi=110)
        plt.close(fig)
    return fig
