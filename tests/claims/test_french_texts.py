"""The verification page, the coverage JSON, the claim decision (page and API) and the card in French:
no English left of our own texts. The English fragments looked for are taken from the message
catalogues themselves (claims/messages.py, claims/reasons.py), so a text added later in English only is
caught too; scheme text (labels from the YAML) is not ours and is left out."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from e2e_helpers import as_role, bearer, claim_form, text

from english_left import EnglishLeft
from insurance_helpers import RECORDS, TODAY, insured, person_uid, seed_insurance
from openscheme.claims import messages, reasons

VISIT = (TODAY - timedelta(days=1)).isoformat()
COVERAGE_KEYS = [k for k in messages.MESSAGES if k.startswith(("cover_", "service_", "fhir_"))]


ENGLISH = EnglishLeft([messages.MESSAGES[k] for k in COVERAGE_KEYS] + list(reasons.TITLES.values()) + list(
        reasons.DETAILS.values()) + [w for kind in reasons.WORDS.values() for w in kind.values()])
FRAGMENTS = ENGLISH.fragments


leftovers = ENGLISH.on


def test_the_fragments_cover_the_catalogues():
    assert {"this year", "per household per year", "the benefit does not apply to this person today",
            "not allowed for the patient's age or sex", "at most", "per visit"} <= FRAGMENTS


@pytest.fixture
def world(app):
    seed_insurance(app)
    chf, _ = insured(app, "tz-chf")
    leave, _ = insured(app, "np-ssf", RECORDS["np-ssf"]() | {"employment_status": "paid_leave"})
    return {"man": person_uid(app, chf, 0), "woman": person_uid(app, chf, 1), "leave": leave}


def test_verification_and_decisions_in_french_have_no_english_left(app, client, world):
    as_role(app, client, "facility_clerk", "greffier", language="fr")
    # usage first, so that the verification shows limits used, a next date and ceilings spent
    r = client.post("/s/tz-chf/claims/new", data=claim_form(
        world["man"], "FR-1", "DH_KONGWA", [("ANC01", "1"), ("MED01", "30"), ("OPD01", "1"), ("ADM01", "1")], VISIT))
    assert r.status_code == 302, text(r)
    decision = text(client.get(r.headers["Location"]))
    assert "non autorisé pour l'âge ou le sexe du patient : ANC01 est réservé au sexe F" in decision
    assert "quantité supérieure à la limite par visite : MED01 : au plus 24 par visite, 30 demandé(s)" in decision
    assert "type de soins non offert ou non autorisé : ADM01 : soins en hospitalisation uniquement" in decision
    r = client.post("/s/tz-chf/claims/new", data=claim_form(world["man"], "FR-2", "DSP_MLALI", [("OPD01", "1")], VISIT))
    duplicate = text(client.get(r.headers["Location"]))
    assert "nombre maximal pour la période atteint : OPD01 : au plus 1 par jour, 1 déjà utilisé(s)" in duplicate
    r = client.post("/s/np-ssf/claims/new", data=claim_form(world["leave"], "FR-3", "SSF_HOSP", [("ACC-ER", "1")], VISIT,
                                                            diagnosis="S52.5", benefit="ssf_accident"))
    refused = text(client.get(r.headers["Location"]))
    assert "la prestation ne s'applique pas au patient à la date des soins" in refused
    assert "ici Situation d'emploi = En congé payé" in refused
    for page in (decision, duplicate, refused):
        assert leftovers(page) == [], leftovers(page)
        assert "greffier: saisie" in page and "greffier: décision automatique" in page
        assert not re.search(r": (create|submit|adjudicate|adjust|valuate|check) ", page), page

    covered = text(client.get(f"/verify?q={world['woman']}"))
    assert "Couvert aujourd'hui" in covered and "Plafond par ménage et par an" in covered
    assert "reste 8 sur 8 cette année" in covered and "au plus 24 par visite" in covered
    man = text(client.get(f"/verify?q={world['man']}"))
    assert "réservé au sexe F" in man and "consultation: 11/12" in man
    not_applying = text(client.get(f"/verify?q={world['leave']}"))
    assert "la prestation ne s'applique pas à cette personne aujourd'hui" in not_applying
    for page in (covered, man, not_applying):
        assert leftovers(page) == [], leftovers(page)
    english = text(client.get(f"/verify?q={world['man']}&lang=en"))  # the check itself finds English
    assert {"this year", "per household per year", "per visit"} <= set(leftovers(english))

    h = bearer(app, client, "facility_clerk", "api-fr")
    # the JSON: its texts (keys and codes are for programs, not people)
    for q in (world["man"], world["leave"]):
        covers = client.get(f"/api/v1/coverage?q={q}&lang=fr", headers=h).get_json()["people"][0]["covers"]
        texts = [c["message"] for c in covers] + [c["ceiling"] for cover in covers for c in cover["ceilings"]] + [
            c["label"] for cover in covers for c in cover["categories"]] + [
            x for cover in covers for s in cover["services"] for x in [s["why_not"], *s["left"]]]
        assert texts and leftovers(" | ".join(texts)) == [], leftovers(" | ".join(texts))
    # FHIR's CoverageEligibilityResponse: its display texts
    for q in (world["man"], world["leave"]):
        request = {"resourceType": "CoverageEligibilityRequest", "status": "active", "purpose": ["benefits"],
                   "patient": {"reference": f"Patient/{q}"}, "created": TODAY.isoformat(),
                   "servicedDate": TODAY.isoformat(), "insurer": {"display": "x"}}
        response = client.post("/fhir/R4/CoverageEligibilityRequest?lang=fr", json=request, headers=h).get_json()
        texts = [response["disposition"]] + [i["coverage"]["display"] for i in response["insurance"]] + [
            x.get(k, "") for i in response["insurance"] for x in i.get("item", []) for k in ("name", "description")]
        assert "par an" in " | ".join(texts) and leftovers(" | ".join(texts)) == [], leftovers(" | ".join(texts))
    from openscheme.storage.workflow_models import ClaimRecord

    with app.extensions["openscheme"].db.session_factory() as s:
        ids = [c.id for c in s.query(ClaimRecord)]
    messages_ = [r["message"] for claim_id in ids
                 for line in client.get(f"/api/v1/claims/{claim_id}?lang=fr", headers=h).get_json()["lines"]
                 for r in line["reasons"]]
    assert len(messages_) >= 5 and leftovers(" | ".join(messages_)) == [], messages_


def test_the_card_speaks_french(app, client, world, monkeypatch):
    from openscheme.web import verify_views

    printed = []
    monkeypatch.setattr(verify_views, "card_pdf", lambda cards: printed.extend(cards) or b"%PDF-1.4")
    as_role(app, client, "facility_clerk", "greffier", language="fr")
    assert client.get(f"/verify/card/{world['leave']}.pdf").status_code == 200
    card = printed[0]
    assert card.labels == {"number": "Numéro d'assurance", "household": "Ménage", "born": "Né(e) le",
                           "valid": "Validité"}
    assert card.scheme_title == "Fonds de sécurité sociale : protection maladie et accident"
    assert card.operator == "Fonds de sécurité sociale" and card.valid_until is not None


def test_a_reviewer_reads_the_steps_in_french(app, client, world):
    as_role(app, client, "facility_clerk")
    r = client.post("/s/tz-chf/claims/new", data=claim_form(
        world["woman"], "BIG-1", "DH_KONGWA", [("SUR01", "1"), ("ADM01", "1")], VISIT, care="in_patient"))
    claim_url = r.headers["Location"]
    client.post("/logout")
    as_role(app, client, "claims_reviewer", "verificateur", language="fr")
    client.post(f"{claim_url}/lines/1", data={"quantity": "1", "price": "40000", "reason": "tarif convenu"})
    html = client.get(claim_url).get_data(as_text=True)
    assert 'data-step="valuate">Valoriser</button>' in html and 'data-step="reject" class="secondary">Rejeter' in html
    page = text(client.get(claim_url))
    assert "modifié par le vérificateur : tarif convenu" in page and "verificateur: ligne modifiée" in page
    assert leftovers(page) == [], leftovers(page)


def test_every_claims_text_is_in_english_and_french_with_the_same_placeholders():
    catalogues = [messages.MESSAGES, reasons.TITLES, reasons.DETAILS] + list(reasons.WORDS.values())
    for catalogue in catalogues:
        for key, texts in catalogue.items():
            assert set(texts) >= {"en", "fr"}, key
            assert sorted(re.findall(r"%\(\w+\)s", texts["en"])) == sorted(re.findall(r"%\(\w+\)s", texts["fr"])), key
