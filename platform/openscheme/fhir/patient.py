"""Patient: an Individual (a household member, or the unit of an individual scheme).

identifier: the insurance number (the person's uid, on the card) and every identity number the
scheme declares (`type: national_id` fields); name, gender (sex M/F), birthDate (dob)."""

from __future__ import annotations

from ..claims.people import display_name
from ..definitions.model import Scheme
from ..storage.models import Individual
from .common import SID_INSURANCE_NUMBER, V2_0203, concept, ref, sid_field

GENDERS = {"M": "male", "F": "female", "O": "other", "male": "male", "female": "female", "other": "other"}
BIRTH_FIELDS = ("dob", "date_of_birth", "birth_date", "birthdate")


def person_fields(scheme: Scheme):
    return scheme.member_fields if scheme.is_household else scheme.fields


def identifiers(scheme: Scheme, data: dict, fields, lang: str) -> list[dict]:
    out = []
    for f in fields:
        value = data.get(f.name)
        if f.type == "national_id" and value not in (None, ""):
            out.append({"use": "official", "type": concept(V2_0203, "NI", "National unique individual identifier",
                                                           f.label.get(lang, scheme.default_language)),
                        "system": sid_field(scheme.code, f.name), "value": str(value)})
    return out


def insurance_identifier(uid: str) -> dict:
    return {"use": "official", "type": concept(V2_0203, "MB", "Member Number", "Insurance number"),
            "system": SID_INSURANCE_NUMBER, "value": uid}


def birth_date(data: dict) -> str | None:
    for name in BIRTH_FIELDS:
        value = data.get(name)
        if isinstance(value, str) and len(value) >= 10:
            return value[:10]
    return None


def patient(scheme: Scheme, person: Individual, lang: str = "en") -> dict:
    data = person.data or {}
    out = {"resourceType": "Patient", "id": person.uid,
           "identifier": [insurance_identifier(person.uid)] + identifiers(scheme, data, person_fields(scheme), lang),
           "active": bool(person.active)}
    name = {"use": "official", "text": display_name(person)}
    if data.get("last_name"):
        name["family"] = str(data["last_name"])
    given = [str(data[k]) for k in ("first_name", "middle_name") if data.get(k)]
    if given:
        name["given"] = given
    out["name"] = [name]
    out["gender"] = GENDERS.get(str(data.get("sex") or ""), "unknown")
    born = birth_date(data)
    if born:
        out["birthDate"] = born
    return out


def patient_ref(person: Individual) -> dict:
    return ref("Patient", person.uid, display_name(person))
