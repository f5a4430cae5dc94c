"""What verification says of a policy in its grace period follows how the scheme is paid: np-ssf is paid
by monthly contributions, so the month whose contribution is due is named (not "the renewal is due",
which was said of every scheme); a yearly premium (np-hib) keeps "the renewal is due". In French too."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "claims"))

from e2e_helpers import as_role, text  # noqa: E402

from insurance_helpers import hib_family, insured, seed_insurance, ssf_employee, staff  # noqa: E402
from openscheme.policies import terms  # noqa: E402

# cover to the end of last month; the page is read on the 10th of this month, within the 30 days of
# grace (read on the 31st, no month's end would be fewer than 30 days back)
LAST_PAID_MONTH_END = date.today().replace(day=1) - timedelta(days=1)
AS_OF = LAST_PAID_MONTH_END + timedelta(days=10)
DUE = terms.period_of(AS_OF)  # the month after the last one paid


@pytest.fixture
def verified_on(monkeypatch):
    """The verification page reads "today" as AS_OF."""
    from openscheme.web import verify_views

    class Day(date):
        @classmethod
        def today(cls):
            return AS_OF

    monkeypatch.setattr(verify_views, "date", Day)


def ssf_in_grace(app) -> tuple[str, int]:
    """An np-ssf employee whose contributions are paid up to last month (cover to its last day)."""
    from sqlalchemy import select

    from openscheme.policies.formal import shares
    from openscheme.policies.service import Policies
    from openscheme.storage.models import Individual
    from openscheme.storage.workflow_models import Policy

    enrolled = (LAST_PAID_MONTH_END - timedelta(days=100)).replace(day=1)
    uid, policy_id = insured(app, "np-ssf", ssf_employee(), enrolled_on=enrolled, pay=False)
    state = app.extensions["openscheme"]
    scheme = state.catalog.current("np-ssf")
    with state.db.session_factory() as s, s.begin():
        unit = s.scalar(select(Individual).where(Individual.uid == uid))
        policies, policy = Policies(s, state.catalog, staff(s, "enrolment_officer")), s.get(Policy, policy_id)
        monthly = shares(scheme, unit)
        for period in terms.months_between(enrolled, LAST_PAID_MONTH_END):
            for payer in ("employer", "employee"):
                policies.record_payment(policy, monthly[payer], "bank_transfer", f"{uid}-{period}-{payer}", enrolled,
                                        payer=payer, period=period)
    with state.db.session_factory() as s:
        policy = s.get(Policy, policy_id)
        assert (policy.status, policy.expiry_date) == ("active", LAST_PAID_MONTH_END)
    return uid, policy_id


def test_a_monthly_contribution_scheme_in_grace_names_the_month_due(app, client, verified_on):
    seed_insurance(app)
    ssf_in_grace(app)
    as_role(app, client, "facility_clerk")
    until = (LAST_PAID_MONTH_END + timedelta(days=30)).isoformat()
    page = text(client.get("/verify?q=2024001234"))
    assert page.count(f"In the grace period until {until}: the contribution for {DUE} is due.") == 2, page
    assert "renewal" not in page
    fr = text(client.get("/verify?q=2024001234&lang=fr"))
    assert fr.count(f"En période de grâce jusqu'au {until} : la cotisation de {DUE} est due.") == 2, fr
    assert "renouvellement" not in fr


def test_the_api_says_which_month_is_due(app, client):
    from sqlalchemy import select

    from openscheme.claims.coverage import coverage
    from openscheme.storage.models import Individual

    seed_insurance(app)
    uid, _ = ssf_in_grace(app)
    state = app.extensions["openscheme"]
    with state.db.session_factory() as s:
        person = s.scalar(select(Individual).where(Individual.uid == uid))
        covers = coverage(s, state.catalog.current("np-ssf"), person, AS_OF, "en")
        assert [(c.status, c.due_period) for c in covers] == [("in_grace", DUE)] * 2
        assert covers[0].as_json()["due_period"] == DUE
        paid_up = coverage(s, state.catalog.current("np-ssf"), person, LAST_PAID_MONTH_END, "en")
        assert [(c.status, c.due_period) for c in paid_up] == [("covered", None)] * 2


def test_a_yearly_premium_in_grace_keeps_the_renewal_due(app, client, monkeypatch):
    from openscheme.web import verify_views

    seed_insurance(app)
    # a 12-month term paid 12 months and 5 days ago: it ended 6 days ago, the grace period runs
    paid_on = terms.add_months(date.today(), -12) - timedelta(days=5)
    uid, _ = insured(app, "np-hib", hib_family(), enrolled_on=paid_on)
    expiry = terms.add_months(paid_on, 12) - timedelta(days=1)

    class Day(date):
        @classmethod
        def today(cls):
            return expiry + timedelta(days=6)

    monkeypatch.setattr(verify_views, "date", Day)
    as_role(app, client, "facility_clerk")
    until = (expiry + timedelta(days=30)).isoformat()
    page = text(client.get(f"/verify?q={uid}"))
    assert f"In the grace period until {until}: the renewal is due." in page, page
    assert "the contribution for" not in page
    fr = text(client.get(f"/verify?q={uid}&lang=fr"))
    assert f"En période de grâce jusqu'au {until} : le renouvellement est dû." in fr
