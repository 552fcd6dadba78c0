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
import re
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
    from models.cli.export import library_builders

    out, dropped = {}, set()
    for name, builder in library_builders().items():
        try:
            out[name] = builder()
        except kx.KineticsError:
            dropped.add(name)  # builders that need arguments are covered below
    # only the builder that needs a receptor scheme may drop out: any other would shrink peer coverage silently
    assert dropped == {"calcium.spine_calcium"}, f"library builders that failed: {sorted(dropped)}"
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
        "reserved_words",
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
    from kinetics.sbml import read_sbml

    scheme = STRUCTURES[name]
    back = read_sbml(export(scheme, "sbml"))
    assert back == scheme
    assert kx.derive(back).rhs == kx.derive(scheme).rhs


@pytest.mark.parametrize("name", ["mg_block(five_state)", "graupner_brunel2012.scheme", "tsodyks_markram.scheme"])
def test_sbml_round_trip_with_protocol_reproduces_the_simulation(name):
    from kinetics.sbml import read_sbml_model

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
    # the export runs simulate's own integrator (same method, tolerances and steps): agreement to round-off
    assert err < 1e-9, f"{name}: C differs by {err:.2e} (scaled) in `{where}` from simulate's native integrator"


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
    from kinetics.codegen import numpy_functions

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


def _robertson() -> kx.Scheme:
    """Robertson's stiff chemical kinetics (rate constants 0.04, 3e7, 1e4): eigenvalues down to ~ -1e4."""
    return kx.Scheme(
        "robertson",
        species=[kx.Species("A", 1.0, "mM"), kx.Species("B", 0.0, "mM"), kx.Species("C", 0.0, "mM")],
        parameters=[kx.Parameter("k1", 0.04, "1/ms", note="test value"),
                    kx.Parameter("k2", 3e7, "1/(mM*ms)", note="test value"),
                    kx.Parameter("k3", 1e4, "1/(mM*ms)", note="test value")],
        reactions=[kx.reaction("A -> B", "k1"), kx.reaction("2 B -> B + C", "k2"),
                   kx.reaction("B + C -> A + C", "k3")])


def test_c_export_carries_the_native_integrator_once_and_no_other():
    """The exported file is the native path's model block + kinetics/native/integrator.c, each verbatim and once."""
    from importlib import resources

    from kinetics.codegen import c_source

    template = resources.files("kinetics.native").joinpath("integrator.c").read_text(encoding="utf-8").rstrip()
    scheme = LIBRARY["mg_block(five_state)"]
    src = export(scheme, "c", protocol=demo_protocol(scheme), t_end=T_END, prefix="nkm")
    assert src.count(template) == 1
    assert src.count(c_source(kx.derive(scheme)).rstrip()) == 1
    for definition in ("static int nk_dopri5_segment(nk_ctx", "static int nk_rodas_segment(nk_ctx",
                       "NK_EXPORT int nk_solve(", "static const double DP_A21"):
        assert src.count(definition) == 1, definition
    code = src.replace(template, "")
    # no second Runge-Kutta: neither the old export's stepper nor any Dormand-Prince table outside the template
    assert "_advance(" not in code and "Dormand" not in code
    assert not re.search(r"\b(?:a21|b1|e1|c2)\b|44\.0\s*/\s*45|19372", code)
    # global symbols carry the prefix; a prefix that would clash with the integrator is refused or avoided
    assert "#define nk_solve nkm_nk_solve" in src and "nkm_nk_solve(" not in template
    with pytest.raises(kx.ArgumentError, match="prefix"):
        export(scheme, "c", prefix="nk")
    assert "void nk_model_rhs(" in export(_robertson().replace(name="nk"), "c")


@pytest.mark.peer
def test_c_export_solves_a_stiff_model_like_simulate(tmp_path):
    """Robertson to t = 4e4: the exported program switches to RODAS4 like kinetics.simulate and agrees with it
    (the old export's explicit DOPRI5 gave up after 5e7 steps)."""
    import ctypes

    cc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    scheme, t_end, n = _robertson(), 4e4, 401
    export(scheme, "c", tmp_path / "rob.c", t_end=t_end, prefix="rob")
    exe, lib_path = tmp_path / "rob", tmp_path / "rob.so"
    for extra, out in ((["-DROB_MAIN"], exe), (["-shared", "-fPIC"], lib_path)):
        build = subprocess.run([cc, "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", *extra, "-o",
                                str(out), str(tmp_path / "rob.c"), "-lm"], capture_output=True, text=True)
        assert build.returncode == 0, build.stderr[-3000:]
    run = subprocess.run([str(exe), str(n), str(t_end), "1e-8", "1e-12"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    data = np.loadtxt(io.StringIO(run.stdout), delimiter=",", skiprows=1)
    t_eval = np.linspace(0.0, t_end, n)
    assert np.allclose(data[:, 0], t_eval, rtol=1e-15, atol=0)
    ref = kx.simulate(scheme, t_end=t_end, t_eval=t_eval, rtol=1e-8, atol=1e-12)
    err = np.max(np.abs(data[:, 1:] - ref.y), axis=0) / np.max(np.abs(ref.y), axis=0)
    assert np.all(err < 1e-6), err
    assert np.allclose(data[:, 1:].sum(axis=1), 1.0, rtol=1e-7)          # A + B + C is conserved
    # the stiffness detector fired: the same path as simulate's
    lib = ctypes.CDLL(str(lib_path))
    dbl = ctypes.POINTER(ctypes.c_double)
    t_out, y_out, atol, stats = np.array([t_end]), np.zeros(3), np.full(3, 1e-12), np.zeros(16)
    p = (ctypes.c_double * 3).in_dll(lib, "rob_default_params")
    y0 = (ctypes.c_double * 3).in_dll(lib, "rob_initial_state")
    lib.rob_simulate_ex.argtypes = [dbl, dbl, ctypes.c_int, dbl, dbl, ctypes.c_int, ctypes.c_double, dbl,
                                    ctypes.c_long, dbl]
    rc = lib.rob_simulate_ex(p, y0, 1, *[a.ctypes.data_as(dbl) for a in (t_out, y_out)], 0, 1e-8,
                             atol.ctypes.data_as(dbl), 0, stats.ctypes.data_as(dbl))
    assert rc == 0 and np.array_equal(y_out, data[-1, 1:])
    assert stats[6] >= 1 and stats[7] > 0 and stats[0] < 2000        # switches, rodas steps, accepted steps


@pytest.mark.peer
def test_two_exported_models_link_into_one_program(tmp_path):
    """Every global symbol of an export has its prefix (the integrator's too): two models link together."""
    cc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    export(_robertson(), "c", tmp_path / "a.c", prefix="ma")
    export(LIBRARY["destexhe1994.two_state"], "c", tmp_path / "b.c", prefix="mb")
    (tmp_path / "main.c").write_text(
        "#include <stdio.h>\n"
        "int ma_simulate(const double *, const double *, int, const double *, double *, double, double);\n"
        "int mb_simulate(const double *, const double *, int, const double *, double *, double, double);\n"
        "extern const double ma_default_params[], ma_initial_state[], mb_default_params[], mb_initial_state[];\n"
        "int main(void) {\n"
        "    double t[2] = {0.0, 10.0}, ya[6], yb[64];\n"
        "    int ra = ma_simulate(ma_default_params, ma_initial_state, 2, t, ya, 1e-8, 1e-12);\n"
        "    int rb = mb_simulate(mb_default_params, mb_initial_state, 2, t, yb, 1e-8, 1e-12);\n"
        "    printf(\"%d %d %.12g\\n\", ra, rb, ya[3] + ya[4] + ya[5]);\n"
        "    return ra || rb;\n"
        "}\n")
    build = subprocess.run([cc, "-O1", "-std=c99", "-Wall", "-Werror", "-o", str(tmp_path / "both"),
                            *[str(tmp_path / f) for f in ("a.c", "b.c", "main.c")], "-lm"],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-3000:]
    run = subprocess.run([str(tmp_path / "both")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.split() == ["0", "0", "1"], run.stdout + run.stderr


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


# --------------------------------------------------------------------------- LaTeX (no TeX engine needed)
# No TeX engine can be a dependency, so the exported LaTeX is checked here for what makes a TeX engine stop:
# unbalanced braces, environments or math shifts, macros without the package that defines them (or unknown
# ones), math-only syntax in text and text-only macros in math, alignment tabs outside alignments, text in the
# preamble. The content is then read back from the LaTeX (one table row per parameter with value, unit, the
# value the equations use and the source text; one line per reaction; one ODE per species), and every math
# fragment is laid out by matplotlib's mathtext (a real parser of TeX math).
_TEX_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\\$|%[^\n]*|[{}$&^_#~]|\n|[^\\{}$&^_#~%\n]+", re.S)
_GREEK = ("alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi rho "
          "sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega")
# macro -> (package defining it or None for the LaTeX kernel, where it is valid)
_MACROS = {
    **{g: (None, "math") for g in _GREEK.split()},
    **{m: (None, "math") for m in ("frac", "mathrm", "left", "right", "cdot", "times", "geq", "leq", "neq", "to",
                                   "rightarrow", "longrightarrow", "log", "exp", "sin", "cos", "tanh", "sqrt",
                                   "min", "max", "infty", "pm")},
    **{m: (None, "text") for m in ("section", "subsection", "paragraph", "par", "item", "textbackslash",
                                   "textasciitilde", "textasciicircum")},
    **{m: (None, "any") for m in ("dots", "ldots", "quad", "qquad", "textwidth")},
    "documentclass": (None, "preamble"), "usepackage": (None, "preamble"),
    "allowdisplaybreaks": ("amsmath", "preamble"),
    "xrightleftharpoons": ("mathtools", "math"), "xrightarrow": ("amsmath", "math"),
    "text": ("amsmath", "math"), "operatorname": ("amsmath", "math"), "varnothing": ("amssymb", "math"),
    "toprule": ("booktabs", "table"), "midrule": ("booktabs", "table"), "bottomrule": ("booktabs", "table"),
}
_ENVIRONMENTS = {"document": None, "itemize": None, "align*": "amsmath", "cases": "amsmath",
                 "longtable": "longtable"}
_ALIGNMENTS = {"align*", "cases", "longtable"}
_PACKAGE_LOADS = {"mathtools": {"amsmath"}, "amssymb": {"amsfonts"}}
_TEXT_SYMBOLS = {"\\&": "&", "\\%": "%", "\\$": "$", "\\#": "#", "\\_": "_", "\\{": "{", "\\}": "}"}
_TEXT_WORDS = {"\\textbackslash": "\\", "\\textasciitilde": "~", "\\textasciicircum": "^"}
_MATH_SPACES = {"\\;", "\\:", "\\!"}


def _tex_tokens(tex: str) -> list:
    tokens = _TEX_TOKEN.findall(tex)
    assert "".join(tokens) == tex
    return [t for t in tokens if not t.startswith("%")]


def _tex_problems(tex: str, *, standalone: bool) -> tuple:
    """(problems a TeX engine would stop on, inline math fragments) of a LaTeX document or fragment."""
    toks = _tex_tokens(tex)
    problems, fragments, packages, needed = [], [], set(), {}
    envs = []        # (name, brace depth, math mode outside it)
    braces = []      # math mode outside each open brace
    math, pending_text, inline = False, False, None   # inline: (token index, brace depth) of an open `$`
    preamble, begun, ended = standalone, 0, None
    first = next((k for k, t in enumerate(toks) if t.strip()), None)

    def group(j):    # `{name}` at token j -> (name, index after)
        if j + 2 < len(toks) and toks[j] == "{" and toks[j + 2] == "}":
            return toks[j + 1], j + 3
        problems.append(f"expected {{name}} after {toks[j - 1]}")
        return "", j

    def options(j):  # skip an optional `[...]` argument
        return j + 1 if j < len(toks) and toks[j].startswith("[") and toks[j].endswith("]") else j

    i = 0
    while i < len(toks):
        t = toks[i]
        if ended is not None and t.strip():
            problems.append(f"text after \\end{{document}}: {t!r}")
        if preamble and t.strip() and not t.startswith("\\"):
            problems.append(f"text in the preamble: {t!r}")
        if t == "{":
            braces.append(math)
            math = False if pending_text else math
            pending_text = False
        elif pending_text and t.strip():
            problems.append("\\text without its {argument}")
            pending_text = False
        if t == "}":
            if braces:
                math = braces.pop()
            else:
                problems.append("`}` without its `{`")
        elif t == "$":
            if inline is not None:
                if inline[1] != len(braces):
                    problems.append("inline math closed at another brace depth")
                fragments.append("".join(toks[inline[0] + 1:i]))
                inline, math = None, False
            elif math:
                problems.append("`$` in math mode")
            else:
                inline, math = (i, len(braces)), True
        elif t == "\n" and inline is not None and "".join(toks[i + 1:i + 3]).strip(" ").startswith("\n"):
            problems.append("blank line inside inline math")
        elif t in ("_", "^") and not math:
            problems.append(f"`{t}` outside math (Missing $ inserted)")
        elif t == "#":
            problems.append("unescaped `#`")
        elif t in ("&", "\\\\"):
            if not envs or envs[-1][0] not in _ALIGNMENTS:
                problems.append(f"`{t}` outside an alignment")
            elif envs[-1][1] != len(braces):
                problems.append(f"`{t}` inside braces in {envs[-1][0]}")
        elif t.startswith("\\") and t[1:2].isalpha():
            name = t[1:]
            if name in ("begin", "end"):
                env, j = group(i + 1)
                if env not in _ENVIRONMENTS:
                    problems.append(f"unknown environment {env}")
                elif _ENVIRONMENTS[env]:
                    needed.setdefault(_ENVIRONMENTS[env], f"{env} environment")
                if name == "begin":
                    if env == "document":
                        begun += 1
                        preamble = False
                        if not standalone:
                            problems.append("\\begin{document} in a fragment")
                    elif preamble:
                        problems.append(f"\\begin{{{env}}} in the preamble")
                    if env == "cases" and not math or env in ("align*", "itemize", "longtable") and math:
                        problems.append(f"\\begin{{{env}}} in {'text' if not math else 'math'} mode")
                    envs.append((env, len(braces), math))
                    math = math or env == "align*"
                else:
                    if not envs or envs[-1][0] != env:
                        problems.append(f"\\end{{{env}}} closes {envs[-1][0] if envs else 'nothing'}")
                    else:
                        if envs[-1][1] != len(braces):
                            problems.append(f"\\end{{{env}}} at another brace depth than its \\begin")
                        math = envs.pop()[2]
                    if env == "document":
                        ended = j
                i = j
                continue
            if name not in _MACROS:
                problems.append(f"unknown macro {t} (say which package defines it)")
            else:
                package, where = _MACROS[name]
                if package:
                    needed.setdefault(package, t)
                if where == "math" and not math or where == "text" and math:
                    problems.append(f"{t} in {'math' if math else 'text'} mode")
                if where == "preamble" and not preamble:
                    problems.append(f"{t} outside the preamble")
                if where == "table" and (not envs or envs[-1][0] != "longtable"):
                    problems.append(f"{t} outside a table")
            if name == "documentclass":
                if i != first:
                    problems.append("\\documentclass is not the first command")
                cls, i = group(options(i + 1))
                continue
            if name == "usepackage":
                pkgs, i = group(options(i + 1))
                packages.update(p.strip() for p in pkgs.split(","))
                continue
            pending_text = name == "text"
        elif t.startswith("\\") and t not in _TEXT_SYMBOLS and t not in _MATH_SPACES | {"\\,", "\\ "}:
            problems.append(f"unexpected control symbol {t!r}")
        elif t in _MATH_SPACES and not math:
            problems.append(f"{t} outside math")
        i += 1
    if braces:
        problems.append(f"{len(braces)} `{{` never closed")
    if envs:
        problems.append(f"environments never closed: {[e[0] for e in envs]}")
    if inline is not None:
        problems.append("inline math never closed")
    if standalone:
        if begun != 1 or ended is None:
            problems.append(f"\\begin{{document}} x{begun}, \\end{{document}} {'present' if ended else 'missing'}")
        loaded = packages.union(*[_PACKAGE_LOADS.get(p, set()) for p in packages])
        problems += [f"{macro} needs \\usepackage{{{p}}}" for p, macro in needed.items() if p not in loaded]
    return problems, fragments


def _tex_group(s: str, i: int) -> tuple:
    """(content, index after) of the `{...}` or `[...]` group at s[i]; `\\x` is skipped, braces nest."""
    close, depth, j = {"{": "}", "[": "]"}[s[i]], 0, i + 1
    while j < len(s):
        c = s[j]
        if c == "\\":
            j += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}" and depth:
            depth -= 1
        elif c == close and depth == 0:
            return s[i + 1:j], j + 1
        j += 1
    raise AssertionError(f"unclosed group: {s[i:i + 80]!r}")


def _tex_split(text: str, sep: str) -> list:
    """Split at `sep` tokens (`&` or `\\\\`) outside braces and nested environments."""
    out, cur, depth = [], [], 0
    for t in _tex_tokens(text):
        depth += {"{": 1, "}": -1, "\\begin": 1, "\\end": -1}.get(t, 0)
        if t == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(t)
    return out + ["".join(cur)]


def _for_mathtext(tex: str) -> str:
    """Display math as matplotlib's mathtext reads it: arrows with labels stacked, cases on one line."""
    out, i = [], 0
    while i < len(tex):
        if tex.startswith(r"\xrightleftharpoons", i):
            below, j = _tex_group(tex, i + len(r"\xrightleftharpoons"))
            above, j = _tex_group(tex, j)
            out.append(rf"\overset{{{_for_mathtext(above)}}}{{\underset{{{_for_mathtext(below)}}}"
                       r"{\rightleftharpoons}}")
            i = j
        elif tex.startswith(r"\xrightarrow", i):
            above, i = _tex_group(tex, i + len(r"\xrightarrow"))
            out.append(rf"\overset{{{_for_mathtext(above)}}}{{\rightarrow}}")
        elif tex.startswith(r"\begin{cases}", i):
            out.append(r"\left\{ ")
            i += len(r"\begin{cases}")
        elif tex.startswith(r"\end{cases}", i):
            out.append(r"\right. ")
            i += len(r"\end{cases}")
        elif tex.startswith("\\\\", i):
            out.append(r";\ ")
            i += 2
        elif tex[i] == "\\":
            out.append(tex[i:i + 2])
            i += 2
        else:
            out.append(r"\ " if tex[i] == "&" else tex[i])
            i += 1
    return "".join(out)


_MATHTEXT_PARSED = set()   # fragments laid out already (composed models repeat their parts' equations)


def _mathtext_failures(fragments) -> list:
    """The fragments matplotlib's mathtext cannot parse and lay out, with its message."""
    from matplotlib.mathtext import MathTextParser

    parser = MathTextParser("path")
    failures = []
    for f in fragments:
        if f in _MATHTEXT_PARSED:
            continue
        try:
            parser.parse(f"${f}$")
        except ValueError as exc:
            failures.append((f[:200], str(exc).splitlines()[:3]))
        else:
            _MATHTEXT_PARSED.add(f)
    return failures


def _spelled(tex: str) -> str:
    """The letters of a typeset name: `\\tau_{\\mathrm{eCB},\\mathrm{clear}}` -> `taueCBclear`."""
    return re.sub(r"\\mathrm|\\,|[{}_,\\ ]", "", tex)


def _plain_text(tex: str) -> str:
    """Text with LaTeX's escapes read back; anything else LaTeX would treat specially is an error."""
    toks, out, i = _tex_tokens(tex), [], 0
    while i < len(toks):
        t = toks[i]
        if t in _TEXT_SYMBOLS:
            out.append(_TEXT_SYMBOLS[t])
        elif t in _TEXT_WORDS and toks[i + 1:i + 3] == ["{", "}"]:
            out.append(_TEXT_WORDS[t])
            i += 2
        elif t.startswith("\\") or t in "{}$&^_#~":
            raise AssertionError(f"unescaped {t!r} in text {tex[:200]!r}")
        else:
            out.append(t)
        i += 1
    return "".join(out)


_TEX_QUANTITY = re.compile(r"\$(?P<m>-?\d+(?:\.\d+)?)(?:\\times 10\^\{(?P<e>-?\d+)\})?"
                           r"(?:\\;\\mathrm\{(?P<unit>.*)\})?\$")


def _quantity(cell: str) -> tuple:
    """(value, unit text for kinetics.units) of a table cell `$1.5\\times 10^{-3}\\;\\mathrm{\\mu M^{-1}\\,s}$`."""
    m = _TEX_QUANTITY.fullmatch(cell.strip())
    assert m, f"not a quantity: {cell!r}"
    value = float(m["m"]) * 10.0 ** int(m["e"] or 0)
    if m["unit"] is None:
        return value, "1"
    parts = []
    for part in m["unit"].split(r"\,"):
        part = part.replace(r"\mu ", "u").replace(r"\Omega", "Ohm").replace(r"\%", "%")
        pm = re.fullmatch(r"([A-Za-z%]+)(?:\^\{(-?\d+)\})?", part)
        assert pm, f"unit part {part!r} of {cell!r}"
        parts.append(pm[1] + (f"^{pm[2]}" if pm[2] else ""))
    return value, "*".join(parts)


def _align(tex: str, paragraph: str) -> list:
    m = re.search(r"\\paragraph\{" + re.escape(paragraph) + r"\}\s*\\begin\{align\*\}\n(.*?)\n\\end\{align\*\}",
                  tex, re.S)
    assert m, f"no align* after \\paragraph{{{paragraph}}}"
    return [line.strip() for line in _tex_split(m[1], "\\\\")]


def _check_latex_content(scheme, tex: str) -> list:
    """Assert the LaTeX holds the scheme (read back from the text); return its display-math lines."""
    from kinetics.units import convert, dimension

    lines = []
    # one line per reaction, the arrow its kind, each side the reactants/products with their coefficients
    if scheme.reactions:
        reaction_lines = _align(tex, "Reaction scheme")
        assert len(reaction_lines) == len(scheme.reactions)
        for r, line in zip(scheme.reactions, reaction_lines):
            cells = _tex_split(line, "&")
            arrow = (r"\longrightarrow" if r.rate is not None
                     else r"\xrightleftharpoons" if r.reverse is not None else r"\xrightarrow")
            # `lhs &\\longrightarrow rhs && v = flux` (general rate law) or `lhs &\\xrightarrow{k} rhs`
            assert len(cells) == (4 if r.rate is not None else 2) and cells[1].startswith(arrow), line
            rest = cells[1][len(arrow):]
            if r.rate is None:
                labels = []
                while rest[:1] in ("[", "{"):
                    label, k = _tex_group(rest, 0)
                    labels.append(label)
                    rest = rest[k:]
                assert len(labels) == (2 if r.reverse is not None else 1) and all(x.strip() for x in labels), line
            else:
                assert cells[2] == "" and cells[3].startswith(" v = ") and cells[3][5:].strip(), line

            def side(pairs):
                return sorted(("" if c == 1 else str(c)) + x.replace("_", "") for x, c in pairs) or ["varnothing"]

            assert sorted(_spelled(x) for x in cells[0].split(" + ")) == side(r.reactants), line
            assert sorted(_spelled(x) for x in rest.split(" + ")) == side(r.products), line
        lines += reaction_lines
    # one ODE per species, in order
    odes = _align(tex, "Differential equations")
    assert len(odes) == len(scheme.species)
    for sp, line in zip(scheme.species, odes):
        lhs, rhs = _tex_split(line, "&")
        m = re.fullmatch(r"\\frac\{\\mathrm\{d\}(.*)\}\{\\mathrm\{d\}t\}", lhs.strip())
        assert m and _spelled(m[1]) == sp.name.replace("_", "") and rhs.startswith("= "), line
    lines += odes
    if scheme.observables:
        obs = _align(tex, "Observables")
        assert sorted(_spelled(_tex_split(x, "&")[0]) for x in obs) == \
               sorted(n.replace("_", "") for n in scheme.observable_names)
        lines += obs
    assert tex.count(r"\item ") == len(scheme.inputs)
    # initial values, exactly
    m = re.search(r"\\paragraph\{Initial values\} \$(.*)\$\n", tex)
    values = m[1].split(r",\; ")
    assert len(values) == len(scheme.species)
    for sp, text in zip(scheme.species, values):
        vm = re.fullmatch(r"(.*)\(0\) = (\S+)", text)
        assert vm and _spelled(vm[1]) == sp.name.replace("_", "") and float(vm[2]) == sp.initial, text
    # the parameter table: one row of four columns per parameter
    if scheme.parameters:
        m = re.search(r"\\begin\{longtable\}(\{.*?\})\n\\toprule\n(.*?)\\midrule\n(.*?)\\bottomrule\n"
                      r"\\end\{longtable\}", tex, re.S)
        assert m, "no parameter table"
        spec = re.sub(r"\{[^{}]*\}", "", _tex_group(m[1], 0)[0])
        assert len(spec) == 4 and set(spec) <= set("lcrp")
        assert len(_tex_split(_tex_split(m[2], "\\\\")[0], "&")) == 4
        rows = [r for r in _tex_split(m[3], "\\\\") if r.strip()]
        assert len(rows) == len(scheme.parameters)
        factors = scheme.parameter_factors()
        for p, row in zip(scheme.parameters, rows):
            cells = _tex_split(row, "&")
            assert len(cells) == 4, row
            sym = re.fullmatch(r"\$(.*)\$", cells[0].strip())
            assert sym and _spelled(sym[1]) == p.name.replace("_", ""), row
            declared, unit = _quantity(cells[1])
            assert declared == pytest.approx(p.value, rel=5e-6, abs=0), row
            assert dimension(unit) == dimension(p.unit) and convert(1.0, p.unit, unit) == pytest.approx(1.0), row
            used, used_unit = _quantity(cells[2])
            assert used == pytest.approx(p.value * factors[p.name], rel=5e-6, abs=0), row
            assert used == pytest.approx(convert(declared, unit, used_unit), rel=1e-5, abs=0), row
            source = "; ".join(x for x in (p.reference, p.note) if x) or "---"
            assert _plain_text(cells[3].strip()) == source.strip(), row
    return lines


def _special_characters() -> kx.Scheme:
    """Every kind of line the LaTeX export writes, with TeX's special characters in every text field."""
    specials = "Smith_1 & Jones (2001) Table #2: 50% of $5 {fast} ~ x^2 \\ end"
    return kx.Scheme(
        "specials_",  # names are identifiers; the special characters are in every free-text field
        species=[kx.Species("A", 1.0, "mM"), kx.Species("B_2", 0.0, "mM"), kx.Species("tau_m", 1e-05, "mM")],
        parameters=[kx.Parameter("k_on", 5.0, "1/(uM*s)", reference=specials, note="test value; k_on_fast"),
                    kx.Parameter("alpha", 0.1, "1/ms", note="test value"),
                    kx.Parameter("V_h", -40.0, "mV", bounds=(-100.0, 0.0), note="test value 100%"),
                    kx.Parameter("g", 50.0, "pS", reference="a {reference} with _ and #")],
        inputs=[kx.Input("glu", 0.0, "mM", note="pulses_ 100% #1 & {x}"), kx.Input("V", -65.0, "mV")],
        reactions=[kx.reaction("2 A <-> B_2", "k_on", "alpha"),
                   kx.reaction("B_2 -> tau_m", "alpha*heaviside(V - V_h)"),
                   kx.reaction("-> A", rate="alpha*glu")],
        observables=[kx.Observable("I_x", "g*B_2*(V - V_h)"), kx.Observable("p", "piecewise(A, V > V_h, B_2)")],
        description="50% of 100$ & #1 {x}_y ~ ^ \\ end", reference="ref_a & b")


LATEX_CASES = {**LIBRARY, "special characters": _special_characters()}


@pytest.mark.parametrize("name", sorted(LATEX_CASES))
def test_latex_is_well_formed_complete_and_its_math_renders(name):
    scheme = LATEX_CASES[name]
    tex = export(scheme, "latex")
    problems, inline = _tex_problems(tex, standalone=True)
    assert problems == [], name
    display = _check_latex_content(scheme, tex)
    failures = _mathtext_failures(inline + [_for_mathtext(x) for x in display])
    assert failures == [], name
    fragment = export(scheme, "latex", standalone=False)
    assert _tex_problems(fragment, standalone=False) == ([], inline)   # same math; no preamble, no document
    assert fragment.split(r"\subsection*", 1)[1] == tex.split(r"\section*", 1)[1].replace("\\end{document}\n", "")


def _mutations(tex: str) -> dict:
    """Faults a TeX engine would stop on, each made in a correct export."""
    first_row = re.search(r"\\midrule\n(.*?\\\\\n)", tex).group(1)
    return {
        "needs \\usepackage{mathtools}": tex.replace("\\usepackage{mathtools}\n", ""),
        "needs \\usepackage{longtable}": tex.replace("\\usepackage{longtable}\n", ""),
        "needs \\usepackage{booktabs}": tex.replace("\\usepackage{booktabs}\n", ""),
        "\\end{document} closes longtable": tex.replace("\\end{longtable}\n", ""),
        "environments never closed": tex.replace("\\end{document}\n", ""),
        "closes align*": tex.replace("\\end{align*}", "\\end{align}", 1),
        "never closed": tex.replace("{\\mathrm{d}t}", "{\\mathrm{d}t", 1),
        "`}` without its `{`": tex.replace("\\frac{\\mathrm{d}", "\\frac\\mathrm{d}", 1),
        "outside math": tex.replace("\\_", "_", 1),
        "unescaped `#`": tex.replace("\\#", "#", 1),
        "inline math never closed": tex.replace("\\dots$", "\\dots", 1),
        "unknown macro \\xrightleftharpoon": tex.replace("\\xrightleftharpoons", "\\xrightleftharpoon", 1),
        "\\alpha in text mode": tex.replace("\\paragraph{Parameters}", "\\paragraph{Parameters} \\alpha", 1),
        "outside an alignment": tex.replace("\\begin{align*}", "\\begin{itemize}", 1).replace(
            "\\end{align*}", "\\end{itemize}", 1),
        "\\begin{document} x0": tex.replace("\\begin{document}\n", ""),
        "text in the preamble": tex.replace("\\begin{document}\n", "").replace("\\end{document}\n", ""),
        "row": tex.replace(first_row, "", 1),
        "reaction": re.sub(r"\\begin\{align\*\}\n.*? \\\\\n", "\\\\begin{align*}\n", tex, count=1),
    }


def test_latex_checks_catch_faults_a_tex_engine_would_stop_on():
    """The checks above are not vacuous: each fault is found (the structure or the content read back)."""
    scheme = LATEX_CASES["special characters"]
    tex = export(scheme, "latex")
    assert _tex_problems(tex, standalone=True)[0] == []
    for expected, bad in _mutations(tex).items():
        assert bad != tex, expected
        problems, _ = _tex_problems(bad, standalone=True)
        if expected in ("row", "reaction"):
            assert problems == []
            with pytest.raises(AssertionError):
                _check_latex_content(scheme, bad)
        else:
            assert any(expected in p for p in problems), (expected, problems)
    assert _mathtext_failures([r"\frac{1}{", r"\alpha + \nosuchmacro"]) != []
