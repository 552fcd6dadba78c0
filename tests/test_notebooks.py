"""The notebooks in notebooks/ execute from top to bottom, and the results they show are right.

The notebooks are user material: they hold no test code. Each ends with a ``summary`` cell that displays a
dictionary of the numbers the notebook produced; ``check_<notebook>(nb)`` reads that dictionary from the
*executed* notebook and compares it with oracles from outside the notebook (closed forms, the library, the
shipped exact values, the published outcomes). The notebooks run in an empty working folder, which must stay
empty (they write their files into temporary folders they print).

Executed notebooks come from the docs build (the session fixture ``docs_build``, which executes every notebook
once) when it exists, else from a local nbclient run. Cost: executing the nine notebooks, a few minutes.
"""
from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import numpy as np
import pytest

NOTEBOOK_DIR = Path(__file__).parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
#: notebooks whose results another test module checks
CHECKED_ELSEWHERE = {"10_single_channel.ipynb": "tests/test_notebook_single_channel.py"}


# --------------------------------------------------------------------------- reading an executed notebook
def summary(nb) -> dict:
    """The dictionary the notebook's last code cell displays (its ``summary``)."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and code[-1].source.lstrip().startswith("summary = "), "the last code cell must build `summary`"
    results = [o for o in code[-1].outputs if o.get("output_type") == "execute_result"]
    assert results, "the summary cell displays nothing"
    tree = ast.parse(results[-1]["data"]["text/plain"], mode="eval")
    return ast.literal_eval(_NonFinite().visit(tree))


class _NonFinite(ast.NodeTransformer):
    """``nan`` and ``inf`` (how Python prints those floats) as numbers, for ast.literal_eval."""

    def visit_Name(self, node):
        if node.id in ("nan", "inf"):
            return ast.copy_location(ast.Constant(float(node.id)), node)
        return node


def printed(nb) -> str:
    """Everything the notebook printed."""
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                   if o.get("name") == "stdout")


# --------------------------------------------------------------------------- checks, one per notebook
def check_01_quickstart(nb):
    from models import destexhe1994
    from models.reference_values import destexhe1994_peaks

    s = summary(nb)
    assert s["max |simulated - exact| at the end of the first pulse"] < 1e-7
    assert s["total occupancy conserved"] is True
    # the first pulse starts from rest: the exact peak of the published rates (read on a 0.25 ms grid)
    exact = destexhe1994_peaks()["values"]["destexhe1994"]["without_statistical_factors"]
    assert abs(s["peak open probability after the first pulse"] - exact["peak_open_probability"]) < 1e-4
    assert abs(s["time to peak after the first pulse (ms)"] - exact["time_to_peak_ms"]) <= 0.25
    # steady state at 1 uM glutamate: detailed balance of the linear chain
    p = destexhe1994.five_state().parameter_values()
    rb_glu = p["Rb"] * 1e-3 * 1e3  # 5 /uM/s x 1e-3 mM, in 1/s
    w = {"C0": 1.0}
    w["C1"] = w["C0"] * rb_glu / p["Ru"]
    w["C2"] = w["C1"] * rb_glu / p["Ru"]
    w["D"] = w["C2"] * p["Rd"] / p["Rr"]
    w["O"] = w["C2"] * p["Ro"] / p["Rc"]
    total = sum(w.values())
    ss = s["steady-state occupancies at 1 uM glutamate"]
    for k, v in w.items():
        assert math.isclose(ss[k], v / total, rel_tol=1e-5, abs_tol=1e-9), k


def check_02_nmda_receptor(nb):
    from models.reference_values import destexhe1994_peaks

    s = summary(nb)
    exact = destexhe1994_peaks()["values"]["destexhe1994"]["without_statistical_factors"]["peak_open_probability"]
    assert s["max |peak Popen - exact| over the rate sets (0.25 ms grid)"] < 1e-3
    assert abs(s["peak Popen, published rates (2.5 us grid)"] - exact) < 1e-6
    assert s["max |two-state - closed form|"] < 1e-6
    v = np.array([-60.0, 40.0])  # Jahr & Stevens (1990): B = 1/(1 + exp(-0.062 V) [Mg]/3.57)
    assert np.allclose(s["Jahr-Stevens B at -60 and +40 mV, 1 mM Mg2+"], 1 / (1 + np.exp(-0.062 * v) / 3.57),
                       rtol=1e-12)
    low, high = s["Kampa 2004 unblocked fraction of open receptors at -60 and +40 mV"]
    assert 0 < low < high <= 1
    assert s["max |glu-bound(MK-801) - glu-bound(control)|"] < 1e-6  # trapping leaves glutamate binding alone
    ca = s["peak spine Ca2+ (uM)"]
    assert ca["pre then post (+10 ms)"] > ca["post then pre (-10 ms)"]
    assert ca["pre then post (+10 ms)"] > max(ca["glutamate only"], ca["bAP only"])


def check_03_stdp_tltd(nb):
    # the outcomes Thomazeau et al. (2025, eLife 14:RP106284) report, and the L5 tLTD magnitude
    s = summary(nb)
    ltd, ltp = s["tLTD (after/before, -25 ms, 20 Hz)"], s["tLTP (after/before, +10 ms, 50 Hz)"]
    assert 0.60 <= ltd["control"] <= 0.75 and ltp["control"] > 1.2
    for name in ("pre_GluN1_KO", "AP5", "SP600125", "JNK2_STX1a_peptide_pre"):
        assert abs(ltd[name] - 1) < 0.05, name
    for name in ("post_GluN1_KO", "MK801", "7CK", "RIM1ab_KO"):
        assert abs(ltd[name] - ltd["control"]) < 0.02, name
    for name in ("post_GluN1_KO", "MK801", "AP5"):
        assert abs(ltp[name] - 1) < 0.05, name
    by_freq = s["tLTD at -25 ms by pairing frequency (Hz)"]
    assert set(by_freq) == {0.1, 1.0, 10.0, 20.0}
    assert max(by_freq.values()) - min(by_freq.values()) < 0.1  # frequency independent from 0.1 to 20 Hz


def check_04_fitting(nb):
    from models import destexhe1994

    s = summary(nb)
    truth = destexhe1994.five_state().parameter_values()  # the rates that made the recordings
    for k, v in s["fitted (1/s)"].items():
        lo, hi = s["95 % interval (1/s)"][k]
        assert lo < truth[k] < hi, k
        assert abs(v / truth[k] - 1) < 0.05, k
    assert s["truth in every interval"] is True
    assert s["fit written to"] in printed(nb)


def check_05_chronic_adaptation(nb):
    # Skolnick (1996): ~45 % high-affinity sites; no acute change; a clear change after 14 days that builds up
    # over days and persists 3 days after the last dose
    s = summary(nb)
    for name, f0 in s["high-affinity fraction, control"].items():
        assert abs(f0 - 0.45) < 1e-6, name
    for name, (d1, d7, d14, d17, _) in s["relative fall of fH on days 1, 7, 14, 17, 21"].items():
        assert d1 < 0.05 and d14 > 0.25, name
        assert d7 < d14, name
        assert d17 > 0.5 * d14, name
    assert s["max |fH_full - fH_qss|"] < 1e-5


def check_06_binding_assays(nb):
    from models import binding_assays as ba, nmda_ligands as nl

    s = summary(nb)
    kd = nl.CGP39653.value("Kd")
    assert s["Kd used to simulate (nM)"] == kd
    assert abs(s["Kd from the saturation fit (nM)"] / kd - 1) < 0.05
    assert abs(s["Ki from IC50 by Cheng-Prusoff (nM, true 50)"] / 50.0 - 1) < 0.05
    f_high, ki_high, ki_low = s["two-site fit: f_high, Ki_high, Ki_low (true 0.45, 5, 5000)"]
    assert abs(f_high - 0.45) < 0.02 and abs(ki_high / 5 - 1) < 0.1 and abs(ki_low / 5000 - 1) < 0.1
    bias = s["relative Kd error of the textbook fit at receptor = Kd"]
    assert abs(bias) > 0.3 and bias == ba.depletion_bias(1.0, 1.0).kd_relative_error
    assert abs(s["Kd from the kinetic scheme with depletion (true 1)"] - 1) < 0.1


def check_07_export(nb):
    s = summary(nb)
    assert set(s["libRoadRunner max |diff| / scale"]) == {"O", "x", "Ca"}
    assert all(v < 1e-4 for v in s["libRoadRunner max |diff| / scale"].values())
    assert all(v < 1e-3 for v in s["NEURON max |diff| / scale"].values())
    assert s["files"] == ["synapse.tex", "synapse.xml"]
    assert re.search(r"output folder: \S+nmdakin-export-", printed(nb))


def check_08_synapse_fit(nb):
    s = summary(nb)
    z = s["z of the Sjostrom points (fitted set)"]
    assert len(z) == 10 and all(abs(v) <= 2 for v in z)  # every Sjostrom et al. (2001) point within 2 SE
    tl = s["tLTD across frequencies (fitted set)"]
    assert 0.60 <= tl[-1] <= 0.70 and max(tl) - min(tl) <= 0.1  # Brock et al. (2020); Thomazeau et al. (2025)
    hand, fitted = s["chi2 (hand, fitted)"]
    assert fitted < hand / 4
    ph = s["pharmacology (represented conditions)"]
    for name, r in ph.items():  # the held-out Thomazeau et al. (2025) table
        if r["expected tLTD"] == "abolished":
            assert abs(r["tLTD"] - 1) < 0.05, name
        else:
            assert abs(r["tLTD"] - ph["control"]["tLTD"]) < 0.02, name
        if r["expected tLTP"] == "abolished":
            assert abs(r["tLTP"] - 1) < 0.05, name
        elif r["expected tLTP"] == "present":
            assert r["tLTP"] > 1.2, name


def check_09_fit_nwb(nb):
    from models import destexhe1994

    s = summary(nb)
    truth = destexhe1994.five_state().parameter_values()  # the rates that made the recording
    for k, v in s["fitted (1/s)"].items():
        assert abs(v - truth[k]) < 3 * s["standard error (1/s)"][k], k
        assert abs(v / truth[k] - 1) < 0.02, k
    assert all(abs(r - 1) < 0.1 for r in s["noise sd estimated / true"])
    assert s["samples per sweep"] == [1600, 1600]
    assert s["glutamate widths from the epochs (ms)"] == [1.0, 200.0]


def check_11_how_many_receptors(nb):
    # the ODE reference is the library's synapse (another path: models.synapse.run); N independent receptors:
    # the spread of the peaks falls with N (about as 1/sqrt(N)), the means move to the ODE, and the open count
    # changes about N times as often
    from models import synapse
    from models.experiments import sjostrom_protocol

    s = summary(nb)
    p = s["protocol"]
    pre, post = sjostrom_protocol(p["dt"], p["freq"], pairs=p["pairs"], bursts=p["bursts"])
    assert math.isclose(s["ode"]["change"], synapse.run(pre, post, n_points=3).change, rel_tol=1e-4)
    ns = s["receptors"]
    assert ns == [1, 5, 20, 100]
    for key in ("peak_current_pA", "peak_calcium_uM"):
        sd = [s["sd"][n][key] for n in ns]
        assert all(a > b for a, b in zip(sd, sd[1:])), key
        assert 0.3 < (sd[-1] * math.sqrt(ns[-1])) / (sd[1] * math.sqrt(ns[1])) < 3.0, key
        bias = [abs(s["mean"][n][key] - s["ode"][key]) for n in ns]
        assert bias[-1] < bias[0] and bias[-1] < 0.2 * s["ode"][key], key
    change = [abs(s["mean"][n]["change"] - s["ode"]["change"]) for n in ns]
    assert change[-1] < change[0]
    switches = s["open-count changes per run"]
    assert 40 < switches[100] / switches[1] < 250


CHECKS = {name[len("check_"):] + ".ipynb": f for name, f in dict(globals()).items() if name.startswith("check_")}


# --------------------------------------------------------------------------- static rules (cheap)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_user_material(path):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert not re.search(r"^\s*assert\b", code, re.M), "no test code in a notebook: checks go in tests/"
    assert not re.search(r"[\"'/]tests[/\"']", code), "a notebook must not read the test suite's files"
    assert path.name in CHECKS or path.name in CHECKED_ELSEWHERE, f"nothing checks the results of {path.name}"
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= 2, "explain the steps in markdown"


# --------------------------------------------------------------------------- executed notebooks
@pytest.fixture(scope="session")
def executed(request, tmp_path_factory):
    """``name -> executed notebook``: from the docs build when there is one, else run here with nbclient."""
    nbformat = pytest.importorskip("nbformat")
    try:
        build = request.getfixturevalue("docs_build")
    except pytest.FixtureLookupError:
        build = None
    cache = {}

    def get(path: Path):
        if path.name in cache:
            return cache[path.name]
        if build is not None:
            folder = Path(build["executed"] if isinstance(build, dict) else build.executed)
            nb = nbformat.read(folder / path.name, as_version=4)
        else:
            nbclient = pytest.importorskip("nbclient")
            nb = nbformat.read(path, as_version=4)
            cwd = tmp_path_factory.mktemp(path.stem)
            nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                                    resources={"metadata": {"path": str(cwd)}}).execute()
            assert not list(cwd.iterdir()), f"{path.name} wrote files into its working folder"
        cache[path.name] = nb
        return nb

    return get


CHECKED = [p for p in NOTEBOOKS if p.name in CHECKS]


@pytest.mark.slow
@pytest.mark.parametrize("path", CHECKED, ids=[p.name for p in CHECKED])
def test_notebook_results(path, executed, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    CHECKS[path.name](executed(path))
