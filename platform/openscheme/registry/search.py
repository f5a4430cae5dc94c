"""Finding beneficiaries fast at millions of rows.

Each search term becomes a few index-backed queries - the record id, every
unique field (exact), every searchable text field (prefix, case-insensitive) -
whose ids are merged; no query scans the table. The declared indexes are partial
(one scheme's rows), so the queries name the scheme with a literal; SQLite is
also told which index to use (`INDEXED BY`), PostgreSQL's prefix ranges are in the
"C" collation like their indexes (`storage.indexes`). Location scope is a range on the
materialised path ('/TZ/DSM/' <= path < '/TZ/DSM0'), which the
(scheme_code, location_path) index answers. Pages are fetched with LIMIT n+1 and
no COUNT(*), which costs a full scan at this size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, text

from ..definitions.model import Scheme
from ..storage.indexes import CODE_RE, index_name, table_for
from ..storage.jsonpath import field_sql
from ..storage.models import Household, Individual

UID_RE = re.compile(r"^[HP][0-9A-Z]{10}$")


def path_range(column, path: str):
    """column within the subtree at `path` (paths end with '/')."""
    if not path or path == "/":
        return True
    upper = path[:-1] + chr(ord(path[-1]) + 1)
    return and_(column >= path, column < upper)


def scope_filter(column, paths: list[str] | None):
    if paths is None or "/" in paths:
        return True
    if not paths:
        return False
    return or_(*[path_range(column, p) for p in paths])


@dataclass
class Page:
    rows: list
    page: int
    has_more: bool


def unit_model(scheme: Scheme):
    return Household if scheme.is_household else Individual


def matching_ids(session, scheme: Scheme, q: str) -> set[int]:
    dialect = session.get_bind().dialect.name
    ids: set[int] = set()
    # the declared indexes are partial (`WHERE scheme_code = '<code>'`): a database uses one only when
    # the query names the scheme with a literal (SQLite always, PostgreSQL with a generic plan)
    code = scheme.code
    if not CODE_RE.match(code):
        raise ValueError(f"unexpected scheme code {code!r}")
    term = q.strip()
    if UID_RE.match(term.upper()):
        if term.upper().startswith("H") and scheme.is_household:
            ids |= set(session.scalars(select(Household.id).where(Household.uid == term.upper())))
        elif term.upper().startswith("P"):
            rows = session.execute(select(Individual.id, Individual.household_id).where(Individual.uid == term.upper())).all()
            ids |= {hh if scheme.is_household else pid for pid, hh in rows if (hh if scheme.is_household else pid)}
    lowered = term.lower()
    upper = lowered[:-1] + chr(ord(lowered[-1]) + 1) if lowered else lowered
    collate = ' COLLATE "C"' if dialect == "postgresql" else ""
    for f in scheme.fields + scheme.member_fields:
        if not (f.unique or f.searchable):
            continue
        table = table_for(scheme, f)
        expr = field_sql(table, f.name, dialect)
        queries = []  # (declared index or None, condition, parameters)
        if f.value_type.value == "text" and f.searchable:
            queries.append(("ix", f"lower({expr}){collate} >= :lo AND lower({expr}){collate} < :hi",
                            {"lo": lowered, "hi": upper}))
        if f.unique or not queries:
            queries.append(("ux" if f.unique else None, f"{expr} = :exact", {"exact": term}))
        column = "household_id" if table == "individuals" and scheme.is_household else "id"
        for kind, cond, params in queries:
            # SQLite is told which index: without statistics it would rather walk the scheme's rows
            hint = f" INDEXED BY {index_name(kind, table, code, f.name)}" if kind and dialect == "sqlite" else ""
            sql = f"SELECT {column} FROM {table}{hint} WHERE scheme_code = '{code}' AND {cond} LIMIT 500"
            ids |= {r[0] for r in session.execute(text(sql), params) if r[0] is not None}
    return ids


def search(session, scheme: Scheme, q: str = "", *, scope_paths: list[str] | None = None, page: int = 1,
           page_size: int = 25, include_inactive: bool = False) -> Page:
    model = unit_model(scheme)
    query = select(model).where(model.scheme_code == scheme.code)
    if model is Individual:
        query = query.where(Individual.household_id.is_(None))
    query = query.where(scope_filter(model.location_path, scope_paths))
    if not include_inactive:
        query = query.where(model.active.is_(True))
    if q and q.strip():
        ids = matching_ids(session, scheme, q)
        if not ids:
            return Page([], page, False)
        query = query.where(model.id.in_(ids))
    query = query.order_by(model.id.desc()).offset((page - 1) * page_size).limit(page_size + 1)
    rows = list(session.scalars(query))
    return Page(rows[:page_size], page, len(rows) > page_size)
