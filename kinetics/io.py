"""Small file helpers: atomic writes so that a failure never leaves a half-written file.

Every file the package writes goes through :func:`atomic_write_bytes` (text: :func:`atomic_write_text`,
matplotlib figures: :func:`atomic_savefig`): the data go to a temporary file ``.NAME.nk-XXXXXXXX.tmp`` in the
destination's folder, are flushed and ``fsync``-ed, and the temporary file is renamed over the destination
with :func:`os.replace`. A reader, or a process killed at any moment (``kill -9``, power loss after the
fsync), sees the old file or the new one, never a partial one.

Stale temporary files
    A process killed between creating its temporary file and renaming it leaves the temporary file behind.
    Every atomic write sweeps its destination folder for such leftovers and deletes one only when all of
    these hold: its name is exactly our pattern ``.NAME.nk-XXXXXXXX.tmp`` (8 characters from ``mkstemp``),
    it is a regular file (not a symlink) owned by the current user, it was last modified more than
    :data:`STALE_TMP_SECONDS` (10 minutes) ago, and no process holds the ``flock`` that a writer keeps on
    its temporary file until the rename (so a writer stalled for longer is never robbed of its file). A
    failure of the sweep never fails the write.

:func:`check_output_path` is the up-front check the command line runs on every output path before any work.

Model files
    :func:`read_model` reads a model file of any format — the text syntax (:mod:`kinetics.textformat`), JSON
    (:mod:`kinetics.jsonformat`) or SBML (:mod:`kinetics.sbml`) — as a :class:`ModelFile`: the scheme, the
    protocol the file gives (text: protocol lines; JSON: ``"protocol"``; SBML: time-triggered events) and its
    ``t_end``. It is the one reader of a model *with* its experiment; :func:`kinetics.read_scheme` and
    :func:`kinetics.read_json` return a bare scheme and refuse a file that carries a protocol (as
    :func:`kinetics.read_sbml` refuses events), so a protocol is never dropped silently.
"""
from __future__ import annotations

import io
import os
import re
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ArgumentError
from .protocol import Protocol

try:  # POSIX only; on Windows an open file cannot be deleted anyway
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

__all__ = ["ModelFile", "read_model", "atomic_write_text", "atomic_write_bytes", "atomic_savefig", "check_output_path",
           "figure_format",
           "STALE_TMP_SECONDS"]

#: A leftover temporary file older than this (seconds since its last modification) may be deleted.
STALE_TMP_SECONDS = 600.0
_TMP_TAG = ".nk-"
_TMP_SUFFIX = ".tmp"
_TMP_NAME = re.compile(r"^\..+\.nk-[A-Za-z0-9_]{8}\.tmp$")
_MAX_PREFIX_NAME = 200          # keep ".NAME.nk-XXXXXXXX.tmp" under the usual 255-byte file-name limit

# The process umask, read once (os.umask can only be read by setting it).
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def _folder(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def _check_destination(path: Path, what: str = "") -> Path:
    """The folder of ``path`` after checking that ``path`` can be replaced by a regular file; raises
    :class:`ArgumentError` otherwise (a folder, a device, a FIFO, a missing folder)."""
    label = f"{what} `{path}`" if what else f"`{path}`"
    if path.name in ("", ".", ".."):
        raise ArgumentError(f"cannot write {label}: it names a folder, not a file")
    folder = _folder(path)
    if not folder.exists():
        raise ArgumentError(f"cannot write {label}: folder `{folder}` does not exist")
    if not folder.is_dir():
        raise ArgumentError(f"cannot write {label}: `{folder}` is not a folder")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return folder
    except OSError as exc:
        raise ArgumentError(f"cannot write {label}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ArgumentError(f"cannot write {label}: it is a folder")
    if not stat.S_ISREG(st.st_mode):
        raise ArgumentError(f"cannot write {label}: it is not a regular file (a device, pipe or socket), "
                            "refusing to replace it")
    return folder


def check_output_path(path, what: str = "output", *, figure: bool = False, allow_stdout: bool = False):
    """Check an output path before any work is done; return it as a :class:`Path` (``None`` stays ``None``,
    ``"-"`` stays ``"-"`` when ``allow_stdout``).

    Refuses, with an :class:`ArgumentError` naming ``what``: an empty path, a path that is (or ends like) a
    folder, a missing parent folder, a device/pipe/socket, a read-only existing file, a folder we cannot
    create files in and, with ``figure=True``, a file suffix matplotlib cannot write.
    """
    if path is None:
        return None
    if allow_stdout and str(path) == "-":
        return "-"
    if not str(path).strip():
        raise ArgumentError(f"the {what} path is empty")
    if str(path).endswith(("/", os.sep)):
        raise ArgumentError(f"cannot write {what} `{path}`: it names a folder, not a file")
    p = Path(path)
    label = f"{what} `{p}`"
    folder = _check_destination(p, what)
    if p.exists() and not os.access(p, os.W_OK):
        raise ArgumentError(f"cannot write {label}: the file is read-only")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ArgumentError(f"cannot write {label}: no permission to create files in folder `{folder}`")
    if figure:
        figure_format(p, what)
    return p


def figure_format(path: Path, what: str = "figure", fmt: str | None = None) -> str:
    """The matplotlib format of ``path`` (its suffix, ``png`` without one); :class:`ArgumentError` if unknown."""
    from matplotlib.backend_bases import FigureCanvasBase

    from .errors import did_you_mean

    fmt = (fmt or path.suffix[1:] or "png").lower()
    supported = FigureCanvasBase.get_supported_filetypes()
    if fmt not in supported:
        raise ArgumentError(f"cannot write {what} `{path}`: unknown image format `{fmt}`"
                            + did_you_mean(fmt, supported) + f"; use one of {', '.join(sorted(supported))}")
    return fmt


def _sweep_stale_tmp(folder: Path) -> None:
    """Delete our leftover temporary files in ``folder`` (see the module docstring for the exact rule)."""
    try:
        entries = os.scandir(folder)
    except OSError:
        return
    now = time.time()
    uid = os.getuid() if hasattr(os, "getuid") else None
    with entries:
        for entry in entries:
            if not _TMP_NAME.match(entry.name):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
                if (not stat.S_ISREG(st.st_mode) or (uid is not None and st.st_uid != uid)
                        or now - st.st_mtime < STALE_TMP_SECONDS):
                    continue
                _remove_if_unlocked(entry.path, st)
            except OSError:
                continue


def _remove_if_unlocked(path: str, st: os.stat_result) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return                                  # a live writer holds it
        same = (st.st_dev, st.st_ino)
        if (os.fstat(fd).st_dev, os.fstat(fd).st_ino) != same:
            return
        cur = os.lstat(path)
        if (cur.st_dev, cur.st_ino) == same:
            os.unlink(path)
    finally:
        os.close(fd)


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder, ``fsync`` and ``os.replace``.

    A file that is replaced keeps its permissions; a new one gets ``0666 & ~umask``. Refuses (with
    :class:`ArgumentError`) a missing folder, a destination that is a folder, a device, a pipe or a socket.
    An :class:`OSError` while writing (a full disk) carries the destination as its ``filename``; the
    temporary file is removed and the destination is untouched. Stale temporary files of killed writers in
    the folder are removed first (module docstring).
    """
    path = Path(path)
    folder = _check_destination(path)
    _sweep_stale_tmp(folder)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:_MAX_PREFIX_NAME]}{_TMP_TAG}", suffix=_TMP_SUFFIX,
                                   dir=folder)
    except OSError as exc:
        raise ArgumentError(f"cannot write `{path}`: {exc.strerror or exc}") from None
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # tells the sweep of other writers: in use
            except OSError:
                pass                                    # a file system without flock: the age rule still holds
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
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and exc.filename is None and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise
    return path


def atomic_write_text(path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_savefig(fig, path, *, format: str | None = None, **kw) -> Path:
    """Render a matplotlib figure in memory (``fig.savefig`` into a buffer) and write it with
    :func:`atomic_write_bytes`: a killed process never leaves a truncated image. The format comes from
    ``format``, else the suffix of ``path`` (``png`` without one); ``kw`` go to ``savefig`` (``dpi``...)."""
    path = Path(path)
    fmt = figure_format(path, "figure", format)
    _check_destination(path, "figure")                  # before the (possibly slow) rendering
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, **kw)
    return atomic_write_bytes(path, buf.getvalue())


# --------------------------------------------------------------------------- model files
@dataclass(frozen=True)
class ModelFile:
    """A model as a file gives it: the scheme, its protocol and the end of its simulated window.

    Attributes
    ----------
    scheme : Scheme
    protocol : Protocol
        What drives the inputs and jumps the species (empty if the file gives none).
    t_end : float or None
        End of the simulated window (from ``0``) if the file gives one.
    source : str or None
        The file name.

    Examples
    --------
    >>> import kinetics as kx
    >>> m = kx.parse_model('''
    ... scheme decay
    ... species A = 1
    ... parameter k = 1 [1/ms]
    ... A -> ; k
    ... jumps A times=[1] amount=1 mode=set
    ... t_end 2
    ... ''')
    >>> res = kx.simulate(m.scheme, m.protocol, t_end=m.t_end, rtol=1e-10, atol=1e-12)
    >>> round(float(res["A"][-1]), 6)      # reset to 1 at t = 1, then exp(-1)
    0.367879
    """

    scheme: object
    protocol: Protocol = field(default_factory=Protocol.empty)
    t_end: float | None = None
    source: str | None = None

    def __post_init__(self):
        from .errors import ProtocolError
        from .scheme import Scheme

        if not isinstance(self.scheme, Scheme):
            raise ArgumentError(f"ModelFile: `scheme` must be a Scheme, got {type(self.scheme).__name__}")
        if self.protocol is None:
            object.__setattr__(self, "protocol", Protocol.empty())
        if not isinstance(self.protocol, Protocol):
            raise ProtocolError(f"ModelFile: `protocol` must be a Protocol, got {type(self.protocol).__name__}")
        if self.t_end is not None:
            t_end = float(self.t_end)
            if not (t_end > 0 and t_end < float("inf")):
                raise ArgumentError(f"ModelFile: `t_end` must be a finite number > 0, got {self.t_end!r}")
            object.__setattr__(self, "t_end", t_end)


def read_model(path, *, name: str | None = None) -> ModelFile:
    """Read a model file with its protocol: text syntax, JSON (``.json``), SBML (``.xml``, ``.sbml``) or NMODL
    (``.mod``; its NET_RECEIVE block becomes a protocol only for given event times:
    :meth:`kinetics.nmodl.NmodlModel.protocol`, so the protocol here is empty).

    Parameters
    ----------
    path : str or Path
    name : str, optional
        Text files only: the scheme's name, overriding the ``scheme`` line (default: that line, else the
        file's stem).

    Returns
    -------
    ModelFile
        The scheme, the protocol (empty if the file gives none) and ``t_end`` (None if not given).

    Raises
    ------
    ParseError
        Bad content, with the line (text) or the field (JSON); see each format's reader.
    FileNotFoundError

    Examples
    --------
    >>> m = read_model("bind.txt")                                     # doctest: +SKIP
    >>> res = kinetics.simulate(m.scheme, m.protocol, t_end=m.t_end)    # doctest: +SKIP
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if name is not None and suffix in (".json", ".xml", ".sbml", ".mod"):
        raise ArgumentError(f"read_model: `name` applies to text scheme files only, not `{p.name}`")
    if suffix == ".json":
        from .jsonformat import read_json_model

        return read_json_model(p)
    if suffix in (".xml", ".sbml"):
        from .sbml import read_sbml_model

        m = read_sbml_model(p)
        return ModelFile(m.scheme, m.protocol, m.t_end, str(p))
    if suffix == ".mod":                     # NMODL: NET_RECEIVE needs event times, so no protocol here
        from .nmodl import read_nmodl

        return ModelFile(read_nmodl(p), Protocol.empty(), None, str(p))
    from .textformat import _read_model_file

    return _read_model_file(p, name)
