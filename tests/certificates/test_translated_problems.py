"""Every refusal of the certificates service speaks the caller's language: Russian by default (the detail
and each field message contain Cyrillic), English when asked (they do not)."""

from __future__ import annotations

import re

import pytest

from tests.certificates.helpers import POLICY

CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


def refusals(course, participant_id: int, certificate_id: int) -> list[tuple[str, str, dict]]:
    """(method, path, request kwargs) of requests that must be refused."""
    e = course.event_id
    return [
        ("get", f"/events/{e + 999}/policy", {}),
        ("put", f"/events/{e}/policy", {"json": {**POLICY, "academic_hours": 8}}),
        ("put", f"/events/{e}/policy", {"json": {**POLICY, "number_template": "{month}"}}),
        ("put", f"/events/{e}/policy", {"json": {**POLICY, "programme_title": ""}}),
        ("put", f"/events/{e}/policy/images/logo", {"data": b"GIF89a"}),
        ("get", f"/events/{e}/policy/images/signature", {}),
        ("get", f"/events/{e + 999}/eligibility", {}),
        ("put", f"/events/{e}/eligibility/{participant_id}/override", {"json": {"eligible": True}}),
        ("put", f"/events/{e}/eligibility/999999/override", {"json": {"eligible": True, "reason": "x"}}),
        ("post", f"/events/{e + 999}/issue", {"json": {}}),
        ("get", "/batches/999999", {}),
        ("get", "/certificates/999999", {}),
        ("post", f"/certificates/{certificate_id}/revoke", {"json": {"reason": ""}}),
        ("post", "/certificates/999999/reissue", {}),
        ("get", f"/events/{e}/participants/999999/record", {}),
        ("get", f"/events/{e}/participants/{participant_id}/certificate.pdf", {}),
        ("get", f"/certificates/{certificate_id}/pdf", {}),
        ("get", "/verify/NOPE", {}),
        ("post", "/checkins/999999/undo", {"json": {"nonce": "n" * 10}}),
        ("post", f"/events/{e}/checkins", {"json": {"nonce": "x"}}),
    ]


@pytest.fixture
def setting(course):
    done = course.add("Иванов", "Иван", gender="male")
    course.attend_all_sessions([done])
    course.set_policy()
    course.issue()
    [document] = course.documents()
    return course, course.add("Петров", "Пётр"), document["id"]


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_refusal_is_in_the_callers_language(setting, lang):
    course, participant_id, certificate_id = setting
    checked = 0
    for method, path, kwargs in refusals(course, participant_id, certificate_id):
        call = getattr(course.client, method)
        response = call(f"/api/v1{path}", headers={**_headers(lang)}, **kwargs)
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert response.mimetype == "application/problem+json", path
        texts = [response.json["detail"]] + [e["message"] for e in response.json.get("errors", [])]
        for text in texts:
            if lang == "ru":
                assert CYRILLIC.search(text), (path, text)
            else:
                assert not CYRILLIC.search(text.replace("ПК", "")), (path, text)
        checked += 1
    assert checked == 20


def _headers(lang):
    from tests.certificates.helpers import organiser_headers

    return organiser_headers(lang)
