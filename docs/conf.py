"""Sphinx configuration of the nmdakin documentation.

Build (no network needed; warnings are errors)::

    python -m pip install ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html

The model library, the API pages, the command-line reference and the notebook pages are generated from the
code at every build by the extensions in ``docs/_ext`` (into the git-ignored ``generated/`` folders), so they
cannot drift from it. The notebooks of ``notebooks/`` are executed by myst-nb at every build.
"""
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import kinetics  # noqa: E402  (the installed package: `pip install .` or an editable install)

project = "nmdakin"
author = "nmdakin developers"
copyright = "nmdakin developers"
version = release = kinetics.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
    # nmdakin's own generated pages (docs/_ext), written at config-inited: before Sphinx lists the source files
    # and before autosummary (builder-inited) reads the API pages
    "notebook_pages",
    "model_pages",
    "api_pages",
    "cli_page",
]

root_doc = "index"
exclude_patterns = ["_build", "jupyter_execute", ".jupyter_cache", "figures/README.md", "**.ipynb_checkpoints"]
templates_path = ["_templates"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# -- HTML: the default theme (no extra dependency)
html_theme = "alabaster"
html_title = f"nmdakin {release}"
html_static_path = []
html_theme_options = {"description": "Kinetic models of NMDA-receptor synapses", "page_width": "1180px",
                      "sidebar_width": "250px"}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}

# -- API reference
autosummary_generate = True
autodoc_member_order = "bysource"
autodoc_typehints = "none"              # the numpydoc sections say the types
autodoc_inherit_docstrings = False
numpydoc_show_class_members = False      # autodoc's :members: documents them
numpydoc_validation_checks = set()
numpydoc_xref_param_type = False

# -- MyST and notebooks: every notebook is executed at every build, in a temporary folder; an error fails it
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 600
nb_execution_in_temp = True
nb_execution_show_tb = True
nb_merge_streams = True

# No network at build time: no intersphinx; MathJax is loaded by the reader's browser. No warning is suppressed.
