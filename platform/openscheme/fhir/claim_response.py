"""ClaimResponse: the decision on a ClaimRecord, per item: submitted (quantity x asked price),
eligible (valuated), copay, benefit (payable) and the reasons R01-R13 as adjudication reasons."""

from __future__ import annotations

from ..storage.workflow_models import ClaimRecord
from .claim import CARE_TO_TYPE, claim_identifier
from .common import (
    ADJUDICATION,
    CLAIM_TYPE,
    SID_CLAIM_STATUS,
    SID_REASON,
    concept,
    day,
    facility_ref,
    money,
    payor,
    ref,
)
from .patient import patient_ref

DECIDED = {"valuated", "batched", "paid"}


def outcome_of(status: str) -> str:
    if status in DECIDED:
        return "complete"
    if status == "rejected":
        return "error"
    if status == "review":
        return "partial"
    return "queued"


def _adjudication(category: str, amount=None, currency: str = "", reason: tuple | None = None, value=None) -> dict:
    out = {"category": concept(ADJUDICATION, category)}
    if reason:
        out["reason"] = concept(SID_REASON, reason[0], reason[1])
    if amount is not None:
        out["amount"] = money(amount, currency)
    if value is not None:
        out["value"] = value
    return out


def claim_response(scheme, claim: ClaimRecord, person, facility, lang: str = "en") -> dict:
    cur = scheme.currency
    out = {"resourceType": "ClaimResponse", "id": str(claim.id), "identifier": [claim_identifier(claim, facility)],
           "status": "active", "type": concept(CLAIM_TYPE, CARE_TO_TYPE.get(claim.care_type, "professional")),
           "use": "claim", "patient": patient_ref(person),
           "created": day(claim.updated_at or claim.created_at) or claim.date_from.isoformat(),
           "insurer": payor(scheme, lang), "requestor": facility_ref(facility),
           "request": ref("Claim", claim.id), "outcome": outcome_of(claim.status),
           "disposition": f"claim {claim.status}" + (" (selected for review)" if claim.selected_for_review else ""),
           "subType": concept(SID_CLAIM_STATUS, claim.status)}
    items = []
    for line in claim.lines:
        asked_price = line.price_asked if line.price_asked is not None else line.price
        reasons = [tuple(r[:2]) for r in (line.reasons or []) if r]
        adjudication = [
            _adjudication("submitted", (asked_price or 0) * line.quantity, cur),
            _adjudication("eligible", line.valuated, cur, value=float(line.quantity_approved)),
            _adjudication("copay", line.co_payment, cur),
            _adjudication("benefit", line.payable, cur, reasons[0] if reasons else None),
        ]
        # further reasons (a line may have several): one adjudication each, on the benefit category
        adjudication += [_adjudication("benefit", reason=r) for r in reasons[1:]]
        items.append({"itemSequence": line.position + 1, "adjudication": adjudication})
    if items:
        out["item"] = items
    out["total"] = [{"category": concept(ADJUDICATION, "submitted"), "amount": money(claim.asked, cur)},
                    {"category": concept(ADJUDICATION, "benefit"), "amount": money(claim.payable, cur)}]
    return out
