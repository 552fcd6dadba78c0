"""Writing generated documentation sources: a folder whose content is replaced at every build.

Files are written only when their text changed (so Sphinx's incremental builds reread only what changed, and
two builds of the same checkout write the same bytes), each atomically; files of an earlier build that this
build does not produce are removed (except those a ``keep`` predicate protects: autosummary's pages of objects
that still exist). The folders are git-ignored (``docs/.gitignore``).
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

#: Characters with a meaning in reStructuredText inline markup or at the start of a line.
_RST_SPECIAL = re.compile(r"([\\`*_|\[\]<>:{}#=+\-.!~^\"'()])")


def rst_text(text) -> str:
    """Free text (a source, a note) as literal reStructuredText: every markup character escaped, one line."""
    return _RST_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def heading(text: str, char: str) -> str:
    return f"{text}\n{char * len(text)}\n"


class GeneratedFolder:
    """Collects the files of one generated folder; :meth:`finish` writes them and removes the rest."""

    def __init__(self, path: Path, keep=None):
        self.path = Path(path)
        self.files: dict[str, bytes] = {}
        #: ``keep(relative_path) -> bool``: files written by someone else (autosummary) that must stay
        self.keep = keep or (lambda relative: False)

    def add(self, name: str, content) -> None:
        self.files[name] = content.encode("utf-8") if isinstance(content, str) else bytes(content)

    def finish(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_file() and target.read_bytes() == data:
                continue
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        ours = {(self.path / n).resolve() for n in self.files}
        for old in sorted(self.path.rglob("*"), reverse=True):
            relative = old.relative_to(self.path).as_posix()
            if old.is_file() and old.resolve() not in ours and not old.name.startswith(".") \
                    and not self.keep(relative):
                old.unlink(missing_ok=True)
            elif old.is_dir() and not any(old.iterdir()):
                try:
                    old.rmdir()
                except OSError:  # filled meanwhile by a concurrent build
                    pass
