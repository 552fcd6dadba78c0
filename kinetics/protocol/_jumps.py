"""State jumps: the component that changes species rather than inputs."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ProtocolError, did_you_mean
from ._component import _Component
from ._validate import _array, _freeze, _name, _per_item, _times_text, _value_text
from .schedule import JUMP_ADD, JUMP_SET

_JUMP_MODES = {"add": JUMP_ADD, "set": JUMP_SET}


@dataclass(frozen=True)
class Jumps(_Component):
    """State jumps of one species; build with :func:`jumps`.

    ``times`` are stored sorted (stable: equal times keep their order) with
    ``amount`` reordered alike; ``amount`` is a float or a tuple, one per time.
    """

    species: str
    times: tuple
    amount: object
    mode: str = "add"

    _label = "jumps"

    def __post_init__(self):
        where = "jumps"
        _name(where, "species", self.species)
        if not isinstance(self.mode, str) or self.mode not in _JUMP_MODES:
            hint = did_you_mean(self.mode, _JUMP_MODES) if isinstance(self.mode, str) else ""
            raise ProtocolError(f"{where}: unknown mode `{self.mode}`{hint}; use 'add' or 'set'")
        t = _array(where, "times", self.times)
        amount = _per_item(where, "amount", self.amount, t.size)
        order = np.argsort(t, kind="stable")
        object.__setattr__(self, "times", tuple(t[order].tolist()))
        object.__setattr__(self, "amount",
                           _freeze(amount[order] if isinstance(amount, np.ndarray) else amount))

    @property
    def target(self) -> str:
        return self.species

    def _event_times(self) -> np.ndarray:
        return np.asarray(self.times, dtype=float)

    def describe(self) -> str:
        verb = "add" if self.mode == "add" else "set to"
        return (f"jumps of `{self.species}`: {verb} {_value_text(self.amount)}; "
                f"{_times_text(self.times)}")


def jumps(species: str, times, amount, mode: str = "add") -> Jumps:
    """State jumps: at each time, ``species += amount`` (``mode="add"``) or ``species = amount`` (``"set"``).

    Jumps at the same time are applied in the order given. Only jumps in
    ``[t0, t_end)`` of a simulation take effect.

    Parameters
    ----------
    species : str
        Species (state variable) name.
    times : array_like of float
        Jump times, any order (sorted stably).
    amount : float or array_like
        Amount added or value set; one for all times, or one per time.
    mode : {"add", "set"}

    Examples
    --------
    Calcium influx of 0.1 mM at each postsynaptic spike:

    >>> c = jumps("Ca", [10.0, 30.0], 0.1)
    >>> c.times, c.amount, c.mode
    ((10.0, 30.0), 0.1, 'add')
    """
    return Jumps(species, times, amount, mode)
