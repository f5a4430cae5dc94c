"""Every interface text has its French translation.

Programme staff work in their own language: a text marked for translation in a template or in
the code but missing from `translations/fr/LC_MESSAGES/messages.po` shows up in English on a
French page. The strings are found the way pybabel would extract them (Babel's extractors).
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "platform" / "openscheme"
GETTEXT = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
METHODS = [("**/templates/**.html", "jinja2"), ("**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}, "**.html": {"extensions": "jinja2.ext.i18n"}}


def interface_texts() -> dict[str, str]:
    """msgid -> where it is first used. The JSON APIs mark their texts with `t` (api/views.py)."""
    found: dict[str, str] = {}
    for folder, keywords in ((PACKAGE, GETTEXT), (PACKAGE / "api", {**GETTEXT, "t": None}), (ROOT / "form_templates", GETTEXT)):
        for name, line, message, _comments, _context in extract_from_dir(str(folder), METHODS, OPTIONS, keywords=keywords):
            text = message if isinstance(message, str) else message[0]
            if text:
                found.setdefault(text, f"{folder.name}/{name}:{line}")
    return found


def test_the_extraction_finds_the_interface_texts():
    texts = interface_texts()
    assert len(texts) > 500
    assert "Sign in" in texts or "Log in" in texts
    assert "There is no claim %(id)s." in texts  # from api/ via `t`


def test_every_interface_text_has_a_french_translation():
    with (PACKAGE / "translations" / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        french = read_po(f)
    missing = [f"{where}: {text!r}" for text, where in interface_texts().items()
               if not (french.get(text) and french.get(text).string)]
    assert not missing, "not translated into French:\n" + "\n".join(missing)


PGETTEXT = {"pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2), "_p": ((1, "c"), 2)}


def contextual_texts() -> dict[tuple[str, str], str]:
    """(context, msgid) -> where it is first used: words kept apart by a context (pgettext), such as the
    state of a claim or a policy ("soumise", feminine) and the same English word elsewhere."""
    found: dict[tuple[str, str], str] = {}
    for name, line, message, _comments, context in extract_from_dir(str(PACKAGE), METHODS, OPTIONS, keywords=PGETTEXT):
        if message and context:
            found.setdefault((context, message), f"{name}:{line}")
    return found


def test_every_text_with_a_context_has_a_french_translation():
    with (PACKAGE / "translations" / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        french = read_po(f)
    texts = contextual_texts()
    assert ("claim or policy", "submitted") in texts and ("payment batch", "open") in texts
    missing = [f"{where}: {context} | {text!r}" for (context, text), where in texts.items()
               if not (french.get(text, context=context) and french.get(text, context=context).string)]
    assert not missing, "not translated into French:\n" + "\n".join(missing)
