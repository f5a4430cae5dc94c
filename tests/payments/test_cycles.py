"""Payment cycles end to end at the service level: never twice, maker-checker, payroll, reconciliation."""

from __future__ import annotations

import csv
import io
import random
import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from openscheme.evaluation import evaluate
from openscheme.payments import cycles
from openscheme.registry.service import Registry
from openscheme.storage.models import Household, User
from openscheme.storage.workflow_models import Payment, PaymentCycle
from openscheme.targeting.run import approve_run, run_targeting

DISTRICTS = {"URR": ["BSE", "KNT", "WUL"], "CRR": ["JAN"], "WCR": ["KBW"]}
CODE = "gm-nafa-quick"


def household(rng, i):
    region = rng.choice(list(DISTRICTS))
    members = [{"first_name": f"N{i}", "last_name": "M", "sex": rng.choice("FM"), "dob": "1980-01-01",
                "roles": ["head", "primary_recipient"] if j == 0 else []} for j in range(rng.randint(1, 12))]
    channel = rng.choice(["cash_agent", "mobile_money"])
    data = {"region": region, "district": rng.choice(DISTRICTS[region]), "village": "V", "payment_channel": channel,
            "members": members}
    if channel == "mobile_money":
        data["phone"] = f"+220{7000000 + i}"
    return data


@pytest.fixture
def setup(app, session, users):
    state = app.extensions["openscheme"]
    catalog, factory = state.catalog, state.db.session_factory
    scheme = catalog.current(CODE)
    reg = Registry(session, catalog)
    rng = random.Random(5)
    for i in range(25):
        assert reg.register(CODE, household(rng, i)).ok
    maker = session.get(User, users["payment_officer"])
    checker = session.get(User, users["enrolment_officer"])
    run = run_targeting(session, scheme, catalog.version_id(CODE), as_of=date(2020, 8, 1), user=maker)
    approve_run(session, run, checker, scheme=scheme)
    session.commit()
    return {"scheme": scheme, "benefit": scheme.benefit("nafa_quick"), "factory": factory,
            "version": catalog.version_id(CODE), "maker": maker, "checker": checker,
            "eligible": run.eligible_count, "registry": reg}


def payment_count(session, cycle_no=1):
    return session.scalar(select(func.count()).select_from(Payment).where(
        Payment.scheme_code == CODE, Payment.cycle_no == cycle_no))


def test_dry_run_writes_nothing_and_prepare_pays_each_eligible_once(session, setup):
    s = setup
    diff = cycles.dry_run(session, s["scheme"], s["benefit"], 1)
    assert diff.count == s["eligible"] > 0 and diff.previous_count == 0 and len(diff.added) == diff.count
    assert payment_count(session) == 0
    cycle = cycles.prepare(s["factory"], s["scheme"], s["version"], s["benefit"], 1, s["maker"])
    assert cycle.status == "prepared" and cycle.payment_count == s["eligible"] and cycle.total == diff.total
    again = cycles.prepare(s["factory"], s["scheme"], s["version"], s["benefit"], 1, s["maker"])
    assert again.payment_count == s["eligible"]
    session.rollback()  # end the read transaction: see what other sessions committed
    assert payment_count(session) == s["eligible"]


def test_amounts_are_the_engine_amounts(session, setup):
    s = setup
    cycles.prepare(s["factory"], s["scheme"], s["version"], s["benefit"], 1, s["maker"])
    session.rollback()  # end the read transaction: see what other sessions committed
    for p in session.scalars(select(Payment).where(Payment.scheme_code == CODE)):
        hh = session.get(Household, p.unit_id)
        ev = evaluate(s["scheme"], s["registry"].input_of(hh), as_of=date(2020, 8, 1), explain=False)
        assert ev.benefit("nafa_quick").amount.value == p.amount
        assert p.amount % 5 == 0  # the declared rounding
        assert p.reference == cycles.reference(CODE, "nafa_quick", 1, p.unit_id)


def test_two_officers_preparing_at_once_make_one_payment_each(session, setup):
    s = setup
    errors = []

    def go():
        try:
            cycles.prepare(s["factory"], s["scheme"], s["version"], s["benefit"], 2, s["maker"], batch=4)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    session.rollback()  # end the read transaction: see what other sessions committed
    assert payment_count(session, 2) == s["eligible"]
    assert session.scalar(select(func.count()).select_from(PaymentCycle).where(PaymentCycle.cycle_no == 2)) == 1


def test_preparing_waits_while_another_officer_creates_the_cycle(session, setup):
    """The other officer's cycle row is written but not committed when this run looks for it: the run
    waits for it (SQLite refused at once, five times, "database is locked") and uses it."""
    s = setup
    other = s["factory"]()
    mine = PaymentCycle(scheme_code=CODE, scheme_version_id=s["version"], benefit_code="nafa_quick", cycle_no=2,
                        status="draft", prepared_by=s["maker"].id)
    other.add(mine)
    other.flush()  # holds the write lock (SQLite) or the key (PostgreSQL) until it commits
    outcome = {}

    def go():
        try:
            outcome["cycle"] = cycles.prepare(s["factory"], s["scheme"], s["version"], s["benefit"], 2, s["maker"])
        except Exception as exc:  # noqa: BLE001 - reported below
            outcome["error"] = exc

    thread = threading.Thread(target=go)
    thread.start()
    time.sleep(0.5)  # the run has looked for the cycle and found none
    other.commit()
    other.close()
    thread.join(30)
    assert "error" not in outcome, outcome
    assert outcome["cycle"].id == mine.id and outcome["cycle"].payment_count == s["eligible"]


def test_a_run_killed_half_way_resumes_without_duplicates(session, setup):
    s = setup

    class Killed(Exception):
        pass

    def die_after_first_batch(done):
        if done >= 5:
            raise Killed()

    with pytest.raises(Killed):
        cycles.prepare(s["factory"], s["scheme"], s["version"], s["benefit"], 3, s["maker"], batch=5,
                       progress=die_after_first_batch)
    session.rollback()  # end the read transaction: see what other sessions committed
    partial = payment_count(session, 3)
    assert 0 < partial < s["eligible"]
    cycles.prepare(s["factory"], s["scheme"], s["version"], s["benefit"], 3, s["maker"], batch=5)
    session.rollback()  # end the read transaction: see what other sessions committed
    assert payment_count(session, 3) == s["eligible"]


def test_maker_checker_payroll_reconciliation_and_retry(session, setup):
    s = setup
    cycles.prepare(s["factory"], s["scheme"], s["version"], s["benefit"], 1, s["maker"])
    cycle = session.scalar(select(PaymentCycle).where(PaymentCycle.cycle_no == 1, PaymentCycle.scheme_code == CODE))
    with pytest.raises(cycles.CycleError, match="cannot approve"):
        cycles.approve(session, cycle, s["maker"])
    cycles.approve(session, cycle, s["checker"])
    files = {ch: cycles.payroll(session, s["scheme"], cycle, ch, s["checker"]) for ch in ("cash_agent", "mobile_money")}
    session.commit()
    rows = [r for text in files.values() for r in csv.DictReader(io.StringIO(text))]
    assert len(rows) == s["eligible"]
    assert set(rows[0]) == set(cycles.PAYROLL_COLUMNS)
    assert all(r["currency"] == "GMD" and Decimal(r["amount"]) > 0 for r in rows)
    # the agent pays all but one
    failed_ref = rows[0]["reference_id"]
    result = "reference_id,status,reason\n" + "".join(
        f"{r['reference_id']},{'failed' if r['reference_id'] == failed_ref else 'paid'},"
        f"{'wrong number' if r['reference_id'] == failed_ref else ''}\n" for r in rows) + "PAY-UNKNOWN,paid,\n"
    report = cycles.reconcile(session, cycle, result, s["checker"])
    assert (report.paid, report.failed) == (len(rows) - 1, 1)
    assert report.problems and "unknown reference" in report.problems[0][1]
    # a paid payment cannot be retried; the failed one can, with the same reference
    paid = session.scalar(select(Payment).where(Payment.status == "paid").limit(1))
    with pytest.raises(cycles.CycleError, match="only failed"):
        cycles.retry(session, paid, s["checker"])
    failed = session.scalar(select(Payment).where(Payment.reference == failed_ref))
    cycles.retry(session, failed, s["checker"])
    second = cycles.payroll(session, s["scheme"], cycle, failed.channel, s["checker"])
    again = list(csv.DictReader(io.StringIO(second)))
    assert [r["reference_id"] for r in again] == [failed_ref]
    # reporting the same paid payment twice changes nothing
    report = cycles.reconcile(session, cycle, f"reference_id,status\n{failed_ref},paid\n{failed_ref},paid\n")
    assert report.paid == 1 and len(report.problems) == 1
    session.commit()
    assert session.get(PaymentCycle, cycle.id).status == "reconciled"
    assert payment_count(session) == s["eligible"]


def test_dry_run_diff_against_the_previous_cycle(session, setup):
    s = setup
    cycles.prepare(s["factory"], s["scheme"], s["version"], s["benefit"], 1, s["maker"])
    session.rollback()  # end the read transaction: see what other sessions committed
    first = session.scalar(select(Payment).where(Payment.scheme_code == CODE).order_by(Payment.id).limit(1))
    hh = session.get(Household, first.unit_id)
    data = s["registry"].input_of(hh)
    data["members"] = data["members"][:1]  # household shrinks: amount changes
    assert s["registry"].update(hh, data).ok
    session.commit()
    diff = cycles.dry_run(session, s["scheme"], s["benefit"], 2)
    if first.amount != Decimal(1600):
        assert [c[0] for c in diff.changed] == [first.unit_id]
    assert diff.previous_count == s["eligible"] and diff.count == s["eligible"]
    assert diff.previous_total - diff.total == first.amount - Decimal(1600)
