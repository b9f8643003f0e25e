"""Building surveys: questions of every kind in order, options that keep their ids, sections, states,
per-session forms made from the programme, and definitions that travel to another event."""

import pytest

from tests.feedback.support import EVERY_KIND, Api, by_text, option_ids


@pytest.fixture
def api(app_factory):
    return Api(app_factory("feedback").test_client())


def test_a_survey_of_every_kind_is_built_in_order_as_a_draft(api, db_backend):
    survey = api.survey(opened=False)
    assert survey["status"] == "draft" and survey["answerable"] is False
    assert [q["kind"] for q in survey["questions"]] == [q["kind"] for q in EVERY_KIND]
    assert [q["position"] for q in survey["questions"]] == list(range(len(EVERY_KIND)))
    assert survey["questions_count"] == len(EVERY_KIND) - 1  # the section is a heading, not a question
    assert survey["min_group_size"] == 5 and survey["public_token"] is None  # named: no link
    listed = api.ok("GET", "/events/1/surveys")["items"]
    assert [s["id"] for s in listed] == [survey["id"]] and listed[0]["responses_count"] == 0
    assert api.ok("GET", "/events/2/surveys")["items"] == []


def test_questions_are_added_moved_and_removed(api, db_backend):
    survey = api.survey([{"kind": "rating", "text": "A"}, {"kind": "nps", "text": "B"}], opened=False)
    path = f"/surveys/{survey['id']}/questions"
    first = api.ok("POST", path, status=201, json={"kind": "short_text", "text": "C", "position": 0})
    assert first["position"] == 0
    texts = lambda: [q["text"] for q in api.ok("GET", f"/surveys/{survey['id']}")["questions"]]  # noqa: E731
    assert texts() == ["C", "A", "B"]
    api.ok("POST", f"{path}/{first['id']}/move", json={"direction": "down"})
    assert texts() == ["A", "C", "B"]
    moved = api.ok("POST", f"{path}/{first['id']}/move", json={"position": 99})  # past the end: last
    assert [q["text"] for q in moved["questions"]] == ["A", "B", "C"]
    assert [q["position"] for q in moved["questions"]] == [0, 1, 2]
    api.ok("POST", f"{path}/{moved['questions'][0]['id']}/move", json={"direction": "up"})  # already first
    assert texts() == ["A", "B", "C"]
    bad = api.call("POST", f"{path}/{first['id']}/move", {"position": 1, "direction": "up"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "position"
    api.ok("DELETE", f"{path}/{first['id']}", status=204)
    assert texts() == ["A", "B"]
    assert api.call("PATCH", f"{path}/{first['id']}", {"text": "x"}).status_code == 404


def test_a_question_of_another_survey_cannot_be_reached_through_this_one(api):
    one, other = api.survey(opened=False), api.survey(opened=False, title="Другой")
    foreign = other["questions"][1]["id"]
    assert api.call("PATCH", f"/surveys/{one['id']}/questions/{foreign}", {"text": "x"}).status_code == 404
    assert api.call("DELETE", f"/surveys/{one['id']}/questions/{foreign}").status_code == 404


@pytest.mark.parametrize(
    "question,field,code",
    [
        ({"kind": "single", "text": "Q", "options": [{"label": "Да"}]}, "options", "too_few_options"),
        (
            {"kind": "multiple", "text": "Q", "options": [{"label": "Да"}, {"label": "да "}]},
            "options.1.label",
            "duplicate_option",
        ),
        (
            {"kind": "rating", "text": "Q", "options": [{"label": "a"}, {"label": "b"}]},
            "options",
            "options_not_allowed",
        ),
        ({"kind": "nps", "text": "Q", "allow_other": True}, "allow_other", "other_not_allowed"),
        (
            {"kind": "single", "text": "Q", "options": [{"id": "x", "label": "a"}, {"label": "b"}]},
            "options.0.id",
            "unknown_option",
        ),
        ({"kind": "ranking", "text": "Q"}, "kind", "enum"),
        ({"kind": "rating", "text": "  "}, "text", "blank"),
    ],
)
def test_a_bad_question_is_refused_next_to_its_field_in_russian(api, question, field, code):
    survey = api.survey(opened=False)
    response = api.call("POST", f"/surveys/{survey['id']}/questions", question)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    errors = {e["field"]: e for e in response.json["errors"]}
    assert errors[field]["code"] == code
    assert any("а" <= c <= "я" for c in errors[field]["message"].lower()), errors[field]["message"]
    assert len(api.ok("GET", f"/surveys/{survey['id']}")["questions"]) == len(EVERY_KIND)


def test_bad_questions_in_a_new_survey_are_named_by_their_place(api):
    response = api.call(
        "POST",
        "/events/1/surveys",
        {
            "title": "Опрос",
            "questions": [
                {"kind": "rating", "text": "ok"},
                {"kind": "single", "text": "Q", "options": [{"label": "a"}]},
            ],
        },
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json["errors"]] == ["questions.1.options"]
    assert api.ok("GET", "/events/1/surveys")["items"] == []


def test_renamed_and_removed_options_keep_their_ids_and_answers(api, db_backend):
    survey = api.survey(
        [
            {
                "kind": "single",
                "text": "Формат",
                "options": [{"label": "Очно"}, {"label": "Онлайн"}, {"label": "Смешанный"}],
            }
        ],
        min_group_size=2,
    )
    question = survey["questions"][0]
    ids = option_ids(question)
    api.answer(survey["id"], 1, {question["id"]: ids["Онлайн"]})
    api.answer(survey["id"], 2, {question["id"]: ids["Очно"]})
    changed = api.ok(
        "PATCH",
        f"/surveys/{survey['id']}/questions/{question['id']}",
        json={
            "options": [
                {"id": ids["Очно"], "label": "Очно (в аудитории)"},
                {"id": ids["Смешанный"], "label": "Смешанный"},
                {"label": "Заочно"},
            ]
        },
    )
    assert [o["label"] for o in changed["options"]] == ["Очно (в аудитории)", "Смешанный", "Заочно"]
    assert changed["options"][0]["id"] == ids["Очно"] and changed["answers_count"] == 2
    # «Онлайн» left the form but its answer did not.
    own = api.ok("GET", f"/surveys/{survey['id']}/responses/by-participant/1")
    assert own["answers"] == {str(question["id"]): ids["Онлайн"]}
    result = api.results(survey["id"])["questions"][0]
    assert {o["label"]: (o["count"], o["removed"]) for o in result["options"]} == {
        "Очно (в аудитории)": (1, False),
        "Онлайн": (1, True),
        "Смешанный": (0, False),
        "Заочно": (0, False),
    }
    # A removed option can be restored by its id.
    restored = api.ok(
        "PATCH",
        f"/surveys/{survey['id']}/questions/{question['id']}",
        json={"options": [{"id": ids["Онлайн"], "label": "Онлайн"}, {"id": ids["Очно"], "label": "Очно"}]},
    )
    assert [o["id"] for o in restored["options"]] == [ids["Онлайн"], ids["Очно"]]


def test_a_question_with_answers_keeps_its_kind_and_stays_in_the_results_when_removed(api, db_backend):
    survey = api.survey(
        [{"kind": "rating", "text": "Оценка"}, {"kind": "nps", "text": "NPS"}], min_group_size=2
    )
    rating, nps = (q["id"] for q in survey["questions"])
    api.answer(survey["id"], 1, {rating: 5})
    api.answer(survey["id"], 2, {rating: 3})
    response = api.call("PATCH", f"/surveys/{survey['id']}/questions/{rating}", {"kind": "nps"})
    assert response.status_code == 409 and "ответ" in response.json["detail"]
    assert (
        api.ok("PATCH", f"/surveys/{survey['id']}/questions/{nps}", json={"kind": "long_text"})["kind"]
        == "long_text"
    )  # no answers yet: it may change
    api.ok("DELETE", f"/surveys/{survey['id']}/questions/{rating}", status=204)
    assert [q["id"] for q in api.ok("GET", f"/surveys/{survey['id']}")["questions"]] == [nps]
    removed = next(q for q in api.results(survey["id"])["questions"] if q["id"] == rating)
    assert removed["removed"] is True and removed["mean"] == 4.0


def test_open_close_reopen_and_what_each_state_allows(api, db_backend):
    empty = api.ok(
        "POST",
        "/events/1/surveys",
        status=201,
        json={"title": "Пустой", "questions": [{"kind": "section", "text": "Только заголовок"}]},
    )
    response = api.call("POST", f"/surveys/{empty['id']}/open")
    assert response.status_code == 409 and "вопрос" in response.json["detail"]

    survey = api.survey(opened=False)
    assert api.call("POST", f"/surveys/{survey['id']}/close").status_code == 409  # a draft is not open
    opened = api.ok("POST", f"/surveys/{survey['id']}/open")
    assert opened["status"] == "open" and opened["answerable"] and opened["opens_at"]
    closed = api.ok("POST", f"/surveys/{survey['id']}/close")
    assert closed["status"] == "closed" and closed["closes_at"] and not closed["answerable"]
    again = api.ok("POST", f"/surveys/{survey['id']}/open")
    assert again["status"] == "open" and again["closes_at"] is None


def test_anonymity_cannot_change_once_there_are_responses_and_such_a_survey_cannot_be_deleted(api):
    survey = api.survey(min_group_size=2)
    patched = api.ok(
        "PATCH", f"/surveys/{survey['id']}", json={"title": "Новое название", "min_group_size": 3}
    )
    assert patched["title"] == "Новое название" and patched["min_group_size"] == 3
    api.answer(survey["id"], 1, {survey["questions"][1]["id"]: 4})
    response = api.call("PATCH", f"/surveys/{survey['id']}", {"anonymous": True})
    assert response.status_code == 409
    assert api.ok("GET", f"/surveys/{survey['id']}")["anonymous"] is False
    assert api.call("DELETE", f"/surveys/{survey['id']}").status_code == 409
    draft = api.survey(opened=False, title="Черновик")
    api.ok("DELETE", f"/surveys/{draft['id']}", status=204)
    assert api.call("GET", f"/surveys/{draft['id']}").status_code == 404


def test_a_threshold_below_two_is_refused(api):
    response = api.call("POST", "/events/1/surveys", {"title": "Опрос", "min_group_size": 1})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "min_group_size"


def test_per_session_forms_are_made_once_from_the_programme(api, db_backend):
    programme = {
        "sessions": [
            {"session_id": 11, "title": "Контент-планирование", "starts_at": "2026-10-08T09:30:00"},
            {"session_id": 12, "title": "Мобильная съёмка", "starts_at": "2099-10-08T15:30:00+03:00"},
        ]
    }
    made = api.ok("POST", "/events/1/session-surveys", json=programme)
    assert [s["session_id"] for s in made["created"]] == [11, 12] and made["skipped"] == []
    first, later = made["created"]
    assert first["kind"] == "session" and first["status"] == "open" and first["answerable"] is True
    assert first["title"] == "Обратная связь: Контент-планирование"
    assert first["session_starts_at"] == "2026-10-08T06:30:00Z"  # 09:30 Moscow time
    assert later["answerable"] is False  # opens when the session starts
    form = api.ok("GET", f"/surveys/{first['id']}")
    assert [(q["kind"], q["required"]) for q in form["questions"]] == [("rating", True), ("long_text", False)]
    assert form["questions"][1]["text"] == "Что можно улучшить?"

    programme["sessions"].append({"session_id": 13, "title": "Аналитика", "starts_at": "2026-10-09T13:45:00"})
    again = api.ok("POST", "/events/1/session-surveys", json=programme)
    assert [s["session_id"] for s in again["created"]] == [13] and again["skipped"] == [11, 12]
    assert len(api.ok("GET", "/events/1/surveys")["items"]) == 3
    # Another event has its own forms for sessions of the same ids.
    assert len(api.ok("POST", "/events/2/session-surveys", json=programme)["created"]) == 3

    response = api.call(
        "PUT",
        f"/surveys/{later['id']}/responses/by-participant/1",
        {"answers": {str(api.ok("GET", f"/surveys/{later['id']}")["questions"][0]["id"]): 5}},
    )
    assert response.status_code == 409 and "ещё не открыт" in response.json["detail"]
    opened = api.ok("POST", f"/surveys/{later['id']}/open")  # the organiser opens it early
    assert opened["answerable"] is True


def test_a_definition_exports_without_ids_and_imports_into_another_event(api, db_backend):
    survey = api.survey(anonymous=True, min_group_size=7)
    question = by_text(survey)["С какими трудностями вы сталкиваетесь?"]
    api.ok(
        "PATCH",
        f"/surveys/{survey['id']}/questions/{question['id']}",
        json={"options": [{"id": o["id"], "label": o["label"]} for o in question["options"][:2]]},
    )  # one option removed
    definition = api.ok("GET", f"/surveys/{survey['id']}/definition")
    text = str(definition)
    assert "'id'" not in text and "event_id" not in text and survey["public_token"] not in text
    assert definition["format"] == "eventops.survey" and definition["version"] == 1
    difficulties = next(q for q in definition["questions"] if q["kind"] == "multiple")
    assert difficulties["options"] == ["Недостаток времени", "Отсутствие мотивации"]

    copy = api.ok("POST", "/events/2/surveys/import", status=201, json=definition)
    assert copy["event_id"] == 2 and copy["status"] == "draft" and copy["id"] != survey["id"]
    assert copy["public_token"] != survey["public_token"]
    assert api.ok("GET", f"/surveys/{copy['id']}/definition") == definition

    broken = {**definition, "version": 2, "questions": [{"kind": "single", "text": "Q", "options": ["a"]}]}
    response = api.call("POST", "/events/2/surveys/import", broken)
    assert response.status_code == 422 and {e["field"] for e in response.json["errors"]} == {"version"}
    broken["version"] = 1
    response = api.call("POST", "/events/2/surveys/import", broken)
    assert response.status_code == 422 and [e["field"] for e in response.json["errors"]] == [
        "questions.0.options"
    ]
    assert len(api.ok("GET", "/events/2/surveys")["items"]) == 1


def test_unknown_surveys_are_a_translated_404(api):
    response = api.call("GET", "/surveys/999")
    assert response.status_code == 404 and response.json["detail"] == "Такого опроса нет."
    english = Api(api.client, language="en").call("GET", "/surveys/999")
    assert english.json["detail"] == "There is no such survey."


def test_the_form_is_the_survey_in_order_without_its_counts(api, db_backend):
    survey = api.survey([{"kind": "rating", "text": "A"}, {"kind": "nps", "text": "B"}])
    first = survey["questions"][0]["id"]
    api.answer(survey["id"], 1, {first: 5})
    api.ok("POST", f"/surveys/{survey['id']}/questions/{first}/move", json={"direction": "down"})
    form = api.ok("GET", f"/surveys/{survey['id']}/form")
    full = api.ok("GET", f"/surveys/{survey['id']}")
    assert [q["text"] for q in form["questions"]] == [q["text"] for q in full["questions"]] == ["B", "A"]
    assert full["questions"][1]["answers_count"] == 1 and form["questions"][1]["answers_count"] == 0
    assert "responses_count" not in form
    assert {key: form[key] for key in ("id", "event_id", "status", "anonymous", "answerable")} == {
        key: full[key] for key in ("id", "event_id", "status", "anonymous", "answerable")
    }
    assert api.call("GET", "/surveys/999/form").status_code == 404
