"""The HTMX gateway: the only thing a person's browser talks to."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from flask import Flask, g, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect
from htmx_flask import Htmx
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from eventops import db, health, i18n, logs, metrics
from eventops.config import Settings
from web import auth, clients, formatting, headers
from web.clients import ServiceError, ServiceUnavailable
from web.limits import limiter
from web.views import (
    attendance,
    certificates,
    checkin,
    events,
    home,
    imports,
    mail,
    participant_page,
    participants,
    personal,
    staff,
    status,
    survey_answers,
    surveys,
    verify,
)

log = logging.getLogger(__name__)
csrf = CSRFProtect()


def create_app(settings: Settings | None = None, service_urls: dict[str, str] | None = None) -> Flask:
    settings = settings or Settings.from_env("web")
    app = Flask("web")
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Behind HTTPS in production (deploy/ sets it); a laptop serves plain http on 127.0.0.1.
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        # A tablet at the door stays logged in for a whole (long) day of check-in.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=18),
        # The CSRF token lives as long as the session, so a page left open all day still submits.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=False,
        WTF_I18N_ENABLED=True,
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        RATELIMIT_ENABLED=settings.ratelimit_enabled,
        MAX_CONTENT_LENGTH=12 * 1024 * 1024,
        STAFF_RECHECK_SECONDS=auth.STAFF_RECHECK_SECONDS,
    )
    proxy_hops = settings.proxy_hops
    if proxy_hops:  # behind nginx: the client's address (for rate limits) and scheme come from it
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxy_hops, x_proto=proxy_hops, x_host=proxy_hops)
    logs.configure("web")
    logs.log_requests(app)
    metrics.init_app(app, "web")
    db.init_app(app, settings.database_url, pool_size=settings.database_pool_size)
    i18n.init_app(app, Path(i18n.__file__).parent / "translations", gateway=True)
    csrf.init_app(app)
    limiter.init_app(app)
    Htmx(app)
    formatting.init_app(app)
    headers.init_app(app)
    clients.init_app(app, settings.service_token, {**settings.service_urls, **(service_urls or {})})
    readiness = {"schema": health.schema_check("web")}
    if settings.redis_url:  # the rate limits' counters (in memory without it)
        readiness["redis"] = health.redis_check(settings.redis_url)
    health.register(app, {"database": health.database_check}, readiness)

    app.before_request(auth.load_staff)
    for blueprint in (
        auth.bp,
        home.bp,
        status.bp,
        verify.bp,
        staff.bp,
        events.bp,
        participants.bp,
        participant_page.bp,
        personal.bp,
        imports.bp,
        checkin.bp,
        attendance.bp,
        certificates.bp,
        surveys.bp,
        survey_answers.bp,
        mail.bp,
    ):
        app.register_blueprint(blueprint)
    # A mail client's one-click unsubscribe (RFC 8058) posts without our CSRF token; the personal token
    # in its address is what authorises it.
    csrf.exempt(mail.unsubscribe)
    register_error_pages(app)
    app.context_processor(
        lambda: {"staff": g.get("staff"), "languages": i18n.LANGUAGES, "get_locale": get_locale}
    )
    return app


def register_error_pages(app: Flask) -> None:
    """Every failure is a clear page in the person's language; never a stack trace."""

    def page(status: int, message: str):
        template = "error_fragment.html" if request.htmx else "error.html"
        return render_template(template, status=status, message=message), status

    @app.errorhandler(ServiceUnavailable)
    def service_down(exc: ServiceUnavailable):
        log.warning("service unavailable: %s", exc)
        return page(
            503,
            _(
                "The %(service)s is not answering right now. Try again in a minute; "
                "if it goes on, tell the organisers.",
                service=formatting.label(exc.service),
            ),
        )

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        if exc.status == 404:
            return page(404, _("Not found. The link may be wrong or out of date."))
        log.warning("service error: %s", exc)
        return page(exc.status, exc.problem.get("detail") or _("The request could not be completed."))

    @app.errorhandler(CSRFError)
    def csrf_error(_exc):
        return page(400, _("The form has expired. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.response is not None:  # it carries its own page (the login page saying when to retry)
            return exc.response
        messages = {
            401: _("Your session has ended. Log in again."),
            403: _("You do not have access to this page."),
            404: _("Not found. The link may be wrong or out of date."),
            405: _("This action is not allowed here."),
            413: _("The file is too large."),
            429: _("Too many attempts. Wait a minute and try again."),
        }
        return page(exc.code or 500, messages.get(exc.code, _("The request could not be completed.")))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return page(500, _("Something went wrong on our side. The error has been logged."))
