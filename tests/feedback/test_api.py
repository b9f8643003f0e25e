"""The feedback API end to end, as it stood before surveys could be built: results counted with N and
shares, small groups withheld, invalid answers refused whole, anonymous answers kept without a person."""

from sqlalchemy import create_engine, text

from tests.feedback.support import Api, option_ids

QUESTIONS = [
    {
        "kind": "multiple",
        "text": "Трудности?",
        "options": [
            {"label": "Недостаток времени"},
            {"label": "Отсутствие мотивации"},
            {"label": "Недостаток компетенций"},
        ],
    },
    {"kind": "nps", "text": "Порекомендуете?"},
    {"kind": "rating", "text": "Польза первого дня"},
]


def test_results_count_respondents_shares_and_nps(app_factory, db_backend):
    api = Api(app_factory("feedback").test_client())
    survey = api.survey(QUESTIONS, min_group_size=3)
    difficulties, nps, day1 = (q["id"] for q in survey["questions"])
    ids = option_ids(survey["questions"][0])
    time, motivation, skills = (
        ids["Недостаток времени"],
        ids["Отсутствие мотивации"],
        ids["Недостаток компетенций"],
    )
    answers = [
        {difficulties: [time, motivation], nps: 10, day1: 5},
        {difficulties: [time], nps: 9, day1: 4},
        {difficulties: [skills, time], nps: 3, day1: 4},
        {difficulties: [motivation], nps: 8},
    ]
    for participant_id, answer in enumerate(answers, 1):
        assert api.answer(survey["id"], participant_id, answer).status_code == 200

    results = api.results(survey["id"])
    assert results["respondents"] == 4
    by_id = {q["id"]: q for q in results["questions"]}
    shares = {o["label"]: (o["count"], o["percent"]) for o in by_id[difficulties]["options"]}
    assert shares == {
        "Недостаток времени": (3, 75.0),
        "Отсутствие мотивации": (2, 50.0),
        "Недостаток компетенций": (1, 25.0),
    }
    assert by_id[nps]["nps"]["score"] == 25.0  # 2 promoters, 1 detractor of 4
    assert by_id[day1]["respondents"] == 3 and by_id[day1]["mean"] == 4.33


def test_small_groups_are_withheld(app_factory):
    api = Api(app_factory("feedback").test_client())
    survey = api.survey(QUESTIONS, min_group_size=3)
    nps = survey["questions"][1]["id"]
    api.answer(survey["id"], 1, {nps: 10})
    results = api.results(survey["id"])
    assert results["withheld"] is True and results["respondents"] is None
    question = next(q for q in results["questions"] if q["id"] == nps)
    assert question["withheld"] is True and question["nps"] is None and question["respondents"] is None


def test_invalid_answers_are_refused_and_nothing_is_stored(app_factory, db_backend):
    api = Api(app_factory("feedback").test_client())
    survey = api.survey(QUESTIONS, min_group_size=3)
    difficulties, nps, _day1 = (q["id"] for q in survey["questions"])
    response = api.answer(survey["id"], 1, {difficulties: ["nope"], nps: 11, "12345": "x"}, submit=False)
    assert response.status_code == 422
    assert {e["field"] for e in response.json["errors"]} == {
        f"answers.{difficulties}",
        f"answers.{nps}",
        "answers.12345",
    }
    assert api.ok("GET", f"/surveys/{survey['id']}")["partial_count"] == 0
    assert api.call("GET", f"/surveys/{survey['id']}/responses/by-participant/1").status_code == 404


def test_anonymous_survey_never_stores_the_participant(app_factory, database_url):
    api = Api(app_factory("feedback").test_client())
    survey = api.survey(QUESTIONS, anonymous=True, min_group_size=3)
    assert (
        api.answer_anonymously(survey["public_token"], {survey["questions"][1]["id"]: 9}).status_code == 201
    )
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(
            text("SELECT participant_id, region_code, organisation FROM responses")
        ).all() == [(None, None, None)]
    engine.dispose()
