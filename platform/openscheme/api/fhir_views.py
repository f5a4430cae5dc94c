"""The FHIR R4 API at /fhir/R4 (JSON only, application/fhir+json); see docs/fhir.md.

    GET  /fhir/R4/metadata                          CapabilityStatement
    GET  /fhir/R4/Patient/<uid>   ?identifier=      an Individual                  (registry.view)
    GET  /fhir/R4/Group/<uid>                       a Household and its members   (registry.view)
    GET  /fhir/R4/Coverage/<id>   ?beneficiary=     a Policy                       (coverage.verify)
    GET  /fhir/R4/InsurancePlan[/<id>]              a scheme's insurance benefit  (schemes.view)
    GET  /fhir/R4/Claim/<id>, ClaimResponse/<id>    a claim and its decision      (claims.view)
    POST /fhir/R4/Claim                             submit: returns the ClaimResponse (claims.submit)
    POST /fhir/R4/CoverageEligibilityRequest        returns a CoverageEligibilityResponse (coverage.verify)

Same bearer tokens as /api/v1 (a cookie never authenticates: the blueprint is CSRF-exempt), the same
`@requires` permissions narrowed per scheme, location and facility, and every error is an
OperationOutcome with its HTTP status. A Claim goes through `ClaimService.submit` - the same parse,
checks and adjudication as the form and the JSON API; the same claim identifier sent again by the
facility gives 200 with the existing claim's ClaimResponse (it exists once).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date

from flask import Blueprint, Response, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from ..claims.coverage import coverage
from ..claims.people import find_people
from ..claims.service import submit_and_commit
from ..fhir import claim as fclaim
from ..fhir.claim_response import claim_response
from ..fhir.common import SID_INSURANCE_NUMBER, sid_field
from ..fhir.coverage import coverage_resource
from ..fhir.eligibility import eligibility_response, request_date, request_patient
from ..fhir.group import group
from ..fhir.insurance_plan import insurance_plan, plan_id
from ..fhir.outcome import ISSUE_CODES, for_status, issue, operation_outcome
from ..fhir.patient import patient
from ..storage.models import Facility, Household, Icd10Code, Individual
from ..storage.workflow_models import ClaimRecord, Policy
from ..web.app import catalog, csrf, db_session
from ..web.permissions import can, requires, schemes_visible
from . import views as api
from .claims_views import facility_allowed, insurance_schemes, service

log = logging.getLogger("openscheme.fhir")
bp = Blueprint("fhir", __name__, url_prefix="/fhir/R4")
FHIR_JSON = "application/fhir+json"
NUMERIC_ID_RE = re.compile(r"^[0-9]{1,11}\Z")


class FhirError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, expression: str | None = None,
                 issues: list[dict] | None = None):
        super().__init__(message)
        self.status = status
        self.issues = issues or [issue(message, code or ISSUE_CODES.get(status, "processing"), expression=expression)]


def init_app(app) -> None:
    csrf.exempt(bp)
    app.register_blueprint(bp)


def fhir_response(resource: dict, status: int = 200, location: str | None = None) -> Response:
    response = Response(json.dumps(resource, ensure_ascii=False), status=status, mimetype=FHIR_JSON)
    response.headers["Content-Type"] = f"{FHIR_JSON}; charset=utf-8"
    if location:
        response.headers["Location"] = location
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="openscheme"'
    return response


def outcome_response(status: int, issues: list[dict]) -> Response:
    return fhir_response(operation_outcome(issues), status)


@bp.before_request
def _authenticate():
    """Bearer token or anonymous (then @requires answers 401); a bad token gets an OperationOutcome."""
    api.check_address()
    if not api.bearer_login():
        return fhir_response(for_status(401, "The token is unknown or has expired: ask for a new one at "
                                             "/api/v1/token.", "bad_token"), 401)
    return None


@bp.errorhandler(FhirError)
def _fhir_error(e: FhirError):
    return outcome_response(e.status, e.issues)


@bp.errorhandler(api.ApiError)
def _api_error(e: api.ApiError):
    return fhir_response(for_status(e.status, e.message, e.code), e.status)


@bp.errorhandler(HTTPException)
def _http_error(e: HTTPException):
    status = e.code or 500
    messages = {401: "Send a valid token in the header Authorization: Bearer <token>.",
                403: "Your role does not allow this here.", 404: "There is nothing at this address.",
                405: f"This address does not accept the method {request.method}."}
    response = fhir_response(for_status(status, messages.get(status) or e.description or e.name), status)
    if status == 405 and getattr(e, "valid_methods", None):
        response.headers["Allow"] = ", ".join(e.valid_methods)
    return response


@bp.errorhandler(Exception)
def _unexpected(e: Exception):
    if isinstance(e, HTTPException):
        return _http_error(e)
    log.exception("FHIR error on %s %s", request.method, request.path)
    try:
        db_session().rollback()
    except Exception:  # noqa: BLE001
        log.exception("rollback failed")
    return fhir_response(for_status(500, "The error was logged. Nothing you saved was lost."), 500)


for _status in ISSUE_CODES:
    bp.register_error_handler(_status, _http_error)


# ---- helpers ---------------------------------------------------------------------------------


def lang() -> str:
    return api.api_language()


def body(resource_type: str) -> dict:
    data = api.json_body()
    if not isinstance(data, dict) or data.get("resourceType") != resource_type:
        raise FhirError(400, f"Send a {resource_type} resource (JSON with \"resourceType\": \"{resource_type}\").",
                        "structure")
    return data


def bundle(resources: list[dict]) -> dict:
    base = request.url_root.rstrip("/") + bp.url_prefix
    out = {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
           "link": [{"relation": "self", "url": request.url}]}
    if resources:
        out["entry"] = [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
                         "search": {"mode": "match"}} for r in resources]
    return out


def visible_person(uid: str, permission: str) -> Individual:
    person = db_session().scalar(select(Individual).where(Individual.uid == uid)) if uid else None
    if person is None or catalog().current(person.scheme_code) is None:
        raise FhirError(404, f"There is no Patient {uid}.")
    if not can(current_user, permission, person.scheme_code, person.location_path):
        raise FhirError(403, "Your role does not allow this here.")
    return person


def unit_of_person(person: Individual):
    return db_session().get(Household, person.household_id) if person.household_id else person


def policies_of(unit) -> list[Policy]:
    kind = "household" if isinstance(unit, Household) else "individual"
    return list(db_session().scalars(select(Policy).where(Policy.unit_type == kind, Policy.unit_id == unit.id)
                                     .order_by(Policy.id.desc())))


def claim_parts(claim: ClaimRecord):
    s = db_session()
    scheme = catalog().by_version(claim.scheme_version_id) or catalog().current(claim.scheme_code)
    return scheme, s.get(Individual, claim.individual_id), s.get(Facility, claim.facility_id)


def numeric_id(rid: str | None) -> int | None:
    """The number of a logical id made of ASCII digits ("²" and "٣" are digits to str.isdigit, not to int or
    to the database), or None."""
    return int(rid) if rid and NUMERIC_ID_RE.match(rid) else None


def load_claim(rid: str, permission: str) -> ClaimRecord:
    number = numeric_id(rid)
    claim = db_session().get(ClaimRecord, number) if number is not None else None
    if claim is None:
        raise FhirError(404, f"There is no Claim {rid}.")
    if not can(current_user, permission, claim.scheme_code) or not facility_allowed(permission, claim.scheme_code,
                                                                                     claim.facility_id):
        raise FhirError(403, "Your role does not allow this here.")
    return claim


def labels_of(scheme, benefit_code: str) -> dict:
    benefit = scheme.benefit(benefit_code)
    if benefit is None:
        return {}
    return {s.code: s.label.get(lang(), scheme.default_language) for s in benefit.services + benefit.items}


def claim_json(claim: ClaimRecord) -> dict:
    scheme, person, facility = claim_parts(claim)
    icd = db_session().get(Icd10Code, claim.diagnosis)
    return fclaim.claim_resource(scheme, claim, person, facility, icd.title if icd else None,
                                 labels_of(scheme, claim.benefit_code), lang())


def response_json(claim: ClaimRecord) -> dict:
    scheme, person, facility = claim_parts(claim)
    return claim_response(scheme, claim, person, facility, lang())


# ---- reads -----------------------------------------------------------------------------------


@bp.get("/metadata")
@requires("schemes.view")
def metadata():
    read = [{"code": "read"}]
    resources = [{"type": "Patient", "interaction": read + [{"code": "search-type"}],
                  "searchParam": [{"name": "identifier", "type": "token"}]},
                 {"type": "Group", "interaction": read},
                 {"type": "Coverage", "interaction": read + [{"code": "search-type"}],
                  "searchParam": [{"name": "beneficiary", "type": "reference"}]},
                 {"type": "InsurancePlan", "interaction": read + [{"code": "search-type"}]},
                 {"type": "Claim", "interaction": read + [{"code": "create"}]},
                 {"type": "ClaimResponse", "interaction": read},
                 {"type": "CoverageEligibilityRequest", "interaction": [{"code": "create"}]}]
    return fhir_response({"resourceType": "CapabilityStatement", "status": "active", "date": date.today().isoformat(),
                          "kind": "instance", "fhirVersion": "4.0.1", "format": ["json"],
                          "software": {"name": "openscheme"},
                          "implementation": {"description": "openscheme FHIR R4 API",
                                             "url": request.url_root.rstrip("/") + bp.url_prefix},
                          "rest": [{"mode": "server", "resource": resources,
                                    "security": {"description": "Authorization: Bearer <token> from /api/v1/token"}}]})


@bp.get("/Patient/<rid>")
@requires("registry.view")
def patient_read(rid: str):
    person = visible_person(rid, "registry.view")
    return fhir_response(patient(catalog().current(person.scheme_code), person, lang()))


@bp.get("/Patient")
@requires("registry.view")
def patient_search():
    raw = (request.args.get("identifier") or "").strip()[:200]
    if not raw:
        raise FhirError(400, "Search by ?identifier=[system|]value.", "required")
    system, _bar, value = raw.rpartition("|")
    schemes = [s for s in (catalog().current(c) for c in schemes_visible(current_user, catalog().codes(),
                                                                         "registry.view")) if s is not None]
    found = []
    for scheme, person in find_people(db_session(), schemes, value):
        if system and system != SID_INSURANCE_NUMBER and not system.startswith(sid_field(scheme.code, "")):
            continue
        if can(current_user, "registry.view", scheme.code, person.location_path):
            found.append(patient(scheme, person, lang()))
    return fhir_response(bundle(found))


@bp.get("/Group/<rid>")
@requires("registry.view")
def group_read(rid: str):
    household = db_session().scalar(select(Household).where(Household.uid == rid))
    if household is None or catalog().current(household.scheme_code) is None:
        raise FhirError(404, f"There is no Group {rid}.")
    if not can(current_user, "registry.view", household.scheme_code, household.location_path):
        raise FhirError(403, "Your role does not allow this here.")
    return fhir_response(group(catalog().current(household.scheme_code), household, lang()))


@bp.get("/Coverage/<rid>")
@requires("coverage.verify")
def coverage_read(rid: str):
    s = db_session()
    number = numeric_id(rid)
    policy = s.get(Policy, number) if number is not None else None
    scheme = catalog().current(policy.scheme_code) if policy else None
    if policy is None or scheme is None:
        raise FhirError(404, f"There is no Coverage {rid}.")
    unit = s.get(Household if policy.unit_type == "household" else Individual, policy.unit_id)
    if unit is None or not can(current_user, "coverage.verify", policy.scheme_code, unit.location_path):
        raise FhirError(403, "Your role does not allow this here.")
    return fhir_response(coverage_resource(scheme, policy, unit, None, lang()))


@bp.get("/Coverage")
@requires("coverage.verify")
def coverage_search():
    raw = (request.args.get("beneficiary") or request.args.get("patient") or "").strip()[:200]
    if not raw:
        raise FhirError(400, "Search by ?beneficiary=Patient/<id>.", "required")
    person = visible_person(raw.rsplit("/", 1)[-1], "coverage.verify")
    scheme = catalog().current(person.scheme_code)
    unit = unit_of_person(person)
    return fhir_response(bundle([coverage_resource(scheme, p, unit, person, lang()) for p in policies_of(unit)
                                 if p.scheme_code == scheme.code]))


def plans() -> list[tuple]:
    out = []
    for code in schemes_visible(current_user, catalog().codes()):
        scheme = catalog().current(code)
        for b in scheme.benefits if scheme else ():
            if b.kind == "insurance":
                out.append((scheme, b))
    return out


@bp.get("/InsurancePlan/<rid>")
@requires("schemes.view")
def insurance_plan_read(rid: str):
    for scheme, benefit in plans():
        if plan_id(scheme, benefit) == rid:
            return fhir_response(insurance_plan(scheme, benefit, lang()))
    raise FhirError(404, f"There is no InsurancePlan {rid}.")


@bp.get("/InsurancePlan")
@requires("schemes.view")
def insurance_plan_search():
    return fhir_response(bundle([insurance_plan(s, b, lang()) for s, b in plans()]))


@bp.get("/Claim/<rid>")
@requires("claims.view")
def claim_read(rid: str):
    return fhir_response(claim_json(load_claim(rid, "claims.view")))


@bp.get("/ClaimResponse/<rid>")
@requires("claims.view")
def claim_response_read(rid: str):
    return fhir_response(response_json(load_claim(rid, "claims.view")))


# ---- submissions -----------------------------------------------------------------------------


def insured_person(number: str | None, permission: str, expression: str):
    if not number:
        raise FhirError(422, "Name the patient: Patient/<insurance number> or an identifier.", "required", expression)
    found = [(sc, p) for sc, p in find_people(db_session(), insurance_schemes(permission), number)
             if can(current_user, permission, sc.code, p.location_path)]
    if not found:
        raise FhirError(422, f"No insured person has the number {number}.", "not-found", expression)
    if len({p.id for _sc, p in found}) > 1:
        raise FhirError(422, f"Several people have the number {number}: send the insurance number.", "multiple-matches",
                        expression)
    return found[0]


@bp.post("/Claim")
@requires("claims.submit")
def claim_submit():
    resource = body("Claim")
    scheme, person = insured_person(fclaim.patient_number(resource), "claims.submit", "Claim.patient")
    data = fclaim.to_service(resource)
    data["insuree"] = person.uid
    policy_ref = fclaim.coverage_id(resource)
    if numeric_id(policy_ref) is not None:
        policy = db_session().get(Policy, numeric_id(policy_ref))
        if policy is not None and policy.scheme_code == scheme.code:
            data["benefit"] = policy.benefit_code
    from ..web.insurance import allowed_facility_ids

    result = submit_and_commit(service(), scheme.code, data,
                               allowed_facilities=allowed_facility_ids("claims.submit", scheme.code))
    if result.duplicate_of is not None:
        existing = db_session().get(ClaimRecord, result.duplicate_of)
        if not facility_allowed("claims.view", existing.scheme_code, existing.facility_id) and \
                not facility_allowed("claims.submit", existing.scheme_code, existing.facility_id):
            raise FhirError(409, result.errors[0].message, "duplicate")
        return fhir_response(response_json(existing), 200,
                             url_for("fhir.claim_read", rid=existing.id))
    if not result.ok:
        return outcome_response(422, [issue(e.message, "required" if e.message and "required" in e.message.lower()
                                            else "invalid", expression=fclaim.fhir_path(e.path), detail_code=e.code)
                                      for e in result.errors])
    return fhir_response(response_json(result.claim), 201, url_for("fhir.claim_read", rid=result.claim.id))


@bp.post("/CoverageEligibilityRequest")
@requires("coverage.verify")
def eligibility():
    resource = body("CoverageEligibilityRequest")
    scheme, person = insured_person(request_patient(resource), "coverage.verify", "CoverageEligibilityRequest.patient")
    try:
        on = request_date(resource) or date.today()
    except ValueError:
        raise FhirError(422, "servicedDate is not a date (YYYY-MM-DD).", "invalid",
                        "CoverageEligibilityRequest.servicedDate") from None
    s = db_session()
    covers = coverage(s, scheme, person, on, lang())
    from ..registry import audit

    audit.record(s, user=current_user, action="verify", entity="individual", entity_id=person.id,
                 detail=f"fhir {person.uid} -> {sum(c.covered for c in covers)} covered",
                 ip=request.remote_addr or "")
    s.commit()
    return fhir_response(eligibility_response(scheme, person, covers, on, resource, lang()))


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
@requires("schemes.view")
def unknown(rest: str):
    raise FhirError(404, f"This server has no {request.method} /fhir/R4/{rest}.", "not-supported")

