"""An event's certificate policy: the ПК floor, numbering templates, images checked for what they are,
and every refusal in the caller's language."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from tests.certificates.support import POLICY


def png(size=(40, 20), fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_no_policy_yet_is_a_translated_404(course):
    response = course.get(f"/events/{course.event_id}/policy")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert "политик" in response.json["detail"]
    assert "policy" in course.get(f"/events/{course.event_id}/policy", lang="en").json["detail"]


def test_saved_policy_reads_back_with_defaults_and_who_saved_it(course):
    created = course.put(f"/events/{course.event_id}/policy", json=POLICY)
    assert created.status_code == 201, created.json
    body = created.json
    assert body["number_template"] == "ПК-{year}-{seq:04}"
    assert body["number_example"].startswith("ПК-") and body["number_example"].endswith("-0001")
    assert body["organisation_key"] == "юриу ранхигс"
    assert (body["completion_rule"], body["min_hours_percent"], body["required_hours"]) == ("hours", 75, 18)
    assert body["updated_by"] == "organiser-1 (organiser)"
    changed = course.put(
        f"/events/{course.event_id}/policy",
        json={
            **POLICY,
            "completion_rule": "both",
            "min_hours_percent": 80,
            "number_template": "{year}/{seq}",
            "door_counts_sessions": True,
        },
    )
    assert changed.status_code == 200
    again = course.get(f"/events/{course.event_id}/policy").json
    assert (again["completion_rule"], again["required_hours"], again["door_counts_sessions"]) == (
        "both",
        20,
        True,
    )
    assert again["number_example"].endswith("/1")


def test_a_pk_programme_under_16_hours_is_refused_in_russian_and_english(course):
    ru = course.put(f"/events/{course.event_id}/policy", json={**POLICY, "academic_hours": 15})
    assert ru.status_code == 422
    [error] = ru.json["errors"]
    assert (error["field"], error["code"]) == ("academic_hours", "below_pk_minimum")
    assert "16" in error["message"] and "академических" in error["message"]
    en = course.put(f"/events/{course.event_id}/policy", lang="en", json={**POLICY, "academic_hours": 15})
    assert "16 academic hours" in en.json["errors"][0]["message"]
    assert course.get(f"/events/{course.event_id}/policy").status_code == 404  # nothing half-written
    assert (
        course.put(f"/events/{course.event_id}/policy", json={**POLICY, "academic_hours": 16}).status_code
        == 201
    )


@pytest.mark.parametrize(
    "template, code",
    [
        ("ПК-{year}", "needs_seq"),
        ("ПК-{seq}-{seq}", "needs_seq"),
        ("ПК-{month}-{seq}", "bad_placeholder"),
        ("ПК-{seq:4}", "bad_placeholder"),
        ("ПК-{year:04}-{seq}", "bad_placeholder"),
        ("{seq} }", "bad_placeholder"),
        ("Удостоверение о повышении квалификации № {year}-{seq:06}", "too_long"),
    ],
)
def test_number_templates_allow_only_year_and_seq(course, template, code):
    response = course.put(f"/events/{course.event_id}/policy", json={**POLICY, "number_template": template})
    assert response.status_code == 422, response.json
    [error] = response.json["errors"]
    assert (error["field"], error["code"]) == ("number_template", code)
    assert any("а" <= ch <= "я" for ch in error["message"].lower())


def test_statements_need_their_own_template(course):
    response = course.put(
        f"/events/{course.event_id}/policy",
        json={**POLICY, "number_template": "A-{seq}", "statement_number_template": "A{seq:03}-"},
    )
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "statement_number_template"


def test_images_are_checked_by_what_they_are(course):
    logo, jpeg = png(), png(fmt="JPEG")
    saved = course.put(
        f"/events/{course.event_id}/policy",
        json={**POLICY, "logo": b64(logo), "signature": "data:image/jpeg;base64," + b64(jpeg)},
    )
    assert saved.status_code == 201, saved.json
    assert (saved.json["logo_mime"], saved.json["signature_mime"]) == ("image/png", "image/jpeg")
    image = course.get(f"/events/{course.event_id}/policy/images/logo")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data == logo

    # null keeps the stored image, "" removes it
    kept = course.put(
        f"/events/{course.event_id}/policy", json={**POLICY, "logo": None, "signature": ""}
    ).json
    assert (kept["logo_mime"], kept["signature_mime"]) == ("image/png", None)

    forged = b"\x89PNG\r\n\x1a\n" + b"not really a picture" * 10
    for body, code in [
        (b64(forged), "not_an_image"),
        (b64(b"GIF89a" + b"0" * 50), "not_an_image"),
        ("%%%", "not_base64"),
        (b64(b"\x89PNG\r\n\x1a\n" + b"0" * (1024 * 1024)), "too_large"),
    ]:
        refused = course.put(f"/events/{course.event_id}/policy", json={**POLICY, "logo": body})
        assert refused.status_code == 422, refused.json
        assert (refused.json["errors"][0]["field"], refused.json["errors"][0]["code"]) == ("logo", code)
    assert course.get(f"/events/{course.event_id}/policy/images/logo").data == logo  # unchanged


def test_an_image_uploaded_on_its_own(course):
    course.set_policy()
    path = f"/events/{course.event_id}/policy/images/signature"
    assert course.put(path, data=png(), content_type="image/png").status_code == 204
    assert course.get(f"/events/{course.event_id}/policy").json["signature_mime"] == "image/png"
    refused = course.put(path, data=b"\xff\xd8\xff" + b"junk" * 20, content_type="image/jpeg")
    assert refused.status_code == 422 and refused.json["errors"][0]["code"] == "not_an_image"
    assert "PNG" in refused.json["errors"][0]["message"]
    assert course.client.delete(f"/api/v1{path}", headers={**course_headers()}).status_code == 204
    assert course.get(path).status_code == 404
    assert course.put(f"/events/{course.event_id}/policy/images/portrait", data=png()).status_code == 404


def course_headers():
    from tests.certificates.support import organiser_headers

    return organiser_headers()


def test_a_policy_for_an_unknown_event_is_refused(course):
    response = course.put(f"/events/{course.event_id + 1000}/policy", json=POLICY)
    assert response.status_code == 404
    assert "мероприяти" in response.json["detail"]
