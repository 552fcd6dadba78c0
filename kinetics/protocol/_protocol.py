"""The :class:`Protocol`: an immutable collection of stimulus components."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ..errors import ProtocolError
from ._additive import Pulses
from ._assemble import build_schedule, check_targets
from ._component import _Component
from ._grid import _make_grid
from ._jumps import Jumps
from ._validate import _default_vector, _fmt, _names, _values, _window
from .schedule import Schedule


@dataclass(frozen=True, repr=False)
class Protocol:
    """An immutable collection of stimulus components.

    Parameters
    ----------
    components : iterable of components
        Made by :func:`pulses`, :func:`steps`, :func:`ramp`, :func:`waveform`,
        :func:`wash_in` and :func:`jumps`. Additive components on the same
        input add up; an input may have at most one clamp (steps or ramp).
        Stored as a tuple.

    Notes
    -----
    ``p1 + p2`` is the protocol with the components of ``p1`` then ``p2``
    (order matters only for jumps at the same time). See :mod:`kinetics.protocol`
    for units and conventions.

    Examples
    --------
    >>> p = Protocol([pulses("glu", [10.0, 20.0])]) + Protocol([jumps("Ca", [15.0], 0.1)])
    >>> len(p), p.inputs, p.species
    (2, ('glu',), ('Ca',))
    >>> p.breakpoints(0.0, 100.0).tolist()
    [0.0, 10.0, 11.0, 15.0, 20.0, 21.0, 100.0]
    """

    components: tuple = ()

    def __post_init__(self):
        if isinstance(self.components, (_Component, Protocol)):
            raise ProtocolError("Protocol: `components` must be a list of components, e.g. "
                                "Protocol([pulses(...)]); combine protocols with p1 + p2")
        comps = tuple(self.components)
        for c in comps:
            if not isinstance(c, _Component):
                hint = "; combine protocols with p1 + p2" if isinstance(c, Protocol) else ""
                raise ProtocolError(f"Protocol: not a protocol component: {c!r} (use pulses(), "
                                    f"steps(), ramp(), waveform(), wash_in() or jumps()){hint}")
        clamps = {}
        for c in comps:
            if c._clamp:
                if c.input in clamps:
                    raise ProtocolError(f"Protocol: input `{c.input}` is clamped by both "
                                        f"{clamps[c.input]._label} and {c._label}; an input can have "
                                        f"only one steps/ramp component (a ramp with a repeated "
                                        f"time makes a step)")
                clamps[c.input] = c
        object.__setattr__(self, "components", comps)

    @classmethod
    def empty(cls) -> "Protocol":
        """The protocol with no components (every input at its default, no jumps).

        Examples
        --------
        >>> len(Protocol.empty())
        0
        """
        return cls(())

    def __add__(self, other):
        if not isinstance(other, Protocol):
            return NotImplemented
        return Protocol(self.components + other.components)

    def __len__(self) -> int:
        return len(self.components)

    def __repr__(self) -> str:
        inner = ", ".join(f"{c._label}({c.target!r})" for c in self.components)
        return f"Protocol([{inner}])"

    @property
    def inputs(self) -> tuple:
        """Names of the inputs driven by the protocol, in order of first appearance."""
        return tuple(dict.fromkeys(c.input for c in self.components if not isinstance(c, Jumps)))

    @property
    def species(self) -> tuple:
        """Names of the species the protocol jumps, in order of first appearance."""
        return tuple(dict.fromkeys(c.species for c in self.components if isinstance(c, Jumps)))

    def describe(self) -> str:
        """A short human-readable summary, one line per component.

        Examples
        --------
        >>> print(Protocol([pulses("glu", [10.0]), steps("V", [0.0], [-70.0])]).describe())
        Protocol with 2 components:
          pulses on `glu`: 1 x amplitude 1, width 1; t = 10
          steps on `V`: -70 from 0
        """
        n = len(self.components)
        lines = [f"Protocol with {n} component{'' if n == 1 else 's'}" + (":" if n else "")]
        lines += ["  " + c.describe() for c in self.components]
        return "\n".join(lines)

    def _event_times(self) -> np.ndarray:
        return np.concatenate([np.empty(0)] + [c._event_times() for c in self.components])

    def breakpoints(self, t0: float, t_end: float) -> np.ndarray:
        """Sorted segment boundaries on ``[t0, t_end]``: ``t0``, every discontinuity inside, ``t_end``.

        Times closer than ``1e-12 * max(|t0|, |t_end|, t_end - t0)`` are merged.

        Examples
        --------
        >>> Protocol([pulses("glu", [-0.5, 5.0])]).breakpoints(0.0, 10.0).tolist()
        [0.0, 0.5, 5.0, 6.0, 10.0]
        """
        t0, t_end = _window(t0, t_end)
        return _make_grid(t0, t_end, self._event_times()).boundaries.copy()

    def check_window(self, t0: float, t_end: float) -> None:
        """Refuse pulses that cannot act on ``[t0, t_end]``: a pulse of zero width, or a pulses component
        none of whose pulses overlaps the window (a typo in the times or the window, usually).

        :meth:`schedule` accepts both (they simply add nothing); :func:`kinetics.simulate`, :func:`kinetics.sweep`
        and fitting datasets call this first, so such a stimulus is an error rather than a silent no-op.

        Raises
        ------
        ProtocolError

        Examples
        --------
        >>> Protocol([pulses("glu", [500.0])]).check_window(0.0, 100.0)   # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        kinetics.errors.ProtocolError: pulses on `glu`: every pulse lies outside the simulated window [0, 100] ...
        """
        t0, t_end = _window(t0, t_end)
        for c in self.components:
            if not isinstance(c, Pulses) or not c.times:
                continue
            t = np.asarray(c.times, dtype=float)
            w = _values(c.width, t.size)
            zero = np.flatnonzero(w == 0)
            if zero.size:
                raise ProtocolError(f"pulses on `{c.input}`: the pulse at t = {_fmt(t[zero[0]])} has zero width "
                                    f"(no effect); remove it or give it a width > 0")
            live = (t + w > t0) & (t < t_end)
            if not live.any():
                raise ProtocolError(f"pulses on `{c.input}`: every pulse lies outside the simulated window "
                                    f"[{_fmt(t0)}, {_fmt(t_end)}] (the first starts at t = {_fmt(t[0])} and "
                                    f"ends at t = {_fmt(t[0] + w[0])})")

    def schedule(self, t0: float, t_end: float, inputs: Sequence[str],
                 defaults: Mapping[str, float], states: Sequence[str] = ()) -> Schedule:
        """Compile the protocol on ``[t0, t_end]`` for a model's inputs and species.

        Parameters
        ----------
        t0, t_end : float
            Simulation window, finite, ``t_end > t0``.
        inputs : sequence of str
            The model's input names; column order of the schedule's ``const``.
        defaults : mapping of str to float
            Each input's value where the protocol does not set it (exactly the
            keys of ``inputs``).
        states : sequence of str, optional
            The model's species names, targets of jumps.

        Returns
        -------
        Schedule
            Boundaries at every breakpoint; per segment the constant part of each
            input plus at most one exponential-polynomial term per (input, rate)
            with ``t_ref`` at the segment start; jumps at segment starts. Its
            arrays are read-only.

        Raises
        ------
        ProtocolError
            Bad window, a component driving an input not in ``inputs``, a jump of
            a species not in ``states``, missing or unknown defaults.

        Examples
        --------
        >>> p = Protocol([waveform("V", [1.0], exponential(10.0, 2.0))])
        >>> s = p.schedule(0.0, 5.0, inputs=["V"], defaults={"V": -70.0})
        >>> s.boundaries.tolist(), s.input_values([0.5, 1.0]).ravel().tolist()
        ([0.0, 1.0, 5.0], [-70.0, -60.0])
        """
        t0, t_end = _window(t0, t_end)
        inputs = _names("inputs", inputs)
        states = _names("states", states)
        default = _default_vector(inputs, defaults)
        check_targets(self.components, inputs, states)
        return build_schedule(self.components, _make_grid(t0, t_end, self._event_times()), inputs, default)
