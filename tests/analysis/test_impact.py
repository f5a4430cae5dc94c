"""The impact of a scheme change on the registry: set-based counts equal the per-record engine."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from analysis_helpers import NAFA, register_nafa
from openscheme.analysis import workbench
from openscheme.analysis.impact import area_field, impact, render
from openscheme.definitions import compile_text
from openscheme.evaluation import evaluate
from openscheme.payments.entitlements import entitlement
from openscheme.registry.values import record_input
from openscheme.storage.models import Household, Individual
from openscheme.targeting.loading import iter_units

AS_OF = date(2020, 8, 1)
NEW_RULE = "district in poorest_districts and count(members) >= 3"


@pytest.fixture
def nafa(app, session):
    register_nafa(app, session, n=40)
    return app.extensions["openscheme"].catalog.current(NAFA)


def changed(scheme, key, formula):
    text, result = workbench.apply(scheme, key, formula, run_tests=False)
    assert result.ok, [str(d) for d in result.errors]
    return result.scheme


def engine_outcomes(session, scheme):
    """(eligible, amount) per unit through the per-record engine - the reference."""
    out = {}
    for hh in session.scalars(select(Household).where(Household.scheme_code == NAFA, Household.active)):
        members = session.execute(select(Individual.data, Individual.roles).where(
            Individual.household_id == hh.id, Individual.active).order_by(Individual.position, Individual.id)).all()
        ev = evaluate(scheme, record_input(hh.data, [(d, r) for d, r in members], True), as_of=AS_OF)
        b = ev.benefit("nafa_quick")
        out[hh.id] = (ev.eligible, b.amount.value if b and b.amount and b.entitled else Decimal(0), hh.data["district"])
    return out


def test_counts_and_costs_equal_the_engine(session, nafa):
    new = changed(nafa, "eligibility.poorest_district", NEW_RULE)
    report = impact(session, nafa, new, as_of=AS_OF)
    before, after = engine_outcomes(session, nafa), engine_outcomes(session, new)
    assert report.units == report.total_units == 40 and not report.truncated
    assert report.eligible_before == sum(e for e, _, _ in before.values())
    assert report.eligible_after == sum(e for e, _, _ in after.values())
    lost = {u for u in before if before[u][0] and not after[u][0]}
    assert report.lost == len(lost) > 0 and report.gained == 0
    assert report.methods == {"old rule poorest_district": "sql", "new rule poorest_district": "sql"}
    # per district
    for area in report.areas:
        assert area.lost == sum(1 for u in lost if before[u][2] == area.code)
    assert {a.code for a in report.areas} <= {"BSE", "KNT", "WUL", "JAN", "KBW"}
    assert next(a for a in report.areas if a.code == "BSE").label == "Basse"
    # cost per cycle: exactly the engine's amounts of the eligible
    cost = report.costs[0]
    assert cost.code == "nafa_quick"
    assert cost.before_total == sum(a for e, a, _ in before.values() if e)
    assert cost.after_total == sum(a for e, a, _ in after.values() if e)
    assert report.saves == sum(before[u][1] for u in lost) > 0
    # the sample: dropped households, each explained before and after
    assert report.sample and all(s.change == "loses" for s in report.sample)
    s = report.sample[0]
    assert s.before.eligible and not s.after.eligible and s.after.failed == ["poorest_district"]
    assert any("count(members)" in line for line in s.after.lines)
    text = render(report)
    assert "lose eligibility: " + str(report.lost) in text and "saves" in text and "Basse" in text
    assert "eligibility rule poorest_district: formula" in text


def test_the_explanations_in_french(session, nafa):
    new = changed(nafa, "eligibility.poorest_district", NEW_RULE)
    english = impact(session, nafa, new, as_of=AS_OF, sample_size=2)
    french = impact(session, nafa, new, as_of=AS_OF, sample_size=2, lang="fr")
    assert [s.uid for s in french.sample] == [s.uid for s in english.sample]
    before, after = english.sample[0].before.lines, english.sample[0].after.lines
    assert before[:2] == ["eligible", "[pass] poorest_district"] and after[0] == "not eligible"
    assert any(line.startswith("[FAIL] poorest_district: ") for line in after)
    assert "    not entitled: the beneficiary is not eligible for the scheme" in after
    before, after = french.sample[0].before.lines, french.sample[0].after.lines
    assert before[:2] == ["éligible", "[remplie] poorest_district"] and after[0] == "non éligible"
    assert any(line.startswith("[NON REMPLIE] poorest_district : ") for line in after)
    assert "    pas de droit : le bénéficiaire n'est pas éligible au régime" in after
    assert any("cycle(s) mensuel(s)" in line for line in before)
    said = "\n".join(before + after)
    for word in ("eligible\n", "[pass]", "[FAIL]", "not entitled", "per cycle", " is true", " is false", "monthly"):
        assert word not in said, word
    assert french.costs[0].frequency_in("fr") == "mensuel" and english.costs[0].frequency_in() == "monthly"
    # a rule that runs in Python says so in either language
    py_new = changed(nafa, "eligibility.poorest_district", "district in poorest_districts and count(members) / 1 >= 3")
    report = impact(session, nafa, py_new, as_of=AS_OF)
    assert report.python_rules() == [f"new rule poorest_district ({report.methods['new rule poorest_district']})"]
    assert report.python_rules("fr")[0].startswith("règle poorest_district (nouvelle version) (Python (")


def test_python_path_gives_the_same_report(session, nafa):
    """A rule with division has no exact SQL: the whole count runs in Python batches, same answer."""
    sql_new = changed(nafa, "eligibility.poorest_district", NEW_RULE)
    py_new = changed(nafa, "eligibility.poorest_district",
                     "district in poorest_districts and count(members) / 1 >= 3")
    a = impact(session, nafa, sql_new, as_of=AS_OF)
    b = impact(session, nafa, py_new, as_of=AS_OF, batch=7)
    assert b.methods["new rule poorest_district"].startswith("python")
    for attr in ("eligible_before", "eligible_after", "gained", "lost", "cost_before", "cost_after"):
        assert getattr(a, attr) == getattr(b, attr), attr
    assert [(x.code, x.before, x.after, x.lost) for x in a.areas] == [(x.code, x.before, x.after, x.lost) for x in b.areas]


def test_an_amount_change_costs_more_and_gains_nobody(session, nafa):
    new = changed(nafa, "benefits.nafa_quick.amount", "min(base_amount + 150 * count(members), max_amount)")
    report = impact(session, nafa, new, as_of=AS_OF)
    assert report.gained == report.lost == 0 and report.eligible_before == report.eligible_after
    assert report.cost_after > report.cost_before
    assert report.sample and all(s.change == "amount" for s in report.sample)
    scheme_units = {uid: values for batch in iter_units(session, new) for uid, values in batch}
    expected = sum(entitlement(new, new.benefit("nafa_quick"), uid, v, AS_OF).amount
                   for uid, v in scheme_units.items() if v["district"] in ("BSE", "KNT", "WUL", "JAN"))
    assert report.cost_after == expected


def test_a_row_limit_reads_the_first_units_and_says_so(session, nafa):
    new = changed(nafa, "eligibility.poorest_district", NEW_RULE)
    report = impact(session, nafa, new, as_of=AS_OF, limit=10)
    assert report.units == 10 and report.total_units == 40 and report.truncated
    assert "of 40 units" in render(report)


def test_area_falls_back_to_location_fields(app):
    catalog = app.extensions["openscheme"].catalog
    chf = catalog.current("tz-chf")
    assert area_field(chf).name == "district"
    assert area_field(catalog.current(NAFA)).name == "district"
    text = catalog.current("cm-educash").text
    scheme = compile_text(text, run_tests=False).scheme
    f = area_field(scheme)
    assert f is None or f.type in ("location", "select_one")
