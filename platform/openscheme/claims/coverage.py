"""Verification at the facility: is this person covered today, for what, with what left?

One call loads the person's policies and everything they and their household already
used this policy year (the same loader as batch adjudication), then reads, for every
insurance benefit: cover today (or why not: no policy, premium not paid, suspended,
ended), the waiting periods still to run, each service's remaining count and whether
the person's age and sex allow it, category limits and the money ceilings left. A benefit
whose `eligible_when` is false for the person's unit today does not apply (status
`not_applicable`, with the condition and the values that decided it), as adjudication would
refuse its services (R13). Every text is in the reader's language (`messages.py`, `reasons.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from ..definitions.model import Benefit, Scheme
from ..formulas.functions import years_between
from ..policies import terms
from ..storage.models import Individual
from .adjudication import Adjudicator
from .loading import load_book
from .messages import msg
from .reasons import detail, field_labels, word


@dataclass
class ServiceCover:
    code: str
    label: str
    is_item: bool
    allowed: bool
    why_not: str = ""
    waiting_days_left: int = 0
    left: list[str] = field(default_factory=list)  # "3 of 4 left this year"


@dataclass
class BenefitCover:
    code: str
    label: str
    covered: bool
    status: str  # covered | in_grace | no_policy | pending | suspended | ended | not_started | not_applicable
    message: str
    policy_id: int | None = None
    start: date | None = None
    expiry: date | None = None
    covered_until: date | None = None
    # in grace: the month whose contribution is due ("2025-02") when the scheme is paid by monthly
    # contributions; None when the renewal of the term is due (a yearly premium)
    due_period: str | None = None
    waiting_days_left: int = 0
    services: list[ServiceCover] = field(default_factory=list)
    categories: list[tuple[str, str, int, int]] = field(default_factory=list)  # (category, label, left, limit)
    ceilings: list[tuple[str, str, Decimal, Decimal]] = field(default_factory=list)  # (kind, label, left, limit)

    def as_json(self) -> dict:
        return {"benefit": self.code, "label": self.label, "covered": self.covered, "status": self.status,
                "message": self.message, "policy_id": self.policy_id,
                "start": self.start.isoformat() if self.start else None,
                "expiry": self.expiry.isoformat() if self.expiry else None,
                "covered_until": self.covered_until.isoformat() if self.covered_until else None,
                "due_period": self.due_period,
                "waiting_days_left": self.waiting_days_left,
                "services": [{"code": s.code, "label": s.label, "item": s.is_item, "allowed": s.allowed,
                              "why_not": s.why_not, "waiting_days_left": s.waiting_days_left, "left": s.left}
                             for s in self.services],
                "categories": [{"category": c, "label": label, "left": left, "limit": limit}
                               for c, label, left, limit in self.categories],
                "ceilings": [{"kind": kind, "ceiling": label, "left": str(left), "limit": str(limit)}
                             for kind, label, left, limit in self.ceilings]}


def _fmt(x: Decimal) -> str:
    x = Decimal(x)
    return str(int(x)) if x == x.to_integral_value() else str(x.normalize())


def benefit_cover(session, scheme: Scheme, benefit: Benefit, person: Individual, on: date, lang: str = "en") -> BenefitCover:
    adj = Adjudicator(scheme, benefit)
    book = load_book(session, scheme, benefit, adj, person_ids=[person.id], facility_ids=[], dates=[on])
    p = book.persons[person.id]
    cover, row = book.cover(p, on)
    label = benefit.label.get(lang, scheme.default_language)
    rows = sorted(book.policies.get(book.unit_key(p), []), key=lambda r: r.id, reverse=True)
    grace = timedelta(days=terms.grace_days(scheme))

    def t(key: str, **params) -> str:
        return msg(key, lang, **params)

    if not cover.active:
        latest = rows[0] if rows else None
        if latest is None:
            return BenefitCover(benefit.code, label, False, "no_policy", t("cover_no_policy"))
        if latest.status == "pending":
            status, message = "pending", t("cover_pending")
        elif latest.status == "suspended":
            status, message = "suspended", t("cover_suspended")
        elif latest.start is not None and on < latest.start:
            status, message = "not_started", t("cover_not_started", date=latest.start.isoformat())
        elif latest.expiry is not None:
            status, message = "ended", t("cover_ended", date=(latest.expiry + grace).isoformat())
        else:
            status, message = latest.status, t("cover_status", status=latest.status)
        return BenefitCover(benefit.code, label, False, status, message, latest.id, latest.start, latest.expiry,
                            latest.expiry + grace if latest.expiry else None)
    applies = book.applies(p, on)
    if applies is not None and not applies.ok:
        why = detail("eligible_when_error", {"condition": applies.condition,
                                             "error": applies.error_data or applies.error}, lang) \
            if applies.error else detail("eligible_when", {"condition": applies.condition,
                                                           "values": [list(v) for v in applies.values]},
                                         lang, field_labels(scheme))
        return BenefitCover(benefit.code, label, False, "not_applicable", t("cover_not_applicable", detail=why),
                            row.id, row.start, row.expiry, row.expiry + grace)
    in_grace = row.expiry is not None and on > row.expiry
    out = BenefitCover(benefit.code, label, True, "in_grace" if in_grace else "covered",
                       t("cover_grace", date=(row.expiry + grace).isoformat()) if in_grace else
                       t("cover_until", date=row.expiry.isoformat()), row.id, row.start, row.expiry, row.expiry + grace)
    if in_grace and terms.is_monthly(scheme):
        # cover runs to the end of the last month paid: the month after it is the one now due
        out.due_period = terms.period_of(row.expiry + timedelta(days=1))
    served = (on - cover.start).days if cover.start else 0
    out.waiting_days_left = max(0, benefit.waiting_period_days - served)
    age = years_between(p.birth_date, on) if p.birth_date else None
    year, pid, hid = cover.year_start, p.id, p.household_id
    u = book.usage
    for s in benefit.services + benefit.items:
        sc = ServiceCover(s.code, s.label.get(lang, scheme.default_language), s.is_item, True)
        if s.genders and p.sex not in s.genders:
            sc.allowed, sc.why_not = False, t("service_genders", genders="/".join(s.genders))
        elif (s.min_age is not None and (age is None or age < s.min_age)) or (
                s.max_age is not None and (age is None or age > s.max_age)):
            sc.allowed = False
            if s.min_age is not None and s.max_age is not None:
                sc.why_not = t("service_age", min=s.min_age, max=s.max_age)
            elif s.min_age is not None:
                sc.why_not = t("service_age_from", min=s.min_age)
            else:
                sc.why_not = t("service_age_to", max=s.max_age)
        waiting = s.waiting_period_days if s.waiting_period_days is not None else benefit.waiting_period_days
        sc.waiting_days_left = max(0, waiting - served) if waiting else 0
        lim = s.limits
        for period, used, limit in (("this_month", u.month[(pid, s.code, (on.year, on.month))], lim.per_month),
                                    ("this_year", u.count[(pid, s.code, year)], lim.per_year),
                                    ("this_policy", u.count[(pid, s.code, year)], lim.per_policy)):
            if limit is not None:
                words = word("period", period, lang)
                sc.left.append(t("service_left", left=_fmt(max(Decimal(0), limit - used)), limit=limit, period=words))
                if used >= limit:
                    sc.allowed, sc.why_not = False, sc.why_not or t("service_reached", limit=limit, period=words)
        if lim.min_days_between:
            recent = [d for d in u.dates[(pid, s.code)] if 0 <= (on - d).days < lim.min_days_between]
            if recent:
                nxt = max(recent) + timedelta(days=lim.min_days_between)
                sc.left.append(t("service_next", date=nxt.isoformat()))
        if lim.per_visit is not None:
            sc.left.append(t("service_per_visit", n=lim.per_visit))
        out.services.append(sc)
    for category, limit in benefit.category_limits.items():
        used = int(u.category[(pid, category, year)])
        out.categories.append((category, word("category", category, lang), max(0, limit - used), limit))
    c = benefit.ceilings
    if c.per_person is not None:
        out.ceilings.append(("per_person", word("ceiling", "per_person", lang),
                             max(Decimal(0), c.per_person - u.paid_person[(pid, year)]), c.per_person))
    if c.per_household is not None and hid is not None:
        out.ceilings.append(("per_household", word("ceiling", "per_household", lang),
                             max(Decimal(0), c.per_household - u.paid_household[(hid, year)]), c.per_household))
    if c.per_admission is not None:
        out.ceilings.append(("per_admission", word("ceiling", "per_admission", lang), c.per_admission, c.per_admission))
    return out


def coverage(session, scheme: Scheme, person: Individual, on: date | None = None, lang: str = "en") -> list[BenefitCover]:
    on = on or date.today()
    return [benefit_cover(session, scheme, b, person, on, lang) for b in scheme.benefits if b.kind == "insurance"]
