"""Every figure nmdakin draws is labelled: axis labels (with a unit in [brackets] where the quantity has one),
a title, a legend where several lines are drawn (kinetics.plotstyle). Checked through matplotlib's API.

The CLI commands run with their quick options; the figures are caught as they are saved (a spy on
``Figure.savefig`` that records the figure and then saves it for real).
"""
import re
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

import kinetics as kx
from kinetics import plotstyle
from models.cli import main

UNIT = re.compile(r"\[[^\]]+\]$")
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fit_destexhe"


@pytest.fixture
def saved(monkeypatch):
    """The figures saved while the test runs (each really saved), closed afterwards."""
    figs = []
    real = Figure.savefig

    def spy(self, *a, **kw):
        figs.append(self)
        return real(self, *a, **kw)

    monkeypatch.setattr(Figure, "savefig", spy)
    yield figs
    for f in figs:
        plt.close(f)


def data_axes(fig):
    """Visible axes that draw data (lines, bars, collections), not colour bars or empty slots."""
    return [ax for ax in fig.axes if ax.get_visible() and (ax.lines or ax.patches or ax.collections)]


def check_figure(fig, *, units=()):
    """Every data axes: x and y label, a title (or the figure's suptitle), a legend when it draws more than one
    labelled line; ``units``: substrings of labels that must end in a ``[unit]``."""
    axes = data_axes(fig)
    assert axes, "no axes with data"
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
    for ax in axes:
        where = f"axes titled {ax.get_title()!r}"
        assert ax.get_xlabel().strip() and ax.get_ylabel().strip(), where
        assert ax.get_title().strip() or suptitle.strip(), where
        drawn = [ln for ln in ax.lines if not ln.get_label().startswith("_")] + \
                [c for c in ax.containers if not c.get_label().startswith("_")]
        if len(drawn) > 1 or len(ax.lines) > 1 and any(not ln.get_label().startswith("_") for ln in ax.lines):
            assert ax.get_legend() is not None, where
    labels = [lab for ax in axes for lab in (ax.get_xlabel(), ax.get_ylabel())]
    for u in units:
        hits = [lab for lab in labels if u in lab]
        assert hits, f"no label mentions {u!r}: {labels}"
        assert all(UNIT.search(lab) for lab in hits), hits
    return axes


# ---------------------------------------------------------------- the style module

def test_style_is_scoped_and_labels_are_bracketed():
    before = dict(matplotlib.rcParams)
    with plotstyle.style():
        assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"] == list(plotstyle.PALETTE)
        assert matplotlib.rcParams["font.size"] == plotstyle.RC["font.size"]
    assert dict(matplotlib.rcParams) == before
    assert plotstyle.label("time", "ms") == "time [ms]" and plotstyle.label("P_open", "1") == "P_open"
    with pytest.raises(ValueError, match="quantity name"):
        plotstyle.label("", "ms")
    v, u = plotstyle.time_axis(np.array([0.0, 30000.0, 60000.0]), "ms")
    assert u == "s" and v.tolist() == [0.0, 30.0, 60.0]
    assert plotstyle.time_axis([0.0, 9.0], "ms")[1] == "ms"
    assert plotstyle.time_axis([0.0, 0.05], "s")[1] == "ms"
    assert plotstyle.time_factor("s", "ms") == 1000.0
    with pytest.raises(ValueError, match="cannot convert"):
        plotstyle.time_factor("ms", "fortnight")


# ---------------------------------------------------------------- engine figures

def test_result_plot_of_a_60_s_run_shows_seconds_and_units():
    s = kx.parse_scheme("scheme decay\nspecies A = 1\nspecies B = 0\nparameter k = 0.0001 [1/ms]\nA -> B ; k")
    r = kx.simulate(s, t_end=60000.0, n_points=61)
    ax = r.plot()
    try:
        assert ax.get_xlabel() == "time [s]"
        x = ax.lines[0].get_xdata()
        assert x[0] == 0.0 and x[-1] == pytest.approx(60.0)
        assert ax.get_ylabel() == "concentration [mM]"          # undeclared species: scheme concentration unit
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A", "B"]
        check_figure(ax.figure, units=("time", "concentration"))
        # the trace itself is unchanged: A(60 s) = exp(-0.0001/ms * 60000 ms)
        assert ax.lines[0].get_ydata()[-1] == pytest.approx(np.exp(-6.0), rel=1e-4)
    finally:
        plt.close(ax.figure)
    with pytest.raises(KeyError, match="not a state"):
        r.unit_of("Z")


def test_fit_figure(tmp_path, saved, capsys):
    assert main(["fit", str(EXAMPLE / "experiment.toml"), "--json", str(tmp_path / "f.json"), "--plot",
                 str(tmp_path / "fit.png"), "--starts", "2", "--no-profiles", "--workers", "1"]) == 0
    (fig,) = saved
    axes = check_figure(fig, units=("time", "I_NMDA"))
    waterfall = [ax for ax in axes if ax.get_title().startswith("multistart")][0]
    assert waterfall.get_yscale() == "log" and waterfall.get_ylabel() == "cost / best cost - 1"
    y = waterfall.lines[0].get_ydata()
    assert np.all(y > 0) and y[0] == pytest.approx(1e-6)      # the best start sits on the floor, not at 0


# ---------------------------------------------------------------- CLI figures

@pytest.mark.parametrize("argv, units", [
    (["binding", "saturation", "--radioligand", "dcka", "--receptor-nM", "30", "--ns", "0.02"],
     ("added radioligand", "bound radioligand")),
    (["binding", "competition", "--kd-nM", "1", "--ki-nM", "10"], ("competitor", "specific binding")),
    (["binding", "kinetics", "--kd-nM", "1"], ("time", "specific binding")),
    (["chronic", "--drug", "imipramine", "--dose", "15", "--days", "14", "--washout", "7"],
     ("glycine IC50", "time")),
    (["pharmacology", "--conditions", "control", "post_GluN1_KO", "JNK2_STX1a_peptide_post"],
     ("change in synaptic strength",)),
    (["stdp", "--dt", "-40:40:40", "--freq", "1", "--pairs", "20"], ("dt", "change in synaptic strength")),
    (["frequency", "--method", "periodic"], ("pairing frequency", "change in synaptic strength")),
])
def test_cli_figures(tmp_path, saved, capsys, argv, units):
    assert main(argv + ["--json", str(tmp_path / "o.json"), "--plot", str(tmp_path / "o.png")]) == 0
    (fig,) = saved
    check_figure(fig, units=units)


def test_saturation_figure_shows_the_fit_and_says_added_ligand(tmp_path, saved, capsys):
    main(["binding", "saturation", "--kd-nM", "2", "--json", str(tmp_path / "o.json"), "--plot",
          str(tmp_path / "o.png")])
    ax = data_axes(saved[0])[0]
    assert ax.get_xlabel() == "added radioligand [nM]"
    assert any(ln.get_label().startswith("fit vs added") for ln in ax.lines)


def test_chronic_figure_explains_the_shaded_period(tmp_path, saved, capsys):
    main(["chronic", "--drug", "citalopram", "--dose", "10", "--days", "5", "--washout", "3", "--json",
          str(tmp_path / "o.json"), "--plot", str(tmp_path / "o.png")])
    axes = data_axes(saved[0])
    assert len(axes) == 3 and all(ax.get_title() for ax in axes)
    for ax in axes:
        assert "treatment (5 days)" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_pharmacology_labels_are_horizontal_and_not_under_hatching(tmp_path, saved, capsys):
    main(["pharmacology", "--conditions", "control", "post_GluN1_KO", "--json", str(tmp_path / "o.json"),
          "--plot", str(tmp_path / "o.png")])
    ax = data_axes(saved[0])[0]
    outcomes = [t for t in ax.texts if t.get_text().startswith("expt:")]
    assert outcomes and all(t.get_rotation() == 0 and t.get_fontsize() >= 8 for t in outcomes)
    assert any("intact" in t.get_text() for t in outcomes)
    bar_ends = max(p.get_x() + p.get_width() for p in ax.patches if p.get_height() < 1)
    assert min(t.get_position()[0] for t in outcomes) > 0       # beside the bars, not inside a hatched one
    assert all(t.get_rotation() == 0 for t in ax.get_yticklabels())
    assert bar_ends > 0


DCK = (Path(__file__).parent / "data" / "singlechannel" / "del_castillo_katz.txt").read_text()


def test_single_channel_figure(tmp_path, saved, capsys):
    from kinetics.singlechannel import q_matrix, simulate_record, write_record

    (tmp_path / "dck.txt").write_text(DCK)
    s = kx.read_scheme(tmp_path / "dck.txt")
    write_record(simulate_record(q_matrix(s, inputs={"A": 0.05}, conductance="g"), 1000, seed=3),
                 tmp_path / "rec.scn")
    main(["single-channel", "fit", str(tmp_path / "rec.scn"), "--scheme", str(tmp_path / "dck.txt"),
          "--tres", "50us", "--input", "A=0.05", "--conductance", "g", "--fit", "koff,beta,alpha",
          "--json", str(tmp_path / "o.json"),
          "--plot", str(tmp_path / "o.png"), "--agonist", "A", "--quiet"])
    (fig,) = saved
    axes = check_figure(fig, units=("open time", "shut time", "A"))
    assert axes[2].get_xlabel() == "A [mM]"


def test_synapse_fit_figure(tmp_path, saved, capsys):
    assert main(["synapse-fit", "--check", "--json", str(tmp_path / "o.json"), "--plot",
                 str(tmp_path / "o.png")]) == 0
    (fig,) = saved
    check_figure(fig, units=("pairing frequency", "change in synaptic strength"))


def test_demo_epsc_figure(tmp_path, saved, capsys):
    from models.cli.demo import _demo_epsc

    _demo_epsc(tmp_path)
    check_figure(saved[-1], units=("time", "I_NMDA", "holding potential"))


def test_the_check_catches_an_unlabelled_figure():
    fig = Figure()
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([0, 1], [0, 1], label="a")
    ax.plot([0, 1], [1, 0], label="b")
    ax.set_xlabel("time (ms)")
    with pytest.raises(AssertionError):
        check_figure(fig)                                  # no y label, no title, no legend
    ax.set_ylabel("x")
    ax.set_title("t")
    ax.legend()
    check_figure(fig)
    with pytest.raises(AssertionError):
        check_figure(fig, units=("time",))                 # a unit in round brackets is not the convention


def test_stochastic_figure(tmp_path, saved, capsys):
    assert main(["stochastic", "--receptors", "1", "5", "--runs", "3", "--bursts", "1", "--seed", "0", "--json",
                 str(tmp_path / "o.json"), "--plot", str(tmp_path / "o.png")]) == 0
    (fig,) = saved
    check_figure(fig, units=("time", "NMDA current", "peak spine Ca2+"))
