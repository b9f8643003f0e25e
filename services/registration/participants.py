"""Participants of an event: registering them (by staff, by themselves, from a spreadsheet), editing,
cancelling and restoring them, and the lists documents are made from."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.registration.errors import N_, Conflict, Forbidden, NotFound
from services.registration.models import Event, Participant, ParticipantStatus, new_participant_code, utcnow
from services.registration.regions import region_name
from services.registration.text import email_key, fold, fold_for_search

if TYPE_CHECKING:  # the API validates them; this module only reads them
    from services.registration.schemas import ParticipantIn, RegistrationIn

# A six-character code from 31 letters collides rarely; a few fresh draws make a failure practically
# impossible.
CODE_ATTEMPTS = 5


class DuplicateEmail(Conflict):
    """The event already has a participant with this e-mail (ignoring case and spaces)."""

    def __init__(self):
        super().__init__(
            "duplicate",
            N_("A participant with this e-mail is already registered for this event."),
            field="email",
        )


def get_participant(session: Session, event_id: int, participant_id: int) -> Participant:
    participant = session.get(Participant, participant_id)
    # The event is part of the lookup: an id from another event is simply not found.
    if participant is None or participant.event_id != event_id:
        raise NotFound("participant_not_found", N_("No such participant in this event."))
    return participant


def in_order(session: Session, event_id: int, *conditions) -> list[Participant]:
    """The event's participants (those meeting `conditions`) by surname, then name."""
    return list(
        session.scalars(
            select(Participant)
            .where(Participant.event_id == event_id, *conditions)
            .order_by(Participant.surname_key, Participant.name_key, Participant.id)
        )
    )


#: what another service needs of every participant to decide about them: who they are, whether their
#: registration stands, and the gender the wording of its sentences agrees with
ROSTER_COLUMNS = (
    Participant.id,
    Participant.surname,
    Participant.first_name,
    Participant.patronymic,
    Participant.status,
    Participant.gender,
)
#: what ФИС ФРДО asks of the holder of a document, on top of the roster
FRDO_COLUMNS = (
    Participant.birth_date,
    Participant.snils,
    Participant.citizenship,
    Participant.education_level,
    Participant.diploma_surname,
    Participant.diploma_series,
    Participant.diploma_number,
)


def roster(session: Session, event_id: int, frdo: bool = False) -> list[dict]:
    """The event's participants (cancelled ones too) in the list's order, as plain rows of only the
    roster's columns (and ФИС ФРДО's with `frdo`): a thousand of them are read without loading any
    personal data another service has no use for, and without building ORM objects."""
    columns = ROSTER_COLUMNS + (FRDO_COLUMNS if frdo else ())
    rows = session.execute(
        select(*columns)
        .where(Participant.event_id == event_id)
        .order_by(Participant.surname_key, Participant.name_key, Participant.id)
    ).mappings()
    return [
        {**row, "full_name": " ".join(p for p in (row["surname"], row["first_name"], row["patronymic"]) if p)}
        for row in rows
    ]


def for_badges(session: Session, event_id: int, ids: list[int] | None) -> list[Participant]:
    """The participants listed in `ids`, or everyone whose registration stands; NotFound for nobody."""
    if ids is None:
        participants = in_order(session, event_id, Participant.status != ParticipantStatus.cancelled)
    else:
        participants = in_order(session, event_id, Participant.id.in_(ids))
    if not participants:
        raise NotFound("nobody_for_badges", N_("There is nobody to print badges for."))
    return participants


def update_participant(participant: Participant, changes: dict) -> None:
    """Sets the given fields (surrounding spaces trimmed, markup kept as typed) and the derived keys."""
    for field, value in changes.items():
        if field == "status":
            participant.set_status(ParticipantStatus(value))
        else:
            setattr(participant, field, value.strip() if isinstance(value, str) else value)
    participant.email_key = email_key(participant.email)
    refresh_search_text(participant)


def refresh_search_text(participant: Participant) -> None:
    participant.surname_key = fold(participant.surname)
    participant.name_key = fold_for_search(participant.full_name)
    # The region's name as well as its code: staff type «татарстан», not «16». The leading space lets
    # " ив" find a word that starts with "ив" wherever it stands (see search.needle).
    participant.search_text = " " + fold_for_search(
        " ".join(
            filter(
                None,
                [
                    participant.surname,
                    participant.first_name,
                    participant.patronymic,
                    participant.email,
                    participant.organisation,
                    region_name(participant.region_code),
                    participant.region_code,
                    participant.code,
                ],
            )
        )
    )


def email_taken(session: Session, event_id: int, email: str, *, other_than: int | None = None) -> bool:
    query = select(Participant.id).where(
        Participant.event_id == event_id, Participant.email_key == email_key(email)
    )
    if other_than is not None:
        query = query.where(Participant.id != other_than)
    return bool(session.scalar(select(exists(query))))


def add_participant(
    session: Session, event_id: int, data: ParticipantIn, *, consent_given_at: datetime | None = None
) -> Participant:
    """Registers a participant with a fresh code and commits; DuplicateEmail if the e-mail is taken.

    Both the e-mail and the code are unique within the event, so a failed insert is retried with a new
    code unless the e-mail turns out to be taken: a code collision is never reported as a duplicate.
    """
    for _attempt in range(CODE_ATTEMPTS):
        if email_taken(session, event_id, data.email):
            raise DuplicateEmail()
        participant = Participant(
            event_id=event_id, code=new_participant_code(), consent_given_at=consent_given_at
        )
        update_participant(participant, data.model_dump())
        session.add(participant)
        try:
            session.commit()
            return participant
        except IntegrityError:
            session.rollback()
    raise RuntimeError(f"no free participant code in event {event_id} after {CODE_ATTEMPTS} attempts")


def register(session: Session, event: Event, form: RegistrationIn) -> Participant:
    """A person registers themselves on the public form: only while registration is open, with consent."""
    if not event.registration_open:
        raise Forbidden("registration_closed", N_("Registration for this event is closed."))
    return add_participant(session, event.id, form.participant(), consent_given_at=utcnow())


def save_participant_changes(session: Session, participant: Participant, changes: dict) -> None:
    """Applies an edit and commits; DuplicateEmail if the new e-mail belongs to another participant."""
    if "email" in changes and email_taken(
        session, participant.event_id, changes["email"], other_than=participant.id
    ):
        raise DuplicateEmail()
    update_participant(participant, changes)
    try:
        session.commit()
    except IntegrityError as exc:  # the same e-mail saved by someone else a moment ago
        session.rollback()
        raise DuplicateEmail() from exc


def cancel(session: Session, participant: Participant) -> None:
    """The record stays (the check-in screen must still recognise the person); cancelling twice is a no-op."""
    participant.cancel()
    session.commit()


def restore(session: Session, participant: Participant) -> None:
    participant.restore()
    session.commit()


# --- spreadsheet imports ---------------------------------------------------------------------------


def email_keys(session: Session, event_id: int) -> set[str]:
    """The e-mails the event already has, as the import compares them (text.email_key)."""
    return set(session.scalars(select(Participant.email_key).where(Participant.event_id == event_id)))


def add_imported(session: Session, event_id: int, people: Iterable[ParticipantIn]) -> int:
    """Adds these participants, each with a code unused in the event, and commits: all or nothing.

    Someone registering one of these e-mails meanwhile is a Conflict, and nothing of the import is kept.
    """
    codes = set(session.scalars(select(Participant.code).where(Participant.event_id == event_id)))
    participants = []
    for data in people:
        code = new_participant_code()
        while code in codes:
            code = new_participant_code()
        codes.add(code)
        participant = Participant(event_id=event_id, code=code)
        update_participant(participant, data.model_dump())
        participants.append(participant)
    session.add_all(participants)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(
            "registered_meanwhile",
            N_(
                "Some of these participants were registered by someone else while the file was being "
                "imported. Nothing was imported; run the import again to skip them."
            ),
        ) from None
    return len(participants)
