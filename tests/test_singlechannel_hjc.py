"""Missed events (HJC) and the likelihood of a record: published CH82 asymptotic distributions, independent
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


def test_ch82_asymptotic_distributions_published(h):
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
