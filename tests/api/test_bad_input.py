"""Bad input never gets a stack trace or a 500, from the JSON API (/api/v1), the claims API or the FHIR API:
a clear 4xx error in the API's own format (JSON {"error": {...}} or a FHIR OperationOutcome) that names
the field or the parameter, and nothing already saved is lost.

Every POST/PUT route gets nasty bodies (not JSON, an array, invalid UTF-8, nested too deeply, a wrong
Content-Type, ...) and nasty values in its fields (NaN, Infinity, huge numbers, money with 10 decimals,
negative money, objects where text is expected, 100,000 characters, NUL, half a surrogate pair, impossible
dates, ...); addresses get ids that do not exist or are not ASCII numbers. Then the regressions, one test
for each 500 these found.
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest

from conftest import clean, make_user
from insurance_helpers import TODAY, insured, person_uid, seed_insurance

API = "/api/v1"
FHIR = "/fhir/R4"
FHIR_JSON = "application/fhir+json"

CHF = {
    "region": "DODOMA", "district": "KONGWA_DC", "ward": "MLALI", "village": "MLALI_BWAWANI",
    "payment_method": "cash", "membership_number": "CHF-00012345",
    "members": [
        {"first_name": "Juma", "last_name": "Mussa", "sex": "M", "dob": "1980-03-12", "roles": ["head"]},
        {"first_name": "Rehema", "last_name": "Juma", "sex": "F", "dob": "1985-07-01"},
    ],
}

# written into the JSON text as they are: json.dumps cannot write these
RAW = {"<nan>": "NaN", "<inf>": "Infinity", "<-inf>": "-Infinity", "<1e400>": "1e400", "<1e-400>": "1e-400",
       "<big>": "1" + "0" * 300, "<ten-decimals>": "12.1234567890", "<negative-money>": "-5.50",
       "<surrogate>": '"half \\ud800 a pair"', "<nul>": '"a\\u0000b"'}
VALUES = {
    "null": None, "true": True, "zero": 0, "minus-one": -1, "negative-money": "<negative-money>",
    "ten-decimals": "<ten-decimals>", "ten-decimals-text": "12.1234567890", "nan": "<nan>", "infinity": "<inf>",
    "minus-infinity": "<-inf>", "1e400": "<1e400>", "1e-400": "<1e-400>", "300-digits": "<big>",
    "40-nines-text": "9" * 40, "nan-text": "NaN", "object": {"a": {"b": 1}}, "array": [1, [2]], "empty-array": [],
    "100k-characters": "x" * 100_000, "nul": "<nul>", "surrogate": "<surrogate>", "2023-02-30": "2023-02-30",
    "year-0": "0000-01-01", "year-9999": "9999-12-31", "empty": "", "spaces": "   ", "superscript-two": "²",
    "minus-five-text": "-5", "1E+30-text": "1E+30", "emoji": "😀" * 10,
}
BODIES = {
    "empty": b"", "not-json": b"hello", "array": b"[1, 2]", "string": b'"x"', "number": b"5", "null": b"null",
    "invalid-utf8": b'{"a": "\xff\xfe"}', "utf16": '{"a": 1}'.encode("utf-16"), "truncated": b'{"a": ',
    "nested-too-deep": b"[" * 100_000 + b"]" * 100_000, "5000-digits": b'{"a": ' + b"9" * 5000 + b"}",
    "bare-nan": b'{"a": NaN}', "nul-key": b'{"a\\u0000": 1}', "surrogate-key": b'{"\\udc00": 1}',
    "top-level-surrogate": b'"\\ud800"', "bom-then-object": b"\xef\xbb\xbf{}",
}
BROKEN = {"not-json", "invalid-utf8", "utf16", "truncated", "nested-too-deep", "5000-digits", "nul-key", "surrogate-key",
          "top-level-surrogate"}  # always 400, whatever the route
CONTENT_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                 "application/json; charset=latin-9xx", "application/xml"]


def raw_json(value) -> bytes:
    text = json.dumps(value, ensure_ascii=True)
    for mark, raw in RAW.items():
        text = text.replace(json.dumps(mark), raw)
    return text.encode()


def put(obj, path: tuple, value):
    out = copy.deepcopy(obj)
    here = out
    for step in path[:-1]:
        here = here[step]
    here[path[-1]] = value
    return out


def fhir_claim(patient: str, code: str = "BAD-1") -> dict:
    served = (TODAY - timedelta(days=1)).isoformat()
    return {"resourceType": "Claim", "status": "active", "use": "claim",
            "identifier": [{"system": "https://openscheme.org/fhir/sid/claim/DSP_MLALI", "value": code}],
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
            "subType": {"coding": [{"system": "https://openscheme.org/fhir/CodeSystem/care-type", "code": "out_patient"}]},
            "patient": {"reference": f"Patient/{patient}"}, "created": TODAY.isoformat(),
            "provider": {"identifier": {"system": "https://openscheme.org/fhir/sid/facility", "value": "DSP_MLALI"}},
            "priority": {"coding": [{"code": "normal"}]}, "billablePeriod": {"start": served, "end": served},
            "diagnosis": [{"sequence": 1, "diagnosisCodeableConcept": {
                "coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "B54"}]}}],
            "item": [{"sequence": 1, "productOrService": {"coding": [{"code": "OPD01"}]}, "quantity": {"value": 1},
                      "unitPrice": {"value": 100, "currency": "TZS"}}]}


def eligibility(patient: str) -> dict:
    return {"resourceType": "CoverageEligibilityRequest", "id": "req-1", "status": "active",
            "identifier": [{"system": "urn:x", "value": "r-1"}], "purpose": ["validation", "benefits"],
            "patient": {"reference": f"Patient/{patient}"}, "created": TODAY.isoformat(),
            "servicedDate": TODAY.isoformat(), "insurer": {"display": "the scheme"}}


def claim(insuree: str, code: str = "BAD-1", facility: str = "DSP_MLALI", care_type: str = "out_patient",
          lines=(("OPD01", 1, "100.00"), ("MED01", 30, None))) -> dict:
    return {"code": code, "facility": facility, "insuree": insuree, "care_type": care_type, "diagnosis": "B54",
            "date_from": (TODAY - timedelta(days=1)).isoformat(), "benefit": "chf_cover",
            "lines": [{"code": c, "quantity": q, **({"price": p} if p else {})} for c, q, p in lines]}


@pytest.fixture(scope="module")
def world(base_app):
    """One insured household, an administrator's token, a household to update, one to deactivate and a claim
    waiting for review - made once for the module (the nasty requests only send, and the data is cleaned after)."""
    app = base_app
    clean(app)
    seed_insurance(app)
    chf, policy = insured(app, "tz-chf")
    make_user(app, "admin", [("administrator", None, None)])
    client = app.test_client()
    r = client.post(f"{API}/token", json={"username": "admin", "password": "secret-pass"})
    headers = {"Authorization": f"Bearer {r.get_json()['token']}"}
    made = []
    for number in ("CHF-00077777", "CHF-00066666"):
        r = client.post(f"{API}/schemes/tz-chf/records", json=CHF | {"membership_number": number}, headers=headers)
        assert r.status_code == 201, r.get_json()
        made.append(r.get_json())
    woman = person_uid(app, chf, 1)
    r = client.post(f"{API}/schemes/tz-chf/claims", headers=headers, json=claim(
        woman, code="BIG", facility="DH_KONGWA", care_type="in_patient", lines=(("SUR01", 1, None), ("ADM01", 1, None))))
    assert r.status_code == 201 and r.get_json()["status"] == "review", r.get_json()
    yield {"app": app, "client": client, "headers": headers, "woman": woman, "policy": policy,
           "record": made[0], "other": made[1], "claim": r.get_json()["id"]}
    clean(app)


def routes(w) -> dict:
    """name -> (method, address, a valid body, extra headers, the field paths to spoil)"""
    record = w["record"]["record"]
    return {
        "token": ("POST", f"{API}/token", {"username": "nobody", "password": "wrong", "name": "x"}, {},
                  [("username",), ("password",), ("name",)]),
        "register": ("POST", f"{API}/schemes/tz-chf/records", CHF | {"membership_number": "CHF-00055555"}, {},
                     [("region",), ("membership_number",), ("members",), ("members", 0), ("members", 0, "first_name"),
                      ("members", 0, "dob"), ("members", 0, "roles")]),
        "update": ("PUT", f"{API}/records/{w['record']['uid']}", record, {"If-Match": "*"},
                   [("village",), ("members", 1, "_uid"), ("members", 1, "last_name"), ("members", 1, "dob")]),
        "deactivate": ("POST", f"{API}/records/{w['other']['uid']}/deactivate", {"reason": "moved"}, {}, [("reason",)]),
        "claim": ("POST", f"{API}/schemes/tz-chf/claims", claim(w["woman"]), {},
                  [("code",), ("facility",), ("insuree",), ("date_from",), ("diagnosis",), ("benefit",), ("lines",),
                   ("lines", 0), ("lines", 0, "quantity"), ("lines", 0, "price")]),
        "adjust": ("POST", f"{API}/claims/{w['claim']}/lines/1", {"price": "150000", "reason": "agreed tariff"}, {},
                   [("quantity_approved",), ("price",), ("reason",)]),
        "feedback": ("POST", f"{API}/claims/{w['claim']}/feedback",
                     {"care_received": True, "asked_to_pay": False, "satisfaction": 5, "comment": "good"}, {},
                     [("care_received",), ("satisfaction",), ("comment",)]),
        "fhir-claim": ("POST", f"{FHIR}/Claim", fhir_claim(w["woman"]), {},
                       [("patient", "reference"), ("provider", "identifier", "value"), ("billablePeriod", "start"),
                        ("subType", "coding"), ("diagnosis", 0, "diagnosisCodeableConcept", "coding"), ("item",),
                        ("item", 0, "productOrService", "coding"), ("item", 0, "quantity", "value"),
                        ("item", 0, "unitPrice", "value"), ("identifier",)]),
        "fhir-eligibility": ("POST", f"{FHIR}/CoverageEligibilityRequest", eligibility(w["woman"]), {},
                             [("id",), ("patient",), ("patient", "reference"), ("servicedDate",), ("purpose",),
                              ("identifier", 0, "system"), ("identifier", 0, "value")]),
    }


ROUTES = ["token", "register", "update", "deactivate", "claim", "adjust", "feedback", "fhir-claim", "fhir-eligibility"]


def clean_answer(r, fhir: bool) -> dict:
    """No server error, no stack trace, and the API's own format: an error names its status and code."""
    assert r.status_code < 500, (r.status_code, r.data[:500])
    assert b"Traceback" not in r.data
    if fhir:
        assert r.mimetype == FHIR_JSON, r.data[:300]
        body = json.loads(r.data)
        if r.status_code >= 400:
            assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["diagnostics"], body
        return body
    assert r.is_json, r.data[:300]
    body = r.get_json()
    if r.status_code >= 400:
        assert body["error"]["status"] == r.status_code and body["error"]["code"] and body["error"]["message"], body
    return body


def send(w, route: str, data: bytes, content_type: str | None = None):
    method, address, _body, headers, _paths = routes(w)[route]
    fhir = address.startswith(FHIR)
    content_type = content_type or (FHIR_JSON if fhir else "application/json")
    r = w["client"].open(address, method=method, data=data, headers=w["headers"] | headers, content_type=content_type)
    return r, clean_answer(r, fhir)


# ---- every route x nasty bodies, nasty values in its fields, wrong content types -----------------------------


@pytest.mark.parametrize("body", list(BODIES))
@pytest.mark.parametrize("route", ROUTES)
def test_a_nasty_body_gets_a_clear_error(world, route, body):
    r, answer = send(world, route, BODIES[body])
    if body in BROKEN:
        assert r.status_code == 400, answer
    elif route != "deactivate":  # (its body is optional: an object with a reason, or nothing)
        assert 400 <= r.status_code < 500, answer


@pytest.mark.parametrize("value", list(VALUES))
@pytest.mark.parametrize("route", ROUTES)
def test_a_nasty_value_in_any_field_gets_a_clear_answer(world, route, value):
    _method, _address, body, _headers, paths = routes(world)[route]
    for path in paths:
        r, answer = send(world, route, raw_json(put(body, path, VALUES[value])))
        if value in ("nul", "surrogate") and r.status_code >= 400 and not _address_is_fhir(route):
            error = answer["error"]
            if error["code"] == "bad_text":  # the field is named
                assert error["path"].startswith(str(path[0])), error


def _address_is_fhir(route: str) -> bool:
    return route.startswith("fhir")


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
@pytest.mark.parametrize("route", ROUTES)
def test_a_wrong_content_type_gets_a_clear_answer(world, route, content_type):
    send(world, route, b'a=1&b=2', content_type)
    send(world, route, raw_json(routes(world)[route][2]), content_type)


ADDRESSES = [
    ("GET", f"{API}/schemes/nope"), ("POST", f"{API}/schemes/nope/records"), ("POST", f"{API}/schemes/nope/claims"),
    ("POST", f"{API}/schemes/{'x' * 3000}/records"), ("POST", f"{API}/schemes/%C2%B2/records"),
    ("GET", f"{API}/records/H0000000000"), ("PUT", f"{API}/records/P0000000000"), ("GET", f"{API}/records/%00"),
    ("POST", f"{API}/records/H0000000000/deactivate"), ("GET", f"{API}/records/%C2%B2"),
    ("GET", f"{API}/claims/0"), ("GET", f"{API}/claims/99999999999999999999999"), ("GET", f"{API}/claims/2147483648"),
    ("POST", f"{API}/claims/99999999999999999999999/lines/1"), ("POST", f"{API}/claims/99999999999999999999999/feedback"),
    ("POST", f"{API}/claims/{{claim}}/lines/0"), ("POST", f"{API}/claims/{{claim}}/lines/99999999999999999999999"),
    ("GET", f"{API}/coverage?q=%00"), ("GET", f"{API}/coverage?q={'x' * 5000}"), ("GET", f"{API}/coverage?q=a&scheme=%00"),
    ("GET", f"{API}/schemes/tz-chf/records?q=%00"), ("GET", f"{API}/schemes/tz-chf/records?page=%C2%B2"),
    ("GET", f"{API}/schemes/tz-chf/records?page=99999999999999999999"), ("GET", f"{API}/schemes/tz-chf/records?%00=1"),
    ("GET", f"{API}/schemes?lang=%00"), ("GET", f"{API}/schemes?lang={'a' * 500}"),
    ("GET", f"{FHIR}/Patient/%00"), ("GET", f"{FHIR}/Group/%00"), ("GET", f"{FHIR}/Patient?identifier=%00"),
    ("GET", f"{FHIR}/Patient?identifier=a|b|%00"), ("GET", f"{FHIR}/Coverage?beneficiary=Patient/%00"),
    ("PUT", f"{FHIR}/Claim/1"), ("GET", f"{FHIR}/Nope/1"),
] + [("GET", f"{FHIR}/{kind}/{rid}") for kind in ("Patient", "Group", "Coverage", "InsurancePlan", "Claim", "ClaimResponse")
     for rid in ("999999", "0", "99999999999999999999999", "-1", "%C2%B2", "%D9%A3", "x" * 3000)]


@pytest.mark.parametrize(("method", "address"), ADDRESSES)
def test_an_unknown_or_nasty_address_gets_a_clear_error(world, method, address):
    address = address.replace("{claim}", str(world["claim"]))
    r = world["client"].open(address, method=method, data=b"{}", headers=world["headers"], content_type="application/json")
    clean_answer(r, address.startswith(FHIR))


@pytest.mark.parametrize("header", [{"If-Match": '"²"'}, {"If-Match": "¹"}, {"If-Match": '"' + "9" * 5000 + '"'},
                                    {"If-Match": "W/"}, {"If-Match": '"'}, {"If-Match": "*, x"},
                                    {"Accept-Language": "ÿÿ"}, {"Accept-Language": "fr;q=abc"},
                                    {"Authorization": "Bearer " + "x" * 5000}, {"Authorization": "Basic abc"}])
def test_nasty_headers_get_a_clear_answer(world, header):
    w = world
    for address in (f"{API}/records/{w['record']['uid']}", f"{API}/records/{w['other']['uid']}/deactivate"):
        method = "PUT" if address.endswith(w["record"]["uid"]) else "POST"
        r = w["client"].open(address, method=method, json={"village": "MLALI_BWAWANI"} if method == "PUT" else {},
                             headers=w["headers"] | header)
        clean_answer(r, False)
    clean_answer(w["client"].get(f"{FHIR}/metadata", headers=w["headers"] | header), True)


# ---- the regressions: each of these was a 500 ---------------------------------------------------------------


def count(app, model) -> int:
    with app.extensions["openscheme"].db.session_factory() as s:
        return s.query(model).count()


@pytest.mark.parametrize(("mark", "code_point"), [("<nul>", "U+0000"), ("<surrogate>", "surrogate")])
def test_a_text_that_cannot_be_stored_is_refused_with_its_path(world, mark, code_point):
    """A NUL (PostgreSQL refuses it; SQLite stored it) or half a surrogate pair (UTF-8 has none; a name and a
    location were stored or made a 500): 400 naming the field, and nothing saved or changed."""
    from openscheme.storage.models import Household

    app, client, h = world["app"], world["client"], world["headers"]
    households = count(app, Household)
    r = client.post(f"{API}/schemes/tz-chf/records", data=raw_json(put(CHF, ("members", 1, "first_name"), mark)),
                    headers=h, content_type="application/json")
    assert r.status_code == 400, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "bad_text" and error["path"] == "members[1].first_name" and error["field"] == "first_name"
    assert error["message"].startswith("members[1].first_name holds") and code_point in error["message"]
    assert count(app, Household) == households

    uid = world["record"]["uid"]
    r = client.get(f"{API}/records/{uid}", headers=h)
    version, record = r.headers["ETag"], r.get_json()["record"]
    r = client.put(f"{API}/records/{uid}", data=raw_json(put(record, ("region",), mark)), content_type="application/json",
                   headers=h | {"If-Match": version})
    assert r.status_code == 400 and r.get_json()["error"]["path"] == "region"
    after = client.get(f"{API}/records/{uid}", headers=h)
    assert after.headers["ETag"] == version and after.get_json()["record"] == record

    r = client.post(f"{API}/token", data=raw_json({"username": mark, "password": "x"}), content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "username"
    if mark == "<nul>":  # a form (a surrogate cannot come out of a form's UTF-8)
        r = client.post(f"{API}/token", data="username=a%00&password=x", content_type="application/x-www-form-urlencoded")
        assert r.status_code == 400 and r.get_json()["error"]["field"] == "username"
        r = client.post(f"{API}/token", data={"username": "admin", "password": "secret-pass", "name": "a\x00"})
        assert r.status_code == 400 and r.get_json()["error"]["field"] == "name"
    r = client.post(f"{API}/claims/{world['claim']}/feedback", headers=h, content_type="application/json",
                    data=raw_json({"care_received": True, "asked_to_pay": False, "satisfaction": 5, "comment": mark}))
    assert r.status_code == 400 and r.get_json()["error"]["path"] == "comment"
    r = client.post(f"{FHIR}/Claim", headers=h, content_type=FHIR_JSON,
                    data=raw_json(put(fhir_claim(world["woman"]), ("provider", "identifier", "value"), mark)))
    assert r.status_code == 400 and "provider.identifier.value holds" in json.loads(r.data)["issue"][0]["diagnostics"]
    # in French too
    r = client.post(f"{API}/schemes/tz-chf/records?lang=fr", data=raw_json(put(CHF, ("region",), mark)), headers=h,
                    content_type="application/json")
    assert r.get_json()["error"]["message"].startswith("region contient")
    # a key
    r = client.post(f"{API}/schemes/tz-chf/records", data=raw_json(CHF).replace(b'"region"', raw_json(mark)),
                    headers=h, content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_text"


def test_a_nul_in_the_address_is_refused_with_the_parameter(world):
    """PostgreSQL refused ?q=%00 (and a NUL in an id) in its queries: 500 there."""
    c, h = world["client"], world["headers"]
    r = c.get(f"{API}/coverage?q=a%00b", headers=h)
    assert r.status_code == 400 and r.get_json()["error"] | {"message": ""} == {
        "status": 400, "code": "bad_text", "path": "q", "field": "q", "message": ""}
    r = c.get(f"{FHIR}/Patient?identifier=%00", headers=h)
    assert r.status_code == 400 and json.loads(r.data)["issue"][0]["diagnostics"].startswith("identifier holds")
    for address in (f"{FHIR}/Patient/%00", f"{FHIR}/Group/a%00", f"{FHIR}/Coverage?beneficiary=Patient/%00"):
        assert c.get(address, headers=h).status_code == 400, address


@pytest.mark.parametrize("version", ['"²"', "¹", '"' + "1" * 5000 + '"'])
def test_if_match_that_is_no_ascii_number_is_a_stale_version(world, version):
    """`"²".isdigit()` is true and int("²") raises: 500 on update and deactivation."""
    c, h, uid = world["client"], world["headers"], world["other"]["uid"]
    r = c.put(f"{API}/records/{uid}", json=world["other"]["record"], headers=h | {"If-Match": version})
    assert r.status_code == 412 and r.get_json()["error"]["code"] == "version_mismatch"
    r = c.post(f"{API}/records/{uid}/deactivate", json={}, headers=h | {"If-Match": version})
    assert r.status_code == 412


@pytest.mark.parametrize("action", ["", "/feedback", "/lines/1"])
def test_a_claim_id_beyond_the_database_s_integers_is_no_claim(world, action):
    """<int:claim_id> takes any number; SQLite cannot bind one beyond 64 bits (OverflowError, 500)."""
    method = "get" if not action else "post"
    r = getattr(world["client"], method)(f"{API}/claims/99999999999999999999999{action}", json={"price": "1", "reason": "x"},
                                         headers=world["headers"])
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "unknown_claim"


def test_an_unexpected_error_in_the_claims_api_is_a_json_500(world, monkeypatch):
    """The claims blueprint had no handler for unexpected errors: they escaped as the server's page."""
    from openscheme.claims.service import ClaimService

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(ClaimService, "record_feedback", boom)
    r = world["client"].post(f"{API}/claims/{world['claim']}/feedback", json={"satisfaction": 5}, headers=world["headers"])
    assert r.status_code == 500 and r.get_json()["error"]["code"] == "server_error"
    assert b"boom" not in r.data and b"Traceback" not in r.data


@pytest.mark.parametrize("kind", ["Coverage", "Claim", "ClaimResponse"])
@pytest.mark.parametrize("rid", ["%C2%B2", "%C2%B9%C2%B2"])  # ², ¹²: digits to str.isdigit, not to int
def test_a_fhir_id_of_superscript_digits_is_not_found(world, kind, rid):
    r = world["client"].get(f"{FHIR}/{kind}/{rid}", headers=world["headers"])
    assert r.status_code == 404 and json.loads(r.data)["resourceType"] == "OperationOutcome"


def test_a_fhir_claim_whose_coding_is_not_a_list_names_the_element(world):
    """`coding` as a number or true made a TypeError (500); now the element is missing, and said so."""
    c, h = world["client"], world["headers"] | {"Content-Type": FHIR_JSON}
    resource = fhir_claim(world["woman"], code="CODING-1")
    resource["diagnosis"][0]["diagnosisCodeableConcept"]["coding"] = 5
    resource["item"][0]["productOrService"]["coding"] = True
    resource["subType"]["coding"] = -1
    r = c.post(f"{FHIR}/Claim", data=raw_json(resource), headers=h)
    assert r.status_code == 422, r.data
    expressions = {e for i in json.loads(r.data)["issue"] for e in i.get("expression", [])}
    assert {"Claim.diagnosis", "Claim.item[0].productOrService"} <= expressions


def test_a_fhir_eligibility_request_echoes_only_a_text_identifier(world):
    """identifier.value as a number (a Decimal) went into the response, and json.dumps failed on it (500)."""
    request = eligibility(world["woman"])
    request["identifier"] = [{"system": "<ten-decimals>", "value": "<ten-decimals>"}]
    request["id"] = "<surrogate>"
    r = world["client"].post(f"{FHIR}/CoverageEligibilityRequest", data=raw_json(request),
                             headers=world["headers"] | {"Content-Type": FHIR_JSON})
    assert r.status_code == 400  # the id: half a surrogate pair
    request["id"] = "x" * 100
    r = world["client"].post(f"{FHIR}/CoverageEligibilityRequest", data=raw_json(request),
                             headers=world["headers"] | {"Content-Type": FHIR_JSON})
    assert r.status_code == 200, r.data
    assert json.loads(r.data)["request"] == {"display": "CoverageEligibilityRequest (not stored)"}


def test_a_claim_worth_more_than_money_can_hold_is_refused(world):
    """Lines of 9999 x 999,999,999,999 passed the checks and overflowed NUMERIC(14, 2) on PostgreSQL (500)."""
    from openscheme.storage.workflow_models import ClaimRecord

    c, h = world["client"], world["headers"]
    before = count(world["app"], ClaimRecord)
    r = c.post(f"{API}/schemes/tz-chf/claims", headers=h,
               json=claim(world["woman"], code="HUGE", lines=(("OPD01", 9999, "999999999999"),)))
    assert r.status_code == 422, r.get_json()
    errors = {e["path"]: e for e in r.get_json()["errors"]}
    assert errors["lines"]["code"] == "C07" and "999999999999.99 at most" in errors["lines"]["message"]
    r = c.post(f"{FHIR}/Claim", headers=h | {"Content-Type": FHIR_JSON}, data=raw_json(put(
        put(fhir_claim(world["woman"], code="HUGE"), ("item", 0, "quantity", "value"), 9999),
        ("item", 0, "unitPrice", "value"), 999999999999)))
    assert r.status_code == 422 and "Claim.item" in r.data.decode()
    assert count(world["app"], ClaimRecord) == before


@pytest.mark.parametrize("change", [{"price": "1000000000000"}, {"price": "99999999999999"}, {"price": "1E+15"},
                                    {"price": "999999000000", "quantity_approved": "1"}])
def test_a_reviewer_s_price_beyond_what_money_can_hold_is_refused(world, change):
    """adjust_line had no upper bound: NUMERIC(14, 2) overflowed on PostgreSQL (500)."""
    c, h, cid = world["client"], world["headers"], world["claim"]
    before = c.get(f"{API}/claims/{cid}", headers=h).get_json()
    r = c.post(f"{API}/claims/{cid}/lines/1", json=change | {"reason": "tariff"}, headers=h)
    if "quantity_approved" in change:  # 1 x 999,999,999,999 fits
        assert r.status_code == 200, r.get_json()
        return
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "price", r.get_json()
    assert c.get(f"{API}/claims/{cid}", headers=h).get_json()["lines"] == before["lines"]


def test_the_document_s_timestamps_match_what_the_api_sends(world):
    """format: date-time (RFC 3339) needs an offset; the API sends the server's local time without one."""
    import re

    c, h = world["client"], world["headers"]
    document = c.get(f"{API}/openapi.json", headers=h).get_json()
    schema = document["components"]["schemas"]["RecordEnvelope"]["properties"]["created_at"]
    assert "format" not in schema
    created = c.get(f"{API}/records/{world['record']['uid']}", headers=h).get_json()["created_at"]
    assert re.match(schema["pattern"], created)
