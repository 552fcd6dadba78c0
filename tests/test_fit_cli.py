"""The experiment file (kinetics.fitting.experiment_file), the shipped example and `nmdakin fit` (models.cli.fit)."""
import argparse
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from kinetics import ArgumentError, ParseError, ProtocolError, SchemeError
from kinetics.fitting import read_experiment
from models import destexhe1994, scheme_builder
from models.cli import fit as cli_fit

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fit_destexhe"
TRUTH = destexhe1994.five_state().parameter_values()


def run_cli(argv):
    parser = argparse.ArgumentParser(prog="nmdakin")
    sub = parser.add_subparsers(dest="command", required=True)
    cli_fit.add_subcommands(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def test_example_experiment_loads():
    exp = read_experiment(EXAMPLE / "experiment.toml", resolve_builder=scheme_builder)
    assert exp.name == "destexhe_epsc"
    assert [d.name for d in exp.datasets] == ["pulse_1ms", "train_20Hz", "application_1s"]
    assert set(exp.parameters) == {"Ru", "Rd", "Rr", "Ro", "Rc"}
    assert exp.parameters["Ru"].bounds == (0.5, 100.0) and exp.parameters["Ru"].start == 6.7
    assert exp.settings["starts"] == 20 and exp.settings["profiles"] is True
    assert "I_NMDA" in exp.scheme.observable_names and exp.scheme.get_parameter("g_NMDA").value == 2.0
    train = exp.datasets[1]
    sched = train.schedule(exp.scheme)
    glu = sched.input_values([10.5, 60.5, 210.5, 211.5])[:, exp.scheme.input_names.index("glu")]
    assert glu.tolist() == [1.0, 1.0, 1.0, 0.0]            # 5 pulses at 20 Hz from 10 ms
    assert not train.estimated("I_NMDA") and train.sigma["I_NMDA"][0] > 0   # from the sigma_I_NMDA column


def test_example_data_are_what_make_data_generates():
    spec = importlib.util.spec_from_file_location("fit_destexhe_make_data", EXAMPLE / "make_data.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    exp = read_experiment(EXAMPLE / "experiment.toml", resolve_builder=scheme_builder)
    for fresh, stored in zip(mod.make_datasets(), exp.datasets):
        assert fresh.name == stored.name
        assert np.array_equal(fresh.time, stored.time)
        assert np.allclose(fresh.data["I_NMDA"], stored.data["I_NMDA"], rtol=1e-6, atol=1e-6)
        assert np.allclose(fresh.sigma["I_NMDA"], stored.sigma["I_NMDA"], rtol=1e-6)


def test_cli_fits_the_example(tmp_path, capsys):
    out, png = tmp_path / "fit.json", tmp_path / "fit.png"
    rc = run_cli(["fit", str(EXAMPLE / "experiment.toml"), "--json", str(out), "--plot", str(png),
                  "--starts", "2", "--no-profiles", "--workers", "1"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "[[Parameters]]" in printed and f"wrote {out}" in printed
    d = json.loads(out.read_text())
    assert d["success"] and len(d["starts"]) == 2 and d["ci_method"] == "wald"
    for k in ("Ru", "Rd", "Rr", "Ro", "Rc"):
        assert abs(d["parameters"][k]["value"] / TRUTH[k] - 1) < 0.05, k
        lo, hi = d["parameters"][k]["ci"]
        assert lo < TRUTH[k] < hi, k
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_cli_reports_bad_input(tmp_path, capsys):
    rc = run_cli(["fit", str(tmp_path / "missing.toml"), "--json", str(tmp_path / "o.json")])
    assert rc == 2
    assert "experiment file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("[model]\nbuilder = 'destexhe1994.five_state'\n[parameters]\nRu = [1, 100]\n"
                   "[[datasets]]\nfile = 'nothere.csv'\n")
    rc = run_cli(["fit", str(bad), "--json", str(tmp_path / "o.json")])
    assert rc == 2 and "data file not found" in capsys.readouterr().err
    assert not (tmp_path / "o.json").exists()


def write(tmp_path, text, csv="time,O\n0,0\n1,0.1\n2,0.2\n"):
    (tmp_path / "d.csv").write_text(csv)
    path = tmp_path / "e.toml"
    path.write_text(text)
    return path


HEAD = "[model]\nbuilder = 'destexhe1994.five_state'\n[parameters]\nRu = [1.0, 100.0]\n"
DATA = "[[datasets]]\nfile = 'd.csv'\nsigma = 0.01\n"


@pytest.mark.parametrize("text, error, match", [
    ("descripton = 'x'\n" + HEAD + DATA, ArgumentError,
     r"\[top level\] unknown key `descripton`; did you mean `description`"),
    (HEAD.replace("destexhe1994.five_state", "os.system") + DATA, SchemeError, "unknown model module `os`"),
    (HEAD.replace("destexhe1994.five_state", "destexhe1994.RATE_SETS") + DATA, SchemeError,
     "`RATE_SETS` is not a builder"),
    (HEAD.replace("destexhe1994.five_state", "os.path.join") + DATA, ArgumentError, "must be MODULE.FUNCTION"),
    (HEAD.replace("Ru = [1.0, 100.0]", "Ru = { bounds = [1.0, 100.0], scal = 'log10' }") + DATA, ArgumentError,
     "unknown key `scal`; did you mean `scale`"),
    (HEAD + DATA + "protocol = [{ type = 'pulse', input = 'glu', times = [1.0] }]\n", ArgumentError,
     "unknown protocol component `pulse`; did you mean `pulses`"),
    (HEAD + DATA + "protocol = [{ type = 'pulses', input = 'glut', times = [1.0] }]\n", ProtocolError,
     "unknown input `glut`"),
    (HEAD + DATA + "protocol = [{ type = 'steps', input = 'glu', times = [1.0] }]\n", ArgumentError,
     "`steps` needs `values`"),
    (HEAD + "[[datasets]]\nfile = 'd.csv'\nsigma = -1\n", ArgumentError, "`sigma` must be a positive"),
    (HEAD + "[fit]\nstarts = 0\n" + DATA, ArgumentError, "`starts` must be >= 1"),
    ("[model\n", ParseError, "invalid TOML"),
    (HEAD, ArgumentError, r"missing `\[\[datasets\]\]`"),
])
def test_experiment_file_errors(tmp_path, text, error, match):
    with pytest.raises(error, match=match):
        read_experiment(write(tmp_path, text), resolve_builder=scheme_builder)


def test_experiment_with_scheme_file_train_and_estimated_sigma(tmp_path):
    (tmp_path / "decay.txt").write_text("scheme decay\nspecies A = 1\nspecies B = 0\n"
                                        "parameter k = 0.2 [1/ms]\nA -> B ; k\n")
    t = np.linspace(0, 10, 41)
    rng = np.random.default_rng(0)
    csv = "time,B\n" + "\n".join(f"{x},{1 - np.exp(-0.5 * x) + rng.normal(0, 0.01)}" for x in t) + "\n"
    path = write(tmp_path, "[model]\nfile = 'decay.txt'\n[fit]\nstarts = 2\nprofiles = false\n"
                           "[parameters]\nk = { bounds = [0.01, 10.0] }\n[[datasets]]\nname = 'b'\n"
                           "file = 'd.csv'\nsigma = 'estimate'\n"
                           "protocol = [{ type = 'jumps', species = 'A', times = { n = 2, freq_hz = 1000.0 },"
                           " amount = 0.0 }]\n", csv=csv)
    exp = read_experiment(path)
    assert exp.datasets[0].estimated("B")
    res = exp.run(executor="serial")
    assert res.values["k"] == pytest.approx(0.5, rel=0.03)
    assert res.sigma[("b", "B")] == pytest.approx(0.01, rel=0.3)
