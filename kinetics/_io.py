"""Small file helpers: atomic writes so that a failure never leaves a half-written file."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import ArgumentError

__all__ = ["atomic_write_text", "atomic_write_bytes"]

# The process umask, read once (os.umask can only be read by setting it).
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder, ``fsync`` and ``os.replace``.

    A file that is replaced keeps its permissions; a new one gets ``0666 & ~umask``.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ArgumentError(f"cannot write `{path}`: folder `{folder}` does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ArgumentError(f"cannot write `{path}`: {exc.strerror or exc}") from None
    try:
        try:
            mode = path.stat().st_mode & 0o777        # keep the permissions of the file replaced
        except FileNotFoundError:
            mode = 0o666 & ~_UMASK                    # mkstemp creates 0600: give a new file ordinary ones
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def atomic_write_text(path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))
