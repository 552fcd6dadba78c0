"""Idealized records: validation, resolution imposition, bursts, file formats (.scn, .dwt, CSV), simulation."""
import json
import math
import struct
from pathlib import Path

import numpy as np
import pytest

from kinetics.errors import ArgumentError, ParseError
from kinetics.singlechannel import QMatrix, Record, bursts, impose_resolution, read_record, simulate_record, \
    write_record
from kinetics.singlechannel.records import read_scn

HERE = Path(__file__).parent / "data" / "singlechannel"
CH82 = json.loads((HERE / "ch82.json").read_text())


# --------------------------------------------------------------------------- bad records
@pytest.mark.parametrize("amps,durs,match", [
    ([1, 0], [1e-3, -1e-3], "interval 1: duration .* not a positive number"),
    ([1, 0], [1e-3, 0.0], "not a positive number"),
    ([1, 0], [1e-3, math.inf], "not a positive number"),
    ([1, math.nan], [1e-3, 1e-3], "interval 1: amplitude nan is unknown"),
    ([1, 0, 1], [1e-3, 1e-3], "one amplitude per duration"),
    ([], [], "empty"),
    (["x"], [1.0], "must be numbers"),
])
def test_bad_records(amps, durs, match):
    with pytest.raises(ArgumentError, match=match):
        Record(amps, durs)


# --------------------------------------------------------------------------- resolution
def test_impose_resolution_hand_worked():
    # a 10 us shutting inside an opening is missed: the opening absorbs it
    r = impose_resolution(Record([1, 0, 1, 0, 1], [1e-3, 1e-5, 2e-3, 5e-3, 1e-3]), 2e-5)
    np.testing.assert_allclose(r.durations, [3.01e-3, 5e-3, 1e-3])
    # a 10 us opening inside a shutting is missed: the shut time absorbs it
    r = impose_resolution(Record([0, 1, 0, 1, 0], [5e-3, 1e-5, 3e-3, 1e-3, 2e-3]), 2e-5)
    np.testing.assert_allclose(r.durations, [8.01e-3, 1e-3, 2e-3])
    np.testing.assert_array_equal(r.is_open, [False, True, False])
    # the record starts at its first resolvable interval
    r = impose_resolution(Record([1, 0, 1, 0], [1e-5, 1e-5, 1e-3, 1e-3]), 2e-5)
    np.testing.assert_allclose(r.durations, [1e-3, 1e-3])
    # brief unresolved alternations merge: open 1 ms, (shut 5 us, open 5 us, shut 5 us), open 1 ms -> one opening
    r = impose_resolution(Record([2, 0, 2, 0, 2], [1e-3, 5e-6, 5e-6, 5e-6, 1e-3]), 2e-5)
    np.testing.assert_allclose(r.durations, [2.015e-3])
    assert r.amplitudes[0] == 2.0
    # amplitude of an apparent opening: duration-weighted mean of its resolvable openings
    r = impose_resolution(Record([1, 3], [1e-3, 3e-3]), 2e-5)
    assert r.durations.tolist() == [4e-3] and r.amplitudes[0] == pytest.approx(2.5)
    # an unusable interval makes its period unusable
    r = impose_resolution(Record([1, 0, 1, 0, 1], [1e-3, 1e-5, 1e-3, 1e-3, 1e-3], usable=[1, 0, 1, 1, 1]), 2e-5)
    assert r.usable.tolist() == [False, True, True]
    with pytest.raises(ArgumentError, match="no interval"):
        impose_resolution(Record([1, 0], [1e-6, 1e-6]), 1e-5)
    with pytest.raises(ArgumentError, match="positive"):
        impose_resolution(Record([1], [1e-3]), 0.0)


def test_bursts_split_rules():
    r = Record([0, 1, 0, 1, 0, 1, 0, 1, 0], [9, 1, 0.1, 1, 5, 1, 0.2, 1, 9], usable=[1, 1, 1, 1, 1, 1, 1, 0, 1])
    got = bursts(r, tcrit=2.0)
    assert [g.tolist() for g in got] == [[1, 0.1, 1], [1]]        # unusable opening ends the second group
    assert [g.tolist() for g in bursts(r)] == [[1, 0.1, 1, 5, 1]]
    seg = Record([1, 0, 1, 1, 0, 1], [1, 1, 1, 2, 2, 2], segment=[0, 0, 0, 1, 1, 1])
    assert [g.tolist() for g in bursts(seg)] == [[1, 1, 1], [2, 2, 2]]
    with pytest.raises(ArgumentError, match="must alternate"):
        bursts(Record([1, 1, 0], [1, 1, 1]))
    with pytest.raises(ArgumentError, match="no usable opening: no bursts"):
        bursts(Record([0, 1, 0], [1, 1, 1], usable=[1, 0, 1]))


# --------------------------------------------------------------------------- files
def _scn_bytes(version, durations_ms, iamps, flags, *, calfac2=0.5, title=b"test record"):
    """A .scn file built from the documented layout (DCPROGS dcio docs/scn_format.md), independently of the
    package's writer: 153-byte header, then float32 ms, int16 amplitudes, int8 flags."""
    n = len(durations_ms)
    head = struct.pack("<i", version) + struct.pack("<i", 154) + struct.pack("<i", n)
    head += title.ljust(70, b" ") + b"04-Dec-2026" + b"tape".ljust(24, b" ")
    head += struct.pack("<ifi", 7, -80.0, 0) + struct.pack("<fffff", 5.0, 0.3, 2000.0, calfac2, 2e-5)
    head += struct.pack("<f", 2e-5)
    assert len(head) == 153
    return head + np.asarray(durations_ms, "<f4").tobytes() + np.asarray(iamps, "<i2").tobytes() + \
        np.asarray(flags, "<i1").tobytes()


def test_read_scn_documented_layout(tmp_path):
    p = tmp_path / "a.scn"
    p.write_bytes(_scn_bytes(103, [12.5, 2.25, 0.04, 1.5], [0, -10, 0, -10], [0, 0, 8, 0]))
    r = read_record(p)
    np.testing.assert_allclose(r.durations, [12.5e-3, 2.25e-3, 0.04e-3, 1.5e-3], rtol=1e-7)
    np.testing.assert_allclose(r.amplitudes, [0, -5.0, 0, -5.0])              # x calfac2 = 0.5 pA
    assert r.usable.tolist() == [True, True, False, True]
    assert r.meta["title"] == "test record" and r.meta["Emem"] == -80.0 and r.meta["treso"] == pytest.approx(2e-5)
    # version 104: data found through ioffset, stored amplitude units, last (sentinel) interval unusable
    raw = bytearray(_scn_bytes(104, [1.0, 2.0, 3.0], [5, 0, 5], [0, 0, 0]))
    raw = raw[:12] + bytes(47) + raw[12:]                # a longer header ...
    raw[4:8] = struct.pack("<i", 154 + 47)                # ... announced by ioffset
    p.write_bytes(bytes(raw))
    r = read_scn(p)
    assert r.amplitudes.tolist() == [5.0, 0.0, 5.0] and r.usable.tolist() == [True, True, False]
    p.write_bytes(b"\x00" * 200)
    with pytest.raises(ParseError, match="version tag 0"):
        read_scn(p)
    p.write_bytes(_scn_bytes(103, [1.0, 2.0], [1, 0], [0, 0])[:-3])
    with pytest.raises(ParseError, match="do not fit"):
        read_scn(p)
    p.write_bytes(_scn_bytes(103, [1.0, -2.0], [1, 0], [0, 0]))
    with pytest.raises(ParseError, match="not a positive number"):
        read_scn(p)


def test_read_dwt_and_csv_examples():
    d = read_record(HERE / "example.dwt")
    assert len(d) == 9 and d.segment.tolist() == [1] * 6 + [2] * 3
    np.testing.assert_allclose(d.durations[:6], [12.5e-3, 2.25e-3, 0.04e-3, 1.5e-3, 0.25, 0.8e-3])
    np.testing.assert_allclose(d.amplitudes[:2], [0.0, -5.2])
    c = read_record(HERE / "example.csv")
    np.testing.assert_allclose(c.durations, d.durations[:6])
    np.testing.assert_allclose(c.amplitudes, d.amplitudes[:6])
    # resolution 50 us: the 40 us gap is missed; bursts by tcrit 10 ms do not cross segments
    r = impose_resolution(d, 50e-6)
    assert [np.round(g * 1e3, 6).tolist() for g in bursts(r, 10e-3)] == [[3.79], [0.8], [3.0, 0.5, 1.0]]


def test_bad_text_files(tmp_path):
    p = tmp_path / "x.dwt"
    p.write_text("\t0\t1.0\n")
    with pytest.raises(ParseError, match="before any `Segment:`"):
        read_record(p)
    p.write_text("Segment: 1 Dwells: 2\n\t0\t1.0\n")
    with pytest.raises(ParseError, match="announces 2 dwells but has 1"):
        read_record(p)
    p.write_text("Segment: 1 Dwells: 1 ClassCount: 2 0 0.1 1 0.1\n\t3\t1.0\n")
    with pytest.raises(ParseError, match="unknown amplitude class 3"):
        read_record(p)
    p.write_text("Segment: 1 Dwells: 1\n\t1\t-1.0\n")
    with pytest.raises(ParseError, match="not a positive number"):
        read_record(p)
    c = tmp_path / "x.csv"
    c.write_text("amplitude,duration_ms\n1,2\n?,1\n")
    with pytest.raises(ParseError, match="amplitude nan is unknown"):
        read_record(c)
    c.write_text("amp,dur\n1,2\n")
    with pytest.raises(ParseError, match="needs an `amplitude`"):
        read_record(c)
    with pytest.raises(ArgumentError, match="cannot tell the format"):
        read_record(tmp_path / "x.abf")


@pytest.mark.parametrize("ext", ["scn", "dwt", "csv"])
def test_round_trip(tmp_path, ext):
    r = Record([0, -5.0, 0, -2.5, 0], [1e-3, 2e-3, 3e-4, 4e-3, 5e-2], usable=[1, 1, 1, 1, 0 if ext != "dwt" else 1])
    p = tmp_path / f"r.{ext}"
    write_record(r, p, **({"calfac2": 0.5} if ext == "scn" else {}))
    back = read_record(p)
    np.testing.assert_allclose(back.durations, r.durations, rtol=1e-7)
    np.testing.assert_allclose(back.amplitudes, r.amplitudes, rtol=1e-7)
    assert back.usable.tolist() == r.usable.tolist()


# --------------------------------------------------------------------------- simulation
def test_simulated_ideal_record_matches_theory():
    q = QMatrix(CH82["Q_per_s"], n_open=2)
    r = simulate_record(q, 20000, seed=5)
    o = r.open_times()
    assert abs(o.mean() - q.mean_open_time()) < 3 * o.std() / math.sqrt(o.size)
    s = r.shut_times()
    assert abs(s.mean() - q.mean_shut_time()) < 3 * s.std() / math.sqrt(s.size)
    # fraction of shut times in the 52.6 us component (below 0.2 ms): area 0.7297 of the shut-time pdf
    frac = np.mean(s < 2e-4)
    expected = 1 - q.shut_time_pdf().survivor(2e-4)
    assert abs(frac - expected) < 3 * math.sqrt(expected * (1 - expected) / s.size)
    with pytest.raises(ArgumentError, match="QMatrix"):
        simulate_record(np.eye(2), 10)
