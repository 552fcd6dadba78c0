"""Exception tree of the kinetics engine.

Every error the engine raises on purpose derives from :class:`KineticsError` and
from the builtin exception a Python user would expect, so both
``except KineticsError`` and ``except ValueError`` work.
"""
from __future__ import annotations

import difflib
from typing import Iterable

__all__ = [
    "KineticsError",
    "SchemeError",
    "ParseError",
    "UnitError",
    "ProtocolError",
    "ArgumentError",
    "SolverError",
    "CompilerError",
    "did_you_mean",
    "short_repr",
]


class KineticsError(Exception):
    """Base class of every error raised by :mod:`kinetics`."""


class SchemeError(KineticsError, ValueError):
    """A reaction scheme is inconsistent (unknown or duplicate names, bad values...)."""


class ParseError(SchemeError):
    """Text (an expression or a scheme file) could not be parsed."""

    def __init__(self, message: str, line: int | None = None, source: str | None = None):
        where = ""
        if source is not None:
            where += f"{source}:"
        if line is not None:
            where += f"{line}:"
        super().__init__(f"{where} {message}" if where else message)
        self.line = line
        self.source = source


class UnitError(SchemeError):
    """A unit string is unknown, or two quantities have incompatible dimensions.

    Raised for a scheme's dimensional errors when it is built (see
    :func:`kinetics.dimensions.require_consistent_units`), ``issues`` then holds
    the :class:`~kinetics.dimensions.UnitIssue` list; a reader adds the ``source``
    file and the ``line`` where it knows them.
    """

    def __init__(self, message: str, *, issues: tuple = (), line: int | None = None, source: str | None = None):
        where = (f"{source}:" if source is not None else "") + (f"{line}:" if line is not None else "")
        super().__init__(f"{where} {message}" if where else message)
        self.issues = tuple(issues)
        self.line = line
        self.source = source
        self.reason = message

    @classmethod
    def from_issues(cls, scheme_name: str, issues) -> "UnitError":
        """The error of a scheme's dimensional issues: one line per issue, and how to opt out."""
        issues = tuple(issues)
        if len(issues) == 1:
            text = f"scheme `{scheme_name}`: {issues[0]}"
        else:
            text = f"scheme `{scheme_name}` has {len(issues)} dimensional errors:\n" + \
                "\n".join(f"  - {i}" for i in issues)
        text += "\n(fix the units; or build the scheme with check_units=False if they are right)"
        return cls(text, issues=issues)

    def located(self, line: int | None = None, source: str | None = None) -> "UnitError":
        """The same error, pointing at a file and line."""
        return type(self)(self.reason, issues=self.issues, line=line, source=source)


class ProtocolError(KineticsError, ValueError):
    """A stimulation protocol is invalid (bad times, unknown targets...)."""


class ArgumentError(KineticsError, ValueError):
    """An argument of a call is invalid (tolerances, time grids, methods, overrides)."""


class SolverError(KineticsError, RuntimeError):
    """An ODE solve failed. Carries the time reached, the solver status and its message."""

    def __init__(self, message: str, t: float | None = None, status: int | None = None,
                 method: str | None = None):
        parts = [message]
        if method is not None:
            parts.append(f"method `{method}`")
        if t is not None:
            parts.append(f"at t = {t:.9g}")
        if status is not None:
            parts.append(f"status {status}")
        super().__init__("; ".join(parts))
        self.t = t
        self.status = status
        self.method = method
        self.reason = message


class CompilerError(KineticsError, RuntimeError):
    """The C compiler needed by the native fast path is missing or failed."""


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return ``"; did you mean `X`?"`` for the closest candidate (compared without case), or ``""``.

    >>> did_you_mean("lsoda", ["auto", "rodas", "LSODA"])
    '; did you mean `LSODA`?'
    """
    candidates = [str(c) for c in candidates]
    lowered = {}
    for c in candidates:
        lowered.setdefault(c.lower(), c)
    matches = difflib.get_close_matches(str(name).lower(), list(lowered), n=1, cutoff=0.5)
    return f"; did you mean `{lowered[matches[0]]}`?" if matches else ""


def resolve_name(name, candidates: Iterable[str]):
    """``name`` if it is one of ``candidates``, else the one candidate equal to it without case, else None.

    >>> resolve_name("ap5", ["AP5", "MK801"]), resolve_name("x", ["AP5"])
    ('AP5', None)
    """
    candidates = [str(c) for c in candidates]
    if name in candidates:
        return name
    if not isinstance(name, str):
        return None
    same = [c for c in candidates if c.lower() == name.lower()]
    return same[0] if len(same) == 1 else None


def short_repr(value, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for error messages that must not echo a hostile input in full.

    >>> short_repr("x" * 100, 10)
    "'xxxxx..."
    """
    try:
        text = repr(value)
    except ValueError:  # an int beyond Python's digit limit for str()
        return f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit - 3] + "..."
