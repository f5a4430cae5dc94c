"""The deployment commands: db upgrade, load, create-user, serve, reference load-icd10, demo.

They run on a fresh SQLite file, or with OPENSCHEME_TEST_DATABASE_URL on PostgreSQL in a schema
of their own (so they never touch the tables of the app fixtures).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, inspect, select, text
from werkzeug.security import check_password_hash

from conftest import EXAMPLES, PG_URL
from openscheme.cli import main
from openscheme.definitions import compile_file
from openscheme.reference.seed import DATA, read_data_csv
from openscheme.storage.db import Database
from openscheme.storage.models import (
    Facility,
    Household,
    Icd10Code,
    Individual,
    Location,
    PriceList,
    RoleAssignment,
    SchemeVersion,
    User,
)
from openscheme.storage.workflow_models import Policy, Voucher

pytestmark = pytest.mark.db
SCHEMA = "cli_runtime_test"


@pytest.fixture
def url(tmp_path):
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'cli.db'}"
        return
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    yield PG_URL + ("&" if "?" in PG_URL else "?") + f"options=-csearch_path%3D{SCHEMA}"
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    engine.dispose()


@pytest.fixture
def run(url, tmp_path):
    definitions = tmp_path / "scheme_definitions"
    definitions.mkdir()

    def invoke(*args, input=None):
        result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False,
                                    env={"OPENSCHEME_DATABASE_URL": url, "OPENSCHEME_DEFINITIONS": str(definitions)})
        return result

    invoke.definitions = definitions
    return invoke


@pytest.fixture
def database(url):
    db = Database(url)
    yield db
    db.dispose()


def count(database, model, *where):
    with database.session_factory() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_db_upgrade_creates_the_schema(run, database):
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "upgraded to head" in result.output
    tables = set(inspect(database.engine).get_table_names())
    assert {"scheme_versions", "locations", "users", "households", "icd10_codes", "alembic_version"} <= tables
    assert run("db", "upgrade").exit_code == 0  # again: nothing to do


def test_load_reports_new_unchanged_and_failed_keeping_the_previous_version(run, database, tmp_path):
    target = run.definitions / "gm.yaml"
    shutil.copy(EXAMPLES / "gm_nafa_quick.yaml", target)
    result = run("load")
    assert result.exit_code == 0, result.output
    assert "new: gm-nafa-quick v1" in result.output
    assert "1 new, 0 unchanged, 0 failed" in result.output
    result = run("load", str(run.definitions))
    assert "unchanged: gm-nafa-quick v1" in result.output

    with database.session_factory() as s:
        first = s.scalars(select(SchemeVersion).where(SchemeVersion.code == "gm-nafa-quick")).one()
    target.write_text(target.read_text("utf-8").replace("formula: district in poorest_districts",
                                                        "formula: distrct in poorest_districts"), "utf-8")
    result = run("load", str(target))
    assert result.exit_code == 1
    assert re.search(rf"{re.escape(str(target))}:\d+:\d+: E410 unknown name 'distrct'", result.output), result.output
    assert "failed: " in result.output and "stays current" in result.output
    with database.session_factory() as s:
        rows = s.scalars(select(SchemeVersion).where(SchemeVersion.code == "gm-nafa-quick")).all()
    assert [(r.id, r.is_current) for r in rows] == [(first.id, True)]

    result = run("load", str(tmp_path / "missing"))
    assert result.exit_code == 1 and "E100" in result.output


def test_create_user(run, database):
    run("db", "upgrade")
    result = run("create-user", "alice", "--role", "enrolment_officer:tz-chf", "--role", "analyst",
                 "--full-name", "Alice", "--password-stdin", input="a-long-password\n")
    assert result.exit_code == 0, result.output
    assert "created user alice" in result.output
    assert "no scheme 'tz-chf' is loaded yet" in result.output
    with database.session_factory() as s:
        user = s.scalars(select(User).where(User.username == "alice")).one()
        assert check_password_hash(user.password_hash, "a-long-password")
        roles = sorted((r.role, r.scheme_code, r.location_id) for r in user.roles)
    assert roles == [("analyst", None, None), ("enrolment_officer", "tz-chf", None)]

    assert run("create-user", "alice", "--role", "analyst", "--password", "another-password").exit_code == 1
    assert run("create-user", "bob", "--role", "wizard", "--password", "another-password").exit_code == 2
    assert run("create-user", "bob", "--role", "analyst", "--password", "short").exit_code == 2
    result = run("create-user", "bob", "--role", "analyst::NOWHERE", "--password", "another-password")
    assert result.exit_code == 1 and "unknown location NOWHERE" in result.output
    assert count(database, User, User.username == "bob") == 0


def test_load_icd10_is_idempotent(run, database, tmp_path):
    result = run("reference", "load-icd10")
    assert result.exit_code == 0, result.output
    added = int(re.search(r"(\d+) added", result.output).group(1))
    assert added > 12000
    with database.session_factory() as s:
        cholera = s.get(Icd10Code, "A00.1")
        assert cholera.title.startswith("Cholera") and cholera.chapter == "I"
        assert s.get(Icd10Code, "O80") is not None
    result = run("reference", "load-icd10")
    assert "0 added, 0 updated" in result.output
    assert count(database, Icd10Code) == added

    national = tmp_path / "national.csv"
    national.write_text("# a national list\ncode,title,chapter\nA00.1,Cholera (El Tor),I\nU99.9,A national code,XXII\n", "utf-8")
    result = run("reference", "load-icd10", "--csv", str(national))
    assert result.exit_code == 0, result.output
    assert "1 added, 1 updated, 0 unchanged" in result.output
    with database.session_factory() as s:
        assert s.get(Icd10Code, "A00.1").title == "Cholera (El Tor)"
    broken = tmp_path / "broken.csv"
    broken.write_text("id,name\n1,x\n", "utf-8")
    assert run("reference", "load-icd10", "--csv", str(broken)).exit_code == 1


def test_serve_runs_the_app_with_waitress(run, monkeypatch):
    calls = {}
    monkeypatch.setattr("waitress.serve", lambda app, **kw: calls.update(app=app, **kw))
    result = run("serve", "--port", "5055")
    assert result.exit_code == 0, result.output
    assert calls["port"] == 5055 and calls["host"] == "127.0.0.1" and calls["threads"] == 4
    assert run("serve", "--port", "5055", "--threads", "2").exit_code == 0 and calls["threads"] == 2
    assert calls["app"].name.startswith("openscheme")
    assert "http://localhost:5055/" in result.output and "HTTPS" in result.output


def test_serve_answers_http(url, tmp_path):
    """The real server in a child process: the login page, with its security headers."""
    port = _free_port()
    env = {**os.environ, "OPENSCHEME_DATABASE_URL": url, "OPENSCHEME_DEFINITIONS": str(tmp_path)}
    server = subprocess.Popen([sys.executable, "-m", "openscheme.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as answer:
                    body, headers = answer.read().decode(), answer.headers
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(server.stdout.read() if server.poll() is not None else "no answer") from None
                time.sleep(0.2)
        assert 'name="password"' in body and 'name="csrf_token"' in body
        assert headers["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" in headers
    finally:
        server.terminate()
        server.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_builds_everything_once(run, database):
    result = run("demo", "--no-serve", "--per-scheme", "12")
    assert result.exit_code == 0, result.output
    out = result.output
    for username in ("admin", "implementer", "enrolment", "kongwa", "clerk", "reviewer", "payments", "approver",
                     "analyst", "auditor"):
        assert re.search(rf"^\s+{username}\s+{username}-demo\s", out, re.M), username
    assert "serving cm-cheque-sante, cm-educash, cm-hiv-waiver, gm-nafa-quick, np-hib, np-ssf, tz-chf" in out

    households, people = count(database, Household), count(database, Individual)
    assert households >= 3 * 10 and people > households
    assert count(database, Individual, Individual.household_id.is_(None)) >= 3 * 10  # the individual schemes
    assert count(database, Location) > 100 and count(database, Facility) > 20
    assert count(database, PriceList) >= 4 and count(database, Icd10Code) > 12000
    with database.session_factory() as s:
        kongwa = s.scalars(select(RoleAssignment).join(User).where(User.username == "kongwa")).one()
        assert (kongwa.role, kongwa.scheme_code, kongwa.location.code) == ("enrolment_officer", "tz-chf", "KONGWA_DC")
        admin = s.scalars(select(User).where(User.username == "admin")).one()
        assert check_password_hash(admin.password_hash, "admin-demo")
        tz_paths = s.scalars(select(Household.location_path).where(Household.scheme_code == "tz-chf")).all()
    assert tz_paths and all(p.startswith("/TZ/DODOMA/") or p.startswith("/TZ/SINGIDA/") for p in tz_paths)
    # insured people for the clerks and reviewers, vouchers to redeem
    policies, vouchers = count(database, Policy), count(database, Voucher)
    for code in ("tz-chf", "np-hib", "np-ssf", "cm-hiv-waiver"):
        assert count(database, Policy, Policy.scheme_code == code, Policy.status == "active") >= 2, code
    assert count(database, Voucher, Voucher.scheme_code == "cm-cheque-sante") >= 2

    again = run("demo", "--no-serve", "--per-scheme", "12")
    assert again.exit_code == 0, again.output
    assert count(database, Household) == households and count(database, Individual) == people
    assert count(database, User) == 10
    assert count(database, Policy) == policies and count(database, Voucher) == vouchers
    assert "0 new, 7 unchanged" in again.output and "already there: this run did not change its password" in again.output


def test_seeded_locations_cover_every_code_the_examples_use():
    """Location fields of the examples' embedded tests, and facility choices, exist with the right level."""
    rows = read_data_csv(DATA / "locations.csv")
    levels = {r["code"]: r["level"] for r in rows}
    assert len(levels) == len(rows), "duplicate location codes"
    seen = set()
    for r in rows:
        assert not r["parent"] or r["parent"] in seen, f"{r['code']}: parent {r['parent']} must come first"
        seen.add(r["code"])
    facilities = {r["code"] for r in read_data_csv(DATA / "facilities.csv")}
    for path in sorted(EXAMPLES.glob("*.yaml")):
        scheme = compile_file(path).scheme
        location_fields = {f.name: f.location_level for f in scheme.fields if f.type == "location"}
        for case in scheme.tests:
            for name, level in location_fields.items():
                code = case.data.get(name)
                if code is not None and not case.expect.get("errors"):
                    assert levels.get(str(code)) == level, (path.name, case.name, name, code)
        for f in scheme.fields:
            if f.type == "select_one" and f.name in ("region", "district", "department", "health_district"):
                for choice in f.choices:
                    assert choice.value in levels, (path.name, f.name, choice.value)
            if f.type == "select_one" and f.name in ("facility", "first_service_point"):
                assert {c.value for c in f.choices} <= facilities, (path.name, f.name)
