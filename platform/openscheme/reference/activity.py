"""What the demo's beneficiaries have done already, so that every role finds work on the first day.

- Insurance schemes: half of the synthetic households or people (the first that qualify) are enrolled and has paid, so that it
  is covered today (a facility clerk can verify it and submit claims). Enrolled on the insurance
  year's start, or 200 days ago, and renewed without a gap when the year began recently, so that
  waiting periods are over; a wage scheme's member has paid every month's shares since.
- Voucher schemes: half of them, among the entitled people, have received the voucher set (a clerk can
  redeem), 40 days ago when they were entitled then; every other one of those used a voucher last
  month at a facility of their country, so that a payment officer has a facility to reimburse.

Everything goes through the services the screens use (`policies.service`, `vouchers.service`), as
the demo's enrolment officer. Idempotent: units that have a policy or vouchers count towards the half
and are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from ..definitions.model import Scheme
from ..evaluation import evaluate
from ..policies import terms
from ..policies.formal import shares as wage_shares
from ..policies.service import Policies, PolicyError
from ..registry.values import record_input
from ..storage.models import Facility, Household, Individual, Location, User
from ..storage.workflow_models import Policy, Voucher
from ..vouchers import service as vouchers

ENROLLED_DAYS_AGO = 200
VOUCHERS_DAYS_AGO = 40


@dataclass
class ActivityReport:
    scheme: str
    policies: int = 0
    vouchers: int = 0
    redeemed: int = 0

    def __str__(self) -> str:
        done = []
        if self.policies:
            done.append(f"{self.policies} insured")
        if self.vouchers:
            done.append(f"{self.vouchers} with vouchers")
        if self.redeemed:
            done.append(f"{self.redeemed} vouchers used last month")
        return f"{self.scheme}: {', '.join(done) or 'nothing to add'}"


def demo_units(session, scheme: Scheme) -> list:
    """The scheme's synthetic units (import key demo:<n>), in the order they were registered."""
    model = Household if scheme.is_household else Individual
    query = select(model).where(model.scheme_code == scheme.code, model.import_key.like("demo:%"), model.active.is_(True))
    if not scheme.is_household:
        query = query.where(Individual.household_id.is_(None))
    return list(session.scalars(query.order_by(model.id)))


def enrolment_dates(scheme: Scheme, today: date) -> tuple[date, date | None]:
    """When to enrol so that cover is active today with waiting periods over; and when to renew (or None)."""
    year = terms.scheme_year(scheme, today)
    if year is None or terms.is_monthly(scheme):
        return today - timedelta(days=ENROLLED_DAYS_AGO), None
    if (today - year[0]).days >= 100:
        return year[0], None
    renew_on = year[0] - timedelta(days=5)
    return terms.scheme_year(scheme, renew_on - timedelta(days=30))[0], renew_on


def insure(policies: Policies, scheme: Scheme, unit, today: date) -> None:
    enrolled_on, renew_on = enrolment_dates(scheme, today)
    method = scheme.contributions.payment_methods[0] if scheme.contributions and scheme.contributions.payment_methods \
        else "cash"
    policy = policies.enrol(scheme.code, unit, None, enrolled_on)
    if terms.is_monthly(scheme):
        shares = wage_shares(scheme, unit)
        for period in terms.months_between(enrolled_on, today):
            for payer in ("employer", "employee"):
                policies.record_payment(policy, shares[payer], method, f"DEMO-{unit.uid}-{period}-{payer}",
                                        enrolled_on, payer=payer, period=period)
        return
    if policy.premium > 0:
        policies.record_payment(policy, policy.premium, method, f"DEMO-{unit.uid}", enrolled_on)
    if renew_on is not None:
        policy = policies.renew(policy, renew_on)
        if policy.premium > 0:
            policies.record_payment(policy, policy.premium, method, f"DEMO-{unit.uid}-R", renew_on)


def entitled(scheme: Scheme, person: Individual, benefit_code: str, on: date) -> bool:
    ev = evaluate(scheme, record_input(person.data, None, False), as_of=on, explain=False)
    outcome = ev.benefit(benefit_code)
    return ev.record.ok and ev.eligible and outcome is not None and outcome.entitled


def use_one_last_month(session, scheme: Scheme, benefit, person: Individual, issued: list, today: date, user) -> int:
    """Redeem the first voucher valid last month at a facility of the country that takes it; 1 if done."""
    last_month_end = today.replace(day=1) - timedelta(days=1)
    query = select(Facility).join(Location, Location.id == Facility.location_id) \
        .where(Facility.active.is_(True), Location.path.like(f"/{scheme.country}/%")).order_by(Facility.code)
    if benefit.facility_levels:
        query = query.where(Facility.level.in_(benefit.facility_levels))
    facility = session.scalar(query)
    for voucher in issued:
        on = max(voucher.valid_from, last_month_end.replace(day=1))
        if facility is None or on > last_month_end or (voucher.valid_until and on > voucher.valid_until):
            continue
        services = next((v.services for v in benefit.vouchers if v.type == voucher.type), ())
        if services:
            vouchers.redeem(session, scheme, voucher.code, facility=facility, service_code=services[0],
                            holder_uid=person.uid, on=on, user=user)
            return 1
    return 0


def seed_activity(database, catalog, scheme_code: str, officer: str = "enrolment",
                  today: date | None = None) -> ActivityReport:
    today = today or date.today()
    scheme = catalog.current(scheme_code)
    report = ActivityReport(scheme_code)
    kinds = {b.kind for b in scheme.benefits}
    if not kinds & {"insurance", "voucher"}:
        return report
    with database.session_factory() as session, session.begin():
        user = session.scalar(select(User).where(User.username == officer))
        policies = Policies(session, catalog, user, "demo")
        version_id = catalog.version_id(scheme.code)
        units = demo_units(session, scheme)
        left = (len(units) + 1) // 2
        for unit in units:
            if left <= 0:
                break
            if "insurance" in kinds:
                insured = session.scalar(select(Policy.id).where(
                    Policy.scheme_code == scheme.code, Policy.unit_id == unit.id,
                    Policy.unit_type == ("household" if isinstance(unit, Household) else "individual")).limit(1))
                if insured is not None:
                    left -= 1
                    continue
                try:
                    with session.begin_nested():
                        insure(policies, scheme, unit, today)
                    report.policies += 1
                    left -= 1
                except PolicyError:
                    pass  # not eligible (the synthetic record says so): stays uninsured
            for benefit in scheme.benefits:
                if benefit.kind != "voucher" or not isinstance(unit, Individual):
                    continue
                if session.scalar(select(Voucher.id).where(Voucher.individual_id == unit.id).limit(1)) is not None:
                    left -= 1
                    continue
                issued_on = today - timedelta(days=VOUCHERS_DAYS_AGO)
                if not entitled(scheme, unit, benefit.code, issued_on):
                    issued_on = today
                    if not entitled(scheme, unit, benefit.code, today):
                        continue
                vouchers.enrol(session, scheme, unit, issued_on, version_id)
                issued = vouchers.issue(session, scheme, benefit, unit, issued_on, user)
                report.vouchers += 1
                left -= 1
                if report.vouchers % 2 == 1:
                    report.redeemed += use_one_last_month(session, scheme, benefit, unit, issued, today, user)
    return report
