"""The semantic diff speaks the scheme's terms; `openscheme diff` prints it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import EXAMPLES
from openscheme.analysis.diff import diff_schemes, render
from openscheme.cli import main
from openscheme.definitions import compile_file, compile_text


@pytest.fixture(scope="module")
def nafa():
    return compile_file(EXAMPLES / "gm_nafa_quick.yaml").scheme


@pytest.fixture(scope="module")
def chf():
    return compile_file(EXAMPLES / "tz_chf.yaml").scheme


def changed(scheme, *replacements):
    text = scheme.text
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    result = compile_text(text, "new.yaml", run_tests=False)
    assert result.scheme is not None, [str(d) for d in result.errors]
    return result.scheme


def lines(old, new):
    return [str(c) for c in diff_schemes(old, new)]


def test_the_examples_of_the_issue(nafa):
    new = changed(nafa,
                  ("    formula: district in poorest_districts\n",
                   "    formula: district in poorest_districts and count(members) >= 3\n"),
                  ("per_member: 100", "per_member: 120"),
                  ("    schedule: {frequency: monthly, cycles: 3", "    cap: 2500\n    schedule: {frequency: monthly, cycles: 3"),
                  ("      label: {en: National ID, fr: Numéro national}",
                   "      label: {en: National ID, fr: Numéro national}\n    - name: disability_level\n"
                   "      type: select_one\n      choices: [{value: none}, {value: severe}]"))
    out = lines(nafa, new)
    assert "eligibility rule poorest_district: formula `district in poorest_districts` → " \
           "`district in poorest_districts and count(members) >= 3`" in out
    assert "constant per_member: 100 → 120" in out
    assert "new field disability_level (select_one, member)" in out
    assert "benefit nafa_quick: cap none → 2,500" in out


def test_nothing_changes_when_only_comments_move(nafa):
    new = changed(nafa, ("# Nafa Quick-style", "# A comment changed. Nafa Quick-style"))
    assert diff_schemes(nafa, new) == []
    assert "no change in meaning (only comments or layout differ)" in render([], nafa, new)


def test_choices_labels_services_premiums_and_workflows(chf):
    new = changed(chf,
                  ("    - {value: cash, label: {en: Cash to the enrolment officer,",
                   "    - {value: bank, label: Bank transfer}\n    - {value: cash, label: {en: Cash to the enrolment officer,"),
                  ("fr: Espèces à l'agent d'enrôlement}", "fr: Espèces à l'agent}"),
                  ("combos: {cash: CHF_CASH,", "combos: {bank: CHF_BANK, cash: CHF_CASH,"),
                  ("extra_child: 2500", "extra_child: 3000"),
                  ("        price: 10000\n", "        price: 12000\n"),
                  ("      - code: DEN01\n", "      - code: DEN02\n        label: {en: Filling}\n        price: 8000\n      - code: DEN01\n"),
                  ("review: {sample_percent: 10, amount_above: 200000}", "review: {sample_percent: 5, amount_above: 200000}"),
                  ("{level: dispensary, consultation: 2000,", "{level: dispensary, consultation: 2500,"),
                  ("# No `workflows:` section", "workflows:\n  claims:\n    initial: entered\n    states: [entered, paid]\n"
                   "    final: [paid]\n    transitions:\n      - {name: pay, from: entered, to: paid, roles: [claims_reviewer]}\n"
                   "# No `workflows:` section"))
    out = lines(chf, new)
    assert "choice list payment_methods: choices added: bank (\"Bank transfer\")" in out
    assert "choice list payment_methods: choice cash: label (fr) \"Espèces à l'agent d'enrôlement\" → " \
           "\"Espèces à l'agent\"" in out
    assert "contributions premium: extra_child 2,500 → 3,000" in out
    assert "benefit chf_cover: service OPD02: price 10,000 → 12,000" in out
    assert "benefit chf_cover: new service DEN02 (\"Filling\", other, 8,000 TZS)" in out
    assert "benefit chf_cover: review sample_percent 10 → 5" in out
    assert "table facility_prices row dispensary: consultation 2,000 → 2,500" in out
    assert "workflow claims: now declared in the file" in out
    assert any(line.startswith("workflow claims: transition pay") or "new transition pay" in line for line in out)


def test_removed_things_are_named(nafa):
    new = changed(nafa, ("  max_amount: 2500\n", "  max_amount: 2500\n  extra: 5\n"),
                  ("    - {value: KBW, label: Kombo North, region: WCR}\n", ""),
                  ("  - name: people_registered\n", "  - name: people_counted\n"))
    out = lines(nafa, new)
    assert "new constant extra = 5" in out
    assert "choice list districts: choices removed: KBW" in out
    assert "indicator people_registered removed (NQ_PEOPLE = `count(members)`)" in out
    assert any(line.startswith("new indicator people_counted") for line in out)


def test_cli_diff_of_two_files(tmp_path, nafa):
    new = tmp_path / "new.yaml"
    new.write_text(nafa.text.replace("per_member: 100", "per_member: 120"), "utf-8")
    runner = CliRunner()
    r = runner.invoke(main, ["diff", str(EXAMPLES / "gm_nafa_quick.yaml"), str(new)])
    assert r.exit_code == 0, r.output
    assert "CONSTANTS" in r.output and "constant per_member: 100 → 120" in r.output and "1 change(s)" in r.output
    r = runner.invoke(main, ["diff", str(EXAMPLES / "gm_nafa_quick.yaml"), str(new), "--json"])
    assert json.loads(r.output) == [{"kind": "changed", "area": "constant", "subject": "constant per_member",
                                     "detail": "100 → 120", "text": "constant per_member: 100 → 120"}]


def test_cli_diff_of_stored_versions(tmp_path, nafa):
    from openscheme.storage.db import Database
    from openscheme.storage.migrate import upgrade
    from openscheme.storage.schemes import SchemeCatalog

    url = f"sqlite:///{tmp_path / 'v.db'}"
    database = Database(url)
    upgrade(database.engine)
    catalog = SchemeCatalog(database)
    catalog.load_paths([EXAMPLES / "gm_nafa_quick.yaml"])
    changed_file = tmp_path / "gm_nafa_quick.yaml"
    changed_file.write_text(nafa.text.replace("max_amount: 2500", "max_amount: 2600"), "utf-8")
    catalog.load_paths([changed_file])
    database.dispose()
    r = CliRunner().invoke(main, ["diff", "gm-nafa-quick@previous", "gm-nafa-quick@current", "--database-url", url])
    assert r.exit_code == 0, r.output
    assert "constant max_amount: 2,500 → 2,600" in r.output
    r = CliRunner().invoke(main, ["diff", "gm-nafa-quick@99", "gm-nafa-quick@current", "--database-url", url])
    assert r.exit_code != 0 and "no stored version" in r.output


def test_the_changes_in_french(nafa):
    """The same changes said in French (the web pages); English stays what `openscheme diff` prints."""
    new = changed(nafa,
                  ("    formula: district in poorest_districts\n",
                   "    formula: district in poorest_districts and count(members) >= 3\n"),
                  ("per_member: 100", "per_member: 120"),
                  ("max_amount: 2500", "max_amount: 2600"),
                  ("    schedule: {frequency: monthly, cycles: 3", "    cap: 2500\n    schedule: {frequency: monthly, cycles: 3"),
                  ("      label: {en: National ID, fr: Numéro national}",
                   "      label: {en: National ID, fr: Numéro national}\n    - name: disability_level\n"
                   "      type: select_one\n      choices: [{value: none}, {value: severe}]"),
                  ("  - name: people_registered\n", "  - name: people_counted\n"))
    changes = diff_schemes(nafa, new)
    french = [c.text("fr") for c in changes]
    assert "règle d'éligibilité poorest_district : formule `district in poorest_districts` → " \
           "`district in poorest_districts and count(members) >= 3`" in french
    assert "constante per_member : 100 → 120" in french
    assert "constante max_amount : 2\u202f500 → 2\u202f600" in french  # numbers as French writes them
    assert "nouveau champ disability_level (select_one, membre)" in french
    assert "prestation nafa_quick : plafond aucun → 2\u202f500" in french
    assert "indicateur people_registered supprimé (NQ_PEOPLE = `count(members)`)" in french
    assert any(line.startswith("nouvel indicateur people_counted") for line in french)
    english = " ".join(french)
    for word in ("eligibility rule", "formula `", "constant ", "new field", "benefit ", "cap none", "removed",
                 "new indicator"):
        assert word not in english, word
    # English unchanged, and the same in either language's subject/detail for the CLI's JSON
    assert [str(c) for c in changes] == [c.text("en") for c in changes]
    rule = next(c for c in changes if c.area == "rule")
    assert rule.subject == "eligibility rule poorest_district"
    assert rule.detail.startswith("formula `district in poorest_districts` → ")


def test_french_genders_and_plain_values(chf):
    new = changed(chf, ("extra_child: 2500", "extra_child: 3000"),
                  ("      - code: DEN01\n", "      - code: DEN02\n        label: {en: Filling, fr: Plombage}\n"
                                            "        price: 8000\n      - code: DEN01\n"),
                  ("    - {value: cash, label: {en: Cash to the enrolment officer,",
                   "    - {value: bank, label: {en: Bank transfer, fr: Virement}}\n"
                   "    - {value: cash, label: {en: Cash to the enrolment officer,"),
                  ("combos: {cash: CHF_CASH,", "combos: {bank: CHF_BANK, cash: CHF_CASH,"))
    french = [c.text("fr") for c in diff_schemes(chf, new)]
    assert "prime des cotisations : enfant supplémentaire 2\u202f500 → 3\u202f000" in french
    assert "prestation chf_cover : nouveau service DEN02 (« Plombage », other, 8\u202f000 TZS)" in french
    assert "liste de choix payment_methods : choix ajoutés : bank (« Virement »)" in french
    removed = [c.text("fr") for c in diff_schemes(new, chf)]
    assert "prestation chf_cover : service DEN02 supprimé (« Plombage », other, 8\u202f000 TZS)" in removed


def test_a_choice_filter_change_reads_as_its_column_and_field():
    from openscheme.analysis.diff import diff_schemes
    from openscheme.definitions import compile_file, compile_text

    old = compile_file(EXAMPLES / "cm_cheque_sante.yaml", run_tests=False).scheme
    text = old.text.replace("    choice_filter: {column: region, field: region}   # only the districts of the chosen region\n", "")
    assert text != old.text
    new = compile_text(text, "x.yaml", run_tests=False).scheme
    lines = [str(c) for c in diff_schemes(old, new) if "choice_filter" in str(c)]
    assert lines and "{column: region, field: region}" in lines[0] and "ChoiceFilter(" not in lines[0], lines
