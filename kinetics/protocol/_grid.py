"""Segment boundaries of a simulation window: every event time inside it, nearby times merged."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import ProtocolError

#: Breakpoints closer than this times the window scale are merged.
_MERGE_RTOL = 1e-12


class _Grid(NamedTuple):
    """Segment boundaries of a window, with the merging of nearby event times."""

    boundaries: np.ndarray  # representatives, t0 first and t_end last
    starts: np.ndarray      # first (smallest) event time of each merged cluster
    tol: float

    def index(self, x) -> np.ndarray:
        """Boundary index each time snaps to: -1 before the window, n_seg + 1 after it."""
        x = np.asarray(x, dtype=float)
        b = self.boundaries
        n_seg = b.size - 1
        idx = np.searchsorted(self.starts, x, side="right") - 1
        idx = np.where(x < b[0], np.where(x > b[0] - self.tol, 0, -1), idx)
        idx = np.where(x > b[-1], np.where(x < b[-1] + self.tol, n_seg, n_seg + 1), idx)
        return idx


def _make_grid(t0: float, t_end: float, times: np.ndarray) -> _Grid:
    tol = _MERGE_RTOL * max(abs(t0), abs(t_end), t_end - t0)
    if not t_end - t0 > tol:
        raise ProtocolError(f"schedule: window [{t0!r}, {t_end!r}] is too short to resolve at "
                            f"this magnitude of time")
    inside = np.unique(times[(times > t0) & (times < t_end)])
    cand = np.concatenate([[t0], inside, [t_end]])
    if (np.diff(cand) >= tol).all():
        starts = cand
    else:
        kept = [t0]
        for x in cand[1:].tolist():
            if x - kept[-1] >= tol:
                kept.append(x)
        starts = np.asarray(kept)
    boundaries = starts.copy()
    boundaries[-1] = t_end
    return _Grid(boundaries, starts, tol)
