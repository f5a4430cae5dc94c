"""Enrolling units into an insurance benefit, collecting their contributions, and the policy lifecycle.

    policies = Policies(session, catalog, user)
    policy = policies.enrol("tz-chf", household, "chf_cover", date(2025, 7, 20))
    policies.record_payment(policy, Decimal("20000"), "cash", "R-000123", date(2025, 7, 21))

The premium (or, for a wage scheme, the monthly employer and employee shares) is
computed from the definition by `evaluation.engine` and kept on the policy with its
explanation. A policy starts in the enrolment workflow's initial state (`pending`);
the payment that completes the premium starts the cover (`approve`, or `renew` for
a wage scheme whose cover had lapsed), its term follows `policies.terms`. Every
change goes through `policies.workflow.step` (the YAML's transitions and roles) and
is audited. Receipt numbers and mobile-money references are unique per method in the
database, so the same payment can never be recorded twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..definitions.model import Benefit, Scheme
from ..evaluation import explanations
from ..evaluation.engine import compute_wage_contribution, evaluate, money
from ..formulas import FormulaRuntimeError
from ..registry import audit
from ..registry.search import scope_filter
from ..registry.service import Registry
from ..storage.models import Household, Individual
from ..storage.workflow_models import Contribution, Policy
from . import formal, terms
from .messages import msg
from .workflow import StepRefused, allowed, roles_of, step

OPEN_STATES = ("pending", "active", "suspended")  # a unit has at most one such policy per benefit
ALL = "*"  # a policy for every insurance benefit of the scheme


class PolicyError(Exception):
    """`message` in the language of the `Policies` that raised it."""

    def __init__(self, code: str, message: str, field: str = ""):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


@dataclass
class Quote:
    premium: Decimal
    lines: list[str]  # in the language of the `Policies` that made the quote
    eligible: bool
    reasons: list[str] = field(default_factory=list)
    shares: dict[str, Decimal] | None = None  # wage schemes: employer / employee per month
    parts: list = field(default_factory=list)  # the lines as data (`evaluation.explanations`), kept with the policy


def insurance_benefits(scheme: Scheme) -> list[Benefit]:
    return [b for b in scheme.benefits if b.kind == "insurance"]


def unit_of(session, policy: Policy):
    model = Household if policy.unit_type == "household" else Individual
    return session.get(model, policy.unit_id)


def parse_money(value, lang: str = "en") -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise PolicyError("bad_amount", msg("bad_amount_number", lang), "amount") from None
    if not amount.is_finite() or amount <= 0:
        raise PolicyError("bad_amount", msg("bad_amount_positive", lang), "amount")
    if amount != money(amount):
        raise PolicyError("bad_amount", msg("bad_amount_decimals", lang), "amount")
    return amount


class Policies:
    def __init__(self, session, catalog, user=None, ip: str = "", lang: str = "en"):
        self.session, self.catalog, self.user, self.ip, self.lang = session, catalog, user, ip, lang

    def error(self, code: str, key: str, field: str = "", **params) -> PolicyError:
        """A refusal said in this service's language."""
        return PolicyError(code, msg(key, self.lang, **params), field)

    # ---- reading -----------------------------------------------------------------------

    def scheme(self, code: str) -> Scheme:
        scheme = self.catalog.current(code)
        if scheme is None:
            raise self.error("unknown_scheme", "unknown_scheme", code=code)
        return scheme

    def benefit(self, scheme: Scheme, code: str | None) -> Benefit | None:
        """The benefit a policy is for; None (no code, several benefits): all the scheme's insurance
        benefits, which its one premium or contribution pays for (stored as benefit "*")."""
        benefits = insurance_benefits(scheme)
        if not benefits:
            raise self.error("no_insurance", "no_insurance", code=scheme.code)
        if not code or code == ALL:
            return benefits[0] if len(benefits) == 1 else None
        benefit = next((b for b in benefits if b.code == code), None)
        if benefit is None:
            raise self.error("unknown_benefit", "unknown_benefit", "benefit", code=scheme.code, benefit=code)
        return benefit

    def paid(self, policy: Policy, period: str | None = None, payer: str | None = None) -> Decimal:
        q = select(func.coalesce(func.sum(Contribution.amount), 0)).where(Contribution.policy_id == policy.id)
        if period is not None:
            q = q.where(Contribution.period == period)
        if payer is not None:
            q = q.where(Contribution.payer == payer)
        return Decimal(self.session.scalar(q) or 0)

    def balance(self, policy: Policy) -> Decimal:
        """What remains to pay of a yearly premium (a wage scheme: of the current month)."""
        scheme = self.catalog.by_version(policy.scheme_version_id) or self.scheme(policy.scheme_code)
        if terms.is_monthly(scheme):
            return max(Decimal(0), policy.premium - self.paid(policy, terms.period_of(date.today())))
        return max(Decimal(0), policy.premium - self.paid(policy))

    def contributions(self, policy: Policy) -> list[Contribution]:
        return list(self.session.scalars(select(Contribution).where(Contribution.policy_id == policy.id)
                                         .order_by(Contribution.paid_on, Contribution.id)))

    def open_policy(self, scheme_code: str, benefit_code: str, unit) -> Policy | None:
        unit_type = "household" if isinstance(unit, Household) else "individual"
        codes = {benefit_code, ALL} if benefit_code != ALL else {b.code for b in insurance_benefits(
            self.scheme(scheme_code))} | {ALL}
        return self.session.scalar(select(Policy).where(
            Policy.scheme_code == scheme_code, Policy.benefit_code.in_(sorted(codes)), Policy.unit_type == unit_type,
            Policy.unit_id == unit.id, Policy.status.in_(OPEN_STATES)).order_by(Policy.id.desc()))

    def policies_of(self, unit) -> list[Policy]:
        unit_type = "household" if isinstance(unit, Household) else "individual"
        return list(self.session.scalars(select(Policy).where(Policy.unit_type == unit_type, Policy.unit_id == unit.id)
                                         .order_by(Policy.id.desc())))

    # ---- the premium ---------------------------------------------------------------------

    def quote(self, scheme: Scheme, unit, benefit: Benefit | None, on: date, renewal: bool = False) -> Quote:
        """Eligibility and the premium for this unit as the definition computes them, explained."""
        data = Registry(self.session, self.catalog, self.user, self.lang).input_of(unit)
        lang = self.lang
        ev = evaluate(scheme, data, as_of=on, lang=lang, renewal=renewal, enrolment_date=on)
        if not ev.record.ok:
            problems = [f"{e.path}: {e.message}" for e in ev.record.errors]
            return Quote(Decimal(0), [], False, [msg("record_errors", lang)] + problems)
        reasons = [r.reason for r in ev.rules if not r.passed]
        outcome = ev.benefit(benefit.code) if benefit is not None else None
        if not reasons and outcome is not None and not outcome.entitled:
            reasons = outcome.lines_in(lang) or [msg("not_entitled", lang)]
        if terms.is_monthly(scheme) and scheme.contributions.wage is not None:
            try:
                shares = compute_wage_contribution(scheme, ev.record.values)
            except FormulaRuntimeError as exc:
                return Quote(Decimal(0), [msg("contribution_error", lang, error=exc.text(lang))], False, [exc.text(lang)])
            parts = list(shares["employer"].parts) + list(shares["employee"].parts[1:]) + list(shares["total"].parts)
            return Quote(shares["total"].value, explanations.lines(parts, lang), not reasons, reasons,
                         {"employer": shares["employer"].value, "employee": shares["employee"].value}, parts)
        premium = ev.premium
        if premium is None:
            return Quote(Decimal(0), [msg("no_premium", lang)], not reasons, reasons)
        if premium.parts and premium.parts[0][0] == "premium_error":
            lines = premium.lines_in(lang)
            return Quote(Decimal(0), lines, False, lines, None, list(premium.parts))
        return Quote(premium.value, premium.lines_in(lang), not reasons, reasons, None, list(premium.parts))

    # ---- enrolment -----------------------------------------------------------------------

    def enrol(self, scheme_code: str, unit, benefit_code: str | None = None, on: date | None = None,
              renewal_of: Policy | None = None) -> Policy:
        scheme = self.scheme(scheme_code)
        benefit = self.benefit(scheme, benefit_code)
        on = on or date.today()
        if unit.scheme_code != scheme.code:
            raise self.error("wrong_scheme", "wrong_scheme", uid=unit.uid, registered=unit.scheme_code, code=scheme.code)
        if isinstance(unit, Individual) and unit.household_id is not None:
            raise self.error("member", "member", uid=unit.uid)
        if not unit.active:
            raise self.error("inactive", "inactive", uid=unit.uid)
        benefit_code = benefit.code if benefit is not None else ALL
        current = self.open_policy(scheme.code, benefit_code, unit)
        if current is not None and (renewal_of is None or current.id != renewal_of.id):
            raise self.error("already_enrolled", "already_enrolled", uid=unit.uid, id=current.id, status=current.status)
        quote = self.quote(scheme, unit, benefit, on, renewal=renewal_of is not None)
        if not quote.eligible:
            raise PolicyError("not_eligible", "; ".join(quote.reasons) or msg("not_eligible", self.lang))
        employer = formal.ensure_employer(self.session, scheme, unit) if terms.is_monthly(scheme) else None
        wf = scheme.workflows["enrolment"]
        policy = Policy(scheme_code=scheme.code, scheme_version_id=self.catalog.version_id(scheme.code),
                        benefit_code=benefit_code, unit_type="household" if isinstance(unit, Household) else "individual",
                        unit_id=unit.id, status=wf.initial, enrol_date=on, premium=quote.premium,
                        premium_explanation=explanations.stored(quote.parts) if quote.parts else quote.lines,
                        renewal_of_id=renewal_of.id if renewal_of else None)
        self.session.add(policy)
        self.session.flush()
        audit.record(self.session, user=self.user, action="renew" if renewal_of else "enrol", entity="policy",
                     entity_id=policy.id, scheme_code=scheme.code, ip=self.ip,
                     after={"unit": unit.uid, "benefit": benefit_code, "status": policy.status,
                            "premium": str(policy.premium),
                            "explanation": explanations.english(quote.parts) if quote.parts else quote.lines,
                            "employer": employer.code if employer else None,
                            "renewal_of": renewal_of.id if renewal_of else None})
        if policy.premium == 0 and not terms.is_monthly(scheme):
            self._activate(scheme, policy, on)  # nothing to pay (a fully subsidised family)
        return policy

    def renew(self, policy: Policy, on: date | None = None) -> Policy:
        """A new policy for the next term, priced as a renewal (renewal discount, no registration fee)."""
        scheme = self.scheme(policy.scheme_code)
        if terms.is_monthly(scheme):
            raise self.error("monthly", "monthly")
        wf = scheme.workflows["enrolment"]
        if policy.status == "expired" and allowed(wf, policy.status, "renew", roles_of(self.user, scheme.code)) is None:
            raise self.error("not_allowed", "may_not_renew")
        if policy.status not in ("active", "expired"):
            raise self.error("not_renewable", "not_renewable", status=policy.status)
        existing = self.session.scalar(select(Policy).where(Policy.renewal_of_id == policy.id,
                                                            Policy.status.in_(OPEN_STATES)))
        if existing is not None:
            raise self.error("already_renewed", "already_renewed", id=policy.id, new=existing.id)
        return self.enrol(scheme.code, unit_of(self.session, policy), policy.benefit_code, on, renewal_of=policy)

    # ---- payments ------------------------------------------------------------------------

    def record_payment(self, policy: Policy, amount, method: str, reference: str, paid_on: date | None = None,
                       payer: str | None = None, period: str | None = None) -> Contribution:
        scheme = self.scheme(policy.scheme_code)
        amount = parse_money(amount, self.lang)
        paid_on = paid_on or date.today()
        if paid_on > date.today():
            raise self.error("future", "future", "paid_on")
        methods = scheme.contributions.payment_methods if scheme.contributions else ()
        method = (method or "").strip()
        if methods and method not in methods:
            raise self.error("bad_method", "bad_method", "method", methods=", ".join(methods))
        reference = " ".join((reference or "").split()).upper()
        if not reference or len(reference) > 64:
            raise self.error("bad_reference", "bad_reference", "reference")
        if policy.status not in ("pending", "active", "expired", "suspended"):
            raise self.error("closed", "closed", status=policy.status)
        if terms.is_monthly(scheme):
            payer, period = self._check_monthly(scheme, policy, amount, payer, period)
        else:
            if policy.status != "pending":
                raise self.error("paid", "paid")
            payer = payer or ("household" if policy.unit_type == "household" else "member")
            left = policy.premium - self.paid(policy)
            if amount > left:
                raise self.error("too_much", "too_much", "amount", left=left)
        contribution = Contribution(policy_id=policy.id, amount=amount, paid_on=paid_on, method=method,
                                    reference=reference, payer=payer, period=period,
                                    received_by=getattr(self.user, "id", None))
        try:
            with self.session.begin_nested():
                self.session.add(contribution)
                self.session.flush()
        except IntegrityError:
            other = self.session.scalar(select(Contribution).where(Contribution.method == method,
                                                                   Contribution.reference == reference))
            if other is not None:
                raise self.error("duplicate_reference", "duplicate_reference_at", "reference", method=method,
                                 reference=reference, id=other.policy_id, date=other.paid_on.isoformat()) from None
            raise self.error("duplicate_reference", "duplicate_reference", "reference", method=method,
                             reference=reference) from None
        audit.record(self.session, user=self.user, action="payment", entity="contribution", entity_id=contribution.id,
                     scheme_code=scheme.code, ip=self.ip,
                     after={"policy": policy.id, "amount": str(amount), "method": method, "reference": reference,
                            "payer": payer, "period": period, "paid_on": paid_on.isoformat()})
        if terms.is_monthly(scheme):
            self._extend_monthly(scheme, policy, paid_on)
        elif self.paid(policy) >= policy.premium:
            self._activate(scheme, policy, paid_on)
        return contribution

    def _check_monthly(self, scheme, policy, amount, payer, period):
        if payer not in ("employer", "employee"):
            raise self.error("bad_payer", "bad_payer", "payer")
        try:
            month = terms.parse_period(period or "")
        except ValueError:
            raise self.error("bad_period", "bad_period_format", "period") from None
        first = date(policy.enrol_date.year, policy.enrol_date.month, 1)
        if month < first or month > date.today() + timedelta(days=31):
            raise self.error("bad_period", "bad_period_range", "period", first=terms.period_of(first))
        shares = formal.month_shares(self.session, scheme, unit_of(self.session, policy), terms.period_of(month))
        left = shares[payer] - self.paid(policy, terms.period_of(month), payer)
        if amount > left:
            raise self.error("too_much", "share_too_much", "amount", payer=payer, period=period,
                             left=max(left, Decimal(0)))
        return payer, terms.period_of(month)

    def _completion_date(self, policy: Policy) -> date:
        return self.session.scalar(select(func.max(Contribution.paid_on)).where(Contribution.policy_id == policy.id)) \
            or date.today()

    def _activate(self, scheme: Scheme, policy: Policy, paid_on: date) -> None:
        """The premium is paid: cover starts (when the workflow lets this user approve it)."""
        start = paid_on
        previous = self.session.get(Policy, policy.renewal_of_id) if policy.renewal_of_id else None
        if previous is not None and previous.expiry_date is not None \
                and paid_on <= previous.expiry_date + timedelta(days=terms.grace_days(scheme)):
            start = max(paid_on, previous.expiry_date + timedelta(days=1))  # continuous cover
        try:
            step(self.session, scheme, "enrolment", policy, "approve", user=self.user, entity="policy", ip=self.ip,
                 after={"start_date": start.isoformat(), "reason": "premium paid"})
        except StepRefused:
            return  # fully paid; an officer with the right role approves it
        policy.start_date = start
        policy.expiry_date = terms.term_end(scheme, start)
        self.session.flush()

    def _extend_monthly(self, scheme: Scheme, policy: Policy, paid_on: date) -> None:
        last = formal.last_covered_month(self.session, scheme, policy)
        if last is None:
            return
        expiry = terms.month_end(last)
        if policy.status == "pending":
            try:
                step(self.session, scheme, "enrolment", policy, "approve", user=self.user, entity="policy", ip=self.ip,
                     after={"start_date": paid_on.isoformat(), "reason": "first month paid"})
            except StepRefused:
                return
            policy.start_date = paid_on
        elif policy.status == "expired" and expiry + timedelta(days=terms.grace_days(scheme)) >= date.today():
            try:
                step(self.session, scheme, "enrolment", policy, "renew", user=self.user, entity="policy", ip=self.ip,
                     after={"reason": "arrears paid"})
            except StepRefused:
                return
        if policy.expiry_date != expiry:
            policy.expiry_date = expiry
            self.session.flush()

    # ---- lifecycle -----------------------------------------------------------------------

    def transition(self, policy: Policy, name: str, detail: str = "") -> None:
        scheme = self.scheme(policy.scheme_code)
        if name == "approve" and policy.status == "pending":
            if self.paid(policy) < policy.premium:
                raise self.error("unpaid", "unpaid", balance=self.balance(policy))
            paid_on = self._completion_date(policy)
            if terms.is_monthly(scheme):
                self._extend_monthly(scheme, policy, paid_on)
            else:
                self._activate(scheme, policy, paid_on)
            if policy.status == "pending":
                raise self.error("not_allowed", "may_not_approve")
            return
        try:
            step(self.session, scheme, "enrolment", policy, name, user=self.user, entity="policy", detail=detail,
                 ip=self.ip)
        except StepRefused as exc:
            raise PolicyError("not_allowed", exc.text(self.lang)) from None

    def expire_due(self, scheme_code: str, as_of: date | None = None) -> int:
        """Policies whose cover (and grace period) ended before `as_of` become expired (the `expire`
        transition, by the system). Set-based: one query finds them, one updates them."""
        scheme = self.scheme(scheme_code)
        as_of = as_of or date.today()
        wf = scheme.workflows["enrolment"]
        sources = [s for s in wf.states if wf.can(s, "expire", "system")]
        if not sources:
            return 0
        cutoff = as_of - timedelta(days=terms.grace_days(scheme))
        rows = self.session.execute(select(Policy.id, Policy.status).where(
            Policy.scheme_code == scheme.code, Policy.status.in_(sources), Policy.expiry_date < cutoff)).all()
        if not rows:
            return 0
        target = wf.can(rows[0].status, "expire", "system").target
        ids = [r.id for r in rows]
        now = datetime.now()
        for i in range(0, len(ids), 5000):
            chunk = ids[i:i + 5000]
            self.session.execute(Policy.__table__.update().where(Policy.id.in_(chunk))
                                 .values(status=target, updated_at=now))
        for r in rows:
            audit.record(self.session, user=None, action="expire", entity="policy", entity_id=r.id,
                         scheme_code=scheme.code, before={"status": r.status},
                         after={"status": target, "as_of": as_of.isoformat()})
        self.session.flush()
        self.session.expire_all()
        return len(ids)

    def renewals_due(self, scheme_code: str, within_days: int = 30, as_of: date | None = None,
                     scope_paths: list[str] | None = None, limit: int = 500) -> list[tuple[Policy, object]]:
        """Active policies ending within N days (or ended, still in grace) that nobody renewed yet."""
        scheme = self.scheme(scheme_code)
        as_of = as_of or date.today()
        renewal = aliased(Policy)
        renewed = exists().where(and_(renewal.renewal_of_id == Policy.id, renewal.status.notin_(("rejected", "cancelled"))))
        unit = Household if scheme.is_household else Individual
        rows = self.session.execute(
            select(Policy, unit).join(unit, unit.id == Policy.unit_id)
            .where(Policy.scheme_code == scheme.code, Policy.status.in_(("active", "expired")),
                   Policy.expiry_date <= as_of + timedelta(days=within_days),
                   Policy.expiry_date >= as_of - timedelta(days=terms.grace_days(scheme)), ~renewed,
                   scope_filter(unit.location_path, scope_paths))
            .order_by(Policy.expiry_date, Policy.id).limit(limit)).all()
        return [(p, u) for p, u in rows]
