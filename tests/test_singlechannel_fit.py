"""Maximum-likelihood fits of rate constants to simulated idealized records: recovery within standard errors,
constraints (fixed, tied, microscopic reversibility), multistart, bad input."""
import json
import math
from pathlib import Path

import pytest

import kinetics as kx
from kinetics.errors import ArgumentError, SchemeError
from kinetics.fitting import FitParameter
from kinetics.singlechannel import SingleChannelData, fit_records, q_matrix, simulate_record
from models import destexhe1994

CH82 = json.loads((Path(__file__).parent / "data" / "singlechannel" / "ch82.json").read_text())


def test_recover_nmda_rates_from_simulated_records():
    """Five-state NMDA receptor (Destexhe, Mainen & Sejnowski 1994 scheme; rates as compiled by Destexhe et al.
    1998, with statistical factors), two glutamate concentrations, ~4000 apparent intervals each at 50 us
    resolution, whole records (equilibrium vectors). Every rate is recovered within 3 standard errors."""
    s = destexhe1994.five_state("destexhe1994", statistical_factors=True)
    true = {p.name: p.value for p in s.parameters}
    data = [SingleChannelData(simulate_record(q_matrix(s, inputs={"glu": glu}, conductance="Popen"), 4000,
                                              seed=10 + i), tres=50e-6, inputs={"glu": glu}, name=f"{glu} mM")
            for i, glu in enumerate([0.001, 0.1])]
    start = s.with_parameters({n: v * f for (n, v), f in zip(true.items(), [0.5, 2, 1.5, 0.6, 2, 0.5])})
    f = fit_records(start, data, list(true), conductance="Popen")
    assert f.success
    for n, v in true.items():
        assert abs(f.values[n] - v) < 3 * f.standard_errors[n], (n, f.values[n], v, f.standard_errors[n])
        assert f.standard_errors[n] / v < 0.15
    assert "Rb" in f.report() and math.isfinite(f.log_likelihood)
    assert f.q_matrix(inputs={"glu": 0.1}, conductance="Popen").popen() == pytest.approx(
        q_matrix(s, inputs={"glu": 0.1}, conductance="Popen").popen(), rel=0.1)


def _ch82_scheme():
    r = CH82["rates"]
    P = kx.Parameter
    return kx.Scheme(
        "ch82", species=[kx.Species("R", 1.0), kx.Species("AR"), kx.Species("A2R"), kx.Species("ARs"),
                         kx.Species("A2Rs")],
        parameters=[P("k1p", r["k_plus1"], "1/(M*s)"), P("k1m", r["k_minus1"], "1/s"),
                    P("k2p", r["k_plus2"], "1/(M*s)"), P("k2m", r["k_minus2"], "1/s"),
                    P("ks2p", r["kstar_plus2"], "1/(M*s)"), P("ks2m", r["kstar_minus2"], "1/s"),
                    P("alpha1", r["alpha1"], "1/s"), P("beta1", r["beta1"], "1/s"),
                    P("alpha2", r["alpha2"], "1/s"), P("beta2", r["beta2"], "1/s")],
        inputs=[kx.Input("A", 0.0, "mM")],
        reactions=[kx.reaction("R <-> AR", "2*k1p*A", "k1m"), kx.reaction("AR <-> A2R", "k2p*A", "2*k2m"),
                   kx.reaction("AR <-> ARs", "beta1", "alpha1"), kx.reaction("A2R <-> A2Rs", "beta2", "alpha2"),
                   kx.reaction("ARs <-> A2Rs", "ks2p*A", "2*ks2m")])


def test_constraints_tied_and_microscopic_reversibility():
    s = _ch82_scheme()
    opn = ["ARs", "A2Rs"]
    rec = simulate_record(q_matrix(s, inputs={"A": 1e-4}, open_states=opn), 3000, seed=4)
    data = SingleChannelData(rec, tres=20e-6, tcrit=3.5e-3, inputs={"A": 1e-4})
    start = s.with_parameters(alpha2=800.0, beta2=9000.0, k1m=1500.0)
    f = fit_records(start, data, ["alpha2", "beta2", FitParameter("k1m", bounds=(100.0, 1e5))], open_states=opn,
                    tied={"k2m": ("k1m", 1.0)}, reversibility=["ks2m"], n_starts=2, seed=1)
    assert f.values["k2m"] == f.values["k1m"]
    q = f.q_matrix(inputs={"A": 1e-4}, open_states=opn)
    assert q.reversibility(rtol=1e-9).ok
    # ks2m from the cycle: k2p ks2m... = 2 k2m ... -> ks2m = k2m beta1 ks2p alpha2 / (k2p alpha1 beta2)
    v = f.values
    assert v["ks2m"] == pytest.approx(v["k2m"] * v["beta1"] * v["ks2p"] * v["alpha2"]
                                      / (v["k2p"] * v["alpha1"] * v["beta2"]), rel=1e-9)
    for n, true in (("alpha2", 500.0), ("beta2", 15000.0), ("k1m", 2000.0)):
        assert abs(f.values[n] - true) < 3 * f.standard_errors[n], (n, f.values[n], f.standard_errors[n])
    assert len(f.starts) == 2 and f.log_likelihood == pytest.approx(-min(r["fun"] for r in f.starts))
    assert "microscopic reversibility" in f.report() and "tied" in f.report()


def test_fit_errors():
    s = _ch82_scheme()
    opn = ["ARs", "A2Rs"]
    d = SingleChannelData([[1e-3, 1e-4, 2e-3]], tres=20e-6, inputs={"A": 1e-4})
    with pytest.raises(SchemeError, match="unknown parameter `alpha3`"):
        fit_records(s, d, ["alpha3"], open_states=opn)
    with pytest.raises(ArgumentError, match="tied"):
        fit_records(s, d, ["k2m"], open_states=opn, tied={"k2m": ("k1m", 1.0)})
    with pytest.raises(ArgumentError, match="reversibility"):
        fit_records(s, d, ["ks2m"], open_states=opn, reversibility=["ks2m"])
    with pytest.raises(SchemeError, match="independent cycle"):
        fit_records(s, d, ["alpha2"], open_states=opn, reversibility=["ks2m", "k2m"])
    with pytest.raises(ArgumentError, match="SingleChannelData"):
        fit_records(s, [[1e-3]], ["alpha2"], open_states=opn)
    with pytest.raises(ArgumentError, match="empty"):
        SingleChannelData([[]], tres=20e-6)
    with pytest.raises(ArgumentError, match="tcrit"):
        SingleChannelData([[1e-3]], tres=20e-6, tcrit=1e-5)


def test_profile_likelihood_and_wald_agree_for_a_well_determined_rate():
    """del Castillo-Katz R <-> AR <-> AR* (rates chosen for the test), 3000 simulated intervals: the profile of
    alpha is close to quadratic, so its 95% likelihood interval matches the Wald interval est +- 1.96 SE."""
    from kinetics.singlechannel import profile

    s = kx.Scheme("dck", species=[kx.Species("R", 1.0), kx.Species("AR"), kx.Species("ARs")],
                  parameters=[kx.Parameter("kon", 1e7, "1/(M*s)"), kx.Parameter("koff", 2e3, "1/s"),
                              kx.Parameter("beta", 5e3, "1/s"), kx.Parameter("alpha", 1e3, "1/s")],
                  inputs=[kx.Input("A", 0.0, "mM")],
                  reactions=[kx.reaction("R <-> AR", "kon*A", "koff"), kx.reaction("AR <-> ARs", "beta", "alpha")])
    rec = simulate_record(q_matrix(s, inputs={"A": 0.05}, open_states=["ARs"]), 3000, seed=2)
    d = SingleChannelData(rec, tres=50e-6, inputs={"A": 0.05})
    f = fit_records(s, d, ["koff", "beta", "alpha"], open_states=["ARs"])
    p = profile(f, "alpha", n_points=5, width=2.5)
    se = f.standard_errors["alpha"]
    lo, hi = p.interval
    assert lo == pytest.approx(f.values["alpha"] - 1.96 * se, rel=0.02)
    assert hi == pytest.approx(f.values["alpha"] + 1.96 * se, rel=0.02)
    assert p.log_likelihood.max() <= p.maximum + 1e-6
    with pytest.raises(ArgumentError, match="was not fitted"):
        profile(f, "kon")


def test_ec50_constraint():
    """CH82 bursts at 100 nM; k2m computed at every step so that the P_open curve keeps the true mechanism's
    EC50 (and ks2m from microscopic reversibility, which depends on k2m): the fitted mechanism's EC50 is the
    constraint to 1e-6, and the free gating rates are recovered within 3 SE."""
    from kinetics.singlechannel import EC50Constraint, ec50

    s = _ch82_scheme()
    opn = ["ARs", "A2Rs"]
    target = ec50(s, "A", open_states=opn)                              # mM
    rec = simulate_record(q_matrix(s, inputs={"A": 1e-4}, open_states=opn), 3000, seed=4)
    data = SingleChannelData(rec, tres=20e-6, tcrit=3.5e-3, inputs={"A": 1e-4})
    start = s.with_parameters(alpha2=800.0, beta2=9000.0, k2m=500.0)
    f = fit_records(start, data, ["alpha2", "beta2"], open_states=opn, reversibility=["ks2m"],
                    ec50=EC50Constraint("k2m", target, "A"))
    assert f.success
    assert ec50(f.scheme, "A", open_states=opn) == pytest.approx(target, rel=1e-6)
    assert f.q_matrix(inputs={"A": 1e-4}, open_states=opn).reversibility(rtol=1e-9).ok
    for n, true in (("alpha2", 500.0), ("beta2", 15000.0)):
        assert abs(f.values[n] - true) < 3 * f.standard_errors[n], (n, f.values[n], f.standard_errors[n])
    assert f.values["k2m"] == pytest.approx(2000.0, rel=0.3)
    assert "EC50" in f.report()
    # the kinetics.fitting result fields: stderr, ci (Wald on log10: lo * hi = value^2), report, JSON
    for n in ("alpha2", "beta2"):
        lo, hi = f.ci[n]
        assert lo < f[n] < hi and lo * hi == pytest.approx(f[n] ** 2, rel=1e-12)
        assert (hi - lo) / 2 == pytest.approx(1.96 * f.stderr[n], rel=0.05)     # SE/value ~ 4 %: nearly symmetric
    assert f.stderr is f.standard_errors and f.n_data == data.n_intervals
    assert f.aic == pytest.approx(2 * 2 - 2 * f.log_likelihood)
    out = json.loads(f.to_json())
    assert out["parameters"]["alpha2"]["value"] == f["alpha2"] and out["constraints"]["ec50"]["parameter"] == "k2m"
    assert out["log_likelihood"] == f.log_likelihood and out["n_data"] == data.n_intervals
    assert "[[Parameters]]" in f.report() and "[[Constraints]]" in f.report()


def test_ec50_constraint_errors():
    from kinetics.singlechannel import EC50Constraint

    s = _ch82_scheme()
    opn = ["ARs", "A2Rs"]
    d = SingleChannelData([[1e-3, 1e-4, 2e-3]], tres=20e-6, inputs={"A": 1e-4})
    with pytest.raises(ArgumentError, match="positive concentration"):
        EC50Constraint("k2m", -1.0, "A")
    with pytest.raises(ArgumentError, match="inside the bracket"):
        EC50Constraint("k2m", 1e4, "A")
    with pytest.raises(ArgumentError, match="EC50 constraint"):
        fit_records(s, d, ["k2m"], open_states=opn, ec50=EC50Constraint("k2m", 1e-3, "A"))
    with pytest.raises(SchemeError, match="unknown parameter `k9m`"):
        fit_records(s, d, ["alpha2"], open_states=opn, ec50=EC50Constraint("k9m", 1e-3, "A"))
    with pytest.raises(ArgumentError, match="unknown agonist input `B`"):
        fit_records(s, d, ["alpha2"], open_states=opn, ec50=EC50Constraint("k2m", 1e-3, "B"))
    with pytest.raises(ArgumentError, match="EC50Constraint"):
        fit_records(s, d, ["alpha2"], open_states=opn, ec50=("k2m", 1e-3, "A"))


def _popescu2004_scheme():
    d = json.loads((Path(__file__).parent / "data" / "singlechannel" / "popescu2004.json").read_text())
    assoc = {"ka", "kb"}
    s = kx.Scheme("popescu2004", species=[kx.Species("R", 1.0)] + [kx.Species(n) for n in
                                                                    ["RA", "RA2", "C2", "C1", "O1", "O2"]],
                  parameters=[kx.Parameter(n, v, "1/(uM*s)" if n in assoc else "1/s") for n, v in d["rates"].items()],
                  inputs=[kx.Input("glu", 0.0, "mM")],
                  reactions=[kx.reaction(f"{a} <-> {b}", f, r) for a, b, f, r in d["steps"]])
    return s, d["rates"], d["open_states"]


def test_recover_popescu2004_nmda_rates():
    """GluN1/GluN2A mechanism of Popescu et al. (2004) (rates as tabulated by Rodrigues et al. 2023, see
    tests/data/singlechannel/popescu2004.json): ~5000 apparent intervals at 1 uM and at 1 mM glutamate, 50 us
    resolution, whole records; binding rates tied by the two-site statistical factors (ka = 2 kb, k-b = 2 k-a).
    All ten free rates, started 20-50 % off, are recovered within 3 standard errors (about 10 s)."""
    s, true, opn = _popescu2004_scheme()
    data = [SingleChannelData(simulate_record(q_matrix(s, inputs={"glu": g}, open_states=opn), 6000, seed=20 + i),
                              tres=50e-6, inputs={"glu": g}, name=f"{g:g} mM") for i, g in enumerate([0.001, 1.0])]
    free = ["kb", "k_a", "kc", "k_c", "kd", "k_d", "ke", "k_e", "kf", "k_f"]
    off = dict(zip(free, [0.6, 1.5, 1.4, 0.7, 0.7, 1.4, 1.3, 0.8, 0.75, 1.3]))
    start = s.with_parameters({n: true[n] * f for n, f in off.items()})
    f = fit_records(start, data, free, open_states=opn, tied={"ka": ("kb", 2.0), "k_b": ("k_a", 2.0)})
    assert f.success
    for n in free:
        assert abs(f[n] - true[n]) < 3 * f.stderr[n], (n, f[n], true[n], f.stderr[n])
        assert f.stderr[n] / true[n] < 0.2
    assert f["ka"] == 2 * f["kb"] and f["k_b"] == 2 * f["k_a"]
