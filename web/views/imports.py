"""Organisers import participants from a spreadsheet: upload, preview and map the columns, import.

Registration reads and checks the file at every step; the gateway keeps the uploaded bytes in between
(web.uploads), so that changing the column mapping re-runs the preview without uploading again.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2_fragments.flask import render_block

from web import uploads
from web.auth import organisers
from web.clients import ServiceError, registration

bp = Blueprint("imports", __name__)

#: what a multipart form adds around the file (boundaries, the CSRF token)
FORM_OVERHEAD_BYTES = 64 * 1024
#: report rows shown on the page; the rest are counted (and imported by default if they have no errors)
SHOWN_PROBLEM_ROWS = 500

#: the value of «do not import» in a column's select
DO_NOT_IMPORT = "-"
#: what each field registration offers for a column is called on the page
FIELD_LABELS = {
    "surname": _l("Surname"),
    "first_name": _l("First name"),
    "patronymic": _l("Patronymic"),
    "full_name": _l("Full name (surname, first name, patronymic)"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "region": _l("Region"),
    "organisation": _l("Organisation"),
    "position": _l("Position"),
    "birth_date": _l("Birth date"),
    "gender": _l("Gender"),
    "snils": _l("SNILS"),
    "citizenship": _l("Citizenship"),
    "education_level": _l("Education level"),
    "diploma_surname": _l("Surname in the diploma"),
    "diploma_series": _l("Diploma series"),
    "diploma_number": _l("Diploma number"),
}
STATUS_LABELS = {
    "ok": _l("no remarks"),
    "warning": _l("will be corrected"),
    "error": _l("error"),
    "duplicate": _l("skipped"),
}


@bp.record_once
def _exempt_upload_from_automatic_csrf(state) -> None:
    # The upload checks its size before the body is read, then checks CSRF itself (see upload()).
    state.app.extensions["csrf"].exempt(f"{__name__}.upload")


def _mapping_from_form() -> dict[int, str] | None:
    """The mapping chosen on the page (column → field, «do not import» columns left out), or None: guess it.
    Which fields exist is registration's to say (it offers them, and refuses any other)."""
    chosen = {int(key[4:]): value for key, value in request.form.items() if re.fullmatch(r"map-\d{1,4}", key)}
    if not chosen:
        return None
    return {column: field for column, field in chosen.items() if field and field != DO_NOT_IMPORT}


# --- pages -------------------------------------------------------------------------------------------


@bp.get("/events/<int:event_id>/import")
@organisers
def upload_form(event_id: int):
    return render_template("imports/upload.html", event=registration.event(event_id))


@bp.post("/events/<int:event_id>/import")
@organisers
def upload(event_id: int):
    length = request.content_length
    if length is not None and length > uploads.MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES:
        return _too_large()  # answered before the body is read
    current_app.extensions["csrf"].protect()
    event = registration.event(event_id)
    file = request.files.get("file")
    if file is None or not file.filename:
        return render_template("imports/upload.html", event=event, error=_("Choose a file to upload.")), 400
    data = file.stream.read(uploads.MAX_UPLOAD_BYTES + 1)
    if len(data) > uploads.MAX_UPLOAD_BYTES:
        return _too_large()
    kept = uploads.keep(event_id, file.filename, data)
    return redirect(url_for("imports.preview", event_id=event_id, token=kept.token), 303)


def _too_large():
    return render_template(
        "error.html",
        status=413,
        message=_(
            "The file is larger than %(limit)d MB. Split the list into several files, or delete other sheets "
            "and unneeded columns, and upload again.",
            limit=uploads.MAX_UPLOAD_BYTES // (1024 * 1024),
        ),
    ), 413


@bp.get("/events/<int:event_id>/import/<token>")
@organisers
def preview(event_id: int, token: str):
    return _preview(event_id, token, mapping=None)


@bp.post("/events/<int:event_id>/import/<token>/preview")
@organisers
def remap(event_id: int, token: str):
    return _preview(event_id, token, mapping=_mapping_from_form())


def _preview(event_id: int, token: str, mapping: dict[int, str] | None):
    upload = uploads.load(event_id, token)
    if upload is None:
        return _expired(event_id)
    event = registration.event(event_id)
    try:
        result = registration.preview_import(event_id, upload.filename, upload.data(), mapping)
    except ServiceError as exc:
        if exc.status not in (413, 422):
            raise
        uploads.discard(token)  # not a usable spreadsheet: nothing to come back to
        return render_template(
            "imports/upload.html",
            event=event,
            error=exc.problem.get("detail") or _("The file cannot be imported."),
        ), exc.status
    context = _preview_context(event, upload, result)
    if request.htmx:
        return render_block("imports/preview.html", "preview_form", **context)
    return render_template("imports/preview.html", **context)


def _preview_context(event: dict, upload: uploads.Upload, result: dict) -> dict:
    report = result["report"]
    mapping = {int(column): field for column, field in result["mapping"].items()}
    columns = [
        {
            "index": index,
            "header": header,
            "field": mapping.get(index, ""),
            "examples": [
                row["cells"][index]
                for row in result["sample"]
                if index < len(row["cells"]) and row["cells"][index]
            ][:3],
        }
        for index, header in enumerate(result["headers"])
    ]
    return {
        "event": event,
        "upload": upload,
        "result": result,
        "report": report,
        "columns": columns,
        "problem_rows": report["rows"][:SHOWN_PROBLEM_ROWS],
        "hidden_problem_rows": max(0, len(report["rows"]) - SHOWN_PROBLEM_ROWS),
        "importable": report["counts"]["ok"] + report["counts"]["warning"],
        "field_labels": FIELD_LABELS,
        "status_labels": STATUS_LABELS,
    }


def _expired(event_id: int):
    flash(_("The uploaded file is no longer kept (an hour has passed, or you logged out). Upload it again."))
    return redirect(url_for("imports.upload_form", event_id=event_id), 303)


@bp.post("/events/<int:event_id>/import/<token>/commit")
@organisers
def commit(event_id: int, token: str):
    upload = uploads.load(event_id, token)
    if upload is None:
        return _expired(event_id)
    # Rows with warnings are offered with a tick; the ones the organiser unticked stay out.
    offered = {int(row) for row in request.form.getlist("offered") if row.isdigit()}
    accepted = {int(row) for row in request.form.getlist("accept") if row.isdigit()}
    try:
        result = registration.commit_import(
            event_id, upload.filename, upload.data(), _mapping_from_form(), sorted(offered - accepted)
        )
    except ServiceError as exc:
        if exc.status not in (409, 413, 422):
            raise
        flash(exc.problem.get("detail") or _("The file cannot be imported."))
        return redirect(url_for("imports.preview", event_id=event_id, token=token), 303)
    uploads.discard(token)
    session["import_result"] = {"event_id": event_id, "filename": upload.filename, **result}
    return redirect(url_for("imports.done", event_id=event_id), 303)


@bp.get("/events/<int:event_id>/import/done")
@organisers
def done(event_id: int):
    result = session.pop("import_result", None)
    if not result or result.get("event_id") != event_id:
        return redirect(url_for("events.show", event_id=event_id), 303)
    return render_template("imports/done.html", event=registration.event(event_id), result=result)


@bp.errorhandler(413)
def _body_over_limit(_exc):
    # Werkzeug's own limit (MAX_CONTENT_LENGTH) hit while reading a body that did not announce its size.
    return _too_large()
