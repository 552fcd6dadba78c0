"""Exact stochastic simulation of schemes: molecule (or receptor) counts instead of concentrations.

* :func:`ssa` — ensembles of exact runs (Gillespie's direct method; thinning under time-varying inputs) under a
  :class:`~kinetics.protocol.Protocol`, returning an :class:`SSAResult` (counts on a grid, mean, variance,
  quantiles), through any executor, with per-run reproducible seeds.
* :func:`ssa_path` — one run with every event (for dwell times).
* :func:`hybrid` — some species exact (SSA), the rest ODEs driven by them (:mod:`kinetics.stochastic.hybrid`),
  returning a :class:`HybridResult`.
* the engines: a generated C loop (:mod:`kinetics.stochastic.native`, default) and the same algorithm in Python.
* :func:`channels` — the reaction channels and propensities of a scheme for a ``volume`` or ``n_copies``
  (the count conventions are in :mod:`kinetics.stochastic.propensities`).

Examples
--------
>>> import kinetics as kx
>>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0, "1")], parameters=[kx.Parameter("k", 1.0, "1/ms")],
...               reactions=[kx.reaction("A ->", "k")])
>>> res = kx.ssa(s, t_end=1.0, t_eval=[0.0, 1.0], n_runs=500, n_copies=100, seed=0)
>>> res.counts.shape, int(res["A"][0, 0])
((500, 2, 1), 100)
"""
from .propensities import AVOGADRO, Channels, channels, omega_of
from .hybrid import HybridResult, hybrid
from .result import SSAResult
from .ssa import ssa, ssa_path

__all__ = ["ssa", "ssa_path", "SSAResult", "hybrid", "HybridResult", "channels", "Channels", "omega_of", "AVOGADRO"]
