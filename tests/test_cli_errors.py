"""Every error of the ``nmdakin`` command line is ONE line on stderr, exit status 2 (Ctrl-C: 130), never a
traceback unless ``--debug``; output paths are checked before any work starts."""
from __future__ import annotations

import errno
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import kinetics
import kinetics.fitting
from kinetics import io as _io
from models import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "fit_destexhe" / "experiment.toml"

SCHEME = """
scheme decay
species A = 1
parameter k = 0.5 [1/ms]
A -> ; k
"""


def one_line(err: str, *fragments: str) -> str:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    for f in fragments:
        assert f in lines[0], lines[0]
    return lines[0]


def run(argv, capsys):
    """``main(argv)`` in this process: (exit status, stderr)."""
    try:
        rc = cli.main(argv)
    except SystemExit as exc:          # argparse usage errors
        rc = exc.code
    captured = capsys.readouterr()
    return rc, captured.err


def run_process(args, env=None, cwd=None):
    full = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    full.pop("NMDAKIN_DEBUG", None)
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "models", *args], capture_output=True, text=True, env=full,
                          cwd=cwd, timeout=600)


@pytest.fixture
def scheme_file(tmp_path):
    f = tmp_path / "decay.txt"
    f.write_text(SCHEME)
    return f


@pytest.fixture
def no_work(monkeypatch):
    """Make any start of the actual work fail loudly (with a message the tests would not accept)."""
    def boom(*a, **k):
        raise AssertionError("WORK STARTED")

    monkeypatch.setattr(kinetics, "read_scheme", boom)
    monkeypatch.setattr(kinetics, "read_model", boom)
    monkeypatch.setattr(kinetics.fitting, "read_experiment", boom)
    monkeypatch.setattr(kinetics.fitting.Experiment, "run", boom)
    return boom


# --------------------------------------------------------------------------- folders as files
def test_folder_as_simulate_input_real_process(tmp_path):
    r = run_process(["simulate", str(tmp_path), "--t-end", "1", "--csv", str(tmp_path / "o.csv")])
    assert r.returncode == 2
    one_line(r.stderr, "nmdakin simulate: error:", f"`{tmp_path}`", "is a folder")
    assert not (tmp_path / "o.csv").exists()


def test_folder_as_csv_output_is_refused_before_the_work(tmp_path, scheme_file, capsys, no_work):
    rc, err = run(["simulate", str(scheme_file), "--t-end", "1", "--csv", str(tmp_path)], capsys)
    assert rc == 2
    one_line(err, "cannot write CSV", "it is a folder")


def test_fit_json_folder_is_refused_before_the_fit(tmp_path, capsys, no_work):
    rc, err = run(["fit", str(EXAMPLE), "--json", str(tmp_path), "--workers", "1"], capsys)
    assert rc == 2
    one_line(err, "nmdakin fit: error: cannot write JSON", "it is a folder")


@pytest.mark.parametrize("plot, message", [("nope/fit.png", "does not exist"),
                                           ("fit.pgn", "unknown image format `pgn`; did you mean `png`?")])
def test_fit_plot_path_is_checked_before_the_fit(tmp_path, capsys, no_work, plot, message):
    rc, err = run(["fit", str(EXAMPLE), "--json", str(tmp_path / "o.json"), "--plot", str(tmp_path / plot)],
                  capsys)
    assert rc == 2
    one_line(err, "figure", message)


def test_folder_as_fit_experiment_and_export_model(tmp_path, capsys):
    rc, err = run(["fit", str(tmp_path), "--json", str(tmp_path / "o.json")], capsys)
    assert rc == 2
    one_line(err, "experiment file", "is a folder")
    rc, err = run(["export", str(tmp_path), "-f", "json", "-o", str(tmp_path / "o.json")], capsys)
    assert rc == 2
    one_line(err, "is a folder")


@pytest.mark.parametrize("argv", [
    ["stdp", "--json", "{d}", "--dt", "10"],
    ["pharmacology", "--json", "{d}/p.json", "--plot", "{d}"],
    ["chronic", "--drug", "imipramine", "--dose", "10", "--days", "1", "--json", "{d}"],
    ["binding", "saturation", "--kd-nM", "1", "--json", "{d}/b.json", "--plot", "{d}/missing/b.png"],
    ["export", "destexhe1994", "-f", "json", "-o", "{d}"],
    ["models", "--json", "{d}"],
])
def test_every_output_option_refuses_a_folder_before_working(tmp_path, capsys, argv, monkeypatch):
    import models.binding_assays
    import models.experiments
    import models.pharmacology
    import models.skolnick1996

    def boom(*a, **k):
        raise AssertionError("WORK STARTED")

    for mod, name in [(models.experiments, "stdp"), (models.pharmacology, "pharmacology"),
                      (models.skolnick1996, "simulate_chronic"), (models.binding_assays, "saturation")]:
        monkeypatch.setattr(mod, name, boom)
    monkeypatch.setattr("models.cli.export.load_model", boom)
    rc, err = run([a.format(d=tmp_path) for a in argv], capsys)
    assert rc == 2
    one_line(err, "cannot write")
    assert "WORK STARTED" not in err


def test_demo_out_that_is_a_file(tmp_path, capsys):
    f = tmp_path / "x"
    f.write_text("")
    rc, err = run(["demo", "--quick", "--out", str(f)], capsys)
    assert rc == 2
    one_line(err, "it is a file, not a folder")


# --------------------------------------------------------------------------- absurd or hostile input
def test_scheduler_nonsense_address(tmp_path, capsys, no_work):
    rc, err = run(["fit", str(EXAMPLE), "--json", str(tmp_path / "o.json"), "--scheduler", "nonsense://x"], capsys)
    assert rc == 2                      # refused before the experiment is even read
    one_line(err, "nmdakin fit: error:", "nonsense://", "unknown protocol `nonsense`", "tcp://HOST:PORT")


def test_absurd_points_refused_before_reading_the_model(tmp_path, scheme_file, capsys, no_work):
    rc, err = run(["simulate", str(scheme_file), "--t-end", "1", "--points", "3000000000",
                   "--csv", str(tmp_path / "o.csv")], capsys)
    assert rc == 2
    one_line(err, "--points", "3000000000", str(cli.MAX_POINTS))
    rc, err = run(["binding", "kinetics", "--kd-nM", "1", "--points", "3000000000",
                   "--json", str(tmp_path / "o.json")], capsys)
    assert rc == 2
    one_line(err, "--points", "at most")


def test_non_utf8_csv_data_file(tmp_path, capsys):
    (tmp_path / "data.csv").write_bytes(b"time,O \xe9\n0,0.5\n1,0.4\n")
    exp = tmp_path / "e.toml"
    exp.write_text("[model]\nbuilder = 'destexhe1994.five_state'\n[parameters]\nRu = [1, 100]\n"
                   "[[datasets]]\nfile = 'data.csv'\n")
    rc, err = run(["fit", str(exp), "--json", str(tmp_path / "o.json")], capsys)
    assert rc == 2
    one_line(err, "nmdakin fit: error:", "UTF-8")
    assert not (tmp_path / "o.json").exists()


def test_deeply_nested_json_model_real_process(tmp_path):
    f = tmp_path / "model.json"
    f.write_text("[" * 100_000 + "]" * 100_000)
    r = run_process(["simulate", str(f), "--t-end", "1", "--csv", str(tmp_path / "o.csv")])
    assert r.returncode == 2
    line = one_line(r.stderr, "nmdakin simulate: error:", "nested")
    assert len(line) < 1200


def test_huge_integer_json_model(tmp_path, capsys):
    f = tmp_path / "model.json"
    f.write_text('{"format": "nmdakin-scheme", "species": [{"name": "A", "initial": ' + "9" * 100_000 + "}]}")
    rc, err = run(["simulate", str(f), "--t-end", "1", "--csv", str(tmp_path / "o.csv")], capsys)
    assert rc == 2
    line = one_line(err, "nmdakin simulate: error:")
    assert len(line) < 1200                  # the 100000 digits are not echoed


def test_deeply_nested_toml_experiment(tmp_path, capsys):
    f = tmp_path / "deep.toml"
    f.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    rc, err = run(["fit", str(f), "--json", str(tmp_path / "o.json")], capsys)
    assert rc == 2
    one_line(err, "nmdakin fit: error:", "nest")


def test_recursion_memory_value_and_unexpected_errors_are_one_line(tmp_path, scheme_file, capsys, monkeypatch):
    csv = str(tmp_path / "o.csv")
    for exc, fragment in [(RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
                          (MemoryError(), "out of memory"),
                          (ValueError("bad\nvalue\x1b[31m"), "bad | value\\x1b[31m"),
                          (TypeError("oops"), "TypeError: oops (an internal error: run with --debug"),
                          (UnicodeDecodeError("utf-8", b"\xe9", 0, 1, "invalid"), "not valid UTF-8"),
                          (PermissionError(errno.EACCES, "Permission denied", "/x/y"), "`/x/y`: Permission denied"),
                          (ValueError("x" * 100_000), "characters]...")]:
        def fail(*a, exc=exc, **k):
            raise exc

        monkeypatch.setattr(kinetics, "read_model", fail)
        rc, err = run(["simulate", str(scheme_file), "--t-end", "1", "--csv", csv], capsys)
        assert rc == 2, exc
        line = one_line(err, "nmdakin simulate: error:", fragment)
        assert len(line) <= 1100


def test_unbalanced_quote_in_cc_real_process(tmp_path, scheme_file):
    """A broken $CC is not fatal: simulate falls back to the compiler-free path with one warning saying why."""
    out = tmp_path / "o.csv"
    r = run_process(["simulate", str(scheme_file), "--t-end", "1", "--csv", str(out)],
                    env={"CC": 'gcc "',        # the suite's cache folder: the JIT integrator is compiled there once
                         "NMDAKIN_CACHE_DIR": os.environ.get("NMDAKIN_CACHE_DIR", str(tmp_path / "cache"))})
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    warning = [ln for ln in r.stderr.splitlines() if "numba JIT path" in ln]
    assert len(warning) == 1 and "$CC" in warning[0] and "No closing quotation" in warning[0]
    assert out.read_text().startswith("time")


def test_unbalanced_quote_in_cc_is_a_compiler_error(monkeypatch):
    from kinetics.errors import CompilerError
    from kinetics.native import build, compiler_available

    monkeypatch.setenv("CC", 'gcc "')
    assert compiler_available()          # configured, if broken: build() says why
    with pytest.raises(CompilerError, match=r"cannot parse \$CC"):
        build("/* nothing */")


def test_full_disk_on_csv(tmp_path, scheme_file, capsys, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_io.os, "fsync", full)
    out = tmp_path / "o.csv"
    rc, err = run(["simulate", str(scheme_file), "--t-end", "1", "--points", "5", "--csv", str(out)], capsys)
    assert rc == 2
    one_line(err, f"cannot write `{out}`: No space left on device")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decay.txt"]


def test_device_as_csv_is_refused(tmp_path, scheme_file, capsys):
    fifo = tmp_path / "fifo"           # a device or pipe (like /dev/full) must never be replaced by a file
    os.mkfifo(fifo)
    rc, err = run(["simulate", str(scheme_file), "--t-end", "1", "--csv", str(fifo)], capsys)
    assert rc == 2
    one_line(err, "not a regular file")
    assert fifo.is_fifo()


SBML = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="m">
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies>
      <species id="A" compartment="c" initialConcentration="1" hasOnlySubstanceUnits="false"
               boundaryCondition="false" constant="false"/>
    </listOfSpecies>
    <listOfReactions>
      <reaction id="r" reversible="false">
        <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">LAW</math></kineticLaw>
      </reaction>
    </listOfReactions>
  </model>
</sbml>
"""


@pytest.mark.parametrize("law", ["<apply><floor/><ci> A </ci></apply>",
                                 "<apply><ceiling/><ci> A </ci></apply>",
                                 "<apply><divide/><ci> A </ci><cn> 0 </cn></apply>"])
def test_sbml_floor_ceiling_division_by_zero(tmp_path, capsys, law):
    pytest.importorskip("libsbml")
    f = tmp_path / "m.xml"
    f.write_text(SBML.replace("LAW", law))
    rc, err = run(["simulate", str(f), "--t-end", "1", "--points", "3", "--csv", str(tmp_path / "o.csv")], capsys)
    assert rc == 2
    one_line(err, "nmdakin simulate: error:")
    assert not (tmp_path / "o.csv").exists()


def test_chronic_ecs_with_a_dose_is_refused(tmp_path, capsys, monkeypatch):
    import models.skolnick1996

    monkeypatch.setattr(models.skolnick1996, "simulate_chronic", lambda *a, **k: pytest.fail("simulated"))
    rc, err = run(["chronic", "--drug", "ecs", "--dose", "10", "--days", "2", "--json", str(tmp_path / "o.json")],
                  capsys)
    assert rc == 2
    one_line(err, "nmdakin chronic: error:", "--dose does not apply to --drug ecs")
    assert not (tmp_path / "o.json").exists()


# --------------------------------------------------------------------------- names
@pytest.mark.parametrize("argv, fragments", [
    (["stdp", "--model", "graupner-brunel-2013", "--json", "{d}/o.json"], ["did you mean `graupner-brunel-2012`?"]),
    (["stdp", "--set", "DPDprim", "--json", "{d}/o.json"], ["did you mean `DPDprime`?"]),
    (["export", "destexe1994", "-f", "json", "-o", "{d}/o.json"], ["did you mean `destexhe1994`?"]),
    (["export", "destexhe1994.five_state:hesler", "-f", "json", "-o", "{d}/o.json"], ["did you mean `hessler1993`?"]),
    (["simulat"], ["invalid choice: 'simulat'; did you mean `simulate`?"]),
    (["binding", "saturation", "--radioligand", "mk80", "--json", "{d}/o.json"], ["did you mean `mk801`?"]),
    (["pharmacology", "--conditions", "contrl", "--json", "{d}/o.json"], ["did you mean `control`?"]),
])
def test_unknown_names_are_one_line_with_did_you_mean(tmp_path, capsys, argv, fragments):
    rc, err = run([a.format(d=tmp_path) for a in argv], capsys)
    assert rc == 2
    one_line(err, *fragments)
    assert not (tmp_path / "o.json").exists()


def test_usage_errors_are_one_line(capsys):
    rc, err = run(["simulate"], capsys)
    assert rc == 2
    one_line(err, "nmdakin simulate: error:", "required", "--help")


# --------------------------------------------------------------------------- Ctrl-C, --debug, warnings, pipes
def test_keyboard_interrupt_is_130_and_one_line(tmp_path, scheme_file, capsys, monkeypatch):
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(kinetics, "read_model", interrupted)
    rc, err = run(["simulate", str(scheme_file), "--t-end", "1", "--csv", str(tmp_path / "o.csv")], capsys)
    assert rc == 130
    one_line(err, "nmdakin simulate: interrupted")


@pytest.mark.parametrize("where", ["before", "after", "env"])
def test_debug_shows_the_traceback(tmp_path, where):
    args = ["simulate", str(tmp_path), "--t-end", "1", "--csv", str(tmp_path / "o.csv")]
    env = {}
    if where == "before":
        args = ["--debug", *args]
    elif where == "after":
        args = [*args, "--debug"]
    else:
        env = {"NMDAKIN_DEBUG": "1"}
    r = run_process(args, env=env)
    assert r.returncode == 2
    assert "Traceback (most recent call last)" in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("nmdakin simulate: error:")


def test_warnings_are_one_line(tmp_path, scheme_file, capsys, monkeypatch):
    def warn_then_fail(*a, **k):
        warnings.warn("something odd\nover two lines", RuntimeWarning)
        raise kinetics.ParseError("broken")

    monkeypatch.setattr(kinetics, "read_model", warn_then_fail)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        rc, err = run(["simulate", str(scheme_file), "--t-end", "1", "--csv", str(tmp_path / "o.csv")], capsys)
    assert rc == 2
    lines = err.strip().splitlines()
    assert lines == ["nmdakin simulate: warning: something odd | over two lines",
                     "nmdakin simulate: error: broken"]


def test_closed_stdout_pipe_is_quiet():
    full = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "models", "models"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=full)
    proc.stdout.close()                 # the reader is gone before the command prints anything
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(120) == 141
    assert err == ""
