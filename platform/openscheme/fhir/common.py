"""Shared FHIR bits: identifier systems, references, money, codings."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

BASE = "https://openscheme.org/fhir"
SID_INSURANCE_NUMBER = f"{BASE}/sid/insurance-number"  # an Individual's or a Household's uid (on the card)
SID_SCHEME = f"{BASE}/sid/scheme"  # a scheme code (the payor)
SID_FACILITY = f"{BASE}/sid/facility"  # a facility code
SID_SERVICE = f"{BASE}/CodeSystem/service"  # a benefit's service or item code (the catalogue)
SID_CATEGORY = f"{BASE}/CodeSystem/service-category"
SID_REASON = f"{BASE}/CodeSystem/adjudication-reason"  # R01-R12
SID_CLAIM_STATUS = f"{BASE}/CodeSystem/claim-status"
SID_CARE_TYPE = f"{BASE}/CodeSystem/care-type"  # out_patient | in_patient
ICD10 = "http://hl7.org/fhir/sid/icd-10"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
BENEFIT_TYPE = "http://terminology.hl7.org/CodeSystem/benefit-type"

ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def sid_field(scheme_code: str, field: str) -> str:
    """The identifier system of a scheme's identity-number field (national ID, membership number)."""
    return f"{BASE}/sid/{scheme_code}/{field}"


def sid_claim(facility_code: str) -> str:
    """Claim codes are unique per facility."""
    return f"{BASE}/sid/claim/{facility_code}"


def coding(system: str, code: str, display: str | None = None) -> dict:
    out = {"system": system, "code": str(code)}
    if display:
        out["display"] = display
    return out


def concept(system: str, code: str, display: str | None = None, text: str | None = None) -> dict:
    out = {"coding": [coding(system, code, display)]}
    if text:
        out["text"] = text
    return out


def ref(resource_type: str, rid, display: str | None = None) -> dict:
    out = {"reference": f"{resource_type}/{rid}"}
    if display:
        out["display"] = display
    return out


def payor(scheme, lang: str = "en") -> dict:
    """The scheme's operator (or the scheme itself) as a logical Organization reference."""
    name = scheme.operator.get(lang, scheme.default_language) if scheme.operator else ""
    return {"type": "Organization", "identifier": {"system": SID_SCHEME, "value": scheme.code},
            "display": name or scheme.title.get(lang, scheme.default_language)}


def facility_ref(facility) -> dict:
    return {"type": "Organization", "identifier": {"system": SID_FACILITY, "value": facility.code},
            "display": facility.name}


def number(value) -> float | int:
    """A JSON number: Decimal -> int when whole, else float (FHIR decimals)."""
    d = Decimal(value)
    return int(d) if d == d.to_integral_value() else float(d)


def money(value, currency: str) -> dict:
    return {"value": number(value), "currency": currency}


def day(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def period(start, end) -> dict:
    out = {}
    if start:
        out["start"] = day(start)
    if end:
        out["end"] = day(end)
    return out


def fhir_id(text: str) -> str:
    """A FHIR id from a code (underscores are not allowed in ids)."""
    return re.sub(r"[^A-Za-z0-9\-.]", "-", text)[:64]


def reference_id(value, resource_type: str) -> str | None:
    """'Patient/P123' (or a full URL ending so) -> 'P123'; None when it names another type."""
    if not isinstance(value, str) or not value.strip():
        return None
    parts = value.strip().rstrip("/").split("/")
    if len(parts) >= 2:
        if parts[-2] != resource_type:
            return None
        return parts[-1]
    return None
