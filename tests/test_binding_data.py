"""models.binding_data: binding tables of counts with replicate columns -> textbook fits (exact on noise-free
data, within standard errors on noisy replicates), counts -> nM, and clear refusals of malformed tables."""
import numpy as np
import pytest

from kinetics.errors import ArgumentError
from models import binding_assays as ba
from models.binding_data import DPM_PER_CI, fit_binding_table, read_binding_table

L_NM = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0]


def _write(tmp_path, text, name="assay.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_counts_convert_to_nM_and_the_fit_is_exact(tmp_path):
    # Bmax 0.8 nM, Kd 2.5 nM; 3H ligand at 80 Ci/mmol, 45 % counting efficiency, 0.5 mL assay: a bound 1 nM is
    # 1e-9 mol/L * 0.5e-3 L = 5e-13 mol = 5e-10 mmol -> 0.04 mCi... cpm = nM * eff * 2.22e12 * SA * V / 1e9.
    sa, eff, vol = 80.0, 0.45, 0.5
    cpm_per_nM = eff * DPM_PER_CI * sa * vol / 1e9
    nsb = 0.02 * np.array(L_NM)                       # nonspecific binding, linear in ligand (nM)
    rows = ["# tritiated ligand, 3 replicates", "ligand (nM)\ttotal_1 [cpm]\ttotal_2 [cpm]\tnsb_1 [cpm]"]
    for x, n in zip(L_NM, nsb):
        tot = (ba.specific_binding(x, 0.8, 2.5) + n) * cpm_per_nM
        rows.append(f"{x}\t{tot:.6f}\t{tot:.6f}\t{n * cpm_per_nM:.6f}")
    data = read_binding_table(_write(tmp_path, "\n".join(rows) + "\n", "sat.tsv"), specific_activity=sa,
                              efficiency=eff, volume_ml=vol)
    assert data.unit == "nM" and data.replicates == 2
    fit = fit_binding_table(data, "saturation")
    assert fit["Kd"] == pytest.approx(2.5, rel=1e-6) and fit["Bmax"] == pytest.approx(0.8, rel=1e-6)
    counts = read_binding_table(data.path)            # no conversion: Bmax in cpm, Kd unchanged
    assert counts.unit == "cpm"
    assert fit_binding_table(counts, "saturation")["Bmax"] == pytest.approx(0.8 * cpm_per_nM, rel=1e-6)


def test_noisy_replicates_recover_kd_within_standard_errors(tmp_path):
    rng = np.random.default_rng(11)
    rows = ["Ligand [uM];specific_1;specific_2;specific_3"]        # semicolons, uM
    for x in L_NM:
        b = ba.specific_binding(x, 1500.0, 3.0)
        rows.append(f"{x / 1e3};" + ";".join(f"{b + rng.normal(0, 30.0):.3f}" for _ in range(3)))
    rows[3] = rows[3].rsplit(";", 1)[0] + ";"                     # a blank cell: missing, not zero
    data = read_binding_table(_write(tmp_path, "\n".join(rows) + "\n"))
    assert data.x_nM.tolist() == pytest.approx(L_NM) and np.isnan(data.specific[2, 2])
    mean, sd, n = data.mean_sd()
    assert n.tolist() == [3, 3, 2, 3, 3, 3, 3, 3] and np.all(sd[np.isfinite(sd)] < 100)
    fit = fit_binding_table(data, "saturation")
    assert abs(fit["Kd"] - 3.0) < 3 * fit.stderr["Kd"] and abs(fit["Bmax"] - 1500.0) < 3 * fit.stderr["Bmax"]


def test_competition_with_cheng_prusoff(tmp_path):
    # One-site competition: IC50 = Ki (1 + L/Kd); L = 2 nM, Kd = 4 nM, Ki = 10 nM -> IC50 = 15 nM.
    comp = np.geomspace(0.1, 1e4, 12)
    b = ba.one_site_competition(comp, 900.0, 15.0)
    text = "competitor [nM],total_1,total_2,nonspecific_1,nonspecific_2\n" + "\n".join(
        f"{c},{v + 100:.8f},{v + 100:.8f},100,100" for c, v in zip(comp, b)) + "\n"
    fit = fit_binding_table(read_binding_table(_write(tmp_path, text)), "competition", ligand_nM=2.0, kd_nM=4.0)
    assert fit["IC50"] == pytest.approx(15.0, rel=1e-6) and fit["Ki"] == pytest.approx(10.0, rel=1e-6)


@pytest.mark.parametrize("text, match", [
    ("ligand [nM],total_1\n1,5\n2,6\n", "3 or more concentrations"),
    ("ligand [nM],counts\n1,5\n2,6\n4,7\n", "not a replicate column"),
    ("ligand [nM],nsb_1\n1,5\n2,6\n4,7\n", "need total columns"),
    ("ligand [nM],total_1,total_1\n1,5,5\n2,6,6\n4,7,7\n", "appears twice"),
    ("ligand [nM],total_1\n1,5\n2,six\n4,7\n", "data row 2, column `total_1`: not a number"),
    ("ligand [furlong],total_1\n1,5\n2,6\n4,7\n", "unknown concentration unit"),
    ("ligand [nM],total_1\n1,5\n,6\n4,7\n", "every row"),
    ("ligand [nM],total_1 [cpm],total_2 [dpm]\n1,5,5\n2,6,6\n4,7,7\n", "different units"),
])
def test_malformed_tables_are_refused(tmp_path, text, match):
    with pytest.raises(ArgumentError, match=match):
        read_binding_table(_write(tmp_path, text))


def test_bad_conversion_and_kind(tmp_path):
    path = _write(tmp_path, "ligand [nM],specific_1\n1,5\n2,6\n4,7\n")
    with pytest.raises(ArgumentError, match="all three"):
        read_binding_table(path, specific_activity=80.0)
    with pytest.raises(ArgumentError, match="efficiency"):
        read_binding_table(path, specific_activity=80.0, efficiency=1.5, volume_ml=0.5)
    with pytest.raises(ArgumentError, match="no such file"):
        read_binding_table(tmp_path / "missing.csv")
    with pytest.raises(ArgumentError, match="saturation"):
        fit_binding_table(read_binding_table(path), "kinetic")


def test_cli_fits_a_table(tmp_path, capsys):
    import json

    from models.cli import main

    rows = ["ligand [nM],total_1,total_2,nsb_1,nsb_2"]
    for x in L_NM:
        tot = ba.specific_binding(x, 1200.0, 2.0) + 10 * x
        rows.append(f"{x},{tot:.6f},{tot:.6f},{10 * x},{10 * x}")
    data = _write(tmp_path, "\n".join(rows) + "\n")
    out, png = tmp_path / "fit.json", tmp_path / "fit.png"
    assert main(["binding", "saturation", "--data", str(data), "--json", str(out), "--plot", str(png)]) == 0
    result = json.loads(out.read_text())
    assert result["fit"]["values"]["Kd"] == pytest.approx(2.0, rel=1e-6) and result["replicates"] == [2] * 8
    assert png.stat().st_size > 5000 and "one-site saturation" in capsys.readouterr().out
    # a simulation-only option with --data is refused, in one line, with status 2
    assert main(["binding", "saturation", "--data", str(data), "--json", str(out), "--min-nM", "1"]) == 2
    assert "--min-nM only applies to a simulated assay" in capsys.readouterr().err
