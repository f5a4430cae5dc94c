"""A NUL character (U+0000) can be sent but not stored: PostgreSQL refuses it in text and JSON, so it used
to surface as a server error (a form post, a search, the login) or stop a whole bulk import. It is now
refused where it comes in: by the one validation (E802, the field named, in the reader's language) and,
for any other field or parameter of a page, with a 400 that names it. Nothing already saved is lost."""

from __future__ import annotations

from datetime import date

import pytest

from conftest import login, make_user
from openscheme.definitions import compile_file
from openscheme.evaluation.records import validate_record
from test_import import EDUCASH_COLUMNS, csv_bytes, household, run

NP_SSF = {"first_name": "Bimala", "last_name": "Karki", "sex": "F", "dob": "1973-12-30", "national_id": "31337000000",
          "ssf_number": "2024000000", "phone": "+9779870140718", "employer_name": "Himal Textiles Pvt. Ltd.",
          "employer_number": "E184897", "sector": "ngo", "employment_status": "active",
          "employment_start": "2020-10-31", "monthly_wage": "37523"}


@pytest.fixture(scope="module")
def ssf():
    from conftest import EXAMPLES

    return compile_file(EXAMPLES / "np_ssf.yaml").scheme


@pytest.mark.parametrize("lang, text", [
    ("en", "This text holds a NUL character (\\0), which cannot be stored: type it again."),
    ("fr", "Ce texte contient un caractère NUL (\\0), qui ne peut pas être enregistré : saisissez-le à nouveau."),
])
def test_the_validation_refuses_a_nul_in_a_text_field(ssf, lang, text):
    assert not validate_record(ssf, NP_SSF, as_of=date(2026, 11, 1)).errors
    for name in ("first_name", "employer_name", "national_id", "phone"):
        checked = validate_record(ssf, NP_SSF | {name: NP_SSF[name][:3] + "\x00" + NP_SSF[name][3:]},
                                  as_of=date(2026, 11, 1), lang=lang)
        assert [(e.path, e.code, e.message) for e in checked.errors] == [(name, "E802", text)]
    # typed, not only as text: the same from a JSON body's non-string path is refused elsewhere (a number)
    assert validate_record(ssf, NP_SSF | {"sector": "ngo\x00"}, as_of=date(2026, 11, 1)).errors[0].code == "E802"


def test_a_bulk_import_refuses_the_row_and_saves_the_others(app, session):
    from openscheme.storage.models import Household

    rows = household("HH1") + household("HH2", "223344556") + household("HH3", "334455667")
    rows[4]["first_name"] = "Aï\x00cha"  # HH2's second member: file row 6
    report = run(app, session, "cm-educash", csv_bytes(rows, EDUCASH_COLUMNS), "households.csv")
    assert (report.rows, report.created, report.failed) == (9, 2, 1), report.file_error
    assert {(i.row, i.column, i.code) for i in report.issues} == {(6, "first_name", "E802")}
    assert session.query(Household).filter_by(scheme_code="cm-educash").count() == 2


@pytest.mark.parametrize("method, url, data", [
    ("post", "/s/np-ssf/register", NP_SSF | {"first_name": "Bi\x00mala"}),
    ("get", "/s/np-ssf/?q=Bi%00mala", None),
    ("get", "/s/np-ssf/?q%00=1", None),
])
def test_a_page_answers_400_naming_the_field(app, client, method, url, data):
    make_user(app, "officer", [("enrolment_officer", None, None)])
    login(client, "officer")
    r = getattr(client, method)(url, data=data)
    assert r.status_code == 400, r.status_code
    page = r.get_data(as_text=True)
    assert "holds the character U+0000 (NUL)" in page
    assert ("first_name" if data else "q") in page


def test_the_login_form_answers_400_not_a_server_error(app, client):
    make_user(app, "officer", [("enrolment_officer", None, None)])
    r = client.post("/login", data={"username": "offi\x00cer", "password": "secret-pass"})
    assert r.status_code == 400
    assert "username" in r.get_data(as_text=True)
    assert login(client, "officer").status_code in (200, 302)  # nothing else changed
