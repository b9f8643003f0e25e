from tests.conftest import auth_headers

SURVEY = {"event_id": 1, "title": "Экспертный опрос", "min_group_size": 3, "questions": [
    {"key": "difficulties", "text": "Трудности?", "kind": "multiple",
     "options": ["Недостаток времени", "Отсутствие мотивации", "Недостаток компетенций"]},
    {"key": "nps", "text": "Порекомендуете?", "kind": "nps"},
    {"key": "day1", "text": "Польза первого дня", "kind": "rating"},
]}


def submit(client, survey_id, answers):
    return client.post(f"/api/v1/surveys/{survey_id}/responses", json={"answers": answers}, headers=auth_headers())


def test_results_count_respondents_shares_and_nps(app_factory, db_backend):
    client = app_factory("feedback").test_client()
    survey_id = client.post("/api/v1/surveys", json=SURVEY, headers=auth_headers()).json["id"]
    answers = [
        {"difficulties": ["Недостаток времени", "Отсутствие мотивации"], "nps": 10, "day1": 5},
        {"difficulties": ["Недостаток времени"], "nps": 9, "day1": 4},
        {"difficulties": ["Недостаток компетенций", "Недостаток времени"], "nps": 3, "day1": 4},
        {"difficulties": ["Отсутствие мотивации"], "nps": 8},
    ]
    for answer in answers:
        assert submit(client, survey_id, answer).status_code == 201

    results = client.get(f"/api/v1/surveys/{survey_id}/results", headers=auth_headers()).json
    assert results["respondents"] == 4
    by_key = {q["key"]: q for q in results["questions"]}
    shares = {o["option"]: (o["count"], o["percent"]) for o in by_key["difficulties"]["options"]}
    assert shares == {"Недостаток времени": (3, 75.0), "Отсутствие мотивации": (2, 50.0),
                      "Недостаток компетенций": (1, 25.0)}
    assert by_key["nps"]["nps"] == 25.0  # 2 promoters, 1 detractor of 4
    assert by_key["day1"]["respondents"] == 3 and by_key["day1"]["mean"] == 4.33


def test_small_groups_are_hidden(app_factory):
    client = app_factory("feedback").test_client()
    survey_id = client.post("/api/v1/surveys", json=SURVEY, headers=auth_headers()).json["id"]
    submit(client, survey_id, {"nps": 10})
    results = client.get(f"/api/v1/surveys/{survey_id}/results", headers=auth_headers()).json
    nps = next(q for q in results["questions"] if q["key"] == "nps")
    assert nps["hidden"] is True and nps["nps"] is None


def test_invalid_answers_are_refused_and_nothing_is_stored(app_factory, db_backend):
    client = app_factory("feedback").test_client()
    survey_id = client.post("/api/v1/surveys", json=SURVEY, headers=auth_headers()).json["id"]
    response = submit(client, survey_id, {"difficulties": ["Нет такого"], "nps": 11, "unknown": "x"})
    assert response.status_code == 422
    assert {e["field"] for e in response.json["errors"]} == {
        "answers.difficulties", "answers.nps", "answers.unknown"}
    assert client.get(f"/api/v1/surveys/{survey_id}", headers=auth_headers()).json["responses_count"] == 0


def test_anonymous_survey_never_stores_the_participant(app_factory, database_url):
    from sqlalchemy import create_engine, text

    client = app_factory("feedback").test_client()
    survey_id = client.post("/api/v1/surveys", json=SURVEY, headers=auth_headers()).json["id"]
    response = client.post(f"/api/v1/surveys/{survey_id}/responses", headers=auth_headers(),
                           json={"participant_id": 7, "answers": {"nps": 9}})
    assert response.status_code == 201
    with create_engine(database_url).connect() as connection:
        assert connection.execute(text("SELECT participant_id FROM responses")).scalars().all() == [None]
