"""Security headers on every response of the gateway, and templates the Content-Security-Policy allows.

(tests/browser/test_content_security_policy.py opens the pages in Chromium with the policy active.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.web.support import as_role

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (None, "/login"),
        (None, "/healthz"),
        (None, "/static/js/app.js"),
        (None, "/no/such/page"),  # the 404 page
        (None, "/events/1/register"),  # its service is down here: the 503 page
        (None, "/p/some-token"),
        ("organiser", "/"),
        ("organiser", "/events/1/participants"),
    ],
)
def test_every_response_carries_the_security_headers(gateway, role, path):
    browser, _ = as_role(gateway, role)
    response = browser.get(path)
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'", "no inline script, no eval"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["img-src"] == "'self' data:"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_pages_under_a_personal_token_send_no_referer_at_all(gateway):
    browser, _ = as_role(gateway, None)
    for path in ("/p/some-token", "/p/some-token/surveys", "/s/some-public-token"):
        assert browser.get(path).headers["Referrer-Policy"] == "no-referrer", path


def test_pages_other_than_the_check_in_screen_refuse_the_camera(gateway):
    """The screen itself allows it (camera=(self)); tests/browser/test_content_security_policy.py opens it
    with its services running."""
    browser, _ = as_role(gateway, "checkin")
    for path in ("/", "/checkin", "/login"):
        assert browser.get(path).headers["Permissions-Policy"].startswith("camera=()"), path


#: what a Content-Security-Policy without 'unsafe-inline' / 'unsafe-eval' for scripts refuses
INLINE_SCRIPT = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an inline event handler (onclick=, onsubmit= ...)"),
    (re.compile(r"\b(?:data-)?hx-on", re.I), "hx-on (htmx evaluates it)"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
    (re.compile(r"hx-(?:trigger|vals|vars)=\"[^\"]*(?:\[|js:)"), "an htmx filter or js: value (eval)"),
]


def test_no_template_has_inline_script_or_what_htmx_would_eval():
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text()
        for pattern, what in INLINE_SCRIPT:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{template.relative_to(TEMPLATES)}:{line}: {what}")
    assert not found, "\n".join(found)
