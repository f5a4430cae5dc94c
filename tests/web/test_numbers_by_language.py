"""Numbers and amounts written the way the page's language writes them: 1 234 567,50 on a French page
(narrow no-break spaces, a decimal comma), 1,234,567.50 on an English one, as before. The template
filters `number` and `money` are there for every page."""

from __future__ import annotations

from datetime import date, timedelta

from flask import render_template_string

from conftest import login, make_user
from openscheme.registry.service import Registry
from openscheme.storage.models import Facility
from openscheme.storage.workflow_models import Voucher

NNBSP = "\u202f"
TODAY = date.today()
ISSUED = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)
WOMAN = {"cheque_number": "CS00012345", "first_name": "Aissatou", "last_name": "Bouba", "sex": "F",
         "dob": "1998-06-10", "phone": "+237690000001", "region": "EN", "health_district": "MOKOLO", "parity": 1,
         "lmp_known": True, "lmp": (TODAY - timedelta(days=100)).isoformat()}


def test_the_filters_by_the_pages_language(app):
    template = "{{ 1234567.5|money }} | {{ 2500|money }} | {{ 1234567|number }} | {{ 1.5|number(2) }} | {{ none|money }}"
    with app.test_request_context("/?lang=fr"):
        assert render_template_string(template) == \
            f"1{NNBSP}234{NNBSP}567,50 | 2{NNBSP}500 | 1{NNBSP}234{NNBSP}567 | 1,50 | "
    with app.test_request_context("/?lang=en"):
        assert render_template_string(template) == "1,234,567.50 | 2,500 | 1,234,567 | 1.50 | "


def test_voucher_amounts_in_french(app, session):
    catalog = app.extensions["openscheme"].catalog
    person = Registry(session, catalog).register("cm-cheque-sante", WOMAN).record
    session.add(Facility(code="HC1", name="CSI Mokolo", level="health_centre", care_type="both"))
    session.commit()
    client = app.test_client()
    make_user(app, "agent", [("enrolment_officer", None, None)])
    login(client, "agent")
    client.post("/s/cm-cheque-sante/vouchers/issue", data={"uid": person.uid, "benefit": "cheque_sante",
                                                            "issued_on": ISSUED.isoformat()})
    client.post("/logout")
    make_user(app, "greffier", [("facility_clerk", None, None)], language="fr")
    login(client, "greffier")
    code = session.query(Voucher.code).filter(Voucher.type == "antenatal").order_by(Voucher.id).first()[0]
    facility = session.query(Facility.id).filter(Facility.code == "HC1").scalar()
    r = client.post("/s/cm-cheque-sante/vouchers/redeem", data={
        "code": code, "holder": person.uid, "service": "CPN1", "on": ISSUED.isoformat(), "facility": str(facility)})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and f"2{NNBSP}500 XAF" in page, page[-2000:]
    assert "2,500" not in page


def test_a_money_field_of_a_record_in_french(app, session):
    from insurance_helpers import ssf_employee

    catalog = app.extensions["openscheme"].catalog
    person = Registry(session, catalog).register("np-ssf", ssf_employee(wage=1234567)).record
    session.commit()
    client = app.test_client()
    make_user(app, "agent", [("enrolment_officer", None, None)], language="fr")
    login(client, "agent")
    page = client.get(f"/r/{person.uid}").get_data(as_text=True)
    assert f"1{NNBSP}234{NNBSP}567,00 NPR" in page, page[-3000:]
    assert "1,234,567.00 NPR" in client.get(f"/r/{person.uid}?lang=en").get_data(as_text=True)
