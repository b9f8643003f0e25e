"""What the feedback API takes and returns: every request and response model of the service.

Answer values, by question kind (the same shapes go in and come back):
- rating: a whole number 1-5; nps: a whole number 0-10;
- single: an option's id (`"a1b2c3d4"`), or `{"other": "free text"}` when «другое» is allowed;
- multiple: a list of option ids (`["a1b2c3d4", "e5f6a7b8"]`), or `{"choices": [...], "other": "free text"}`;
- short_text (at most 300 characters), long_text (at most 5000): a string;
- section: takes no answer.
An empty value (null, "", [], {}) clears the answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.feedback.models import QuestionKind, SurveyKind, SurveyStatus

Text = Annotated[str, StringConstraints(strip_whitespace=True)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
AnswerValue = int | str | list[str] | dict[str, Any] | None
#: what an answer may be sent as: checked against its question by answering.py, not coerced on the way in
#: (pydantic would read `true` as the score 1)
GivenAnswer = Any


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- building ---------------------------------------------------------------------------------------------


class OptionIn(Strict):
    #: an existing option's id to keep it (and its answers) while renaming; omitted for a new option
    id: str | None = Field(None, max_length=64)
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class QuestionIn(Strict):
    kind: QuestionKind
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""
    required: bool = False
    #: choice questions: at least two options, at most 50
    options: list[OptionIn] = Field(default_factory=list, max_length=50)
    #: choice questions: offer «другое» with a free text
    allow_other: bool = False
    #: where to insert it (0 = first); at the end when omitted
    position: int | None = Field(None, ge=0)


class QuestionPatch(Strict):
    """Only what is sent changes. `options` is the whole new list: options left out are removed (their
    answers stay readable in the results); a kind cannot change once the question has answers."""

    kind: QuestionKind | None = None
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] | None = (
        None
    )
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    required: bool | None = None
    options: list[OptionIn] | None = Field(None, max_length=50)
    allow_other: bool | None = None


class MoveIn(Strict):
    """Either a new position (0 = first, as in a drag and drop) or one step up or down."""

    position: int | None = Field(None, ge=0)
    direction: Literal["up", "down"] | None = None


class OptionOut(BaseModel):
    id: str
    label: str


class QuestionOut(BaseModel):
    id: int
    position: int
    kind: QuestionKind
    text: str
    description: str
    required: bool
    #: the options the form shows now (removed ones are not here, only in the results)
    options: list[OptionOut]
    allow_other: bool
    #: how many responses answered it: a kind cannot change, and deleting it keeps it in the results
    answers_count: int = 0


class SurveyIn(Strict):
    title: Title
    anonymous: bool = False
    min_group_size: int = Field(5, ge=2, le=100)
    #: answers are taken from this moment on once the survey is open; at once when omitted
    opens_at: datetime | None = None
    questions: list[QuestionIn] = Field(default_factory=list, max_length=200)


class SurveyPatch(Strict):
    title: Title | None = None
    #: cannot change once the survey has responses
    anonymous: bool | None = None
    min_group_size: int | None = Field(None, ge=2, le=100)
    opens_at: datetime | None = None


class SurveySummary(BaseModel):
    id: int
    event_id: int
    title: str
    kind: SurveyKind
    session_id: int | None
    session_title: str | None
    session_starts_at: datetime | None
    anonymous: bool
    min_group_size: int
    status: SurveyStatus
    opens_at: datetime | None
    closes_at: datetime | None
    #: open and past `opens_at`: participants can answer now
    answerable: bool
    #: the anonymous link's token (only for an anonymous survey; staff-only, like everything here)
    public_token: str | None
    questions_count: int
    #: submitted responses
    responses_count: int
    #: responses saved but not submitted yet
    partial_count: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class SurveyOut(SurveySummary):
    questions: list[QuestionOut]


class SurveyForm(BaseModel):
    """A survey as its form needs it, without any count: what answering and drawing results ask for, cheap
    to read at every refresh (counting the answers of a large survey is not)."""

    id: int
    event_id: int
    title: str
    kind: SurveyKind
    session_id: int | None
    session_title: str | None
    anonymous: bool
    status: SurveyStatus
    opens_at: datetime | None
    #: open and past `opens_at`: participants can answer now
    answerable: bool
    #: the anonymous link's token (only for an anonymous survey; staff-only, like everything here)
    public_token: str | None
    #: the live questions in order; their answers_count is not counted here (0)
    questions: list[QuestionOut]


class SurveyList(BaseModel):
    items: list[SurveySummary]


class SessionIn(Strict):
    session_id: int = Field(ge=1)
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    #: naive times are Moscow time, as the programme is written
    starts_at: datetime


class SessionSurveysIn(Strict):
    sessions: list[SessionIn] = Field(max_length=500)


class SessionSurveysOut(BaseModel):
    created: list[SurveySummary]
    #: sessions that already had their form
    skipped: list[int]


# --- definitions: a survey as a portable file -------------------------------------------------------------

DEFINITION_FORMAT = "eventops.survey"


class DefinitionQuestion(Strict):
    kind: QuestionKind
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""
    required: bool = False
    #: option labels, in order
    options: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]] = (
        Field(default_factory=list, max_length=50)
    )
    allow_other: bool = False


class SurveyDefinition(Strict):
    """A survey without anything of this database (no ids, no event, no answers): import it into another
    event to reuse it next course."""

    format: Literal["eventops.survey"] = DEFINITION_FORMAT
    version: Literal[1] = 1
    title: Title
    anonymous: bool = False
    min_group_size: int = Field(5, ge=2, le=100)
    questions: list[DefinitionQuestion] = Field(max_length=200)


# --- answering --------------------------------------------------------------------------------------------


class Respondent(Strict):
    """What the gateway knows of a named respondent, snapshotted for the filters of the results."""

    region_code: str | None = Field(None, max_length=8)
    organisation: str | None = Field(None, max_length=500)


class ResponseIn(Strict):
    #: {question id: value}; questions left out keep what was saved before
    answers: dict[str, GivenAnswer] = Field(default_factory=dict, max_length=300)
    #: false: keep what is there (a partial save, no required checks); true: check and submit
    submit: bool = False
    respondent: Respondent | None = None


class ResponseOut(BaseModel):
    survey_id: int
    participant_id: int
    answers: dict[str, AnswerValue]
    submitted: bool
    submitted_at: datetime | None
    updated_at: datetime


class ParticipantSurveysQuery(Strict):
    event_id: int = Field(ge=1)


class ParticipantSurvey(BaseModel):
    id: int
    title: str
    kind: SurveyKind
    session_id: int | None
    session_title: str | None
    session_starts_at: datetime | None
    anonymous: bool
    questions_count: int
    #: answered (submitted), partial (saved, not submitted), not_started; anonymous: answered through the
    #: link, and nothing here can say whether this participant did
    progress: Literal["answered", "partial", "not_started", "anonymous"]
    #: for an anonymous survey, the token of its link
    public_token: str | None = None


class ParticipantSurveys(BaseModel):
    items: list[ParticipantSurvey]


class PublicSurvey(BaseModel):
    """An anonymous survey as its link shows it."""

    title: str
    status: SurveyStatus
    #: open and past opens_at; when false the page says politely that it is not (or no longer) open
    answerable: bool
    opens_at: datetime | None
    questions: list[QuestionOut]


class AnonymousResponseIn(Strict):
    #: a random key the gateway keeps in the browser's cookie, so that each browser answers once
    browser_key: str = Field(min_length=32, max_length=200)
    answers: dict[str, GivenAnswer] = Field(default_factory=dict, max_length=300)


class Recorded(BaseModel):
    status: Literal["recorded"] = "recorded"


# --- results ----------------------------------------------------------------------------------------------


class ResultsQuery(Strict):
    #: filters: one of region and organisation at a time (two at once would let differences show a
    #: small group); session_id narrows to the survey's own session
    region: str | None = Field(None, max_length=8)
    organisation: str | None = Field(None, max_length=500)
    session_id: int | None = Field(None, ge=1)
    #: participants who could answer (the gateway passes those checked in): response rates against it
    population: int | None = Field(None, ge=0)
    #: free texts listed per question (the count says how many there are in all)
    texts_limit: int = Field(100, ge=0, le=1000)


class OptionResult(BaseModel):
    id: str
    label: str
    count: int
    #: share of the question's respondents, 0-100 with one decimal
    percent: float
    #: removed from the form after it was chosen: shown as «(удалённый вариант)» with its old label
    removed: bool = False


class OtherResult(BaseModel):
    count: int
    percent: float
    texts: list[str]


class ScoreCount(BaseModel):
    score: int
    count: int
    percent: float


class NpsResult(BaseModel):
    #: % promoters (9-10) minus % detractors (0-6), -100..100, one decimal
    score: float
    detractors: int
    passives: int
    promoters: int
    detractors_percent: float
    passives_percent: float
    promoters_percent: float


class QuestionResult(BaseModel):
    id: int
    position: int
    kind: QuestionKind
    text: str
    #: still on the form, or removed after it got answers
    removed: bool = False
    #: fewer respondents than the survey's threshold (under the filter): no counts, no texts
    withheld: bool = False
    #: respondents who answered this question (None when withheld): always shown next to percentages
    respondents: int | None = None
    #: respondents / population, 0-100 (when the gateway passed a population and no filter narrows)
    response_rate: float | None = None
    #: single and multiple
    options: list[OptionResult] = []
    other: OtherResult | None = None
    #: multiple choice: shares are of respondents, so they may add up to more than 100%
    shares_sum_over_100: bool = False
    #: rating (1-5) and nps (0-10): every score with its count
    distribution: list[ScoreCount] = []
    mean: float | None = None
    nps: NpsResult | None = None
    #: short and long texts (newest first, at most `texts_limit`); texts_count is how many there are
    texts: list[str] = []
    texts_count: int | None = None


class FilterChoice(BaseModel):
    value: str
    respondents: int


class SessionChoice(BaseModel):
    session_id: int
    title: str | None
    survey_id: int


class FilterChoices(BaseModel):
    #: regions and organisations with enough respondents to be shown on their own
    regions: list[FilterChoice]
    organisations: list[FilterChoice]
    #: the event's per-session forms (their results are those surveys' results)
    sessions: list[SessionChoice]


class AppliedFilters(BaseModel):
    region: str | None = None
    organisation: str | None = None
    session_id: int | None = None


class SurveyResults(BaseModel):
    survey_id: int
    title: str
    kind: SurveyKind
    anonymous: bool
    min_group_size: int
    filters: AppliedFilters
    #: the whole group under the filter is smaller than the threshold (or would show one by difference)
    withheld: bool
    #: submitted responses under the filter (None when withheld)
    respondents: int | None
    population: int | None
    response_rate: float | None
    questions: list[QuestionResult]
    choices: FilterChoices


class CrosstabQuery(Strict):
    question_id: int = Field(ge=1)
    by: Literal["region", "organisation"] = "region"


class CrosstabRow(BaseModel):
    #: a region code or an organisation
    value: str
    respondents: int
    #: counts per column, in the order of `columns`
    counts: list[int]


class CrosstabColumn(BaseModel):
    #: an option id, OTHER, or a score as text
    id: str
    label: str
    removed: bool = False


class Crosstab(BaseModel):
    survey_id: int
    question_id: int
    question_text: str
    by: Literal["region", "organisation"]
    #: the question itself has fewer respondents than the threshold: no rows at all
    withheld: bool
    columns: list[CrosstabColumn]
    rows: list[CrosstabRow]
    #: everyone in groups too small to show on their own, counted together (None when there are none);
    #: small groups are never listed, not even by name
    others: CrosstabRow | None
    total: CrosstabRow | None
