"""notebooks/10_single_channel.ipynb executes, and the numbers it prints agree with the library: the Q-matrix
and HJC quantities, the records it fits, rate recovery within 3 standard errors, and the EPSC peak computed by
kinetics.simulate. (About 10 s: one kernel, one fit of ~8000 intervals.)"""
import re
from pathlib import Path

import numpy as np
import pytest

import kinetics as kx
from kinetics import singlechannel as sc
from models import destexhe1994

NOTEBOOK = Path(__file__).parent.parent / "notebooks" / "10_single_channel.ipynb"


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    tmp = tmp_path_factory.mktemp("nb10")
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp)}}).execute()
    assert not list(tmp.iterdir()), "the notebook must not write files outside a temporary directory"
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                   if o.get("name") == "stdout")


def test_notebook_numbers_match_the_library(printed):
    scheme = destexhe1994.five_state("destexhe1994", statistical_factors=True)
    true = {p.name: p.value for p in scheme.parameters}
    for i, glu in enumerate([0.001, 0.1]):
        q = sc.q_matrix(scheme, inputs={"glu": glu}, conductance="Popen")
        h = sc.HJC(q, 50e-6)
        m = re.search(rf"glu {glu:g} mM: Popen ([\d.]+); mean open ([\d.]+) ms, mean shut ([\d.]+) ms; apparent "
                      rf"\(tres 50 us\): open ([\d.]+) ms, shut ([\d.]+) ms", printed)
        assert m, printed
        got = [float(x) for x in m.groups()]
        want = [q.popen(), q.mean_open_time() * 1e3, q.mean_shut_time() * 1e3, h.mean_open_time() * 1e3,
                h.mean_shut_time() * 1e3]
        np.testing.assert_allclose(got, want, rtol=1e-3)
        d = sc.SingleChannelData(sc.simulate_record(q, 4000, seed=10 + i), tres=50e-6, inputs={"glu": glu})
        assert f"{glu:g} mM: 4000 ideal intervals -> {d.n_intervals} apparent intervals" in printed
    # the fitted rates: within 3 standard errors of the truth, as printed in the table
    for name, v in true.items():
        m = re.search(rf"^{name}\s+([\d.e+-]+)\s+([\d.e+-]+)\s+([\d.e+-]+)\s+([\d.e+-]+)\s+([-\d.]+)$", printed, re.M)
        assert m, name
        t, _, fitted, se, z = (float(x) for x in m.groups())
        assert t == pytest.approx(v, rel=1e-3)
        assert abs(fitted - v) < 3 * se and abs(z) < 3
    # the two engines agree, and the printed EPSC peak is kinetics.simulate's
    m = re.search(r"true mechanism: ([\d.e+-]+)", printed)
    assert m and float(m.group(1)) < 1e-8
    res = kx.simulate(scheme, kx.Protocol([kx.pulses("glu", [0.0], amplitude=1.0, width=1.0)]), t_end=600.0,
                      t_eval=np.linspace(0.0, 600.0, 2401), rtol=1e-10, atol=1e-13)
    m = re.search(r"true mechanism: peak Popen ([\d.]+) at ([\d.]+) ms", printed)
    assert m and float(m.group(1)) == pytest.approx(res["Popen"].max(), abs=1e-4)
    m_fit = re.search(r"fitted mechanism: peak Popen ([\d.]+)", printed)
    assert m_fit and float(m_fit.group(1)) == pytest.approx(res["Popen"].max(), rel=0.05)
