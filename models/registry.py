"""The model library's one registry: every scheme builder, scheme transform and plasticity model, by name.

The registry is a static table (:data:`_TABLE`): nothing registers itself at import, nothing is found by
inspecting functions, and the model modules are imported only when an entry is loaded.

:func:`available`
    The entries (:class:`Entry`: ``name``, ``kind``, one-line ``description``), optionally of one kind:

    ``"plasticity"``
        a :class:`PlasticityModel` the experiments run (``nmdakin stdp --model NAME``, ``nmdakin frequency``);
    ``"scheme"``
        a function that builds a :class:`kinetics.Scheme` (``nmdakin export MODULE.BUILDER``, an experiment
        file's ``builder``); ``requires`` names the arguments it cannot do without (usually none);
    ``"transform"``
        a function that takes a scheme and returns a new one (an experiment file's ``transforms``).
:func:`get`
    The object behind a name: the builder or transform function, or the plasticity model. Names are
    case-insensitive (``-`` and ``_`` alike); an unknown name is an :class:`~kinetics.errors.ArgumentError`
    that names the closest match.
:func:`scheme_builder`
    The ``resolve_builder`` for :func:`kinetics.fitting.read_experiment`: only the scheme builders and
    transforms of this table, named ``MODULE.FUNCTION``; ``nmdakin fit`` passes it.

``nmdakin models`` prints the table.

A plasticity model is a :class:`PlasticityModel`: a name, named parameter sets with their sources, the
methods it can compute a weight change with (each with a one-line note; older method names as aliases), the
experimental conditions (manipulations) it knows, and
:meth:`PlasticityModel.change`, the ratio of synaptic strength after/before a spike protocol (1 = no change).
The experiments also accept a :class:`PlasticityModel` instance directly, so a model of your own needs no
registration.

Examples
--------
>>> from models import registry
>>> [e.name for e in registry.available("plasticity")]
['graupner-brunel-2012', 'synapse']
>>> registry.get("Destexhe1994.Five_State").__name__
'five_state'
>>> m = registry.get("graupner-brunel-2012")
>>> m.default_set, m.methods
('DP', ('exact', 'periodic', 'ode', 'sde'))
>>> m.check_method("analytic")                          # the former name of `exact`
'exact'
>>> from models.experiments import pairing_times
>>> pre, post = pairing_times(60, 1.0, 10.0)            # 60 pairs at 1 Hz, pre 10 ms before post
>>> round(m.change(pre, post, set="DP"), 4)
1.2214
"""
from __future__ import annotations

import functools
import importlib
import re
from dataclasses import dataclass

from kinetics.errors import ArgumentError, SchemeError, did_you_mean, short_repr

__all__ = ["Entry", "KINDS", "available", "get", "scheme_builder", "ParameterSetInfo", "PlasticityModel",
           "GraupnerBrunelModel", "CONTROL"]

#: The condition name of the unmodified model.
CONTROL = "control"

#: The kinds of entry, in the order :func:`available` lists them.
KINDS = ("plasticity", "scheme", "transform")
_KIND_NAMES = {"plasticity": "a plasticity model", "scheme": "a scheme builder", "transform": "a scheme transform"}


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
    method_notes : dict
        One line per method (figure titles, ``nmdakin models``).
    method_aliases : dict
        Other accepted method names -> the method they stand for (e.g. a former name).
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
    method_notes: dict = {}
    method_aliases: dict = {}
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
        """The method's canonical name (``None``: the default, the first of :attr:`methods`; an alias: its
        method); ArgumentError if unknown."""
        if method is None:
            return self.methods[0]
        if isinstance(method, str) and method in self.method_aliases:
            return self.method_aliases[method]
        if method not in self.methods:
            raise ArgumentError(f"model `{self.name}` has no method `{method}`"
                                + did_you_mean(str(method), tuple(self.methods) + tuple(self.method_aliases))
                                + f"; choose one of {list(self.methods)}")
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
        """The model as a dict (``nmdakin models --json``): name, description, reference, sets, methods...."""
        return {"name": self.name, "description": self.description, "reference": self.reference,
                "default_set": self.default_set, "methods": list(self.methods),
                "method_notes": {k: self.method_notes[k] for k in self.methods if k in self.method_notes},
                "method_aliases": dict(self.method_aliases), "conditions": list(self.conditions),
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

    Methods (the first is the default):

    ``"exact"``
        the paper's analytic formula with the times above threshold of the exact
        calcium of the spike trains as delivered (:func:`~models.graupner_brunel2012.analytic_change`);
        any spike trains.
    ``"periodic"``
        the paper's own prediction for a regular pairing protocol, as in its Fig. 2
        and Fig. 4: steady-state periodic calcium at the pairing frequency and
        ``T = n_pairs / freq`` (:func:`~models.graupner_brunel2012.periodic_change`); the trains
        must be a pairing protocol (``dt``, frequency and number of pairs are read from
        them: :func:`~models.graupner_brunel2012.infer_pairing`). For the Sjostrom et al. 2001
        bursts it treats the 75 pairs as one regular train, as the paper does.
    ``"ode"``
        the deterministic limit (no noise), :func:`kinetics.simulate`; options ``rtol``, ``atol``.
    ``"sde"``
        the full stochastic model, an Euler-Maruyama ensemble; options ``n_per_state``
        (default 2000) and ``step_ms`` (default 0.1).

    ``"analytic"``, the former name of ``"exact"``, is accepted as an alias.
    ``exact`` is the default because it is defined for every spike train and reads
    the protocol as delivered (the 10 s pauses between Sjostrom bursts let calcium
    decay); for regular pairs that do not overlap in calcium (the Fig. 2
    protocol, 60 pairs at 1 Hz) it equals ``periodic`` within 1e-9. Use
    ``periodic`` to reproduce the published curves. Conditions: only ``"control"``.
    """

    name = "graupner-brunel-2012"
    description = "calcium-based bistable synapse (Graupner & Brunel 2012)"
    methods = ("exact", "periodic", "ode", "sde")
    method_notes = {
        "exact": "the paper's analytic formula with the times above threshold of the exact calcium of the spike "
                 "trains as delivered",
        "periodic": "the paper's own prediction (its Figs. 2 and 4), steady-state periodic calcium of n regular pairs "
                    "at the pairing frequency",
        "ode": "deterministic limit (ODE, no noise)",
        "sde": "full stochastic model (SDE ensemble)",
    }
    method_aliases = {"analytic": "exact"}
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
        if method in ("exact", "periodic"):
            _reject_options(self.name, method, options, ())
            compute = gb.analytic_change if method == "exact" else gb.periodic_change
            return float(compute(pre_times, post_times, set).change)
        if method == "ode":
            _reject_options(self.name, method, options, ("rtol", "atol"))
            return float(gb.ode_change(pre_times, post_times, set, **options))
        _reject_options(self.name, method, options, ("n_per_state", "step_ms"))
        return float(gb.sde_change(pre_times, post_times, set, rng=rng, **options).change)


# --------------------------------------------------------------------------- the table
@dataclass(frozen=True)
class Entry:
    """One row of the registry.

    Attributes
    ----------
    name : str
        ``"graupner-brunel-2012"`` (plasticity) or ``"MODULE.FUNCTION"`` (scheme, transform).
    kind : str
        One of :data:`KINDS`.
    description : str
        One line.
    target : str
        ``"MODULE:ATTRIBUTE"`` in the ``models`` package (a function, or a :class:`PlasticityModel` class).
    requires : tuple of str
        Arguments a scheme builder cannot do without (``nmdakin export`` lists only builders without).
    """

    name: str
    kind: str
    description: str
    target: str
    requires: tuple = ()

    @property
    def module(self) -> str:
        """The module of :mod:`models` that defines the entry (``"destexhe1994"``)."""
        return self.target.partition(":")[0]

    def load(self):
        """The builder or transform function, or the (one, shared) :class:`PlasticityModel` instance."""
        if self.kind == "plasticity":
            return _plasticity_instance(self.target)
        return _attribute(self.target)


def _attribute(target: str):
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), attr)


@functools.lru_cache(maxsize=None)
def _plasticity_instance(target: str) -> PlasticityModel:
    return _attribute(target)()


def _e(name, kind, description, target=None, requires=()):
    if target is None:
        module, _, attr = name.partition(".")
        target = f"{module}:{attr}"
    return Entry(name, kind, description, target, tuple(requires))


#: Every entry. Within a module, the first scheme builder is the module's default (``nmdakin export destexhe1994``).
#: tests/test_registry.py checks this table against the modules (every public function returning a Scheme is here).
_TABLE = (
    _e("graupner-brunel-2012", "plasticity", GraupnerBrunelModel.description, "registry:GraupnerBrunelModel"),
    _e("synapse", "plasticity", "composed L5 PC->PC synapse: presynaptic tLTD, NMDA-calcium tLTP, the pharmacology "
                                "conditions", "synapse:SynapseModel"),
    _e("binding_assays.binding_scheme", "scheme", "kinetic scheme of a radioligand binding assay"),
    _e("calcium.spine_calcium", "scheme", "spine-head calcium: NMDA and/or VGCC influx, buffer, extrusion "
                                          "(give it a receptor scheme)"),
    _e("destexhe1994.five_state", "scheme", "five-state NMDA receptor (Destexhe et al. 1994) with a published "
                                            "rate set"),
    _e("destexhe1994.two_state", "scheme", "two-state receptor C <-> O (Destexhe et al. 1994)"),
    _e("glun1_glun2.scheme", "scheme", "GluN1/GluN2 receptor with glutamate, glycine and drug binding"),
    _e("graupner_brunel2012.scheme", "scheme", "Graupner & Brunel 2012 calcium-based synapse, deterministic "
                                               "(species c and rho)"),
    _e("kampa2004.scheme", "scheme", "ten-state NMDA receptor with kinetic Mg2+ block (Kampa et al. 2004)"),
    _e("pharmacokinetics.one_compartment", "scheme", "depot -> body -> elimination pharmacokinetics of a drug",
       requires=("drug",)),
    _e("presynaptic_tltd.prenmdar", "scheme", "presynaptic tLTD step 1: glutamate and AP5 binding to "
                                              "preNMDARs, CB1-gated coupling"),
    _e("presynaptic_tltd.ecb_cb1", "scheme", "presynaptic tLTD step 2: retrograde endocannabinoid signalling "
                                             "to CB1"),
    _e("presynaptic_tltd.jnk2_stx1a", "scheme", "presynaptic tLTD step 3: JNK2, STX1a and the lasting drop of "
                                                "release probability"),
    _e("presynaptic_tltd.rim_replenishment", "scheme", "presynaptic tLTD step 4: the RIM1ab-dependent preNMDAR "
                                                       "boost of replenishment"),
    _e("presynaptic_tltd.presynaptic", "scheme", "Tsodyks-Markram release with the whole presynaptic tLTD "
                                                 "pathway (Thomazeau et al. 2025)"),
    _e("shouval2002.scheme", "scheme", "Shouval, Bear & Cooper 2002 calcium control rule driven by a calcium "
                                       "input"),
    _e("skolnick1996.chronic_scheme", "scheme", "slow adaptation of cortical NMDA receptors under chronic "
                                                "antidepressant treatment"),
    _e("synapse.scheme", "scheme", "the composed L5 synapse as one scheme, optionally under a condition"),
    _e("tsodyks_markram.scheme", "scheme", "Tsodyks-Markram depressing synapse driven by presynaptic spikes"),
    _e("manipulations.apply", "transform", "apply an experimental condition (drug, knock-out) to a scheme"),
    _e("mg_block.with_nmda_current", "transform", "add the Jahr-Stevens Mg2+ block and the NMDA current to a "
                                                  "receptor with an open state O"),
    _e("shouval2002.with_calcium", "transform", "drive the Shouval 2002 rule by a scheme's calcium species"),
)


def _key(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def _kinds(kind) -> tuple:
    kinds = KINDS if kind is None else ((kind,) if isinstance(kind, str) else tuple(kind))
    for k in kinds:
        if k not in KINDS:
            raise ArgumentError(f"unknown kind of model `{k}`" + did_you_mean(str(k), KINDS)
                                + f"; choose one of {list(KINDS)}")
    return kinds


def available(kind=None) -> tuple:
    """The registry's entries (:class:`Entry`), optionally only of ``kind`` (one of :data:`KINDS`, or several).

    Plasticity models first, then scheme builders and transforms, each by module.
    """
    kinds = _kinds(kind)
    return tuple(e for k in KINDS if k in kinds for e in _TABLE if e.kind == k)


def _find(name, kind=None) -> Entry:
    kinds = _kinds(kind)
    if not isinstance(name, str):
        raise ArgumentError(f"a model name must be a string, got {short_repr(name)}")
    key = _key(name)
    hit = next((e for e in _TABLE if _key(e.name) == key), None)
    names = [e.name for e in available(kinds)]
    what = " or ".join(_KIND_NAMES[k] for k in kinds) if kind is not None else "a model"
    if hit is None:
        raise ArgumentError(f"unknown model `{short_repr(name)[1:-1]}`" + did_you_mean(name.strip().lower(), names)
                            + f"; choose one of {names} (see `nmdakin models`)")
    if hit.kind not in kinds:
        raise ArgumentError(f"`{hit.name}` is {_KIND_NAMES[hit.kind]}, not {what}; choose one of {names}")
    return hit


def get(name, kind=None):
    """The object a registry name stands for: a builder or transform function, or a :class:`PlasticityModel`.

    Parameters
    ----------
    name : str or PlasticityModel
        A name of :func:`available`, in any case (``-`` and ``_`` alike). A :class:`PlasticityModel`
        instance is returned as it is (when ``kind`` allows plasticity models).
    kind : str or tuple of str, optional
        Accept only entries of these kinds (:data:`KINDS`).

    Raises
    ------
    ArgumentError
        An unknown name (with the closest match), or an entry of another kind.
    """
    if isinstance(name, PlasticityModel) and "plasticity" in _kinds(kind):
        return name
    return _find(name, kind).load()


_BUILDER = re.compile(r"^([a-z][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$")


def _package_modules() -> list:
    """Names of the modules and packages of :mod:`models` (listed from the folder; nothing is imported)."""
    import pkgutil

    return sorted(m.name for m in pkgutil.iter_modules(importlib.import_module(__package__).__path__)
                  if not m.name.startswith("_"))


def scheme_builder(name: str):
    """The ``resolve_builder`` of :func:`kinetics.fitting.read_experiment` for this library.

    Returns the scheme builder or transform named ``MODULE.FUNCTION`` (``destexhe1994.five_state``,
    ``mg_block.with_nmda_current``) if the registry lists it; anything else (constants, ``cli.main``, a
    plasticity model, modules outside :mod:`models`) is refused: :class:`~kinetics.errors.ArgumentError` for a
    malformed name, :class:`~kinetics.errors.SchemeError` for a name that is not a builder.

    Examples
    --------
    >>> scheme_builder("destexhe1994.five_state").__name__
    'five_state'
    """
    m = _BUILDER.match(name) if isinstance(name, str) and len(name) <= 200 else None
    if not m:
        raise ArgumentError(f"`builder` must be MODULE.FUNCTION of nmdakin's models package "
                            f"(e.g. `destexhe1994.five_state`), got {short_repr(name)}")
    mod_name, fn_name = m.groups()
    entries = available(("scheme", "transform"))
    for e in entries:
        if e.name == name:
            return e.load()
    modules = _package_modules()
    if mod_name not in modules:
        with_builders = sorted({e.module for e in entries})
        raise SchemeError(f"unknown model module `{mod_name}`" + did_you_mean(mod_name, with_builders)
                          + f"; the modules with scheme builders: {', '.join(with_builders)}")
    in_module = [e.name.partition(".")[2] for e in entries if e.module == mod_name]
    raise SchemeError(f"`{fn_name}` is not a builder of `models.{mod_name}` (a function returning a Scheme)"
                      + did_you_mean(fn_name, in_module)
                      + (f"; choose one of {in_module}" if in_module
                         else "; that module has none (see `nmdakin models`)"))
