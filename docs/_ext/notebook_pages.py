"""The notebooks of ``notebooks/`` as pages of the site, executed by myst-nb at every build.

At ``config-inited`` the notebooks are copied into ``docs/notebooks/generated/`` (git-ignored), where
``docs/notebooks/index.md`` lists them. myst-nb executes each one (``nb_execution_mode = "force"``, in a temporary
working folder) and leaves the executed notebook in ``<outdir>/../jupyter_execute/notebooks/generated/``
(:func:`executed_folder`).
"""
from __future__ import annotations

from pathlib import Path

from sphinx.errors import ConfigError

from docgen_files import GeneratedFolder

#: Where the notebooks are copied, relative to the documentation's source folder.
TARGET = "notebooks/generated"


def notebook_folder(srcdir) -> Path:
    """The repository's ``notebooks/`` folder (next to ``docs/``)."""
    return Path(srcdir).resolve().parent / "notebooks"


def executed_folder(outdir) -> Path:
    """Where myst-nb writes the executed notebooks of a build whose HTML goes to ``outdir``."""
    return Path(outdir).resolve().parent / "jupyter_execute" / TARGET


def copy_notebooks(app, config) -> None:
    source = notebook_folder(app.srcdir)
    notebooks = sorted(source.glob("*.ipynb"))
    if not notebooks:
        raise ConfigError(f"no notebooks found in {source}: build the documentation from a checkout of the "
                          "repository (docs/ and notebooks/ side by side)")
    out = GeneratedFolder(Path(app.srcdir) / TARGET)
    for nb in notebooks:
        out.add(nb.name, nb.read_bytes())
    out.finish()


def setup(app):
    app.connect("config-inited", copy_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
