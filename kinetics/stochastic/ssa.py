"""Exact stochastic simulation (Gillespie's direct method) of a scheme under a protocol, and ensembles of runs.

Algorithm
---------
Between two segment boundaries of the protocol's :class:`~kinetics.protocol.schedule.Schedule`:

* **constant inputs** (no input term in the segment and no rate constant depending on ``t``): Gillespie's
  direct method (Gillespie 1976, *J. Comput. Phys.* 22:403-434; 1977, *J. Phys. Chem.* 81:2340-2361). At the
  segment's end the pending waiting time is discarded and drawn again with the new inputs, which is exact
  because exponential waiting times are memoryless; jumps (``set``/``add``, converted to counts) are applied
  at the boundary, before outputs at that time, as in the ODE path.
* **time-varying inputs** (waveforms, wash-in, alpha functions, explicit ``t``): thinning (Lewis & Shedler 1979,
  *Naval Res. Logist. Q.* 26:403-413). Over a look-ahead window ``[t, t + h]`` each rate constant is bounded
  from above by interval arithmetic on its expression, with every input's range over the window computed
  exactly from its exponential-polynomial terms; candidate times are drawn at the bound's total rate ``B``
  and accepted with probability ``a0(t) / B``, the firing channel drawn with probabilities ``a_j(t) / a0(t)``.
  Exact: the input is never frozen over a step.

Two engines run this algorithm: the generated C loop of :mod:`kinetics.stochastic.native` (the default,
``method="auto"``: compiled once per scheme structure and cached like the ODE right-hand side; it releases the
GIL) and the Python loop of this module (``method="python"``, no compiler needed; :func:`ssa_path` uses it).

Outputs are the counts on a time grid (right-continuous: a grid time sees every event and jump at or before it).

Random numbers: every run ``i`` has its own stream, from ``numpy.random.SeedSequence(seed).spawn``-equivalent
children (``SeedSequence(entropy=seed, spawn_key=(i,))``: PCG64 in Python, four words seeding xoshiro256** in C),
so run ``i`` is the same whatever the executor, the chunking and ``n_runs`` (within one engine).
"""
from __future__ import annotations

import math
import threading

import numpy as np
import sympy

from ..errors import ArgumentError, SchemeError, SolverError
from ..scheme import TIME, as_scheme
from .propensities import INTERVAL_NAMESPACE, Channels, Unboundable, channels, interval_source
from .result import SSAResult

__all__ = ["ssa", "ssa_path", "StochasticSystem", "stochastic_system"]

_JUMP_SET = 1


class StochasticSystem:
    """Python functions of one :class:`~kinetics.stochastic.propensities.Channels` (built once, cached)."""

    def __init__(self, ch: Channels):
        self.channels = ch
        scheme = ch.scheme
        self.n_states = len(scheme.species_names)
        self.n_channels = ch.n_channels
        t = TIME
        u = [sympy.Symbol(n) for n in scheme.input_names]
        p = [sympy.Symbol(n) for n in scheme.parameter_names]
        self.kfun = sympy.lambdify([t, u, p], list(ch.rate_constants), modules="math")
        # propensities from counts x and per-channel constants c (= k * Omega**(1 - order))
        terms = []
        for j, reac in enumerate(ch.reactants):
            f = [f"c[{j}]"]
            for i, a in reac:
                f += [f"x[{i}]"] + [f"(x[{i}] - {m})" for m in range(1, a)]
            terms.append("*".join(f))
        src = "def _prop(x, c):\n    return [" + ", ".join(terms) + "]\n"
        ns: dict = {}
        exec(compile(src, f"<propensities {scheme.name}>", "exec"), ns)  # noqa: S102 - generated from the scheme
        self.prop = ns["_prop"]
        self.updates = tuple(tuple((int(i), int(d)) for i, d in enumerate(row) if d != 0) for row in ch.change)
        self.time_dependent = bool(np.any(ch.time_dependent))
        names = {"t": "T"}
        names.update({s.name: f"U[{i}]" for i, s in enumerate(u)})
        names.update({s.name: f"P[{i}]" for i, s in enumerate(p)})
        try:
            bsrc = interval_source(ch.rate_constants, names)
            ns = dict(INTERVAL_NAMESPACE)
            exec(compile(bsrc, f"<bounds {scheme.name}>", "exec"), ns)  # noqa: S102
            self.bounds, self.unboundable = ns["_bounds"], None
        except Unboundable as exc:
            self.bounds, self.unboundable = None, str(exc)
        self.input_names = scheme.input_names
        # inputs each rate constant depends on (a time-varying input matters only there)
        self.k_inputs = [frozenset(i for i, s in enumerate(u) if k.has(s)) for k in ch.rate_constants]


_SYSTEMS: dict = {}
_SYSTEMS_LOCK = threading.Lock()


def stochastic_system(ch: Channels) -> StochasticSystem:
    """The cached :class:`StochasticSystem` of ``ch`` (per structure, mode and Omega)."""
    key = (ch.scheme.structure_key(), ch.mode, ch.omega)
    with _SYSTEMS_LOCK:
        hit = _SYSTEMS.get(key)
    if hit is None:
        hit = StochasticSystem(ch)
        with _SYSTEMS_LOCK:
            if len(_SYSTEMS) > 64:
                _SYSTEMS.clear()
            _SYSTEMS[key] = hit
    return hit


# --------------------------------------------------------------------------- the protocol, as plain tuples
def _plan(schedule, state_index: dict, omega: float) -> tuple:
    """Per segment ``(t_a, t_b, const, terms, jumps)``; jumps converted to counts."""
    out = []
    B = [float(b) for b in schedule.boundaries]
    const = np.asarray(schedule.const, dtype=float).reshape(len(B) - 1, len(schedule.inputs))
    data = np.asarray(schedule.term_data, dtype=float).reshape(-1, 4)
    for s in range(len(B) - 1):
        terms = tuple((int(schedule.term_input[k]), *map(float, data[k]))
                      for k in range(schedule.term_ptr[s], schedule.term_ptr[s + 1]))
        jumps = []
        for k in range(schedule.jump_ptr[s], schedule.jump_ptr[s + 1]):
            n = float(schedule.jump_value[k]) * omega
            jumps.append((state_index[schedule.jump_target[k]], int(schedule.jump_kind[k]), int(round(n))))
        out.append((B[s], B[s + 1], [float(c) for c in const[s]], terms, tuple(jumps)))
    return tuple(out)


def _term_range(t_ref, rate, p, q, ta, tb):
    """Exact range of ``(p + q d) exp(-rate d)`` for ``d = t - t_ref`` in ``[ta - t_ref, tb - t_ref]``."""
    da, db = ta - t_ref, tb - t_ref
    vals = [(p + q * da) * math.exp(-rate * da), (p + q * db) * math.exp(-rate * db)]
    if q != 0.0 and rate != 0.0:
        d = 1.0 / rate - p / q
        if da < d < db:
            vals.append((p + q * d) * math.exp(-rate * d))
    return min(vals), max(vals)


def _inputs_at(const, terms, t):
    u = list(const)
    for i, t_ref, rate, p, q in terms:
        d = t - t_ref
        u[i] += (p + q * d) * math.exp(-rate * d)
    return u


def _input_ranges(const, terms, ta, tb):
    lo, hi = list(const), list(const)
    for i, t_ref, rate, p, q in terms:
        a, b = _term_range(t_ref, rate, p, q, ta, tb)
        lo[i] += a
        hi[i] += b
    pad = 1e-12
    return [(a - pad * abs(a) - 1e-300, b + pad * abs(b) + 1e-300) for a, b in zip(lo, hi)]


def _uniforms(rng, block=2048):
    while True:
        yield from rng.random(block).tolist()


def _check_k(k, labels, t):
    for j, v in enumerate(k):
        if not v >= 0.0 or v == math.inf:
            if v != v or v == math.inf:
                raise SolverError(f"the rate constant of channel `{labels[j]}` is {v} at t = {t:g}")
            raise SchemeError(f"the rate constant of channel `{labels[j]}` is negative ({v:g}) at t = {t:g}: a "
                              "propensity must be >= 0 (check the parameters and the protocol's inputs)")


# --------------------------------------------------------------------------- one run
def _run(system: StochasticSystem, p, plan, n0, t_eval, rng, events=None, max_events=None):
    """One exact trajectory: counts on ``t_eval`` (n_t, n_states) and the number of reactions fired."""
    ch = system.channels
    labels, scale = ch.labels, [float(s) for s in ch.scale]
    prop, kfun, updates = system.prop, system.kfun, system.updates
    nc = system.n_channels
    x = [int(v) for v in n0]
    t_eval = [float(v) for v in t_eval]
    ng = len(t_eval)
    out = np.empty((ng, len(x)), dtype=np.int64)
    gi = 0
    rand = _uniforms(rng).__next__
    n_fired = 0
    limit = max_events if max_events is not None else math.inf
    P = [(v, v) for v in p]
    p = list(p)
    last = len(plan) - 1

    def fire(t, a, r):
        """Fire the channel that ``r`` in ``[0, sum(a))`` selects (Gillespie's direct method)."""
        nonlocal n_fired
        j = 0
        acc = a[0]
        while acc <= r and j < nc - 1:
            j += 1
            acc += a[j]
        while a[j] <= 0.0:           # round-off at the top end: the last channel with a > 0
            j -= 1
        for i, d in updates[j]:
            x[i] += d
        n_fired += 1
        if events is not None:
            events.append((t, j, tuple(x)))
        if n_fired > limit:
            raise SolverError(f"more than {max_events} reactions in one run (max_events)")

    for s, (ta, tb, const, terms, jumps) in enumerate(plan):
        for i, kind, val in jumps:
            x[i] = val if kind == _JUMP_SET else x[i] + val
            if x[i] < 0:
                raise ArgumentError(f"a jump at t = {ta:g} makes the count of `{ch.state_names[i]}` negative "
                                    f"({x[i]})")
        if events is not None and jumps:
            events.append((ta, -1, tuple(x)))
        t = ta
        driven = {term[0] for term in terms}
        varying = system.time_dependent or any(ki & driven for ki in system.k_inputs)
        if not varying:
            k = kfun(ta, const, p)
            _check_k(k, labels, ta)
            c = [k[j] * scale[j] for j in range(nc)]
            while True:
                a = prop(x, c)
                a0 = sum(a)
                if a0 <= 0.0:
                    break
                t += -math.log(1.0 - rand()) / a0
                if t >= tb:
                    break
                while gi < ng and t_eval[gi] < t:
                    out[gi] = x
                    gi += 1
                fire(t, a, rand() * a0)
        else:
            if system.bounds is None:
                raise SchemeError(f"scheme `{ch.scheme.name}`: the thinning method needs an upper bound of every "
                                  f"rate constant over time-varying inputs, and it cannot bound "
                                  f"{system.unboundable}; use piecewise-constant inputs (steps, pulses) instead")
            rates = [abs(term[2]) for term in terms if term[2] != 0.0]
            h0 = (tb - ta) / 8.0
            if rates:
                h0 = min(h0, 0.5 / max(rates))
            wa = ta
            while t < tb:
                wb = min(wa + h0, tb)
                if tb - wb < 1e-9 * (tb - ta):
                    wb = tb
                kb = system.bounds((wa, wb), _input_ranges(const, terms, wa, wb), P)
                cu = [max(kb[j][1], 0.0) * scale[j] for j in range(nc)]
                if not all(math.isfinite(v) for v in cu):
                    raise SchemeError(f"scheme `{ch.scheme.name}`: a rate constant has no finite upper bound over "
                                      f"[{wa:g}, {wb:g}] (thinning needs one)")
                while True:
                    bound = sum(prop(x, cu))
                    if bound <= 0.0:
                        t = wb
                        break
                    t += -math.log(1.0 - rand()) / bound
                    if t >= wb:
                        t = wb
                        break
                    k = kfun(t, _inputs_at(const, terms, t), p)
                    _check_k(k, labels, t)
                    a = prop(x, [k[j] * scale[j] for j in range(nc)])
                    a0 = sum(a)
                    if a0 > bound * (1.0 + 1e-9):
                        raise SolverError(f"internal error: propensity {a0:g} above its bound {bound:g} at t = {t:g}")
                    r = rand() * bound
                    if r >= a0:
                        continue                  # a rejected candidate: nothing happens
                    while gi < ng and t_eval[gi] < t:
                        out[gi] = x
                        gi += 1
                    fire(t, a, r)
                wa = wb
        while gi < ng and (t_eval[gi] < tb or (s == last and t_eval[gi] <= tb)):
            out[gi] = x
            gi += 1
    return out, n_fired


# --------------------------------------------------------------------------- set-up shared by ssa and ssa_path
def _setup(model, protocol, t0, t_end, volume, n_copies, parameters, y0):
    from ..model import compile as compile_model

    scheme = as_scheme(model)
    if scheme.events:
        raise SchemeError(f"scheme `{scheme.name}` has discrete events ({', '.join(e.name for e in scheme.events)}): "
                          f"the stochastic simulation does not run them (not supported yet); kinetics.simulate does")
    ch = channels(scheme, volume=volume, n_copies=n_copies)
    cm = compile_model(scheme)
    p = cm.parameter_vector(parameters)
    sched = cm.schedule(protocol, t0, t_end)
    plan = _plan(sched, cm.state_index, ch.omega)
    n0 = ch.counts(cm.initial_state(y0))
    return ch, cm, p, plan, n0


def _stream(root_entropy, i: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy=root_entropy, spawn_key=(int(i),))))


def _check_time(t_end, t0):
    try:
        t_end, t0 = float(t_end), float(t0)
    except (TypeError, ValueError):
        raise ArgumentError(f"`t_end` and `t0` must be numbers, got {t_end!r}, {t0!r}") from None
    if not (math.isfinite(t0) and math.isfinite(t_end)) or t_end <= t0:
        raise ArgumentError(f"need finite t0 < t_end, got t0 = {t0}, t_end = {t_end}")
    return t_end, t0


def ssa_path(model, protocol=None, *, t_end, t0=0.0, seed=None, volume=None, n_copies=None, parameters=None,
             y0=None, max_events=10_000_000):
    """One exact trajectory with every event: ``(times, channel, counts)`` arrays.

    ``channel[k]`` is the index of the channel fired at ``times[k]`` (``-1`` for a protocol jump), ``counts[k]``
    the counts just after; the first row is the initial state at ``t0`` (channel ``-1``). Channels are numbered
    as in :func:`kinetics.stochastic.channels` (``.labels``). For dwell-time analysis.

    Examples
    --------
    >>> import kinetics as kx
    >>> s = kx.Scheme("ch", species=[kx.Species("C", 1.0, "1"), kx.Species("O", 0.0, "1")],
    ...     parameters=[kx.Parameter("a", 1.0, "1/ms"), kx.Parameter("b", 2.0, "1/ms")],
    ...     reactions=[kx.reaction("C <-> O", "a", "b")])
    >>> times, channel, counts = ssa_path(s, t_end=100.0, n_copies=1, seed=1)
    >>> bool(set(counts.sum(axis=1)) == {1})           # one receptor, always in one state
    True
    """
    t_end, t0 = _check_time(t_end, t0)
    ch, cm, p, plan, n0 = _setup(model, protocol, t0, t_end, volume, n_copies, parameters, y0)
    system = stochastic_system(ch)
    events = [(t0, -1, tuple(int(v) for v in n0))]
    rng = _stream(_entropy(seed), 0)
    _run(system, p, plan, n0, [t_end], rng, events=events, max_events=max_events)
    times = np.array([e[0] for e in events])
    chan = np.array([e[1] for e in events], dtype=np.int64)
    counts = np.array([e[2] for e in events], dtype=np.int64).reshape(len(events), -1)
    return times, chan, counts


def ensemble_grid(n_runs, t_eval, t0: float, t_end: float) -> tuple:
    """``(n_runs, t_eval)`` of an ensemble checked (a positive integer; non-empty, finite, non-decreasing output
    times inside ``[t0, t_end]``, default 101 evenly spaced), with a clear :class:`ArgumentError` otherwise."""
    if isinstance(n_runs, bool) or not isinstance(n_runs, (int, np.integer)) or n_runs < 1:
        raise ArgumentError(f"`n_runs` must be a positive integer, got {n_runs!r}")
    if t_eval is None:
        t_eval = np.linspace(t0, t_end, 101)
    try:
        t_eval = np.array(t_eval, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ArgumentError("`t_eval` must be an array of times") from None
    if t_eval.size == 0 or not np.all(np.isfinite(t_eval)) or np.any(np.diff(t_eval) < 0) \
            or t_eval[0] < t0 or t_eval[-1] > t_end:
        raise ArgumentError(f"`t_eval` must be non-empty, finite, non-decreasing and inside [t0, t_end] = "
                            f"[{t0:g}, {t_end:g}]")
    return int(n_runs), t_eval


def _entropy(seed):
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ArgumentError(f"`seed` must be a non-negative integer (or None for a fresh one), got {seed!r}")
    return int(seed)


def segment_varying(ch: Channels, plan) -> np.ndarray:
    """Per segment of ``plan``: does any rate constant vary in time there (thinning) or not (direct method)?"""
    u = [sympy.Symbol(n) for n in ch.scheme.input_names]
    k_inputs = [frozenset(i for i, s in enumerate(u) if k.has(s)) for k in ch.rate_constants]
    explicit = bool(np.any(ch.time_dependent))
    out = np.zeros(len(plan), dtype=np.uint8)
    for s, seg in enumerate(plan):
        driven = {term[0] for term in seg[3]}
        out[s] = explicit or any(ki & driven for ki in k_inputs)
    return out


def _native_seeds(entropy, indices) -> np.ndarray:
    return np.array([np.random.SeedSequence(entropy=entropy, spawn_key=(int(i),)).generate_state(4, np.uint64)
                     for i in indices], dtype=np.uint64).reshape(len(indices), 4)


def _chunk_task(task):
    """Runs ``indices`` of an ensemble (a top-level function: picklable for process and dask executors)."""
    scheme, volume, n_copies, p, plan, n0, t_eval, entropy, indices, max_events, method = task
    ch = channels(scheme, volume=volume, n_copies=n_copies)
    if method == "native":
        from .native import native_ssa, plan_arrays

        arrays = plan_arrays(plan) + (segment_varying(ch, plan),)
        return native_ssa(ch).run_many(p, arrays, n0, t_eval, _native_seeds(entropy, indices), max_events)
    system = stochastic_system(ch)
    outs, fired = [], []
    for i in indices:
        o, f = _run(system, p, plan, n0, t_eval, _stream(entropy, i), max_events=max_events)
        outs.append(o)
        fired.append(f)
    return np.stack(outs), np.array(fired, dtype=np.int64)


def ssa(model, protocol=None, *, t_end, t_eval=None, n_runs=1, seed=None, volume=None, n_copies=None,
        parameters=None, y0=None, t0=0.0, executor=None, progress=None, chunk_size=None,
        max_events=100_000_000, method: str = "auto") -> SSAResult:
    """Exact stochastic simulation of ``model`` under ``protocol``: ``n_runs`` independent runs.

    Parameters
    ----------
    model : Scheme (or an object with ``.scheme``)
        Mass-action reactions only (see :mod:`kinetics.stochastic.propensities` for what is refused).
    protocol : Protocol, optional
        Inputs (exact: restart at every breakpoint, thinning under waveforms) and jumps (converted to counts
        with the same ``Omega``, rounded).
    t_end : float
        End time (model units); ``t0`` the start (default 0).
    t_eval : array_like, optional
        Output times in ``[t0, t_end]``, increasing (default: 101 evenly spaced).
    n_runs : int
    seed : int, optional
        Root seed; run ``i`` uses the child stream ``i`` (the same whatever the executor or chunking). None: a
        fresh seed, recorded in the result.
    volume : float, optional
        Litres: ``Omega = N_A * volume * (concentration unit in mol/L)``. Or:
    n_copies : int, optional
        Copy number of a pool of receptors whose species are fractions: ``Omega = n_copies``.
    parameters : mapping, optional
        Parameter overrides in their declared units.
    y0 : mapping or array, optional
        Initial values in the scheme's units (converted to counts, rounded).
    executor : None, "serial", "threads", "processes", int, dask Client or Executor
        Who runs the chunks of runs (:func:`kinetics.executor.as_executor`; default serial). The native loop
        releases the GIL, so "threads" run chunks in parallel; the Python engine holds it (use "processes").
    progress : bool, optional
        Progress bar over chunks.
    chunk_size : int, optional
        Runs per task (default: about four tasks per worker).
    max_events : int
        Refuse runs that fire more reactions than this (a runaway system).
    method : {"auto", "native", "python"}
        ``"native"``: the generated C loop (:mod:`kinetics.stochastic.native`, compiled once per scheme
        structure and cached); ``"python"``: the same algorithm in Python (slower, no compiler needed);
        ``"auto"``: native when a C compiler works, else Python. The two draw different random streams
        (xoshiro256** vs PCG64), so a seed reproduces runs within one method.

    Returns
    -------
    SSAResult
        Counts of every run on ``t_eval``, with mean, variance and quantiles.

    Raises
    ------
    SchemeError
        Rate laws without propensity meaning, negative rate constants, an unboundable waveform-driven rate.
    ArgumentError
        Bad ``volume``/``n_copies`` (exactly one), ``n_runs``, ``seed``, ``t_eval``.

    Examples
    --------
    Ten receptors that open at 1/ms and close at 2/ms: on average a third of them are open.

    >>> import kinetics as kx
    >>> s = kx.Scheme("ch", species=[kx.Species("C", 1.0, "1"), kx.Species("O", 0.0, "1")],
    ...     parameters=[kx.Parameter("a", 1.0, "1/ms"), kx.Parameter("b", 2.0, "1/ms")],
    ...     reactions=[kx.reaction("C <-> O", "a", "b")])
    >>> res = kx.ssa(s, t_end=50.0, t_eval=[50.0], n_runs=2000, n_copies=10, seed=1)
    >>> abs(float(res.mean("O")[-1]) - 10 / 3) < 0.15      # sampling sd 0.033
    True
    """
    from ..executor import SerialExecutor, as_executor

    t_end, t0 = _check_time(t_end, t0)
    n_runs, t_eval = ensemble_grid(n_runs, t_eval, t0, t_end)
    entropy = _entropy(seed)
    ch, cm, p, plan, n0 = _setup(model, protocol, t0, t_end, volume, n_copies, parameters, y0)
    stochastic_system(ch)      # build (and check) once here: errors surface before any task is sent
    if method not in ("auto", "native", "python"):
        raise ArgumentError(f"`method` must be 'auto', 'native' or 'python', got {method!r}")
    if method != "python":
        from ..errors import CompilerError
        from .native import native_ssa

        try:
            native_ssa(ch)             # compile (or load) here, once, before tasks are sent
            method = "native"
        except CompilerError:
            if method == "native":
                raise
            method = "python"
    ex = SerialExecutor() if executor is None else as_executor(executor)
    owned = executor is not None and not hasattr(executor, "map")
    workers = max(1, int(getattr(ex, "n_workers", 1)))
    if chunk_size is None:
        chunk_size = max(1, math.ceil(n_runs / (4 * workers)))
    elif isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ArgumentError(f"`chunk_size` must be a positive integer, got {chunk_size!r}")
    chunks = [tuple(range(a, min(a + int(chunk_size), n_runs))) for a in range(0, n_runs, int(chunk_size))]
    tasks = [(ch.scheme, volume, n_copies, p, plan, n0, t_eval, entropy, idx, max_events, method) for idx in chunks]
    try:
        outs = ex.map(_chunk_task, tasks, desc=f"ssa {ch.scheme.name}", progress=progress)
    finally:
        if owned:
            ex.close()
    counts = np.concatenate([o[0] for o in outs], axis=0)
    fired = np.concatenate([o[1] for o in outs])
    return SSAResult(t=t_eval, species=ch.scheme.species_names, counts=counts, omega=ch.omega, seed=entropy,
                     n_events=fired, method=method, mode=ch.mode)
