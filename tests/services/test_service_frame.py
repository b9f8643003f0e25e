"""What every service promises: health, OpenAPI, service-token auth, problem+json errors."""
import pytest

from tests.conftest import auth_headers

SERVICES = ["registration", "certificates", "feedback"]


@pytest.mark.parametrize("service", SERVICES)
def test_healthz_reports_ok_with_its_checks(app_factory, redis_connection, service):
    response = app_factory(service).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["checks"]["database"] == "ok"


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path):
    from tests.conftest import create_service_app, make_settings

    url = f"sqlite:///{tmp_path}/missing-dir/none.db"
    response = create_service_app("feedback", make_settings("feedback", url, tmp_path)).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "down"
    assert response.json["checks"]["database"].startswith("down")


def test_certificates_healthz_is_503_when_redis_is_down(app_factory):
    app = app_factory("certificates", redis_url="redis://127.0.0.1:1/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"].startswith("down")


@pytest.mark.parametrize("service", SERVICES)
def test_openapi_lists_the_v1_api(app_factory, service):
    spec = app_factory(service).test_client().get("/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert spec["paths"], "no paths published"
    assert all(path.startswith("/api/v1/") for path in spec["paths"])


@pytest.mark.parametrize("service,path", [
    ("registration", "/api/v1/events"),
    ("certificates", "/api/v1/events/1/certificates"),
    ("feedback", "/api/v1/events/1/surveys"),
])
@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic abc", "Bearer "])
def test_api_refuses_calls_without_a_valid_service_token(app_factory, service, path, header):
    headers = {"Authorization": header} if header else {}
    response = app_factory(service).test_client().get(path, headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 401


def test_invalid_body_is_a_problem_with_per_field_errors(app_factory):
    client = app_factory("registration").test_client()
    response = client.post("/api/v1/events", json={"slug": "Bad Slug!", "title": "x"}, headers=auth_headers())
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    fields = {error["field"] for error in response.json["errors"]}
    assert {"slug", "title", "starts_on", "ends_on"} <= fields


def test_unknown_route_is_a_problem_not_html(app_factory):
    response = app_factory("feedback").test_client().get("/api/v1/nothing", headers=auth_headers())
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
