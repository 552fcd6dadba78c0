"""kinetics.fitting — fit rate constants to data with exact gradients, multistart, uncertainty and identifiability.

* :class:`Dataset` — measured time points, observables (species or expressions), the protocol, the noise.
* :class:`SummaryDataset` — summary statistics: one number per experiment (a weight change, a peak, a charge),
  each a :class:`Statistic` (final value, value at a time, window mean or integral, max/min, ratio or change
  from the initial value) of its own simulation (a :class:`Condition`: protocol, ``t_end``, parameter
  overrides), with exact sensitivities; mixes freely with time courses in one fit
  (:mod:`kinetics.fitting.summary`).
* :func:`fit` — weighted least squares (Gaussian likelihood) with :func:`scipy.optimize.least_squares`, the
  exact Jacobian from forward sensitivity equations derived with sympy and compiled like the model
  (:mod:`kinetics.fitting.sensitivity`), log10 or linear parameter scales, and multistart from a Latin hypercube or
  Sobol design; every start is kept.
* :func:`profile` — profile-likelihood confidence intervals and the flat-profile check.
* :func:`sample_posterior` — Markov chain Monte Carlo (emcee) from the optimum: credible intervals beside the
  confidence intervals, autocorrelation times, effective sample sizes, R-hat, corner plots
  (:mod:`kinetics.fitting.posterior`).
* :func:`read_petab` / :func:`write_petab` — PEtab problems in (negative log-likelihood with normal or Laplace
  noise on lin/log/log10 scales, priors, multistart fits) and nmdakin fits out (:mod:`kinetics.fitting.petab`).
* :class:`FitResult` — new Parameter objects, standard errors, covariance, intervals, AIC/BIC, identifiability
  flags, ``report()``, ``to_json()`` and plots.
* Many runs go through an executor: a local process pool by default, or a ``dask.distributed.Client``
  (``executor=client``).

Examples
--------
>>> import numpy as np, kinetics as kx
>>> from kinetics.fitting import Dataset, fit
>>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 0.3, "1/ms")],
...               reactions=[kx.reaction("A ->", "k")])
>>> t = np.linspace(0.0, 10.0, 21)
>>> ds = Dataset("decay", time=t, data={"A": np.exp(-0.5 * t)}, sigma=0.01)
>>> res = fit(s, ds, {"k": (0.01, 10.0)}, n_starts=3, executor="serial")
>>> round(res.values["k"], 6)
0.5
"""
from __future__ import annotations

from .dataset import ESTIMATE, Dataset
from .driver import fit, profile
from .objective import Objective
from .optimize import StartResult, multistart
from .parameters import FitParameter
from .petab import PetabError, PetabProblem, read_petab, write_petab
from .posterior import Posterior, sample_posterior
from .result import FitResult
from .summary import Condition, Statistic, SummaryDataset
from .uncertainty import Flag, Profile

__all__ = [
    "Dataset", "SummaryDataset", "Statistic", "Condition", "ESTIMATE", "FitParameter", "fit", "profile", "FitResult", "Profile", "Flag", "StartResult",
    "Objective", "multistart", "read_experiment", "run_experiment", "Posterior", "sample_posterior",
    "PetabError", "PetabProblem", "read_petab", "write_petab",
]


def __getattr__(name):
    if name in ("read_experiment", "run_experiment", "Experiment"):
        from . import experiment_file

        return getattr(experiment_file, name)
    raise AttributeError(f"module 'kinetics.fitting' has no attribute {name!r}")
