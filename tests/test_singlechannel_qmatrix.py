"""Q-matrix theory (kinetics.singlechannel.qmatrix) against the CH82 numbers (the paper's rates;
derived values as printed by SCALCS), analytic solutions,
and the SCALCS peer (black box, only if installed)."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, linalg

import kinetics as kx
from kinetics.errors import ArgumentError, SchemeError
from kinetics.singlechannel import ExponentialMixture, QMatrix, ec50, popen_curve, q_matrix, tcrit

DATA = json.loads((Path(__file__).parent / "data" / "singlechannel" / "ch82.json").read_text())
PUB = DATA["derived_scalcs"]        # SCALCS printout of the paper's example (see ch82.json)


def ch82_q():
    return QMatrix(DATA["Q_per_s"], states=DATA["states"], open_states=DATA["open_states"])


def ch82_scheme():
    r = DATA["rates"]
    P = kx.Parameter
    return kx.Scheme(
        "ch82",
        species=[kx.Species("R", 1.0), kx.Species("AR"), kx.Species("A2R"), kx.Species("ARs"), kx.Species("A2Rs")],
        parameters=[P("k1p", r["k_plus1"], "1/(M*s)"), P("k1m", r["k_minus1"], "1/s"),
                    P("k2p", r["k_plus2"], "1/(M*s)"), P("k2m", r["k_minus2"], "1/s"),
                    P("ks2p", r["kstar_plus2"], "1/(M*s)"), P("ks2m", r["kstar_minus2"], "1/s"),
                    P("alpha1", r["alpha1"], "1/s"), P("beta1", r["beta1"], "1/s"),
                    P("alpha2", r["alpha2"], "1/s"), P("beta2", r["beta2"], "1/s"), P("gamma", 60.0, "pS")],
        inputs=[kx.Input("A", 0.0, "mM")],
        reactions=[kx.reaction("R <-> AR", "2*k1p*A", "k1m"), kx.reaction("AR <-> A2R", "k2p*A", "2*k2m"),
                   kx.reaction("AR <-> ARs", "beta1", "alpha1"), kx.reaction("A2R <-> A2Rs", "beta2", "alpha2"),
                   kx.reaction("ARs <-> A2Rs", "ks2p*A", "2*ks2m")],
        observables=[kx.Observable("g", "gamma*(ARs + A2Rs)")])


C_MM = DATA["concentration_M"] * 1e3          # 100 nM in the scheme's mM


# --------------------------------------------------------------------------- CH82 numbers (SCALCS printout)
def test_ch82_mean_open_and_shut_times():
    q = ch82_q()
    assert q.mean_open_time() * 1e3 == pytest.approx(PUB["mean_open_time_ms"], rel=5e-5)
    assert q.mean_shut_time() * 1e3 == pytest.approx(PUB["mean_shut_time_ms"], rel=5e-5)


def test_ch82_dwell_time_components():
    q = ch82_q()
    o, s = q.open_time_pdf(), q.shut_time_pdf()
    np.testing.assert_allclose(np.array(o.taus) * 1e3, PUB["open_time_taus_ms"], rtol=5e-5)
    np.testing.assert_allclose(o.areas, PUB["open_time_areas"], rtol=5e-4)
    np.testing.assert_allclose(np.array(s.taus) * 1e3, PUB["shut_time_taus_ms"], rtol=5e-5)
    np.testing.assert_allclose(s.areas, PUB["shut_time_areas"], rtol=5e-4)
    assert o.total == pytest.approx(1.0, abs=1e-12) and s.total == pytest.approx(1.0, abs=1e-12)
    # the mixture is the pdf phi exp(Q_AA t)(-Q_AA)u: compare at a few times
    for t in (1e-5, 3e-4, 2e-3):
        direct = q.entry_open() @ linalg.expm(q.QAA * t) @ (-q.QAA) @ np.ones(2)
        assert float(o.pdf(t)) == pytest.approx(direct, rel=1e-10)
    assert integrate.quad(lambda t: float(o.pdf(t)), 0, 0.1, points=[1e-3])[0] == pytest.approx(1.0, rel=1e-8)


def test_ch82_bursts():
    b = ch82_q().bursts(PUB["burst_within_states"])
    assert b.mean_length * 1e3 == pytest.approx(PUB["mean_burst_length_ms"], rel=5e-5)
    assert b.mean_openings == pytest.approx(PUB["mean_openings_per_burst"], rel=5e-5)
    assert b.mean_open_time * 1e3 == pytest.approx(PUB["mean_total_open_time_per_burst_ms"], rel=5e-5)
    assert b.mean_shut_time * 1e3 == pytest.approx(PUB["mean_total_shut_time_per_burst_ms"], rel=5e-4)
    np.testing.assert_allclose(np.array(b.length_pdf.taus) * 1e3, PUB["burst_length_taus_ms"], rtol=5e-5)
    np.testing.assert_allclose(b.start_vector, PUB["burst_start_vector"], rtol=5e-5)
    np.testing.assert_allclose(b.end_vector, PUB["burst_end_vector"], rtol=5e-4)
    assert b.length_pdf.mean == pytest.approx(b.mean_length, rel=1e-10)
    with pytest.raises(ArgumentError, match="shut states"):
        ch82_q().bursts(["AR*"])
    with pytest.raises(ArgumentError, match="every shut state"):
        ch82_q().bursts(["AR", "A2R", "R"])


def test_ch82_relaxation_spectrum_and_reversibility():
    q = ch82_q()
    np.testing.assert_allclose(q.relaxation_rates(), PUB["relaxation_rates_per_s"], rtol=5e-4)
    rev = q.reversibility()
    assert rev.ok and len(rev.cycles) == 1
    assert set(rev.cycles[0].states) == {"AR", "AR*", "A2R*", "A2R"}
    bad = np.array(DATA["Q_per_s"])
    bad[1, 0] *= 2.0
    bad[1, 1] -= DATA["Q_per_s"][1][0]
    check = QMatrix(bad, n_open=2).reversibility()
    assert not check.ok and check.cycles[0].ratio in (pytest.approx(0.5), pytest.approx(2.0))
    assert "VIOLATED" in str(check)


# --------------------------------------------------------------------------- from a Scheme
def test_q_matrix_from_scheme_matches_published_matrix():
    q = q_matrix(ch82_scheme(), inputs={"A": C_MM}, conductance="g")
    assert q.open_states == ("ARs", "A2Rs")
    ref = ch82_q()
    order = [q.states.index(n) for n in ("ARs", "A2Rs", "AR", "A2R", "R")]
    np.testing.assert_allclose(q.Q[np.ix_(order, order)], ref.Q, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(q.conductance, [60e-3, 60e-3, 0, 0, 0])       # nS
    q2 = q_matrix(ch82_scheme(), inputs={"A": C_MM}, open_states=["ARs", "A2Rs"], params={"alpha2": 1000.0})
    assert q2.Q[1, q2.states.index("A2R")] == pytest.approx(1000.0)


def test_popen_curve_and_ec50_del_castillo_katz():
    """R <-> AR <-> AR*: P_open = E c / (K + c (1 + E)), EC50 = K / (1 + E) (analytic)."""
    K, E = 0.1, 3.0                              # mM, dimensionless
    s = kx.Scheme("dck", species=[kx.Species("R", 1.0), kx.Species("AR"), kx.Species("ARs")],
                  parameters=[kx.Parameter("kon", 1e7, "1/(M*s)"), kx.Parameter("koff", 1e3, "1/s"),
                              kx.Parameter("beta", 3e3, "1/s"), kx.Parameter("alpha", 1e3, "1/s")],
                  inputs=[kx.Input("A", 0.0, "mM")],
                  reactions=[kx.reaction("R <-> AR", "kon*A", "koff"), kx.reaction("AR <-> ARs", "beta", "alpha")])
    c = np.logspace(-4, 2, 13)
    np.testing.assert_allclose(popen_curve(s, "A", c, open_states=["ARs"]), E * c / (K + c * (1 + E)), rtol=1e-10)
    assert ec50(s, "A", open_states=["ARs"], high=1e6) == pytest.approx(K / (1 + E), rel=1e-6)


def test_first_latency_and_relaxation_analytic():
    q = ch82_q()
    before = ch82_q().equilibrium()
    q_after = q_matrix(ch82_scheme(), inputs={"A": 1e-3}, open_states=["ARs", "A2Rs"])   # jump to 1 uM
    rename = {"AR*": "ARs", "A2R*": "A2Rs"}
    p0 = {rename.get(n, n): x for n, x in zip(ch82_q().states, before)}
    lat = q_after.first_latency(p0)
    pv = q_after._vector(p0, "p0")
    pF = pv[2:] / pv[2:].sum()
    assert lat.mean == pytest.approx(pF @ linalg.solve(-q_after.QFF, np.ones(3)), rel=1e-10)
    assert lat.total == pytest.approx(1.0, rel=1e-10)
    taus, amps, final = q_after.relaxation(p0)
    assert final == pytest.approx(q_after.popen(), rel=1e-10)
    for t in (1e-4, 1e-3, 1e-2):
        direct = (pv @ linalg.expm(q_after.Q * t))[:2].sum()
        assert final + np.sum(amps * np.exp(-t / taus)) == pytest.approx(direct, rel=1e-9, abs=1e-14)
    np.testing.assert_allclose(np.sort(1 / taus), q_after.relaxation_rates(), rtol=1e-10)
    assert q.occupancies(before, [0.0, 1.0]).shape == (2, 5)


def test_tcrit_criteria():
    m = ExponentialMixture((1e-4, 1e-1), (0.8, 0.2))
    t1 = tcrit(m)
    assert math.exp(-t1 / 1e-4) == pytest.approx(1 - math.exp(-t1 / 1e-1), rel=1e-9)
    t2 = tcrit(m, method="equal_number")
    assert 0.8 * math.exp(-t2 / 1e-4) == pytest.approx(0.2 * (1 - math.exp(-t2 / 1e-1)), rel=1e-9)
    t3 = tcrit(m, method="minimum_total")
    assert 0.8 / 1e-4 * math.exp(-t3 / 1e-4) == pytest.approx(0.2 / 1e-1 * math.exp(-t3 / 1e-1), rel=1e-9)
    with pytest.raises(ArgumentError, match="unknown tcrit method"):
        tcrit(m, method="equal_proportions")
    # CH82: tcrit between the 0.485 ms and 3.79 s shut components lies in between
    assert 0.5e-3 < tcrit(ch82_q().shut_time_pdf()) < 0.1


# --------------------------------------------------------------------------- bad input
def test_bad_q_matrices_and_schemes():
    with pytest.raises(ArgumentError, match="sums to"):
        QMatrix([[-1, 2], [1, -1]], n_open=1)
    with pytest.raises(ArgumentError, match="negative"):
        QMatrix([[1, -1], [1, -1]], n_open=1)
    with pytest.raises(ArgumentError, match="which states are open"):
        QMatrix([[-1, 1], [1, -1]])
    with pytest.raises(ArgumentError, match="unknown open state `X`"):
        QMatrix([[-1, 1], [1, -1]], states=["C", "O"], open_states=["X"])
    with pytest.raises(ArgumentError, match="at least one open and one shut"):
        QMatrix([[-1, 1], [1, -1]], open_states=[0, 1])
    bi = kx.Scheme("bi", species=[kx.Species("R", 1.0), kx.Species("A", 1.0), kx.Species("AR")],
                   parameters=[kx.Parameter("k", 1.0, "1/(mM*ms)"), kx.Parameter("k2", 1.0, "1/ms")],
                   reactions=[kx.reaction("A + R <-> AR", "k", "k2")])
    with pytest.raises(SchemeError, match="first-order"):
        q_matrix(bi, open_states=["AR"])
    leak = kx.Scheme("leak", species=[kx.Species("C", 1.0), kx.Species("O")],
                     parameters=[kx.Parameter("k", 1.0, "1/ms")],
                     reactions=[kx.reaction("C <-> O", "k", "k"), kx.reaction("O ->", "k")])
    with pytest.raises(SchemeError, match="closed system|not a transition"):
        q_matrix(leak, open_states=["O"])
    with pytest.raises(ArgumentError, match="unknown input"):
        q_matrix(ch82_scheme(), inputs={"glu": 1.0}, open_states=["ARs"])
    with pytest.raises(ArgumentError, match="unknown observable"):
        q_matrix(ch82_scheme(), conductance="G")


# --------------------------------------------------------------------------- the SCALCS peer
def test_agrees_with_scalcs_peer():
    samples = pytest.importorskip("scalcs.samples.samples")
    scl = pytest.importorskip("scalcs.scalcslib")
    scburst = pytest.importorskip("scalcs.scburst")
    mec = samples.CH82()
    mec.set_eff("c", 100e-9)
    q = QMatrix(np.array(mec.Q), n_open=mec.kA)
    taus, areas = scl.ideal_dwell_time_pdf_components(q.QAA, q.entry_open())
    o = q.open_time_pdf()
    rates = np.asarray(taus, dtype=float).ravel()       # scalcs returns rates (1/s) and amplitudes w here
    w = np.asarray(areas, dtype=float).ravel()
    order = np.argsort(1 / rates)
    np.testing.assert_allclose(1 / rates[order], o.taus, rtol=1e-6)
    np.testing.assert_allclose((w / rates)[order], o.areas, rtol=1e-6)
    b = q.bursts(["3", "4"])
    assert b.mean_length == pytest.approx(scburst.length_mean(mec), rel=1e-6)
    assert b.mean_openings == pytest.approx(scburst.openings_mean(mec), rel=1e-6)


def test_a_scheme_with_events_has_no_q_matrix():
    s = kx.Scheme("gated_events", species=[kx.Species("C", 1.0, unit="1"), kx.Species("O", 0.0, unit="1")],
                  parameters=[kx.Parameter("a", 1.0, "1/ms"), kx.Parameter("b", 1.0, "1/ms")],
                  reactions=[kx.reaction("C <-> O", "a", "b")],
                  events=[kx.Event("reset", "O > 0.4", {"O": "0", "C": "1"})])
    with pytest.raises(SchemeError, match=r"has events \(reset\); a Q-matrix describes a stationary Markov"):
        q_matrix(s, open_states=["O"])
