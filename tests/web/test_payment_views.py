"""Targeting and payment cycles through the web pages: every page, permissions, maker-checker,
CSRF, the payroll download, reconciliation with line numbers, retry of failed payments only."""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from conftest import csrf_token, login, make_user
from openscheme.payments import cycles
from openscheme.registry.service import Registry
from openscheme.storage.job_models import Job
from openscheme.storage.models import Enrolment
from openscheme.storage.workflow_models import Payment, PaymentCycle, TargetingRun

CODE = "gm-nafa-quick"
DISTRICTS = {"URR": ["BSE", "KNT", "WUL"], "CRR": ["JAN"], "WCR": ["KBW"]}


def household(rng, i):
    region = rng.choice(list(DISTRICTS))
    members = [{"first_name": f"N{i}", "last_name": f"M{j}", "sex": rng.choice("FM"), "dob": "1980-01-01",
                "roles": ["head", "primary_recipient"] if j == 0 else []} for j in range(rng.randint(1, 9))]
    channel = rng.choice(["cash_agent", "mobile_money"])
    data = {"region": region, "district": rng.choice(DISTRICTS[region]), "village": "V", "payment_channel": channel,
            "members": members}
    if channel == "mobile_money":
        data["phone"] = f"+220{7000000 + i}"
    return data


@pytest.fixture
def registry(app, session, users):
    app.config["JOBS_IN_BACKGROUND"] = False  # the job runs inside the request: deterministic tests
    catalog = app.extensions["openscheme"].catalog
    reg = Registry(session, catalog)
    rng = random.Random(7)
    for i in range(30):
        assert reg.register(CODE, household(rng, i)).ok
    session.commit()
    make_user(app, "checker", [("payment_officer", None, None)])
    yield reg
    app.config["JOBS_IN_BACKGROUND"] = True


def now(session):
    """The test's session with a fresh snapshot (a SQLite WAL reader keeps the one it started with)."""
    session.rollback()
    return session


def as_user(client, username):
    client.post("/logout")
    login(client, username)
    return client


def run_targeting(client, as_of="2020-08-01"):
    r = client.post(f"/s/{CODE}/targeting", data={"as_of": as_of})
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"], r.get_data(as_text=True)[:500]
    job_page = client.get(r.headers["Location"])
    assert job_page.status_code == 200
    job_id = int(re.search(r"/jobs/(\d+)/page", r.headers["Location"]).group(1))
    state = client.get(f"/jobs/{job_id}").get_json()
    assert state["status"] == "done", state
    assert state["result_url"].startswith("/targeting/")
    return int(state["result_url"].rsplit("/", 1)[-1]), state


def test_hub_lists_cycles_and_links_from_the_home_page(client, registry):
    login(client, "payment_officer")
    home = client.get("/").get_data(as_text=True)
    assert f'href="/s/{CODE}/payments"' in home
    page = client.get(f"/s/{CODE}/payments").get_data(as_text=True)
    assert "Run targeting" in page and "No targeting run yet." in page
    assert page.count(f"/s/{CODE}/payments/nafa_quick/") == 3  # three monthly cycles
    assert "This scheme has no cash benefit." in client.get("/s/cm-cheque-sante/payments").get_data(as_text=True)


def test_targeting_run_results_filter_and_maker_checker(client, registry, session):
    login(client, "payment_officer")
    run_id, state = run_targeting(client)
    run = now(session).get(TargetingRun, run_id)
    assert run.eligible_count + run.excluded_count == 30 and run.excluded_count > 0
    assert state["summary"] == f"{run.eligible_count} eligible, {run.excluded_count} excluded."
    page = client.get(f"/targeting/{run_id}").get_data(as_text=True)
    assert "SQL" in page and "poorest_district" in page
    assert page.count("The household does not live in one of the poorest districts") == run.excluded_count
    assert f"{run.excluded_count} records" in page
    eligible = client.get(f"/targeting/{run_id}?show=eligible").get_data(as_text=True)
    assert f"{run.eligible_count} records" in eligible
    filtered = client.get(f"/targeting/{run_id}?rule=poorest_district").get_data(as_text=True)
    assert f"{run.excluded_count} records" in filtered
    # French: the rule's reason in the user's language
    fr = client.get(f"/targeting/{run_id}?lang=fr").get_data(as_text=True)
    assert "Le ménage ne vit pas dans l&#39;un des districts les plus pauvres" in fr
    # the officer who ran it cannot approve it, even by posting directly
    assert "another officer must approve it" in page
    r = client.post(f"/targeting/{run_id}/approve", follow_redirects=True)
    assert "You ran this targeting: another officer must approve it." in r.get_data(as_text=True)
    session.rollback()
    assert now(session).get(TargetingRun, run_id).status == "computed"
    assert now(session).scalar(select(func.count()).select_from(Enrolment)) == 0
    # a second officer approves: the eligible are enrolled
    as_user(client, "checker")
    r = client.post(f"/targeting/{run_id}/approve", follow_redirects=True)
    assert f"Approved: {run.eligible_count} households or people enrolled." in r.get_data(as_text=True)
    session.rollback()
    assert now(session).get(TargetingRun, run_id).status == "approved"
    assert now(session).scalar(select(func.count()).select_from(Enrolment)) == run.eligible_count
    r = client.post(f"/targeting/{run_id}/reject", follow_redirects=True)
    assert "Not rejected" in r.get_data(as_text=True)


def test_rejecting_a_run_enrols_nobody(client, registry, session):
    login(client, "payment_officer")
    run_id, _ = run_targeting(client)
    as_user(client, "checker")
    r = client.post(f"/targeting/{run_id}/reject", data={"reason": "wrong date"}, follow_redirects=True)
    assert "Rejected: nobody was enrolled." in r.get_data(as_text=True)
    assert now(session).scalar(select(func.count()).select_from(Enrolment)) == 0


def enrol_all(client):
    login(client, "payment_officer")
    run_id, _ = run_targeting(client)
    as_user(client, "checker")
    client.post(f"/targeting/{run_id}/approve")
    as_user(client, "payment_officer")


def cycle_url(n=1):
    return f"/s/{CODE}/payments/nafa_quick/{n}"


def test_the_whole_cycle_through_the_pages(client, registry, session, users):
    enrol_all(client)
    eligible = now(session).scalar(select(func.count()).select_from(Enrolment))
    # dry run: the diff, nothing written
    page = client.get(cycle_url()).get_data(as_text=True)
    assert "not started" in page and "Dry run" in page
    dry = client.get(cycle_url() + "/dry-run").get_data(as_text=True)
    assert re.search(rf'data-added>{eligible}<', dry) and "nothing was written" in dry
    assert now(session).scalar(select(func.count()).select_from(Payment)) == 0
    assert now(session).scalar(select(func.count()).select_from(PaymentCycle)) == 0
    # prepare: a job; the cycle is prepared
    r = client.post(cycle_url() + "/prepare")
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    job = now(session).scalar(select(Job).order_by(Job.id.desc()))
    assert job.kind == "cycle.prepare" and job.status == "done" and job.done == job.total == eligible
    assert client.get(f"/jobs/{job.id}").get_json()["result_url"] == cycle_url()
    cycle = now(session).scalar(select(PaymentCycle))
    assert cycle.status == "prepared" and cycle.payment_count == eligible
    # preparing again adds nothing
    client.post(cycle_url() + "/prepare")
    assert now(session).scalar(select(func.count()).select_from(Payment)) == eligible
    # the preparer cannot approve, through the page or by posting
    page = client.get(cycle_url()).get_data(as_text=True)
    assert "You prepared this cycle: another officer must approve it." in page and 'data-action="approve"' not in page
    r = client.post(cycle_url() + "/approve", follow_redirects=True)
    assert "another officer must approve it" in r.get_data(as_text=True)
    session.rollback()
    assert now(session).get(PaymentCycle, cycle.id).status == "prepared"
    # payroll is refused before approval
    r = client.post(cycle_url() + "/payroll", data={"channel": "cash_agent"}, follow_redirects=True)
    assert "only for an approved cycle" in r.get_data(as_text=True)
    # a second officer approves
    as_user(client, "checker")
    r = client.post(cycle_url() + "/approve", follow_redirects=True)
    assert f"Cycle 1 approved: {eligible} payments" in r.get_data(as_text=True)
    # payroll per channel
    rows = []
    for channel in ("cash_agent", "mobile_money"):
        r = client.post(cycle_url() + "/payroll", data={"channel": channel})
        assert r.status_code == 200 and r.mimetype == "text/csv"
        assert "attachment" in r.headers["Content-Disposition"] and channel in r.headers["Content-Disposition"]
        rows += list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert len(rows) == eligible and {r["reference_id"] for r in rows} == set(
        now(session).scalars(select(Payment.reference)))
    assert client.post(cycle_url() + "/payroll", data={"channel": "bank"}).status_code == 404
    # the agent's result file: one failed, one unknown reference, one bad status
    failed_ref = rows[0]["reference_id"]
    lines = ["reference_id,status,reason"] + [
        f"{r['reference_id']},{'failed' if r['reference_id'] == failed_ref else 'paid'},"
        f"{'wallet closed' if r['reference_id'] == failed_ref else ''}" for r in rows] + [
        "PAY-NOPE,paid,", f"{rows[1]['reference_id']},maybe,"]
    r = client.post(cycle_url() + "/reconcile",
                    data={"file": (io.BytesIO("\n".join(lines).encode()), "result.csv")},
                    content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert re.search(rf"data-paid>{eligible - 1}<", page) and re.search(r"data-failed>1<", page)
    assert re.search(rf"<td class=\"num\">{eligible + 2}</td><td>unknown reference PAY-NOPE in this cycle", page)
    assert f"<td class=\"num\">{eligible + 3}</td><td>the status must be paid or failed" in page
    # the failed payment is listed, explained, and can be retried; a paid one cannot
    listing = client.get(cycle_url() + "/list?status=failed").get_data(as_text=True)
    assert failed_ref in listing and "wallet closed" in listing and f'data-retry="{failed_ref}"' in listing
    failed = now(session).scalar(select(Payment).where(Payment.reference == failed_ref))
    paid = now(session).scalar(select(Payment).where(Payment.status == "paid").limit(1))
    explained = client.get(f"/payments/{failed.id}").get_data(as_text=True)
    assert "amount = min(base_amount + per_member * count(members), max_amount)" in explained
    assert f"amount = {int(failed.amount):,} GMD" in explained
    r = client.post(f"/payments/{paid.id}/retry", follow_redirects=True)
    assert "Only a failed payment can be retried" in r.get_data(as_text=True)
    r = client.post(f"/payments/{failed.id}/retry", follow_redirects=True)
    assert "with the same reference" in r.get_data(as_text=True)
    session.rollback()
    assert now(session).get(Payment, paid.id).status == "paid"
    assert now(session).get(Payment, failed.id).status == "pending"
    # the next payroll holds only the retried payment, with its reference
    r = client.post(cycle_url() + "/payroll", data={"channel": failed.channel})
    assert [x["reference_id"] for x in csv.DictReader(io.StringIO(r.get_data(as_text=True)))] == [failed_ref]
    # never twice
    assert now(session).scalar(select(func.count()).select_from(Payment)) == eligible
    assert now(session).scalar(select(func.count(func.distinct(Payment.unit_id))).select_from(Payment)) == eligible
    # the list pages and filters work
    assert client.get(cycle_url() + "/list?status=paid&channel=cash_agent").status_code == 200
    assert client.get(cycle_url() + "/list?page=2").status_code == 200


def test_explanation_uses_the_stored_values_not_todays_record(client, registry, session):
    enrol_all(client)
    client.post(cycle_url() + "/prepare")
    p = now(session).scalar(select(Payment).order_by(Payment.id).limit(1))
    size = len(p.explanation[0]["members"])
    before = client.get(f"/payments/{p.id}").get_data(as_text=True)
    assert re.search(r"<th>Members</th><td>(\d+)</td>", before).group(1) == str(size)
    # the household grows today: the explanation still shows what was paid
    from openscheme.storage.models import Household

    hh = now(session).get(Household, p.unit_id)
    data = registry.input_of(hh)
    data["members"].append({"first_name": "New", "last_name": "Born", "sex": "F", "dob": "2020-01-01"})
    assert registry.update(hh, data).ok
    session.commit()
    after = client.get(f"/payments/{p.id}").get_data(as_text=True)
    assert f"amount = {int(p.amount):,} GMD" in after
    assert re.search(r"<th>Members</th><td>(\d+)</td>", after).group(1) == str(size)


def test_permissions(client, registry, session, users):
    enrol_all(client)
    client.post(cycle_url() + "/prepare")
    p = now(session).scalar(select(Payment).limit(1))
    gets = [f"/s/{CODE}/payments", cycle_url(), cycle_url() + "/list", f"/payments/{p.id}"]
    posts = [f"/s/{CODE}/targeting", cycle_url() + "/prepare", cycle_url() + "/approve", f"/payments/{p.id}/retry"]
    for role in ("enrolment_officer", "facility_clerk", "claims_reviewer", "implementer"):
        as_user(client, role)
        for url in gets + [cycle_url() + "/dry-run"]:
            assert client.get(url).status_code == 403, (role, url)
        for url in posts:
            assert client.post(url).status_code == 403, (role, url)
    # analysts and auditors see, but cannot act
    for role in ("analyst", "auditor"):
        as_user(client, role)
        for url in gets:
            assert client.get(url).status_code == 200, (role, url)
        for url in posts:
            assert client.post(url).status_code == 403, (role, url)
        assert "data-action" not in client.get(cycle_url()).get_data(as_text=True)
    # an officer limited to another scheme sees nothing of this one
    make_user(client.application, "other", [("payment_officer", "cm-educash", None)])
    as_user(client, "other")
    assert client.get(f"/s/{CODE}/payments").status_code == 403
    assert client.get(f"/payments/{p.id}").status_code == 403
    run = now(session).scalar(select(TargetingRun))
    assert client.get(f"/targeting/{run.id}").status_code == 403
    # signed out: to the login page
    client.post("/logout")
    assert client.get(cycle_url()).status_code == 302


def test_jobs_are_seen_only_by_who_started_them(client, registry, session):
    login(client, "payment_officer")
    run_targeting(client)
    job = now(session).scalar(select(Job))
    assert client.get(f"/jobs/{job.id}").status_code == 200
    as_user(client, "checker")
    assert client.get(f"/jobs/{job.id}").status_code == 404
    assert client.get(f"/jobs/{job.id}/page").status_code == 404
    as_user(client, "administrator")
    assert client.get(f"/jobs/{job.id}").status_code == 200


def test_posts_need_the_csrf_token(app, client, registry):
    login(client, "payment_officer")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        r = client.post(f"/s/{CODE}/targeting", data={"as_of": "2020-08-01"})
        assert r.status_code == 400 and "Form expired" in r.get_data(as_text=True)
        page = client.get(f"/s/{CODE}/payments").get_data(as_text=True)
        r = client.post(f"/s/{CODE}/targeting", data={"as_of": "2020-08-01", "csrf_token": csrf_token(page)})
        assert r.status_code == 302
        for url in (cycle_url() + "/prepare", cycle_url() + "/approve", cycle_url() + "/payroll",
                    cycle_url() + "/reconcile", "/targeting/1/approve", "/payments/1/retry"):
            assert client.post(url).status_code == 400, url
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_an_interrupted_preparation_is_run_again_from_its_page(app, client, registry, session):
    import socket
    import subprocess
    import sys

    enrol_all(client)
    eligible = now(session).scalar(select(func.count()).select_from(Enrolment))
    r = client.post(cycle_url() + "/prepare")
    job_id = int(re.search(r"/jobs/(\d+)/page", r.headers["Location"]).group(1))
    # as a server stopped half way leaves it: some payments written, the job "running", its process gone
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    s = now(session)
    keep = s.scalars(select(Payment.id).order_by(Payment.id).limit(eligible // 2)).all()
    s.execute(Payment.__table__.delete().where(Payment.id.not_in(keep)))
    job = s.get(Job, job_id)
    job.status, job.result, job.owner = "running", None, f"{socket.gethostname()}|{child.pid}|0badc0de"
    s.commit()
    page = client.get(f"/jobs/{job_id}/page").get_data(as_text=True)
    assert "It was interrupted: the server stopped while it was running." in page
    assert f'action="{cycle_url()}/prepare"' in page and "Run it again" in page
    assert now(session).scalar(select(Job.status).where(Job.id == job_id)) == "interrupted"
    # the button posts the form that started it (with its CSRF token): only the missing payments are made
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        r = client.post(f"{cycle_url()}/prepare", data={"csrf_token": csrf_token(page)})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    again = client.get(r.headers["Location"].replace("/page", "")).get_json()
    assert again["status"] == "done" and again["summary"].startswith(f"{eligible} payments")
    assert f"{eligible - len(keep)} created by this run" in again["summary"]
    assert now(session).scalar(select(func.count()).select_from(Payment)) == eligible
    assert now(session).scalar(select(func.count(func.distinct(Payment.unit_id))).select_from(Payment)) == eligible


def test_a_lost_payroll_is_downloaded_again_the_same(client, registry, session):
    from openscheme.storage.models import AuditLog, Individual

    enrol_all(client)
    client.post(cycle_url() + "/prepare")
    as_user(client, "checker")
    client.post(cycle_url() + "/approve")
    first = {ch: client.post(cycle_url() + "/payroll", data={"channel": ch}) for ch in ("cash_agent", "mobile_money")}
    assert all(r.status_code == 200 and r.mimetype == "text/csv" for r in first.values())

    def state():
        s = now(session)
        return (s.scalar(select(PaymentCycle.status)), s.execute(select(
            Payment.id, Payment.status, Payment.attempts, Payment.updated_at).order_by(Payment.id)).all())

    before = state()
    # after the file went out a recipient's name is corrected: the file given again is the one handed out
    s = now(session)
    ref = next(csv.DictReader(io.StringIO(first["cash_agent"].get_data(as_text=True))))["reference_id"]
    person = s.get(Individual, s.scalar(select(Payment.recipient_id).where(Payment.reference == ref)))
    person.data = person.data | {"first_name": "Corrected"}
    s.commit()
    # the channel's payroll button again: no empty file, but where to find the one produced
    r = client.post(cycle_url() + "/payroll", data={"channel": "cash_agent"}, follow_redirects=True)
    assert r.mimetype == "text/html"
    assert "No payment of cash_agent is waiting for a payroll: a payroll already produced can be downloaded again" \
        in r.get_data(as_text=True)
    page = client.get(cycle_url()).get_data(as_text=True)
    assert "Payrolls already produced" in page and "Download again" in page
    kept = dict(zip(re.findall(r'<td>(cash_agent|mobile_money)</td>', page),
                    map(int, re.findall(r'data-redownload="(\d+)"', page)), strict=True))
    assert set(kept) == {"cash_agent", "mobile_money"}
    for channel in ("cash_agent", "cash_agent", "mobile_money"):  # as often as needed
        again = client.post(f"{cycle_url()}/payrolls/{kept[channel]}")
        assert again.status_code == 200 and again.mimetype == "text/csv"
        assert again.get_data() == first[channel].get_data()
        assert again.headers["Content-Disposition"] == first[channel].headers["Content-Disposition"]
    assert "Corrected" not in client.post(f"{cycle_url()}/payrolls/{kept['cash_agent']}").get_data(as_text=True)
    # nothing changed but the audit trail: no payment made or sent twice, the cycle as it was
    assert state() == before and before[0] == "sent"
    s = now(session)
    assert s.scalar(select(func.count()).select_from(Payment)) == len(before[1])
    entries = s.scalars(select(AuditLog).where(AuditLog.action == "redownload").order_by(AuditLog.id)).all()
    assert len(entries) == 4 and all(e.entity == "payment_cycle" and e.username == "checker" for e in entries)
    assert [e.after["channel"] for e in entries] == ["cash_agent", "cash_agent", "mobile_money", "cash_agent"]
    assert entries[0].after["payroll"] == kept["cash_agent"] and len(entries[0].after["sha256"]) == 64
    assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "payroll")) == 2
    # only through its own cycle, only for who may produce payrolls; in French too
    assert client.post(f"{cycle_url(2)}/payrolls/{kept['cash_agent']}").status_code == 404
    fr = client.get(cycle_url() + "?lang=fr").get_data(as_text=True)
    assert "États de paiement déjà produits" in fr and "Télécharger à nouveau" in fr
    as_user(client, "auditor")
    assert client.post(f"{cycle_url()}/payrolls/{kept['cash_agent']}").status_code == 403
    assert "payroll downloaded again" in client.get(f"/s/{CODE}/audit?action=redownload").get_data(as_text=True)


def test_a_cycle_that_was_sent_cannot_be_prepared_again(client, registry, session):
    enrol_all(client)
    client.post(cycle_url() + "/prepare")
    as_user(client, "checker")
    client.post(cycle_url() + "/approve")
    r = client.post(cycle_url() + "/prepare", follow_redirects=True)
    assert "its payments can no longer change" in r.get_data(as_text=True)
    assert now(session).scalar(select(func.count()).select_from(Job).where(Job.kind == "cycle.prepare")) == 1


def test_dry_run_of_the_next_cycle_shows_changes(client, registry, session):
    enrol_all(client)
    client.post(cycle_url() + "/prepare")
    p = now(session).scalar(select(Payment).order_by(Payment.id).limit(1))
    from openscheme.storage.models import Household

    hh = now(session).get(Household, p.unit_id)
    data = registry.input_of(hh)
    data["members"] = data["members"][:1] if len(data["members"]) > 1 else data["members"] * 2
    for m in data["members"][1:]:
        m["roles"] = []
    assert registry.update(hh, data).ok, data
    session.commit()
    page = client.get(cycle_url(2) + "/dry-run").get_data(as_text=True)
    assert re.search(r"data-changed>1<", page) and hh.uid in page
    assert cycles.reference(CODE, "nafa_quick", 1, p.unit_id) == p.reference
    assert date(2020, 9, 1).isoformat() in client.get(cycle_url(2)).get_data(as_text=True)


def test_retry_goes_back_only_to_a_local_page(client, registry, session):
    enrol_all(client)
    client.post(cycle_url() + "/prepare")
    p = now(session).scalar(select(Payment).limit(1))
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        r = client.post(f"/payments/{p.id}/retry", data={"next": target})
        assert r.status_code == 303 and r.headers["Location"].startswith(f"/s/{CODE}/payments/nafa_quick/1/list")
    r = client.post(f"/payments/{p.id}/retry", data={"next": f"/payments/{p.id}"})
    assert r.headers["Location"] == f"/payments/{p.id}"


def test_a_large_dry_run_runs_as_a_job_and_shows_the_same_page(app, client, registry, session):
    enrol_all(client)
    inline = client.get(cycle_url() + "/dry-run").get_data(as_text=True)
    app.config["DRY_RUN_INLINE"] = 0  # every registry is "large"
    try:
        r = client.get(cycle_url() + "/dry-run")
        assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
        job = now(session).scalar(select(Job).order_by(Job.id.desc()))
        assert job.kind == "cycle.dry_run" and job.status == "done" and job.done == job.total > 0
        url = client.get(f"/jobs/{job.id}").get_json()["result_url"]
        assert url == cycle_url() + f"/dry-run?job={job.id}"
        page = client.get(url).get_data(as_text=True)
        assert "a background run; nothing was written" in page

        def figures(html):
            return re.findall(r"data-(?:count|total|added|removed|changed)>([^<]*)<", html)

        assert figures(page) == figures(inline) and figures(page)[0] != "0"
        assert now(session).scalar(select(func.count()).select_from(Payment)) == 0
        # the job's page is its starter's; another cycle, another job or a bad id: 404
        assert client.get(cycle_url(2) + f"/dry-run?job={job.id}").status_code == 404
        assert client.get(cycle_url() + "/dry-run?job=999999").status_code == 404
        assert client.get(cycle_url() + "/dry-run?job=x").status_code == 404
        as_user(client, "checker")
        assert client.get(url).status_code == 404
    finally:
        app.config.pop("DRY_RUN_INLINE", None)


def test_payment_figures_are_written_the_way_the_page_language_writes_them(client, registry, session):
    from openscheme import numformat

    enrol_all(client)
    english = client.get(cycle_url() + "/dry-run").get_data(as_text=True)
    french = client.get(cycle_url() + "/dry-run?lang=fr").get_data(as_text=True)
    total = re.search(r"data-total>([^<]*) GMD<", english).group(1)
    amount = Decimal(total.replace(",", ""))
    assert amount >= 1000  # grouped: the two languages differ
    assert re.search(r"data-total>([^<]*) GMD<", french).group(1) == numformat.money(amount, "fr") != total


def test_a_dry_run_before_anyone_is_enrolled_says_what_to_do(client, registry):
    login(client, "payment_officer")
    page = client.get(cycle_url() + "/dry-run").get_data(as_text=True)
    assert "data-nobody" in page and "run targeting" in page
    assert "+0" not in page  # no difference is 0, not +0
    french = client.get(cycle_url() + "/dry-run?lang=fr").get_data(as_text=True)
    assert "lancez le ciblage" in french
