"""Badges: eight to an A4 sheet, each with the name, organisation, region, code and a QR code."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from services.registration import badges
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


def test_the_qr_opens_the_personal_page_at_the_gateways_public_address(app_factory, monkeypatch):
    encoded = []
    make = badges.segno.make
    monkeypatch.setattr(
        badges.segno, "make", lambda content, **kw: encoded.append(content) or make(content, **kw)
    )
    api = registration_api(app_factory, public_url="https://kurs.example.ru/")
    event_id = api.event()
    anna = api.participant(event_id, surname="Иванова", first_name="Анна", email="anna@example.org")
    pdf_text(api.get(f"/events/{event_id}/badges.pdf"))
    assert encoded == [f"https://kurs.example.ru/p/{anna['token']}"]


def words(text: str) -> str:
    return " ".join(text.split())


TITLE = (
    "Цифровые коммуникации и эффективный диалог с гражданами в многофункциональных центрах «Мои документы»"
)
ORGANISATION = (
    "Государственное автономное учреждение «Многофункциональный центр предоставления государственных "
    "и муниципальных услуг в Республике Татарстан», филиал в Приволжском районе"
)


def test_long_titles_and_organisations_are_fitted_not_clipped(app_factory):
    api = registration_api(app_factory)
    event_id = api.event(title=TITLE)
    api.participant(
        event_id,
        surname="Константинопольская-Преображенская",
        first_name="Анна-Мария",
        patronymic="Александровна",
        email="long@example.org",
        organisation=ORGANISATION,
    )
    pages, text = pdf_text(api.get(f"/events/{event_id}/badges.pdf"))
    text = words(text)
    assert pages == 1
    assert TITLE in text  # the end of «Мои документы» too: the title wraps in smaller type
    assert words(ORGANISATION) in text and "…" not in text
    assert "Константинопольская-Преображенская" in words(text.replace("- ", "-"))
    assert "Анна-Мария Александровна" in text


def test_what_no_size_holds_ends_with_an_ellipsis_not_a_silent_cut(app_factory):
    api = registration_api(app_factory)
    event_id = api.event()
    endless = "Очень длинное название организации " * 12
    api.participant(
        event_id, surname="Ильина", first_name="Анна", email="i@example.org", organisation=endless
    )
    _pages, text = pdf_text(api.get(f"/events/{event_id}/badges.pdf"))
    text = words(text)
    assert "Очень длинное название организации Очень" in text and "…" in text
    assert "Ильина" in text and "Анна" in text


def test_sizes_are_chosen_by_length():
    assert badges.size_for("МФЦ", badges.ORGANISATION_SIZES) == "fits"
    assert badges.size_for(ORGANISATION, badges.ORGANISATION_SIZES) == "smallest"
    assert badges.size_for(TITLE, badges.EVENT_SIZES) == "smaller"
    assert badges.size_for(None, badges.SURNAME_SIZES) == "fits"


def laid_out(title: str, **person):
    """The badge of `person` for an event called `title`, laid out by WeasyPrint: (badge, its texts)."""
    from types import SimpleNamespace

    from weasyprint import HTML

    renderer = badges.BadgeRenderer()
    fields = dict(first_name="Анна", patronymic=None, organisation="", region_code=None, code="ABC123")
    participant = SimpleNamespace(**{**fields, **person, "token": "t" * 43})
    html = renderer.templates.get_template("badges.html").render(
        event=SimpleNamespace(title=title),
        event_size=badges.size_for(title, badges.EVENT_SIZES),
        sheets=[[badges.badge(participant, "https://x.example")]],
    )
    document = HTML(string=html, base_url=str(badges.TEMPLATES)).render(
        stylesheets=[renderer.stylesheet], font_config=renderer.font_config
    )

    def find_badge(box):
        element = getattr(box, "element", None)
        if element is not None and element.get("class") == "badge":
            return box
        return next(filter(None, (find_badge(child) for child in getattr(box, "children", []))), None)

    badge = find_badge(document.pages[0]._page_box)
    return badge, [child for child in badge.children if child.element.get("class") != "pass"]


def clipped(badge, texts) -> list[str]:
    """The texts with a line below their own box (hidden by overflow) or a box below the badge's edge."""
    bottom = badge.content_box_y() + badge.height
    cut = []
    for text in texts:
        box_bottom = text.content_box_y() + text.height
        lines_bottom = max((line.position_y + line.height for line in text.children), default=box_bottom)
        if lines_bottom > box_bottom + 0.01 or text.position_y + text.margin_height() > bottom + 0.01:
            cut.append(text.element.get("class"))
    return cut


def test_no_line_of_a_long_badge_is_hidden():
    badge, texts = laid_out(
        TITLE,
        surname="Константинопольская-Преображенская",
        first_name="Анна-Мария",
        patronymic="Александровна",
        organisation=ORGANISATION,
        region_code="86",
    )
    assert clipped(badge, texts) == []


def test_the_longest_of_everything_still_ends_inside_the_badge():
    badge, texts = laid_out(
        "Цифровые коммуникации и эффективный диалог с гражданами " * 4,
        surname="Константинопольская-Преображенская",
        first_name="Анна-Мария",
        patronymic="Александровна",
        organisation="Очень длинное название организации " * 12,
        region_code="86",  # Ханты-Мансийский автономный округ — Югра: two lines
    )
    assert [t.element.get("class").split()[0] for t in texts][-1] == "region"
    assert clipped(badge, texts) == []
