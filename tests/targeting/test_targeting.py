"""Targeting runs: set-based SQL where possible, Python otherwise, same answer as the per-record engine."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from openscheme.evaluation import evaluate
from openscheme.registry.service import Registry
from openscheme.storage.models import Enrolment
from openscheme.storage.workflow_models import TargetingResult
from openscheme.targeting.run import TargetingError, approve_run, plan_rules, run_targeting

AS_OF = date(2020, 8, 1)
DISTRICTS = {"URR": ["BSE", "KNT", "WUL"], "CRR": ["JAN"], "WCR": ["KBW"]}

AVERAGE_SCHEME = """
scheme:
  code: test-average
  version: 1
  title: {en: Average income test}
  currency: GMD
  languages: [en]
  benefit_kinds: [cash]
  unit: household
roles:
  head: {min: 1, max: 1}
fields:
  - {name: village, type: text, required: true}
members:
  fields:
    - {name: income, type: money}
    - preset: date_of_birth
eligibility:
  - name: low_average_income
    # division has no exact SQL translation: this rule runs in Python
    formula: sum(members, coalesce(income, 0)) / count(members) < 1000
    reason: {en: Average income too high}
  - name: has_a_child
    formula: any(members, age(dob) < 18)
    reason: {en: No child}
benefits:
  - code: grant
    kind: cash
    label: {en: Grant}
    amount: 100
    schedule: {frequency: monthly, cycles: 1}
"""


def nafa_household(rng: random.Random, i: int) -> dict:
    region = rng.choice(list(DISTRICTS))
    members = [{"first_name": f"A{i}", "last_name": "B", "sex": rng.choice("FM"),
                "dob": date(rng.randint(1950, 2019), rng.randint(1, 12), rng.randint(1, 28)).isoformat(),
                "roles": ["head", "primary_recipient"] if j == 0 else []} for j in range(rng.randint(1, 6))]
    return {"region": region, "district": rng.choice(DISTRICTS[region]), "village": "V", "payment_channel": "cash_agent",
            "members": members}


@pytest.fixture
def registry(app, session, users):
    catalog = app.extensions["openscheme"].catalog
    return Registry(session, catalog, user=None)


def expected_eligibility(scheme, session, registry, unit_ids):
    from openscheme.storage.models import Household

    out = {}
    for hid in unit_ids:
        hh = session.get(Household, hid)
        ev = evaluate(scheme, registry.input_of(hh), as_of=AS_OF, explain=False)
        out[hid] = (ev.eligible, sorted(ev.failed_rules))
    return out


def results(session, run):
    rows = session.execute(select(TargetingResult.unit_id, TargetingResult.eligible, TargetingResult.failed_rules)
                           .where(TargetingResult.run_id == run.id)).all()
    return {uid: (bool(e), sorted(x for x in f.split(",") if x)) for uid, e, f in rows}


def test_sql_targeting_matches_the_engine(app, session, registry):
    catalog = app.extensions["openscheme"].catalog
    scheme = catalog.current("gm-nafa-quick")
    rng = random.Random(7)
    ids = []
    for i in range(40):
        saved = registry.register("gm-nafa-quick", nafa_household(rng, i))
        assert saved.ok, saved.errors
        ids.append(saved.record.id)
    session.commit()
    assert all(p.sql for p in plan_rules(scheme, session.get_bind().dialect.name))
    run = run_targeting(session, scheme, catalog.version_id("gm-nafa-quick"), as_of=AS_OF)
    session.commit()
    got = results(session, run)
    assert got == expected_eligibility(scheme, session, registry, ids)
    assert run.eligible_count + run.excluded_count == 40
    assert 0 < run.eligible_count < 40
    assert run.method == {"poorest_district": "sql"}


def test_untranslatable_rules_run_in_python_and_mix_with_sql(app, session, tmp_path: Path):
    catalog = app.extensions["openscheme"].catalog
    (tmp_path / "avg.yaml").write_text(AVERAGE_SCHEME, "utf-8")
    report = catalog.load_paths([tmp_path / "avg.yaml"])
    assert report.ok, report.failed
    scheme = catalog.current("test-average")
    reg = Registry(session, catalog)
    rng = random.Random(3)
    ids = []
    for i in range(30):
        members = [{"income": str(rng.choice([0, 500, 900, 1500, 3000])),
                    "dob": date(rng.randint(1960, 2015), 1, 1).isoformat(), "roles": ["head"] if j == 0 else []}
                   for j in range(rng.randint(1, 4))]
        saved = reg.register("test-average", {"village": f"v{i}", "members": members})
        assert saved.ok, saved.errors
        ids.append(saved.record.id)
    session.commit()
    plans = {p.name: p for p in plan_rules(scheme, session.get_bind().dialect.name)}
    assert plans["low_average_income"].sql is None and plans["low_average_income"].why_python
    assert plans["has_a_child"].sql is not None
    run = run_targeting(session, scheme, catalog.version_id("test-average"), as_of=AS_OF)
    session.commit()
    assert results(session, run) == expected_eligibility(scheme, session, reg, ids)
    assert run.method["low_average_income"].startswith("python")


def test_approval_needs_a_second_person_and_enrols_the_eligible(app, session, registry, users):
    from openscheme.storage.models import User

    catalog = app.extensions["openscheme"].catalog
    scheme = catalog.current("gm-nafa-quick")
    rng = random.Random(11)
    for i in range(10):
        assert registry.register("gm-nafa-quick", nafa_household(rng, i)).ok
    maker = session.get(User, users["payment_officer"])
    checker = session.get(User, users["enrolment_officer"])
    run = run_targeting(session, scheme, catalog.version_id("gm-nafa-quick"), as_of=AS_OF, user=maker)
    with pytest.raises(TargetingError, match="cannot approve"):
        approve_run(session, run, maker, scheme=scheme)
    enrolled = approve_run(session, run, checker, scheme=scheme)
    session.commit()
    assert enrolled == run.eligible_count
    assert session.query(Enrolment).filter_by(scheme_code="gm-nafa-quick", status="active").count() == enrolled
    # a second approved run enrols nobody twice
    run2 = run_targeting(session, scheme, catalog.version_id("gm-nafa-quick"), as_of=AS_OF, user=maker)
    assert approve_run(session, run2, checker, scheme=scheme) == 0
