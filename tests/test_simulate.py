"""simulate(): analytic oracles, stiff reference values, conservation, protocols, errors."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.linalg import expm

import kinetics as kx
from kinetics import (ArgumentError, Input, Observable, Parameter, Protocol, RateRule, Scheme, SchemeError,
                      SolverError, Species, reaction)

DATA = Path(__file__).parent / "data"
ALL_METHODS = ["auto", "dopri5", "rodas", "LSODA", "BDF", "Radau"]


def decay(k=0.5):
    return Scheme("decay", species=[Species("A", 1.0)], parameters=[Parameter("k", k, "1/ms")],
                  reactions=[reaction("A ->", "k")])


def binding(kon=2.0, koff=0.3):
    return Scheme("binding", species=[Species("R", 1.0, unit="1"), Species("LR", 0.0, unit="1")],
                  parameters=[Parameter("kon", kon, "1/(mM*ms)"), Parameter("koff", koff, "1/ms")],
                  inputs=[Input("L", 0.0, "mM")], reactions=[reaction("R <-> LR", "kon*L", "koff")])


def five_state(rates=(5.0, 12.9e-3, 8.4e-3, 6.8e-3, 46.5e-3, 73.8e-3)):
    names = ("Rb", "Ru", "Rd", "Rr", "Ro", "Rc")
    units = ("1/(mM*ms)",) + ("1/ms",) * 5
    return Scheme(
        "five", species=[Species(n, 1.0 if n == "C0" else 0.0, unit="1") for n in ("C0", "C1", "C2", "D", "O")],
        parameters=[Parameter(n, v, u) for n, v, u in zip(names, rates, units)],
        inputs=[Input("glu", 0.0, "mM")],
        reactions=[reaction("C0 <-> C1", "Rb*glu", "Ru"), reaction("C1 <-> C2", "Rb*glu", "Ru"),
                   reaction("C2 <-> D", "Rd", "Rr"), reaction("C2 <-> O", "Ro", "Rc")],
        observables=[Observable("Popen", "O")])


def generator(rates, glu):
    """Rate matrix A (dy/dt = A y) of the five-state scheme with constant glutamate."""
    Rb, Ru, Rd, Rr, Ro, Rc = rates
    A = np.zeros((5, 5))
    def edge(i, j, k):  # i -> j at rate k
        A[i, i] -= k
        A[j, i] += k
    edge(0, 1, Rb * glu); edge(1, 0, Ru); edge(1, 2, Rb * glu); edge(2, 1, Ru)
    edge(2, 3, Rd); edge(3, 2, Rr); edge(2, 4, Ro); edge(4, 2, Rc)
    return A


@pytest.mark.parametrize("method", ALL_METHODS)
def test_first_order_decay(method):
    t = np.linspace(0, 10, 41)
    res = kx.simulate(decay(), t_end=10.0, t_eval=t, method=method, rtol=1e-9, atol=1e-12)
    assert np.allclose(res["A"], np.exp(-0.5 * t), rtol=2e-7, atol=1e-11)
    assert res.y.shape == (41, 1)
    assert np.array_equal(res.t, t)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_reversible_binding_relaxation(method):
    kon, koff, L = 2.0, 0.3, 0.25
    t = np.linspace(0, 20, 81)
    res = kx.simulate(binding(kon, koff), Protocol([kx.steps("L", [0.0], [L])]), t_end=20.0, t_eval=t,
                      method=method, rtol=1e-9, atol=1e-12)
    kobs = kon * L + koff
    beq = L / (koff / kon + L)   # Bmax L / (Kd + L), Bmax = 1
    assert np.allclose(res["LR"], beq * (1 - np.exp(-kobs * t)), rtol=1e-6, atol=1e-10)
    assert np.allclose(res["R"] + res["LR"], 1.0, atol=1e-10)


@pytest.mark.parametrize("method", ["auto", "rodas", "LSODA"])
def test_linear_scheme_under_pulses_equals_matrix_exponential(method):
    rates = (5.0, 12.9e-3, 8.4e-3, 6.8e-3, 46.5e-3, 73.8e-3)
    pulse_times = [5.0, 30.0, 60.0]
    t_eval = np.linspace(0, 200, 801)
    res = kx.simulate(five_state(rates), Protocol([kx.pulses("glu", pulse_times, amplitude=1.0, width=1.0)]),
                      t_end=200.0, t_eval=t_eval, method=method, rtol=1e-10, atol=1e-13)
    A_on, A_off = generator(rates, 1.0), generator(rates, 0.0)
    bps = sorted({0.0, 200.0, *pulse_times, *(p + 1.0 for p in pulse_times)})
    expect = np.empty((t_eval.size, 5))
    y = np.array([1.0, 0, 0, 0, 0])
    for a, b in zip(bps[:-1], bps[1:]):
        A = A_on if any(p <= a < p + 1.0 for p in pulse_times) else A_off
        mask = (t_eval >= a) & ((t_eval < b) | ((b == 200.0) & (t_eval <= b)))
        for i in np.nonzero(mask)[0]:
            expect[i] = expm(A * (t_eval[i] - a)) @ y
        y = expm(A * (b - a)) @ y
    assert np.max(np.abs(res.y - expect)) < 1e-8
    assert np.allclose(res["Popen"], expect[:, 4], atol=1e-8)


def test_robertson_against_published_reference():
    ref = json.loads((DATA / "robertson.json").read_text())
    s = Scheme("robertson", species=[Species("y1", 1.0), Species("y2", 0.0), Species("y3", 0.0)],
               parameters=[Parameter("k1", 0.04), Parameter("k2", 3e7), Parameter("k3", 1e4)],
               reactions=[reaction("y1 -> y2", "k1"), reaction("2 y2 -> y2 + y3", "k2"), reaction("y2 + y3 -> y1 + y3", "k3")])
    for method in ("auto", "rodas", "Radau"):
        for point in ref["points"]:
            t = point["t"]
            res = kx.simulate(s, t_end=t, t_eval=[t], method=method, rtol=1e-10, atol=[1e-14, 1e-18, 1e-14])
            got = res.y[-1]
            for i, name in enumerate(("y1", "y2", "y3")):
                assert got[i] == pytest.approx(point[name], rel=1e-5), (method, t, name)


def test_auto_switches_to_rodas_on_stiff_problem():
    s = Scheme("robertson", species=[Species("y1", 1.0), Species("y2", 0.0), Species("y3", 0.0)],
               parameters=[Parameter("k1", 0.04), Parameter("k2", 3e7), Parameter("k3", 1e4)],
               reactions=[reaction("y1 -> y2", "k1"), reaction("2 y2 -> y2 + y3", "k2"), reaction("y2 + y3 -> y1 + y3", "k3")])
    res = kx.simulate(s, t_end=1e4, method="auto", rtol=1e-8, atol=1e-12)
    assert res.stats["stiffness_switches"] >= 1
    assert res.stats["rodas_steps"] > 0


@pytest.mark.parametrize("method", ["auto", "LSODA"])
def test_solver_never_steps_across_a_pulse(method):
    # dx/dt = k (u - x): a 0.05 ms pulse a step-skipping solver would miss entirely
    s = Scheme("follower", species=[Species("x", 0.0)], parameters=[Parameter("k", 2.0, "1/ms")],
               inputs=[Input("u", 0.0)], rate_rules=[RateRule("x", "k*(u - x)")])
    t_on, w, k = 500.0, 0.05, 2.0
    res = kx.simulate(s, Protocol([kx.pulses("u", [t_on], amplitude=1.0, width=w)]), t_end=1000.0,
                      t_eval=[t_on + w, 600.0], method=method, rtol=1e-10, atol=1e-14)
    peak = 1 - math.exp(-k * w)
    assert res.y[0, 0] == pytest.approx(peak, rel=1e-8)
    assert res.y[1, 0] == pytest.approx(peak * math.exp(-k * (600.0 - t_on - w)), rel=1e-6)


def test_state_jumps_are_applied_and_right_continuous():
    s = decay(k=0.1)
    prot = Protocol([kx.jumps("A", [10.0], 2.0), kx.jumps("A", [20.0], 5.0, mode="set")])
    res = kx.simulate(s, prot, t_end=30.0, t_eval=[9.999999, 10.0, 15.0, 20.0, 30.0], rtol=1e-10, atol=1e-13)
    a10 = math.exp(-1.0)
    assert res["A"][1] == pytest.approx(a10 + 2.0, rel=1e-8)        # post-jump value at the jump time
    assert res["A"][2] == pytest.approx((a10 + 2.0) * math.exp(-0.5), rel=1e-8)
    assert res["A"][3] == pytest.approx(5.0, rel=1e-12)
    assert res["A"][4] == pytest.approx(5.0 * math.exp(-1.0), rel=1e-8)


def test_conservation_of_occupancy_under_pulses():
    res = kx.simulate(five_state(), Protocol([kx.pulses("glu", np.arange(10.0, 1000.0, 50.0))]), t_end=1000.0,
                      rtol=1e-7, atol=1e-10)
    assert np.max(np.abs(res.y.sum(axis=1) - 1.0)) < 1e-8


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(1e-3, 10.0), min_size=6, max_size=6), st.floats(0.01, 10.0))
def test_occupancies_stay_probabilities_for_random_rates(rates, glu):
    res = kx.simulate(five_state(tuple(rates)), Protocol([kx.pulses("glu", [1.0, 7.0], amplitude=glu, width=1.0)]),
                      t_end=20.0, t_eval=np.linspace(0, 20, 101), rtol=1e-8, atol=1e-12)
    assert np.all(res.y >= -1e-9) and np.all(res.y <= 1 + 1e-9)
    assert np.allclose(res.y.sum(axis=1), 1.0, atol=1e-8)


def test_native_and_scipy_agree_on_nonlinear_model():
    s = Scheme("nl", species=[Species("A", 1.0), Species("B", 0.2), Species("C", 0.0)],
               parameters=[Parameter("k1", 1.5, "1/(mM*ms)"), Parameter("k2", 0.7, "1/ms"), Parameter("Km", 0.3, "mM")],
               inputs=[Input("u", 0.0)],
               reactions=[reaction("A + B -> C", "k1*(1 + u)"), reaction("C -> B", rate="k2*C/(Km + C)")])
    prot = Protocol([kx.waveform("u", [2.0, 5.0], kx.biexponential(1.0, 0.2, 1.5))])
    t = np.linspace(0, 10, 51)
    a = kx.simulate(s, prot, t_end=10.0, t_eval=t, rtol=1e-11, atol=1e-13)
    b = kx.simulate(s, prot, t_end=10.0, t_eval=t, method="DOP853", rtol=1e-12, atol=1e-14)
    assert np.max(np.abs(a.y - b.y)) < 1e-9


def test_result_api():
    res = kx.simulate(binding(), Protocol([kx.steps("L", [1.0], [0.5])]), t_end=5.0, t_eval=[0.0, 0.5, 1.0, 5.0])
    assert res["L"].tolist() == [0.0, 0.0, 0.5, 0.5]          # right-continuous input at the step
    df = res.to_dataframe()
    assert list(df.columns) == ["R", "LR", "L"] and df.index.name == "time"
    with pytest.raises(KeyError, match="did you mean `LR`"):
        res["LRR"]
    assert set(res.stats) >= {"rhs_evaluations", "steps", "segments"}


def test_sweep_equals_individual_runs():
    s = binding()
    prot = Protocol([kx.steps("L", [0.0], [0.2])])
    kons = np.array([0.5, 1.0, 2.0, 4.0])
    sw = kx.sweep(s, {"kon": kons}, prot, t_end=10.0, rtol=1e-10, atol=1e-12, n_workers=2)
    for i, kon in enumerate(kons):
        one = kx.simulate(s, prot, t_end=10.0, t_eval=[10.0], params={"kon": kon}, rtol=1e-10, atol=1e-12)
        assert np.allclose(sw.final[i], one.y[-1], rtol=1e-12, atol=1e-15)
    assert sw.final_of("LR").shape == (4,)


def test_steady_state_with_conservation_law():
    kon, koff, L = 2.0, 0.3, 0.25
    ss = kx.steady_state(binding(kon, koff), inputs={"L": L})
    assert ss["LR"] == pytest.approx(L / (koff / kon + L), rel=1e-10)
    rates = (5.0, 12.9e-3, 8.4e-3, 6.8e-3, 46.5e-3, 73.8e-3)
    ss5 = kx.steady_state(five_state(rates), inputs={"glu": 0.01})
    A = generator(rates, 0.01)
    w, v = np.linalg.eig(A)
    null = np.real(v[:, np.argmin(np.abs(w))])
    null /= null.sum()
    assert np.allclose(ss5.vector, null, atol=1e-10)


# ------------------------------------------------------------------ errors
def test_bad_tolerances_and_grids():
    s = decay()
    with pytest.raises(ArgumentError, match="`rtol` must be in"):
        kx.simulate(s, t_end=1.0, rtol=0.0)
    with pytest.raises(ArgumentError, match="`atol` must be finite and > 0"):
        kx.simulate(s, t_end=1.0, atol=-1.0)
    with pytest.raises(ArgumentError, match="`atol` must be a number or one value per state"):
        kx.simulate(s, t_end=1.0, atol=[1e-9, 1e-9])
    with pytest.raises(ArgumentError, match="`t_end`.*greater than `t0`"):
        kx.simulate(s, t_end=0.0)
    with pytest.raises(ArgumentError, match="sorted"):
        kx.simulate(s, t_end=1.0, t_eval=[0.5, 0.1])
    with pytest.raises(ArgumentError, match="within"):
        kx.simulate(s, t_end=1.0, t_eval=[0.5, 2.0])
    with pytest.raises(ArgumentError, match="did you mean `Radau`"):
        kx.simulate(s, t_end=1.0, method="radau")


def test_bad_overrides():
    s = decay()
    with pytest.raises(SchemeError, match="unknown parameter `kk`.*did you mean `k`"):
        kx.simulate(s, t_end=1.0, params={"kk": 1.0})
    with pytest.raises(SchemeError, match="outside its bounds"):
        kx.simulate(s, t_end=1.0, params={"k": -1.0})
    with pytest.raises(SchemeError, match="unknown species `B`"):
        kx.simulate(s, t_end=1.0, y0={"B": 1.0})


@pytest.mark.parametrize("method", ["auto", "LSODA"])
def test_failed_solve_raises_solver_error_with_time(method):
    blowup = Scheme("blowup", species=[Species("A", 1.0)], parameters=[Parameter("k", 1.0, "1/(mM*ms)")],
                    reactions=[reaction("2 A -> 3 A", "k")])  # dA/dt = A^2: infinite at t = 1
    with pytest.raises(SolverError) as info:
        kx.simulate(blowup, t_end=2.0, method=method)
    assert info.value.t is not None and 0.9 < info.value.t <= 1.0 + 1e-6
    assert "at t = " in str(info.value)


def test_max_steps_budget():
    with pytest.raises(SolverError, match="status -2"):
        kx.simulate(decay(), t_end=100.0, max_steps=3)


def test_pi_and_explicit_time_in_rate_laws_compile_natively():
    # k(t) = k (1 + sin(2 pi t)); over whole periods the sine integrates to zero: A(1) = exp(-k)
    s = Scheme("periodic", species=[Species("A", 1.0)], parameters=[Parameter("k", 1.0, "1/ms")],
               reactions=[reaction("A ->", "k*(1 + sin(2*pi*t))")])
    res = kx.simulate(s, t_end=1.0, t_eval=[0.25, 1.0], rtol=1e-11, atol=1e-14)
    assert res["A"][-1] == pytest.approx(math.exp(-1.0), rel=1e-9)
    assert res["A"][0] == pytest.approx(math.exp(-(0.25 + (1 - math.cos(math.pi / 2)) / (2 * math.pi))), rel=1e-9)


@pytest.mark.parametrize("method", ["LSODA", "BDF", "RK45"])
def test_scipy_methods_return_the_initial_state_exactly(method):
    # at t0 (and at every segment start) the state is known: no interpolation error, even in the last bit
    s = kx.Scheme("decay_t0", species=[kx.Species("A", 1.0, "1")], parameters=[kx.Parameter("k", 1.0, "1/ms")],
                  reactions=[kx.reaction("A ->", "k*A")])
    res = kx.simulate(s, t_end=1.0, n_points=3, method=method, rtol=1e-6, atol=1e-9)
    assert res["A"][0] == 1.0 and res["A"][-1] == pytest.approx(0.5, rel=1e-5)       # A = 1 / (1 + k t)
