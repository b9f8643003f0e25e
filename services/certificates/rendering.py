"""Certificate PDFs with WeasyPrint, many at a time, as a form and a personal layer over it.

Laying out a page is what costs (WeasyPrint is pure Python), and almost all of a certificate is the same for
everyone who is issued one at the end of a course: the organisation, the programme, its hours and dates, the
signatory. So a document is printed the way paper forms are filled in:

- the **form**: everything that holders of the same document share, with empty slots of a fixed size where
  the personal fields go (number, name, QR code). It is laid out once, the positions of its slots are read off
  the laid-out page, and it is kept (in memory, and in a folder shared by the worker's forked jobs) under the
  digest of its HTML and the stylesheet, so a change of either makes a new one;
- the **personal layer**: for a whole batch, one small HTML document with a page per person holding only the
  fields, each absolutely positioned at its slot; laid out and written in one pass;
- each person's PDF is then put together with pikepdf (qpdf): their page of the personal layer, stripped of
  the resources other people's pages use (their QR codes), with the form underneath as a Form XObject.

Nothing from outside reaches WeasyPrint: the templates are autoescaped (a name is data, never markup) and
the URL fetcher refuses everything except `data:` URIs and files inside the templates folder.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import mimetypes
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urlsplit
from urllib.request import url2pathname

import pikepdf
import weasyprint
import zxingcpp
from jinja2 import Environment, FileSystemLoader, select_autoescape
from PIL import Image
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from services.certificates import storage, wording

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


#: forms kept in memory per process (an event has a handful: per kind of document and gender)
FORMS_IN_MEMORY = 32


@dataclass(frozen=True)
class Form:
    """A laid-out form: its one-page PDF and its slots, {name: (left, top, right, bottom)} in CSS pixels."""

    pdf: bytes
    width: float
    height: float
    slots: dict[str, tuple[float, float, float, float]]

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "pdf": base64.b64encode(self.pdf).decode("ascii"),
                "width": self.width,
                "height": self.height,
                "slots": self.slots,
            }
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Form:
        body = json.loads(data)
        return cls(
            pdf=base64.b64decode(body["pdf"]),
            width=body["width"],
            height=body["height"],
            slots={name: tuple(box) for name, box in body["slots"].items()},
        )


class CertificateRenderer:
    """Holds what is expensive to set up (fonts, parsed CSS, templates, laid-out forms); the rest is cheap.

    `forms_dir`, when given, keeps laid-out forms on disk as well, so that jobs in forked work horses (which
    lose the memory of the one before) lay out each form once, not once per job.
    """

    def __init__(self, templates: Path = TEMPLATES, forms_dir: Path | None = None) -> None:
        self.templates_dir = templates
        # Autoescape: a participant's name is data, never markup, in the PDF as on the web.
        self.templates = Environment(
            loader=FileSystemLoader(templates), autoescape=select_autoescape(["html"]), auto_reload=False
        )
        self.templates.filters.update(academic_hours=wording.academic_hours, long_date=wording.long_date)
        self.font_config = FontConfiguration()
        self.fetcher = TemplatesOnlyFetcher(templates)
        stylesheet = (templates / "certificate.css").read_text(encoding="utf-8")
        self.stylesheet = CSS(
            string=stylesheet,
            base_url=str(templates / "certificate.css"),
            font_config=self.font_config,
            url_fetcher=self.fetcher,
        )
        # A form is known by what it prints and how: its HTML, the stylesheet and the WeasyPrint doing it.
        self._form_salt = hashlib.sha256(f"{weasyprint.__version__}\n{stylesheet}".encode()).digest()
        self.form_template = self.templates.get_template("form.html")
        self.fields_template = self.templates.get_template("fields.html")
        self.forms_dir = forms_dir
        self._forms: OrderedDict[str, Form] = OrderedDict()

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
        """Every item's PDF: [(certificate_id, pdf bytes)]."""
        return list(self.iter_render(items, images))

    def iter_render(
        self, items: Sequence[Printable], images: Images | None = None
    ) -> Iterator[tuple[int, bytes]]:
        """Like render_many, handing out each PDF as soon as it is put together (the caller stores it)."""
        if not items:
            return
        images = images or Images()
        documents = [self._document_context(item) for item in items]
        forms = [self.form(document, images) for document in documents]
        layer = self._personal_layer(documents, forms)
        with pikepdf.open(io.BytesIO(layer)) as personal:
            if len(personal.pages) != len(items):
                raise RuntimeError(f"{len(items)} documents produced {len(personal.pages)} personal pages")
            # WeasyPrint gives all pages one resource dictionary; qpdf gives each page its own, holding only
            # what it draws. Copying a page then takes its own QR code, not the whole batch's.
            personal.remove_unreferenced_resources()
            underlays = _FormXObjects()
            for item, form, page in zip(items, forms, personal.pages, strict=True):
                yield item.certificate_id, _compose(page, underlays.of(form), item.snapshot)

    # --- the form ---

    def form(self, document: dict, images: Images) -> Form:
        """The laid-out form of this document: from memory, from the forms folder, or laid out now."""
        html = self.form_template.render(d=document, images=images, title=TITLES[document["kind"]])
        key = hashlib.sha256(self._form_salt + html.encode()).hexdigest()
        form = self._forms.get(key)
        if form is None:
            form = self._stored_form(key) or self._lay_out_form(key, html)
            self._forms[key] = form
            while len(self._forms) > FORMS_IN_MEMORY:
                self._forms.popitem(last=False)
        else:
            self._forms.move_to_end(key)
        return form

    def _stored_form(self, key: str) -> Form | None:
        if self.forms_dir is None:
            return None
        try:
            with storage.open(self.forms_dir, f"{key}.json") as file:
                return Form.from_json(file.read())
        except (FileNotFoundError, ValueError, KeyError):
            return None  # not there yet, or unreadable: laid out again and stored anew

    def _lay_out_form(self, key: str, html: str) -> Form:
        laid_out = HTML(string=html, base_url=str(self.templates_dir), url_fetcher=self.fetcher).render(
            stylesheets=[self.stylesheet], font_config=self.font_config
        )
        if len(laid_out.pages) != 1:
            raise RuntimeError(f"the form runs over {len(laid_out.pages)} pages: its text is too long")
        [page] = laid_out.pages
        slots = {name[5:]: tuple(box) for name, box in page.anchors.items() if name.startswith("slot-")}
        # The slots' ids are for measuring only: they must not become named destinations of the PDF.
        page.anchors.clear()
        form = Form(pdf=laid_out.write_pdf(), width=page.width, height=page.height, slots=slots)
        if self.forms_dir is not None:
            storage.write(self.forms_dir, f"{key}.json", form.to_json())
        return form

    # --- the personal layer ---

    def _personal_layer(self, documents: list[dict], forms: list[Form]) -> bytes:
        """One PDF with a page per person holding only their fields, each at its slot of their form."""
        for document, form in zip(documents, forms, strict=True):
            document["slots"] = [(name, _field_style(name, box, form)) for name, box in form.slots.items()]
        html = self.fields_template.render(people=documents, title=TITLES["certificate"])
        laid_out = HTML(string=html, base_url=str(self.templates_dir), url_fetcher=self.fetcher).render(
            stylesheets=[self.stylesheet], font_config=self.font_config
        )
        return laid_out.write_pdf()

    def _document_context(self, item: Printable) -> dict:
        s = item.snapshot
        starts_on, ends_on = date.fromisoformat(s["starts_on"]), date.fromisoformat(s["ends_on"])
        gender = s.get("gender")
        holder = wording.full_name(s["surname"], s["first_name"], s.get("patronymic"))
        kind = s.get("kind") or "certificate"
        if kind not in TITLES:
            raise ValueError(f"unknown kind of document: {kind!r}")
        return {
            "kind": kind,
            "s": s,
            "holder": holder,
            "holder_size": _holder_size(holder),
            "issued_on": date.fromisoformat(s["issued_on"]),
            "period": wording.period(starts_on, ends_on),
            "completed": wording.completed(gender),
            "studied": wording.studied(gender),
            "mastered": wording.mastered(gender),
            "pronoun": wording.pronoun(gender),
            "qr": qr_data_uri(item.verification_url),
            "verification_url": item.verification_url,
        }


def _holder_size(holder: str) -> str:
    """A smaller type for a name that would not fit its slot's two lines at the normal size."""
    if len(holder) > 90:
        return "very-long"
    if len(holder) > 60:
        return "long"
    return "normal"


def _field_style(name: str, box: tuple[float, float, float, float], form: Form) -> str:
    """Where a field goes on the page: its slot's box; the name stands on the slot's last line."""
    left, top, right, bottom = box
    if name == "holder":
        return f"left: {left:.2f}px; width: {right - left:.2f}px; bottom: {form.height - bottom:.2f}px"
    return f"left: {left:.2f}px; top: {top:.2f}px; width: {right - left:.2f}px"


class _FormXObjects:
    """The forms of one batch opened once each, as Form XObjects ready to be copied under a page."""

    def __init__(self) -> None:
        self._open: dict[int, tuple[pikepdf.Pdf, pikepdf.Object]] = {}

    def of(self, form: Form) -> pikepdf.Object:
        if id(form) not in self._open:
            pdf = pikepdf.open(io.BytesIO(form.pdf))
            self._open[id(form)] = (pdf, pdf.pages[0].as_form_xobject())
        return self._open[id(form)][1]


def _compose(personal_page: pikepdf.Page, form: pikepdf.Object, snapshot: dict) -> bytes:
    """One person's PDF: their personal page over the form, with their own title, author and language."""
    out = pikepdf.new()
    # The page holds only what it draws (iter_render pruned the batch), so copying it brings this holder's
    # QR code alone: nobody's PDF carries another's, nor, hidden, their verification link.
    out.pages.append(personal_page)
    out.pages[0].add_underlay(out.copy_foreign(form))
    kind = snapshot.get("kind") or "certificate"
    title = f"{TITLES.get(kind, TITLES['certificate'])} {snapshot.get('number', '')}".strip()
    info = {
        "/Title": pikepdf.String(title),
        "/Producer": pikepdf.String(f"WeasyPrint {weasyprint.__version__}"),
    }
    if snapshot.get("organisation"):
        info["/Author"] = pikepdf.String(snapshot["organisation"])
    out.docinfo = out.make_indirect(pikepdf.Dictionary(info))
    out.Root.Lang = pikepdf.String("ru")
    out.Root.ViewerPreferences = pikepdf.Dictionary({"/DisplayDocTitle": True})
    buffer = io.BytesIO()
    out.save(buffer, compress_streams=True)
    return buffer.getvalue()


def qr_data_uri(url: str) -> str:
    """The QR code of a URL as a tiny PNG, one pixel per module (the CSS scales it up without smoothing).

    A raster costs WeasyPrint far less than an SVG path. zxing-cpp encodes in C++, about four times faster
    than a pure-Python encoder: at one code per certificate that is a tenth of a certificate's time.
    """
    code = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    modules = code.to_image(scale=1, add_quiet_zones=False)
    height, width = modules.shape
    buffer = io.BytesIO()
    Image.frombytes("L", (width, height), bytes(modules)).convert("1").save(buffer, "PNG")
    return f"data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


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
