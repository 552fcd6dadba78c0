"""Every library model through every export, each checked by a real peer.

Peers: libRoadRunner runs the exported SBML, NEURON (nrnivmodl + CVODE) the
exported NMODL, gcc the exported C, a Python subprocess the exported module.
Each trajectory is compared with nmdakin's own (``kinetics.simulate``, tight
tolerances) under the same protocol: square transmitter pulses, a voltage step
with a back-propagating-AP waveform, and a state jump.

Agreement criterion for a state x(t) on the output grid: ``max|x_peer - x_nk|
<= tol * (max|x_nk| + 1e-7)`` (relative to the state's own scale, with an
absolute floor far below any state the models use: 1e-7 in model units).
tol = 1e-4 for SBML/libRoadRunner (the issue's bar) and 1e-3 for NEURON; C and
Python use the same bar as SBML.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import kinetics as kx
from kinetics.exporters import ExportWarning, export
from kinetics.jsonformat import read_json
from kinetics.units import dimension

T_END = 200.0
T_EVAL = np.linspace(0.0, T_END, 801)   # 0.25 ms grid; the jump at 80.3 ms is off the grid
RTOL, ATOL = 1e-10, 1e-12
FLOOR = 1e-7


def demo_protocol(scheme, *, waveform=True):
    """Pulses on inputs at rest (0), a step to -40 mV (+ a bAP) on voltage inputs, a jump of the first state."""
    comps = []
    vdim = dimension("mV")
    for u in scheme.inputs:
        if u.unit is not None and dimension(u.unit) == vdim:
            comps.append(kx.steps(u.name, [0.0], [-40.0]))
            if waveform:
                comps.append(kx.waveform(u.name, [40.0], kx.biexponential(60.0, 0.5, 3.0)))
        elif u.default == 0:
            comps.append(kx.pulses(u.name, [5.0, 25.0, 60.0], amplitude=1.0, width=1.0))
    first = scheme.species[0]
    comps.append(kx.jumps(first.name, [80.3], 0.1 * (abs(first.initial) + 0.1)))
    return kx.Protocol(comps)


def _library() -> dict:
    """Every library scheme: zero-argument builders of models/, all Destexhe rate sets, Mg-block current models."""
    from models import calcium, destexhe1994, mg_block
    from models.cli_export import library_builders

    out = {}
    for name, builder in library_builders().items():
        try:
            out[name] = builder()
        except kx.KineticsError:
            continue  # builders that need arguments are covered below
    for rate_set in destexhe1994.rate_set_names():
        for factors in (False, True):
            out[f"destexhe1994.five_state:{rate_set}:{'stat' if factors else 'plain'}"] = \
                destexhe1994.five_state(rate_set, statistical_factors=factors)
    out["mg_block(five_state)"] = mg_block.with_nmda_current(destexhe1994.five_state())
    out["mg_block(two_state)"] = mg_block.with_nmda_current(destexhe1994.two_state())
    out["calcium.spine_calcium(vgcc)"] = calcium.spine_calcium(mg_block.with_nmda_current(destexhe1994.five_state()),
                                                               vgcc=True)
    return out


def _reserved_words() -> kx.Scheme:
    """Names that are reserved in C (int, y, exp, i), Python (int, y, min) and NMODL (NET_RECEIVE, area, dt...)."""
    import sympy

    S = sympy.Symbol
    return kx.Scheme(
        "reserved words",
        species=[kx.Species("int", 1.0, "1"), kx.Species("NET_RECEIVE", 0.0, "1"), kx.Species("y", 0.0, "1")],
        parameters=[kx.Parameter("exp", 0.5, "1/(mM*ms)", note="test value"),
                    kx.Parameter("area", 0.1, "1/ms", note="test value"),
                    kx.Parameter("min", 0.2, "1/ms", note="test value")],
        inputs=[kx.Input("dt", 0.0, "mM")],
        reactions=[kx.reaction("int -> NET_RECEIVE", S("exp") * S("dt")),
                   kx.reaction("NET_RECEIVE <-> y", S("area"), S("min"))],
        observables=[kx.Observable("i", S("int") + S("y"))])


LIBRARY = _library()
# one scheme per structure for the compiled peers (rate sets differ only in parameter values)
STRUCTURES = {k: s for k, s in LIBRARY.items() if not k.startswith("destexhe1994.five_state:")
              or k == "destexhe1994.five_state:hessler1993:stat"}
# what the compiled peers (gcc, Python, NEURON) run: the structures and a scheme of reserved words
COMPILED = {**STRUCTURES, "reserved_words": _reserved_words()}


def test_library_is_found():
    # the library this file checks: at least the models the issue names
    for name in ("destexhe1994.five_state", "destexhe1994.two_state", "mg_block(five_state)"):
        assert name in LIBRARY
    assert len([k for k in LIBRARY if k.startswith("destexhe1994.five_state:")]) == 10


def _reference(scheme, protocol):
    return kx.simulate(scheme, protocol, t_end=T_END, t_eval=T_EVAL, rtol=RTOL, atol=ATOL)


def _worst(peer: np.ndarray, ref: np.ndarray, names) -> tuple:
    """(worst scaled error, state) over columns; arrays are (n_t, n_states)."""
    errs = np.max(np.abs(peer - ref), axis=0) / (np.max(np.abs(ref), axis=0) + FLOOR)
    j = int(np.argmax(errs))
    return float(errs[j]), names[j]


# --------------------------------------------------------------------------- SBML -> libRoadRunner
@pytest.mark.peer
@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_sbml_matches_roadrunner(name):
    roadrunner = pytest.importorskip("roadrunner")
    libsbml = pytest.importorskip("libsbml")
    scheme = LIBRARY[name]
    protocol = demo_protocol(scheme)
    xml = export(scheme, "sbml", protocol=protocol, t_end=T_END)
    doc = libsbml.readSBMLFromString(xml)
    assert doc.getNumErrors() == 0
    doc.checkConsistency()
    errors = [doc.getError(i).getMessage() for i in range(doc.getNumErrors())
              if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    assert errors == []
    model = doc.getModel()
    # units declared: model time/extent units and every constant parameter
    assert model.isSetTimeUnits() and model.isSetExtentUnits() and model.isSetSubstanceUnits()
    for i in range(model.getNumParameters()):
        p = model.getParameter(i)
        if p.getConstant():
            assert p.isSetUnits(), p.getId()
    ref = _reference(scheme, protocol)
    rr = roadrunner.RoadRunner(xml)
    rr.integrator.relative_tolerance = RTOL
    rr.integrator.absolute_tolerance = ATOL
    rr.integrator.maximum_num_steps = 10 ** 6
    selections = []
    for sp in scheme.species_names:
        s = model.getSpecies(sp)   # None for states exported as parameters with rate rules
        selections.append(sp if s is None or s.getHasOnlySubstanceUnits() else f"[{sp}]")
    rr.timeCourseSelections = ["time"] + selections
    out = rr.simulate(0.0, T_END, len(T_EVAL))
    assert np.allclose(out[:, 0], T_EVAL)
    err, where = _worst(np.asarray(out[:, 1:]), ref.y, scheme.species_names)
    assert err < 1e-4, f"{name}: libRoadRunner differs by {err:.2e} (scaled) in `{where}`"


@pytest.mark.parametrize("name", sorted(STRUCTURES))
def test_sbml_round_trip_is_exact(name):
    """export -> read_sbml gives the same scheme (values, units, sources, reaction forms)."""
    from kinetics.sbml_import import read_sbml

    scheme = STRUCTURES[name]
    back = read_sbml(export(scheme, "sbml"))
    assert back == scheme
    assert kx.derive(back).rhs == kx.derive(scheme).rhs


@pytest.mark.parametrize("name", ["mg_block(five_state)", "graupner_brunel2012.scheme", "tsodyks_markram.scheme"])
def test_sbml_round_trip_with_protocol_reproduces_the_simulation(name):
    from kinetics.sbml_import import read_sbml_model

    scheme = LIBRARY[name]
    protocol = demo_protocol(scheme)
    model = read_sbml_model(export(scheme, "sbml", protocol=protocol, t_end=T_END))
    assert model.t_end == T_END
    ref = _reference(scheme, protocol)
    df = model.simulate(T_END, T_EVAL, rtol=RTOL, atol=ATOL)
    got = np.column_stack([df[n].to_numpy() for n in scheme.species_names])
    err, where = _worst(got, ref.y, scheme.species_names)
    assert err < 1e-8, f"{name}: {err:.2e} in {where}"


# --------------------------------------------------------------------------- JSON
@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_json_round_trip_is_exact(name):
    scheme = LIBRARY[name]
    back = read_json(export(scheme, "json"))
    assert back == scheme
    assert kx.derive(back).rhs == kx.derive(scheme).rhs
    for a, b in zip(back.parameters, scheme.parameters):
        assert (a.name, a.value, a.unit, a.bounds, a.reference, a.note) == \
               (b.name, b.value, b.unit, b.bounds, b.reference, b.note)


# --------------------------------------------------------------------------- C (gcc)
@pytest.mark.peer
@pytest.mark.parametrize("name", sorted(COMPILED))
def test_c_export_compiles_and_matches(name, tmp_path):
    cc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    scheme = COMPILED[name]
    protocol = demo_protocol(scheme)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExportWarning)
        src = export(scheme, "c", tmp_path / "model.c", protocol=protocol, t_end=T_END, prefix="nkm")
    exe = tmp_path / "model"
    build = subprocess.run([cc, "-O1", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-DNKM_MAIN",
                            "-o", str(exe), str(tmp_path / "model.c"), "-lm"], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-3000:]
    assert "nkm_jacobian" in src
    run = subprocess.run([str(exe), str(len(T_EVAL)), str(T_END), "1e-10", "1e-12"], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    header = run.stdout.splitlines()[0].split(",")
    assert header == ["time", *scheme.species_names]
    data = np.loadtxt(io.StringIO(run.stdout), delimiter=",", skiprows=1)
    assert np.allclose(data[:, 0], T_EVAL, rtol=0, atol=1e-12)
    err, where = _worst(data[:, 1:], _reference(scheme, protocol).y, scheme.species_names)
    assert err < 1e-4, f"{name}: C differs by {err:.2e} (scaled) in `{where}`"


def test_reserved_words_are_renamed_and_said(tmp_path):
    scheme = COMPILED["reserved_words"]
    with pytest.warns(ExportWarning, match=r"C export renamed .*`int` -> `int_`.*`exp` -> `exp_`"):
        c = export(scheme, "c")
    assert "renamed: int -> int_ (reserved word in the target language)" in c
    with pytest.warns(ExportWarning) as record:
        mod = export(scheme, "nmodl")
    messages = " ".join(str(w.message) for w in record)
    assert "NMODL export renamed" in messages and "`NET_RECEIVE` -> `NET_RECEIVE_`" in messages
    assert "`y` -> `y_`" in messages  # nocmodl would declare y0, a libm function, for the state y
    assert all(w.filename == __file__ for w in record)  # attributed to the caller
    assert "~ int_ <-> NET_RECEIVE_" in mod and "NET_RECEIVE(w_dt_)" in mod
    with pytest.warns(ExportWarning, match=r"Python export renamed .*`min` -> `min_`"):
        py = export(scheme, "python")
    assert "min_ = p[2]" in py


@pytest.mark.peer
def test_c_jacobian_is_the_derivative_of_the_rhs(tmp_path):
    """The exported Jacobian equals sympy's (the derived one), evaluated through ctypes at random points."""
    import ctypes

    cc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    scheme = LIBRARY["mg_block(five_state)"]
    export(scheme, "c", tmp_path / "m.c", prefix="m")
    lib_path = tmp_path / "m.so"
    build = subprocess.run([cc, "-O1", "-std=c99", "-shared", "-fPIC", "-o", str(lib_path), str(tmp_path / "m.c"),
                            "-lm"], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    lib = ctypes.CDLL(str(lib_path))
    n = len(scheme.species)
    system = kx.derive(scheme)
    from kinetics.compile import numpy_functions

    f = numpy_functions(system)
    p = np.array([p.value * scheme.parameter_factors()[p.name] for p in scheme.parameters])
    rng = np.random.default_rng(7)
    dbl = ctypes.POINTER(ctypes.c_double)
    for _ in range(5):
        y = rng.random(n)
        u = np.array([rng.random(), -60.0 + 20 * rng.random(), 1.0])
        J = np.zeros(n * n)
        dy = np.zeros(n)
        args = [np.ascontiguousarray(a, dtype=float) for a in (y, p, u)]
        lib.m_jacobian(ctypes.c_double(0.0), *[a.ctypes.data_as(dbl) for a in args], J.ctypes.data_as(dbl))
        lib.m_rhs(ctypes.c_double(0.0), *[a.ctypes.data_as(dbl) for a in args], dy.ctypes.data_as(dbl))
        assert np.allclose(J.reshape(n, n), f.jac(0.0, y, p, u), rtol=1e-13, atol=1e-15)
        assert np.allclose(dy, f.rhs(0.0, y, p, u), rtol=1e-13, atol=1e-15)


# --------------------------------------------------------------------------- Python (subprocess)
@pytest.mark.peer
@pytest.mark.slow
def test_python_export_runs_standalone_and_matches(tmp_path):
    for name, scheme in sorted(COMPILED.items()):
        protocol = demo_protocol(scheme)
        path = tmp_path / "model.py"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExportWarning)
            export(scheme, "python", path, protocol=protocol, t_end=T_END)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # numpy and scipy only
        run = subprocess.run([sys.executable, "-I", str(path), "--points", str(len(T_EVAL)), "--rtol", "1e-10",
                              "--atol", "1e-12"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
        assert run.returncode == 0, f"{name}: {run.stderr[-2000:]}"
        header = run.stdout.splitlines()[0].split(",")
        assert header[: 1 + len(scheme.species)] == ["time", *scheme.species_names]
        data = np.loadtxt(io.StringIO(run.stdout), delimiter=",", skiprows=1)
        ref = _reference(scheme, protocol)
        err, where = _worst(data[:, 1:1 + len(scheme.species)], ref.y, scheme.species_names)
        assert err < 1e-4, f"{name}: Python module differs by {err:.2e} (scaled) in `{where}`"
        for k, obs in enumerate(scheme.observable_names):
            col = data[:, 1 + len(scheme.species) + k]
            assert np.allclose(col, ref[obs], rtol=1e-4, atol=1e-6 * (np.max(np.abs(ref[obs])) + 1e-9)), (name, obs)


# --------------------------------------------------------------------------- NMODL -> NEURON
def _nrnivmodl():
    exe = shutil.which("nrnivmodl")
    if exe is None:
        candidate = Path(sys.executable).with_name("nrnivmodl")
        exe = str(candidate) if candidate.exists() else None
    return exe


def _mech(name: str) -> str:
    return "nk_" + "".join(c if c.isalnum() else "_" for c in name)


@pytest.fixture(scope="module")
def neuron_mechanisms(tmp_path_factory):
    """Every library structure exported to NMODL and compiled once (one nrnivmodl run) for this module."""
    pytest.importorskip("neuron")
    exe = _nrnivmodl()
    if exe is None:
        pytest.skip("nrnivmodl not found (pip install neuron)")
    folder = tmp_path_factory.mktemp("nmodl")
    names = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExportWarning)
        for name, scheme in COMPILED.items():
            mech = _mech(name)
            export(scheme, "nmodl", folder / f"{mech}.mod", protocol=demo_protocol(scheme, waveform=False),
                   t_end=T_END, voltage="parameter", name=mech)
            names[name] = mech
        mech = "nk_mg5_v"  # the same receptor reading NEURON's v and injecting its current
        export(LIBRARY["mg_block(five_state)"], "nmodl", folder / f"{mech}.mod", name=mech, voltage="v")
        names["mg5_v"] = mech
    env = {**os.environ, "PATH": str(Path(exe).parent) + os.pathsep + os.environ.get("PATH", "")}
    build = subprocess.run([exe, "."], cwd=folder, capture_output=True, text=True, env=env, timeout=600)
    assert build.returncode == 0, (build.stdout[-3000:], build.stderr[-3000:])
    return folder, names, env


def _run_neuron(script: str, folder: Path, env) -> None:
    path = folder / "driver.py"
    path.write_text(script)
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env, cwd=folder, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]


@pytest.mark.peer
@pytest.mark.slow
def test_nmodl_runs_in_neuron_and_matches(neuron_mechanisms):
    from kinetics.exporters.nmodl import neuron_script

    folder, names, env = neuron_mechanisms
    worst = {}
    for name, scheme in sorted(COMPILED.items()):
        protocol = demo_protocol(scheme, waveform=False)
        csv = folder / f"{names[name]}.csv"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExportWarning)
            script = neuron_script(scheme, protocol, t_end=T_END, t_eval=T_EVAL, mod_dir=str(folder), csv=str(csv),
                                   name=names[name], voltage="parameter")
        _run_neuron(script, folder, env)
        data = np.loadtxt(csv, delimiter=",", skiprows=1)
        assert np.allclose(data[:, 0], T_EVAL, atol=1e-9)
        err, where = _worst(data[:, 1:1 + len(scheme.species)], _reference(scheme, protocol).y, scheme.species_names)
        worst[name] = (err, where)
    bad = {k: v for k, v in worst.items() if v[0] >= 1e-3}
    assert not bad, f"NEURON differs from nmdakin by >= 1e-3 (scaled): {bad}"


@pytest.mark.peer
@pytest.mark.slow
def test_nmodl_reads_v_and_writes_the_nmda_current(neuron_mechanisms):
    """voltage='v': the mechanism sees the clamped membrane potential; its current is I_NMDA in nA."""
    from kinetics.exporters.nmodl import neuron_script

    folder, names, env = neuron_mechanisms
    scheme = LIBRARY["mg_block(five_state)"]
    protocol = kx.Protocol([kx.pulses("glu", [5.0, 25.0]), kx.steps("V", [0.0], [-40.0])])
    csv = folder / "mg5_v.csv"
    script = neuron_script(scheme, protocol, t_end=T_END, t_eval=T_EVAL, mod_dir=str(folder), csv=str(csv),
                           name=names["mg5_v"], voltage="v", clamp=True)
    _run_neuron(script, folder, env)
    data = np.loadtxt(csv, delimiter=",", skiprows=1)
    ref = _reference(scheme, protocol)
    err, where = _worst(data[:, 1:6], ref.y, scheme.species_names)
    assert err < 1e-3, f"{err:.2e} in {where}"
    i_nA = data[:, 6]
    expected = ref["I_NMDA"] * 1e-3  # pA -> nA
    assert np.max(np.abs(i_nA - expected)) < 1e-3 * np.max(np.abs(expected))
    assert np.min(expected) < 0  # inward current at -40 mV
