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
        "graupner-brunel-2012", "DP", "exact", 1.0, 60)
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


def _z_scores(result, points):
    """(model - data)/SEM at every published point; the sign of the change must agree unless within one SEM of 1."""
    z = []
    for pt in points:
        model = result["change"][result["dt_ms"].index(pt["dt_ms"])][result["freq_hz"].index(pt["freq_hz"])]
        z.append((model - pt["change"]) / pt["sem"])
        assert (model - 1) * (pt["change"] - 1) > 0 or abs(pt["change"] - 1) < pt["sem"], (pt, model)
    return np.abs(z)


def test_papers_fig4_computation_fits_the_sjostrom_data():
    # the paper's Fig. 4 curve: 75 regular pairs with periodic calcium, cortical-slices fit (method "periodic")
    data = experiments.sjostrom2001_data()["points"]
    periodic = experiments.frequency(method="periodic", progress=False)
    for pt in data:
        model = gb.pairing_prediction(pt["dt_ms"], pt["freq_hz"], DATA["sjostrom_model_protocol"]["pairs"],
                                      "cortical_slices").change
        assert periodic["change"][periodic["dt_ms"].index(pt["dt_ms"])][periodic["freq_hz"].index(pt["freq_hz"])] \
            == model
    z = _z_scores(periodic, data)
    # measured: every point within 2.03 SEM (0.1 Hz, +10 ms), mean |z| 0.48
    assert z.max() == pytest.approx(2.03, abs=0.01) and z.mean() == pytest.approx(0.48, abs=0.01)
    # the exact times above threshold of the delivered bursts give less LTP at 20-50 Hz and fit the data less well
    # (the set was fitted with the periodic computation); measured: max |z| 2.03 (the same 0.1 Hz point, where both
    # methods agree), mean |z| 0.68, z = -1.02 at 40 Hz, +10 ms (periodic +0.21)
    z_exact = _z_scores(experiments.frequency(method="exact", progress=False), data)
    assert z_exact.max() == pytest.approx(2.03, abs=0.01) and z_exact.mean() == pytest.approx(0.68, abs=0.01)
    assert np.sum(z_exact ** 2) > np.sum(z ** 2) + 2.0                     # measured chi2 7.48 vs 5.19


def test_sjostrom2001_loader_returns_the_published_points():
    d = experiments.sjostrom2001_data()
    assert "Sjostrom" in d["source"] and "Neuron 32:1149" in d["source"]
    assert d["protocol"] == {"pairs_per_burst": 5, "bursts": 15, "burst_period_ms": 10000.0}
    # the package data and the tests' own transcription (tests/data) agree point by point
    assert d["points"] == [{k: float(v) for k, v in pt.items()} for pt in SJOSTROM["points"]]
    assert {(p["dt_ms"], p["freq_hz"]) for p in d["points"]} == {(dt, f) for dt in (10.0, -10.0)
                                                                 for f in (0.1, 10.0, 20.0, 40.0, 50.0)}
    d["points"].clear()                                   # a fresh copy each time
    assert len(experiments.sjostrom2001_data()["points"]) == 10


def test_frequency_with_the_ode_method_and_a_custom_grid():
    r = experiments.frequency(dt_ms=[-10.0], freq_hz=[1.0, 50.0], method="ode", progress=False)
    assert np.shape(r["change"]) == (1, 2)
    assert r["change"][0][1] > 1.0


# --------------------------------------------------------------------------- figures
def _caption(fig) -> str:
    return " ".join(" ".join(t.get_text() for t in fig.texts).split())


def _flat(text) -> str:
    return " ".join(text.split())


def _errorbars(ax) -> dict:
    """label -> (x, y, (lower, upper), colour) of each errorbar container."""
    out = {}
    for c in ax.containers:
        data, _, (bars,) = c.lines
        segs = bars.get_segments()
        out[c.get_label()] = (data.get_xdata().tolist(), data.get_ydata().tolist(),
                              ([s[0][1] for s in segs], [s[1][1] for s in segs]), data.get_color())
    return out


def test_frequency_figure_says_model_set_method_and_shows_the_sjostrom_points():
    r = experiments.frequency(method="periodic", progress=False)
    fig = experiments.plot_frequency(r)
    ax = fig.axes[0]
    assert ax.get_title().splitlines() == ["graupner-brunel-2012: set cortical_slices, method periodic",
                                           "5 pairs x 15 bursts every 10 s"]
    caption = _caption(fig)
    assert _flat(registry.get("graupner-brunel-2012").method_notes["periodic"]) in caption
    assert _flat(experiments.NO_CHANGE_NOTES["graupner-brunel-2012"]) in caption
    assert "calcium never rose above the depression threshold" in caption
    assert "Points: Sjostrom et al. 2001" in caption and "mean +/- SEM" in caption
    # caption below the axes
    assert all(t.get_position()[1] < ax.get_position().y0 for t in fig.texts)
    bars = _errorbars(ax)
    assert set(bars) == {"Sjostrom 2001, dt = +10 ms", "Sjostrom 2001, dt = -10 ms"}
    curves = {line.get_label(): line.get_color() for line in ax.get_lines()}
    for dt in (10.0, -10.0):
        x, y, (lo, hi), colour = bars[f"Sjostrom 2001, dt = {dt:+g} ms"]
        pts = [p for p in SJOSTROM["points"] if p["dt_ms"] == dt]
        assert x == [p["freq_hz"] for p in pts] and y == [p["change"] for p in pts]
        np.testing.assert_allclose(lo, [p["change"] - p["sem"] for p in pts])
        np.testing.assert_allclose(hi, [p["change"] + p["sem"] for p in pts])
        assert colour == curves[f"model, dt = {dt:+g} ms"]


def test_frequency_figure_shows_data_only_for_their_protocol():
    other = experiments.plot_frequency(experiments.frequency(freq_hz=[10.0, 50.0], bursts=3, progress=False))
    assert other.axes[0].containers == [] and other.axes[0].get_title().splitlines()[0].endswith("method exact")
    assert "No data shown: Sjostrom et al. 2001 used 5 pairs x 15 bursts every 10 s, not this protocol." \
        in _caption(other)
    timing = experiments.plot_frequency(experiments.frequency(dt_ms=[-25.0], freq_hz=[10.0], progress=False))
    assert timing.axes[0].containers == []
    assert "measured dt = +10 and -10 ms only" in _caption(timing)


def test_stdp_figure_has_data_only_when_the_protocol_matches(tmp_path):
    fig = experiments.plot_stdp(experiments.stdp(dt_ms=[-20.0, 20.0], progress=False), tmp_path / "s.png")
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert fig.axes[0].containers == []
    assert fig.axes[0].get_title().splitlines() == ["graupner-brunel-2012: set DP, method exact",
                                                    "60 regular pairs at 1 Hz"]
    assert "No data shown" in _caption(fig) and "not 60 regular pairs at 1 Hz" in _caption(fig)
    # 75 regular pairs at 0.1 Hz are the Sjostrom et al. 2001 spike trains at 0.1 Hz (5 x 15 do not fit in 10 s)
    match = experiments.plot_stdp(experiments.stdp(dt_ms=[-30.0, 0.0, 30.0], freq_hz=0.1, pairs=75,
                                                   method="periodic", progress=False))
    (x, y, (lo, hi), _), = _errorbars(match.axes[0]).values()
    assert x == [10.0, -10.0] and y == [0.96, 0.71]
    np.testing.assert_allclose(np.subtract(hi, lo), [0.1, 0.16])
    assert "same spike trains" in _caption(match) and "method periodic" in match.axes[0].get_title()


def test_figure_captions_name_the_models_no_change_reason():
    syn = {"model": "synapse", "set": "L5", "method": "ode", "condition": "AP5", "freq_hz": 1.0, "pairs": 60,
           "dt_ms": [-10.0, 10.0], "change": [1.0, 1.0]}
    fig = experiments.plot_stdp(syn, note="An extra sentence.")
    caption = _caption(fig)
    assert _flat(experiments.NO_CHANGE_NOTES["synapse"]) in caption and caption.endswith("An extra sentence.")
    assert "NMDA-receptor calcium stayed below the potentiation threshold" in caption
    assert fig.axes[0].get_title().splitlines()[0] == "synapse: set L5, method ode, condition AP5"
    mine = dict(syn, model="my-model", condition="control")
    assert _flat(experiments.NO_CHANGE_NOTES[None]) in _caption(experiments.plot_stdp(mine))


def test_demo_explains_a_flat_stdp_curve_at_positive_dt():
    from models.cli.demo import stdp_flat_note

    curve = {"model": "synapse", "set": "L5", "method": "ode", "condition": "control", "freq_hz": 1.0, "pairs": 60,
             "dt_ms": [-10.0, 10.0, 40.0], "change": [0.8, 1.0, 0.999]}
    assert stdp_flat_note(dict(curve, change=[0.8, 1.1, 1.0])) is None          # not flat: nothing to explain
    note = stdp_flat_note(curve)                                                 # one synapse run at +10 ms
    assert note.startswith("Why dt > 0 gives no change at 1 Hz (every |change - 1| < 0.02): at dt = +10 ms")
    # the synapse at 1 Hz, +10 ms: neither arm acts (measured: both factors 1.000)
    assert "presynaptic factor 1.000 (pre-before-post" in note and "postsynaptic factor 1.000 (pairs" in note
    assert note.endswith("Sjostrom et al. 2001 found no LTP at +10 ms and 0.1 Hz either (0.96 +/- 0.05), against "
                         "1.56 +/- 0.26 at 50 Hz.")


# --------------------------------------------------------------------------- registry
def test_registry_lists_the_model_with_every_set_and_source():
    rows = [r for r in (cli_models._row(e) for e in registry.available()) if r["kind"] == "plasticity"]
    gbrow = next(r for r in rows if r["name"] == "graupner-brunel-2012")
    assert len(gbrow["sets"]) == 9 and all(s["source"] for s in gbrow["sets"])
    assert gbrow["methods"] == ["exact", "periodic", "ode", "sde"] and gbrow["conditions"] == ["control"]
    assert gbrow["method_aliases"] == {"analytic": "exact"} and set(gbrow["method_notes"]) == set(gbrow["methods"])
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


def test_cli_method_choice_periodic_exact_and_the_old_name(tmp_path, capsys):
    out, png = tmp_path / "p.json", tmp_path / "p.png"
    assert run_cli(["frequency", "--method", "periodic", "--json", str(out), "--plot", str(png)]) == 0
    r = json.loads(out.read_text())
    assert r == experiments.frequency(method="periodic", progress=False) and r["method"] == "periodic"
    assert r["change"][1][3] == pytest.approx(1.5851, abs=1e-4)           # -10 ms, 40 Hz (the paper's Fig. 4)
    assert "method periodic: the paper's own prediction" in capsys.readouterr().out
    old = tmp_path / "a.json"
    assert run_cli(["stdp", "--dt", "-10", "10", "--method", "analytic", "--json", str(old)]) == 0
    assert json.loads(old.read_text()) == experiments.stdp(dt_ms=[-10.0, 10.0], method="exact", progress=False)
    parser = argparse.ArgumentParser(prog="nmdakin")
    add_subcommands(parser.add_subparsers())
    text = " ".join(parser._subparsers._group_actions[0].choices["frequency"].format_help().split())
    for phrase in ("exact (default)", "periodic = the paper's own prediction", "analytic = old name of exact",
                   "sde = full stochastic model", "exact is the default because"):
        assert phrase in text


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
