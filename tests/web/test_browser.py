"""A real browser registers a household through a generated form.

Chromium (Debian's /usr/bin/chromium) drives the app served by werkzeug in a
thread, on the test database: sign in, switch to French, see the phone number
appear when mobile money is chosen and the districts narrow to the chosen region,
add and remove member rows, get the French error next to a bad phone number (the
typed values kept), fix it, save, and find the household on its page. Also: no
console error (the CSP forbids inline code) and nothing wider than a 360px phone, the
registry's list included.
Skipped when chromium or Playwright is missing.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from conftest import make_user

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed at /usr/bin/chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def server(app):
    from werkzeug.serving import make_server

    app.config["WTF_CSRF_ENABLED"] = True  # a real browser posts the real tokens
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def page(server):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.console_errors = []  # script errors and CSP refusals (a 422 page is not one)
        page.on("console", lambda m: m.type == "error" and "Failed to load resource" not in m.text
                and page.console_errors.append(m.text))
        page.on("pageerror", lambda e: page.console_errors.append(str(e)))
        page.failed_assets = []  # scripts and stylesheets that did not load
        page.on("response", lambda r: r.request.resource_type in ("script", "stylesheet") and r.status >= 400
                and page.failed_assets.append(f"{r.status} {r.url}"))
        try:
            yield page
        finally:
            context.close()
            browser.close()


def visible(page, selector: str) -> bool:
    return page.locator(selector).is_visible()


def fits_a_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_register_a_household_in_a_real_browser(app, server, page, session):
    from sqlalchemy import select

    from openscheme.storage.models import AuditLog, Household

    make_user(app, "officer", [("enrolment_officer", None, None)])
    page.goto(server + "/login")
    page.fill("#username", "officer")
    page.fill("#password", "secret-pass")
    page.click("main form button[type=submit]")
    page.wait_for_url(server + "/")
    page.click("header .lang button[value=fr]")  # the interface in French
    page.wait_for_selector("text=Régimes")

    page.goto(server + "/s/gm-nafa-quick/register")
    page.wait_for_selector("form[data-os-form][data-ready]")
    assert page.locator("label[for=region]").inner_text().startswith("Région")
    assert fits_a_phone(page)

    # relevance: the phone appears only for mobile money, without reloading
    assert not visible(page, ".os-field[data-field=phone]")
    page.select_option("#payment_channel", "mobile_money")
    page.wait_for_selector(".os-field[data-field=phone]", state="visible")
    page.select_option("#payment_channel", "cash_agent")
    page.wait_for_selector(".os-field[data-field=phone]", state="hidden")
    page.select_option("#payment_channel", "mobile_money")
    page.wait_for_selector("#phone", state="visible")

    # cascading choices: only the districts of the chosen region remain
    page.select_option("#region", "URR")
    districts = page.eval_on_selector_all("#district option", "os => os.map(o => o.value).filter(Boolean)")
    assert sorted(districts) == ["BSE", "KNT", "WUL"]
    page.select_option("#district", "BSE")
    page.select_option("#region", "WCR")
    assert page.input_value("#district") == ""  # Basse is not in West Coast: cleared
    page.select_option("#region", "URR")
    page.select_option("#district", "BSE")
    page.fill("#village", "Sabi")
    page.fill("#phone", "not a phone")

    # member rows: fill the first, add two, remove one
    page.fill("#members-0-first_name", "Awa")
    page.fill("#members-0-last_name", "Jallow")
    page.select_option("#members-0-sex", "F")
    page.fill("#members-0-dob", "1980-02-01")
    page.check("#members-0-roles-0")
    page.check("#members-0-roles-1")
    page.click("button[data-add-member]")
    page.click("button[data-add-member]")
    assert page.locator("[data-member-rows] > [data-member-row]").count() == 3
    assert page.locator("[data-member-rows] > [data-member-row]").nth(2).locator("[data-member-number]").inner_text() == "3"
    page.fill("#members-1-first_name", "Lamin")
    page.fill("#members-1-last_name", "Jallow")
    page.select_option("#members-1-sex", "M")
    page.fill("#members-1-dob", "2005-05-05")
    page.locator("[data-member-rows] > [data-member-row]").nth(2).locator("button[data-remove-member]").click()
    assert page.locator("[data-member-rows] > [data-member-row]").count() == 2
    assert fits_a_phone(page)

    # a bad value: the French error next to the field, everything typed is kept
    page.click("form[data-os-form] button[type=submit]")
    page.wait_for_selector("#phone-error")
    assert page.inner_text("#phone-error") == "Chiffres uniquement, 7 à 15, éventuellement précédés de +"
    assert "Corrigez les valeurs signalées ci-dessous." in page.inner_text("#error-summary")
    assert page.input_value("#phone") == "not a phone"
    assert page.input_value("#members-1-first_name") == "Lamin"
    assert page.input_value("#district") == "BSE"
    assert page.is_checked("#members-0-roles-1")
    page.wait_for_selector("form[data-os-form][data-ready]")
    assert visible(page, "#phone")  # still relevant after the round trip
    assert session.scalar(select(Household)) is None

    # fixed, saved, shown
    page.fill("#phone", "+2207000000")
    page.click("form[data-os-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/r/H[0-9A-Z]{10}$"))
    body = page.inner_text("main")
    assert "Enregistré sous" in body
    assert "Haut-Fleuve" in body and "Basse" in body and "+2207000000" in body
    assert "Awa" in body and "Lamin" in body and "Chef de ménage" in body
    assert fits_a_phone(page)
    uid = page.url.rsplit("/", 1)[-1]
    session.rollback()  # a new transaction sees what the server committed
    household = session.scalar(select(Household).where(Household.uid == uid))
    assert household.data["phone"] == "+2207000000" and len(household.members) == 2
    assert session.scalar(select(AuditLog).where(AuditLog.action == "create")).entity_id == household.id

    # the registry's list on the phone: a block per record, its id on one line (not one character a line)
    page.goto(server + "/s/gm-nafa-quick/")
    record_id = page.locator("td code", has_text=uid)
    line = record_id.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
    assert record_id.bounding_box()["height"] < 1.5 * line
    assert fits_a_phone(page)
    assert page.console_errors == []
    assert page.failed_assets == []


def test_cascades_member_conditions_and_calculations_in_a_real_browser(app, server, page):
    from datetime import date, timedelta

    from registry_helpers import seed_locations

    seed_locations(app)
    make_user(app, "officer", [("enrolment_officer", None, None)])
    page.goto(server + "/login")
    page.fill("#username", "officer")
    page.fill("#password", "secret-pass")
    page.click("main form button[type=submit]")
    page.wait_for_url(server + "/")

    # places cascade down the hierarchy by path
    page.goto(server + "/s/tz-chf/register")
    page.wait_for_selector("form[data-os-form][data-ready]")
    def offered(select, codes):  # the page asks the server for the places inside the chosen one
        page.wait_for_function("([s, codes]) => JSON.stringify(Array.from(document.querySelectorAll(s + ' option'))"
                               ".map(o => o.value).filter(Boolean).sort()) === JSON.stringify(codes)",
                               arg=[select, sorted(codes)])

    assert page.eval_on_selector_all("#ward option", "os => os.map(o => o.value).filter(Boolean)") == []
    page.select_option("#region", "DODOMA")
    offered("#district", ["BAHI_DC", "KONGWA_DC"])
    page.select_option("#district", "BAHI_DC")
    offered("#ward", ["BAHI_WARD"])
    page.select_option("#ward", "BAHI_WARD")
    offered("#village", ["BAHI_SOKONI"])
    page.select_option("#district", "KONGWA_DC")
    offered("#ward", ["MLALI"])
    assert page.input_value("#ward") == "" and page.input_value("#village") == ""
    page.select_option("#district", "")  # no district: the wards of the region remain
    offered("#ward", ["BAHI_WARD", "MLALI"])

    # a member's own condition, in a row added in the page
    page.goto(server + "/s/cm-educash/register")
    page.wait_for_selector("form[data-os-form][data-ready]")
    page.click("button[data-add-member]")
    row = page.locator("[data-member-rows] > [data-member-row]").nth(1)
    school = row.locator(".os-field[data-field=is_enrolled_in_school]")
    assert not school.is_visible()
    ten_years_ago = date.today().replace(year=date.today().year - 10, day=1).isoformat()
    row.locator("input[type=date]").fill(ten_years_ago)
    school.wait_for(state="visible")
    assert not row.locator(".os-field[data-field=school_name]").is_visible()
    school.locator("input[value=true]").check()
    row.locator(".os-field[data-field=school_name]").wait_for(state="visible")
    row.locator("input[type=date]").fill("1980-01-01")
    school.wait_for(state="hidden")
    assert not page.locator("[data-member-rows] > [data-member-row]").nth(0) \
        .locator(".os-field[data-field=is_enrolled_in_school]").is_visible()  # no date of birth yet

    # yes/no radios and a computed date
    page.goto(server + "/s/cm-cheque-sante/register")
    page.wait_for_selector("form[data-os-form][data-ready]")
    assert not page.locator(".os-field[data-field=lmp]").is_visible()
    page.check("#lmp_known-0")  # yes
    page.wait_for_selector("#lmp", state="visible")
    assert not page.locator(".os-field[data-field=edd_estimated]").is_visible()
    lmp = date.today() - timedelta(days=70)
    page.fill("#lmp", lmp.isoformat())
    page.wait_for_function("document.querySelector('#edd').textContent.trim() !== ''")
    assert page.inner_text("#edd").strip() == (lmp + timedelta(days=280)).isoformat()
    page.check("#lmp_known-1")  # no
    page.wait_for_selector("#edd_estimated", state="visible")
    assert page.console_errors == [] and page.failed_assets == []
