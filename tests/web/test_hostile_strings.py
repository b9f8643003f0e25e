"""Hostile strings in every gateway form and query: whatever a person or a script types, the gateway answers
with a page or a refusal, never a 5xx.

The forms are not listed by hand: the sweep walks the pages an administrator can reach on a course with a
session, participants, a survey and an open registration, collects every form and every link with a query,
and sends each string in every field at once. Bounded: one form per URL shape (ids folded), a fixed list of
strings, downloads and logout left out, so it runs in well under a minute.
"""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import requests

from tests.conftest import auth_headers
from tests.web.support import api, csrf_token, make_course, staff_session

HOSTILE = [
    "\x00",
    "ООО\x01Ромашка",
    "1" + "0" * 20,  # 10^20: no integer column holds it
    "x" * 5000,
    "\u202eтекст справа налево\u202c",
    "=cmd|' /C calc'!A0",
    "<script>alert(1)</script>",
    "a\r\nX-Injected: 1",
    "../../../etc/passwd",
    "' OR 1=1 --",
    "👩\u200d👩\u200d👧 　",
]
#: bytes no browser sends but a script can: a lone surrogate (CESU-8), an overlong NUL, broken UTF-8
RAW_FORM_VALUES = [b"%ED%A0%80", b"%C0%80", b"%FF%FE"]
#: pages past which the walk stops; a course's pages are about forty
MAX_PAGES = 90
SKIPPED = re.compile(r"logout|\.(pdf|xlsx|csv|zip)\b|/export|/download|badges|frdo", re.IGNORECASE)


class _Page(HTMLParser):
    """The links and forms of a page: (method, action, {field: value})."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.forms: list[tuple[str, str, dict]] = []
        self._form: tuple[str, str, dict] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        for key in ("hx-get", "hx-post"):
            if attrs.get(key) and tag != "form":
                method = "get" if key == "hx-get" else "post"
                self.forms.append((method, attrs[key], {attrs.get("name") or "q": ""}))
        if tag == "form":
            method = (attrs.get("method") or "get").lower()
            self._form = (method, attrs.get("action") or "", {})
            self.forms.append(self._form)
        elif tag in ("input", "select", "textarea") and attrs.get("name"):
            form = self._form
            if attrs.get("form"):  # a field of a form elsewhere on the page
                form = None
            if form is not None and attrs.get("type") != "file":
                form[2][attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def _shape(url: str) -> str:
    """/events/3/participants/17/edit?q=x → /events/N/participants/N/edit, so one of each is sent."""
    return re.sub(r"/\d+", "/N", urlsplit(url).path)


def _walk(browser: requests.Session, web: str, starts: list[str]) -> tuple[list, set[str]]:
    seen, queue, forms, queried = set(), list(starts), {}, set()
    while queue and len(seen) < MAX_PAGES:
        url = urljoin(web, queue.pop(0)).split("#")[0]
        if not url.startswith(web) or url in seen or SKIPPED.search(url):
            continue
        seen.add(url)
        response = browser.get(url, allow_redirects=False)
        assert response.status_code < 500, (url, response.status_code)
        if "text/html" not in response.headers.get("Content-Type", ""):
            continue
        page = _Page()
        page.feed(response.text)
        for href in page.links:
            target = urljoin(url, href)
            if urlsplit(target).query:
                queried.add(target)
            queue.append(target)
        for method, action, fields in page.forms:
            target = urljoin(url, action or url)
            if target.startswith(web) and not SKIPPED.search(target):
                forms.setdefault((method, _shape(target)), (method, target, fields))
    return list(forms.values()), queried


def test_no_hostile_string_in_any_gateway_form_gets_a_5xx(live_system, staff_factory):
    started = time.monotonic()
    web = live_system.web_url
    course = make_course(live_system)
    api(live_system, "PATCH", f"/api/v1/events/{course.id}", json={"registration_open": True})
    feedback = live_system.urls["feedback"] + "/api/v1"
    survey = requests.post(
        f"{feedback}/events/{course.id}/surveys",
        headers=auth_headers(),
        timeout=10,
        json={
            "title": "Оценка курса",
            "questions": [
                {"kind": "rating", "text": "Насколько полезен курс?"},
                {"kind": "long_text", "text": "Что ещё?"},
            ],
        },
    ).json()
    requests.post(f"{feedback}/surveys/{survey['id']}/open", headers=auth_headers(), timeout=10)
    token = course.people["elkin"]["token"]
    browser = staff_session(live_system, staff_factory, "admin")
    forms, queried = _walk(
        browser,
        web,
        [
            "/",
            f"/events/{course.id}",
            f"/events/{course.id}/participants",
            f"/events/{course.id}/participants/new",
            f"/events/{course.id}/participants/{course.people['elkin']['id']}/edit",
            f"/events/{course.id}/import",
            f"/events/{course.id}/checkin?day={course.day}",
            f"/events/{course.id}/attendance",
            f"/events/{course.id}/surveys",
            f"/surveys/{survey['id']}",
            f"/surveys/{survey['id']}/results",
            f"/p/{token}/surveys/{survey['id']}",
            f"/events/{course.id}/register",
            f"/p/{token}",
            "/verify",
            "/staff",
            "/status",
        ],
    )
    assert len(forms) >= 15, [f[1] for f in forms]  # the walk found the forms, or the sweep proves nothing
    csrf = csrf_token(browser.get(f"{web}/events/{course.id}/participants/new").text)
    # Staff accounts last: a hostile «active» or password sent to one's own account may end the session.
    forms.sort(key=lambda form: "/staff" in form[1])
    failures = []

    def check(response, what):
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {what}")

    for method, url, fields in forms:
        names = [name for name in fields if name != "csrf_token"] or ["q"]
        for value in HOSTILE:
            data = {**dict.fromkeys(names, value), "csrf_token": csrf}
            if method == "post":
                response = browser.post(url, data=data, allow_redirects=False)
            else:
                response = browser.get(url, params=data, allow_redirects=False)
            check(response, f"{method.upper()} {url} {value[:30]!r}")
        for raw in RAW_FORM_VALUES:
            body = "&".join(f"{name}={raw.decode()}" for name in names) + f"&csrf_token={csrf}"
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            if method == "post":
                response = browser.post(url, data=body.encode(), headers=headers, allow_redirects=False)
            else:
                response = browser.get(f"{url}{'&' if '?' in url else '?'}{body}", allow_redirects=False)
            check(response, f"{method.upper()} {url} raw {raw!r}")
    for url in sorted(queried)[:40]:
        parts = urlsplit(url)
        names = [name for name, _value in parse_qsl(parts.query, keep_blank_values=True)]
        for value in HOSTILE[:3] + HOSTILE[6:8]:
            query = urlencode(dict.fromkeys(names, value))
            check(
                browser.get(f"{parts.scheme}://{parts.netloc}{parts.path}?{query}", allow_redirects=False),
                url,
            )
    # ids no column holds, and control characters, in the paths themselves
    for path in (
        f"/events/{10**20}",
        f"/events/{course.id}/participants/{10**20}/edit",
        f"/events/{course.id}/checkin?day=2026-13-45",
        "/verify/%00",
        "/verify/%ED%A0%80",
        "/p/%00abc",
        "/p/" + "x" * 5000,
    ):
        check(browser.get(web + path, allow_redirects=False), path)
    # the one JSON body a gateway page sends (checkin.js), with what JSON can carry and UTF-8 cannot
    scan = browser.post(
        f"{web}/events/{course.id}/checkin/scan",
        data=b'{"nonce": "n", "day": "'
        + course.day.encode()
        + b'", "code": "\\ud800\\u0000", "participant_id": 1e400}',
        headers={"Content-Type": "application/json", "X-CSRFToken": csrf, "HX-Request": "true"},
    )
    check(scan, "checkin scan JSON")

    assert not failures, f"{len(failures)} 5xx answers, e.g.:\n" + "\n".join(failures[:15])
    assert time.monotonic() - started < 60
