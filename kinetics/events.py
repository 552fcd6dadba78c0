"""Discrete events (:class:`kinetics.scheme.Event`): trigger roots and the driver that runs them.

A trigger is a boolean (``and``/``or``/``not``) of relations ``a > b``, ``a >= b``, ``a < b``, ``a <= b``. Each
distinct relation is an *atom* with a continuous root function ``g`` (:func:`trigger_atoms`): ``a > b`` holds
when ``g = a - b > 0``, ``a <= b`` when ``g = b - a >= 0``.

The integrators stop where an atom changes its truth value:

* native (C) path: after every accepted step the atoms are evaluated at four points of the step's dense output
  (the end included); the first change is located by bisection on the dense output (to a few ulps of time)
  and the library returns the state at the first time ``t*`` where the new value holds. A change across a
  protocol boundary (an input step, a jump) stops at the boundary (``kinetics/native/integrator.c``);
* scipy methods: ``solve_ivp(events=...)`` with one terminal root function per atom, one protocol segment at a
  time, the stop moved just past the root on the step's interpolant.

The driver (:func:`solve_events`) then applies SBML's semantics (SBML Level 3 Core, section 4.12): an event
fires when its trigger turns from false to true (with ``initial_value=False`` one that holds at ``t0`` fires at
``t0``); all of an event's assignments are evaluated before any is applied (at the trigger time, or at firing
with ``use_values_from_trigger_time=False``); a delayed event fires ``delay`` later (the time becomes a breakpoint)
unless it is not persistent and its trigger turned false meanwhile; events due at the same time fire one at a
time in decreasing priority (ties in declaration order), the triggers being evaluated again after each firing (a
firing may trigger other events, or cancel non-persistent ones). Then the integration restarts at ``t*``.

Output times keep their values up to the event; the state is right-continuous: an output time equal to an event
time reports the state after the event. A trigger that touches its threshold without crossing it (a tangency)
or turns on and off between two of the sample points of one step is not seen; ``max_step`` bounds the steps.

Examples
--------
>>> import kinetics as kx
>>> s = kx.Scheme("growth", species=[kx.Species("A", 1.0)], parameters=[kx.Parameter("k", 1.0, "1/ms")],
...               reactions=[kx.reaction("-> A", rate="k*A")],
...               events=[kx.Event("halve", "A > 2", {"A": "A/2"})])
>>> res = kx.simulate(s, t_end=2.0, t_eval=[0.0, 1.0, 2.0], rtol=1e-10, atol=1e-12)
>>> [round(float(a), 6) for a in res["A"]]      # e^t, halved at t = ln 2: e^2 / 4 at t = 2
[1.0, 1.359141, 1.847264]
"""
from __future__ import annotations

import heapq
import math

import numpy as np
import sympy

from .errors import ArgumentError, SolverError
from .protocol.schedule import JUMP_SET

__all__ = ["trigger_atoms", "MAX_FIRINGS_AT_ONE_TIME"]

#: Firings allowed at one time instant before the driver gives up (events that keep triggering each other).
MAX_FIRINGS_AT_ONE_TIME = 10000

_REL = {sympy.StrictGreaterThan: (1, True), sympy.GreaterThan: (1, False),
        sympy.StrictLessThan: (-1, True), sympy.LessThan: (-1, False)}


def trigger_atoms(scheme) -> tuple:
    """``(atoms, trees)``: the distinct relations of the scheme's triggers as ``(g, strict)`` (the relation holds
    when ``g > 0``, or ``g >= 0`` if not strict), and per event its trigger as a tree of
    ``("atom", k)``, ``("and", [...])``, ``("or", [...])``, ``("not", x)``.

    >>> import kinetics as kx
    >>> s = kx.Scheme("x", species=[kx.Species("A", 1.0)], reactions=[kx.reaction("A ->", "1")],
    ...               events=[kx.Event("ev", "A < 0.5 or t >= 3", {"A": "1"})])
    >>> trigger_atoms(s)
    (((t - 3, False), (0.5 - A, True)), (('or', [('atom', 0), ('atom', 1)]),))
    """
    atoms: list = []
    index: dict = {}

    def walk(c):
        if type(c) in _REL:
            sign, strict = _REL[type(c)]
            g = sign * (c.lhs - c.rhs)
            key = (g, strict)
            if key not in index:
                index[key] = len(atoms)
                atoms.append(key)
            return ("atom", index[key])
        if isinstance(c, sympy.Not):
            return ("not", walk(c.args[0]))
        if isinstance(c, (sympy.And, sympy.Or)):
            # sympy orders the arguments of And/Or canonically: sort by text for a stable atom order
            return ("and" if isinstance(c, sympy.And) else "or", [walk(a) for a in sorted(c.args, key=sympy.srepr)])
        raise ArgumentError(f"cannot use `{c}` in a trigger")  # pragma: no cover - Event validates triggers

    trees = tuple(walk(ev.trigger) for ev in scheme.events)
    return tuple(atoms), trees


def _truth(tree, atoms) -> bool:
    kind, arg = tree
    if kind == "atom":
        return bool(atoms[arg])
    if kind == "not":
        return not _truth(arg, atoms)
    if kind == "and":
        return all(_truth(a, atoms) for a in arg)
    return any(_truth(a, atoms) for a in arg)


class _EventFunctions:
    """Numpy functions of the atoms and of every event's assignments, delay and priority (observables
    substituted), all ``f(t, y, p, u)``."""

    def __init__(self, model):
        from .codegen import lambdify_modules

        system = model.system
        scheme = model.scheme
        obs = {sympy.Symbol(n): e for n, e in system.observables.items()}
        args = [system.t, list(system.y), list(system.p), list(system.u)]

        def fn(exprs):
            exprs = [sympy.sympify(e).xreplace(obs) for e in exprs]
            f = sympy.lambdify(args, exprs, modules=lambdify_modules(), docstring_limit=0)
            return lambda t, y, p, u: np.array(f(t, y, p, u), dtype=float).reshape(-1)

        _, self.trees = trigger_atoms(scheme)
        roots = system.event_roots
        self.strict = np.array([st for _, st in roots], dtype=bool)
        self.g = fn([g for g, _ in roots])
        index = model.state_index
        self.targets = [np.array([index[k] for k, _ in ev.assignments], dtype=int) for ev in scheme.events]
        self.values = [fn([v for _, v in ev.assignments]) for ev in scheme.events]
        self.delay = [None if ev.delay is None else fn([ev.delay]) for ev in scheme.events]
        self.priority = [None if ev.priority is None else fn([ev.priority]) for ev in scheme.events]
        self.events = scheme.events

    def atom_truth(self, g) -> np.ndarray:
        g = np.asarray(g, dtype=float)
        return np.where(self.strict, g > 0, g >= 0)

    def triggers(self, atoms) -> list:
        return [_truth(tree, atoms) for tree in self.trees]


def _cached_functions(model) -> _EventFunctions:
    fns = model.__dict__.get("_event_functions")
    if fns is None:
        fns = _EventFunctions(model)
        model.__dict__["_event_functions"] = fns
    return fns


class _Driver:
    """The event loop of one trajectory (see the module docstring)."""

    def __init__(self, model, schedule, p_vec, y0, t_eval, advance, single_segment: bool):
        self.model, self.schedule, self.p = model, schedule, np.asarray(p_vec, dtype=float)
        self.fns = _cached_functions(model)
        self.t_eval = t_eval
        self.advance = advance
        self.single_segment = single_segment
        self.y = np.array(y0, dtype=float)
        self.out = np.empty((t_eval.size, self.y.size))
        self.io = 0
        self.state_index = model.state_index
        n_ev = len(self.fns.events)
        self.prev = [ev.initial_value for ev in self.fns.events]
        self.pending: list = []          # heap of (fire time, sequence, event index, values or None)
        self.seq = 0
        self.jumps_done = -1             # highest segment whose jumps were applied
        self.fired = [0] * n_ev

    # -------------------------------------------------------------- helpers
    def inputs(self, t) -> np.ndarray:
        return self.schedule.input_values([t])[0]

    def apply_jumps(self, s: int) -> None:
        sch = self.schedule
        for k in range(sch.jump_ptr[s], sch.jump_ptr[s + 1]):
            j = self.state_index[sch.jump_target[k]]
            self.y[j] = sch.jump_value[k] if sch.jump_kind[k] == JUMP_SET else self.y[j] + sch.jump_value[k]
        self.jumps_done = s

    def priority(self, e, t, u) -> float:
        f = self.fns.priority[e]
        if f is None:
            return -math.inf
        v = float(f(t, self.y, self.p, u)[0])
        if not math.isfinite(v):
            raise SolverError(f"priority of event `{self.fns.events[e].name}` is not finite ({v}) at t = {t:.9g}",
                              t=t)
        return v

    # -------------------------------------------------------------- semantics
    def settle(self, t: float, atoms=None) -> None:
        """Handle the trigger transitions at ``t`` and fire every event due at ``t`` (SBML order)."""
        fns = self.fns
        u = self.inputs(t)
        for _ in range(MAX_FIRINGS_AT_ONE_TIME):
            if atoms is None:
                atoms = fns.atom_truth(fns.g(t, self.y, self.p, u))
            now = fns.triggers(atoms)
            atoms = None
            for e, ev in enumerate(fns.events):
                if self.prev[e] and not now[e] and not ev.persistent:
                    self.pending = [x for x in self.pending if x[2] != e]
                    heapq.heapify(self.pending)
                if now[e] and not self.prev[e]:
                    delay = 0.0
                    if fns.delay[e] is not None:
                        delay = float(fns.delay[e](t, self.y, self.p, u)[0])
                        if not (math.isfinite(delay) and delay >= 0):
                            raise SolverError(f"delay of event `{ev.name}` is {delay} at t = {t:.9g}: it must be "
                                              f"finite and not negative", t=t)
                    values = fns.values[e](t, self.y, self.p, u) if ev.use_values_from_trigger_time else None
                    heapq.heappush(self.pending, (t + delay, self.seq, e, values))
                    self.seq += 1
            self.prev = now
            due = [x for x in self.pending if x[0] <= t]
            if not due:
                return
            # the highest priority first; ties: declaration order, then trigger order
            pick = max(due, key=lambda x: (self.priority(x[2], t, u), -x[2], -x[1]))
            self.pending.remove(pick)
            heapq.heapify(self.pending)
            _, _, e, values = pick
            if values is None:
                values = fns.values[e](t, self.y, self.p, u)
            if not np.all(np.isfinite(values)):
                raise SolverError(f"event `{fns.events[e].name}` assigns a non-finite value at t = {t:.9g}", t=t)
            self.y[fns.targets[e]] = values
            self.fired[e] += 1
        raise SolverError(f"more than {MAX_FIRINGS_AT_ONE_TIME} event firings at t = {t:.9g}: events keep "
                          f"triggering each other", t=t)

    def run(self) -> tuple:
        sch = self.schedule
        t, t_end = sch.t0, sch.t_end
        b = sch.boundaries
        self.apply_jumps(0)
        self.settle(t)
        while True:
            s = int(sch.segment_of(t))
            if b[s] == t and s > self.jumps_done:        # a boundary reached at the end of a window
                self.apply_jumps(s)
                self.settle(t)
            t_b = t_end
            if self.pending:
                t_b = min(t_b, self.pending[0][0])
            if self.single_segment:
                t_b = min(t_b, float(b[s + 1]))
            final = t_b >= t_end
            lo = self.io                                 # outputs before t_b (those at t_b after its events)
            hi = int(np.searchsorted(self.t_eval, t_b, side="left"))
            if t_b > t:
                stop, rows, y, atoms, n_started = self.advance(t, t_b, self.y, self.t_eval[lo:hi], self.p)
                self.out[lo:lo + rows.shape[0]] = rows
                self.io = lo + rows.shape[0]
                self.y = np.asarray(y, dtype=float).copy()
                if n_started:
                    self.jumps_done = max(self.jumps_done, s + n_started - 1)
            else:
                stop, atoms = t_b, None
            if stop is None:                             # the window's end
                t = t_b
                self.settle(t)
                if final:
                    self.out[self.io:] = self.y
                    return self.out, self.y
                continue
            t = stop
            self.settle(t, atoms)
            if t >= t_end:
                self.out[self.io:] = self.y
                return self.out, self.y


# ------------------------------------------------------------------ the native (C) path
def _window_arrays(schedule, state_index: dict, t_a: float, t_b: float):
    """:class:`~kinetics.native.SegmentArrays` of ``schedule`` on ``[t_a, t_b]``, without the jumps at ``t_a``
    (the driver applies those)."""
    from .native import SegmentArrays

    b = schedule.boundaries
    n_seg = schedule.n_segments
    s_a = min(int(np.searchsorted(b, t_a, side="right")) - 1, n_seg - 1)
    s_b = max(min(int(np.searchsorted(b, t_b, side="left")) - 1, n_seg - 1), s_a)
    segs = list(range(s_a, s_b + 1))
    bounds = [t_a, *[float(x) for x in b[s_a + 1:s_b + 1]], t_b]
    const = np.asarray(schedule.const, dtype=float).reshape(n_seg, len(schedule.inputs))[segs]
    data = np.asarray(schedule.term_data, dtype=float).reshape(-1, 4)
    term_ptr, term_rows, jump_ptr, jump_rows = [0], [], [0], []
    for i, s in enumerate(segs):
        term_rows += range(schedule.term_ptr[s], schedule.term_ptr[s + 1])
        term_ptr.append(len(term_rows))
        if i > 0:
            jump_rows += range(schedule.jump_ptr[s], schedule.jump_ptr[s + 1])
        jump_ptr.append(len(jump_rows))
    return SegmentArrays(boundaries=bounds, const=const, term_ptr=term_ptr,
                         term_input=[schedule.term_input[k] for k in term_rows],
                         term_data=data[term_rows].reshape(-1, 4), jump_ptr=jump_ptr,
                         jump_index=[state_index[schedule.jump_target[k]] for k in jump_rows],
                         jump_kind=[schedule.jump_kind[k] for k in jump_rows],
                         jump_value=[schedule.jump_value[k] for k in jump_rows])


def _native_advance(model, solver, schedule, options: dict, stats: dict):
    fns = _cached_functions(model)
    index = model.state_index
    windows: dict = {}                      # (first, last segment) -> their arrays, retimed for each window
    b = schedule.boundaries
    n_seg = schedule.n_segments

    def advance(t_a, t_b, y, t_req, p):
        s_a = min(int(np.searchsorted(b, t_a, side="right")) - 1, n_seg - 1)
        s_b = max(min(int(np.searchsorted(b, t_b, side="left")) - 1, n_seg - 1), s_a)
        template = windows.get((s_a, s_b))
        if template is None:
            template = windows[(s_a, s_b)] = _window_arrays(schedule, index, t_a, t_b)
        sa = template.retimed(t_a, t_b)
        stop, y_out, y_new, st, n_written, n_started, g = solver.solve_until_event(p, y, sa, t_req, **options)
        for k, v in st.items():
            if k != "n_segments":
                stats[k] = stats.get(k, 0) + v
        atoms = fns.atom_truth(g) if stop is not None else None
        return stop, y_out[:n_written], y_new, atoms, n_started

    return advance


# ------------------------------------------------------------------ the scipy path
def _scipy_advance(model, method, rtol, atol, max_step, first_step, stats: dict, schedule):
    from scipy.integrate import solve_ivp

    funcs = model.numpy
    fns = _cached_functions(model)
    implicit = method in ("BDF", "Radau", "LSODA")

    def advance(t_a, t_b, y, t_req, p):
        s = int(schedule.segment_of(t_a))
        n_terms = schedule.term_ptr[s + 1] - schedule.term_ptr[s]

        def u_of(t):
            return schedule.segment_inputs(s, t) if n_terms else schedule.const[s]

        def fun(t, yy):
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                dy = funcs.rhs(t, yy, p, u_of(t))
            if not np.all(np.isfinite(dy)):
                raise SolverError("non-finite right-hand side (the solution blows up or a rate law is singular)",
                                  t=float(t), status=-3, method=method)
            return dy

        start = fns.atom_truth(fns.g(t_a, y, p, u_of(t_a)))

        def atom_fn(k):
            def g(t, yy):
                return float(fns.g(t, yy, p, u_of(t))[k])
            g.terminal = True
            g.direction = -1 if start[k] else 1      # only a change of the atom's value (not a start on 0)
            return g

        kw = {"rtol": rtol, "atol": atol, "dense_output": True,
              "events": [atom_fn(k) for k in range(len(fns.strict))]}
        if implicit:
            kw["jac"] = lambda t, yy: funcs.jac(t, yy, p, u_of(t))
        if max_step:
            kw["max_step"] = max_step
        if first_step:
            kw["first_step"] = min(first_step, t_b - t_a)
        try:
            sol = solve_ivp(fun, (t_a, t_b), y, method=method, **kw)
        except ValueError as exc:
            if "different signs" not in str(exc):
                raise
            # scipy locates event roots with brentq on the step's interpolant; LSODA's interpolant need not
            # match its step values, so the bracket can fail (scipy issues 14480, 17066)
            raise SolverError(f"scipy {method} could not locate an event's trigger between t = {t_a:g} and "
                              f"{t_b:g} (its interpolant does not bracket the root: a known scipy limitation); "
                              f"use method='auto' (the native root finding) or 'BDF'", t=t_a, status=-1,
                              method=method) from None
        for key, v in (("rhs_evaluations", sol.nfev), ("jacobian_evaluations", sol.njev),
                       ("lu_decompositions", sol.nlu)):
            stats[key] = stats.get(key, 0) + int(v)
        if sol.status not in (0, 1):
            t_fail = float(sol.t[-1]) if sol.t.size else t_a
            raise SolverError(f"scipy solve_ivp failed: {sol.message}", t=t_fail, status=sol.status, method=method)
        stop, atoms, y_end = None, None, sol.y[:, -1]
        if sol.status == 1:
            # just past the root, on the last step's interpolant: the first time where an atom has changed
            t_e = float(sol.t[-1])
            step = np.spacing(max(abs(t_e), 1e-300))
            reach = min(t_b, t_e + 1e-9 * max(abs(t_e), t_b - t_a))
            t_r = t_e
            while True:
                y_r = sol.sol(t_r)
                atoms = fns.atom_truth(fns.g(t_r, y_r, p, u_of(t_r)))
                if np.any(atoms != start) or t_r >= reach:
                    break
                t_r = min(t_e + step, reach)
                step *= 2
            stop, y_end = t_r, y_r              # (a touch without a crossing changes nothing: the driver restarts)
        keep = t_req if stop is None else t_req[t_req < stop]
        rows = np.array([sol.sol(tt) for tt in keep], dtype=float).reshape(len(keep), y.size)
        rows[keep == t_a] = y
        if stop is None:
            rows[keep == t_b] = y_end
        if not np.all(np.isfinite(rows)) or not np.all(np.isfinite(y_end)):
            raise SolverError("non-finite state", t=t_a, status=-3, method=method)
        return stop, rows, np.array(y_end, dtype=float), atoms, 1

    return advance


# ------------------------------------------------------------------ entry point
def solve_events(model, solver, method, schedule, p_vec, y0, t_eval, rtol, atol, max_step=None,
                 first_step=None, max_steps=None) -> tuple:
    """``(y_out, y_final, stats)`` of one trajectory of a scheme with events (the driver of this module).

    ``solver`` is the model's :class:`~kinetics.native.NativeSolver` (``method`` ``"auto"``, ``"dopri5"`` or
    ``"rodas"``) or None for a scipy ``method``."""
    stats: dict = {}
    if solver is not None:
        if getattr(solver, "n_roots", None) is None:
            raise ArgumentError(f"scheme `{model.scheme.name}` has events, which run on the native C path or "
                                f"with a scipy method (method='LSODA', 'BDF', ...), not on the numba JIT path yet")
        options = dict(method=method, rtol=rtol, atol=atol, first_step=first_step or 0.0,
                       max_step=max_step or 0.0, max_steps=int(max_steps or 0))
        advance = _native_advance(model, solver, schedule, options, stats)
        driver = _Driver(model, schedule, p_vec, y0, t_eval, advance, single_segment=False)
    else:
        advance = _scipy_advance(model, method, rtol, atol, max_step, first_step, stats, schedule)
        driver = _Driver(model, schedule, p_vec, y0, t_eval, advance, single_segment=True)
    y_out, y_final = driver.run()
    stats["n_segments" if solver is not None else "segments"] = schedule.n_segments
    stats["events_fired"] = int(sum(driver.fired))
    return y_out, y_final, stats
