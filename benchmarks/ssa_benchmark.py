"""Exact SSA benchmark (issue 14): nmdakin's native SSA against libRoadRunner's gillespie integrator.

The Destexhe five-state NMDA receptor (``models.destexhe1994.five_state()``), 20 receptors, 60 glutamate pulses
(1 mM, 1 ms) at 1 Hz, 1000 runs. Both simulators record the open count at 20 ms after each pulse and just before
the next one (120 times); the statistics are checked against each other and against the exact answer
(binomial: mean N p(t), variance N p (1 - p), p the ODE occupancy).

libRoadRunner loads the scheme's SBML (``kinetics.export(scheme, "sbml")``, species as amounts, ``C0 = 20``),
exported with every reversible reaction split into two irreversible ones: roadrunner's gillespie integrator takes
a reversible SBML reaction's *net* rate law as one propensity, which keeps the mean but shrinks the fluctuations
(the variance of the open count 20 ms into 1 mM glutamate comes out 0.8 instead of the binomial 4.4);
its input ``glu`` is set between ``simulate`` calls, one call per constant piece of the protocol (3 per pulse),
which is how a piecewise-constant protocol is given to it without editing the model.

GillesPy2 (``pip install gillespy2``, optional) takes no time-varying input, so it is compared on a variant at
constant glutamate (0.01 mM, 60 s) with its ``NumPySSASolver``, the one of its solvers that installs from the
wheel alone (the C++ ones build with scons and g++ at run time); at most 100 runs, ratios per run.

    python benchmarks/ssa_benchmark.py               # 1000 runs each
    python benchmarks/ssa_benchmark.py --quick       # 100 runs each (ratios per run)
    python benchmarks/ssa_benchmark.py --json out.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import kinetics as kx  # noqa: E402
from models import destexhe1994  # noqa: E402

N_RECEPTORS = 20
N_PULSES = 60
PERIOD = 1000.0    # ms: 1 Hz


def problem():
    s = destexhe1994.five_state()
    onsets = [PERIOD * i for i in range(N_PULSES)]
    protocol = kx.Protocol([kx.pulses("glu", onsets, amplitude=1.0, width=1.0)])
    t_eval = np.array([[PERIOD * i + 20.0, PERIOD * (i + 1)] for i in range(N_PULSES)]).ravel()
    t_eval[-1] = N_PULSES * PERIOD
    return s, protocol, t_eval


def run_nmdakin(n_runs, executor=None):
    s, protocol, t_eval = problem()
    kx.ssa(s, protocol, t_end=t_eval[-1], t_eval=t_eval, n_runs=2, n_copies=N_RECEPTORS, seed=0)  # compile/load
    t = time.perf_counter()
    res = kx.ssa(s, protocol, t_end=t_eval[-1], t_eval=t_eval, n_runs=n_runs, n_copies=N_RECEPTORS, seed=2026,
                 executor=executor)
    wall = time.perf_counter() - t
    return wall, res["O"].astype(float), res


def run_roadrunner(n_runs):
    import roadrunner

    s, protocol, t_eval = problem()
    split = []
    for r in s.reactions:       # one SBML reaction per direction (see the module docstring)
        split.append(kx.Reaction(r.reactants, r.products, forward=r.forward, name=r.name + "_f"))
        split.append(kx.Reaction(r.products, r.reactants, forward=r.reverse, name=r.name + "_r"))
    sbml = kx.export(s.replace(reactions=tuple(split)).with_initial(C0=float(N_RECEPTORS)), "sbml")
    rr = roadrunner.RoadRunner(sbml)
    rr.setIntegrator("gillespie")
    pieces = []                                    # (t_a, t_b, glu, record?)
    for i in range(N_PULSES):
        a = PERIOD * i
        pieces += [(a, a + 1.0, 1.0, False), (a + 1.0, a + 20.0, 0.0, True), (a + 20.0, a + PERIOD, 0.0, True)]
    out = np.empty((n_runs, t_eval.size))
    seeds = np.random.SeedSequence(2026).generate_state(n_runs, np.uint32)
    t = time.perf_counter()
    for r in range(n_runs):
        rr.resetAll()
        rr.getIntegrator().setValue("seed", int(seeds[r]))
        k = 0
        for ta, tb, glu, record in pieces:
            rr["glu"] = glu
            rr.simulate(ta, tb, 2)
            if record:
                out[r, k] = rr["O"]
                k += 1
    wall = time.perf_counter() - t
    return wall, out


#: The constant-glutamate variant for GillesPy2 (it takes no time-varying input): 0.01 mM throughout, 60 s,
#: the open count at 121 times.
GLU_CONST = 0.01


def constant_problem():
    s = destexhe1994.five_state()
    s = s.replace(inputs=tuple(u if u.name != "glu" else kx.Input("glu", GLU_CONST, u.unit) for u in s.inputs))
    return s, np.linspace(0.0, N_PULSES * PERIOD, 121)


def run_nmdakin_constant(n_runs):
    s, t_eval = constant_problem()
    kx.ssa(s, t_end=t_eval[-1], t_eval=t_eval, n_runs=2, n_copies=N_RECEPTORS, seed=0)
    t = time.perf_counter()
    res = kx.ssa(s, t_end=t_eval[-1], t_eval=t_eval, n_runs=n_runs, n_copies=N_RECEPTORS, seed=7, executor="serial")
    return time.perf_counter() - t, res["O"].astype(float)


def run_gillespy2_constant(n_runs):
    """GillesPy2's NumPySSASolver (pure Python: the one of its solvers that needs no C++ build) on the same
    receptor at constant glutamate, one reaction per direction, rate constants in 1/ms."""
    import gillespy2

    s, t_eval = constant_problem()
    values = {p.name: v for p, v in zip(s.parameters, kx.compile(s).parameter_vector())}
    model = gillespy2.Model(name="destexhe_constant")
    rates = {"kb": values["Rb"] * GLU_CONST, **{k: values[k] for k in ("Ru", "Rd", "Rr", "Ro", "Rc")}}
    model.add_parameter([gillespy2.Parameter(name=k, expression=v) for k, v in rates.items()])
    species = {n: gillespy2.Species(name=n, initial_value=N_RECEPTORS if n == "C0" else 0, mode="discrete")
               for n in s.species_names}
    model.add_species(list(species.values()))
    steps = [("C0", "C1", "kb"), ("C1", "C0", "Ru"), ("C1", "C2", "kb"), ("C2", "C1", "Ru"), ("C2", "D", "Rd"),
             ("D", "C2", "Rr"), ("C2", "O", "Ro"), ("O", "C2", "Rc")]
    model.add_reaction([gillespy2.Reaction(name=f"r{i}", reactants={species[a]: 1}, products={species[b]: 1},
                                           rate=model.listOfParameters[k]) for i, (a, b, k) in enumerate(steps)])
    model.timespan(t_eval)
    t = time.perf_counter()
    res = model.run(solver=gillespy2.NumPySSASolver, number_of_trajectories=n_runs, seed=7)
    wall = time.perf_counter() - t
    return wall, np.array([r["O"] for r in res], dtype=float), gillespy2.__version__


def constant_comparison(n_runs):
    """nmdakin and GillesPy2 on the constant-glutamate variant: time per run and the open count's statistics
    against the binomial (N p, N p (1 - p)) at the last 60 output times (stationary by then)."""
    s, t_eval = constant_problem()
    p = kx.simulate(s, t_end=t_eval[-1], t_eval=t_eval, rtol=1e-10, atol=1e-12)["O"]
    w_nk, o_nk = run_nmdakin_constant(n_runs)
    w_gp, o_gp, version = run_gillespy2_constant(n_runs)
    late = slice(61, None)
    return {"runs": n_runs, "gillespy2": version,
            "nmdakin_s_per_run": w_nk / n_runs, "gillespy2_numpyssa_s_per_run": w_gp / n_runs,
            "ratio_nmdakin_to_gillespy2": w_nk / w_gp,
            "mean_open_late": {"binomial": float(N_RECEPTORS * p[late].mean()), "nmdakin": float(o_nk[:, late].mean()),
                               "gillespy2": float(o_gp[:, late].mean())},
            "var_open_late": {"binomial": float((N_RECEPTORS * p * (1 - p))[late].mean()),
                              "nmdakin": float(o_nk[:, late].var(0, ddof=1).mean()),
                              "gillespy2": float(o_gp[:, late].var(0, ddof=1).mean())}}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100 runs each instead of 1000")
    ap.add_argument("--json", help="write the numbers to this file")
    args = ap.parse_args(argv)
    n = 100 if args.quick else 1000

    s, protocol, t_eval = problem()
    ode = kx.simulate(s, protocol, t_end=t_eval[-1], t_eval=t_eval, rtol=1e-10, atol=1e-12)
    p = ode["O"]

    w_serial, o_nk, res = run_nmdakin(n)
    w_threads, o_nk2, _ = run_nmdakin(n, executor="threads")
    assert np.array_equal(o_nk, o_nk2)
    w_rr, o_rr = run_roadrunner(n)

    def z_mean(o):
        return float(np.max(np.abs(o.mean(0) - N_RECEPTORS * p) / np.sqrt(N_RECEPTORS * p * (1 - p) / n + 1e-300)))

    peaks = slice(0, None, 2)
    rep = {
        "runs": n, "receptors": N_RECEPTORS, "pulses": N_PULSES,
        "nmdakin_native_serial_s": w_serial, "nmdakin_native_threads_s": w_threads,
        "roadrunner_gillespie_s": w_rr,
        "ratio_serial": w_serial / w_rr, "ratio_threads": w_threads / w_rr,
        "events_per_run": float(res.n_events.mean()),
        "ns_per_event_serial": w_serial / res.n_events.sum() * 1e9,
        "mean_open_20ms_after_pulse": {"ode_x_N": float(N_RECEPTORS * p[peaks].mean()),
                                       "nmdakin": float(o_nk[:, peaks].mean()),
                                       "roadrunner": float(o_rr[:, peaks].mean())},
        "var_open_20ms_after_pulse": {"binomial": float((N_RECEPTORS * p * (1 - p))[peaks].mean()),
                                      "nmdakin": float(o_nk[:, peaks].var(0, ddof=1).mean()),
                                      "roadrunner": float(o_rr[:, peaks].var(0, ddof=1).mean())},
        "max_abs_z_mean_vs_ode": {"nmdakin": z_mean(o_nk), "roadrunner": z_mean(o_rr)},
        "roadrunner": __import__("roadrunner").__version__,
        "cores": os.cpu_count(),
    }
    try:
        import gillespy2  # noqa: F401
    except ImportError:
        rep["gillespy2_constant_glutamate"] = "not installed (pip install gillespy2)"
    else:
        rep["gillespy2_constant_glutamate"] = constant_comparison(min(n, 100))
    print(json.dumps(rep, indent=1))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rep, f, indent=1)


if __name__ == "__main__":
    main()
