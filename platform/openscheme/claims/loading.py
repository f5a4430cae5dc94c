"""Loading what adjudication needs for a whole batch of claims, with a few set-based queries.

For N claims the queries are the same handful whatever N is (chunked by a few thousand):
  1. the insurees (birth date, sex, household) by id;
  2. the policies of their units (household or individual) for the benefit;
  3. the facilities, 4. their price lists;
  5. the benefit's earlier claim lines of the same people (of the whole household for
     household ceilings), from a year before the earliest claim;
  6. only for a benefit with `eligible_when`: the units' records (`applies.py`).
No query is made per claim. `Book.cover` and `Book.usage` then give the pure
`Adjudicator` its inputs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from ..definitions.model import Benefit, Scheme
from ..policies import terms
from ..storage.jsonpath import field_column
from ..storage.models import CatalogueEntry, Individual, PriceListEntry
from ..storage.models import Facility as FacilityRow
from ..storage.workflow_models import ClaimLineRecord, ClaimRecord, Policy
from .adjudication import Adjudicator, Applies, Cover, Facility, Person, Usage

CHUNK = 5000
BIG_CHUNK = 100_000  # PostgreSQL: ids go as one array parameter
COVERING = ("active", "expired")  # expired: a visit inside the term is still covered
HISTORY_EXCLUDED = ("entered", "submitted", "rejected")


def among(column, ids, dialect: str):
    """column IN ids: `= ANY(array)` on PostgreSQL (one parameter whatever the number of ids: an IN list of
    thousands of parameters costs more to build and parse than to run), IN elsewhere."""
    ids = list(ids)
    if dialect == "postgresql":
        from sqlalchemy import Integer, any_, bindparam
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(None, ids, type_=ARRAY(Integer)))
    return column.in_(ids)


def core(session):
    """The session's connection: column queries skip the ORM's row processing."""
    return session.connection()


def chunks(values, size: int = CHUNK):
    values = list(values)
    for i in range(0, len(values), size):
        yield values[i:i + size]


def person_fields(scheme: Scheme) -> tuple[str | None, str | None]:
    """The declared birth-date and sex fields (the presets name them dob and sex)."""
    fields = scheme.member_fields if scheme.is_household else scheme.fields
    names = {f.name: f for f in fields}
    birth = scheme.contributions.premium.birth_date_field if (
        scheme.contributions and scheme.contributions.premium and scheme.contributions.premium.birth_date_field) else None
    birth = birth if birth in names else next(
        (n for n in ("dob", "date_of_birth", "birth_date") if n in names),
        next((f.name for f in fields if f.type == "date" and "birth" in f.name), None))
    sex = next((n for n in ("sex", "gender") if n in names), None)
    return birth, sex


def as_date(value) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class PolicyRow:
    id: int
    status: str
    start: date | None
    expiry: date | None
    renewal_of: int | None


@dataclass
class Book:
    scheme: Scheme
    benefit: Benefit
    persons: dict[int, Person] = field(default_factory=dict)
    policies: dict[tuple[str, int], list[PolicyRow]] = field(default_factory=dict)
    facilities: dict[int, Facility] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    # covers already worked out: (unit, date) -> (Cover, policy); a household's lines share them
    covers: dict = field(default_factory=dict, repr=False)
    years: dict = field(default_factory=dict, repr=False)  # (policy start, date) -> policy year start
    values: dict = field(default_factory=dict, repr=False)  # unit -> typed record (benefits with eligible_when)
    changes: dict = field(default_factory=dict, repr=False)  # unit -> [(day recorded, values before)], since the dates
    applying: dict = field(default_factory=dict, repr=False)  # (unit, date) -> Applies

    def unit_key(self, person: Person) -> tuple[str, int]:
        if self.scheme.is_household:
            return ("household", person.household_id or 0)
        return ("individual", person.id)

    def cover(self, person: Person | None, when: date) -> tuple[Cover, PolicyRow | None]:
        if person is None:
            return Cover(active=False), None
        key = (self.unit_key(person), when)
        found = self.covers.get(key)
        if found is None:
            found = self.covers[key] = cover_from(self.scheme, self.policies.get(key[0], []), when, self.years)
        return found

    def applies(self, person: Person | None, when: date) -> Applies | None:
        """The benefit's eligible_when for the person's unit on that date (None: the benefit has none)."""
        if self.benefit.eligible_when is None or person is None:
            return None
        key = (self.unit_key(person), when)
        found = self.applying.get(key)
        if found is None:
            from .applies import benefit_applies, values_on

            values = values_on(self.values.get(key[0]), self.changes.get(key[0]), when)
            found = self.applying[key] = benefit_applies(self.scheme, self.benefit, values, when)
        return found


def cover_from(scheme: Scheme, rows: list[PolicyRow], when: date,
               years: dict | None = None) -> tuple[Cover, PolicyRow | None]:
    """The policy covering `when` (its start to its end plus the grace period) as a Cover;
    `years` caches the policy year of (policy start, date)."""
    if not rows:
        return Cover(active=False), None
    grace = timedelta(days=terms.grace_days(scheme))
    by_id = {r.id: r for r in rows}
    for r in sorted(rows, key=lambda r: r.start or date.min, reverse=True):
        if r.status not in COVERING or r.start is None or r.expiry is None:
            continue
        if r.start <= when <= r.expiry + grace:
            since = r.start
            prev = by_id.get(r.renewal_of) if r.renewal_of else None
            while prev is not None and prev.start is not None and prev.expiry is not None \
                    and prev.expiry + grace >= since - timedelta(days=1):
                since = prev.start  # renewed without a gap: waiting periods were served
                prev = by_id.get(prev.renewal_of) if prev.renewal_of else None
            if years is None:
                return Cover(True, since, terms.year_start(scheme, r.start, when)), r
            year = years.get((r.start, when), years)
            if year is years:
                year = years[(r.start, when)] = terms.year_start(scheme, r.start, when)
            return Cover(True, since, year), r
    return Cover(active=False), None


def load_persons(session, scheme: Scheme, ids) -> dict[int, Person]:
    dialect = session.get_bind().dialect.name
    birth, sex = person_fields(scheme)
    cols = [Individual.id, Individual.household_id,
            field_column("individuals", birth, dialect) if birth else Individual.id,
            field_column("individuals", sex, dialect) if sex else Individual.id]
    out = {}
    for chunk in chunks(ids):
        for pid, hid, dob, sx in core(session).execute(select(*cols).where(among(Individual.id, chunk, dialect))).all():
            out[pid] = Person(pid, as_date(dob) if birth else None, sx if sex else None, hid)
    return out


def load_policies(session, scheme: Scheme, benefit: Benefit, unit_keys) -> dict[tuple[str, int], list[PolicyRow]]:
    out: dict[tuple[str, int], list[PolicyRow]] = defaultdict(list)
    unit_type = "household" if scheme.is_household else "individual"
    ids = sorted({uid for _t, uid in unit_keys})
    dialect = session.get_bind().dialect.name
    for chunk in chunks(ids):
        rows = core(session).execute(select(Policy.id, Policy.unit_id, Policy.status, Policy.start_date, Policy.expiry_date,
                                      Policy.renewal_of_id)
                               .where(Policy.scheme_code == scheme.code, Policy.benefit_code.in_((benefit.code, "*")),
                                      Policy.unit_type == unit_type, among(Policy.unit_id, chunk, dialect))).all()
        for pid, unit_id, status, start, expiry, renewal_of in rows:
            out[(unit_type, unit_id)].append(PolicyRow(pid, status, start, expiry, renewal_of))
    return out


def load_facilities(session, ids) -> dict[int, Facility]:
    rows = []
    for chunk in chunks(ids):
        rows += core(session).execute(select(FacilityRow.id, FacilityRow.level, FacilityRow.care_type, FacilityRow.price_list_id)
                                .where(FacilityRow.id.in_(chunk))).all()
    lists = sorted({r.price_list_id for r in rows if r.price_list_id is not None})
    prices: dict[int, dict[str, Decimal]] = defaultdict(dict)
    if lists:
        for list_id, code, price in core(session).execute(
                select(PriceListEntry.price_list_id, CatalogueEntry.code, PriceListEntry.price)
                .join(CatalogueEntry, CatalogueEntry.id == PriceListEntry.catalogue_id)
                .where(PriceListEntry.price_list_id.in_(lists))):
            prices[list_id][code] = Decimal(price)
    return {r.id: Facility(r.id, r.level, r.care_type or "both",
                           dict(prices[r.price_list_id]) if r.price_list_id is not None else None) for r in rows}


def load_history(session, book: Book, adjudicator: Adjudicator, since: date, exclude: set[int]) -> None:
    """Earlier accepted lines of the same people (whole households) into the usage book."""
    scheme, benefit = book.scheme, book.benefit
    usage = book.usage
    dialect = session.get_bind().dialect.name
    size = BIG_CHUNK if dialect == "postgresql" else CHUNK
    # the people whose lines count: the batch's persons, or every member of their households. Their
    # ids filter the claims table itself (its index on individual_id), so the plan does not depend on
    # statistics that the batches themselves make stale (claims counted as still submitted).
    if scheme.is_household:
        households = sorted({p.household_id for p in book.persons.values() if p.household_id})
        household_of = {}
        for chunk in chunks(households, size):
            household_of.update(core(session).execute(select(Individual.id, Individual.household_id)
                                                      .where(among(Individual.household_id, chunk, dialect))).all())
    else:
        household_of = {pid: p.household_id for pid, p in book.persons.items()}
    cols = (ClaimRecord.id, ClaimRecord.individual_id, ClaimRecord.date_from,
            ClaimLineRecord.code, ClaimLineRecord.quantity_approved, ClaimLineRecord.valuated,
            ClaimLineRecord.co_payment, ClaimLineRecord.payable, ClaimLineRecord.reasons)
    base = (select(*cols).join(ClaimLineRecord, ClaimLineRecord.claim_id == ClaimRecord.id)
            .where(ClaimRecord.scheme_code == scheme.code, ClaimRecord.benefit_code == benefit.code,
                   ClaimRecord.status.notin_(HISTORY_EXCLUDED), ClaimLineRecord.status != "rejected",
                   ClaimRecord.date_from >= since))
    rows = []
    for chunk in chunks(sorted(household_of), size):
        rows += core(session).execute(base.where(among(ClaimRecord.individual_id, chunk, dialect))).all()
    missing = {r.individual_id for r in rows} - book.persons.keys()
    if missing:  # other members of the households: only their household is needed
        book.persons.update(load_persons(session, scheme, missing))
    for cid, pid, when, code, qty, valuated, co_pay, payable, reasons in rows:
        if cid in exclude:
            continue
        hid = household_of.get(pid)
        service = adjudicator.catalogue.get(code)
        if service is None:
            continue
        person = book.persons.get(pid) or Person(pid, None, None, hid)
        cover, _row = book.cover(person, when)
        year = cover.year_start
        q = Decimal(qty or 0)
        usage.count[(pid, code, year)] += q
        usage.category[(pid, service.category, year)] += 1
        usage.dates[(pid, code)].append(when)
        usage.day[(pid, code, when)] += q
        usage.month[(pid, code, (when.year, when.month))] += q
        paid = Decimal(payable or 0)
        usage.paid_person[(pid, year)] += paid
        if hid is not None:
            usage.paid_household[(hid, year)] += paid
        capped = any(x and x[0] == "R10" for x in (reasons or []))
        deductible = Decimal(valuated or 0) - Decimal(co_pay or 0) - paid
        if deductible > 0 and not capped:
            usage.deductible_person[(pid, year)] += deductible
            if hid is not None:
                usage.deductible_household[(hid, year)] += deductible


def load_book(session, scheme: Scheme, benefit: Benefit, adjudicator: Adjudicator, *, person_ids, facility_ids,
              dates, exclude_claims: set[int] | None = None) -> Book:
    book = Book(scheme, benefit)
    book.persons = load_persons(session, scheme, sorted(set(person_ids)))
    book.policies = load_policies(session, scheme, benefit, {book.unit_key(p) for p in book.persons.values()})
    book.facilities = load_facilities(session, sorted(set(facility_ids)))
    if benefit.eligible_when is not None:
        from .applies import load_changes, load_values

        units = {book.unit_key(p) for p in book.persons.values()}
        book.values = load_values(session, scheme, units)
        if dates:  # the records as they were on the dates of service (changes recorded since)
            book.changes = load_changes(session, scheme, units, min(dates))
    if dates:
        longest = max([s.limits.min_days_between or 0 for s in adjudicator.catalogue.values()] + [0])
        since = min(dates) - timedelta(days=max(400, longest + 1))
        load_history(session, book, adjudicator, since, exclude_claims or set())
    return book
