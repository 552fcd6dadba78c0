"""Derivation: stoichiometry, RHS, Jacobian, conservation laws, caching, C source."""
import numpy as np
import sympy

import kinetics
from kinetics import Parameter, RateRule, Scheme, Species, derive, reaction
from kinetics.codegen import c_source, numpy_functions


def five_state():
    return Scheme(
        "five", species=[Species(n, 1.0 if n == "C0" else 0.0, unit="1") for n in ("C0", "C1", "C2", "D", "O")],
        parameters=[Parameter(n, 1.0, "1/ms") for n in ("kb", "Ru", "Rd", "Rr", "Ro", "Rc")],
        reactions=[reaction("C0 <-> C1", "2*kb", "Ru"), reaction("C1 <-> C2", "kb", "2*Ru"),
                   reaction("C2 <-> D", "Rd", "Rr"), reaction("C2 <-> O", "Ro", "Rc")])


def test_stoichiometry_and_rhs():
    sys_ = derive(five_state())
    N = sys_.stoichiometry
    assert N.shape == (5, 4)
    assert list(N[:, 0]) == [-1, 1, 0, 0, 0]
    C0, C1, kb, Ru = sympy.symbols("C0 C1 kb Ru")
    assert sympy.expand(sys_.rhs[0] - (-2 * kb * C0 + Ru * C1)) == 0


def test_closed_scheme_conserves_total_occupancy():
    sys_ = derive(five_state())
    assert sys_.conservation_laws.tolist() == [[1, 1, 1, 1, 1]]
    # c . f == 0 identically
    assert sympy.simplify((sys_.conservation_laws * sys_.rhs)[0]) == 0


def test_conservation_laws_exclude_rate_rule_species():
    s = Scheme("x", species=[Species("A", 1.0), Species("B"), Species("C")],
               parameters=[Parameter("k", 1.0, "1/ms")],
               reactions=[reaction("A <-> B", "k", "k"), reaction("B -> C", "k")],
               rate_rules=[RateRule("C", "-k*C")])
    laws = derive(s).conservation_laws
    assert laws.shape[0] == 0
    s2 = s.replace(rate_rules=())
    assert derive(s2).conservation_laws.tolist() == [[1, 1, 1]]


def test_two_independent_laws():
    s = Scheme("x", species=[Species(n, 1.0) for n in ("A", "B", "C", "D")], parameters=[Parameter("k", 1.0, "1/ms")],
               reactions=[reaction("A <-> B", "k", "k"), reaction("C <-> D", "k", "k")])
    laws = np.array(derive(s).conservation_laws.tolist(), dtype=float)
    assert laws.shape == (2, 4)
    assert np.linalg.matrix_rank(np.vstack([laws, [[1, 1, 0, 0], [0, 0, 1, 1]]])) == 2


def test_jacobian_and_sparsity():
    sys_ = derive(five_state())
    J = sys_.jacobian
    assert J.shape == (5, 5)
    assert sys_.sparsity[0].tolist() == [True, True, False, False, False]
    assert sys_.sparsity[3].tolist() == [False, False, True, True, False]


def test_numpy_functions_match_sympy():
    s = five_state()
    sys_ = derive(s)
    f = numpy_functions(sys_)
    y = np.array([0.3, 0.2, 0.1, 0.25, 0.15])
    p = np.array([0.7, 0.3, 0.2, 0.1, 0.5, 0.9])
    subs = dict(zip(sys_.y, y)) | dict(zip(sys_.p, p))
    expect = np.array([float(e.subs(subs)) for e in sys_.rhs])
    assert np.allclose(f.rhs(0.0, y, p, np.zeros(0)), expect, rtol=1e-14)
    Jexp = np.array(sys_.jacobian.subs(subs).tolist(), dtype=float)
    assert np.allclose(f.jac(0.0, y, p, np.zeros(0)), Jexp, rtol=1e-14)


def test_derivation_is_cached_by_structure():
    a = five_state()
    assert derive(a) is derive(a.with_parameters(kb=3.0))
    assert kinetics.compile(a).numpy is kinetics.compile(a.with_parameters(kb=3.0)).numpy


def test_c_source_defines_sizes_and_functions():
    src = c_source(derive(five_state()))
    assert "#define NK_NSTATE 5" in src and "#define NK_NPARAM 6" in src and "#define NK_NINPUT 0" in src
    assert "static void nk_rhs" in src and "static void nk_jac" in src


def test_many_symbols_no_argument_limit():
    n = 300
    sp = [Species(f"X{i}", 1.0 if i == 0 else 0.0) for i in range(n)]
    pars = [Parameter(f"k{i}", 1.0 + i / n, "1/ms") for i in range(n - 1)]
    rx = [reaction(f"X{i} -> X{i + 1}", f"k{i}") for i in range(n - 1)]
    s = Scheme("chain", species=sp, parameters=pars, reactions=rx)
    sys_ = derive(s)
    f = numpy_functions(sys_)
    y = np.linspace(0, 1, n)
    p = np.array([1.0 + i / n for i in range(n - 1)])
    out = f.rhs(0.0, y, p, np.zeros(0))
    assert out.shape == (n,)
    assert out[0] == -p[0] * y[0]
    assert np.isclose(out[5], p[4] * y[4] - p[5] * y[5])


def test_rhs_with_observables_equals_rhs_once_substituted():
    from kinetics import Input, Observable

    s = Scheme("obs", species=[Species("A", 1.0), Species("B")], parameters=[Parameter("k", 1.0, "1/ms"),
                                                                          Parameter("g", 2.0)],
               inputs=[Input("V", -60.0)],
               reactions=[reaction("A <-> B", "k*Bv", "k")],
               observables=[Observable("Bv", "1/(1 + exp(-0.062*V))"), Observable("I", "g*B*Bv")],
               rate_rules=[RateRule("A", "-I/10")])
    sys_ = derive(s)
    kept = sys_.rhs_with_observables
    assert any(sympy.Symbol("Bv") in e.free_symbols for e in kept)
    subs = {sympy.Symbol(n): e for n, e in sys_.observables.items()}
    for with_obs, full in zip(kept, sys_.rhs):
        assert sympy.simplify(with_obs.xreplace(subs) - full) == 0
