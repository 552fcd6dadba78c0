"""Assembly of a :class:`~kinetics.protocol.schedule.Schedule` from the pieces and jumps of a protocol's components.

Every component describes its effect on an input as *pieces* ``(p + q*(t - on)) * exp(-rate*(t - on))`` on
``[on, off)`` (:class:`~kinetics.protocol._component._Piece`). The assembly, on a grid of segment boundaries:

1. groups the pieces by (input, rate, clamp?) — each group becomes at most one term per segment;
2. folds every piece into the segments it covers, rebased to each segment's start (:func:`_fold_pieces`);
   pieces lasting past the window are folded once, at their first segment,
3. and carried forward segment by segment (:func:`_carry_open_ended`), dropping what has decayed to nothing;
4. takes the constant part of each input: its clamp (or default) plus the additive rate-0 groups
   (:func:`_constant_part`);
5. keeps, per segment, the exponential and linear terms that are not negligible over the rest of the window
   (:func:`_term_columns`, :func:`_pack_terms`) in CSR layout;
6. orders the jumps by segment, time and protocol order (:func:`_assemble_jumps`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np

from ..errors import ProtocolError, did_you_mean
from ._component import _Component
from ._grid import _Grid
from ._jumps import _JUMP_MODES, Jumps
from ._validate import _values
from .schedule import Schedule

#: Terms whose magnitude over the rest of the simulation is below this are dropped.
_NEGLIGIBLE = 1e-300


def check_targets(components: Sequence[_Component], inputs: tuple, states: tuple) -> None:
    """Refuse components that drive an input not in ``inputs`` or jump a species not in ``states``."""
    for c in components:
        if isinstance(c, Jumps):
            if c.species not in states:
                raise ProtocolError(f"protocol jumps unknown species `{c.species}`"
                                    f"{did_you_mean(c.species, states)}")
        elif c.input not in inputs:
            raise ProtocolError(f"protocol drives unknown input `{c.input}`"
                                f"{did_you_mean(c.input, inputs)}")


def build_schedule(components: Sequence[_Component], grid: _Grid, inputs: tuple, default: np.ndarray) -> Schedule:
    """The read-only :class:`Schedule` of checked components on ``grid``, inputs in the order of ``inputs``."""
    pieces = [pc for c in components for pc in c._pieces()]
    const, term_ptr, term_input, term_data = _assemble_inputs(pieces, grid, inputs, default)
    jump_ptr, jump_target, jump_kind, jump_value = _assemble_jumps(components, grid)
    return Schedule(
        inputs=inputs,
        boundaries=_readonly(grid.boundaries.copy()),
        const=_readonly(const),
        term_ptr=_readonly(term_ptr),
        term_input=_readonly(term_input),
        term_data=_readonly(term_data),
        jump_ptr=_readonly(jump_ptr),
        jump_target=jump_target,
        jump_kind=_readonly(jump_kind),
        jump_value=_readonly(jump_value),
    )


# --------------------------------------------------------------------------- inputs


class _Groups(NamedTuple):
    """One group per ``(input column, rate, clamp?)``: all its pieces fold into one term per segment."""

    keys: list     # sorted keys; group g is keys[g]
    index: dict    # key -> g


@dataclass
class _Folded:
    """Pieces folded into segments: per segment and group, ``p`` and ``q`` rebased to the segment start."""

    total_p: np.ndarray      # (n_seg, n_groups): pieces ending inside the window, in every segment they cover
    total_q: np.ndarray      # (after carrying forward: every piece)
    start_p: np.ndarray      # (n_seg, n_groups): open-ended pieces, only at their first segment
    start_q: np.ndarray
    open_ended: np.ndarray   # (n_groups,) bool: the group has open-ended pieces
    clamp_count: np.ndarray  # (n_seg + 1, n_inputs): +1 where a clamp piece starts, -1 where it ends


def _assemble_inputs(pieces: list, grid: _Grid, inputs: tuple, default: np.ndarray):
    """``const``, ``term_ptr``, ``term_input``, ``term_data`` of a schedule."""
    B = grid.boundaries
    col = {name: i for i, name in enumerate(inputs)}
    remaining = B[-1] - B[:-1]
    keys = sorted({(col[pc.input], pc.rate, pc.base) for pc in pieces})
    groups = _Groups(keys, {key: g for g, key in enumerate(keys)})
    folded = _fold_pieces(pieces, grid, col, groups, len(inputs))
    _carry_open_ended(folded, groups, B, remaining)
    const = _constant_part(folded, groups, default)
    columns = _term_columns(folded, groups, len(inputs), remaining)
    term_ptr, term_input, term_data = _pack_terms(columns, B)
    return const, term_ptr, term_input, term_data


def _fold_pieces(pieces: list, grid: _Grid, col: dict, groups: _Groups, n_in: int) -> _Folded:
    """Fold every piece into the segments it covers (open-ended ones into their first segment only)."""
    B = grid.boundaries
    n_seg = B.size - 1
    n_g = len(groups.keys)
    out = _Folded(np.zeros((n_seg, n_g)), np.zeros((n_seg, n_g)), np.zeros((n_seg, n_g)), np.zeros((n_seg, n_g)),
                  np.zeros(n_g, dtype=bool), np.zeros((n_seg + 1, n_in), dtype=np.int64))
    for pc in pieces:
        if pc.on.size == 0:
            continue
        i = col[pc.input]
        g = groups.index[(i, pc.rate, pc.base)]
        a = np.maximum(grid.index(pc.on), 0)
        b = grid.index(pc.off)
        forever = b >= n_seg
        b = np.minimum(b, n_seg)
        live = a < b
        if pc.base:
            np.add.at(out.clamp_count[:, i], a[live], 1)
            np.add.at(out.clamp_count[:, i], b[live], -1)
        # Pieces lasting to the end: fold once, at their first segment; carried forward by _carry_open_ended.
        f = live & forever
        if f.any():
            x = B[a[f]] - pc.on[f]
            e = np.exp(-pc.rate * x)
            np.add.at(out.start_p[:, g], a[f], (pc.p[f] + pc.q[f] * x) * e)
            np.add.at(out.start_q[:, g], a[f], pc.q[f] * e)
            out.open_ended[g] = True
        # Pieces that end inside the window: fold into each segment they cover.
        m = np.flatnonzero(live & ~forever)
        if m.size:
            length = b[m] - a[m]
            k = np.repeat(m, length)
            seg = np.repeat(a[m], length) + (np.arange(length.sum())
                                             - np.repeat(np.cumsum(length) - length, length))
            x = B[seg] - pc.on[k]
            e = np.exp(-pc.rate * x)
            np.add.at(out.total_p[:, g], seg, (pc.p[k] + pc.q[k] * x) * e)
            np.add.at(out.total_q[:, g], seg, pc.q[k] * e)
    return out


def _carry_open_ended(folded: _Folded, groups: _Groups, B: np.ndarray, remaining: np.ndarray) -> None:
    """Add the open-ended pieces to every segment after their first, decayed; zero what became negligible."""
    n_seg = B.size - 1
    gaps = np.diff(B)
    for g in np.flatnonzero(folded.open_ended):
        rate = groups.keys[g][1]
        if rate == 0 and not folded.start_q[:, g].any():
            folded.total_p[:, g] += np.cumsum(folded.start_p[:, g])
            continue
        decay = np.exp(-rate * gaps).tolist()
        gap = gaps.tolist()
        cap = 1.0 / (math.e * rate) if rate > 0 else math.inf
        rem = remaining.tolist()
        sp, sq = folded.start_p[:, g].tolist(), folded.start_q[:, g].tolist()
        out_p, out_q = [0.0] * n_seg, [0.0] * n_seg
        p = q = 0.0
        for s in range(n_seg):
            if s:
                k = decay[s - 1]
                p = (p + q * gap[s - 1]) * k
                q = q * k
            p += sp[s]
            q += sq[s]
            if rate > 0 and abs(p) + abs(q) * min(rem[s], cap) < _NEGLIGIBLE:
                p = q = 0.0
            out_p[s] = p
            out_q[s] = q
        folded.total_p[:, g] += out_p
        folded.total_q[:, g] += out_q


def _constant_part(folded: _Folded, groups: _Groups, default: np.ndarray) -> np.ndarray:
    """``const``: the baseline (clamp where one holds, else the default) plus the rate-0 additive groups."""
    n_seg = folded.total_p.shape[0]
    const = np.tile(default, (n_seg, 1))
    clamped = np.cumsum(folded.clamp_count, axis=0)[:n_seg] > 0
    for (i, rate, base), g in groups.index.items():
        if base:
            const[:, i] = np.where(clamped[:, i], folded.total_p[:, g], default[i])
    for (i, rate, base), g in groups.index.items():
        if rate == 0 and not base:
            const[:, i] += folded.total_p[:, g]
    return const


class _Columns(NamedTuple):
    """Candidate terms, one column per (input, rate): per column its input and rate, per segment p, q, keep."""

    input: list
    rate: list
    p: list
    q: list
    keep: list


def _term_columns(folded: _Folded, groups: _Groups, n_in: int, remaining: np.ndarray) -> _Columns:
    """Candidate terms by input, then rate; the rate-0 slopes of an input are merged into one column."""
    n_seg = folded.total_p.shape[0]
    tot_p, tot_q = folded.total_p, folded.total_q
    cols = _Columns([], [], [], [], [])
    for i in range(n_in):
        zero = [g for (j, rate, _), g in groups.index.items() if j == i and rate == 0]
        if zero:
            q0 = tot_q[:, zero].sum(axis=1)
            cols.input.append(i)
            cols.rate.append(0.0)
            cols.p.append(np.zeros(n_seg))
            cols.q.append(q0)
            cols.keep.append(np.abs(q0) * remaining >= _NEGLIGIBLE)
        for (j, rate, _), g in sorted(groups.index.items()):
            if j == i and rate > 0:
                p, q = tot_p[:, g], tot_q[:, g]
                bound = np.abs(p) + np.abs(q) * np.minimum(remaining, 1.0 / (math.e * rate))
                cols.input.append(i)
                cols.rate.append(rate)
                cols.p.append(p)
                cols.q.append(q)
                cols.keep.append(bound >= _NEGLIGIBLE)
    return cols


def _pack_terms(cols: _Columns, B: np.ndarray):
    """``term_ptr``, ``term_input``, ``term_data`` (CSR by segment) of the terms worth keeping."""
    n_seg = B.size - 1
    if cols.input:
        keep = np.column_stack(cols.keep)
        rows, c = np.nonzero(keep)
        pm, qm = np.column_stack(cols.p), np.column_stack(cols.q)
        term_data = np.column_stack([B[rows], np.asarray(cols.rate)[c], pm[rows, c], qm[rows, c]])
        term_input = np.asarray(cols.input, dtype=np.int32)[c]
        per_seg = keep.sum(axis=1)
    else:
        term_data = np.empty((0, 4))
        term_input = np.empty(0, dtype=np.int32)
        per_seg = np.zeros(n_seg, dtype=np.int64)
    term_ptr = np.concatenate([[0], np.cumsum(per_seg)]).astype(np.int32)
    return term_ptr, term_input.astype(np.int32), term_data.reshape(-1, 4)


# --------------------------------------------------------------------------- jumps


def _assemble_jumps(components: Sequence[_Component], grid: _Grid):
    """``jump_ptr``, ``jump_target``, ``jump_kind``, ``jump_value`` of a schedule."""
    n_seg = grid.boundaries.size - 1
    t_parts, kind_parts, value_parts, targets = [np.empty(0)], [np.empty(0, np.int32)], [np.empty(0)], []
    for c in components:
        if isinstance(c, Jumps):
            t = np.asarray(c.times, dtype=float)
            t_parts.append(t)
            kind_parts.append(np.full(t.size, _JUMP_MODES[c.mode], dtype=np.int32))
            value_parts.append(_values(c.amount, t.size))
            targets.extend([c.species] * t.size)
    t = np.concatenate(t_parts)
    kind = np.concatenate(kind_parts)
    value = np.concatenate(value_parts)
    idx = grid.index(t)
    keep = np.flatnonzero((idx >= 0) & (idx < n_seg))
    order = keep[np.lexsort((keep, t[keep], idx[keep]))]
    jump_ptr = np.concatenate([[0], np.cumsum(np.bincount(idx[order], minlength=n_seg))])
    return (jump_ptr.astype(np.int32), tuple(targets[j] for j in order.tolist()),
            kind[order].astype(np.int32), value[order].astype(float))


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a
