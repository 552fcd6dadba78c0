"""The plasticity models the experiments (``nmdakin stdp``, ``nmdakin frequency``) can run.

A model is a :class:`PlasticityModel`: a name, named parameter sets with their
sources, the methods it can compute a weight change with, the experimental
conditions (manipulations) it knows, and :meth:`PlasticityModel.change`, the
ratio of synaptic strength after/before a spike protocol (1 = no change).

Models register themselves with :func:`register`; :func:`get_model` finds one by
name and :func:`list_models` describes them all (``nmdakin models``).

Examples
--------
>>> from models import registry
>>> m = registry.get_model("graupner-brunel-2012")
>>> m.default_set, m.methods
('DP', ('analytic', 'ode', 'sde'))
>>> from models.experiments import pairing_times
>>> pre, post = pairing_times(60, 1.0, 10.0)            # 60 pairs at 1 Hz, pre 10 ms before post
>>> round(m.change(pre, post, set="DP"), 4)
1.2214
"""
from __future__ import annotations

from dataclasses import dataclass

from kinetics.errors import ArgumentError, did_you_mean

__all__ = ["ParameterSetInfo", "PlasticityModel", "GraupnerBrunelModel", "register", "get_model", "model_names",
           "list_models", "CONTROL"]

#: The condition name of the unmodified model.
CONTROL = "control"


@dataclass(frozen=True)
class ParameterSetInfo:
    """A parameter set's name, source and note."""

    name: str
    source: str
    note: str = ""


class PlasticityModel:
    """Common interface of the models the experiments run.

    Subclasses set the class attributes and implement :meth:`_change`.

    Attributes
    ----------
    name : str
        Registry name (``"graupner-brunel-2012"``).
    description, reference : str
    methods : tuple of str
        Ways to compute a change; the first is the default.
    conditions : tuple of str
        Experimental conditions the model knows; ``"control"`` is the unmodified model.
    default_set : str or None
    experiment_sets : dict
        Default set per experiment (``{"frequency": "cortical_slices"}``), else ``default_set``.
    """

    name: str = ""
    description: str = ""
    reference: str = ""
    methods: tuple = ("analytic",)
    conditions: tuple = (CONTROL,)
    default_set: str | None = None
    experiment_sets: dict = {}

    # -- parameter sets
    @property
    def sets(self) -> tuple:
        """The parameter sets, as :class:`ParameterSetInfo` (override)."""
        return ()

    def set_names(self) -> tuple:
        return tuple(s.name for s in self.sets)

    def resolve_set(self, set=None) -> str | None:
        """The canonical name of ``set`` (``None``: the default set); ArgumentError if unknown."""
        if set is None:
            return self.default_set
        names = self.set_names()
        if set in names:
            return set
        raise ArgumentError(f"model `{self.name}` has no parameter set `{set}`" + did_you_mean(str(set), names)
                            + f"; choose one of {list(names)}")

    def default_set_for(self, experiment: str) -> str | None:
        """The set an experiment uses when none is given."""
        return self.experiment_sets.get(experiment, self.default_set)

    # -- methods and conditions
    def check_method(self, method) -> str:
        if method is None:
            return self.methods[0]
        if method not in self.methods:
            raise ArgumentError(f"model `{self.name}` has no method `{method}`"
                                + did_you_mean(str(method), self.methods) + f"; choose one of {list(self.methods)}")
        return method

    def check_condition(self, condition) -> str:
        if condition is None:
            return CONTROL
        if condition not in self.conditions:
            raise ArgumentError(f"model `{self.name}` has no condition `{condition}`"
                                + did_you_mean(str(condition), self.conditions)
                                + f"; it knows {list(self.conditions)}")
        return condition

    # -- the readout
    def change(self, pre_times, post_times, *, set=None, method=None, condition=None, rng=None, **options) -> float:
        """Synaptic strength after/before the protocol (spike times in ms; 1 = no change).

        Parameters
        ----------
        pre_times, post_times : array_like of float
            Pre- and postsynaptic spike times (ms).
        set : str, optional
            Parameter set (default: :attr:`default_set`).
        method : str, optional
            One of :attr:`methods` (default: the first).
        condition : str, optional
            One of :attr:`conditions` (default ``"control"``).
        rng : numpy.random.Generator or int, optional
            For stochastic methods.
        **options
            Model- and method-specific options.
        """
        return self._change(pre_times, post_times, set=self.resolve_set(set), method=self.check_method(method),
                            condition=self.check_condition(condition), rng=rng, **options)

    def _change(self, pre_times, post_times, *, set, method, condition, rng, **options) -> float:  # pragma: no cover
        raise NotImplementedError

    def describe(self) -> dict:
        """One row of :func:`list_models`."""
        return {"name": self.name, "description": self.description, "reference": self.reference,
                "default_set": self.default_set, "methods": list(self.methods), "conditions": list(self.conditions),
                "sets": [{"name": s.name, "source": s.source, "note": s.note} for s in self.sets]}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: {len(self.sets)} parameter sets, methods {list(self.methods)}>"


def _reject_options(model, method, options, allowed):
    extra = sorted(set(options) - set(allowed))
    if extra:
        raise ArgumentError(f"model `{model}` with method `{method}` takes no option `{extra[0]}`"
                            + did_you_mean(extra[0], allowed)
                            + (f"; its options: {sorted(allowed)}" if allowed else "; it takes no options"))


class GraupnerBrunelModel(PlasticityModel):
    """Graupner & Brunel 2012 (:mod:`models.graupner_brunel2012`).

    Methods: ``"analytic"`` (the paper's prediction from the exact times above
    threshold), ``"ode"`` (deterministic limit, :func:`kinetics.simulate`),
    ``"sde"`` (Euler-Maruyama ensemble; options ``n_per_state`` (default 2000)
    and ``step_ms`` (default 0.1)). Conditions: only ``"control"``.
    """

    name = "graupner-brunel-2012"
    description = "calcium-based bistable synapse (Graupner & Brunel 2012)"
    methods = ("analytic", "ode", "sde")
    default_set = "DP"
    experiment_sets = {"frequency": "cortical_slices"}

    def __init__(self):
        from . import graupner_brunel2012 as gb

        self._gb = gb
        self.reference = gb.REFERENCE

    @property
    def sets(self) -> tuple:
        return tuple(ParameterSetInfo(s.name, s.source, s.note) for s in self._gb.PARAMETER_SETS.values())

    def resolve_set(self, set=None):
        """The canonical set name (aliases such as ``DPD'`` accepted); a custom ``ParameterSet`` passes through."""
        if set is None:
            return self.default_set
        if isinstance(set, self._gb.ParameterSet):
            return set
        return self._gb.get_set(set).name

    def _change(self, pre_times, post_times, *, set, method, condition, rng, **options) -> float:
        gb = self._gb
        if method == "analytic":
            _reject_options(self.name, method, options, ())
            return float(gb.analytic_change(pre_times, post_times, set).change)
        if method == "ode":
            _reject_options(self.name, method, options, ("rtol", "atol"))
            return float(gb.ode_change(pre_times, post_times, set, **options))
        _reject_options(self.name, method, options, ("n_per_state", "step_ms"))
        return float(gb.sde_change(pre_times, post_times, set, rng=rng, **options).change)


_REGISTRY: dict = {}


def register(model: PlasticityModel, *, replace: bool = False) -> PlasticityModel:
    """Add a model to the registry (``replace=True`` to overwrite one of the same name)."""
    if not isinstance(model, PlasticityModel):
        raise ArgumentError(f"only PlasticityModel instances can be registered, got {model!r}")
    if not model.name:
        raise ArgumentError("a registered model needs a name")
    if model.name in _REGISTRY and not replace:
        raise ArgumentError(f"a model named `{model.name}` is already registered; pass replace=True to overwrite it")
    _REGISTRY[model.name] = model
    return model


#: Library modules that register models when imported (imported on first lookup, to avoid an import cycle).
_BUILTIN_MODULES = ("models.synapse",)


def _load_builtin() -> None:
    import importlib

    for name in _BUILTIN_MODULES:
        importlib.import_module(name)


def model_names() -> tuple:
    _load_builtin()
    return tuple(_REGISTRY)


def get_model(name) -> PlasticityModel:
    """The registered model ``name`` (a :class:`PlasticityModel` passes through)."""
    if isinstance(name, PlasticityModel):
        return name
    _load_builtin()
    if name not in _REGISTRY:
        raise ArgumentError(f"unknown model `{name}`" + did_you_mean(str(name), _REGISTRY)
                            + f"; choose one of {list(_REGISTRY)}")
    return _REGISTRY[name]


def list_models() -> list:
    """Rows describing every registered model: name, description, reference, default set, methods, conditions, sets."""
    _load_builtin()
    return [m.describe() for m in _REGISTRY.values()]


register(GraupnerBrunelModel())
