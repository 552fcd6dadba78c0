"""What every protocol component is: a target, and exponential-polynomial pieces on an input."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class _Piece(NamedTuple):
    """A batch of exponential-polynomial pieces on one input.

    Piece ``k`` is ``(p[k] + q[k]*(t - on[k])) * exp(-rate*(t - on[k]))`` for
    ``on[k] <= t < off[k]`` (``off`` may be ``inf``). ``base`` pieces replace the
    input's default (clamps); the others add to the baseline.
    """

    input: str
    on: np.ndarray
    off: np.ndarray
    rate: float
    p: np.ndarray
    q: np.ndarray
    base: bool


class _Component:
    """Base class of protocol components (frozen dataclasses)."""

    #: Name used by :meth:`describe`.
    _label = "component"
    #: True for components that set the baseline of their input (at most one per input).
    _clamp = False

    @property
    def target(self) -> str:
        """The input (or, for :class:`Jumps`, the species) this component acts on."""
        return self.input

    def _pieces(self) -> list:
        return []

    def _event_times(self) -> np.ndarray:
        parts = [np.empty(0)]
        for pc in self._pieces():
            parts.append(pc.on)
            parts.append(pc.off[np.isfinite(pc.off)])
        return np.concatenate(parts)

    def describe(self) -> str:  # pragma: no cover - overridden
        return self._label
