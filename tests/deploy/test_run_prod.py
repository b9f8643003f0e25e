"""`make run-prod`: the production topology comes up, answers through nginx over HTTPS, and works.

PostgreSQL and Redis are the test run's own (a database created by run-prod itself, this worker's Redis
database); nginx must be installed (scripts/setup.sh and .ci/run install it): without it the test fails
loudly rather than skips.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import redis
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import bench_checkin
from tests.certificates.support import qr_codes
from tests.conftest import POSTGRES_ADMIN_URL, REDIS_URL
from tests.deploy.support import Launcher, course_with_one_participant, free_port

pytestmark = pytest.mark.postgresql
SERVICES = ("registration", "certificates", "feedback")
STAFF = {"X-Staff-User": "organiser-1 (organiser)"}


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prod")
    name = f"eventops_test_prod_{uuid.uuid4().hex[:10]}"  # run-prod creates it: it does not exist yet
    database_url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    ports = {service: free_port() for service in ("web", *SERVICES)}
    token = secrets.token_urlsafe(32)
    nginx_port = free_port()
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "EVENTOPS_VAR_DIR": str(folder / "var"),
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "SERVICE_TOKEN": token,
        "NGINX_PORT": str(nginx_port),
        **{f"{service.upper()}_PORT": str(port) for service, port in ports.items()},
        "WEB_CONCURRENCY": "2",
    }
    redis.Redis.from_url(REDIS_URL).flushdb()
    launcher = Launcher("run_prod.py", env, folder / "run.log")
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        public_url = launcher.wait_for(r"production topology\) is running: (\S+)").group(1)
        yield SimpleNamespace(
            public_url=public_url,
            ca=str(folder / "var" / "tls" / "ca.crt"),
            var=folder / "var",
            ports=ports,
            nginx_port=nginx_port,
            token=token,
            database_url=database_url,
            launcher=launcher,
        )
    finally:
        stopped = launcher.stop()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        redis.Redis.from_url(REDIS_URL).flushdb()
    assert stopped in (0, 130), f"run-prod did not stop cleanly; see {launcher.log}"


def test_every_process_is_healthy_through_nginx_over_https(prod):
    assert prod.public_url == f"https://127.0.0.1:{prod.nginx_port}"
    for path in ("/healthz", *(f"/healthz/{service}" for service in SERVICES)):
        response = requests.get(f"{prod.public_url}{path}", verify=prod.ca, timeout=10)
        assert response.status_code == 200, (path, response.text)
        assert response.json()["status"] == "ok", path
    # Behind nginx the processes speak plain HTTP on loopback; nginx is the only TLS end.
    assert requests.get(f"http://127.0.0.1:{prod.ports['web']}/healthz", timeout=10).status_code == 200


def test_metrics_are_not_reachable_through_nginx(prod):
    for path in ("/metrics", "/metrics/", "/metrics?x=1"):
        assert requests.get(f"{prod.public_url}{path}", verify=prod.ca, timeout=10).status_code == 404


def test_each_gunicorn_adds_up_its_own_workers_metrics(prod):
    """On this host, past nginx, every process group's /metrics counts its own requests (in its own
    subfolder of the multiprocess folder), not another group's."""
    for _ in range(5):
        assert requests.get(f"{prod.public_url}/healthz/feedback", verify=prod.ca, timeout=10).ok
    for service in ("web", *SERVICES):
        body = requests.get(f"http://127.0.0.1:{prod.ports[service]}/metrics", timeout=10).text
        assert f'service="{service}"' in body, body[:2000]
        others = {"web", *SERVICES} - {service}
        assert not any(f'service="{other}"' in body for other in others), body[:2000]
        assert (prod.var / "metrics" / f"gunicorn-{prod.ports[service]}").is_dir()


def test_nginx_gives_each_request_an_id_the_gateway_uses_and_its_log_keeps(prod):
    response = requests.get(f"{prod.public_url}/login", verify=prod.ca, timeout=10)
    request_id = response.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id, echoed by the gateway
    log = prod.var / "nginx" / "access.log"
    deadline = time.monotonic() + 10
    while f"request_id={request_id}" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert f"request_id={request_id}" in log.read_text()


def test_a_check_in_and_a_certificate_download_through_nginx(prod, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", prod.ca)  # the tablets' sessions trust the local CA
    monkeypatch.setattr(bench_checkin, "TABLETS", 1)
    registration = f"http://127.0.0.1:{prod.ports['registration']}/api/v1"
    certificates = f"http://127.0.0.1:{prod.ports['certificates']}/api/v1"
    api, event_id, person = course_with_one_participant(
        registration, prod.token, "prod", "Курс в продакшене", gender="female"
    )

    # The door: staff log in and scan the badge through nginx, as a tablet does.
    system = SimpleNamespace(database_url=prod.database_url, urls={"web": prod.public_url})
    [tablet] = bench_checkin.open_tablets(system, event_id)
    scan = tablet.post(
        f"{prod.public_url}/events/{event_id}/checkin/scan",
        json={
            "nonce": str(uuid.uuid4()),
            "day": bench_checkin.DAYS[0],
            "session_id": None,
            "code": person["code"],
            "scanned_at": datetime.now(UTC).isoformat(),
        },
        timeout=30,
    )
    assert scan.status_code in (200, 201) and scan.headers["X-Checkin-Outcome"] == "checked_in", scan.text
    counted = api.get(f"{certificates}/events/{event_id}/checkins", params={"day": "2026-10-07"}, timeout=30)
    assert person["id"] in {item["participant_id"] for item in counted.json()["items"]}, counted.text

    # The certificate: issued, rendered by the run's certificate workers, downloaded through nginx.
    api.headers.update(STAFF)
    policy = {"programme_title": "Курс в продакшене", "academic_hours": 24, "organisation": "ЮРИУ РАНХиГС"}
    assert api.put(f"{certificates}/events/{event_id}/policy", json=policy, timeout=30).ok
    override = {"eligible": True, "reason": "проверка run-prod"}
    overridden = api.put(
        f"{certificates}/events/{event_id}/eligibility/{person['id']}/override", json=override, timeout=30
    )
    assert overridden.ok, overridden.text
    issued = api.post(f"{certificates}/events/{event_id}/issue", json={"statements": False}, timeout=30)
    assert issued.status_code == 202, issued.text
    deadline = time.monotonic() + 120
    while not api.get(f"{certificates}/batches/{issued.json()['batch_id']}", timeout=30).json()["done"]:
        assert time.monotonic() < deadline, f"the batch was not rendered; see {prod.launcher.log}"
        time.sleep(0.5)
    pdf = requests.get(f"{prod.public_url}/p/{person['token']}/certificate.pdf", verify=prod.ca, timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), pdf.text[:300]
    [verification] = qr_codes(pdf.content)
    assert verification.startswith(f"{prod.public_url}/verify/")
    assert requests.get(verification, verify=prod.ca, timeout=30).status_code == 200
