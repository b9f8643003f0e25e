"""One set of text rules for a participant, whichever way the person comes in: the staff API (the staff
form), the public registration form and the spreadsheet import refuse the same values with the same code."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from services.registration import fields
from services.registration.importing import preview
from tests.registration.support import ANNA, csv_bytes, registration_api, russian

#: (field, value, the code every way in answers)
REFUSED = [
    ("surname", "<script>alert(1)</script>", "name_characters"),
    ("first_name", "=1+2", "name_characters"),
    ("patronymic", "Петрович2", "name_characters"),
    ("phone", "=1+2", "phone_format"),
    ("phone", "<b>+7 900</b>", "phone_format"),
    ("organisation", "<script>alert(1)</script>", "markup"),
    ("organisation", '=HYPERLINK("http://evil.example")', "formula"),
    ("position", "<img src=x onerror=alert(1)>", "markup"),
    ("organisation", "ООО\x01Ромашка", "forbidden_character"),
    ("surname", "Иван\x00ова", "forbidden_character"),
]
ACCEPTED = [
    ("surname", "Д'Артаньян-Петрова (Иванова)"),
    ("phone", "+7 (843) 123-45-67 доб. 12"),
    ("phone", "8 900 000-00-00, 8-843-1234567"),
    ("phone", "79161234567"),
    ("organisation", "ООО «Рога & копыта», стаж < 5 лет"),
    ("organisation", "-"),
    ("position", "Специалист 1-й категории"),
]
#: the import's column for each field
HEADERS = {
    "surname": "Фамилия",
    "first_name": "Имя",
    "patronymic": "Отчество",
    "phone": "Телефон",
    "organisation": "Организация",
    "position": "Должность",
}
PERSON = {
    "surname": "Иванова",
    "first_name": "Анна",
    "patronymic": "Сергеевна",
    "phone": "",
    "organisation": "МФЦ",
    "position": "",
}


@pytest.fixture
def api(app_factory):
    return registration_api(app_factory)


def import_report(cells: dict):
    """The import's report of one CSV row: PERSON with `cells` in place (a CSV has no formula cells, so
    «=1+2» is text the rules must catch)."""
    row = {**PERSON, **cells}
    data = csv_bytes(
        [[*HEADERS.values(), "E-mail"], [*(row[name] for name in HEADERS), "anna@mfc.example.ru"]]
    )
    return preview("list.csv", data, set()).report


def formula_report(formulas: dict):
    """The import's report of one XLSX row: PERSON with `formulas` as real formula cells, saved without a
    value (as openpyxl and many generators save them)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([*HEADERS.values(), "E-mail"])
    sheet.append([*(PERSON[name] for name in HEADERS), "anna@mfc.example.ru"])
    for name, formula in formulas.items():
        sheet.cell(row=2, column=list(HEADERS).index(name) + 1).value = formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    return preview("list.xlsx", buffer.getvalue(), set()).report


@pytest.mark.parametrize(("field", "value", "code"), REFUSED)
def test_every_way_in_refuses_the_same_value_with_the_same_code(api, field, value, code):
    assert fields.breach(field, value).code == code

    event_id = api.event(registration_open=True)
    if code != "forbidden_character":  # the service's input guard refuses those before any schema: below
        created = api.post(f"/events/{event_id}/participants", {**ANNA, field: value})
        assert created.status_code == 422, created.json
        assert [(e["field"], e["code"]) for e in created.json["errors"]] == [(field, code)]
        form = {**ANNA, "consent": True, field: value}
        registered = api.post(f"/events/{event_id}/registrations", form)
        assert [(e["field"], e["code"]) for e in registered.json["errors"]] == [(field, code)]
        anna = api.participant(event_id, **ANNA)
        edited = api.patch(f"/events/{event_id}/participants/{anna['id']}", {field: value})
        assert [(e["field"], e["code"]) for e in edited.json["errors"]] == [(field, code)]
    else:
        created = api.post(f"/events/{event_id}/participants", {**ANNA, field: value})
        assert created.status_code == 422 and created.json["errors"][0]["code"] == code

    if field in HEADERS and "\x00" not in value:  # a CSV with a NUL is refused whole: not a text file
        report = import_report({field: value})
        [result] = report.rows
        assert result.status == "error"
        assert [(p.field, p.code) for p in result.problems] == [(field, code)]
        assert "\x00" not in result.problems[0].value and "\x01" not in result.problems[0].value


@pytest.mark.parametrize(("field", "value"), ACCEPTED)
def test_real_values_pass_everywhere(api, field, value):
    assert fields.breach(field, value) is None
    event_id = api.event()
    assert api.participant(event_id, **{**ANNA, field: value})[field] == value
    [result] = import_report({field: value}).rows
    assert result.status == "ok" and result.values[field] == value


def test_the_messages_are_russian_and_quote_the_value(api):
    event_id = api.event()
    refused = api.post(f"/events/{event_id}/participants", {**ANNA, "phone": "=1+2"})
    assert refused.json["errors"][0]["message"].startswith("«=1+2» — не номер телефона")
    [problem] = import_report({"organisation": "<b>МФЦ</b>"}).rows[0].problems
    assert problem.message(russian).startswith("«<b>МФЦ</b>» содержит разметку")


def test_a_formula_cell_is_reported_as_a_formula_not_as_an_empty_cell():
    [result] = formula_report({"surname": '=A1&"ова"', "organisation": "=1+2"}).rows
    problems = {(p.field, p.code, p.value) for p in result.problems}
    assert problems == {("surname", "formula_cell", '=A1&"ова"'), ("organisation", "formula_cell", "=1+2")}
    assert "формул" in result.problems[0].message(russian)


def test_a_formula_saved_with_its_value_imports_the_value_with_a_warning():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Фамилия", "Имя", "E-mail", "Организация"])
    sheet.append(["Иванова", "Анна", "anna@mfc.example.ru", "=1+2"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    # As Excel saves it: the formula and the value it showed (openpyxl saves no value).
    with_value = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, zipfile.ZipFile(with_value, "w") as target:
        for item in source.infolist():
            part = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b"<f>1+2</f><v></v>" in part
                part = part.replace(b"<f>1+2</f><v></v>", b"<f>1+2</f><v>3</v>")
            target.writestr(item, part)
    [result] = preview("list.xlsx", with_value.getvalue(), set()).report.rows
    assert result.status == "warning" and result.values["organisation"] == "3"
    assert [(p.code, p.params["formula"]) for p in result.problems] == [("formula_value", "=1+2")]


def test_records_saved_before_the_rules_are_still_listed_and_shown(api):
    event_id = api.event()
    old = api.old_participant(event_id, surname="<b>Ёлкин</b>", phone="=1+2", organisation="ООО\x01Ромашка")
    listed = api.get(f"/events/{event_id}/participants")
    assert listed.status_code == 200
    assert listed.json["items"][0]["surname"] == "<b>Ёлкин</b>"
    assert api.get(f"/events/{event_id}/participants/{old['id']}").json["phone"] == "=1+2"
