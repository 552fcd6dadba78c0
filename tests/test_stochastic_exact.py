"""The exact SSA against exact answers: binomial moments of independent receptors, the chemical master equation,
and single-channel dwell-time distributions from the Q-matrix.

Every statistical test runs at a fixed seed, so it is deterministic; the false-failure rate quoted with each is
the probability that a *correct* implementation fails it at a random seed (what a change of seed, or of the
order random numbers are drawn in, risks).
"""
import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
import scipy.stats

import kinetics as kx
from kinetics.stochastic import channels, ssa_path
from models import destexhe1994


def _binomial_check(res, ode, names, N, z_max):
    """Mean and variance of each state's count against N p and N p (1 - p), p the ODE occupancy."""
    R = res.n_runs
    worst_mean = worst_var = 0.0
    for name in names:
        p = np.clip(ode[name], 0.0, 1.0)
        mu, s2 = N * p, N * p * (1 - p)
        m, v = res.mean(name), res.var(name)
        live = s2 > 1e-3            # away from the deterministic start, where both are ~0
        # sample mean: sd sqrt(s2 / R); sample variance: sd sqrt((mu4 - s2^2 (R - 3) / (R - 1)) / R)
        zm = (m[live] - mu[live]) / np.sqrt(s2[live] / R)
        mu4 = s2 * (1 + 3 * (N - 2) * p * (1 - p))
        sd_v = np.sqrt((mu4 - s2 ** 2 * (R - 3) / (R - 1)) / R)
        zv = (v[live] - s2[live]) / sd_v[live]
        worst_mean = max(worst_mean, float(np.max(np.abs(zm))))
        worst_var = max(worst_var, float(np.max(np.abs(zv))))
        # where the occupancy is ~0 or ~1 every run must agree with it
        dead = ~live
        assert np.all(np.abs(m[dead] - mu[dead]) < 0.05 + 0.05 * N * np.minimum(p[dead], 1 - p[dead]) + 1e-9)
    assert worst_mean < z_max, worst_mean
    assert worst_var < z_max, worst_var
    return worst_mean, worst_var


METHODS = ["native", "python"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("stimulus", ["pulses", "waveform"])
def test_independent_receptors_are_binomial(stimulus, method):
    # Destexhe five-state receptor, N = 20 independent receptors: every state's count is Binomial(N, p(t)) with
    # p the ODE occupancy, at every time. "pulses": piecewise-constant glutamate (restart at each breakpoint);
    # "waveform": an exponentially decaying transient, simulated by thinning.
    # Checked: 5 states x 40 times x (mean, variance) z-scores below 5.5. Union bound on the false-failure rate
    # (normal tails; the sample variance of 3000 runs is close to normal): 400 x 3.8e-8 < 2e-5 per case.
    # (Power: the same check fails, |z| = 19, when the waveform is frozen over 0.2 ms steps instead.)
    N, R = 20, 3000
    s = destexhe1994.five_state()
    if stimulus == "pulses":
        protocol = kx.Protocol([kx.pulses("glu", [1.0, 11.0], amplitude=1.0, width=1.0)])
    else:
        protocol = kx.Protocol([kx.waveform("glu", [1.0, 11.0], kx.exponential(1.0, 1.2))])
    t = np.linspace(0.0, 80.0, 40)
    res = kx.ssa(s, protocol, t_end=80.0, t_eval=t, n_runs=R, n_copies=N, seed=20261204,
                 method=method)
    ode = kx.simulate(s, protocol, t_end=80.0, t_eval=t, rtol=1e-10, atol=1e-12)
    assert res.counts.sum(axis=2).min() == N and res.counts.sum(axis=2).max() == N     # receptors conserved
    _binomial_check(res, ode, s.species_names, N, z_max=5.5)
    assert res.mean("O").max() > 1.0      # the stimulus did open receptors: the test is not vacuous


def _cme_solution(P0, segments):
    """``P(t)`` at the end of each segment ``(duration, Q)`` (rows of Q: from-state, generator of the CME)."""
    out, P = [], P0
    for dt, Q in segments:
        P = P @ scipy.linalg.expm(Q * dt)
        out.append(P)
    return out


def _chi2_p(counts, probs):
    """Chi-squared goodness-of-fit p-value, bins of expected count < 5 merged into their neighbour."""
    R = counts.sum()
    exp = probs * R
    obs_b, exp_b, o, e = [], [], 0.0, 0.0
    for ob, ex in zip(counts, exp):
        o, e = o + ob, e + ex
        if e >= 5:
            obs_b.append(o)
            exp_b.append(e)
            o, e = 0.0, 0.0
    if e > 0:
        obs_b[-1] += o
        exp_b[-1] += e
    exp_b = np.array(exp_b) * R / np.sum(exp_b)
    return scipy.stats.chisquare(obs_b, exp_b).pvalue


@pytest.mark.parametrize("method", METHODS)
def test_bimolecular_binding_against_the_master_equation(method):
    # A + B <-> C with 5 A, 4 B in a volume Omega molecules per mM; the forward rate kon*L with L a
    # piecewise-constant input (steps), and 2 molecules of B added by a protocol jump at t = 3.
    # The CME is one-dimensional in n_C (n_A = 5 - n_C, n_B = B_total - n_C); its generator's matrix exponential
    # gives the exact distribution at t = 2, 3 (right after the jump), 6.
    # Chi-squared at three times with a p-value threshold 1e-4 each: false-failure rate < 3e-4 per method.
    volume = 1e-18                       # Omega = N_A * 1e-18 L * 1e-3 M/mM = 602.2 per mM
    omega = channels(_binding(), volume=volume).omega
    s = _binding().with_initial(A=5 / omega, B=4 / omega, C=0.0)
    kon, koff = 300.0, 0.4               # 1/(mM ms), 1/ms: kon/Omega = 0.5 per pair per ms
    s = s.with_parameters(kon=kon, koff=koff)
    protocol = kx.Protocol([kx.steps("L", [0.0, 1.5], [1.0, 0.3]), kx.jumps("B", [3.0], 2 / omega)])
    t_eval = [2.0, 3.0, 6.0]
    R = 4000
    res = kx.ssa(s, protocol, t_end=6.0, t_eval=t_eval, n_runs=R, volume=volume, seed=7, method=method)

    def Q(b_total, L):
        n = 6                               # n_C = 0..5
        M = np.zeros((n, n))
        for c in range(n):
            a, b = 5 - c, b_total - c
            if a > 0 and b > 0:
                M[c, c + 1] = kon * L / omega * a * b
            if c > 0:
                M[c, c - 1] = koff * c
            M[c, c] = -M[c].sum()
        return M

    P0 = np.zeros(6)
    P0[0] = 1.0
    P15, P2, P3 = _cme_solution(P0, [(1.5, Q(4, 1.0)), (0.5, Q(4, 0.3)), (1.0, Q(4, 0.3))])
    (P6,) = _cme_solution(P3, [(3.0, Q(6, 0.3))])     # the jump adds B; n_C unchanged
    nC = res["C"]
    for k, P in enumerate([P2, P3, P6]):
        counts = np.bincount(nC[:, k], minlength=6)
        assert counts.size == 6
        assert _chi2_p(counts, P) > 1e-4
    # the jump is applied at t = 3 before the output there: B + C went from 4 to 6 in every run
    assert np.all(res["B"][:, 1] + nC[:, 1] == 6) and np.all(res["B"][:, 0] + nC[:, 0] == 4)
    # and the exact means, to 5 standard errors (false-failure rate 6e-7 each)
    for k, P in enumerate([P2, P3, P6]):
        m = P @ np.arange(6)
        sd = np.sqrt(P @ np.arange(6) ** 2 - m ** 2)
        assert abs(nC[:, k].mean() - m) < 5 * sd / np.sqrt(R)


def _binding():
    return kx.Scheme("binding_ssa", species=[kx.Species("A", 0.0), kx.Species("B", 0.0), kx.Species("C", 0.0)],
                     parameters=[kx.Parameter("kon", 1.0, "1/(mM*ms)"), kx.Parameter("koff", 1.0, "1/ms")],
                     inputs=[kx.Input("L", 1.0, "1")],
                     reactions=[kx.reaction("A + B <-> C", "kon*L", "koff")])


@pytest.mark.parametrize("method", METHODS)
def test_dimerisation_combinatorial_factor_against_the_master_equation(method):
    # 2 A <-> D with 9 A: the propensity of 2 A -> D is kf / Omega * n_A (n_A - 1) (module convention), checked
    # against the CME in n_D = 0..4. A waveform-driven rate (kf * (1 + L(t)), L an alpha function) is thinned; the
    # CME with its time-dependent generator is integrated to 1e-11 (DOP853). Chi-squared, p > 1e-4 at two times:
    # false-failure rate < 2e-4 per method.
    volume = 1e-18
    s0 = kx.Scheme("dimer_ssa", species=[kx.Species("A", 0.0), kx.Species("D", 0.0)],
                   parameters=[kx.Parameter("kf", 60.0, "1/(mM*ms)"), kx.Parameter("kr", 0.5, "1/ms")],
                   inputs=[kx.Input("L", 0.0, "1")],
                   reactions=[kx.reaction("2 A <-> D", "kf*(1 + L)", "kr")])
    omega = channels(s0, volume=volume).omega
    s = s0.with_initial(A=9 / omega)
    protocol = kx.Protocol([kx.waveform("L", [0.5], kx.alpha(3.0, 0.7))])
    R = 4000
    res = kx.ssa(s, protocol, t_end=3.0, t_eval=[1.0, 3.0], n_runs=R, volume=volume, seed=11, method=method)
    sched = kx.compile(s).schedule(protocol, 0.0, 3.0)

    def Q(L):
        M = np.zeros((5, 5))
        for d in range(5):
            a = 9 - 2 * d
            if a >= 2:
                M[d, d + 1] = 60.0 * (1 + L) / omega * a * (a - 1)
            if d > 0:
                M[d, d - 1] = 0.5 * d
            M[d, d] = -M[d].sum()
        return M

    P0 = np.zeros(5)
    P0[0] = 1.0

    def dP(t, P):
        return P @ Q(float(sched.input_values([t])[0, 0]))

    # the CME dP/dt = P Q(t), integrated tightly on each side of the waveform's onset
    a = scipy.integrate.solve_ivp(dP, (0.0, 0.5), P0, method="DOP853", rtol=1e-11, atol=1e-13)
    b = scipy.integrate.solve_ivp(dP, (0.5, 3.0), a.y[:, -1], method="DOP853", rtol=1e-11, atol=1e-13,
                                  t_eval=[1.0, 3.0])
    out = [b.y[:, 0], b.y[:, 1]]
    assert abs(out[1].sum() - 1) < 1e-9
    for k, Pk in enumerate(out):
        counts = np.bincount(res["D"][:, k], minlength=5)
        assert counts.size == 5
        assert _chi2_p(counts, Pk) > 1e-4
    assert np.all(res["A"] + 2 * res["D"] == 9)


def test_single_receptor_dwell_times_match_the_q_matrix():  # ssa_path: the Python engine
    # One Destexhe five-state receptor in 1 mM glutamate: open and shut times against the exponential mixtures
    # of its Q-matrix (kinetics.singlechannel: open_time_pdf, shut_time_pdf; times in s there, ms here).
    # Kolmogorov-Smirnov, p > 1e-4 for each: false-failure rate < 2e-4.
    from kinetics.singlechannel.qmatrix import q_matrix

    s = destexhe1994.five_state()
    protocol = kx.Protocol([kx.steps("glu", [0.0], [1.0])])
    times, chan, counts = ssa_path(s, protocol, t_end=150_000.0, n_copies=1, seed=3)
    o = np.array(s.species_names).tolist().index("O")
    is_open = counts[:, o] == 1
    change = np.flatnonzero(np.diff(is_open.astype(int)) != 0) + 1
    edges = times[change]
    states = is_open[change]
    dwell = np.diff(edges)
    opens, shuts = dwell[states[:-1]], dwell[~states[:-1]]        # complete intervals only
    assert opens.size > 1500 and shuts.size > 1500
    q = q_matrix(s, inputs={"glu": 1.0}, open_states=["O"])
    for sample, mix in ((opens, q.open_time_pdf()), (shuts, q.shut_time_pdf())):
        cdf = lambda x, mix=mix: 1.0 - mix.survivor(np.asarray(x) / 1000.0) / mix.total  # noqa: E731
        assert scipy.stats.kstest(sample, cdf).pvalue > 1e-4
        assert abs(sample.mean() / (1000 * mix.mean) - 1) < 0.1


@pytest.mark.parametrize("method", METHODS)
def test_time_varying_births_are_poisson(method):
    # Two births in n_copies mode (Omega = 40): `-> A` at k1 * t (explicit time) and `-> B` at
    # k2 * exp(V / 20) with V a ramp from -40 to 40 mV over 10 ms (thinning, with the exp bounded by intervals).
    # The counts at 10 ms are independent Poisson with means Omega k1 T^2 / 2 and
    # Omega k2 (20 / 8) (e^2 - e^-2). Chi-squared p > 1e-4 for each, means within 5 standard errors:
    # false-failure rate < 2e-4 + 1.2e-6.
    s = kx.Scheme("births_ssa", species=[kx.Species("A", 0.0, "1"), kx.Species("B", 0.0, "1")],
                  parameters=[kx.Parameter("k1", 0.002, "1/ms^2"), kx.Parameter("k2", 0.01, "1/ms")],
                  inputs=[kx.Input("V", -40.0, "mV")],
                  reactions=[kx.reaction("-> A", "k1*t"), kx.reaction("-> B", "k2*exp(V/20)")])
    omega, T, R = 40, 10.0, 3000
    protocol = kx.Protocol([kx.ramp("V", [0.0, 10.0], [-40.0, 40.0])])
    res = kx.ssa(s, protocol, t_end=T, t_eval=[T], n_runs=R, n_copies=omega, seed=17, method=method)
    lam = {"A": omega * 0.002 * T ** 2 / 2, "B": omega * 0.01 * 20 / 8 * (np.exp(2) - np.exp(-2))}
    for name, mu in lam.items():
        n = res[name][:, 0]
        kmax = int(mu + 10 * np.sqrt(mu)) + 1
        probs = scipy.stats.poisson.pmf(np.arange(kmax), mu)
        probs[-1] += scipy.stats.poisson.sf(kmax - 1, mu)
        assert n.max() < kmax
        assert _chi2_p(np.bincount(n, minlength=kmax), probs) > 1e-4
        assert abs(n.mean() - mu) < 5 * np.sqrt(mu / R)
