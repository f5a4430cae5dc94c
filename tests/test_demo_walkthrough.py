"""`openscheme demo` gives a working site: every demo user does their job in every example scheme.

The demo's own data is built once (small) on the test database; each test logs in as a demo user
through the login page and works through the pages as a browser would - it reads the form from
the page, fills it, posts it with the page's CSRF token and follows the redirect - then checks the
outcome in the database, and that the role is refused what it may not do. A scheme where a role has
no work (a facility clerk in a cash transfer) is checked for the refusals only.
"""

from __future__ import annotations

import random
import re
from datetime import date
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from conftest import EXAMPLES, clean
from openscheme.reference.seed import DEMO_USERS, demo_password

SCHEMES = ("tz-chf", "np-hib", "np-ssf", "cm-hiv-waiver", "cm-cheque-sante", "gm-nafa-quick", "cm-educash")
ROLES = ("administrator", "implementer", "enrolment_officer", "facility_clerk", "claims_reviewer",
         "payment_officer", "analyst", "auditor")
USER_OF = {}
for _name, _role, _scheme, _place, *_ in DEMO_USERS:
    if _scheme is None and _place is None:
        USER_OF.setdefault(_role, _name)
PER_SCHEME = 12


# ---- a small browser: forms read from the page, posted with their CSRF token -------------------


class Form:
    def __init__(self, attrs: dict):
        self.attrs = attrs
        self.fields: list[dict] = []  # {"tag", "name", "type", "value", "checked", "options"}

    def field(self, name: str) -> dict | None:
        return next((f for f in self.fields if f["name"] == name), None)

    def options(self, name: str) -> list[str]:
        f = self.field(name)
        return [] if f is None else [v for v, _label in f.get("options", [])]

    def values(self) -> list[tuple[str, str]]:
        """What the browser would post as the page stands."""
        out = []
        for f in self.fields:
            if not f["name"] or f.get("disabled"):
                continue
            if f["type"] in ("checkbox", "radio"):
                if f.get("checked"):
                    out.append((f["name"], f["value"] or "on"))
            elif f["tag"] == "select":
                chosen = [v for v, selected in f.get("selected", []) if selected]
                if not chosen and f["options"] and not f.get("multiple"):
                    chosen = [f["options"][0][0]]
                out += [(f["name"], v) for v in chosen]
            elif f["type"] not in ("submit", "button", "file"):
                out.append((f["name"], f.get("value") or ""))
        return out


class PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: dict | None = None
        self.option: list | None = None
        self.textarea: dict | None = None
        self.in_template = 0

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "template":
            self.in_template += 1
        if self.in_template:
            return
        if tag == "form":
            self.form = Form(a)
            self.forms.append(self.form)
        elif self.form is None:
            return
        elif tag == "input":
            self.form.fields.append({"tag": "input", "name": a.get("name"), "type": a.get("type", "text").lower(),
                                     "value": a.get("value", ""), "checked": "checked" in a})
        elif tag == "select":
            self.select = {"tag": "select", "name": a.get("name"), "type": "select", "options": [], "selected": [],
                           "multiple": "multiple" in a}
            self.form.fields.append(self.select)
        elif tag == "option" and self.select is not None:
            self.option = [a.get("value"), "", "selected" in a]
        elif tag == "textarea":
            self.textarea = {"tag": "textarea", "name": a.get("name"), "type": "textarea", "value": ""}
            self.form.fields.append(self.textarea)
        elif tag == "button" and a.get("name"):  # posted only when it is the button pressed
            self.form.fields.append({"tag": "button", "name": a.get("name"), "type": "submit", "value": a.get("value")})

    def handle_data(self, data):
        if self.option is not None:
            self.option[1] += data
        elif self.textarea is not None:
            self.textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "template":
            self.in_template -= 1
        elif tag == "option" and self.option is not None:
            value = self.option[0] if self.option[0] is not None else self.option[1].strip()
            self.select["options"].append((value, self.option[1].strip()))
            self.select["selected"].append((value, self.option[2]))
            self.option = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form":
            self.form = None


def forms_of(html: str) -> list[Form]:
    parser = PageParser()
    parser.feed(html)
    return parser.forms


class Browser:
    """One signed-in user of the demo, in the language they chose."""

    def __init__(self, app, username: str, password: str | None = None):
        self.app = app
        self.client = app.test_client()
        self.username = username
        self.url = "/"
        page = self.get("/login")
        r = self.submit(page, "/login", {"username": username, "password": password or demo_password(username)})
        assert r.status_code == 302, f"{username} could not sign in: {r.status_code}"
        self.html = ""

    def get(self, url: str, status: int = 200, **params) -> str:
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        r = self.client.get(url)
        self.url = url
        assert r.status_code == status, f"{self.username} GET {url}: {r.status_code}\n{r.get_data(as_text=True)[:2000]}"
        self.html = r.get_data(as_text=True)
        return self.html

    def form(self, html: str, action: str | None = None, form_id: str | None = None) -> Form:
        found = forms_of(html)
        for f in found:
            if form_id is not None and f.attrs.get("id") == form_id:
                return f
            if action is not None and urlsplit(f.attrs.get("action") or self.url).path == action \
                    and (f.attrs.get("method") or "get").lower() == "post":
                return f
        raise AssertionError(f"no form {action or form_id} on the page; forms: {[f.attrs for f in found]}")

    def submit(self, html: str, action: str | None = None, changes: dict | None = None, *, form_id: str | None = None,
               post_to: str | None = None, expect: int | tuple = (200, 302, 303), follow: bool = False):
        """Post a form of the page: its own values (hidden ones, the CSRF token), with `changes` applied.

        A change names a field of the form (an unknown name fails: the page must offer it); a list value
        posts the name several times (checkboxes); None removes the field."""
        form = self.form(html, action, form_id)
        names = {f["name"] for f in form.fields}
        data = [(k, v) for k, v in form.values() if k not in (changes or {})]
        for name, value in (changes or {}).items():
            assert name in names, f"the form {action or form_id} has no field {name!r}"
            if value is None:
                continue
            for v in value if isinstance(value, list) else [value]:
                data.append((name, str(v)))
        target = post_to or form.attrs.get("action") or self.url
        r = self.client.post(target, data=_multi(data), follow_redirects=follow)
        codes = expect if isinstance(expect, tuple) else (expect,)
        assert r.status_code in codes, (f"{self.username} POST {target}: {r.status_code}\n"
                                        f"{r.get_data(as_text=True)[:3000]}")
        self.html = r.get_data(as_text=True)
        return r

    def refused(self, url: str, method: str = "get", data: dict | None = None) -> None:
        if method == "get":
            r = self.client.get(url)
        else:
            r = self.client.post(url, data={**(data or {}), "csrf_token": self.token()})
        assert r.status_code in (403, 404), f"{self.username} was not refused {method.upper()} {url}: {r.status_code}"

    def token(self) -> str:
        html = self.get("/")
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)

    def json(self, url: str):
        r = self.client.get(url)
        assert r.status_code == 200, f"{self.username} GET {url}: {r.status_code}"
        return r.get_json()


def _multi(pairs):
    from werkzeug.datastructures import MultiDict

    return MultiDict(pairs)


def location_after(r) -> str:
    assert r.status_code in (302, 303), r.status_code
    return urlsplit(r.headers["Location"]).path


# ---- the demo, once for the module -------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(base_app, database_url):
    from openscheme.reference.demo import run_demo

    clean(base_app)
    report = run_demo(database_url, [EXAMPLES], per_scheme=PER_SCHEME, hash_method="pbkdf2:sha256:1000",
                      echo=lambda _text: None)
    assert not report.load.failed
    assert all(g.added == PER_SCHEME for g in report.beneficiaries), [str(g) for g in report.beneficiaries]
    base_app.config["WTF_CSRF_ENABLED"] = True  # posts carry the page's token, as in the demo
    base_app.config["JOBS_IN_BACKGROUND"] = False
    yield base_app
    base_app.config["WTF_CSRF_ENABLED"] = False
    base_app.config.pop("JOBS_IN_BACKGROUND", None)
    clean(base_app)


def db(app):
    return app.extensions["openscheme"].db.session_factory()


def scheme_of(app, code):
    return app.extensions["openscheme"].catalog.current(code)


def kinds(scheme) -> set[str]:
    return {b.kind for b in scheme.benefits}


# ---- filling a generated form -----------------------------------------------------------------


def synthetic_record(app, code: str, seed: str, area: str | None = None) -> dict:
    """A valid record made by the demo's own generator (the scheme's declarations and the demo's places,
    those of `area` - a path - and above it for an officer limited to it)."""
    from openscheme.reference.synthetic import Places, RecordGenerator, load_names
    from openscheme.reference.synthetic import clean as plain

    scheme = scheme_of(app, code)
    with db(app) as s:
        places = Places(s, scheme.country)
    if area:
        places.all = [p for p in places.all if p.path.startswith(area) or area.startswith(p.path)]
        places.by_code = {p.code: p for p in places.all}
        places.by_level = {level: [p for p in group if p.code in places.by_code]
                           for level, group in places.by_level.items()}
    generator = RecordGenerator(scheme, places, load_names())
    from openscheme.evaluation.records import validate_record

    rng = random.Random(seed)
    record = generator.record(rng)
    if scheme.is_household:
        record["members"] = record["members"][:3]
    for step in range(1, 4):  # as the demo does: regenerate what the validation refuses
        errors = validate_record(scheme, plain(record), as_of=date.today()).errors
        if not errors:
            break
        generator.repair(record, errors, rng, step)
    assert not validate_record(scheme, plain(record), as_of=date.today()).errors
    return plain(record)


def posted_value(value) -> str | list[str]:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)


def fill_generated_form(browser: Browser, html: str, action: str, scheme, record: dict) -> dict:
    """The changes that type `record` into the generated form of the page (rows beyond the first are
    added as the page's "Add a member" does: names from the row template)."""
    form = browser.form(html, action)
    template_names = set(re.findall(r'name="members-__index__-([^"]+)"', html))
    changes: dict = {}
    followed = {}

    def put(name, value, spec):
        if spec is not None and spec.type == "location":
            # a cascading place: the options of the chosen parent, as the page asks the server for them
            options = location_options(browser, html, form, name, spec, followed)
            assert value in options, f"{name}: {value} is not offered ({options[:10]})"
            followed[name] = value
        elif form.field(name) is not None and form.field(name)["tag"] == "select" and not isinstance(value, list):
            assert str(value) in form.options(name), f"{name}: {value} not in {form.options(name)}"
        changes[name] = posted_value(value)

    for f in scheme.fields:
        if f.name in record and form.field(f.name) is not None:
            put(f.name, record[f.name], f)
    for i, member in enumerate(record.get("members") or []):
        for key, value in member.items():
            name = f"members-{i}-{key}"
            if (form.field(name) is None) if i == 0 else (key not in template_names):
                continue  # not on this form (the quick form asks only what it must)
            put(name, value, next((f for f in scheme.member_fields if f.name == key), None))
    return changes


def location_options(browser, html, form, name, spec, chosen) -> list[str]:
    select_ = re.search(rf'<select id="{re.escape(name)}"[^>]*>', html).group(0)
    parent = re.search(r'data-parent-name="([^"]+)"', select_)
    children_url = re.search(r'data-children-url="([^"]+)"', select_)
    if parent and children_url and parent.group(1) in chosen:
        rows = browser.json(children_url.group(1).replace("&amp;", "&") + "&parent=" + chosen[parent.group(1)])
        return [r["code"] for r in rows]
    return form.options(name)


def post_generated(browser: Browser, html: str, action: str, changes: dict):
    """Post the generated form with the typed values; extra member rows are sent like the page sends them."""
    form = browser.form(html, action)
    names = {f["name"] for f in form.fields}
    data = [(k, v) for k, v in form.values() if k not in changes]
    for name, value in changes.items():
        for v in value if isinstance(value, list) else [value]:
            data.append((name, v))
    assert all(k in names or k.startswith("members-") for k, _ in data)
    r = browser.client.post(action, data=_multi(data))
    browser.html = r.get_data(as_text=True)
    return r


# ---- the jobs ---------------------------------------------------------------------------------


def enrolment_officer(app, b: Browser, code: str, area: str | None = None):
    from openscheme.storage.models import AuditLog, Household, Individual

    scheme = scheme_of(app, code)
    home = b.get("/")
    assert f"/s/{code}/register" in home and f"/s/{code}/quick" in home
    # register through the full form
    record = synthetic_record(app, code, f"walk:{code}:full:{b.username}", area)
    page = b.get(f"/s/{code}/register")
    changes = fill_generated_form(b, page, f"/s/{code}/register", scheme, record)
    r = post_generated(b, page, f"/s/{code}/register", changes)
    assert r.status_code == 302, f"register {code}: {r.status_code} {errors_on(b.html)}"
    uid = location_after(r).rsplit("/", 1)[-1]
    view = b.get(f"/r/{uid}")
    assert f"/r/{uid}/edit" in view
    model = Household if scheme.is_household else Individual
    with db(app) as s:
        unit = s.scalar(select(model).where(model.uid == uid))
        assert unit is not None and unit.scheme_code == code and unit.created_by is not None
        if scheme.is_household:
            assert len([m for m in unit.members if m.active]) == len(record["members"])
    # the phone-sized quick registration: only what it offers
    record = synthetic_record(app, code, f"walk:{code}:quick:{b.username}", area)
    page = b.get(f"/s/{code}/quick")
    assert 'name="viewport"' in page
    form = b.form(page, f"/s/{code}/quick")
    offered = {f["name"] for f in form.fields}
    record = {k: v for k, v in record.items() if k == "members" or k in offered}
    changes = fill_generated_form(b, page, f"/s/{code}/quick", scheme, record)
    changes = {k: v for k, v in changes.items() if k in offered or k.startswith("members-")}
    r = post_generated(b, page, f"/s/{code}/quick", changes)
    assert r.status_code == 302 and location_after(r) == f"/s/{code}/quick", errors_on(b.html)
    quick_uid = re.search(r"Saved as ([HP][0-9A-Z]{10})", b.get(f"/s/{code}/quick")).group(1)
    # search finds it by its number, and by a name
    found = b.get(f"/s/{code}/", q=quick_uid)
    assert f"/r/{quick_uid}" in found
    with db(app) as s:
        person = s.scalar(select(Individual).where(Individual.uid == uid)) if uid.startswith("P") else \
            s.scalar(select(Individual).join(Household).where(Household.uid == uid).order_by(Individual.position))
        last = person.data.get("last_name")
    if last:
        assert "/r/" in b.get(f"/s/{code}/", q=last)
    # edit: change a text field of the first person
    page = b.get(f"/r/{uid}/edit")
    first = "members-0-first_name" if scheme.is_household else "first_name"
    r = b.submit(page, f"/r/{uid}/edit", {first: "Walkthrough"}, expect=302)
    with db(app) as s:
        person = s.scalar(select(Individual).where(Individual.uid == uid)) if uid.startswith("P") else \
            s.scalar(select(Individual).join(Household).where(Household.uid == uid).order_by(Individual.position))
        assert person.data["first_name"] == "Walkthrough"
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "update",
                                                                         AuditLog.username == b.username)) >= 1
    # refused: what is not an officer's job
    b.refused("/admin/users/")
    b.refused(f"/s/{code}/workbench")
    b.refused(f"/s/{code}/payments")


def errors_on(html: str) -> list[str]:
    return re.findall(r'class="field-error"[^>]*>([^<]*)<', html) + re.findall(r'<li><a href="#[^"]+">([^<]*)</a>', html)


JOBS = {"enrolment_officer": enrolment_officer}


@pytest.mark.parametrize("code", SCHEMES)
@pytest.mark.parametrize("role", ROLES)
def test_each_role_does_its_job_in_each_example(demo, role, code):
    job = JOBS.get(role)
    if job is None:
        pytest.skip("not written yet")
    job(demo, Browser(demo, USER_OF[role]), code)


# ---- insurance: the clerk, the reviewer, the payment officer ------------------------------------


def insured_person(app, code: str) -> str:
    """The insurance number (person uid) of someone the demo insured in this scheme."""
    from openscheme.storage.models import Household, Individual
    from openscheme.storage.workflow_models import Policy

    with db(app) as s:
        policy = s.scalar(select(Policy).where(Policy.scheme_code == code, Policy.status == "active")
                          .order_by(Policy.id))
        assert policy is not None, f"the demo insured nobody in {code}"
        if policy.unit_type == "household":
            hid = s.scalar(select(Household.id).where(Household.id == policy.unit_id))
            return s.scalar(select(Individual.uid).where(Individual.household_id == hid).order_by(Individual.position))
        return s.scalar(select(Individual.uid).where(Individual.id == policy.unit_id))


def scheme_facility(app, code: str) -> str:
    """A facility paid from the scheme's price list (what a clerk of that facility would pick)."""
    from openscheme.storage.models import Facility, PriceList

    with db(app) as s:
        return s.scalar(select(Facility.code).join(PriceList, PriceList.id == Facility.price_list_id)
                        .where(PriceList.name.like(f"{code} /%")).order_by(Facility.code))


def submit_claim(app, clerk: Browser, code: str, claim_code: str) -> int:
    """Verify a patient's cover, then submit a claim for them from the verification page's link."""
    person = insured_person(app, code)
    page = clerk.get("/verify", q=person)
    assert f'data-person="{person}"' in page and "Covered today" in page, page[-3000:]
    link = re.search(r'href="(/s/[^"]+/claims/new\?insuree=[^"]+)"', page).group(1).replace("&amp;", "&")
    facility = scheme_facility(app, code)
    page = clerk.get(link + "&facility=" + facility)
    form = clerk.form(page, form_id="claim-form")
    service = next(v for v in form.options("lines-0-code") if v)
    r = clerk.submit(page, form_id="claim-form", changes={
        "code": claim_code, "diagnosis": "B54", "lines-0-code": service, "lines-0-quantity": "1"}, expect=302)
    return int(location_after(r).rsplit("/", 1)[-1])


def voucher_facility(app, scheme, benefit) -> int:
    """A facility of the scheme's country whose level takes the benefit's vouchers."""
    from openscheme.storage.models import Facility, Location

    with db(app) as s:
        query = select(Facility.id).join(Location, Location.id == Facility.location_id) \
            .where(Location.path.like(f"/{scheme.country}/%")).order_by(Facility.code)
        if benefit.facility_levels:
            query = query.where(Facility.level.in_(benefit.facility_levels))
        return s.scalar(query)


def facility_clerk(app, b: Browser, code: str):
    from openscheme.storage.workflow_models import ClaimRecord, Voucher, VoucherRedemption

    scheme = scheme_of(app, code)
    if "insurance" in kinds(scheme):
        assert "/verify" in b.get("/")
        claim_id = submit_claim(app, b, code, f"WALK-{code}-1")
        with db(app) as s:
            claim = s.get(ClaimRecord, claim_id)
            assert claim.scheme_code == code and claim.status not in ("entered",) and claim.lines
        assert f"/claims/{claim_id}" in b.get(f"/s/{code}/claims/")
    elif "voucher" in kinds(scheme):
        with db(app) as s:
            voucher = s.scalar(select(Voucher).where(Voucher.scheme_code == code, Voucher.status == "issued",
                                                     Voucher.valid_from <= date.today()).order_by(Voucher.id))
            holder = s.scalar(select(__import__("openscheme.storage.models", fromlist=["Individual"]).Individual.uid)
                              .where(__import__("openscheme.storage.models", fromlist=["Individual"]).Individual.id
                                     == voucher.individual_id))
        assert f"/s/{code}/vouchers" in b.get("/")
        page = b.get(f"/s/{code}/vouchers/redeem")
        form = b.form(page, f"/s/{code}/vouchers/redeem")
        benefit = scheme.benefit(voucher.benefit_code)
        services = next(v.services for v in benefit.vouchers if v.type == voucher.type)
        service = next(s_ for s_ in form.options("service") if s_ in services)
        changes = {"code": voucher.code, "holder": holder, "service": service}
        if form.field("facility") is not None and form.field("facility")["tag"] == "select":
            changes["facility"] = str(voucher_facility(app, scheme, benefit))
        b.submit(page, f"/s/{code}/vouchers/redeem", changes, expect=200)
        with db(app) as s:
            assert s.scalar(select(VoucherRedemption).where(VoucherRedemption.voucher_id == voucher.id)) is not None
    else:
        b.refused(f"/s/{code}/claims/new")
    b.refused(f"/s/{code}/register")
    b.refused(f"/s/{code}/payments")


def claims_reviewer(app, b: Browser, code: str):
    from openscheme.storage.models import AuditLog

    scheme = scheme_of(app, code)
    if "insurance" not in kinds(scheme):
        b.refused(f"/s/{code}/claims/review")
        b.refused(f"/s/{code}/register")
        return
    claim_id = submit_claim(app, Browser(app, USER_OF["facility_clerk"]), code, f"WALK-{code}-2")
    queue = b.get(f"/s/{code}/claims/review")
    page = b.get(f"/claims/{claim_id}")
    if f"/claims/{claim_id}/lines/0" in page:  # selected for review: change a line, with a reason
        assert f"/claims/{claim_id}" in queue
        b.submit(page, f"/claims/{claim_id}/lines/0", {"reason": "checked against the register"}, expect=302)
        action = "adjust"
    else:  # decided automatically: the reviewer records what the patient says
        b.submit(page, f"/claims/{claim_id}/feedback", {"comment": "good care"}, expect=302)
        action = "feedback"
    with db(app) as s:
        assert s.scalar(select(AuditLog).where(AuditLog.entity == "claim", AuditLog.entity_id == claim_id,
                                               AuditLog.username == b.username, AuditLog.action == action))
    b.get(f"/s/{code}/claims/signals")
    b.refused(f"/s/{code}/claims/new")
    b.refused(f"/s/{code}/batches")


def payment_officer(app, b: Browser, code: str):
    from openscheme.storage.models import Enrolment
    from openscheme.storage.workflow_models import (
        ClaimBatch,
        PaymentCycle,
        TargetingRun,
        VoucherRedemption,
    )

    scheme = scheme_of(app, code)
    home = b.get("/")
    if "cash" in kinds(scheme):
        approver = Browser(app, "approver")  # maker-checker: a second officer approves
        page = b.get(f"/s/{code}/payments")
        r = b.submit(page, f"/s/{code}/targeting", expect=302)
        b.get(location_after(r))
        with db(app) as s:
            run = s.scalar(select(TargetingRun).where(TargetingRun.scheme_code == code).order_by(TargetingRun.id.desc()))
            assert run is not None and run.eligible_count > 0
        page = b.get(f"/targeting/{run.id}")
        assert f'action="/targeting/{run.id}/approve"' not in page  # not by the officer who ran it
        page = approver.get(f"/targeting/{run.id}")
        approver.submit(page, f"/targeting/{run.id}/approve", expect=303)
        with db(app) as s:
            assert s.scalar(select(func.count()).select_from(Enrolment).where(Enrolment.scheme_code == code)) > 0
        benefit = next(x for x in scheme.benefits if x.kind == "cash")
        cycle = f"/s/{code}/payments/{benefit.code}/1"
        b.get(cycle + "/dry-run")
        page = b.get(cycle)
        r = b.submit(page, cycle + "/prepare", expect=302)
        b.get(location_after(r))
        page = approver.get(cycle)
        approver.submit(page, cycle + "/approve", expect=303)
        with db(app) as s:
            c = s.scalar(select(PaymentCycle).where(PaymentCycle.scheme_code == code, PaymentCycle.cycle_no == 1))
            assert c.status == "approved" and c.payment_count > 0 and c.approved_by != c.prepared_by
    elif "insurance" in kinds(scheme):
        assert f"/s/{code}/batches" in home
        submit_claim(app, Browser(app, USER_OF["facility_clerk"]), code, f"WALK-{code}-3")
        facility = scheme_facility(app, code)
        page = b.get(f"/s/{code}/batches")
        r = b.submit(page, f"/s/{code}/batches", {"facility": facility}, expect=302)
        with db(app) as s:
            assert s.scalar(select(ClaimBatch).where(ClaimBatch.scheme_code == code)) is not None
        b.get(location_after(r))
    elif "voucher" in kinds(scheme):  # reimburse a facility for last month's vouchers
        assert f"/s/{code}/vouchers" in home
        page = b.get(f"/s/{code}/vouchers/reimburse")
        form = next(f for f in forms_of(page) if f.field("period") is not None)
        facility, period = form.field("facility")["value"], form.field("period")["value"]
        r = b.submit(page, f"/s/{code}/vouchers/reimburse", {"facility": facility, "period": period}, expect=303)
        assert facility in b.get(location_after(r))
        with db(app) as s:
            assert s.scalar(select(func.count()).select_from(VoucherRedemption).where(
                VoucherRedemption.reimbursement_period == period, VoucherRedemption.reimbursed.is_(True))) > 0
    b.refused(f"/s/{code}/register")


def analyst(app, b: Browser, code: str):
    from openscheme.storage.analysis_models import FormulaProposal

    home = b.get("/")
    assert f"/s/{code}/workbench" in home and f"/s/{code}/dashboard" in home
    b.get(f"/s/{code}/dashboard")
    b.get(f"/s/{code}/reports")
    page = b.get(f"/s/{code}/workbench")
    form = b.form(page, form_id="workbench-form")
    formula = form.field("formula")["value"].strip()
    assert formula
    b.submit(page, form_id="workbench-form", changes={"formula": f"({formula})"}, expect=200)
    assert 'id="propose-form"' in b.html
    b.submit(b.html, form_id="propose-form", changes={"note": "walkthrough"}, expect=(302, 303))
    with db(app) as s:
        assert s.scalar(select(FormulaProposal).where(FormulaProposal.scheme_code == code,
                                                      FormulaProposal.status == "proposed"))
    b.refused(f"/s/{code}/register")
    b.refused("/admin/users/")


def implementer(app, b: Browser, code: str):
    from openscheme.storage.analysis_models import FormulaProposal

    home = b.get("/")
    assert f"/s/{code}/versions" in home
    assert "v1" in b.get(f"/s/{code}/versions") or "1" in b.html
    analyst(app, Browser(app, USER_OF["analyst"]), code)  # a proposal waits for the implementer
    with db(app) as s:
        proposal = s.scalar(select(FormulaProposal).where(FormulaProposal.scheme_code == code,
                                                          FormulaProposal.status == "proposed"))
    page = b.get(f"/s/{code}/proposals/{proposal.id}")
    b.submit(page, f"/s/{code}/proposals/{proposal.id}/reject", expect=303)
    with db(app) as s:
        assert s.get(FormulaProposal, proposal.id).status == "rejected"
    b.refused(f"/s/{code}/register")
    b.refused("/admin/users/")


def auditor(app, b: Browser, code: str):
    home = b.get("/")
    assert f"/s/{code}/audit" in home
    page = b.get(f"/s/{code}/audit")
    assert "data-audit=" in page  # the demo's registrations are there
    uid = re.search(r"/r/([HP][0-9A-Z]{10})/history", page).group(1)
    assert "Registered" in b.get(f"/r/{uid}/history")
    b.refused(f"/s/{code}/register")
    b.refused(f"/r/{uid}/edit")


def administrator(app, b: Browser, code: str):
    from openscheme.storage.models import Location, RoleAssignment, User

    page = b.get("/admin/users/new/")
    name = f"officer-{code}"
    b.submit(page, "/admin/users/new/", {"username": name, "password": "a-long-password", "full_name": "New officer"},
             expect=302)
    with db(app) as s:
        user = s.scalar(select(User).where(User.username == name))
        assert user is not None
    page = b.get("/admin/role-assignments/new/")
    form = b.form(page, "/admin/role-assignments/new/")
    changes = {"user": str(user.id), "role": "enrolment_officer"}
    if form.field("scheme_code") is not None:
        changes["scheme_code"] = code
    b.submit(page, "/admin/role-assignments/new/", changes, expect=302)
    with db(app) as s:
        assert s.scalar(select(RoleAssignment).where(RoleAssignment.user_id == user.id)).role == "enrolment_officer"
    page = b.get("/admin/locations/new/")
    b.submit(page, "/admin/locations/new/", {"code": f"WALK_{code.upper().replace('-', '_')}", "name": "Walkthrough",
                                             "level": "village"}, expect=302)
    with db(app) as s:
        assert s.scalar(select(Location).where(Location.name == "Walkthrough", Location.code.like("WALK_%")))
    for view in ("facilities", "catalogue", "price-lists", "icd10", "scheme-versions"):
        b.get(f"/admin/{view}/")


JOBS.update({"facility_clerk": facility_clerk, "claims_reviewer": claims_reviewer, "payment_officer": payment_officer,
             "analyst": analyst, "implementer": implementer, "auditor": auditor, "administrator": administrator})


# ---- officers limited to an area, and the French pages ------------------------------------------


@pytest.mark.parametrize("code", SCHEMES)
def test_an_officer_limited_to_an_area_registers_and_finds_the_record(demo, code):
    """The demo's Kongwa officer (tz-chf), or an officer limited to a region of the scheme's country:
    a scheme whose records name no place puts them in the officer's area."""
    from openscheme.reference.users import create_user
    from openscheme.storage.models import Household, Individual, Location, User

    scheme = scheme_of(demo, code)
    username = "kongwa" if code == "tz-chf" else f"area-{code}"
    with db(demo) as s, s.begin():
        if s.scalar(select(User).where(User.username == username)) is None:
            region = s.scalar(select(Location.code).where(Location.path.like(f"/{scheme.country}/%/"),
                                                          Location.path.not_like(f"/{scheme.country}/%/%/"))
                              .order_by(Location.path))  # a region (below the country)
            create_user(s, username, demo_password(username), roles=[("enrolment_officer", code, region)],
                        hash_method="pbkdf2:sha256:1000")
    with db(demo) as s:
        area = s.scalar(select(User).where(User.username == username)).roles[0].location.path
    b = Browser(demo, username)
    enrolment_officer(demo, b, code, area)
    model = Household if scheme.is_household else Individual
    with db(demo) as s:
        units = s.scalars(select(model).join(User, User.id == model.created_by).where(User.username == username)).all()
        assert len(units) >= 2 and all(u.location_path.startswith(area) for u in units), area
    b.refused(f"/s/{'np-hib' if code != 'np-hib' else 'tz-chf'}/register")  # another scheme


@pytest.mark.parametrize("code", SCHEMES)
def test_the_registration_form_speaks_french(demo, code):
    scheme = scheme_of(demo, code)
    b = Browser(demo, USER_OF["enrolment_officer"])
    page = b.get("/")
    b.submit(page, "/language", {"lang": "fr"}, expect=302)
    html = b.get(f"/s/{code}/register")
    assert '<html lang="fr">' in html
    for f in scheme.fields + scheme.member_fields:
        if f.calculate is None and "fr" in f.label.values:
            assert f.label.get("fr").replace("'", "&#39;") in html, f.name
    for english in ("Members", "Save", "Add a member", "Remove this member", "choose —"):
        assert english not in html, english
