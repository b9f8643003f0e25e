"""The participant's own page: attendance, eligibility in words, their current document and its PDF —
and nothing of another participant or another event, whatever ids are put in the URL."""

from __future__ import annotations

import pytest

from tests.certificates.support import DAYS, Course, store_pdfs


@pytest.fixture
def pair(course):
    petr = course.add("Иванов", "Пётр", gender="male")
    anna = course.add("Петрова", "Анна", gender="female")
    course.attend_all_sessions([petr])
    course.attend_all_sessions([anna], days=DAYS[:2])
    return petr, anna


def record(course, participant_id, event_id=None, lang="ru"):
    return course.get(
        f"/events/{event_id or course.event_id}/participants/{participant_id}/record", lang=lang
    )


def test_the_record_shows_days_sessions_hours_and_why(course, pair):
    _petr, anna = pair
    before = record(course, anna).json
    assert before["eligibility"] is None and before["certificate"] is None  # no policy yet
    course.set_policy()
    body = record(course, anna).json
    assert (body["full_name"], body["attended_hours"], body["programme_hours"]) == ("Петрова Анна", 16, 24)
    assert [(d["day"], d["present"]) for d in body["days"]] == [
        (DAYS[0], True),
        (DAYS[1], True),
        (DAYS[2], False),
    ]
    first_day = body["days"][0]["sessions"]
    assert [(s["academic_hours"], s["attended"], s["starts_at"]) for s in first_day] == [
        (4, True, "10:00:00"),
        (4, True, "14:00:00"),
    ]
    assert body["eligibility"] == {
        "eligible": False,
        "reasons": ["посещено 16 из 24 академических часов, нужно 18"],
        "summary": "Программа пока не освоена.",
    }
    english = record(course, anna, lang="en").json["eligibility"]
    assert english["summary"] == "You have not completed the programme yet."


def test_the_door_rule_shows_in_the_record(course):
    door_only = course.add("Сидоров", "Сидор", gender="male")
    course.attend([door_only], DAYS[0])
    course.set_policy(door_counts_sessions=True)
    body = record(course, door_only).json
    assert body["days"][0]["at_door"] is True
    assert [s["attended"] for s in body["days"][0]["sessions"]] == [True, True]
    assert body["attended_hours"] == 8


def test_the_participant_downloads_their_own_current_pdf(course, pair, certificates_app):
    petr, anna = pair
    course.set_policy()
    course.issue()
    pending = record(course, petr).json["certificate"]
    assert (pending["status"], pending["downloadable"]) == ("pending", False)
    assert course.get(f"/events/{course.event_id}/participants/{petr}/certificate.pdf").status_code == 409
    stored = store_pdfs(certificates_app)
    mine = record(course, petr).json
    assert mine["eligibility"]["summary"] == "Вы освоили программу."
    assert (mine["certificate"]["downloadable"], mine["certificate"]["validity"]) == (True, "valid")
    assert mine["certificate"]["verification_code"]
    pdf = course.get(f"/events/{course.event_id}/participants/{petr}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data == stored[mine["certificate"]["id"]]
    assert pdf.headers["Content-Disposition"].startswith("attachment")

    # Anna has none: her URL gives nothing, and certainly not Пётр's.
    none = course.get(f"/events/{course.event_id}/participants/{anna}/certificate.pdf")
    assert none.status_code == 404 and none.json["detail"] == "Документа для скачивания нет."

    # Revoked: the record says so and the download is gone.
    course.post(f"/certificates/{mine['certificate']['id']}/revoke", json={"reason": "ошибка"})
    after = record(course, petr).json["certificate"]
    assert (after["validity"], after["downloadable"]) == ("revoked", False)
    assert course.get(f"/events/{course.event_id}/participants/{petr}/certificate.pdf").status_code == 404


def test_another_events_ids_reach_nothing(course, pair, certificates_app, registration_server):
    petr, _anna = pair
    course.set_policy()
    course.issue()
    store_pdfs(certificates_app)
    other = Course.create(course.http, registration_server.url, certificates_app)
    stranger = other.add("Чужой", "Участник", gender="male")
    # Пётр's id under the other event, and the other event's participant under Пётр's event.
    for event_id, participant_id in [(other.event_id, petr), (course.event_id, stranger)]:
        assert (
            course.get(f"/events/{event_id}/participants/{participant_id}/certificate.pdf").status_code == 404
        )
        response = record(course, participant_id, event_id=event_id)
        assert response.status_code == 404
        assert response.json["detail"] == "В этом мероприятии нет такого участника."
    assert course.get(f"/events/{course.event_id}/participants/999999/record").status_code == 404
