"""Progress bars that work on a terminal and in Jupyter, never with a warning.

Every progress bar of the package comes from :func:`progress_bar`:

* ``progress=True`` shows a bar, ``False`` never does, ``None`` (the default everywhere) shows one when
  stderr is a terminal or when running in a Jupyter kernel (:func:`want_progress`);
* in a Jupyter kernel with ``ipywidgets`` importable the bar is tqdm's notebook widget, otherwise (a
  terminal, a kernel without ``ipywidgets``, a console) it is tqdm's plain text bar on stderr;
* ``tqdm.auto`` is never imported: in a kernel without ``ipywidgets`` it warns "IProgress not found" at
  import. Nothing is imported at all when no bar is shown.

Examples
--------
>>> with progress_bar(total=3, desc="demo", progress=False) as bar:
...     for _ in range(3):
...         bar.update()
>>> [x for x in progress_bar(range(3), progress=False)]
[0, 1, 2]
"""
from __future__ import annotations

import importlib.util
import sys

__all__ = ["progress_bar", "want_progress", "in_notebook", "notebook_widgets"]


def in_notebook() -> bool:
    """True inside a Jupyter (IPython) kernel, False in a terminal, a console or a plain script."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:                       # an IPython too old or half imported: not a kernel we know
        return False
    if shell is None:
        return False
    try:
        return "IPKernelApp" in shell.config
    except Exception:
        return False


def notebook_widgets() -> bool:
    """True when ``ipywidgets`` can be imported (the notebook bar needs its ``FloatProgress``)."""
    try:
        if importlib.util.find_spec("ipywidgets") is None:
            return False
        from ipywidgets import FloatProgress  # noqa: F401
    except Exception:                       # absent, blocked (sys.modules entry None) or broken
        return False
    return True


def want_progress(progress) -> bool:
    """``bool(progress)`` if given, else True when stderr is a terminal or in a Jupyter kernel.

    >>> want_progress(False), want_progress(True)
    (False, True)
    """
    if progress is not None:
        return bool(progress)
    if in_notebook():
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class _NoBar:
    """What :func:`progress_bar` returns when no bar is shown: iterates the items, ignores updates."""

    def __init__(self, iterable=None):
        self._iterable = iterable

    def __iter__(self):
        return iter(self._iterable if self._iterable is not None else ())

    def update(self, n=1):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def progress_bar(iterable=None, *, total: int | None = None, desc: str = "", unit: str = "it",
                 progress=None, leave: bool = False):
    """A tqdm bar over ``iterable`` (or a manual one with ``total``), or a silent stand-in.

    Parameters
    ----------
    iterable : iterable, optional
        Items to iterate with a bar; leave out for a bar driven by ``update()``.
    total : int, optional
        Number of steps (default ``len(iterable)`` when it has one).
    desc, unit : str
        Label and unit of the bar.
    progress : bool or None
        Show the bar: True, False, or None for :func:`want_progress`'s default.
    leave : bool
        Keep the finished bar on screen.

    Returns
    -------
    A ``tqdm.notebook.tqdm`` (Jupyter with ipywidgets), a ``tqdm.std.tqdm`` (anywhere else), or an object with
    the same ``update``/``close``/iteration/context-manager interface that shows nothing.
    """
    if not want_progress(progress):
        return _NoBar(iterable)
    if in_notebook() and notebook_widgets():
        from tqdm.notebook import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=leave)
