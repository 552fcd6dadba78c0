"""Idealized single-channel records: read, write, impose a resolution, split into bursts, simulate.

A :class:`Record` is a sequence of intervals, each with a duration (s, > 0), an amplitude (any unit; exactly 0
means shut, anything else open), a usable flag (False for stretches that must not enter a likelihood, e.g. the
SCAN "duration unusable" flag) and a segment number (intervals of different segments are not contiguous).

Formats
-------
* **DCprogs SCAN** ``.scn`` (binary, little-endian): a header — ``int32 iscanver`` (-103 or 103 for simulated
  records, 104 for experimental ones), ``int32 ioffset`` (1-based byte offset of the data), ``int32 nint`` and,
  in the 153-byte short header of versions -103/103, ``char[70]`` title, ``char[11]`` date, ``char[24]`` tape
  ID, ``int32`` patch, ``float32`` Emem (mV), ``int32`` (unused), ``float32`` avamp, rms, ffilt (Hz),
  calfac2 (pA per stored amplitude unit), treso and tresg (s) — then ``float32[nint]`` durations (ms),
  ``int16[nint]`` amplitudes (times calfac2 = pA) and ``int8[nint]`` flags (bit value 8 = duration unusable).
  Layout as documented by the DCPROGS ``dcio`` project (docs/scn_format.md); this reader and writer are our
  own. For version 104 the long header is skipped through ``ioffset`` and amplitudes are returned in the
  stored units (``calfac2`` is not located; pass ``calfac`` to scale them), and the final interval, a sentinel
  written by SCAN, is marked unusable.
* **QuB** ``.dwt`` (text): per segment a header line ``Segment: n  Dwells: m ...`` (QuB may add ``Sampling(ms):``,
  ``Start(ms):`` and ``ClassCount: k amp_0 sd_0 ... amp_k-1 sd_k-1``), then one line per dwell,
  ``<class index> <duration in ms>`` (whitespace separated). Class 0 is shut; class amplitudes come from
  ``ClassCount`` when present, else the class index is the amplitude.
* **CSV**: a header line then ``amplitude,duration`` rows; the duration column may be named ``duration`` or
  ``duration_s`` (seconds), ``duration_ms`` or ``duration_us``; optional ``usable`` (0/1) and ``segment``.

Resolution imposition follows the HJC definition of apparent intervals (Hawkes, Jalali & Colquhoun 1990;
Colquhoun & Sigworth 1995, "Fitting and statistical analysis of single-channel records", in Single-Channel
Recording 2nd ed): the record starts at the first resolvable interval (>= tres); an apparent open (shut) period
continues through every following interval until a *resolvable* interval of the other class starts; unresolvable
intervals are absorbed into the current period. The amplitude of an apparent opening is the duration-weighted
mean of the resolvable open intervals in it.

Simulation draws the sojourns of a Markov chain with generator ``Q`` (exponential dwell with rate ``-Q_ii``,
next state with probabilities ``Q_ij / -Q_ii``; Gillespie 1977, Colquhoun & Hawkes 1995a).

Examples
--------
>>> from kinetics.singlechannel.records import Record, impose_resolution, bursts
>>> r = Record([1, 0, 1, 0, 1], [1e-3, 1e-5, 2e-3, 5e-3, 1e-3])
>>> rr = impose_resolution(r, 2e-5)          # the 10 us gap is missed
>>> rr.durations.tolist(), rr.amplitudes.tolist()
([0.00301, 0.005, 0.001], [1.0, 0.0, 1.0])
>>> [b.tolist() for b in bursts(rr, tcrit=4e-3)]
[[0.00301], [0.001]]
"""
from __future__ import annotations

import io
import math
import os
import re
import struct
from dataclasses import dataclass, field

import numpy as np

from ..errors import ArgumentError, ParseError

__all__ = ["Record", "impose_resolution", "bursts", "simulate_record", "read_record", "write_record",
           "read_scn", "write_scn", "read_dwt", "write_dwt", "read_csv", "write_csv"]


@dataclass(frozen=True)
class Record:
    """An idealized record. ``durations`` in s; ``amplitudes`` 0 for shut; optional ``usable`` and ``segment``.

    Raises
    ------
    ArgumentError
        Lengths differ, a duration is not positive and finite, an amplitude is not finite (unknown).
    """

    amplitudes: np.ndarray
    durations: np.ndarray
    usable: np.ndarray = None
    segment: np.ndarray = None
    tres: float | None = None
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        try:
            a = np.array(self.amplitudes, dtype=float).ravel()
            d = np.array(self.durations, dtype=float).ravel()
        except (TypeError, ValueError):
            raise ArgumentError("a record's amplitudes and durations must be numbers") from None
        if a.shape != d.shape:
            raise ArgumentError(f"a record needs one amplitude per duration, got {a.size} amplitudes and "
                                f"{d.size} durations")
        if a.size == 0:
            raise ArgumentError("the record is empty")
        bad = np.flatnonzero(~np.isfinite(d) | (d <= 0))
        if bad.size:
            i = int(bad[0])
            raise ArgumentError(f"interval {i}: duration {float(d[i])!r} s is not a positive number (negative, zero or "
                                f"non-finite durations are not allowed)")
        bad = np.flatnonzero(~np.isfinite(a))
        if bad.size:
            i = int(bad[0])
            raise ArgumentError(f"interval {i}: amplitude {float(a[i])!r} is unknown (not a finite number); mark the "
                                f"interval unusable or give its amplitude (0 for shut)")
        u = np.ones(a.size, bool) if self.usable is None else np.array(self.usable, dtype=bool).ravel()
        s = np.zeros(a.size, int) if self.segment is None else np.array(self.segment, dtype=int).ravel()
        if u.shape != a.shape or s.shape != a.shape:
            raise ArgumentError("`usable` and `segment` need one value per interval")
        for name, v in (("amplitudes", a), ("durations", d), ("usable", u), ("segment", s)):
            v.setflags(write=False)
            object.__setattr__(self, name, v)

    def __len__(self) -> int:
        return self.durations.size

    def __repr__(self) -> str:
        n_open = int(np.sum(self.amplitudes != 0))
        res = f", tres={self.tres:g} s" if self.tres else ""
        return (f"<Record {len(self)} intervals ({n_open} open), total {self.durations.sum():.6g} s, "
                f"{int(np.sum(~self.usable))} unusable{res}>")

    @property
    def is_open(self) -> np.ndarray:
        return self.amplitudes != 0

    def open_times(self) -> np.ndarray:
        """Usable open-interval durations (s)."""
        return self.durations[self.is_open & self.usable]

    def shut_times(self) -> np.ndarray:
        """Usable shut-interval durations (s)."""
        return self.durations[~self.is_open & self.usable]


# --------------------------------------------------------------------------- resolution and bursts
def impose_resolution(record: Record, tres: float) -> Record:
    """Apparent open and shut periods at resolution ``tres`` (s); see the module docstring. Consecutive
    intervals of one class are merged too. A period that absorbed an unusable interval is unusable.

    Raises ArgumentError when ``tres`` is not positive or no interval is resolvable.
    """
    if not isinstance(record, Record):
        raise ArgumentError(f"impose_resolution needs a Record, got {type(record).__name__}")
    try:
        tres = float(tres)
    except (TypeError, ValueError):
        raise ArgumentError(f"`tres` must be a number of seconds, got {tres!r}") from None
    if not (math.isfinite(tres) and tres > 0):
        raise ArgumentError(f"`tres` must be positive (s), got {tres!r}")
    d, a, u, seg = record.durations, record.amplitudes, record.usable, record.segment
    is_open = a != 0
    resolvable = d >= tres
    amps, durs, use, segs = [], [], [], []
    cur = None                                   # [class, duration, open amp*time, open time, usable, seg]
    for i in range(d.size):
        if cur is not None and seg[i] != cur[5]:
            amps.append(cur[2] / cur[3] if cur[0] else 0.0)
            durs.append(cur[1])
            use.append(cur[4])
            segs.append(cur[5])
            cur = None
        if cur is None:
            if not resolvable[i]:
                continue                         # the segment starts at its first resolvable interval
            cur = [is_open[i], d[i], a[i] * d[i], d[i], u[i], seg[i]]
            continue
        if resolvable[i] and is_open[i] != cur[0]:
            amps.append(cur[2] / cur[3] if cur[0] else 0.0)
            durs.append(cur[1])
            use.append(cur[4])
            segs.append(cur[5])
            cur = [is_open[i], d[i], a[i] * d[i], d[i], u[i], seg[i]]
        else:
            cur[1] += d[i]
            cur[4] = cur[4] and u[i]
            if cur[0] and is_open[i] and resolvable[i]:
                cur[2] += a[i] * d[i]
                cur[3] += d[i]
    if cur is not None:
        amps.append(cur[2] / cur[3] if cur[0] else 0.0)
        durs.append(cur[1])
        use.append(cur[4])
        segs.append(cur[5])
    if not durs:
        raise ArgumentError(f"no interval of the record is resolvable at tres = {tres:g} s")
    return Record(np.array(amps), np.array(durs), np.array(use), np.array(segs), tres=tres, meta=dict(record.meta))


def bursts(record: Record, tcrit: float | None = None) -> list:
    """Split a (resolved) record into groups of ``open, shut, ..., open`` durations (s): a group ends at a shut
    time longer than ``tcrit`` (None: only unusable intervals and segment ends split), at an unusable interval,
    or at a segment end; leading and trailing shut times are dropped. Consecutive intervals must alternate
    between open and shut (use :func:`impose_resolution`).

    Raises ArgumentError when the record has no usable opening (no bursts).
    """
    if not isinstance(record, Record):
        raise ArgumentError(f"bursts needs a Record, got {type(record).__name__}")
    if tcrit is not None:
        tcrit = float(tcrit)
        if not (math.isfinite(tcrit) and tcrit > 0):
            raise ArgumentError(f"`tcrit` must be positive (s), got {tcrit!r}")
    o = record.is_open
    same = (o[1:] == o[:-1]) & (record.segment[1:] == record.segment[:-1])
    if np.any(same):
        i = int(np.flatnonzero(same)[0])
        raise ArgumentError(f"intervals {i} and {i + 1} are both {'open' if o[i] else 'shut'}: open and shut "
                            f"intervals must alternate; impose a resolution first (impose_resolution)")
    out, cur = [], []

    def close():
        while cur and not o[cur[-1]]:
            cur.pop()
        if cur:
            out.append(record.durations[cur].copy())
        cur.clear()

    for i in range(len(record)):
        if i and record.segment[i] != record.segment[i - 1]:
            close()
        if not record.usable[i]:
            close()
            continue
        if o[i]:
            cur.append(i)
        elif cur:
            if tcrit is not None and record.durations[i] > tcrit:
                close()
            else:
                cur.append(i)
    close()
    if not out:
        raise ArgumentError("the record has no usable opening: no bursts")
    return out


# --------------------------------------------------------------------------- simulation
def simulate_record(q, n_intervals: int, *, seed=None, start=None, amplitudes=None) -> Record:
    """Simulate an ideal record (perfect resolution) of ``n_intervals`` open and shut periods from a
    :class:`~kinetics.singlechannel.QMatrix` (times in s).

    ``start`` is the initial state (name or index; default drawn from the equilibrium occupancies);
    ``amplitudes`` per state (default ``q.conductance`` or 1 for open states). Consecutive sojourns with
    the same amplitude are merged into one interval.

    >>> from kinetics.singlechannel import QMatrix
    >>> r = simulate_record(QMatrix([[-400.0, 400.0], [100.0, -100.0]], n_open=1), 2000, seed=1)
    >>> len(r), round(float(r.open_times().mean()) * 1e3, 1)          # 1/alpha = 2.5 ms
    (2000, 2.5)
    """
    from .qmatrix import QMatrix

    if not isinstance(q, QMatrix):
        raise ArgumentError(f"simulate_record needs a QMatrix, got {type(q).__name__}")
    n = int(n_intervals)
    if n < 1:
        raise ArgumentError("`n_intervals` must be >= 1")
    rng = np.random.default_rng(seed)
    k = q.k
    if amplitudes is None:
        amp = q.conductance if q.conductance is not None else np.r_[np.ones(q.kA), np.zeros(q.kF)]
    else:
        amp = np.asarray(amplitudes, dtype=float)
        if amp.shape != (k,):
            raise ArgumentError(f"`amplitudes` needs one value per state ({k})")
    rates = -np.diag(q.Q)
    if np.any(rates <= 0):
        raise ArgumentError("the Q-matrix has an absorbing state: a record cannot be simulated")
    P = q.Q / rates[:, None]
    np.fill_diagonal(P, 0.0)
    cum = np.cumsum(P, axis=1)
    if start is None:
        state = int(rng.choice(k, p=np.clip(q.equilibrium(), 0, None) / np.clip(q.equilibrium(), 0, None).sum()))
    elif isinstance(start, str):
        state = int(q.index([start])[0])
    else:
        state = int(start)
    amps, durs = [], []
    cur_amp, cur_dur = amp[state], 0.0
    batch = max(4 * n, 1024)
    while True:
        ex = rng.standard_exponential(batch)
        un = rng.random(batch)
        for e, r in zip(ex, un):
            dwell = e / rates[state]
            if amp[state] != cur_amp:
                amps.append(cur_amp)
                durs.append(cur_dur)
                if len(durs) == n:
                    return Record(np.array(amps), np.array(durs), meta={"simulated": True})
                cur_amp, cur_dur = amp[state], 0.0
            cur_dur += dwell
            state = int(np.searchsorted(cum[state], r * cum[state, -1], side="right"))
            state = min(state, k - 1)


# --------------------------------------------------------------------------- files
def _path_kind(path, fmt):
    if fmt is None:
        ext = os.path.splitext(str(path))[1].lower().lstrip(".")
        fmt = {"scn": "scn", "dwt": "dwt", "csv": "csv", "txt": "csv"}.get(ext)
        if fmt is None:
            raise ArgumentError(f"cannot tell the format of `{path}` from its extension; give fmt='scn', 'dwt' "
                                f"or 'csv'")
    if fmt not in ("scn", "dwt", "csv"):
        raise ArgumentError(f"unknown record format `{fmt}`; choose 'scn', 'dwt' or 'csv'")
    return fmt


def read_record(path, fmt: str | None = None, **kw) -> Record:
    """Read an idealized record (format from the extension: ``.scn``, ``.dwt``, ``.csv``)."""
    return {"scn": read_scn, "dwt": read_dwt, "csv": read_csv}[_path_kind(path, fmt)](path, **kw)


def write_record(record: Record, path, fmt: str | None = None, **kw) -> None:
    """Write an idealized record (format from the extension)."""
    {"scn": write_scn, "dwt": write_dwt, "csv": write_csv}[_path_kind(path, fmt)](record, path, **kw)


_SHORT = struct.Struct("<iii70s11s24sififfffff")      # 153 bytes: the SCAN short header (versions -103, 103)
_FLAG_UNUSABLE = 8


def read_scn(path, *, calfac: float | None = None) -> Record:
    """Read a DCprogs SCAN ``.scn`` file (see the module docstring for the layout). Durations become s,
    amplitudes pA (``amplitude * calfac2``; version 104: stored units unless ``calfac`` is given)."""
    data = open(path, "rb").read() if not isinstance(path, (bytes, bytearray)) else bytes(path)
    if len(data) < 12:
        raise ParseError("not a SCAN .scn file: shorter than its header", source=str(path))
    ver, ioffset, nint = struct.unpack_from("<iii", data, 0)
    if ver not in (-103, 103, 104):
        raise ParseError(f"not a SCAN .scn file (version tag {ver}; expected -103, 103 or 104)", source=str(path))
    if nint <= 0 or ioffset < 13 or ioffset - 1 + 7 * nint > len(data):
        raise ParseError(f"corrupt .scn header: {nint} intervals at offset {ioffset} do not fit in "
                         f"{len(data)} bytes", source=str(path))
    meta = {"iscanver": ver}
    factor = 1.0 if calfac is None else float(calfac)
    if ver in (-103, 103):
        if len(data) < _SHORT.size:
            raise ParseError("truncated .scn header", source=str(path))
        f = _SHORT.unpack_from(data, 0)
        meta.update(title=f[3].split(b"\0")[0].decode("latin-1").strip(),
                    date=f[4].split(b"\0")[0].decode("latin-1").strip(),
                    tape=f[5].split(b"\0")[0].decode("latin-1").strip(), patch=f[6], Emem=f[7], avamp=f[9],
                    rms=f[10], ffilt=f[11], calfac2=f[12], treso=f[13], tresg=f[14])
        if calfac is None:
            factor = f[12] if f[12] != 0 else 1.0
    off = ioffset - 1
    dur = np.frombuffer(data, "<f4", nint, off).astype(float) * 1e-3
    amp = np.frombuffer(data, "<i2", nint, off + 4 * nint).astype(float) * factor
    flags = np.frombuffer(data, "<i1", nint, off + 6 * nint).astype(int)
    usable = (flags & _FLAG_UNUSABLE) == 0
    if ver == 104:
        usable = usable.copy()
        usable[-1] = False
    try:
        return Record(amp, dur, usable, meta=meta)
    except ArgumentError as exc:
        raise ParseError(f"bad .scn record: {exc}", source=str(path)) from None


def write_scn(record: Record, path, *, title: str = "nmdakin", calfac2: float = 1.0) -> None:
    """Write a record as a SCAN simulated-format ``.scn`` (version 103, 153-byte header). Amplitudes are stored
    as ``int16(round(amplitude / calfac2))``; choose ``calfac2`` so that openings stay non-zero."""
    if not isinstance(record, Record):
        raise ArgumentError(f"write_scn needs a Record, got {type(record).__name__}")
    ia = np.round(record.amplitudes / calfac2)
    if np.any(np.abs(ia) > 32767) or np.any((ia == 0) & record.is_open):
        raise ArgumentError("amplitudes do not fit int16 at this `calfac2` (or an opening would become 0)")
    n = len(record)
    tres = float(record.tres or 0.0)
    header = _SHORT.pack(103, _SHORT.size + 1, n, title.encode("latin-1")[:70], b"", b"", 0, 0.0, 0, 0.0, 0.0,
                         -1.0, float(calfac2), tres, tres)
    flags = np.where(record.usable, 0, _FLAG_UNUSABLE).astype("<i1")
    with open(path, "wb") as fh:
        fh.write(header)
        fh.write((record.durations * 1e3).astype("<f4").tobytes())
        fh.write(ia.astype("<i2").tobytes())
        fh.write(flags.tobytes())


_DWT_HEAD = re.compile(r"^\s*Segment:\s*(\d+)\s+Dwells:\s*(\d+)(.*)$", re.IGNORECASE)


def read_dwt(path) -> Record:
    """Read a QuB ``.dwt`` file (all segments; durations in ms become s)."""
    text = open(path, encoding="latin-1").read() if not isinstance(path, io.StringIO) else path.getvalue()
    amps, durs, segs = [], [], []
    seg = None
    class_amp = None
    expected = 0
    count = 0
    for ln, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _DWT_HEAD.match(line)
        if m:
            if seg is not None and count != expected:
                raise ParseError(f"segment {seg} announces {expected} dwells but has {count}", line=ln,
                                 source=str(path))
            seg, expected, count = int(m.group(1)), int(m.group(2)), 0
            cc = re.search(r"ClassCount:\s*(\d+)((?:\s+[-+0-9.eE]+)*)", m.group(3))
            class_amp = None
            if cc:
                vals = [float(x) for x in cc.group(2).split()]
                k = int(cc.group(1))
                if len(vals) >= 2 * k:
                    class_amp = [vals[2 * i] for i in range(k)]
            continue
        if seg is None:
            raise ParseError("dwell line before any `Segment:` header", line=ln, source=str(path))
        parts = line.split()
        if len(parts) < 2:
            raise ParseError(f"a dwell line needs a class and a duration, got {line.strip()!r}", line=ln,
                             source=str(path))
        try:
            c, dur = int(float(parts[0])), float(parts[1])
        except ValueError:
            raise ParseError(f"bad dwell line {line.strip()!r}", line=ln, source=str(path)) from None
        if c < 0 or (class_amp is not None and c >= len(class_amp)):
            raise ParseError(f"unknown amplitude class {c}", line=ln, source=str(path))
        amp = 0.0 if c == 0 else (class_amp[c] - class_amp[0] if class_amp is not None else float(c))
        if c != 0 and amp == 0:
            raise ParseError(f"class {c} has the same amplitude as the shut class", line=ln, source=str(path))
        amps.append(amp)
        durs.append(dur * 1e-3)
        segs.append(seg)
        count += 1
    if seg is None:
        raise ParseError("no `Segment:` header: not a QuB .dwt file", source=str(path))
    if count != expected:
        raise ParseError(f"segment {seg} announces {expected} dwells but has {count}", source=str(path))
    try:
        return Record(np.array(amps), np.array(durs), segment=np.array(segs), meta={"format": "dwt"})
    except ArgumentError as exc:
        raise ParseError(f"bad .dwt record: {exc}", source=str(path)) from None


def write_dwt(record: Record, path) -> None:
    """Write a QuB ``.dwt`` file: class 0 for shut, classes 1.. for the distinct open amplitudes."""
    levels = sorted(set(record.amplitudes[record.is_open].tolist()), key=abs)
    cls = {0.0: 0, **{v: i + 1 for i, v in enumerate(levels)}}
    lines = []
    for s in np.unique(record.segment):
        idx = np.flatnonzero(record.segment == s)
        amps = " ".join(f"{v:g} 0" for v in [0.0] + levels)
        lines.append(f"Segment: {int(s) + (1 if record.segment.min() == 0 else 0)} Dwells: {idx.size} "
                     f"ClassCount: {len(levels) + 1} {amps}")
        lines += [f"\t{cls[float(record.amplitudes[i])]}\t{record.durations[i] * 1e3:.9g}" for i in idx]
    with open(path, "w", encoding="latin-1", newline="\r\n") as fh:
        fh.write("\n".join(lines) + "\n")


_CSV_DUR = {"duration": 1.0, "duration_s": 1.0, "duration_ms": 1e-3, "duration_us": 1e-6}


def read_csv(path) -> Record:
    """Read a CSV of ``amplitude, duration`` (see the module docstring for column names)."""
    text = open(path, encoding="utf-8").read() if not isinstance(path, io.StringIO) else path.getvalue()
    rows = [r for r in text.splitlines() if r.strip() and not r.lstrip().startswith("#")]
    if not rows:
        raise ParseError("empty CSV record", source=str(path))
    head = [h.strip().lower() for h in rows[0].split(",")]
    if "amplitude" not in head or not any(h in _CSV_DUR for h in head):
        raise ParseError(f"a record CSV needs an `amplitude` and a `duration` (or duration_s, duration_ms, "
                         f"duration_us) column; got {head}", line=1, source=str(path))
    ia = head.index("amplitude")
    dname = next(h for h in head if h in _CSV_DUR)
    idur = head.index(dname)
    iu = head.index("usable") if "usable" in head else None
    iseg = head.index("segment") if "segment" in head else None
    amps, durs, use, segs = [], [], [], []
    for ln, r in enumerate(rows[1:], 2):
        cells = [c.strip() for c in r.split(",")]
        if len(cells) != len(head):
            raise ParseError(f"expected {len(head)} columns, got {len(cells)}", line=ln, source=str(path))
        try:
            amps.append(float(cells[ia]) if cells[ia] not in ("", "?", "nan", "NaN") else math.nan)
            durs.append(float(cells[idur]) * _CSV_DUR[dname])
            if iu is not None:
                use.append(bool(int(float(cells[iu]))))
            if iseg is not None:
                segs.append(int(float(cells[iseg])))
        except ValueError:
            raise ParseError(f"bad number in row {r!r}", line=ln, source=str(path)) from None
    try:
        return Record(np.array(amps), np.array(durs), np.array(use) if iu is not None else None,
                      np.array(segs) if iseg is not None else None, meta={"format": "csv"})
    except ArgumentError as exc:
        raise ParseError(f"bad CSV record: {exc}", source=str(path)) from None


def write_csv(record: Record, path) -> None:
    """Write ``amplitude,duration_s,usable,segment`` rows."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("amplitude,duration_s,usable,segment\n")
        for a, d, u, s in zip(record.amplitudes, record.durations, record.usable, record.segment):
            fh.write(f"{a:.17g},{d:.17g},{int(u)},{int(s)}\n")
