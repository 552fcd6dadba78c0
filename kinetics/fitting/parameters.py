"""What a fit estimates: :class:`FitParameter` specifications and their resolution against a model.

A fitted quantity is one of

* a **model parameter** of the scheme (``"Ru"``), in its declared unit;
* an **initial value** of a species, written ``"C0(0)"``, in the scheme's units;
* an **observation parameter**: a name used only in the datasets' observable expressions (a scale factor
  ``g`` in ``I = -g*O``, a baseline ``b``), a plain number.

Each is *shared* by every dataset (the default) or estimated separately for each dataset
(``per_dataset=True``, COPASI's "local" parameters), then named ``"g[cell1]"``.

The optimiser works on **scaled** values ``x``: ``x = log10(value)`` (the default for a quantity whose bounds
are non-negative and whose start is positive, e.g. rate constants) or ``x = value`` (``scale="linear"``).

Examples
--------
>>> FitParameter("Ru", bounds=(1.0, 100.0))
FitParameter(name='Ru', bounds=(1.0, 100.0), scale=None, start=None, per_dataset=False)
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ..errors import ArgumentError, SchemeError, did_you_mean

__all__ = ["FitParameter", "SCALES", "ResolvedParameter", "resolve_parameters", "DEFAULT_LOG_RANGE"]

#: Parameter scales the optimiser may work on.
SCALES = ("log10", "linear")
#: Default bounds of a log10-scaled parameter without bounds: start / 100 .. start * 100.
DEFAULT_LOG_RANGE = 100.0

_INITIAL = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\(0\)$")


@dataclass(frozen=True)
class FitParameter:
    """One quantity to estimate.

    Parameters
    ----------
    name : str
        A scheme parameter (``"Ru"``), a species' initial value (``"C0(0)"``) or an observation parameter used
        in the datasets' observable expressions (``"g"``).
    bounds : (float, float), optional
        Lower and upper bound in the parameter's declared unit. Default for log10 scale: ``start / 100`` to
        ``start * 100`` (clipped to the scheme parameter's own bounds); linear scale needs finite bounds.
    scale : {"log10", "linear"}, optional
        Default ``"log10"`` when the bounds are non-negative and the start is positive, else ``"linear"``.
    start : float, optional
        Start value (declared unit). Default: the dataset's value (``Dataset.parameters``), else the scheme's.
    per_dataset : bool
        Estimate one value per dataset (named ``"name[dataset]"``) instead of one shared value.

    Examples
    --------
    >>> FitParameter("g", start=40.0, bounds=(1.0, 1000.0), per_dataset=True).per_dataset
    True
    """

    name: str
    bounds: tuple | None = None
    scale: str | None = None
    start: float | None = None
    per_dataset: bool = False

    def __post_init__(self):
        if not isinstance(self.name, str) or not (self.name.isidentifier() or _INITIAL.match(self.name)):
            raise ArgumentError(f"fit parameter name {self.name!r} must be a parameter name (`Ru`) or an initial "
                                f"value (`C0(0)`)")
        if self.bounds is not None:
            try:
                lo, hi = (float(b) for b in self.bounds)
            except (TypeError, ValueError):
                raise ArgumentError(f"`bounds` of fit parameter `{self.name}` must be a pair (low, high), "
                                    f"got {self.bounds!r}") from None
            if math.isnan(lo) or math.isnan(hi) or not lo < hi:
                raise ArgumentError(f"`bounds` of fit parameter `{self.name}` must satisfy low < high, "
                                    f"got {self.bounds!r}")
            object.__setattr__(self, "bounds", (lo, hi))
        if self.scale is not None and self.scale not in SCALES:
            raise ArgumentError(f"`scale` of fit parameter `{self.name}` must be one of {SCALES}, got "
                                f"{self.scale!r}" + did_you_mean(str(self.scale), SCALES))
        if self.start is not None:
            try:
                start = float(self.start)
            except (TypeError, ValueError):
                raise ArgumentError(f"`start` of fit parameter `{self.name}` must be a number, "
                                    f"got {self.start!r}") from None
            if not math.isfinite(start):
                raise ArgumentError(f"`start` of fit parameter `{self.name}` must be finite, got {start}")
            object.__setattr__(self, "start", start)
        object.__setattr__(self, "per_dataset", bool(self.per_dataset))

    @classmethod
    def coerce(cls, name: str, spec) -> "FitParameter":
        """A FitParameter from ``None``, a ``(low, high)`` pair, a mapping of fields, or a FitParameter."""
        if isinstance(spec, FitParameter):
            if spec.name != name:
                raise ArgumentError(f"fit parameter given as `{name}` is named `{spec.name}`")
            return spec
        if spec is None:
            return cls(name)
        if isinstance(spec, Mapping):
            unknown = set(spec) - {"bounds", "scale", "start", "per_dataset"}
            if unknown:
                bad = sorted(unknown)[0]
                raise ArgumentError(f"fit parameter `{name}` has unknown field `{bad}`"
                                    + did_you_mean(bad, ["bounds", "scale", "start", "per_dataset"])
                                    + "; fields are bounds, scale, start, per_dataset")
            return cls(name, **dict(spec))
        if isinstance(spec, (tuple, list)) and len(spec) == 2:
            return cls(name, bounds=tuple(spec))
        raise ArgumentError(f"fit parameter `{name}`: expected None, (low, high), a mapping or a FitParameter, "
                            f"got {spec!r}")


@dataclass(frozen=True)
class ResolvedParameter:
    """A fitted quantity resolved against a scheme and datasets (internal; one entry of the vector ``x``).

    ``key`` is its display name (``"Ru"``, ``"g[cell1]"``, ``"C0(0)"``); ``kind`` is ``"model"``,
    ``"initial"`` or ``"observation"``; ``dataset`` is ``None`` when shared. ``lower``, ``upper`` and
    ``start`` are in the declared unit; ``factor`` converts declared values to the scheme's unit system.
    """

    key: str
    name: str
    kind: str
    dataset: str | None
    scale: str
    lower: float
    upper: float
    start: float
    unit: str
    factor: float = 1.0
    reference: str = ""
    note: str = ""

    def to_x(self, value):
        """Scaled value(s) of declared value(s)."""
        value = np.asarray(value, dtype=float)
        return np.log10(value) if self.scale == "log10" else value

    def from_x(self, x):
        """Declared value(s) of scaled value(s)."""
        x = np.asarray(x, dtype=float)
        return 10.0 ** x if self.scale == "log10" else x

    def dvalue_dx(self, x):
        """d value / d x (declared units per scaled unit)."""
        x = np.asarray(x, dtype=float)
        return np.log(10.0) * 10.0 ** x if self.scale == "log10" else np.ones_like(x)

    @property
    def x_lower(self) -> float:
        return float(self.to_x(self.lower))

    @property
    def x_upper(self) -> float:
        return float(self.to_x(self.upper))

    @property
    def x_start(self) -> float:
        return float(self.to_x(self.start))

    def applies_to(self, dataset_name: str) -> bool:
        return self.dataset is None or self.dataset == dataset_name


def _normalise_specs(parameters) -> list[FitParameter]:
    if parameters is None:
        raise ArgumentError("`parameters` is required: name the parameters to fit, e.g. ['Ru', 'Rd'] or "
                            "{'Ru': (1.0, 100.0)}")
    if isinstance(parameters, (str, FitParameter)):
        parameters = [parameters]
    if isinstance(parameters, Mapping):
        specs = [FitParameter.coerce(str(k), v) for k, v in parameters.items()]
    elif isinstance(parameters, Sequence):
        specs = [p if isinstance(p, FitParameter) else FitParameter.coerce(str(p), None) for p in parameters]
    else:
        raise ArgumentError(f"`parameters` must be a list of names/FitParameter or a mapping name -> spec, "
                            f"got {type(parameters).__name__}")
    if not specs:
        raise ArgumentError("`parameters` is empty: name at least one parameter to fit")
    seen = set()
    for s in specs:
        if s.name in seen:
            raise ArgumentError(f"fit parameter `{s.name}` is listed twice")
        seen.add(s.name)
    return specs


def _decide_scale(spec: FitParameter, lo: float, hi: float, start: float) -> str:
    if spec.scale is not None:
        return spec.scale
    return "log10" if lo >= 0 and start > 0 else "linear"


def resolve_parameters(scheme, datasets, parameters) -> tuple[ResolvedParameter, ...]:
    """Resolve fit specifications against ``scheme`` and ``datasets`` (all checks happen here).

    Raises :class:`~kinetics.errors.SchemeError` for unknown names and
    :class:`~kinetics.errors.ArgumentError` for bad bounds, scales and starts.
    """
    specs = _normalise_specs(parameters)
    model_names = scheme.parameter_names
    species = scheme.species_names
    factors = scheme.parameter_factors()
    obs_names = set()
    for d in datasets:
        obs_names |= d.free_names(scheme)
    out: list[ResolvedParameter] = []
    for spec in specs:
        m = _INITIAL.match(spec.name)
        if m:
            sp = m.group(1)
            if sp not in species:
                raise SchemeError(f"fit parameter `{spec.name}`: unknown species `{sp}` in scheme `{scheme.name}`"
                                  + did_you_mean(sp, species))
            kind, unit, factor, default = "initial", scheme.get_species(sp).unit or "", 1.0, \
                scheme.get_species(sp).initial
            own_bounds = (0.0, math.inf) if scheme.get_species(sp).nonnegative else (-math.inf, math.inf)
            ref, note = "", f"initial value of species `{sp}`"
        elif spec.name in model_names:
            p = scheme.get_parameter(spec.name)
            kind, unit, factor, default, own_bounds = "model", p.unit, factors[p.name], p.value, p.bounds
            ref, note = p.reference, p.note
        elif spec.name in obs_names:
            kind, unit, factor, default, own_bounds = "observation", "1", 1.0, None, (-math.inf, math.inf)
            ref, note = "", "observation parameter (unit of the observable expression)"
        else:
            candidates = list(model_names) + sorted(obs_names) + [f"{s}(0)" for s in species]
            raise SchemeError(f"unknown fit parameter `{spec.name}`: not a parameter of scheme `{scheme.name}`, "
                              f"an initial value `X(0)` or a name used in a dataset's observables"
                              + did_you_mean(spec.name, candidates))
        owners = [d.name for d in datasets] if spec.per_dataset else [None]
        for owner in owners:
            if owner is None:
                for d in datasets:
                    if spec.name in d.parameters:
                        raise ArgumentError(f"parameter `{spec.name}` is fitted as shared, but dataset `{d.name}` "
                                            f"sets its value; remove it from the dataset's parameters or fit it "
                                            f"with per_dataset=True")
                    if kind == "initial" and m.group(1) in d.y0:
                        raise ArgumentError(f"initial value `{spec.name}` is fitted as shared, but dataset "
                                            f"`{d.name}` sets it in `y0`; remove it or fit it with per_dataset=True")
            start = spec.start
            if start is None and owner is not None:
                d = next(d for d in datasets if d.name == owner)
                if kind == "initial":
                    start = d.y0.get(m.group(1))
                else:
                    start = d.parameters.get(spec.name)
            if start is None:
                start = default
            key = spec.name if owner is None else f"{spec.name}[{owner}]"
            if start is None:
                raise ArgumentError(f"fit parameter `{key}` has no start value: give `start`, or set it in the "
                                    f"dataset's parameters")
            start = float(start)
            if spec.bounds is not None:
                lo, hi = spec.bounds
            else:
                lo, hi = own_bounds
            scale = _decide_scale(spec, max(lo, own_bounds[0]), hi, start)
            if spec.bounds is None:
                if scale == "log10":
                    lo = max(own_bounds[0], start / DEFAULT_LOG_RANGE)
                    hi = min(own_bounds[1], start * DEFAULT_LOG_RANGE)
                elif not (math.isfinite(lo) and math.isfinite(hi)):
                    raise ArgumentError(f"fit parameter `{key}` on linear scale needs finite `bounds` "
                                        f"(its own bounds are [{lo}, {hi}])")
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise ArgumentError(f"`bounds` of fit parameter `{key}` must be finite, got [{lo}, {hi}]")
            if lo < own_bounds[0] or hi > own_bounds[1]:
                raise ArgumentError(f"`bounds` [{lo:g}, {hi:g}] of fit parameter `{key}` exceed the parameter's "
                                    f"own bounds [{own_bounds[0]:g}, {own_bounds[1]:g}]")
            if scale == "log10" and lo <= 0:
                raise ArgumentError(f"fit parameter `{key}` on log10 scale needs a positive lower bound, got {lo:g}; "
                                    f"give bounds=(low > 0, high) or scale='linear'")
            if not lo <= start <= hi:
                raise ArgumentError(f"start {start:g} of fit parameter `{key}` is outside its bounds [{lo:g}, {hi:g}]")
            out.append(ResolvedParameter(key=key, name=spec.name, kind=kind, dataset=owner, scale=scale,
                                         lower=float(lo), upper=float(hi), start=start, unit=unit,
                                         factor=float(factor), reference=ref, note=note))
    return tuple(out)
