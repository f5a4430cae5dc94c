"""cm-hiv-waiver (free HIV care, the programme reimburses the facility) end to end through the web
test client and the API, on SQLite and PostgreSQL: an enrolment officer registers a patient through
the generated form and enrols her (nothing to pay: the cover starts at once, a payment is refused);
a facility clerk verifies her by ART number (in French too) and submits claims through the generated
form and the API; the automated decision reduces and refuses lines with their reasons (a child's
medicine for an adult, a viral load too soon after the last one); a claims reviewer adjusts the
medicine dispensed with a reason and values the claim; a payment officer batches the hospital's
month, downloads the payment file and marks it paid."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

from e2e_helpers import as_role, bearer, claim_form, claim_id_of, lines_of, text
from sqlalchemy import select

from insurance_helpers import TODAY, seed_insurance
from openscheme.storage.models import AuditLog
from openscheme.storage.workflow_models import ClaimRecord, Policy

# the insurance year is the calendar year (a policy ends on 31 December): enrolled this year
YEAR_START = TODAY.replace(month=1, day=1)
START = max(TODAY - timedelta(days=60), YEAR_START).isoformat()
FIRST_VISIT = max(TODAY - timedelta(days=2), YEAR_START)
SECOND_VISIT = max(TODAY - timedelta(days=1), YEAR_START)


def patient_post() -> dict:
    return {"first_name": "Marie", "last_name": "Ngo Bassa", "sex": "F", "dob": "1986-04-12", "phone": "",
            "region": "CE", "facility": "HCY", "hiv_status": "confirmed_positive", "diagnosis_date": "2019-02-10",
            "art_number": "HCY-2019-00123", "art_start_date": "2019-02-24", "consent": "true"}


def test_cm_hiv_waiver_enrol_verify_claim_review_and_reimburse(app, client):
    seed_insurance(app)

    # ---- the enrolment officer: register and enrol; nothing to pay
    as_role(app, client, "enrolment_officer")
    r = client.post("/s/cm-hiv-waiver/register", data=patient_post())
    assert r.status_code == 302, text(r)[:2000]
    uid = r.headers["Location"].rsplit("/", 1)[-1]
    quote = text(client.get(f"/s/cm-hiv-waiver/policies/new?unit={uid}&enrol_date={START}"))
    assert "Premium: 0 XAF" in quote, quote
    r = client.post("/s/cm-hiv-waiver/policies/new", data={"unit": uid, "enrol_date": START, "benefit": "hiv_care"})
    assert r.status_code == 302, text(r)
    policy_url = r.headers["Location"]
    html = client.get(policy_url).get_data(as_text=True)
    assert 'id="policy-status">active' in html.replace("\n", "") or ">active<" in html
    assert 'id="payment-form"' not in html  # the programme pays: no contribution
    refused = client.post(policy_url + "/payments", data={"amount": "1000", "method": "cash", "reference": "X-1"})
    assert "not recorded" in text(client.get(refused.headers["Location"]))
    with app.extensions["openscheme"].db.session_factory() as s:
        policy = s.scalar(select(Policy).where(Policy.scheme_code == "cm-hiv-waiver"))
        assert (policy.status, policy.premium, policy.start_date.isoformat()) == ("active", Decimal(0), START)
    client.post("/logout")

    # ---- the facility clerk: verification by ART number, in English and in French
    as_role(app, client, "facility_clerk")
    page = client.get("/verify?q=HCY-2019-00123").get_data(as_text=True)
    assert 'data-benefit="hiv_care" data-status="covered"' in page and "VIH-PTME" in page
    assert "12 of 12 left this year" in page
    card = client.get(f"/verify/card/{uid}.pdf?lang=fr")
    assert card.status_code == 200 and card.data.startswith(b"%PDF")
    french = text(client.get("/verify?q=HCY-2019-00123&lang=fr"))
    assert "Couvert aujourd'hui" in french and "reste 12 sur 12 cette année" in french
    h = bearer(app, client, "facility_clerk", "clerk-api")
    body = client.get("/api/v1/coverage?q=HCY-2019-00123&lang=fr", headers=h).get_json()
    cover = body["people"][0]["covers"][0]
    assert cover["covered"] and cover["message"].startswith("couvert jusqu'au")
    assert {"category": "admission", "label": "hospitalisation", "left": 3, "limit": 3} in cover["categories"]
    # the claim form lists the hospital's price list; the first visit has a refused and a reduced line
    form = client.get(f"/s/cm-hiv-waiver/claims/new?facility=HCY&insuree={uid}")
    assert form.status_code == 200 and "ARV-TLD" in form.get_data(as_text=True)
    r = client.post("/s/cm-hiv-waiver/claims/new", data=claim_form(
        uid, "HCY-1", "HCY", [("VIH-CONS", "1"), ("VIH-CV", "1"), ("ARV-TLD", "120"), ("ARV-PDTG", "30")],
        FIRST_VISIT.isoformat(), diagnosis="B20"))
    assert r.status_code == 302, text(r)
    first = r.headers["Location"]
    assert [x[:2] for x in lines_of(app, claim_id_of(first))] == [
        ("accepted", []), ("accepted", []), ("adjusted", ["R07"]), ("rejected", ["R04"])]
    page = text(client.get(first))
    assert "ARV-PDTG up to age 9, patient is" in page and "ARV-TLD at most 90 per visit, 120 asked" in page
    assert "Selected for manual review" in page and "22,400" in page  # 2,000 + 15,000 + 90 x 60, above 20,000
    # the next day, through the API: the viral load again is too soon (150 days apart)
    r = client.post("/api/v1/schemes/cm-hiv-waiver/claims", headers=h, json={
        "code": "HCY-2", "facility": "HCY", "insuree": "HCY-2019-00123", "date_from": SECOND_VISIT.isoformat(),
        "care_type": "out_patient", "diagnosis": "B20",
        "lines": [{"code": "VIH-IO", "quantity": 1}, {"code": "VIH-CV", "quantity": 1}, {"code": "IO-FLU", "quantity": 14}]})
    assert r.status_code == 201, r.get_json()
    second = r.get_json()
    assert [x["status"] for x in second["lines"]] == ["accepted", "rejected", "accepted"]
    assert second["lines"][1]["reasons"][0]["code"] in ("R05", "R11") and second["payable"] == "7100.00"
    client.post("/logout")

    # ---- the claims reviewer: two months of TLD were dispensed, not three
    as_role(app, client, "claims_reviewer")
    assert "HCY-1" in text(client.get("/s/cm-hiv-waiver/claims/review"))
    r = client.post(f"{first}/lines/2", data={"quantity": "60", "price": "", "reason": "two months dispensed"})
    assert r.status_code == 302
    page = text(client.get(first))
    assert "two months dispensed" in page and "20,600" in page
    client.post(f"{first}/step", data={"transition": "valuate"})
    with app.extensions["openscheme"].db.session_factory() as s:
        if s.get(ClaimRecord, second["id"]).status == "review":  # drawn for the 5% sample
            client.post(f"/claims/{second['id']}/step", data={"transition": "valuate"})
    client.post("/logout")

    # ---- the payment officer: the hospital's month(s), the payment file, paid
    as_role(app, client, "payment_officer")
    total = Decimal(0)
    codes = set()
    for period in sorted({FIRST_VISIT.isoformat()[:7], SECOND_VISIT.isoformat()[:7]}):
        r = client.post("/s/cm-hiv-waiver/batches", data={"facility": "HCY", "period": period})
        batch_url = r.headers["Location"]
        rows = list(csv.reader(io.StringIO(client.get(batch_url + "/payment.csv").get_data(as_text=True))))
        assert rows[-1][4] == "TOTAL" and rows[-1][11] == "XAF"
        total += Decimal(rows[-1][10])
        codes |= {row[4] for row in rows[1:-1]}
        client.post(batch_url + "/pay", data={"reference": f"TRESOR-{period}"})
    assert codes == {"HCY-1", "HCY-2"} and total == Decimal("27700.00")  # 20,600 + 7,100
    with app.extensions["openscheme"].db.session_factory() as s:
        assert {c.status for c in s.scalars(select(ClaimRecord))} == {"paid"}
        steps = [(a.action, (a.after or {}).get("status")) for a in s.scalars(
            select(AuditLog).where(AuditLog.entity == "claim", AuditLog.entity_id == claim_id_of(first))
            .order_by(AuditLog.id))]
        assert steps == [("create", "entered"), ("submit", "submitted"), ("adjudicate", "review"), ("adjust", "adjusted"),
                         ("valuate", "valuated"), ("batch", "batched"), ("pay", "paid")], steps
