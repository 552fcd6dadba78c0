"""``nmdakin export`` (models.cli.export), through a parser built here as the main CLI builds its own."""
from __future__ import annotations

import argparse

import numpy as np
import pytest

import kinetics as kx
from kinetics.jsonformat import read_json
from kinetics.sbml import read_sbml, read_sbml_model
from models import destexhe1994
from models.cli.export import add_subcommands, library_builders


def run(argv):
    parser = argparse.ArgumentParser(prog="nmdakin")
    sub = parser.add_subparsers(dest="command", required=True)
    add_subcommands(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def test_export_library_model_with_rate_set(tmp_path, capsys):
    out = tmp_path / "hessler.json"
    assert run(["export", "destexhe1994.five_state:hessler1993", "--format", "json", "-o", str(out)]) == 0
    assert read_json(out) == destexhe1994.five_state("hessler1993")
    assert "wrote" in capsys.readouterr().out


def test_export_default_builder_of_a_module_and_suffix(tmp_path):
    out = tmp_path / "two"
    assert run(["export", "destexhe1994.two_state", "-f", "sbml", "-o", str(out)]) == 0
    assert read_sbml(tmp_path / "two.xml") == destexhe1994.two_state()
    assert run(["export", "destexhe1994", "-f", "json", "-o", str(tmp_path / "five.json")]) == 0
    assert read_json(tmp_path / "five.json") == destexhe1994.five_state()


def test_export_with_pulses_and_hold_reproduces_the_protocol(tmp_path):
    out = tmp_path / "pulsed.xml"
    assert run(["export", "destexhe1994.two_state", "-f", "sbml", "-o", str(out), "--pulse", "glu=5,20",
                "--t-end", "50"]) == 0
    m = read_sbml_model(out)
    t = np.linspace(0, 50, 101)
    ref = kx.simulate(destexhe1994.two_state(), kx.Protocol([kx.pulses("glu", [5.0, 20.0])]), t_end=50.0, t_eval=t,
                      rtol=1e-10, atol=1e-12)
    got = m.simulate(50.0, t, rtol=1e-10, atol=1e-12)
    assert np.allclose(got["O"], ref["O"], rtol=1e-8, atol=1e-12)


def test_export_scheme_file_to_stdout(tmp_path, capsys):
    f = tmp_path / "decay.txt"
    f.write_text("scheme decay\nspecies A = 1\nparameter k = 0.5 [1/ms]\nA -> ; k\n")
    assert run(["export", str(f), "-f", "latex", "-o", "-", "--fragment"]) == 0
    out = capsys.readouterr().out
    assert r"\frac{\mathrm{d}A}{\mathrm{d}t} &= - A k" in out and r"\documentclass" not in out


def test_export_sbml_file_to_nmodl(tmp_path):
    xml = tmp_path / "m.xml"
    assert run(["export", "destexhe1994.two_state", "-f", "sbml", "-o", str(xml)]) == 0
    mod = tmp_path / "m.mod"
    assert run(["export", str(xml), "-f", "nmodl", "-o", str(mod), "--voltage", "parameter"]) == 0
    assert "~ C <-> O (alpha*glu, beta)" in mod.read_text()


def test_export_errors(tmp_path):
    with pytest.raises(kx.ArgumentError, match=r"unknown model `destexe1994`; did you mean `destexhe1994`"):
        run(["export", "destexe1994", "-f", "json", "-o", str(tmp_path / "x.json")])
    with pytest.raises(kx.ArgumentError, match="`--t-end` is needed"):
        run(["export", "destexhe1994", "-f", "sbml", "-o", str(tmp_path / "x.xml"), "--pulse", "glu=1"])
    with pytest.raises(kx.ArgumentError, match="takes no protocol"):
        run(["export", "destexhe1994", "-f", "latex", "-o", str(tmp_path / "x.tex"), "--pulse", "glu=1",
             "--t-end", "5"])
    with pytest.raises(kx.ArgumentError, match="`--voltage` applies to --format nmodl only"):
        run(["export", "destexhe1994", "-f", "c", "-o", str(tmp_path / "x.c"), "--voltage", "v"])
    with pytest.raises(kx.SchemeError, match="unknown rate set"):
        run(["export", "destexhe1994.five_state:nosuchset", "-f", "json", "-o", str(tmp_path / "x.json")])
    with pytest.raises(SystemExit):
        run(["export", "destexhe1994", "-f", "docx", "-o", str(tmp_path / "x.docx")])
    with pytest.raises(SystemExit):
        run(["export", "destexhe1994", "-f", "sbml", "-o", str(tmp_path / "x.xml"), "--pulse", "glu"])
    assert list(tmp_path.iterdir()) == []


def test_library_builders_are_found():
    builders = library_builders()
    assert {"destexhe1994.five_state", "destexhe1994.two_state"} <= set(builders)
    assert all(callable(f) for f in builders.values())
