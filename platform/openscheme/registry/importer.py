"""Bulk import of households and individuals from CSV and XLSX files.

File layout (docs/import.md): a header row of column names; one row per member.
Columns are the scheme's field names; `household_ref` groups the rows of one
household (its fields repeated on every row or given on the first one); `roles`
lists a member's roles ("head primary_recipient"). In an individual scheme each
row is one person.

Each row group goes through `validate_record` - the same validation as the form
and the API, so the same bad value gets the same code and message - then the
database checks of `Registry.register` (locations, unique fields), done for a
whole batch at a time. A bad group saves nothing and is reported row by row;
good groups are saved.

Re-importing a file adds nothing: every saved group gets an `import_key` (the
scheme's unique unit field values or, when there are none, a SHA-256 fingerprint
of the normalised group), the database refuses a second row with the same key,
and a group whose key exists is reported as "already imported".

Built for a million rows: the file is streamed (csv module, openpyxl read_only)
and handled in batches of a few thousand rows. A batch is validated and turned
into rows in this thread while the previous one is written by a second thread
(COPY on PostgreSQL, multi-row INSERTs on SQLite; households first, then members
with their household ids), so that the database works while Python validates. A
batch is first written without looking anything up, inside a savepoint, its
report lines kept back: the unique indexes refuse what the look-ups would have
found, and then the batch is done again the careful way (one round of IN queries,
then one group at a time) - the report is the same either way. Batches are
committed in file order (PostgreSQL each, SQLite every 25,000 rows), so an
interrupted import keeps what it saved and re-running it completes it. One audit
entry records the whole import. Why each of these: docs/ARCHITECTURE.md, "Bulk
import speed".
"""

from __future__ import annotations

import base64
import csv
import difflib
import gc
import hashlib
import io
import itertools
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path

import orjson
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import IntegrityError

from ..definitions.model import Scheme
from ..evaluation.messages import message
from ..evaluation.records import TEXT_TYPES, FieldError, validate_record
from ..storage.indexes import CODE_RE, index_name, unique_indexes_present
from ..storage.jsonpath import field_sql
from ..storage.models import Household, Individual, Location
from . import audit
from .service import Registry, home_place, location_fields
from .values import _encode, to_storage

HOUSEHOLD_REF = "household_ref"
SQLITE_COMMIT_ROWS = 25_000
ROLES = "roles"
ROLE_SPLIT = re.compile(r"[\s,;]+")

MESSAGES = {
    "already_imported": {"en": "Already imported ({uid}).", "fr": "Déjà importé ({uid})."},
    "repeated_in_file": {"en": "The same record is already in this file (row {row}); it is imported once.",
                         "fr": "Le même enregistrement figure déjà dans ce fichier (ligne {row}) ; il n'est importé qu'une fois."},
    "ref_missing": {"en": "Give the household's reference (household_ref) on every row.",
                    "fr": "Indiquez la référence du ménage (household_ref) sur chaque ligne."},
    "ref_not_consecutive": {"en": "The rows of household “{ref}” must follow each other (it also appears on row {row}).",
                            "fr": "Les lignes du ménage « {ref} » doivent se suivre (il apparaît aussi à la ligne {row})."},
    "conflicting_value": {"en": "Row {row} of the same household gives “{other}”: give the household's value once, or repeat it unchanged.",
                          "fr": "La ligne {row} du même ménage indique « {other} » : donnez la valeur du ménage une fois, ou répétez-la à l'identique."},
    "outside_area": {"en": "“{value}” is outside your area.", "fr": "« {value} » est en dehors de votre zone."},
    "no_ref_column": {"en": "The file needs a household_ref column: it groups the rows of each household.",
                      "fr": "Le fichier doit avoir une colonne household_ref : elle regroupe les lignes de chaque ménage."},
    "duplicate_column": {"en": "The column “{name}” appears twice.", "fr": "La colonne « {name} » apparaît deux fois."},
    "extra_cells": {"en": "This row has values beyond the last named column.",
                    "fr": "Cette ligne contient des valeurs au-delà de la dernière colonne nommée."},
    "empty_file": {"en": "The file is empty: the first row must name the columns.",
                   "fr": "Le fichier est vide : la première ligne doit nommer les colonnes."},
    "not_utf8": {"en": "The file is not UTF-8 text: save it as “CSV UTF-8” or as an Excel workbook (.xlsx).",
                 "fr": "Le fichier n'est pas du texte UTF-8 : enregistrez-le en « CSV UTF-8 » ou en classeur Excel (.xlsx)."},
    "bad_csv": {"en": "The file cannot be read as CSV: {detail}.", "fr": "Le fichier ne peut pas être lu comme un CSV : {detail}."},
    "bad_xlsx": {"en": "The file is not a readable Excel workbook (.xlsx).",
                 "fr": "Le fichier n'est pas un classeur Excel (.xlsx) lisible."},
    "bad_format": {"en": "Upload a .csv or .xlsx file.", "fr": "Envoyez un fichier .csv ou .xlsx."},
    "database": {"en": "The database refused the record: {detail}.", "fr": "La base de données a refusé l'enregistrement : {detail}."},
}


def import_message(key: str, lang: str | None, **params) -> str:
    texts = MESSAGES[key]
    return texts.get((lang or "en").split("_")[0], texts["en"]).format(**params)


# ---- the report ----------------------------------------------------------------------------


@dataclass
class Issue:
    """One line of the report: an error (the group was not saved) or a skipped group."""

    row: int
    column: str
    path: str
    code: str
    message: str
    status: str = "error"  # error | skipped

    def as_dict(self) -> dict:
        return asdict(self)


REPORT_COLUMNS = ("row", "column", "path", "code", "message", "status")


@dataclass
class ImportReport:
    scheme_code: str
    file_name: str
    rows: int = 0  # data rows read (blank rows are not counted)
    records: int = 0  # row groups: households, or persons in an individual scheme
    created: int = 0
    skipped: int = 0  # already imported
    failed: int = 0
    individuals: int = 0  # person rows written (members included)
    issues: list[Issue] = field(default_factory=list)
    issues_total: int = 0
    file_error: str | None = None
    seconds: float = 0.0
    max_issues: int = 10_000

    @property
    def ok(self) -> bool:
        return self.file_error is None and self.failed == 0

    def add(self, issue: Issue) -> None:
        self.issues_total += 1
        if len(self.issues) < self.max_issues:
            self.issues.append(issue)

    def counts(self) -> dict:
        return {"rows": self.rows, "records": self.records, "created": self.created, "skipped": self.skipped,
                "failed": self.failed, "individuals": self.individuals, "issues": self.issues_total}

    def as_dict(self) -> dict:
        return {"scheme": self.scheme_code, "file": self.file_name, **self.counts(),
                "file_error": self.file_error, "seconds": round(self.seconds, 3),
                "issues_truncated": self.issues_total > len(self.issues),
                "report": [i.as_dict() for i in self.issues]}

    def write_csv(self, out) -> None:
        writer = csv.writer(out)
        writer.writerow(REPORT_COLUMNS)
        for issue in self.issues:
            writer.writerow(issue_row(issue))

    def csv_text(self) -> str:
        buffer = io.StringIO()
        self.write_csv(buffer)
        return buffer.getvalue()


def issue_row(issue: Issue) -> list:
    return [issue.row, issue.column, issue.path, issue.code, issue.message, issue.status]


class ImportFileError(Exception):
    """The file cannot be imported at all (unreadable, or its header is wrong)."""

    def __init__(self, message: str, *, row: int = 1, column: str = "", code: str = ""):
        super().__init__(message)
        self.message, self.row, self.column, self.code = message, row, column, code


# ---- reading rows --------------------------------------------------------------------------


def _text_stream(source):
    if isinstance(source, (str, Path)):
        return open(source, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by the caller
    if isinstance(source, io.TextIOBase):
        return source
    return io.TextIOWrapper(source, encoding="utf-8-sig", newline="")


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def csv_rows(source, lang: str = "en") -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """Header and (row number, cells) of a CSV file; the delimiter (, ; or tab) is detected."""
    stream = _text_stream(source)
    try:
        first = stream.readline()
    except UnicodeDecodeError:
        raise ImportFileError(import_message("not_utf8", lang)) from None
    if not first.strip():
        raise ImportFileError(import_message("empty_file", lang))
    reader = csv.reader(itertools.chain([first], stream), delimiter=_delimiter(first))
    header = next(reader)

    def rows():
        number = 1
        try:
            for cells in reader:
                number += 1
                yield number, cells
        except UnicodeDecodeError:
            raise ImportFileError(import_message("not_utf8", lang), row=number + 1) from None
        except csv.Error as exc:
            raise ImportFileError(import_message("bad_csv", lang, detail=exc), row=number + 1) from None

    return header, rows()


def cell_text(value) -> str:
    """An XLSX cell as the text a CSV would hold: dates ISO, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == dtime(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def xlsx_rows(source, lang: str = "en") -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """Header and rows of the first worksheet, read in openpyxl's streaming (read_only) mode."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        header_cells = next(values, None)
    except Exception:  # noqa: BLE001 - zipfile, XML and openpyxl errors all mean "not a workbook"
        raise ImportFileError(import_message("bad_xlsx", lang)) from None
    if header_cells is None:
        workbook.close()
        raise ImportFileError(import_message("empty_file", lang))

    def rows():
        try:
            for number, cells in enumerate(values, start=2):
                yield number, [cell_text(v) for v in cells]
        finally:
            workbook.close()

    return [cell_text(v) for v in header_cells], rows()


def open_rows(source, file_name: str, lang: str = "en"):
    suffix = Path(file_name or "").suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return xlsx_rows(source, lang)
    if suffix in (".csv", ".txt", ".tsv"):
        return csv_rows(source, lang)
    raise ImportFileError(import_message("bad_format", lang))


# ---- the import ----------------------------------------------------------------------------


class Group:
    """The rows of one household (or one person) being assembled from the file."""

    __slots__ = ("ref", "rows", "data", "members", "src", "issues")

    def __init__(self, ref: str, row: int, data: dict):
        self.ref = ref
        self.rows = [row]
        self.data = data
        self.members: list[dict] | None = None
        self.src: dict[str, int] = {}  # unit field -> row it was taken from, when not the first
        self.issues: list[Issue] = []


class _Batch:
    """A validated batch on its way to the database."""

    __slots__ = ("rows_read", "valid", "refused", "checked", "rows", "future", "outcome")

    def __init__(self, rows_read: int):
        self.rows_read = rows_read  # rows of the file read up to the end of this batch (for progress)
        self.valid: list[_Valid] = []
        self.refused: list[tuple] = []  # (fail, group, issues) of the groups validation refused
        self.checked: tuple | None = None  # Importer.check_batch
        self.rows: _Rows | None = None  # Importer.build_rows
        self.future: Future | None = None
        self.outcome: tuple | None = None


class _Rows:
    """Rows ready to write: persons (an individual scheme), or households and their members."""

    __slots__ = ("persons", "units")

    def __init__(self, persons: list, units: list | None = None):
        self.persons = persons
        self.units = units


class _Valid:
    """A group that passed validation: its typed values, members' roles and stored form."""

    __slots__ = ("group", "values", "roles", "unit_data", "key", "path")

    def __init__(self, group: Group, values: dict, roles: list, unit_data: dict):
        self.group = group
        self.values = values
        self.roles = roles
        self.unit_data = unit_data
        self.key = ""
        self.path = "/"


def _storer(fields) -> Callable[[dict], dict]:
    """`values.to_storage` for validated values of these fields, made fast: text, whole numbers and yes/no come out of
    the validation as str, int and bool, which are stored as they are; only the other fields
    (dates, decimals, lists, GPS, computed values) are looked at one by one."""
    plain = TEXT_TYPES | {"integer", "boolean"}
    others = tuple(f.name for f in fields if f.type not in plain or f.calculate is not None)

    def stored(values: dict) -> dict:
        out = {key: value for key, value in values.items() if value is not None}
        out.pop("members", None)
        for key in others:
            value = out.get(key)
            if value is not None:
                kind = type(value)
                if kind is date:
                    out[key] = value.isoformat()
                elif not (kind is str or kind is int or kind is bool):
                    out[key] = _encode(value)
        return out

    return stored


def _uids(prefix: str, n: int) -> list[str]:
    """n record ids like `service.new_uid` (prefix + 10 Crockford base-32 characters), drawn in one go."""
    raw = base64.b32encode(os.urandom(10 * n)).translate(_B32_TO_CROCKFORD).decode("ascii")
    return [prefix + raw[i * 16:i * 16 + 10] for i in range(n)]


_B32_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", b"0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def _within(path: str, scopes: list[str] | None) -> bool:
    return scopes is None or "/" in scopes or any(path.startswith(p) for p in scopes)


class Importer:
    """Import one file into one scheme; `run` returns the report.

    scope_paths: the location subtrees where the user may register ('/' or None = everywhere).
    progress(rows_done) is called after every batch; issue_sink(issue) receives every issue
    (the report itself keeps the first `max_issues`).
    """

    def __init__(self, session, catalog, scheme_code: str, *, user=None, lang: str = "en", ip: str = "",
                 scope_paths: list[str] | None = None, batch_rows: int = 5000,
                 progress: Callable[[int], None] | None = None, issue_sink: Callable[[Issue], None] | None = None,
                 max_issues: int = 10_000, commit: bool = True, as_of: date | None = None):
        self.session = session
        self.catalog = catalog
        self.scheme: Scheme = catalog.current(scheme_code)
        if self.scheme is None:
            raise KeyError(scheme_code)
        self.version_id = catalog.version_id(scheme_code)
        self.user = user
        self.user_id = getattr(user, "id", None)
        self.lang = lang
        self.ip = ip
        self.scope_paths = scope_paths
        self.batch_rows = batch_rows
        self.progress = progress
        self.issue_sink = issue_sink
        self.max_issues = max_issues
        self.commit = commit
        self.as_of = as_of or date.today()
        self.registry = Registry(session, catalog, user, lang, ip)
        self.dialect = session.get_bind().dialect.name
        self.household = self.scheme.is_household
        self.unit_model = Household if self.household else Individual
        self.unit_unique = [f for f in self.scheme.fields if f.unique]
        self.member_unique = [f for f in self.scheme.member_fields if f.unique]
        self.has_locations = any(f.type == "location" for f in self.scheme.fields + self.scheme.member_fields)
        # a scheme without location fields: the records go to the importer's area, if limited to one
        self.home = home_place(session, self.scheme, scope_paths)
        self.report: ImportReport | None = None
        self._analyze_at = 0  # rows written at which to refresh the planner's statistics next
        self.integrity_errors = (IntegrityError, session.get_bind().dialect.dbapi.IntegrityError)
        self._local = threading.local()  # report lines kept back while a thread checks a batch optimistically
        self._optimistic: bool | None = None
        self._writer: ThreadPoolExecutor | None = None
        # SQLite writes every page a transaction changed to its log at commit: with a dozen indexes
        # a batch changes pages all over them, so it commits every 25,000 rows (fewer, fuller writes);
        # PostgreSQL commits every batch. The import ends with a commit either way (with its audit entry).
        self.commit_rows = SQLITE_COMMIT_ROWS if self.dialect == "sqlite" else 0
        self._committed_rows = 0
        # each batch in a transaction of its own (PostgreSQL, committing): nothing else is in it
        self.batch_transactions = self.commit and self.commit_rows == 0
        self.stored_unit = _storer(self.scheme.fields)
        self._unit_unique_names = [f.name for f in self.unit_unique]
        self.stored_member = _storer(self.scheme.member_fields)

    # ---- header ---------------------------------------------------------------------------

    def columns(self, header: list[str]):
        scheme, lang = self.scheme, self.lang
        names = [str(h or "").strip().lower() for h in header]
        while names and not names[-1]:
            names.pop()
        unit_names = {f.name for f in scheme.fields}
        member_names = {f.name for f in scheme.member_fields}
        allowed = unit_names | member_names | ({HOUSEHOLD_REF, ROLES} if self.household else set())
        problems: list[ImportFileError] = []
        seen = set()
        for name in names:
            if not name:
                continue
            if name in seen:
                problems.append(ImportFileError(import_message("duplicate_column", lang, name=name), column=name))
            seen.add(name)
            if name not in allowed:
                close = difflib.get_close_matches(name, sorted(allowed), n=1, cutoff=0.6)
                hint = message("did_you_mean", lang, name=close[0]) if close else ""
                problems.append(ImportFileError(message("unknown_field", lang, name=name, hint=hint),
                                                column=name, code="E809"))
        if self.household and HOUSEHOLD_REF not in seen:
            problems.append(ImportFileError(import_message("no_ref_column", lang), column=HOUSEHOLD_REF, code="E801"))
        if problems:
            raise _HeaderErrors(problems)
        unit_cols = [(i, n) for i, n in enumerate(names) if n in unit_names]
        member_cols = [(i, n) for i, n in enumerate(names) if n in member_names]
        ref_idx = names.index(HOUSEHOLD_REF) if HOUSEHOLD_REF in names else None
        roles_idx = names.index(ROLES) if ROLES in names else None
        return len(names), unit_cols, member_cols, ref_idx, roles_idx

    # ---- grouping -------------------------------------------------------------------------

    def groups(self, header: list[str], rows: Iterable[tuple[int, list[str]]]) -> Iterator[Group]:
        """Row groups, in file order; counts rows in the report."""
        width, unit_cols, member_cols, ref_idx, roles_idx = self.columns(header)
        report, lang = self.report, self.lang
        if not self.household:
            for number, cells in rows:
                if len(cells) < width:
                    cells = cells + [""] * (width - len(cells))
                data = {name: v for i, name in unit_cols if (v := cells[i].strip())}
                if not data and not any(c.strip() for c in cells):
                    continue
                report.rows += 1
                group = Group("", number, data)
                if len(cells) > width and any(c.strip() for c in cells[width:]):
                    group.issues.append(Issue(number, "", "", "E809", import_message("extra_cells", lang)))
                yield group
            return
        closed: dict[str, int] = {}  # ref -> first row, for refs whose group is finished
        group: Group | None = None
        for number, cells in rows:
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            ref = cells[ref_idx].strip()
            member = {name: v for i, name in member_cols if (v := cells[i].strip())}
            if roles_idx is not None and (roles := cells[roles_idx].strip()):
                member[ROLES] = sorted(set(ROLE_SPLIT.split(roles)) - {""})
            if not ref and not member and not any(c.strip() for c in cells):
                continue  # a blank row
            report.rows += 1
            extra = len(cells) > width and any(c.strip() for c in cells[width:])
            if group is not None and ref and ref == group.ref:
                data = group.data
                for i, name in unit_cols:
                    v = cells[i].strip()
                    if not v:
                        continue
                    known = data.get(name)
                    if known is None:
                        data[name] = v
                        group.src[name] = number
                    elif known != v:
                        group.issues.append(Issue(number, name, name, "E808", import_message(
                            "conflicting_value", lang, row=group.src.get(name, group.rows[0]), other=known)))
                group.rows.append(number)
                group.members.append(member)
                if extra:
                    group.issues.append(Issue(number, "", "", "E809", import_message("extra_cells", lang)))
                continue
            if group is not None:
                if group.ref:
                    closed.setdefault(group.ref, group.rows[0])
                yield group
            group = Group(ref, number, {name: v for i, name in unit_cols if (v := cells[i].strip())})
            group.members = [member]
            if not ref:
                group.issues.append(Issue(number, HOUSEHOLD_REF, "", "E801", import_message("ref_missing", lang)))
            elif ref in closed:
                group.issues.append(Issue(number, HOUSEHOLD_REF, "", "E808", import_message(
                    "ref_not_consecutive", lang, ref=ref, row=closed[ref])))
            if extra:
                group.issues.append(Issue(number, "", "", "E809", import_message("extra_cells", lang)))
        if group is not None:
            yield group

    # ---- running --------------------------------------------------------------------------

    def run(self, source, file_name: str) -> ImportReport:
        started = time.perf_counter()
        report = self.report = ImportReport(self.scheme.code, file_name or "", max_issues=self.max_issues)
        gc_was_enabled = gc.isenabled()
        # the batches hold no reference cycles: the collector would only walk them again and again
        gc.disable()
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer") as writer:
                self._writer = writer
                try:
                    self.read_and_save(source, file_name)
                finally:
                    self._writer = None
        except _HeaderErrors as exc:
            report.file_error = "; ".join(p.message for p in exc.problems)
            for p in exc.problems:
                self.issue(Issue(p.row, p.column, p.column if p.code else "", p.code, p.message))
        except ImportFileError as exc:
            report.file_error = exc.message
            self.issue(Issue(exc.row, exc.column, "", exc.code, exc.message))
        finally:
            if gc_was_enabled:
                gc.enable()
        report.seconds = time.perf_counter() - started
        self.audit(report)
        if self.progress:
            self.progress(report.rows)
        return report

    def read_and_save(self, source, file_name: str) -> None:
        """Read the file in batches; each batch is validated while the one before is being written.

        Validation is plain Python; writing is mostly the database's work (PostgreSQL's server
        process, or SQLite's engine, which runs without Python's lock): in a second thread, the
        two overlap on two cores. Batches are still saved, committed and reported in file order.
        """
        report = self.report
        header, rows = open_rows(source, file_name, self.lang)
        _ = self.optimistic  # (looked up now: the writer thread will be using the connection)
        writing: _Batch | None = None
        batch: list[Group] = []
        batch_rows = 0
        try:
            for group in self.groups(header, rows):
                report.records += 1
                batch.append(group)
                batch_rows += len(group.rows)
                if batch_rows >= self.batch_rows:
                    ready = self.prepare(batch, report.rows)
                    previous, writing = writing, None
                    self.finish(previous)
                    writing = self.start(ready)
                    batch, batch_rows = [], 0
            if batch:
                ready = self.prepare(batch, report.rows)
                previous, writing = writing, None
                self.finish(previous)
                writing = self.start(ready)
        finally:
            previous, writing = writing, None
            self.finish(previous)  # also when the file turns out to be unreadable further down

    def issue(self, issue: Issue) -> None:
        self.report.add(issue)
        if self.issue_sink is not None:
            self.issue_sink(issue)

    def audit(self, report: ImportReport) -> None:
        detail = (f"{report.file_name}: {report.rows} rows, {report.created} created, {report.skipped} already "
                  f"imported, {report.failed} refused" + (f"; file error: {report.file_error}" if report.file_error else ""))
        audit.record(self.session, user=self.user, action="import", entity="household" if self.household else "individual",
                     scheme_code=self.scheme.code, after={"file": report.file_name, **report.counts()},
                     detail=detail[:2000], ip=self.ip)
        if self.commit:
            self.session.commit()
        else:
            self.session.flush()

    # ---- one batch ------------------------------------------------------------------------
    #
    # A batch is validated (`validate_record`, row group by row group), then checked against the
    # database - import keys already there, locations, the user's area, unique values - and saved.
    # The checks that look for rows already in the database find nothing in the common case (a new
    # file), and the database's unique indexes (on the import key and on every unique field) would
    # refuse the rows anyway. So a batch is first saved *optimistically*: checked without those
    # look-ups, written with COPY / executemany inside a savepoint, and its report lines kept back.
    # If the database refuses a row, the savepoint is rolled back, the kept lines are dropped and
    # the batch goes the careful way (`save_checked`: the look-ups, then one group at a time when
    # needed) - so the report is the same either way. Groups refused in the optimistic pass (a bad
    # location, a repeated unique value) are looked up before anything is kept: if one of them is
    # in the database already, the careful way decides.

    @property
    def _held(self) -> list | None:
        """The report lines kept back while this thread checks a batch optimistically (else None)."""
        return getattr(self._local, "held", None)

    def fail(self, group: Group, issues: list[Issue]) -> None:
        if self._held is not None:
            self._held.append((self.fail, group, issues))
            self._local.failed.append(group)
            return
        self.report.failed += 1
        for issue in issues:
            self.issue(issue)

    def locate(self, group: Group, error: FieldError) -> Issue:
        """The file row and column of a validation error (its path is the record's)."""
        path, row, column = error.path, group.rows[0], error.field
        if path.startswith("members["):
            end = path.index("]")
            index = int(path[8:end])
            if index < len(group.rows):
                row = group.rows[index]
            column = path[end + 2:] if len(path) > end + 2 else ""
        elif path == "members":
            column = ROLES if error.field == "roles" else HOUSEHOLD_REF
        elif path:
            row = group.src.get(path, row)
            column = path
        return Issue(row, column, path, error.code, error.message)

    def record_data(self, group: Group) -> dict:
        if group.members is None:
            return group.data
        return group.data | {"members": group.members}

    def save_batch(self, batch: list[Group]) -> None:
        """Validate and save one batch (in this thread)."""
        self.finish(self.start(self.prepare(batch, self.report.rows)))

    def prepare(self, batch: list[Group], rows_read: int) -> _Batch:
        """Validate the row groups; when the checks need no database (no location field), check them
        and build the rows to write too. No database work: this runs while the previous batch is
        being written."""
        scheme, lang, as_of = self.scheme, self.lang, self.as_of
        ready = _Batch(rows_read)
        for group in batch:
            data = group.data if group.members is None else group.data | {"members": group.members}
            checked = validate_record(scheme, data, as_of=as_of, lang=lang)
            if checked.errors or group.issues:
                ready.refused.append((self.fail, group, list(group.issues) + [self.locate(group, e) for e in checked.errors]))
                continue
            item = _Valid(group, checked.values, checked.member_roles, self.stored_unit(checked.values))
            item.key = self.import_key(item, data)
            ready.valid.append(item)
        if ready.valid and self.optimistic and not self.has_locations:
            ready.checked = self.check_batch(ready.valid)
            ready.rows = self.build_rows(ready.checked[2])
        return ready

    def start(self, ready: _Batch) -> _Batch:
        """Start saving a validated batch optimistically: in the writer thread when there is one."""
        if ready.valid and self.optimistic:
            if self._writer is not None:
                ready.future = self._writer.submit(self.save_optimistic, ready)
            else:
                ready.outcome = self.save_optimistic(ready)
        return ready

    def finish(self, ready: _Batch | None) -> None:
        """Wait for a batch started by `start`, then report it (or save it the careful way) and commit."""
        if ready is None:
            return
        outcome = ready.future.result() if ready.future is not None else ready.outcome
        for action, *args in ready.refused:
            action(*args)
        if outcome is not None:
            held, counts = outcome
            for action, *args in held:
                action(*args)
            self._count(counts)
        elif ready.valid:
            self.save_checked(ready.valid)
        if self.commit and ready.rows_read - self._committed_rows >= self.commit_rows:
            self.session.commit()
            self._committed_rows = ready.rows_read
        if self.progress:
            self.progress(ready.rows_read)

    @property
    def optimistic(self) -> bool:
        """Whether the database enforces what the look-ups check: the unique indexes of the scheme's
        unique fields exist (the import key's are part of the tables)."""
        if self._optimistic is None:
            self._optimistic = (self.dialect in ("postgresql", "sqlite")
                                and unique_indexes_present(self.session, self.scheme))
        return self._optimistic

    def save_checked(self, valid: list[_Valid]) -> None:
        """The careful way: look up what the database holds already, then insert."""
        self.refresh_statistics()
        valid = self.skip_imported(valid)
        if self.has_locations:
            valid = self.check_locations(valid)
        if self.scope_paths is not None and "/" not in self.scope_paths:
            valid = self.check_scope(valid)
        if self.unit_unique or self.member_unique:
            valid = self.check_unique(valid)
        if valid:
            self.insert(valid)

    def check_batch(self, valid: list[_Valid]) -> tuple[list, list, list[_Valid]]:
        """The careful way's checks without its look-ups: (report lines kept back, groups refused,
        groups to insert)."""
        local = self._local
        local.held, local.failed = [], []
        try:
            items = self.skip_imported(valid)
            if self.has_locations:
                items = self.check_locations(items)
            if self.scope_paths is not None and "/" not in self.scope_paths:
                items = self.check_scope(items)
            if self.unit_unique or self.member_unique:
                items = self.check_unique(items)
            return local.held, local.failed, items
        finally:
            local.held = local.failed = None

    def save_optimistic(self, ready: _Batch) -> tuple[list, tuple[int, int]] | None:
        """Insert the checked groups inside a savepoint. Returns the report lines kept back and the
        counts - or None, with nothing saved, when the database has one of the rows after all.
        Touches neither the report nor the callbacks: it may run in the writer thread."""
        if ready.checked is None:
            ready.checked = self.check_batch(ready.valid)
            ready.rows = self.build_rows(ready.checked[2])
        held, failed, items = ready.checked
        refused = {id(g) for g in failed}
        if refused and self.in_database([v for v in ready.valid if id(v.group) in refused]):
            return None
        counts = (0, 0)
        if items and self.batch_transactions:
            # the transaction holds this batch alone: no savepoint, and the commit right away, so that the
            # database is not idle while the other thread finishes validating the next batch
            try:
                counts = self.write_rows(ready.rows)
                self.session.commit()
            except self.integrity_errors:
                self.session.rollback()
                return None
        elif items:
            try:
                with self.session.begin_nested():
                    counts = self.write_rows(ready.rows)
            except self.integrity_errors:
                return None
        return held, counts

    def in_database(self, items: list[_Valid]) -> bool:
        """Whether the import key or a unique value of one of these groups is in the database."""
        self.refresh_statistics()
        if self.existing_keys([v.key for v in items]):
            return True
        return bool((self.unit_unique or self.member_unique) and self.existing_values(self.unique_values(items)))

    def refresh_statistics(self) -> None:
        """PostgreSQL: ANALYZE before looking rows up, once the rows written have doubled since the last one.

        A scheme's records can grow from none to a million within one import; with the statistics
        of the empty table the planner answers the batch look-ups (`expr IN (...)`) by scanning
        the whole scheme instead of using its unique index - quadratic time. A few ANALYZEs
        (a sample, not a scan) keep the look-ups on the indexes.
        """
        if self.dialect != "postgresql":
            return
        written = self.report.individuals + (self.report.created if self.household else 0)
        if written < self._analyze_at:
            return
        self.session.execute(text("ANALYZE households"))
        self.session.execute(text("ANALYZE individuals"))
        self._analyze_at = max(written * 2, self.batch_rows)

    def import_key(self, item: _Valid, data: dict) -> str:
        """The scheme's unique unit field values, or a fingerprint of the normalised input."""
        if self.unit_unique:
            parts = [(f.name, item.unit_data.get(f.name)) for f in self.unit_unique]
            parts = [(n, v) for n, v in parts if v is not None]
            if parts:
                raw = str(parts[0][1]) if len(self.unit_unique) == 1 else "\x1f".join(f"{n}={v}" for n, v in parts)
                return "u:" + raw if len(raw) <= 62 else "u:" + hashlib.sha256(raw.encode()).hexdigest()[:62]
        # computed fields are left out: they may change with the date (ages) and are not input
        return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
                              .encode("utf-8")).hexdigest()

    def existing_keys(self, keys) -> dict[str, str]:
        """{import key: uid} of the keys already in the database."""
        model = self.unit_model
        out: dict[str, str] = {}
        for chunk in _chunks(sorted(set(keys)), 5000):
            out.update(self.session.execute(select(model.import_key, model.uid).where(
                model.scheme_code == self.scheme.code, model.import_key.in_(chunk))).all())
        return out

    def skip_imported(self, valid: list[_Valid]) -> list[_Valid]:
        if not valid:
            return valid
        # (no look-up while a batch is saved optimistically: the database's constraint checks)
        existing = self.existing_keys([v.key for v in valid]) if self._held is None else {}
        out, first_row = [], {}
        for item in valid:
            uid = existing.get(item.key)
            row = item.group.rows[0]
            if uid is not None:
                self.skip(item, import_message("already_imported", self.lang, uid=uid))
            elif item.key in first_row:
                self.skip(item, import_message("repeated_in_file", self.lang, row=first_row[item.key]))
            else:
                first_row[item.key] = row
                out.append(item)
        return out

    def skip(self, item: _Valid, text_: str) -> None:
        if self._held is not None:
            self._held.append((self.skip, item, text_))
            return
        self.report.skipped += 1
        self.issue(Issue(item.group.rows[0], HOUSEHOLD_REF if self.household else "", "", "", text_, "skipped"))

    def check_locations(self, valid: list[_Valid]) -> list[_Valid]:
        wanted = set()
        fields = [f for f in self.scheme.fields + self.scheme.member_fields if f.type == "location"]
        for item in valid:
            wanted |= {item.values[f.name] for f in fields if f.scope == "unit" and item.values.get(f.name)}
            for member in item.values.get("members") or []:
                wanted |= {member[f.name] for f in fields if f.scope == "member" and member.get(f.name)}
        known = {}
        if wanted:
            rows = self.session.execute(select(Location.code, Location.level, Location.path)
                                        .where(Location.code.in_(list(wanted)))).all()
            known = {code: (level, path) for code, level, path in rows}
        out = []
        for item in valid:
            errors: list[FieldError] = []
            item.path = self.registry.check_locations(self.scheme, item.values, errors, known=known)
            if errors:
                self.fail(item.group, [self.locate(item.group, e) for e in errors])
            else:
                out.append(item)
        return out

    def check_scope(self, valid: list[_Valid]) -> list[_Valid]:
        if self.home is not None:
            for item in valid:
                item.path = self.home.path
            return valid
        out = []
        place = next(iter(location_fields(self.scheme)), None)
        for item in valid:
            if _within(item.path, self.scope_paths):
                out.append(item)
                continue
            name = place.name if place else ""
            value = item.values.get(name, item.path) if name else item.path
            self.fail(item.group, [Issue(item.group.rows[0], name, name, "E807",
                                         import_message("outside_area", self.lang, value=value))])
        return out

    def unique_values(self, valid: list[_Valid]) -> list[tuple]:
        """(item, table, field, stored value as text, path) of every unique value of the groups."""
        return [(item, *check) for item in valid for check in self.unique_checks(item)]

    def unique_checks(self, item: _Valid) -> list[tuple]:
        """(table, field, stored value as text, path) of the group's unique values."""
        unit_table = "households" if self.household else "individuals"
        data = item.unit_data
        checks = [(unit_table, name, str(value), name) for name in self._unit_unique_names
                  if (value := data.get(name)) is not None]
        if self.member_unique:
            for i, member in enumerate(item.values.get("members") or []):
                for f in self.member_unique:
                    value = member.get(f.name)
                    if value is not None:
                        stored = to_storage({f.name: value})[f.name]
                        checks.append(("individuals", f.name, str(stored), f"members[{i}].{f.name}"))
        return checks

    def existing_values(self, wanted: list[tuple]) -> dict[tuple, str]:
        """{(table, field, value): uid} of the unique values already in the database (the scheme's)."""
        by_field: dict[tuple, set] = {}
        for _item, table, name, value, _path in wanted:
            by_field.setdefault((table, name), set()).add(value)
        existing: dict[tuple, str] = {}
        # the scheme code is written into the SQL (it matches CODE_RE) so that the planner can use the
        # partial unique index `... WHERE scheme_code = '<code>'` even with a generic plan; SQLite is
        # told to use it (with a long IN list it would rather scan the scheme's rows)
        code = self.scheme.code
        if not CODE_RE.match(code):
            raise ValueError(f"unexpected scheme code {code!r}")
        for (table, name), values in by_field.items():
            expr = field_sql(table, name, self.dialect)
            hint = f" INDEXED BY {index_name('ux', table, code, name)}" if self.dialect == "sqlite" else ""
            sql = text(f"SELECT uid, {expr} AS v FROM {table}{hint} WHERE scheme_code = '{code}' AND {expr} IN :values"
                       ).bindparams(bindparam("values", expanding=True))
            for chunk in _chunks(sorted(values), 1000):
                for uid, v in self.session.execute(sql, {"values": chunk}):
                    existing[(table, name, str(v))] = uid
        return existing

    def check_unique(self, valid: list[_Valid]) -> list[_Valid]:
        """One IN query per unique field for the batch (none while a batch is saved optimistically: the
        unique indexes check); repeats within the file are caught too."""
        existing: dict[tuple, str] = {}
        if self._held is None:
            wanted = self.unique_values(valid)
            if not wanted:
                return valid
            existing = self.existing_values(wanted)
        seen: dict[tuple, tuple] = {}  # (table, field, value) -> (item, path) of the group holding it
        out = []
        for item in valid:
            checks = self.unique_checks(item)
            errors = []
            for table, name, value, path in checks:
                key = (table, name, value)
                holder = existing.get(key)
                if holder is None and key in seen:
                    holder = self._row_label(*seen[key])
                if holder is not None:
                    errors.append(FieldError(path, name, "E811", self.registry._dup_message(value, holder)))
            if errors:
                # a refused group's values do not block later groups
                self.fail(item.group, [self.locate(item.group, e) for e in errors])
                continue
            for table, name, value, path in checks:
                seen[(table, name, value)] = (item, path)
            out.append(item)
        return out

    def _row_label(self, item: _Valid, path: str) -> str:
        row = item.group.rows[0]
        if path.startswith("members["):
            index = int(path[8:path.index("]")])
            row = item.group.rows[index] if index < len(item.group.rows) else row
        return import_message_row(self.lang, row)

    # ---- writing --------------------------------------------------------------------------

    def insert(self, valid: list[_Valid]) -> None:
        try:
            with self.session.begin_nested():
                self._count(self._insert_many(valid))
            return
        except self.integrity_errors:
            pass  # another import or registration won a race, or an id collided: one group at a time
        for item in valid:
            for attempt in range(2):
                try:
                    with self.session.begin_nested():
                        self._count(self._insert_many([item]))
                    break
                except self.integrity_errors as exc:
                    if attempt == 0 and self._uid_clash(exc):
                        continue
                    self._classify_refused(item, exc)
                    break

    def _count(self, counts: tuple[int, int]) -> None:
        self.report.created += counts[0]
        self.report.individuals += counts[1]

    @staticmethod
    def _uid_clash(exc: Exception) -> bool:
        detail = str(getattr(exc, "orig", exc)).lower()
        return "uid" in detail and "import_key" not in detail

    def _classify_refused(self, item: _Valid, exc: Exception) -> None:
        model = self.unit_model
        uid = self.session.scalar(select(model.uid).where(model.scheme_code == self.scheme.code,
                                                          model.import_key == item.key))
        if uid is not None:
            self.skip(item, import_message("already_imported", self.lang, uid=uid))
            return
        errors = self.registry.find_duplicates(self.scheme, item.values)
        if not errors:
            detail = str(getattr(exc, "orig", exc)).splitlines()[0][:200]
            errors = [FieldError("", "", "E811", import_message("database", self.lang, detail=detail))]
        self.fail(item.group, [self.locate(item.group, e) for e in errors])

    def _location_code(self, values: dict) -> str | None:
        if self.home is not None:
            return self.home.code
        return self.registry._location_code(self.scheme, values) if self.has_locations else None

    def _insert_many(self, valid: list[_Valid]) -> tuple[int, int]:
        return self.write_rows(self.build_rows(valid))

    def build_rows(self, valid: list[_Valid]) -> _Rows:
        """The rows to write for the groups, with the columns and values the ORM would write (no
        database work: households get their ids in `write_rows`, members their household's)."""
        code, version, user_id = self.scheme.code, self.version_id, self.user_id
        encode = _JSON
        location = self._location_code
        if not self.household:
            return _Rows([(uid, code, version, None, 0, "[]", encode(item.unit_data), location(item.values), item.path,
                           True, user_id, 1, item.key) for uid, item in zip(_uids("P", len(valid)), valid, strict=True)])
        units = [(uid, code, version, encode(item.unit_data), location(item.values), item.path, True, user_id, 1, item.key)
                 for uid, item in zip(_uids("H", len(valid)), valid, strict=True)]
        members = []
        stored_member = self.stored_member
        for k, (unit, item) in enumerate(zip(units, valid, strict=True)):
            roles = item.roles
            location_code, location_path = unit[4], unit[5]
            for i, member in enumerate(item.values.get("members") or []):
                # household_id holds the household's index in `units` until write_rows knows its id
                members.append([None, code, version, k, i, encode(list(roles[i]) if i < len(roles) else []),
                                encode(stored_member(member)), location_code, location_path, True, user_id, 1, None])
        for member, uid in zip(members, _uids("P", len(members)), strict=True):
            member[0] = uid
        return _Rows(members, units)

    def write_rows(self, rows: _Rows) -> tuple[int, int]:
        """Write built rows (households first, then their members); returns (records, persons) written.
        PostgreSQL: COPY; SQLite: executemany on the driver's cursor; either way inside the session's
        transaction."""
        conn = self.session.connection()
        if rows.units is None:
            self._write(conn, "individuals", PERSON_COLUMNS, rows.persons)
            return len(rows.persons), len(rows.persons)
        units = rows.units
        if not units:
            return 0, 0
        if self.dialect == "postgresql":
            # ids drawn from the sequence in one query
            ids = conn.execute(text("SELECT nextval(pg_get_serial_sequence('households', 'id')) "
                                    "FROM generate_series(1, :n)"), {"n": len(units)}).scalars().all()
            self._write(conn, "households", ("id", *HOUSEHOLD_COLUMNS),
                        [(i, *unit) for i, unit in zip(ids, units, strict=True)])
        else:
            # SQLite gives the first household its id; from then on this transaction holds the write
            # lock, so the ids that follow it are free
            cursor = self._cursor(conn)
            try:
                first = cursor.execute(_insert_sql("households", HOUSEHOLD_COLUMNS), units[0]).lastrowid
            finally:
                cursor.close()
            ids = range(first, first + len(units))
            self._write(conn, "households", ("id", *HOUSEHOLD_COLUMNS),
                        [(i, *unit) for i, unit in zip(ids[1:], units[1:], strict=True)])
        persons = rows.persons
        for member in persons:
            member[3] = ids[member[3]]
        self._write(conn, "individuals", PERSON_COLUMNS, persons)
        rows.persons = None  # the household indexes are ids now: written once
        return len(units), len(persons)

    @staticmethod
    def _cursor(conn):
        return conn.connection.driver_connection.cursor()

    def _write(self, conn, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        cursor = self._cursor(conn)
        try:
            if self.dialect == "postgresql":
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    write = copy.write_row
                    for row in rows:
                        write(row)
            else:
                # many rows per INSERT: SQLite inserts them all in one step, without Python's lock
                # (executemany takes it back after every row, and waits for it while the other thread
                # validates). Chunks of 2^k rows, as many as the statement may have parameters: a few
                # distinct statements, which the driver's statement cache keeps
                width = len(columns)
                most = min(1024, cursor.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width)
                one = "(" + ", ".join("?" * width) + ")"
                head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                start = 0
                while start < len(rows):
                    size = most if len(rows) - start >= most else 1 << ((len(rows) - start).bit_length() - 1)
                    size = max(1, min(size, most))
                    chunk = rows[start:start + size]
                    cursor.execute(head + ", ".join([one] * size), list(itertools.chain.from_iterable(chunk)))
                    start += size
        finally:
            cursor.close()


# the columns the ORM writes on insert (created_at comes from the database's default)
HOUSEHOLD_COLUMNS = ("uid", "scheme_code", "scheme_version_id", "data", "location_code", "location_path", "active",
                     "created_by", "row_version", "import_key")
PERSON_COLUMNS = ("uid", "scheme_code", "scheme_version_id", "household_id", "position", "roles", "data",
                  "location_code", "location_path", "active", "created_by", "row_version", "import_key")


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


_PLAIN_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def _JSON(value) -> str:
    """Compact JSON text of a stored value, as the json module writes it, ten times faster (orjson);
    the json module only for what orjson refuses (an integer beyond 64 bits)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _PLAIN_JSON(value)


class _HeaderErrors(Exception):
    def __init__(self, problems: list[ImportFileError]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def import_message_row(lang: str, row: int) -> str:
    return ("ligne " if (lang or "").startswith("fr") else "row ") + str(row)


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def template_header(scheme: Scheme) -> list[str]:
    """The columns of an import file for the scheme, in declaration order (computed fields left out)."""
    unit = [f.name for f in scheme.fields if f.type != "calculate"]
    if not scheme.is_household:
        return unit
    members = [f.name for f in scheme.member_fields if f.type != "calculate"]
    return [HOUSEHOLD_REF, *unit, *members, ROLES]


def import_file(session, catalog, scheme_code: str, path, **kwargs) -> ImportReport:
    """Import a file from disk (the CLI's entry point)."""
    path = Path(path)
    importer = Importer(session, catalog, scheme_code, **kwargs)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        with path.open("rb") as f:
            return importer.run(f, path.name)
    with path.open("r", encoding="utf-8-sig", newline="") as f:
        return importer.run(f, path.name)


__all__ = ["ImportFileError", "ImportReport", "Importer", "Issue", "REPORT_COLUMNS", "cell_text", "import_file",
           "issue_row", "template_header"]
