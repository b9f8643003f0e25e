"""Feedback's JSON API under /api/v1: one blueprint per area.

- surveys.py: building (surveys, questions, per-session forms, definitions);
- responses.py: answering (named responses by participant, anonymous ones through a survey's link);
- results.py: results, the cross-tab and the spreadsheet exports.
"""

from __future__ import annotations

from eventops.openapi import make_spec

spec = make_spec("EventOps feedback")

# The blueprint modules decorate their handlers with `spec`, so they are imported after it exists.
from services.feedback.api import responses, results, surveys  # noqa: E402

blueprints = [surveys.bp, responses.bp, results.bp]
