"""Start-up benchmark (issue 12): the first ``simulate()`` in a fresh process, cold and warm, against
libRoadRunner's load + first simulate of the same SBML.

Two models: the 115-state composed synapse (``models.synapse.scheme()``, a +10 ms pre/post pairing,
``t_end`` 200 ms) and the 7-state STDP benchmark model (``benchmarks/stdp_model.py``, 60 pulses, 60 s).

Every measurement runs a fresh ``python -c`` process:

* **nmdakin cold**: ``$NMDAKIN_CACHE_DIR`` is a new, empty folder: the first ``simulate()`` derives the equations,
  generates C and compiles it.
* **nmdakin warm**: the same folder again, filled by the cold process: the compiled model is found by its code
  identity (structure key + code generator) and loaded.
* **roadrunner**: ``roadrunner.RoadRunner(sbml)`` + the first ``simulate`` of the SBML that
  ``kinetics.export(scheme, "sbml", protocol=..., t_end=...)`` writes (the protocol as events); libRoadRunner
  JIT-compiles in every process (it has no on-disk cache), so it has no cold/warm difference.

Each child reports the time to import its package, to build the scheme and protocol (nmdakin) or to load the
model (roadrunner), and of the first simulate call; the parent reports the process wall time too. Ratios are
**nmdakin first simulate() / roadrunner load + first simulate**, and the same with the import included.

    python benchmarks/startup_benchmark.py                 # 3 repeats (medians)
    python benchmarks/startup_benchmark.py --repeats 5
    python benchmarks/startup_benchmark.py --tree /path/to/other/checkout   # time another source tree (before/after)
    python benchmarks/startup_benchmark.py --cflags=-O1,-O2                 # compile time and solve speed per flag

Writes ``benchmarks/startup_results.json`` unless ``--no-json`` (or ``--tree`` is given).
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
import textwrap
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent

#: How each child builds its model: (scheme, protocol, t_end).
MODELS = {
    "synapse (115 states)": """
        from models import synapse
        scheme = synapse.scheme()
        protocol = synapse.protocol([10.0], [20.0])
        t_end = 200.0
        if {long!r}:    # --cflags times the solver on the Sjostrom et al. (2001) +10 ms, 50 Hz protocol (15 bursts)
            from models.experiments import sjostrom_protocol
            pre, post = sjostrom_protocol(10.0, 50.0)
            protocol, t_end = synapse.protocol(pre, post), max(pre + post) + 500.0
    """,
    "STDP model (7 states)": """
        sys.path.insert(0, {bench!r})
        import stdp_model as M
        scheme = M.build_scheme()
        protocol = M.build_protocol()
        t_end = M.T_END
    """,
}

NMDAKIN_CHILD = """
    import json, sys, time
    t0 = time.perf_counter()
    import kinetics
    t1 = time.perf_counter()
{model}
    t2 = time.perf_counter()
    res = kinetics.simulate(scheme, protocol, t_end=t_end)
    obs = {{n: float(res[n][-1]) for n in res.observable_names[:3]}}
    t3 = time.perf_counter()
    print("@@" + json.dumps({{"import": t1 - t0, "build": t2 - t1, "simulate": t3 - t2, "method": res.method,
                             "n_states": len(scheme.species)}}))
"""

SBML_CHILD = """
    import json, sys
    import kinetics
{model}
    open({path!r}, "w").write(kinetics.export(scheme, "sbml", protocol=protocol, t_end=t_end))
    print("@@" + json.dumps({{"t_end": t_end}}))
"""

ROADRUNNER_CHILD = """
    import json, time
    t0 = time.perf_counter()
    import roadrunner
    t1 = time.perf_counter()
    rr = roadrunner.RoadRunner({path!r})
    t2 = time.perf_counter()
    out = rr.simulate(0.0, {t_end!r}, 1001)
    t3 = time.perf_counter()
    print("@@" + json.dumps({{"import": t1 - t0, "load": t2 - t1, "simulate": t3 - t2}}))
"""

CFLAGS_CHILD = """
    import json, statistics, sys, time
    import kinetics
    from kinetics import native
    native.CFLAGS = ({flag!r},) + native.CFLAGS[1:]
{model}
    m = kinetics.compile(scheme)
    t0 = time.perf_counter()
    m.native_solver()
    t1 = time.perf_counter()
    kinetics.simulate(scheme, protocol, t_end=t_end)
    times = []
    for _ in range(7):
        a = time.perf_counter()
        kinetics.simulate(scheme, protocol, t_end=t_end)
        times.append(time.perf_counter() - a)
    print("@@" + json.dumps({{"build": t1 - t0, "solve": statistics.median(times)}}))
"""


def child(code: str, env_extra: dict, tree: Path) -> dict:
    """Run ``code`` in a fresh interpreter; its last ``@@``-line (JSON) plus the process wall time."""
    env = dict(os.environ, MPLBACKEND="Agg", **env_extra,
               PYTHONPATH=os.pathsep.join([str(tree)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH")
                                                         else [])))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=str(tree),
                          capture_output=True, text=True, timeout=1200)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"child process failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("@@")][-1]
    return {**json.loads(line[2:]), "process": wall}


def model_code(name: str, long: bool = False) -> str:
    return textwrap.indent(textwrap.dedent(MODELS[name]).format(bench=str(BENCH_DIR), long=long), "    ")


def median_of(runs: list) -> dict:
    keys = [k for k, v in runs[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    out = {k: statistics.median(r[k] for r in runs) for k in keys}
    out.update({k: v for k, v in runs[0].items() if k not in keys})
    out["runs"] = [{k: r[k] for k in keys} for r in runs]
    return out


def measure_nmdakin(name: str, repeats: int, tree: Path) -> tuple:
    """(cold, warm): medians over ``repeats`` fresh processes each (a new cache folder per cold run)."""
    code = NMDAKIN_CHILD.format(model=model_code(name))
    cold, warm = [], []
    for _ in range(repeats):
        cache = Path(tempfile.mkdtemp(prefix="nmdakin-startup-"))
        try:
            cold.append(child(code, {"NMDAKIN_CACHE_DIR": str(cache / "c")}, tree))
            warm.append(child(code, {"NMDAKIN_CACHE_DIR": str(cache / "c")}, tree))
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    return median_of(cold), median_of(warm)


def measure_roadrunner(name: str, repeats: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="nmdakin-startup-sbml-"))
    try:
        path = tmp / "model.xml"
        info = child(SBML_CHILD.format(model=model_code(name), path=str(path)),
                     {"NMDAKIN_CACHE_DIR": str(tmp / "c")}, REPO_DIR)
        code = ROADRUNNER_CHILD.format(path=str(path), t_end=info["t_end"])
        runs = [child(code, {}, REPO_DIR) for _ in range(repeats)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = median_of(runs)
    out["load_simulate"] = statistics.median(r["load"] + r["simulate"] for r in runs)
    return out


def measure_cflags(name: str, flags: list, tree: Path) -> dict:
    out = {}
    for flag in flags:
        tmp = Path(tempfile.mkdtemp(prefix="nmdakin-startup-flags-"))
        try:
            out[flag] = child(CFLAGS_CHILD.format(model=model_code(name, long=True), flag=flag),
                              {"NMDAKIN_CACHE_DIR": str(tmp / "c")}, tree)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="fresh processes per measurement (default 3; medians)")
    ap.add_argument("--tree", type=Path, default=None,
                    help="time the kinetics/models packages of this source tree instead (no roadrunner, no JSON)")
    ap.add_argument("--cflags", default=None,
                    help="instead: compile time and median solve time per optimisation flag, e.g. --cflags=-O1,-O2")
    ap.add_argument("--no-json", action="store_true", help="do not write benchmarks/startup_results.json")
    args = ap.parse_args(argv)
    repeats = max(1, args.repeats)
    tree = (args.tree or REPO_DIR).resolve()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    if args.cflags is not None:
        flags = [f for f in args.cflags.split(",") if f] or ["-O1", "-O2"]
        print(f"{'model':24s} {'flag':5s} {'build s':>8s} {'solve ms':>9s}")
        for name in MODELS:
            for flag, r in measure_cflags(name, flags, tree).items():
                print(f"{name:24s} {flag:5s} {r['build']:8.2f} {1e3 * r['solve']:9.2f}")
        return 0

    results = {"benchmark": "first simulate() in a fresh process (benchmarks/startup_benchmark.py)",
               "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "tree": str(tree), "repeats": repeats,
               "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                           "python": platform.python_version(), "loadavg_start": load},
               "models": {}}
    rows = []
    for name in MODELS:
        cold, warm = measure_nmdakin(name, repeats, tree)
        rr = measure_roadrunner(name, repeats) if args.tree is None else None
        results["models"][name] = {"cold": cold, "warm": warm, "roadrunner": rr}
        rows.append((name, cold, warm, rr))

    print(f"median of {repeats} fresh processes; seconds")
    head = (f"{'model':24s} {'run':12s} {'import':>7s} {'build':>7s} {'simulate':>9s} {'process':>8s}"
            f" {'ratio':>7s} {'ratio+import':>13s}")
    print(head)
    print("-" * len(head))
    for name, cold, warm, rr in rows:
        for kind, r in (("cold", cold), ("warm", warm)):
            ratio = r["simulate"] / rr["load_simulate"] if rr else float("nan")
            ratio_imp = (r["import"] + r["simulate"]) / (rr["import"] + rr["load_simulate"]) if rr else float("nan")
            print(f"{name:24s} {'nmdakin ' + kind:12s} {r['import']:7.3f} {r['build']:7.3f} {r['simulate']:9.3f}"
                  f" {r['process']:8.3f} {ratio:7.3f} {ratio_imp:13.3f}")
        if rr:
            print(f"{name:24s} {'roadrunner':12s} {rr['import']:7.3f} {rr['load']:7.3f} {rr['simulate']:9.3f}"
                  f" {rr['process']:8.3f}")
    print("-" * len(head))
    print("build: scheme + protocol (nmdakin), SBML load + JIT (roadrunner); ratio: nmdakin simulate() / roadrunner "
          "load + simulate; ratio+import: the same with each package's import")
    end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    results["machine"]["loadavg_end"] = end
    if max(load, end) > (os.cpu_count() or 1) / 2:
        print(f"note: 1-min load average {max(load, end):.2f} on {os.cpu_count()} cores: timings may be inflated")
    if args.tree is None and not args.no_json:
        (BENCH_DIR / "startup_results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
