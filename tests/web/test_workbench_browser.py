"""A real browser drives the formula workbench end to end (Nafa Quick-style targeting rule).

An analyst opens the workbench, types a typo and sees the exact error at the right column
(checked as they type, by static JavaScript under the CSP), fixes it, previews who would be
dropped and what it saves, and proposes it. An implementer approves it; the next dry-run
payment cycle (the payment officer's page) no longer pays the dropped households.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import delete

from analysis_helpers import NAFA, register_nafa, target_and_enrol
from conftest import EXAMPLES
from openscheme.storage.analysis_models import FormulaProposal
from openscheme.storage.models import User

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed at /usr/bin/chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api")

import test_browser as live  # noqa: E402 - the live server and browser page fixtures of the registry browser test

server = live.server
page = live.page


@pytest.fixture
def restore(app):
    yield
    state = app.extensions["openscheme"]
    with state.db.session_factory() as s, s.begin():
        s.execute(delete(FormulaProposal))
    state.catalog.load_paths([EXAMPLES / "gm_nafa_quick.yaml"])


def sign_in(page, server, username):
    page.goto(server + "/login")
    page.fill("#username", username)
    page.fill("#password", "secret-pass")
    page.click("main form button[type=submit]")
    page.wait_for_url(server + "/")


def sign_out(page):
    page.click("header form button.link")


def test_analyst_changes_the_targeting_rule_and_the_dry_run_follows(app, server, page, session, users, restore):
    from openscheme.payments import cycles

    register_nafa(app, session, n=30, seed=11)
    target_and_enrol(app, session, session.get(User, users["payment_officer"]),
                     session.get(User, users["enrolment_officer"]))
    catalog = app.extensions["openscheme"].catalog
    scheme = catalog.current(NAFA)
    before = cycles.dry_run(session, scheme, scheme.benefit("nafa_quick"), 1)
    session.rollback()

    sign_in(page, server, "analyst")
    page.click(f"a[href='/s/{NAFA}/workbench']")
    page.wait_for_selector("html[data-workbench-ready]")
    assert page.input_value("#formula") == "district in poorest_districts"
    page.wait_for_selector("#formula-status.ok")

    # a typo: the error, its code and its column, while typing
    page.fill("#formula", "district in poorest_districts and count(membrs) >= 3")
    page.wait_for_selector("#formula-status.bad[data-code=E410]")
    status = page.locator("#formula-status")
    assert status.get_attribute("data-col") == "41"
    assert "did you mean 'members'?" in status.inner_text()
    caret = page.inner_text("#formula-caret").split("\n")
    assert caret[1].index("^") == caret[0].index("membrs")

    # fixed: valid, then the preview
    page.fill("#formula", "district in poorest_districts and count(members) >= 3")
    page.wait_for_selector("#formula-status.ok")
    page.fill("#as_of", "2020-08-01")
    page.click("#preview")
    page.wait_for_selector("#impact")
    lost = int(page.inner_text("#lost").replace("−", "").replace(",", ""))
    saves = int(re.sub(r"[^\d]", "", page.inner_text("#saves")))
    assert lost > 0 and saves > 0
    assert page.locator("#impact-areas tbody tr").count() >= 1
    assert page.locator("#impact-sample li[data-change=loses]").count() >= 1
    page.fill("#note", "Households of one or two get the other programme")
    page.click("#propose")
    page.wait_for_selector("#proposal-status[data-status=proposed]")
    assert page.locator("#approve").count() == 0  # the analyst cannot approve
    proposal_url = page.url
    sign_out(page)

    sign_in(page, server, "implementer")
    page.goto(proposal_url)
    assert "eligibility rule poorest_district: formula" in page.inner_text("main")
    page.click("#approve")
    page.wait_for_selector("#proposal-status[data-status=approved]")
    assert "the next dry run" in page.inner_text(".flash")
    sign_out(page)

    # the next dry-run cycle, on the payment officer's page, uses the approved version
    sign_in(page, server, "payment_officer")
    page.goto(f"{server}/s/{NAFA}/payments/nafa_quick/1/dry-run")
    shown = int(page.inner_text("td[data-count]").replace(",", ""))
    assert shown == before.count - lost
    current = catalog.current(NAFA)
    assert current.rule("poorest_district").formula.text.endswith("count(members) >= 3")
    after = cycles.dry_run(session, current, current.benefit("nafa_quick"), 1)
    session.rollback()
    assert before.count - after.count == lost and before.total - after.total == saves
    assert page.console_errors == [] and page.failed_assets == []
