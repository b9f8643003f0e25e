"""Survey results that organisers read at a glance, counted in SQL, with small groups withheld.

Only submitted responses count (partial ones have no answer rows yet). A question's respondents are its
ordinal-0 answer rows, so a multiple-choice question's shares are shares of respondents and may add up to
more than 100%. A request makes a handful of queries: the group sizes behind the threshold (responses,
GROUP BY region and organisation), the counts under the filter (answers, GROUP BY question, choice,
score), with a filter the per-question group sizes (answers, GROUP BY question, region, organisation),
and one query for the free texts (a short range per question). Each reads index ranges of `answers`,
without a join (answers carry the respondent's region and organisation): see models.Answer.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Hashable
from functools import lru_cache
from threading import Lock

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, func, select, union_all
from sqlalchemy.orm import Session

from eventops.problems import Problem, field_error, invalid_request_detail, not_found
from services.feedback import schemas
from services.feedback.building import ordered
from services.feedback.disclosure import Narrow, Shown, shown_groups
from services.feedback.models import (
    CHOICE_KINDS,
    OTHER,
    SCORE_KINDS,
    TEXT_KINDS,
    Answer,
    Question,
    QuestionKind,
    Survey,
    SurveyKind,
)
from services.feedback.models import SurveyResponse as Response

SCORES = {QuestionKind.rating: range(1, 6), QuestionKind.nps: range(11)}
ANSWER_DIMENSIONS = {"region": Answer.region_code, "organisation": Answer.organisation}


def percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def _submitted(survey: Survey):
    return and_(Response.survey_id == survey.id, Response.submitted_at.is_not(None))


def _narrowed(query: schemas.ResultsQuery) -> Narrow:
    """The filter as ((dimension, value), ...): a region, an organisation, or both (disclosure.py says
    which combined groups may be shown)."""
    return tuple(
        (dimension, value)
        for dimension, value in (("region", query.region), ("organisation", query.organisation))
        if value is not None
    )


def _within(statement, narrow: Narrow):
    for dimension, value in narrow:
        statement = statement.where(ANSWER_DIMENSIONS[dimension] == value)
    return statement


def _group_cells(session: Session, survey: Survey) -> dict[tuple, int]:
    rows = session.execute(
        select(Response.region_code, Response.organisation, func.count())
        .where(_submitted(survey))
        .group_by(Response.region_code, Response.organisation)
    )
    return {(region, organisation): count for region, organisation, count in rows}


def _question_cells(session: Session, question_ids: list[int]) -> dict[int, dict[tuple, int]]:
    """{question id: {(region, organisation): respondents}}, the group sizes behind each question."""
    cells: dict[int, dict[tuple, int]] = defaultdict(dict)
    if not question_ids:
        return cells
    rows = session.execute(
        select(Answer.question_id, Answer.region_code, Answer.organisation, func.count())
        .where(Answer.question_id.in_(question_ids), Answer.ordinal == 0)
        .group_by(Answer.question_id, Answer.region_code, Answer.organisation)
    )
    for question_id, region, organisation, count in rows:
        cells[question_id][(region, organisation)] = count
    return cells


def _counts(session: Session, question_ids: list[int], narrow: Narrow):
    """{question id: {(choice, score): (rows, respondents among them)}} under the filter."""
    counts: dict[int, dict[tuple, tuple[int, int]]] = defaultdict(dict)
    if not question_ids:
        return counts
    statement = (
        select(
            Answer.question_id,
            Answer.choice,
            Answer.score,
            func.count(),
            func.count().filter(Answer.ordinal == 0),
        )
        .where(Answer.question_id.in_(question_ids))
        .group_by(Answer.question_id, Answer.choice, Answer.score)
    )
    for question_id, choice, score, rows, first in session.execute(_within(statement, narrow)):
        counts[question_id][(choice, score)] = (rows, first)
    return counts


def _texts(session: Session, questions: list[Question], narrow: Narrow, limit: int) -> dict[int, list[str]]:
    """Up to `limit` texts of each question (free texts, or «другое» of a choice question), under the
    filter. They come in the order of the random response ids: a fair sample, and no order of answering.
    One query for all the questions (a UNION ALL of one short range each): on PostgreSQL every query is
    a round trip."""
    texts: dict[int, list[str]] = {question.id: [] for question in questions}
    if not questions or not limit:
        return texts
    parts = tuple((question.id, question.kind in TEXT_KINDS) for question in questions)
    statement = _texts_statement(parts, tuple(dimension for dimension, _value in narrow), limit)
    values = {f"narrow_{dimension}": value for dimension, value in narrow}
    for question_id, _response_id, text in session.execute(statement, values):
        texts[question_id].append(text)
    return texts


@lru_cache(maxsize=256)
def _texts_statement(parts: tuple[tuple[int, bool], ...], dimensions: tuple[str, ...], limit: int):
    """The texts query of _texts, built once per shape (questions, filtered dimensions, limit): building a
    compound statement costs more CPU than running it. The filter's values are bound parameters."""
    selects = []
    for question_id, free_text in parts:
        if free_text:
            # The whole key prefix of ix_answers_tally: its entries then come in response id order.
            which = and_(Answer.choice.is_(None), Answer.score.is_(None), Answer.ordinal == 0)
        else:
            which = Answer.choice == OTHER
        statement = (
            select(Answer.question_id, Answer.response_id, Answer.text)
            .where(Answer.question_id == question_id, which, Answer.text.is_not(None))
            .order_by(Answer.response_id)
            .limit(limit)
        )
        for dimension in dimensions:
            statement = statement.where(ANSWER_DIMENSIONS[dimension] == bindparam(f"narrow_{dimension}"))
        # Each part as a subquery: SQLite takes ORDER BY and LIMIT inside a compound select only so.
        selects.append(select(statement.subquery()))
    every = union_all(*selects).subquery()
    return select(every).order_by(every.c.question_id, every.c.response_id)


def _choices_result(
    result: schemas.QuestionResult, question: Question, counts: dict, respondents: int, texts: list[str]
) -> None:
    chosen = {choice: rows for (choice, _score), (rows, _first) in counts.items() if choice is not None}
    for option in question.options:
        count = chosen.get(option["id"], 0)
        if option.get("removed") and not count:
            continue  # a removed option nobody chose is simply gone
        result.options.append(
            schemas.OptionResult(
                id=option["id"],
                label=option["label"],
                count=count,
                percent=percent(count, respondents),
                removed=bool(option.get("removed")),
            )
        )
    other = chosen.get(OTHER, 0)
    if question.allow_other or other:
        result.other = schemas.OtherResult(count=other, percent=percent(other, respondents), texts=texts)
    if question.kind is QuestionKind.multiple:
        result.shares_sum_over_100 = sum(chosen.values()) > respondents


def _scores_result(
    result: schemas.QuestionResult, question: Question, counts: dict, respondents: int
) -> None:
    by_score = {score: rows for (_choice, score), (rows, _first) in counts.items() if score is not None}
    result.distribution = [
        schemas.ScoreCount(
            score=score, count=by_score.get(score, 0), percent=percent(by_score.get(score, 0), respondents)
        )
        for score in SCORES[question.kind]
    ]
    total = sum(score * count for score, count in by_score.items())
    result.mean = round(total / respondents, 2) if respondents else None
    if question.kind is QuestionKind.nps:
        detractors = sum(c for s, c in by_score.items() if s <= 6)
        passives = sum(c for s, c in by_score.items() if 7 <= s <= 8)
        promoters = sum(c for s, c in by_score.items() if s >= 9)
        result.nps = schemas.NpsResult(
            score=round(percent(promoters, respondents) - percent(detractors, respondents), 1),
            detractors=detractors,
            passives=passives,
            promoters=promoters,
            detractors_percent=percent(detractors, respondents),
            passives_percent=percent(passives, respondents),
            promoters_percent=percent(promoters, respondents),
        )


def _filter_choices(session: Session, survey: Survey, shown: Shown) -> schemas.FilterChoices:
    def listed(groups: dict[Hashable, int]) -> list[schemas.FilterChoice]:
        return [
            schemas.FilterChoice(value=str(value), respondents=count)
            for value, count in sorted(groups.items(), key=lambda item: (-item[1], str(item[0])))
        ]

    forms = session.execute(
        select(Survey.session_id, Survey.session_title, Survey.id)
        .where(Survey.event_id == survey.event_id, Survey.kind == SurveyKind.session)
        .order_by(Survey.session_starts_at, Survey.id)
    ).all()
    return schemas.FilterChoices(
        regions=listed(shown.regions),
        organisations=listed(shown.organisations),
        sessions=[schemas.SessionChoice(session_id=s, title=t, survey_id=i) for s, t, i in forms],
    )


class Figures:
    """The survey-wide parts of results, kept per process while a survey's data stays the same: the group
    sizes behind the threshold, the counts without a filter, which groups each question may show, and
    the cross-tabs (counted over the whole survey too). They are what takes long (every answer of the
    survey is counted); what a filter narrows to is counted afresh for each request. A submitted, edited
    or new response, or any change to the survey, changes the version and so the key."""

    def __init__(self, size: int = 64):
        self.size, self.entries, self.lock = size, OrderedDict(), Lock()

    def get(self, key, compute):
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        value = compute()  # outside the lock: two requests may both compute, and agree
        with self.lock:
            self.entries[key] = value
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return value


def data_version(session: Session, survey: Survey) -> tuple:
    """What changes whenever something results depend on changes (one index range of responses)."""
    count, last = session.execute(
        select(func.count(), func.max(Response.updated_at)).where(_submitted(survey))
    ).one()
    return survey.id, survey.min_group_size, survey.updated_at, count, last


class _Survey:
    """Figures of one survey for one request, from the cache when its version is known."""

    def __init__(self, session: Session, survey: Survey, figures: Figures | None):
        self.session, self.survey, self.figures = session, survey, figures
        self.version = data_version(session, survey) if figures is not None else None
        self.ids = [q.id for q in survey.questions if q.kind is not QuestionKind.section]

    def piece(self, piece: Hashable, compute):
        """compute()'s answer, from the cache while this survey's data version stays the same."""
        if self.figures is None:
            return compute()
        return self.figures.get((*self.version, piece), compute)

    def group(self) -> Shown:
        return self.piece(
            "group", lambda: shown_groups(_group_cells(self.session, self.survey), self.survey.min_group_size)
        )

    def counts(self) -> dict:
        return self.piece("counts", lambda: _counts(self.session, self.ids, ()))

    def shown(self) -> dict[int, Shown]:
        """{question id: its shown groups}. A question everyone answered has the survey's own groups."""

        def compute():
            group, counts, threshold = self.group(), self.counts(), self.survey.min_group_size
            answered = {q: sum(first for _rows, first in counts.get(q, {}).values()) for q in self.ids}
            partial = [q for q in self.ids if answered[q] != group.total]
            cells = _question_cells(self.session, partial)
            shown = {q: group for q in self.ids if q not in partial}
            shown.update({q: shown_groups(cells.get(q, {}), threshold) for q in partial})
            return shown

        return self.piece("shown", compute)


def survey_results(
    session: Session, survey: Survey, query: schemas.ResultsQuery, figures: Figures | None = None
) -> schemas.SurveyResults:
    narrow = _narrowed(query)
    threshold = survey.min_group_size
    data = _Survey(session, survey, figures)
    shown = data.group()
    # The session filter narrows to this survey's own session: any other session has no responses here.
    other_session = query.session_id is not None and query.session_id != survey.session_id
    group = 0 if other_session else shown.size(narrow)
    group_withheld = group < threshold

    questions = ordered(survey.questions)
    answerable = [q for q in questions if q.kind is not QuestionKind.section]
    if group_withheld:
        counts = {}
    elif not narrow:
        counts = data.counts()
    else:
        counts = _counts(session, data.ids, narrow)
    respondents = {q.id: sum(first for _rows, first in counts.get(q.id, {}).values()) for q in answerable}
    allowed: dict[int, bool] = {q.id: respondents[q.id] >= threshold for q in answerable}
    if narrow and not group_withheld:
        per_question = data.shown()
        for question in answerable:
            allowed[question.id] = allowed[question.id] and per_question[question.id].size(narrow) > 0
    with_texts = [
        q
        for q in answerable
        if allowed[q.id] and (q.kind in TEXT_KINDS or q.allow_other or (OTHER, None) in counts.get(q.id, {}))
    ]
    texts = _texts(session, with_texts, narrow, query.texts_limit)
    rate_base = query.population if not narrow and query.population else None

    results = []
    for question in questions:
        if question.removed and not respondents.get(question.id):
            continue  # removed before anyone answered it under this filter
        result = schemas.QuestionResult(
            id=question.id,
            position=question.position,
            kind=question.kind,
            text=question.text,
            removed=question.removed,
        )
        if question.kind is not QuestionKind.section:
            if group_withheld or not allowed[question.id]:
                result.withheld = True
            else:
                n = respondents[question.id]
                result.respondents = n
                result.response_rate = percent(n, rate_base) if rate_base else None
                if question.kind in CHOICE_KINDS:
                    _choices_result(result, question, counts[question.id], n, texts.get(question.id, []))
                elif question.kind in SCORE_KINDS:
                    _scores_result(result, question, counts[question.id], n)
                else:
                    result.texts = texts.get(question.id, [])
                    result.texts_count = n
        results.append(result)

    return schemas.SurveyResults(
        survey_id=survey.id,
        title=survey.title,
        kind=survey.kind,
        anonymous=survey.anonymous,
        min_group_size=threshold,
        filters=schemas.AppliedFilters(
            region=query.region, organisation=query.organisation, session_id=query.session_id
        ),
        withheld=group_withheld,
        respondents=None if group_withheld else group,
        population=query.population,
        response_rate=percent(group, rate_base) if rate_base and not group_withheld else None,
        questions=results,
        choices=_filter_choices(session, survey, shown),
    )


# --- cross-tab --------------------------------------------------------------------------------------------


def _columns(question: Question, totals: dict[str, int]) -> list[schemas.CrosstabColumn]:
    if question.kind in SCORE_KINDS:
        return [schemas.CrosstabColumn(id=str(score), label=str(score)) for score in SCORES[question.kind]]
    columns = [
        schemas.CrosstabColumn(id=o["id"], label=o["label"], removed=bool(o.get("removed")))
        for o in question.options
        if not o.get("removed") or totals.get(o["id"])
    ]
    if question.allow_other or totals.get(OTHER):
        columns.append(schemas.CrosstabColumn(id=OTHER, label=_("Other")))
    return columns


def crosstab(
    session: Session, survey: Survey, query: schemas.CrosstabQuery, figures: Figures | None = None
) -> schemas.Crosstab:
    question = next((q for q in survey.questions if q.id == query.question_id), None)
    if question is None:
        raise not_found(_("There is no such question in this survey."))
    if question.kind not in CHOICE_KINDS | SCORE_KINDS:
        raise Problem(
            422,
            detail=invalid_request_detail(),
            errors=[
                field_error(
                    "question_id", "not_countable", _("A cross-tab needs a choice, rating or NPS question.")
                )
            ],
        )
    threshold = survey.min_group_size
    data = _Survey(session, survey, figures)
    shown = data.shown()[question.id]
    groups = shown.regions if query.by == "region" else shown.organisations
    dimension = ANSWER_DIMENSIONS[query.by]

    def tally() -> list[tuple]:
        # Survey-wide, like the figures without a filter: kept while the survey's data stays the same.
        return [
            tuple(row)
            for row in session.execute(
                select(dimension, Answer.choice, Answer.score, func.count())
                .where(Answer.question_id == question.id)
                .group_by(dimension, Answer.choice, Answer.score)
            )
        ]

    per_value: dict[Hashable, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    for value, choice, score, count in data.piece(("crosstab", question.id, query.by), tally):
        column = choice if choice is not None else str(score)
        totals[column] += count
        if value in groups:
            per_value[value][column] += count
    columns = _columns(question, totals)

    def row(value: str, respondents: int, counts: dict[str, int]) -> schemas.CrosstabRow:
        return schemas.CrosstabRow(
            value=value, respondents=respondents, counts=[counts.get(c.id, 0) for c in columns]
        )

    base = dict(
        survey_id=survey.id,
        question_id=question.id,
        question_text=question.text,
        by=query.by,
        columns=columns,
    )
    if shown.total < threshold:
        return schemas.Crosstab(**base, withheld=True, rows=[], others=None, total=None)
    rows = [
        row(str(value), groups[value], per_value[value])
        for value in sorted(groups, key=lambda v: (-groups[v], str(v)))
    ]
    # Everyone outside the shown rows, together: never fewer than the threshold (disclosure.py).
    rest = shown.total - sum(groups.values())
    rest_counts = {c.id: totals.get(c.id, 0) - sum(r.counts[i] for r in rows) for i, c in enumerate(columns)}
    return schemas.Crosstab(
        **base,
        withheld=False,
        rows=rows,
        others=row(_("Other groups"), rest, rest_counts) if rest else None,
        total=row(_("Total"), shown.total, totals),
    )
