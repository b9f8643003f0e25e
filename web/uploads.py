"""Spreadsheets uploaded for an import, kept on disk between the preview and the import.

An upload is kept in var/imports/ under a random token bound to the staff member's session, the staff
member and the event, so that changing the column mapping re-runs the preview without uploading again.
It is deleted after the import, or an hour after the upload; nobody else can open it by guessing a token.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import g, session

from eventops.config import var_dir

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
UPLOAD_LIFETIME_S = 60 * 60
#: uploads remembered in one session (a person may have a few tabs open)
SESSION_UPLOADS = 5
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass
class Upload:
    token: str
    event_id: int
    filename: str
    path: Path

    def data(self) -> bytes:
        return self.path.read_bytes()


def _folder() -> Path:
    folder = var_dir() / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def keep(event_id: int, filename: str, data: bytes) -> Upload:
    """Stores the file for the logged-in staff member and remembers its token in their session."""
    sweep()
    token = secrets.token_urlsafe(24)
    folder = _folder()
    # Only the last part of a name a browser sends (some send a whole Windows path), and not too long.
    filename = Path(filename.replace("\\", "/")).name[:200] or "upload"
    (folder / f"{token}.upload").write_bytes(data)
    meta = {"staff_id": g.staff.id, "event_id": event_id, "filename": filename, "created": time.time()}
    (folder / f"{token}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    session["imports"] = [*session.get("imports", [])[-(SESSION_UPLOADS - 1) :], token]
    return Upload(token, event_id, filename, folder / f"{token}.upload")


def load(event_id: int, token: str) -> Upload | None:
    """The upload if it belongs to this session, staff member and event and has not expired."""
    if not _TOKEN.match(token) or token not in session.get("imports", []):
        return None
    folder = _folder()
    try:
        meta = json.loads((folder / f"{token}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if time.time() - meta.get("created", 0) > UPLOAD_LIFETIME_S:
        discard(token)
        return None
    if meta.get("staff_id") != g.staff.id or meta.get("event_id") != event_id:
        return None
    return Upload(token, event_id, meta.get("filename") or "upload", folder / f"{token}.upload")


def discard(token: str) -> None:
    for suffix in (".upload", ".json"):
        (_folder() / f"{token}{suffix}").unlink(missing_ok=True)
    if token in session.get("imports", []):
        session["imports"] = [kept for kept in session["imports"] if kept != token]


def sweep() -> None:
    """Deletes uploads older than an hour, whoever left them."""
    limit = time.time() - UPLOAD_LIFETIME_S
    for path in _folder().iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except OSError:
            continue
