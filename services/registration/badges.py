"""Badges as a PDF: eight 90 × 55 mm badges to an A4 sheet, each with a QR code of the personal page.

A check-in scanner reads the QR and types the personal-page URL; the lookup API finds the token in it.
The URL starts with the gateway's public address (Settings.public_url), which the API passes in.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cached_property, lru_cache
from pathlib import Path

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from services.registration.models import Event, Participant
from services.registration.regions import region_name

TEMPLATES = Path(__file__).parent / "templates"
BADGES_PER_SHEET = 8

# A badge cannot grow, and a title or an organisation cut off mid-word reads as a mistake. So each text
# gets the largest type that lets it wrap into its lines (badges.css: how many lines each size has), chosen
# by its length; only a text longer than the smallest size holds ends with «…» (never a silent clip).
#: (the longest text a size holds, its class in badges.css), largest type first
EVENT_SIZES = ((80, "fits"), (135, "smaller"), (None, "smallest"))
SURNAME_SIZES = ((14, "fits"), (22, "smaller"), (None, "smallest"))
GIVEN_NAMES_SIZES = ((18, "fits"), (None, "smaller"))
ORGANISATION_SIZES = ((90, "fits"), (140, "smaller"), (None, "smallest"))


def personal_page_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/p/{token}"


class BadgeRenderer:
    """Holds what is expensive to set up (fonts, parsed CSS, templates); render() is then cheap."""

    def __init__(self) -> None:
        # Autoescape: a name or an organisation is data, never markup.
        self.templates = Environment(
            loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"])
        )
        self.font_config = FontConfiguration()
        # One rendering at a time: the font configuration is shared and badges are printed rarely.
        self.lock = threading.Lock()

    @cached_property
    def stylesheet(self) -> CSS:
        return CSS(filename=str(TEMPLATES / "badges.css"), font_config=self.font_config)

    def render(self, event: Event, participants: Sequence[Participant], public_url: str) -> bytes:
        badges = [badge(participant, public_url) for participant in participants]
        sheets = [
            badges[start : start + BADGES_PER_SHEET] for start in range(0, len(badges), BADGES_PER_SHEET)
        ]
        html = self.templates.get_template("badges.html").render(
            event=event, event_size=size_for(event.title, EVENT_SIZES), sheets=sheets
        )
        with self.lock:
            return HTML(string=html, base_url=str(TEMPLATES)).write_pdf(
                stylesheets=[self.stylesheet], font_config=self.font_config
            )


def size_for(text: str | None, sizes: Sequence[tuple[int | None, str]]) -> str:
    """The class of the largest type that holds `text` (see the *_SIZES tables)."""
    length = len(text or "")
    return next(size for longest, size in sizes if longest is None or length <= longest)


def badge(participant: Participant, public_url: str) -> dict:
    given_names = " ".join(filter(None, (participant.first_name, participant.patronymic)))
    return {
        "sizes": {
            "surname": size_for(participant.surname, SURNAME_SIZES),
            "given_names": size_for(given_names, GIVEN_NAMES_SIZES),
            "organisation": size_for(participant.organisation, ORGANISATION_SIZES),
        },
        "surname": participant.surname,
        "first_name": participant.first_name,
        "patronymic": participant.patronymic,
        "organisation": participant.organisation,
        "region_name": region_name(participant.region_code),
        "code": participant.code,
        "qr": segno.make(personal_page_url(public_url, participant.token), error="m").svg_data_uri(border=0),
    }


@lru_cache(maxsize=1)
def renderer() -> BadgeRenderer:
    return BadgeRenderer()
