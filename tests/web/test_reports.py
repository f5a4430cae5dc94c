"""Report downloads: CSV and XLSX, streamed in batches, filtered by period and area."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import func, select

from analysis_helpers import NAFA, register_nafa, target_and_enrol
from conftest import login
from openscheme.analysis import reports
from openscheme.analysis.dashboard import Filters
from openscheme.storage.models import Enrolment, User
from openscheme.storage.workflow_models import Payment


def read_csv(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


def setup_payments(app, session, users, n=15):
    from openscheme.payments import cycles

    register_nafa(app, session, n=n)
    maker = session.get(User, users["payment_officer"])
    checker = session.get(User, users["enrolment_officer"])
    target_and_enrol(app, session, maker, checker)
    state = app.extensions["openscheme"]
    scheme = state.catalog.current(NAFA)
    cycles.prepare(state.db.session_factory, scheme, state.catalog.version_id(NAFA), scheme.benefit("nafa_quick"), 1,
                   maker)
    return scheme


def test_enrolment_register_and_payments_as_csv(app, client, session, users):
    setup_payments(app, session, users)
    login(client, "analyst")
    page = client.get(f"/s/{NAFA}/reports").get_data(as_text=True)
    assert "Enrolment register" in page and "Payments per cycle" in page and "Claims overview" not in page
    r = client.get(f"/s/{NAFA}/reports/enrolment.csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = read_csv(r.get_data(as_text=True))
    assert rows[0][:7] == ["uid", "location_code", "status", "start_date", "end_date", "enrolled_at", "members"]
    assert "district" in rows[0] and "payment_channel" in rows[0]
    enrolled = session.scalar(select(func.count()).select_from(Enrolment).where(Enrolment.scheme_code == NAFA))
    assert len(rows) - 1 == enrolled > 0
    assert all(row[2] == "active" and row[3] == "2020-08-01" for row in rows[1:])
    r = client.get(f"/s/{NAFA}/reports/payments.csv")
    rows = read_csv(r.get_data(as_text=True))
    payments = session.scalars(select(Payment).where(Payment.scheme_code == NAFA)).all()
    assert len(rows) - 1 == len(payments) > 0
    assert {row[4] for row in rows[1:]} == {p.reference for p in payments}
    assert sum(float(row[7]) for row in rows[1:]) == float(sum(p.amount for p in payments))
    # a period with nothing in it
    rows = read_csv(client.get(f"/s/{NAFA}/reports/enrolment.csv?from=2021-01-01").get_data(as_text=True))
    assert len(rows) == 1


def test_xlsx_is_a_real_workbook(app, client, session, users):
    setup_payments(app, session, users, n=8)
    login(client, "auditor")
    r = client.get(f"/s/{NAFA}/reports/payments.xlsx")
    assert r.status_code == 200 and "spreadsheetml" in r.headers["Content-Type"]
    wb = load_workbook(io.BytesIO(r.get_data()), read_only=True)
    ws = wb.active
    values = list(ws.iter_rows(values_only=True))
    assert values[0][:5] == ("benefit", "cycle", "cycle_start", "cycle_status", "reference")
    assert len(values) - 1 == session.scalar(select(func.count()).select_from(Payment))
    assert isinstance(values[1][7], (int, float))


def test_batches_and_formula_injection(app, session, users):
    scheme = setup_payments(app, session, users, n=12)
    header, data = reports.rows(session, scheme, "enrolment", Filters(), batch=3)
    assert len(list(data)) == session.scalar(select(func.count()).select_from(Enrolment))
    chunks = list(reports.csv_chunks(["a"], iter([["=1+1"], ["-5"], ["@x"], [date(2020, 1, 2)]]), every=1))
    text = "".join(chunks)
    assert "'=1+1" in text and "\n-5" in text.replace("\r", "") and "'@x" in text and "2020-01-02" in text


def test_empty_reports_and_permissions(app, client, users):
    login(client, "analyst")
    for name in ("claims", "contributions"):
        rows = read_csv(client.get(f"/s/tz-chf/reports/{name}.csv").get_data(as_text=True))
        assert len(rows) == 1 and rows[0]
    assert client.get("/s/tz-chf/reports/nothing.csv").status_code == 404
    assert client.get("/s/tz-chf/reports/claims.pdf").status_code == 404
    client.post("/logout")
    login(client, "enrolment_officer")
    assert client.get("/s/tz-chf/reports/claims.csv").status_code == 403


def test_the_enrolment_register_of_an_insurance_scheme_lists_its_policies(app, client, session, users):
    from insurance_helpers import insured, seed_insurance
    from openscheme.storage.workflow_models import Policy

    seed_insurance(app)
    uid, policy_id = insured(app, "tz-chf")
    login(client, "analyst")
    rows = read_csv(client.get("/s/tz-chf/reports/enrolment.csv").get_data(as_text=True))
    session.rollback()
    policy = session.get(Policy, policy_id)
    assert rows[1:] and {row[0] for row in rows[1:]} == {uid}  # one row per policy (a renewal is a second one)
    assert [uid, "active", policy.start_date.isoformat(), policy.expiry_date.isoformat()] in [
        [row[0], row[2], row[3], row[4]] for row in rows[1:]]
