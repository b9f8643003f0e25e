"""Certificate PDFs with WeasyPrint. Fonts and the stylesheet are loaded once per process."""
from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from services.certificates import wording

TEMPLATES = Path(__file__).parent / "templates"


class CertificateRenderer:
    """Holds what is expensive to set up (fonts, parsed CSS, templates); render() is then cheap."""

    def __init__(self) -> None:
        # Autoescape: a participant's name is data, never markup, in the PDF as on the web.
        self.templates = Environment(loader=FileSystemLoader(TEMPLATES),
                                     autoescape=select_autoescape(["html"]))
        self.templates.filters.update(academic_hours=wording.academic_hours,
                                      long_date=wording.long_date)
        self.font_config = FontConfiguration()

    @cached_property
    def stylesheet(self) -> CSS:
        return CSS(filename=str(TEMPLATES / "certificate.css"), font_config=self.font_config)

    def warm_up(self) -> None:
        """Render one throwaway document so that fonts are found and cached before real jobs arrive."""
        self.render(sample_snapshot(), "https://example.org/verify/WARM-UP")

    def render(self, snapshot: dict, verification_url: str) -> bytes:
        html = self.templates.get_template("certificate.html").render(
            s=snapshot,
            starts_on=date.fromisoformat(snapshot["starts_on"]),
            ends_on=date.fromisoformat(snapshot["ends_on"]),
            issued_on=date.fromisoformat(snapshot["issued_on"]),
            completed=wording.completed(snapshot.get("gender")),
            period=wording.period(date.fromisoformat(snapshot["starts_on"]),
                                  date.fromisoformat(snapshot["ends_on"])),
            qr_svg=segno.make(verification_url, error="m").svg_data_uri(border=0),
            verification_url=verification_url,
        )
        return HTML(string=html, base_url=str(TEMPLATES)).write_pdf(
            stylesheets=[self.stylesheet], font_config=self.font_config)


def sample_snapshot() -> dict:
    return {
        "surname": "Ёлкина", "first_name": "Анна", "patronymic": "Сергеевна", "gender": "female",
        "programme_title": "Цифровые коммуникации и эффективный диалог c гражданами",
        "programme_kind": "ПК", "academic_hours": 24, "organiser": "ЮРИУ РАНХиГС", "place": "Сочи",
        "starts_on": "2026-10-07", "ends_on": "2026-10-09", "issued_on": "2026-10-09",
        "number": "ПК-2026-0001", "verification_code": "WARM0-UP000-00000-00000",
    }
