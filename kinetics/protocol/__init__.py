"""Stimulation protocols: what drives a model, and when.

A model declares *inputs* (transmitter concentration ``glu``, membrane voltage
``V``, a drug concentration...) and *species* (its state variables). A
:class:`Protocol` is an immutable collection of stimulus *components* that say
how the inputs vary in time and when species jump. It knows nothing about any
particular model: :meth:`Protocol.schedule` compiles it, for one model's input
and species names, into a :class:`~kinetics.protocol.schedule.Schedule` that the
solvers consume.

Units
-----
Every time and amplitude in a protocol is a plain number in the **model's
units** (the library's default units are ms, mM and mV): ``pulses("glu",
[10.0], amplitude=1.0, width=1.0)`` is a 1 mM, 1 ms pulse for a model in ms and
mM. Only the train helper :func:`regular_train` assumes milliseconds, because it turns a frequency in Hz
into a period ``1000 / freq_hz``.

How inputs are built
--------------------
For every input ``u`` of the model::

    u(t) = baseline(t) + sum of the additive components that drive u

* The *baseline* is the input's default value (the ``defaults`` given to
  :meth:`Protocol.schedule`), or, where a clamp component (:func:`steps` or
  :func:`ramp`) drives the input, the clamp's value. An input may have at most
  one clamp; before the clamp's first time the default holds.
* :func:`pulses`, :func:`waveform` and :func:`wash_in` *add* to the baseline,
  and to each other: overlapping pulses add up, and a back-propagating action
  potential ``waveform("V", spikes, biexponential(100.0, 0.5, 3.0))`` rides on
  top of a voltage clamp.
* :func:`jumps` change species, not inputs: at each time the species is
  increased by (``mode="add"``) or set to (``mode="set"``) the amount.

Right-continuity
----------------
All inputs are right-continuous: at a discontinuity the *new* value holds. A
pulse at ``t`` of width ``w`` is on for ``t <= time < t + w``; a step at ``t``
has its new value at ``t``. Jumps are applied at the start of the segment that
begins at their time, before it is integrated, so outputs requested at exactly
that time see the state after the jump. Jumps at the same time are applied in
the order they appear in the protocol (and, within one :func:`jumps`
component, in the order given).

Simulation window
-----------------
:meth:`Protocol.schedule` covers ``[t0, t_end]``. Every discontinuity of every
component inside ``(t0, t_end)`` becomes a segment boundary (the solvers
restart there and never step across it); event times closer together than
``1e-12 * max(|t0|, |t_end|, t_end - t0)`` are merged into one boundary (the
earliest of them, or ``t0``/``t_end``). Components that started before ``t0``
still contribute what is left of them (the tail of an exponential, a step still
held); components after ``t_end`` are ignored. ``t_end`` itself belongs to the
last segment, so a discontinuity exactly at ``t_end`` does not show there (the
value at ``t_end`` is the left limit). Jumps take effect only for times in
``[t0, t_end)``: the initial state is assumed to already contain anything that
happened before ``t0``.

Examples
--------
Five 1 mM, 1 ms glutamate pulses at 20 Hz, with the membrane clamped at
-70 mV from t = 0 (the model's default for ``V`` is -65 mV):

>>> from kinetics.protocol import Protocol, pulses, regular_train, steps
>>> train = regular_train(5, 20.0)          # 0, 50, 100, 150, 200 ms
>>> protocol = Protocol([pulses("glu", train), steps("V", [0.0], [-70.0])])
>>> sched = protocol.schedule(-10.0, 300.0, inputs=["glu", "V"],
...                           defaults={"glu": 0.0, "V": -65.0})
>>> sched.input_values([-5.0, 0.0, 0.5, 1.0]).tolist()
[[0.0, -65.0], [1.0, -70.0], [1.0, -70.0], [0.0, -70.0]]
>>> sched.n_segments                        # boundaries at -10, 0, 1, 50, 51, ... 201, 300
11

Presynaptic spikes at given times release glutamate and postsynaptic spikes 10 ms later back-propagate
into ``V`` (spike-timing protocols of the literature are built in :mod:`models.experiments`):

>>> from kinetics.protocol import biexponential, waveform
>>> pre = [0.0, 20.0, 40.0]
>>> post = [10.0, 30.0, 50.0]
>>> stdp = Protocol([pulses("glu", pre),
...                  waveform("V", post, biexponential(100.0, 0.5, 3.0))])

Layout
------
The package's modules, all re-exported here:

===================  =====================================================================
``_component``       what a component is: a target and exponential-polynomial pieces
``_additive``        :func:`pulses`, :func:`waveform`, :func:`wash_in` (add to the baseline)
``_clamps``          :func:`steps`, :func:`ramp` (set the baseline)
``_jumps``           :func:`jumps` (change species)
``_kernels``         :func:`exponential`, :func:`alpha`, :func:`biexponential` (for waveforms)
``_trains``          :func:`spike_train`, :func:`regular_train`
``_protocol``        :class:`Protocol`
``_grid``            segment boundaries of a window
``_assemble``        assembly of a :class:`~kinetics.protocol.schedule.Schedule`
``_validate``        argument checks and the text of values in messages
``schedule``         :class:`~kinetics.protocol.schedule.Schedule`, what the solvers consume
===================  =====================================================================
"""
from __future__ import annotations

from ._additive import Pulses, WashIn, Waveform, pulses, wash_in, waveform
from ._clamps import Ramp, Steps, ramp, steps
from ._jumps import Jumps, jumps
from ._kernels import Alpha, Biexponential, Exponential, alpha, biexponential, exponential
from ._protocol import Protocol
from ._trains import regular_train, spike_train

__all__ = [
    "Protocol",
    "Pulses",
    "Steps",
    "Ramp",
    "Waveform",
    "WashIn",
    "Jumps",
    "Exponential",
    "Alpha",
    "Biexponential",
    "pulses",
    "steps",
    "ramp",
    "waveform",
    "wash_in",
    "jumps",
    "exponential",
    "alpha",
    "biexponential",
    "spike_train",
    "regular_train",
]


def _public(*objects) -> None:
    """Give the public objects (and the methods of the classes) this package as their module, as before the
    split: reprs, pickles and documentation name ``kinetics.protocol.X``, and doctests run with its names."""
    for obj in objects:
        obj.__module__ = __name__
        members = vars(obj).values() if isinstance(obj, type) else ()
        for member in members:
            func = getattr(member, "__func__", getattr(member, "fget", member))   # classmethod, property
            if hasattr(func, "__code__"):
                func.__module__ = __name__


_public(*(globals()[name] for name in __all__))
