"""The enrolment and payment pages in French: the premium's explanation, the policy's refusals and its
states in French, amounts written as French writes them (30 000, 2 500,50), none of our English left.
The English looked for is taken from the catalogues themselves (policies/messages.py,
evaluation/explanations.py, formulas/explain.py), so a text added later in English only is caught too."""

from __future__ import annotations

import re
import sys
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "claims"))

from e2e_helpers import as_role  # noqa: E402

from english_left import EnglishLeft  # noqa: E402
from insurance_helpers import chf_household, seed_insurance, ssf_employee  # noqa: E402
from openscheme.evaluation import explanations  # noqa: E402
from openscheme.formulas import explain  # noqa: E402
from openscheme.policies import messages  # noqa: E402

NNBSP = "\u202f"
TODAY = date.today()


ENGLISH = EnglishLeft(list(messages.MESSAGES.values()) + list(explanations.TEXTS.values()) + [
        w for w in explain.WORDS.values() if len(w["en"]) > 3])
FRAGMENTS = ENGLISH.fragments


def text(r) -> str:
    """A page's text, tags removed, entities read and spaces collapsed (a narrow no-break space is kept)."""
    import html

    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", r.get_data(as_text=True))))


leftovers = ENGLISH.on


def test_the_fragments_cover_the_catalogues():
    assert {"lump sum", "for up to", "members", "registration fee", "premium", "the balance due is",
            "extra child", "empty"} <= FRAGMENTS


def register(app, code: str, data: dict) -> str:
    from openscheme.registry.service import Registry

    state = app.extensions["openscheme"]
    with state.db.session_factory() as s, s.begin():
        result = Registry(s, state.catalog, None, "en").register(code, data)
        assert result.ok, result.errors
        return result.record.uid


@pytest.fixture
def household(app):
    seed_insurance(app)
    members = [{"first_name": f"M{i}", "last_name": "Juma", "sex": "M" if i % 2 else "F",
                "dob": "1980-01-01" if i < 3 else "2015-01-01", **({"roles": ["head"]} if i == 0 else {})} for i in range(8)]
    return register(app, "tz-chf", chf_household(members))


def test_enrol_and_pay_in_french(app, client, household):
    as_role(app, client, "enrolment_officer", "agent", language="fr")
    on = (TODAY - timedelta(days=3)).isoformat()
    quote = text(client.get(f"/s/tz-chf/policies/new?unit={household}&enrol_date={on}"))
    # 30,000 for up to 6 members + 2 extra children x 2,500 + the registration fee 2,000 (no early discount then)
    assert f"forfait de 30{NNBSP}000 pour 6 membres au plus" in quote, quote
    assert f"2 enfant(s) supplémentaire(s) de moins de 18 ans × 2{NNBSP}500 = 5{NNBSP}000" in quote
    assert f"frais d'inscription 2{NNBSP}000" in quote
    premium = re.search(r"prime = ([\d\u202f]+) TZS", quote).group(1)
    assert f"Prime : {premium} TZS" in quote or f"Prime: {premium} TZS" in quote
    assert leftovers(quote) == [], leftovers(quote)
    assert "30,000" not in quote and "lump sum" not in quote

    r = client.post("/s/tz-chf/policies/new", data={"unit": household, "enrol_date": on})
    assert r.status_code == 302, text(r)
    policy_url = r.headers["Location"]
    page = text(client.get(policy_url))
    assert f"forfait de 30{NNBSP}000 pour 6 membres au plus" in page and "en attente" in page
    html = client.get(policy_url).get_data(as_text=True)  # the workflow's steps, named by us when the YAML does not
    assert 'data-step="reject" class="secondary">Rejeter</button>' in html and ">Approuver</button>" in html
    assert leftovers(page) == [], leftovers(page)
    # a payment above the balance: refused in French, the balance written as French writes it
    r = client.post(policy_url + "/payments", data={"amount": "99999", "method": "cash", "reference": "R-1",
                                                    "paid_on": TODAY.isoformat()})
    refused = text(client.get(r.headers["Location"]))
    assert f"le solde dû est de {premium}" in refused, refused
    assert leftovers(refused) == [], leftovers(refused)
    r = client.post(policy_url + "/payments", data={"amount": "1000.5", "method": "cash", "reference": "R-2",
                                                    "paid_on": TODAY.isoformat()})
    receipt = text(client.get(r.headers["Location"]))
    assert f"1{NNBSP}000,50 TZS" in receipt and "Espèces à l'agent d'enrôlement" in receipt
    # the same pages in English read as before
    english = text(client.get(policy_url + "?lang=en"))
    assert "lump sum 30,000 for up to 6 members" in english and "pending" in english
    assert {"lump sum", "for up to"} <= set(leftovers(english))


def test_a_household_that_cannot_enrol_is_told_why_in_french(app, client):
    seed_insurance(app)
    children = [{"first_name": "Amani", "last_name": "Juma", "sex": "M", "dob": "2015-01-01", "roles": ["head"]},
                {"first_name": "Neema", "last_name": "Juma", "sex": "F", "dob": "2016-01-01"}]
    uid = register(app, "tz-chf", chf_household(children))
    as_role(app, client, "enrolment_officer", "agent", language="fr")
    page = text(client.get(f"/s/tz-chf/policies/new?unit={uid}"))
    assert "Non éligible" in page and leftovers(page) == [], leftovers(page)


def test_a_wage_scheme_in_french(app, client):
    seed_insurance(app)
    uid = register(app, "np-ssf", ssf_employee())
    as_role(app, client, "enrolment_officer", "agent", language="fr")
    start = TODAY.replace(day=1).isoformat()
    quote = text(client.get(f"/s/np-ssf/policies/new?unit={uid}&enrol_date={start}"))
    assert f"part de l'employeur 20{NNBSP}% = 10{NNBSP}000" in quote and "cotisation mensuelle totale" in quote
    assert f"Salaire de base mensuel (NPR) = 50{NNBSP}000" in quote  # the wage field by its label
    assert leftovers(quote) == [], leftovers(quote)
    r = client.post("/s/np-ssf/policies/new", data={"unit": uid, "enrol_date": start})
    policy_url = r.headers["Location"]
    r = client.post(policy_url + "/payments", data={"amount": "6000", "method": "bank_transfer", "reference": "B-1",
                                                    "paid_on": TODAY.isoformat(), "payer": "employee",
                                                    "period": TODAY.strftime("%Y-%m")})
    refused = text(client.get(r.headers["Location"]))
    assert f"la part du salarié due pour {TODAY.strftime('%Y-%m')} est de 5{NNBSP}500" in refused, refused
    page = text(client.get(policy_url))
    assert f"Part de l'employeur 10{NNBSP}000" in page or f"Part employeur 10{NNBSP}000" in page, page
    assert leftovers(page) == [] and leftovers(refused) == [], (leftovers(page), leftovers(refused))


def test_every_policy_message_is_in_english_and_french_with_the_same_placeholders():
    for key, texts in messages.MESSAGES.items():
        assert set(texts) >= {"en", "fr"}, key
        names = [sorted(re.findall(r"\{(\w+)", texts[lang])) for lang in ("en", "fr")]
        assert names[0] == names[1], key
    assert messages.msg("share_too_much", "en", payer="employee", period="2025-03", left=D("2500")) == \
        "the employee share due for 2025-03 is 2500"
    assert messages.msg("share_too_much", "fr", payer="employee", period="2025-03", left=D("2500.5")) == \
        f"la part du salarié due pour 2025-03 est de 2{NNBSP}500,50"
