"""The insurance JSON API, beside /api/v1 (same bearer tokens, same JSON errors):

    GET  /api/v1/coverage?q=<insurance number or national ID>[&scheme=]   verification at the facility
    POST /api/v1/schemes/<code>/claims                                  submit a claim (decision returned)
    GET  /api/v1/claims/<id>                                            a claim with its decision
    POST /api/v1/claims/<id>/lines/<n>                                  a reviewer adjusts line n (1-based)
    POST /api/v1/claims/<id>/feedback                                   client feedback

A claim goes through `ClaimService.submit`, the same parse as the web form; a refused claim gives 422
with one entry per error ({"path": "lines[1].code", "field", "code", "message"}); the same claim code
sent twice by a facility gives 409 with the existing claim (it exists once).
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from ..claims import reasons
from ..claims.coverage import coverage
from ..claims.people import display_name, find_people
from ..claims.service import ClaimError, ClaimService, submit_and_commit
from ..storage.models import Facility, Household, Individual
from ..storage.workflow_models import ClaimRecord
from ..web.app import catalog, csrf, db_session
from ..web.permissions import can, requires, schemes_visible
from . import views as api
from .views import ApiError, t

bp = Blueprint("claims_api", __name__, url_prefix="/api/v1")
bp.before_request(api._authenticate)
bp.register_error_handler(ApiError, api._api_error)
bp.register_error_handler(HTTPException, api._http_exception)
bp.register_error_handler(Exception, api._unexpected)  # logged, rolled back, a JSON 500 like /api/v1's
for _status in api.HTTP_CODES:
    bp.register_error_handler(_status, api._http_exception)


def init_app(app) -> None:
    csrf.exempt(bp)
    app.register_blueprint(bp)


def service() -> ClaimService:
    return ClaimService(db_session(), catalog(), current_user._get_current_object(), api.api_language(),
                        request.remote_addr or "")


def insurance_schemes(permission: str) -> list:
    out = []
    for code in schemes_visible(current_user, catalog().codes(), permission):
        scheme = catalog().current(code)
        if scheme is not None and any(b.kind == "insurance" for b in scheme.benefits):
            out.append(scheme)
    return out


def facility_allowed(permission: str, scheme_code: str, facility_id: int) -> bool:
    from ..web.insurance import facility_allowed as allowed

    facility = db_session().get(Facility, facility_id)
    return facility is not None and allowed(permission, scheme_code, facility)


def claim_json(claim: ClaimRecord) -> dict:
    """A claim with its decision; each reason's message in the API's language."""
    s = db_session()
    person = s.get(Individual, claim.individual_id)
    facility = s.get(Facility, claim.facility_id)
    scheme = catalog().by_version(claim.scheme_version_id) or catalog().current(claim.scheme_code)
    lang, labels = api.api_language(), reasons.field_labels(scheme) if scheme else None
    return {"id": claim.id, "code": claim.code, "scheme": claim.scheme_code, "benefit": claim.benefit_code,
            "facility": facility.code if facility else None, "insuree": person.uid if person else None,
            "date_from": claim.date_from.isoformat(), "date_to": claim.date_to.isoformat() if claim.date_to else None,
            "care_type": claim.care_type, "diagnosis": claim.diagnosis, "status": claim.status,
            "asked": str(claim.asked), "payable": str(claim.payable), "selected_for_review": claim.selected_for_review,
            "feedback": claim.feedback, "href": url_for("claims_api.claim", claim_id=claim.id),
            "lines": [{"line": x.position + 1, "code": x.code, "quantity": str(x.quantity),
                       "price_asked": str(x.price_asked) if x.price_asked is not None else None,
                       "quantity_approved": str(x.quantity_approved), "price": str(x.price), "valuated": str(x.valuated),
                       "co_payment": str(x.co_payment), "payable": str(x.payable), "status": x.status,
                       "reasons": [{"code": r[0], "message": reasons.reason_text(r, lang, labels)}
                                   for r in (x.reasons or [])]}
                      for x in claim.lines]}


# ids are 32-bit (PostgreSQL INTEGER); a bigger number in the address is no claim (SQLite cannot even take
# one beyond 64 bits as a parameter)
MAX_ID = 2**31 - 1


def load_claim(claim_id: int, permission: str) -> ClaimRecord:
    claim = db_session().get(ClaimRecord, claim_id) if claim_id <= MAX_ID else None
    if claim is None:
        raise ApiError(404, "unknown_claim", t("There is no claim %(id)s.", id=claim_id))
    if not can(current_user, permission, claim.scheme_code) or not facility_allowed(permission, claim.scheme_code,
                                                                                     claim.facility_id):
        raise ApiError(403, "forbidden", t("Your role does not allow this here."))
    return claim


@bp.get("/coverage")
@requires("coverage.verify")
def lookup():
    q = " ".join((request.args.get("q") or "").split())[:100]
    if not q:
        raise ApiError(400, "missing_query", t("Send the insurance number or national ID in ?q=."))
    schemes = insurance_schemes("coverage.verify")
    wanted = request.args.get("scheme")
    if wanted:
        schemes = [s for s in schemes if s.code == wanted]
    s = db_session()
    on = date.today()
    people = []
    for scheme, person in find_people(s, schemes, q):
        if not can(current_user, "coverage.verify", scheme.code, person.location_path):
            continue
        household = s.get(Household, person.household_id) if person.household_id else None
        people.append({"uid": person.uid, "name": display_name(person), "scheme": scheme.code,
                       "household": household.uid if household else None, "date": on.isoformat(),
                       "covers": [c.as_json() for c in coverage(s, scheme, person, on, api.api_language())]})
    from ..registry import audit

    audit.record(s, user=current_user, action="verify", entity="individual",
                 entity_id=None, detail=f"api {q} -> {len(people)} found", ip=request.remote_addr or "")
    s.commit()
    return jsonify({"query": q, "people": people})


@bp.post("/schemes/<code>/claims")
@requires("claims.submit")
def submit(code: str):
    scheme = catalog().current(code)
    if scheme is None or not any(b.kind == "insurance" for b in scheme.benefits):
        raise ApiError(404, "unknown_scheme", t("There is no scheme %(code)s.", code=code))
    data = api.json_body()
    from ..web.insurance import allowed_facility_ids

    svc = service()
    result = submit_and_commit(svc, code, data, allowed_facilities=allowed_facility_ids("claims.submit", code))
    s = db_session()
    if result.duplicate_of is not None:
        existing = s.get(ClaimRecord, result.duplicate_of)
        return api.error(409, "duplicate_claim", result.errors[0].message, claim=claim_json(existing))
    if not result.ok:
        return api.validation_error(result.errors)
    response = jsonify(claim_json(result.claim))
    response.status_code = 201
    response.headers["Location"] = url_for("claims_api.claim", claim_id=result.claim.id)
    return response


@bp.get("/claims/<int:claim_id>")
@requires("claims.view")
def claim(claim_id: int):
    return jsonify(claim_json(load_claim(claim_id, "claims.view")))


@bp.post("/claims/<int:claim_id>/lines/<int:line>")
@requires("claims.review")
def adjust(claim_id: int, line: int):
    c = load_claim(claim_id, "claims.review")
    body = api.json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "bad_body", t("Send a JSON object."))
    try:
        service().adjust_line(c, line - 1, quantity=body.get("quantity_approved"), price=body.get("price"),
                              reason=str(body.get("reason") or ""))
    except ClaimError as exc:
        db_session().rollback()
        raise ApiError(exc.status, exc.code, exc.message) from None
    db_session().commit()
    return jsonify(claim_json(c))


@bp.post("/claims/<int:claim_id>/feedback")
@requires("claims.review")
def feedback(claim_id: int):
    c = load_claim(claim_id, "claims.review")
    body = api.json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "bad_body", t("Send a JSON object."))
    try:
        service().record_feedback(c, body)
    except ClaimError as exc:
        db_session().rollback()
        raise ApiError(exc.status, exc.code, exc.message) from None
    db_session().commit()
    return jsonify(claim_json(c))
