"""Local files that hold personal data or secrets (var/: databases, uploads, PDFs, the shared secrets) are for
the owner of the processes only: folders 0700, files 0600.

Two layers: every launcher (`make run`, gunicorn, the worker's command in deploy/) runs its processes with
umask 077, so whatever a service creates is private without asking; and eventops creates its own files and
folders private explicitly (and closes ones an older version left open), whatever the umask.
"""

from __future__ import annotations

import os
from pathlib import Path

#: the umask of every EventOps process: nothing it creates is readable by the group or others
PRIVATE_UMASK = 0o077


def restrict_umask() -> int:
    """Sets the process's umask to PRIVATE_UMASK (its children inherit it); returns the previous one."""
    return os.umask(PRIVATE_UMASK)


def private_directory(path: Path) -> Path:
    """The folder, created 0700 if missing (with its parents), closed to others if it was open."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _close(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """The file, created empty and 0600 if missing, closed to others if it was open."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    _close(path, 0o600)
    return path


def _close(path: Path, mode: int) -> None:
    status = path.stat()
    # Only what this user owns can be changed; someone else's folder (a shared mount) is left as it is.
    if status.st_mode & 0o077 and status.st_uid == os.geteuid():
        path.chmod(mode)
