"""Writing carved files under --extract-dir, named by their sha256 (never by a name from the traffic).

Layout as Suricata's file-store v2: `DIR/ab/abcdef...` (first two hex digits as a subdirectory), written to
a temporary name and renamed, so a reader never sees half a file and the same content is stored once.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from minerwatch.errors import OutputError


class FileStore:
    """Created before any input is read, so that an unusable directory stops the analysis before it
    starts; a write that fails later is an OutputError (never blamed on the capture being read)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.stored = 0
        self.duplicates = 0
        if directory.exists() and not directory.is_dir():
            raise OutputError(f"cannot store carved files in {directory}: not a directory")
        try:
            directory.mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=directory).close()
        except OSError as exc:
            raise self._failed(exc) from None

    def _failed(self, exc: OSError) -> OutputError:
        return OutputError(f"cannot store carved files in {self.directory}: {exc.strerror or exc}")

    def store(self, sha256: str, data: bytes) -> str:
        """Write `data` (whose sha256 is `sha256`) unless already there; returns its path."""
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        folder = self.directory / sha256[:2]
        path = folder / sha256
        if path.exists():
            self.duplicates += 1
            return str(path)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=folder, prefix=".partial-")
        except OSError as exc:
            raise self._failed(exc) from None
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException as exc:
            Path(temporary).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise self._failed(exc) from None
            raise
        self.stored += 1
        return str(path)
