"""Targeting and one payment cycle for a million households, on PostgreSQL and SQLite.

    .venv/bin/python benchmarks/payments.py                       # 1,000,000 households, both databases
    .venv/bin/python benchmarks/payments.py --households 2000     # a smoke run
    .venv/bin/python benchmarks/payments.py --skip-sqlite --database-url postgresql+psycopg://user@host/db

The registry of the Nafa Quick-style scheme (examples/gm_nafa_quick.yaml: eligible when the
household lives in one of the poorest districts; amount = min(1500 + 100 x members, 2500),
rounded to 5) is generated straight into the tables with bulk inserts (COPY on PostgreSQL,
executemany on SQLite): N households with 1-8 members each. Then it times

  1. targeting   `targeting.run.run_targeting` - must take the SQL path for every rule
  2. approval    `targeting.run.approve_run`   - enrols the eligible households (set-based)
  3. cycle 1     `payments.cycles.prepare`     - amounts from the formula, one payment per household
  4. re-run      `payments.cycles.prepare` again - must create 0 payments

and prints seconds per step and payments/s. PostgreSQL runs in a fresh database created
on the server of --database-url (default: the test server) and dropped afterwards; SQLite in
a temporary file. Targets on PostgreSQL: targeting <= 2 s; targeting + cycle <= 60 s. The
script exits with status 1 when a check fails (not SQL, a payment missing or created twice);
the targets are reported, not enforced.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))

from sqlalchemy import func, select  # noqa: E402

from openscheme.payments import cycles  # noqa: E402
from openscheme.storage.db import Database  # noqa: E402
from openscheme.storage.migrate import upgrade  # noqa: E402
from openscheme.storage.schemes import SchemeCatalog  # noqa: E402
from openscheme.storage.scratch import fresh_postgres  # noqa: E402
from openscheme.storage.workflow_models import Payment  # noqa: E402
from openscheme.targeting.run import approve_run, run_targeting  # noqa: E402

SCHEME_FILE = ROOT / "examples" / "gm_nafa_quick.yaml"
CODE = "gm-nafa-quick"
BENEFIT = "nafa_quick"
AS_OF = date(2020, 8, 1)
DEFAULT_PG = os.environ.get("OPENSCHEME_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DISTRICTS = {"URR": ["BSE", "KNT", "WUL"], "CRR": ["JAN"], "WCR": ["KBW"]}
PAIRS = [(r, d) for r, ds in DISTRICTS.items() for d in ds]
SEXES = ("F", "M")
CHUNK = 50_000
TARGETING_TARGET, TOTAL_TARGET = 2.0, 60.0

HOUSEHOLD_COLUMNS = ("id", "uid", "scheme_code", "scheme_version_id", "data", "location_code", "location_path",
                     "active", "created_at", "row_version")
MEMBER_COLUMNS = ("id", "uid", "scheme_code", "scheme_version_id", "household_id", "position", "roles", "data",
                  "location_code", "location_path", "active", "created_at", "row_version")


def log(message: str) -> None:
    print(message, flush=True)


# ---- the registry --------------------------------------------------------------------------


def generate(n: int, version_id: int, seed: int = 2020):
    """Chunks of (household rows, member rows), as tuples in the column order above."""
    rng = random.Random(seed)
    now = datetime.now().replace(microsecond=0)
    first_names = [f"Name{i}" for i in range(200)]
    last_names = ["Jallow", "Ceesay", "Bah", "Sowe", "Touray", "Camara", "Darboe", "Jobe"]
    dobs = [date(1940 + rng.randrange(80), 1 + rng.randrange(12), 1 + rng.randrange(28)).isoformat()
            for _ in range(5000)]
    member_id = 0
    for start in range(0, n, CHUNK):
        households, members = [], []
        for hid in range(start + 1, min(n, start + CHUNK) + 1):
            region, district = PAIRS[rng.randrange(len(PAIRS))]
            channel = "mobile_money" if rng.random() < 0.4 else "cash_agent"
            data = {"region": region, "district": district, "village": f"V{rng.randrange(500)}",
                    "payment_channel": channel}
            if channel == "mobile_money":
                data["phone"] = f"+220{7000000 + hid}"
            households.append((hid, f"H{hid:010d}", CODE, version_id, json.dumps(data), district, "/", True, now, 1))
            last = last_names[rng.randrange(len(last_names))]
            for position in range(rng.randint(1, 8)):
                member_id += 1
                m = {"first_name": first_names[rng.randrange(200)], "last_name": last,
                     "sex": SEXES[rng.randrange(2)], "dob": dobs[rng.randrange(5000)]}
                roles = '["head", "primary_recipient"]' if position == 0 else "[]"
                members.append((member_id, f"P{member_id:010d}", CODE, version_id, hid, position, roles,
                                json.dumps(m), district, "/", True, now, 1))
        yield households, members


def insert_registry(db: Database, n: int, version_id: int) -> tuple[int, int]:
    """Bulk insert: COPY on PostgreSQL, executemany on SQLite. Returns (households, members)."""
    households = members = 0
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for hh_rows, member_rows in generate(n, version_id):
            if db.dialect == "postgresql":
                for table, columns, rows in (("households", HOUSEHOLD_COLUMNS, hh_rows),
                                             ("individuals", MEMBER_COLUMNS, member_rows)):
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
            else:
                for table, columns, rows in (("households", HOUSEHOLD_COLUMNS, hh_rows),
                                             ("individuals", MEMBER_COLUMNS, member_rows)):
                    cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                                       f"({', '.join('?' * len(columns))})", rows)
            households += len(hh_rows)
            members += len(member_rows)
        raw.commit()
        if db.dialect == "postgresql":
            for seq, value in (("households_id_seq", households), ("individuals_id_seq", members)):
                cursor.execute(f"SELECT setval('{seq}', {max(value, 1)})")
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return households, members


# ---- one database ------------------------------------------------------------------------------


class Failed(Exception):
    pass


def run_on(url: str, n: int, label: str) -> dict:
    db = Database(url)
    try:
        upgrade(db.engine)
        catalog = SchemeCatalog(db)
        report = catalog.load_paths([SCHEME_FILE])
        if not report.ok:
            raise Failed(f"{SCHEME_FILE} does not compile: {report.failed}")
        scheme, version_id = catalog.current(CODE), catalog.version_id(CODE)
        benefit = scheme.benefit(BENEFIT)

        t = time.perf_counter()
        households, members = insert_registry(db, n, version_id)
        log(f"[{label}] registry: {households:,} households, {members:,} members inserted in "
            f"{time.perf_counter() - t:.1f} s ({'COPY' if db.dialect == 'postgresql' else 'executemany'})")

        with db.session_factory() as session:
            t = time.perf_counter()
            run = run_targeting(session, scheme, version_id, as_of=AS_OF)
            session.commit()
            targeting = time.perf_counter() - t
            if any(m != "sql" for m in run.method.values()):
                raise Failed(f"targeting did not take the SQL path: {run.method}")
            eligible = run.eligible_count
            log(f"[{label}] targeting: {targeting:.2f} s, {eligible:,} eligible, {run.excluded_count:,} excluded "
                f"(method {run.method})")
            t = time.perf_counter()
            enrolled = approve_run(session, run, None, scheme=scheme)
            session.commit()
            approval = time.perf_counter() - t
            log(f"[{label}] approval: {approval:.2f} s, {enrolled:,} households enrolled")

        def progress_printer():
            last = [time.perf_counter()]

            def progress(done):
                if time.perf_counter() - last[0] >= 10:
                    last[0] = time.perf_counter()
                    log(f"[{label}]   ... {done:,} of {enrolled:,} households")
            return progress

        t = time.perf_counter()
        cycle = cycles.prepare(db.session_factory, scheme, version_id, benefit, 1, None, progress=progress_printer())
        prepare = time.perf_counter() - t
        if cycle.payment_count != eligible:
            raise Failed(f"cycle 1 has {cycle.payment_count} payments for {eligible} eligible households")
        log(f"[{label}] cycle 1: {prepare:.2f} s, {cycle.payment_count:,} payments, total {cycle.total:,} GMD")

        t = time.perf_counter()
        again = cycles.prepare(db.session_factory, scheme, version_id, benefit, 1, None)
        rerun = time.perf_counter() - t
        with db.session_factory() as session:
            count, distinct = session.execute(select(func.count(), func.count(func.distinct(Payment.unit_id)))
                                              .where(Payment.cycle_no == 1)).one()
        created = count - cycle.payment_count
        if created != 0 or count != distinct or again.payment_count != eligible:
            raise Failed(f"the re-run created {created} payments ({count} payments, {distinct} households)")
        log(f"[{label}] re-run: {rerun:.2f} s, {created} payments created")
        return {"database": label, "households": households, "members": members, "eligible": eligible,
                "targeting": targeting, "approval": approval, "prepare": prepare, "rerun": rerun,
                "payments": cycle.payment_count, "created_again": created}
    finally:
        db.dispose()



# ---- report --------------------------------------------------------------------------------------


def table(results: list[dict]) -> str:
    out = io.StringIO()
    head = f"{'database':<11} {'step':<36} {'seconds':>9} {'per second':>16}"
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in results:
        rows = [
            ("targeting (SQL)", r["targeting"], r["households"] / r["targeting"], "households"),
            ("approval (enrolment)", r["approval"], r["eligible"] / r["approval"], "households"),
            (f"cycle 1: {r['payments']:,} payments", r["prepare"], r["payments"] / r["prepare"], "payments"),
            (f"re-run: {r['created_again']} payments created", r["rerun"], r["eligible"] / r["rerun"], "households"),
        ]
        for step, seconds, rate, unit in rows:
            print(f"{r['database']:<11} {step:<36} {seconds:>9.2f} {rate:>10,.0f} {unit}", file=out)
        total = r["targeting"] + r["prepare"]
        print(f"{r['database']:<11} {'targeting + cycle':<36} {total:>9.2f}", file=out)
        if r["database"] == "postgresql":
            ok_t = "ok" if r["targeting"] <= TARGETING_TARGET else "MISSED"
            ok_c = "ok" if total <= TOTAL_TARGET else "MISSED"
            print(f"{'':<11} targets: targeting <= {TARGETING_TARGET:.0f} s {ok_t}; targeting + cycle <= "
                  f"{TOTAL_TARGET:.0f} s {ok_c} (at {r['households']:,} households)", file=out)
    return out.getvalue()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=DEFAULT_PG,
                        help="PostgreSQL server to create a fresh database on (default: %(default)s)")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args(argv)
    results = []
    try:
        if not args.skip_postgres:
            url, drop = fresh_postgres(args.database_url, "openscheme_bench")
            try:
                results.append(run_on(url, args.households, "postgresql"))
            finally:
                drop()
        if not args.skip_sqlite:
            with tempfile.TemporaryDirectory() as folder:
                results.append(run_on(f"sqlite:///{folder}/bench.db", args.households, "sqlite"))
    except Failed as exc:
        log(f"FAILED: {exc}")
        return 1
    print()
    print(f"Nafa Quick-style registry, {args.households:,} households; one payment cycle with formula amounts")
    print(table(results), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
