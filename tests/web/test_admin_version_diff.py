"""The scheme-version details page at /admin/scheme-versions: what changed from the version before,
first in meaning (the semantic diff of `analysis.diff`, in the reader's language, the same partial
as the versions page), then line by line; a stored text today's compiler rejects gets a note, not a
traceback, and its line diff all the same."""

from __future__ import annotations

import hashlib
import html
import re

import pytest
from sqlalchemy import delete

from conftest import EXAMPLES, login, make_user
from english_left import EnglishLeft
from openscheme.analysis.messages import MESSAGES
from openscheme.storage.models import SchemeVersion

CODE = "vdiff-test"
BASE = (EXAMPLES / "gm_nafa_quick.yaml").read_text(encoding="utf-8").replace("code: gm-nafa-quick", f"code: {CODE}")
RULE = "formula: district in poorest_districts\n"
# version 2: a field's label and an eligibility formula changed
CHANGED = (BASE.replace("label: {en: Village, fr: Village}", "label: {en: Village or town, fr: Village ou ville}")
           .replace(RULE, "formula: district in poorest_districts and count(members) >= 3\n", 1))
# an old text with a name today's compiler does not know
BROKEN = BASE.replace(RULE, "formula: distrct in poorest_districts\n", 1)
ENGLISH = EnglishLeft(MESSAGES.values())


def visible(page: str) -> str:
    page = re.sub(r"(?s)<script.*?</script>|<style.*?</style>|<head>.*?</head>", " ", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def section(page: str, start: str, end: str) -> str:
    """The part of the page between two markers (both must be there)."""
    i = page.index(start)
    return page[i:page.index(end, i)]


@pytest.fixture
def store(app):
    """store(text, ...) -> their ids: versions 1, 2, ... of CODE, loaded in that order (the last current);
    the texts all differ, as stored versions do."""
    db = app.extensions["openscheme"].db

    def add(*texts: str) -> list[int]:
        with db.session_factory() as s, s.begin():
            rows = [SchemeVersion(code=CODE, version=str(i), content_hash=hashlib.sha256(t.encode()).hexdigest(),
                                  title="Version diff test", file_name="vdiff.yaml", yaml_text=t,
                                  is_current=i == len(texts))
                    for i, t in enumerate(texts, 1)]
            for row in rows:  # one by one: ids in the order of the versions
                s.add(row)
                s.flush()
            return [r.id for r in rows]

    yield add
    with db.session_factory() as s, s.begin():
        s.execute(delete(SchemeVersion).where(SchemeVersion.code == CODE))


def details(client, version_id: int, query: str = "") -> str:
    r = client.get(f"/admin/scheme-versions/details/?id={version_id}{query}")
    assert r.status_code == 200
    return r.get_data(as_text=True)


@pytest.mark.parametrize("role", ["implementer", "administrator"])
def test_the_changes_in_meaning_come_before_the_line_diff(app, client, store, role):
    make_user(app, "reviewer", [(role, None, None)])
    login(client, "reviewer")
    _old, new = store(BASE, CHANGED)
    page = details(client, new)
    text = visible(page)
    meaning = visible(section(page, 'id="changes"', "Line by line (YAML)"))
    assert 'field village: label (en) "Village" → "Village or town"' in meaning
    assert 'field village: label (fr) "Village" → "Village ou ville"' in meaning
    assert ("eligibility rule poorest_district: formula `district in poorest_districts` → "
            "`district in poorest_districts and count(members) >= 3`") in meaning
    assert "Fields" in meaning and "Eligibility" in meaning  # the sections of the versions page
    assert "cannot be compared" not in text
    # then the line diff, as before
    for line in ("-    label: {en: Village, fr: Village}", "+    label: {en: Village or town, fr: Village ou ville}",
                 "-    formula: district in poorest_districts",
                 "+    formula: district in poorest_districts and count(members) >= 3"):
        assert line in text, line
    order = [text.index(t) for t in ("Changes in meaning", "field village: label", "Line by line (YAML)",
                                     "+    label: {en: Village or town", "Definition (YAML)")]
    assert order == sorted(order)
    # read-only: no form posts anything from this page
    assert "<form" not in section(page, "Changes from the previous version", "Definition (YAML)")


def test_a_french_reader_gets_the_changes_in_french(app, client, store):
    make_user(app, "responsable", [("implementer", None, None)], language="fr")
    login(client, "responsable")
    _old, new = store(BASE, CHANGED)
    page = details(client, new)
    text = visible(page)
    assert "Modifications depuis la version précédente" in text and "Changements de sens" in text
    meaning = visible(section(page, 'id="changes"', "Ligne par ligne (YAML)"))
    assert "champ village : libellé (fr) « Village » → « Village ou ville »" in meaning
    assert ("règle d'éligibilité poorest_district : formule `district in poorest_districts` → "
            "`district in poorest_districts and count(members) >= 3`") in meaning
    assert "Champs" in meaning and "Éligibilité" in meaning  # the section titles too
    words = re.sub(r"`[^`]*`", " ", meaning)  # but the formulas, which are the scheme's own
    assert not ENGLISH.on(words), ENGLISH.on(words)
    assert "+    label: {en: Village or town, fr: Village ou ville}" in text
    # the same page in English when asked for
    english = visible(details(client, new, "&lang=en"))
    assert "eligibility rule poorest_district: formula `district in poorest_districts`" in english


def test_a_version_that_no_longer_compiles_gets_a_note_and_its_line_diff(app, client, store):
    make_user(app, "reviewer", [("implementer", None, None)])
    make_user(app, "responsable", [("implementer", None, None)], language="fr")
    login(client, "reviewer")
    first, broken, fixed = store(BASE, BROKEN, BASE + "# fixed\n")

    text = visible(details(client, broken))
    assert ("This version cannot be compared field by field: vdiff.yaml:92:14: E410 unknown name 'distrct' "
            "(did you mean 'district'?)") in text
    assert "-    formula: district in poorest_districts" in text and "+    formula: distrct in poorest_districts" in text
    assert "Traceback" not in text and "No change in meaning" not in text

    text = visible(details(client, fixed))
    assert "The previous version (2) cannot be compared field by field: vdiff.yaml:92:14: E410 unknown name" in text
    assert "-    formula: distrct in poorest_districts" in text and "+    formula: district in poorest_districts" in text

    # version 1 against nothing: the first version, nothing to compare
    assert "first version of this scheme" in visible(details(client, first))

    client.post("/logout")
    login(client, "responsable")
    text = visible(details(client, broken))
    assert ("Cette version ne peut pas être comparée champ par champ : vdiff.yaml:92:14: E410 nom inconnu « distrct » "
            "(vouliez-vous dire « district » ?)") in text


def test_a_version_differing_only_in_comments_has_no_change_in_meaning(app, client, store):
    make_user(app, "reviewer", [("implementer", None, None)])
    login(client, "reviewer")
    _old, new = store(BASE, BASE + "# a comment at the end\n")
    text = visible(details(client, new))
    assert "No change in meaning." in text
    assert "+# a comment at the end" in text



@pytest.fixture
def restore(app):
    yield
    app.extensions["openscheme"].catalog.load_paths([EXAMPLES / "gm_nafa_quick.yaml"])


def test_the_version_being_served_is_compared_too(app, client, tmp_path, restore):
    """A definition loaded as usual (kept, as loaded versions are): the page reads the compiled
    scheme the catalogue serves."""
    make_user(app, "reviewer", [("implementer", None, None)])
    login(client, "reviewer")
    catalog = app.extensions["openscheme"].catalog
    served = catalog.current("gm-nafa-quick")
    path = tmp_path / "gm_nafa_quick.yaml"
    path.write_text(served.text.replace("label: {en: Village, fr: Village}", "label: {en: Town, fr: Ville}"),
                    encoding="utf-8")
    assert catalog.load_paths([path]).ok
    text = visible(details(client, catalog.version_id("gm-nafa-quick")))
    assert 'field village: label (en) "Village" → "Town"' in text and "cannot be compared" not in text
    assert "+    label: {en: Town, fr: Ville}" in text
