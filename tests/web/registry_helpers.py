"""Shared data for the registry and form tests: places, households, form posts."""

from __future__ import annotations

import re

# region > district > ward > village, as tz-chf declares them (codes from its test data)
TZ_LOCATIONS = [
    ("DODOMA", "Dodoma", "region", None),
    ("KONGWA_DC", "Kongwa District Council", "district", "DODOMA"),
    ("BAHI_DC", "Bahi District Council", "district", "DODOMA"),
    ("MLALI", "Mlali", "ward", "KONGWA_DC"),
    ("BAHI_WARD", "Bahi", "ward", "BAHI_DC"),
    ("MLALI_BWAWANI", "Mlali Bwawani", "village", "MLALI"),
    ("BAHI_SOKONI", "Bahi Sokoni", "village", "BAHI_WARD"),
    ("PWANI", "Pwani", "region", None),
    ("KIBAHA_DC", "Kibaha District Council", "district", "PWANI"),
    ("KIBAHA_WARD", "Kibaha", "ward", "KIBAHA_DC"),
]
# np-hib: province > district > municipality > ward
NP_LOCATIONS = [
    ("BAGMATI", "Bagmati", "province", None),
    ("KATHMANDU", "Kathmandu", "district", "BAGMATI"),
    ("KATHMANDU_METRO", "Kathmandu Metropolitan City", "municipality", "KATHMANDU"),
    ("16", "Ward 16", "ward", "KATHMANDU_METRO"),
]


def seed_locations(app, rows=None) -> None:
    from openscheme.reference.locations import add_locations

    db = app.extensions["openscheme"].db
    with db.session_factory() as s, s.begin():
        add_locations(s, rows or TZ_LOCATIONS + NP_LOCATIONS)


def nafa_post(**overrides) -> dict:
    """A valid gm-nafa-quick registration as the browser posts it."""
    data = {
        "region": "URR", "district": "BSE", "village": "Sabi", "payment_channel": "cash_agent", "phone": "",
        "members-0-first_name": "Awa", "members-0-last_name": "Jallow", "members-0-sex": "F",
        "members-0-dob": "1980-02-01", "members-0-national_id": "123456789",
        "members-0-roles": ["head", "primary_recipient"],
        "members-1-first_name": "Lamin", "members-1-last_name": "Jallow", "members-1-sex": "M",
        "members-1-dob": "2005-05-05", "members-1-national_id": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def chf_post(village="MLALI_BWAWANI", ward="MLALI", district="KONGWA_DC", **overrides) -> dict:
    data = {
        "region": "DODOMA", "district": district, "ward": ward, "village": village,
        "phone": "+255754000111", "membership_number": "", "payment_method": "mobile_money",
        "members-0-first_name": "Juma", "members-0-last_name": "Mussa", "members-0-sex": "M",
        "members-0-dob": "1980-03-12", "members-0-nida_number": "", "members-0-roles": ["head"],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def chf_record(village="MLALI_BWAWANI", ward="MLALI", district="KONGWA_DC", first_name="Juma", nida=None) -> dict:
    """The same household in the record shape of the service and the API."""
    member = {"first_name": first_name, "last_name": "Mussa", "sex": "M", "dob": "1980-03-12", "roles": ["head"]}
    if nida:
        member["nida_number"] = nida
    return {"region": "DODOMA", "district": district, "ward": ward, "village": village,
            "payment_method": "cash", "members": [member]}


def register_direct(app, code: str, record: dict, username: str = "seed"):
    """Register through the service (no form), as the import would; returns the uid."""
    from openscheme.registry.service import Registry

    state = app.extensions["openscheme"]
    with state.db.session_factory() as s, s.begin():
        result = Registry(s, state.catalog, None, "en").register(code, record)
        assert result.ok, result.errors
        return result.record.uid


def field_error(html: str, field_id: str) -> str | None:
    """The error shown under a field (its <p id="<id>-error">), if any."""
    match = re.search(rf'id="{re.escape(field_id)}-error">([^<]*)<', html)
    return match.group(1) if match else None


def input_value(html: str, field_id: str) -> str | None:
    match = re.search(rf'<input id="{re.escape(field_id)}"[^>]*value="([^"]*)"', html)
    return match.group(1) if match else None
