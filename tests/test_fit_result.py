"""FitResult: report, JSON, plots, predictions, per-dataset and initial-value parameters, executors."""
import json

import numpy as np
import pytest

import kinetics as kx
from kinetics.fitting import Dataset, FitParameter, FitResult, fit, profile
from kinetics.executor import SerialExecutor, ThreadExecutor, as_executor


def chain():
    return kx.Scheme("chain", species=[kx.Species("A", 1.0), kx.Species("B", 0.0)],
                     parameters=[kx.Parameter("k1", 0.2, "1/ms"), kx.Parameter("k2", 0.05, "1/ms")],
                     reactions=[kx.reaction("A -> B", "k1"), kx.reaction("B ->", "k2")])


def chain_data(k1=0.5, k2=0.1, seed=0):
    """Two cells: B measured with an unknown gain per cell and a shared baseline; analytic solution."""
    t = np.linspace(0.0, 40.0, 81)
    b = k1 / (k2 - k1) * (np.exp(-k1 * t) - np.exp(-k2 * t))
    rng = np.random.default_rng(seed)
    return [Dataset(f"cell{i}", t, {"F": g * b + 0.1 + rng.normal(0, 0.01, t.size)}, sigma=0.01,
                    observables={"F": "gain*B + base"}, parameters={"gain": 1.0})
            for i, g in ((1, 2.0), (2, 3.0))]


@pytest.fixture(scope="module")
def result():
    params = [FitParameter("k1", bounds=(0.01, 5.0)), FitParameter("k2", bounds=(0.001, 1.0)),
              FitParameter("gain", bounds=(0.1, 10.0), per_dataset=True),
              FitParameter("base", bounds=(-1.0, 1.0), start=0.0)]
    return fit(chain(), chain_data(), params, n_starts=3, executor="serial", profiles=True)


def test_per_dataset_and_shared_parameters_recovered(result):
    v = result.values
    assert list(v) == ["k1", "k2", "gain[cell1]", "gain[cell2]", "base"]
    for k, truth in (("k1", 0.5), ("k2", 0.1), ("gain[cell1]", 2.0), ("gain[cell2]", 3.0), ("base", 0.1)):
        assert v[k] == pytest.approx(truth, rel=0.03, abs=0.003), k
    assert result.fit_parameters[4].scale == "linear" and result.fit_parameters[0].scale == "log10"
    gain2 = result.parameters["gain[cell2]"]
    assert gain2.name == "gain" and "dataset `cell2`" in gain2.note
    assert result.scheme.get_parameter("k1").value == v["k1"] and chain().get_parameter("k1").value == 0.2


def test_statistics_are_consistent(result):
    r = result.residuals
    assert result.cost == pytest.approx(0.5 * r @ r)
    assert result.chi2 == pytest.approx(2 * result.cost)
    n, k = result.n_data, result.n_parameters
    assert (n, k) == (162, 5)
    loglik = -result.cost - n * np.log(0.01) - 0.5 * n * np.log(2 * np.pi)
    assert result.log_likelihood == pytest.approx(loglik)
    assert result.aic == pytest.approx(2 * k - 2 * loglik)
    assert result.bic == pytest.approx(k * np.log(n) - 2 * loglik)
    # standard errors: delta method from the scaled covariance
    i = result.names.index("k1")
    assert result.stderr["k1"] == pytest.approx(np.log(10) * result.values["k1"] * np.sqrt(result.covariance[i, i]))
    assert np.allclose(np.diag(result.correlation), 1.0)
    assert result.fisher == pytest.approx(result.jacobian.T @ result.jacobian)


def test_report_and_json(result, tmp_path):
    text = result.report()
    for piece in ("[[Fit]]", "[[Parameters]]", "[[Identifiability]]", "[[Datasets]]", "gain[cell2]",
                  "95 % CI by profile likelihood", "cell1.F: 81 points"):
        assert piece in text
    path = tmp_path / "fit.json"
    result.to_json(path)
    d = json.loads(path.read_text())
    assert d["parameters"]["k1"]["value"] == pytest.approx(result.values["k1"])
    assert d["parameters"]["k1"]["ci"] == pytest.approx(list(result.ci["k1"]))
    assert d["ci_method"] == "profile" and d["n_data"] == 162 and len(d["starts"]) == 3
    assert set(d["profiles"]) == set(result.names)
    assert len(d["datasets"][0]["residuals"]["F"]) == 81
    assert d["success"] is True and isinstance(d["flags"], list)


def test_plots(result, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = result.plot_fit()
    assert len([a for a in fig.axes if a.get_visible()]) == 2
    line = fig.axes[0].lines[1]
    t, y = line.get_data()
    assert np.allclose(y, result.predict("cell1", t)["F"])
    ax = result.plot_waterfall()
    assert ax.get_ylabel() == "cost / best cost - 1"
    fig2 = result.plot_profiles()
    assert len([a for a in fig2.axes if a.get_visible()]) == 5
    out = tmp_path / "fit.png"
    result.plot(out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plt.close("all")


def test_predict_and_simulate_agree_with_kinetics_simulate(result):
    res = result.simulate("cell2", t_eval=[0.0, 5.0, 10.0])
    k1, k2 = result.values["k1"], result.values["k2"]
    t = np.array([0.0, 5.0, 10.0])
    b = k1 / (k2 - k1) * (np.exp(-k1 * t) - np.exp(-k2 * t))
    assert np.allclose(res["B"], b, rtol=1e-6, atol=1e-9)
    pred = result.predict("cell2", t)["F"]
    assert np.allclose(pred, result.values["gain[cell2]"] * b + result.values["base"], rtol=1e-6)
    with pytest.raises(kx.ArgumentError, match="unknown dataset `cell3`; did you mean `cell[12]`"):
        result.predict("cell3")


def test_profile_returns_a_new_result_and_keeps_the_input():
    ds = [chain_data()[0].replace(parameters={})]
    res = fit(chain(), ds, {"k1": (0.01, 5.0), "k2": (0.001, 1.0), "gain": {"bounds": (0.1, 10.0), "start": 1.0},
                            "base": {"bounds": (-1.0, 1.0), "start": 0.0}}, n_starts=2, executor="serial")
    assert res.ci_method == "wald" and not res.profiles
    res2 = profile(res, "k2", executor="serial")
    assert isinstance(res2, FitResult) and set(res2.profiles) == {"k2"} and res2.ci_method == "mixed"
    assert not res.profiles and res.ci["k2"] != res2.ci["k2"]
    lo, hi = res2.ci["k2"]
    assert lo < res2.values["k2"] < hi
    # profile and Wald intervals agree closely for this well-determined parameter
    wlo, whi = res.ci["k2"]
    assert lo == pytest.approx(wlo, rel=0.02) and hi == pytest.approx(whi, rel=0.02)
    with pytest.raises(kx.ArgumentError, match="cannot profile `k3`"):
        profile(res, "k3", executor="serial")


def test_initial_value_fit():
    """Fitting an initial value (`A(0)`) together with a rate."""
    t = np.linspace(0.0, 10.0, 41)
    ds = Dataset("a", t, {"A": 0.7 * np.exp(-0.3 * t)}, sigma=1e-3)
    res = fit(chain(), ds, {"A(0)": {"bounds": (0.1, 2.0), "start": 1.0}, "k1": (0.01, 5.0)}, n_starts=2,
              executor="serial")
    assert res.values["A(0)"] == pytest.approx(0.7, rel=1e-6)
    assert res.values["k1"] == pytest.approx(0.3, rel=1e-6)
    assert res.scheme.get_species("A").initial == pytest.approx(0.7, rel=1e-6)


def test_executor_choices():
    assert isinstance(as_executor("serial"), SerialExecutor)
    assert as_executor(3).n_workers == 3
    assert as_executor(None).n_workers >= 1
    ex = SerialExecutor()
    assert as_executor(ex) is ex
    assert isinstance(as_executor("threads"), ThreadExecutor)
    with pytest.raises(kx.ArgumentError, match="unknown executor 'thread'; did you mean `threads`"):
        as_executor("thread")


def test_fit_result_is_frozen(result):
    """FitResult is a frozen dataclass: no attribute assignment, read-only arrays, new results by replace."""
    import dataclasses
    import pickle

    assert dataclasses.is_dataclass(result)
    names = {f.name for f in dataclasses.fields(result)}
    assert {"values", "stderr", "ci", "profiles", "flags", "starts", "wall_time", "blocks"} <= names
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.wall_time = 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.new_attribute = 1
    for name in ("x", "stderr_scaled", "covariance", "correlation", "fisher", "residuals", "jacobian"):
        arr = getattr(result, name)
        assert isinstance(arr, np.ndarray) and not arr.flags.writeable, name
        with pytest.raises(ValueError):
            arr[0] = 0.0
    assert not result.covariance_info.covariance.flags.writeable
    assert isinstance(result.starts, tuple) and isinstance(result.flags, tuple)
    other = dataclasses.replace(result, message="changed")
    assert other.message == "changed" and result.message != "changed" and other.values is result.values
    back = pickle.loads(pickle.dumps(result))
    assert back.to_dict() == result.to_dict()
