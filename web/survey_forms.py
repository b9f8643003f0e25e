"""Forms of the survey pages: the builder's (survey, question) and the participant's answers, read into the
JSON the feedback service takes.

As everywhere in the gateway, the forms check only what is plain from the page (a title left empty); the
feedback service decides what is valid (options of a choice question, a score's range, a required answer)
and its refusals come back next to the field or the question they name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from web.clients import ServiceError
from web.forms import Choice

QUESTION_KINDS = {
    "rating": _l("Rating 1–5"),
    "single": _l("Single choice"),
    "multiple": _l("Multiple choice (all that apply)"),
    "nps": _l("Would you recommend it (NPS 0–10)"),
    "short_text": _l("Short text"),
    "long_text": _l("Long text"),
    "section": _l("Section heading"),
}
CHOICE_KINDS = ("single", "multiple")
SURVEY_STATUSES = {"draft": _l("draft"), "open": _l("open"), "closed": _l("closed")}
SURVEY_KINDS = {"course": _l("course survey"), "session": _l("session feedback")}
PROGRESS = {
    "answered": _l("answered"),
    "partial": _l("started, not sent"),
    "not_started": _l("not answered yet"),
    "anonymous": _l("anonymous"),
}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


#: the value of «Other» among a choice question's options (the service's own word for it)
OTHER = "other"
#: empty option rows the builder offers under a question's options, to add new ones without JavaScript
BLANK_OPTION_ROWS = 3


class SurveyForm(FlaskForm):
    title = StringField(_l("Title"), filters=[_strip], validators=[DataRequired(), Length(max=300)])
    anonymous = BooleanField(
        _l("Anonymous: answered through a link, nothing connects the answers to a person"),
        description=_l("Cannot change once the survey has responses."),
    )
    min_group_size = IntegerField(
        _l("Smallest group shown in the results"),
        default=5,
        validators=[InputRequired(), NumberRange(min=2, max=100)],
        description=_l("Figures of fewer respondents than this are withheld, filters included."),
    )

    def fill(self, survey: dict) -> SurveyForm:
        self.title.data = survey["title"]
        self.anonymous.data = survey["anonymous"]
        self.min_group_size.data = survey["min_group_size"]
        return self

    def payload(self) -> dict:
        return {
            "title": self.title.data,
            "anonymous": bool(self.anonymous.data),
            "min_group_size": self.min_group_size.data,
        }


@dataclass
class OptionRow:
    """One option of a choice question as the builder shows it: its stable id (None for a new one), its
    label, and what the service said about it."""

    id: str | None
    label: str
    errors: list[str] = field(default_factory=list)


class QuestionForm(FlaskForm):
    # The kinds the feedback service knows, each named here; it refuses any other value next to the field.
    kind = Choice(
        _l("Question type"),
        choices=[SelectChoice(value, label) for value, label in QUESTION_KINDS.items()],
        default="rating",
    )
    text = TextAreaField(
        _l("Question"), filters=[_strip], validators=[DataRequired(), Length(max=2000)], render_kw={"rows": 2}
    )
    description = TextAreaField(
        _l("Hint under the question"), filters=[_strip], validators=[Length(max=2000)], render_kw={"rows": 2}
    )
    required = BooleanField(_l("Required"))
    allow_other = BooleanField(_l("Offer «Other» with a free text"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        #: the option rows, in order; read from the posted form (option_id / option_label pairs)
        self.options: list[OptionRow] = []
        #: what the service said about the options as a whole (too few of them)
        self.options_errors: list[str] = []
        self.form_errors: list[str] = []

    def fill(self, question: dict) -> QuestionForm:
        for name in ("kind", "text", "description", "required", "allow_other"):
            getattr(self, name).data = question[name]
        self.options = [OptionRow(o["id"], o["label"]) for o in question["options"]]
        return self

    def read_options(self, formdata: MultiDict) -> QuestionForm:
        """The option rows as posted: a hidden id (empty for a new row) next to each label."""
        ids, labels = formdata.getlist("option_id"), formdata.getlist("option_label")
        self.options = [
            OptionRow(option_id.strip() or None, label.strip())
            for option_id, label in zip(ids, labels, strict=False)
        ]
        return self

    def rows_to_show(self) -> list[OptionRow]:
        """The options, then a few empty rows for new ones."""
        kept = [row for row in self.options if row.label or row.errors]
        return kept + [OptionRow(None, "") for _ in range(BLANK_OPTION_ROWS)]

    def _sent_options(self) -> list[OptionRow]:
        if self.kind.data not in CHOICE_KINDS:
            return []
        # An emptied row is an option removed (its answers stay readable in the results); an empty new row
        # is nothing.
        return [row for row in self.options if row.label]

    def payload(self) -> dict:
        # The options' fieldset is hidden for other kinds: what it holds then is not part of the question.
        choice = self.kind.data in CHOICE_KINDS
        return {
            "kind": self.kind.data,
            "text": self.text.data,
            "description": self.description.data or "",
            "required": bool(self.required.data),
            "options": [
                {"label": row.label, **({"id": row.id} if row.id else {})} for row in self._sent_options()
            ]
            if choice
            else [],
            "allow_other": bool(self.allow_other.data) and choice,
        }

    def show_refusal(self, refusal: ServiceError) -> None:
        """The service's errors next to the field, or the option row, they name."""
        sent = self._sent_options()
        for path, message in refusal.field_errors().items():
            parts = path.split(".")
            if parts[0] == "options" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(sent):
                sent[int(parts[1])].errors.append(message)
            elif parts[0] == "options":
                self.options_errors.append(message)
            elif parts[0] in self._fields and parts[0] != "csrf_token":
                self._fields[parts[0]].errors = [*self._fields[parts[0]].errors, message]
            else:
                self.form_errors.append(message)
        if not refusal.field_errors():
            self.form_errors.append(refusal.problem.get("detail") or refusal.problem.get("title") or "")


# --- answers -------------------------------------------------------------------------------------


def answers_from_form(questions: list[dict], formdata: MultiDict) -> dict[str, object]:
    """Every question's answer as the service takes it (see its schemas): a field left empty is sent as
    None, which clears what was saved before, so the saved response is always what the page shows."""
    answers: dict[str, object] = {}
    for question in questions:
        kind, key = question["kind"], str(question["id"])
        name = f"q{key}"
        if kind == "section":
            continue
        if kind in ("rating", "nps"):
            value = formdata.get(name, "").strip()
            answers[key] = int(value) if value.isdigit() else (value or None)
        elif kind in ("short_text", "long_text"):
            answers[key] = formdata.get(name, "") or None
        elif kind == "single":
            chosen, other = formdata.get(name, ""), formdata.get(f"{name}-other", "").strip()
            # Typing in «Other» is choosing it, unless another option is chosen (a radio holds one).
            if chosen == OTHER or (not chosen and other):
                answers[key] = {"other": other}
            else:
                answers[key] = chosen or None
        elif kind == "multiple":
            chosen = [value for value in formdata.getlist(name) if value]
            options, other = [v for v in chosen if v != OTHER], formdata.get(f"{name}-other", "").strip()
            if OTHER in chosen or other:
                answers[key] = {"choices": options, "other": other}
            else:
                answers[key] = options or None
    return answers


@dataclass
class ShownAnswer:
    """One question's answer as the form redraws it: the chosen values and the «Other» text."""

    chosen: set[str] = field(default_factory=set)
    text: str = ""
    other: str = ""


def shown_answers(questions: list[dict], answers: dict[str, object]) -> dict[int, ShownAnswer]:
    """The service's (or the posted) answers as the form's inputs show them."""
    shown: dict[int, ShownAnswer] = {}
    for question in questions:
        value = answers.get(str(question["id"]))
        answer = ShownAnswer()
        if isinstance(value, dict):
            answer.chosen = set(value.get("choices") or [])
            if "other" in value:
                answer.chosen.add(OTHER)
                answer.other = value.get("other") or ""
        elif isinstance(value, list):
            answer.chosen = {str(v) for v in value}
        elif question["kind"] in ("short_text", "long_text"):
            answer.text = value or ""
        elif value is not None:
            answer.chosen = {str(value)}
        shown[question["id"]] = answer
    return shown


def answer_errors(refusal: ServiceError) -> tuple[dict[int, str], list[str]]:
    """The service's errors by question id ("answers.<id>"), and those that name no question."""
    by_question: dict[int, str] = {}
    unplaced: list[str] = []
    for path, message in refusal.field_errors().items():
        parts = path.split(".")
        if parts[0] == "answers" and len(parts) > 1 and parts[1].isdigit():
            by_question[int(parts[1])] = message
        else:
            unplaced.append(message)
    if not by_question and not unplaced:
        unplaced.append(refusal.problem.get("detail") or refusal.problem.get("title") or "")
    return by_question, unplaced
