"""Who completed the programme, and why not, in words: hours, days, both, the door rule, overrides with
who/when/why, and cancelled registrations that are never eligible."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.certificates.models import EligibilityOverride
from tests.certificates.support import DAYS


@pytest.fixture
def people(course):
    """Пётр came to everything; Анна missed the last day; Саша only entered at the door (gender unknown);
    Олег came to everything but cancelled; Ирина never came."""
    ids = {
        "petr": course.add("Иванов", "Пётр", "Сергеевич", gender="male"),
        "anna": course.add("Петрова", "Анна", "Игоревна", gender="female"),
        "sasha": course.add("Сидоренко", "Саша"),
        "oleg": course.add("Орлов", "Олег", gender="male", status="cancelled"),
        "irina": course.add("Ёлкина", "Ирина", gender="female"),
    }
    course.attend_all_sessions([ids["petr"], ids["oleg"]])
    course.attend_all_sessions([ids["anna"]], days=DAYS[:2])
    for day in DAYS:
        course.attend([ids["sasha"]], day)  # at the door only
    return ids


def test_hours_rule_explains_in_russian_with_plurals(course, people):
    course.set_policy()  # 24 hours, 75 %: 18 needed
    items = course.eligibility()
    petr, anna, sasha, oleg, irina = (items[people[k]] for k in ("petr", "anna", "sasha", "oleg", "irina"))
    assert (petr["eligible"], petr["attended_hours"], petr["reasons"]) == (True, 24, [])
    assert (anna["eligible"], anna["attended_hours"], anna["required_hours"]) == (False, 16, 18)
    assert anna["reasons"] == ["посещено 16 из 24 академических часов, нужно 18"]
    assert anna["days_present"] == list(DAYS[:2]) and anna["days_missing"] == [DAYS[2]]
    assert (sasha["attended_hours"], sasha["eligible"]) == (0, False)
    assert irina["reasons"] == ["посещено 0 из 24 академических часов, нужно 18"]
    assert (oleg["status"], oleg["eligible"], oleg["computed_eligible"]) == ("cancelled", False, False)
    assert oleg["reasons"] == ["регистрация отменена"]
    summary = course.get(f"/events/{course.event_id}/eligibility").json["summary"]
    assert summary == {
        "total": 5,
        "eligible": 1,
        "not_eligible": 4,
        "cancelled": 1,
        "overridden": 0,
        "issued": 0,
        "statements": 0,
        "to_issue": 1,
    }


def test_the_plural_follows_the_programme_hours(course, people):
    course.set_policy(academic_hours=21, min_hours_percent=100)
    assert course.eligibility()[people["anna"]]["reasons"] == [
        "посещено 16 из 21 академического часа, нужно 21"
    ]
    english = course.eligibility(lang="en")[people["anna"]]["reasons"]
    assert english == ["attended 16 of 21 academic hours, 21 needed"]


def test_days_rule_names_the_missing_days_with_the_right_gender(course, people):
    course.set_policy(completion_rule="days")
    petr_only_first_day = course.add("Смирнов", "Илья", gender="male")
    course.attend([petr_only_first_day], DAYS[0], 0)
    items = course.eligibility()
    assert items[people["anna"]]["reasons"] == ["не была 9 октября"]
    assert items[petr_only_first_day]["reasons"] == ["не был 8 октября, 9 октября"]
    assert items[people["irina"]]["reasons"] == ["не была 7 октября, 8 октября, 9 октября"]
    # The door counts as presence for the days rule: Саша was there every day.
    assert items[people["sasha"]]["eligible"] is True
    unknown = course.add("Ким", "Алекс")
    course.attend([unknown], DAYS[0])
    assert course.eligibility()[unknown]["reasons"] == ["не был(а) 8 октября, 9 октября"]
    assert course.eligibility(lang="en")[people["anna"]]["reasons"] == ["absent on 9 October"]


def test_both_rules_give_both_reasons(course, people):
    course.set_policy(completion_rule="both")
    items = course.eligibility()
    assert items[people["anna"]]["reasons"] == [
        "посещено 16 из 24 академических часов, нужно 18",
        "не была 9 октября",
    ]
    assert items[people["petr"]]["eligible"] is True
    assert items[people["sasha"]]["reasons"] == ["посещено 0 из 24 академических часов, нужно 18"]


def test_the_door_rule_counts_a_days_sessions(course, people):
    mixed = course.add("Павлов", "Павел", gender="male")
    course.attend([mixed], DAYS[0])  # door on day one: both sessions (8 h) with the rule
    course.attend([mixed], DAYS[0], 0)  # and one of them in person: not counted twice
    course.attend([mixed], DAYS[1], 1)  # one session on day two (4 h)
    course.set_policy()
    assert course.eligibility()[mixed]["attended_hours"] == 8
    course.set_policy(door_counts_sessions=True)
    items = course.eligibility()
    assert items[mixed]["attended_hours"] == 12
    assert (items[people["sasha"]]["attended_hours"], items[people["sasha"]]["eligible"]) == (24, True)
    # The organiser's attendance view agrees with the rule.
    attendance = course.get(f"/events/{course.event_id}/attendance").json
    by_id = {p["participant_id"]: p for p in attendance["participants"]}
    assert by_id[people["sasha"]]["academic_hours"] == 24 and len(by_id[people["sasha"]]["session_ids"]) == 6


def test_overrides_record_who_when_why_and_keep_history(course, people, certificates_app):
    course.set_policy()
    path = f"/events/{course.event_id}/eligibility/{people['anna']}/override"
    missing_reason = course.put(path, json={"eligible": True, "reason": "  "})
    assert missing_reason.status_code == 422
    assert missing_reason.json["errors"][0]["field"] == "reason"
    assert "причину" in missing_reason.json["errors"][0]["message"]

    admitted = course.put(
        path, json={"eligible": True, "reason": "отработала пропуск по индивидуальному плану"}
    )
    assert admitted.status_code == 200, admitted.json
    item = admitted.json
    assert (item["eligible"], item["computed_eligible"]) == (True, False)
    assert item["override"]["by"] == "organiser-1 (organiser)" and item["override"]["at"]
    assert item["reasons"][-1] == "допущена организатором: отработала пропуск по индивидуальному плану"

    refused = course.put(
        f"/events/{course.event_id}/eligibility/{people['petr']}/override",
        json={"eligible": False, "reason": "не сдал итоговую работу"},
    ).json
    assert (refused["eligible"], refused["computed_eligible"]) == (False, True)
    assert refused["reasons"] == ["не допущен организатором: не сдал итоговую работу"]

    cleared = course.put(path, json={"eligible": None}).json
    assert (cleared["eligible"], cleared["override"]) == (False, None)
    with Session(certificates_app.extensions["db_engine"]) as session:
        history = session.scalars(
            select(EligibilityOverride)
            .where(EligibilityOverride.participant_id == people["anna"])
            .order_by(EligibilityOverride.id)
        ).all()
    assert [(h.eligible, h.by) for h in history] == [
        (True, "organiser-1 (organiser)"),
        (None, "organiser-1 (organiser)"),
    ]
    summary = course.get(f"/events/{course.event_id}/eligibility").json["summary"]
    assert (summary["eligible"], summary["overridden"]) == (0, 1)


def test_a_cancelled_registration_is_never_eligible(course, people):
    course.set_policy()
    response = course.put(
        f"/events/{course.event_id}/eligibility/{people['oleg']}/override",
        json={"eligible": True, "reason": "очень просил"},
    )
    assert response.status_code == 200
    assert (response.json["eligible"], response.json["reasons"]) == (False, ["регистрация отменена"])


def test_an_override_needs_a_participant_of_this_event(course, people, certificates_app, registration_server):
    from tests.certificates.support import Course

    course.set_policy()
    other = Course.create(course.http, registration_server.url, certificates_app)
    stranger = other.add("Чужой", "Человек")
    response = course.put(
        f"/events/{course.event_id}/eligibility/{stranger}/override", json={"eligible": True, "reason": "x"}
    )
    assert response.status_code == 404
    assert response.json["detail"] == "В этом мероприятии нет такого участника."
    assert (
        course.put(
            f"/events/{course.event_id}/eligibility/{stranger}/override",
            lang="en",
            json={"eligible": True, "reason": "x"},
        ).json["detail"]
        == "There is no such participant in this event."
    )


def test_eligibility_needs_a_policy(course, people):
    response = course.get(f"/events/{course.event_id}/eligibility")
    assert response.status_code == 404 and "политика" in response.json["detail"]
