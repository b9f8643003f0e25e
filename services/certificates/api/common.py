"""What every certificates blueprint shares: who is calling, and how a registration outage is told."""

from __future__ import annotations

import logging

from flask import g
from flask_babel import gettext as _

from eventops.problems import Problem

log = logging.getLogger(__name__)


def staff_and_device() -> tuple[str | None, str | None]:
    """The staff member and device the gateway named (X-Staff-User, X-Device), for the audit trail."""
    staff, device = g.get("staff_user"), g.get("device")
    return (staff[:200] if staff else None), (device[:200] if device else None)


def staff() -> str | None:
    return staff_and_device()[0]


def registration_down(exc: Exception) -> Problem:
    # The cause is for the log; the person gets a sentence they can act on.
    log.warning("registration unavailable: %s", exc)
    return Problem(
        503,
        detail=_("The registration service is not answering; try again in a minute."),
        type="urn:eventops:problem:registration-unavailable",
    )
