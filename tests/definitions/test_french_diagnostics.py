"""Loading (E1xx), names and references (E3xx), workflows (E6xx) and the scheme's own test cases
(E701, E704, E707, E708) said in French: `openscheme validate --lang fr` and the workbench show
them with none of their English (tests/english_left.py); their English is test_english_unchanged.py's."""

from __future__ import annotations

import re
import string
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from english_cases import CASES, diagnostics_of  # noqa: E402

from english_left import EnglishLeft  # noqa: E402
from openscheme.cli import main  # noqa: E402
from openscheme.definitions import compile_file  # noqa: E402
from openscheme.definitions import messages as definitions  # noqa: E402
from openscheme.definitions.messages import Technical  # noqa: E402
from openscheme.evaluation.messages import MESSAGES as RECORD_MESSAGES  # noqa: E402
from openscheme.formulas.messages import MESSAGES, say  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "invalid"
PREFIXES = ("l_", "n_", "w_")
TEST_CASE_KEYS = {"expected_error_none", "expected_error_got", "unexpected_error", "test_data_invalid",
                  "hint_fix_test_data", "unknown_rule_in_test", "unknown_benefit_in_test", "unknown_voucher_in_test",
                  "expected_vouchers", "expected_premium_none"}
NEW_KEYS = sorted(k for k in definitions.MESSAGES if k.startswith(PREFIXES) or k in TEST_CASE_KEYS)
# said only when the YAML library, Python or the file system fail in a way no small file shows
# (a YAML error without a position, a RecursionError, a field the schema already refuses, a missing path
# given to `validate`, checked below)
NOT_IN_A_FILE = {"l_yaml_error", "l_nested_too_deeply", "l_duplicate_key", "n_calculate_missing", "n_field_needs_name_type", "l_no_such_file"}
ENGLISH = EnglishLeft(list(MESSAGES.values()) + list(RECORD_MESSAGES.values()))
# and, whole, the library texts that `Technical` says in French, and a few short English words
PHRASES = ("mapping values are not allowed", "cannot start any token", "while scanning", "while parsing",
           "no such file", "unterminated character set", "did you mean", "duplicate", "unknown", "expected",
           "reserved", "workflow can never", "is not declared", "needs a", "must be", "applies to")


def no_english(text: str) -> None:
    """No English but names: YAML keys and names in « » and dotted paths (members.min) stay as written."""
    words = re.sub(r"\b\w+(\[\d+\])?(\.\w+(\[\d+\])?)+", " ", re.sub(r"«[^»]*»", "« »", text))
    assert not ENGLISH.on(words), (ENGLISH.on(words), text)
    assert not [p for p in PHRASES if p in words.lower()], text


def all_diagnostics():
    for path in sorted(FIXTURES.glob("*.yaml")):
        yield path.name, compile_file(path).diagnostics
    for name in CASES:
        yield name, diagnostics_of(name)


def keys_of(said) -> set[str]:
    """The keys of a Said and of the Saids inside its params."""
    if said is None or not hasattr(said, "key"):
        return set()
    found = {said.key}
    for _, value in said.params:
        found |= keys_of(value)
    return found


def test_the_new_keys_are_the_loading_names_workflow_and_test_case_ones():
    assert len(NEW_KEYS) >= 140
    assert {"l_yaml_syntax", "n_duplicate_field", "w_unknown_state", "expected_vouchers"} <= set(NEW_KEYS)


@pytest.mark.parametrize("key", NEW_KEYS)
def test_each_new_key_is_said_in_french_with_no_english_left(key):
    texts = MESSAGES[key]
    names = {name for _, name, _, _ in string.Formatter().parse(texts["en"]) if name}
    assert names == {name for _, name, _, _ in string.Formatter().parse(texts["fr"]) if name}, key
    params = {name: f"x{i}" for i, name in enumerate(sorted(names))}
    french = say(key, **params).text("fr")
    assert french != say(key, **params).text("en")
    no_english(french)


def test_every_new_key_is_met_in_a_broken_file_and_said_there_in_french():
    met = set()
    codes = set()
    for name, diagnostics in all_diagnostics():
        for d in diagnostics:
            keys = keys_of(d.said) | keys_of(d.hint_said)
            if not keys & set(NEW_KEYS):
                continue
            met |= keys
            codes.add(d.code)
            french = d.text("fr")
            assert french != d.text("en"), name
            no_english(french.split(": ", 1)[1].replace(f"{d.code} ", "", 1))
    assert set(NEW_KEYS) - met == NOT_IN_A_FILE
    assert {"E100", "E101", "E102", "E103", "E104", "E105", "E106", "E301", "E302", "E303", "E304", "E305", "E306",
            "E307", "E311", "E320", "E321", "E322", "E323", "E324", "E325", "E326", "E327", "E328", "E330", "E331",
            "E340", "E341", "E342", "E343", "E344", "E350", "E352", "E353", "E354", "E355", "E360", "E361", "E370",
            "E602", "E603", "E604", "E605", "W606", "E607", "E701", "E704", "E707", "E708"} <= codes


def test_a_test_case_shows_the_records_own_error_in_french():
    [d] = [d for d in compile_file(FIXTURES / "e701_invalid_test_data.yaml").diagnostics if d.code == "E701"]
    assert d.message == "test 'household of 2 in Basse': the test data is invalid: members[2].dob: Enter a date as YYYY-MM-DD."
    assert d.message_text("fr") == ("cas de test « household of 2 in Basse » : les données du cas de test ne sont pas "
                                    "valides : members[2].dob : Saisissez une date au format AAAA-MM-JJ.")
    assert d.hint_text("fr") == "corrigez les données, ou attendez l'erreur sous expect.errors"


@pytest.mark.parametrize(("english", "french"), [
    ("mapping values are not allowed here", "un « : » n'est pas permis ici"),
    ("expected ',' or ']', but got ':'", "« , » ou « ] » attendu, mais trouvé : ':'"),
    ("unterminated character set at position 1", "ensemble de caractères [...] non refermé à la position 1"),
    ("No such file or directory", "fichier ou dossier introuvable"),
    ("something PyYAML never said before", "something PyYAML never said before"),
])
def test_a_librarys_usual_texts_are_said_in_french(english, french):
    assert Technical(english).text("fr") == french
    assert Technical(english).text("en") == english == str(Technical(english))


def test_validate_in_french_says_the_loading_and_workflow_errors_in_french(tmp_path):
    from click.testing import CliRunner

    files = [str(FIXTURES / n) for n in ("e101_tab_indentation.yaml", "e603_unknown_role_did_you_mean.yaml",
                                         "e707_unknown_rule_in_failed_rules.yaml")]
    missing = str(tmp_path / "nowhere.yaml")
    french = CliRunner().invoke(main, ["validate", "--lang", "fr", missing, *files]).output
    english = CliRunner().invoke(main, ["validate", missing, *files]).output
    assert f"{missing}:1:1: E100 fichier ou dossier introuvable" in french
    assert "E101 erreur de syntaxe YAML : le caractère '\\t' ne peut commencer aucun élément" in french
    assert "(indentez avec des espaces, pas avec des tabulations)" in french
    assert "E603 rôle inconnu « payment_oficer » (vouliez-vous dire « payment_officer » ?)" in french
    assert "E707 cas de test « household of 2 in Basse » : règle inconnue « poorest_districts » dans failed_rules" in french
    for line in french.splitlines()[:-1]:
        no_english(line.split(": ", 1)[1])
    assert f"{missing}:1:1: E100 no such file or directory" in english
    assert "E603 unknown role 'payment_oficer' (did you mean 'payment_officer'?)" in english
