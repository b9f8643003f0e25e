"""Spreadsheet imports: a preview that writes nothing, and an all-or-nothing commit.

Both take the same multipart form: the file, and optionally the column mapping and the chosen rows as
JSON. The gateway keeps the uploaded bytes and sends them again with each call, so the service holds no
state between them.
"""

from __future__ import annotations

from flask import Blueprint, request
from flask_babel import gettext
from pydantic import ValidationError
from spectree import Response
from werkzeug.exceptions import UnsupportedMediaType

from eventops import db
from eventops.problems import Problem, invalid, pydantic_error
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
    filename, checked = _checked(event_id, form)
    return schemas.ImportPreview.of(filename, checked, gettext)


@bp.post("/events/<int:event_id>/imports/commit")
@spec.validate(
    form=schemas.ImportForm,
    resp=Response(HTTP_200=schemas.ImportResult, HTTP_404=None, HTTP_409=None, HTTP_413=None, HTTP_422=None),
)
def commit(event_id: int, form: schemas.ImportForm):
    _, checked = _checked(event_id, form)
    report = checked.report
    people = _as_participants(report.rows_to_import(form.accepted_rows, form.rejected_rows or ()))
    created = participants.add_imported(db.session(), event_id, people)
    return schemas.ImportResult.of(report.counts, created)


def _checked(event_id: int, form: schemas.ImportForm | None) -> tuple[str, importing.Preview]:
    """The uploaded file read, mapped and checked against the event's participants."""
    if form is None:  # spectree passes no form when the body is not one (JSON, say)
        raise UnsupportedMediaType()
    session = db.session()
    events.get_event(session, event_id)
    upload = form.file
    filename = getattr(upload, "filename", None) or "upload"
    data = upload.stream.read(importing.MAX_FILE_BYTES + 1)  # no further than one byte past the limit
    if len(data) > importing.MAX_FILE_BYTES:
        raise _too_large()
    return filename, importing.preview(
        filename, data, participants.email_keys(session, event_id), form.mapping
    )


def _as_participants(rows: list[importing.RowResult]) -> list[schemas.ParticipantIn]:
    """The checked rows under the API's own rules, which hold for imported people too."""
    people = []
    for row in rows:
        try:
            people.append(schemas.ParticipantIn.model_validate(row.values))
        except ValidationError as exc:  # the import's checks and the API's should agree; if not, say so
            errors = [pydantic_error(error) for error in exc.errors()]
            reason = "; ".join(f"{error['field']}: {error['message']}" for error in errors)
            message = gettext("Row %(row)d cannot be imported: %(reason)s", row=row.row, reason=reason)
            raise invalid(f"rows.{row.row}", "invalid", message, detail=message) from exc
    return people


def _too_large() -> Problem:
    return Problem(
        413,
        detail=gettext(
            "The file is larger than %(limit)d MB. Split the list into several files.",
            limit=importing.MAX_FILE_BYTES // (1024 * 1024),
        ),
    )
