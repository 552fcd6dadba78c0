"""``nmdakin single-channel fit``: a simulated record of a three-state scheme, fitted from the command line."""
import json
from pathlib import Path

import numpy as np
import pytest

from kinetics import read_scheme
from kinetics.singlechannel import q_matrix, simulate_record, write_record
from models.cli import main
from models.cli.single_channel import parse_time

SCHEME = (Path(__file__).parent / "data" / "singlechannel" / "del_castillo_katz.txt").read_text()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("sc")
    (d / "dck.txt").write_text(SCHEME)
    s = read_scheme(d / "dck.txt")
    write_record(simulate_record(q_matrix(s, inputs={"A": 0.05}, conductance="g"), 3000, seed=3), d / "rec.scn")
    return d


def test_fit_from_the_command_line(files, capsys):
    out = files / "fit.json"
    png = files / "fit.png"
    status = main(["single-channel", "fit", str(files / "rec.scn"), "--scheme", str(files / "dck.txt"),
                   "--tres", "50us", "--input", "A=0.05", "--conductance", "g", "--fit", "koff,beta,alpha",
                   "--json", str(out), "--plot", str(png), "--agonist", "A", "--quiet"])
    assert status == 0
    res = json.loads(out.read_text())
    for n, true in (("koff", 2000.0), ("beta", 5000.0), ("alpha", 1000.0)):
        assert abs(res["values"][n] - true) < 3.5 * res["standard_errors"][n]
    assert png.stat().st_size > 1000
    assert capsys.readouterr().out == ""


def test_cli_errors(files, capsys):
    base = ["single-channel", "fit", str(files / "rec.scn"), "--scheme", str(files / "dck.txt"), "--tres", "50us"]
    assert main(base + ["--input", "A=0.05"]) == 2
    assert "--open STATE" in capsys.readouterr().err
    assert main(base + ["--open", "ARs", "--fit", "kof"]) == 2
    assert "unknown parameter `kof`" in capsys.readouterr().err
    bad = files / "bad.csv"
    bad.write_text("amplitude,duration_ms\n1,-2\n")
    assert main(["single-channel", "fit", str(bad), "--scheme", str(files / "dck.txt"), "--tres", "50us",
                 "--open", "ARs"]) == 2
    assert "not a positive number" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(base[:-1] + ["25 parsecs", "--open", "ARs"])
    assert parse_time("25us") == pytest.approx(2.5e-5) and parse_time("3.5 ms") == pytest.approx(3.5e-3)
    assert np.isclose(parse_time("1e-4"), 1e-4)
