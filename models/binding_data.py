"""Radioligand binding data from the bench: a table of counts with replicate columns, fitted with the textbook models.

The table (CSV, TSV or semicolon-separated; lines starting with ``#`` are comments; blank cells are missing values):

* the **first column** is the concentration varied (radioligand for a saturation assay, competitor for a
  competition assay), with its unit in the header: ``ligand [nM]``, ``MK-801 (uM)``; ``pM``, ``nM``, ``uM``,
  ``mM`` or ``M`` (default nM);
* **replicate columns** named ``total_1``, ``total_2``, ... (total binding), ``nonspecific_1``, ... (binding in
  excess unlabelled ligand; ``nsb_1`` also accepted) and/or ``specific_1``, ... (already subtracted);
  case-insensitive, the separator between kind and number may be ``_``, ``-`` or a space, and a count unit in
  brackets (``total_1 [cpm]``) is allowed.

Specific binding is ``total - mean(nonspecific)`` at each concentration, replicate by replicate. Counts stay in
their unit (Bmax in cpm) unless a specific activity, counting efficiency and assay volume are given: then
``bound [nM] = cpm / efficiency / (2.22e12 dpm/Ci * SA [Ci/mmol]) / volume [mL] * 1e9``. Every replicate
point enters the least-squares fit (:func:`models.binding_assays.fit_saturation`,
:func:`~models.binding_assays.fit_competition`); the scatter between replicates is reported.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "sat.csv"
>>> _ = path.write_text("ligand [nM],total_1,total_2,nsb_1,nsb_2\\n"
...                     "1,550,560,50,50\\n2,867,866,100,100\\n4,1300,1300,200,200\\n8,1700,1700,400,400\\n")
>>> data = read_binding_table(path)
>>> data.x_nM.tolist(), data.replicates
([1.0, 2.0, 4.0, 8.0], 2)
>>> data.specific[:, 0].round(1).tolist()                 # total - mean(nsb)
[500.0, 767.0, 1100.0, 1300.0]
"""
from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kinetics.data.tables import split_header
from kinetics.errors import ArgumentError

__all__ = ["BindingTable", "read_binding_table", "fit_binding_table", "CONCENTRATION_UNITS", "DPM_PER_CI"]

#: Concentration units of the first column, as factors to nM.
CONCENTRATION_UNITS = {"pm": 1e-3, "nm": 1.0, "um": 1e3, "µm": 1e3, "μm": 1e3, "mm": 1e6, "m": 1e9}
#: Disintegrations per minute in one curie (3.7e10 per second).
DPM_PER_CI = 2.22e12
#: Largest table read (bytes) and most rows: a binding assay has a few dozen.
MAX_BYTES = 1_000_000
MAX_ROWS = 10_000

_REPLICATE = re.compile(r"(?P<kind>total|nonspecific|non-specific|nsb|specific)[\s_-]*(?P<k>\d+)", re.IGNORECASE)
_KINDS = {"total": "total", "nonspecific": "nonspecific", "non-specific": "nonspecific", "nsb": "nonspecific",
          "specific": "specific"}


@dataclass(frozen=True)
class BindingTable:
    """A binding assay read by :func:`read_binding_table`.

    Attributes
    ----------
    path : Path
    x_name : str
        The header name of the concentration column.
    x_nM : ndarray, shape (n,)
        Concentrations in nM.
    specific : ndarray, shape (n, r)
        Specific binding per replicate (NaN where missing), in ``unit``.
    total, nonspecific : ndarray or None
        The raw replicate columns, when the file has them.
    unit : str
        ``"nM"`` after a counts conversion, else the count unit of the header (``"cpm"`` by default).
    """

    path: Path
    x_name: str
    x_nM: np.ndarray
    specific: np.ndarray
    total: np.ndarray | None
    nonspecific: np.ndarray | None
    unit: str

    @property
    def replicates(self) -> int:
        return int(self.specific.shape[1])

    def points(self) -> tuple:
        """``(x_nM, y)`` of every non-missing replicate point (for the fit)."""
        x = np.repeat(self.x_nM[:, None], self.replicates, axis=1)
        keep = np.isfinite(self.specific)
        return x[keep], self.specific[keep]

    def mean_sd(self) -> tuple:
        """``(mean, sd, n)`` of the specific binding at each concentration (sd with ``ddof=1``; NaN for n < 2)."""
        n = np.sum(np.isfinite(self.specific), axis=1)
        mean = np.nanmean(np.where(n[:, None] > 0, self.specific, 0.0), axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.array([np.nanstd(row, ddof=1) if k > 1 else np.nan for row, k in zip(self.specific, n)])
        return mean, sd, n


def _counts_factor(specific_activity, efficiency, volume_ml) -> float | None:
    given = [v is not None for v in (specific_activity, efficiency, volume_ml)]
    if not any(given):
        return None
    if not all(given):
        raise ArgumentError("converting counts to bound concentration needs all three of `specific_activity` "
                            "(Ci/mmol), `efficiency` (0-1) and `volume_ml`")
    for name, v in (("specific_activity", specific_activity), ("volume_ml", volume_ml)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ArgumentError(f"`{name}` must be a positive number, got {v!r}")
    if not (isinstance(efficiency, (int, float)) and 0 < efficiency <= 1):
        raise ArgumentError(f"`efficiency` must lie in (0, 1], got {efficiency!r}")
    return 1e9 / (efficiency * DPM_PER_CI * specific_activity * volume_ml)   # cpm -> nM


def read_binding_table(path, *, specific_activity: float | None = None, efficiency: float | None = None,
                       volume_ml: float | None = None) -> BindingTable:
    """Read a binding assay table (format in the module docstring).

    ``specific_activity`` (Ci/mmol), ``efficiency`` (counting efficiency, 0-1) and ``volume_ml`` (assay volume)
    convert counts per minute to bound concentration in nM; give all three or none.

    Raises
    ------
    ArgumentError
        A missing file, no replicate columns, nonspecific columns without total ones, a cell that is not a
        number, a negative or non-finite concentration, an unknown unit, fewer than 3 concentrations.
    """
    import pandas as pd

    path = Path(path)
    where = f"binding data `{path.name}`"
    if not path.is_file():
        raise ArgumentError(f"{where}: no such file")
    if path.stat().st_size > MAX_BYTES:
        raise ArgumentError(f"{where}: larger than {MAX_BYTES} bytes; a binding table has a few dozen rows")
    factor = _counts_factor(specific_activity, efficiency, volume_ml)
    try:
        raw = pd.read_csv(path, sep=None, engine="python", comment="#", skip_blank_lines=True, dtype=str,
                          keep_default_na=False, header=None, nrows=MAX_ROWS + 2)
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error) as exc:
        raise ArgumentError(f"{where}: not a readable table ({type(exc).__name__})") from None
    keep = [c for c in raw.columns if str(raw.iloc[0][c]).strip()]     # trailing separators of spreadsheets
    headers = [str(raw.iloc[0][c]) for c in keep]
    frame = raw.loc[1:, keep]
    if len(headers) < 2 or len(frame) == 0:
        raise ArgumentError(f"{where}: needs a concentration column and at least one replicate column")
    if len(frame) > MAX_ROWS:
        raise ArgumentError(f"{where}: more than {MAX_ROWS} rows")
    x_name, x_unit = split_header(headers[0])
    x_factor = CONCENTRATION_UNITS.get((x_unit or "nM").strip().lower())
    if x_factor is None:
        raise ArgumentError(f"{where}: unknown concentration unit `{x_unit}` in the first column; use one of "
                            "pM, nM, uM, mM, M")

    def numbers(column: str, what: str) -> np.ndarray:
        out = np.full(len(frame), np.nan)
        for i, cell in enumerate(frame[column]):
            text = cell.strip() if isinstance(cell, str) else ""
            if text in ("", "NA", "N/A", "NaN", "nan", "null"):
                continue
            try:
                out[i] = float(text) if len(text) <= 40 else float("x")
            except ValueError:
                raise ArgumentError(f"{where}: data row {i + 1}, column {what}: not a number") from None
        return out

    x = numbers(frame.columns[0], f"`{x_name}`") * x_factor
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise ArgumentError(f"{where}: concentrations must be given on every row, finite and >= 0")
    groups: dict[str, dict[int, np.ndarray]] = {}
    count_units = set()
    for column, header in zip(frame.columns[1:], headers[1:]):
        name, unit = split_header(header)
        rm = _REPLICATE.fullmatch(name.strip())
        if rm is None:
            raise ArgumentError(f"{where}: column `{name[:40]}` is not a replicate column (total_1, nonspecific_1, "
                                "nsb_1 or specific_1, ...)")
        kind, k = _KINDS[rm.group("kind").lower()], int(rm.group("k"))
        if k in groups.setdefault(kind, {}):
            raise ArgumentError(f"{where}: replicate {k} of `{kind}` appears twice")
        groups[kind][k] = numbers(column, f"`{name[:40]}`")
        if unit:
            count_units.add(unit.strip())
    if len(count_units) > 1:
        raise ArgumentError(f"{where}: replicate columns in different units {sorted(count_units)}")
    if "nonspecific" in groups and "total" not in groups:
        raise ArgumentError(f"{where}: nonspecific columns need total columns to subtract them from")

    def stack(kind):
        cols = groups.get(kind)
        return None if not cols else np.column_stack([cols[k] for k in sorted(cols)])

    total, nonspecific, specific = stack("total"), stack("nonspecific"), stack("specific")
    if total is not None:
        nsb = np.zeros(len(x)) if nonspecific is None else np.nanmean(
            np.where(np.isfinite(nonspecific), nonspecific, np.nan), axis=1)
        if nonspecific is not None and np.any(~np.isfinite(nsb)):
            raise ArgumentError(f"{where}: a concentration has no nonspecific value")
        derived = total - nsb[:, None]
        specific = derived if specific is None else np.column_stack([specific, derived])
    if specific is None or np.sum(np.any(np.isfinite(specific), axis=1)) < 3:
        raise ArgumentError(f"{where}: needs specific (or total) binding at 3 or more concentrations")
    unit = next(iter(count_units), "cpm")
    if factor is not None:
        specific = specific * factor
        total = None if total is None else total * factor
        nonspecific = None if nonspecific is None else nonspecific * factor
        unit = "nM"
    return BindingTable(path=path, x_name=x_name or "concentration", x_nM=x, specific=specific, total=total,
                        nonspecific=nonspecific, unit=unit)


def fit_binding_table(data: BindingTable, kind: str, *, model: str = "one_site", ligand_nM: float | None = None,
                      kd_nM: float | None = None):
    """Fit every replicate point of ``data``: ``kind="saturation"`` (Bmax, Kd; the added concentration is taken
    as free, i.e. no ligand depletion) or ``kind="competition"`` (``model`` one_site, two_site or hill; with
    ``ligand_nM`` and ``kd_nM`` the Cheng-Prusoff Ki). Returns a
    :class:`~models.binding_assays.FitSummary`.

    Examples
    --------
    >>> from models import binding_assays as ba
    >>> import tempfile, pathlib
    >>> L = [0.5, 1, 2, 4, 8, 16]
    >>> rows = "\\n".join(f"{x},{ba.specific_binding(x, 2000, 2.5):.6f},{ba.specific_binding(x, 2000, 2.5):.6f}"
    ...                   for x in L)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "sat.csv"
    >>> _ = path.write_text("ligand [nM],specific_1,specific_2\\n" + rows + "\\n")
    >>> fit = fit_binding_table(read_binding_table(path), "saturation")
    >>> round(fit["Kd"], 4), round(fit["Bmax"], 2)
    (2.5, 2000.0)
    """
    from . import binding_assays as ba

    x, y = data.points()
    if kind == "saturation":
        return ba.fit_saturation(x, y)
    if kind == "competition":
        return ba.fit_competition(x, y, model=model, ligand_nM=ligand_nM, kd_nM=kd_nM)
    raise ArgumentError(f"unknown assay kind `{kind}`; choose `saturation` or `competition`")
