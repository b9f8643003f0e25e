"""The gateway's certificate pages, the participant's personal page and verification, against the real
services over HTTP (and, for who may open what, against a gateway whose services are unreachable)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
import requests

from tests.conftest import REDIS_URL, auth_headers
from tests.web.support import (
    add_participant,
    api,
    as_role,
    csrf_token,
    logged_in_session,
    make_event,
    open_page,
)

ORGANISERS = {"organiser", "admin"}
ROLES = ("checkin", "organiser", "admin")

#: every organiser's certificate page; ids need not exist, the policy answers before any service is asked
PAGES = [
    ("GET", "/events/1/certificates"),
    ("GET", "/events/1/certificates/policy"),
    ("POST", "/events/1/certificates/policy"),
    ("GET", "/events/1/certificates/eligibility"),
    ("GET", "/events/1/certificates/eligibility/1"),
    ("GET", "/events/1/certificates/eligibility/1/override"),
    ("POST", "/events/1/certificates/eligibility/1/override"),
    ("POST", "/events/1/certificates/issue"),
    ("GET", "/events/1/certificates/batches/1"),
    ("GET", "/events/1/certificates/1.pdf"),
    ("GET", "/events/1/certificates.zip"),
    ("GET", "/events/1/frdo.xlsx"),
    ("GET", "/events/1/certificates/1/revoke"),
    ("POST", "/events/1/certificates/1/revoke"),
    ("POST", "/events/1/certificates/1/reissue"),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path"), PAGES, ids=[f"{m} {p}" for m, p in PAGES])
def test_only_organisers_open_certificate_pages(gateway, role, method, path):
    browser, token = as_role(gateway, role)
    response = open_page(browser, token, method, path)
    if role in ORGANISERS:
        # Past the policy: the unreachable service answers, as a clear 503 page.
        assert response.status_code == 503, response.get_data(as_text=True)[:300]
    else:
        assert response.status_code == 403
        assert "нет доступа к этой странице" in response.get_data(as_text=True)


@pytest.mark.parametrize(("method", "path"), PAGES, ids=[f"{m} {p}" for m, p in PAGES])
def test_certificate_pages_send_strangers_to_the_login_page(gateway, method, path):
    browser, token = as_role(gateway, None)
    response = open_page(browser, token, method, path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize(
    "path",
    [
        "/events/1/certificates/issue",
        "/events/1/certificates/1/revoke",
        "/events/1/certificates/1/reissue",
        "/events/1/certificates/policy",
        "/events/1/certificates/eligibility/1/override",
    ],
)
def test_every_certificate_form_needs_its_csrf_token(gateway, path):
    browser, _token = as_role(gateway, "organiser")
    response = browser.post(path, data={"reason": "ошибка"})
    assert response.status_code == 400
    assert "Форма устарела" in response.get_data(as_text=True)


# --- against the live services ---------------------------------------------------------------------

DAYS = ("2026-10-07", "2026-10-08")
#: two days of two four-hour sessions: a 16-hour ПК programme
SLOTS = (("09:30", "13:00"), ("14:00", "17:30"))
POLICY = {
    "programme_title": "Цифровые коммуникации МФЦ",
    "academic_hours": 16,
    "organisation": "ЮРИУ РАНХиГС",
    "place": "Сочи",
    "completion_rule": "hours",
    "min_hours_percent": 75,
    "number_template": "ПК-{year}-{seq:04}",
    "statement_number_template": "СО-{year}-{seq:04}",
    "signatory_name": "А. В. Воронцов",
    "signatory_title": "Директор",
}


def certificates_api(system, method: str, path: str, **kwargs):
    response = requests.request(
        method, system.urls["certificates"] + path, headers=auth_headers(), timeout=30, **kwargs
    )
    assert response.status_code < 400, response.text
    return response.json() if response.content else None


@dataclass
class TrainedCourse:
    event_id: int
    sessions: list[dict]
    #: by surname: Ёлкин came to everything, Смирнова missed the second day, Петров cancelled
    people: dict[str, dict]


def make_trained_course(system) -> TrainedCourse:
    event_id = make_event(system)
    sessions = [
        api(
            system,
            "POST",
            f"/api/v1/events/{event_id}/sessions",
            json={
                "day": day,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "title": f"Занятие {day} {starts_at}",
                "kind": "lecture",
                "academic_hours": 4,
            },
        )
        for day in DAYS
        for starts_at, ends_at in SLOTS
    ]
    people = {
        "Ёлкин": add_participant(
            system, event_id, "Ёлкин", "elkin@example.ru", patronymic="Иванович", gender="male"
        ),
        "Смирнова": add_participant(
            system, event_id, "Смирнова", "smirnova@example.ru", first_name="Анна", gender="female"
        ),
        "Петров": add_participant(system, event_id, "Петров", "petrov@example.ru", gender="male"),
    }
    present = {"Ёлкин": DAYS, "Смирнова": DAYS[:1], "Петров": DAYS}
    for programme_session in sessions:
        ids = [people[name]["id"] for name, days in present.items() if programme_session["day"] in days]
        certificates_api(
            system,
            "POST",
            f"/api/v1/events/{event_id}/attendance/bulk",
            json={
                "nonce": str(uuid.uuid4()),
                "day": programme_session["day"],
                "session_id": programme_session["id"],
                "participant_ids": ids,
                "participants": [
                    {"id": p["id"], "event_id": event_id, "status": "registered", "full_name": p["full_name"]}
                    for p in people.values()
                    if p["id"] in ids
                ],
            },
        )
    api(system, "POST", f"/api/v1/events/{event_id}/participants/{people['Петров']['id']}/cancel")
    return TrainedCourse(event_id, sessions, people)


def with_policy(system, course: TrainedCourse, **changes) -> TrainedCourse:
    certificates_api(system, "PUT", f"/api/v1/events/{course.event_id}/policy", json={**POLICY, **changes})
    return course


def render_queued(system) -> None:
    """Runs the queued render jobs in this process with a real RQ worker on the test Redis."""
    from rq import Queue, SimpleWorker

    from eventops.queue import connect
    from services.certificates.tasks import QUEUE_NAME

    connection = connect(REDIS_URL)
    SimpleWorker([Queue(QUEUE_NAME, connection=connection)], connection=connection).work(burst=True)


@pytest.fixture
def renders_here(monkeypatch, database_url, tmp_path):
    """Render jobs run in this process read the same database and storage as the live services."""
    monkeypatch.setenv("CERTIFICATES_DATABASE_URL", database_url)
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "storage"))
    monkeypatch.setenv("REDIS_URL", REDIS_URL)


def send_form(browser: requests.Session, url: str, page_url: str, data: dict, files=None, **kwargs):
    """Opens the page the form is on (for its CSRF token), then sends the form as a browser would."""
    token = csrf_token(browser.get(page_url).text)
    return browser.post(url, data={**data, "csrf_token": token}, files=files, allow_redirects=False, **kwargs)


def png(width: int = 40, height: int = 20) -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (width, height), (31, 78, 121)).save(out, "PNG")
    return out.getvalue()


def policy_form(**changes) -> dict:
    values = {
        "programme_kind": "ПК",
        **{k: str(v) for k, v in POLICY.items()},
        "organisation_key": "",
        "door_counts_sessions": "",
        "issue_statements": "",
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v != ""}


def test_the_policy_form_saves_and_puts_the_services_refusals_next_to_the_fields(
    live_system, staff_factory, db_backend
):
    web = live_system.web_url
    course = make_trained_course(live_system)
    browser = logged_in_session(web, *staff_factory("organiser"))
    url = f"{web}/events/{course.event_id}/certificates/policy"
    first = browser.get(url)
    assert first.status_code == 200
    assert 'value="ПК-{year}-{seq:04}"' in first.text, "a new policy starts from the usual template"

    refused = send_form(
        browser,
        url,
        url,
        policy_form(academic_hours="12", number_template="ПК-{month}"),
        files={"logo": ("logo.png", b"not an image at all", "image/png")},
    )
    assert refused.status_code == 422
    page = refused.text
    assert re.search(r'id="academic_hours-error">[^<]*16', page), "the ПК floor, next to the hours"
    assert re.search(r'id="number_template-error">[^<]*\{year\}', page), "the template rule, next to it"
    assert 'value="Цифровые коммуникации МФЦ"' in page, "what was typed stays"
    assert (
        requests.get(
            live_system.urls["certificates"] + f"/api/v1/events/{course.event_id}/policy",
            headers=auth_headers(),
            timeout=10,
        ).status_code
        == 404
    ), "nothing half-saved"

    bad_image = send_form(
        browser, url, url, policy_form(), files={"logo": ("logo.png", b"GIF89a not a png", "image/png")}
    )
    assert bad_image.status_code == 422
    assert re.search(r'id="logo-error">[^<]*PNG', bad_image.text)

    saved = send_form(
        browser,
        url,
        url,
        policy_form(door_counts_sessions="y"),
        files={"logo": ("logo.png", png(), "image/png")},
    )
    assert saved.status_code == 303, re.findall(r"(?:error|alert)[^>]*>[^<]*", saved.text)
    stored = certificates_api(live_system, "GET", f"/api/v1/events/{course.event_id}/policy")
    assert stored["academic_hours"] == 16 and stored["door_counts_sessions"] is True
    assert stored["logo_mime"] == "image/png" and stored["signature_mime"] is None
    again = browser.get(url).text
    assert "ПК-2026-0001" in again or "ПК-20" in again, "the form shows what the numbers will look like"
    assert f"/events/{course.event_id}/certificates/policy/images/logo" in again
    image = browser.get(f"{web}/events/{course.event_id}/certificates/policy/images/logo")
    assert image.status_code == 200 and image.content == png()


def test_policy_messages_follow_the_persons_language(live_system, staff_factory):
    web = live_system.web_url
    course = make_trained_course(live_system)
    browser = logged_in_session(web, *staff_factory("organiser"))
    browser.post(
        f"{web}/language", data={"lang": "en", "csrf_token": csrf_token(browser.get(f"{web}/").text)}
    )
    url = f"{web}/events/{course.event_id}/certificates/policy"
    refused = send_form(browser, url, url, policy_form(academic_hours="12"))
    assert refused.status_code == 422
    assert re.search(r'id="academic_hours-error">[^<]*at least 16', refused.text)
    assert "Certificate policy" in refused.text or "Policy" in refused.text


def test_the_eligibility_list_explains_counts_and_filters(live_system, staff_factory, db_backend):
    web = live_system.web_url
    course = with_policy(live_system, make_trained_course(live_system))
    browser = logged_in_session(web, *staff_factory("organiser"))
    page = browser.get(f"{web}/events/{course.event_id}/certificates/eligibility")
    assert page.status_code == 200
    text = page.text
    elkin, smirnova, petrov = (course.people[n]["id"] for n in ("Ёлкин", "Смирнова", "Петров"))
    assert re.search(rf'id="participant-{elkin}" data-eligible="yes"', text)
    assert re.search(rf'id="participant-{smirnova}" data-eligible="no"', text)
    assert re.search(rf'id="participant-{petrov}" data-eligible="no"', text), "cancelled: never eligible"
    assert "посещено 8 из 16" in text and "нужно 12" in text, "the reason in words"
    assert "Выдать удостоверения" in text

    only_not = browser.get(
        f"{web}/events/{course.event_id}/certificates/eligibility?show=not_eligible",
        headers={"HX-Request": "true"},
    )
    assert only_not.status_code == 200 and "<html" not in only_not.text, "htmx gets the list alone"
    assert (
        f'id="participant-{smirnova}"' in only_not.text and f'id="participant-{elkin}"' not in only_not.text
    )
    only_yes = browser.get(f"{web}/events/{course.event_id}/certificates/eligibility?show=eligible").text
    assert f'id="participant-{elkin}"' in only_yes and f'id="participant-{smirnova}"' not in only_yes
    assert (
        browser.get(f"{web}/events/{course.event_id}/certificates/eligibility?show=nonsense").status_code
        == 200
    )


def test_an_override_needs_a_reason_and_says_who_decided(live_system, staff_factory, db_backend):
    web = live_system.web_url
    course = with_policy(live_system, make_trained_course(live_system))
    username, password = staff_factory("organiser")
    browser = logged_in_session(web, username, password)
    smirnova = course.people["Смирнова"]["id"]
    url = f"{web}/events/{course.event_id}/certificates/eligibility/{smirnova}/override"
    form = browser.get(url)
    assert form.status_code == 200 and re.search(r'<input checked[^>]* value="1">', form.text), (
        "the form offers the other decision"
    )

    refused = send_form(browser, url, url, {"eligible": "1", "reason": "  "})
    assert refused.status_code == 422
    assert re.search(r'id="reason-error">[^<]+', refused.text), "the reason is required, said next to it"
    assert (
        certificates_api(live_system, "GET", f"/api/v1/events/{course.event_id}/eligibility")["summary"][
            "eligible"
        ]
        == 1
    )

    # Under htmx the answer is the changed row, with the counts swapped out of band.
    token = csrf_token(browser.get(url).text)
    changed = browser.post(
        url,
        data={"eligible": "1", "reason": "болела, занималась по записи", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert changed.status_code == 200
    assert changed.text.lstrip().startswith(f'<tr id="participant-{smirnova}" data-eligible="yes"')
    assert 'id="eligibility-counts" hx-swap-oob="true"' in changed.text
    assert "болела, занималась по записи" in changed.text and username in changed.text
    items = certificates_api(live_system, "GET", f"/api/v1/events/{course.event_id}/eligibility")["items"]
    decided = next(i for i in items if i["participant_id"] == smirnova)
    assert decided["eligible"] and not decided["computed_eligible"] and decided["override"]["by"] == username
    # The form's «Cancel» draws the one row again, as the list shows it, decision and all.
    row = browser.get(url.removesuffix("/override"), headers={"HX-Request": "true"})
    assert row.status_code == 200 and "<html" not in row.text
    assert row.text.lstrip().startswith(f'<tr id="participant-{smirnova}" data-eligible="yes"')
    assert "болела, занималась по записи" in row.text and f'hx-get="{url.removeprefix(web)}"' in row.text

    # Back to what attendance says: no reason needed; without htmx the answer is a redirect.
    cleared = send_form(browser, url, url, {"eligible": "", "reason": ""})
    assert cleared.status_code == 303
    items = certificates_api(live_system, "GET", f"/api/v1/events/{course.event_id}/eligibility")["items"]
    assert not next(i for i in items if i["participant_id"] == smirnova)["eligible"]


def issue_all(system, browser, course: TrainedCourse, statements: bool = False) -> dict:
    web = system.web_url
    page = f"{web}/events/{course.event_id}/certificates/eligibility"
    data = {"statements": "1"} if statements else {}
    started = send_form(
        browser,
        f"{web}/events/{course.event_id}/certificates/issue",
        page,
        data,
        headers={"HX-Request": "true"},
    )
    assert started.status_code == 200, started.text[:500]
    return {"fragment": started.text}


def test_issuing_shows_a_progress_bar_that_polls_itself_until_done(
    live_system, staff_factory, renders_here, redis_connection, db_backend
):
    web = live_system.web_url
    course = with_policy(live_system, make_trained_course(live_system))
    browser = logged_in_session(web, *staff_factory("organiser"))
    fragment = issue_all(live_system, browser, course, statements=True)["fragment"]
    assert fragment.lstrip().startswith('<div id="batch-progress"')
    assert 'hx-trigger="load delay:500ms"' in fragment and 'hx-swap="outerHTML"' in fragment
    batch_url = re.search(r'hx-get="([^"]+)"', fragment).group(1)
    assert "0 из 2" in fragment, "Ёлкин's certificate and Смирнова's statement; Петров is cancelled"

    # The organiser left and came back: the list of issued documents shows the running batch.
    issued = browser.get(f"{web}/events/{course.event_id}/certificates").text
    assert 'id="batch-progress"' in issued and batch_url in issued

    render_queued(live_system)
    finished = browser.get(web + batch_url, headers={"HX-Request": "true"})
    done = finished.text
    assert 'data-done="yes"' in done and "hx-trigger" not in done, "a finished bar stops polling"
    assert "2 из 2" in done
    # ... and tells the lists on the page to draw themselves again, which they can do alone.
    assert finished.headers["HX-Trigger"] == "certificates-issued"
    for path in ("certificates", "certificates/eligibility"):
        part = browser.get(f"{web}/events/{course.event_id}/{path}", headers={"HX-Request": "true"}).text
        assert "<html" not in part and 'hx-trigger="certificates-issued from:body"' in part
        assert "ПК-" in part

    certificates = certificates_api(live_system, "GET", f"/api/v1/events/{course.event_id}/certificates")[
        "items"
    ]
    assert sorted((c["kind"], c["participant_id"]) for c in certificates) == sorted(
        [("certificate", course.people["Ёлкин"]["id"]), ("statement", course.people["Смирнова"]["id"])]
    )
    listing = browser.get(f"{web}/events/{course.event_id}/certificates").text
    assert 'id="batch-progress"' not in listing
    for c in certificates:
        assert c["number"] in listing
        pdf = browser.get(f"{web}/events/{course.event_id}/certificates/{c['id']}.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        assert pdf.headers["Content-Disposition"].startswith("attachment")
        assert "no-store" in pdf.headers["Cache-Control"]
    # The event page tells the truth: one удостоверение (the справка is not one).
    event_page = browser.get(f"{web}/events/{course.event_id}").text
    assert "выдано 1 удостоверение" in event_page.lower() or "1 удостоверение выдано" in event_page.lower()

    # Another event's URL does not reach this event's document.
    other = make_event(live_system, slug="other-2026")
    assert browser.get(f"{web}/events/{other}/certificates/{certificates[0]['id']}.pdf").status_code == 404
    zipped = browser.get(f"{web}/events/{course.event_id}/certificates.zip")
    assert zipped.status_code == 200 and zipped.content.startswith(b"PK")
    frdo = browser.get(f"{web}/events/{course.event_id}/frdo.xlsx")
    assert frdo.status_code == 200 and frdo.content.startswith(b"PK")


def test_issuing_without_htmx_redirects_to_the_batch_page(live_system, staff_factory, redis_connection):
    web = live_system.web_url
    course = with_policy(live_system, make_trained_course(live_system))
    browser = logged_in_session(web, *staff_factory("organiser"))
    page = f"{web}/events/{course.event_id}/certificates/eligibility"
    started = send_form(browser, f"{web}/events/{course.event_id}/certificates/issue", page, {})
    assert started.status_code == 303
    assert re.search(rf"/events/{course.event_id}/certificates/batches/\d+$", started.headers["Location"])
    batch_page = browser.get(web + started.headers["Location"])
    assert batch_page.status_code == 200 and "<progress" in batch_page.text
    other = make_event(live_system, slug="other-2026")
    assert (
        browser.get(
            web + started.headers["Location"].replace(f"/events/{course.event_id}/", f"/events/{other}/")
        ).status_code
        == 404
    ), "a batch of another event"


def issued_course(system, browser, renders_here) -> tuple[TrainedCourse, dict]:
    course = with_policy(system, make_trained_course(system))
    issue_all(system, browser, course)
    render_queued(system)
    certificate = certificates_api(system, "GET", f"/api/v1/events/{course.event_id}/certificates")["items"][
        0
    ]
    return course, certificate


def test_the_participant_downloads_their_own_certificate_and_nobody_elses(
    live_system, staff_factory, renders_here, redis_connection, db_backend
):
    web = live_system.web_url
    browser = logged_in_session(web, *staff_factory("organiser"))
    course, certificate = issued_course(live_system, browser, renders_here)
    elkin, smirnova = course.people["Ёлкин"], course.people["Смирнова"]

    phone = requests.Session()
    page = phone.get(f"{web}/p/{elkin['token']}")
    assert page.status_code == 200
    assert "Скачать удостоверение" in page.text and certificate["number"] in page.text
    assert "16 из 16" in page.text, "attendance in hours"
    assert page.text.count('<span class="mark">присутствовал</span>') == 2, "both days, agreeing with him"
    assert page.headers["Referrer-Policy"] == "no-referrer" and "no-store" in page.headers["Cache-Control"]
    pdf = phone.get(f"{web}/p/{elkin['token']}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["Referrer-Policy"] == "no-referrer" and "no-store" in pdf.headers["Cache-Control"]
    from io import BytesIO

    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(pdf.content)).pages)
    assert "Ёлкин" in text

    # Смирнова has no certificate: her page says why, her link gives no PDF, and nothing of Ёлкин's.
    hers = phone.get(f"{web}/p/{smirnova['token']}")
    assert '<span class="mark missed">отсутствовала</span>' in hers.text, "the second day, agreeing with her"
    assert "Скачать удостоверение" not in hers.text and certificate["number"] not in hers.text
    assert "не был" in hers.text or "нужно" in hers.text, "the reason in words"
    assert phone.get(f"{web}/p/{smirnova['token']}/certificate.pdf").status_code == 404
    # No participant page takes an id; the organisers' download by id needs an organiser's login.
    assert phone.get(f"{web}/p/{elkin['id']}/certificate.pdf").status_code == 404
    assert phone.get(f"{web}/p/{elkin['token']}x/certificate.pdf").status_code == 404
    by_id = phone.get(
        f"{web}/events/{course.event_id}/certificates/{certificate['id']}.pdf", allow_redirects=False
    )
    assert by_id.status_code == 302 and "/login" in by_id.headers["Location"]


def test_revoking_and_reissuing_show_on_the_verification_page(
    live_system, staff_factory, renders_here, redis_connection, db_backend
):
    web = live_system.web_url
    browser = logged_in_session(web, *staff_factory("organiser"))
    course, certificate = issued_course(live_system, browser, renders_here)
    code = certificate["verification_code"]
    anyone = requests.Session()
    valid = anyone.get(f"{web}/verify/{code.lower()}")
    assert valid.status_code == 200 and "Документ действителен" in valid.text
    assert "Ёлкин Пётр Иванович" in valid.text and certificate["number"] in valid.text
    assert "elkin@example.ru" not in valid.text and course.people["Ёлкин"]["token"] not in valid.text
    assert (
        anyone.get(f"{web}/verify", params={"code": f" {code} "}, allow_redirects=False)
        .headers["Location"]
        .endswith(f"/verify/{code}")
    )

    # A name correction, then a new version: the old one says it was replaced and links to the new one.
    api(
        live_system,
        "PATCH",
        f"/api/v1/events/{course.event_id}/participants/{course.people['Ёлкин']['id']}",
        json={"first_name": "Пётр", "patronymic": "Ильич"},
    )
    listing = f"{web}/events/{course.event_id}/certificates"
    reissued = send_form(
        browser, f"{web}/events/{course.event_id}/certificates/{certificate['id']}/reissue", listing, {}
    )
    assert reissued.status_code == 303
    render_queued(live_system)
    items = certificates_api(live_system, "GET", f"/api/v1/events/{course.event_id}/certificates")["items"]
    newer = next(c for c in items if c["version"] == 2)
    old = anyone.get(f"{web}/verify/{code}").text
    assert "заменён новой версией" in old and f"/verify/{newer['verification_code']}" in old

    # Revoking with a reason kept private: the page says revoked and when, not why.
    url = f"{web}/events/{course.event_id}/certificates/{newer['id']}/revoke"
    refused = send_form(browser, url, url, {"reason": ""})
    assert refused.status_code == 422 and re.search(r'id="reason-error">', refused.text)
    revoked = send_form(browser, url, url, {"reason": "выдан по ошибке"})
    assert revoked.status_code == 303
    page = anyone.get(f"{web}/verify/{newer['verification_code']}").text
    assert "Документ отозван" in page and "выдан по ошибке" not in page
    assert re.search(r"Отозван \d+ \w+ 20\d\d г\.", page)
    assert "Скачать" not in anyone.get(f"{web}/p/{course.people['Ёлкин']['token']}").text


def test_a_public_revocation_reason_is_shown_and_unknown_codes_are_a_404(
    live_system, staff_factory, renders_here, redis_connection
):
    web = live_system.web_url
    browser = logged_in_session(web, *staff_factory("organiser"))
    course, certificate = issued_course(live_system, browser, renders_here)
    url = f"{web}/events/{course.event_id}/certificates/{certificate['id']}/revoke"
    assert (
        send_form(browser, url, url, {"reason": "курс не завершён", "reason_public": "y"}).status_code == 303
    )
    page = requests.get(f"{web}/verify/{certificate['verification_code']}").text
    assert "Документ отозван" in page and "курс не завершён" in page
    missing = requests.get(f"{web}/verify/AAAAA-BBBBB-CCCCC-DDDDD")
    assert missing.status_code == 404 and "Удостоверение с таким кодом не найдено" in missing.text


def test_verification_is_rate_limited(live_system):
    web = live_system.web_url
    statuses = [requests.get(f"{web}/verify/AAAAA-BBBBB-CCCCC-{i:05}").status_code for i in range(31)]
    assert statuses[:30] == [404] * 30 and statuses[30] == 429, statuses
