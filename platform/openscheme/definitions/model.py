"""The compiled scheme: frozen, typed objects.

Runtime code (forms, API, eligibility, payments) reads these, never the raw YAML
dicts. Formulas are already checked and compiled; money is Decimal; dates are
dates; every object keeps the `path` of its declaration so a later problem (a
failing embedded test, say) can still point at the right line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..formulas import Formula, T


@dataclass(frozen=True)
class Text:
    """Text in several languages."""

    values: Mapping[str, str]

    def get(self, lang: str | None = None, fallback: str | None = None) -> str:
        for key in (lang, (lang or "").split("_")[0], fallback, "en"):
            if key and key in self.values:
                return self.values[key]
        return next(iter(self.values.values()), "")

    def __str__(self) -> str:
        return self.get()

    def __bool__(self) -> bool:
        return bool(self.values)


EMPTY_TEXT = Text({})


@dataclass(frozen=True)
class Choice:
    value: str
    label: Text
    columns: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ChoiceFilter:
    column: str
    field: str


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: Text
    value_type: T
    scope: str  # "unit" or "member"
    path: tuple
    hint: Text = EMPTY_TEXT
    required: bool = False
    required_when: Formula | None = None
    required_message: Text = EMPTY_TEXT
    relevant: Formula | None = None
    constraint: Formula | None = None
    constraint_message: Text = EMPTY_TEXT
    calculate: Formula | None = None
    default: object = None
    min: Decimal | date | None = None
    max: Decimal | date | None = None
    min_length: int | None = None
    max_length: int | None = None
    decimals: int | None = None
    pattern: str | None = None
    pattern_message: Text = EMPTY_TEXT
    choice_list: str | None = None
    choices: tuple[Choice, ...] = ()
    choice_filter: ChoiceFilter | None = None
    location_level: str | None = None
    unique: bool = False
    searchable: bool = False
    read_only: bool = False
    widget: str | None = None
    template: str | None = None

    @property
    def choice_values(self) -> frozenset[str]:
        return frozenset(c.value for c in self.choices)

    def choice(self, value: str) -> Choice | None:
        return next((c for c in self.choices if c.value == value), None)


@dataclass(frozen=True)
class Role:
    name: str
    label: Text
    min: int = 0
    max: int | None = None


@dataclass(frozen=True)
class Members:
    label: Text
    min: int
    max: int
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Table:
    name: str
    key: str
    rows: Mapping[str, Mapping[str, object]]
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    name: str
    label: Text
    formula: Formula
    reason: Text
    path: tuple


@dataclass(frozen=True)
class Premium:
    formula: Formula | None = None
    lump_sum: Decimal | None = None
    members_covered: int | None = None
    per_member: Decimal | None = None
    extra_adult: Decimal | None = None
    extra_child: Decimal | None = None
    child_age_below: int = 18
    birth_date_field: str | None = None
    registration_fee: Decimal = Decimal(0)
    assembly_fee: Decimal = Decimal(0)
    enrolment_discount_percent: Decimal = Decimal(0)
    enrolment_discount_within_days: int | None = None
    renewal_discount_percent: Decimal = Decimal(0)


@dataclass(frozen=True)
class WageContribution:
    field: str
    employer_percent: Decimal
    employee_percent: Decimal
    minimum_wage: Decimal | None = None
    wage_ceiling: Decimal | None = None


@dataclass(frozen=True)
class Contributions:
    frequency: str
    premium: Premium | None
    wage: WageContribution | None
    due_days_after_enrolment: int | None
    due_day_of_month: int | None
    grace_period_days: int
    payment_methods: tuple[str, ...]


@dataclass(frozen=True)
class Limits:
    per_visit: int | None = None
    per_day: int | None = None
    per_month: int | None = None
    per_year: int | None = None
    per_policy: int | None = None
    min_days_between: int | None = None


@dataclass(frozen=True)
class MoneyLevels:
    per_person: Decimal | None = None
    per_household: Decimal | None = None
    per_admission: Decimal | None = None
    per_visit: Decimal | None = None
    per_year: Decimal | None = None


@dataclass(frozen=True)
class Service:
    code: str
    label: Text
    is_item: bool
    category: str = "other"
    care_type: str = "both"
    price: Decimal | None = None
    price_table: str | None = None
    price_column: str | None = None
    limits: Limits = Limits()
    min_age: int | None = None
    max_age: int | None = None
    genders: tuple[str, ...] = ()
    waiting_period_days: int | None = None
    co_payment_percent: Decimal | None = None
    ceiling: Decimal | None = None


@dataclass(frozen=True)
class VoucherType:
    type: str
    label: Text
    count: int
    services: tuple[str, ...]
    reimbursement: Decimal | None = None
    valid_from_days: int = 0
    validity_days: int | None = None


@dataclass(frozen=True)
class Schedule:
    frequency: str
    cycles: int
    start: date | None = None


@dataclass(frozen=True)
class Condition:
    name: str
    label: Text
    formula: Formula
    reason: Text


@dataclass(frozen=True)
class Benefit:
    code: str
    kind: str
    label: Text
    path: tuple
    description: Text = EMPTY_TEXT
    eligible_when: Formula | None = None
    # insurance
    waiting_period_days: int = 0
    co_payment_percent: Decimal = Decimal(0)
    ceilings: MoneyLevels = MoneyLevels()
    deductibles: MoneyLevels = MoneyLevels()
    category_limits: Mapping[str, int] = field(default_factory=dict)
    services: tuple[Service, ...] = ()
    items: tuple[Service, ...] = ()
    facility_levels: tuple[str, ...] = ()
    review_sample_percent: Decimal = Decimal(0)
    review_amount_above: Decimal | None = None
    # voucher
    price: Decimal | None = None
    validity_days: int | None = None
    vouchers: tuple[VoucherType, ...] = ()
    # cash
    amount: Formula | None = None
    cap: Decimal | None = None
    schedule: Schedule | None = None
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Payments:
    recipient: str
    channel_field: str | None
    channels: tuple[str, ...]
    rounding_to: Decimal
    rounding_mode: str
    key: tuple[str, ...]
    payer: str | None = None


@dataclass(frozen=True)
class Transition:
    name: str
    label: Text
    sources: tuple[str, ...]  # ("*",) = from any non-final state
    target: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Workflow:
    name: str
    initial: str
    states: tuple[str, ...]
    final: tuple[str, ...]
    transitions: tuple[Transition, ...]
    declared: bool  # False when the runtime's default was used

    def transitions_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions
                if state in t.sources or ("*" in t.sources and state not in self.final)]

    def can(self, state: str, transition: str, role: str) -> Transition | None:
        for t in self.transitions_from(state):
            if t.name == transition and (role in t.roles or role == "administrator"):
                return t
        return None


@dataclass(frozen=True)
class Indicator:
    """An aggregate for DHIS2: units where the formula holds are counted, or the formula's numbers summed."""

    name: str
    label: Text
    formula: Formula
    data_element: str
    path: tuple
    category_option_combo: str | None = None
    disaggregate_by: str | None = None  # a unit select_one field
    combos: Mapping[str, str] = field(default_factory=dict)  # choice value -> category option combo code
    org_unit_field: str | None = None
    population: str = "registered"

    @property
    def counts(self) -> bool:
        return self.formula.result_type == T.BOOL


@dataclass(frozen=True)
class TestCase:
    name: str
    as_of: date | None
    renewal: bool
    enrolment_date: date | None
    data: Mapping
    expect: Mapping
    path: tuple


@dataclass(frozen=True)
class Scheme:
    code: str
    version: str
    title: Text
    description: Text
    currency: str
    languages: tuple[str, ...]
    benefit_kinds: tuple[str, ...]
    unit: str  # individual | household | group
    location_levels: tuple[str, ...]
    fields: tuple[Field, ...]
    members: Members | None
    roles: tuple[Role, ...]
    choices: Mapping[str, tuple[Choice, ...]]
    constants: Mapping[str, object]
    tables: Mapping[str, Table]
    eligibility: tuple[Rule, ...]
    contributions: Contributions | None
    benefits: tuple[Benefit, ...]
    payments: Payments | None
    workflows: Mapping[str, Workflow]
    tests: tuple[TestCase, ...]
    file: str
    text: str
    content_hash: str
    country: str | None = None
    operator: Text = EMPTY_TEXT
    period_start: date | None = None
    period_end: date | None = None
    period_months: int | None = None
    illustrative: bool = False
    source: str | None = None
    indicators: tuple[Indicator, ...] = ()

    @property
    def default_language(self) -> str:
        return self.languages[0]

    @property
    def is_household(self) -> bool:
        return self.members is not None

    @property
    def member_fields(self) -> tuple[Field, ...]:
        return self.members.fields if self.members else ()

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields + self.member_fields if f.name == name), None)

    def benefit(self, code: str) -> Benefit | None:
        return next((b for b in self.benefits if b.code == code), None)

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.eligibility if r.name == name), None)
