"""The JSON API: tokens, authentication, every endpoint, errors as JSON, permissions, language."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

import pytest

from conftest import login, make_user

API = "/api/v1"

CHF = {
    "region": "DODOMA", "district": "KONGWA_DC", "ward": "MLALI", "village": "MLALI_BWAWANI",
    "payment_method": "cash", "membership_number": "CHF-00012345",
    "members": [
        {"first_name": "Juma", "last_name": "Mussa", "sex": "M", "dob": "1980-03-12", "roles": ["head"]},
        {"first_name": "Rehema", "last_name": "Juma", "sex": "F", "dob": "1985-07-01"},
    ],
}
CHF_BAHI = copy.deepcopy(CHF) | {"district": "BAHI_DC", "ward": "CHIPANGA", "village": "CHIPANGA_A",
                                 "membership_number": "CHF-00099999"}
CHEQUE = {"cheque_number": "CS00012345", "first_name": "Aïssatou", "last_name": "Bouba", "sex": "F",
          "dob": "1998-04-04", "region": "EN", "health_district": "MAROUA1", "parity": 1, "lmp_known": False,
          "edd_estimated": (datetime.now().date() + timedelta(days=120)).isoformat()}


@pytest.fixture
def places(app):
    """A small location tree for tz-chf: Dodoma region, two councils."""
    from openscheme.storage.models import Location

    db = app.extensions["openscheme"].db
    tree = [("DODOMA", "region", None), ("KONGWA_DC", "district", "DODOMA"), ("MLALI", "ward", "KONGWA_DC"),
            ("MLALI_BWAWANI", "village", "MLALI"), ("BAHI_DC", "district", "DODOMA"), ("CHIPANGA", "ward", "BAHI_DC"),
            ("CHIPANGA_A", "village", "CHIPANGA")]
    with db.session_factory() as s, s.begin():
        made = {}
        for code, level, parent in tree:
            path = (made[parent].path if parent else "/") + code + "/"
            loc = Location(code=code, name=code.title(), level=level, parent_id=made[parent].id if parent else None,
                           path=path)
            s.add(loc)
            s.flush()
            made[code] = loc
    return {code: loc.path for code, loc in made.items()}


def token(client, username: str, password: str = "secret-pass") -> str:
    r = client.post(f"{API}/token", json={"username": username, "password": password})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["token"]


def bearer(tok: str, **headers) -> dict:
    return {"Authorization": f"Bearer {tok}", **headers}


@pytest.fixture
def officer(app, client, users):
    return bearer(token(client, "enrolment_officer"))


def register(client, headers, scheme="tz-chf", record=None):
    return client.post(f"{API}/schemes/{scheme}/records", json=record if record is not None else CHF, headers=headers)


# ---- tokens --------------------------------------------------------------------------------


def test_token_is_random_and_only_its_hash_is_stored(app, client, users, session):
    from openscheme.api.tokens import token_hash
    from openscheme.storage.models import ApiToken, AuditLog

    first, second = token(client, "enrolment_officer"), token(client, "enrolment_officer")
    assert first != second and len(first) >= 40
    hashes = {t.token_hash for t in session.query(ApiToken).all()}
    assert hashes == {token_hash(first), token_hash(second)}
    assert first not in hashes
    assert session.query(AuditLog).filter_by(action="token", username="enrolment_officer").count() == 2


def test_token_refused_for_a_wrong_password_and_throttled(app, client, users):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        r = client.post(f"{API}/token", json={"username": "analyst", "password": "nope"})
        assert r.status_code == 401
        assert r.get_json()["error"]["code"] == "bad_credentials"
    r = client.post(f"{API}/token", json={"username": "analyst", "password": "secret-pass"})
    assert r.status_code == 429
    assert r.get_json()["error"]["code"] == "too_many_attempts"
    assert int(r.headers["Retry-After"]) > 0
    # unknown users get the same answer
    r = client.post(f"{API}/token", json={"username": "ghost", "password": "x"})
    assert r.status_code == 401


def test_token_needs_username_and_password(client, users):
    r = client.post(f"{API}/token", json={"username": "analyst"})
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "missing_credentials"
    r = client.post(f"{API}/token", data={"username": "analyst", "password": "secret-pass"})
    assert r.status_code == 201  # a form body works too


def test_expired_revoked_and_disabled_tokens_are_refused(app, client, users, session):
    from openscheme.storage.models import ApiToken, User

    tok = token(client, "analyst")
    assert client.get(f"{API}/schemes", headers=bearer(tok)).status_code == 200
    row = session.query(ApiToken).one()
    row.expires_at = datetime.now() - timedelta(minutes=1)
    session.commit()
    r = client.get(f"{API}/schemes", headers=bearer(tok))
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "bad_token"

    tok = token(client, "analyst")
    assert client.delete(f"{API}/token", headers=bearer(tok)).status_code == 204
    assert client.get(f"{API}/schemes", headers=bearer(tok)).status_code == 401

    tok = token(client, "analyst")
    session.query(User).filter_by(username="analyst").one().active = False
    session.commit()
    assert client.get(f"{API}/schemes", headers=bearer(tok)).status_code == 401


# ---- authentication ------------------------------------------------------------------------

ROUTES = [("get", "/schemes"), ("get", "/schemes/tz-chf"), ("get", "/schemes/tz-chf/records"),
          ("post", "/schemes/tz-chf/records"), ("post", "/schemes/tz-chf/import"), ("get", "/records/H0000000000"),
          ("put", "/records/H0000000000"), ("post", "/records/H0000000000/deactivate"), ("get", "/openapi.json"),
          ("delete", "/token")]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_needs_a_token(client, method, path):
    r = getattr(client, method)(API + path, json={})
    assert r.status_code == 401
    assert r.is_json and r.get_json()["error"]["status"] == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_web_session_cookie_does_not_authenticate_the_api(app, client, users):
    login(client, "enrolment_officer")
    assert client.get("/").status_code == 200
    r = client.post(f"{API}/schemes/tz-chf/records", json=CHF)
    assert r.status_code == 401  # the API is exempt from CSRF, so cookies must not count


def test_garbage_authorization_headers_are_refused(client, users):
    for value in ("Basic YWRtaW46eA==", "Bearer", "Bearer " + "x" * 500, "Bearer not-a-token"):
        r = client.get(f"{API}/schemes", headers={"Authorization": value})
        assert r.status_code == 401 and r.is_json


def test_every_route_but_the_token_declares_a_permission(app):
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        view = app.view_functions[rule.endpoint]
        assert getattr(view, "permission", None) or getattr(view, "public", False), rule.rule


# ---- schemes -------------------------------------------------------------------------------


def test_schemes_visible_to_the_user(app, client, users):
    make_user(app, "chf_only", [("enrolment_officer", "tz-chf", None)])
    everyone = client.get(f"{API}/schemes", headers=bearer(token(client, "analyst"))).get_json()["schemes"]
    assert {"tz-chf", "cm-educash", "cm-cheque-sante"} <= {s["code"] for s in everyone}
    mine = client.get(f"{API}/schemes", headers=bearer(token(client, "chf_only"))).get_json()["schemes"]
    assert [s["code"] for s in mine] == ["tz-chf"]
    assert mine[0]["unit"] == "household" and mine[0]["href"] == f"{API}/schemes/tz-chf"
    r = client.get(f"{API}/schemes/cm-educash", headers=bearer(token(client, "chf_only")))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"


def test_scheme_description_is_enough_to_build_a_form(client, officer):
    r = client.get(f"{API}/schemes/cm-educash", headers=officer)
    assert r.status_code == 200
    d = r.get_json()
    fields = {f["name"]: f for f in d["fields"]}
    assert fields["region"]["type"] == "select_one"
    assert fields["region"]["labels"] == {"fr": "Région", "en": "Region"}
    assert [c["value"] for c in fields["region"]["choices"]] == ["EN", "NO", "ES"]
    assert fields["department"]["choice_filter"] == {"column": "region", "field": "region"}
    assert fields["department"]["choices"][0]["columns"] == {"region": "EN"}
    assert fields["pmt_score"]["calculate"].startswith("lookup(")
    assert fields["livestock_units"]["min"] == 0 and fields["livestock_units"]["max"] == 1000
    assert fields["recipient_id"]["pattern"] == "^[0-9]{9,17}$"
    assert fields["phone"]["relevant"]
    members = {f["name"]: f for f in d["members"]["fields"]}
    assert members["attendance_rate"]["decimals"] == 1
    assert {r["name"] for r in d["roles"]} == {"head", "primary_recipient"}
    assert d["rules"] and all(r["formula"] and r["reasons"] for r in d["rules"])
    assert d["record_schema"] == "#/components/schemas/CmEducashRecord"


def test_unknown_scheme_is_404_json(client, users):
    r = client.get(f"{API}/schemes/nope", headers=bearer(token(client, "administrator")))
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "unknown_scheme"


# ---- records -------------------------------------------------------------------------------


def test_register_returns_the_stored_record(client, officer, places, session):
    from openscheme.storage.models import AuditLog, Household

    r = register(client, officer)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["uid"].startswith("H") and body["row_version"] == 1 and body["active"] is True
    assert r.headers["ETag"] == '"1"'
    assert r.headers["Location"].endswith(f"/api/v1/records/{body['uid']}")
    assert body["location_path"] == places["MLALI_BWAWANI"]
    assert body["record"]["membership_number"] == "CHF-00012345"
    assert body["record"]["members"][0]["roles"] == ["head"]
    assert [m["roles"] for m in body["members"]] == [["head"], []]
    assert session.query(Household).filter_by(uid=body["uid"]).one().data["district"] == "KONGWA_DC"
    assert session.query(AuditLog).filter_by(action="create", scheme_code="tz-chf").count() == 1


def test_register_refuses_a_bad_record_with_paths(client, officer, places, session):
    from openscheme.storage.models import Household

    bad = copy.deepcopy(CHF)
    bad["membership_number"] = "12"
    bad["members"][1]["dob"] = "1985-02-30"
    bad["members"][1]["sex"] = "X"
    bad["members"][1]["roles"] = ["head"]
    bad["shoe_size"] = 42
    r = register(client, officer, record=bad)
    assert r.status_code == 422
    body = r.get_json()
    assert body["error"]["status"] == 422
    found = {(e["path"], e["code"]) for e in body["errors"]}
    assert {("membership_number", "E806"), ("members[1].dob", "E802"), ("members[1].sex", "E807"),
            ("members", "E808"), ("shoe_size", "E809")} <= found
    assert all(set(e) == {"path", "field", "code", "message"} for e in body["errors"])
    assert session.query(Household).count() == 0


def test_register_refuses_an_unknown_location_and_a_duplicate(client, officer, places):
    r = register(client, officer, record=CHF | {"village": "ATLANTIS"})
    assert r.status_code == 422
    assert [(e["path"], e["code"]) for e in r.get_json()["errors"]] == [("village", "E807")]
    assert register(client, officer).status_code == 201
    again = copy.deepcopy(CHF)
    again["members"][0]["first_name"] = "Other"
    r = register(client, officer, record=again)
    assert r.status_code == 422
    (err,) = r.get_json()["errors"]
    assert err["path"] == "membership_number" and err["code"] == "E811"


def test_bad_json_is_400_with_its_position(client, officer):
    r = client.post(f"{API}/schemes/tz-chf/records", data='{"region": "DODOMA",\n "district": }',
                    headers=officer, content_type="application/json")
    assert r.status_code == 400
    err = r.get_json()["error"]
    assert err["code"] == "bad_json" and err["line"] == 2 and err["column"] == 14 and err["position"] == 34
    r = client.post(f"{API}/schemes/tz-chf/records", data=b"", headers=officer, content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "empty_body"
    r = client.post(f"{API}/schemes/tz-chf/records", data=b"\xff\xfe", headers=officer, content_type="application/json")
    assert r.status_code == 400 and r.is_json
    r = client.post(f"{API}/schemes/tz-chf/records", data="[" * 100000, headers=officer, content_type="application/json")
    assert r.status_code == 400 and r.is_json


def test_a_body_that_is_not_an_object_is_422(client, officer):
    r = client.post(f"{API}/schemes/tz-chf/records", json=[1, 2], headers=officer)
    assert r.status_code == 422
    assert r.get_json()["errors"][0]["code"] == "E802"


def test_money_and_numbers_stay_exact(client, users):
    headers = bearer(token(client, "enrolment_officer"))
    r = client.post(f"{API}/schemes/cm-educash/records", headers=headers, json={
        "region": "NO", "department": "BENOUE", "village": "Pitoa", "roof": "thatch", "walls": "earth",
        "water_source": "surface", "has_electricity": False, "livestock_units": 2, "payment_channel": "cash_agent",
        "recipient_id": "112233445",
        "members": [{"first_name": "A", "last_name": "B", "sex": "F", "dob": "1985-03-03",
                     "roles": ["head", "primary_recipient"]},
                    {"first_name": "C", "last_name": "B", "sex": "F", "dob": "2014-02-14", "is_enrolled_in_school": True,
                     "school_name": "CES", "attendance_rate": 85.5}]})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["record"]["members"][1]["attendance_rate"] == "85.5"


def test_get_record_and_404s(client, officer, places):
    uid = register(client, officer).get_json()["uid"]
    r = client.get(f"{API}/records/{uid}", headers=officer)
    assert r.status_code == 200 and r.get_json()["uid"] == uid and r.headers["ETag"] == '"1"'
    assert client.get(f"{API}/records/{uid.lower()}", headers=officer).status_code == 200
    for missing in ("H0000000000", "nonsense", "P0000000000"):
        r = client.get(f"{API}/records/{missing}", headers=officer)
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "unknown_record"
    member = r_member = client.get(f"{API}/records/{uid}", headers=officer).get_json()["members"][0]["uid"]
    r_member = client.get(f"{API}/records/{member}", headers=officer)
    assert r_member.status_code == 404 and r_member.get_json()["error"]["household"] == uid
    r = client.get(f"{API}/no/such/thing", headers=officer)
    assert r.status_code == 404 and r.is_json
    r = client.delete(f"{API}/schemes", headers=officer)
    assert r.status_code == 405 and r.get_json()["error"]["code"] == "method_not_allowed"


def test_update_needs_the_current_version(client, officer, places):
    created = register(client, officer).get_json()
    uid, url = created["uid"], f"{API}/records/{created['uid']}"
    changed = copy.deepcopy(created["record"])
    changed["payment_method"] = "mobile_money"
    r = client.put(url, json=changed, headers=officer)
    assert r.status_code == 428 and r.get_json()["error"]["row_version"] == 1
    r = client.put(url, json=changed, headers=officer | {"If-Match": '"1"'})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["row_version"] == 2 and r.headers["ETag"] == '"2"'
    assert r.get_json()["record"]["payment_method"] == "mobile_money"
    # a client still holding version 1 is refused
    r = client.put(url, json=created["record"], headers=officer | {"If-Match": '"1"'})
    assert r.status_code == 412
    assert r.get_json()["error"]["code"] == "version_mismatch" and r.get_json()["error"]["row_version"] == 2
    assert client.get(url, headers=officer).get_json()["record"]["payment_method"] == "mobile_money"
    bad = copy.deepcopy(changed)
    bad["members"][0]["dob"] = "yesterday"
    r = client.put(url, json=bad, headers=officer | {"If-Match": 'W/"2"'})
    assert r.status_code == 422 and r.get_json()["errors"][0]["path"] == "members[0].dob"
    assert client.get(url, headers=officer).get_json()["row_version"] == 2
    del uid


def test_update_matches_members_by_their_uid_not_their_position(client, officer, places, session):
    """Removing the middle member of three: the third keeps her own record (matched by `_uid`), the
    second leaves the household; a member sent without `_uid` is a new person."""
    from openscheme.storage.models import Individual

    three = copy.deepcopy(CHF)
    three["members"].append({"first_name": "Neema", "last_name": "Juma", "sex": "F", "dob": "2010-01-01"})
    created = register(client, officer, record=three).get_json()
    url = f"{API}/records/{created['uid']}"
    record = client.get(url, headers=officer).get_json()["record"]
    uids = [m["_uid"] for m in record["members"]]
    assert uids == [m["uid"] for m in created["members"]]
    record["members"] = [record["members"][0], record["members"][2],
                         {"first_name": "Baraka", "last_name": "Juma", "sex": "M", "dob": "2015-05-05"}]
    r = client.put(url, json=record, headers=officer | {"If-Match": '"1"'})
    assert r.status_code == 200, r.get_json()
    after = r.get_json()
    assert [m["uid"] for m in after["members"]][:2] == [uids[0], uids[2]]
    assert after["members"][2]["uid"] not in uids
    assert [m["first_name"] for m in after["record"]["members"]] == ["Juma", "Neema", "Baraka"]
    session.rollback()
    neema = session.query(Individual).filter_by(uid=uids[2]).one()
    assert neema.data["first_name"] == "Neema" and neema.active
    rehema = session.query(Individual).filter_by(uid=uids[1]).one()
    assert rehema.data["first_name"] == "Rehema" and (not rehema.active or rehema.household_id is None)


def test_update_conflict_from_the_service_is_409(client, officer, places, monkeypatch):
    from openscheme.registry.service import Registry

    created = register(client, officer).get_json()
    original = Registry.update

    def racing(self, unit, data, expected_version=None, **kw):  # someone saved between our read and our write
        return original(self, unit, data, (expected_version or 0) - 1, **kw)

    monkeypatch.setattr(Registry, "update", racing)
    r = client.put(f"{API}/records/{created['uid']}", json=created["record"], headers=officer | {"If-Match": '"1"'})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "conflict"


def test_deactivate(client, officer, places, session):
    from openscheme.storage.models import AuditLog

    uid = register(client, officer).get_json()["uid"]
    url = f"{API}/records/{uid}/deactivate"
    assert client.post(url, headers=officer | {"If-Match": '"7"'}).status_code == 412
    r = client.post(url, json={"reason": "moved away"}, headers=officer)
    assert r.status_code == 200 and r.get_json()["active"] is False and r.get_json()["row_version"] == 2
    r = client.post(url, headers=officer)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "already_inactive"
    entry = session.query(AuditLog).filter_by(action="deactivate").one()
    assert entry.detail == "moved away"


def test_search_pages_and_query(client, officer, places):
    for i in range(3):
        record = copy.deepcopy(CHF) | {"membership_number": f"CHF-0000000{i}"}
        record["members"][0]["last_name"] = f"Family{i}"
        assert register(client, officer, record=record).status_code == 201
    r = client.get(f"{API}/schemes/tz-chf/records?page_size=2", headers=officer)
    body = r.get_json()
    assert r.status_code == 200 and len(body["records"]) == 2 and body["has_more"] is True
    assert "page=2" in body["next"]
    body = client.get(body["next"], headers=officer).get_json()
    assert len(body["records"]) == 1 and body["has_more"] is False and body["next"] is None
    found = client.get(f"{API}/schemes/tz-chf/records?q=CHF-00000001", headers=officer).get_json()["records"]
    assert [f["record"]["membership_number"] for f in found] == ["CHF-00000001"]
    assert found[0]["members"][0]["roles"] == ["head"]
    r = client.get(f"{API}/schemes/tz-chf/records?page=zero", headers=officer)
    assert r.status_code == 400 and r.get_json()["error"]["parameter"] == "page"
    r = client.get(f"{API}/schemes/tz-chf/records?page_size=1000", headers=officer)
    assert r.status_code == 400


# ---- permissions ---------------------------------------------------------------------------


def test_roles_without_the_permission_are_refused(client, users, places):
    officer = bearer(token(client, "enrolment_officer"))
    uid = register(client, officer).get_json()["uid"]
    clerk = bearer(token(client, "facility_clerk"))  # may view, not edit
    assert client.get(f"{API}/records/{uid}", headers=clerk).status_code == 200
    assert client.get(f"{API}/schemes/tz-chf/records", headers=clerk).status_code == 200
    for r in (register(client, clerk, record=CHF_BAHI),
              client.put(f"{API}/records/{uid}", json=CHF, headers=clerk | {"If-Match": '"1"'}),
              client.post(f"{API}/records/{uid}/deactivate", headers=clerk)):
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    payer = bearer(token(client, "payment_officer"))
    assert client.post(f"{API}/schemes/tz-chf/import", headers=payer,
                       data={"file": (__import__("io").BytesIO(b"x"), "a.csv")}).status_code == 403
    admin = bearer(token(client, "administrator"))
    assert client.get(f"{API}/records/{uid}", headers=admin).status_code == 200


def test_location_scope(app, client, users, places, session):
    from openscheme.storage.models import Household

    make_user(app, "kongwa", [("enrolment_officer", "tz-chf", "KONGWA_DC")])
    kongwa = bearer(token(client, "kongwa"))
    everywhere = bearer(token(client, "enrolment_officer"))
    mine = register(client, kongwa)
    assert mine.status_code == 201
    r = register(client, kongwa, record=CHF_BAHI)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "outside_area"
    assert session.query(Household).count() == 1  # nothing was kept of the refused one
    theirs = register(client, everywhere, record=CHF_BAHI).get_json()["uid"]
    assert client.get(f"{API}/records/{theirs}", headers=kongwa).status_code == 403
    listed = client.get(f"{API}/schemes/tz-chf/records", headers=kongwa).get_json()["records"]
    assert [x["uid"] for x in listed] == [mine.get_json()["uid"]]
    assert len(client.get(f"{API}/schemes/tz-chf/records", headers=everywhere).get_json()["records"]) == 2
    # moving one's own household out of one's area is refused too
    moved = copy.deepcopy(mine.get_json()["record"]) | {"district": "BAHI_DC", "ward": "CHIPANGA",
                                                        "village": "CHIPANGA_A"}
    r = client.put(f"{API}/records/{mine.get_json()['uid']}", json=moved, headers=kongwa | {"If-Match": '"1"'})
    assert r.status_code == 403
    assert client.get(f"{API}/records/{mine.get_json()['uid']}", headers=kongwa).get_json()["row_version"] == 1
    assert client.get(f"{API}/schemes/cm-educash/records", headers=kongwa).status_code == 403


# ---- language ------------------------------------------------------------------------------


def test_language_from_accept_language_or_lang(client, officer, places):
    bad = copy.deepcopy(CHF)
    bad["members"][0]["dob"] = "12/03/1980"
    r = register(client, officer | {"Accept-Language": "fr-FR,fr;q=0.9"}, record=bad)
    assert r.get_json()["errors"][0]["message"] == "Saisissez une date au format AAAA-MM-JJ."
    assert r.get_json()["error"]["message"].startswith("Le dossier n'a pas été enregistré")
    r = client.post(f"{API}/schemes/tz-chf/records?lang=en", json=bad, headers=officer | {"Accept-Language": "fr"})
    assert r.get_json()["errors"][0]["message"] == "Enter a date as YYYY-MM-DD."
    r = client.get(f"{API}/schemes/tz-chf?lang=sw", headers=officer)
    assert r.get_json()["title"].startswith("Mfuko wa Afya")
    r = client.get(f"{API}/records/H0000000000", headers=officer | {"Accept-Language": "fr"})
    assert r.get_json()["error"]["message"] == "Il n'y a aucun dossier H0000000000."
    r = client.get(f"{API}/schemes", headers={"Authorization": "Bearer nope", "Accept-Language": "fr"})
    assert "jeton" in r.get_json()["error"]["message"]


def test_language_defaults_to_the_users(app, client):
    make_user(app, "francophone", [("enrolment_officer", None, None)], language="fr")
    headers = bearer(token(client, "francophone"))
    r = client.get(f"{API}/schemes/cm-cheque-sante", headers=headers)
    assert r.get_json()["lang"] == "fr" and r.get_json()["title"].startswith("Chèque")


def test_unexpected_errors_and_too_large_bodies_are_json(app, client, officer, monkeypatch):
    import openscheme.api.views as views

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "scheme_description", broken)
    r = client.get(f"{API}/schemes/tz-chf", headers=officer)
    assert r.status_code == 500 and r.get_json()["error"]["code"] == "server_error"
    assert "boom" not in r.get_data(as_text=True) and "Traceback" not in r.get_data(as_text=True)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    r = client.post(f"{API}/schemes/tz-chf/import", headers=officer,
                    data={"file": (__import__("io").BytesIO(b"x" * 5000), "big.csv")})
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "too_large"


def test_a_registered_household_is_stored_as_answered(client, officer, places, session):
    """The household and its members are written in one statement on PostgreSQL (two elsewhere):
    each member's id, place in the household, roles and values are those the answer gives."""
    from openscheme.storage.models import Household, Individual

    three = copy.deepcopy(CHF)
    three["members"].append({"first_name": "Neema", "last_name": "Juma", "sex": "F", "dob": "2010-01-01",
                             "roles": []})
    answer = register(client, officer, record=three).get_json()
    session.rollback()
    household = session.query(Household).filter_by(uid=answer["uid"]).one()
    stored = session.query(Individual).filter_by(household_id=household.id).order_by(Individual.position).all()
    assert [m.uid for m in stored] == [m["uid"] for m in answer["members"]]
    assert [(m.position, m.roles, m.data["first_name"]) for m in stored] == [
        (0, ["head"], "Juma"), (1, [], "Rehema"), (2, [], "Neema")]
    assert all(m.location_path == household.location_path and m.scheme_version_id == household.scheme_version_id
               for m in stored)
    assert household.data["membership_number"] == "CHF-00012345" and household.created_at is not None
    # the same membership number again: refused by the unique index, nothing half-written
    again = register(client, officer, record=three)
    assert again.status_code == 422, again.get_json()
    session.rollback()
    assert session.query(Household).filter_by(scheme_code="tz-chf").count() == 1
    assert session.query(Individual).filter_by(scheme_code="tz-chf").count() == 3
