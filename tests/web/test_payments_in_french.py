"""The payment detail page and the dry-run page in French: the explanation of the amount (formula
steps, "montant =", "plafonné à", "erreur : ...") and the reasons units are not paid, with numbers
written the French way (1 234,5), none of our English left; the English pages as they always read;
a dry run kept before its reasons were said in a language still shows them (an unknown one as it is).
The English looked for is taken from the catalogues themselves (evaluation/explanations.py,
formulas/explain.py, formulas/runtime_messages.py)."""

from __future__ import annotations

import dataclasses
import html
import random
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from test_payment_views import household  # the same synthetic households

from conftest import login, make_user
from english_left import EnglishLeft
from openscheme import numformat
from openscheme.evaluation import explanations
from openscheme.formulas import Scope, T, compile_formula, explain
from openscheme.formulas.runtime_messages import RUNTIME_MESSAGES
from openscheme.payments import entitlements as ent
from openscheme.registry.service import Registry
from openscheme.storage.job_models import Job
from openscheme.storage.workflow_models import Payment

CODE = "gm-nafa-quick"
NNBSP = "\u202f"

ENGLISH = EnglishLeft(list(explanations.TEXTS.values()) + list(RUNTIME_MESSAGES.values()) + [
        w for w in explain.WORDS.values() if len(w["en"]) > 3])
leftovers = ENGLISH.on


def text(r) -> str:
    """A page's text, tags removed, entities read and spaces collapsed (a narrow no-break space is kept)."""
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", r.get_data(as_text=True))))


def ours(page: str, formula_names=("members", "base_amount", "per_member", "max_amount")) -> str:
    """The page without the formula's own names (the scheme's, from its YAML: "count(members)")."""
    return re.sub(r"(?<![\w])(" + "|".join(formula_names) + r")(?![\w])", " ", page)


def test_the_fragments_cover_the_catalogues():
    assert {"capped at", "rounded to", "error", "negative amount", "zero amount", "division by zero",
            "has no value"} <= ENGLISH.fragments


@pytest.fixture
def enrolled(app, client, session, users):
    """30 households registered, targeting run by one officer and approved by another: the poor enrolled."""
    app.config["JOBS_IN_BACKGROUND"] = False
    reg = Registry(session, app.extensions["openscheme"].catalog)
    rng = random.Random(7)
    for i in range(30):
        assert reg.register(CODE, household(rng, i)).ok
    session.commit()
    make_user(app, "checker", [("payment_officer", None, None)])
    login(client, "payment_officer")
    r = client.post(f"/s/{CODE}/targeting", data={"as_of": "2020-08-01"})
    job_id = re.search(r"/jobs/(\d+)", r.headers["Location"]).group(1)
    run_id = int(client.get(f"/jobs/{job_id}").get_json()["result_url"].rsplit("/", 1)[-1])
    client.post("/logout")
    login(client, "checker")
    client.post(f"/targeting/{run_id}/approve")
    client.post("/logout")
    login(client, "payment_officer")
    yield client
    app.config["JOBS_IN_BACKGROUND"] = True


def cycle_url(n=1):
    return f"/s/{CODE}/payments/nafa_quick/{n}"


def largest_payment(client, session) -> Payment:
    assert client.post(cycle_url() + "/prepare").status_code == 302
    session.rollback()
    return session.scalar(select(Payment).order_by(Payment.amount.desc(), Payment.id).limit(1))


def test_the_payment_page_in_french_has_no_english_left(enrolled, session):
    client = enrolled
    p = largest_payment(client, session)
    assert p.amount >= 1000  # grouped: French and English write it differently
    size = len(p.explanation[0]["members"])
    french = text(client.get(f"/payments/{p.id}?lang=fr"))
    amount = numformat.decimal(p.amount, "fr")
    assert NNBSP in amount
    assert "montant = min(base_amount + per_member * count(members), max_amount)" in french
    assert f"base_amount = 1{NNBSP}500" in french and f"max_amount = 2{NNBSP}500" in french
    assert f"members : {size} membre" in french and f"count(members) = {size}" in french
    assert f"montant = {amount} GMD" in french
    assert "Argent mobile" in french or "Espèces au point de paiement" in french  # the channel, in French
    assert leftovers(ours(french)) == [], leftovers(ours(french))
    assert not re.search(r"(?<!_)amount =", french)
    # the same page in English, as it always read
    english = text(client.get(f"/payments/{p.id}?lang=en"))
    assert "amount = min(base_amount + per_member * count(members), max_amount)" in english
    assert "base_amount = 1,500" in english and "max_amount = 2,500" in english
    assert f"members: {size} member" in english and f"count(members) = {size}" in english
    assert f"amount = {int(p.amount):,} GMD" in english
    assert "members" in leftovers(english) and "members" not in ours(english)  # the check finds our English


def test_capped_rounded_and_errors_are_said_in_the_language(app, enrolled, session):
    """What gm-nafa-quick never needs (a cap, a rounding, an error), on the same payment's kept values."""
    client = enrolled
    p = largest_payment(client, session)
    scheme = app.extensions["openscheme"].catalog.current(CODE)
    b = dataclasses.replace(scheme.benefit("nafa_quick"), cap=Decimal("1234.5"))
    inputs, as_of = p.explanation[0], date(2020, 8, 1)
    fr = ent.explain(scheme, b, inputs, as_of, "fr")
    assert f"plafonné à 1{NNBSP}234,5 (au lieu de {numformat.decimal(p.amount, 'fr')})" in fr
    assert f"arrondi à 1{NNBSP}235" in fr and f"montant = 1{NNBSP}235 GMD" in fr
    en = ent.explain(scheme, b, inputs, as_of)
    assert en == ent.explain(scheme, b, inputs, as_of, "en")
    assert f"capped at 1,234.5 (was {int(p.amount):,})" in en and "rounded to 1,235" in en
    assert en[-1] == "amount = 1,235 GMD"
    # an amount that cannot be computed: the formula's error, in each language
    scope = Scope(names={"base_amount": T.NUMBER, "members": T.MEMBERS}, constants={"base_amount": 1500})
    broken = dataclasses.replace(b, amount=compile_formula("base_amount / (count(members) * 0)", scope))
    fr = ent.explain(scheme, broken, inputs, as_of, "fr")
    assert fr[-1] == "erreur : division par zéro", fr
    assert ent.explain(scheme, broken, inputs, as_of)[-1] == "error: division by zero"
    for line in fr:
        assert leftovers(ours(line)) == [], line


def set_digest(session, job_id: int, not_paid: dict, errors: dict | None):
    job = session.get(Job, job_id)
    result = dict(job.result)
    digest = {k: v for k, v in result["dry_run"].items() if k != "errors"}
    digest["not_paid"] = not_paid
    if errors is not None:
        digest["errors"] = errors
    job.result = {**result, "dry_run": digest}
    session.commit()


def test_the_dry_run_page_says_why_units_are_not_paid_in_french(app, enrolled, session):
    client = enrolled
    english_figures = text(client.get(cycle_url() + "/dry-run"))
    app.config["DRY_RUN_INLINE"] = 0  # computed as a job, whose kept result the page shows
    try:
        r = client.get(cycle_url() + "/dry-run")
        assert r.status_code == 302
        session.rollback()
        job = session.scalar(select(Job).where(Job.kind == "cycle.dry_run").order_by(Job.id.desc()))
        url = cycle_url() + f"/dry-run?job={job.id}"
        total = re.search(r"This cycle \d+ ([\d,]+) GMD", english_figures).group(1)
        division = {"key": "run_division_by_zero", "params": {}, "en": "division by zero"}
        set_digest(session, job.id, {"negative amount": 1, "zero amount": 2, "error: division by zero": 3,
                                     "poorest_district": 4}, {"error: division by zero": division})
        french = text(client.get(url + "&lang=fr"))
        assert "montant négatif : 1" in french and "montant nul : 2" in french
        assert "erreur : division par zéro : 3" in french
        assert "Le ménage ne vit pas dans l'un des districts les plus pauvres : 4" in french
        assert f"{numformat.money(Decimal(total.replace(',', '')), 'fr')} GMD" in french
        assert leftovers(french) == [], leftovers(french)
        english = text(client.get(url + "&lang=en"))
        assert "negative amount: 1" in english and "zero amount: 2" in english
        assert "error: division by zero: 3" in english
        assert "The household does not live in one of the poorest districts: 4" in english
        assert f"{total} GMD" in english

        # a dry run kept before: its reasons are English strings and it has no errors' data
        set_digest(session, job.id, {"negative amount": 1, "zero amount": 2, "error: division by zero": 3,
                                     "a reason of an older version": 5}, None)
        old = text(client.get(url + "&lang=fr"))
        assert "montant négatif : 1" in old and "montant nul : 2" in old
        assert "error: division by zero : 3" in old  # what was kept, as it was written
        assert "a reason of an older version : 5" in old
        old_english = text(client.get(url + "&lang=en"))
        assert "error: division by zero: 3" in old_english and "a reason of an older version: 5" in old_english
    finally:
        app.config.pop("DRY_RUN_INLINE", None)
