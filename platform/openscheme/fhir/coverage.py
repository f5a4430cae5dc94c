"""Coverage: a Policy (a unit's cover under an insurance benefit).

A household's policy covers every member: `beneficiary` is the member asked about (the head on a
plain read), `subscriber` the head, `subscriberId` the household's insurance number, `dependent` the
member's position. class: the benefit (plan) and the scheme (group)."""

from __future__ import annotations

from ..claims.people import display_name
from ..definitions.model import Scheme
from ..storage.models import Household, Individual
from ..storage.workflow_models import Policy
from .common import COVERAGE_CLASS, concept, payor, period, ref

STATUS = {"active": "active", "suspended": "active", "pending": "draft", "expired": "cancelled",
          "cancelled": "cancelled", "rejected": "cancelled"}


def coverage_resource(scheme: Scheme, policy: Policy, unit, beneficiary: Individual | None, lang: str = "en") -> dict:
    benefit = scheme.benefit(policy.benefit_code)
    label = benefit.label.get(lang, scheme.default_language) if benefit else policy.benefit_code
    head = unit.members[0] if isinstance(unit, Household) and unit.members else unit
    person = beneficiary or head
    out = {"resourceType": "Coverage", "id": str(policy.id), "status": STATUS.get(policy.status, "active")}
    if isinstance(unit, Household):
        out["subscriberId"] = unit.uid
        if isinstance(head, Individual):
            out["subscriber"] = ref("Patient", head.uid, display_name(head))
        if isinstance(person, Individual):
            out["dependent"] = str(person.position + 1)
    out["beneficiary"] = ref("Patient", person.uid, display_name(person)) if isinstance(person, Individual) else \
        {"display": unit.uid}
    if isinstance(person, Individual) and isinstance(head, Individual):
        relation = "self" if person.id == head.id else "other"
        out["relationship"] = concept("http://terminology.hl7.org/CodeSystem/subscriber-relationship", relation)
    p = period(policy.start_date, policy.expiry_date)
    if p:
        out["period"] = p
    out["payor"] = [payor(scheme, lang)]
    out["class"] = [{"type": concept(COVERAGE_CLASS, "plan"), "value": policy.benefit_code, "name": label},
                    {"type": concept(COVERAGE_CLASS, "group"), "value": scheme.code,
                     "name": scheme.title.get(lang, scheme.default_language)}]
    return out
