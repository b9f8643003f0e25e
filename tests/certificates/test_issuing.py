"""Issuing: snapshots, gap-free numbers per organisation, справки on request, nothing twice, re-issue,
revoke, and what verification answers."""

from __future__ import annotations

import pytest
from rq import Queue
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.certificates.issuing import today
from services.certificates.models import Certificate, CertificateStatus
from services.certificates.tasks import QUEUE_NAME
from tests.certificates.helpers import DAYS, POLICY, Course

YEAR = today().year


@pytest.fixture
def group(course):
    """Three who completed (alphabetically: Алексеева, Борисов, Васильев), one who came for a day,
    one who never came, one who cancelled."""
    ids = {
        "vasiliev": course.add("Васильев", "Василий", "Васильевич", gender="male"),
        "alekseeva": course.add("Алексеева", "Алла", "Андреевна", gender="female"),
        "borisov": course.add("Борисов", "Борис", gender="male"),
        "daria": course.add("Дмитриева", "Дарья", gender="female"),
        "never": course.add("Егоров", "Егор", gender="male"),
        "cancelled": course.add("Жуков", "Жорж", gender="male", status="cancelled"),
    }
    course.attend_all_sessions([ids["vasiliev"], ids["alekseeva"], ids["borisov"], ids["cancelled"]])
    course.attend_all_sessions([ids["daria"]], days=DAYS[:1])
    return ids


def by_participant(documents: list[dict]) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = {}
    for d in documents:
        found.setdefault(d["participant_id"], []).append(d)
    return found


def test_issue_snapshots_and_numbers_the_eligible_in_order(course, group, redis_connection):
    course.set_policy()
    issued = course.issue()
    assert (issued["total"], issued["certificates"], issued["statements"]) == (3, 3, 0)
    documents = course.documents()
    assert [(d["participant_id"], d["number"]) for d in documents] == [
        (group["alekseeva"], f"ПК-{YEAR}-0001"),
        (group["borisov"], f"ПК-{YEAR}-0002"),
        (group["vasiliev"], f"ПК-{YEAR}-0003"),
    ]
    first = documents[0]
    assert (first["kind"], first["version"], first["status"], first["validity"]) == (
        "certificate",
        1,
        "pending",
        "valid",
    )
    assert first["issued_by"] == "organiser-1 (organiser)" and first["batch_id"] == issued["batch_id"]
    assert first["snapshot"] == {
        "kind": "certificate",
        "surname": "Алексеева",
        "first_name": "Алла",
        "patronymic": "Андреевна",
        "gender": "female",
        "programme_title": POLICY["programme_title"],
        "programme_kind": "ПК",
        "academic_hours": 24,
        "attended_hours": 24,
        "organisation": "ЮРИУ РАНХиГС",
        "place": "Сочи",
        "starts_on": DAYS[0],
        "ends_on": DAYS[-1],
        "issued_on": today().isoformat(),
        "signatory_name": "И. И. Петров",
        "signatory_title": "Директор",
        "number": f"ПК-{YEAR}-0001",
    }
    # Their PDFs are queued, and the batch follows them.
    queued = [i for job in Queue(QUEUE_NAME, connection=redis_connection).jobs for i in job.args[0]]
    assert sorted(queued) == sorted(d["id"] for d in documents)
    batch = course.get(f"/batches/{issued['batch_id']}").json
    assert batch == {
        "id": issued["batch_id"],
        "event_id": course.event_id,
        "total": 3,
        "rendered": 0,
        "failed": 0,
        "pending": 3,
        "done": False,
    }


def test_issuing_twice_issues_nothing_new(course, group):
    course.set_policy()
    course.issue()
    again = course.issue()
    assert (again["total"], again["certificates"]) == (0, 0)
    assert course.get(f"/batches/{again['batch_id']}").json["done"] is True
    assert len(course.documents()) == 3
    summary = course.get(f"/events/{course.event_id}/eligibility").json["summary"]
    assert (summary["issued"], summary["to_issue"]) == (3, 0)


def test_statements_for_those_who_came_but_did_not_complete(course, group):
    course.set_policy()
    issued = course.issue(statements=True)
    assert (issued["certificates"], issued["statements"]) == (3, 1)
    held = by_participant(course.documents())
    [statement] = held[group["daria"]]
    assert (statement["kind"], statement["number"]) == ("statement", f"СО-{YEAR}-0001")
    assert statement["snapshot"]["attended_hours"] == 8 and statement["snapshot"]["kind"] == "statement"
    assert group["never"] not in held and group["cancelled"] not in held

    # Дарья makes up for the missed days by an individual plan: the удостоверение replaces the справка.
    course.put(
        f"/events/{course.event_id}/eligibility/{group['daria']}/override",
        json={"eligible": True, "reason": "индивидуальный план"},
    )
    later = course.issue(statements=True)
    assert (later["certificates"], later["statements"]) == (1, 0)
    old, new = by_participant(course.documents())[group["daria"]]
    assert (old["validity"], old["superseded_by_id"]) == ("superseded", new["id"])
    assert (new["kind"], new["number"], new["version"], new["supersedes_id"]) == (
        "certificate",
        f"ПК-{YEAR}-0004",
        2,
        old["id"],
    )


def test_the_policy_default_decides_when_the_organiser_does_not_say(course, group):
    course.set_policy(issue_statements=True)
    assert course.issue()["statements"] == 1


def test_a_cancelled_registration_gets_nothing_even_when_overridden(course, group):
    course.set_policy()
    course.put(
        f"/events/{course.event_id}/eligibility/{group['cancelled']}/override",
        json={"eligible": True, "reason": "просьба"},
    )
    course.issue(statements=True)
    assert group["cancelled"] not in by_participant(course.documents())


def test_numbers_continue_per_organisation_and_kind(course, group, certificates_app, registration_server):
    course.set_policy()
    course.issue()
    same_organisation = Course.create(course.http, registration_server.url, certificates_app)
    other_organisation = Course.create(course.http, registration_server.url, certificates_app)
    for other in (same_organisation, other_organisation):
        person = other.add("Зайцев", "Захар", gender="male")
        other.attend_all_sessions([person])
    # Spelled differently, the same organisation: the key ignores case and spacing.
    same_organisation.set_policy(organisation="юриу  ранхигс", number_template="УПК {seq:05}/{year}")
    other_organisation.set_policy(organisation="Другой институт")
    same_organisation.issue()
    other_organisation.issue()
    assert [d["number"] for d in same_organisation.documents()] == [f"УПК 00004/{YEAR}"]
    assert [d["number"] for d in other_organisation.documents()] == [f"ПК-{YEAR}-0001"]


def test_reissue_makes_a_new_version_and_the_old_one_says_superseded(course, group):
    course.set_policy()
    course.issue()
    [old] = by_participant(course.documents())[group["borisov"]]
    course.update(group["borisov"], surname="Борисов-Залесский", patronymic="Петрович")

    response = course.post(f"/certificates/{old['id']}/reissue")
    assert response.status_code == 202, response.json
    new = response.json
    assert (new["version"], new["supersedes_id"], new["number"], new["validity"]) == (
        2,
        old["id"],
        f"ПК-{YEAR}-0004",
        "valid",
    )
    assert (new["snapshot"]["surname"], new["snapshot"]["patronymic"]) == ("Борисов-Залесский", "Петрович")
    assert course.get(f"/batches/{new['batch_id']}").json["total"] == 1
    stale = course.get(f"/certificates/{old['id']}").json
    assert (stale["validity"], stale["superseded_by_id"]) == ("superseded", new["id"])

    old_check = course.get(f"/verify/{old['verification_code']}").json
    assert (old_check["status"], old_check["superseded_by_code"]) == ("superseded", new["verification_code"])
    assert old_check["holder"] == "Борисов Борис"  # what the old paper says
    assert (
        course.get(f"/verify/{new['verification_code']}").json["holder"] == "Борисов-Залесский Борис Петрович"
    )

    again = course.post(f"/certificates/{old['id']}/reissue")
    assert again.status_code == 409 and "новая версия" in again.json["detail"]
    assert len(course.documents()) == 4


def test_revoke_records_who_when_why_and_verification_tells(course, group):
    course.set_policy()
    course.issue()
    documents = by_participant(course.documents())
    [secret], [public] = documents[group["alekseeva"]], documents[group["vasiliev"]]
    missing = course.post(f"/certificates/{secret['id']}/revoke", json={"reason": ""})
    assert missing.status_code == 422 and missing.json["errors"][0]["field"] == "reason"

    revoked = course.post(
        f"/certificates/{secret['id']}/revoke",
        staff="admin (administrator)",
        json={"reason": "ошибка в данных об участии"},
    )
    assert revoked.status_code == 200, revoked.json
    assert (revoked.json["validity"], revoked.json["revoked_by"]) == ("revoked", "admin (administrator)")
    assert revoked.json["revocation_reason"] == "ошибка в данных об участии" and revoked.json["revoked_at"]
    course.post(
        f"/certificates/{public['id']}/revoke", json={"reason": "выдан по ошибке", "reason_public": True}
    )

    hidden = course.get(f"/verify/{secret['verification_code']}").json
    assert (hidden["status"], hidden["revoked_on"], hidden["revocation_reason"]) == (
        "revoked",
        today().isoformat(),
        None,
    )
    shown = course.get(f"/verify/{public['verification_code']}").json
    assert (shown["status"], shown["revocation_reason"]) == ("revoked", "выдан по ошибке")

    twice = course.post(f"/certificates/{secret['id']}/revoke", json={"reason": "ещё раз"})
    assert twice.status_code == 409 and twice.json["detail"] == "Документ аннулирован."
    assert course.post(f"/certificates/{secret['id']}/reissue").status_code == 409
    assert (
        course.post(f"/certificates/{secret['id']}/revoke", lang="en", json={"reason": "x"}).json["detail"]
        == "The certificate is revoked."
    )


def test_verification_says_enough_to_check_a_paper_and_nothing_more(course, group):
    course.set_policy()
    course.issue()
    [document] = by_participant(course.documents())[group["vasiliev"]]
    code = document["verification_code"]
    answer = course.get(f"/verify/{code}").json
    assert answer == {
        "status": "valid",
        "kind": "certificate",
        "number": f"ПК-{YEAR}-0003",
        "holder": "Васильев Василий Васильевич",
        "programme_title": POLICY["programme_title"],
        "academic_hours": 24,
        "starts_on": DAYS[0],
        "ends_on": DAYS[-1],
        "issued_on": today().isoformat(),
        "organisation": "ЮРИУ РАНХиГС",
        "revoked_on": None,
        "revocation_reason": None,
        "superseded_by_code": None,
    }
    # Typed from paper: lower case, no hyphens, O for 0 and I for 1 still find it.
    typed = code.replace("-", "").lower().replace("0", "o").replace("1", "i")
    assert course.get(f"/verify/{typed}").json["number"] == answer["number"]
    unknown = course.get("/verify/AAAAA-BBBBB-CCCCC-DDDDD")
    assert unknown.status_code == 404 and unknown.json["detail"] == "Документа с таким кодом проверки нет."
    assert (
        course.get("/verify/AAAAA", lang="en").json["detail"] == "No certificate has this verification code."
    )


def test_batch_progress_counts_by_render_state(course, group, certificates_app):
    course.set_policy()
    issued = course.issue()
    with Session(certificates_app.extensions["db_engine"]) as session:
        ids = session.scalars(select(Certificate.id).order_by(Certificate.id)).all()
        session.execute(
            update(Certificate).where(Certificate.id == ids[0]).values(status=CertificateStatus.rendered)
        )
        session.execute(
            update(Certificate).where(Certificate.id == ids[1]).values(status=CertificateStatus.failed)
        )
        session.commit()
    progress = course.get(f"/batches/{issued['batch_id']}").json
    assert (progress["rendered"], progress["failed"], progress["pending"], progress["done"]) == (
        1,
        1,
        1,
        False,
    )
    assert course.get("/batches/99999").status_code == 404


def test_nothing_is_issued_when_the_queue_is_down(course, group, database_url, tmp_path, registration_server):
    from tests.conftest import create_service_app, make_settings

    course.set_policy()
    app = create_service_app(
        "certificates",
        make_settings("certificates", database_url, tmp_path / "storage", redis_url="redis://127.0.0.1:1/0"),
    )
    app.config["REGISTRATION_URL"] = registration_server.url
    down = Course(course.http, registration_server.url, app, course.event_id, course.sessions)
    response = down.post(f"/events/{course.event_id}/issue", json={})
    assert response.status_code == 503 and "ничего не выдано" in response.json["detail"]
    assert course.documents() == []


def test_registration_down_is_a_translated_503(course, group, registration_server):
    course.set_policy()
    registration_server.stop()
    response = course.get(f"/events/{course.event_id}/eligibility")
    assert response.status_code == 503 and response.json["detail"].startswith(
        "Сервис регистрации не отвечает"
    )
    assert course.post(f"/events/{course.event_id}/issue", json={}).status_code == 503
    assert course.documents() == []
