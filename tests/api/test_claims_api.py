"""The insurance JSON API: coverage lookup, claim submission (one parse with the form; 422 per field,
409 for the same claim twice), the decision with its reasons, review and feedback, roles."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import make_user
from insurance_helpers import TODAY, insured, person_uid, seed_insurance

API = "/api/v1"


def bearer(app, client, role: str) -> dict:
    make_user(app, role, [(role, None, None)])
    r = client.post(f"{API}/token", json={"username": role, "password": "secret-pass"})
    assert r.status_code == 201, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


@pytest.fixture
def world(app):
    seed_insurance(app)
    chf, _ = insured(app, "tz-chf")
    hib, _ = insured(app, "np-hib")
    return {"woman": person_uid(app, chf, 1), "hib": person_uid(app, hib, 0)}


def claim(insuree, code="A-1", facility="DSP_MLALI", lines=(("OPD01", 1), ("MED01", 30)), **extra):
    return {"code": code, "facility": facility, "insuree": insuree, "care_type": "out_patient", "diagnosis": "B54",
            "date_from": (TODAY - timedelta(days=1)).isoformat(),
            "lines": [{"code": c, "quantity": q} for c, q in lines], **extra}


def test_coverage_lookup(app, client, world):
    h = bearer(app, client, "facility_clerk")
    r = client.get(f"{API}/coverage?q={world['woman']}", headers=h)
    assert r.status_code == 200
    person = r.get_json()["people"][0]
    assert person["uid"] == world["woman"] and person["scheme"] == "tz-chf"
    cover = person["covers"][0]
    assert cover["covered"] is True and cover["benefit"] == "chf_cover"
    anc = next(s for s in cover["services"] if s["code"] == "ANC01")
    assert anc["allowed"] is True and "8 of 8 left this year" in anc["left"]
    assert {c["ceiling"] for c in cover["ceilings"]} >= {"per household per year"}
    assert client.get(f"{API}/coverage?q=P0000000000", headers=h).get_json()["people"] == []
    assert client.get(f"{API}/coverage", headers=h).status_code == 400
    assert client.get(f"{API}/coverage?q=x").status_code == 401


@pytest.mark.parametrize("scheme,facility,lines", [
    ("tz-chf", "DSP_MLALI", (("OPD01", 1), ("MED01", 30))),
    ("np-hib", "KTM_PHCC", (("OPD", 1), ("MED-SAL", 2))),
])
def test_submit_a_claim_and_read_the_decision(app, client, world, scheme, facility, lines):
    h = bearer(app, client, "facility_clerk")
    insuree = world["woman"] if scheme == "tz-chf" else world["hib"]
    r = client.post(f"{API}/schemes/{scheme}/claims", json=claim(insuree, facility=facility, lines=lines), headers=h)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert r.headers["Location"].endswith(f"/claims/{body['id']}")
    second = body["lines"][1]
    assert second["status"] == "adjusted" and second["reasons"][0]["code"] == "R07"
    again = client.post(f"{API}/schemes/{scheme}/claims", json=claim(insuree, facility=facility, lines=lines), headers=h)
    assert again.status_code == 409 and again.get_json()["error"]["claim"]["id"] == body["id"]
    assert client.get(f"{API}/claims/{body['id']}", headers=h).get_json()["status"] == body["status"]


def test_refused_claim_lists_every_error(app, client, world):
    h = bearer(app, client, "facility_clerk")
    r = client.post(f"{API}/schemes/tz-chf/claims", json={"code": "", "lines": [{"code": "NOPE", "quantity": 0}]},
                    headers=h)
    assert r.status_code == 422
    paths = {e["path"]: e["code"] for e in r.get_json()["errors"]}
    assert paths["code"] == "C01" and paths["lines[0].code"] == "C06" and paths["lines[0].quantity"] == "C07"
    assert client.post(f"{API}/schemes/tz-chf/claims", data="[1", headers=h | {"Content-Type": "application/json"}
                       ).status_code == 400
    assert client.post(f"{API}/schemes/gm-nafa-quick/claims", json=claim(world["woman"]), headers=h).status_code == 404


def test_review_and_feedback_through_the_api(app, client, world):
    clerk = bearer(app, client, "facility_clerk")
    body = client.post(f"{API}/schemes/tz-chf/claims", headers=clerk, json=claim(
        world["woman"], code="BIG", facility="DH_KONGWA", care_type="in_patient",
        lines=(("SUR01", 1), ("ADM01", 1)))).get_json()
    assert body["status"] == "review" and body["selected_for_review"] is True
    assert client.post(f"{API}/claims/{body['id']}/lines/1", headers=clerk,
                       json={"price": "1", "reason": "x"}).status_code == 403
    reviewer = bearer(app, client, "claims_reviewer")
    r = client.post(f"{API}/claims/{body['id']}/lines/1", headers=reviewer,
                    json={"price": "150000", "reason": "agreed tariff"})
    assert r.status_code == 200 and r.get_json()["payable"] == "200000.00"
    assert client.post(f"{API}/claims/{body['id']}/lines/1", headers=reviewer, json={"price": "1"}).status_code == 422
    r = client.post(f"{API}/claims/{body['id']}/feedback", headers=reviewer,
                    json={"care_received": True, "asked_to_pay": False, "satisfaction": 5, "comment": "good"})
    assert r.status_code == 200 and r.get_json()["feedback"]["comment"] == "good"


def test_roles(app, client, world):
    officer = bearer(app, client, "enrolment_officer")
    assert client.post(f"{API}/schemes/tz-chf/claims", json=claim(world["woman"]), headers=officer).status_code == 403
    assert client.get(f"{API}/coverage?q={world['woman']}", headers=officer).status_code == 200
    payer = bearer(app, client, "payment_officer")
    assert client.get(f"{API}/coverage?q={world['woman']}", headers=payer).status_code == 403
