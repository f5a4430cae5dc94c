"""Automated claim adjudication and registry-wide premiums at scale (PostgreSQL or SQLite).

    .venv/bin/python benchmarks/claims.py                      # 100,000 claims, 1,000,000 insured, PostgreSQL
    .venv/bin/python benchmarks/claims.py --claims 500 --persons 5000 --households 2000 --sqlite   # smoke run

Registry: --persons insured people of the Tanzania CHF-style example (examples/tz_chf.yaml) in
households of 1-8 members, each household with a policy (94% paid and active since the start of
the insurance year, 3% enrolled late - still in their waiting period on some visits - and 3% never
paid), 60 facilities of the three levels with their price lists. Everything is generated straight
into the tables (COPY on PostgreSQL, executemany on SQLite), not through the per-record services.

1. Adjudication: --claims submitted claims of 3-7 lines each (services and items of the facility's
   level, a few not covered), then `ClaimService.adjudicate_pending` - set-based loading per chunk
   of claims (20,000 on PostgreSQL, 5,000 on SQLite), the pure Adjudicator, decisions written back
   with COPY and one UPDATE ... FROM per table (executemany on SQLite). Prints claims/s
   and the share of the time spent in the database (the driver's execute calls). Target:
   >= 2,000 claims/s.
2. Premiums: `policies.premiums.household_premiums` for --households households (a second registry
   of that many households): members and adults counted in SQL, the engine's premium per distinct
   pair. Prints households/s, and checks a sample against `compute_premium` household by household.

PostgreSQL runs in a fresh database created on the server of --database-url (default: the test
server) and dropped afterwards; --sqlite uses a temporary file. Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))

from sqlalchemy import event, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from openscheme.claims.service import ClaimService  # noqa: E402
from openscheme.evaluation.engine import compute_premium  # noqa: E402
from openscheme.policies.premiums import household_premiums  # noqa: E402
from openscheme.reference.seed import seed_catalogue  # noqa: E402
from openscheme.registry.values import decoder  # noqa: E402
from openscheme.storage.db import Database  # noqa: E402
from openscheme.storage.migrate import upgrade  # noqa: E402
from openscheme.storage.models import Facility, Household, Individual  # noqa: E402
from openscheme.storage.schemes import SchemeCatalog  # noqa: E402
from openscheme.storage.scratch import fresh_postgres  # noqa: E402
from openscheme.storage.workflow_models import ClaimRecord  # noqa: E402

SCHEME_FILE = ROOT / "examples" / "tz_chf.yaml"
CODE, BENEFIT = "tz-chf", "chf_cover"
YEAR_START, YEAR_END = date(2024, 7, 1), date(2025, 6, 30)
DEFAULT_PG = os.environ.get("OPENSCHEME_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
LEVELS = ("dispensary", "health_centre", "district_hospital")
TARGET = 2000.0
CHUNK = 50_000

HOUSEHOLD_COLUMNS = ("id", "uid", "scheme_code", "scheme_version_id", "data", "location_code", "location_path",
                     "active", "created_at", "row_version")
MEMBER_COLUMNS = ("id", "uid", "scheme_code", "scheme_version_id", "household_id", "position", "roles", "data",
                  "location_code", "location_path", "active", "created_at", "row_version")
POLICY_COLUMNS = ("id", "scheme_code", "scheme_version_id", "benefit_code", "unit_type", "unit_id", "status",
                  "enrol_date", "start_date", "expiry_date", "premium", "created_at")
CLAIM_COLUMNS = ("id", "code", "scheme_code", "scheme_version_id", "benefit_code", "facility_id", "individual_id",
                 "date_from", "care_type", "diagnosis", "status", "asked", "payable", "selected_for_review", "created_at")
LINE_COLUMNS = ("id", "claim_id", "position", "code", "quantity", "quantity_approved", "price", "valuated",
                "co_payment", "payable", "status")


def log(message: str) -> None:
    print(message, flush=True)


class Failed(Exception):
    pass


class Bulk:
    """COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, db: Database):
        self.db = db
        self.raw = db.engine.raw_connection()
        self.cursor = self.raw.cursor()

    def rows(self, table: str, columns, rows) -> None:
        if self.db.dialect == "postgresql":
            with self.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            plain = [tuple(str(v) if isinstance(v, Decimal) else v.isoformat(" ") if isinstance(v, datetime)
                           else v.isoformat() if isinstance(v, date) else v for v in row) for row in rows]
            self.cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                                    f"({', '.join('?' * len(columns))})", plain)

    def finish(self, sequences: dict[str, int]) -> None:
        self.raw.commit()
        if self.db.dialect == "postgresql":
            for seq, value in sequences.items():
                self.cursor.execute(f"SELECT setval('{seq}', {max(value, 1)})")
        self.cursor.execute("ANALYZE")
        self.raw.commit()
        self.raw.close()


def households(rng: random.Random, version_id: int, first_id: int, persons: int | None, count: int | None,
               first_member: int, now: datetime, uid_prefix: str = ""):
    """Chunks of (household rows, member rows): until `persons` people or `count` households."""
    dobs = [date(1940 + rng.randrange(84), 1 + rng.randrange(12), 1 + rng.randrange(28)).isoformat() for _ in range(4000)]
    names = [f"Name{i}" for i in range(300)]
    hid, mid, people, made = first_id, first_member, 0, 0
    while True:
        hh, members = [], []
        while len(hh) < CHUNK // 5:
            if (persons is not None and people >= persons) or (count is not None and made >= count):
                break
            size = rng.randint(1, 8)
            if persons is not None:
                size = min(size, persons - people)
            data = {"region": "DODOMA", "district": "KONGWA_DC", "ward": "MLALI", "village": "MLALI_BWAWANI",
                    "payment_method": "cash"}
            hh.append((hid, f"H{hid:010d}", CODE, version_id, json.dumps(data), "MLALI_BWAWANI",
                       "/", True, now, 1))
            for position in range(size):
                m = {"first_name": names[rng.randrange(300)], "last_name": "Juma", "sex": "FM"[rng.randrange(2)],
                     "dob": dobs[rng.randrange(4000)] if position else "1975-05-05"}
                members.append((mid, f"P{mid:010d}", CODE, version_id, hid, position,
                                '["head"]' if position == 0 else "[]", json.dumps(m), "MLALI_BWAWANI", "/", True, now, 1))
                mid += 1
            people += size
            made += 1
            hid += 1
        if not hh:
            return
        yield hh, members


def build_registry(db: Database, version_id: int, persons: int, seed: int = 2024) -> dict:
    rng = random.Random(seed)
    now = datetime.now().replace(microsecond=0)
    bulk = Bulk(db)
    hh_count = member_count = 0
    policy_rows = []
    for hh, members in households(rng, version_id, 1, persons, None, 1, now):
        bulk.rows("households", HOUSEHOLD_COLUMNS, hh)
        bulk.rows("individuals", MEMBER_COLUMNS, members)
        for row in hh:
            r = rng.random()
            if r < 0.03:  # never paid
                policy_rows.append((row[0], CODE, version_id, BENEFIT, "household", row[0], "pending", YEAR_START,
                                    None, None, Decimal("32000"), now))
                continue
            start = YEAR_START if r < 0.97 else YEAR_START + timedelta(days=120)  # late: waiting periods
            policy_rows.append((row[0], CODE, version_id, BENEFIT, "household", row[0], "active", start, start,
                                YEAR_END, Decimal("32000"), now))
        hh_count += len(hh)
        member_count += len(members)
    for i in range(0, len(policy_rows), CHUNK):
        bulk.rows("policies", POLICY_COLUMNS, policy_rows[i:i + CHUNK])
    bulk.finish({"households_id_seq": hh_count, "individuals_id_seq": member_count, "policies_id_seq": hh_count})
    return {"households": hh_count, "persons": member_count}


def build_facilities(db: Database, catalog: SchemeCatalog) -> list[tuple[int, str, str]]:
    with db.session_factory() as s, s.begin():
        lists = seed_catalogue(s, catalog.all_current()).price_lists[CODE]
        out = []
        for i in range(60):
            level = LEVELS[i % 3]
            f = Facility(code=f"F{i:03d}", name=f"Facility {i}", level=level,
                         care_type="out_patient" if level == "dispensary" else "both",
                         price_list_id=lists[level].id, active=True)
            s.add(f)
            s.flush()
            out.append((f.id, level, f.care_type))
        return out


def build_claims(db: Database, scheme, version_id: int, n: int, persons: int, facilities, seed: int = 7) -> int:
    rng = random.Random(seed)
    now = datetime.now().replace(microsecond=0)
    benefit = scheme.benefit(BENEFIT)
    table = scheme.tables["facility_prices"]
    by_level = {}
    for level in LEVELS:
        codes = [s for s in benefit.services + benefit.items
                 if s.price is not None or (s.price_table and table.rows.get(level, {}).get(s.price_column) is not None)]
        by_level[level] = codes
    days = (date(2025, 5, 31) - date(2024, 9, 1)).days
    bulk = Bulk(db)
    claims, lines, line_id = [], [], 0
    for cid in range(1, n + 1):
        fid, level, care = facilities[rng.randrange(len(facilities))]
        care_type = "in_patient" if care == "both" and rng.random() < 0.1 else "out_patient"
        services = [s for s in by_level[level] if s.care_type in ("both", care_type)]
        claims.append((cid, f"C{cid:08d}", CODE, version_id, BENEFIT, fid, rng.randint(1, persons),
                       date(2024, 9, 1) + timedelta(days=rng.randrange(days)), care_type, "B54", "submitted",
                       Decimal(0), Decimal(0), False, now))
        for position in range(rng.randint(3, 7)):
            line_id += 1
            code = "XYZ99" if rng.random() < 0.01 else services[rng.randrange(len(services))].code
            lines.append((line_id, cid, position, code, Decimal(rng.choice((1, 1, 1, 2, 10, 30))), Decimal(0),
                          Decimal(0), Decimal(0), Decimal(0), Decimal(0), "entered"))
        if len(claims) >= CHUNK // 5:
            bulk.rows("claims", CLAIM_COLUMNS, claims)
            bulk.rows("claim_lines", LINE_COLUMNS, lines)
            claims, lines = [], []
    if claims:
        bulk.rows("claims", CLAIM_COLUMNS, claims)
        bulk.rows("claim_lines", LINE_COLUMNS, lines)
    bulk.finish({"claims_id_seq": n, "claim_lines_id_seq": line_id})
    return line_id


class DbClock:
    """Time spent inside the driver's execute calls."""

    def __init__(self, engine):
        self.seconds = 0.0
        self.engine = engine
        self.started = {}
        event.listen(engine, "before_cursor_execute", self.before)
        event.listen(engine, "after_cursor_execute", self.after)

    def before(self, conn, cursor, statement, parameters, context, executemany):
        self.started[id(cursor)] = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context, executemany):
        self.seconds += time.perf_counter() - self.started.pop(id(cursor), time.perf_counter())

    def stop(self):
        event.remove(self.engine, "before_cursor_execute", self.before)
        event.remove(self.engine, "after_cursor_execute", self.after)


def run_claims(db: Database, catalog: SchemeCatalog, n_claims: int, n_persons: int, label: str) -> dict:
    scheme, version_id = catalog.current(CODE), catalog.version_id(CODE)
    t = time.perf_counter()
    registry = build_registry(db, version_id, n_persons)
    facilities = build_facilities(db, catalog)
    log(f"[{label}] registry: {registry['persons']:,} insured persons in {registry['households']:,} households with "
        f"their policies, {len(facilities)} facilities, in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    n_lines = build_claims(db, scheme, version_id, n_claims, registry["persons"], facilities)
    log(f"[{label}] claims: {n_claims:,} submitted claims with {n_lines:,} lines ({n_lines / n_claims:.1f} per claim) "
        f"inserted in {time.perf_counter() - t:.1f} s")
    clock = DbClock(db.engine)
    last = [time.perf_counter()]

    def progress(done):
        if time.perf_counter() - last[0] >= 10:
            last[0] = time.perf_counter()
            log(f"[{label}]   ... {done:,} claims")

    t = time.perf_counter()
    with db.session_factory() as s:
        report = ClaimService(s, catalog, None).adjudicate_pending(CODE, BENEFIT, progress=progress)
        s.commit()
    seconds = time.perf_counter() - t
    clock.stop()
    with db.session_factory() as s:
        left = s.scalar(select(func.count()).select_from(ClaimRecord).where(ClaimRecord.status == "submitted"))
        statuses = dict(s.execute(select(ClaimRecord.status, func.count()).group_by(ClaimRecord.status)).all())
    if report.claims != n_claims or left:
        raise Failed(f"{report.claims} of {n_claims} claims adjudicated, {left} still submitted")
    rate = n_claims / seconds
    phases = report.seconds
    in_db = phases["load"] + phases["write"]  # queries and their rows, COPY and the updates
    log(f"[{label}] adjudication: {n_claims:,} claims ({report.lines:,} lines) in {seconds:.2f} s = {rate:,.0f} claims/s "
        f"(target >= {TARGET:,.0f}); time in the database (loading + writing) {in_db:.2f} s = "
        f"{100 * in_db / seconds:.0f}% (of which inside execute calls: {clock.seconds:.2f} s)")
    log(f"[{label}]   phases: loading {phases['load']:.2f} s, deciding (Python) {phases['decide']:.2f} s, "
        f"writing {phases['write']:.2f} s")
    log(f"[{label}]   outcome: " + ", ".join(f"{k} {v:,}" for k, v in sorted(statuses.items())))
    return {"claims_per_s": rate, "db_share": in_db / seconds}


def run_premiums(db: Database, catalog: SchemeCatalog, n: int, label: str) -> dict:
    scheme, version_id = catalog.current(CODE), catalog.version_id(CODE)
    with db.engine.begin() as conn:
        first_h = (conn.scalar(select(func.max(Household.id))) or 0) + 1
        first_m = (conn.scalar(select(func.max(Individual.id))) or 0) + 1
        conn.execute(text("UPDATE households SET active = FALSE"))  # premiums of the second registry only
    rng = random.Random(11)
    now = datetime.now().replace(microsecond=0)
    bulk = Bulk(db)
    made = members = 0
    for hh, mm in households(rng, version_id, first_h, None, n, first_m, now):
        bulk.rows("households", HOUSEHOLD_COLUMNS, hh)
        bulk.rows("individuals", MEMBER_COLUMNS, mm)
        made += len(hh)
        members += len(mm)
    bulk.finish({"households_id_seq": first_h + made, "individuals_id_seq": first_m + members})
    log(f"[{label}] premium registry: {made:,} households, {members:,} members")
    as_of = date(2024, 10, 15)
    t = time.perf_counter()
    total, count, sample = Decimal(0), 0, {}
    with db.session_factory() as s:
        for hid, premium in household_premiums(s, scheme, as_of):
            total += premium
            count += 1
            if hid % max(1, n // 200) == 0:
                sample[hid] = premium
    seconds = time.perf_counter() - t
    if count != made:
        raise Failed(f"{count} premiums for {made} households")
    log(f"[{label}] premiums: {count:,} households in {seconds:.2f} s = {count / seconds:,.0f} households/s "
        f"(total {total:,} {scheme.currency})")
    # the same premiums household by household with the engine
    decode = decoder(scheme.member_fields)
    with db.session_factory() as s:
        rows = s.execute(select(Individual.household_id, Individual.data).where(Individual.household_id.in_(list(sample)))
                         .order_by(Individual.household_id, Individual.position)).all()
    rosters: dict[int, list] = {}
    for hid, data in rows:
        rosters.setdefault(hid, []).append(decode(data))
    for hid, premium in sample.items():
        expected = compute_premium(scheme, {"members": rosters[hid]}, as_of, False, None).value
        if expected != premium:
            raise Failed(f"household {hid}: set-based premium {premium}, engine {expected}")
    log(f"[{label}]   {len(sample)} sampled households checked against compute_premium: equal")
    return {"households_per_s": count / seconds}



def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=DEFAULT_PG)
    parser.add_argument("--sqlite", action="store_true", help="run on a temporary SQLite file instead")
    args = parser.parse_args(argv)
    tmp, drop = None, None
    if args.sqlite:
        tmp = tempfile.TemporaryDirectory()
        url, label = f"sqlite:///{tmp.name}/claims.db", "sqlite"
    else:
        url, drop = fresh_postgres(args.database_url, f"{make_url(args.database_url).database}_claims_bench")
        label = "postgresql"
    db = Database(url)
    try:
        upgrade(db.engine)
        catalog = SchemeCatalog(db)
        report = catalog.load_paths([SCHEME_FILE])
        if not report.ok:
            raise Failed(f"{SCHEME_FILE} does not compile")
        claims = run_claims(db, catalog, args.claims, args.persons, label)
        premiums = run_premiums(db, catalog, args.households, label)
    except Failed as exc:
        log(f"FAILED: {exc}")
        return 1
    finally:
        db.dispose()
        if drop:
            drop()
        if tmp:
            tmp.cleanup()
    log(f"summary [{label}]: {claims['claims_per_s']:,.0f} claims/s ({100 * claims['db_share']:.0f}% in the database), "
        f"{premiums['households_per_s']:,.0f} households/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
