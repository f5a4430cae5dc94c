"""The figures of a scheme's dashboard, as a few grouped SQL statements (no row is fetched
into Python but the aggregates): enrolment and coverage, contributions, claims and top
diagnoses, vouchers, payments per cycle. Filtered by period and by area (a location subtree:
`location_path LIKE '/TZ/DOD/%'`). Tables that hold nothing yet simply give zeros.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import text

from ..definitions.model import Scheme
from .enrolled import enrolled_sql, policy_unit_type
from .impact import area_labels, area_sql


@dataclass
class Filters:
    start: date | None = None
    end: date | None = None
    area_path: str | None = None  # a location subtree; None = everywhere


@dataclass
class Dashboard:
    registered: int = 0
    people: int = 0
    enrolled: int = 0
    enrolled_people: int = 0
    new_enrolments: int = 0
    by_area: list[tuple[str, str, int, int]] = field(default_factory=list)  # code, label, registered, enrolled
    enrolments_by_month: list[tuple[str, int]] = field(default_factory=list)
    contributions_total: Decimal = Decimal(0)
    contributions_count: int = 0
    contributions_by_month: list[tuple[str, Decimal]] = field(default_factory=list)
    contributions_by_method: list[tuple[str, Decimal]] = field(default_factory=list)
    claims_by_status: list[tuple[str, int, Decimal, Decimal]] = field(default_factory=list)
    claims_submitted: int = 0
    claims_rejected: int = 0
    claims_paid: int = 0
    claims_paid_amount: Decimal = Decimal(0)
    top_diagnoses: list[tuple[str, str, int]] = field(default_factory=list)
    vouchers_issued: int = 0
    vouchers_used: int = 0
    vouchers_by_type: list[tuple[str, int, int]] = field(default_factory=list)
    cycles: list[dict] = field(default_factory=list)

    @property
    def coverage(self) -> Decimal | None:
        if not self.registered:
            return None
        return (Decimal(self.enrolled) * 100 / Decimal(self.registered)).quantize(Decimal("0.1"))


def month_sql(dialect: str, column: str) -> str:
    return f"to_char({column}, 'YYYY-MM')" if dialect == "postgresql" else f"strftime('%Y-%m', {column})"


def _period(column: str, f: Filters, params: dict, prefix: str) -> str:
    out = ""
    if f.start:
        out += f" AND {column} >= :{prefix}_start"
        params[f"{prefix}_start"] = f.start
    if f.end:
        out += f" AND {column} <= :{prefix}_end"
        params[f"{prefix}_end"] = f.end
    return out


def _area(column: str, f: Filters, params: dict) -> str:
    if not f.area_path or f.area_path == "/":
        return ""
    params["area"] = f.area_path.rstrip("/") + "/%"
    params["area_exact"] = f.area_path
    return f" AND ({column} LIKE :area OR {column} = :area_exact)"


def build(session, scheme: Scheme, f: Filters, lang: str | None = None) -> Dashboard:
    d = Dashboard()
    dialect = session.get_bind().dialect.name
    table = "households" if scheme.is_household else "individuals"
    column = "household_id" if scheme.is_household else "individual_id"
    p: dict = {"code": scheme.code}
    unit_where = "x.scheme_code = :code AND x.active = TRUE" + ("" if scheme.is_household else " AND x.household_id IS NULL")
    unit_where += _area("x.location_path", f, p)
    enrolled = enrolled_sql(scheme, "x")
    area = area_sql(scheme, dialect)
    rows = session.execute(text(
        f"SELECT {area} AS a, COUNT(*), SUM(CASE WHEN {enrolled} THEN 1 ELSE 0 END) FROM {table} x "
        f"WHERE {unit_where} GROUP BY {area} ORDER BY COUNT(*) DESC"), p).all()
    labels = area_labels(session, scheme, [r[0] for r in rows], lang)
    d.by_area = [(code, labels.get(code, code) or "—", int(n), int(e or 0)) for code, n, e in rows]
    d.registered = sum(r[2] for r in d.by_area)
    d.enrolled = sum(r[3] for r in d.by_area)
    if scheme.is_household:
        people = session.execute(text(
            f"SELECT COUNT(*), SUM(CASE WHEN {enrolled} THEN 1 ELSE 0 END) FROM individuals m "
            f"JOIN households x ON x.id = m.household_id WHERE m.active = TRUE AND {unit_where}"), p).one()
        d.people, d.enrolled_people = int(people[0] or 0), int(people[1] or 0)
    else:
        d.people, d.enrolled_people = d.registered, d.enrolled
    # enrolments started in the period: an insurance scheme enrols with a policy (its enrol date), the
    # others through targeting (an enrolment's start date)
    q = dict(p)
    unit_type = policy_unit_type(scheme)
    if unit_type is not None:
        where = (f"e.scheme_code = :code AND e.unit_type = '{unit_type}'{_period('e.enrol_date', f, q, 'en')}"
                 f"{_area('x.location_path', f, q)}")
        sql = (f"SELECT {month_sql(dialect, 'e.enrol_date')} AS m, COUNT(*) FROM policies e JOIN {table} x "
               f"ON x.id = e.unit_id WHERE {where} GROUP BY m ORDER BY m")
    else:
        where = f"e.scheme_code = :code{_period('e.start_date', f, q, 'en')}{_area('x.location_path', f, q)}"
        sql = (f"SELECT {month_sql(dialect, 'e.start_date')} AS m, COUNT(*) FROM enrolments e JOIN {table} x "
               f"ON x.id = e.{column} WHERE {where} GROUP BY m ORDER BY m")
    d.enrolments_by_month = [(m or "—", int(n)) for m, n in session.execute(text(sql), q).all()]
    d.new_enrolments = sum(n for _, n in d.enrolments_by_month)
    # contributions
    q = dict(p)
    unit_join = ("LEFT JOIN households h ON pol.unit_type = 'household' AND h.id = pol.unit_id "
                 "LEFT JOIN individuals i ON pol.unit_type = 'individual' AND i.id = pol.unit_id")
    where = (f"pol.scheme_code = :code{_period('c.paid_on', f, q, 'co')}"
             f"{_area('COALESCE(h.location_path, i.location_path)', f, q)}")
    base = f"FROM contributions c JOIN policies pol ON pol.id = c.policy_id {unit_join} WHERE {where}"
    rows = session.execute(text(f"SELECT {month_sql(dialect, 'c.paid_on')} AS m, COUNT(*), SUM(c.amount) {base} "
                                f"GROUP BY m ORDER BY m"), q).all()
    d.contributions_by_month = [(m, Decimal(s or 0)) for m, _, s in rows]
    d.contributions_count = sum(int(n) for _, n, _ in rows)
    d.contributions_total = sum((Decimal(s or 0) for _, _, s in rows), Decimal(0))
    d.contributions_by_method = [(m, Decimal(s or 0)) for m, s in session.execute(text(
        f"SELECT c.method, SUM(c.amount) {base} GROUP BY c.method ORDER BY SUM(c.amount) DESC"), q).all()]
    # claims
    q = dict(p)
    where = (f"c.scheme_code = :code{_period('c.date_from', f, q, 'cl')}{_area('i.location_path', f, q)}")
    base = f"FROM claims c JOIN individuals i ON i.id = c.individual_id WHERE {where}"
    d.claims_by_status = [(s, int(n), Decimal(a or 0), Decimal(pay or 0)) for s, n, a, pay in session.execute(text(
        f"SELECT c.status, COUNT(*), SUM(c.asked), SUM(c.payable) {base} GROUP BY c.status ORDER BY COUNT(*) DESC"),
        q).all()]
    d.claims_submitted = sum(r[1] for r in d.claims_by_status)
    d.claims_rejected = sum(r[1] for r in d.claims_by_status if r[0] == "rejected")
    d.claims_paid = sum(r[1] for r in d.claims_by_status if r[0] == "paid")
    d.claims_paid_amount = sum((r[3] for r in d.claims_by_status if r[0] == "paid"), Decimal(0))
    d.top_diagnoses = [(code, title or "", int(n)) for code, title, n in session.execute(text(
        f"SELECT c.diagnosis, MAX(icd.title), COUNT(*) FROM claims c JOIN individuals i ON i.id = c.individual_id "
        f"LEFT JOIN icd10_codes icd ON icd.code = c.diagnosis WHERE {where} GROUP BY c.diagnosis "
        f"ORDER BY COUNT(*) DESC, c.diagnosis LIMIT 10"), q).all()]
    # vouchers
    q = dict(p)
    where = f"v.scheme_code = :code{_period('v.issued_on', f, q, 'vo')}{_area('i.location_path', f, q)}"
    d.vouchers_by_type = [(t, int(n), int(u or 0)) for t, n, u in session.execute(text(
        f"SELECT v.type, COUNT(*), SUM(CASE WHEN r.id IS NULL THEN 0 ELSE 1 END) FROM vouchers v "
        f"JOIN individuals i ON i.id = v.individual_id LEFT JOIN voucher_redemptions r ON r.voucher_id = v.id "
        f"WHERE {where} GROUP BY v.type ORDER BY v.type"), q).all()]
    d.vouchers_issued = sum(r[1] for r in d.vouchers_by_type)
    d.vouchers_used = sum(r[2] for r in d.vouchers_by_type)
    # payments per cycle
    q = dict(p)
    where = f"pc.scheme_code = :code{_period('pc.period_start', f, q, 'pa')}{_area('x.location_path', f, q)}"
    for row in session.execute(text(
            f"SELECT pc.benefit_code, pc.cycle_no, pc.status, pc.period_start, COUNT(pay.id), "
            f"SUM(pay.amount), SUM(CASE WHEN pay.status = 'paid' THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN pay.status = 'paid' THEN pay.amount ELSE 0 END), "
            f"SUM(CASE WHEN pay.status = 'failed' THEN 1 ELSE 0 END) FROM payment_cycles pc "
            f"LEFT JOIN payments pay ON pay.cycle_id = pc.id LEFT JOIN {table} x ON x.id = pay.unit_id "
            f"WHERE {where} GROUP BY pc.benefit_code, pc.cycle_no, pc.status, pc.period_start "
            f"ORDER BY pc.benefit_code, pc.cycle_no"), q).all():
        d.cycles.append({"benefit": row[0], "cycle": row[1], "status": row[2], "start": row[3],
                         "count": int(row[4] or 0), "total": Decimal(row[5] or 0), "paid": int(row[6] or 0),
                         "paid_amount": Decimal(row[7] or 0), "failed": int(row[8] or 0)})
    return d
