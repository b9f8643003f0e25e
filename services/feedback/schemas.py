"""What the feedback API takes and returns."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.feedback.models import QuestionKind


class QuestionIn(BaseModel):
    key: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    text: str = Field(min_length=1, max_length=2000)
    kind: QuestionKind
    options: list[str] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def choices_have_options(self):
        if self.kind in (QuestionKind.single, QuestionKind.multiple) and len(self.options) < 2:
            raise ValueError("a choice question needs at least two options")
        return self


class QuestionOut(QuestionIn):
    model_config = ConfigDict(from_attributes=True)
    id: int
    position: int


class SurveyIn(BaseModel):
    event_id: int = Field(ge=1)
    title: str = Field(min_length=2, max_length=300)
    anonymous: bool = True
    min_group_size: int = Field(3, ge=1, le=50)
    questions: list[QuestionIn] = Field(min_length=1, max_length=100)


class SurveyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    event_id: int
    title: str
    anonymous: bool
    min_group_size: int
    questions: list[QuestionOut]
    responses_count: int = 0


class SurveyList(BaseModel):
    items: list[SurveyOut]


class ResponseIn(BaseModel):
    participant_id: int | None = None
    answers: dict[str, str | list[str] | int | None]


class OptionShare(BaseModel):
    option: str
    count: int
    percent: float


class QuestionResult(BaseModel):
    key: str
    text: str
    kind: QuestionKind
    #: respondents who answered this question: always shown next to percentages
    respondents: int
    hidden: bool = False
    options: list[OptionShare] = []
    mean: float | None = None
    nps: float | None = None


class SurveyResults(BaseModel):
    survey_id: int
    title: str
    respondents: int
    questions: list[QuestionResult]
