"""Parameter recovery from synthetic data with known truth, identifiability flags, and the dask path."""
import numpy as np
import pytest

import kinetics as kx
from kinetics.fitting import Dataset, FitParameter, fit, profile
from kinetics.executor import ProcessExecutor
from models import destexhe1994

# --------------------------------------------------------------------------- reversible binding

KON, KOFF = 0.5, 0.02            # 1/(uM*s), 1/s: Kd = 40 nM (choices for the test)
L_ASSOC = 5e-5                   # mM (50 nM) during association


def binding_scheme(kon=KON, koff=KOFF):
    return kx.Scheme(
        "binding", species=[kx.Species("R", 1.0, unit="1"), kx.Species("LR", 0.0, unit="1")],
        parameters=[kx.Parameter("kon", kon, "1/(uM*s)"), kx.Parameter("koff", koff, "1/s")],
        inputs=[kx.Input("L", 0.0, "mM")], reactions=[kx.reaction("R <-> LR", "kon*L", "koff")])


def binding_datasets(seed=7, noise=0.02):
    """Association (L = 50 nM from t = 0) and dissociation (from LR = 0.55 with L = 0); analytic curves."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 150e3, 151)                       # ms: 0..150 s
    kobs = (KON * 1e3 * L_ASSOC + KOFF) * 1e-3             # 1/ms (kon L in 1/s: 0.5/uM/s * 0.05 uM)
    eq = KON * 1e3 * L_ASSOC / (KON * 1e3 * L_ASSOC + KOFF)
    assoc = eq * (1 - np.exp(-kobs * t))
    dissoc = 0.55 * np.exp(-KOFF * 1e-3 * t)
    sa, sd = noise * assoc.max(), noise * dissoc.max()
    return [
        Dataset("association", t, {"LR": assoc + rng.normal(0, sa, t.size)},
                protocol=kx.Protocol([kx.steps("L", [0.0], [L_ASSOC])]), sigma=sa),
        Dataset("dissociation", t, {"LR": dissoc + rng.normal(0, sd, t.size)}, y0={"R": 0.45, "LR": 0.55},
                sigma=sd),
    ]


def test_binding_recovers_kon_koff_within_5_percent():
    start = binding_scheme(kon=2.0, koff=0.005)
    res = fit(start, binding_datasets(), {"kon": (0.01, 50.0), "koff": (1e-4, 1.0)}, n_starts=4,
              executor="serial", profiles=True)
    assert res.success
    assert abs(res.values["kon"] / KON - 1) < 0.05
    assert abs(res.values["koff"] / KOFF - 1) < 0.05
    for k, truth in (("kon", KON), ("koff", KOFF)):
        lo, hi = res.ci[k]
        assert lo < truth < hi
        assert lo < res.values[k] < hi
    assert res.ci_method == "profile"
    assert res.identifiable and not res.flags
    # the chi2 of a correct model with the true noise is close to the number of points
    assert 0.8 < res.reduced_chi2 < 1.25
    # inputs never mutated; new Parameter objects with the fitted value in the declared unit
    assert start.get_parameter("kon").value == 2.0
    assert res.parameters["kon"].value == res.values["kon"] and res.parameters["kon"].unit == "1/(uM*s)"
    assert res.scheme.get_parameter("koff").value == res.values["koff"]


def test_estimated_noise_matches_the_true_noise():
    ds = [d.replace(sigma="estimate") for d in binding_datasets(seed=3)]
    true = [d.sigma["LR"][0] for d in binding_datasets(seed=3)]
    res = fit(binding_scheme(kon=1.0, koff=0.01), ds, {"kon": (0.01, 50.0), "koff": (1e-4, 1.0)}, n_starts=2,
              executor="serial")
    assert res.n_sigma == 2
    for d, s_true in zip(ds, true):
        assert res.sigma[(d.name, "LR")] == pytest.approx(s_true, rel=0.15)
    assert abs(res.values["kon"] / KON - 1) < 0.05 and abs(res.values["koff"] / KOFF - 1) < 0.05
    assert res.reduced_chi2 == pytest.approx(1.0, abs=0.02)


# --------------------------------------------------------------------------- Destexhe five-state

RATES = ("Ru", "Rd", "Rr", "Ro", "Rc")


def destexhe_datasets(seed=11):
    """EPSCs (I = -50 pA * O) at three glutamate conditions, 2 % noise (sd = 2 % of each trace's peak)."""
    scheme = destexhe1994.five_state()
    conditions = {
        "pulse": ([kx.pulses("glu", [10.0], amplitude=1.0, width=1.0)], 500.0),
        "train": ([kx.pulses("glu", kx.regular_train(5, 20.0, t0=10.0), amplitude=1.0, width=1.0)], 600.0),
        "long": ([kx.pulses("glu", [10.0], amplitude=1.0, width=1000.0)], 1500.0),
    }
    rng = np.random.default_rng(seed)
    out = []
    for name, (comps, t_end) in conditions.items():
        prot = kx.Protocol(comps)
        t = np.arange(0.0, t_end + 0.25, 0.5)
        current = -50.0 * kx.simulate(scheme, prot, t_end=t_end, t_eval=t, rtol=1e-10, atol=1e-12)["O"]
        sigma = 0.02 * np.abs(current).max()
        out.append(Dataset(name, t, {"I": current + rng.normal(0, sigma, t.size)}, protocol=prot, sigma=sigma,
                           observables={"I": "-gmax*O"}, parameters={"gmax": 50.0}))
    return out


def test_destexhe_recovers_five_rates_with_intervals_containing_truth():
    truth = destexhe1994.five_state().parameter_values()
    start = destexhe1994.five_state("lester_jahr1992")          # start from another published rate set
    spec = {k: (truth[k] / 20, truth[k] * 20) for k in RATES}
    res = fit(start, destexhe_datasets(), spec, n_starts=6, seed=2, executor="serial", profiles=True)
    assert res.success and res.identifiable
    for k in RATES:
        assert abs(res.values[k] / truth[k] - 1) < 0.05, k
        lo, hi = res.ci[k]
        assert lo < truth[k] < hi, (k, lo, hi, truth[k])
        assert res.profiles[k].ci == res.ci[k] and not res.profiles[k].flat
    assert "Rb" not in res.values and res.scheme.get_parameter("Rb").value == 5.0
    # profile intervals agree with the Fisher-information (Wald) standard errors for this well-posed problem
    for k in RATES:
        lo, hi = res.ci[k]
        assert (hi - lo) / (2 * 1.96 * res.stderr[k]) == pytest.approx(1.0, abs=0.15)
    # the best optimum is found by most starts
    costs = np.array([s.cost for s in res.starts])
    assert np.sum(costs < res.cost + 1e-3) >= 4


# --------------------------------------------------------------------------- identifiability

def product_scheme(ka=1.0, kb=1.0):
    return kx.Scheme("product", species=[kx.Species("A", 1.0), kx.Species("B", 0.0)],
                     parameters=[kx.Parameter("ka", ka, "1/ms"), kx.Parameter("kb", kb, "1")],
                     reactions=[kx.reaction("A -> B", "ka*kb")])


def test_non_identifiable_pair_is_flagged():
    """Only ka*kb enters the model: the Fisher information is singular, both profiles are flat."""
    t = np.linspace(0.0, 5.0, 51)
    rng = np.random.default_rng(0)
    b = 1 - np.exp(-0.6 * t)
    ds = Dataset("b", t, {"B": b + rng.normal(0, 0.01, t.size)}, sigma=0.01)
    res = fit(product_scheme(0.3, 0.5), ds, {"ka": (0.01, 100.0), "kb": (0.01, 100.0)}, n_starts=3,
              executor="serial", profiles=True)
    assert res.values["ka"] * res.values["kb"] == pytest.approx(0.6, rel=0.03)
    assert not res.identifiable
    kinds = {f.kind for f in res.flags}
    assert {"singular", "flat_profile"} <= kinds
    singular = next(f for f in res.flags if f.kind == "singular")
    assert set(singular.parameters) == {"ka", "kb"} and "product ka*kb" in singular.message
    assert {f.parameters[0] for f in res.flags if f.kind == "flat_profile"} == {"ka", "kb"}
    assert np.isinf(res.stderr["ka"]) and np.isinf(res.stderr["kb"])
    # flat from the lower bound 0.01 up to where the partner would leave its box (0.6 / 0.01 = 60)
    for pr in res.profiles.values():
        inside = pr.values[pr.delta_cost < pr.threshold]
        assert pr.lower_open and inside.min() == pytest.approx(0.01) and inside.max() > 30.0
    assert "not identifiable" in res.report() and "product ka*kb" in res.report()


def test_huge_correlation_is_flagged():
    """Two parameters whose Jacobian columns are almost parallel (correlation ~ -0.995)."""
    from kinetics.fitting.uncertainty import covariance, identifiability

    rng = np.random.default_rng(1)
    a = rng.normal(size=200)
    J = np.column_stack([a, a + 0.1 * rng.normal(size=200), rng.normal(size=200)])
    cov = covariance(J)
    assert cov.rank == 3
    assert cov.correlation[0, 1] < -0.99
    flags = identifiability(["p", "q", "r"], ["log10"] * 3, cov)
    assert [(f.kind, f.parameters) for f in flags] == [("correlation", ("p", "q"))]


# --------------------------------------------------------------------------- executors

def test_dask_cluster_gives_the_same_answer_as_the_local_pool():
    distributed = pytest.importorskip("distributed")
    ds = binding_datasets(seed=5)
    spec = {"kon": (0.01, 50.0), "koff": (1e-4, 1.0)}
    start = binding_scheme(kon=3.0, koff=0.1)
    with ProcessExecutor(2) as pool:
        local = fit(start, ds, spec, n_starts=4, seed=3, executor=pool, profiles=True)
    assert "process pool (2 workers)" in local.settings["executor"]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        remote = fit(start, ds, spec, n_starts=4, seed=3, executor=client, profiles=True)
        again = profile(remote, ["kon"], executor=client)
    assert "dask" in remote.settings["executor"]
    for k in spec:
        assert remote.values[k] == pytest.approx(local.values[k], rel=1e-10)
        assert remote.ci[k] == pytest.approx(local.ci[k], rel=1e-8)
    assert [s.cost for s in remote.starts] == pytest.approx([s.cost for s in local.starts], rel=1e-10)
    assert again.profiles["kon"].ci == pytest.approx(local.profiles["kon"].ci, rel=1e-8)
    assert abs(local.values["kon"] / KON - 1) < 0.05


def test_failing_start_is_recorded_not_fatal():
    """A start where the solver fails (step budget) is kept with its error; the other starts carry on."""
    from kinetics.fitting.objective import Objective
    from kinetics.fitting.optimize import local_fit

    ds = binding_datasets()
    obj = Objective(binding_scheme(), ds, {"kon": (0.01, 50.0), "koff": (1e-4, 1.0)}, max_steps=5)
    bad = local_fit(obj, obj.x_start, index=3)
    assert not bad.success and bad.x is None and "SolverError" in bad.error and bad.index == 3
    res = fit(binding_scheme(), ds, {"kon": (0.01, 50.0), "koff": (1e-4, 1.0)}, n_starts=3, executor="serial",
              options={"max_nfev": 1})
    assert len(res.starts) == 3 and not res.success     # stopped by max_nfev: recorded as not converged
    assert all(s.x is not None for s in res.starts)


def test_observation_parameter_used_by_only_one_dataset():
    """A scale factor observed in one dataset only: its Jacobian column is zero for the other (regression)."""
    t = np.linspace(0.0, 150e3, 76)
    kobs = (KON * 1e3 * L_ASSOC + KOFF) * 1e-3
    eq = KON * 1e3 * L_ASSOC / (KON * 1e3 * L_ASSOC + KOFF)
    assoc = eq * (1 - np.exp(-kobs * t))
    dissoc = 0.55 * np.exp(-KOFF * 1e-3 * t)
    scale = 40.0
    datasets = [
        Dataset("association_signal", t, {"S": scale * assoc}, observables={"S": "s*LR"},
                protocol=kx.Protocol([kx.steps("L", [0.0], [L_ASSOC])]), sigma=0.01 * scale * eq),
        Dataset("dissociation", t, {"LR": dissoc}, y0={"R": 0.45, "LR": 0.55}, sigma=0.01 * 0.55),
    ]
    params = [FitParameter("kon", bounds=(0.01, 50.0)), FitParameter("koff", bounds=(1e-4, 1.0)),
              FitParameter("s", start=10.0, bounds=(1.0, 1000.0))]
    res = fit(binding_scheme(kon=1.0, koff=0.01), datasets, params, n_starts=2, executor="serial")
    assert res.success
    assert res.values["kon"] == pytest.approx(KON, rel=1e-4)
    assert res.values["koff"] == pytest.approx(KOFF, rel=1e-4)
    assert res.values["s"] == pytest.approx(scale, rel=1e-4)
