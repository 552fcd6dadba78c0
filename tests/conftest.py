"""Session fixtures shared by several test modules."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class DocsBuild:
    """One build of the documentation site (see :func:`docs_build`)."""

    #: Folder of the HTML output (``index.html``, ``api/``, ``models/generated/``, ``notebooks/generated/``...).
    html: Path
    #: Folder of the notebooks as myst-nb executed them during the build (``01_quickstart.ipynb``...): read
    #: them with ``nbformat.read(build.executed / name, as_version=4)``.
    executed: Path
    #: Exit status of ``sphinx-build``.
    returncode: int
    #: The warnings and errors Sphinx reported (with ``-W`` every one is fatal); empty for a clean build.
    warnings: str
    #: Standard output and error of the build.
    log: str
    #: Wall-clock time of the build (s).
    seconds: float

    def __getitem__(self, key):       # build["html"], build["executed"] work too
        return getattr(self, key)


@pytest.fixture(scope="session")
def docs_build(tmp_path_factory) -> DocsBuild:
    """The documentation site, built ONCE per test session (about 2 minutes on two cores), and its executed notebooks.

    Runs ``python -m sphinx -W --keep-going -b html docs <tmp>/html`` in a subprocess with no network access
    needed: every notebook of ``notebooks/`` is executed by myst-nb (in a temporary working folder), the model
    pages, API pages and command-line reference are generated from the code (into the git-ignored
    ``docs/*/generated/`` folders of the checkout). Returns a :class:`DocsBuild`:

    * ``html`` — the HTML output folder;
    * ``executed`` — the folder of the executed notebooks (``<tmp>/jupyter_execute/notebooks/generated``, where
      myst-nb writes them: next to the output folder), so that tests of notebook results read the outputs of this
      build instead of executing the notebooks a second time;
    * ``returncode``, ``warnings`` (the text of Sphinx's warning file), ``log`` and ``seconds``.

    The fixture does not assert anything: ``tests/test_docs.py`` checks that the build is clean. Without the
    documentation tools (``pip install ".[docs]"``; the ``test`` extra has them) the tests that use it are skipped.
    """
    for module in ("sphinx", "numpydoc", "myst_nb"):
        pytest.importorskip(module, reason="the documentation build needs `pip install \".[docs]\"`")
    out = tmp_path_factory.mktemp("docs")
    html = out / "html"
    warnings_file = out / "warnings.txt"
    env = dict(os.environ, MPLBACKEND="Agg")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q",
                           "-w", str(warnings_file), str(ROOT / "docs"), str(html)],
                          cwd=out, env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - start
    warnings = warnings_file.read_text(encoding="utf-8") if warnings_file.exists() else ""
    return DocsBuild(html=html, executed=out / "jupyter_execute" / "notebooks" / "generated",
                     returncode=proc.returncode, warnings=warnings, log=proc.stdout + proc.stderr, seconds=seconds)
