"""The "done when" of the insurance workflows, in a real browser (Debian's chromium), for the Tanzania-
and Nepal-style examples: a facility clerk verifies a patient, submits a claim and sees the automated
decision with its reasons; a claims reviewer adjusts a line with a reason and values the claim; a payment
officer batches the facility's month and gets the provider payment file, then marks it paid. No console
error (the CSP forbids inline code) and nothing wider than a 360px phone. Skipped without chromium.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from test_browser import CHROMIUM, fits_a_phone, page, server  # noqa: F401 - the live server and the browser

from conftest import make_user
from insurance_helpers import TODAY, insured, person_uid, seed_insurance

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed at /usr/bin/chromium"),
]

# scheme, facility, claim lines (code, quantity), the line the reviewer changes, new quantity, payable after
CASES = {
    "tz-chf": ("DH_KONGWA", "O80", [("SUR01", "1"), ("ADM01", "1"), ("MED01", "30")], 2, "20", "255,000"),
    "np-hib": ("BIR_HOSPITAL", "S52.5", [("SURG-MAJ", "1"), ("IPD", "3"), ("MED-PCM", "25")], 2, "15", "29,530"),
}


def sign_in(browser_page, base_url, username):
    browser_page.goto(base_url + "/login")
    browser_page.fill("#username", username)
    browser_page.fill("#password", "secret-pass")
    browser_page.click("main form button[type=submit]")
    browser_page.wait_for_url(base_url + "/")


def sign_out(browser_page):
    browser_page.click("header nav form button[type=submit]")
    browser_page.wait_for_url(re.compile(r".*/login.*"))


@pytest.mark.parametrize("scheme", sorted(CASES))
def test_verify_claim_review_and_pay_in_a_real_browser(app, server, page, scheme):  # noqa: F811 - fixtures
    facility, diagnosis, lines, changed, quantity, payable = CASES[scheme]
    seed_insurance(app)
    unit, _ = insured(app, scheme)
    patient = person_uid(app, unit, 1)
    for role in ("facility_clerk", "claims_reviewer", "payment_officer"):
        make_user(app, role, [(role, None, None)])

    # the clerk checks the patient's cover
    sign_in(page, server, "facility_clerk")
    page.goto(server + f"/verify?scheme={scheme}")
    page.fill("#q", patient)
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector(f"[data-person={patient}]")
    assert "Covered today" in page.inner_text(f"[data-person={patient}] .verdict")
    assert fits_a_phone(page)

    # ... and submits the claim
    page.click(f"[data-person={patient}] a:has-text('Submit a claim')")
    page.select_option("#pick-facility", facility)
    page.click("form.row button.secondary")
    page.wait_for_selector("#claim-form")
    page.fill("#code", f"{scheme}-0001")
    assert page.input_value("#insuree") == patient
    page.select_option("#care_type", "in_patient")
    page.fill("#diagnosis", diagnosis)
    for i, (code, qty) in enumerate(lines):
        page.select_option(f"#lines-{i}-code", code)
        page.fill(f"#lines-{i}-quantity", qty)
    assert fits_a_phone(page)
    page.click("#claim-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/claims/\d+$"))
    claim_url = page.url
    # the automated decision, with its reasons: the quantity above the limit per visit is reduced (R07)
    assert page.inner_text("#claim-status") == "in review"
    assert page.is_visible("#selected")
    reasons = page.inner_text(f"tr[data-line='{changed}'] .reasons")
    assert "R07" in reasons and "quantity above the limit per visit" in reasons
    assert fits_a_phone(page)
    sign_out(page)

    # the reviewer changes the line with a reason, then values the claim
    sign_in(page, server, "claims_reviewer")
    page.goto(claim_url)
    row = page.locator(f"tr[data-line='{changed}']")
    row.locator("summary").click()
    row.locator("input[name=quantity]").fill(quantity)
    row.locator("input[name=reason]").fill("dispensed as recorded in the ward register")
    row.locator("form.adjust button[type=submit]").click()
    page.wait_for_selector(".flash")
    assert page.inner_text("#claim-payable") == payable
    assert "dispensed as recorded in the ward register" in page.inner_text(f"tr[data-line='{changed}']")
    page.click("button[data-step=valuate]")
    page.wait_for_function("document.querySelector('#claim-status').textContent.trim() === 'valued'")
    sign_out(page)

    # the payment officer batches the facility's month and downloads the provider payment file
    sign_in(page, server, "payment_officer")
    page.goto(server + f"/s/{scheme}/batches")
    page.select_option("#facility", facility)
    page.fill("#period", TODAY.strftime("%Y-%m"))
    page.click("form.row button[type=submit]")
    page.wait_for_url(re.compile(r".*/batches/\d+$"))
    assert page.inner_text("#batch-total") == payable
    with page.expect_download() as download:
        page.click("#payment-file")
    with open(download.value.path(), encoding="utf-8") as f:
        rows = list(csv.reader(io.StringIO(f.read())))
    assert rows[1][4] == f"{scheme}-0001" and rows[-1][4] == "TOTAL"
    assert rows[-1][10] == payable.replace(",", "") + ".00"
    page.fill("#reference", "TRF-2025-001")
    page.click("#pay")
    page.wait_for_selector(".flash")
    assert page.inner_text("#batch-status") == "paid"
    assert fits_a_phone(page)
    assert page.console_errors == [] and page.failed_assets == []
