"""CoverageEligibilityRequest -> CoverageEligibilityResponse, from `claims.coverage.coverage()`:
per insurance benefit, whether the person is covered on the date (`inforce`), the policy's period,
and items: each service or item (excluded when age, sex or a reached limit rules it out; what is
left as text), each category's visits left, each money ceiling left."""

from __future__ import annotations

from datetime import date

from ..claims.coverage import BenefitCover
from ..claims.messages import msg
from .common import (
    BENEFIT_TYPE,
    ID_RE,
    SID_CATEGORY,
    SID_SERVICE,
    concept,
    money,
    payor,
    period,
    reference_id,
)
from .patient import patient_ref

PURPOSES = ("auth-requirements", "benefits", "discovery", "validation")


def request_patient(resource: dict) -> str | None:
    p = resource.get("patient")
    if not isinstance(p, dict):
        return None
    found = reference_id(p.get("reference"), "Patient")
    if found:
        return found
    ident = p.get("identifier")
    return str(ident["value"]) if isinstance(ident, dict) and ident.get("value") else None


def request_date(resource: dict) -> date | None:
    """servicedDate (or servicedPeriod.start); today when absent. Raises ValueError on a bad date."""
    raw = resource.get("servicedDate")
    if raw is None and isinstance(resource.get("servicedPeriod"), dict):
        raw = resource["servicedPeriod"].get("start")
    return date.fromisoformat(str(raw)[:10]) if raw else None


def request_purpose(resource: dict) -> list[str]:
    purposes = [p for p in resource.get("purpose") or [] if p in PURPOSES] if isinstance(resource.get("purpose"), list) else []
    return purposes or ["validation", "benefits"]


def _insurance(scheme, cover: BenefitCover, lang: str = "en") -> dict:
    cur = scheme.currency
    out = {"coverage": ({"reference": f"Coverage/{cover.policy_id}", "display": cover.message} if cover.policy_id
                        else {"display": f"{scheme.code}/{cover.code}: {cover.message}"}),
           "inforce": cover.covered}
    p = period(cover.start, cover.covered_until or cover.expiry)
    if p:
        out["benefitPeriod"] = p
    items = []
    for s in cover.services:
        item = {"productOrService": concept(SID_SERVICE, s.code, s.label), "name": s.label,
                "excluded": not s.allowed}
        text = [s.why_not] if s.why_not else []
        if s.waiting_days_left:
            text.append(msg("fhir_waiting", lang, days=s.waiting_days_left))
        text += s.left
        if text:
            item["description"] = "; ".join(text)
        items.append(item)
    for category, label, left, limit in cover.categories:
        items.append({"category": concept(SID_CATEGORY, category), "name": msg("fhir_category", lang, category=label),
                      "benefit": [{"type": concept(BENEFIT_TYPE, "visit", "Visit"),
                                   "allowedUnsignedInt": int(limit), "usedUnsignedInt": int(limit - left)}]})
    for _kind, label, left, limit in cover.ceilings:
        items.append({"category": {"text": "ceiling"}, "name": msg("fhir_ceiling", lang, ceiling=label),
                      "benefit": [{"type": concept(BENEFIT_TYPE, "benefit", "Benefit"),
                                   "allowedMoney": money(limit, cur), "usedMoney": money(limit - left, cur)}]})
    if items:
        out["item"] = items
    return out


def eligibility_response(scheme, person, covers: list[BenefitCover], on: date, request: dict,
                         lang: str = "en") -> dict:
    req_ref = {"display": "CoverageEligibilityRequest (not stored)"}
    if isinstance(request.get("id"), str) and ID_RE.match(request["id"]):  # a FHIR id, or not echoed
        req_ref = {"reference": f"CoverageEligibilityRequest/{request['id']}"}
    ident = request.get("identifier")
    first = ident[0] if isinstance(ident, list) and ident and isinstance(ident[0], dict) else {}
    if isinstance(first.get("value"), str) and first["value"]:
        # echoed back: strings only (a number or an object is not an identifier's system or value)
        req_ref["identifier"] = {k: first[k] for k in ("system", "value") if isinstance(first.get(k), str) and first[k]}
    out = {"resourceType": "CoverageEligibilityResponse", "status": "active", "purpose": request_purpose(request),
           "patient": patient_ref(person), "servicedDate": on.isoformat(), "created": date.today().isoformat(),
           "request": req_ref, "outcome": "complete", "insurer": payor(scheme, lang),
           "disposition": "; ".join(f"{c.label}: {c.message}" for c in covers) or "no insurance benefit"}
    if covers:
        out["insurance"] = [_insurance(scheme, c, lang) for c in covers]
    return out


__all__ = ["eligibility_response", "request_date", "request_patient", "request_purpose"]
