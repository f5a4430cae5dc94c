"""One validation: the same bad record gets the same codes and messages from the JSON API,
the bulk import and `Registry.register` (which the web form calls)."""

from __future__ import annotations

import copy
import csv
import io
from datetime import date, timedelta

import pytest

EDD = (date.today() + timedelta(days=100)).isoformat()

CHEQUE = {"cheque_number": "CS00012345", "first_name": "Aïssatou", "last_name": "Bouba", "sex": "F",
          "dob": "1998-04-04", "region": "EN", "health_district": "MAROUA1", "parity": 1, "lmp_known": False,
          "edd_estimated": EDD}
EDUCASH = {"region": "NO", "department": "BENOUE", "village": "Pitoa", "roof": "thatch", "walls": "earth",
           "water_source": "surface", "has_electricity": False, "livestock_units": 2, "payment_channel": "cash_agent",
           "recipient_id": "112233445",
           "members": [{"first_name": "Mamadou", "last_name": "Bello", "sex": "M", "dob": "1980-05-05",
                        "roles": ["head"]},
                       {"first_name": "Aïcha", "last_name": "Bello", "sex": "F", "dob": "1985-03-03",
                        "roles": ["primary_recipient"]}]}


def bad_cheque() -> dict:
    return CHEQUE | {"dob": "1998-02-30", "health_district": "ATLANTIS", "parity": 25, "cheque_number": "CS12"}


def bad_educash() -> dict:
    record = copy.deepcopy(EDUCASH)
    record["roof"] = "straw"  # not a choice
    record["livestock_units"] = -1
    record["members"][1]["dob"] = "03/03/1985"  # not a date
    record["members"][1]["sex"] = "female"  # not a choice
    return record


def cell(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(value)
    return "" if value is None else str(value)


def as_csv(record: dict) -> io.BytesIO:
    """The record as an import file: one row per member, household fields on the first row."""
    members = record.get("members")
    unit = {k: v for k, v in record.items() if k != "members"}
    if members is None:
        rows = [unit]
    else:
        rows = [{"household_ref": "1"} | (unit if i == 0 else {}) | member for i, member in enumerate(members)]
    columns = list(dict.fromkeys(k for row in rows for k in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows({k: cell(v) for k, v in row.items()} for row in rows)
    return io.BytesIO(out.getvalue().encode("utf-8"))


def triples(errors) -> list[tuple[str, str, str]]:
    return sorted((e["path"], e["code"], e["message"]) if isinstance(e, dict) else (e.path, e.code, e.message)
                  for e in errors)


def through_registry(app, session, code: str, record: dict, lang: str):
    from openscheme.registry.service import Registry

    result = Registry(session, app.extensions["openscheme"].catalog, None, lang).register(code, copy.deepcopy(record))
    assert not result.ok
    session.rollback()
    return triples(result.errors)


def through_api(client, code: str, record: dict, lang: str):
    tok = client.post("/api/v1/token", json={"username": "enrolment_officer", "password": "secret-pass"})
    headers = {"Authorization": f"Bearer {tok.get_json()['token']}"}
    r = client.post(f"/api/v1/schemes/{code}/records?lang={lang}", json=record, headers=headers)
    assert r.status_code == 422, r.get_json()
    return triples(r.get_json()["errors"])


def through_import(app, session, code: str, record: dict, lang: str):
    from openscheme.registry.importer import Importer

    report = Importer(session, app.extensions["openscheme"].catalog, code, lang=lang).run(as_csv(record), "one.csv")
    assert report.created == 0 and report.failed == 1 and report.file_error is None
    return triples(i for i in report.issues if i.status == "error")


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize(("code", "make"), [("cm-cheque-sante", bad_cheque), ("cm-educash", bad_educash)])
def test_same_bad_record_same_errors_on_every_path(app, client, users, session, code, make, lang):
    record = make()
    form = through_registry(app, session, code, record, lang)
    api = through_api(client, code, record, lang)
    imported = through_import(app, session, code, record, lang)
    assert form == api == imported
    codes = {c for _p, c, _m in form}
    assert {"E802", "E807"} <= codes  # a bad date and an unknown choice, at least
    assert {"E803", "E806"} & codes or code == "cm-educash"


def test_the_messages_are_the_users_language(app, client, users, session):
    record = bad_cheque()
    english = dict((p, m) for p, _c, m in through_api(client, "cm-cheque-sante", record, "en"))
    french = dict((p, m) for p, _c, m in through_import(app, session, "cm-cheque-sante", record, "fr"))
    assert english["dob"] == "Enter a date as YYYY-MM-DD."
    assert french["dob"] == "Saisissez une date au format AAAA-MM-JJ."
    assert french["health_district"] == "« ATLANTIS » ne fait pas partie des choix."
    # the scheme's own message, in the scheme's language
    assert french["cheque_number"] == "CS suivi de 8 chiffres, par ex. CS00012345"
    assert english["cheque_number"] == "CS followed by 8 digits, e.g. CS00012345"


def test_a_good_record_is_accepted_on_every_path(app, client, users, session):
    from openscheme.registry.importer import Importer
    from openscheme.registry.service import Registry
    from openscheme.storage.models import Individual

    catalog = app.extensions["openscheme"].catalog
    assert Registry(session, catalog).register("cm-cheque-sante", CHEQUE | {"cheque_number": "CS00000001"}).ok
    session.commit()
    tok = client.post("/api/v1/token", json={"username": "enrolment_officer", "password": "secret-pass"})
    r = client.post("/api/v1/schemes/cm-cheque-sante/records", json=CHEQUE | {"cheque_number": "CS00000002"},
                    headers={"Authorization": f"Bearer {tok.get_json()['token']}"})
    assert r.status_code == 201
    report = Importer(session, catalog, "cm-cheque-sante").run(as_csv(CHEQUE | {"cheque_number": "CS00000003"}),
                                                               "one.csv")
    assert report.created == 1
    stored = {p.data["cheque_number"]: p.data for p in session.query(Individual).all()}
    assert len(stored) == 3
    # the three paths store the same values
    views = [{k: v for k, v in stored[f"CS0000000{i}"].items() if k != "cheque_number"} for i in (1, 2, 3)]
    assert views[0] == views[1] == views[2]
