"""Claims: submission (form and API), automated adjudication in batches, review, valuation,
provider payment batches and client feedback.

    service = ClaimService(session, catalog, user)
    result = service.submit("tz-chf", {"code": "KNG-0001", "facility": "DH_KONGWA", "insuree": "P...",
                                       "date_from": "2025-08-01", "care_type": "out_patient",
                                       "diagnosis": "B54", "lines": [{"code": "OPD01", "quantity": 1}]})

One parse (`parse`) serves the generated form and the JSON API. A claim is unique per
facility and claim code in the database: the same claim submitted twice - two clerks
at once, a retried request - exists once, and the second submission gets a clean
error naming the first. Adjudication (`adjudicate`) loads the inputs of a whole batch
with a few set-based queries (`loading.py`), runs the pure `Adjudicator`, picks claims
for manual review (the declared random share, drawn from a hash of the claim so the
draw is reproducible, and every claim above the declared amount), and writes the
decisions back with executemany. Every step is a transition of the scheme's claims
workflow and is audited.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..definitions.model import Benefit, Scheme
from ..evaluation.records import FieldError
from ..policies import terms
from ..policies.messages import state as state_word
from ..policies.workflow import StepRefused, allowed, available, roles_of, step, target_of
from ..reference.facilities import serves
from ..registry import audit
from ..storage.models import AuditLog, CatalogueEntry, Icd10Code, Individual, PriceListEntry
from ..storage.models import Facility as FacilityRow
from ..storage.workflow_models import ClaimBatch, ClaimLineRecord, ClaimRecord
from .adjudication import Adjudicator, Claim, ClaimDecision, Line, LineDecision, money
from .loading import CHUNK, among, chunks, load_book
from .messages import feedback_question, msg
from .people import find_people
from .reasons import reason as stored_reason

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_/.\-]{0,63}$")
ICD_RE = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")
MAX_LINES = 50
MAX_PRICE = Decimal("999999999999")
# the amounts of a claim and its lines are stored as MONEY, NUMERIC(14, 2): PostgreSQL refuses more
MAX_AMOUNT = Decimal("999999999999.99")
PENDING_CHUNK = 20_000
CARE_TYPES = ("out_patient", "in_patient")


class ClaimError(Exception):
    def __init__(self, code: str, message: str, status: int = 409):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass
class SubmitResult:
    claim: ClaimRecord | None = None
    errors: list[FieldError] = field(default_factory=list)
    duplicate_of: int | None = None

    @property
    def ok(self) -> bool:
        return self.claim is not None and not self.errors


@dataclass
class AdjudicationReport:
    claims: int = 0
    lines: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    decisions: dict[int, ClaimDecision] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=lambda: {"load": 0.0, "decide": 0.0, "write": 0.0})


LINE_UPDATE = ("status", "quantity_approved", "price", "valuated", "co_payment", "payable", "reasons")
CLAIM_UPDATE = ("status", "payable", "asked", "selected_for_review", "policy_id", "updated_at")
AUDIT_COLUMNS = ("at", "user_id", "username", "action", "entity", "entity_id", "scheme_code", "before", "after",
                 "detail", "ip")


def write_decisions(session, line_rows: list[tuple], claim_rows: list[tuple], audit_rows: list[tuple]) -> None:
    """Decisions back in bulk. PostgreSQL: COPY into temporary tables, then one UPDATE ... FROM per
    table (and COPY into the audit log); SQLite: the driver's executemany. SQLAlchemy's per-row
    parameter processing would cost more than the database itself at 100,000 claims."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        _copy_decisions(conn.connection.driver_connection, line_rows, claim_rows, audit_rows)
        return

    def plain(rows):
        return [tuple(str(v) if isinstance(v, Decimal) else v.isoformat(" ") if isinstance(v, datetime) else v
                      for v in row) for row in rows]

    def run(sql, rows):
        if rows:
            conn.exec_driver_sql(sql, plain(rows))

    run(f"UPDATE claim_lines SET {', '.join(c + ' = ?' for c in LINE_UPDATE)} WHERE id = ?", line_rows)
    run(f"UPDATE claims SET {', '.join(c + ' = ?' for c in CLAIM_UPDATE)} WHERE id = ?", claim_rows)
    run(f"INSERT INTO audit_log ({', '.join(AUDIT_COLUMNS)}) VALUES ({', '.join('?' * len(AUDIT_COLUMNS))})",
        audit_rows)


def _copy_decisions(pg, line_rows, claim_rows, audit_rows) -> None:
    with pg.cursor() as cur:
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS os_line_decisions (status varchar(16), quantity_approved numeric, "
                    "price numeric, valuated numeric, co_payment numeric, payable numeric, reasons jsonb, id integer) "
                    "ON COMMIT DROP")
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS os_claim_decisions (status varchar(32), payable numeric, "
                    "asked numeric, selected_for_review boolean, policy_id integer, updated_at timestamp, id integer) "
                    "ON COMMIT DROP")
        for table, target, columns, rows in (("os_line_decisions", "claim_lines", LINE_UPDATE, line_rows),
                                             ("os_claim_decisions", "claims", CLAIM_UPDATE, claim_rows)):
            if not rows:
                continue
            with cur.copy(f"COPY {table} ({', '.join(columns)}, id) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(f"ANALYZE {table}")  # so that the join below goes through the primary key
            cur.execute(f"UPDATE {target} t SET {', '.join(f'{c} = d.{c}' for c in columns)} FROM {table} d "
                        f"WHERE t.id = d.id")
            cur.execute(f"TRUNCATE {table}")
        if audit_rows:
            with cur.copy(f"COPY audit_log ({', '.join(AUDIT_COLUMNS)}) FROM STDIN") as copy:
                for row in audit_rows:
                    copy.write_row(row)


def insurance_benefit(scheme: Scheme, code: str | None = None) -> Benefit | None:
    benefits = [b for b in scheme.benefits if b.kind == "insurance"]
    if code:
        return next((b for b in benefits if b.code == code), None)
    return benefits[0] if len(benefits) == 1 else (benefits[0] if benefits else None)


def normalise_icd10(value: str) -> str:
    code = re.sub(r"\s+", "", str(value or "")).upper()
    if len(code) > 3 and "." not in code:
        code = code[:3] + "." + code[3:]
    return code


def review_draw(scheme_code: str, facility_id: int, claim_code: str) -> Decimal:
    """A number in [0, 100) fixed by the claim itself: the same claim is always drawn the same way."""
    digest = hashlib.sha256(f"{scheme_code}|{facility_id}|{claim_code}".encode()).hexdigest()
    return Decimal(int(digest[:12], 16)) * 100 / Decimal(16 ** 12)


def selected_for_review(benefit: Benefit, scheme_code: str, facility_id: int, claim_code: str, payable: Decimal) -> bool:
    if benefit.review_amount_above is not None and payable > benefit.review_amount_above:
        return True
    return bool(benefit.review_sample_percent) and review_draw(scheme_code, facility_id, claim_code) < benefit.review_sample_percent


def facility_ids_of(user, permission_roles: set[str], scheme_code: str) -> set[int] | None:
    """Facilities a user's assignments are limited to (None: any facility)."""
    ids = set()
    for a in getattr(user, "roles", []):
        if a.role not in permission_roles or a.scheme_code not in (None, scheme_code):
            continue
        if a.facility_id is None and a.location_id is None:
            return None
        if a.facility_id is not None:
            ids.add(a.facility_id)
    return ids


class ClaimService:
    def __init__(self, session, catalog, user=None, lang: str = "en", ip: str = ""):
        self.session, self.catalog, self.user, self.lang, self.ip = session, catalog, user, lang, ip

    # ---- helpers -----------------------------------------------------------------------

    def scheme(self, code: str) -> Scheme:
        scheme = self.catalog.current(code)
        if scheme is None:
            raise ClaimError("unknown_scheme", msg("unknown_scheme", self.lang, code=code), 404)
        return scheme

    def scheme_of(self, claim: ClaimRecord) -> Scheme:
        return self.catalog.by_version(claim.scheme_version_id) or self.scheme(claim.scheme_code)

    def adjudicator(self, scheme: Scheme, benefit: Benefit) -> Adjudicator:
        return Adjudicator(scheme, benefit)

    def price_list(self, facility: FacilityRow) -> dict[str, Decimal]:
        if facility.price_list_id is None:
            return {}
        rows = self.session.execute(select(CatalogueEntry.code, PriceListEntry.price)
                                    .join(CatalogueEntry, CatalogueEntry.id == PriceListEntry.catalogue_id)
                                    .where(PriceListEntry.price_list_id == facility.price_list_id)).all()
        return {code: Decimal(price) for code, price in rows}

    def claimable(self, scheme: Scheme, benefit: Benefit, facility: FacilityRow | None) -> list:
        """The services and items a facility can claim: its price list, else the benefit's (in declared order)."""
        services = list(benefit.services) + list(benefit.items)
        if facility is None or facility.price_list_id is None:
            return services
        listed = self.price_list(facility)
        return [s for s in services if s.code in listed]

    # ---- parsing (form and API) -----------------------------------------------------------

    def parse(self, scheme: Scheme, data) -> tuple[dict, list[FieldError]]:
        """Check a submitted claim; returns typed values and every error found (with its path)."""
        lang = self.lang
        errors: list[FieldError] = []
        if not isinstance(data, dict):
            return {}, [FieldError("", "", "C00", msg("not_object", lang))]

        def err(path, error_code, key, **params):
            errors.append(FieldError(path, path.split(".")[-1].split("[")[0], error_code, msg(key, lang, **params)))

        values: dict = {}
        benefit = insurance_benefit(scheme, str(data.get("benefit") or "") or None)
        if benefit is None:
            err("benefit", "C13", "benefit", code=str(data.get("benefit") or ""))
        values["benefit"] = benefit
        code = str(data.get("code") or "").strip()
        if not code:
            err("code", "C01", "required")
        elif not CODE_RE.match(code):
            err("code", "C01", "bad_code")
        values["code"] = code
        fcode = str(data.get("facility") or "").strip()
        facility = self.session.scalar(select(FacilityRow).where(FacilityRow.code == fcode)) if fcode else None
        if not fcode:
            err("facility", "C04", "required")
        elif facility is None or not facility.active:
            err("facility", "C04", "facility", code=fcode)
        elif not serves(self.session, scheme, facility):  # another country's, or another scheme's price list
            err("facility", "C04", "facility_scheme", code=fcode)
        values["facility"] = facility
        number = str(data.get("insuree") or "").strip()
        person = None
        if not number:
            err("insuree", "C05", "required")
        else:
            people = [p for s, p in find_people(self.session, [scheme], number)]
            if not people:
                err("insuree", "C05", "insuree", number=number)
            elif len(people) > 1:
                err("insuree", "C05", "ambiguous", number=number)
            else:
                person = people[0]
        values["person"] = person
        for name, required in (("date_from", True), ("date_to", False)):
            raw = data.get(name)
            values[name] = None
            if raw in (None, ""):
                if required:
                    err(name, "C02", "required")
                continue
            try:
                values[name] = raw if isinstance(raw, date) else date.fromisoformat(str(raw).strip())
            except ValueError:
                err(name, "C02", "bad_date")
                continue
            if values[name] > date.today():
                err(name, "C02", "future")
        if values.get("date_from") and values.get("date_to") and values["date_to"] < values["date_from"]:
            err("date_to", "C02", "before_start")
        care = str(data.get("care_type") or "").strip()
        if care not in CARE_TYPES:
            err("care_type", "C08", "care_type")
        values["care_type"] = care
        diagnosis = normalise_icd10(data.get("diagnosis"))
        if not diagnosis:
            err("diagnosis", "C03", "required")
        elif not ICD_RE.match(diagnosis) or self.session.get(Icd10Code, diagnosis) is None:
            err("diagnosis", "C03", "icd10", code=str(data.get("diagnosis")))
        values["diagnosis"] = diagnosis
        lines = data.get("lines")
        parsed = []
        if not isinstance(lines, list) or not lines:
            err("lines", "C11", "no_lines")
        elif len(lines) > MAX_LINES:
            err("lines", "C11", "too_many_lines", n=MAX_LINES)
        else:
            known = set()
            if benefit is not None:
                known = {s.code for s in benefit.services + benefit.items}
            prices = self.price_list(facility) if facility is not None else {}
            known |= set(prices)
            for i, line in enumerate(lines):
                path = f"lines[{i}]"
                if not isinstance(line, dict):
                    err(path, "C06", "service", code=str(line))
                    continue
                lcode = str(line.get("code") or "").strip()
                if not lcode:
                    err(f"{path}.code", "C06", "required")
                elif lcode not in known:
                    err(f"{path}.code", "C06", "service", code=lcode)
                try:
                    qty = Decimal(str(line.get("quantity", 1)).strip() or "1")
                    if not qty.is_finite() or qty <= 0 or qty > 9999 or qty != qty.quantize(Decimal("0.01")):
                        raise InvalidOperation
                except (InvalidOperation, ValueError):
                    err(f"{path}.quantity", "C07", "quantity")
                    qty = None
                price = line.get("price")
                if price not in (None, ""):
                    try:
                        price = Decimal(str(price).strip())
                        if not price.is_finite() or price < 0 or price != money(price) or price > MAX_PRICE:
                            raise InvalidOperation
                    except (InvalidOperation, ValueError):
                        err(f"{path}.price", "C07", "price")
                        price = None
                else:
                    price = None
                parsed.append({"code": lcode, "quantity": qty, "price": price})
            # the most the claim can be worth (asked or valued: the price asked or the list's, whichever is higher)
            total = sum((max(line["price"] or 0, prices.get(line["code"]) or 0) * line["quantity"]
                         for line in parsed if line["quantity"] is not None), Decimal(0))
            if total > MAX_AMOUNT:
                err("lines", "C07", "too_much", total=f"{total:.2f}", max=f"{MAX_AMOUNT:.2f}")
        values["lines"] = parsed
        return values, errors

    # ---- submission ---------------------------------------------------------------------

    def submit(self, scheme_code: str, data, *, allowed_facilities: set[int] | None = None,
               adjudicate: bool = True) -> SubmitResult:
        scheme = self.scheme(scheme_code)
        values, errors = self.parse(scheme, data)
        facility = values.get("facility")
        if facility is not None and allowed_facilities is not None and facility.id not in allowed_facilities \
                and not any(e.path == "facility" for e in errors):
            errors.append(FieldError("facility", "facility", "C10", msg("facility_scope", self.lang)))
        if errors:
            return SubmitResult(None, errors)
        benefit, person = values["benefit"], values["person"]
        wf = scheme.workflows["claims"]
        if allowed(wf, wf.initial, "submit", roles_of(self.user, scheme.code)) is None:
            return SubmitResult(None, [FieldError("", "", "C12", msg("submit_role", self.lang))])
        claim = ClaimRecord(code=values["code"], scheme_code=scheme.code, scheme_version_id=self.catalog.version_id(scheme.code),
                            benefit_code=benefit.code, facility_id=facility.id, individual_id=person.id,
                            date_from=values["date_from"], date_to=values["date_to"], care_type=values["care_type"],
                            diagnosis=values["diagnosis"], status=wf.initial, created_by=getattr(self.user, "id", None))
        claim.lines = [ClaimLineRecord(position=i, code=line["code"], quantity=line["quantity"], price_asked=line["price"],
                                       status="entered") for i, line in enumerate(values["lines"])]
        try:
            with self.session.begin_nested():
                self.session.add(claim)
                self.session.flush()
        except IntegrityError:
            existing = self.session.scalar(select(ClaimRecord).where(ClaimRecord.facility_id == facility.id,
                                                                     ClaimRecord.code == values["code"]))
            if existing is None:
                raise
            return SubmitResult(None, [FieldError("code", "code", "C09", msg("duplicate", self.lang, code=values["code"],
                                                                              id=existing.id))], existing.id)
        audit.record(self.session, user=self.user, action="create", entity="claim", entity_id=claim.id,
                     scheme_code=scheme.code, ip=self.ip, after=self.snapshot(claim))
        try:
            step(self.session, scheme, "claims", claim, "submit", user=self.user, entity="claim", ip=self.ip)
        except StepRefused as exc:
            return SubmitResult(claim, [FieldError("", "", "C12", exc.text(self.lang))])
        if adjudicate:
            self.adjudicate(scheme, benefit, [claim.id])
            self.session.refresh(claim)
            for line in claim.lines:
                self.session.refresh(line)
        return SubmitResult(claim, [])

    def resubmit(self, claim: ClaimRecord) -> None:
        """A claim returned for correction goes through the checks again."""
        scheme = self.scheme_of(claim)
        try:
            step(self.session, scheme, "claims", claim, "submit", user=self.user, entity="claim", ip=self.ip)
        except StepRefused as exc:
            raise ClaimError("not_allowed", exc.text(self.lang), 403) from None
        self.adjudicate(scheme, scheme.benefit(claim.benefit_code), [claim.id])
        self.session.refresh(claim)
        for line in claim.lines:
            self.session.refresh(line)

    @staticmethod
    def snapshot(claim: ClaimRecord) -> dict:
        return {"code": claim.code, "facility_id": claim.facility_id, "individual_id": claim.individual_id,
                "date_from": claim.date_from.isoformat(), "care_type": claim.care_type, "diagnosis": claim.diagnosis,
                "status": claim.status, "payable": str(claim.payable),
                "lines": [{"code": line.code, "quantity": str(line.quantity), "price_asked": str(line.price_asked)
                           if line.price_asked is not None else None, "approved": str(line.quantity_approved),
                           "price": str(line.price), "payable": str(line.payable), "status": line.status}
                          for line in claim.lines]}

    # ---- automated adjudication ----------------------------------------------------------------

    def adjudicate_pending(self, scheme_code: str, benefit_code: str | None = None, chunk: int | None = None,
                           progress=None) -> AdjudicationReport:
        """Every submitted claim of the scheme, in chunks, oldest first (PostgreSQL: bigger chunks, as each
        chunk's updates scan the claims and their lines once, whatever the chunk's size)."""
        if chunk is None:
            chunk = PENDING_CHUNK if self.session.get_bind().dialect.name == "postgresql" else CHUNK
        scheme = self.scheme(scheme_code)
        benefit = insurance_benefit(scheme, benefit_code)
        ids = list(self.session.scalars(select(ClaimRecord.id).where(
            ClaimRecord.scheme_code == scheme.code, ClaimRecord.benefit_code == benefit.code,
            ClaimRecord.status == "submitted").order_by(ClaimRecord.date_from, ClaimRecord.id)))
        total = AdjudicationReport()
        for part in chunks(ids, chunk):
            report = self.adjudicate(scheme, benefit, part, keep_decisions=False)
            total.claims += report.claims
            total.lines += report.lines
            for k, v in report.seconds.items():
                total.seconds[k] += v
            for k, v in report.statuses.items():
                total.statuses[k] = total.statuses.get(k, 0) + v
            if progress:
                progress(total.claims)
        return total

    def adjudicate(self, scheme: Scheme, benefit: Benefit, claim_ids: list[int],
                   keep_decisions: bool = True) -> AdjudicationReport:
        """Check, decide and route submitted claims: a handful of queries in, executemany out."""
        report = AdjudicationReport()
        if not claim_ids:
            return report
        s = self.session
        s.flush()
        started = time.perf_counter()
        wf = scheme.workflows["claims"]
        adj = self.adjudicator(scheme, benefit)
        dialect = s.get_bind().dialect.name
        conn = s.connection()
        claims = conn.execute(select(ClaimRecord.id, ClaimRecord.code, ClaimRecord.facility_id, ClaimRecord.individual_id,
                                     ClaimRecord.date_from, ClaimRecord.date_to, ClaimRecord.care_type,
                                     ClaimRecord.diagnosis, ClaimRecord.status)
                              .where(among(ClaimRecord.id, claim_ids, dialect))).all()
        claims = [c for c in claims if wf.can(c.status, "check", "system")]
        if not claims:
            return report
        lines: dict[int, list] = {}
        for row in conn.execute(select(ClaimLineRecord.id, ClaimLineRecord.claim_id, ClaimLineRecord.code,
                                       ClaimLineRecord.quantity, ClaimLineRecord.price_asked)
                                .where(among(ClaimLineRecord.claim_id, [c.id for c in claims], dialect))
                             .order_by(ClaimLineRecord.claim_id, ClaimLineRecord.position)).all():
            lines.setdefault(row.claim_id, []).append(row)
        book = load_book(s, scheme, benefit, adj, person_ids=[c.individual_id for c in claims],
                         facility_ids=[c.facility_id for c in claims], dates=[c.date_from for c in claims],
                         exclude_claims={c.id for c in claims})
        paths = self._paths(wf)
        now = datetime.now()
        loaded = time.perf_counter()
        line_rows, claim_rows, audit_rows = [], [], []
        user_id, username = getattr(self.user, "id", None), getattr(self.user, "username", "") or ""
        for c in sorted(claims, key=lambda c: (c.date_from, c.id)):
            person = book.persons.get(c.individual_id)
            facility = book.facilities[c.facility_id]
            cover, policy = book.cover(person, c.date_from)
            claim_lines = lines.get(c.id, [])
            claim = Claim(str(c.id), person, facility, c.date_from, c.care_type,
                          tuple(Line(x.code, Decimal(x.quantity), Decimal(x.price_asked) if x.price_asked is not None
                                     else None) for x in claim_lines), c.date_to, c.diagnosis)
            decision = adj.adjudicate(claim, cover, book.usage, book.applies(person, c.date_from) if cover.active else None)
            outcome = decision.status
            review = outcome != "rejected" and selected_for_review(benefit, scheme.code, c.facility_id, c.code,
                                                                    decision.payable)
            route, state = paths["rejected" if outcome == "rejected" else ("review" if review else "valuate")][c.status]
            for row, d in zip(claim_lines, decision.lines, strict=True):
                line_rows.append((d.status, d.quantity, d.price, d.valuated, d.co_payment, d.payable,
                                  json.dumps([list(r) for r in d.reasons]) if d.reasons else "[]", row.id))
                report.lines += 1
            payable = decision.payable if outcome != "rejected" else Decimal(0)
            claim_rows.append((state, payable, money(decision.asked), review, policy.id if policy else None, now, c.id))
            report.claims += 1
            report.statuses[state] = report.statuses.get(state, 0) + 1
            if keep_decisions:
                report.decisions[c.id] = decision
            audit_rows.append((now, user_id, username, "adjudicate", "claim", c.id, scheme.code,
                               json.dumps({"status": c.status}),
                               json.dumps({"status": state, "steps": route, "decision": outcome, "payable": str(payable),
                                           "review": review,
                                           "reasons": sorted({r[0] for d in decision.lines for r in d.reasons})}),
                               "", self.ip))
        decided = time.perf_counter()
        write_decisions(s, line_rows, claim_rows, audit_rows)
        report.seconds = {"load": loaded - started, "decide": decided - loaded, "write": time.perf_counter() - decided}
        return report

    @staticmethod
    def _paths(wf) -> dict[str, dict[str, tuple[list[str], str]]]:
        """For each outcome and starting state: the system's transitions and the state reached."""
        out = {}
        for outcome, after in (("rejected", "reject"), ("review", "select_for_review"), ("valuate", "valuate")):
            out[outcome] = {}
            for start in wf.states:
                state, route = start, []
                for name in ("check", after):
                    t = wf.can(state, name, "system")
                    if t is None:
                        break
                    route.append(name)
                    state = t.target
                out[outcome][start] = (route, state)
        return out

    # ---- review --------------------------------------------------------------------------

    def valued_state(self, scheme: Scheme) -> str:
        return target_of(scheme.workflows["claims"], "valuate") or "valuated"

    def can_adjust(self, claim: ClaimRecord) -> bool:
        """A reviewer may change lines while one of their transitions can still lead to the valued state."""
        scheme = self.scheme_of(claim)
        wf = scheme.workflows["claims"]
        valued = self.valued_state(scheme)
        roles = roles_of(self.user, scheme.code)
        return claim.status != valued and any(t.target == valued and t.name != "check"
                                              for t in available(wf, claim.status, roles - {"system"}))

    def adjust_line(self, claim: ClaimRecord, position: int, *, quantity=None, price=None, reason: str = "") -> ClaimLineRecord:
        """A reviewer changes the approved quantity or price of a line, with a reason; the claim is valued again."""
        scheme = self.scheme_of(claim)
        benefit = scheme.benefit(claim.benefit_code)
        if not self.can_adjust(claim):
            raise ClaimError("not_allowed", msg("adjust_state", self.lang, status=state_word(claim.status, self.lang)), 403)
        reason = " ".join((reason or "").split())[:500]
        if not reason:
            raise ClaimError("reason", msg("adjust_reason", self.lang), 422)
        line = next((x for x in claim.lines if x.position == position), None)
        if line is None:
            raise ClaimError("unknown_line", msg("unknown_line", self.lang, n=position + 1), 404)
        before = {"quantity_approved": str(line.quantity_approved), "price": str(line.price), "status": line.status,
                  "payable": str(line.payable)}
        try:
            if quantity not in (None, ""):
                quantity = Decimal(str(quantity).strip())
                if not quantity.is_finite() or quantity < 0 or quantity > line.quantity:
                    raise ClaimError("quantity", msg("adjust_quantity", self.lang, max=line.quantity), 422)
            else:
                quantity = None
            if price not in (None, ""):
                price = Decimal(str(price).strip())
                if price.is_finite() and price > MAX_PRICE:  # (before money(): 1E+30 has no cents in 28 digits)
                    raise ClaimError("price", msg("adjust_price_max", self.lang, max=f"{MAX_PRICE}"), 422)
                if not price.is_finite() or price < 0 or price != money(price):
                    raise ClaimError("price", msg("adjust_price", self.lang), 422)
            else:
                price = None
        except InvalidOperation:
            raise ClaimError("number", msg("adjust_number", self.lang), 422) from None
        if quantity is None and price is None:
            raise ClaimError("nothing", msg("adjust_nothing", self.lang), 422)
        total = sum(((price if x is line and price is not None else x.price or 0) *
                     (quantity if x is line and quantity is not None else x.quantity_approved or 0)
                     for x in claim.lines), Decimal(0))
        if total > MAX_AMOUNT:  # what the lines would be valued at: stored as MONEY
            raise ClaimError("price", msg("adjust_too_much", self.lang, total=f"{total:.2f}", max=f"{MAX_AMOUNT:.2f}"), 422)
        if quantity is not None:
            if quantity > 0 and line.code not in {s.code for s in benefit.services + benefit.items}:
                raise ClaimError("not_covered", msg("not_covered", self.lang, code=line.code), 422)
            line.quantity_approved = quantity.quantize(Decimal("0.01"))
            line.status = "rejected" if quantity == 0 else "adjusted"
        if price is not None:
            line.price = money(price)
            if line.status == "accepted":
                line.status = "adjusted"
        line.review_note = ((line.review_note + "\n") if line.review_note else "") + reason
        line.reasons = list(line.reasons or []) + [list(stored_reason("REV", "reviewer", reason=reason))]
        self.revaluate(claim)
        audit.record(self.session, user=self.user, action="adjust", entity="claim", entity_id=claim.id,
                     scheme_code=claim.scheme_code, ip=self.ip, detail=reason,
                     before={"line": position + 1, **before},
                     after={"line": position + 1, "quantity_approved": str(line.quantity_approved),
                            "price": str(line.price), "status": line.status, "payable": str(line.payable),
                            "claim_payable": str(claim.payable)})
        return line

    def revaluate(self, claim: ClaimRecord) -> None:
        """Value the claim's lines again (co-payment, deductible, ceilings) against everything else used."""
        scheme = self.scheme_of(claim)
        benefit = scheme.benefit(claim.benefit_code)
        adj = self.adjudicator(scheme, benefit)
        self.session.flush()
        book = load_book(self.session, scheme, benefit, adj, person_ids=[claim.individual_id],
                         facility_ids=[claim.facility_id], dates=[claim.date_from], exclude_claims={claim.id})
        person = book.persons[claim.individual_id]
        cover, _ = book.cover(person, claim.date_from)
        c = Claim(str(claim.id), person, book.facilities[claim.facility_id], claim.date_from, claim.care_type, ())
        decision = ClaimDecision(str(claim.id), [
            LineDecision(x.code, "rejected" if x.status == "rejected" else x.status, Decimal(x.quantity_approved),
                         Decimal(x.price), Decimal(x.quantity), x.price_asked,
                         reasons=[tuple(r) for r in (x.reasons or []) if r and r[0] != "R10"])
            for x in claim.lines])
        for d in decision.lines:
            if d.status == "rejected":
                d.valuated = d.co_payment = d.deductible = d.payable = Decimal(0)
        adj.valuate(c, decision, book.usage, cover.year_start)
        for x, d in zip(claim.lines, decision.lines, strict=True):
            x.valuated, x.co_payment, x.payable = d.valuated, d.co_payment, d.payable
            x.reasons = [list(r) for r in d.reasons]
        claim.payable = decision.payable
        claim.updated_at = datetime.now()
        self.session.flush()

    def transition(self, claim: ClaimRecord, name: str, note: str = "") -> None:
        """A person's step of the claims workflow (valuate after review, reject, refer, return, ...)."""
        scheme = self.scheme_of(claim)
        if name in ("batch", "pay"):
            raise ClaimError("use_batch", msg("use_batch", self.lang), 422)
        if name == "submit":
            self.resubmit(claim)
            return
        try:
            step(self.session, scheme, "claims", claim, name, user=self.user, entity="claim", detail=note[:500],
                 ip=self.ip, after={"payable": str(claim.payable)})
        except StepRefused as exc:
            raise ClaimError("not_allowed", exc.text(self.lang), 403) from None
        if claim.status in scheme.workflows["claims"].final and claim.status != target_of(scheme.workflows["claims"], "pay"):
            claim.payable = Decimal(0)  # rejected
            self.session.flush()

    # ---- feedback ------------------------------------------------------------------------

    def record_feedback(self, claim: ClaimRecord, data: dict) -> dict:
        def yes_no(name):
            v = data.get(name)
            if isinstance(v, bool):
                return v
            v = str(v or "").strip().lower()
            if v in ("yes", "true", "1", "oui"):
                return True
            if v in ("no", "false", "0", "non"):
                return False
            raise ClaimError("feedback", msg("feedback_yes_no", self.lang, name=feedback_question(name, self.lang)), 422)

        try:
            satisfaction = int(str(data.get("satisfaction") or "").strip())
        except ValueError:
            satisfaction = 0
        if not 1 <= satisfaction <= 5:
            raise ClaimError("feedback", msg("feedback_satisfaction", self.lang), 422)
        feedback = {"care_received": yes_no("care_received"), "asked_to_pay": yes_no("asked_to_pay"),
                    "satisfaction": satisfaction, "comment": " ".join(str(data.get("comment") or "").split())[:500],
                    "recorded_on": date.today().isoformat(), "recorded_by": getattr(self.user, "username", None)}
        before = claim.feedback
        claim.feedback = feedback
        claim.updated_at = datetime.now()
        self.session.flush()
        audit.record(self.session, user=self.user, action="feedback", entity="claim", entity_id=claim.id,
                     scheme_code=claim.scheme_code, before={"feedback": before}, after={"feedback": feedback}, ip=self.ip)
        return feedback

    # ---- payment batches ------------------------------------------------------------------

    def batch(self, scheme_code: str, facility: FacilityRow, period: str) -> ClaimBatch:
        """The facility's batch for a month (YYYY-MM of the date of service): every valued claim not yet
        batched joins it. The batch is unique per scheme, facility and month; running it again only
        adds claims valued since."""
        scheme = self.scheme(scheme_code)
        try:
            first = terms.parse_period(period)
        except ValueError:
            raise ClaimError("period", msg("period", self.lang), 422) from None
        wf = scheme.workflows["claims"]
        valued = self.valued_state(scheme)
        t = next((t for t in wf.transitions_from(valued) if t.name == "batch"), None)
        roles = roles_of(self.user, scheme.code)
        if t is None or not ("administrator" in roles or set(t.roles) & roles):
            raise ClaimError("not_allowed", msg("may_not_batch", self.lang), 403)
        batch = self.session.scalar(select(ClaimBatch).where(ClaimBatch.scheme_code == scheme.code,
                                                             ClaimBatch.facility_id == facility.id,
                                                             ClaimBatch.period == period))
        if batch is None:
            try:
                with self.session.begin_nested():
                    batch = ClaimBatch(scheme_code=scheme.code, facility_id=facility.id, period=period, status="open",
                                       total=Decimal(0))
                    self.session.add(batch)
                    self.session.flush()
                audit.record(self.session, user=self.user, action="create", entity="claim_batch", entity_id=batch.id,
                             scheme_code=scheme.code, after={"facility": facility.code, "period": period}, ip=self.ip)
            except IntegrityError:
                batch = self.session.scalar(select(ClaimBatch).where(ClaimBatch.scheme_code == scheme.code,
                                                                     ClaimBatch.facility_id == facility.id,
                                                                     ClaimBatch.period == period))
        if batch.status != "open":
            raise ClaimError("closed", msg("batch_paid_period", self.lang, period=period), 409)
        nxt = terms.add_months(first, 1)
        ids = list(self.session.scalars(select(ClaimRecord.id).where(
            ClaimRecord.scheme_code == scheme.code, ClaimRecord.facility_id == facility.id,
            ClaimRecord.status == valued, ClaimRecord.batch_id.is_(None),
            ClaimRecord.date_from >= first, ClaimRecord.date_from < nxt).with_for_update()))
        self._bulk_step(scheme, ids, valued, t.target, "batch", {"batch_id": batch.id})
        batch.total = self.session.scalar(select(func.coalesce(func.sum(ClaimRecord.payable), 0))
                                          .where(ClaimRecord.batch_id == batch.id)) or Decimal(0)
        audit.record(self.session, user=self.user, action="batch", entity="claim_batch", entity_id=batch.id,
                     scheme_code=scheme.code, after={"added": len(ids), "total": str(batch.total)}, ip=self.ip)
        self.session.flush()
        return batch

    def _bulk_step(self, scheme: Scheme, ids: list[int], source: str, target: str, transition: str, extra: dict) -> None:
        if not ids:
            return
        now = datetime.now()
        ct = ClaimRecord.__table__
        for part in chunks(ids):
            self.session.execute(update(ct).where(ct.c.id.in_(part), ct.c.status == source)
                                 .values(status=target, updated_at=now, **extra))
        user_id, username = getattr(self.user, "id", None), getattr(self.user, "username", "") or ""
        self.session.execute(insert(AuditLog.__table__), [
            {"at": now, "user_id": user_id, "username": username, "action": transition, "entity": "claim",
             "entity_id": i, "scheme_code": scheme.code, "before": {"status": source},
             "after": {"status": target, **{k: v for k, v in extra.items()}}, "detail": "", "ip": self.ip}
            for i in ids])
        self.session.expire_all()

    def pay_batch(self, batch: ClaimBatch, reference: str = "") -> ClaimBatch:
        scheme = self.scheme(batch.scheme_code)
        wf = scheme.workflows["claims"]
        batched = target_of(wf, "batch")
        t = next((t for t in wf.transitions_from(batched) if t.name == "pay"), None) if batched else None
        roles = roles_of(self.user, scheme.code)
        if t is None or not ("administrator" in roles or set(t.roles) & roles):
            raise ClaimError("not_allowed", msg("may_not_pay", self.lang), 403)
        if batch.status != "open":
            raise ClaimError("closed", msg("batch_paid", self.lang), 409)
        ids = list(self.session.scalars(select(ClaimRecord.id).where(ClaimRecord.batch_id == batch.id,
                                                                     ClaimRecord.status == batched)))
        self._bulk_step(scheme, ids, batched, t.target, "pay", {})
        batch = self.session.get(ClaimBatch, batch.id)
        batch.status = "paid"
        audit.record(self.session, user=self.user, action="pay", entity="claim_batch", entity_id=batch.id,
                     scheme_code=scheme.code, after={"status": "paid", "total": str(batch.total), "claims": len(ids),
                                                     "reference": reference[:64]}, ip=self.ip)
        self.session.flush()
        return batch

    def payment_file(self, batch: ClaimBatch) -> str:
        """The provider payment file: one row per claim, then the total to pay the facility."""
        facility = self.session.get(FacilityRow, batch.facility_id)
        scheme = self.catalog.current(batch.scheme_code)
        currency = scheme.currency if scheme else ""
        rows = self.session.execute(select(ClaimRecord, Individual.uid).join(Individual, Individual.id == ClaimRecord.individual_id)
                                    .where(ClaimRecord.batch_id == batch.id).order_by(ClaimRecord.date_from, ClaimRecord.id)).all()
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\r\n")
        w.writerow(["scheme", "period", "facility_code", "facility_name", "claim_code", "insuree", "date_from",
                    "care_type", "diagnosis", "asked", "payable", "currency"])
        for claim, uid in rows:
            w.writerow([batch.scheme_code, batch.period, facility.code, facility.name, claim.code, uid,
                        claim.date_from.isoformat(), claim.care_type, claim.diagnosis, f"{claim.asked:.2f}",
                        f"{claim.payable:.2f}", currency])
        w.writerow([batch.scheme_code, batch.period, facility.code, facility.name, "TOTAL", "", "", "", "",
                    f"{sum((c.asked for c, _ in rows), Decimal(0)):.2f}", f"{batch.total:.2f}", currency])
        return out.getvalue()


def claims_since(days: int) -> date:
    return date.today() - timedelta(days=days)


def submit_and_commit(service: ClaimService, scheme_code: str, data, attempts: int = 8, **kwargs) -> SubmitResult:
    """Submit and commit; on SQLite a concurrent writer can make the transaction's first write fail
    ("database is locked": its snapshot is stale), so the whole submission is tried again - the
    retry then meets the other clerk's claim through the unique constraint (C09)."""
    from sqlalchemy.exc import OperationalError

    for attempt in range(attempts):
        try:
            result = service.submit(scheme_code, data, **kwargs)
            if result.ok:
                service.session.commit()
            else:
                service.session.rollback()
            return result
        except OperationalError as exc:
            service.session.rollback()
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * 2 ** attempt)
    raise AssertionError("unreachable")
