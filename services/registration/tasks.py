"""RQ jobs of the mail worker: send queued letters of the outbox over SMTP. Ids in, safe to run twice.

A letter is claimed (queued -> sending, with the time) in a committed UPDATE before its SMTP transaction, and
its outcome (sent, failed, bounced) is committed right after it, with the claim of the next letter. So:
- a job run twice, or two workers given the same ids, send each letter once: only one claim succeeds;
- a letter already sent is never sent again by a retried job;
- a job killed mid-transaction leaves one letter `sending`; mail.reconcile_interrupted (run by the worker
  every few seconds) makes it failed with the reason after INTERRUPTED_AFTER, and it is resent only by an
  organiser (see there: we prefer a letter missing to a letter twice).
A job sends its letters over one SMTP connection, opened lazily and opened again after a broken one.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Iterable
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate, parseaddr
from functools import cache

from redis import Redis
from rq import Queue
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from eventops.config import Settings, SmtpSettings
from eventops.db import make_engine, utcnow
from eventops.queue import job_meta
from services.registration.models import MailMessage, MessageStatus

QUEUE_NAME = "mail"
#: letters per job: one SMTP connection for them all (a fresh connection per letter costs a round trip or,
#: with TLS, a handshake)
BATCH_SIZE = 50
#: seconds the SMTP client waits for the server's every answer
SMTP_TIMEOUT = 30
JOB_TIMEOUT = 1800
RESULT_TTL = 600
#: the Redis key of the throttle shared by every mail worker
RATE_KEY = "eventops:mail:next-slot"
#: SMTP wants CRLF line ends, and smtplib converts them only in str messages, not bytes
WIRE = compat32.clone(linesep="\r\n")

log = logging.getLogger("registration.mail")


def enqueue_sending(queue: Queue, message_ids: Iterable[int], *, batch_size: int = BATCH_SIZE) -> list[str]:
    """Jobs for these letters, `batch_size` to a job. Queuing a letter twice is harmless (see the claim)."""
    ids = sorted({int(message_id) for message_id in message_ids})
    jobs = []
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        job = queue.enqueue(
            send_messages,
            chunk,
            job_timeout=JOB_TIMEOUT,
            result_ttl=RESULT_TTL,
            description=f"send {len(chunk)} letters from {chunk[0]}",
            meta=job_meta(),
        )
        jobs.append(job.id)
    return jobs


@cache
def _sessionmaker(database_url: str) -> sessionmaker:
    return sessionmaker(make_engine(database_url, synchronous="FULL"), expire_on_commit=False)


class Throttle:
    """At most `rate` letters a second across all workers: each letter reserves the next free slot in Redis
    (one atomic script, on Redis's clock, so workers on several hosts agree) and waits for it."""

    SCRIPT = """
    local now_parts = redis.call('TIME')
    local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
    local interval = tonumber(ARGV[1])
    local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
    if slot < now then slot = now end
    local expiry = math.ceil(interval * 1000) + 60000
    redis.call('SET', KEYS[1], string.format('%.6f', slot + interval), 'PX', expiry)
    return string.format('%.6f', slot - now)
    """

    def __init__(self, connection: Redis | None, rate: float, key: str = RATE_KEY):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.script = connection.register_script(self.SCRIPT) if connection and self.interval else None
        self.key = key

    def wait(self) -> None:
        if self.script is None:
            return
        delay = float(self.script(keys=[self.key], args=[f"{self.interval:.6f}"]))
        if delay > 0:
            time.sleep(delay)


class SmtpConnection:
    """One SMTP session, opened when the first letter needs it; `close` after an error, reopen on next use."""

    def __init__(self, smtp: SmtpSettings):
        self.settings = smtp
        self.client: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        smtp = self.settings
        context = ssl.create_default_context()
        if smtp.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=SMTP_TIMEOUT, context=context
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT)
            if smtp.security == "starttls":
                client.starttls(context=context)
        if smtp.username:
            client.login(smtp.username, smtp.password)
        return client

    def send(self, message: bytes, sender: str, recipient: str) -> None:
        if self.client is None:
            self.client = self._open()
        self.client.sendmail(sender, [recipient], message)

    def close(self) -> None:
        if self.client is None:
            return
        client, self.client = self.client, None
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def email_message(row: MailMessage, mail_from: str) -> bytes:
    """The letter as it goes on the wire: both parts, the fixed Message-ID, no tracking of any kind.

    Built with the email package's compat32 classes: EmailMessage's header registry takes about six times
    as long per letter (12 ms against 2), which was most of a worker's CPU for a bulk letter.
    """
    message = MIMEMultipart("alternative")
    message["Subject"] = Header(row.subject, "utf-8")
    name, address = parseaddr(mail_from)
    message["From"] = formataddr((name, address), charset="utf-8")
    message["To"] = formataddr((row.to_name, row.to_address), charset="utf-8")
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = row.message_id
    # RFC 3834: written by a program, so vacation responders stay quiet.
    message["Auto-Submitted"] = "auto-generated"
    if row.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{row.unsubscribe_url}>"
        # RFC 8058: the mail client may unsubscribe with one POST, without opening a page.
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["Precedence"] = "bulk"
    message.attach(MIMEText(row.text_body, "plain", "utf-8"))
    message.attach(MIMEText(row.html_body, "html", "utf-8"))
    return message.as_bytes(policy=WIRE)


def _finish_values(status: MessageStatus, answer: str) -> dict:
    values: dict = {"status": status, "server_answer": answer[:2000]}
    if status is MessageStatus.sent:
        values["sent_at"] = utcnow()
    return values


def _record(session: Session, finished: tuple[int, MessageStatus, str] | None, claim: int | None) -> bool:
    """In one commit: the outcome of the letter just sent (if any), and the claim of the next one (if any);
    returns whether the claim succeeded. One commit a letter instead of two: on SQLite each is an fsync."""
    if finished is not None:
        message_id, status, answer = finished
        session.execute(
            update(MailMessage)
            .where(MailMessage.id == message_id, MailMessage.status == MessageStatus.sending)
            .values(**_finish_values(status, answer))
            .execution_options(synchronize_session=False)
        )
    claimed = None
    if claim is not None:
        claimed = session.execute(
            update(MailMessage)
            .where(MailMessage.id == claim, MailMessage.status == MessageStatus.queued)
            .values(
                status=MessageStatus.sending,
                sending_at=utcnow(),
                attempts=MailMessage.attempts + 1,
                server_answer="",
            )
            .execution_options(synchronize_session=False)
        )
    session.commit()
    return bool(claimed is not None and claimed.rowcount)


def _answer(code: int, text: bytes | str) -> str:
    words = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return f"{code} {words}".strip()


def outcome(exc: Exception) -> tuple[MessageStatus, str]:
    """What an SMTP error means for the letter: bounced when the server refused the recipient for good,
    failed (and resendable) otherwise, with the server's own words."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return (MessageStatus.bounced if 500 <= code < 600 else MessageStatus.failed), _answer(code, text)
    if isinstance(exc, smtplib.SMTPResponseException):
        return MessageStatus.failed, _answer(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return MessageStatus.failed, f"the server closed the connection: {exc}"
    return MessageStatus.failed, f"{type(exc).__name__}: {exc}"


def deliver(
    session: Session, settings: Settings, message_ids: Iterable[int], throttle: Throttle
) -> dict[str, int]:
    """Send these letters; returns how many were sent, failed, bounced, or skipped (not queued)."""
    counts = {"sent": 0, "failed": 0, "bounced": 0, "skipped": 0}
    sender = parseaddr(settings.smtp.mail_from)[1]
    connection = SmtpConnection(settings.smtp)
    finished: tuple[int, MessageStatus, str] | None = None
    message_ids = list(message_ids)
    # A letter's text never changes once written: read them all at once; the claim alone decides.
    rows = {
        row.id: row for row in session.scalars(select(MailMessage).where(MailMessage.id.in_(message_ids)))
    }
    try:
        for message_id in message_ids:
            claimed = _record(session, finished, message_id)
            finished = None
            if not claimed:
                counts["skipped"] += 1
                continue
            row = rows[message_id]
            wire = email_message(row, settings.smtp.mail_from)
            throttle.wait()
            try:
                connection.send(wire, sender, row.to_address)
            except (smtplib.SMTPException, OSError, UnicodeError) as exc:  # UnicodeError: a non-ASCII address
                status, answer = outcome(exc)
                finished = (message_id, status, answer)
                counts[status.value] += 1
                log.warning(
                    "letter not sent",
                    extra={"fields": {"message": message_id, "status": status.value, "answer": answer}},
                )
                # After a refused recipient the session is still good (smtplib sent RSET); after anything
                # else it may be mid-transaction or gone: start the next letter on a fresh one.
                if status is not MessageStatus.bounced:
                    connection.close()
                continue
            finished = (message_id, MessageStatus.sent, "")
            counts["sent"] += 1
    finally:
        if finished is not None:
            _record(session, finished, None)
        connection.close()
    return counts


def send_messages(message_ids: list[int]) -> dict[str, int]:
    """The RQ job."""
    from eventops.queue import connect

    settings = Settings.from_env("registration")
    if not settings.smtp.host:
        return {"sent": 0, "failed": 0, "bounced": 0, "skipped": len(message_ids)}
    throttle = Throttle(connect(settings.redis_url), settings.smtp.rate)
    with _sessionmaker(settings.database_url)() as session:
        return deliver(session, settings, message_ids, throttle)
