"""Numbers and money written the way the reader's language writes them.

    money(Decimal("1234567.5"), "en")  -> "1,234,567.50"
    money(Decimal("1234567.5"), "fr")  -> "1 234 567,50"   (narrow no-break spaces, decimal comma)
    money(Decimal("2500"), "fr")       -> "2 500"           (a whole amount has no decimals)
    decimal(Decimal("0.125"), "fr")    -> "0,125"           (every decimal it has, as formulas.show)
    number(1234, "fr")                 -> "1 234"

English is written as the interface always wrote it (Python's "," grouping); other languages
by Babel (CLDR). Pure: no Flask; the web pages use it through the `number` and `money`
template filters (`web/i18n.py`), which take the page's language.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.core import UnknownLocaleError
from babel.numbers import format_decimal


def base(lang: str | None) -> str:
    return (lang or "en").replace("-", "_").split("_")[0].lower() or "en"


def _decimal(value) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def _babel(d: Decimal, places: int, lang: str) -> str:
    pattern = "#,##0" + ("." + "0" * places if places > 0 else "")
    try:
        return format_decimal(d, format=pattern, locale=lang, decimal_quantization=True)
    except (UnknownLocaleError, ValueError, LookupError):  # a language Babel does not know: as in English
        return f"{d:,.{places}f}"


def money(value, lang: str | None = "en") -> str:
    """An amount: two decimals, none when it is whole. Not a number: as given; None: empty."""
    if value is None:
        return ""
    d = _decimal(value)
    if d is None:
        return str(value)
    lang = base(lang)
    if lang == "en":
        text = f"{d:,.2f}"
        return text[:-3] if text.endswith(".00") else text
    rounded = d.quantize(Decimal("0.01"))
    return _babel(rounded, 0 if rounded == rounded.to_integral_value() else 2, lang)


def decimal(value, lang: str | None = "en") -> str:
    """A number with all the decimals it has (a whole Decimal without any), as `formulas.show` writes it."""
    if isinstance(value, int) and not isinstance(value, bool):
        return number(value, lang)
    d = _decimal(value)
    if d is None:
        return "" if value is None else str(value)
    if d == d.to_integral_value():
        d = d.normalize()
    lang = base(lang)
    if lang == "en":
        return f"{d:,f}"
    exponent = d.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return _babel(d, places, lang)


def number(value, lang: str | None = "en", places: int | None = None) -> str:
    """A count (or any number) with the language's grouping; `places`: exactly that many decimals."""
    if value is None:
        return ""
    lang = base(lang)
    if places is not None:
        d = _decimal(value)
        if d is None:
            return str(value)
        return f"{d:,.{places}f}" if lang == "en" else _babel(d, places, lang)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if lang == "en" else _babel(Decimal(value), 0, lang)
    return decimal(value, lang)
