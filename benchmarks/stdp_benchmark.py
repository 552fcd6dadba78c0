#!/usr/bin/env python
"""Performance benchmark of nmdakin (``kinetics``) on the STDP benchmark model.

Run from the repository root::

    python benchmarks/stdp_benchmark.py              # full run
    python benchmarks/stdp_benchmark.py --quick      # skip the slow scipy solvers, fewer repeats/sets

What is measured (see benchmarks/README.md):

1. libRoadRunner (CVODE, rtol 1e-7, atol 1e-9) on the same model written as
   SBML L3V2 with the 60 pulses as 120 events: median over repeats of
   ``resetAll() + simulate(times=grid)``; model build/JIT not included.
2. A scipy reference (DOP853, rtol 1e-11, atol 1e-13) integrated piecewise,
   never across a pulse edge, with a numpy right-hand side written here from
   the equations (independent of nmdakin). Cached in ``benchmarks/.cache``.
3. Accuracy of every tool against the reference.
4. nmdakin ``kinetics.simulate`` (native fast path): median over repeats after
   one warm-up call; cold/warm first-call times in fresh processes.
5. A 1000-set (Rb, Ro) sweep: roadrunner sequential loop vs ``kinetics.sweep``.
6. scipy LSODA/BDF (numpy RHS, piecewise) and nmdakin ``method="LSODA"`` for context.

Ratios are nmdakin time / roadrunner time: below 1 means nmdakin is faster.
Results go to ``benchmarks/results.json``.
"""
from __future__ import annotations

import argparse
import hashlib
import inspect
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
import traceback
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
for _p in (str(BENCH_DIR), str(REPO_DIR)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import stdp_model as M  # noqa: E402

CACHE_DIR = BENCH_DIR / ".cache"
RESULTS_PATH = BENCH_DIR / "results.json"

REF_METHOD = "DOP853"
REF_RTOL = 1e-11
REF_ATOL = 1e-13
#: Bump when the reference computation changes in a way the hash cannot see.
REF_VERSION = 1

RR_AGREEMENT = 1e-4       # roadrunner vs reference, max abs error over the trajectory
SWEEP_CHECK_RTOL = 1e-4   # sweep rows vs roadrunner final state ...
SWEEP_CHECK_ATOL = 1e-7   # ... plus this absolute slack (100 x atol) for near-zero states
N_STATES = len(M.STATE_NAMES)
I_O = M.STATE_NAMES.index("O")
I_RHO = M.STATE_NAMES.index("rho")


# =============================================================================== helpers
def log(msg=""):
    print(msg, flush=True)


def median_time(fn, repeats):
    """Median and min wall time (s) of ``fn()`` over ``repeats`` calls; also the last return value."""
    times, out = [], None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return {"median": statistics.median(times), "min": min(times), "repeats": len(times), "all": times}, out


def accuracy(Y, Yref):
    """Final-rho and peak-O relative errors and the max abs error over all states and grid points."""
    Y = np.asarray(Y, dtype=float)
    rho_ref, o_ref = Yref[-1, I_RHO], Yref[:, I_O].max()
    err = np.abs(Y - Yref)
    return {
        "final_rho": float(Y[-1, I_RHO]),
        "final_rho_rel_err": float(abs(Y[-1, I_RHO] - rho_ref) / abs(rho_ref)),
        "peak_O": float(Y[:, I_O].max()),
        "peak_O_rel_err": float(abs(Y[:, I_O].max() - o_ref) / abs(o_ref)),
        "max_abs_err": float(err.max()),
        "max_abs_err_per_state": {n: float(err[:, j].max()) for j, n in enumerate(M.STATE_NAMES)},
    }


def fmt_s(x):
    return "-" if x is None else f"{x * 1e3:10.2f}"


def fmt_e(x):
    return "-" if x is None else f"{x:.2e}"


# =============================================================================== numpy model
def make_rhs(p):
    """Right-hand side ``f(t, y, glu)`` and Jacobian ``J(t, y, glu)`` written from the model equations."""
    Rb, Ru, Rd, Rr, Ro, Rc = (p[k] for k in ("Rb", "Ru", "Rd", "Rr", "Ro", "Rc"))
    B = 1.0 / (1.0 + np.exp(-0.062 * p["V"]) * p["Mg"] / 3.57)
    k_ca, tau_ca, tau = p["k_ca"], p["tau_ca"], p["tau"]
    rho_star, g_p, g_d, th_p, th_d, w = (p[k] for k in ("rho_star", "gamma_p", "gamma_d", "theta_p", "theta_d", "w"))

    def rhs(t, y, glu):
        C0, C1, C2, D, O, Ca, rho = y
        a = Rb * glu
        f01 = a * C0 - Ru * C1
        f12 = a * C1 - Ru * C2
        f2d = Rd * C2 - Rr * D
        f2o = Ro * C2 - Rc * O
        s_p = 1.0 / (1.0 + np.exp(-(Ca - th_p) / w))
        s_d = 1.0 / (1.0 + np.exp(-(Ca - th_d) / w))
        return np.array([
            -f01,
            f01 - f12,
            f12 - f2d - f2o,
            f2d,
            f2o,
            k_ca * O * B - Ca / tau_ca,
            (-rho * (1 - rho) * (rho_star - rho) + g_p * (1 - rho) * s_p - g_d * rho * s_d) / tau,
        ])

    def jac(t, y, glu):
        C0, C1, C2, D, O, Ca, rho = y
        a = Rb * glu
        J = np.zeros((7, 7))
        J[0, 0], J[0, 1] = -a, Ru
        J[1, 0], J[1, 1], J[1, 2] = a, -Ru - a, Ru
        J[2, 1], J[2, 2], J[2, 3], J[2, 4] = a, -Ru - Rd - Ro, Rr, Rc
        J[3, 2], J[3, 3] = Rd, -Rr
        J[4, 2], J[4, 4] = Ro, -Rc
        J[5, 4], J[5, 5] = k_ca * B, -1.0 / tau_ca
        s_p = 1.0 / (1.0 + np.exp(-(Ca - th_p) / w))
        s_d = 1.0 / (1.0 + np.exp(-(Ca - th_d) / w))
        J[6, 5] = (g_p * (1 - rho) * s_p * (1 - s_p) / w - g_d * rho * s_d * (1 - s_d) / w) / tau
        J[6, 6] = (-((1 - 2 * rho) * (rho_star - rho) - rho * (1 - rho)) - g_p * s_p - g_d * s_d) / tau
        return J

    return rhs, jac


def segments():
    """Boundaries (0, t_0, t_0+1, t_1, ..., t_59+1, T_END) and the constant glu of each segment."""
    tk = M.pulse_times()
    edges = np.column_stack([tk, tk + M.PULSE_WIDTH]).ravel()
    bounds = np.concatenate([[0.0], edges, [M.T_END]])
    glu = np.array([0.0] + [M.PULSE_AMPLITUDE, 0.0] * len(tk))
    return bounds, glu


def solve_piecewise(method, rtol, atol, grid, params=None, use_jac=True):
    """scipy ``solve_ivp`` restarted at every pulse start and end; states on ``grid`` and counters."""
    from scipy.integrate import solve_ivp

    rhs, jac = make_rhs(params or M.PARAMETERS)
    bounds, glu = segments()
    y = np.array([M.INITIAL_STATE[n] for n in M.STATE_NAMES], dtype=float)
    out = np.full((len(grid), N_STATES), np.nan)
    nfev = njev = nsteps = 0
    kw = {"jac": jac} if (use_jac and method in ("Radau", "BDF", "LSODA")) else {}
    for s in range(len(bounds) - 1):
        a, b = bounds[s], bounds[s + 1]
        last = s == len(bounds) - 2
        # grid points in [a, b) belong to this segment (right-continuous); T_END to the last one
        mask = (grid >= a) & ((grid <= b) if last else (grid < b))
        sol = solve_ivp(rhs, (a, b), y, method=method, rtol=rtol, atol=atol, args=(glu[s],),
                        dense_output=bool(mask.any()), **kw)
        if not sol.success:
            raise RuntimeError(f"solve_ivp {method} failed on [{a}, {b}]: {sol.message}")
        nfev += sol.nfev
        njev += sol.njev
        nsteps += len(sol.t) - 1
        if mask.any():
            tq = grid[mask]
            vals = sol.sol(tq).T
            vals[tq == a] = y            # exact initial value of the segment
            vals[tq == b] = sol.y[:, -1]  # exact end value
            out[mask] = vals
        y = sol.y[:, -1].copy()
    assert not np.isnan(out).any()
    return out, {"nfev": int(nfev), "njev": int(njev), "nsteps": int(nsteps)}


def reference(grid, refresh=False):
    """The reference trajectory on ``grid`` (cached, keyed by a hash of everything that shapes it)."""
    import scipy

    key_src = json.dumps({
        "version": REF_VERSION, "method": REF_METHOD, "rtol": REF_RTOL, "atol": REF_ATOL,
        "params": M.PARAMETERS, "initial": M.INITIAL_STATE, "states": M.STATE_NAMES,
        "pulses": M.pulse_times().tolist(), "width": M.PULSE_WIDTH, "amp": M.PULSE_AMPLITUDE,
        "t_end": M.T_END, "grid": hashlib.sha256(np.ascontiguousarray(grid).tobytes()).hexdigest(),
        "code": inspect.getsource(make_rhs) + inspect.getsource(solve_piecewise) + inspect.getsource(segments),
        "scipy": scipy.__version__,
    }, sort_keys=True)
    key = hashlib.sha256(key_src.encode()).hexdigest()[:20]
    path = CACHE_DIR / "reference.npz"
    if path.exists() and not refresh:
        try:
            with np.load(path) as z:
                if str(z["key"]) == key:
                    return z["y"], {"cached": True, "key": key, "seconds": float(z["seconds"]),
                                    **json.loads(str(z["info"]))}
        except Exception:  # corrupt cache: recompute
            pass
    log(f"computing the reference ({REF_METHOD}, rtol {REF_RTOL:g}, atol {REF_ATOL:g}); cached afterwards ...")
    t0 = time.perf_counter()
    Y, info = solve_piecewise(REF_METHOD, REF_RTOL, REF_ATOL, grid)
    secs = time.perf_counter() - t0
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = CACHE_DIR / "reference.tmp.npz"
    np.savez(tmp, y=Y, key=key, seconds=secs, info=json.dumps(info))
    os.replace(tmp, path)
    return Y, {"cached": False, "key": key, "seconds": secs, **info}


# =============================================================================== roadrunner
def build_sbml(probe=False):
    """The model as SBML L3V2: 7 species (Ca, rho by rate rules), glu a parameter set by 120 events.

    ``probe=True`` adds a parameter ``glu_int`` with ``d glu_int/dt = glu`` used only by the
    event check (its value after the run must equal 60 pulses x 1 ms x 1 mM).
    """
    import libsbml

    def ok(code, what):
        if code != libsbml.LIBSBML_OPERATION_SUCCESS:
            raise RuntimeError(f"libsbml failed to {what}: {libsbml.OperationReturnValue_toString(code)}")

    def math(formula):
        ast = libsbml.parseL3Formula(formula)
        if ast is None:
            raise RuntimeError(f"libsbml cannot parse {formula!r}: {libsbml.getLastParseL3Error()}")
        return ast

    doc = libsbml.SBMLDocument(3, 2)
    m = doc.createModel()
    ok(m.setId("stdp_benchmark"), "set the model id")
    c = m.createCompartment()
    ok(c.setId("cell"), "create the compartment"); c.setSize(1.0); c.setConstant(True); c.setSpatialDimensions(3)
    for n in M.STATE_NAMES:
        s = m.createSpecies()
        ok(s.setId(n), f"create species {n}")
        s.setCompartment("cell"); s.setInitialConcentration(float(M.INITIAL_STATE[n]))
        s.setHasOnlySubstanceUnits(False); s.setBoundaryCondition(False); s.setConstant(False)
    for n, v in M.PARAMETERS.items():
        p = m.createParameter()
        ok(p.setId(n), f"create parameter {n}"); p.setValue(float(v)); p.setConstant(True)
    p = m.createParameter(); p.setId("glu"); p.setValue(0.0); p.setConstant(False)
    p = m.createParameter(); p.setId("B"); p.setConstant(True)
    ia = m.createInitialAssignment(); ia.setSymbol("B"); ok(ia.setMath(math(M.MG_BLOCK)), "set B")
    for i, (a, b, kf, kr) in enumerate([("C0", "C1", "Rb*glu", "Ru"), ("C1", "C2", "Rb*glu", "Ru"),
                                        ("C2", "D", "Rd", "Rr"), ("C2", "O", "Ro", "Rc")]):
        r = m.createReaction(); r.setId(f"r{i}"); r.setReversible(True)
        sr = r.createReactant(); sr.setSpecies(a); sr.setStoichiometry(1.0); sr.setConstant(True)
        sp = r.createProduct(); sp.setSpecies(b); sp.setStoichiometry(1.0); sp.setConstant(True)
        kl = r.createKineticLaw()
        ok(kl.setMath(math(f"cell*({kf}*{a} - {kr}*{b})")), f"set the rate of r{i}")  # amount/time; cell = 1
    for n, e in (("Ca", M.CA_RATE), ("rho", M.RHO_RATE)):
        rule = m.createRateRule(); rule.setVariable(n); ok(rule.setMath(math(e)), f"set the rate rule of {n}")
    if probe:
        p = m.createParameter(); p.setId("glu_int"); p.setValue(0.0); p.setConstant(False)
        rule = m.createRateRule(); rule.setVariable("glu_int"); ok(rule.setMath(math("glu")), "set the probe")
    for k, tk in enumerate(M.pulse_times()):
        for tag, t, val in (("on", float(tk), M.PULSE_AMPLITUDE), ("off", float(tk) + M.PULSE_WIDTH, 0.0)):
            ev = m.createEvent(); ev.setId(f"{tag}{k}"); ev.setUseValuesFromTriggerTime(True)
            tr = ev.createTrigger(); tr.setInitialValue(False); tr.setPersistent(True)
            ok(tr.setMath(math(f"time >= {t!r}")), f"set the trigger of {tag}{k}")
            ea = ev.createEventAssignment(); ea.setVariable("glu")
            ok(ea.setMath(math(repr(float(val)))), f"set the assignment of {tag}{k}")
    doc.checkConsistency()
    errors = [doc.getError(i).getMessage() for i in range(doc.getNumErrors())
              if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    if errors:
        raise RuntimeError("invalid SBML:\n" + "\n".join(errors))
    return libsbml.writeSBMLToString(doc)


def load_roadrunner(sbml, extra_selections=()):
    import roadrunner

    rr = roadrunner.RoadRunner(sbml)
    integ = rr.getIntegrator()
    if integ.getName() != "cvode":
        rr.setIntegrator("cvode")
        integ = rr.getIntegrator()
    integ.relative_tolerance = M.RTOL
    integ.absolute_tolerance = M.ATOL
    integ.variable_step_size = False
    rr.timeCourseSelections = ["time"] + [f"[{n}]" for n in M.STATE_NAMES] + list(extra_selections)
    if rr.model.getNumEvents() != 2 * M.N_PULSES:
        raise RuntimeError(f"roadrunner sees {rr.model.getNumEvents()} events, expected {2 * M.N_PULSES}")
    return rr


def rr_times(grid):
    # simulate(times=...) starts at times[0]: prepend t = 0 (grid starts at the first pulse) and drop it after.
    return np.concatenate([[0.0], grid])


def rr_solve(rr, times):
    rr.resetAll()  # also restores global parameters (glu) changed by events; reset() would not
    return rr.simulate(times=times)


def rr_on_grid(res, grid, n_cols=N_STATES):
    """States on ``grid`` from roadrunner output, taking the right-continuous (last) row at repeated times."""
    res = np.asarray(res)
    t = res[:, 0]
    idx = np.searchsorted(t, grid, side="right") - 1
    if (idx < 0).any() or not np.array_equal(t[idx], grid):
        raise RuntimeError("roadrunner output misses some requested times")
    return res[idx, 1:1 + n_cols]


def check_roadrunner(sbml_probe, grid):
    """Events fire exactly at t_k and t_k + 1; reset semantics; returns a dict of checks."""
    rr = load_roadrunner(sbml_probe, extra_selections=["glu", "glu_int"])
    times = rr_times(grid)
    res = np.asarray(rr_solve(rr, times))
    out = {"rows": int(res.shape[0]), "requested": int(len(times))}
    cols = rr_on_grid(res, grid, N_STATES + 2)
    glu, gint = cols[:, N_STATES], cols[:, N_STATES + 1]
    off = np.round(grid - M.PULSE_START, 9) % M.PULSE_PERIOD
    out["glu_at_t_k"] = sorted(set(glu[off == 0].tolist()))              # right-continuous: 1
    out["glu_at_t_k+0.5"] = sorted(set(glu[off == 0.5].tolist()))        # inside the pulse: 1
    out["glu_at_t_k+1"] = sorted(set(glu[off == M.PULSE_WIDTH].tolist()))  # right-continuous: 0
    widths = gint[off == M.PULSE_WIDTH] - gint[off == 0]
    out["pulse_integral_max_dev"] = float(np.abs(widths - M.PULSE_WIDTH * M.PULSE_AMPLITUDE).max())
    out["glu_integral_total"] = float(gint[-1])
    out["events_ok"] = bool(out["glu_at_t_k"] == [M.PULSE_AMPLITUDE] and out["glu_at_t_k+0.5"] == [M.PULSE_AMPLITUDE]
                            and out["glu_at_t_k+1"] == [0.0] and out["pulse_integral_max_dev"] < 1e-6
                            and abs(out["glu_integral_total"] - M.N_PULSES * M.PULSE_WIDTH * M.PULSE_AMPLITUDE) < 1e-6)
    res2 = np.asarray(rr_solve(rr, times))
    out["repeat_identical"] = bool(np.array_equal(res, res2))
    # why resetAll: stop inside a pulse (glu = 1 set by an event), then compare reset() and resetAll()
    rr.resetAll(); rr.simulate(times=[0.0, M.PULSE_START + 0.5])
    rr.reset(); out["glu_after_reset"] = float(rr["glu"])
    rr.resetAll(); rr.simulate(times=[0.0, M.PULSE_START + 0.5])
    rr.resetAll(); out["glu_after_resetAll"] = float(rr["glu"])
    return out


# =============================================================================== nmdakin
def import_kinetics():
    """``(module, None)`` or ``(None, reason)``."""
    try:
        import kinetics
    except Exception as exc:  # the engine is written concurrently
        return None, f"`import kinetics` failed ({type(exc).__name__}: {exc})"
    try:  # kinetics resolves its public names lazily: a missing submodule surfaces here
        kinetics.simulate
    except Exception as exc:
        return None, f"`kinetics.simulate` is not available yet ({type(exc).__name__}: {exc})"
    try:
        M.build_scheme(); M.build_protocol()
    except Exception as exc:
        return None, f"building the nmdakin scheme/protocol failed ({type(exc).__name__}: {exc})"
    return kinetics, None


def nmdakin_states(res):
    """``res.y`` columns reordered to :data:`stdp_model.STATE_NAMES`."""
    names = list(res.state_names)
    y = np.asarray(res.y)
    return y[:, [names.index(n) for n in M.STATE_NAMES]]


def json_safe(x):
    if isinstance(x, dict):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    if isinstance(x, np.ndarray):
        return json_safe(x.tolist())
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    if isinstance(x, (int, float, str, bool)) or x is None:
        return x
    return repr(x)


COLD_SCRIPT = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    import kinetics
    t1 = time.perf_counter()
    sys.path.insert(0, {bench!r})
    import stdp_model as M
    scheme, protocol, grid = M.build_scheme(), M.build_protocol(), M.output_grid()
    t2 = time.perf_counter()
    res = kinetics.simulate(scheme, protocol, t_end=M.T_END, t_eval=grid, rtol=M.RTOL, atol=M.ATOL)
    t3 = time.perf_counter()
    print("@@" + json.dumps({{"import": t1 - t0, "build": t2 - t1, "simulate": t3 - t2,
                             "rho_end": float(res["rho"][-1])}}))
""")


def first_call(cache_dir):
    env = dict(os.environ, NMDAKIN_CACHE_DIR=str(cache_dir),
               PYTHONPATH=os.pathsep.join([str(REPO_DIR)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    code = COLD_SCRIPT.format(bench=str(BENCH_DIR))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=str(REPO_DIR), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"first-call subprocess failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("@@")][-1]
    return {**json.loads(line[2:]), "process": wall}


# =============================================================================== main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats of each fast solve (default 10; 3 with --quick)")
    ap.add_argument("--sweep", type=int, default=None, help="parameter sets in the sweep (default 1000; 100 with --quick)")
    ap.add_argument("--slow-repeats", type=int, default=3, help="timed repeats of the slow scipy/LSODA solves (default 3)")
    ap.add_argument("--quick", action="store_true", help="skip the slow scipy LSODA/BDF timings; default repeats 3, sweep 100")
    ap.add_argument("--refresh-reference", action="store_true", help="recompute the cached reference")
    ap.add_argument("--check-reference", action="store_true",
                    help="also solve with Radau at the reference tolerances and report the difference")
    ap.add_argument("--no-json", action="store_true", help="do not write benchmarks/results.json")
    args = ap.parse_args(argv)
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 10)
    n_sweep = args.sweep if args.sweep is not None else (100 if args.quick else 1000)
    slow_repeats = max(1, args.slow_repeats)

    import libsbml
    import roadrunner
    import scipy

    grid = M.output_grid()
    results = {
        "benchmark": "STDP benchmark model (benchmarks/stdp_model.py)",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpu_count": os.cpu_count(), "python": platform.python_version(),
                    "loadavg_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None},
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "roadrunner": roadrunner.__version__,
                     "libsbml": libsbml.getLibSBMLDottedVersion()},
        "settings": {"rtol": M.RTOL, "atol": M.ATOL, "repeats": repeats, "slow_repeats": slow_repeats,
                     "sweep_sets": n_sweep, "quick": args.quick, "n_output_points": int(len(grid)),
                     "t_end": M.T_END, "n_pulses": M.N_PULSES,
                     "reference": {"method": REF_METHOD, "rtol": REF_RTOL, "atol": REF_ATOL}},
        "timings": {}, "accuracy": {}, "checks": {}, "skipped": {},
    }
    T, A, C, S = results["timings"], results["accuracy"], results["checks"], results["skipped"]
    log(f"STDP benchmark: {len(grid)} output points, t_end {M.T_END:g} ms, {M.N_PULSES} pulses; "
        f"rtol {M.RTOL:g}, atol {M.ATOL:g}; repeats {repeats}, sweep {n_sweep} sets; {os.cpu_count()} cores")

    # ------------------------------------------------------------------ reference
    Yref, ref_info = reference(grid, refresh=args.refresh_reference)
    results["reference"] = ref_info
    log(f"reference: {'cached' if ref_info['cached'] else 'computed'} ({ref_info['seconds']:.1f} s to compute, "
        f"{ref_info['nsteps']} steps); final rho {Yref[-1, I_RHO]:.10g}, peak O {Yref[:, I_O].max():.10g}")
    if args.check_reference:
        Yrad, _ = solve_piecewise("Radau", REF_RTOL, REF_ATOL, grid)
        C["reference_radau_max_abs_diff"] = float(np.abs(Yrad - Yref).max())
        log(f"reference check: Radau vs {REF_METHOD} max abs diff {C['reference_radau_max_abs_diff']:.2e}")

    # ------------------------------------------------------------------ roadrunner
    sbml = build_sbml()
    ev = check_roadrunner(build_sbml(probe=True), grid)
    C["roadrunner_events"] = ev
    log(f"roadrunner event check: glu at t_k {ev['glu_at_t_k']}, at t_k+0.5 {ev['glu_at_t_k+0.5']}, "
        f"at t_k+1 {ev['glu_at_t_k+1']}; integral of glu {ev['glu_integral_total']:.9f} (expect "
        f"{M.N_PULSES * M.PULSE_WIDTH * M.PULSE_AMPLITUDE:g}) -> {'OK' if ev['events_ok'] else 'FAILED'}; "
        f"repeat identical: {ev['repeat_identical']}; glu after reset() {ev['glu_after_reset']:g}, "
        f"after resetAll() {ev['glu_after_resetAll']:g}")
    t0 = time.perf_counter()
    rr = load_roadrunner(sbml)
    T["roadrunner_load"] = time.perf_counter() - t0
    times = rr_times(grid)
    rr_solve(rr, times)  # warm-up
    T["roadrunner"], res = median_time(lambda: rr_solve(rr, times), repeats)
    Y_rr = rr_on_grid(res, grid)
    A["roadrunner"] = accuracy(Y_rr, Yref)
    C["roadrunner_vs_reference_ok"] = bool(A["roadrunner"]["max_abs_err"] < RR_AGREEMENT)
    rows = [("roadrunner CVODE", T["roadrunner"], A["roadrunner"])]

    # ------------------------------------------------------------------ nmdakin
    kinetics, why = import_kinetics()
    if kinetics is None:
        S["nmdakin"] = why
        log(f"nmdakin: SKIPPED -- {why}; only the roadrunner and scipy parts run")
    else:
        results["versions"]["nmdakin"] = getattr(kinetics, "__version__", "unknown")
        scheme, protocol = M.build_scheme(), M.build_protocol()

        def nm_solve(**kw):
            return kinetics.simulate(scheme, protocol, t_end=M.T_END, t_eval=grid, rtol=M.RTOL, atol=M.ATOL, **kw)

        try:
            nm_solve()  # warm-up (compiles or loads the native kernel)
            T["nmdakin"], r = median_time(nm_solve, repeats)
            A["nmdakin"] = accuracy(nmdakin_states(r), Yref)
            results["nmdakin_stats"] = json_safe(getattr(r, "stats", {}))
            C["nmdakin_t_matches_grid"] = bool(np.array_equal(np.asarray(r.t), grid))
            rows.append(("nmdakin (auto)", T["nmdakin"], A["nmdakin"]))
        except Exception as exc:
            S["nmdakin"] = f"kinetics.simulate failed: {type(exc).__name__}: {exc}"
            log(f"nmdakin: FAILED -- {S['nmdakin']}")
            traceback.print_exc()
        # LSODA is tried whether or not the native fast path works
        try:
            nm_solve(method="LSODA")
            T["nmdakin_lsoda"], r = median_time(lambda: nm_solve(method="LSODA"), slow_repeats)
            A["nmdakin_lsoda"] = accuracy(nmdakin_states(r), Yref)
            rows.append(("nmdakin LSODA", T["nmdakin_lsoda"], A["nmdakin_lsoda"]))
        except Exception as exc:
            S["nmdakin_lsoda"] = f"method='LSODA' not supported or failed: {type(exc).__name__}: {exc}"
            log(f"nmdakin LSODA: skipped -- {S['nmdakin_lsoda']}")

    # ------------------------------------------------------------------ scipy context
    if args.quick:
        S["scipy"] = "--quick"
    else:
        for method in ("LSODA", "BDF"):
            key = f"scipy_{method.lower()}"
            T[key], (Ys, info) = median_time(lambda: solve_piecewise(method, M.RTOL, M.ATOL, grid), slow_repeats)
            T[key]["counters"] = info
            A[key] = accuracy(Ys, Yref)
            rows.append((f"scipy {method} (numpy RHS)", T[key], A[key]))

    # ------------------------------------------------------------------ first call cold / warm
    if "nmdakin" in T:
        tmp = Path(tempfile.mkdtemp(prefix="nmdakin-bench-cache-"))
        try:
            T["first_call_cold"] = first_call(tmp)
            warm = [first_call(tmp) for _ in range(3)]
            T["first_call_warm"] = {k: statistics.median(w[k] for w in warm) for k in warm[0]}
            T["first_call_warm"]["runs"] = len(warm)
        except Exception as exc:
            S["first_call"] = f"{type(exc).__name__}: {exc}"
            log(f"first-call timing failed: {S['first_call']}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # ------------------------------------------------------------------ sweep
    sp = M.sweep_parameters(n_sweep)
    rr_final = np.empty((n_sweep, N_STATES))
    sel_saved = rr.timeCourseSelections

    def rr_sweep():
        for i in range(n_sweep):
            rr.resetAll()
            rr["Rb"] = sp["Rb"][i]
            rr["Ro"] = sp["Ro"][i]
            rr_final[i] = rr.simulate(0.0, M.T_END, 2)[-1, 1:]  # only t = 0 and t_end are output
        rr.resetAll()

    t0 = time.perf_counter()
    rr_sweep()
    T["sweep_roadrunner"] = {"total": time.perf_counter() - t0, "sets": n_sweep}
    T["sweep_roadrunner"]["per_set"] = T["sweep_roadrunner"]["total"] / n_sweep
    rr.timeCourseSelections = sel_saved
    # the final-only call must agree with the full-grid solve at the nominal parameters
    rr.resetAll()
    y_end = np.asarray(rr.simulate(0.0, M.T_END, 2))[-1, 1:]
    C["roadrunner_final_only_vs_grid_max_abs"] = float(np.abs(y_end - Y_rr[-1]).max())
    sweep_fn = None
    if "nmdakin" in T:
        try:
            sweep_fn = kinetics.sweep
        except Exception as exc:
            S["sweep_nmdakin"] = f"`kinetics.sweep` is not available yet ({type(exc).__name__}: {exc})"
    if sweep_fn is not None:
        try:
            def nm_sweep(values):
                return sweep_fn(scheme, values, protocol, t_end=M.T_END, rtol=M.RTOL, atol=M.ATOL,
                                n_workers=os.cpu_count(), progress=False)

            nm_sweep({k: v[:2] for k, v in sp.items()})  # warm-up: kernel compile/load not timed
            t0 = time.perf_counter()
            sw = nm_sweep(sp)
            T["sweep_nmdakin"] = {"total": time.perf_counter() - t0, "sets": n_sweep}
            T["sweep_nmdakin"]["per_set"] = T["sweep_nmdakin"]["total"] / n_sweep
            names = list(sw.state_names)
            fin = np.asarray(sw.final)[:, [names.index(n) for n in M.STATE_NAMES]]
            rows_checked = sorted({0, 1, 2, n_sweep // 2, n_sweep - 1} & set(range(n_sweep)))
            diff = np.abs(fin[rows_checked] - rr_final[rows_checked])
            rel = diff / np.maximum(np.abs(rr_final[rows_checked]), 1e-300)
            C["sweep_rows_checked"] = rows_checked
            C["sweep_max_abs_diff"] = float(diff.max())
            C["sweep_max_rel_diff"] = float(rel.max())
            C["sweep_rows_ok"] = bool((diff <= SWEEP_CHECK_RTOL * np.abs(rr_final[rows_checked]) + SWEEP_CHECK_ATOL).all())
        except Exception as exc:
            S["sweep_nmdakin"] = f"kinetics.sweep failed: {type(exc).__name__}: {exc}"
            log(f"nmdakin sweep: FAILED -- {S['sweep_nmdakin']}")
            traceback.print_exc()

    # ------------------------------------------------------------------ report
    log("")
    log(f"{'tool':28s} {'median ms':>10s} {'min ms':>10s} {'n':>3s}  {'rho_end rel':>11s} {'peak O rel':>10s} {'max abs':>9s}")
    log("-" * 88)
    for name, t, a in rows:
        log(f"{name:28s} {fmt_s(t['median'])} {fmt_s(t['min'])} {t['repeats']:3d}  {fmt_e(a['final_rho_rel_err']):>11s} "
            f"{fmt_e(a['peak_O_rel_err']):>10s} {fmt_e(a['max_abs_err']):>9s}")
    log(f"{'reference ' + REF_METHOD + ' 1e-11':28s} {fmt_s(ref_info['seconds'])} {'':10s} {'1':>3s}  "
        f"{'(ref)':>11s} {'(ref)':>10s} {'(ref)':>9s}")
    log("-" * 88)
    log(f"roadrunner load (SBML parse + JIT, not in the timings): {T['roadrunner_load'] * 1e3:.1f} ms")
    log(f"roadrunner vs reference: max abs err {A['roadrunner']['max_abs_err']:.2e} "
        f"({'OK' if C['roadrunner_vs_reference_ok'] else 'WORSE THAN'} {RR_AGREEMENT:g})")
    swr = T["sweep_roadrunner"]
    log(f"sweep roadrunner: {swr['sets']} sets sequential, {swr['total']:.2f} s, {swr['per_set'] * 1e3:.2f} ms/set "
        f"(final-only call vs grid solve: max abs {C['roadrunner_final_only_vs_grid_max_abs']:.1e})")
    if "sweep_nmdakin" in T:
        swn = T["sweep_nmdakin"]
        log(f"sweep nmdakin: {swn['sets']} sets on {os.cpu_count()} cores, {swn['total']:.2f} s, "
            f"{swn['per_set'] * 1e3:.3f} ms/set; rows {C['sweep_rows_checked']} vs roadrunner: max rel "
            f"{C['sweep_max_rel_diff']:.1e} -> {'OK' if C['sweep_rows_ok'] else 'FAILED'}")
    for k, why in S.items():
        log(f"skipped {k}: {why}")
    log("")
    ratios = results["ratios"] = {}
    if "nmdakin" in T:
        ratios["single_solve"] = T["nmdakin"]["median"] / T["roadrunner"]["median"]
        log(f"ratio nmdakin/roadrunner: {ratios['single_solve']:.3f}")
    else:
        log("ratio nmdakin/roadrunner: n/a (nmdakin skipped)")
    for kind in ("cold", "warm"):
        fc = T.get(f"first_call_{kind}")
        if fc:
            log(f"first call {kind}: simulate() {fc['simulate']:.3f} s, process {fc['process']:.3f} s "
                f"(import kinetics {fc['import']:.3f} s, build scheme {fc['build']:.3f} s)")
        else:
            log(f"first call {kind}: n/a (nmdakin skipped)")
    if "sweep_nmdakin" in T:
        ratios["sweep"] = T["sweep_nmdakin"]["total"] / T["sweep_roadrunner"]["total"]
        log(f"sweep ratio nmdakin/roadrunner: {ratios['sweep']:.3f}")
    else:
        log("sweep ratio nmdakin/roadrunner: n/a (nmdakin sweep skipped)")

    if hasattr(os, "getloadavg"):
        results["machine"]["loadavg_end"] = list(os.getloadavg())
        load = max(results["machine"]["loadavg_start"][0], results["machine"]["loadavg_end"][0])
        if load > 0.5 * (os.cpu_count() or 1):
            log(f"note: 1-min load average reached {load:.2f} on {os.cpu_count()} cores during the run; "
                "timings may be inflated by other processes")
    if not args.no_json:
        RESULTS_PATH.write_text(json.dumps(json_safe(results), indent=2) + "\n")
        log(f"wrote {RESULTS_PATH.relative_to(REPO_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
