"""Finding our English on a French page, from the message catalogues themselves.

A catalogue entry is {"en": ..., "fr": ...}. The pieces of the English text between its
placeholders that its French does not contain are what a French page must never show: a text
added later in English only is caught too, without a list of phrases to keep up to date.
"""

from __future__ import annotations

import re

# placeholders (%(name)s, {name}, {name:spec}) and punctuation split a text into pieces
_SPLIT = re.compile(r"%\(\w+\)s|\{[^}]*\}|[;:,()“”=×±%#]")


class EnglishLeft:
    def __init__(self, entries):
        self.fragments = set()
        for texts in entries:
            french = texts["fr"].lower()
            for piece in _SPLIT.split(texts["en"].lower()):
                piece = piece.strip(" .-−")
                if len(piece) >= 5 and re.search(r"[a-z]{3}", piece) and piece not in french:
                    self.fragments.add(piece)

    def on(self, page: str) -> list[str]:
        """The fragments found in the page, each as whole words (not inside a longer word or a name)."""
        page = page.lower()
        return sorted(f for f in self.fragments
                      if re.search(r"(?<![a-zà-ÿ_])" + re.escape(f) + r"(?![a-zà-ÿ_])", page))
