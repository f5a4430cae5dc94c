"""A facility clerk who may work anywhere is offered only the facilities that can serve the scheme - in
its country, with a price list of its services (or none) - in the claim form and the voucher redemption
form, not the demo's 40-odd facilities of four countries; a facility posted anyway is refused with an
error at the facility field, by the form and by the API."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from e2e_helpers import as_role, bearer, claim_form, text

from insurance_helpers import ICD10, TODAY, insured, person_uid
from openscheme.storage.models import Facility, Location

VISIT = (TODAY - timedelta(days=1)).isoformat()


@pytest.fixture
def demo_places(app):
    """The demo's reference data: the places of four countries, their facilities and price lists."""
    from openscheme.reference.icd10 import load_icd10
    from openscheme.reference.seed import seed_catalogue, seed_facilities, seed_locations

    state = app.extensions["openscheme"]
    with state.db.session_factory() as s, s.begin():
        seed_locations(s)
        catalogue = seed_catalogue(s, state.catalog.all_current())
        seed_facilities(s, catalogue.price_lists)
        load_icd10(s, ICD10)
    with state.db.session_factory() as s:
        rows = s.execute(select_facilities()).all()
    return {code: (fid, path) for fid, code, path in rows}


def select_facilities():
    from sqlalchemy import select

    return select(Facility.id, Facility.code, Location.path).join(Location, Location.id == Facility.location_id)


def offered(page: str, name: str) -> set[str]:
    select = re.search(rf'<select id="{name}" name="[^"]+"[^>]*>(.*?)</select>', page, re.S)
    assert select, page[-3000:]
    return set(re.findall(r'<option value="([^"]+)"', select.group(1))) - {""}


def test_the_claim_form_offers_the_schemes_facilities_and_refuses_another(app, client, demo_places):
    assert len(demo_places) > 40
    uid, _ = insured(app, "tz-chf")
    woman = person_uid(app, uid, 1)
    as_role(app, client, "facility_clerk", "clerk")
    page = client.get(f"/s/tz-chf/claims/new?insuree={woman}").get_data(as_text=True)
    codes = offered(page, "pick-facility")
    tanzanian = {code for code, (_, path) in demo_places.items() if path.startswith("/TZ/")}
    assert codes and codes <= tanzanian, codes - tanzanian
    assert {"DSP_MLALI", "DH_KONGWA", "RRH_DODOMA"} <= codes  # a tz-chf price list, or none
    assert not codes & {"BIR_HOSPITAL", "HCY", "GM_BASSE_MHC", "SSF_KATHMANDU_HOSP"}
    # Nepal: the HIB's facilities, not the SSF's (their price list has none of the HIB's services)
    hib = offered(client.get("/s/np-hib/claims/new").get_data(as_text=True), "pick-facility")
    assert "BIR_HOSPITAL" in hib and not hib & {"SSF_KATHMANDU_HOSP", "SSF_POKHARA_HOSP", "DSP_MLALI"}

    # a facility of another country, posted anyway: an error at the facility field, nothing saved
    r = client.post("/s/tz-chf/claims/new", data=claim_form(woman, "X-1", "BIR_HOSPITAL", [("OPD01", "1")], VISIT))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'id="facility-error"' in html and "does not serve this scheme" in html, text(r)[-1500:]
    # the same in French
    r = client.post("/s/tz-chf/claims/new?lang=fr",
                    data=claim_form(woman, "X-1", "HCY", [("OPD01", "1")], VISIT))
    assert r.status_code == 422 and "ne dessert pas ce régime" in r.get_data(as_text=True)
    # one of the scheme's facilities is accepted
    r = client.post("/s/tz-chf/claims/new", data=claim_form(woman, "X-2", "DSP_MLALI", [("OPD01", "1")], VISIT))
    assert r.status_code == 302, text(r)[-1500:]

    # the API refuses it too
    h = bearer(app, client, "facility_clerk", "api-clerk")
    r = client.post("/api/v1/schemes/tz-chf/claims", headers=h, json={
        "code": "X-3", "facility": "GM_BASSE_MHC", "insuree": woman, "date_from": VISIT, "care_type": "out_patient",
        "diagnosis": "B54", "lines": [{"code": "OPD01", "quantity": 1}]})
    assert r.status_code == 422, r.get_json()
    assert "facility" in str(r.get_json()) and "does not serve this scheme" in str(r.get_json())


def test_the_redemption_form_offers_the_schemes_country_and_refuses_another(app, client, demo_places):
    as_role(app, client, "facility_clerk", "clerk")
    page = client.get("/s/cm-cheque-sante/vouchers/redeem").get_data(as_text=True)
    ids = offered(page, "facility")
    cameroonian = {str(fid) for fid, path in demo_places.values() if path.startswith("/CM/")}
    assert ids and ids <= cameroonian, ids - cameroonian
    assert str(demo_places["HD_MOKOLO"][0]) in ids and str(demo_places["DSP_MLALI"][0]) not in ids
    r = client.post("/s/cm-cheque-sante/vouchers/redeem", data={
        "code": "VXXXXXXXXXXX", "holder": "P0000000000", "service": "CPN1", "on": VISIT,
        "facility": str(demo_places["DSP_MLALI"][0])})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="facility-error"' in html and "Choose your facility." in html
