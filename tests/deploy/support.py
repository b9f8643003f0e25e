"""A launcher (`make run`, `make run-prod`) started as an operator starts it, and stopped as with Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from eventops.config import REPO_ROOT

#: starting every process of the system, migrations first, takes 10–20 s on an idle machine
START_TIMEOUT_S = 180


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def refused(host: str, port: int) -> bool:
    """Nothing listens there (for this address: a server bound to 0.0.0.0 would answer)."""
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((host, port)) != 0


class Launcher:
    """The launcher script in its own process group, its output collected line by line."""

    def __init__(self, script: str, env: dict[str, str], log: Path):
        self.log = log
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "scripts" / script)],
            cwd=REPO_ROOT,
            env={**env, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        with open(self.log, "w") as log:
            for line in self.process.stdout:
                log.write(line)
                log.flush()
                with self._changed:
                    self.lines.append(line.rstrip("\n"))
                    self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = START_TIMEOUT_S) -> re.Match:
        """The first output line matching the pattern; fails with the output's tail if it never comes."""
        wanted = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        with self._changed:
            while True:
                for line in self.lines[seen:]:
                    if match := wanted.search(line):
                        return match
                seen = len(self.lines)
                if self.process.poll() is not None and seen == len(self.lines):
                    break
                if time.monotonic() > deadline:
                    break
                self._changed.wait(0.5)
        tail = "\n".join(self.lines[-60:])
        raise AssertionError(f"no line like {pattern!r} (exit code {self.process.poll()}); output:\n{tail}")

    def stop(self) -> int | None:
        """Ctrl-C to the whole group, as a terminal sends it; anything left after 60 s is killed."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            code = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            code = None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        return code


def course_with_one_participant(
    registration: str, token: str, slug: str, title: str, **participant
) -> tuple[requests.Session, int, dict]:
    """A course and one participant, straight through registration's API (at `registration`, ".../api/v1");
    returns the API session (with the service token), the event id and the participant as registered."""
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    event = api.post(
        f"{registration}/events",
        json={"slug": slug, "title": title, "starts_on": "2026-10-07", "ends_on": "2026-10-09"},
        timeout=30,
    )
    assert event.status_code == 201, event.text
    event_id = event.json()["id"]
    person = api.post(
        f"{registration}/events/{event_id}/participants",
        json={"surname": "Ёлкина", "first_name": "Анна", "email": "anna@example.org", **participant},
        timeout=30,
    )
    assert person.status_code == 201, person.text
    return api, event_id, person.json()
