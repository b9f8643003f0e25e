"""Building surveys: the course survey, per-session forms made from the programme, questions in order,
opening and closing, and a survey's definition as a portable file. No Flask here: functions take the
database session and raise problems (eventops.problems) with translated messages."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from eventops.db import utcnow
from eventops.i18n import TIMEZONE
from eventops.problems import Problem, field_error, invalid_request_detail, not_found
from services.feedback import schemas
from services.feedback.models import (
    CHOICE_KINDS,
    Answer,
    Question,
    QuestionKind,
    Survey,
    SurveyKind,
    SurveyResponse,
    SurveyStatus,
)

LOCAL = ZoneInfo(TIMEZONE)


def as_utc(moment: datetime | None) -> datetime | None:
    """A moment in UTC; a naive one is read as Moscow time, the time the programme is written in."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL)
    return moment.astimezone(UTC)


def new_option_id() -> str:
    return secrets.token_hex(4)  # hex never spells "other", the id of «другое»


# --- loading what a URL names -----------------------------------------------------------------------------


def get_survey(session: Session, survey_id: int) -> Survey:
    # With its questions in the same query: almost every request reads them (a save checks each answer),
    # and on PostgreSQL each query is a round trip.
    survey = session.get(Survey, survey_id, options=[joinedload(Survey.questions)])
    if survey is None:
        raise not_found(_("There is no such survey."))
    return survey


def get_question(survey: Survey, question_id: int) -> Question:
    question = next((q for q in survey.live_questions if q.id == question_id), None)
    if question is None:
        raise not_found(_("There is no such question in this survey."))
    return question


def list_surveys(session: Session, event_id: int) -> list[Survey]:
    return list(session.scalars(select(Survey).where(Survey.event_id == event_id).order_by(Survey.id)))


# --- how a survey is shown to the gateway -----------------------------------------------------------------


def response_counts(session: Session, survey_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """{survey id: (submitted, partial)} in one query."""
    if not survey_ids:
        return {}
    rows = session.execute(
        select(
            SurveyResponse.survey_id,
            func.count().filter(SurveyResponse.submitted_at.is_not(None)),
            func.count().filter(SurveyResponse.submitted_at.is_(None)),
        )
        .where(SurveyResponse.survey_id.in_(survey_ids))
        .group_by(SurveyResponse.survey_id)
    ).all()
    return {survey_id: (submitted, partial) for survey_id, submitted, partial in rows}


def answer_counts(session: Session, question_ids: Sequence[int]) -> dict[int, int]:
    """{question id: submitted responses that answered it}."""
    if not question_ids:
        return {}
    rows = session.execute(
        select(Answer.question_id, func.count())
        .where(Answer.question_id.in_(question_ids), Answer.ordinal == 0)
        .group_by(Answer.question_id)
    ).all()
    return dict(rows)


def _summary_fields(survey: Survey, counts: tuple[int, int], now: datetime) -> dict:
    submitted, partial = counts
    return dict(
        id=survey.id,
        event_id=survey.event_id,
        title=survey.title,
        kind=survey.kind,
        session_id=survey.session_id,
        session_title=survey.session_title,
        session_starts_at=survey.session_starts_at,
        anonymous=survey.anonymous,
        min_group_size=survey.min_group_size,
        status=survey.status,
        opens_at=survey.opens_at,
        closes_at=survey.closes_at,
        answerable=survey.is_open(now),
        public_token=survey.public_token if survey.anonymous else None,
        questions_count=sum(1 for q in survey.live_questions if q.kind is not QuestionKind.section),
        responses_count=submitted,
        partial_count=partial,
        created_by=survey.created_by,
        created_at=survey.created_at,
        updated_at=survey.updated_at,
    )


def summaries(session: Session, surveys: Sequence[Survey]) -> list[schemas.SurveySummary]:
    counts = response_counts(session, [s.id for s in surveys])
    now = utcnow()
    return [schemas.SurveySummary(**_summary_fields(s, counts.get(s.id, (0, 0)), now)) for s in surveys]


def question_out(question: Question, answers_count: int = 0) -> schemas.QuestionOut:
    labels = question.option_labels()
    return schemas.QuestionOut(
        id=question.id,
        position=question.position,
        kind=question.kind,
        text=question.text,
        description=question.description,
        required=question.required,
        options=[schemas.OptionOut(id=i, label=labels[i]) for i in question.live_option_ids()],
        allow_other=question.allow_other,
        answers_count=answers_count,
    )


def ordered(questions: Iterable[Question]) -> list[Question]:
    return sorted(questions, key=lambda q: (q.position, q.id or 0))


def survey_out(session: Session, survey: Survey) -> schemas.SurveyOut:
    counts = response_counts(session, [survey.id]).get(survey.id, (0, 0))
    live = ordered(survey.live_questions)
    answered = answer_counts(session, [q.id for q in live])
    return schemas.SurveyOut(
        **_summary_fields(survey, counts, utcnow()),
        questions=[question_out(q, answered.get(q.id, 0)) for q in live],
    )


def survey_form_out(survey: Survey) -> schemas.SurveyForm:
    """The survey for its form: no query beyond the survey itself."""
    return schemas.SurveyForm(
        id=survey.id,
        event_id=survey.event_id,
        title=survey.title,
        kind=survey.kind,
        session_id=survey.session_id,
        session_title=survey.session_title,
        anonymous=survey.anonymous,
        status=survey.status,
        opens_at=survey.opens_at,
        answerable=survey.is_open(utcnow()),
        public_token=survey.public_token if survey.anonymous else None,
        questions=[question_out(q) for q in ordered(survey.live_questions)],
    )


# --- questions --------------------------------------------------------------------------------------------


def _option_errors(kind: QuestionKind, labels: list[str], allow_other: bool, prefix: str) -> list[dict]:
    errors = []
    if kind in CHOICE_KINDS:
        if len(labels) < 2:
            errors.append(
                field_error(
                    f"{prefix}options", "too_few_options", _("A choice question needs at least two options.")
                )
            )
        folded = [label.casefold() for label in labels]
        for index, label in enumerate(folded):
            if label in folded[:index]:
                errors.append(
                    field_error(
                        f"{prefix}options.{index}.label",
                        "duplicate_option",
                        _("This option is already in the list."),
                    )
                )
    else:
        if labels:
            errors.append(
                field_error(
                    f"{prefix}options",
                    "options_not_allowed",
                    _("Only single and multiple choice questions have options."),
                )
            )
        if allow_other:
            errors.append(
                field_error(
                    f"{prefix}allow_other",
                    "other_not_allowed",
                    _("«Other» can only be offered in a choice question."),
                )
            )
    return errors


def _refuse(errors: list[dict]) -> None:
    if errors:
        raise Problem(422, detail=invalid_request_detail(), errors=errors)


def _new_question(
    data: schemas.QuestionIn | schemas.DefinitionQuestion, survey_id: int | None = None
) -> Question:
    labels = [o if isinstance(o, str) else o.label for o in data.options]
    return Question(
        survey_id=survey_id,
        kind=data.kind,
        text=data.text,
        description=data.description,
        # A section is a heading: nothing to require.
        required=data.required and data.kind is not QuestionKind.section,
        options=[{"id": new_option_id(), "label": label, "removed": False} for label in labels],
        allow_other=data.allow_other,
        removed=False,
    )


def _check_new_question(data, prefix: str = "") -> list[dict]:
    labels = [o if isinstance(o, str) else o.label for o in data.options]
    errors = _option_errors(data.kind, labels, data.allow_other, prefix)
    if not isinstance(data, schemas.DefinitionQuestion):
        errors += [
            field_error(f"{prefix}options.{i}.id", "unknown_option", _("There is no such option."))
            for i, option in enumerate(data.options)
            if option.id is not None
        ]
    return errors


def _place(survey: Survey, question: Question, position: int | None) -> None:
    live = ordered(q for q in survey.live_questions if q is not question)
    index = len(live) if position is None else min(position, len(live))
    live.insert(index, question)
    for number, item in enumerate(live):
        item.position = number


def _touch(survey: Survey) -> None:
    survey.updated_at = utcnow()


def add_question(session: Session, survey: Survey, data: schemas.QuestionIn) -> Question:
    _refuse(_check_new_question(data))
    question = _new_question(data, survey.id)
    survey.questions.append(question)
    _place(survey, question, data.position)
    _touch(survey)
    session.commit()
    return question


def _has_answers(session: Session, question: Question) -> bool:
    return session.scalar(select(func.count()).where(Answer.question_id == question.id)) > 0


def update_question(
    session: Session, survey: Survey, question: Question, patch: schemas.QuestionPatch
) -> Question:
    kind = patch.kind or question.kind
    if kind is not question.kind and _has_answers(session, question):
        raise Problem(
            409,
            detail=_(
                "This question already has answers: its type cannot change. Add a new question instead."
            ),
        )
    options = question.options
    if patch.options is not None:
        options, errors = _merge_options(question.options, patch.options)
        _refuse(errors)
    elif kind not in CHOICE_KINDS:
        options = []
    allow_other = question.allow_other if patch.allow_other is None else patch.allow_other
    if kind not in CHOICE_KINDS and patch.allow_other is None:
        allow_other = False
    live_labels = [o["label"] for o in options if not o.get("removed")]
    _refuse(_option_errors(kind, live_labels, allow_other, ""))
    question.kind, question.options, question.allow_other = kind, options, allow_other
    if patch.text is not None:
        question.text = patch.text
    if patch.description is not None:
        question.description = patch.description
    if patch.required is not None:
        question.required = patch.required
    if kind is QuestionKind.section:
        question.required = False
    _touch(survey)
    session.commit()
    return question


def _merge_options(current: list[dict], given: list[schemas.OptionIn]) -> tuple[list[dict], list[dict]]:
    """The new option list: given ids keep their option (renamed, restored), new labels get new ids, and
    options left out stay as removed, so that answers which chose them remain readable."""
    known = {option["id"]: option for option in current}
    errors, merged, kept = [], [], set()
    for index, option in enumerate(given):
        if option.id is None:
            merged.append({"id": new_option_id(), "label": option.label, "removed": False})
        elif option.id not in known or option.id in kept:
            errors.append(field_error(f"options.{index}.id", "unknown_option", _("There is no such option.")))
        else:
            kept.add(option.id)
            merged.append({"id": option.id, "label": option.label, "removed": False})
    merged += [{**option, "removed": True} for option in current if option["id"] not in kept]
    return merged, errors


def remove_question(session: Session, survey: Survey, question: Question) -> None:
    """A question without answers goes; one with answers leaves the form but stays in the results."""
    if _has_answers(session, question):
        question.removed = True
    else:
        survey.questions.remove(question)
        session.delete(question)
    for number, item in enumerate(q for q in ordered(survey.live_questions) if q is not question):
        item.position = number
    _touch(survey)
    session.commit()


def move_question(session: Session, survey: Survey, question: Question, move: schemas.MoveIn) -> None:
    if (move.position is None) == (move.direction is None):
        raise Problem(
            422,
            detail=invalid_request_detail(),
            errors=[
                field_error(
                    "position",
                    "position_or_direction",
                    _("Give either a new position or a direction (up or down)."),
                )
            ],
        )
    live = ordered(survey.live_questions)
    current = live.index(question)
    if move.position is not None:
        target = move.position
    else:
        target = max(0, current - 1) if move.direction == "up" else current + 1
    _place(survey, question, target)
    _touch(survey)
    session.commit()


# --- surveys ----------------------------------------------------------------------------------------------


def _questions_from(session: Session, items: Sequence, survey: Survey) -> None:
    errors = []
    for index, item in enumerate(items):
        errors += _check_new_question(item, prefix=f"questions.{index}.")
    _refuse(errors)
    for index, item in enumerate(items):
        question = _new_question(item)
        question.position = index
        survey.questions.append(question)


def create_survey(session: Session, event_id: int, data: schemas.SurveyIn, created_by: str | None) -> Survey:
    survey = Survey(
        event_id=event_id,
        title=data.title,
        kind=SurveyKind.course,
        anonymous=data.anonymous,
        min_group_size=data.min_group_size,
        status=SurveyStatus.draft,
        opens_at=as_utc(data.opens_at),
        created_by=created_by,
    )
    _questions_from(session, data.questions, survey)
    session.add(survey)
    session.commit()
    return survey


def _responses_exist(session: Session, survey: Survey) -> bool:
    return session.scalar(select(func.count()).where(SurveyResponse.survey_id == survey.id)) > 0


def update_survey(session: Session, survey: Survey, patch: schemas.SurveyPatch) -> Survey:
    given = patch.model_fields_set
    if (
        "anonymous" in given
        and patch.anonymous is not None
        and patch.anonymous != survey.anonymous
        and _responses_exist(session, survey)
    ):
        raise Problem(
            409,
            detail=_(
                "This survey already has responses: whether it is anonymous cannot "
                "change any more. Make a copy of it instead."
            ),
        )
    if patch.title is not None:
        survey.title = patch.title
    if patch.anonymous is not None:
        survey.anonymous = patch.anonymous
    if patch.min_group_size is not None:
        survey.min_group_size = patch.min_group_size
    if "opens_at" in given:
        survey.opens_at = as_utc(patch.opens_at)
    _touch(survey)
    session.commit()
    return survey


def delete_survey(session: Session, survey: Survey) -> None:
    if _responses_exist(session, survey):
        raise Problem(
            409, detail=_("This survey already has responses and cannot be deleted. Close it instead.")
        )
    session.delete(survey)
    session.commit()


def open_survey(session: Session, survey: Survey) -> Survey:
    """Open it now: a draft starts taking answers, a closed survey takes them again, and a form that
    waits for its session to start opens at once."""
    if not any(q.kind is not QuestionKind.section for q in survey.live_questions):
        raise Problem(409, detail=_("Add at least one question before opening the survey."))
    now = utcnow()
    survey.status, survey.closes_at = SurveyStatus.open, None
    if survey.opens_at is None or survey.opens_at > now:
        survey.opens_at = now
    _touch(survey)
    session.commit()
    return survey


def close_survey(session: Session, survey: Survey) -> Survey:
    if survey.status is not SurveyStatus.open:
        raise Problem(409, detail=_("Only an open survey can be closed."))
    survey.status, survey.closes_at = SurveyStatus.closed, utcnow()
    _touch(survey)
    session.commit()
    return survey


# --- per-session forms ------------------------------------------------------------------------------------


def _session_form(event_id: int, item: schemas.SessionIn, created_by: str | None) -> Survey:
    starts_at = as_utc(item.starts_at)
    title = _("Feedback: %(session)s", session=item.title)
    survey = Survey(
        event_id=event_id,
        title=title[:300],
        kind=SurveyKind.session,
        session_id=item.session_id,
        session_title=item.title,
        session_starts_at=starts_at,
        anonymous=False,
        status=SurveyStatus.open,
        opens_at=starts_at,
        created_by=created_by,
    )
    survey.questions = [
        Question(
            position=0,
            kind=QuestionKind.rating,
            text=_("How useful was this session for you?"),
            description=_("1 — not at all, 5 — very useful"),
            required=True,
            options=[],
            allow_other=False,
            removed=False,
        ),
        Question(
            position=1,
            kind=QuestionKind.long_text,
            text=_("What could be improved?"),
            description="",
            required=False,
            options=[],
            allow_other=False,
            removed=False,
        ),
    ]
    return survey


def create_session_surveys(
    session: Session, event_id: int, sessions: Sequence[schemas.SessionIn], created_by: str | None
) -> tuple[list[Survey], list[int]]:
    """One short form per session of the programme, opening when the session starts. A session that
    already has its form is skipped, so sending the programme again adds only new sessions."""
    for attempt in range(2):
        have = set(
            session.scalars(
                select(Survey.session_id).where(Survey.event_id == event_id, Survey.session_id.is_not(None))
            )
        )
        created, skipped = [], []
        for item in sessions:
            if item.session_id in have:
                skipped.append(item.session_id)
                continue
            have.add(item.session_id)
            created.append(_session_form(event_id, item, created_by))
        session.add_all(created)
        try:
            session.commit()
            return created, skipped
        except IntegrityError:
            # Another request made some of these forms meanwhile: look again, once.
            session.rollback()
            if attempt:
                raise
    raise AssertionError("unreachable")


# --- definitions ------------------------------------------------------------------------------------------


def definition(survey: Survey) -> schemas.SurveyDefinition:
    return schemas.SurveyDefinition(
        title=survey.title,
        anonymous=survey.anonymous,
        min_group_size=survey.min_group_size,
        questions=[
            schemas.DefinitionQuestion(
                kind=q.kind,
                text=q.text,
                description=q.description,
                required=q.required,
                options=[q.option_labels()[i] for i in q.live_option_ids()],
                allow_other=q.allow_other,
            )
            for q in ordered(survey.live_questions)
        ],
    )


def import_definition(
    session: Session, event_id: int, data: schemas.SurveyDefinition, created_by: str | None
) -> Survey:
    """A new draft survey of this event from a definition file (another event's, or last year's)."""
    survey = Survey(
        event_id=event_id,
        title=data.title,
        kind=SurveyKind.course,
        anonymous=data.anonymous,
        min_group_size=data.min_group_size,
        status=SurveyStatus.draft,
        created_by=created_by,
    )
    _questions_from(session, data.questions, survey)
    session.add(survey)
    session.commit()
    return survey
