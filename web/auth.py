"""Staff accounts: passwords (argon2id), login and logout, and who may open which page.

The policies below (`staff`, `checkin_staff`, `organisers`, `admins`) are the only place roles are named for
access: a view is guarded by one of them, a template asks `can_organise()` / `can_manage_staff()`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps
from urllib.parse import unquote, urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_time, format_timedelta
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from eventops import db
from web.limits import limiter
from web.models import Role, StaffAccount

bp = Blueprint("auth", __name__)
hasher = PasswordHasher()
# Verified against when the username is unknown, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return hasher.hash(password)


def check_password(account: StaffAccount | None, password: str) -> bool:
    try:
        hasher.verify(account.password_hash if account else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return account is not None and account.active


#: how long the signed session cookie is trusted to say who is logged in before the database is asked
#: again; a logout, a new password, a deactivated account or a changed role takes effect within this time
#: on every other copy of the session
STAFF_RECHECK_SECONDS = 15


@dataclass(frozen=True)
class StaffIdentity:
    """Who is logged in, as kept in the session: enough for pages and audit, no password hash."""

    id: int
    username: str
    full_name: str
    role: Role
    #: the account's session version when this session was made (see StaffAccount.session_version)
    session_version: int = 0

    @classmethod
    def of(cls, account: StaffAccount) -> StaffIdentity:
        return cls(account.id, account.username, account.full_name, account.role, account.session_version)


def remember_staff(identity: StaffIdentity) -> None:
    session["staff"] = {
        "id": identity.id,
        "username": identity.username,
        "full_name": identity.full_name,
        "role": identity.role.value,
        "version": identity.session_version,
        "checked": time.time(),
    }


def end_sessions(account: StaffAccount) -> None:
    """Every session of the account made so far stops working when next confirmed (the caller commits)."""
    account.session_version += 1


def load_staff() -> None:
    """Before each request: the logged-in staff member, or None. The check-in screen makes several requests
    a second per tablet, so the account is read from the session and confirmed in the database only every
    STAFF_RECHECK_SECONDS: then a deactivated account, or a session older than the account's last logout
    or new password (its version is behind), is logged out. Sessions from before versions existed carry
    none and count as version 0, the column's starting value."""
    g.device = request.cookies.get("device") or None
    kept = session.get("staff")
    if not kept:
        g.staff = None
        return
    version = kept.get("version", 0)
    if time.time() - kept.get("checked", 0) < current_app.config["STAFF_RECHECK_SECONDS"]:
        g.staff = StaffIdentity(kept["id"], kept["username"], kept["full_name"], Role(kept["role"]), version)
        return
    account = db.session().get(StaffAccount, kept["id"])
    if account is None or not account.active or account.session_version != version:
        session.clear()
        g.staff = None
        return
    g.staff = StaffIdentity.of(account)
    remember_staff(g.staff)


class Policy:
    """Who may open a page: staff with one of `roles` (admins always). Used as a view decorator; someone not
    logged in is sent to the login page, someone logged in without the role gets 403."""

    def __init__(self, *roles: Role):
        self.roles = frozenset(roles) | {Role.admin}

    def allows(self, identity: StaffIdentity | None) -> bool:
        return identity is not None and identity.role in self.roles

    def __call__(self, view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.staff is None:
                if request.headers.get("HX-Request") or request.is_json:
                    # A tablet's scan or an htmx refresh: a redirect would be followed to the login page
                    # and its HTML shown (or kept resending); 401 lets the page say «log in again».
                    abort(401)
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not self.allows(g.staff):
                abort(403)
            return view(*args, **kwargs)

        wrapped.policy = self  # lets a test list which policy guards each page
        return wrapped


# --- who may open what: every view uses one of these, none declares its own role set ------------

#: any logged-in staff member: the start page, the event overview
staff = Policy(*Role)
#: the check-in screen at the door and in session rooms (organisers may check people in too)
checkin_staff = Policy(Role.checkin, Role.organiser)
#: everything else staff do: events, programme, participants, import, attendance, survey results, the
#: system status page; check-in staff do not open these
organisers = Policy(Role.organiser)
#: staff accounts
admins = Policy(Role.admin)


# Templates show links and buttons only to those whom the pages behind them would let in.
@bp.app_template_global()
def can_organise() -> bool:
    return organisers.allows(g.get("staff"))


@bp.app_template_global()
def can_manage_staff() -> bool:
    return admins.allows(g.get("staff"))


class LoginForm(FlaskForm):
    username = StringField("username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=200)])


# Only failed logins count: a venue logs in from one NAT address, and a morning shift of 30 staff logging
# in together must all get in. A guesser is slowed per account name, from whatever address, and a password
# sprayer trying many names from one address by the address limit. deploy/nginx.conf's flood guard on
# POST /login lets through at least what these allow (30 logins and 30 failures a minute per address).
#: failed logins for one account name: after 5 in a minute the name waits for the minute to end, after 20
#: in an hour for the hour; a person who mistyped waits a minute, a guesser gets 20 tries an hour
NAME_FAILURES = "5 per minute;20 per hour"
#: failed logins from one address, whatever the names: a shift mistypes now and then, a sprayer goes on
ADDRESS_FAILURES = "30 per minute;200 per hour"


def _failed(response) -> bool:
    return response.status_code == 401


def _account_name() -> str:
    return "login-name:" + (request.form.get("username") or "").strip().lower()[:64]


def _refused(message: str, limit: RequestLimit):
    """The login page again, 429, saying when to try again (in the person's language and time zone)."""
    wait = max(1, limit.reset_at - int(time.time()))
    retry_at = datetime.now(UTC) + timedelta(seconds=wait)
    when = format_timedelta(timedelta(seconds=wait), granularity="second", threshold=1, add_direction=True)
    error = message % {"when": when, "time": format_time(retry_at, "short")}
    response = make_response(render_template("login.html", form=LoginForm(), error=error), 429)
    response.headers["Retry-After"] = str(wait)
    return response


def _name_refused(limit: RequestLimit):
    return _refused(_("Too many failed logins for this username. Try again %(when)s (at %(time)s)."), limit)


def _address_refused(limit: RequestLimit):
    return _refused(_("Too many failed logins from this network. Try again %(when)s (at %(time)s)."), limit)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(ADDRESS_FAILURES, methods=["POST"], deduct_when=_failed, on_breach=_address_refused)
@limiter.limit(
    NAME_FAILURES, methods=["POST"], key_func=_account_name, deduct_when=_failed, on_breach=_name_refused
)
def login():
    form = LoginForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("login.html", form=form), status
    username = form.username.data.strip().lower()
    account = db.session().scalar(select(StaffAccount).where(StaffAccount.username == username))
    if not check_password(account, form.password.data):
        # One message for a wrong name and a wrong password: it tells nobody which accounts exist.
        return render_template("login.html", form=form, error=_("Wrong username or password.")), 401
    if hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(form.password.data)
    account.last_login_at = datetime.now(UTC)
    db.session().commit()
    session.clear()  # nothing from before the login survives it
    session.permanent = True
    remember_staff(StaffIdentity.of(account))
    start_page = url_for("checkin.choose") if account.role is Role.checkin else url_for("home.index")
    return redirect(safe_next(request.args.get("next")) or start_page, 303)


@bp.post("/logout")
def logout():
    # Logging out ends the account's sessions everywhere, so a copy of this cookie stops working too.
    account = db.session().get(StaffAccount, g.staff.id) if g.staff else None
    if account is not None:
        end_sessions(account)
        db.session().commit()
    session.clear()
    flash(_("You have logged out."))
    # left=1: the login page removes what the check-in screen kept on this device for offline work (app.js)
    return redirect(url_for("auth.login", left=1), 303)


#: longer than any path of this site; a longer `next` is not worth returning to
MAX_NEXT_LENGTH = 2000


def safe_next(target: str | None) -> str | None:
    r"""`target` if it is a path on this site ("/events/1?day=2"), else None (the start page).

    Browsers drop tabs and newlines from a Location and read a backslash as a slash, so "/<TAB>/evil.example"
    and "/\evil.example" go off-site like "//evil.example" does, and CR/LF would split the header. The checks
    run on the value and once more on it percent-decoded, so an encoded "/%09/evil.example" is refused too."""
    if not target or len(target) > MAX_NEXT_LENGTH:
        return None
    for text in (target, unquote(target)):
        if not text.startswith("/") or text.startswith("//") or "\\" in text:
            return None
        if any(ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F for char in text):
            return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
