"""Small helpers for registration tests: an API client and a way to add an event and its people."""

from __future__ import annotations

from tests.conftest import auth_headers

EVENT = {
    "slug": "mfc-2026",
    "title": "Цифровые коммуникации",
    "organiser": "ЮРИУ РАНХиГС",
    "place": "Сочи",
    "starts_on": "2026-10-07",
    "ends_on": "2026-10-09",
}

#: a СНИЛС with a correct check number: 1·9 + 1·8 + 2·7 + 2·6 + 3·5 + 3·4 + 4·3 + 4·2 + 5·1 = 95
VALID_SNILS = "112-233-445 95"


class Api:
    """The registration service's test client with the service token on every call."""

    def __init__(self, app):
        self.client = app.test_client()

    def get(self, path, **kwargs):
        return self.client.get("/api/v1" + path, headers=auth_headers(), **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.client.post("/api/v1" + path, json=json, headers=auth_headers(), **kwargs)

    def patch(self, path, json, headers=None):
        return self.client.patch("/api/v1" + path, json=json, headers={**auth_headers(), **(headers or {})})

    def delete(self, path):
        return self.client.delete("/api/v1" + path, headers=auth_headers())

    def event(self, **fields) -> int:
        response = self.post("/events", {**EVENT, **fields})
        assert response.status_code == 201, response.json
        return response.json["id"]

    def participant(self, event_id: int, **fields) -> dict:
        response = self.post(f"/events/{event_id}/participants", fields)
        assert response.status_code == 201, response.json
        return response.json


def registration_api(app_factory) -> Api:
    return Api(app_factory("registration"))
