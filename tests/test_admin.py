"""The reference-data administration at /admin: access, every model, paths, passwords, audit, CSRF."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from conftest import ROLES, csrf_token, login, make_user
from openscheme.storage.models import (
    AuditLog,
    CatalogueEntry,
    Facility,
    Icd10Code,
    Location,
    PriceList,
    PriceListEntry,
    RoleAssignment,
    SchemeVersion,
    User,
)

MANAGED = ["locations", "facilities", "users", "role-assignments", "catalogue", "price-lists",
           "price-list-entries", "icd10"]
VERSION_VIEWERS = {"implementer", "analyst", "auditor"}


@pytest.fixture
def admin_client(app, client):
    make_user(app, "root", [("administrator", None, None)])
    assert login(client, "root").status_code == 302
    return client


def db(app):
    return app.extensions["openscheme"].db


def one(app, model, **by):
    with db(app).session_factory() as s:
        return s.scalars(select(model).filter_by(**by)).one_or_none()


def add_location(client, code, name, level, parent_id=None):
    data = {"code": code, "name": name, "level": level}
    if parent_id is not None:
        data["parent"] = str(parent_id)
    return client.post("/admin/locations/new/", data=data)


# ---- access ------------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_sign_in(client):
    r = client.get("/admin/locations/")
    assert r.status_code == 302
    assert "/login" in r.headers["Location"]


def test_only_administrators_manage_reference_data(app, client, users):
    for role in ROLES:
        c = app.test_client()
        login(c, role)
        for view in MANAGED:
            status = c.get(f"/admin/{view}/").status_code
            assert status == (200 if role == "administrator" else 403), (role, view, status)
        versions = c.get("/admin/scheme-versions/").status_code
        assert versions == (200 if role in VERSION_VIEWERS | {"administrator"} else 403), (role, versions)
        assert c.get("/admin/").status_code == (200 if role in VERSION_VIEWERS | {"administrator"} else 403)
    # a non-administrator cannot write either
    c = app.test_client()
    login(c, "implementer")
    assert add_location(c, "XX", "Nowhere", "region").status_code == 403
    assert one(app, Location, code="XX") is None


# ---- every model -------------------------------------------------------------------------------


def test_locations_form_a_hierarchy_with_computed_paths(app, admin_client):
    c = admin_client
    assert add_location(c, "TZ", "Tanzania", "country").status_code == 302
    tz = one(app, Location, code="TZ")
    assert tz.path == "/TZ/"
    add_location(c, "DODOMA", "Dodoma", "region", tz.id)
    dodoma = one(app, Location, code="DODOMA")
    add_location(c, "KONGWA_DC", "Kongwa", "district", dodoma.id)
    kongwa = one(app, Location, code="KONGWA_DC")
    assert kongwa.path == "/TZ/DODOMA/KONGWA_DC/"
    add_location(c, "SINGIDA", "Singida", "region", tz.id)
    singida = one(app, Location, code="SINGIDA")

    # listed, filtered by code (exact) and by "within"
    page = c.get("/admin/locations/").get_data(as_text=True)
    assert "KONGWA_DC" in page and "/TZ/DODOMA/KONGWA_DC/" in page
    assert "Kongwa" in c.get("/admin/locations/?flt0_0=KONGWA_DC").get_data(as_text=True)
    assert "Singida" not in c.get("/admin/locations/?flt0_0=KONGWA_DC").get_data(as_text=True)
    within = c.get("/admin/locations/?flt0_2=DODOMA").get_data(as_text=True)
    assert "Kongwa" in within and "Singida" not in within

    # moving a region moves its subtree
    r = c.post(f"/admin/locations/edit/?id={dodoma.id}",
               data={"code": "DODOMA", "name": "Dodoma region", "level": "region", "parent": str(singida.id)})
    assert r.status_code == 302
    assert one(app, Location, code="DODOMA").path == "/TZ/SINGIDA/DODOMA/"
    assert one(app, Location, code="KONGWA_DC").path == "/TZ/SINGIDA/DODOMA/KONGWA_DC/"

    # a location cannot go under its own sub-location, and its code cannot change
    r = c.post(f"/admin/locations/edit/?id={dodoma.id}",
               data={"code": "DODOMA", "name": "Dodoma", "level": "region", "parent": str(kongwa.id)})
    assert r.status_code == 200 and "under itself" in r.get_data(as_text=True)
    r = c.post(f"/admin/locations/edit/?id={kongwa.id}",
               data={"code": "KONGWA", "name": "Kongwa", "level": "district", "parent": str(dodoma.id)})
    assert "cannot change" in r.get_data(as_text=True)
    assert one(app, Location, code="KONGWA_DC").path == "/TZ/SINGIDA/DODOMA/KONGWA_DC/"

    # a location with sub-locations is not deleted
    r = c.post("/admin/locations/delete/", data={"id": str(dodoma.id)}, follow_redirects=True)
    assert "sub-locations" in r.get_data(as_text=True)
    assert one(app, Location, code="DODOMA") is not None
    r = c.post("/admin/locations/delete/", data={"id": str(kongwa.id)})
    assert r.status_code == 302 and one(app, Location, code="KONGWA_DC") is None


def test_facilities_catalogue_price_lists_and_icd10(app, admin_client):
    c = admin_client
    add_location(c, "TZ", "Tanzania", "country")
    tz = one(app, Location, code="TZ")

    r = c.post("/admin/catalogue/new/", data={"code": "OPD01", "name": "Outpatient consultation", "kind": "service",
                                               "category": "consultation", "care_type": "out_patient"})
    assert r.status_code == 302
    entry = one(app, CatalogueEntry, code="OPD01")
    r = c.post(f"/admin/catalogue/edit/?id={entry.id}", data={
        "code": "OPD01", "name": "Outpatient visit", "kind": "service", "category": "consultation", "care_type": "both"})
    assert r.status_code == 302 and one(app, CatalogueEntry, code="OPD01").name == "Outpatient visit"
    assert "Outpatient visit" in c.get("/admin/catalogue/").get_data(as_text=True)

    r = c.post("/admin/price-lists/new/", data={
        "name": "tz-chf dispensary", "currency": "tzs", "valid_from": "2024-07-01",
        "entries-0-entry": str(entry.id), "entries-0-price": "2000"})
    assert r.status_code == 302
    plist = one(app, PriceList, name="tz-chf dispensary")
    assert plist.currency == "TZS"
    with db(app).session_factory() as s:
        prices = s.execute(select(PriceListEntry.price).where(PriceListEntry.price_list_id == plist.id)).scalars().all()
    assert [int(p) for p in prices] == [2000]
    assert "tz-chf dispensary" in c.get("/admin/price-lists/").get_data(as_text=True)
    assert "Outpatient visit" in c.get("/admin/price-list-entries/").get_data(as_text=True)
    assert c.get(f"/admin/price-lists/edit/?id={plist.id}").status_code == 200

    r = c.post("/admin/facilities/new/", data={
        "code": "DSP_MLALI", "name": "Mlali Dispensary", "level": "dispensary", "care_type": "out_patient",
        "location": str(tz.id), "price_list": str(plist.id), "active": "y"})
    assert r.status_code == 302
    facility = one(app, Facility, code="DSP_MLALI")
    assert facility.location_id == tz.id and facility.price_list_id == plist.id
    r = c.post(f"/admin/facilities/edit/?id={facility.id}", data={
        "code": "DSP_MLALI", "name": "Mlali Dispensary (renovated)", "level": "dispensary", "care_type": "both",
        "location": str(tz.id), "price_list": str(plist.id), "active": "y"})
    assert r.status_code == 302
    assert "renovated" in c.get("/admin/facilities/").get_data(as_text=True)

    r = c.post("/admin/icd10/new/", data={"code": "a00.1", "title": "Cholera due to Vibrio cholerae 01, biovar eltor",
                                           "chapter": "I"})
    assert r.status_code == 302
    assert one(app, Icd10Code, code="A00.1") is not None
    r = c.post("/admin/icd10/edit/?id=A00..1", data={"code": "A00.1", "title": "Cholera (El Tor)", "chapter": "I"})
    assert r.status_code == 302 and one(app, Icd10Code, code="A00.1").title == "Cholera (El Tor)"
    assert "Cholera (El Tor)" in c.get("/admin/icd10/?flt0_1=A00").get_data(as_text=True)


def test_users_and_role_assignments(app, admin_client, client):
    c = admin_client
    add_location(c, "TZ", "Tanzania", "country")
    tz = one(app, Location, code="TZ")
    r = c.post("/admin/users/new/", data={
        "username": "officer1", "full_name": "Officer One", "language": "fr", "active": "y",
        "password": "a-long-password",
        "roles-0-role": "enrolment_officer", "roles-0-scheme_code": "tz-chf", "roles-0-location": str(tz.id)})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    user = one(app, User, username="officer1")
    assert user.password_hash.startswith(("pbkdf2:", "scrypt:")) and "a-long-password" not in user.password_hash
    with db(app).session_factory() as s:
        roles = s.execute(select(RoleAssignment.role, RoleAssignment.scheme_code, RoleAssignment.location_id)
                          .where(RoleAssignment.user_id == user.id)).all()
    assert roles == [("enrolment_officer", "tz-chf", tz.id)]

    # the hash is shown nowhere
    for url in ("/admin/users/", f"/admin/users/edit/?id={user.id}", f"/admin/users/details/?id={user.id}"):
        page = c.get(url).get_data(as_text=True)
        assert user.password_hash not in page and "password_hash" not in page
        assert "officer1" in page

    # the new user signs in with the password set in the admin
    other = app.test_client()
    assert login(other, "officer1", "a-long-password").status_code == 302
    assert login(app.test_client(), "officer1", "wrong-password").status_code == 401

    # editing without a password keeps the old one; a short one is refused
    r = c.post(f"/admin/users/edit/?id={user.id}", data={"username": "officer1", "full_name": "Officer 1",
                                                       "language": "en", "active": "y", "password": "",
                                                       "roles-0-id": "", "roles-0-role": "analyst",
                                                       "roles-0-scheme_code": ""})
    assert r.status_code == 302
    assert one(app, User, username="officer1").password_hash == user.password_hash
    r = c.post(f"/admin/users/edit/?id={user.id}", data={"username": "officer1", "language": "en", "active": "y",
                                                       "password": "short"})
    assert "at least 8" in r.get_data(as_text=True)

    # role assignments have their own list and form
    assert "officer1" in c.get("/admin/role-assignments/").get_data(as_text=True)
    r = c.post("/admin/role-assignments/new/", data={"user": str(user.id), "role": "auditor", "scheme_code": ""})
    assert r.status_code == 302
    with db(app).session_factory() as s:
        auditor = s.scalars(select(RoleAssignment).where(RoleAssignment.user_id == user.id,
                                                         RoleAssignment.role == "auditor")).one()
        assert auditor.scheme_code is None  # "every scheme" is stored as NULL, not ""
    r = c.post(f"/admin/role-assignments/edit/?id={auditor.id}",
               data={"user": str(user.id), "role": "auditor", "scheme_code": "np-hib"})
    assert r.status_code == 302
    assert one(app, RoleAssignment, id=auditor.id).scheme_code == "np-hib"


def test_administrators_cannot_delete_themselves(app, admin_client):
    me = one(app, User, username="root")
    r = admin_client.post("/admin/users/delete/", data={"id": str(me.id)}, follow_redirects=True)
    assert "own account" in r.get_data(as_text=True)
    assert one(app, User, username="root") is not None


# ---- audit -------------------------------------------------------------------------------------


def test_admin_changes_are_audited_with_before_and_after(app, admin_client):
    c = admin_client
    add_location(c, "GM", "Gambia", "country")
    loc = one(app, Location, code="GM")
    c.post(f"/admin/locations/edit/?id={loc.id}", data={"code": "GM", "name": "The Gambia", "level": "country"})
    c.post("/admin/locations/delete/", data={"id": str(loc.id)})
    c.post("/admin/users/new/", data={"username": "someone", "language": "en", "active": "y",
                                      "password": "secret-password-1"})
    with db(app).session_factory() as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.entity == "location").order_by(AuditLog.id)).all()
        assert [r.action for r in rows] == ["create", "update", "delete"]
        assert all(r.username == "root" for r in rows)
        create, update, remove = rows
        assert create.before is None and create.after["path"] == "/GM/"
        assert update.before["name"] == "Gambia" and update.after["name"] == "The Gambia"
        assert remove.before["name"] == "The Gambia" and remove.after is None
        assert create.entity_id == loc.id
        user_entry = s.scalars(select(AuditLog).where(AuditLog.entity == "user", AuditLog.action == "create")).one()
        assert "password_hash" not in user_entry.after and user_entry.after["password"] == "(changed)"
        assert "secret-password-1" not in str(user_entry.after)


# ---- scheme versions ---------------------------------------------------------------------------


@pytest.fixture
def two_versions(app):
    old = "scheme:\n  code: diff-test\n  title: Old <b>title</b>\nfields: []\n"
    new = "scheme:\n  code: diff-test\n  title: New <script>alert(1)</script>\nfields: []\n"
    with db(app).session_factory() as s, s.begin():
        a = SchemeVersion(code="diff-test", version="1", content_hash="a" * 64, title="Old", file_name="d.yaml",
                          yaml_text=old, is_current=False)
        b = SchemeVersion(code="diff-test", version="2", content_hash="b" * 64, title="New", file_name="d.yaml",
                          yaml_text=new, is_current=True)
        s.add_all([a, b])
        s.flush()
        ids = (a.id, b.id)
    yield ids
    with db(app).session_factory() as s, s.begin():
        s.execute(delete(SchemeVersion).where(SchemeVersion.code == "diff-test"))


def test_scheme_versions_are_read_only_with_yaml_and_diff(app, admin_client, two_versions):
    old_id, new_id = two_versions
    c = admin_client
    page = c.get(f"/admin/scheme-versions/details/?id={new_id}").get_data(as_text=True)
    assert "Changes from the previous version" in page
    assert "-  title: Old &lt;b&gt;title&lt;/b&gt;" in page
    assert "+  title: New &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page  # escaped, in the YAML and in the diff
    first = c.get(f"/admin/scheme-versions/details/?id={old_id}").get_data(as_text=True)
    assert "first version" in first
    assert "diff-test" in c.get("/admin/scheme-versions/?flt0_0=diff-test").get_data(as_text=True)
    # read-only
    assert c.get(f"/admin/scheme-versions/edit/?id={new_id}").status_code in (302, 403, 404)
    c.post("/admin/scheme-versions/delete/", data={"id": str(new_id)})
    c.post("/admin/scheme-versions/new/", data={"code": "x"})
    assert one(app, SchemeVersion, id=new_id) is not None


def test_scheme_versions_for_version_roles_limited_to_their_schemes(app, client, two_versions):
    _old_id, new_id = two_versions
    make_user(app, "analyst-all", [("analyst", None, None)])
    make_user(app, "analyst-np", [("analyst", "np-hib", None)])
    make_user(app, "officer", [("enrolment_officer", None, None)])
    c = app.test_client()
    login(c, "analyst-all")
    assert "+  title: New" in c.get(f"/admin/scheme-versions/details/?id={new_id}").get_data(as_text=True)
    assert c.get("/admin/locations/").status_code == 403
    c = app.test_client()
    login(c, "analyst-np")
    listing = c.get("/admin/scheme-versions/").get_data(as_text=True)
    assert "np-hib" in listing and "diff-test" not in listing
    assert c.get(f"/admin/scheme-versions/details/?id={new_id}").status_code in (302, 404)
    c = app.test_client()
    login(c, "officer")
    assert c.get(f"/admin/scheme-versions/details/?id={new_id}").status_code == 403


# ---- CSRF --------------------------------------------------------------------------------------


def test_admin_forms_carry_and_require_the_csrf_token(app, admin_client):
    c = admin_client
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for view in MANAGED:
            page = c.get(f"/admin/{view}/new/").get_data(as_text=True)
            assert 'name="csrf_token"' in page, view
        r = c.post("/admin/locations/new/", data={"code": "NP", "name": "Nepal", "level": "country"})
        assert r.status_code == 400
        assert one(app, Location, code="NP") is None
        token = csrf_token(c.get("/admin/locations/new/").get_data(as_text=True))
        r = c.post("/admin/locations/new/", data={"code": "NP", "name": "Nepal", "level": "country",
                                                  "csrf_token": token})
        assert r.status_code == 302
        assert one(app, Location, code="NP") is not None
        # list pages carry it on their delete buttons
        assert 'name="csrf_token"' in c.get("/admin/locations/").get_data(as_text=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_admin_lists_are_built_for_large_tables(app):
    admin = app.extensions["openscheme_admin"]
    for view in admin._views[1:]:
        if hasattr(view, "simple_list_pager"):
            assert view.simple_list_pager and view.page_size == 50, view
            assert not view.column_searchable_list, view  # no ILIKE '%...%' scans


def test_admin_in_french(app, admin_client):
    page = admin_client.get("/admin/locations/?lang=fr").get_data(as_text=True)
    assert "Lieux" in page and "Géographie" in page
