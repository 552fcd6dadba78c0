"""Sweeps through the one executor interface, SweepResult by name, grids; the compiled-model layer.

Oracles: exponential decay A(t) = A0 exp(-k t) and the binding equilibrium L / (Kd + L); every executor must give
rows bit-identical to the serial run.
"""
import itertools

import numpy as np
import pytest

import kinetics as kx
from kinetics.model import CompiledModel


def decay():
    return kx.Scheme("decay", species=[kx.Species("A", 1.0), kx.Species("B", 0.0)],
                     parameters=[kx.Parameter("k", 1.0, "1/ms"), kx.Parameter("A_scale", 2.0, "1")],
                     reactions=[kx.reaction("A -> B", "k")],
                     observables=[kx.Observable("A2", "A_scale*A")])


def binding():
    return kx.Scheme("binding", species=[kx.Species("R", 1.0, unit="1"), kx.Species("LR", 0.0, unit="1")],
                     parameters=[kx.Parameter("kon", 1.0, "1/(uM*s)"), kx.Parameter("koff", 0.1, "1/s")],
                     inputs=[kx.Input("L", 1e-4, "mM")],
                     reactions=[kx.reaction("R <-> LR", "kon*L", "koff")],
                     observables=[kx.Observable("occupancy", "LR/(R + LR)")])


# ----------------------------------------------------------------------------- the compiled model
def test_compile_is_cached_on_the_scheme_and_shares_structure():
    s = decay()
    m = kx.compile(s)
    assert isinstance(m, CompiledModel) and kx.compile(s) is m
    other = kx.compile(s.with_parameters(k=3.0))
    assert other is not m and other.system is m.system and other.key == m.key


def test_parameter_vector_converts_declared_units_once():
    m = kx.compile(binding())
    # kon 1 /(uM*s) = 1 /(mM*ms); koff 0.1 /s = 1e-4 /ms
    np.testing.assert_allclose(m.parameter_vector(), [1.0, 1e-4], rtol=1e-15)
    np.testing.assert_allclose(m.parameter_vector({"koff": 1.0}), [1.0, 1e-3], rtol=1e-15)
    P = m.parameter_matrix({"koff": [0.1, 1.0, 10.0]})
    np.testing.assert_allclose(P[:, 1], [1e-4, 1e-3, 1e-2], rtol=1e-15)
    np.testing.assert_allclose(P[:, 0], 1.0)


def test_compiled_model_errors_are_clear():
    m = kx.compile(binding())
    with pytest.raises(kx.SchemeError, match=r"unknown parameter `L`.*`L` is an input: a protocol drives it"):
        m.parameter_vector({"L": 1.0})
    with pytest.raises(kx.SchemeError, match="unknown parameter `kof` in scheme `binding`; did you mean `koff`"):
        m.parameter_vector({"kof": 1.0})
    with pytest.raises(kx.SchemeError, match="outside its bounds"):
        m.parameter_vector({"koff": -1.0})
    with pytest.raises(kx.ArgumentError, match="`R` is a non-negative species"):
        m.initial_state({"R": -0.5})
    assert m.initial_state({"R": -1e-12}, tolerance=1e-9)[0] == -1e-12
    with pytest.raises(kx.ArgumentError, match="compile\\(\\) needs a kinetics.Scheme"):
        CompiledModel("not a scheme")


def test_one_function_builds_parameter_vectors():
    """The engine converts declared units to model-unit parameter vectors in one place (CompiledModel)."""
    import pathlib
    import re

    root = pathlib.Path(kx.__file__).parent
    users = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                   if re.search(r"\bfactors\[n\]|\* *factors\[", p.read_text(encoding="utf-8")))
    assert users == ["model.py"], users


# ----------------------------------------------------------------------------- SweepResult
def test_sweep_by_name_states_observables_parameters():
    k = np.array([0.5, 1.0, 2.0])
    sw = kx.sweep(decay(), {"k": k}, t_end=1.0, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(sw["A"], np.exp(-k), rtol=1e-8)
    np.testing.assert_allclose(sw["B"], 1 - np.exp(-k), rtol=1e-8)
    np.testing.assert_allclose(sw["A2"], 2 * np.exp(-k), rtol=1e-8)       # observable, with the parameter
    np.testing.assert_array_equal(sw["k"], k)
    assert "A2" in sw and "C" not in sw
    with pytest.raises(KeyError, match="no state, observable or swept parameter `A3` in this sweep; did you mean"):
        sw["A3"]
    df = sw.to_dataframe()
    assert list(df.columns) == ["k", "A", "B", "A2"]
    np.testing.assert_allclose(df["A2"], 2 * np.exp(-k), rtol=1e-8)


def test_sweep_trajectories_by_name():
    t = np.linspace(0.0, 1.0, 5)
    sw = kx.sweep(decay(), {"A_scale": [1.0, 3.0]}, t_end=1.0, t_eval=t, rtol=1e-11, atol=1e-13)
    assert sw["A"].shape == (2, 5) and sw["A2"].shape == (2, 5)
    np.testing.assert_allclose(sw["A"][0], np.exp(-t), rtol=1e-8)
    np.testing.assert_allclose(sw["A2"][1], 3 * np.exp(-t), rtol=1e-8)
    np.testing.assert_allclose(sw.final_of("A2"), [np.exp(-1), 3 * np.exp(-1)], rtol=1e-8)
    with pytest.raises(ValueError):
        sw.y[0, 0, 0] = 1.0                          # results are read-only


def test_sweep_grid_is_the_product_in_order():
    kon = [0.5, 1.0]
    koff = [0.05, 0.1, 0.2]
    sw = kx.sweep(binding(), {"kon": kon, "koff": koff}, product=True, t_end=1e6, rtol=1e-10, atol=1e-12)
    rows = list(itertools.product(kon, koff))
    assert len(sw) == 6
    np.testing.assert_array_equal(sw["kon"], [r[0] for r in rows])
    np.testing.assert_array_equal(sw["koff"], [r[1] for r in rows])
    kd_mM = np.array([(r[1] / r[0]) * 1e-3 for r in rows])          # koff/kon: /s over /(uM*s) = uM
    np.testing.assert_allclose(sw["occupancy"], 1e-4 / (kd_mM + 1e-4), rtol=1e-7)
    with pytest.raises(kx.ArgumentError, match="product=True"):
        kx.sweep(binding(), [{"kon": 1.0}], product=True, t_end=1.0)


# ----------------------------------------------------------------------------- executors
@pytest.fixture(scope="module")
def serial_rows():
    rng = np.random.default_rng(7)
    table = {"kon": rng.uniform(0.2, 5.0, 23), "koff": rng.uniform(0.01, 1.0, 23)}
    t = np.linspace(0.0, 2000.0, 11)
    sw = kx.sweep(binding(), table, t_end=2000.0, t_eval=t, executor="serial")
    return table, t, sw


@pytest.mark.parametrize("executor", ["threads", "processes", 2])
def test_every_local_executor_gives_the_serial_rows(serial_rows, executor):
    table, t, ref = serial_rows
    sw = kx.sweep(binding(), table, t_end=2000.0, t_eval=t, executor=executor, chunk_size=5)
    np.testing.assert_array_equal(sw.y, ref.y)
    np.testing.assert_array_equal(sw.final, ref.final)
    assert sw.stats == ref.stats and len(sw.stats) == 23


def test_sweep_statistics_are_the_single_runs():
    # The per-run statistics travel as one integer array and read as dicts: each equals simulate()'s own.
    rng = np.random.default_rng(3)
    table = {"kon": rng.uniform(0.2, 5.0, 5), "koff": rng.uniform(0.01, 1.0, 5)}
    sw = kx.sweep(binding(), table, t_end=2000.0, executor="serial")
    for i in (0, 4, -1):
        res = kx.simulate(binding(), t_end=2000.0, params={k: v[i] for k, v in table.items()}, n_points=2)
        assert sw.stats[i] == {k: res.stats[k] for k in sw.stats[i]}
    assert [s["steps"] for s in sw.stats[1:3]] == [sw.stats[1]["steps"], sw.stats[2]["steps"]]
    assert repr(sw.stats) == "<statistics of 5 runs>"


@pytest.mark.slow
def test_sweep_on_a_dask_local_cluster_gives_the_serial_rows(serial_rows):
    distributed = pytest.importorskip("distributed")
    table, t, ref = serial_rows
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        sw = kx.sweep(binding(), table, t_end=2000.0, t_eval=t, executor=client)
        assert client.status == "running"                # the user's client is not closed by the sweep
    np.testing.assert_array_equal(sw.y, ref.y)
    np.testing.assert_array_equal(sw.final, ref.final)


def test_sweep_failure_names_the_run():
    s = kx.Scheme("blowup", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 1.0, "1/ms")],
                  reactions=[kx.reaction("-> A", rate="k*A**2")])
    with pytest.raises(kx.SolverError, match=r"run 1 \(k=10\)"):
        kx.sweep(s, {"k": [1e-6, 10.0]}, t_end=10.0, executor="serial")
    with pytest.raises(kx.ArgumentError, match="chunk_size"):
        kx.sweep(s, {"k": [1.0]}, t_end=1.0, executor="serial", chunk_size=0)
    with pytest.raises(kx.ArgumentError, match="not both"):
        kx.sweep(s, {"k": [1.0]}, t_end=1.0, executor="serial", n_workers=2)
