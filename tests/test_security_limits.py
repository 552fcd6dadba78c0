"""Limits that keep hostile or mistaken input from hanging, exhausting memory or crashing the engine.

Each case of the security issue: short inputs that used to run for minutes (towers of constants, huge exact
powers, nested SBML function definitions), crash (OverflowError, RecursionError, MemoryError, int-digit
ValueError, sympy printer errors) or pass silently (zero-width pulses, negative initial values, zero degrees of
freedom, NaN observables). Cases that used to hang run in a subprocess (libsbml is C++: a signal cannot stop
it) or under an alarm, so a regression fails within seconds instead of hanging the test run.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from models import scheme_builder
import kinetics as kx
from kinetics.errors import ArgumentError, ParseError, ProtocolError, SchemeError, SolverError
from kinetics.expressions import parse_equation, parse_expression

#: Wall-clock bound of an operation that used to hang.
BOUND = 10.0
#: Extra time a fresh interpreter may need to import kinetics (and libsbml).
STARTUP = 40.0


# --------------------------------------------------------------------------- helpers
class Hang(Exception):
    """The operation took longer than its bound."""


@contextmanager
def deadline(seconds: float = BOUND):
    """Fail with :class:`Hang` if the block runs longer than ``seconds`` (Python-level code only)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise Hang(f"took more than {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_isolated(code: str, tmp_path: Path, seconds: float = BOUND) -> None:
    """Run ``code`` (which uses pytest.raises itself) in a fresh interpreter; the timed part must end within
    ``seconds`` and the whole process within ``seconds + STARTUP``, or the test fails (and the child is killed)."""
    body = textwrap.indent(textwrap.dedent(code), "    ")
    program = ("import time, pytest\n"
               "from kinetics.errors import ArgumentError, ParseError, SchemeError\n"
               "start = time.perf_counter()\n"
               "if True:\n" + body + "\n"
               "elapsed = time.perf_counter() - start\n"
               f"assert elapsed < {seconds}, f'took {{elapsed:.1f}} s'\n"
               "print('OK')\n")
    env = dict(os.environ)
    env.setdefault("NMDAKIN_CACHE_DIR", str(tmp_path / "cache"))
    try:
        proc = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=tmp_path,
                              timeout=seconds + STARTUP, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"hang: still running after {seconds + STARTUP:.0f} s")
    assert proc.returncode == 0 and proc.stdout.strip().endswith("OK"), \
        f"exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"


def decay_scheme(observables=()):
    return kx.Scheme("decay", species=[kx.Species("A", 2.0)], parameters=[kx.Parameter("k", 1.0, "1/ms")],
                     reactions=[kx.reaction("A ->", "k")], observables=list(observables))


def input_scheme():
    return kx.Scheme("inflow", species=[kx.Species("A", 0.0)], inputs=[kx.Input("glu", 0.0)],
                     parameters=[kx.Parameter("k", 1.0, "1/ms")], reactions=[kx.reaction("-> A", "k*glu")])


# --------------------------------------------------------------------------- A. expressions
@pytest.mark.parametrize("text", [
    "x + exp(exp(exp(exp(exp(exp(1))))))",          # ran for minutes (the printer evaluated the tower)
    "pow(100, exp(123456789)) + x",                 # ran for minutes
])
def test_towers_of_constants_are_refused_quickly(text, tmp_path):
    run_isolated(f"""
        from kinetics.expressions import parse_expression
        with pytest.raises(ParseError, match=r"constant subexpression .* outside the double precision range"):
            parse_expression({text!r})
    """, tmp_path)


@pytest.mark.parametrize("text", [
    "2**2**2**2**2**2**2**2**(1/256)",              # raised a raw OverflowError
    "x + 2^2^2^2^2^2^2^2^(1/256)",
    "exp(700)*exp(700)*x",                          # sympy merges them into exp(1400)
    "10**400*x",                                    # an exact integer no double can hold
    "10**400",
    "cosh(800) + x",
])
def test_constants_beyond_double_range_are_parse_errors(text):
    with deadline():
        with pytest.raises(ParseError, match=r"outside the double precision range"):
            parse_expression(text)


def test_constants_within_double_range_still_parse():
    with deadline():
        assert parse_expression("exp(709)*x") == parse_expression("x*exp(709)")
        assert parse_expression("2^1000 + x") is not None
        assert parse_expression("x + exp(-exp(700))") is not None      # underflows to 0: harmless
        assert parse_expression("2**2000/2**1999 + x") == parse_expression("x + 2")


def test_huge_stoichiometric_coefficient_in_an_equation():
    with pytest.raises(ParseError, match=r"stoichiometric coefficient of `A` is too large \(at most 64\)"):
        parse_equation("9" * 5000 + " A -> B")
    with pytest.raises(ParseError, match=r"too large \(at most 64\)"):
        parse_equation("65 A -> B")
    assert parse_equation("64 A -> B") == ((("A", 64),), (("B", 1),), False)


# --------------------------------------------------------------------------- A. SBML
_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
         '<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">\n'
         '<model id="m" timeUnits="second">\n')
_MATH = 'xmlns="http://www.w3.org/1998/Math/MathML"'


def sbml(rate_mathml: str, functions: str = "") -> str:
    """A one-species, one-reaction SBML document with the given kinetic law (MathML content)."""
    return (_HEAD + functions +
            '<listOfCompartments><compartment id="c" size="1" constant="true" spatialDimensions="3"/>'
            '</listOfCompartments>\n'
            '<listOfSpecies><species id="A" compartment="c" initialConcentration="1" '
            'hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>\n'
            '<listOfParameters><parameter id="k" value="1" constant="true"/></listOfParameters>\n'
            '<listOfReactions><reaction id="r" reversible="false"><listOfReactants>'
            '<speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>'
            f'<kineticLaw><math {_MATH}>{rate_mathml}</math></kineticLaw></reaction></listOfReactions>\n'
            '</model>\n</sbml>\n')


def nested_functions(n: int) -> str:
    fds = []
    for i in range(n):
        body = "<ci>x</ci>" if i == 0 else f"<apply><ci>f{i - 1}</ci><ci>x</ci></apply>"
        fds.append(f'<functionDefinition id="f{i}"><math {_MATH}><lambda><bvar><ci>x</ci></bvar>{body}'
                   "</lambda></math></functionDefinition>")
    return sbml(f"<apply><times/><apply><ci>f{n - 1}</ci><ci>k</ci></apply><ci>A</ci></apply>",
                "<listOfFunctionDefinitions>" + "".join(fds) + "</listOfFunctionDefinitions>\n")


def nested_math(n: int) -> str:
    inner = "<ci>A</ci>"
    for _ in range(n):
        inner = f"<apply><abs/>{inner}</apply>"
    return sbml(f"<apply><times/><ci>k</ci>{inner}</apply>")


def _cn(v):
    return f'<cn type="integer">{v}</cn>'


@pytest.mark.parametrize("name, document, error, match", [
    ("power", sbml("<apply><times/><ci>k</ci><ci>A</ci><apply><power/>" + _cn(9) + "<apply><power/>" + _cn(9)
                   + _cn(9) + "</apply></apply></apply>"), "ParseError", r"exponent 387420489 is too large"),
    ("functions", nested_functions(200), "SchemeError",
     r"function definitions calling each other deeper than 64 levels"),
    ("mathml3000", nested_math(3000), "ParseError", r"nested too deeply \(more than 300 levels"),
    ("mathml50000", nested_math(50000), "ParseError", r"nested too deeply"),   # libsbml segfaulted
])
def test_sbml_resource_limits_apply_before_the_work(name, document, error, match, tmp_path):
    pytest.importorskip("libsbml")
    path = tmp_path / f"{name}.xml"
    path.write_text(document)
    run_isolated(f"""
        from kinetics.sbml import read_sbml
        with pytest.raises({error}, match={match!r}):
            read_sbml({str(path)!r})
        with pytest.raises({error}, match={match!r}):
            read_sbml(open({str(path)!r}).read())
    """, tmp_path)


def test_sbml_function_nesting_within_the_limit_is_read():
    pytest.importorskip("libsbml")
    from kinetics.sbml import read_sbml

    s = read_sbml(nested_functions(30))
    res = kx.simulate(s, t_end=1.0, t_eval=[0.0, 1.0], rtol=1e-10, atol=1e-12)
    assert res["A"][-1] == pytest.approx(np.exp(-1.0), rel=1e-7)


@pytest.mark.parametrize("fname", ["floor", "ceiling"])
def test_sbml_floor_and_ceiling_of_a_species_are_clear_errors(fname):
    pytest.importorskip("libsbml")
    from kinetics.sbml import read_sbml

    with pytest.raises(SchemeError, match=rf"unsupported SBML construct: `{fname}` of an expression of `A` "
                                          r"\(kinetic law of reaction `r`\).*no derivative"):
        read_sbml(sbml(f"<apply><times/><ci>k</ci><apply><{fname}/><ci>A</ci></apply></apply>"))


def test_sbml_floor_of_time_is_supported():
    pytest.importorskip("libsbml")
    from kinetics.sbml import read_sbml

    t = ('<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol>')
    s = read_sbml(sbml(f"<apply><times/><ci>k</ci><ci>A</ci><apply><floor/>{t}</apply></apply>"))
    res = kx.simulate(s, t_end=2.5, t_eval=[0.0, 2.5], rtol=1e-10, atol=1e-12)
    # d ln A / dt = -floor(t): ln A(2.5) = -(0 + 1 + 2 * 0.5)
    assert res["A"][-1] == pytest.approx(np.exp(-2.0), rel=1e-6)


@pytest.mark.parametrize("den", [_cn(0), "<cn>0.0</cn>"])
def test_sbml_division_by_literal_zero(den):
    pytest.importorskip("libsbml")
    from kinetics.sbml import read_sbml

    with pytest.raises(ParseError, match=r"kinetic law of reaction `r`: division by zero"):
        read_sbml(sbml(f"<apply><divide/><ci>A</ci>{den}</apply>"))


# --------------------------------------------------------------------------- A. JSON
def _json_scheme() -> str:
    from kinetics.jsonformat import scheme_to_json

    s = kx.Scheme("AB", species=[kx.Species("A", 1.0), kx.Species("B")], parameters=[kx.Parameter("k", 0.1, "1/s")],
                  reactions=[kx.reaction("A <-> B", "k", "2*k")])
    return scheme_to_json(s)


@pytest.mark.parametrize("make, match", [
    (lambda good: '{"a": ' * 100_000 + "1" + "}" * 100_000, r"nested too deeply \(more than 32 levels"),
    (lambda good: "[" * 1_000_000, r"nested too deeply"),
    (lambda good: good.replace('"value": 0.1', '"value": ' + "9" * 5000), r"integer with 5000 digits is too large"),
    (lambda good: good.replace('"value": 0.1', '"value": 1e400'), r"outside the double precision range"),
])
def test_json_nesting_and_number_limits(make, match):
    from kinetics.jsonformat import read_json

    good = _json_scheme()
    assert read_json(good).name == "AB"
    with deadline():
        with pytest.raises(ParseError, match=match):
            read_json(make(good))


@pytest.mark.parametrize("coefficient, match", [
    (10 ** 4299, r"integer with 4300 digits is too large"),
    (1000, r"stoichiometric coefficient must be an integer from 1 to 64, got 1000"),
])
def test_json_huge_stoichiometric_coefficient(coefficient, match):
    from kinetics.jsonformat import read_json

    doc = json.loads(_json_scheme())
    doc["reactions"][0]["reactants"][0][1] = coefficient
    with pytest.raises(ParseError, match=match):
        read_json(json.dumps(doc))


def test_json_errors_do_not_echo_the_document():
    from kinetics.jsonformat import read_json

    text = "[" * 100_000 + "x"
    with pytest.raises(ParseError) as info:
        read_json(text)
    assert len(str(info.value)) < 300


# --------------------------------------------------------------------------- A. experiment files (TOML)
HEAD = "[model]\nbuilder = 'destexhe1994.five_state'\n[parameters]\nRu = [1.0, 100.0]\n"
DATA = "[[datasets]]\nfile = 'd.csv'\nsigma = 0.01\n"
CSV = "time,O\n0,0\n1,0.1\n2,0.2\n"


def experiment(tmp_path, text, csv=CSV) -> Path:
    folder = tmp_path / "exp"
    folder.mkdir(exist_ok=True)
    (folder / "d.csv").write_text(csv)
    path = folder / "e.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, error, match", [
    ("a = " + "[" * 100_000 + "]" * 100_000 + "\n" + HEAD + DATA, ParseError,
     r"invalid TOML: arrays or tables nested deeper than 16 levels"),
    ("[fit]\nseed = " + "9" * 5000 + "\n" + HEAD + DATA, ParseError, r"invalid TOML: .*digits"),
    ("[fit]\nstarts = " + "9" * 400 + "\n" + HEAD + DATA, ArgumentError, r"`starts` is too large"),
    (HEAD + DATA + "#" * 1_100_000, ParseError, r"experiment file too large"),
])
def test_toml_nesting_and_size_limits(tmp_path, text, error, match):
    from kinetics.fitting import read_experiment

    with deadline():
        with pytest.raises(error, match=match):
            read_experiment(experiment(tmp_path, text), resolve_builder=scheme_builder)


@pytest.mark.parametrize("builder, error, match", [
    ("cli.main", SchemeError, r"`main` is not a builder of `models.cli` \(a function returning a Scheme\)"),
    ("registry.get", SchemeError, r"`get` is not a builder of `models.registry`"),
    ("destexhe1994.rates", SchemeError, r"`rates` is not a builder.*choose one of \['five_state', 'two_state'\]"),
    ("__main__.main", ArgumentError, r"must be MODULE.FUNCTION"),
])
def test_experiment_builder_must_be_a_scheme_builder(tmp_path, builder, error, match):
    from kinetics.fitting import read_experiment

    with pytest.raises(error, match=match):
        read_experiment(experiment(tmp_path, HEAD.replace("destexhe1994.five_state", builder) + DATA),
                        resolve_builder=scheme_builder)
    transform = HEAD.replace("[parameters]", f"transforms = [{{ builder = '{builder}' }}]\n[parameters]")
    with pytest.raises(error, match=match):
        read_experiment(experiment(tmp_path, transform + DATA), resolve_builder=scheme_builder)


def test_experiment_reader_takes_a_builder_resolver(tmp_path):
    from models import destexhe1994

    from kinetics.fitting import read_experiment

    path = experiment(tmp_path, HEAD.replace("destexhe1994.five_state", "my_receptor") + DATA)
    allowed = {"my_receptor": destexhe1994.five_state}
    exp = read_experiment(path, resolve_builder=lambda name: allowed[name])
    assert exp.scheme.name == destexhe1994.five_state().name
    with pytest.raises(SchemeError, match=r"\[model\] unknown builder 'my_receptor'"):
        read_experiment(path, resolve_builder=lambda name: {}[name])
    with pytest.raises(ArgumentError, match=r"\[model\] not allowed here"):
        read_experiment(path, resolve_builder=lambda name: (_ for _ in ()).throw(ArgumentError("not allowed here")))
    with pytest.raises(ArgumentError, match=r"the model builder returned int, not a Scheme"):
        read_experiment(path, resolve_builder=lambda name: (lambda **kw: 42))
    # the engine knows no model library: without a resolver, a named builder is refused
    with pytest.raises(ArgumentError, match=r"names a builder \('my_receptor'\) but no `resolve_builder`"):
        read_experiment(path)
    with pytest.raises(ArgumentError, match="must be MODULE.FUNCTION"):
        read_experiment(path, resolve_builder=scheme_builder)


@pytest.mark.parametrize("name, match", [
    ("../secret.csv", r"points outside the experiment file's folder"),
    ("sub/../../secret.csv", r"points outside the experiment file's folder"),
    ("SECRET_ABS", r"must be a path relative to the experiment file's folder"),
    ("link.csv", r"points outside the experiment file's folder"),
])
def test_experiment_data_paths_stay_in_the_folder(tmp_path, name, match):
    from kinetics.fitting import read_experiment

    secret = tmp_path / "secret.csv"
    secret.write_text("time,O\n0,TOPSECRET\n")
    path = experiment(tmp_path, HEAD + DATA)
    (path.parent / "link.csv").symlink_to(secret)
    name = str(secret) if name == "SECRET_ABS" else name
    with pytest.raises(ArgumentError, match=match) as info:
        read_experiment(experiment(tmp_path, HEAD + DATA.replace("'d.csv'", repr(name))), resolve_builder=scheme_builder)
    assert "TOPSECRET" not in str(info.value)
    # a scheme file outside the folder is refused as well
    model = "[model]\nfile = '../decay.txt'\n[parameters]\nk = [0.01, 10.0]\n"
    with pytest.raises(ArgumentError, match=r"points outside the experiment file's folder"):
        read_experiment(experiment(tmp_path, model + DATA), resolve_builder=scheme_builder)


# --------------------------------------------------------------------------- A. CSV data files
@pytest.mark.parametrize("content, match", [
    (b"time,O\n0,1\n1,\xff\xfe\n", r"is not UTF-8 text"),
    (("time,O\n0," + "7" * 131072 + "\n").encode(), r"line 2, column `O`: value of 131072 characters \(at most 100\)"),
    (b"time,O\n0,TOPSECRET\n", r"line 2, column `O`: not a number$"),
    (b"root:x:0:0:TOPSECRET\n0,1\n", r"line 2: 2 values, expected 1"),
    (b"user,TOPSECRET\n0,1\n", r"has no `time` column \(its first line has 2 column\(s\)"),
])
def test_csv_errors_are_clear_and_never_echo_content(tmp_path, content, match):
    from kinetics.fitting import Dataset

    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(ArgumentError, match=match) as info:
        Dataset.from_csv(path)
    assert "TOPSECRET" not in str(info.value) and "7777777777" not in str(info.value)


def test_csv_size_limit(tmp_path, monkeypatch):
    from kinetics.fitting import Dataset, dataset

    path = tmp_path / "data.csv"
    path.write_text("time,O\n" + "0.5,0.25\n" * 1000)
    assert Dataset.from_csv(path).time.size == 1000
    monkeypatch.setattr(dataset, "MAX_CSV_BYTES", 1000)
    with pytest.raises(ArgumentError, match=r"is too large \(9007 bytes; the limit is 1000 bytes\)"):
        Dataset.from_csv(path)


def test_csv_limits_are_documented():
    from kinetics.fitting import Dataset, dataset

    assert dataset.MAX_CSV_BYTES == 100_000_000 and dataset.MAX_CSV_FIELD == 100
    assert "MAX_CSV_BYTES" in Dataset.from_csv.__doc__


# --------------------------------------------------------------------------- A. output size
def test_simulate_refuses_output_arrays_beyond_the_memory_bound():
    from kinetics.simulate import MAX_OUTPUT_BYTES

    assert MAX_OUTPUT_BYTES == 2 ** 30
    s = decay_scheme()
    with deadline():
        with pytest.raises(ArgumentError, match=r"3000000000 output points x 2 columns would take 44.7 GiB; "
                                                r"the limit is 1 GiB"):
            kx.simulate(s, t_end=1.0, n_points=3_000_000_000)
    res = kx.simulate(s, t_end=1.0, n_points=11)
    assert res.t.size == 11 and res.t[-1] == 1.0
    with pytest.raises(ArgumentError, match=r"x 1000000 runs would take"):
        kx.sweep(s, {"k": np.full(1_000_000, 0.5)}, t_end=1.0, t_eval=np.linspace(0, 1, 200))


# --------------------------------------------------------------------------- A. dask scheduler connection
@pytest.fixture
def silent_server():
    """A loopback TCP server that accepts connections and never says anything."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held = []

    def accept():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    yield f"tcp://127.0.0.1:{srv.getsockname()[1]}"
    srv.close()
    for c in held:
        c.close()


def test_scheduler_that_never_answers_is_bounded_by_a_total_timeout(silent_server):
    pytest.importorskip("distributed")
    from kinetics.executor import SchedulerConnectionError, connect_scheduler

    t0 = time.monotonic()
    with deadline(BOUND):
        with pytest.raises(SchedulerConnectionError, match=r"no answer from the dask scheduler at tcp://127\.0\.0\.1"
                                                           r":\d+ within 1 s"):
            connect_scheduler(silent_server, timeout=1.0)
    assert time.monotonic() - t0 < 5.0


@pytest.mark.parametrize("address, match", [
    ("nonsense://x", r"unknown protocol `nonsense`; use tcp://HOST:PORT"),
    ("tcp://x", r"needs a host and a port"),
    ("", r"must be a string such as tcp://"),
])
def test_scheduler_address_is_checked(address, match):
    pytest.importorskip("distributed")
    from kinetics.executor import connect_scheduler

    with pytest.raises(ArgumentError, match=match):
        connect_scheduler(address)


# --------------------------------------------------------------------------- B. honest statistics
def test_zero_degrees_of_freedom_refuses_to_estimate_sigma():
    from kinetics.fitting import Dataset, fit

    ds = Dataset("one", time=[1.0], data={"A": [0.6]}, sigma="estimate")
    with pytest.raises(ArgumentError, match=r"cannot estimate the noise \(sigma='estimate' for `one.A`\) with zero "
                                            r"degrees of freedom: 1 data value\(s\) for 1 fitted parameter"):
        fit(decay_scheme(), ds, {"k": (0.01, 10.0)}, n_starts=1, executor="serial")


def test_zero_degrees_of_freedom_is_not_reported_identifiable():
    from kinetics.fitting import Dataset, fit

    ds = Dataset("one", time=[1.0], data={"A": [0.6]}, sigma=0.01)
    res = fit(decay_scheme(), ds, {"k": (0.01, 10.0)}, n_starts=1, executor="serial")
    assert not res.identifiable
    assert [f.kind for f in res.flags][:1] == ["zero_dof"]
    report = res.report()
    assert "not identifiable: zero degrees of freedom (1 data value(s) for 1 fitted parameter(s))" in report
    assert "every parameter is identifiable" not in report
    assert np.isnan(res.reduced_chi2)
    d = json.loads(res.to_json())
    assert d["identifiable"] is False and d["reduced_chi2"] is None


def test_nonfinite_observable_raises_naming_it_and_the_first_time(tmp_path):
    s = decay_scheme([kx.Observable("L", "log(A - 1)")])       # A = 2 exp(-t) < 1 from t = ln 2
    with pytest.raises(SolverError, match=r"observable `L` is not finite \(NaN or inf\) from t = 0\.694.*"
                                          r"nonfinite='warn'") as info:
        kx.simulate(s, t_end=2.0)
    assert info.value.t == pytest.approx(np.log(2.0), abs=2e-3)
    with pytest.warns(RuntimeWarning, match=r"non-finite values \(NaN or inf\) in `L` \(from t = 0\.694\)"):
        res = kx.simulate(s, t_end=2.0, nonfinite="warn")
    assert set(res.nonfinite) == {"L"} and res.nonfinite["L"] == pytest.approx(np.log(2.0), abs=2e-3)
    out = tmp_path / "r.csv"
    with pytest.raises(SolverError, match=r"column `L` is not finite \(NaN or inf\) from t = 0\.694"):
        res.to_csv(out, include=("states", "observables"))
    assert not out.exists()
    res.to_csv(out, include=("states", "observables"), nonfinite="write")
    assert out.read_text().rstrip().endswith(",nan")
    with pytest.raises(ArgumentError, match=r"`nonfinite` must be one of"):
        kx.simulate(s, t_end=2.0, nonfinite="ignore")


def test_finite_observables_are_not_flagged():
    s = decay_scheme([kx.Observable("L", "log(A + 1)")])
    res = kx.simulate(s, t_end=2.0)
    assert res.nonfinite == {} and np.all(np.isfinite(res["L"]))


# --------------------------------------------------------------------------- C. initial values and pulses
def test_negative_initial_value_of_a_nonnegative_species():
    s = decay_scheme()
    with pytest.raises(ArgumentError, match=r"initial value of species `A` is negative \(-1\) in `y0`"):
        kx.simulate(s, t_end=1.0, y0={"A": -1.0})
    with pytest.raises(ArgumentError, match=r"species `A` is negative"):
        kx.simulate(s, t_end=1.0, y0=[-0.5])
    with pytest.raises(ArgumentError, match=r"species `A` is negative"):
        kx.sweep(s, {"k": [0.5, 1.0]}, t_end=1.0, y0={"A": -1.0})
    # round-off below zero (within atol) is accepted
    res = kx.simulate(s, t_end=1.0, y0={"A": -1e-12}, atol=1e-9)
    assert abs(res["A"][-1]) < 1e-9


def test_zero_width_pulses_are_errors():
    with pytest.raises(ProtocolError, match=r"`width` must be > 0, got 0 \(a zero-width pulse has no effect\)"):
        kx.pulses("glu", [1.0], width=0.0)
    p = kx.Protocol([kx.pulses("glu", [1.0, 2.0], width=[1.0, 0.0])])
    with pytest.raises(ProtocolError, match=r"pulses on `glu`: the pulse at t = 2 has zero width"):
        kx.simulate(input_scheme(), p, t_end=10.0)


@pytest.mark.parametrize("times, width", [([500.0], 1.0), ([-5.0], 1.0), ([-5.0, 10.0, 20.0], 5.0)])
def test_pulses_entirely_outside_the_window_are_errors(times, width):
    p = kx.Protocol([kx.pulses("glu", times, width=width)])
    with pytest.raises(ProtocolError, match=r"pulses on `glu`: every pulse lies outside the simulated window "
                                            r"\[0, 10\]"):
        kx.simulate(input_scheme(), p, t_end=10.0)


def test_pulses_partly_in_the_window_are_fine():
    p = kx.Protocol([kx.pulses("glu", [-0.5, 5.0, 500.0], width=1.0)])
    res = kx.simulate(input_scheme(), p, t_end=10.0, rtol=1e-10, atol=1e-12)
    assert res["A"][-1] == pytest.approx(1.5, rel=1e-8)


def test_dataset_with_pulses_outside_its_window():
    from kinetics.fitting import Dataset, fit

    ds = Dataset("late", time=[0.0, 1.0, 2.0], data={"A": [0.0, 0.0, 0.0]}, sigma=0.1,
                 protocol=kx.Protocol([kx.pulses("glu", [50.0])]))
    with pytest.raises(ProtocolError, match=r"dataset `late`: pulses on `glu`: every pulse lies outside"):
        fit(input_scheme(), ds, {"k": (0.1, 10.0)}, n_starts=1, executor="serial")


def test_nonfinite_sbml_assignment_rule_raises():
    pytest.importorskip("libsbml")
    from kinetics.sbml import read_sbml_model

    rule = ('<listOfRules><assignmentRule variable="L"><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><ln/>'
            '<apply><minus/><ci>A</ci><cn>0.5</cn></apply></apply></math></assignmentRule></listOfRules>')
    doc = sbml("<apply><times/><ci>k</ci><ci>A</ci></apply>")
    doc = doc.replace('<parameter id="k" value="1" constant="true"/>',
                      '<parameter id="k" value="1" constant="true"/><parameter id="L" constant="false"/>')
    model = read_sbml_model(doc.replace("<listOfReactions>", rule + "<listOfReactions>"))
    with pytest.raises(SolverError, match=r"`L` is not finite \(NaN or inf\) from t = 1;"):
        model.simulate(2.0, [0.0, 0.5, 1.0, 2.0])         # A = exp(-t) < 0.5 from t = ln 2
    with pytest.warns(RuntimeWarning, match="non-finite"):
        df = model.simulate(2.0, [0.0, 0.5, 1.0, 2.0], nonfinite="warn")
    assert np.isnan(df["L"].iloc[-1]) and np.isfinite(df["L"].iloc[1])
