"""Responses and the results summary as spreadsheets (XLSX and CSV) for organisers.

Every cell is written through eventops.spreadsheets, so an answer typed as "=HYPERLINK(...)" stays
text. An anonymous survey's export has no column that could point at a person (no participant,
region, organisation or date), its rows come in no particular order (response ids are random), and it
is refused while the survey has fewer responses than its threshold. The summary is built from the
results, so it withholds exactly what the results withhold.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eventops.i18n import TIMEZONE
from eventops.problems import Problem
from eventops.spreadsheets import csv_text, xlsx_cell
from services.feedback import schemas
from services.feedback.building import ordered
from services.feedback.models import OTHER, Answer, Question, QuestionKind, Survey
from services.feedback.models import SurveyResponse as Response

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv; charset=utf-8"
LOCAL = ZoneInfo(TIMEZONE)

Table = tuple[list[str], list[list]]


def _answer_text(question: Question, rows: list[Answer]) -> object:
    first = rows[0]
    if first.score is not None:
        return first.score
    if question.kind not in (QuestionKind.single, QuestionKind.multiple):
        return first.text
    labels = question.option_labels()
    parts = []
    for row in rows:
        if row.choice == OTHER:
            parts.append(_("Other: %(text)s", text=row.text or ""))
        else:
            parts.append(labels.get(row.choice, _("(removed option)")))
    return "; ".join(parts)


def responses_table(session: Session, survey: Survey) -> Table:
    submitted = (Response.survey_id == survey.id) & Response.submitted_at.is_not(None)
    if survey.anonymous:
        count = session.scalar(select(func.count()).where(submitted))
        if count < survey.min_group_size:
            raise Problem(
                409,
                detail=_(
                    "This anonymous survey has fewer responses than its threshold (%(n)d): its responses "
                    "cannot be exported yet without risking that someone is recognised.",
                    n=survey.min_group_size,
                ),
            )
    questions = [q for q in ordered(survey.questions) if q.kind is not QuestionKind.section]
    by_id = {q.id: q for q in questions}
    order = (Response.id,) if survey.anonymous else (Response.submitted_at, Response.id)
    responses = session.execute(
        select(
            Response.id,
            Response.participant_id,
            Response.region_code,
            Response.organisation,
            Response.submitted_at,
        )
        .where(submitted)
        .order_by(*order)
    ).all()
    answers: dict[int, dict[int, list[Answer]]] = {}
    for answer in session.scalars(
        select(Answer)
        .join(Response, Response.id == Answer.response_id)
        .where(submitted)
        .order_by(Answer.response_id, Answer.question_id, Answer.ordinal)
    ):
        answers.setdefault(answer.response_id, {}).setdefault(answer.question_id, []).append(answer)

    identity = [] if survey.anonymous else [_("Participant"), _("Region"), _("Organisation"), _("Submitted")]
    headers = ["№", *identity, *(q.text for q in questions)]
    rows = []
    for number, (response_id, participant_id, region, organisation, submitted_at) in enumerate(responses, 1):
        row: list = [number]
        if not survey.anonymous:
            row += [participant_id, region, organisation, _local(submitted_at)]
        given = answers.get(response_id, {})
        row += [_answer_text(by_id[q.id], given[q.id]) if q.id in given else None for q in questions]
        rows.append(row)
    return headers, rows


def summary_table(results: schemas.SurveyResults) -> Table:
    headers = [_("Question"), _("Answer"), _("Count"), _("Share, %"), _("Respondents")]
    rows: list[list] = []
    for question in results.questions:
        if question.kind is QuestionKind.section:
            rows.append([question.text, None, None, None, None])
            continue
        if question.withheld:
            rows.append(
                [
                    question.text,
                    _("Withheld: fewer than %(n)d answers.", n=results.min_group_size),
                    None,
                    None,
                    None,
                ]
            )
            continue
        n = question.respondents
        rows.append([question.text, None, None, None, n])
        for option in question.options:
            label = option.label + (" " + _("(removed option)") if option.removed else "")
            rows.append([None, label, option.count, option.percent, None])
        if question.other is not None:
            rows.append([None, _("Other"), question.other.count, question.other.percent, None])
        for item in question.distribution:
            rows.append([None, str(item.score), item.count, item.percent, None])
        if question.kind is QuestionKind.rating and question.mean is not None:
            rows.append([None, _("Mean"), question.mean, None, None])
        if question.nps is not None:
            rows.append([None, _("NPS"), question.nps.score, None, None])
        if question.kind in (QuestionKind.short_text, QuestionKind.long_text):
            rows.append([None, _("Text answers"), question.texts_count, None, None])
    return headers, rows


# --- writing ----------------------------------------------------------------------------------------------


def _local(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(LOCAL).replace(tzinfo=None, microsecond=0)


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")  # Excel with Russian settings reads a decimal comma
    return csv_text(str(value))


def to_csv(table: Table) -> bytes:
    """UTF-8 with a BOM and ';' between fields: what Excel with Russian settings opens as it is."""
    headers, rows = table
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([_csv_value(h) for h in headers])
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(table: Table, sheet_title: str) -> bytes:
    headers, rows = table
    workbook = Workbook(write_only=True)
    # Sheet names: at most 31 characters, none of []:*?/\ .
    sheet = workbook.create_sheet("".join(c for c in sheet_title if c not in "[]:*?/\\")[:31] or "Survey")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([xlsx_cell(sheet, header, font=bold) for header in headers])
    for row in rows:
        sheet.append([xlsx_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write(table: Table, fmt: str, sheet_title: str) -> tuple[bytes, str]:
    if fmt == "csv":
        return to_csv(table), CSV_MIME
    return to_xlsx(table, sheet_title), XLSX_MIME


def filename(survey: Survey, what: str, fmt: str) -> str:
    return f"survey-{survey.id}-{what}.{fmt}"
