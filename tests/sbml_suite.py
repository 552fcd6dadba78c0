"""Harness of the SBML Test Suite's semantic cases (used by ``tests/test_sbml_semantic_suite.py``).

The suite (SBML Team, LGPL 2.1) is not part of nmdakin: its archive is read from ``../shared/sbml-test-suite/``
(or ``$NMDAKIN_SBML_SUITE``) and unpacked into a temporary folder. Each case ``NNNNN`` has a model in several
SBML levels (the highest is used), ``NNNNN-settings.txt`` (start, duration, steps, variables, tolerances, which
variables are amounts or concentrations), ``NNNNN-results.csv`` (the expected values) and ``NNNNN-model.m``
(``componentTags`` and ``testTags``: what the case exercises).

A case is *excluded* when it carries a tag of :data:`EXCLUDED_TAGS` (constructs nmdakin refuses with a clear
error), or when it takes floor, ceiling, quotient, rem or factorial of anything but numbers and time
(:func:`no_derivative_of_variables`: refused, rate laws are differentiated). Every other case — events with
delays, state-dependent triggers, priorities, persistence, initial values and values at assignment time included
— must reproduce the expected values within the suite's own rule,
``|sim - expected| <= absolute + relative * |expected|`` at every output time.

Simulated with scipy's LSODA (no compilation per model); models whose SBML events became scheme events
(:class:`kinetics.Event`: not time-only) with BDF and steps no longer than the output interval
(:data:`EVENT_METHOD`).

Run as a script to see the counts on the whole suite: ``python tests/sbml_suite.py [-j 2] [CASE ...]``.
"""
from __future__ import annotations

import csv
import os
import re
import tarfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ARCHIVE = Path(os.environ.get("NMDAKIN_SBML_SUITE",
                              Path(__file__).resolve().parents[2] / "shared" / "sbml-test-suite" / "semantic.tgz"))

#: Suite tags of constructs nmdakin refuses (a SchemeError naming the construct), with the reason.
EXCLUDED_TAGS = {
    "AlgebraicRule": "algebraic rules (a DAE solver would be needed)",
    "FastReaction": "fast reactions (quasi-steady-state subsystems)",
    "CSymbolDelay": "the `delay` csymbol (delay differential equations)",
    "CSymbolRateOf": "the `rateOf` csymbol",
    "AssignedVariableStoichiometry": "stoichiometries that change over time",
    "FluxBalanceSteadyState": "flux balance analysis (not a time course)",
    "RandomEventExecution": "random ordering of simultaneous events",
    "DelayInTrigger": "the `delay` csymbol in event triggers",
    "DelayInEventAssignment": "the `delay` csymbol in event assignments",
}
#: Tag prefixes of SBML Level 3 packages nmdakin refuses when required (hierarchical models, flux balance).
EXCLUDED_PACKAGES = {"comp:": "the comp package (hierarchical model composition)",
                     "fbc:": "the fbc package (flux balance constraints)"}
#: The reason given to cases taking floor, ceiling, quotient, rem or factorial of what changes over time.
NO_DERIVATIVE = "floor, ceiling, quotient, rem or factorial of parameters or variables (no derivative)"
#: Tags of cases that have events.
EVENT_TAGS = {"EventNoDelay", "EventWithDelay"}

RTOL, ATOL = 1e-10, 1e-14


@dataclass
class Case:
    """One semantic case: its id, folder, tags and settings."""

    id: str
    folder: Path
    tags: frozenset
    settings: dict

    @property
    def sbml(self) -> Path:
        files = sorted(self.folder.glob(f"{self.id}-sbml-l*v*.xml"),
                       key=lambda p: tuple(int(x) for x in re.findall(r"l(\d+)v(\d+)", p.name)[0]))
        return files[-1]

    @property
    def has_events(self) -> bool:
        return bool(self.tags & EVENT_TAGS)


def _highest_levels(names) -> set:
    """The model file of the highest SBML level and version of each case, among archive member names."""
    best = {}
    for n in names:
        m = re.search(r"(\d{5})-sbml-l(\d+)v(\d+)\.xml$", n)
        if m:
            key = (int(m.group(2)), int(m.group(3)))
            if m.group(1) not in best or key > best[m.group(1)][0]:
                best[m.group(1)] = (key, n)
    return {n for _, n in best.values()}


def case_ids() -> list:
    """The case ids in the archive (empty without it)."""
    if not ARCHIVE.is_file():
        return []
    with tarfile.open(ARCHIVE) as tar:
        return sorted({m.group(1) for m in (re.search(r"/(\d{5})/\1-settings\.txt$", n) for n in tar.getnames())
                       if m})


def unpack(dest: Path) -> Path:
    """Unpack the suite's archive into ``dest`` (per case: settings, results, tags and the model in the highest
    SBML level); the folder of the cases."""
    with tarfile.open(ARCHIVE) as tar:
        members = [m for m in tar.getmembers() if m.isfile() and ".." not in m.name and not m.name.startswith("/")]
        keep = _highest_levels(m.name for m in members)
        members = [m for m in members if m.name in keep or re.search(r"-(settings\.txt|results\.csv|model\.m)$",
                                                                      m.name)]
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, members=members, filter="data")
        else:  # pragma: no cover - Python < 3.12 without the backported filters
            tar.extractall(dest, members=members)
    return dest / "semantic"


def _list(text):
    return [x.strip() for x in text.split(",") if x.strip()]


def load_case(folder: Path) -> Case:
    """Tags and settings of the case in ``folder``."""
    cid = folder.name
    tags = set()
    for line in (folder / f"{cid}-model.m").read_text(errors="replace").splitlines():
        m = re.match(r"\s*(componentTags|testTags|testType):(.*)", line)
        if m:
            tags |= set(_list(m.group(2)))
    settings = {}
    for line in (folder / f"{cid}-settings.txt").read_text().splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            settings[k.strip()] = v.strip()
    return Case(cid, folder, frozenset(tags), settings)


def cases(root: Path) -> list:
    """Every case under ``root``, in id order."""
    return [load_case(p) for p in sorted(root.iterdir()) if p.is_dir() and p.name.isdigit()]


def _model(path):
    import libsbml

    return libsbml.readSBMLFromFile(str(path)).getModel()


def no_derivative_of_variables(path) -> bool:
    """Whether the model takes floor, ceiling, quotient, rem or factorial of anything but numbers and time
    (nmdakin refuses those: rate laws are differentiated for the Jacobian and sensitivities); calls of
    function definitions are followed with what their arguments are."""
    import libsbml

    m = _model(path)
    if m is None:
        return False
    kinds = {libsbml.AST_FUNCTION_FLOOR, libsbml.AST_FUNCTION_CEILING, libsbml.AST_FUNCTION_QUOTIENT,
             libsbml.AST_FUNCTION_REM, libsbml.AST_FUNCTION_FACTORIAL}

    def named(a, bound):   # whether the value of ``a`` reads an id (not only numbers and time)
        if a.getType() == libsbml.AST_NAME:
            return bound.get(a.getName(), True)
        return any(named(a.getChild(j), bound) for j in range(a.getNumChildren()))

    def bad(a, bound, depth=0):
        if depth > 100:
            return True
        kids = [a.getChild(j) for j in range(a.getNumChildren())]
        if a.getType() in kinds and any(named(k, bound) for k in kids):
            return True
        if a.getType() == libsbml.AST_FUNCTION:
            fd = m.getFunctionDefinition(a.getName())
            if fd is not None and fd.getBody() is not None:
                inner = {fd.getArgument(j).getName(): named(k, bound) for j, k in enumerate(kids)
                         if j < fd.getNumArguments()}
                if bad(fd.getBody(), inner, depth + 1):
                    return True
        return any(bad(k, bound, depth + 1) for k in kids)

    maths = [m.getRule(i).getMath() for i in range(m.getNumRules())]
    maths += [m.getReaction(i).getKineticLaw().getMath() for i in range(m.getNumReactions())
              if m.getReaction(i).getKineticLaw() is not None]
    return any(bad(x, {}) for x in maths if x is not None)


def exclusion(case: Case):
    """Why ``case`` is excluded (a sentence), or None if it is supported."""
    if case.settings.get("start", "") == "" or "TimeCourse" not in case.tags:
        return "not a time course"
    for tag in sorted(case.tags):
        if tag in EXCLUDED_TAGS:
            return f"{tag}: {EXCLUDED_TAGS[tag]}"
        for prefix, why in EXCLUDED_PACKAGES.items():
            if tag.startswith(prefix):
                return f"{prefix}*: {why}"
    if no_derivative_of_variables(case.sbml):
        return NO_DERIVATIVE
    return None


def expected(case: Case):
    """``(times, {column: values})`` of the case's results file."""
    with open(case.folder / f"{case.id}-results.csv", newline="") as fh:
        rows = [r for r in csv.reader(fh) if r]
    header = [h.strip() for h in rows[0]]
    data = np.array([[float(x) for x in r] for r in rows[1:]], dtype=float)
    return data[:, 0], {h: data[:, j] for j, h in enumerate(header) if j}


def run(case: Case) -> str | None:
    """Simulate ``case`` with nmdakin; None if every value is within tolerance, else what went wrong."""
    import kinetics as kx

    s = case.settings
    start, duration, steps = float(s["start"]), float(s["duration"]), int(s["steps"])
    variables = _list(s["variables"])
    absolute, relative = float(s["absolute"]), float(s["relative"])
    t_exp, exp = expected(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = kx.read_sbml_model(str(case.sbml))
        t_eval = np.linspace(start, start + duration, steps + 1)
        species = set(model.species)
        # scheme events (state-dependent or delayed): a trigger that turns on and off within one step is not seen
        # (kinetics.events), so steps are at most the output interval
        method, opts = (EVENT_METHOD, {"max_step": duration / steps}) if model.scheme.events else (METHOD, {})
        df = model.simulate(t_end=start + duration, t_eval=t_eval, ids=variables, method=method, rtol=RTOL,
                            atol=ATOL, amounts=[v for v in _list(s.get("amount", "")) if v in species],
                            concentrations=[v for v in _list(s.get("concentration", "")) if v in species],
                            nonfinite="warn", **opts)
    if t_exp.shape != t_eval.shape or not np.allclose(t_exp, t_eval, rtol=1e-8, atol=1e-9 * duration):
        return "output times differ from the expected ones"
    bad = []
    for v in variables:
        sim, ref = np.asarray(df[v], dtype=float), exp[v]
        with np.errstate(invalid="ignore"):
            same = (np.isinf(ref) & (sim == ref)) | (np.isnan(ref) & np.isnan(sim))
            ok = same | (np.abs(sim - ref) <= absolute + relative * np.abs(ref))
        if not ok.all():
            i = int(np.argmin(ok))
            bad.append(f"{v} at t = {t_eval[i]:g}: {sim[i]!r} vs {ref[i]!r}")
    return "; ".join(bad) if bad else None


METHOD = os.environ.get("NMDAKIN_SBML_SUITE_METHOD", "LSODA")
#: The method for models with scheme events (state-dependent or delayed): scipy's LSODA finds roots on a dense
#: output that does not match its steps (brentq then fails: scipy issues 14480 and 17066).
EVENT_METHOD = os.environ.get("NMDAKIN_SBML_SUITE_EVENT_METHOD", "BDF")


def outcome(case: Case) -> tuple:
    """``(case id, has events, excluded reason or None, failure or None)`` of one case (never raises)."""
    why = exclusion(case)
    if why is not None:
        return case.id, case.has_events, why, None
    try:
        failure = run(case)
    except Exception as exc:  # noqa: BLE001 - a failure of the case, reported by the test
        failure = f"{type(exc).__name__}: {exc}"
    return case.id, case.has_events, None, failure


def _main(argv=None):  # pragma: no cover - a command-line report
    import argparse
    import collections
    import tempfile
    import time
    from concurrent.futures import ProcessPoolExecutor

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ids", nargs="*")
    ap.add_argument("-j", type=int, default=2)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = unpack(Path(tmp))
        todo = [c for c in cases(root) if not a.ids or c.id in a.ids]
        t0 = time.perf_counter()
        with ProcessPoolExecutor(a.j) as ex:
            results = list(ex.map(outcome, todo, chunksize=8))
        took = time.perf_counter() - t0
    reasons = collections.Counter(why for _, _, why, _ in results if why)
    for ev in (False, True):
        sup = [r for r in results if r[1] == ev and r[2] is None]
        ok = [r for r in sup if r[3] is None]
        print(f"{'with' if ev else 'without'} events: {len(sup)} supported, {len(ok)} pass, "
              f"{sum(1 for r in results if r[1] == ev and r[2])} excluded")
    for why, n in reasons.most_common():
        print(f"  excluded {n:5d}  {why}")
    for cid, ev, why, failure in results:
        if why is None and failure:
            print(f"FAIL {cid}{' (events)' if ev else ''}: {failure[:300]}")
    print(f"{len(results)} cases in {took:.1f} s")


if __name__ == "__main__":  # pragma: no cover
    _main()
