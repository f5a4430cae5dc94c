"""np-ssf (formal sector) end to end through the web test client and the API, on SQLite and PostgreSQL:
an enrolment officer registers two employees of one employer through the generated form, enrols them
(the monthly contribution computed from the wage, with its explanation) and records the employer's and
the employee's share month by month (partial payments, receipts, a repeated reference refused); a
facility clerk verifies them (by SSF number; the accident cover does not apply to the one on paid
leave) and submits claims through the generated form and the API; the automated decision refuses what
the definition refuses, with its reason (R13 for the accident of the employee on leave); a claims
reviewer adjusts a line with a reason and values the claim; a payment officer batches the hospital's
month, downloads the provider payment file and marks it paid."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

from e2e_helpers import as_role, bearer, claim_form, claim_id_of, lines_of, text
from sqlalchemy import select

from insurance_helpers import TODAY, seed_insurance
from openscheme.policies import terms
from openscheme.storage.workflow_models import ClaimRecord, Contribution, Policy

START = (TODAY - timedelta(days=120)).isoformat()  # enrolled and first month paid then: the 90 days are over
VISIT = (TODAY - timedelta(days=1)).isoformat()


def employee_post(number="2024001234", first_name="Sunita", status="active", wage="50000", sex="F") -> dict:
    return {"first_name": first_name, "last_name": "Karki", "sex": sex, "dob": "1990-03-15", "national_id": "",
            "ssf_number": number, "phone": "", "employer_name": "Himal Textiles Pvt. Ltd.",
            "employer_number": "E004512", "sector": "private_company", "employment_status": status,
            "employment_start": "2019-04-01", "monthly_wage": wage}


def register(client, data) -> str:
    r = client.post("/s/np-ssf/register", data=data)
    assert r.status_code == 302, text(r)[:2000]
    return r.headers["Location"].rsplit("/", 1)[-1]


def enrol_and_pay(client, uid: str, employer: str, employee: str, skip_current_employee: bool = False) -> str:
    """Enrol from START and pay every month up to this one: the first on START, so that cover began then."""
    page = text(client.get(f"/s/np-ssf/policies/new?unit={uid}&enrol_date={START}&benefit=*"))
    total = Decimal(employer) + Decimal(employee)
    assert f"{total:,.0f}" in page and "employer 20% =" in page and "employee 11% =" in page, page
    r = client.post("/s/np-ssf/policies/new", data={"unit": uid, "enrol_date": START, "benefit": "*"})
    assert r.status_code == 302, text(r)
    policy_url = r.headers["Location"]
    periods = terms.months_between(terms.parse_period(START[:7]), TODAY)
    for n, period in enumerate(periods):
        for payer, amount in (("employer", employer), ("employee", employee)):
            if skip_current_employee and payer == "employee" and period == periods[-1]:
                continue
            r = client.post(policy_url + "/payments", data={
                "amount": amount, "method": "bank_transfer", "reference": f"{uid}-{period}-{payer}",
                "paid_on": START if n == 0 else TODAY.isoformat(), "payer": payer, "period": period})
            assert r.status_code == 302 and "/receipt" in r.headers["Location"], (period, payer, r.headers.get("Location"))
    return policy_url


def test_np_ssf_enrol_pay_verify_claim_review_and_pay_the_hospital(app, client):
    seed_insurance(app)

    # ---- the enrolment officer: two employees of Himal Textiles, one on paid leave
    as_role(app, client, "enrolment_officer")
    sunita = register(client, employee_post())
    kabita = register(client, employee_post("2024005678", "Kabita", "paid_leave", "30000"))
    policy_url = enrol_and_pay(client, sunita, "10000", "5500", skip_current_employee=True)
    enrol_and_pay(client, kabita, "6000", "3300")
    # the current month: the employee's share in two parts, each with its receipt
    period = terms.period_of(TODAY)
    r = client.post(policy_url + "/payments", data={"amount": "3000", "method": "connect_ips", "reference": "IPS-1",
                                                    "paid_on": TODAY.isoformat(), "payer": "employee", "period": period})
    receipt = text(client.get(r.headers["Location"]))
    assert "IPS-1" in receipt and "3,000" in receipt
    page = text(client.get(policy_url))
    assert "partly paid" in page and "Employer share 10,000" in page and "Employee share 5,500" in page
    too_much = client.post(policy_url + "/payments", data={"amount": "2600", "method": "connect_ips", "reference": "IPS-2",
                                                           "payer": "employee", "period": period})
    assert f"the employee share due for {period} is 2500" in text(client.get(too_much.headers["Location"]))
    again = client.post(policy_url + "/payments", data={"amount": "2500", "method": "connect_ips", "reference": "ips-1",
                                                        "payer": "employee", "period": period})
    assert "already recorded" in text(client.get(again.headers["Location"]))
    client.post(policy_url + "/payments", data={"amount": "2500", "method": "connect_ips", "reference": "IPS-2",
                                                "payer": "employee", "period": period})
    html = client.get(policy_url).get_data(as_text=True)
    schedule = html[html.index('id="schedule"'):html.index("</table>", html.index('id="schedule"'))]
    assert "partly paid" not in schedule and "arrears" not in schedule and schedule.count(">paid<") >= 5, schedule
    employers = text(client.get("/s/np-ssf/employers"))
    assert "E004512" in employers and "Himal Textiles" in employers
    assert "Karki" not in text(client.get("/s/np-ssf/arrears"))  # every month paid
    with app.extensions["openscheme"].db.session_factory() as s:
        policies = s.scalars(select(Policy).where(Policy.scheme_code == "np-ssf")).all()
        assert {p.status for p in policies} == {"active"} and {p.benefit_code for p in policies} == {"*"}
        assert all(p.start_date.isoformat() == START and p.expiry_date >= TODAY for p in policies)
        assert s.scalar(select(Contribution).where(Contribution.reference == "IPS-2")).amount == Decimal("2500")
    client.post("/logout")

    # ---- the facility clerk verifies both: by SSF number
    as_role(app, client, "facility_clerk")
    page = client.get("/verify?q=2024001234").get_data(as_text=True)
    assert page.count('data-status="covered"') == 2, text(client.get("/verify?q=2024001234"))
    assert "ACC-SURG" in page and "SSF-DEL" in page and "100,000" in page and "700,000" in page
    page = client.get("/verify?q=2024005678").get_data(as_text=True)
    assert 'data-benefit="ssf_medical" data-status="covered"' in page
    assert 'data-benefit="ssf_accident" data-status="not_applicable"' in page
    assert "here Employment status = On paid leave" in text(client.get("/verify?q=2024005678"))
    card = client.get(f"/verify/card/{sunita}.pdf")
    assert card.status_code == 200 and card.data.startswith(b"%PDF")
    h = bearer(app, client, "facility_clerk", "clerk-api")
    body = client.get("/api/v1/coverage?q=2024005678", headers=h).get_json()
    covers = {c["benefit"]: c for c in body["people"][0]["covers"]}
    assert covers["ssf_medical"]["covered"] and covers["ssf_accident"]["status"] == "not_applicable"
    assert "does not apply" in covers["ssf_accident"]["message"]

    # ---- claims through the generated form
    form = client.get(f"/s/np-ssf/claims/new?benefit=ssf_accident&facility=SSF_HOSP&insuree={kabita}")
    assert form.status_code == 200 and "ACC-SURG" in form.get_data(as_text=True)
    r = client.post("/s/np-ssf/claims/new", data=claim_form(kabita, "ACC-1", "SSF_HOSP", [("ACC-ER", "1")], VISIT,
                                                            diagnosis="S52.5", benefit="ssf_accident"))
    assert r.status_code == 302, text(r)
    leave_claim = r.headers["Location"]
    page = text(client.get(leave_claim))
    assert "R13" in page and "the benefit does not apply to the patient on the date of service" in page
    assert "here Employment status = On paid leave" in page
    # Sunita's accident: surgery, three days in hospital and two pairs of crutches (one a year)
    r = client.post("/s/np-ssf/claims/new", data=claim_form(
        sunita, "ACC-2", "SSF_HOSP", [("ACC-SURG", "1"), ("ACC-IPD", "3"), ("ACC-CRUTCH", "2")], VISIT,
        care="in_patient", diagnosis="S52.5", benefit="ssf_accident"))
    accident = r.headers["Location"]
    page = text(client.get(accident))
    assert "R06" in page and "Selected for manual review" in page  # above 50,000
    # a medical visit with a line refused: in-patient care on an out-patient visit (R09)
    r = client.post("/s/np-ssf/claims/new", data=claim_form(
        sunita, "MED-1", "SSF_HOSP", [("SSF-OPD", "1"), ("SSF-LAB", "2"), ("SSF-IPD", "1")], VISIT,
        diagnosis="J06.9", benefit="ssf_medical"))
    medical = r.headers["Location"]
    assert [x[:2] for x in lines_of(app, claim_id_of(medical))] == [
        ("accepted", []), ("adjusted", ["R07"]), ("rejected", ["R09"])]
    # the API: Kabita's medical visit is paid (the medical cover goes on during leave)
    r = client.post("/api/v1/schemes/np-ssf/claims", headers=h, json={
        "code": "MED-2", "facility": "SSF_HOSP", "insuree": "2024005678", "date_from": VISIT,
        "care_type": "out_patient", "diagnosis": "J06.9", "benefit": "ssf_medical",
        "lines": [{"code": "SSF-OPD", "quantity": 1}, {"code": "SSF-MED-AMX", "quantity": 30}]})
    assert r.status_code == 201, r.get_json()
    api_claim = r.get_json()
    assert [x["status"] for x in api_claim["lines"]] == ["accepted", "adjusted"]
    assert api_claim["lines"][1]["reasons"][0]["code"] == "R07" and api_claim["payable"] == "626.00"
    r = client.post("/api/v1/schemes/np-ssf/claims", headers=h, json={
        "code": "ACC-3", "facility": "SSF_HOSP", "insuree": kabita, "date_from": VISIT, "care_type": "out_patient",
        "diagnosis": "S52.5", "benefit": "ssf_accident", "lines": [{"code": "ACC-PHYSIO", "quantity": 1}]})
    refused = r.get_json()
    assert refused["status"] == "rejected" and refused["lines"][0]["reasons"][0]["code"] == "R13"
    assert "here Employment status = On paid leave" in refused["lines"][0]["reasons"][0]["message"]
    client.post("/logout")

    # ---- the claims reviewer: one night less, then the claim is valued
    as_role(app, client, "claims_reviewer")
    assert "ACC-2" in text(client.get("/s/np-ssf/claims/review"))
    r = client.post(f"{accident}/lines/1", data={"quantity": "2", "price": "", "reason": "discharged after two nights"})
    assert r.status_code == 302
    page = text(client.get(accident))
    assert "discharged after two nights" in page and "70,500" in page  # 60,000 + 2 x 4,000 + 2,500
    client.post(f"{accident}/step", data={"transition": "valuate"})
    for url in (medical, leave_claim):
        with app.extensions["openscheme"].db.session_factory() as s:
            if s.get(ClaimRecord, claim_id_of(url)).status == "review":  # drawn for the 5% sample
                client.post(f"{url}/step", data={"transition": "valuate"})
    signals = client.get("/s/np-ssf/claims/signals")
    assert signals.status_code == 200 and 'data-facility="SSF_HOSP"' in signals.get_data(as_text=True)
    client.post("/logout")

    # ---- the payment officer: the hospital's month, its payment file, paid
    as_role(app, client, "payment_officer")
    with app.extensions["openscheme"].db.session_factory() as s:
        valued = s.scalars(select(ClaimRecord).where(ClaimRecord.status == "valuated")).all()
        expected = sum((c.payable for c in valued), Decimal(0))
        assert {c.code for c in valued} >= {"ACC-2", "MED-1"} and "ACC-1" not in {c.code for c in valued}
    r = client.post("/s/np-ssf/batches", data={"facility": "SSF_HOSP", "period": VISIT[:7]})
    batch_url = r.headers["Location"]
    assert f"{expected:,.0f}" in text(client.get(batch_url))
    rows = list(csv.reader(io.StringIO(client.get(batch_url + "/payment.csv").get_data(as_text=True))))
    codes = {row[4] for row in rows[1:-1]}
    assert {"ACC-2", "MED-1"} <= codes and "ACC-1" not in codes and "ACC-3" not in codes
    assert rows[-1][4] == "TOTAL" and rows[-1][10] == f"{expected:.2f}" and rows[-1][11] == "NPR"
    client.post(batch_url + "/pay", data={"reference": "NRB-TRF-1"})
    with app.extensions["openscheme"].db.session_factory() as s:
        assert s.get(ClaimRecord, claim_id_of(accident)).status == "paid"
        assert s.get(ClaimRecord, claim_id_of(leave_claim)).status == "rejected"
