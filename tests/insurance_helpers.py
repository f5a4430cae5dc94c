"""Shared data for the insurance tests: places, facilities with price lists, ICD-10 codes,
and insured units of every insurance example (registered, enrolled and paid through the services)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

LOCATIONS = [
    ("DODOMA", "Dodoma", "region", None),
    ("KONGWA_DC", "Kongwa District Council", "district", "DODOMA"),
    ("BAHI_DC", "Bahi District Council", "district", "DODOMA"),
    ("MLALI", "Mlali", "ward", "KONGWA_DC"),
    ("MLALI_BWAWANI", "Mlali Bwawani", "village", "MLALI"),
    ("BAHI_WARD", "Bahi", "ward", "BAHI_DC"),
    ("BAHI_SOKONI", "Bahi Sokoni", "village", "BAHI_WARD"),
    ("BAGMATI", "Bagmati", "province", None),
    ("KATHMANDU", "Kathmandu", "district", "BAGMATI"),
    ("KATHMANDU_METRO", "Kathmandu Metropolitan City", "municipality", "KATHMANDU"),
    ("16", "Ward 16", "ward", "KATHMANDU_METRO"),
    ("CE", "Centre", "region", None),
]
# code, name, level, care type, location, price list (scheme, level) or None
FACILITIES = [
    ("DSP_MLALI", "Mlali Dispensary", "dispensary", "out_patient", "MLALI", ("tz-chf", "dispensary")),
    ("DSP_BAHI", "Bahi Dispensary", "dispensary", "out_patient", "BAHI_WARD", ("tz-chf", "dispensary")),
    ("DSP_SOKONI", "Sokoni Dispensary", "dispensary", "out_patient", "BAHI_WARD", ("tz-chf", "dispensary")),
    ("DH_KONGWA", "Kongwa District Hospital", "district_hospital", "both", "KONGWA_DC", ("tz-chf", "district_hospital")),
    ("KTM_PHCC", "Kathmandu PHCC", "primary_health_care_centre", "out_patient", "KATHMANDU_METRO", ("np-hib", None)),
    ("BIR_HOSPITAL", "Bir Hospital", "tertiary_hospital", "both", "KATHMANDU_METRO", ("np-hib", None)),
    ("SSF_HOSP", "Kathmandu Model Hospital", "hospital", "both", "KATHMANDU_METRO", None),
    ("HCY", "Hôpital Central de Yaoundé", "cta", "both", "CE", ("cm-hiv-waiver", None)),
]
ICD10 = [("B54", "Unspecified malaria", "I"), ("A09", "Diarrhoea and gastroenteritis", "I"),
         ("J06.9", "Acute upper respiratory infection, unspecified", "X"), ("O80", "Single spontaneous delivery", "XV"),
         ("Z34.9", "Supervision of normal pregnancy, unspecified", "XXI"), ("E11.9", "Type 2 diabetes", "IV"),
         ("S52.5", "Fracture of lower end of radius", "XIX"), ("B20", "HIV disease", "I")]

TODAY = date.today()
LONG_AGO = TODAY - timedelta(days=200)  # enrolled and paid then: waiting periods are over


def seed_insurance(app) -> dict[str, int]:
    """Places, catalogue, price lists, facilities and ICD-10 codes; returns facility code -> id."""
    from sqlalchemy import select

    from openscheme.reference.icd10 import load_icd10
    from openscheme.reference.locations import add_locations
    from openscheme.reference.seed import seed_catalogue
    from openscheme.storage.models import Facility, Location

    state = app.extensions["openscheme"]
    with state.db.session_factory() as s, s.begin():
        add_locations(s, LOCATIONS)
        catalogue = seed_catalogue(s, state.catalog.all_current())
        load_icd10(s, ICD10)
        places = {code: lid for code, lid in s.execute(select(Location.code, Location.id))}
        known = {code: fid for code, fid in s.execute(select(Facility.code, Facility.id))}
        for code, name, level, care, place, prices in FACILITIES:
            if code in known:
                continue
            price_list = catalogue.price_lists.get(prices[0], {}).get(prices[1]) if prices else None
            f = Facility(code=code, name=name, level=level, care_type=care, location_id=places[place],
                         price_list_id=price_list.id if price_list else None, active=True)
            s.add(f)
            s.flush()
            known[code] = f.id
        return known


def chf_household(members=None, district="KONGWA_DC", ward="MLALI", village="MLALI_BWAWANI", number=None) -> dict:
    """A household of three; with a membership number, the mother's NIDA number is derived from it (unique)."""
    nida = "19950701" + "".join(ch for ch in number if ch.isdigit()).rjust(12, "0") if number else "19950701411230000125"
    members = members or [
        {"first_name": "Juma", "last_name": "Mussa", "sex": "M", "dob": "1980-03-12", "roles": ["head"]},
        {"first_name": "Rehema", "last_name": "Juma", "sex": "F", "dob": "1995-07-01",
         "nida_number": nida},
        {"first_name": "Amani", "last_name": "Juma", "sex": "M", "dob": "2023-04-04"},
    ]
    data = {"region": "DODOMA", "district": district, "ward": ward, "village": village, "payment_method": "cash",
            "members": members}
    if number:
        data["membership_number"] = number
    return data


def hib_family() -> dict:
    return {"province": "BAGMATI", "district": "KATHMANDU", "municipality": "KATHMANDU_METRO", "ward": "16",
            "first_service_point": "KTM_PHCC", "ultra_poor": False, "members": [
                {"first_name": "Ram", "last_name": "Shrestha", "sex": "M", "dob": "1970-04-14",
                 "id_document": "citizenship", "id_number": "27-01-70-01234", "roles": ["head"]},
                {"first_name": "Sita", "last_name": "Shrestha", "sex": "F", "dob": "1974-08-20",
                 "id_document": "citizenship", "id_number": "27-01-74-05678"}]}


def ssf_employee(number="2024001234", wage=50000, employer="E004512", first_name="Sunita") -> dict:
    return {"first_name": first_name, "last_name": "Karki", "sex": "F", "dob": "1990-03-15", "ssf_number": number,
            "employer_name": "Himal Textiles Pvt. Ltd.", "employer_number": employer, "sector": "private_company",
            "employment_status": "active", "employment_start": "2019-04-01", "monthly_wage": wage}


def hiv_patient() -> dict:
    return {"first_name": "Marie", "last_name": "Ngo Bassa", "sex": "F", "dob": "1986-04-12", "region": "CE",
            "facility": "HCY", "hiv_status": "confirmed_positive", "diagnosis_date": "2019-02-10",
            "art_number": "HCY-2019-00123", "art_start_date": "2019-02-24", "consent": True}


RECORDS = {"tz-chf": chf_household, "np-hib": hib_family, "np-ssf": ssf_employee, "cm-hiv-waiver": hiv_patient}


def staff(session, role: str):
    """A user holding one role everywhere (created once per test database)."""
    from sqlalchemy import select

    from openscheme.reference.users import create_user
    from openscheme.storage.models import User

    user = session.scalar(select(User).where(User.username == f"svc-{role}"))
    return user or create_user(session, f"svc-{role}", "secret-pass", roles=[(role, None, None)],
                               hash_method="pbkdf2:sha256:1000")


def insured(app, code: str, data: dict | None = None, enrolled_on: date | None = None, pay: bool = True,
            reference: str | None = None):
    """Register a unit, enrol it into the scheme's (first) insurance benefit and pay, so that it is covered
    today for at least 100 days (renewed without a gap when the insurance year began recently);
    returns (unit uid, policy id)."""
    from openscheme.policies import terms
    from openscheme.policies.formal import shares as wage_shares
    from openscheme.policies.service import Policies
    from openscheme.registry.service import Registry

    state = app.extensions["openscheme"]
    scheme = state.catalog.current(code)
    with state.db.session_factory() as s, s.begin():
        result = Registry(s, state.catalog, None, "en").register(code, data or RECORDS[code]())
        assert result.ok, result.errors
        unit = result.record
        policies = Policies(s, state.catalog, staff(s, "enrolment_officer"))
        year = terms.scheme_year(scheme, TODAY)
        renew_on = None
        if enrolled_on is None:
            enrolled_on = LONG_AGO
            if year is not None and not terms.is_monthly(scheme):
                enrolled_on = year[0]
                if (TODAY - year[0]).days < 100:
                    renew_on = year[0] - timedelta(days=5)
                    enrolled_on = terms.scheme_year(scheme, renew_on - timedelta(days=30))[0]
        policy = policies.enrol(code, unit, None, enrolled_on)

        def pay_premium(p, on, ref):
            if p.premium > 0:
                policies.record_payment(p, p.premium, scheme.contributions.payment_methods[0], ref, on)

        if pay:
            if terms.is_monthly(scheme):
                shares = wage_shares(scheme, unit)
                for period in terms.months_between(enrolled_on, TODAY):
                    for payer in ("employer", "employee"):
                        policies.record_payment(policy, shares[payer], scheme.contributions.payment_methods[0],
                                                f"{unit.uid}-{period}-{payer}", enrolled_on, payer=payer, period=period)
            else:
                pay_premium(policy, enrolled_on, reference or f"R-{unit.uid}")
                if renew_on is not None:
                    policy = policies.renew(policy, renew_on)
                    pay_premium(policy, renew_on, f"R2-{unit.uid}")
        return unit.uid, policy.id


def person_uid(app, unit_uid: str, position: int = 0) -> str:
    from sqlalchemy import select

    from openscheme.storage.models import Household, Individual

    state = app.extensions["openscheme"]
    with state.db.session_factory() as s:
        if unit_uid.startswith("P"):
            return unit_uid
        hid = s.scalar(select(Household.id).where(Household.uid == unit_uid))
        return s.scalar(select(Individual.uid).where(Individual.household_id == hid, Individual.position == position))


def money(x) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.01"))
