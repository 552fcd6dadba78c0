"""Compiled fast path: generated model C code + the integrator template, via ctypes.

The caller generates a C block for one model (see ``integrator.c`` for the exact
contract: ``NK_NSTATE``/``NK_NPARAM``/``NK_NINPUT`` and ``nk_rhs``/``nk_jac``),
then::

    path = build(model_source)                 # compiled once, cached on disk
    solver = NativeSolver(path, n_state, n_param, n_input)
    arrays = SegmentArrays.from_schedule(schedule, state_index)
    y_out, y_final, stats = solver.solve(params, y0, arrays, t_out)

The whole integration of a schedule runs in C in one ctypes call, which releases
the GIL, so :meth:`NativeSolver.solve_many` runs parameter sweeps on threads.

The compile cache
-----------------
Loading a shared library runs its code (constructors included), so the cache
(:func:`default_cache_dir`) is not trusted blindly:

* The cache folder must be private: it is created with mode 0700 (so is every
  missing parent folder the package creates); an existing folder must be owned
  by the current user and not group- or world-writable, and each of its parent
  folders must be owned by the user or root and not world-writable (unless
  sticky, like ``/tmp``). A symbolic link to the folder must be owned by the
  user or root; the resolved folder is used from then on. A folder that fails
  these checks is refused with a :class:`NativeCacheWarning` naming it and why.
* A library's key is the SHA-256 of the compiler, flags, ABI version and either
  the full source (:func:`build`) or an *identity* that determines the source
  (:func:`build_keyed`: a scheme's structure key and the code generator's
  identity, plus the integrator template's SHA-256), so a compiled model is
  found without deriving its equations or generating its C.
* Every library ``nk_<key>.so`` has a manifest ``nk_<key>.json`` written when it
  is built: the key and the file name, the library's size and SHA-256, the
  SHA-256 of the source and, for :func:`build_keyed`, of the identity. Before
  a library is returned by :func:`build` or opened by :class:`NativeSolver`
  (``dlopen``), it must be a non-empty regular file owned by the user, not
  group/world-writable, and its bytes must hash to the manifest's digest; the
  manifest must name the same key (and source, or identity). A missing, corrupt,
  mismatching or foreign entry is deleted and rebuilt, never loaded; an empty or
  truncated library is therefore never ``dlopen``'ed. A process verifies a given
  file once (memo keyed on path, device, inode, size, mtime and ctime).
* Someone who can write the cache folder can also write a matching manifest: the
  digest catches corruption, truncation, interrupted writes and stray files; the
  ownership/permission checks on the folder are the real defence.
* A refused folder, or one that cannot be written (read-only, disk full,
  quota...), makes :func:`build` fall back to a private temporary folder
  (``tempfile.mkdtemp``, reused within the process and removed at exit), with
  one warning. Leftover temporary build folders (``.nk_*``) and ``*.tmp`` files
  older than an hour, from killed builds, are removed by the next build into the
  same folder.
"""
from __future__ import annotations

import atexit
import ctypes
import errno
import hashlib
import itertools
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import CompilerError, ProtocolError, SolverError, did_you_mean

try:                                   # POSIX: builds of one key are serialised across processes
    import fcntl
except ImportError:                    # pragma: no cover - Windows
    fcntl = None

__all__ = [
    "METHODS",
    "CFLAGS",
    "NativeCacheWarning",
    "compiler_available",
    "default_cache_dir",
    "build",
    "library_ok",
    "SegmentArrays",
    "NativeSolver",
]

#: Method names accepted by :meth:`NativeSolver.solve` and their C codes.
METHODS = {"auto": 0, "dopri5": 1, "rodas": 2}

#: Compiler flags (part of the cache key). No -ffast-math, no -march=native:
#: results must be reproducible and libraries portable across machines sharing a cache.
#: -O1, not -O2: gcc 12 compiles the 115-state synapse in ~60 % of the time (0.47 s instead of 0.75 s) and the
#: solvers run as fast, plain and with sensitivities (benchmarks/README.md, start-up benchmark).
CFLAGS = ("-O1", "-fPIC", "-shared", "-std=c99")
LIBS = ("-lm",)

#: Put before the model block so that generated code may use <math.h> (exp, pow, NAN...).
_PRELUDE = "#include <math.h>\n#include <stdlib.h>\n#include <string.h>\n\n"

#: Bumped whenever the template's ABI changes (also part of the cache key).
_ABI_VERSION = 3

_STATS_KEYS = (
    "n_steps",          # accepted steps
    "n_rejected",       # rejected steps
    "n_rhs",            # right-hand side evaluations
    "n_jac",            # Jacobian evaluations
    "n_lu",             # LU decompositions
    "n_segments",       # segments integrated
    "n_switches",       # dopri5 -> rodas stiffness switches (auto)
    "n_rodas_steps",    # accepted steps taken by rodas
)

_COMPILE_TIMEOUT = 600.0
_STDERR_LINES = 40

if sys.platform == "win32":
    _LIB_SUFFIX = ".dll"
elif sys.platform == "darwin":
    _LIB_SUFFIX = ".dylib"
else:
    _LIB_SUFFIX = ".so"


class NativeCacheWarning(RuntimeWarning):
    """The compile cache folder or one of its entries was not used (see :mod:`kinetics.native`)."""


# --------------------------------------------------------------------------- compiler

def _compiler_command() -> list[str] | None:
    """``$CC`` (split like a shell would) if set, else the first of cc/gcc/clang on PATH.

    Raises :class:`CompilerError` when ``$CC`` cannot be split (an unbalanced quote). Looked up once per
    value of ``$CC`` and ``$PATH``."""
    found = _find_compiler(os.environ.get("CC", "").strip(), os.environ.get("PATH", ""))
    return list(found) if found is not None else None


@lru_cache(maxsize=16)
def _find_compiler(env: str, path: str) -> tuple | None:
    if env:
        try:
            parts = shlex.split(env)
        except ValueError as exc:   # an unbalanced quote: a broken $CC, not a missing compiler
            raise CompilerError(f"cannot parse $CC = {env!r} like a shell would: {exc}") from None
        exe = shutil.which(parts[0]) if parts else None
        return (exe, *parts[1:]) if exe else None
    for name in ("cc", "gcc", "clang"):
        exe = shutil.which(name)
        if exe:
            return (exe,)
    return None


@lru_cache(maxsize=None)
def _compiler_identity(command: tuple) -> str:
    """First line of ``cc --version`` (part of the cache key); the path if that fails."""
    try:
        out = subprocess.run([*command, "--version"], capture_output=True, text=True,
                             timeout=60)
        first = (out.stdout or out.stderr).strip().splitlines()
        return first[0] if first else " ".join(command)
    except (OSError, subprocess.SubprocessError):
        return " ".join(command)


def compiler_available() -> bool:
    """True if a C compiler (``$CC``, ``cc``, ``gcc`` or ``clang``) is on the PATH.

    A ``$CC`` that cannot be parsed counts as configured: :func:`build` then raises a :class:`CompilerError`
    that says why, and :func:`kinetics.simulate` falls back to the compiler-free path with that reason."""
    try:
        return _compiler_command() is not None
    except CompilerError:
        return True


def default_cache_dir() -> Path:
    """``$NMDAKIN_CACHE_DIR``, else ``$XDG_CACHE_HOME/nmdakin``, else ``~/.cache/nmdakin``.

    The folder must be private to the user (see the module docstring); :func:`build`
    falls back to a temporary folder otherwise.
    """
    env = os.environ.get("NMDAKIN_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "nmdakin"
    return Path.home() / ".cache" / "nmdakin"


@lru_cache(maxsize=1)
def _template() -> str:
    return resources.files(__name__).joinpath("integrator.c").read_text(encoding="utf-8")


# One lock per cache key: threads of one process compile a given model only once.
_build_locks: dict[str, threading.Lock] = {}
_build_locks_guard = threading.Lock()


def _lock_for(key: str) -> threading.Lock:
    with _build_locks_guard:
        lock = _build_locks.get(key)
        if lock is None:
            lock = _build_locks[key] = threading.Lock()
        return lock


# --------------------------------------------------------------------------- cache checks

_MANIFEST_FORMAT = "nmdakin-native-library/1"
_MANIFEST_MAX_BYTES = 64 * 1024
_LIB_NAME = re.compile(r"nk_([0-9a-f]{40})" + re.escape(_LIB_SUFFIX))
#: Leftovers of killed builds older than this (seconds) are removed; a build takes at most
#: ``_COMPILE_TIMEOUT``.
_STALE_AGE = 3600.0
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)
_HAS_OWNERS = hasattr(os, "getuid")
#: Errors that mean "this folder cannot be written" when the compiler reports them (by their strerror
#: text); permission errors are caught earlier, when the build folder is created.
_WRITE_ERRNOS = tuple(e for e in (errno.ENOSPC, errno.EROFS, getattr(errno, "EDQUOT", None)) if e is not None)

# Verified libraries: str(path) -> stat signature at verification time.
_verified: dict[str, tuple] = {}
# Trusted folders: str(requested path) -> (resolved Path, stat signature of the requested path).
_trusted_dirs: dict[str, tuple] = {}
_warned: set = set()
_fallback_lock = threading.Lock()
_fallback_root: Path | None = None


class _Unusable(Exception):
    """A cache folder that must not (untrusted) or cannot (not writable) be used."""


def _file_sig(st: os.stat_result) -> tuple:
    # ctime cannot be set by a user: a rewrite in place changes the signature.
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _warn_once(tag, message: str) -> None:
    if tag not in _warned:
        _warned.add(tag)
        warnings.warn(message, NativeCacheWarning, stacklevel=4)


def _owner_problem(st: os.stat_result, what: str) -> str | None:
    """Why a file or folder of the cache is not private to this user (None if it is)."""
    if not _HAS_OWNERS:
        return None
    uid = os.getuid()
    if st.st_uid != uid:
        return f"{what} is owned by uid {st.st_uid}, not by the current user (uid {uid})"
    if st.st_mode & 0o022:
        who = {0o020: "group", 0o002: "world", 0o022: "group- and world"}[st.st_mode & 0o022]
        return f"{what} is {who}-writable (mode {stat.S_IMODE(st.st_mode):04o})"
    return None


def _make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents, each with mode 0700."""
    directory = Path(os.path.abspath(directory))
    missing = []
    p = directory
    while not os.path.lexists(p):
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for p in reversed(missing):
        try:
            os.mkdir(p, 0o700)
        except FileExistsError:        # created concurrently: checked below like any folder
            continue
        os.chmod(p, 0o700)             # whatever the umask


def _dir_sig(st: os.stat_result) -> tuple:
    return (st.st_dev, st.st_ino, st.st_uid, st.st_gid, st.st_mode)


def _check_dir(requested: Path, create: bool = True) -> Path:
    """The resolved, private cache folder for ``requested`` (created 0700 if missing and ``create``).

    Raises :class:`_Unusable` (with the reason) if it cannot be created or is not private.
    """
    key = str(requested)
    hit = _trusted_dirs.get(key)
    if hit is not None:
        real, sig = hit
        try:
            if _dir_sig(os.stat(requested)) == sig:
                return real
        except OSError:
            pass
    if create:
        try:
            _make_private_dirs(requested)
        except OSError as exc:
            raise _Unusable(f"it cannot be created ({exc.strerror or exc})") from None
    elif not os.path.lexists(requested):
        raise _Unusable("it does not exist")
    try:
        lst = os.lstat(requested)
        if stat.S_ISLNK(lst.st_mode) and _HAS_OWNERS and lst.st_uid not in (0, os.getuid()):
            raise _Unusable(f"it is a symbolic link owned by uid {lst.st_uid}")
        real = Path(os.path.realpath(requested))
        st = os.lstat(real)
        if not stat.S_ISDIR(st.st_mode):
            raise _Unusable("it is not a folder")
        what = "it" if real == Path(os.path.abspath(requested)) else f"its target {real}"
        problem = _owner_problem(st, what)
        if problem:
            raise _Unusable(problem)
        if _HAS_OWNERS:
            uid = os.getuid()
            for parent in real.parents:
                pst = os.stat(parent)
                if pst.st_uid not in (0, uid):
                    raise _Unusable(f"its parent folder {parent} is owned by uid {pst.st_uid}, "
                                    f"neither the current user (uid {uid}) nor root")
                if pst.st_mode & 0o002 and not pst.st_mode & stat.S_ISVTX:
                    raise _Unusable(f"its parent folder {parent} is world-writable "
                                    f"(mode {stat.S_IMODE(pst.st_mode):04o}) without the sticky bit")
        sig = _dir_sig(os.stat(requested))
    except OSError as exc:
        raise _Unusable(f"it cannot be inspected ({exc.strerror or exc})") from None
    _trusted_dirs[key] = (real, sig)
    return real


def _fallback_dir(requested: Path, reason: str) -> Path:
    """The process's private temporary folder for libraries, after one warning about ``requested``."""
    global _fallback_root
    with _fallback_lock:
        if _fallback_root is None:
            try:
                root = Path(tempfile.mkdtemp(prefix="nmdakin-cache-"))
            except OSError as exc:
                raise CompilerError(f"cannot use the compile cache folder {requested} ({reason}) "
                                    f"nor create a temporary folder: {exc}") from exc
            atexit.register(shutil.rmtree, str(root), True)
            _fallback_root = root
        root = _fallback_root
    if Path(requested) != root:
        _warn_once(("fallback", str(requested)),
                   f"not using the compile cache folder {requested}: {reason}. Compiled models go to "
                   f"the temporary folder {root} for this process (they will be rebuilt next time); "
                   f"use a private folder (mode 0700, owned by you) or set $NMDAKIN_CACHE_DIR.")
    try:
        return _check_dir(root)
    except _Unusable as exc:
        raise CompilerError(f"cannot use the compile cache folder {requested} ({reason}) nor the "
                            f"temporary folder {root} ({exc})") from None


def _manifest_path(lib_path: Path) -> Path:
    return lib_path.with_name(lib_path.name[:-len(_LIB_SUFFIX)] + ".json")


def _read_private(path: Path, max_bytes: int | None, expect: os.stat_result | None = None):
    """``(bytes, stat)`` of a regular file owned by the user; raises ValueError saying why not."""
    try:
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_BINARY)
    except FileNotFoundError:
        raise ValueError(f"{path.name} is missing") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ValueError(f"{path.name} is a symbolic link") from None
        raise ValueError(f"{path.name} cannot be opened ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{path.name} is not a regular file")
        problem = _owner_problem(st, path.name)
        if problem:
            raise ValueError(problem)
        if expect is not None and (st.st_dev, st.st_ino) != (expect.st_dev, expect.st_ino):
            raise ValueError(f"{path.name} changed while being checked")
        if max_bytes is not None and st.st_size > max_bytes:
            raise ValueError(f"{path.name} is too large ({st.st_size} bytes)")
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks), st
    finally:
        os.close(fd)


def _entry_problem(lib_path: Path, key: str, source_sha256: str | None,
                   identity_sha256: str | None = None) -> str | None:
    """Why the cache entry ``lib_path`` must not be loaded (None: verified, and memoised).

    The manifest must name ``key``, and ``source_sha256`` / ``identity_sha256`` unless they are None."""
    try:
        st = os.lstat(lib_path)
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"cannot be inspected ({exc.strerror})"
    if _verified.get(str(lib_path)) == _file_sig(st):
        return None
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    problem = _owner_problem(st, lib_path.name)
    if problem:
        return problem
    if st.st_size == 0:
        return "empty"
    try:
        raw, _ = _read_private(_manifest_path(lib_path), _MANIFEST_MAX_BYTES)
        try:
            manifest = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ValueError("manifest is not valid JSON") from None
        if not isinstance(manifest, dict) or manifest.get("format") != _MANIFEST_FORMAT:
            raise ValueError("manifest has an unknown format")
        if manifest.get("key") != key or manifest.get("library") != lib_path.name:
            raise ValueError("manifest belongs to another library")
        if source_sha256 is not None and manifest.get("source_sha256") != source_sha256:
            raise ValueError("manifest was written for another source")
        if identity_sha256 is not None and manifest.get("identity_sha256") != identity_sha256:
            raise ValueError("manifest was written for another model identity")
        data, fst = _read_private(lib_path, None, expect=st)
        if manifest.get("size") != len(data):
            raise ValueError(f"library has {len(data)} bytes, the manifest says "
                             f"{manifest.get('size')} (truncated or replaced)")
        if hashlib.sha256(data).hexdigest() != manifest.get("sha256"):
            raise ValueError("library's SHA-256 does not match its manifest")
    except ValueError as exc:
        return str(exc)
    _verified[str(lib_path)] = _file_sig(fst)
    return None


def _discard(lib_path: Path, reason: str) -> None:
    """Delete a cache entry that failed verification (a warning unless it simply has no manifest)."""
    if not reason.startswith(_manifest_path(lib_path).name + " is missing"):
        _warn_once(("discard", str(lib_path), reason),
                   f"discarding the compile cache entry {lib_path}: {reason}; it is rebuilt")
    _verified.pop(str(lib_path), None)
    for p in (lib_path, _manifest_path(lib_path)):
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise _Unusable(f"a bad entry ({lib_path.name}: {reason}) cannot be deleted "
                            f"({exc.strerror})") from None


def library_ok(path) -> bool:
    """True if ``path`` is a verified library of a private compile cache (see the module docstring).

    Paths that are not named like cache entries (``nk_<key>.so``) are the caller's own
    libraries: only their existence is checked.
    """
    path = Path(path)
    m = _LIB_NAME.fullmatch(path.name)
    if m is None:
        return path.exists()
    try:
        real = _check_dir(path.parent, create=False) / path.name
    except _Unusable:
        return False
    return _entry_problem(real, m.group(1), None) is None


def _cleanup_stale(directory: Path) -> None:
    """Remove ``.nk_*`` build folders and ``*.tmp`` files left by killed builds (older than an hour)."""
    now = time.time()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if not (name.startswith(".nk_") or name.endswith(".tmp")):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if now - st.st_mtime < _STALE_AGE:
                continue
            if stat.S_ISDIR(st.st_mode):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
        except OSError:
            pass


def _io_failure(output: str) -> str | None:
    """The line of compiler output that says the output could not be written, if any."""
    texts = [os.strerror(e) for e in _WRITE_ERRNOS]
    for line in output.splitlines():
        if any(t in line for t in texts):
            return line.strip()
    return None


class _FileLock:
    """An exclusive ``flock`` on ``path`` (no-op without fcntl); serialises builds across processes."""

    def __init__(self, path: Path):
        self.path, self.fd = path, None

    def __enter__(self):
        if fcntl is None:              # pragma: no cover - Windows
            return self
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | _O_NOFOLLOW, 0o600)
        except OSError as exc:
            raise _Unusable(f"it cannot be written ({exc.strerror})") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except OSError:                # e.g. no locks on this file system: threads still serialise
            pass
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)          # releases the lock
            self.fd = None


def _compile_into(directory: Path, key: str, source: str, source_sha256: str,
                  command: list[str], check_source: str | None = None,
                  identity_sha256: str | None = None) -> Path:
    """Compile into the private folder ``directory``; raises _Unusable if it cannot be written.

    The manifest records ``source_sha256`` and ``identity_sha256``; an entry found already built must name
    ``check_source`` (None: any source, for keys that name their source themselves, see :func:`build_keyed`)
    and ``identity_sha256``."""
    lib_path = directory / f"nk_{key}{_LIB_SUFFIX}"
    with _lock_for(f"{directory}/{key}"), _FileLock(directory / f"nk_{key}.lock"):
        # Built by another thread or process meanwhile?
        problem = _entry_problem(lib_path, key, check_source, identity_sha256)
        if problem is None:
            return lib_path
        if problem != "missing":
            _discard(lib_path, problem)
        _cleanup_stale(directory)
        try:
            tmpdir = Path(tempfile.mkdtemp(prefix=f".nk_{key[:12]}.", dir=directory))
        except OSError as exc:
            raise _Unusable(f"it cannot be written ({exc.strerror or exc})") from None
        try:
            src = tmpdir / "model.c"
            out = tmpdir / f"model{_LIB_SUFFIX}"
            try:
                src.write_text(source, encoding="utf-8")
            except OSError as exc:
                raise _Unusable(f"it cannot be written ({exc.strerror or exc})") from None
            # Relative names in the build folder: the library's bytes do not depend on its path.
            cmd = [*command, *CFLAGS, "-o", out.name, src.name, *LIBS]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmpdir,
                                      timeout=_COMPILE_TIMEOUT)
            except (OSError, subprocess.SubprocessError) as exc:
                raise CompilerError(f"could not run the C compiler {command[0]}: {exc}") from exc
            if proc.returncode != 0 or not out.exists():
                output = proc.stderr or proc.stdout or ""
                io_line = _io_failure(output)
                if io_line:
                    raise _Unusable(f"the compiler could not write there ({io_line})")
                lines = output.splitlines()
                shown = "\n".join(lines[:_STDERR_LINES])
                more = f"\n... ({len(lines) - _STDERR_LINES} more lines)" \
                    if len(lines) > _STDERR_LINES else ""
                raise CompilerError(
                    f"C compilation failed (exit status {proc.returncode}): "
                    f"{shlex.join(cmd)} (in {tmpdir})\n{shown}{more}")
            try:
                os.chmod(out, 0o755)
                data = out.read_bytes()
                if not data:
                    raise CompilerError(f"the C compiler wrote an empty library: {shlex.join(cmd)}")
                manifest = tmpdir / "manifest.json"
                manifest.write_text(json.dumps({
                    "format": _MANIFEST_FORMAT, "key": key, "library": lib_path.name,
                    "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                    "source_sha256": source_sha256, "identity_sha256": identity_sha256,
                    "compiler": command[0],
                }, indent=1) + "\n", encoding="utf-8")
                # Source (for debugging), manifest, then the library: a library is never
                # visible before its manifest.
                os.replace(src, directory / f"nk_{key}.c")
                os.replace(manifest, _manifest_path(lib_path))
                os.replace(out, lib_path)
            except OSError as exc:
                raise _Unusable(f"it cannot be written ({exc.strerror or exc})") from None
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
        problem = _entry_problem(lib_path, key, check_source, identity_sha256)
        if problem is not None:
            raise CompilerError(f"the library just built at {lib_path} fails verification: {problem}")
    return lib_path


def _command_or_raise() -> list[str]:
    command = _compiler_command()
    if command is None:
        cc = os.environ.get("CC")
        raise CompilerError(
            f"C compiler `{cc}` (from $CC) not found" if cc else
            "no C compiler found (set $CC or install cc/gcc/clang)")
    return command


def _full_source(model_source: str) -> str:
    return (_PRELUDE + model_source.rstrip()
            + "\n\n/* ---- integrator template ---- */\n" + _template())


def _library_key(command: list[str], what: str) -> str:
    """The cache key: SHA-256 of the ABI version, compiler identity and command, flags and ``what`` (the full
    source, or an identity that determines it)."""
    h = hashlib.sha256()
    for part in (f"abi={_ABI_VERSION}", _compiler_identity(tuple(command)), " ".join(command),
                 " ".join(CFLAGS + LIBS), what):
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:40]


@lru_cache(maxsize=1)
def _template_sha256() -> str:
    return hashlib.sha256(_template().encode("utf-8")).hexdigest()


def build(model_source: str, *, cache_dir: str | os.PathLike | None = None) -> Path:
    """Compile ``model_source`` + the integrator template into a cached shared library.

    The file name is the SHA-256 of the full source, the compiler identity, the flags
    and the ABI version, so any change recompiles and an unchanged model never does
    (a verified cached path is returned without invoking the compiler). The library
    is written to a private temporary directory and moved into place with
    :func:`os.replace`, after its manifest, so concurrent builders and failed compiles
    never leave a partial file; builds of one key are serialised across processes.
    The full C source is kept next to it (``.c``) for debugging.

    ``cache_dir`` (default :func:`default_cache_dir`) must be private; a refused or
    unwritable folder falls back to a temporary one with a :class:`NativeCacheWarning`
    (see the module docstring). The returned path is in the resolved folder.

    Raises :class:`CompilerError` if no compiler is found or compilation fails.
    """
    command = _command_or_raise()
    source = _full_source(model_source)
    key = _library_key(command, source)
    source_sha256 = hashlib.sha256(source.encode("utf-8")).hexdigest()
    return _build_entry(command, key, lambda: source, source_sha256, cache_dir)


def build_keyed(identity: str, make_source, *, cache_dir: str | os.PathLike | None = None) -> Path:
    r"""Like :func:`build`, for a model block that ``identity`` determines: the library is looked up by
    ``identity`` and ``make_source()`` (returning the model block) is called only to build a missing entry.

    ``identity`` must name everything the generated block depends on (a scheme's structure key and the code
    generator's identity, see :meth:`kinetics.model.CompiledModel.native_solver`); the integrator template's
    SHA-256, the compiler, flags and ABI version are added here. A cached entry gets every check :func:`build`
    makes (a private folder; the library's owner, mode, size and SHA-256 against its manifest) except the
    comparison with a source that is not generated.

    Examples
    --------
    >>> from kinetics import native
    >>> block = ("#define NK_NSTATE 1\n#define NK_NPARAM 1\n"
    ...          "static void nk_rhs(double t, const double *y, const double *p, const double *u, double *f)"
    ...          "{ f[0] = -p[0]*y[0]; }\n"
    ...          "static void nk_jac(double t, const double *y, const double *p, const double *u, double *J)"
    ...          "{ J[0] = -p[0]; }\n")
    >>> path = native.build_keyed("doctest: decay", lambda: block)
    >>> native.build_keyed("doctest: decay", lambda: 1 / 0) == path   # found: the source is not made
    True
    """
    if not isinstance(identity, str) or not identity:
        raise ValueError("build_keyed needs a non-empty identity string")
    command = _command_or_raise()
    key = _library_key(command, f"identity={identity}\0template={_template_sha256()}")
    identity_sha256 = hashlib.sha256(identity.encode("utf-8")).hexdigest()
    return _build_entry(command, key, lambda: _full_source(make_source()), None, cache_dir, identity_sha256)


def _build_entry(command, key: str, make_source, source_sha256: str | None, cache_dir,
                 identity_sha256: str | None = None) -> Path:
    """The verified library ``nk_<key>`` of the cache folder, compiled from ``make_source()`` if missing or bad.

    ``source_sha256``: the source's digest the manifest must name (None: not compared, the key names it);
    ``identity_sha256``: the digest of :func:`build_keyed`'s identity the manifest must name (None: not
    compared)."""
    name = f"nk_{key}{_LIB_SUFFIX}"
    requested = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    try:
        directory = _check_dir(requested)
    except _Unusable as exc:
        directory = _fallback_dir(requested, str(exc))
    lib_path = directory / name
    try:                               # fast path: verified earlier in this process
        if _verified.get(str(lib_path)) == _file_sig(os.lstat(lib_path)):
            return lib_path
    except OSError:
        pass
    if _entry_problem(lib_path, key, source_sha256, identity_sha256) is None:
        return lib_path
    source = make_source()
    full_sha256 = hashlib.sha256(source.encode("utf-8")).hexdigest()
    try:
        return _compile_into(directory, key, source, full_sha256, command, check_source=source_sha256,
                             identity_sha256=identity_sha256)
    except _Unusable as exc:
        if directory == _fallback_root:
            raise CompilerError(f"cannot write compiled models to {directory}: {exc}") from None
        reason = str(exc)
    directory = _fallback_dir(requested, reason)
    lib_path = directory / name
    if _entry_problem(lib_path, key, source_sha256, identity_sha256) is None:
        return lib_path
    try:
        return _compile_into(directory, key, source, full_sha256, command, check_source=source_sha256,
                             identity_sha256=identity_sha256)
    except _Unusable as exc:
        raise CompilerError(f"cannot write compiled models to {directory}: {exc}") from None


def _check_loadable(path: Path) -> None:
    """Refuse to ``dlopen`` a cache entry that fails verification (own libraries pass)."""
    m = _LIB_NAME.fullmatch(path.name)
    if m is None:
        return
    try:
        real = _check_dir(path.parent, create=False) / path.name
    except _Unusable as exc:
        raise CompilerError(f"refusing to load {path}: its folder is not private ({exc})") from None
    problem = _entry_problem(real, m.group(1), None)
    if problem is not None:
        raise CompilerError(f"refusing to load {path}: {problem} (rebuild it with build())")


# --------------------------------------------------------------------------- schedule arrays

def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class SegmentArrays:
    """The arrays of a schedule in the dtypes and layout ``nk_solve`` reads.

    Jump targets are already resolved to state indices. All arrays are C-contiguous,
    read-only, float64 or C ``int``; their addresses are computed once.
    """

    boundaries: np.ndarray   # (n_seg + 1,) float64, strictly increasing
    const: np.ndarray        # (n_seg, n_input) float64
    term_ptr: np.ndarray     # (n_seg + 1,) intc
    term_input: np.ndarray   # (n_terms,) intc
    term_data: np.ndarray    # (n_terms, 4) float64: t_ref, rate, p, q
    jump_ptr: np.ndarray     # (n_seg + 1,) intc
    jump_index: np.ndarray   # (n_jumps,) intc, state indices
    jump_kind: np.ndarray    # (n_jumps,) intc: 0 add, 1 set
    jump_value: np.ndarray   # (n_jumps,) float64

    def __post_init__(self):
        f64 = lambda a: np.array(a, dtype=np.float64, order="C", copy=True)  # noqa: E731
        i32 = lambda a: np.array(a, dtype=np.intc, order="C", copy=True)  # noqa: E731
        b = f64(self.boundaries).reshape(-1)
        n_seg = b.size - 1
        if n_seg < 1:
            raise ValueError("boundaries needs at least two entries")
        if not np.all(np.isfinite(b)) or not np.all(np.diff(b) > 0):
            raise ValueError("boundaries must be finite and strictly increasing")
        const = f64(self.const)
        if const.ndim == 1 and const.size == 0:
            const = const.reshape(n_seg, 0)
        if const.ndim != 2 or const.shape[0] != n_seg:
            raise ValueError(f"const must have shape (n_seg={n_seg}, n_input), got {const.shape}")
        term_ptr, term_input = i32(self.term_ptr).reshape(-1), i32(self.term_input).reshape(-1)
        term_data = f64(self.term_data).reshape(-1, 4)
        jump_ptr, jump_index = i32(self.jump_ptr).reshape(-1), i32(self.jump_index).reshape(-1)
        jump_kind, jump_value = i32(self.jump_kind).reshape(-1), f64(self.jump_value).reshape(-1)
        for name, ptr, n in (("term", term_ptr, term_input.size), ("jump", jump_ptr, jump_index.size)):
            if ptr.size != n_seg + 1 or ptr[0] != 0 or ptr[-1] != n or np.any(np.diff(ptr) < 0):
                raise ValueError(f"{name}_ptr must be a CSR pointer of length {n_seg + 1} "
                                 f"from 0 to {n}")
        if term_data.shape[0] != term_input.size:
            raise ValueError("term_data must have one row (t_ref, rate, p, q) per term")
        if term_input.size and (term_input.min() < 0 or term_input.max() >= const.shape[1]):
            raise ValueError("term_input out of range of the inputs")
        if not np.all(np.isfinite(const)) or not np.all(np.isfinite(term_data)):
            raise ValueError("input constants and terms must be finite")
        if jump_kind.size != jump_index.size or jump_value.size != jump_index.size:
            raise ValueError("jump_index, jump_kind and jump_value must have the same length")
        if jump_index.size and jump_index.min() < 0:
            raise ValueError("jump_index must be non-negative state indices")
        if np.any((jump_kind != 0) & (jump_kind != 1)):
            raise ValueError("jump_kind must be 0 (add) or 1 (set)")
        for name, value in (("boundaries", b), ("const", const), ("term_ptr", term_ptr),
                            ("term_input", term_input), ("term_data", term_data),
                            ("jump_ptr", jump_ptr), ("jump_index", jump_index),
                            ("jump_kind", jump_kind), ("jump_value", jump_value)):
            object.__setattr__(self, name, _frozen(value))
        object.__setattr__(self, "_ptrs", (
            b.ctypes.data, const.ctypes.data, term_ptr.ctypes.data, term_input.ctypes.data,
            term_data.ctypes.data, jump_ptr.ctypes.data, jump_index.ctypes.data,
            jump_kind.ctypes.data, jump_value.ctypes.data))
        object.__setattr__(self, "_max_jump_index",
                           int(jump_index.max()) if jump_index.size else -1)

    @property
    def n_segments(self) -> int:
        return self.boundaries.size - 1

    @property
    def n_input(self) -> int:
        return self.const.shape[1]

    @property
    def t0(self) -> float:
        return float(self.boundaries[0])

    @property
    def t_end(self) -> float:
        return float(self.boundaries[-1])

    @classmethod
    def from_schedule(cls, schedule, state_index: dict) -> "SegmentArrays":
        """Arrays of a :class:`kinetics.protocol.schedule.Schedule`; jump targets via ``state_index``."""
        try:
            index = [state_index[name] for name in schedule.jump_target]
        except KeyError as exc:
            name = exc.args[0]
            raise ProtocolError(f"jump target `{name}` is not a state"
                                + did_you_mean(str(name), state_index)) from None
        const = np.asarray(schedule.const, dtype=np.float64)
        if const.ndim == 1:
            const = const.reshape(len(schedule.boundaries) - 1, len(schedule.inputs))
        return cls(boundaries=schedule.boundaries, const=const,
                   term_ptr=schedule.term_ptr, term_input=schedule.term_input,
                   term_data=np.asarray(schedule.term_data, dtype=np.float64).reshape(-1, 4),
                   jump_ptr=schedule.jump_ptr, jump_index=np.asarray(index, dtype=np.intc),
                   jump_kind=schedule.jump_kind, jump_value=schedule.jump_value)

    def retimed(self, t0: float, t_end: float) -> "SegmentArrays":
        """The same segments with the first boundary moved to ``t0`` and the last to ``t_end`` (which must keep
        the boundaries strictly increasing); the other arrays are shared (the event driver's windows)."""
        b = np.array(self.boundaries, dtype=np.float64)
        b[0], b[-1] = t0, t_end
        if not (np.isfinite(t0) and np.isfinite(t_end)) or np.any(np.diff(b[:2]) <= 0) or np.any(np.diff(b[-2:]) <= 0):
            raise ValueError("retimed boundaries must be finite and strictly increasing")
        out = object.__new__(SegmentArrays)
        out.__dict__.update(self.__dict__)
        object.__setattr__(out, "boundaries", _frozen(b))
        object.__setattr__(out, "_ptrs", (b.ctypes.data,) + self._ptrs[1:])
        return out

    @classmethod
    def single(cls, t0: float, t_end: float, const=None) -> "SegmentArrays":
        """One segment ``[t0, t_end]`` with constant inputs ``const`` and no jumps."""
        const = np.zeros((1, 0)) if const is None else np.asarray(const, float).reshape(1, -1)
        return cls(boundaries=[t0, t_end], const=const, term_ptr=[0, 0], term_input=[],
                   term_data=np.zeros((0, 4)), jump_ptr=[0, 0], jump_index=[],
                   jump_kind=[], jump_value=[])


# --------------------------------------------------------------------------- solver

_P = ctypes.c_void_p
_NK_SOLVE_ARGTYPES = [
    _P, _P,                               # p, y
    ctypes.c_int, _P, _P,                 # n_seg, boundaries, seg_const
    _P, _P, _P,                           # term_ptr, term_input, term_data
    _P, _P, _P, _P,                       # jump_ptr, jump_index, jump_kind, jump_value
    ctypes.c_int, _P, _P,                 # n_out, t_out, y_out
    ctypes.c_int, ctypes.c_double, _P,    # method, rtol, atol
    ctypes.c_double, ctypes.c_double,     # h0, hmax
    ctypes.c_long, _P, _P,                # max_steps, stats, t_fail
    _P,                                   # root_g (event root values at t*, or NULL)
]
#: Status of ``nk_solve`` when it stopped at an event (a root function changed its truth value).
NK_EVENT = 2
_F8 = 8  # sizeof(double)


#: Names of the solver statistics, in the order of the columns of ``solve_many(..., raw_stats=True)``.
STATS_KEYS = _STATS_KEYS


# ---------------------------------------------------------------------------- many trajectories (shared by the
# C solver and the JIT one, kinetics.jit.solver)
_MANY_OPTIONS = {"method": "auto", "rtol": 1e-6, "atol": 1e-9, "first_step": 0.0, "max_step": 0.0, "max_steps": 0}


def many_options(kw: dict) -> tuple:
    """``(method, rtol, atol, first_step, max_step, max_steps)`` of ``solve_many``'s keyword arguments (the
    defaults of ``solve`` for those not given); ``TypeError`` for any other keyword."""
    unknown = set(kw) - set(_MANY_OPTIONS)
    if unknown:
        raise TypeError(f"unexpected keyword arguments {sorted(unknown)}")
    return tuple(kw.get(k, v) for k, v in _MANY_OPTIONS.items())


def many_rows(params_matrix, y0_matrix, n_param: int, n_state: int) -> tuple:
    """``(P (m, n_param) contiguous, y_final (m, n_state) a fresh copy of the start states)`` of ``solve_many``'s
    arrays (one start state for all rows, or one per row); ``ValueError`` for other shapes."""
    P = np.ascontiguousarray(params_matrix, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] != n_param:
        raise ValueError(f"params_matrix must have shape (m, {n_param}), got {P.shape}")
    m = P.shape[0]
    Y0 = np.asarray(y0_matrix, dtype=np.float64)
    if Y0.shape == (n_state,):
        return P, np.tile(Y0, (m, 1))
    if Y0.shape == (m, n_state):
        return P, np.array(Y0, order="C", copy=True)
    raise ValueError(f"y0_matrix must have shape ({m}, {n_state}) or ({n_state},), got {Y0.shape}")


def run_rows(m: int, run_row, n_workers=None) -> np.ndarray:
    """Call ``run_row(i)`` (a status, 0 for success) for the rows ``0..m-1`` on ``n_workers`` threads (default
    every core; the solvers release the GIL); no new row starts after a failure. The status of every row
    (0 for rows not run)."""
    status = np.zeros(m, dtype=int)
    counter = itertools.count()
    stop = threading.Event()

    def worker():
        while not stop.is_set():
            i = next(counter)          # atomic under the GIL
            if i >= m:
                return
            st = run_row(i)
            if st != 0:
                status[i] = st
                stop.set()

    n_workers = (os.cpu_count() or 1) if n_workers is None else int(n_workers)
    n_workers = max(1, min(n_workers, m))
    if n_workers == 1:
        worker()
    else:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            for fut in [pool.submit(worker) for _ in range(n_workers)]:
                fut.result()
    return status


def raise_first_failure(status, stats, error, method: str) -> None:
    """Raise ``error(status, t_fail, method, prefix="row i: ")`` (with ``.row``) for the lowest failing row."""
    failed = np.flatnonzero(status)
    if failed.size:
        i = int(failed[0])
        err = error(status[i], stats[i, 16], method, prefix=f"row {i}: ")
        err.row = i                    # which row failed (the message says it too)
        raise err


def _stats_dict(stats) -> dict:
    return {k: int(v) for k, v in zip(_STATS_KEYS, stats)}


class NativeSolver:
    """ctypes front end of one compiled model library (see :func:`build`).

    A library named like a cache entry (``nk_<key>.so``) is verified against its
    manifest before it is opened; :class:`CompilerError` if it fails (see the module
    docstring). Other paths are the caller's own libraries and are opened as given.

    Instances are thread-safe: :meth:`solve` may be called from several threads
    at once (the C code is reentrant and ctypes releases the GIL during the call).
    """

    def __init__(self, path, n_state: int, n_param: int, n_input: int):
        self.path = Path(path)
        self.n_state, self.n_param, self.n_input = int(n_state), int(n_param), int(n_input)
        _check_loadable(self.path)     # a cache entry is verified before dlopen runs any of its code
        lib = ctypes.CDLL(str(self.path))
        dims = (ctypes.c_int * 3)()
        lib.nk_dims.argtypes = [ctypes.c_void_p]
        lib.nk_dims.restype = None
        lib.nk_dims(dims)
        if tuple(dims) != (self.n_state, self.n_param, self.n_input):
            raise ValueError(f"library {self.path.name} was compiled for (n_state, n_param, "
                             f"n_input) = {tuple(dims)}, not "
                             f"{(self.n_state, self.n_param, self.n_input)}")
        lib.nk_abi_version.argtypes = []
        lib.nk_abi_version.restype = ctypes.c_int
        if lib.nk_abi_version() != _ABI_VERSION:
            raise ValueError(f"library {self.path.name} has ABI {lib.nk_abi_version()}, "
                             f"expected {_ABI_VERSION}")
        lib.nk_status_message.argtypes = [ctypes.c_int]
        lib.nk_status_message.restype = ctypes.c_char_p
        lib.nk_n_observables.argtypes = []
        lib.nk_n_observables.restype = ctypes.c_int
        #: Observables :meth:`observables` computes (-1: the library has none written in C).
        self.n_observables = int(lib.nk_n_observables())
        lib.nk_observables.argtypes = [ctypes.c_int, _P, _P, _P, ctypes.c_int, _P, ctypes.c_int, _P]
        lib.nk_observables.restype = None
        lib.nk_n_roots.argtypes = []
        lib.nk_n_roots.restype = ctypes.c_int
        #: Event root functions compiled into the library (see :mod:`kinetics.events`).
        self.n_roots = int(lib.nk_n_roots())
        fn = lib.nk_solve
        fn.argtypes = _NK_SOLVE_ARGTYPES
        fn.restype = ctypes.c_int
        self._lib = lib
        self._fn = fn
        # Small identity caches (a tuple swap is atomic, so threads may share them).
        self._atol_cache = (None, None, 0)     # (scalar, array, address)
        self._t_out_cache = (None, 0)          # (array, address)

    def status_message(self, status: int) -> str:
        """The C library's text for a status code."""
        return self._lib.nk_status_message(int(status)).decode()

    def observables(self, t, Y, P, U) -> list:
        """The model's observables at many points, computed by the library (the same call as the numpy
        functions of :mod:`kinetics.codegen`).

        ``t`` is a scalar or ``(n,)``; ``Y`` ``(n_state,)`` or ``(n_state, n)`` (states in rows); ``P``
        ``(n_param,)`` or ``(n_param, n)``; ``U`` ``(n_input,)`` or ``(n_input, n)``; one-dimensional arguments
        are shared by every point. Returns one ``(n,)`` array per observable. Raises ``ValueError`` if the
        library has no observables written in C (:attr:`n_observables` is -1).
        """
        q = self.n_observables
        if q < 0:
            raise ValueError(f"library {self.path.name} has no observables written in C")
        t = np.asarray(t, dtype=np.float64)
        Y = np.asarray(Y, dtype=np.float64)
        P = np.asarray(P, dtype=np.float64)
        U = np.asarray(U, dtype=np.float64)
        cols = [a.shape[1] for a in (Y, P, U) if a.ndim == 2] + ([t.size] if t.ndim == 1 else [])
        n = max(cols) if cols else 1
        for a, rows, name in ((Y, self.n_state, "Y"), (P, self.n_param, "P"), (U, self.n_input, "U")):
            if a.shape[:1] != (rows,) or a.ndim > 2 or (a.ndim == 2 and a.shape[1] not in (1, n)):
                raise ValueError(f"{name} must have shape ({rows},) or ({rows}, {n}), got {a.shape}")
        if t.ndim > 1 or (t.ndim == 1 and t.size not in (1, n)):
            raise ValueError(f"t must be a scalar or have shape ({n},), got {t.shape}")
        if q == 0 or n == 0:
            return [np.empty(n) for _ in range(q)]
        tt = np.ascontiguousarray(np.broadcast_to(t.reshape(-1), (n,)))
        YT = np.ascontiguousarray(np.broadcast_to(Y.reshape(self.n_state, -1).T, (n, self.n_state)))

        def shared_or_rows(a, rows):
            if a.ndim == 1 or a.shape[1] == 1:
                return np.ascontiguousarray(a.reshape(rows)) if rows else np.zeros(1), 0
            return np.ascontiguousarray(a.T), rows

        PT, p_stride = shared_or_rows(P, self.n_param)
        UT, u_stride = shared_or_rows(U, self.n_input)
        out = np.empty((n, q))
        self._lib.nk_observables(n, tt.ctypes.data, YT.ctypes.data, PT.ctypes.data, p_stride,
                                 UT.ctypes.data, u_stride, out.ctypes.data)
        return list(out.T.copy())

    # -- argument preparation (shared by solve and solve_many) --------------------

    def _prepare(self, schedule_arrays, t_out, method, rtol, atol, first_step, max_step,
                 max_steps) -> tuple:
        """Validate and convert the arguments shared by every row of a call.

        Returns ``(method, seg_args, n_out, t_out_ptr, code, rtol, atol_ptr, h0, hmax,
        max_steps, keep)``; ``keep`` holds the arrays whose addresses are passed.
        """
        sa = schedule_arrays
        if not isinstance(sa, SegmentArrays):
            raise TypeError("schedule_arrays must be a SegmentArrays")
        if sa.n_input != self.n_input:
            raise ValueError(f"schedule has {sa.n_input} inputs, model has {self.n_input}")
        if sa._max_jump_index >= self.n_state:
            raise ValueError(f"jump_index {sa._max_jump_index} out of range for "
                             f"{self.n_state} states")
        code = METHODS.get(method)
        if code is None:
            raise ValueError(f"unknown method `{method}`; expected one of {sorted(METHODS)}"
                             + did_you_mean(str(method), METHODS))
        cached_t, t_ptr = self._t_out_cache
        if t_out is not cached_t:
            if (isinstance(t_out, np.ndarray) and t_out.dtype == np.float64
                    and t_out.ndim == 1 and t_out.flags.c_contiguous):
                t_ptr = t_out.ctypes.data
                self._t_out_cache = (t_out, t_ptr)
            else:
                t_out = np.ascontiguousarray(t_out, dtype=np.float64)
                if t_out.ndim != 1:
                    raise ValueError(f"t_out must be 1-D, got shape {t_out.shape}")
                t_ptr = t_out.ctypes.data
        if np.ndim(atol) == 0:
            cached_value, atol_arr, atol_ptr = self._atol_cache
            if atol_arr is None or cached_value != atol:
                atol_arr = _frozen(np.full(self.n_state, float(atol)))
                atol_ptr = atol_arr.ctypes.data
                self._atol_cache = (atol, atol_arr, atol_ptr)
        else:
            atol_arr = np.ascontiguousarray(atol, dtype=np.float64)
            if atol_arr.shape != (self.n_state,):
                raise ValueError(f"atol must be a scalar or have shape ({self.n_state},), "
                                 f"got {atol_arr.shape}")
            atol_ptr = atol_arr.ctypes.data
        seg_args = (sa.boundaries.size - 1,) + sa._ptrs
        return (method, seg_args, t_out.size, t_ptr, code, float(rtol), atol_ptr,
                float(first_step), float(max_step), int(max_steps), (sa, t_out, atol_arr))

    def _error(self, status, t_fail, method, prefix="") -> SolverError:
        msg = self.status_message(status)
        if status == -5:
            msg += (" (t_out must be sorted and inside [t0, t_end]; rtol >= 0, atol >= 0, "
                    "not both 0; first_step, max_step >= 0)")
        return SolverError(prefix + msg, t=float(t_fail), status=int(status), method=method)

    # -- public API ---------------------------------------------------------------

    def solve(self, params, y0, schedule_arrays, t_out, *, method="auto", rtol=1e-6,
              atol=1e-9, first_step=0.0, max_step=0.0, max_steps=0):
        """Integrate one trajectory over the whole schedule.

        Parameters
        ----------
        params : (n_param,) array_like
        y0 : (n_state,) array_like
            State at ``schedule_arrays.t0`` (before the jumps of segment 0).
        schedule_arrays : SegmentArrays
        t_out : (n_out,) array_like
            Sorted output times inside ``[t0, t_end]``. A time equal to a segment
            boundary reports the state after that boundary's jumps.
        method : {"auto", "dopri5", "rodas"}
        rtol : float; atol : float or (n_state,) array
        first_step, max_step : float
            Initial step (0: automatic) and step limit (0: none).
        max_steps : int
            Budget of attempted steps for the whole call (<= 0: 10**7).

        Returns
        -------
        y_out : (n_out, n_state) ndarray
        y_final : (n_state,) ndarray, the state at ``t_end``
        stats : dict of int, keys ``n_steps``, ``n_rejected``, ``n_rhs``, ``n_jac``,
            ``n_lu``, ``n_segments``, ``n_switches``, ``n_rodas_steps``

        Raises :class:`SolverError` (``.status``, ``.t``) if the integration fails.
        """
        (method, seg_args, n_out, t_ptr, code, rtol, atol_ptr, h0, hmax, max_steps,
         _keep) = self._prepare(schedule_arrays, t_out, method, rtol, atol, first_step,
                                max_step, max_steps)
        n, npar = self.n_state, self.n_param
        if np.shape(params) != (npar,):
            raise ValueError(f"params must have shape ({npar},), got {np.shape(params)}")
        if np.shape(y0) != (n,):
            raise ValueError(f"y0 must have shape ({n},), got {np.shape(y0)}")
        # One buffer [params | y | stats(16) | t_fail | y_out]: one address lookup.
        buf = np.empty(npar + n + 17 + n_out * n)
        buf[:npar] = params
        buf[npar:npar + n] = y0
        a = buf.ctypes.data
        a_y = a + _F8 * npar
        a_st = a_y + _F8 * n
        status = self._fn(a, a_y, *seg_args, n_out, t_ptr, a_st + _F8 * 17, code, rtol,
                          atol_ptr, h0, hmax, max_steps, a_st, a_st + _F8 * 16, None)
        o = npar + n
        if status != 0:
            raise self._error(status, buf[o + 16], method)
        return (buf[o + 17:].reshape(n_out, n), buf[npar:o], _stats_dict(buf[o:o + 8]))

    def solve_until_event(self, params, y0, schedule_arrays, t_out, *, method="auto", rtol=1e-6,
                          atol=1e-9, first_step=0.0, max_step=0.0, max_steps=0):
        """Like :meth:`solve`, but stop where an event root function changes its truth value.

        Returns ``(stop, y_out, y, stats, n_written, n_started, g)``: ``stop`` is None when the schedule's end
        was reached, else the event time ``t*``; ``y`` the state there; only the first ``n_written`` rows of
        ``y_out`` are written (the output times before ``t*``); ``n_started`` segments had their start (jumps)
        processed; ``g`` the root values at ``t*`` (the driver is :mod:`kinetics.events`).
        """
        (method, seg_args, n_out, t_ptr, code, rtol, atol_ptr, h0, hmax, max_steps,
         _keep) = self._prepare(schedule_arrays, t_out, method, rtol, atol, first_step,
                                max_step, max_steps)
        n, npar = self.n_state, self.n_param
        y = np.array(y0, dtype=np.float64, order="C", copy=True)
        p = np.ascontiguousarray(params, dtype=np.float64)
        if p.shape != (npar,) or y.shape != (n,):
            raise ValueError(f"params must have shape ({npar},) and y0 ({n},)")
        stats = np.zeros(17)
        y_out = np.empty((n_out, n))
        g = np.zeros(max(self.n_roots, 1))
        status = self._fn(p.ctypes.data if npar else None, y.ctypes.data, *seg_args, n_out, t_ptr,
                          y_out.ctypes.data, code, rtol, atol_ptr, h0, hmax, max_steps, stats.ctypes.data,
                          stats[16:].ctypes.data, g.ctypes.data)
        if status not in (0, NK_EVENT):
            raise self._error(status, stats[16], method)
        stop = float(stats[16]) if status == NK_EVENT else None
        return (stop, y_out, y, _stats_dict(stats[:8]), int(stats[8]), int(stats[9]), g[:self.n_roots])

    def solve_many(self, params_matrix, y0_matrix, schedule_arrays, t_out, *,
                   n_workers=None, raw_stats: bool = False, **kw):
        """Solve one trajectory per row of ``params_matrix`` on a thread pool.

        ``params_matrix`` is ``(m, n_param)``; ``y0_matrix`` is ``(m, n_state)`` or one
        ``(n_state,)`` start state for all rows. ``n_workers`` defaults to
        ``os.cpu_count()``. Other keyword arguments are those of :meth:`solve`.
        Returns ``(y_out (m, n_out, n_state), y_final (m, n_state), [stats, ...])``
        (with ``raw_stats=True`` the stats as one ``(m, len(STATS_KEYS))`` integer array, cheap to
        ship between processes); each row's result is bit-identical to :meth:`solve` on that row. If rows
        fail, the :class:`SolverError` names the lowest failing row seen.
        """
        (method, seg_args, n_out, t_ptr, code, rtol, atol_ptr, h0, hmax, max_steps,
         _keep) = self._prepare(schedule_arrays, t_out, *many_options(kw))
        n = self.n_state
        P, y_final = many_rows(params_matrix, y0_matrix, self.n_param, n)
        m = P.shape[0]
        y_out = np.empty((m, n_out, n))
        stats = np.zeros((m, 17))          # 16 stats + t_fail per row
        a_p, a_y, a_o, a_s = (P.ctypes.data, y_final.ctypes.data, y_out.ctypes.data,
                              stats.ctypes.data)
        s_p, s_y, s_o, s_s = _F8 * P.shape[1], _F8 * n, _F8 * n_out * n, _F8 * 17
        fn = self._fn

        def run_row(i):
            return fn(a_p + i * s_p, a_y + i * s_y, *seg_args, n_out, t_ptr,
                      a_o + i * s_o, code, rtol, atol_ptr, h0, hmax, max_steps,
                      a_s + i * s_s, a_s + i * s_s + _F8 * 16, None)

        status = run_rows(m, run_row, n_workers)
        raise_first_failure(status, stats, self._error, method)
        if raw_stats:
            return y_out, y_final, stats[:, :len(_STATS_KEYS)].astype(np.int64)
        return y_out, y_final, [_stats_dict(row) for row in stats]
