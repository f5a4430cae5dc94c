"""Vouchers through the web pages: issue, booklet with QR codes, redemption with refusals and
their reasons, balance, monthly reimbursement with its statement and CSV; permissions and CSRF."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from conftest import csrf_token, login, make_user
from openscheme.registry.service import Registry
from openscheme.storage.models import Enrolment, Facility, RoleAssignment, User
from openscheme.storage.workflow_models import Voucher, VoucherRedemption

CODE = "cm-cheque-sante"
TODAY = date.today()
ISSUED = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)  # the first day of last month
WOMAN = {"cheque_number": "CS00012345", "first_name": "Aissatou", "last_name": "Bouba", "sex": "F",
         "dob": "1998-06-10", "phone": "+237690000001", "region": "EN", "health_district": "MOKOLO", "parity": 1,
         "lmp_known": True, "lmp": (TODAY - timedelta(days=100)).isoformat()}


def now(session):
    session.rollback()  # a fresh snapshot
    return session


def as_user(client, username):
    client.post("/logout")
    login(client, username)
    return client


@pytest.fixture
def ctx(app, session, users):
    catalog = app.extensions["openscheme"].catalog
    saved = Registry(session, catalog).register(CODE, WOMAN)
    assert saved.ok, saved.errors
    man = Registry(session, catalog).register(CODE, WOMAN | {"cheque_number": "CS00012346", "sex": "M",
                                                             "phone": "+237690000002"})
    centre = Facility(code="HC1", name="CSI Mokolo", level="health_centre", care_type="both")
    pharmacy = Facility(code="PH1", name="Pharmacie du marché", level="pharmacy", care_type="out_patient")
    session.add_all([centre, pharmacy])
    session.commit()
    return {"person": saved.record, "other": man.record if man.ok else None, "centre": centre, "pharmacy": pharmacy}


def issue(client, uid, on=ISSUED):
    return client.post(f"/s/{CODE}/vouchers/issue", data={"uid": uid, "benefit": "cheque_sante",
                                                            "issued_on": on.isoformat()})


def redeem(client, ctx, code, service="CPN1", on=ISSUED, holder=None, facility="centre"):
    return client.post(f"/s/{CODE}/vouchers/redeem", data={
        "code": code, "holder": holder or ctx["person"].uid, "service": service, "on": on.isoformat(),
        "facility": str(ctx[facility].id)})


def vouchers_of(session, person, type_=None):
    q = select(Voucher).where(Voucher.individual_id == person.id).order_by(Voucher.id)
    if type_:
        q = q.where(Voucher.type == type_)
    return list(now(session).scalars(q))


def test_issue_the_booklet_and_print_it(client, ctx, session):
    login(client, "enrolment_officer")
    uid = ctx["person"].uid
    assert "Vouchers" in client.get("/").get_data(as_text=True)
    assert client.get(f"/s/{CODE}/vouchers/issue").status_code == 200
    r = issue(client, uid)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/s/{CODE}/vouchers/person/{uid}/booklet")
    vouchers = vouchers_of(session, ctx["person"])
    assert len(vouchers) == 8
    assert now(session).scalar(select(func.count()).select_from(Enrolment).where(
        Enrolment.individual_id == ctx["person"].id, Enrolment.status == "active")) == 1
    booklet = client.get(r.headers["Location"]).get_data(as_text=True)
    assert booklet.count('src="data:image/svg+xml') == 8
    for v in vouchers:
        assert f'data-code="{v.code}"' in booklet
    assert "Antenatal visit (ANC)" in booklet and "CPN1, CPN2, CPN3, CPN4" in booklet
    # issuing again gives the same set, and one enrolment
    issue(client, uid)
    assert len(vouchers_of(session, ctx["person"])) == 8
    assert now(session).scalar(select(func.count()).select_from(Enrolment)) == 1
    # the balance page
    page = client.get(f"/s/{CODE}/vouchers/person/{uid}").get_data(as_text=True)
    assert "4 of 4 left" in page and "2 of 2 left" in page
    # French booklet
    assert "Consultation prénatale (CPN)" in client.get(f"/s/{CODE}/vouchers/person/{uid}/booklet?lang=fr").get_data(
        as_text=True)


def test_the_qr_code_holds_the_voucher_code(client, ctx, session):
    import base64
    import urllib.parse

    from openscheme.web.voucher_views import qr_data_uri

    uri = qr_data_uri("VABCDEFGHJK1")
    assert uri.startswith("data:image/svg+xml")
    svg = urllib.parse.unquote(uri.split(",", 1)[1]) if ";base64" not in uri else base64.b64decode(
        uri.split(",", 1)[1]).decode()
    assert svg.lstrip().startswith("<svg") or "<svg" in svg[:200]


def test_issuing_is_refused_with_the_reasons_when_not_entitled(client, ctx, session):
    login(client, "enrolment_officer")
    other = ctx["other"]
    if other is None:
        pytest.skip("the registry refuses a man in this scheme")
    r = issue(client, other.uid)
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "cannot receive these vouchers" in page
    assert "The voucher is for pregnant women only" in page
    assert vouchers_of(session, other) == []
    r = issue(client, "P0000000000")
    assert r.status_code == 422 and "No beneficiary P0000000000" in r.get_data(as_text=True)


def test_redeem_at_a_facility_with_refusals_and_their_reasons(app, client, ctx, session):
    login(client, "enrolment_officer")
    issue(client, ctx["person"].uid)
    antenatal = vouchers_of(session, ctx["person"], "antenatal")
    as_user(client, "facility_clerk")
    page = client.get(f"/s/{CODE}/vouchers/redeem").get_data(as_text=True)
    assert "Type the code or scan the QR code" in page and "CPN1" in page and "CSI Mokolo" in page
    # accepted, lower case and spaces tolerated
    r = redeem(client, ctx, " " + antenatal[0].code.lower() + " ")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and f'data-accepted="{antenatal[0].code}"' in page
    assert "The facility will be reimbursed 2,500 XAF" in page
    # refusals, each with its reason
    cases = [
        (antenatal[0].code, {}, "V02", "already used"),
        (antenatal[1].code, {"service": "ACC-NORMAL"}, "V04", "cannot be paid with this voucher"),
        (antenatal[1].code, {"on": ISSUED - timedelta(days=1)}, "V03", "not valid on this date"),
        (antenatal[1].code, {"holder": "P0000000000"}, "V06", "belongs to someone else"),
        (antenatal[1].code, {"facility": "pharmacy"}, "V05", "cannot accept this voucher"),
        ("VXXXXXXXXXXX", {}, "V01", "is not a voucher code"),
    ]
    for code, change, reason_code, text in cases:
        r = redeem(client, ctx, code, **change)
        page = r.get_data(as_text=True)
        assert r.status_code == 409, (reason_code, page[:300])
        assert f'data-refused="{reason_code}"' in page and text in page, reason_code
    # in French
    r = client.post(f"/s/{CODE}/vouchers/redeem?lang=fr", data={
        "code": antenatal[0].code, "holder": ctx["person"].uid, "service": "CPN1", "on": ISSUED.isoformat(),
        "facility": str(ctx["centre"].id)})
    assert "Ce bon a déjà été utilisé." in r.get_data(as_text=True)
    # a date in the future, missing fields
    assert redeem(client, ctx, antenatal[1].code, on=TODAY + timedelta(days=1)).status_code == 422
    assert client.post(f"/s/{CODE}/vouchers/redeem", data={"facility": str(ctx["centre"].id)}).status_code == 422
    assert now(session).scalar(select(func.count()).select_from(VoucherRedemption)) == 1
    # the balance shows what was used
    page = client.get(f"/s/{CODE}/vouchers/person/{ctx['person'].uid}").get_data(as_text=True)
    assert "3 of 4 left" in page and "CSI Mokolo" in page


def test_a_clerk_limited_to_a_facility_redeems_only_there(app, client, ctx, session):
    login(client, "enrolment_officer")
    issue(client, ctx["person"].uid)
    antenatal = vouchers_of(session, ctx["person"], "antenatal")
    make_user(app, "clerk_hc1", [("facility_clerk", CODE, None)])
    with app.extensions["openscheme"].db.session_factory() as s, s.begin():
        user = s.scalar(select(User).where(User.username == "clerk_hc1"))
        s.query(RoleAssignment).filter(RoleAssignment.user_id == user.id).update(
            {"facility_id": ctx["centre"].id})
    as_user(client, "clerk_hc1")
    page = client.get(f"/s/{CODE}/vouchers/redeem").get_data(as_text=True)
    assert "CSI Mokolo" in page and "Pharmacie du marché" not in page
    r = redeem(client, ctx, antenatal[0].code, facility="pharmacy")
    assert r.status_code == 422 and "Choose your facility." in r.get_data(as_text=True)
    assert redeem(client, ctx, antenatal[0].code).status_code == 200
    assert client.get("/s/tz-chf/vouchers/redeem").status_code == 403


def test_reimburse_a_facility_for_a_month(client, ctx, session):
    login(client, "enrolment_officer")
    issue(client, ctx["person"].uid)
    vouchers = vouchers_of(session, ctx["person"])
    as_user(client, "facility_clerk")
    assert redeem(client, ctx, vouchers[0].code, service="CPN1").status_code == 200
    delivery = next(v for v in vouchers if v.type == "delivery")
    assert redeem(client, ctx, delivery.code, service="ACC-NORMAL").status_code == 200
    assert redeem(client, ctx, vouchers[1].code, service="CPN2", on=TODAY).status_code == 200  # this month
    as_user(client, "payment_officer")
    period = ISSUED.strftime("%Y-%m")
    page = client.get(f"/s/{CODE}/vouchers/reimburse").get_data(as_text=True)
    assert f'data-reimburse="HC1-{period}"' in page and "17,500 XAF" in page and "month not over" in page
    r = client.post(f"/s/{CODE}/vouchers/reimburse", data={"facility": "HC1", "period": period},
                    follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "CSI Mokolo reimbursed for " + period + ": 2 vouchers, 17,500 XAF." in page
    assert "data-total>17,500 XAF<" in page and vouchers[0].code in page and delivery.code in page
    # reimbursed once: a second time finds nothing, the statement stays the same
    r = client.post(f"/s/{CODE}/vouchers/reimburse", data={"facility": "HC1", "period": period},
                    follow_redirects=True)
    assert "Nothing left to reimburse" in r.get_data(as_text=True)
    # this month is not over: refused
    r = client.post(f"/s/{CODE}/vouchers/reimburse", data={"facility": "HC1", "period": TODAY.strftime("%Y-%m")},
                    follow_redirects=True)
    assert "once it is over" in r.get_data(as_text=True)
    assert now(session).scalar(select(func.count()).select_from(VoucherRedemption).where(
        VoucherRedemption.reimbursed.is_(True))) == 2
    # the CSV statement
    r = client.get(f"/s/{CODE}/vouchers/statements/HC1/{period}/statement.csv")
    assert r.mimetype == "text/csv" and "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [x["voucher_code"] for x in rows] == [vouchers[0].code, delivery.code, "TOTAL"]
    assert rows[-1]["amount"] == "17500.00" and rows[0]["holder"] == ctx["person"].uid
    assert client.get(f"/s/{CODE}/vouchers/statements/HC1/2024-13").status_code == 404
    assert client.get(f"/s/{CODE}/vouchers/statements/NOPE/{period}").status_code == 404
    assert client.post(f"/s/{CODE}/vouchers/reimburse", data={"facility": "HC1", "period": "x"}).status_code == 400
    page = client.get(f"/s/{CODE}/vouchers/reimburse").get_data(as_text=True)
    assert f"/vouchers/statements/HC1/{period}" in page


def test_find_a_beneficiary(client, ctx):
    login(client, "facility_clerk")
    r = client.get(f"/s/{CODE}/vouchers?uid={ctx['person'].uid.lower()}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/vouchers/person/{ctx['person'].uid}")
    assert "No beneficiary PNOPE" in client.get(f"/s/{CODE}/vouchers?uid=PNOPE").get_data(as_text=True)
    assert "No voucher was issued" in client.get(f"/s/{CODE}/vouchers/person/{ctx['person'].uid}").get_data(
        as_text=True)
    assert client.get(f"/s/{CODE}/vouchers/person/PNOPE").status_code == 404
    assert "This scheme has no voucher benefit." in client.get("/s/gm-nafa-quick/vouchers").get_data(as_text=True)
    assert client.get("/s/gm-nafa-quick/vouchers/issue").status_code == 403  # a clerk does not issue


def test_permissions(client, ctx):
    uid = ctx["person"].uid
    rules = {
        f"/s/{CODE}/vouchers": {"enrolment_officer", "facility_clerk", "payment_officer", "auditor"},
        f"/s/{CODE}/vouchers/person/{uid}": {"enrolment_officer", "facility_clerk", "payment_officer", "auditor"},
        f"/s/{CODE}/vouchers/person/{uid}/booklet": {"enrolment_officer", "facility_clerk", "payment_officer",
                                                     "auditor"},
        f"/s/{CODE}/vouchers/issue": {"enrolment_officer"},
        f"/s/{CODE}/vouchers/redeem": {"facility_clerk"},
        f"/s/{CODE}/vouchers/reimburse": {"payment_officer"},
    }
    for role in ("enrolment_officer", "facility_clerk", "claims_reviewer", "payment_officer", "analyst", "auditor",
                 "implementer"):
        as_user(client, role)
        for url, allowed in rules.items():
            assert client.get(url).status_code == (200 if role in allowed else 403), (role, url)
        for url in (f"/s/{CODE}/vouchers/issue", f"/s/{CODE}/vouchers/redeem", f"/s/{CODE}/vouchers/reimburse"):
            if role not in rules[url]:
                assert client.post(url).status_code == 403, (role, url)


def test_posts_need_the_csrf_token(app, client, ctx):
    login(client, "facility_clerk")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert redeem(client, ctx, "VXXXXXXXXXXX").status_code == 400
        page = client.get(f"/s/{CODE}/vouchers/redeem").get_data(as_text=True)
        r = client.post(f"/s/{CODE}/vouchers/redeem", data={
            "csrf_token": csrf_token(page), "code": "VXXXXXXXXXXX", "holder": ctx["person"].uid, "service": "CPN1",
            "on": ISSUED.isoformat(), "facility": str(ctx["centre"].id)})
        assert r.status_code == 409 and re.search(r'data-refused="V01"', r.get_data(as_text=True))
        as_user(client, "enrolment_officer")
        assert issue(client, ctx["person"].uid).status_code == 400
        as_user(client, "payment_officer")
        assert client.post(f"/s/{CODE}/vouchers/reimburse", data={"facility": "HC1", "period": "2020-01"}
                           ).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
