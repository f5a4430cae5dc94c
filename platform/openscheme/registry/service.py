"""Registering, updating, deactivating and reading households and individuals.

Every path that writes a beneficiary - the generated form, the JSON API, the bulk
import - goes through here, after `evaluation.records.validate_record`: one
validation, one de-duplication, one audit trail. Unique fields are enforced by the
database's unique indexes (so two officers pressing Save together still create
one): a new record is inserted inside a savepoint, and when the database refuses
it a query finds the existing record, so that the error can name it. (Without the
indexes - never the case for a loaded scheme - the query runs first.)
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ..definitions.model import Scheme
from ..evaluation.messages import message
from ..evaluation.records import FieldError, validate_record
from ..storage.indexes import CODE_RE, index_name, unique_indexes_present
from ..storage.jsonpath import field_sql
from ..storage.models import Household, Individual, Location
from . import audit
from .values import record_input, to_storage

UID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U


def member_storage(member: dict) -> dict:
    """A member's stored data: its declared fields (its roles live in their own column)."""
    return to_storage({k: v for k, v in member.items() if k != "roles"})


# A household and all its members in one statement (PostgreSQL): one round trip, and one statement
# text whatever the household's size, so psycopg and the server keep its parsed form and plan (a
# multi-row INSERT of 13 parameters a member was parsed again on every registration).
_HOUSEHOLD_WITH_MEMBERS = text("""
WITH h AS (
  INSERT INTO households (uid, scheme_code, scheme_version_id, data, location_code, location_path, active,
                          created_by, updated_at, row_version, import_key)
  VALUES (:uid, :scheme_code, :scheme_version_id, CAST(:data AS JSONB), :location_code, :location_path, TRUE,
          :created_by, NULL, 1, NULL)
  RETURNING id, created_at
), m AS (
  INSERT INTO individuals (uid, scheme_code, scheme_version_id, household_id, position, roles, data, location_code,
                           location_path, active, created_by, updated_at, row_version, import_key)
  SELECT r.uid, :scheme_code, :scheme_version_id, h.id, r.position, r.roles, r.data, :location_code, :location_path,
         TRUE, :created_by, NULL, 1, NULL
  FROM h, jsonb_to_recordset(CAST(:members AS JSONB)) AS r(uid text, position integer, roles jsonb, data jsonb)
  RETURNING uid, id, created_at
)
SELECT h.id, h.created_at, m.uid, m.id, m.created_at FROM h LEFT JOIN m ON TRUE
""")
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def _insert_household_postgresql(conn, row: dict, members: list[dict]) -> tuple[int, datetime, list[tuple]]:
    """Insert the household row and its members at once; returns the household's id and creation
    time, and (id, created_at) of each member in the order given."""
    params = {k: row[k] for k in ("uid", "scheme_code", "scheme_version_id", "location_code", "location_path",
                                  "created_by")}
    params["data"] = _COMPACT_JSON(row["data"])
    params["members"] = _COMPACT_JSON([{"uid": m["uid"], "position": m["position"], "roles": m["roles"],
                                        "data": m["data"]} for m in members])
    rows = conn.execute(_HOUSEHOLD_WITH_MEMBERS, params).all()
    by_uid = {uid: (m_id, m_created) for _h, _c, uid, m_id, m_created in rows if uid is not None}
    return rows[0][0], rows[0][1], [by_uid[m["uid"]] for m in members]


def home_place(session, scheme: Scheme, scope_paths: list[str] | None) -> Location | None:
    """Where a record of a scheme without location fields goes when its author is limited to an area
    (`scope_paths`, the area's paths; None or '/' = everywhere): that area, the first of several, so
    that they can see it afterwards. None when the scheme has location fields or the author is not
    limited. The form, the API (`web.permissions.home_place`) and the import use it."""
    if location_fields(scheme) or not scope_paths or "/" in scope_paths:
        return None
    return session.scalar(select(Location).where(Location.path == scope_paths[0]))


def new_uid(prefix: str) -> str:
    """prefix + 10 random Crockford base-32 characters (50 bits)."""
    return prefix + base64.b32encode(os.urandom(10)).translate(_B32_TO_CROCKFORD).decode("ascii")[:10]


_B32_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", UID_ALPHABET.encode("ascii"))


@dataclass
class SaveResult:
    record: Household | Individual | None = None
    errors: list[FieldError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.record is not None and not self.errors


def unique_lookup(scheme: Scheme, table: str, name: str, dialect: str):
    """The query for the record holding a unique field's value (:value), on the field's unique index.

    The index is partial (`WHERE scheme_code = '<code>'`): the query names the scheme with a
    literal so that the database can use it (SQLite never could with a parameter; PostgreSQL not
    with a generic plan), and SQLite is told to (without statistics it would rather walk every
    row of the scheme). The code matches CODE_RE, field names NAME_RE: safe in SQL text."""
    if not CODE_RE.match(scheme.code):
        raise ValueError(f"unexpected scheme code {scheme.code!r}")
    expr = field_sql(table, name, dialect)
    hint = f" INDEXED BY {index_name('ux', table, scheme.code, name)}" if dialect == "sqlite" else ""
    return text(f"SELECT id, uid FROM {table}{hint} WHERE scheme_code = '{scheme.code}' AND {expr} = :value")


def location_fields(scheme: Scheme):
    """Unit-level location fields, deepest level first (it decides the record's place)."""
    levels = list(scheme.location_levels)
    fields = [f for f in scheme.fields if f.type == "location"]
    return sorted(fields, key=lambda f: -levels.index(f.location_level) if f.location_level in levels else 0)


class Registry:
    def __init__(self, session, catalog, user=None, lang: str = "en", ip: str = ""):
        self.session = session
        self.catalog = catalog
        self.user = user
        self.lang = lang
        self.ip = ip

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    # ---- checks that need the database ---------------------------------------------------

    def check_locations(self, scheme: Scheme, values: dict, errors: list[FieldError],
                        known: dict | None = None) -> str:
        """Location fields must name a known location of the declared level; returns the record's path.

        `known` ({code: (level, path)}, preloaded for a whole batch by the bulk import) saves the query.
        """
        fields = [f for f in scheme.fields + scheme.member_fields if f.type == "location"]
        wanted = {values.get(f.name) for f in fields if f.scope == "unit" and values.get(f.name)}
        for member in values.get("members") or []:
            wanted |= {member.get(f.name) for f in fields if f.scope == "member" and member.get(f.name)}
        if known is None and wanted:
            rows = self.session.execute(select(Location.code, Location.level, Location.path)
                                        .where(Location.code.in_(wanted))).all()
            known = {code: (level, path) for code, level, path in rows}
        known = known or {}

        def check(f, value, path):
            hit = known.get(value)
            if hit is None or hit[0] != f.location_level:
                errors.append(FieldError(path, f.name, "E807", message("choice", self.lang, value=value)))

        for f in fields:
            if f.scope == "unit" and values.get(f.name):
                check(f, values[f.name], f.name)
        for i, member in enumerate(values.get("members") or []):
            for f in fields:
                if f.scope == "member" and member.get(f.name):
                    check(f, member[f.name], f"members[{i}].{f.name}")
        self.check_nesting(scheme, values, known, errors)
        for f in location_fields(scheme):
            value = values.get(f.name)
            if value in known:
                return known[value][1]
        return "/"

    def check_nesting(self, scheme: Scheme, values: dict, known: dict, errors: list[FieldError]) -> None:
        """A deeper place must lie inside the chosen higher one (a ward of the chosen district): E807."""
        levels = list(scheme.location_levels)
        valid = [f for f in location_fields(scheme) if f.location_level in levels
                 and known.get(values.get(f.name), ("", ""))[0] == f.location_level]
        for f in valid:
            above = [p for p in valid if levels.index(p.location_level) < levels.index(f.location_level)]
            if not above:
                continue
            parent = max(above, key=lambda p: levels.index(p.location_level))
            if not known[values[f.name]][1].startswith(known[values[parent.name]][1]):
                errors.append(FieldError(f.name, f.name, "E807", message(
                    "filtered_choice", self.lang, value=values[f.name],
                    parent=parent.label.get(self.lang, scheme.default_language).lower())))

    def find_duplicates(self, scheme: Scheme, values: dict, exclude_household: int | None = None,
                        exclude_individual: int | None = None) -> list[FieldError]:
        """Errors naming the existing record for every unique field value already registered."""
        errors = []
        unit_table = "households" if scheme.is_household else "individuals"
        checks = []  # (table, field, value, path)
        for f in scheme.fields:
            if f.unique and values.get(f.name) is not None:
                checks.append((unit_table, f.name, values[f.name], f.name))
        for i, member in enumerate(values.get("members") or []):
            for f in scheme.member_fields:
                if f.unique and member.get(f.name) is not None:
                    checks.append(("individuals", f.name, member[f.name], f"members[{i}].{f.name}"))
        seen: dict[tuple, str] = {}
        for table, name, value, path in checks:
            stored = to_storage({name: value})[name]
            key = (table, name, str(stored))
            if key in seen:
                errors.append(FieldError(path, name, "E811", self._dup_message(value, seen[key])))
                continue
            seen[key] = path
            row = self.session.execute(unique_lookup(scheme, table, name, self.dialect), {"value": str(stored)}).first()
            if row is None:
                continue
            if table == "households" and row.id == exclude_household:
                continue
            if table == "individuals" and (row.id == exclude_individual or self._member_of(row.id, exclude_household)):
                continue
            errors.append(FieldError(path, name, "E811", self._dup_message(value, row.uid)))
        return errors

    def _member_of(self, individual_id: int, household_id: int | None) -> bool:
        if household_id is None:
            return False
        return self.session.scalar(select(Individual.household_id).where(Individual.id == individual_id)) == household_id

    def _dup_message(self, value, existing: str) -> str:
        if self.lang.startswith("fr"):
            return f"« {value} » est déjà enregistré ({existing})."
        return f"“{value}” is already registered ({existing})."

    # ---- writing ------------------------------------------------------------------------

    def validate(self, scheme: Scheme, data) -> tuple[dict, list[FieldError], list, str]:
        record = validate_record(scheme, data, as_of=date.today(), lang=self.lang)
        errors = list(record.errors)
        path = "/"
        if not errors:
            path = self.check_locations(scheme, record.values, errors)
        return record.values, errors, record.member_roles, path

    def register(self, scheme_code: str, data, *, alone: bool = False, place: Location | None = None) -> SaveResult:
        """Validate and save a new record. `alone`: the session's transaction holds nothing else (the
        API's requests) - the insert then needs no savepoint, and a refused one rolls it all back.
        `place`: where a record of a scheme without location fields belongs (the officer's area), so
        that an officer limited to an area sees what they registered."""
        scheme = self.catalog.current(scheme_code)
        version_id = self.catalog.version_id(scheme_code)
        values, errors, roles, path = self.validate(scheme, data)
        home = place if place is not None and not location_fields(scheme) else None
        if home is not None:
            path = home.path
        if not errors and not unique_indexes_present(self.session, scheme):
            errors = self.find_duplicates(scheme, values)
        if errors:
            return SaveResult(None, errors)
        try:
            if alone:
                unit = self._insert(scheme, version_id, values, roles, path, home)
            else:
                with self.session.begin_nested():
                    unit = self._insert(scheme, version_id, values, roles, path, home)
        except IntegrityError:
            if alone:
                self.session.rollback()
            # a unique value is taken (or was, a moment ago, by another registration): name the record
            dups = self.find_duplicates(scheme, values)
            return SaveResult(None, dups or [FieldError("", "", "E811", "already registered")])
        audit.record(self.session, user=self.user, action="create", entity=type(unit).__name__.lower(),
                     entity_id=unit.id, scheme_code=scheme.code, after=self.snapshot(unit), ip=self.ip)
        return SaveResult(unit, [])

    def _insert(self, scheme: Scheme, version_id: int, values: dict, roles: list, path: str,
                home: Location | None = None):
        """Insert the record (a household with its members, or a person) and return it as a persistent
        ORM object, with its members loaded.

        Written with two Core INSERT ... RETURNING statements (the household, then all its members in
        one), not an ORM flush: the same rows for a fraction of the time, which is most of an API
        registration's. The ORM objects are then made from the values written (the database's
        defaults from RETURNING) and attached to the session as loaded: reading them costs no query."""
        location = home.code if home is not None else self._location_code(scheme, values)
        user_id = getattr(self.user, "id", None)
        conn = self.session.connection()
        common = {"scheme_code": scheme.code, "scheme_version_id": version_id, "location_code": location,
                  "location_path": path, "active": True, "created_by": user_id, "updated_at": None,
                  "row_version": 1, "import_key": None}
        people = Individual.__table__
        if not scheme.is_household:
            row = {"uid": new_uid("P"), "household_id": None, "position": 0, "roles": [], "data": to_storage(values),
                   **common}
            id_, created = conn.execute(insert(people).returning(people.c.id, people.c.created_at), row).one()
            return self._loaded(Individual(id=id_, created_at=created, **row))
        units = Household.__table__
        row = {"uid": new_uid("H"), "data": to_storage(values), **common}
        members = [{"uid": new_uid("P"), "household_id": None, "position": i,
                    "roles": list(roles[i]) if i < len(roles) else [], "data": member_storage(member), **common}
                   for i, member in enumerate(values.get("members") or [])]
        if conn.dialect.name == "postgresql":
            id_, created, written = _insert_household_postgresql(conn, row, members)
            for member in members:
                member["household_id"] = id_
        else:
            id_, created = conn.execute(insert(units).returning(units.c.id, units.c.created_at), row).one()
            for member in members:
                member["household_id"] = id_
            written = conn.execute(insert(people).returning(people.c.id, people.c.created_at,
                                                            sort_by_parameter_order=True), members).all() if members else []
        household = Household(id=id_, created_at=created, **row)
        people_objects = [Individual(id=m_id, created_at=m_created, **member)
                          for (m_id, m_created), member in zip(written, members, strict=True)]
        self._loaded(household)
        for person in people_objects:
            self._loaded(person)
            set_committed_value(person, "household", household)
        set_committed_value(household, "members", people_objects)
        return household

    def _loaded(self, obj):
        """An object built from a row just written, attached to the session as loaded from it."""
        make_transient_to_detached(obj)
        self.session.add(obj)
        return obj

    @staticmethod
    def _location_code(scheme: Scheme, values: dict) -> str | None:
        for f in location_fields(scheme):
            if values.get(f.name):
                return values[f.name]
        return None

    def snapshot(self, unit) -> dict:
        """What the audit trail keeps of a record: its stored data, members included."""
        snap = {"uid": unit.uid, "data": dict(unit.data), "active": unit.active,
                "scheme_version_id": unit.scheme_version_id}
        if isinstance(unit, Household):
            snap["members"] = [{"uid": m.uid, "roles": list(m.roles or []), "data": dict(m.data), "active": m.active}
                               for m in unit.members]
        return snap

    def update(self, unit, data, expected_version: int | None = None,
               member_uids: list[str | None] | None = None) -> SaveResult:
        """Replace a record's values; audited with before and after. Members are matched to the stored
        ones by `member_uids` (the uid of each record member; None: a new member) when given - the edit
        form sends them - else by position. A stored member matched by nothing leaves the household."""
        scheme = self.catalog.current(unit.scheme_code)
        version_id = self.catalog.version_id(unit.scheme_code)
        if expected_version is not None and expected_version != unit.row_version:
            msg = ("Ce dossier a été modifié par quelqu'un d'autre ; rechargez la page." if self.lang.startswith("fr")
                   else "Someone else changed this record meanwhile; reload the page.")
            return SaveResult(None, [FieldError("", "", "E812", msg)])
        values, errors, roles, path = self.validate(scheme, data)
        if not errors:
            is_household = isinstance(unit, Household)
            errors = self.find_duplicates(scheme, values, exclude_household=unit.id if is_household else None,
                                          exclude_individual=None if is_household else unit.id)
        if errors:
            return SaveResult(None, errors)
        before = self.snapshot(unit)
        now = datetime.now()
        try:
            with self.session.begin_nested():
                unit.data = to_storage(values)
                unit.scheme_version_id = version_id
                if location_fields(scheme):  # else the record stays where it was registered
                    unit.location_code = self._location_code(scheme, values)
                    unit.location_path = path
                path = unit.location_path
                unit.updated_at = now
                unit.row_version = (unit.row_version or 1) + 1
                if isinstance(unit, Household):
                    self._update_members(scheme, unit, values.get("members") or [], roles, version_id, path, now,
                                         member_uids)
                self.session.flush()
        except IntegrityError:
            return SaveResult(None, self.find_duplicates(scheme, values) or [FieldError("", "", "E811", "duplicate")])
        self.session.refresh(unit)
        audit.record(self.session, user=self.user, action="update", entity=type(unit).__name__.lower(),
                     entity_id=unit.id, scheme_code=unit.scheme_code, before=before, after=self.snapshot(unit), ip=self.ip)
        return SaveResult(unit, [])

    def _update_members(self, scheme, household, members, roles, version_id, path, now, member_uids=None):
        existing = [m for m in household.members]
        if member_uids is None:  # by position
            matched = [existing[i] if i < len(existing) else None for i in range(len(members))]
        else:  # by uid, among this household's members only
            by_uid = {m.uid: m for m in existing}
            matched = [by_uid.pop(uid, None) if uid else None
                       for uid in (list(member_uids) + [None] * len(members))[:len(members)]]
        kept = {id(m) for m in matched if m is not None}
        for i, member in enumerate(members):
            data = member_storage(member)
            member_roles = list(roles[i]) if i < len(roles) else []
            m = matched[i]
            if m is not None:
                m.data, m.roles, m.active, m.position = data, member_roles, True, i
                m.scheme_version_id, m.location_code, m.location_path, m.updated_at = (
                    version_id, household.location_code, path, now)
            else:
                self.session.add(Individual(
                    uid=new_uid("P"), scheme_code=scheme.code, scheme_version_id=version_id,
                    household_id=household.id, position=i, roles=member_roles, data=data,
                    location_code=household.location_code, location_path=path,
                    created_by=getattr(self.user, "id", None)))
        for m in existing:
            if id(m) in kept:
                continue
            # removed members keep their row (history, claims) but leave the household
            m.active = False
            m.household_id = None
            m.updated_at = now

    def set_active(self, unit, active: bool, reason: str = "") -> None:
        before = self.snapshot(unit)
        unit.active = active
        unit.updated_at = datetime.now()
        unit.row_version = (unit.row_version or 1) + 1
        if isinstance(unit, Household):
            for m in unit.members:
                m.active = active
        self.session.flush()
        audit.record(self.session, user=self.user, action="activate" if active else "deactivate",
                     entity=type(unit).__name__.lower(), entity_id=unit.id, scheme_code=unit.scheme_code,
                     before=before, after=self.snapshot(unit), detail=reason, ip=self.ip)

    # ---- reading ------------------------------------------------------------------------

    def get(self, uid: str):
        table = Household if uid.startswith("H") else Individual
        return self.session.scalar(select(table).where(table.uid == uid))

    def input_of(self, unit) -> dict:
        """A stored record in the input shape of the forms and the API."""
        if isinstance(unit, Household):
            members = [(m.data, m.roles or []) for m in unit.members if m.active]
            return record_input(unit.data, members, True)
        return record_input(unit.data, None, False)
