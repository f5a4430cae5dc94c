"""The FHIR R4 API: every resource it produces parses with fhir.resources (R4B models); a FHIR client
checks coverage and submits a claim for the tz-chf and np-hib examples (the same service as the form
and the JSON API: one claim per identifier), reads Patient, Group, Coverage, InsurancePlan, Claim and
ClaimResponse; errors are OperationOutcomes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from conftest import make_user
from insurance_helpers import TODAY, insured, person_uid, seed_insurance

fhir = pytest.importorskip("fhir.resources.R4B")
from fhir.resources.R4B import get_fhir_model_class  # noqa: E402

FHIR = "/fhir/R4"
CASES = [("tz-chf", "DSP_MLALI", (("OPD01", 1), ("MED01", 30)), "tz-chf.chf-cover"),
         ("np-hib", "KTM_PHCC", (("OPD", 1), ("MED-SAL", 2)), "np-hib.hib-cover")]


def valid(response, resource_type: str | None = None) -> dict:
    """The body is FHIR JSON that its model class accepts (and of the expected type)."""
    assert response.mimetype == "application/fhir+json", response.data[:300]
    body = response.get_json(force=True)
    model = get_fhir_model_class(body["resourceType"])
    model.model_validate(body)  # raises on any invalid element
    if body["resourceType"] == "Bundle":
        for entry in body.get("entry", []):
            get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    if resource_type:
        assert body["resourceType"] == resource_type, body
    return body


def bearer(app, client, role: str) -> dict:
    make_user(app, role, [(role, None, None)])
    r = client.post("/api/v1/token", json={"username": role, "password": "secret-pass"})
    assert r.status_code == 201, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


@pytest.fixture
def world(app):
    seed_insurance(app)
    chf, chf_policy = insured(app, "tz-chf")
    hib, hib_policy = insured(app, "np-hib")
    return {"tz-chf": {"unit": chf, "person": person_uid(app, chf, 1), "policy": chf_policy},
            "np-hib": {"unit": hib, "person": person_uid(app, hib, 0), "policy": hib_policy}}


def fhir_claim(patient: str, facility: str, lines, code="F-1", policy: int | None = None) -> dict:
    served = (TODAY - timedelta(days=1)).isoformat()
    return {"resourceType": "Claim", "status": "active", "use": "claim",
            "identifier": [{"system": f"https://openscheme.org/fhir/sid/claim/{facility}", "value": code}],
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
            "patient": {"reference": f"Patient/{patient}"}, "created": TODAY.isoformat(),
            "provider": {"identifier": {"system": "https://openscheme.org/fhir/sid/facility", "value": facility}},
            "priority": {"coding": [{"code": "normal"}]}, "billablePeriod": {"start": served, "end": served},
            "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": f"Coverage/{policy}"}}],
            "diagnosis": [{"sequence": 1, "diagnosisCodeableConcept": {
                "coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "B54"}]}}],
            "item": [{"sequence": i + 1, "productOrService": {"coding": [{"code": c}]}, "quantity": {"value": q}}
                     for i, (c, q) in enumerate(lines)]}


def eligibility_request(patient: str) -> dict:
    return {"resourceType": "CoverageEligibilityRequest", "id": "req-1", "status": "active",
            "purpose": ["validation", "benefits"], "patient": {"reference": f"Patient/{patient}"},
            "created": TODAY.isoformat(), "servicedDate": TODAY.isoformat(),
            "insurer": {"display": "the scheme"}}


@pytest.mark.parametrize("scheme,facility,lines,plan", CASES)
def test_a_fhir_client_checks_coverage_and_submits_a_claim(app, client, world, scheme, facility, lines, plan):
    h = bearer(app, client, "facility_clerk")
    who = world[scheme]
    # the client sends the fhir+json content type
    r = client.post(f"{FHIR}/CoverageEligibilityRequest", headers=h | {"Content-Type": "application/fhir+json"},
                    data=json.dumps(eligibility_request(who["person"])))
    assert r.status_code == 200, r.get_json(force=True)
    response = valid(r, "CoverageEligibilityResponse")
    insurance = response["insurance"][0]
    assert insurance["inforce"] is True and insurance["coverage"]["reference"] == f"Coverage/{who['policy']}"
    assert response["request"]["reference"] == "CoverageEligibilityRequest/req-1"
    ceilings = [i for i in insurance["item"] if i.get("category", {}).get("text") == "ceiling"]
    assert ceilings and ceilings[0]["benefit"][0]["allowedMoney"]["value"] > 0

    r = client.post(f"{FHIR}/Claim", json=fhir_claim(who["person"], facility, lines, policy=who["policy"]), headers=h)
    assert r.status_code == 201, r.get_json(force=True)
    cr = valid(r, "ClaimResponse")
    assert r.headers["Location"].endswith(f"/fhir/R4/Claim/{cr['id']}")
    first, second = cr["item"]
    assert {a["category"]["coding"][0]["code"] for a in first["adjudication"]} >= {"submitted", "eligible", "benefit"}
    reasons = [a["reason"]["coding"][0]["code"] for a in second["adjudication"] if "reason" in a]
    assert reasons and reasons[0] == "R07"  # the per-visit limit, as in the JSON API

    from openscheme.storage.workflow_models import ClaimRecord
    state = app.extensions["openscheme"]
    with state.db.session_factory() as s:
        rows = s.query(ClaimRecord).filter(ClaimRecord.code == "F-1").all()
        assert len(rows) == 1 and rows[0].id == int(cr["id"]) and rows[0].scheme_code == scheme
        benefit_total = next(t for t in cr["total"] if t["category"]["coding"][0]["code"] == "benefit")
        assert benefit_total["amount"]["value"] == float(rows[0].payable)

    again = client.post(f"{FHIR}/Claim", json=fhir_claim(who["person"], facility, lines, policy=who["policy"]),
                        headers=h)
    assert again.status_code == 200 and valid(again, "ClaimResponse")["id"] == cr["id"]
    with state.db.session_factory() as s:
        assert s.query(ClaimRecord).filter(ClaimRecord.code == "F-1").count() == 1

    claim = valid(client.get(f"{FHIR}/Claim/{cr['id']}", headers=h), "Claim")
    assert claim["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]["code"] == "B54"
    assert claim["provider"]["identifier"]["value"] == facility
    assert [i["productOrService"]["coding"][0]["code"] for i in claim["item"]] == [c for c, _ in lines]
    assert valid(client.get(f"{FHIR}/ClaimResponse/{cr['id']}", headers=h), "ClaimResponse")["id"] == cr["id"]

    plan = valid(client.get(f"{FHIR}/InsurancePlan/{plan}", headers=h), "InsurancePlan")
    assert plan["coverage"] and plan["plan"][0]["generalCost"]


@pytest.mark.parametrize("scheme", ["tz-chf", "np-hib"])
def test_read_patient_group_and_coverage(app, client, world, scheme):
    h = bearer(app, client, "claims_reviewer")
    who = world[scheme]
    p = valid(client.get(f"{FHIR}/Patient/{who['person']}", headers=h), "Patient")
    systems = {i["system"]: i["value"] for i in p["identifier"]}
    assert systems["https://openscheme.org/fhir/sid/insurance-number"] == who["person"]
    assert p["gender"] in ("male", "female") and p["birthDate"] and p["name"][0]["family"]
    national = [v for s, v in systems.items() if s.startswith(f"https://openscheme.org/fhir/sid/{scheme}/")]
    assert national  # the NIDA number / citizenship number

    found = valid(client.get(f"{FHIR}/Patient?identifier={national[0]}", headers=h), "Bundle")
    assert [e["resource"]["id"] for e in found["entry"]] == [who["person"]]
    system = next(s for s, v in systems.items() if v == national[0])
    assert valid(client.get(f"{FHIR}/Patient?identifier={system}|{national[0]}", headers=h), "Bundle")["total"] == 1
    assert valid(client.get(f"{FHIR}/Patient?identifier=https://elsewhere.example/id|{national[0]}", headers=h),
                 "Bundle")["total"] == 0
    found = valid(client.get(f"{FHIR}/Patient?identifier=https://openscheme.org/fhir/sid/insurance-number|"
                             f"{who['person']}", headers=h), "Bundle")
    assert found["total"] == 1

    g = valid(client.get(f"{FHIR}/Group/{who['unit']}", headers=h), "Group")
    assert who["person"] in {m["entity"]["reference"].split("/")[1] for m in g["member"]}

    c = valid(client.get(f"{FHIR}/Coverage/{who['policy']}", headers=h), "Coverage")
    assert c["status"] == "active" and c["subscriberId"] == who["unit"] and c["payor"]
    search = valid(client.get(f"{FHIR}/Coverage?beneficiary=Patient/{who['person']}", headers=h), "Bundle")
    assert search["entry"][0]["resource"]["beneficiary"]["reference"] == f"Patient/{who['person']}"
    valid(client.get(f"{FHIR}/InsurancePlan", headers=h), "Bundle")
    valid(client.get(f"{FHIR}/metadata", headers=h), "CapabilityStatement")


def test_errors_are_operation_outcomes(app, client, world):
    h = bearer(app, client, "facility_clerk")
    who = world["tz-chf"]
    assert valid(client.get(f"{FHIR}/Patient/{who['person']}"), "OperationOutcome") and \
        client.get(f"{FHIR}/Patient/{who['person']}").status_code == 401
    r = client.get(f"{FHIR}/Patient/{who['person']}", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and valid(r, "OperationOutcome")
    r = client.get(f"{FHIR}/Patient/P0000000000", headers=h)
    assert r.status_code == 404 and valid(r, "OperationOutcome")["issue"][0]["code"] == "not-found"
    assert client.get(f"{FHIR}/Medication/1", headers=h).status_code == 404
    r = client.post(f"{FHIR}/Claim", data="[1", headers=h | {"Content-Type": "application/fhir+json"})
    assert r.status_code == 400 and valid(r, "OperationOutcome")
    r = client.post(f"{FHIR}/Claim", json={"resourceType": "Patient"}, headers=h)
    assert r.status_code == 400 and valid(r, "OperationOutcome")
    # refused by the service: one issue per error, with its FHIRPath
    bad = fhir_claim(who["person"], "DSP_MLALI", (("NOPE", 1),), code="")
    r = client.post(f"{FHIR}/Claim", json=bad, headers=h)
    assert r.status_code == 422
    issues = valid(r, "OperationOutcome")["issue"]
    assert {i["expression"][0] for i in issues} >= {"Claim.identifier", "Claim.item[0].productOrService"}
    r = client.post(f"{FHIR}/Claim", json=fhir_claim("P0000000000", "DSP_MLALI", (("OPD01", 1),)), headers=h)
    assert r.status_code == 422 and valid(r, "OperationOutcome")["issue"][0]["expression"] == ["Claim.patient"]
    # roles: an enrolment officer verifies coverage but does not submit claims; a payment officer does neither
    officer = bearer(app, client, "enrolment_officer")
    assert client.post(f"{FHIR}/Claim", json=fhir_claim(who["person"], "DSP_MLALI", (("OPD01", 1),)),
                       headers=officer).status_code == 403
    assert client.post(f"{FHIR}/CoverageEligibilityRequest", json=eligibility_request(who["person"]),
                       headers=officer).status_code == 200
    payer = bearer(app, client, "payment_officer")
    r = client.post(f"{FHIR}/CoverageEligibilityRequest", json=eligibility_request(who["person"]), headers=payer)
    assert r.status_code == 403 and valid(r, "OperationOutcome")


def test_not_covered_person(app, client):
    seed_insurance(app)
    unit, _ = insured(app, "tz-chf", pay=False)
    h = bearer(app, client, "facility_clerk")
    r = client.post(f"{FHIR}/CoverageEligibilityRequest", json=eligibility_request(person_uid(app, unit, 0)), headers=h)
    body = valid(r, "CoverageEligibilityResponse")
    assert body["insurance"][0]["inforce"] is False
