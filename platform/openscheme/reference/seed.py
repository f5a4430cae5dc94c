"""Illustrative reference data for the demo: locations, facilities, catalogue, price lists, users.

Everything here is idempotent: a row whose code (or name, for price lists; username, for
users) exists already is left as it is, so `openscheme demo` can run again without
duplicating anything or overwriting what an administrator changed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from ..definitions.model import Scheme
from ..storage.models import CatalogueEntry, Facility, Location, PriceList, PriceListEntry, User
from .locations import add_locations
from .users import create_user

DATA = Path(__file__).resolve().parent / "data"


def read_data_csv(path: Path) -> list[dict[str, str]]:
    """A CSV data file with a header row; lines starting with # are comments."""
    with Path(path).open(encoding="utf-8", newline="") as f:
        lines = [line for line in f if line.strip() and not line.startswith("#")]
    return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(lines)]


# ---- locations and facilities ------------------------------------------------------------


def seed_locations(session, path: Path = DATA / "locations.csv") -> int:
    """Adds the locations of the file that are missing; returns how many were added."""
    rows = [(r["code"], r["name"], r["level"], r["parent"] or None) for r in read_data_csv(path)]
    before = session.scalar(select(func.count()).select_from(Location))
    add_locations(session, rows)
    return session.scalar(select(func.count()).select_from(Location)) - before


def seed_facilities(session, price_lists: dict[str, dict[str | None, PriceList]],
                    path: Path = DATA / "facilities.csv") -> int:
    known = set(session.scalars(select(Facility.code)))
    locations = {code: lid for code, lid in session.execute(select(Location.code, Location.id))}
    added = 0
    for row in read_data_csv(path):
        if row["code"] in known:
            continue
        if row["location"] not in locations:
            raise ValueError(f"facility {row['code']}: unknown location {row['location']}")
        lists = price_lists.get(row["scheme"] or "", {})
        price_list = lists.get(row["level"]) or lists.get(None)
        session.add(Facility(code=row["code"], name=row["name"], level=row["level"],
                             care_type=row["care_type"] or "both", location_id=locations[row["location"]],
                             price_list_id=price_list.id if price_list else None, active=True))
        added += 1
    session.flush()
    return added


# ---- catalogue and price lists ---------------------------------------------------------------


@dataclass
class CatalogueResult:
    entries_added: int = 0
    price_lists_added: int = 0
    # scheme code -> facility level (None: any level) -> price list
    price_lists: dict | None = None


def _price(service, table, level) -> Decimal | None:
    if service.price_table and table is not None and level is not None:
        row = table.rows.get(level)
        if row is not None and row.get(service.price_column) is not None:
            return Decimal(str(row[service.price_column]))
        return None
    return service.price


def seed_catalogue(session, schemes: list[Scheme]) -> CatalogueResult:
    """A catalogue entry for every service and item of the insurance benefits, and their price lists.

    A benefit whose prices depend on the facility level (`price_from` a table keyed by level)
    gets one price list per level ("tz-chf / chf_cover / dispensary"); others get one list.
    """
    result = CatalogueResult(price_lists={})
    entries = {e.code: e for e in session.scalars(select(CatalogueEntry))}
    lists = {p.name: p for p in session.scalars(select(PriceList))}
    for scheme in schemes:
        for benefit in scheme.benefits:
            services = list(benefit.services) + list(benefit.items)
            if benefit.kind != "insurance" or not services:
                continue
            for s in services:
                if s.code not in entries:
                    entry = CatalogueEntry(code=s.code, name=s.label.get("en")[:255], kind="item" if s.is_item else "service",
                                           category=s.category or "other", care_type=s.care_type or "both")
                    session.add(entry)
                    entries[s.code] = entry
                    result.entries_added += 1
            session.flush()
            tables = {s.price_table for s in services if s.price_table}
            table = scheme.tables.get(next(iter(tables))) if len(tables) == 1 else None
            levels: list[str | None] = [None]
            if table is not None:
                levels = [lv for lv in (benefit.facility_levels or tuple(table.rows)) if lv in table.rows] or [None]
            for level in levels:
                name = f"{scheme.code} / {benefit.code}" + (f" / {level}" if level else "")
                price_list = lists.get(name[:128])
                if price_list is None:
                    price_list = PriceList(name=name[:128], currency=scheme.currency, valid_from=scheme.period_start)
                    session.add(price_list)
                    session.flush()
                    for s in services:
                        price = _price(s, table, level)
                        if price is not None:
                            session.add(PriceListEntry(price_list_id=price_list.id, catalogue_id=entries[s.code].id,
                                                       price=price))
                    lists[price_list.name] = price_list
                    result.price_lists_added += 1
                # a facility has one list: the scheme's first benefit's (a second benefit uses its own facilities)
                result.price_lists.setdefault(scheme.code, {}).setdefault(level, price_list)
    session.flush()
    return result


# ---- users ---------------------------------------------------------------------------------

# username, role, scheme, location, description, the person's name (shown at the top of every page:
# a name, not a role, so that it reads the same in every language)
DEMO_USERS = [
    ("admin", "administrator", None, None, "administrator: reference data, users (/admin)", "Grace Mwakyusa"),
    ("implementer", "implementer", None, None, "implementer: schemes and their versions", "Samuel Otieno"),
    ("enrolment", "enrolment_officer", None, None, "enrolment officer, every scheme and place", "Amina Juma"),
    ("kongwa", "enrolment_officer", "tz-chf", "KONGWA_DC", "enrolment officer, iCHF, Kongwa district only",
     "Baraka Mollel"),
    ("clerk", "facility_clerk", None, None, "facility clerk", "Neema Shirima"),
    ("reviewer", "claims_reviewer", None, None, "claims reviewer", "Joseph Kimaro"),
    ("payments", "payment_officer", None, None, "payment officer", "Fatou Jallow"),
    ("approver", "payment_officer", None, None, "second payment officer: approves what 'payments' prepared",
     "Lamin Ceesay"),
    ("analyst", "analyst", None, None, "analyst", "Sita Karki"),
    ("auditor", "auditor", None, None, "auditor", "Aïssatou Bouba"),
]


def demo_password(username: str) -> str:
    return f"{username}-demo"


@dataclass
class DemoUser:
    username: str
    password: str
    description: str
    created: bool


def seed_users(session, hash_method: str = "scrypt", known_schemes: set[str] | None = None) -> list[DemoUser]:
    existing = set(session.scalars(select(User.username)))
    out = []
    for username, role, scheme, location, description, name in DEMO_USERS:
        if scheme and known_schemes is not None and scheme not in known_schemes:
            continue
        created = username not in existing
        if created:
            create_user(session, username, demo_password(username), roles=[(role, scheme, location)],
                        full_name=name, hash_method=hash_method)
        out.append(DemoUser(username, demo_password(username), description, created))
    return out
