"""Data tables (CSV, TSV) read tolerantly with pandas into :class:`~kinetics.fitting.Dataset` objects.

What a lab's spreadsheet export looks like, and what :func:`read_table` accepts:

* the separator is sniffed: comma, semicolon, tab or ``|`` (or given with ``sep=``); with semicolons, a decimal
  comma (``1,5``) is recognised (or given with ``decimal=``);
* the time column is found case-insensitively: ``time``, ``Time``, ``t``, with an optional unit in the header:
  ``time (s)``, ``t [ms]``; ``time_unit=`` says (or confirms) the unit of the file's times;
* any column may carry a unit in its header (``I (pA)``, ``Popen [%]``); values are converted to the unit
  system of the model (``units=``, a :class:`~kinetics.units.UnitSystem` or a Scheme; default ms, mM, mV, pA,
  nS), times too. With a Scheme, a column named like one of its species, observables or inputs is converted to
  the unit that item declares (``Ca [uM]`` stays in uM for a species declared in uM), and a unit of another
  dimension is an error. Columns without a unit are taken as already in the model's units. The CSV files
  written by :meth:`kinetics.Result.to_csv` (``time [ms]``, ``A [mM]``, ``O [1]``) read back unchanged;
* blank cells (and ``NA``, ``N/A``, ``NaN``, ``null``) are *missing values*: that observable has no
  measurement at that time. A :class:`~kinetics.fitting.Dataset` has one time grid for all its observables, so
  rows are dropped per observable: columns with the same missing rows make one dataset (the usual case: a
  single observable with gaps, or several measured together); columns measured at different times make one
  dataset each (:meth:`Table.datasets`) and :meth:`Table.dataset` says so rather than dropping data silently;
* ``sigma_X`` columns give the noise of ``X`` point by point; lines starting with ``#`` are comments; a
  byte-order mark and empty unnamed columns (trailing separators of spreadsheet exports) are ignored.

Limits (bytes, columns, characters of a cell) bound the work a file can cause; error messages name the line
and the column but never repeat a cell of the file.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "epsc.tsv"
>>> _ = path.write_text("Time (s)\\tI (nA)\\tPopen\\n0\\t0\\t0.0\\n0.001\\t-0.05\\t\\n0.002\\t-0.04\\t0.3\\n")
>>> table = read_table(path)
>>> table.time.tolist(), table.units
([0.0, 1.0, 2.0], {'I': 'nA', 'Popen': None})
>>> table.columns["I"].tolist()                  # nA -> pA
[0.0, -50.0, -40.0]
>>> [(d.name, d.observable_names, d.time.tolist()) for d in table.datasets()]
[('epsc_I', ('I',), [0.0, 1.0, 2.0]), ('epsc_Popen', ('Popen',), [0.0, 2.0])]
>>> table.dataset(columns=["Popen"]).data["Popen"].tolist()
[0.0, 0.3]
"""
from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from ..errors import ArgumentError, UnitError, did_you_mean
from ..units import UnitSystem, conversion_factor, convert, parse_unit, same_dimension

__all__ = ["Table", "read_table", "split_header", "DataFileNotFoundError", "MISSING", "MAX_BYTES", "MAX_FIELD",
           "MAX_COLUMNS"]

#: Cell texts read as a missing value (besides blank cells).
MISSING = ("", "NA", "N/A", "NaN", "nan", "null")
#: Largest file read (bytes).
MAX_BYTES = 100_000_000
#: Longest cell (characters): a number needs at most a few dozen.
MAX_FIELD = 100
#: Most columns.
MAX_COLUMNS = 1000
#: Separators tried by the sniffer, in order of preference on a tie.
SEPARATORS = (",", ";", "\t", "|")
_HEADER = re.compile(r"\s*(?P<name>[^\(\[]*?)\s*(?:[\(\[]\s*(?P<unit>[^\)\]]*?)\s*[\)\]])?\s*")
_SAFE_UNIT = re.compile(r"[\w/*^ ().µμ%·⋅+-]{1,24}")
_TIME_NAMES = ("time", "t")


class DataFileNotFoundError(ArgumentError, FileNotFoundError):
    """A data file does not exist (both an :class:`~kinetics.errors.ArgumentError` and a FileNotFoundError)."""


def _shown(text: str) -> str:
    """A header text for a message: shown if it looks like a name, else ``(unnamed)``."""
    return f"`{text}`" if isinstance(text, str) and len(text) <= 40 and re.fullmatch(r"[\w ()\[\]/%.*^-]+", text) \
        else "(unnamed)"


def _system(units) -> UnitSystem:
    if units is None:
        return UnitSystem()
    if isinstance(units, UnitSystem):
        return units
    system = getattr(units, "units", None)                # a Scheme
    if isinstance(system, UnitSystem):
        return system
    raise ArgumentError(f"`units` must be a UnitSystem or a Scheme, got {type(units).__name__}")


def _declared_units(units) -> dict:
    """``{name: (what, name, unit)}`` of a Scheme's species, observables and inputs that have a unit (``{}`` for a
    UnitSystem or None): the units a column of that name is converted to."""
    system = getattr(units, "units", None)
    if not isinstance(system, UnitSystem):
        return {}
    out = {}
    for what, items, default in (("input", getattr(units, "inputs", ()), None),
                                 ("observable", getattr(units, "observables", ()), None),
                                 ("species", getattr(units, "species", ()), system.concentration)):
        for item in items:
            unit = getattr(item, "unit", None) or default
            if unit:
                out[item.name] = (what, item.name, unit)
    return out


def _unit_factor(unit: str | None, system: UnitSystem, where: str, declared=None) -> float:
    """The factor converting ``unit`` to ``system`` (1 for no unit), or to ``declared = (what, name, unit)``
    (the unit a scheme declares for the column's item); a clear error for an unknown unit or one of another
    dimension."""
    if unit is None:
        return 1.0
    shown = f"`{unit}`" if _SAFE_UNIT.fullmatch(unit) else "(unreadable)"
    try:
        parse_unit(unit)
    except UnitError as exc:
        hint = str(exc).split(";", 1)[1].strip() if ";" in str(exc) and _SAFE_UNIT.fullmatch(unit) else ""
        raise UnitError(f"{where}: unknown unit {shown}" + (f"; {hint}" if hint else "")) from None
    if declared is None:
        return conversion_factor(unit, system)
    what, item, target = declared
    try:
        same = same_dimension(unit, target)
    except UnitError:                                      # a scheme unit this module cannot parse: the system's
        return conversion_factor(unit, system)
    if not same:
        raise UnitError(f"{where}: the unit {shown} is not a unit of {what} `{item}`, which the "
                        f"scheme declares in `{target}`")
    return convert(1.0, unit, target)


def split_header(text: str):
    """``(name, unit or None)`` of a column header: ``"time (s)"`` -> ``("time", "s")``, ``"A [mM]"`` ->
    ``("A", "mM")``, ``"Popen"`` -> ``("Popen", None)``.

    >>> split_header("t [ms]"), split_header("Popen")
    (('t', 'ms'), ('Popen', None))
    """
    m = _HEADER.fullmatch(text)
    if m is None:                                          # pragma: no cover - the pattern matches any text
        return text.strip(), None
    unit = m.group("unit")
    return m.group("name"), (unit if unit else None)


@dataclass(frozen=True, eq=False)
class Table:
    """A data table read by :func:`read_table`: times and columns in the model's units.

    Attributes
    ----------
    path : str
        The file read.
    time : ndarray
        Times converted to the model's time unit.
    columns : dict name -> ndarray
        Observable columns, converted; NaN marks a missing value.
    sigma : dict name -> ndarray
        Point-by-point noise from ``sigma_X`` columns, converted like ``X``.
    units : dict name -> str or None
        The unit each observable column had in the file (None: none given, values used as they are).
    time_unit : str or None
        The unit of the file's times (None: none given, taken as the model's time unit).
    """

    path: str
    time: np.ndarray
    columns: Mapping[str, np.ndarray]
    sigma: Mapping[str, np.ndarray] = field(default_factory=dict)
    units: Mapping[str, str | None] = field(default_factory=dict)
    time_unit: str | None = None

    @property
    def names(self) -> tuple:
        """The observable columns, in file order."""
        return tuple(self.columns)

    def _chosen(self, columns) -> list:
        names = list(self.columns)
        if columns is None:
            chosen = names
        else:
            if isinstance(columns, str):
                columns = [columns]
            chosen = list(columns)
            for c in chosen:
                if c not in names:
                    raise ArgumentError(f"data file `{self.path}` has no column `{c}`" + did_you_mean(c, names))
        if not chosen:
            raise ArgumentError(f"data file `{self.path}` has no observable columns besides the time")
        return chosen

    def groups(self, columns=None) -> list:
        """Observables grouped by the rows where they have values: ``[(names, row mask), ...]`` in file order."""
        out = {}
        for c in self._chosen(columns):
            present = np.isfinite(self.columns[c])
            if not present.any():
                raise ArgumentError(f"data file `{self.path}`: column `{c}` has no values (every cell is missing)")
            out.setdefault(present.tobytes(), ([], present))[0].append(c)
        return [(tuple(names), mask) for names, mask in out.values()]

    def datasets(self, name: str | None = None, *, columns=None, sigma="estimate", observables=None,
                 **kw) -> list:
        """One :class:`~kinetics.fitting.Dataset` per group of observables measured at the same times.

        ``name`` (default: the file's stem) names the dataset, suffixed ``_X_Y`` by the observables when there
        are several groups. ``sigma`` (a number, a mapping by observable or ``"estimate"``) is overridden by
        ``sigma_X`` columns; ``observables`` gives expressions for columns; other keyword arguments
        (``protocol``, ``parameters``, ``y0``, ``t0``, ``t_end``) are those of the Dataset, shared by all.
        """
        from ..fitting.dataset import Dataset, _identifier

        base = name or _identifier(Path(self.path).stem)
        groups = self.groups(columns)
        sig_in = dict(sigma) if isinstance(sigma, Mapping) else None
        chosen = [c for n, _ in groups for c in n]
        for what, given in (("sigma", sig_in or {}), ("observables", observables or {})):
            for k in given:
                if k not in chosen:
                    raise ArgumentError(f"`{what}` given for `{k}`, which is not a data column read from "
                                        f"`{self.path}`" + did_you_mean(k, chosen))
        out = []
        for names, mask in groups:
            sig = {k: (sig_in.get(k, "estimate") if sig_in is not None else sigma) for k in names}
            for k in names:
                if k in self.sigma:
                    s = self.sigma[k][mask]
                    if not np.all(np.isfinite(s)):
                        i = int(np.flatnonzero(~np.isfinite(s))[0])
                        raise ArgumentError(f"data file `{self.path}`: `sigma_{k}` is missing where `{k}` has a "
                                            f"value (data row {int(np.flatnonzero(mask)[i]) + 1})")
                    sig[k] = s
            obs = {k: v for k, v in (observables or {}).items() if k in names}
            label = base if len(groups) == 1 else f"{base}_{'_'.join(names)}"
            out.append(Dataset(label, time=self.time[mask], data={k: self.columns[k][mask] for k in names},
                               sigma=sig, observables=obs, **kw))
        return out

    def dataset(self, name: str | None = None, *, columns=None, **kw):
        """The table as one :class:`~kinetics.fitting.Dataset` (rows with a missing value dropped).

        Raises :class:`~kinetics.errors.ArgumentError` when the observables are missing at different rows
        (they would need different time grids): choose ``columns`` or use :meth:`datasets`.
        """
        groups = self.groups(columns)
        if len(groups) > 1:
            shown = "; ".join(f"{', '.join(n)} ({int(m.sum())} rows)" for n, m in groups)
            raise ArgumentError(f"data file `{self.path}`: the observables have values at different times "
                                f"({shown}); one dataset has one time grid: read them with "
                                f"`read_table(...).datasets()` (one dataset each) or choose `columns`")
        return self.datasets(name, columns=columns, **kw)[0]


def _check_file(path: Path, max_bytes: int) -> None:
    where = f"data file `{path}`"
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DataFileNotFoundError(f"data file not found: {str(path)!r}") from None
    except OSError as exc:
        raise ArgumentError(f"cannot read {where}: {exc.strerror or type(exc).__name__}") from None
    if not path.is_file():
        raise ArgumentError(f"{where} is not a regular file")
    if size > max_bytes:
        raise ArgumentError(f"{where} is too large ({size} bytes; the limit is {max_bytes} bytes)")


def _head_lines(path: Path, n: int = 6):
    """The first ``n`` non-blank, non-comment lines and the line number of the first (the header)."""
    where = f"data file `{path}`"
    lines, first = [], None
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for number, line in enumerate(fh, 1):
                if len(line) > 1_000_000:
                    raise ArgumentError(f"{where}, line {number}: longer than 1000000 characters")
                text = line.rstrip("\r\n")
                if not text.strip() or text.lstrip().startswith("#"):
                    continue
                first = first or number
                lines.append(text)
                if len(lines) >= n:
                    break
    except UnicodeDecodeError as exc:
        raise ArgumentError(f"{where} is not UTF-8 text (a byte 0x{exc.object[exc.start]:02x} cannot be "
                            f"decoded); save it as UTF-8") from None
    except OSError as exc:
        raise ArgumentError(f"cannot read {where}: {exc.strerror or type(exc).__name__}") from None
    return lines, first


def _sniff(lines) -> str:
    """The separator: the candidate found in the header with the same count in the next lines."""
    header, rest = lines[0], lines[1:]
    best, best_count = ",", 0
    for sep in SEPARATORS:
        count = header.count(sep)
        if count > best_count and all(line.count(sep) == count for line in rest):
            best, best_count = sep, count
    if best_count == 0:                                     # counts differ (decimal commas?): the header decides
        for sep in SEPARATORS:
            if header.count(sep) > best_count:
                best, best_count = sep, header.count(sep)
    return best


def _decimal(lines, sep: str) -> str:
    """``","`` when the separator is not a comma and data cells are written with a decimal comma."""
    if sep == ",":
        return "."
    for line in lines[1:]:
        for cell in line.split(sep):
            if re.fullmatch(r"\s*[-+]?\d*,\d+(?:[eE][-+]?\d+)?\s*", cell):
                return ","
    return "."


def _number(cell: str, decimal: str) -> float | None:
    """The value of a cell (None if missing); raises ValueError if it is not a number."""
    text = cell.strip()
    if text in MISSING:
        return None
    if decimal != ".":
        if "." in text:
            raise ValueError(text)
        text = text.replace(decimal, ".")
    return float(text)


def _diagnose(path: Path, sep: str, decimal: str, n_columns: int, names, max_field: int) -> None:
    """Scan the file with the csv module and raise the precise error of its first bad line, if any."""
    where = f"data file `{path}`"
    header_seen = False
    line = 0
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, delimiter=sep)
            for row in reader:
                line = reader.line_num
                if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                    continue
                if not header_seen:
                    header_seen = True
                    continue
                if len(row) != n_columns:
                    raise ArgumentError(f"{where}, line {line}: {len(row)} values, expected {n_columns}")
                for j, cell in enumerate(row):
                    if len(cell) > max_field:
                        raise ArgumentError(f"{where}, line {line}, column {_shown(names[j])}: value of "
                                            f"{len(cell)} characters (at most {max_field})")
                    try:
                        value = _number(cell, decimal)
                    except ValueError:
                        raise ArgumentError(f"{where}, line {line}, column {_shown(names[j])}: "
                                            f"not a number") from None
                    if value is not None and not math.isfinite(value):
                        raise ArgumentError(f"{where}, line {line}, column {_shown(names[j])}: not a finite "
                                            f"number (infinite values cannot be fitted)")
                    if value is None and j == 0:
                        raise ArgumentError(f"{where}, line {line}: the time is missing")
    except UnicodeDecodeError as exc:
        raise ArgumentError(f"{where} is not UTF-8 text (a byte 0x{exc.object[exc.start]:02x} after line "
                            f"{line} cannot be decoded); save it as UTF-8") from None
    except csv.Error as exc:
        raise ArgumentError(f"{where}, line {line + 1}: not valid CSV ({str(exc)[:80]})") from None


def read_table(path, *, time_unit: str | None = None, units=None, sep: str | None = None,
               decimal: str | None = None, max_bytes: int | None = None, max_field: int | None = None,
               max_columns: int | None = None) -> Table:
    """Read a CSV/TSV data table (see the module docstring for what is accepted).

    Parameters
    ----------
    path : str or Path
        The file (UTF-8 text).
    time_unit : str, optional
        Unit of the file's time column (``"s"``, ``"ms"``); needed when the header gives none and the times are
        not in the model's unit; must agree with the header's unit when both are given.
    units : UnitSystem or Scheme, optional
        The model's unit system, to which times and columns with units are converted (default ms, mM, mV, pA);
        with a Scheme, columns named like its species, observables or inputs go to the units they declare.
    sep, decimal : str, optional
        Separator and decimal mark (default: sniffed).
    max_bytes, max_field, max_columns : int, optional
        Limits (default :data:`MAX_BYTES`, :data:`MAX_FIELD`, :data:`MAX_COLUMNS`).

    Raises
    ------
    DataFileNotFoundError
        The file does not exist.
    ArgumentError
        No time column, a cell that is not a number, a row of the wrong length, an empty table, a limit.
    UnitError
        A unit in the header (or ``time_unit``) that is unknown or not a time, or (with a Scheme) a column's
        unit of another dimension than the unit its species, observable or input declares.
    """
    import pandas as pd

    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    max_field = MAX_FIELD if max_field is None else max_field
    max_columns = MAX_COLUMNS if max_columns is None else max_columns
    path = Path(path)
    where = f"data file `{path}`"
    system = _system(units)
    _check_file(path, max_bytes)
    lines, header_line = _head_lines(path)
    if not lines:
        raise ArgumentError(f"{where} is empty")
    if sep is None:
        sep = _sniff(lines)
    if sep not in SEPARATORS:
        raise ArgumentError(f"`sep` must be one of {', '.join(repr(s) for s in SEPARATORS)}, got {sep!r}")
    if decimal is None:
        decimal = _decimal(lines, sep)
    if decimal not in (".", ","):
        raise ArgumentError(f"`decimal` must be '.' or ',', got {decimal!r}")
    raw = next(csv.reader([lines[0]], delimiter=sep))
    if len(raw) > max_columns:
        raise ArgumentError(f"{where} has {len(raw)} columns (the limit is {max_columns})")
    if any(len(h) > max_field for h in raw):
        raise ArgumentError(f"{where}, line {header_line}: a column name is longer than {max_field} characters")
    parsed = [split_header(h) for h in raw]
    time_cols = [j for j, (n, _) in enumerate(parsed) if n.lower() in _TIME_NAMES]
    if not time_cols:
        _diagnose(path, sep, decimal, len(raw), raw, max_field)        # a malformed file: say where first
        raise ArgumentError(f"{where} has no `time` column (its first line has {len(raw)} column(s); it must "
                            f"name `time` (or `t`, any case, with an optional unit: `time (s)`) and the observables)")
    if len(time_cols) > 1:
        shown = ", ".join(str(j + 1) for j in time_cols)
        raise ArgumentError(f"{where} has {len(time_cols)} time columns (columns {shown})")
    jt = time_cols[0]
    blank = {j for j, (n, u) in enumerate(parsed) if not n and u is None}     # trailing separators of exports
    names = [f"_blank{j}" if j in blank else n for j, (n, _) in enumerate(parsed)]
    for j, n in enumerate(names):
        if j != jt and j not in blank and not n.isidentifier():
            raise ArgumentError(f"{where}: the name of column {j + 1} {_shown(raw[j])} must be an identifier "
                                f"(letters, digits, _), optionally followed by a unit in brackets: `I (pA)`")
    if len(set(names)) != len(names):
        raise ArgumentError(f"{where} has repeated column names")
    header_unit = parsed[jt][1]
    if header_unit is not None and time_unit is not None:
        try:
            agree = parse_unit(header_unit) == parse_unit(time_unit)
        except UnitError:
            agree = False
        if not agree:
            raise ArgumentError(f"{where}: `time_unit={time_unit!r}` disagrees with the unit of the time column "
                                f"({_shown(header_unit)})")
    t_unit = time_unit if time_unit is not None else header_unit
    if t_unit is not None:
        t_factor = _unit_factor(t_unit, system, f"{where}, time column")
        if not same_dimension(t_unit, system.time):
            raise UnitError(f"{where}: the time unit `{t_unit}` is not a unit of time")
    else:
        t_factor = 1.0
    try:
        frame = pd.read_csv(path, sep=sep, decimal=decimal, comment="#", skip_blank_lines=True, header=0,
                            names=names, na_values=list(MISSING), keep_default_na=False, dtype=np.float64,
                            encoding="utf-8-sig", engine="c", skipinitialspace=True, quotechar='"')
        table = frame.to_numpy(dtype=float)
        suspicious = np.isinf(table).any() or np.isnan(table).any()
    except Exception:                                      # a bad cell, row or byte: find it and say where
        table, suspicious = None, True
    if suspicious:
        _diagnose(path, sep, decimal, len(names), [raw[j] if j != jt else names[j] for j in range(len(names))],
                  max_field)
        if table is None:
            raise ArgumentError(f"{where}: not a readable table (separator {sep!r}, decimal mark {decimal!r})")
    if table.shape[0] == 0:
        raise ArgumentError(f"{where} is empty: a header and no rows")
    for j in sorted(blank):
        if np.isfinite(table[:, j]).any():
            raise ArgumentError(f"{where}: column {j + 1} has values but no name")
    time = table[:, jt] * t_factor
    columns, sigma, col_units = {}, {}, {}
    declared = _declared_units(units)
    for j, (n, u) in enumerate(parsed):
        if j == jt or j in blank or n.startswith("sigma_"):
            continue
        columns[n] = table[:, j] * _unit_factor(u, system, f"{where}, column `{n}`", declared.get(n))
        col_units[n] = u
    for j, (n, u) in enumerate(parsed):
        if j == jt or j in blank or not n.startswith("sigma_"):
            continue
        target = n[len("sigma_"):]
        if target not in columns:                          # a column named sigma_ something without data
            columns[n] = table[:, j] * _unit_factor(u, system, f"{where}, column `{n}`")
            col_units[n] = u
            continue
        unit = u if u is not None else col_units[target]
        if u is not None and col_units[target] is not None and not same_dimension(u, col_units[target]):
            raise UnitError(f"{where}: `{n}` is in `{u}`, not a unit of `{target}` ({col_units[target]})")
        sigma[target] = table[:, j] * _unit_factor(unit, system, f"{where}, column `{n}`", declared.get(target))
    for arr in (time, *columns.values(), *sigma.values()):
        arr.setflags(write=False)
    return Table(str(path), time, columns, sigma, col_units, t_unit)
