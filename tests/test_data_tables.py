"""kinetics.data.tables and Dataset.from_csv: tolerant CSV/TSV (pandas), units, missing values, clear errors."""
import numpy as np
import pytest

import kinetics as kx
from kinetics.data import DataFileNotFoundError, read_table
from kinetics.errors import ArgumentError, UnitError
from kinetics.fitting import Dataset, fit


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("header, factor", [
    ("time", 1.0), ("Time", 1.0), ("TIME", 1.0), ("t", 1.0), ("time (s)", 1000.0), ("t [ms]", 1.0),
    ("Time (us)", 1e-3), ("time [min]", 60000.0),
])
def test_time_column_any_case_with_units_in_the_header(tmp_path, header, factor):
    path = write(tmp_path, "d.csv", f"{header},O\n0,0.5\n2,0.25\n")
    ds = Dataset.from_csv(path, sigma=0.1)
    assert ds.time.tolist() == [0.0, 2.0 * factor]
    assert ds.data["O"].tolist() == [0.5, 0.25]


@pytest.mark.parametrize("text", [
    "time\tI (nA)\n0\t-0.5\n0.5\t-1.25\n",                   # TSV
    "time;I (nA)\n0;-0,5\n0,5;-1,25\n",                      # semicolons and decimal commas (European export)
    "# exported by the rig\ntime , I (nA)\n\n0, -0.5\n0.5 , -1.25\n",   # comments, blank lines, spaces
    "time|I (nA)\n0|-0.5\n0.5|-1.25\n",
    "\ufefftime;I (nA);;\n0;-0,5;;\n0,5;-1,25;;\n",              # Excel: byte-order mark, trailing separators
    '"time","I (nA)"\n"0","-0.5"\n"0.5","-1.25"\n',             # quoted cells
])
def test_separators_and_decimal_marks_are_sniffed(tmp_path, text):
    table = read_table(write(tmp_path, "d.txt", text))
    assert table.time.tolist() == [0.0, 0.5]
    assert table.columns["I"].tolist() == [-500.0, -1250.0]              # nA -> pA
    assert table.units == {"I": "nA"} and table.time_unit is None


def test_explicit_time_unit_converts_to_the_schemes_unit(tmp_path):
    path = write(tmp_path, "d.csv", "time,O\n0,1\n0.25,0.5\n")
    assert Dataset.from_csv(path, time_unit="s").time.tolist() == [0.0, 250.0]
    assert Dataset.from_csv(path, time_unit="ms").time.tolist() == [0.0, 0.25]
    # a scheme in seconds: times in ms are converted to s
    s_scheme = kx.Scheme("d", species=[kx.Species("O", 1.0)], parameters=[kx.Parameter("k", 1.0, "1/s")],
                         reactions=[kx.reaction("O ->", "k")], units=kx.UnitSystem(time="s"))
    assert Dataset.from_csv(path, time_unit="ms", units=s_scheme).time.tolist() == [0.0, 0.00025]
    # the header's unit and time_unit must agree
    path2 = write(tmp_path, "e.csv", "time (s),O\n0,1\n1,2\n")
    assert Dataset.from_csv(path2, time_unit="s").time.tolist() == [0.0, 1000.0]
    with pytest.raises(ArgumentError, match=r"`time_unit='ms'` disagrees with the unit of the time column"):
        Dataset.from_csv(path2, time_unit="ms")


def test_blank_cells_are_missing_values_not_zeros(tmp_path):
    path = write(tmp_path, "gaps.csv", "time (ms),I (pA),Popen\n0,-1.0,0.0\n1,,0.2\n2,-3.0,\n3,-2.0,0.4\n4,NaN,NA\n")
    table = read_table(path)
    assert np.isnan(table.columns["I"]).tolist() == [False, True, False, False, True]
    # one observable: its missing rows are left out, never read as zero
    ds = Dataset.from_csv(path, columns=["I"], sigma=0.5)
    assert ds.time.tolist() == [0.0, 2.0, 3.0] and ds.data["I"].tolist() == [-1.0, -3.0, -2.0]
    # two observables missing at different rows cannot share one time grid: a clear error...
    with pytest.raises(ArgumentError, match=r"the observables have values at different times \(I \(3 rows\); "
                                            r"Popen \(3 rows\)\).*\.datasets\(\)"):
        Dataset.from_csv(path)
    # ...and one dataset each from the table
    a, b = table.datasets(sigma={"I": 0.5, "Popen": 0.05})
    assert (a.name, a.time.tolist(), a.data["I"].tolist()) == ("gaps_I", [0.0, 2.0, 3.0], [-1.0, -3.0, -2.0])
    assert (b.name, b.time.tolist(), b.data["Popen"].tolist()) == ("gaps_Popen", [0.0, 1.0, 3.0], [0.0, 0.2, 0.4])
    assert b.sigma["Popen"].tolist() == [0.05] * 3
    # observables missing at the same rows stay together
    same = read_table(write(tmp_path, "same.csv", "time,A,B\n0,1,2\n1,,\n2,3,4\n")).dataset(sigma=1.0)
    assert same.time.tolist() == [0.0, 2.0] and same.data["B"].tolist() == [2.0, 4.0]


def test_sigma_columns_with_units_and_missing_sigma(tmp_path):
    path = write(tmp_path, "s.csv", "time,I (nA),sigma_I\n0,-1,0.01\n1,,\n2,-2,0.02\n")
    ds = Dataset.from_csv(path)
    assert ds.data["I"].tolist() == [-1000.0, -2000.0] and ds.sigma["I"].tolist() == [10.0, 20.0]
    bad = write(tmp_path, "t.csv", "time,I,sigma_I\n0,-1,0.01\n1,-2,\n")
    with pytest.raises(ArgumentError, match=r"`sigma_I` is missing where `I` has a value \(data row 2\)"):
        Dataset.from_csv(bad)


@pytest.mark.parametrize("text, error, match", [
    ("x,O\n0,1\n", ArgumentError, r"has no `time` column \(its first line has 2 column\(s\)"),
    ("time,O\n0,1\n1,abc\n", ArgumentError, r"line 3, column `O`: not a number$"),
    ("time;O\n0;1\n1;2;3\n", ArgumentError, r"line 3: 3 values, expected 2"),
    ("time,O,P\n0,1,2\n1,2\n", ArgumentError, r"line 3: 2 values, expected 3"),
    ("time,O\n0,1\n,2\n", ArgumentError, r"line 3: the time is missing"),
    ("time,O\n0,inf\n", ArgumentError, r"line 2, column `O`: not a finite number"),
    ("time,O\n", ArgumentError, r"is empty: a header and no rows"),
    ("\n# nothing\n", ArgumentError, r"is empty$"),
    ("time,O\n0,\n1,\n", ArgumentError, r"column `O` has no values \(every cell is missing\)"),
    ("time (fortnights),O\n0,1\n", UnitError, r"time column: unknown unit `fortnights`"),
    ("time (mV),O\n0,1\n", UnitError, r"the time unit `mV` is not a unit of time"),
    ("time,I (pAmp)\n0,1\n", UnitError, r"column `I`: unknown unit `pAmp`"),
    ("time,peak current\n0,1\n", ArgumentError, r"the name of column 2 `peak current` must be an identifier"),
    ("time,O,O\n0,1,2\n", ArgumentError, r"repeated column names"),
    ("time,O,\n0,1,2\n", ArgumentError, r"column 3 has values but no name"),
    ("time,t,O\n0,1,2\n", ArgumentError, r"has 2 time columns"),
])
def test_bad_tables_give_clear_errors(tmp_path, text, error, match):
    path = write(tmp_path, "bad.csv", text)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(error, match=match):
        Dataset.from_csv(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before          # nothing written beside the file


def test_missing_file_is_an_argument_error_and_a_file_not_found_error(tmp_path):
    with pytest.raises(DataFileNotFoundError, match=r"data file not found: .*nope\.csv") as info:
        read_table(tmp_path / "nope.csv")
    assert isinstance(info.value, ArgumentError) and isinstance(info.value, FileNotFoundError)
    with pytest.raises(FileNotFoundError):
        Dataset.from_csv(tmp_path / "nope.csv")


def test_unknown_columns_and_options_are_refused(tmp_path):
    path = write(tmp_path, "d.csv", "time,Popen\n0,1\n1,0.5\n")
    with pytest.raises(ArgumentError, match=r"has no column `popen`; did you mean `Popen`"):
        Dataset.from_csv(path, columns=["popen"])
    with pytest.raises(ArgumentError, match=r"`sigma` given for `O`, which is not a data column"):
        read_table(path).datasets(sigma={"O": 1.0})
    with pytest.raises(ArgumentError, match=r"`sep` must be one of"):
        read_table(path, sep=":")


def test_to_csv_round_trip(tmp_path):
    ds = Dataset("rt", time=[0.0, 0.5, 1.5], data={"A": [1.0, 0.6, 0.2], "B": [0.0, 0.4, 0.8]},
                 sigma={"A": [0.1, 0.1, 0.2], "B": 0.05})
    ds.to_csv(tmp_path / "rt.csv")
    back = Dataset.from_csv(tmp_path / "rt.csv")
    assert back.time.tolist() == ds.time.tolist() and back.data["B"].tolist() == [0.0, 0.4, 0.8]
    assert back.sigma["A"].tolist() == [0.1, 0.1, 0.2] and back.sigma["B"].tolist() == [0.05] * 3


def test_a_spreadsheet_export_with_gaps_fits_to_the_known_rate(tmp_path):
    """Semicolons, decimal commas, times in seconds, currents in nA, blank cells: k = 0.2 /ms recovered."""
    k_true, amp = 0.2, 1.5                               # 1/ms, nA
    rng = np.random.default_rng(4)
    t_s = np.arange(0.0, 0.030, 0.0005)                  # s
    current = amp * np.exp(-k_true * t_s * 1e3) + rng.normal(0.0, 0.02, t_s.size)
    rows = ["Time (s);A (nA)"]
    for i, (t, y) in enumerate(zip(t_s, current)):
        cell = "" if i % 7 == 3 else f"{y:.6f}".replace(".", ",")     # every 7th value not recorded
        rows.append(f"{t:.4f}".replace(".", ",") + ";" + cell)
    path = write(tmp_path, "decay.csv", "\n".join(rows) + "\n")
    ds = Dataset.from_csv(path, sigma=20.0, y0={"A": amp * 1e3})        # pA, in the model's units
    assert ds.time.size == t_s.size - len(range(3, t_s.size, 7))
    assert ds.time[-1] == pytest.approx(29.0)                           # the last value (29.5 ms) is blank
    scheme = kx.Scheme("decay", species=[kx.Species("A", 1.0, unit="pA")],
                       parameters=[kx.Parameter("k", 0.05, "1/ms")], reactions=[kx.reaction("A ->", "k")])
    res = fit(scheme, ds, {"k": (0.001, 10.0)}, n_starts=2, executor="serial", progress=False)
    assert res.values["k"] == pytest.approx(k_true, rel=0.03)
    assert 0.6 < res.reduced_chi2 < 1.5


def test_result_csv_reads_back_in_the_units_the_scheme_declares(tmp_path):
    # Result.to_csv writes `time [ms]`, `Ca [uM]`, `O [1]`; with the Scheme, read_table keeps each column in the
    # unit its species declares (uM here, not the unit system's mM) and a fit recovers the rate exactly
    s = kx.parse_scheme("scheme ca\nspecies Ca = 0.1 [uM]\nspecies O = 0.5 [1]\nparameter k = 1 [1/ms]\n"
                        "Ca -> ; k\nO -> ; k")
    res = kx.simulate(s, t_end=3.0, n_points=31, rtol=1e-10, atol=1e-14)
    path = tmp_path / "ca.csv"
    res.to_csv(path)
    assert path.read_text().splitlines()[0] == "time [ms],Ca [uM],O [1]"
    table = read_table(path, units=s)
    assert table.units == {"Ca": "uM", "O": "1"}
    assert np.array_equal(table.columns["Ca"], res["Ca"]) and np.array_equal(table.columns["O"], res["O"])
    assert read_table(path).columns["Ca"][0] == pytest.approx(1e-4)     # no Scheme: the unit system's mM
    nm = write(tmp_path, "nm.csv", "time (s),Ca [nM],sigma_Ca [pM]\n0,100,2\n0.001,36.79,2\n")
    table = read_table(nm, units=s)                                      # nM -> uM, s -> ms
    assert table.time.tolist() == [0.0, 1.0] and table.columns["Ca"].tolist() == pytest.approx([0.1, 0.03679])
    assert table.sigma["Ca"].tolist() == pytest.approx([2e-6, 2e-6])
    ds = Dataset.from_csv(path, units=s, sigma=1e-4, columns=["Ca"])
    start = kx.parse_scheme("scheme ca\nspecies Ca = 0.1 [uM]\nparameter k = 0.3 [1/ms]\nCa -> ; k")
    assert fit(start, [ds], ["k"]).values["k"] == pytest.approx(1.0, rel=1e-6)


def test_a_header_unit_of_another_dimension_than_the_scheme_declares_is_an_error(tmp_path):
    s = kx.parse_scheme("scheme ca\nspecies Ca = 0.1 [uM]\nparameter k = 1 [1/ms]\nparameter g = 1 [pA/uM]\n"
                        "observable I = -g*Ca [pA]\nCa -> ; k")
    path = write(tmp_path, "bad.csv", "time [ms],Ca [mV]\n0,1\n")
    with pytest.raises(UnitError, match=r"column `Ca`: the unit `mV` is not a unit of species `Ca`, which the "
                                        r"scheme declares in `uM`"):
        read_table(path, units=s)
    with pytest.raises(UnitError, match="not a unit of observable `I`"):
        Dataset.from_csv(write(tmp_path, "i.csv", "time [ms],I [mM]\n0,1\n"), units=s)
    assert read_table(write(tmp_path, "ok.csv", "time [ms],I [nA]\n0,1\n"), units=s).columns["I"].tolist() == [1000.0]
