"""Automated adjudication against the Tanzania CHF-style example: every reason code, valuation, limits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from conftest import EXAMPLES
from openscheme.claims.adjudication import Adjudicator, Claim, Cover, Facility, Line, Person, Usage
from openscheme.definitions import load_scheme

D = Decimal


@pytest.fixture(scope="module")
def adjudicator():
    scheme = load_scheme(EXAMPLES / "tz_chf.yaml")
    return Adjudicator(scheme, scheme.benefit("chf_cover"))


COVER = Cover(active=True, start=date(2025, 1, 1), year_start=date(2025, 7, 1))
WOMAN = Person(1, date(1995, 3, 1), "F", household_id=10)
MAN = Person(2, date(1990, 3, 1), "M", household_id=10)
DISPENSARY = Facility(1, "dispensary", "out_patient")
HOSPITAL = Facility(2, "district_hospital", "both")


def claim(lines, person=WOMAN, facility=DISPENSARY, when=date(2025, 8, 1), care="out_patient", key="C1"):
    return Claim(key, person, facility, when, care, tuple(Line(c, D(q)) for c, q in lines))


def reasons(decision):
    return [r[0] for line in decision.lines for r in line.reasons]


def test_a_covered_visit_is_accepted_and_valued_from_the_price_table(adjudicator):
    d = adjudicator.adjudicate(claim([("OPD01", 1), ("MED01", 12)]), COVER, Usage())
    assert d.status == "accepted"
    assert [line.payable for line in d.lines] == [D("2000.00"), D("3000.00")]  # dispensary consultation + 12 x 250
    assert d.payable == D("5000.00")


def test_price_follows_the_facility_level(adjudicator):
    d = adjudicator.adjudicate(claim([("OPD01", 1)], facility=HOSPITAL), COVER, Usage())
    assert d.lines[0].payable == D("5000.00")


def test_not_covered(adjudicator):
    d = adjudicator.adjudicate(claim([("XYZ99", 1)]), COVER, Usage())
    assert d.status == "rejected" and reasons(d) == ["R01"]


def test_not_on_the_facility_price_list(adjudicator):
    listed = Facility(3, "dispensary", "both", prices={"OPD01": D("1800")})
    d = adjudicator.adjudicate(claim([("OPD01", 1), ("MED01", 1)], facility=listed), COVER, Usage())
    assert d.lines[0].payable == D("1800.00")
    assert d.lines[1].status == "rejected" and d.lines[1].reasons[0][0] == "R02"


def test_no_active_cover(adjudicator):
    d = adjudicator.adjudicate(claim([("OPD01", 1)]), Cover(active=False), Usage())
    assert d.status == "rejected" and reasons(d) == ["R03"]


def test_gender_and_age(adjudicator):
    d = adjudicator.adjudicate(claim([("ANC01", 1)], person=MAN), COVER, Usage())
    assert reasons(d) == ["R04"]
    girl = Person(3, date(2018, 1, 1), "F", 10)
    d = adjudicator.adjudicate(claim([("ANC01", 1)], person=girl), COVER, Usage())
    assert reasons(d) == ["R04"] and "from age 12, patient is 7" in d.lines[0].reasons[0][1]


def test_frequency(adjudicator):
    usage = Usage()
    first = adjudicator.adjudicate(claim([("ANC01", 1)], when=date(2025, 8, 1)), COVER, usage)
    second = adjudicator.adjudicate(claim([("ANC01", 1)], when=date(2025, 8, 10), key="C2"), COVER, usage)
    third = adjudicator.adjudicate(claim([("ANC01", 1)], when=date(2025, 8, 20), key="C3"), COVER, usage)
    assert (first.status, second.status, third.status) == ("accepted", "rejected", "accepted")
    assert reasons(second) == ["R05"]


def test_maximum_count_per_year(adjudicator):
    usage = Usage()
    statuses = [adjudicator.adjudicate(claim([("OPD02", 1)], facility=HOSPITAL, when=date(2025, 8, i + 1), key=f"C{i}"),
                                       COVER, usage).status for i in range(5)]
    assert statuses == ["accepted"] * 4 + ["rejected"]


def test_quantity_above_the_per_visit_limit_is_reduced(adjudicator):
    d = adjudicator.adjudicate(claim([("MED01", 30)]), COVER, Usage())
    line = d.lines[0]
    assert line.status == "adjusted" and line.quantity == 24 and line.reasons[0][0] == "R07"
    assert line.payable == D("6000.00")


def test_waiting_period(adjudicator):
    new_cover = Cover(active=True, start=date(2025, 7, 20), year_start=date(2025, 7, 1))
    d = adjudicator.adjudicate(claim([("OPD01", 1)], when=date(2025, 8, 1)), new_cover, Usage())
    assert reasons(d) == ["R08"] and "18 day(s) left of 30" in d.lines[0].reasons[0][1]


def test_care_type(adjudicator):
    d = adjudicator.adjudicate(claim([("ADM01", 1)], care="in_patient"), COVER, Usage())
    assert reasons(d) == ["R09"]  # a dispensary offers out-patient care only
    d = adjudicator.adjudicate(claim([("ADM01", 1)], facility=HOSPITAL, care="out_patient"), COVER, Usage())
    assert reasons(d) == ["R09"]  # admission is in-patient only


def test_household_ceiling(adjudicator):
    usage = Usage()
    usage.paid_household[(10, COVER.year_start)] = D("1499000")
    d = adjudicator.adjudicate(claim([("OPD01", 1)], facility=HOSPITAL), COVER, usage)
    assert d.lines[0].payable == D("1000.00") and d.lines[0].reasons[0][0] == "R10"


def test_duplicate_same_day(adjudicator):
    usage = Usage()
    adjudicator.adjudicate(claim([("LAB02", 1)], facility=HOSPITAL), COVER, usage)
    d = adjudicator.adjudicate(claim([("LAB02", 1)], facility=HOSPITAL, key="C2"), COVER, usage)
    assert reasons(d) == ["R11"]


def test_facility_level_not_in_the_benefit(adjudicator):
    d = adjudicator.adjudicate(claim([("OPD01", 1)], facility=Facility(9, "referral_hospital")), COVER, Usage())
    assert reasons(d) == ["R12"]


def test_co_payment(adjudicator):
    d = adjudicator.adjudicate(claim([("OPD02", 1)], facility=HOSPITAL), COVER, Usage())
    line = d.lines[0]
    assert (line.valuated, line.co_payment, line.payable) == (D("10000.00"), D("2000.00"), D("8000.00"))


def test_per_admission_ceiling(adjudicator):
    d = adjudicator.adjudicate(claim([("SUR01", 1), ("ADM01", 1), ("SUR02", 20)], facility=HOSPITAL,
                                     care="in_patient"), COVER, Usage())
    assert d.payable <= D("500000")
