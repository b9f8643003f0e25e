"""Two organisers press «Выдать» at once, on SQLite and on PostgreSQL: every number is given once, with no
gap, and nobody gets two documents. A failed issue leaves no hole in the numbering either."""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.certificates import issuing
from services.certificates.models import Certificate, NumberCounter
from tests.certificates.support import Course, organiser_headers
from tests.conftest import create_service_app, make_settings

PEOPLE_PER_EVENT = 40


def eligible_course(course: Course, count: int) -> list[int]:
    ids = [
        course.add(
            "Участник" + "".join("абвгдежзик"[int(d)] for d in f"{i:03}"),
            "Тест",
            gender="male" if i % 2 else "female",
        )
        for i in range(count)
    ]
    course.attend_all_sessions(ids)
    course.set_policy()
    return ids


def test_concurrent_issues_give_no_gap_and_no_duplicate(
    course, certificates_app, registration_server, database_url, tmp_path, monkeypatch
):
    # No second attempt: the lock alone must decide the race (the unique indexes only stand behind it).
    monkeypatch.setattr(issuing, "ATTEMPTS", 1)
    second_event = Course.create(course.http, registration_server.url, certificates_app)
    people = eligible_course(course, PEOPLE_PER_EVENT) + eligible_course(second_event, PEOPLE_PER_EVENT)
    # Two gateways' worth of clients: separate apps with their own connection pools.
    apps = []
    for _ in range(2):
        app = create_service_app(
            "certificates", make_settings("certificates", database_url, tmp_path / "storage")
        )
        app.config["REGISTRATION_URL"] = registration_server.url
        apps.append(app)
    plan = [
        (apps[0], course.event_id),
        (apps[1], course.event_id),
        (apps[0], second_event.event_id),
        (apps[1], second_event.event_id),
    ]
    start = threading.Barrier(len(plan))
    answers: list = [None] * len(plan)

    def press(index: int, app, event_id: int) -> None:
        client = app.test_client()
        start.wait()
        response = client.post(f"/api/v1/events/{event_id}/issue", json={}, headers=organiser_headers())
        answers[index] = (response.status_code, response.json)

    threads = [
        threading.Thread(target=press, args=(i, app, event_id)) for i, (app, event_id) in enumerate(plan)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [status for status, _body in answers] == [202] * 4, answers
    assert sum(body["total"] for _status, body in answers) == 2 * PEOPLE_PER_EVENT

    with Session(certificates_app.extensions["db_engine"]) as session:
        documents = session.scalars(select(Certificate)).all()
        counter = session.scalars(select(NumberCounter)).one()
    seqs = sorted(d.number_seq for d in documents)
    assert seqs == list(range(1, 2 * PEOPLE_PER_EVENT + 1))  # no gap, no duplicate
    assert len({d.number for d in documents}) == len(documents)
    assert sorted(d.participant_id for d in documents) == sorted(people)  # one each
    assert counter.last_seq == 2 * PEOPLE_PER_EVENT


def test_a_failed_issue_leaves_no_hole_in_the_numbering(course, certificates_app, monkeypatch):
    eligible_course(course, 3)
    real_snapshot = issuing.snapshot
    calls = []

    def failing_on_the_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the disk is full")
        return real_snapshot(*args, **kwargs)

    monkeypatch.setattr(issuing, "snapshot", failing_on_the_second)
    failed = course.post(f"/events/{course.event_id}/issue", json={})
    assert failed.status_code == 500
    assert course.documents() == []
    monkeypatch.setattr(issuing, "snapshot", real_snapshot)
    course.issue()
    assert sorted(d["number"][-4:] for d in course.documents()) == ["0001", "0002", "0003"]
