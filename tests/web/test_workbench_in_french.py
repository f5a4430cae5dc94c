"""A French-speaking analyst types a broken formula on the workbench: the check endpoint, the page
after a preview and a proposal's error say the formula checker's message and hint in French, with
none of their English (formulas/messages.py)."""

from __future__ import annotations

import html
import re

import pytest

from analysis_helpers import NAFA
from conftest import login, make_user
from english_left import EnglishLeft
from openscheme.analysis import proposals as service
from openscheme.formulas.messages import MESSAGES

KEY = "eligibility.poorest_district"
ENGLISH = EnglishLeft(MESSAGES.values())
# and, whole, the English of the four formulas below (a fragment ending in a quote is not found by EnglishLeft)
PHRASES = ("unknown name", "did you mean", "syntax error", "must give", "compare it", "compare with",
           "the formula is empty", "write a formula")


def no_english(text: str) -> None:
    assert not ENGLISH.on(text), ENGLISH.on(text)
    assert not [p for p in PHRASES if p in text.lower()], text


def visible(page: str) -> str:
    page = re.sub(r"(?s)<script.*?</script>|<style.*?</style>|<head>.*?</head>", " ", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.fixture
def analyste(app):
    make_user(app, "analyste_formules", [("analyst", None, None)], language="fr")
    return "analyste_formules"


@pytest.mark.parametrize(("formula", "message", "hint"), [
    ("distrct in poorest_districts", "nom inconnu « distrct »", "vouliez-vous dire « district » ?"),
    ("count(members)", "une règle d'éligibilité doit donner une valeur oui/non, mais cette formule donne un nombre",
     "faites-en une comparaison, par exemple ... >= 18"),
    ("district = 'BSE'", "erreur de syntaxe", "comparez avec « == », pas « = »"),
    ("", "la formule est vide", "écrivez une formule, par exemple age(dob) >= 18"),
])
def test_a_french_analyst_reads_the_checker_in_french(client, users, analyste, formula, message, hint):
    login(client, analyste)
    body = client.post(f"/s/{NAFA}/workbench/check", json={"target": KEY, "formula": formula}).get_json()
    assert body["ok"] is False
    assert (body["message"], body["hint"]) == (message, hint)
    no_english(body["message"] + " " + body["hint"])

    r = client.post(f"/s/{NAFA}/workbench/preview", data={"target": KEY, "formula": formula, "as_of": "2020-08-01"})
    assert r.status_code == 422
    text = visible(r.get_data(as_text=True))
    assert f"{body['code']} {message} ({hint})" in text
    no_english(text)


def test_an_english_analyst_still_reads_english(client, users):
    login(client, "analyst")
    body = client.post(f"/s/{NAFA}/workbench/check", json={"target": KEY, "formula": "distrct in poorest_districts"})
    assert body.get_json()["message"] == "unknown name 'distrct'"
    r = client.post(f"/s/{NAFA}/workbench/preview", data={"target": KEY, "formula": "distrct in poorest_districts"})
    assert "E410 unknown name &#39;distrct&#39; (did you mean &#39;district&#39;?)" in r.get_data(as_text=True)


def test_a_proposal_of_a_broken_formula_says_why_in_french(app, session):
    state = app.extensions["openscheme"]
    scheme = state.catalog.current(NAFA)
    with pytest.raises(service.ProposalError) as info:
        service.create(session, scheme, state.catalog.version_id(NAFA), KEY, "distrct in poorest_districts")
    assert str(info.value) == "E410 unknown name 'distrct'"
    assert info.value.text("fr") == "erreur dans la formule : E410 nom inconnu « distrct »"
    session.rollback()


def test_a_formula_that_breaks_the_schemes_own_tests_is_explained_in_french(client, users, analyste):
    """The scheme's test cases fail with their computation (the hint) in French too."""
    login(client, analyste)
    r = client.post(f"/s/{NAFA}/workbench/preview", data={
        "target": "benefits.nafa_quick.amount", "formula": "min(base_amount + 120 * count(members), max_amount)",
        "as_of": "2020-08-01"})
    text = visible(r.get_data(as_text=True))
    assert "E706 cas de test « household of 7 in Basse » : montant attendu pour nafa_quick" in text
    assert "(montant = min(base_amount + 120 * count(members), max_amount);" in text
    no_english(text)
    assert not re.search(r"(?<![_a-z])amount =", text) and "per cycle" not in text
