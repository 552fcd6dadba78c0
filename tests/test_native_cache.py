"""Tests of the compile cache's defences (kinetics/native/__init__.py): a private folder, a manifest
with the SHA-256 of every library checked before dlopen, fallback to a temporary folder, and the
compiler-free fallback of simulate().

Anything that could crash the interpreter (dlopen of a truncated or planted library) runs in a
subprocess, so a SIGBUS shows as a failed test rather than killing pytest.
"""
from __future__ import annotations

import errno
import json
import math
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from kinetics import Parameter, Scheme, Species, reaction, simulate
from kinetics.codegen import c_source
from kinetics.errors import CompilerError
from kinetics.model import compile as compile_model
from kinetics.native import (NativeCacheWarning, NativeSolver, SegmentArrays, build, build_keyed,
                             compiler_available, library_ok)
from kinetics.odesystem import derive

pytestmark = pytest.mark.skipif(not compiler_available(),
                                reason="no C compiler (cc/gcc/clang or $CC) available")

IS_ROOT = hasattr(os, "getuid") and os.getuid() == 0
ROOT = Path(__file__).resolve().parents[1]
K = 0.5

# A hand-written model block (see tests/test_native.py): dy/dt = -p0 * y.
DECAY_SRC = ("#define NK_NSTATE 1\n#define NK_NPARAM 1\n#define NK_NINPUT 0\n#define NK_AUTONOMOUS 1\n"
             "static void nk_rhs(double t, const double *y, const double *p, const double *u, double *f) "
             "{ f[0] = -p[0] * y[0]; }\n"
             "static void nk_jac(double t, const double *y, const double *p, const double *u, double *J) "
             "{ J[0] = -p[0]; }\n")


def decay_source(tag: str) -> str:
    """A distinct source (hence cache key) per test, so the in-process memo never hides a case."""
    return DECAY_SRC + f"/* {tag} */\n"


def decay_scheme(species="A"):
    """dA/dt = -k A; another species name gives another structure, hence another library."""
    return Scheme("decay", species=[Species(species, 1.0)], parameters=[Parameter("k", K, "1/ms")],
                  reactions=[reaction(f"{species} ->", "k")])


def solve_decay(path) -> float:
    solver = NativeSolver(path, 1, 1, 0)
    _, y, _ = solver.solve([1.0], [1.0], SegmentArrays.single(0.0, 1.0), [], rtol=1e-10, atol=1e-14)
    return float(y[0])


def manifest_of(lib: Path) -> Path:
    return lib.with_name(lib.name[:-len(lib.suffix)] + ".json")


def run_python(code: str, cache_dir, extra_env=None, prefix=()):
    """Run ``code`` in a fresh interpreter with ``$NMDAKIN_CACHE_DIR=cache_dir``."""
    env = dict(os.environ, NMDAKIN_CACHE_DIR=str(cache_dir), MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(
                   os.pathsep) if p]))
    env.update(extra_env or {})
    return subprocess.run([*prefix, sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=env, timeout=600)


SIMULATE_DECAY = """
    import math, warnings
    warnings.simplefilter("always")
    from kinetics import Parameter, Scheme, Species, reaction, simulate
    s = Scheme("decay", species=[Species("A", 1.0)], parameters=[Parameter("k", 0.5, "1/ms")],
               reactions=[reaction("A ->", "k")])
    res = simulate(s, t_end=2.0, t_eval=[0.0, 1.0, 2.0], rtol=1e-10, atol=1e-12)
    assert res.method == "auto", res.method
    print(repr(float(res["A"][-1])))
"""


def scheme_library(cache_dir) -> Path:
    """The cache path of decay_scheme()'s library, the one simulate() loads (built once here): keyed by the
    scheme's code identity (kinetics.model.CompiledModel.native_solver)."""
    s = decay_scheme()
    return build_keyed(compile_model(s).code_identity(), lambda: c_source(derive(s)), cache_dir=cache_dir)


def assert_simulates_correctly(proc):
    assert proc.returncode == 0, f"subprocess failed (status {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    value = float(proc.stdout.strip().splitlines()[-1])
    assert value == pytest.approx(math.exp(-2 * K), rel=1e-8)


# ----------------------------------------------------------------------------- a private folder

def test_cache_folder_and_new_parents_are_created_0700(tmp_path):
    cache = tmp_path / "a" / "b" / "cache"
    old = os.umask(0o022)
    try:
        path = build(decay_source("create"), cache_dir=cache)
    finally:
        os.umask(old)
    assert path.parent == cache
    for folder in (tmp_path / "a", tmp_path / "a" / "b", cache):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder
    assert manifest_of(path).exists()
    assert solve_decay(path) == pytest.approx(math.exp(-1.0), rel=1e-8)


def test_default_cache_folder_from_environment_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("NMDAKIN_CACHE_DIR", str(tmp_path / "envcache"))
    path = build(decay_source("env"))
    assert path.parent == tmp_path / "envcache"
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702])
def test_group_or_world_writable_folder_is_refused(tmp_path, mode):
    cache = tmp_path / "shared"
    cache.mkdir()
    os.chmod(cache, mode)
    with pytest.warns(NativeCacheWarning, match=r"not using the compile cache folder .*shared.*writable"):
        path = build(decay_source(f"writable {mode:o}"), cache_dir=cache)
    assert path.parent != cache and not list(cache.iterdir())     # nothing written to the refused folder
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert solve_decay(path) == pytest.approx(math.exp(-1.0), rel=1e-8)


def test_folder_made_writable_after_use_is_refused(tmp_path):
    """The in-process memo of trusted folders notices a change of mode."""
    cache = tmp_path / "cache"
    first = build(decay_source("memo dir 1"), cache_dir=cache)
    assert first.parent == cache
    os.chmod(cache, 0o777)
    with pytest.warns(NativeCacheWarning, match="group- and world-writable"):
        second = build(decay_source("memo dir 2"), cache_dir=cache)
    assert second.parent != cache
    with pytest.raises(CompilerError, match="not private"):      # nor is the old entry loaded from it
        NativeSolver(first, 1, 1, 0)
    assert not library_ok(first)


@pytest.mark.skipif(not IS_ROOT, reason="chown to another user needs root")
def test_folder_owned_by_another_user_is_refused(tmp_path):
    cache = tmp_path / "theirs"
    cache.mkdir(mode=0o700)
    os.chown(cache, 65534, 65534)
    with pytest.warns(NativeCacheWarning, match=r"theirs.*owned by uid 65534"):
        path = build(decay_source("foreign dir"), cache_dir=cache)
    assert path.parent != cache and not list(cache.iterdir())
    assert solve_decay(path) == pytest.approx(math.exp(-1.0), rel=1e-8)


@pytest.mark.skipif(not IS_ROOT, reason="chown to another user needs root")
def test_symlink_to_a_folder_of_another_user_is_refused(tmp_path):
    target = tmp_path / "theirs"
    target.mkdir(mode=0o700)
    os.chown(target, 65534, 65534)
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.warns(NativeCacheWarning, match=r"link.*owned by uid 65534"):
        path = build(decay_source("foreign link"), cache_dir=link)
    assert path.parent not in (link, target) and not list(target.iterdir())


def test_symlink_to_own_private_folder_is_used_resolved(tmp_path):
    target = tmp_path / "mine"
    target.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(target)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NativeCacheWarning)
        path = build(decay_source("own link"), cache_dir=link)
    assert path.parent == target            # resolved once: re-pointing the link later changes nothing


def test_world_writable_parent_without_sticky_bit_is_refused(tmp_path):
    parent = tmp_path / "open"
    parent.mkdir()
    os.chmod(parent, 0o777)
    with pytest.warns(NativeCacheWarning, match=r"parent folder .*open is world-writable"):
        path = build(decay_source("open parent"), cache_dir=parent / "cache")
    assert path.parent != parent / "cache"
    os.chmod(parent, 0o1777)                # sticky, like /tmp: fine
    with warnings.catch_warnings():
        warnings.simplefilter("error", NativeCacheWarning)
        path = build(decay_source("sticky parent"), cache_dir=parent / "cache2")
    assert path.parent == parent / "cache2"


# ----------------------------------------------------------------------------- verified entries

def test_manifest_binds_key_source_and_digest(tmp_path):
    import hashlib
    path = build(decay_source("manifest"), cache_dir=tmp_path)
    m = json.loads(manifest_of(path).read_text())
    data = path.read_bytes()
    assert m["key"] == path.stem[3:] and m["library"] == path.name
    assert m["size"] == len(data) and m["sha256"] == hashlib.sha256(data).hexdigest()
    src = path.with_suffix(".c").read_bytes()
    assert m["source_sha256"] == hashlib.sha256(src).hexdigest()


def test_entry_whose_manifest_names_another_source_is_rebuilt(tmp_path):
    src = decay_source("other source")
    path = build(src, cache_dir=tmp_path / "a")
    good = path.read_bytes()
    man = manifest_of(path)
    m = json.loads(man.read_text())
    m["source_sha256"] = "0" * 64
    man.write_text(json.dumps(m))
    os.utime(path, ns=(0, 0))               # another signature: the in-process memo does not hide it
    with pytest.warns(NativeCacheWarning, match="another source"):
        assert build(src, cache_dir=tmp_path / "a") == path
    assert json.loads(man.read_text())["source_sha256"] != "0" * 64 and path.read_bytes() == good


def test_warm_hit_does_not_rehash_or_recompile(tmp_path, monkeypatch):
    import kinetics.native as native
    src = decay_source("warm")
    path = build(src, cache_dir=tmp_path)

    def boom(*a, **k):
        raise AssertionError("a warm hit must not read the library again nor compile")
    monkeypatch.setattr(native, "_read_private", boom)
    monkeypatch.setattr(native.subprocess, "run", boom)
    t0 = time.perf_counter()
    for _ in range(100):
        assert build(src, cache_dir=tmp_path) == path
    assert (time.perf_counter() - t0) / 100 < 5e-3
    solve_decay(path)


def _evil_library(tmp_path, marker: Path, size: int | None = None) -> Path:
    """A library whose constructor writes ``marker`` when it is loaded (padded to ``size`` bytes)."""
    c = tmp_path / "evil.c"
    c.write_text('#include <stdio.h>\n'
                 '__attribute__((constructor)) static void planted(void) {\n'
                 f'  FILE *f = fopen("{marker}", "w"); if (f) {{ fputs("loaded", f); fclose(f); }}\n'
                 '}\nint nk_abi_version(void) { return 1; }\n')
    so = tmp_path / "evil.so"
    subprocess.run([shutil.which("cc") or shutil.which("gcc") or "cc", "-shared", "-fPIC", "-o", str(so), str(c)],
                   check=True)
    if size is not None:
        data = so.read_bytes()
        assert len(data) <= size
        so.write_bytes(data + b"\0" * (size - len(data)))
    return so


def _check_evil_works(so, marker):
    """The planted library does run its constructor when loaded (so the tests below can fail)."""
    proc = subprocess.run([sys.executable, "-c", f"import ctypes; ctypes.CDLL({str(so)!r})"])
    assert proc.returncode == 0 and marker.exists()
    marker.unlink()


def test_planted_library_is_not_loaded_but_rebuilt(tmp_path):
    cache = tmp_path / "cache"
    lib = scheme_library(cache)
    good = lib.read_bytes()
    marker = tmp_path / "MARKER"
    evil = _evil_library(tmp_path, marker)
    _check_evil_works(evil, marker)
    shutil.copyfile(evil, lib)              # same path, the old (now mismatching) manifest
    proc = run_python(SIMULATE_DECAY, cache)
    assert not marker.exists(), "the planted library was loaded"
    assert_simulates_correctly(proc)
    assert lib.read_bytes() == good         # deleted and rebuilt
    # in-process too: the memo notices the file changed
    shutil.copyfile(evil, lib)
    with pytest.warns(NativeCacheWarning, match="discarding .*SHA-256|discarding .*bytes"):
        again = scheme_library(cache)
    assert again == lib and lib.read_bytes() == good and not marker.exists()


def test_planted_library_without_manifest_is_not_loaded(tmp_path):
    cache = tmp_path / "cache"
    lib = scheme_library(cache)
    marker = tmp_path / "MARKER"
    evil = _evil_library(tmp_path, marker)
    shutil.copyfile(evil, lib)
    manifest_of(lib).unlink()
    proc = run_python(SIMULATE_DECAY, cache)
    assert not marker.exists(), "the planted library was loaded"
    assert_simulates_correctly(proc)
    assert manifest_of(lib).exists()


def test_native_solver_refuses_a_planted_library(tmp_path):
    """Even given the path directly (e.g. shipped to a worker), NativeSolver checks before dlopen."""
    lib = build(decay_source("direct"), cache_dir=tmp_path)
    marker = tmp_path / "MARKER"
    evil = _evil_library(tmp_path, marker, size=lib.stat().st_size)    # same size: only the digest differs
    _check_evil_works(evil, marker)
    os.replace(evil, lib)
    code = f"""
        from kinetics.native import NativeSolver, library_ok
        from kinetics.errors import CompilerError
        assert not library_ok({str(lib)!r})
        try:
            NativeSolver({str(lib)!r}, 1, 1, 0)
        except CompilerError as exc:
            print("refused:", exc)
    """
    proc = run_python(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "refused:" in proc.stdout and "SHA-256" in proc.stdout
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["truncated", "empty", "no-manifest", "bad-manifest", "other-key",
                                    "other-identity"])
def test_damaged_entry_is_rebuilt_in_a_fresh_process(tmp_path, damage):
    cache = tmp_path / "cache"
    lib = scheme_library(cache)
    good = lib.read_bytes()
    man = manifest_of(lib)
    good_manifest = json.loads(man.read_text())
    if damage == "truncated":
        lib.write_bytes(good[:100])
    elif damage == "empty":
        lib.write_bytes(b"")
    elif damage == "no-manifest":
        man.unlink()
    elif damage == "bad-manifest":
        man.write_text("{not json")
    elif damage == "other-key":              # a manifest copied from another entry
        other = build(decay_source("other"), cache_dir=cache)
        shutil.copyfile(manifest_of(other), man)
    elif damage == "other-identity":         # simulate() finds its library by the model's identity
        m = json.loads(man.read_text())
        m["identity_sha256"] = "0" * 64
        man.write_text(json.dumps(m))
    proc = run_python(SIMULATE_DECAY, cache)
    assert_simulates_correctly(proc)        # a SIGBUS would show as status -7 here
    assert lib.read_bytes() == good
    assert json.loads(man.read_text()) == good_manifest       # the entry was rebuilt, manifest included


@pytest.mark.parametrize("damage", ["truncated", "empty"])
def test_truncated_or_empty_library_is_never_dlopened(tmp_path, damage):
    lib = build(decay_source(f"never {damage}"), cache_dir=tmp_path)
    lib.write_bytes(lib.read_bytes()[:100] if damage == "truncated" else b"")
    code = f"""
        import ctypes
        def refuse(*a, **k):
            raise SystemExit("dlopen attempted")
        ctypes.CDLL = refuse
        from kinetics.native import NativeSolver
        from kinetics.errors import CompilerError
        try:
            NativeSolver({str(lib)!r}, 1, 1, 0)
        except CompilerError as exc:
            print("refused:", exc)
    """
    proc = run_python(code, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "refused:" in proc.stdout and ("empty" if damage == "empty" else "truncated") in proc.stdout


@pytest.mark.skipif(not IS_ROOT, reason="chown to another user needs root")
def test_library_owned_by_another_user_is_rebuilt(tmp_path):
    src = decay_source("foreign file")
    lib = build(src, cache_dir=tmp_path)
    os.chown(lib, 65534, 65534)             # right bytes, right manifest, wrong owner
    proc = run_python(f"""
        from kinetics.native import build
        print(build({src!r}, cache_dir={str(tmp_path)!r}))
    """, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "owned by uid 65534" in proc.stderr
    assert os.stat(lib).st_uid == os.getuid()


def test_writable_library_file_is_rebuilt(tmp_path):
    src = decay_source("writable file")
    lib = build(src, cache_dir=tmp_path)
    os.chmod(lib, 0o777)
    with pytest.warns(NativeCacheWarning, match="group- and world-writable"):
        again = build(src, cache_dir=tmp_path)
    assert again == lib and stat.S_IMODE(os.stat(lib).st_mode) & 0o022 == 0


def test_library_ok_and_sensitivity_paths(tmp_path):
    lib = build(decay_source("library_ok"), cache_dir=tmp_path)
    assert library_ok(lib)
    lib.write_bytes(lib.read_bytes()[:100])
    assert not library_ok(lib)
    assert not library_ok(tmp_path / "gone" / lib.name)


# ----------------------------------------------------------------------------- fallbacks

def test_read_only_folder_falls_back_to_a_temporary_folder(tmp_path, monkeypatch):
    """Simulated with a monkeypatch: as root, permissions do not stop writes (see the mount test below)."""
    cache = tmp_path / "ro"
    cached = build(decay_source("ro cached"), cache_dir=cache)
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(*a, dir=None, **k):
        if dir is not None and Path(dir) == cache:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dir))
        return real_mkdtemp(*a, dir=dir, **k)
    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    assert build(decay_source("ro cached"), cache_dir=cache) == cached      # reading still works
    with pytest.warns(NativeCacheWarning, match=r"ro.*Read-only file system"):
        path = build(decay_source("ro new"), cache_dir=cache)
    assert path.parent != cache and stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert solve_decay(path) == pytest.approx(math.exp(-1.0), rel=1e-8)


def test_full_disk_falls_back_to_a_temporary_folder(tmp_path, monkeypatch):
    cache = tmp_path / "full"
    cache.mkdir(mode=0o700)
    real_replace = os.replace

    def replace(src, dst, *a, **k):
        if Path(dst).parent == cache:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        return real_replace(src, dst, *a, **k)
    monkeypatch.setattr(os, "replace", replace)
    with pytest.warns(NativeCacheWarning, match=r"full.*No space left on device"):
        path = build(decay_source("enospc"), cache_dir=cache)
    assert path.parent != cache
    assert not [p for p in cache.iterdir() if p.suffix in (".so", ".json") or p.name.startswith(".nk_")]
    assert solve_decay(path) == pytest.approx(math.exp(-1.0), rel=1e-8)


def test_really_read_only_mount_falls_back(tmp_path):
    """A read-only bind mount in a private mount namespace (root with unshare, else skipped)."""
    if not IS_ROOT or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare")
    cache = tmp_path / "mnt"
    scheme_library(cache)                   # the scheme's entry is cached; another model is not
    probe = subprocess.run(["unshare", "-m", "sh", "-c",
                            f"mount --bind {cache} {cache} && mount -o remount,ro,bind {cache} {cache}"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a read-only mount here: {probe.stderr.strip()}")
    code = SIMULATE_DECAY + """
    from kinetics.native import build
    import sys
    other = build("#define NK_NSTATE 1\\n#define NK_NPARAM 1\\n#define NK_NINPUT 0\\n"
                  "static void nk_rhs(double t, const double *y, const double *p, const double *u, double *f)"
                  " { f[0] = -p[0] * y[0]; }\\n"
                  "static void nk_jac(double t, const double *y, const double *p, const double *u, double *J)"
                  " { J[0] = -p[0]; }\\n/* ro mount */\\n")
    print("other", other, file=sys.stderr)
    """
    script = tmp_path / "ro.py"
    script.write_text(textwrap.dedent(code))
    env = dict(os.environ, NMDAKIN_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT))
    proc = subprocess.run(["unshare", "-m", "sh", "-c", f"mount --bind {cache} {cache} && "
                           f"mount -o remount,ro,bind {cache} {cache} && exec \"$0\" \"$1\"",
                           sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert float(proc.stdout.split()[-1]) == pytest.approx(math.exp(-2 * K), rel=1e-8)
    assert "Read-only file system" in proc.stderr and "NativeCacheWarning" in proc.stderr
    assert f"other {cache}" not in proc.stderr


def test_broken_compiler_falls_back_to_lsoda_in_simulate(tmp_path, monkeypatch):
    """CC=/bin/false with NMDAKIN_BACKEND=native (never the numba JIT path, see tests/test_jit.py): simulate
    (method "auto") warns and uses LSODA; its result equals the native one."""
    sim = sys.modules["kinetics.simulate"]
    s = decay_scheme("Afalse")              # a structure not built before in this process
    t = np.linspace(0.0, 4.0, 9)
    monkeypatch.setenv("NMDAKIN_BACKEND", "native")
    monkeypatch.setenv("CC", "/bin/false")
    monkeypatch.setenv("NMDAKIN_CACHE_DIR", str(tmp_path / "false"))
    with pytest.warns(RuntimeWarning, match=r"native solver could not be built \(C compilation failed.*LSODA"):
        res = simulate(s, t_end=4.0, t_eval=t, rtol=1e-10, atol=1e-12)
    assert res.method == "LSODA"
    with warnings.catch_warnings():         # one warning per model, and no second compile attempt
        warnings.simplefilter("error")
        assert simulate(s, t_end=4.0, t_eval=t).method == "LSODA"
    with pytest.raises(CompilerError, match="C compilation failed"):
        simulate(s, t_end=4.0, t_eval=t, method="rodas")        # an explicit native method raises
    with pytest.warns(RuntimeWarning, match="LSODA"):
        sw = sim.sweep(decay_scheme("Asweep"), {"k": [0.5, 1.0]}, t_end=1.0)
    assert sw.method == "LSODA"
    np.testing.assert_allclose(sw.final[:, 0], np.exp(-np.array([0.5, 1.0])), rtol=1e-5)

    monkeypatch.delenv("CC")                # a working compiler again: the native path
    monkeypatch.setenv("NMDAKIN_CACHE_DIR", str(tmp_path / "good"))
    native = simulate(s, t_end=4.0, t_eval=t, rtol=1e-10, atol=1e-12)
    assert native.method == "auto"
    np.testing.assert_allclose(res["Afalse"], native["Afalse"], rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(res["Afalse"], np.exp(-K * t), rtol=1e-6)


def test_broken_compiler_is_a_clear_compiler_error_for_fitting(tmp_path, monkeypatch):
    import kinetics
    monkeypatch.setenv("NMDAKIN_BACKEND", "native")      # without it, the JIT path (tests/test_jit.py)
    monkeypatch.setenv("CC", "/bin/false")
    with pytest.raises(CompilerError, match=r"C compilation failed \(exit status 1\): /bin/false"):
        build(decay_source("false"), cache_dir=tmp_path)
    monkeypatch.setenv("NMDAKIN_CACHE_DIR", str(tmp_path))
    with pytest.raises(CompilerError, match="C compilation failed"):
        kinetics.compile(decay_scheme("Afit")).native_solver()      # what fitting's runtime calls


# ----------------------------------------------------------------------------- leftovers

def test_leftovers_of_killed_builds_are_cleaned_up(tmp_path):
    build(decay_source("leftover 0"), cache_dir=tmp_path)
    old = time.time() - 2 * 3600
    stale_dir = tmp_path / ".nk_0123456789ab.killed"
    stale_dir.mkdir()
    (stale_dir / "model.c").write_text("x")
    stale_tmp = tmp_path / "nk_deadbeef.json.tmp"
    stale_tmp.write_text("x")
    fresh_dir = tmp_path / ".nk_ba9876543210.running"       # a build in progress elsewhere
    fresh_dir.mkdir()
    for p in (stale_dir / "model.c", stale_dir, stale_tmp):
        os.utime(p, (old, old))
    build(decay_source("leftover 1"), cache_dir=tmp_path)
    assert not stale_dir.exists() and not stale_tmp.exists()
    assert fresh_dir.exists()
