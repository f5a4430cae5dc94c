"""Bulk import from CSV and XLSX: grouping, the per-row report, idempotence, streaming, web page and API."""

from __future__ import annotations

import contextlib
import csv
import io
import time
from datetime import date, datetime, timedelta

import pytest

from conftest import login, make_user

EDUCASH_COLUMNS = ["household_ref", "region", "department", "village", "roof", "walls", "water_source",
                   "has_electricity", "livestock_units", "payment_channel", "phone", "recipient_id",
                   "first_name", "last_name", "sex", "dob", "is_enrolled_in_school", "school_name", "attendance_rate",
                   "roles"]
CHEQUE_COLUMNS = ["cheque_number", "first_name", "last_name", "sex", "dob", "phone", "region", "health_district",
                  "parity", "lmp_known", "lmp", "edd_estimated"]


def household(ref: str, recipient_id: str = "112233445", *, head_dob: str = "1980-05-05", repeat: bool = False,
              extra_members: int = 0) -> list[dict]:
    """A cm-educash household: head, caregiver, a pupil (household fields on the first row only)."""
    unit = {"region": "NO", "department": "BENOUE", "village": "Pitoa", "roof": "thatch", "walls": "earth",
            "water_source": "surface", "has_electricity": "no", "livestock_units": "2",
            "payment_channel": "mtn_momo", "phone": "+237670000001", "recipient_id": recipient_id}
    rows = [
        {"first_name": "Mamadou", "last_name": ref, "sex": "M", "dob": head_dob, "roles": "head"},
        {"first_name": "Aïcha", "last_name": ref, "sex": "F", "dob": "1985-03-03", "roles": "primary_recipient"},
        {"first_name": "Oumarou", "last_name": ref, "sex": "M", "dob": "2013-09-01", "is_enrolled_in_school": "oui",
         "school_name": "École publique de Pitoa", "attendance_rate": "92.5"},
    ] + [{"first_name": f"Child{i}", "last_name": ref, "sex": "F", "dob": "2021-01-01"} for i in range(extra_members)]
    return [{"household_ref": ref} | (unit if i == 0 or repeat else {}) | row for i, row in enumerate(rows)]


def person(cheque: str, **changes) -> dict:
    edd = (date.today() + timedelta(days=100)).isoformat()
    return {"cheque_number": cheque, "first_name": "Aïssatou", "last_name": "Bouba", "sex": "F", "dob": "1998-04-04",
            "region": "EN", "health_district": "MAROUA1", "parity": "1", "lmp_known": "no", "edd_estimated": edd} | changes


def csv_bytes(rows: list[dict], columns: list[str], delimiter: str = ",") -> io.BytesIO:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=delimiter, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return io.BytesIO(out.getvalue().encode("utf-8-sig"))


def xlsx_bytes(rows: list[dict], columns: list[str], typed: bool = True) -> io.BytesIO:
    """An Excel workbook, with dates and numbers as real Excel cells (as a user's sheet has them)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(columns)
    for row in rows:
        cells = []
        for c in columns:
            v = row.get(c)
            if typed and isinstance(v, str):
                if c in ("dob", "lmp", "edd_estimated") and v:
                    with contextlib.suppress(ValueError):  # a bad date stays text, as typed
                        v = datetime.fromisoformat(v)
                elif c in ("livestock_units", "parity") and v.isdigit():
                    v = int(v)
                elif c == "attendance_rate" and v:
                    v = float(v)
            cells.append(v)
        ws.append(cells)
    ws.append([None] * len(columns))  # a trailing blank row, as Excel often leaves
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return buffer


def run(app, session, code: str, data: io.BytesIO, name: str = "file.csv", **kwargs):
    from openscheme.registry.importer import Importer

    catalog = app.extensions["openscheme"].catalog
    return Importer(session, catalog, code, **kwargs).run(data, name)


def count(session, model, code: str) -> int:
    return session.query(model).filter_by(scheme_code=code).count()


# ---- household schemes ---------------------------------------------------------------------


def test_csv_household_import_saves_good_groups_and_reports_bad_ones(app, session):
    from openscheme.storage.models import Household, Individual

    bad = household("HH2", "223344556")
    bad[0]["dob"] = "1980-13-05"  # row 5
    bad[1]["sex"] = "X"  # row 6
    bad[2]["roles"] = "primary_recipient"  # two caregivers: row group error
    rows = household("HH1") + bad + household("HH3", "334455667")
    report = run(app, session, "cm-educash", csv_bytes(rows, EDUCASH_COLUMNS), "households.csv")
    assert (report.rows, report.records, report.created, report.failed, report.skipped) == (9, 3, 2, 1, 0)
    assert report.individuals == 6
    issues = {(i.row, i.column, i.path, i.code) for i in report.issues}
    assert (5, "dob", "members[0].dob", "E802") in issues
    assert (6, "sex", "members[1].sex", "E807") in issues
    assert (5, "roles", "members", "E808") in issues
    assert all(i.status == "error" for i in report.issues)
    assert count(session, Household, "cm-educash") == 2
    assert count(session, Individual, "cm-educash") == 6
    # nothing at all of the bad household was saved
    assert session.query(Individual).filter(Individual.data["last_name"].as_string() == "HH2").count() == 0
    saved = session.query(Household).filter_by(scheme_code="cm-educash").order_by(Household.id).first()
    assert saved.data["recipient_id"] == "112233445" and saved.data["has_electricity"] is False
    assert [m.roles for m in saved.members] == [["head"], ["primary_recipient"], []]
    assert saved.members[2].data["attendance_rate"] == "92.5"
    assert saved.members[2].data["is_enrolled_in_school"] is True
    assert saved.import_key == "u:112233445"  # recipient_id is the scheme's unique household field


def test_report_csv_has_row_column_path_code_message(app, session):
    rows = household("HH1")
    rows[1]["dob"] = "soon"
    report = run(app, session, "cm-educash", csv_bytes(rows, EDUCASH_COLUMNS))
    lines = list(csv.reader(io.StringIO(report.csv_text())))
    assert lines[0] == ["row", "column", "path", "code", "message", "status"]
    assert lines[1] == ["3", "dob", "members[1].dob", "E802", "Enter a date as YYYY-MM-DD.", "error"]
    french = run(app, session, "cm-educash", csv_bytes(rows, EDUCASH_COLUMNS), lang="fr")
    assert french.issues[0].message == "Saisissez une date au format AAAA-MM-JJ."


def test_reimporting_the_same_file_adds_nothing(app, session):
    from openscheme.storage.models import AuditLog, Household, Individual

    rows = household("HH1") + household("HH2", "223344556")
    first = run(app, session, "cm-educash", csv_bytes(rows, EDUCASH_COLUMNS), lang="en")
    assert first.created == 2
    again = run(app, session, "cm-educash", csv_bytes(rows, EDUCASH_COLUMNS), lang="en")
    assert (again.created, again.skipped, again.failed) == (0, 2, 0)
    assert [(i.row, i.status) for i in again.issues] == [(2, "skipped"), (5, "skipped")]
    uid = session.query(Household).filter_by(scheme_code="cm-educash").order_by(Household.id).first().uid
    assert again.issues[0].message == f"Already imported ({uid})."
    assert count(session, Household, "cm-educash") == 2 and count(session, Individual, "cm-educash") == 6
    # the same data laid out differently (household fields repeated, ; delimiter, spaces) is the same record
    relaid = [{k: f" {v} " for k, v in row.items()} for row in household("HH1", repeat=True)]
    third = run(app, session, "cm-educash", csv_bytes(relaid, EDUCASH_COLUMNS, delimiter=";"))
    assert (third.created, third.skipped) == (0, 1), third.issues
    # one audit entry per import, none per row; in the order written (ORDER BY: without it PostgreSQL returns
    # the rows where they lie in the table, and new rows fill the space other tests' deleted rows left)
    entries = session.query(AuditLog).filter_by(action="import").order_by(AuditLog.id).all()
    assert len(entries) == 3
    assert entries[0].after["created"] == 2 and "file.csv" in entries[0].detail
    assert session.query(AuditLog).filter_by(action="create").count() == 0


NAFA_COLUMNS = ["household_ref", "region", "district", "village", "payment_channel", "phone", "first_name",
                "last_name", "sex", "dob", "national_id", "roles"]


def nafa(ref: str, **head) -> list[dict]:
    return [{"household_ref": ref, "region": "URR", "district": "BSE", "village": "Sabi", "payment_channel": "cash_agent",
             "first_name": "Awa", "last_name": "Jallow", "sex": "F", "dob": "1980-02-01", "national_id": "123456789",
             "roles": "head primary_recipient"} | head,
            {"household_ref": ref, "first_name": "Lamin", "last_name": "Jallow", "sex": "M", "dob": "2005-05-05"}]


def test_without_a_unique_household_field_the_key_is_a_fingerprint(app, session):
    from openscheme.storage.models import Household

    report = run(app, session, "gm-nafa-quick", csv_bytes(nafa("A"), NAFA_COLUMNS))
    assert report.created == 1
    key = session.query(Household).filter_by(scheme_code="gm-nafa-quick").one().import_key
    assert len(key) == 64 and int(key, 16) >= 0  # SHA-256 of the normalised rows
    # the same rows, another reference, roles in another order, spaces, ';': the same record
    relaid = [{k: f" {v} " for k, v in row.items()} for row in nafa("other-ref", roles="primary_recipient head")]
    again = run(app, session, "gm-nafa-quick", csv_bytes(relaid, NAFA_COLUMNS, delimiter=";"))
    assert (again.created, again.skipped) == (0, 1)
    # a changed household is new; its member's national id is then a duplicate, as in the form
    changed = run(app, session, "gm-nafa-quick", csv_bytes(nafa("A", first_name="Awa Mariama"), NAFA_COLUMNS),
                  lang="en")
    assert changed.created == 0
    assert [(i.row, i.path, i.code) for i in changed.issues] == [(2, "members[0].national_id", "E811")]
    fresh = run(app, session, "gm-nafa-quick", csv_bytes(nafa("B", national_id="987654321"), NAFA_COLUMNS))
    assert fresh.created == 1 and session.query(Household).filter_by(scheme_code="gm-nafa-quick").count() == 2


def test_xlsx_import_of_a_household_scheme(app, session):
    from openscheme.storage.models import Household, Individual

    rows = household("HH1") + household("HH2", "223344556")
    rows[3]["dob"] = "1980-13-05"  # stays text in the sheet
    report = run(app, session, "cm-educash", xlsx_bytes(rows, EDUCASH_COLUMNS), "households.xlsx", lang="en")
    assert (report.rows, report.created, report.failed) == (6, 1, 1)
    assert (5, "members[0].dob", "E802") in [(i.row, i.path, i.code) for i in report.issues]
    member = session.query(Individual).filter_by(scheme_code="cm-educash", position=0).one()
    assert member.data["dob"] == "1980-05-05"  # an Excel date cell
    assert member.household.data["livestock_units"] == 2
    # CSV and XLSX of the same data are the same records
    again = run(app, session, "cm-educash", csv_bytes(household("HH1"), EDUCASH_COLUMNS))
    assert again.skipped == 1 and count(session, Household, "cm-educash") == 1


def test_household_grouping_problems(app, session):
    from openscheme.storage.models import Household

    rows = household("HH1") + household("HH2", "223344556") + household("HH1", "998877665")
    rows[1]["village"] = "Garoua"  # a different household value on a later row of HH1
    rows[4]["household_ref"] = ""  # a member row without its household
    report = run(app, session, "cm-educash", csv_bytes(rows, EDUCASH_COLUMNS), lang="en")
    by_code = {}
    for i in report.issues:
        by_code.setdefault(i.code, []).append((i.row, i.column))
    assert (3, "village") in by_code["E808"]  # conflicting value
    assert (8, "household_ref") in by_code["E808"]  # HH1 again, not next to its rows
    assert (6, "household_ref") in by_code["E801"]
    assert report.created == 0 and count(session, Household, "cm-educash") == 0


def test_values_beyond_the_named_columns_are_refused(app, session):
    header = "first_name,last_name,sex,dob,ssf_number,employer_name,employer_number,sector,employment_status,employment_start,monthly_wage"
    good = "Sunita,Karki,F,1990-03-15,2024001234,Himal,E004512,private_company,active,2019-04-01,50000"
    shifted = "Ram,Thapa,M,1985-08-20,2024005678,Everest,E000321,cooperative,active,2015-01-15,32000,oops"
    text = "\n".join([header, good, shifted, ""]) + "\n"
    report = run(app, session, "np-ssf", io.BytesIO(text.encode()), "ssf.csv", lang="en")
    assert (report.created, report.failed) == (1, 1)
    assert [(i.row, i.code) for i in report.issues] == [(3, "E809")]
    rows = household("HH1")
    text = csv_bytes(rows, EDUCASH_COLUMNS).getvalue().decode("utf-8-sig").splitlines()
    text[2] += ",surplus"
    report = run(app, session, "cm-educash", io.BytesIO("\n".join(text).encode()), lang="en")
    assert [(i.row, i.code) for i in report.issues] == [(3, "E809")] and report.created == 0


def test_header_problems_stop_the_import(app, session):
    from openscheme.storage.models import Household

    columns = [c if c != "first_name" else "firstname" for c in EDUCASH_COLUMNS]
    rows = [{("firstname" if k == "first_name" else k): v for k, v in r.items()} for r in household("HH1")]
    report = run(app, session, "cm-educash", csv_bytes(rows, columns), lang="en")
    assert report.file_error and report.created == 0
    (issue,) = report.issues
    assert (issue.row, issue.column, issue.code) == (1, "firstname", "E809")
    assert "Did you mean “first_name”?" in issue.message
    report = run(app, session, "cm-educash", csv_bytes(household("HH1"), EDUCASH_COLUMNS[1:]), lang="en")
    assert [(i.column, i.code) for i in report.issues] == [("household_ref", "E801")]
    assert count(session, Household, "cm-educash") == 0
    for data, name in ((io.BytesIO(b""), "empty.csv"), (io.BytesIO(b"PK\x03\x04junk"), "broken.xlsx"),
                       (io.BytesIO(b"a,b"), "file.pdf"), (io.BytesIO("é".encode("latin-1") + b",x\n"), "latin.csv")):
        report = run(app, session, "cm-educash", data, name)
        assert report.file_error and report.issues[0].row >= 1, name


def test_household_scheme_with_locations_and_scope(app, session):
    from openscheme.reference.users import create_user
    from openscheme.storage.models import Household, Location

    made = {}
    for code, level, parent in [("DODOMA", "region", None), ("KONGWA_DC", "district", "DODOMA"),
                                ("MLALI", "ward", "KONGWA_DC"), ("MLALI_A", "village", "MLALI"),
                                ("BAHI_DC", "district", "DODOMA"), ("CHIPANGA", "ward", "BAHI_DC"),
                                ("CHIPANGA_A", "village", "CHIPANGA")]:
        loc = Location(code=code, name=code, level=level, parent_id=made[parent].id if parent else None,
                       path=(made[parent].path if parent else "/") + code + "/")
        session.add(loc)
        session.flush()
        made[code] = loc
    user = create_user(session, "kongwa", "x", roles=[("enrolment_officer", "tz-chf", "KONGWA_DC")],
                       hash_method="pbkdf2:sha256:1000")
    session.commit()
    columns = ["household_ref", "region", "district", "ward", "village", "membership_number", "payment_method",
               "first_name", "last_name", "sex", "dob", "nida_number", "roles"]
    rows = [
        {"household_ref": "1", "region": "DODOMA", "district": "KONGWA_DC", "ward": "MLALI", "village": "MLALI_A",
         "membership_number": "CHF-00000001", "first_name": "Juma", "last_name": "Mussa", "sex": "M",
         "dob": "1980-03-12", "nida_number": "19800312411230000125", "roles": "head"},
        {"household_ref": "1", "first_name": "Rehema", "last_name": "Juma", "sex": "F", "dob": "1985-07-01"},
        {"household_ref": "2", "region": "DODOMA", "district": "BAHI_DC", "ward": "CHIPANGA", "village": "CHIPANGA_A",
         "membership_number": "CHF-00000002", "first_name": "Asha", "last_name": "Said", "sex": "F",
         "dob": "1990-06-15", "roles": "head"},
        {"household_ref": "3", "region": "DODOMA", "district": "KONGWA_DC", "ward": "MLALI", "village": "ATLANTIS",
         "membership_number": "CHF-00000003", "first_name": "Peter", "last_name": "M", "sex": "M",
         "dob": "1979-02-02", "roles": "head"},
        {"household_ref": "4", "region": "DODOMA", "district": "KONGWA_DC", "ward": "MLALI", "village": "MLALI_A",
         "membership_number": "CHF-00000004", "first_name": "Idd", "last_name": "S", "sex": "M",
         "dob": "1979-02-02", "nida_number": "19800312411230000125", "roles": "head"},  # NIDA of row 2
    ]
    report = run(app, session, "tz-chf", csv_bytes(rows, columns), user=user, lang="en",
                 scope_paths=["/DODOMA/KONGWA_DC/"])
    assert report.created == 1 and report.failed == 3
    issues = {(i.row, i.column, i.code) for i in report.issues}
    assert (4, "village", "E807") in issues  # Bahi is outside the officer's area
    assert (5, "village", "E807") in issues  # unknown village
    assert (6, "nida_number", "E811") in issues  # already in this file (row 2)
    saved = session.query(Household).filter_by(scheme_code="tz-chf").one()
    assert saved.import_key == "u:CHF-00000001"  # the scheme's unique field
    assert saved.location_path == "/DODOMA/KONGWA_DC/MLALI/MLALI_A/" and saved.created_by == user.id
    assert saved.members[0].location_path == saved.location_path
    # a later file with the same membership number is "already imported", whatever else changed
    rows[1]["first_name"] = "Rehema Mary"
    again = run(app, session, "tz-chf", csv_bytes(rows[:2], columns), user=user, lang="en")
    assert again.skipped == 1 and again.created == 0
    # a record registered by hand with a unique value is a duplicate (E811), as in the form
    rows[0]["membership_number"] = "CHF-00000009"
    dup = run(app, session, "tz-chf", csv_bytes(rows[:2], columns), user=user, lang="en")
    assert [(i.row, i.column, i.code) for i in dup.issues] == [(2, "nida_number", "E811")]
    assert saved.uid in dup.issues[0].message or "P" in dup.issues[0].message


TZ_COLUMNS = ["household_ref", "region", "district", "ward", "village", "membership_number", "payment_method",
              "first_name", "last_name", "sex", "dob", "nida_number", "roles"]


def tz_places(session) -> None:
    from openscheme.storage.models import Location

    made = {}
    for code, level, parent in [("DODOMA", "region", None), ("KONGWA_DC", "district", "DODOMA"),
                                ("MLALI", "ward", "KONGWA_DC"), ("MLALI_A", "village", "MLALI")]:
        loc = Location(code=code, name=code, level=level, parent_id=made[parent].id if parent else None,
                       path=(made[parent].path if parent else "/") + code + "/")
        session.add(loc)
        session.flush()
        made[code] = loc
    session.commit()


def tz_household(ref: str, membership: str, nida: str = "", village: str = "MLALI_A") -> list[dict]:
    return [{"household_ref": ref, "region": "DODOMA", "district": "KONGWA_DC", "ward": "MLALI", "village": village,
             "membership_number": membership, "first_name": "Juma", "last_name": "Mussa", "sex": "M",
             "dob": "1980-03-12", "nida_number": nida, "roles": "head"},
            {"household_ref": ref, "first_name": "Rehema", "last_name": "Juma", "sex": "F", "dob": "1985-07-01"}]


def test_already_imported_comes_before_the_other_checks(app, session):
    """A batch is first saved without looking rows up (the unique indexes would refuse a repeat); a group
    that fails a later check (here an unknown village) is still reported as already imported, as the
    look-ups would have found."""
    tz_places(session)
    first = run(app, session, "tz-chf", csv_bytes(tz_household("1", "CHF-00000001"), TZ_COLUMNS))
    assert first.created == 1
    again = run(app, session, "tz-chf", csv_bytes(tz_household("1", "CHF-00000001", village="ATLANTIS")
                                                  + tz_household("2", "CHF-00000002"), TZ_COLUMNS), lang="en")
    assert (again.created, again.skipped, again.failed) == (1, 1, 0), again.issues
    assert again.issues[0].status == "skipped" and again.issues[0].message.startswith("Already imported (H")


def test_a_value_already_registered_is_named_before_a_repeat_in_the_file(app, session):
    """Two new households repeat a NIDA number registered before: both are refused, and both messages
    name the registered person - not "row 2" for the second one, which the file alone would say."""
    from openscheme.registry.service import Registry
    from openscheme.storage.models import Household, Individual

    tz_places(session)
    registered = Registry(session, app.extensions["openscheme"].catalog).register("tz-chf", {
        "region": "DODOMA", "district": "KONGWA_DC", "ward": "MLALI", "village": "MLALI_A",
        "membership_number": "CHF-00000009", "payment_method": "cash",
        "members": [{"first_name": "Asha", "last_name": "Said", "sex": "F", "dob": "1990-06-15",
                     "nida_number": "19900615411230000125", "roles": ["head"]}]})
    assert registered.ok, registered.errors
    session.commit()
    holder = registered.record.members[0].uid
    rows = (tz_household("1", "CHF-00000001", "19900615411230000125")
            + tz_household("2", "CHF-00000002", "19900615411230000125") + tz_household("3", "CHF-00000003"))
    report = run(app, session, "tz-chf", csv_bytes(rows, TZ_COLUMNS), lang="en")
    assert (report.created, report.failed) == (1, 2), report.issues
    assert [(i.row, i.column, i.code) for i in report.issues] == [(2, "nida_number", "E811"), (4, "nida_number", "E811")]
    assert all(holder in i.message for i in report.issues), report.issues
    assert count(session, Household, "tz-chf") == 2 and count(session, Individual, "tz-chf") == 3
    # without the registered person, the second is the repeat of the first, which is saved
    session.query(Individual).filter_by(uid=holder).update({"data": {"first_name": "Asha"}})
    session.commit()
    rows = (tz_household("4", "CHF-00000004", "19900615411230000125")
            + tz_household("5", "CHF-00000005", "19900615411230000125"))
    report = run(app, session, "tz-chf", csv_bytes(rows, TZ_COLUMNS), lang="en")
    assert (report.created, report.failed) == (1, 1)
    assert report.issues[0].row == 4 and "row 2" in report.issues[0].message


def test_the_import_is_pipelined_but_reports_in_file_order(app, session):
    """Batches are validated while the previous one is written: the report stays in file order."""
    rows = []
    for h in range(30):
        rows += household(f"H{h}", f"{100000000 + h}", head_dob="1980-02-30" if h % 7 == 3 else "1980-05-05")
    rows += household("H0-again", "100000000")  # the first household again (its unique field), in the last batch
    report = run(app, session, "cm-educash", csv_bytes(rows, EDUCASH_COLUMNS), batch_rows=12)
    assert (report.created, report.failed, report.skipped) == (26, 4, 1)
    assert [i.row for i in report.issues] == sorted(i.row for i in report.issues)
    assert report.issues[-1].status == "skipped" and report.issues[-1].row == len(rows) - 1


def test_stored_values_are_those_of_to_storage(app):
    """The importer's fast conversion to stored JSON gives what `values.to_storage` gives."""
    from openscheme.evaluation.records import validate_record
    from openscheme.registry.importer import _storer
    from openscheme.registry.values import to_storage

    catalog = app.extensions["openscheme"].catalog
    for code in catalog.codes():
        scheme = catalog.current(code)
        record = {"members": []} if scheme.is_household else {}
        values = validate_record(scheme, record).values
        assert _storer(scheme.fields)(values) == to_storage(values)
    scheme = catalog.current("cm-educash")
    values = validate_record(scheme, {"livestock_units": "3", "has_electricity": "oui", "members": [
        {"dob": "2015-01-01", "attendance_rate": "92.5", "is_enrolled_in_school": "yes"}]}).values
    assert _storer(scheme.fields)(values) == to_storage(values)
    member = values["members"][0]
    assert _storer(scheme.member_fields)(member) == to_storage(member) and to_storage(member)["attendance_rate"] == "92.5"


# ---- individual schemes --------------------------------------------------------------------


def test_individual_scheme_one_row_per_person(app, session):
    from openscheme.storage.models import Household, Individual

    rows = [person("CS00000001"), person("CS00000002", sex="Q", dob="1998-02-31"), person("CS00000003"),
            person("CS00000001", first_name="Twice")]
    report = run(app, session, "cm-cheque-sante", csv_bytes(rows, CHEQUE_COLUMNS), lang="en")
    assert (report.rows, report.created, report.failed, report.skipped) == (4, 2, 1, 1)
    assert {(i.row, i.column, i.code) for i in report.issues if i.status == "error"} == {(3, "sex", "E807"),
                                                                                         (3, "dob", "E802")}
    skipped = [i for i in report.issues if i.status == "skipped"]
    assert skipped[0].row == 5 and "row 2" in skipped[0].message
    people = session.query(Individual).filter_by(scheme_code="cm-cheque-sante").order_by(Individual.id).all()
    assert [p.import_key for p in people] == ["u:CS00000001", "u:CS00000003"]
    assert all(p.household_id is None and p.uid.startswith("P") for p in people)
    assert people[0].data["edd"] == people[0].data["edd_estimated"]  # computed field stored
    assert session.query(Household).count() == 0
    again = run(app, session, "cm-cheque-sante", xlsx_bytes(rows, CHEQUE_COLUMNS), "again.xlsx", lang="en")
    assert (again.created, again.skipped) == (0, 3)
    assert count(session, Individual, "cm-cheque-sante") == 2


def test_the_database_refuses_a_second_import_key(app, session, monkeypatch):
    """Two imports racing: the unique (scheme_code, import_key) constraint decides, the loser reports it."""
    from openscheme.registry.importer import Importer
    from openscheme.storage.models import Individual

    first = run(app, session, "cm-cheque-sante", csv_bytes([person("CS00000001")], CHEQUE_COLUMNS))
    assert first.created == 1
    monkeypatch.setattr(Importer, "skip_imported", lambda self, valid: valid)  # as if the look-up ran too early
    monkeypatch.setattr(Importer, "check_unique", lambda self, valid: valid)
    rows = [person("CS00000001"), person("CS00000005")]
    report = run(app, session, "cm-cheque-sante", csv_bytes(rows, CHEQUE_COLUMNS), lang="en")
    assert (report.created, report.skipped) == (1, 1)
    assert report.issues[0].message.startswith("Already imported (P")
    assert count(session, Individual, "cm-cheque-sante") == 2


# ---- streaming -----------------------------------------------------------------------------


def test_big_file_is_streamed_in_batches(app, session):
    from openscheme.storage.models import Household, Individual

    rows = []
    for h in range(1250):  # 5,000 rows
        rows += household(f"H{h}", f"{100000000 + h}", extra_members=1)
    rows[-4]["dob"] = "not a date"
    data = csv_bytes(rows, EDUCASH_COLUMNS)
    seen: list[int] = []
    started = time.perf_counter()
    report = run(app, session, "cm-educash", data, "big.csv", batch_rows=1000, progress=seen.append)
    elapsed = time.perf_counter() - started
    assert report.rows == 5000 and report.created == 1249 and report.failed == 1
    assert count(session, Household, "cm-educash") == 1249
    assert count(session, Individual, "cm-educash") == 1249 * 4
    assert len(seen) >= 5 and seen == sorted(seen) and seen[-1] == 5000
    assert elapsed < 60
    again = run(app, session, "cm-educash", csv_bytes(rows, EDUCASH_COLUMNS), "big.csv", batch_rows=1000,
                max_issues=10)
    assert again.created == 0 and again.skipped == 1249 and again.failed == 1
    assert again.issues_total > 1249 and len(again.issues) == 10


def test_a_batch_makes_one_round_of_queries(app, session):
    """No per-row queries: the number of statements does not grow with the number of records."""
    from sqlalchemy import event

    engine = session.get_bind()
    statements: list[str] = []

    def count_statement(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    rows = []
    for h in range(200):
        rows += household(f"H{h}", f"{100000000 + h}")
    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        report = run(app, session, "cm-educash", csv_bytes(rows, EDUCASH_COLUMNS), batch_rows=10_000)
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
    assert report.created == 200
    assert len(statements) < 30, statements


# ---- the web page and the API --------------------------------------------------------------


def test_web_page_upload_progress_and_report(app, client):
    from openscheme.storage.models import Household

    make_user(app, "officer", [("enrolment_officer", None, None)])
    login(client, "officer")
    page = client.get("/schemes/cm-educash/import")
    assert page.status_code == 200 and b"household_ref" in page.data
    template = client.get("/schemes/cm-educash/import/template.csv")
    assert template.data.decode().splitlines()[0].startswith("household_ref,region,department")
    rows = household("HH1") + household("HH2", "223344556")
    rows[4]["sex"] = "?"
    app.config["IMPORT_IN_BACKGROUND"] = False
    try:
        r = client.post("/schemes/cm-educash/import", data={"file": (csv_bytes(rows, EDUCASH_COLUMNS), "hh.csv")},
                        content_type="multipart/form-data")
    finally:
        app.config.pop("IMPORT_IN_BACKGROUND")
    assert r.status_code == 302
    job_url = r.headers["Location"]
    job = client.get(job_url)
    assert job.status_code == 200 and b"hh.csv" in job.data and b"http-equiv" not in job.data
    report = client.get(job_url + "/report.csv")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(report.data.decode())))
    assert lines[1][:4] == ["6", "sex", "members[1].sex", "E807"]
    db = app.extensions["openscheme"].db
    with db.session_factory() as s:
        assert s.query(Household).filter_by(scheme_code="cm-educash").count() == 1
    # another user cannot see the job
    make_user(app, "other", [("enrolment_officer", None, None)])
    other = app.test_client()
    login(other, "other")
    assert other.get(job_url).status_code == 404
    assert other.get(job_url + "/report.csv").status_code == 404
    assert client.get("/imports/../../etc").status_code == 404


def test_web_import_runs_in_the_background(app, client):
    from openscheme.storage.models import Household

    make_user(app, "officer", [("enrolment_officer", None, None)])
    login(client, "officer")
    r = client.post("/schemes/cm-educash/import", data={"file": (csv_bytes(household("HH1"), EDUCASH_COLUMNS),
                                                                 "hh.csv")}, content_type="multipart/form-data")
    job_url = r.headers["Location"]
    for _ in range(100):
        page = client.get(job_url)
        if b"http-equiv" not in page.data:
            break
        time.sleep(0.1)
    assert b"http-equiv" not in page.data, "the import did not finish"
    db = app.extensions["openscheme"].db
    with db.session_factory() as s:
        assert s.query(Household).filter_by(scheme_code="cm-educash").count() == 1


def test_an_interrupted_web_import_says_so_and_runs_again_on_its_file(app, client):
    import json
    import socket
    import subprocess
    import sys
    from pathlib import Path

    from openscheme.storage.models import Household

    make_user(app, "officer", [("enrolment_officer", None, None)])
    login(client, "officer")
    app.config["IMPORT_IN_BACKGROUND"] = False
    try:
        r = client.post("/schemes/cm-educash/import", data={"file": (csv_bytes(household("HH1"), EDUCASH_COLUMNS),
                                                                     "hh.csv")}, content_type="multipart/form-data")
        job_url = r.headers["Location"]
        # as a server stopped half way through a file of two households leaves it: the first one saved,
        # the file still there, the job "running", its process gone
        job_id = job_url.rsplit("/", 1)[-1]
        folder = Path(app.instance_path) / "imports"
        both = household("HH1") + household("HH2", "223344556")
        (folder / f"{job_id}.csv").write_bytes(csv_bytes(both, EDUCASH_COLUMNS).getvalue())
        child = subprocess.Popen([sys.executable, "-c", "pass"])
        child.wait()
        job = json.loads((folder / f"{job_id}.json").read_text("utf-8"))
        for key in ("counts", "issues", "finished_at"):
            job.pop(key)
        job |= {"status": "running", "rows_done": 3, "owner": f"{socket.gethostname()}|{child.pid}|0badc0de"}
        (folder / f"{job_id}.json").write_text(json.dumps(job), "utf-8")
        page = client.get(job_url).get_data(as_text=True)
        assert "The import was interrupted: the server stopped while it was running." in page
        assert "http-equiv" not in page and f'action="{job_url}/again"' in page and "Run it again" in page
        assert json.loads((folder / f"{job_id}.json").read_text("utf-8"))["status"] == "interrupted"
        fr = client.get(job_url + "?lang=fr").get_data(as_text=True)
        assert "L'import a été interrompu : le serveur s'est arrêté pendant le travail." in fr and "Relancer" in fr
        r = client.post(job_url + "/again")
        assert r.status_code == 303 and r.headers["Location"].endswith(job_url)
    finally:
        app.config.pop("IMPORT_IN_BACKGROUND")
    done = json.loads((folder / f"{job_id}.json").read_text("utf-8"))
    assert done["status"] == "done" and (done["counts"]["created"], done["counts"]["skipped"]) == (1, 1)
    assert "Run it again" not in client.get(job_url).get_data(as_text=True)
    db = app.extensions["openscheme"].db
    with db.session_factory() as s:
        assert s.query(Household).filter_by(scheme_code="cm-educash").count() == 2


def test_an_import_that_finished_after_its_page_read_it_is_not_interrupted(tmp_path):
    from openscheme import jobs
    from openscheme.web.import_views import checked, read_job, write_job

    read_while_running = {"id": "00000000000000aa", "status": "running", "owner": jobs.owner(),
                          "started_at": "2026-01-01T00:00:00"}
    write_job(tmp_path, read_while_running | {"status": "done", "counts": {"created": 1}})  # then it finished
    assert checked(tmp_path, dict(read_while_running))["status"] == "done"
    assert read_job(tmp_path, "00000000000000aa")["status"] == "done"


def test_web_page_refuses_other_files_and_roles(app, client, users):
    login(client, "enrolment_officer")
    assert b"/schemes/cm-educash/import" in client.get("/").data  # linked from the scheme's card
    r = client.post("/schemes/cm-educash/import", data={"file": (io.BytesIO(b"x"), "notes.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and b".csv" in r.data
    assert client.get("/schemes/nope/import").status_code == 404
    clerk = app.test_client()
    login(clerk, "facility_clerk")
    assert clerk.get("/schemes/cm-educash/import").status_code == 403
    assert b"/import" not in clerk.get("/").data


def test_api_import_returns_the_report(app, client, users):
    from openscheme.storage.models import Household

    tok = client.post("/api/v1/token", json={"username": "enrolment_officer", "password": "secret-pass"}).get_json()
    headers = {"Authorization": f"Bearer {tok['token']}", "Accept-Language": "en"}
    rows = household("HH1") + household("HH2", "bad-id")
    r = client.post("/api/v1/schemes/cm-educash/import", headers=headers,
                    data={"file": (xlsx_bytes(rows, EDUCASH_COLUMNS), "hh.xlsx")}, content_type="multipart/form-data")
    assert r.status_code == 200
    body = r.get_json()
    assert (body["rows"], body["created"], body["failed"]) == (6, 1, 1)
    assert body["report"] == [{"row": 5, "column": "recipient_id", "path": "recipient_id", "code": "E806",
                               "message": "9 to 17 digits (national ID card of the primary recipient)",
                               "status": "error"}]
    r = client.post("/api/v1/schemes/cm-educash/import", headers=headers,
                    data={"file": (csv_bytes(household("HH1"), EDUCASH_COLUMNS[1:]), "hh.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and r.get_json()["file_error"]
    r = client.post("/api/v1/schemes/cm-educash/import", headers=headers, data={},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "missing_file"
    db = app.extensions["openscheme"].db
    with db.session_factory() as s:
        assert s.query(Household).filter_by(scheme_code="cm-educash").count() == 1


@pytest.mark.parametrize("code", ["cm-educash", "cm-cheque-sante", "tz-chf", "np-ssf"])
def test_template_header_is_accepted_by_the_importer(app, session, code):
    from openscheme.registry.importer import template_header

    scheme = app.extensions["openscheme"].catalog.current(code)
    columns = template_header(scheme)
    report = run(app, session, code, csv_bytes([], columns))
    assert report.file_error is None and report.rows == 0


def doc_examples() -> list[tuple[str, str]]:
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "import.md").read_text("utf-8")
    return re.findall(r"<!-- example: ([a-z0-9-]+) -->\n```csv\n(.*?)```", text, re.S)


def test_docs_have_an_example_per_scheme_type(app):
    catalog = app.extensions["openscheme"].catalog
    units = {catalog.current(code).unit for code, _text in doc_examples()}
    assert units == {"household", "individual"}


@pytest.mark.parametrize(("code", "text"), doc_examples(), ids=[c for c, _t in doc_examples()])
def test_the_documented_examples_import_cleanly(app, session, code, text):
    from openscheme.storage.models import Location

    if code == "tz-chf":
        parent = None
        for loc_code, level in [("DODOMA", "region"), ("KONGWA_DC", "district"), ("MLALI", "ward"),
                                ("MLALI_BWAWANI", "village")]:
            loc = Location(code=loc_code, name=loc_code, level=level, parent_id=parent.id if parent else None,
                           path=(parent.path if parent else "/") + loc_code + "/")
            session.add(loc)
            session.flush()
            parent = loc
        session.commit()
    report = run(app, session, code, io.BytesIO(text.encode("utf-8")), "example.csv", lang="en")
    assert report.file_error is None and report.failed == 0, [str(i) for i in report.issues]
    assert report.created == report.records >= 1


def test_an_officer_limited_to_an_area_imports_into_a_scheme_without_places(app, session):
    """np-ssf has no location field: the rows go to the officer's area, as the form and the API put
    them, so the officer finds them afterwards (they were all refused as 'outside your area')."""
    from openscheme.registry.search import search
    from openscheme.storage.models import Individual

    tz_places(session)
    columns = ["first_name", "last_name", "sex", "dob", "national_id", "ssf_number", "phone", "employer_name",
               "employer_number", "sector", "employment_status", "employment_start", "monthly_wage"]
    rows = [dict(zip(columns, ["Sita", "Karki", "F", "1985-01-02", f"3133700000{k}", f"202400000{k}", "+9779812345678",
                               "Everest Bakery", "E000123", "private_company", "active", "2020-01-01", "30000"],
                     strict=True)) for k in range(2)]
    report = run(app, session, "np-ssf", csv_bytes(rows, columns), lang="en", scope_paths=["/DODOMA/KONGWA_DC/"])
    assert (report.created, report.failed) == (2, 0), [i.as_dict() for i in report.issues]
    people = session.query(Individual).filter_by(scheme_code="np-ssf").all()
    assert {(p.location_path, p.location_code) for p in people} == {("/DODOMA/KONGWA_DC/", "KONGWA_DC")}
    scheme = app.extensions["openscheme"].catalog.current("np-ssf")
    assert len(search(session, scheme, "Sita", scope_paths=["/DODOMA/KONGWA_DC/"]).rows) == 2
    # an officer who may import everywhere leaves them where the file puts them: nowhere in particular
    everywhere = run(app, session, "np-ssf", csv_bytes([rows[0] | {"national_id": "31337000009",
                                                                   "ssf_number": "2024000009"}], columns), lang="en")
    assert everywhere.created == 1
    paths = sorted(p.location_path for p in session.query(Individual).filter_by(scheme_code="np-ssf"))
    assert paths == ["/", "/DODOMA/KONGWA_DC/", "/DODOMA/KONGWA_DC/"]
