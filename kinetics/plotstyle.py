"""One plotting style for every figure nmdakin draws (engine level: no biology).

* :data:`PALETTE` -- the Okabe-Ito colour-blind-safe colours (Okabe & Ito 2008, "Color Universal Design"),
  used as the colour cycle (``"C0"``, ``"C1"``, ... inside :func:`style`);
* :func:`style` -- a context manager applying readable font sizes and the palette through
  :func:`matplotlib.rc_context`, so the user's global ``rcParams`` are restored on exit;
* :func:`label` -- axis labels with the unit in square brackets, ``"time [ms]"`` (the one convention: round
  brackets in a label are words, never a unit);
* :func:`time_axis` -- time values in a readable unit (60 s is shown as 0-60 s, not 0-60000 ms).

matplotlib is imported only when :func:`style` is entered.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

__all__ = ["PALETTE", "RC", "style", "label", "time_axis", "time_factor"]

#: Okabe-Ito colours without black (black is kept for data points): blue, vermillion, bluish green, orange,
#: reddish purple, sky blue, yellow.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442")

#: The rcParams :func:`style` applies: sizes readable in a notebook and in a PNG at 110-120 dpi.
RC = {
    "font.size": 10.0,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10.0,
    "xtick.labelsize": 9.0,
    "ytick.labelsize": 9.0,
    "legend.fontsize": 8.5,
    "figure.titlesize": 11.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
}


@contextmanager
def style():
    """Apply the nmdakin style (:data:`RC`, colour cycle :data:`PALETTE`) inside a ``with`` block only.

    Figures and artists created inside the block keep the style; ``matplotlib.rcParams`` are restored on
    exit (also on an error).

    Examples
    --------
    >>> import matplotlib
    >>> before = matplotlib.rcParams["font.size"]
    >>> with style():
    ...     matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][0]
    '#0072B2'
    >>> matplotlib.rcParams["font.size"] == before
    True
    """
    import matplotlib
    from cycler import cycler

    with matplotlib.rc_context({**RC, "axes.prop_cycle": cycler(color=list(PALETTE))}):
        yield


def label(quantity: str, unit: str | None = None) -> str:
    """Axis label ``"quantity [unit]"``; the bare quantity when ``unit`` is empty, ``None`` or ``"1"``.

    Examples
    --------
    >>> label("time", "ms")
    'time [ms]'
    >>> label("open probability", "1")
    'open probability'
    """
    if not isinstance(quantity, str) or not quantity.strip():
        raise ValueError(f"an axis label needs a quantity name, got {quantity!r}")
    unit = "" if unit is None else str(unit).strip()
    return quantity if unit in ("", "1", "dimensionless") else f"{quantity} [{unit}]"


_TIME_SCALE = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0}


def time_axis(t, unit: str):
    """Times ``t`` (in ``unit``) rescaled to a readable unit: returns ``(values, unit)``.

    A span of 10 s or more in ``us``/``ms`` is shown in s (120 s and more in ``min``: no), a span under
    0.1 s in ``s`` is shown in ms; other units (``min``, ``h``, unknown ones) are returned unchanged.

    Examples
    --------
    >>> v, u = time_axis([0.0, 60000.0], "ms")
    >>> v.tolist(), u
    ([0.0, 60.0], 's')
    >>> time_axis([0.0, 0.02], "s")[1]
    'ms'
    >>> time_axis([0.0, 50.0], "ms")[1]
    'ms'
    """
    t = np.asarray(t, dtype=float)
    if unit not in _TIME_SCALE or t.size == 0:
        return t, unit
    span = float(np.nanmax(np.abs(t))) * _TIME_SCALE[unit] if np.isfinite(t).any() else 0.0
    if unit in ("us", "ms") and span >= 10.0:
        target = "s"
    elif unit == "us" and span >= 0.01:
        target = "ms"
    elif unit == "s" and 0 < span < 0.1:
        target = "ms"
    else:
        return t, unit
    return t * (_TIME_SCALE[unit] / _TIME_SCALE[target]), target


def time_factor(unit: str, to: str) -> float:
    """Factor turning times in ``unit`` into ``to`` (1 when they are equal).

    Examples
    --------
    >>> time_factor("ms", "s")
    0.001
    """
    if unit == to:
        return 1.0
    if unit not in _TIME_SCALE or to not in _TIME_SCALE:
        raise ValueError(f"cannot convert time from {unit!r} to {to!r}; known: {', '.join(_TIME_SCALE)}")
    return _TIME_SCALE[unit] / _TIME_SCALE[to]
