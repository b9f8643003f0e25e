"""The attendance workbook built by web.reports, read back with openpyxl."""

from __future__ import annotations

import io

from flask import session
from openpyxl import load_workbook

from web import reports

SESSIONS = [
    {
        "id": 7,
        "day": "2026-10-07",
        "starts_at": "10:00:00",
        "ends_at": "11:30:00",
        "title": "Госпаблики",
        "academic_hours": 2,
        "checked_in": 1,
    },
    {
        "id": 8,
        "day": "2026-10-07",
        "starts_at": "12:00:00",
        "ends_at": "13:00:00",
        "title": "=1+1",
        "academic_hours": 1,
        "checked_in": 0,
    },
]
REPORT = {
    "event": {"id": 1, "slug": "mfc-2026"},
    "sessions": SESSIONS,
    "days": [{"day": "2026-10-07", "present": 1}],
    "rows": [
        {
            "participant": {
                "id": 1,
                "full_name": "Ёлкин Пётр",
                "organisation": "МФЦ Сочи",
                "status": "confirmed",
            },
            "session_ids": {7},
            "days": ["2026-10-07"],
            "academic_hours": 2,
        },
        {
            # saved before control characters were refused: the workbook is made all the same
            "participant": {
                "id": 3,
                "full_name": "Ромашкина\x00 Ольга",
                "organisation": "ООО\x01Ромашка",
                "status": "cancelled",
            },
            "session_ids": set(),
            "days": [],
            "academic_hours": 0,
        },
        {
            "participant": {
                "id": 2,
                "full_name": "@SUM(A1)",
                "organisation": '=HYPERLINK("http://x")',
                "status": "registered",
            },
            "session_ids": set(),
            "days": [],
            "academic_hours": 0,
        },
    ],
}


def workbook(app, language: str | None = None):
    with app.test_request_context():
        if language:
            session["lang"] = language  # what the language switch keeps
        return load_workbook(io.BytesIO(reports.attendance_xlsx(REPORT)))


def test_one_sheet_by_participant_with_a_column_per_session_and_one_by_session(gateway):
    book = workbook(gateway)
    assert book.sheetnames == ["По участникам", "По занятиям"]
    people, sessions = book.worksheets
    header = [cell.value for cell in people[1]]
    assert header[:6] == [
        "ФИО",
        "Организация",
        "Статус",
        "Дни присутствия",
        "Посещено занятий",
        "Академические часы",
    ]
    assert header[6:] == ["2026-10-07 10:00 Госпаблики", "2026-10-07 12:00 =1+1"]
    assert all(cell.font.bold for cell in people[1]) and people.freeze_panes == "A2"
    elkin = [cell.value for cell in people[2]]
    assert elkin == ["Ёлкин Пётр", "МФЦ Сочи", "подтверждён", "2026-10-07", 1, 2, 1, None]
    assert [[cell.value for cell in row] for row in sessions.iter_rows(min_row=2)] == [
        ["2026-10-07", "10:00–11:30", "Госпаблики", 2, 1],
        ["2026-10-07", "12:00–13:00", "=1+1", 1, 0],
    ]


def test_no_cell_is_a_formula(gateway):
    book = workbook(gateway)
    values = [cell.value for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    texts = [value for value in values if isinstance(value, str)]
    # Texts are string cells, which no spreadsheet evaluates: kept as typed, without an apostrophe.
    assert "@SUM(A1)" in texts and '=HYPERLINK("http://x")' in texts
    assert not any(text.startswith("'") for text in texts)
    assert all(
        cell.data_type != "f" for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
    )


def test_control_characters_are_scrubbed_and_statuses_are_words(gateway):
    rows = list(workbook(gateway).worksheets[0].iter_rows(min_row=2, values_only=True))
    assert rows[1][:3] == ("Ромашкина Ольга", "ОООРомашка", "регистрация отменена")
    assert rows[2][2] == "зарегистрирован"
    english = list(workbook(gateway, "en").worksheets[0].iter_rows(min_row=2, values_only=True))
    assert [row[2] for row in english] == ["confirmed", "cancelled", "registered"]


def test_the_sheets_speak_english_when_asked(gateway):
    assert workbook(gateway, "en").sheetnames == ["By participant", "By session"]
