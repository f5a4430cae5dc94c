"""How fast is the registry at a million beneficiaries? Bulk import, search by ID, API registration.

    .venv/bin/python benchmarks/registry.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python benchmarks/registry.py --rows 2000 --lookups 100 --api-households 20   # a smoke run, SQLite only

Generates two CSV files of N beneficiary rows each (default 1,000,000):

- an individual scheme, `np-ssf` (employees: names, date of birth, national ID, SSF number,
  employer, sector, dates, wage - 13 columns, two unique fields, two formula constraints);
- a household scheme, `cm-educash` (households of about 5 members, one row per member:
  household fields on each household's first row, roles, school questions that are
  relevant only for school-age children, a computed score, a cascading select).

Then, on each database (PostgreSQL in a fresh database created from --database-url and dropped
afterwards - skipped without the option; SQLite in a fresh file):

(a)/(b) imports each file with the production importer (`registry.importer`: validated with
        `validate_record`, de-duplicated, written in batches) and compares it with a raw load of
        the same rows into a plain table with the file's columns (all text, no index, no
        validation): the csv module's rows written with COPY (psycopg's `write_row`) on
        PostgreSQL - the target's baseline - or with `executemany` in one transaction on SQLite.
        For PostgreSQL it also prints a COPY that parses the file itself (no Python per row), and
        the database's own ceiling for these rows: the rows the import stored, copied out and
        COPYed back into fresh tables shaped like `households`/`individuals` (same indexes and
        foreign keys) - what PostgreSQL alone takes per second, which no importer can beat;
(c)     searches by national ID through `registry.search.search` - the registry screen's and the
        API's search - at N rows: p50/p95/p99 over --lookups random IDs (each must find its person);
(d)     registers households one at a time through the JSON API (`POST /api/v1/schemes/cm-educash/records`,
        bearer token) from one client: a real HTTP server (waitress, as `openscheme serve` runs it,
        in a child process) and `http.client` in this process - or the Flask test
        client with --api-client flask.

Prints a table with the targets and whether each is met. Times are wall-clock on a shared
machine: run it more than once and read the spread. Exit status 0 even when a target is missed;
1 when something is wrong (an import refused valid rows, a lookup found nothing, the API failed).
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import math
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))

SSF = "np-ssf"
EDUCASH = "cm-educash"
TARGET_IMPORT_RATIO = 0.3  # of a raw COPY (PostgreSQL)
TARGET_IMPORT_ROWS = 40_000  # validated rows/s (PostgreSQL)
TARGET_LOOKUP_P95_MS = 20.0
TARGET_API_PER_S = 170.0
OPENIMIS_FAMILIES_PER_S = 17.0  # openIMIS's GraphQL API on this kind of machine (issue 3)
PASSWORD = "bench-password-1"
CORES = os.cpu_count() or 1

SSF_COLUMNS = ["first_name", "last_name", "sex", "dob", "national_id", "ssf_number", "phone", "employer_name",
               "employer_number", "sector", "employment_status", "employment_start", "monthly_wage"]
EDUCASH_COLUMNS = ["household_ref", "region", "department", "village", "roof", "walls", "water_source",
                   "has_electricity", "livestock_units", "payment_channel", "phone", "recipient_id",
                   "first_name", "last_name", "sex", "dob", "is_enrolled_in_school", "school_name",
                   "attendance_rate", "roles"]
EMPLOYERS = ["Himal Textiles Pvt. Ltd.", "Everest Bakery", "Nepal Software House", "Annapurna School",
             "Kathmandu Cooperative Ltd.", "Pokhara Hotel Group", "Bagmati Carpets", "Lumbini Traders",
             "Sagarmatha Construction", "Gandaki Tea Estate"]
SECTORS = ["private_company", "ngo", "cooperative", "school", "public_enterprise", "other"]
STATUSES = ["active", "active", "active", "paid_leave", "unpaid_leave", "terminated"]
DEPARTMENTS = [("EN", "DIAMARE"), ("EN", "MAYO_TSANAGA"), ("NO", "BENOUE"), ("NO", "MAYO_LOUTI"), ("ES", "LOM_DJEREM")]
VILLAGES = ["Pitoa", "Meskine", "Domayo", "Guider", "Mokolo", "Bidzar", "Koza", "Bertoua", "Maroua", "Garoua"]
SCHOOLS = ["École publique de Pitoa", "École publique de Domayo", "Lycée de Maroua", "CES de Guider",
           "Collège de Mokolo", "École primaire de Bidzar", "Lycée bilingue de Bertoua", "École de Koza"]
HOUSEHOLD_SIZES = (1, 2, 3, 4, 5, 6, 7, 8, 9)
HOUSEHOLD_WEIGHTS = (4, 8, 12, 16, 18, 16, 12, 8, 6)  # 5.0 members on average


# ---- data ----------------------------------------------------------------------------------


def national_id(i: int) -> str:
    """Person i's national ID: i -> (i * 7919 + c) mod 10^11 is a bijection, so IDs are unique and recomputable."""
    return f"{(i * 7_919 + 31_337_000_000) % 10**11:011d}"


def ssf_number(i: int) -> str:
    return f"{(i * 104_729 + 2_024_000_000) % 10**10:010d}"


def recipient_id(h: int) -> str:
    return f"{(h * 15_485_863 + 112_233_445) % 10**12:012d}"


def _dates(rng: random.Random, today: date, years_from: float, years_to: float, n: int = 5000) -> list[str]:
    """n dates between years_from and years_to years before today, as ISO text."""
    low, high = int(years_from * 365.25) + 1, int(years_to * 365.25)
    return [(today - timedelta(days=rng.randrange(low, high))).isoformat() for _ in range(n)]


def _names(country: str):
    from openscheme.reference.synthetic import load_names

    return load_names()[country]


def write_individuals(path: Path, n: int, seed: int = 1) -> None:
    """n np-ssf employees, one row each; every row is valid."""
    rng = random.Random(seed)
    names = _names("NP")
    today = date.today()
    dobs = _dates(rng, today, 30, 58)
    starts = _dates(rng, today, 1, 11)  # after an adult's birth, before today
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(SSF_COLUMNS)
        choice, randrange = rng.choice, rng.randrange
        for i in range(n):
            female = randrange(2)
            out.writerow((choice(names.female if female else names.male), choice(names.family), "F" if female else "M",
                          choice(dobs), national_id(i), ssf_number(i), f"+97798{randrange(10**8):08d}",
                          choice(EMPLOYERS), f"E{randrange(10**6):06d}", choice(SECTORS), choice(STATUSES),
                          choice(starts), str(randrange(17_300, 200_000))))


def household_rows(h: int, size: int, rng: random.Random, pools: dict) -> list[list[str]]:
    """The CSV rows (one per member) of cm-educash household h; valid."""
    choice, randrange = rng.choice, rng.randrange
    region, department = choice(DEPARTMENTS)
    channel = choice(("mtn_momo", "orange_money", "cash_agent"))
    family = choice(pools["names"].family)
    unit = [region, department, choice(VILLAGES), choice(("thatch", "metal_sheet", "tiles_concrete")),
            choice(("earth", "wood", "cement_block")), choice(("surface", "protected_well", "tap")),
            choice(("yes", "no")), str(randrange(0, 12)), channel,
            f"+2376{randrange(10**8):08d}" if channel != "cash_agent" else "", recipient_id(h)]
    rows = []
    for m in range(size):
        pupil = False
        if m == 0:
            sex, dob, roles = "M", choice(pools["adults"]), "head primary_recipient" if size == 1 else "head"
        elif m == 1:
            sex, dob, roles = "F", choice(pools["partners"]), "primary_recipient"
        else:
            pupil = randrange(3) > 0
            sex, dob, roles = choice("FM"), choice(pools["pupils"] if pupil else pools["infants"]), ""
        school = ["", "", ""]
        if m >= 2 and pupil:  # 6 to 16 years old: the school questions apply
            school = ["oui", choice(SCHOOLS), f"{randrange(500, 1001) / 10:.1f}"] if randrange(5) else ["non", "", ""]
        first = choice(pools["names"].female if sex == "F" else pools["names"].male)
        rows.append([f"HH{h:08d}", *(unit if m == 0 else [""] * len(unit)), first, family, sex, dob, *school, roles])
    return rows


def household_pools(rng: random.Random) -> dict:
    today = date.today()
    return {"names": _names("CM"), "adults": _dates(rng, today, 25, 70), "partners": _dates(rng, today, 20, 55),
            "pupils": _dates(rng, today, 6.2, 16.8), "infants": _dates(rng, today, 0.1, 5.5)}


def write_households(path: Path, n: int, seed: int = 2) -> int:
    """cm-educash households of about 5 members, n member rows in all; returns the number of households."""
    rng = random.Random(seed)
    pools = household_pools(rng)
    households = written = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(EDUCASH_COLUMNS)
        while written < n:
            size = min(rng.choices(HOUSEHOLD_SIZES, HOUSEHOLD_WEIGHTS)[0], n - written)
            out.writerows(household_rows(households, size, rng, pools))
            written += size
            households += 1
    return households


def household_record(h: int, rng: random.Random, pools: dict) -> dict:
    """Household h as the JSON API takes it."""
    rows = household_rows(h, rng.choices(HOUSEHOLD_SIZES, HOUSEHOLD_WEIGHTS)[0], rng, pools)
    unit_names, member_names = EDUCASH_COLUMNS[1:12], EDUCASH_COLUMNS[12:19]
    record = {k: v for k, v in zip(unit_names, rows[0][1:12], strict=True) if v}
    record["members"] = []
    for row in rows:
        member = {k: v for k, v in zip(member_names, row[12:19], strict=True) if v}
        if row[19]:
            member["roles"] = row[19].split()
        record["members"].append(member)
    return record


# ---- measuring -----------------------------------------------------------------------------


@dataclass
class Result:
    database: str
    figures: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


SERVER_HELPERS = ("walwriter", "checkpointer", "background writer")  # PostgreSQL's own processes that write for everyone


def server_cpu_seconds(database: str) -> float | None:
    """CPU seconds used so far by the PostgreSQL processes of this machine that work for `database`
    (its backends and autovacuum workers) and by the server's shared writers (WAL writer,
    checkpointer, background writer), from /proc; None where that cannot be read (another OS, a
    remote server). The difference over an import is the database's share of the work: with this
    process's own CPU time it tells how much CPU a row costs in all, and so the most that N cores
    could take a second."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return None
    ticks, seen = 0, False
    for pid in proc.iterdir():
        if not pid.name.isdigit():
            continue
        try:
            stat = (pid / "stat").read_text()
            if not stat[stat.index("(") + 1:stat.rindex(")")].startswith("postgres"):
                continue
            title = (pid / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # the process ended meanwhile, or is not ours to read
        if f" {database} " in title or title.rstrip().endswith(SERVER_HELPERS):
            fields = stat[stat.rindex(")") + 2:].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
            seen = True
    return ticks / os.sysconf("SC_CLK_TCK") if seen else None


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, math.ceil(p / 100 * len(sorted_values)) - 1))  # nearest rank
    return sorted_values[k]


def raw_load(url: str, dialect: str, path: Path, columns: list[str], table: str, whole_file: bool = False) -> float:
    """Seconds to load the file's rows as they are into a plain table with its columns (text, no
    index, no validation): the csv module's rows written with COPY (psycopg's write_row) on
    PostgreSQL, with executemany in one transaction on SQLite. With whole_file, PostgreSQL parses
    the file itself (COPY ... FROM STDIN (FORMAT csv) fed the file's bytes: no Python per row)."""
    column_sql = ", ".join(f'"{c}" text' for c in columns)
    if dialect == "postgresql":
        import psycopg

        with psycopg.connect(_libpq(url)) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(f"CREATE TABLE {table} ({column_sql})")
            conn.commit()
            started = time.perf_counter()
            with path.open("rb" if whole_file else "r", **({} if whole_file else {"encoding": "utf-8", "newline": ""})) as f, \
                    conn.cursor() as cur:
                if whole_file:
                    with cur.copy(f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)") as copy:
                        while chunk := f.read(1 << 20):
                            copy.write(chunk)
                else:
                    rows = csv.reader(f)
                    next(rows)
                    with cur.copy(f"COPY {table} FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
            conn.commit()
            seconds = time.perf_counter() - started
            conn.execute(f"DROP TABLE {table}")
            conn.commit()
        return seconds
    import sqlite3

    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(f"CREATE TABLE {table} ({column_sql})")
        started = time.perf_counter()
        with path.open(encoding="utf-8", newline="") as f:
            rows = csv.reader(f)
            next(rows)
            conn.execute("BEGIN")
            conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})", rows)
            conn.execute("COMMIT")
        seconds = time.perf_counter() - started
        conn.execute(f"DROP TABLE {table}")
    finally:
        conn.close()
    return seconds


def prepared_copy(url: str, code: str, work: Path) -> float:
    """Seconds for PostgreSQL alone to take the rows the import wrote for the scheme: they are copied
    out (COPY TO, as stored) and COPYed back into fresh tables shaped like `households` and
    `individuals` - the same columns, defaults, indexes (the scheme's declared unique and search
    indexes included) and foreign keys - with no Python work per row. The database's own ceiling for
    these rows on this machine: the validated import cannot be faster than this."""
    import psycopg

    people = "uid, scheme_code, scheme_version_id, household_id, position, roles, data, location_code, " \
             "location_path, active, created_by, row_version, import_key"
    units = "id, uid, scheme_code, scheme_version_id, data, location_code, location_path, active, created_by, " \
            "row_version, import_key"
    dumps = {"households": (work / "ceiling_households.copy", units), "individuals": (work / "ceiling_individuals.copy", people)}
    with psycopg.connect(_libpq(url)) as conn:
        for table, (path, columns) in dumps.items():
            with path.open("wb") as out, conn.cursor().copy(
                    f"COPY (SELECT {columns} FROM {table} WHERE scheme_code = '{code}') TO STDOUT") as copy:
                for chunk in copy:
                    out.write(chunk)
            conn.execute(f"DROP TABLE IF EXISTS ceiling_{table}")
            conn.execute(f"CREATE TABLE ceiling_{table} (LIKE {table} INCLUDING DEFAULTS INCLUDING INDEXES)")
        conn.execute("ALTER TABLE ceiling_households ADD FOREIGN KEY (scheme_version_id) REFERENCES scheme_versions (id), "
                     "ADD FOREIGN KEY (created_by) REFERENCES users (id)")
        conn.execute("ALTER TABLE ceiling_individuals ADD FOREIGN KEY (scheme_version_id) REFERENCES scheme_versions (id), "
                     "ADD FOREIGN KEY (created_by) REFERENCES users (id), "
                     "ADD FOREIGN KEY (household_id) REFERENCES ceiling_households (id)")
        conn.commit()
        started = time.perf_counter()
        for table, (path, columns) in dumps.items():
            with path.open("rb") as f, conn.cursor().copy(f"COPY ceiling_{table} ({columns}) FROM STDIN") as copy:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE ceiling_individuals")
        conn.execute("DROP TABLE ceiling_households")
        conn.commit()
    for path, _columns in dumps.values():
        path.unlink()
    return seconds


def _libpq(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def validated_import(app, code: str, path: Path, rows: int) -> tuple[float, dict, float, float | None]:
    """Seconds and counts of the production import of the file; also the CPU seconds of this process
    and of the PostgreSQL server (None when unknown: SQLite, or a server whose processes are not seen)."""
    from openscheme.registry.importer import import_file

    state = app.extensions["openscheme"]
    from sqlalchemy.engine import make_url

    url = make_url(app.config["DATABASE_URL"])
    database = url.database if url.get_backend_name() == "postgresql" else None
    with state.db.session_factory() as session:
        server = server_cpu_seconds(database) if database else None
        cpu = time.process_time()
        started = time.perf_counter()
        report = import_file(session, state.catalog, code, path)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        if server is not None:
            server = server_cpu_seconds(database) - server
    counts = report.counts()
    if report.file_error or report.failed or counts["rows"] != rows or counts["individuals"] != rows:
        raise RuntimeError(f"{code}: the import did not save every row: {counts} {report.file_error or ''} "
                           f"{[i.as_dict() for i in report.issues[:3]]}")
    return seconds, counts, cpu, server


def lookups(app, n_people: int, count: int, seed: int = 3) -> list[float]:
    """Milliseconds per search by national ID (random people of the import), each through `search`."""
    from openscheme.registry.search import search

    state = app.extensions["openscheme"]
    scheme = state.catalog.current(SSF)
    rng = random.Random(seed)
    wanted = [rng.randrange(n_people) for _ in range(count)]
    times = []
    with state.db.session_factory() as session:
        for i in wanted[:20]:  # warm-up: connection, statement caches
            search(session, scheme, national_id(i))
        for i in wanted:
            started = time.perf_counter()
            page = search(session, scheme, national_id(i))
            times.append((time.perf_counter() - started) * 1000)
            if len(page.rows) != 1 or page.rows[0].data.get("national_id") != national_id(i):
                raise RuntimeError(f"searching {national_id(i)} found {[r.uid for r in page.rows]}")
            session.rollback()
    return sorted(times)


SERVER = """
import sys
sys.path.insert(0, {platform!r})
import waitress
from openscheme import create_app
app = create_app({config!r})
server = waitress.create_server(app, host="127.0.0.1", port={port}, threads={threads})  # as `openscheme serve`
print("ready", flush=True)
server.run()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api_registrations(app, config: dict, households: int, first: int, client: str) -> tuple[float, str]:
    """Households registered per second through the JSON API by one client, one request at a time."""
    from openscheme.reference.users import create_user

    state = app.extensions["openscheme"]
    with state.db.session_factory() as session, session.begin():
        create_user(session, "bench_officer", PASSWORD, roles=[("enrolment_officer", None, None)],
                    hash_method="pbkdf2:sha256:1000")
    rng = random.Random(4)
    pools = household_pools(rng)
    warmup = 20
    bodies = [json.dumps(household_record(first + k, rng, pools)) for k in range(households + warmup)]
    if client == "flask":
        test = app.test_client()
        token = test.post("/api/v1/token", json={"username": "bench_officer", "password": PASSWORD}).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        def post(body: str) -> int:
            return test.post(f"/api/v1/schemes/{EDUCASH}/records", data=body, headers=headers).status_code

        return _registrations(post, bodies, warmup), "Flask test client (no HTTP), one client"
    port = _free_port()
    from openscheme.cli import SERVE_THREADS

    server = subprocess.Popen([sys.executable, "-c", SERVER.format(platform=str(ROOT / "platform"), config=config,
                                                                    port=port, threads=SERVE_THREADS)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        if server.stdout.readline().strip() != "ready":
            raise RuntimeError("the API server did not start")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", "/api/v1/token", json.dumps({"username": "bench_officer", "password": PASSWORD}),
                     {"Content-Type": "application/json"})
        answer = conn.getresponse()
        token = json.loads(answer.read())["token"]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        def post(body: str) -> int:
            conn.request("POST", f"/api/v1/schemes/{EDUCASH}/records", body, headers)
            response = conn.getresponse()
            response.read()
            return response.status

        rate = _registrations(post, bodies, warmup)
        conn.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return rate, "waitress (as `openscheme serve`, child process) + http.client keep-alive, one client"


def _registrations(post, bodies: list[str], warmup: int) -> float:
    for body in bodies[:warmup]:
        if post(body) != 201:
            raise RuntimeError("the API refused a valid household")
    started = time.perf_counter()
    for body in bodies[warmup:]:
        status = post(body)
        if status != 201:
            raise RuntimeError(f"the API answered {status} to a valid household")
    return (len(bodies) - warmup) / (time.perf_counter() - started)


# ---- one database ----------------------------------------------------------------------------



def bench_database(dialect: str, url: str, files: dict, args, households_in_file: int) -> Result:
    from openscheme import create_app

    result = Result(dialect)
    config = {"DATABASE_URL": url, "SCHEME_PATHS": [str(ROOT / "examples")], "SECRET_KEY": "bench",
              "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    app = create_app(config)
    n = args.rows
    f = result.figures
    for code, path, columns in ((SSF, files[SSF], SSF_COLUMNS), (EDUCASH, files[EDUCASH], EDUCASH_COLUMNS)):
        table = "raw_" + code.replace("-", "_")
        raw = raw_load(url, dialect, path, columns, table)
        whole = raw_load(url, dialect, path, columns, table, whole_file=True) if dialect == "postgresql" else None
        seconds, counts, cpu, server = validated_import(app, code, path, n)
        ceiling = prepared_copy(url, code, path.parent) if dialect == "postgresql" else None
        f[code] = {"rows": n, "records": counts["records"], "seconds": seconds, "rate": n / seconds,
                   "raw_rate": n / raw, "ratio": raw / seconds, "file_rate": n / whole if whole else None,
                   "ceiling_rate": n / ceiling if ceiling else None, "ceiling_ratio": ceiling / seconds if ceiling else None,
                   "cpu_us_per_row": cpu / n * 1e6, "peak_rss_mb": peak_rss_mb(),
                   "server_us_per_row": server / n * 1e6 if server is not None else None}
        x = f[code]
        if server is not None:
            # every row costs this much CPU in all (both sides); on this many cores no overlap of the two
            # sides can take more rows a second than cores / that
            x["cpu_bound_rate"] = CORES / ((cpu + server) / n)
        print(f"  {dialect} {code}: {n:,} rows ({counts['records']:,} records) in {seconds:.1f} s = {n / seconds:,.0f} "
              f"rows/s; raw load {n / raw:,.0f} rows/s"
              + (f" (COPY of the file's bytes {n / whole:,.0f} rows/s)" if whole else "")
              + f"; ratio {raw / seconds:.2f}"
              + (f"; the database alone (COPY of the rows as stored into tables shaped like ours) {n / ceiling:,.0f} "
                 f"rows/s, import / that {ceiling / seconds:.2f}" if ceiling else "")
              + f"; this process's CPU {x['cpu_us_per_row']:.1f} µs/row"
              + (f", the database server's {x['server_us_per_row']:.1f} µs/row: at most {x['cpu_bound_rate']:,.0f} rows/s "
                 f"on {CORES} cores" if server is not None else "")
              + f"; peak RSS so far {peak_rss_mb():.0f} MB", flush=True)
    times = lookups(app, n, args.lookups)
    f["lookup"] = {"n": len(times), "p50": percentile(times, 50), "p95": percentile(times, 95),
                   "p99": percentile(times, 99), "max": times[-1]}
    print(f"  {dialect} search by national ID at {n:,} people: p50 {f['lookup']['p50']:.2f} ms, p95 "
          f"{f['lookup']['p95']:.2f} ms, p99 {f['lookup']['p99']:.2f} ms ({len(times)} lookups)", flush=True)
    if args.api_households:
        rate, how = api_registrations(app, config, args.api_households, households_in_file, args.api_client)
        f["api"] = {"rate": rate, "how": how, "n": args.api_households}
        print(f"  {dialect} API: {rate:,.0f} households/s ({args.api_households} households; {how})", flush=True)
    app.extensions["openscheme"].db.dispose()
    return result


# ---- report ----------------------------------------------------------------------------------


def table(results: list[Result], args) -> list[str]:
    lines = []
    head = f"{'measure':<66} {'value':>14} {'target':>16}  met"
    lines += ["", f"Registry benchmark: {args.rows:,} beneficiaries per file", head, "-" * len(head)]

    def row(label: str, value: str, target: str = "", met: bool | None = None) -> None:
        mark = "" if met is None else ("yes" if met else "NO")
        lines.append(f"{label:<66} {value:>14} {target:>16}  {mark}")

    for r in results:
        f = r.figures
        name = "PostgreSQL" if r.database == "postgresql" else "SQLite"
        raw = "raw COPY" if r.database == "postgresql" else "raw executemany"  # the csv module's rows, no validation
        for code in (SSF, EDUCASH):
            x = f[code]
            row(f"{name} {code} validated import, rows/s", f"{x['rate']:,.0f}",
                f">= {TARGET_IMPORT_ROWS:,}" if r.database == "postgresql" else "",
                x["rate"] >= TARGET_IMPORT_ROWS if r.database == "postgresql" else None)
            row(f"{name} {code} {raw} of the same rows, rows/s", f"{x['raw_rate']:,.0f}")
            if x.get("file_rate"):
                row(f"{name} {code} (COPY parsing the file itself, rows/s)", f"{x['file_rate']:,.0f}")
            row(f"{name} {code} ratio import / {raw}", f"{x['ratio']:.2f}",
                f">= {TARGET_IMPORT_RATIO}" if r.database == "postgresql" else "",
                x["ratio"] >= TARGET_IMPORT_RATIO if r.database == "postgresql" else None)
            if x.get("ceiling_rate"):
                row(f"{name} {code} database alone (stored rows COPYed), rows/s", f"{x['ceiling_rate']:,.0f}")
                row(f"{name} {code} ratio import / database alone", f"{x['ceiling_ratio']:.2f}")
            if x.get("server_us_per_row") is not None:
                row(f"{name} {code} CPU µs/row: this process + database server",
                    f"{x['cpu_us_per_row']:.1f} + {x['server_us_per_row']:.1f}")
                row(f"{name} {code} most rows/s that CPU allows on {CORES} cores", f"{x['cpu_bound_rate']:,.0f}")
        lk = f["lookup"]
        row(f"{name} search by national ID, p50 / p99 ms", f"{lk['p50']:.2f} / {lk['p99']:.2f}")
        row(f"{name} search by national ID, p95 ms ({lk['n']} lookups)", f"{lk['p95']:.2f}",
            f"<= {TARGET_LOOKUP_P95_MS:.0f}", lk["p95"] <= TARGET_LOOKUP_P95_MS)
        if "api" in f:
            api = f["api"]
            row(f"{name} API households/s, one client", f"{api['rate']:,.0f}", f">= {TARGET_API_PER_S:.0f}",
                api["rate"] >= TARGET_API_PER_S)
            row(f"{name} API ratio to openIMIS (~{OPENIMIS_FAMILIES_PER_S:.0f} families/s)",
                f"{api['rate'] / OPENIMIS_FAMILIES_PER_S:.1f}x", ">= 10x", api["rate"] >= TARGET_API_PER_S)
        row(f"{name} peak RSS of this process, MB", f"{max(f[c]['peak_rss_mb'] for c in (SSF, EDUCASH)):,.0f}")
    if any("api" in r.figures for r in results):
        lines.append("API client: " + next(r.figures["api"]["how"] for r in results if "api" in r.figures))
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="beneficiary rows per file (default 1,000,000)")
    parser.add_argument("--database-url", help="a PostgreSQL server (a fresh database is created on it, then dropped); "
                                               "without it only SQLite runs")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--lookups", type=int, default=1000, help="searches by national ID (default 1,000)")
    parser.add_argument("--api-households", type=int, default=2000, help="households registered through the API "
                                                                         "(default 2,000; 0 to skip)")
    parser.add_argument("--api-client", choices=("http", "flask"), default="http")
    parser.add_argument("--workdir", help="where the CSV files and the SQLite database go (default: a temporary folder)")
    args = parser.parse_args(argv)

    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench_registry_"))
    work.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    try:
        files = {SSF: work / "np_ssf.csv", EDUCASH: work / "cm_educash.csv"}
        started = time.perf_counter()
        write_individuals(files[SSF], args.rows)
        households = write_households(files[EDUCASH], args.rows)
        print(f"generated {args.rows:,} np-ssf rows and {args.rows:,} cm-educash rows ({households:,} households) "
              f"in {time.perf_counter() - started:.1f} s under {work}", flush=True)
        if args.database_url:
            from openscheme.storage.scratch import fresh_postgres

            url, drop = fresh_postgres(args.database_url, "bench_registry", admin_database="postgres")
            try:
                results.append(bench_database("postgresql", url, files, args, households))
            finally:
                drop()
        if not args.skip_sqlite:
            db = work / "registry.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            results.append(bench_database("sqlite", f"sqlite:///{db}", files, args, households))
    except RuntimeError as exc:
        print(f"FAILED: {exc}")
        return 1
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    print("\n".join(table(results, args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
