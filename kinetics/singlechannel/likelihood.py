"""The HJC likelihood of an idealized single-channel record.

A record, at a resolution ``tres`` (every interval >= ``tres``), is split into groups ("bursts") of apparent
open and shut times, each group starting and ending with an opening, separated by shut times longer than
``tcrit`` (or by unusable stretches). The likelihood of one group ``(t1 open, t2 shut, ..., tn open)`` is

    L = phi  eG_AF(t1) eG_FA(t2) eG_AF(t3) ... eG_AF(tn)  e

(Colquhoun, Hawkes & Srodzinski 1996, eq. 5.1 in spirit), with ``phi`` and ``e`` the equilibrium vectors
(``phi_A`` and ``u_F``, for a whole record or when ``tcrit`` is None) or the CHS vectors conditional on the
shut times around each group being longer than ``tcrit`` (CHS96 section 5; see :mod:`.hjc`). The log-likelihood
is the sum over groups. The kernels are in :mod:`.hjc` (Hawkes, Jalali & Colquhoun 1990, 1992).

The matrix products are evaluated for all groups at once by pairwise reduction (groups of similar length
together), each partial product rescaled to a maximum of 1 and the logs of the scale factors summed, so long
groups neither overflow nor underflow.

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
        self.pair_open = open_rank[is_open & ~last]      # pair i: opening pair_open[i] then shutting i
        self.last_open = open_rank[last]                 # the last opening of each group
        first_pair = np.concatenate([[0], np.cumsum(n_pairs)[:-1]])
        # groups of similar length are reduced together (padded with identities): buckets of 0, 1-2, 3-6, ...
        order = np.argsort(n_pairs, kind="stable")
        key = np.floor(np.log2(n_pairs[order] + 1)).astype(int)
        cuts = np.concatenate([[0], np.flatnonzero(np.diff(key)) + 1, [order.size]])
        self.buckets = []
        for i, j in zip(cuts[:-1], cuts[1:]):
            idx = order[i:j]
            mmax = max(int(n_pairs[idx].max()), 1)
            col = np.arange(mmax)
            valid = col[None, :] < n_pairs[idx][:, None]
            gather = (first_pair[idx][:, None] + col[None, :])[valid]
            self.buckets.append((idx, mmax, valid, gather))

    def __call__(self, q) -> float:
        """Natural log-likelihood under ``q`` (a QMatrix, or an HJC with this resolution)."""
        if isinstance(q, HJC):
            h = q
            if not math.isclose(self.tres, h.tres, rel_tol=1e-12):
                raise ArgumentError(f"the HJC object's resolution ({h.tres}) differs from the record's ({self.tres})")
        elif isinstance(q, QMatrix):
            h = HJC(q, self.tres)
        else:
            raise ArgumentError(f"a likelihood needs a QMatrix or an HJC object, got {type(q).__name__}")
        if self.tcrit is None:
            start, end = h.phi_open(), np.ones(h.q.kF)
        else:
            start, end = h.chs_vectors(self.tcrit)
        kA = h.q.kA
        GA = h.eGAF(self.t_open)                          # (n_open, kA, kF), in record order
        P = GA[self.pair_open] @ h.eGFA(self.t_shut) if self.t_shut.size else np.zeros((0, kA, kA))
        tail = GA[self.last_open] @ end                   # (n_groups, kA): last opening and end vector
        eye = np.eye(kA)
        total = 0.0
        for idx, mmax, valid, gather in self.buckets:
            if mmax == 1 and valid.all():
                M = P[gather][:, None]
            else:
                M = np.broadcast_to(eye, (idx.size, mmax, kA, kA)).copy()
                M[valid] = P[gather]
            logs = np.zeros(idx.size)
            while M.shape[1] > 1:
                if M.shape[1] % 2:
                    M = np.concatenate([M, np.broadcast_to(eye, (idx.size, 1, kA, kA))], axis=1)
                M = M[:, 0::2] @ M[:, 1::2]
                sc = M.reshape(idx.size, M.shape[1], -1).max(axis=2)    # entries are >= 0
                if not np.all(sc > 0):
                    return -math.inf
                logs += np.log(sc).sum(axis=1)
                M /= sc[:, :, None, None]
            x = np.einsum("a,gab,gb->g", start, M[:, 0], tail[idx])
            if not np.all(x > 0):
                return -math.inf
            total += float(logs.sum() + np.log(x).sum())
        return total


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
