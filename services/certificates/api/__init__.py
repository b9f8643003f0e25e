"""The certificates service's JSON API under /api/v1: one blueprint per area, one OpenAPI spec.

- attendance: check-ins at the door and in session rooms, undo, bulk marking, counters, the summary
- policies: an event's certificate policy and its images
- certificates: eligibility and overrides, issuing, batches, documents, downloads, exports, verification
"""

from __future__ import annotations

from eventops.openapi import make_spec

spec = make_spec("EventOps certificates")

# The blueprints decorate their handlers with `spec`, so they are imported once it exists.
from services.certificates.api import attendance, certificates, policies  # noqa: E402

BLUEPRINTS = [attendance.bp, policies.bp, certificates.bp]
