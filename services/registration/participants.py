"""Operations on participants shared by the API, the import and the demo data."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.registration import schemas
from services.registration.models import Participant, ParticipantStatus, new_participant_code
from services.registration.regions import Region, all_regions
from services.registration.text import fold, fold_for_search

# A six-character code from 31 letters collides rarely; a few fresh draws make a failure practically impossible.
CODE_ATTEMPTS = 5


class DuplicateEmail(Exception):
    """The event already has a participant with this e-mail (ignoring case and spaces)."""


def email_key(email: str) -> str:
    return email.strip().lower()


@cache
def regions_by_code() -> dict[str, Region]:
    return {region.code: region for region in all_regions()}


def region_name(code: str | None) -> str:
    region = regions_by_code().get(code or "")
    return region.name if region else ""


def apply_participant_fields(participant: Participant, data: schemas.ParticipantIn) -> None:
    update_participant(participant, data.model_dump())


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
    session: Session, event_id: int, data: schemas.ParticipantIn, *, consent_given_at: datetime | None = None
) -> Participant:
    """Registers a participant with a fresh code and commits; DuplicateEmail if the e-mail is taken.

    Both the e-mail and the code are unique within the event, so a failed insert is retried with a new
    code unless the e-mail turns out to be taken: a code collision is never reported as a duplicate.
    """
    for _attempt in range(CODE_ATTEMPTS):
        if email_taken(session, event_id, data.email):
            raise DuplicateEmail(data.email)
        participant = Participant(
            event_id=event_id, code=new_participant_code(), consent_given_at=consent_given_at
        )
        apply_participant_fields(participant, data)
        session.add(participant)
        try:
            session.commit()
            return participant
        except IntegrityError:
            session.rollback()
    raise RuntimeError(f"no free participant code in event {event_id} after {CODE_ATTEMPTS} attempts")


def save_participant_changes(session: Session, participant: Participant, changes: dict) -> None:
    """Applies an edit and commits; DuplicateEmail if the new e-mail belongs to another participant."""
    if "email" in changes and email_taken(
        session, participant.event_id, changes["email"], other_than=participant.id
    ):
        raise DuplicateEmail(changes["email"])
    update_participant(participant, changes)
    try:
        session.commit()
    except IntegrityError as exc:  # the same e-mail saved by someone else a moment ago
        session.rollback()
        raise DuplicateEmail(changes.get("email", participant.email)) from exc
