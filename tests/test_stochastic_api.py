"""kinetics.ssa: count conventions, jumps, reproducible seeds across executors and chunking, clear errors."""
import math

import numpy as np
import pytest

import kinetics as kx
from kinetics.errors import ArgumentError, SchemeError
from kinetics.stochastic import AVOGADRO, channels, ssa_path
from models import destexhe1994


def _decay(**kw):
    return kx.Scheme("decay_ssa", species=[kx.Species("A", 1.0, "1"), kx.Species("B", 0.0, "1")],
                     parameters=[kx.Parameter("k", 0.2, "1/ms")], reactions=[kx.reaction("A -> B", "k")], **kw)


def test_count_conventions_and_propensities():
    s = kx.Scheme("conv", species=[kx.Species("A", 2e-6), kx.Species("B", 1e-6), kx.Species("C", 0.0)],
                  parameters=[kx.Parameter("k1", 3.0, "1/(mM*ms)"), kx.Parameter("k2", 5.0, "1/(mM*ms)"),
                              kx.Parameter("k0", 7.0, "mM/ms"), kx.Parameter("kd", 11.0, "1/s")],
                  reactions=[kx.reaction("A + B -> C", "k1"), kx.reaction("2 A -> C", "k2"),
                             kx.reaction("-> A", "k0"), kx.reaction("C ->", "kd")])
    ch = channels(s, volume=1e-15)
    omega = AVOGADRO * 1e-15 * 1e-3                  # molecules per mM in 1 fL
    assert ch.omega == pytest.approx(omega, rel=1e-15)
    assert ch.counts([2e-6, 1e-6, 0.0]).tolist() == [round(2e-6 * omega), round(1e-6 * omega), 0]  # 1204, 602
    system = __import__("kinetics.stochastic.ssa", fromlist=["stochastic_system"]).stochastic_system(ch)
    k = system.kfun(0.0, [], list(kx.compile(s).parameter_vector()))
    a = system.prop([10, 4, 3], [kj * sc for kj, sc in zip(k, ch.scale)])
    assert a == pytest.approx([3.0 / omega * 10 * 4, 5.0 / omega * 10 * 9, 7.0 * omega, 0.011 * 3], rel=1e-14)
    assert ch.describe().splitlines()[1] == "2 A -> C : k2 / Omega * n_A*(n_A - 1)"
    assert channels(destexhe1994.five_state(), n_copies=20).omega == 20.0


def test_mean_of_linear_decay_with_jumps_and_right_continuity():
    # A -> B at k: counts of A at time t are Binomial(N, exp(-k t)); a `set` jump at t = 5 refills A to N in
    # every run, and the output at exactly t = 5 sees it. Mean at t = 10: N exp(-5 k), 5-sigma tolerance
    # (false-failure rate 6e-7).
    N, R = 50, 2000
    protocol = kx.Protocol([kx.jumps("A", [5.0], 1.0, mode="set")])
    res = kx.ssa(_decay(), protocol, t_end=10.0, t_eval=[0.0, 4.999, 5.0, 10.0], n_runs=R, n_copies=N, seed=5)
    A = res["A"]
    assert np.all(A[:, 0] == N) and np.all(A[:, 2] == N) and A[:, 1].max() < N
    p = math.exp(-1.0)
    assert abs(A[:, 3].mean() - N * p) < 5 * math.sqrt(N * p * (1 - p) / R)
    assert res.concentration("A").max() == 1.0
    q = res.quantile([0.0, 0.5, 1.0], "A")
    assert q.shape == (3, 4) and q[2, 2] == N
    assert res.mean().shape == (4, 2) and res.std("A").shape == (4,)
    assert np.all((res.n_events > 0) & (res.n_events <= 2 * N))     # at most N decays before and after the refill
    assert "2000 runs" in repr(res)


@pytest.mark.parametrize("method", ["native", "python"])
def test_runs_are_reproducible_whatever_the_executor_and_chunking(method):
    s = destexhe1994.five_state()
    protocol = kx.Protocol([kx.pulses("glu", [1.0], amplitude=1.0, width=1.0)])
    kw = dict(t_end=30.0, t_eval=np.linspace(0, 30, 7), n_copies=5, seed=123, method=method)
    a = kx.ssa(s, protocol, n_runs=12, **kw)
    b = kx.ssa(s, protocol, n_runs=12, executor="threads", chunk_size=5, **kw)
    c = kx.ssa(s, protocol, n_runs=5, chunk_size=1, **kw)
    d = kx.ssa(s, protocol, n_runs=12, **{**kw, "seed": 124})
    assert np.array_equal(a.counts, b.counts)
    assert np.array_equal(a.counts[:5], c.counts)
    assert not np.array_equal(a.counts, d.counts)
    assert a.seed == 123
    assert a.method == method
    e = kx.ssa(s, protocol, n_runs=2, t_end=30.0, n_copies=5, method=method)   # a fresh seed, recorded
    f = kx.ssa(s, protocol, n_runs=2, t_end=30.0, n_copies=5, seed=e.seed, method=method)
    assert np.array_equal(e.counts, f.counts)


@pytest.mark.parametrize("method", ["native", "python"])
def test_processes_executor_matches_serial(method):
    s = _decay()
    kw = dict(t_end=5.0, t_eval=[0.0, 2.0, 5.0], n_runs=6, n_copies=30, seed=9, method=method)
    with kx.ProcessExecutor(2) as ex:
        a = kx.ssa(s, executor=ex, chunk_size=2, **kw)
    assert np.array_equal(a.counts, kx.ssa(s, **kw).counts)


def test_path_records_every_event():
    times, chan, counts = ssa_path(_decay(), t_end=1000.0, n_copies=7, seed=2)
    assert times[0] == 0.0 and chan[0] == -1 and counts[0].tolist() == [7, 0]
    assert counts[-1].tolist() == [0, 7] and np.all(np.diff(times) > 0) and len(times) == 8


def _bad(**kw):
    base = dict(species=[kx.Species("A", 1.0, "1"), kx.Species("B", 0.0, "1")],
                parameters=[kx.Parameter("k", 1.0, "1/ms")], reactions=[kx.reaction("A -> B", "k")])
    base.update(kw)
    return kx.Scheme("bad_ssa", **base)


@pytest.mark.parametrize("scheme, match", [
    (_bad(reactions=[kx.reaction("A -> B", rate="k*A/(1 + A)")]), "general rate law"),
    (_bad(rate_rules=[kx.RateRule("B", "k")]), "rate rules"),
    (_bad(reactions=[kx.reaction("A -> B", "k*B")]), "depends on the species B"),
    (_bad(reactions=[kx.reaction("A -> B", "k*Po")], observables=[kx.Observable("Po", "B")]),
     "depends on the species B"),
    (_bad(species=[kx.Species("A", 1.0, "1"), kx.Species("B", 0.0, "1", nonnegative=False)]), "may be negative"),
    (_bad(reactions=[kx.reaction("A -> B", "-1")]), "must be finite and >= 0"),
    (_bad(reactions=[kx.reaction("A + B -> B", "k")]), "order 2"),
])
def test_schemes_without_propensity_meaning_are_refused(scheme, match):
    with pytest.raises(SchemeError, match=match):
        kx.ssa(scheme, t_end=1.0, n_copies=10, seed=0)


@pytest.mark.parametrize("method", ["native", "python"])
def test_runtime_errors_negative_rates_and_unboundable_waveforms(method):
    s = _bad(inputs=[kx.Input("L", 1.0)], reactions=[kx.reaction("A -> B", "k*L")])
    with pytest.raises(SchemeError, match="negative"):
        kx.ssa(s, kx.Protocol([kx.steps("L", [0.5], [-1.0])]), t_end=1.0, n_copies=10, seed=0, method=method)
    s2 = _bad(inputs=[kx.Input("L", 1.0)], reactions=[kx.reaction("A -> B", "k*heaviside(L - 1)")])
    # piecewise-constant inputs need no bound: fine
    kx.ssa(s2, kx.Protocol([kx.steps("L", [0.5], [2.0])]), t_end=1.0, n_copies=10, seed=0, method=method)
    with pytest.raises(SchemeError, match="cannot bound"):
        kx.ssa(s2, kx.Protocol([kx.waveform("L", [0.5], kx.exponential(1.0, 1.0))]), t_end=1.0, n_copies=10,
               seed=0, method=method)


@pytest.mark.parametrize("kw, match", [
    (dict(), "exactly one of `volume`"),
    (dict(volume=1e-15, n_copies=3), "exactly one of `volume`"),
    (dict(n_copies=2.5), "positive integer"),
    (dict(n_copies=0), "positive integer"),
    (dict(volume=-1.0), "positive, finite"),
    (dict(volume="big"), "litres"),
    (dict(n_copies=3, n_runs=0), "n_runs"),
    (dict(n_copies=3, seed=-1), "seed"),
    (dict(n_copies=3, seed=1.5), "seed"),
    (dict(n_copies=3, t_eval=[2.0]), "t_eval"),
    (dict(n_copies=3, t_eval=[0.5, 0.2]), "t_eval"),
    (dict(n_copies=3, chunk_size=0), "chunk_size"),
    (dict(n_copies=3, method="fast"), "method"),
])
def test_bad_arguments(kw, match):
    with pytest.raises(ArgumentError, match=match):
        kx.ssa(_decay(), t_end=1.0, **kw)


@pytest.mark.parametrize("method", ["native", "python"])
def test_negative_counts_and_runaways_are_refused(method):
    with pytest.raises(ArgumentError, match="makes the count of `A` negative"):
        kx.ssa(_decay(), kx.Protocol([kx.jumps("A", [0.5], -2.0)]), t_end=1.0, n_copies=3, seed=0, method=method)
    with pytest.raises(kx.SolverError, match="max_events"):
        kx.ssa(_decay(), t_end=100.0, n_copies=100, seed=0, max_events=10, method=method)
    with pytest.raises(ArgumentError, match="unknown species"):
        kx.ssa(_decay(), t_end=1.0, n_copies=3, seed=0, method=method)["Z"]


def test_interval_bounds_enclose_the_expression():
    # The thinning method's rate bounds: interval arithmetic must enclose every value on the box (here
    # V in [-5, 3], x in [0.5, 2]), checked on a 200 x 200 grid; the C back-end prints the same program.
    import sympy

    from kinetics.stochastic.native import _interval_c
    from kinetics.stochastic.propensities import INTERVAL_NAMESPACE, interval_source

    e = sympy.sympify("2*exp(V/10)*tanh(x) + Abs(V)**1.5 + log(x)*x**V/(1+x**2) - 3")
    ns = dict(INTERVAL_NAMESPACE)
    exec(interval_source([e], {"V": "U[0]", "x": "P[0]"}), ns)  # noqa: S102 - source generated from a sympy tree
    (lo, hi), = ns["_bounds"](0.0, [(-5.0, 3.0)], [(0.5, 2.0)])
    V, x = np.meshgrid(np.linspace(-5, 3, 200), np.linspace(0.5, 2, 200))
    values = sympy.lambdify(["V", "x"], e)(V, x)
    assert lo <= values.min() and values.max() <= hi
    c_lines = _interval_c([e], {"V": "u0", "x": "p0"})
    assert c_lines[-1] == "    kb[0] = v17.hi;" and sum("nks_" in s for s in c_lines) == 17
