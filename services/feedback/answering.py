"""Answering: the rules an answer must follow, named responses saved as the participant goes, and
anonymous responses through a survey's link.

Every answer is checked against its question (range, known option, length, required on submit); any
error refuses the whole save, with one message per question, and nothing is written. A named response
is one per participant, editable until the survey closes; once submitted, every later save is checked
as a submit, so a submitted response never loses a required answer. An anonymous response carries no
participant, region, organisation or time finer than its day, and the mark that lets each browser
answer once points at no response (see models.py).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from eventops.problems import Problem, field_error, not_found
from services.feedback import schemas
from services.feedback.models import (
    OTHER,
    Answer,
    BrowserReceipt,
    Question,
    QuestionKind,
    Survey,
    SurveyResponse,
    SurveyStatus,
    day_only,
    new_response_id,
)

TEXT_LIMITS = {QuestionKind.short_text: 300, QuestionKind.long_text: 5000}
OTHER_LIMIT = 300
SCORE_RANGES = {QuestionKind.rating: (1, 5), QuestionKind.nps: (0, 10)}


@dataclass(frozen=True)
class Row:
    """One answer row before it is written: ordinal 0, 1, ... within its question."""

    choice: str | None = None
    score: int | None = None
    text: str | None = None


class BadAnswer(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _is_empty(value) -> bool:
    if value is None or value == "" or value == [] or value == {}:
        return True
    if isinstance(value, dict):
        return not value.get("choices") and not (value.get("other") or "").strip() and not value.get("choice")
    return False


def _score(question: Question, value) -> list[Row]:
    low, high = SCORE_RANGES[question.kind]
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())  # a form posts its radio buttons as text
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadAnswer("out_of_range", _("Choose a score from %(low)d to %(high)d.", low=low, high=high))
    return [Row(score=value)]


def _text(question: Question, value) -> list[Row]:
    if not isinstance(value, str):
        raise BadAnswer("not_text", _("Text is expected."))
    value, limit = value.strip(), TEXT_LIMITS[question.kind]
    if len(value) > limit:
        raise BadAnswer("too_long", _("Too long: at most %(n)s characters.", n=limit))
    return [Row(text=value)]


def _other_text(question: Question, value) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not question.allow_other:
        raise BadAnswer("other_not_allowed", _("This question has no «Other» answer."))
    if not isinstance(value, str):
        raise BadAnswer("not_text", _("Text is expected."))
    if len(value.strip()) > OTHER_LIMIT:
        raise BadAnswer("too_long", _("Too long: at most %(n)s characters.", n=OTHER_LIMIT))
    return value.strip()


def _choices(question: Question, chosen: list, other: str | None) -> list[Row]:
    live = set(question.live_option_ids())
    if not all(isinstance(option, str) for option in chosen):
        raise BadAnswer("not_an_option", _("Choose among the options of this question."))
    unknown = [option for option in chosen if option not in live]
    if unknown:
        raise BadAnswer("unknown_option", _("This option is not among the answers of this question."))
    rows = [Row(choice=option) for option in dict.fromkeys(chosen)]
    if other is not None:
        rows.append(Row(choice=OTHER, text=other))
    return rows


def _single(question: Question, value) -> list[Row]:
    if isinstance(value, dict):
        if set(value) - {"other"}:
            raise BadAnswer("invalid_shape", _("Choose one option, or write your own answer in «Other»."))
        return _choices(question, [], _other_text(question, value.get("other")))
    if not isinstance(value, str):
        raise BadAnswer("not_an_option", _("Choose one of the options."))
    return _choices(question, [value], None)


def _multiple(question: Question, value) -> list[Row]:
    if isinstance(value, dict):
        if set(value) - {"choices", "other"}:
            raise BadAnswer(
                "invalid_shape", _("Choose among the options, and write your own answer in «Other».")
            )
        chosen = value.get("choices") or []
        if not isinstance(chosen, list):
            raise BadAnswer("not_an_option", _("Choose among the options of this question."))
        return _choices(question, chosen, _other_text(question, value.get("other")))
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise BadAnswer("not_an_option", _("Choose among the options of this question."))
    return _choices(question, value, None)


def _no_answer(question: Question, value) -> list[Row]:
    raise BadAnswer("no_answer_expected", _("A section heading takes no answer."))


RULES = {
    QuestionKind.rating: _score,
    QuestionKind.nps: _score,
    QuestionKind.short_text: _text,
    QuestionKind.long_text: _text,
    QuestionKind.single: _single,
    QuestionKind.multiple: _multiple,
    QuestionKind.section: _no_answer,
}


def check_answers(survey: Survey, given: dict[str, object]) -> dict[Question, list[Row]]:
    """Every given answer as rows (an empty list clears it), or a 422 naming each bad answer."""
    by_id = {str(q.id): q for q in survey.live_questions}
    rows, errors = {}, []
    for key, value in given.items():
        question = by_id.get(key.strip())
        if question is None:
            errors.append(
                field_error(
                    f"answers.{key}", "unknown_question", _("There is no such question in this survey.")
                )
            )
            continue
        if _is_empty(value):
            rows[question] = []
            continue
        try:
            rows[question] = RULES[question.kind](question, value)
        except BadAnswer as bad:
            errors.append(field_error(f"answers.{question.id}", bad.code, bad.message))
    if errors:
        raise Problem(422, detail=_("Some answers need correcting: see the marked questions."), errors=errors)
    return rows


def _check_required(survey: Survey, answered: set[int]) -> None:
    missing = [
        q
        for q in survey.live_questions
        if q.required and q.kind is not QuestionKind.section and q.id not in answered
    ]
    if missing:
        raise Problem(
            422,
            detail=_("Some required questions are not answered yet."),
            errors=[
                field_error(f"answers.{q.id}", "required", _("Answer this question: it is required."))
                for q in sorted(missing, key=lambda q: q.position)
            ],
        )


def _check_answerable(survey: Survey, now: datetime) -> None:
    if survey.status is SurveyStatus.closed:
        raise Problem(
            409,
            detail=_(
                "This survey is closed, so answers can no longer be given or changed. "
                "Thank you for taking part!"
            ),
        )
    if not survey.is_open(now):
        raise Problem(409, detail=_("This survey is not open yet. Please come back later."))


def value_of(kind: QuestionKind | None, rows) -> schemas.AnswerValue:
    """An answer's rows (stored Answers or checked Rows) in the shape the API takes (see schemas.py)."""
    if not rows:
        return None
    chosen = [r.choice for r in rows if r.choice not in (None, OTHER)]
    other = next((r.text for r in rows if r.choice == OTHER), None)
    if kind in SCORE_RANGES:
        return rows[0].score
    if kind in TEXT_LIMITS:
        return rows[0].text
    if kind is QuestionKind.single:
        return {"other": other} if other is not None else (chosen[0] if chosen else None)
    if kind is QuestionKind.multiple:
        return {"choices": chosen, "other": other} if other is not None else chosen
    return None


def _stored_rows(session: Session, response_id: int) -> dict[int, list[Answer]]:
    rows: dict[int, list[Answer]] = {}
    for answer in session.scalars(
        select(Answer).where(Answer.response_id == response_id).order_by(Answer.question_id, Answer.ordinal)
    ):
        rows.setdefault(answer.question_id, []).append(answer)
    return rows


def _live_draft(survey: Survey, response: SurveyResponse) -> dict[str, object]:
    """The draft's answers to questions still on the form (a question may have gone since)."""
    live = {str(q.id) for q in survey.live_questions}
    return {key: value for key, value in (response.draft or {}).items() if key in live}


def answers_of(session: Session, survey: Survey, response: SurveyResponse) -> dict[str, schemas.AnswerValue]:
    """A response's answers in the shapes the API takes (see schemas.py)."""
    if response.submitted_at is None:
        return _live_draft(survey, response)
    kinds = {q.id: q.kind for q in survey.questions}
    return {str(q): value_of(kinds.get(q), rows) for q, rows in _stored_rows(session, response.id).items()}


def _write(session: Session, response: SurveyResponse, rows: dict[Question, list[Row]]) -> None:
    """Replaces the answer rows of the given questions (an empty list clears one)."""
    # Core statements: replacing an answer deletes and inserts the same key in one flush.
    if rows:
        session.execute(
            delete(Answer).where(
                Answer.response_id == response.id, Answer.question_id.in_([q.id for q in rows])
            )
        )
    values = [
        {
            "response_id": response.id,
            "question_id": question.id,
            "ordinal": ordinal,
            "choice": row.choice,
            "score": row.score,
            "text": row.text,
            "region_code": response.region_code,
            "organisation": response.organisation,
        }
        for question, question_rows in rows.items()
        for ordinal, row in enumerate(question_rows)
    ]
    if values:
        session.execute(insert(Answer), values)


def _answered_questions(session: Session, response_id: int) -> set[int]:
    return set(
        session.scalars(
            select(Answer.question_id).where(Answer.response_id == response_id, Answer.ordinal == 0)
        )
    )


# --- named responses --------------------------------------------------------------------------------------


def find_response(session: Session, survey: Survey, participant_id: int) -> SurveyResponse | None:
    return session.scalar(
        select(SurveyResponse).where(
            SurveyResponse.survey_id == survey.id, SurveyResponse.participant_id == participant_id
        )
    )


def own_response(session: Session, survey: Survey, participant_id: int) -> SurveyResponse:
    response = None if survey.anonymous else find_response(session, survey, participant_id)
    if response is None:
        raise not_found(_("No answers to this survey have been saved yet."))
    return response


def _response_for(session: Session, survey: Survey, participant_id: int, now: datetime) -> SurveyResponse:
    response = find_response(session, survey, participant_id)
    if response is not None:
        return response
    response = SurveyResponse(
        id=new_response_id(),
        survey_id=survey.id,
        anonymous=False,
        participant_id=participant_id,
        updated_at=now,
        draft={},
    )
    session.add(response)
    try:
        session.flush()
    except IntegrityError:
        # The same participant saved from another tab at this very moment: continue with that one.
        session.rollback()
        response = find_response(session, survey, participant_id)
        if response is None:
            raise
    return response


def _set_respondent(
    session: Session, response: SurveyResponse, respondent: schemas.Respondent | None
) -> None:
    if respondent is None:
        return
    region = respondent.region_code or None
    organisation = (respondent.organisation or "").strip() or None
    if (region, organisation) != (response.region_code, response.organisation):
        response.region_code, response.organisation = region, organisation
        if response.submitted_at is None:
            return  # a draft has no answer rows yet: they take the snapshot when written
        # The answers carry the same snapshot, so that results need no join.
        session.execute(
            update(Answer)
            .where(Answer.response_id == response.id)
            .values(region_code=region, organisation=organisation)
        )


def save_named(
    session: Session, survey: Survey, participant_id: int, data: schemas.ResponseIn, now: datetime
) -> SurveyResponse:
    """Saves some answers of a participant in one transaction: while the response is partial they go to
    its draft (checked one by one, nothing required yet); submitting checks the whole draft again, with
    the required questions, and turns it into answer rows; after that, each save changes the rows and
    is checked as a submit."""
    if survey.anonymous:
        raise Problem(409, detail=_("This survey is anonymous: it is answered through its link only."))
    _check_answerable(survey, now)
    rows = check_answers(survey, data.answers)
    response = _response_for(session, survey, participant_id, now)
    try:
        _set_respondent(session, response, data.respondent)
        if response.submitted_at is None:
            kinds = {str(q.id): q.kind for q in rows}
            draft = {
                **_live_draft(survey, response),
                **{str(q.id): value_of(kinds[str(q.id)], r) for q, r in rows.items()},
            }
            draft = {key: value for key, value in draft.items() if value is not None}
            if data.submit:
                # Checked again as a whole: a question may have changed since part of it was saved.
                every = check_answers(survey, draft)
                _check_required(survey, {q.id for q, question_rows in every.items() if question_rows})
                _write(session, response, every)
                response.submitted_at, response.draft = now, None
            else:
                response.draft = draft
        else:
            _write(session, response, rows)
            _check_required(survey, _answered_questions(session, response.id))
    except Problem:
        session.rollback()  # nothing half-saved
        raise
    response.updated_at = now
    session.commit()
    return response


def participant_surveys(
    session: Session, event_id: int, participant_id: int, now: datetime
) -> list[schemas.ParticipantSurvey]:
    surveys = [
        s
        for s in session.scalars(
            select(Survey)
            .where(Survey.event_id == event_id, Survey.status == SurveyStatus.open)
            .order_by(Survey.session_starts_at.is_(None).desc(), Survey.session_starts_at, Survey.id)
        )
        if s.is_open(now)
    ]
    submitted = dict(
        session.execute(
            select(SurveyResponse.survey_id, SurveyResponse.submitted_at).where(
                SurveyResponse.participant_id == participant_id,
                SurveyResponse.survey_id.in_([s.id for s in surveys]),
            )
        ).all()
    )
    items = []
    for survey in surveys:
        if survey.anonymous:
            progress = "anonymous"
        elif survey.id not in submitted:
            progress = "not_started"
        else:
            progress = "answered" if submitted[survey.id] is not None else "partial"
        items.append(
            schemas.ParticipantSurvey(
                id=survey.id,
                title=survey.title,
                kind=survey.kind,
                session_id=survey.session_id,
                session_title=survey.session_title,
                session_starts_at=survey.session_starts_at,
                anonymous=survey.anonymous,
                questions_count=sum(1 for q in survey.live_questions if q.kind is not QuestionKind.section),
                progress=progress,
                public_token=survey.public_token if survey.anonymous else None,
            )
        )
    return items


# --- anonymous responses ----------------------------------------------------------------------------------


def public_survey(session: Session, token: str) -> Survey:
    survey = session.scalar(select(Survey).where(Survey.public_token == token))
    if survey is None or not survey.anonymous or survey.status is SurveyStatus.draft:
        raise not_found(_("This survey link is not valid."))
    return survey


def browser_key_hash(survey: Survey, browser_key: str) -> str:
    """Keyed by the survey's token: one browser's marks on two surveys cannot be matched."""
    return hmac.new(survey.public_token.encode(), browser_key.encode(), hashlib.sha256).hexdigest()


def save_anonymous(
    session: Session, survey: Survey, data: schemas.AnonymousResponseIn, now: datetime
) -> None:
    _check_answerable(survey, now)
    rows = check_answers(survey, data.answers)
    _check_required(survey, {q.id for q, question_rows in rows.items() if question_rows})
    already = Problem(409, detail=_("This browser has already answered this survey. Thank you!"))
    key_hash = browser_key_hash(survey, data.browser_key)
    if session.get(BrowserReceipt, (survey.id, key_hash)) is not None:
        raise already
    day = day_only(now)
    response = SurveyResponse(
        id=new_response_id(),
        survey_id=survey.id,
        anonymous=True,
        participant_id=None,
        region_code=None,
        organisation=None,
        submitted_at=day,
        updated_at=day,
    )
    session.add(BrowserReceipt(survey_id=survey.id, key_hash=key_hash))
    session.add(response)
    try:
        session.flush()
        _write(session, response, {q: r for q, r in rows.items() if r})
        session.commit()
    except IntegrityError:
        session.rollback()  # the same browser, twice at once: the receipt's key let one through
        raise already from None
