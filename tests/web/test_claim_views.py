"""The insurance pages: enrolment and payments with receipts, verification and the membership card,
the claim form, the decision with reasons, review, batches with the payment file, scopes and roles."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import csrf_token, login, make_user
from insurance_helpers import TODAY, chf_household, insured, person_uid, seed_insurance
from openscheme.storage.models import AuditLog, Facility
from openscheme.storage.workflow_models import ClaimRecord, Contribution, Policy

VISIT = (TODAY - timedelta(days=1)).isoformat()


@pytest.fixture
def world(app):
    seed_insurance(app)
    uid, policy = insured(app, "tz-chf")
    return {"uid": uid, "policy": policy, "woman": person_uid(app, uid, 1)}


def as_role(app, client, role, username=None, scope=None):
    username = username or role
    make_user(app, username, [(role, None, scope)])
    login(client, username)
    return client


def text(r) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r.get_data(as_text=True)))


def claim_form(insuree, code="V-1", facility="DH_KONGWA", lines=(("OPD01", "1"),), care="out_patient"):
    data = {"code": code, "facility": facility, "insuree": insuree, "date_from": VISIT, "care_type": care,
            "diagnosis": "B54"}
    for i, (c, q) in enumerate(lines):
        data[f"lines-{i}-code"], data[f"lines-{i}-quantity"] = c, q
    return data


def test_verify_a_patient_and_print_the_card(app, client, world):
    as_role(app, client, "facility_clerk")
    r = client.get("/verify?q=" + world["woman"])
    assert r.status_code == 200
    page = text(r)
    assert "Covered today" in page and "Rehema Juma" in page and "ANC01" in page
    assert "left of 1,500,000" in page  # the household ceiling
    # a scanned QR code may bring text around the number; a national ID works too
    assert "Covered today" in text(client.get(f"/verify?q=openscheme:{world['woman']}"))
    assert "Covered today" in text(client.get("/verify?q=19950701411230000125"))
    assert "No insured person found" in text(client.get("/verify?q=P0000000000"))
    card = client.get(f"/verify/card/{world['uid']}.pdf")
    assert card.status_code == 200 and card.mimetype == "application/pdf" and card.data.startswith(b"%PDF")
    with app.extensions["openscheme"].db.session_factory() as s:
        assert s.scalar(select(AuditLog).where(AuditLog.action == "print_card")) is not None


def test_unpaid_household_is_not_covered(app, client, world):
    unpaid, _ = insured(app, "tz-chf", chf_household(number="CHF-00000777"), pay=False)
    as_role(app, client, "facility_clerk")
    page = text(client.get("/verify?q=" + person_uid(app, unpaid)))
    assert "Not covered today" in page and "premium is not fully paid" in page


def test_clerk_submits_and_sees_the_decision_with_reasons(app, client, world):
    as_role(app, client, "facility_clerk")
    form = client.get(f"/s/tz-chf/claims/new?insuree={world['woman']}&facility=DSP_MLALI")
    assert form.status_code == 200 and 'name="lines-0-code"' in form.get_data(as_text=True)
    assert "OPD02" in form.get_data(as_text=True)  # the dispensary price list
    r = client.post("/s/tz-chf/claims/new", data=claim_form(world["woman"], facility="DSP_MLALI",
                                                             lines=(("OPD01", "1"), ("MED01", "30"))))
    assert r.status_code == 302
    page = text(client.get(r.headers["Location"]))
    assert "R07" in page and "quantity above the limit per visit" in page and "Rehema Juma" in page
    # the same claim number again: one claim, shown
    again = client.post("/s/tz-chf/claims/new", data=claim_form(world["woman"], facility="DSP_MLALI"))
    assert again.status_code == 302 and again.headers["Location"] == r.headers["Location"]
    # errors are shown next to their fields
    bad = client.post("/s/tz-chf/claims/new", data=claim_form("nobody", code="V-2", facility="DSP_MLALI") | {"diagnosis": "XX"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'id="insuree-error"' in html and 'id="diagnosis-error"' in html


def test_reviewer_adjusts_and_the_payment_officer_batches(app, client, world):
    as_role(app, client, "facility_clerk")
    r = client.post("/s/tz-chf/claims/new", data=claim_form(
        world["woman"], code="BIG-1", care="in_patient", lines=(("SUR01", "1"), ("ADM01", "1"), ("MED06", "2"))))
    claim_url = r.headers["Location"]
    claim_id = int(claim_url.rsplit("/", 1)[1])
    assert "Selected for manual review" in text(client.get(claim_url))
    assert client.post(f"{claim_url}/lines/0", data={"price": "1", "reason": "x"}).status_code == 403
    client.post("/logout")
    as_role(app, client, "claims_reviewer")
    assert "BIG-1" in text(client.get("/s/tz-chf/claims/review"))
    r = client.post(f"{claim_url}/lines/2", data={"quantity": "1", "price": "", "reason": "one ampoule used"})
    assert r.status_code == 302
    page = text(client.get(claim_url))
    assert "one ampoule used" in page and "251,500" in page
    client.post(f"{claim_url}/step", data={"transition": "valuate"})
    client.post(f"{claim_url}/feedback", data={"care_received": "yes", "asked_to_pay": "no", "satisfaction": "4"})
    client.post("/logout")
    as_role(app, client, "payment_officer")
    # offered: the facilities with valued claims waiting (or batches), not every facility
    page = client.get("/s/tz-chf/batches").get_data(as_text=True)
    assert re.findall(r'<option value="([^"]+)"', page) == ["DH_KONGWA"]
    with app.extensions["openscheme"].db.session_factory() as s:
        assert s.query(Facility).count() > 1
    r = client.post("/s/tz-chf/batches", data={"facility": "DH_KONGWA", "period": VISIT[:7]})
    batch_url = r.headers["Location"]
    assert "251,500" in text(client.get(batch_url))
    csv_text = client.get(batch_url + "/payment.csv").get_data(as_text=True)
    assert "BIG-1" in csv_text and "251500.00" in csv_text and "TOTAL" in csv_text
    client.post(batch_url + "/pay", data={"reference": "TRF-9"})
    with app.extensions["openscheme"].db.session_factory() as s:
        claim = s.get(ClaimRecord, claim_id)
        assert claim.status == "paid" and claim.feedback["satisfaction"] == 4


def test_a_clerk_of_one_facility_sees_only_its_claims(app, client, world):
    from openscheme.reference.users import create_user
    from openscheme.storage.models import Facility, RoleAssignment

    db = app.extensions["openscheme"].db
    with db.session_factory() as s, s.begin():
        user = create_user(s, "mlali", "secret-pass", roles=[], hash_method="pbkdf2:sha256:1000")
        f = s.scalar(select(Facility).where(Facility.code == "DSP_MLALI"))
        s.add(RoleAssignment(user_id=user.id, role="facility_clerk", facility_id=f.id))
    as_role(app, client, "facility_clerk", "anywhere")
    r = client.post("/s/tz-chf/claims/new", data=claim_form(world["woman"], code="K-1"))
    kongwa_claim = r.headers["Location"]
    client.post("/logout")
    login(client, "mlali")
    assert client.get(kongwa_claim).status_code == 403
    r = client.post("/s/tz-chf/claims/new", data=claim_form(world["woman"], code="K-2"))  # not their facility
    assert r.status_code == 422 and "You may not submit claims for this facility" in text(r)
    assert "K-1" not in text(client.get("/s/tz-chf/claims/"))


def test_enrol_pay_in_parts_and_print_the_receipt(app, client, world):
    from insurance_helpers import RECORDS
    from openscheme.registry.service import Registry

    state = app.extensions["openscheme"]
    with state.db.session_factory() as s, s.begin():
        unit = Registry(s, state.catalog, None, "en").register("np-hib", RECORDS["np-hib"]()).record
        uid = unit.uid
    as_role(app, client, "enrolment_officer")
    page = client.get(f"/s/np-hib/policies/new?unit={uid}")
    assert "3,500" in text(page) and "family_premium" in text(page)
    r = client.post("/s/np-hib/policies/new", data={"unit": uid, "enrol_date": TODAY.isoformat(), "benefit": "hib_cover"})
    assert r.status_code == 302
    policy_url = r.headers["Location"]
    r = client.post(policy_url + "/payments", data={"amount": "1500", "method": "cash", "reference": "RC-1",
                                                    "paid_on": TODAY.isoformat()})
    receipt = text(client.get(r.headers["Location"]))
    assert "RC-1" in receipt and "1,500" in receipt and "2,000" in receipt  # paid, balance due
    dup = client.post(policy_url + "/payments", data={"amount": "100", "method": "cash", "reference": "rc-1"})
    assert "already recorded" in text(client.get(dup.headers["Location"]))
    client.post(policy_url + "/payments", data={"amount": "2000", "method": "mobile_wallet", "reference": "MW-77"})
    with state.db.session_factory() as s:
        policy = s.scalar(select(Policy).where(Policy.scheme_code == "np-hib", Policy.status == "active",
                                               Policy.start_date == TODAY))
        assert policy is not None
        assert s.scalar(select(Contribution).where(Contribution.reference == "MW-77")).amount == 2000
    assert "active" in text(client.get(policy_url))


@pytest.mark.parametrize("role,policies,verify,claims,submit,review,batches", [
    ("enrolment_officer", 200, 200, 403, 403, 403, 403),
    ("facility_clerk", 403, 200, 200, 200, 403, 403),
    ("claims_reviewer", 403, 200, 200, 403, 200, 403),
    ("payment_officer", 200, 403, 200, 403, 403, 200),
    ("analyst", 200, 403, 200, 403, 403, 403),
])
def test_permissions_by_role(app, client, role, policies, verify, claims, submit, review, batches):
    seed_insurance(app)
    as_role(app, client, role)
    assert client.get("/s/tz-chf/policies/").status_code == policies
    assert client.get("/verify").status_code == verify
    assert client.get("/s/tz-chf/claims/").status_code == claims
    assert client.get("/s/tz-chf/claims/new?facility=DSP_MLALI").status_code == submit
    assert client.get("/s/tz-chf/claims/review").status_code == review
    assert client.get("/s/tz-chf/batches").status_code == batches


def test_signed_out_and_non_insurance_schemes(app, client):
    assert client.get("/verify").status_code == 302
    as_role(app, client, "facility_clerk")
    assert client.get("/s/gm-nafa-quick/claims/").status_code == 404


def test_every_post_form_has_the_csrf_token(app, client, world):
    as_role(app, client, "facility_clerk", "clerk2")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get("/s/tz-chf/claims/new?facility=DSP_MLALI").get_data(as_text=True)
        token = csrf_token(page)
        assert client.post("/s/tz-chf/claims/new", data=claim_form(world["woman"], facility="DSP_MLALI")).status_code == 400
        r = client.post("/s/tz-chf/claims/new", data=claim_form(world["woman"], facility="DSP_MLALI") | {"csrf_token": token})
        assert r.status_code == 302
        html = client.get(r.headers["Location"]).get_data(as_text=True)
        assert html.count("<form") and html.count('method="post"') <= html.count('name="csrf_token"')
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
