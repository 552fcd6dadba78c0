"""Fitting to summary statistics (derived quantities): kinetics.fitting.SummaryDataset.

Every expected value below is analytic (closed-form solutions of the schemes), never produced by the engine.
"""
import json

import numpy as np
import pytest

import kinetics as kx
from kinetics.errors import ArgumentError, ParseError, SchemeError
from kinetics.fitting import Condition, Dataset, Objective, Statistic, SummaryDataset, fit

LN10 = np.log(10.0)
TIGHT = dict(rtol=1e-12, atol=1e-14)


def decay(k=0.3, a0=1.0, unit="1/ms"):
    return kx.Scheme("decay", species=[kx.Species("A", a0)], parameters=[kx.Parameter("k", k, unit)],
                     reactions=[kx.reaction("A ->", "k")])


def central_fd(obj, x, h=1e-5):
    return np.column_stack([(obj.residuals(x + h * e) - obj.residuals(x - h * e)) / (2 * h)
                            for e in np.eye(x.size)])


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


# --------------------------------------------------------------------------- (1) final values, analytic


def test_final_values_recover_rate_exactly_and_jacobian_matches_fd():
    K = 0.5
    T = np.array([0.5, 1.0, 2.0, 4.0, 8.0])
    ds = SummaryDataset("endpoints", statistics={"A_end": Statistic("A", "final")},
                        conditions=[Condition(t_end=t) for t in T], data={"A_end": np.exp(-K * T)}, sigma=0.01)
    res = fit(decay(0.3), ds, {"k": (0.01, 10.0)}, n_starts=3, executor="serial")
    assert res.success
    assert abs(res.values["k"] / K - 1) < 1e-6
    assert res.n_data == T.size and res.blocks[("endpoints", "A_end")] == slice(0, T.size)
    assert "endpoints.A_end: 5 points" in res.report()

    # exact Jacobian: against central differences of the residuals and against d/dx exp(-k T), with k declared
    # in 1/s (the chain rule through the unit factor: 300 /s is 0.3 /ms)
    obj = Objective(decay(300.0, unit="1/s"), ds, {"k": (10.0, 1e4)}, **TIGHT)
    x = obj.x_start
    r, J = obj.residuals(x, jacobian=True)
    k = 0.3
    assert np.allclose(r, (np.exp(-k * T) - np.exp(-K * T)) / 0.01, rtol=1e-10, atol=1e-10)
    analytic = (-T * np.exp(-k * T) * k * LN10 / 0.01)[:, None]
    assert rel_err(J, analytic) < 1e-8
    assert rel_err(J, central_fd(obj, x, 1e-4)) < 1e-6


def test_per_condition_parameter_overrides_drug_concentration():
    """Each condition its own drug concentration D: A decays at k / (1 + D / Ki); fit k and Ki."""
    s = kx.Scheme("block", species=[kx.Species("A", 1.0)],
                  parameters=[kx.Parameter("k", 0.3, "1/ms"), kx.Parameter("Ki", 1.0, "mM"),
                              kx.Parameter("D", 0.0, "mM")],
                  reactions=[kx.reaction("A ->", "k / (1 + D/Ki)")])
    K, KI, T = 0.8, 0.4, 2.0
    D = np.array([0.0, 0.1, 0.5, 2.0, 8.0])
    ds = SummaryDataset("dose", statistics={"left": "A"}, t_end=T,
                        conditions=[Condition(parameters={"D": d}) for d in D],
                        data={"left": np.exp(-K / (1 + D / KI) * T)}, sigma=0.01)
    res = fit(s, ds, {"k": (0.01, 10.0), "Ki": (0.01, 10.0)}, n_starts=3, executor="serial")
    assert abs(res.values["k"] / K - 1) < 1e-6 and abs(res.values["Ki"] / KI - 1) < 1e-6


# --------------------------------------------------------------------------- (2) window mean and integral


def test_window_mean_and_integral_match_analytic_values_and_derivatives():
    k, g = 0.3, 2.0
    windows = [(1.0, 3.0), (0.0, 5.0), (2.5, 2.75)]
    ds = SummaryDataset(
        "windows",
        statistics={"mean": Statistic("A", "mean", window=windows),
                    "charge": Statistic("g*A", "integral", window=(0.5, 4.0))},   # g: an observation parameter
        conditions=[Condition(t_end=5.0), Condition(t_end=5.0), Condition(t_end=6.0)],
        data={"mean": [0.0, 0.0, 0.0], "charge": [0.0, 0.0, 0.0]}, sigma=1.0)
    obj = Objective(decay(k), ds, {"k": (0.01, 10.0), "g": {"start": g, "bounds": (0.1, 10.0)}}, **TIGHT)
    x = obj.x_start
    r, J = obj.residuals(x, jacobian=True)
    t1, t2 = np.array(windows).T
    mean = (np.exp(-k * t1) - np.exp(-k * t2)) / (k * (t2 - t1))
    dmean_dk = ((-t1 * np.exp(-k * t1) + t2 * np.exp(-k * t2)) * k - (np.exp(-k * t1) - np.exp(-k * t2))) \
        / (k ** 2 * (t2 - t1))
    charge = g * (np.exp(-k * 0.5) - np.exp(-k * 4.0)) / k
    dcharge_dk = g * ((-0.5 * np.exp(-k * 0.5) + 4.0 * np.exp(-k * 4.0)) * k
                      - (np.exp(-k * 0.5) - np.exp(-k * 4.0))) / k ** 2
    assert rel_err(r[:3], mean) < 1e-9                    # a quadrature state: no grid error
    assert rel_err(r[3:], np.full(3, charge)) < 1e-9
    assert rel_err(J[:3, 0], dmean_dk * k * LN10) < 1e-8
    assert np.all(J[:3, 1] == 0.0)                        # the mean of A does not depend on g
    assert rel_err(J[3:, 0], np.full(3, dcharge_dk * k * LN10)) < 1e-8
    assert rel_err(J[3:, 1], np.full(3, charge / g * g * LN10)) < 1e-8
    assert rel_err(J, central_fd(obj, x, 1e-4)) < 1e-6


def test_max_of_an_interior_peak_matches_analytic_value_and_derivative():
    """A -> B -> : B peaks at t* = ln(k2/k1) / (k2 - k1) at (k1/k2)^(k2/(k2-k1)) (no breakpoint near it)."""
    s = kx.Scheme("chain", species=[kx.Species("A", 1.0), kx.Species("B", 0.0)],
                  parameters=[kx.Parameter("k1", 0.5, "1/ms"), kx.Parameter("k2", 0.2, "1/ms")],
                  reactions=[kx.reaction("A -> B", "k1"), kx.reaction("B ->", "k2")])

    def peak(k1, k2):
        return (k1 / k2) ** (k2 / (k2 - k1))

    ds = SummaryDataset("peak", statistics={"Bmax": Statistic("B", "max"),
                                            "Amin": Statistic("A", "min", window=(2.0, 6.0))},
                        conditions=[Condition(t_end=20.0)], data={"Bmax": [0.0], "Amin": [0.0]}, sigma=1.0)
    obj = Objective(s, ds, ["k1", "k2"], **TIGHT)
    x = obj.x_start
    r, J = obj.residuals(x, jacobian=True)
    # 1001 points on [0, 20]: the best grid point alone is 1.6e-6 low; the parabola's vertex is within 1e-7
    assert abs(r[0] / peak(0.5, 0.2) - 1) < 1e-7
    assert abs(r[1] / np.exp(-0.5 * 6.0) - 1) < 1e-10     # a minimum at the window's edge: exact
    h = 1e-6
    dk1 = (peak(0.5 + h, 0.2) - peak(0.5 - h, 0.2)) / (2 * h) * 0.5 * LN10
    dk2 = (peak(0.5, 0.2 + h) - peak(0.5, 0.2 - h)) / (2 * h) * 0.2 * LN10
    # envelope theorem: the sensitivity at the maximiser; the vertex t* is off by O(h^2), so is the derivative
    assert rel_err(J[0], np.array([dk1, dk2])) < 1e-4
    assert rel_err(J[1], np.array([-6.0 * np.exp(-3.0) * 0.5 * LN10, 0.0])) < 1e-8
    assert rel_err(J, central_fd(obj, x, 1e-4)) < 1e-6


# --------------------------------------------------------------------------- (3) ratio and change


def test_ratio_to_initial_value_and_its_derivatives():
    """dw/dt = k (1 - w): w(T) = 1 - (1 - w0) exp(-k T); weight change w(T) / w(0)."""
    s = kx.Scheme("weight", species=[kx.Species("w", 0.5, unit="1")], parameters=[kx.Parameter("k", 0.2, "1/ms")],
                  rate_rules=[kx.RateRule("w", "k*(1 - w)")])
    k, w0 = 0.2, 0.5
    T = np.array([1.0, 3.0, 10.0])
    ds = SummaryDataset("ltp", statistics={"dw": Statistic("w", "ratio"),
                                           "delta": Statistic("w", "change", time=[0.5, 1.0, 2.0])},
                        conditions=[Condition(t_end=t) for t in T],
                        data={"dw": np.zeros(3), "delta": np.zeros(3)}, sigma=0.1)
    obj = Objective(s, ds, {"k": (0.01, 10.0), "w(0)": {"bounds": (0.1, 0.9), "scale": "linear"}}, **TIGHT)
    x = obj.x_start
    r, J = obj.residuals(x, jacobian=True)
    e = np.exp(-k * T)
    ratio = (1 - (1 - w0) * e) / w0
    assert rel_err(r[:3] * 0.1, ratio) < 1e-10
    assert rel_err(J[:3, 0] * 0.1, (1 - w0) * T * e / w0 * k * LN10) < 1e-8
    assert rel_err(J[:3, 1] * 0.1, (e - 1) / w0 ** 2) < 1e-8
    tc = np.array([0.5, 1.0, 2.0])
    assert rel_err(r[3:] * 0.1, (1 - w0) * (1 - np.exp(-k * tc))) < 1e-10
    assert rel_err(J[3:, 1] * 0.1, -(1 - np.exp(-k * tc))) < 1e-8
    assert rel_err(J, central_fd(obj, x, 1e-5)) < 1e-6


# --------------------------------------------------------------------------- (4) binding under pulses

KON, KOFF = 2.0, 0.1          # 1/(mM*ms), 1/ms


def binding(kon=KON, koff=KOFF):
    return kx.Scheme(
        "binding", species=[kx.Species("R", 1.0, unit="1"), kx.Species("LR", 0.0, unit="1")],
        parameters=[kx.Parameter("kon", kon, "1/(mM*ms)"), kx.Parameter("koff", koff, "1/ms")],
        inputs=[kx.Input("L", 0.0, "mM")], reactions=[kx.reaction("R <-> LR", "kon*L", "koff")])


def pulse_points(conc, width, t_on=1.0, after=20.0):
    """Analytic LR at the end of an L pulse (its peak) and `after` ms later."""
    kobs = KON * conc + KOFF
    peak = KON * conc / kobs * (1 - np.exp(-kobs * width))
    return peak, peak * np.exp(-KOFF * after)


def pulse_dataset(seed=3, sigma=0.01):
    rng = np.random.default_rng(seed)
    conds, peaks, finals = [], [], []
    for conc in (0.05, 0.2, 1.0):
        for width in (2.0, 5.0, 10.0):
            p = kx.Protocol([kx.pulses("L", [1.0], amplitude=conc, width=width)])
            conds.append(Condition(protocol=p, t_end=1.0 + width + 20.0, label=f"{conc} mM, {width} ms"))
            pk, fn = pulse_points(conc, width)
            peaks.append(pk)
            finals.append(fn)
    peaks, finals = np.array(peaks), np.array(finals)
    data = {"peak": peaks + rng.normal(0, sigma, peaks.size), "final": finals + rng.normal(0, sigma, finals.size)}
    return SummaryDataset("pulses", statistics={"peak": Statistic("LR", "max"), "final": Statistic("LR", "final")},
                          conditions=conds, data=data, sigma=sigma), peaks, finals


def test_binding_rates_from_peak_and_final_points_under_pulses():
    ds, peaks, finals = pulse_dataset()
    # the model at the truth reproduces the analytic points (the peak is at the pulse end, a breakpoint)
    obj = Objective(binding(), ds, ["kon", "koff"])
    pred = obj.predict(obj.x_start, "pulses")
    assert rel_err(pred["peak"], peaks) < 1e-6 and rel_err(pred["final"], finals) < 1e-6

    res = fit(binding(kon=0.5, koff=0.5), ds, {"kon": (0.01, 100.0), "koff": (1e-3, 10.0)}, n_starts=4,
              executor="serial", profiles=True)
    assert res.success and res.identifiable and not res.flags
    for key, truth in (("kon", KON), ("koff", KOFF)):
        err = abs(res.values[key] - truth)
        assert err < 2.5 * res.stderr[key], (key, res.values[key], res.stderr[key])
        assert res.stderr[key] < 0.2 * truth
        lo, hi = res.ci[key]
        assert lo < truth < hi
    assert res.ci_method == "profile"
    assert 0.3 < res.reduced_chi2 < 2.5                 # 18 points, 2 parameters, the true noise


# --------------------------------------------------------------------------- (5) mixed with a time course


def test_mixed_time_course_and_summary_dataset_in_one_fit():
    rng = np.random.default_rng(11)
    t = np.linspace(0.0, 20.0, 41)
    conc = 0.2
    kobs = KON * conc + KOFF
    assoc = KON * conc / kobs * (1 - np.exp(-kobs * t))
    course = Dataset("association", t, {"LR": assoc + rng.normal(0, 0.01, t.size)},
                     protocol=kx.Protocol([kx.steps("L", [0.0], [conc])]), sigma=0.01)
    # dissociation from LR = 0.6: the bound fraction left after T ms, one wash per condition
    T = np.array([2.0, 5.0, 10.0, 20.0, 40.0])
    wash = SummaryDataset("washout", statistics={"left": Statistic("LR", "ratio")},
                          conditions=[Condition(t_end=x) for x in T], y0={"R": 0.4, "LR": 0.6},
                          data={"left": np.exp(-KOFF * T) + rng.normal(0, 0.02, T.size)}, sigma=0.02)
    res = fit(binding(kon=0.5, koff=0.5), [course, wash], {"kon": (0.01, 100.0), "koff": (1e-3, 10.0)},
              n_starts=3, executor="serial")
    assert res.success
    for key, truth in (("kon", KON), ("koff", KOFF)):
        assert abs(res.values[key] - truth) < 3 * res.stderr[key]
    assert set(res.blocks) == {("association", "LR"), ("washout", "left")}
    assert res.n_data == t.size + T.size
    assert "washout.left: 5 points" in res.report()
    doc = json.loads(res.to_json())
    assert [d["name"] for d in doc["datasets"]] == ["association", "washout"]
    assert len(doc["datasets"][1]["residuals"]["left"]) == T.size
    assert np.allclose(res.predict("washout")["left"], np.exp(-res.values["koff"] * T), rtol=1e-6)

    obj = Objective(binding(kon=0.5, koff=0.5), [course, wash], ["kon", "koff"], **TIGHT)
    x = obj.x_start
    _, J = obj.residuals(x, jacobian=True)
    assert rel_err(J, central_fd(obj, x, 1e-4)) < 1e-6


def test_summary_fit_in_worker_processes():
    """Objectives are pickled to workers: the extended (quadrature) model must rebuild there."""
    K = 0.5
    windows = [(0.0, 1.0), (1.0, 2.0), (2.0, 4.0)]
    t1, t2 = np.array(windows).T
    ds = SummaryDataset("means", statistics={"m": Statistic("A", "mean", window=windows)}, t_end=4.0,
                        conditions=[Condition(), Condition(), Condition()],
                        data={"m": (np.exp(-K * t1) - np.exp(-K * t2)) / (K * (t2 - t1))}, sigma=0.01)
    res = fit(decay(0.3), ds, {"k": (0.01, 10.0)}, n_starts=2, executor=2)
    assert abs(res.values["k"] / K - 1) < 1e-6


# --------------------------------------------------------------------------- (6) errors


def _simple(**kw):
    args = dict(statistics={"a": Statistic("A", "final")}, conditions=[Condition(t_end=1.0)], data={"a": [0.5]},
                sigma=0.1)
    args.update(kw)
    return SummaryDataset("d", **args)


def test_clear_errors():
    s = decay()
    # unknown names: in a statistic's expression, a condition's parameters, y0; an unknown reduction
    with pytest.raises(SchemeError, match="use `Aa`, which is not defined.*did you mean `A`"):
        Objective(s, _simple(statistics={"a": Statistic("Aa", "final")}), ["k"])
    with pytest.raises(SchemeError, match="condition 0: `parameters` names `kk`"):
        Objective(s, _simple(conditions=[Condition(t_end=1.0, parameters={"kk": 1.0})]), ["k"])
    with pytest.raises(SchemeError, match="unknown species `B`"):
        Objective(s, _simple(conditions=[Condition(t_end=1.0, y0={"B": 1.0})]), ["k"])
    with pytest.raises(ArgumentError, match="unknown reduction 'maximum'.*did you mean `max`"):
        Statistic("A", "maximum")
    with pytest.raises(ParseError):
        Statistic("A +* 2", "final")
    with pytest.raises(ArgumentError, match="not a statistic"):
        _simple(data={"a": [0.5], "b": [0.1]})
    # windows and times outside [t0, t_end]
    with pytest.raises(ArgumentError, match=r"window \(0.5, 2\) is outside .*\[0, 1\] of condition 0"):
        _simple(statistics={"a": Statistic("A", "mean", window=(0.5, 2.0))})
    with pytest.raises(ArgumentError, match=r"window \(-1, 0.5\) is outside"):
        _simple(statistics={"a": Statistic("A", "max", window=(-1.0, 0.5))})
    with pytest.raises(ArgumentError, match="time 3 is outside"):
        _simple(statistics={"a": Statistic("A", "at", time=3.0)})
    with pytest.raises(ArgumentError, match="t1 < t2"):
        Statistic("A", "mean", window=(2.0, 1.0))
    with pytest.raises(ArgumentError, match="needs `time`"):
        Statistic("A", "at")
    with pytest.raises(ArgumentError, match="`window` is only for"):
        Statistic("A", "final", window=(0.0, 1.0))
    with pytest.raises(ArgumentError, match="has no `t_end`"):
        _simple(conditions=[Condition()])
    # empty data, conditions or statistics
    with pytest.raises(ArgumentError, match="empty: `conditions`"):
        _simple(conditions=[], data={"a": []})
    with pytest.raises(ArgumentError, match="empty: `data`"):
        _simple(data={})
    with pytest.raises(ArgumentError, match="empty: `statistics`"):
        _simple(statistics={})
    with pytest.raises(ArgumentError, match="has 2 values, expected 1"):
        _simple(data={"a": [0.5, 0.4]})
    with pytest.raises(ArgumentError, match="non-finite"):
        _simple(data={"a": [np.nan]})
    # sigma
    for bad in (0.0, -1.0, {"a": [0.0]}):
        with pytest.raises(ArgumentError, match="must be > 0"):
            _simple(sigma=bad)
    with pytest.raises(TypeError):
        SummaryDataset("d", statistics={"a": "A"}, conditions=[Condition(t_end=1.0)], data={"a": [0.5]})
    # a condition may not set what is fitted
    with pytest.raises(ArgumentError, match="condition 0 sets `k`, which is fitted"):
        Objective(s, _simple(conditions=[Condition(t_end=1.0, parameters={"k": 1.0})]), ["k"])
    # time-course calls on a summary dataset
    obj = Objective(s, _simple(), ["k"])
    with pytest.raises(ArgumentError, match="one per condition"):
        obj.predict(obj.x_start, "d", [0.0, 1.0])
