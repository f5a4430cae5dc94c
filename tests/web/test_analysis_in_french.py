"""The analysis pages entirely in French for a French-speaking analyst, implementer or auditor:
the workbench's formulas, the impact report and its explanations, the proposals and their
errors, the semantic diff of the versions page, the dashboard and the reports."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import delete, select

from analysis_helpers import NAFA, register_nafa, target_and_enrol
from conftest import EXAMPLES, login, make_user
from openscheme.storage.analysis_models import FormulaProposal
from openscheme.storage.models import Location, User

KEY = "eligibility.poorest_district"
NEW_RULE = "district in poorest_districts and count(members) >= 3"
# English an analysis page must not show a French reader (as a whole word or phrase)
ENGLISH = ("eligibility rule", "benefit nafa_quick", "formula `", "eligibility.poorest_district", "not eligible",
           "[pass]", "[FAIL]", "not entitled", "per cycle", "is true", "is false", "monthly", "members:",
           "the formula is unchanged", "cannot approve", "prepared", "Nafa Quick transfer", "(none)", "(region)")


def visible(page: str) -> str:
    page = re.sub(r"(?s)<script.*?</script>|<style.*?</style>|<head>.*?</head>", " ", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def no_english(page: str) -> None:
    text = visible(page)
    found = [w for w in ENGLISH if re.search(r"(?<![\w.])" + re.escape(w) + r"(?!\w)", text)]
    assert not found, found


@pytest.fixture
def restore(app):
    yield
    state = app.extensions["openscheme"]
    with state.db.session_factory() as s, s.begin():
        s.execute(delete(FormulaProposal))
    state.catalog.load_paths([EXAMPLES / "gm_nafa_quick.yaml"])


def test_the_workbench_proposals_and_versions_in_french(app, client, session, users, restore):
    from openscheme.payments import cycles

    register_nafa(app, session, n=30)
    maker = session.get(User, users["payment_officer"])
    target_and_enrol(app, session, maker, session.get(User, users["enrolment_officer"]))
    state = app.extensions["openscheme"]
    scheme = state.catalog.current(NAFA)
    cycles.prepare(state.db.session_factory, scheme, state.catalog.version_id(NAFA), scheme.benefit("nafa_quick"), 1,
                   maker)
    session.add(Location(code="URR", name="Upper River", level="region", path="/URR/"))
    session.commit()
    make_user(app, "analyste", [("analyst", None, None)], language="fr")
    make_user(app, "responsable", [("implementer", None, None)], language="fr")
    make_user(app, "les_deux", [("analyst", None, None), ("implementer", None, None)], language="fr")
    login(client, "analyste")

    page = client.get(f"/s/{NAFA}/workbench").get_data(as_text=True)
    assert "règle d'éligibilité poorest_district" in visible(page) and "prestation nafa_quick : montant" in visible(page)
    no_english(page)
    r = client.post(f"/s/{NAFA}/workbench/preview", data={"target": KEY, "formula": NEW_RULE, "as_of": "2020-08-01"})
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    text = visible(page)
    for french in ("Impact sur le registre", "(nafa_quick, mensuel)", "non éligible", "[NON REMPLIE] poorest_district",
                   "pas de droit : le bénéficiaire n'est pas éligible au régime", "est vrai", "cycle(s) mensuel(s)"):
        assert french in text, french
    assert not re.search(r"\d,\d{3}", text)  # numbers as French writes them: 36 800
    no_english(page)

    r = client.post(f"/s/{NAFA}/workbench/propose", data={"target": KEY, "formula": NEW_RULE, "as_of": "2020-08-01",
                                                          "note": "petits ménages"})
    assert r.status_code == 303
    session.rollback()
    proposal = session.scalars(select(FormulaProposal)).one()
    # the same formula again: refused, said in French
    unchanged = scheme.rule("poorest_district").formula.text
    page = client.post(f"/s/{NAFA}/workbench/propose", data={"target": KEY, "formula": unchanged, "as_of": "2020-08-01"},
                       follow_redirects=True).get_data(as_text=True)
    assert "la formule n'a pas changé" in visible(page)
    assert "#1 règle d'éligibilité poorest_district" in visible(page).replace(f"#{proposal.id} ", "#1 ")
    no_english(page)

    page = client.get(f"/s/{NAFA}/proposals").get_data(as_text=True)
    assert "règle d'éligibilité poorest_district" in visible(page)
    no_english(page)
    page = client.get(f"/s/{NAFA}/proposals/{proposal.id}").get_data(as_text=True)
    assert "règle d'éligibilité poorest_district : formule `district in poorest_districts` → " \
           "`district in poorest_districts and count(members) >= 3`" in visible(page)
    no_english(page)
    for path in ("dashboard", "reports"):
        page = client.get(f"/s/{NAFA}/{path}").get_data(as_text=True)
        assert "Upper River (région)" in visible(page)
        no_english(page)
    text = visible(client.get(f"/s/{NAFA}/dashboard").get_data(as_text=True))
    assert "Transfert Nafa Quick (nafa_quick)" in text and "préparé" in text
    assert re.search(r"\d\u202f\d{3}", text) and not re.search(r"\d,\d{3}", text)  # thousands as French writes them
    client.post("/logout")

    # the author may not approve: said in French
    login(client, "les_deux")
    client.post(f"/s/{NAFA}/workbench/propose", data={"target": "benefits.nafa_quick.amount", "as_of": "2020-08-01",
                                                      "formula": "min(base_amount + per_member * count(members), 2200)"})
    session.rollback()
    own = session.scalars(select(FormulaProposal).where(FormulaProposal.id != proposal.id)).one()
    page = client.post(f"/s/{NAFA}/proposals/{own.id}/approve", follow_redirects=True).get_data(as_text=True)
    assert "la personne qui a proposé une modification ne peut pas l'approuver" in visible(page)
    assert "prestation nafa_quick : montant" in visible(page)
    no_english(page)
    client.post("/logout")

    login(client, "responsable")
    page = client.post(f"/s/{NAFA}/proposals/{proposal.id}/approve", data={"note": "ok"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Approuvée" in visible(page)
    no_english(page)
    page = client.post(f"/s/{NAFA}/proposals/{proposal.id}/approve", follow_redirects=True).get_data(as_text=True)
    assert "cette proposition est déjà approuvée" in visible(page)
    page = client.post(f"/s/{NAFA}/proposals/{own.id}/approve", follow_redirects=True).get_data(as_text=True)
    assert "le régime a changé depuis cette proposition" in visible(page)
    page = client.get(f"/s/{NAFA}/versions").get_data(as_text=True)
    assert "règle d'éligibilité poorest_district : formule `district in poorest_districts` → " in visible(page)
    no_english(page)
    # the same pages in English when asked for
    page = client.get(f"/s/{NAFA}/versions?lang=en").get_data(as_text=True)
    assert "eligibility rule poorest_district: formula `district in poorest_districts` → " in visible(page)
