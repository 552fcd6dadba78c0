"""The on-disk compile cache, seen from outside: what is in it, and clearing it.

Compiled models live in :func:`kinetics.native.default_cache_dir` (``$NMDAKIN_CACHE_DIR``, else
``$XDG_CACHE_HOME/nmdakin``, else ``~/.cache/nmdakin``) as ``nk_<key>.so`` with its manifest ``nk_<key>.json``, the
generated source ``nk_<key>.c`` and a build lock ``nk_<key>.lock``; the numba JIT path (:mod:`kinetics.jit`) keeps
its generated modules (``.py``) and numba's cache files (``.nbi``, ``.nbc``) in the subfolder ``numba``.
:func:`cache_info` counts them;
:func:`clear_cache` removes them. Only regular files of the user named like cache entries are counted or removed:
nothing else in the folder is touched, and an entry another process is building (its lock held) is left alone.
A cleared cache costs one compilation per model the next time it is used.

Examples
--------
>>> import tempfile, kinetics as kx
>>> folder = tempfile.mkdtemp()
>>> info = cache_info(folder)
>>> info.n_models, info.n_files
(0, 0)
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:                # pragma: no cover - Windows
    fcntl = None

__all__ = ["CacheInfo", "cache_info", "clear_cache", "ENTRY_NAME"]

#: Names of the files the package writes into the cache folder.
ENTRY_NAME = re.compile(r"nk_([0-9a-f]{40})\.(so|dylib|dll|json|c|lock)")
_LIBRARY_SUFFIXES = ("so", "dylib", "dll")
#: The JIT path's subfolder (:mod:`kinetics.jit.diskcache`) and the names of the files it holds.
JIT_SUBFOLDER = "numba"
JIT_ENTRY_NAME = re.compile(r"[A-Za-z0-9_.\-]+\.(py|nbi|nbc)")


@dataclass(frozen=True)
class CacheInfo:
    """What :func:`cache_info` found: the folder, compiled models, cache files and their bytes."""

    directory: Path
    exists: bool
    n_models: int
    n_files: int
    bytes: int

    def describe(self) -> str:
        if not self.exists:
            return f"compile cache: {self.directory} (does not exist yet)"
        return (f"compile cache: {self.directory}\n  {self.n_models} compiled models, {self.n_files} files, "
                f"{self.bytes / 1e6:.1f} MB")


def _folder(directory) -> Path:
    if directory is None:
        from .native import default_cache_dir

        return default_cache_dir()
    return Path(directory).expanduser()


def _entries(folder: Path, pattern=ENTRY_NAME):
    """``(path, key, suffix, stat)`` of the user's regular files named like cache entries (``key`` is ``None``
    for the JIT path's files), those of the ``numba`` subfolder included."""
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    uid = os.getuid() if hasattr(os, "getuid") else None
    for name in sorted(names):
        m = pattern.fullmatch(name)
        if m is None:
            continue
        path = folder / name
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(st.st_mode) or (uid is not None and st.st_uid != uid):
            continue
        yield (path, m.group(1), m.group(2), st) if pattern is ENTRY_NAME else (path, None, m.group(1), st)
    if pattern is ENTRY_NAME and not os.path.islink(folder / JIT_SUBFOLDER):
        yield from _entries(folder / JIT_SUBFOLDER, JIT_ENTRY_NAME)


def cache_info(directory=None) -> CacheInfo:
    """Count the compiled models and cache files in ``directory`` (default: the package's cache folder)."""
    folder = _folder(directory)
    entries = list(_entries(folder))
    return CacheInfo(directory=folder, exists=folder.is_dir(), n_files=len(entries),
                     n_models=sum(1 for e in entries if e[2] in _LIBRARY_SUFFIXES),
                     bytes=int(sum(e[3].st_size for e in entries)))


def _being_built(folder: Path, key: str) -> bool:
    """True if another process holds the build lock of ``key``."""
    if fcntl is None:              # pragma: no cover - Windows
        return False
    try:
        fd = os.open(folder / f"nk_{key}.lock", os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def clear_cache(directory=None) -> tuple[int, int]:
    """Remove the cache entries from ``directory`` (default: the package's cache folder); returns
    ``(files removed, bytes freed)``. Entries being built by another process are skipped.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / ("nk_" + "0" * 40 + ".c")).write_text("int x;")
    >>> _ = (folder / "notes.txt").write_text("mine")
    >>> clear_cache(folder), sorted(p.name for p in folder.iterdir())
    ((1, 6), ['notes.txt'])
    """
    folder = _folder(directory)
    removed, freed, busy = 0, 0, set()
    for path, key, _suffix, st in list(_entries(folder)):
        if key is not None and (key in busy or _being_built(folder, key)):
            busy.add(key)
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed += 1
        freed += st.st_size
    return removed, freed
