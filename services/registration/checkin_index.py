"""The compact list of an event's participants a check-in tablet keeps, so that it can go on when the
venue Wi-Fi drops: what the screen shows of a person and what it needs to recognise them, nothing more.

No e-mail, phone or other personal data: a name, the organisation and region the results already show, the
badge code, and a hash of the personal token (so the badge's QR, a personal-page URL, is recognised without
the token itself ever reaching the tablet). The search text is folded here, by the same code as the
server's search, so the tablet's search and the server's cannot drift apart; the tablet folds only what
staff type (checkin-index.js keeps the same rules, tested against the same table of cases).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.registration.models import Participant
from services.registration.regions import region_name
from services.registration.text import fold_for_search

#: what each item of the index holds, in order (a list per person, not an object: far fewer bytes)
FIELDS = ("id", "name", "search", "code", "token_hash", "status", "gender", "meta")
#: hex digits of the token's SHA-256 a tablet gets: 64 bits tell 10,000 badges apart (a false match about
#: once in 10^11 scans) at a quarter of the bytes, and a 256-bit token cannot be found from its hash
TOKEN_HASH_DIGITS = 16

_COLUMNS = (
    Participant.id,
    Participant.surname,
    Participant.first_name,
    Participant.patronymic,
    Participant.organisation,
    Participant.region_code,
    Participant.code,
    Participant.token,
    Participant.status,
    Participant.gender,
)


def version(session: Session, event_id: int) -> str:
    """Changes whenever a participant of the event is added, changed or removed: one aggregate query,
    cheap enough to answer every tablet's «anything new?» with a 304."""
    count, latest = session.execute(
        select(func.count(), func.max(Participant.updated_at)).where(Participant.event_id == event_id)
    ).one()
    stamp = latest.isoformat() if latest is not None else "-"
    return hashlib.sha256(f"{event_id}:{count}:{stamp}".encode()).hexdigest()[:20]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:TOKEN_HASH_DIGITS]


def items(session: Session, event_id: int) -> list[tuple]:
    """One list per participant (see FIELDS), cancelled ones too (the screen must tell them), in the
    list's order, so that the tablet's results come out sorted as the server's do."""
    rows = session.execute(
        select(*_COLUMNS)
        .where(Participant.event_id == event_id)
        .order_by(Participant.surname_key, Participant.name_key, Participant.id)
    )
    return [_item(row) for row in rows]


def _item(row) -> tuple:
    name = " ".join(part for part in (row.surname, row.first_name, row.patronymic) if part)
    region = region_name(row.region_code) if row.region_code else ""
    meta = " · ".join(part for part in (row.organisation, region) if part)
    # Leading space: a short query word must start a word (as search.needle reads it)
    search = " " + fold_for_search(" ".join(filter(None, (name, row.organisation, region, row.code))))
    return (row.id, name, search, row.code, token_hash(row.token), row.status, row.gender, meta)
