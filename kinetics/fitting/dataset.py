"""Measured data for a fit: :class:`Dataset`.

A dataset is one recording: sorted time points, one or more measured observables at those times, the
protocol that produced them, the measurement noise, and what differs in this recording from the others
(fixed parameter values, initial values, observation parameters such as a scale factor per cell).

Observables
-----------
A data column is compared with an *observable* of the model: by default the column's name is a species or a
scheme observable (``"O"``, ``"Popen"``); ``observables={"I": "-g*O*(V - E)"}`` gives an expression of
species, scheme observables, parameters, inputs and time ``t`` instead (parsed safely, never evaluated).
Names in the expression that the scheme does not define are *observation parameters*: give their values in
``parameters`` or fit them.

Noise
-----
``sigma`` is the standard deviation of the measurement noise: a number (every point of every observable),
a mapping ``{observable: number or array (one per time point)}``, ``"estimate"`` (one unknown sigma per
observable, estimated by the fit), or ``None`` (the same as ``"estimate"``). The fit minimises
``0.5 * sum(((model - data) / sigma) ** 2)``, the negative log-likelihood of Gaussian noise up to a constant.

Examples
--------
>>> import numpy as np
>>> from kinetics.protocol import Protocol, steps
>>> ds = Dataset("assoc", time=[0.0, 1.0, 2.0], data={"LR": [0.0, 0.4, 0.6]},
...              protocol=Protocol([steps("L", [0.0], [0.1])]), sigma=0.01)
>>> ds.n_points, ds.observable_names
(3, ('LR',))
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import sympy

from ..errors import ArgumentError, ParseError, SchemeError, did_you_mean
from ..protocol import Protocol

__all__ = ["Dataset", "ESTIMATE"]

#: The value of ``sigma`` that asks the fit to estimate the noise of an observable.
ESTIMATE = "estimate"
#: Largest CSV data file read (bytes).
MAX_CSV_BYTES = 100_000_000
#: Longest value (characters) of a CSV cell: a number needs at most a few dozen.
MAX_CSV_FIELD = 100
#: Most columns of a CSV data file.
MAX_CSV_COLUMNS = 1000


def _float_array(values, what: str, n: int | None = None) -> np.ndarray:
    try:
        arr = np.array(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ArgumentError(f"{what} must be numbers") from None
    if n is not None and arr.size != n:
        raise ArgumentError(f"{what} has {arr.size} values, expected {n} (one per time point)")
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ArgumentError(f"{what} contains {int(bad.sum())} non-finite value(s) (NaN or inf), the first at "
                            f"index {i} ({arr[i]}); remove or fill them before fitting (a dataset has one time "
                            f"grid: for values missing at some times use kinetics.data.read_table(path).datasets(), "
                            f"which leaves them out per observable)")
    arr.setflags(write=False)
    return arr


def check_name_and_protocol(dataset, kind: str) -> str:
    """Check the ``name`` and ``protocol`` every dataset kind has (``None`` becomes the empty protocol, on the
    frozen instance); returns ``"KIND `NAME`"`` for messages."""
    if not isinstance(dataset.name, str) or not dataset.name.isidentifier():
        raise ArgumentError(f"dataset name {dataset.name!r} must be an identifier (letters, digits, _)")
    where = f"{kind} `{dataset.name}`"
    if dataset.protocol is None:
        object.__setattr__(dataset, "protocol", Protocol.empty())
    if not isinstance(dataset.protocol, Protocol):
        raise ArgumentError(f"{where}: `protocol` must be a kinetics Protocol, got {type(dataset.protocol).__name__}")
    return where


@dataclass(frozen=True, eq=False)
class Dataset:
    """One recording to fit.

    Parameters
    ----------
    name : str
        An identifier (used in per-dataset parameter names such as ``g[cell1]``).
    time : array_like, shape (n,)
        Sorted (non-decreasing) measurement times, ``>= t0``, in the model's time unit.
    data : mapping observable -> array_like (n,)
        Measured values; finite.
    protocol : Protocol, optional
        The stimulus that produced the data (default: none; every input at its default).
    sigma : number, mapping, "estimate" or None
        Noise standard deviation (see the module docstring); default ``"estimate"``.
    observables : mapping observable -> expression string, optional
        Expressions for data columns that are not species or scheme observables.
    parameters : mapping name -> float, optional
        Values for this dataset: scheme parameters (declared unit) that differ from the scheme's, and
        observation parameters used in ``observables``.
    y0 : mapping species -> float, optional
        Initial values for this dataset.
    t0 : float
        Start of the simulation (default 0); the model starts from its initial values at ``t0``.
    t_end : float, optional
        End of the simulation (default: the last time point).

    Raises
    ------
    ArgumentError
        Empty data, NaN/inf, unsorted or too early times, bad sigma — at construction, before any work.
    """

    name: str
    time: np.ndarray
    data: Mapping[str, np.ndarray]
    protocol: Protocol = field(default_factory=Protocol.empty)
    sigma: object = ESTIMATE
    observables: Mapping[str, str] = field(default_factory=dict)
    parameters: Mapping[str, float] = field(default_factory=dict)
    y0: Mapping[str, float] = field(default_factory=dict)
    t0: float = 0.0
    t_end: float | None = None

    def __post_init__(self):
        where = check_name_and_protocol(self, "dataset")
        try:
            t0 = float(self.t0)
        except (TypeError, ValueError):
            raise ArgumentError(f"{where}: `t0` must be a number, got {self.t0!r}") from None
        if not math.isfinite(t0):
            raise ArgumentError(f"{where}: `t0` must be finite")
        object.__setattr__(self, "t0", t0)
        time = _float_array(self.time, f"{where}: `time`")
        if time.size == 0:
            raise ArgumentError(f"{where} is empty: `time` has no points")
        if np.any(np.diff(time) < 0):
            i = int(np.flatnonzero(np.diff(time) < 0)[0])
            raise ArgumentError(f"{where}: `time` must be sorted in increasing order; time[{i + 1}] = {time[i + 1]} "
                                f"comes after time[{i}] = {time[i]}")
        if time[0] < t0:
            what = "negative times" if t0 == 0 else f"times before t0 = {t0}"
            raise ArgumentError(f"{where}: `time` has {what} (the first is {time[0]}); the simulation starts "
                                f"at t0 = {t0} from the initial values (shift the times or set `t0`)")
        t_end = float(time[-1]) if self.t_end is None else float(self.t_end)
        if not math.isfinite(t_end) or t_end < time[-1]:
            raise ArgumentError(f"{where}: `t_end` ({t_end}) must be finite and >= the last time ({time[-1]})")
        if t_end <= t0:                       # every point at t0: a minimal window to simulate
            t_end = t0 + 1e-9 * max(1.0, abs(t0))
        object.__setattr__(self, "t_end", t_end)
        object.__setattr__(self, "time", time)
        if not isinstance(self.data, Mapping) or not self.data:
            raise ArgumentError(f"{where} is empty: `data` must map at least one observable name to values")
        data = {}
        for k, v in self.data.items():
            if not isinstance(k, str) or not k.isidentifier():
                raise ArgumentError(f"{where}: observable name {k!r} must be an identifier")
            data[k] = _float_array(v, f"{where}: data of `{k}`", time.size)
        object.__setattr__(self, "data", data)
        obs = dict(self.observables or {})
        for k, v in obs.items():
            if k not in data:
                raise ArgumentError(f"{where}: `observables` defines `{k}`, which has no data"
                                    + did_you_mean(k, data))
            if not isinstance(v, (str, sympy.Basic)):
                raise ArgumentError(f"{where}: observable `{k}` must be an expression string, got {v!r}")
        object.__setattr__(self, "observables", obs)
        object.__setattr__(self, "sigma", self._check_sigma(self.sigma, data, time.size, where))
        for attr in ("parameters", "y0"):
            mapping = dict(getattr(self, attr) or {})
            for k, v in mapping.items():
                try:
                    fv = float(v)
                except (TypeError, ValueError):
                    raise ArgumentError(f"{where}: `{attr}` value of `{k}` must be a number, got {v!r}") from None
                if not math.isfinite(fv):
                    raise ArgumentError(f"{where}: `{attr}` value of `{k}` must be finite, got {fv}")
                mapping[k] = fv
            object.__setattr__(self, attr, mapping)

    @staticmethod
    def _check_sigma(sigma, data, n, where):
        if sigma is None or (isinstance(sigma, str) and sigma == ESTIMATE):
            return {k: ESTIMATE for k in data}
        if isinstance(sigma, str):
            raise ArgumentError(f"{where}: `sigma` must be a number, a mapping, or 'estimate', got {sigma!r}")
        if not isinstance(sigma, Mapping):
            sigma = {k: sigma for k in data}
        out = {}
        for k in sigma:
            if k not in data:
                raise ArgumentError(f"{where}: `sigma` given for `{k}`, which has no data" + did_you_mean(k, data))
        for k in data:
            v = sigma.get(k, ESTIMATE)
            if v is None or (isinstance(v, str) and v == ESTIMATE):
                out[k] = ESTIMATE
                continue
            if isinstance(v, str):
                raise ArgumentError(f"{where}: `sigma` of `{k}` must be a number, an array or 'estimate', got {v!r}")
            arr = np.asarray(v, dtype=float)
            arr = _float_array(np.broadcast_to(arr, (n,)) if arr.ndim == 0 else arr, f"{where}: `sigma` of `{k}`", n)
            if np.any(arr <= 0):
                raise ArgumentError(f"{where}: `sigma` of `{k}` must be > 0 (a standard deviation)")
            out[k] = arr
        return out

    # ------------------------------------------------------------------ access
    @property
    def observable_names(self) -> tuple:
        """The data columns (observables), in order."""
        return tuple(self.data)

    @property
    def n_points(self) -> int:
        """Number of data values (time points x observables)."""
        return self.time.size * len(self.data)

    def estimated(self, observable: str) -> bool:
        """True if the noise of ``observable`` is estimated by the fit."""
        return isinstance(self.sigma[observable], str)

    def expression(self, observable: str, scheme) -> sympy.Expr:
        """The sympy expression of ``observable`` (parsed safely; scheme observables not substituted).

        Raises :class:`SchemeError` if a data column is neither a species nor a scheme observable and has no
        expression.
        """
        from ..expressions import parse_expression

        text = self.observables.get(observable)
        if text is None:
            known = scheme.species_names + scheme.observable_names
            if observable not in known:
                raise SchemeError(f"dataset `{self.name}`: unknown observable `{observable}`: not a species or "
                                  f"observable of scheme `{scheme.name}`" + did_you_mean(observable, known)
                                  + f"; give an expression with observables={{'{observable}': '...'}}")
            return sympy.Symbol(observable)
        if isinstance(text, sympy.Basic):
            return text
        try:
            return parse_expression(text)
        except ParseError as exc:
            raise ParseError(f"dataset `{self.name}`, observable `{observable}`: {exc}") from None

    def free_names(self, scheme) -> set:
        """Names used in observable expressions that the scheme does not define (observation parameters)."""
        known = set(scheme.species_names) | set(scheme.parameter_names) | set(scheme.input_names) \
            | set(scheme.observable_names) | {"t"}
        names = set()
        for k in self.data:
            names |= {s.name for s in self.expression(k, scheme).free_symbols} - known
        return names

    def check(self, scheme) -> None:
        """Check the dataset against ``scheme`` (names, protocol); raises before any work."""
        from ..errors import ProtocolError

        where = f"dataset `{self.name}`"
        free = self.free_names(scheme)
        species = scheme.species_names
        for k in self.y0:
            if k not in species:
                raise SchemeError(f"{where}: `y0` names unknown species `{k}`" + did_you_mean(k, species))
            if self.y0[k] < 0 and scheme.get_species(k).nonnegative:
                raise ArgumentError(f"{where}: `y0` of `{k}` is negative ({self.y0[k]})")
        for k, v in self.parameters.items():
            if k in scheme.parameter_names:
                lo, hi = scheme.get_parameter(k).bounds
                if not lo <= v <= hi:
                    raise ArgumentError(f"{where}: parameter `{k}` = {v} is outside its bounds [{lo}, {hi}]")
            elif k not in free:
                raise SchemeError(f"{where}: `parameters` names `{k}`, which is neither a parameter of scheme "
                                  f"`{scheme.name}` nor used in the dataset's observables"
                                  + did_you_mean(k, list(scheme.parameter_names) + sorted(free)))
        try:
            self.protocol.check_window(self.t0, self.t_end)
            self.schedule(scheme)
        except ProtocolError as exc:
            raise ProtocolError(f"{where}: {exc}") from None

    def schedule(self, scheme):
        """The protocol compiled on ``[t0, t_end]`` for ``scheme``."""
        return self.protocol.schedule(self.t0, self.t_end, inputs=scheme.input_names,
                                      defaults={u.name: u.default for u in scheme.inputs},
                                      states=scheme.species_names)

    def replace(self, **changes) -> "Dataset":
        """A copy with some fields changed (validated again)."""
        from dataclasses import replace

        return replace(self, **changes)

    # ------------------------------------------------------------------ files
    @classmethod
    def from_csv(cls, path, *, name: str | None = None, protocol: Protocol | None = None, sigma=ESTIMATE,
                 observables=None, columns=None, time_unit: str | None = None, units=None, sep: str | None = None,
                 decimal: str | None = None, **kw) -> "Dataset":
        """Read a dataset from a CSV/TSV file with a time column and one column per observable.

        Read with :func:`kinetics.data.read_table` (pandas): the separator (comma, semicolon, tab) and a decimal
        comma are sniffed; the time column is ``time``, ``Time`` or ``t``, with an optional unit in its header
        (``time (s)``, ``t [ms]``) or given as ``time_unit=``; times and columns with a unit in their header
        (``I (nA)``) are converted to the model's unit system ``units`` (a UnitSystem or the Scheme; default
        ms, mM, mV, pA). Blank cells are missing values: their rows are left out (never read as zero); when
        the observables are missing at different rows they need separate datasets
        (``kinetics.data.read_table(path).datasets()``) and this raises.

        A column ``sigma_X`` gives the noise of observable ``X`` point by point (it overrides ``sigma`` for
        ``X``). ``columns`` restricts the observables read (default: every other column). Other keyword
        arguments are those of :class:`Dataset`.

        The file is UTF-8 text of at most :data:`MAX_CSV_BYTES` bytes, with at most :data:`MAX_CSV_COLUMNS`
        columns and :data:`MAX_CSV_FIELD` characters a value. Error messages name the line and column but
        never repeat the file's content.

        Examples
        --------
        >>> ds = Dataset.from_csv("epsc.csv", protocol=p, sigma=0.5)   # doctest: +SKIP
        >>> ds = Dataset.from_csv("epsc.tsv", time_unit="s", columns=["I"])   # doctest: +SKIP
        """
        from ..data.tables import read_table

        table = read_table(path, time_unit=time_unit, units=units, sep=sep, decimal=decimal,
                           max_bytes=MAX_CSV_BYTES, max_field=MAX_CSV_FIELD, max_columns=MAX_CSV_COLUMNS)
        return table.dataset(name or _identifier(Path(path).stem), columns=columns,
                             protocol=protocol if protocol is not None else Protocol.empty(), sigma=sigma,
                             observables=observables or {}, **kw)

    def to_csv(self, path, *, digits: int | None = None) -> None:
        """Write ``time``, the observables and their per-point sigma (``sigma_X``) as CSV (atomically).

        Numbers are written exactly (``repr``) unless ``digits`` (significant digits) is given.
        """
        from ..io import atomic_write_text

        cols = [("time", self.time)] + [(k, v) for k, v in self.data.items()]
        cols += [(f"sigma_{k}", s) for k, s in self.sigma.items() if not isinstance(s, str)]
        fmt = repr if digits is None else (lambda x: f"{x:.{int(digits)}g}")
        lines = [",".join(c for c, _ in cols)]
        lines += [",".join(fmt(float(x)) for x in row) for row in np.column_stack([v for _, v in cols])]
        atomic_write_text(path, "\n".join(lines) + "\n")

    def __repr__(self) -> str:
        return (f"<Dataset `{self.name}`: {self.time.size} times in [{self.time[0]:g}, {self.time[-1]:g}], "
                f"observables {', '.join(self.data)}>")


def _identifier(text: str) -> str:
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in text)
    return out if out and not out[0].isdigit() else f"d_{out}"
