"""The sparse factorisation of the stiff path (kinetics.codegen.sparse_lu_plan, nk_sp_lu / nk_sp_solve in the
generated C): the symbolic plan against scipy's dense LU, and whole solves of sparse schemes against matrix
exponentials and closed forms."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

import kinetics as kx
from kinetics.codegen import c_source, minimum_degree_order, sparse_lu_plan


def _apply_plan(plan, W, b):
    """Run the plan's factorisation and solve in Python, exactly as the generated C orders them."""
    A = W.copy()
    for k in plan["order"]:
        d = 1.0 / A[k, k]
        for i in plan["lower"][k]:
            A[i, k] *= d
            for j in plan["upper"][k]:
                A[i, j] -= A[i, k] * A[k, j]
    x = b.copy()
    for k in plan["order"]:
        for i in plan["lower"][k]:
            x[i] -= A[i, k] * x[k]
    for k in reversed(plan["order"]):
        x[k] = (x[k] - sum(A[k, j] * x[j] for j in plan["upper"][k])) / A[k, k]
    return x


def _random_pattern(rng, n, density):
    mask = rng.random((n, n)) < density
    np.fill_diagonal(mask, False)
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(mask))]


@pytest.mark.parametrize("n, density", [(8, 0.3), (20, 0.1), (40, 0.05), (60, 0.04)])
def test_plan_solves_like_dense_lu(n, density):
    rng = np.random.default_rng(n)
    pattern = _random_pattern(rng, n, density)
    plan = sparse_lu_plan(n, pattern)
    if plan is None:
        pytest.skip("dense enough for the dense LU")
    # W = I/(gamma h) - J for a rate matrix J (non-negative off-diagonal entries, columns summing to zero)
    J = np.zeros((n, n))
    for i, j in pattern:
        J[i, j] = rng.uniform(0.01, 100.0)
    J -= np.diag(J.sum(axis=0))
    W = np.eye(n) / 0.25 - J
    b = rng.normal(size=n)
    expected = scipy.linalg.lu_solve(scipy.linalg.lu_factor(W), b)
    np.testing.assert_allclose(_apply_plan(plan, W, b), expected, rtol=1e-10, atol=1e-12)
    # the factors stay inside the planned entries: every (i, j) the plan writes is in its index
    written = {i * n + j for k in plan["order"] for i in plan["lower"][k] for j in [k, *plan["upper"][k]]}
    assert written <= set(plan["index"])


def test_orderings_avoid_fill():
    chain = [(i, i + 1) for i in range(9)] + [(i + 1, i) for i in range(9)]
    assert sparse_lu_plan(10, chain)["ops"] == 2 * 9                  # tridiagonal: no fill, 2 ops per pivot
    arrow = [(0, j) for j in range(1, 12)] + [(j, 0) for j in range(1, 12)]
    assert minimum_degree_order(12, arrow)[-2:] in ([0, 11], [11, 0])   # the hub eliminated last: no fill
    assert len(sparse_lu_plan(12, arrow)["index"]) == 12 + 2 * 11
    assert sparse_lu_plan(3, chain[:2]) is None                        # too small: the dense LU
    full = [(i, j) for i in range(10) for j in range(10) if i != j]
    assert sparse_lu_plan(10, full) is None                            # dense: the dense LU


def _chain(n):
    rng = np.random.default_rng(n)
    kf, kb = 10.0 ** rng.uniform(-2.0, 2.0, n - 1), 10.0 ** rng.uniform(-2.0, 2.0, n - 1)
    species = [kx.Species(f"X{i}", 1.0 if i == 0 else 0.0, unit="1") for i in range(n)]
    params, reactions = [], []
    for i in range(n - 1):
        params += [kx.Parameter(f"kf{i}", float(kf[i]), "1/ms"), kx.Parameter(f"kb{i}", float(kb[i]), "1/ms")]
        reactions.append(kx.reaction(f"X{i} <-> X{i + 1}", f"kf{i}", f"kb{i}"))
    Q = np.zeros((n, n))
    for i in range(n - 1):
        Q[i + 1, i] += kf[i]
        Q[i, i] -= kf[i]
        Q[i, i + 1] += kb[i]
        Q[i + 1, i + 1] -= kb[i]
    return kx.Scheme(f"sparse_chain_{n}", species=species, parameters=params, reactions=reactions), Q


@pytest.mark.parametrize("method", ["rodas", "auto"])
def test_stiff_chain_against_matrix_exponential(method):
    scheme, Q = _chain(60)
    assert "#define NK_SPARSE 1" in c_source(kx.derive(scheme))
    t = np.array([0.0, 0.5, 3.0, 20.0, 100.0])
    res = kx.simulate(scheme, t_end=100.0, t_eval=t, method=method, rtol=1e-10, atol=1e-14)
    y0 = np.zeros(60)
    y0[0] = 1.0
    expected = np.array([scipy.linalg.expm(Q * ti) @ y0 for ti in t])
    np.testing.assert_allclose(res.y, expected, rtol=1e-6, atol=1e-11)
    if method == "rodas":
        assert res.stats["lu_decompositions"] > 10


def test_large_multipliers_fall_back_to_the_pivoting_lu():
    """B is made from A with a rate 1e10 times A's own decay (dB/dt = K A): without pivoting the multiplier
    W_BA / W_AA ~ K h is far above the growth bound, so those steps use the dense LU; the solve still follows the
    closed form A = exp(-eps t), B = K (1 - exp(-eps t)) / eps."""
    eps, K = 0.01, 1e10
    scheme = kx.Scheme("growth_fallback",
                       species=[kx.Species(x, v, unit="1") for x, v in (("A", 1.0), ("B", 0.0), ("C", 1.0),
                                                                        ("D", 0.0))],
                       parameters=[kx.Parameter("eps", eps, "1/ms"), kx.Parameter("K", K, "1/ms"),
                                   kx.Parameter("kc", 50.0, "1/ms")],
                       reactions=[kx.reaction("A ->", "eps"), kx.reaction("A -> A + B", "K"),
                                  kx.reaction("C <-> D", "kc", "kc")])
    assert "#define NK_SPARSE 1" in c_source(kx.derive(scheme))
    t = np.array([0.0, 1.0, 10.0, 100.0])
    res = kx.simulate(scheme, t_end=100.0, t_eval=t, method="rodas", rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res["A"], np.exp(-eps * t), rtol=1e-8)
    np.testing.assert_allclose(res["B"], K * (1.0 - np.exp(-eps * t)) / eps, rtol=1e-8)
    np.testing.assert_allclose(res["C"] + res["D"], 1.0, rtol=1e-10)
