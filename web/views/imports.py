"""Organisers import participants from a spreadsheet: upload, preview and map the columns, import.

The uploaded file is kept in var/imports/ under a random token bound to the staff member's session,
so that changing the column mapping re-runs the preview without uploading again. It is deleted after
the import, or an hour after the upload.
"""
from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import (Blueprint, current_app, flash, g, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2_fragments.flask import render_block
from werkzeug.routing import BuildError

from eventops.config import var_dir
from web.auth import organisers
from web.clients import ServiceError, client

bp = Blueprint("imports", __name__)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: what a multipart form adds around the file (boundaries, the CSRF token)
FORM_OVERHEAD_BYTES = 64 * 1024
UPLOAD_LIFETIME_S = 60 * 60
#: uploads remembered in one session (a person may have a few tabs open)
SESSION_UPLOADS = 5
#: report rows shown on the page; the rest are counted (and imported by default if they have no errors)
SHOWN_PROBLEM_ROWS = 500
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")

FIELD_LABELS = {
    "surname": _l("Surname"), "first_name": _l("First name"), "patronymic": _l("Patronymic"),
    "full_name": _l("Full name (surname, first name, patronymic)"), "email": _l("E-mail"),
    "phone": _l("Phone"), "region": _l("Region"), "organisation": _l("Organisation"),
    "position": _l("Position"), "birth_date": _l("Birth date"), "gender": _l("Gender"), "snils": _l("SNILS"),
    "citizenship": _l("Citizenship"), "education_level": _l("Education level"),
    "diploma_surname": _l("Surname in the diploma"), "diploma_series": _l("Diploma series"),
    "diploma_number": _l("Diploma number"),
}
STATUS_LABELS = {"ok": _l("no remarks"), "warning": _l("will be corrected"), "error": _l("error"),
                 "duplicate": _l("skipped")}


@bp.record_once
def _exempt_upload_from_automatic_csrf(state) -> None:
    # The upload checks its size before the body is read, then checks CSRF itself (see upload()).
    state.app.extensions["csrf"].exempt(f"{__name__}.upload")


# --- the kept upload -------------------------------------------------------------------------------

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


def _keep(event_id: int, filename: str, data: bytes) -> Upload:
    _sweep()
    token = secrets.token_urlsafe(24)
    folder = _folder()
    (folder / f"{token}.upload").write_bytes(data)
    meta = {"staff_id": g.staff.id, "event_id": event_id, "filename": filename, "created": time.time()}
    (folder / f"{token}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    session["imports"] = [*session.get("imports", [])[-(SESSION_UPLOADS - 1):], token]
    return Upload(token, event_id, filename, folder / f"{token}.upload")


def _load(event_id: int, token: str) -> Upload | None:
    """The upload if it belongs to this session, staff member and event and has not expired."""
    if not _TOKEN.match(token) or token not in session.get("imports", []):
        return None
    folder = _folder()
    try:
        meta = json.loads((folder / f"{token}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if time.time() - meta.get("created", 0) > UPLOAD_LIFETIME_S:
        _discard(token)
        return None
    if meta.get("staff_id") != g.staff.id or meta.get("event_id") != event_id:
        return None
    return Upload(token, event_id, meta.get("filename") or "upload", folder / f"{token}.upload")


def _discard(token: str) -> None:
    for suffix in (".upload", ".json"):
        (_folder() / f"{token}{suffix}").unlink(missing_ok=True)
    if token in session.get("imports", []):
        session["imports"] = [kept for kept in session["imports"] if kept != token]


def _sweep() -> None:
    """Delete uploads older than an hour, whoever left them."""
    limit = time.time() - UPLOAD_LIFETIME_S
    for path in _folder().iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except OSError:
            continue


# --- calls to the registration service ---------------------------------------------------------------

def _call(kind: str, upload: Upload, mapping: dict[int, str] | None = None, **lists) -> dict:
    data = {"mapping": json.dumps(mapping)} if mapping is not None else {}
    data.update({name: json.dumps(rows) for name, rows in lists.items() if rows is not None})
    response = client("registration").request(
        "POST", f"/api/v1/events/{upload.event_id}/imports/{kind}", data=data,
        files={"file": (upload.filename, upload.data(), "application/octet-stream")})
    return response.json()


def _mapping_from_form() -> dict[int, str] | None:
    """The mapping chosen on the page (column → field, unmapped columns left out), or None: guess it."""
    chosen = {int(key[4:]): value for key, value in request.form.items() if re.fullmatch(r"map-\d{1,4}", key)}
    if not chosen:
        return None
    return {column: field for column, field in chosen.items() if field in FIELD_LABELS}


def _event(event_id: int) -> dict:
    return client("registration").get(f"/api/v1/events/{event_id}")


# --- pages -------------------------------------------------------------------------------------------

@bp.get("/events/<int:event_id>/import")
@organisers
def upload_form(event_id: int):
    return render_template("imports/upload.html", event=_event(event_id))


@bp.post("/events/<int:event_id>/import")
@organisers
def upload(event_id: int):
    length = request.content_length
    if length is not None and length > MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES:
        return _too_large()  # answered before the body is read
    current_app.extensions["csrf"].protect()
    event = _event(event_id)
    file = request.files.get("file")
    if file is None or not file.filename:
        return render_template("imports/upload.html", event=event,
                               error=_("Choose a file to upload.")), 400
    data = file.stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return _too_large()
    kept = _keep(event_id, Path(file.filename.replace("\\", "/")).name[:200], data)
    return redirect(url_for("imports.preview", event_id=event_id, token=kept.token), 303)


def _too_large():
    return render_template("error.html", status=413, message=_(
        "The file is larger than %(limit)d MB. Split the list into several files, or delete other sheets "
        "and unneeded columns, and upload again.", limit=MAX_UPLOAD_BYTES // (1024 * 1024))), 413


@bp.get("/events/<int:event_id>/import/<token>")
@organisers
def preview(event_id: int, token: str):
    return _preview(event_id, token, mapping=None)


@bp.post("/events/<int:event_id>/import/<token>/preview")
@organisers
def remap(event_id: int, token: str):
    return _preview(event_id, token, mapping=_mapping_from_form())


def _preview(event_id: int, token: str, mapping: dict[int, str] | None):
    upload = _load(event_id, token)
    if upload is None:
        return _expired(event_id)
    event = _event(event_id)
    try:
        result = _call("preview", upload, mapping)
    except ServiceError as exc:
        if exc.status not in (413, 422):
            raise
        _discard(token)  # not a usable spreadsheet: nothing to come back to
        return render_template("imports/upload.html", event=event,
                               error=exc.problem.get("detail") or _("The file cannot be imported.")), exc.status
    context = _preview_context(event, upload, result)
    if request.htmx:
        return render_block("imports/preview.html", "preview_form", **context)
    return render_template("imports/preview.html", **context)


def _preview_context(event: dict, upload: Upload, result: dict) -> dict:
    report = result["report"]
    mapping = {int(column): field for column, field in result["mapping"].items()}
    columns = [{"index": index, "header": header, "field": mapping.get(index, ""),
                "examples": [row["cells"][index] for row in result["sample"]
                             if index < len(row["cells"]) and row["cells"][index]][:3]}
               for index, header in enumerate(result["headers"])]
    return {"event": event, "upload": upload, "result": result, "report": report, "columns": columns,
            "problem_rows": report["rows"][:SHOWN_PROBLEM_ROWS],
            "hidden_problem_rows": max(0, len(report["rows"]) - SHOWN_PROBLEM_ROWS),
            "importable": report["counts"]["ok"] + report["counts"]["warning"],
            "field_labels": FIELD_LABELS, "status_labels": STATUS_LABELS}


def _expired(event_id: int):
    flash(_("The uploaded file is no longer kept (an hour has passed, or you logged out). Upload it again."))
    return redirect(url_for("imports.upload_form", event_id=event_id), 303)


@bp.post("/events/<int:event_id>/import/<token>/commit")
@organisers
def commit(event_id: int, token: str):
    upload = _load(event_id, token)
    if upload is None:
        return _expired(event_id)
    # Rows with warnings are offered with a tick; the ones the organiser unticked stay out.
    offered = {int(row) for row in request.form.getlist("offered") if row.isdigit()}
    accepted = {int(row) for row in request.form.getlist("accept") if row.isdigit()}
    try:
        result = _call("commit", upload, _mapping_from_form(), rejected_rows=sorted(offered - accepted))
    except ServiceError as exc:
        if exc.status not in (409, 413, 422):
            raise
        flash(exc.problem.get("detail") or _("The file cannot be imported."))
        return redirect(url_for("imports.preview", event_id=event_id, token=token), 303)
    _discard(token)
    session["import_result"] = {"event_id": event_id, "filename": upload.filename, **result}
    return redirect(url_for("imports.done", event_id=event_id), 303)


@bp.get("/events/<int:event_id>/import/done")
@organisers
def done(event_id: int):
    result = session.pop("import_result", None)
    if not result or result.get("event_id") != event_id:
        return redirect(url_for("home.event", event_id=event_id), 303)
    try:
        participants_url = url_for("registration.participants", event_id=event_id)
    except BuildError:
        participants_url = None
    return render_template("imports/done.html", event=_event(event_id), result=result,
                           participants_url=participants_url)


@bp.errorhandler(413)
def _body_over_limit(_exc):
    # Werkzeug's own limit (MAX_CONTENT_LENGTH) hit while reading a body that did not announce its size.
    return _too_large()
