"""An event's certificate policy: its rules (the ПК floor, the numbering template), the organisation's
images, and saving it. No Flask here; callers pass a session and plain values."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.certificates.models import CertificatePolicy, ImageKind

#: п. 18 of the Порядок (Приказ Минобрнауки № 266 of 24.03.2025): a ПК programme has at least 16 hours
MIN_PK_HOURS = 16
#: a registration number must fit the column and the printed line
MAX_NUMBER_LENGTH = 40
#: how many digits a sequence number is assumed to reach when a template is checked for length
_SEQ_DIGITS_CHECKED = 6

MAX_IMAGE_BYTES = 1024 * 1024
#: larger pictures are refused before decoding: a small file may still unpack into a huge bitmap
MAX_IMAGE_PIXELS = 25_000_000
_MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
_PILLOW_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}

_PLACEHOLDER = re.compile(r"\{(year|seq)(?::0([1-9]))?\}")


class TemplateError(ValueError):
    """The numbering template is not usable; `code` says why (for a field error)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class NumberTemplate:
    """A template such as «ПК-{year}-{seq:04}»: only {year} and {seq} (optionally zero-padded, {seq:0N})."""

    text: str

    @classmethod
    def parse(cls, text: str) -> NumberTemplate:
        seen: list[str] = []
        for match in _PLACEHOLDER.finditer(text):
            name, width = match.group(1), match.group(2)
            if name == "year" and width:
                raise TemplateError("bad_placeholder")
            seen.append(name)
        rest = _PLACEHOLDER.sub("", text)
        if "{" in rest or "}" in rest:
            raise TemplateError("bad_placeholder")
        if seen.count("seq") != 1:
            raise TemplateError("needs_seq")
        if seen.count("year") > 1:
            raise TemplateError("bad_placeholder")
        template = cls(text)
        widest = max(_SEQ_DIGITS_CHECKED, template.seq_width)
        if len(template.format(9999, 10**widest - 1)) > MAX_NUMBER_LENGTH:
            raise TemplateError("too_long")
        return template

    @property
    def seq_width(self) -> int:
        match = re.search(r"\{seq:0([1-9])\}", self.text)
        return int(match.group(1)) if match else 0

    @property
    def skeleton(self) -> str:
        """The template's own text without its placeholders."""
        return _PLACEHOLDER.sub("", self.text)

    def format(self, year: int, seq: int) -> str:
        def fill(match: re.Match) -> str:
            if match.group(1) == "year":
                return str(year)
            return str(seq).zfill(int(match.group(2) or 0))

        return _PLACEHOLDER.sub(fill, self.text)


def organisation_key(organisation: str) -> str:
    """The numbering scope derived from the organisation's name: case and spacing do not make a new book."""
    return " ".join(organisation.casefold().split())[:200]


# --- images ----------------------------------------------------------------------------------------


class ImageError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def check_image(data: bytes) -> str:
    """The MIME type of a PNG or JPEG of at most 1 MB that really decodes; ImageError otherwise."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_IMAGE_BYTES:
        raise ImageError("too_large")
    mime = next((m for magic, m in _MAGIC.items() if data.startswith(magic)), None)
    if mime is None:
        raise ImageError("not_an_image")
    try:
        with Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[mime]]) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ImageError("too_many_pixels")
            image.load()  # decodes every pixel: a truncated or forged file fails here
    except ImageError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageError("not_an_image") from exc
    return mime


# --- reading and saving ----------------------------------------------------------------------------


def find(db: Session, event_id: int) -> CertificatePolicy | None:
    return db.scalar(select(CertificatePolicy).where(CertificatePolicy.event_id == event_id))


#: what an image field of a saved policy means: None keeps the stored image, b"" removes it
KEEP = None


def save(
    db: Session,
    event_id: int,
    fields: dict[str, Any],
    images: dict[ImageKind, bytes | None],
    staff: str | None,
) -> tuple[CertificatePolicy, bool]:
    """Create or replace the event's policy (the whole object); returns (policy, created).

    `fields` are checked already (schemas.PolicyIn); images are checked here, before anything is written.
    """
    mimes = {kind: check_image(data) for kind, data in images.items() if data}
    policy = find(db, event_id)
    created = policy is None
    if created:
        policy = CertificatePolicy(event_id=event_id)
        db.add(policy)
    for name, value in fields.items():
        setattr(policy, name, value)
    if not policy.organisation_key:
        policy.organisation_key = organisation_key(policy.organisation)
    for kind, data in images.items():
        if data is KEEP:
            continue
        setattr(policy, kind.value, data or None)
        setattr(policy, f"{kind.value}_mime", mimes.get(kind))
    policy.updated_by = staff
    db.commit()
    return policy, created


def set_image(
    db: Session, policy: CertificatePolicy, kind: ImageKind, data: bytes, staff: str | None
) -> None:
    """Store (or, with empty data, remove) one of the policy's images."""
    mime = check_image(data) if data else None
    setattr(policy, kind.value, data or None)
    setattr(policy, f"{kind.value}_mime", mime)
    policy.updated_by = staff
    db.commit()
