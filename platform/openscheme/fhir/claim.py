"""Claim: a ClaimRecord (items = its lines, diagnosis = ICD-10, provider = the facility), and the
reverse: a submitted FHIR Claim turned into the dict `ClaimService.submit` parses (the same checks
and adjudication as the web form and the JSON API).

    identifier[0].value            -> code (unique per facility)
    provider (identifier or Organization/<facility code>) -> facility
    patient (Patient/<insurance number> or identifier)  -> insuree
    billablePeriod.start/end (else item[0].servicedDate) -> date_from/date_to
    type institutional -> in_patient, else out_patient (or subType with the care-type system)
    diagnosis[0] ICD-10 code        -> diagnosis
    item[].productOrService code, quantity, unitPrice -> lines (code, quantity, price)
    insurance[0].coverage Coverage/<policy id> -> benefit (the policy's)
"""

from __future__ import annotations

from ..storage.workflow_models import ClaimRecord
from .common import (
    CLAIM_TYPE,
    ICD10,
    PROCESS_PRIORITY,
    SID_CARE_TYPE,
    SID_SERVICE,
    coding,
    concept,
    day,
    facility_ref,
    money,
    number,
    payor,
    reference_id,
    sid_claim,
)
from .patient import patient_ref

CARE_TO_TYPE = {"in_patient": "institutional", "out_patient": "professional"}
# the service's error paths -> FHIRPath expressions in the submitted Claim
PATHS = {"code": "Claim.identifier", "facility": "Claim.provider", "insuree": "Claim.patient",
         "date_from": "Claim.billablePeriod.start", "date_to": "Claim.billablePeriod.end", "care_type": "Claim.type",
         "diagnosis": "Claim.diagnosis", "lines": "Claim.item", "benefit": "Claim.insurance"}


def fhir_path(path: str) -> str:
    if not path:
        return "Claim"
    head, _, rest = path.partition(".")
    if head.startswith("lines["):
        index = head[len("lines["):-1]
        sub = {"code": "productOrService", "quantity": "quantity", "price": "unitPrice"}.get(rest, rest)
        return f"Claim.item[{index}]" + (f".{sub}" if sub else "")
    return PATHS.get(head, f"Claim.{head}")


def claim_identifier(claim: ClaimRecord, facility) -> dict:
    return {"system": sid_claim(facility.code), "value": claim.code}


def claim_resource(scheme, claim: ClaimRecord, person, facility, icd_title: str | None, labels: dict,
                   lang: str = "en") -> dict:
    cur = scheme.currency
    out = {"resourceType": "Claim", "id": str(claim.id), "identifier": [claim_identifier(claim, facility)],
           "status": "active",
           "type": concept(CLAIM_TYPE, CARE_TO_TYPE.get(claim.care_type, "professional")),
           "subType": concept(SID_CARE_TYPE, claim.care_type), "use": "claim", "patient": patient_ref(person),
           "billablePeriod": {"start": claim.date_from.isoformat(),
                              "end": (claim.date_to or claim.date_from).isoformat()},
           "created": day(claim.created_at) or claim.date_from.isoformat(),
           "insurer": payor(scheme, lang), "provider": facility_ref(facility),
           "priority": concept(PROCESS_PRIORITY, "normal"),
           "diagnosis": [{"sequence": 1, "diagnosisCodeableConcept": {
               "coding": [coding(ICD10, claim.diagnosis, icd_title)]}}],
           "insurance": [{"sequence": 1, "focal": True, "coverage": (
               {"reference": f"Coverage/{claim.policy_id}"} if claim.policy_id else
               {"display": f"{scheme.code}/{claim.benefit_code}"})}]}
    items = []
    for line in claim.lines:
        price = line.price_asked if line.price_asked is not None else line.price
        item = {"sequence": line.position + 1, "diagnosisSequence": [1],
                "productOrService": concept(SID_SERVICE, line.code, labels.get(line.code)),
                "servicedDate": claim.date_from.isoformat(), "quantity": {"value": number(line.quantity)},
                "unitPrice": money(price or 0, cur), "net": money((price or 0) * line.quantity, cur)}
        items.append(item)
    if items:
        out["item"] = items
    out["total"] = money(claim.asked, cur)
    return out


# ---- a submitted Claim -> the service's dict ---------------------------------------------------


def _first(values):
    return values[0] if isinstance(values, list) and values else None


def _code(concept_: dict | None, system: str | None = None) -> str | None:
    if not isinstance(concept_, dict):
        return None
    codings = concept_.get("coding")
    codings = [c for c in codings if isinstance(c, dict)] if isinstance(codings, list) else []
    if system:
        preferred = [c for c in codings if c.get("system") == system]
        codings = preferred or codings
    return str(codings[0].get("code") or "") if codings else None


def _ref_value(reference: dict | None, resource_type: str) -> str | None:
    if not isinstance(reference, dict):
        return None
    found = reference_id(reference.get("reference"), resource_type)
    if found:
        return found
    ident = reference.get("identifier")
    if isinstance(ident, dict) and ident.get("value"):
        return str(ident["value"])
    return None


def patient_number(resource: dict) -> str | None:
    return _ref_value(resource.get("patient"), "Patient")


def coverage_id(resource: dict) -> str | None:
    insurance = _first(resource.get("insurance"))
    return _ref_value(insurance.get("coverage"), "Coverage") if isinstance(insurance, dict) else None


def to_service(resource: dict) -> dict:
    """The FHIR Claim as `ClaimService.parse` takes it (checked there, with every error's path)."""
    ident = _first(resource.get("identifier"))
    period = resource.get("billablePeriod") if isinstance(resource.get("billablePeriod"), dict) else {}
    items = resource.get("item") if isinstance(resource.get("item"), list) else None
    first_item = _first(items) if items else None
    start = period.get("start") or (first_item.get("servicedDate") if isinstance(first_item, dict) else None)
    care = _code(resource.get("subType"), SID_CARE_TYPE)
    if care not in ("out_patient", "in_patient"):
        care = "in_patient" if _code(resource.get("type"), CLAIM_TYPE) == "institutional" else "out_patient"
    diagnosis = _first(resource.get("diagnosis"))
    lines = None
    if items is not None:
        lines = []
        for item in items:
            if not isinstance(item, dict):
                lines.append(item)
                continue
            quantity = item.get("quantity")
            price = item.get("unitPrice")
            lines.append({"code": _code(item.get("productOrService"), SID_SERVICE) or "",
                          "quantity": quantity.get("value", 1) if isinstance(quantity, dict) else 1,
                          "price": price.get("value") if isinstance(price, dict) else None})
    return {"code": str(ident.get("value") or "") if isinstance(ident, dict) else "",
            "facility": _ref_value(resource.get("provider"), "Organization") or "",
            "insuree": patient_number(resource) or "",
            "date_from": str(start)[:10] if start else "",
            "date_to": str(period["end"])[:10] if period.get("end") else "",
            "care_type": care,
            "diagnosis": _code(diagnosis.get("diagnosisCodeableConcept"), ICD10) if isinstance(diagnosis, dict) else "",
            "lines": lines}
