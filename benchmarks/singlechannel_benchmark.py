#!/usr/bin/env python
"""Single-channel benchmark: one HJC log-likelihood of a 10-state mechanism on 10^4 apparent intervals,
nmdakin (``kinetics.singlechannel``) against HJCFIT (the DCPROGS C++ implementation, used as a black box).

Run from the repository root::

    python benchmarks/singlechannel_benchmark.py            # 100 repeats of each
    python benchmarks/singlechannel_benchmark.py --quick    # 10 repeats

The mechanism: 10 states (3 open) on a 2 x 5 ladder (two rows of five states, neighbours connected along each
row and across), rates generated from a seeded free-energy landscape so that microscopic reversibility holds
(``build_mechanism``). The record: simulated from the Q-matrix (``kinetics.singlechannel.simulate_record``),
resolution 25 us imposed, 10^4 - 1 apparent intervals (an odd number, from the first opening) kept. Two cases, as
HJCFIT offers: the whole record as one group with equilibrium vectors, and bursts at tcrit = 5 ms with CHS
vectors.

What is timed (median of interleaved repeats): one complete likelihood evaluation from the Q-matrix (root
finding, exact and asymptotic kernels, start/end vectors and the product over intervals) — what an optimiser
pays per step. Both likelihood objects are built once from the record beforehand (nmdakin's
``RecordLikelihood``, HJCFIT's ``Log10Likelihood``). The two values must agree to 1e-6 relative.

nmdakin warm-starts the root search of the asymptotic distributions from the previous evaluation's roots
(validated by bracketing), so three nmdakin timings are reported: the same Q again (``ratio``), the same Q with
the warm start switched off (``ratio_no_warm_start``), and a new Q each time, every rate moved by about 1 % as
in an optimiser step, against HJCFIT on the same Q's (``ratio_new_q``). The bar (issue 15): nmdakin / HJCFIT
<= 1. nmdakin runs on one core; HJCFIT is OpenMP-parallel over bursts (``--peer-threads 1`` times it on one
core too). Results go to ``benchmarks/singlechannel_results.json`` (one entry per ``--peer-threads`` setting,
with the 1-minute load average at the start: the machine may be shared).
"""
from __future__ import annotations

import argparse
import json
import math
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

RESULTS_PATH = BENCH_DIR / "singlechannel_results.json"
TRES = 25e-6
TCRIT = 5e-3
N_INTERVALS = 10_000


def build_mechanism(seed: int = 2015):
    """A reversible 10-state Q-matrix (1/s), open states first (3 open).

    States sit on a 2 x 5 ladder; each state gets a free energy G_i ~ U(0, 3) (kT) and each edge a barrier
    B_ij ~ U(3, 6) above the higher of its two states; q_ij = nu exp(-(B_ij - G_i)) with nu = 2e4 /s. Then
    q_ij / q_ji = exp(G_i - G_j): detailed balance, so every cycle is reversible.
    """
    rng = np.random.default_rng(seed)
    k = 10
    G = rng.uniform(0.0, 3.0, k)
    edges = [(r * 5 + c, r * 5 + c + 1) for r in range(2) for c in range(4)] + [(c, 5 + c) for c in range(5)]
    Q = np.zeros((k, k))
    for i, j in edges:
        top = max(G[i], G[j]) + rng.uniform(3.0, 6.0)
        Q[i, j] = 2e4 * math.exp(-(top - G[i]))
        Q[j, i] = 2e4 * math.exp(-(top - G[j]))
    np.fill_diagonal(Q, -Q.sum(axis=1))
    return Q, 3                      # states 0, 1, 2 open (the first three of the first row)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--peer-threads", type=int, default=None,
                    help="OpenMP threads of HJCFIT (default: OpenMP's default, one per core)")
    args = ap.parse_args(argv)
    repeats = 10 if args.quick else 100
    # HJCFIT is OpenMP-parallel over bursts; idle OpenMP threads must not spin and steal the CPU from the
    # nmdakin evaluation that follows (interleaved timing), so they wait passively.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if args.peer_threads:
        os.environ["OMP_NUM_THREADS"] = str(args.peer_threads)

    from kinetics.singlechannel import QMatrix, RecordLikelihood, bursts, impose_resolution, simulate_record

    Q, n_open = build_mechanism()
    q = QMatrix(Q, n_open=n_open)
    assert q.reversibility().ok
    rec = impose_resolution(simulate_record(q, 3 * N_INTERVALS, seed=7), TRES)
    first = int(np.argmax(rec.is_open))                    # start with an opening
    n = N_INTERVALS - 1                                    # an odd number: open, shut, ..., open
    d = rec.durations[first:first + n]
    amps = rec.amplitudes[first:first + n]
    whole = [d]
    grouped = bursts(type(rec)(amps, d, tres=TRES), TCRIT)
    print(f"mechanism: 10 states ({n_open} open); record: {d.size} apparent intervals at tres = {TRES * 1e6:g} us; "
          f"{len(grouped)} bursts at tcrit = {TCRIT * 1e3:g} ms")

    def ours(like):
        return like(q) / math.log(10)

    try:
        import HJCFIT.likelihood as peer
    except ImportError:            # pragma: no cover - optional peer
        peer = None
    results = {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
               "hjcfit_omp_threads": os.environ.get("OMP_NUM_THREADS", "default (one per core)"),
               "load_average_1min": os.getloadavg()[0], "n_intervals": int(d.size), "tres": TRES, "tcrit": TCRIT,
               "repeats": repeats, "cases": {}}
    for case, groups, tcrit in (("whole record, equilibrium vectors", whole, None),
                                (f"bursts (tcrit {TCRIT * 1e3:g} ms), CHS vectors", grouped, TCRIT)):
        like = RecordLikelihood(groups, TRES, tcrit)           # built once per record, as HJCFIT's Log10Likelihood
        ours(like)                                             # warm-up
        lik = None
        if peer is not None:
            pq = peer.QMatrix(Q, n_open)
            lik = peer.Log10Likelihood([g.tolist() for g in groups], n_open, TRES, tcrit)
            lik(pq)
        rng = np.random.default_rng(11)
        steps = []                                             # optimiser-like: a new Q each evaluation
        for _ in range(repeats):
            Qp = Q * np.exp(rng.normal(0.0, 0.01, Q.shape))    # every rate moved by about 1 %
            np.fill_diagonal(Qp, 0.0)
            np.fill_diagonal(Qp, -Qp.sum(axis=1))
            steps.append(Qp)
        t_ours, t_cold, t_step, t_peer, t_peer_step = [], [], [], [], []
        for i in range(repeats):                               # interleaved, so load changes hit both alike
            t = time.perf_counter()
            mine = ours(like)                                  # same Q: root search warm-started
            t_ours.append(time.perf_counter() - t)
            like._roots = None                                 # no warm start: roots from the grid search
            t = time.perf_counter()
            ours(like)
            t_cold.append(time.perf_counter() - t)
            qp = QMatrix(steps[i], n_open=n_open)
            t = time.perf_counter()
            like(qp)                                           # a new Q, warm start from the previous one
            t_step.append(time.perf_counter() - t)
            like(q)
            if lik is not None:
                t = time.perf_counter()
                theirs = lik(pq)
                t_peer.append(time.perf_counter() - t)
                pqp = peer.QMatrix(steps[i], n_open)
                t = time.perf_counter()
                lik(pqp)
                t_peer_step.append(time.perf_counter() - t)
        row = {"log10_likelihood": mine, "seconds_nmdakin": float(np.median(t_ours)),
               "seconds_nmdakin_no_warm_start": float(np.median(t_cold)),
               "seconds_nmdakin_new_q": float(np.median(t_step))}
        if lik is not None:
            row.update(log10_likelihood_hjcfit=float(theirs), seconds_hjcfit=float(np.median(t_peer)),
                       seconds_hjcfit_new_q=float(np.median(t_peer_step)),
                       ratio=float(np.median(t_ours) / np.median(t_peer)),
                       ratio_no_warm_start=float(np.median(t_cold) / np.median(t_peer)),
                       ratio_new_q=float(np.median(t_step) / np.median(t_peer_step)),
                       relative_difference=abs(mine - theirs) / abs(theirs))
        t_ours = row["seconds_nmdakin"]
        results["cases"][case] = row
        line = f"{case}: log10 L = {mine:.10g}, nmdakin {t_ours * 1e3:.2f} ms"
        if peer is not None:
            line += (f", HJCFIT {row['seconds_hjcfit'] * 1e3:.2f} ms (log10 L {row['log10_likelihood_hjcfit']:.10g}, "
                     f"rel. diff {row['relative_difference']:.1e}); ratio nmdakin/HJCFIT = {row['ratio']:.2f} "
                     f"(no warm start {row['ratio_no_warm_start']:.2f}; a new Q each time {row['ratio_new_q']:.2f})")
        print(line)
    if not args.no_save:
        saved = json.loads(RESULTS_PATH.read_text()) if RESULTS_PATH.exists() else {}
        saved[f"hjcfit_threads={args.peer_threads or 'default'}"] = results
        RESULTS_PATH.write_text(json.dumps(saved, indent=2) + "\n")
        print(f"results: {RESULTS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
