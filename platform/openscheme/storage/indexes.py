"""Indexes for a scheme's declared fields, created when the scheme is loaded.

`unique: true` becomes a UNIQUE expression index limited to the scheme
(`WHERE scheme_code = '...'`), so the database itself refuses a duplicate even
when two officers register the same person at the same moment; `searchable: true`
becomes a plain expression index (on lower() for text, in the "C" collation on
PostgreSQL) so look-ups stay fast at millions of rows. Both are partial indexes:
a query uses them only when its SQL text says `scheme_code = '<code>'` (a literal,
not a parameter) - see `registry.search`.
"""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from ..definitions.model import Field, Scheme
from .jsonpath import index_expression

CODE_RE = re.compile(r"^[a-z][a-z0-9_-]{1,40}$")


def table_for(scheme: Scheme, f: Field) -> str:
    if f.scope == "member" or not scheme.is_household:
        return "individuals"
    return "households"


def index_name(kind: str, table: str, scheme_code: str, field: str) -> str:
    digest = hashlib.sha1(f"{scheme_code}:{field}".encode()).hexdigest()[:10]
    return f"{kind}_{table[:4]}_{field[:30]}_{digest}"


def declared_index_statements(scheme: Scheme, dialect: str) -> list[str]:
    if not CODE_RE.match(scheme.code):
        raise ValueError(f"unexpected scheme code {scheme.code!r}")
    out = []
    for f in scheme.fields + scheme.member_fields:
        if not (f.unique or f.searchable):
            continue
        table = table_for(scheme, f)
        expr = index_expression(f.name, dialect)
        where = f"WHERE scheme_code = '{scheme.code}'"
        if f.unique:
            name = index_name("ux", table, scheme.code, f.name)
            out.append(f"CREATE UNIQUE INDEX IF NOT EXISTS {name} ON {table} ({expr}) {where}")
        if f.searchable and f.value_type.value == "text":
            if dialect == "postgresql":
                # in the "C" collation: the search's prefix range `lower(x) COLLATE "C" >= 'ab' AND < 'ac'`
                # is a prefix only in code-point order, and an index serves a comparison only in its own
                # collation (the database's default, e.g. C.UTF-8 or en_US, would leave it unused)
                out.append(f"DROP INDEX IF EXISTS {index_name('ix', table, scheme.code, f.name)}")  # earlier, uncollated
                name = index_name("ic", table, scheme.code, f.name)
                out.append(f'CREATE INDEX IF NOT EXISTS {name} ON {table} ((lower({expr})) COLLATE "C") {where}')
            else:
                name = index_name("ix", table, scheme.code, f.name)
                out.append(f"CREATE INDEX IF NOT EXISTS {name} ON {table} (lower({expr})) {where}")
    return out


_ENFORCED: set[tuple] = set()


def unique_indexes_present(session, scheme: Scheme) -> bool:
    """Whether the database has the unique index of every unique field of the scheme, so that it
    refuses a duplicate by itself (they are made when the scheme is loaded; a yes is remembered)."""
    wanted = {index_name("ux", table_for(scheme, f), scheme.code, f.name)
              for f in scheme.fields + scheme.member_fields if f.unique}
    bind = session.get_bind()
    key = (bind.url.render_as_string(hide_password=True), scheme.code, frozenset(wanted))
    if not wanted or key in _ENFORCED:
        return True
    dialect = bind.dialect.name
    if dialect == "postgresql":
        sql = "SELECT indexname FROM pg_indexes WHERE indexname IN :names"
    elif dialect == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND name IN :names"
    else:
        return False
    found = set(session.scalars(text(sql).bindparams(bindparam("names", expanding=True)), {"names": sorted(wanted)}))
    if wanted <= found:
        _ENFORCED.add(key)
        return True
    return False


def ensure_declared_indexes(connection: Connection, scheme: Scheme) -> int:
    statements = declared_index_statements(scheme, connection.dialect.name)
    for sql in statements:
        connection.execute(text(sql))
    return len(statements)
