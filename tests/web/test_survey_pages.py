"""The gateway's survey pages against the real services over HTTP: the organisers' builder and results, the
participants' answers on their personal link, the anonymous link; who may open what, CSRF, and that a
participant reaches nobody else's answers."""

from __future__ import annotations

import io
import re
import time

import pytest
import requests
from openpyxl import load_workbook

from tests.conftest import auth_headers
from tests.feedback.support import EVERY_KIND
from tests.web.support import as_role, csrf_token, logged_in_session, open_page

EVENT = {
    "slug": "mfc-surveys",
    "title": "Цифровые коммуникации МФЦ",
    "organiser": "ЮРИУ РАНХиГС",
    "place": "Сочи",
    "starts_on": "2026-10-07",
    "ends_on": "2026-10-09",
}


# --- helpers ---------------------------------------------------------------------------------------


def call(system, service: str, method: str, path: str, **kwargs):
    response = requests.request(
        method, f"{system.urls[service]}/api/v1{path}", headers=auth_headers(), timeout=10, **kwargs
    )
    assert response.status_code < 400, (response.status_code, response.text[:500])
    return response.json() if response.content else None


def make_event(system, **fields) -> int:
    return call(system, "registration", "POST", "/events", json={**EVENT, **fields})["id"]


def spelled(number) -> str:
    """A number in letters («Участник» + «бв» for 12): registration refuses digits in a name."""
    return "".join("абвгдежзик"[int(digit)] for digit in str(number))


def add_participant(system, event_id: int, n: int, **fields) -> dict:
    return call(
        system,
        "registration",
        "POST",
        f"/events/{event_id}/participants",
        json={
            "surname": f"Участник{spelled(n)}",
            "first_name": "Анна",
            "email": f"p{n}@example.ru",
            **fields,
        },
    )


def organiser(system, staff_factory, role: str = "organiser") -> requests.Session:
    return logged_in_session(system.web_url, *staff_factory(role))


def post_form(browser: requests.Session, url: str, data, page_url: str | None = None, **kwargs):
    """Opens the page the form is on (for its CSRF token), then sends the form as a browser would."""
    token = csrf_token(browser.get(page_url or url).text)
    data = {**data, "csrf_token": token} if isinstance(data, dict) else [*data, ("csrf_token", token)]
    return browser.post(url, data=data, allow_redirects=False, **kwargs)


def survey_of(system, survey_id: int) -> dict:
    return call(system, "feedback", "GET", f"/surveys/{survey_id}")


def build_survey(system, event_id: int, questions: list[dict], **fields) -> dict:
    """A survey made through the feedback API (the builder pages have their own tests), opened."""
    survey = call(
        system,
        "feedback",
        "POST",
        f"/events/{event_id}/surveys",
        json={"title": "Опрос участников", "questions": questions, **fields},
    )
    call(system, "feedback", "POST", f"/surveys/{survey['id']}/open")
    return survey_of(system, survey["id"])


def option_ids(question: dict) -> dict[str, str]:
    return {o["label"]: o["id"] for o in question["options"]}


def text_of(html: str) -> str:
    """The page's text without tags, styles and charts' own captions, spaces joined, as a person reads it."""
    html = re.sub(r"<(style|svg)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ")


# --- the builder -----------------------------------------------------------------------------------


def question_form(kind: str, text: str, options=(), *, required=False, allow_other=False, ids=None):
    """The builder's question form as a browser posts it: option rows of a hidden id and a label."""
    data = [("kind", kind), ("text", text), ("description", "")]
    if required:
        data.append(("required", "y"))
    if allow_other:
        data.append(("allow_other", "y"))
    ids = list(ids or [])
    for index, label in enumerate([*options, "", ""]):
        data += [("option_id", ids[index] if index < len(ids) else ""), ("option_label", label)]
    return data


def test_organiser_builds_a_survey_of_every_kind_through_the_pages(live_system, staff_factory, db_backend):
    web = live_system.web_url
    event_id = make_event(live_system)
    browser = organiser(live_system, staff_factory)
    listing = browser.get(f"{web}/events/{event_id}/surveys")
    assert listing.status_code == 200 and "Новый опрос" in listing.text

    created = post_form(
        browser,
        f"{web}/events/{event_id}/surveys/new",
        {"title": "Итоговая анкета", "min_group_size": "5"},
        page_url=f"{web}/events/{event_id}/surveys",
    )
    assert created.status_code == 303
    survey_id = int(re.search(r"/surveys/(\d+)$", created.headers["Location"]).group(1))
    builder = f"{web}/surveys/{survey_id}"

    for question in EVERY_KIND:
        labels = [o["label"] for o in question.get("options", [])]
        response = post_form(
            browser,
            f"{builder}/questions",
            question_form(
                question["kind"],
                question["text"],
                labels,
                required=question.get("required", False),
                allow_other=question.get("allow_other", False),
            ),
            page_url=builder,
        )
        assert response.status_code == 303, text_of(response.text)[:800]
    survey = survey_of(live_system, survey_id)
    assert [q["kind"] for q in survey["questions"]] == [q["kind"] for q in EVERY_KIND]
    multiple = survey["questions"][3]
    assert [o["label"] for o in multiple["options"]] == [
        "Недостаток времени",
        "Отсутствие мотивации",
        "Недостаток компетенций",
    ]
    assert multiple["allow_other"] is True and survey["questions"][1]["required"] is True

    # Rename an option and remove another: the renamed one keeps its id (and so its answers).
    kept = option_ids(multiple)
    edit_url = f"{builder}/questions/{multiple['id']}/edit"
    edit_page = browser.get(edit_url)
    assert edit_page.status_code == 200 and "Недостаток компетенций" in edit_page.text
    saved = post_form(
        browser,
        edit_url,
        question_form(
            "multiple",
            multiple["text"],
            ["Нехватка времени", "", "Недостаток компетенций"],
            allow_other=True,
            ids=[kept["Недостаток времени"], kept["Отсутствие мотивации"], kept["Недостаток компетенций"]],
        ),
    )
    assert saved.status_code == 303, text_of(saved.text)[:800]
    after = option_ids(survey_of(live_system, survey_id)["questions"][3])
    assert after == {
        "Нехватка времени": kept["Недостаток времени"],
        "Недостаток компетенций": kept["Недостаток компетенций"],
    }

    # Reorder with htmx: the answer is the redrawn list, in the new order.
    nps = survey["questions"][4]
    token = csrf_token(browser.get(builder).text)
    moved = browser.post(
        f"{builder}/questions/{nps['id']}/move",
        data={"direction": "up", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert moved.status_code == 200 and moved.text.lstrip().startswith('<div id="questions"')
    assert "<html" not in moved.text
    order = [q["id"] for q in survey_of(live_system, survey_id)["questions"]]
    assert order.index(nps["id"]) == 3
    assert moved.text.index(f'id="q-{nps["id"]}"') < moved.text.index(f'id="q-{multiple["id"]}"')
    # Without JavaScript the same button is a plain form: 303 back to the builder.
    plain = browser.post(
        f"{builder}/questions/{nps['id']}/move",
        data={"direction": "down", "csrf_token": token},
        allow_redirects=False,
    )
    assert plain.status_code == 303 and plain.headers["Location"].endswith(
        f"/surveys/{survey_id}#q-{nps['id']}"
    )
    assert [q["id"] for q in survey_of(live_system, survey_id)["questions"]].index(nps["id"]) == 4

    # Delete the short text, open the survey.
    short = survey["questions"][5]
    deleted = browser.post(
        f"{builder}/questions/{short['id']}/delete",
        data={"csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert deleted.status_code == 200 and f'id="q-{short["id"]}"' not in deleted.text
    opened = browser.post(f"{builder}/open", data={"csrf_token": token}, allow_redirects=False)
    assert opened.status_code == 303
    page = browser.get(builder)
    assert "Опрос открыт" in page.text
    assert survey_of(live_system, survey_id)["status"] == "open"


def test_service_refusals_are_shown_next_to_the_field(live_system, staff_factory, db_backend):
    web = live_system.web_url
    event_id = make_event(live_system)
    survey = call(live_system, "feedback", "POST", f"/events/{event_id}/surveys", json={"title": "Анкета"})
    builder = f"{web}/surveys/{survey['id']}"
    browser = organiser(live_system, staff_factory)

    one_option = post_form(
        browser, f"{builder}/questions", question_form("single", "Да или нет?", ["Да"]), builder
    )
    assert one_option.status_code == 422
    assert "нужно не меньше двух вариантов" in one_option.text
    twice = post_form(
        browser, f"{builder}/questions", question_form("multiple", "Что?", ["Время", "время"]), builder
    )
    assert twice.status_code == 422
    # The message sits in the row of the second, repeated option, and what was typed is kept.
    row = re.search(r'value="время"[^>]*>\s*<span></span>\s*<p class="field-error">([^<]+)</p>', twice.text)
    assert row and "уже есть в списке" in row.group(1)
    empty = post_form(browser, f"{builder}/questions", question_form("rating", ""), builder)
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.text
    assert survey_of(live_system, survey["id"])["questions"] == []
    # Opening without a question: refused with the service's reason, said on the builder.
    token = csrf_token(browser.get(builder).text)
    refused = browser.post(f"{builder}/open", data={"csrf_token": token})
    assert "добавьте хотя бы один вопрос" in refused.text
    assert survey_of(live_system, survey["id"])["status"] == "draft"


def test_forms_for_every_session_are_made_from_the_programme(live_system, staff_factory, db_backend):
    web = live_system.web_url
    event_id = make_event(live_system)
    for title, starts in (("Открытие курса", "10:00"), ("Контент-планирование", "12:00")):
        call(
            live_system,
            "registration",
            "POST",
            f"/events/{event_id}/sessions",
            json={
                "day": "2026-10-07",
                "starts_at": starts,
                "ends_at": "11:30" if starts == "10:00" else "13:30",
                "title": title,
                "kind": "lecture",
                "academic_hours": 2,
            },
        )
    browser = organiser(live_system, staff_factory)
    listing = f"{web}/events/{event_id}/surveys"
    first = post_form(browser, f"{listing}/sessions", {}, page_url=listing)
    assert first.status_code == 303
    page = browser.get(listing).text
    assert "Созданы формы обратной связи: 2" in text_of(page)
    forms = list(call(live_system, "feedback", "GET", f"/events/{event_id}/surveys")["items"])
    assert sorted(s["session_title"] for s in forms) == ["Контент-планирование", "Открытие курса"]
    # 10:00 Moscow time is 07:00 UTC: the form opens when its session starts.
    opening = next(s for s in forms if s["session_title"] == "Открытие курса")
    assert opening["opens_at"].startswith("2026-10-07T07:00")
    again = post_form(browser, f"{listing}/sessions", {}, page_url=listing)
    assert again.status_code == 303
    assert "У всех занятий программы уже есть" in browser.get(listing).text
    assert len(call(live_system, "feedback", "GET", f"/events/{event_id}/surveys")["items"]) == 2


def test_a_definition_exports_to_a_file_and_imports_into_another_event(live_system, staff_factory):
    web = live_system.web_url
    first, second = make_event(live_system), make_event(live_system, slug="mfc-2027")
    survey = build_survey(live_system, first, EVERY_KIND, title="Анкета курса")
    browser = organiser(live_system, staff_factory)
    exported = browser.get(f"{web}/surveys/{survey['id']}/definition.json")
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"].startswith("attachment")
    assert "Недостаток времени" in exported.text and '"id"' not in exported.text

    listing = f"{web}/events/{second}/surveys"
    token = csrf_token(browser.get(listing).text)
    imported = browser.post(
        f"{listing}/import",
        data={"csrf_token": token},
        files={"definition": ("survey.json", exported.content, "application/json")},
        allow_redirects=False,
    )
    assert imported.status_code == 303, imported.text[:300]
    copies = call(live_system, "feedback", "GET", f"/events/{second}/surveys")["items"]
    assert [(c["title"], c["status"], c["questions_count"]) for c in copies] == [
        ("Анкета курса", "draft", len(EVERY_KIND) - 1)  # the section is no question
    ]
    # Not a definition: a clear message, nothing created.
    junk = browser.post(
        f"{listing}/import",
        data={"csrf_token": token},
        files={"definition": ("survey.json", b"<html>not json", "application/json")},
    )
    assert "Этот файл не является описанием опроса" in junk.text
    assert len(call(live_system, "feedback", "GET", f"/events/{second}/surveys")["items"]) == 1


# --- answering on the personal link ---------------------------------------------------------------


def answer_page(system, token: str, survey_id: int) -> str:
    return f"{system.web_url}/p/{token}/surveys/{survey_id}"


def test_participant_answers_saves_as_they_go_and_submits(live_system, db_backend):
    event_id = make_event(live_system)
    person = add_participant(live_system, event_id, 1, region_code="23", organisation="МФЦ Сочи")
    survey = build_survey(live_system, event_id, EVERY_KIND)
    questions = {q["kind"]: q for q in survey["questions"]}
    phone = requests.Session()
    listing = phone.get(f"{live_system.web_url}/p/{person['token']}/surveys")
    assert listing.status_code == 200 and "Опрос участников" in listing.text
    assert "ещё не отвечали" in listing.text
    assert listing.headers["Referrer-Policy"] == "no-referrer"
    url = answer_page(live_system, person["token"], survey["id"])
    page = phone.get(url)
    assert page.status_code == 200 and "Насколько полезен был курс?" in page.text
    token = csrf_token(page.text)
    single, multiple = questions["single"], questions["multiple"]

    # htmx saves on every change: the status line comes back, nothing else of the page.
    partial = phone.post(
        url,
        data={
            "csrf_token": token,
            f"q{multiple['id']}": [option_ids(multiple)["Недостаток времени"], "other"],
            f"q{multiple['id']}-other": "Нет ноутбука",
        },
        headers={"HX-Request": "true"},
    )
    assert partial.status_code == 200 and "Сохранено в" in partial.text and "<html" not in partial.text
    saved = call(
        live_system, "feedback", "GET", f"/surveys/{survey['id']}/responses/by-participant/{person['id']}"
    )
    assert saved["submitted"] is False
    assert saved["answers"][str(multiple["id"])] == {
        "choices": [option_ids(multiple)["Недостаток времени"]],
        "other": "Нет ноутбука",
    }

    # A bad answer on an htmx save: its message lands next to that question, out of band.
    bad = phone.post(
        url, data={"csrf_token": token, f"q{questions['nps']['id']}": "11"}, headers={"HX-Request": "true"}
    )
    assert bad.status_code == 200
    oob = re.search(
        rf'<p class="field-error" id="q{questions["nps"]["id"]}-error"[^>]*hx-swap-oob="true">([^<]*)</p>',
        bad.text,
    )
    assert oob and "от 0 до 10" in oob.group(1)

    # Submitting without the required rating: refused, the message next to the question, answers kept.
    refused = phone.post(
        url,
        data={
            "csrf_token": token,
            "action": "submit",
            f"q{single['id']}": option_ids(single)["Да"],
            f"q{questions['long_text']['id']}": "Больше практики",
        },
    )
    assert refused.status_code == 422
    rating_error = re.search(rf'id="q{questions["rating"]["id"]}-error" role="alert">([^<]+)<', refused.text)
    assert rating_error and "обязательный" in rating_error.group(1)
    assert "Больше практики" in refused.text
    assert (
        call(
            live_system, "feedback", "GET", f"/surveys/{survey['id']}/responses/by-participant/{person['id']}"
        )["submitted"]
        is False
    )

    sent = phone.post(
        url,
        data={
            "csrf_token": token,
            "action": "submit",
            f"q{questions['rating']['id']}": "5",
            f"q{single['id']}": option_ids(single)["Да"],
            f"q{questions['nps']['id']}": "9",
            f"q{multiple['id']}": [option_ids(multiple)["Недостаток времени"]],
            f"q{questions['long_text']['id']}": "Больше практики",
        },
        allow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["Location"].endswith(f"/p/{person['token']}/surveys")
    done = call(
        live_system, "feedback", "GET", f"/surveys/{survey['id']}/responses/by-participant/{person['id']}"
    )
    assert done["submitted"] is True and done["answers"][str(questions["rating"]["id"])] == 5
    # The form shows it back, editable; the list says it is answered.
    again = phone.get(url).text
    assert 'value="5" checked' in again and "Вы отправили ответы" in again
    assert "отвечено" in phone.get(f"{live_system.web_url}/p/{person['token']}/surveys").text

    # Closed: the page says so politely and shows what they answered; a late save is refused.
    call(live_system, "feedback", "POST", f"/surveys/{survey['id']}/close")
    closed = phone.get(url)
    assert closed.status_code == 200 and "Опрос закрыт" in closed.text and "Больше практики" in closed.text
    late = phone.post(
        url, data={"csrf_token": token, "action": "submit", f"q{questions['rating']['id']}": "1"}
    )
    assert late.status_code == 409 and "Опрос закрыт" in late.text
    assert 'value="5" checked' in late.text and 'value="1" checked' not in late.text  # what is saved
    assert (
        call(
            live_system, "feedback", "GET", f"/surveys/{survey['id']}/responses/by-participant/{person['id']}"
        )["answers"][str(questions["rating"]["id"])]
        == 5
    )


def test_a_participant_reaches_only_their_own_answers(live_system):
    event_id, other_event = make_event(live_system), make_event(live_system, slug="other-course")
    anna, boris = add_participant(live_system, event_id, 1), add_participant(live_system, event_id, 2)
    stranger = add_participant(live_system, other_event, 3)
    survey = build_survey(live_system, event_id, [{"kind": "long_text", "text": "Что улучшить?"}])
    elsewhere = build_survey(live_system, other_event, [{"kind": "long_text", "text": "Чужой вопрос"}])
    draft = call(
        live_system,
        "feedback",
        "POST",
        f"/events/{event_id}/surveys",
        json={"title": "Черновик", "questions": [{"kind": "rating", "text": "Оценка"}]},
    )
    question = str(survey["questions"][0]["id"])
    call(
        live_system,
        "feedback",
        "PUT",
        f"/surveys/{survey['id']}/responses/by-participant/{anna['id']}",
        json={"answers": {question: "Секрет Анны"}, "submit": True},
    )

    phone = requests.Session()
    assert "Секрет Анны" in phone.get(answer_page(live_system, anna["token"], survey["id"])).text
    # Boris, on the same survey, sees his own (empty) form, never Anna's answers.
    boris_page = phone.get(answer_page(live_system, boris["token"], survey["id"]))
    assert boris_page.status_code == 200 and "Секрет Анны" not in boris_page.text
    # Another event's survey, a draft, an unknown survey or token: not found, and nothing is written.
    for token, survey_id in (
        (anna["token"], elsewhere["id"]),
        (anna["token"], draft["id"]),
        (anna["token"], 999999),
        ("x" * 43, survey["id"]),
        (stranger["token"], survey["id"]),
    ):
        url = answer_page(live_system, token, survey_id)
        assert phone.get(url).status_code == 404, url
    token = csrf_token(phone.get(answer_page(live_system, boris["token"], survey["id"])).text)
    stolen = phone.post(
        answer_page(live_system, stranger["token"], survey["id"]),
        data={"csrf_token": token, "action": "submit", f"q{question}": "Чужое"},
    )
    assert stolen.status_code == 404
    assert (
        requests.get(
            f"{live_system.urls['feedback']}/api/v1/surveys/{survey['id']}/responses/by-participant/{stranger['id']}",
            headers=auth_headers(),
            timeout=10,
        ).status_code
        == 404
    )


def test_answer_forms_refuse_posts_without_the_csrf_token(live_system, staff_factory):
    event_id = make_event(live_system)
    person = add_participant(live_system, event_id, 1)
    survey = build_survey(live_system, event_id, [{"kind": "rating", "text": "Оценка"}], anonymous=True)
    named = build_survey(live_system, event_id, [{"kind": "rating", "text": "Оценка"}])
    question = f"q{survey['questions'][0]['id']}"
    for url in (
        f"{live_system.web_url}/s/{survey['public_token']}",
        answer_page(live_system, person["token"], named["id"]),
    ):
        response = requests.post(url, data={question: "5", "action": "submit"})
        assert response.status_code == 400 and "Форма устарела" in response.text, url
    browser = organiser(live_system, staff_factory)
    for path in (
        f"/surveys/{named['id']}/close",
        f"/surveys/{named['id']}/questions",
        f"/events/{event_id}/surveys/sessions",
    ):
        assert browser.post(live_system.web_url + path, data={}).status_code == 400, path
    assert survey_of(live_system, named["id"])["status"] == "open"
    assert call(live_system, "feedback", "GET", f"/surveys/{survey['id']}")["responses_count"] == 0


# --- the anonymous link ---------------------------------------------------------------------------


class HeaderLog:
    """Wraps a service's WSGI app to keep the headers of every request it gets."""

    def __init__(self, app):
        self.app, self.seen = app.wsgi_app, []
        app.wsgi_app = self

    def __call__(self, environ, start_response):
        self.seen.append((environ["PATH_INFO"], {k: v for k, v in environ.items() if k.startswith("HTTP_")}))
        return self.app(environ, start_response)


def test_the_anonymous_link_answers_once_per_browser_and_sends_nothing_about_the_person(
    live_system, staff_factory, db_backend
):
    event_id = make_event(live_system)
    survey = build_survey(live_system, event_id, EVERY_KIND, anonymous=True)
    questions = {q["kind"]: q for q in survey["questions"]}
    link = f"{live_system.web_url}/s/{survey['public_token']}"
    seen = HeaderLog(live_system.apps["feedback"])
    # An organiser trying the link while logged in: still nobody's answers.
    browser = organiser(live_system, staff_factory)
    page = browser.get(link)
    assert page.status_code == 200 and "анонимный" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer" and "no-store" in page.headers["Cache-Control"]
    token = csrf_token(page.text)
    answers = {
        "csrf_token": token,
        f"q{questions['rating']['id']}": "4",
        f"q{questions['single']['id']}-other": "Второй раз",
        f"q{questions['nps']['id']}": "10",
    }
    sent = browser.post(link, data=answers, allow_redirects=False)
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/done")
    cookie = next(c for c in browser.cookies if c.name == "survey_key")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.path == "/s/" and len(cookie.value) >= 32
    assert "Спасибо" in browser.get(live_system.web_url + sent.headers["Location"]).text

    again = browser.post(link, data=answers)
    assert again.status_code == 409 and "уже ответили" in again.text
    for path, headers in seen.seen:
        if "/public-surveys/" in path:
            assert "HTTP_X_STAFF_USER" not in headers and "HTTP_X_DEVICE" not in headers, headers
    # Another browser answers too; a required question left empty is refused next to it.
    other = requests.Session()
    other_token = csrf_token(other.get(link).text)
    missing = other.post(link, data={"csrf_token": other_token, f"q{questions['nps']['id']}": "3"})
    assert missing.status_code == 422
    assert re.search(rf'id="q{questions["rating"]["id"]}-error" role="alert">[^<]*обязательный', missing.text)
    assert (
        other.post(
            link,
            data={"csrf_token": other_token, f"q{questions['rating']['id']}": "2"},
            allow_redirects=False,
        ).status_code
        == 303
    )
    assert call(live_system, "feedback", "GET", f"/surveys/{survey['id']}")["responses_count"] == 2
    # The personal list links to the anonymous survey's own link, which has no personal token in it.
    person = add_participant(live_system, event_id, 7)
    listing = requests.get(f"{live_system.web_url}/p/{person['token']}/surveys").text
    assert f'href="/s/{survey["public_token"]}" rel="noreferrer"' in listing
    assert (
        requests.get(answer_page(live_system, person["token"], survey["id"]), allow_redirects=False).headers[
            "Location"
        ]
        == f"/s/{survey['public_token']}"
    )


def test_an_anonymous_link_of_a_closed_or_draft_survey(live_system):
    event_id = make_event(live_system)
    survey = build_survey(live_system, event_id, [{"kind": "rating", "text": "Оценка"}], anonymous=True)
    call(live_system, "feedback", "POST", f"/surveys/{survey['id']}/close")
    closed = requests.get(f"{live_system.web_url}/s/{survey['public_token']}")
    assert closed.status_code == 200 and "Опрос закрыт" in closed.text and "<fieldset" not in closed.text
    draft = call(
        live_system,
        "feedback",
        "POST",
        f"/events/{event_id}/surveys",
        json={"title": "Черновик", "anonymous": True, "questions": [{"kind": "rating", "text": "?"}]},
    )
    assert requests.get(f"{live_system.web_url}/s/{draft['public_token']}").status_code == 404
    assert requests.get(f"{live_system.web_url}/s/{'x' * 43}").status_code == 404


# --- results -------------------------------------------------------------------------------------


def test_results_page_reads_at_a_glance_in_russian(live_system, staff_factory, db_backend):
    event_id = make_event(live_system)
    survey = build_survey(live_system, event_id, EVERY_KIND, min_group_size=3)
    q = {item["kind"]: item for item in survey["questions"]}
    multiple, single = option_ids(q["multiple"]), option_ids(q["single"])
    # Nine respondents: six from Краснодарский край (23), three from Ростовская область (61).
    rows = [
        ("23", 5, [multiple["Недостаток времени"], multiple["Отсутствие мотивации"]], 10, single["Да"]),
        ("23", 5, [multiple["Недостаток времени"]], 9, single["Да"]),
        ("23", 4, [multiple["Недостаток времени"]], 9, single["Нет"]),
        ("23", 4, [multiple["Недостаток компетенций"]], 8, single["Да"]),
        (
            "23",
            5,
            [multiple["Недостаток времени"], multiple["Недостаток компетенций"]],
            3,
            {"other": "Не помню"},
        ),
        ("23", 4, [multiple["Недостаток времени"]], 10, single["Да"]),
        ("61", 5, [multiple["Отсутствие мотивации"]], 6, single["Нет"]),
        ("61", 4, [multiple["Недостаток времени"]], 10, single["Да"]),
        ("61", 4, {"choices": [], "other": "Нет ноутбука"}, 9, single["Да"]),
    ]
    for n, (region, rating, chosen, nps, first_time) in enumerate(rows, 1):
        person = add_participant(live_system, event_id, n, region_code=region, organisation=f"МФЦ {region}")
        call(
            live_system,
            "feedback",
            "PUT",
            f"/surveys/{survey['id']}/responses/by-participant/{person['id']}",
            json={
                "answers": {
                    str(q["rating"]["id"]): rating,
                    str(q["multiple"]["id"]): chosen,
                    str(q["nps"]["id"]): nps,
                    str(q["single"]["id"]): first_time,
                    str(q["long_text"]["id"]): f"Отзыв {n}",
                },
                "submit": True,
                "respondent": {"region_code": region, "organisation": f"МФЦ {region}"},
            },
        )
    browser = organiser(live_system, staff_factory)
    page = browser.get(f"{live_system.web_url}/surveys/{survey['id']}/results")
    assert page.status_code == 200, page.text[:500]
    text = text_of(page.text)
    assert "9 респондентов" in text
    # 6 of 9 chose «Недостаток времени»: 67 %, with N and the count; shares add up to more than 100 %.
    assert "Недостаток времени 67 % (6)" in text
    assert "N = 9" in text and "больше 100%" in text
    assert "Нет ноутбука" in text and "Не помню" in text
    # Mean 40/9 = 4,44 with a decimal comma; NPS: 6 promoters, 2 detractors of 9 → 67 − 22 = +44.
    assert "4,44 средняя оценка из 5" in text
    assert "+44" in text and "Критики (0–6): 22 % (2)" in text and "Промоутеры (9–10): 67 % (6)" in text
    assert page.text.count("<svg") >= 4 and '<rect class="bar-fill"' in page.text
    assert "Отзыв 9" in text
    # The cross-tab: Краснодарский край has its row; Ростовская область (3 people) is a group of its own.
    assert "Краснодарский край" in text and "Ростовская область" in text
    # A filter on a region: figures of that region only; the smaller one is withheld by the API.
    filtered = text_of(browser.get(f"{live_system.web_url}/surveys/{survey['id']}/results?region=23").text)
    assert "6 респондентов" in filtered
    # A region and an organisation together: МФЦ 23 is all of region 23, so that group shows; a region
    # with another region's organisation is nobody, withheld.
    results_url = f"{live_system.web_url}/surveys/{survey['id']}/results"
    both = text_of(browser.get(results_url, params={"region": "23", "organisation": "МФЦ 23"}).text)
    assert "6 респондентов" in both and "Краснодарский край · МФЦ 23" in both
    nobody = text_of(browser.get(results_url, params={"region": "23", "organisation": "МФЦ 61"}).text)
    assert "Скрыто" in nobody and "6 респондентов" not in nobody


def test_results_withhold_small_groups_and_export(live_system, staff_factory):
    event_id = make_event(live_system)
    survey = build_survey(live_system, event_id, [{"kind": "rating", "text": "Оценка"}], min_group_size=5)
    question = str(survey["questions"][0]["id"])
    for n in range(1, 8):
        region = "23" if n <= 5 else "61"
        person = add_participant(live_system, event_id, n, region_code=region)
        call(
            live_system,
            "feedback",
            "PUT",
            f"/surveys/{survey['id']}/responses/by-participant/{person['id']}",
            json={
                "answers": {question: 5 if n % 2 else 3},
                "submit": True,
                "respondent": {"region_code": region, "organisation": None},
            },
        )
    browser = organiser(live_system, staff_factory)
    small = text_of(browser.get(f"{live_system.web_url}/surveys/{survey['id']}/results?region=61").text)
    assert "Скрыто" in small and "меньше 5" in small
    # Neither region is offered as a filter: 2 in one would show as 7 − 5 in the other (the API keeps that).
    assert "Краснодарский край (" not in small and "Ростовская область (" not in small
    whole = text_of(browser.get(f"{live_system.web_url}/surveys/{survey['id']}/results").text)
    assert "7 респондентов" in whole and "Скрыто" not in whole
    summary = browser.get(f"{live_system.web_url}/surveys/{survey['id']}/summary.xlsx")
    assert summary.status_code == 200 and summary.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    sheet = load_workbook(io.BytesIO(summary.content)).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert any("Оценка" in c for c in cells)
    responses = browser.get(f"{live_system.web_url}/surveys/{survey['id']}/responses.csv")
    assert responses.status_code == 200 and responses.headers["Content-Disposition"].startswith("attachment")


def test_response_rate_is_against_participants_checked_in(live_system, staff_factory):
    event_id = make_event(live_system)
    survey = build_survey(live_system, event_id, [{"kind": "rating", "text": "Оценка"}], min_group_size=2)
    question = str(survey["questions"][0]["id"])
    people = [add_participant(live_system, event_id, n) for n in range(1, 5)]
    for person in people:  # all four checked in at the door
        call(
            live_system,
            "certificates",
            "POST",
            f"/events/{event_id}/checkins",
            json={
                "nonce": f"nonce-{person['id']}-{time.time_ns()}",
                "day": "2026-10-07",
                "session_id": None,
                "scanned_at": "2026-10-07T07:00:00+00:00",
                "raw_code": person["code"],
                "participant": {
                    "id": person["id"],
                    "event_id": event_id,
                    "status": "registered",
                    "full_name": person["full_name"],
                },
            },
        )
    for person in people[:3]:
        call(
            live_system,
            "feedback",
            "PUT",
            f"/surveys/{survey['id']}/responses/by-participant/{person['id']}",
            json={"answers": {question: 4}, "submit": True},
        )
    browser = organiser(live_system, staff_factory)
    text = text_of(browser.get(f"{live_system.web_url}/surveys/{survey['id']}/results").text)
    assert "75 % из 4 отмеченных" in text


# --- who may open what -----------------------------------------------------------------------------

#: every survey page of the organisers; ids need not exist, the policy answers first
ORGANISER_PAGES = [
    ("GET", "/events/1/surveys"),
    ("GET", "/events/1/surveys/new"),
    ("POST", "/events/1/surveys/new"),
    ("POST", "/events/1/surveys/sessions"),
    ("POST", "/events/1/surveys/import"),
    ("GET", "/surveys/1"),
    ("POST", "/surveys/1/settings"),
    ("POST", "/surveys/1/open"),
    ("POST", "/surveys/1/close"),
    ("POST", "/surveys/1/delete"),
    ("GET", "/surveys/1/definition.json"),
    ("POST", "/surveys/1/questions"),
    ("GET", "/surveys/1/questions/1/edit"),
    ("POST", "/surveys/1/questions/1/edit"),
    ("POST", "/surveys/1/questions/1/move"),
    ("POST", "/surveys/1/questions/1/delete"),
    ("GET", "/surveys/1/results"),
    ("GET", "/surveys/1/results?region=23&question_id=1"),
    ("GET", "/surveys/1/responses.xlsx"),
    ("GET", "/surveys/1/responses.csv"),
    ("GET", "/surveys/1/summary.xlsx"),
    ("GET", "/surveys/1/summary.csv"),
]


@pytest.mark.parametrize(("method", "path"), ORGANISER_PAGES, ids=[f"{m} {p}" for m, p in ORGANISER_PAGES])
def test_check_in_staff_get_403_on_every_survey_page(gateway, method, path):
    for role, allowed in (("checkin", False), ("organiser", True), ("admin", True), (None, False)):
        browser, token = as_role(gateway, role)
        response = open_page(browser, token, method, path)
        if role is None:
            assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
        elif allowed:
            assert response.status_code not in (302, 403), (role, response.status_code)
        else:
            assert response.status_code == 403, (role, response.status_code)
            assert "нет доступа к этой странице" in response.get_data(as_text=True)


def test_every_survey_page_is_in_the_matrix(gateway):
    """A new organisers' survey page must be added above, so its 403 for check-in staff is tested."""
    listed = {re.sub(r"\?.*", "", path) for _, path in ORGANISER_PAGES}
    for rule in gateway.url_map.iter_rules():
        if rule.endpoint.startswith("surveys."):
            example = re.sub(r"<(?:int:)?\w+>", "1", rule.rule)
            example = example.replace(
                "<any(responses, summary):table>.<any(xlsx, csv):file_format>", "responses.xlsx"
            )
            assert example in listed, rule.rule


def test_results_in_the_event_page_only_link_for_organisers(live_system, staff_factory):
    event_id = make_event(live_system)
    build_survey(live_system, event_id, [{"kind": "rating", "text": "Оценка"}])
    checkin = organiser(live_system, staff_factory, "checkin")
    page = checkin.get(f"{live_system.web_url}/events/{event_id}").text
    assert "/results" not in page and f"/events/{event_id}/surveys" not in page
    organiser_page = (
        organiser(live_system, staff_factory).get(f"{live_system.web_url}/events/{event_id}").text
    )
    assert "/results" in organiser_page and f"/events/{event_id}/surveys" in organiser_page


def test_settings_and_deletion_refused_once_answers_exist(live_system, staff_factory):
    event_id = make_event(live_system)
    person = add_participant(live_system, event_id, 1)
    survey = build_survey(live_system, event_id, [{"kind": "rating", "text": "Оценка"}])
    question = str(survey["questions"][0]["id"])
    call(
        live_system,
        "feedback",
        "PUT",
        f"/surveys/{survey['id']}/responses/by-participant/{person['id']}",
        json={"answers": {question: 5}, "submit": True},
    )
    browser = organiser(live_system, staff_factory)
    builder = f"{live_system.web_url}/surveys/{survey['id']}"
    refused = post_form(
        browser,
        f"{builder}/settings",
        {"title": "Опрос участников", "min_group_size": "5", "anonymous": "y"},
        builder,
    )
    assert refused.status_code == 422
    assert "уже есть ответы: сделать его анонимным" in text_of(refused.text)
    assert survey_of(live_system, survey["id"])["anonymous"] is False
    renamed = post_form(
        browser, f"{builder}/settings", {"title": "Итоги курса", "min_group_size": "6"}, builder
    )
    assert renamed.status_code == 303
    assert (
        survey_of(live_system, survey["id"])["title"],
        survey_of(live_system, survey["id"])["min_group_size"],
    ) == ("Итоги курса", 6)
    assert "Удалить" not in text_of(browser.get(builder).text).split("Настройки")[0]
    deleted = post_form(browser, f"{builder}/delete", {}, builder)
    assert deleted.status_code == 303 and deleted.headers["Location"].endswith(f"/surveys/{survey['id']}")
    assert "удалить его нельзя" in browser.get(builder).text
    assert survey_of(live_system, survey["id"])["title"] == "Итоги курса"
