"""Start-up: a compiled model is found in the on-disk cache by its code identity (the scheme's structure key and
the code generator's identity) before any symbolic work, and a warm process simulates without deriving anything
(kinetics/model.py, kinetics/native/__init__.py build_keyed, kinetics/codegen.py generator_identity).

Cost: about 6 s (three fresh interpreters, a handful of small compilations).
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import sympy

import kinetics.native as native
from kinetics import (Input, Observable, Parameter, Protocol, RateRule, Scheme, Species, compile as compile_model,
                      pulses, reaction, simulate)
from kinetics.codegen import c_source, generator_identity
from kinetics.native import compiler_available
from kinetics.odesystem import derive
from kinetics.units import UnitSystem

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler available")

ROOT = Path(__file__).resolve().parents[1]


PARAMETERS = [Parameter("kon", 5.0, "1/(mM*ms)"), Parameter("koff", 0.1, "1/ms"), Parameter("g", 2.0, "1/ms"),
              Parameter("v", 2.0), Parameter("tau", 20.0, "ms")]


def toy(**changes) -> Scheme:
    """Binding with an input, a rate rule and two observables (one inside the other and inside the rate rule);
    dimensionally consistent (ms, mM)."""
    parts = dict(
        species=[Species("R", 1.0), Species("AR", 0.0), Species("Ca", 0.0)],
        parameters=PARAMETERS,
        inputs=[Input("L", 0.0, "mM")],
        reactions=[reaction("R <-> AR", "kon*L", "koff")],
        observables=[Observable("B", "1/(1 + exp(-0.06*v))"), Observable("I", "g*B*AR")],
        rate_rules=[RateRule("Ca", "I - Ca/tau")],
    )
    name = changes.pop("name", "toy")
    parts.update(changes)
    return Scheme(name, **parts)


def _without_comment(source: str) -> str:
    return source.split("\n", 1)[1]          # the first line names the scheme (a comment)


# --------------------------------------------------------------------------------------------- the key

SAME_CODE = {   # differences the generated code does not depend on: one key
    "parameter value": lambda: toy(parameters=[PARAMETERS[0].with_value(7.0), *PARAMETERS[1:]]),
    "initial value": lambda: toy(species=[Species("R", 0.5), Species("AR", 0.5), Species("Ca", 0.0)]),
    "input default": lambda: toy(inputs=[Input("L", 1.0, "mM")]),
    "scheme name": lambda: toy(name="other", description="d", reference="r"),
    "reaction name": lambda: toy(reactions=[reaction("R <-> AR", "kon*L", "koff", name="binding")]),
}

OTHER_CODE = {  # every part codegen reads: a key of its own
    "species order": lambda: toy(species=[Species("AR", 0.0), Species("R", 1.0), Species("Ca", 0.0)]),
    "species renamed": lambda: toy().rename({"AR": "LR"}),
    "extra species": lambda: toy(species=[Species("R", 1.0), Species("AR", 0.0), Species("Ca", 0.0),
                                          Species("X", 0.0)]),
    "parameter order": lambda: toy(parameters=[PARAMETERS[1], PARAMETERS[0], *PARAMETERS[2:]]),
    "parameter unit": lambda: toy(parameters=[PARAMETERS[0], Parameter("koff", 100.0, "1/s"), *PARAMETERS[2:]]),
    "unit system": lambda: toy(units=UnitSystem(time="s")),
    "extra parameter": lambda: toy(parameters=[*PARAMETERS, Parameter("q", 1.0)]),
    "input renamed": lambda: toy().rename({"L": "glu"}),
    "extra input": lambda: toy(inputs=[Input("L", 0.0, "mM"), Input("V", -70.0, "mV")]),
    "reactant coefficient": lambda: toy(reactions=[reaction("2 R <-> AR", "kon", "koff")]),
    "product": lambda: toy(reactions=[reaction("R <-> AR + Ca", "kon*L", "kon")]),
    "forward rate": lambda: toy(reactions=[reaction("R <-> AR", "2*kon*L", "koff")]),
    "reverse rate": lambda: toy(reactions=[reaction("R <-> AR", "kon*L", "koff*v")]),
    "irreversible": lambda: toy(reactions=[reaction("R -> AR", "kon*L")]),
    "rate law": lambda: toy(reactions=[reaction("R -> AR", rate="kon*L*R - koff*AR")]),
    "extra reaction": lambda: toy(reactions=[reaction("R <-> AR", "kon*L", "koff"), reaction("AR -> R", "g")]),
    "observable expression": lambda: toy(observables=[Observable("B", "1/(1 + exp(-0.07*v))"),
                                                      Observable("I", "g*B*AR")]),
    "observable renamed": lambda: toy(observables=[Observable("B", "1/(1 + exp(-0.06*v))"),
                                                   Observable("J", "g*B*AR")],
                                      rate_rules=[RateRule("Ca", "J - Ca/tau")]),
    "observable order": lambda: toy(observables=[Observable("I", "g*B*AR"), Observable("B", "1/(1 + exp(-0.06*v))")]),
    "rate rule": lambda: toy(rate_rules=[RateRule("Ca", "I - 2*Ca/tau")]),
    "no rate rule": lambda: toy(rate_rules=[]),
}


def test_equal_schemes_built_twice_share_a_key_and_code():
    a, b = toy(), toy()
    assert a is not b and compile_model(a) is not compile_model(b)
    assert compile_model(a).code_identity() == compile_model(b).code_identity()
    for name, make in SAME_CODE.items():
        s = make()
        assert compile_model(s).code_identity() == compile_model(a).code_identity(), name
        assert _without_comment(c_source(derive(s))) == _without_comment(c_source(derive(a))), name


def test_every_part_codegen_reads_changes_the_key():
    base = compile_model(toy()).code_identity()
    keys = {"base": base}
    for name, make in OTHER_CODE.items():
        key = compile_model(make()).code_identity()
        assert key not in keys.values(), f"{name} shares the key of {[k for k, v in keys.items() if v == key]}"
        keys[name] = key
    # and the property the key exists for: schemes whose generated code differs never share a key
    sources = {}
    for name, make in {**SAME_CODE, **OTHER_CODE}.items():
        s = make()
        sources.setdefault(compile_model(s).code_identity(), set()).add(_without_comment(c_source(derive(s))))
    assert all(len(v) == 1 for v in sources.values())


def test_code_generator_template_and_flags_are_part_of_the_key(tmp_path, monkeypatch):
    block = ("#define NK_NSTATE 1\n#define NK_NPARAM 1\n"
             "static void nk_rhs(double t, const double *y, const double *p, const double *u, double *f)"
             "{ f[0] = -p[0]*y[0]; }\n"
             "static void nk_jac(double t, const double *y, const double *p, const double *u, double *J)"
             "{ J[0] = -p[0]; }\n")
    path = native.build_keyed("test: decay", lambda: block, cache_dir=tmp_path)

    def not_built():
        raise LookupError("not found: the source is asked for")
    assert native.build_keyed("test: decay", not_built, cache_dir=tmp_path) == path
    with pytest.raises(LookupError):
        native.build_keyed("test: decay 2", not_built, cache_dir=tmp_path)
    with monkeypatch.context() as m:            # another integrator template
        template = native._template()
        m.setattr(native, "_template", lambda: template + "\n/* changed */\n")
        native._template_sha256.cache_clear()
        with pytest.raises(LookupError):
            native.build_keyed("test: decay", not_built, cache_dir=tmp_path)
    native._template_sha256.cache_clear()
    with monkeypatch.context() as m:            # other flags
        m.setattr(native, "CFLAGS", ("-O0",) + native.CFLAGS[1:])
        with pytest.raises(LookupError):
            native.build_keyed("test: decay", not_built, cache_dir=tmp_path)
    with monkeypatch.context() as m:            # another code generator version
        import kinetics.codegen as codegen
        before = generator_identity()
        m.setattr(codegen, "CODEGEN_VERSION", codegen.CODEGEN_VERSION + 1)
        generator_identity.cache_clear()
        assert generator_identity() != before
        assert generator_identity("fitting/sensitivity.py") != generator_identity()
    generator_identity.cache_clear()
    assert native.build_keyed("test: decay", not_built, cache_dir=tmp_path) == path


def test_build_keyed_refuses_an_empty_identity(tmp_path):
    with pytest.raises(ValueError, match="non-empty identity"):
        native.build_keyed("", lambda: "", cache_dir=tmp_path)


# --------------------------------------------------------------------------------------------- observables in C

def test_native_observables_equal_the_lambdified_ones():
    s = toy()
    m = compile_model(s)
    res = simulate(s, Protocol([pulses("L", [1.0, 5.0], amplitude=1.0, width=1.0)]), t_end=20.0, n_points=41)
    solver = m.native_solver()
    assert solver.n_observables == 2 and m.observable_function() == solver.observables
    U = res.inputs.T
    P = np.tile(res.p_model[:, None], (1, res.t.size)) * np.linspace(0.5, 1.5, res.t.size)
    for args in ((res.t, res.y.T, res.p_model, U), (res.t, res.y.T, P, U), (3.0, res.y[-1], res.p_model, U[:, -1])):
        native_vals = solver.observables(*args)
        numpy_vals = m.numpy.observables(*args)
        for a, b in zip(native_vals, numpy_vals):
            np.testing.assert_allclose(a, np.broadcast_to(b, np.shape(a)), rtol=1e-13, atol=0)
    # I = g * B * AR with B = 1/(1 + exp(-0.06 v)) at v = 2, g = 2 /ms
    b = 1.0 / (1.0 + math.exp(-0.12))
    np.testing.assert_allclose(res["B"], b, rtol=1e-15)
    np.testing.assert_allclose(res["I"], 2.0 * b * res["AR"], rtol=1e-14)
    with pytest.raises(ValueError, match=r"Y must have shape \(3,\)"):
        solver.observables(res.t, res.y, res.p_model, U)


def test_observable_that_c_cannot_print_comes_from_numpy():
    s = toy(observables=[Observable("B", "1/(1 + exp(-0.06*v))"), Observable("I", "g*B*AR"),
                         Observable("Re", sympy.re(sympy.Symbol("AR")))])
    m = compile_model(s)
    res = simulate(s, Protocol([pulses("L", [1.0], amplitude=1.0, width=1.0)]), t_end=5.0, n_points=11)
    assert res.method == "auto" and m.native_solver().n_observables == -1
    with pytest.raises(ValueError, match="no observables written in C"):
        m.native_solver().observables(res.t, res.y.T, res.p_model, res.inputs.T)
    np.testing.assert_array_equal(res["Re"], res["AR"])


# --------------------------------------------------------------------------------------------- a warm process

RUN = """
    import sys, warnings
    warnings.simplefilter("error", RuntimeWarning)
    from kinetics.native import NativeCacheWarning
    warnings.simplefilter("always", NativeCacheWarning)
    sys.path.insert(0, {tests!r})
    if {forbid!r}:
        import sympy
        import kinetics.codegen as cg, kinetics.odesystem as od
        def boom(*a, **k):
            raise AssertionError("symbolic work on a warm start")
        od.OdeSystem._derive = boom
        od._derive_equations = boom
        cg.c_source = cg.numpy_functions = boom
        sympy.cse = sympy.lambdify = boom
    import numpy as np
    import kinetics as kx
    from test_startup_cache import toy
    s = toy()
    res = kx.simulate(s, kx.Protocol([kx.pulses("L", [1.0, 5.0], amplitude=1.0, width=1.0)]), t_end=20.0,
                      n_points=21, rtol=1e-10, atol=1e-12)
    m = kx.compile(s)
    sens = m.sensitivity_solver(["koff"], ["R"])
    from kinetics.fitting.sensitivity import augmented_segments
    sched = m.schedule(kx.Protocol([kx.pulses("L", [1.0], amplitude=1.0, width=1.0)]), 0.0, 5.0)
    y, dy, _ = sens.solve(m.parameter_vector(), m.initial_state(), augmented_segments(sched, sens),
                          np.linspace(0.0, 5.0, 6), rtol=1e-10, atol=1e-12)
    import json
    print(json.dumps([float(res["AR"][-1]), float(res["I"][-1]), float(res["Ca"][-1]), float(dy[-1, 1, 0]),
                      float(dy[-1, 1, 1])]))
"""


def run(cache, forbid: bool):
    env = dict(os.environ, NMDAKIN_CACHE_DIR=str(cache), MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(
                   os.pathsep) if p]))
    code = textwrap.dedent(RUN.format(tests=str(ROOT / "tests"), forbid=forbid))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def test_warm_process_derives_nothing_and_a_tampered_library_is_rebuilt(tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(AssertionError, match="symbolic work on a warm start"):
        run(cache, forbid=True)                                      # cold: the guard does fire
    cold, _ = run(cache, forbid=False)
    # the warm process agrees bit for bit and never touches sympy's derivation, code generation or lambdify
    warm, err = run(cache, forbid=True)
    assert warm == cold and "NativeCacheWarning" not in err
    assert all(math.isfinite(v) for v in cold) and cold[3] < 0      # d AR / d koff < 0 during binding
    libs = sorted(cache.glob("nk_*.so"))
    assert len(libs) == 2                                            # plain and sensitivities
    for lib in libs:                                                  # damaged: refused, derived and rebuilt
        data = bytearray(lib.read_bytes())
        data[len(data) // 2] ^= 0xFF
        lib.write_bytes(bytes(data))
    again, err = run(cache, forbid=False)
    assert again == cold
    assert err.count("discarding the compile cache entry") == 2 and "SHA-256 does not match" in err
    assert run(cache, forbid=True)[0] == cold
