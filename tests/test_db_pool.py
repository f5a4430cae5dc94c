"""PostgreSQL connections are pinged before use only after resting in the pool (`storage.db.ping_when_idle`):
a connection the server dropped meanwhile is replaced without the request seeing an error, and a connection
in use a moment ago costs no extra round trip."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from openscheme.storage.db import make_engine, ping_when_idle

pytestmark = pytest.mark.db


@pytest.fixture
def postgres(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (SQLite has no server to lose)")
    return database_url


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT pg_backend_pid()"))


def _terminate(url: str, pid: int) -> None:
    other = make_engine(url)
    try:
        with other.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            conn.commit()
    finally:
        other.dispose()


def _statements(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, statement, *a: seen.append(statement))
    return seen


def test_a_connection_dropped_while_resting_is_replaced(postgres):
    engine = make_engine(postgres, pool_size=1, max_overflow=0)
    ping_when_idle(engine, idle=0.0)  # every checkout counts as rested (the default waits 10 s)
    try:
        first = _backend_pid(engine)
        _terminate(postgres, first)  # the server drops it while it rests in the pool
        second = _backend_pid(engine)  # no error: the ping failed, the pool opened a new connection
        assert second != first
    finally:
        engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(postgres):
    engine = make_engine(postgres, pool_size=1, max_overflow=0)  # the default: ping after 10 s of rest
    pings: list[int] = []
    original = engine.dialect.do_ping
    engine.dialect.do_ping = lambda dbapi_connection: pings.append(1) or original(dbapi_connection)
    try:
        statements = _statements(engine)
        for _ in range(3):
            _backend_pid(engine)
        assert pings == [] and statements == ["SELECT pg_backend_pid()"] * 3
    finally:
        engine.dispose()
