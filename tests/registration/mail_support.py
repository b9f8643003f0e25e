"""A real SMTP server on loopback (aiosmtpd) that can also refuse or hang up, and the real mail worker."""

from __future__ import annotations

import email
import os
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller

from eventops.config import SmtpSettings
from tests.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_URL = "https://kurs.example.ru"
MAIL_FROM = "Курсы ЮРИУ <kursy@uriu.example.ru>"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Inbox:
    """What the server accepted (answered 250 to), and how it behaves next."""

    received: list[EmailMessage] = field(default_factory=list)
    #: None: accept; "refuse": 554 after the data; "drop": close the connection instead of answering
    mode: str | None = None
    #: addresses refused at RCPT TO with 550
    unknown_recipients: set[str] = field(default_factory=set)
    #: DATA transactions begun (accepted or not)
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.unknown_recipients:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.attempts += 1
        if self.mode == "refuse":
            return "554 5.7.1 Message rejected: spam policy"
        if self.mode == "drop":
            server.transport.close()  # the letter arrived, the answer never does
            return "250 OK"
        with self.lock:
            self.received.append(email.message_from_bytes(envelope.original_content, policy=default_policy))
        return "250 OK"

    def by_subject(self, prefix: str) -> list[EmailMessage]:
        return [message for message in self.received if message["Subject"].startswith(prefix)]


class SmtpServer:
    def __init__(self):
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def settings(self) -> SmtpSettings:
        return SmtpSettings(host="127.0.0.1", port=self.port, mail_from=MAIL_FROM)

    def stop(self) -> None:
        self.controller.stop()


def run_worker(database_url: str, smtp: SmtpServer | None, tmp_path: Path, **env) -> str:
    """The mail worker in burst mode, as its own process; returns its log."""
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "REGISTRATION_DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "PUBLIC_URL": PUBLIC_URL,
        "MAIL_FROM": MAIL_FROM,
        "EVENTOPS_VAR_DIR": str(tmp_path / "var"),
        **({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port)} if smtp else {}),
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-m", "services.registration.worker", "--burst"],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML parts of a letter."""
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html
