"""Tests of the compiled integrator (kinetics/native/integrator.c) and its ctypes glue.

Every model here is a hand-written C block (what the code generator will emit):
``NK_NSTATE``/``NK_NPARAM``/``NK_NINPUT`` plus ``nk_rhs`` and ``nk_jac``.
"""
from __future__ import annotations

import ctypes
import os
import threading
import time

import numpy as np
import pytest
import scipy.linalg
from scipy.integrate import solve_ivp

from kinetics.errors import CompilerError, ProtocolError, SolverError
from kinetics.native import NativeSolver, SegmentArrays, build, compiler_available
from kinetics.protocol.schedule import JUMP_ADD, JUMP_SET, Schedule

pytestmark = pytest.mark.skipif(not compiler_available(),
                                reason="no C compiler (cc/gcc/clang or $CC) available")


def model_source(n, n_param, n_input, rhs, jac, *, autonomous=False, extra=""):
    """A model block as the code generator emits it (bodies use t, y, p, u, f / J)."""
    return (f"#define NK_NSTATE {n}\n#define NK_NPARAM {n_param}\n#define NK_NINPUT {n_input}\n"
            + ("#define NK_AUTONOMOUS 1\n" if autonomous else "")
            + extra
            + "static void nk_rhs(double t, const double *y, const double *p, const double *u,"
              " double *f) {\n" + rhs + "\n}\n"
            + "static void nk_jac(double t, const double *y, const double *p, const double *u,"
              " double *J) {\n" + jac + "\n}\n")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("nkcache")


@pytest.fixture(scope="module")
def make(cache_dir):
    """make(n, n_param, n_input, rhs, jac, **kw) -> NativeSolver (compiled once per source)."""
    def _make(n, n_param, n_input, rhs, jac, **kw):
        path = build(model_source(n, n_param, n_input, rhs, jac, **kw), cache_dir=cache_dir)
        return NativeSolver(path, n, n_param, n_input)
    return _make


# ----------------------------------------------------------------------------- models

DECAY = dict(n=1, n_param=1, n_input=0, rhs="f[0] = -p[0] * y[0];", jac="J[0] = -p[0];",
             autonomous=True)

# A <-> B <-> C with rates p = (kf1, kb1, kf2, kb2)
ABC_RHS = """
double r1 = p[0] * y[0] - p[1] * y[1], r2 = p[2] * y[1] - p[3] * y[2];
f[0] = -r1; f[1] = r1 - r2; f[2] = r2;"""
ABC_JAC = """
J[0] = -p[0]; J[1] = p[1];          J[2] = 0.0;
J[3] = p[0];  J[4] = -p[1] - p[2];  J[5] = p[3];
J[6] = 0.0;   J[7] = p[2];          J[8] = -p[3];"""

ROBER_RHS = """
double r1 = p[0] * y[0], r2 = p[1] * y[1] * y[1], r3 = p[2] * y[1] * y[2];
f[0] = -r1 + r3; f[1] = r1 - r2 - r3; f[2] = r2;"""
ROBER_JAC = """
J[0] = -p[0]; J[1] = p[2] * y[2];                    J[2] = p[2] * y[1];
J[3] = p[0];  J[4] = -2.0 * p[1] * y[1] - p[2] * y[2]; J[5] = -p[2] * y[1];
J[6] = 0.0;   J[7] = 2.0 * p[1] * y[1];               J[8] = 0.0;"""
ROBER_K = np.array([0.04, 3e7, 1e4])

VDP_RHS = "f[0] = y[1]; f[1] = p[0] * (1.0 - y[0] * y[0]) * y[1] - y[0];"
VDP_JAC = ("J[0] = 0.0; J[1] = 1.0; J[2] = -2.0 * p[0] * y[0] * y[1] - 1.0; "
           "J[3] = p[0] * (1.0 - y[0] * y[0]);")

# dy/dt = -p0*y + u0
INPUT_RHS = "f[0] = -p[0] * y[0] + u[0];"
INPUT_JAC = "J[0] = -p[0];"

METHODS = ["dopri5", "rodas", "auto"]


@pytest.fixture(scope="module")
def decay(make):
    return make(**DECAY)


@pytest.fixture(scope="module")
def abc(make):
    return make(3, 4, 0, ABC_RHS, ABC_JAC, autonomous=True)


@pytest.fixture(scope="module")
def rober(make):
    return make(3, 3, 0, ROBER_RHS, ROBER_JAC, autonomous=True)


@pytest.fixture(scope="module")
def vdp(make):
    return make(2, 1, 0, VDP_RHS, VDP_JAC, autonomous=True)


@pytest.fixture(scope="module")
def driven(make):
    return make(1, 1, 1, INPUT_RHS, INPUT_JAC, autonomous=True)


# ----------------------------------------------------------------------------- accuracy

@pytest.mark.parametrize("method", METHODS)
def test_exponential_decay_dense_output(decay, method):
    k, T = 0.7, 12.0
    t_out = np.linspace(0.0, T, 241)       # mostly strictly inside steps: dense output
    y_out, y_end, stats = decay.solve([k], [2.0], SegmentArrays.single(0.0, T), t_out,
                                      method=method, rtol=1e-8, atol=1e-14)
    exact = 2.0 * np.exp(-k * t_out)
    rel = np.abs(y_out[:, 0] - exact) / exact
    assert rel.max() < 1e-6
    assert abs(y_end[0] - exact[-1]) / exact[-1] < 1e-6
    assert y_out[-1, 0] == y_end[0]          # output at the end is the final state
    assert y_out[0, 0] == 2.0
    # outputs come from the dense output: the step sequence does not depend on them
    _, y_end2, stats2 = decay.solve([k], [2.0], SegmentArrays.single(0.0, T), [],
                                    method=method, rtol=1e-8, atol=1e-14)
    assert stats2 == stats and y_end2[0] == y_end[0]
    assert stats["n_segments"] == 1
    assert stats["n_switches"] == 0
    if method == "rodas":
        assert stats["n_rodas_steps"] == stats["n_steps"]
        assert stats["n_jac"] >= stats["n_steps"] and stats["n_lu"] >= stats["n_steps"]
    else:
        assert stats["n_rodas_steps"] == 0 and stats["n_jac"] == 0


@pytest.mark.parametrize("method", METHODS)
def test_linear_three_state_against_expm(abc, method):
    k = np.array([2.0, 0.5, 1.0, 0.3])
    K = np.array([[-k[0], k[1], 0.0],
                  [k[0], -k[1] - k[2], k[3]],
                  [0.0, k[2], -k[3]]])
    y0 = np.array([0.8, 0.2, 0.0])
    t_out = np.concatenate([[0.0, 1e-3, 0.0137], np.linspace(0.25, 15.0, 60)])
    y_out, y_end, _ = abc.solve(k, y0, SegmentArrays.single(0.0, 15.0), t_out,
                                method=method, rtol=1e-9, atol=1e-13)
    exact = [y0] + [scipy.linalg.expm(K * t) @ y0 for t in t_out[1:4]]
    step = scipy.linalg.expm(K * 0.25)              # uniform grid: powers of one expm
    for _ in range(59):
        exact.append(step @ exact[-1])
    exact = np.array(exact)
    np.testing.assert_allclose(y_out, exact, rtol=0, atol=1e-7)
    np.testing.assert_allclose(y_out.sum(axis=1), 1.0, atol=1e-9)   # mass conservation
    np.testing.assert_allclose(y_end, exact[-1], atol=1e-7)


@pytest.fixture(scope="module")
def rober_reference():
    k = ROBER_K

    def f(t, y):
        r1, r2, r3 = k[0] * y[0], k[1] * y[1] ** 2, k[2] * y[1] * y[2]
        return [-r1 + r3, r1 - r2 - r3, r2]

    def jac(t, y):
        return [[-k[0], k[2] * y[2], k[2] * y[1]],
                [k[0], -2 * k[1] * y[1] - k[2] * y[2], -k[2] * y[1]],
                [0.0, 2 * k[1] * y[1], 0.0]]

    sol = solve_ivp(f, (0.0, 1e4), [1.0, 0.0, 0.0], method="Radau", rtol=1e-12, atol=1e-14,
                    jac=jac, t_eval=[40.0, 1e4])
    assert sol.success
    return {40.0: sol.y[:, 0], 1e4: sol.y[:, 1]}


@pytest.mark.parametrize("method", ["rodas", "auto"])
@pytest.mark.parametrize("t_end", [40.0, 1e4])
def test_robertson_stiff(rober, rober_reference, method, t_end):
    ref = rober_reference[t_end]
    # sanity of the reference against the published t = 40 values (Hairer & Wanner)
    if t_end == 40.0:
        np.testing.assert_allclose(ref, [0.7158270687, 9.185534765e-6, 0.2841637457], rtol=1e-8)
    y_out, y_end, stats = rober.solve(ROBER_K, [1.0, 0.0, 0.0], SegmentArrays.single(0.0, t_end),
                                      [t_end], method=method, rtol=1e-8,
                                      atol=np.array([1e-14, 1e-18, 1e-14]))
    rel = np.abs(y_end - ref) / np.abs(ref)
    assert rel[0] < 1e-5 and rel[2] < 1e-5
    assert rel[1] < 1e-4
    assert stats["n_steps"] < 5000         # a stiff solver, not an explicit crawl
    if method == "auto":
        assert stats["n_switches"] >= 1
        assert stats["n_rodas_steps"] > 0
        assert stats["n_steps"] - stats["n_rodas_steps"] < 500   # switched early


def test_robertson_dopri5_is_slow_but_auto_switches(rober):
    """dopri5 needs tens of thousands of stability-limited steps where auto switches."""
    sa = SegmentArrays.single(0.0, 40.0)
    _, y_d, st_d = rober.solve(ROBER_K, [1.0, 0.0, 0.0], sa, [], method="dopri5", rtol=1e-6,
                               atol=1e-12)
    _, y_a, st_a = rober.solve(ROBER_K, [1.0, 0.0, 0.0], sa, [], method="auto", rtol=1e-6,
                               atol=1e-12)
    assert st_d["n_steps"] > 10000 and st_d["n_switches"] == 0
    assert st_a["n_steps"] < 500 and st_a["n_switches"] == 1
    np.testing.assert_allclose(y_a[[0, 2]], y_d[[0, 2]], rtol=1e-5)


def test_nonstiff_problem_does_not_switch(vdp):
    for rtol in (1e-3, 1e-6, 1e-10):
        _, _, st = vdp.solve([1.0], [2.0, 0.0], SegmentArrays.single(0.0, 20.0), [],
                             method="auto", rtol=rtol, atol=rtol * 1e-3)
        assert st["n_switches"] == 0


# ----------------------------------------------------------------------------- convergence

@pytest.fixture(scope="module")
def vdp_reference():
    sol = solve_ivp(lambda t, y: [y[1], (1 - y[0] ** 2) * y[1] - y[0]], (0.0, 2.0), [2.0, 0.0],
                    method="DOP853", rtol=1e-13, atol=1e-15, dense_output=True)
    return sol.sol


@pytest.mark.parametrize("method,order", [("dopri5", 5), ("rodas", 4)])
def test_fixed_step_convergence_order(vdp, vdp_reference, method, order):
    """first_step = max_step = H and huge tolerances give fixed steps: measure the order."""
    T, errs, dense_errs = 2.0, [], []
    for n_steps in (20, 40, 80):
        H = T / n_steps
        t_mid = (np.arange(n_steps) + 0.37) * H
        y_out, y_end, st = vdp.solve([1.0], [2.0, 0.0], SegmentArrays.single(0.0, T), t_mid,
                                     method=method, rtol=1e6, atol=1e6, first_step=H,
                                     max_step=H)
        assert st["n_steps"] == n_steps and st["n_rejected"] == 0
        errs.append(np.abs(y_end - vdp_reference(T)).max())
        dense_errs.append(np.abs(y_out - vdp_reference(t_mid).T).max())
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(orders > order - 0.5), orders
    # dense output: 4th order (dopri5) / 3rd order (rodas) -> errors ~h^5 / h^4
    dense_orders = np.log2(np.array(dense_errs[:-1]) / np.array(dense_errs[1:]))
    assert np.all(dense_orders > order - 0.6), dense_orders


@pytest.mark.parametrize("method", METHODS)
def test_error_decreases_with_rtol(vdp, vdp_reference, method):
    sa = SegmentArrays.single(0.0, 2.0)
    t_out = np.linspace(0.0, 2.0, 41)
    errors = []
    for rtol in (1e-5, 1e-7, 1e-9):
        y_out, _, _ = vdp.solve([1.0], [2.0, 0.0], sa, t_out, method=method, rtol=rtol,
                                atol=rtol * 1e-2)
        errors.append(np.abs(y_out - vdp_reference(t_out).T).max())
    assert errors[0] / errors[1] > 20 and errors[1] / errors[2] > 20, errors
    assert errors[2] < 1e-8


def test_explicit_time_dependence_rodas_dfdt(make):
    """A non-autonomous RHS (no NK_AUTONOMOUS): rodas needs df/dt (finite difference)."""
    solver = make(1, 1, 0, "f[0] = p[0] * cos(t) * y[0];", "J[0] = p[0] * cos(t);")
    t_out = np.linspace(0.0, 6.0, 61)
    for method in METHODS:
        y_out, _, _ = solver.solve([1.5], [1.0], SegmentArrays.single(0.0, 6.0), t_out,
                                   method=method, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(y_out[:, 0], np.exp(1.5 * np.sin(t_out)), rtol=2e-7)


# ----------------------------------------------------------------------------- inputs, jumps

def _pulse_schedule():
    """One input: a square pulse, exponential decays, an alpha function and a ramp."""
    boundaries = np.array([0.0, 1.0, 1.5, 3.0, 3.2, 6.0, 10.0])
    const = np.array([[0.0], [2.0], [0.0], [1.0], [0.5], [0.0]])
    # (segment, t_ref, rate, p, q)
    terms = [(2, 1.5, 3.0, 1.0, 0.0),
             (3, 3.0, 5.0, 0.0, 4.0),
             (4, 3.2, 0.7, -0.3, 0.0), (4, 3.2, 0.0, 0.0, 0.1),
             (5, 6.0, 2.0, 1.0, 0.5)]
    term_ptr = np.searchsorted([t[0] for t in terms], np.arange(7), side="left").astype(np.int32)
    return Schedule(inputs=("glu",), boundaries=boundaries, const=const,
                    term_ptr=term_ptr, term_input=np.zeros(len(terms), np.int32),
                    term_data=np.array([t[1:] for t in terms]),
                    jump_ptr=np.zeros(7, np.int32), jump_target=(),
                    jump_kind=np.zeros(0, np.int32), jump_value=np.zeros(0))


def _analytic_driven(schedule, a, y0, t_eval):
    """Exact solution of y' = -a y + u(t) for a Schedule without jumps."""
    def G(tau, p, q, b):                       # antiderivative of e^{b s} (p + q s)
        if b == 0.0:
            return p * tau + 0.5 * q * tau ** 2
        return np.exp(b * tau) * ((p + q * tau) / b - q / b ** 2)

    def advance(s, ys, ts, t):
        y = ys * np.exp(-a * (t - ts)) + schedule.const[s, 0] / a * (1 - np.exp(-a * (t - ts)))
        for k in range(schedule.term_ptr[s], schedule.term_ptr[s + 1]):
            t_ref, rate, p, q = schedule.term_data[k]
            b = a - rate
            y += np.exp(-a * (t - t_ref)) * (G(t - t_ref, p, q, b) - G(ts - t_ref, p, q, b))
        return y

    out = []
    b = schedule.boundaries
    for t in t_eval:
        s = int(schedule.segment_of(t))
        y_start = y0
        for r in range(s):
            y_start = advance(r, y_start, b[r], b[r + 1])
        out.append(advance(s, y_start, b[s], t))
    return np.array(out)


@pytest.mark.parametrize("method", METHODS)
def test_inputs_pulses_and_exponential_terms(driven, method):
    sched = _pulse_schedule()
    sa = SegmentArrays.from_schedule(sched, {"R": 0})
    t_out = np.unique(np.concatenate([np.linspace(0.0, 10.0, 157), sched.boundaries]))
    a = 1.3
    y_out, y_end, stats = driven.solve([a], [0.25], sa, t_out, method=method, rtol=1e-9,
                                       atol=1e-12)
    exact = _analytic_driven(sched, a, 0.25, t_out)
    np.testing.assert_allclose(y_out[:, 0], exact, rtol=1e-7, atol=1e-10)
    assert stats["n_segments"] == 6


def _jump_schedule():
    boundaries = np.array([0.0, 1.0, 2.5, 4.0])
    return Schedule(inputs=(), boundaries=boundaries, const=np.zeros((3, 0)),
                    term_ptr=np.zeros(4, np.int32), term_input=np.zeros(0, np.int32),
                    term_data=np.zeros((0, 4)),
                    jump_ptr=np.array([0, 1, 2, 3], np.int32),
                    jump_target=("B", "B", "B"),
                    jump_kind=np.array([JUMP_ADD, JUMP_ADD, JUMP_SET], np.int32),
                    jump_value=np.array([0.5, 2.0, 5.0]))


@pytest.mark.parametrize("method", METHODS)
def test_jumps_add_and_set_with_outputs_at_jump_times(make, method):
    # two independent decays; jumps act on state 1 ("B") only
    solver = make(2, 2, 0, "f[0] = -p[0] * y[0]; f[1] = -p[1] * y[1];",
                  "J[0] = -p[0]; J[1] = 0; J[2] = 0; J[3] = -p[1];", autonomous=True)
    sa = SegmentArrays.from_schedule(_jump_schedule(), {"A": 0, "B": 1})
    k = np.array([0.3, 0.9])
    t_out = np.array([0.0, 0.5, 1.0, 1.0, 2.0, 2.5, 3.0, 4.0])
    y_out, y_end, _ = solver.solve(k, [1.0, 1.0], sa, t_out, method=method, rtol=1e-10,
                                   atol=1e-13)

    def b_exact(t):
        if t < 1.0:
            return 1.5 * np.exp(-k[1] * t)
        if t < 2.5:
            return (1.5 * np.exp(-k[1]) + 2.0) * np.exp(-k[1] * (t - 1.0))
        return 5.0 * np.exp(-k[1] * (t - 2.5))

    np.testing.assert_allclose(y_out[:, 0], np.exp(-k[0] * t_out), rtol=1e-8)
    np.testing.assert_allclose(y_out[:, 1], [b_exact(t) for t in t_out], rtol=1e-8)
    assert y_out[0, 1] == 1.5                  # jump at t0 seen by the t0 output
    assert y_out[5, 1] == 5.0                  # "set" seen exactly at its time
    assert y_out[2, 1] == y_out[3, 1]          # duplicate output times
    assert y_out[-1, 1] == y_end[1]


@pytest.mark.parametrize("seed", range(12))
def test_random_linear_schedules_against_expm(abc, seed):
    """Random rates (stiff and not), random segments, jumps and output times vs expm."""
    rng = np.random.default_rng(seed)
    k = 10.0 ** rng.uniform(-2, 4, 4)
    K = np.array([[-k[0], k[1], 0.0], [k[0], -k[1] - k[2], k[3]], [0.0, k[2], -k[3]]])
    n_seg = int(rng.integers(1, 6))
    b = np.concatenate([[0.0], np.cumsum(rng.uniform(0.05, 3.0, n_seg))])
    jumps = [(int(rng.integers(0, n_seg)), int(rng.integers(0, 3)), int(rng.integers(0, 2)),
              float(rng.uniform(0, 1))) for _ in range(int(rng.integers(0, 5)))]
    jumps.sort()
    jump_ptr = np.searchsorted([j[0] for j in jumps], np.arange(n_seg + 1), side="left")
    sa = SegmentArrays(boundaries=b, const=np.zeros((n_seg, 0)), term_ptr=np.zeros(n_seg + 1),
                       term_input=[], term_data=np.zeros((0, 4)), jump_ptr=jump_ptr,
                       jump_index=[j[1] for j in jumps], jump_kind=[j[2] for j in jumps],
                       jump_value=[j[3] for j in jumps])
    t_out = np.sort(np.concatenate([rng.uniform(0, b[-1], 20), b]))
    y0 = rng.uniform(0, 1, 3)

    # exact: propagate with the matrix exponential, applying jumps at segment starts.
    # K has distinct real eigenvalues (detailed balance), so expm(K t) = V e^{Lt} V^-1;
    # checked against scipy.linalg.expm once.
    lam, V = np.linalg.eig(K)
    lam, V = lam.real, V.real
    Vinv = np.linalg.inv(V)

    def expm_t(t):
        return (V * np.exp(lam * t)) @ Vinv

    np.testing.assert_allclose(expm_t(0.1), scipy.linalg.expm(K * 0.1), atol=1e-9)
    exact, y, s_cur = [], y0.copy(), -1
    for t in t_out:
        s = min(int(np.searchsorted(b, t, side="right")) - 1, n_seg - 1)
        while s_cur < s:
            s_cur += 1
            if s_cur > 0:
                y = expm_t(b[s_cur] - b[s_cur - 1]) @ y
            for seg, idx, kind, value in jumps:
                if seg == s_cur:
                    y[idx] = y[idx] + value if kind == JUMP_ADD else value
        exact.append(expm_t(t - b[s]) @ y)
    exact = np.array(exact)
    for method in METHODS:
        y_out, y_end, st = abc.solve(k, y0, sa, t_out, method=method, rtol=1e-9, atol=1e-12,
                                     max_steps=2_000_000)
        scale = np.abs(exact).max()
        np.testing.assert_allclose(y_out, exact, rtol=0, atol=2e-7 * scale, err_msg=method)
        assert np.array_equal(y_end, y_out[-1])


def test_unknown_jump_target_is_a_protocol_error():
    # suggestions ignore case: `B` is nearest to `b`
    with pytest.raises(ProtocolError, match="`B` is not a state; did you mean `b`"):
        SegmentArrays.from_schedule(_jump_schedule(), {"A": 0, "Bb": 1, "b": 2})


# A model that counts right-hand-side calls made with t outside the current segment.
# u[0] = segment start, u[1] = segment end (piecewise-constant inputs); the counters
# are test-only static state read back through an exported function.
SPY_EXTRA = """
#define NK_CLAMP_TIME 0   /* test the steppers, not the safety clamp */
static long spy_calls = 0, spy_beyond = 0;
static double spy_tmax = -1e300;
#if defined(__GNUC__)
__attribute__((visibility("default")))
#endif
void spy_read(double *out) { out[0] = (double)spy_calls; out[1] = (double)spy_beyond;
                             out[2] = spy_tmax; spy_calls = spy_beyond = 0; spy_tmax = -1e300; }
"""
SPY_RHS = """
spy_calls++;
if (t > u[1]) spy_beyond++;
if (t > spy_tmax) spy_tmax = t;
/* stiff + oscillatory forcing that changes character at every boundary */
f[0] = -p[0] * (y[0] - cos(t)) + u[1] - u[0];
f[1] = y[0] - y[1];"""
SPY_JAC = "J[0] = -p[0]; J[1] = 0.0; J[2] = 1.0; J[3] = -1.0;"


@pytest.mark.parametrize("method", METHODS)
def test_rhs_never_evaluated_beyond_a_boundary(make, method):
    solver = make(2, 1, 2, SPY_RHS, SPY_JAC, extra=SPY_EXTRA)
    spy = solver._lib.spy_read
    spy.argtypes = [ctypes.c_void_p]
    rng = np.random.default_rng(1)
    boundaries = np.concatenate([[0.0], np.cumsum(rng.uniform(0.01, 3.0, 25))])
    boundaries[5] = boundaries[4] + 1e-9          # a very short segment too
    n_seg = len(boundaries) - 1
    const = np.stack([boundaries[:-1], boundaries[1:]], axis=1)
    sa = SegmentArrays(boundaries=boundaries, const=const, term_ptr=np.zeros(n_seg + 1),
                       term_input=[], term_data=np.zeros((0, 4)),
                       jump_ptr=np.zeros(n_seg + 1), jump_index=[], jump_kind=[],
                       jump_value=[])
    out = np.zeros(3)
    spy(out.ctypes.data)
    _, _, stats = solver.solve([500.0], [0.0, 0.0], sa, np.linspace(0, boundaries[-1], 50),
                               method=method, rtol=1e-7, atol=1e-10)
    spy(out.ctypes.data)
    assert out[0] == stats["n_rhs"] > 0
    assert out[1] == 0, f"{int(out[1])} RHS calls beyond their segment's end"
    assert out[2] == boundaries[-1]            # ...but it does land exactly on the end


@pytest.mark.parametrize("method", METHODS)
def test_nan_beyond_boundary_is_never_touched(make, method):
    """y' = cos(t), but NaN for t > t_b when p[1] = 1. The solve is bit-identical to
    the one without the NaN branch: no stage, initial-step probe or df/dt difference
    looked past the end of the segment."""
    solver = make(1, 2, 0, "f[0] = (t > p[0] && p[1] != 0.0) ? NAN : cos(t);", "J[0] = 0.0;",
                  extra="#define NK_CLAMP_TIME 0\n")
    for t_b in (1.0, 0.3, 7.77, 1e-3, 123.456):
        t_out = [t_b / 3, t_b]
        sa = SegmentArrays.single(0.0, t_b)
        kw = dict(method=method, rtol=1e-9, atol=1e-12)
        y_out, y_end, stats = solver.solve([t_b, 1.0], [0.0], sa, t_out, **kw)
        y_out0, y_end0, stats0 = solver.solve([t_b, 0.0], [0.0], sa, t_out, **kw)
        assert stats == stats0 and np.array_equal(y_out, y_out0)
        np.testing.assert_allclose(y_out[:, 0], np.sin(t_out), rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("length", [1e-10, 1e-15])
def test_huge_input_in_a_short_last_segment(driven, method, length):
    """u = 0, then u = 1e30 on a very short last segment: any leak of segment 1 into
    segment 0 (or a step past the end) would be visible at a 1e30 scale."""
    sa = SegmentArrays(boundaries=[0.0, 1.0, 1.0 + length], const=[[0.0], [1e30]],
                       term_ptr=[0, 0, 0], term_input=[], term_data=np.zeros((0, 4)),
                       jump_ptr=[0, 0, 0], jump_index=[], jump_kind=[], jump_value=[])
    y_out, y_end, _ = driven.solve([1.0], [1.0], sa, [0.5, 1.0, sa.t_end], method=method,
                                   rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(y_out[:2, 0], np.exp([-0.5, -1.0]), rtol=1e-7)
    dt = sa.boundaries[2] - sa.boundaries[1]        # the segment length as represented
    exact = np.exp(-1.0 - dt) - 1e30 * np.expm1(-dt)
    np.testing.assert_allclose(y_end[0], exact, rtol=1e-7)
    assert y_out[2, 0] == y_end[0]


def test_many_segments_restart_and_step_controls(decay):
    b = np.linspace(0.0, 5.0, 51)
    sa = SegmentArrays(boundaries=b, const=np.zeros((50, 0)), term_ptr=np.zeros(51),
                       term_input=[], term_data=np.zeros((0, 4)), jump_ptr=np.zeros(51),
                       jump_index=[], jump_kind=[], jump_value=[])
    y_out, y_end, st = decay.solve([1.0], [1.0], sa, b, rtol=1e-9, atol=1e-14)
    assert st["n_segments"] == 50 and st["n_steps"] >= 50
    np.testing.assert_allclose(y_out[:, 0], np.exp(-b), rtol=1e-8)
    _, _, st = decay.solve([1.0], [1.0], SegmentArrays.single(0.0, 5.0), [], max_step=0.01)
    assert st["n_steps"] >= 500
    _, _, st2 = decay.solve([1.0], [1.0], SegmentArrays.single(0.0, 5.0), [], method="rodas",
                            first_step=1e-7)
    _, _, st3 = decay.solve([1.0], [1.0], SegmentArrays.single(0.0, 5.0), [], method="rodas")
    assert st2["n_steps"] > st3["n_steps"]


# ----------------------------------------------------------------------------- failures

def test_max_steps_exceeded(rober):
    with pytest.raises(SolverError) as info:
        rober.solve(ROBER_K, [1.0, 0.0, 0.0], SegmentArrays.single(0.0, 40.0), [],
                    method="dopri5", max_steps=100)
    err = info.value
    assert err.status == -2 and err.method == "dopri5"
    assert "maximum number of steps" in str(err)
    assert 0.0 < err.t < 40.0


def test_nan_rhs(make):
    # NaN from the first evaluation on, and NaN only once t > p[0]
    solver = make(1, 1, 0, "f[0] = (t >= p[0]) ? NAN : -y[0];", "J[0] = -1.0;")
    for method in METHODS:
        with pytest.raises(SolverError) as info:
            solver.solve([0.0], [1.0], SegmentArrays.single(0.0, 1.0), [], method=method)
        assert info.value.status == -3 and info.value.t == 0.0
        with pytest.raises(SolverError) as info:
            solver.solve([0.5], [1.0], SegmentArrays.single(0.0, 1.0), [], method=method)
        assert info.value.status == -3
        assert "non-finite" in str(info.value)
        assert info.value.t == pytest.approx(0.5, abs=1e-6)


def test_nonfinite_initial_state(decay):
    with pytest.raises(SolverError) as info:
        decay.solve([1.0], [np.nan], SegmentArrays.single(0.0, 1.0), [])
    assert info.value.status == -3


def test_step_size_too_small_at_blow_up(make):
    solver = make(1, 1, 0, "f[0] = y[0] * y[0];", "J[0] = 2.0 * y[0];")
    for method in METHODS:
        with pytest.raises(SolverError) as info:       # y = 1/(1-t) blows up at t = 1
            solver.solve([0.0], [1.0], SegmentArrays.single(0.0, 2.0), [], method=method)
        assert info.value.status == -1
        assert info.value.t == pytest.approx(1.0, abs=1e-5)


def test_bad_arguments(decay):
    sa = SegmentArrays.single(0.0, 1.0)
    invalid = r"invalid arguments \(t_out must be sorted and inside \[t0, t_end\].*status -5"
    for call in (lambda: decay.solve([1.0], [1.0], sa, [0.5, 2.0]),          # output after t_end
                 lambda: decay.solve([1.0], [1.0], sa, [0.5, 0.2]),          # unsorted
                 lambda: decay.solve([1.0], [1.0], sa, [], rtol=0.0, atol=0.0)):
        with pytest.raises(SolverError, match=invalid) as info:
            call()
        assert info.value.status == -5
    with pytest.raises(ValueError, match=r"params must have shape \(1,\), got \(2,\)"):
        decay.solve([1.0, 2.0], [1.0], sa, [])
    with pytest.raises(ValueError, match=r"y0 must have shape \(1,\), got \(2,\)"):
        decay.solve([1.0], [1.0, 2.0], sa, [])
    with pytest.raises(ValueError, match="unknown method"):
        decay.solve([1.0], [1.0], sa, [], method="rk45")
    with pytest.raises(ValueError, match="schedule has 1 inputs, model has 0"):
        decay.solve([1.0], [1.0], SegmentArrays.single(0.0, 1.0, const=[1.0]), [])
    with pytest.raises(ValueError, match="boundaries must be finite and strictly increasing"):
        SegmentArrays.single(1.0, 1.0)
    with pytest.raises(ValueError, match=r"atol must be a scalar or have shape \(1,\), got \(2,\)"):
        decay.solve([1.0], [1.0], sa, [], atol=[1e-9, 1e-9])


def test_library_dimension_check(decay):
    with pytest.raises(ValueError, match="compiled for"):
        NativeSolver(decay.path, 2, 1, 0)


# ----------------------------------------------------------------------------- build

def test_compile_error_raises_compiler_error(tmp_path):
    bad = model_source(1, 1, 0, "f[0] = -p[0] * y[0] + undefined_symbol;", "J[0] = -p[0];")
    with pytest.raises(CompilerError, match="undefined_symbol"):
        build(bad, cache_dir=tmp_path)
    assert not list(tmp_path.glob("*.so")) and not list(tmp_path.glob(".nk_*"))


def test_missing_compiler(tmp_path, monkeypatch):
    monkeypatch.setenv("CC", "/nonexistent/cc-that-is-not-there")
    assert not compiler_available()
    with pytest.raises(CompilerError, match="not found"):
        build(model_source(**DECAY), cache_dir=tmp_path)


def test_build_is_cached(tmp_path):
    src = model_source(**DECAY) + "/* cache test */\n"
    t0 = time.perf_counter()
    p1 = build(src, cache_dir=tmp_path)
    cold = time.perf_counter() - t0
    mtime = p1.stat().st_mtime_ns
    t0 = time.perf_counter()
    p2 = build(src, cache_dir=tmp_path)
    warm = time.perf_counter() - t0
    assert p1 == p2 and p2.stat().st_mtime_ns == mtime
    assert warm < cold / 5
    assert p1.with_suffix(".c").exists()          # the source is kept for debugging
    p3 = build(src + "/* different */\n", cache_dir=tmp_path)
    assert p3 != p1


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NMDAKIN_CACHE_DIR", str(tmp_path / "envcache"))
    path = build(model_source(**DECAY) + "/* env */\n")
    assert path.parent == tmp_path / "envcache"


def test_concurrent_builds_of_the_same_source(tmp_path):
    src = model_source(**DECAY) + "/* concurrency test */\n"
    results, errors = [], []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            results.append(build(src, cache_dir=tmp_path))
        except Exception as exc:       # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 2 and results[0] == results[1]
    assert len(list(tmp_path.glob("*.so"))) == 1 and not list(tmp_path.glob(".nk_*"))
    solver = NativeSolver(results[0], 1, 1, 0)
    _, y, _ = solver.solve([1.0], [1.0], SegmentArrays.single(0.0, 1.0), [], rtol=1e-10,
                           atol=1e-14)
    assert y[0] == pytest.approx(np.exp(-1.0), rel=1e-8)


def test_concurrent_builds_in_two_processes(tmp_path):
    """Two processes compiling the same model into one cache both succeed."""
    import subprocess
    import sys
    code = ("import sys; from kinetics.native import build; "
            "print(build(sys.stdin.read(), cache_dir=sys.argv[1]))")
    src = model_source(**DECAY) + "/* process test */\n"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))]
        + os.environ.get("PYTHONPATH", "").split(os.pathsep)))
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    outs = [p.communicate(src) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert outs[0][0] == outs[1][0]
    assert len(list(tmp_path.glob("*.so"))) == 1 and not list(tmp_path.glob(".nk_*"))


# ----------------------------------------------------------------------------- threads

def test_solve_many_threads_equal_sequential(rober):
    rng = np.random.default_rng(7)
    P = ROBER_K * rng.uniform(0.5, 2.0, size=(24, 3))
    y0 = np.array([1.0, 0.0, 0.0])
    t_out = np.geomspace(1e-4, 100.0, 30)
    sa = SegmentArrays.single(0.0, 100.0)
    y2, f2, s2 = rober.solve_many(P, y0, sa, t_out, n_workers=2, rtol=1e-7, atol=1e-12)
    y1, f1, s1 = rober.solve_many(P, np.tile(y0, (24, 1)), sa, t_out, n_workers=1, rtol=1e-7,
                                  atol=1e-12)
    assert y2.shape == (24, 30, 3) and f2.shape == (24, 3) and len(s2) == 24
    assert np.array_equal(y1, y2) and np.array_equal(f1, f2) and s1 == s2
    for i in (0, 13, 23):
        yo, yf, st = rober.solve(P[i], y0, sa, t_out, rtol=1e-7, atol=1e-12)
        assert np.array_equal(yo, y2[i]) and np.array_equal(yf, f2[i]) and st == s2[i]


def test_solve_many_reports_failing_row(decay):
    P = np.array([[1.0], [2.0], [np.inf], [1.0]])
    with pytest.raises(SolverError, match="row 2") as info:
        decay.solve_many(P, [1.0], SegmentArrays.single(0.0, 1.0), [], n_workers=2)
    assert info.value.status == -3


def test_native_call_releases_the_gil(rober):
    """While one thread is inside nk_solve, Python code keeps running in another."""
    sa = SegmentArrays.single(0.0, 1e4)
    started, done = threading.Event(), threading.Event()
    duration = []

    def long_solve():
        started.set()
        t0 = time.perf_counter()
        rober.solve_many(np.tile(ROBER_K, (30, 1)), [1.0, 0.0, 0.0], sa, [], n_workers=1,
                         method="rodas", rtol=1e-10, atol=1e-16)
        duration.append(time.perf_counter() - t0)
        done.set()

    worker = threading.Thread(target=long_solve)
    worker.start()
    started.wait()
    iterations = 0
    while not done.is_set():
        iterations += 1
    worker.join()
    assert duration[0] > 0.02
    # a GIL-holding call would leave this loop a handful of iterations at most
    assert iterations > 1000, (iterations, duration)


def test_concurrent_solves_from_threads(rober):
    """The same solver used from several threads at once gives the sequential results."""
    from concurrent.futures import ThreadPoolExecutor
    sa = SegmentArrays.single(0.0, 100.0)
    t_out = np.linspace(0.0, 100.0, 11)
    ks = [ROBER_K * f for f in (0.5, 1.0, 2.0, 3.0)] * 4
    expected = [rober.solve(k, [1.0, 0, 0], sa, t_out)[0] for k in ks]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda k: rober.solve(k, [1.0, 0, 0], sa, t_out)[0], ks))
    assert all(np.array_equal(a, b) for a, b in zip(expected, got))


def test_posix_math_constants_compile_under_c99():
    """sympy's C printer writes log(2) as M_LN2, 1/pi as M_1_PI...: POSIX names that -std=c99 hides (the PEtab
    Elowitz model failed to build on M_LN2); the generated code defines them when missing."""
    import math

    import kinetics as kx

    rate = "k*log(2)*log(10)*sqrt(2)/pi + k*exp(1)/sqrt(pi) - k*sqrt(2)/2"
    s = kx.Scheme("posix_constants", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 1.0, "1/ms")],
                  reactions=[kx.reaction("A ->", rate)])
    k = math.log(2) * math.log(10) * math.sqrt(2) / math.pi + math.e / math.sqrt(math.pi) - math.sqrt(2) / 2
    res = kx.simulate(s, t_end=1.0, n_points=3, rtol=1e-12, atol=1e-14)
    assert res["A"][-1] == pytest.approx(math.exp(-k), rel=1e-9)
