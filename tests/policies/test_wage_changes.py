"""Formal sector: a wage change counts from the month it is recorded in. The months paid before keep the
shares of their wage: a raise neither puts them into arrears nor stops the cover from moving on."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from insurance_helpers import RECORDS, TODAY, insured, seed_insurance, staff
from openscheme.policies import formal, terms
from openscheme.policies.service import Policies, PolicyError
from openscheme.registry.service import Registry
from openscheme.storage.models import Individual
from openscheme.storage.workflow_models import Policy

D = Decimal


@pytest.fixture
def raised(app):
    """An employee paid up from four months ago at 50,000, whose wage is now 60,000."""
    seed_insurance(app)
    uid, policy_id = insured(app, "np-ssf", enrolled_on=TODAY.replace(day=1) - timedelta(days=100))
    state = app.extensions["openscheme"]
    with state.db.session_factory() as s, s.begin():
        person = s.scalar(select(Individual).where(Individual.uid == uid))
        assert Registry(s, state.catalog, None, "en").update(person, RECORDS["np-ssf"]() | {"monthly_wage": 60000}).ok
    return app, policy_id


def test_the_months_paid_before_a_raise_stay_paid(raised):
    app, policy_id = raised
    state = app.extensions["openscheme"]
    scheme = state.catalog.current("np-ssf")
    with state.db.session_factory() as s:
        policy = s.get(Policy, policy_id)
        months = formal.policy_schedule(s, scheme, policy)
        assert all(m.status(TODAY) == "paid" for m in months[:-1]) and len(months) >= 4
        assert {(m.employer_due, m.employee_due) for m in months[:-1]} == {(D("10000.00"), D("5500.00"))}
        current = months[-1]
        assert (current.employer_due, current.employee_due) == (D("12000.00"), D("6600.00"))
        assert current.balance == D("3100.00") and not current.complete
        assert formal.arrears(s, scheme, TODAY) == []
        late = formal.arrears(s, scheme, formal.due_date(scheme, current.period) + timedelta(days=1))
        assert [[m.period for m in a.months] for a in late] == [[current.period]] and late[0].amount == D("3100.00")


def test_the_difference_is_due_and_the_cover_moves_on(raised):
    app, policy_id = raised
    state = app.extensions["openscheme"]
    with state.db.session_factory() as s:
        policies = Policies(s, state.catalog, staff(s, "enrolment_officer"))
        policy = s.get(Policy, policy_id)
        period = terms.period_of(TODAY)
        with pytest.raises(PolicyError) as exc:
            policies.record_payment(policy, "2001", "bank_transfer", "RAISE-0", TODAY, payer="employer", period=period)
        assert exc.value.code == "too_much" and "2000" in exc.value.message
        policies.record_payment(policy, "2000", "bank_transfer", "RAISE-1", TODAY, payer="employer", period=period)
        policies.record_payment(policy, "1100", "bank_transfer", "RAISE-2", TODAY, payer="employee", period=period)
        following = terms.period_of(terms.add_months(TODAY.replace(day=1), 1))
        policies.record_payment(policy, "12000", "bank_transfer", "NEXT-1", TODAY, payer="employer", period=following)
        policies.record_payment(policy, "6600", "bank_transfer", "NEXT-2", TODAY, payer="employee", period=following)
        s.commit()
        assert policy.status == "active" and policy.expiry_date == terms.month_end(terms.parse_period(following))


def test_the_policy_page_shows_the_contribution_of_the_current_wage(raised, client):
    """The policy keeps the total of its enrolment month; the page shows what a month costs now."""
    import re
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "claims"))
    from e2e_helpers import as_role

    app, policy_id = raised
    as_role(app, client, "enrolment_officer")
    page = client.get(f"/policies/{policy_id}").get_data(as_text=True)
    assert re.search(r'id="premium">18,600<', page), re.findall(r'id="premium">[^<]*<', page)
