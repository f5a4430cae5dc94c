"""OperationOutcome: every error of the FHIR API (with the HTTP status)."""

from __future__ import annotations

from .common import BASE

ISSUE_CODES = {400: "structure", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported",
               406: "not-supported", 409: "conflict", 412: "conflict", 413: "too-costly", 415: "not-supported",
               422: "processing", 429: "throttled", 500: "exception"}


def issue(message: str, code: str = "processing", severity: str = "error", expression: str | None = None,
          detail_code: str | None = None) -> dict:
    out = {"severity": severity, "code": code, "diagnostics": message}
    if detail_code:
        out["details"] = {"coding": [{"system": f"{BASE}/CodeSystem/error", "code": detail_code}], "text": message}
    if expression:
        out["expression"] = [expression]
    return out


def operation_outcome(issues: list[dict]) -> dict:
    return {"resourceType": "OperationOutcome", "issue": issues}


def for_status(status: int, message: str, detail_code: str | None = None) -> dict:
    return operation_outcome([issue(message, ISSUE_CODES.get(status, "processing"), detail_code=detail_code)])
