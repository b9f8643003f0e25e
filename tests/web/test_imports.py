"""The organisers' import pages in the gateway, against the real services over HTTP."""

from __future__ import annotations

import html
import io
import re

import pytest
import requests

from eventops.config import var_dir
from tests.conftest import auth_headers
from tests.registration.test_import_reading import UnreadableBody, xlsx_bytes
from tests.web.support import csrf_token, logged_in_session

EVENT = {
    "slug": "import-pages",
    "title": "Цифровые коммуникации МФЦ",
    "starts_on": "2026-10-07",
    "ends_on": "2026-10-09",
}
HEADER = ["№", "ФИО", "Эл. почта", "Регион", "Организация"]
ROWS = [
    [1, "Иванова Анна Сергеевна", "anna@mfc.example.ru", "Татарстан", "МФЦ «Казань» & Co"],
    [2, "Петров Пётр", "petrov@mfc.example.ru", "Ростовская обл.", "МФЦ Ростова"],
    [3, "Сидоров Сидор", "sidorov@mfc", "г. Москва", "МФЦ <script>alert(1)</script>"],
    [4, "Ким Ли", "kim@mfc.example.ru", "г. Москва", ""],
]
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def make_event(system) -> int:
    response = requests.post(
        system.urls["registration"] + "/api/v1/events", json=EVENT, headers=auth_headers(), timeout=10
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def participants_count(system, event_id: int) -> int:
    return requests.get(
        f"{system.urls['registration']}/api/v1/events/{event_id}", headers=auth_headers(), timeout=10
    ).json()["participants_count"]


def upload(
    browser: requests.Session, web_url: str, event_id: int, data: bytes, filename: str = "список.xlsx"
):
    page = browser.get(f"{web_url}/events/{event_id}/import")
    assert page.status_code == 200, page.text[:300]
    return browser.post(
        f"{web_url}/events/{event_id}/import",
        data={"csrf_token": csrf_token(page.text)},
        files={"file": (filename, data, XLSX_MIME)},
        allow_redirects=False,
    )


def test_an_organiser_uploads_checks_adjusts_and_imports(live_system, staff_factory, db_backend):
    event_id = make_event(live_system)
    web = live_system.web_url
    browser = logged_in_session(web, *staff_factory("organiser"))

    form = browser.get(f"{web}/events/{event_id}/import")
    assert 'type="file"' in form.text and 'accept=".xlsx,.csv' in form.text
    sent = upload(browser, web, event_id, xlsx_bytes([HEADER, *ROWS]))
    assert sent.status_code == 303, sent.text[:500]
    preview_url = sent.headers["Location"]
    token = preview_url.rstrip("/").rsplit("/", 1)[-1]
    assert (var_dir() / "imports" / f"{token}.upload").exists()

    page = browser.get(web + preview_url if preview_url.startswith("/") else preview_url)
    assert page.status_code == 200
    text = page.text
    assert text.count("<select") == len(HEADER)  # one per column
    assert 'value="full_name" selected' in text and 'value="email" selected' in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>alert(1)" not in text
    assert 'id="row-4"' in text and "sidorov@mfc" in text  # the bad e-mail, named by its row
    assert "содержит разметку" in html.unescape(text)  # as the participant form refuses it
    assert "Эл. почта" in html.unescape(text)
    assert "распознан как «Республика Татарстан»" in html.unescape(text)

    # Changing a column's field re-runs the preview through htmx, without uploading again.
    token_value = csrf_token(text)
    remap = {f"map-{i}": field for i, field in enumerate(["-", "full_name", "email", "-", "organisation"])}
    fragment = browser.post(
        f"{web}/events/{event_id}/import/{token}/preview",
        data={**remap, "csrf_token": token_value},
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<form id="import-form"') and "<html" not in fragment.text
    assert "распознан как" not in html.unescape(fragment.text)  # the region column is no longer read

    # Untick Петров's row (a region that will be corrected), import the rest.
    commit = browser.post(
        f"{web}/events/{event_id}/import/{token}/commit",
        allow_redirects=False,
        data={
            "csrf_token": token_value,
            "map-1": "full_name",
            "map-2": "email",
            "map-3": "region",
            "map-4": "organisation",
            "offered": ["2", "3"],
            "accept": ["2"],
        },
    )
    assert commit.status_code == 303, commit.text[:500]
    done = browser.get(web + commit.headers["Location"])
    assert done.status_code == 200
    counts = dict(re.findall(r"<li>([^<:]+): <strong>(\d+)</strong>", done.text))
    assert counts["Добавлено участников"] == "2"  # Иванова and Ким
    assert counts["Не отмечены вами"] == "1"
    assert counts["Не импортировано из-за ошибок"] == "1"
    assert f"/events/{event_id}" in done.text
    assert participants_count(live_system, event_id) == 2
    assert not (var_dir() / "imports" / f"{token}.upload").exists()
    assert not (var_dir() / "imports" / f"{token}.json").exists()

    # The upload is gone: its preview sends the organiser back to the upload form.
    gone = browser.get(f"{web}/events/{event_id}/import/{token}", allow_redirects=False)
    assert gone.status_code == 303 and gone.headers["Location"].endswith(f"/events/{event_id}/import")


def test_reimporting_the_same_file_adds_nobody(live_system, staff_factory):
    event_id = make_event(live_system)
    web = live_system.web_url
    browser = logged_in_session(web, *staff_factory("organiser"))
    data = xlsx_bytes([HEADER, *ROWS])
    for _ in range(2):
        location = upload(browser, web, event_id, data).headers["Location"]
        page = browser.get(web + location)
        browser.post(web + location + "/commit", data={"csrf_token": csrf_token(page.text)})
    assert participants_count(live_system, event_id) == 3


def test_not_a_spreadsheet_is_explained_on_the_upload_page(live_system, staff_factory):
    event_id = make_event(live_system)
    web = live_system.web_url
    browser = logged_in_session(web, *staff_factory("organiser"))
    sent = upload(browser, web, event_id, b"%PDF-1.7 a scanned list", filename="список.pdf")
    page = browser.get(web + sent.headers["Location"])
    assert page.status_code == 422
    assert "не таблица" in html.unescape(page.text) and 'type="file"' in page.text
    token = sent.headers["Location"].rsplit("/", 1)[-1]
    assert not (var_dir() / "imports" / f"{token}.upload").exists()


def test_an_upload_belongs_to_the_session_that_made_it(live_system, staff_factory):
    event_id = make_event(live_system)
    web = live_system.web_url
    mine = logged_in_session(web, *staff_factory("organiser"))
    location = upload(mine, web, event_id, xlsx_bytes([HEADER, *ROWS])).headers["Location"]
    someone_else = logged_in_session(web, *staff_factory("organiser"))
    response = someone_else.get(web + location, allow_redirects=False)
    assert response.status_code == 303 and response.headers["Location"].endswith("/import")
    assert mine.get(web + location).status_code == 200


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_check_in_staff_get_403(live_system, staff_factory, method):
    event_id = make_event(live_system)
    web = live_system.web_url
    browser = logged_in_session(web, *staff_factory("checkin"))
    token = csrf_token(browser.get(web + "/").text)
    response = browser.request(
        method,
        f"{web}/events/{event_id}/import",
        allow_redirects=False,
        data={"csrf_token": token} if method == "POST" else None,
    )
    assert response.status_code == 403


def test_without_logging_in_the_import_page_asks_to_log_in(live_system):
    event_id = make_event(live_system)
    response = requests.get(
        f"{live_system.web_url}/events/{event_id}/import", allow_redirects=False, timeout=10
    )
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- size limit, with the gateway's test client: the body must not even be read ------------------


@pytest.fixture
def web_client(app_factory, staff_factory):
    client = app_factory("web").test_client()
    username, password = staff_factory("organiser")
    token = csrf_token(client.get("/login").get_data(as_text=True))
    assert (
        client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}
        ).status_code
        == 303
    )
    return client


def test_the_gateway_answers_413_in_russian_before_reading_a_big_body(web_client):
    response = web_client.post(
        "/events/1/import",
        input_stream=UnreadableBody(11 * 1024 * 1024),
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code == 413
    assert "Файл больше 10 МБ" in response.get_data(as_text=True)


def test_the_gateway_refuses_a_file_just_over_ten_megabytes(live_system, staff_factory):
    # Small enough overhead that the size is only known once the file is read.
    event_id = make_event(live_system)
    web = live_system.web_url
    browser = logged_in_session(web, *staff_factory("organiser"))
    token = csrf_token(browser.get(f"{web}/events/{event_id}/import").text)
    response = browser.post(
        f"{web}/events/{event_id}/import",
        data={"csrf_token": token},
        files={"file": ("big.csv", b"x" * (10 * 1024 * 1024 + 1))},
        allow_redirects=False,
    )
    assert response.status_code == 413
    assert "Файл больше 10 МБ" in response.text


def test_the_upload_still_checks_csrf(web_client):
    response = web_client.post(
        "/events/1/import",
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(b"a;b\n1;2"), "a.csv")},
    )
    assert response.status_code == 400


def test_an_upload_opens_only_for_the_organiser_who_sent_it(live_system, staff_factory):
    event_id = make_event(live_system)
    web = live_system.web_url
    owner = logged_in_session(web, *staff_factory("organiser"))
    preview_url = upload(owner, web, event_id, xlsx_bytes([HEADER, *ROWS])).headers["Location"]
    token = preview_url.rstrip("/").rsplit("/", 1)[-1]

    other = logged_in_session(web, *staff_factory("organiser"))
    seen = other.get(f"{web}/events/{event_id}/import/{token}", allow_redirects=False)
    assert seen.status_code == 303 and seen.headers["Location"].endswith(f"/events/{event_id}/import")
    page = other.get(f"{web}/events/{event_id}/import/{token}")
    assert "Иванова Анна" not in page.text  # nothing of the other organiser's file
    committed = other.post(
        f"{web}/events/{event_id}/import/{token}/commit",
        data={"csrf_token": csrf_token(page.text)},
        allow_redirects=False,
    )
    assert committed.status_code == 303 and participants_count(live_system, event_id) == 0
    # The owner still has it.
    assert "Иванова Анна" in owner.get(web + preview_url if preview_url.startswith("/") else preview_url).text
