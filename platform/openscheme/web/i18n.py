"""Interface translations (Flask-Babel) and the user's language.

Interface text is marked with gettext in code and templates and translated in
`translations/<lang>/LC_MESSAGES/messages.po`. The .po files are compiled to .mo
on start into the instance folder when they changed, so a translator edits text
files only and no binary file lives in git. Scheme text (labels, reasons,
messages) comes from the YAML in the languages it declares.

Numbers and amounts are written the way the page's language writes them, by two template
filters every page can use (`numformat`: Babel): `{{ n|number }}` (1,234 / 1 234; `number(2)`:
exactly two decimals) and `{{ x|money }}` (1,234.50 / 1 234,50; none of the decimals when whole).
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app, request, session
from flask_babel import Babel
from flask_login import current_user

from .. import numformat

SOURCE = Path(__file__).resolve().parents[1] / "translations"


def compile_translations(target: Path) -> Path:
    for po in SOURCE.glob("*/LC_MESSAGES/messages.po"):
        mo = target / po.relative_to(SOURCE).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as f:
            catalog = read_po(f)
        with mo.open("wb") as f:
            write_mo(f, catalog)
    return target


def current_language() -> str:
    languages = current_app.config["LANGUAGES"]
    wanted = request.args.get("lang") if request else None
    if wanted in languages:
        return wanted
    if session.get("lang") in languages:
        return session["lang"]
    if getattr(current_user, "is_authenticated", False) and current_user.language in languages:
        return current_user.language
    return request.accept_languages.best_match(languages) or languages[0]


def init_babel(app) -> None:
    target = compile_translations(Path(app.instance_path) / "translations")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(target)
    Babel(app, locale_selector=current_language)
    app.add_template_filter(number_filter, "number")
    app.add_template_filter(money_filter, "money")


def number_filter(value, places: int | None = None) -> str:
    """A count or a figure in the page's language: 1,234 / 1 234 (`places`: that many decimals)."""
    return numformat.number(value, current_language(), places)


def money_filter(value) -> str:
    """An amount in the page's language: 1,234.50 / 1 234,50, and 2,500 / 2 500 when whole."""
    return numformat.money(value, current_language())
