"""The Q-matrix of a closed receptor scheme and its ideal (perfect-resolution) single-channel properties.

A :class:`QMatrix` holds the generator ``Q`` of a continuous-time Markov chain: ``Q[i, j]`` (i != j) is the
rate of the transition from state ``i`` to state ``j`` and each row sums to zero (Colquhoun & Hawkes 1982,
section 2). The states are ordered **open first**: ``Q = [[Q_AA, Q_AF], [Q_FA, Q_FF]]`` with ``A`` the open
("conducting") and ``F`` the shut states, the convention of Colquhoun & Hawkes (1982) and of HJC.

**Units.** Single-channel work is done in seconds: every rate of a :class:`QMatrix` is in 1/s and every time
(dwell times, time constants, resolutions) in s, whatever the unit system of the scheme it came from.

:func:`q_matrix` builds one from any :class:`~kinetics.Scheme` at fixed inputs (agonist concentration,
voltage) and parameter values, from the derived mass-action equations of the compiled model: for a closed
system of first-order (unimolecular) transitions ``dy/dt = Q^T y``, so ``Q`` is the transpose of the
Jacobian of the derived right-hand side, which must not depend on the states.

Formulas (sources)
------------------
* equilibrium occupancies ``p Q = 0, sum(p) = 1``: Colquhoun & Hawkes (1995a), computed as
  ``p = u^T (S S^T)^-1`` with ``S = [Q | u]`` (Colquhoun & Hawkes 1995b, "A Q-matrix cookbook") — here by
  least squares on the same system;
* open / shut dwell-time pdfs ``f(t) = phi_A exp(Q_AA t) (-Q_AA) u_A`` with the equilibrium entry vector
  ``phi_A = p_F Q_FA / (p_F Q_FA u_A)``, and the spectral expansion into exponential components:
  Colquhoun & Hawkes (1982), section 3; Colquhoun & Hawkes (1995a);
* bursts (mean openings per burst, mean burst length, burst-length pdf), with shut states split into
  short-lived ``B`` (gaps within bursts) and long-lived ``C`` (gaps between bursts): Colquhoun & Hawkes
  (1982), sections 3-5, via ``G_AB = (-Q_AA)^-1 Q_AB`` and ``G_BA = (-Q_BB)^-1 Q_BA``;
* first latency after a concentration jump ``f(t) = p0_F exp(Q_FF t) Q_FA u_A``: Colquhoun & Hawkes
  (1995a);
* relaxation: ``p(t) = p(0) exp(Q t)``, the rates are the non-zero eigenvalues of ``-Q``: Colquhoun &
  Hawkes (1977, 1995a);
* microscopic reversibility: the product of the rates around every cycle equals the product in the reverse
  direction (Kolmogorov's criterion; Colquhoun & Hawkes 1982, 1995a). A cycle basis is enough: the log-ratio
  is additive over the cycle space.

References
----------
Colquhoun D, Hawkes AG (1977) Relaxation and fluctuations of membrane currents that flow through drug-operated
channels. Proc R Soc Lond B 199:231-262.
Colquhoun D, Hawkes AG (1982) On the stochastic properties of bursts of single ion channel openings and of
clusters of bursts. Phil Trans R Soc Lond B 300:1-59.
Colquhoun D, Hawkes AG (1995a) The principles of the stochastic interpretation of ion-channel mechanisms. In:
Sakmann B, Neher E (eds) Single-Channel Recording, 2nd ed, Plenum, pp 397-482.
Colquhoun D, Hawkes AG (1995b) A Q-matrix cookbook. Ibid., pp 589-633.

Examples
--------
The CH82 mechanism at 100 nM (states AR*, A2R* open; AR, A2R, R shut; rates in 1/s):

>>> import numpy as np
>>> from kinetics.singlechannel import QMatrix
>>> Q = [[-3050, 50, 3000, 0, 0], [2/3, -1502/3, 0, 500, 0], [15, 0, -2065, 50, 2000],
...      [0, 15000, 4000, -19000, 0], [0, 0, 10, 0, -10]]
>>> q = QMatrix(Q, n_open=2, states=["AR*", "A2R*", "AR", "A2R", "R"])
>>> round(q.mean_open_time() * 1e3, 4)     # ms
1.8765
>>> q.reversibility().ok
True
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
from numpy import linalg

from ..errors import ArgumentError, SchemeError, did_you_mean

__all__ = ["expm", "QMatrix", "ExponentialMixture", "BurstStatistics", "CycleCheck", "ReversibilityCheck",
           "q_matrix", "popen_curve", "ec50", "tcrit"]


def expm(A) -> np.ndarray:
    """Matrix exponential: by eigendecomposition when it is well conditioned (the matrices here are
    sub-matrices of Q-matrices, similar to symmetric ones for reversible mechanisms), else
    :func:`scipy.linalg.expm` (Pade approximation with scaling and squaring)."""
    A = np.asarray(A, dtype=float)
    w, V = linalg.eig(A)
    if np.max(np.abs(w.imag), initial=0.0) == 0.0 and np.linalg.cond(V) < 1e6:
        return ((V.real * np.exp(w.real)) @ linalg.inv(V.real))
    from scipy.linalg import expm as _expm

    return _expm(A)


# --------------------------------------------------------------------------- exponential mixtures
@dataclass(frozen=True)
class ExponentialMixture:
    """A pdf ``f(t) = sum_i (a_i / tau_i) exp(-t / tau_i)`` for ``t >= offset`` (areas ``a_i`` sum to the
    total probability, 1 for a proper distribution). Times in s.

    >>> m = ExponentialMixture((1e-3,), (1.0,))
    >>> round(m.mean, 6), round(float(m.pdf(0.0)), 3), round(float(m.survivor(1e-3)), 4)
    (0.001, 1000.0, 0.3679)
    """

    taus: tuple
    areas: tuple
    offset: float = 0.0

    @property
    def n(self) -> int:
        return len(self.taus)

    @property
    def total(self) -> float:
        return float(np.sum(self.areas))

    @property
    def mean(self) -> float:
        """Mean of the distribution (``offset + sum a_i tau_i`` over the total area)."""
        return self.offset + float(np.dot(self.areas, self.taus)) / self.total

    def pdf(self, t):
        t = np.asarray(t, dtype=float) - self.offset
        tau = np.asarray(self.taus)[:, None]
        a = np.asarray(self.areas)[:, None]
        out = np.sum(a / tau * np.exp(-np.clip(t, 0, None)[None, :] / tau), axis=0) if t.ndim else \
            float(np.sum(np.asarray(self.areas) / np.asarray(self.taus) * np.exp(-max(t, 0.0) / np.asarray(self.taus))))
        return np.where(t >= 0, out, 0.0) if np.ndim(out) else (out if t >= 0 else 0.0)

    def survivor(self, t):
        """``P(T > t)``."""
        t = np.asarray(t, dtype=float) - self.offset
        tau, a = np.asarray(self.taus), np.asarray(self.areas)
        return np.sum(a * np.exp(-np.multiply.outer(np.clip(t, 0, None), 1.0 / tau)), axis=-1)

    def __str__(self) -> str:
        rows = [f"  tau = {t * 1e3:.6g} ms, area = {a:.6g}" for t, a in zip(self.taus, self.areas)]
        return "ExponentialMixture(\n" + "\n".join(rows) + f"\n  mean = {self.mean * 1e3:.6g} ms)"


def _mixture(phi, M, v, what: str) -> ExponentialMixture:
    """Components of ``f(t) = phi exp(M t) v`` (M stable: all eigenvalues negative)."""
    lam, V = linalg.eig(M)
    Vinv = linalg.inv(V)
    w = (np.asarray(phi) @ V) * (Vinv @ np.asarray(v))
    if np.max(np.abs(lam.imag), initial=0.0) > 1e-8 * np.max(np.abs(lam)) or \
            np.max(np.abs(w.imag), initial=0.0) > 1e-8 * max(np.max(np.abs(w)), 1e-300):
        warnings.warn(f"{what}: complex eigenvalues (damped oscillations; the mechanism is not microscopically "
                      f"reversible); keeping the real parts", RuntimeWarning, stacklevel=3)
    lam, w = lam.real, w.real
    if np.any(lam >= 0):
        raise SchemeError(f"{what}: the sub-matrix has a non-negative eigenvalue (a state set the channel never "
                          f"leaves); check the open/shut partition")
    taus = -1.0 / lam
    areas = w * taus
    order = np.argsort(taus)
    return ExponentialMixture(tuple(float(x) for x in taus[order]), tuple(float(x) for x in areas[order]))


# --------------------------------------------------------------------------- reversibility
@dataclass(frozen=True)
class CycleCheck:
    """One cycle of the mechanism: its states (in order), and the ratio of the product of rates around it in
    that direction over the product in the reverse direction (1 when microscopic reversibility holds)."""

    states: tuple
    ratio: float


@dataclass(frozen=True)
class ReversibilityCheck:
    """Microscopic reversibility of a Q-matrix: ``ok``, the fundamental cycles, and the one-way transitions."""

    ok: bool
    cycles: tuple
    irreversible: tuple = ()
    rtol: float = 1e-6

    def __str__(self) -> str:
        lines = [f"microscopic reversibility: {'holds' if self.ok else 'VIOLATED'}"]
        for c in self.cycles:
            lines.append(f"  cycle {' -> '.join(c.states)} -> {c.states[0]}: ratio {c.ratio:.9g}")
        for i, j in self.irreversible:
            lines.append(f"  one-way transition {i} -> {j}")
        return "\n".join(lines)


def _cycle_basis(adj: np.ndarray) -> list:
    """Fundamental cycles (lists of state indices) of the undirected graph ``adj`` (spanning tree by BFS)."""
    k = adj.shape[0]
    parent = [-1] * k
    depth = [0] * k
    seen = [False] * k
    tree = set()
    for root in range(k):
        if seen[root]:
            continue
        seen[root] = True
        queue = [root]
        while queue:
            i = queue.pop(0)
            for j in np.flatnonzero(adj[i]):
                if not seen[j]:
                    seen[j] = True
                    parent[j] = i
                    depth[j] = depth[i] + 1
                    tree.add((min(i, j), max(i, j)))
                    queue.append(int(j))
    cycles = []
    for i in range(k):
        for j in range(i + 1, k):
            if adj[i, j] and (i, j) not in tree:
                a, b = [i], [j]                       # paths to the common ancestor
                while a[-1] != b[-1]:
                    if depth[a[-1]] >= depth[b[-1]]:
                        a.append(parent[a[-1]])
                    else:
                        b.append(parent[b[-1]])
                cycles.append(a + b[-2::-1])          # i -> ... -> lca -> ... -> j (-> i)
    return cycles


# --------------------------------------------------------------------------- bursts
@dataclass(frozen=True)
class BurstStatistics:
    """Burst properties of Colquhoun & Hawkes (1982) for a split of the shut states into gaps within bursts
    (``within``) and between bursts. Times in s.

    Attributes
    ----------
    mean_openings : float
        Mean number of openings per burst (CH82 eq. 3.5 in spirit: ``phi_b (I - G_AB G_BA)^-1 u_A``).
    mean_length : float
        Mean burst length, first opening start to last opening end.
    mean_open_time : float
        Mean total open time per burst.
    mean_shut_time : float
        Mean total shut time per burst (sum of the gaps within it).
    length_pdf : ExponentialMixture
        Distribution of the burst length.
    start_vector, end_vector : ndarray
        ``phi_b`` over the open states and ``e_b`` (probability that the burst ends after an opening in each
        open state).
    """

    mean_openings: float
    mean_length: float
    mean_open_time: float
    mean_shut_time: float
    length_pdf: ExponentialMixture
    start_vector: np.ndarray = field(repr=False)
    end_vector: np.ndarray = field(repr=False)


# --------------------------------------------------------------------------- the Q-matrix
class QMatrix:
    """A Q-matrix (rates in 1/s) with its states ordered open first.

    Parameters
    ----------
    Q : (k, k) array_like
        Transition rates, ``Q[i, j]`` from state ``i`` to ``j`` (1/s); rows must sum to 0 (within round-off).
    n_open : int, optional
        Number of open states, when they are the first ``n_open`` states.
    states : sequence of str, optional
        State names (default ``"1".."k"``).
    open_states : sequence of str or int, optional
        The open states by name or index, instead of ``n_open``; the matrix is then reordered open first.
    conductance : sequence of float, optional
        Per state (in the given order) conductance or amplitude; non-zero entries define the open states when
        neither ``n_open`` nor ``open_states`` is given.

    Raises
    ------
    ArgumentError
        Not square, not finite, negative off-diagonal rates, rows not summing to 0, no open or no shut state.
    """

    def __init__(self, Q, n_open: int | None = None, states: Sequence[str] | None = None, *,
                 open_states: Sequence | None = None, conductance: Sequence[float] | None = None):
        try:
            Q = np.array(Q, dtype=float)
        except (TypeError, ValueError):
            raise ArgumentError("Q must be a square matrix of numbers") from None
        if Q.ndim != 2 or Q.shape[0] != Q.shape[1] or Q.shape[0] < 2:
            raise ArgumentError(f"Q must be a square matrix with at least 2 states, got shape {Q.shape}")
        if not np.all(np.isfinite(Q)):
            raise ArgumentError("Q must be finite")
        k = Q.shape[0]
        off = Q - np.diag(np.diag(Q))
        if np.any(off < 0):
            i, j = np.argwhere(off < 0)[0]
            raise ArgumentError(f"Q[{i}, {j}] = {Q[i, j]:g} is negative: off-diagonal rates must be >= 0")
        scale = max(np.max(np.abs(Q)), 1e-300)
        rows = Q.sum(axis=1)
        if np.any(np.abs(rows) > 1e-9 * scale):
            i = int(np.argmax(np.abs(rows)))
            raise ArgumentError(f"row {i} of Q sums to {rows[i]:g}, not 0: a Q-matrix's diagonal is minus the "
                                f"sum of the off-diagonal rates of its row")
        names = tuple(str(s) for s in states) if states is not None else tuple(str(i + 1) for i in range(k))
        if len(names) != k or len(set(names)) != k:
            raise ArgumentError(f"`states` must be {k} distinct names, got {names}")
        g = None if conductance is None else np.asarray(conductance, dtype=float)
        if g is not None and g.shape != (k,):
            raise ArgumentError(f"`conductance` needs one value per state ({k}), got shape {g.shape}")
        given = sum(x is not None for x in (n_open, open_states))
        if given > 1:
            raise ArgumentError("give either `n_open` or `open_states`, not both")
        if open_states is not None:
            idx = []
            for s in open_states:
                if isinstance(s, (int, np.integer)) and not isinstance(s, bool):
                    if not 0 <= s < k:
                        raise ArgumentError(f"open state index {s} out of range 0..{k - 1}")
                    idx.append(int(s))
                elif s in names:
                    idx.append(names.index(s))
                else:
                    raise ArgumentError(f"unknown open state `{s}`" + did_you_mean(str(s), names))
            is_open = np.zeros(k, bool)
            is_open[idx] = True
        elif n_open is not None:
            if isinstance(n_open, bool) or int(n_open) != n_open or not 0 < n_open < k:
                raise ArgumentError(f"`n_open` must be an integer in 1..{k - 1}, got {n_open!r}")
            is_open = np.arange(k) < int(n_open)
        elif g is not None:
            is_open = g != 0
        else:
            raise ArgumentError("say which states are open: `n_open`, `open_states` or `conductance`")
        if not is_open.any() or is_open.all():
            raise ArgumentError("a Q-matrix needs at least one open and one shut state")
        order = np.concatenate([np.flatnonzero(is_open), np.flatnonzero(~is_open)])
        Q = Q[np.ix_(order, order)]
        Q[np.diag_indices(k)] = 0.0
        Q[np.diag_indices(k)] = -Q.sum(axis=1)
        self.Q = Q
        self.Q.setflags(write=False)
        self.states = tuple(names[i] for i in order)
        self.kA = int(is_open.sum())
        self.kF = k - self.kA
        self.conductance = None if g is None else g[order]

    # ------------------------------------------------------------------ basics
    @property
    def k(self) -> int:
        return self.Q.shape[0]

    @property
    def open_states(self) -> tuple:
        return self.states[:self.kA]

    @property
    def shut_states(self) -> tuple:
        return self.states[self.kA:]

    @property
    def QAA(self):
        return self.Q[:self.kA, :self.kA]

    @property
    def QAF(self):
        return self.Q[:self.kA, self.kA:]

    @property
    def QFA(self):
        return self.Q[self.kA:, :self.kA]

    @property
    def QFF(self):
        return self.Q[self.kA:, self.kA:]

    def __repr__(self) -> str:
        return f"<QMatrix {self.k} states, open {list(self.open_states)}, shut {list(self.shut_states)}>"

    def index(self, names) -> np.ndarray:
        """Indices (in this matrix's open-first order) of state names."""
        out = []
        for n in names:
            if n not in self.states:
                raise ArgumentError(f"unknown state `{n}`" + did_you_mean(str(n), self.states))
            out.append(self.states.index(n))
        return np.array(out, dtype=int)

    def _vector(self, p, what: str) -> np.ndarray:
        if isinstance(p, Mapping):
            v = np.zeros(self.k)
            for n, x in p.items():
                v[self.index([n])[0]] = float(x)
        else:
            v = np.asarray(p, dtype=float)
            if v.shape != (self.k,):
                raise ArgumentError(f"{what} needs one value per state ({self.k}), got shape {v.shape}")
        if not np.all(np.isfinite(v)) or np.any(v < 0) or not np.isclose(v.sum(), 1.0, rtol=1e-6):
            raise ArgumentError(f"{what} must be non-negative occupancies summing to 1, got {v}")
        return v

    # ------------------------------------------------------------------ equilibrium
    def equilibrium(self) -> np.ndarray:
        """Equilibrium occupancies ``p(inf)`` (open-first order): ``p Q = 0``, ``sum p = 1``."""
        S = np.hstack([self.Q, np.ones((self.k, 1))])
        b = np.zeros(self.k + 1)
        b[-1] = 1.0
        p, *_ = linalg.lstsq(S.T, b, rcond=None)
        return p

    def popen(self) -> float:
        """Equilibrium open probability."""
        return float(self.equilibrium()[:self.kA].sum())

    def entry_open(self) -> np.ndarray:
        """``phi_A``: the distribution of the state in which an opening starts, at equilibrium (CH82)."""
        pF = self.equilibrium()[self.kA:]
        v = pF @ self.QFA
        return v / v.sum()

    def entry_shut(self) -> np.ndarray:
        """``phi_F``: the distribution of the state in which a shutting starts, at equilibrium (CH82)."""
        pA = self.equilibrium()[:self.kA]
        v = pA @ self.QAF
        return v / v.sum()

    def mean_open_time(self) -> float:
        """Mean open time ``phi_A (-Q_AA)^-1 u_A`` (s)."""
        return float(self.entry_open() @ linalg.solve(-self.QAA, np.ones(self.kA)))

    def mean_shut_time(self) -> float:
        """Mean shut time ``phi_F (-Q_FF)^-1 u_F`` (s)."""
        return float(self.entry_shut() @ linalg.solve(-self.QFF, np.ones(self.kF)))

    def open_time_pdf(self) -> ExponentialMixture:
        """Ideal open-time pdf ``phi_A exp(Q_AA t) (-Q_AA) u_A`` as ``kA`` exponential components (CH82)."""
        return _mixture(self.entry_open(), self.QAA, -self.QAA @ np.ones(self.kA), "open-time pdf")

    def shut_time_pdf(self) -> ExponentialMixture:
        """Ideal shut-time pdf ``phi_F exp(Q_FF t) (-Q_FF) u_F`` as ``kF`` exponential components (CH82)."""
        return _mixture(self.entry_shut(), self.QFF, -self.QFF @ np.ones(self.kF), "shut-time pdf")

    # ------------------------------------------------------------------ bursts
    def bursts(self, within: Sequence[str]) -> BurstStatistics:
        """Burst statistics (Colquhoun & Hawkes 1982) when the shut states ``within`` (set ``B``) are the short
        gaps inside bursts and the other shut states (set ``C``) separate bursts.

        ``phi_b = p_C (Q_CA + Q_CB G_BA)`` normalised; ``e_b = (G_AB G_BC + G_AC) u_C`` (the probability
        that the burst ends after an opening in each open state); mean openings ``phi_b (I - G_AB G_BA)^-1 u_A``;
        burst-length pdf ``phi_b [exp(Q_EE t)]_AA (-Q_AA) e_b`` over ``E = A + B`` (mean
        ``phi_b [Q_EE^-2]_AA (-Q_AA) e_b``).
        """
        kA = self.kA
        B = self.index(within)
        if len(B) == 0 or np.any(B < kA):
            raise ArgumentError("`within` must name one or more shut states")
        C = np.array([i for i in range(kA, self.k) if i not in set(B)], dtype=int)
        if len(C) == 0:
            raise ArgumentError("`within` names every shut state: no gap would end a burst")
        A = np.arange(kA)
        Q = self.Q
        p = self.equilibrium()
        QBB = Q[np.ix_(B, B)]
        GBA = linalg.solve(-QBB, Q[np.ix_(B, A)])
        GBC = linalg.solve(-QBB, Q[np.ix_(B, C)])
        GAB = linalg.solve(-self.QAA, Q[np.ix_(A, B)])
        phi = p[C] @ (Q[np.ix_(C, A)] + Q[np.ix_(C, B)] @ GBA)
        phi = phi / phi.sum()
        eb = (Q[np.ix_(A, C)] + Q[np.ix_(A, B)] @ GBC) @ np.ones(len(C))
        N = linalg.inv(np.eye(kA) - GAB @ GBA)
        mean_openings = float(phi @ N @ np.ones(kA))
        mean_open = float(phi @ N @ linalg.solve(-self.QAA, np.ones(kA)))
        E = np.concatenate([A, B])
        QEE = Q[np.ix_(E, E)]
        inv = linalg.inv(-QEE)
        phiE = np.concatenate([phi, np.zeros(len(B))])
        eE = np.concatenate([eb, np.zeros(len(B))])
        mean_length = float(phiE @ inv @ inv @ eE)
        pdf = _mixture(phiE, QEE, eE, "burst-length pdf")
        end = linalg.solve(-self.QAA, eb)        # CH82's e_b = (G_AB G_BC + G_AC) u_C
        return BurstStatistics(mean_openings, mean_length, mean_open, mean_length - mean_open, pdf, phi, end)

    # ------------------------------------------------------------------ relaxations
    def relaxation_rates(self) -> np.ndarray:
        """The ``k - 1`` non-zero eigenvalues of ``-Q`` (1/s), ascending: the rates of every macroscopic
        relaxation at these conditions (Colquhoun & Hawkes 1977)."""
        lam = np.sort(linalg.eigvals(-self.Q).real)
        return lam[1:]

    def relaxation(self, p0, observable: Sequence[float] | None = None):
        """Relaxation from ``p0`` (occupancies, open-first order or a mapping of names): returns
        ``(taus, amplitudes, final)`` with ``x(t) = final + sum amplitudes_i exp(-t / taus_i)`` for
        ``x = p(t) . observable`` (default: the open probability).
        """
        p0 = self._vector(p0, "p0")
        obs = np.r_[np.ones(self.kA), np.zeros(self.kF)] if observable is None else np.asarray(observable, float)
        lam, V = linalg.eig(self.Q)
        w = ((p0 @ V) * (linalg.inv(V) @ obs)).real
        lam = lam.real
        i0 = int(np.argmin(np.abs(lam)))
        final = float(w[i0])
        keep = np.array([i for i in range(self.k) if i != i0])
        order = keep[np.argsort(lam[keep])[::-1]]
        return -1.0 / lam[order], w[order], final

    def occupancies(self, p0, t) -> np.ndarray:
        """``p(t) = p0 exp(Q t)`` at times ``t`` (s), shape ``(len(t), k)``."""
        p0 = self._vector(p0, "p0")
        return np.array([p0 @ expm(self.Q * float(ti)) for ti in np.atleast_1d(t)])

    def first_latency(self, p0) -> ExponentialMixture:
        """Distribution of the time to the first opening from occupancies ``p0`` at a concentration jump (the
        ``p0`` of the pre-jump Q-matrix, e.g. ``q_before.equilibrium()``; states matched by name), conditional on
        starting shut: ``f(t) = p0_F exp(Q_FF t) Q_FA u_A / p0_F u_F`` (Colquhoun & Hawkes 1995a)."""
        p = self._vector(p0, "p0")
        pF = p[self.kA:]
        if pF.sum() <= 0:
            raise ArgumentError("p0 has no shut occupancy: there is no first latency")
        return _mixture(pF / pF.sum(), self.QFF, self.QFA @ np.ones(self.kA), "first-latency pdf")

    # ------------------------------------------------------------------ reversibility
    def reversibility(self, rtol: float = 1e-6) -> ReversibilityCheck:
        """Check microscopic reversibility around every cycle (a cycle basis of the transition graph)."""
        Q = self.Q
        off = Q - np.diag(np.diag(Q))
        adj = (off > 0) | (off.T > 0)
        np.fill_diagonal(adj, False)
        one_way = tuple((self.states[i], self.states[j]) for i, j in np.argwhere((off > 0) & (off.T == 0)))
        cycles = []
        for cyc in _cycle_basis(adj):
            fwd = [Q[cyc[n], cyc[(n + 1) % len(cyc)]] for n in range(len(cyc))]
            rev = [Q[cyc[(n + 1) % len(cyc)], cyc[n]] for n in range(len(cyc))]
            if min(fwd + rev) <= 0:
                ratio = math.inf
            else:
                ratio = float(np.exp(np.sum(np.log(fwd)) - np.sum(np.log(rev))))
            cycles.append(CycleCheck(tuple(self.states[i] for i in cyc), ratio))
        ok = not one_way and all(abs(c.ratio - 1.0) <= rtol for c in cycles)
        return ReversibilityCheck(ok, tuple(cycles), one_way, rtol)


# --------------------------------------------------------------------------- from a scheme
_STRUCT: dict = {}


def _time_factor(scheme) -> float:
    """Seconds per time unit of the scheme's unit system (rates in model units / this = rates in 1/s)."""
    from ..units import convert

    return convert(1.0, scheme.units.unit_of("time"), "s")


def _structure(compiled, states: tuple):
    """Lambdified Jacobian block (states x states) and conductance gradients, checked once per structure."""
    import sympy

    key = (compiled.key, states)
    hit = _STRUCT.get(key)
    if hit is not None:
        return hit
    system = compiled.system
    name = compiled.scheme.name
    if compiled.scheme.events:
        raise SchemeError(f"scheme `{name}` has events ({', '.join(e.name for e in compiled.scheme.events)}); "
                          "a Q-matrix describes a stationary Markov process, which discrete events are not")
    bad = set(system.rate_rule_states) & set(states)
    if bad:
        raise SchemeError(f"scheme `{name}`: states {sorted(bad)} have rate rules; a Q-matrix needs a closed "
                              f"system of first-order transitions")
    idx = [system.state_names.index(s) for s in states]
    ysub = [system.y[i] for i in idx]
    others = [system.y[i] for i in range(system.n_states) if i not in idx]
    rhs = sympy.Matrix([system.rhs[i] for i in idx])
    J = rhs.jacobian(sympy.Matrix(ysub))
    allY = set(system.y)
    for (i, j), e in np.ndenumerate(np.array(J.tolist(), dtype=object)):
        if e.free_symbols & allY or e.has(system.t):
            raise SchemeError(f"scheme `{name}`: d({states[i]})/dt depends non-linearly on the states "
                              f"(d/d{states[j]} = {e}); a Q-matrix needs first-order (unimolecular) transitions "
                              f"between receptor states, with agonist concentrations as inputs")
    rest = sympy.simplify(rhs - J * sympy.Matrix(ysub))
    if any(e != 0 for e in rest):
        i = next(n for n, e in enumerate(rest) if e != 0)
        raise SchemeError(f"scheme `{name}`: d({states[i]})/dt has a term {rest[i]} that is not a transition "
                          f"between the states {list(states)} (a source, sink or another species)")
    if others and any(e.free_symbols & set(others) for e in rhs):
        raise SchemeError(f"scheme `{name}`: the states {list(states)} depend on other species")
    f = sympy.lambdify([system.p, system.u], J, modules="numpy")
    grads = {}
    for oname, expr in system.observables.items():
        gvec = [sympy.diff(expr, y) for y in ysub]
        grads[oname] = sympy.lambdify([system.p, system.u], sympy.Matrix(gvec), modules="numpy")
    hit = (f, grads)
    _STRUCT[key] = hit
    return hit


def q_matrix(scheme, *, inputs: Mapping[str, float] | None = None, params: Mapping[str, float] | None = None,
             open_states: Sequence[str] | None = None, conductance: str | None = None,
             states: Sequence[str] | None = None) -> QMatrix:
    """The :class:`QMatrix` (1/s) of a closed receptor scheme at fixed inputs and parameter values.

    Parameters
    ----------
    scheme : Scheme
        Reactions between receptor states must be first order (``C0 <-> C1 ; 2*kon*glu, koff``): agonist
        concentrations and voltage enter as inputs.
    inputs : mapping, optional
        Constant input values in the scheme's unit system (default: each input's default).
    params : mapping, optional
        Parameter overrides in their declared units.
    open_states : sequence of str, optional
        The open states. Or:
    conductance : str, optional
        An observable (e.g. ``"g"`` or ``"O"``): states with a non-zero coefficient in it are open.
    states : sequence of str, optional
        The receptor states (default: every species); they must form a closed system.

    Raises
    ------
    SchemeError
        Non-linear (bimolecular) transitions, sources or sinks, rate rules, rows not conserving occupancy.
    ArgumentError
        Unknown inputs, states or observables; no open or shut state.

    Examples
    --------
    >>> import kinetics as kx
    >>> s = kx.Scheme("cko", species=[kx.Species("C", 1.0), kx.Species("O", 0.0)],
    ...     parameters=[kx.Parameter("beta", 100.0, "1/s"), kx.Parameter("alpha", 400.0, "1/s")],
    ...     reactions=[kx.reaction("C <-> O", "beta", "alpha")])
    >>> q = q_matrix(s, open_states=["O"])
    >>> q.Q
    array([[-400.,  400.],
           [ 100., -100.]])
    >>> round(q.popen(), 6)
    0.2
    """
    from ..model import compile as compile_model

    compiled = compile_model(scheme)
    sch = compiled.scheme
    st = tuple(states) if states is not None else compiled.state_names
    for s in st:
        if s not in compiled.state_names:
            raise ArgumentError(f"unknown state `{s}`" + did_you_mean(str(s), compiled.state_names))
    f, grads = _structure(compiled, st)
    p = compiled.parameter_vector(params)
    u = compiled.input_defaults()
    for k, v in (inputs or {}).items():
        if k not in compiled.input_names:
            raise ArgumentError(f"unknown input `{k}` of scheme `{sch.name}`" + did_you_mean(k, compiled.input_names))
        try:
            u[compiled.input_names.index(k)] = float(v)
        except (TypeError, ValueError):
            raise ArgumentError(f"input `{k}` must be a number, got {v!r}") from None
    if not np.all(np.isfinite(u)):
        raise ArgumentError("inputs must be finite")
    J = np.array(f(p, u), dtype=float).reshape(len(st), len(st))
    Q = J.T / _time_factor(sch)
    k = len(st)
    scale = max(np.max(np.abs(Q)), 1e-300)
    if np.any(np.abs(Q.sum(axis=1)) > 1e-9 * scale):
        raise SchemeError(f"scheme `{sch.name}`: the states {list(st)} do not conserve their total occupancy "
                          f"(a Q-matrix needs a closed system)")
    g = None
    if conductance is not None:
        if conductance not in grads:
            raise ArgumentError(f"unknown observable `{conductance}`" + did_you_mean(conductance, grads))
        g = np.array(grads[conductance](p, u), dtype=float).reshape(k)
    if open_states is None and g is None:
        raise ArgumentError("say which states are open: `open_states=[...]` or `conductance=<observable>`")
    if open_states is not None:
        return QMatrix(Q, states=st, open_states=open_states, conductance=g)
    return QMatrix(Q, states=st, conductance=g)


def popen_curve(scheme, agonist: str, concentrations, **kw) -> np.ndarray:
    """Equilibrium open probability at each agonist concentration (scheme units). ``kw`` as for
    :func:`q_matrix` (``inputs`` fixes the other inputs).

    >>> import kinetics as kx
    >>> s = kx.Scheme("del_castillo_katz", species=[kx.Species("R", 1.0), kx.Species("AR", 0.0),
    ...     kx.Species("ARs", 0.0)], parameters=[kx.Parameter("kon", 1e7, "1/(M*s)"),
    ...     kx.Parameter("koff", 1e3, "1/s"), kx.Parameter("beta", 3e3, "1/s"), kx.Parameter("alpha", 1e3, "1/s")],
    ...     inputs=[kx.Input("A", 0.0, "mM")],
    ...     reactions=[kx.reaction("R <-> AR", "kon*A", "koff"), kx.reaction("AR <-> ARs", "beta", "alpha")])
    >>> np.round(popen_curve(s, "A", [0.1, 1e3], open_states=["ARs"]), 4)   # K = 0.1 mM, E = 3: 3/5, E/(1+E)
    array([0.6 , 0.75])
    """
    inputs = dict(kw.pop("inputs", None) or {})
    out = []
    for c in np.atleast_1d(np.asarray(concentrations, dtype=float)):
        inputs[agonist] = float(c)
        out.append(q_matrix(scheme, inputs=inputs, **kw).popen())
    return np.array(out)


def ec50(scheme, agonist: str, *, low: float = 1e-9, high: float = 1e3, **kw) -> float:
    """Concentration (scheme units) giving half the maximal equilibrium open probability, bracketed in
    ``[low, high]`` (the maximum is taken at ``high``). ``kw`` as for :func:`q_matrix`."""
    from scipy.optimize import brentq

    top = popen_curve(scheme, agonist, [high], **dict(kw))[0]
    if top <= 0:
        raise ArgumentError("the open probability is 0 at the highest concentration: no EC50")

    def g(logc):
        return popen_curve(scheme, agonist, [10 ** logc], **dict(kw))[0] - top / 2

    if g(math.log10(low)) > 0:
        raise ArgumentError(f"P_open at {low} is already above half maximum; lower `low`")
    return float(10 ** brentq(g, math.log10(low), math.log10(high), xtol=1e-12))


def tcrit(mixture: ExponentialMixture, i: int | None = None, method: str = "equal_proportion") -> float:
    """Critical shut time between components ``i`` and ``i + 1`` (time constants ascending) of a shut-time
    mixture, to split a record into bursts.

    Methods (criteria as described by Colquhoun & Sakmann 1985 and Colquhoun 1994, "Practical analysis of
    single channel records"; the attribution of each criterion to its original paper — Jackson et al. 1983,
    Magleby & Pallotta 1983, Clapham & Neher 1984 — is not checked here):

    * ``"equal_proportion"``: equal proportions misclassified, ``exp(-t/tau_s) = 1 - exp(-t/tau_l)``;
    * ``"equal_number"``: equal numbers misclassified, ``a_s exp(-t/tau_s) = a_l (1 - exp(-t/tau_l))``;
    * ``"minimum_total"``: fewest misclassified in total, ``a_s/tau_s exp(-t/tau_s) = a_l/tau_l exp(-t/tau_l)``.

    ``i`` defaults to the pair with the largest ratio of time constants.

    >>> round(tcrit(ExponentialMixture((1e-4, 1e-1), (0.5, 0.5))) * 1e3, 4)   # ms
    0.5252
    """
    from scipy.optimize import brentq

    taus, areas = np.asarray(mixture.taus), np.asarray(mixture.areas)
    if len(taus) < 2:
        raise ArgumentError("tcrit needs at least two components")
    if i is None:
        i = int(np.argmax(taus[1:] / taus[:-1]))
    if not 0 <= i < len(taus) - 1:
        raise ArgumentError(f"component index i must be in 0..{len(taus) - 2}")
    ts, tl, a_s, a_l = taus[i], taus[i + 1], areas[i], areas[i + 1]
    if method == "equal_proportion":
        def g(t): return math.exp(-t / ts) - (1 - math.exp(-t / tl))
    elif method == "equal_number":
        def g(t): return a_s * math.exp(-t / ts) - a_l * (1 - math.exp(-t / tl))
    elif method == "minimum_total":
        def g(t): return a_s / ts * math.exp(-t / ts) - a_l / tl * math.exp(-t / tl)
    else:
        raise ArgumentError(f"unknown tcrit method `{method}`" + did_you_mean(method, ["equal_proportion",
                            "equal_number", "minimum_total"]))
    lo, hi = ts * 1e-6, tl
    if g(lo) * g(hi) > 0:
        raise ArgumentError(f"no tcrit between tau = {ts:g} and {tl:g} s with method `{method}`")
    return float(brentq(g, lo, hi, xtol=1e-15, rtol=1e-12))
