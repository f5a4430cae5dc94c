"""The authoring commands of the `openscheme` CLI: validate, clone, explain, eval, test, schema.

Every command runs through click's CliRunner; none may end in a traceback, whatever
the input.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from openscheme.cli import main
from openscheme.definitions import compile_file
from openscheme.definitions.schema import SCHEMA

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "examples"
# A frozen copy of examples/gm_nafa_quick.yaml: the exact texts asserted below do not move
# when the example is edited. It is also the only "example" the commands can find by name.
CLI_EXAMPLES = ROOT / "tests" / "fixtures" / "valid"
NAFA = CLI_EXAMPLES / "gm_nafa_quick.yaml"
FIXTURES = ROOT / "tests" / "fixtures" / "invalid"
DIAGNOSTIC = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[EW]\d{3}) (?P<message>.+)$")

HOUSEHOLD = {
    "region": "URR", "district": "BSE", "village": "Sabi", "payment_channel": "cash_agent",
    "members": [
        {"first_name": "Awa", "last_name": "Jallow", "sex": "F", "dob": "1980-02-01",
         "roles": ["head", "primary_recipient"]},
        {"first_name": "Lamin", "last_name": "Jallow", "sex": "M", "dob": "2005-05-05"},
    ],
}


@pytest.fixture(autouse=True)
def isolated_definitions(tmp_path, monkeypatch):
    """Never read or write the project's scheme_definitions/; examples come from tests/fixtures/valid/."""
    definitions = tmp_path / "scheme_definitions"
    definitions.mkdir()
    monkeypatch.setenv("OPENSCHEME_DEFINITIONS", str(definitions))
    monkeypatch.setenv("OPENSCHEME_EXAMPLES", str(CLI_EXAMPLES))
    return definitions


def run(*args, code: int | None = 0):
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="openscheme")
    output = result.output
    assert "Traceback" not in output, output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"openscheme {' '.join(map(str, args))} raised {result.exception!r}\n{output}")
    if code is not None:
        assert result.exit_code == code, f"exit {result.exit_code}, wanted {code}\n{output}"
    return result


def diagnostics(output: str) -> list[re.Match]:
    return [m for line in output.splitlines() if (m := DIAGNOSTIC.match(line))]


def write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


def nafa_with(tmp_path: Path, old: str, new: str, name: str = "copy.yaml") -> Path:
    text = NAFA.read_text("utf-8")
    assert text.count(old) == 1, old
    return write(tmp_path / name, text.replace(old, new))


def data_file(tmp_path: Path, record, name: str = "record.json") -> Path:
    return write(tmp_path / name, json.dumps(record))


# ---- validate ----------------------------------------------------------------------------

def test_validate_ok():
    result = run("validate", NAFA)
    assert f"{NAFA}: ok - gm-nafa-quick v1" in result.output
    assert "3 test cases passed" in result.output
    assert result.output.rstrip().endswith("1 file(s), 0 error(s), 0 warning(s)")
    assert diagnostics(result.output) == []


def test_validate_broken_lists_every_error_as_file_line_col(tmp_path):
    text = NAFA.read_text("utf-8")
    text = text.replace("  currency: GMD\n", "  currency: gmd\n")          # E205
    text = text.replace("  unit: household\n", "  unit: houshold\n")       # E204
    text = text.replace("  illustrative: true\n", "  illustrative: true\n  tilte: x\n")  # E201
    path = write(tmp_path / "broken.yaml", text)
    result = run("validate", path, code=1)
    found = diagnostics(result.output)
    assert [(m["code"], m["file"]) for m in found] == [("E205", str(path)), ("E204", str(path)), ("E201", str(path))]
    lines = text.split("\n")
    for m in found:
        assert 1 <= int(m["line"]) <= len(lines) and int(m["col"]) >= 1
    assert lines[int(found[0]["line"]) - 1] == "  currency: gmd"
    assert "3 error(s)" in result.output
    assert ": ok - " not in result.output


def test_validate_semantic_errors_with_hints(tmp_path):
    path = nafa_with(tmp_path, "formula: district in poorest_districts", "formula: distrct in poorest_districts")
    result = run("validate", path, code=1)
    [m] = diagnostics(result.output)
    assert m["code"] == "E410" and "unknown name 'distrct' (did you mean 'district'?)" in m["message"]


def test_validate_in_french(tmp_path):
    """An implementer working in French: formula errors, their hints and the summary in French, at the same
    file:line:col (the position and the code do not change)."""
    path = nafa_with(tmp_path, "formula: district in poorest_districts", "formula: distrct in poorest_districts")
    english, french = run("validate", path, code=1), run("validate", "--lang", "fr", path, code=1)
    [m] = diagnostics(french.output)
    [e] = diagnostics(english.output)
    assert (m["file"], m["line"], m["col"], m["code"]) == (e["file"], e["line"], e["col"], e["code"]) == \
        (str(path), m["line"], m["col"], "E410")
    assert "nom inconnu « distrct » (vouliez-vous dire « district » ?)" in french.output
    assert "1 fichier(s), 1 erreur(s), 0 avertissement(s)" in french.output and "unknown name" not in french.output
    assert "cas de test réussis" in run("validate", "--lang", "fr", NAFA).output


def test_validate_a_directory(tmp_path):
    write(tmp_path / "a_ok.yaml", NAFA.read_text("utf-8"))
    nafa_with(tmp_path, "  version: 1\n", "  version: 1\n  version: 2\n", name="b_broken.yaml")
    write(tmp_path / "notes.txt", "not a definition")
    result = run("validate", tmp_path, code=1)
    assert f"{tmp_path / 'a_ok.yaml'}: ok - " in result.output
    [m] = diagnostics(result.output)
    assert m["file"] == str(tmp_path / "b_broken.yaml") and m["code"] == "E102"
    assert "2 file(s), 1 error(s)" in result.output


def test_validate_the_examples_directory():
    result = run("validate", EXAMPLES_DIR)
    examples = sorted(EXAMPLES_DIR.glob("*.yaml"))
    assert result.output.count(": ok - ") == len(examples)
    assert f"{len(examples)} file(s), 0 error(s), 0 warning(s)" in result.output


def test_validate_every_invalid_fixture_fails_cleanly():
    result = run("validate", "--quiet", FIXTURES, code=1)
    reported = {Path(m["file"]).name for m in diagnostics(result.output)}
    assert reported == {p.name for p in FIXTURES.glob("*.yaml")}
    assert "E000" not in result.output


def test_validate_a_missing_file(tmp_path):
    missing = tmp_path / "missing.yaml"
    result = run("validate", missing, code=1)
    assert f"{missing}:1:1: E100 no such file or directory" in result.output
    assert "1 file(s), 1 error(s)" in result.output


def test_validate_a_missing_file_among_good_ones(tmp_path):
    result = run("validate", NAFA, tmp_path / "nope.yaml", code=1)
    assert ": ok - gm-nafa-quick" in result.output
    assert "E100" in result.output


def test_validate_needs_a_path():
    result = run("validate", code=2)
    assert "Missing argument" in result.output


def test_validate_strict_fails_on_warnings(tmp_path):
    path = nafa_with(tmp_path, "benefit_kinds: [cash]", "benefit_kinds: [cash, voucher]")
    result = run("validate", path)
    [m] = diagnostics(result.output)
    assert m["code"] == "W351"
    assert "0 error(s), 1 warning(s)" in result.output
    run("validate", "--strict", path, code=1)


def test_validate_quiet_prints_problems_only(tmp_path):
    assert run("validate", "-q", NAFA).output == ""
    path = nafa_with(tmp_path, "  currency: GMD\n", "  currency: gmd\n")
    output = run("validate", "-q", path, code=1).output
    assert [m["code"] for m in diagnostics(output)] == ["E205"]
    assert "file(s)" not in output


def test_validate_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(NAFA.read_text("utf-8").encode("latin-1", "replace"))
    result = run("validate", path, code=1)
    assert [m["code"] for m in diagnostics(result.output)] == ["E100"]


# ---- clone -------------------------------------------------------------------------------

def test_clone_replaces_the_code_keeps_comments_and_validates(tmp_path):
    out = tmp_path / "out"
    result = run("clone", "gm_nafa_quick", "my-quick", "--to", out)
    target = out / "my_quick.yaml"
    assert f"wrote {target}" in result.output
    assert f"{target}: ok" in result.output
    text = target.read_text("utf-8")
    source = NAFA.read_text("utf-8")
    assert "  code: my-quick\n" in text
    assert "gm-nafa-quick" not in text.split("\n", 1)[1]  # only the header names the source
    assert text.startswith("# Cloned from gm_nafa_quick.yaml (gm-nafa-quick) on ")
    comments = [line for line in source.splitlines() if line.lstrip().startswith("#")]
    assert comments and all(c in text for c in comments)
    # nothing else changed
    assert text.split("\n", 1)[1] == source.replace("code: gm-nafa-quick", "code: my-quick", 1)
    compiled = compile_file(target)
    assert compiled.ok and compiled.scheme.code == "my-quick"


def test_clone_by_scheme_code_to_the_default_directory(isolated_definitions):
    run("clone", "gm-nafa-quick", "other_quick")
    assert (isolated_definitions / "other_quick.yaml").exists()


def test_clone_twice_needs_force(tmp_path):
    run("clone", "gm_nafa_quick", "twice", "--to", tmp_path)
    target = tmp_path / "twice.yaml"
    target.write_text(target.read_text("utf-8") + "# my edits\n", "utf-8")
    result = run("clone", "gm_nafa_quick", "twice", "--to", tmp_path, code=1)
    assert "exists already" in result.output and "--force" in result.output
    assert target.read_text("utf-8").endswith("# my edits\n")  # untouched
    run("clone", "gm_nafa_quick", "twice", "--to", tmp_path, "--force")
    assert not target.read_text("utf-8").endswith("# my edits\n")


@pytest.mark.parametrize("code", ["My-Scheme", "a", "9lives", "has space", "x" * 45, "semi;colon", "../escape"])
def test_clone_refuses_a_bad_new_code(tmp_path, code):
    out = tmp_path / "out"
    result = run("clone", "gm_nafa_quick", code, "--to", out, code=2)
    assert "NEW_CODE" in result.output
    assert not out.exists()


def test_clone_an_unknown_example(tmp_path):
    result = run("clone", "no_such_example", "new-code", "--to", tmp_path, code=1)
    assert "no example 'no_such_example'" in result.output
    assert "gm_nafa_quick" in result.output  # lists what exists


def test_clone_a_quoted_code(tmp_path):
    source = nafa_with(tmp_path, "  code: gm-nafa-quick\n", "  code: 'gm-nafa-quick'  # the code\n", name="quoted.yaml")
    run("clone", source, "quoted-copy", "--to", tmp_path / "out")
    text = (tmp_path / "out" / "quoted_copy.yaml").read_text("utf-8")
    assert "  code: quoted-copy  # the code\n" in text


def test_clone_a_file_without_a_code(tmp_path):
    source = write(tmp_path / "nocode.yaml", "fields: []\n")
    result = run("clone", source, "new-code", "--to", tmp_path / "out", code=1)
    assert "no scheme.code" in result.output


# ---- explain -----------------------------------------------------------------------------

SECTIONS = ["WHO IS REGISTERED", "WHO IS ELIGIBLE", "BENEFITS", "PAYMENTS", "WORKFLOWS"]


def test_explain_in_english():
    output = run("explain", "gm_nafa_quick", "--lang", "en").output
    assert output.startswith("Nafa Quick emergency cash transfer (gm-nafa-quick, version 1)")
    positions = [output.index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    for label in ("Region (region)", "Payment channel", "Nafa Quick transfer (nafa_quick, cash)",
                  "The household does not live in one of the poorest districts"):
        assert label in output


def test_explain_in_french():
    output = run("explain", NAFA, "--lang", "fr").output
    assert output.startswith("Transfert monétaire d'urgence Nafa Quick")
    for s in SECTIONS:
        assert s in output
    for label in ("Région (region)", "Canal de paiement", "Transfert Nafa Quick (nafa_quick, cash)",
                  "Le ménage ne vit pas dans l'un des districts les plus pauvres"):
        assert label in output
    assert "Payment channel" not in output


def test_explain_defaults_to_the_first_language():
    assert run("explain", "gm_nafa_quick").output == run("explain", "gm_nafa_quick", "--lang", "en").output


@pytest.mark.parametrize("path", sorted(EXAMPLES_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_explain_every_example(path):
    output = run("explain", path).output
    assert "WHO IS ELIGIBLE" in output and "BENEFITS" in output


def test_explain_a_broken_definition_shows_its_errors(tmp_path):
    path = nafa_with(tmp_path, "  currency: GMD\n", "  currency: gmd\n")
    result = run("explain", path, code=1)
    assert [m["code"] for m in diagnostics(result.output)] == ["E205"]
    assert "has errors" in result.output


def test_explain_an_unknown_scheme():
    result = run("explain", "nothing-like-this", code=1)
    assert "no scheme definition 'nothing-like-this'" in result.output


# ---- eval --------------------------------------------------------------------------------

def test_eval_eligible_as_text(tmp_path):
    output = run("eval", "gm_nafa_quick", "--data", data_file(tmp_path, HOUSEHOLD), "--as-of", "2020-08-01").output
    lines = output.splitlines()
    assert lines[0] == "Nafa Quick emergency cash transfer - evaluated on 2020-08-01"
    assert lines[1] == "ELIGIBLE"
    assert "  [pass] poorest_district" in lines
    assert "BENEFIT Nafa Quick transfer (nafa_quick): entitled 1,700 GMD" in lines
    assert "  1,700 GMD per cycle, 3 monthly cycle(s)" in lines


def test_eval_not_eligible_as_text(tmp_path):
    record = dict(HOUSEHOLD, region="WCR", district="KBW")
    output = run("eval", "gm_nafa_quick", "--data", data_file(tmp_path, record), "--as-of", "2020-08-01").output
    assert "\nNOT ELIGIBLE\n" in output
    assert "  [FAIL] poorest_district: The household does not live in one of the poorest districts" in output
    assert "(nafa_quick): not entitled" in output


def test_eval_in_french(tmp_path):
    record = dict(HOUSEHOLD, region="WCR", district="KBW")
    output = run("eval", "gm_nafa_quick", "--data", data_file(tmp_path, record), "--as-of", "2020-08-01",
                 "--lang", "fr").output
    assert "Le ménage ne vit pas dans l'un des districts les plus pauvres" in output
    assert "Transfert Nafa Quick (nafa_quick)" in output


def test_eval_json(tmp_path):
    output = run("eval", "gm_nafa_quick", "--data", data_file(tmp_path, HOUSEHOLD), "--as-of", "2020-08-01",
                 "--json").output
    result = json.loads(output)
    assert result["scheme"] == "gm-nafa-quick" and result["as_of"] == "2020-08-01"
    assert result["valid"] is True and result["errors"] == [] and result["eligible"] is True
    assert [r["name"] for r in result["rules"]] == ["poorest_district"]
    [benefit] = result["benefits"]
    assert benefit["code"] == "nafa_quick" and benefit["entitled"] is True
    assert benefit["amount"] == "1700.00"  # money as text, never a float


def test_eval_json_not_eligible(tmp_path):
    record = dict(HOUSEHOLD, region="WCR", district="KBW")
    result = json.loads(run("eval", "gm_nafa_quick", "--data", data_file(tmp_path, record), "--as-of",
                            "2020-08-01", "--json").output)
    assert result["eligible"] is False
    assert result["rules"][0]["passed"] is False
    assert result["rules"][0]["reason"] == "The household does not live in one of the poorest districts"
    assert result["benefits"][0]["entitled"] is False


def test_eval_an_invalid_record_exits_1_with_the_field_path(tmp_path):
    record = json.loads(json.dumps(HOUSEHOLD))
    record["members"][1]["dob"] = "05/05/2005"
    record["district"] = "XXX"
    result = run("eval", "gm_nafa_quick", "--data", data_file(tmp_path, record), "--as-of", "2020-08-01", code=1)
    assert "The record is not valid:" in result.output
    assert "  members[1].dob: E802 Enter a date as YYYY-MM-DD." in result.output
    assert "  district: E807" in result.output


def test_eval_an_invalid_record_as_json(tmp_path):
    record = json.loads(json.dumps(HOUSEHOLD))
    record["members"][1]["dob"] = "05/05/2005"
    result = run("eval", "gm_nafa_quick", "--data", data_file(tmp_path, record), "--as-of", "2020-08-01",
                 "--json", code=1)
    payload = json.loads(result.output)
    assert payload["valid"] is False and payload["eligible"] is False
    assert {"path": "members[1].dob", "code": "E802"}.items() <= payload["errors"][0].items()


def test_eval_a_yaml_data_file(tmp_path):
    import yaml

    path = write(tmp_path / "record.yaml", yaml.safe_dump(HOUSEHOLD))
    output = run("eval", "gm_nafa_quick", "--data", path, "--as-of", "2020-08-01").output
    assert "ELIGIBLE" in output


def test_eval_a_file_that_is_not_json(tmp_path):
    path = write(tmp_path / "record.json", '{"region": "URR",\n  "district": }')
    result = run("eval", "gm_nafa_quick", "--data", path, code=1)
    assert f"{path}:2:15: not valid JSON" in result.output


@pytest.mark.parametrize("record", [[1, 2], "text", None, {"members": "x"}, {"members": [1, None, []]},
                                    {"district": {"a": 1}, "members": [{"dob": [1], "roles": 5}]}])
def test_eval_odd_records_are_invalid_not_a_crash(tmp_path, record):
    result = run("eval", "gm_nafa_quick", "--data", data_file(tmp_path, record), "--as-of", "2020-08-01", code=1)
    assert "The record is not valid:" in result.output


def test_eval_a_bad_as_of_date(tmp_path):
    result = run("eval", "gm_nafa_quick", "--data", data_file(tmp_path, HOUSEHOLD), "--as-of", "01/08/2020", code=2)
    assert "is not a date" in result.output


def test_eval_a_missing_data_file(tmp_path):
    run("eval", "gm_nafa_quick", "--data", tmp_path / "none.json", code=2)


def test_eval_a_huge_amount_is_not_a_traceback(tmp_path):
    text = NAFA.read_text("utf-8")
    text = text[: text.index("\ntests:")] + "\n"  # no embedded tests: the definition validates
    text = text.replace("  max_amount: 2500\n", "  max_amount: 100000000000000000000000000000\n")
    text = text.replace("amount: min(base_amount + per_member * count(members), max_amount)", "amount: max_amount")
    path = write(tmp_path / "huge.yaml", text)
    run("validate", path)
    run("eval", path, "--data", data_file(tmp_path, HOUSEHOLD), "--as-of", "2020-08-01", code=None)


# ---- test --------------------------------------------------------------------------------

def test_test_passing():
    output = run("test", "gm_nafa_quick").output
    assert output.count("PASS ") == 3
    assert "PASS household of 7 in Basse" in output
    assert output.rstrip().endswith("3 test case(s), 0 failed")


def test_test_verbose_shows_the_explanation():
    output = run("test", "-v", "gm_nafa_quick").output
    assert "ELIGIBLE" in output and "per cycle" in output


def test_test_a_broken_expectation_exits_1(tmp_path):
    path = nafa_with(tmp_path, "amounts: {nafa_quick: 2200}", "amounts: {nafa_quick: 2300}")
    result = run("test", path, code=1)
    assert "FAIL household of 7 in Basse" in result.output
    assert "E706 expected nafa_quick amount 2,300, got 2,200" in result.output
    assert "PASS household outside the poorest districts" in result.output
    assert result.output.rstrip().endswith("3 test case(s), 1 failed")


def test_test_counts_each_failed_case_once(tmp_path):
    path = nafa_with(tmp_path, "      eligible: true\n      amounts: {nafa_quick: 2200}\n",
                     "      eligible: false\n      amounts: {nafa_quick: 2300}\n")
    result = run("test", path, code=1)
    assert result.output.rstrip().endswith("3 test case(s), 1 failed")
    assert "E702" in result.output and "E706" in result.output


def test_test_a_definition_with_errors(tmp_path):
    path = nafa_with(tmp_path, "  currency: GMD\n", "  currency: gmd\n")
    result = run("test", path, code=1)
    assert "E205" in result.output and "has errors" in result.output


# ---- schema ------------------------------------------------------------------------------

def test_schema_is_valid_json_matching_the_schema_module():
    output = run("schema").output
    assert json.loads(output) == json.loads(json.dumps(SCHEMA))


def test_schema_to_a_file(tmp_path):
    target = tmp_path / "schema.json"
    result = run("schema", "-o", target)
    assert f"wrote {target}" in result.output
    assert json.loads(target.read_text("utf-8")) == json.loads(json.dumps(SCHEMA))


def test_schema_validates_the_example_like_the_compiler():
    from jsonschema import Draft202012Validator

    from openscheme.definitions.loader import load_yaml

    schema = json.loads(run("schema").output)
    data, _, _ = load_yaml(NAFA.read_text("utf-8"), str(NAFA))
    # JSON has no Decimal: give the validator what an editor would see
    assert list(Draft202012Validator(schema).iter_errors(json.loads(json.dumps(data, default=float)))) == []


def test_help_and_version():
    output = run("--help").output
    for command in ("validate", "clone", "explain", "eval", "test", "schema"):
        assert command in output
    assert run("--version").output.startswith("openscheme, version ")


def test_the_help_lists_each_command_on_its_own_line():
    out = CliRunner().invoke(main, ["--help"]).output
    lines = [line.strip() for line in out.splitlines()]
    for command in ("validate PATH...", "clone EXAMPLE NEW_CODE", "demo", "serve", "cycle SCHEME BENEFIT N ..."):
        assert any(line.startswith(f"openscheme {command}") for line in lines), (command, out)
