"""Survey results that organisers read at a glance, counted in SQL."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.feedback import schemas
from services.feedback.models import Answer, Question, QuestionKind, Survey, SurveyResponse


def survey_results(session: Session, survey: Survey) -> schemas.SurveyResults:
    respondents = session.scalar(select(func.count()).where(SurveyResponse.survey_id == survey.id))
    per_question = dict(session.execute(
        select(Answer.question_id, func.count(func.distinct(Answer.response_id)))
        .join(Question).where(Question.survey_id == survey.id).group_by(Answer.question_id)).all())
    choices = _choice_counts(session, survey)
    scores = _score_stats(session, survey)
    results = []
    for question in survey.questions:
        answered = per_question.get(question.id, 0)
        result = schemas.QuestionResult(key=question.key, text=question.text, kind=question.kind,
                                        respondents=answered)
        if answered < survey.min_group_size:
            result.hidden = True  # too few answers to show without identifying anyone
        elif question.kind in (QuestionKind.single, QuestionKind.multiple):
            # Shares of respondents, so a multiple-choice question sums to more than 100%.
            result.options = [
                schemas.OptionShare(option=option, count=choices.get((question.id, option), 0),
                                    percent=round(100 * choices.get((question.id, option), 0) / answered, 1))
                for option in question.options]
        elif question.kind is QuestionKind.rating:
            result.mean = scores[question.id]["mean"]
            result.options = [
                schemas.OptionShare(option=str(value), count=scores[question.id]["dist"].get(value, 0),
                                    percent=round(100 * scores[question.id]["dist"].get(value, 0) / answered, 1))
                for value in range(1, 6)]
        elif question.kind is QuestionKind.nps:
            stats = scores[question.id]
            result.mean = stats["mean"]
            result.nps = round(100 * (stats["promoters"] - stats["detractors"]) / answered, 1)
        results.append(result)
    return schemas.SurveyResults(survey_id=survey.id, title=survey.title, respondents=respondents,
                                 questions=results)


def _choice_counts(session: Session, survey: Survey) -> dict[tuple[int, str], int]:
    rows = session.execute(
        select(Answer.question_id, Answer.choice, func.count(func.distinct(Answer.response_id)))
        .join(Question).where(Question.survey_id == survey.id, Answer.choice.is_not(None))
        .group_by(Answer.question_id, Answer.choice)).all()
    return {(question_id, choice): count for question_id, choice, count in rows}


def _score_stats(session: Session, survey: Survey) -> dict[int, dict]:
    stats: dict[int, dict] = {}
    summary = session.execute(
        select(Answer.question_id, func.avg(Answer.score),
               func.count().filter(Answer.score >= 9), func.count().filter(Answer.score <= 6))
        .join(Question).where(Question.survey_id == survey.id, Answer.score.is_not(None))
        .group_by(Answer.question_id)).all()
    for question_id, mean, promoters, detractors in summary:
        stats[question_id] = {"mean": round(float(mean), 2), "promoters": promoters,
                              "detractors": detractors, "dist": {}}
    distribution = session.execute(
        select(Answer.question_id, Answer.score, func.count())
        .join(Question).where(Question.survey_id == survey.id, Answer.score.is_not(None))
        .group_by(Answer.question_id, Answer.score)).all()
    for question_id, score, count in distribution:
        stats[question_id]["dist"][score] = count
    return stats
