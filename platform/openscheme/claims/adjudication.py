"""Automated claim adjudication, driven only by the scheme's insurance benefit.

Pure: it takes the claim, the insuree's cover, the facility and the insuree's
past use, and returns a decision per line with reason codes and a plain
explanation; the database layer loads those inputs for a whole batch with a few
set-based queries and writes the decisions back. The checks cover at least what
openIMIS hard-codes:

  R01 service or item not covered by the benefit      R07 quantity above the per-visit limit (reduced)
  R02 not on the facility's price list                R08 waiting period not over
  R03 no active cover on the date                     R09 care type not offered / not allowed
  R04 age or gender not allowed                       R10 ceiling reached (amount reduced)
  R05 too soon after the previous one                 R11 duplicate (same person, service, date)
  R06 maximum number per period reached               R12 facility level not in the benefit
  R13 the benefit's `eligible_when` is false for the insuree's unit on the date of service

Each reason is (code, English text, detail key, params): `reasons.py` says it again in
the reader's language.

Valuation: price (facility price list, else the scheme's price or price table by
facility level) x approved quantity, minus co-payment, minus what remains of the
deductible, capped by the remaining ceilings. Money is Decimal throughout.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from ..definitions.model import Benefit, Scheme, Service
from ..formulas.functions import years_between
from .reasons import TITLES, reason

CENT = Decimal("0.01")
REASONS = {code: texts["en"] for code, texts in TITLES.items() if code != "REV"}


def money(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def quantity_text(x: Decimal) -> str:
    """A quantity in a reason, the same whether it was counted in this batch or loaded from the
    database (numeric(12,2): 4.00): 4, 2.5."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Cover:
    """The insuree's policy as of the claim date."""

    active: bool
    start: date | None = None  # when cover began (waiting periods count from here)
    year_start: date | None = None  # start of the current policy year (counts and ceilings reset)


@dataclass(frozen=True)
class Applies:
    """Whether the benefit's `eligible_when` holds for the insuree's unit on the date of service
    (the database layer evaluates it), with the values it read, for the explanation."""

    ok: bool
    condition: str = ""
    values: tuple[tuple[str, object], ...] = ()  # (name, JSON value) of the unit's fields the formula read
    error: str = ""  # in English
    error_data: object = None  # the error as data, said in the reader's language (`FormulaRuntimeError.as_param`)


@dataclass(frozen=True)
class Person:
    id: int
    birth_date: date | None
    sex: str | None
    household_id: int | None = None


@dataclass(frozen=True)
class Facility:
    id: int
    level: str
    care_type: str = "both"  # out_patient | in_patient | both
    prices: Mapping[str, Decimal] | None = None  # the facility's price list; None: the scheme's prices


@dataclass(frozen=True)
class Line:
    code: str
    quantity: Decimal = Decimal(1)
    price_asked: Decimal | None = None


@dataclass(frozen=True)
class Claim:
    key: str
    person: Person
    facility: Facility
    date_from: date
    care_type: str  # out_patient | in_patient
    lines: tuple[Line, ...]
    date_to: date | None = None
    diagnosis: str = ""


@dataclass
class LineDecision:
    code: str
    status: str  # accepted | adjusted | rejected
    quantity: Decimal  # approved
    price: Decimal
    quantity_asked: Decimal = Decimal(0)
    price_asked: Decimal | None = None
    valuated: Decimal = Decimal(0)  # price x approved quantity
    co_payment: Decimal = Decimal(0)
    deductible: Decimal = Decimal(0)
    payable: Decimal = Decimal(0)
    reasons: list[tuple] = field(default_factory=list)  # (code, English text, detail key, params)

    def reject(self, code: str, key: str | None = None, /, **params) -> None:
        self.status = "rejected"
        self.quantity = Decimal(0)
        self.reasons.append(reason(code, key, **params))

    def adjust(self, code: str, key: str | None = None, /, **params) -> None:
        if self.status != "rejected":
            self.status = "adjusted"
        self.reasons.append(reason(code, key, **params))


@dataclass
class ClaimDecision:
    key: str
    lines: list[LineDecision]
    reasons: list[tuple] = field(default_factory=list)

    @property
    def status(self) -> str:
        if all(line.status == "rejected" for line in self.lines):
            return "rejected"
        return "adjusted" if any(line.status != "accepted" for line in self.lines) else "accepted"

    @property
    def payable(self) -> Decimal:
        return sum((line.payable for line in self.lines), Decimal(0))

    @property
    def asked(self) -> Decimal:
        return sum(((line.price_asked or line.price) * line.quantity_asked for line in self.lines), Decimal(0))


class Usage:
    """What an insuree (and their household) already used this policy year.

    Loaded for a batch by the database layer, then updated as claims are accepted so
    that limits count the claims earlier in the same batch too."""

    def __init__(self):
        self.count = defaultdict(Decimal)  # (person, code, year_start) -> quantity
        self.category = defaultdict(Decimal)  # (person, category, year_start) -> visits
        self.dates = defaultdict(list)  # (person, code) -> [dates]
        self.day = defaultdict(Decimal)  # (person, code, date) -> quantity
        self.month = defaultdict(Decimal)  # (person, code, (year, month)) -> quantity
        self.paid_person = defaultdict(Decimal)  # (person, year_start) -> paid
        self.paid_household = defaultdict(Decimal)  # (household, year_start) -> paid
        self.deductible_person = defaultdict(Decimal)
        self.deductible_household = defaultdict(Decimal)

    def record(self, claim: Claim, service: Service, decision: LineDecision, year: date | None) -> None:
        pid, code, d = claim.person.id, service.code, claim.date_from
        q = decision.quantity
        self.count[(pid, code, year)] += q
        self.category[(pid, service.category, year)] += 1
        self.dates[(pid, code)].append(d)
        self.day[(pid, code, d)] += q
        self.month[(pid, code, (d.year, d.month))] += q


class Adjudicator:
    """Adjudicates claims against one insurance benefit of a scheme."""

    def __init__(self, scheme: Scheme, benefit: Benefit):
        if benefit.kind != "insurance":
            raise ValueError(f"{benefit.code} is not an insurance benefit")
        self.scheme = scheme
        self.benefit = benefit
        self.catalogue: dict[str, Service] = {s.code: s for s in benefit.services + benefit.items}

    # ---- prices ---------------------------------------------------------------------

    def price(self, service: Service, facility: Facility) -> Decimal | None:
        if facility.prices is not None:
            return facility.prices.get(service.code)
        if service.price is not None:
            return service.price
        table = self.scheme.tables.get(service.price_table or "")
        row = table.rows.get(facility.level) if table else None
        value = row.get(service.price_column) if row else None
        return Decimal(value) if value is not None else None

    # ---- the checks -------------------------------------------------------------------

    def adjudicate(self, claim: Claim, cover: Cover, usage: Usage, applies: Applies | None = None) -> ClaimDecision:
        """`applies`: the benefit's eligible_when for the insuree's unit on the date of service
        (None: the benefit has none, or the caller did not check it)."""
        b = self.benefit
        decision = ClaimDecision(claim.key, [])
        claim_reasons: list[tuple] = []
        if not cover.active:
            claim_reasons.append(reason("R03"))
        if b.facility_levels and claim.facility.level not in b.facility_levels:
            claim_reasons.append(reason("R12", "level", level=claim.facility.level))
        if claim.facility.care_type not in ("both", claim.care_type):
            claim_reasons.append(reason("R09", "facility_care", care=claim.care_type))
        not_applying = None
        if applies is not None and not applies.ok:
            not_applying = reason("R13", "eligible_when_error", condition=applies.condition,
                                  error=applies.error_data or applies.error) \
                if applies.error else reason("R13", "eligible_when", condition=applies.condition,
                                             values=[list(v) for v in applies.values])
        decision.reasons = claim_reasons
        age = years_between(claim.person.birth_date, claim.date_from) if claim.person.birth_date else None
        year = cover.year_start
        for line in claim.lines:
            service = self.catalogue.get(line.code)
            price = self.price(service, claim.facility) if service else None
            d = LineDecision(line.code, "accepted", line.quantity, price if price is not None else Decimal(0),
                             line.quantity, line.price_asked)
            decision.lines.append(d)
            for r in claim_reasons:
                d.status = "rejected"
                d.quantity = Decimal(0)
                d.reasons.append(r)
            if d.status == "rejected":
                continue
            if service is None:
                d.reject("R01", "code", code=line.code)
                continue
            if not_applying is not None:  # the service is this benefit's, which does not apply to the patient
                d.status, d.quantity = "rejected", Decimal(0)
                d.reasons.append(not_applying)
                continue
            if price is None:
                d.reject("R02", "code", code=line.code)
                continue
            self.check_line(claim, service, d, cover, usage, age, year)
            if d.status != "rejected":
                usage.record(claim, service, d, year)
        self.valuate(claim, decision, usage, year)
        return decision

    def check_line(self, claim: Claim, s: Service, d: LineDecision, cover: Cover, usage: Usage,
                   age: int | None, year: date | None) -> None:
        pid, when = claim.person.id, claim.date_from
        if s.care_type not in ("both", claim.care_type):
            d.reject("R09", "service_care", code=s.code, care=s.care_type)
            return
        if s.genders and claim.person.sex not in s.genders:
            d.reject("R04", "genders", code=s.code, genders="/".join(s.genders))
            return
        if (s.min_age is not None or s.max_age is not None) and age is None:
            d.reject("R04", "no_birth_date")
            return
        if s.min_age is not None and age < s.min_age:
            d.reject("R04", "min_age", code=s.code, min=s.min_age, age=age)
            return
        if s.max_age is not None and age > s.max_age:
            d.reject("R04", "max_age", code=s.code, max=s.max_age, age=age)
            return
        waiting = s.waiting_period_days if s.waiting_period_days is not None else self.benefit.waiting_period_days
        if waiting and cover.start is not None and (when - cover.start).days < waiting:
            left = waiting - (when - cover.start).days
            d.reject("R08", "waiting", left=left, days=waiting)
            return
        if usage.day[(pid, s.code, when)] > 0 and s.limits.per_day is None:
            d.reject("R11", "same_day", code=s.code, date=when.isoformat())
            return
        lim = s.limits
        if lim.min_days_between:
            recent = [x for x in usage.dates[(pid, s.code)] if abs((when - x).days) < lim.min_days_between]
            if recent:
                d.reject("R05", "days_apart", code=s.code, days=lim.min_days_between, date=max(recent).isoformat())
                return
        if lim.per_visit is not None and d.quantity > lim.per_visit:
            d.adjust("R07", "per_visit", code=s.code, limit=lim.per_visit, asked=quantity_text(d.quantity))
            d.quantity = Decimal(lim.per_visit)
        for period, used, limit in (
            ("day", usage.day[(pid, s.code, when)], lim.per_day),
            ("month", usage.month[(pid, s.code, (when.year, when.month))], lim.per_month),
            ("year", usage.count[(pid, s.code, year)], lim.per_year),
            ("policy", usage.count[(pid, s.code, year)], lim.per_policy),
        ):
            if limit is None:
                continue
            left = Decimal(limit) - used
            if left <= 0:
                d.reject("R06", "limit_used", code=s.code, limit=limit, period=period, used=quantity_text(used))
                return
            if d.quantity > left:
                d.adjust("R06", "limit_left", code=s.code, limit=limit, period=period, left=quantity_text(left))
                d.quantity = left
        cat_limit = self.benefit.category_limits.get(s.category)
        if cat_limit is not None and not s.is_item:
            used = usage.category[(pid, s.category, year)]
            if used >= cat_limit:
                d.reject("R06", "category_used", limit=cat_limit, category=s.category, used=quantity_text(Decimal(used)))
                return

    def valuate(self, claim: Claim, decision: ClaimDecision, usage: Usage, year: date | None) -> None:
        b = self.benefit
        pid, hid = claim.person.id, claim.person.household_id
        admission_total = Decimal(0)
        for d in decision.lines:
            if d.status == "rejected":
                continue
            s = self.catalogue[d.code]
            d.valuated = money(d.price * d.quantity)
            pct = s.co_payment_percent if s.co_payment_percent is not None else b.co_payment_percent
            d.co_payment = money(d.valuated * pct / 100) if pct else Decimal(0)
            payable = d.valuated - d.co_payment
            for levels_key, book, owner in (("per_person", usage.deductible_person, pid),
                                            ("per_household", usage.deductible_household, hid)):
                limit = getattr(b.deductibles, levels_key)
                if limit is None or owner is None:
                    continue
                left = max(Decimal(0), limit - book[(owner, year)])
                take = min(left, payable)
                if take:
                    book[(owner, year)] += take
                    d.deductible += take
                    payable -= take
            if s.ceiling is not None and payable > s.ceiling:
                d.adjust("R10", "service_ceiling", code=s.code, ceiling=str(s.ceiling))
                payable = s.ceiling
            caps = [("per_person", b.ceilings.per_person, usage.paid_person, pid),
                    ("per_household", b.ceilings.per_household, usage.paid_household, hid)]
            for kind, limit, book, owner in caps:
                if limit is None or owner is None:
                    continue
                left = max(Decimal(0), limit - book[(owner, year)])
                if payable > left:
                    d.adjust("R10", "ceiling_left", ceiling=kind, limit=str(limit), left=str(left))
                    payable = left
            if claim.care_type == "in_patient" and b.ceilings.per_admission is not None:
                left = max(Decimal(0), b.ceilings.per_admission - admission_total)
                if payable > left:
                    d.adjust("R10", "ceiling_left", ceiling="per_admission", limit=str(b.ceilings.per_admission),
                             left=str(left))
                    payable = left
            if b.ceilings.per_visit is not None:
                visit_left = max(Decimal(0), b.ceilings.per_visit - admission_total)
                if claim.care_type == "out_patient" and payable > visit_left:
                    d.adjust("R10", "ceiling_left", ceiling="per_visit", limit=str(b.ceilings.per_visit),
                             left=str(visit_left))
                    payable = visit_left
            d.payable = money(payable)
            admission_total += d.payable
            usage.paid_person[(pid, year)] += d.payable
            if hid is not None:
                usage.paid_household[(hid, year)] += d.payable
