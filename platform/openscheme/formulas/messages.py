"""The formula checker's messages and hints in English and French.

The checker is pure and its English is what the CLI, docs/error-codes.md and the tests read,
so every `FormulaError` keeps its English `message` and `hint`; it also carries what it said
as data - a `Said`: a key of `MESSAGES` and language-neutral params - so a page can say it in
the reader's language: `error.text("fr")`, `error.hint_text("fr")`.

A template's placeholders may name how to write a param in each language:
  {left:a}      a formula type with its article: "a date" / "une date"
  {elem:t}      a formula type alone: "date" / "date"
  {kinds:types} several types: "date and number" / "date et nombre"
  {what:what}   what a formula is for ("an eligibility rule"): "une règle d'éligibilité"
  {what:thing}  what a runtime error is about ("the date of birth"): "la date de naissance"
Other params (names, formula text, numbers) are written as they are.

Other catalogues (the definition compiler's, the runtime errors' of formulas/runtime_messages.py)
add their entries with `register`. A `Said` kept in the database is `as_dict()`; `said_text` says
it again, or a plain English text stored before there was a key, in the reader's language.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

LANGUAGES = ("en", "fr")


def base_language(lang: str | None) -> str:
    base = (lang or "en").split("_")[0].split("-")[0].lower()
    return base if base in LANGUAGES else "en"


# the formula types (formulas/types.py T) in French: the word, and with its article
TYPE_WORDS_FR = {
    "number": "nombre", "text": "texte", "yes/no": "oui/non", "date": "date", "list": "liste",
    "members": "membres", "table": "table", "gps point": "point GPS", "any": "quelconque",
}
TYPE_ARTICLES_FR = {
    "number": "un nombre", "text": "un texte", "yes/no": "une valeur oui/non", "date": "une date",
    "list": "une liste", "members": "des membres", "table": "une table", "gps point": "un point GPS",
    "any": "une valeur quelconque",
}
# what a formula is for, as the definition compiler names it (Compiler.formula's `what`)
WHAT_FR = {
    "an eligibility rule": "une règle d'éligibilité", "a premium": "une prime", "'eligible_when'": "« eligible_when »",
    "an amount": "un montant", "a condition": "une condition", "an indicator": "un indicateur",
    "a calculation": "un calcul", "'required'": "« required »", "'relevant'": "« relevant »",
    "a constraint": "une contrainte",
}

# what a runtime error is about (formulas/functions.py `_need`, the engine's `as_amount`)
THINGS_FR = {
    "the premium": "la prime", "the amount": "le montant", "the first date": "la première date",
    "the second date": "la seconde date", "the date": "la date", "the date of birth": "la date de naissance",
    "the date text": "le texte de la date", "the number of days": "le nombre de jours",
    "the number of months": "le nombre de mois", "the number of years": "le nombre d'années",
    "the number to round": "le nombre à arrondir", "the number": "le nombre", "a value": "une des valeurs",
    "the column": "la colonne",
}


class _Formatter(string.Formatter):
    def __init__(self, lang: str):
        super().__init__()
        self.lang = lang

    def format_field(self, value, format_spec: str) -> str:
        fr = self.lang == "fr"
        if format_spec == "a":
            word = str(value)
            if fr:
                return TYPE_ARTICLES_FR.get(word, word)
            return ("an " if word[:1] in "aeiou" else "a ") + word
        if format_spec == "t":
            return TYPE_WORDS_FR.get(str(value), str(value)) if fr else str(value)
        if format_spec == "types":
            words = [TYPE_WORDS_FR.get(str(v), str(v)) if fr else str(v) for v in value]
            return (" et " if fr else " and ").join(words)
        if callable(getattr(value, "text", None)):  # a Said inside a Said: in the same language
            return value.text(self.lang)
        if format_spec == "what":
            return WHAT_FR.get(str(value), str(value)) if fr else str(value)
        if format_spec == "thing":
            return THINGS_FR.get(str(value), str(value)) if fr else str(value)
        return super().format_field(value, format_spec)


_FORMATTERS = {lang: _Formatter(lang) for lang in LANGUAGES}


@dataclass(frozen=True)
class Said:
    """A message as data: a catalogue key and its params ((name, value), ...)."""

    key: str
    params: tuple = ()

    def text(self, lang: str | None = "en") -> str:
        base = base_language(lang)
        texts = MESSAGES[self.key]
        return _FORMATTERS[base].format(texts.get(base, texts["en"]), **dict(self.params))

    def __str__(self) -> str:
        return self.text("en")

    def as_dict(self) -> dict:
        return {"key": self.key, "params": {k: list(v) if isinstance(v, tuple) else v for k, v in self.params}}

    @classmethod
    def from_dict(cls, data: dict) -> Said:
        return cls(data["key"], tuple((data.get("params") or {}).items()))


def is_said(value) -> bool:
    """A message kept as data: a `Said`, or its `as_dict()` (with an "en" text, as stored)."""
    return isinstance(value, Said) or (isinstance(value, dict) and isinstance(value.get("key"), str)
                                       and isinstance(value.get("params", {}), dict))


def said_text(value, lang: str | None = "en") -> str:
    """A message in a language: a `Said`, its stored dict ({"key", "params"[, "en"]}), or a plain
    text (an English text stored before messages had keys: as it was written)."""
    if isinstance(value, Said):
        return value.text(lang)
    if is_said(value):
        try:
            return Said.from_dict(value).text(lang)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):  # a key or params of another version
            return str(value.get("en") or value["key"])
    return "" if value is None else str(value)


def say(key: str, /, **params) -> Said:
    if key not in MESSAGES:
        raise KeyError(key)
    return Said(key, tuple(params.items()))


def register(entries: dict[str, dict[str, str]]) -> None:
    """Add another catalogue's entries (their keys must be new)."""
    clash = set(entries) & set(MESSAGES)
    if clash and any(MESSAGES[k] != entries[k] for k in clash):
        raise ValueError(f"message keys defined twice: {sorted(clash)}")
    MESSAGES.update(entries)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


MESSAGES: dict[str, dict[str, str]] = {
    # ---- E40x: syntax and the allow-list --------------------------------------------------------
    "empty": {"en": "the formula is empty", "fr": "la formule est vide"},
    "too_long": {"en": "the formula is longer than {max} characters", "fr": "la formule dépasse {max} caractères"},
    "comment": {"en": "a '#' comment inside a formula would silently drop what follows it",
                "fr": "un commentaire « # » dans une formule en supprimerait sans prévenir la suite"},
    "syntax_invalid": {"en": "syntax error: invalid syntax", "fr": "erreur de syntaxe"},
    "syntax_unbalanced": {"en": "syntax error: unbalanced parentheses",
                          "fr": "erreur de syntaxe : parenthèses non équilibrées"},
    "syntax_unterminated": {"en": "syntax error: unterminated string literal (detected at line {line})",
                            "fr": "erreur de syntaxe : guillemets non refermés (vu à la ligne {line})"},
    "syntax_decimal": {"en": "syntax error: invalid decimal literal", "fr": "erreur de syntaxe : nombre mal écrit"},
    "syntax_leading_zero": {"en": "syntax error: leading zeros in decimal integer literals are not permitted; "
                                  "use an 0o prefix for octal integers",
                            "fr": "erreur de syntaxe : un nombre ne s'écrit pas avec des zéros en tête"},
    "syntax_other": {"en": "syntax error: {detail}", "fr": "erreur de syntaxe : {detail}"},
    "too_deep": {"en": "the formula is too deeply nested", "fr": "la formule est trop imbriquée"},
    "literal_too_long": {"en": "text longer than {max} characters", "fr": "texte de plus de {max} caractères"},
    "exponent_too_large": {"en": "the exponent {expr} is too large", "fr": "l'exposant {expr} est trop grand"},
    "base_too_large": {"en": "the base {expr} of a power is too large",
                       "fr": "la base {expr} d'une puissance est trop grande"},
    "attribute": {"en": "attribute access ('.{attr}') is not allowed in formulas",
                  "fr": "l'accès à un attribut (« .{attr} ») est interdit dans les formules"},
    "indexing": {"en": "indexing with [...] is not allowed in formulas",
                 "fr": "l'indexation avec [...] est interdite dans les formules"},
    "lambda": {"en": "lambda is not allowed in formulas", "fr": "lambda est interdit dans les formules"},
    "comprehension": {"en": "comprehensions are not allowed in formulas",
                      "fr": "les listes en compréhension sont interdites dans les formules"},
    "generator": {"en": "generator expressions are not allowed in formulas",
                  "fr": "les expressions génératrices sont interdites dans les formules"},
    "fstring": {"en": "f-strings are not allowed in formulas", "fr": "les f-strings sont interdites dans les formules"},
    "assignment": {"en": "assignment (:=) is not allowed in formulas",
                   "fr": "l'affectation (:=) est interdite dans les formules"},
    "dictionary": {"en": "dictionaries are not allowed in formulas",
                   "fr": "les dictionnaires sont interdits dans les formules"},
    "set": {"en": "sets are not allowed in formulas", "fr": "les ensembles sont interdits dans les formules"},
    "star": {"en": "star-arguments are not allowed in formulas",
             "fr": "les arguments étoilés (*) sont interdits dans les formules"},
    "word_not_allowed": {"en": "'{word}' is not allowed in formulas", "fr": "« {word} » est interdit dans les formules"},
    "literal_not_allowed": {"en": "the literal {value} is not allowed in formulas",
                            "fr": "la valeur littérale {value} est interdite dans les formules"},
    "operator_not_allowed": {"en": "the operator '{op}' is not allowed in formulas",
                             "fr": "l'opérateur « {op} » est interdit dans les formules"},
    # ---- E41x: names and functions --------------------------------------------------------------
    "unknown_name": {"en": "unknown name '{name}'", "fr": "nom inconnu « {name} »"},
    "is_function": {"en": "'{name}' is a function", "fr": "« {name} » est une fonction"},
    "member_field_outside": {"en": "'{name}' is a member field, only usable inside count/sum/any/all",
                             "fr": "« {name} » est un champ des membres, utilisable seulement dans count/sum/any/all"},
    "only_named_functions": {"en": "only named functions can be called",
                             "fr": "seules les fonctions nommées peuvent être appelées"},
    "unknown_function": {"en": "unknown function '{name}'", "fr": "fonction inconnue « {name} »"},
    "no_named_arguments": {"en": "{name}() takes no named arguments", "fr": "{name}() ne prend pas d'arguments nommés"},
    "at_least_two": {"en": "{name}() needs at least two values", "fr": "{name}() demande au moins deux valeurs"},
    "takes_exact": {"en": "{name}() takes {lo} arguments, got {n}", "fr": "{name}() prend {lo} arguments, et en a reçu {n}"},
    "takes_exact_one": {"en": "{name}() takes {lo} argument, got {n}", "fr": "{name}() prend {lo} argument, et en a reçu {n}"},
    "takes_range": {"en": "{name}() takes {lo} to {hi} arguments, got {n}",
                    "fr": "{name}() prend de {lo} à {hi} arguments, et en a reçu {n}"},
    "takes_range_one": {"en": "{name}() takes {lo} to {hi} argument, got {n}",
                        "fr": "{name}() prend de {lo} à {hi} argument, et en a reçu {n}"},
    "nested_aggregate": {"en": "{name}() cannot be nested inside another count/sum/any/all",
                         "fr": "{name}() ne peut pas être placé dans un autre count/sum/any/all"},
    "aggregate_arguments": {"en": "{name}() takes the members and a condition, e.g. {name}(members, age(dob) >= 18)",
                            "fr": "{name}() prend les membres et une condition, par exemple "
                                  "{name}(members, age(dob) >= 18)"},
    "sum_arguments": {"en": "sum() takes the members and a number, e.g. sum(members, income)",
                      "fr": "sum() prend les membres et un nombre, par exemple sum(members, income)"},
    # ---- E5xx: types ----------------------------------------------------------------------------
    "list_mixes": {"en": "a list mixes {kinds:types}", "fr": "une liste mélange des valeurs de types {kinds:types}"},
    "needs_conditions": {"en": "'{word}' needs yes/no conditions, but '{expr}' is {type:a}",
                         "fr": "« {word} » demande des conditions oui/non, mais « {expr} » est {type:a}"},
    "not_needs_condition": {"en": "'not' needs a yes/no condition, but '{expr}' is {type:a}",
                            "fr": "« not » demande une condition oui/non, mais « {expr} » est {type:a}"},
    "sign_needs_number": {"en": "a sign needs a number, but '{expr}' is {type:a}",
                          "fr": "un signe demande un nombre, mais « {expr} » est {type:a}"},
    "cannot_compute": {"en": "cannot compute {left:a} {op} {right:a} ('{expr}')",
                       "fr": "impossible de calculer {left:a} {op} {right:a} (« {expr} »)"},
    "no_order": {"en": "{type:a} has no order; only == and != compare it",
                 "fr": "{type:a} n'a pas d'ordre : seuls == et != peuvent comparer ces valeurs"},
    "cannot_compare": {"en": "cannot compare {left:a} with {right:a} ('{left_expr}' and '{right_expr}')",
                       "fr": "impossible de comparer {left:a} avec {right:a} (« {left_expr} » et « {right_expr} »)"},
    "in_needs_list": {"en": "'in' needs a list on its right, but '{expr}' is {type:a}",
                      "fr": "« in » demande une liste à sa droite, mais « {expr} » est {type:a}"},
    "list_holds": {"en": "'{expr}' is {type:a} but the list holds {elem:t} values",
                   "fr": "« {expr} » est {type:a} mais la liste contient des valeurs de type {elem:t}"},
    "not_a_choice": {"en": "'{value}' is not a choice of '{name}'", "fr": "« {value} » n'est pas un choix de « {name} »"},
    "if_condition": {"en": "the condition after 'if' must be yes/no, but '{expr}' is {type:a}",
                     "fr": "la condition après « if » doit être oui/non, mais « {expr} » est {type:a}"},
    "branches_differ": {"en": "the two branches of 'if ... else' differ: {body:a} and {orelse:a}",
                        "fr": "les deux branches de « if ... else » diffèrent : {body:a} et {orelse:a}"},
    "needs_type": {"en": "{name}() needs {want:a}, but '{expr}' is {got:a}",
                   "fr": "{name}() demande {want:a}, mais « {expr} » est {got:a}"},
    "not_a_date": {"en": "'{value}' is not a date", "fr": "« {value} » n'est pas une date"},
    "count_needs": {"en": "count() needs members or a list, but '{expr}' is {type:a}",
                    "fr": "count() demande les membres ou une liste, mais « {expr} » est {type:a}"},
    "over_members": {"en": "{name}() works over members, but '{expr}' is {type:a}",
                     "fr": "{name}() porte sur les membres, mais « {expr} » est {type:a}"},
    "for_each_member": {"en": "{name}() needs {want:a} for each member, but '{expr}' is {got:a}",
                        "fr": "{name}() demande {want:a} pour chaque membre, mais « {expr} » est {got:a}"},
    "wrong_result": {"en": "{what:what} must give {want:a}, but this formula gives {got:a}",
                     "fr": "{what:what} doit donner {want:a}, mais cette formule donne {got:a}"},
    # ---- the workbench's own checks (analysis/workbench.py) ---------------------------------------
    "no_such_formula": {"en": "there is no formula '{key}' in this scheme",
                        "fr": "ce régime n'a pas de formule « {key} »"},
    "no_scope": {"en": "the scheme's scope could not be rebuilt",
                 "fr": "les noms et types du régime n'ont pas pu être reconstitués"},
    # ---- hints ----------------------------------------------------------------------------------
    "hint_split": {"en": "split it into computed fields", "fr": "découpez-la en champs calculés"},
    "hint_comment_outside": {"en": "put the comment on its own line above, outside the formula",
                             "fr": "mettez le commentaire sur sa propre ligne au-dessus, hors de la formule"},
    "hint_compare_equals": {"en": "compare with '==', not '='", "fr": "comparez avec « == », pas « = »"},
    "hint_at_most": {"en": "at most {max}", "fr": "au plus {max}"},
    "hint_declared_only": {"en": "formulas only use declared names and functions",
                           "fr": "les formules n'utilisent que les noms déclarés et les fonctions"},
    "hint_lookup": {"en": "use lookup(table, key) to read a table", "fr": "lisez une table avec lookup(table, clé)"},
    "hint_aggregates": {"en": "use count/sum/any/all over members", "fr": "utilisez count/sum/any/all sur les membres"},
    "hint_declare_table": {"en": "declare a table instead", "fr": "déclarez plutôt une table"},
    "hint_tuple": {"en": 'write a tuple: ("a", "b")', "fr": 'écrivez un tuple : ("a", "b")'},
    "hint_present": {"en": "use present(x) to test for an empty value",
                     "fr": "testez une valeur vide avec present(x)"},
    "hint_call_it": {"en": "call it: {name}(...)", "fr": "appelez-la : {name}(...)"},
    "hint_for_example_any": {"en": "for example any(members, {name} ...)", "fr": "par exemple any(members, {name} ...)"},
    "hint_did_you_mean": {"en": "did you mean '{name}'?", "fr": "vouliez-vous dire « {name} » ?"},
    "hint_yes_no": {"en": "write true or false: in definitions, yes/no/on/off are text, not yes/no values",
                    "fr": "écrivez true ou false : dans les définitions, yes/no/on/off sont du texte, "
                          "pas des valeurs oui/non"},
    "hint_compare_x": {"en": "compare it, e.g. x > 0", "fr": "faites-en une comparaison, par exemple x > 0"},
    "hint_compare_18": {"en": "compare it, e.g. ... >= 18", "fr": "faites-en une comparaison, par exemple ... >= 18"},
    "hint_dates_days": {"en": "dates take + or - a number of days; use age() or years_between() for years",
                        "fr": "on ajoute ou retranche des jours à une date (+ ou -) ; pour des années, "
                              "utilisez age() ou years_between()"},
    "hint_text_join": {"en": "text can only be joined with + to other text",
                       "fr": "un texte ne se joint qu'à un autre texte, avec +"},
    "hint_date_to_number": {"en": "turn the date into a number with age(), years_between() or days_between()",
                            "fr": "changez la date en nombre avec age(), years_between() ou days_between()"},
    "hint_quotes": {"en": "write the number without quotes, or the text in quotes",
                    "fr": "écrivez le nombre sans guillemets, ou le texte entre guillemets"},
    "hint_is": {"en": "use == or present(x)", "fr": "utilisez == ou present(x)"},
    "hint_choices": {"en": "choices: {choices}", "fr": "choix possibles : {choices}"},
    "hint_is_value": {"en": "'{name}' is a value, not a function", "fr": "« {name} » est une valeur, pas une fonction"},
    "hint_function_list": {"en": "see the function list in docs/definition-reference.md",
                           "fr": "voyez la liste des fonctions dans docs/definition-reference.md"},
    "hint_date_literal": {"en": 'write dates as date("2025-01-31")', "fr": 'écrivez les dates ainsi : date("2025-01-31")'},
    "hint_yyyy": {"en": "write YYYY-MM-DD", "fr": "écrivez AAAA-MM-JJ"},
    "hint_write_formula": {"en": "write a formula, e.g. age(dob) >= 18",
                           "fr": "écrivez une formule, par exemple age(dob) >= 18"},
}

FORMULA_KEYS = frozenset(MESSAGES)  # the checker's own (others `register` theirs)
