"""One voice: every problem the feedback API answers speaks Russian unless English is asked for."""

import re

import pytest

from tests.feedback.support import Api, by_text

CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


@pytest.fixture
def refusals(app_factory):
    """(language) -> every refusal of the API, one of each kind."""

    def collect(language: str):
        api = Api(app_factory("feedback").test_client(), language=language)
        survey = api.survey(min_group_size=5)
        anonymous = api.survey(anonymous=True, title="Анонимный")
        closed = api.survey(title="Закрытый")
        api.ok("POST", f"/surveys/{closed['id']}/close")
        rating = by_text(survey)["Насколько полезен был курс?"]["id"]
        api.answer(survey["id"], 1, {rating: 5})
        key = "k" * 40
        api.answer_anonymously(
            anonymous["public_token"], {by_text(anonymous)["Насколько полезен был курс?"]["id"]: 5}, key
        )
        s = survey["id"]
        return [
            api.call("GET", "/surveys/999"),
            api.call("GET", f"/surveys/{s}/questions/999"),
            api.call("PATCH", f"/surveys/{s}/questions/999", {"text": "x"}),
            api.call("POST", "/events/1/surveys", {"title": "", "min_group_size": 1, "unknown": 1}),
            api.call(
                "POST",
                f"/surveys/{s}/questions",
                {"kind": "single", "text": "Q", "options": [{"label": "a"}]},
            ),
            api.call("PATCH", f"/surveys/{s}/questions/{rating}", {"kind": "nps"}),
            api.call("PATCH", f"/surveys/{s}", {"anonymous": True}),
            api.call("DELETE", f"/surveys/{s}"),
            api.call("POST", f"/surveys/{closed['id']}/close"),
            api.answer(s, 2, {rating: 9, "999": 1}),
            api.answer(s, 2, {}, submit=True),
            api.answer(closed["id"], 2, {closed["questions"][1]["id"]: 5}),
            api.answer(anonymous["id"], 2, {}),
            api.call("GET", f"/surveys/{s}/responses/by-participant/77"),
            api.call("GET", "/public-surveys/nope"),
            api.answer_anonymously(
                anonymous["public_token"], {by_text(anonymous)["Насколько полезен был курс?"]["id"]: 5}, key
            ),
            api.call("GET", f"/surveys/{s}/crosstab", question_id=by_text(survey)["Что улучшить?"]["id"]),
            api.call("GET", f"/surveys/{anonymous['id']}/responses.csv"),
            api.call("POST", "/events/1/surveys/import", {"format": "other"}),
        ]

    return collect


def test_every_refusal_is_in_russian_by_default(refusals):
    for response in refusals("ru"):
        assert response.status_code >= 400 and response.mimetype == "application/problem+json"
        problem = response.json
        assert CYRILLIC.search(problem["detail"]), (response.request.path, problem)
        for error in problem.get("errors", []):
            assert CYRILLIC.search(error["message"]), (response.request.path, error)


def test_and_in_english_when_asked(refusals):
    for response in refusals("en"):
        problem = response.json
        texts = [problem["detail"], *(e["message"] for e in problem.get("errors", []))]
        assert not any(CYRILLIC.search(t) for t in texts), (response.request.path, problem)
