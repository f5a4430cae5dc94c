"""The definition compiler's messages in English and French, beside the formula checker's
(formulas/messages.py, whose `Said` and `say` they use): so far the failures of the scheme's own
test cases (evaluation/testcases.py), which is what an analyst's changed formula most often
breaks on the workbench. The others (structure, names, workflows) are said in English only.
"""

from __future__ import annotations

from ..formulas.messages import register

MESSAGES: dict[str, dict[str, str]] = {
    "test_failure": {"en": "test '{name}': {failure}", "fr": "cas de test « {name} » : {failure}"},
    "expected_not_eligible": {"en": "expected not eligible, but every rule passed",
                              "fr": "attendu : non éligible, mais toutes les règles sont remplies"},
    "expected_eligible": {"en": "expected eligible, but {why}", "fr": "attendu : éligible, mais {why}"},
    "expected_failed_rules": {"en": "expected failed rules {want}, got {got}",
                              "fr": "règles non remplies attendues : {want}, obtenues : {got}"},
    "no_rules": {"en": "none", "fr": "aucune"},
    "expected_premium": {"en": "expected premium {want}, got {got}", "fr": "prime attendue : {want}, obtenue : {got}"},
    "expected_contribution": {"en": "expected {part} contribution {want}, got {got}",
                              "fr": "cotisation attendue ({part}) : {want}, obtenue : {got}"},
    "no_contribution": {"en": "none", "fr": "aucune"},
    "expected_amount": {"en": "expected {code} amount {want}, got {got}",
                        "fr": "montant attendu pour {code} : {want}, obtenu : {got}"},
    "expected_entitled": {"en": "expected {code} to be entitled, but it is not",
                          "fr": "attendu : droit à {code}, mais le bénéficiaire n'y a pas droit"},
    "expected_not_entitled": {"en": "expected {code} not to be entitled, but it is",
                              "fr": "attendu : pas de droit à {code}, mais le bénéficiaire y a droit"},
}

register(MESSAGES)
