"""What every service promises, tested once for all of them: service-token auth, problem+json errors in the
caller's language, /healthz and /openapi.json.

The operations come from each service's own /openapi.json, so a new endpoint is held to these contracts
as soon as it is published.
"""

from __future__ import annotations

import jsonschema_rs
import pytest

from tests.conftest import SERVICE_TOKEN, auth_headers, create_service_app, make_settings
from tests.eventops.support import (
    SERVICES,
    all_operations,
    json_types,
    operations,
    problem_shape_errors,
    resolve,
    wording_errors,
    wrong_typed_body,
)


@pytest.fixture
def bare_app(service, tmp_path):
    """The service on an empty SQLite file: enough for what is decided before any table is read."""
    return create_service_app(service, make_settings(service, f"sqlite:///{tmp_path}/empty.db", tmp_path))


def call(client, operation, *, headers=None, language="ru", body=None, **url):
    headers = {"Accept-Language": language, **(headers if headers is not None else auth_headers())}
    return client.open(operation.url(**url), method=operation.method.upper(), headers=headers, json=body)


# --- the service token ------------------------------------------------------------------------------------

REFUSED_AUTHORIZATIONS = {
    "none": None,
    "wrong token": "Bearer wrong-token",
    "empty token": "Bearer ",
    "no token at all": "Bearer",
    "token cut short": f"Bearer {SERVICE_TOKEN[:-1]}",
    "another scheme": f"Basic {SERVICE_TOKEN}",
}


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("authorization", REFUSED_AUTHORIZATIONS.values(), ids=REFUSED_AUTHORIZATIONS.keys())
def test_every_operation_refuses_a_call_without_a_valid_service_token(bare_app, service, authorization):
    client = bare_app.test_client()
    headers = {"Authorization": authorization} if authorization is not None else {}
    wrong = {}
    for operation in operations(service):
        response = call(client, operation, headers=headers, body={})
        if response.status_code != 401:
            wrong[operation.id] = f"answered {response.status_code}"
        elif problems := problem_shape_errors(response) + wording_errors(response.get_json(), "ru"):
            wrong[operation.id] = problems
    assert not wrong, wrong


# --- problem+json -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_an_unknown_api_path_is_a_404_problem(bare_app, service):
    response = bare_app.test_client().get("/api/v1/no-such-thing", headers=auth_headers())
    assert response.status_code == 404
    assert not problem_shape_errors(response)


def _reads_one_thing(operation) -> bool:
    """GET /things/{id}: an operation that answers one resource named by an integer id."""
    last = operation.path.rstrip("/").rsplit("/", 1)[-1]
    names = {p["name"] for p in operation.path_parameters}
    return operation.method == "get" and last.strip("{}") in names and operation.has_integer_id


@pytest.mark.parametrize("service", SERVICES)
def test_a_missing_resource_is_a_404_problem(service_app, service):
    readers = [operation for operation in operations(service) if _reads_one_thing(operation)]
    assert readers, f"{service} publishes no GET of one resource by id"
    client = service_app.test_client()
    wrong = {}
    for operation in readers:
        response = call(client, operation)
        if response.status_code != 404:
            wrong[operation.id] = f"answered {response.status_code}"
        elif problems := problem_shape_errors(response):
            wrong[operation.id] = problems
    assert not wrong, wrong


def _required(schema: dict, document: dict) -> set[str]:
    return set(resolve(schema, document).get("required", []))


@pytest.mark.parametrize("service", SERVICES)
def test_a_body_without_its_required_fields_is_a_422_problem_naming_each(service_app, service):
    writers = [op for op in operations(service) if op.json_body and _required(op.json_body, op.document)]
    assert writers, f"{service} publishes no operation with a required JSON body"
    client = service_app.test_client()
    wrong = {}
    for operation in writers:
        response = call(client, operation, body={})
        if response.status_code != 422:
            wrong[operation.id] = f"answered {response.status_code}"
            continue
        fields = {error.get("field") for error in response.get_json().get("errors", [])}
        missing = _required(operation.json_body, operation.document) - fields
        if problems := problem_shape_errors(response) + [
            f"no error for {name!r}" for name in sorted(missing)
        ]:
            wrong[operation.id] = problems
    assert not wrong, wrong


@pytest.mark.parametrize("service", SERVICES)
def test_a_wrong_typed_body_is_a_422_problem_with_field_errors(service_app, service):
    writers = [op for op in operations(service) if op.json_body and op.json_body.get("properties")]
    client = service_app.test_client()
    wrong = {}
    for operation in writers:
        body = wrong_typed_body(operation.json_body, operation.document)
        response = call(client, operation, body=body)
        if response.status_code != 422:
            wrong[operation.id] = f"answered {response.status_code} to {body}"
        elif problems := problem_shape_errors(response) or (
            [] if response.get_json().get("errors") else ["no per-field errors"]
        ):
            wrong[operation.id] = problems
    assert not wrong, wrong


# --- every person-facing text in the language asked for -------------------------------------------------


def _wording_cases():
    for operation in all_operations():
        if operation.json_body is not None:
            yield pytest.param(operation.service, operation, "empty body", id=f"{operation.id} empty body")
            yield pytest.param(operation.service, operation, "wrong types", id=f"{operation.id} wrong types")
        if operation.path_parameters:
            yield pytest.param(operation.service, operation, "missing id", id=f"{operation.id} missing id")


@pytest.mark.parametrize(("service", "operation", "case"), list(_wording_cases()))
def test_problems_speak_the_callers_language(service_app, service, operation, case):
    """Russian under `Accept-Language: ru`, English under `en`: the detail and every field's message."""
    body = None
    if operation.json_body is not None:
        body = wrong_typed_body(operation.json_body, operation.document) if case == "wrong types" else {}
    client = service_app.test_client()
    wrong = []
    for language in ("ru", "en"):
        response = call(client, operation, language=language, body=body)
        if response.status_code >= 500:
            wrong.append(
                f"{language}: answered {response.status_code}: {response.get_data(as_text=True)[:300]}"
            )
        elif response.status_code >= 400:
            shape = problem_shape_errors(response)
            wording = [] if shape else wording_errors(response.get_json(), language)
            wrong += [f"{language}: {response.status_code}: {problem}" for problem in shape + wording]
    assert not wrong, "\n".join(wrong)


# --- /healthz ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_healthz_is_ok_with_each_of_its_checks(service_app, service):
    response = service_app.test_client().get("/healthz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "ok"
    assert response.get_json()["checks"], "no checks"
    assert set(response.get_json()["checks"].values()) == {"ok"}


UNREACHABLE_DATABASES = {
    "sqlite file in a missing folder": "sqlite:///{tmp}/missing-folder/none.db",
    "postgresql on a closed port": "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2",
}


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("url", UNREACHABLE_DATABASES.values(), ids=UNREACHABLE_DATABASES.keys())
def test_healthz_is_503_when_the_database_is_unreachable(service, url, tmp_path):
    settings = make_settings(service, url.format(tmp=tmp_path), tmp_path)
    response = create_service_app(service, settings).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "down"
    assert response.get_json()["checks"]["database"].startswith("down")


@pytest.mark.parametrize("service", ["certificates"])  # the one that queues jobs in Redis
def test_healthz_is_503_when_redis_is_down(app_factory, service):
    response = app_factory(service, redis_url="redis://127.0.0.1:1/0").test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["redis"].startswith("down")


# --- /openapi.json ----------------------------------------------------------------------------------------


def _meta_schema_validator(version: str):
    from schemathesis.specs.openapi import definitions

    meta = definitions.OPENAPI_31 if version.startswith("3.1") else definitions.OPENAPI_30
    return jsonschema_rs.validator_for(meta)


@pytest.mark.parametrize("service", SERVICES)
def test_openapi_is_a_valid_document_of_the_v1_api(bare_app, service):
    response = bare_app.test_client().get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    errors = [
        f"{e.instance_path}: {e.message}"
        for e in _meta_schema_validator(document["openapi"]).iter_errors(document)
    ]
    assert not errors, errors[:10]
    assert document["paths"], "no paths published"
    assert [path for path in document["paths"] if not path.startswith("/api/v1/")] == []
    for operation in operations(service):
        declared = {p["name"] for p in operation.path_parameters}
        templated = {part[1:-1] for part in operation.path.split("/") if part.startswith("{")}
        assert declared == templated, f"{operation.id}: path parameters {declared} vs {templated}"
        for parameter in operation.spec.get("parameters", []):
            json_types(parameter.get("schema", {}), document)  # every $ref resolves
        if operation.json_body is not None:
            assert operation.json_body, f"{operation.id}: its body's $ref resolves to nothing"
