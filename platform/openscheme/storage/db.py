"""Engine and sessions, with the settings each database needs.

SQLite gets WAL, foreign keys and a busy timeout (several web workers and a bulk
import may write at once); PostgreSQL is used as is. The web app uses one
`scoped_session` per request; batch jobs open their own sessions.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import scoped_session, sessionmaker


def make_engine(url: str, **kwargs) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            # let SQLAlchemy, not the driver, start transactions: pysqlite otherwise begins one only at
            # the first write, so a released SAVEPOINT would commit and a later rollback undo nothing
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - trivial
            conn.exec_driver_sql("BEGIN")

        return engine
    engine = create_engine(url, **kwargs)
    ping_when_idle(engine)
    return engine


IDLE_BEFORE_PING = 10.0  # seconds a pooled connection may rest before it is pinged again


def ping_when_idle(engine: Engine, idle: float = IDLE_BEFORE_PING) -> None:
    """Ping a pooled connection before use only when it has rested in the pool for `idle` seconds.

    `pool_pre_ping` pings at every checkout: one more round trip for each web request (about 13% of
    an API registration's time here). A connection returned a moment ago was working then; one that
    has rested longer may have been dropped (a server restart, a firewall's idle timeout), so it is
    pinged, and replaced by a new one when the ping fails (the pool retries the checkout)."""

    @event.listens_for(engine, "checkin")
    def _rested_since(_dbapi_connection, record):
        record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_rested(dbapi_connection, record, _proxy):
        since = record.info.get("checked_in")
        if since is None or time.monotonic() - since < idle:
            return  # a new connection, or one in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - whatever the driver raises, the connection is unusable
            raise DisconnectionError(f"a pooled connection no longer answers: {exc}") from exc


class Database:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.session_factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.session = scoped_session(self.session_factory)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def new_session(self):
        return self.session_factory()

    def dispose(self) -> None:
        self.session.remove()
        self.engine.dispose()
