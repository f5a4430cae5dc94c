"""Finding an insured person by insurance number (the person's id, as printed on the card and in its
QR code) or by any identity number the scheme declares (`type: national_id` fields, of the person or
of the household, such as a membership card number). A scanned QR code may bring surrounding text
(a URL, a prefix): the id is taken out of it."""

from __future__ import annotations

import re

from sqlalchemy import select, text

from ..definitions.model import Scheme
from ..storage.jsonpath import field_sql
from ..storage.models import Household, Individual

UID_IN_TEXT = re.compile(r"(?<![0-9A-Z])([HP][0-9ABCDEFGHJKMNPQRSTVWXYZ]{10})(?![0-9A-Z])")
LIMIT = 20


def uid_in(text_: str) -> str | None:
    match = UID_IN_TEXT.search((text_ or "").upper())
    return match.group(1) if match else None


def id_fields(scheme: Scheme):
    """(table, field name, is a household field) of the declared identity numbers."""
    out = []
    for f in scheme.fields:
        if f.type == "national_id":
            out.append(("households" if scheme.is_household else "individuals", f.name, scheme.is_household))
    for f in scheme.member_fields:
        if f.type == "national_id":
            out.append(("individuals", f.name, False))
    return out


def find_people(session, schemes: list[Scheme], query: str) -> list[tuple[Scheme, Individual]]:
    """The active people of these schemes whose id or identity number is `query` (exact)."""
    q = " ".join((query or "").split())
    if not q:
        return []
    by_code = {s.code: s for s in schemes}
    found: list[tuple[Scheme, Individual]] = []
    uid = uid_in(q)
    if uid:
        if uid.startswith("P"):
            people = list(session.scalars(select(Individual).where(Individual.uid == uid)))
        else:
            people = list(session.scalars(select(Individual).join(Household, Household.id == Individual.household_id)
                                          .where(Household.uid == uid).order_by(Individual.position)))
        found += [(by_code[p.scheme_code], p) for p in people if p.scheme_code in by_code and p.active]
        if found:
            return found[:LIMIT]
    dialect = session.get_bind().dialect.name
    for scheme in schemes:
        for table, name, household_field in id_fields(scheme):
            expr = field_sql(table, name, dialect)
            ids = [r[0] for r in session.execute(
                text(f"SELECT id FROM {table} WHERE scheme_code = :code AND {expr} = :v LIMIT {LIMIT}"),
                {"code": scheme.code, "v": q})]
            if not ids:
                continue
            if household_field:
                people = session.scalars(select(Individual).where(Individual.household_id.in_(ids))
                                         .order_by(Individual.household_id, Individual.position))
            else:
                people = session.scalars(select(Individual).where(Individual.id.in_(ids)))
            found += [(scheme, p) for p in people if p.active]
    seen, out = set(), []
    for scheme, p in found:
        if p.id not in seen:
            seen.add(p.id)
            out.append((scheme, p))
    return out[:LIMIT]


def display_name(person: Individual) -> str:
    data = person.data or {}
    parts = [str(data.get(k)) for k in ("first_name", "middle_name", "last_name") if data.get(k)]
    return " ".join(parts) or str(data.get("name") or data.get("full_name") or person.uid)
