"""The participant list as XLSX and CSV: every column under a Russian header, formulas neutralised, texts kept
as typed in XLSX, and records holding control characters exported all the same."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from eventops.spreadsheets import csv_text, scrub
from services.registration.exports import HEADERS
from tests.registration.support import VALID_SNILS, registration_api

SNEAKY = {
    "surname": '=HYPERLINK("http://evil.example","Жми")',
    "first_name": "@SUM(A1)",
    "patronymic": "-2+3",
    "email": "sneaky@example.org",
    "phone": "+7 900 000-00-00",
    "organisation": "=1+2",
    "position": "Специалист",
    "snils": VALID_SNILS,
    "birth_date": "1985-03-14",
    "gender": "female",
    "region_code": "16",
}


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+2", "'=1+2"),
        ("+7 900", "'+7 900"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Иванова", "Иванова"),
        ("a=b", "a=b"),
        ("", ""),
        ("ООО\x01Ромашка", "ООО\x01Ромашка".replace("\x01", "")),
        ("\x00=1+2", "'=1+2"),  # scrubbed first, then guarded: the NUL hid nothing
    ],
)
def test_csv_text(value, safe):
    assert csv_text(value) == safe


def test_scrub_keeps_tabs_and_newlines_and_drops_what_xml_cannot_hold():
    assert scrub("a\tb\nc\r\x00\x01\x0b\x1f\ud800d\ufffe") == "a\tb\nc\rd"


@pytest.fixture
def event_with_people(app_factory):
    api = registration_api(app_factory)
    event_id = api.event()
    # Saved before the field rules refused formulas, with a control character that slipped in then too.
    sneaky = api.old_participant(event_id, **{**SNEAKY, "birth_date": date(1985, 3, 14)})
    api.old_participant(
        event_id, email="romashka@example.org", surname="Ромашкина", organisation="ООО\x01Ромашка"
    )
    assert sneaky["id"]
    api.participant(event_id, surname="Ёлкин", first_name="Пётр", email="elkin@example.org")
    return api, event_id


def test_xlsx_holds_every_column_and_no_formula(event_with_people):
    api, event_id = event_with_people
    response = api.get(f"/events/{event_id}/participants/export", query_string={"format": "xlsx"})
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows())
    headers = [cell.value for cell in rows[0]]
    assert headers == HEADERS
    for header in (
        "Фамилия",
        "Имя",
        "Отчество",
        "E-mail",
        "Телефон",
        "Регион",
        "Организация",
        "Должность",
        "Статус",
        "Код",
        "Дата рождения",
        "Пол",
        "СНИЛС",
    ):
        assert header in headers
    sneaky = dict(zip(headers, rows[1], strict=True))  # «=HYPERLINK» sorts before «Ёлкин»
    # String cells: never evaluated, so shown exactly as typed, without an apostrophe.
    assert sneaky["Фамилия"].value == '=HYPERLINK("http://evil.example","Жми")'
    assert sneaky["Имя"].value == "@SUM(A1)"
    assert sneaky["Отчество"].value == "-2+3"
    assert sneaky["Организация"].value == "=1+2"
    assert sneaky["Телефон"].value == "+7 900 000-00-00"
    assert sneaky["Регион"].value == "Республика Татарстан"
    assert (sneaky["СНИЛС"].value, sneaky["Пол"].value, sneaky["Статус"].value) == (
        VALID_SNILS,
        "Жен",
        "зарегистрирован",
    )
    assert sneaky["Дата рождения"].value.date() == date(1985, 3, 14)
    assert all(cell.data_type != "f" for row in rows for cell in row)
    assert rows[2][1].value == "Ёлкин"
    assert dict(zip(headers, [c.value for c in rows[3]], strict=True))["Организация"] == "ОООРомашка"


def test_csv_is_utf8_with_bom_semicolons_and_no_formula(event_with_people):
    api, event_id = event_with_people
    response = api.get(f"/events/{event_id}/participants/export", query_string={"format": "csv"})
    assert response.status_code == 200
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == HEADERS
    sneaky = dict(zip(rows[0], rows[1], strict=True))
    assert sneaky["Фамилия"] == '\'=HYPERLINK("http://evil.example","Жми")'
    assert sneaky["Организация"] == "'=1+2"
    assert sneaky["Имя"] == "'@SUM(A1)"
    assert sneaky["Телефон"] == "'+7 900 000-00-00"
    assert sneaky["Дата рождения"] == "14.03.1985"
    assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for value in row)


def test_unknown_format_and_event(event_with_people):
    api, event_id = event_with_people
    assert (
        api.get(f"/events/{event_id}/participants/export", query_string={"format": "pdf"}).status_code == 422
    )
    assert api.get("/events/999/participants/export").status_code == 404
