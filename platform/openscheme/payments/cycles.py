"""Payment cycles: dry run and diff, preparation, maker-checker approval, payroll, reconciliation, retry.

Never twice: a payment's natural key (scheme, benefit, cycle, unit) has a unique
constraint and rows are inserted with ON CONFLICT DO NOTHING, batch by batch, each
batch committed. Re-running a cycle, two officers preparing it at once, or a run
killed half way and started again all end with exactly one payment per unit.
The payment reference is derived from the natural key, so a retried payment keeps
its reference and the agent can recognise it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..definitions.model import Benefit, Scheme
from ..evaluation import explanations as ex
from ..registry import audit
from ..storage.models import Individual
from ..storage.workflow_models import Payment, PaymentCycle, Payroll
from . import entitlements as ent


class CycleError(Exception):
    pass


_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648 base32
_B32_PAIRS = [a + b for a in _B32 for b in _B32]  # 10 bits -> 2 characters
_SHIFTS = range(90, -1, -10)


def reference(scheme_code: str, benefit_code: str, cycle_no: int, unit_id: int) -> str:
    """PAY- and the first 20 base32 characters (100 bits) of the SHA-256 of the natural key.

    Same text as base64.b32encode(digest)[:20], without its per-call cost (a million per cycle)."""
    digest = hashlib.sha256(f"{scheme_code}|{benefit_code}|{cycle_no}|{unit_id}".encode()).digest()
    bits = int.from_bytes(digest[:13], "big") >> 4  # the first 100 bits
    return "PAY-" + "".join([_B32_PAIRS[(bits >> shift) & 1023] for shift in _SHIFTS])


def cycle_start(benefit: Benefit, cycle_no: int) -> date | None:
    s = benefit.schedule
    if s is None or s.start is None:
        return None
    from ..formulas.functions import add_months

    months = {"monthly": 1, "bimonthly": 2, "quarterly": 3, "termly": 4, "half_yearly": 6, "yearly": 12}
    if s.frequency == "weekly":
        from datetime import timedelta

        return s.start + timedelta(weeks=cycle_no - 1)
    return add_months(s.start, months.get(s.frequency, 0) * (cycle_no - 1))


def check_cycle_no(benefit: Benefit, cycle_no: int) -> None:
    if benefit.schedule and not 1 <= cycle_no <= benefit.schedule.cycles:
        raise CycleError(f"{benefit.code} has {benefit.schedule.cycles} cycle(s); there is no cycle {cycle_no}")


# ---- dry run and diff -----------------------------------------------------------------------


@dataclass
class Diff:
    cycle_no: int
    count: int = 0
    total: Decimal = Decimal(0)
    previous_count: int = 0
    previous_total: Decimal = Decimal(0)
    added: list[tuple[int, Decimal]] = field(default_factory=list)
    removed: list[tuple[int, Decimal]] = field(default_factory=list)
    changed: list[tuple[int, Decimal, Decimal]] = field(default_factory=list)
    not_paid: dict[str, int] = field(default_factory=dict)  # reason -> units
    errors: dict[str, object] = field(default_factory=dict)  # an "error: ..." reason -> the error as data


@dataclass
class DiffDigest:
    """What a dry run's page shows: the figures, and the first rows of each list. JSON-able (`as_json`,
    `from_json`) so that a dry run of a large registry, computed in the background, keeps it in its
    job's result instead of lists of a million rows."""

    cycle_no: int
    count: int
    total: Decimal
    previous_count: int
    previous_total: Decimal
    not_paid: dict[str, int]
    added: list[tuple]  # (unit id, amount), the first `shown`
    removed: list[tuple]
    changed: list[tuple]  # (unit id, before, now)
    added_count: int
    removed_count: int
    changed_count: int
    errors: dict = field(default_factory=dict)  # an "error: ..." reason of not_paid -> the error as data

    def reason_error(self, reason: str):
        """The formula error of a not_paid reason, as data to say in the reader's language (None: not an error)."""
        return self.errors.get(reason)

    @classmethod
    def of(cls, diff: Diff, shown: int) -> DiffDigest:
        return cls(diff.cycle_no, diff.count, diff.total, diff.previous_count, diff.previous_total, dict(diff.not_paid),
                   diff.added[:shown], diff.removed[:shown], diff.changed[:shown],
                   len(diff.added), len(diff.removed), len(diff.changed), dict(diff.errors))

    def as_json(self) -> dict:
        rows = {name: [[unit, *(str(a) for a in amounts)] for unit, *amounts in getattr(self, name)]
                for name in ("added", "removed", "changed")}
        return {"cycle_no": self.cycle_no, "count": self.count, "total": str(self.total),
                "previous_count": self.previous_count, "previous_total": str(self.previous_total),
                "not_paid": self.not_paid, **rows, "added_count": self.added_count,
                "removed_count": self.removed_count, "changed_count": self.changed_count, "errors": self.errors}

    @classmethod
    def from_json(cls, data: dict) -> DiffDigest:
        rows = {name: [(int(unit), *(Decimal(a) for a in amounts)) for unit, *amounts in data[name]]
                for name in ("added", "removed", "changed")}
        return cls(int(data["cycle_no"]), int(data["count"]), Decimal(data["total"]), int(data["previous_count"]),
                   Decimal(data["previous_total"]), dict(data["not_paid"]), rows["added"], rows["removed"],
                   rows["changed"], int(data["added_count"]), int(data["removed_count"]), int(data["changed_count"]),
                   dict(data.get("errors") or {}))  # (a dry run kept before errors were data: none)


def reason_part(scheme: Scheme, benefit: Benefit | None, reason: str, errors: dict | None = None):
    """Why units are not paid (a reason of a dry run's `not_paid`: a rule's or a condition's name,
    "eligible_when", "negative amount", "zero amount", "error: <English>") as an explanation part,
    said in the reader's language by `evaluation.explanations.text`. A reason it does not know
    (a rule since renamed, an error kept without its data by an older dry run) stays the text it is."""
    if reason == "zero amount":
        return ["zero_amount", {}]
    if reason == "negative amount":
        return ["negative_amount", {}]
    if reason.startswith("error: "):
        error = (errors or {}).get(reason)
        return ["error", {"message": error}] if error is not None else reason
    if reason == "eligible_when" and benefit is not None and benefit.eligible_when is not None:
        return ["eligible_when", {"formula": benefit.eligible_when.text.strip()}]
    declared = next((c for c in (benefit.conditions if benefit is not None else ()) if c.name == reason), None)
    if declared is None:
        declared = scheme.rule(reason)
    text = (declared.reason or declared.label) if declared is not None else None
    if not text:
        return reason
    return ["not_met", {"reason": ex.text_param(text, reason, scheme.default_language)}]


def dry_run(session, scheme: Scheme, benefit: Benefit, cycle_no: int, *, progress=None) -> Diff:
    """Compute the cycle without writing anything, and compare it with the previous cycle."""
    check_cycle_no(benefit, cycle_no)
    as_of = cycle_start(benefit, cycle_no) or date.today()
    current: dict[int, Decimal] = {}
    diff = Diff(cycle_no)
    for batch in ent.compute(session, scheme, benefit, as_of, progress=progress):
        for e in batch:
            if e.payable:
                current[e.unit_id] = e.amount
            else:
                for reason in e.failed or ["zero amount"]:
                    diff.not_paid[reason] = diff.not_paid.get(reason, 0) + 1
                    if e.error is not None and reason.startswith("error: "):
                        diff.errors.setdefault(reason, e.error)
    previous = dict(session.execute(select(Payment.unit_id, Payment.amount).where(
        Payment.scheme_code == scheme.code, Payment.benefit_code == benefit.code,
        Payment.cycle_no == cycle_no - 1)).all())
    diff.count, diff.total = len(current), sum(current.values(), Decimal(0))
    diff.previous_count, diff.previous_total = len(previous), sum(previous.values(), Decimal(0))
    diff.added = sorted((u, a) for u, a in current.items() if u not in previous)
    diff.removed = sorted((u, a) for u, a in previous.items() if u not in current)
    diff.changed = sorted((u, previous[u], a) for u, a in current.items() if u in previous and previous[u] != a)
    return diff


# ---- preparing ---------------------------------------------------------------------------------


def get_or_create_cycle(session, scheme: Scheme, version_id: int, benefit: Benefit, cycle_no: int, user) -> PaymentCycle:
    """The cycle's row, created if missing; safe when two officers prepare the same cycle at once.

    Ends any transaction the session has open. The insert is the first statement of its
    transaction and leaves a duplicate alone: on SQLite a transaction that has read cannot
    wait for the write lock - it fails at once ("database is locked") while the other officer's
    insert is uncommitted, and retrying at once failed five times within 3 ms - whereas a
    first write waits its turn (busy timeout). Then the row is read, whoever wrote it."""
    query = select(PaymentCycle).where(PaymentCycle.scheme_code == scheme.code,
                                       PaymentCycle.benefit_code == benefit.code, PaymentCycle.cycle_no == cycle_no)
    cycle = session.scalar(query)
    if cycle is not None:
        return cycle
    session.rollback()  # the read ends here: the insert below starts a transaction of its own
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(PaymentCycle).values(
        scheme_code=scheme.code, scheme_version_id=version_id, benefit_code=benefit.code, cycle_no=cycle_no,
        period_start=cycle_start(benefit, cycle_no), status="draft", payment_count=0, total=Decimal(0),
        prepared_by=getattr(user, "id", None)).on_conflict_do_nothing(
        index_elements=["scheme_code", "benefit_code", "cycle_no"]))
    return session.scalar(query)


PAYMENT_COLUMNS = ("cycle_id", "scheme_code", "benefit_code", "cycle_no", "unit_id", "recipient_id", "amount",
                   "currency", "channel", "reference", "status", "attempts", "explanation")
# ON CONFLICT with no target: a payment is refused by any unique index it would repeat - its natural key
# (scheme_code, benefit_code, cycle_no, unit_id) or its reference (derived from that key). With the natural key alone as the target, two officers
# preparing at once could race past the natural key's check while the other's row was not yet there,
# then hit the reference's unique index: an error instead of "already prepared" (PostgreSQL checks only
# the target's index before inserting)
IGNORE_REPEATS = "ON CONFLICT DO NOTHING"


def _copy_ignoring_duplicates(session, rows: list[dict]) -> int:
    """PostgreSQL: COPY into a temporary table, then one INSERT ... ON CONFLICT DO NOTHING.

    Several times faster than an INSERT per row; the unique natural key still decides."""
    columns = ", ".join(PAYMENT_COLUMNS)
    connection = session.connection()
    connection.exec_driver_sql(  # per connection; no defaults, no constraints: the INSERT applies them
        f"CREATE TEMPORARY TABLE IF NOT EXISTS payments_incoming ON COMMIT DELETE ROWS AS "
        f"SELECT {columns} FROM payments WITH NO DATA")
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY payments_incoming ({columns}) FROM STDIN") as copy:
        for r in rows:
            copy.write_row((r["cycle_id"], r["scheme_code"], r["benefit_code"], r["cycle_no"], r["unit_id"],
                            r["recipient_id"], r["amount"], r["currency"], r["channel"], r["reference"],
                            r["status"], r["attempts"], json.dumps(r["explanation"], separators=(",", ":"))))
    result = connection.exec_driver_sql(
        f"INSERT INTO payments ({columns}) SELECT {columns} FROM payments_incoming {IGNORE_REPEATS}")
    connection.exec_driver_sql("DELETE FROM payments_incoming")
    return max(result.rowcount or 0, 0)


def _executemany_ignoring_duplicates(session, rows: list[dict]) -> int:
    """SQLite: the driver's executemany of one prepared INSERT ... ON CONFLICT DO NOTHING."""
    columns = ", ".join(PAYMENT_COLUMNS)
    cursor = session.connection().connection.driver_connection.cursor()
    cursor.executemany(
        f"INSERT INTO payments ({columns}) VALUES ({', '.join('?' * len(PAYMENT_COLUMNS))}) {IGNORE_REPEATS}",
        [(r["cycle_id"], r["scheme_code"], r["benefit_code"], r["cycle_no"], r["unit_id"], r["recipient_id"],
          str(r["amount"]), r["currency"], r["channel"], r["reference"], r["status"], r["attempts"],
          json.dumps(r["explanation"])) for r in rows])
    return max(cursor.rowcount or 0, 0)


def _insert_ignoring_duplicates(session, rows: list[dict]) -> int:
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and session.get_bind().dialect.driver == "psycopg":
        return _copy_ignoring_duplicates(session, rows)
    if dialect == "sqlite" and session.get_bind().dialect.driver == "pysqlite":
        return _executemany_ignoring_duplicates(session, rows)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Payment.__table__).on_conflict_do_nothing()  # any unique index (IGNORE_REPEATS)
    result = session.connection().execute(stmt, rows)
    return max(result.rowcount or 0, 0)  # some drivers report -1 for executemany


def prepare(session_factory, scheme: Scheme, version_id: int, benefit: Benefit, cycle_no: int, user=None,
            *, batch: int = 5000, progress=None) -> PaymentCycle:
    """Create the cycle's payments (idempotent; resumable; safe to run twice at once).

    Each batch is committed on its own, so a run killed half way keeps what it wrote and
    the next run adds only the missing payments."""
    check_cycle_no(benefit, cycle_no)
    as_of = cycle_start(benefit, cycle_no) or date.today()
    with session_factory() as session:
        cycle = get_or_create_cycle(session, scheme, version_id, benefit, cycle_no, user)
        session.commit()
        if cycle.status not in ("draft", "prepared"):
            raise CycleError(f"cycle {cycle_no} is {cycle.status}; its payments can no longer change")
        cycle_id = cycle.id
    with session_factory() as session:
        done = session.scalar(select(func.count()).select_from(Payment).where(Payment.cycle_id == cycle_id))
    created = 0

    def write(rows: list[dict]) -> int:
        with session_factory() as w, w.begin():
            return _insert_ignoring_duplicates(w, rows)

    # Reading and computing batch k+1 (Python) overlaps with writing batch k (the database, in a
    # second thread with its own session): two cores busy instead of one. Progress is reported
    # once a batch is committed, so what is reported is saved.
    with session_factory() as read, ThreadPoolExecutor(max_workers=1, thread_name_prefix="payments-write") as pool:
        pending = None
        # units paid already in this cycle (an earlier or a concurrent run) are not computed again;
        # the unique natural key still decides when two runs race for the same unit
        for group in ent.compute(read, scheme, benefit, as_of, batch=batch, unpaid_in_cycle=cycle_no):
            rows = [{"cycle_id": cycle_id, "scheme_code": scheme.code, "benefit_code": benefit.code,
                     "cycle_no": cycle_no, "unit_id": e.unit_id, "recipient_id": e.recipient_id, "amount": e.amount,
                     "currency": scheme.currency, "channel": e.channel,
                     "reference": reference(scheme.code, benefit.code, cycle_no, e.unit_id), "status": "pending",
                     "attempts": 0, "explanation": [e.inputs]}
                    for e in group if e.payable]
            if pending is not None:
                created += pending[0].result()
                done += pending[1]
                if progress:
                    progress(done)
            pending = (pool.submit(write, rows), len(group))
        if pending is not None:
            created += pending[0].result()
            done += pending[1]
            if progress:
                progress(done)
    with session_factory() as session, session.begin():
        # write first: on SQLite a transaction that read before writing fails at once ("database is
        # locked") when another officer's run committed in between; a first write waits its turn
        session.execute(update(PaymentCycle).where(PaymentCycle.id == cycle_id).values(updated_at=datetime.now()))
        cycle = session.get(PaymentCycle, cycle_id)
        count, total = session.execute(select(func.count(), func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.cycle_id == cycle_id)).one()
        cycle.payment_count, cycle.total = count, Decimal(total)
        if cycle.status == "draft":
            cycle.status = "prepared"
        cycle.updated_at = datetime.now()
        audit.record(session, user=user, action="prepare", entity="payment_cycle", entity_id=cycle_id,
                     scheme_code=scheme.code, after={"cycle": cycle_no, "payments": count, "total": str(total),
                                                     "created_now": created})
    with session_factory() as session:
        return session.get(PaymentCycle, cycle_id)


def approve(session, cycle: PaymentCycle, user) -> None:
    """Maker-checker: the officer who prepared a cycle cannot approve it."""
    if cycle.status != "prepared":
        raise CycleError(f"cycle {cycle.cycle_no} is {cycle.status}, not prepared")
    if cycle.prepared_by is not None and cycle.prepared_by == getattr(user, "id", None):
        raise CycleError("the officer who prepared this cycle cannot approve it")
    cycle.status = "approved"
    cycle.approved_by = getattr(user, "id", None)
    cycle.updated_at = datetime.now()
    audit.record(session, user=user, action="approve", entity="payment_cycle", entity_id=cycle.id,
                 scheme_code=cycle.scheme_code, after={"cycle": cycle.cycle_no, "total": str(cycle.total)})


# ---- payroll, reconciliation, retry ------------------------------------------------------------

PAYROLL_COLUMNS = ["reference_id", "payer", "payee_id", "payee_name", "payee_phone", "amount", "currency", "channel",
                   "scheme", "cycle"]


def payroll(session, scheme: Scheme, cycle: PaymentCycle, channel: str, user=None) -> str:
    """CSV for one payment channel (G2P Connect disburse-like fields); its payments become 'sent'.

    A file that holds payments is kept (`Payroll`) so it can be downloaded again (`payroll_again`)."""
    if cycle.status not in ("approved", "sent"):
        raise CycleError("a payroll is produced only for an approved cycle")
    rows = session.execute(select(Payment, Individual).outerjoin(Individual, Individual.id == Payment.recipient_id)
                           .where(Payment.cycle_id == cycle.id, Payment.channel == channel,
                                  Payment.status == "pending").order_by(Payment.id)).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PAYROLL_COLUMNS)
    payer = (scheme.payments.payer if scheme.payments and scheme.payments.payer else scheme.code)
    for payment, person in rows:
        data = person.data if person is not None else {}
        name = " ".join(str(data.get(k, "")) for k in ("first_name", "last_name")).strip()
        writer.writerow([payment.reference, payer, person.uid if person is not None else "", name,
                         data.get("phone", ""), format(payment.amount, "f"), payment.currency, payment.channel,
                         scheme.code, cycle.cycle_no])
    ids = [p.id for p, _ in rows]
    text = out.getvalue()
    after = {"channel": channel, "payments": len(ids)}
    if ids:
        session.execute(update(Payment).where(Payment.id.in_(ids)).values(
            status="sent", attempts=Payment.attempts + 1, updated_at=datetime.now()))
        kept = Payroll(cycle_id=cycle.id, channel=channel, payment_count=len(ids),
                       total=sum((p.amount for p, _ in rows), Decimal(0)), sha256=hashlib.sha256(text.encode()).hexdigest(),
                       content=zlib.compress(text.encode(), 6), created_by=getattr(user, "id", None),
                       created_at=datetime.now())
        session.add(kept)
        session.flush()
        after |= {"payroll": kept.id, "sha256": kept.sha256}
    if cycle.status == "approved":
        cycle.status = "sent"
    audit.record(session, user=user, action="payroll", entity="payment_cycle", entity_id=cycle.id,
                 scheme_code=cycle.scheme_code, after=after)
    return text


def payroll_again(session, kept: Payroll, user=None, ip: str = "") -> str:
    """The payroll file exactly as it was handed out, for an officer who lost it.

    Only the audit trail changes (a "redownload" entry each time): no payment is created,
    none is marked sent again, the cycle keeps its state."""
    text = zlib.decompress(kept.content).decode("utf-8")
    if hashlib.sha256(text.encode()).hexdigest() != kept.sha256:
        raise CycleError(f"payroll {kept.id} is damaged: its content does not match its SHA-256")
    cycle = session.get(PaymentCycle, kept.cycle_id)
    audit.record(session, user=user, action="redownload", entity="payment_cycle", entity_id=cycle.id,
                 scheme_code=cycle.scheme_code, ip=ip,
                 after={"payroll": kept.id, "channel": kept.channel, "payments": kept.payment_count,
                        "sha256": kept.sha256})
    return text


@dataclass
class Reconciliation:
    paid: int = 0
    failed: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    # the same problems as (line, kind, values), for messages in the user's language
    issues: list[tuple[int, str, dict]] = field(default_factory=list)

    def problem(self, line: int, kind: str, message: str, **values) -> None:
        self.problems.append((line, message))
        self.issues.append((line, kind, values))


def reconcile(session, cycle: PaymentCycle, text: str, user=None) -> Reconciliation:
    """Import the agent's result file: reference_id, status (paid|failed), reason."""
    report = Reconciliation()
    reader = csv.DictReader(io.StringIO(text))
    missing = {"reference_id", "status"} - set(reader.fieldnames or [])
    if missing:
        report.problem(1, "missing_columns", f"missing column(s): {', '.join(sorted(missing))}",
                       columns=", ".join(sorted(missing)))
        return report
    rows = list(reader)
    refs = [r["reference_id"].strip() for r in rows]
    payments = {p.reference: p for p in session.scalars(select(Payment).where(
        Payment.cycle_id == cycle.id, Payment.reference.in_(refs)))}
    for line, row in enumerate(rows, start=2):
        ref, status = row["reference_id"].strip(), (row.get("status") or "").strip().lower()
        p = payments.get(ref)
        if p is None:
            report.problem(line, "unknown_reference", f"unknown reference {ref} in this cycle", reference=ref)
        elif status not in ("paid", "failed"):
            report.problem(line, "bad_status", f"status must be paid or failed, not '{status}'", status=status)
        elif p.status != "sent":
            report.problem(line, "not_sent", f"{ref} is {p.status}, not sent: ignored", reference=ref,
                           status=p.status)
        else:
            p.status = status
            p.failure_reason = (row.get("reason") or "").strip() or None if status == "failed" else None
            p.updated_at = datetime.now()
            report.paid += status == "paid"
            report.failed += status == "failed"
    outstanding = session.scalar(select(func.count()).select_from(Payment).where(
        Payment.cycle_id == cycle.id, Payment.status.in_(("pending", "sent"))))
    if outstanding == 0 and cycle.status == "sent":
        cycle.status = "reconciled"
    audit.record(session, user=user, action="reconcile", entity="payment_cycle", entity_id=cycle.id,
                 scheme_code=cycle.scheme_code, after={"paid": report.paid, "failed": report.failed,
                                                       "problems": len(report.problems)})
    return report


def retry(session, payment: Payment, user=None) -> None:
    """Only a failed payment can be retried; it keeps its reference and joins the next payroll."""
    if payment.status != "failed":
        raise CycleError(f"only failed payments can be retried; {payment.reference} is {payment.status}")
    before = {"status": payment.status, "reason": payment.failure_reason}
    payment.status = "pending"
    payment.updated_at = datetime.now()
    cycle = session.get(PaymentCycle, payment.cycle_id)
    if cycle.status == "reconciled":
        cycle.status = "sent"
    audit.record(session, user=user, action="retry", entity="payment", entity_id=payment.id,
                 scheme_code=payment.scheme_code, before=before, after={"status": "pending"})
