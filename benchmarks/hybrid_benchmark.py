"""Hybrid benchmark (issue 14): the synapse with 20 stochastic receptors against the all-ODE synapse, per run.

The composed L5 synapse (``models.synapse.scheme()``, 115 states) under the Sjostrom et al. (2001) protocol
(+10 ms, 50 Hz, 5 pairs x 15 bursts every 10 s, read 5 s after: 145 s of synapse time), from the resting
steady state. Both measured in the same process, after a warm-up run (compilation is cached):

* ODE: ``kinetics.simulate`` of the whole scheme (native solver, rtol 1e-6, atol 1e-10), outputs at 0 and
  ``t_end``;
* hybrid: ``kinetics.stochastic.hybrid`` with the 76 postsynaptic receptor states stochastic (``--receptors``
  N, default 20; initial states drawn from the steady state), the other 39 states ODEs with the same
  tolerances, recording the same two times of ``T_above_p``.

The bar of issue 14: hybrid per run < 10x the ODE per run at N = 20.

    python benchmarks/hybrid_benchmark.py                      # N = 20, 20 hybrid runs, 10 ODE runs
    python benchmarks/hybrid_benchmark.py --receptors 100 --json out.json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import kinetics as kx  # noqa: E402
from kinetics.stochastic import hybrid  # noqa: E402
from models import synapse  # noqa: E402
from models.cli.stochastic import receptor_species  # noqa: E402
from models.experiments import sjostrom_protocol  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--receptors", type=int, default=20)
    ap.add_argument("--runs", type=int, default=20, help="hybrid runs (default 20)")
    ap.add_argument("--ode-runs", type=int, default=10, help="ODE runs (default 10)")
    ap.add_argument("--json", help="write the numbers to this file")
    args = ap.parse_args(argv)

    s = synapse.scheme()
    pre, post = sjostrom_protocol(10.0, 50.0)
    prot = synapse.protocol(pre, post)
    y0 = synapse._equilibrated(s)
    t_end = float(max(pre.max(), post.max())) + synapse.T_READOUT
    t_eval = [0.0, t_end]

    def ode():
        return kx.simulate(s, prot, t_end=t_end, t_eval=t_eval, y0=y0, rtol=1e-6, atol=1e-10)

    def hyb(n_runs, seed):
        return hybrid(s, prot, t_end=t_end, t_eval=t_eval, stochastic=receptor_species(), n_copies=args.receptors,
                      n_runs=n_runs, seed=seed, y0=y0, initial="multinomial", rtol=1e-6, atol=1e-10,
                      record=["T_above_p"], progress=False)

    ode()
    hyb(1, 0)                                   # warm-up: compile (or load) both parts
    t = time.perf_counter()
    for _ in range(args.ode_runs):
        ref = ode()
    t_ode = (time.perf_counter() - t) / args.ode_runs
    t = time.perf_counter()
    res = hyb(args.runs, 1)
    t_hyb = (time.perf_counter() - t) / args.runs
    post_ode = float(synapse.post_change(ref["T_above_p"][-1:], s.parameter_values())[0])
    post_h = synapse.post_change(res["T_above_p"][:, -1], s.parameter_values())
    rep = {
        "problem": "L5 synapse, Sjostrom +10 ms 50 Hz, 5 pairs x 15 bursts (145 s), 76 receptor states stochastic",
        "receptors": args.receptors, "hybrid_runs": args.runs, "ode_runs": args.ode_runs,
        "ode_s_per_run": t_ode, "hybrid_s_per_run": t_hyb, "ratio_hybrid_over_ode": t_hyb / t_ode,
        "bar": "< 10 (issue 14, at N = 20)",
        "mean_open_count_changes_per_run": float(np.mean(res.n_switches)),
        "mean_receptor_reactions_per_run": float(np.mean(res.n_events)),
        "postsynaptic_change_ode": post_ode,
        "postsynaptic_change_hybrid_mean": float(np.mean(post_h)), "postsynaptic_change_hybrid_sd":
            float(np.std(post_h, ddof=1)) if args.runs > 1 else 0.0,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
    }
    print(json.dumps(rep, indent=1))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rep, f, indent=1)


if __name__ == "__main__":
    main()
