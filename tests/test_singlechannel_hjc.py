"""Missed events (HJC) and the likelihood of a record: CH82 asymptotic distributions (SCALCS printout), independent
computations (Van Loan block exponential, simulation, quadrature), and the HJCFIT / SCALCS peers (black box)."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, linalg

from kinetics.errors import ArgumentError
from kinetics.singlechannel import (HJC, QMatrix, bursts, check_bursts, impose_resolution, log_likelihood,
                                    simulate_record)

DATA = json.loads((Path(__file__).parent / "data" / "singlechannel" / "ch82.json").read_text())
HJC20 = DATA["hjc_tres_20us"]
TRES = 20e-6


@pytest.fixture(scope="module")
def q():
    return QMatrix(DATA["Q_per_s"], n_open=2, states=DATA["states"])


@pytest.fixture(scope="module")
def h(q):
    return HJC(q, TRES)


@pytest.fixture(scope="module")
def record(q):
    """A simulated CH82 record at 100 nM, resolution 20 us imposed (about 7500 apparent openings)."""
    return impose_resolution(simulate_record(q, 20000, seed=3), TRES)


def test_ch82_asymptotic_distributions_scalcs_printout(h):
    o, s = h.open_asymptotic(), h.shut_asymptotic()
    np.testing.assert_allclose(np.array(o.taus) * 1e3, HJC20["open_asymptotic_taus_ms"], rtol=5e-5)
    np.testing.assert_allclose(o.areas, HJC20["open_asymptotic_areas"], rtol=5e-4)
    np.testing.assert_allclose(np.array(s.taus) * 1e3, HJC20["shut_asymptotic_taus_ms"], rtol=5e-5)
    np.testing.assert_allclose(s.areas, HJC20["shut_asymptotic_areas"], rtol=5e-4)
    assert h.mean_open_time() * 1e3 == pytest.approx(HJC20["mean_apparent_open_time_ms"], rel=5e-5)
    assert h.mean_shut_time() * 1e3 == pytest.approx(HJC20["mean_apparent_shut_time_ms"], rel=1e-7)


def test_exact_part_against_block_matrix_exponential(q, h):
    """AR(u) for tres <= u < 2 tres: exp(Qu)_AA minus the convolution, here from exp([[Q, B], [0, Q]] T)
    (Van Loan 1978) instead of the spectral expansion used by the package."""
    A, F = np.arange(2), np.arange(2, 5)
    Q = q.Q
    B = np.zeros((5, 5))
    B[np.ix_(A, F)] = Q[np.ix_(A, F)] @ linalg.expm(Q[np.ix_(F, F)] * TRES)
    for u in (0.3 * TRES, 1.0 * TRES, 1.5 * TRES, 1.99 * TRES):
        T = max(u - TRES, 0.0)
        E = linalg.expm(np.block([[Q, B], [np.zeros((5, 5)), Q]]) * T)
        ref = linalg.expm(Q * u)[np.ix_(A, A)] - (E[:5, 5:][np.ix_(A, A)] if u >= TRES else 0)
        np.testing.assert_allclose(h.open.R(u)[0], ref, rtol=1e-10, atol=1e-14)


def test_pdfs_integrate_to_one_and_continuity(h):
    total = integrate.quad(lambda t: h.open_pdf(t)[0], TRES, 0.2, points=[3 * TRES, 1e-3, 1e-2], limit=400)[0]
    assert total == pytest.approx(1.0, abs=1e-5)
    # exact (u < 2 tres) and asymptotic (u >= 2 tres) forms agree closely at the switch
    for side in (h.open, h.shut):
        left, right = side.R([2 * TRES * (1 - 1e-9)])[0], side.R([2 * TRES])[0]
        np.testing.assert_allclose(left, right, rtol=1e-3, atol=1e-6)
    with pytest.raises(ArgumentError, match="resolution"):
        h.eGAF([0.5 * TRES])


def test_mean_apparent_times_against_simulation(h, record):
    """Independent check of the whole chain (simulation, resolution imposition, HJC): means within 3 SE."""
    o, s = record.open_times(), record.shut_times()
    assert abs(o.mean() - h.mean_open_time()) < 3 * o.std() / math.sqrt(o.size)
    assert abs(s.mean() - h.mean_shut_time()) < 3 * s.std() / math.sqrt(s.size)


def test_two_state_likelihood_closed_form():
    """C <-> O with alpha, beta and tres: the exact/asymptotic kernels are scalars; for kF = kA = 1 the
    asymptotic open-time rate solves s + alpha - alpha beta (1 - exp(-(s + beta) tres)) / (s + beta) = 0."""
    alpha, beta, tres = 400.0, 100.0, 1e-4
    h = HJC(QMatrix([[-alpha, alpha], [beta, -beta]], n_open=1), tres)
    s = h.open.roots()[0]
    assert s + alpha - alpha * beta * (1 - math.exp(-(s + beta) * tres)) / (s + beta) == pytest.approx(0, abs=1e-9)
    # likelihood of one opening t: phi eG_AF(t) uF with phi = 1
    t = 5e-3
    assert math.exp(log_likelihood(h, [[t]])) == pytest.approx(float(h.open_pdf(t)[0]), rel=1e-12)


def test_likelihood_groups_and_errors(h):
    b = [[1e-3, 5e-5, 2e-3], [3e-5], [1e-4, 3e-5, 4e-5, 1e-2, 7e-4]]
    # the log-likelihood of groups is the sum of each group's
    assert log_likelihood(h, b) == pytest.approx(sum(log_likelihood(h, [g]) for g in b), rel=1e-12)
    # a single group equals the explicit product of kernels
    g = b[2]
    v = h.phi_open()
    for i, t in enumerate(g):
        v = v @ (h.eGAF(t)[0] if i % 2 == 0 else h.eGFA(t)[0])
    assert log_likelihood(h, [g]) == pytest.approx(math.log(v.sum()), rel=1e-12)
    with pytest.raises(ArgumentError, match="empty"):
        log_likelihood(h, [[1e-3], []])
    with pytest.raises(ArgumentError, match="odd number"):
        log_likelihood(h, [[1e-3, 1e-3]])
    with pytest.raises(ArgumentError, match="not a positive"):
        log_likelihood(h, [[1e-3, -1e-3, 1e-3]])
    with pytest.raises(ArgumentError, match="shorter than the resolution"):
        log_likelihood(h, [[1e-3, 1e-5, 1e-3]])
    with pytest.raises(ArgumentError, match="no bursts"):
        check_bursts([])
    with pytest.raises(ArgumentError, match="tcrit"):
        h.chs_vectors(1e-5)
    with pytest.raises(ArgumentError, match="positive"):
        HJC(h.q, -1.0)


# --------------------------------------------------------------------------- peers (black box)
def test_hjcfit_peer_kernels_vectors_and_likelihood(q, h, record):
    L = pytest.importorskip("HJCFIT.likelihood")
    pq = L.QMatrix(np.array(DATA["Q_per_s"]), 2)
    G = L.MissedEventsG(pq, TRES)
    for t in (25e-6, 41e-6, 50e-6, 59e-6, 61e-6, 1e-4, 1e-3, 0.1):
        np.testing.assert_allclose(h.eGAF(t)[0], G.af(t), rtol=1e-6, atol=1e-9 * np.abs(G.af(t)).max())
        np.testing.assert_allclose(h.eGFA(t)[0], G.fa(t), rtol=1e-6, atol=1e-9 * np.abs(G.fa(t)).max())
    np.testing.assert_allclose(h.phi_open(), np.ravel(G.initial_vectors), rtol=1e-6)
    start, end = h.chs_vectors(3.5e-3)
    np.testing.assert_allclose(start, np.ravel(G.initial_CHS_vectors(3.5e-3)), rtol=1e-6)
    np.testing.assert_allclose(end, np.ravel(G.final_CHS_vectors(3.5e-3)), rtol=1e-6)
    for tcrit in (None, 3.5e-3):
        groups = bursts(record, tcrit)
        ours = log_likelihood(h, groups, tcrit=tcrit) / math.log(10)
        peer = L.Log10Likelihood([g.tolist() for g in groups], 2, TRES, tcrit)(pq)
        assert ours == pytest.approx(peer, rel=1e-6)


def test_scalcs_peer_hjc_roots(q, h):
    scl = pytest.importorskip("scalcs.scalcslib")
    roots = scl.asymptotic_roots(TRES, q.QAA, q.QFF, q.QAF, q.QFA, 2, 3)
    np.testing.assert_allclose(np.sort(np.asarray(roots, float)), h.open.roots(), rtol=1e-6)
    roots = scl.asymptotic_roots(TRES, q.QFF, q.QAA, q.QFA, q.QAF, 3, 2)
    np.testing.assert_allclose(np.sort(np.asarray(roots, float)), h.shut.roots(), rtol=1e-6)


def _ladder_q(seed=2015):
    """A reversible 10-state mechanism (3 open) on a 2 x 5 ladder, rates from a seeded free-energy landscape."""
    rng = np.random.default_rng(seed)
    G = rng.uniform(0.0, 3.0, 10)
    edges = [(r * 5 + c, r * 5 + c + 1) for r in range(2) for c in range(4)] + [(c, 5 + c) for c in range(5)]
    Q = np.zeros((10, 10))
    for i, j in edges:
        top = max(G[i], G[j]) + rng.uniform(3.0, 6.0)
        Q[i, j], Q[j, i] = 2e4 * math.exp(-(top - G[i])), 2e4 * math.exp(-(top - G[j]))
    np.fill_diagonal(Q, -Q.sum(axis=1))
    return Q


def test_warm_started_roots_and_batched_kernels_ten_states():
    """The likelihood's fast paths on a 10-state mechanism: roots warm-started from a nearby mechanism equal
    the grid search's; the batched pair kernels equal eG_AF eG_FA multiplied one by one (exact and asymptotic
    ranges); a RecordLikelihood reused across mechanisms gives what a fresh one gives, and HJCFIT's value."""
    from kinetics.singlechannel import RecordLikelihood

    Q = _ladder_q()
    q = QMatrix(Q, n_open=3)
    rng = np.random.default_rng(5)
    Q2 = Q * np.exp(rng.normal(0.0, 0.05, Q.shape))
    np.fill_diagonal(Q2, 0.0)
    np.fill_diagonal(Q2, -Q2.sum(axis=1))
    q2 = QMatrix(Q2, n_open=3)
    h = HJC(q, 25e-6)
    h.open.roots(), h.shut.roots()
    cold, warm = HJC(q2, 25e-6), HJC(q2, 25e-6, roots_hint=h.roots_hint())
    np.testing.assert_allclose(warm.open.roots(), cold.open.roots(), rtol=1e-10)
    np.testing.assert_allclose(warm.shut.roots(), cold.shut.roots(), rtol=1e-10)
    to = np.array([25e-6, 40e-6, 60e-6, 80e-6, 1e-3, 2e-2])
    ts = np.array([70e-6, 26e-6, 1e-3, 55e-6, 3e-2, 80e-6])
    direct = np.array([warm.eGAF(a)[0] @ warm.eGFA(b)[0] for a, b in zip(to, ts)])
    np.testing.assert_allclose(warm.pair_kernels(to, ts), direct, rtol=1e-12, atol=1e-12 * np.abs(direct).max())
    rec = impose_resolution(simulate_record(q2, 6000, seed=8), 25e-6)
    first = int(np.argmax(rec.is_open))
    d = rec.durations[first:first + 2 * ((rec.durations.size - first - 1) // 2) + 1]
    reused = RecordLikelihood([d], 25e-6)
    reused(q)                                                   # leaves q's roots as the warm start
    fresh = RecordLikelihood([d], 25e-6)(q2)
    assert reused(q2) == pytest.approx(fresh, rel=1e-12)
    L = pytest.importorskip("HJCFIT.likelihood")
    peer = L.Log10Likelihood([d.tolist()], 3, 25e-6, None)(L.QMatrix(Q2, 3))
    assert fresh / math.log(10) == pytest.approx(peer, rel=1e-6)


def test_chain_product_rescales_when_partial_products_underflow():
    """Alternating matrices whose products lose ~110 decades each: rescaling every third level underflows, so
    the product is redone rescaling every level; the result equals a sequential product with a rescaled
    vector."""
    from kinetics.singlechannel.likelihood import _chain_log_product

    e = 1e-110
    A = np.array([[1.0, e], [e, e]])
    B = np.array([[e, e], [e, 1.0]])
    mats = [A if i % 2 == 0 else B for i in range(16)] + [np.array([[0.3, 0.7], [0.2, 0.8]])]
    C = np.stack(mats, axis=2)
    start = np.array([0.4, 0.6])
    assert _chain_log_product(C, start, every=3) is None
    v, logs = start.copy(), 0.0
    for M in mats:
        v = v @ M
        logs += math.log(v.max())
        v /= v.max()
    want = logs + math.log(v.sum())
    assert _chain_log_product(C, start, every=1) == pytest.approx(want, rel=1e-12)
