"""A benefit's `eligible_when` at claim adjudication (R13) and at verification: np-ssf's accident cover
applies only while the employee is at work; on paid leave the medical cover goes on, the accident
cover does not. Pure checks first, then through the service on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from conftest import EXAMPLES
from insurance_helpers import RECORDS, TODAY, insured, seed_insurance, staff
from openscheme.claims.adjudication import (
    Adjudicator,
    Applies,
    Claim,
    Cover,
    Facility,
    Line,
    Person,
    Usage,
)
from openscheme.claims.applies import benefit_applies
from openscheme.claims.reasons import field_labels, reason_text
from openscheme.definitions import load_scheme

D = Decimal
CONDITION = 'employment_status == "active"'
COVER = Cover(active=True, start=date(2024, 8, 1), year_start=date(2024, 8, 1))
SUNITA = Person(1, date(1990, 3, 15), "F")
HOSPITAL = Facility(1, "hospital", "both")


@pytest.fixture(scope="module")
def ssf():
    return load_scheme(EXAMPLES / "np_ssf.yaml")


def visit(lines, care="out_patient"):
    return Claim("C1", SUNITA, HOSPITAL, date(2024, 10, 1), care, tuple(Line(c, D(q)) for c, q in lines))


def test_accident_cover_is_refused_when_its_condition_is_false(ssf):
    adj = Adjudicator(ssf, ssf.benefit("ssf_accident"))
    on_leave = Applies(False, CONDITION, (("employment_status", "paid_leave"),))
    d = adj.adjudicate(visit([("ACC-ER", 1), ("ACC-PHYSIO", 2), ("NOPE", 1)]), COVER, Usage(), on_leave)
    assert d.status == "rejected" and d.payable == 0
    assert [[r[0] for r in line.reasons] for line in d.lines] == [["R13"], ["R13"], ["R01"]]
    text = d.lines[0].reasons[0][1]
    assert text == ('the benefit does not apply to the patient on the date of service: only when '
                    'employment_status == "active"; here employment_status = "paid_leave"')
    # the same visit at work is paid
    d = adj.adjudicate(visit([("ACC-ER", 1)]), COVER, Usage(), Applies(True, CONDITION))
    assert d.status == "accepted" and d.payable == D("5000.00")


def test_a_refused_line_does_not_count_against_the_limits(ssf):
    adj = Adjudicator(ssf, ssf.benefit("ssf_accident"))
    usage = Usage()
    adj.adjudicate(visit([("ACC-PHYSIO", 1)]), COVER, usage, Applies(False, CONDITION, ()))
    assert sum(usage.count.values()) == 0 and sum(usage.paid_person.values()) == 0


def test_no_cover_outranks_the_condition(ssf):
    adj = Adjudicator(ssf, ssf.benefit("ssf_accident"))
    d = adj.adjudicate(visit([("ACC-ER", 1)]), Cover(active=False), Usage(), Applies(False, CONDITION, ()))
    assert [r[0] for r in d.lines[0].reasons] == ["R03"]


def test_the_condition_is_evaluated_on_the_record_and_fails_closed(ssf):
    accident = ssf.benefit("ssf_accident")
    on = date(2024, 10, 1)
    assert benefit_applies(ssf, accident, {"employment_status": "active"}, on).ok
    leave = benefit_applies(ssf, accident, {"employment_status": "paid_leave", "monthly_wage": D(30000)}, on)
    assert not leave.ok and leave.condition == CONDITION and leave.values == (("employment_status", "paid_leave"),)
    unreadable = benefit_applies(ssf, accident, None, on)
    assert not unreadable.ok and unreadable.error


def test_the_reason_reads_in_french_with_the_scheme_labels(ssf):
    adj = Adjudicator(ssf, ssf.benefit("ssf_accident"))
    d = adj.adjudicate(visit([("ACC-ER", 1)]), COVER, Usage(),
                       Applies(False, CONDITION, (("employment_status", "paid_leave"),)))
    stored = list(d.lines[0].reasons[0])
    assert reason_text(stored, "fr", field_labels(ssf)) == (
        "la prestation ne s'applique pas au patient à la date des soins : seulement si "
        "employment_status == \"active\" ; ici Situation d'emploi = En congé payé")
    assert reason_text(stored, "en", field_labels(ssf)).endswith("here Employment status = On paid leave")


# ---- through the service -----------------------------------------------------------------------


VISIT = TODAY - timedelta(days=2)


@pytest.fixture
def employees(app):
    seed_insurance(app)
    working, _ = insured(app, "np-ssf")
    on_leave, _ = insured(app, "np-ssf", RECORDS["np-ssf"]() | {"ssf_number": "2024005678", "first_name": "Kabita",
                                                              "employment_status": "paid_leave"})
    return app, working, on_leave


def claim(code, insuree, lines, benefit="ssf_accident", care="out_patient"):
    return {"code": code, "facility": "SSF_HOSP", "insuree": insuree, "date_from": VISIT.isoformat(), "care_type": care,
            "diagnosis": "S52.5", "benefit": benefit, "lines": [{"code": c, "quantity": q} for c, q in lines]}


def submit(app, data):
    from openscheme.claims.service import ClaimService

    state = app.extensions["openscheme"]
    with state.db.session_factory() as s:
        result = ClaimService(s, state.catalog, staff(s, "facility_clerk")).submit("np-ssf", data)
        assert result.ok, result.errors
        s.commit()
        return result.claim.status, [(x.status, [r[0] for r in x.reasons or []]) for x in result.claim.lines], \
            result.claim.payable


def test_an_accident_claim_of_an_employee_on_leave_is_refused_with_r13(employees):
    app, working, on_leave = employees
    status, lines, payable = submit(app, claim("A-1", on_leave, [("ACC-ER", 1), ("ACC-CRUTCH", 1)]))
    assert status == "rejected" and payable == 0 and lines == [("rejected", ["R13"]), ("rejected", ["R13"])]
    # the same employee's medical cover goes on; the working employee's accident is paid
    assert submit(app, claim("M-1", on_leave, [("SSF-OPD", 1)], benefit="ssf_medical"))[1] == [("accepted", [])]
    status, lines, payable = submit(app, claim("A-2", working, [("ACC-ER", 1), ("ACC-CRUTCH", 1)]))
    assert lines == [("accepted", []), ("accepted", [])] and payable == D("7500.00")


def test_a_status_change_counts_from_the_day_it_was_recorded(employees):
    """The record as it was on the date of service: a visit before the employment ended is covered even
    when the claim comes after; a visit on the day it was recorded or later is not (the audit trail
    keeps the values before each change)."""
    from openscheme.claims.applies import load_changes, values_on
    from openscheme.registry.service import Registry
    from openscheme.storage.models import Individual

    app, working, _ = employees
    state = app.extensions["openscheme"]
    with state.db.session_factory() as s, s.begin():
        person = s.scalar(select(Individual).where(Individual.uid == working))
        r = Registry(s, state.catalog, None, "en").update(person, RECORDS["np-ssf"]() | {"employment_status": "terminated"})
        assert r.ok, r.errors
        person_id = person.id
    recorded = date.today()
    before = claim("A-3", working, [("ACC-ER", 1)]) | {"date_from": (recorded - timedelta(days=1)).isoformat()}
    assert submit(app, before)[1] == [("accepted", [])]
    same_day = claim("A-4", working, [("ACC-ER", 1)]) | {"date_from": recorded.isoformat()}
    assert submit(app, same_day)[1] == [("rejected", ["R13"])]
    with state.db.session_factory() as s:
        unit = ("individual", person_id)
        changes = load_changes(s, state.catalog.current("np-ssf"), {unit}, recorded - timedelta(days=5))[unit]
        assert [(day, values["employment_status"]) for day, values in changes] == [(recorded, "active")]
        now = {"employment_status": "terminated"}
        assert values_on(now, changes, recorded - timedelta(days=1))["employment_status"] == "active"
        assert values_on(now, changes, recorded) is now
        assert load_changes(s, state.catalog.current("np-ssf"), {unit}, recorded) == {}


def test_verification_shows_that_the_accident_cover_does_not_apply(employees):
    from openscheme.claims.coverage import coverage
    from openscheme.storage.models import Individual

    app, working, on_leave = employees
    state = app.extensions["openscheme"]
    scheme = state.catalog.current("np-ssf")
    with state.db.session_factory() as s:
        covers = {c.code: c for c in coverage(s, scheme, s.scalar(select(Individual).where(Individual.uid == on_leave)))}
        assert covers["ssf_medical"].covered and covers["ssf_medical"].services
        accident = covers["ssf_accident"]
        assert (accident.covered, accident.status) == (False, "not_applicable") and not accident.services
        assert accident.message == ('the benefit does not apply to this person today: only when employment_status == '
                                    '"active"; here Employment status = On paid leave')
        assert accident.as_json()["status"] == "not_applicable"
        fr = {c.code: c for c in coverage(s, scheme, s.scalar(select(Individual).where(Individual.uid == on_leave)),
                                          lang="fr")}
        assert fr["ssf_accident"].message.startswith("la prestation ne s'applique pas à cette personne aujourd'hui")
        assert "Situation d'emploi = En congé payé" in fr["ssf_accident"].message
        at_work = coverage(s, scheme, s.scalar(select(Individual).where(Individual.uid == working)))
        assert all(c.covered for c in at_work)


def test_the_condition_is_loaded_with_a_few_queries_whatever_the_batch(employees):
    from test_claim_service import count_queries

    from openscheme.claims.service import ClaimService

    app, working, on_leave = employees
    others = [insured(app, "np-ssf", RECORDS["np-ssf"]() | {"ssf_number": f"20240100{i:02d}", "first_name": f"E{i}"})[0]
              for i in range(4)]
    people = [working, on_leave, *others]
    state = app.extensions["openscheme"]
    scheme = state.catalog.current("np-ssf")
    with state.db.session_factory() as s:
        svc = ClaimService(s, state.catalog, staff(s, "facility_clerk"))
        ids = [svc.submit("np-ssf", claim(f"Q-{n}", p, [("ACC-ER", 1)]), adjudicate=False).claim.id
               for n, p in enumerate(people)]
        s.commit()
        counts = []
        for part in (ids[:2], ids[2:]):
            statements, stop = count_queries(s.get_bind())
            svc.adjudicate(scheme, scheme.benefit("ssf_accident"), part)
            stop()
            counts.append(len([x for x in statements
                               if not x.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "BEGIN"))]))
        s.commit()
        assert counts[0] == counts[1] <= 11, counts  # two more than without eligible_when: the records, their changes


def test_household_records_are_read_with_their_members_as_the_formulas_see_them(app):
    from datetime import date as day

    from openscheme.claims.applies import load_values
    from openscheme.storage.models import Household

    seed_insurance(app)
    uid, _ = insured(app, "tz-chf")
    state = app.extensions["openscheme"]
    scheme = state.catalog.current("tz-chf")
    with state.db.session_factory() as s:
        household = s.scalar(select(Household).where(Household.uid == uid))
        values = load_values(s, scheme, {("household", household.id)})[("household", household.id)]
        assert values["district"] == "KONGWA_DC"
        members = values["members"]
        assert [m["first_name"] for m in members] == ["Juma", "Rehema", "Amani"]
        assert members[0]["dob"] == day(1980, 3, 12) and members[0]["roles"] == ["head"] and members[0]["_id"]
        # the scheme's own rules run on them as on the registry-wide path
        assert all(rule.formula.evaluate(values, TODAY) for rule in scheme.eligibility)
