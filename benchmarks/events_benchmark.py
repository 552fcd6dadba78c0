"""Events: the native path (C root finding + the Python event driver) against scipy's solve_ivp(events=...),
measured in the same run on the same schemes, as ratios (median of 5 runs each).

* ``reset``: A' = A, reset to 1 when A > 2 (1000 events in [0, 693.2]);
* ``ball``: a bouncing ball (h'' = -g, v -> -0.8 v at h < 0; 20 bounces).

Run: ``python benchmarks/events_benchmark.py``.
"""
from __future__ import annotations

import math
import statistics
import time

import numpy as np

import kinetics as kx


def reset_scheme():
    return kx.Scheme("reset", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 1.0, "1/ms")],
                     reactions=[kx.reaction("-> A", rate="k*A")],
                     events=[kx.Event("reset", "A > 2", {"A": "1"})])


def ball_scheme():
    return kx.Scheme("ball", species=[kx.Species("h", 1.0, nonnegative=False),
                                      kx.Species("v", 0.0, nonnegative=False)],
                     parameters=[kx.Parameter("g", 9.81, "1"), kx.Parameter("eps", 0.8, "1")],
                     rate_rules=[kx.RateRule("h", "v"), kx.RateRule("v", "-g")],
                     events=[kx.Event("bounce", "h < 0", {"h": "0", "v": "-eps*v"})], check_units=False)


def timed(scheme, t_end, method, runs=5):
    kw = dict(t_end=t_end, n_points=1001, method=method, rtol=1e-8, atol=1e-10)
    res = kx.simulate(scheme, **kw)                      # compile / warm up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        kx.simulate(scheme, **kw)
        times.append(time.perf_counter() - t)
    return statistics.median(times), res


def main():
    # the ball's 20th bounce: 0.4515 s + sum of 2 v1 0.8^n / g
    v1 = math.sqrt(2 * 9.81)
    t20 = math.sqrt(2 / 9.81) + sum(2 * v1 * 0.8 ** n / 9.81 for n in range(1, 20))
    print(f"{'case':8s} {'method':8s} {'events':>6s} {'time (s)':>9s} {'ratio to auto':>14s}")
    for name, scheme, t_end in (("reset", reset_scheme(), 693.2), ("ball", ball_scheme(), t20 + 1e-3)):
        base = None
        for method in ("auto", "RK45", "DOP853", "LSODA"):
            dt, res = timed(scheme, t_end, method)
            base = base or dt
            print(f"{name:8s} {method:8s} {res.stats['events_fired']:6d} {dt:9.4f} {dt / base:14.1f}")
        if name == "reset":
            assert np.isclose(res["A"][-1], math.exp(693.2 % math.log(2)), rtol=1e-4)


if __name__ == "__main__":
    main()
