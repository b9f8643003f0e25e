"""Reference data for the gateway's forms: the subjects of the Russian Federation and every other closed
list of values the API accepts, so that no form keeps a copy of its own."""

from __future__ import annotations

from flask import Blueprint
from spectree import Response

from services.registration import schemas
from services.registration.api import spec
from services.registration.models import (
    PROGRAMME_KINDS,
    EducationLevel,
    Gender,
    ParticipantStatus,
    SessionKind,
)
from services.registration.regions import all_regions

bp = Blueprint("registration_reference", __name__, url_prefix="/api/v1")

#: the lists change with a release, not during one: the gateway may keep them for an hour
CACHE_CONTROL = "private, max-age=3600"


def _regions() -> list[schemas.RegionOut]:
    return [schemas.RegionOut(code=region.code, name=region.name) for region in all_regions()]


@bp.get("/regions")
@spec.validate(resp=Response(HTTP_200=schemas.RegionList))
def list_regions():
    """Every subject of the Russian Federation, in the order a form lists them: a choice list as it is."""
    return schemas.RegionList(items=_regions()), 200, {"Cache-Control": CACHE_CONTROL}


@bp.get("/reference")
@spec.validate(resp=Response(HTTP_200=schemas.Reference))
def reference():
    """The values each closed field accepts (regions, gender, status, session type, education level,
    programme kind), in the order a form offers them."""
    answer = schemas.Reference(
        regions=_regions(),
        genders=list(Gender),
        participant_statuses=list(ParticipantStatus),
        session_kinds=list(SessionKind),
        education_levels=list(EducationLevel),
        programme_kinds=list(PROGRAMME_KINDS),
    )
    return answer, 200, {"Cache-Control": CACHE_CONTROL}
