"""Helpers for the feedback service's tests: calls with the service token, a survey built and opened."""

from __future__ import annotations

import secrets

from tests.conftest import auth_headers

#: one question of every kind that takes an answer, and a section heading
EVERY_KIND = [
    {"kind": "section", "text": "О курсе"},
    {"kind": "rating", "text": "Насколько полезен был курс?", "required": True},
    {
        "kind": "single",
        "text": "Впервые ли вы на таком курсе?",
        "options": [{"label": "Да"}, {"label": "Нет"}],
        "allow_other": True,
    },
    {
        "kind": "multiple",
        "text": "С какими трудностями вы сталкиваетесь?",
        "allow_other": True,
        "options": [
            {"label": "Недостаток времени"},
            {"label": "Отсутствие мотивации"},
            {"label": "Недостаток компетенций"},
        ],
    },
    {"kind": "nps", "text": "Порекомендуете ли вы курс коллегам?"},
    {"kind": "short_text", "text": "Ваша должность"},
    {"kind": "long_text", "text": "Что улучшить?"},
]


class Api:
    """The feedback API of one test app, answering (status, json)."""

    def __init__(self, client, language: str = "ru"):
        self.client, self.language = client, language

    def call(self, method: str, path: str, json=None, **params):
        headers = {**auth_headers(), "Accept-Language": self.language}
        response = self.client.open(
            f"/api/v1{path}", method=method, json=json, headers=headers, query_string=params or None
        )
        return response

    def ok(self, method: str, path: str, json=None, status: int = 200, **params):
        response = self.call(method, path, json, **params)
        assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:800])
        return response.json

    def survey(
        self,
        questions=None,
        *,
        event_id: int = 1,
        anonymous: bool = False,
        min_group_size: int = 5,
        title: str = "Опрос участников",
        opened: bool = True,
    ) -> dict:
        survey = self.ok(
            "POST",
            f"/events/{event_id}/surveys",
            status=201,
            json={
                "title": title,
                "anonymous": anonymous,
                "min_group_size": min_group_size,
                "questions": EVERY_KIND if questions is None else questions,
            },
        )
        if opened:
            survey = self.ok("POST", f"/surveys/{survey['id']}/open")
        return survey

    def answer(
        self,
        survey_id: int,
        participant_id: int,
        answers: dict,
        *,
        submit: bool = True,
        respondent: dict | None = None,
    ):
        body = {"answers": {str(k): v for k, v in answers.items()}, "submit": submit}
        if respondent is not None:
            body["respondent"] = respondent
        return self.call("PUT", f"/surveys/{survey_id}/responses/by-participant/{participant_id}", body)

    def answer_anonymously(self, token: str, answers: dict, browser_key: str | None = None):
        return self.call(
            "POST",
            f"/public-surveys/{token}/responses",
            {
                "browser_key": browser_key or secrets.token_urlsafe(32),
                "answers": {str(k): v for k, v in answers.items()},
            },
        )

    def results(self, survey_id: int, **params) -> dict:
        return self.ok("GET", f"/surveys/{survey_id}/results", **params)


def by_text(survey: dict) -> dict[str, dict]:
    """The survey's questions by their text."""
    return {q["text"]: q for q in survey["questions"]}


def option_ids(question: dict) -> dict[str, str]:
    """{label: id} of a question's options."""
    return {o["label"]: o["id"] for o in question["options"]}


def result_of(results: dict, question_id: int) -> dict:
    return next(q for q in results["questions"] if q["id"] == question_id)
