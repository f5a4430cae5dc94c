"""Reading units of a scheme in batches, typed, with their members - for the Python path of
registry-wide runs (rules or amounts the SQL compiler cannot translate).

Keyset pagination (id > last) and one members query per batch: two queries per
few thousand units, never one per unit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import text

from ..definitions.model import Scheme
from ..registry.values import decoder

BATCH = 5000


def unit_table(scheme: Scheme) -> str:
    return "households" if scheme.is_household else "individuals"


def iter_units(session, scheme: Scheme, *, ids_sql: str | None = None, params: dict | None = None,
               batch: int = BATCH) -> Iterator[list[tuple[int, dict]]]:
    """Batches of (unit id, typed values incl. members) for the scheme's active units.

    ids_sql optionally restricts to a subquery of unit ids (e.g. eligible units of a run)."""
    table = unit_table(scheme)
    decode_unit = decoder(scheme.fields)
    decode_member = decoder(scheme.member_fields)
    where = "u.scheme_code = :code AND u.active = TRUE"
    if not scheme.is_household:
        where += " AND u.household_id IS NULL"
    if ids_sql:
        where += f" AND u.id IN ({ids_sql})"
    last = 0
    base = dict(params or {}) | {"code": scheme.code}
    while True:
        rows = session.execute(text(f"SELECT u.id, u.data FROM {table} u WHERE {where} AND u.id > :last "
                                    f"ORDER BY u.id LIMIT :n"), base | {"last": last, "n": batch}).all()
        if not rows:
            return
        members = defaultdict(list)
        if scheme.is_household:
            ids = [r[0] for r in rows]
            for pid, hid, data, roles in session.execute(text(
                    "SELECT id, household_id, data, roles FROM individuals WHERE household_id IN "
                    f"({', '.join(str(int(i)) for i in ids)}) AND active = TRUE ORDER BY household_id, position, id")):
                # "_id" is not a field name (fields start with a letter): formulas cannot see it
                members[hid].append(decode_member(_json(data)) | {"roles": list(_json(roles) or []), "_id": pid})
        out = []
        for uid, data in rows:
            values = decode_unit(_json(data))
            if scheme.is_household:
                values["members"] = members.get(uid, [])
            out.append((uid, values))
        yield out
        last = rows[-1][0]


def _json(value):
    if isinstance(value, str):
        import json

        return json.loads(value)
    return value
