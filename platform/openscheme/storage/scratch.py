"""A throw-away PostgreSQL database for one run of the tests or a benchmark.

Several runs may share one server (CI, a developer's machine, helpers running suites side by
side), so each run gets a database of its own, named after the process, and drops it after.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def fresh_postgres(server_url: str, prefix: str | None = None, *, admin_database: str | None = None
                   ) -> tuple[str, Callable[[], None]]:
    """Create a new, empty database on the server of `server_url`; returns its URL and a function
    that drops it. The name is `prefix` (default: the URL's database) + the process id, + a number
    from this process's second database on (a test that makes its own database beside the session's
    must not get the session's name: it would drop it).
    `admin_database`: the database to connect to for CREATE/DROP (default: the URL's own)."""
    base = make_url(server_url)
    n = next(_MADE)
    name = f"{prefix or base.database}_{os.getpid()}" + (f"_{n}" if n else "")
    admin = create_engine(base.set(database=admin_database) if admin_database else base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


_MADE = itertools.count()  # databases made by this process
