"""Bad input gets a clear error from the kinetics error tree before any simulation starts."""
import math

import numpy as np
import pytest

import kinetics as kx
from kinetics import ArgumentError, ParseError, ProtocolError, SchemeError
from kinetics.fitting import Dataset, FitParameter, fit
from kinetics.fitting.objective import Objective


def scheme():
    return kx.Scheme("decay", species=[kx.Species("A", 1.0), kx.Species("B", 0.0)],
                     parameters=[kx.Parameter("k", 0.5, "1/ms"), kx.Parameter("E", -70.0, "mV",
                                                                               bounds=(-math.inf, math.inf))],
                     inputs=[kx.Input("glu", 0.0, "mM")],
                     reactions=[kx.reaction("A -> B", "k")], observables=[kx.Observable("total", "A + B")])


T = np.linspace(0.0, 5.0, 11)


def data(**kw):
    args = dict(time=T, data={"A": np.exp(-0.5 * T)}, sigma=0.01)
    args.update(kw)
    return Dataset("d", **args)


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test if any solver runs: errors must come before any work."""
    from kinetics.fitting import objective

    def boom(*a, **k):
        raise AssertionError("a simulation started before the input was checked")

    monkeypatch.setattr(objective._Runtime, "__init__", boom)


@pytest.mark.parametrize("bad, match", [
    (np.nan, r"non-finite value\(s\) \(NaN or inf\), the first at index 3"),
    (np.inf, r"non-finite"),
])
def test_nan_and_inf_in_data(bad, match):
    y = np.exp(-0.5 * T)
    y[3] = bad
    with pytest.raises(ArgumentError, match=match):
        data(data={"A": y})


def test_times_empty_unsorted_negative_and_mismatched():
    with pytest.raises(ArgumentError, match="dataset `d` is empty: `time` has no points"):
        data(time=[], data={"A": []})
    with pytest.raises(ArgumentError, match=r"sorted in increasing order; time\[3\] = 0.5 comes after"):
        data(time=[0.0, 1.0, 2.0, 0.5], data={"A": [1, 2, 3, 4]})
    with pytest.raises(ArgumentError, match="negative times"):
        data(time=[-1.0, 1.0], data={"A": [1, 2]})
    with pytest.raises(ArgumentError, match="times before t0 = 2.0"):
        data(time=[1.0, 3.0], data={"A": [1, 2]}, t0=2.0)
    with pytest.raises(ArgumentError, match="has 3 values, expected 11"):
        data(data={"A": [1, 2, 3]})
    with pytest.raises(ArgumentError, match="dataset `d` is empty: `data` must map"):
        data(data={})
    with pytest.raises(ArgumentError, match="`sigma` of `A` must be > 0"):
        data(sigma=0.0)
    with pytest.raises(ArgumentError, match="`sigma` given for `X`, which has no data"):
        data(sigma={"X": 1.0})


def test_unknown_observable_and_parameters(no_simulation):
    with pytest.raises(SchemeError, match="unknown observable `totl`.*did you mean `total`"):
        Objective(scheme(), data(data={"totl": T}), ["k"])
    with pytest.raises(SchemeError, match="unknown fit parameter `kk`.*did you mean `k`"):
        fit(scheme(), data(), ["kk"], executor="serial")
    with pytest.raises(SchemeError, match="unknown species `Q`"):
        fit(scheme(), data(), ["Q(0)"], executor="serial")
    with pytest.raises(SchemeError, match="observable expressions use `gain`, which is not defined by scheme"):
        fit(scheme(), data(observables={"A": "gain*A"}), ["k"], executor="serial")
    with pytest.raises(SchemeError, match="`parameters` names `kx`, which is neither"):
        fit(scheme(), data(parameters={"kx": 1.0}), ["k"], executor="serial")
    with pytest.raises(SchemeError, match="`y0` names unknown species `C`"):
        fit(scheme(), data(y0={"C": 1.0}), ["k"], executor="serial")
    with pytest.raises(ParseError, match="observable `A`"):
        fit(scheme(), data(observables={"A": "__import__('os')"}), ["k"], executor="serial")
    with pytest.raises(ProtocolError, match="dataset `d`: protocol drives unknown input `glut`"):
        fit(scheme(), data(protocol=kx.Protocol([kx.pulses("glut", [1.0])])), ["k"], executor="serial")


def test_bounds_scales_and_starts(no_simulation):
    with pytest.raises(ArgumentError, match=r"start 0.5 of fit parameter `k` is outside its bounds \[1, 10\]"):
        fit(scheme(), data(), {"k": (1.0, 10.0)}, executor="serial")
    with pytest.raises(ArgumentError, match="must satisfy low < high"):
        FitParameter("k", bounds=(2.0, 1.0))
    with pytest.raises(ArgumentError, match="log10 scale needs a positive lower bound"):
        fit(scheme(), data(), {"k": {"bounds": (0.0, 1.0), "scale": "log10"}}, executor="serial")
    with pytest.raises(ArgumentError, match="exceed the parameter's own bounds"):
        fit(scheme(), data(), {"k": {"bounds": (-1.0, 1.0), "scale": "linear"}}, executor="serial")
    with pytest.raises(ArgumentError, match="linear scale needs finite `bounds`"):
        fit(scheme(), data(), ["E"], executor="serial")
    with pytest.raises(ArgumentError, match="unknown field `bound`; did you mean `bounds`"):
        fit(scheme(), data(), {"k": {"bound": (0.1, 1.0)}}, executor="serial")
    with pytest.raises(ArgumentError, match="`scale` of fit parameter `k` must be one of"):
        FitParameter("k", scale="log")
    with pytest.raises(ArgumentError, match="`parameters` is empty"):
        fit(scheme(), data(), [], executor="serial")
    with pytest.raises(ArgumentError, match="listed twice"):
        fit(scheme(), data(), ["k", "k"], executor="serial")
    with pytest.raises(ArgumentError, match="fitted as shared, but dataset `d` sets its value"):
        fit(scheme(), data(parameters={"k": 0.4}), ["k"], executor="serial")


def test_datasets_and_options(no_simulation):
    with pytest.raises(ArgumentError, match="`datasets` is empty"):
        fit(scheme(), [], ["k"], executor="serial")
    with pytest.raises(ArgumentError, match="two datasets are named `d`"):
        fit(scheme(), [data(), data()], ["k"], executor="serial")
    with pytest.raises(ArgumentError, match="`n_starts` must be a positive integer"):
        fit(scheme(), data(), ["k"], n_starts=0, executor="serial")
    with pytest.raises(ArgumentError, match="`gradient` must be"):
        fit(scheme(), data(), ["k"], gradient="adjoint", executor="serial")
    with pytest.raises(ArgumentError, match="`level` must be between 0 and 1"):
        fit(scheme(), data(), ["k"], level=95, executor="serial")
    with pytest.raises(ArgumentError, match="`executor` must be None"):
        fit(scheme(), data(), ["k"], executor=3.5)
    with pytest.raises(ArgumentError, match="`model` must be a kinetics.Scheme"):
        fit("decay", data(), ["k"], executor="serial")
