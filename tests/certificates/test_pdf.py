"""Certificate PDFs made by the real WeasyPrint and read back: text, grammar, metadata, fonts, QR, safety."""

from __future__ import annotations

import io

import pikepdf
import pytest
from PIL import Image
from pypdf import PdfReader

from services.certificates import rendering
from services.certificates.rendering import (
    CertificateRenderer,
    ForbiddenResource,
    Images,
    Printable,
    TemplatesOnlyFetcher,
)
from tests.certificates.support import PUBLIC_URL, SNAPSHOT, embedded_fonts, pdf_text, qr_codes

URL = f"{PUBLIC_URL}/verify/K7M2Q-X9ABC-DEFGH-JKMNP"


@pytest.fixture(scope="module")
def renderer() -> CertificateRenderer:
    return CertificateRenderer()


def png(color: str, size=(60, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def test_certificate_reads_in_grammatical_russian(renderer):
    pdf = renderer.render(SNAPSHOT, URL)
    text = pdf_text(pdf)
    assert "УДОСТОВЕРЕНИЕ" in text and "о повышении квалификации" in text
    assert "Ёлкина Анна Сергеевна" in text
    assert "с 7 по 9 октября 2026 г. прошла обучение в ЮРИУ РАНХиГС" in text
    assert "«Цифровые коммуникации и эффективный диалог с гражданами»" in text
    assert "в объёме 24 академических часа." in text
    # The number is printed by the personal layer into its slot after the form's label.
    assert "Регистрационный номер" in text and "ПК-2026-0001" in text
    assert "Дата выдачи 9 октября 2026 г." in text
    assert "Город Сочи" in text
    assert "Директор" in text and "И. И. Петров" in text
    assert URL in text


@pytest.mark.parametrize(
    "gender,hours,verb,printed",
    [
        ("male", 16, "прошёл", "16 академических часов"),
        ("female", 72, "прошла", "72 академических часа"),
        (None, 21, "прошёл(-ла)", "21 академический час"),
    ],
)
def test_verb_and_hours_agree(renderer, gender, hours, verb, printed):
    snapshot = dict(
        SNAPSHOT,
        surname="Мамедов",
        first_name="Руслан",
        patronymic="Алиевич оглы",
        gender=gender,
        academic_hours=hours,
    )
    text = pdf_text(renderer.render(snapshot, URL))
    assert "Мамедов Руслан Алиевич оглы" in text
    assert f"{verb} обучение" in text
    assert f"в объёме {printed}." in text


def test_a_missing_patronymic_leaves_no_gap(renderer):
    pdf = renderer.render(dict(SNAPSHOT, patronymic=None), URL)
    lines = [line.strip() for line in PdfReader(io.BytesIO(pdf)).pages[0].extract_text().splitlines()]
    assert "Ёлкина Анна" in lines  # the name's line, with no space left where the patronymic would be
    assert "None" not in pdf_text(pdf)


def test_statement_is_a_spravka_with_attended_hours(renderer):
    snapshot = dict(
        SNAPSHOT,
        kind="statement",
        number="СО-2026-0007",
        gender="male",
        surname="Иванов",
        first_name="Пётр",
        patronymic="Ильич",
        attended_hours=12,
    )
    pdf = renderer.render(snapshot, URL)
    text = pdf_text(pdf)
    assert "СПРАВКА" in text and "об обучении" in text
    assert "УДОСТОВЕРЕНИЕ" not in text
    assert "Иванов Пётр Ильич" in text
    assert "обучался в ЮРИУ РАНХиГС" in text
    assert "в объёме 24 академических часа." in text
    assert "Он освоил 12 академических часов программы." in text
    assert "Регистрационный номер СО-2026-0007" in text
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == "Справка об обучении СО-2026-0007"
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert height > width  # a portrait letter
    female = pdf_text(renderer.render(dict(snapshot, gender="female"), URL))
    assert "обучалась" in female and "Она освоила 12 академических часов" in female


def test_pdf_metadata_and_embedded_fonts(renderer):
    pdf = renderer.render(SNAPSHOT, URL)
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == "Удостоверение о повышении квалификации ПК-2026-0001"
    assert reader.metadata.author == "ЮРИУ РАНХиГС"
    assert reader.trailer["/Root"]["/Lang"] == "ru"
    page = reader.pages[0]
    # A4 landscape, in PDF points
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 595)
    fonts = embedded_fonts(pdf)
    assert fonts and all(fonts.values()), fonts
    assert any("PT-Serif" in name for name in fonts), fonts


def test_harfbuzz_subsetting_is_used():
    # Without libharfbuzz-subset WeasyPrint falls back to fontTools, about five times slower.
    from weasyprint.text.ffi import harfbuzz_subset

    assert harfbuzz_subset is not None


def test_qr_code_decodes_to_the_verification_url(renderer):
    for kind in ("certificate", "statement"):
        pdf = renderer.render(dict(SNAPSHOT, kind=kind), URL)
        assert qr_codes(pdf) == [URL]


def test_logo_and_signature_are_printed_from_data_uris(renderer):
    images = Images(
        logo=rendering.data_uri(png("navy"), "image/png"),
        signature=rendering.data_uri(png("black", (120, 40)), "image/png"),
    )
    plain = PdfReader(io.BytesIO(renderer.render(SNAPSHOT, URL))).pages[0]
    with_images = PdfReader(io.BytesIO(renderer.render(SNAPSHOT, URL, images))).pages[0]
    assert len(with_images.images) == len(plain.images) + 2
    assert rendering.data_uri(b"GIF89a", "image/gif") is None
    assert rendering.data_uri(None, "image/png") is None


def test_a_batch_is_cut_into_one_pdf_per_person(renderer):
    people = [("Абрамов", "male"), ("Борисова", "female"), ("Власов", "male")]
    items = [
        Printable(
            10 + i,
            dict(
                SNAPSHOT,
                surname=name,
                gender=gender,
                number=f"ПК-2026-{i + 1:04}",
                kind="statement" if i == 1 else "certificate",
            ),
            f"{URL}{i}",
        )
        for i, (name, gender) in enumerate(people)
    ]
    pdfs = renderer.render_many(items)
    assert [certificate_id for certificate_id, _ in pdfs] == [10, 11, 12]
    for (_, pdf), (name, _gender), item in zip(pdfs, people, items, strict=True):
        text = pdf_text(pdf)  # exactly one page each
        assert f"{name} Анна Сергеевна" in text
        assert item.snapshot["number"] in text
        assert all(other not in text for other, _ in people if other != name)
        assert qr_codes(pdf) == [item.verification_url]
        assert b"/Dests" not in pdf  # the batch's internal anchors are not left in anyone's file


def test_markup_in_a_name_is_printed_as_text(renderer):
    hostile = dict(
        SNAPSHOT,
        surname="<b>Жирный</b>",
        first_name='<img src="file:///etc/passwd">',
        programme_title='<link rel="stylesheet" href="http://evil.example/x.css">',
    )
    pdf = renderer.render(hostile, URL)
    text = pdf_text(pdf).replace(" ", "")  # long words wrap at slashes
    assert "<b>Жирный</b>" in text
    assert '<imgsrc="file:///etc/passwd">' in text
    assert '<linkrel="stylesheet"href="http://evil.example/x.css">' in text
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 1  # the QR code only


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1/logo.png",
        "https://example.org/logo.png",
        "ftp://example.org/logo.png",
        "file:///etc/passwd",
        f"file://{rendering.TEMPLATES}/../rendering.py",
        "file://evil.example/share/logo.png",
    ],
)
def test_fetcher_refuses_anything_but_data_and_templates(url):
    with pytest.raises(ForbiddenResource):
        TemplatesOnlyFetcher().fetch(url)


def test_fetcher_allows_data_uris_and_template_files():
    fetcher = TemplatesOnlyFetcher()
    assert fetcher.fetch("data:text/plain;base64,0JDQsdCy").read() == "Абв".encode()
    css = fetcher.fetch(f"file://{rendering.TEMPLATES}/certificate.css")
    assert b"@page" in css.read()
    css.close()


@pytest.mark.parametrize("layer", ["form.html", "fields.html"])
def test_a_template_that_reaches_out_stops_the_render(tmp_path, layer):
    # Were a template of either layer ever to point at the network, the render fails instead of fetching it.
    for template in rendering.TEMPLATES.iterdir():
        (tmp_path / template.name).write_text(template.read_text())
    page = (rendering.TEMPLATES / layer).read_text()
    (tmp_path / layer).write_text(page.replace("<body>", '<body><img src="http://127.0.0.1:9/x.png">'))
    with pytest.raises(BaseException, match=r"x\.png"):
        CertificateRenderer(tmp_path).render(SNAPSHOT, URL)


def _images_in_file(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return sum(
            1
            for obj in document.objects
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image"
        )


def test_each_file_of_a_batch_carries_only_its_own_holder(renderer):
    # The personal layer of a batch is one PDF whose pages share resources: a person's file must keep only
    # what their own page draws — not, unseen, another holder's QR code and so their verification link.
    items = [
        Printable(i, dict(SNAPSHOT, surname=f"Фамилия{i}", number=f"ПК-2026-{i:04}"), f"{URL}{i}")
        for i in range(1, 6)
    ]
    for certificate_id, pdf in renderer.render_many(items):
        assert _images_in_file(pdf) == 1
        raw = b"".join(
            obj.read_bytes()
            for obj in pikepdf.open(io.BytesIO(pdf)).objects
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") != "/Image"
        )
        assert qr_codes(pdf) == [f"{URL}{certificate_id}"]
        others = [f"ПК-2026-{i:04}" for i in range(1, 6) if i != certificate_id]
        assert all(other not in pdf_text(pdf) for other in others)
        assert all(f"{URL}{i}".encode() not in raw for i in range(1, 6) if i != certificate_id)


def test_a_form_is_laid_out_once_and_kept_for_the_next_process(tmp_path, monkeypatch):
    first = CertificateRenderer(forms_dir=tmp_path)
    laid_out = []
    lay_out = first._lay_out_form
    monkeypatch.setattr(first, "_lay_out_form", lambda key, html: laid_out.append(key) or lay_out(key, html))
    people = [
        Printable(i, dict(SNAPSHOT, surname=f"Фамилия{i}", gender=("male", "female")[i % 2]), f"{URL}{i}")
        for i in range(6)
    ]
    pdfs = first.render_many(people)
    assert len(laid_out) == 2  # one form per gender: «прошёл» and «прошла»
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(f"{key}.json" for key in laid_out)
    # A fresh renderer (a forked job that starts empty) takes the stored forms instead of laying them out.
    second = CertificateRenderer(forms_dir=tmp_path)
    laid_out.clear()
    lay_out = second._lay_out_form
    monkeypatch.setattr(second, "_lay_out_form", lambda key, html: laid_out.append(key) or lay_out(key, html))
    again = second.render_many(people)
    assert laid_out == []
    assert [pdf_text(pdf) for _, pdf in again] == [pdf_text(pdf) for _, pdf in pdfs]
    # What the form prints is its key: another programme is another form.
    other = second.render_many([Printable(9, dict(SNAPSHOT, programme_title="Другая программа"), URL)])
    assert len(laid_out) == 1
    assert "«Другая программа»" in pdf_text(other[0][1])


def test_a_damaged_stored_form_is_laid_out_anew(tmp_path):
    CertificateRenderer(forms_dir=tmp_path).render(SNAPSHOT, URL)
    [stored] = tmp_path.iterdir()
    stored.write_bytes(b"{not json")
    text = pdf_text(CertificateRenderer(forms_dir=tmp_path).render(SNAPSHOT, URL))
    assert "Ёлкина Анна Сергеевна" in text
    assert stored.read_bytes().startswith(b'{"pdf"')


@pytest.mark.parametrize("kind", ["certificate", "statement"])
def test_a_very_long_name_is_printed_whole_on_one_page(renderer, kind):
    snapshot = dict(
        SNAPSHOT,
        kind=kind,
        surname="Римская-Корсакова-Константинопольская-Преображенская",
        first_name="Александра-Виктория",
        patronymic="Алиевна кызы",
    )
    text = pdf_text(renderer.render(snapshot, URL)).replace("- ", "-")  # the name may wrap at a hyphen
    assert "Римская-Корсакова-Константинопольская-Преображенская Александра-Виктория Алиевна кызы" in text
