"""Calcium-based plasticity rules: Graupner & Brunel 2012 (ODE, SDE ensemble, the analytic prediction exact and
periodic) and Shouval et al. 2002."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import kinetics as kx
from models.experiments import pairing_times
from kinetics.errors import ArgumentError, SchemeError
from models import graupner_brunel2012 as gb
from models import shouval2002 as sbc

DATA = json.loads((Path(__file__).parent / "data" / "graupner_brunel2012.json").read_text())
SBC_DATA = json.loads((Path(__file__).parent / "data" / "shouval2002.json").read_text())


def pairs(dt, n=60, freq=1.0):
    return pairing_times(n, freq, dt, t0=max(0.0, -dt))


# --------------------------------------------------------------------------- parameter sets
def test_all_nine_parameter_sets_match_their_sources():
    cols = DATA["parameter_columns"]
    assert set(gb.PARAMETER_SETS) == set(DATA["parameter_sets"])
    assert len(gb.PARAMETER_SETS) == 9
    for name, entry in DATA["parameter_sets"].items():
        ps = gb.get_set(name)
        assert entry["source"]
        assert ps.source and "Graupner" in ps.source
        got = [getattr(ps, c) for c in cols]
        np.testing.assert_allclose(got, entry["values"], rtol=1e-12, atol=0, err_msg=name)


def test_set_names_aliases_and_errors():
    assert gb.get_set("DPD'").name == "DPDprime"
    assert gb.get_set("D'").name == "Dprime"
    assert gb.get_set("cortical slices").name == "cortical_slices"
    assert gb.get_set("Cortical-Slices").name == "cortical_slices"
    with pytest.raises(ArgumentError, match="unknown Graupner-Brunel parameter set `DPP`.*did you mean"):
        gb.get_set("DPP")
    with pytest.raises(ArgumentError, match="did you mean `sigma`"):
        gb.get_set("DP").with_values(sigm=0.0)
    with pytest.raises(ArgumentError, match="`tau_ca_ms` of set `DP` must be > 0"):
        gb.get_set("DP").with_values(tau_ca_ms=0.0)


def test_scheme_declares_paper_units_and_converts_to_ms():
    s = gb.scheme("DP")
    assert s.get_parameter("tau").unit == "s" and s.get_parameter("tau").value == 150.0
    assert s.parameter_factors()["tau"] == pytest.approx(1000.0)
    assert s.get_parameter("tauCa").unit == "ms"
    assert all(p.reference for p in s.parameters)


# --------------------------------------------------------------------------- exact calcium
def test_calcium_is_the_sum_of_exponentials_and_matches_the_ode():
    ps = gb.get_set("DP")
    pre, post = [5.0, 40.0, 41.0], [10.0, 30.0, 54.7]
    t = np.linspace(0.0, 150.0, 301)
    direct = sum(ps.c_pre * np.exp(-(t - (tp + ps.delay_ms)) / ps.tau_ca_ms) * (t >= tp + ps.delay_ms) for tp in pre)
    direct = direct + sum(ps.c_post * np.exp(-(t - tq) / ps.tau_ca_ms) * (t >= tq) for tq in post)
    np.testing.assert_allclose(gb.calcium(t, pre, post, ps), direct, rtol=1e-12, atol=1e-14)
    res = gb.simulate_ode(pre, post, ps, t_end=150.0, t_eval=t)
    np.testing.assert_allclose(res["c"], direct, rtol=1e-7, atol=1e-9)


def test_time_above_threshold_matches_a_fine_grid():
    ps = gb.get_set("DPD")
    rng = np.random.default_rng(3)
    pre = np.sort(rng.uniform(0, 400, 12))
    post = np.sort(rng.uniform(0, 400, 9))
    h = 1e-3
    t = np.arange(-10.0, 700.0, h) + h / 2
    c = gb.calcium(t, pre, post, ps)
    t_d, t_p = gb.time_above(pre, post, ps)
    assert t_d == pytest.approx(np.sum(c > ps.theta_d) * h, abs=0.02)
    assert t_p == pytest.approx(np.sum(c > ps.theta_p) * h, abs=0.02)
    assert t_p < t_d


@pytest.mark.parametrize("dt, freq", [(10.0, 1.0), (-25.0, 5.0), (10.0, 50.0), (-10.0, 40.0), (-4.6, 20.0),
                                      (30.0, 50.0), (-70.0, 20.0)])
def test_periodic_time_fractions_equal_the_steady_state_of_a_long_train(dt, freq):
    # time above threshold added by one more pair once the calcium is periodic = alpha * period
    ps = gb.get_set("DPD")
    period = 1000.0 / freq
    n = 80
    long_d, long_p = gb.time_above(*pairs(dt, n, freq), ps)
    short_d, short_p = gb.time_above(*pairs(dt, n - 1, freq), ps)
    a_d, a_p = gb.pairing_time_fractions(dt, freq, ps)
    assert a_d * period == pytest.approx(long_d - short_d, abs=1e-9)
    assert a_p * period == pytest.approx(long_p - short_p, abs=1e-9)


# --------------------------------------------------------------------------- analytic prediction
def test_prediction_limits_and_readout():
    assert gb.predict(0.0, 0.0, 60000.0, "DP").change == 1.0
    assert gb.change_from_transitions(0.0, 1.0, 0.5, 5.0) == pytest.approx(1 / 3)
    assert gb.change_from_transitions(1.0, 0.0, 0.5, 5.0) == pytest.approx(5 / 3)
    # sigma = 0: all-or-none transitions decided by the mean
    det = gb.get_set("DP").with_values(sigma=0.0)
    p = gb.predict(0.05, 0.04, 60000.0, det)
    assert p.up in (0.0, 1.0) and p.down in (0.0, 1.0)
    assert p.up == float(p.mean_from_down > 0.5)
    with pytest.raises(ArgumentError, match="`alpha_d` must be a fraction"):
        gb.predict(1.5, 0.0, 1000.0, "DP")


def _periodic_calcium(t, dt_ms, period, v):
    """Steady-state calcium of regular pairing, summed transient by transient over the earlier pairs."""
    n_back = int(math.ceil(60.0 * v["tau_ca_ms"] / period)) + 2       # older transients: < exp(-60)
    c = np.zeros_like(t)
    for onset, amp in ((v["delay_ms"], v["c_pre"]), (dt_ms, v["c_post"])):
        for k in range(-n_back, n_back + 1):
            lag = t - (onset + k * period)
            c += np.where(lag >= 0.0, amp * np.exp(-np.maximum(lag, 0.0) / v["tau_ca_ms"]), 0.0)
    return c


def _fraction_above(dt_ms, period, v, theta, h=0.01):
    """Fraction of one period the calcium is above `theta`: sign changes on a fine grid, refined with brentq."""
    from scipy.optimize import brentq

    grid = np.linspace(0.0, period, int(round(period / h)) + 1)
    above = _periodic_calcium(grid, dt_ms, period, v) > theta

    def excess(x):
        return float(_periodic_calcium(np.array([x]), dt_ms, period, v)[0]) - theta

    cells = np.flatnonzero(above[:-1] != above[1:])
    cuts = [brentq(excess, grid[i], grid[i + 1], xtol=1e-13, rtol=4 * np.finfo(float).eps) for i in cells]
    edges = np.concatenate([[0.0], cuts, [period]])
    mids = 0.5 * (edges[:-1] + edges[1:])
    inside = _periodic_calcium(mids, dt_ms, period, v) > theta
    fraction = float(np.sum(np.diff(edges)[inside]) / period)
    # the refinement only moves each crossing within its grid cell
    assert abs(fraction - above[:-1].mean()) <= (len(cuts) + 1) * h / period
    return fraction


def _ou_prediction(v, a_d, a_p, T):
    """The Ornstein-Uhlenbeck process of the time-averaged SDE, Gaussian at T, and the population readout."""
    from scipy.stats import norm

    tau = v["tau_s"] * 1000.0
    rate = (v["gamma_p"] * a_p + v["gamma_d"] * a_d) / tau            # relaxation rate of the mean (1/ms)
    rho_bar = v["gamma_p"] * a_p / (v["gamma_p"] * a_p + v["gamma_d"] * a_d)
    diffusion = v["sigma"] ** 2 * (a_d + a_p) / tau                     # noise variance per ms
    mean_down = rho_bar + (0.0 - rho_bar) * math.exp(-rate * T)
    mean_up = rho_bar + (1.0 - rho_bar) * math.exp(-rate * T)
    sd = math.sqrt(diffusion / (2 * rate) * (1 - math.exp(-2 * rate * T)))
    up = norm.sf(v["rho_star"], mean_down, sd)
    down = norm.cdf(v["rho_star"], mean_up, sd)
    beta, b = v["beta"], v["b"]
    change = (beta * (1 - up) + (1 - beta) * down + b * (beta * up + (1 - beta) * (1 - down))) / (beta + (1 - beta) * b)
    return rate, rho_bar, diffusion, mean_down, mean_up, up, down, change


@pytest.mark.parametrize("name, dt, freq, n_pairs", [("DP", -20.0, 1.0, 60), ("DP", 10.0, 1.0, 60),
                                                     ("cortical_slices", -10.0, 20.0, 75)])
def test_prediction_is_the_gaussian_tail_of_the_ou_process(name, dt, freq, n_pairs):
    # Everything recomputed here from the parameter values in tests/data: the time fractions by sampling the
    # periodic calcium, then the Ornstein-Uhlenbeck process of the time-averaged SDE
    #   tau drho/dt = gamma_p alpha_p (1 - rho) - gamma_d alpha_d rho + sigma sqrt(tau) sqrt(alpha_d + alpha_p) eta
    # (the paper's approximation: cubic term neglected), Gaussian at T with its exact mean and variance.
    v = dict(zip(DATA["parameter_columns"], DATA["parameter_sets"][name]["values"]))
    period = 1000.0 / freq
    a_d = _fraction_above(dt, period, v, v["theta_d"])
    a_p = _fraction_above(dt, period, v, v["theta_p"])
    assert 0.0 < a_p < a_d < 1.0
    T = n_pairs * period
    rate, rho_bar, diffusion, mean_down, mean_up, up, down, change = _ou_prediction(v, a_d, a_p, T)

    p = gb.pairing_prediction(dt, freq, n_pairs, name)
    tight = dict(rel=1e-9, abs=1e-13)
    assert (p.alpha_d, p.alpha_p) == (pytest.approx(a_d, **tight), pytest.approx(a_p, **tight))
    assert p.duration_ms == pytest.approx(T, rel=1e-15)
    assert p.rho_bar == pytest.approx(rho_bar, **tight)
    assert p.tau_eff_ms == pytest.approx(1.0 / rate, **tight)
    assert p.sigma_rho2 == pytest.approx(diffusion / rate, **tight)     # the stationary variance is sigma_rho^2/2
    assert p.mean_from_down == pytest.approx(mean_down, **tight)
    assert p.mean_from_up == pytest.approx(mean_up, **tight)
    assert p.up == pytest.approx(up, **tight) and p.down == pytest.approx(down, **tight)
    assert p.change == pytest.approx(change, **tight)
    assert 1e-3 < up < 1 - 1e-3 and 1e-3 < down < 1 - 1e-3              # both tails matter in these cases


def test_exact_train_analytic_equals_the_papers_periodic_prediction_at_1_hz():
    for dt in (-60.0, -20.0, -5.0, 0.0, 7.0, 25.0, 80.0):
        exact = gb.analytic_change(*pairs(dt), "DP").change
        paper = gb.pairing_prediction(dt, 1.0, 60, "DP").change
        assert exact == pytest.approx(paper, abs=1e-9)


# --------------------------------------------------------------------------- exact vs periodic (the paper's way)
def _closed_form_fractions(dt_ms, freq_hz, v):
    """(alpha_d, alpha_p) of the steady-state periodic calcium, in closed form.

    Periodic calcium of a pairing protocol with period P: after the presynaptic transient (at D) and the
    postsynaptic one (at dt mod P) it is the geometric sum A/(1 - exp(-P/tauCa)) of every earlier period's
    transients. Between two events it decays, so it is above theta for min(gap, tauCa ln(c/theta)) after each.
    Written here from the model equations (not with the module's code): events as a dict, each peak summed
    transient by transient.
    """
    period, tau = 1000.0 / freq_hz, v["tau_ca_ms"]
    events = {}
    for onset, amp in ((v["delay_ms"] % period, v["c_pre"]), (dt_ms % period, v["c_post"])):
        events[round(onset, 12)] = events.get(round(onset, 12), 0.0) + amp
    times = sorted(events)
    geometric = 1.0 / (1.0 - math.exp(-period / tau))
    out = []
    for theta in (v["theta_d"], v["theta_p"]):
        above = 0.0
        for j, tj in enumerate(times):
            peak = sum(events[ti] * math.exp(-((tj - ti) % period) / tau) for ti in times) * geometric
            gap = (times[(j + 1) % len(times)] - tj) % period or period
            if peak > theta:
                above += min(gap, tau * math.log(peak / theta))
        out.append(above / period)
    return tuple(out)


def _fig4_value(dt_ms, freq_hz, v, n_pairs):
    a_d, a_p = _closed_form_fractions(dt_ms, freq_hz, v)
    return _ou_prediction(v, a_d, a_p, n_pairs * 1000.0 / freq_hz)[-1]


SJOSTROM_GRID = [(dt, f) for dt in (10.0, -10.0) for f in (0.1, 10.0, 20.0, 40.0, 50.0)]


def test_periodic_method_gives_the_papers_fig4_values_for_the_cortical_set():
    # The paper's Fig. 4 computation (Graupner & Brunel 2012; tests/data sjostrom_model_protocol: 75 regular pairs
    # with the steady-state periodic calcium), recomputed here from the published formulas and the parameter values
    # of tests/data: closed-form periodic calcium, time above threshold per period, OU prediction at T = 75/f.
    from models import experiments, registry

    v = dict(zip(DATA["parameter_columns"], DATA["parameter_sets"]["cortical_slices"]["values"]))
    n_pairs = DATA["sjostrom_model_protocol"]["pairs"]
    expected = {(dt, f): _fig4_value(dt, f, v, n_pairs) for dt, f in SJOSTROM_GRID}
    # the closed-form fractions agree with the sampled periodic calcium (an independent route)
    for dt, f in ((-10.0, 40.0), (10.0, 20.0)):
        sampled = (_fraction_above(dt, 1000.0 / f, v, v["theta_d"]), _fraction_above(dt, 1000.0 / f, v, v["theta_p"]))
        assert _closed_form_fractions(dt, f, v) == pytest.approx(sampled, rel=1e-9, abs=1e-12)

    r = experiments.frequency(method="periodic", progress=False)          # the CLI's default grid, Sjostrom bursts
    assert (r["set"], r["method"]) == ("cortical_slices", "periodic")
    got = {(dt, f): r["change"][r["dt_ms"].index(dt)][r["freq_hz"].index(f)] for dt, f in SJOSTROM_GRID}
    for key in SJOSTROM_GRID:
        assert got[key] == pytest.approx(expected[key], rel=1e-9), key
    # the values (rounded) the tests below and the docs quote
    assert [round(got[(10.0, f)], 4) for f in (0.1, 10.0, 20.0, 40.0, 50.0)] == [1.0613, 1.083, 1.253, 1.5526, 1.6368]
    assert [round(got[(-10.0, f)], 4) for f in (0.1, 10.0, 20.0, 40.0, 50.0)] == [0.6908, 0.6214, 0.6349, 1.5851,
                                                                                   1.6368]
    # the registry model on the trains themselves, and the module function, give the same numbers
    m = registry.get("graupner-brunel-2012")
    pre, post = experiments.sjostrom_protocol(-10.0, 40.0)
    assert m.change(pre, post, set="cortical_slices", method="periodic") == got[(-10.0, 40.0)]
    assert gb.pairing_prediction(-10.0, 40.0, 75, "cortical_slices").change == got[(-10.0, 40.0)]


def test_exact_and_periodic_differ_for_the_sjostrom_bursts_as_measured():
    from models import experiments

    periodic = experiments.frequency(method="periodic", progress=False)["change"]
    exact = experiments.frequency(method="exact", progress=False)["change"]
    diff = np.array(periodic) - np.array(exact)            # rows +10, -10 ms; columns 0.1, 10, 20, 40, 50 Hz
    # 0.1 Hz: 5 pairs do not fit in a 10 s burst, the 75 pairs are one regular train 10 s apart: no overlap in
    # calcium, the periodic state is the train's own
    assert np.all(np.abs(diff[:, 0]) < 1e-9)
    # measured: the largest difference is at 40 Hz, -10 ms (the issue's ~0.157)
    assert np.unravel_index(np.argmax(np.abs(diff)), diff.shape) == (1, 3)
    assert diff[1, 3] == pytest.approx(0.1568, abs=5e-4)
    assert diff[0, 3] == pytest.approx(0.1347, abs=5e-4)
    np.testing.assert_allclose(diff[:, 1:], [[0.0044, 0.0378, 0.1347, 0.0623], [-0.0135, 0.0279, 0.1568, 0.0765]],
                               atol=5e-4)
    # why: each burst of 5 pairs starts from zero calcium, so the delivered trains spend less time above threshold
    # than 75 periods of the periodic state (at 40 Hz the periodic calcium never falls below theta_d: alpha_d = 1)
    pre, post = experiments.sjostrom_protocol(-10.0, 40.0)
    per = gb.periodic_change(pre, post, "cortical_slices")
    t_d, t_p = gb.time_above(pre, post, "cortical_slices")
    assert per.alpha_d == 1.0 and per.alpha_d * per.duration_ms == pytest.approx(75 * 25.0)
    assert t_d < 0.95 * 75 * 25.0 and t_p < 0.75 * per.alpha_p * per.duration_ms


def test_periodic_stdp_is_the_papers_fig2_computation():
    from models import experiments

    dts = [-60.0, -20.0, -5.0, 0.0, 7.0, 25.0, 80.0]
    r = experiments.stdp(dt_ms=dts, method="periodic", progress=False)
    assert r["method"] == "periodic" and (r["pairs"], r["freq_hz"]) == (60, 1.0)
    assert r["change"] == [gb.pairing_prediction(dt, 1.0, 60, "DP").change for dt in dts]
    ex = experiments.stdp(dt_ms=dts, method="exact", progress=False)["change"]
    np.testing.assert_allclose(r["change"], ex, atol=1e-9)          # 1 Hz: pairs do not overlap in calcium
    # regular pairs at 40 Hz: the only difference is the build-up over the first pairs and the decay after the last
    fast = experiments.stdp(dt_ms=[-10.0, 10.0], freq_hz=40.0, method="periodic", progress=False)["change"]
    fast_ex = experiments.stdp(dt_ms=[-10.0, 10.0], freq_hz=40.0, method="exact", progress=False)["change"]
    np.testing.assert_allclose(fast, fast_ex, atol=0.008)           # measured 0.0069 and 0.0058


def test_analytic_is_the_former_name_of_exact():
    from models import experiments, registry

    m = registry.get("graupner-brunel-2012")
    assert m.methods[0] == "exact" and m.check_method("analytic") == "exact"
    old = experiments.frequency(freq_hz=[20.0], method="analytic", progress=False)
    new = experiments.frequency(freq_hz=[20.0], method="exact", progress=False)
    assert old == new and old["method"] == "exact"
    pre, post = pairs(10.0)
    assert m.change(pre, post) == gb.analytic_change(pre, post, "DP").change      # the default is exact


def test_infer_pairing_reads_pairing_protocols():
    from models.experiments import sjostrom_protocol

    assert gb.infer_pairing(*pairs(-25.0)) == gb.Pairing(-25.0, 1.0, 60, 60, 1, None)
    assert gb.infer_pairing(*sjostrom_protocol(10.0, 50.0)) == gb.Pairing(10.0, 50.0, 75, 5, 15, 10000.0)
    # at 0.1 Hz the Sjostrom protocol is one regular train of 75 pairs (5 pairs do not fit in 10 s)
    assert gb.infer_pairing(*sjostrom_protocol(-10.0, 0.1)) == gb.Pairing(-10.0, 0.1, 75, 75, 1, None)
    # frequencies whose interval is not a round number of ms, and |dt| longer than the interval
    p = gb.infer_pairing(*pairing_times(5, 30.0, 50.0, n_bursts=4, burst_period=2000.0))
    assert (p.freq_hz, p.n_pairs, p.dt_ms) == (pytest.approx(30.0, rel=1e-12), 20, pytest.approx(50.0))
    # unsorted trains are sorted first
    assert gb.infer_pairing([100.0, 0.0], [110.0, 10.0]) == gb.Pairing(10.0, 10.0, 2, 2, 1, None)


@pytest.mark.parametrize("pre, post, message", [
    ([0.0, 100.0, 200.0], [10.0, 110.0], "3 presynaptic and 2 postsynaptic spikes"),
    ([0.0], [10.0], "1 pair.*at least 2 pairs"),
    ([], [], "0 pair"),
    ([0.0, 100.0], [5.0, 300.0], "t_post - t_pre differs between pairs"),
    ([0.0, 0.0, 100.0], [5.0, 5.0, 105.0], "two presynaptic spikes at the same time"),
    ([0.0, 20.0, 40.0, 1000.0, 1020.0], [5.0, 25.0, 45.0, 1005.0, 1025.0], "bursts of unequal size"),
    ([0.0, 20.0, 1000.0, 1020.0, 3000.0, 3020.0], [5.0, 25.0, 1005.0, 1025.0, 3005.0, 3025.0],
     "bursts start at irregular intervals"),
    ([0.0, 20.0, 50.0], [5.0, 25.0, 55.0], "bursts of unequal size"),
])
def test_periodic_method_refuses_trains_that_are_not_a_pairing_protocol(pre, post, message):
    from models import registry

    with pytest.raises(ArgumentError, match=f"not a pairing protocol: {message}"):
        gb.infer_pairing(pre, post)
    with pytest.raises(ArgumentError, match="use method `exact`"):
        registry.get("graupner-brunel-2012").change(pre, post, method="periodic")
    if pre:
        registry.get("graupner-brunel-2012").change(pre, post, method="exact")      # exact takes any trains


def _shape(changes, margin=0.02):
    """Sequence of D/P windows along dt (changes within `margin` of 1 are neither)."""
    out = []
    for c in changes:
        s = "D" if c < 1 - margin else "P" if c > 1 + margin else None
        if s and (not out or out[-1] != s):
            out.append(s)
    return out


@pytest.mark.parametrize("name", list(DATA["stdp_shapes"].keys() - {"source"}))
def test_stdp_curve_shapes_of_the_fig2_sets(name):
    proto = DATA["stdp_protocol"]
    dts = np.arange(-100.0, 101.0, 1.0)
    ch = [gb.pairing_prediction(dt, proto["freq_hz"], proto["pairs"], name).change for dt in dts]
    assert _shape(ch) == DATA["stdp_shapes"][name]
    if name == "P":
        assert min(ch) >= 1.0 - 1e-12 and max(ch) > 1.2
    if name in ("D", "Dprime"):
        assert max(ch) <= 1.0 + 1e-12 and min(ch) < 0.75
    if name == "DP":
        assert all(c < 0.97 for c in ch[50:96]) and all(c > 1.03 for c in ch[105:151])   # -50..-5 / +5..+50 ms


# --------------------------------------------------------------------------- simulations agree with the analysis
@pytest.mark.parametrize("dt", [-30.0, 10.0])
@pytest.mark.parametrize("step", [1.0, 0.5, 0.25])
def test_sde_ensemble_agrees_with_the_analytic_prediction(dt, step):
    pre, post = pairs(dt)
    analytic = gb.analytic_change(pre, post, "DP")
    sim = gb.sde_change(pre, post, "DP", n_per_state=10000, rng=11, step_ms=step)
    # measured with this seed: sim - analytic between -0.016 and -0.002 (SEM 0.0045), U and D within 0.017;
    # with 40000 synapses per state the analysis stays ~0.01 above the ensemble: the paper's time-averaging of
    # the threshold terms. That bias is as large as the shift a 15 % error in sigma_rho^2 makes (~0.014), so the
    # analytic formulas themselves are checked exactly in test_prediction_is_the_gaussian_tail_of_the_ou_process.
    assert sim.change_sem < 0.005
    assert abs(sim.change - analytic.change) < 0.025
    assert abs(sim.up - analytic.up) < 0.03 and abs(sim.down - analytic.down) < 0.03


def test_noise_free_sde_integrator_matches_kinetics_simulate():
    pre, post = pairs(-15.0, 20)
    det = gb.get_set("DP").with_values(sigma=0.0)
    rho0 = [0.0, 0.3, 0.7, 1.0]
    sde, _ = gb.simulate_sde(pre, post, det, rho0=rho0, step_ms=0.05)
    ode = [gb.simulate_ode(pre, post, det, rho0=r)["rho"][-1] for r in rho0]
    np.testing.assert_allclose(sde, ode, atol=2e-5)


@pytest.mark.parametrize("dt", [-30.0, -10.0, 10.0, 30.0])
def test_ode_mean_and_deterministic_change_agree_with_the_analysis(dt):
    pre, post = pairs(dt)
    p = gb.analytic_change(pre, post, "DP")
    down = gb.simulate_ode(pre, post, "DP", rho0=0.0)["rho"][-1]
    up = gb.simulate_ode(pre, post, "DP", rho0=1.0)["rho"][-1]
    assert down == pytest.approx(p.mean_from_down, abs=0.015)
    assert up == pytest.approx(p.mean_from_up, abs=0.015)
    det = gb.get_set("DP").with_values(sigma=0.0)
    assert gb.ode_change(pre, post, "DP") == pytest.approx(gb.analytic_change(pre, post, det).change)


def test_sde_is_reproducible_with_a_seed_and_validates_input():
    pre, post = pairs(10.0, 5)
    a = gb.sde_change(pre, post, "DP", n_per_state=50, rng=5, step_ms=1.0)
    b = gb.sde_change(pre, post, "DP", n_per_state=50, rng=np.random.default_rng(5), step_ms=1.0)
    np.testing.assert_array_equal(a.rho_from_down, b.rho_from_down)
    with pytest.raises(ArgumentError, match="`step_ms` must be a positive"):
        gb.simulate_sde(pre, post, "DP", rho0=[0.0], step_ms=0.0)
    with pytest.raises(ArgumentError, match="`rng` must be"):
        gb.simulate_sde(pre, post, "DP", rho0=[0.0], rng="seed")
    with pytest.raises(ArgumentError, match="`rho0` must be a non-empty"):
        gb.simulate_sde(pre, post, "DP", rho0=[])
    with pytest.raises(ArgumentError, match="`pre_times` must be finite"):
        gb.time_above([np.nan], [1.0], "DP")


def test_no_spikes_no_change():
    assert gb.analytic_change([], [], "DP").change == 1.0
    assert gb.sde_change([], [], "DP", n_per_state=10, rng=0).change == 1.0


# --------------------------------------------------------------------------- Shouval, Bear & Cooper 2002
def _sig(x, b):
    return math.exp(b * x) / (1 + math.exp(b * x))


def test_shouval_constants_and_functions_follow_the_paper():
    k = SBC_DATA["constants"]
    assert k["source"]
    c = sbc.CONSTANTS
    assert (c["alpha1"][0], c["alpha2"][0], c["beta1"][0], c["beta2"][0]) == (
        k["alpha1_uM"], k["alpha2_uM"], k["beta1_per_uM"], k["beta2_per_uM"])
    assert (c["P1"][0], c["P2"][0], c["P3"][0], c["P4"][0], c["lambda_"][0]) == (
        k["P1_s"], k["P2_s"], k["P3"], k["P4"], k["lambda"])
    for ca in (0.0, 0.3, 0.45, 0.55, 0.8, 2.0):
        om = 0.25 + _sig(ca - 0.55, 80) - 0.25 * _sig(ca - 0.35, 80)
        assert float(sbc.omega(ca)) == pytest.approx(om, rel=1e-12, abs=1e-15)
        assert float(sbc.eta(ca)) == pytest.approx(1 / (1 + 0.1 / (1e-5 + ca ** 3)), rel=1e-12)
    assert 1 / float(sbc.eta(0.0)) / 3600 == pytest.approx(2.78, abs=0.01)   # ~3 h at rest
    assert float(sbc.omega(0.45)) < 0.01 < 0.99 < float(sbc.omega(1.5))


@pytest.mark.parametrize("ca_uM", [0.2, 0.45, 0.9])
def test_shouval_scheme_relaxes_exponentially_to_omega(ca_uM):
    s = sbc.scheme()
    t = np.array([0.0, 500.0, 2000.0, 6000.0])
    res = kx.simulate(s, kx.Protocol([kx.steps("Ca", [0.0], [ca_uM * 1e-3])]), t_end=6000.0, t_eval=t,
                      rtol=1e-10, atol=1e-12)
    om, rate = float(sbc.omega(ca_uM)), float(sbc.eta(ca_uM)) / 1000.0     # per ms
    exact = om + (sbc.resting_weight() - om) * np.exp(-rate * t)
    np.testing.assert_allclose(res["W"], exact, rtol=1e-6, atol=1e-9)


def test_shouval_composes_with_a_calcium_species():
    ca = kx.Scheme("spine_ca", species=[kx.Species("Ca", 0.0, unit="mM")],
                   parameters=[kx.Parameter("tau_ca", 50.0, "ms")], rate_rules=[kx.RateRule("Ca", "-Ca/tau_ca")])
    s = sbc.with_calcium(ca)
    # one calcium jump to 0.5 uM above rest: the weight moves down (into the LTD window), never up
    res = kx.simulate(s, kx.Protocol([kx.jumps("Ca", [10.0], 0.5e-3)]), t_end=500.0, rtol=1e-10, atol=1e-14)
    assert res["W"][-1] < sbc.resting_weight() - 1e-4
    assert res["W"].max() <= sbc.resting_weight() + 1e-9
    with pytest.raises(SchemeError, match="has no species `Cai`"):
        sbc.with_calcium(ca, species="Cai")
