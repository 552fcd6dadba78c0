"""The nmdakin command line: demo and simulate."""
import csv
import json

import numpy as np
import pytest

from models.cli import main

SCHEME = """
scheme decay_chain
species A = 1
species B = 0
parameter k1 = 0.5 [1/ms]
parameter k2 = 0.25 [1/ms]
A -> B ; k1
B -> ; k2
"""


def read_csv(path):
    with open(path) as fh:
        rows = list(csv.reader(fh))
    return rows[0], np.array(rows[1:], dtype=float)


def test_simulate_writes_time_and_species(tmp_path, capsys):
    f = tmp_path / "chain.txt"
    f.write_text(SCHEME)
    out = tmp_path / "out.csv"
    assert main(["simulate", str(f), "--t-end", "4", "--points", "5", "--csv", str(out),
                 "--param", "k1=1.0", "--rtol", "1e-10", "--atol", "1e-12"]) == 0
    header, data = read_csv(out)
    assert header == ["time [ms]", "A [mM]", "B [mM]"]           # units in the headers
    from kinetics.data import read_table

    table = read_table(out)                                      # read back with their units
    assert table.units == {"A": "mM", "B": "mM"} and table.time.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert "-0.0" not in out.read_text()
    assert data[:, 0].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    t = data[:, 0]
    k1, k2 = 1.0, 0.25
    assert np.allclose(data[:, 1], np.exp(-k1 * t), rtol=1e-8)
    assert np.allclose(data[:, 2], k1 / (k2 - k1) * (np.exp(-k1 * t) - np.exp(-k2 * t)), rtol=1e-7)


def test_simulate_reports_bad_parameter(tmp_path, capsys):
    f = tmp_path / "chain.txt"
    f.write_text(SCHEME)
    code = main(["simulate", str(f), "--t-end", "4", "--csv", str(tmp_path / "x.csv"), "--param", "k3=1"])
    assert code == 2
    err = capsys.readouterr().err
    assert "unknown parameter `k3`" in err and "did you mean" in err
    assert not (tmp_path / "x.csv").exists()


def test_simulate_reports_unsafe_file_without_running_it(tmp_path, capsys):
    f = tmp_path / "evil.txt"
    f.write_text(SCHEME.replace("A -> B ; k1", "A -> B ; __import__('os').system('touch pwned')"))
    assert main(["simulate", str(f), "--t-end", "1", "--csv", str(tmp_path / "x.csv")]) == 2
    assert not (tmp_path / "pwned").exists()
    err = capsys.readouterr().err
    assert "error" in err and "__import__" in err


@pytest.mark.slow
def test_demo_writes_figures_csv_and_json(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    for name in ("nmdakin_demo.png", "pharmacology.png", "stdp_synapse.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = json.loads((tmp_path / "pharmacology.json").read_text())
    by_name = {row["name"]: row for row in table["conditions"]}
    assert by_name["control"]["tLTD"] < 0.8 and by_name["AP5"]["tLTD"] > 0.95
    curve = json.loads((tmp_path / "stdp_synapse.json").read_text())
    assert curve["dt_ms"][0] == -100 and curve["dt_ms"][-1] == 100 and len(curve["change"]) == 41
    header, data = read_csv(tmp_path / "nmdakin_demo.csv")
    assert header[0] == "time [ms]" and header[1] == "I_NMDA_m80mV [pA]" and header[-1] == "Popen [1]"
    assert header[5] == "I_NMDA_0mV [pA]" and header[7] == "I_NMDA_p40mV [pA]"
    assert len(header) == 9 and "-0," not in (tmp_path / "nmdakin_demo.csv").read_text()
    from kinetics.data import read_table

    table = read_table(tmp_path / "nmdakin_demo.csv")            # the package reads its own CSV back
    assert table.units["I_NMDA_m80mV"] == "pA" and np.array_equal(table.columns["Popen"], data[:, -1])
    # the EPSC is inward (negative) at -80 mV, outward at +40 mV, and larger at -20 than at -80 (Mg block)
    i80, i20, i40 = data[:, 1], data[:, 4], data[:, 7]
    assert i80.min() < 0 and i40.max() > 0 and abs(i20.min()) > abs(i80.min())
    # peak open probability of the Destexhe set (matrix-exponential oracle in tests/data); the demo samples
    # every 0.25 ms, so the sampled peak is within ~1e-6 of the true one
    from models.reference_values import destexhe1994_peaks

    peaks = destexhe1994_peaks()
    expected = peaks["values"]["destexhe1994"]["without_statistical_factors"]["peak_open_probability"]
    popen = data[:, -1]
    assert popen.max() == pytest.approx(expected, abs=1e-5)
    assert "peak open probability" in capsys.readouterr().out
