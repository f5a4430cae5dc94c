"""Group: a Household with its members (each a Patient)."""

from __future__ import annotations

from ..claims.people import display_name
from ..definitions.model import Scheme
from ..storage.models import Household
from .common import ref
from .patient import identifiers, insurance_identifier


def group(scheme: Scheme, household: Household, lang: str = "en") -> dict:
    members = list(household.members)
    head = members[0] if members else None
    out = {"resourceType": "Group", "id": household.uid,
           "identifier": [insurance_identifier(household.uid)] + identifiers(scheme, household.data or {},
                                                                             scheme.fields, lang),
           "active": bool(household.active), "type": "person", "actual": True,
           "name": f"{scheme.title.get(lang, scheme.default_language)}: household of "
                   f"{display_name(head) if head else household.uid}",
           "quantity": sum(1 for m in members if m.active)}
    if members:
        out["member"] = [{"entity": ref("Patient", m.uid, display_name(m)), "inactive": not m.active}
                         for m in members]
    return out
