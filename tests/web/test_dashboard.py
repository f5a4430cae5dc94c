"""The dashboard: set-based figures per scheme and area, SVG charts, filters, DHIS2 download."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from analysis_helpers import NAFA, register_nafa, target_and_enrol
from conftest import login, make_user
from openscheme.analysis.dashboard import Filters, build
from openscheme.storage.models import (
    Enrolment,
    Facility,
    Household,
    Icd10Code,
    Individual,
    Location,
    User,
)
from openscheme.storage.workflow_models import (
    ClaimRecord,
    Contribution,
    Policy,
    Voucher,
    VoucherRedemption,
)

CHF = "tz-chf"


@pytest.fixture
def chf_data(app, session):
    """Two councils of Dodoma with households, enrolments, contributions, claims and vouchers,
    written straight into the tables (the dashboard only reads them)."""
    catalog = app.extensions["openscheme"].catalog
    version = catalog.version_id(CHF)
    places = {}
    for code, name, level, parent in (("TZ", "Tanzania", "country", None), ("DODOMA", "Dodoma", "region", "TZ"),
                                      ("KONGWA_DC", "Kongwa", "district", "DODOMA"),
                                      ("BAHI_DC", "Bahi", "district", "DODOMA")):
        path = (places[parent].path if parent else "/") + code + "/"
        places[code] = Location(code=code, name=name, level=level, path=path,
                                parent_id=places[parent].id if parent else None)
        session.add(places[code])
        session.flush()
    facility = Facility(code="F1", name="Kongwa HC", level="health_centre", location_id=places["KONGWA_DC"].id)
    session.add_all([facility, Icd10Code(code="B54", title="Malaria", chapter="I"),
                     Icd10Code(code="J06", title="Upper respiratory infection", chapter="X")])
    session.flush()
    people = []
    for i, (district, enrolled) in enumerate([("KONGWA_DC", True), ("KONGWA_DC", True), ("KONGWA_DC", False),
                                              ("BAHI_DC", True)]):
        path = places[district].path
        hh = Household(uid=f"HT{i:09d}", scheme_code=CHF, scheme_version_id=version, location_code=district,
                       location_path=path, data={"region": "DODOMA", "district": district, "payment_method": "cash"})
        session.add(hh)
        session.flush()
        for j in range(2):
            person = Individual(uid=f"PT{i:04d}{j:05d}", scheme_code=CHF, scheme_version_id=version,
                                household_id=hh.id, position=j, roles=["head"] if j == 0 else [],
                                data={"first_name": f"A{i}", "last_name": "B", "sex": "F", "dob": "1980-01-01"},
                                location_code=district, location_path=path)
            session.add(person)
            session.flush()
            people.append(person)
        if enrolled:
            session.add(Enrolment(scheme_code=CHF, scheme_version_id=version, household_id=hh.id, status="active",
                                  start_date=date(2024, 7, 10 + i)))
            policy = Policy(scheme_code=CHF, scheme_version_id=version, benefit_code="chf_cover",
                            unit_type="household", unit_id=hh.id, status="active", enrol_date=date(2024, 7, 10))
            session.add(policy)
            session.flush()
            session.add(Contribution(policy_id=policy.id, amount=Decimal(30000), paid_on=date(2024, 7, 12),
                                     method="cash", reference=f"R{i}"))
    for k, (diagnosis, status, who) in enumerate([("B54", "paid", 0), ("B54", "rejected", 1), ("J06", "paid", 2),
                                                  ("B54", "entered", 6)]):
        session.add(ClaimRecord(code=f"C{k}", scheme_code=CHF, scheme_version_id=version, benefit_code="chf_cover",
                                facility_id=facility.id, individual_id=people[who].id, date_from=date(2024, 8, 1),
                                care_type="out_patient", diagnosis=diagnosis, status=status, asked=Decimal(5000),
                                payable=Decimal(4000) if status == "paid" else Decimal(0)))
    v1 = Voucher(code="V1", scheme_code=CHF, benefit_code="x", type="anc", individual_id=people[0].id,
                 status="redeemed", issued_on=date(2024, 8, 1), valid_from=date(2024, 8, 1))
    v2 = Voucher(code="V2", scheme_code=CHF, benefit_code="x", type="anc", individual_id=people[6].id,
                 status="issued", issued_on=date(2024, 8, 1), valid_from=date(2024, 8, 1))
    session.add_all([v1, v2])
    session.flush()
    session.add(VoucherRedemption(voucher_id=v1.id, facility_id=facility.id, service_code="ANC01",
                                  redeemed_on=date(2024, 8, 2)))
    session.commit()
    return places


def test_figures_everywhere_and_in_one_council(app, session, chf_data):
    scheme = app.extensions["openscheme"].catalog.current(CHF)
    d = build(session, scheme, Filters())
    assert (d.registered, d.enrolled, d.people, d.enrolled_people) == (4, 3, 8, 6)
    assert d.coverage == Decimal("75.0")
    assert {(c, label, n, e) for c, label, n, e in d.by_area} == {("KONGWA_DC", "Kongwa", 3, 2), ("BAHI_DC", "Bahi", 1, 1)}
    assert d.contributions_total == 90000 and d.contributions_count == 3
    assert (d.claims_submitted, d.claims_rejected, d.claims_paid, d.claims_paid_amount) == (4, 1, 2, 8000)
    assert d.top_diagnoses[0] == ("B54", "Malaria", 3)
    assert (d.vouchers_issued, d.vouchers_used) == (2, 1)
    kongwa = build(session, scheme, Filters(area_path=chf_data["KONGWA_DC"].path))
    assert (kongwa.registered, kongwa.enrolled, kongwa.contributions_total) == (3, 2, 60000)
    assert kongwa.claims_submitted == 3 and kongwa.vouchers_issued == 1
    later = build(session, scheme, Filters(start=date(2024, 9, 1)))
    assert later.claims_submitted == 0 and later.contributions_total == 0 and later.registered == 4


def test_the_page_draws_svg_and_narrows_to_the_users_area(app, client, chf_data, session):
    make_user(app, "analyst_all", [("analyst", None, None)])
    make_user(app, "analyst_bahi", [("analyst", CHF, "BAHI_DC")])
    login(client, "analyst_all")
    r = client.get(f"/s/{CHF}/dashboard")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert page.count("<svg") >= 5 and "<script" not in page
    assert 'id="registered">4<' in page and 'id="coverage">75.0' in page and "Malaria" in page
    assert 'id="claims-rejected">1<' in page
    page = client.get(f"/s/{CHF}/dashboard?area=KONGWA_DC&from=2024-07-01&to=2024-12-31").get_data(as_text=True)
    assert 'id="registered">3<' in page
    client.post("/logout")
    login(client, "analyst_bahi")
    page = client.get(f"/s/{CHF}/dashboard").get_data(as_text=True)
    assert 'id="registered">1<' in page  # only Bahi, without asking
    assert client.get(f"/s/{CHF}/dashboard?area=KONGWA_DC").status_code == 403
    assert client.get(f"/s/{CHF}/dashboard?area=NOWHERE").status_code == 404


def test_roles_and_empty_tables(app, client, users):
    login(client, "enrolment_officer")
    assert client.get(f"/s/{NAFA}/dashboard").status_code == 403
    client.post("/logout")
    login(client, "auditor")
    page = client.get(f"/s/{NAFA}/dashboard").get_data(as_text=True)
    assert 'id="registered">0<' in page and "No payment cycle yet." in page


def test_payments_per_cycle(app, client, session, users):
    from openscheme.payments import cycles

    register_nafa(app, session, n=12)
    maker = session.get(User, users["payment_officer"])
    checker = session.get(User, users["enrolment_officer"])
    target_and_enrol(app, session, maker, checker)
    state = app.extensions["openscheme"]
    scheme = state.catalog.current(NAFA)
    cycle = cycles.prepare(state.db.session_factory, scheme, state.catalog.version_id(NAFA),
                           scheme.benefit("nafa_quick"), 1, maker)
    d = build(session, scheme, Filters())
    assert d.cycles == [{"benefit": "nafa_quick", "cycle": 1, "status": "prepared", "start": d.cycles[0]["start"],
                         "count": cycle.payment_count, "total": cycle.total, "paid": 0,
                         "paid_amount": Decimal(0), "failed": 0}]
    login(client, "analyst")
    page = client.get(f"/s/{NAFA}/dashboard").get_data(as_text=True)
    assert 'id="cycles"' in page and "nafa_quick" in page


def test_dhis2_download(app, client, session, users):
    register_nafa(app, session, n=8)
    login(client, "analyst")
    period = date.today().strftime("%Y%m")
    r = client.get(f"/s/{NAFA}/dhis2.json?period={period}&data_set=NQ")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    doc = json.loads(r.get_data(as_text=True))
    assert doc["dataSet"] == "NQ" and doc["period"] == period
    total = sum(int(v["value"]) for v in doc["dataValues"] if v["dataElement"] == "NQ_PEOPLE")
    assert total == session.scalar(select(__import__("sqlalchemy").func.count()).select_from(Individual).where(
        Individual.scheme_code == NAFA))
    assert client.get(f"/s/{NAFA}/dhis2.json?period=2026-08").status_code == 400
    assert client.get(f"/s/{NAFA}/dashboard").get_data(as_text=True).count('id="dhis2"') == 1


def test_pages_in_french(app, client, users):
    login(client, "analyst")
    assert "Tableau de bord" in client.get(f"/s/{NAFA}/dashboard?lang=fr").get_data(as_text=True)
    assert "Registre des enrôlements" in client.get(f"/s/{NAFA}/reports?lang=fr").get_data(as_text=True)
    page = client.get(f"/s/{NAFA}/workbench?lang=fr").get_data(as_text=True)
    assert "Atelier des formules" in page and "(ligne {line}, colonne {col})" in page
    r = client.post(f"/s/{NAFA}/workbench/preview?lang=fr", data={
        "target": "eligibility.poorest_district", "formula": "district in poorest_districts and count(members) >= 3",
        "as_of": "2020-08-01"})
    assert "Impact sur le registre" in r.get_data(as_text=True)
    assert "Versions et modifications" in client.get(f"/s/{NAFA}/versions?lang=fr").get_data(as_text=True)


def test_an_insurance_scheme_counts_its_policies_as_enrolments(app, session, chf_data):
    """Enrolling in an insurance scheme is taking out a policy (there is no enrolment row then, as the
    demo's insured show): the figures come from the policies."""
    session.query(Enrolment).delete()
    session.commit()
    scheme = app.extensions["openscheme"].catalog.current(CHF)
    d = build(session, scheme, Filters())
    assert (d.registered, d.enrolled, d.people, d.enrolled_people) == (4, 3, 8, 6)
    assert d.enrolments_by_month == [("2024-07", 3)] and d.new_enrolments == 3
    assert build(session, scheme, Filters(start=date(2024, 8, 1))).new_enrolments == 0


def test_the_claims_figures_agree_with_les_demandes_in_french(app, client, chf_data, users):
    login(client, "analyst")
    page = client.get(f"/s/{CHF}/dashboard?lang=fr").get_data(as_text=True)
    assert "soumises" in page and "rejetées" in page and "payées" in page
    assert "rejeté<" not in page and "payé ·" not in page
