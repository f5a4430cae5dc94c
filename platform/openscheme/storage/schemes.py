"""Scheme versions at run time: load definitions into the database, serve compiled schemes.

On start and on `openscheme load`, every definition is compiled; a text never
seen before (by content hash) becomes a new `SchemeVersion` and the current one
for its code. A file with errors is reported and skipped: the previous version
stays current, so a typo never takes a running scheme down. Records keep the
version they were captured under; `by_version` compiles an old text on demand
so they stay readable after the scheme changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock

from sqlalchemy import select, update

from ..definitions import compile_file, compile_text
from ..definitions.diagnostics import Diagnostic
from ..definitions.model import Scheme
from .indexes import ensure_declared_indexes
from .models import SchemeVersion


@dataclass
class LoadReport:
    loaded: list[str] = field(default_factory=list)  # "code vN (new version)"
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, list[Diagnostic]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


class SchemeCatalog:
    """Compiled schemes by code (current version) and by stored version id."""

    def __init__(self, database):
        self.db = database
        self._by_version: dict[int, Scheme] = {}
        self._current: dict[str, int] = {}
        self._lock = Lock()

    # ---- loading ----------------------------------------------------------------------

    def load_paths(self, paths: list[Path]) -> LoadReport:
        report = LoadReport()
        files: list[Path] = []
        for p in paths:
            p = Path(p)
            if p.is_dir():
                files += sorted(x for x in p.iterdir() if x.suffix in (".yaml", ".yml"))
            elif p.is_file():
                files.append(p)
        for path in files:
            result = compile_file(path)
            if not result.ok:
                report.failed[str(path)] = result.errors
                continue
            self._store(result.scheme, path.name, report)
        self.refresh()
        return report

    def _store(self, scheme: Scheme, file_name: str, report: LoadReport) -> None:
        with self.db.session_factory() as session, session.begin():
            existing = session.scalar(select(SchemeVersion).where(
                SchemeVersion.code == scheme.code, SchemeVersion.content_hash == scheme.content_hash))
            if existing is not None:
                if not existing.is_current:
                    session.execute(update(SchemeVersion).where(SchemeVersion.code == scheme.code)
                                    .values(is_current=False))
                    existing.is_current = True
                report.unchanged.append(f"{scheme.code} v{scheme.version}")
            else:
                session.execute(update(SchemeVersion).where(SchemeVersion.code == scheme.code).values(is_current=False))
                session.add(SchemeVersion(code=scheme.code, version=scheme.version, content_hash=scheme.content_hash,
                                          title=scheme.title.get(), file_name=file_name, yaml_text=scheme.text,
                                          is_current=True))
                report.loaded.append(f"{scheme.code} v{scheme.version}")
            ensure_declared_indexes(session.connection(), scheme)

    def refresh(self) -> None:
        with self.db.session_factory() as session:
            rows = session.execute(select(SchemeVersion.id, SchemeVersion.code).where(SchemeVersion.is_current)).all()
        with self._lock:
            self._current = {code: vid for vid, code in rows}

    # ---- serving ----------------------------------------------------------------------

    def codes(self) -> list[str]:
        return sorted(self._current)

    def version_id(self, code: str) -> int | None:
        return self._current.get(code)

    def current(self, code: str) -> Scheme | None:
        vid = self._current.get(code)
        return self.by_version(vid) if vid is not None else None

    def by_version(self, version_id: int) -> Scheme | None:
        scheme = self._by_version.get(version_id)
        if scheme is not None:
            return scheme
        with self.db.session_factory() as session:
            row = session.get(SchemeVersion, version_id)
            if row is None:
                return None
            result = compile_text(row.yaml_text, row.file_name, run_tests=False)
        if result.scheme is None:
            return None
        with self._lock:
            self._by_version[version_id] = result.scheme
        return result.scheme

    def all_current(self) -> list[Scheme]:
        return [s for s in (self.current(c) for c in self.codes()) if s is not None]
