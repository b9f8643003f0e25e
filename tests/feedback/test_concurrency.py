"""Phones answering at once, through a real HTTP server: every answer is kept, none twice, none refused."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
import requests

from tests.conftest import LiveServer, auth_headers, create_service_app, make_settings
from tests.feedback.support import Api, by_text

PHONES = 16


@pytest.fixture
def server(database_url, tmp_path):
    app = create_service_app("feedback", make_settings("feedback", database_url, tmp_path / "storage"))
    live = LiveServer(app)
    yield app, live.url + "/api/v1"
    live.stop()
    app.extensions["db_engine"].dispose()


def all_at_once(send, items):
    barrier = Barrier(len(items))

    def one(item):
        with requests.Session() as http:
            barrier.wait()
            return send(http, item)

    with ThreadPoolExecutor(len(items)) as pool:
        return list(pool.map(one, items))


def test_many_phones_submit_at_once(server, db_backend):
    app, url = server
    api = Api(app.test_client())
    survey = api.survey()
    rating = by_text(survey)["Насколько полезен был курс?"]["id"]
    text = by_text(survey)["Что улучшить?"]["id"]

    def submit(http, participant_id):
        return http.put(
            f"{url}/surveys/{survey['id']}/responses/by-participant/{participant_id}",
            headers=auth_headers(),
            timeout=60,
            json={
                "answers": {str(rating): 1 + participant_id % 5, str(text): f"ответ {participant_id}"},
                "submit": True,
                "respondent": {"region_code": "61"},
            },
        )

    # Every phone its own participant, and the first four twice at once (two tabs).
    answers = all_at_once(submit, [*range(1, PHONES + 1), 1, 2, 3, 4])
    assert [a.status_code for a in answers] == [200] * (PHONES + 4), [a.text[:200] for a in answers]
    results = api.results(survey["id"])
    assert results["respondents"] == PHONES


def test_many_browsers_answer_an_anonymous_survey_at_once(server, db_backend):
    app, url = server
    api = Api(app.test_client())
    survey = api.survey(anonymous=True)
    rating = by_text(survey)["Насколько полезен был курс?"]["id"]
    keys = [f"browser-{n:02d}".ljust(40, "x") for n in range(PHONES)] + ["browser-00".ljust(40, "x")] * 3

    def answer(http, key):
        return http.post(
            f"{url}/public-surveys/{survey['public_token']}/responses",
            headers=auth_headers(),
            timeout=60,
            json={"browser_key": key, "answers": {str(rating): 4}},
        )

    statuses = sorted(a.status_code for a in all_at_once(answer, keys))
    assert statuses == [201] * PHONES + [409] * 3
    assert api.ok("GET", f"/surveys/{survey['id']}")["responses_count"] == PHONES
