"""Evaluating a scheme for one beneficiary: eligibility, contributions, benefits.

Every result carries its explanation in plain words ("premium 35,000 = lump sum
30,000 for up to 6 members + 1 extra adult × 5,000"), because an officer must be
able to tell a household why, and an analyst must be able to check the rule.
This is the per-record path used by the CLI, the embedded test cases and the web
forms; registry-wide runs use the set-based SQL path built on the same formulas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

from ..definitions.model import Benefit, Scheme
from ..formulas import FormulaRuntimeError, show
from ..formulas.functions import years_between
from .records import ValidatedRecord, validate_record

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 15  # beyond any real budget; keeps Decimal rounding in range


def money(value) -> Decimal:
    value = Decimal(value)
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        raise FormulaRuntimeError(f"the amount is too large ({value:.3e})")
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def as_amount(value, what: str) -> Decimal:
    """A formula's result as money; an empty result is an error, never zero by accident."""
    if value is None or isinstance(value, bool):
        raise FormulaRuntimeError(f"{what} has no value")
    value = Decimal(value)
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        raise FormulaRuntimeError(f"{what} is too large ({value:.3e})")
    return value


def fmt(value) -> str:
    return show(Decimal(value))


@dataclass(frozen=True)
class RuleOutcome:
    name: str
    passed: bool
    reason: str | None  # the declared reason, when the rule failed
    steps: list[str]
    error: str | None = None


@dataclass(frozen=True)
class Amount:
    value: Decimal
    lines: list[str]


@dataclass(frozen=True)
class BenefitOutcome:
    code: str
    kind: str
    label: str
    entitled: bool
    amount: Amount | None = None
    vouchers: dict[str, int] = field(default_factory=dict)
    conditions: list[RuleOutcome] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Evaluation:
    scheme: Scheme
    record: ValidatedRecord
    as_of: date
    rules: list[RuleOutcome]
    premium: Amount | None
    contribution: dict[str, Amount] | None
    benefits: list[BenefitOutcome]

    @property
    def eligible(self) -> bool:
        return self.record.ok and all(r.passed for r in self.rules)

    @property
    def failed_rules(self) -> list[str]:
        return [r.name for r in self.rules if not r.passed]

    def benefit(self, code: str) -> BenefitOutcome | None:
        return next((b for b in self.benefits if b.code == code), None)


def check_formula(name, formula, reason, values, as_of, lang, default_lang, explain=True) -> RuleOutcome:
    """A yes/no formula; an evaluation error fails closed (the rule is not met)."""
    text = reason.get(lang, default_lang) if reason else None
    try:
        passed = bool(formula.evaluate(values, as_of))
        error = None
    except FormulaRuntimeError as exc:
        passed, error = False, exc.message
    steps = formula.explain(values, as_of).steps if explain else []
    return RuleOutcome(name, passed, None if passed else (text or name), steps, error)


def round_payment(value: Decimal, scheme: Scheme) -> Decimal:
    p = scheme.payments
    if p is None:
        return money(value)
    mode = {"half_up": ROUND_HALF_UP, "down": ROUND_DOWN, "up": ROUND_UP}[p.rounding_mode]
    step = p.rounding_to
    return money((Decimal(value) / step).quantize(Decimal(1), rounding=mode) * step)


def compute_premium(scheme: Scheme, values: dict, as_of: date, renewal: bool, enrolment_date: date | None) -> Amount | None:
    c = scheme.contributions
    if c is None or c.premium is None:
        return None
    p = c.premium
    members = values.get("members") or [] if scheme.is_household else [values]
    n = len(members) if scheme.is_household else 1
    lines = []
    total = Decimal(0)
    if p.formula is not None:
        total = as_amount(p.formula.evaluate(values, as_of), "the premium")
        steps = p.formula.explain(values, as_of).steps
        lines += [f"contribution = {p.formula.text.strip()}", *steps, f"contribution = {fmt(money(total))}"]
    if p.per_member is not None:
        total += p.per_member * n
        lines.append(f"{fmt(p.per_member)} per member × {n} = {fmt(p.per_member * n)}")
    if p.lump_sum is not None:
        total += p.lump_sum
        covered = f" for up to {p.members_covered} members" if p.members_covered else ""
        lines.append(f"lump sum {fmt(p.lump_sum)}{covered}")
        if p.members_covered and n > p.members_covered:
            born = p.birth_date_field or "dob"
            adults = sum(1 for m in members if m.get(born) is not None
                         and years_between(m[born], as_of) >= p.child_age_below)
            children = n - adults
            extra_adults = max(0, adults - p.members_covered)
            extra_children = max(0, children - max(0, p.members_covered - adults))
            rate_adult = p.extra_adult if p.extra_adult is not None else (p.extra_child or Decimal(0))
            rate_child = p.extra_child if p.extra_child is not None else rate_adult
            if extra_adults:
                total += extra_adults * rate_adult
                lines.append(f"{extra_adults} extra adult(s) × {fmt(rate_adult)} = {fmt(extra_adults * rate_adult)}")
            if extra_children:
                total += extra_children * rate_child
                lines.append(f"{extra_children} extra child(ren) under {p.child_age_below} × {fmt(rate_child)} = "
                             f"{fmt(extra_children * rate_child)}")
    discount = Decimal(0)
    if renewal and p.renewal_discount_percent:
        discount = total * p.renewal_discount_percent / 100
        lines.append(f"renewal discount {fmt(p.renewal_discount_percent)}% = −{fmt(money(discount))}")
    elif not renewal and p.enrolment_discount_percent:
        start = scheme.period_start
        on = enrolment_date or as_of
        applies = p.enrolment_discount_within_days is None or (
            start is not None and 0 <= (on - start).days <= p.enrolment_discount_within_days)
        if applies:
            discount = total * p.enrolment_discount_percent / 100
            lines.append(f"early enrolment discount {fmt(p.enrolment_discount_percent)}% = −{fmt(money(discount))}")
    total -= discount
    if not renewal and p.registration_fee:
        total += p.registration_fee
        lines.append(f"registration fee {fmt(p.registration_fee)}")
    if p.assembly_fee:
        total += p.assembly_fee
        lines.append(f"assembly fee {fmt(p.assembly_fee)}")
    total = money(total)
    lines.append(f"premium = {fmt(total)} {scheme.currency}")
    return Amount(total, lines)


def compute_wage_contribution(scheme: Scheme, values: dict) -> dict[str, Amount] | None:
    c = scheme.contributions
    if c is None or c.wage is None:
        return None
    w = c.wage
    wage = values.get(w.field)
    if wage is None:
        raise FormulaRuntimeError(f"'{w.field}' has no value")
    basis = Decimal(wage)
    note = f"{w.field} = {fmt(basis)}"
    if w.minimum_wage is not None and basis < w.minimum_wage:
        basis = w.minimum_wage
        note += f", raised to the minimum wage {fmt(basis)}"
    if w.wage_ceiling is not None and basis > w.wage_ceiling:
        basis = w.wage_ceiling
        note += f", capped at {fmt(basis)}"
    employer = money(basis * w.employer_percent / 100)
    employee = money(basis * w.employee_percent / 100)
    return {
        "employer": Amount(employer, [note, f"employer {fmt(w.employer_percent)}% = {fmt(employer)}"]),
        "employee": Amount(employee, [note, f"employee {fmt(w.employee_percent)}% = {fmt(employee)}"]),
        "total": Amount(employer + employee, [f"total {c.frequency} contribution = {fmt(employer + employee)} {scheme.currency}"]),
    }


def evaluate_benefit(scheme: Scheme, b: Benefit, values: dict, as_of: date, eligible: bool, lang, explain=True) -> BenefitOutcome:
    label = b.label.get(lang, scheme.default_language)
    dl = scheme.default_language
    lines: list[str] = []
    entitled = eligible
    if not eligible:
        lines.append("not entitled: the beneficiary is not eligible for the scheme")
    if entitled and b.eligible_when is not None:
        outcome = check_formula("eligible_when", b.eligible_when, None, values, as_of, lang, dl, explain)
        if not outcome.passed:
            entitled = False
            lines.append(f"not entitled: {b.eligible_when.text.strip()} is not met" + (f" ({outcome.error})" if outcome.error else ""))
            lines.extend(outcome.steps)
    conditions = [check_formula(c.name, c.formula, c.reason, values, as_of, lang, dl, explain) for c in b.conditions] if entitled else []
    for c in conditions:
        if not c.passed:
            entitled = False
            lines.append(f"condition not met: {c.reason}")
    if b.kind == "cash":
        amount = None
        if entitled and b.amount is not None:
            raw = b.amount.evaluate(values, as_of)
            amount_lines = [f"amount = {b.amount.text.strip()}"] + (b.amount.explain(values, as_of).steps if explain else [])
            value = as_amount(raw, "the amount")
            if value < 0:
                raise FormulaRuntimeError(f"the amount is negative ({fmt(value)}): nothing can be paid")
            if b.cap is not None and value > b.cap:
                amount_lines.append(f"capped at {fmt(b.cap)} (was {fmt(value)})")
                value = b.cap
            rounded = round_payment(value, scheme)
            if rounded != value:
                amount_lines.append(f"rounded to {fmt(rounded)}")
            cycles = b.schedule.cycles if b.schedule else 1
            freq = b.schedule.frequency if b.schedule else "once"
            amount_lines.append(f"{fmt(rounded)} {scheme.currency} per cycle, {cycles} {freq} cycle(s)")
            amount = Amount(rounded, amount_lines)
        return BenefitOutcome(b.code, b.kind, label, entitled, amount, conditions=conditions, lines=lines)
    if b.kind == "voucher":
        vouchers = {v.type: v.count for v in b.vouchers} if entitled else {}
        if entitled:
            lines.append("vouchers: " + ", ".join(f"{v.count} × {v.label.get(lang, dl)}" for v in b.vouchers))
            if b.price:
                lines.append(f"price to the beneficiary: {fmt(b.price)} {scheme.currency}")
        return BenefitOutcome(b.code, b.kind, label, entitled, None, vouchers, conditions, lines)
    if entitled:
        lines.append(f"covers {len(b.services)} service(s) and {len(b.items)} item(s)")
        if b.waiting_period_days:
            lines.append(f"waiting period {b.waiting_period_days} days")
        if b.ceilings.per_household or b.ceilings.per_person:
            lines.append("ceiling " + ", ".join(
                f"{fmt(v)} {k.replace('_', ' ')}" for k, v in vars(b.ceilings).items() if v is not None))
    return BenefitOutcome(b.code, b.kind, label, entitled, None, {}, conditions, lines)


def evaluate(scheme: Scheme, data, *, as_of: date | None = None, lang: str | None = None, renewal: bool = False,
             enrolment_date: date | None = None, explain: bool = True) -> Evaluation:
    """Validate a record and compute everything the scheme says about it."""
    as_of = as_of or date.today()
    lang = lang or scheme.default_language
    record = validate_record(scheme, data, as_of=as_of, lang=lang)
    values = record.values
    if not record.ok:
        return Evaluation(scheme, record, as_of, [], None, None, [])
    dl = scheme.default_language
    rules = [check_formula(r.name, r.formula, r.reason, values, as_of, lang, dl, explain) for r in scheme.eligibility]
    eligible = all(r.passed for r in rules)
    try:
        premium = compute_premium(scheme, values, as_of, renewal, enrolment_date)
    except FormulaRuntimeError as exc:
        premium = Amount(Decimal(0), [f"premium cannot be computed: {exc.message}"])
    try:
        contribution = compute_wage_contribution(scheme, values)
    except FormulaRuntimeError as exc:
        contribution = {"total": Amount(Decimal(0), [f"contribution cannot be computed: {exc.message}"])}
    benefits = []
    for b in scheme.benefits:
        try:
            benefits.append(evaluate_benefit(scheme, b, values, as_of, eligible, lang, explain))
        except FormulaRuntimeError as exc:
            benefits.append(BenefitOutcome(b.code, b.kind, b.label.get(lang, dl), False,
                                           lines=[f"cannot be computed: {exc.message}"]))
    return Evaluation(scheme, record, as_of, rules, premium, contribution, benefits)
