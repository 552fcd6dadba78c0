"""Large sweeps through a dask.distributed LocalCluster: per-task overhead and the share of the work it costs.

Two sweeps run through ``kinetics.sweep(..., executor=client)`` (the package's executor interface) and, in the same
run, serially in this process (the work itself, one core):

* ``stdp``  -- the STDP benchmark's 1000-set (Rb, Ro) sweep (``stdp_model.py``: 7 states, 60 pulses, 60 s);
* ``small`` -- 10^5 parameter sets of a small scheme: Destexhe's five-state NMDA receptor
  (``models.destexhe1994.five_state``) after one 1 ms, 1 mM glutamate pulse, final state at 50 ms.

Measured, per sweep: the serial time ``T1``; the cluster time ``Tc`` with ``W`` workers (one thread each; the
cluster's start-up is reported apart, not counted); the ideal ``T1 / W``; the overhead share
``1 - (T1 / W) / Tc`` (everything the cluster adds: scheduling, serialisation, result transfer, idle tails); and
the per-task overhead of the cluster itself, from a batch of no-op tasks. ``kinetics.sweep`` sends rows in
chunks (default about four per worker; ``chunk_size=`` sets it): the script times 1, 2, 4 and 8 tasks per
worker, reports the chunk size and checks that the cluster's results equal the serial
ones bit for bit. Times are medians of interleaved repeats (``--repeats``, default 5).

Bar (issue #12): the overhead share stays under 10 % of the work. Run::

    python benchmarks/dask_sweep_benchmark.py            # both sweeps, 2 workers
    python benchmarks/dask_sweep_benchmark.py --quick    # 200 STDP sets, 2 * 10^4 small sets

Results are written to ``benchmarks/dask_results.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import stdp_model as M  # noqa: E402

import kinetics as kx  # noqa: E402


def small_problem(n: int, seed: int = 0):
    """The five-state receptor after one pulse, ``n`` log-uniform (Ru, Ro) pairs within 3x of the published
    rates (Destexhe et al. 1994)."""
    from models import destexhe1994

    scheme = destexhe1994.five_state()
    rng = np.random.default_rng(seed)
    params = {name: scheme.get_parameter(name).value * 10 ** rng.uniform(-0.5, 0.5, n) for name in ("Ru", "Ro")}
    protocol = kx.Protocol([kx.pulses("glu", [1.0], amplitude=1.0, width=1.0)])
    return scheme, params, protocol, 50.0


def stdp_problem(n: int):
    return M.build_scheme(), M.sweep_parameters(n), M.build_protocol(), M.T_END


def _noop(x):
    return x


def task_overhead(client, n_tasks: int = 400) -> float:
    """Seconds per no-op task on the cluster (submit to result, amortised over a batch)."""
    client.gather(client.map(_noop, range(20), pure=False))       # warm the connections
    t0 = time.perf_counter()
    client.gather(client.map(_noop, range(n_tasks), pure=False))
    return (time.perf_counter() - t0) / n_tasks


def run(name: str, problem, client, n_workers: int, repeats: int, tasks_per_worker=(1, 2, 4, 8)) -> list:
    """Serial time and cluster time at each chunking (tasks per worker), medians of interleaved repeats."""
    scheme, params, protocol, t_end = problem
    m = len(next(iter(params.values())))
    opts = dict(t_end=t_end, rtol=M.RTOL, atol=M.ATOL)
    warm = {k: v[:2] for k, v in params.items()}
    kx.sweep(scheme, warm, protocol, executor="serial", **opts)            # compile (not timed)
    kx.sweep(scheme, warm, protocol, executor=client, **opts)              # load on every worker (not timed)
    chunks = {tpw: max(1, -(-m // (tpw * n_workers))) for tpw in tasks_per_worker}
    serial_times, cluster_times = [], {tpw: [] for tpw in chunks}
    identical = True
    for _ in range(repeats):                                               # interleaved: load drifts hit all
        t0 = time.perf_counter()
        serial = kx.sweep(scheme, params, protocol, executor="serial", **opts)
        serial_times.append(time.perf_counter() - t0)
        for tpw, chunk in chunks.items():
            t0 = time.perf_counter()
            cluster = kx.sweep(scheme, params, protocol, executor=client, chunk_size=chunk, **opts)
            cluster_times[tpw].append(time.perf_counter() - t0)
            identical &= bool(np.array_equal(serial.final, cluster.final))
    t_serial = float(np.median(serial_times))
    ideal = t_serial / n_workers
    rows = []
    for tpw, chunk in chunks.items():
        t_cluster = float(np.median(cluster_times[tpw]))
        rows.append({"sweep": name, "sets": m, "states": len(scheme.species), "workers": n_workers,
                     "tasks_per_worker": tpw, "chunk_rows": chunk, "tasks": -(-m // chunk), "serial_s": t_serial,
                     "cluster_s": t_cluster, "ideal_s": ideal, "per_set_ms": 1e3 * t_serial / m,
                     "overhead_share": 1.0 - ideal / t_cluster, "repeats": repeats, "identical": identical,
                     "default": tpw == 4})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2, help="dask workers, one thread each (default 2)")
    ap.add_argument("--quick", action="store_true", help="200 STDP sets and 2 * 10^4 small sets")
    ap.add_argument("--repeats", type=int, default=5, help="interleaved repeats; medians are reported (default 5)")
    ap.add_argument("--out", type=Path, default=HERE / "dask_results.json", help="JSON results file")
    args = ap.parse_args(argv)
    from dask.distributed import Client, LocalCluster

    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    startup = time.perf_counter() - t0
    try:
        per_task = task_overhead(client)
        rows = run("stdp", stdp_problem(200 if args.quick else 1000), client, args.workers, args.repeats) + \
            run("small", small_problem(20_000 if args.quick else 100_000), client, args.workers, args.repeats)
    finally:
        client.close()
        cluster.close()
    load = os.getloadavg()[0]
    print(f"dask LocalCluster: {args.workers} workers x 1 thread; start-up {startup:.2f} s (not counted); "
          f"no-op task overhead {1e3 * per_task:.2f} ms; {os.cpu_count()} cores; medians of {args.repeats} "
          f"interleaved repeats; 1-min load average at the end {load:.2f}")
    print(f"{'sweep':<6} {'sets':>7} {'states':>6} {'tasks':>5} {'rows/task':>9} {'ms/set':>7} {'serial s':>9} "
          f"{'cluster s':>9} {'ideal s':>8} {'overhead':>8} identical")
    for r in rows:
        print(f"{r['sweep']:<6} {r['sets']:>7} {r['states']:>6} {r['tasks']:>5} {r['chunk_rows']:>9} "
              f"{r['per_set_ms']:>7.3f} {r['serial_s']:>9.2f} {r['cluster_s']:>9.2f} {r['ideal_s']:>8.2f} "
              f"{100 * r['overhead_share']:>7.1f}% {r['identical']}" + ("   <- kinetics.sweep's default" if
                                                                        r["default"] else ""))
    # Cluster time against the number of tasks: the slope is the wall-clock cost of one more task, the intercept
    # minus the ideal time the fixed cost of one sweep (scheduling latency, shipping the runner, gathering; on
    # 2 cores also the scheduler and client competing with the two workers for CPU).
    summary = {}
    for name in dict.fromkeys(r["sweep"] for r in rows):
        rs = [r for r in rows if r["sweep"] == name]
        slope, intercept = np.polyfit([r["tasks"] for r in rs], [r["cluster_s"] for r in rs], 1)
        default = next(r for r in rs if r["default"])
        summary[name] = {"per_task_s": float(slope), "fixed_s": float(intercept - default["ideal_s"]),
                         "per_task_share_default": float(slope * default["tasks"] / default["ideal_s"]),
                         "total_share_default": default["overhead_share"]}
        print(f"{name}: one more task costs {1e3 * slope:.1f} ms of wall time; fixed cost of a sweep "
              f"{1e3 * summary[name]['fixed_s']:.0f} ms; at the default chunking ({default['tasks']} tasks) the "
              f"per-task overhead is {100 * summary[name]['per_task_share_default']:.1f} % of the work, all "
              f"overhead {100 * default['overhead_share']:.1f} %")
    ok = all(v["per_task_share_default"] < 0.10 for v in summary.values()) and all(r["identical"] for r in rows)
    print("bar (default chunking: per-task overhead < 10 % of the work, identical results):",
          "met" if ok else "NOT met")
    args.out.write_text(json.dumps({"startup_s": startup, "noop_task_s": per_task, "load_average": load,
                                    "rows": rows, "summary": summary, "quick": args.quick}, indent=1) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
