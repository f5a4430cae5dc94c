"""A plain-language summary of a compiled scheme (`openscheme explain`).

Written for a programme manager reviewing a definition, not for a programmer:
who is registered, who is eligible and why not, what is paid or covered, how
payments are made, and who may take each workflow step.
"""

from __future__ import annotations

from ..formulas import show
from .model import Benefit, Field, Scheme

TYPE_WORDS = {
    "text": "text", "integer": "whole number", "decimal": "number", "money": "amount of money",
    "date": "date", "boolean": "yes/no", "select_one": "one choice", "select_multiple": "several choices",
    "location": "location", "phone": "phone number", "email": "email address", "national_id": "ID number",
    "gps": "GPS point", "calculate": "computed",
}


PLURALS = {"surgery": "surgeries", "delivery": "deliveries", "imaging": "imaging", "laboratory": "laboratory tests",
           "medicine": "medicines", "emergency": "emergencies", "other": "other services"}


def plural(word: str, n: int) -> str:
    if n == 1:
        return word
    return PLURALS.get(word, word + "s")


def _money(value, scheme: Scheme) -> str:
    return f"{show(value)} {scheme.currency}"


def describe_field(f: Field, lang: str) -> str:
    parts = [TYPE_WORDS[f.type]]
    if f.choices:
        shown = ", ".join(c.label.get(lang) for c in f.choices[:6]) + (", ..." if len(f.choices) > 6 else "")
        parts[0] += f" of: {shown}"
    if f.choice_filter:
        parts.append(f"choices limited to the chosen {f.choice_filter.field}")
    if f.location_level:
        parts.append(f"a {f.location_level}")
    if f.required:
        parts.append("required")
    if f.required_when:
        parts.append(f"required when {f.required_when.text.strip()}")
    if f.relevant:
        parts.append(f"asked only when {f.relevant.text.strip()}")
    if f.min is not None and f.max is not None:
        parts.append(f"between {show(f.min)} and {show(f.max)}")
    elif f.min is not None:
        parts.append(f"from {show(f.min)}")
    elif f.max is not None:
        parts.append(f"up to {show(f.max)}")
    if f.pattern:
        parts.append(f"pattern {f.pattern}")
    if f.constraint:
        parts.append(f"must satisfy {f.constraint.text.strip()}")
    if f.calculate:
        parts.append(f"= {f.calculate.text.strip()}")
    if f.unique:
        parts.append("unique (no duplicates)")
    return f"{f.label.get(lang)} ({f.name}): " + ", ".join(parts)


def describe_benefit(b: Benefit, scheme: Scheme, lang: str) -> list[str]:
    out = [f"{b.label.get(lang)} ({b.code}, {b.kind})"]
    if b.eligible_when:
        out.append(f"  only when {b.eligible_when.text.strip()}")
    if b.kind == "insurance":
        if b.waiting_period_days:
            out.append(f"  waiting period: {b.waiting_period_days} days")
        if b.co_payment_percent:
            out.append(f"  co-payment: {show(b.co_payment_percent)}%")
        for label, levels in (("ceiling", b.ceilings), ("deductible", b.deductibles)):
            for k, v in vars(levels).items():
                if v is not None:
                    out.append(f"  {label} {k.replace('_', ' ')}: {_money(v, scheme)}")
        if b.review_sample_percent or b.review_amount_above is not None:
            above = f", and every claim above {_money(b.review_amount_above, scheme)}" if b.review_amount_above is not None else ""
            out.append(f"  manual review: {show(b.review_sample_percent)}% of claims at random{above}")
        for cat, n in b.category_limits.items():
            out.append(f"  at most {n} {plural(cat.replace('_', ' '), n)} per person per year")
        if b.facility_levels:
            out.append(f"  at facilities: {', '.join(level.replace('_', ' ') for level in b.facility_levels)}")
        for s in b.services + b.items:
            price = _money(s.price, scheme) if s.price is not None else f"price from {s.price_table}.{s.price_column}"
            extra = []
            lim = {k: v for k, v in vars(s.limits).items() if v is not None}
            if lim:
                extra.append(", ".join(f"{v} {k.replace('_', ' ')}" for k, v in lim.items()))
            if s.min_age is not None or s.max_age is not None:
                extra.append(f"ages {s.min_age if s.min_age is not None else 0}–{s.max_age if s.max_age is not None else '∞'}")
            if s.genders:
                extra.append("for " + "/".join(s.genders))
            if s.waiting_period_days:
                extra.append(f"waiting {s.waiting_period_days} days")
            if s.co_payment_percent is not None:
                extra.append(f"co-payment {show(s.co_payment_percent)}%")
            if s.ceiling is not None:
                extra.append(f"ceiling {_money(s.ceiling, scheme)}")
            kind = "item" if s.is_item else s.category
            out.append(f"  - {s.label.get(lang)} [{s.code}, {kind}, {s.care_type.replace('_', '-')}]: {price}"
                       + (f" ({'; '.join(extra)})" if extra else ""))
    elif b.kind == "voucher":
        if b.price:
            out.append(f"  bought for {_money(b.price, scheme)}")
        if b.validity_days:
            out.append(f"  valid {b.validity_days} days from issue")
        for v in b.vouchers:
            pay = f", facility reimbursed {_money(v.reimbursement, scheme)}" if v.reimbursement is not None else ""
            out.append(f"  - {v.count} × {v.label.get(lang)} ({v.type}) for services {', '.join(v.services)}{pay}")
        if b.facility_levels:
            out.append(f"  redeemable at: {', '.join(b.facility_levels)}")
    else:
        if b.amount:
            out.append(f"  amount per cycle: {b.amount.text.strip()}")
        if b.cap is not None:
            out.append(f"  capped at {_money(b.cap, scheme)}")
        if b.schedule:
            start = f" from {b.schedule.start.isoformat()}" if b.schedule.start else ""
            out.append(f"  paid in {b.schedule.cycles} {b.schedule.frequency} cycle(s){start}")
        for c in b.conditions:
            out.append(f"  condition {c.name}: {c.formula.text.strip()} (otherwise: {c.reason.get(lang)})")
    return out


def summarize(scheme: Scheme, lang: str | None = None) -> str:
    lang = lang or scheme.default_language
    s = scheme
    lines = [f"{s.title.get(lang)} ({s.code}, version {s.version})"]
    if s.description:
        lines.append(s.description.get(lang))
    unit = s.unit if not s.members else f"{s.unit} of {s.members.min}–{s.members.max} members"
    period = ""
    if s.period_start or s.period_end:
        period = f" · period {s.period_start or '…'} to {s.period_end or '…'}"
    article = "an" if unit[0] in "aeiou" else "a"
    lines.append(f"Currency {s.currency} · languages {', '.join(s.languages)} · enrols {article} {unit} · "
                 f"benefits: {', '.join(s.benefit_kinds)}{period}")
    if s.illustrative:
        lines.append("Figures in this definition are illustrative, not official.")
    lines += ["", "WHO IS REGISTERED", f"  {'Household' if s.members else 'Beneficiary'} fields:"]
    lines += [f"    - {describe_field(f, lang)}" for f in s.fields]
    if s.members:
        lines.append("  Member fields:")
        lines += [f"    - {describe_field(f, lang)}" for f in s.members.fields]
    if s.roles:
        def count(r):
            if r.min == r.max:
                return f"exactly {r.min}"
            return f"{r.min}–{r.max if r.max is not None else 'any'}"

        lines.append("  Roles: " + "; ".join(f"{r.label.get(lang)} ({count(r)})" for r in s.roles))
    if s.tables:
        lines.append("  Tables: " + "; ".join(f"{t.name} ({len(t.rows)} rows by {t.key}: {', '.join(t.columns)})"
                                            for t in s.tables.values()))
    if s.constants:
        lines.append("  Constants: " + "; ".join(f"{k} = {show(v)}" for k, v in s.constants.items()))
    lines += ["", "WHO IS ELIGIBLE"]
    if not s.eligibility:
        lines.append("  everyone registered (no eligibility rules)")
    for r in s.eligibility:
        lines.append(f"  - {r.name}: {r.formula.text.strip()}")
        lines.append(f"      if not: “{r.reason.get(lang)}”")
    if s.contributions:
        c = s.contributions
        lines += ["", "CONTRIBUTIONS", f"  paid {c.frequency}"]
        p = c.premium
        if p and p.formula:
            lines.append(f"  premium = {p.formula.text.strip()}")
        elif p:
            if p.lump_sum is not None:
                covered = f" for up to {p.members_covered} members" if p.members_covered else ""
                lines.append(f"  lump sum {_money(p.lump_sum, s)}{covered}")
            if p.per_member is not None:
                lines.append(f"  {_money(p.per_member, s)} per member")
            if p.extra_adult is not None:
                lines.append(f"  each extra adult: {_money(p.extra_adult, s)}")
            if p.extra_child is not None:
                lines.append(f"  each extra child under {p.child_age_below}: {_money(p.extra_child, s)}")
            if p.registration_fee:
                lines.append(f"  registration fee (new members): {_money(p.registration_fee, s)}")
            if p.assembly_fee:
                lines.append(f"  assembly fee: {_money(p.assembly_fee, s)}")
            if p.enrolment_discount_percent:
                within = f" within {p.enrolment_discount_within_days} days of the period start" if p.enrolment_discount_within_days is not None else ""
                lines.append(f"  early enrolment discount {show(p.enrolment_discount_percent)}%{within}")
            if p.renewal_discount_percent:
                lines.append(f"  renewal discount {show(p.renewal_discount_percent)}%")
        if c.wage:
            w = c.wage
            lines.append(f"  from the wage ({w.field}): employer {show(w.employer_percent)}%, employee {show(w.employee_percent)}%")
            if w.minimum_wage is not None:
                lines.append(f"  wage counted at least at the minimum wage {_money(w.minimum_wage, s)}")
            if w.wage_ceiling is not None:
                lines.append(f"  wage counted up to {_money(w.wage_ceiling, s)}")
        if c.due_days_after_enrolment is not None:
            lines.append(f"  due {c.due_days_after_enrolment} days after enrolment")
        if c.due_day_of_month is not None:
            lines.append(f"  due on day {c.due_day_of_month} of the month")
        if c.grace_period_days:
            lines.append(f"  grace period {c.grace_period_days} days")
        if c.payment_methods:
            lines.append(f"  paid by: {', '.join(m.replace('_', ' ') for m in c.payment_methods)}")
    lines += ["", "BENEFITS"]
    for b in s.benefits:
        lines += ["  " + line for line in describe_benefit(b, s, lang)]
    if s.payments:
        p = s.payments
        key = ", ".join(p.key)
        via = f" (chosen in {p.channel_field})" if p.channel_field else ""
        lines += ["", "PAYMENTS",
                  f"  to the {p.recipient.replace('_', ' ')}, via {' or '.join(c.replace('_', ' ') for c in p.channels)}{via}",
                  f"  rounded {p.rounding_mode.replace('_', ' ')} to the nearest {show(p.rounding_to)} {s.currency}",
                  f"  never twice for the same {key}"]
    lines += ["", "WORKFLOWS"]
    for wf in s.workflows.values():
        lines.append(f"  {wf.name}{'' if wf.declared else ' (default)'}: starts {wf.initial}; final: {', '.join(wf.final) or 'none'}")
        for t in wf.transitions:
            lines.append(f"    - {t.name}: {' / '.join(t.sources)} → {t.target} by {', '.join(r.replace('_', ' ') for r in t.roles)}")
    lines += ["", f"TEST CASES: {len(s.tests)}"]
    lines += [f"  - {t.name}" for t in s.tests]
    return "\n".join(lines)
