"""Reports that programme managers download: CSV and XLSX, streamed, for a million rows.

Each report is one SQL query read with a server-side cursor in batches (`yield_per`), written
row by row: CSV as a generator of text chunks, XLSX with openpyxl's write-only workbook (rows
go straight to the file, memory stays flat) into a temporary file that is then streamed.
The same period and area (location subtree) filters as the dashboard apply.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import text

from ..definitions.model import Scheme
from .dashboard import Filters, _area, _period
from .enrolled import policy_unit_type

BATCH = 5000


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    kinds: tuple[str, ...]  # benefit kinds it applies to (empty: every scheme)


REPORTS = {
    "enrolment": Report("enrolment", "Enrolment register", ()),
    "contributions": Report("contributions", "Contribution collection", ("insurance", "voucher")),
    "claims": Report("claims", "Claims overview", ("insurance",)),
    "payments": Report("payments", "Payments per cycle", ("cash",)),
    "vouchers": Report("vouchers", "Voucher use", ("voucher",)),
}


def available(scheme: Scheme) -> list[Report]:
    return [r for r in REPORTS.values() if not r.kinds or set(r.kinds) & set(scheme.benefit_kinds)]


def _data(value) -> dict:
    if isinstance(value, str):
        return json.loads(value)
    return value or {}


def _unit_fields(scheme: Scheme) -> list[str]:
    return [f.name for f in scheme.fields if f.type not in ("gps",)]


def query(scheme: Scheme, name: str, f: Filters) -> tuple[list[str], str, dict, callable]:
    """(header, sql, params, row function) of a report."""
    table = "households" if scheme.is_household else "individuals"
    column = "household_id" if scheme.is_household else "individual_id"
    p: dict = {"code": scheme.code}
    if name == "enrolment":
        fields = _unit_fields(scheme)
        members = (", (SELECT COUNT(*) FROM individuals m WHERE m.household_id = x.id AND m.active = TRUE)"
                   if scheme.is_household else ", 1")
        unit_type = policy_unit_type(scheme)
        if unit_type is not None:  # enrolled by a policy: its term
            where = (f"e.scheme_code = :code AND e.unit_type = '{unit_type}'{_period('e.enrol_date', f, p, 'r')}"
                     f"{_area('x.location_path', f, p)}")
            sql = (f"SELECT x.uid, x.location_code, e.status, e.start_date, e.expiry_date, e.created_at{members}, "
                   f"x.data FROM policies e JOIN {table} x ON x.id = e.unit_id WHERE {where} ORDER BY e.id")
        else:
            where = f"e.scheme_code = :code{_period('e.start_date', f, p, 'r')}{_area('x.location_path', f, p)}"
            sql = (f"SELECT x.uid, x.location_code, e.status, e.start_date, e.end_date, e.created_at{members}, x.data "
                   f"FROM enrolments e JOIN {table} x ON x.id = e.{column} WHERE {where} ORDER BY e.id")
        header = ["uid", "location_code", "status", "start_date", "end_date", "enrolled_at", "members", *fields]

        def row(r):
            data = _data(r[7])
            return [*r[:7], *(_cell(data.get(n)) for n in fields)]

        return header, sql, p, row
    if name == "contributions":
        where = (f"pol.scheme_code = :code{_period('c.paid_on', f, p, 'r')}"
                 f"{_area('COALESCE(h.location_path, i.location_path)', f, p)}")
        sql = ("SELECT c.paid_on, c.amount, c.method, c.reference, c.payer, c.period, pol.id, pol.benefit_code, "
               "COALESCE(h.uid, i.uid), COALESCE(h.location_code, i.location_code) FROM contributions c "
               "JOIN policies pol ON pol.id = c.policy_id "
               "LEFT JOIN households h ON pol.unit_type = 'household' AND h.id = pol.unit_id "
               "LEFT JOIN individuals i ON pol.unit_type = 'individual' AND i.id = pol.unit_id "
               f"WHERE {where} ORDER BY c.id")
        header = ["paid_on", "amount", "method", "reference", "payer", "period", "policy_id", "benefit", "unit_uid",
                  "location_code"]
        return header, sql, p, list
    if name == "claims":
        where = f"c.scheme_code = :code{_period('c.date_from', f, p, 'r')}{_area('i.location_path', f, p)}"
        sql = ("SELECT c.code, fac.code, fac.name, i.uid, i.location_code, c.benefit_code, c.date_from, c.date_to, "
               "c.care_type, c.diagnosis, c.status, c.asked, c.payable, c.selected_for_review, c.created_at "
               "FROM claims c JOIN individuals i ON i.id = c.individual_id "
               f"LEFT JOIN facilities fac ON fac.id = c.facility_id WHERE {where} ORDER BY c.id")
        header = ["claim", "facility_code", "facility", "person_uid", "location_code", "benefit", "date_from", "date_to",
                  "care_type", "diagnosis", "status", "asked", "payable", "selected_for_review", "submitted_at"]
        return header, sql, p, list
    if name == "payments":
        where = f"pay.scheme_code = :code{_period('pc.period_start', f, p, 'r')}{_area('x.location_path', f, p)}"
        sql = ("SELECT pay.benefit_code, pay.cycle_no, pc.period_start, pc.status, pay.reference, x.uid, r.uid, "
               "pay.amount, pay.currency, pay.channel, pay.status, pay.failure_reason, pay.attempts "
               "FROM payments pay JOIN payment_cycles pc ON pc.id = pay.cycle_id "
               f"LEFT JOIN {table} x ON x.id = pay.unit_id LEFT JOIN individuals r ON r.id = pay.recipient_id "
               f"WHERE {where} ORDER BY pay.benefit_code, pay.cycle_no, pay.id")
        header = ["benefit", "cycle", "cycle_start", "cycle_status", "reference", "unit_uid", "recipient_uid", "amount",
                  "currency", "channel", "status", "failure_reason", "attempts"]
        return header, sql, p, list
    if name == "vouchers":
        where = f"v.scheme_code = :code{_period('v.issued_on', f, p, 'r')}{_area('i.location_path', f, p)}"
        sql = ("SELECT v.code, v.benefit_code, v.type, i.uid, i.location_code, v.status, v.issued_on, v.valid_from, "
               "v.valid_until, rd.redeemed_on, fac.code, rd.service_code, v.reimbursement, rd.reimbursed "
               "FROM vouchers v JOIN individuals i ON i.id = v.individual_id "
               "LEFT JOIN voucher_redemptions rd ON rd.voucher_id = v.id LEFT JOIN facilities fac ON fac.id = rd.facility_id "
               f"WHERE {where} ORDER BY v.id")
        header = ["voucher", "benefit", "type", "person_uid", "location_code", "status", "issued_on", "valid_from",
                  "valid_until", "redeemed_on", "facility_code", "service", "reimbursement", "reimbursed"]
        return header, sql, p, list
    raise KeyError(name)


def _cell(value):
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def rows(session, scheme: Scheme, name: str, f: Filters, *, batch: int = BATCH) -> tuple[list[str], Iterator[list]]:
    header, sql, params, row = query(scheme, name, f)

    def generate():
        result = session.execute(text(sql).execution_options(yield_per=batch), params)
        for part in result.partitions(batch):
            for r in part:
                yield row(r)

    return header, generate()


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    text_value = str(value)
    # a cell starting with = + - @ would be a formula in a spreadsheet: neutralise it
    return "'" + text_value if text_value[:1] in ("=", "+", "-", "@") and not _is_number(text_value) else text_value


def _is_number(value: str) -> bool:
    try:
        Decimal(value)
        return True
    except ArithmeticError:
        return False
    except ValueError:
        return False


def csv_chunks(header: list[str], data: Iterator[list], *, every: int = 1000) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # spreadsheets then read UTF-8 correctly
    writer.writerow(header)
    for i, r in enumerate(data, start=1):
        writer.writerow([_csv_value(v) for v in r])
        if i % every == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _xlsx_value(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _is_number(value):
        return "'" + value
    if isinstance(value, Decimal):
        return value
    return value


def xlsx_file(header: list[str], data: Iterator[list], title: str):
    """A temporary file holding the workbook (write-only: rows are not kept in memory)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    bold = Font(bold=True)
    cells = []
    for h in header:
        c = WriteOnlyCell(ws, value=h)
        c.font = bold
        cells.append(c)
    ws.append(cells)
    for r in data:
        ws.append([_xlsx_value(v) for v in r])
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who streams and closes it
    wb.save(out)
    out.seek(0)
    return out
