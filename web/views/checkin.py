"""The check-in screen at the door and in session rooms: search, scan, counters, recent scans, undo.

Every check-in goes through `scan`: the gateway finds the participant in registration (by the badge code,
the personal link's token, or the id of a tapped row) and asks certificates to record the scan with the
tablet's nonce, so a resend after a dropped connection never makes a second check-in.

The screen works offline too (checkin.js): it keeps the event's participant index (`index`, compressed,
with an ETag), a fresh CSRF token when the one on the page no longer passes (`token`), and a service worker
(`service_worker`) that keeps the screen's page and static files for a reload without a network.
"""

from __future__ import annotations

import gzip
import re
import secrets
import threading
import uuid
from collections import OrderedDict
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    render_template,
    request,
    send_from_directory,
)
from flask_babel import format_datetime, format_time
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import select

from eventops import db
from eventops.i18n import TIMEZONE
from eventops.input_guard import FORBIDDEN_CHARACTER
from web.auth import checkin_staff
from web.clients import ServiceError, ServiceFailed, ServiceUnavailable, certificates, registration
from web.formatting import event_days
from web.headers import CAMERA_ALLOWED
from web.models import StaffAccount

bp = Blueprint("checkin", __name__)

#: outcomes the screen tells apart; anything else is shown as an error
OUTCOMES = ("checked_in", "already_checked_in", "unknown_code", "cancelled", "not_on_list", "undo")
DEVICE_COOKIE = "device"
DEVICE_COOKIE_AGE = 5 * 365 * 24 * 3600
SEARCH_LIMIT = 20
#: scans the recent-scans list shows
LOG_LIMIT = 20
#: the event that makes the counters and the recent-scans log refresh at once
REFRESH_EVENT = "checkin-recorded"
#: an id: ten digits at most (the services' ids are 32-bit), so no number of a thousand digits is parsed
_ID = re.compile(r"\s*-?\d{1,10}\s*")
#: compressed indexes kept by (event, version): dozens of tablets ask for the same one at opening time
_INDEX_KEPT = 8
_compressed_indexes: OrderedDict[tuple[int, str], bytes] = OrderedDict()
_compressed_lock = threading.Lock()


# --- choosing the event, the day, and the door or the session ----------------------------------


@bp.get("/checkin")
@checkin_staff
def choose():
    events = registration.events()
    event_id = request.args.get("event_id", type=int)
    event = next((e for e in events if e["id"] == event_id), None)
    if event is None and len(events) == 1:
        event = events[0]
    days, sessions_by_day = [], {}
    if event is not None:
        days = event_days(event)
        for s in registration.programme(event["id"]):
            sessions_by_day.setdefault(s["day"], []).append(s)
    return render_template(
        "checkin/choose.html", events=events, event=event, days=days, sessions_by_day=sessions_by_day
    )


# --- the screen -------------------------------------------------------------------------------


@bp.get("/events/<int:event_id>/checkin")
@checkin_staff
def screen(event_id: int):
    place = _place(event_id, request.args)
    query = (request.args.get("q") or "").strip()
    results = _search(event_id, query) if query else None  # without JavaScript: the search form reloads
    response = make_response(
        render_template("checkin/screen.html", **place, query=query, results=results, banner=None)
    )
    _remember_device(response)
    response.headers["Permissions-Policy"] = CAMERA_ALLOWED  # the QR scanner; no other page may
    return response


@bp.get("/events/<int:event_id>/checkin/search")
@checkin_staff
def search(event_id: int):
    query = (request.args.get("q") or "").strip()
    results = _search(event_id, query)
    return render_template(
        "checkin/_results.html",
        event_id=event_id,
        results=results,
        query=query,
        day=request.args.get("day", ""),
        session_id=request.args.get("session_id", ""),
    )


@bp.get("/events/<int:event_id>/checkin/index.json")
@checkin_staff
def index(event_id: int):
    """The event's participant index for offline search and scans; 304 while the tablet's copy is current.

    Compressed here: nothing in front of a laptop's gateway compresses, and ten thousand names are
    a few megabytes of JSON but a few hundred kilobytes gzipped."""
    answer = registration.checkin_index(event_id, request.headers.get("If-None-Match"))
    etag = answer.headers.get("ETag", "")
    if answer.status_code == 304:
        response = make_response("", 304)
    else:
        response = make_response(answer.content, 200)
        response.mimetype = "application/json"
        if "gzip" in request.accept_encodings:
            response.set_data(_compressed(event_id, etag, answer.content))
            response.headers["Content-Encoding"] = "gzip"
    response.headers["ETag"] = etag
    response.headers["Vary"] = "Accept-Encoding"
    # Kept by the screen (IndexedDB), never by a shared cache: it names people.
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _compressed(event_id: int, etag: str, content: bytes) -> bytes:
    key = (event_id, etag)
    with _compressed_lock:
        if key in _compressed_indexes:
            _compressed_indexes.move_to_end(key)
            return _compressed_indexes[key]
    packed = gzip.compress(content, compresslevel=6, mtime=0)
    with _compressed_lock:
        _compressed_indexes[key] = packed
        while len(_compressed_indexes) > _INDEX_KEPT:
            _compressed_indexes.popitem(last=False)
    return packed


@bp.get("/events/<int:event_id>/checkin/token")
@checkin_staff
def token(event_id: int):
    """A CSRF token for a screen whose page has been open longer than its token holds (or was reloaded
    offline from the service worker's copy): checkin.js asks for it and sends what it keeps again."""
    response = jsonify({"csrf_token": generate_csrf()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/checkin/sw.js")
@checkin_staff
def service_worker():
    """The check-in screen's service worker; registered per event, scoped to that event's screen. Only
    staff load it: it is of no use to anyone else (and a browser fetches it with the session cookie)."""
    response = send_from_directory(current_app.static_folder, "js/checkin-sw.js", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/events/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.post("/events/<int:event_id>/checkin/scan")
@checkin_staff
def scan(event_id: int):
    data = (request.get_json(silent=True) or {}) if request.is_json else request.form
    day, session_id = _day_and_session(data)
    nonce = str(data.get("nonce") or "").strip()[:64] or str(uuid.uuid4())
    code = str(data.get("code") or "").strip()[:500]
    participant_id = _int_or_none(data.get("participant_id"))
    if not code and participant_id is None:
        return _banner(
            event_id, "error", _("Nothing to check in: scan a badge or choose a participant."), 422
        )
    if FORBIDDEN_CHARACTER.search(code):  # no badge prints one: a damaged or a crafted code
        return _banner(
            event_id,
            "error",
            _("The scanned code holds characters no badge has: it is damaged or forged. Not checked in."),
            422,
        )
    scanned_at = str(data.get("scanned_at") or "")[:40] or datetime.now(UTC).isoformat()

    try:
        participant = _find_participant(event_id, code, participant_id)
        gender = participant.pop("gender", None) if participant else None  # for the banner's wording only
        record = certificates.record_scan(
            event_id,
            nonce=nonce,
            day=day,
            session_id=session_id,
            scanned_at=scanned_at,
            raw_code=code or f"id:{participant_id}",
            participant=participant,
            offline=str(data.get("offline") or "").lower() in ("1", "true"),
        )
    except ServiceFailed as exc:
        # The service was reached and failed on this scan: sending it again would fail again, so the answer
        # is a 4xx, which the tablet does not resend.
        current_app.logger.warning("check-in: %s", exc)
        return _banner(
            event_id,
            "error",
            _(
                "This scan could not be recorded (the code may be damaged). Not checked in: find the "
                "person by name."
            ),
            422,
        )
    except ServiceUnavailable as exc:
        return _unavailable(event_id, exc)
    except ServiceError as exc:
        return _banner(
            event_id,
            "error",
            exc.problem.get("detail") or _("The check-in was not recorded."),
            exc.status if 400 <= exc.status < 500 else 422,
        )
    return _record_banner(event_id, record, 201 if not record.get("replayed") else 200, gender=gender)


@bp.post("/events/<int:event_id>/checkin/undo/<int:checkin_id>")
@checkin_staff
def undo(event_id: int, checkin_id: int):
    data = (request.get_json(silent=True) or {}) if request.is_json else request.form
    nonce = str(data.get("nonce") or "").strip()[:64] or str(uuid.uuid4())
    reason = str(data.get("reason") or "").strip()[:500] or "mistake"
    try:
        record = certificates.undo(checkin_id, nonce=nonce, reason=reason)
    except ServiceFailed as exc:  # failed on this very undo: a 4xx, so that the tablet does not resend it
        current_app.logger.warning("check-in undo: %s", exc)
        return _banner(
            event_id, "error", _("This check-in cannot be undone (it may be undone already)."), 422
        )
    except ServiceUnavailable as exc:
        return _unavailable(event_id, exc)
    except ServiceError as exc:
        if exc.status in (404, 409):
            return _banner(
                event_id, "error", _("This check-in cannot be undone (it may be undone already)."), 409
            )
        raise
    return _record_banner(event_id, record, 201)


@bp.get("/events/<int:event_id>/checkin/counters")
@checkin_staff
def counters(event_id: int):
    day, session_id = _day_and_session(request.args)
    # A figure a service cannot give now is shown as «—»; the screen goes on.
    checked_in = _or_none(lambda: certificates.counters(event_id, day, session_id))
    # Asked at every refresh, every few seconds per tablet: one SQL count in registration, always current.
    expected = _or_none(lambda: registration.event(event_id)["active_participants_count"])
    return render_template(
        "checkin/_counters.html",
        event_id=event_id,
        day=day,
        session_id=session_id,
        checked_in=checked_in,
        expected=expected,
    )


@bp.get("/events/<int:event_id>/checkin/log")
@checkin_staff
def recent(event_id: int):
    day, session_id = _day_and_session(request.args)
    items = _or_none(lambda: certificates.checkin_log(event_id, day, session_id, limit=LOG_LIMIT))
    return render_template(
        "checkin/_log.html",
        event_id=event_id,
        items=_with_undo_state(items),
        staff_names=_staff_names(items or []),
    )


# --- helpers ----------------------------------------------------------------------------------


def _place(event_id: int, args) -> dict:
    """The event, the day and the session (or the door) the screen is for; 404 if they do not fit."""
    event = registration.event(event_id)
    sessions = registration.programme(event_id)
    session_id = _int_or_none(args.get("session_id"))
    programme_session = None
    if session_id is not None:
        programme_session = next((s for s in sessions if s["id"] == session_id), None)
        if programme_session is None:
            abort(404)
    days = event_days(event)
    day = args.get("day") or (programme_session["day"] if programme_session else _today_or_first(days))
    if day not in days or (programme_session and programme_session["day"] != day):
        abort(404)
    return {"event": event, "day": day, "session": programme_session, "session_id": session_id}


def _day_and_session(data) -> tuple[str, int | None]:
    day = str(data.get("day") or "")
    try:
        date.fromisoformat(day)
    except ValueError:
        abort(422)  # 400 is kept for the CSRF check, which checkin.js answers with «reload the page»
    return day, _int_or_none(data.get("session_id"))


def _or_none(fetch):
    try:
        return fetch()
    except (ServiceUnavailable, ServiceError):
        return None


def _int_or_none(value) -> int | None:
    """An id as a form or checkin.js sends it: digits (or a JSON integer), never 1e400, 2.5 or true."""
    if value in (None, "", "null"):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not _ID.fullmatch(str(value)):
        abort(422)
    return int(value)


def _local_today() -> date:
    return datetime.now(ZoneInfo(TIMEZONE)).date()


def _today_or_first(days: list[str]) -> str:
    today = _local_today().isoformat()
    return today if today in days else days[0]


def _search(event_id: int, query: str) -> list[dict]:
    if len(query) < 2:
        return []
    return registration.search(event_id, query, SEARCH_LIMIT)["items"]


def _find_participant(event_id: int, code: str, participant_id: int | None) -> dict | None:
    """The participant as certificates needs them, or None for a code nobody has."""
    try:
        if participant_id is not None:
            found = registration.participant(event_id, participant_id)
        else:
            found = registration.lookup(event_id, code)
    except ServiceError as exc:
        if exc.status in (404, 422):
            return None
        raise
    if found.get("event_id") != event_id:
        return None
    return {key: found.get(key) for key in ("id", "event_id", "status", "full_name", "gender")}


def _staff_names(records: list[dict]) -> dict[str, str]:
    usernames = {r.get("staff") for r in records} | {(r.get("previous") or {}).get("staff") for r in records}
    usernames.discard(None)
    if g.staff is not None and usernames <= {g.staff.username}:
        return {g.staff.username: g.staff.full_name}  # the usual case: no query for one's own name
    if not usernames:
        return {}
    rows = db.session().execute(
        select(StaffAccount.username, StaffAccount.full_name).where(StaffAccount.username.in_(usernames))
    )
    return dict(rows.all())


def _with_undo_state(items: list[dict] | None) -> list[dict] | None:
    """Marks the check-ins already reversed, so they show no undo button."""
    if items is None:
        return None
    undone = {i.get("reverses_id") for i in items if i.get("outcome") == "undo"}
    return [dict(i, undone=bool(i.get("reversed_at")) or i.get("id") in undone) for i in items]


def _record_banner(event_id: int, record: dict, status: int, gender: str | None = None):
    outcome = record.get("outcome") if record.get("outcome") in OUTCOMES else "error"
    response = _answer(
        event_id,
        render_template(
            "checkin/_banner.html",
            kind=outcome,
            record=record,
            staff_names=_staff_names([record]),
            message=None,
            gender=gender,
        ),
        status,
    )
    response.headers["X-Checkin-Outcome"] = outcome
    if record.get("participant_id") is not None:  # the tablet notes who is in, for offline answers
        response.headers["X-Checkin-Participant"] = str(record["participant_id"])
    response.headers["HX-Trigger"] = REFRESH_EVENT
    return response


def _banner(event_id: int, kind: str, message: str, status: int):
    response = _answer(
        event_id,
        render_template(
            "checkin/_banner.html", kind=kind, record=None, staff_names={}, message=message, gender=None
        ),
        status,
    )
    response.headers["X-Checkin-Outcome"] = kind
    return response


def _answer(event_id: int, banner: str, status: int):
    """The banner alone for checkin.js; the whole screen around it for a form posted without JavaScript."""
    if request.is_json or request.htmx:
        return make_response(banner, status)
    try:
        place = _place(event_id, request.form)
    except (ServiceUnavailable, ServiceError):
        return make_response(banner, status)
    return make_response(
        render_template("checkin/screen.html", **place, query="", results=None, banner=Markup(banner)), status
    )


def _unavailable(event_id: int, exc: ServiceUnavailable):
    current_app.logger.warning("check-in: %s", exc)
    if request.is_json or request.htmx:  # checkin.js keeps the scan and sends it again
        messages = {  # one whole sentence per service: Russian declines the service's name after «с»
            "registration": _(
                "No connection to the registration service. The check-in is saved on this tablet "
                "and will be sent."
            ),
            "certificates": _(
                "No connection to the certificates service. The check-in is saved on this tablet "
                "and will be sent."
            ),
        }
    else:  # a form posted without JavaScript: nothing keeps it, so say so
        messages = {
            "registration": _(
                "No connection to the registration service: the check-in was not recorded. "
                "Try again in a minute."
            ),
            "certificates": _(
                "No connection to the certificates service: the check-in was not recorded. "
                "Try again in a minute."
            ),
        }
    return _banner(event_id, "unavailable", messages.get(exc.service, messages["certificates"]), 503)


def _remember_device(response) -> None:
    """Each tablet keeps a random id for years; the services log it with every scan."""
    if request.cookies.get(DEVICE_COOKIE):
        return
    g.device = "tab-" + secrets.token_urlsafe(9)
    response.set_cookie(
        DEVICE_COOKIE,
        g.device,
        max_age=DEVICE_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )


@bp.app_template_filter("clock")
def clock(value) -> str:
    """«14:05» in the event's time zone, from an ISO timestamp; the date too if it is not today."""
    if not value:
        return ""
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment.astimezone(ZoneInfo(TIMEZONE)).date() == _local_today():
        return format_time(moment, "HH:mm")
    return format_datetime(moment, "d MMM HH:mm")
