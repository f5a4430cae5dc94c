"""`openscheme target` and `openscheme cycle`: the Nafa Quick-style cycle from the command line."""

from __future__ import annotations

import csv
import io
import random

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from conftest import make_user
from openscheme.cli import main
from openscheme.registry.service import Registry
from openscheme.storage.workflow_models import Payment, TargetingRun

CODE = "gm-nafa-quick"
DISTRICTS = {"URR": ["BSE", "KNT"], "CRR": ["JAN"], "WCR": ["KBW"]}


@pytest.fixture
def cli(app, session, database_url):
    reg = Registry(session, app.extensions["openscheme"].catalog)
    rng = random.Random(3)
    for i in range(20):
        region = rng.choice(list(DISTRICTS))
        members = [{"first_name": f"A{i}", "last_name": "B", "sex": "F", "dob": "1980-01-01",
                    "roles": ["head", "primary_recipient"] if j == 0 else []} for j in range(rng.randint(1, 8))]
        assert reg.register(CODE, {"region": region, "district": rng.choice(DISTRICTS[region]), "village": "V",
                                   "payment_channel": "cash_agent", "members": members}).ok
    session.commit()
    make_user(app, "maker", [("payment_officer", None, None)])
    make_user(app, "checker", [("payment_officer", CODE, None)])
    make_user(app, "clerk", [("facility_clerk", None, None)])
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(main, [*args, "--database-url", database_url], catch_exceptions=False)
        return result

    return run


def test_target_then_a_whole_cycle(cli, session, tmp_path):
    r = cli("target", CODE, "--as-of", "2020-08-01", "--user", "maker")
    assert r.exit_code == 0, r.output
    run = session.scalar(select(TargetingRun))
    assert f"run {run.id} of {CODE} as of 2020-08-01: {run.eligible_count} eligible" in r.output
    assert "poorest_district: sql" in r.output
    r = cli("target", CODE, "--approve", str(run.id), "--user", "maker")
    assert r.exit_code == 1 and "cannot approve" in r.output
    r = cli("target", CODE, "--approve", str(run.id), "--user", "clerk")
    assert r.exit_code == 1 and "may not do this" in r.output
    r = cli("target", CODE, "--approve", str(run.id), "--user", "checker")
    assert r.exit_code == 0 and f"{run.eligible_count} unit(s) enrolled" in r.output

    r = cli("cycle", CODE, "nafa_quick", "1", "--dry-run")
    assert r.exit_code == 0 and f"cycle 1: {run.eligible_count} payment(s)" in r.output and "nothing written" in r.output
    assert session.scalar(select(func.count()).select_from(Payment)) == 0
    for _ in range(2):  # a re-run creates nothing more
        r = cli("cycle", CODE, "nafa_quick", "1", "--prepare", "--user", "maker")
        assert r.exit_code == 0 and f"cycle 1 prepared: {run.eligible_count} payment(s)" in r.output, r.output
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Payment)) == run.eligible_count
    assert cli("cycle", CODE, "nafa_quick", "1", "--approve-as", "maker").exit_code == 1
    r = cli("cycle", CODE, "nafa_quick", "1", "--approve-as", "checker")
    assert r.exit_code == 0 and "approved by checker" in r.output
    out = tmp_path / "cash.csv"
    r = cli("cycle", CODE, "nafa_quick", "1", "--payroll", "cash_agent", "-o", str(out), "--user", "maker")
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    assert len(rows) == run.eligible_count
    result = tmp_path / "result.csv"
    result.write_text("reference_id,status,reason\n" + "".join(
        f"{x['reference_id']},{'failed' if i == 0 else 'paid'},{'absent' if i == 0 else ''}\n"
        for i, x in enumerate(rows)) + "PAY-NOPE,paid,\n", "utf-8")
    r = cli("cycle", CODE, "nafa_quick", "1", "--reconcile", str(result), "--user", "maker")
    assert r.exit_code == 0
    assert f"{len(rows) - 1} paid, 1 failed, 1 problem(s)" in r.output
    assert f"result.csv:{len(rows) + 2}: unknown reference PAY-NOPE" in r.output


def test_usage_errors(cli):
    assert "choose one of" in cli("cycle", CODE, "nafa_quick", "1").output
    assert "choose one of" in cli("cycle", CODE, "nafa_quick", "1", "--dry-run", "--prepare").output
    assert "there is no cycle 9" in cli("cycle", CODE, "nafa_quick", "9", "--dry-run").output
    assert "no cash benefit 'nope'" in cli("cycle", CODE, "nope", "1", "--dry-run").output
    assert "not loaded" in cli("target", "no-such-scheme").output
    assert "is not prepared" in cli("cycle", CODE, "nafa_quick", "2", "--approve-as", "checker").output
    assert "no active user 'ghost'" in cli("target", CODE, "--user", "ghost").output


def test_a_payroll_is_written_again_the_same_and_audited(cli, session, tmp_path):
    import zlib

    from openscheme.storage.models import AuditLog
    from openscheme.storage.workflow_models import Payroll

    assert cli("target", CODE, "--as-of", "2020-08-01", "--user", "maker").exit_code == 0
    run_id = session.scalar(select(TargetingRun.id))
    assert cli("target", CODE, "--approve", str(run_id), "--user", "checker").exit_code == 0
    assert cli("cycle", CODE, "nafa_quick", "1", "--prepare", "--user", "maker").exit_code == 0
    assert cli("cycle", CODE, "nafa_quick", "1", "--approve-as", "checker").exit_code == 0
    first = tmp_path / "cash.csv"
    r = cli("cycle", CODE, "nafa_quick", "1", "--payroll", "cash_agent", "-o", str(first), "--user", "maker")
    session.rollback()
    kept = session.scalar(select(Payroll))
    assert r.exit_code == 0 and f"(payroll {kept.id}: --payroll-again {kept.id} writes the same file again)" in r.output

    def state():
        session.rollback()
        return session.execute(select(Payment.id, Payment.status, Payment.attempts).order_by(Payment.id)).all()

    def redownloads():
        session.rollback()
        return session.scalars(select(AuditLog).where(AuditLog.action == "redownload").order_by(AuditLog.id)).all()

    before = state()
    again = tmp_path / "cash-again.csv"
    r = cli("cycle", CODE, "nafa_quick", "1", "--payroll-again", str(kept.id), "-o", str(again), "--user", "maker")
    assert r.exit_code == 0, r.output
    assert f"wrote {again}: {kept.payment_count} payment(s) (payroll {kept.id}, again)" in r.output
    assert again.read_bytes() == first.read_bytes() == zlib.decompress(kept.content)
    assert b"\r\n" in again.read_bytes()  # the CSV's own line ends, as the web hands them out
    # the same audit entry as the web's "download again"; nothing else changed
    [entry] = redownloads()
    assert (entry.entity, entry.entity_id, entry.scheme_code, entry.username) == (
        "payment_cycle", kept.cycle_id, CODE, "maker")
    assert entry.after == {"payroll": kept.id, "channel": "cash_agent", "payments": kept.payment_count,
                           "sha256": kept.sha256}
    assert state() == before
    # to stdout as well; each time audited
    r = cli("cycle", CODE, "nafa_quick", "1", "--payroll-again", str(kept.id))
    assert r.exit_code == 0 and r.stdout_bytes.replace(b"\r\n", b"\n") == first.read_bytes().replace(b"\r\n", b"\n")
    assert len(redownloads()) == 2
    # an unknown payroll, one of another cycle, or a user who may not produce payrolls: a clear error, no file
    lost = tmp_path / "lost.csv"
    r = cli("cycle", CODE, "nafa_quick", "1", "--payroll-again", "999999", "-o", str(lost))
    assert r.exit_code == 1 and isinstance(r.exception, SystemExit)
    assert f"Error: no payroll 999999 in cycle 1 of {CODE} nafa_quick (its payrolls: {kept.id} (cash_agent, " \
        in r.output and "Traceback" not in r.output
    assert cli("cycle", CODE, "nafa_quick", "2", "--prepare", "--user", "maker").exit_code == 0
    r = cli("cycle", CODE, "nafa_quick", "2", "--payroll-again", str(kept.id), "-o", str(lost))
    assert r.exit_code == 1 and f"no payroll {kept.id} in cycle 2 of {CODE} nafa_quick (its payrolls: none)" in r.output
    r = cli("cycle", CODE, "nafa_quick", "1", "--payroll-again", str(kept.id), "-o", str(lost), "--user", "clerk")
    assert r.exit_code == 1 and "clerk may not do this (payments.prepare" in r.output
    assert not lost.exists() and len(redownloads()) == 2
    assert "choose one of" in cli("cycle", CODE, "nafa_quick", "1", "--payroll-again", "1", "--dry-run").output
