"""An event's certificate policy: read it, save it whole, and its two images (logo, signature).

Images travel either inside the policy as base64 fields (`logo`, `signature`: null keeps the stored one,
"" removes it) or on their own: PUT .../policy/images/<logo|signature> with the raw PNG or JPEG as the
body, DELETE to remove, GET to show it back.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from flask_babel import gettext as _
from spectree import Response as Responses

from eventops import db
from eventops.problems import invalid, not_found
from services.certificates import eligibility, policy, registration_client, schemas
from services.certificates.api import spec
from services.certificates.api.common import registration_down, staff
from services.certificates.issuing import template_for, today
from services.certificates.models import CertificatePolicy, DocumentKind, ImageKind

bp = Blueprint("policies_api", __name__, url_prefix="/api/v1")


def policy_or_404(event_id: int) -> CertificatePolicy:
    found = policy.find(db.session(), event_id)
    if found is None:
        raise not_found(_("The event has no certificate policy yet."))
    return found


def policy_out(rules: CertificatePolicy) -> schemas.PolicyOut:
    year = today().year
    return schemas.PolicyOut.model_validate(rules).model_copy(
        update={
            "required_hours": eligibility.required_hours(rules),
            "number_example": template_for(rules, DocumentKind.certificate).format(year, 1),
            "statement_number_example": template_for(rules, DocumentKind.statement).format(year, 1),
        }
    )


def image_kind(kind: str) -> ImageKind:
    try:
        return ImageKind(kind)
    except ValueError:
        raise not_found(_("A policy has two images: logo and signature.")) from None


@bp.get("/events/<int:event_id>/policy")
@spec.validate(resp=Responses(HTTP_200=schemas.PolicyOut, HTTP_404=None))
def read_policy(event_id: int):
    return policy_out(policy_or_404(event_id))


@bp.put("/events/<int:event_id>/policy")
@spec.validate(
    json=schemas.PolicyIn,
    resp=Responses(HTTP_200=schemas.PolicyOut, HTTP_201=schemas.PolicyOut, HTTP_404=None, HTTP_503=None),
)
def save_policy(event_id: int, json: schemas.PolicyIn):
    try:
        registration_client.fetch_event(event_id)
    except registration_client.EventNotFound:
        raise not_found(_("There is no such event.")) from None
    except registration_client.RegistrationUnavailable as exc:
        raise registration_down(exc) from exc
    fields = json.model_dump(exclude={"logo", "signature"})
    images = {ImageKind.logo: json.logo, ImageKind.signature: json.signature}
    saved, created = policy.save(db.session(), event_id, fields, images, staff())
    return policy_out(saved), 201 if created else 200


@bp.put("/events/<int:event_id>/policy/images/<kind>")
@spec.validate(resp=Responses(HTTP_204=None, HTTP_404=None, HTTP_413=None, HTTP_422=None))
def upload_image(event_id: int, kind: str):
    which = image_kind(kind)
    rules = policy_or_404(event_id)
    data = request.get_data(cache=False)
    if not data:
        raise invalid(which.value, "blank", _("Choose an image file."))
    try:
        policy.set_image(db.session(), rules, which, data, staff())
    except policy.ImageError as exc:
        raise invalid(which.value, exc.code, schemas.image_problem_message(exc.code)) from None
    return "", 204


@bp.delete("/events/<int:event_id>/policy/images/<kind>")
@spec.validate(resp=Responses(HTTP_204=None, HTTP_404=None))
def remove_image(event_id: int, kind: str):
    which = image_kind(kind)
    policy.set_image(db.session(), policy_or_404(event_id), which, b"", staff())
    return "", 204


@bp.get("/events/<int:event_id>/policy/images/<kind>")
def read_image(event_id: int, kind: str):
    which = image_kind(kind)
    rules = policy_or_404(event_id)
    data, mime = getattr(rules, which.value), getattr(rules, f"{which.value}_mime")
    if not data:
        raise not_found(_("This image has not been uploaded."))
    return Response(data, mimetype=mime, headers={"Cache-Control": "no-store"})
