"""NMODL import checked against NEURON itself, on the ModelDB receptor corpus of ``tests/data/nmodl``.

Every .mod file of the corpus (``SOURCES.md``: accession, paper, licence) is compiled by NEURON's
``nrnivmodl`` (all in one call, once per session) and run in NEURON 9: a single-compartment cell held at
-60 mV, NetCon events at 1, 1.2 and 20 ms (weight 1; the second one arrives during the first one's
transmitter pulse, so NET_RECEIVE's self-events interleave) — or, for mechanisms whose transmitter is a
POINTER, a 1 mM, 1 ms transmitter pulse played into the pointer — with CVODE at rtol 1e-10, atol 1e-12 and TABLEs off.
The cell's capacitance is 1e12 uF/cm2, so the synaptic current (at most ~50 nA here) moves the membrane
by less than 1e-9 mV over the run: an exact voltage clamp without a clamp electrode's own dynamics.
NEURON runs in a fresh subprocess per mechanism (mechanism libraries cannot be unloaded from a process).

The same file is imported by :func:`kinetics.nmodl.read_nmodl_model`, driven by its NET_RECEIVE protocol
(or the same pulse) and simulated by nmdakin; the synaptic current must agree to 1e-3 of its peak at
every output time (it agrees to ~1e-7 or better). Cost: one nrnivmodl run (~25 s) and ~5 s of simulation.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kinetics as kx
from kinetics.nmodl import read_nmodl_model

DATA = Path(__file__).parent / "data" / "nmodl"
CORPUS = sorted(DATA.glob("modeldb_*/*.mod"))
V_HOLD = -60.0
T_EVENT = 1.0
EVENTS = [T_EVENT, 1.2, 20.0]   # NetCon events: the second falls inside the first one's transmitter pulse
T_END = 60.0
DT_OUT = 0.025
PULSE = (1.0, 1.0)          # mM, ms: the transmitter pulse of POINTER mechanisms
# parameters a file leaves at 0 (NEURON's default for a PARAMETER without a value)
OVERRIDES = {"GABAb3": {"gmax": 0.001}}

_DRIVER = r'''
import json, sys
import numpy as np
from neuron import h
h.load_file("stdrun.hoc")
h.nrn_load_dll(sys.argv[1])
cases = json.loads(open(sys.argv[2]).read())
out = {}
tt = np.arange(0.0, cases["t_end"] + 1e-9, cases["dt"])
for case in cases["runs"]:
    soma = h.Section(name="soma")
    soma.L = soma.diam = 10.0
    soma.cm = 1e12
    syn = getattr(h, case["mech"])(soma(0.5))
    for k, v in case["params"].items():
        if hasattr(syn, k):
            setattr(syn, k, v)
        else:
            setattr(h, k + "_" + case["mech"], v)
    keep = []
    if case["pointer"]:
        h("double nmdakin_tx[1]")
        h.setpointer(h._ref_nmdakin_tx[0], case["pointer"], syn)
        tv = h.Vector([0.0, case["t_event"], case["t_event"] + case["width"]])
        vv = h.Vector([0.0, case["amplitude"], 0.0])
        vv.play(h._ref_nmdakin_tx[0], tv)
        keep += [tv, vv]
    else:
        nc = h.NetCon(None, syn)
        nc.weight[0] = 1.0
        keep += [nc, h.FInitializeHandler(lambda nc=nc: [nc.event(te) for te in case["events"]])]
    for name in dir(h):
        if name.startswith("usetable_") and name.endswith("_" + case["mech"]):
            setattr(h, name, 0)
    tvec = h.Vector(tt)
    ivec = h.Vector()
    ivec.record(syn._ref_i, tvec)
    cv = h.CVode()
    cv.active(1)
    cv.atol(1e-12)
    cv.rtol(1e-10)
    h.celsius = cases["celsius"]
    h.finitialize(cases["v"])
    h.continuerun(cases["t_end"] + 0.1)
    out[case["mech"]] = list(ivec)
json.dump(out, open(sys.argv[3], "w"))
'''


def _nrnivmodl():
    exe = shutil.which("nrnivmodl")
    if exe is None:
        candidate = Path(sys.executable).with_name("nrnivmodl")
        exe = str(candidate) if candidate.exists() else None
    return exe


@pytest.fixture(scope="session")
def imported():
    """The corpus imported by nmdakin: {mechanism: (NmodlModel, file)}."""
    out = {}
    for path in CORPUS:
        model = read_nmodl_model(path, inputs={"v": V_HOLD})
        out[model.mechanism] = (model, path)
    return out


@pytest.fixture(scope="session")
def neuron_currents(tmp_path_factory, imported):
    """The synaptic current of every corpus mechanism simulated by NEURON: {mechanism: array (nA)}."""
    pytest.importorskip("neuron", reason="NEURON (pip install neuron) is the peer of this comparison")
    exe = _nrnivmodl()
    if exe is None:
        pytest.skip("nrnivmodl not found next to the Python interpreter or on PATH (pip install neuron)")
    folder = tmp_path_factory.mktemp("nmodl_corpus")
    for path in CORPUS:
        shutil.copy(path, folder / path.name)
    env = {**os.environ, "PATH": str(Path(exe).parent) + os.pathsep + os.environ.get("PATH", "")}
    build = subprocess.run([exe, "."], cwd=folder, capture_output=True, text=True, env=env, timeout=900)
    assert build.returncode == 0, (build.stdout[-3000:], build.stderr[-3000:])
    libs = sorted(folder.glob("*/libnrnmech.so")) + sorted(folder.glob("*/.libs/libnrnmech.so"))
    assert libs, "nrnivmodl made no libnrnmech.so"
    runs = []
    for mech, (model, _) in sorted(imported.items()):
        pointer = model.pointers[0] if model.pointers else None
        runs.append({"mech": mech, "params": OVERRIDES.get(mech, {}), "pointer": pointer, "t_event": T_EVENT,
                     "events": EVENTS, "amplitude": PULSE[0], "width": PULSE[1]})
    rundir = folder / "run"      # not the build folder: NEURON would load its x86_64/ by itself there
    rundir.mkdir()
    (rundir / "driver.py").write_text(_DRIVER)
    out = {}
    for case in runs:            # one process per mechanism: every run starts from a fresh NEURON
        cases = rundir / f"{case['mech']}.json"
        cases.write_text(json.dumps({"runs": [case], "t_end": T_END, "dt": DT_OUT, "v": V_HOLD,
                                     "celsius": kx.nmodl.NEURON_DEFAULTS["celsius"]}))
        result = rundir / f"{case['mech']}.out.json"
        run = subprocess.run([sys.executable, "driver.py", str(libs[0]), str(cases), str(result)], cwd=rundir,
                             capture_output=True, text=True, env=env, timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
        out.update(json.loads(result.read_text()))
    return {k: np.asarray(v) for k, v in out.items()}


def _nmdakin_current(model):
    params = OVERRIDES.get(model.mechanism, {})
    scheme = model.scheme.with_parameters(params) if params else model.scheme
    if model.pointers:
        protocol = kx.Protocol([kx.pulses(model.pointers[0], [T_EVENT], amplitude=PULSE[0], width=PULSE[1])])
    else:
        protocol = model.protocol(EVENTS, weight=1.0, params=params)
    t = np.arange(0.0, T_END + 1e-9, DT_OUT)
    res = kx.simulate(scheme, protocol, t_end=T_END, t_eval=t, rtol=1e-11, atol=1e-14)
    return res[model.currents[0]]


def test_corpus_is_large_and_mixed(imported):
    kinds = {"NMDA": 0, "AMPA": 0, "GABA": 0}
    text = (DATA / "SOURCES.md").read_text()
    for path in CORPUS:
        assert f"`{path.parent.name}/{path.name}`" in text, f"{path} is not listed in SOURCES.md"
        row = next(line for line in text.splitlines() if f"`{path.parent.name}/{path.name}`" in line)
        for k in kinds:
            kinds[k] += k in row.split("|")[2]
    assert len(CORPUS) >= 15 and len(imported) == len(CORPUS)
    assert min(kinds.values()) >= 2, kinds


@pytest.mark.peer
@pytest.mark.slow
def test_imported_corpus_matches_neuron(imported, neuron_currents):
    errors = {}
    for mech, (model, path) in sorted(imported.items()):
        ref = neuron_currents[mech]
        ours = _nmdakin_current(model)
        assert ref.shape == ours.shape, mech
        peak = np.max(np.abs(ref))
        assert peak > 0, f"{mech}: NEURON current is zero"
        errors[f"{path.parent.name}/{path.name}"] = float(np.max(np.abs(ours - ref)) / peak)
    print("\nmax |I_nmdakin - I_NEURON| / max |I_NEURON| per file:")
    for k, v in errors.items():
        print(f"  {k:40s} {v:.2e}")
    bad = {k: v for k, v in errors.items() if not v <= 1e-3}
    assert not bad, f"NMODL import differs from NEURON by more than 1e-3 of the peak current: {bad}"
