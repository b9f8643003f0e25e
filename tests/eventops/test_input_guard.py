"""The shared input guard: what no handler should ever see is refused in front of every service, as a
translated problem, never a 500 — out-of-range integers, control characters, JSON nested without end, a form
where JSON is expected.

First on a small service of its own (the exact rules), then through the three real services on SQLite and
PostgreSQL, driven from their /openapi.json so that new endpoints are held to it too.
"""

from __future__ import annotations

import io

import pytest
from flask import Blueprint
from pydantic import BaseModel
from spectree import Response
from spectree.model_adapter.pydantic_adapter import BaseFile

from eventops import input_guard
from eventops.openapi import make_spec
from eventops.service import create_service_app as create_frame_app
from tests.conftest import auth_headers, make_settings
from tests.eventops.support import (
    all_operations,
    json_types,
    problem_shape_errors,
    resolve,
    wording_errors,
)

MAX_INT = 2**31 - 1
HUGE = 10**20

# --- a small service of its own ---------------------------------------------------------------------------

spec = make_spec("guard test")
api = Blueprint("guard_test", __name__, url_prefix="/api/v1")


class ThingIn(BaseModel):
    name: str
    count: int = 0
    ratio: float = 0.0
    tags: list[str] = []
    extra: dict = {}


class SearchQuery(BaseModel):
    q: str = ""
    limit: int = 10


class UploadForm(BaseModel):
    file: BaseFile
    note: str | None = None


@api.post("/things")
@spec.validate(json=ThingIn, resp=Response(HTTP_201=None))
def create_thing(json: ThingIn):
    return json.model_dump(), 201


@api.get("/things/<int:thing_id>")
@spec.validate(resp=Response(HTTP_200=None))
def read_thing(thing_id: int):
    return {"id": thing_id}


@api.get("/codes/<code>")
@spec.validate(resp=Response(HTTP_200=None))
def read_code(code: str):
    return {"code": code}


@api.get("/search")
@spec.validate(query=SearchQuery, resp=Response(HTTP_200=None))
def search(query: SearchQuery):
    return query.model_dump()


@api.post("/uploads")
@spec.validate(form=UploadForm, resp=Response(HTTP_200=None))
def upload(form: UploadForm):
    return {"name": form.file.filename, "note": form.note}


@pytest.fixture
def client(tmp_path):
    settings = make_settings("guardtest", f"sqlite:///{tmp_path}/guard.db", tmp_path)
    app = create_frame_app(settings, spec, [api])
    client = app.test_client()
    client.environ_base.update({"HTTP_AUTHORIZATION": auth_headers()["Authorization"]})
    return client


def refused(response, status: int, field: str | None = None, language: str = "ru") -> dict:
    """The response is a problem of this status, naming `field`, in `language`; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert not problem_shape_errors(response)
    body = response.get_json()
    assert not wording_errors(body, language)
    if field is not None:
        assert field in {error["field"] for error in body.get("errors", [])}, body
    return body


@pytest.mark.parametrize("text", ["plain", "tab\there", "two\r\nlines", "ёлка ✓ 😀", "\x7f is DEL, not C0"])
def test_text_with_tab_newlines_and_any_printable_character_passes(client, text):
    assert client.post("/api/v1/things", json={"name": text}).status_code == 201


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f"])
def test_a_control_character_in_any_json_string_is_refused_with_its_field(client, character):
    refused(client.post("/api/v1/things", json={"name": f"ООО{character}Ромашка"}), 422, "name")
    refused(client.post("/api/v1/things", json={"name": "ok", "tags": ["a", f"b{character}"]}), 422, "tags.1")
    refused(client.post("/api/v1/things", json={"name": "ok", "extra": {"k": [{"deep": character}]}}), 422)


def test_a_control_character_in_a_json_key_is_refused(client):
    body = refused(client.post("/api/v1/things", json={"name": "ok", "extra": {"a\x00b": 1}}), 422)
    assert body["errors"][0]["field"].startswith("extra.")


def test_a_lone_surrogate_is_refused(client):
    data = '{"name": "broken \\ud800 text"}'
    refused(client.post("/api/v1/things", data=data, content_type="application/json"), 422, "name")


@pytest.mark.parametrize("value", [MAX_INT, -MAX_INT - 1, 0])
def test_integers_a_database_column_holds_pass(client, value):
    assert client.post("/api/v1/things", json={"name": "ok", "count": value}).status_code == 201


@pytest.mark.parametrize("value", [MAX_INT + 1, -MAX_INT - 2, HUGE, -HUGE])
def test_an_integer_out_of_range_anywhere_in_the_body_is_refused_with_its_field(client, value):
    refused(client.post("/api/v1/things", json={"name": "ok", "count": value}), 422, "count")
    refused(
        client.post("/api/v1/things", json={"name": "ok", "extra": {"ids": [1, value]}}), 422, "extra.ids.1"
    )
    english = client.post(
        "/api/v1/things", json={"name": "ok", "count": value}, headers={"Accept-Language": "en"}
    )
    refused(english, 422, "count", language="en")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_number_that_is_not_finite_is_refused(client, literal):
    data = f'{{"name": "ok", "ratio": {literal}}}'
    refused(client.post("/api/v1/things", data=data, content_type="application/json"), 422, "ratio")


def nested(depth: int) -> str:
    return '{"name": "ok", "extra": {"x": ' + "[" * (depth - 2) + "]" * (depth - 2) + "}}"


def test_json_nested_up_to_the_bound_passes(client):
    data = nested(input_guard.MAX_JSON_DEPTH)
    assert client.post("/api/v1/things", data=data, content_type="application/json").status_code == 201


@pytest.mark.parametrize("depth", [input_guard.MAX_JSON_DEPTH + 1, 50_000])
def test_json_nested_deeper_than_the_bound_is_a_400(client, depth):
    refused(client.post("/api/v1/things", data=nested(depth), content_type="application/json"), 400)


def test_brackets_inside_strings_do_not_count_as_nesting(client):
    text = "[{" * 10_000 + '\\"'
    data = '{"name": "' + text + '"}'
    assert client.post("/api/v1/things", data=data, content_type="application/json").status_code == 201


@pytest.mark.parametrize("data", ["{", '{"name": }', "[1, 2", "\xff\xfe", '{"name": "ok"} trailing'])
def test_a_body_that_is_not_json_is_a_400(client, data):
    refused(client.post("/api/v1/things", data=data, content_type="application/json"), 400)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ({"name": "ok"}, "application/x-www-form-urlencoded"),
        ({"name": "ok"}, "multipart/form-data"),
        ('{"name": "ok"}', "text/plain"),
        ('{"name": "ok"}', None),
    ],
)
def test_a_body_that_is_not_sent_as_json_where_json_is_expected_is_a_415(client, data, content_type):
    response = client.post("/api/v1/things", data=data, content_type=content_type)
    refused(response, 415)


def test_json_where_a_file_is_expected_is_a_415(client):
    refused(client.post("/api/v1/uploads", json={"file": "x"}), 415)


def test_a_missing_body_is_left_to_the_validation_of_required_fields(client):
    refused(client.post("/api/v1/things"), 422, "name")


@pytest.mark.parametrize("thing_id", [str(MAX_INT + 1), str(HUGE), "1" * 5000])
def test_an_id_out_of_range_in_the_path_is_a_404(client, thing_id):
    refused(client.get(f"/api/v1/things/{thing_id}"), 404)


def test_the_largest_id_a_column_holds_is_routed(client):
    assert client.get(f"/api/v1/things/{MAX_INT}").get_json() == {"id": MAX_INT}
    assert client.get(f"/api/v1/things/{'0' * 20}7").get_json() == {"id": 7}


def test_a_control_character_in_the_path_is_refused_with_the_parameter(client):
    refused(client.get("/api/v1/codes/AB%00CD"), 422, "code")
    refused(client.get("/api/v1/no%01where"), 422, "path")


def test_a_control_character_in_the_query_is_refused_with_the_parameter(client):
    refused(client.get("/api/v1/search?q=petr%00ov"), 422, "q")
    refused(client.get("/api/v1/search?q%00=x"), 422)


def test_an_integer_query_parameter_out_of_range_is_refused_but_a_text_of_digits_is_not(client):
    refused(client.get(f"/api/v1/search?limit={HUGE}"), 422, "limit")
    assert client.get(f"/api/v1/search?q={HUGE}").get_json()["q"] == str(HUGE)
    assert client.get(f"/api/v1/search?limit={'0' * 20}7").get_json()["limit"] == 7


def test_a_form_field_or_file_name_with_a_control_character_is_refused(client):
    def upload(filename="list.xlsx", note="fine"):
        data = {"file": (io.BytesIO(b"PK\x03\x04"), filename), "note": note}
        return client.post("/api/v1/uploads", data=data, content_type="multipart/form-data")

    assert upload().get_json() == {"name": "list.xlsx", "note": "fine"}
    refused(upload(note="bad\x00note"), 422, "note")
    refused(upload(filename="list\x00.xlsx"), 422, "file")


@pytest.mark.parametrize(("text", "status"), [("a nameless part", 200), ("a nameless\x00part", 422)])
def test_a_multipart_part_without_a_name_is_checked_too(client, text, status):
    body = (
        "--b\r\nContent-Disposition: form-data\r\n\r\n" + text + "\r\n"
        '--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nx;y\r\n--b--\r\n'
    )
    response = client.post(
        "/api/v1/uploads", data=body.encode(), content_type="multipart/form-data; boundary=b"
    )
    if status == 200:
        assert response.status_code == 200, response.get_data(as_text=True)
    else:
        refused(response, 422, "form")


def test_nothing_reaches_the_guard_without_a_service_token(client):
    client.environ_base.pop("HTTP_AUTHORIZATION")
    refused(client.get("/api/v1/codes/AB%00CD"), 401)


# --- through the real services, on SQLite and PostgreSQL --------------------------------------------------


def hostile_body(schema: dict, document: dict, prefix: str = "") -> tuple[dict, set[str]]:
    """A body giving every integer property 10^20 and every text property a NUL, nested objects included;
    and the fields the guard must name."""
    body, fields = {}, set()
    for name, prop in resolve(schema, document).get("properties", {}).items():
        field = f"{prefix}{name}"
        types = json_types(prop, document) or set()
        target = resolve(prop, document)
        for part in target.get("anyOf", []):  # Optional[Model]: the model
            if "$ref" in part:
                target = resolve(part, document)
        if "integer" in types:
            body[name], fields = HUGE, fields | {field}
        elif "string" in types:
            body[name], fields = "x\x00y", fields | {field}
        elif "object" in types and target.get("properties"):
            body[name], inner = hostile_body(target, document, f"{field}.")
            fields |= inner
    return body, fields


@pytest.mark.parametrize(
    ("service", "operation"), [pytest.param(op.service, op, id=op.id) for op in all_operations()]
)
def test_hostile_input_to_a_real_service_is_a_4xx_problem(service_app, service, operation):
    client = service_app.test_client()
    method = operation.method.upper()
    wrong = []

    def expect(what, response, status, fields=(), or_field=None):
        if response.status_code != status:
            wrong.append(
                f"{what}: answered {response.status_code}, not {status}: {response.get_data()[:200]!r}"
            )
        elif problems := problem_shape_errors(response) or wording_errors(response.get_json(), "ru"):
            wrong.append(f"{what}: {problems}")
        elif (
            missing := set(fields) - (named := {e["field"] for e in response.get_json().get("errors", [])})
        ) and (or_field not in named):
            wrong.append(f"{what}: no error for {sorted(missing)}")

    headers = {**auth_headers(), "Accept-Language": "ru"}
    schema_of = {
        p["name"]: json_types(p.get("schema", {}), operation.document) for p in operation.path_parameters
    }
    integer_ids = [name for name, types in schema_of.items() if types == {"integer"}]

    # A valid value for every path parameter (an id, or the first of an enum such as xlsx|csv).
    valid = {
        p["name"]: 1 if p["name"] in integer_ids else (p.get("schema", {}).get("enum") or ["x"])[0]
        for p in operation.path_parameters
    }

    def url_with(**values) -> str:
        url = operation.path
        for name in schema_of:
            url = url.replace("{" + name + "}", str(values.get(name, valid[name])))
        return url

    for name in schema_of:
        if name in integer_ids:
            response = client.open(url_with(**{name: HUGE}), method=method, headers=headers)
            expect(f"{name}=10^20 in the path", response, 404)
        else:
            response = client.open(url_with(**{name: "x%00y"}), method=method, headers=headers)
            # A segment that no route matches (an enum such as xlsx|csv) is named as the path itself.
            expect(f"NUL in {name} in the path", response, 422, [name], or_field="path")
    for parameter in (p for p in operation.spec.get("parameters", []) if p["in"] == "query"):
        types = json_types(parameter.get("schema", {}), operation.document) or set()
        value = str(HUGE) if "integer" in types else "x%00y"
        response = client.open(f"{url_with()}?{parameter['name']}={value}", method=method, headers=headers)
        expect(f"{parameter['name']}={value} in the query", response, 422, [parameter["name"]])
    if operation.json_body is not None:
        url = url_with()
        deep = "[" * 50_000 + "]" * 50_000
        expect(
            "JSON 50k deep",
            client.open(url, method=method, headers=headers, data=deep, content_type="application/json"),
            400,
        )
        expect(
            "a form where JSON is expected",
            client.open(url, method=method, headers=headers, data={"a": "1"}),
            415,
        )
        body, fields = hostile_body(operation.json_body, operation.document)
        if fields:
            expect(
                "10^20 and NUL in the body",
                client.open(url, method=method, headers=headers, json=body),
                422,
                fields,
            )
    assert not wrong, "\n".join(wrong)
