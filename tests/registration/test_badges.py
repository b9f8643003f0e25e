"""Badges: eight to an A4 sheet, each with the name, organisation, region, code and a QR code."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.registration.support import registration_api

SURNAMES = ["Абрамова", "Белов", "Ёлкина", "Григорьев", "Дмитриева", "Егоров", "Жукова", "Зайцев", "Ильина"]


@pytest.fixture
def nine(app_factory):
    api = registration_api(app_factory)
    event_id = api.event()
    people = [
        api.participant(
            event_id,
            surname=surname,
            first_name="Анна",
            email=f"p{i}@example.org",
            organisation="МФЦ <Южный>",
            region_code="61",
        )
        for i, surname in enumerate(SURNAMES)
    ]
    return api, event_id, people


def pdf_text(response) -> tuple[int, str]:
    assert response.status_code == 200, response.data[:500]
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_nine_badges_take_two_sheets(nine):
    api, event_id, people = nine
    pages, text = pdf_text(api.get(f"/events/{event_id}/badges.pdf"))
    assert pages == 2
    for person in people:
        assert person["surname"] in text
        assert person["code"] in text
    assert "МФЦ <Южный>" in text  # markup in data is printed as text
    assert "Ростовская область" in text


def test_cancelled_participants_get_no_badge_unless_asked_for(nine):
    api, event_id, people = nine
    api.post(f"/events/{event_id}/participants/{people[0]['id']}/cancel")
    pages, text = pdf_text(api.get(f"/events/{event_id}/badges.pdf"))
    assert pages == 1 and "Абрамова" not in text
    chosen = f"{people[0]['id']},{people[2]['id']}"
    pages, text = pdf_text(api.get(f"/events/{event_id}/badges.pdf", query_string={"ids": chosen}))
    assert pages == 1 and "Абрамова" in text and "Ёлкина" in text and "Белов" not in text


def test_bad_ids_and_nobody_to_print(nine):
    api, event_id, _people = nine
    assert api.get(f"/events/{event_id}/badges.pdf", query_string={"ids": "1;DROP"}).status_code == 422
    other = api.event(slug="other")
    assert api.get(f"/events/{other}/badges.pdf").status_code == 404
