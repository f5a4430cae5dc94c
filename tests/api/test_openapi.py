"""The generated OpenAPI 3.1 document: valid, complete, and its record schemas match the validation."""

from __future__ import annotations

import copy

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

API = "/api/v1"


@pytest.fixture
def document(app, client, users):
    r = client.post(f"{API}/token", json={"username": "administrator", "password": "secret-pass"})
    r = client.get(f"{API}/openapi.json", headers={"Authorization": f"Bearer {r.get_json()['token']}"})
    assert r.status_code == 200
    return r.get_json()


def record_validator(document: dict, name: str) -> Draft202012Validator:
    """A validator for one component schema, its $refs resolved inside the document."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def scheme_examples(app, code: str) -> list[dict]:
    """The records of the scheme's own embedded tests that are expected to be valid."""
    scheme = app.extensions["openscheme"].catalog.current(code)
    return [dict(case.data) for case in scheme.tests if "errors" not in case.expect]


def jsonable(value):
    from datetime import date
    from decimal import Decimal

    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate_openapi(document)  # raises on any violation of the OpenAPI 3.1 schema


def test_document_lists_every_route(app, document):
    paths = document["paths"]
    for path, methods in {"/api/v1/token": {"post", "delete"}, "/api/v1/schemes": {"get"},
                          "/api/v1/schemes/{code}": {"get"}, "/api/v1/schemes/{code}/records": {"get", "post"},
                          "/api/v1/schemes/{code}/import": {"post"}, "/api/v1/records/{uid}": {"get", "put"},
                          "/api/v1/records/{uid}/deactivate": {"post"}, "/api/v1/openapi.json": {"get"}}.items():
        assert methods <= set(paths[path]), path
    # and nothing the app serves under /api/v1 is missing from it
    served = {rule.rule.replace("<", "{").replace(">", "}") for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("api.")}
    assert served <= set(paths)
    assert paths["/api/v1/token"]["post"]["security"] == []
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_each_scheme_has_a_record_schema_built_from_its_fields(app, document):
    schemas = document["components"]["schemas"]
    for scheme in app.extensions["openscheme"].catalog.all_current():
        from openscheme.api.describe import component_name

        name = component_name(scheme.code)
        record = schemas[f"{name}Record"]
        assert record["x-scheme-code"] == scheme.code
        assert set(record["properties"]) >= {f.name for f in scheme.fields}
        assert record["additionalProperties"] is False
        if scheme.is_household:
            assert record["properties"]["members"]["items"] == {"$ref": f"#/components/schemas/{name}Member"}
            assert f"/api/v1/schemes/{scheme.code}/records" in document["paths"]

    chf = schemas["TzChfRecord"]["properties"]
    assert chf["membership_number"]["pattern"] == "^(?:^CHF-[0-9]{8}$)$"
    # a default fills payment_method when it is left out, so null is allowed
    assert chf["payment_method"]["enum"] == ["cash", "mobile_money", "control_number", None]
    assert chf["payment_method"]["default"] == "control_number"
    assert "region" in schemas["TzChfRecord"]["required"]
    assert "payment_method" not in schemas["TzChfRecord"]["required"]
    member = schemas["TzChfMember"]
    assert member["properties"]["dob"]["format"] == "date"
    assert member["properties"]["sex"]["enum"] == ["F", "M"]
    assert member["properties"]["roles"]["items"]["enum"] == ["head"]
    assert {"first_name", "last_name", "sex", "dob"} <= set(member["required"])
    educash = schemas["CmEducashRecord"]["properties"]
    assert educash["livestock_units"]["type"] == "integer"
    assert educash["livestock_units"]["minimum"] == 0 and educash["livestock_units"]["maximum"] == 1000
    assert educash["pmt_score"]["readOnly"] is True
    assert "phone" not in schemas["CmEducashRecord"]["required"]  # relevant only for mobile money
    attendance = schemas["CmEducashMember"]["properties"]["attendance_rate"]
    assert "number" in attendance["type"] and attendance["maximum"] == 100
    register = document["paths"]["/api/v1/schemes/cm-educash/records"]["post"]
    assert register["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CmEducashRecord"}


@pytest.mark.parametrize("code", ["tz-chf", "cm-educash", "cm-cheque-sante", "np-ssf"])
def test_valid_records_of_the_schemes_own_tests_match_their_schema(app, document, code):
    from openscheme.api.describe import component_name

    validator = record_validator(document, f"{component_name(code)}Record")
    examples = scheme_examples(app, code)
    assert examples
    for record in examples:
        errors = [e.message for e in validator.iter_errors(jsonable(record))]
        assert not errors, errors


def test_bad_records_fail_the_schema_like_the_validation(app, document):
    validator = record_validator(document, "TzChfRecord")
    record = jsonable(scheme_examples(app, "tz-chf")[0])
    bad = copy.deepcopy(record)
    bad["payment_method"] = "cheque"
    assert not validator.is_valid(bad)
    bad = copy.deepcopy(record)
    bad["membership_number"] = "CHF-1"
    assert not validator.is_valid(bad)
    bad = copy.deepcopy(record)
    bad["members"][0]["dob"] = "1980-13-40"
    assert not validator.is_valid(bad)
    bad = copy.deepcopy(record)
    bad["shoe_size"] = 42
    assert not validator.is_valid(bad)
    bad = copy.deepcopy(record)
    bad["members"][0]["roles"] = ["chief"]
    assert not validator.is_valid(bad)


def test_document_needs_a_token_and_shows_the_users_schemes(app, client):
    from conftest import make_user

    assert client.get(f"{API}/openapi.json").status_code == 401
    make_user(app, "chf_only", [("enrolment_officer", "tz-chf", None)])
    tok = client.post(f"{API}/token", json={"username": "chf_only", "password": "secret-pass"}).get_json()["token"]
    doc = client.get(f"{API}/openapi.json", headers={"Authorization": f"Bearer {tok}"}).get_json()
    assert "TzChfRecord" in doc["components"]["schemas"]
    assert "CmEducashRecord" not in doc["components"]["schemas"]
    validate_openapi(doc)
