"""Certificate PDFs with WeasyPrint, many at a time.

What is expensive is set up once per process (`CertificateRenderer`): the font configuration, the parsed
stylesheet, the Jinja templates, fontconfig's cache (warmed by one throwaway render). A batch of documents
is then one HTML document and one layout pass; each person's pages are cut out of the laid-out batch by
their section's id and written as a PDF of their own (`Document.copy(pages).write_pdf()`).

Nothing from outside reaches WeasyPrint: the template is autoescaped (a name is data, never markup) and the
URL fetcher refuses everything except `data:` URIs and files inside the templates folder.
"""

from __future__ import annotations

import base64
import copy
import mimetypes
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urlsplit
from urllib.request import url2pathname

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from services.certificates import wording

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: what the template prints as the PDF's title, by kind of document
TITLES = {"certificate": "Удостоверение о повышении квалификации", "statement": "Справка об обучении"}


class ForbiddenResource(ValueError):
    """The document asked for something other than a data: URI or a file of the templates folder."""


class TemplatesOnlyFetcher(URLFetcher):
    """WeasyPrint's fetcher, allowed to read `data:` URIs and files inside the templates folder only.

    Both are answered here, without urllib's openers (so no other scheme can slip through a handler).
    Any other URL raises, and `fail_on_errors` makes that stop the render instead of leaving a silent hole
    in the PDF: a certificate is never printed with a missing part.
    """

    def __init__(self, root: Path = TEMPLATES) -> None:
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False, fail_on_errors=True)
        self.root = root.resolve()

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return self._data(url)
        if scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise ForbiddenResource(f"refused to fetch {url!r}: not a local file")
            path = Path(url2pathname(unquote(parts.path))).resolve()
            if not path.is_relative_to(self.root) or not path.is_file():
                raise ForbiddenResource(f"refused to fetch {url!r}: outside the templates folder")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(path.as_uri(), body=path.read_bytes(), headers={"Content-Type": mime})
        raise ForbiddenResource(f"refused to fetch {url!r}: only data: URIs and template files")

    @staticmethod
    def _data(url: str) -> URLFetcherResponse:
        header, comma, payload = url[len("data:") :].partition(",")
        if not comma:
            raise ForbiddenResource("a data: URI without data")
        params = header.split(";")
        mime = params[0] or "text/plain"
        if "base64" in params[1:]:
            body = base64.b64decode(payload, validate=False)
        else:
            body = unquote_to_bytes(payload)
        return URLFetcherResponse(url, body=body, headers={"Content-Type": mime})


def data_uri(content: bytes | None, mime: str | None) -> str | None:
    """An uploaded image as a data: URI, so that the render never has to fetch anything."""
    if not content or mime not in ("image/png", "image/jpeg"):
        return None
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


@dataclass(frozen=True)
class Images:
    """The organisation's images of one event (from its policy), as data: URIs or None."""

    logo: str | None = None
    signature: str | None = None


@dataclass(frozen=True)
class Printable:
    """One person's document to print: the frozen snapshot and where its QR code points."""

    certificate_id: int
    snapshot: dict
    verification_url: str


class CertificateRenderer:
    """Holds what is expensive to set up (fonts, parsed CSS, templates); rendering is then cheap."""

    def __init__(self, templates: Path = TEMPLATES) -> None:
        self.templates_dir = templates
        # Autoescape: a participant's name is data, never markup, in the PDF as on the web.
        self.templates = Environment(
            loader=FileSystemLoader(templates), autoescape=select_autoescape(["html"]), auto_reload=False
        )
        self.templates.filters.update(academic_hours=wording.academic_hours, long_date=wording.long_date)
        self.font_config = FontConfiguration()
        self.fetcher = TemplatesOnlyFetcher(templates)
        self.stylesheet = CSS(
            filename=str(templates / "certificate.css"),
            font_config=self.font_config,
            url_fetcher=self.fetcher,
        )
        self.page_template = self.templates.get_template("documents.html")

    def warm_up(self) -> None:
        """Render throwaway documents of both kinds so fonts are found and cached before real jobs arrive."""
        sample = sample_snapshot()
        self.render_many(
            [
                Printable(0, sample, "https://example.org/verify/WARM-UP"),
                Printable(
                    -1, dict(sample, kind="statement", attended_hours=12), "https://example.org/verify/W"
                ),
            ]
        )

    def render(self, snapshot: dict, verification_url: str, images: Images | None = None) -> bytes:
        """One document's PDF."""
        [(_, pdf)] = self.render_many([Printable(0, snapshot, verification_url)], images)
        return pdf

    def render_many(
        self, items: Sequence[Printable], images: Images | None = None
    ) -> list[tuple[int, bytes]]:
        """Every item's PDF, from one HTML document laid out once: [(certificate_id, pdf bytes)]."""
        return list(self.iter_render(items, images))

    def iter_render(
        self, items: Sequence[Printable], images: Images | None = None
    ) -> Iterator[tuple[int, bytes]]:
        """Like render_many, handing out each PDF as soon as it is written (the caller stores it)."""
        if not items:
            return
        documents = [self._document_context(index, item) for index, item in enumerate(items)]
        html = self.page_template.render(
            documents=documents, images=images or Images(), title=TITLES["certificate"]
        )
        batch = HTML(string=html, base_url=str(self.templates_dir), url_fetcher=self.fetcher).render(
            stylesheets=[self.stylesheet], font_config=self.font_config
        )
        pages_of = _pages_by_anchor(batch.pages, [d["anchor"] for d in documents])
        for document, item in zip(documents, items, strict=True):
            pages = pages_of[document["anchor"]]
            if not pages:
                raise RuntimeError(f"certificate {item.certificate_id} produced no page")
            single = batch.copy(pages)
            single.metadata = _metadata(batch.metadata, item.snapshot)
            yield item.certificate_id, single.write_pdf()

    def _document_context(self, index: int, item: Printable) -> dict:
        s = item.snapshot
        starts_on, ends_on = date.fromisoformat(s["starts_on"]), date.fromisoformat(s["ends_on"])
        gender = s.get("gender")
        return {
            "anchor": f"d{index}",
            "kind": s.get("kind") or "certificate",
            "s": s,
            "holder": wording.full_name(s["surname"], s["first_name"], s.get("patronymic")),
            "issued_on": date.fromisoformat(s["issued_on"]),
            "period": wording.period(starts_on, ends_on),
            "completed": wording.completed(gender),
            "studied": wording.studied(gender),
            "mastered": wording.mastered(gender),
            "pronoun": wording.pronoun(gender),
            "qr": qr_data_uri(item.verification_url),
            "verification_url": item.verification_url,
        }


def qr_data_uri(url: str) -> str:
    """The QR code of a URL as a tiny PNG, one pixel per module (the CSS scales it up without smoothing).

    A raster costs WeasyPrint far less than an SVG path; the mask is fixed because choosing the "best" one
    means building the code eight times, and every mask decodes the same.
    """
    return segno.make(url, error="m", mask=0).png_data_uri(border=0, scale=1)


def _pages_by_anchor(pages: list, anchors: list[str]) -> dict[str, list]:
    """Which pages belong to which person: a page goes to the last section that started on it or before.

    A document that runs over one page keeps all its pages; the anchors are cleared afterwards so that the
    batch's internal ids do not end up as named destinations in someone's PDF.
    """
    wanted = set(anchors)
    result: dict[str, list] = {anchor: [] for anchor in anchors}
    current = None
    for page in pages:
        started = [name for name in page.anchors if name in wanted]
        if started:
            current = started[-1]
        if current is not None:
            result[current].append(page)
        page.anchors.clear()
    return result


def _metadata(batch_metadata, snapshot: dict):
    """Each PDF's own title and author; the language comes from <html lang="ru">."""
    metadata = copy.copy(batch_metadata)
    kind = snapshot.get("kind") or "certificate"
    metadata.title = f"{TITLES.get(kind, TITLES['certificate'])} {snapshot.get('number', '')}".strip()
    organisation = snapshot.get("organisation")
    metadata.authors = [organisation] if organisation else []
    metadata.lang = "ru"
    return metadata


def sample_snapshot() -> dict:
    return {
        "kind": "certificate",
        "surname": "Ёлкина",
        "first_name": "Анна",
        "patronymic": "Сергеевна",
        "gender": "female",
        "programme_title": "Цифровые коммуникации и эффективный диалог с гражданами",
        "programme_kind": "ПК",
        "academic_hours": 24,
        "attended_hours": None,
        "organisation": "ЮРИУ РАНХиГС",
        "place": "Сочи",
        "starts_on": "2026-10-07",
        "ends_on": "2026-10-09",
        "issued_on": "2026-10-09",
        "signatory_name": "И. И. Петров",
        "signatory_title": "Директор",
        "number": "ПК-2026-0001",
    }
