"""Registration's API for spreadsheet imports: a preview that writes nothing, and an all-or-nothing commit.

Both take the same multipart form: the file, and optionally the column mapping as JSON. The gateway
keeps the uploaded bytes and sends them again with each call, so the service holds no state between them.
"""

from __future__ import annotations

import json
from typing import Literal

from flask import Blueprint, request
from flask_babel import gettext
from pydantic import BaseModel, Field, ValidationError
from spectree import Response
from spectree.model_adapter.pydantic_adapter import BaseFile
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from eventops import db
from eventops.problems import Problem
from services.registration import importing, schemas
from services.registration.api import get_event, spec
from services.registration.models import Participant, new_participant_code
from services.registration.participants import apply_participant_fields

imports = Blueprint("registration_imports", __name__, url_prefix="/api/v1")

#: rows of the file shown as they are in the preview
SAMPLE_ROWS = 20
#: what a multipart form may add around the file itself (boundaries, the mapping, the row lists)
FORM_OVERHEAD_BYTES = 256 * 1024


class ImportForm(BaseModel):
    file: BaseFile
    #: JSON object: column index (from 0) → field, or null to ignore the column; default: guessed
    mapping: str | None = None
    #: JSON list of row numbers (as in the spreadsheet) to import; default: every row without errors
    accepted_rows: str | None = None
    #: JSON list of row numbers to leave out of the default
    rejected_rows: str | None = None


class SampleRow(BaseModel):
    row: int
    cells: list[str]


class RowProblemOut(BaseModel):
    severity: Literal["error", "warning", "duplicate"]
    code: str
    field: str | None
    column: str | None
    value: str
    suggestion: str | None
    message: str


class RowReport(BaseModel):
    row: int
    status: Literal["ok", "warning", "error", "duplicate"]
    problems: list[RowProblemOut]


class ReportCounts(BaseModel):
    total: int
    ok: int
    warning: int
    error: int
    duplicate: int


class ReportOut(BaseModel):
    counts: ReportCounts
    #: what is wrong with the mapping itself; while there is anything here, nothing can be imported
    mapping_problems: list[str]
    #: rows with problems only
    rows: list[RowReport]


class ImportPreview(BaseModel):
    filename: str
    headers: list[str]
    header_row: int
    #: column index → field; JSON object keys are strings
    mapping: dict[int, str]
    #: the guess from the headers, for a "reset" button
    guessed_mapping: dict[int, str]
    fields: list[str] = Field(default_factory=lambda: list(importing.FIELDS))
    sample: list[SampleRow]
    report: ReportOut


class ImportResult(BaseModel):
    #: participants added
    created: int
    #: rows skipped because the person is already registered (or repeated in the file)
    skipped: int
    #: rows without errors that the organiser left out
    left_out: int
    #: rows with errors, not imported
    errors: int
    total: int


def refuse_large_uploads():
    """Before the form is parsed: a body far over the limit is answered without being read."""
    length = request.content_length
    if length is not None and length > importing.MAX_FILE_BYTES + FORM_OVERHEAD_BYTES:
        raise _too_large()
    return None


imports.before_request(refuse_large_uploads)


def _too_large() -> Problem:
    return Problem(
        413,
        "Content Too Large",
        gettext(
            "The file is larger than %(limit)d MB. Split the list into several files.",
            limit=importing.MAX_FILE_BYTES // (1024 * 1024),
        ),
    )


@imports.post("/events/<int:event_id>/imports/preview")
@spec.validate(
    form=ImportForm, resp=Response(HTTP_200=ImportPreview, HTTP_404=None, HTTP_413=None, HTTP_422=None)
)
def preview(event_id: int, form: ImportForm):
    get_event(event_id)
    filename, table, guessed, mapping = _read(form)
    report = importing.validate(table, mapping, _existing_email_keys(event_id))
    return ImportPreview(
        filename=filename,
        headers=table.headers,
        header_row=table.header_row,
        mapping=mapping,
        guessed_mapping=guessed,
        sample=[SampleRow(row=number, cells=cells) for number, cells in table.rows[:SAMPLE_ROWS]],
        report=ReportOut.model_validate(report.to_dict(gettext)),
    )


@imports.post("/events/<int:event_id>/imports/commit")
@spec.validate(
    form=ImportForm,
    resp=Response(HTTP_200=ImportResult, HTTP_404=None, HTTP_409=None, HTTP_413=None, HTTP_422=None),
)
def commit(event_id: int, form: ImportForm):
    get_event(event_id)
    accepted = _row_list(form.accepted_rows, "accepted_rows")
    rejected = set(_row_list(form.rejected_rows, "rejected_rows") or ())
    _, table, _, mapping = _read(form)

    report = importing.validate(table, mapping, _existing_email_keys(event_id))
    if report.mapping_problems:
        raise Problem(
            422,
            "Unprocessable Content",
            gettext("The column mapping is incomplete."),
            errors=[
                {"field": "mapping", "code": problem.code, "message": problem.message(gettext)}
                for problem in report.mapping_problems
            ],
        )
    rows = report.by_row()
    chosen = set(report.importable() if accepted is None else accepted) - rejected
    _refuse_unusable(chosen, rows)
    to_create = [rows[number] for number in sorted(chosen) if rows[number].status in ("ok", "warning")]
    participants = _participants(event_id, to_create)

    session = db.session()
    session.add_all(participants)
    try:
        session.commit()
    except IntegrityError:
        # Someone registered one of these e-mails a moment ago: nothing of this import is kept.
        session.rollback()
        raise Problem(
            409,
            "Conflict",
            gettext(
                "Some of these participants were registered by someone else while the file was being imported. "
                "Nothing was imported; run the import again to skip them."
            ),
        )
    counts = report.counts
    return ImportResult(
        created=len(participants),
        skipped=counts["duplicate"],
        left_out=counts["ok"] + counts["warning"] - len(participants),
        errors=counts["error"],
        total=counts["total"],
    )


# --- helpers -------------------------------------------------------------------------------------


def _read(form: ImportForm) -> tuple[str, importing.Table, dict[int, str], dict[int, str]]:
    upload = form.file
    filename = getattr(upload, "filename", None) or "upload"
    data = upload.stream.read(importing.MAX_FILE_BYTES + 1)
    if len(data) > importing.MAX_FILE_BYTES:
        raise _too_large()
    try:
        table = importing.split_header(importing.read_table(filename, data))
    except importing.ImportProblem as problem:
        raise Problem(
            422,
            "Unprocessable Content",
            problem.message(gettext),
            errors=[{"field": "file", "code": problem.code, "message": problem.message(gettext)}],
        )
    guessed = importing.guess_mapping(table.headers)
    mapping = guessed if form.mapping is None else _mapping(form.mapping, len(table.headers))
    return filename, table, guessed, mapping


def _mapping(text: str, width: int) -> dict[int, str]:
    try:
        raw = json.loads(text)
    except ValueError:
        raw = None
    if not isinstance(raw, dict):
        raise _bad_field(
            "mapping", "invalid_json", gettext("The mapping must be a JSON object: column number → field.")
        )
    mapping = {}
    for key, name in raw.items():
        if name in (None, ""):
            continue
        if not (str(key).isdigit() and int(key) < width) or name not in importing.FIELDS:
            raise _bad_field(
                "mapping",
                "unknown_column_or_field",
                gettext(
                    "The mapping names a column or a field that does not exist: %(key)s → %(name)s.",
                    key=str(key),
                    name=str(name),
                ),
            )
        mapping[int(key)] = name
    return mapping


def _row_list(text: str | None, field: str) -> list[int] | None:
    if text is None or text == "":
        return None
    try:
        rows = json.loads(text)
    except ValueError:
        rows = None
    if not isinstance(rows, list) or not all(
        isinstance(row, int) and not isinstance(row, bool) for row in rows
    ):
        raise _bad_field(field, "invalid_json", gettext("A JSON list of row numbers is expected."))
    return rows


def _bad_field(field: str, code: str, message: str) -> Problem:
    return Problem(
        422, "Unprocessable Content", message, errors=[{"field": field, "code": code, "message": message}]
    )


def _refuse_unusable(chosen: set[int], rows: dict[int, importing.RowResult]) -> None:
    """All or nothing: an accepted row that is missing or has errors stops the whole import."""
    unknown = sorted(number for number in chosen if number not in rows)
    if unknown:
        raise _bad_field(
            "accepted_rows",
            "unknown_row",
            gettext("Rows %(rows)s hold no participant in this file.", rows=_list(unknown)),
        )
    broken = sorted(number for number in chosen if rows[number].status == "error")
    if broken:
        errors = [
            {
                "field": f"rows.{number}.{problem.field or ''}".rstrip("."),
                "code": problem.code,
                "message": problem.message(gettext),
                "row": number,
                "column": problem.column,
            }
            for number in broken
            for problem in rows[number].problems
            if problem.severity == "error"
        ]
        raise Problem(
            422,
            "Unprocessable Content",
            gettext(
                "Rows %(rows)s have errors. Correct them in the file or leave them out; nothing was imported.",
                rows=_list(broken),
            ),
            errors=errors,
        )


def _list(numbers: list[int], limit: int = 20) -> str:
    shown = ", ".join(str(number) for number in numbers[:limit])
    return shown + (" …" if len(numbers) > limit else "")


def _existing_email_keys(event_id: int) -> set[str]:
    return set(db.session().scalars(select(Participant.email_key).where(Participant.event_id == event_id)))


def _participants(event_id: int, rows: list[importing.RowResult]) -> list[Participant]:
    """New participants for the checked rows, each with a code unused in the event."""
    codes = set(db.session().scalars(select(Participant.code).where(Participant.event_id == event_id)))
    participants = []
    for row in rows:
        try:
            data = schemas.ParticipantIn.model_validate(row.values)
        except ValidationError as exc:  # the import's checks and the API's should agree; if not, say so
            raise _bad_field(
                f"rows.{row.row}",
                "invalid",
                gettext(
                    "Row %(row)d cannot be imported: %(reason)s",
                    row=row.row,
                    reason="; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()),
                ),
            ) from exc
        code = new_participant_code()
        while code in codes:
            code = new_participant_code()
        codes.add(code)
        participant = Participant(event_id=event_id, code=code)
        apply_participant_fields(participant, data)
        participants.append(participant)
    return participants
