"""Hybrid stochastic/deterministic simulation: some species as exact counts, the rest as ODEs driven by them.

The caller splits a scheme's species in two by name: the **stochastic** part (e.g. the states of ``N``
receptors) is simulated exactly (the SSA of :mod:`kinetics.stochastic.ssa`), the **deterministic** rest (a
calcium pool, plasticity, release) by the ODE solver, driven by the stochastic counts.

Algorithm (exact between events)
--------------------------------
The method needs the stochastic part's propensities to depend only on time, inputs and parameters, never on a
deterministic state (checked: :class:`~kinetics.errors.SchemeError` otherwise). Then the stochastic part is a
Markov jump process on its own, and the coupling is one-way:

1. an exact SSA run of the stochastic sub-scheme (direct method, thinning under waveforms) records the times at
   which the *coupled* species — the stochastic species that the deterministic part reads, through its
   reactions' rate constants, rate rules or the observables they use — change, with their counts after each
   change (an event log kept by the native loop, :meth:`~kinetics.stochastic.native.NativeSSA.run_logged`;
   the Python engine without a C compiler);
2. the deterministic sub-scheme, where each coupled species is an input, is integrated by the native ODE
   solver with those inputs piecewise constant (``count / Omega``) between the logged times: every logged time
   is a segment boundary, where the solver restarts. Between two events the ODE is integrated with its inputs
   exactly as they are, so the only error is the ODE solver's tolerance.

Events that leave every coupled species unchanged (e.g. a glycine site binding on a closed receptor) cost the
ODE nothing. The outputs are the stochastic counts (converted to the scheme's units, ``count / Omega``) and the
deterministic states on one time grid, per run; observables of the whole scheme are computed from them.

Refused (:class:`~kinetics.errors.SchemeError`): a reaction with species on both sides of the split, a rate
rule on a stochastic species, a stochastic propensity reading a deterministic species (directly or through an
observable), and schemes with discrete events.

Random numbers: run ``i`` uses the same per-run stream machinery as :func:`kinetics.stochastic.ssa`
(``SeedSequence(entropy=seed, spawn_key=(i,))``), so a run is the same whatever the executor or chunking.
With ``initial="multinomial"`` the initial copies are drawn from a second child stream ``(i, 1)``.

Examples
--------
A channel ``C <-> O`` (stochastic, 50 copies) charges a pool ``P`` (deterministic, ``dP/dt = g O - P / tau``):

>>> import kinetics as kx
>>> s = kx.Scheme("pool", species=[kx.Species("C", 1.0, "1"), kx.Species("O", 0.0, "1"),
...                                kx.Species("P", 0.0, "1", nonnegative=False)],
...     parameters=[kx.Parameter("a", 0.5, "1/ms"), kx.Parameter("b", 1.0, "1/ms"),
...                 kx.Parameter("g", 1.0, "1/ms"), kx.Parameter("tau", 5.0, "ms")],
...     reactions=[kx.reaction("C <-> O", "a", "b")], rate_rules=[kx.RateRule("P", "g*O - P/tau")])
>>> res = hybrid(s, t_end=20.0, stochastic=["C", "O"], n_copies=50, n_runs=4, seed=1)
>>> res.y.shape, res.coupled
((4, 101, 3), ('O',))
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ArgumentError, SchemeError, did_you_mean
from ..scheme import Input, as_scheme

__all__ = ["hybrid", "HybridResult", "HybridSplit", "split"]


# --------------------------------------------------------------------------- the split
@dataclass(frozen=True, eq=False)
class HybridSplit:
    """A scheme split into a stochastic and a deterministic sub-scheme (:func:`split`).

    Attributes
    ----------
    scheme : Scheme
        The whole scheme.
    stochastic, deterministic : tuple of str
        Species of each part, in the scheme's order.
    coupled : tuple of str
        Stochastic species the deterministic part reads (inputs of :attr:`deterministic_scheme`).
    stochastic_scheme, deterministic_scheme : Scheme
        The two parts; both keep every parameter and input of the scheme, in its order.
    """

    scheme: object
    stochastic: tuple
    deterministic: tuple
    coupled: tuple
    stochastic_scheme: object
    deterministic_scheme: object


def _closure(names, deps) -> set:
    """``names`` and every observable they depend on (transitively)."""
    out, todo = set(), list(names)
    while todo:
        n = todo.pop()
        if n in out:
            continue
        out.add(n)
        todo.extend(deps.get(n, ()))
    return out


def split(model, stochastic) -> HybridSplit:
    """Split ``model`` into the stochastic species ``stochastic`` and the deterministic rest (checked).

    Raises
    ------
    ArgumentError
        ``stochastic`` empty, with unknown or repeated names, or holding every species.
    SchemeError
        What the hybrid method cannot simulate (see the module docstring).

    Examples
    --------
    >>> import kinetics as kx
    >>> s = kx.Scheme("pool", species=[kx.Species("C", 1.0, "1"), kx.Species("O", 0.0, "1"),
    ...                                kx.Species("P", 0.0, "1")],
    ...     parameters=[kx.Parameter("a", 0.5, "1/ms"), kx.Parameter("b", 1.0, "1/ms"),
    ...                 kx.Parameter("tau", 5.0, "ms")],
    ...     reactions=[kx.reaction("C <-> O", "a", "b"), kx.reaction("-> P", "O/tau"), kx.reaction("P ->", "1/tau")])
    >>> split(s, ["C", "O"]).coupled
    ('O',)
    """
    scheme = as_scheme(model)
    names = scheme.species_names
    if isinstance(stochastic, str) or not hasattr(stochastic, "__iter__"):
        raise ArgumentError(f"`stochastic` must be a list of species names, got {stochastic!r}")
    stochastic = list(stochastic)
    for n in stochastic:
        if n not in names:
            raise ArgumentError(f"`stochastic`: `{n}` is not a species of scheme `{scheme.name}`"
                                + did_you_mean(str(n), names))
    if len(set(stochastic)) != len(stochastic):
        raise ArgumentError("`stochastic` names a species twice")
    if not stochastic:
        raise ArgumentError("`stochastic` is empty: name the species to simulate exactly (kinetics.simulate "
                            "solves the whole scheme as ODEs)")
    S = set(stochastic)
    if S == set(names):
        raise ArgumentError("every species is stochastic: nothing is left for the ODE; use kinetics.ssa")
    if scheme.events:
        raise SchemeError(f"scheme `{scheme.name}` has discrete events ({', '.join(e.name for e in scheme.events)}): "
                          "the hybrid method does not run them")
    obs = {o.name: o for o in scheme.observables}
    odeps = {n: {s.name for s in o.expr.free_symbols} for n, o in obs.items()}

    def species_read(expr) -> set:
        direct = {s.name for s in expr.free_symbols}
        return {n for n in _closure(direct, odeps) if n in names}

    for rr in scheme.rate_rules:
        if rr.species in S:
            raise SchemeError(f"species `{rr.species}` has a rate rule: a rate rule is a deterministic ODE term, "
                              "so its species cannot be in the stochastic part")
    s_reactions, d_reactions = [], []
    for r in scheme.reactions:
        inside = set(r.species)
        if inside & S and inside - S:
            raise SchemeError(f"reaction `{r}` of scheme `{scheme.name}` has stochastic species "
                              f"({', '.join(sorted(inside & S))}) and deterministic ones "
                              f"({', '.join(sorted(inside - S))}): each reaction must lie on one side of the split")
        if inside & S:
            for e in r.expressions():
                bad = species_read(e) - S
                if bad:
                    raise SchemeError(f"reaction `{r}` of the stochastic part reads the deterministic species "
                                      f"{', '.join(sorted(bad))} (directly or through an observable): the hybrid "
                                      "method needs the stochastic propensities to depend on time, inputs and "
                                      "parameters only; make those species stochastic too, or simulate the "
                                      "scheme as ODEs")
            s_reactions.append(r)
        else:
            d_reactions.append(r)
    if not s_reactions:
        raise SchemeError(f"no reaction of scheme `{scheme.name}` changes the stochastic species "
                          f"{', '.join(stochastic)}")
    # what the deterministic part reads, and the observables it needs
    d_exprs = [e for r in d_reactions for e in r.expressions()] + [rr.expr for rr in scheme.rate_rules]
    d_direct = set().union(*({s.name for s in e.free_symbols} for e in d_exprs)) if d_exprs else set()
    d_needed = _closure(d_direct, odeps)
    coupled = tuple(n for n in names if n in S and n in d_needed)
    stoch_order = tuple(n for n in names if n in S)
    det_order = tuple(n for n in names if n not in S)
    s_obs = tuple(o for o in scheme.observables if not (_closure({o.name}, odeps) & (set(names) - S)))
    d_obs = tuple(o for o in scheme.observables if o.name in d_needed)
    species = {sp.name: sp for sp in scheme.species}
    stoch_scheme = scheme.replace(name=f"{scheme.name}_stochastic", species=tuple(species[n] for n in stoch_order),
                                  reactions=tuple(s_reactions), rate_rules=(), observables=s_obs, events=())
    c_inputs = tuple(Input(n, species[n].initial, species[n].unit,
                           note="stochastic species (hybrid): piecewise constant between SSA events")
                     for n in coupled)
    det_scheme = scheme.replace(name=f"{scheme.name}_deterministic", species=tuple(species[n] for n in det_order),
                                inputs=scheme.inputs + c_inputs, reactions=tuple(d_reactions), observables=d_obs,
                                events=())
    return HybridSplit(scheme=scheme, stochastic=stoch_order, deterministic=det_order, coupled=coupled,
                       stochastic_scheme=stoch_scheme, deterministic_scheme=det_scheme)


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class HybridResult:
    """``n_runs`` hybrid runs on a time grid.

    Attributes
    ----------
    t : ndarray, shape (n_t,)
    names : tuple of str
        The recorded species and observables (``record`` of :func:`hybrid`; default every species).
    y : ndarray, shape (n_runs, n_t, len(names))
        Values in the scheme's units: ``count / omega`` for the stochastic species, the ODE solution for the
        rest, and the observables computed from them.
    stochastic, coupled : tuple of str
        The stochastic species; those the ODE part reads.
    omega : float
        Copies (or molecules) per unit of a stochastic species.
    seed : int
        The root seed (run ``i`` used child stream ``i``).
    n_events : ndarray of int64, shape (n_runs,)
        Reactions fired by the stochastic part per run.
    n_switches : ndarray of int64, shape (n_runs,)
        Changes of the coupled species per run (the ODE restarts there).
    ssa_method : str
        The SSA engine that ran (``"native"`` or ``"python"``).

    Examples
    --------
    >>> import kinetics as kx
    >>> from kinetics.stochastic import hybrid
    >>> s = kx.Scheme("pool", species=[kx.Species("C", 1.0, "1"), kx.Species("O", 0.0, "1"),
    ...                                kx.Species("P", 0.0, "1", nonnegative=False)],
    ...     parameters=[kx.Parameter("a", 0.5, "1/ms"), kx.Parameter("b", 1.0, "1/ms"),
    ...                 kx.Parameter("tau", 5.0, "ms")],
    ...     reactions=[kx.reaction("C <-> O", "a", "b")], rate_rules=[kx.RateRule("P", "O/tau - P/tau")],
    ...     observables=[kx.Observable("twice_P", "2*P")])
    >>> res = hybrid(s, t_end=10.0, t_eval=[0.0, 10.0], stochastic=["C", "O"], n_copies=10, n_runs=3, seed=0,
    ...              record=["O", "P", "twice_P"])
    >>> res["P"].shape, bool(np.allclose(res["twice_P"], 2 * res["P"]))
    ((3, 2), True)
    """

    t: np.ndarray
    names: tuple
    y: np.ndarray
    stochastic: tuple
    coupled: tuple
    omega: float
    seed: int
    n_events: np.ndarray
    n_switches: np.ndarray
    ssa_method: str = "native"

    def __post_init__(self):
        for name in ("t", "y", "n_events", "n_switches"):
            a = np.array(getattr(self, name))
            a.setflags(write=False)
            object.__setattr__(self, name, a)

    @property
    def n_runs(self) -> int:
        return int(self.y.shape[0])

    def __getitem__(self, name) -> np.ndarray:
        """Recorded species or observable ``name`` of every run (scheme units), shape ``(n_runs, n_t)``."""
        if name not in self.names:
            raise ArgumentError(f"`{name}` was not recorded in this result" + did_you_mean(str(name), self.names)
                                + f"; recorded: {list(self.names)}")
        return self.y[:, :, self.names.index(name)]

    def mean(self, name) -> np.ndarray:
        """Mean over runs, shape ``(n_t,)``."""
        return self[name].mean(axis=0)

    def var(self, name, ddof: int = 1) -> np.ndarray:
        """Variance over runs (unbiased by default)."""
        if self.n_runs <= ddof:
            raise ArgumentError(f"a variance with ddof={ddof} needs more than {ddof} runs")
        return self[name].var(axis=0, ddof=ddof)

    def std(self, name, ddof: int = 1) -> np.ndarray:
        return np.sqrt(self.var(name, ddof))

    def quantile(self, q, name) -> np.ndarray:
        """Quantile(s) ``q`` over runs (``numpy.quantile``, linear interpolation)."""
        q = np.asarray(q, dtype=float)
        if np.any((q < 0) | (q > 1)) or not np.all(np.isfinite(q)):
            raise ArgumentError(f"quantiles must be in [0, 1], got {q}")
        return np.quantile(self[name], q, axis=0)

    def __repr__(self) -> str:
        return (f"<HybridResult {self.n_runs} runs x {self.t.size} times x {len(self.names)} outputs, "
                f"{len(self.stochastic)} stochastic species (omega={self.omega:g}), seed={self.seed}>")


# --------------------------------------------------------------------------- one run
def refine_segments(schedule, times, values, n_inputs, keep_jumps):
    """The native solver's arrays of ``schedule`` with extra input columns piecewise constant: ``values[k]``
    from ``times[k]`` on (``times[0] == t0``, increasing). ``keep_jumps[q]``: keep jump ``q`` (its target index
    in the deterministic state vector, or -1 to drop it)."""
    from ..native import SegmentArrays

    B = np.asarray(schedule.boundaries, dtype=float)
    tol = 1e-12 * max(abs(B[0]), abs(B[-1]), B[-1] - B[0])
    nb = np.union1d(B, times[(times > B[0]) & (times < B[-1])])
    if nb.size > B.size:        # an event within round-off of a boundary or of another event joins it
        isb = np.isin(nb, B)
        gap_prev = np.diff(nb, prepend=-np.inf)
        next_b = np.append(isb[1:], False)
        gap_next = np.diff(nb, append=np.inf)
        nb = nb[isb | ~((gap_prev <= tol) | ((gap_next <= tol) & next_b))]
    seg = np.clip(np.searchsorted(B, nb[:-1], side="right") - 1, 0, len(B) - 2)
    const = np.asarray(schedule.const, dtype=float).reshape(len(B) - 1, n_inputs)[seg]
    ev = np.clip(np.searchsorted(times, nb[:-1] + tol, side="right") - 1, 0, len(times) - 1)
    const = np.concatenate([const, values[ev]], axis=1)

    def spread(ptr, take):
        """CSR rows ``ptr[seg]:ptr[seg + 1]`` for the sub-segments where ``take``: (new pointer, indices)."""
        counts = np.where(take, (ptr[1:] - ptr[:-1])[seg], 0)
        new_ptr = np.concatenate([[0], np.cumsum(counts)])
        idx = np.repeat(ptr[seg] - new_ptr[:-1], counts) + np.arange(new_ptr[-1])
        return new_ptr, idx.astype(np.int64)

    term_ptr, idx = spread(np.asarray(schedule.term_ptr, dtype=np.int64), np.ones(len(seg), bool))
    term_input = np.asarray(schedule.term_input, dtype=np.int64)[idx]
    term_data = np.asarray(schedule.term_data, dtype=float).reshape(-1, 4)[idx]
    # the sub-segment that starts an original segment gets its jumps (those on deterministic species)
    jp_all, jidx = spread(np.asarray(schedule.jump_ptr, dtype=np.int64), np.isin(nb[:-1], B[:-1]))
    keep = keep_jumps[jidx] >= 0
    owner = np.repeat(np.arange(len(seg)), np.diff(jp_all))[keep]
    kept_per = np.bincount(owner, minlength=len(seg))
    jidx = jidx[keep]
    return SegmentArrays(boundaries=nb, const=const, term_ptr=term_ptr, term_input=term_input, term_data=term_data,
                         jump_ptr=np.concatenate([[0], np.cumsum(kept_per)]), jump_index=keep_jumps[jidx],
                         jump_kind=np.asarray(schedule.jump_kind, dtype=np.int64)[jidx],
                         jump_value=np.asarray(schedule.jump_value, dtype=float)[jidx])


def _initial_counts(ch, y_s, initial, rng):
    if initial == "round":
        return ch.counts(y_s)
    f = np.asarray(y_s, dtype=float)
    total = f.sum()
    if np.any(f < -1e-9) or abs(total - 1.0) > 1e-6:
        raise ArgumentError(f"initial='multinomial' needs the stochastic species to be fractions of one pool "
                            f"(non-negative, sum 1); they sum to {total:.9g}")
    f = np.clip(f, 0.0, None)
    return rng.multinomial(int(round(ch.omega)), f / f.sum()).astype(np.int64)


def _python_run(system, p, plan, n0, t_eval, rng, max_events, watch):
    """The Python engine's run (:func:`kinetics.stochastic.ssa._run`) with the event log of the native one."""
    from .ssa import _run

    events = []
    out, nf = _run(system, p, plan, n0, t_eval, rng, events=events, max_events=max_events)
    if not events:
        return out, nf, np.zeros(0), np.zeros((0, watch.size), dtype=np.int64)
    t = np.array([e[0] for e in events])
    x = np.array([e[2] for e in events], dtype=np.int64).reshape(len(events), -1)[:, watch]
    prev = np.vstack([np.asarray(n0, dtype=np.int64)[watch][None, :], x[:-1]])
    changed = np.any(x != prev, axis=1)
    return out, nf, t[changed], x[changed]


def _chunk(task):
    """Runs ``indices`` (a top-level function: picklable for process and dask executors)."""
    (stoch_scheme, det_scheme, n_copies, volume, p, plan, varying, y0_s, y0_d, schedule, t_eval, watch, keep_jumps,
     entropy, indices, max_events, initial, rtol, atol, method, full_scheme, s_idx, d_idx, rec_species,
     rec_obs, ssa_method) = task
    from ..model import compile as compile_model
    from .native import native_ssa, plan_arrays
    from .propensities import channels
    from .ssa import _native_seeds, _stream, stochastic_system

    ch = channels(stoch_scheme, volume=volume, n_copies=n_copies)
    if ssa_method == "native":
        nat = native_ssa(ch)
        arrays = plan_arrays(plan) + (varying,)
    else:
        system = stochastic_system(ch)
    solver = compile_model(det_scheme).native_solver()
    n_in = len(schedule.inputs)
    if rec_obs:
        obs_fn = compile_model(full_scheme).observable_function()
        U = schedule.input_values(t_eval).T
    n_all = len(s_idx) + len(d_idx)
    ys, fired, switches = [], [], []
    seeds = _native_seeds(entropy, indices)
    for i, seed in zip(indices, seeds):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy=entropy, spawn_key=(int(i), 1))))
        n0 = _initial_counts(ch, y0_s, initial, rng)
        if ssa_method == "native":
            out, nf, ev_t, ev_x = nat.run_logged(p, arrays, n0, t_eval, seed, max_events, watch)
        else:
            out, nf, ev_t, ev_x = _python_run(system, p, plan, n0, t_eval, _stream(entropy, i), max_events, watch)
        times = np.concatenate([[schedule.t0], ev_t])
        values = np.concatenate([n0[watch][None, :], ev_x], axis=0) / ch.omega
        seg = refine_segments(schedule, times, values, n_in, keep_jumps)
        y_d, _, _ = solver.solve(p, y0_d, seg, t_eval, method=method, rtol=rtol, atol=atol)
        y = np.empty((t_eval.size, n_all))
        y[:, s_idx] = out / ch.omega
        y[:, d_idx] = y_d
        cols = [y[:, rec_species]]
        if rec_obs:
            vals = obs_fn(t_eval, y.T, p, U)
            cols.append(np.stack([np.broadcast_to(np.asarray(vals[k], dtype=float), t_eval.shape)
                                  for k in rec_obs], axis=1))
        ys.append(np.concatenate(cols, axis=1))
        fired.append(nf)
        switches.append(len(ev_t))
    return ys, np.array(fired, dtype=np.int64), np.array(switches, dtype=np.int64)


def hybrid(model, protocol=None, *, t_end, stochastic, t_eval=None, n_runs=1, seed=None, n_copies=None,
           volume=None, parameters=None, y0=None, t0=0.0, initial: str = "round", executor=None, progress=None,
           chunk_size=None, rtol: float = 1e-6, atol: float = 1e-10, method: str = "auto",
           max_events: int = 100_000_000, record=None, ssa_method: str = "auto") -> HybridResult:
    """Hybrid runs of ``model``: the species ``stochastic`` exact (SSA), the rest ODEs driven by them.

    Parameters
    ----------
    model : Scheme (or an object with ``.scheme``)
    protocol : Protocol, optional
        Inputs and jumps (jumps on stochastic species are converted to counts, rounded).
    t_end : float
        End time; ``t0`` the start (default 0).
    stochastic : list of str
        The species simulated exactly (see :func:`split` for what is checked).
    t_eval : array_like, optional
        Output times in ``[t0, t_end]`` (default 101 evenly spaced).
    n_runs : int
    seed : int, optional
        Root seed (None: a fresh one, recorded in the result).
    n_copies, volume : optional
        Exactly one: the copy number of a pool whose species are fractions, or litres (as in
        :func:`kinetics.ssa`).
    parameters : mapping, optional
        Parameter overrides in their declared units.
    y0 : mapping or array, optional
        Initial values (scheme units) of any species.
    initial : {"round", "multinomial"}
        How the stochastic species start: ``"round"`` the nearest counts to ``y0 * Omega`` (as
        :func:`kinetics.ssa`); ``"multinomial"`` each of the ``n_copies`` copies in a state drawn from the
        fractions ``y0`` (they must sum to 1): the stationary distribution of independent copies when ``y0`` is
        the steady state.
    executor, progress, chunk_size
        As in :func:`kinetics.ssa`.
    rtol, atol, method
        Tolerances and method of the ODE part (:func:`kinetics.simulate`'s native methods).
    max_events : int
        Refuse runs whose stochastic part fires more reactions than this.
    ssa_method : {"auto", "native", "python"}
        The SSA engine of the stochastic part (as ``method`` of :func:`kinetics.ssa`: ``"auto"`` is the native
        loop when a C compiler works, else Python; the two draw different streams).
    record : list of str, optional
        The species and observables of the scheme to keep (default: every species); the result holds
        ``n_runs x len(t_eval) x len(record)`` numbers.

    Returns
    -------
    HybridResult

    Raises
    ------
    SchemeError
        A split the method cannot simulate (:func:`split`), or a stochastic part the SSA refuses.
    ArgumentError
        Bad arguments.

    Examples
    --------
    >>> import kinetics as kx
    >>> from kinetics.stochastic import hybrid
    >>> s = kx.Scheme("pool", species=[kx.Species("C", 1.0, "1"), kx.Species("O", 0.0, "1"),
    ...                                kx.Species("P", 0.0, "1", nonnegative=False)],
    ...     parameters=[kx.Parameter("a", 0.5, "1/ms"), kx.Parameter("b", 1.0, "1/ms"),
    ...                 kx.Parameter("tau", 5.0, "ms")],
    ...     reactions=[kx.reaction("C <-> O", "a", "b")], rate_rules=[kx.RateRule("P", "O/tau - P/tau")])
    >>> res = hybrid(s, t_end=30.0, t_eval=[30.0], stochastic=["C", "O"], n_copies=100, n_runs=200, seed=2)
    >>> abs(float(res.mean("P")[-1]) - 1 / 3) < 0.02        # the ODE's 1/3 (sampling sd about 0.003)
    True
    """
    from ..executor import SerialExecutor, as_executor
    from ..model import compile as compile_model
    from .native import native_ssa
    from .propensities import channels
    from .ssa import _check_time, _entropy, _plan, ensemble_grid, segment_varying, stochastic_system

    t_end, t0 = _check_time(t_end, t0)
    n_runs, t_eval = ensemble_grid(n_runs, t_eval, t0, t_end)
    if initial not in ("round", "multinomial"):
        raise ArgumentError(f"`initial` must be 'round' or 'multinomial', got {initial!r}")
    if initial == "multinomial" and n_copies is None:
        raise ArgumentError("initial='multinomial' draws the state of each of `n_copies` copies; give n_copies")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
            raise ArgumentError(f"`{name}` must be a positive number, got {v!r}")
    entropy = _entropy(seed)
    sp = split(model, stochastic)
    ch = channels(sp.stochastic_scheme, volume=volume, n_copies=n_copies)
    if ssa_method not in ("auto", "native", "python"):
        raise ArgumentError(f"`ssa_method` must be 'auto', 'native' or 'python', got {ssa_method!r}")
    if ssa_method != "python":
        from ..errors import CompilerError

        try:
            native_ssa(ch)               # compile (or load) once here
            ssa_method = "native"
        except CompilerError:
            if ssa_method == "native":
                raise
            ssa_method = "python"
    stochastic_system(ch)                # build (and check) the Python functions once here
    full = compile_model(sp.scheme)
    p = full.parameter_vector(parameters)
    y_all = full.initial_state(y0)
    sched = full.schedule(protocol, t0, t_end)
    index = {n: i for i, n in enumerate(sp.scheme.species_names)}
    s_idx = [index[n] for n in sp.stochastic]
    d_idx = [index[n] for n in sp.deterministic]
    s_index = {n: i for i, n in enumerate(sp.stochastic)}
    d_index = {n: i for i, n in enumerate(sp.deterministic)}
    # the SSA plan: the schedule with only the jumps on stochastic species
    from ..protocol.schedule import Schedule

    jt = sched.jump_target
    keep_s = np.array([n in s_index for n in jt], dtype=bool)
    jp = np.asarray(sched.jump_ptr)
    s_ptr = np.concatenate([[0], np.cumsum([keep_s[jp[k]:jp[k + 1]].sum() for k in range(len(jp) - 1)])])
    s_sched = Schedule(inputs=sched.inputs, boundaries=sched.boundaries, const=sched.const, term_ptr=sched.term_ptr,
                       term_input=sched.term_input, term_data=sched.term_data,
                       jump_ptr=s_ptr.astype(np.int32), jump_target=tuple(n for n, k in zip(jt, keep_s) if k),
                       jump_kind=np.asarray(sched.jump_kind)[keep_s], jump_value=np.asarray(sched.jump_value)[keep_s])
    plan = _plan(s_sched, s_index, ch.omega)
    varying = segment_varying(ch, plan)
    keep_jumps = np.array([d_index.get(n, -1) for n in jt], dtype=np.int64)
    watch = np.array([s_index[n] for n in sp.coupled], dtype=np.int64)
    det = compile_model(sp.deterministic_scheme)
    det.native_solver()                  # build once here
    y0_s, y0_d = y_all[s_idx], y_all[d_idx]
    ex = SerialExecutor() if executor is None else as_executor(executor)
    owned = executor is not None and not hasattr(executor, "map")
    workers = max(1, int(getattr(ex, "n_workers", 1)))
    if chunk_size is None:
        chunk_size = max(1, math.ceil(n_runs / (4 * workers)))
    elif isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ArgumentError(f"`chunk_size` must be a positive integer, got {chunk_size!r}")
    chunks = [tuple(range(a, min(a + int(chunk_size), n_runs))) for a in range(0, n_runs, int(chunk_size))]
    if record is None:
        record = sp.scheme.species_names
    if isinstance(record, str) or not hasattr(record, "__iter__"):
        raise ArgumentError(f"`record` must be a list of species and observable names, got {record!r}")
    record = tuple(record)
    obs_names = sp.scheme.observable_names
    for n in record:
        if n not in index and n not in obs_names:
            raise ArgumentError(f"`record`: `{n}` is no species or observable of scheme `{sp.scheme.name}`"
                                + did_you_mean(str(n), tuple(index) + obs_names))
    if len(set(record)) != len(record) or not record:
        raise ArgumentError("`record` must name at least one output, each once")
    rec_species = [index[n] for n in record if n in index]
    rec_obs = [obs_names.index(n) for n in record if n not in index]
    names = tuple(n for n in record if n in index) + tuple(n for n in record if n not in index)
    if rec_obs:
        full.observable_function()
    tasks = [(sp.stochastic_scheme, sp.deterministic_scheme, n_copies, volume, p, plan, varying, y0_s, y0_d, sched,
              t_eval, watch, keep_jumps, entropy, idx, max_events, initial, float(rtol), float(atol), method,
              sp.scheme, s_idx, d_idx, rec_species, rec_obs, ssa_method) for idx in chunks]
    try:
        outs = ex.map(_chunk, tasks, desc=f"hybrid {sp.scheme.name}", progress=progress)
    finally:
        if owned:
            ex.close()
    y = np.stack([yr for o in outs for yr in o[0]])
    order = [names.index(n) for n in record]
    return HybridResult(t=t_eval, names=record, y=y[:, :, order], stochastic=sp.stochastic, coupled=sp.coupled,
                        omega=ch.omega, seed=entropy, n_events=np.concatenate([o[1] for o in outs]),
                        n_switches=np.concatenate([o[2] for o in outs]), ssa_method=ssa_method)
