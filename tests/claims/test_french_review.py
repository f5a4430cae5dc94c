"""The claims reviewer's pages in French: the fraud signals (why a facility is listed, its figures written
as French writes them) and the refusals of a review (adjusting a line, a workflow step). The English
looked for is taken from the catalogues (claims/fraud.py, claims/messages.py, policies/messages.py)."""

from __future__ import annotations

import re
from datetime import timedelta

from e2e_helpers import as_role, claim_form, text

from english_left import EnglishLeft
from insurance_helpers import TODAY, chf_household, insured, person_uid, seed_insurance
from openscheme.claims import fraud, messages
from openscheme.policies import messages as policy_messages

VISIT = (TODAY - timedelta(days=2)).isoformat()
REVIEW_KEYS = ["adjust_state", "adjust_reason", "unknown_line", "adjust_quantity", "adjust_price", "adjust_number",
               "adjust_nothing", "not_covered", "use_batch", "feedback_yes_no", "feedback_satisfaction", "period",
               "may_not_batch", "batch_paid_period", "may_not_pay", "batch_paid", "facility_scheme"]


ENGLISH = EnglishLeft([messages.MESSAGES[k] for k in REVIEW_KEYS] + list(fraud.FLAGS.values()) + list(
        fraud.MEASURE_WORDS.values()) + [policy_messages.MESSAGES["step_refused"]])
FRAGMENTS = ENGLISH.fragments


leftovers = ENGLISH.on


def test_the_fragments_cover_the_catalogues():
    assert {"is more than", "the median of its peers", "services per visit", "give the reason for the change",
            "is not possible from the state"} <= FRAGMENTS


def test_fraud_signals_and_review_refusals_in_french(app, client):
    seed_insurance(app)
    uid, _ = insured(app, "tz-chf")
    woman = person_uid(app, uid, 1)
    as_role(app, client, "facility_clerk", "greffier")
    for i in range(4):  # ordinary dispensaries: one consultation
        other, _ = insured(app, "tz-chf", chf_household(number=f"CHF-{i + 10:08d}"))
        r = client.post("/s/tz-chf/claims/new", data=claim_form(person_uid(app, other), f"N-{i}",
                                                               "DSP_MLALI" if i == 0 else "DSP_SOKONI",
                                                               [("OPD01", "1")], VISIT))
        assert r.status_code == 302, text(r)
    r = client.post("/s/tz-chf/claims/new", data=claim_form(woman, "H-1", "DSP_BAHI", [
        ("OPD01", "1"), ("LAB01", "1"), ("LAB03", "1"), ("LAB04", "1"), ("MED01", "24"), ("MED03", "18")], VISIT))
    claim_url = r.headers["Location"]
    client.post("/logout")

    as_role(app, client, "claims_reviewer", "verificateur", language="fr")
    page = text(client.get("/s/tz-chf/claims/signals"))
    assert "services par visite : 6,00, plus de 2 fois la médiane de ses pairs (1,00)" in page, page
    assert leftovers(page) == [], leftovers(page)
    english = text(client.get("/s/tz-chf/claims/signals?lang=en"))
    assert "services per visit 6.00 is more than 2× the median of its peers (1.00)" in english

    # review refusals: a valued claim's line, a step the state does not allow
    r = client.post(f"{claim_url}/lines/0", data={"quantity": "0", "reason": "x"}, follow_redirects=True)
    refused = text(r)
    assert "une demande à l'état « valorisée » ne peut pas être modifiée par votre rôle" in refused, refused
    r = client.post(f"{claim_url}/step", data={"transition": "clear_after_audit"}, follow_redirects=True)
    step = text(r)
    assert "n'est pas possible depuis l'état" in step, step
    for p in (refused, step):
        assert leftovers(p) == [], leftovers(p)


def test_every_flag_is_in_english_and_french_with_the_same_placeholders():
    for key, texts in fraud.FLAGS.items():
        names = [sorted(re.findall(r"\{(\w+)\}", texts[lang])) for lang in ("en", "fr")]
        assert names[0] == names[1], key


def test_the_states_agree_with_demande_and_lot(app, client):
    seed_insurance(app)
    uid, _ = insured(app, "tz-chf")
    man = person_uid(app, uid, 0)
    as_role(app, client, "facility_clerk", "greffier", language="fr")
    # an antenatal visit for a man is rejected (R04), the consultation accepted: the claim is adjusted
    r = client.post("/s/tz-chf/claims/new", data=claim_form(man, "G-1", "DSP_MLALI", [("OPD01", "1"), ("ANC01", "1")],
                                                           VISIT))
    page = text(client.get(r.headers["Location"]))
    assert "acceptée" in page and "rejetée" in page, page
    assert "greffier: soumise → soumise" in page or "greffier: soumise" in page, page
    for wrong in ("soumises", "rejeté", "accepté", "payé"):
        assert not re.search(r"(?<![a-zà-ÿ])" + wrong + r"(?![a-zà-ÿ])", page), wrong
    listing = text(client.get("/s/tz-chf/claims/"))
    assert not re.search(r"(?<![a-zà-ÿ])(soumises|rejeté|accepté|payé)(?![a-zà-ÿ])", listing), listing


def test_the_figures_of_a_reason_as_french_writes_them():
    from openscheme.claims import reasons

    params = {"ceiling": "per_household", "limit": "1500000", "left": "1450000.50"}
    assert reasons.detail("ceiling_left", params, "en") == "per household per year 1500000; 1450000.50 left"
    assert reasons.detail("ceiling_left", params, "fr") == "par ménage et par an 1\u202f500\u202f000 ; reste 1\u202f450\u202f000,50"
    assert reasons.detail("limit_used", {"code": "MED01", "limit": 24, "period": "this_year", "used": "2.5"}, "fr") == \
        "MED01 : au plus 24 cette année, 2,5 déjà utilisé(s)"
