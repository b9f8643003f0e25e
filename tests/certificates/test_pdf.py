"""Certificate PDFs made by the real WeasyPrint and read back: text, grammar, metadata, fonts, QR, safety."""

from __future__ import annotations

import io

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
    assert "Регистрационный номер ПК-2026-0001" in text
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
    text = pdf_text(renderer.render(dict(SNAPSHOT, patronymic=None), URL))
    assert "Ёлкина Анна с 7 по 9 октября" in text
    assert "None" not in text


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
    assert "в объёме 24 академических часа и освоил 12 академических часов." in text
    assert "Регистрационный номер СО-2026-0007" in text
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == "Справка об обучении СО-2026-0007"
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert height > width  # a portrait letter
    female = pdf_text(renderer.render(dict(snapshot, gender="female"), URL))
    assert "обучалась" in female and "освоила 12 академических часов" in female


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


def test_a_template_that_reaches_out_stops_the_render(tmp_path):
    # Were a template ever to point at the network, the render fails instead of fetching it.
    for name in ("certificate.css", "certificate.html", "statement.html", "signature.html"):
        (tmp_path / name).write_text((rendering.TEMPLATES / name).read_text())
    page = (rendering.TEMPLATES / "documents.html").read_text()
    (tmp_path / "documents.html").write_text(
        page.replace("<body>", '<body><img src="http://127.0.0.1:9/x.png">')
    )
    with pytest.raises(BaseException, match=r"x\.png"):
        CertificateRenderer(tmp_path).render(SNAPSHOT, URL)
