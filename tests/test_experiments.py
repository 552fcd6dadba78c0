"""Plasticity experiments (STDP curve, frequency dependence), the model registry and their CLI subcommands."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from kinetics.errors import ArgumentError
from models import experiments, registry
from models import graupner_brunel2012 as gb
from models.cli import models as cli_models
from models.cli.stdp import add_subcommands, parse_dt

DATA = json.loads((Path(__file__).parent / "data" / "graupner_brunel2012.json").read_text())
SJOSTROM = DATA["sjostrom2001"]


def run_cli(argv):
    parser = argparse.ArgumentParser(prog="nmdakin")
    sub = parser.add_subparsers(dest="command", required=True)
    add_subcommands(sub)
    cli_models.add_subcommands(sub)
    args = parser.parse_args(argv)
    return args.func(args)


# --------------------------------------------------------------------------- experiments
def test_stdp_returns_the_cli_json_and_the_model_readout():
    r = experiments.stdp(dt_ms=[-40.0, -10.0, 10.0, 40.0], progress=False)
    assert set(r) >= {"model", "set", "freq_hz", "pairs", "dt_ms", "change"}
    assert (r["model"], r["set"], r["method"], r["freq_hz"], r["pairs"]) == (
        "graupner-brunel-2012", "DP", "analytic", 1.0, 60)
    json.dumps(r)  # plain JSON types
    for dt, ch in zip(r["dt_ms"], r["change"]):
        assert ch == pytest.approx(gb.pairing_prediction(dt, 1.0, 60, "DP").change, abs=1e-9)
    assert r["change"][0] < 1 < r["change"][-1]
    default = experiments.stdp(progress=False)
    assert default["dt_ms"] == list(np.arange(-100.0, 101.0, 5.0))


def test_stdp_methods_agree_in_sign():
    dts = [-25.0, 15.0]
    ode = experiments.stdp(dt_ms=dts, method="ode", progress=False)["change"]
    sde = experiments.stdp(dt_ms=dts, method="sde", seed=1, n_per_state=2000, step_ms=0.5, progress=False)
    ana = experiments.stdp(dt_ms=dts, progress=False)["change"]
    assert ode[0] < 1 < ode[1]
    assert np.allclose(sde["change"], ana, atol=0.04)
    again = experiments.stdp(dt_ms=dts, method="sde", seed=1, n_per_state=2000, step_ms=0.5, progress=False)
    assert again["change"] == sde["change"]


def test_frequency_reproduces_sjostrom_2001_signs():
    r = experiments.frequency(progress=False)
    assert r["set"] == "cortical_slices"
    assert r["freq_hz"] == [0.1, 10.0, 20.0, 40.0, 50.0] and r["dt_ms"] == [10.0, -10.0]
    assert np.shape(r["change"]) == (2, 5)
    plus, minus = r["change"]
    # LTD at low frequency for -10 ms, LTP for both timings at 40-50 Hz (Sjostrom et al. 2001)
    assert max(minus[:3]) < 0.9
    assert min(plus[3:] + minus[3:]) > 1.2
    assert all(c > 1.0 for c in plus)
    # the Sjostrom protocol: 15 bursts of 5 pairs, 10 s apart (one 75-pair train at 0.1 Hz)
    pre, post = experiments.sjostrom_protocol(10.0, 20.0)
    assert len(pre) == 75 and pre[5] - pre[0] == 10000.0 and np.all(post - pre == 10.0)
    pre, _ = experiments.sjostrom_protocol(10.0, 0.1)
    assert np.allclose(np.diff(pre), 10000.0)


def test_full_stochastic_model_reproduces_the_sjostrom_signs():
    # the SDE ensemble keeps the bistable drift the analysis neglects: at 0.1 Hz (750 s, ~2 tau) it gives less
    # LTD than the analysis (measured 0.80 vs 0.69 for -10 ms) but the same frequency dependence
    r = experiments.frequency(dt_ms=[-10.0, 10.0], freq_hz=[0.1, 20.0, 50.0], method="sde", seed=4,
                              n_per_state=2000, step_ms=1.0, progress=False)
    (m01, m20, m50), (p01, p20, p50) = r["change"]
    assert m01 < 0.9 and m20 < 0.75 and m50 > 1.4
    assert 0.97 < p01 < 1.15 and p20 > 1.1 and p50 > 1.4


def test_papers_fig4_computation_fits_the_sjostrom_data():
    # the paper's Fig. 4 curve: 75 regular pairs with periodic calcium, cortical-slices fit
    z = []
    for pt in SJOSTROM["points"]:
        model = gb.pairing_prediction(pt["dt_ms"], pt["freq_hz"], DATA["sjostrom_model_protocol"]["pairs"],
                                      "cortical_slices").change
        z.append((model - pt["change"]) / pt["sem"])
        assert (model - 1) * (pt["change"] - 1) > 0 or abs(pt["change"] - 1) < pt["sem"], pt
    z = np.abs(z)
    # measured: every point within 2.03 SEM (0.1 Hz, +10 ms), mean |z| 0.48
    assert z.max() < 2.5 and z.mean() < 1.0


def test_frequency_with_the_ode_method_and_a_custom_grid():
    r = experiments.frequency(dt_ms=[-10.0], freq_hz=[1.0, 50.0], method="ode", progress=False)
    assert np.shape(r["change"]) == (1, 2)
    assert r["change"][0][1] > 1.0


# --------------------------------------------------------------------------- registry
def test_registry_lists_the_model_with_every_set_and_source():
    rows = [r for r in (cli_models._row(e) for e in registry.available()) if r["kind"] == "plasticity"]
    gbrow = next(r for r in rows if r["name"] == "graupner-brunel-2012")
    assert len(gbrow["sets"]) == 9 and all(s["source"] for s in gbrow["sets"])
    assert gbrow["methods"] == ["analytic", "ode", "sde"] and gbrow["conditions"] == ["control"]
    m = registry.get("graupner-brunel-2012")
    assert m.default_set_for("frequency") == "cortical_slices" and m.default_set_for("stdp") == "DP"


def test_registry_errors_name_the_closest_match():
    with pytest.raises(ArgumentError, match="unknown model `graupner-brunel`; did you mean `graupner-brunel-2012`"):
        registry.get("graupner-brunel")
    with pytest.raises(ArgumentError, match="did you mean `sde`"):
        experiments.stdp(method="sdee")
    with pytest.raises(ArgumentError, match="has no condition `MK-801`"):
        experiments.stdp(condition="MK-801")
    with pytest.raises(ArgumentError, match="parameter set `DPX`"):
        experiments.stdp(set="DPX")
    with pytest.raises(ArgumentError, match="takes no option `n_per_state`"):
        experiments.stdp(dt_ms=[10.0], n_per_state=10)
    with pytest.raises(ArgumentError, match="`pairs` must be >= 1"):
        experiments.stdp(pairs=0)
    with pytest.raises(ArgumentError, match="`freq_hz` must be > 0"):
        experiments.frequency(freq_hz=[10.0, -1.0])
    # no registration: the table is static, and a model instance of your own is used as it is
    mine = registry.GraupnerBrunelModel()
    assert registry.get(mine) is mine and not hasattr(registry, "register")
    assert experiments.stdp(dt_ms=[10.0], condition="control")["condition"] == "control"


# --------------------------------------------------------------------------- CLI
def test_parse_dt_ranges():
    assert parse_dt("-100:100:50") == [-100.0, -50.0, 0.0, 50.0, 100.0]
    assert parse_dt("10:-10:-10") == [10.0, 0.0, -10.0]
    assert parse_dt("0:1:0.3") == [0.0, 0.3, 0.6, 0.9]
    for bad, msg in (("1:2", "start:stop:step"), ("0:10:0", "non-zero"), ("0:10:-1", "towards stop"),
                     ("a", "not a number"), ("0:1e9:1", "at most"), ("nan", "finite")):
        with pytest.raises(argparse.ArgumentTypeError, match=msg):
            parse_dt(bad)


def test_cli_stdp_writes_json_and_png(tmp_path, capsys):
    out, png = tmp_path / "stdp.json", tmp_path / "stdp.png"
    assert run_cli(["stdp", "--dt", "-100:100:50", "--freq", "1", "--pairs", "60", "--json", str(out),
                    "--plot", str(png)]) == 0
    r = json.loads(out.read_text())
    assert r == experiments.stdp(dt_ms=[-100, -50, 0, 50, 100], progress=False)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "wrote" in capsys.readouterr().out


def test_cli_stdp_sde_and_set_alias(tmp_path):
    out = tmp_path / "s.json"
    assert run_cli(["stdp", "--set", "DPD'", "--dt", "-10", "5", "--method", "sde", "--seed", "3",
                    "--synapses", "200", "--step", "1", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["set"] == "DPDprime" and r["method"] == "sde" and len(r["change"]) == 2


def test_cli_frequency_and_models(tmp_path, capsys):
    out, png = tmp_path / "f.json", tmp_path / "f.png"
    assert run_cli(["frequency", "--dt", "10", "-10", "--freq", "0.1", "10", "20", "40", "50", "--json", str(out),
                    "--plot", str(png)]) == 0
    r = json.loads(out.read_text())
    assert r == experiments.frequency(progress=False)
    assert png.stat().st_size > 1000
    capsys.readouterr()
    models_json = tmp_path / "m.json"
    assert run_cli(["models", "--json", str(models_json)]) == 0
    text = capsys.readouterr().out
    for name in gb.set_names():
        assert f"- {name}:" in text
    assert json.loads(models_json.read_text())["models"][0]["name"] == "graupner-brunel-2012"


def test_cli_errors_leave_nothing_written(tmp_path):
    out = tmp_path / "x.json"
    with pytest.raises(ArgumentError, match="unknown model `synaps`"):
        run_cli(["stdp", "--model", "synaps", "--dt", "10", "--json", str(out)])
    with pytest.raises(ArgumentError, match="folder .* does not exist"):
        run_cli(["stdp", "--dt", "10", "--json", str(tmp_path / "missing" / "x.json")])
    with pytest.raises(SystemExit):
        run_cli(["stdp", "--dt", "0:10:0", "--json", str(out)])
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- pairing protocols (moved from the engine)
from kinetics.errors import ArgumentError, ProtocolError  # noqa: E402
from models.experiments import pairing_times  # noqa: E402


def test_pairing_times_counts_spacing_sign_and_bursts():
    pre, post = pairing_times(5, 50.0, 10.0, n_bursts=15, burst_period=10000.0)
    assert pre.size == post.size == 75
    np.testing.assert_array_equal(post - pre, 10.0)           # dt > 0: pre before post
    first = pre[:5]
    assert first.tolist() == [0.0, 20.0, 40.0, 60.0, 80.0]
    starts = pre[::5]
    np.testing.assert_array_equal(starts, 10000.0 * np.arange(15))
    np.testing.assert_array_equal(pre.reshape(15, 5) - starts[:, None], np.tile(first, (15, 1)))
    assert np.all(np.diff(pre) > 0) and np.all(np.diff(post) > 0)

    pre, post = pairing_times(3, 10.0, -15.0, t0=15.0)          # dt < 0: post before pre
    assert pre.tolist() == [15.0, 115.0, 215.0]
    assert post.tolist() == [0.0, 100.0, 200.0]
    assert np.all(post < pre)


def test_pairing_times_errors():
    with pytest.raises(ProtocolError, match=r"first spike would be at t = -10.*t0 >= 10"):
        pairing_times(5, 50.0, -10.0)
    with pytest.raises(ProtocolError, match="first spike would be at t = -5"):
        pairing_times(5, 50.0, 10.0, t0=-5.0)
    with pytest.raises(ProtocolError, match="burst_period` is required"):
        pairing_times(5, 50.0, 10.0, n_bursts=2)
    with pytest.raises(ProtocolError, match="must be longer than one burst"):
        pairing_times(5, 50.0, 10.0, n_bursts=2, burst_period=85.0)
    with pytest.raises(ArgumentError, match="n_pairs.*>= 1"):
        pairing_times(0, 50.0, 10.0)
