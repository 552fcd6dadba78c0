"""The documentation site builds with no warning, and its generated pages show what the code says.

One build per session (the ``docs_build`` fixture of ``tests/conftest.py``, about 2 minutes on two cores, most of
it executing the notebooks, which tests/test_notebooks.py then reads instead of executing them again). The
oracles are independent of the site's generators: the equations come from the LaTeX exporter
(:func:`kinetics.exporters.latex.equations`) and the parameters from the schemes themselves.
"""
from __future__ import annotations

import html as html_lib
import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import kinetics
from kinetics.exporters.latex import equations
from models import registry

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

pytestmark = pytest.mark.slow


def _text(path: Path) -> str:
    assert path.is_file(), f"missing page {path}"
    return html_lib.unescape(path.read_text(encoding="utf-8"))


def _rows(page: str) -> list:
    """The rows of every table of a page, as lists of cell texts (tags removed, whitespace collapsed)."""
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S):
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        rows.append([" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells])
    return rows


@pytest.fixture(scope="module")
def site(docs_build):
    if docs_build.returncode != 0 or docs_build.warnings.strip():
        pytest.fail(f"the documentation build failed (status {docs_build.returncode}):\n"
                    f"{docs_build.warnings}\n{docs_build.log[-4000:]}")
    return docs_build


def test_build_is_clean(docs_build):
    assert docs_build.returncode == 0, docs_build.log[-4000:]
    assert docs_build.warnings.strip() == "", docs_build.warnings
    assert (docs_build.html / "index.html").is_file()


def test_api_pages(site):
    page = _text(site.html / "api" / "generated" / "objects" / "kinetics.simulate.html")
    assert 'id="kinetics.simulate"' in page and "t_end" in page and "Returns" in page
    for name in kinetics.__all__:       # every name kinetics exports has its page
        assert (site.html / "api" / "generated" / "objects" / f"kinetics.{name}.html").is_file(), name
    index = _text(site.html / "api" / "generated" / "models.destexhe1994.html")
    assert 'id="models.destexhe1994.five_state"' in index and 'id="models.destexhe1994.RATE_SETS"' in index
    mg = _text(site.html / "api" / "generated" / "models.mg_block.html")
    assert 'id="models.mg_block.MG_K0"' in mg


def _example_schemes():
    """(module, entry name, scheme) of every scheme the model library shows, built here from the registry."""
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    try:
        examples = importlib.import_module("model_pages").EXAMPLES
    finally:
        sys.path.remove(str(ROOT / "docs" / "_ext"))
    out = []
    for e in registry.available(("scheme", "transform")):
        if e.name in examples:
            out.append((e.module, e.name, examples[e.name][0]()))
        elif e.kind == "scheme":
            out.append((e.module, e.name, e.load()()))
    return out


def test_model_pages(site):
    schemes = _example_schemes()
    assert {m for m, _, _ in schemes} >= {"destexhe1994", "kampa2004", "synapse", "graupner_brunel2012",
                                          "skolnick1996", "glun1_glun2", "presynaptic_tltd"}
    index = _text(site.html / "models" / "generated" / "index.html")
    for module in {e.module for e in registry.available(("scheme", "transform"))}:
        assert f"models.{module}" in index
    for module, name, scheme in schemes:
        page = _text(site.html / "models" / "generated" / f"{module}.html")
        for lhs, rhs in equations(scheme):                   # the LaTeX exporter's equations, every one
            assert f"{lhs} = {rhs}" in page, (name, lhs)
        rows = {row[0]: row for row in _rows(page) if row}
        for p in scheme.parameters:                          # a row per parameter: name, value, unit, source
            row = rows.get(p.name)
            assert row is not None, (name, p.name)
            assert p.unit in row[3] and float(row[2]) == pytest.approx(p.value, rel=1e-5), (name, row)
            if p.reference:
                assert " ".join(p.reference.split()) in row[5], (name, p.name)
    # the value the equations use, in the scheme's units (ms, mM): 5 /uM/s = 5 /(mM ms), 12.9 /s = 0.0129 /ms
    rows = {row[0]: row for row in _rows(_text(site.html / "models" / "generated" / "destexhe1994.html")) if row}
    assert rows["Rb"][2:5] == ["5", "1/(uM*s)", "5 1/(mM*ms)"]
    assert rows["Ru"][2:5] == ["12.9", "1/s", "0.0129 1/ms"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_pages(site, notebook):
    page = _text(site.html / "notebooks" / "generated" / f"{notebook.stem}.html")
    outputs = re.findall(r'<div class="cell_output[^"]*">(.*?)</div>\s*</div>', page, re.S)
    assert outputs, f"{notebook.name}: no rendered output"
    assert any("<img" in o or "<pre>" in o or "<table" in o for o in outputs), notebook.name
    assert "Traceback" not in page
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(site.executed / notebook.name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code), notebook.name


def test_sources_and_cli_pages(site):
    sources = _text(site.html / "sources.html")
    assert "Thomazeau" in sources and "Destexhe" in sources
    cli = _text(site.html / "cli" / "generated" / "reference.html")
    from models.cli import build_parser

    for action in build_parser()._subparsers._group_actions:
        for name in action.choices:
            assert f"usage: nmdakin {name}" in cli, name


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_generated_pages_are_not_committed(site):
    generated = [ROOT / "docs" / d / "generated" for d in ("models", "api", "cli", "notebooks")]
    files = [str(next(p for p in d.rglob("*") if p.is_file()).relative_to(ROOT)) for d in generated]
    ignored = subprocess.run(["git", "check-ignore", *files], cwd=ROOT, capture_output=True, text=True)
    assert sorted(ignored.stdout.split()) == sorted(files)
