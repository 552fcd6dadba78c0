"""numba's on-disk cache for the JIT integrator, kept in the package's private compile cache folder.

Compiling the integrator (:mod:`kinetics.jit.integrator`) takes numba about 15 s, and a large model's functions
several seconds; the compiled code is cached on disk so that later processes load it in about a second. numba's
cache files are pickles, and loading a pickle runs code, so they are kept only where the compiled C models already
are: the folder
``<cache>/numba`` of :func:`kinetics.native.default_cache_dir`, which must pass the same checks as that folder
(created with mode 0700; owned by the user, not group- or world-writable, and so are its parents unless they are
root's or sticky; see :mod:`kinetics.native`). Whoever can write there can already replace the shared libraries
the package loads, so the cache adds no new way in. Before numba reads the folder, every file in it that is not a
regular file owned by the user and writable only by them is deleted.

numba's own cache locations (``__pycache__`` next to the package, ``$NUMBA_CACHE_DIR``, the user-wide folder) are
never used. Without a usable private folder, or if ``$NUMBA_CACHE_LOCATOR_CLASSES`` overrides where numba caches,
the integrator is compiled in every process instead (slower to start, same results).

The index records the SHA-256 of the function's source file (numba's source stamp) together with numba's version
and the CPU, so a changed integrator or another machine recompiles.

Each model's generated module (:mod:`kinetics.jit.pycode`) is kept beside them as ``jit_<key>.py``, ``key`` the
SHA-256 of the model's code identity (structure key, code generator), so that a later process neither derives its
equations nor compiles its functions (:func:`model_functions`). Its first line holds the SHA-256 of the rest; a
module that does not match it, or that is not a regular file of the user's writable only by them, is deleted and
written again before anything of it runs.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["cache_folder", "compiled", "model_functions"]

_SUBFOLDER = "numba"


def cache_folder() -> Path | None:
    """The private folder for numba's cache files (created if missing), or ``None`` if it cannot be used."""
    from .. import native

    try:
        folder = native._check_dir(native.default_cache_dir() / _SUBFOLDER)
    except (native._Unusable, OSError):
        return None
    uid = os.getuid() if hasattr(os, "getuid") else None
    try:
        for entry in os.scandir(folder):
            st = entry.stat(follow_symlinks=False)
            foreign = uid is not None and st.st_uid != uid
            if not stat.S_ISREG(st.st_mode) or foreign or st.st_mode & 0o022:
                if stat.S_ISDIR(st.st_mode) and not foreign:
                    continue                 # nothing numba wrote: left alone, never read
                os.unlink(entry.path)
    except OSError:
        return None
    return folder


def _private_cache(py_func, folder: Path):
    """A numba ``FunctionCache`` for ``py_func`` whose only location is ``folder``."""
    from numba.core import caching

    class Locator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
        def __init__(self, func, py_file):
            self._py_file = py_file
            self._lineno = func.__code__.co_firstlineno

        def get_cache_path(self):
            return str(folder)

        def ensure_cache_path(self):
            pass                            # checked by cache_folder()

        @classmethod
        def from_function(cls, func, py_file):
            return cls(func, py_file)

    class Impl(caching.CompileResultCacheImpl):
        _locator_classes = [Locator]

    class Cache(caching.FunctionCache):
        _impl_class = Impl

    return Cache(py_func)


def compiled(py_func, signature, folder="default"):
    """``py_func`` compiled by numba for ``signature`` (nogil, IEEE floating-point semantics), loaded from numba's
    cache in ``folder`` when it is there and saved to it otherwise (``"default"``: :func:`cache_folder`;
    ``None``: no cache). ``py_func`` must be defined in a file."""
    from numba import config, njit

    dispatcher = njit(nogil=True, cache=False, error_model="numpy")(py_func)
    if folder == "default":
        folder = cache_folder()
    if getattr(config, "CACHE_LOCATOR_CLASSES", None):
        folder = None
    if folder is not None:
        try:
            dispatcher._cache = _private_cache(py_func, folder)
        except Exception:                   # numba's internals moved: compile without the cache
            pass
    try:
        dispatcher.compile(signature)
    except Exception:
        if dispatcher._cache is None or not hasattr(dispatcher._cache, "flush"):
            raise
        dispatcher._cache.flush()           # an entry numba cannot load (e.g. written by an older version): rebuilt
        dispatcher.compile(signature)
    dispatcher.disable_compile()
    return dispatcher


# --------------------------------------------------------------------------- generated model modules

_HEADER = "# nmdakin-jit-model/1 sha256="
_MAX_BYTES = 256 * 1024 * 1024


def _read_module(path: Path) -> str | None:
    """The text of a generated module written by :func:`model_functions`, or ``None`` (missing, or not a regular
    file of the user's, writable only by them, whose body matches the SHA-256 in its first line: then deleted)."""
    import hashlib

    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError:
        _remove(path)
        return None
    try:
        st = os.fstat(fd)
        uid = os.getuid() if hasattr(os, "getuid") else None
        if (not stat.S_ISREG(st.st_mode) or (uid is not None and st.st_uid != uid) or st.st_mode & 0o022
                or st.st_size > _MAX_BYTES):
            raise ValueError
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        raw = b"".join(chunks).decode("utf-8")
        head, _, body = raw.partition("\n")
        if not head.startswith(_HEADER) or head[len(_HEADER):] != hashlib.sha256(body.encode()).hexdigest():
            raise ValueError
        return raw
    except (ValueError, UnicodeDecodeError, OSError):
        _remove(path)
        return None
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _write_module(path: Path, body: str) -> str:
    import hashlib
    import tempfile

    text = f"{_HEADER}{hashlib.sha256(body.encode()).hexdigest()}\n{body}"
    fd, tmp = tempfile.mkstemp(prefix=".jit_", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError:
        _remove(Path(tmp))
        raise
    return text


def model_functions(identity: str, make_source, label: str = "model") -> tuple:
    """``(functions, meta)`` of a model (see :func:`kinetics.jit.pycode.compile_module`) named by ``identity``
    (everything its generated code depends on).

    With a private cache folder the generated module is kept there as ``jit_<key>.py`` (its first line holds the
    SHA-256 of the rest, checked before it is run) and its functions in numba's cache beside it, so a later
    process neither derives the equations (``make_source()``, returning a
    :class:`~kinetics.jit.pycode.ModelSource`, is called only to write a missing module) nor compiles them."""
    import hashlib

    from .pycode import compile_module, module_text

    folder = cache_folder()
    if folder is None:
        return compile_module(module_text(make_source()), f"<nmdakin jit: {label}>", None, label)
    key = hashlib.sha256(f"nmdakin-jit\x1f{identity}".encode()).hexdigest()[:40]
    path = folder / f"jit_{key}.py"
    text = _read_module(path)
    if text is None:
        try:
            text = _write_module(path, module_text(make_source()))
        except OSError:                     # the folder cannot be written: compile in memory
            return compile_module(module_text(make_source()), f"<nmdakin jit: {label}>", None, label)
    return compile_module(text, str(path), folder, label)
