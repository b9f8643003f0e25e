"""Results against figures computed by hand: shares of respondents (multiple choice over 100%), «другое»,
rating distribution and mean, NPS; and the threshold, enforced by the API under filters, complementary
filters and the cross-tab."""

import pytest

from tests.feedback.support import Api, option_ids, result_of

QUESTIONS = [
    {"kind": "rating", "text": "Оценка курса"},
    {
        "kind": "single",
        "text": "Впервые?",
        "options": [{"label": "Да"}, {"label": "Нет"}],
        "allow_other": True,
    },
    {
        "kind": "multiple",
        "text": "Трудности",
        "allow_other": True,
        "options": [{"label": "A"}, {"label": "B"}, {"label": "C"}],
    },
    {"kind": "nps", "text": "Порекомендуете?"},
    {"kind": "long_text", "text": "Что улучшить?"},
]

#: (region, organisation, rating, single, multiple, nps, text); see each figure worked out below
PEOPLE = [
    ("61", "МФЦ Ростова", 5, "Да", ["A", "B"], 10, "Больше практики"),
    ("61", "МФЦ Ростова", 4, "Да", ["A"], 9, "Больше перерывов"),
    ("61", "МФЦ Ростова", 4, "Нет", ["A", "C"], 8, "Больше примеров"),
    ("61", "МФЦ Ростова", 3, {"other": "Затрудняюсь"}, {"choices": ["B"], "other": "Нет техники"}, 6, None),
    ("61", "МФЦ Ростова", 5, "Да", ["A", "B", "C"], 10, "Всё отлично"),
    ("16", "МФЦ Татарстана", 2, "Нет", ["C"], 3, None),
    ("16", "МФЦ Татарстана", 5, "Да", ["A"], 7, "Меньше теории"),
    ("16", "МФЦ Татарстана", 4, "Да", None, 9, None),
    ("16", "МФЦ Татарстана", 1, "Нет", {"other": "Другое дело"}, 0, None),
    ("16", "МФЦ Татарстана", 4, "Да", ["A", "B"], 10, None),
]


def answers_of(survey, person):
    rating, single, multiple, nps, text = survey["questions"]
    singles, multiples = option_ids(single), option_ids(multiple)
    _region, _organisation, score, one, several, recommend, remark = person
    answers = {
        rating["id"]: score,
        nps["id"]: recommend,
        single["id"]: singles[one] if isinstance(one, str) else one,
    }
    if isinstance(several, list):
        answers[multiple["id"]] = [multiples[o] for o in several]
    elif several is not None:
        answers[multiple["id"]] = {
            "choices": [multiples[o] for o in several.get("choices", [])],
            "other": several["other"],
        }
    if remark:
        answers[text["id"]] = remark
    return answers


@pytest.fixture
def api(app_factory):
    return Api(app_factory("feedback").test_client())


@pytest.fixture
def survey(api):
    survey = api.survey(QUESTIONS, min_group_size=5)
    for participant_id, person in enumerate(PEOPLE, 1):
        response = api.answer(
            survey["id"],
            participant_id,
            answers_of(survey, person),
            respondent={"region_code": person[0], "organisation": person[1]},
        )
        assert response.status_code == 200, response.json
    api.answer(survey["id"], 99, {survey["questions"][0]["id"]: 1}, submit=False)  # partial: not counted
    return survey


def test_aggregation_matches_the_figures_worked_out_by_hand(api, survey, db_backend):
    rating, single, multiple, nps, text = (q["id"] for q in survey["questions"])
    results = api.results(survey["id"], population=20)
    assert (results["respondents"], results["response_rate"], results["withheld"]) == (10, 50.0, False)

    # Rating: 5 4 4 3 5 2 5 4 1 4 -> one 1, one 2, one 3, four 4s, three 5s; mean 37 / 10.
    q = result_of(results, rating)
    assert [(d["score"], d["count"], d["percent"]) for d in q["distribution"]] == [
        (1, 1, 10.0),
        (2, 1, 10.0),
        (3, 1, 10.0),
        (4, 4, 40.0),
        (5, 3, 30.0),
    ]
    assert q["mean"] == 3.7 and q["respondents"] == 10 and q["response_rate"] == 50.0

    # Single: 6 «Да», 3 «Нет», 1 «другое» of 10.
    q = result_of(results, single)
    assert [(o["label"], o["count"], o["percent"]) for o in q["options"]] == [
        ("Да", 6, 60.0),
        ("Нет", 3, 30.0),
    ]
    assert q["other"] == {"count": 1, "percent": 10.0, "texts": ["Затрудняюсь"]}
    assert q["shares_sum_over_100"] is False

    # Multiple: 9 respondents (one skipped it); A 6, B 4, C 3, «другое» 2: shares of respondents.
    q = result_of(results, multiple)
    assert q["respondents"] == 9 and q["response_rate"] == 45.0
    assert [(o["label"], o["count"], o["percent"]) for o in q["options"]] == [
        ("A", 6, 66.7),
        ("B", 4, 44.4),
        ("C", 3, 33.3),
    ]
    assert q["other"]["count"] == 2 and q["other"]["percent"] == 22.2
    assert sorted(q["other"]["texts"]) == ["Другое дело", "Нет техники"]
    assert q["shares_sum_over_100"] is True

    # NPS: 10 9 8 6 10 3 7 9 0 10 -> promoters 5 (50%), passives 2, detractors 3 (30%): 50 - 30.
    q = result_of(results, nps)
    assert q["nps"] == {
        "score": 20.0,
        "detractors": 3,
        "passives": 2,
        "promoters": 5,
        "detractors_percent": 30.0,
        "passives_percent": 20.0,
        "promoters_percent": 50.0,
    }
    assert [d["count"] for d in q["distribution"]] == [1, 0, 0, 1, 0, 0, 1, 1, 1, 2, 3]
    assert q["mean"] == 7.2

    # Free texts: five of them, in no order of answering, as many as asked for.
    q = result_of(results, text)
    written = {"Больше практики", "Больше перерывов", "Больше примеров", "Всё отлично", "Меньше теории"}
    assert q["texts_count"] == 5 and set(q["texts"]) == written
    limited = result_of(api.results(survey["id"], texts_limit=2), text)
    assert limited["texts_count"] == 5 and len(limited["texts"]) == 2 and set(limited["texts"]) <= written
    assert limited["texts"] == q["texts"][:2]  # the same sample every time


def test_a_question_answered_by_fewer_than_the_threshold_is_withheld(api, survey):
    extra = api.ok(
        "POST",
        f"/surveys/{survey['id']}/questions",
        status=201,
        json={"kind": "short_text", "text": "Должность"},
    )
    for participant_id in (1, 2, 3, 4):
        api.answer(survey["id"], participant_id, {extra["id"]: "специалист"})
    q = result_of(api.results(survey["id"]), extra["id"])
    assert (
        q["withheld"] is True and q["respondents"] is None and q["texts"] == [] and q["texts_count"] is None
    )
    api.answer(survey["id"], 5, {extra["id"]: "=cmd|' /C calc'!A0"})
    assert result_of(api.results(survey["id"]), extra["id"])["respondents"] == 5


def test_a_filter_shows_its_group_only_when_neither_it_nor_its_complement_is_small(api, survey, db_backend):
    rating, _single, multiple, nps, _text = (q["id"] for q in survey["questions"])
    rostov = api.results(survey["id"], region="61", population=20)
    assert rostov["withheld"] is False and rostov["respondents"] == 5 and rostov["response_rate"] is None
    assert result_of(rostov, rating)["mean"] == 4.2  # 5 4 4 3 5
    assert result_of(rostov, nps)["nps"]["score"] == 40.0  # 3 promoters, 1 detractor of 5
    # Region 61 answered «Трудности» 5 times, region 16 only 4 times: showing 61 would show 16 as the
    # difference from the whole, so the API withholds it for 61 too.
    assert result_of(rostov, multiple)["withheld"] is True
    assert result_of(api.results(survey["id"], region="16"), multiple)["withheld"] is True
    assert result_of(api.results(survey["id"], organisation="МФЦ Ростова"), multiple)["withheld"] is True
    assert {c["value"] for c in rostov["choices"]["regions"]} == {"61", "16"}

    # One more respondent from a third region: 77 has one person, so one more group must go.
    api.answer(survey["id"], 11, {rating: 5}, respondent={"region_code": "77", "organisation": "МФЦ Москвы"})
    results = api.results(survey["id"])
    assert [c["value"] for c in results["choices"]["regions"]] == ["61"]
    assert results["respondents"] == 11
    assert api.results(survey["id"], region="77")["withheld"] is True
    tatarstan = api.results(survey["id"], region="16")  # 5 people, yet 11 - 6 (61 and 77) would show 77
    assert tatarstan["withheld"] is True and tatarstan["respondents"] is None
    assert all(q["withheld"] or q["kind"] == "section" for q in tatarstan["questions"])
    assert api.results(survey["id"], region="61")["withheld"] is False
    assert api.results(survey["id"], region="99")["withheld"] is True


def test_a_region_and_an_organisation_together_show_their_common_group(api, survey, db_backend):
    rating, _single, multiple, _nps, text = (q["id"] for q in survey["questions"])
    both = api.results(survey["id"], region="61", organisation="МФЦ Ростова", population=20)
    assert both["withheld"] is False and both["respondents"] == 5 and both["response_rate"] is None
    assert both["filters"]["region"] == "61" and both["filters"]["organisation"] == "МФЦ Ростова"
    assert result_of(both, rating)["mean"] == 4.2  # 5 4 4 3 5, as region 61 alone
    # Four free texts from there, and «Трудности» answered 4 times in 16 (see above): withheld, whichever
    # filter asks.
    assert result_of(both, text)["withheld"] is True and result_of(both, text)["texts"] == []
    assert result_of(both, multiple)["withheld"] is True
    nobody = api.results(survey["id"], region="61", organisation="МФЦ Татарстана")
    assert nobody["withheld"] is True and nobody["respondents"] is None
    assert all(q["withheld"] or q["kind"] == "section" for q in nobody["questions"])


def test_the_threshold_holds_for_a_region_and_an_organisation_together(api, survey, db_backend):
    rating = survey["questions"][0]["id"]
    # One person of МФЦ Татарстана answers from region 61: the cell (61, Татарстан) is one person, and
    # (61, Ростов) would show that person as region 61 minus it.
    api.answer(
        survey["id"], 11, {rating: 1}, respondent={"region_code": "61", "organisation": "МФЦ Татарстана"}
    )
    for region, organisation in (("61", "МФЦ Татарстана"), ("61", "МФЦ Ростова"), ("16", "МФЦ Татарстана")):
        found = api.results(survey["id"], region=region, organisation=organisation)
        assert found["withheld"] is True and found["respondents"] is None, (region, organisation)
        assert result_of(found, rating)["withheld"] is True
    # Four more from there make that cell a group of five, and every cell then adds up to its region.
    for participant_id in (12, 13, 14, 15):
        api.answer(
            survey["id"],
            participant_id,
            {rating: 2},
            respondent={"region_code": "61", "organisation": "МФЦ Татарстана"},
        )
    found = api.results(survey["id"], region="61", organisation="МФЦ Татарстана")
    assert found["withheld"] is False and found["respondents"] == 5
    assert result_of(found, rating)["mean"] == 1.8  # 1 2 2 2 2
    summary = api.call(
        "GET", f"/surveys/{survey['id']}/summary.csv", region="61", organisation="МФЦ Татарстана"
    )
    assert summary.status_code == 200


def test_the_session_filter_narrows_to_the_surveys_own_session(api):
    forms = api.ok(
        "POST",
        "/events/1/session-surveys",
        json={
            "sessions": [
                {"session_id": 5, "title": "Лекция", "starts_at": "2026-10-07T10:00:00"},
                {"session_id": 6, "title": "Тренинг", "starts_at": "2026-10-07T12:00:00"},
            ]
        },
    )["created"]
    form = api.ok("GET", f"/surveys/{forms[0]['id']}")
    for participant_id in range(1, 6):
        api.answer(form["id"], participant_id, {form["questions"][0]["id"]: 4})
    assert api.results(form["id"], session_id=5)["respondents"] == 5
    assert api.results(form["id"], session_id=6)["withheld"] is True
    sessions = api.results(form["id"])["choices"]["sessions"]
    assert [(s["session_id"], s["survey_id"]) for s in sessions] == [(5, forms[0]["id"]), (6, forms[1]["id"])]


def test_the_cross_tab_withholds_small_rows_and_what_would_reveal_them(api, survey, db_backend):
    rating, single, multiple, _nps, text = (q["id"] for q in survey["questions"])
    table = api.ok("GET", f"/surveys/{survey['id']}/crosstab", question_id=rating)
    assert table["withheld"] is False and [c["id"] for c in table["columns"]] == ["1", "2", "3", "4", "5"]
    assert [(r["value"], r["respondents"], r["counts"]) for r in table["rows"]] == [
        ("16", 5, [1, 1, 0, 2, 1]),
        ("61", 5, [0, 0, 1, 2, 2]),
    ]
    assert table["others"] is None and table["total"]["counts"] == [1, 1, 1, 4, 3]

    # «Трудности»: 61 has 5 respondents but 16 only 4, so neither row may show; all 9 are "others".
    table = api.ok("GET", f"/surveys/{survey['id']}/crosstab", question_id=multiple)
    assert table["rows"] == [] and table["others"]["respondents"] == 9
    assert table["others"]["counts"] == table["total"]["counts"] == [6, 4, 3, 2]
    assert [c["label"] for c in table["columns"]] == ["A", "B", "C", "Другое"]

    table = api.ok("GET", f"/surveys/{survey['id']}/crosstab", question_id=single, by="organisation")
    assert [r["value"] for r in table["rows"]] == ["МФЦ Ростова", "МФЦ Татарстана"]

    assert api.call("GET", f"/surveys/{survey['id']}/crosstab", question_id=text).status_code == 422
    assert api.call("GET", f"/surveys/{survey['id']}/crosstab", question_id=99999).status_code == 404
    assert (
        api.call("GET", f"/surveys/{survey['id']}/crosstab", question_id=rating, by="email").status_code
        == 422
    )


def test_a_small_survey_is_withheld_whole_in_the_cross_tab(api):
    survey = api.survey(QUESTIONS, min_group_size=5)
    for participant_id in range(1, 5):
        api.answer(
            survey["id"], participant_id, {survey["questions"][0]["id"]: 5}, respondent={"region_code": "61"}
        )
    table = api.ok("GET", f"/surveys/{survey['id']}/crosstab", question_id=survey["questions"][0]["id"])
    assert table["withheld"] is True and table["rows"] == [] and table["total"] is None
    results = api.results(survey["id"])
    assert results["withheld"] is True and results["choices"]["regions"] == []


def test_results_follow_every_change_of_answers_and_of_the_survey(api, survey, db_backend):
    rating, single, multiple, _nps, _text = (q["id"] for q in survey["questions"])
    assert result_of(api.results(survey["id"]), rating)["mean"] == 3.7
    assert result_of(api.results(survey["id"], region="61"), rating)["mean"] == 4.2

    api.answer(survey["id"], 1, {rating: 1})  # an edit of a submitted response: 5 -> 1
    assert result_of(api.results(survey["id"]), rating)["mean"] == 3.3
    assert result_of(api.results(survey["id"], region="61"), rating)["mean"] == 3.4

    api.answer(survey["id"], 1, {}, respondent={"region_code": "16", "organisation": "МФЦ Татарстана"})
    moved = api.results(survey["id"], region="61")  # four people left in 61
    assert moved["withheld"] is True
    assert api.ok("GET", f"/surveys/{survey['id']}/crosstab", question_id=rating)["rows"] == []

    ids = option_ids(survey["questions"][1])
    api.ok(
        "PATCH",
        f"/surveys/{survey['id']}/questions/{single}",
        json={"options": [{"id": ids["Да"], "label": "Да, впервые"}, {"id": ids["Нет"], "label": "Нет"}]},
    )
    labels = [o["label"] for o in result_of(api.results(survey["id"]), single)["options"]]
    assert labels == ["Да, впервые", "Нет"]

    api.ok("PATCH", f"/surveys/{survey['id']}", json={"min_group_size": 10})
    assert result_of(api.results(survey["id"]), multiple)["withheld"] is True  # 9 answered it
    assert result_of(api.results(survey["id"]), rating)["withheld"] is False  # 10 did
