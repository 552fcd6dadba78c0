"""The experiment file: a fit described in TOML (model, parameters to fit, datasets with their protocols).

``nmdakin fit EXPERIMENT.toml --json OUT`` runs it; :func:`read_experiment` loads it in Python. Loading never
runs code from the file: the model is a builder function that the caller's ``resolve_builder`` allows (for
``nmdakin fit``, the scheme builders of the model library) or a scheme file in the kinetics text format (parsed,
not executed), and observable expressions are parsed by the safe expression parser.

Format
------
Relative paths are relative to the experiment file. Units are those of the model (ms, mM, mV by default);
parameter values and bounds are in each parameter's declared unit (``1/s`` for the Destexhe rates).

.. code-block:: toml

    name = "destexhe_epsc"                    # optional; default: the file name
    description = "Destexhe five-state rates from EPSCs at three glutamate conditions"

    [model]
    builder = "destexhe1994.five_state"       # a name the caller's resolve_builder knows, or
    # file = "my_scheme.txt"                  # a scheme file in the kinetics text format
    options = { rate_set = "destexhe1994" }   # keyword arguments of the builder (strings, numbers, booleans)
    transforms = [                            # optional: builders applied in turn to the scheme
        { builder = "mg_block.with_nmda_current", options = { g_nmda = 1.0 } },
    ]
    parameters = { Rb = 5.0 }                 # optional: parameter values replacing the model's
    initial = { C0 = 1.0 }                    # optional: initial values replacing the model's

    [fit]                                     # every key optional (defaults shown)
    starts = 10                               # multistart: local fits from a Latin hypercube design
    seed = 0
    sampler = "lhs"                           # "lhs", "sobol" or "uniform"
    include_start = true                      # the first start is the given start values
    profiles = true                           # profile-likelihood intervals and the flat-profile check
    level = 0.95
    gradient = "exact"                        # or "2-point" / "3-point" finite differences
    rtol = 1e-8
    atol = 1e-10
    method = "auto"                           # native solver: "auto", "dopri5", "rodas"
    workers = 0                               # local processes (0: every core); --scheduler overrides
    least_squares = { max_nfev = 200 }        # extra scipy.optimize.least_squares options

    [parameters]                              # what to fit: NAME = { ... } or NAME = [low, high]
    Ru = { bounds = [1.0, 100.0], start = 20.0 }       # start: default the model's value
    Rd = { bounds = [0.5, 50.0], scale = "log10" }     # scale: default log10 for positive quantities
    Rr = [0.3, 30.0]
    gmax = { start = 40.0, bounds = [1.0, 1000.0], per_dataset = true }   # one value per dataset
    # "C0(0)" = { bounds = [0.5, 1.0] }                 # an initial value

    [[datasets]]
    name = "pulse_1ms"                        # an identifier; default: the CSV file's stem
    file = "data/pulse_1ms.csv"               # a `time` column, one column per observable, optional sigma_X
    observables = { I = "-gmax*O" }           # data column -> expression (default: a species/observable)
    sigma = 0.3                               # number, "estimate", or { I = 0.3 }; sigma_I columns win
    parameters = { gmax = 50.0 }              # values for this dataset (scheme or observation parameters)
    y0 = { }                                  # initial values for this dataset
    t0 = 0.0                                  # simulation start (default 0); t_end: default the last time
    protocol = [                              # the stimulus, in the model's units
        { type = "pulses", input = "glu", times = [10.0], amplitude = 1.0, width = 1.0 },
    ]

Protocol components (``type`` and the arguments of the :mod:`kinetics.protocol` function of that name):
``pulses`` (input, times, amplitude, width), ``steps`` (input, times, values), ``ramp`` (input, times,
values), ``waveform`` (input, times, kernel = {type = "exponential" | "alpha" | "biexponential", amplitude,
tau | tau_rise, tau_decay}), ``wash_in`` (input, time, concentration, tau, washout), ``jumps`` (species,
times, amount, mode). ``times`` is a list, or a regular train ``{ n = 5, freq_hz = 20.0, t0 = 10.0 }``.

Examples
--------
>>> exp = read_experiment("examples/fit_destexhe/experiment.toml")     # doctest: +SKIP
>>> result = exp.run(n_starts=4)                                       # doctest: +SKIP
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ArgumentError, KineticsError, ParseError, SchemeError, did_you_mean, short_repr

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["Experiment", "read_experiment", "run_experiment", "parse_protocol",
           "MAX_EXPERIMENT_BYTES", "MAX_TOML_DEPTH"]

#: Largest experiment file read (bytes); checked before parsing.
MAX_EXPERIMENT_BYTES = 1_000_000
#: Deepest nesting of TOML arrays and inline tables (the format needs 4); checked before parsing.
MAX_TOML_DEPTH = 16
#: Largest integer accepted for a count or seed (exactly representable as a double).
_MAX_INTEGER = 2 ** 53

_TOP = ("name", "description", "model", "fit", "parameters", "datasets")
_MODEL = ("builder", "file", "options", "transforms", "parameters", "initial")
_FIT = ("starts", "seed", "sampler", "include_start", "profiles", "level", "gradient", "rtol", "atol", "method",
        "workers", "least_squares")
_DATASET = ("name", "file", "observables", "sigma", "parameters", "y0", "t0", "t_end", "protocol", "columns")
# strings (multi-line, basic, literal: each runs to its end or to the end of the text/line, so the scan is
# linear), comments, and the brackets of arrays, inline tables and table headers
_TOML_TOKEN = re.compile(r'''"""(?:[^"\\]|\\[\s\S]|"(?!""))*+(?:""")?|\'\'\'(?:[^\']|\'(?!\'\'))*+(?:\'\'\')?'''
                         r'''|"(?:[^"\\\n]|\\.)*+"?|\'[^\'\n]*+\'?|#[^\n]*+|[\[\]{}]''')


def _toml_depth_ok(text: str, limit: int) -> bool:
    """False if arrays/inline tables nest deeper than ``limit`` (strings and comments skipped)."""
    depth = 0
    for m in _TOML_TOKEN.finditer(text):
        tok = m.group(0)
        if tok in ("[", "{"):
            depth += 1
            if depth > limit:
                return False
        elif tok in ("]", "}"):
            depth = max(depth - 1, 0)
    return True


class _Where:
    """Location in the file for error messages."""

    def __init__(self, path):
        self.path = path

    def error(self, where: str, message: str, cls=ArgumentError):
        return cls(f"{self.path}: [{where}] {message}")


def _check_keys(table, allowed, where, loc: _Where):
    if not isinstance(table, dict):
        raise loc.error(where, f"must be a table, got {type(table).__name__}")
    for k in table:
        if k not in allowed:
            raise loc.error(where, f"unknown key `{k}`" + did_you_mean(k, allowed)
                            + f"; allowed: {', '.join(allowed)}")


def _number(v, what, loc, where, *, integer=False, positive=False):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise loc.error(where, f"`{what}` must be a number, got {short_repr(v)}")
    if isinstance(v, int) and abs(v) > _MAX_INTEGER:
        raise loc.error(where, f"`{what}` is too large (at most {_MAX_INTEGER} in magnitude)")
    if integer and int(v) != v:
        raise loc.error(where, f"`{what}` must be an integer, got {v!r}")
    if not math.isfinite(v) or (positive and v <= 0):
        raise loc.error(where, f"`{what}` must be a {'positive ' if positive else ''}finite number, got {v!r}")
    return int(v) if integer else float(v)


def _inside(folder: Path, name, loc, where, what="file"):
    """``folder / name``, refused unless it is a relative path that stays inside ``folder`` (symlinks
    resolved): an experiment file may read only files in its own folder tree."""
    if not isinstance(name, str) or not name.strip() or "\x00" in name:
        raise loc.error(where, f"`{what}` must be a file name relative to the experiment file, got {short_repr(name)}")
    rel = Path(name)
    if rel.is_absolute() or rel.drive:
        raise loc.error(where, f"`{what}` must be a path relative to the experiment file's folder, got an "
                               f"absolute path {short_repr(name)}")
    base = folder.resolve()
    full = (base / rel).resolve()
    if full != base and base not in full.parents:
        raise loc.error(where, f"`{what}` {short_repr(name)} points outside the experiment file's folder "
                               f"(`..` or a symbolic link); data and scheme files must be in that folder or "
                               f"below it")
    return full


def _scalars(table, what, loc, where):
    if not isinstance(table, dict):
        raise loc.error(where, f"`{what}` must be a table of name = value")
    for k, v in table.items():
        if isinstance(v, (dict, list)):
            raise loc.error(where, f"`{what}.{k}` must be a string, number or boolean")
    return dict(table)


def _resolve_builder(text, loc, where, resolve):
    if resolve is None:
        raise loc.error(where, f"the experiment names a builder ({short_repr(text)}) but no `resolve_builder` was "
                               "given to turn it into a function; pass one (for nmdakin's model library: "
                               "`resolve_builder=models.scheme_builder`, what `nmdakin fit` passes)",
                        ArgumentError)
    try:
        fn = resolve(text)
    except KineticsError as exc:
        raise loc.error(where, str(exc), type(exc)) from None
    except LookupError as exc:
        raise loc.error(where, f"unknown builder {short_repr(text)}: {exc}", SchemeError) from None
    if not callable(fn):
        raise loc.error(where, f"builder {short_repr(text)} is not callable", SchemeError)
    return fn


def _load_model(table, loc: _Where, folder: Path, resolve):
    from ..scheme import Scheme
    from ..textformat import read_scheme

    where = "model"
    _check_keys(table, _MODEL, where, loc)
    if ("builder" in table) == ("file" in table):
        raise loc.error(where, "give exactly one of `builder` (a scheme builder's name) or `file` "
                               "(a scheme in the kinetics text format)")
    options = _scalars(table.get("options", {}), "options", loc, where)
    if "builder" in table:
        fn = _resolve_builder(table["builder"], loc, where, resolve)
        try:
            scheme = fn(**options)
        except TypeError as exc:
            raise loc.error(where, f"cannot call `{table['builder']}` with options {options}: {exc}") from None
        if not isinstance(scheme, Scheme):
            raise loc.error(where, f"the model builder returned {type(scheme).__name__}, not a Scheme")
    else:
        if options:
            raise loc.error(where, "`options` apply to a `builder`, not to a scheme `file`")
        scheme = read_scheme(_inside(folder, table["file"], loc, where))
    transforms = table.get("transforms", [])
    if not isinstance(transforms, list):
        raise loc.error(where, "`transforms` must be a list of { builder = ..., options = {...} }")
    for i, tr in enumerate(transforms):
        w = f"model.transforms[{i}]"
        _check_keys(tr, ("builder", "options"), w, loc)
        if "builder" not in tr:
            raise loc.error(w, "needs a `builder`")
        fn = _resolve_builder(tr["builder"], loc, w, resolve)
        opts = _scalars(tr.get("options", {}), "options", loc, w)
        try:
            scheme = fn(scheme, **opts)
        except TypeError as exc:
            raise loc.error(w, f"cannot call `{tr['builder']}`: {exc}") from None
        if not isinstance(scheme, Scheme):
            raise loc.error(w, f"the transform returned {type(scheme).__name__}, not a Scheme")
    if not isinstance(scheme, Scheme):
        raise loc.error(where, f"the model builder returned {type(scheme).__name__}, not a Scheme")
    values = _scalars(table.get("parameters", {}), "parameters", loc, where)
    if values:
        for k in values:
            if k not in scheme.parameter_names:
                raise loc.error(where, f"`parameters` names unknown parameter `{k}`"
                                       + did_you_mean(k, scheme.parameter_names), SchemeError)
        scheme = scheme.with_parameters({k: _number(v, f"parameters.{k}", loc, where) for k, v in values.items()})
    initial = _scalars(table.get("initial", {}), "initial", loc, where)
    if initial:
        for k in initial:
            if k not in scheme.species_names:
                raise loc.error(where, f"`initial` names unknown species `{k}`"
                                       + did_you_mean(k, scheme.species_names), SchemeError)
        scheme = scheme.with_initial({k: _number(v, f"initial.{k}", loc, where) for k, v in initial.items()})
    return scheme


def _times(v, loc, where):
    from ..protocol import regular_train

    if isinstance(v, dict):
        _check_keys(v, ("n", "freq_hz", "t0"), where + ".times", loc)
        if "n" not in v or "freq_hz" not in v:
            raise loc.error(where, "a train `times` needs `n` and `freq_hz` (and optionally `t0`)")
        return regular_train(_number(v["n"], "times.n", loc, where, integer=True),
                             _number(v["freq_hz"], "times.freq_hz", loc, where, positive=True),
                             t0=_number(v.get("t0", 0.0), "times.t0", loc, where))
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return [float(v)]
    if isinstance(v, list):
        return [_number(x, "times", loc, where) for x in v]
    raise loc.error(where, f"`times` must be a list of numbers or a train table, got {v!r}")


_COMPONENTS = {
    "pulses": (("input", "times"), ("amplitude", "width")),
    "steps": (("input", "times", "values"), ()),
    "ramp": (("input", "times", "values"), ()),
    "waveform": (("input", "times", "kernel"), ()),
    "wash_in": (("input", "time", "concentration"), ("tau", "washout")),
    "jumps": (("species", "times", "amount"), ("mode",)),
}
_KERNELS = {"exponential": ("amplitude", "tau"), "alpha": ("amplitude", "tau"),
            "biexponential": ("amplitude", "tau_rise", "tau_decay")}


def parse_protocol(items, *, where: str = "protocol", path: str = "<protocol>"):
    """A :class:`~kinetics.protocol.Protocol` from a list of component tables (see the module docstring)."""
    from .. import protocol as P

    loc = _Where(path)
    if items is None:
        return P.Protocol.empty()
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise loc.error(where, "`protocol` must be a list of component tables")
    comps = []
    for i, item in enumerate(items):
        w = f"{where}[{i}]"
        if not isinstance(item, dict) or "type" not in item:
            raise loc.error(w, "each protocol component needs a `type` (" + ", ".join(_COMPONENTS) + ")")
        kind = item["type"]
        if kind not in _COMPONENTS:
            raise loc.error(w, f"unknown protocol component `{kind}`" + did_you_mean(str(kind), _COMPONENTS)
                               + f"; choose one of {', '.join(_COMPONENTS)}")
        required, optional = _COMPONENTS[kind]
        _check_keys(item, ("type",) + required + optional, w, loc)
        for r in required:
            if r not in item:
                raise loc.error(w, f"`{kind}` needs `{r}`")
        kw = {}
        for k, v in item.items():
            if k == "type":
                continue
            if k == "times":
                kw[k] = _times(v, loc, w)
            elif k in ("input", "species", "mode"):
                if not isinstance(v, str):
                    raise loc.error(w, f"`{k}` must be a string, got {v!r}")
                kw[k] = v
            elif k == "kernel":
                if not isinstance(v, dict) or v.get("type") not in _KERNELS:
                    raise loc.error(w, f"`kernel` must be a table with type = one of {', '.join(_KERNELS)}")
                names = _KERNELS[v["type"]]
                _check_keys(v, ("type",) + names, w + ".kernel", loc)
                missing = [n for n in names if n not in v]
                if missing:
                    raise loc.error(w, f"kernel `{v['type']}` needs {', '.join(missing)}")
                kw[k] = getattr(P, v["type"])(*(_number(v[n], n, loc, w) for n in names))
            elif k in ("values", "amount", "amplitude", "width") and isinstance(v, list):
                kw[k] = [_number(x, k, loc, w) for x in v]
            elif k == "washout" and v is None:
                kw[k] = None
            else:
                kw[k] = _number(v, k, loc, w)
        try:
            comps.append(getattr(P, kind)(**kw))
        except (ValueError, TypeError) as exc:
            raise loc.error(w, str(exc), P.ProtocolError) from None
    return P.Protocol(comps)


def _load_dataset(table, index, loc: _Where, folder: Path):
    from .dataset import Dataset

    where = f"datasets[{index}]"
    _check_keys(table, _DATASET, where, loc)
    if "file" not in table:
        raise loc.error(where, "needs a `file` (CSV with a `time` column and one column per observable)")
    path = _inside(folder, table["file"], loc, where)
    protocol = parse_protocol(table.get("protocol"), where=f"{where}.protocol", path=str(loc.path))
    sigma = table.get("sigma", "estimate")
    if isinstance(sigma, dict):
        sigma = {k: (v if isinstance(v, str) else _number(v, f"sigma.{k}", loc, where, positive=True))
                 for k, v in sigma.items()}
    elif not isinstance(sigma, str):
        sigma = _number(sigma, "sigma", loc, where, positive=True)
    observables = table.get("observables", {})
    if not isinstance(observables, dict) or not all(isinstance(v, str) for v in observables.values()):
        raise loc.error(where, "`observables` must be a table of column = \"expression\"")
    kw = {}
    for k in ("t0", "t_end"):
        if k in table:
            kw[k] = _number(table[k], k, loc, where)
    columns = table.get("columns")
    if columns is not None and not (isinstance(columns, list) and all(isinstance(c, str) for c in columns)):
        raise loc.error(where, "`columns` must be a list of column names")
    try:
        return Dataset.from_csv(path, name=table.get("name"), protocol=protocol, sigma=sigma,
                                observables=observables, columns=columns,
                                parameters=_scalars(table.get("parameters", {}), "parameters", loc, where),
                                y0=_scalars(table.get("y0", {}), "y0", loc, where), **kw)
    except (ArgumentError, SchemeError) as exc:
        raise type(exc)(f"{loc.path}: [{where}] {exc}") from None


@dataclass(frozen=True)
class Experiment:
    """A loaded experiment file: the model, the datasets, what to fit and how.

    Attributes
    ----------
    path : Path
    name, description : str
    scheme : Scheme
    datasets : tuple of Dataset
    parameters : dict of name -> FitParameter
    settings : dict
        The ``[fit]`` table with defaults filled in.
    """

    path: Path
    name: str
    description: str
    scheme: object
    datasets: tuple
    parameters: dict
    settings: dict = field(default_factory=dict)

    def run(self, *, executor=None, n_starts: int | None = None, seed=None, profiles: bool | None = None,
            progress=None):
        """Fit the experiment; arguments override the file's ``[fit]`` settings. Returns a FitResult."""
        from .driver import fit

        s = self.settings
        if executor is None and s.get("workers"):
            executor = int(s["workers"])
        return fit(self.scheme, list(self.datasets), self.parameters,
                   n_starts=int(n_starts if n_starts is not None else s["starts"]),
                   seed=s["seed"] if seed is None else seed, sampler=s["sampler"],
                   include_start=s["include_start"],
                   profiles=s["profiles"] if profiles is None else profiles, level=s["level"],
                   gradient=s["gradient"], rtol=s["rtol"], atol=s["atol"], method=s["method"],
                   options=s["least_squares"] or None, executor=executor, progress=progress)


_FIT_DEFAULTS = {"starts": 10, "seed": 0, "sampler": "lhs", "include_start": True, "profiles": True, "level": 0.95,
                 "gradient": "exact", "rtol": 1e-8, "atol": 1e-10, "method": "auto", "workers": 0,
                 "least_squares": {}}


def read_experiment(path, *, resolve_builder=None) -> Experiment:
    """Load and check an experiment file (TOML; format in the module docstring) and its CSV data.

    ``resolve_builder(name)`` turns the text of a ``builder`` (model or transform) into the function to
    call; it raises a :class:`~kinetics.errors.KineticsError` (or ``LookupError``) for a name it does not
    allow. It is required when the file names a builder: the engine knows no model library (``nmdakin fit``
    passes the resolver of nmdakin's model library, which accepts only the scheme builders its registry
    lists). Files named in the experiment (data, scheme) must lie in the experiment file's folder or below.
    The file is at most :data:`MAX_EXPERIMENT_BYTES` bytes and nests at most :data:`MAX_TOML_DEPTH` levels.

    Raises
    ------
    FileNotFoundError
        For a missing experiment or data file.
    ParseError
        For invalid TOML.
    SchemeError, ArgumentError, ProtocolError
        For unknown keys, names, bad values — with the file and the table where the problem is.
    """
    from .parameters import FitParameter

    resolve = resolve_builder
    if resolve is not None and not callable(resolve):
        raise ArgumentError(f"`resolve_builder` must be callable, got {type(resolve).__name__}")
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_EXPERIMENT_BYTES:
            raise ParseError(f"experiment file too large ({size} bytes; the limit is {MAX_EXPERIMENT_BYTES})",
                             source=str(path))
        with open(path, "rb") as fh:
            raw = fh.read(MAX_EXPERIMENT_BYTES + 1)
    except FileNotFoundError:
        raise FileNotFoundError(f"experiment file not found: {str(path)!r}") from None
    except IsADirectoryError:
        raise ParseError("not a file", source=str(path)) from None
    if len(raw) > MAX_EXPERIMENT_BYTES:
        raise ParseError(f"experiment file too large (the limit is {MAX_EXPERIMENT_BYTES} bytes)", source=str(path))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"invalid TOML: not UTF-8 text (byte {exc.start})", source=str(path)) from None
    if not _toml_depth_ok(text, MAX_TOML_DEPTH):
        raise ParseError(f"invalid TOML: arrays or tables nested deeper than {MAX_TOML_DEPTH} levels",
                         source=str(path))
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParseError(f"invalid TOML: {exc}", source=str(path)) from None
    except RecursionError:
        raise ParseError("invalid TOML: nested too deeply", source=str(path)) from None
    except ValueError as exc:   # e.g. an integer beyond Python's 4300-digit conversion limit
        raise ParseError(f"invalid TOML: {str(exc)[:120]}", source=str(path)) from None
    loc = _Where(path)
    _check_keys(doc, _TOP, "top level", loc)
    for k in ("model", "parameters", "datasets"):
        if k not in doc:
            raise loc.error("top level", f"missing `[{k}]`" if k != "datasets" else "missing `[[datasets]]`")
    folder = path.parent
    scheme = _load_model(doc["model"], loc, folder, resolve)
    settings = dict(_FIT_DEFAULTS)
    fit_table = doc.get("fit", {})
    _check_keys(fit_table, _FIT, "fit", loc)
    for k, v in fit_table.items():
        if k in ("starts", "workers"):
            v = _number(v, k, loc, "fit", integer=True)
            if v < (1 if k == "starts" else 0):
                raise loc.error("fit", f"`{k}` must be >= {1 if k == 'starts' else 0}, got {v}")
        elif k in ("rtol", "atol"):
            v = _number(v, k, loc, "fit", positive=True)
        elif k == "level":
            v = _number(v, k, loc, "fit")
        elif k in ("include_start", "profiles"):
            if not isinstance(v, bool):
                raise loc.error("fit", f"`{k}` must be true or false, got {v!r}")
        elif k == "least_squares":
            v = _scalars(v, k, loc, "fit")
        elif k in ("sampler", "gradient", "method") and not isinstance(v, str):
            raise loc.error("fit", f"`{k}` must be a string, got {v!r}")
        settings[k] = v
    params = doc["parameters"]
    if not isinstance(params, dict) or not params:
        raise loc.error("parameters", "must name at least one parameter to fit")
    specs = {}
    for name, spec in params.items():
        if isinstance(spec, list):
            spec = {"bounds": spec}
        if not isinstance(spec, dict):
            raise loc.error(f"parameters.{name}", "must be a table { bounds, scale, start, per_dataset } "
                                                  "or [low, high]")
        _check_keys(spec, ("bounds", "scale", "start", "per_dataset"), f"parameters.{name}", loc)
        try:
            specs[name] = FitParameter(name, **spec)
        except ArgumentError as exc:
            raise loc.error(f"parameters.{name}", str(exc)) from None
    items = doc["datasets"]
    if not isinstance(items, list) or not items:
        raise loc.error("datasets", "give at least one [[datasets]] table")
    datasets = tuple(_load_dataset(t, i, loc, folder) for i, t in enumerate(items))
    for d in datasets:
        try:
            d.check(scheme)
        except (ArgumentError, SchemeError) as exc:
            raise type(exc)(f"{path}: {exc}") from None
    name = doc.get("name", path.stem)
    description = doc.get("description", "")
    if not isinstance(name, str) or not isinstance(description, str):
        raise loc.error("top level", "`name` and `description` must be strings")
    return Experiment(path=path, name=name, description=description, scheme=scheme, datasets=datasets,
                      parameters=specs, settings=settings)


def run_experiment(path, *, resolve_builder=None, **overrides):
    """:func:`read_experiment` then :meth:`Experiment.run` (keyword arguments override ``[fit]``)."""
    return read_experiment(path, resolve_builder=resolve_builder).run(**overrides)
