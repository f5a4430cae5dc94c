"""The registry screens: register, view, edit, deactivate, history, search, area limits, French."""

from __future__ import annotations

import re

import pytest
from registry_helpers import (
    chf_post,
    chf_record,
    field_error,
    input_value,
    nafa_post,
    register_direct,
    seed_locations,
)
from sqlalchemy import select

from conftest import login, make_user
from openscheme.storage.models import AuditLog, Household, Individual, SchemeVersion


@pytest.fixture
def officer(app, client):
    make_user(app, "officer", [("enrolment_officer", None, None)])
    login(client, "officer")
    return client


@pytest.fixture
def places(app):
    seed_locations(app)


def uid_from(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return response.headers["Location"].rsplit("/", 1)[-1]


# ---- register ---------------------------------------------------------------------------


def test_registering_a_household_saves_it_with_members_roles_and_an_audit_entry(app, officer, session):
    r = officer.post("/s/gm-nafa-quick/register", data=nafa_post())
    uid = uid_from(r)
    household = session.scalar(select(Household).where(Household.uid == uid))
    assert household.scheme_code == "gm-nafa-quick"
    assert household.data["district"] == "BSE" and household.data["village"] == "Sabi"
    assert "phone" not in household.data
    members = session.scalars(select(Individual).where(Individual.household_id == household.id)
                              .order_by(Individual.position)).all()
    assert [m.data["first_name"] for m in members] == ["Awa", "Lamin"]
    assert members[0].roles == ["head", "primary_recipient"] and members[1].roles == []
    assert members[0].data["dob"] == "1980-02-01"
    entry = session.scalar(select(AuditLog).where(AuditLog.entity == "household", AuditLog.entity_id == household.id))
    assert entry.action == "create" and entry.username == "officer"
    assert entry.after["members"][0]["data"]["first_name"] == "Awa"
    page = officer.get(f"/r/{uid}").get_data(as_text=True)
    assert "Saved as " + uid in page
    assert "Upper River" in page and "Basse" in page  # choice labels, not codes
    assert "Head of household, Primary recipient" in page
    assert "Captured under version 1 of the scheme" in page


def test_a_bad_value_returns_the_page_with_the_error_next_to_the_field(app, officer, session):
    r = officer.post("/s/gm-nafa-quick/register",
                     data=nafa_post(payment_channel="mobile_money", phone="call me", **{"members-0-national_id": "12"}))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert field_error(html, "phone") == "Digits only, 7 to 15, optionally starting with +"
    assert field_error(html, "members-0-national_id") == "Nine digits"
    assert input_value(html, "phone") == "call me"
    assert input_value(html, "members-0-first_name") == "Awa"
    assert session.scalar(select(Household)) is None


def test_relevance_is_enforced_by_the_server(app, officer, session):
    # phone is relevant only for mobile money: a value typed before switching is dropped
    uid = uid_from(officer.post("/s/gm-nafa-quick/register", data=nafa_post(phone="+2207000000")))
    assert "phone" not in session.scalar(select(Household).where(Household.uid == uid)).data
    # and required when relevant, even if the browser hid nothing
    r = officer.post("/s/gm-nafa-quick/register", data=nafa_post(payment_channel="mobile_money", phone=""))
    assert r.status_code == 422
    assert field_error(r.get_data(as_text=True), "phone") == "This field is required."


def test_a_choice_outside_the_chosen_parent_is_refused(app, officer):
    r = officer.post("/s/gm-nafa-quick/register", data=nafa_post(region="WCR", district="BSE"))
    assert r.status_code == 422
    assert field_error(r.get_data(as_text=True), "district") == "“BSE” does not belong to the chosen “region”."


def test_a_place_outside_the_chosen_higher_place_is_refused(app, officer, places):
    r = officer.post("/s/tz-chf/register", data=chf_post(ward="BAHI_WARD", village="BAHI_SOKONI"))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "does not belong to the chosen “district council”" in field_error(html, "ward")
    assert field_error(html, "village") is None  # Bahi Sokoni is in Bahi ward: only the ward is wrong
    uid = uid_from(officer.post("/s/tz-chf/register", data=chf_post()))
    assert "Mlali Bwawani (MLALI_BWAWANI)" in officer.get(f"/r/{uid}").get_data(as_text=True)


def test_member_count_and_role_rules_are_shown(app, officer):
    data = nafa_post(**{"members-0-roles": ["head"]})
    r = officer.post("/s/gm-nafa-quick/register", data=data)
    assert r.status_code == 422
    assert "At least 1 member(s) must have the role Primary recipient." in r.get_data(as_text=True)


def test_quick_registration_on_a_phone_screen(app, officer, session):
    html = officer.get("/s/gm-nafa-quick/quick").get_data(as_text=True)
    assert "os-quick" in html and 'name="payment_channel"' in html
    assert 'name="members-0-national_id"' not in html  # optional: left for later
    data = {k: v for k, v in nafa_post().items() if "national_id" not in k}
    r = officer.post("/s/gm-nafa-quick/quick", data=data)
    assert r.status_code == 302 and r.headers["Location"].endswith("/s/gm-nafa-quick/quick")
    assert session.scalar(select(Household)) is not None


# ---- edit, deactivate, history ----------------------------------------------------------


def test_edit_is_audited_with_before_and_after(app, officer, session):
    uid = uid_from(officer.post("/s/gm-nafa-quick/register", data=nafa_post()))
    page = officer.get(f"/r/{uid}/edit").get_data(as_text=True)
    assert input_value(page, "village") == "Sabi"
    assert input_value(page, "members-1-first_name") == "Lamin"
    version = re.search(r'name="row_version" value="(\d+)"', page).group(1)
    data = nafa_post(village="Basse Santa Su", **{"members-1-first_name": "Lamine"}) | {"row_version": version}
    r = officer.post(f"/r/{uid}/edit", data=data)
    assert r.status_code == 302
    household = session.scalar(select(Household).where(Household.uid == uid))
    assert household.data["village"] == "Basse Santa Su" and household.row_version == int(version) + 1
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "update"))
    assert entry.before["data"]["village"] == "Sabi" and entry.after["data"]["village"] == "Basse Santa Su"
    history = officer.get(f"/r/{uid}/history").get_data(as_text=True)
    assert "Changed" in history and "by officer" in history
    assert re.search(r"<td>Village</td><td class=\"before\">Sabi</td><td class=\"after\">Basse Santa Su</td>", history)
    assert re.search(r"<td>Member 2 · First name</td><td class=\"before\">Lamin</td><td class=\"after\">Lamine</td>", history)
    # a second save with the old version: someone changed it meanwhile
    r = officer.post(f"/r/{uid}/edit", data=data)
    assert r.status_code == 422
    assert "Someone else changed this record meanwhile" in r.get_data(as_text=True)


def test_removing_a_member_row_in_the_middle_keeps_the_others_data(app, officer, session):
    """Rows carry the member's uid: saving matches them to the stored members by who they are."""
    third = {"members-2-first_name": "Fatou", "members-2-last_name": "Jallow", "members-2-sex": "F",
             "members-2-dob": "2008-01-01", "members-2-national_id": ""}
    uid = uid_from(officer.post("/s/gm-nafa-quick/register", data=nafa_post(**third)))
    household = session.scalar(select(Household).where(Household.uid == uid))
    before = {m.data["first_name"]: m.uid for m in household.members}
    page = officer.get(f"/r/{uid}/edit").get_data(as_text=True)
    ids = dict(re.findall(r'name="members-(\d)-_member" value="([^"]*)"', page))
    assert ids == {"0": before["Awa"], "1": before["Lamin"], "2": before["Fatou"]}
    assert 'name="members-__index__-_member" value=""' in page  # a row added in the page is a new member
    version = re.search(r'name="row_version" value="(\d+)"', page).group(1)
    data = {k: v for k, v in nafa_post(**third).items() if not k.startswith("members-1-")}
    data |= {"members-0-_member": ids["0"], "members-2-_member": ids["2"], "members-2-dob": "2008-02-02",
             "row_version": version}
    r = officer.post(f"/r/{uid}/edit", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[-2000:]
    session.rollback()
    household = session.scalar(select(Household).where(Household.uid == uid))
    kept = {m.uid: m for m in household.members if m.active}
    assert set(kept) == {before["Awa"], before["Fatou"]}
    assert kept[before["Fatou"]].data["dob"] == "2008-02-02" and kept[before["Fatou"]].data["first_name"] == "Fatou"
    assert [m.position for m in household.members] == [0, 1]
    lamin = session.scalar(select(Individual).where(Individual.uid == before["Lamin"]))
    assert lamin.active is False and lamin.household_id is None and lamin.data["first_name"] == "Lamin"
    # a uid that is not one of this household's members is a new member, never someone else's record
    other = uid_from(officer.post("/s/gm-nafa-quick/register", data=nafa_post(**{
        "members-0-national_id": "987654321", "members-1-first_name": "Omar"})))
    session.rollback()
    stranger = session.scalar(select(Household).where(Household.uid == other)).members[1].uid
    page = officer.get(f"/r/{uid}/edit").get_data(as_text=True)
    version = re.search(r'name="row_version" value="(\d+)"', page).group(1)
    data |= {"members-2-_member": stranger, "row_version": version}
    assert officer.post(f"/r/{uid}/edit", data=data).status_code == 302
    session.rollback()
    assert session.scalar(select(Individual).where(Individual.uid == stranger)).household.uid == other
    assert before["Fatou"] not in {m.uid for m in session.scalar(select(Household).where(Household.uid == uid)).members}


def test_deactivate_and_reactivate_need_a_reason(app, officer, session):
    uid = uid_from(officer.post("/s/gm-nafa-quick/register", data=nafa_post()))
    r = officer.post(f"/r/{uid}/deactivate", data={"reason": ""}, follow_redirects=True)
    assert "Give a reason." in r.get_data(as_text=True)
    assert session.scalar(select(Household.active).where(Household.uid == uid)) is True
    r = officer.post(f"/r/{uid}/deactivate", data={"reason": "moved away"}, follow_redirects=True)
    assert "Record deactivated." in r.get_data(as_text=True)
    session.rollback()  # a new transaction sees what the app committed
    household = session.scalar(select(Household).where(Household.uid == uid))
    assert household.active is False and all(not m.active for m in household.members)
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "deactivate"))
    assert entry.detail == "moved away"
    assert officer.get(f"/r/{uid}/edit").status_code == 302  # reactivate first
    assert f'/r/{uid}"' not in officer.get("/s/gm-nafa-quick/?q=" + uid).get_data(as_text=True)
    assert f'/r/{uid}"' in officer.get(f"/s/gm-nafa-quick/?q={uid}&inactive=1").get_data(as_text=True)
    history = officer.get(f"/r/{uid}/history").get_data(as_text=True)
    assert "Reason: moved away" in history
    officer.post(f"/r/{uid}/reactivate", data={"reason": "came back"})
    session.rollback()  # a new transaction sees what the app committed
    assert session.scalar(select(Household.active).where(Household.uid == uid)) is True


def test_a_member_uid_opens_the_household(app, officer, session):
    uid = uid_from(officer.post("/s/gm-nafa-quick/register", data=nafa_post()))
    member = session.scalar(select(Individual).where(Individual.position == 1))
    r = officer.get(f"/r/{member.uid}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/r/{uid}")
    assert officer.get("/r/NOT-A-UID").status_code == 404
    assert officer.get("/r/H0000000000").status_code == 404


def test_a_record_is_shown_with_the_scheme_version_it_was_captured_under(app, officer, session):
    uid = uid_from(officer.post("/s/gm-nafa-quick/register", data=nafa_post()))
    current = session.scalar(select(SchemeVersion).where(SchemeVersion.code == "gm-nafa-quick", SchemeVersion.is_current))
    old = SchemeVersion(code=current.code, version="0", content_hash="0" * 64, title=current.title,
                        file_name=current.file_name, is_current=False,
                        yaml_text=current.yaml_text.replace("label: {en: Village, fr: Village}",
                                                            "label: {en: Settlement, fr: Village}"))
    session.add(old)
    session.flush()
    session.execute(Household.__table__.update().where(Household.uid == uid).values(scheme_version_id=old.id))
    session.commit()
    try:
        page = officer.get(f"/r/{uid}").get_data(as_text=True)
        assert "<dt>Settlement</dt>" in page
        assert "Captured under version 0 of the scheme" in page and "the scheme has changed since" in page
    finally:  # scheme versions outlive a test: remove the row, and the catalog's compiled copy of it
        session.execute(Household.__table__.update().where(Household.uid == uid)
                        .values(scheme_version_id=current.id))
        session.delete(old)
        session.commit()
        app.extensions["openscheme"].catalog._by_version.pop(old.id, None)


# ---- search -----------------------------------------------------------------------------


def test_search_by_name_prefix_national_id_and_uid(app, officer, places):
    first = register_direct(app, "tz-chf", chf_record(first_name="Juma", nida="19800312411230000125"))
    second = register_direct(app, "tz-chf", chf_record(first_name="Rehema"))
    listing = officer.get("/s/tz-chf/").get_data(as_text=True)
    assert first in listing and second in listing
    assert "Juma Mussa" in listing and "Kongwa District Council" in listing

    def found(q):
        html = officer.get("/s/tz-chf/", query_string={"q": q}).get_data(as_text=True)
        return {u for u in (first, second) if f"/r/{u}\"" in html}

    assert found("jum") == {first}  # name prefix, any case
    assert found("Reh") == {second}
    assert found("19800312411230000125") == {first}  # a member's national ID finds the household
    assert found(second) == {second}
    assert found(second.lower()) == {second}
    assert found("nobody") == set()


def test_search_pages_without_counting(app, officer, places):
    uids = [register_direct(app, "tz-chf", chf_record(first_name=f"Person{i:02d}")) for i in range(27)]
    page1 = officer.get("/s/tz-chf/").get_data(as_text=True)
    assert 'rel="next"' in page1 and 'rel="prev"' not in page1
    assert sum(u in page1 for u in uids) == 25
    page2 = officer.get("/s/tz-chf/?page=2").get_data(as_text=True)
    assert sum(u in page2 for u in uids) == 2
    assert 'rel="prev"' in page2 and 'rel="next"' not in page2
    assert officer.get("/s/tz-chf/?page=abc").status_code == 200


def test_search_by_place(app, officer, places):
    kongwa = register_direct(app, "tz-chf", chf_record())
    bahi = register_direct(app, "tz-chf", chf_record(district="BAHI_DC", ward="BAHI_WARD", village="BAHI_SOKONI"))
    html = officer.get("/s/tz-chf/?place=BAHI_DC").get_data(as_text=True)
    assert bahi in html and kongwa not in html
    html = officer.get("/s/tz-chf/?place=DODOMA").get_data(as_text=True)
    assert bahi in html and kongwa in html


# ---- areas and permissions --------------------------------------------------------------


@pytest.fixture
def kongwa_officer(app, client, places):
    make_user(app, "kongwa", [("enrolment_officer", "tz-chf", "KONGWA_DC")])
    login(client, "kongwa")
    return client


def test_an_officer_sees_and_edits_only_their_district(app, kongwa_officer, session):
    mine = register_direct(app, "tz-chf", chf_record(first_name="Juma"))
    theirs = register_direct(app, "tz-chf", chf_record(first_name="Juma", district="BAHI_DC", ward="BAHI_WARD",
                                                       village="BAHI_SOKONI"))
    listing = kongwa_officer.get("/s/tz-chf/?q=juma").get_data(as_text=True)
    assert mine in listing and theirs not in listing
    assert theirs not in kongwa_officer.get("/s/tz-chf/").get_data(as_text=True)
    assert theirs not in kongwa_officer.get("/s/tz-chf/?place=BAHI_DC").get_data(as_text=True)
    assert kongwa_officer.get(f"/r/{mine}").status_code == 200
    for url in (f"/r/{theirs}", f"/r/{theirs}/edit", f"/r/{theirs}/history"):
        assert kongwa_officer.get(url).status_code == 403, url
    assert kongwa_officer.post(f"/r/{theirs}/edit", data=chf_post()).status_code == 403
    assert kongwa_officer.post(f"/r/{theirs}/deactivate", data={"reason": "x"}).status_code == 403
    # another scheme is not theirs at all
    assert kongwa_officer.get("/s/gm-nafa-quick/").status_code == 403
    assert kongwa_officer.get("/s/gm-nafa-quick/register").status_code == 403


def test_an_officer_cannot_register_or_move_a_record_outside_their_district(app, kongwa_officer, session):
    form = kongwa_officer.get("/s/tz-chf/register").get_data(as_text=True)
    assert 'value="KONGWA_DC"' in form and 'value="BAHI_DC"' not in form  # only their places are offered
    assert 'value="DODOMA"' in form  # and the region above them
    r = kongwa_officer.post("/s/tz-chf/register", data=chf_post(district="BAHI_DC", ward="BAHI_WARD",
                                                                 village="BAHI_SOKONI"))
    assert r.status_code == 422
    assert "only register and edit records in your own area" in r.get_data(as_text=True)
    assert session.scalar(select(Household)) is None
    assert session.scalar(select(AuditLog).where(AuditLog.action == "create")) is None
    uid = uid_from(kongwa_officer.post("/s/tz-chf/register", data=chf_post()))
    r = kongwa_officer.post(f"/r/{uid}/edit", data=chf_post(district="BAHI_DC", ward="BAHI_WARD",
                                                            village="BAHI_SOKONI") | {"row_version": "1"})
    assert r.status_code == 422
    session.rollback()  # a new transaction sees what the app committed
    assert session.scalar(select(Household.location_code).where(Household.uid == uid)) == "MLALI_BWAWANI"


@pytest.mark.parametrize("role, view, edit", [
    ("enrolment_officer", 200, 200), ("auditor", 200, 403), ("analyst", 200, 403),
    ("facility_clerk", 200, 403), ("payment_officer", 200, 403), ("administrator", 200, 200),
])
def test_permissions_by_role(app, client, role, view, edit):
    make_user(app, "u", [(role, None, None)])
    login(client, "u")
    assert client.get("/s/gm-nafa-quick/").status_code == view
    assert client.get("/s/gm-nafa-quick/register").status_code == edit
    assert client.get("/s/gm-nafa-quick/quick").status_code == edit


def test_signed_out_users_are_sent_to_the_login(app, client):
    r = client.get("/s/gm-nafa-quick/register")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert client.get("/s/nope/").status_code == 302


def test_unknown_scheme(app, officer):
    assert officer.get("/s/no-such-scheme/").status_code == 404


def test_home_links_to_each_registry(app, officer):
    html = officer.get("/").get_data(as_text=True)
    assert 'href="/s/gm-nafa-quick/"' in html and 'href="/s/tz-chf/register"' in html
    assert 'href="/s/tz-chf/quick"' in html


def test_csrf_token_in_every_form(app, officer):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = officer.get("/s/gm-nafa-quick/register").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert officer.post("/s/gm-nafa-quick/register", data=nafa_post()).status_code == 400
        r = officer.post("/s/gm-nafa-quick/register", data=nafa_post() | {"csrf_token": token})
        uid = uid_from(r)
        view = officer.get(f"/r/{uid}").get_data(as_text=True)
        assert view.count('name="csrf_token"') >= 3  # language switch, sign out, deactivate
        edit = officer.get(f"/r/{uid}/edit").get_data(as_text=True)
        assert 'name="csrf_token"' in edit
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


# ---- French -----------------------------------------------------------------------------


def test_errors_in_french_with_lang_fr(app, officer):
    r = officer.post("/s/gm-nafa-quick/register?lang=fr",
                     data=nafa_post(payment_channel="mobile_money", phone="abc", **{"members-1-sex": ""}))
    html = r.get_data(as_text=True)
    assert field_error(html, "phone") == "Chiffres uniquement, 7 à 15, éventuellement précédés de +"
    assert field_error(html, "members-1-sex") == "Ce champ est obligatoire."
    assert "Corrigez les valeurs signalées ci-dessous." in html
    assert "<label for=\"region\">Région" in html
    assert "Membre 2 · Sexe" in html


def test_interface_in_the_users_language(app, client):
    make_user(app, "agent", [("enrolment_officer", None, None)], language="fr")
    login(client, "agent")
    r = client.post("/s/gm-nafa-quick/register", data=nafa_post(region="WCR", district="BSE"))
    html = r.get_data(as_text=True)
    assert field_error(html, "district") == "« BSE » ne correspond pas à la valeur choisie pour « région »."
    assert "Ajouter un membre" in html and "Enregistrer" in html
    search = client.get("/s/gm-nafa-quick/").get_data(as_text=True)
    assert "Registre" in search and "Rechercher" in search


def test_yes_no_and_buttons_in_french(app, officer):
    html = officer.get("/s/cm-cheque-sante/register?lang=fr").get_data(as_text=True)
    assert "> Oui</label>" in html and "> Non</label>" in html
    assert "<legend>Date des dernières règles connue ?" in html  # the scheme's own French label
    assert "— choisir —" in html and "Enregistrer</button>" in html
