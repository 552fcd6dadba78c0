"""Single-channel kinetics: Q-matrix theory, missed events (HJC) and maximum-likelihood fitting of idealized
records, from any closed :class:`~kinetics.Scheme`.

* :mod:`~kinetics.singlechannel.qmatrix` — :class:`QMatrix` (:func:`q_matrix` builds it from a scheme at fixed
  inputs): equilibrium, open/shut dwell-time pdfs, bursts, first latencies, relaxations, P_open curves
  (:func:`popen_curve`, :func:`ec50`), microscopic reversibility, :func:`tcrit`;
* :mod:`~kinetics.singlechannel.hjc` — :class:`HJC`: apparent (missed-events) dwell-time pdfs for a resolution,
  exact below three resolutions and asymptotic beyond, and the equilibrium and CHS start/end vectors;
* :mod:`~kinetics.singlechannel.records` — :class:`Record`: read/write (``.scn``, ``.dwt``, CSV), impose a
  resolution, split into bursts, simulate from a Q-matrix;
* :mod:`~kinetics.singlechannel.likelihood` — :class:`RecordLikelihood`, :func:`log_likelihood`;
* :mod:`~kinetics.singlechannel.fit` — :func:`fit_records` (log-scale rates, fixed/tied rates, microscopic
  reversibility, an EC50 constraint, multistart, Hessian errors) and :func:`profile`.

All rates are in 1/s and all times in s.

Examples
--------
>>> import kinetics as kx
>>> from kinetics import singlechannel as sc
>>> s = kx.Scheme("dck", species=[kx.Species("R", 1.0), kx.Species("AR"), kx.Species("ARs")],
...     parameters=[kx.Parameter("kon", 1e7, "1/(M*s)"), kx.Parameter("koff", 2e3, "1/s"),
...                 kx.Parameter("beta", 5e3, "1/s"), kx.Parameter("alpha", 1e3, "1/s")],
...     inputs=[kx.Input("A", 0.0, "mM")],
...     reactions=[kx.reaction("R <-> AR", "kon*A", "koff"), kx.reaction("AR <-> ARs", "beta", "alpha")])
>>> q = sc.q_matrix(s, inputs={"A": 0.05}, open_states=["ARs"])      # 50 uM
>>> round(q.mean_open_time() * 1e3, 3)                                 # ms: 1/alpha
1.0
>>> round(sc.HJC(q, 50e-6).mean_open_time() * 1e3, 3)                  # apparent, 50 us resolution
1.324
"""
from .qmatrix import (BurstStatistics, CycleCheck, ExponentialMixture, QMatrix, ReversibilityCheck, ec50,
                      popen_curve, q_matrix, tcrit)
from .hjc import HJC
from .likelihood import RecordLikelihood, check_bursts, log_likelihood
from .records import Record, bursts, impose_resolution, read_record, simulate_record, write_record
from .fit import (EC50Constraint, Profile, SingleChannelData, SingleChannelFit, fit_records, profile,
                  reversibility_solver)

__all__ = ["QMatrix", "ExponentialMixture", "BurstStatistics", "CycleCheck", "ReversibilityCheck", "q_matrix",
           "popen_curve", "ec50", "tcrit", "HJC", "log_likelihood", "check_bursts", "RecordLikelihood", "Record",
           "bursts", "impose_resolution", "read_record", "write_record", "simulate_record", "SingleChannelData",
           "EC50Constraint",
           "SingleChannelFit", "fit_records", "reversibility_solver", "Profile", "profile"]
