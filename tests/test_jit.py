"""The compiler-free path (kinetics.jit): the engine's accuracy tests rerun on it, agreement with the C path,
the fallback when no working C compiler is found, and fitting without a compiler.

* The integrator tests of ``test_native.py`` run here against :class:`kinetics.jit.solver.JitSolver`: they are
  imported, and this module's fixtures (``make``, ``decay``, ``abc``, ``rober``, ``vdp``, ``driven``) give them
  the same models written in Python (the hand-written C blocks' Python twins, :data:`PY`).
* The core ``simulate()`` tests of ``test_simulate.py`` and a fitting recovery of ``test_fit_recovery.py`` run
  with ``NMDAKIN_BACKEND=jit``.
* Agreement: the same model solved in C and on the JIT path gives the same steps and the same numbers.
* ``CC=/bin/false`` (and a compiler without the C library's headers, and no compiler on the PATH) falls back
  with exactly one warning; fitting works without a compiler (in subprocesses).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import kinetics as kx
import test_fit_recovery as fr
import test_native as tn
import test_simulate as ts
from kinetics.errors import ArgumentError, CompilerError
from kinetics.jit import backend
from kinetics.jit.pycode import ModelSource, compile_module, module_text
from kinetics.jit.solver import JitSolver
from kinetics.native import SegmentArrays, compiler_available

# ----------------------------------------------------------------------------- test_native.py on the JIT path

#: The C bodies test_native.py compiles, and the same functions in Python (rhs body, jac body).
PY = {
    tn.DECAY["rhs"]: ("f[0] = -p[0] * y[0]", "J[0] = -p[0]"),
    tn.ABC_RHS: ("r1 = p[0] * y[0] - p[1] * y[1]\nr2 = p[2] * y[1] - p[3] * y[2]\n"
                 "f[0] = -r1\nf[1] = r1 - r2\nf[2] = r2",
                 "J[0] = -p[0]\nJ[1] = p[1]\nJ[3] = p[0]\nJ[4] = -p[1] - p[2]\nJ[5] = p[3]\nJ[7] = p[2]\n"
                 "J[8] = -p[3]"),
    tn.ROBER_RHS: ("r1 = p[0] * y[0]\nr2 = p[1] * y[1] * y[1]\nr3 = p[2] * y[1] * y[2]\n"
                   "f[0] = -r1 + r3\nf[1] = r1 - r2 - r3\nf[2] = r2",
                   "J[0] = -p[0]\nJ[1] = p[2] * y[2]\nJ[2] = p[2] * y[1]\nJ[3] = p[0]\n"
                   "J[4] = -2.0 * p[1] * y[1] - p[2] * y[2]\nJ[5] = -p[2] * y[1]\nJ[7] = 2.0 * p[1] * y[1]"),
    tn.VDP_RHS: ("f[0] = y[1]\nf[1] = p[0] * (1.0 - y[0] * y[0]) * y[1] - y[0]",
                 "J[1] = 1.0\nJ[2] = -2.0 * p[0] * y[0] * y[1] - 1.0\nJ[3] = p[0] * (1.0 - y[0] * y[0])"),
    tn.INPUT_RHS: ("f[0] = -p[0] * y[0] + u[0]", "J[0] = -p[0]"),
    "f[0] = p[0] * cos(t) * y[0];": ("f[0] = p[0] * math.cos(t) * y[0]", "J[0] = p[0] * math.cos(t)"),
    "f[0] = -p[0] * y[0]; f[1] = -p[1] * y[1];": ("f[0] = -p[0] * y[0]\nf[1] = -p[1] * y[1]",
                                                  "J[0] = -p[0]\nJ[3] = -p[1]"),
    "f[0] = (t > p[0] && p[1] != 0.0) ? NAN : cos(t);": (
        "f[0] = math.nan if (t > p[0] and p[1] != 0.0) else math.cos(t)", "J[0] = 0.0"),
    "f[0] = (t >= p[0]) ? NAN : -y[0];": ("f[0] = math.nan if t >= p[0] else -y[0]", "J[0] = -1.0"),
    "f[0] = y[0] * y[0];": ("f[0] = y[0] * y[0]", "J[0] = 2.0 * y[0]"),
}


def jit_model(n, n_param, n_input, rhs, jac, *, autonomous=False, nblock=None) -> JitSolver:
    """A JitSolver of hand-written Python bodies (what kinetics.jit.pycode generates), compiled in memory."""
    def fn(name, out, body):
        zero = f"    for _i in range({n * n}):\n        J[_i] = 0.0\n" if out == "J" else ""
        return f"def {name}(t, y, p, u, {out}):\n{zero}" + textwrap.indent(body, "    ") + "\n"

    src = ModelSource(rhs=fn("rhs", "f", rhs), jac=fn("jac", "J", jac), obs=None, n_state=n, n_param=n_param,
                      n_input=n_input, n_obs=-1, autonomous=autonomous, nblock=nblock or n)
    functions, meta = compile_module(module_text(src), "<test_jit model>", None)
    return JitSolver(functions, meta["n_state"], meta["n_param"], meta["n_input"], nblock=meta["nblock"],
                     autonomous=bool(meta["autonomous"]))


@pytest.fixture(scope="module")
def make():
    """make(n, n_param, n_input, rhs, jac, **kw) with test_native.py's C bodies -> a JitSolver of their twins."""
    def _make(n, n_param, n_input, rhs, jac, autonomous=False, extra=""):
        py_rhs, py_jac = PY[rhs]
        solver = jit_model(n, n_param, n_input, py_rhs, py_jac, autonomous=autonomous)
        solver.clamp_time = "NK_CLAMP_TIME 0" not in extra
        return solver
    return _make


@pytest.fixture(scope="module")
def decay(make):
    return make(**tn.DECAY)


@pytest.fixture(scope="module")
def abc(make):
    return make(3, 4, 0, tn.ABC_RHS, tn.ABC_JAC, autonomous=True)


@pytest.fixture(scope="module")
def rober(make):
    return make(3, 3, 0, tn.ROBER_RHS, tn.ROBER_JAC, autonomous=True)


@pytest.fixture(scope="module")
def vdp(make):
    return make(2, 1, 0, tn.VDP_RHS, tn.VDP_JAC, autonomous=True)


@pytest.fixture(scope="module")
def driven(make):
    return make(1, 1, 1, tn.INPUT_RHS, tn.INPUT_JAC, autonomous=True)


# The integrator's tests (every one of test_native.py that is not about C builds or the C library itself).
rober_reference = tn.rober_reference
vdp_reference = tn.vdp_reference
test_exponential_decay_dense_output = tn.test_exponential_decay_dense_output
test_linear_three_state_against_expm = tn.test_linear_three_state_against_expm
test_robertson_stiff = tn.test_robertson_stiff
test_robertson_dopri5_is_slow_but_auto_switches = tn.test_robertson_dopri5_is_slow_but_auto_switches
test_nonstiff_problem_does_not_switch = tn.test_nonstiff_problem_does_not_switch
test_fixed_step_convergence_order = tn.test_fixed_step_convergence_order
test_error_decreases_with_rtol = tn.test_error_decreases_with_rtol
test_explicit_time_dependence_rodas_dfdt = tn.test_explicit_time_dependence_rodas_dfdt
test_inputs_pulses_and_exponential_terms = tn.test_inputs_pulses_and_exponential_terms
test_jumps_add_and_set_with_outputs_at_jump_times = tn.test_jumps_add_and_set_with_outputs_at_jump_times
test_random_linear_schedules_against_expm = tn.test_random_linear_schedules_against_expm
test_nan_beyond_boundary_is_never_touched = tn.test_nan_beyond_boundary_is_never_touched
test_huge_input_in_a_short_last_segment = tn.test_huge_input_in_a_short_last_segment
test_many_segments_restart_and_step_controls = tn.test_many_segments_restart_and_step_controls
test_max_steps_exceeded = tn.test_max_steps_exceeded
test_nan_rhs = tn.test_nan_rhs
test_nonfinite_initial_state = tn.test_nonfinite_initial_state
test_step_size_too_small_at_blow_up = tn.test_step_size_too_small_at_blow_up
test_bad_arguments = tn.test_bad_arguments
test_solve_many_threads_equal_sequential = tn.test_solve_many_threads_equal_sequential
test_solve_many_reports_failing_row = tn.test_solve_many_reports_failing_row
test_native_call_releases_the_gil = tn.test_native_call_releases_the_gil
test_concurrent_solves_from_threads = tn.test_concurrent_solves_from_threads


def test_block_factorisation_equals_dense(make):
    """nblock < n (sensitivity systems): two copies of Robertson as one block lower-triangular 6-state system
    (the second copy driven by the first) solve as the dense factorisation does."""
    rhs = ("r1 = p[0] * y[0]\nr2 = p[1] * y[1] * y[1]\nr3 = p[2] * y[1] * y[2]\n"
           "f[0] = -r1 + r3\nf[1] = r1 - r2 - r3\nf[2] = r2\n"
           "f[3] = -p[0] * y[3] + p[2] * y[2] * y[4] + p[2] * y[1] * y[5] + 0.1 * y[0]\n"
           "f[4] = p[0] * y[3] + (-2.0 * p[1] * y[1] - p[2] * y[2]) * y[4] - p[2] * y[1] * y[5]\n"
           "f[5] = 2.0 * p[1] * y[1] * y[4]")
    # J (6x6 row-major): [[A, 0], [B, A]], A the Jacobian of Robertson, the second copy z' = A z + 0.1 y0 e0
    A = ["-p[0]", "p[2] * y[2]", "p[2] * y[1]", "p[0]", "-2.0 * p[1] * y[1] - p[2] * y[2]", "-p[2] * y[1]",
         "0.0", "2.0 * p[1] * y[1]", "0.0"]
    B = ["0.1", "p[2] * y[5]", "p[2] * y[4]", "0.0", "-2.0 * p[1] * y[4] - p[2] * y[5]", "-p[2] * y[4]",
         "0.0", "2.0 * p[1] * y[4]", "0.0"]
    dense, block = [], []
    for i in range(3):
        for j in range(3):
            dense += [f"J[{i * 6 + j}] = {A[i * 3 + j]}", f"J[{(i + 3) * 6 + j}] = {B[i * 3 + j]}",
                      f"J[{(i + 3) * 6 + j + 3}] = {A[i * 3 + j]}"]
            block += [f"J[{i * 6 + j}] = {A[i * 3 + j]}", f"J[{(i + 3) * 6 + j}] = {B[i * 3 + j]}"]
    full = jit_model(6, 3, 0, rhs, "\n".join(dense), autonomous=True)
    blocked = jit_model(6, 3, 0, rhs, "\n".join(block), autonomous=True, nblock=3)
    sa = SegmentArrays.single(0.0, 40.0)
    y0 = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    t_out = np.linspace(0.0, 40.0, 9)
    a = full.solve(tn.ROBER_K, y0, sa, t_out, method="rodas", rtol=1e-8, atol=1e-14)
    b = blocked.solve(tn.ROBER_K, y0, sa, t_out, method="rodas", rtol=1e-8, atol=1e-14)
    assert a[2]["n_steps"] == b[2]["n_steps"] and a[2]["n_lu"] == b[2]["n_lu"]
    np.testing.assert_allclose(b[0], a[0], rtol=1e-10, atol=1e-16)
    np.testing.assert_allclose(b[0][-1, :3], [0.7158270687, 9.185534765e-6, 0.2841637457], rtol=1e-5)


# ----------------------------------------------------------------------------- test_simulate.py on the JIT path

@pytest.fixture
def jit_backend(monkeypatch):
    monkeypatch.setenv(backend.ENV, "jit")


SIMULATE_TESTS = [
    (ts.test_first_order_decay, ("auto",)), (ts.test_first_order_decay, ("dopri5",)),
    (ts.test_first_order_decay, ("rodas",)),
    (ts.test_reversible_binding_relaxation, ("auto",)), (ts.test_reversible_binding_relaxation, ("rodas",)),
    (ts.test_linear_scheme_under_pulses_equals_matrix_exponential, ("auto",)),
    (ts.test_linear_scheme_under_pulses_equals_matrix_exponential, ("rodas",)),
    (ts.test_robertson_against_published_reference, ()),
    (ts.test_auto_switches_to_rodas_on_stiff_problem, ()),
    (ts.test_solver_never_steps_across_a_pulse, ("auto",)),
    (ts.test_state_jumps_are_applied_and_right_continuous, ()),
    (ts.test_conservation_of_occupancy_under_pulses, ()),
    (ts.test_occupancies_stay_probabilities_for_random_rates, ()),
    (ts.test_native_and_scipy_agree_on_nonlinear_model, ()),
    (ts.test_result_api, ()),
    (ts.test_sweep_equals_individual_runs, ()),
    (ts.test_failed_solve_raises_solver_error_with_time, ("auto",)),
    (ts.test_max_steps_budget, ()),
    (ts.test_pi_and_explicit_time_in_rate_laws_compile_natively, ()),
]


@pytest.mark.parametrize("test, args", SIMULATE_TESTS,
                         ids=[f"{t.__name__}[{','.join(a)}]" for t, a in SIMULATE_TESTS])
def test_simulate_on_the_jit_path(jit_backend, test, args):
    test(*args)
    solver = kx.compile(ts.decay()).native_solver()
    assert isinstance(solver, JitSolver)               # the tests above did run on the JIT path


def test_fit_recovery_on_the_jit_path(jit_backend):
    fr.test_binding_recovers_kon_koff_within_5_percent()
    assert isinstance(kx.compile(fr.binding_scheme()).native_solver(), JitSolver)


# ----------------------------------------------------------------------------- agreement with the C path

needs_cc = pytest.mark.skipif(not compiler_available(), reason="no C compiler to compare with")


@needs_cc
def test_jit_and_native_agree_on_a_published_model(monkeypatch):
    """Destexhe's five-state NMDA receptor with the Jahr-Stevens Mg2+ block under a glutamate pulse and voltage
    steps: the same steps, the same numbers (observables included) on both paths."""
    from models import destexhe1994, mg_block

    scheme = mg_block.with_nmda_current(destexhe1994.five_state())
    prot = kx.Protocol([kx.pulses("glu", times=[10.0, 60.0], amplitude=1.0, width=1.0),
                        kx.steps("V", [0.0, 40.0], [-60.0, 20.0])])
    t = np.linspace(0.0, 200.0, 401)
    runs = {}
    for name in ("native", "jit"):
        monkeypatch.setenv(backend.ENV, name)
        runs[name] = kx.simulate(scheme, prot, t_end=200.0, t_eval=t, rtol=1e-8, atol=1e-10)
    a, b = runs["native"], runs["jit"]
    assert a.stats == b.stats
    np.testing.assert_allclose(b.y, a.y, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(b["I_NMDA"], a["I_NMDA"], rtol=1e-12, atol=1e-15)
    solver = kx.compile(scheme).native_solver()
    assert isinstance(solver, JitSolver) and solver.n_observables == len(scheme.observables)


@needs_cc
def test_jit_and_native_sensitivities_agree(monkeypatch):
    """Forward sensitivities (block factorisation) against the C path and against the analytic derivative of
    reversible binding: LR(t) = kon L / k (1 - exp(-k t)), k = kon L + koff."""
    from kinetics.fitting.sensitivity import augmented_segments

    s = ts.binding()
    m = kx.compile(s)
    L = 0.2
    sched = m.schedule(kx.Protocol([kx.steps("L", [0.0], [L])]), 0.0, 5.0)
    t = np.linspace(0.0, 5.0, 11)
    out = {}
    for name in ("native", "jit"):
        monkeypatch.setenv(backend.ENV, name)
        sens = m.sensitivity_solver(["kon", "koff"], ["R"])
        y, dy, st = sens.solve(m.parameter_vector(), m.initial_state(), augmented_segments(sched, sens), t,
                               rtol=1e-10, atol=1e-12)
        out[name] = (y, dy, st)
    assert type(m.sensitivity_solver(["kon", "koff"], ["R"])).__name__ == "JitSensitivitySystem"
    assert out["native"][2] == out["jit"][2]
    np.testing.assert_allclose(out["jit"][1], out["native"][1], rtol=1e-10, atol=1e-14)
    kon, koff = m.parameter_vector()
    k = kon * L + koff
    dlr_dkoff = -kon * L / k ** 2 * (1 - np.exp(-k * t)) + kon * L / k * t * np.exp(-k * t)
    np.testing.assert_allclose(out["jit"][1][:, 1, 1], dlr_dkoff, rtol=1e-6, atol=1e-10)


# ----------------------------------------------------------------------------- backend selection

def test_backend_choice_and_errors(monkeypatch):
    s = ts.decay()
    monkeypatch.setenv(backend.ENV, "JIT")                          # case does not matter
    assert backend.resolve() == "jit"
    monkeypatch.setenv(backend.ENV, "scipy")
    assert kx.simulate(s, t_end=1.0, n_points=3).method == "LSODA"   # "auto" is LSODA under scipy
    res = kx.simulate(s, t_end=1.0, n_points=3, method="rodas", rtol=1e-10, atol=1e-12)
    assert res.method == "rodas" and res["A"][-1] == pytest.approx(np.exp(-0.5), rel=1e-8)   # on the JIT path
    monkeypatch.setenv(backend.ENV, "numba")
    with pytest.raises(ArgumentError, match=r"\$NMDAKIN_BACKEND = 'numba' is not a backend; choose one of"):
        kx.simulate(s, t_end=1.0)


def _fresh_decay(tag: str, k: float):
    """First-order decay of a species named after ``tag``: a structure no other test builds, so it is not
    already loaded in this process whatever ran before."""
    name = f"A_{tag}"
    return kx.Scheme(tag, species=[kx.Species(name, 1.0)], parameters=[kx.Parameter("k", k, "1/ms")],
                     reactions=[kx.reaction(f"{name} ->", "k")])


def test_broken_compiler_with_the_native_backend_forced(tmp_path, monkeypatch):
    """NMDAKIN_BACKEND=native never uses the JIT path: an explicit native method raises the compiler's error."""
    monkeypatch.setenv("CC", "/bin/false")
    monkeypatch.setenv("NMDAKIN_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv(backend.ENV, "native")
    assert backend.compiler_problem() == "C compilation failed (exit status 1): /bin/false"
    with pytest.raises(CompilerError, match="C compilation failed"):
        kx.simulate(_fresh_decay("forced_native", 0.123), t_end=1.0, method="rodas")


def test_compiler_probe_reasons(tmp_path, monkeypatch):
    stub = tmp_path / "cc-stub"
    stub.write_text("#!/bin/sh\nexit 0\n")                          # "compiles" and writes nothing
    stub.chmod(0o755)
    cases = {str(stub): "wrote no library", "/nonexistent/cc": r"`/nonexistent/cc` \(from \$CC\) not found",
             'gcc "': r"cannot parse \$CC"}
    if compiler_available():
        cases["gcc -nostdinc"] = r"C compilation failed \(exit status 1\): "   # no C library headers
    for cc, reason in cases.items():
        monkeypatch.setenv("CC", cc)
        assert backend.compiler_problem() is not None
        assert re.search(reason, backend.compiler_problem()), (cc, backend.compiler_problem())


def _run(code: str, env_extra: dict, tmp_path) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (warnings shown once each, as by default) with the test's numba cache."""
    env = dict(os.environ, **env_extra)
    env.pop(backend.ENV, None)
    env["PYTHONWARNINGS"] = "default"
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=600, cwd=tmp_path)


FALLBACK = """
    import warnings
    import numpy as np
    import kinetics as kx
    from kinetics.jit.solver import JitSolver
    warnings.simplefilter("always")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 0.5, "1/ms")],
                      reactions=[kx.reaction("A ->", "k")])
        t = np.linspace(0.0, 4.0, 9)
        res = kx.simulate(s, t_end=4.0, t_eval=t, rtol=1e-10, atol=1e-12)
        assert res.method == "auto", res.method
        assert np.allclose(res["A"], np.exp(-0.5 * t), rtol=1e-8)
        assert kx.simulate(s, t_end=4.0, t_eval=t, method="rodas").method == "rodas"
        sw = kx.sweep(s, {"k": [0.5, 1.0]}, t_end=1.0, rtol=1e-10, atol=1e-12)
        assert np.allclose(sw.final[:, 0], np.exp(-np.array([0.5, 1.0])), rtol=1e-8)
        assert isinstance(kx.compile(s).native_solver(), JitSolver)
    for w in caught:
        print("WARNING", type(w.category).__name__, w.category.__name__, str(w.message))
"""


@pytest.mark.parametrize("env", [{"CC": "/bin/false"}, {"CC": "", "PATH": os.path.dirname(sys.executable)}],
                         ids=["cc-false", "no-compiler-on-path"])
def test_no_working_compiler_falls_back_with_one_warning(tmp_path, env):
    r = _run(FALLBACK, env, tmp_path)
    assert r.returncode == 0, r.stderr
    warned = [ln for ln in r.stdout.splitlines() if ln.startswith("WARNING")]
    assert len(warned) == 1, warned
    assert "JitFallbackWarning" in warned[0] and "no working C compiler (" in warned[0]
    assert "using the numba JIT path" in warned[0]
    if env.get("CC") == "/bin/false":
        assert "C compilation failed (exit status 1): /bin/false" in warned[0]
    else:
        assert "no C compiler found" in warned[0]


FIT = """
    import numpy as np
    import kinetics as kx
    from kinetics.fitting import Dataset, fit
    from kinetics.jit.solver import JitSolver
    s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 0.2, "1/ms")],
                  reactions=[kx.reaction("A ->", "k")])
    t = np.linspace(0.0, 10.0, 41)
    rng = np.random.default_rng(3)
    data = np.exp(-0.7 * t) + rng.normal(0.0, 0.01, t.size)
    res = fit(s, Dataset("d", t, {"A": data}, sigma=0.01), {"k": (0.01, 10.0)}, n_starts=2, executor="serial")
    assert isinstance(kx.compile(s).native_solver(), JitSolver)
    print("K", res.values["k"], res.ci["k"][0], res.ci["k"][1])
"""


def test_fitting_works_without_a_compiler(tmp_path):
    r = _run(FIT, {"CC": "/bin/false", "PATH": os.path.dirname(sys.executable)}, tmp_path)
    assert r.returncode == 0, r.stderr
    k, lo, hi = (float(v) for v in r.stdout.split("K", 1)[1].split())
    assert abs(k / 0.7 - 1) < 0.02 and lo < 0.7 < hi


# ----------------------------------------------------------------------------- the private disk cache

def test_generated_modules_are_checked_before_they_run(tmp_path, monkeypatch):
    """A cached module whose text does not match its SHA-256, or that others could write, is deleted and
    rewritten; the model still solves correctly."""
    from kinetics.jit import _SOLVERS
    from kinetics.jit.diskcache import cache_folder

    monkeypatch.setenv("NMDAKIN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv(backend.ENV, "jit")
    s = kx.Scheme("tamper", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 0.5, "1/ms")],
                  reactions=[kx.reaction("A ->", "k")])

    def solve_fresh():
        _SOLVERS._data.pop(kx.compile(s).key, None)        # as a new process would: load from the disk cache
        return kx.simulate(s, t_end=1.0, t_eval=[1.0], rtol=1e-10, atol=1e-12)["A"][0]

    assert solve_fresh() == pytest.approx(np.exp(-0.5), rel=1e-9)
    folder = cache_folder()
    assert folder is not None and (os.stat(folder).st_mode & 0o777) == 0o700
    (module,) = folder.glob("jit_*.py")
    module.write_text(module.read_text().replace("-_v0", "+_v0"))      # A would grow: never run
    assert solve_fresh() == pytest.approx(np.exp(-0.5), rel=1e-9)
    assert "+_v0" not in module.read_text()
    module.chmod(0o666)                                                  # writable by others: never run
    assert solve_fresh() == pytest.approx(np.exp(-0.5), rel=1e-9)
    assert (module.stat().st_mode & 0o022) == 0


@needs_cc
def test_a_model_the_compiler_cannot_build_falls_back_to_the_jit(tmp_path, monkeypatch):
    """A compiler that works (the probe passes) but fails on the model's library: that model (plain and with
    sensitivities) runs on the JIT path, with one warning naming it; nothing is retried."""
    cc = tmp_path / "cc-no-models"
    cc.write_text('#!/bin/sh\nfor a in "$@"; do [ "$a" = model.c ] && { echo "no models here" >&2; exit 3; }; done\n'
                  'exec gcc "$@"\n')
    cc.chmod(0o755)
    monkeypatch.setenv("CC", str(cc))                  # part of the library's key: nothing of it is cached
    monkeypatch.delenv(backend.ENV, raising=False)
    assert backend.resolve() == "native"
    s = _fresh_decay("cannot_build", 0.321)              # a structure not built in this process
    with pytest.warns(backend.JitFallbackWarning) as caught:
        res = kx.simulate(s, t_end=2.0, t_eval=[2.0], rtol=1e-10, atol=1e-12)
        kx.simulate(s, t_end=2.0, t_eval=[2.0])
    assert len(caught) == 1
    assert "the native solver of scheme `cannot_build` could not be built (C compilation failed (exit status 3)" in \
        str(caught[0].message) and "using the numba JIT path for it" in str(caught[0].message)
    assert res["A_cannot_build"][0] == pytest.approx(np.exp(-0.321 * 2.0), rel=1e-9)
    m = kx.compile(s)
    assert isinstance(m.native_solver(), JitSolver)
    assert type(m.sensitivity_solver(["k"])).__name__ == "JitSensitivitySystem"
