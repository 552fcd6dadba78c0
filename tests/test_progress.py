"""kinetics.progress: one helper makes every progress bar; text bars without ipywidgets, never a warning."""
import sys
import warnings

import pytest
from tqdm.std import tqdm as text_tqdm

from kinetics import executor, progress
from kinetics.progress import progress_bar, want_progress


class _Kernel:
    """What IPython's get_ipython() returns in a Jupyter kernel: a shell whose config names IPKernelApp."""

    config = {"IPKernelApp": {"connection_file": "kernel-0.json"}}


class _FakeIPython:
    @staticmethod
    def get_ipython():
        return _Kernel()


@pytest.fixture
def kernel_without_widgets(monkeypatch):
    """A Jupyter kernel (as tqdm.auto detects it) in which ipywidgets cannot be imported."""
    monkeypatch.setitem(sys.modules, "IPython", _FakeIPython())
    monkeypatch.setitem(sys.modules, "ipywidgets", None)       # `import ipywidgets` raises ImportError
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)


def test_off_means_no_bar_and_no_tqdm(capsys):
    bar = progress_bar(range(4), desc="x", progress=False)
    assert list(bar) == [0, 1, 2, 3]
    with progress_bar(total=4, progress=False) as manual:
        manual.update(2)
    assert capsys.readouterr().err == ""


def test_text_bar_in_a_kernel_without_ipywidgets_never_warns(kernel_without_widgets, capsys):
    assert progress.in_notebook() and not progress.notebook_widgets()
    assert want_progress(None)                                  # default: on in a notebook
    with warnings.catch_warnings():
        warnings.simplefilter("error")                          # "IProgress not found" would fail here
        bar = progress_bar(range(3), desc="fits", unit="task")
        assert isinstance(bar, text_tqdm) and type(bar).__module__ == "tqdm.std"
        assert list(bar) == [0, 1, 2]
        bar.close()
        # the executor's bars go through the same helper
        assert executor.SerialExecutor().map(abs, [-1, -2, 3], desc="starts") == [1, 2, 3]
    err = capsys.readouterr().err
    assert "fits: " in err and "0/3" in err and "starts: " in err and "IProgress" not in err


def test_default_follows_the_terminal_outside_notebooks(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert not progress.in_notebook()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert want_progress(None) is False
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert want_progress(None) is True
    assert want_progress(False) is False and want_progress(1) is True
    assert executor.want_progress is want_progress


def test_a_shell_that_is_not_a_kernel_is_not_a_notebook(monkeypatch):
    class Terminal:
        config = {"TerminalIPythonApp": {}}

    class FakeIPython:
        get_ipython = staticmethod(lambda: Terminal())

    monkeypatch.setitem(sys.modules, "IPython", FakeIPython())
    assert not progress.in_notebook()


def test_notebook_bar_when_ipywidgets_is_present(monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.setitem(sys.modules, "IPython", _FakeIPython())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bar = progress_bar(total=2, desc="nb", progress=True)
    assert type(bar).__module__ == "tqdm.notebook"
    bar.close()


def test_no_module_imports_tqdm_auto():
    from pathlib import Path

    root = Path(__file__).parent.parent
    offenders = [str(p.relative_to(root)) for d in ("kinetics", "models") for p in (root / d).rglob("*.py")
                 if "tqdm.auto" in p.read_text(encoding="utf-8") and p.name != "progress.py"]
    assert offenders == []
