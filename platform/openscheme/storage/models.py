"""The database: fixed core tables, no table per scheme.

A scheme's declared fields live in the `data` JSON column (JSONB on PostgreSQL) of
`households` and `individuals`; declared unique and searchable fields get
expression indexes created when the scheme is loaded (`indexes.py`). Every record
keeps the scheme version it was captured under. Money columns are Numeric.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

JSONType = JSON().with_variant(JSONB(), "postgresql")
MONEY = Numeric(14, 2)


class Base(DeclarativeBase):
    pass


class SchemeVersion(Base):
    """One compiled text of a scheme definition; a changed file is a new row."""

    __tablename__ = "scheme_versions"
    __table_args__ = (UniqueConstraint("code", "content_hash", name="uq_scheme_versions_code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255))
    file_name: Mapped[str] = mapped_column(String(255))
    yaml_text: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self) -> str:
        return f"{self.code} v{self.version} ({self.content_hash[:8]})"


class Location(Base):
    """The administrative hierarchy; `path` ("/TZ/DSM/KIN/") makes "within" a range query."""

    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    level: Mapped[str] = mapped_column(String(32), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"), index=True)
    path: Mapped[str] = mapped_column(String(512), index=True)

    parent: Mapped[Location | None] = relationship(remote_side=[id])

    def __str__(self) -> str:
        return f"{self.name} ({self.level})"


class Facility(Base):
    __tablename__ = "facilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    level: Mapped[str] = mapped_column(String(32), index=True)
    care_type: Mapped[str] = mapped_column(String(16), default="both")
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"), index=True)
    price_list_id: Mapped[int | None] = mapped_column(ForeignKey("price_lists.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    location: Mapped[Location | None] = relationship()
    price_list: Mapped[PriceList | None] = relationship()

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(255), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    roles: Mapped[list[RoleAssignment]] = relationship(back_populates="user", cascade="all, delete-orphan")

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def __str__(self) -> str:
        return self.username


class RoleAssignment(Base):
    """A role, optionally limited to one scheme and to one location (and below) or facility."""

    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("user_id", "role", "scheme_code", "location_id", "facility_id",
                                       name="uq_role_assignments"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    scheme_code: Mapped[str | None] = mapped_column(String(64))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"))

    user: Mapped[User] = relationship(back_populates="roles")
    location: Mapped[Location | None] = relationship()
    facility: Mapped[Facility | None] = relationship()

    def __str__(self) -> str:
        where = [x for x in (self.scheme_code, self.location.name if self.location else None) if x]
        return self.role + (f" ({', '.join(where)})" if where else "")


class ApiToken(Base):
    """A bearer token for API clients; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(DateTime)
    success: Mapped[bool] = mapped_column(Boolean)


class Household(Base):
    """A household or group: the unit's declared fields in `data`."""

    __tablename__ = "households"
    __table_args__ = (Index("ix_households_scheme_location", "scheme_code", "location_path"),
                      UniqueConstraint("scheme_code", "import_key", name="uq_households_import_key"))

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    scheme_code: Mapped[str] = mapped_column(String(64))
    scheme_version_id: Mapped[int] = mapped_column(ForeignKey("scheme_versions.id"))
    data: Mapped[dict] = mapped_column(JSONType)
    location_code: Mapped[str | None] = mapped_column(String(32))
    location_path: Mapped[str] = mapped_column(String(512), default="/")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    # set by bulk import: the row's natural key (or fingerprint), so re-importing a file adds nothing
    import_key: Mapped[str | None] = mapped_column(String(64))

    members: Mapped[list[Individual]] = relationship(back_populates="household", order_by="Individual.position")
    scheme_version: Mapped[SchemeVersion] = relationship()


class Individual(Base):
    """A person: a household member, or the unit itself in an individual scheme."""

    __tablename__ = "individuals"
    __table_args__ = (Index("ix_individuals_scheme_location", "scheme_code", "location_path"),
                      UniqueConstraint("scheme_code", "import_key", name="uq_individuals_import_key"))

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    scheme_code: Mapped[str] = mapped_column(String(64))
    scheme_version_id: Mapped[int] = mapped_column(ForeignKey("scheme_versions.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    roles: Mapped[list] = mapped_column(JSONType, default=list)
    data: Mapped[dict] = mapped_column(JSONType)
    location_code: Mapped[str | None] = mapped_column(String(32))
    location_path: Mapped[str] = mapped_column(String(512), default="/")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    import_key: Mapped[str | None] = mapped_column(String(64))

    household: Mapped[Household | None] = relationship(back_populates="members")
    scheme_version: Mapped[SchemeVersion] = relationship()


class Enrolment(Base):
    """A unit enrolled in a scheme (under the version current at enrolment), with its status."""

    __tablename__ = "enrolments"
    __table_args__ = (Index("ix_enrolments_scheme_status", "scheme_code", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_code: Mapped[str] = mapped_column(String(64))
    scheme_version_id: Mapped[int] = mapped_column(ForeignKey("scheme_versions.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    individual_id: Mapped[int | None] = mapped_column(ForeignKey("individuals.id"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditLog(Base):
    """Who changed what, when, with the values before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    scheme_code: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSONType)
    after: Mapped[dict | None] = mapped_column(JSONType)
    detail: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str] = mapped_column(String(64), default="")


# ---- reference data (Flask-Admin) ------------------------------------------------------


class Icd10Code(Base):
    __tablename__ = "icd10_codes"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    chapter: Mapped[str] = mapped_column(String(8), default="")

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class CatalogueEntry(Base):
    """A medical service or item (medicine, consumable) that price lists and claims refer to."""

    __tablename__ = "catalogue"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(8), default="service")  # service | item
    category: Mapped[str] = mapped_column(String(32), default="other")
    care_type: Mapped[str] = mapped_column(String(16), default="both")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class PriceList(Base):
    __tablename__ = "price_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    valid_from: Mapped[date | None] = mapped_column(Date)

    entries: Mapped[list[PriceListEntry]] = relationship(back_populates="price_list", cascade="all, delete-orphan")

    def __str__(self) -> str:
        return self.name


class PriceListEntry(Base):
    __tablename__ = "price_list_entries"
    __table_args__ = (UniqueConstraint("price_list_id", "catalogue_id", name="uq_price_list_entry"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    price_list_id: Mapped[int] = mapped_column(ForeignKey("price_lists.id", ondelete="CASCADE"))
    catalogue_id: Mapped[int] = mapped_column(ForeignKey("catalogue.id"))
    price: Mapped[Decimal] = mapped_column(MONEY)

    price_list: Mapped[PriceList] = relationship(back_populates="entries")
    entry: Mapped[CatalogueEntry] = relationship()


# the workflow tables (policies, claims, vouchers, targeting, payments), jobs and analysis share this Base
from . import analysis_models, job_models, workflow_models  # noqa: E402,F401
