"""Feedback's tables: surveys, their questions, responses."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, DateTime, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from eventops.db import new_metadata, utcnow


class Base(DeclarativeBase):
    metadata = new_metadata()



class QuestionKind(str, enum.Enum):
    single = "single"
    multiple = "multiple"
    rating = "rating"  # 1-5 Likert
    nps = "nps"  # 0-10
    text = "text"


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the event in registration's database
    event_id: Mapped[int] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(300))
    #: anonymous surveys never store who answered
    anonymous: Mapped[bool] = mapped_column(default=True)
    #: results of a group smaller than this are hidden
    min_group_size: Mapped[int] = mapped_column(Integer, default=3)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    questions: Mapped[list[Question]] = relationship(order_by="Question.position",
                                                     cascade="all, delete-orphan")


class Question(Base):
    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    #: short stable name, the key of the answer in a response
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[QuestionKind] = mapped_column(Enum(QuestionKind, native_enum=False, length=16))
    #: the choices of a single or multiple choice question
    options: Mapped[list] = mapped_column(JSON, default=list)

    __table_args__ = (UniqueConstraint("survey_id", "key", name="uq_questions_survey_key"),)


class SurveyResponse(Base):
    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    #: None for an anonymous survey
    participant_id: Mapped[int | None]
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    answers: Mapped[list[Answer]] = relationship(cascade="all, delete-orphan")


class Answer(Base):
    """One answer to one question; a multiple-choice answer is one row per chosen option,
    so that results are counted in SQL."""

    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    #: the chosen option of a choice question
    choice: Mapped[str | None] = mapped_column(String(500))
    #: the score of a rating or NPS question
    score: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_answers_question_choice", "question_id", "choice"),)
