"""The definition compiler's messages in English and French, beside the formula checker's
(formulas/messages.py, whose `Said` and `say` they use): so far the failures of the scheme's own
test cases (evaluation/testcases.py), which is what an analyst's changed formula most often
breaks on the workbench, and the structure of the document (E2xx: unknown or missing keys, types,
values). The others (loading, names, workflows) are said in English only.
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
    # the structure of the document (definitions/structure.py, E2xx)
    "s_unknown_key": {"en": "unknown key '{key}' in {where}", "fr": "clé inconnue « {key} » dans {where}"},
    "s_did_you_mean": {"en": "did you mean '{name}'?", "fr": "vouliez-vous dire « {name} » ?"},
    "s_allowed": {"en": "allowed: {names}", "fr": "clés possibles : {names}"},
    "s_missing_key": {"en": "missing key '{key}' in {where}", "fr": "clé manquante « {key} » dans {where}"},
    "s_type": {"en": "{where} must be {want}, not {got}", "fr": "{where} doit être {want}, et non {got}"},
    "s_enum": {"en": "{where} is '{value}', which is not one of: {options}",
               "fr": "{where} vaut « {value} », qui ne fait pas partie de : {options}"},
    "s_const": {"en": "{where} must be '{value}'", "fr": "{where} doit valoir « {value} »"},
    "s_not_language": {"en": "'{value}' is not a language code in {where}",
                       "fr": "« {value} » n'est pas un code de langue dans {where}"},
    "s_quote_comma": {"en": "a text with a comma inside {{...}} must be quoted: {{en: \"a, b\"}}",
                      "fr": "un texte contenant une virgule entre {{...}} doit être entre guillemets : {{en: \"a, b\"}}"},
    "s_not_name": {"en": "'{value}' is not a valid name in {where}", "fr": "« {value} » n'est pas un nom valide dans {where}"},
    "s_name_rule": {"en": "names use lower-case letters, digits and _",
                    "fr": "un nom s'écrit en lettres minuscules, chiffres et _"},
    "s_form": {"en": "{where}: '{value}' is not in the expected form",
               "fr": "{where} : « {value} » n'a pas la forme attendue"},
    "s_bound": {"en": "{where} must be {words} {limit}, not {value}", "fr": "{where} doit être {words} {limit}, et non {value}"},
    "s_at_least": {"en": "at least", "fr": "au moins"},
    "s_at_most": {"en": "at most", "fr": "au plus"},
    "s_more_than": {"en": "more than", "fr": "plus de"},
    "s_less_than": {"en": "less than", "fr": "moins de"},
    "s_empty": {"en": "{where} must not be empty", "fr": "{where} ne doit pas être vide"},
    "s_too_long": {"en": "{where} is too long (at most {limit})", "fr": "{where} est trop long ({limit} au plus)"},
    "s_twice": {"en": "{where} lists the same value twice", "fr": "{where} contient deux fois la même valeur"},
    "s_field_needs": {"en": "{where} needs 'name' and 'type', or a 'preset'",
                      "fr": "{where} demande « name » et « type », ou un « preset »"},
    "s_document": {"en": "the document", "fr": "le document"},
    "s_or": {"en": " or ", "fr": " ou "},
    # what a value is (describe)
    "s_bool": {"en": "'{value}' (true/false)", "fr": "« {value} » (true/false)"},
    "s_number": {"en": "the number {value}", "fr": "le nombre {value}"},
    "s_text": {"en": "the text '{value}'", "fr": "le texte « {value} »"},
    "s_a_list": {"en": "a list", "fr": "une liste"},
    "s_a_mapping": {"en": "a mapping", "fr": "un tableau de clés (clé: valeur)"},
    "s_nothing": {"en": "nothing", "fr": "rien"},
    # what a value must be (TYPE_WORDS)
    "s_t_string": {"en": "text", "fr": "du texte"},
    "s_t_number": {"en": "a number", "fr": "un nombre"},
    "s_t_integer": {"en": "a whole number", "fr": "un nombre entier"},
    "s_t_boolean": {"en": "true or false", "fr": "true ou false"},
    "s_t_object": {"en": "a mapping (key: value)", "fr": "un tableau de clés (clé: valeur)"},
    "s_t_array": {"en": "a list", "fr": "une liste"},
    "s_t_null": {"en": "nothing", "fr": "rien"},
}

register(MESSAGES)
