"""Electrophysiology recordings in: sweeps of ABF (pyabf) and NWB (pynwb) files as fitting datasets.

A :class:`Sweep` is one recorded trace as the file has it: times in seconds from the start of the sweep, the
values in the file's unit, the command the amplifier applied (the DAC waveform of an ABF file, the stimulus
series of an NWB recording) and the annotated intervals of the file (NWB epochs). :meth:`Sweep.dataset` turns
it into a :class:`~kinetics.fitting.Dataset` in the model's units:

1. times and values are converted to the model's unit system (``units=``: a UnitSystem or the Scheme;
   default ms, mM, mV, pA), the command too;
2. ``baseline=(t1, t2)`` subtracts the mean of the trace over that window;
3. ``leak=(t1, t2)`` (only when asked) fits a linear leak ``I = g*V + c`` to the trace against the command over
   that window (which must contain at least two command levels, e.g. a small hyperpolarising step; or give
   ``leak_reversal=E`` to fit ``I = g*(V - E)`` on one level) and subtracts it from the whole trace;
4. ``window=(t1, t2)`` keeps that part of the trace, ``every=n`` every n-th point;
5. the protocol is the command as a clamp of ``command_input`` (steps where the command is piecewise
   constant, a ramp through its corners otherwise; see :func:`command_protocol`), plus pulses for the file's
   annotated intervals named in ``annotations`` (``{"glutamate": ("glu", 1.0)}``: 1 mM of ``glu`` during
   each interval tagged ``glutamate``), plus the ``protocol`` the user gives (transmitter pulses, drug
   applications the file does not record).

All times given to :meth:`Sweep.dataset` are in the model's time unit from the start of the sweep, the same
clock as the dataset's times and the protocol.

Examples
--------
>>> import numpy as np, tempfile, pathlib, pyabf
>>> path = str(pathlib.Path(tempfile.mkdtemp()) / "cell.abf")
>>> trace = np.r_[np.full(100, -5.0), np.full(1900, -25.0)]         # pA, 10 kHz: 200 ms
>>> pyabf.abfWriter.writeABF1(np.vstack([trace, 2 * trace]), path, 10_000, units="pA")
>>> sweeps = read_abf(path)
>>> len(sweeps), sweeps[0].unit, round(float(sweeps[1].values[-1]), 2)
(2, 'pA', -50.0)
>>> ds = sweeps[0].dataset("I", baseline=(0.0, 10.0), every=50)
>>> ds.time.tolist()[:3], [round(float(x), 2) for x in ds.data["I"][:3]]
([0.0, 5.0, 10.0], [0.0, 0.0, -20.0])
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ArgumentError, UnitError
from ..protocol import Protocol, pulses, ramp, steps
from ..units import UnitSystem, conversion_factor, parse_unit
from .tables import _check_file, _system

__all__ = ["Sweep", "read_abf", "read_nwb", "read_sweeps", "load_datasets", "command_protocol"]

#: Largest recording read (bytes).
MAX_BYTES = 2_000_000_000
#: NWB unit names (SI words) and their unit tokens.
_SI_WORDS = {"amperes": "A", "ampere": "A", "amps": "A", "volts": "V", "volt": "V", "siemens": "S",
             "seconds": "s", "second": "s", "ohms": "Ohm", "ohm": "Ohm", "farads": "F", "farad": "F",
             "molar": "M", "coulombs": "C", "coulomb": "C"}


def _unit_token(text) -> str | None:
    """The unit token of a file's unit text (``"amperes"`` -> ``"A"``), None when blank or unknown (``"?"``)."""
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    text = str(text).replace("\x00", "").strip()
    if not text or text in ("?", "N/A", "n/a", "unknown"):
        return None
    return _SI_WORDS.get(text.lower(), text)


def _factor(unit: str, system: UnitSystem, what: str) -> float:
    try:
        return conversion_factor(unit, system)
    except UnitError as exc:
        raise UnitError(f"{what}: {exc}") from None


@dataclass(frozen=True, eq=False)
class Sweep:
    """One recorded trace, as in the file (see the module docstring).

    Attributes
    ----------
    source : str
        The file.
    index : int
        The sweep's index in the file (0-based), the position :func:`read_sweeps` selects it by.
    name : str
        A label (``sweep0``, or the NWB series name).
    time : ndarray
        Seconds from the start of the sweep.
    values : ndarray
        The trace, in ``unit``.
    unit : str or None
        The unit of ``values`` from the file (None when the file gives none: pass ``unit=`` to
        :meth:`dataset`).
    command_time, command : ndarray or None
        The command waveform (seconds from the start of the sweep, values in ``command_unit``), if recorded.
    command_unit : str or None
    intervals : tuple of (tag, start, stop)
        Annotated intervals of the file overlapping the sweep (seconds from its start).
    start : float
        Start of the sweep in the file's clock (seconds).
    """

    source: str
    index: int
    name: str
    time: np.ndarray
    values: np.ndarray
    unit: str | None
    command_time: np.ndarray | None = None
    command: np.ndarray | None = None
    command_unit: str | None = None
    intervals: tuple = ()
    start: float = 0.0
    metadata: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        cmd = f", command in {self.command_unit}" if self.command is not None else ""
        return (f"<Sweep {self.index} `{self.name}` of {Path(self.source).name}: {self.time.size} points over "
                f"{self.time[-1] - self.time[0]:.6g} s in {self.unit or '?'}{cmd}>")

    # ------------------------------------------------------------------ conversion
    def dataset(self, observable: str = "I", *, units=None, name: str | None = None, unit: str | None = None,
                baseline=None, leak=None, leak_reversal: float | None = None, window=None, every: int = 1,
                command_input: str | None = None, annotations=None, protocol: Protocol | None = None,
                sigma="estimate", observables=None, **kw):
        """The sweep as a :class:`~kinetics.fitting.Dataset` of one observable (see the module docstring).

        Parameters
        ----------
        observable : str
            Name of the data column (a species, a scheme observable, or an expression given in ``observables``).
        units : UnitSystem or Scheme, optional
            The model's unit system (default ms, mM, mV, pA, nS).
        name : str, optional
            Dataset name (default ``<file stem>_<sweep name>``).
        unit : str, optional
            Unit of the trace, when the file gives none (or to override it).
        baseline : (t1, t2), optional
            Subtract the mean over this window (model time unit, from the sweep start).
        leak : (t1, t2), optional
            Subtract a linear leak fitted over this window against the command (needs a recorded command).
        leak_reversal : float, optional
            Reversal potential of the leak (model units): fit only the conductance, on one command level.
        window : (t1, t2), optional
            Keep only the points in this window.
        every : int
            Keep every n-th point (after the window).
        command_input : str, optional
            Model input the recorded command clamps (e.g. ``"V"``); default: the command is not used.
        annotations : mapping tag -> (input, amplitude), optional
            Square pulses of ``amplitude`` (model units) on ``input`` during the file's intervals with that tag.
        protocol : Protocol, optional
            Added to what the file gives (transmitter pulses, drug applications).
        sigma, observables, **kw
            As for :class:`~kinetics.fitting.Dataset` (``parameters``, ``y0``, ``t_end``...).

        Raises
        ------
        ArgumentError
            Empty windows, a leak without a command or with a single level, bad arguments.
        UnitError
            A unit the file gives (or ``unit``) that is unknown or of the wrong kind.
        """
        from ..fitting.dataset import Dataset, _identifier

        system = _system(units)
        where = f"{self.name} of `{self.source}`"
        t = self.time * conversion_factor("s", system)
        y_unit = unit if unit is not None else self.unit
        if y_unit is None:
            raise UnitError(f"{where}: the file gives no unit for the trace; pass `unit=` (e.g. 'pA')")
        try:
            parse_unit(y_unit)
        except UnitError:
            raise UnitError(f"{where}: unknown unit `{y_unit}` of the trace; pass `unit=` (e.g. 'pA')") from None
        y = self.values * _factor(y_unit, system, where)
        cmd_t = cmd = None
        if self.command is not None:
            cmd_t = self.command_time * conversion_factor("s", system)
            if self.command_unit is not None:
                cmd = self.command * _factor(self.command_unit, system, f"{where}, command")
        if baseline is not None:
            mask = _window_mask(t, baseline, "baseline", where)
            y = y - float(np.mean(y[mask]))
        if leak is not None:
            if cmd is None:
                raise ArgumentError(f"{where}: leak correction needs the recorded command "
                                    + ("(the file gives no unit for it)" if self.command is not None else
                                       "(the file has none)"))
            y = y - _leak(t, y, _sample(cmd_t, cmd, t), _window_mask(t, leak, "leak", where), leak_reversal,
                          where)
        if window is not None:
            mask = _window_mask(t, window, "window", where)
            t, y = t[mask], y[mask]
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ArgumentError(f"`every` must be an integer >= 1, got {every!r}")
        t, y = t[::every], y[::every]
        comps = []
        if command_input is not None:
            if cmd is None:
                raise ArgumentError(f"{where}: `command_input={command_input!r}` but the file records no command"
                                    + (" unit" if self.command is not None else ""))
            comps += list(command_protocol(cmd_t, cmd, command_input).components)
        if annotations:
            comps += list(self._annotation_pulses(annotations, conversion_factor("s", system), where).components)
        full = Protocol(comps)
        if protocol is not None:
            if not isinstance(protocol, Protocol):
                raise ArgumentError(f"`protocol` must be a kinetics Protocol, got {type(protocol).__name__}")
            full = full + protocol
        label = name or _identifier(f"{Path(self.source).stem}_{self.name}")
        return Dataset(label, time=t, data={observable: y}, protocol=full, sigma=sigma,
                       observables=observables or {}, **kw)

    def _annotation_pulses(self, annotations, factor, where) -> Protocol:
        comps = []
        tags = {tag for tag, _, _ in self.intervals}
        for tag, spec in dict(annotations).items():
            try:
                target, amplitude = spec
                amplitude = float(amplitude)
            except (TypeError, ValueError):
                raise ArgumentError(f"`annotations[{tag!r}]` must be (input, amplitude), got {spec!r}") from None
            found = [(a, b) for k, a, b in self.intervals if k == tag]
            if not found:
                raise ArgumentError(f"{where} has no interval tagged {tag!r}"
                                    + (f" (its tags: {', '.join(sorted(tags))})" if tags else " (it has none)"))
            times = [_tidy(a * factor) for a, _ in found]
            widths = [_tidy((b - a) * factor) for a, b in found]
            comps.append(pulses(target, times, amplitude=amplitude, width=widths))
        return Protocol(comps)


def _tidy(x: float) -> float:
    """``x`` to 12 significant digits: 0.051 - 0.05 s is 1.0 ms, not 0.999999999999994 ms."""
    return float(f"{x:.12g}")


def _window_mask(t: np.ndarray, window, what: str, where: str) -> np.ndarray:
    try:
        a, b = (float(x) for x in window)
    except (TypeError, ValueError):
        raise ArgumentError(f"`{what}` must be a window (t_start, t_end), got {window!r}") from None
    if not (math.isfinite(a) and math.isfinite(b)) or b <= a:
        raise ArgumentError(f"`{what}` window ({a}, {b}) must have t_start < t_end")
    mask = (t >= a) & (t < b)
    if not mask.any():
        raise ArgumentError(f"{where}: the {what} window [{a:g}, {b:g}) has no points (the sweep spans "
                            f"[{t[0]:g}, {t[-1]:g}])")
    return mask


def _sample(ct: np.ndarray, cv: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The command at times ``t`` (the last sample at or before each time: steps stay sharp)."""
    i = np.clip(np.searchsorted(ct, t, side="right") - 1, 0, ct.size - 1)
    return cv[i]


def _leak(t, y, v, mask, reversal, where) -> np.ndarray:
    """The linear leak current over the whole sweep, fitted on ``mask``."""
    vw, yw = v[mask], y[mask]
    if reversal is None:
        if np.ptp(vw) <= 1e-9 * max(1.0, float(np.max(np.abs(vw)))):
            raise ArgumentError(f"{where}: the leak window holds one command level ({vw[0]:g}); it must include "
                                f"a step (two levels) to fit I = g*V + c, or give `leak_reversal`")
        g, c = np.polyfit(vw, yw, 1)
        return g * v + c
    dv = vw - float(reversal)
    if not np.any(np.abs(dv) > 0):
        raise ArgumentError(f"{where}: the command equals `leak_reversal` over the leak window: no driving force")
    g = float(np.dot(yw, dv) / np.dot(dv, dv))
    return g * (v - float(reversal))


def command_protocol(time, values, input: str, *, tolerance: float | None = None) -> Protocol:
    """A sampled command waveform as a clamp of ``input``: steps where it is piecewise constant, else a ramp.

    A change between two samples is a step at the later sample's time (right-continuous, like the amplifier's
    output); runs of changing samples become ramp segments through their corners. Changes smaller than
    ``tolerance`` (default ``1e-6`` of the largest value) are ignored.

    Examples
    --------
    >>> t = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    >>> command_protocol(t, [-70, -70, -80, -80, -70, -70], "V").components[0]
    Steps(input='V', times=(0.0, 2.0, 4.0), values=(-70.0, -80.0, -70.0))
    >>> command_protocol(t, [0, 0, 1, 2, 3, 3], "V").components[0]
    Ramp(input='V', times=(0.0, 1.0, 4.0), values=(0.0, 0.0, 3.0))
    """
    t = np.asarray(time, dtype=float).ravel()
    v = np.asarray(values, dtype=float).ravel()
    if t.size == 0 or t.size != v.size:
        raise ArgumentError(f"command: {t.size} times and {v.size} values (need the same number, at least one)")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(v))):
        raise ArgumentError("command: the waveform has non-finite values (an epoch type the reader cannot "
                            "rebuild?); give the protocol yourself")
    if np.any(np.diff(t) <= 0):
        raise ArgumentError("command: times must be strictly increasing")
    tol = tolerance if tolerance is not None else 1e-6 * max(float(np.max(np.abs(v))), 1e-300)
    d = np.diff(v)
    moving = np.abs(d) > tol
    points = [(t[0], v[0])]
    isolated = True
    j = 0
    n = d.size
    while j < n:
        if not moving[j]:
            j += 1
            continue
        k = j
        while k + 1 < n and moving[k + 1]:
            k += 1
        if k == j:                                           # one change: a step at the later sample
            points += [(t[j + 1], v[j]), (t[j + 1], v[j + 1])]
        else:                                                # a ramp: its start, corners, end
            isolated = False
            points.append((t[j], v[j]))
            for m in range(j + 1, k + 1):
                if abs(d[m] - d[m - 1]) > tol:
                    points.append((t[m], v[m]))
            points.append((t[k + 1], v[k + 1]))
        j = k + 1
    if isolated:
        times = [points[0][0]] + [p[0] for p in points[2::2]]
        levels = [points[0][1]] + [p[1] for p in points[2::2]]
        return Protocol([steps(input, times, levels)])
    if v[-1] != points[-1][1]:
        points.append((t[-1], v[-1]))
    clean = [points[0]]
    for p in points[1:]:
        if p != clean[-1]:
            clean.append(p)
    return Protocol([ramp(input, [p[0] for p in clean], [p[1] for p in clean])])


# --------------------------------------------------------------------------- readers
def _select(sweeps, count: int, where: str) -> list:
    if sweeps is None:
        return list(range(count))
    if isinstance(sweeps, (int, np.integer)) and not isinstance(sweeps, bool):
        sweeps = [sweeps]
    out = []
    for s in sweeps:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise ArgumentError(f"sweep indices must be integers, got {s!r}")
        if not -count <= s < count:
            raise ArgumentError(f"{where} has {count} sweep(s) (0 to {count - 1}); sweep {s} is out of range")
        out.append(int(s) % count)
    return out


def _nonempty(values: np.ndarray, index: int, where: str) -> None:
    if values.size == 0:
        raise ArgumentError(f"{where}: sweep {index} is empty (no samples)")
    if not np.all(np.isfinite(values)):
        raise ArgumentError(f"{where}: sweep {index} has non-finite samples")


def read_abf(path, *, sweeps=None, channel: int = 0, unit: str | None = None,
             command_unit: str | None = None) -> list:
    """The sweeps of an Axon ABF file (ABF1 or ABF2, read with pyabf) as :class:`Sweep` objects.

    ``sweeps`` is an index, a list of indices or None (all); ``channel`` the ADC channel. The unit of the trace
    and of the command (DAC) come from the file; ``unit`` / ``command_unit`` give them when it has none. The
    command is pyabf's ``sweepC``, rebuilt from the epoch table (or read from the stimulus file); a command
    with no waveform enabled is the holding level. Tags and digital outputs (the triggers of a stimulator or a
    puffer) are not read: give transmitter pulses and drug applications as the ``protocol`` of
    :meth:`Sweep.dataset`.

    Raises
    ------
    DataFileNotFoundError, ArgumentError
        A missing or unreadable file, a channel or sweep out of range, an empty sweep.
    """
    try:
        import pyabf
    except ImportError:                                      # pragma: no cover - a main dependency
        raise ArgumentError("reading ABF files needs pyabf (pip install pyabf)") from None
    path = Path(path)
    where = f"ABF file `{path}`"
    _check_file(path, MAX_BYTES)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            abf = pyabf.ABF(str(path))
    except Exception as exc:
        why = "truncated?" if type(exc).__name__ == "error" else type(exc).__name__
        raise ArgumentError(f"{where} is not a readable ABF file ({why})") from None
    if isinstance(channel, bool) or not isinstance(channel, (int, np.integer)) \
            or not 0 <= channel < abf.channelCount:
        raise ArgumentError(f"{where} has {abf.channelCount} channel(s) (0 to {abf.channelCount - 1}); "
                            f"channel {channel!r} is out of range")
    out = []
    for i in _select(sweeps, abf.sweepCount, where):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                abf.setSweep(i, channel=int(channel))
                y = np.array(abf.sweepY, dtype=float)
                t = np.array(abf.sweepX, dtype=float)
                try:
                    c = np.array(abf.sweepC, dtype=float)
                except Exception:                            # an epoch table pyabf cannot rebuild
                    c = None
        except ArgumentError:
            raise
        except Exception as exc:
            raise ArgumentError(f"{where}: sweep {i} cannot be read ({type(exc).__name__})") from None
        _nonempty(y, i, where)
        if c is not None and (c.size != t.size or not np.all(np.isfinite(c))):
            c = None
        out.append(Sweep(str(path), i, f"sweep{i}", t, y, unit or _unit_token(abf.sweepUnitsY),
                         command_time=t if c is not None else None, command=c,
                         command_unit=(command_unit or _unit_token(abf.sweepUnitsC)) if c is not None else None,
                         start=float(i * abf.sweepIntervalSec),
                         metadata={"channel": int(channel), "sample_rate_hz": float(abf.dataRate),
                                   "abf_version": abf.abfVersionString}))
    return out


def _series_arrays(series, where: str):
    """``(times in s, values in the series' unit)`` of a pynwb TimeSeries (conversion and offset applied)."""
    data = np.asarray(series.data[:], dtype=float).ravel()
    conversion = float(series.conversion or 1.0)
    offset = float(getattr(series, "offset", 0.0) or 0.0)
    values = data * conversion + offset
    if series.timestamps is not None:
        t = np.asarray(series.timestamps[:], dtype=float).ravel()
        if getattr(series, "timestamps_unit", "seconds") not in ("seconds", None):
            raise UnitError(f"{where}: timestamps in `{series.timestamps_unit}`, not seconds")
    else:
        rate = series.rate
        if rate is None or not rate > 0:
            raise ArgumentError(f"{where}: series `{series.name}` has neither timestamps nor a positive rate")
        t = float(series.starting_time or 0.0) + np.arange(data.size) / float(rate)
    if t.size != values.size:
        raise ArgumentError(f"{where}: series `{series.name}` has {values.size} values and {t.size} times")
    return t, values


def _nwb_pairs(nwb, PatchClampSeries):
    """``[(response, stimulus or None)]`` of the file: from the intracellular-recordings table, else the
    acquisition's patch-clamp series matched to stimulus series by sweep number."""
    table = nwb.intracellular_recordings
    pairs = []
    if table is not None and len(table) > 0:
        for row in range(len(table)):
            resp = table["responses"]["response"][row]
            stim = table["stimuli"]["stimulus"][row]
            r = resp.timeseries if resp is not None and resp.idx_start >= 0 else None
            s = stim.timeseries if stim is not None and stim.idx_start >= 0 else None
            if r is not None:
                pairs.append((r, s))
        if pairs:
            return pairs
    stimuli = [s for s in nwb.stimulus.values() if isinstance(s, PatchClampSeries)]
    for r in nwb.acquisition.values():
        if not isinstance(r, PatchClampSeries):
            continue
        number = getattr(r, "sweep_number", None)
        match = [s for s in stimuli if number is not None and getattr(s, "sweep_number", None) == number]
        pairs.append((r, match[0] if len(match) == 1 else None))
    pairs.sort(key=lambda p: (p[0].sweep_number if p[0].sweep_number is not None else math.inf, p[0].name))
    return pairs


def read_nwb(path, *, sweeps=None, series: str | None = None) -> list:
    """The patch-clamp sweeps of an NWB file (read with pynwb) as :class:`Sweep` objects.

    Each response :class:`pynwb.icephys.PatchClampSeries` (``VoltageClampSeries``, ``CurrentClampSeries``...)
    is a sweep, in the order of the file's intracellular-recordings table (or by sweep number), with its
    stimulus series (``VoltageClampStimulusSeries``...) as the command. Values are ``data * conversion +
    offset`` in the series' unit (``amperes`` -> A, ``volts`` -> V); times are seconds from the sweep's start.
    The file's epochs (``nwbfile.epochs``, with ``tags``) overlapping a sweep become its ``intervals``.
    ``series`` selects one response series by name; ``sweeps`` indexes the list.

    Raises
    ------
    DataFileNotFoundError, ArgumentError
        A missing or unreadable file, no patch-clamp series, a sweep out of range, an empty sweep.
    """
    try:
        from pynwb import NWBHDF5IO
        from pynwb.icephys import PatchClampSeries
    except ImportError:                                      # pragma: no cover - a main dependency
        raise ArgumentError("reading NWB files needs pynwb (pip install pynwb)") from None
    path = Path(path)
    where = f"NWB file `{path}`"
    _check_file(path, MAX_BYTES)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            io = NWBHDF5IO(str(path), "r")
    except Exception as exc:
        raise ArgumentError(f"{where} is not a readable NWB file ({type(exc).__name__})") from None
    with io:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                nwb = io.read()
                pairs = _nwb_pairs(nwb, PatchClampSeries)
                epochs = _epochs(nwb)
        except Exception as exc:
            raise ArgumentError(f"{where} is not a readable NWB file ({type(exc).__name__})") from None
        if series is not None:
            names = [r.name for r, _ in pairs]
            pairs = [p for p in pairs if p[0].name == series]
            if not pairs:
                from ..errors import did_you_mean

                raise ArgumentError(f"{where} has no patch-clamp series `{series}`" + did_you_mean(series, names))
        if not pairs:
            raise ArgumentError(f"{where} has no patch-clamp series (PatchClampSeries) in its acquisition")
        out = []
        for i in _select(sweeps, len(pairs), where):
            resp, stim = pairs[i]
            t, y = _series_arrays(resp, where)
            _nonempty(y, i, where)
            t0 = float(t[0])
            ct = cv = cu = None
            if stim is not None:
                ct, cv = _series_arrays(stim, where)
                if cv.size and np.all(np.isfinite(cv)):
                    ct, cu = ct - t0, _unit_token(stim.unit)
                else:
                    ct = cv = None
            t_end = float(t[-1])
            intervals = tuple((tag, round(a - t0, 12), round(b - t0, 12))     # to the picosecond: no
                              for tag, a, b in epochs if b > t0 and a < t_end)  # round-off in the protocol
            out.append(Sweep(str(path), i, resp.name, t - t0, y, _unit_token(resp.unit), command_time=ct,
                             command=cv, command_unit=cu, intervals=intervals, start=t0,
                             metadata={"series_type": type(resp).__name__,
                                       "sweep_number": None if getattr(resp, "sweep_number", None) is None
                                       else int(resp.sweep_number),
                                       "stimulus": stim.name if stim is not None else None}))
    return out


def _epochs(nwb) -> list:
    """``[(tag, start, stop)]`` of the file's epochs table (one entry per tag of a row)."""
    table = nwb.epochs
    if table is None or len(table) == 0:
        return []
    frame = table.to_dataframe()
    out = []
    for _, row in frame.iterrows():
        tags = row["tags"] if "tags" in frame.columns else []
        for tag in (tags if isinstance(tags, (list, tuple, np.ndarray)) else [tags]):
            out.append((str(tag), float(row["start_time"]), float(row["stop_time"])))
    return out


def read_sweeps(path, **kw) -> list:
    """:func:`read_abf` or :func:`read_nwb` by the file's suffix (``.abf``, ``.nwb``)."""
    suffix = Path(path).suffix.lower()
    wrong = {".abf": "series", ".nwb": "channel"}.get(suffix)
    if wrong in kw:
        other = "channel" if wrong == "series" else "series"
        raise ArgumentError(f"`{wrong}` does not apply to {suffix} files (choose their sweeps by `{other}` and "
                            f"`sweeps`)")
    if suffix == ".abf":
        return read_abf(path, **kw)
    if suffix == ".nwb":
        return read_nwb(path, **kw)
    raise ArgumentError(f"cannot tell the format of `{path}` from its suffix {suffix!r}: read .abf or .nwb "
                        f"files here, tables with kinetics.data.read_table")


def load_datasets(path, observable: str = "I", *, sweeps=None, channel: int | None = None,
                  series: str | None = None, **dataset_kw) -> list:
    """Every selected sweep of an ABF or NWB file as a :class:`~kinetics.fitting.Dataset` in one call.

    Keyword arguments are those of :meth:`Sweep.dataset` (``units``, ``baseline``, ``leak``, ``window``,
    ``every``, ``command_input``, ``annotations``, ``protocol``, ``sigma``, ``observables``...), applied to
    every sweep; ``name`` is suffixed with the sweep's index when there are several.

    Examples
    --------
    >>> datasets = load_datasets("cell.nwb", "I", baseline=(0, 5), protocol=glu_pulse)   # doctest: +SKIP
    """
    read_kw = {}
    if channel is not None:
        read_kw["channel"] = channel
    if series is not None:
        read_kw["series"] = series
    swept = read_sweeps(path, sweeps=sweeps, **read_kw)
    name = dataset_kw.pop("name", None)
    out = []
    for s in swept:
        label = None if name is None else (name if len(swept) == 1 else f"{name}_{s.index}")
        out.append(s.dataset(observable, name=label, **dataset_kw))
    return out
