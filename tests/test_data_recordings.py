"""kinetics.data.recordings: ABF (pyabf) and NWB (pynwb) files written here with known content, read back,
corrected (baseline, leak), turned into protocols and datasets, and fitted back to the rates that made them."""
import datetime
import struct

import numpy as np
import pytest

import kinetics as kx
from kinetics.data import (DataFileNotFoundError, Sweep, command_protocol, load_datasets, read_abf, read_nwb,
                           read_sweeps)
from kinetics.errors import ArgumentError, UnitError
from kinetics.fitting import fit
from kinetics.protocol import Ramp, Steps
from models import destexhe1994

pyabf = pytest.importorskip("pyabf")
pynwb = pytest.importorskip("pynwb")

RATE = 10_000                     # Hz


# --------------------------------------------------------------------------- writers
def write_abf(path, sweeps, rate=RATE, units="pA", epochs=None, dac_unit="mV"):
    """An ABF1 file by pyabf's writer, with an epoch table (DAC 0) when ``epochs`` = [(level, n_points), ...].

    pyabf's writer leaves the extended header out (its data start at byte 2048, where the epoch table lives),
    so the data are moved to block 12 and the table is written at the ABF1 header offsets pyabf reads
    (nWaveformEnable 2296, nWaveformSource 2300, nEpochType 2308, fEpochInitLevel 2348,
    lEpochInitDuration 2508, sDACChannelUnit 1346). pyabf takes epoch A's level as the holding level of an
    ABF1 file and holds it for the first 1/64 of the sweep.
    """
    pyabf.abfWriter.writeABF1(np.asarray(sweeps, dtype=float), str(path), rate, units=units)
    raw = path.read_bytes()
    out = bytearray(raw[:2048]) + bytearray(12 * 512 - 2048) + bytearray(raw[2048:])
    struct.pack_into("i", out, 40, 12)                                   # lDataSectionPtr (blocks)
    if epochs:
        levels = [float(a) for a, _ in epochs] + [0.0] * (20 - len(epochs))
        durations = [int(n) for _, n in epochs] + [0] * (20 - len(epochs))
        struct.pack_into("2h", out, 2296, 1, 0)
        struct.pack_into("2h", out, 2300, 1, 0)
        struct.pack_into("20h", out, 2308, *([1] * len(epochs) + [0] * (20 - len(epochs))))
        struct.pack_into("20f", out, 2348, *levels)
        struct.pack_into("20i", out, 2508, *durations)
    struct.pack_into("8s", out, 1346, dac_unit.encode().ljust(8))
    path.write_bytes(bytes(out))
    return path


def write_nwb(path, sweeps, rate=RATE, epochs=(), response_unit_scale=1e-12, table=True):
    """An NWB file: each sweep a VoltageClampSeries (data in pA, conversion 1e-12 -> amperes) with its
    VoltageClampStimulusSeries (volts), in the intracellular-recordings table; ``epochs`` = [(start, stop, tag)]
    in the file's clock (seconds). ``table=False``: series added to acquisition and stimulus only (paired by
    sweep number)."""
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.icephys import VoltageClampSeries, VoltageClampStimulusSeries

    nwb = NWBFile(session_description="nmdakin test", identifier="nmdakin-test",
                  session_start_time=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    device = nwb.create_device(name="amplifier")
    electrode = nwb.create_icephys_electrode(name="electrode", description="whole cell", device=device)
    for k, (start, current_pa, command_mv) in enumerate(sweeps):
        stim = VoltageClampStimulusSeries(name=f"stimulus{k}", data=np.asarray(command_mv) * 1e-3,
                                          starting_time=float(start), rate=float(rate), electrode=electrode,
                                          gain=1.0, sweep_number=np.uint32(k))
        resp = VoltageClampSeries(name=f"current{k}", data=np.asarray(current_pa, dtype="float32"),
                                  conversion=response_unit_scale, starting_time=float(start), rate=float(rate),
                                  electrode=electrode, gain=1.0, sweep_number=np.uint32(k))
        if table:
            nwb.add_intracellular_recording(electrode=electrode, stimulus=stim, response=resp)
        else:
            nwb.add_acquisition(resp)
            nwb.add_stimulus(stim)
    for start, stop, tag in epochs:
        nwb.add_epoch(start_time=start, stop_time=stop, tags=[tag])
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


# --------------------------------------------------------------------------- ABF
def test_abf_sweeps_units_and_values(tmp_path):
    data = np.vstack([np.linspace(-20.0, 10.0, 2000), np.full(2000, 3.25), np.sin(np.arange(2000) / 50.0)])
    path = write_abf(tmp_path / "cell.abf", data)
    sweeps = read_abf(path)
    assert [s.index for s in sweeps] == [0, 1, 2] and [s.name for s in sweeps] == ["sweep0", "sweep1", "sweep2"]
    s = sweeps[0]
    assert s.unit == "pA" and s.time.size == 2000
    assert s.time[1] == pytest.approx(1e-4) and s.time[-1] == pytest.approx(0.1999)
    for sweep, row in zip(sweeps, data):
        assert np.max(np.abs(sweep.values - row)) < 0.01                # int16 quantisation of pyabf's writer
    assert [s.index for s in read_abf(path, sweeps=[2, -3])] == [2, 0]
    ds = sweeps[1].dataset("I", units=kx.UnitSystem(current="nA"), every=100)
    assert ds.time.tolist() == pytest.approx(np.arange(0.0, 200.0, 10.0).tolist())   # ms
    assert ds.data["I"] == pytest.approx(np.full(20, 3.25e-3), abs=1e-5)              # pA -> nA
    assert len(ds.protocol) == 0                                         # no command unless asked
    cut = sweeps[0].dataset("I", window=(50.0, 60.0), every=20)
    assert cut.time.tolist() == pytest.approx([50.0, 52.0, 54.0, 56.0, 58.0])   # times stay on the sweep's clock
    assert cut.data["I"][0] == pytest.approx(data[0][500], abs=0.01)
    with pytest.raises(ArgumentError, match=r"`every` must be an integer >= 1, got 0"):
        sweeps[0].dataset("I", every=0)


def test_abf_command_epochs_become_voltage_steps(tmp_path):
    n = 4000
    path = write_abf(tmp_path / "steps.abf", np.zeros((2, n)), epochs=[(-70.0, 200), (-80.0, 200), (-70.0, 1000)])
    s = read_abf(path, sweeps=0)[0]
    assert s.command_unit == "mV" and s.command[0] == -70.0
    ds = s.dataset("I", command_input="V")
    (comp,) = ds.protocol.components
    first = n // 64 + 200                                               # pyabf: 1/64 of the sweep pre-epoch
    assert isinstance(comp, Steps) and comp.input == "V"
    assert comp.values == (-70.0, -80.0, -70.0)
    assert comp.times == pytest.approx((0.0, first / RATE * 1e3, (first + 200) / RATE * 1e3))
    assert ds.time[-1] == pytest.approx((n - 1) / RATE * 1e3)


def test_command_protocol_ramps_and_steps():
    t = np.arange(8.0)
    (c,) = command_protocol(t, [0, 0, 2, 4, 6, 6, -1, -1], "V").components
    assert isinstance(c, Ramp)
    assert c.times == (0.0, 1.0, 4.0, 6.0, 6.0) and c.values == (0.0, 0.0, 6.0, 6.0, -1.0)
    (c,) = command_protocol(t, np.full(8, -65.0), "V").components
    assert isinstance(c, Steps) and c.times == (0.0,) and c.values == (-65.0,)
    with pytest.raises(ArgumentError, match="non-finite"):
        command_protocol(t, [0, np.nan] + [0] * 6, "V")


def _two_state_with_v(alpha=0.072, beta=0.0066):
    """Destexhe's two-state receptor with the membrane voltage as an input (for I = g*O*(V - E))."""
    base = destexhe1994.two_state()
    return kx.Scheme("two_state_vc", species=base.species,
                     parameters=[kx.Parameter("alpha", alpha, "1/(mM*ms)"), kx.Parameter("beta", beta, "1/ms")],
                     inputs=[kx.Input("glu", 0.0, "mM"), kx.Input("V", -70.0, "mV")],
                     reactions=[kx.reaction("C <-> O", "alpha*glu", "beta")])


def test_abf_leak_and_baseline_correction_then_fit_recovers_the_rates(tmp_path):
    """A voltage-clamp EPSC with a leak (0.5 nS, E = -60 mV), an offset and noise: after the baseline and the
    leak fitted on the -80 mV test step are subtracted, the fit recovers alpha and beta."""
    n, pre = 4000, 4000 // 64
    epochs = [(-70.0, 100), (-80.0, 200), (-70.0, n - pre - 400)]      # test step: 16.2 to 36.2 ms
    t_ms = np.arange(n) / RATE * 1e3
    v = np.where((t_ms >= (pre + 100) / 10) & (t_ms < (pre + 300) / 10), -80.0, -70.0)
    glu = kx.Protocol([kx.pulses("glu", [100.0], amplitude=1.0, width=1.0)])
    truth = _two_state_with_v()
    o = kx.simulate(truth, glu, t_end=t_ms[-1], t_eval=t_ms, rtol=1e-10, atol=1e-12)["O"]
    epsc = 1.0 * o * (v - 0.0)                                          # g = 1 nS, E = 0 mV: pA
    rng = np.random.default_rng(5)
    raw = epsc + 0.5 * (v + 60.0) + 3.0 + rng.normal(0.0, 0.1, (2, n))
    path = write_abf(tmp_path / "epsc.abf", raw, epochs=epochs)
    (s,) = read_abf(path, sweeps=1)
    # without the leak correction the trace sits at the leak and offset; with it, at zero before the EPSC
    plain = s.dataset("I", baseline=(0.0, 10.0))
    assert np.mean(plain.data["I"][(plain.time > 20) & (plain.time < 35)]) == pytest.approx(-5.0, abs=0.1)
    ds = s.dataset("I", baseline=(0.0, 10.0), leak=(0.0, 90.0), command_input="V", protocol=glu, every=10,
                   observables={"I": "g*O*(V - E)"}, parameters={"g": 1.0, "E": 0.0}, sigma=0.1)
    quiet = (ds.time > 20) & (ds.time < 90)
    assert np.abs(np.mean(ds.data["I"][quiet])) < 0.03
    assert ds.protocol.inputs == ("V", "glu")
    res = fit(_two_state_with_v(alpha=0.02, beta=0.02), ds, {"alpha": (1e-3, 1.0), "beta": (1e-4, 0.1)},
              n_starts=2, executor="serial", progress=False)
    assert res.values["alpha"] == pytest.approx(0.072, rel=0.05)
    assert res.values["beta"] == pytest.approx(0.0066, rel=0.05)
    # a leak window with one command level and no reversal cannot give a conductance
    with pytest.raises(ArgumentError, match=r"the leak window holds one command level \(-70\)"):
        s.dataset("I", leak=(50.0, 90.0))
    fixed = s.dataset("I", leak=(50.0, 90.0), leak_reversal=-60.0)
    assert fixed.data["I"].size == n


def test_abf_errors(tmp_path):
    path = write_abf(tmp_path / "cell.abf", np.zeros((2, 2000)))
    with pytest.raises(ArgumentError, match=r"has 2 sweep\(s\) \(0 to 1\); sweep 2 is out of range"):
        read_abf(path, sweeps=[0, 2])
    with pytest.raises(ArgumentError, match=r"has 1 channel\(s\) \(0 to 0\); channel 1 is out of range"):
        read_abf(path, channel=1)
    with pytest.raises(DataFileNotFoundError, match="data file not found"):
        read_abf(tmp_path / "missing.abf")
    junk = tmp_path / "junk.abf"
    junk.write_bytes(b"not an abf file at all" * 10)
    with pytest.raises(ArgumentError, match=r"is not a readable ABF file"):
        read_abf(junk)
    (s,) = read_abf(path, sweeps=0)
    with pytest.raises(ArgumentError, match=r"the baseline window \[500, 600\) has no points"):
        s.dataset("I", baseline=(500.0, 600.0))
    bare = Sweep(str(path), 0, "bare", s.time, s.values, "pA")             # a trace without a command
    with pytest.raises(ArgumentError, match=r"leak correction needs the recorded command \(the file has none\)"):
        bare.dataset("I", leak=(0.0, 10.0))
    with pytest.raises(ArgumentError, match=r"`command_input='V'` but the file records no command"):
        bare.dataset("I", command_input="V")
    with pytest.raises(UnitError, match=r"unknown unit `furlong` of the trace"):
        s.dataset("I", unit="furlong")
    with pytest.raises(ArgumentError, match=r"cannot tell the format"):
        read_sweeps(tmp_path / "cell.csv")
    with pytest.raises(ArgumentError, match=r"`series` does not apply to .abf files"):
        load_datasets(path, series="current0")


def test_abf_without_units_needs_them(tmp_path):
    path = write_abf(tmp_path / "nounit.abf", np.ones((1, 2000)), units="")
    (s,) = read_abf(path)
    assert s.unit is None
    with pytest.raises(UnitError, match=r"the file gives no unit for the trace; pass `unit=`"):
        s.dataset("I")
    assert s.dataset("I", unit="nA", every=500).data["I"].tolist() == pytest.approx([1000.0] * 4, abs=0.5)
    assert read_abf(path, unit="pA")[0].unit == "pA"


# --------------------------------------------------------------------------- NWB
def test_nwb_series_units_stimulus_and_epochs(tmp_path):
    n = 1000
    cmd = np.r_[np.full(200, -70.0), np.full(300, -90.0), np.full(500, -70.0)]
    path = write_nwb(tmp_path / "cell.nwb", [(0.0, np.linspace(0, -99.9, n), cmd), (2.0, np.full(n, 7.5), cmd)],
                     epochs=[(0.05, 0.052, "glutamate"), (2.05, 2.06, "glutamate"), (2.07, 2.08, "apv")])
    sweeps = read_nwb(path)
    assert [s.name for s in sweeps] == ["current0", "current1"]
    s0, s1 = sweeps
    assert s0.unit == "A" and s0.command_unit == "V" and s1.start == 2.0
    assert s0.values[:2] == pytest.approx([0.0, -1e-13], abs=1e-18)     # pA * conversion 1e-12 = amperes
    assert s1.time[0] == 0.0 and s1.time[-1] == pytest.approx(0.0999)
    assert [(tag, round(a, 9), round(b, 9)) for tag, a, b in s1.intervals] == \
        [("glutamate", 0.05, 0.06), ("apv", 0.07, 0.08)]
    ds = s1.dataset("I", command_input="V", annotations={"glutamate": ("glu", 1.0), "apv": ("apv", 0.05)})
    assert ds.data["I"] == pytest.approx(np.full(n, 7.5))               # amperes -> pA
    steps_, glu, apv = ds.protocol.components
    assert steps_.values == pytest.approx((-70.0, -90.0, -70.0)) and steps_.times == pytest.approx((0.0, 20.0, 50.0))
    assert glu.input == "glu" and glu.times == pytest.approx((50.0,)) and glu.width == pytest.approx((10.0,))
    assert apv.amplitude == 0.05 and apv.times == pytest.approx((70.0,))
    with pytest.raises(ArgumentError, match=r"has no interval tagged 'puff' \(its tags: apv, glutamate\)"):
        s1.dataset("I", annotations={"puff": ("glu", 1.0)})
    assert [s.name for s in read_nwb(path, series="current1")] == ["current1"]
    with pytest.raises(ArgumentError, match=r"has no patch-clamp series `current9`; did you mean `current1`"):
        read_nwb(path, series="current9")
    with pytest.raises(ArgumentError, match=r"has 2 sweep\(s\) \(0 to 1\); sweep 5 is out of range"):
        read_nwb(path, sweeps=5)


def test_nwb_errors(tmp_path):
    empty = write_nwb(tmp_path / "empty.nwb", [(0.0, np.zeros(0), np.zeros(0))], table=False)
    with pytest.raises(ArgumentError, match=r"sweep 0 is empty \(no samples\)"):
        read_nwb(empty)
    with pytest.raises(DataFileNotFoundError):
        read_nwb(tmp_path / "none.nwb")
    junk = tmp_path / "junk.nwb"
    junk.write_bytes(b"\x89HDF\r\n" + b"0" * 100)
    with pytest.raises(ArgumentError, match=r"is not a readable NWB file"):
        read_nwb(junk)


def destexhe_nwb(path, seed=8):
    """Two sweeps of the five-state Destexhe receptor (a 1 ms and a 200 ms glutamate application, annotated as
    NWB epochs tagged ``glutamate``), I = -50 pA * O with 1 % noise, stored in amperes at 2 kHz, 800 ms each."""
    rate, n = 2000, 1600
    truth = destexhe1994.five_state()
    t_ms = np.arange(n) / rate * 1e3
    rng = np.random.default_rng(seed)
    sweeps, epochs = [], []
    for k, width in enumerate((1.0, 200.0)):
        prot = kx.Protocol([kx.pulses("glu", [50.0], amplitude=1.0, width=width)])
        o = kx.simulate(truth, prot, t_end=t_ms[-1], t_eval=t_ms, rtol=1e-10, atol=1e-12)["O"]
        current = -50.0 * o
        current = current + rng.normal(0.0, 0.01 * np.abs(current).max(), n)
        sweeps.append((10.0 * k, current, np.full(n, -70.0)))
        epochs.append((10.0 * k + 0.05, 10.0 * k + 0.05 + width * 1e-3, "glutamate"))
    return write_nwb(path, sweeps, rate=rate, epochs=epochs)


def test_nwb_destexhe_epsc_round_trip_recovers_the_rates(tmp_path):
    """Read back and fitted from a start 2-3 fold off, Ro, Rc and Rd are recovered within 10 %."""
    truth = destexhe1994.five_state()
    path = destexhe_nwb(tmp_path / "destexhe.nwb")
    datasets = load_datasets(path, "I", annotations={"glutamate": ("glu", 1.0)}, every=2,
                             observables={"I": "-gmax*O"}, parameters={"gmax": 50.0}, name="epsc")
    assert [d.name for d in datasets] == ["epsc_0", "epsc_1"]
    assert datasets[1].protocol.components[0].width == (200.0,)          # epochs in s, protocol in ms
    tv = truth.parameter_values()
    start = truth.with_parameters({"Ro": tv["Ro"] * 3, "Rc": tv["Rc"] / 3, "Rd": tv["Rd"] * 2})
    res = fit(start, datasets, {k: (tv[k] / 10, tv[k] * 10) for k in ("Ro", "Rc", "Rd")}, n_starts=2,
              executor="serial", progress=False)
    for k in ("Ro", "Rc", "Rd"):
        assert res.values[k] == pytest.approx(tv[k], rel=0.1), k


def test_readme_recording_example_runs(tmp_path, monkeypatch):
    """The README's "Fitting a recording" snippet, run on an NWB file made as it describes."""
    import re
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    code = next(c for c in re.findall(r"```python\n(.*?)```", readme, re.S) if "load_datasets" in c)
    destexhe_nwb(tmp_path / "cell.nwb")
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(code.replace("print(res.report())", "report = res.report()"), "README.md", "exec"), namespace)
    tv = destexhe1994.five_state().parameter_values()
    for k in ("Ro", "Rc", "Rd"):
        assert namespace["res"].values[k] == pytest.approx(tv[k], rel=0.1), k
    assert "Ro" in namespace["report"]
