"""The typed service clients: views call them and never spell an API path; their one cache; their errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import web
from web.clients.base import ServiceClient, ServiceError

VIEWS = Path(web.__file__).parent / "views"
#: view functions that still spell a path, each in another engineer's hands, to be converted there; when
#: one is converted this test fails until it leaves the list, so the list only ever shrinks
PENDING: set[str] = set()


def spelled_paths() -> set[str]:
    """ "module.py:function" (or "module.py:<module>") for every string in a view module that starts with
    "/api/v1": what `git grep '"/api/v1' web/views` finds, told apart by function."""
    found = set()
    for path in sorted(VIEWS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        owner = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    owner.setdefault(id(inner), node.name)  # ast.walk goes outside in: the outermost wins
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.startswith("/api/v1")
            ):
                found.add(f"{path.name}:{owner.get(id(node), '<module>')}")
    return found


def test_no_view_spells_an_api_path():
    assert spelled_paths() - PENDING == set(), "call a function of web/clients/<service>.py instead"


def test_the_pending_list_only_names_what_is_still_pending():
    assert PENDING - spelled_paths() == set(), "converted: take it off PENDING"


def test_the_views_folder_is_what_the_check_reads():
    # A check that reads nothing passes for nothing: the folder holds the gateway's view modules.
    assert {"events.py", "participants.py", "checkin.py", "attendance.py"} <= {
        p.name for p in VIEWS.glob("*.py")
    }


def test_kept_answers_from_its_copy_until_it_is_too_old(monkeypatch):
    client = ServiceClient("registration", "http://127.0.0.1:9", "token")
    now = [1000.0]
    monkeypatch.setattr("web.clients.base.time.monotonic", lambda: now[0])
    asked = []

    def fetch():
        asked.append(now[0])
        return [f"answer {len(asked)}"]

    assert client.kept("regions", 60, fetch) == ["answer 1"]
    now[0] += 59
    assert client.kept("regions", 60, fetch) == ["answer 1"]
    assert client.kept(("regions", "en"), 60, fetch) == ["answer 2"], "another key is another copy"
    now[0] += 2
    assert client.kept("regions", 60, fetch) == ["answer 3"]
    assert len(asked) == 3


def test_a_failed_fetch_is_not_kept(monkeypatch):
    client = ServiceClient("registration", "http://127.0.0.1:9", "token")

    def down():
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        client.kept("regions", 60, down)
    assert client.kept("regions", 60, lambda: ["back"]) == ["back"]


def test_kept_keeps_no_none_and_at_most_kept_max_copies(monkeypatch):
    client = ServiceClient("registration", "http://127.0.0.1:9", "token")
    monkeypatch.setattr("web.clients.base.KEPT_MAX", 3)
    asked = []

    def fetch(key):
        asked.append(key)
        return None if key == "nobody" else key

    assert client.kept("nobody", 60, lambda: fetch("nobody")) is None
    assert client.kept("nobody", 60, lambda: fetch("nobody")) is None
    assert asked == ["nobody", "nobody"], "a 'not found' is asked again"
    for key in ("a", "b", "c", "d"):
        client.kept(key, 60, lambda key=key: fetch(key))
    client.kept("d", 60, lambda: fetch("d"))
    assert asked[2:] == ["a", "b", "c", "d"]
    client.kept("a", 60, lambda: fetch("a"))
    assert asked[-1] == "a", "the oldest copy went when a fourth came"
    assert len(client._kept) == 3


def test_field_errors_name_each_field_of_a_problem():
    refusal = ServiceError(
        "registration",
        422,
        {
            "detail": "Исправьте отмеченные поля.",
            "errors": [
                {"field": "email", "code": "duplicate", "message": "Участник с таким e-mail уже есть."},
                {"field": "participant.snils", "code": "snils_checksum", "message": "Не сходится СНИЛС."},
            ],
        },
    )
    assert refusal.field_errors() == {
        "email": "Участник с таким e-mail уже есть.",
        "participant.snils": "Не сходится СНИЛС.",
    }


@pytest.fixture
def echo_service():
    """A service that answers with the headers it was sent (and 404 for /missing), over real HTTP."""
    from flask import Flask, jsonify, request

    from tests.conftest import LiveServer

    app = Flask("echo")

    @app.get("/echo")
    def echo():
        return jsonify(dict(request.headers))

    @app.get("/missing")
    def missing():
        return jsonify({"title": "Not Found", "detail": "Нет такого."}), 404

    server = LiveServer(app)
    yield server.url
    server.stop()


def test_a_call_started_soon_carries_the_same_headers_as_a_call_made_now(gateway, echo_service):
    from flask import g

    from web.auth import Role, StaffIdentity

    client = ServiceClient("certificates", echo_service, "token-" + "x" * 40)
    with gateway.test_request_context("/"):
        g.request_id = "request-42"
        g.staff = StaffIdentity(7, "petrova", "Петрова А.", Role.organiser)
        g.device = "tablet-3"
        now = client.get("/echo")
        soon = client.get_soon("/echo")
        with pytest.raises(ServiceError) as refused:
            client.get_soon("/missing").result(timeout=10)
        later = soon.result(timeout=10)
    for key in ("Authorization", "Accept-Language", "X-Request-Id", "X-Staff-User", "X-Device"):
        assert later.get(key) == now.get(key), key
    assert (later["X-Staff-User"], later["X-Device"]) == ("petrova", "tablet-3")
    assert (later["X-Request-Id"], later["Accept-Language"]) == ("request-42", "ru")
    assert refused.value.status == 404 and refused.value.problem["detail"] == "Нет такого."
