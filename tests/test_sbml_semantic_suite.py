"""nmdakin on the SBML Test Suite's semantic cases (SBML Team; the archive is read from ``../shared``, never
copied into the project): one test per case.

* A supported case (see ``tests/sbml_suite.py`` for what is excluded and why) must reproduce the suite's
  expected values within its own tolerances at every output time.
* An excluded case must be refused by ``read_sbml_model`` with an "unsupported SBML construct" error naming the
  construct — or, if it loads, be right all the same: never a silent wrong answer.

Simulated with scipy's LSODA (rtol 1e-10, atol 1e-14): the native path compiles C once per model structure
(about 0.3 s per case cold, 1800 structures) where LSODA needs no compilation (about 0.02 s per case). Models
whose events are scheme events (state-dependent or delayed) use BDF with steps no longer than the output interval
(``sbml_suite.EVENT_METHOD``: scipy's LSODA dense output can miss the bracket of a root). Cost: about a minute
and a half on one core (unpacking included).
"""
from __future__ import annotations

import functools
import warnings

import pytest

import kinetics as kx
import sbml_suite as suite

IDS = suite.case_ids()
#: Lower bounds of the counts on the whole suite (README): supported cases without and with events.
SUPPORTED_WITHOUT_EVENTS = 951
SUPPORTED_WITH_EVENTS = 378


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return suite.unpack(tmp_path_factory.mktemp("sbml-test-suite"))


@functools.lru_cache(maxsize=None)
def _case(root, case_id):
    case = suite.load_case(root / case_id)
    return case, suite.exclusion(case)


@pytest.mark.skipif(not IDS, reason=f"the SBML Test Suite archive is not at {suite.ARCHIVE}")
@pytest.mark.slow
@pytest.mark.parametrize("case_id", IDS or ["none"])
def test_semantic_case(root, case_id):
    case, why = _case(root, case_id)
    if why == "not a time course":
        pytest.skip("flux-balance cases of the suite are not time courses")
    if why is None:
        failure = suite.run(case)
        assert failure is None, f"case {case_id}: {failure}"
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kx.read_sbml_model(str(case.sbml))
    except kx.SchemeError as exc:
        assert "unsupported SBML construct" in str(exc), f"case {case_id} ({why}): {exc}"
        return
    failure = suite.run(case)   # loads although excluded: it must be right
    assert failure is None, f"case {case_id} (excluded: {why}) loads but is wrong: {failure}"


@pytest.mark.skipif(not IDS, reason=f"the SBML Test Suite archive is not at {suite.ARCHIVE}")
def test_supported_counts(root):
    """What the README states: at least this many cases are supported (and every one passes, above)."""
    counts = {False: 0, True: 0}
    for case_id in IDS:
        case, why = _case(root, case_id)
        if why is None:
            counts[case.has_events] += 1
    assert len(IDS) == 1821
    assert counts[False] >= SUPPORTED_WITHOUT_EVENTS
    assert counts[True] >= SUPPORTED_WITH_EVENTS
