"""The gateway's certificate pages, the participant's personal page and verification, against the real
services over HTTP (and, for who may open what, against a gateway whose services are unreachable)."""

from __future__ import annotations

import pytest

from tests.web.test_access import as_role, gateway, open_page  # noqa: F401 (gateway is a fixture)

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
def test_only_organisers_open_certificate_pages(gateway, role, method, path):  # noqa: F811
    browser, token = as_role(gateway, role)
    response = open_page(browser, token, method, path)
    if role in ORGANISERS:
        # Past the policy: the unreachable service answers, as a clear 503 page.
        assert response.status_code == 503, response.get_data(as_text=True)[:300]
    else:
        assert response.status_code == 403
        assert "нет доступа к этой странице" in response.get_data(as_text=True)


@pytest.mark.parametrize(("method", "path"), PAGES, ids=[f"{m} {p}" for m, p in PAGES])
def test_certificate_pages_send_strangers_to_the_login_page(gateway, method, path):  # noqa: F811
    browser, token = as_role(gateway, None)
    response = open_page(browser, token, method, path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", ["/events/1/certificates/issue", "/events/1/certificates/1/revoke",
                                  "/events/1/certificates/1/reissue", "/events/1/certificates/policy",
                                  "/events/1/certificates/eligibility/1/override"])
def test_every_certificate_form_needs_its_csrf_token(gateway, path):  # noqa: F811
    browser, _token = as_role(gateway, "organiser")
    response = browser.post(path, data={"reason": "ошибка"})
    assert response.status_code == 400
    assert "Форма устарела" in response.get_data(as_text=True)
