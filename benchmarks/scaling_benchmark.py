"""Scaling benchmark (issue 12, item 4): time per solve against the number of states, nmdakin and libRoadRunner
in the same run.

Three groups of models, all solved at rtol 1e-7, atol 1e-9 on ``[0, t_end]`` with 2001 output points:

* **library** — every scheme builder of the model library that builds without arguments
  (``models.registry.available("scheme")``), driven by ten 1 ms, 1 mM pulses at 10 Hz of its transmitter input
  (``glu``, ``glu_pre``, ``spike_pre`` or ``Ca``) where it has one, else its free time course; the composed
  synapse by ten pre/post pairings at 10 Hz (+10 ms, :func:`models.synapse.protocol`). ``t_end`` 1000 ms
  (``skolnick1996.chronic_scheme`` runs in days: 60 days).
* **stiff family** — a linear chain ``X0 <-> X1 <-> ... <-> X(n-1)`` whose 2(n-1) rate constants are drawn
  log-uniformly over four decades (0.01-100 /ms, ``numpy.random.default_rng(n)``), the first step gated by
  ``glu``, starting from the uniform distribution (from all mass in ``X0``, libRoadRunner's CVODE stops with
  "initial ewt has component(s) equal to zero" from n = 200): stiffness ratio ~1e4 over a 1000 ms run;
  n = 10 ... 1000.
* **non-stiff family** — n/5 independent five-state receptors (Destexhe et al. 1994 five-state NMDA scheme,
  each with its rates scaled by factors in [0.5, 2]), all driven by the same glutamate pulses; n = 10 ... 1000.

For each model: the SBML that ``kinetics.export(scheme, "sbml", protocol=..., t_end=...)`` writes (the protocol
as events) is loaded by libRoadRunner (CVODE); timed is the best of ``--repeats`` ``resetAll()`` +
``simulate(times=grid)`` after one untimed run, and for nmdakin the best of as many ``kinetics.simulate(...)``
calls (method ``auto``) after one untimed call (compilation excluded for both; the best, not the median, because
the machine is shared and the shortest time is the least disturbed). Accuracy: the largest absolute error over
the grid and all states, scaled by the largest state value, of both tools against a reference solved by
libRoadRunner at rtol 1e-11, atol 1e-13 (scipy's LSODA at the same tolerances where CVODE refuses to start:
"initial ewt has components equal to zero" on the long chains; the results say which).

    python benchmarks/scaling_benchmark.py                  # everything (about 10 minutes on 2 cores)
    python benchmarks/scaling_benchmark.py --quick          # fewer sizes, 3 repeats
    python benchmarks/scaling_benchmark.py --figure-only    # redraw the figure from the results

Writes ``benchmarks/scaling_results.json`` and the figure ``benchmarks/scaling.png``.
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
sys.path.insert(0, str(REPO_DIR))

RTOL, ATOL = 1e-7, 1e-9
REF_RTOL, REF_ATOL = 1e-11, 1e-13
N_POINTS = 2001
T_END = 1000.0
#: The transmitter inputs the library's schemes are driven by (the first one a scheme has).
DRIVEN_INPUTS = ("glu", "glu_pre", "spike_pre", "Ca")
SIZES = (10, 20, 50, 100, 200, 500, 1000)
QUICK_SIZES = (10, 50, 200, 500)


def pulse_protocol(name: str):
    from kinetics.protocol import Protocol, pulses, regular_train

    return Protocol([pulses(name, regular_train(10, 10.0), amplitude=1.0, width=1.0)])


def library_cases():
    """``(label, scheme, protocol, t_end)`` of every scheme builder of the library that needs no argument."""
    from models import registry, synapse

    for entry in registry.available("scheme"):
        try:
            scheme = entry.load()()
        except TypeError:
            continue                                     # needs arguments (a drug, a receptor): not a library scheme
        except Exception as exc:                         # noqa: BLE001 - e.g. "`receptor` is required"
            if "required" in str(exc):
                continue
            raise
        if entry.name == "synapse.scheme":
            pre = [100.0 * k for k in range(10)]
            yield entry.name, scheme, synapse.protocol(pre, [t + 10.0 for t in pre]), T_END
            continue
        driven = next((u for u in DRIVEN_INPUTS if u in scheme.input_names), None)
        t_end = 60.0 if entry.name == "skolnick1996.chronic_scheme" else T_END
        yield entry.name, scheme, pulse_protocol(driven) if driven else None, t_end


def stiff_chain(n: int):
    """A linear chain of ``n`` states, rates log-uniform over 0.01-100 /ms, the first step gated by ``glu``."""
    import kinetics as kx

    rng = np.random.default_rng(n)
    kf = 10.0 ** rng.uniform(-2.0, 2.0, n - 1)
    kb = 10.0 ** rng.uniform(-2.0, 2.0, n - 1)
    species = [kx.Species(f"X{i}", 1.0 / n, unit="1") for i in range(n)]
    params, reactions = [], []
    for i in range(n - 1):
        params += [kx.Parameter(f"kf{i}", float(kf[i]), "1/ms" if i else "1/(mM*ms)"),
                   kx.Parameter(f"kb{i}", float(kb[i]), "1/ms")]
        rate = f"kf{i}*glu" if i == 0 else f"kf{i}"
        reactions.append(kx.reaction(f"X{i} <-> X{i + 1}", rate, f"kb{i}"))
    return kx.Scheme(f"stiff_chain_{n}", species=species, parameters=params, reactions=reactions,
                     inputs=[kx.Input("glu", 0.0, "mM")])


def receptor_bank(n: int):
    """``n // 5`` independent Destexhe five-state receptors (rates scaled by factors in [0.5, 2]) sharing ``glu``."""
    import dataclasses

    import kinetics as kx
    from models import destexhe1994

    base = destexhe1994.five_state()
    rng = np.random.default_rng(n)
    parts = []
    for r in range(n // 5):
        mapping = {x: f"{x}_{r}" for x in (*base.species_names, *base.parameter_names, *base.observable_names)}
        part = base.rename(mapping, name=f"receptor_{r}")
        scaled = [dataclasses.replace(p, value=p.value * float(2.0 ** rng.uniform(-1.0, 1.0)))
                  for p in part.parameters]
        reactions = [dataclasses.replace(rx, name=f"{rx.name}_{r}") for rx in part.reactions]
        parts.append(part.replace(parameters=tuple(scaled), reactions=tuple(reactions)))
    return kx.compose(parts, name=f"receptor_bank_{n}")


def _best_time(fn, repeats: int) -> float:
    """The shortest of ``repeats`` timed calls after an untimed one (the least disturbed by other processes on a
    shared machine, as :mod:`timeit` recommends)."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def measure(label, scheme, protocol, t_end, repeats):
    import roadrunner

    import kinetics as kx

    grid = np.linspace(0.0, t_end, N_POINTS)
    names = list(scheme.species_names)
    sbml = kx.export(scheme, "sbml", protocol=protocol, t_end=t_end)

    def rr_run(rr):
        rr.resetAll()
        out = rr.simulate(times=grid.tolist())
        cols = {c.strip("[]"): j for j, c in enumerate(out.colnames)}
        return np.asarray(out)[:, [cols[n] for n in names]]

    rr = roadrunner.RoadRunner(sbml)
    rr.integrator.relative_tolerance, rr.integrator.absolute_tolerance = RTOL, ATOL
    rr.integrator.setValue("maximum_num_steps", 1_000_000)
    ref = roadrunner.RoadRunner(sbml)
    ref.integrator.setValue("maximum_num_steps", 10_000_000)
    ref.integrator.relative_tolerance, ref.integrator.absolute_tolerance = REF_RTOL, REF_ATOL
    try:
        y_ref, reference = rr_run(ref), "roadrunner"
    except RuntimeError:       # CVODE: "Initial ewt has component(s) equal to zero" on the long chains
        tight = kx.simulate(scheme, protocol, t_end=t_end, t_eval=grid, rtol=REF_RTOL, atol=REF_ATOL,
                            method="LSODA")
        y_ref, reference = np.column_stack([tight[n] for n in names]), "scipy LSODA"

    def nk_run():
        return kx.simulate(scheme, protocol, t_end=t_end, t_eval=grid, rtol=RTOL, atol=ATOL)

    res = nk_run()
    y_nk = np.column_stack([res[n] for n in names])
    y_rr = rr_run(rr)
    scale = max(float(np.abs(y_ref).max()), 1e-300)
    t_nk = _best_time(nk_run, repeats)
    t_rr = _best_time(lambda: rr_run(rr), repeats)
    stats = dict(res.stats)
    row = {"model": label, "states": len(names), "nmdakin_ms": 1e3 * t_nk, "roadrunner_ms": 1e3 * t_rr,
           "ratio": t_nk / t_rr, "nmdakin_err": float(np.abs(y_nk - y_ref).max() / scale),
           "roadrunner_err": float(np.abs(y_rr - y_ref).max() / scale), "reference": reference,
           "rodas_steps": int(stats.get("rodas_steps", 0)), "steps": int(stats.get("steps", 0)),
           "lu": int(stats.get("lu_decompositions", 0))}
    print(f"{label:40s} {row['states']:5d} {row['nmdakin_ms']:10.2f} {row['roadrunner_ms']:10.2f} "
          f"{row['ratio']:7.3f}   {row['nmdakin_err']:9.2e} {row['roadrunner_err']:9.2e}  "
          f"steps {row['steps']} (rodas {row['rodas_steps']}, LU {row['lu']})", flush=True)
    return row


def figure(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), constrained_layout=True)
    lib = sorted((r for r in rows if r["group"] == "library"), key=lambda r: r["states"])
    ax = axes[0]
    ax.loglog([r["states"] for r in lib], [r["nmdakin_ms"] for r in lib], "o", color="#0072B2", label="nmdakin")
    ax.loglog([r["states"] for r in lib], [r["roadrunner_ms"] for r in lib], "s", color="#D55E00",
              label="libRoadRunner (CVODE)", markerfacecolor="none")
    ax.set_title("the library's schemes")
    for ax, group, title in ((axes[1], "stiff", "stiff chains (rates over four decades)"),
                             (axes[2], "non-stiff", "independent five-state receptors")):
        sel = [r for r in rows if r["group"] == group]
        n = [r["states"] for r in sel]
        ax.loglog(n, [r["nmdakin_ms"] for r in sel], "o-", color="#0072B2", label="nmdakin")
        ax.loglog(n, [r["roadrunner_ms"] for r in sel], "s--", color="#D55E00", label="libRoadRunner (CVODE)")
        ax.set_title(title)
    for ax in axes:
        ax.set_xlabel("number of states")
        ax.set_ylabel("time per solve [ms]")
        ax.legend()
    fig.suptitle(f"Time per solve (1000 ms, 10 pulses at 10 Hz, {N_POINTS} points, rtol {RTOL:g}, atol {ATOL:g})")
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="sizes 10, 50, 200, 500 and 3 repeats")
    ap.add_argument("--repeats", type=int, default=None, help="timed calls per tool and model (default 7)")
    ap.add_argument("--no-json", action="store_true", help="do not write the results and figure")
    ap.add_argument("--figure-only", action="store_true", help="redraw the figure from scaling_results.json")
    args = ap.parse_args(argv)
    if args.figure_only:
        figure(json.loads((BENCH_DIR / "scaling_results.json").read_text())["rows"], BENCH_DIR / "scaling.png")
        return 0
    repeats = args.repeats or (3 if args.quick else 7)
    sizes = QUICK_SIZES if args.quick else SIZES
    import roadrunner

    print(f"{'model':40s} {'n':>5s} {'nmdakin ms':>10s} {'rr ms':>10s} {'ratio':>7s}   {'nk err':>9s} {'rr err':>9s}")
    rows = []
    for label, scheme, protocol, t_end in library_cases():
        rows.append({"group": "library", **measure(label, scheme, protocol, t_end, repeats)})
    for n in sizes:
        rows.append({"group": "stiff", **measure(f"stiff chain {n}", stiff_chain(n), pulse_protocol("glu"),
                                                 T_END, repeats)})
    for n in sizes:
        rows.append({"group": "non-stiff", **measure(f"receptor bank {n}", receptor_bank(n),
                                                     pulse_protocol("glu"), T_END, repeats)})
    summary = {
        "library_max_ratio": max(r["ratio"] for r in rows if r["group"] == "library"),
        "stiff_50_500_max_ratio": max((r["ratio"] for r in rows if r["group"] == "stiff"
                                       and 50 <= r["states"] <= 500), default=None),
        "non_stiff_max_ratio": max(r["ratio"] for r in rows if r["group"] == "non-stiff"),
    }
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(json.dumps(summary, indent=1))
    if load is not None:
        print(f"1-min load average at the end: {load:.2f} on {os.cpu_count()} cores")
    if not args.no_json:
        out = {"machine": {"python": platform.python_version(), "platform": platform.platform(),
                           "cpus": os.cpu_count(), "roadrunner": roadrunner.__version__, "load_avg_end": load},
               "settings": {"rtol": RTOL, "atol": ATOL, "n_points": N_POINTS, "repeats": repeats},
               "rows": rows, "summary": summary}
        (BENCH_DIR / "scaling_results.json").write_text(json.dumps(out, indent=1) + "\n")
        figure(rows, BENCH_DIR / "scaling.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
