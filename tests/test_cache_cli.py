"""``nmdakin cache info|clear`` and kinetics.cachedir: counts what a real build wrote, removes only cache entries,
skips an entry whose build lock is held, and a cleared model is rebuilt on its next use."""
import os
import subprocess
import sys

import pytest

from kinetics.cachedir import cache_info, clear_cache
from models.cli import main

SIMULATE = ("import kinetics as kx; s = kx.Scheme('decay_cache', species=[kx.Species('A', 1.0)], "
            "parameters=[kx.Parameter('k', 1.0, '1/ms')], reactions=[kx.reaction('A ->', 'k')]); "
            "print(round(float(kx.simulate(s, t_end=1.0, n_points=2, rtol=1e-10, atol=1e-12)['A'][-1]), 6))")


def _simulate_in(folder):
    env = dict(os.environ, NMDAKIN_CACHE_DIR=str(folder))
    out = subprocess.run([sys.executable, "-c", SIMULATE], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_info_and_clear_on_a_real_cache(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "cache"
    assert _simulate_in(folder) == "0.367879"                     # exp(-1); compiles into `folder`
    (folder / "notes.txt").write_text("not the package's")
    info = cache_info(folder)
    assert info.exists and info.n_models == 1 and info.n_files >= 2 and info.bytes > 1000
    monkeypatch.setenv("NMDAKIN_CACHE_DIR", str(folder))
    assert main(["cache", "info"]) == 0
    assert f"compile cache: {folder}\n  1 compiled models" in capsys.readouterr().out
    assert main(["cache", "clear"]) == 0
    assert f"removed {info.n_files} files" in capsys.readouterr().out
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert cache_info(folder).n_models == 0
    assert _simulate_in(folder) == "0.367879" and cache_info(folder).n_models == 1     # rebuilt on next use


def test_missing_folder_and_held_lock(tmp_path):
    assert not cache_info(tmp_path / "none").exists and clear_cache(tmp_path / "none") == (0, 0)
    assert "does not exist yet" in cache_info(tmp_path / "none").describe()
    fcntl = pytest.importorskip("fcntl")
    key = "a" * 40
    for suffix in ("so", "json", "lock"):
        (tmp_path / f"nk_{key}.{suffix}").write_bytes(b"x")
    (tmp_path / f"nk_{'b' * 40}.c").write_bytes(b"y")
    with open(tmp_path / f"nk_{key}.lock", "r+") as held:        # another process building `key`
        fcntl.flock(held, fcntl.LOCK_EX)
        assert clear_cache(tmp_path) == (1, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"nk_{key}.{s}" for s in ("json", "lock", "so")]


def test_the_jit_paths_files_are_counted_and_cleared(tmp_path):
    # kinetics.jit.diskcache keeps generated modules and numba's index/data files in <cache>/numba
    jit = tmp_path / "numba"
    jit.mkdir()
    for name, size in (("integrator.solve-782.py311.nbi", 3), ("integrator.solve-782.py311.1.nbc", 5),
                       ("model_0123abcd.py", 7)):
        (jit / name).write_bytes(b"x" * size)
    (jit / "notes.txt").write_text("mine")
    (tmp_path / f"nk_{'c' * 40}.so").write_bytes(b"y" * 11)
    info = cache_info(tmp_path)
    assert (info.n_models, info.n_files, info.bytes) == (1, 4, 26)
    assert clear_cache(tmp_path) == (4, 26)
    assert [p.name for p in jit.iterdir()] == ["notes.txt"] and cache_info(tmp_path).n_files == 0
