"""Venue mode of `make run`: the gateway on an address of its own, over HTTPS from the local CA.

The address is 127.0.0.2, another loopback address: the test never sends anything to the machine's LAN
address or any other network. It stands for the laptop's Wi-Fi address: the gateway must listen there and
only there, the services must stay on 127.0.0.1, and what phones read (badge QR codes, personal links) must
hold https://127.0.0.2:<port>.
"""

from __future__ import annotations

import secrets

import pytest
import requests

from tests.certificates.support import qr_codes
from tests.conftest import REDIS_URL
from tests.deploy.support import Launcher, course_with_one_participant, free_port, refused

VENUE_HOST = "127.0.0.2"


@pytest.fixture(scope="module")
def venue(tmp_path_factory):
    folder = tmp_path_factory.mktemp("venue")
    ports = {name: free_port() for name in ("web", "registration", "certificates", "feedback")}
    ports["web"] = free_port(VENUE_HOST)
    token = secrets.token_urlsafe(32)
    env = {
        "PATH": "/usr/bin:/bin",
        "EVENTOPS_VAR_DIR": str(folder / "var"),
        "VENUE_HOST": VENUE_HOST,
        "VENUE_CA_PORT": str(free_port(VENUE_HOST)),
        **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
        "REDIS_URL": REDIS_URL,
        "SERVICE_TOKEN": token,
        "EVENTOPS_NO_DEMO": "1",
        "WEB_CONCURRENCY": "2",
    }
    launcher = Launcher("run_local.py", env, folder / "run.log")
    try:
        launcher.wait_for(r"EventOps is running: ")
        ca_url = launcher.wait_for(r"trust the local CA: open (\S+)").group(1)
        yield {"ports": ports, "token": token, "ca_url": ca_url, "var": folder / "var", "folder": folder}
    finally:
        # 130: honcho's answer to Ctrl-C, after it has stopped every process it started
        assert launcher.stop() in (0, 130), f"make run did not stop cleanly; see {launcher.log}"
    assert refused(VENUE_HOST, ports["web"]) and refused("127.0.0.1", ports["registration"])


@pytest.fixture(scope="module")
def ca_file(venue):
    """The CA certificate as a tablet gets it: over plain HTTP from the address the banner prints."""
    response = requests.get(venue["ca_url"], timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-x509-ca-cert"
    assert response.content == (venue["var"] / "tls" / "ca.crt").read_bytes()
    assert b"PRIVATE KEY" not in response.content
    path = venue["folder"] / "downloaded-ca.crt"
    path.write_bytes(response.content)
    return str(path)


def test_the_gateway_answers_over_https_trusted_through_the_local_ca_alone(venue, ca_file):
    gateway = f"https://{VENUE_HOST}:{venue['ports']['web']}"
    health = requests.get(f"{gateway}/healthz", verify=ca_file, timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    # Without the CA, nothing vouches for the certificate: a tablet must trust it once.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{gateway}/healthz", timeout=10)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://{VENUE_HOST}:{venue['ports']['web']}/healthz", timeout=10)
    # The CA's key stays private on the laptop.
    assert (venue["var"] / "tls" / "ca.key").stat().st_mode & 0o077 == 0


def test_only_the_gateway_faces_the_venue_address(venue):
    ports = venue["ports"]
    assert refused("127.0.0.1", ports["web"]), "the gateway listens on more than the venue address"
    for name in ("registration", "certificates", "feedback"):
        assert not refused("127.0.0.1", ports[name]), f"{name} is not on loopback"
        assert refused(VENUE_HOST, ports[name]), f"{name} faces the venue address"


def test_badges_and_personal_links_open_the_venue_address(venue, ca_file):
    registration = f"http://127.0.0.1:{venue['ports']['registration']}/api/v1"
    api, event_id, person = course_with_one_participant(
        registration, venue["token"], "venue", "Курс на площадке"
    )
    personal_link = f"https://{VENUE_HOST}:{venue['ports']['web']}/p/{person['token']}"

    badges = api.get(f"{registration}/events/{event_id}/badges.pdf", timeout=60)
    assert badges.status_code == 200
    assert qr_codes(badges.content) == [personal_link]

    page = requests.get(personal_link, verify=ca_file, timeout=30)
    assert page.status_code == 200
    assert personal_link in page.text  # the link the page shows (and its QR) to pass on
