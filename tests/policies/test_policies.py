"""Policies and contributions end to end for every insurance example: enrolment with the premium and its
explanation, partial payments, activation from the full payment, terms, grace, expiry, renewal, receipts
unique per method, and the formal sector's employers, monthly schedule and arrears."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from insurance_helpers import (
    RECORDS,
    TODAY,
    chf_household,
    insured,
    seed_insurance,
    ssf_employee,
    staff,
)
from openscheme.evaluation import explanations
from openscheme.policies import formal, terms
from openscheme.policies.models import Employer
from openscheme.policies.service import Policies, PolicyError
from openscheme.registry.service import Registry
from openscheme.storage.models import AuditLog
from openscheme.storage.workflow_models import Contribution, Policy

D = Decimal


@pytest.fixture
def ctx(app, session):
    seed_insurance(app)
    catalog = app.extensions["openscheme"].catalog
    officer = staff(session, "enrolment_officer")
    session.commit()
    return session, catalog, Policies(session, catalog, officer)


def register(session, catalog, code, data):
    result = Registry(session, catalog, None, "en").register(code, data)
    assert result.ok, result.errors
    return result.record


def test_enrol_a_household_with_the_premium_explained_and_pay_in_two_parts(ctx):
    session, catalog, policies = ctx
    members = [{"first_name": f"M{i}", "last_name": "Juma", "sex": "M" if i % 2 else "F",
                "dob": "1980-01-01" if i < 3 else "2015-01-01", **({"roles": ["head"]} if i == 0 else {})} for i in range(8)]
    unit = register(session, catalog, "tz-chf", chf_household(members))
    on = date(2025, 10, 15)
    policy = policies.enrol("tz-chf", unit, None, on)
    # 30,000 lump sum for 6 + 2 extra children x 2,500 + registration 2,000 (tz_chf's own test case)
    assert policy.status == "pending" and policy.premium == D("37000.00")
    explained = explanations.lines(policy.premium_explanation, "en")  # kept as [English, key, params] per line
    assert any("lump sum 30,000" in line for line in explained)
    assert any("2 extra child(ren)" in line for line in explained)
    assert [line[0] for line in policy.premium_explanation] == explained
    with pytest.raises(PolicyError) as exc:
        policies.enrol("tz-chf", unit, None, on)
    assert exc.value.code == "already_enrolled"

    policies.record_payment(policy, "20000", "cash", "r-0001", date(2025, 10, 16))
    assert policy.status == "pending" and policies.balance(policy) == D("17000")
    with pytest.raises(PolicyError) as exc:
        policies.record_payment(policy, "20000", "cash", "R-0002", date(2025, 10, 17))
    assert exc.value.code == "too_much"
    with pytest.raises(PolicyError) as exc:  # the same receipt twice (references are kept in capitals)
        policies.record_payment(policy, "1000", "cash", " R-0001 ", date(2025, 10, 17))
    assert exc.value.code == "duplicate_reference"
    policies.record_payment(policy, "17000", "mobile_money", "MP240101XYZ", date(2025, 11, 2))
    # the full payment starts the cover; the insurance year ends on 30 June
    assert policy.status == "active"
    assert (policy.start_date, policy.expiry_date) == (date(2025, 11, 2), date(2026, 6, 30))
    actions = session.scalars(select(AuditLog.action).where(AuditLog.scheme_code == "tz-chf").order_by(AuditLog.id)).all()
    assert actions == ["create", "enrol", "payment", "payment", "approve"]  # registered, enrolled, paid, started


def test_the_receipt_number_is_unique_per_method_in_the_database(ctx):
    session, catalog, policies = ctx
    unit = register(session, catalog, "tz-chf", chf_household())
    policy = policies.enrol("tz-chf", unit, None, date(2025, 10, 1))
    policies.record_payment(policy, "1000", "cash", "A-1", date(2025, 10, 1))
    policies.record_payment(policy, "1000", "mobile_money", "A-1", date(2025, 10, 1))  # another method: fine
    session.commit()
    session.add(Contribution(policy_id=policy.id, amount=D(1), paid_on=date(2025, 10, 1), method="cash", reference="A-1"))
    with pytest.raises(Exception):  # noqa: B017 - IntegrityError from either driver
        session.flush()
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Contribution)) == 2


def test_premium_of_a_formula_scheme_and_a_free_scheme(ctx):
    session, catalog, policies = ctx
    family = register(session, catalog, "np-hib", RECORDS["np-hib"]())
    policy = policies.enrol("np-hib", family, None, date(2025, 9, 1))
    assert policy.premium == D("3500.00") and policy.status == "pending"
    policies.record_payment(policy, "3500", "cash", "NP-1", date(2025, 9, 3))
    # np-hib: 12 months from the payment
    assert (policy.status, policy.start_date, policy.expiry_date) == ("active", date(2025, 9, 3), date(2026, 9, 2))
    patient = register(session, catalog, "cm-hiv-waiver", RECORDS["cm-hiv-waiver"]())
    free = policies.enrol("cm-hiv-waiver", patient, None, date(2025, 3, 1))
    assert free.premium == 0 and free.status == "active" and free.expiry_date == date(2025, 12, 31)


def test_not_eligible_is_refused_with_the_reason(ctx):
    session, catalog, policies = ctx
    unit = register(session, catalog, "tz-chf", chf_household(district="BAHI_DC", ward="BAHI_WARD", village="BAHI_SOKONI",
                                                              members=[{"first_name": "Grace", "last_name": "P", "sex": "F",
                                                                        "dob": "2015-01-10", "roles": ["head"]}]))
    with pytest.raises(PolicyError) as exc:
        policies.enrol("tz-chf", unit, None, date(2025, 10, 1))
    assert exc.value.code == "not_eligible" and "at least one member aged 18" in exc.value.message


def test_lifecycle_expiry_grace_renewal_and_the_renewal_list(ctx):
    session, catalog, policies = ctx
    scheme = catalog.current("np-hib")
    family = register(session, catalog, "np-hib", RECORDS["np-hib"]())
    start = TODAY - timedelta(days=360)
    policy = policies.enrol("np-hib", family, None, start)
    policies.record_payment(policy, policy.premium, "cash", "LC-1", start)
    assert policy.expiry_date == terms.term_end(scheme, start) == terms.add_months(start, 12) - timedelta(days=1)
    due = policies.renewals_due("np-hib", 30)
    assert [p.id for p, _u in due] == [policy.id]
    policies.transition(policy, "suspend", "member asked")
    assert policy.status == "suspended"
    policies.transition(policy, "reinstate")
    assert policy.status == "active"
    # nothing expires while cover (and grace) lasts; later it does, by the system's `expire` step
    assert policies.expire_due("np-hib", TODAY) == 0
    later = policy.expiry_date + timedelta(days=31)
    assert policies.expire_due("np-hib", later) == 1
    session.refresh(policy)
    assert policy.status == "expired"
    renewal = policies.renew(policy, policy.expiry_date + timedelta(days=10))
    assert renewal.renewal_of_id == policy.id and renewal.status == "pending"
    with pytest.raises(PolicyError):
        policies.renew(policy)
    policies.record_payment(renewal, renewal.premium, "cash", "LC-2", min(TODAY, policy.expiry_date + timedelta(days=10)))
    assert renewal.status == "active"
    # paid within the grace period: the new term follows on without a gap
    assert renewal.start_date == policy.expiry_date + timedelta(days=1)
    assert renewal.premium == policy.premium  # np-hib declares no renewal discount


def test_a_clerk_cannot_take_enrolment_steps(ctx):
    session, catalog, _policies = ctx
    unit = register(session, catalog, "tz-chf", chf_household())
    clerk_policies = Policies(session, catalog, staff(session, "facility_clerk"))
    policy = Policies(session, catalog, staff(session, "enrolment_officer")).enrol("tz-chf", unit, None, date(2025, 10, 1))
    with pytest.raises(PolicyError) as exc:
        clerk_policies.transition(policy, "cancel")
    assert exc.value.code == "not_allowed"


def test_formal_sector_employer_monthly_schedule_and_arrears(ctx):
    session, catalog, policies = ctx
    scheme = catalog.current("np-ssf")
    first = date(TODAY.year, TODAY.month, 1) - timedelta(days=70)
    first = first.replace(day=1)
    employee = register(session, catalog, "np-ssf", ssf_employee())
    policy = policies.enrol("np-ssf", employee, None, first)
    assert policy.premium == D("15500.00") and policy.benefit_code == "*"
    employer = session.scalar(select(Employer).where(Employer.scheme_code == "np-ssf"))
    assert (employer.code, employer.name) == ("E004512", "Himal Textiles Pvt. Ltd.")
    assert formal.shares(scheme, employee) == {"employer": D("10000.00"), "employee": D("5500.00"), "total": D("15500.00")}
    p1 = terms.period_of(first)
    with pytest.raises(PolicyError) as exc:
        policies.record_payment(policy, "10001", "bank_transfer", "B-1", first, payer="employer", period=p1)
    assert exc.value.code == "too_much"
    policies.record_payment(policy, "10000", "bank_transfer", "B-1", first, payer="employer", period=p1)
    assert policy.status == "pending"  # the employee's share is still due
    policies.record_payment(policy, "5500", "bank_transfer", "B-2", first + timedelta(days=3), payer="employee", period=p1)
    assert policy.status == "active" and policy.expiry_date == terms.month_end(first)
    months = formal.policy_schedule(session, scheme, policy)
    assert months[0].status(TODAY) == "paid"
    assert [m.status(TODAY) for m in months[1:-1]] and all(m.status(TODAY) == "arrears" for m in months[1:-1])
    late = formal.arrears(session, scheme, TODAY)
    assert [a.policy.id for a in late] == [policy.id] and late[0].employer == "E004512"
    assert late[0].employer_amount == D(10000) * len(late[0].months)
    assert formal.arrears(session, scheme, TODAY, employer="E999999") == []
    # paying the next month extends the cover to its end
    p2 = terms.period_of(terms.add_months(first, 1))
    policies.record_payment(policy, "10000", "connect_ips", "C-1", TODAY, payer="employer", period=p2)
    policies.record_payment(policy, "5500", "connect_ips", "C-2", TODAY, payer="employee", period=p2)
    assert policy.expiry_date == terms.month_end(terms.add_months(first, 1))


@pytest.mark.parametrize("code", sorted(RECORDS))
def test_every_insurance_example_is_covered_after_payment(app, code):
    from openscheme.claims.coverage import coverage
    from openscheme.storage.models import Individual

    seed_insurance(app)
    uid, policy_id = insured(app, code)
    state = app.extensions["openscheme"]
    with state.db.session_factory() as s:
        policy = s.get(Policy, policy_id)
        assert policy.status == "active" and policy.start_date <= TODAY
        person = s.scalar(select(Individual).where(Individual.uid == uid)) if uid.startswith("P") else \
            s.scalar(select(Individual).where(Individual.household_id == policy.unit_id))
        covers = coverage(s, state.catalog.current(code), person, TODAY)
        assert covers and all(c.covered for c in covers), [(c.code, c.message) for c in covers]


def test_term_rules():
    from conftest import EXAMPLES
    from openscheme.definitions import load_scheme

    chf = load_scheme(EXAMPLES / "tz_chf.yaml")
    hib = load_scheme(EXAMPLES / "np_hib.yaml")
    assert terms.term_end(chf, date(2031, 2, 1)) == date(2031, 6, 30)
    assert terms.term_end(chf, date(2031, 7, 1)) == date(2032, 6, 30)
    assert terms.year_start(chf, date(2031, 8, 1), date(2031, 12, 1)) == date(2031, 7, 1)
    assert terms.term_end(hib, date(2030, 3, 31)) == date(2031, 3, 30)
    assert terms.year_start(hib, date(2030, 3, 31), date(2030, 5, 1)) == date(2030, 3, 31)
    assert terms.add_months(date(2030, 1, 31), 1) == date(2030, 2, 28)
    assert terms.months_between(date(2030, 11, 15), date(2031, 1, 2)) == ["2030-11", "2030-12", "2031-01"]
