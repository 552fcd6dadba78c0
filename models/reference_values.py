"""Reference values shipped with the package, for the notebooks and for users checking their own runs.

The files live in ``models/data/`` (package data) and carry their own source note (``"source"``, ``"method"``).
"""
from __future__ import annotations

import json
from pathlib import Path

__all__ = ["destexhe1994_peaks"]

_DATA = Path(__file__).parent / "data"


def destexhe1994_peaks() -> dict:
    """Exact peak open probability and time to peak of the Destexhe et al. (1994) five-state scheme.

    For every published rate set (Destexhe, Mainen & Sejnowski 1994 and the four sets compiled in their 1998
    chapter) and both statistical-factor conventions, after a 1 mM x 1 ms glutamate pulse from rest, computed
    by matrix exponentials (the file's ``"method"``). Layout: ``["values"][rate_set][convention]`` with
    ``convention`` ``"without_statistical_factors"`` or ``"with_statistical_factors"``, holding
    ``"peak_open_probability"`` and ``"time_to_peak_ms"``.

    Examples
    --------
    >>> ref = destexhe1994_peaks()
    >>> round(ref["values"]["destexhe1994"]["without_statistical_factors"]["peak_open_probability"], 6)
    0.272623
    """
    return json.loads((_DATA / "destexhe1994_peaks.json").read_text(encoding="utf-8"))
