"""Finding participants: the active search of organisers and the check-in screen, and the lookup of
whatever a barcode scanner or a person types at the door (a code, a token, a personal-page URL).

A query's words are folded like the stored search text (see text.fold_for_search) and must all occur in
it. A word of three or more characters may occur anywhere ("елк" finds «Белкина»); a shorter one only at
the start of a word ("ив" finds «Иванов», not «Сивцев»): two letters occur inside half of any list, and
no trigram index can serve them. Both databases answer from a trigram index: pg_trgm's GIN index on
PostgreSQL, an FTS5 trigram table on SQLite (see the migration dfc08ad52759).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import and_, bindparam, case, column, false, func, or_, select, table, true
from sqlalchemy.orm import Session

from services.registration.models import Participant
from services.registration.regions import region_name
from services.registration.text import fold_code, fold_for_search

# Best first: the exact participant code, then a surname prefix, then a first-name or patronymic prefix.
RANK_CODE, RANK_SURNAME, RANK_NAME, RANK_OTHER = range(4)

#: shorter query words match the start of a word only
SUBSTRING_MIN_LENGTH = 3

#: SQLite only: FTS5 trigram index over participants.search_text, kept in step by triggers
participants_search = table("participants_search", column("rowid"), column("search_text"))

# What a participant code can look like once folded; anything else is not compared with codes at all.
_CODE = re.compile(r"[0-9A-Z]{4,12}")

# A badge's QR holds <PUBLIC_URL>/p/<token>; the scanner types it as it is.
_PERSONAL_PAGE_URL = re.compile(r"/p/([A-Za-z0-9_-]+)/?$")

_CARD_COLUMNS = (
    Participant.id,
    Participant.event_id,
    Participant.code,
    Participant.surname,
    Participant.first_name,
    Participant.patronymic,
    Participant.organisation,
    Participant.region_code,
    Participant.status,
    Participant.email,
    Participant.gender,
)


@dataclass(frozen=True)
class Found:
    items: list[dict]
    #: how many participants match in all, of which `items` holds the best ones
    total: int


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(column_, name: str):
    return column_.like(bindparam(name), escape="\\")


def needle(word: str) -> str:
    """What the search text must contain for a folded query word (search texts start with a space)."""
    return word if len(word) >= SUBSTRING_MIN_LENGTH else " " + word


def _uses_fts(needle_: str, dialect: str) -> bool:
    return dialect == "sqlite" and len(needle_) >= 3  # FTS5's trigram index answers three characters or more


def _holds(name: str, fts: bool):
    """The search text holds the needle bound to `name`: a trigram table lookup or a LIKE pattern."""
    if fts:
        return Participant.id.in_(
            select(participants_search.c.rowid).where(
                participants_search.c.search_text.match(bindparam(name))
            )
        )
    return _like(Participant.search_text, name)


def _pattern(needle_: str, fts: bool) -> str:
    return '"' + needle_.replace('"', '""') + '"' if fts else f"%{_like_escape(needle_)}%"


@lru_cache(maxsize=256)
def _statement(dialect: str, fts_needles: tuple[bool, ...], code_needle: bool | None):
    """The search statement for one shape of query (how many words, which of them FTS answers, whether
    it may be a code); the values are bound when it runs. Building it costs more than running it."""
    matches = and_(true(), *(_holds(f"needle_{i}", fts) for i, fts in enumerate(fts_needles)))
    is_code = false()
    if code_needle is not None:
        is_code = Participant.code == bindparam("code")
        # A code typed with Cyrillic look-alikes («КАТ234») is in the search text in Latin letters.
        matches = or_(matches, _holds("code_needle", code_needle))
    rank = case(
        (is_code, RANK_CODE),
        (_like(Participant.name_key, "name_start"), RANK_SURNAME),
        (_like(Participant.name_key, "word_start"), RANK_NAME),
        else_=RANK_OTHER,
    )
    return (
        select(*_CARD_COLUMNS, func.count().over().label("total"))
        .where(_in_event(dialect), matches)
        .order_by(rank, Participant.surname_key, Participant.name_key, Participant.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


def _in_event(dialect: str):
    if dialect == "sqlite":
        # SQLite would walk all the event's rows by the (event_id, surname_key) index and test each one;
        # "+ 0" hides that index, so that it reads only the rows the FTS index names.
        return Participant.event_id + 0 == bindparam("event_id")
    return Participant.event_id == bindparam("event_id")


def search_participants(session: Session, event_id: int, query: str, limit: int, offset: int = 0) -> Found:
    """Participants of the event whose search text holds every word of the query, best first; `limit` of
    them after the first `offset` (a page of the organisers' list)."""
    dialect = session.get_bind().dialect.name
    folded, code = fold_for_search(query), fold_code(query)
    needles = [needle(word) for word in folded.split()]
    fts = tuple(_uses_fts(needle_, dialect) for needle_ in needles)
    values = {f"needle_{i}": _pattern(needle_, fts[i]) for i, needle_ in enumerate(needles)}
    values.update(
        event_id=event_id,
        limit=limit,
        offset=offset,
        name_start=f"{_like_escape(folded)}%",
        word_start=f"% {_like_escape(folded)}%",
    )
    code_needle = None
    if _CODE.fullmatch(code):
        code_needle = _uses_fts(code.lower(), dialect)
        values.update(code=code, code_needle=_pattern(code.lower(), code_needle))
    statement = _statement(dialect, fts, code_needle)
    rows = session.connection().execute(statement, values).all()
    # The total rides along on every row (a window count), so one query serves both; a page past the end
    # has no row to carry it, so the first row is asked for it (a list that shrank under an open page).
    if rows:
        total = rows[0].total
    elif offset:
        first = session.connection().execute(statement, {**values, "limit": 1, "offset": 0}).first()
        total = first.total if first else 0
    else:
        total = 0
    return Found(items=[card(row) for row in rows], total=total)


def card(participant) -> dict:
    """A participant (a row or a model) as search results and the check-in screen show them."""
    full_name = " ".join(filter(None, (participant.surname, participant.first_name, participant.patronymic)))
    return {
        "id": participant.id,
        "event_id": participant.event_id,
        "code": participant.code,
        "surname": participant.surname,
        "first_name": participant.first_name,
        "patronymic": participant.patronymic,
        "full_name": full_name,
        "organisation": participant.organisation,
        "region_code": participant.region_code,
        "region_name": region_name(participant.region_code),
        "status": participant.status,
        "email": participant.email,
        "gender": participant.gender,
    }


def token_in(text: str) -> str | None:
    """The personal token at the end of a personal-page URL, or None if the text is not such a URL."""
    found = _PERSONAL_PAGE_URL.search(text.strip().split("?")[0].split("#")[0])
    return found.group(1) if found else None


def look_up(session: Session, event_id: int, text: str) -> Participant | None:
    """The event's participant named by a participant code, a personal token or a personal-page URL."""
    text = text.strip()
    token = token_in(text)
    if token:
        return _by_token(session, event_id, token)
    by_code = session.scalar(
        select(Participant).where(Participant.event_id == event_id, Participant.code == fold_code(text))
    )
    return by_code or _by_token(session, event_id, text)


def _by_token(session: Session, event_id: int, token: str) -> Participant | None:
    return session.scalar(
        select(Participant).where(Participant.token == token, Participant.event_id == event_id)
    )


def by_token(session: Session, token: str) -> Participant | None:
    return session.scalar(select(Participant).where(Participant.token == token))
