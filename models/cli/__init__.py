"""The ``nmdakin`` command line: :func:`main`, the one-line error handling, and one module per subcommand.

Subcommands
-----------
``nmdakin demo`` (:mod:`models.cli.demo`)
    The main job: NMDA receptor EPSCs (Destexhe five-state scheme + Jahr-Stevens
    Mg2+ block, 1 mM x 1 ms glutamate) at several holding potentials (PNG + CSV),
    the pharmacology table of the single-synapse model and its STDP curve (JSON +
    PNG each).
``nmdakin simulate FILE --t-end T --points N --csv OUT [--param name=value ...] [--amounts ID,ID]``
    Simulate a scheme written in the kinetics text format, JSON or SBML (``.xml``/``.sbml``)
    (:mod:`models.cli.simulate`); CSV columns are ``time`` and every species (and, for SBML, every parameter
    or compartment that changes).
``nmdakin export MODEL --format FMT -o OUT`` (:mod:`models.cli.export`)
    Export a library model or a scheme file to LaTeX, SBML, NMODL, C, Python or JSON.
``nmdakin stdp``, ``nmdakin frequency`` (:mod:`models.cli.stdp`)
    Plasticity experiments.
``nmdakin models`` (:mod:`models.cli.models`)
    The model registry: plasticity models (with their parameter sets and sources), scheme builders, transforms.
``nmdakin pharmacology`` (:mod:`models.cli.pharmacology`)
    The tLTD/tLTP pharmacology table of the single-synapse model.
``nmdakin fit EXPERIMENT.toml`` (:mod:`models.cli.fit`)
    Fit rate constants to data (:mod:`kinetics.fitting`).
``nmdakin chronic``, ``nmdakin binding`` (:mod:`models.cli.chronic`, :mod:`models.cli.binding`)
    Chronic antidepressant adaptation and radioligand binding assays.
``nmdakin stochastic`` (:mod:`models.cli.stochastic`)
    The synapse with N stochastic NMDA receptors (hybrid SSA/ODE) against the ODE.
``nmdakin cache info|clear`` (:mod:`models.cli.cache`)
    The compile cache of the native solvers.

Each subcommand module has ``add_subcommands(subparsers)``; each subcommand's ``func(args)`` returns the exit
status and raises :class:`kinetics.errors.KineticsError` for bad input.

Errors
------
Every error ends the command with ONE line on standard error, ``nmdakin COMMAND: error: MESSAGE``, and exit
status 2 (:func:`main`, :func:`describe_error`): the project's own errors (:mod:`kinetics.errors`), operating
system errors (a folder given as a file, no permission, a full disk), bad input that Python itself refuses
(``ValueError``, ``RecursionError`` of too deeply nested files, ``MemoryError``) and any unexpected
exception. Ctrl-C prints ``nmdakin COMMAND: interrupted`` and exits with 130. ``--debug`` (anywhere on the
command line, or ``NMDAKIN_DEBUG=1``) prints the traceback before that line. Usage errors of the command line
itself are one line too (exit 2). Warnings are printed as one line each: ``nmdakin COMMAND: warning: ...``.
Output paths (``--json``, ``--csv``, ``--plot``, ``-o``, ``--out``) are checked before any work starts
(:func:`kinetics.io.check_output_path`), so a long fit is never lost to a bad output path.
"""
from __future__ import annotations

import argparse
import os
import re
import sys

from ._common import check_input_path
from .simulate import MAX_POINTS

__all__ = ["main", "describe_error", "build_parser", "plain_text", "check_input_path", "MAX_POINTS"]

#: Longest error message printed (longer ones keep their start and end).
_MAX_MESSAGE = 1000

#: The subcommand modules, in the order of ``nmdakin --help``.
_SUBCOMMANDS = ("demo", "simulate", "export", "stdp", "models", "pharmacology", "synapse_fit", "fit", "chronic",
               "binding", "single_channel", "stochastic", "cache")


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line (``PROG: error: MESSAGE (see PROG --help)``).

    ``add_subparsers`` creates subparsers of the same class, so every subcommand behaves alike."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {_one_line(' '.join(str(message).split()))} "
                     f"(see `{self.prog} --help`)\n")

    def _get_value(self, action, arg_string):
        # names on the command line are matched without case where that is unambiguous (`ap5` -> `AP5`)
        value = super()._get_value(action, arg_string)
        if action.choices is not None and isinstance(value, str) and value not in action.choices:
            from kinetics.errors import resolve_name

            match = resolve_name(value, [str(c) for c in action.choices])
            if match is not None:
                return match
        return value

    def _check_value(self, action, value):
        # argparse's own check, plus "did you mean" for a misspelt choice
        if action.choices is not None and value not in action.choices:
            from kinetics.errors import did_you_mean

            names = [str(c) for c in action.choices]
            raise argparse.ArgumentError(action, f"invalid choice: {value!r}" + did_you_mean(str(value), names)
                                         + f" (choose from {', '.join(names)})")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = _Parser(prog="nmdakin", description="Kinetic models of NMDA-receptor synapses.")
    parser.add_argument("--debug", action="store_true",
                        help="show the Python traceback of an error (also accepted after the subcommand; "
                             "or set NMDAKIN_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_subcommands(sub)
    _tidy_help(parser)
    return parser


_ROLE = re.compile(r":(?:mod|func|class|meth|attr|data|obj|exc|doc|ref):`~?([^`]+)`")


def plain_text(text):
    """Help text without reStructuredText markup: ``:func:`~a.b``` -> ``b``, ````x```` -> ``x``."""
    if not text or text is argparse.SUPPRESS:
        return text
    text = _ROLE.sub(lambda m: m.group(1).rsplit(".", 1)[-1] if m.group(0).count("~") else m.group(1), text)
    return text.replace("``", "")


def _tidy_help(parser: argparse.ArgumentParser) -> None:
    """Every subcommand gets a description (its one-line help, when it has none) and every text loses its
    reST markup (the descriptions of some commands come from their module docstrings)."""
    parser.description = plain_text(parser.description)
    parser.epilog = plain_text(parser.epilog)
    for action in parser._actions:
        action.help = plain_text(action.help)
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                if not (sub.description or "").strip() and helps.get(name):
                    text = plain_text(helps[name]).strip()
                    sub.description = text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
                _tidy_help(sub)
            for a in action._choices_actions:
                a.help = plain_text(a.help)


def _one_line(text: str) -> str:
    """``text`` on one line of printable characters, at most ``_MAX_MESSAGE`` long."""
    text = " | ".join(line.strip() for line in str(text).splitlines() if line.strip())
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(text) > _MAX_MESSAGE:
        keep = _MAX_MESSAGE - 200
        text = f"{text[:keep]} ...[{len(text) - keep - 150} characters]... {text[-150:]}"
    return text


_WRITE_ERRNOS = {"ENOSPC", "EDQUOT", "EROFS", "EFBIG"}


def describe_error(exc: BaseException) -> str:
    """The one-line message the command line prints for ``exc`` (without the ``nmdakin CMD: error:`` part)."""
    import errno

    from kinetics.errors import KineticsError

    if isinstance(exc, KineticsError):
        msg = str(exc)
    elif isinstance(exc, OSError):
        if exc.strerror and exc.filename is not None:
            names = f"`{exc.filename}`" + (f" -> `{exc.filename2}`" if exc.filename2 is not None else "")
            verb = "cannot write " if errno.errorcode.get(exc.errno) in _WRITE_ERRNOS else ""
            msg = f"{verb}{names}: {exc.strerror}"
        else:
            msg = exc.strerror or str(exc)
    elif isinstance(exc, RecursionError):
        msg = "the input is nested too deeply to be read (maximum recursion depth exceeded)"
    elif isinstance(exc, MemoryError):
        msg = "out of memory (is an input file, a range or --points too large?)"
    elif isinstance(exc, UnicodeError):
        msg = f"the input is not valid UTF-8 text ({exc})"
    elif isinstance(exc, ValueError):
        msg = str(exc)
    else:
        msg = f"{type(exc).__name__}: {exc} (an internal error: run with --debug for the traceback)"
    return _one_line(msg or type(exc).__name__)


def _pop_debug(argv: list) -> bool:
    """Remove every ``--debug`` before a ``--`` from ``argv``; True if there was one."""
    end = argv.index("--") if "--" in argv else len(argv)
    found = "--debug" in argv[:end]
    argv[:end] = [a for a in argv[:end] if a != "--debug"]
    return found


def main(argv=None) -> int:
    """Run the command line; returns the exit status (0 success, 2 error, 3 fit not converged, 130 Ctrl-C).

    Usage errors exit through ``SystemExit(2)`` (argparse), with one line on standard error."""
    import traceback
    import warnings

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = _pop_debug(argv) or os.environ.get("NMDAKIN_DEBUG", "").strip() not in ("", "0")
    prog = "nmdakin"
    old_showwarning = warnings.showwarning

    def showwarning(message, category, filename, lineno, file=None, line=None):
        if debug:
            return old_showwarning(message, category, filename, lineno, file, line)
        print(f"{prog}: warning: {_one_line(message)}", file=sys.stderr if file is None else file)

    warnings.showwarning = showwarning
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        prog = f"nmdakin {args.command}"
        status = args.func(args)
        sys.stdout.flush()               # a closed pipe shows up here, inside the error handling
        return status
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError as exc:
        if exc.filename is not None:     # a file, not our standard output read by a closed pipe
            if debug:
                traceback.print_exc()
            print(f"{prog}: error: {describe_error(exc)}", file=sys.stderr)
            return 2
        try:                             # `nmdakin ... | head`: stop quietly like other command-line tools
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141
    except Exception as exc:             # noqa: BLE001 - every error becomes one line (see the module docstring)
        if debug:
            traceback.print_exc()
        print(f"{prog}: error: {describe_error(exc)}", file=sys.stderr)
        return 2
    finally:
        warnings.showwarning = old_showwarning


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
