"""Shared fixtures: an app on SQLite (default) or PostgreSQL (OPENSCHEME_TEST_DATABASE_URL).

Tests that use the `app` fixture are marked `db` automatically; CI runs them a
second time on PostgreSQL with `pytest -m db`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from openscheme.storage.scratch import fresh_postgres

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PG_URL = os.environ.get("OPENSCHEME_TEST_DATABASE_URL")
ROLES = ("administrator", "implementer", "enrolment_officer", "facility_clerk", "claims_reviewer",
         "payment_officer", "analyst", "auditor")
DATA_TABLES = ("jobs", "employers", "voucher_redemptions", "vouchers", "claim_lines", "claims", "claim_batches", "contributions",
               "payments", "payment_cycles", "targeting_results", "targeting_runs", "policies", "audit_log", "enrolments", "individuals", "households", "login_attempts", "api_tokens",
               "role_assignments", "users", "price_list_entries", "facilities", "price_lists", "catalogue",
               "icd10_codes", "locations")


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives a real browser (chromium); skipped when it is missing")


def pytest_collection_modifyitems(items):
    for item in items:
        if {"app", "client", "base_app"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if PG_URL:
        url, drop = fresh_postgres(PG_URL)
        yield url
        drop()
        return
    yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def base_app(database_url, tmp_path_factory):
    from openscheme import create_app

    app = create_app({
        "DATABASE_URL": database_url, "SCHEME_PATHS": [str(EXAMPLES)], "TESTING": True,
        "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    })
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    return app


def clean(app) -> None:
    """Empty every data table, children first; tables not created yet by the migrations are skipped."""
    from sqlalchemy import inspect

    db = app.extensions["openscheme"].db
    db.session.remove()
    existing = set(inspect(db.engine).get_table_names())
    known = set(DATA_TABLES)
    with db.engine.begin() as conn:
        # tables added later (another workflow) that are not listed yet go first: they reference the others
        for table in sorted(existing - known - {"scheme_versions", "alembic_version"}):
            conn.execute(text(f"DELETE FROM {table}"))
        for table in DATA_TABLES:
            if table in existing:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def app(base_app):
    clean(base_app)
    base_app.config["WTF_CSRF_ENABLED"] = False
    yield base_app
    clean(base_app)


@pytest.fixture
def session(app):
    s = app.extensions["openscheme"].db.session_factory()
    yield s
    s.close()


@pytest.fixture
def client(app):
    return app.test_client()


def make_user(app, username: str, roles, password: str = "secret-pass", language: str = "en"):
    from openscheme.reference.users import create_user

    db = app.extensions["openscheme"].db
    with db.session_factory() as s, s.begin():
        user = create_user(s, username, password, roles=roles, language=language,
                           hash_method=app.config["PASSWORD_HASH_METHOD"])
        return user.id


def login(client, username: str, password: str = "secret-pass"):
    return client.post("/login", data={"username": username, "password": password})


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no csrf_token in the page"
    return match.group(1)


@pytest.fixture
def users(app):
    """One user per role, unrestricted: username = role name, password 'secret-pass'."""
    return {role: make_user(app, role, [(role, None, None)]) for role in ROLES}
