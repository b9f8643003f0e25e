from tests.conftest import auth_headers

EVENT = {
    "slug": "mfc-2026",
    "title": "Цифровые коммуникации",
    "organiser": "ЮРИУ РАНХиГС",
    "place": "Сочи",
    "starts_on": "2026-10-07",
    "ends_on": "2026-10-09",
}


def test_event_with_programme_and_participants(app_factory, db_backend):
    client = app_factory("registration").test_client()
    event = client.post("/api/v1/events", json=EVENT, headers=auth_headers())
    assert event.status_code == 201, event.json
    event_id = event.json["id"]
    session = client.post(
        f"/api/v1/events/{event_id}/sessions",
        headers=auth_headers(),
        json={
            "day": "2026-10-07",
            "starts_at": "10:00",
            "ends_at": "11:30",
            "title": "Госпаблики",
            "kind": "lecture",
            "academic_hours": 2,
        },
    )
    assert session.status_code == 201, session.json
    participant = client.post(
        f"/api/v1/events/{event_id}/participants",
        headers=auth_headers(),
        json={"surname": "Ёлкин", "first_name": "Пётр", "email": " Elkin@MFC.example.ru "},
    )
    assert participant.status_code == 201, participant.json
    assert len(participant.json["token"]) >= 43  # 256 bits, URL-safe

    read = client.get(f"/api/v1/events/{event_id}", headers=auth_headers()).json
    assert (read["participants_count"], read["academic_hours"]) == (1, 2)


def test_same_email_in_other_case_is_a_conflict(app_factory, db_backend):
    client = app_factory("registration").test_client()
    event_id = client.post("/api/v1/events", json=EVENT, headers=auth_headers()).json["id"]
    person = {"surname": "Иванова", "first_name": "Анна", "email": "anna@mfc.example.ru"}
    assert (
        client.post(
            f"/api/v1/events/{event_id}/participants", json=person, headers=auth_headers()
        ).status_code
        == 201
    )
    again = client.post(
        f"/api/v1/events/{event_id}/participants",
        json=dict(person, email="ANNA@mfc.example.ru"),
        headers=auth_headers(),
    )
    assert again.status_code == 409
    assert again.json["errors"][0]["field"] == "email"
    assert client.get(f"/api/v1/events/{event_id}", headers=auth_headers()).json["participants_count"] == 1


def test_session_outside_the_event_dates_is_refused(app_factory):
    client = app_factory("registration").test_client()
    event_id = client.post("/api/v1/events", json=EVENT, headers=auth_headers()).json["id"]
    response = client.post(
        f"/api/v1/events/{event_id}/sessions",
        headers=auth_headers(),
        json={
            "day": "2026-10-10",
            "starts_at": "10:00",
            "ends_at": "11:00",
            "title": "Поздно",
            "kind": "lecture",
        },
    )
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "day"


def test_participant_of_another_event_is_not_found(app_factory, db_backend):
    client = app_factory("registration").test_client()
    first = client.post("/api/v1/events", json=EVENT, headers=auth_headers()).json["id"]
    second = client.post("/api/v1/events", json=dict(EVENT, slug="other"), headers=auth_headers()).json["id"]
    pid = client.post(
        f"/api/v1/events/{first}/participants",
        headers=auth_headers(),
        json={"surname": "Петров", "first_name": "Иван", "email": "p@x.example.ru"},
    ).json["id"]
    assert client.get(f"/api/v1/events/{first}/participants/{pid}", headers=auth_headers()).status_code == 200
    assert (
        client.get(f"/api/v1/events/{second}/participants/{pid}", headers=auth_headers()).status_code == 404
    )


def test_event_counts_who_is_expected(app_factory, db_backend):
    client = app_factory("registration").test_client()
    event_id = client.post("/api/v1/events", json=EVENT, headers=auth_headers()).json["id"]
    ids = [
        client.post(
            f"/api/v1/events/{event_id}/participants",
            headers=auth_headers(),
            json={"surname": "Петров", "first_name": "Иван", "email": f"p{n}@x.example.ru"},
        ).json["id"]
        for n in range(3)
    ]
    assert (
        client.post(
            f"/api/v1/events/{event_id}/participants/{ids[0]}/cancel", headers=auth_headers()
        ).status_code
        == 200
    )
    event = client.get(f"/api/v1/events/{event_id}", headers=auth_headers()).json
    assert (event["participants_count"], event["active_participants_count"]) == (3, 2)
