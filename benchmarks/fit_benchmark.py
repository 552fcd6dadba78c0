#!/usr/bin/env python
"""Fitting benchmark: exact (forward-sensitivity) gradients vs finite differences on the Destexhe case.

Run from the repository root::

    python benchmarks/fit_benchmark.py            # 20 starts, 2 local worker processes
    python benchmarks/fit_benchmark.py --quick    # 6 starts (a smoke run)

The problem is the shipped example ``examples/fit_destexhe/experiment.toml``: the Destexhe five-state NMDA
receptor (Rb fixed) fitted for Ru, Rd, Rr, Ro, Rc to three synthetic EPSC recordings (one 1 ms pulse, a 20 Hz
train of five, a 1 s application; 5203 points, 2 % noise) from a Latin-hypercube multistart in the log10 box.

What is measured, in one run, on the same starts (seeded design):

1. ``gradient="exact"``: :func:`scipy.optimize.least_squares` (trf) with the Jacobian from the compiled forward
   sensitivity equations (one augmented solve per dataset gives residuals and Jacobian);
2. ``gradient="2-point"``: the same optimiser with least_squares' forward finite differences of plain solves
   (the peer: what a fit without sensitivities does);
3. both fits again in one process (``executor="serial"``): the compute without the pool's worker start-up;
4. the exact fit on a dask ``LocalCluster`` (2 workers, threads) when dask.distributed is installed;
5. the likelihood profiles of the five rates after the exact fit (2 workers).

For each: wall time (pool runs include starting their workers; the one-time launch of the forkserver by the first
pool of the process is timed separately), model solves ("simulations": one per dataset per residual
evaluation; finite differences add one per parameter per Jacobian), simulations per start, function and
Jacobian evaluations, the best cost and the recovery error against the true rates. Also the time of one
plain and one augmented (states + 5 sensitivities) solve of the longest recording, so that "fewer simulations"
can be weighed against "each simulation is bigger".

Bars (issue 4): the exact fit with 20 starts under 60 s on 2 cores, and at least 3x fewer simulations than the
finite-difference fit. Results go to ``benchmarks/fit_results.json``; ``benchmarks/FIT.md`` discusses them.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

EXPERIMENT = REPO_DIR / "examples" / "fit_destexhe" / "experiment.toml"
RESULTS_PATH = BENCH_DIR / "fit_results.json"
RATES = ("Ru", "Rd", "Rr", "Ro", "Rc")


def _loadavg():
    try:
        return list(os.getloadavg())
    except OSError:  # pragma: no cover - not on every platform
        return None


def summarise(label, res, wall, truth):
    starts = res.starts
    n_sim_starts = sum(s.n_simulations for s in starts)
    out = {
        "label": label,
        "wall_s": wall,
        "executor": res.settings["executor"],
        "gradient": res.settings["gradient"],
        "n_starts": len(starts),
        "simulations_total": int(res.n_simulations),
        "simulations_in_starts": int(n_sim_starts),
        "simulations_per_start": n_sim_starts / len(starts),
        "nfev_per_start": float(np.mean([s.nfev for s in starts])),
        "njev_per_start": float(np.mean([s.njev for s in starts])),
        "converged_starts": int(sum(s.success for s in starts)),
        "starts_at_best": int(sum(s.cost <= res.cost + 1e-3 for s in starts)),
        "best_cost": res.cost,
        "relative_error": {k: res.values[k] / truth[k] - 1 for k in RATES},
        "values": {k: res.values[k] for k in RATES},
    }
    print(f"{label:<34} {wall:7.2f} s  {out['simulations_in_starts']:6d} simulations "
          f"({out['simulations_per_start']:6.1f}/start, nfev {out['nfev_per_start']:.1f}, "
          f"njev {out['njev_per_start']:.1f})  cost {res.cost:.4f}  max |error| "
          f"{100 * max(abs(v) for v in out['relative_error'].values()):.2f} %")
    return out


def time_single_solves(exp, repeats=50):
    """Median time of one plain and one augmented solve of the longest dataset at the start values."""
    from kinetics.fitting.objective import Objective

    obj = Objective(exp.scheme, list(exp.datasets), exp.parameters)
    k = int(np.argmax([d.time.size for d in exp.datasets]))
    x = obj.x_start
    obj.simulate(x, k)
    obj.simulate(x, k, sensitivities=True)
    out = {}
    for label, sens in (("plain", False), ("augmented", True)):
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            obj.simulate(x, k, sensitivities=sens)
            ts.append(time.perf_counter() - t0)
        out[label] = float(np.median(ts))
    n = len(exp.scheme.species_names)
    print(f"one solve of `{exp.datasets[k].name}` ({exp.datasets[k].time.size} outputs): "
          f"plain {1e3 * out['plain']:.3f} ms "
          f"({n} states), augmented {1e3 * out['augmented']:.3f} ms ({n * (1 + len(RATES))} states)")
    return {"dataset": exp.datasets[k].name, "plain_s": out["plain"], "augmented_s": out["augmented"],
            "states_plain": n, "states_augmented": n * (1 + len(RATES))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="6 starts instead of 20")
    parser.add_argument("--workers", type=int, default=2, help="local worker processes (default 2)")
    parser.add_argument("--no-dask", action="store_true", help="skip the dask LocalCluster run")
    args = parser.parse_args(argv)

    from kinetics import ProcessExecutor
    from kinetics.fitting import profile, read_experiment
    from models import destexhe1994

    n_starts = 6 if args.quick else 20
    exp = read_experiment(EXPERIMENT)
    truth = destexhe1994.five_state().parameter_values()
    report = {
        "benchmark": "fit of the Destexhe five-state rates (examples/fit_destexhe/experiment.toml)",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                    "python": platform.python_version(), "loadavg_start": _loadavg()},
        "settings": {"n_starts": n_starts, "workers": args.workers, "seed": exp.settings["seed"],
                     "rtol": exp.settings["rtol"], "atol": exp.settings["atol"],
                     "n_data": int(sum(d.n_points for d in exp.datasets))},
        "runs": [],
    }
    print(f"{n_starts} starts, {args.workers} worker processes, {report['settings']['n_data']} data points, "
          f"{os.cpu_count()} cores, load {report['machine']['loadavg_start']}")
    report["single_solve"] = time_single_solves(exp)

    # The first pool of a process also launches the forkserver (which imports numpy, scipy, sympy, kinetics):
    # timed here on its own, so that it is not charged to whichever fit runs first.
    t0 = time.perf_counter()
    with ProcessExecutor(args.workers) as pool:
        pool.map(abs, list(range(-2 * args.workers, 0)))
    report["pool_first_start_s"] = time.perf_counter() - t0
    print(f"{'first process pool (forkserver)':<34} {report['pool_first_start_s']:7.2f} s")

    runs = {}
    for gradient in ("exact", "2-point"):
        with ProcessExecutor(args.workers) as pool:
            t0 = time.perf_counter()
            res = exp.run(executor=pool, n_starts=n_starts, profiles=False, progress=False) if gradient == "exact" \
                else _run_fd(exp, pool, n_starts)
            wall = time.perf_counter() - t0
            if gradient == "exact":
                t1 = time.perf_counter()
                prof = profile(res, executor=pool, progress=False)
                report["profiles"] = {"wall_s": time.perf_counter() - t1,
                                      "simulations": int(prof.n_simulations - res.n_simulations),
                                      "ci": {k: list(prof.ci[k]) for k in RATES},
                                      "truth_inside": {k: bool(prof.ci[k][0] < truth[k] < prof.ci[k][1])
                                                       for k in RATES}}
                print(f"{'profiles (5 rates, exact)':<34} {report['profiles']['wall_s']:7.2f} s  "
                      f"{report['profiles']['simulations']:6d} simulations; truth inside every 95 % CI: "
                      f"{all(report['profiles']['truth_inside'].values())}")
        runs[gradient] = summarise(f"{gradient} gradient, {args.workers} processes", res, wall, truth)
        report["runs"].append(runs[gradient])

    # The same two fits in this process, one start after the other: solver and optimiser time without the
    # worker start-up of the pool.
    for gradient in ("exact", "2-point"):
        t0 = time.perf_counter()
        res = exp.run(executor="serial", n_starts=n_starts, profiles=False, progress=False) \
            if gradient == "exact" else _run_fd(exp, "serial", n_starts)
        report["runs"].append(summarise(f"{gradient} gradient, serial", res, time.perf_counter() - t0, truth))

    if not args.no_dask:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            print("dask.distributed not installed: skipping the LocalCluster run")
        else:
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cl, \
                    Client(cl) as client:
                t0 = time.perf_counter()
                res = exp.run(executor=client, n_starts=n_starts, profiles=False, progress=False)
                wall = time.perf_counter() - t0
            report["runs"].append(summarise("exact gradient, dask LocalCluster", res, wall, truth))
            report["runs"][-1]["same_values_as_local"] = bool(all(
                abs(res.values[k] / runs["exact"]["values"][k] - 1) < 1e-9 for k in RATES))

    ratio = runs["2-point"]["simulations_in_starts"] / runs["exact"]["simulations_in_starts"]
    work_ratio = (runs["2-point"]["simulations_in_starts"] * report["single_solve"]["plain_s"]) / \
        (runs["exact"]["simulations_in_starts"] * report["single_solve"]["augmented_s"])
    serial = {r["gradient"]: r for r in report["runs"] if "serial" in r["executor"]}
    report["ratios"] = {"fd_over_exact_simulations": ratio,
                        "fd_over_exact_wall_pool": runs["2-point"]["wall_s"] / runs["exact"]["wall_s"],
                        "fd_over_exact_wall_serial": serial["2-point"]["wall_s"] / serial["exact"]["wall_s"],
                        "fd_over_exact_solver_time_estimate": work_ratio}
    report["bars"] = {"exact_under_60_s": runs["exact"]["wall_s"] < 60.0, "at_least_3x_fewer_simulations": ratio >= 3}
    report["machine"]["loadavg_end"] = _loadavg()
    print(f"finite differences / exact: {ratio:.2f}x the simulations; wall time "
          f"{report['ratios']['fd_over_exact_wall_serial']:.2f}x (serial), "
          f"{report['ratios']['fd_over_exact_wall_pool']:.2f}x (pool); solver time estimate {work_ratio:.2f}x")
    print("bars: exact fit under 60 s: {}; >= 3x fewer simulations: {}".format(
        *("PASS" if v else "FAIL" for v in report["bars"].values())))
    from kinetics.io import atomic_write_text

    atomic_write_text(RESULTS_PATH, json.dumps(report, indent=1) + "\n")
    print(f"wrote {RESULTS_PATH.relative_to(REPO_DIR)}")
    return 0 if all(report["bars"].values()) else 1


def _run_fd(exp, pool, n_starts):
    from kinetics.fitting import fit

    s = exp.settings
    return fit(exp.scheme, list(exp.datasets), exp.parameters, n_starts=n_starts, seed=s["seed"],
               sampler=s["sampler"], include_start=s["include_start"], gradient="2-point", rtol=s["rtol"],
               atol=s["atol"], executor=pool, progress=False)


if __name__ == "__main__":
    sys.exit(main())
