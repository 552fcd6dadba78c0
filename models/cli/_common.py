"""Helpers the subcommands share: input and output path checks, JSON output, number arguments."""
from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path

__all__ = ["check_input_path", "check_output", "write_json", "check_outputs", "write_outputs", "positive_float",
           "nonneg_float", "nonneg_int", "positive_int", "refuse_options"]


def check_input_path(path, what: str = "input file") -> Path:
    """``path`` as a :class:`Path` if it is a readable file; :class:`~kinetics.errors.ArgumentError` otherwise."""
    from kinetics.errors import ArgumentError

    p = Path(path)
    if not str(path).strip():
        raise ArgumentError(f"the {what} path is empty")
    if p.is_dir():
        raise ArgumentError(f"cannot read {what} `{p}`: it is a folder, not a file")
    if not p.exists():
        raise ArgumentError(f"{what} not found: `{p}`")
    if not os.access(p, os.R_OK):
        raise ArgumentError(f"cannot read {what} `{p}`: permission denied")
    return p


def refuse_options(given, only: str, why: str = "") -> None:
    """Raise :class:`~kinetics.errors.ArgumentError` ``"--a and --b only apply {only}"`` when ``given`` (option
    names the other options make meaningless) is not empty: an option is never ignored silently.

    >>> refuse_options([], "with --data")
    >>> refuse_options(["--efficiency"], "with --data TABLE")
    Traceback (most recent call last):
    ...
    kinetics.errors.ArgumentError: --efficiency only applies with --data TABLE
    """
    from kinetics.errors import ArgumentError

    given = list(given)
    if given:
        names = given[0] if len(given) == 1 else ", ".join(given[:-1]) + " and " + given[-1]
        raise ArgumentError(f"{names} only {'applies' if len(given) == 1 else 'apply'} {only}"
                            + (f" ({why})" if why else ""))


def check_output(path, what):
    """``path`` checked before any work (:func:`kinetics.io.check_output_path`); ``None`` stays ``None``."""
    from kinetics.io import check_output_path

    return check_output_path(path, what, figure=(what == "figure"))


def write_json(path, result) -> None:
    """``result`` as indented JSON, written atomically."""
    from kinetics.io import atomic_write_text

    atomic_write_text(path, json.dumps(result, indent=2) + "\n")


def check_outputs(args) -> None:
    """Check ``--json`` and ``--plot`` before any work (:func:`kinetics.io.check_output_path`)."""
    from kinetics.io import check_output_path

    check_output_path(args.json, "JSON")
    check_output_path(getattr(args, "plot", None), "figure", figure=True)


def write_outputs(args, payload: dict, draw) -> None:
    """Write the JSON (atomically) and, if asked, the PNG made by ``draw(fig)``; compute before writing."""
    from pathlib import Path

    from kinetics.io import figure_format, atomic_write_bytes, atomic_write_text

    text = json.dumps(payload, indent=1) + "\n"
    png = None
    if getattr(args, "plot", None):
        import io

        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig = draw(plt)
        buf = io.BytesIO()
        try:
            fig.savefig(buf, format=figure_format(Path(args.plot)), dpi=110)
        finally:
            plt.close(fig)
        png = buf.getvalue()
    atomic_write_text(args.json, text)
    if png is not None:
        atomic_write_bytes(args.plot, png)


def _float_above(text: str, *, strict: bool) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(v) or (v <= 0 if strict else v < 0):
        raise argparse.ArgumentTypeError(f"must be {'>' if strict else '>='} 0, got {text!r}")
    return v


def positive_float(text: str) -> float:
    """An ``argparse`` type: a finite number > 0."""
    return _float_above(text, strict=True)


def nonneg_float(text: str) -> float:
    """An ``argparse`` type: a finite number >= 0."""
    return _float_above(text, strict=False)


def nonneg_int(text: str, maximum: int | None = None, minimum: int = 0) -> int:
    """An integer >= ``minimum`` (0) and <= ``maximum``, for ``argparse`` types."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < minimum:
        raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {text!r}")
    if maximum is not None and v > maximum:
        raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {text!r}")
    return v


def positive_int(text: str) -> int:
    """An ``argparse`` type: an integer >= 1."""
    return nonneg_int(text, minimum=1)
