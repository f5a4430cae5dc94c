"""DHIS2 indicators: declared in the YAML, checked at load, exported as dataValueSets."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from analysis_helpers import NAFA, register_nafa
from conftest import EXAMPLES
from openscheme.analysis.dhis2 import PeriodError, data_value_set, period_range
from openscheme.cli import main
from openscheme.definitions import compile_file, compile_text
from openscheme.storage.models import Household, Individual


def test_periods():
    assert period_range("202608") == (date(2026, 8, 1), date(2026, 8, 31))
    assert period_range("2024Q1") == (date(2024, 1, 1), date(2024, 3, 31))
    assert period_range("2025") == (date(2025, 1, 1), date(2025, 12, 31))
    for bad in ("2026-08", "202613", "26", "2026Q5"):
        with pytest.raises(PeriodError):
            period_range(bad)


def test_the_examples_declare_indicators():
    nafa = compile_file(EXAMPLES / "gm_nafa_quick.yaml").scheme
    people = next(i for i in nafa.indicators if i.name == "people_registered")
    assert not people.counts and people.data_element == "NQ_PEOPLE" and people.org_unit_field == "district"
    poorest = nafa.indicators[0]
    assert poorest.counts and poorest.combos == {"mobile_money": "NQ_MOBILE_MONEY", "cash_agent": "NQ_CASH_AGENT"}
    chf = compile_file(EXAMPLES / "tz_chf.yaml").scheme
    assert {i.population for i in chf.indicators} == {"enrolled"}


BAD = """
  - name: bad
    formula: district == "XX"
    data_element: X1
    disaggregate_by: {field: village, combos: {a: A}}
  - name: partial
    formula: count(members)
    data_element: X2
    disaggregate_by: {field: payment_channel, combos: {mobile_money: MM, cheque: CQ}}
  - name: texty
    formula: village
    data_element: X3
    org_unit_field: nowhere
"""


def test_indicator_mistakes_are_load_errors():
    text = (EXAMPLES / "gm_nafa_quick.yaml").read_text("utf-8").replace("indicators:\n", "indicators:" + BAD, 1)
    result = compile_text(text, "x.yaml", run_tests=False)
    found = {(d.code, d.message.split(" ")[0]) for d in result.errors}
    messages = " | ".join(d.message for d in result.errors)
    assert any(d.code == "E310" for d in result.errors)  # "XX" is not a district
    assert "'village' is not one" in messages
    assert "'cheque' is not a choice of 'payment_channel'" in messages
    assert "no category option combo for the choice(s) cash_agent" in messages
    assert "not text" in messages or any(d.code == "E506" for d in result.errors)
    assert "org_unit_field 'nowhere'" in messages
    assert found


def test_data_value_set_counts_and_sums_per_district(app, session):
    register_nafa(app, session, n=25)
    scheme = app.extensions["openscheme"].catalog.current(NAFA)
    period = date.today().strftime("%Y%m")
    doc = data_value_set(session, scheme, period, data_set="NQ_MONTHLY")
    assert doc["dataSet"] == "NQ_MONTHLY" and doc["period"] == period
    values = doc["dataValues"]
    # the reference: the registry itself
    people, poorest = {}, {}
    for hh in session.scalars(select(Household).where(Household.scheme_code == NAFA)):
        n = len(session.scalars(select(Individual.id).where(Individual.household_id == hh.id)).all())
        people[hh.data["district"]] = people.get(hh.data["district"], 0) + n
        if hh.data["district"] in ("BSE", "KNT", "WUL", "JAN"):
            key = (hh.data["district"], hh.data["payment_channel"])
            poorest[key] = poorest.get(key, 0) + 1
    got_people = {v["orgUnit"]: int(v["value"]) for v in values if v["dataElement"] == "NQ_PEOPLE"}
    assert got_people == people
    combos = {"mobile_money": "NQ_MOBILE_MONEY", "cash_agent": "NQ_CASH_AGENT"}
    got_poorest = {(v["orgUnit"], v["categoryOptionCombo"]): int(v["value"]) for v in values
                   if v["dataElement"] == "NQ_HH_POOREST"}
    assert got_poorest == {(d, combos[c]): n for (d, c), n in poorest.items()}
    assert all(set(v) <= {"dataElement", "period", "orgUnit", "categoryOptionCombo", "value"} for v in values)
    assert all(isinstance(v["value"], str) for v in values)
    # before anyone was registered: nothing
    assert data_value_set(session, scheme, "201901")["dataValues"] == []
    # only one org unit
    one = data_value_set(session, scheme, period, org_unit="BSE")["dataValues"]
    assert one and {v["orgUnit"] for v in one} == {"BSE"}


def test_python_path_equals_sql_path(app, session):
    register_nafa(app, session, n=20)
    scheme = app.extensions["openscheme"].catalog.current(NAFA)
    text = scheme.text.replace("    formula: count(members)\n    data_element: NQ_PEOPLE",
                               "    formula: count(members) * 2 / 2\n    data_element: NQ_PEOPLE")
    slow = compile_text(text, "x.yaml", run_tests=False).scheme
    period = date.today().strftime("%Y%m")
    a = data_value_set(session, scheme, period)["dataValues"]
    b = data_value_set(session, slow, period)["dataValues"]
    assert a == b


def test_enrolled_population_counts_only_enrolled(app, session):
    from openscheme.storage.models import Enrolment

    register_nafa(app, session, n=6)
    catalog = app.extensions["openscheme"].catalog
    scheme = catalog.current(NAFA)
    text = scheme.text.replace("    data_element: NQ_PEOPLE\n", "    data_element: NQ_PEOPLE\n    population: enrolled\n")
    enrolled_only = compile_text(text, "x.yaml", run_tests=False).scheme
    period = date.today().strftime("%Y%m")
    assert not [v for v in data_value_set(session, enrolled_only, period)["dataValues"] if v["dataElement"] == "NQ_PEOPLE"]
    hh = session.scalars(select(Household).where(Household.scheme_code == NAFA)).first()
    session.add(Enrolment(scheme_code=NAFA, scheme_version_id=catalog.version_id(NAFA), household_id=hh.id,
                          status="active", start_date=date.today()))
    session.commit()
    got = [v for v in data_value_set(session, enrolled_only, period)["dataValues"] if v["dataElement"] == "NQ_PEOPLE"]
    assert got == [{"dataElement": "NQ_PEOPLE", "period": period, "orgUnit": hh.data["district"],
                    "value": str(len(hh.members))}]


def test_cli_writes_the_document(app, session, tmp_path, database_url):
    register_nafa(app, session, n=5)
    out = tmp_path / "dhis2.json"
    period = date.today().strftime("%Y%m")
    r = CliRunner().invoke(main, ["dhis2", NAFA, "--period", period, "-o", str(out), "--database-url", database_url])
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text("utf-8"))
    assert doc["period"] == period and doc["dataValues"]
    r = CliRunner().invoke(main, ["dhis2", NAFA, "--period", "2026-08", "--database-url", database_url])
    assert r.exit_code != 0 and "not a DHIS2 period" in r.output


def test_an_insured_household_counts_as_enrolled(app, session):
    """tz-chf's CHF_HH_ENROLLED counts households with a policy: an insurance scheme enrols by a
    policy, with no enrolment row (the export said 0 for every insured household)."""
    from insurance_helpers import insured, seed_insurance
    from openscheme.storage.models import Enrolment

    seed_insurance(app)
    insured(app, "tz-chf")
    scheme = app.extensions["openscheme"].catalog.current("tz-chf")
    session.rollback()
    assert session.query(Enrolment).count() == 0
    period = date.today().strftime("%Y%m")
    values = [v for v in data_value_set(session, scheme, period)["dataValues"]
              if v["dataElement"] == "CHF_HH_ENROLLED"]
    assert sum(int(v["value"]) for v in values) == 1, values
