"""Anonymous surveys: answered through a link, once per browser, and nothing in the database or the logs
connects an answer to a person, a browser or a moment finer than the day."""

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from tests.feedback.support import Api, by_text


@pytest.fixture
def api(app_factory):
    return Api(app_factory("feedback").test_client())


@pytest.fixture
def engine(database_url):
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def rating_of(survey):
    return by_text(survey)["Насколько полезен был курс?"]["id"]


def test_the_link_shows_the_form_and_takes_one_answer_per_browser(api, db_backend):
    survey = api.survey(anonymous=True)
    token = survey["public_token"]
    assert len(token) >= 43  # 256 bits
    public = api.ok("GET", f"/public-surveys/{token}")
    assert public["title"] == survey["title"] and public["answerable"] is True
    assert [q["id"] for q in public["questions"]] == [q["id"] for q in survey["questions"]]
    assert "public_token" not in public and "id" not in public

    key = "k" * 43
    assert api.answer_anonymously(token, {rating_of(survey): 5}, key).status_code == 201
    again = api.answer_anonymously(token, {rating_of(survey): 1}, key)
    assert (
        again.status_code == 409
        and again.json["detail"] == "С этого браузера на опрос уже ответили. Спасибо!"
    )
    assert api.answer_anonymously(token, {rating_of(survey): 4}).status_code == 201  # another browser
    assert api.ok("GET", f"/surveys/{survey['id']}")["responses_count"] == 2

    missing = api.answer_anonymously(token, {})
    assert missing.status_code == 422 and missing.json["errors"][0]["code"] == "required"
    bad = api.answer_anonymously(token, {rating_of(survey): 9})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == f"answers.{rating_of(survey)}"
    assert api.ok("GET", f"/surveys/{survey['id']}")["responses_count"] == 2


def test_identity_cannot_even_be_sent(api):
    survey = api.survey(anonymous=True)
    response = api.call(
        "POST",
        f"/public-surveys/{survey['public_token']}/responses",
        {
            "browser_key": "k" * 43,
            "answers": {str(rating_of(survey)): 5},
            "participant_id": 7,
            "respondent": {"region_code": "61"},
        },
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json["errors"]} == {"participant_id", "respondent"}


def test_links_that_do_not_lead_to_an_answerable_anonymous_survey(api):
    named = api.survey()
    draft = api.survey(anonymous=True, opened=False)
    for token in (named["public_token"], draft["public_token"], "no-such-token"):
        response = api.call("GET", f"/public-surveys/{token}")
        assert (
            response.status_code == 404 and response.json["detail"] == "Эта ссылка на опрос недействительна."
        )
    closed = api.survey(anonymous=True)
    api.ok("POST", f"/surveys/{closed['id']}/close")
    assert api.ok("GET", f"/public-surveys/{closed['public_token']}")["answerable"] is False
    response = api.answer_anonymously(closed["public_token"], {rating_of(closed): 5})
    assert response.status_code == 409 and "Опрос закрыт" in response.json["detail"]


def test_the_tables_hold_no_link_to_a_person_a_browser_or_a_moment(api, engine, db_backend):
    survey = api.survey(anonymous=True)
    other = api.survey(anonymous=True, title="Второй анонимный")
    key = "the-same-browser-key-on-two-surveys-000"
    for n in range(6):
        api.answer_anonymously(
            survey["public_token"],
            {rating_of(survey): 1 + n % 5, by_text(survey)["Что улучшить?"]["id"]: f"ответ {n}"},
            key if n == 0 else None,
        )
    api.answer_anonymously(other["public_token"], {rating_of(other): 3}, key)

    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT id, anonymous, participant_id, region_code, organisation, submitted_at, updated_at "
                "FROM responses"
            )
        ).all()
        assert len(rows) == 7
        for _id, anonymous, participant, region, organisation, submitted_at, updated_at in rows:
            assert bool(anonymous) and (participant, region, organisation) == (None, None, None)
            for moment in (submitted_at, updated_at):
                if isinstance(moment, datetime):  # PostgreSQL: in the connection's zone
                    moment = moment.astimezone(UTC).isoformat(" ")
                assert moment[11:19] == "00:00:00", moment  # the day only
        ids = sorted(row[0] for row in rows)
        assert ids[-1] - ids[0] > 10_000  # random, not a sequence that keeps the order of answering

        # The "answered once" marks: a hash per survey, pointing at no response.
        columns = {c["name"] for c in inspect(connection).get_columns("browser_receipts")}
        assert columns == {"survey_id", "key_hash"}
        hashes = connection.execute(text("SELECT survey_id, key_hash FROM browser_receipts")).all()
        assert len(hashes) == 7 and key not in str(hashes)
        same_key = [h for s, h in hashes if s in (survey["id"], other["id"])]
        assert len(set(same_key)) == len(same_key)  # one browser's marks on two surveys do not match

        if db_backend == "sqlite":
            # No hidden rowid to keep the order of writing: answers are stored by their key only.
            with pytest.raises(Exception, match="rowid"):
                connection.execute(text("SELECT rowid FROM answers"))
            assert connection.execute(text("SELECT count(*) FROM responses WHERE rowid <> id")).scalar() == 0


def test_the_database_itself_refuses_identity_on_an_anonymous_response(api, engine, db_backend):
    survey = api.survey(anonymous=True)
    with engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(
            text(
                "INSERT INTO responses (id, survey_id, anonymous, participant_id, updated_at) "
                "VALUES (12345, :survey, :yes, 7, CURRENT_TIMESTAMP)"
            ),
            {"survey": survey["id"], "yes": True},
        )


def test_the_logs_keep_neither_the_browser_key_nor_the_answers(api, caplog):
    survey = api.survey(anonymous=True)
    key = "a-browser-key-that-must-not-be-logged-42"
    with caplog.at_level(logging.DEBUG):
        api.answer_anonymously(
            survey["public_token"],
            {rating_of(survey): 5, by_text(survey)["Что улучшить?"]["id"]: "мой секрет"},
            key,
        )
    logged = " ".join(f"{r.getMessage()} {getattr(r, 'fields', '')}" for r in caplog.records)
    assert "/responses" in logged  # the request is logged ...
    assert key not in logged and "мой секрет" not in logged  # ... but not what it carried
    assert "remote_addr" not in logged and "127.0.0.1" not in logged


def test_an_anonymous_survey_results_have_no_filters_to_narrow(api):
    survey = api.survey(anonymous=True)
    for _ in range(5):
        api.answer_anonymously(survey["public_token"], {rating_of(survey): 4})
    results = api.results(survey["id"])
    assert results["respondents"] == 5 and results["choices"]["regions"] == []
    assert api.results(survey["id"], region="61")["withheld"] is True
