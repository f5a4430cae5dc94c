"""Issue 5 "Done when", in a real browser (Debian chromium, driven by Playwright).

A payment officer runs targeting and the Nafa Quick-style cycle from the browser (following
the progress of both), a second officer approves them, the payroll files are downloaded,
the agent's result file is imported, and the failed payment is retried - with one payment
per household at the end. Then an enrolment officer issues a Cheque Sante-style booklet, a
facility clerk redeems vouchers (and is refused a second use), and the facility is reimbursed
for the month, with its statement downloaded. No console errors (the CSP forbids inline code).

The server and browser fixtures are those of test_browser.py. Skipped when chromium is missing.
"""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from test_browser import CHROMIUM, page, server  # noqa: F401 - the shared fixtures

from conftest import make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed at /usr/bin/chromium"),
]

NAFA = "gm-nafa-quick"
SANTE = "cm-cheque-sante"
DISTRICTS = {"URR": ["BSE", "KNT", "WUL"], "CRR": ["JAN"], "WCR": ["KBW"]}


def sign_in(tab, base, username):
    tab.goto(base + "/login")
    tab.fill("#username", username)
    tab.fill("#password", "secret-pass")
    tab.click("main form button[type=submit]")
    tab.wait_for_url(base + "/")


def sign_out(tab):
    tab.click("header form.inline button:has-text('Sign out')")
    tab.wait_for_url(re.compile(r".*/login.*"))


def follow_job(tab):
    """On a job page: the progress bar is there; wait for the result link and open it."""
    tab.wait_for_url(re.compile(r".*/jobs/\d+/page$"))
    assert tab.locator("progress").count() == 1
    tab.wait_for_selector("[data-job-result]:not([hidden])", timeout=60_000)
    assert tab.get_attribute(".job", "data-status") == "done"
    tab.click("[data-job-result]")


def download(tab, selector) -> str:
    with tab.expect_download() as info:
        tab.click(selector)
    with open(info.value.path(), encoding="utf-8") as f:
        return f.read()


@pytest.fixture
def nafa(app, session):
    from openscheme.registry.service import Registry

    reg = Registry(session, app.extensions["openscheme"].catalog)
    rng = random.Random(11)
    for i in range(12):
        region = rng.choice(list(DISTRICTS))
        channel = "mobile_money" if i % 3 == 0 else "cash_agent"
        members = [{"first_name": f"Awa{i}", "last_name": "Jallow", "sex": "F", "dob": "1980-01-01",
                    "roles": ["head", "primary_recipient"] if j == 0 else []} for j in range(rng.randint(1, 7))]
        data = {"region": region, "district": rng.choice(DISTRICTS[region]), "village": "Sabi",
                "payment_channel": channel, "members": members}
        if channel == "mobile_money":
            data["phone"] = f"+22070000{i:02d}"
        assert reg.register(NAFA, data).ok
    session.commit()
    make_user(app, "officer1", [("payment_officer", None, None)])
    make_user(app, "officer2", [("payment_officer", None, None)])


def test_a_cash_cycle_from_the_browser(app, server, page, session, nafa, tmp_path):  # noqa: F811
    from openscheme.storage.models import Enrolment, Household
    from openscheme.storage.workflow_models import Payment, PaymentCycle

    # officer 1 runs targeting and follows its progress
    sign_in(page, server, "officer1")
    page.click(f"a[href='/s/{NAFA}/payments']")
    page.fill("#as_of", "2020-08-01")
    page.click("button:has-text('Run targeting')")
    follow_job(page)
    page.wait_for_url(re.compile(r".*/targeting/\d+$"))
    run_url = page.url
    eligible = int(page.inner_text("[data-eligible]").replace(",", ""))
    assert eligible > 0 and "SQL" in page.inner_text("main")
    assert "another officer must approve it" in page.inner_text("main")
    sign_out(page)

    # officer 2 approves it: the eligible households are enrolled
    sign_in(page, server, "officer2")
    page.goto(run_url)
    page.click("button:has-text('Approve and enrol the eligible')")
    page.wait_for_selector("text=households or people enrolled")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Enrolment)) == eligible
    sign_out(page)

    # officer 1: dry run, then prepares cycle 1 with a progress bar
    sign_in(page, server, "officer1")
    page.goto(f"{server}/s/{NAFA}/payments/nafa_quick/1")
    page.click("a:has-text('Dry run')")
    assert page.inner_text("[data-added]") == str(eligible)
    page.go_back()
    page.click("button[data-action=prepare]")
    follow_job(page)
    page.wait_for_url(re.compile(rf".*/s/{NAFA}/payments/nafa_quick/1$"))
    assert page.get_attribute("[data-cycle-status]", "data-cycle-status") == "prepared"
    assert page.locator("button[data-action=approve]").count() == 0  # the preparer cannot approve
    sign_out(page)

    # officer 2 approves the cycle and downloads the payroll of each channel
    sign_in(page, server, "officer2")
    page.goto(f"{server}/s/{NAFA}/payments/nafa_quick/1")
    page.click("button[data-action=approve]")
    page.wait_for_selector("[data-cycle-status=approved]")
    rows = []
    for channel in ("cash_agent", "mobile_money"):
        rows += list(csv.DictReader(io.StringIO(download(page, f"button[data-payroll={channel}]"))))
    assert len(rows) == eligible and len({r["reference_id"] for r in rows}) == eligible

    # the agent's result file: all paid but one
    failed_ref = rows[0]["reference_id"]
    result = tmp_path / "agent-result.csv"
    result.write_text("reference_id,status,reason\n" + "".join(
        f"{r['reference_id']},{'failed' if r['reference_id'] == failed_ref else 'paid'},"
        f"{'number not registered' if r['reference_id'] == failed_ref else ''}\n" for r in rows), "utf-8")
    page.set_input_files("#file", str(result))
    page.click("button[data-action=reconcile]")
    page.wait_for_selector("[data-paid]")
    assert page.inner_text("[data-paid]") == str(eligible - 1) and page.inner_text("[data-failed]") == "1"
    assert "Every line was recognised." in page.inner_text("main")

    # the failed payment is retried, keeping its reference; it is the only one in the next payroll
    page.click("a:has-text('See the failed payments')")
    assert "number not registered" in page.inner_text("main")
    page.click(f"button[data-retry='{failed_ref}']")
    page.wait_for_selector("text=with the same reference")
    session.rollback()  # a fresh snapshot
    failed = session.scalar(select(Payment).where(Payment.reference == failed_ref))
    page.goto(f"{server}/s/{NAFA}/payments/nafa_quick/1")
    again = list(csv.DictReader(io.StringIO(download(page, f"button[data-payroll={failed.channel}]"))))
    assert [r["reference_id"] for r in again] == [failed_ref]

    # the explanation of a payment, from its stored inputs
    page.goto(f"{server}/payments/{failed.id}")
    assert "amount = min(base_amount + per_member * count(members), max_amount)" in page.inner_text(
        "[data-explanation]")

    # never twice: one payment per enrolled household
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Payment)) == eligible
    assert session.scalar(select(func.count(func.distinct(Payment.unit_id))).select_from(Payment)) == eligible
    assert session.scalar(select(PaymentCycle.status)) == "sent"
    assert session.scalar(select(func.count()).select_from(Household)) == 12
    assert page.console_errors == [] and page.failed_assets == []


def test_vouchers_are_redeemed_and_the_facility_reimbursed(app, server, page, session, tmp_path):  # noqa: F811
    from openscheme.registry.service import Registry
    from openscheme.storage.models import Facility
    from openscheme.storage.workflow_models import VoucherRedemption

    today = date.today()
    issued = (today.replace(day=1) - timedelta(days=1)).replace(day=1)  # the first day of last month
    woman = {"cheque_number": "CS00077777", "first_name": "Aissatou", "last_name": "Bouba", "sex": "F",
             "dob": "1998-06-10", "phone": "+237690000009", "region": "EN", "health_district": "MOKOLO",
             "parity": 1, "lmp_known": True, "lmp": (today - timedelta(days=100)).isoformat()}
    saved = Registry(session, app.extensions["openscheme"].catalog).register(SANTE, woman)
    assert saved.ok, saved.errors
    session.add(Facility(code="HC9", name="CSI Mokolo", level="health_centre", care_type="both"))
    session.commit()
    uid = saved.record.uid
    make_user(app, "agent", [("enrolment_officer", None, None)])
    make_user(app, "clerk", [("facility_clerk", None, None)])
    make_user(app, "payer", [("payment_officer", None, None)])

    # the enrolment officer issues the booklet: one QR code per voucher
    sign_in(page, server, "agent")
    page.goto(f"{server}/s/{SANTE}/vouchers/issue")
    page.fill("#uid", uid)
    page.fill("#issued_on", issued.isoformat())
    page.click("button:has-text('Issue the vouchers')")
    page.wait_for_url(re.compile(r".*/booklet$"))
    codes = page.eval_on_selector_all(".voucher", "vs => vs.map(v => v.dataset.code)")
    assert len(codes) == 8
    assert page.locator(".voucher img[src^='data:image/svg+xml']").count() == 8
    assert page.evaluate("[...document.querySelectorAll('.voucher img')].every(i => i.complete && i.naturalWidth > 0)")
    sign_out(page)

    # the facility clerk redeems two vouchers; a second use is refused with its reason
    sign_in(page, server, "clerk")
    page.goto(f"{server}/s/{SANTE}/vouchers/redeem")

    def redeem(code, service):
        page.fill("#code", code)
        page.fill("#holder", uid)
        page.select_option("#service", service)
        page.fill("#on", issued.isoformat())
        page.click("button:has-text('Redeem')")
        page.wait_for_load_state()

    redeem(codes[0], "CPN1")
    assert page.get_attribute("[data-accepted]", "data-accepted") == codes[0]
    redeem(codes[4], "ACC-NORMAL")  # the delivery voucher (4 antenatal come first)
    assert page.get_attribute("[data-accepted]", "data-accepted") == codes[4]
    redeem(codes[0], "CPN1")
    assert page.get_attribute("[data-refused]", "data-refused") == "V02"
    assert "already used" in page.inner_text("[data-refused]")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(VoucherRedemption)) == 2
    sign_out(page)

    # the payment officer reimburses the facility for last month and downloads the statement
    sign_in(page, server, "payer")
    page.goto(f"{server}/s/{SANTE}/vouchers/reimburse")
    period = issued.strftime("%Y-%m")
    page.click(f"button[data-reimburse='HC9-{period}']")
    page.wait_for_selector("[data-statement]")
    assert page.inner_text("[data-total]") == "17,500 XAF"
    lines = list(csv.DictReader(io.StringIO(download(page, "a[data-csv]"))))
    assert [x["voucher_code"] for x in lines] == [codes[0], codes[4], "TOTAL"] and lines[-1]["amount"] == "17500.00"
    session.rollback()
    assert session.scalar(select(func.count()).select_from(VoucherRedemption).where(
        VoucherRedemption.reimbursed.is_(True))) == 2
    assert page.console_errors == [] and page.failed_assets == []
