"""Tables of the scheme workflows: policies and contributions, claims, vouchers, targeting and payments.

Every money movement has a natural key with a database unique constraint, so a
re-run, a crash and retry, or two officers pressing the button together can never
create it twice:
  payments          (scheme, benefit, cycle, unit)
  voucher use       (voucher)                       - one redemption row per voucher
  claims            (facility, claim code)
  claim batches     (scheme, facility, period)
  payment cycles    (scheme, benefit, cycle number)
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .models import MONEY, Base, JSONType


class Policy(Base):
    """A unit's cover under an insurance (or voucher) benefit, with its workflow state."""

    __tablename__ = "policies"
    __table_args__ = (Index("ix_policies_unit", "unit_type", "unit_id"),
                      Index("ix_policies_scheme_status", "scheme_code", "status", "expiry_date"))

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_code: Mapped[str] = mapped_column(String(64))
    scheme_version_id: Mapped[int] = mapped_column(ForeignKey("scheme_versions.id"))
    benefit_code: Mapped[str] = mapped_column(String(64))
    unit_type: Mapped[str] = mapped_column(String(16))  # household | individual
    unit_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    enrol_date: Mapped[date] = mapped_column(Date)
    start_date: Mapped[date | None] = mapped_column(Date)
    expiry_date: Mapped[date | None] = mapped_column(Date)
    renewal_of_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"))
    premium: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    premium_explanation: Mapped[list | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)


class Contribution(Base):
    """A payment towards a policy: cash receipt, mobile money, payroll deduction."""

    __tablename__ = "contributions"
    __table_args__ = (UniqueConstraint("method", "reference", name="uq_contributions_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    paid_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(64))  # receipt number or mobile-money transaction id
    payer: Mapped[str] = mapped_column(String(16), default="household")  # household | employer | employee
    period: Mapped[str | None] = mapped_column(String(7))  # YYYY-MM for monthly schedules
    received_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())


class ClaimBatch(Base):
    __tablename__ = "claim_batches"
    __table_args__ = (UniqueConstraint("scheme_code", "facility_id", "period", name="uq_claim_batch"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_code: Mapped[str] = mapped_column(String(64))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    status: Mapped[str] = mapped_column(String(16), default="open")
    total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())


class ClaimRecord(Base):
    """A facility's claim; (facility, code) is unique so a claim submitted twice exists once."""

    __tablename__ = "claims"
    __table_args__ = (UniqueConstraint("facility_id", "code", name="uq_claims_facility_code"),
                      Index("ix_claims_person_date", "individual_id", "date_from"),
                      Index("ix_claims_scheme_status", "scheme_code", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    scheme_code: Mapped[str] = mapped_column(String(64))
    scheme_version_id: Mapped[int] = mapped_column(ForeignKey("scheme_versions.id"))
    benefit_code: Mapped[str] = mapped_column(String(64))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"))
    individual_id: Mapped[int] = mapped_column(ForeignKey("individuals.id"))
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"))
    date_from: Mapped[date] = mapped_column(Date)
    date_to: Mapped[date | None] = mapped_column(Date)
    care_type: Mapped[str] = mapped_column(String(16))
    diagnosis: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(32))
    asked: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    payable: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    selected_for_review: Mapped[bool] = mapped_column(Boolean, default=False)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("claim_batches.id"))
    feedback: Mapped[dict | None] = mapped_column(JSONType)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)

    lines: Mapped[list[ClaimLineRecord]] = relationship(back_populates="claim", order_by="ClaimLineRecord.position",
                                                        cascade="all, delete-orphan")


class ClaimLineRecord(Base):
    __tablename__ = "claim_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    price_asked: Mapped[Decimal | None] = mapped_column(MONEY)
    quantity_approved: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))
    price: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    valuated: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    co_payment: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    payable: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    status: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list | None] = mapped_column(JSONType)
    review_note: Mapped[str | None] = mapped_column(Text)

    claim: Mapped[ClaimRecord] = relationship(back_populates="lines")


class Voucher(Base):
    __tablename__ = "vouchers"
    __table_args__ = (Index("ix_vouchers_person", "individual_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    scheme_code: Mapped[str] = mapped_column(String(64))
    benefit_code: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    individual_id: Mapped[int] = mapped_column(ForeignKey("individuals.id"))
    status: Mapped[str] = mapped_column(String(16))
    issued_on: Mapped[date] = mapped_column(Date)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    reimbursement: Mapped[Decimal | None] = mapped_column(MONEY)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())


class VoucherRedemption(Base):
    """One row per redeemed voucher: the unique voucher_id makes a second redemption impossible."""

    __tablename__ = "voucher_redemptions"
    __table_args__ = (UniqueConstraint("voucher_id", name="uq_voucher_redemption"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("vouchers.id"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"), index=True)
    service_code: Mapped[str] = mapped_column(String(32))
    redeemed_on: Mapped[date] = mapped_column(Date)
    redeemed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reimbursement_period: Mapped[str | None] = mapped_column(String(7))
    reimbursed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())


class TargetingRun(Base):
    __tablename__ = "targeting_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_code: Mapped[str] = mapped_column(String(64), index=True)
    scheme_version_id: Mapped[int] = mapped_column(ForeignKey("scheme_versions.id"))
    as_of: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # computed | approved | rejected
    eligible_count: Mapped[int] = mapped_column(Integer, default=0)
    excluded_count: Mapped[int] = mapped_column(Integer, default=0)
    method: Mapped[dict | None] = mapped_column(JSONType)  # per rule: sql | python
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)


class TargetingResult(Base):
    __tablename__ = "targeting_results"

    # the run's id; no foreign key since migration 0003: a run writes a million rows in one statement,
    # and a per-row foreign-key trigger doubled its time on PostgreSQL (rows are written by run_targeting only)
    run_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    eligible: Mapped[bool] = mapped_column(Boolean)
    failed_rules: Mapped[str] = mapped_column(String(1000), default="")  # "rule_a,rule_b" (rule names are identifiers)


class PaymentCycle(Base):
    __tablename__ = "payment_cycles"
    __table_args__ = (UniqueConstraint("scheme_code", "benefit_code", "cycle_no", name="uq_payment_cycle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_code: Mapped[str] = mapped_column(String(64))
    scheme_version_id: Mapped[int] = mapped_column(ForeignKey("scheme_versions.id"))
    benefit_code: Mapped[str] = mapped_column(String(64))
    cycle_no: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32))
    targeting_run_id: Mapped[int | None] = mapped_column(ForeignKey("targeting_runs.id"))
    payment_count: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    prepared_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)


class Payment(Base):
    """One payment; the natural key (scheme, benefit, cycle, unit) is unique: never twice."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("scheme_code", "benefit_code", "cycle_no", "unit_id", name="uq_payment_key"),
                      Index("ix_payments_cycle_status", "cycle_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("payment_cycles.id"))
    scheme_code: Mapped[str] = mapped_column(String(64))
    benefit_code: Mapped[str] = mapped_column(String(64))
    cycle_no: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(Integer)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("individuals.id"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    channel: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | paid | failed
    failure_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    explanation: Mapped[list | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)


class Payroll(Base):
    """A payroll file as it was handed out, kept so that the same file can be downloaded again.

    The text itself is kept (zlib-compressed) rather than produced again from the payments:
    a name or a phone may change after the file went out, and an officer who lost it must
    get the very file the agent has. `sha256` is of the text, checked on the way out."""

    __tablename__ = "payrolls"
    __table_args__ = (Index("ix_payrolls_cycle", "cycle_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("payment_cycles.id"))
    channel: Mapped[str] = mapped_column(String(32))
    payment_count: Mapped[int] = mapped_column(Integer)
    total: Mapped[Decimal] = mapped_column(MONEY)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
