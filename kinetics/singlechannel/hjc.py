"""Missed events: apparent ("e-") open and shut times for a resolution ``tres`` (HJC).

Events shorter than the resolution ``tres`` are not seen; an *apparent* (extended) opening is a sequence of
openings and of shuttings all shorter than ``tres``, ending when a shutting of at least ``tres`` starts. Its
distribution, and the joint distribution of a sequence of apparent open and shut times, follow from the
semi-Markov kernels (Hawkes, Jalali & Colquhoun 1990, "HJC90"; 1992, "HJC92")::

    eG_AF(t) = AR(t - tres) Q_AF exp(Q_FF tres),        t >= tres

and the same with A and F exchanged. ``AR(u)`` is the probability of being in each open state at ``u`` with
no shutting of at least ``tres`` completed before (HJC90).

Exact part (``u < 2 tres``, i.e. ``t < 3 tres``), HJC90::

    AR(u) = [exp(Q u)]_AA                                                  0 <= u < tres
    AR(u) = [exp(Q u)]_AA - int_0^{u-tres} [exp(Q s)]_AA Q_AF exp(Q_FF tres) [exp(Q (u-tres-s))]_FA ds
                                                                           tres <= u < 2 tres

The convolution is written here through the spectral expansion of ``Q`` (``exp(Q t) = sum_i A_i exp(-lambda_i
t)``), which gives HJC90's coefficients of ``exp(-lambda_i u)`` and ``(u - tres) exp(-lambda_i (u - tres))`` in
closed form (computed, not copied: ``int_0^T exp(-l_i s - l_j (T - s)) ds``).

Asymptotic part (``u >= 2 tres``), HJC92::

    AR(u) ~ sum_i  c_i r_i / (r_i W'(s_i) c_i)  exp(s_i u)

over the ``kA`` roots ``s_i < 0`` of ``det W(s) = 0``, ``W(s) = s I - Q_AA - Q_AF M(s) Q_FA``,
``M(s) = int_0^tres exp(-(s I - Q_FF) t) dt``, ``W'(s) = I + Q_AF [int_0^tres t exp(-(s I - Q_FF) t) dt] Q_FA``,
``c_i`` and ``r_i`` the right and left null vectors of ``W(s_i)``. The Laplace transform of ``AR`` is
``W(s)^-1`` (HJC90), so ``int_0^inf AR = W(0)^-1``.

Equilibrium start vector of apparent openings: ``phi_A = phi_A eG_AF eG_FA`` with the integrated kernels
``eG_AF = W_A(0)^-1 Q_AF exp(Q_FF tres)`` (HJC92). CHS start and end vectors for groups separated by shut
times longer than ``tcrit`` (Colquhoun, Hawkes & Srodzinski 1996, "CHS96", section 5): the distributions
conditional on the adjacent shut time being longer than ``tcrit``::

    phi_b  ~  phi_F F(tcrit),    e_b = F(tcrit) u_A,
    F(tcrit) = [int_{tcrit - tres}^inf FR(u) du] Q_FA exp(Q_AA tres)

References
----------
Hawkes AG, Jalali A, Colquhoun D (1990) The distributions of the apparent open times and shut times in a single
channel record when brief events cannot be detected. Phil Trans R Soc Lond A 332:511-538.
Hawkes AG, Jalali A, Colquhoun D (1992) Asymptotic distributions of apparent open times and shut times in a
single channel record allowing for the omission of brief events. Phil Trans R Soc Lond B 337:383-404.
Colquhoun D, Hawkes AG, Srodzinski K (1996) Joint distributions of apparent open and shut times of single-ion
channels and maximum likelihood fitting of mechanisms. Phil Trans R Soc Lond A 354:2555-2590.

Examples
--------
>>> from kinetics.singlechannel import QMatrix, HJC
>>> q = QMatrix([[-400.0, 400.0], [100.0, -100.0]], n_open=1)     # C <-> O, alpha 400/s, beta 100/s
>>> h = HJC(q, 1e-4)
>>> round(h.mean_open_time() * 1e3, 4)     # ms; tres + e^(beta tres)/alpha (1 + alpha beta int_0^tres t e^(-beta t) dt)
2.6256
"""
from __future__ import annotations

import math

import numpy as np
from numpy import linalg

from ..errors import ArgumentError, SolverError
from .qmatrix import ExponentialMixture, QMatrix, expm

__all__ = ["HJC"]


def _exp_integrals(mu, s, tres, first=True, second=True):
    """``m0 = int_0^tres exp((mu - s) t) dt`` and ``m1 = int_0^tres t exp((mu - s) t) dt`` (elementwise; series
    for ``|(mu - s) tres| < 1e-6``). Either may be skipped (None)."""
    mu = np.asarray(mu)
    a = (mu if np.iscomplexobj(mu) else mu.astype(float)) - s
    at = a * tres
    small = np.abs(at) < 1e-6
    any_small = bool(small.any())
    den = np.where(small, 1.0, a) if any_small else a
    m0 = m1 = None
    with np.errstate(all="ignore"):
        if first:
            m0 = np.expm1(at) / den
            if any_small:
                m0 = np.where(small, tres * (1 + at / 2 + at ** 2 / 6), m0)
        if second:
            m1 = (np.exp(at) * (at - 1) + 1) / den ** 2
            if any_small:
                m1 = np.where(small, tres ** 2 * (0.5 + at / 3 + at ** 2 / 8), m1)
    return m0, m1


def _illinois(f, a, b, fa, fb, rtol=1e-14, maxiter=200):
    """Roots of a vectorised ``f`` in the brackets ``[a_i, b_i]`` (sign change), all at once, by the Illinois
    variant of regula falsi (Dowell & Jarratt 1971), finished by bisection steps when it stalls."""
    a, b, fa, fb = (np.array(x, dtype=float) for x in (a, b, fa, fb))
    if a.size == 0:
        return a
    side = np.zeros(a.size, int)
    for it in range(maxiter):
        width = np.abs(b - a)
        done = width <= rtol * np.maximum(np.abs(a), np.abs(b))
        if np.all(done):
            break
        with np.errstate(all="ignore"):
            c = b - fb * (b - a) / (fb - fa)
        bad = ~np.isfinite(c) | (c <= np.minimum(a, b)) | (c >= np.maximum(a, b)) | (it % 8 == 7)
        c = np.where(bad, 0.5 * (a + b), c)
        c = np.where(done, a, c)
        fc = f(c)
        left = np.sign(fc) == np.sign(fa)          # root in [c, b]: replace a
        zero = fc == 0
        # Illinois: halve the function value kept on the same side twice in a row
        fb = np.where(left & (side == 1) & ~bad, fb / 2, fb)
        fa = np.where(~left & (side == -1) & ~bad, fa / 2, fa)
        a_new = np.where(left & ~done, c, a)
        fa_new = np.where(left & ~done, fc, fa)
        b_new = np.where(~left & ~done, c, b)
        fb_new = np.where(~left & ~done, fc, fb)
        side = np.where(left, 1, -1)
        a, fa, b, fb = np.where(zero, c, a_new), np.where(zero, 0.0, fa_new), np.where(zero, c, b_new), \
            np.where(zero, 0.0, fb_new)
    return np.where(np.abs(fa) <= np.abs(fb), a, b)


class _Side:
    """The apparent sojourn in one class of states (X) interrupted by brief sojourns in the other (Y)."""

    def __init__(self, Q, X, Y, tres, lam, V, Vinv):
        self.tres = tres
        self.kX = len(X)
        self.QXX = Q[np.ix_(X, X)]
        self.QXY = Q[np.ix_(X, Y)]
        self.QYX = Q[np.ix_(Y, X)]
        self.QYY = Q[np.ix_(Y, Y)]
        self.expYY = expm(self.QYY * tres)
        self.exit = self.QXY @ self.expYY                          # Q_XY exp(Q_YY tres)
        self.lam = lam                                              # eigenvalues of -Q
        # spectral matrices restricted: A_i[X, X] and A_i[Y, X]
        self.AXX = np.einsum("ai,ib->iab", V[X, :], Vinv[:, X])
        self.AYX = np.einsum("ai,ib->iab", V[Y, :], Vinv[:, X])
        self.D = (self.AXX @ self.exit)[:, None] @ self.AYX[None, :]       # D_ij = A_i,XX exit A_j,YX
        # Q_YY eigen-decomposition for M(s), W'(s)
        self.mu, self.U = linalg.eig(self.QYY)
        self.Uinv = linalg.inv(self.U)
        self._roots = None
        self.hint = None
        self._asym = None
        self._R_exit = None
        k, kX, kY = len(lam), self.kX, len(Y)
        # the kernels' building blocks multiplied by the exit matrix once: G = (...) @ these, one BLAS call each
        self._AXX_exit = (self.AXX @ self.exit).reshape(k, kX * kY)
        self._D_exit = (self.D @ self.exit).reshape(k * k, kX * kY)

    # ----------------------------------------------------------------- Laplace side
    def W(self, s):
        m0, _ = _exp_integrals(self.mu, s, self.tres, second=False)
        M = (self.U * m0) @ self.Uinv
        return (s * np.eye(self.kX) - self.QXX - self.QXY @ M @ self.QYX).real

    def W_many(self, s):
        """``W(s)`` for an array of ``s``, shape (n, kX, kX)."""
        s = np.asarray(s, dtype=float)
        m0, _ = _exp_integrals(self.mu[None, :], s[:, None], self.tres, second=False)
        M = (self.QXY @ self.U) @ (m0[:, :, None] * (self.Uinv @ self.QYX))
        return (s[:, None, None] * np.eye(self.kX) - self.QXX - M).real

    def W_dW_many(self, s):
        """``W(s)`` and ``W'(s)`` for an array of ``s``."""
        s = np.asarray(s, dtype=float)
        m0, m1 = _exp_integrals(self.mu[None, :], s[:, None], self.tres)
        left, right = self.QXY @ self.U, self.Uinv @ self.QYX
        W = s[:, None, None] * np.eye(self.kX) - self.QXX - left @ (m0[:, :, None] * right)
        dW = np.eye(self.kX) + left @ (m1[:, :, None] * right)
        return W.real, dW.real

    def _newton(self, a, b, fa, fb, c=None):
        """Roots of det W in the brackets [a, b] (a sign change of ``fa``, ``fb``): Newton steps on det W
        (derivative det(W) tr(W^-1 W')) from ``c`` (default: a regula-falsi step), safeguarded: the bracket
        shrinks with the sign of det W at every iterate, and a step leaving it is replaced by bisection.
        Brackets not converged after 60 steps go to :func:`_illinois`."""
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        s_lo = np.sign(np.where(a <= b, fa, fb))
        if c is None:
            with np.errstate(all="ignore"):
                c = b - fb * (b - a) / (fb - fa)
        c = np.where(np.isfinite(c) & (c > lo) & (c < hi), c, 0.5 * (lo + hi))
        ok = np.zeros(c.size, bool)
        for _ in range(60):
            W, dW = self.W_dW_many(c)
            sign, _ = np.linalg.slogdet(W)
            try:
                tr = np.trace(np.linalg.solve(W, dW), axis1=1, axis2=2)
            except np.linalg.LinAlgError:                  # W exactly singular at an iterate: it is a root
                tr = np.array([np.trace(np.linalg.solve(w, d)) if sg != 0 else np.inf
                               for w, d, sg in zip(W, dW, sign)])
            live = ~ok & (sign != 0)
            above = sign == s_lo                           # the root is above c: c is the new lower end
            lo = np.where(live & above, c, lo)
            hi = np.where(live & ~above, c, hi)
            with np.errstate(all="ignore"):
                step = -1.0 / tr
            new = c + step
            inside = np.isfinite(new) & (new > lo) & (new < hi)
            # Newton's target just beyond the bracket: the sign of det W and Newton's root differ by round-off
            # (about 1e-9 relative near a root), so the nearer end is the root to that accuracy
            gap = np.where(new < lo, lo - new, new - hi)
            edge = ~inside & np.isfinite(new) & (gap <= 1e-9 * np.abs(c))
            # quadratic convergence: after a step of 1e-8 (relative) the error is ~1e-16
            done = (sign == 0) | (inside & (np.abs(step) <= 1e-8 * np.abs(c))) | edge | \
                (hi - lo <= 1e-14 * np.abs(c))
            c = np.where(ok | (sign == 0), c, np.where(inside, new, np.where(edge, np.clip(new, lo, hi),
                                                                              0.5 * (lo + hi))))
            ok |= done
            if ok.all():
                break
        if not np.all(ok):
            bad = ~ok
            c[bad] = _illinois(self._det, a[bad], b[bad], fa[bad], fb[bad])
        return c

    def _det(self, s):
        """``det(W(s) / (|s| + 1))``: the sign of det W(s), without overflow."""
        with np.errstate(over="ignore"):
            return np.linalg.det(self.W_many(s) / (np.abs(s) + 1.0)[:, None, None])

    def dW(self, s):
        _, m1 = _exp_integrals(self.mu, s, self.tres, first=False)
        M1 = (self.U * m1) @ self.Uinv
        return (np.eye(self.kX) + self.QXY @ M1 @ self.QYX).real

    def roots(self):
        """The ``kX`` roots of ``det W(s) = 0`` (ascending). ``self.hint``: roots of a nearby mechanism (the last
        likelihood evaluation's), used only when the determinant changes sign between the geometric midpoints
        of the hinted roots (and beyond them), which brackets each of the ``kX`` roots separately; otherwise
        the roots are searched on a grid."""
        if self._roots is not None:
            return self._roots
        hint = self.hint
        if hint is not None and len(hint) == self.kX and np.all(np.asarray(hint) < 0):
            g = np.sort(np.asarray(hint, dtype=float))
            edges = np.concatenate([[g[0] * 1.5], -np.sqrt(g[:-1] * g[1:]), [g[-1] / 1.5]])
            vals = self._det(edges)
            if np.all(np.sign(vals[:-1]) * np.sign(vals[1:]) < 0):
                r = self._newton(edges[:-1], edges[1:], vals[:-1], vals[1:], c=g)
                if np.all((r > edges[:-1]) & (r < edges[1:])):
                    self._roots = np.sort(r)
                    return self._roots
        ev = np.abs(np.concatenate([linalg.eigvals(self.QXX), linalg.eigvals(self.W(0.0))]))
        ev = ev[ev > 0]
        lo = max(ev.min() * 1e-3, 1e-12) if ev.size else 1e-6
        hi = min(ev.max() * 1e2, 600.0 / self.tres)

        det = self._det
        found = []
        for n in (200, 2000, 20000, 200000):
            grid = -np.logspace(math.log10(hi), math.log10(lo), n)
            vals = det(grid)
            sa, sb = np.sign(vals[:-1]), np.sign(vals[1:])
            exact_zero = grid[:-1][sa == 0]
            br = np.flatnonzero((sa != sb) & (sa != 0) & (sb != 0))
            found = list(exact_zero) + list(self._newton(grid[br], grid[br + 1], vals[br], vals[br + 1]))
            if len(found) >= self.kX:
                break
        if len(found) != self.kX:
            raise SolverError(f"HJC asymptotic roots: found {len(found)} of {self.kX} roots of det W(s) = 0 in "
                              f"[-{hi:g}, -{lo:g}] 1/s (resolution {self.tres:g} s)")
        self._roots = np.array(sorted(found))
        return self._roots

    def asymptotic_matrices(self):
        """``(s_i, R_i)``: roots and the matrices of ``AR(u) ~ sum R_i exp(s_i u)``."""
        if self._asym is not None:
            return self._asym
        roots = self.roots()
        W, dW = self.W_dW_many(roots)
        u_, _, vh = np.linalg.svd(W)                     # W = U S V^T; smallest singular value last
        c = vh[:, -1, :].conj()[:, :, None]              # right null vectors (columns)
        r = u_[:, :, -1].conj()[:, None, :]              # left null vectors (rows)
        out = (c @ r) / (r @ dW @ c)
        self._asym = (roots, np.asarray(out).real)
        return self._asym

    # ----------------------------------------------------------------- time side
    def R(self, u):
        """``AR(u)`` for an array of ``u >= 0``, shape (n, kX, kX)."""
        u = np.atleast_1d(np.asarray(u, dtype=float))
        out = np.empty((u.size, self.kX, self.kX))
        t = self.tres
        lam = self.lam
        m0 = u < t
        m1 = (u >= t) & (u < 2 * t)
        m2 = u >= 2 * t
        if m0.any() or m1.any():
            uu = u[m0 | m1]
            E = np.exp(-np.multiply.outer(uu, lam))                  # (n, k)
            exact = np.einsum("ni,iab->nab", E, self.AXX).real
            if m1.any():
                T = u[m1] - t
                d = lam[None, :] - lam[:, None]                      # d_ij = l_j - l_i
                dT = T[:, None, None] * d[None]
                small = np.abs(dT) < 1e-9
                with np.errstate(all="ignore"):
                    I = np.exp(-np.multiply.outer(T, lam))[:, :, None] * \
                        np.where(small, T[:, None, None] * (1 - dT / 2), -np.expm1(-dT) / np.where(small, 1, d[None]))
                corr = np.einsum("nij,ijab->nab", I, self.D).real
                idx1 = np.flatnonzero(m1[m0 | m1])
                exact[idx1] -= corr
            out[m0 | m1] = exact
        if m2.any():
            s, Rm = self.asymptotic_matrices()
            out[m2] = np.einsum("ni,iab->nab", np.exp(np.multiply.outer(u[m2], s)), Rm)
        return out

    def G(self, t):
        """``eG_XY(t) = AR(t - tres) Q_XY exp(Q_YY tres)``, shape (n, kX, kY), for apparent durations
        ``t >= tres`` (the same terms as :meth:`R`, with the exit matrix multiplied in beforehand)."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        if np.any(t < self.tres * (1 - 1e-12)):
            raise ArgumentError(f"apparent durations must be >= the resolution {self.tres:g} s; impose the "
                                f"resolution on the record first (records.impose_resolution)")
        u = np.maximum(t - self.tres, 0.0)
        kX, kY = self.exit.shape
        tr, lam = self.tres, self.lam
        # asymptotic form everywhere (most intervals), then the exact form where u < 2 tres
        sroots, Rm = self.asymptotic_matrices()
        if self._R_exit is None:
            self._R_exit = (Rm @ self.exit).reshape(len(sroots), kX * kY)
        out = np.exp(np.multiply.outer(u, sroots)) @ self._R_exit
        near = np.flatnonzero(u < 2 * tr)
        if near.size:
            un = u[near]
            exact = np.exp(-np.multiply.outer(un, lam)) @ self._AXX_exit
            m1 = un >= tr
            if m1.any():
                T = un[m1] - tr
                d = lam[None, :] - lam[:, None]
                dT = T[:, None, None] * d[None]
                small = np.abs(dT) < 1e-9
                with np.errstate(all="ignore"):
                    I = np.exp(-np.multiply.outer(T, lam))[:, :, None] * \
                        np.where(small, T[:, None, None] * (1 - dT / 2), -np.expm1(-dT) / np.where(small, 1, d[None]))
                exact[m1] -= I.reshape(T.size, -1) @ self._D_exit
            out[near] = exact.real
        return out.reshape(u.size, kX, kY)

    def G_integral(self):
        """``int eG_XY(t) dt = W(0)^-1 Q_XY exp(Q_YY tres)``."""
        return linalg.solve(self.W(0.0), self.exit)

    def R_tail(self, U):
        """``int_U^inf AR(u) du``: from the asymptotic form when ``U >= 2 tres``; otherwise as the exact total
        ``W(0)^-1`` minus the exact ``int_0^U AR`` (Gauss-Legendre). (For ``U < 2 tres`` this differs by the
        asymptotic form's error, ~1e-5 relative for CH82 at 20 us, from integrating the asymptotic form
        beyond ``2 tres``.)"""
        if U >= 2 * self.tres:
            s, Rm = self.asymptotic_matrices()
            return np.einsum("i,iab->ab", np.exp(s * U) / -s, Rm)
        total = linalg.inv(self.W(0.0))
        x, w = np.polynomial.legendre.leggauss(40)
        head = np.zeros((self.kX, self.kX))
        edges = [0.0, min(U, self.tres), U] if U > self.tres else [0.0, U]
        for a, b in zip(edges[:-1], edges[1:]):
            if b > a:
                nodes = (b - a) / 2 * x + (a + b) / 2
                head += np.einsum("n,nab->ab", w * (b - a) / 2, self.R(nodes))
        return total - head


class HJC:
    """Apparent open and shut times of a :class:`QMatrix` for a resolution ``tres`` (s).

    Parameters
    ----------
    q : QMatrix
    tres : float
        Resolution (dead time), s; > 0.
    roots_hint : tuple, optional
        ``(open roots, shut roots)`` of a nearby mechanism (:meth:`roots_hint` of its HJC) to start the root
        search of the asymptotic distributions from; each root is used only if the determinant brackets it
        (the ``kX`` roots of ``det W(s) = 0``, HJC92), else the grid search runs.
    """

    def __init__(self, q: QMatrix, tres: float, *, roots_hint=None):
        if not isinstance(q, QMatrix):
            raise ArgumentError(f"HJC needs a QMatrix, got {type(q).__name__}")
        try:
            tres = float(tres)
        except (TypeError, ValueError):
            raise ArgumentError(f"`tres` must be a number of seconds, got {tres!r}") from None
        if not (math.isfinite(tres) and tres > 0):
            raise ArgumentError(f"`tres` must be a positive number of seconds, got {tres!r}")
        self.q, self.tres = q, tres
        lam, V = linalg.eig(-q.Q)
        Vinv = linalg.inv(V)
        A = np.arange(q.kA)
        F = np.arange(q.kA, q.k)
        self.open = _Side(q.Q, A, F, tres, lam, V, Vinv)
        self.shut = _Side(q.Q, F, A, tres, lam, V, Vinv)
        self._pair_K = None
        if roots_hint is not None:
            if not (isinstance(roots_hint, tuple) and len(roots_hint) == 2):
                raise ArgumentError("`roots_hint` must be a pair (open roots, shut roots), as from roots_hint()")
            self.open.hint, self.shut.hint = roots_hint
        self._pair_K = None

    def roots_hint(self):
        """The asymptotic roots (open, shut) found so far, to warm-start the root search of a nearby
        mechanism: ``HJC(q2, tres, roots_hint=h.roots_hint())`` (each is validated by bracketing, so a poor
        hint costs only a grid search). None entries where not computed."""
        return (self.open._roots, self.shut._roots)

    def __repr__(self) -> str:
        return f"<HJC tres={self.tres:g} s, {self.q!r}>"

    # ----------------------------------------------------------------- kernels and vectors
    def eGAF(self, t) -> np.ndarray:
        """Semi-Markov kernel of apparent openings, ``(n, kA, kF)`` for durations ``t`` (s)."""
        return self.open.G(t)

    def eGFA(self, t) -> np.ndarray:
        """Semi-Markov kernel of apparent shuttings, ``(n, kF, kA)``."""
        return self.shut.G(t)

    def pair_kernels(self, t_open, t_shut) -> np.ndarray:
        """``eG_AF(t_open[n]) eG_FA(t_shut[n])`` for pairs of apparent durations, ``(n, kA, kA)``. Where both
        are in the asymptotic range (``t >= 3 tres``) this is ``sum_ij exp(s_i u_n + r_j v_n) K_ij`` with the
        ``kA kF`` matrices ``K_ij`` formed once (one matrix product for all pairs); the other pairs are
        multiplied from :meth:`eGAF` and :meth:`eGFA`."""
        return self._pair_kernels_T(t_open, t_shut).transpose(2, 0, 1)

    def _pair_kernels_T(self, t_open, t_shut) -> np.ndarray:
        """:meth:`pair_kernels` as ``(kA, kA, n)`` (pairs last: fast batched products and reductions)."""
        t_open = np.atleast_1d(np.asarray(t_open, dtype=float))
        t_shut = np.atleast_1d(np.asarray(t_shut, dtype=float))
        if t_open.shape != t_shut.shape:
            raise ArgumentError("`t_open` and `t_shut` must have the same length (one pair each)")
        if np.any(t_open < self.tres * (1 - 1e-12)) or np.any(t_shut < self.tres * (1 - 1e-12)):
            raise ArgumentError(f"apparent durations must be >= the resolution {self.tres:g} s; impose the "
                                f"resolution on the record first (records.impose_resolution)")
        kA, kF = self.q.kA, self.q.kF
        s, RA = self.open.asymptotic_matrices()
        r, RF = self.shut.asymptotic_matrices()
        if self._pair_K is None:
            KA = RA @ self.open.exit                       # (kA roots, kA, kF)
            KF = RF @ self.shut.exit                       # (kF roots, kF, kA)
            self._pair_K = np.einsum("iab,jbc->acij", KA, KF).reshape(kA * kA, kA * kF)
        n = t_open.size
        eo = np.exp(np.multiply.outer(s, t_open - self.tres))          # (kA, n)
        es = np.exp(np.multiply.outer(r, t_shut - self.tres))          # (kF, n)
        out = (self._pair_K @ (eo[:, None, :] * es[None, :, :]).reshape(kA * kF, n)).reshape(kA, kA, n)
        near = np.flatnonzero((t_open < 3 * self.tres) | (t_shut < 3 * self.tres))
        if near.size:
            out[:, :, near] = (self.open.G(t_open[near]) @ self.shut.G(t_shut[near])).transpose(1, 2, 0)
        return out

    def phi_open(self) -> np.ndarray:
        """Equilibrium distribution of the state in which an apparent opening starts (HJC92)."""
        M = self.open.G_integral() @ self.shut.G_integral()
        w, vl = linalg.eig(M.T)
        v = np.real(vl[:, np.argmin(np.abs(w - 1))])
        return v / v.sum()

    def phi_shut(self) -> np.ndarray:
        """Equilibrium distribution of the state in which an apparent shutting starts."""
        v = self.phi_open() @ self.open.G_integral()
        return v / v.sum()

    def chs_vectors(self, tcrit: float):
        """CHS96 start vector (over open states) and end vector (over shut states) for groups separated by
        apparent shut times longer than ``tcrit`` (s)."""
        tcrit = float(tcrit)
        if not tcrit > self.tres:
            raise ArgumentError(f"`tcrit` ({tcrit:g} s) must exceed the resolution ({self.tres:g} s)")
        Ft = self.shut.R_tail(tcrit - self.tres) @ self.shut.exit
        start = self.phi_shut() @ Ft
        return start / start.sum(), Ft @ np.ones(self.q.kA)

    # ----------------------------------------------------------------- distributions
    def open_pdf(self, t) -> np.ndarray:
        """Apparent open-time pdf ``phi_A eG_AF(t) u_F`` (1/s) at ``t >= tres``; exact for ``t < 3 tres``."""
        return self.phi_open() @ self.eGAF(t) @ np.ones(self.q.kF)

    def shut_pdf(self, t) -> np.ndarray:
        """Apparent shut-time pdf ``phi_F eG_FA(t) u_A`` (1/s)."""
        return self.phi_shut() @ self.eGFA(t) @ np.ones(self.q.kA)

    def _asymptotic(self, side, phi, n_other) -> ExponentialMixture:
        s, Rm = side.asymptotic_matrices()
        w = np.array([phi @ R @ side.exit @ np.ones(n_other) for R in Rm])   # coefficient of exp(s (t - tres))
        taus = -1.0 / s
        order = np.argsort(taus)
        return ExponentialMixture(tuple(taus[order]), tuple((w * taus)[order]), offset=self.tres)

    def open_asymptotic(self) -> ExponentialMixture:
        """HJC92 asymptotic apparent open-time pdf: ``kA`` components of ``exp(-(t - tres)/tau)`` for
        ``t >= tres``; areas are integrals from ``tres`` to infinity (they need not sum exactly to 1)."""
        return self._asymptotic(self.open, self.phi_open(), self.q.kF)

    def shut_asymptotic(self) -> ExponentialMixture:
        """HJC92 asymptotic apparent shut-time pdf (``kF`` components), as :meth:`open_asymptotic`."""
        return self._asymptotic(self.shut, self.phi_shut(), self.q.kA)

    def _mean(self, side, phi, n_other) -> float:
        W0 = linalg.inv(side.W(0.0))
        v = side.exit @ np.ones(n_other)
        return self.tres + float(phi @ W0 @ side.dW(0.0) @ W0 @ v)

    def mean_open_time(self) -> float:
        """Exact mean apparent open time (s): ``tres + phi_A W(0)^-1 W'(0) W(0)^-1 Q_AF exp(Q_FF tres) u_F``."""
        return self._mean(self.open, self.phi_open(), self.q.kF)

    def mean_shut_time(self) -> float:
        """Exact mean apparent shut time (s)."""
        return self._mean(self.shut, self.phi_shut(), self.q.kA)
