"""Reading units of a scheme in batches, typed, with their members - for the Python path of
registry-wide runs (rules or amounts the SQL compiler cannot translate, payment cycles).

A few queries per batch of units, never one per unit:

1. the window: the ids of the next `batch` active units after the last one (keyset on the
   primary key), which gives the batch's upper bound;
2. the batch: its units inside the window as ONE JSON text, and their members as another
   (household schemes), built by the database and parsed by Python at once.

Fetching a million households row by row, and decoding a JSON value per row and per
member, cost most of a payment cycle's time (measured in benchmarks/payments.py); one
aggregated JSON document per batch is several times faster on PostgreSQL and SQLite.
`fields` / `member_fields` narrow what is read to the fields the formulas use (None: all).

A restriction `ids_sql` (a subquery of unit ids) may use :last and :upper, the bounds of
the window, so that the database only looks at ids inside it (e.g. enrolments of the
window rather than of the whole scheme on every batch).
"""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import text

from ..definitions.model import Scheme
from ..registry.values import decoder

BATCH = 5000


_gc_lock = threading.Lock()
_gc_pauses = [0, False]  # nested pauses (any thread), whether the collector was on before the first


@contextmanager
def gc_paused():
    """No cyclic garbage collection while batches are decoded and computed.

    A batch allocates tens of thousands of small lists and dicts, none in a cycle. Each
    burst of allocations triggers collections that walk every live object, the batch
    being built included - measured at several times the cost of the parsing itself.
    Nothing here is cyclic, so reference counting frees it all; the collector only
    resumes when the last pause (of any thread) ends."""
    with _gc_lock:
        if _gc_pauses[0] == 0:
            _gc_pauses[1] = gc.isenabled()
            gc.disable()
        _gc_pauses[0] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses[0] -= 1
            if _gc_pauses[0] == 0 and _gc_pauses[1]:
                gc.enable()


def refresh_statistics(session, tables: Iterable[str], *, growth: float = 2.0) -> list[str]:
    """PostgreSQL: ANALYZE the tables that grew well beyond what the planner believes.

    Windowed batch queries are only fast with index range scans. A table the planner
    believes empty (analyzed before a bulk load, or filled by the run itself: enrolments
    after an approval, payments during a cycle) gets plans that read all of it for every
    batch - 50 s per batch at a million households. Autovacuum catches up only later;
    ANALYZE samples 30,000 rows and takes a fraction of a second. It runs on its own
    autocommit connection: statistics gathered inside the caller's transaction would be
    lost with its rollback (and PostgreSQL caches the activity counters per transaction)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return []  # SQLite: see enrolled_units_sql (statistics gathered elsewhere reach a connection late)
    done = []
    with bind.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        rows = conn.execute(text(
            "SELECT c.relname, c.reltuples, s.n_live_tup, EXISTS (SELECT 1 FROM pg_stats p "
            "WHERE p.schemaname = n.nspname AND p.tablename = c.relname) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE c.relname = ANY(:names) AND n.nspname = current_schema()"), {"names": list(tables)}).all()
        for name, reltuples, live, has_stats in rows:
            live = live or 0
            if live > 1000 and (not has_stats or live > max(reltuples or 0, 0) * growth + 1000):
                conn.execute(text(f"ANALYZE {_quote(name)}"))
                done.append(name)
    return done


def unit_table(scheme: Scheme) -> str:
    return "households" if scheme.is_household else "individuals"


def _quote(name: str) -> str:
    # field names are identifiers (letters, digits, _): checked by the definition schema
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a field name: {name!r}")
    return name


def _projection(dialect: str, column: str, names: Iterable[str] | None) -> str:
    """The JSON text of `column`, or of only the given keys of it."""
    if names is None:
        return f"CAST({column} AS TEXT)" if dialect == "postgresql" else f"json({column})"
    names = sorted(set(names))
    if not names:
        return "'{}'"
    if dialect == "postgresql":
        pairs = ", ".join(f"'{_quote(n)}', {column}->'{_quote(n)}'" for n in names)
        return f"CAST(jsonb_strip_nulls(jsonb_build_object({pairs})) AS TEXT)"
    pairs = ", ".join(f"'{_quote(n)}', json_extract({column}, '$.{_quote(n)}')" for n in names)
    return f"json_object({pairs})"


def _json_rows(dialect: str, parts: list[str], source: str, order: str) -> str:
    """One row: a JSON array text of arrays [parts...] (each part an SQL expression giving JSON text).

    Built by string concatenation: json_build_array costs several times more per row on
    PostgreSQL, and reading one text is far cheaper than fetching and decoding row by row."""
    element = "'[' || " + " || ',' || ".join(parts) + " || ']'"
    if dialect == "postgresql":
        return f"SELECT '[' || coalesce(string_agg({element}, ',' ORDER BY {order}), '') || ']' FROM {source}"
    # SQLite has no ORDER BY in aggregates (before 3.44): aggregate an ordered subquery, and check in Python
    return (f"SELECT '[' || coalesce(group_concat(x, ','), '') || ']' FROM "
            f"(SELECT {element} AS x FROM {source} ORDER BY {order})")


def batch_queries(scheme: Scheme, dialect: str, where: str, ids_sql: str | None = None, *, fields=None,
                  member_fields=None) -> tuple[str, str | None]:
    """The units of a window as [[id, data], ...] and their members as [[unit id, id, position, roles, data], ...]."""
    table = unit_table(scheme)
    units_where = where + (f" AND u.id IN ({ids_sql})" if ids_sql else "")
    units = _json_rows(dialect, ["CAST(u.id AS TEXT)", _projection(dialect, "u.data", fields)],
                       f"{table} u WHERE {units_where}", "u.id")
    if not scheme.is_household:
        return units, None
    roles = "coalesce(CAST(m.roles AS TEXT), '[]')" if dialect == "postgresql" else "coalesce(json(m.roles), '[]')"
    members_where = "m.household_id > :last AND m.household_id <= :upper AND m.active = TRUE"
    if ids_sql:
        members_where += f" AND m.household_id IN ({ids_sql})"
    members = _json_rows(dialect, ["CAST(m.household_id AS TEXT)", "CAST(m.id AS TEXT)", "CAST(m.position AS TEXT)",
                                   roles, _projection(dialect, "m.data", member_fields)],
                         f"individuals m WHERE {members_where}", "m.household_id, m.position, m.id")
    return units, members


def _roster_order(m: list):
    return m[2], m[1]  # position, id


def iter_units(session, scheme: Scheme, *, ids_sql: str | None = None, params: dict | None = None,
               batch: int = BATCH, fields: Iterable[str] | None = None,
               member_fields: Iterable[str] | None = None) -> Iterator[list[tuple[int, dict]]]:
    """Batches of (unit id, typed values incl. members) for the scheme's active units, in id order.

    ids_sql optionally restricts to a subquery of unit ids (e.g. eligible units of a run); it may
    use :last and :upper, the bounds of the current window. Members carry "roles" and "_id"."""
    table = unit_table(scheme)
    dialect = session.get_bind().dialect.name
    decode_unit = decoder(scheme.fields if fields is None else [f for f in scheme.fields if f.name in set(fields)])
    member_decl = scheme.member_fields if member_fields is None else [
        f for f in scheme.member_fields if f.name in set(member_fields)]
    decode_member = decoder(member_decl) if member_decl else None
    where = "u.scheme_code = :code AND u.active = TRUE"
    if not scheme.is_household:
        where += " AND u.household_id IS NULL"
    window_sql = text(f"SELECT max(w.id) FROM (SELECT u.id FROM {table} u WHERE {where} AND u.id > :last "
                      f"ORDER BY u.id LIMIT :n) w")
    units_sql, members_sql = batch_queries(scheme, dialect, where + " AND u.id > :last AND u.id <= :upper", ids_sql,
                                           fields=fields, member_fields=member_fields)
    units_sql = text(units_sql)
    members_sql = text(members_sql) if members_sql else None
    base = dict(params or {}) | {"code": scheme.code}
    household = scheme.is_household
    ordered = dialect == "postgresql"  # string_agg(... ORDER BY ...) keeps the order; group_concat may not
    last = 0
    while True:
        upper = session.execute(window_sql, base | {"last": last, "n": batch}).scalar()
        if upper is None:
            return
        bounds = base | {"last": last, "upper": upper}
        units_text = session.execute(units_sql, bounds).scalar()
        members_text = session.execute(members_sql, bounds).scalar() if members_sql is not None else None
        with gc_paused():
            rows = json.loads(units_text or "[]")
            if not ordered:
                rows.sort()  # by id (unique): SQLite does not promise the order of group_concat
            roster: dict[int, list] = {}
            if members_text:
                for m in json.loads(members_text):
                    hid = m[0]
                    if hid in roster:
                        roster[hid].append(m)
                    else:
                        roster[hid] = [m]
            out = []
            for uid, data in rows:
                values = decode_unit(data)
                if household:
                    found = roster.get(uid)
                    if not found:
                        values["members"] = []
                    else:
                        if not ordered and len(found) > 1:
                            found.sort(key=_roster_order)
                        if decode_member is None:
                            values["members"] = [{"roles": m[3], "_id": m[1]} for m in found]
                        else:
                            values["members"] = [decode_member(m[4]) | {"roles": m[3], "_id": m[1]} for m in found]
                out.append((uid, values))
        if out:
            yield out
        last = upper
