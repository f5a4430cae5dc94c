"""Policy terms from the definition: when cover starts and ends, which policy year a date is in.

Pure (no database). The scheme's `period` says how long a policy runs:
  period.months: N     a policy runs N months from the day its premium is fully paid
                       (np-hib: 12 months from payment);
  period start/end     the insurance year is fixed (tz-chf: 1 July to 30 June); a policy
                       paid mid-year runs to the end of that year; later years repeat it;
  neither              twelve months from payment.
A monthly (wage) contribution scheme is covered month by month: each fully paid month
extends the cover to that month's last day. Cover continues `grace_period_days` after
the end while the renewal or the next contribution is paid.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from ..definitions.model import Scheme


def add_months(d: date, months: int) -> date:
    month = d.month - 1 + months
    year = d.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def shift_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def month_end(d: date) -> date:
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def period_of(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def parse_period(text: str) -> date:
    """'2025-03' -> date(2025, 3, 1); ValueError if it is not a month."""
    text = (text or "").strip()
    if len(text) != 7 or text[4] != "-":
        raise ValueError(text)
    return date(int(text[:4]), int(text[5:]), 1)


def months_between(first: date, last: date) -> list[str]:
    out, d = [], date(first.year, first.month, 1)
    while d <= last:
        out.append(period_of(d))
        d = add_months(d, 1)
    return out


def is_monthly(scheme: Scheme) -> bool:
    c = scheme.contributions
    return c is not None and c.frequency == "monthly"


def grace_days(scheme: Scheme) -> int:
    return scheme.contributions.grace_period_days if scheme.contributions else 0


def scheme_year(scheme: Scheme, d: date) -> tuple[date, date] | None:
    """The fixed insurance year containing d (the declared period repeated every year)."""
    start = scheme.period_start
    if start is None or scheme.period_months is not None:
        return None
    k = d.year - start.year
    for years in (k + 1, k, k - 1, k - 2):
        s = shift_years(start, years)
        if s <= d:
            nxt = shift_years(start, years + 1)
            return s, nxt - timedelta(days=1)
    return None


def term_end(scheme: Scheme, start: date) -> date:
    """The last day of cover of a (yearly) policy whose premium was fully paid on `start`."""
    if scheme.period_months:
        return add_months(start, scheme.period_months) - timedelta(days=1)
    year = scheme_year(scheme, start)
    if year is not None:
        return year[1]
    return add_months(start, 12) - timedelta(days=1)


def year_start(scheme: Scheme, policy_start: date | None, d: date) -> date | None:
    """The start of the policy year that counts limits and ceilings for a service on d."""
    year = scheme_year(scheme, d)
    if year is not None:
        return year[0]
    if policy_start is None:
        return None
    months = scheme.period_months or 12
    start = policy_start
    while add_months(start, months) <= d:
        start = add_months(start, months)
    return start
