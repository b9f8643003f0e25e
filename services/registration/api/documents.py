"""Documents made from the participant list: the export (XLSX or CSV) and the badges (PDF)."""

from __future__ import annotations

from flask import Blueprint, current_app
from flask import Response as FlaskResponse
from spectree import Response

from eventops import db
from services.registration import badges, events, exports, participants, schemas
from services.registration.api import spec

bp = Blueprint("registration_documents", __name__, url_prefix="/api/v1")

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/events/<int:event_id>/participants/export")
@spec.validate(query=schemas.ExportQuery, resp=Response(HTTP_200=None, HTTP_404=None))
def export_participants(event_id: int, query: schemas.ExportQuery):
    """Every participant with every column, as XLSX or CSV (UTF-8 with BOM, ';'): personal data."""
    session = db.session()
    event = events.get_event(session, event_id)
    people = participants.in_order(session, event_id)
    if query.format == "csv":
        body, mimetype = exports.to_csv(people), "text/csv; charset=utf-8"
    else:
        body, mimetype = exports.to_xlsx(people), XLSX_MIME
    return attachment(body, mimetype, f"participants-{event.slug}.{query.format}")


@bp.get("/events/<int:event_id>/badges.pdf")
@spec.validate(query=schemas.BadgesQuery, resp=Response(HTTP_200=None, HTTP_404=None, HTTP_422=None))
def print_badges(event_id: int, query: schemas.BadgesQuery):
    """Badges of the participants listed in `ids`, or of everyone whose registration stands."""
    session = db.session()
    event = events.get_event(session, event_id)
    people = participants.for_badges(session, event_id, query.id_list())
    public_url = current_app.config["SETTINGS"].public_url  # the badges' QR codes open the gateway
    return attachment(
        badges.renderer().render(event, people, public_url), "application/pdf", f"badges-{event.slug}.pdf"
    )


def attachment(body: bytes, mimetype: str, filename: str) -> FlaskResponse:
    response = FlaskResponse(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
