"""`make run`: the whole system on one machine, with demo data.

Migrates every database, starts the gateway, the three services, the certificate worker, the mail worker
(and an embedded Redis unless REDIS_URL is set) under honcho, waits until every /healthz answers, loads the
demo course and the demo staff accounts, and prints where to log in. Ctrl-C stops everything.

Venue mode (EVENTOPS_VENUE=1, or VENUE_HOST=<address>): the gateway runs under gunicorn with TLS on the
laptop's Wi-Fi address (a certificate from the local CA of eventops.tls), PUBLIC_URL follows it, and a
plain-HTTP port serves the CA certificate alone for tablets to install once. The services, the workers and
Redis stay on loopback: Flask's development server never faces a network.

Its settings come from eventops.config.Settings like every process's (the README's configuration table):
BIND_HOST, <NAME>_PORT, REDIS_URL (when unset, an embedded Redis runs on EMBEDDED_REDIS_PORT),
EVENTOPS_SKIP (processes not to start, e.g. "worker,web"), EVENTOPS_NO_DEMO, EVENTOPS_VENUE, VENUE_HOST and
VENUE_CA_PORT.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.server
import io
import ipaddress
import os
import re
import shlex
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import NamedTuple

import requests
import segno
from honcho.manager import Manager

from eventops import tls
from eventops.config import Settings, var_dir
from eventops.files import restrict_umask
from eventops.queue import embedded_server_command

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HEALTH_TIMEOUT_S = 60
LOGIN_LINE = re.compile(r"^login:\s*(\S+)\s+password:\s*(\S+)\s+role:\s*(\S+)\s*$")

APPS = {
    "web": "web.app:create_app",
    "registration": "services.registration.app:create_app",
    "certificates": "services.certificates.app:create_app",
    "feedback": "services.feedback.app:create_app",
}


def say(message: str) -> None:
    sys.stdout.write(f"run: {message}\n")
    sys.stdout.flush()


class Venue(NamedTuple):
    """Where the gateway faces the venue's Wi-Fi, and the TLS files it does it with."""

    host: str
    port: int
    ca_port: int
    tls: tls.TlsFiles

    @property
    def url(self) -> str:
        return f"https://{url_host(self.host)}:{self.port}"

    @property
    def ca_url(self) -> str:
        return f"http://{url_host(self.host)}:{self.ca_port}/ca.crt"


#: a documentation address (RFC 5737): a UDP socket "connected" to it names the interface of the default
#: route, and nothing is ever sent
_ROUTE_PROBE = ("192.0.2.1", 9)
_SIOCGIFADDR = 0x8915


def venue_address() -> str:
    """The laptop's Wi-Fi/LAN address: the source address of the default route, else the first
    non-loopback address of an interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(_ROUTE_PROBE)
            address = probe.getsockname()[0]
        except OSError:
            address = ""
    if address and not ipaddress.ip_address(address).is_loopback and address != "0.0.0.0":
        return address
    for address in interface_addresses():
        if not ipaddress.ip_address(address).is_loopback:
            return address
    raise SystemExit("run: no network address found for venue mode; set VENUE_HOST to the Wi-Fi address")


def interface_addresses() -> list[str]:
    """The IPv4 address of each interface that has one, in the kernel's order (Linux)."""
    addresses = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            with contextlib.suppress(OSError):  # an interface without an IPv4 address
                answer = fcntl.ioctl(probe.fileno(), _SIOCGIFADDR, request)
                addresses.append(socket.inet_ntoa(answer[20:24]))
    return addresses


def prepare_venue(settings: Settings) -> Venue:
    """The address to face and a certificate for it (made again when the address changes)."""
    host = (settings.venue_host or venue_address()).strip("[]")
    names = [host, socket.gethostname(), "localhost"]
    files = tls.server_files(var_dir() / "tls", names)
    return Venue(host, settings.ports["web"], settings.venue_ca_port, files)


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def url_host(bind_host: str) -> str:
    """Where this machine reaches a server bound to bind_host."""
    if bind_host in ("", "0.0.0.0", "::", "[::]"):
        return "127.0.0.1"
    return f"[{bind_host}]" if ":" in bind_host and not bind_host.startswith("[") else bind_host


def port_is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError:
            return False
    return True


def plan(
    settings: Settings, base_env: dict[str, str], venue: Venue | None = None
) -> tuple[dict[str, str], dict[str, list[str]], dict[str, str]]:
    """The environment shared by every process, the processes' commands, and the health URLs."""
    if not is_loopback(settings.bind_host):
        # Flask's development server must never face a network; venue mode puts gunicorn there instead.
        raise SystemExit(
            f"run: BIND_HOST={settings.bind_host} would put development servers on the network; "
            "use venue mode (EVENTOPS_VENUE=1, or VENUE_HOST=<address>) to face the venue's Wi-Fi"
        )
    env = dict(base_env)
    env["PYTHONUNBUFFERED"] = "1"
    host = url_host(settings.bind_host)
    # The children find each other at the addresses this launcher chose for them.
    for name, port in settings.ports.items():
        env[f"{name.upper()}_URL"] = f"http://{host}:{port}"
    if venue:
        # Badges, personal links, certificate QR codes and letters open on the phones of the venue.
        env["PUBLIC_URL"] = env["WEB_URL"] = venue.url
        env["SESSION_COOKIE_SECURE"] = "true"

    commands: dict[str, list[str]] = {}
    if not settings.redis_url:
        env["REDIS_URL"] = f"redis://127.0.0.1:{settings.embedded_redis_port}/0"
        commands["redis"] = embedded_server_command(settings.embedded_redis_port)
    for name, app in APPS.items():
        if name == "web" and venue:
            commands[name] = gateway_command(venue, app)
            continue
        commands[name] = [
            PYTHON,
            "-m",
            "flask",
            "--app",
            app,
            "run",
            "--no-reload",
            "--no-debugger",
            "--host",
            settings.bind_host,
            "--port",
            str(settings.ports[name]),
        ]
    commands["worker"] = [PYTHON, "-m", "services.certificates.worker"]
    # Without SMTP_HOST it holds letters in the outbox, so the demo shows them; with one it sends them.
    commands["mailer"] = [PYTHON, "-m", "services.registration.worker"]

    unknown = settings.skip_processes - commands.keys()
    if unknown:
        raise SystemExit(
            f"run: EVENTOPS_SKIP names unknown processes: {', '.join(sorted(unknown))} "
            f"(known: {', '.join(commands)})"
        )
    commands = {name: command for name, command in commands.items() if name not in settings.skip_processes}
    health = {name: f"{env[f'{name.upper()}_URL']}/healthz" for name in APPS if name in commands}
    return env, commands, health


def gateway_command(venue: Venue, app: str) -> list[str]:
    """The gateway under gunicorn with the venue's certificate: a production server faces the Wi-Fi."""
    return [
        str(Path(PYTHON).with_name("gunicorn")),
        "-c",
        str(ROOT / "deploy" / "gunicorn.conf.py"),
        "--bind",
        f"{url_host(venue.host)}:{venue.port}",
        "--certfile",
        str(venue.tls.certificate),
        "--keyfile",
        str(venue.tls.key),
        f"{app}()",
    ]


def check_ports(
    settings: Settings, env: dict[str, str], commands: dict[str, list[str]], venue: Venue | None = None
) -> None:
    busy = []
    for name in APPS:
        if name in commands:
            host = venue.host if venue and name == "web" else settings.bind_host
            port = settings.ports[name]
            if not port_is_free(host, port):
                busy.append(f"{name} ({host}:{port})")
    if venue and not port_is_free(venue.host, venue.ca_port):
        busy.append(f"the CA download ({venue.host}:{venue.ca_port}; set VENUE_CA_PORT)")
    if "redis" in commands:
        port = settings.embedded_redis_port
        if not port_is_free("127.0.0.1", port):
            busy.append(f"redis (127.0.0.1:{port}; set EMBEDDED_REDIS_PORT or REDIS_URL)")
    if busy:
        raise SystemExit("run: these ports are taken, is EventOps already running? " + ", ".join(busy))


def migrate(env: dict[str, str]) -> None:
    say("migrating the databases")
    result = subprocess.run([PYTHON, "-m", "eventops.cli", "migrate"], cwd=ROOT, env=env)
    if result.returncode != 0:
        raise SystemExit(f"run: migrating the databases failed (exit code {result.returncode})")


def wait_until_healthy(health: dict[str, str], stop: threading.Event, verify: str | bool = True) -> list[str]:
    """Polls every /healthz until it answers 200; returns the ones that did not within the timeout.
    `verify`: the CA file an https URL is checked against."""
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    pending = dict(health)
    last: dict[str, str] = {}
    while pending and time.monotonic() < deadline and not stop.is_set():
        for name, url in list(pending.items()):
            try:
                response = requests.get(url, timeout=2, verify=verify)
            except requests.RequestException as exc:
                last[name] = f"no answer ({type(exc).__name__})"
                continue
            if response.status_code == 200:
                del pending[name]
            else:
                last[name] = f"HTTP {response.status_code}: {response.text.strip()[:300]}"
        if pending:
            stop.wait(0.5)
    for name in pending:
        reason = last.get(name, "no answer")
        say(f"{name} is not healthy after {HEALTH_TIMEOUT_S} s at {health[name]}: {reason}")
    return list(pending)


def run_step(title: str, command: list[str], env: dict[str, str]) -> str | None:
    """Runs a one-off command; returns its output, or None (after saying why) if it failed."""
    try:
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        say(f"{title} failed: {exc}")
        return None
    if result.returncode == 0:
        for line in result.stderr.splitlines():  # warnings
            say(line)
    else:
        say(f"{title} failed (exit code {result.returncode}):")
        for line in (result.stderr or result.stdout).strip().splitlines()[-20:]:
            say(f"    {line}")
        return None
    return result.stdout


def banner(
    headline: str, logins: list[tuple[str, str, str]] | None, problems: list[str], venue: Venue | None = None
) -> str:
    """The box printed once everything is up; `logins` None: no demo logins to speak of."""
    lines = [headline, ""]
    if venue:
        lines += [
            f"Tablets and phones on this Wi-Fi: {venue.url} (the QR code below)",
            f"Once per tablet, trust the local CA: open {venue.ca_url}",
            'and install it (README, "Venue mode"); then the camera works.',
            "",
        ]
    if logins:
        lines.append("Demo logins:")
        width = max(len(login) for login, _, _ in logins)
        lines += [
            f"  {login.ljust(width)}  password: {password}  ({role})" for login, password, role in logins
        ]
    elif logins is not None:
        lines.append("No demo logins (see the messages above).")
    if problems:
        lines += ["", *problems] if lines[-1] else problems
    lines += ["", "Ctrl-C stops everything."]
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *[f"| {line.ljust(width)} |" for line in lines], rule]) + "\n"


def qr_code(url: str) -> str:
    """The URL as a QR code drawn with characters, for a tablet's camera to read off the terminal."""
    out = io.StringIO()
    segno.make(url, error="m").terminal(out=out, compact=True)
    return out.getvalue()


class CaCertificatePage(http.server.BaseHTTPRequestHandler):
    """Plain HTTP, the CA certificate and nothing else: a tablet fetches it before it trusts any HTTPS."""

    certificate: bytes = b""

    def do_GET(self):
        if self.path == "/":
            self.send_response(302)
            self.send_header("Location", "/ca.crt")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/ca.crt":
            self.send_response(200)
            # The type iOS opens as a profile to install and Android as a certificate.
            self.send_header("Content-Type", "application/x-x509-ca-cert")
            self.send_header("Content-Disposition", 'attachment; filename="eventops-ca.crt"')
            self.send_header("Content-Length", str(len(self.certificate)))
            self.end_headers()
            self.wfile.write(self.certificate)
        else:
            self.send_error(404)

    def log_message(self, format, *args):
        say(f"CA download: {self.address_string()} {format % args}")


def serve_ca_certificate(venue: Venue) -> http.server.ThreadingHTTPServer:
    handler = type("Page", (CaCertificatePage,), {"certificate": venue.tls.ca_certificate.read_bytes()})
    server = http.server.ThreadingHTTPServer((venue.host, venue.ca_port), handler)
    threading.Thread(target=server.serve_forever, name="ca-download", daemon=True).start()
    return server


def after_start(
    settings: Settings,
    env: dict[str, str],
    health: dict[str, str],
    stop: threading.Event,
    venue: Venue | None = None,
) -> None:
    unhealthy = wait_until_healthy(health, stop, str(venue.tls.ca_certificate) if venue else True)
    if stop.is_set():
        return
    problems = [f"{name} is not healthy: see its log above" for name in unhealthy]

    if not settings.load_demo:
        say("EVENTOPS_NO_DEMO is set: no demo data loaded")
    elif {"registration", "feedback"} & set(unhealthy) or not {"registration", "feedback"} <= health.keys():
        problems.append("demo data not loaded: registration and feedback must both be up")
        say(problems[-1])
    else:
        output = run_step("loading the demo course", [PYTHON, "-m", "demo.load"], env)
        if output is None:
            problems.append("demo course not loaded: see the messages above")
        else:
            for line in output.strip().splitlines():
                say(line)

    logins = []
    if settings.load_demo:
        output = run_step("creating the demo staff", [PYTHON, "-m", "web.cli", "create-demo-staff"], env)
        if output is None:
            problems.append("demo staff not created: see the messages above")
        else:
            logins = [match.groups() for match in map(LOGIN_LINE.match, output.splitlines()) if match]
            if not logins:
                problems.append("web.cli create-demo-staff printed no logins")

    if stop.is_set():
        return
    headline = (
        f"EventOps is running: {env['WEB_URL']}"
        if "web" in health
        else "EventOps is running without the web gateway (EVENTOPS_SKIP)"
    )
    sys.stdout.write("\n" + banner(headline, logins, problems, venue) + "\n")
    if venue:
        sys.stdout.write(qr_code(venue.url) + "\n")
    sys.stdout.flush()


def main() -> int:
    os.chdir(ROOT)
    # Every process started from here (and what they write under var/) is for this user only.
    restrict_umask()
    # Read once here, before any child starts: this also creates var/ and its secrets for all of them.
    settings = Settings.from_env("web")
    venue = prepare_venue(settings) if settings.venue else None
    env, commands, health = plan(settings, os.environ.copy(), venue)
    check_ports(settings, env, commands, venue)
    migrate(env)
    if venue:
        serve_ca_certificate(venue)

    manager = Manager()
    for name, command in commands.items():
        manager.add_process(name, shlex.join(command), env=env, cwd=str(ROOT))

    stop = threading.Event()
    # Started after a short pause so that honcho forks its children before this thread does anything.
    helper = threading.Timer(1.0, after_start, args=(settings, env, health, stop, venue))
    helper.daemon = True
    helper.start()
    try:
        manager.loop()
    finally:
        stop.set()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
