"""Answering: every kind of bad answer refused next to its question, never half-saved, partial saves
kept, submit checks what is required, edits until the survey closes, and a participant's own list."""

import pytest

from tests.feedback.support import Api, by_text, option_ids


@pytest.fixture
def api(app_factory):
    return Api(app_factory("feedback").test_client())


@pytest.fixture
def survey(api):
    return api.survey(min_group_size=2)


def ids(survey):
    q = by_text(survey)
    return (
        q["Насколько полезен был курс?"],
        q["Впервые ли вы на таком курсе?"],
        q["С какими трудностями вы сталкиваетесь?"],
        q["Порекомендуете ли вы курс коллегам?"],
        q["Ваша должность"],
        q["Что улучшить?"],
    )


def question_ids(survey):
    return tuple(q["id"] for q in ids(survey))


def bad_answers(survey):
    rating, single, multiple, nps, short, long_ = ids(survey)
    section = survey["questions"][0]
    return [
        (rating, 6, "out_of_range"),
        (rating, 0, "out_of_range"),
        (rating, True, "out_of_range"),
        (rating, 4.5, "out_of_range"),
        (rating, "пять", "out_of_range"),
        (nps, 11, "out_of_range"),
        (nps, -1, "out_of_range"),
        (single, "no-such-option", "unknown_option"),
        (single, ["a", "b"], "not_an_option"),
        (single, {"other": "x" * 301}, "too_long"),
        (single, {"choice": "x"}, "invalid_shape"),
        (multiple, ["no-such-option"], "unknown_option"),
        (multiple, [1, 2], "not_an_option"),
        (multiple, {"choices": "x"}, "not_an_option"),
        (short, "x" * 301, "too_long"),
        (short, 5, "not_text"),
        (long_, "x" * 5001, "too_long"),
        (section, "x", "no_answer_expected"),
    ]


def test_every_kind_of_bad_answer_is_refused_next_to_its_question_in_russian(api, survey, db_backend):
    for question, value, code in bad_answers(survey):
        response = api.answer(survey["id"], 1, {question["id"]: value}, submit=False)
        assert response.status_code == 422, (question["kind"], value)
        assert response.mimetype == "application/problem+json"
        (error,) = response.json["errors"]
        assert (error["field"], error["code"]) == (f"answers.{question['id']}", code), (
            question["kind"],
            value,
        )
        assert any("а" <= c <= "я" for c in error["message"].lower()), error["message"]
        assert any("а" <= c <= "я" for c in response.json["detail"].lower())
    assert api.call("GET", f"/surveys/{survey['id']}/responses/by-participant/1").status_code == 404


def test_one_bad_answer_among_good_ones_saves_nothing(api, survey, db_backend):
    rating, single, _multiple, nps, _short, long_ = question_ids(survey)
    yes = option_ids(by_text(survey)["Впервые ли вы на таком курсе?"])["Да"]
    assert api.answer(survey["id"], 1, {rating: 4, single: yes}, submit=False).status_code == 200
    response = api.answer(survey["id"], 1, {rating: 2, single: {"other": "свой"}, nps: 12, long_: "ок"})
    assert response.status_code == 422 and [e["field"] for e in response.json["errors"]] == [f"answers.{nps}"]
    own = api.ok("GET", f"/surveys/{survey['id']}/responses/by-participant/1")
    assert own["answers"] == {str(rating): 4, str(single): yes} and own["submitted"] is False


def test_partial_saves_are_kept_and_submit_checks_required_questions(api, survey, db_backend):
    rating, _single, multiple, _nps, _short, long_ = question_ids(survey)
    time = option_ids(by_text(survey)["С какими трудностями вы сталкиваетесь?"])["Недостаток времени"]
    saved = api.answer(survey["id"], 5, {long_: "Больше практики"}, submit=False)
    assert saved.status_code == 200 and saved.json["submitted"] is False
    api.answer(
        survey["id"],
        5,
        {multiple: {"choices": [time, time], "other": "Нет доступа к соцсетям"}},
        submit=False,
    )
    early = api.answer(survey["id"], 5, {}, submit=True)
    assert early.status_code == 422
    assert [(e["field"], e["code"]) for e in early.json["errors"]] == [(f"answers.{rating}", "required")]
    assert api.ok("GET", f"/surveys/{survey['id']}")["partial_count"] == 1

    done = api.answer(survey["id"], 5, {rating: "5"}, submit=True)  # a form posts its radio buttons as text
    assert done.status_code == 200 and done.json["submitted"] is True and done.json["submitted_at"]
    assert done.json["answers"] == {
        str(rating): 5,
        str(multiple): {"choices": [time], "other": "Нет доступа к соцсетям"},
        str(long_): "Больше практики",
    }
    counts = api.ok("GET", f"/surveys/{survey['id']}")
    assert (counts["responses_count"], counts["partial_count"]) == (1, 0)

    # Submitted stays complete: clearing a required answer is refused, even in a partial save.
    cleared = api.answer(survey["id"], 5, {rating: None}, submit=False)
    assert cleared.status_code == 422 and cleared.json["errors"][0]["code"] == "required"
    # Editing is fine, and clearing an optional answer too.
    edited = api.answer(survey["id"], 5, {rating: 3, long_: "", multiple: []}, submit=False)
    assert edited.status_code == 200 and edited.json["answers"] == {str(rating): 3}
    assert edited.json["submitted"] is True and edited.json["submitted_at"] == done.json["submitted_at"]


def test_answers_can_change_until_the_survey_closes_then_a_polite_409(api, survey, db_backend):
    rating = question_ids(survey)[0]
    assert api.answer(survey["id"], 9, {rating: 2}).status_code == 200
    assert api.answer(survey["id"], 9, {rating: 4}).status_code == 200
    api.ok("POST", f"/surveys/{survey['id']}/close")
    response = api.answer(survey["id"], 9, {rating: 5})
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert response.json["detail"].startswith("Опрос закрыт") and "Спасибо" in response.json["detail"]
    assert api.answer(survey["id"], 10, {rating: 5}).status_code == 409  # nor a new one
    assert api.ok("GET", f"/surveys/{survey['id']}/responses/by-participant/9")["answers"] == {str(rating): 4}


def test_a_draft_takes_no_answers(api):
    draft = api.survey(opened=False)
    response = api.answer(draft["id"], 1, {draft["questions"][1]["id"]: 5})
    assert response.status_code == 409 and "ещё не открыт" in response.json["detail"]


def test_one_participant_cannot_read_another_ones_answers(api, survey):
    rating = question_ids(survey)[0]
    api.answer(survey["id"], 1, {rating: 5})
    assert api.call("GET", f"/surveys/{survey['id']}/responses/by-participant/2").status_code == 404
    other = api.survey(title="Другой опрос")
    assert api.call("GET", f"/surveys/{other['id']}/responses/by-participant/1").status_code == 404


def test_a_participant_sees_the_surveys_open_for_them_with_their_progress(api, db_backend):
    answered, partial, fresh = (api.survey(title=t) for t in ("Первый", "Второй", "Третий"))
    anonymous = api.survey(title="Анонимный", anonymous=True)
    api.survey(title="Черновик", opened=False)
    closed = api.survey(title="Закрытый")
    api.ok("POST", f"/surveys/{closed['id']}/close")
    api.survey(title="Другого мероприятия", event_id=2)
    api.answer(answered["id"], 4, {answered["questions"][1]["id"]: 5})
    api.answer(partial["id"], 4, {partial["questions"][6]["id"]: "черновик ответа"}, submit=False)
    api.answer(fresh["id"], 5, {fresh["questions"][1]["id"]: 5})  # someone else's response

    items = api.ok("GET", "/participants/4/surveys", event_id=1)["items"]
    assert [(i["title"], i["progress"]) for i in items] == [
        ("Первый", "answered"),
        ("Второй", "partial"),
        ("Третий", "not_started"),
        ("Анонимный", "anonymous"),
    ]
    assert items[3]["public_token"] == anonymous["public_token"] and items[0]["public_token"] is None
    assert api.call("GET", "/participants/4/surveys").status_code == 422  # which event?


def test_an_anonymous_survey_is_not_answered_by_participant(api):
    anonymous = api.survey(anonymous=True)
    response = api.answer(anonymous["id"], 1, {anonymous["questions"][1]["id"]: 5})
    assert response.status_code == 409 and "ссылке" in response.json["detail"]
    assert api.call("GET", f"/surveys/{anonymous['id']}/responses/by-participant/1").status_code == 404


def test_the_respondent_snapshot_is_kept_for_filters(api, survey, database_url):
    from sqlalchemy import create_engine, text

    rating = question_ids(survey)[0]
    api.answer(survey["id"], 3, {rating: 5}, respondent={"region_code": "61", "organisation": " МФЦ "})
    api.answer(survey["id"], 3, {rating: 4})  # without a respondent: the snapshot stays
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT region_code, organisation FROM responses")).all() == [
            ("61", "МФЦ")
        ]
    engine.dispose()


def test_a_draft_is_checked_again_on_submit_after_the_form_changed(api, db_backend):
    survey = api.survey(
        [
            {"kind": "single", "text": "Формат", "options": [{"label": "Очно"}, {"label": "Онлайн"}]},
            {"kind": "short_text", "text": "Уйдёт из формы"},
            {"kind": "rating", "text": "Оценка"},
        ]
    )
    single, gone, rating = (q["id"] for q in survey["questions"])
    online = option_ids(survey["questions"][0])["Онлайн"]
    api.answer(survey["id"], 1, {single: online, gone: "черновик", rating: 4}, submit=False)
    api.ok("DELETE", f"/surveys/{survey['id']}/questions/{gone}", status=204)  # no submitted answers: it goes
    api.ok(
        "PATCH",
        f"/surveys/{survey['id']}/questions/{single}",
        json={
            "options": [
                {"id": option_ids(survey["questions"][0])["Очно"], "label": "Очно"},
                {"label": "Заочно"},
            ]
        },
    )
    assert api.ok("GET", f"/surveys/{survey['id']}/responses/by-participant/1")["answers"] == {
        str(single): online,
        str(rating): 4,
    }
    refused = api.answer(survey["id"], 1, {}, submit=True)
    assert refused.status_code == 422
    assert [(e["field"], e["code"]) for e in refused.json["errors"]] == [
        (f"answers.{single}", "unknown_option")
    ]
    done = api.answer(survey["id"], 1, {single: None}, submit=True)
    assert done.status_code == 200 and done.json["answers"] == {str(rating): 4}
    assert api.ok("GET", f"/surveys/{survey['id']}")["responses_count"] == 1
