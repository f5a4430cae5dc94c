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
from ..formulas.errors import runtime_error
from ..formulas.functions import years_between
from ..formulas.messages import said_text
from . import explanations as ex
from .records import ValidatedRecord, validate_record

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 15  # beyond any real budget; keeps Decimal rounding in range


def money(value) -> Decimal:
    value = Decimal(value)
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        raise runtime_error("run_too_large", what="the amount", value=f"{value:.3e}")
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def as_amount(value, what: str) -> Decimal:
    """A formula's result as money; an empty result is an error, never zero by accident."""
    if value is None or isinstance(value, bool):
        raise runtime_error("run_no_value", what=what)
    value = Decimal(value)
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        raise runtime_error("run_too_large", what=what, value=f"{value:.3e}")
    return value


def fmt(value) -> str:
    return show(Decimal(value))


@dataclass(frozen=True)
class RuleOutcome:
    name: str
    passed: bool
    reason: str | None  # the declared reason, when the rule failed
    steps: list[str]  # in English
    error: str | None = None  # in English
    parts: tuple = ()  # the steps as data (`explanations.text` says them in a language)
    error_data: object = None  # the error as data (`FormulaRuntimeError.as_param`)

    def error_text(self, lang: str | None = "en") -> str | None:
        """The evaluation error in a language (None: there was none)."""
        if self.error is None:
            return None
        return said_text(self.error_data, lang) if self.error_data is not None else self.error


@dataclass(frozen=True)
class Amount:
    value: Decimal
    lines: list[str]  # in English
    parts: tuple = ()  # the same lines as data: [key, params] (`explanations.text`)

    def lines_in(self, lang: str | None) -> list[str]:
        return ex.lines(self.parts, lang) if self.parts else list(self.lines)


def _amount(value: Decimal, parts: list) -> Amount:
    return Amount(value, ex.english(parts), tuple(parts))


@dataclass(frozen=True)
class BenefitOutcome:
    code: str
    kind: str
    label: str
    entitled: bool
    amount: Amount | None = None
    vouchers: dict[str, int] = field(default_factory=dict)
    conditions: list[RuleOutcome] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # in English
    parts: tuple = ()  # the same lines as data (`explanations.text`)

    def lines_in(self, lang: str | None) -> list[str]:
        return ex.lines(self.parts, lang) if self.parts else list(self.lines)


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
    error = data = None
    try:
        passed = bool(formula.evaluate(values, as_of))
    except FormulaRuntimeError as exc:
        passed, error, data = False, exc.message, exc.as_param()
    if not explain:
        return RuleOutcome(name, passed, None if passed else (text or name), [], error, error_data=data)
    explained = formula.explain(values, as_of)
    return RuleOutcome(name, passed, None if passed else (text or name), explained.steps, error,
                       tuple(ex.step(p) for p in explained.parts), data)


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
    parts: list = []
    num = ex.number
    total = Decimal(0)
    if p.formula is not None:
        total = as_amount(p.formula.evaluate(values, as_of), "the premium")
        explained = p.formula.explain(values, as_of)
        parts += [["premium_formula", {"formula": p.formula.text.strip()}], *(ex.step(x) for x in explained.parts),
                  ["premium_formula_value", {"amount": num(money(total))}]]
    if p.per_member is not None:
        total += p.per_member * n
        parts.append(["per_member", {"rate": num(p.per_member), "n": n, "total": num(p.per_member * n)}])
    if p.lump_sum is not None:
        total += p.lump_sum
        if p.members_covered:
            parts.append(["lump_sum_for", {"amount": num(p.lump_sum), "members": p.members_covered}])
        else:
            parts.append(["lump_sum", {"amount": num(p.lump_sum)}])
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
                parts.append(["extra_adults", {"n": extra_adults, "rate": num(rate_adult),
                                               "total": num(extra_adults * rate_adult)}])
            if extra_children:
                total += extra_children * rate_child
                parts.append(["extra_children", {"n": extra_children, "age": p.child_age_below, "rate": num(rate_child),
                                                 "total": num(extra_children * rate_child)}])
    discount = Decimal(0)
    if renewal and p.renewal_discount_percent:
        discount = total * p.renewal_discount_percent / 100
        parts.append(["renewal_discount", {"percent": num(p.renewal_discount_percent), "amount": num(money(discount))}])
    elif not renewal and p.enrolment_discount_percent:
        start = scheme.period_start
        on = enrolment_date or as_of
        applies = p.enrolment_discount_within_days is None or (
            start is not None and 0 <= (on - start).days <= p.enrolment_discount_within_days)
        if applies:
            discount = total * p.enrolment_discount_percent / 100
            parts.append(["early_discount", {"percent": num(p.enrolment_discount_percent),
                                             "amount": num(money(discount))}])
    total -= discount
    if not renewal and p.registration_fee:
        total += p.registration_fee
        parts.append(["registration_fee", {"amount": num(p.registration_fee)}])
    if p.assembly_fee:
        total += p.assembly_fee
        parts.append(["assembly_fee", {"amount": num(p.assembly_fee)}])
    total = money(total)
    parts.append(["premium", {"amount": num(total), "currency": scheme.currency}])
    return _amount(total, parts)


def compute_wage_contribution(scheme: Scheme, values: dict) -> dict[str, Amount] | None:
    c = scheme.contributions
    if c is None or c.wage is None:
        return None
    w = c.wage
    wage = values.get(w.field)
    if wage is None:
        raise runtime_error("run_name_no_value", name=w.field)
    basis = Decimal(wage)
    declared = scheme.field(w.field)
    # the wage field: by its name in English (as the lines always read), by its label in the other languages
    said = {**(dict(declared.label.values) if declared is not None else {}), "en": w.field, "*": w.field}
    note = {"field": said, "wage": ex.number(basis)}
    if w.minimum_wage is not None and basis < w.minimum_wage:
        basis = w.minimum_wage
        note["minimum"] = ex.number(basis)
    if w.wage_ceiling is not None and basis > w.wage_ceiling:
        basis = w.wage_ceiling
        note["ceiling"] = ex.number(basis)
    employer = money(basis * w.employer_percent / 100)
    employee = money(basis * w.employee_percent / 100)
    num = ex.number
    return {
        "employer": _amount(employer, [["wage", note], ["employer_share", {"percent": num(w.employer_percent),
                                                                           "amount": num(employer)}]]),
        "employee": _amount(employee, [["wage", note], ["employee_share", {"percent": num(w.employee_percent),
                                                                           "amount": num(employee)}]]),
        "total": _amount(employer + employee, [["contribution_total", {"frequency": c.frequency,
                                                                       "amount": num(employer + employee),
                                                                       "currency": scheme.currency}]]),
    }


def evaluate_benefit(scheme: Scheme, b: Benefit, values: dict, as_of: date, eligible: bool, lang, explain=True) -> BenefitOutcome:
    label = b.label.get(lang, scheme.default_language)
    dl = scheme.default_language
    parts: list = []
    num = ex.number
    entitled = eligible
    if not eligible:
        parts.append(["not_eligible", {}])
    if entitled and b.eligible_when is not None:
        outcome = check_formula("eligible_when", b.eligible_when, None, values, as_of, lang, dl, explain)
        if not outcome.passed:
            entitled = False
            formula = b.eligible_when.text.strip()
            parts.append(["eligible_when_error", {"formula": formula, "error": outcome.error_data or outcome.error}]
                         if outcome.error
                         else ["eligible_when", {"formula": formula}])
            parts.extend(outcome.parts)
    conditions = [check_formula(c.name, c.formula, c.reason, values, as_of, lang, dl, explain) for c in b.conditions] if entitled else []
    for declared, c in zip(b.conditions, conditions, strict=False):
        if not c.passed:
            entitled = False
            parts.append(["condition", {"reason": ex.text_param(declared.reason, c.name, dl) if declared.reason
                                        else c.reason}])
    if b.kind == "cash":
        amount = None
        if entitled and b.amount is not None:
            raw = b.amount.evaluate(values, as_of)
            amount_parts = [["amount_formula", {"formula": b.amount.text.strip()}]] + (
                [ex.step(x) for x in b.amount.explain(values, as_of).parts] if explain else [])
            value = as_amount(raw, "the amount")
            if value < 0:
                raise runtime_error("run_negative_amount", amount=fmt(value))
            if b.cap is not None and value > b.cap:
                amount_parts.append(["capped", {"cap": num(b.cap), "amount": num(value)}])
                value = b.cap
            rounded = round_payment(value, scheme)
            if rounded != value:
                amount_parts.append(["rounded", {"amount": num(rounded)}])
            cycles = b.schedule.cycles if b.schedule else 1
            freq = b.schedule.frequency if b.schedule else "once"
            amount_parts.append(["per_cycle", {"amount": num(rounded), "currency": scheme.currency, "cycles": cycles,
                                               "frequency": freq}])
            amount = _amount(rounded, amount_parts)
        return BenefitOutcome(b.code, b.kind, label, entitled, amount, conditions=conditions, lines=ex.english(parts, lang),
                              parts=tuple(parts))
    if b.kind == "voucher":
        vouchers = {v.type: v.count for v in b.vouchers} if entitled else {}
        if entitled:
            parts.append(["vouchers", {"items": [[v.count, ex.text_param(v.label, v.type, dl)] for v in b.vouchers]}])
            if b.price:
                parts.append(["voucher_price", {"amount": num(b.price), "currency": scheme.currency}])
        return BenefitOutcome(b.code, b.kind, label, entitled, None, vouchers, conditions, ex.english(parts, lang), tuple(parts))
    if entitled:
        parts.append(["covers", {"services": len(b.services), "items": len(b.items)}])
        if b.waiting_period_days:
            parts.append(["waiting", {"days": b.waiting_period_days}])
        if b.ceilings.per_household or b.ceilings.per_person:
            parts.append(["ceilings", {"items": [[num(v), k] for k, v in vars(b.ceilings).items() if v is not None]}])
    return BenefitOutcome(b.code, b.kind, label, entitled, None, {}, conditions, ex.english(parts), tuple(parts))


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
        premium = _amount(Decimal(0), [["premium_error", {"error": exc.as_param()}]])
    try:
        contribution = compute_wage_contribution(scheme, values)
    except FormulaRuntimeError as exc:
        contribution = {"total": _amount(Decimal(0), [["contribution_error", {"error": exc.as_param()}]])}
    benefits = []
    for b in scheme.benefits:
        try:
            benefits.append(evaluate_benefit(scheme, b, values, as_of, eligible, lang, explain))
        except FormulaRuntimeError as exc:
            parts = [["benefit_error", {"error": exc.as_param()}]]
            benefits.append(BenefitOutcome(b.code, b.kind, b.label.get(lang, dl), False,
                                           lines=ex.english(parts), parts=tuple(parts)))
    return Evaluation(scheme, record, as_of, rules, premium, contribution, benefits)
