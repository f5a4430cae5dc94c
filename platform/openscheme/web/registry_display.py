"""Showing stored records to people: labels, choice labels, place names, diffs.

The registry screens (registry_views.py) show values with the labels of the scheme
version a record was captured under, in the user's language. Place names for a
whole page of records are read in one query (`location_names`), never per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select

from .. import numformat
from ..definitions.model import Field, Scheme
from ..storage.models import Individual, Location


def location_names(session, codes) -> dict[str, str]:
    codes = sorted({c for c in codes if isinstance(c, str) and c})
    if not codes:
        return {}
    return dict(session.execute(select(Location.code, Location.name).where(Location.code.in_(codes))).all())


def location_codes(scheme: Scheme, data: dict, members=()) -> set[str]:
    codes = {data.get(f.name) for f in scheme.fields if f.type == "location"}
    for m in members:
        codes |= {m.get(f.name) for f in scheme.member_fields if f.type == "location"}
    return {c for c in codes if c}


def _blank(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def show_value(scheme: Scheme, f: Field | None, value, lang: str, places: dict[str, str]) -> str:
    """A stored value as text for people (choice labels, place names, Yes/No, amounts)."""
    if _blank(value):
        return ""
    fallback = scheme.default_language
    if f is None:
        return str(value)
    if f.type == "select_one":
        choice = f.choice(str(value))
        return choice.label.get(lang, fallback) if choice else str(value)
    if f.type == "select_multiple":
        items = value if isinstance(value, list) else [value]
        return ", ".join((f.choice(str(v)).label.get(lang, fallback) if f.choice(str(v)) else str(v)) for v in items)
    if f.type == "location":
        name = places.get(value)
        return f"{name} ({value})" if name else str(value)
    if f.type == "boolean" or isinstance(value, bool):
        return _("Yes") if value is True or str(value).lower() == "true" else _("No")
    if f.type == "money":
        try:
            return f"{numformat.number(Decimal(str(value)), lang, places=2)} {scheme.currency}"
        except InvalidOperation:
            return str(value)
    if f.type == "gps" and isinstance(value, dict):
        return f"{value.get('lat')}, {value.get('lon')}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def field_label(scheme: Scheme, name: str, lang: str) -> str:
    f = scheme.field(name)
    return f.label.get(lang, scheme.default_language) if f else name


def role_labels(scheme: Scheme, roles, lang: str) -> list[str]:
    labels = {r.name: r.label.get(lang, scheme.default_language) for r in scheme.roles}
    return [labels.get(r, r) for r in roles or []]


@dataclass
class Shown:
    label: str
    value: str


def shown_fields(scheme: Scheme, fields, data: dict, lang: str, places: dict[str, str]) -> list[Shown]:
    return [Shown(f.label.get(lang, scheme.default_language), show_value(scheme, f, data.get(f.name), lang, places))
            for f in fields]


NAME_FIELDS = ("first_name", "middle_name", "last_name")


def person_name(scheme: Scheme, data: dict, person_fields) -> str:
    """first/last name when declared, else the first two searchable text fields."""
    names = [str(data[n]) for n in NAME_FIELDS if data.get(n) and any(f.name == n for f in person_fields)]
    if not names:
        names = [str(data[f.name]) for f in person_fields
                 if f.searchable and f.value_type.value == "text" and data.get(f.name)][:2]
    return " ".join(names)


def head_of(scheme: Scheme, members: list[tuple[dict, list]]):
    """The member who names the household: the first role's holder, else the first member."""
    if not members:
        return None
    first_role = scheme.roles[0].name if scheme.roles else None
    for data, roles in members:
        if first_role and first_role in (roles or []):
            return data
    return members[0][0]


@dataclass
class ListRow:
    uid: str
    name: str
    place: str
    members: int | None
    active: bool
    created_at: object


def list_rows(session, scheme: Scheme, units) -> list[ListRow]:
    """Rows of the search list: two queries for the whole page (members, place names)."""
    members: dict[int, list[tuple[dict, list]]] = {}
    if scheme.is_household and units:
        rows = session.execute(select(Individual.household_id, Individual.data, Individual.roles)
                               .where(Individual.household_id.in_([u.id for u in units]),
                                      Individual.active.is_(True))
                               .order_by(Individual.household_id, Individual.position)).all()
        for household_id, data, roles in rows:
            members.setdefault(household_id, []).append((data or {}, roles or []))
    places = location_names(session, [u.location_code for u in units])
    out = []
    for u in units:
        if scheme.is_household:
            head = head_of(scheme, members.get(u.id, []))
            name = person_name(scheme, head or {}, scheme.member_fields) or person_name(scheme, u.data or {}, scheme.fields)
        else:
            name = person_name(scheme, u.data or {}, scheme.fields)
        place = places.get(u.location_code, u.location_code or "")
        out.append(ListRow(u.uid, name or u.uid, place, len(members.get(u.id, [])) if scheme.is_household else None,
                           u.active, u.created_at))
    return out


# ---- history ---------------------------------------------------------------------------


def flatten(snapshot: dict | None) -> dict[str, object]:
    """A snapshot from the audit trail as path -> value ('phone', 'members[1].dob', 'active')."""
    out: dict[str, object] = {}
    if not snapshot:
        return out
    for key, value in (snapshot.get("data") or {}).items():
        out[key] = value
    out["active"] = snapshot.get("active")
    for i, member in enumerate(snapshot.get("members") or []):
        for key, value in (member.get("data") or {}).items():
            out[f"members[{i}].{key}"] = value
        out[f"members[{i}].roles"] = list(member.get("roles") or [])
    return out


@dataclass
class Change:
    label: str
    before: str
    after: str


def changes(scheme: Scheme, before: dict | None, after: dict | None, lang: str, places: dict[str, str]) -> list[Change]:
    """What differs between two snapshots, with labels and shown values."""
    old, new = flatten(before), flatten(after)
    out = []
    for path in list(dict.fromkeys(list(old) + list(new))):
        a, b = old.get(path), new.get(path)
        if a == b or (_blank(a) and _blank(b)):
            continue
        label, name = path, path
        prefix = ""
        if path.startswith("members["):
            index, name = path[len("members["):].split("].", 1)
            prefix = _("Member %(n)s", n=int(index) + 1) + " · "
        if name == "active":
            label = _("Active")
        elif name == "roles":
            label = prefix + _("Roles")
            a, b = ", ".join(role_labels(scheme, a, lang)), ", ".join(role_labels(scheme, b, lang))
            out.append(Change(label, a, b))
            continue
        else:
            label = prefix + field_label(scheme, name, lang)
        f = scheme.field(name)
        out.append(Change(label, show_value(scheme, f, a, lang, places), show_value(scheme, f, b, lang, places)))
    return out


def snapshot_codes(scheme: Scheme, *snapshots) -> set[str]:
    codes: set[str] = set()
    location = {f.name for f in scheme.fields + scheme.member_fields if f.type == "location"}
    for snap in snapshots:
        for path, value in flatten(snap).items():
            if path.split(".")[-1] in location and isinstance(value, str):
                codes.add(value)
    return codes
