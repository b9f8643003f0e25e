"""Calls between processes carry a service token; a service refuses API calls without a valid one."""

from __future__ import annotations

import hmac
import logging

from flask import Flask, current_app, g, request
from flask_babel import gettext as _

from eventops.config import MIN_SECRET_LENGTH
from eventops.problems import Problem

log = logging.getLogger(__name__)

HEADER = "Authorization"
#: The staff member (and their role) on whose behalf the gateway calls: for audit trails only.
STAFF_HEADER = "X-Staff-User"
DEVICE_HEADER = "X-Device"


def bearer(token: str) -> dict[str, str]:
    return {HEADER: f"Bearer {token}"}


def protect_api(app: Flask, prefix: str = "/api/") -> None:
    """Every request under `prefix` must carry the shared service token."""

    @app.before_request
    def check_service_token():
        if not request.path.startswith(prefix):
            return None
        given = request.headers.get(HEADER, "")
        scheme, _space, token = given.partition(" ")
        expected = current_app.config.get("SERVICE_TOKEN") or ""
        if len(expected) < MIN_SECRET_LENGTH:
            # Settings refuses such a token at start; if one got here anyway, nothing may match it.
            log.error("the service token is empty or too short: every API call is refused")
            raise Problem(401, detail=_("A valid service token is required."))
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected.encode()):
            raise Problem(401, detail=_("A valid service token is required."))
        g.staff_user = request.headers.get(STAFF_HEADER) or None
        g.device = request.headers.get(DEVICE_HEADER) or None
        return None
