"""Atomic writes (kinetics.io): a killed writer never leaves a partial destination, its stale temporary file
is swept by the next write to the folder (only ours, only old and unlocked), figures go through the same path."""
from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kinetics import io as _io
from kinetics.io import STALE_TMP_SECONDS, atomic_savefig, atomic_write_text, check_output_path
from kinetics.errors import ArgumentError

ROOT = Path(__file__).resolve().parent.parent
SIZE = 8_000_000

# A writer that stops (sleeps) in the middle of the data or inside fsync, announcing it with a marker file.
WRITER = textwrap.dedent("""
    import os, sys, time
    from kinetics import io as _io
    dest, phase, marker = sys.argv[1], sys.argv[2], sys.argv[3]
    def announce_and_wait():
        open(marker, "w").close()
        time.sleep(120)
    if phase == "fsync":
        real_fsync = os.fsync
        def fsync(fd):
            real_fsync(fd)
            announce_and_wait()
        os.fsync = fsync
    elif phase == "write":
        real_fdopen = os.fdopen
        class Slow:
            def __init__(self, fh):
                self.fh = fh
            def write(self, data):
                half = len(data) // 2
                self.fh.write(data[:half])
                self.fh.flush()
                announce_and_wait()
                self.fh.write(data[half:])
            def __getattr__(self, name):
                return getattr(self.fh, name)
            def __enter__(self):
                return self
            def __exit__(self, *exc):
                return self.fh.__exit__(*exc)
        os.fdopen = lambda *a, **k: Slow(real_fdopen(*a, **k))
    if dest.endswith(".png"):
        from matplotlib.figure import Figure
        fig = Figure()
        fig.add_subplot(1, 1, 1).plot(range(1000))
        _io.atomic_savefig(fig, dest, dpi=200)
    else:
        _io.atomic_write_bytes(dest, b"n" * %d)
""" % SIZE)


def _kill_mid_write(tmp_path, dest: Path, phase: str) -> None:
    marker = tmp_path / "marker" / "ready"
    marker.parent.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), MPLBACKEND="Agg")
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(dest), phase, str(marker)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(f"writer exited early: {proc.stderr.read().decode()}")
            if time.monotonic() > deadline:
                pytest.fail("writer never reached the write")
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


def _leftovers(folder: Path, name: str):
    return sorted(folder.glob(f".{name}.nk-*.tmp"))


def _age(path: Path, seconds: float = STALE_TMP_SECONDS + 60) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t), follow_symlinks=False)


@pytest.mark.parametrize("phase", ["write", "fsync"])
@pytest.mark.parametrize("had_old", [True, False])
def test_kill_9_leaves_old_content_or_nothing_and_next_write_sweeps(tmp_path, phase, had_old):
    out = tmp_path / "out"
    out.mkdir()
    dest = out / "big.csv"
    if had_old:
        dest.write_bytes(b"old content\n")
    _kill_mid_write(tmp_path, dest, phase)

    if had_old:
        assert dest.read_bytes() == b"old content\n"           # never partial, never the new data
    else:
        assert not dest.exists()
    (tmp,) = _leftovers(out, "big.csv")                          # the killed writer's temporary file
    if phase == "write":
        assert tmp.stat().st_size == SIZE // 2
    # a fresh leftover may belong to a live writer: the next write leaves it alone ...
    atomic_write_text(out / "other.txt", "x")
    assert tmp.exists()
    # ... once it is old (and unlocked: its writer is dead) the next write to the folder removes it
    _age(tmp)
    atomic_write_text(out / "other.txt", "y")
    assert not tmp.exists()
    assert _leftovers(out, "big.csv") == []
    atomic_write_text(dest, "new\n")
    assert dest.read_text() == "new\n"


def test_kill_9_while_saving_a_figure_keeps_the_old_image(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    dest = out / "fig.png"
    dest.write_bytes(b"old image")
    _kill_mid_write(tmp_path, dest, "write")
    assert dest.read_bytes() == b"old image"
    assert len(_leftovers(out, "fig.png")) == 1


def test_sweep_spares_locked_young_foreign_and_non_regular_files(tmp_path):
    keep = {
        "young": tmp_path / ".a.csv.nk-abcdefgh.tmp",                 # ours but fresh
        "foreign": tmp_path / ".a.csv.abcdefgh.tmp",                  # mkstemp of another program
        "plain": tmp_path / "notes.tmp",
        "short": tmp_path / ".a.csv.nk-abc.tmp",                      # not our 8-character pattern
    }
    for p in keep.values():
        p.write_text("x")
    for name in ("foreign", "plain", "short"):
        _age(keep[name])
    target = tmp_path / "target.txt"
    target.write_text("t")
    link = tmp_path / ".b.csv.nk-ABCDEFGH.tmp"                        # our pattern but a symlink
    link.symlink_to(target)
    _age(link)
    stale = tmp_path / ".c.csv.nk-12345678.tmp"
    stale.write_text("s")
    _age(stale)
    atomic_write_text(tmp_path / "x.csv", "1")
    assert all(p.exists() for p in keep.values())
    assert link.is_symlink() and target.read_text() == "t"
    assert not stale.exists()


def test_sweep_spares_an_old_temporary_file_a_live_process_has_locked(tmp_path):
    tmp = tmp_path / ".slow.csv.nk-zzzzzzzz.tmp"
    tmp.write_text("in progress")
    code = ("import fcntl, sys, time\nf = open(sys.argv[1], 'rb')\nfcntl.flock(f, fcntl.LOCK_EX)\n"
            "print('locked', flush=True)\ntime.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        _age(tmp)
        atomic_write_text(tmp_path / "x.csv", "1")
        assert tmp.exists()                                           # its writer is alive: not ours to delete
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    atomic_write_text(tmp_path / "x.csv", "2")
    assert not tmp.exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to chown")
def test_sweep_spares_other_users_files(tmp_path):
    tmp = tmp_path / ".a.csv.nk-abcdefgh.tmp"
    tmp.write_text("x")
    os.chown(tmp, 4242, -1)
    _age(tmp)
    atomic_write_text(tmp_path / "x.csv", "1")
    assert tmp.exists()


def test_sweep_failure_never_fails_the_write(tmp_path, monkeypatch):
    stale = tmp_path / ".a.csv.nk-abcdefgh.tmp"
    stale.write_text("x")
    _age(stale)

    def refuse(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(_io, "_remove_if_unlocked", refuse)
    atomic_write_text(tmp_path / "x.csv", "ok")
    assert (tmp_path / "x.csv").read_text() == "ok"


def test_full_disk_keeps_old_content_and_names_the_file(tmp_path, monkeypatch):
    dest = tmp_path / "out.csv"
    dest.write_text("old")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_io.os, "fsync", full)
    with pytest.raises(OSError) as info:
        atomic_write_text(dest, "new" * 1000)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(dest)
    assert dest.read_text() == "old"
    assert _leftovers(tmp_path, "out.csv") == []


def test_refuses_folders_devices_and_missing_folders(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ArgumentError, match="not a regular file"):
        atomic_write_text(fifo, "x")
    assert fifo.is_fifo()
    with pytest.raises(ArgumentError, match="it is a folder"):
        atomic_write_text(tmp_path, "x")
    with pytest.raises(ArgumentError, match="does not exist"):
        atomic_write_text(tmp_path / "nope" / "x.csv", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_permissions_of_a_replaced_file_are_kept(tmp_path):
    dest = tmp_path / "x.txt"
    dest.write_text("old")
    dest.chmod(0o640)
    atomic_write_text(dest, "new")
    assert dest.stat().st_mode & 0o777 == 0o640 and dest.read_text() == "new"


def test_long_file_names_still_get_a_temporary_file(tmp_path):
    dest = tmp_path / ("n" * 250 + ".csv")
    atomic_write_text(dest, "x")
    assert dest.read_text() == "x"


def test_check_output_path(tmp_path):
    assert check_output_path(None) is None
    assert check_output_path("-", allow_stdout=True) == "-"
    assert check_output_path(tmp_path / "a.json", "JSON") == tmp_path / "a.json"
    with pytest.raises(ArgumentError, match="JSON `.*`: it is a folder"):
        check_output_path(tmp_path, "JSON")
    with pytest.raises(ArgumentError, match="names a folder"):
        check_output_path(str(tmp_path / "new") + "/", "JSON")
    with pytest.raises(ArgumentError, match="folder `.*nope` does not exist"):
        check_output_path(tmp_path / "nope" / "a.json", "JSON")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ArgumentError, match="is not a folder"):
        check_output_path(tmp_path / "file" / "a.json", "JSON")
    with pytest.raises(ArgumentError, match="empty"):
        check_output_path("", "JSON")
    with pytest.raises(ArgumentError, match=r"unknown image format `pgn`; did you mean `png`\?"):
        check_output_path(tmp_path / "fig.pgn", "figure", figure=True)
    assert check_output_path(tmp_path / "fig.svg", "figure", figure=True).name == "fig.svg"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_check_output_path_read_only(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(ArgumentError, match="no permission"):
            check_output_path(ro / "a.json", "JSON")
    finally:
        ro.chmod(0o700)


def test_atomic_savefig_formats(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure()
    fig.add_subplot(1, 1, 1).plot([0, 1], [1, 0])
    atomic_savefig(fig, tmp_path / "a.png", dpi=50)
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    atomic_savefig(fig, tmp_path / "a.svg")
    assert b"<svg" in (tmp_path / "a.svg").read_bytes()[:500]
    atomic_savefig(fig, tmp_path / "noext")
    assert (tmp_path / "noext").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ArgumentError, match="unknown image format `txt`"):
        atomic_savefig(fig, tmp_path / "a.txt")
    assert not (tmp_path / "a.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "a.svg", "noext"]


def test_no_figure_is_saved_straight_to_a_path():
    """Every ``savefig`` in the package renders into memory (then atomic_write_bytes) or is atomic_savefig."""
    offenders = []
    for folder in ("kinetics", "models"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "io.py" and folder == "kinetics":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                m = re.search(r"\.savefig\(\s*([^,)]*)", line)
                if m and m.group(1).strip() not in ("buf",) and "np.savetxt" not in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []


def test_demo_writes_every_file_through_the_atomic_writer(tmp_path, monkeypatch):
    from models.cli import main

    replaced = []
    real_replace = os.replace

    def spy(src, dst, *a, **k):
        if Path(dst).parent == out:                     # (the native compile cache also renames files)
            replaced.append((Path(src).name, Path(dst).name))
        return real_replace(src, dst, *a, **k)

    out = tmp_path / "demo"
    monkeypatch.setattr(_io.os, "replace", spy)
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    written = {dst: src for src, dst in replaced}
    assert set(written) == {"nmdakin_demo.csv", "nmdakin_demo.png"}
    assert all(re.fullmatch(rf"\.{re.escape(dst)}\.nk-\w{{8}}\.tmp", src) for dst, src in written.items())
    assert (out / "nmdakin_demo.png").read_bytes()[:4] == b"\x89PNG"
