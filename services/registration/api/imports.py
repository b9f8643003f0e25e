"""Spreadsheet imports: a preview that writes nothing, and an all-or-nothing commit.

Both take the same multipart form: the file, and optionally the column mapping and the chosen rows as
JSON. The gateway keeps the uploaded bytes and sends them again with each call, so the service holds no
state between them.
"""

from __future__ import annotations

from flask import Blueprint, request
from flask_babel import gettext
from spectree import Response

from eventops import db
from eventops.problems import Problem
from services.registration import events, importing, participants, schemas
from services.registration.api import spec

bp = Blueprint("registration_imports", __name__, url_prefix="/api/v1")

#: what a multipart form may add around the file itself (boundaries, the mapping, the row lists)
FORM_OVERHEAD_BYTES = 256 * 1024


@bp.before_request
def refuse_large_uploads():
    """Before the form is parsed: a body far over the limit is answered without being read."""
    length = request.content_length
    if length is not None and length > importing.MAX_FILE_BYTES + FORM_OVERHEAD_BYTES:
        raise _too_large()


@bp.post("/events/<int:event_id>/imports/preview")
@spec.validate(
    form=schemas.ImportForm,
    resp=Response(HTTP_200=schemas.ImportPreview, HTTP_404=None, HTTP_413=None, HTTP_422=None),
)
def preview(event_id: int, form: schemas.ImportForm):
    session = db.session()
    events.get_event(session, event_id)
    filename, data = _upload(form)
    found = importing.preview(filename, data, participants.email_keys(session, event_id), form.mapping)
    return schemas.ImportPreview.of(filename, found, gettext)


@bp.post("/events/<int:event_id>/imports/commit")
@spec.validate(
    form=schemas.ImportForm,
    resp=Response(HTTP_200=schemas.ImportResult, HTTP_404=None, HTTP_409=None, HTTP_413=None, HTTP_422=None),
)
def commit(event_id: int, form: schemas.ImportForm):
    session = db.session()
    events.get_event(session, event_id)
    filename, data = _upload(form)
    report = importing.preview(
        filename, data, participants.email_keys(session, event_id), form.mapping
    ).report
    rows = report.rows_to_import(form.accepted_rows, form.rejected_rows or ())
    created = participants.add_imported(session, event_id, rows)
    return schemas.ImportResult.of(report.counts, created)


def _upload(form: schemas.ImportForm) -> tuple[str, bytes]:
    """The file's name and bytes, read no further than one byte past the limit."""
    upload = form.file
    data = upload.stream.read(importing.MAX_FILE_BYTES + 1)
    if len(data) > importing.MAX_FILE_BYTES:
        raise _too_large()
    return getattr(upload, "filename", None) or "upload", data


def _too_large() -> Problem:
    return Problem(
        413,
        detail=gettext(
            "The file is larger than %(limit)d MB. Split the list into several files.",
            limit=importing.MAX_FILE_BYTES // (1024 * 1024),
        ),
    )
