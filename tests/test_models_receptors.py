"""Receptor models: Destexhe 1994 schemes, Jahr-Stevens and Kampa 2004 Mg2+ block, the GluN1/GluN2 scheme.

Oracles: matrix exponentials of the linear schemes, closed-form solutions, the
equilibrium (partition-function) occupancies of a scheme obeying detailed
balance, eigen-decompositions, and published formulas with their values in
tests/data (each file names its source).
"""
import json
import math
from pathlib import Path

import numpy as np
import pytest
import sympy
from scipy.linalg import expm
from scipy.optimize import brentq

import kinetics as kx
from models.reference_values import destexhe1994_peaks
from kinetics import Input, Parameter, Protocol, Scheme, SchemeError, Species, pulses, reaction, steps
from kinetics.simulate import simulate
from kinetics.steady import steady_state
from models import destexhe1994, glun1_glun2, kampa2004, mg_block

DATA = Path(__file__).parent / "data"
TIGHT = dict(rtol=1e-10, atol=1e-13)


def load(name):
    return json.loads((DATA / name).read_text())


def model_params(scheme):
    """Parameter values in the scheme's unit system (ms, mM, mV...)."""
    f = scheme.parameter_factors()
    return {k: v * f[k] for k, v in scheme.parameter_values().items()}


# ============================================================================ detailed balance helper
def transition_graph(scheme, inputs=None, *, allow_zero=False):
    """First-order transition rates of a scheme at fixed inputs: ``{(a, b): k_ab}``.

    Every reaction must be reversible mass action with one species on each side
    (a receptor state transition); ligand concentrations and voltage enter the
    rate constants as inputs, fixed at ``inputs`` (default: each input's default).
    """
    values = {sympy.Symbol(k): v for k, v in model_params(scheme).items()}
    u = {x.name: x.default for x in scheme.inputs}
    u.update(inputs or {})
    values.update({sympy.Symbol(k): v for k, v in u.items()})
    obs = {sympy.Symbol(o.name): o.expr for o in scheme.observables}
    rates = {}
    for r in scheme.reactions:
        if not r.reversible or len(r.reactants) != 1 or len(r.products) != 1 \
                or r.reactants[0][1] != 1 or r.products[0][1] != 1:
            raise ValueError(f"`{r.equation()}` is not a reversible first-order state transition")
        a, b = r.reactants[0][0], r.products[0][0]
        if (a, b) in rates or (b, a) in rates:
            raise ValueError(f"two reactions connect `{a}` and `{b}`")
        kf, kr = (float(e.subs(obs).subs(obs).subs(values)) for e in (r.forward, r.reverse))
        if not (kf > 0 and kr > 0) and not (allow_zero and kf >= 0 and kr >= 0):
            raise ValueError(f"`{r.equation()}` has a zero rate at these inputs: kf={kf}, kr={kr}")
        rates[(a, b)], rates[(b, a)] = kf, kr
    return rates


def fundamental_cycles(rates):
    """A cycle basis of the transition graph: one cycle per edge outside a BFS spanning forest.

    Every cycle of the graph is an integer combination of these, and the log of
    the product of forward over reverse rates is additive over such
    combinations, so detailed balance around the basis implies it around every
    cycle.
    """
    adj = {}
    for a, b in rates:
        adj.setdefault(a, set()).add(b)
    parent, depth, cycles = {}, {}, []
    for root in sorted(adj):
        if root in parent:
            continue
        parent[root], depth[root] = None, 0
        queue = [root]
        while queue:
            n = queue.pop(0)
            for m in sorted(adj[n]):
                if m not in parent:
                    parent[m], depth[m] = n, depth[n] + 1
                    queue.append(m)
    tree = {frozenset((n, p)) for n, p in parent.items() if p is not None}
    for a, b in {tuple(sorted(e)) for e in rates}:
        if frozenset((a, b)) in tree:
            continue
        pa, pb = [a], [b]
        while pa[-1] != pb[-1]:
            if depth[pa[-1]] >= depth[pb[-1]]:
                pa.append(parent[pa[-1]])
            else:
                pb.append(parent[pb[-1]])
        cycles.append(pa + pb[-2::-1])       # a ... lca ... b, closed by the edge b -> a
    return cycles


def simple_cycles(rates, limit=100_000):
    """Every simple cycle (length >= 3) of the undirected transition graph, each once."""
    adj = {}
    for a, b in rates:
        adj.setdefault(a, set()).add(b)
    order = {n: i for i, n in enumerate(sorted(adj))}
    found = set()
    out = []

    def dfs(start, path, on_path):
        for m in adj[path[-1]]:
            if m == start and len(path) >= 3:
                key = frozenset(frozenset(e) for e in zip(path, path[1:] + [start]))
                if key not in found:
                    found.add(key)
                    out.append(list(path))
                    if len(out) > limit:
                        raise RuntimeError("too many cycles; use fundamental_cycles")
            elif m not in on_path and order[m] > order[start]:
                on_path.add(m)
                path.append(m)
                dfs(start, path, on_path)
                path.pop()
                on_path.discard(m)

    for s in sorted(adj):
        dfs(s, [s], {s})
    return out


def cycle_ratio(rates, cycle):
    """Product of rates around ``cycle`` one way over the product the other way."""
    fwd = bwd = 1.0
    for a, b in zip(cycle, cycle[1:] + cycle[:1]):
        fwd *= rates[(a, b)]
        bwd *= rates[(b, a)]
    return fwd / bwd


def detailed_balance_violations(scheme, inputs=None, *, every_cycle=False, tol=1e-9):
    """Cycles whose forward/reverse rate-product ratio differs from 1 by more than ``tol`` (relative).

    Returns ``(cycles_checked, [(cycle, ratio), ...])``.
    """
    rates = transition_graph(scheme, inputs)
    cycles = simple_cycles(rates) if every_cycle else fundamental_cycles(rates)
    bad = [(c, r) for c in cycles if abs((r := cycle_ratio(rates, c)) - 1.0) > tol]
    return cycles, bad


def test_detailed_balance_helper_detects_a_violation():
    def triangle(k31):
        return Scheme("tri", species=[Species("A", 1.0), Species("B"), Species("C")],
                      parameters=[Parameter("k", 1.0, "1/ms"), Parameter("kon", 1.0, "1/(mM*ms)"),
                                  Parameter("k31", k31, "1/ms")],
                      inputs=[Input("L", 0.5, "mM")],
                      reactions=[reaction("A <-> B", "2*kon*L", "k"), reaction("B <-> C", "k", "3*k"),
                                 reaction("C <-> A", "k31", "k")])
    # A->B->C->A: (2*0.5)(1)(k31) vs (1)(3)(1): balanced iff k31 = 3
    cycles, bad = detailed_balance_violations(triangle(3.0), every_cycle=True)
    assert len(cycles) == 1 and bad == []
    cycles, bad = detailed_balance_violations(triangle(6.0))
    assert len(bad) == 1 and pytest.approx(bad[0][1], rel=1e-12) in (2.0, 0.5)
    with pytest.raises(ValueError, match="not a reversible first-order"):
        transition_graph(Scheme("x", species=[Species("A"), Species("B")], parameters=[Parameter("k", 1.0, "1/ms")],
                                reactions=[reaction("A + B ->", "k")]))


def test_cycle_basis_and_simple_cycles_agree_on_a_grid():
    # a 3 x 3 grid has 4 independent cycles and 13 simple cycles
    names = [f"S{i}{j}" for i in range(3) for j in range(3)]
    rx = [reaction(f"S{i}{j} <-> S{i + 1}{j}", "k", "k") for i in range(2) for j in range(3)]
    rx += [reaction(f"S{i}{j} <-> S{i}{j + 1}", "k", "k") for i in range(3) for j in range(2)]
    s = Scheme("grid", species=[Species(n, 1.0 if n == "S00" else 0.0) for n in names],
               parameters=[Parameter("k", 1.0, "1/ms")], reactions=rx)
    rates = transition_graph(s)
    assert len(fundamental_cycles(rates)) == 4
    assert len(simple_cycles(rates)) == 13


# ============================================================================ Destexhe five-state
DESTEXHE = destexhe1994_peaks()                # shipped with the package (models/data), with its source note
SETS = destexhe1994.rate_set_names()


def test_rate_sets_are_the_published_numbers():
    ref = DESTEXHE["rates_per_s"]
    assert set(SETS) == set(ref) - {"order", "Rb_per_uM_per_s"}
    for name in SETS:
        s = destexhe1994.five_state(name)
        assert [s.get_parameter(p).value for p in ref["order"]] == ref[name]
        assert s.get_parameter("Rb").value == ref["Rb_per_uM_per_s"]
        assert s.get_parameter("Rb").unit == "1/(uM*s)" and s.get_parameter("Ru").unit == "1/s"
        assert all(p.reference for p in s.parameters)


def five_state_generator(rates_per_s, glu_mM, factor):
    """Independent oracle: the 5 x 5 generator (order C0 C1 C2 D O, rates in 1/ms)."""
    ru, rd, rr, ro, rc = (r * 1e-3 for r in rates_per_s)
    kb = 5.0 * glu_mM                               # 5 /uM/s = 5 /mM/ms
    Q = np.zeros((5, 5))

    def edge(i, j, k):
        Q[i, i] -= k
        Q[j, i] += k
    edge(0, 1, factor * kb), edge(1, 0, ru), edge(1, 2, kb), edge(2, 1, factor * ru)
    edge(2, 3, rd), edge(3, 2, rr), edge(2, 4, ro), edge(4, 2, rc)
    return Q


def oracle_peak(rates_per_s, factor):
    """Peak Popen and time to peak after 1 mM x 1 ms glutamate, by matrix exponentials."""
    Q1, Q0 = five_state_generator(rates_per_s, 1.0, factor), five_state_generator(rates_per_s, 0.0, factor)
    x1 = expm(Q1) @ np.array([1.0, 0, 0, 0, 0])
    assert (Q1 @ x1)[4] > 0                         # still rising at the end of the pulse

    def slope(t):
        return (Q0 @ (expm(Q0 * (t - 1.0)) @ x1))[4]
    # bracket on a 0.05 ms grid (eigen-decomposition for the scan), refine with expm
    w, V = np.linalg.eig(Q0)
    c = np.linalg.solve(V, x1)
    grid = np.arange(1.0, 400.0, 0.05)
    d = ((Q0 @ V)[4] * c * np.exp(np.outer(grid - 1.0, w))).real.sum(axis=1)
    k = np.nonzero((d[:-1] > 0) & (d[1:] <= 0))[0][0]
    tp = brentq(slope, grid[k], grid[k + 1], xtol=1e-13, rtol=1e-15)
    return tp, (expm(Q0 * (tp - 1.0)) @ x1)[4]


CASES = [(name, sf) for name in SETS for sf in (False, True)]


@pytest.mark.parametrize("rate_set,statistical_factors", CASES, ids=[f"{n}-{'sf' if s else 'nosf'}" for n, s in CASES])
def test_five_state_peak_open_probability(rate_set, statistical_factors):
    key = "with_statistical_factors" if statistical_factors else "without_statistical_factors"
    ref = DESTEXHE["values"][rate_set][key]
    tp, po = oracle_peak(DESTEXHE["rates_per_s"][rate_set], 2 if statistical_factors else 1)
    assert tp == pytest.approx(ref["time_to_peak_ms"], rel=1e-9)
    assert po == pytest.approx(ref["peak_open_probability"], rel=1e-9)

    s = destexhe1994.five_state(rate_set, statistical_factors=statistical_factors)
    t_eval = np.concatenate([[0.0, 1.0], tp + np.linspace(-0.05, 0.05, 101)])
    res = simulate(s, Protocol([pulses("glu", [0.0], 1.0, 1.0)]), t_end=tp + 1.0, t_eval=t_eval, **TIGHT)
    p = model_params(s)
    slope = p["Ro"] * res["C2"] - p["Rc"] * res["O"]          # dO/dt from the simulated states
    win = slice(2, None)
    k = np.nonzero((slope[win][:-1] > 0) & (slope[win][1:] <= 0))[0]
    assert k.size == 1, "the simulated peak must lie within +-0.05 ms of the oracle's"
    i = 2 + k[0]
    t_sim = res.t[i] + (res.t[i + 1] - res.t[i]) * slope[i] / (slope[i] - slope[i + 1])
    assert abs(t_sim - tp) < 1e-6
    assert res["Popen"][2 + 50] == pytest.approx(po, abs=1e-6)
    assert res["Popen"].max() == pytest.approx(po, abs=1e-6)


def test_statistical_factors_are_explicit_in_the_equations():
    plain, sf = destexhe1994.five_state(), destexhe1994.five_state(statistical_factors=True)
    Rb, Ru, glu, C0, C2 = sympy.symbols("Rb Ru glu C0 C2")
    assert sympy.simplify(kx.derive(sf).fluxes[0] - (2 * Rb * glu * C0 - Ru * sympy.Symbol("C1"))) == 0
    assert sympy.simplify(kx.derive(plain).fluxes[0] - (Rb * glu * C0 - Ru * sympy.Symbol("C1"))) == 0
    assert sympy.simplify(kx.derive(sf).fluxes[1] - (Rb * glu * sympy.Symbol("C1") - 2 * Ru * C2)) == 0
    v = DESTEXHE["values"]["destexhe1994"]
    assert v["with_statistical_factors"]["peak_open_probability"] != pytest.approx(
        v["without_statistical_factors"]["peak_open_probability"], rel=1e-3)


@pytest.mark.parametrize("rate_set", SETS)
def test_five_state_conserves_occupancy(rate_set):
    s = destexhe1994.five_state(rate_set, statistical_factors=True)
    assert kx.derive(s).conservation_laws.tolist() == [[1, 1, 1, 1, 1]]
    res = simulate(s, Protocol([pulses("glu", [0.0, 20.0, 40.0, 60.0])]), t_end=300.0, rtol=1e-9, atol=1e-12)
    assert np.abs(res.y.sum(axis=1) - 1.0).max() < 1e-10
    assert res.y.min() > -1e-12


def test_unknown_rate_set_is_a_clear_error():
    with pytest.raises(SchemeError, match=r"unknown rate set `hesler1993`.*did you mean `hessler1993`"):
        destexhe1994.five_state("hesler1993")


def test_two_state_against_its_closed_form():
    s = destexhe1994.two_state()
    a, b = 0.072, 0.0066                            # 1/(mM ms), 1/ms
    T, w = 1.0, 1.0
    t = np.linspace(0.0, 400.0, 801)
    res = simulate(s, Protocol([pulses("glu", [0.0], T, w)]), t_end=400.0, t_eval=t, **TIGHT)
    k = a * T + b
    o_inf = a * T / k
    o_end = o_inf * (1 - math.exp(-k * w))
    exact = np.where(t <= w, o_inf * (1 - np.exp(-k * t)), o_end * np.exp(-b * (t - w)))
    assert np.abs(res["Popen"] - exact).max() < 1e-10
    # constant transmitter from a non-zero start
    res = simulate(s.with_initial(C=0.7, O=0.3), Protocol([steps("glu", [0.0], [0.5])]), t_end=200.0,
                   t_eval=t[:401], **TIGHT)
    k = a * 0.5 + b
    exact = a * 0.5 / k + (0.3 - a * 0.5 / k) * np.exp(-k * t[:401])
    assert np.abs(res["O"] - exact).max() < 1e-10


# ============================================================================ Jahr-Stevens block
JS = load("jahr_stevens1990.json")


def test_jahr_stevens_block_at_1mM_mg():
    V, B = np.array(JS["V_mV"]), np.array(JS["B"])
    assert V[0] == -80 and V[-1] == 40 and JS["mg_mM"] == 1.0
    assert np.abs(mg_block.jahr_stevens(V, 1.0) - B).max() < 1e-14
    # the scheme's observable, with V stepped through the same potentials
    s = mg_block.with_nmda_current(destexhe1994.two_state())
    times = np.arange(V.size) * 10.0
    res = simulate(s, Protocol([steps("V", times, V)]), t_end=times[-1] + 5.0, t_eval=times + 5.0)
    assert np.abs(res["B"] - B).max() < 1e-14
    assert s.get_parameter("mg_K0").value == 3.57 and s.get_parameter("mg_delta").value == 0.062
    assert "Jahr" in s.get_parameter("mg_K0").reference


def test_nmda_iv_shape():
    """EPSC peaks from -80 to +40 mV follow g Popen B(V) (V - E): negative slope below the I-V minimum."""
    s = mg_block.with_nmda_current(destexhe1994.five_state())
    V = np.array(JS["V_mV"], dtype=float)
    peaks = []
    for v in V:
        res = simulate(s, Protocol([pulses("glu", [0.0]), steps("V", [0.0], [v])]), t_end=60.0,
                       t_eval=np.linspace(0, 60, 601), rtol=1e-9, atol=1e-12)
        i = res["I_NMDA"]
        peaks.append(i[np.argmax(np.abs(i))])
    po = DESTEXHE["values"]["destexhe1994"]["without_statistical_factors"]["peak_open_probability"]
    expected = mg_block.static_iv(V, 1.0, 1.0, 0.0, po)
    assert np.allclose(peaks, expected, rtol=2e-4, atol=1e-9)       # grid of 0.1 ms around the peak
    # shape: inward below E = 0, zero at 0, outward above; most inward point where 1 + d V (1 - B) = 0
    assert all(p < 0 for p, v in zip(peaks, V) if v < 0) and all(p > 0 for p, v in zip(peaks, V) if v > 0)
    v_star = brentq(lambda v: 1 + 0.062 * v * (1 - mg_block.jahr_stevens(v, 1.0)), -60, -5)
    fine = np.linspace(-80, 40, 120001)
    assert abs(fine[np.argmin(mg_block.static_iv(fine))] - v_star) < 2e-3
    assert -35 < v_star < -20
    below = fine[fine < v_star]
    assert np.all(np.diff(mg_block.static_iv(below)) < 0)            # negative slope conductance


def test_with_nmda_current_errors():
    with pytest.raises(SchemeError, match="has no open state `O`"):
        mg_block.with_nmda_current(Scheme("x", species=[Species("A")], parameters=[Parameter("k", 1.0, "1/ms")],
                                          reactions=[reaction("A ->", "k")]))
    s = mg_block.with_nmda_current(destexhe1994.two_state())
    with pytest.raises(SchemeError, match="already has `B`"):
        mg_block.with_nmda_current(s)


# ============================================================================ Kampa 2004
def test_kampa_rates_are_the_published_numbers():
    s = kampa2004.scheme()
    expect = {"Rb": (10e-3, "1/(uM*ms)"), "Ru": (5.6e-3, "1/ms"), "Ro": (10e-3, "1/ms"), "Rc": (273e-3, "1/ms"),
              "Rd1": (2.2e-3, "1/ms"), "Rr1": (1.6e-3, "1/ms"), "Rd2": (0.43e-3, "1/ms"), "Rr2": (0.5e-3, "1/ms"),
              "Rmb": (0.05e-3, "1/(uM*ms)"), "Rmu": (12.8, "1/ms")}            # NMDA_Mg.mod, ModelDB 50207
    for k, (v, u) in expect.items():
        assert (s.get_parameter(k).value, s.get_parameter(k).unit) == (v, u)
    assert all(p.reference or "choice" in p.note for p in s.parameters)
    # voltage factors exp(-0.064 (V - 40)) for block and exp(0.016 (V - 40)) for unblock
    rates = {V: transition_graph(s, {"V": V, "Mg": 1.0, "glu": 1.0}) for V in (-80.0, -60.0, 0.0, 40.0)}
    for V, r in rates.items():
        assert r[("O", "OMg")] == pytest.approx(0.05 * math.exp(-0.064 * (V - 40)), rel=1e-12)   # /mM/ms x 1 mM
        assert r[("OMg", "O")] == pytest.approx(12.8 * math.exp(0.016 * (V - 40)), rel=1e-12)


def test_kampa_published_rates_violate_detailed_balance():
    s = kampa2004.scheme()
    cycles, bad = detailed_balance_violations(s, {"glu": 1.0, "V": -60.0}, every_cycle=True)
    assert len(fundamental_cycles(transition_graph(s, {"glu": 1.0}))) == 4
    got = sorted(round(max(r, 1 / r), 6) for _, r in bad)
    R = {k: v for k, (v, _, _) in kampa2004.PUBLISHED_RATES.items()}
    expect = sorted(round(max(x, 1 / x), 6) for x in [
        R["RuMg"] * R["Rmc1u"] / (R["Rmc2u"] * R["Ru"]),                            # U-Cl-ClMg-UMg
        R["Rmb"] / R["Rmu"] * R["RcMg"] * R["Rmc2u"] / (R["Rmc2b"] * R["Rc"]),       # Cl-O-OMg-ClMg
        R["Rd1"] * R["Rr1Mg"] * R["Rmc2u"] / (R["Rr1"] * R["Rd1Mg"] * R["Rmd1u"]),   # Cl-D1-D1Mg-ClMg
        R["Rd2"] * R["Rr2Mg"] * R["Rmd1u"] / (R["Rr2"] * R["Rd2Mg"] * R["Rmd2u"]),   # D1-D2-D2Mg-D1Mg
    ])
    # every simple cycle that is not a combination of balanced ones is violated; the four basic ones among them
    assert set(expect) <= set(got)
    # by hand: 17.1*2.438312/(5.041915*5.6), 0.05/12800*548*5.041915/(0.00005*273),
    #          2.2*0.87*5.041915/(1.6*2.1*2.98874), 0.43*0.42*2.98874/(0.5*0.26*2.953408)
    by_hand = [1.4767325, 0.7906849, 0.9609705, 1.4058503]
    assert expect == pytest.approx(sorted(max(x, 1 / x) for x in by_hand), rel=1e-6)


def test_kampa_detailed_balance_rate_set_is_balanced():
    s = kampa2004.scheme("detailed_balance")
    for inputs in ({"glu": 1.0, "V": -60.0}, {"glu": 0.3, "V": 40.0, "Mg": 2.0}):
        cycles, bad = detailed_balance_violations(s, inputs, every_cycle=True)
        assert len(cycles) > 4 and bad == []
    changed = {p.name for p in s.parameters if p.value != kampa2004.scheme().get_parameter(p.name).value}
    assert changed == {"Rmc1u", "Rmc2u", "Rmd1u", "Rmd2u"}


@pytest.fixture(scope="module")
def kampa_rest():
    return steady_state(kampa2004.scheme(), inputs={"glu": 0.0, "V": -60.0}).vector


def test_kampa_block_at_minus60_and_plus40(kampa_rest):
    s = kampa2004.scheme()
    out = {}
    for V in (-60.0, 40.0):
        ss = steady_state(s, inputs={"glu": 1.0, "V": V}, y0=kampa_rest)
        out[V] = ss["O"] / (ss["O"] + ss["OMg"])
    js = mg_block.jahr_stevens(-60.0, 1.0)
    assert out[-60.0] == pytest.approx(js, rel=0.02)          # 0.0790 vs Jahr-Stevens 0.0796
    assert out[40.0] > 0.99                                   # nearly unblocked at +40 mV
    assert np.sum(kampa_rest) == pytest.approx(1.0, abs=1e-12)


def _kampa_step_components(scheme, protocol, t_step, x_rest, inputs_after):
    """Simulate to the step, then compare O(t) with the eigen-decomposition of the post-step generator."""
    t_after = np.concatenate([[0.0], np.geomspace(1e-4, 2000.0, 300)])
    res = simulate(scheme, protocol, t_end=t_step + 2000.0, t_eval=t_step + t_after, y0=x_rest, **TIGHT)
    x0 = res.y[0]
    rates = transition_graph(scheme, inputs_after, allow_zero=True)
    names = scheme.species_names
    Q = np.zeros((len(names), len(names)))
    for (a, b), k in rates.items():
        Q[names.index(a), names.index(a)] -= k
        Q[names.index(b), names.index(a)] += k
    w, vecs = np.linalg.eig(Q)
    c = np.linalg.solve(vecs, x0)
    o = names.index("O")
    amp = (vecs[o, :] * c).real
    pred = np.array([(vecs[o, :] * c * np.exp(w * t)).real.sum() for t in t_after])
    assert np.abs(pred - res["O"]).max() < 1e-9
    big = np.abs(w) > 1e-12
    tau = np.full(w.size, np.inf)
    tau[big] = -1.0 / w.real[big]
    return tau, amp


def test_kampa_unblock_time_constants(kampa_rest):
    """Unblock after a step to +40 mV: ~100 us, ~4 ms and ~300 ms components (Kampa et al. 2004, abstract)."""
    s = kampa2004.scheme()

    def rising(tau, amp, lo, hi, min_amp):
        return [(t, a) for t, a in zip(tau, amp) if lo <= t <= hi and a < -min_amp]

    # sustained glutamate, step 3.5 s after its onset (the late step of Kampa et al., Fig. 2)
    prot = Protocol([steps("glu", [0.0], [1.0]), steps("V", [0.0, 3500.0], [-60.0, 40.0])])
    tau, amp = _kampa_step_components(s, prot, 3500.0, kampa_rest, {"glu": 1.0, "V": 40.0})
    assert rising(tau, amp, 0.05, 0.2, 1e-3)        # fast unblock of open channels: 75 us
    assert rising(tau, amp, 1.0, 10.0, 1e-3)        # 3.5 ms
    slow = rising(tau, amp, 100.0, 1000.0, 1e-3)    # 259 and 305 ms: Mg2+ leaving closed receptors
    assert slow and sum(-a for _, a in slow) > sum(-a for _, a in rising(tau, amp, 0.0, 100.0, 0.0))
    # brief glutamate, step 10 ms later: the fast component is prominent
    prot = Protocol([pulses("glu", [0.0], 1.0, 1.0), steps("V", [0.0, 10.0], [-60.0, 40.0])])
    tau, amp = _kampa_step_components(s, prot, 10.0, kampa_rest, {"glu": 0.0, "V": 40.0})
    fast = rising(tau, amp, 0.05, 0.2, 0.0)
    assert fast and -fast[0][1] > 0.3 * sum(-a for a in amp if a < 0)


def test_kampa_conserves_occupancy(kampa_rest):
    s = kampa2004.scheme()
    assert kx.derive(s).conservation_laws.tolist() == [[1] * 10]
    res = simulate(s, Protocol([pulses("glu", [0.0, 50.0]), steps("V", [0.0, 20.0], [-60.0, 40.0])]),
                   t_end=500.0, y0=kampa_rest, rtol=1e-9, atol=1e-12)
    assert np.abs(res.y.sum(axis=1) - 1).max() < 1e-10


# ============================================================================ GluN1/GluN2
def test_glun1_glun2_detailed_balance_every_cycle():
    inputs = {"glu": 0.013, "gly": 0.0021, "AP5": 0.0057, "CK7": 0.0031, "MK801": 0.0011, "V": -37.0}
    small = glun1_glun2.scheme(drugs=())
    cycles, bad = detailed_balance_violations(small, {"glu": 0.013, "gly": 0.0021}, every_cycle=True)
    assert len(cycles) == 13 and bad == []           # the 3 x 3 binding grid (O, D are leaves)
    for drugs in (("AP5",), ("CK7",), ("MK801",), glun1_glun2.DRUGS):
        s = glun1_glun2.scheme(drugs=drugs)
        ins = {k: v for k, v in inputs.items() if k in s.input_names}
        cycles, bad = detailed_balance_violations(s, ins)
        assert bad == [] and len(cycles) > 4
    full = glun1_glun2.scheme()
    rates = transition_graph(full, inputs)
    n_edges, n_nodes = len(rates) // 2, len(full.species_names)
    assert (n_nodes, n_edges) == (76, 149)
    assert len(fundamental_cycles(rates)) == n_edges - n_nodes + 1 == 74     # one connected graph


def equilibrium(p, glu=0.0, gly=0.0, AP5=0.0, CK7=0.0):
    """Partition-function oracle for the drug-free-of-MK-801 GluN1/GluN2 scheme (independent sites).

    Weights: a pair of sites holding ``g`` glutamate and ``a`` AP5 weighs
    ``multinomial(2; g, a) (glu/Kg)^g (AP5/Ka)^a`` (likewise glycine/7-CK);
    ``O`` and ``D`` weigh ``Ro/Rc`` and ``Rd/Rr`` times the fully liganded state.
    """
    xg, xa = glu * p["Rb"] / p["Ru"], AP5 * p.get("kon_AP5", 0) / p.get("koff_AP5", 1)
    xy, xk = gly * p["kon_gly"] / p["koff_gly"], CK7 * p.get("kon_CK7", 0) / p.get("koff_CK7", 1)
    w_full = xg ** 2 * xy ** 2
    G = p["Ro"] / p["Rc"] + p["Rd"] / p["Rr"]
    Z = (1 + xg + xa) ** 2 * (1 + xy + xk) ** 2 + w_full * G
    return {"Popen": w_full * p["Ro"] / p["Rc"] / Z,
            "glu_bound_fraction": xg ** 2 * ((1 + xy + xk) ** 2 + xy ** 2 * G) / Z,
            "gly_bound_fraction": xy ** 2 * ((1 + xg + xa) ** 2 + xg ** 2 * G) / Z}


def steady_observables(scheme, inputs):
    ss = steady_state(scheme, inputs=inputs)
    res = simulate(scheme, Protocol.empty(), t_end=1e-9, t_eval=[0.0], y0=ss.vector)
    return {k: float(res[k][0]) for k in ("Popen", "glu_bound_fraction", "gly_bound_fraction")}, ss


@pytest.fixture(scope="module")
def glun():
    return glun1_glun2.scheme()


def test_glun1_glun2_observables_and_conservation(glun):
    names = glun.species_names
    assert len(names) == 76 and names[:3] == ("R00_00", "R00_01", "R00_02")
    assert kx.derive(glun).conservation_laws.tolist() == [[1] * 76]
    assert sum(sp.initial for sp in glun.species) == pytest.approx(1.0, abs=1e-15)
    glu2 = {n for n in names if (n[0] in "RB" and n[1] == "2")} | {"O", "D", "OB", "DB"}
    assert set(map(str, glun.get_observable("glu_bound_fraction").expr.free_symbols)) == glu2
    blocked = {n for n in names if n.startswith("B")} | {"OB", "DB"}
    assert set(map(str, glun.get_observable("blocked_fraction").expr.free_symbols)) == blocked
    prot = Protocol([pulses("glu", [5.0, 25.0]), steps("AP5", [0.0], [0.002]), steps("CK7", [0.0], [0.001]),
                     steps("MK801", [0.0], [0.01])])
    res = simulate(glun, prot, t_end=200.0, rtol=1e-9, atol=1e-12)
    assert np.abs(res.y.sum(axis=1) - 1).max() < 1e-10
    assert res.y.min() > -1e-10


def test_glun1_glun2_reduces_to_destexhe_with_saturating_glycine():
    """Glycine bound and never leaving: the scheme is the five-state scheme with statistical factors."""
    s = glun1_glun2.scheme(drugs=()).with_parameters(koff_gly=0.0)
    s = s.with_initial({n: (1.0 if n == "R00_20" else 0.0) for n in s.species_names})
    ref = destexhe1994.five_state(statistical_factors=True)
    prot = Protocol([pulses("glu", [0.0, 30.0])])
    t = np.linspace(0, 200, 401)
    a = simulate(s, prot, t_end=200.0, t_eval=t, **TIGHT)
    b = simulate(ref, prot, t_end=200.0, t_eval=t, **TIGHT)
    assert np.abs(a["Popen"] - b["Popen"]).max() < 1e-9
    assert np.abs(a["glu_bound_fraction"] - (b["C2"] + b["D"] + b["O"])).max() < 1e-9


def test_glycine_rates_and_deactivation():
    s = glun1_glun2.scheme(drugs=())
    assert s.get_parameter("kon_gly").value == 9.5 and s.get_parameter("kon_gly").unit == "1/(uM*s)"
    assert s.get_parameter("koff_gly").value == pytest.approx((1 + 46.5 / 73.8 + 8.4 / 6.8) / (2 * 0.820), rel=1e-12)
    # deactivation after glycine removal (saturating glutamate): 1/e time ~ 0.82 s (the source's tau)
    prot = Protocol([steps("glu", [0.0], [1.0]), steps("gly", [0.0, 3000.0], [0.01, 0.0])])
    res = simulate(s, prot, t_end=6000.0, t_eval=np.arange(3000.0, 6000.0, 1.0), rtol=1e-9, atol=1e-12)
    po = res["Popen"]
    t_e = res.t[np.argmax(po < po[0] / math.e)] - 3000.0
    assert t_e == pytest.approx(820.0, rel=0.03)


def test_ap5_competitive_block_matches_equilibrium_oracle(glun):
    p = model_params(glun)
    base = {"glu": 0.01, "gly": 0.01, "AP5": 0.0, "CK7": 0.0, "MK801": 0.0}
    with_ap5 = dict(base, AP5=0.05)
    o0, o1 = equilibrium(p, **{k: base[k] for k in ("glu", "gly")}), equilibrium(p, glu=0.01, gly=0.01, AP5=0.05)
    s0, _ = steady_observables(glun, base)
    s1, ss1 = steady_observables(glun, with_ap5)
    for k in ("Popen", "glu_bound_fraction", "gly_bound_fraction"):
        assert s0[k] == pytest.approx(o0[k], rel=1e-8)
        assert s1[k] == pytest.approx(o1[k], rel=1e-8)
    factor_glu = o1["glu_bound_fraction"] / o0["glu_bound_fraction"]
    factor_po = o1["Popen"] / o0["Popen"]
    assert s1["glu_bound_fraction"] / s0["glu_bound_fraction"] == pytest.approx(factor_glu, rel=1e-8)
    assert s1["Popen"] / s0["Popen"] == pytest.approx(factor_po, rel=1e-8)
    assert factor_glu < 0.1 and factor_po < 0.1                # 50 uM AP5 vs 10 uM glutamate
    assert ss1["OB"] == pytest.approx(0.0, abs=1e-14)          # no MK-801, no block


def test_ck7_lowers_popen_but_not_glutamate_binding(glun):
    p = model_params(glun)
    o0, o1 = equilibrium(p, glu=0.01, gly=0.01), equilibrium(p, glu=0.01, gly=0.01, CK7=0.1)
    base = {"glu": 0.01, "gly": 0.01, "AP5": 0.0, "CK7": 0.0, "MK801": 0.0}
    s0, _ = steady_observables(glun, base)
    s1, _ = steady_observables(glun, dict(base, CK7=0.1))
    for k in o0:
        assert s0[k] == pytest.approx(o0[k], rel=1e-8) and s1[k] == pytest.approx(o1[k], rel=1e-8)
    drop_po = 1 - s1["Popen"] / s0["Popen"]
    drop_glu = 1 - s1["glu_bound_fraction"] / s0["glu_bound_fraction"]
    assert drop_po > 0.7
    # with glutamate present continuously, gating holds glutamate on fully liganded receptors (linkage),
    # so 7-CK lowers the glutamate-bound fraction too, but far less than the open probability
    assert drop_glu < 0.25 * drop_po
    # synaptic transmitter (1 mM x 1 ms) on receptors equilibrated with 100 uM 7-CK
    prot = Protocol([pulses("glu", [0.0])])
    t = np.linspace(0, 100, 1001)
    runs = {}
    for ck in (0.0, 0.1):
        y0 = steady_state(glun, inputs=dict(base, glu=0.0, CK7=ck)).vector
        runs[ck] = simulate(glun.with_inputs(CK7=ck), prot, t_end=100.0, t_eval=t, y0=y0, rtol=1e-9, atol=1e-12)
    ck, ctl = runs[0.1], runs[0.0]
    assert ck["Popen"].max() < 0.3 * ctl["Popen"].max()
    # glutamate binding is intact: same peak and same rise
    assert ck["glu_bound_fraction"].max() == pytest.approx(ctl["glu_bound_fraction"].max(), rel=1e-3)
    early = t <= 2.0
    assert np.abs(ck["glu_bound_fraction"][early] - ctl["glu_bound_fraction"][early]).max() < 5e-3
    # later, receptors that could not open or desensitise lose glutamate sooner (O and D hold it)
    assert ck["glu_bound_fraction"][-1] < ctl["glu_bound_fraction"][-1]


def test_mk801_use_dependent_trapping_block(glun):
    s = glun1_glun2.scheme(drugs=("MK801",))
    train = np.arange(8) * 1000.0 + 100.0
    t = np.arange(0.0, 9000.0, 0.5)
    ctl = simulate(s, Protocol([pulses("glu", train)]), t_end=9000.0, t_eval=t, rtol=1e-9, atol=1e-12)
    mk = simulate(s, Protocol([pulses("glu", train), steps("MK801", [0.0], [0.1])]), t_end=9000.0, t_eval=t,
                  rtol=1e-9, atol=1e-12)
    before = [mk["blocked_fraction"][np.searchsorted(t, tp) - 1] for tp in train] + [mk["blocked_fraction"][-1]]
    assert before[0] == 0.0 and np.all(np.diff(before) > 0)              # progressive block, pulse by pulse
    # each pulse blocks the same fraction of the still-unblocked receptors: (1 - b) falls geometrically
    keep = np.diff(np.log1p(-np.array(before)))
    assert np.all(np.abs(keep / keep[0] - 1) < 0.02) and before[-1] > 0.9
    peaks = [mk["Popen"][(t >= tp) & (t < tp + 500)].max() for tp in train]
    assert np.all(np.diff(peaks) < 0) and peaks[-1] < 0.05 * peaks[0]
    # block needs opening: MK-801 alone, or with glutamate but no glycine, blocks nothing
    alone = simulate(s, Protocol([steps("MK801", [0.0], [0.1])]), t_end=2000.0, rtol=1e-9, atol=1e-12)
    assert np.abs(alone["blocked_fraction"]).max() < 1e-14
    s0 = s.with_initial({n: (1.0 if n == "R00_00" else 0.0) for n in s.species_names})
    noglyc = simulate(s0, Protocol([pulses("glu", train), steps("MK801", [0.0], [0.1]), steps("gly", [0.0], [0.0])]),
                      t_end=9000.0, rtol=1e-9, atol=1e-12)
    assert np.abs(noglyc["blocked_fraction"]).max() < 1e-14
    # glutamate binding and gating are unchanged (the blocked arm mirrors the unblocked one)
    assert np.abs(mk["glu_bound_fraction"] - ctl["glu_bound_fraction"]).max() < 1e-8
    assert np.abs(mk["O"] + mk["OB"] - ctl["O"]).max() < 1e-8
    # trapped: after the train the block persists (recovery needs opening; tau ~ 90 min at -75 mV)
    assert mk["blocked_fraction"][-1] > 0.999 * mk["blocked_fraction"][np.searchsorted(t, train[-1] + 500)]


def test_mk801_unblock_rate_reproduces_huettner_bean_recovery():
    """Recovery from block in continuous saturating agonist: tau 90 min at -75 mV, 2 min at +30 mV."""
    s = glun1_glun2.scheme(drugs=("MK801",))
    p = model_params(s)
    for V, tau_min in ((-75.0, 90.0), (30.0, 2.0)):
        rates = transition_graph(s, {"glu": 1.0, "gly": 1.0, "MK801": 1e-6, "V": V})
        koff = rates[("OB", "O")]
        assert koff * p["Ro"] / (p["Ro"] + p["Rc"]) == pytest.approx(1.0 / (tau_min * 60e3), rel=1e-12)
    # the relaxation of a fully blocked population without MK-801 (saturating agonists, +30 mV)
    y0 = {n: 0.0 for n in s.species_names}
    y0["OB"] = 1.0
    prot = Protocol([steps("glu", [0.0], [1.0]), steps("V", [0.0], [30.0])])
    res = simulate(s.with_initial(y0).with_inputs(gly=1.0), prot, t_end=240e3, t_eval=[0.0, 120e3, 240e3],
                   rtol=1e-9, atol=1e-12)
    # mostly desensitised-blocked too: recovery is slower than 2 min by the time spent in DB and B20_20
    frac_ob = (p["Ro"] / p["Rc"]) / (1 + p["Ro"] / p["Rc"] + p["Rd"] / p["Rr"])
    k_eff = 1.0 / (2.0 * 60e3) * (p["Ro"] + p["Rc"]) / p["Ro"] * frac_ob
    assert res["blocked_fraction"][1] == pytest.approx(math.exp(-k_eff * 120e3), rel=0.02)


def test_mk801_equilibrium_is_the_binding_assay_kd():
    """At 0 mV and equilibrium the blocked fraction is MK801/(MK801 + Kd), Kd = 6.2 nM, at any agonist level."""
    s = glun1_glun2.scheme(drugs=("MK801",))
    assert s.get_parameter("Kd_MK801").value == 6.2 and s.get_parameter("Kd_MK801").unit == "nM"
    r0 = transition_graph(s, {"V": 0.0, "MK801": 1.0}, allow_zero=True)
    assert r0[("OB", "O")] / r0[("O", "OB")] == pytest.approx(6.2e-6, rel=1e-12)       # mM, at 1 mM MK-801
    for glu, expected in ((0.01, 0.5), (1.0, 0.5), (0.0, 0.0)):     # no agonist: MK-801 never gets in
        ss = steady_state(s, inputs={"glu": glu, "gly": 0.01, "MK801": 6.2e-6, "V": 0.0})
        blocked = sum(v for k, v in ss.y.items() if k.startswith("B") or k in ("OB", "DB"))
        assert blocked == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_glun1_glun2_errors():
    with pytest.raises(SchemeError, match=r"unknown drug `MK-801`.*did you mean `MK801`"):
        glun1_glun2.scheme(drugs=("MK-801",))
    with pytest.raises(SchemeError, match="lists a drug twice"):
        glun1_glun2.scheme(drugs=("AP5", "AP5"))
    with pytest.raises(SchemeError, match="unknown rate set"):
        glun1_glun2.scheme("nope")


def test_glun1_glun2_current_only_from_the_open_state():
    s = mg_block.with_nmda_current(glun1_glun2.scheme(drugs=("MK801",)))
    assert s.input_names.count("V") == 1
    assert set(map(str, s.get_observable("G_NMDA").expr.free_symbols)) == {"g_NMDA", "O", "B"}
