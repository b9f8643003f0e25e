"""Exports: responses and the summary as CSV and XLSX, formula-safe; an anonymous survey's file has no
column that could point at someone, and small groups are withheld in the summary as in the results."""

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.feedback.support import Api, by_text, option_ids

FORMULA = '=HYPERLINK("http://evil.example","нажмите")'


@pytest.fixture
def api(app_factory):
    return Api(app_factory("feedback").test_client())


def fill(api, survey, count, *, anonymous=False):
    q = by_text(survey)
    rating, text = q["Насколько полезен был курс?"]["id"], q["Что улучшить?"]["id"]
    multiple = q["С какими трудностями вы сталкиваетесь?"]
    time = option_ids(multiple)["Недостаток времени"]
    for n in range(1, count + 1):
        answers = {
            rating: 1 + n % 5,
            text: FORMULA if n == 1 else f"Ответ {n}",
            multiple["id"]: {"choices": [time], "other": "@SUM(1+1)"} if n == 2 else [time],
        }
        if anonymous:
            assert api.answer_anonymously(survey["public_token"], answers).status_code == 201
        else:
            api.answer(survey["id"], n, answers, respondent={"region_code": "61", "organisation": "-МФЦ"})


def download(api, path, **params):
    response = api.call("GET", path, **params)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response


def read_csv(response):
    assert response.mimetype == "text/csv" and response.data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))


def test_named_responses_as_csv_and_xlsx_are_formula_safe(api, db_backend):
    survey = api.survey()
    fill(api, survey, 3)
    rows = read_csv(download(api, f"/surveys/{survey['id']}/responses.csv"))
    assert rows[0][:5] == ["№", "Участник", "Регион", "Организация", "Отправлено"]
    assert len(rows) == 4 and rows[1][1:4] == ["1", "61", "'-МФЦ"]
    flat = [cell for row in rows for cell in row]
    assert "'" + FORMULA in flat and FORMULA not in flat
    assert "Недостаток времени; Другое: @SUM(1+1)" in flat  # starts with a letter: left as it is

    response = download(api, f"/surveys/{survey['id']}/responses.xlsx")
    assert (
        response.headers["Content-Disposition"]
        == f'attachment; filename="survey-{survey["id"]}-responses.xlsx"'
    )
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    # String cells are never evaluated: the answer is shown exactly as typed, without an apostrophe.
    assert any(cell.value == FORMULA and cell.data_type == "s" for cell in cells)
    assert not any(isinstance(cell.value, str) and cell.value.startswith("'") for cell in cells)
    assert all(cell.data_type != "f" for cell in cells)


def test_anonymous_responses_have_no_identifying_column_and_wait_for_the_threshold(api, db_backend):
    survey = api.survey(anonymous=True)
    fill(api, survey, 4, anonymous=True)
    refused = api.call("GET", f"/surveys/{survey['id']}/responses.csv")
    assert refused.status_code == 409 and "порог" in refused.json["detail"]
    fill(api, survey, 1, anonymous=True)
    rows = read_csv(download(api, f"/surveys/{survey['id']}/responses.csv"))
    questions = [q["text"] for q in survey["questions"] if q["kind"] != "section"]
    assert rows[0] == ["№", *questions] and len(rows) == 6
    sheet = load_workbook(io.BytesIO(download(api, f"/surveys/{survey['id']}/responses.xlsx").data)).active
    assert [c.value for c in next(sheet.iter_rows())] == ["№", *questions]


def test_the_summary_withholds_what_the_results_withhold(api, db_backend):
    survey = api.survey()
    fill(api, survey, 5)
    rows = read_csv(download(api, f"/surveys/{survey['id']}/summary.csv"))
    assert rows[0] == ["Вопрос", "Ответ", "Количество", "Доля, %", "Ответили"]
    by_question = {row[0]: row for row in rows if row[0]}
    assert by_question["Насколько полезен был курс?"][4] == "5"
    assert by_question["Порекомендуете ли вы курс коллегам?"][1] == "Скрыто: меньше 5 ответов."
    assert ["", "Недостаток времени", "5", "100", ""] in rows
    assert ["", "Другое", "1", "20", ""] in rows
    assert ["", "Среднее", "3", "", ""] in rows  # 2 3 4 5 1

    narrowed = read_csv(download(api, f"/surveys/{survey['id']}/summary.csv", region="16"))
    assert all("Скрыто" in row[1] for row in narrowed[1:] if row[0] and row[0] != "О курсе")

    sheet = load_workbook(io.BytesIO(download(api, f"/surveys/{survey['id']}/summary.xlsx").data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert [None, "Недостаток времени", 5, 100.0, None] in values  # numbers stay numbers


def test_an_unknown_format_is_not_found(api):
    survey = api.survey()
    assert api.call("GET", f"/surveys/{survey['id']}/responses.pdf").status_code == 404
