"""`make run`: the whole system on one machine, with demo data.

Migrates every database, starts the gateway, the three services, the certificate worker, the mail worker
(and an embedded Redis unless REDIS_URL is set) under honcho, waits until every /healthz answers, loads the
demo course and the demo staff accounts, and prints where to log in. Ctrl-C stops everything.

Its settings come from eventops.config.Settings like every process's (the README's configuration table):
BIND_HOST, <NAME>_PORT, REDIS_URL (when unset, an embedded Redis runs on EMBEDDED_REDIS_PORT),
EVENTOPS_SKIP (processes not to start, e.g. "worker,web") and EVENTOPS_NO_DEMO.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from honcho.manager import Manager

from eventops.config import Settings
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
    settings: Settings, base_env: dict[str, str]
) -> tuple[dict[str, str], dict[str, list[str]], dict[str, str]]:
    """The environment shared by every process, the processes' commands, and the health URLs."""
    env = dict(base_env)
    env["PYTHONUNBUFFERED"] = "1"
    host = url_host(settings.bind_host)
    # The children find each other at the addresses this launcher chose for them.
    for name, port in settings.ports.items():
        env[f"{name.upper()}_URL"] = f"http://{host}:{port}"

    commands: dict[str, list[str]] = {}
    if not settings.redis_url:
        env["REDIS_URL"] = f"redis://127.0.0.1:{settings.embedded_redis_port}/0"
        commands["redis"] = embedded_server_command(settings.embedded_redis_port)
    for name, app in APPS.items():
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


def check_ports(settings: Settings, env: dict[str, str], commands: dict[str, list[str]]) -> None:
    busy = []
    for name in APPS:
        if name in commands:
            port = settings.ports[name]
            if not port_is_free(settings.bind_host, port):
                busy.append(f"{name} ({settings.bind_host}:{port})")
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


def wait_until_healthy(health: dict[str, str], stop: threading.Event) -> list[str]:
    """Polls every /healthz until it answers 200; returns the ones that did not within the timeout."""
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    pending = dict(health)
    last: dict[str, str] = {}
    while pending and time.monotonic() < deadline and not stop.is_set():
        for name, url in list(pending.items()):
            try:
                response = requests.get(url, timeout=2)
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


def banner(headline: str, logins: list[tuple[str, str, str]], problems: list[str]) -> str:
    lines = [headline, ""]
    if logins:
        lines.append("Demo logins:")
        width = max(len(login) for login, _, _ in logins)
        lines += [
            f"  {login.ljust(width)}  password: {password}  ({role})" for login, password, role in logins
        ]
    else:
        lines.append("No demo logins (see the messages above).")
    if problems:
        lines += ["", *problems]
    lines += ["", "Ctrl-C stops everything."]
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *[f"| {line.ljust(width)} |" for line in lines], rule]) + "\n"


def after_start(
    settings: Settings, env: dict[str, str], health: dict[str, str], stop: threading.Event
) -> None:
    unhealthy = wait_until_healthy(health, stop)
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
    sys.stdout.write("\n" + banner(headline, logins, problems) + "\n")
    sys.stdout.flush()


def main() -> int:
    os.chdir(ROOT)
    # Every process started from here (and what they write under var/) is for this user only.
    restrict_umask()
    # Read once here, before any child starts: this also creates var/ and its secrets for all of them.
    settings = Settings.from_env("web")
    env, commands, health = plan(settings, os.environ.copy())
    check_ports(settings, env, commands)
    migrate(env)

    manager = Manager()
    for name, command in commands.items():
        manager.add_process(name, shlex.join(command), env=env, cwd=str(ROOT))

    stop = threading.Event()
    # Started after a short pause so that honcho forks its children before this thread does anything.
    helper = threading.Timer(1.0, after_start, args=(settings, env, health, stop))
    helper.daemon = True
    helper.start()
    try:
        manager.loop()
    finally:
        stop.set()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
