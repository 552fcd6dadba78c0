"""The HJC likelihood of an idealized single-channel record.

A record, at a resolution ``tres`` (every interval >= ``tres``), is split into groups ("bursts") of apparent
open and shut times, each group starting and ending with an opening, separated by shut times longer than
``tcrit`` (or by unusable stretches). The likelihood of one group ``(t1 open, t2 shut, ..., tn open)`` is

    L = phi  eG_AF(t1) eG_FA(t2) eG_AF(t3) ... eG_AF(tn)  e

(Colquhoun, Hawkes & Srodzinski 1996, eq. 5.1 in spirit), with ``phi`` and ``e`` the equilibrium vectors
(``phi_A`` and ``u_F``, for a whole record or when ``tcrit`` is None) or the CHS vectors conditional on the
shut times around each group being longer than ``tcrit`` (CHS96 section 5; see :mod:`.hjc`). The log-likelihood
is the sum over groups. The kernels are in :mod:`.hjc` (Hawkes, Jalali & Colquhoun 1990, 1992).

All groups are evaluated by one product: the pairs ``eG_AF(t_open) eG_FA(t_shut)`` of every group
(:meth:`.HJC.pair_kernels`, one matrix product for all pairs in the asymptotic range), each group closed by the
rank-1 matrix ``(eG_AF(t_last) e) phi``, so that ``phi (chain) u`` is the product of the groups' likelihoods
(``phi u = 1``). The chain is reduced by pairwise products (log2 n batched matrix products, no loop over
intervals), the partial products rescaled to a maximum entry of 1 every few levels and the logs of the scale
factors summed, so long records neither overflow nor underflow. The roots of the asymptotic distributions are
warm-started from the previous evaluation's (see :meth:`.HJC.roots_hint`).

Examples
--------
>>> from kinetics.singlechannel import QMatrix, log_likelihood
>>> q = QMatrix([[-400.0, 400.0], [100.0, -100.0]], n_open=1)
>>> round(log_likelihood(q, [[3e-3, 1e-2, 2e-3]], tres=1e-4), 3)
13.676
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..errors import ArgumentError
from .hjc import HJC
from .qmatrix import QMatrix

__all__ = ["log_likelihood", "check_bursts", "RecordLikelihood"]


def check_bursts(bursts, tres: float | None = None) -> list:
    """Validate groups of intervals: a list of 1-d arrays of odd length (open, shut, ..., open), positive and
    finite, every interval >= ``tres`` (when given). Returns the arrays."""
    if isinstance(bursts, np.ndarray) and bursts.ndim == 1:
        bursts = [bursts]
    try:
        items = list(bursts)
    except TypeError:
        raise ArgumentError("bursts must be a sequence of sequences of interval durations (s)") from None
    if not items:
        raise ArgumentError("no bursts: the record has no usable group of intervals")
    out = []
    for n, b in enumerate(items):
        try:
            a = np.asarray(b, dtype=float).ravel()
        except (TypeError, ValueError):
            raise ArgumentError(f"burst {n} must be a sequence of durations (s)") from None
        if a.size == 0:
            raise ArgumentError(f"burst {n} is empty")
        if a.size % 2 == 0:
            raise ArgumentError(f"burst {n} has {a.size} intervals: a burst starts and ends with an opening, so it "
                                f"has an odd number (open, shut, ..., open)")
        out.append(a)
    flat = np.concatenate(out)
    owner = np.repeat(np.arange(len(out)), [a.size for a in out])
    offset = np.concatenate([[0], np.cumsum([a.size for a in out])[:-1]])
    bad = ~np.isfinite(flat) | (flat <= 0)
    if tres is not None:
        short = flat < tres * (1 - 1e-9)
    else:
        short = np.zeros_like(bad)
    if np.any(bad | short):
        k = int(np.flatnonzero(bad | short)[0])
        n, i = int(owner[k]), int(k - offset[owner[k]])
        if bad[k]:
            raise ArgumentError(f"burst {n}, interval {i}: duration {flat[k]:g} s is not a positive finite number")
        raise ArgumentError(f"burst {n}, interval {i}: duration {flat[k]:g} s is shorter than the resolution "
                            f"{tres:g} s; impose the resolution first (records.impose_resolution)")
    return out


class RecordLikelihood:
    """The log-likelihood of fixed groups of apparent intervals, prepared once (index bookkeeping, buckets of
    groups of similar length) and evaluated for any mechanism: ``RecordLikelihood(bursts, tres, tcrit)(q)``.

    >>> from kinetics.singlechannel import QMatrix
    >>> like = RecordLikelihood([[3e-3, 1e-2, 2e-3]], tres=1e-4)
    >>> round(like(QMatrix([[-400.0, 400.0], [100.0, -100.0]], n_open=1)), 3)
    13.676
    """

    def __init__(self, bursts, tres: float, tcrit: float | None = None, *, checked: bool = False):
        tres = float(tres)
        if not (math.isfinite(tres) and tres > 0):
            raise ArgumentError(f"`tres` must be a positive number of seconds, got {tres!r}")
        self.tres, self.tcrit = tres, (None if tcrit is None else float(tcrit))
        groups = bursts if checked else check_bursts(bursts, tres)
        self.n_groups = len(groups)
        lengths = np.array([g.size for g in groups])
        flat = np.concatenate(groups)
        self.n_intervals = flat.size
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        pos = np.arange(flat.size) - np.repeat(offsets, lengths)          # position inside its group
        is_open = pos % 2 == 0
        self.t_open, self.t_shut = flat[is_open], flat[~is_open]
        n_pairs = (lengths - 1) // 2
        open_rank = np.cumsum(is_open) - 1
        last = np.repeat(lengths - 1, lengths) == pos
        pair_open = open_rank[is_open & ~last]           # pair i: opening pair_open[i] then shutting i
        last_open = open_rank[last]                      # the last opening of each group
        self.t_pair_open, self.t_last_open = self.t_open[pair_open], self.t_open[last_open]
        # one chain of kA x kA matrices for the whole record: each group's pairs (opening then shutting)
        # followed by the rank-1 matrix  tail_g start^T  (tail_g: the group's last opening times the end
        # vector). As start^T u = 1, start^T (chain) u is the product over groups of
        # start^T P_1 ... P_m tail_g: every group's likelihood from one product.
        n_chain = int(n_pairs.sum()) + self.n_groups
        ends = np.cumsum(n_pairs + 1) - 1
        self.chain_group = ends                          # positions of the group boundaries
        self.chain_pair = np.setdiff1d(np.arange(n_chain), ends, assume_unique=True)
        self.n_chain = n_chain
        # pair durations in chain order; the group boundaries get placeholders (asymptotic range, overwritten)
        self.t_chain_open = np.full(n_chain, 4 * tres)
        self.t_chain_shut = np.full(n_chain, 4 * tres)
        self.t_chain_open[self.chain_pair] = self.t_pair_open
        self.t_chain_shut[self.chain_pair] = self.t_shut
        self._roots = None                               # roots of the last evaluation: warm start

    def __call__(self, q) -> float:
        """Natural log-likelihood under ``q`` (a QMatrix, or an HJC with this resolution)."""
        if isinstance(q, HJC):
            h = q
            if not math.isclose(self.tres, h.tres, rel_tol=1e-12):
                raise ArgumentError(f"the HJC object's resolution ({h.tres}) differs from the record's ({self.tres})")
        elif isinstance(q, QMatrix):
            h = HJC(q, self.tres, roots_hint=self._roots)
        else:
            raise ArgumentError(f"a likelihood needs a QMatrix or an HJC object, got {type(q).__name__}")
        if self.tcrit is None:
            start, end = h.phi_open(), np.ones(h.q.kF)
        else:
            start, end = h.chs_vectors(self.tcrit)
        kA = h.q.kA
        # the chain with the matrices last, (kA, kA, n): batched products and reductions run along n
        C = h._pair_kernels_T(self.t_chain_open, self.t_chain_shut)
        tail = h.eGAF(self.t_last_open) @ end                      # (n_groups, kA)
        C[:, :, self.chain_group] = tail.T[:, None, :] * start[None, :, None]
        self._roots = h.roots_hint()
        log_l = _chain_log_product(C, start, every=3)
        if log_l is None:                                 # under/overflow between rescalings: every level
            log_l = _chain_log_product(C, start, every=1)
        return -math.inf if log_l is None else log_l


def _chain_log_product(C, start, every):
    """``log(start^T C_1 C_2 ... C_n u)`` for a stack ``C`` of shape ``(k, k, n)``, by pairwise products (an
    odd one out is carried to the next level); each matrix is first scaled to a maximum entry of 1 and the
    partial products are rescaled every ``every`` levels, the logs of the scale factors summed. None if a
    scale is not positive and finite (so the caller can retry rescaling every level), or if the result is
    not positive."""
    k = C.shape[0]
    sc = C.reshape(k * k, -1).max(axis=0)
    if not np.all((sc > 0) & np.isfinite(sc)):
        return None
    logs = float(np.log(sc).sum())
    M = C / sc
    level = 0
    while M.shape[2] > 1:
        n = M.shape[2]
        P = np.einsum("ikn,kjn->ijn", M[:, :, 0:n - 1:2], M[:, :, 1::2])
        M = np.concatenate([P, M[:, :, n - 1:]], axis=2) if n % 2 else P
        level += 1
        if level % every == 0 or M.shape[2] == 1:
            sc = M.reshape(k * k, -1).max(axis=0)
            if not np.all((sc > 0) & np.isfinite(sc)):
                return None
            logs += float(np.log(sc).sum())
            M = M / sc
    x = float(start @ M[:, :, 0].sum(axis=1))
    if not x > 0:
        return None
    return logs + math.log(x)


def log_likelihood(q: QMatrix | HJC, bursts: Sequence, tres: float | None = None, tcrit: float | None = None,
                   *, checked: bool = False) -> float:
    """Natural log-likelihood of groups of apparent intervals (s) under the mechanism ``q`` at resolution
    ``tres``: CHS vectors when ``tcrit`` is given, else equilibrium vectors. (For repeated evaluations on the
    same record, build a :class:`RecordLikelihood` once.)

    Parameters
    ----------
    q : QMatrix or HJC
        The mechanism (an :class:`~kinetics.singlechannel.hjc.HJC` carries its own ``tres``).
    bursts : sequence of sequences
        Each group: apparent durations ``open, shut, ..., open`` (s), all >= ``tres``.
    tres, tcrit : float
        Resolution and critical shut time (s).

    Returns
    -------
    float
        ``sum log L`` (natural log; ``-inf`` if a group has zero likelihood).
    """
    if isinstance(q, HJC):
        if tres is not None and not math.isclose(float(tres), q.tres, rel_tol=1e-12):
            raise ArgumentError(f"`tres` ({tres}) differs from the HJC object's ({q.tres})")
        tres = q.tres
    elif isinstance(q, QMatrix):
        if tres is None:
            raise ArgumentError("give the resolution `tres` (s)")
    else:
        raise ArgumentError(f"log_likelihood needs a QMatrix or an HJC object, got {type(q).__name__}")
    return RecordLikelihood(bursts, tres, tcrit, checked=checked)(q)
