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
