"""Where certificate PDFs are kept: files under the storage folder, written atomically.

Everything goes through these three functions so that an object store can replace the folder later without
touching the callers. Paths are relative to the storage folder and may not climb out of it.
"""

from __future__ import annotations

import builtins
import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO


def certificate_path(event_id: int, certificate_id: int) -> str:
    """The one place a certificate's PDF lives: certificates/<event_id>/<certificate_id>.pdf."""
    return f"certificates/{int(event_id)}/{int(certificate_id)}.pdf"


def _resolve(storage_dir: Path | str, relative_path: str) -> Path:
    relative = PurePosixPath(relative_path)
    # A path taken from a database row must never reach outside the folder (no "..", no absolute path).
    if relative.is_absolute() or not relative.parts or ".." in relative.parts:
        raise ValueError(f"not a storage path: {relative_path!r}")
    return Path(storage_dir).joinpath(*relative.parts)


def write(storage_dir: Path | str, relative_path: str, data: bytes) -> None:
    """Store data so that a reader sees either the old file or the whole new one, never half of it.

    The bytes go to a temporary file in the same folder, reach the disk (fsync), and only then take the
    final name (rename is atomic within one file system). A crash leaves at most a stray temporary file.
    """
    path = _resolve(storage_dir, relative_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, 0o600)  # personal data: for the service alone
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def open(storage_dir: Path | str, relative_path: str) -> BinaryIO:
    """The stored file for reading (binary); FileNotFoundError when it is not there."""
    return builtins.open(_resolve(storage_dir, relative_path), "rb")


def exists(storage_dir: Path | str, relative_path: str) -> bool:
    return _resolve(storage_dir, relative_path).is_file()
