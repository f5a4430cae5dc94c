"""A formula's runtime error (division by zero, a missing value...) said in the reader's language
wherever a person reads it: the E810 detail next to a field on a form, eligibility and benefit
explanations (and the lines kept in the database, old ones holding the English text too), claim
reasons (R13 and verification), the impact preview and a payment cycle's dry run.

tests/runtime_scheme/per_head.yaml divides by values that can be zero.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import pytest

from conftest import PG_URL, login, make_user
from openscheme.claims.reasons import reason, reason_text
from openscheme.definitions import compile_file
from openscheme.evaluation import explanations as ex
from openscheme.evaluation.engine import evaluate
from openscheme.evaluation.records import validate_record
from openscheme.formulas.errors import runtime_error

sys.path.insert(0, str(Path(__file__).parent / "web"))
from registry_helpers import field_error  # noqa: E402

FIXTURE = Path(__file__).parent / "runtime_scheme" / "per_head.yaml"
ON = date(2024, 6, 1)


@pytest.fixture(scope="module")
def scheme():
    result = compile_file(FIXTURE)
    assert result.ok, result.diagnostics
    return result.scheme


def record(**values):
    return {"first_name": "Awa", "dob": "1990-01-01", "income": 1000, "dependants": 2, "children": 1} | values


# ---- E810 on a record ------------------------------------------------------------------------


def test_e810_detail_in_the_language_of_the_validation(scheme):
    english = validate_record(scheme, record(dependants=0), as_of=ON, lang="en").errors
    french = validate_record(scheme, record(dependants=0), as_of=ON, lang="fr").errors
    assert [(e.path, e.code, e.message) for e in english] == [
        ("income_per_dependant", "E810", "Cannot be checked: division by zero.")]
    assert [(e.path, e.code, e.message) for e in french] == [
        ("income_per_dependant", "E810", "Vérification impossible : division par zéro.")]


@pytest.fixture(scope="module")
def per_head_app(tmp_path_factory):
    """An app of its own (its own database) serving the fixture, so that the session's catalogue
    of examples is left as the other tests know it."""
    from openscheme import create_app
    from openscheme.storage.scratch import fresh_postgres

    drop = None
    if PG_URL:
        url, drop = fresh_postgres(PG_URL, "test_perhead")  # not the session's own database (same pid)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('perhead') / 'test.db'}"
    app = create_app({
        "DATABASE_URL": url, "SCHEME_PATHS": [str(FIXTURE.parent)], "TESTING": True, "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    })
    app.instance_path = str(tmp_path_factory.mktemp("perhead-instance"))
    make_user(app, "agent", [("enrolment_officer", None, None)], language="fr")
    yield app
    app.extensions["openscheme"].db.engine.dispose()
    if drop is not None:
        drop()


@pytest.mark.db
def test_the_form_shows_the_french_detail_next_to_the_calculated_field(per_head_app):
    client = per_head_app.test_client()
    login(client, "agent")
    data = {"first_name": "Awa", "dob": "1990-01-01", "income": "1000", "dependants": "0", "children": "1"}
    r = client.post("/s/xx-per-head/register", data=data)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert field_error(html, "income_per_dependant") == "Vérification impossible : division par zéro."
    assert "division by zero" not in html
    r = client.post("/s/xx-per-head/register?lang=en", data=data)
    assert field_error(r.get_data(as_text=True), "income_per_dependant") == "Cannot be checked: division by zero."


# ---- eligibility and benefit explanations ---------------------------------------------------


def test_a_rule_and_a_benefit_explain_their_runtime_error_in_french(scheme):
    ev = evaluate(scheme, record(children=0), as_of=ON, lang="fr")
    rule = ev.rules[0]
    assert not rule.passed and rule.error == "division by zero"
    assert rule.error_text("fr") == "division par zéro" and rule.error_text("en") == "division by zero"
    ev = evaluate(scheme, record(income=0, children=1), as_of=ON, lang="fr")
    grant = ev.benefit("grant")
    assert grant.lines == ["cannot be computed: division by zero"]
    assert grant.lines_in("fr") == ["calcul impossible : division par zéro"]
    ev = evaluate(scheme, record(income=0, children=2), as_of=ON, lang="fr")
    bonus = ev.benefit("bonus")
    assert bonus.lines[0] == "not entitled: income / (children - 2) < 1000 is not met (division by zero)"
    assert bonus.lines_in("fr")[0] == "pas de droit : income / (children - 2) < 1000 n'est pas rempli (division par zéro)"


def test_a_stored_part_says_its_error_in_the_readers_language_and_old_parts_still_render():
    error = runtime_error("run_no_value", what="the premium")
    new = json.loads(json.dumps(ex.stored([["premium_error", {"error": error.as_param()}]])))
    assert ex.lines(new, "en") == ["premium cannot be computed: the premium has no value"]
    assert ex.lines(new, "fr") == ["la prime ne peut pas être calculée : la prime n'a pas de valeur"]
    # a part kept before the errors had keys: the English error text, said inside the French line
    old = [["premium cannot be computed: division by zero", "premium_error", {"error": "division by zero"}]]
    assert ex.lines(old, "en") == ["premium cannot be computed: division by zero"]
    assert ex.lines(old, "fr") == ["la prime ne peut pas être calculée : division by zero"]
    assert ex.text(["contribution_error", {"error": "'salary' has no value"}], "fr") == \
        "la cotisation ne peut pas être calculée : 'salary' has no value"
    # the key of another version: the English it kept
    gone = ["benefit_error", {"error": {"key": "run_gone", "params": {}, "en": "it was so"}}]
    assert ex.text(gone, "fr") == "calcul impossible : it was so"
    wage = runtime_error("run_name_no_value", name="salary").as_param()
    assert ex.text(["contribution_error", {"error": wage}], "fr") == \
        "la cotisation ne peut pas être calculée : « salary » n'a pas de valeur"


# ---- claims: R13 and verification ----------------------------------------------------------------


def test_a_claim_reason_says_the_runtime_error_in_french_and_old_reasons_stay(scheme):
    from openscheme.claims.applies import benefit_applies

    applies = benefit_applies(scheme, scheme.benefit("bonus"), {"income": 0, "children": 2}, ON)
    assert not applies.ok and applies.error == "division by zero"
    stored = json.loads(json.dumps(reason("R13", "eligible_when_error", condition=applies.condition,
                                          error=applies.error_data)))
    assert stored[1] == ("the benefit does not apply to the patient on the date of service: only when "
                         "income / (children - 2) < 1000, which cannot be checked: division by zero")
    assert reason_text(stored, "fr").endswith("qui ne peut pas être vérifié : division par zéro")
    old = json.loads(json.dumps(reason("R13", "eligible_when_error", condition="x > 0", error="division by zero")))
    assert reason_text(old, "fr").endswith("qui ne peut pas être vérifié : division by zero")
    assert reason_text(old, "en") == stored[1].replace("income / (children - 2) < 1000", "x > 0")


# ---- the impact preview (and the workbench) ------------------------------------------------------


def test_the_impact_explanation_says_the_runtime_errors_in_french(scheme):
    from openscheme.analysis.impact import explain

    values = validate_record(scheme, record(children=0), as_of=ON).values
    lines = explain(scheme, values, ON, ["grant"], "fr").lines
    text = "\n".join(lines)
    assert "(division par zéro)" in text and "division by zero" not in text
    english = "\n".join(explain(scheme, values, ON, ["grant"]).lines)
    assert "(division by zero)" in english


# ---- payments: the reasons of a dry run -----------------------------------------------------------


def test_an_entitlement_keeps_its_error_as_data_and_a_dry_run_digest_keeps_it(scheme):
    from openscheme.formulas.messages import said_text
    from openscheme.payments.cycles import Diff, DiffDigest
    from openscheme.payments.entitlements import entitlement

    values = validate_record(scheme, record(income=0, children=1), as_of=ON).values
    e = entitlement(scheme, scheme.benefit("grant"), 7, values, ON)
    assert e.failed == ["error: division by zero"] and said_text(e.error, "fr") == "division par zéro"
    diff = Diff(1, not_paid={"error: division by zero": 1, "zero amount": 2}, errors={"error: division by zero": e.error})
    digest = DiffDigest.from_json(json.loads(json.dumps(DiffDigest.of(diff, 10).as_json())))
    assert said_text(digest.reason_error("error: division by zero"), "fr") == "division par zéro"
    assert digest.reason_error("zero amount") is None
    kept_before = DiffDigest.of(diff, 10).as_json()
    del kept_before["errors"]
    assert DiffDigest.from_json(kept_before).reason_error("error: division by zero") is None
