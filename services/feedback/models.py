"""Feedback's tables: surveys, their questions, responses and answers.

Anonymity lives in the schema, not only in the code that writes it:
- a response of an anonymous survey carries no participant, no region, no organisation (a check constraint),
  and its times are cut to the day, so that nothing can be matched against a log by the minute;
- response ids are random, and answers have no id of their own (on SQLite not even a hidden rowid),
  so the order in which people answered cannot be read back from the rows;
- the "this browser has answered" mark sits in its own table with no link to the response it goes with.
"""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from eventops.db import new_metadata, utcnow


class Base(DeclarativeBase):
    metadata = new_metadata()


class UTCDateTime(TypeDecorator):
    """A moment stored with its zone and always read back in UTC (SQLite returns it without a zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: an id that fits a JavaScript number and says nothing about when its row was written
RESPONSE_ID_BITS = 52
#: random response ids need a 64-bit column on PostgreSQL; on SQLite INTEGER is 64-bit and the rowid itself
ResponseId = BigInteger().with_variant(Integer(), "sqlite")


def new_response_id() -> int:
    # 2**52 values: two responses drawing the same id is as likely as guessing a 52-bit key.
    return secrets.randbits(RESPONSE_ID_BITS) or 1


def new_public_token() -> str:
    """256 random bits for a survey's anonymous link."""
    return secrets.token_urlsafe(32)


def day_only(moment: datetime) -> datetime:
    """The day of a moment (midnight UTC): what an anonymous response may say about when it was given."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


class SurveyKind(str, enum.Enum):
    #: the course's own survey, answered once per course
    course = "course"
    #: a short form about one session of the programme
    session = "session"


class SurveyStatus(str, enum.Enum):
    #: being built: nobody can answer yet
    draft = "draft"
    #: answerable from `opens_at` on
    open = "open"
    #: the organiser closed it: answers are final
    closed = "closed"


class QuestionKind(str, enum.Enum):
    rating = "rating"  # 1-5 Likert
    single = "single"
    multiple = "multiple"  # «выберите все подходящие»
    nps = "nps"  # 0-10
    short_text = "short_text"
    long_text = "long_text"
    #: a heading between questions; it takes no answer
    section = "section"


CHOICE_KINDS = frozenset({QuestionKind.single, QuestionKind.multiple})
SCORE_KINDS = frozenset({QuestionKind.rating, QuestionKind.nps})
TEXT_KINDS = frozenset({QuestionKind.short_text, QuestionKind.long_text})
#: the choice value of «другое», next to the options' own ids
OTHER = "other"


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the event in registration's database
    event_id: Mapped[int] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[SurveyKind] = mapped_column(
        Enum(SurveyKind, native_enum=False, length=16), default=SurveyKind.course
    )
    #: for a per-session form: the session in registration's database, and what it was called then
    session_id: Mapped[int | None]
    session_title: Mapped[str | None] = mapped_column(String(500))
    session_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: anonymous surveys are answered through `public_token`'s link and never store who answered
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    #: results of a group smaller than this are withheld by the API
    min_group_size: Mapped[int] = mapped_column(Integer, default=5)
    status: Mapped[SurveyStatus] = mapped_column(
        Enum(SurveyStatus, native_enum=False, length=16), default=SurveyStatus.draft
    )
    #: answers are taken from this moment on (a per-session form: the session's start); None: at once
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: when the organiser closed it
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: the anonymous link's secret (256 bits); every survey has one, only anonymous ones answer to it
    public_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_public_token)
    #: the staff member who created it (the gateway's username)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    questions: Mapped[list[Question]] = relationship(
        order_by="Question.position", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        # One form per session of an event: creating the forms from the programme twice adds nothing.
        UniqueConstraint("event_id", "session_id", name="uq_surveys_event_session"),
        CheckConstraint("kind <> 'session' OR session_id IS NOT NULL", name="session_form_has_session"),
        CheckConstraint("min_group_size >= 2", name="threshold_at_least_two"),
    )

    def is_open(self, now: datetime) -> bool:
        return self.status is SurveyStatus.open and (self.opens_at is None or self.opens_at <= now)

    @property
    def live_questions(self) -> list[Question]:
        """The questions as the form shows them now (removed ones keep only their answers)."""
        return [q for q in self.questions if not q.removed]


class Question(Base):
    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    #: order in the form, 0 first; sections count too
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[QuestionKind] = mapped_column(Enum(QuestionKind, native_enum=False, length=16))
    text: Mapped[str] = mapped_column(Text)
    #: a hint under the question (or under a section's heading)
    description: Mapped[str] = mapped_column(Text, default="")
    #: a required question must be answered before a response is submitted
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    #: choice questions: [{"id": "k3f9", "label": "...", "removed": false}]; ids never change, so renaming
    #: or removing an option after answers exist keeps those answers readable
    options: Mapped[list] = mapped_column(JSON, default=list)
    #: choice questions: «другое» with a free text, next to the options
    allow_other: Mapped[bool] = mapped_column(Boolean, default=False)
    #: removed from the form after it got answers: kept so that results still show them
    removed: Mapped[bool] = mapped_column(Boolean, default=False)

    def option_labels(self) -> dict[str, str]:
        return {option["id"]: option["label"] for option in self.options}

    def live_option_ids(self) -> list[str]:
        return [option["id"] for option in self.options if not option.get("removed")]


class SurveyResponse(Base):
    """One person's (or, for an anonymous survey, one browser's) answers to one survey."""

    __tablename__ = "responses"

    #: random (see new_response_id), never a sequence
    id: Mapped[int] = mapped_column(
        ResponseId, primary_key=True, autoincrement=False, default=new_response_id
    )
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    #: copied from the survey, so that the database itself refuses identity on an anonymous response
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the participant in registration's database; None on an anonymous survey
    participant_id: Mapped[int | None]
    #: the participant's region and organisation when they answered (the gateway sends them), for filters
    region_code: Mapped[str | None] = mapped_column(String(8))
    organisation: Mapped[str | None] = mapped_column(String(500))
    #: None while the response is partial; results count submitted responses only
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: the last save (for an anonymous response: its day)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: a partial response's answers so far, {question id: value} as the API takes them; they become answer
    #: rows (and count in the results) when the response is submitted, checked again then
    draft: Mapped[dict | None] = mapped_column(JSON)

    answers: Mapped[list[Answer]] = relationship(cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (
        # One response per participant and survey; anonymous responses (NULL) are not counted by it.
        UniqueConstraint("survey_id", "participant_id", name="uq_responses_survey_participant"),
        CheckConstraint(
            "NOT anonymous OR (participant_id IS NULL AND region_code IS NULL AND organisation IS NULL)",
            name="anonymous_has_no_identity",
        ),
        # Counts per survey, and the version of its results (results.data_version).
        Index("ix_responses_survey_submitted", "survey_id", "submitted_at", "updated_at"),
        # The group sizes behind the threshold: submitted responses per region and organisation.
        Index("ix_responses_survey_groups", "survey_id", "region_code", "organisation", "submitted_at"),
    )


class Answer(Base):
    """One answer of a submitted response to one question. A multiple-choice answer is one row per chosen
    option (ordinal 0, 1, ...), so that results are counted in SQL; «другое» is the choice OTHER with its
    text. Partial responses keep their answers in SurveyResponse.draft, so every row here counts.

    The respondent's region and organisation are copied from the response: results are counted from this
    table alone, each count an index range in GROUP BY order (no join, no sort)."""

    __tablename__ = "answers"

    response_id: Mapped[int] = mapped_column(
        ResponseId, ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True)
    #: 0 for the first (or only) value of an answer; the number of respondents of a question is the
    #: number of its ordinal-0 rows
    ordinal: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    #: the chosen option's id, or OTHER
    choice: Mapped[str | None] = mapped_column(String(64))
    #: the score of a rating (1-5) or NPS (0-10) question
    score: Mapped[int | None] = mapped_column(Integer)
    #: a free-text answer, or the text of «другое»
    text: Mapped[str | None] = mapped_column(Text)
    #: the response's region and organisation (None on an anonymous survey), for the filters
    region_code: Mapped[str | None] = mapped_column(String(8))
    organisation: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        Index("ix_answers_tally", "question_id", "choice", "score", "ordinal"),
        Index("ix_answers_region", "question_id", "region_code", "choice", "score", "ordinal"),
        Index("ix_answers_organisation", "question_id", "organisation", "choice", "score", "ordinal"),
        Index("ix_answers_groups", "question_id", "ordinal", "region_code", "organisation"),
        {"sqlite_with_rowid": False},
    )


class BrowserReceipt(Base):
    """ "This browser has answered this anonymous survey": a hash of a random key kept in the browser's
    cookie, nothing else. It points at no response, so even the browser's own key finds no answers."""

    __tablename__ = "browser_receipts"

    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True)
    #: HMAC-SHA256 of the browser's key under the survey's token: unrelated hashes on two surveys
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = ({"sqlite_with_rowid": False},)
