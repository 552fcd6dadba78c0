"""The compiled form of a stimulation protocol: segments, input terms and state jumps.

A :class:`Schedule` is what the solvers consume. It splits ``[t0, t_end]`` into
segments at every breakpoint of the protocol; inside a segment every input is
smooth, so the solvers restart at each boundary and never step across a
discontinuity.

Inside segment ``s`` (``boundaries[s] <= t < boundaries[s+1]``) input ``i`` is::

    u_i(t) = const[s, i] + sum over terms k of segment s with term_input[k] == i of
             (p_k + q_k * (t - t_ref_k)) * exp(-rate_k * (t - t_ref_k))

with ``term_data[k] = (t_ref_k, rate_k, p_k, q_k)``. Constants give square pulses
and voltage steps, ``rate > 0`` gives exponential kernels (a back-propagating AP,
a wash-in), ``q != 0`` gives alpha functions and (with ``rate == 0``) linear
ramps. Inputs are right-continuous: at a boundary the next segment's value holds.

State jumps (``y[j] += value`` or ``y[j] = value``) are applied at the *start*
of segment ``s``, i.e. at time ``boundaries[s]``, before integration of that
segment; outputs requested exactly at that time see the state after the jump.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Schedule", "JUMP_ADD", "JUMP_SET"]

JUMP_ADD = 0
JUMP_SET = 1


@dataclass(frozen=True, eq=False)
class Schedule:
    """Segments, input terms and jumps of a protocol on ``[boundaries[0], boundaries[-1]]``.

    Attributes
    ----------
    inputs : tuple of str
        Input names; column order of :attr:`const`.
    boundaries : ndarray, shape (n_seg + 1,)
        Strictly increasing segment boundaries; first is ``t0``, last is ``t_end``.
    const : ndarray, shape (n_seg, n_inputs)
        Constant part of each input in each segment.
    term_ptr : ndarray of int32, shape (n_seg + 1,)
        CSR pointer: the terms of segment ``s`` are ``term_ptr[s]:term_ptr[s+1]``.
    term_input : ndarray of int32, shape (n_terms,)
        Input index each term adds to.
    term_data : ndarray, shape (n_terms, 4)
        ``(t_ref, rate, p, q)`` of each term.
    jump_ptr : ndarray of int32, shape (n_seg + 1,)
        CSR pointer: the jumps at the start of segment ``s`` are ``jump_ptr[s]:jump_ptr[s+1]``.
    jump_target : tuple of str, length n_jumps
        Species name each jump changes.
    jump_kind : ndarray of int32, shape (n_jumps,)
        ``JUMP_ADD`` (0) or ``JUMP_SET`` (1).
    jump_value : ndarray, shape (n_jumps,)
        Amount added, or value set.
    """

    inputs: tuple
    boundaries: np.ndarray
    const: np.ndarray
    term_ptr: np.ndarray
    term_input: np.ndarray
    term_data: np.ndarray
    jump_ptr: np.ndarray
    jump_target: tuple
    jump_kind: np.ndarray
    jump_value: np.ndarray

    @property
    def n_segments(self) -> int:
        return len(self.boundaries) - 1

    @property
    def t0(self) -> float:
        return float(self.boundaries[0])

    @property
    def t_end(self) -> float:
        return float(self.boundaries[-1])

    def segment_of(self, t) -> np.ndarray:
        """Index of the segment holding each time (right-continuous; ``t_end`` is in the last)."""
        t = np.asarray(t, dtype=float)
        seg = np.searchsorted(self.boundaries, t, side="right") - 1
        return np.clip(seg, 0, self.n_segments - 1)

    def segment_inputs(self, s: int, t) -> np.ndarray:
        """Input values at time(s) ``t`` using the terms of segment ``s``; shape ``t.shape + (n_inputs,)``."""
        t = np.asarray(t, dtype=float)
        out = np.broadcast_to(self.const[s], t.shape + (len(self.inputs),)).copy()
        for k in range(self.term_ptr[s], self.term_ptr[s + 1]):
            t_ref, rate, p, q = self.term_data[k]
            dt = t - t_ref
            out[..., self.term_input[k]] += (p + q * dt) * np.exp(-rate * dt)
        return out

    def input_values(self, t) -> np.ndarray:
        """Input values at times ``t`` (1-D), shape ``(len(t), n_inputs)``; right-continuous."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        seg = self.segment_of(t)
        const = np.asarray(self.const, dtype=float).reshape(self.n_segments, len(self.inputs))
        out = const[seg]                                   # the constant part, vectorised over all times
        ptr = np.asarray(self.term_ptr)
        n_terms = np.diff(ptr)[seg]
        with_terms = np.flatnonzero(n_terms)
        if with_terms.size:                                # exponential-polynomial terms, only where there are
            data = np.asarray(self.term_data, dtype=float).reshape(-1, 4)
            for s in np.unique(seg[with_terms]):
                idx = with_terms[seg[with_terms] == s]
                for k in range(ptr[s], ptr[s + 1]):
                    t_ref, rate, p, q = data[k]
                    dt = t[idx] - t_ref
                    out[idx, self.term_input[k]] += (p + q * dt) * np.exp(-rate * dt)
        return out
