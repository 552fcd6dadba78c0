"""Posterior sampling of a fit: Markov chain Monte Carlo from the multistart optimum.

:func:`sample_posterior` takes a :class:`~kinetics.fitting.FitResult` and samples

    p(x | data)  ~  exp(-cost(x)) * prior(x)

over the fitted quantities on the fit's own scaled axes (``log10`` or linear), with the Gaussian likelihood of
the fit at its final noise levels (noise levels the fit estimated are held at their estimates, not sampled).
The prior is uniform on the scaled axis inside the fit's bounds (log-uniform for a ``log10`` parameter) unless
``priors`` gives a :mod:`scipy.stats` distribution for a parameter's declared value (the change of variables
to the scaled axis is included; the bounds still apply).

The sampler is emcee's affine-invariant ensemble sampler (Foreman-Mackey et al. 2013, PASP 125:306).
``chains`` independent ensembles run as separate tasks through the executor (a process pool, threads or a
``dask.distributed`` client, as for :func:`~kinetics.fitting.fit`), each started from the Laplace approximation
at the optimum (a normal with the Fisher covariance). Convergence is reported per parameter as

* the integrated autocorrelation time ``tau`` (in steps; emcee's estimator, averaged over the chains) and the
  effective sample size ``ess = samples / tau``;
* the split R-hat of Gelman et al. (2013, *Bayesian Data Analysis*, 3rd ed., section 11.4) between the chains'
  halves (each ensemble taken as one chain), which should be below about 1.01-1.05.

:class:`Posterior` holds the samples (declared units), equal-tailed credible intervals, the diagnostics, a
report that sets the credible intervals beside the fit's confidence intervals, a corner plot (the ``corner``
package) and a :mod:`pandas` table.

Examples
--------
>>> import numpy as np, kinetics as kx
>>> from kinetics.fitting import Dataset, fit, sample_posterior
>>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 0.3, "1/ms")],
...               reactions=[kx.reaction("A ->", "k")])
>>> t = np.linspace(0.0, 10.0, 21)
>>> rng = np.random.default_rng(1)
>>> ds = Dataset("decay", time=t, data={"A": np.exp(-0.5 * t) + rng.normal(0, 0.01, t.size)}, sigma=0.01)
>>> res = fit(s, ds, {"k": (0.01, 10.0)}, n_starts=2, executor="serial", profiles=False)
>>> post = sample_posterior(res, n_steps=400, chains=2, executor="serial", seed=0)
>>> lo, hi = post.ci["k"]
>>> bool(lo < res.values["k"] < hi)
True
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from ..errors import ArgumentError, KineticsError
from .result import FitResult, _fmt

__all__ = ["Posterior", "sample_posterior", "split_rhat"]

#: emcee's advice: chains longer than this many autocorrelation times give a reliable ``tau``.
TAU_FACTOR = 50


@dataclass(frozen=True)
class Posterior:
    """Samples of a fit's posterior and their summary (built by :func:`sample_posterior`).

    Attributes
    ----------
    names : tuple of str
        The fitted quantities (the fit's ``names``).
    units : tuple of str
        Their declared units.
    scales : tuple of str
        The axes sampled on (``"log10"`` or ``"linear"``).
    chains : ndarray, shape (n_chains, n_kept_steps, n_walkers, n_parameters)
        The kept samples on the scaled axes (after ``burn``, every ``thin``-th step).
    samples : dict of name -> ndarray
        All kept samples of each quantity, flattened over chains, steps and walkers, in declared units.
    median : dict of name -> float
    ci : dict of name -> (low, high)
        Equal-tailed credible intervals at ``level`` (declared units).
    level : float
    tau : dict of name -> float
        Integrated autocorrelation time in steps (mean over chains).
    ess : dict of name -> float
        Effective sample size: ``n_chains * n_walkers * n_kept_steps * thin / tau``.
    rhat : dict of name -> float
        Split R-hat between the chains' halves (``nan`` with one chain of fewer than 4 kept steps).
    acceptance : float
        Mean acceptance fraction of the stretch moves.
    reliable : bool
        Every chain ran at least ``TAU_FACTOR`` (50) autocorrelation times after burn-in and every R-hat is below
        1.05.
    fit : FitResult
        The fit sampled from (its intervals appear in :meth:`report`).
    settings : dict
        How the sampler ran (steps, burn, thin, walkers, chains, seed, priors, executor).
    wall_time : float
        Seconds.
    """

    names: tuple
    units: tuple
    scales: tuple
    chains: np.ndarray
    samples: dict
    median: dict
    ci: dict
    level: float
    tau: dict
    ess: dict
    rhat: dict
    acceptance: float
    reliable: bool
    fit: FitResult = field(repr=False)
    settings: dict = field(default_factory=dict)
    wall_time: float = 0.0

    @property
    def n_samples(self) -> int:
        """Kept samples in all (chains x steps x walkers)."""
        return int(np.prod(self.chains.shape[:3]))

    def to_dataframe(self):
        """The samples as a :class:`pandas.DataFrame` (one column per quantity, declared units; a ``chain``
        column)."""
        import pandas as pd

        n_chains, n_steps, n_walkers, _ = self.chains.shape
        frame = pd.DataFrame(self.samples)
        frame.insert(0, "chain", np.repeat(np.arange(n_chains), n_steps * n_walkers))
        return frame

    def summary(self):
        """One row per quantity: fit value, posterior median, credible interval, the fit's confidence interval,
        ``tau``, ``ess`` and ``rhat`` (a :class:`pandas.DataFrame`)."""
        import pandas as pd

        rows = []
        for k, unit in zip(self.names, self.units):
            lo, hi = self.ci[k]
            flo, fhi = self.fit.ci[k]
            rows.append({"parameter": k, "unit": unit, "fit": self.fit.values[k], "median": self.median[k],
                         "credible_low": lo, "credible_high": hi,
                         "ci_low": np.nan if flo is None else flo, "ci_high": np.nan if fhi is None else fhi,
                         "tau": self.tau[k], "ess": self.ess[k], "rhat": self.rhat[k]})
        return pd.DataFrame(rows).set_index("parameter")

    def report(self) -> str:
        """A plain-text summary to paste into a lab notebook: the sampler, the convergence diagnostics and, per
        parameter, the credible interval beside the fit's confidence interval."""
        s = self.settings
        pct = int(round(100 * self.level))
        method = {"profile": "profile likelihood", "wald": "Wald (Fisher information)"}.get(self.fit.ci_method,
                                                                                           "profile/Wald")
        n_chains, n_steps, n_walkers, _ = self.chains.shape
        lines = [f"[[Posterior]] {self.fit.model.name}: {len(self.names)} parameters, {self.n_samples} samples",
                 f"    sampler            emcee ensemble (stretch move): {n_chains} chain(s) x {n_walkers} walkers, "
                 f"{s['n_steps']} steps, burn-in {s['burn']}, thin {s['thin']}; {self.wall_time:.1f} s on "
                 f"{s['executor']}",
                 f"    acceptance         {self.acceptance:.3f}",
                 f"    prior              {s['prior_text']}",
                 f"    likelihood         Gaussian at the fit's noise levels (estimated levels held fixed)",
                 f"    converged          {'yes' if self.reliable else 'NOT RELIABLY'}: chains of >= {TAU_FACTOR} "
                 f"tau and R-hat < 1.05 {'hold' if self.reliable else 'do not all hold; run more steps'}",
                 f"[[Parameters]]  median; {pct} % credible interval | fit value; {pct} % CI by {method}"]
        w = max(len(k) for k in self.names)
        for k, unit in zip(self.names, self.units):
            lo, hi = self.ci[k]
            flo, fhi = self.fit.ci[k]
            fci = f"[{_fmt(flo) if flo is not None else 'open'}, {_fmt(fhi) if fhi is not None else 'open'}]"
            lines.append(f"    {k:<{w}}  {_fmt(self.median[k], 6):>11} [{_fmt(lo)}, {_fmt(hi)}] {unit:<8} | "
                         f"{_fmt(self.fit.values[k], 6)} {fci}   tau {self.tau[k]:.1f}, ESS {self.ess[k]:.0f}, "
                         f"R-hat {self.rhat[k]:.3f}")
        return "\n".join(lines)

    def plot_corner(self, path=None, **kw):
        """Corner plot of the samples (the ``corner`` package) on the sampled axes, the fit's optimum marked.

        Returns the figure; ``path`` saves it. Keyword arguments go to :func:`corner.corner`.
        """
        import corner
        import matplotlib.pyplot as plt

        flat = self.chains.reshape(-1, len(self.names))
        labels = [f"log10 {k} [{u}]" if sc == "log10" else f"{k} [{u}]"
                  for k, u, sc in zip(self.names, self.units, self.scales)]
        q = (1 - self.level) / 2
        opts = {"labels": labels, "truths": list(self.fit.x), "quantiles": [q, 0.5, 1 - q],
                "show_titles": False, "truth_color": "#D55E00", "color": "#0072B2"}
        opts.update(kw)
        one = flat.shape[1] == 1 and opts.get("truths") is not None     # corner cannot overplot truths in 1-D
        truths = opts.pop("truths") if one else None
        fig = corner.corner(flat, **opts)
        if one:
            fig.axes[0].axvline(truths[0], color=opts["truth_color"])
        fig.suptitle(f"Posterior of {self.fit.model.name} ({self.n_samples} samples; orange: fit optimum; "
                     f"dashed: median and {int(round(100 * self.level))} % credible interval)", fontsize=9)
        if path is not None:
            from ..io import atomic_savefig

            atomic_savefig(fig, path, dpi=120, bbox_inches="tight")
            plt.close(fig)
        return fig

    def to_dict(self) -> dict:
        """Summary (no samples) as plain data for JSON."""
        return {"names": list(self.names), "units": list(self.units), "scales": list(self.scales),
                "level": self.level, "median": self.median, "ci": {k: list(v) for k, v in self.ci.items()},
                "tau": self.tau, "ess": self.ess, "rhat": self.rhat, "acceptance": self.acceptance,
                "reliable": self.reliable, "n_samples": self.n_samples,
                "settings": {k: v for k, v in self.settings.items() if k != "priors"}, "wall_time": self.wall_time}


# ---------------------------------------------------------------------------------------------- diagnostics
def split_rhat(chains: np.ndarray) -> np.ndarray:
    """Split R-hat (Gelman et al. 2013, section 11.4) per parameter.

    ``chains`` has shape ``(n_chains, n_draws, n_parameters)``; each chain is cut in two halves and the potential
    scale reduction of the ``2 n_chains`` halves is returned (``nan`` with fewer than 4 draws per chain).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> float(split_rhat(rng.normal(size=(4, 1000, 1)))[0]) < 1.01
    True
    >>> float(split_rhat(np.stack([rng.normal(0, 1, (1000, 1)), rng.normal(3, 1, (1000, 1))]))[0]) > 1.5
    True
    """
    chains = np.asarray(chains, dtype=float)
    if chains.ndim != 3:
        raise ArgumentError(f"`chains` must have shape (n_chains, n_draws, n_parameters), got {chains.shape}")
    n = chains.shape[1] // 2
    if n < 2:
        return np.full(chains.shape[2], np.nan)
    halves = np.concatenate([chains[:, :n], chains[:, chains.shape[1] - n:]], axis=0)
    means = halves.mean(axis=1)
    within = halves.var(axis=1, ddof=1).mean(axis=0)
    between = n * means.var(axis=0, ddof=1)
    pooled = (n - 1) / n * within + between / n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(within > 0, np.sqrt(pooled / within), np.nan)


# ---------------------------------------------------------------------------------------------- the density
class _LogPosterior:
    """log p(x | data) up to a constant, on the fit's scaled axes (picklable: the objective rebuilds its compiled
    state once per process)."""

    def __init__(self, objective, priors: dict):
        self.objective = objective
        self.lower = np.asarray(objective.x_lower, dtype=float)
        self.upper = np.asarray(objective.x_upper, dtype=float)
        self.priors = [(i, p, priors[p.key]) for i, p in enumerate(objective.parameters) if p.key in priors]

    def __call__(self, x) -> float:
        x = np.asarray(x, dtype=float)
        if not (np.all(np.isfinite(x)) and np.all(x >= self.lower) and np.all(x <= self.upper)):
            return -math.inf
        lp = 0.0
        for i, p, dist in self.priors:
            v = float(p.from_x(x[i]))
            lp += float(dist.logpdf(v)) + math.log(abs(float(p.dvalue_dx(x[i]))))
        if not math.isfinite(lp):
            return -math.inf
        try:
            cost = self.objective.cost(x)
        except KineticsError:
            return -math.inf
        return lp - cost if math.isfinite(cost) else -math.inf


def _initial_walkers(fit: FitResult, log_prob, n_walkers: int, rng) -> np.ndarray:
    """Walkers drawn from the Laplace approximation at the optimum (Fisher covariance), inside the bounds and at
    a finite density; quantities without a finite standard error get 1 % of their box."""
    x0 = np.asarray(fit.x, dtype=float)
    lo, hi = log_prob.lower, log_prob.upper
    cov = np.array(fit.covariance, dtype=float)
    width = np.where(np.isfinite(hi - lo), hi - lo, 1.0)
    bad = ~np.isfinite(np.diag(cov)) | (np.diag(cov) <= 0)
    if bad.any() or not np.all(np.isfinite(cov)):
        cov = np.diag(np.where(bad, (0.01 * width) ** 2, np.nan_to_num(np.diag(cov))))
    try:
        chol = np.linalg.cholesky(cov + 1e-12 * np.diag(np.diag(cov)))
    except np.linalg.LinAlgError:
        chol = np.diag(np.sqrt(np.abs(np.diag(cov))))
    out = []
    for _ in range(200 * n_walkers):
        x = x0 + chol @ rng.standard_normal(x0.size)
        if np.isfinite(log_prob(x)):
            out.append(x)
            if len(out) == n_walkers:
                return np.array(out)
    raise KineticsError(f"could not place {n_walkers} walkers at a finite posterior density near the optimum "
                        f"(found {len(out)}); check the fit and the priors")


def _run_chain(log_prob, n_steps, seed, item):
    """One ensemble (a task for the executor): returns ``(chain (n_steps, n_walkers, k), acceptance)``."""
    import emcee

    index, walkers = item
    stream = np.random.RandomState(np.random.default_rng([seed, index]).integers(2**32 - 1))  # emcee's generator
    sampler = emcee.EnsembleSampler(walkers.shape[0], walkers.shape[1], log_prob)
    sampler.run_mcmc(emcee.State(walkers, random_state=stream.get_state()), n_steps, progress=False)
    return sampler.get_chain(), float(np.mean(sampler.acceptance_fraction))


def _prior_text(fit: FitResult, priors: dict) -> str:
    parts = []
    for p in fit.fit_parameters:
        if p.key in priors:
            d = priors[p.key]
            name = getattr(getattr(d, "dist", None), "name", type(d).__name__)
            parts.append(f"{p.key} ~ {name}{tuple(round(float(a), 6) for a in getattr(d, 'args', ()))}")
    box = "uniform on the scaled axes within the fit's bounds (log-uniform for log10 parameters)"
    return box if not parts else f"{box}; times {', '.join(parts)}"


def sample_posterior(fit: FitResult, *, n_steps: int = 2000, n_walkers: int | None = None, chains: int = 4,
                     burn: int | None = None, thin: int = 1, priors: dict | None = None, level: float | None = None,
                     seed=0, executor=None, progress=None) -> Posterior:
    """Sample the posterior of a fit with emcee (see the module docstring).

    Parameters
    ----------
    fit : FitResult
        A fit from :func:`~kinetics.fitting.fit`; sampling starts at its optimum.
    n_steps : int
        Steps of each ensemble (including ``burn``).
    n_walkers : int, optional
        Walkers per ensemble; default ``max(16, 4 * n_parameters)`` (even).
    chains : int
        Independent ensembles, one executor task each (R-hat compares them).
    burn : int, optional
        Steps dropped at the start of each chain; default ``n_steps // 4``.
    thin : int
        Keep every ``thin``-th step after burn-in.
    priors : dict of name -> scipy.stats frozen distribution, optional
        Priors on declared values; quantities not named get the uniform prior of the scaled axis.
    level : float, optional
        Credible level; default the fit's ``level``.
    seed : int
    executor, progress
        As for :func:`~kinetics.fitting.fit`.

    Returns
    -------
    Posterior
    """
    from ..executor import Executor, as_executor

    if not isinstance(fit, FitResult):
        raise ArgumentError(f"`fit` must be a FitResult, got {type(fit).__name__}")
    k = len(fit.names)
    for name, value, least in (("n_steps", n_steps, 10), ("chains", chains, 1), ("thin", thin, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ArgumentError(f"`{name}` must be an integer >= {least}, got {value!r}")
    n_walkers = max(16, 4 * k) if n_walkers is None else n_walkers
    if isinstance(n_walkers, bool) or not isinstance(n_walkers, (int, np.integer)) or n_walkers < 2 * k + 2 \
            or n_walkers % 2:
        raise ArgumentError(f"`n_walkers` must be an even integer >= 2 * n_parameters + 2 = {2 * k + 2}, "
                            f"got {n_walkers!r}")
    burn = n_steps // 4 if burn is None else burn
    if isinstance(burn, bool) or not isinstance(burn, (int, np.integer)) or not 0 <= burn <= n_steps - 4 * thin:
        raise ArgumentError(f"`burn` must be an integer in [0, n_steps - 4 * thin] = [0, {n_steps - 4 * thin}], "
                            f"got {burn!r}")
    level = float(fit.settings.get("level", 0.95) if level is None else level)
    if not 0 < level < 1:
        raise ArgumentError(f"`level` must lie in (0, 1), got {level}")
    priors = dict(priors or {})
    for name, dist in priors.items():
        if name not in fit.names:
            from ..errors import did_you_mean

            raise ArgumentError(f"prior for `{name}`: not a fitted parameter" + did_you_mean(name, list(fit.names)))
        if not callable(getattr(dist, "logpdf", None)):
            raise ArgumentError(f"prior for `{name}` must be a scipy.stats frozen distribution (with .logpdf), "
                                f"got {type(dist).__name__}")

    t0 = time.perf_counter()
    log_prob = _LogPosterior(fit.objective, priors)
    rng = np.random.default_rng(seed)
    starts = [(c, _initial_walkers(fit, log_prob, n_walkers, rng)) for c in range(chains)]
    ex = as_executor(executor)
    owned = ex is not executor and not isinstance(executor, Executor)
    try:
        runs = ex.map(partial(_run_chain, log_prob, n_steps, int(rng.integers(2**63 - 1))), starts,
                      desc="posterior chains", progress=progress)
        described = ex.describe()
    finally:
        if owned:
            ex.close()

    import emcee

    kept = np.stack([chain[burn::thin] for chain, _ in runs])           # (chains, steps, walkers, k)
    acceptance = float(np.mean([a for _, a in runs]))
    autocorr_log = logging.getLogger("emcee.autocorr")                   # short chains: said by `reliable`
    old_level = autocorr_log.level
    autocorr_log.setLevel(logging.ERROR)
    try:
        taus = np.array([emcee.autocorr.integrated_time(c, quiet=True) for c in kept]) * thin
    finally:
        autocorr_log.setLevel(old_level)
    tau = taus.mean(axis=0)
    n_kept = kept.shape[1]
    rhat = split_rhat(kept.reshape(chains, n_kept * n_walkers, k))     # one chain: its two halves
    flat = kept.reshape(-1, k)
    params = fit.objective.parameters
    values = np.column_stack([np.asarray(p.from_x(flat[:, i]), dtype=float) for i, p in enumerate(params)])
    q = (1 - level) / 2
    samples, median, ci, tau_d, ess, rhat_d = {}, {}, {}, {}, {}, {}
    for i, p in enumerate(params):
        v = values[:, i]
        samples[p.key] = v
        median[p.key] = float(np.median(v))
        ci[p.key] = (float(np.quantile(v, q)), float(np.quantile(v, 1 - q)))
        tau_d[p.key] = float(tau[i])
        ess[p.key] = float(flat.shape[0] * thin / tau[i]) if tau[i] > 0 else float("nan")
        rhat_d[p.key] = float(rhat[i])
    reliable = bool(np.all(n_kept * thin >= TAU_FACTOR * tau) and np.all(np.nan_to_num(rhat, nan=np.inf) < 1.05))
    settings = {"n_steps": n_steps, "burn": burn, "thin": thin, "n_walkers": n_walkers, "chains": chains,
                "seed": seed, "priors": priors, "prior_text": _prior_text(fit, priors), "executor": described}
    return Posterior(names=tuple(fit.names), units=tuple(p.unit for p in params), scales=tuple(fit.scales),
                     chains=kept, samples=samples, median=median, ci=ci, level=level, tau=tau_d, ess=ess,
                     rhat=rhat_d, acceptance=acceptance, reliable=reliable, fit=fit, settings=settings,
                     wall_time=time.perf_counter() - t0)
