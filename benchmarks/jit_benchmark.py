#!/usr/bin/env python
"""The compiler-free path (numba JIT) against the native C path and scipy LSODA, in one run.

Run from the repository root::

    python benchmarks/jit_benchmark.py            # STDP benchmark model + synapse, and `nmdakin demo`
    python benchmarks/jit_benchmark.py --quick    # fewer repeats, no `nmdakin demo`

What is measured (every time in this run, on this machine; ratios are time / native time):

1. The 7-state STDP benchmark model (``stdp_model.py``: 60 pulses, 60 s, 2001 output points, rtol 1e-7) with
   ``kinetics.simulate`` on each backend (``NMDAKIN_BACKEND=native``, ``jit``, ``scipy``: LSODA with the
   lambdified right-hand side and Jacobian): median over repeats after one warm-up call.
2. The 115-state single-synapse model (``models.synapse``: 60 pairs at 1 Hz, dt = +10 ms, control): the same.
3. The largest difference between the JIT and native trajectories, and whether their solver statistics are equal.
4. ``nmdakin demo`` (the whole CLI job, fresh processes, warm caches: each command is run once before it is timed)
   with ``CC=/bin/false`` (no working compiler: the JIT path) and with the machine's compiler.

Results go to ``benchmarks/jit_results.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
for _p in (str(BENCH_DIR), str(REPO_DIR)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import stdp_model as M  # noqa: E402

RESULTS_PATH = BENCH_DIR / "jit_results.json"
BACKENDS = ("native", "jit", "scipy")


def log(msg=""):
    print(msg, flush=True)


def timed(fn, repeats):
    """Median wall time (s) of ``fn()`` over ``repeats`` calls after one warm-up call, and the last result."""
    out = fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def stdp_case():
    import kinetics as kx

    scheme, protocol, grid = M.build_scheme(), M.build_protocol(), M.output_grid()
    return lambda: kx.simulate(scheme, protocol, t_end=M.T_END, t_eval=grid, rtol=M.RTOL, atol=M.ATOL)


def synapse_case():
    from models import synapse
    from models.experiments import pairing_times

    pre, post = pairing_times(60, 1.0, 10.0)
    return lambda: synapse.run(pre, post, None, n_points=2001)


def compare(name, make, repeats, scipy_repeats):
    log(f"[{name}]")
    row, results = {}, {}
    for backend in BACKENDS:
        os.environ["NMDAKIN_BACKEND"] = backend
        fn = make()
        t, res = timed(fn, scipy_repeats if backend == "scipy" else repeats)
        res = getattr(res, "result", res)
        row[backend] = t
        results[backend] = res
        log(f"  {backend:7s} {t * 1e3:10.2f} ms   method {res.method}")
    os.environ.pop("NMDAKIN_BACKEND", None)
    a, b, c = results["native"], results["jit"], results["scipy"]
    out = {
        "time_s": row,
        "ratio_to_native": {k: row[k] / row["native"] for k in BACKENDS},
        "jit_vs_native_max_abs_diff": float(np.max(np.abs(a.y - b.y))),
        "jit_and_native_stats_equal": a.stats == b.stats,
        "scipy_vs_native_max_abs_diff": float(np.max(np.abs(a.y - c.y))),
        "native_stats": a.stats,
    }
    ratio = out["ratio_to_native"]
    log(f"  ratios to native: jit {ratio['jit']:.2f}, scipy LSODA {ratio['scipy']:.1f}"
        f"; |jit - native| max {out['jit_vs_native_max_abs_diff']:.3g} (same steps: "
        f"{out['jit_and_native_stats_equal']}), |LSODA - native| max {out['scipy_vs_native_max_abs_diff']:.3g}")
    return out


def demo_times(repeats):
    """Wall time of `nmdakin demo` without a working compiler (CC=/bin/false) and with the machine's."""
    out = {}
    folder = Path(tempfile.mkdtemp(prefix="nmdakin-jit-bench-"))
    try:
        for label, extra in (("native", {}), ("jit (CC=/bin/false)", {"CC": "/bin/false"})):
            env = dict(os.environ, MPLBACKEND="Agg", **extra)
            env.pop("NMDAKIN_BACKEND", None)
            cmd = [sys.executable, "-m", "models", "demo", "--out", str(folder / "demo")]
            times = []
            for i in range(repeats + 1):             # the first run warms the caches
                t0 = time.perf_counter()
                subprocess.run(cmd, env=env, cwd=REPO_DIR, check=True, capture_output=True, timeout=3600)
                if i:
                    times.append(time.perf_counter() - t0)
            out[label] = statistics.median(times)
            log(f"  nmdakin demo, {label:20s} {out[label]:8.2f} s (median of {repeats}, warm caches)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    out["ratio"] = out["jit (CC=/bin/false)"] / out["native"]
    log(f"  ratio {out['ratio']:.2f}")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no `nmdakin demo`")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 7
    report = {"machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                          "cpus": os.cpu_count()}}
    import numba

    report["machine"]["numba"] = numba.__version__
    report["stdp_benchmark"] = compare("STDP benchmark model (7 states, 60 pulses)", stdp_case, repeats, 1)
    report["synapse"] = compare("single synapse (115 states, 60 pairs at 1 Hz)", synapse_case,
                                max(1, repeats // 2), 1)
    if not args.quick:
        log("[nmdakin demo]")
        report["demo"] = demo_times(2)
    RESULTS_PATH.write_text(json.dumps(report, indent=1) + "\n")
    log(f"wrote {RESULTS_PATH}")


if __name__ == "__main__":
    main()
