"""The import API: a preview that writes nothing and an all-or-nothing commit, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json

import pytest

from tests.conftest import auth_headers
from tests.registration.support import UnreadableBody, csv_bytes, xlsx_bytes

EVENT = {
    "slug": "import-2026",
    "title": "Цифровые коммуникации",
    "starts_on": "2026-10-07",
    "ends_on": "2026-10-09",
}
HEADER = ["№", "ФИО", "Эл. почта", "Субъект РФ", "Место работы", "СНИЛС"]
ROWS = [
    [1, "Иванова Анна Сергеевна", "anna@mfc.example.ru", "Татарстан", "МФЦ Казани", "112-233-445 95"],
    [2, "Петров Пётр", "petrov@mfc.example.ru", "Ростовская обл.", "МФЦ «Ростов» & Co < 5 лет", ""],
    [3, "Сидоров Сидор Сидорович", "sidorov@mfc.example.ru", "г. Москва", "", ""],
]


@pytest.fixture
def api(app_factory):
    return app_factory("registration").test_client()


def new_event(api) -> int:
    response = api.post("/api/v1/events", json=EVENT, headers=auth_headers())
    assert response.status_code == 201, response.json
    return response.json["id"]


def send(api, event_id: int, kind: str, data: bytes, filename: str = "participants.xlsx", **fields):
    form = {"file": (io.BytesIO(data), filename)}
    form.update(
        {name: value if isinstance(value, str) else json.dumps(value) for name, value in fields.items()}
    )
    return api.post(
        f"/api/v1/events/{event_id}/imports/{kind}",
        data=form,
        headers=auth_headers(),
        content_type="multipart/form-data",
    )


def participants(api, event_id: int) -> list[dict]:
    return api.get(f"/api/v1/events/{event_id}/participants", headers=auth_headers()).json["items"]


def count(api, event_id: int) -> int:
    return api.get(f"/api/v1/events/{event_id}", headers=auth_headers()).json["participants_count"]


def test_preview_shows_headers_mapping_sample_and_report_and_writes_nothing(api, db_backend):
    event_id = new_event(api)
    rows = [*ROWS, [4, "Кузнецов Кузьма", "kuz@", "Нарния", "", "112-233-445 96"]]
    response = send(api, event_id, "preview", xlsx_bytes([HEADER, *rows]))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["headers"] == HEADER and body["header_row"] == 1
    assert body["mapping"] == {
        "1": "full_name",
        "2": "email",
        "3": "region",
        "4": "organisation",
        "5": "snils",
    }
    assert [row["row"] for row in body["sample"]] == [2, 3, 4, 5]
    assert body["report"]["counts"] == {"total": 4, "ok": 1, "warning": 2, "error": 1, "duplicate": 0}
    bad = next(row for row in body["report"]["rows"] if row["row"] == 5)
    assert {problem["code"] for problem in bad["problems"]} == {
        "invalid_email",
        "unknown_region",
        "invalid_snils",
    }
    assert all(problem["column"] for problem in bad["problems"])
    assert count(api, event_id) == 0


def test_commit_imports_the_rows_without_errors_and_reimporting_changes_nothing(api, db_backend):
    event_id = new_event(api)
    data = xlsx_bytes([HEADER, *ROWS])
    first = send(api, event_id, "commit", data)
    assert first.status_code == 200, first.json
    assert first.json == {"created": 3, "skipped": 0, "left_out": 0, "errors": 0, "total": 3}
    people = {p["email"]: p for p in participants(api, event_id)}
    assert people["anna@mfc.example.ru"]["region_code"] == "16"
    assert people["anna@mfc.example.ru"]["snils"] == "112-233-445 95"
    assert (
        people["petrov@mfc.example.ru"]["organisation"] == "МФЦ «Ростов» & Co < 5 лет"
    )  # signs that are not markup stay
    assert people["sidorov@mfc.example.ru"]["patronymic"] == "Сидорович"
    assert len({p["code"] for p in people.values()}) == 3

    again = send(api, event_id, "commit", data)
    assert again.status_code == 200, again.json
    assert again.json["created"] == 0 and again.json["skipped"] == 3
    assert count(api, event_id) == 3
    preview = send(api, event_id, "preview", data).json
    assert preview["report"]["counts"]["duplicate"] == 3


def test_imported_people_keep_what_the_register_needs(api, db_backend):
    event_id = new_event(api)
    header = ["ФИО", "E-mail", "Пол", "Образование", "Гражданство"]
    rows = [["Иванова Анна", "anna@mfc.example.ru", "ж", "высшее", "Россия"]]
    assert send(api, event_id, "commit", xlsx_bytes([header, *rows])).json["created"] == 1
    [anna] = participants(api, event_id)
    assert (anna["gender"], anna["education_level"], anna["citizenship"]) == ("female", "ВО", "643")


def test_duplicate_email_against_the_event_ignores_case_and_spaces(api, db_backend):
    event_id = new_event(api)
    api.post(
        f"/api/v1/events/{event_id}/participants",
        headers=auth_headers(),
        json={"surname": "Иванова", "first_name": "Анна", "email": "anna@mfc.example.ru"},
    )
    rows = [[1, "Иванова Анна", "  ANNA@MFC.example.ru ", "", "", ""], *ROWS[1:]]
    result = send(
        api,
        event_id,
        "commit",
        csv_bytes([[str(c) for c in r] for r in [HEADER, *rows]]),
        filename="participants.csv",
    )
    assert result.json["created"] == 2 and result.json["skipped"] == 1
    assert count(api, event_id) == 3


def test_one_accepted_row_with_an_error_means_nothing_is_written(api, db_backend):
    event_id = new_event(api)
    rows = [*ROWS, [4, "Кузнецов Кузьма", "kuz@", "", "", ""]]
    response = send(api, event_id, "commit", xlsx_bytes([HEADER, *rows]), accepted_rows=[2, 3, 4, 5])
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "5" in response.json["detail"] and "ничего не импортировано" in response.json["detail"]
    assert response.json["errors"][0]["row"] == 5 and response.json["errors"][0]["column"] == "Эл. почта"
    assert count(api, event_id) == 0


def test_the_organiser_chooses_rows(api, db_backend):
    event_id = new_event(api)
    data = xlsx_bytes([HEADER, *ROWS])
    chosen = send(api, event_id, "commit", data, accepted_rows=[2, 4])
    assert chosen.json["created"] == 2 and chosen.json["left_out"] == 1
    rest = send(api, event_id, "commit", data, rejected_rows=[2])
    assert rest.json["created"] == 1
    assert sorted(p["email"] for p in participants(api, event_id)) == [
        "anna@mfc.example.ru",
        "petrov@mfc.example.ru",
        "sidorov@mfc.example.ru",
    ]


def test_an_unknown_row_number_is_refused(api):
    event_id = new_event(api)
    response = send(api, event_id, "commit", xlsx_bytes([HEADER, *ROWS]), accepted_rows=[2, 99])
    assert response.status_code == 422 and response.json["errors"][0]["code"] == "unknown_row"
    assert count(api, event_id) == 0


def test_an_adjusted_mapping_is_used(api, db_backend):
    event_id = new_event(api)
    header = ["Колонка 1", "Колонка 2", "Колонка 3"]
    rows = [["Ким", "Ли", "kim@x.ru"], ["Пак", "Юна", "pak@x.ru"]]
    data = csv_bytes([header, *rows], delimiter=",")
    guessed = send(api, event_id, "preview", data, filename="a.csv")
    assert guessed.status_code == 200, guessed.json
    assert guessed.json["mapping"] == {}
    assert len(guessed.json["report"]["mapping_problems"]) == 3
    refused = send(api, event_id, "commit", data, filename="a.csv")
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "mapping"

    mapping = {"0": "surname", "1": "first_name", "2": "email"}
    preview = send(api, event_id, "preview", data, filename="a.csv", mapping=mapping)
    assert preview.json["mapping"] == mapping and preview.json["report"]["counts"]["ok"] == 2
    assert send(api, event_id, "commit", data, filename="a.csv", mapping=mapping).json["created"] == 2


@pytest.mark.parametrize("mapping", ["not json", [1, 2], {"7": "email"}, {"0": "salary"}])
def test_a_bad_mapping_is_a_problem_document(api, mapping):
    event_id = new_event(api)
    response = send(api, event_id, "preview", xlsx_bytes([HEADER, *ROWS]), mapping=mapping)
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "mapping"


@pytest.mark.parametrize(
    ("filename", "data", "code"),
    [
        ("participants.xlsx", b"%PDF-1.7", "not_a_spreadsheet"),
        ("participants.csv", b"", "empty"),
        ("participants.csv", "Фамилия;Имя;E-mail\n".encode(), "no_data"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_in_russian(api, filename, data, code):
    event_id = new_event(api)
    response = send(api, event_id, "preview", data, filename=filename)
    assert response.status_code == 422
    assert response.json["errors"][0] == {"field": "file", "code": code, "message": response.json["detail"]}
    assert any("а" <= char <= "я" for char in response.json["detail"])


def test_messages_follow_the_language_asked_for(api):
    event_id = new_event(api)
    response = api.post(
        f"/api/v1/events/{event_id}/imports/preview",
        headers={**auth_headers(), "Accept-Language": "en"},
        data={"file": (io.BytesIO(b""), "a.csv")},
        content_type="multipart/form-data",
    )
    assert response.json["detail"] == "The file is empty."


def test_over_ten_megabytes_is_413_before_reading(api):
    event_id = new_event(api)
    big = send(api, event_id, "preview", b"x" * (11 * 1024 * 1024), filename="big.csv")
    assert big.status_code == 413 and big.mimetype == "application/problem+json"
    assert "10 МБ" in big.json["detail"]
    # Just over the limit, within what a form may add around a file: the read itself is counted.
    edge = send(api, event_id, "preview", b"x" * (10 * 1024 * 1024 + 10), filename="big.csv")
    assert edge.status_code == 413


def test_the_service_answers_413_before_reading_a_big_body(api):
    event_id = new_event(api)
    response = api.post(
        f"/api/v1/events/{event_id}/imports/commit",
        headers=auth_headers(),
        input_stream=UnreadableBody(11 * 1024 * 1024),
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code == 413 and response.mimetype == "application/problem+json"


def test_a_row_the_api_would_refuse_stops_the_import_and_says_why(api, monkeypatch):
    # The import's checks and the API's rules should agree; should they not, nothing is written.
    monkeypatch.setattr("services.registration.importing.checking.normalise_email", lambda text: "nobody")
    event_id = new_event(api)
    response = send(api, event_id, "commit", xlsx_bytes([HEADER, *ROWS]))
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "rows.2"
    assert response.json["detail"].startswith("Строку 2 нельзя импортировать: email: Неверный адрес e-mail")
    assert count(api, event_id) == 0


def test_a_body_that_is_no_form_is_refused_as_such(api):
    event_id = new_event(api)
    response = api.post(f"/api/v1/events/{event_id}/imports/preview", json={}, headers=auth_headers())
    assert response.status_code == 415 and response.mimetype == "application/problem+json"
    assert "multipart/form-data" in response.json["detail"]  # says what the endpoint takes


def test_a_file_is_required(api):
    event_id = new_event(api)
    response = api.post(
        f"/api/v1/events/{event_id}/imports/preview",
        headers=auth_headers(),
        data={"mapping": "{}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422


def test_without_the_service_token_nothing_is_read(api):
    event_id = new_event(api)
    response = api.post(
        f"/api/v1/events/{event_id}/imports/preview",
        data={"file": (io.BytesIO(b"a;b\n1;2"), "a.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 401


def test_an_unknown_event_is_404(api):
    assert send(api, 999, "preview", xlsx_bytes([HEADER, *ROWS])).status_code == 404


def test_someone_registering_the_same_email_meanwhile_rolls_everything_back(api, db_backend, monkeypatch):
    event_id = new_event(api)
    api.post(
        f"/api/v1/events/{event_id}/participants",
        headers=auth_headers(),
        json={"surname": "Сидоров", "first_name": "Сидор", "email": "sidorov@mfc.example.ru"},
    )
    # As if the check ran a moment before that registration: the database's constraint has the last word.
    monkeypatch.setattr("services.registration.participants.email_keys", lambda session, event_id: set())
    response = send(api, event_id, "commit", xlsx_bytes([HEADER, *ROWS]))
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert "Ничего не импортировано" in response.json["detail"]
    assert count(api, event_id) == 1
