"""The compiled model: the one layer between a :class:`~kinetics.scheme.Scheme` and everything that solves it.

:func:`compile` turns a scheme into a :class:`CompiledModel`, which owns

* the derived :class:`~kinetics.odesystem.OdeSystem` (shared by every scheme of the same structure),
* the **parameter vector**: declared-unit values with overrides, converted once to the scheme's unit system
  (:meth:`CompiledModel.parameter_vector`, :meth:`CompiledModel.parameter_matrix` — the only code in the
  engine that builds one),
* the initial state vector (:meth:`CompiledModel.initial_state`),
* the schedule of a protocol and its native segment arrays (:meth:`CompiledModel.schedule`,
  :meth:`CompiledModel.segments`),
* the lambdified numpy functions (right-hand side, Jacobian, observables) and the observables on a trajectory,
* the native solvers, plain and with forward sensitivities, from one cache
  (:meth:`CompiledModel.native_solver`, :meth:`CompiledModel.sensitivity_solver`).

:func:`~kinetics.simulate.simulate`, :func:`~kinetics.simulate.sweep`, :func:`~kinetics.steady.steady_state`,
fitting's objective, SBML import and the library's assay models all consume it. What is derived or compiled is
cached per scheme structure (:mod:`kinetics.cache`); a ``CompiledModel`` itself is cheap and is kept on its scheme,
so ``compile(s) is compile(s)``.

Start-up: the native libraries (plain, with sensitivities) are looked up in the on-disk cache by the model's
:meth:`CompiledModel.code_identity` (structure key + code generator) before anything is derived; the equations are
derived, and C generated, only to build a missing entry. A warm process's first ``simulate()`` therefore does no
symbolic work: state, parameter and input orders come from the scheme and the observables from the library.

Examples
--------
>>> import kinetics as kx
>>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)],
...               parameters=[kx.Parameter("k", 500.0, "1/s")], reactions=[kx.reaction("A ->", "k")])
>>> m = kx.compile(s)
>>> m.parameter_vector()            # 500 /s in the scheme's unit system (ms)
array([0.5])
>>> m.parameter_vector({"k": 1000.0})
array([1.])
>>> m.initial_state({"A": 2.0})
array([2.])
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from .cache import LRUCache
from .errors import ArgumentError, CompilerError, SchemeError, did_you_mean
from .scheme import Scheme, as_scheme

__all__ = ["CompiledModel", "compile"]

#: Loaded native solvers by structure key (plain) and by (key, parameters, initial) (with sensitivities).
_NATIVE = LRUCache("native solvers", maxsize=64)
_SENSITIVITY = LRUCache("sensitivity systems", maxsize=32)
_NUMPY = LRUCache("numpy functions", maxsize=64)
#: Compiled protocols: (structure key, names, protocol, window, input defaults) -> Schedule (immutable; a protocol
#: is a frozen value, so an equal protocol finds the entry), and a Schedule (hashed by identity) -> its
#: SegmentArrays for the native solver.
_SCHEDULES = LRUCache("protocol schedules", maxsize=64)
_SEGMENTS = LRUCache("segment arrays", maxsize=64)
#: Failed native builds: (structure key, $CC, $NMDAKIN_CACHE_DIR) -> the CompilerError (not retried).
_NATIVE_FAILED: dict = {}


def compile(model) -> "CompiledModel":  # noqa: A001 - the engine's verb, as in "compile a scheme"
    """The :class:`CompiledModel` of ``model`` (a Scheme, or an object with a ``.scheme``).

    Cheap after the first call for a scheme: the compiled model is kept on the scheme object, and its derived
    equations and native code are shared by every scheme of the same structure.
    """
    scheme = as_scheme(model)
    hit = scheme.__dict__.get("_compiled")
    if hit is None:
        hit = CompiledModel(scheme)
        object.__setattr__(scheme, "_compiled", hit)      # a frozen dataclass: a private memo, not a field
    return hit


class CompiledModel:
    """A scheme ready to be solved. Build it with :func:`compile`.

    Attributes
    ----------
    scheme : Scheme
    key : str
        The scheme's structure key (what derivation and compiled code depend on).
    state_names, parameter_names, input_names, observable_names : tuple of str
    """

    def __init__(self, scheme: Scheme):
        if not isinstance(scheme, Scheme):
            raise ArgumentError(f"compile() needs a kinetics.Scheme, got {type(scheme).__name__}")
        self.scheme = scheme
        self.key = scheme.structure_key()
        self.state_names = scheme.species_names
        self.parameter_names = scheme.parameter_names
        self.input_names = scheme.input_names
        self.observable_names = scheme.observable_names
        self.state_index = {n: i for i, n in enumerate(self.state_names)}
        self._base_values = scheme.parameter_values()
        factors = scheme.parameter_factors()
        self._factors = np.array([factors[n] for n in self.parameter_names], dtype=float)
        self._base_vector = np.array([self._base_values[n] for n in self.parameter_names], dtype=float) \
            * self._factors
        self._base_vector.setflags(write=False)
        self._bounds = {p.name: p.bounds for p in scheme.parameters}
        self._system = None

    def __repr__(self) -> str:
        return (f"<CompiledModel {self.scheme.name}: {len(self.state_names)} states, "
                f"{len(self.parameter_names)} parameters, {len(self.input_names)} inputs>")

    # ------------------------------------------------------------------ derived equations
    @property
    def system(self):
        """The :class:`~kinetics.odesystem.OdeSystem` (cached per structure). Cheap: its equations are derived
        on first use of one of them (``rhs``, ``jacobian``, ``observables``...), which a native solver found in
        the on-disk cache never needs."""
        if self._system is None:
            from .odesystem import system_of

            self._system = system_of(self.scheme)
        return self._system

    def code_identity(self) -> str:
        """What the generated code of this model depends on: the structure key and the code generator's
        identity (:func:`kinetics.codegen.generator_identity`). With the compiler and the integrator template
        (added by :func:`kinetics.native.build_keyed`) it names a compiled library in the on-disk cache, so
        that library is found without deriving or generating anything.

        Examples
        --------
        >>> import kinetics as kx
        >>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)],
        ...               parameters=[kx.Parameter("k", 500.0, "1/s")], reactions=[kx.reaction("A ->", "k")])
        >>> kx.compile(s).code_identity() == kx.compile(s.with_parameters(k=2.0)).code_identity()
        True
        >>> kx.compile(s).code_identity() == kx.compile(s.rename({"A": "B"})).code_identity()
        False
        """
        from .codegen import generator_identity

        return f"nmdakin-model\x1f{self.key}\x1f{generator_identity()}"

    def observable_function(self):
        """``f(t, Y, P, U) -> [values per observable]`` (the signature of :attr:`numpy`'s ``observables``): the
        loaded native library's when it has them (no symbolic work), else the lambdified one.

        Examples
        --------
        >>> import kinetics as kx
        >>> s = kx.Scheme("decay", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 1.0, "1/ms")],
        ...               reactions=[kx.reaction("A ->", "k")], observables=[kx.Observable("twice", "2*A")])
        >>> res = kx.simulate(s, t_end=1.0, n_points=3)
        >>> [float(v) for v in kx.compile(s).observable_function()(0.0, [3.0], [1.0], [])[0]]
        [6.0]
        """
        from .jit import cached_solver

        solver = _NATIVE.get(self.key) or cached_solver(self.key)
        if getattr(solver, "n_observables", -1) >= 0:
            return solver.observables
        return self.numpy.observables

    @property
    def numpy(self):
        """Lambdified ``rhs``, ``jac`` and ``observables`` (:class:`~kinetics.codegen.NumpyFunctions`)."""
        from .codegen import numpy_functions

        system = self.system
        return _NUMPY.get_or_build(self.key, lambda: numpy_functions(system))

    # ------------------------------------------------------------------ parameters and states
    @property
    def factors(self) -> np.ndarray:
        """Per parameter, the factor from its declared unit to the scheme's unit system."""
        return self._factors

    def parameter_values(self, overrides: Mapping | None = None, *, check_bounds: bool = True) -> dict:
        """Declared-unit values ``{name: value}``: the scheme's, with ``overrides`` validated and applied
        (names known, finite numbers, inside the parameter's bounds unless ``check_bounds=False`` — a fit
        checks its own bounds)."""
        values = dict(self._base_values)
        if overrides:
            if not isinstance(overrides, Mapping):
                raise ArgumentError("parameter overrides must be a mapping of parameter name to value, got "
                                    f"{type(overrides).__name__}")
            for k, v in overrides.items():
                values[k] = self._checked_value(k, v, check_bounds)
        return values

    def parameter_vector(self, overrides: Mapping | None = None, *, check_bounds: bool = True) -> np.ndarray:
        """The parameter vector in the scheme's unit system (what compiled code reads), with ``overrides``
        (declared units) applied. The one place the engine builds it."""
        if not overrides:
            return self._base_vector.copy()
        values = self.parameter_values(overrides, check_bounds=check_bounds)
        return np.array([values[n] for n in self.parameter_names], dtype=float) * self._factors

    def parameter_matrix(self, table: Mapping) -> np.ndarray:
        """``(m, n_param)`` model-unit vectors of ``m`` parameter sets: ``table`` maps names to arrays of
        ``m`` declared-unit values (validated against bounds); parameters not named keep the scheme's value."""
        arrays = {}
        m = None
        for k, v in table.items():
            self._check_name(k)
            arr = np.asarray(v, dtype=float).ravel()
            if m is None:
                m = arr.size
            if arr.size != m or m == 0:
                raise ArgumentError(f"every swept parameter needs the same, non-zero number of values; "
                                    f"`{k}` has {arr.size}")
            if not np.all(np.isfinite(arr)):
                raise ArgumentError(f"swept parameter `{k}` has non-finite values")
            lo, hi = self._bounds[k]
            if np.any(arr < lo) or np.any(arr > hi):
                raise SchemeError(f"swept parameter `{k}` has values outside its bounds [{lo}, {hi}]")
            arrays[k] = arr
        if m is None:
            raise ArgumentError("no parameter sets given")
        P = np.tile(self._base_vector, (m, 1))
        for k, arr in arrays.items():
            j = self.parameter_names.index(k)
            P[:, j] = arr * self._factors[j]
        return P

    def _check_name(self, k):
        if k not in self._base_values:
            raise SchemeError(f"unknown parameter `{k}` in scheme `{self.scheme.name}`"
                              + did_you_mean(str(k), self._base_values)
                              + (f" (`{k}` is an input: a protocol drives it)" if k in self.input_names else ""))

    def _checked_value(self, k, v, check_bounds: bool = True) -> float:
        self._check_name(k)
        try:
            fv = float(v)
        except (TypeError, ValueError):
            raise ArgumentError(f"parameter `{k}` must be a number, got {v!r}") from None
        if not math.isfinite(fv):
            raise SchemeError(f"parameter `{k}` must be finite, got {fv}")
        lo, hi = self._bounds[k]
        if check_bounds and not lo <= fv <= hi:
            raise SchemeError(f"parameter `{k}` = {fv} is outside its bounds [{lo}, {hi}]")
        return fv

    def initial_state(self, y0=None, *, tolerance=0.0) -> np.ndarray:
        """The initial state vector: the scheme's initial values with ``y0`` (a mapping of species -> value,
        or a full vector) applied.

        A non-negative species may not start below ``-tolerance`` (a scalar or one value per state, e.g. the
        solver's ``atol``: round-off of a steady state or of a previous run's final state is accepted).
        """
        vec = np.array([s.initial for s in self.scheme.species], dtype=float)
        if y0 is None:
            return vec
        if isinstance(y0, Mapping):
            for k, v in y0.items():
                if k not in self.state_index:
                    raise SchemeError(f"unknown species `{k}` in `y0` for scheme `{self.scheme.name}`"
                                      + did_you_mean(str(k), self.state_names))
                try:
                    vec[self.state_index[k]] = float(v)
                except (TypeError, ValueError):
                    raise ArgumentError(f"`y0` of `{k}` must be a number, got {v!r}") from None
        else:
            try:
                arr = np.asarray(y0, dtype=float)
            except (TypeError, ValueError):
                raise ArgumentError("`y0` must be a mapping of species to values or one number per species") \
                    from None
            if arr.shape != vec.shape:
                raise ArgumentError(f"`y0` must have one value per species ({len(vec)}), got shape {arr.shape}")
            vec = arr.copy()
        if not np.all(np.isfinite(vec)):
            raise ArgumentError("`y0` must be finite")
        tol = np.broadcast_to(np.asarray(tolerance, dtype=float), vec.shape)
        for i, s in enumerate(self.scheme.species):
            if s.nonnegative and vec[i] < -tol[i]:
                raise ArgumentError(f"initial value of species `{s.name}` is negative ({vec[i]:g}) in `y0`, but "
                                    f"`{s.name}` is a non-negative species (a concentration or amount); give a "
                                    f"value >= 0, or declare it Species(..., nonnegative=False)")
        return vec

    def input_defaults(self) -> np.ndarray:
        return np.array([u.default for u in self.scheme.inputs], dtype=float)

    # ------------------------------------------------------------------ protocols
    def schedule(self, protocol, t0: float, t_end: float):
        """The :class:`~kinetics.protocol.schedule.Schedule` of ``protocol`` (None: inputs at their defaults) on
        ``[t0, t_end]``."""
        from .protocol import Protocol

        if protocol is None:
            protocol = Protocol.empty()
        if not isinstance(protocol, Protocol):
            raise ArgumentError(f"`protocol` must be a kinetics.protocol.Protocol, got {type(protocol).__name__}")
        protocol.check_window(t0, t_end)
        defaults = {u.name: u.default for u in self.scheme.inputs}
        key = (self.key, self.state_names, self.input_names, protocol, float(t0), float(t_end),
               tuple(defaults.values()))

        def build():
            return protocol.schedule(t0, t_end, inputs=self.input_names, defaults=defaults, states=self.state_names)

        try:
            hash(key)
        except TypeError:                 # a component holding something unhashable: compiled every time
            return build()
        return _SCHEDULES.get_or_build(key, build)

    def segments(self, schedule):
        """The :class:`~kinetics.native.SegmentArrays` of ``schedule`` for the native solver (built once per
        schedule)."""
        from .native import SegmentArrays

        return _SEGMENTS.get_or_build((schedule, self.state_names),
                                      lambda: SegmentArrays.from_schedule(schedule, self.state_index))

    # ------------------------------------------------------------------ solvers
    def native_solver(self):
        """The loaded solver of the engine's integrator: the native C library (generated, compiled and cached on
        first use), or the numba JIT solver (:mod:`kinetics.jit`, the same interface) when the backend is not
        ``native`` (:mod:`kinetics.jit.backend`: no working C compiler, or ``$NMDAKIN_BACKEND``).

        The library is looked up in the on-disk cache by :meth:`code_identity` first: the equations are derived
        and the C source generated only to build a missing (or rejected) entry. If that build fails under the
        ``auto`` backend (the compiler works but not for this model, or no folder can hold the library), this
        model uses the JIT path, with one warning; with ``NMDAKIN_BACKEND=native`` it raises
        :class:`~kinetics.errors.CompilerError`."""
        from .jit import backend, model_solver

        if backend.resolve() != "native":
            return model_solver(self)

        def build():
            from . import native
            from .codegen import c_source

            path = native.build_keyed(self.code_identity(), lambda: c_source(self.system))
            return native.NativeSolver(path, len(self.state_names), len(self.parameter_names),
                                       len(self.input_names))

        failure_key = self._failure_key()
        try:
            if failure_key in _NATIVE_FAILED:
                raise _NATIVE_FAILED[failure_key]
            return _NATIVE.get_or_build(self.key, build)
        except CompilerError as exc:
            _NATIVE_FAILED[failure_key] = exc
            if backend.requested() != "auto":
                raise
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "the C compiler failed"
            backend.warn_once(("model", failure_key, reason),
                              f"the native solver of scheme `{self.scheme.name}` could not be built ({reason}): "
                              f"using the numba JIT path for it")
            return model_solver(self)

    def _failure_key(self) -> tuple:
        """What a failed native build of this model depends on (not retried in the process while it holds)."""
        import os

        return self.key, os.environ.get("CC"), os.environ.get("NMDAKIN_CACHE_DIR")

    def sensitivity_solver(self, parameters=(), initial=()):
        """The :class:`~kinetics.fitting.sensitivity.SensitivitySystem` for forward sensitivities with respect to
        ``parameters`` (names) and the initial values of ``initial`` (species), compiled on first use: in C, or
        on the numba JIT path when :meth:`native_solver` is a JIT solver (the backend is not ``native``, or this
        model's native build failed)."""
        from .fitting.sensitivity import SensitivitySystem
        from .jit import backend, sensitivity_system

        system = self.system
        parameters, initial = tuple(parameters), tuple(initial)
        if backend.resolve() != "native" or (backend.requested() == "auto"
                                             and self._failure_key() in _NATIVE_FAILED):
            return _SENSITIVITY.get_or_build((self.key, parameters, initial, "jit"),
                                             lambda: sensitivity_system(system, parameters, initial))
        return _SENSITIVITY.get_or_build((self.key, parameters, initial),
                                         lambda: SensitivitySystem(system, parameters, initial))

    # ------------------------------------------------------------------ observables
    def observables_on(self, t, y, p_vector, schedule) -> dict:
        """``{name: values over t}`` of every observable on a time-first trajectory ``y`` (n_t, n_states)."""
        if not self.observable_names:
            return {}
        t = np.asarray(t, dtype=float)
        U = schedule.input_values(t).T if self.input_names else np.zeros((0, t.size))
        with np.errstate(all="ignore"):
            vals = self.observable_function()(t, np.asarray(y).T, p_vector, U)
        return {n: np.broadcast_to(np.asarray(v, dtype=float), t.shape).copy()
                for n, v in zip(self.observable_names, vals)}
