"""Hybrid stochastic/deterministic simulation (kinetics.stochastic.hybrid): exact coupling, linear means, limits,
reproducibility, refused splits; the synapse's receptor split."""
import math

import numpy as np
import pytest

import kinetics as kx
from kinetics.errors import ArgumentError, SchemeError
from kinetics.protocol import Protocol, jumps, pulses
from kinetics.stochastic import hybrid, ssa
from kinetics.stochastic.hybrid import split

A, B, G, TAU = 0.5, 1.0, 2.0, 5.0


def channel_pool(driven=False):
    """C <-> O (stochastic; opening a*glu when driven) charging a linear pool dP/dt = g O - P/tau."""
    return kx.Scheme(
        "pool", species=[kx.Species("C", 1.0, "1"), kx.Species("O", 0.0, "1"), kx.Species("P", 0.0, "1")],
        parameters=[kx.Parameter("a", A, "1/ms"), kx.Parameter("b", B, "1/ms"), kx.Parameter("g", G, "1/ms"),
                    kx.Parameter("tau", TAU, "ms")],
        inputs=[kx.Input("glu", 1.0, "1")],
        reactions=[kx.reaction("C <-> O", "a*glu" if driven else "a", "b")],
        rate_rules=[kx.RateRule("P", "g*O - P/tau")])


def test_one_receptor_the_ode_restarts_exactly_at_the_opening():
    # C -> O once, at a random time T; then P(t) = g tau (1 - exp(-(t - T)/tau)) exactly. T read from P(t2)
    # must predict P(t1): the ODE part sees the jump at T itself (not at a grid time).
    tau = 50.0
    s = kx.Scheme("once", species=[kx.Species("C", 1.0, "1"), kx.Species("O", 0.0, "1"), kx.Species("P", 0.0, "1")],
                  parameters=[kx.Parameter("a", 0.05, "1/ms"), kx.Parameter("g", G, "1/ms"),
                              kx.Parameter("tau", tau, "ms")],
                  reactions=[kx.reaction("C -> O", "a")], rate_rules=[kx.RateRule("P", "g*O - P/tau")])
    t = np.linspace(0.0, 60.0, 25)
    res = hybrid(s, t_end=60.0, t_eval=t, stochastic=["C", "O"], n_copies=1, n_runs=20, seed=3,
                 rtol=1e-10, atol=1e-12)
    checked = 0
    for r in range(res.n_runs):
        P, O = res["P"][r], res["O"][r]
        if O[-1] == 0 or P[-1] < 0.05 * G * tau:
            continue
        T = t[-1] + tau * math.log(1.0 - P[-1] / (G * tau))
        assert t[np.argmax(O > 0)] >= T > t[max(np.argmax(O > 0) - 1, 0)]   # opened between two grid times
        late = t > T
        expect = G * tau * (1.0 - np.exp(-(t[late] - T) / tau))
        np.testing.assert_allclose(P[late], expect, rtol=1e-6, atol=1e-9)
        np.testing.assert_array_equal(P[t < T], 0.0)
        checked += 1
    assert checked >= 10


def test_linear_pool_mean_is_the_ode_solution():
    # linear propensities and a linear pool: E[O](t) and E[P](t) are the ODE solution exactly, also across jumps
    # of either part. 400 runs of 10 receptors; each of the 8 checks is within 4.5 standard errors (false
    # failure < 1e-4 in all).
    s = channel_pool(driven=True)
    prot = Protocol([pulses("glu", [10.0, 30.0], amplitude=2.0, width=5.0), jumps("P", [15.0], 1.0),
                     jumps("C", [25.0], 0.5)])
    t = np.array([5.0, 12.0, 20.0, 35.0])
    ode = kx.simulate(s, prot, t_end=40.0, t_eval=t, rtol=1e-10, atol=1e-12)
    res = hybrid(s, prot, t_end=40.0, t_eval=t, stochastic=["C", "O"], n_copies=10, n_runs=400, seed=11)
    for name in ("O", "P"):
        se = res.std(name) / math.sqrt(res.n_runs)
        assert np.all(se > 0)
        assert np.all(np.abs(res.mean(name) - ode[name]) < 4.5 * se), (name, res.mean(name), ode[name], se)


def test_variance_falls_as_one_over_n_towards_the_ode():
    s = channel_pool()
    t = np.array([10.0])
    ode = float(kx.simulate(s, t_end=10.0, t_eval=t, rtol=1e-10, atol=1e-12)["P"][-1])
    small = hybrid(s, t_end=10.0, t_eval=t, stochastic=["C", "O"], n_copies=10, n_runs=200, seed=5)
    large = hybrid(s, t_end=10.0, t_eval=t, stochastic=["C", "O"], n_copies=1000, n_runs=200, seed=5)
    ratio = float(small.var("P")[0] / large.var("P")[0])
    assert 58 < ratio < 172                  # 100 expected; the F(199, 199) band of false-failure rate 1e-4
    assert abs(float(large.mean("P")[0]) - ode) < 4.5 * float(large.std("P")[0]) / math.sqrt(200)
    assert np.all(np.abs(large["P"][:, 0] - ode) < 0.08 * ode)   # every run at N = 1000 within 8 % of the ODE


def test_the_stochastic_part_is_the_ssa_run_with_the_same_seed():
    # the event log does not touch the random stream: counts equal kinetics.ssa's on the stochastic sub-scheme
    s = channel_pool(driven=True)
    prot = Protocol([pulses("glu", [10.0], amplitude=3.0, width=5.0)])
    t = np.linspace(0.0, 40.0, 17)
    res = hybrid(s, prot, t_end=40.0, t_eval=t, stochastic=["C", "O"], n_copies=50, n_runs=6, seed=9)
    ref = ssa(split(s, ["C", "O"]).stochastic_scheme, prot, t_end=40.0, t_eval=t, n_copies=50, n_runs=6, seed=9)
    assert ref.method == "native"
    np.testing.assert_array_equal(np.rint(res["O"] * 50).astype(int), ref["O"])


def test_python_engine_is_the_python_ssa_and_the_same_coupling():
    s = channel_pool(driven=True)
    prot = Protocol([pulses("glu", [10.0], amplitude=3.0, width=5.0)])
    t = np.linspace(0.0, 40.0, 17)
    kw = dict(t_end=40.0, t_eval=t, n_copies=50, n_runs=3, seed=9)
    res = hybrid(s, prot, stochastic=["C", "O"], ssa_method="python", rtol=1e-10, atol=1e-12, **kw)
    ref = ssa(split(s, ["C", "O"]).stochastic_scheme, prot, method="python", **kw)
    assert res.ssa_method == "python"
    np.testing.assert_array_equal(np.rint(res["O"] * 50).astype(int), ref["O"])
    # the same open-count path through the native event log gives the same pool (exact coupling either way)
    fine = np.linspace(0.0, 40.0, 4001)
    a = hybrid(s, prot, stochastic=["C", "O"], ssa_method="python", rtol=1e-10, atol=1e-12,
               **{**kw, "t_eval": fine, "n_runs": 1})
    o = a["O"][0]
    P = np.zeros_like(fine)                       # the pool from the open fraction on the fine grid (Euler-free:
    for k in range(1, fine.size):                 # exact for O constant over each 0.01 ms step)
        h = fine[k] - fine[k - 1]
        P[k] = P[k - 1] * math.exp(-h / TAU) + G * TAU * o[k - 1] * (1 - math.exp(-h / TAU))
    assert np.max(np.abs(a["P"][0] - P)) < 0.02 * np.max(P)   # grid-resolution error only


def test_runs_do_not_depend_on_chunking_or_executor():
    s = channel_pool()
    kw = dict(t_end=20.0, t_eval=[10.0, 20.0], stochastic=["C", "O"], n_copies=7, seed=21)
    one = hybrid(s, n_runs=6, chunk_size=1, **kw)
    threads = hybrid(s, n_runs=6, executor="threads", chunk_size=4, **kw)
    fewer = hybrid(s, n_runs=3, **kw)
    np.testing.assert_array_equal(one.y, threads.y)
    np.testing.assert_array_equal(one.y[:3], fewer.y)
    assert not np.array_equal(one.y[0], one.y[1])


def test_multinomial_initial_state_conserves_the_pool():
    s = channel_pool()
    res = hybrid(s, t_end=5.0, t_eval=[0.0, 5.0], stochastic=["C", "O"], n_copies=9, n_runs=200, seed=2,
                 y0={"C": 2 / 3, "O": 1 / 3}, initial="multinomial")
    np.testing.assert_allclose(res["C"] + res["O"], 1.0)
    counts = np.rint(res["O"][:, 0] * 9)
    assert abs(counts.mean() - 3.0) < 4.5 * math.sqrt(9 * 2 / 9) / math.sqrt(200)     # Binomial(9, 1/3)
    assert len(set(counts)) > 3                                                        # not all rounded to 3
    with pytest.raises(ArgumentError, match="sum 1"):
        hybrid(s, t_end=5.0, stochastic=["C", "O"], n_copies=9, y0={"C": 0.5, "O": 0.2}, initial="multinomial")


def test_observables_are_recorded():
    s = channel_pool().replace(observables=(kx.Observable("flux", "g*O"),))
    res = hybrid(s, t_end=5.0, t_eval=[1.0, 5.0], stochastic=["C", "O"], n_copies=5, n_runs=3, seed=0,
                 record=["flux", "O"])
    assert res.names == ("flux", "O")
    np.testing.assert_allclose(res["flux"], G * res["O"])
    with pytest.raises(ArgumentError, match="not recorded"):
        res["P"]


def test_refused_splits_and_arguments():
    s = channel_pool()
    with pytest.raises(ArgumentError, match="not a species"):
        split(s, ["C", "X"])
    with pytest.raises(ArgumentError, match="every species"):
        split(s, ["C", "O", "P"])
    with pytest.raises(ArgumentError, match="empty"):
        split(s, [])
    mixed = kx.Scheme("mixed", species=[kx.Species("C", 1.0, "1"), kx.Species("O", 0.0, "1"),
                                        kx.Species("P", 0.0, "1")],
                      parameters=[kx.Parameter("a", 1.0, "1/ms")],
                      reactions=[kx.reaction("C <-> O", "a", "a"), kx.reaction("O -> P", "a")])
    with pytest.raises(SchemeError, match="one side of the split"):
        split(mixed, ["C", "O"])
    reads = kx.Scheme("reads", species=[kx.Species("C", 1.0, "1"), kx.Species("O", 0.0, "1"),
                                        kx.Species("P", 0.0, "1")],
                      parameters=[kx.Parameter("a", 1.0, "1/ms")],
                      observables=[kx.Observable("boost", "1 + P")],
                      reactions=[kx.reaction("C <-> O", "a*boost", "a")], rate_rules=[kx.RateRule("P", "a*O")])
    with pytest.raises(SchemeError, match="reads the deterministic species P"):
        split(reads, ["C", "O"])
    with pytest.raises(SchemeError, match="rate rule"):
        split(s, ["P"])
    with pytest.raises(ArgumentError, match="initial"):
        hybrid(s, t_end=1.0, stochastic=["C", "O"], n_copies=1, initial="poisson")
    with pytest.raises(ArgumentError, match="n_copies"):
        hybrid(s, t_end=1.0, stochastic=["C", "O"], volume=1e-15, initial="multinomial")
    with pytest.raises(ArgumentError, match="record"):
        hybrid(s, t_end=1.0, stochastic=["C", "O"], n_copies=1, record=["Q"])


def test_synapse_receptors_split_off_with_only_the_open_state_coupled():
    # the Mg2+ block modulates the current, not the receptor's transitions: the ODE part reads only O, and no
    # receptor propensity reads a deterministic state (split would refuse it)
    from models import synapse
    from models.cli.stochastic import receptor_species

    sp = split(synapse.scheme(), receptor_species())
    assert sp.coupled == ("O",)
    assert len(sp.stochastic) == 76 and len(sp.deterministic) == 115 - 76


def test_stochastic_command(tmp_path, capsys):
    # the JSON's ODE reference is the synapse's own weight change; every run has a number; bad N refused
    import json

    from models import synapse
    from models.cli import main
    from models.experiments import sjostrom_protocol

    out = tmp_path / "o.json"
    assert main(["stochastic", "--receptors", "3", "--runs", "4", "--bursts", "1", "--freq", "20", "--seed", "5",
                 "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    pre, post = sjostrom_protocol(10.0, 20.0, bursts=1)
    assert math.isclose(data["ode"]["change"], synapse.run(pre, post, n_points=3).change, rel_tol=1e-4)
    (row,) = data["results"]
    assert row["n_receptors"] == 3 and len(row["change"]) == 4 and data["seed"] == 5
    assert all(v > 0 for v in row["peak_current_pA"] + row["peak_calcium_uM"])
    again = tmp_path / "p.json"
    main(["stochastic", "--receptors", "3", "--runs", "4", "--bursts", "1", "--freq", "20", "--seed", "5",
          "--json", str(again)])
    assert json.loads(again.read_text())["results"] == data["results"]          # the seed reproduces the runs
    with pytest.raises(SystemExit) as exc:
        main(["stochastic", "--receptors", "0", "--json", str(out)])
    assert exc.value.code == 2
    assert main(["stochastic", "--condition", "nonsense", "--json", str(out)]) == 2
    assert "nonsense" in capsys.readouterr().err
