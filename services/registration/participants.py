"""Operations on participants shared by the API, the import and the demo data."""
from __future__ import annotations

from services.registration import schemas
from services.registration.models import Participant
from services.registration.text import fold


def email_key(email: str) -> str:
    return email.strip().lower()


def apply_participant_fields(participant: Participant, data: schemas.ParticipantIn) -> None:
    for field, value in data.model_dump().items():
        setattr(participant, field, value.strip() if isinstance(value, str) else value)
    participant.email_key = email_key(participant.email)
    refresh_search_text(participant)


def refresh_search_text(participant: Participant) -> None:
    participant.surname_key = fold(participant.surname)
    participant.search_text = fold(" ".join(filter(None, [
        participant.surname, participant.first_name, participant.patronymic, participant.email,
        participant.organisation, participant.region_code, participant.code])))
