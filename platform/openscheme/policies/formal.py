"""Formal sector: employers, the monthly contribution schedule of each employee, arrears.

The wage contribution is declared in the scheme (`contributions.wage`: the wage field,
the employer's and the employee's percent, minimum wage, ceiling). Employees are
linked to their employer through the record's employer field: by convention the
first of `employer_number`, `employer_code`, `employer_id` that the scheme declares,
with the employer's name in `employer_name`. The employer is registered (one row per
scheme and number) when its first employee is enrolled.

Month M is due on the declared `due.day_of_month` of month M+1 (the 1st without one);
a month not fully paid by then is in arrears; cover runs to the end of the last month
of an unbroken run of paid months, plus the grace period. A month's shares are those of
the wage in force that month (`wages.py`): a raise does not reopen the months paid before.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..definitions.model import Scheme
from ..evaluation.engine import compute_wage_contribution
from ..formulas import FormulaRuntimeError
from ..registry.values import decoder
from ..storage.models import Individual
from ..storage.workflow_models import Contribution, Policy
from . import terms
from .models import Employer
from .wages import Shares, wage_changes, wage_in

EMPLOYER_FIELDS = ("employer_number", "employer_code", "employer_id")
EMPLOYER_NAME_FIELD = "employer_name"


def employer_field(scheme: Scheme) -> str | None:
    names = {f.name for f in scheme.fields}
    return next((n for n in EMPLOYER_FIELDS if n in names), None)


def typed_values(scheme: Scheme, person: Individual) -> dict:
    return decoder(scheme.fields)(dict(person.data or {}))


def shares(scheme: Scheme, person: Individual | None) -> dict[str, Decimal]:
    """The employer's and the employee's monthly share for this person's current wage."""
    if person is None:
        return {"employer": Decimal(0), "employee": Decimal(0), "total": Decimal(0)}
    try:
        amounts = compute_wage_contribution(scheme, typed_values(scheme, person))
    except FormulaRuntimeError:
        amounts = None
    if not amounts:
        return {"employer": Decimal(0), "employee": Decimal(0), "total": Decimal(0)}
    return {k: a.value for k, a in amounts.items()}


def ensure_employer(session, scheme: Scheme, unit) -> Employer | None:
    name = employer_field(scheme)
    data = getattr(unit, "data", None) or {}
    code = str(data.get(name) or "").strip() if name else ""
    if not code:
        return None
    employer = session.scalar(select(Employer).where(Employer.scheme_code == scheme.code, Employer.code == code))
    if employer is not None:
        return employer
    employer = Employer(scheme_code=scheme.code, code=code[:32],
                        name=str(data.get(EMPLOYER_NAME_FIELD) or code)[:255], contact="")
    try:
        with session.begin_nested():
            session.add(employer)
            session.flush()
    except IntegrityError:  # registered meanwhile by another enrolment
        employer = session.scalar(select(Employer).where(Employer.scheme_code == scheme.code, Employer.code == code))
    return employer


def due_date(scheme: Scheme, period: str) -> date:
    month = terms.add_months(terms.parse_period(period), 1)
    day = scheme.contributions.due_day_of_month if scheme.contributions else None
    return month.replace(day=min(day or 1, 28))


@dataclass
class Month:
    period: str
    due_on: date
    employer_due: Decimal
    employee_due: Decimal
    employer_paid: Decimal
    employee_paid: Decimal

    @property
    def due(self) -> Decimal:
        return self.employer_due + self.employee_due

    @property
    def paid(self) -> Decimal:
        return self.employer_paid + self.employee_paid

    @property
    def balance(self) -> Decimal:
        return max(Decimal(0), self.due - self.paid)

    @property
    def complete(self) -> bool:
        return self.employer_paid >= self.employer_due and self.employee_paid >= self.employee_due

    def status(self, as_of: date) -> str:
        if self.complete:
            return "paid"
        if as_of > self.due_on:
            return "arrears"
        return "partial" if self.paid else "due"


def paid_by_month(session, policy_ids: list[int]) -> dict[int, dict[tuple[str, str], Decimal]]:
    """{policy: {(period, payer): amount}} in one query."""
    out: dict[int, dict] = defaultdict(lambda: defaultdict(Decimal))
    for i in range(0, len(policy_ids), 5000):
        rows = session.execute(select(Contribution.policy_id, Contribution.period, Contribution.payer,
                                      func.sum(Contribution.amount))
                               .where(Contribution.policy_id.in_(policy_ids[i:i + 5000]), Contribution.period.isnot(None))
                               .group_by(Contribution.policy_id, Contribution.period, Contribution.payer)).all()
        for pid, period, payer, amount in rows:
            out[pid][(period, payer)] += Decimal(amount)
    return out


def schedule(scheme: Scheme, policy: Policy, person: Individual | None, paid: dict, until: date,
             changes: list | None = None, book: Shares | None = None) -> list[Month]:
    """The months from enrolment to `until`; `changes`: the person's wage changes (`wages.py`)."""
    current = shares(scheme, person)
    book = book or (Shares(scheme) if changes else None)
    first = date(policy.enrol_date.year, policy.enrol_date.month, 1)
    months = []
    for period in terms.months_between(first, until):
        s = book.of(wage_in(changes, period)) if changes else current
        months.append(Month(period, due_date(scheme, period), s["employer"], s["employee"],
                            paid.get((period, "employer"), Decimal(0)), paid.get((period, "employee"), Decimal(0))))
    return months


def month_shares(session, scheme: Scheme, person: Individual | None, period: str) -> dict[str, Decimal]:
    """The shares due for one month: those of the wage in force then."""
    changes = wage_changes(session, scheme, [person.id]).get(person.id) if person is not None else None
    return Shares(scheme).of(wage_in(changes, period)) if changes else shares(scheme, person)


def policy_schedule(session, scheme: Scheme, policy: Policy, until: date | None = None) -> list[Month]:
    person = session.get(Individual, policy.unit_id)
    until = until or date.today()
    paid = paid_by_month(session, [policy.id]).get(policy.id, {})
    last_paid = max((terms.parse_period(p) for p, _ in paid), default=None)
    if last_paid is not None and last_paid > until:
        until = last_paid
    changes = wage_changes(session, scheme, [person.id]).get(person.id) if person is not None else None
    return schedule(scheme, policy, person, paid, until, changes)


def last_covered_month(session, scheme: Scheme, policy: Policy) -> date | None:
    """The last month of the unbroken run of fully paid months from the first one."""
    months = policy_schedule(session, scheme, policy, date.today() + timedelta(days=31))
    last = None
    for m in months:
        if not m.complete:
            break
        last = terms.parse_period(m.period)
    return last


@dataclass
class Arrear:
    policy: Policy
    person: Individual
    employer: str
    months: list[Month]

    @property
    def amount(self) -> Decimal:
        return sum((m.balance for m in self.months), Decimal(0))

    @property
    def employer_amount(self) -> Decimal:
        return sum((max(Decimal(0), m.employer_due - m.employer_paid) for m in self.months), Decimal(0))

    @property
    def employee_amount(self) -> Decimal:
        return sum((max(Decimal(0), m.employee_due - m.employee_paid) for m in self.months), Decimal(0))


def arrears(session, scheme: Scheme, as_of: date | None = None, employer: str | None = None,
            scope_paths: list[str] | None = None) -> list[Arrear]:
    """Employees with months past their due date and not fully paid: four queries for the whole scheme."""
    from ..registry.search import scope_filter

    as_of = as_of or date.today()
    field = employer_field(scheme)
    q = (select(Policy, Individual).join(Individual, Individual.id == Policy.unit_id)
         .where(Policy.scheme_code == scheme.code, Policy.unit_type == "individual",
                Policy.status.in_(("pending", "active", "expired", "suspended")),
                scope_filter(Individual.location_path, scope_paths)).order_by(Policy.id))
    rows = session.execute(q).all()
    paid = paid_by_month(session, [p.id for p, _ in rows])
    changes = wage_changes(session, scheme, [person.id for _, person in rows])
    book = Shares(scheme) if changes else None
    out = []
    for policy, person in rows:
        code = str((person.data or {}).get(field) or "") if field else ""
        if employer and code != employer:
            continue
        late = [m for m in schedule(scheme, policy, person, paid.get(policy.id, {}), as_of, changes.get(person.id), book)
                if m.status(as_of) == "arrears"]
        if late:
            out.append(Arrear(policy, person, code, late))
    return out


def employees(session, scheme: Scheme, employer: Employer) -> list[Individual]:
    from ..storage.jsonpath import field_column

    field = employer_field(scheme)
    if field is None:
        return []
    column = field_column("individuals", field, session.get_bind().dialect.name)
    return list(session.scalars(select(Individual).where(Individual.scheme_code == scheme.code, column == employer.code)
                                .order_by(Individual.id)))
