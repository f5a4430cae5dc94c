"""What a formula says when it cannot produce a value for a record, in English and French.

A `FormulaRuntimeError` keeps its English `message` as it always read (the logs, the CLI and the
tests read it); it also carries what it said as data - `said`, a key of this catalogue and
language-neutral params (formula text, names, numbers as they are) - so that a form, an
explanation or a claim decision says it in the reader's language: `error.text("fr")`.
The keys join the formula catalogue (formulas/messages.py) with `register`.
"""

from __future__ import annotations

from .messages import register

RUNTIME_MESSAGES: dict[str, dict[str, str]] = {
    # values that are missing (formulas/functions.py `_need`, the engine's `as_amount`)
    "run_no_value": {"en": "{what} has no value", "fr": "{what:thing} n'a pas de valeur"},
    "run_name_no_value": {"en": "'{name}' has no value", "fr": "« {name} » n'a pas de valeur"},
    "run_argument_no_value": {"en": "'{expr}' has no value ({name}() needs one)",
                              "fr": "« {expr} » n'a pas de valeur ({name}() en demande une)"},
    "run_member_no_value": {"en": "'{expr}' has no value for a member",
                            "fr": "« {expr} » n'a pas de valeur pour l'un des membres"},
    # numbers and amounts
    "run_division_by_zero": {"en": "division by zero", "fr": "division par zéro"},
    "run_division_no_result": {"en": "the division has no result", "fr": "la division n'a pas de résultat"},
    "run_power_too_large": {"en": "power too large (exponent at most {exponent}, base at most {base})",
                            "fr": "puissance trop grande (exposant {exponent} au plus, base {base} au plus)"},
    "run_power_no_result": {"en": "the power has no result", "fr": "la puissance n'a pas de résultat"},
    "run_needs_numbers": {"en": "'{symbol}' needs two numbers", "fr": "« {symbol} » demande deux nombres"},
    "run_too_large": {"en": "{what} is too large ({value})", "fr": "{what:thing} dépasse le maximum possible ({value})"},
    "run_negative_amount": {"en": "the amount is negative ({amount}): nothing can be paid",
                            "fr": "le montant est négatif ({amount}) : rien ne peut être payé"},
    "run_cannot_compute": {"en": "cannot compute '{expr}'", "fr": "impossible de calculer « {expr} »"},
    "run_cannot_compare": {"en": "cannot compare '{expr}'", "fr": "impossible de comparer « {expr} »"},
    # texts, dates and tables
    "run_text_too_long": {"en": "text longer than {max} characters", "fr": "texte de plus de {max} caractères"},
    "run_not_a_date": {"en": "'{text}' is not a date (write YYYY-MM-DD)",
                       "fr": "« {text} » n'est pas une date (écrivez AAAA-MM-JJ)"},
    "run_lookup_needs_table": {"en": "lookup() needs a table", "fr": "lookup() demande une table"},
    "run_no_row": {"en": "no row '{key}' in the table", "fr": "la table n'a pas de ligne « {key} »"},
    "run_no_column": {"en": "no column '{column}' in the table", "fr": "la table n'a pas de colonne « {column} »"},
    "run_member_not_record": {"en": "a member of the list is not a record",
                              "fr": "un membre de la liste n'est pas un enregistrement"},
    # the language's guard rails (a formula the checker accepted never meets these)
    "run_too_slow": {"en": "the formula took too long to evaluate",
                     "fr": "l'évaluation de la formule a pris trop de temps"},
    "run_unknown_name": {"en": "unknown name '{name}'", "fr": "nom inconnu « {name} »"},
    "run_literal_not_allowed": {"en": "the literal {value} is not allowed in formulas",
                                "fr": "la valeur littérale {value} est interdite dans les formules"},
    "run_operator_not_allowed": {"en": "the operator '{op}' is not allowed", "fr": "l'opérateur « {op} » est interdit"},
    "run_only_functions": {"en": "only the formula language's functions can be called",
                           "fr": "seules les fonctions du langage des formules peuvent être appelées"},
    "run_unknown_function": {"en": "unknown function '{name}'", "fr": "fonction inconnue « {name} »"},
    "run_aggregate_arguments": {"en": "{name}() takes the members and a condition",
                                "fr": "{name}() prend les membres et une condition"},
    # Python's or simpleeval's own words (English) inside
    "run_refused": {"en": "{detail}", "fr": "formule refusée : {detail}"},
    "run_cannot_evaluate": {"en": "cannot evaluate: {detail}", "fr": "évaluation impossible : {detail}"},
}

RUNTIME_KEYS = frozenset(RUNTIME_MESSAGES)

register(RUNTIME_MESSAGES)
