"""The `openscheme` command line.

    openscheme validate PATH...            check definitions; every problem as file:line:col
    openscheme clone EXAMPLE NEW_CODE      copy an example into scheme_definitions/ and check it
    openscheme explain SCHEME              a plain-language summary
    openscheme eval SCHEME --data F.json   eligibility and amounts for one beneficiary, explained
    openscheme test SCHEME                 run the scheme's own test cases
    openscheme schema                      the JSON Schema of the format, for editors
    openscheme demo                        a demo database with every example, then the server
    openscheme db upgrade                  create or migrate the database
    openscheme load [PATH...]              store new versions of definitions in the database
    openscheme create-user NAME --role R   a user with role assignments
    openscheme serve                       the web application (waitress)
    openscheme reference load-icd10        ICD-10 codes
    openscheme diff OLD NEW                what changed between two versions, in the scheme's terms
    openscheme impact OLD NEW              who gains, who loses and the cost, on the registry
    openscheme dhis2 SCHEME --period P     the scheme's indicators as DHIS2 dataValueSets JSON
    openscheme target SCHEME [--as-of D]   a targeting run over the registry (then --approve RUN --user U)
    openscheme cycle SCHEME BENEFIT N ...  --dry-run | --prepare | --approve-as U | --payroll CH -o F | --reconcile F
                                           | --payroll-again ID -o F (a payroll already produced, the same file)

SCHEME is a file path, a file name in scheme_definitions/ or examples/, or a scheme code.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import date
from pathlib import Path

import click

from .definitions import compile_file
from .definitions.loader import load_yaml
from .formulas.messages import say
from .locate import available, definitions_dir, examples_dir, find_definition, yaml_files


def _print_diagnostics(result, lang: str = "en") -> None:
    for d in result.diagnostics:
        click.echo(d.text(lang), err=False)


def _load(scheme_ref: str, run_tests: bool = True):
    path = find_definition(scheme_ref)
    if path is None:
        names = ", ".join(p.stem for p in available()) or "none"
        raise click.ClickException(f"no scheme definition '{scheme_ref}' (known: {names})")
    result = compile_file(path, run_tests=run_tests)
    if not result.ok:
        _print_diagnostics(result)
        raise click.ClickException(f"{path} has errors; fix them first (openscheme validate {path})")
    return result.scheme


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date (YYYY-MM-DD)") from None


# "\b" before the list of commands: click would rewrap it into one paragraph
@click.group(help=__doc__.replace("\n\n    openscheme", "\n\n\b\n    openscheme", 1))
@click.version_option(package_name="openscheme")
def main() -> None:
    pass


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--quiet", "-q", is_flag=True, help="Print problems only, not the summary.")
@click.option("--lang", default="en", show_default=True, type=click.Choice(["en", "fr"]),
              help="Language of the messages.")
def validate(paths, strict, quiet, lang) -> None:
    """Check scheme definitions (files or directories); exit 1 on any error."""
    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files += yaml_files(p)
        elif p.exists():
            files.append(p)
        else:
            click.echo(f"{raw}:1:1: E100 {say('l_no_such_file').text(lang)}")
            files.append(p)
    errors = warnings = 0
    for f in files:
        if not f.exists():
            errors += 1
            continue
        result = compile_file(f)
        _print_diagnostics(result, lang)
        e, w = len(result.errors), len(result.warnings)
        errors += e
        warnings += w
        if not quiet and not e and result.scheme is not None:
            s = result.scheme
            counts = (len(s.fields) + len(s.member_fields), len(s.eligibility), len(s.benefits), len(s.tests))
            click.echo(f"{f}: ok - {s.code} v{s.version}, " + (
                "{} champs, {} règles, {} prestations, {} cas de test réussis" if lang == "fr" else
                "{} fields, {} rules, {} benefits, {} test cases passed").format(*counts))
    if not quiet:
        click.echo(("{} fichier(s), {} erreur(s), {} avertissement(s)" if lang == "fr" else
                    "{} file(s), {} error(s), {} warning(s)").format(len(files), errors, warnings))
    if errors or (strict and warnings):
        sys.exit(1)


@main.command()
@click.argument("example")
@click.argument("new_code")
@click.option("--to", "target_dir", type=click.Path(file_okay=False), default=None,
              help="Directory to write to (default: scheme_definitions/).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def clone(example, new_code, target_dir, force) -> None:
    """Copy an example under a new scheme code and validate the copy."""
    if not re.fullmatch(r"[a-z][a-z0-9_-]{1,40}", new_code):
        raise click.BadParameter("use lower-case letters, digits, - and _ (e.g. my-chf)", param_hint="NEW_CODE")
    source = find_definition(example)
    if source is None:
        names = ", ".join(p.stem for p in yaml_files(examples_dir())) if examples_dir().is_dir() else "none"
        raise click.ClickException(f"no example '{example}' (examples: {names})")
    text = source.read_text("utf-8")
    data, source_map, _ = load_yaml(text, str(source))
    if not isinstance(data, dict) or not isinstance(data.get("scheme"), dict) or "code" not in data["scheme"]:
        raise click.ClickException(f"{source} has no scheme.code to replace; validate it first")
    pos = source_map.position(("scheme", "code"))
    lines = text.split("\n")
    line = lines[pos.line - 1]
    old = data["scheme"]["code"]
    start = pos.col - 1
    quote = line[start] if line[start] in "'\"" else ""
    end = start + len(quote) * 2 + len(old)
    lines[pos.line - 1] = line[:start] + new_code + line[end:]
    out_dir = Path(target_dir) if target_dir else definitions_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{new_code.replace('-', '_')}.yaml"
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists already (use --force to overwrite)")
    header = f"# Cloned from {source.name} ({old}) on {date.today().isoformat()}.\n"
    target.write_text(header + "\n".join(lines), "utf-8")
    click.echo(f"wrote {target}")
    result = compile_file(target)
    _print_diagnostics(result)
    if result.errors:
        sys.exit(1)
    click.echo(f"{target}: ok - now edit it, then run: openscheme validate {target}")


@main.command()
@click.argument("scheme")
@click.option("--lang", default=None, help="Language for labels (default: the scheme's first).")
def explain(scheme, lang) -> None:
    """Print a plain-language summary of a scheme."""
    from .definitions.summary import summarize

    click.echo(summarize(_load(scheme), lang))


def _render_evaluation(ev, lang) -> list[str]:
    from .formulas import show

    s = ev.scheme
    out = [f"{s.title.get(lang)} - evaluated on {ev.as_of.isoformat()}"]
    if not ev.record.ok:
        out.append("The record is not valid:")
        out += [f"  {e.path}: {e.code} {e.message}" for e in ev.record.errors]
        return out
    out.append("ELIGIBLE" if ev.eligible else "NOT ELIGIBLE")
    for r in ev.rules:
        out.append(f"  [{'pass' if r.passed else 'FAIL'}] {r.name}" + ("" if r.passed else f": {r.reason}")
                   + (f" ({r.error})" if r.error else ""))
        out += [f"      {step}" for step in r.steps]
    if ev.premium:
        out.append(f"PREMIUM {show(ev.premium.value)} {s.currency}")
        out += [f"  {line}" for line in ev.premium.lines]
    if ev.contribution:
        out.append("CONTRIBUTION")
        for part, amount in ev.contribution.items():
            out.append(f"  {part}: {show(amount.value)} {s.currency}")
            out += [f"      {line}" for line in amount.lines]
    for b in ev.benefits:
        status = "entitled" if b.entitled else "not entitled"
        value = f" {show(b.amount.value)} {s.currency}" if b.amount else ""
        out.append(f"BENEFIT {b.label} ({b.code}): {status}{value}")
        if b.vouchers:
            out.append("  vouchers: " + ", ".join(f"{n} {t}" for t, n in b.vouchers.items()))
        for c in b.conditions:
            out.append(f"  [{'pass' if c.passed else 'FAIL'}] condition {c.name}" + ("" if c.passed else f": {c.reason}"))
        out += [f"  {line}" for line in (b.amount.lines if b.amount else [])]
        out += [f"  {line}" for line in b.lines]
    return out


def _evaluation_json(ev) -> dict:
    def num(x):
        return str(x) if x is not None else None

    return {
        "scheme": ev.scheme.code, "version": ev.scheme.version, "as_of": ev.as_of.isoformat(),
        "valid": ev.record.ok,
        "errors": [{"path": e.path, "code": e.code, "message": e.message} for e in ev.record.errors],
        "eligible": ev.eligible,
        "rules": [{"name": r.name, "passed": r.passed, "reason": r.reason, "error": r.error, "steps": r.steps}
                  for r in ev.rules],
        "premium": {"value": num(ev.premium.value), "lines": ev.premium.lines} if ev.premium else None,
        "contribution": {k: {"value": num(a.value), "lines": a.lines} for k, a in (ev.contribution or {}).items()} or None,
        "benefits": [{"code": b.code, "kind": b.kind, "entitled": b.entitled,
                      "amount": num(b.amount.value) if b.amount else None,
                      "vouchers": b.vouchers, "lines": (b.amount.lines if b.amount else []) + b.lines}
                     for b in ev.benefits],
    }


@main.command("eval")
@click.argument("scheme")
@click.option("--data", "data_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="A JSON (or YAML) file with one beneficiary record.")
@click.option("--as-of", default=None, help="Evaluation date YYYY-MM-DD (default: today).")
@click.option("--lang", default=None, help="Language of messages and labels.")
@click.option("--renewal", is_flag=True, help="Compute the premium of a renewal.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def eval_(scheme, data_file, as_of, lang, renewal, as_json) -> None:
    """Eligibility and amounts for one beneficiary, with the explanation."""
    from .evaluation import evaluate

    s = _load(scheme)
    text = Path(data_file).read_text("utf-8")
    try:
        data = json.loads(text, parse_float=lambda x: __import__("decimal").Decimal(x))
    except json.JSONDecodeError as exc:
        if data_file.endswith((".yaml", ".yml")):
            data, _, diags = load_yaml(text, data_file)
            if diags:
                raise click.ClickException("\n".join(str(d) for d in diags)) from None
        else:
            raise click.ClickException(f"{data_file}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    lang = lang or s.default_language
    ev = evaluate(s, data, as_of=_parse_date(as_of), lang=lang, renewal=renewal)
    if as_json:
        click.echo(json.dumps(_evaluation_json(ev), indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(_render_evaluation(ev, lang)))
    if not ev.record.ok:
        sys.exit(1)


@main.command()
@click.argument("scheme")
@click.option("--verbose", "-v", is_flag=True, help="Show the explanation of passing cases too.")
def test(scheme, verbose) -> None:
    """Run a scheme's embedded test cases."""
    from .evaluation.testcases import run_tests

    s = _load(scheme, run_tests=False)
    outcomes = run_tests(s)
    failed = 0
    for o in outcomes:
        mark = "PASS" if o.passed else "FAIL"
        click.echo(f"{mark} {o.case.name}")
        for f in o.failures:
            click.echo(f"     {f.code} {f.message}" + (f"\n       ({f.hint})" if f.hint else ""))
        if verbose and o.evaluation is not None:
            click.echo("\n".join("     " + line for line in _render_evaluation(o.evaluation, s.default_language)))
        failed += 0 if o.passed else 1
    click.echo(f"{len(outcomes)} test case(s), {failed} failed")
    if failed:
        sys.exit(1)


@main.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write to a file.")
def schema(output) -> None:
    """Print the JSON Schema of the definition format (for editors)."""
    from .definitions.schema import SCHEMA

    text = json.dumps(SCHEMA, indent=2, ensure_ascii=False) + "\n"
    if output:
        Path(output).write_text(text, "utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


# ---- running a deployment: database, definitions, users, server, demo ----------------------

DATABASE_OPTION = click.option(
    "--database-url", envvar="OPENSCHEME_DATABASE_URL", default=None, metavar="URL",
    help="SQLAlchemy URL (default: $OPENSCHEME_DATABASE_URL, else SQLite in instance/openscheme.db).")


def _database(url: str | None, migrate: bool = True):
    from .config import load_config
    from .storage.db import Database
    from .storage.migrate import upgrade

    database = Database(url or load_config()["DATABASE_URL"])
    if migrate:
        upgrade(database.engine)
    return database


def _print_load_report(report) -> None:
    for item in report.loaded:
        click.echo(f"new: {item}")
    for item in report.unchanged:
        click.echo(f"unchanged: {item}")
    for file, errors in report.failed.items():
        click.echo(f"failed: {file} ({len(errors)} error(s); the version loaded before, if any, stays current)")
        for e in errors:
            click.echo(f"  {e}")
    click.echo(f"{len(report.loaded)} new, {len(report.unchanged)} unchanged, {len(report.failed)} failed")


@main.group()
def db() -> None:
    """The database: migrations."""


@db.command("upgrade")
@DATABASE_OPTION
@click.option("--revision", default="head", show_default=True, help="Alembic revision to migrate to.")
def db_upgrade(database_url, revision) -> None:
    """Create or migrate the database schema (Alembic)."""
    from .storage.migrate import upgrade

    database = _database(database_url, migrate=False)
    try:
        upgrade(database.engine, revision)
        click.echo(f"database at {database.engine.url.render_as_string(hide_password=True)}: upgraded to {revision}")
    finally:
        database.dispose()


@main.command("load")
@click.argument("paths", nargs=-1, type=click.Path())
@DATABASE_OPTION
def load_(paths, database_url) -> None:
    """Compile definitions (default: scheme_definitions/) and store new versions; exit 1 on errors."""
    from .storage.schemes import SchemeCatalog

    targets = [Path(p) for p in paths] or [definitions_dir()]
    missing = [p for p in targets if not p.exists()]
    for p in missing:
        click.echo(f"{p}:1:1: E100 no such file or directory")
    database = _database(database_url)
    try:
        report = SchemeCatalog(database).load_paths([p for p in targets if p.exists()])
    finally:
        database.dispose()
    _print_load_report(report)
    if report.failed or missing:
        sys.exit(1)


def _parse_role(spec: str) -> tuple[str, str | None, str | None]:
    from .web.permissions import ROLES

    role, scheme, location = (spec.split(":", 2) + [None, None])[:3]
    if role not in ROLES:
        raise click.BadParameter(f"unknown role '{role}' (roles: {', '.join(ROLES)})", param_hint="--role")
    return role, scheme or None, location or None


@main.command("create-user")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, metavar="ROLE[:SCHEME[:LOCATION]]",
              help="A role, optionally limited to a scheme code and a location code (and below); repeatable. "
                   "E.g. enrolment_officer:tz-chf:KONGWA_DC, or analyst::DODOMA for every scheme in Dodoma.")
@click.option("--password", default=None, help="The password (visible in the shell history: prefer --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.option("--full-name", default="", help="The name shown in the interface.")
@click.option("--language", default="en", show_default=True, type=click.Choice(["en", "fr"]))
@DATABASE_OPTION
def create_user_(username, roles, password, password_stdin, full_name, language, database_url) -> None:
    """Create a user with one or more role assignments."""
    from sqlalchemy import select

    from .reference.users import create_user
    from .storage.models import SchemeVersion, User

    if not re.fullmatch(r"[A-Za-z0-9_.@-]{2,64}", username):
        raise click.BadParameter("2 to 64 letters, digits and . _ @ -", param_hint="USERNAME")
    parsed = [_parse_role(spec) for spec in roles]
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise click.BadParameter("use at least 8 characters", param_hint="password")
    database = _database(database_url)
    try:
        with database.session_factory() as session, session.begin():
            if session.scalar(select(User.id).where(User.username == username)) is not None:
                raise click.ClickException(f"user '{username}' exists already")
            known = set(session.scalars(select(SchemeVersion.code)))
            for _role, scheme, _loc in parsed:
                if scheme and scheme not in known:
                    click.echo(f"warning: no scheme '{scheme}' is loaded yet (openscheme load)", err=True)
            try:
                user = create_user(session, username, password, roles=parsed, full_name=full_name, language=language)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from None
            what = ", ".join(":".join(x for x in r if x) for r in parsed)
            click.echo(f"created user {user.username} ({what})")
    finally:
        database.dispose()


SERVE_THREADS = 4  # waitress's own default; Python runs one at a time, more mostly wait on the database


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=SERVE_THREADS, show_default=True, type=click.IntRange(1, 64),
              help="Requests handled at once (slow clients are buffered and hold none).")
@DATABASE_OPTION
def serve(host, port, threads, database_url) -> None:
    """Run the web application with waitress, a production WSGI server (put HTTPS in front of it)."""
    _serve(host, port, database_url, None, threads)


def _serve(host: str, port: int, database_url: str | None, scheme_paths: list[Path] | None,
           threads: int = SERVE_THREADS) -> None:
    """waitress, not werkzeug's development server: it is meant for production (a pool of threads,
    HTTP/1.1 keep-alive, slow clients buffered so they do not hold a thread - offices on slow links),
    pure Python, and registers more households per second through the API (benchmarks/registry.py)."""
    import waitress

    from .web.app import create_app

    config = {}
    if database_url:
        config["DATABASE_URL"] = database_url
    if scheme_paths:
        config["SCHEME_PATHS"] = [str(p) for p in scheme_paths if p.exists()]
    app = create_app(config)
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    click.echo(f"openscheme is running at http://{shown}:{port}/  (Ctrl+C to stop)")
    click.echo("note: on a network, put a reverse proxy with HTTPS in front of it and set "
               "OPENSCHEME_SECURE_COOKIES=1.")
    waitress.serve(app, host=host, port=port, threads=threads, ident="openscheme", _quiet=True)


@main.group()
def reference() -> None:
    """Reference data: ICD-10 codes."""


@reference.command("load-icd10")
@click.option("--csv", "csv_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Load a national list instead: a CSV file with the columns code,title[,chapter].")
@DATABASE_OPTION
def load_icd10_(csv_file, database_url) -> None:
    """Load ICD-10 codes (default: WHO ICD-10 2019); running it again changes only what differs."""
    from .reference.icd10 import SOURCE, csv_rows, load_icd10, who_icd10_rows

    try:
        rows = csv_rows(Path(csv_file)) if csv_file else who_icd10_rows()
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    database = _database(database_url)
    try:
        with database.session_factory() as session, session.begin():
            result = load_icd10(session, rows)
    finally:
        database.dispose()
    click.echo(f"ICD-10 from {csv_file or SOURCE}: {result}")


@main.command()
@click.option("--no-serve", is_flag=True, help="Prepare the database only; do not start the server.")
@click.option("--per-scheme", default=500, show_default=True, type=click.IntRange(0, 1_000_000),
              help="Synthetic households or people to register per scheme.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@DATABASE_OPTION
def demo(no_serve, per_scheme, host, port, database_url) -> None:
    """A ready-to-try deployment: every example, reference data, demo users, synthetic beneficiaries."""
    from .config import load_config
    from .reference.demo import run_demo

    url = database_url or load_config()["DATABASE_URL"]
    paths = [examples_dir(), definitions_dir()]
    click.echo(f"database: {make_url_safe(url)}")
    report = run_demo(url, paths, per_scheme=per_scheme, echo=click.echo)
    households = sum(g.added for g in report.beneficiaries if g.household)
    members = sum(g.people for g in report.beneficiaries if g.household)
    individuals = sum(g.added for g in report.beneficiaries if not g.household)
    refused = sum(g.refused for g in report.beneficiaries)
    click.echo(f"beneficiaries added: {households} households ({members} people) and {individuals} individuals; "
               f"{refused} generated records refused by validation; demo ready in {report.seconds:.1f} s")
    click.echo("demo users (passwords are for this demo only: change or remove them before real use):")
    width = max((len(u.username) for u in report.users), default=8)
    for u in report.users:
        note = "" if u.created else "  (already there: this run did not change its password)"
        click.echo(f"  {u.username:<{width}}  {u.password:<{width + 5}}  {u.description}{note}")
    if no_serve:
        click.echo("start the server with: openscheme serve")
        return
    _serve(host, port, url, paths)


def make_url_safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# ---- targeting and payment cycles -------------------------------------------------------------


def _runtime(database_url: str | None, scheme_ref: str):
    """The database, the stored scheme catalog and the compiled current version of SCHEME."""
    from .storage.schemes import SchemeCatalog

    database = _database(database_url)
    catalog = SchemeCatalog(database)
    catalog.refresh()
    code = scheme_ref
    if code not in catalog.codes():
        path = find_definition(scheme_ref)
        code = compile_file(path, run_tests=False).scheme.code if path is not None else scheme_ref
    scheme = catalog.current(code) if code in catalog.codes() else None
    if scheme is None:
        database.dispose()
        raise click.ClickException(f"scheme '{scheme_ref}' is not loaded in this database (openscheme load first)")
    return database, catalog, scheme


def _user(session, username: str | None, permission: str | None = None, scheme_code: str | None = None):
    """The acting user; with a permission, the user must hold it for the scheme (as on the web)."""
    from sqlalchemy import select

    from .storage.models import User
    from .web.permissions import can

    if not username:
        return None
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise click.ClickException(f"no active user '{username}'")
    if permission and not can(user, permission, scheme_code):
        raise click.ClickException(f"{username} may not do this ({permission} for {scheme_code})")
    return user


def _bar(total: int, label: str):
    """A click progress bar and the progress(done) callback that moves it."""
    bar = click.progressbar(length=max(total, 1), label=label, show_pos=True, file=sys.stderr)

    def progress(done: int, *_args) -> None:
        bar.update(max(0, min(done, total) - bar.pos))

    return bar, progress


def _count_units(session, scheme, ids_sql: str | None = None) -> int:
    from sqlalchemy import text

    from .targeting.loading import unit_table

    where = "u.scheme_code = :code AND u.active = TRUE" + ("" if scheme.is_household else " AND u.household_id IS NULL")
    if ids_sql:
        where += f" AND u.id IN ({ids_sql})"
    return session.scalar(text(f"SELECT count(*) FROM {unit_table(scheme)} u WHERE {where}"), {"code": scheme.code})


@main.command()
@click.argument("scheme")
@click.option("--as-of", default=None, help="Eligibility date YYYY-MM-DD (default: today).")
@click.option("--user", "username", default=None, help="Who runs it (recorded; that user cannot approve the run).")
@click.option("--approve", "approve_run_id", type=int, default=None, metavar="RUN",
              help="Instead of running: approve targeting run RUN as --user (enrols its eligible units).")
@DATABASE_OPTION
def target(scheme, as_of, username, approve_run_id, database_url) -> None:
    """Run targeting over the whole registry of a scheme (SQL per rule where possible)."""
    from .storage.workflow_models import TargetingRun
    from .targeting.run import TargetingError, approve_run, run_targeting

    database, catalog, s = _runtime(database_url, scheme)
    try:
        with database.session_factory() as session:
            user = _user(session, username, "targeting.approve" if approve_run_id is not None else "targeting.run",
                         s.code)
            if approve_run_id is not None:
                run = session.get(TargetingRun, approve_run_id)
                if run is None or run.scheme_code != s.code:
                    raise click.ClickException(f"no targeting run {approve_run_id} of {s.code}")
                if user is None:
                    raise click.ClickException("say who approves: --user NAME")
                try:
                    enrolled = approve_run(session, run, user, scheme=catalog.by_version(run.scheme_version_id) or s)
                except TargetingError as exc:
                    raise click.ClickException(str(exc)) from None
                session.commit()
                click.echo(f"run {run.id} approved by {user.username}: {enrolled} unit(s) enrolled")
                return
            day = _parse_date(as_of) or date.today()
            total = _count_units(session, s)
            bar, progress = _bar(total, f"targeting {s.code}")
            with bar:
                run = run_targeting(session, s, catalog.version_id(s.code), as_of=day, user=user, progress=progress)
                session.commit()
                progress(total)
            click.echo(f"run {run.id} of {s.code} as of {day.isoformat()}: {run.eligible_count} eligible, "
                       f"{run.excluded_count} excluded")
            for rule, method in (run.method or {}).items():
                click.echo(f"  {rule}: {method}")
            click.echo(f"approve it as another user: openscheme target {s.code} --approve {run.id} --user NAME")
    finally:
        database.dispose()


@main.command()
@click.argument("scheme")
@click.argument("benefit")
@click.argument("cycle_no", metavar="N", type=int)
@click.option("--dry-run", is_flag=True, help="Compute the cycle without writing anything; diff with cycle N-1.")
@click.option("--prepare", is_flag=True, help="Create the cycle's payments (idempotent, resumable).")
@click.option("--approve-as", default=None, metavar="USER", help="Approve the prepared cycle as USER (not the preparer).")
@click.option("--payroll", "channel", default=None, metavar="CHANNEL",
              help="Write the payroll CSV of a channel (its payments become sent).")
@click.option("--payroll-again", "payroll_id", type=int, default=None, metavar="ID",
              help="Write payroll ID of this cycle again, the very file produced (audited; nothing else changes).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="File for --payroll or --payroll-again (default: stdout).")
@click.option("--reconcile", "result_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Import the agent's result file (reference_id,status,reason).")
@click.option("--user", "username", default=None,
              help="Who acts for --prepare, --payroll, --payroll-again, --reconcile (recorded).")
@DATABASE_OPTION
def cycle(scheme, benefit, cycle_no, dry_run, prepare, approve_as, channel, payroll_id, output, result_file,
          username, database_url) -> None:
    """A payment cycle of a cash benefit: --dry-run | --prepare | --approve-as USER | --payroll CHANNEL -o FILE |
    --payroll-again ID -o FILE | --reconcile FILE."""
    from sqlalchemy import select

    from .payments import cycles
    from .payments.entitlements import enrolled_units_sql
    from .storage.workflow_models import PaymentCycle, Payroll

    actions = [a for a in (dry_run, prepare, approve_as, channel, payroll_id is not None, result_file) if a]
    if len(actions) != 1:
        raise click.UsageError("choose one of --dry-run, --prepare, --approve-as, --payroll, --payroll-again, "
                               "--reconcile")
    database, catalog, s = _runtime(database_url, scheme)
    try:
        b = s.benefit(benefit)
        if b is None or b.kind != "cash":
            cash = ", ".join(x.code for x in s.benefits if x.kind == "cash") or "none"
            raise click.ClickException(f"{s.code} has no cash benefit '{benefit}' (cash benefits: {cash})")
        try:
            cycles.check_cycle_no(b, cycle_no)
        except cycles.CycleError as exc:
            raise click.ClickException(str(exc)) from None
        with database.session_factory() as session:
            user = _user(session, username, "payments.prepare", s.code)
            if dry_run or prepare:
                total = _count_units(session, s, enrolled_units_sql(s))
            if dry_run:
                bar, progress = _bar(total, f"dry run {b.code} cycle {cycle_no}")
                with bar:
                    diff = cycles.dry_run(session, s, b, cycle_no, progress=progress)
                session.rollback()
                click.echo(f"cycle {cycle_no}: {diff.count} payment(s), total {diff.total} {s.currency} "
                           f"(nothing written)")
                previous = f"cycle {cycle_no - 1}" if cycle_no > 1 else "no previous cycle"
                click.echo(f"{previous}: {diff.previous_count} payment(s), total {diff.previous_total} {s.currency}")
                click.echo(f"added {len(diff.added)}, removed {len(diff.removed)}, amount changed "
                           f"{len(diff.changed)}, total {diff.total - diff.previous_total:+} {s.currency}")
                for reason, n in sorted(diff.not_paid.items()):
                    click.echo(f"  not paid ({reason}): {n}")
                return
            if prepare:
                bar, progress = _bar(total, f"preparing {b.code} cycle {cycle_no}")
                with bar:
                    try:
                        prepared = cycles.prepare(database.session_factory, s, catalog.version_id(s.code), b,
                                                  cycle_no, user, progress=progress)
                    except cycles.CycleError as exc:
                        raise click.ClickException(str(exc)) from None
                click.echo(f"cycle {cycle_no} {prepared.status}: {prepared.payment_count} payment(s), total "
                           f"{prepared.total} {s.currency}")
                return
            c = session.scalar(select(PaymentCycle).where(PaymentCycle.scheme_code == s.code,
                                                          PaymentCycle.benefit_code == b.code,
                                                          PaymentCycle.cycle_no == cycle_no))
            if c is None:
                raise click.ClickException(f"cycle {cycle_no} is not prepared (--prepare first)")
            try:
                if approve_as:
                    cycles.approve(session, c, _user(session, approve_as, "payments.approve", s.code))
                    session.commit()
                    click.echo(f"cycle {cycle_no} approved by {approve_as}: {c.payment_count} payment(s), "
                               f"total {c.total} {s.currency}")
                elif channel:
                    channels = list(s.payments.channels) if s.payments else ["cash"]
                    if channel not in channels:
                        raise click.ClickException(f"unknown channel '{channel}' (channels: {', '.join(channels)})")
                    body = cycles.payroll(session, s, c, channel, user)
                    session.flush()
                    kept_id = session.scalar(select(Payroll.id).where(Payroll.cycle_id == c.id,
                                                                      Payroll.channel == channel)
                                             .order_by(Payroll.id.desc()).limit(1)) if body.count("\n") > 1 else None
                    session.commit()
                    _write_payroll(body, output, kept_id)
                elif payroll_id is not None:
                    # as the web's "download again": only a payroll of this cycle, for who may produce them
                    kept = session.get(Payroll, payroll_id)
                    if kept is None or kept.cycle_id != c.id:
                        stored = session.execute(select(Payroll.id, Payroll.channel, Payroll.payment_count,
                                                        Payroll.created_at)
                                                 .where(Payroll.cycle_id == c.id).order_by(Payroll.id)).all()
                        known = ", ".join(f"{i} ({ch}, {n} payment(s), {at:%Y-%m-%d %H:%M})"
                                          for i, ch, n, at in stored) or "none"
                        raise click.ClickException(f"no payroll {payroll_id} in cycle {cycle_no} of {s.code} "
                                                   f"{b.code} (its payrolls: {known})")
                    body = cycles.payroll_again(session, kept, user)
                    session.commit()
                    _write_payroll(body, output, kept.id, again=True)
                else:
                    text_ = Path(result_file).read_text("utf-8-sig")
                    report = cycles.reconcile(session, c, text_, user)
                    session.commit()
                    click.echo(f"{result_file}: {report.paid} paid, {report.failed} failed, "
                               f"{len(report.problems)} problem(s)")
                    for line, message in report.problems:
                        click.echo(f"{result_file}:{line}: {message}")
            except cycles.CycleError as exc:
                raise click.ClickException(str(exc)) from None
    finally:
        database.dispose()


def _write_payroll(body: str, output: str | None, payroll_id: int | None, again: bool = False) -> None:
    """The payroll CSV to a file, byte for byte as produced (its CRLF line ends kept), or to stdout."""
    if not output:
        click.echo(body, nl=False)
        return
    Path(output).write_bytes(body.encode("utf-8"))
    kept = "" if payroll_id is None else f" (payroll {payroll_id}, again)" if again else \
        f" (payroll {payroll_id}: --payroll-again {payroll_id} writes the same file again)"
    click.echo(f"wrote {output}: {body.count(chr(10)) - 1} payment(s){kept}")


# ---- analysis: semantic diff, impact of a change, DHIS2 export ----------------------------------


def _scheme_from(ref: str, database_url: str | None):
    """A compiled scheme from a file (path, file name or code) or a stored version: CODE@ID,
    CODE@current or CODE@previous (read from the database)."""
    from .definitions import compile_text

    if "@" in ref and not Path(ref).exists():
        from sqlalchemy import select

        from .storage.models import SchemeVersion

        code, which = ref.split("@", 1)
        database = _database(database_url)
        try:
            with database.session_factory() as session:
                rows = list(session.scalars(select(SchemeVersion).where(SchemeVersion.code == code)
                                            .order_by(SchemeVersion.id.desc())))
        finally:
            database.dispose()
        current = next((r for r in rows if r.is_current), None)
        if which == "current":
            row = current
        elif which == "previous":
            row = next((r for r in rows if current is not None and r.id < current.id), None)
        else:
            row = next((r for r in rows if str(r.id) == which), None)
        if row is None:
            known = ", ".join(f"{code}@{r.id}" for r in rows[:10]) or "none"
            raise click.ClickException(f"no stored version '{ref}' (stored: {known})")
        result = compile_text(row.yaml_text, f"{code}@{row.id}", run_tests=False)
        if result.scheme is None:
            raise click.ClickException(f"{ref} no longer compiles: " + "; ".join(str(e) for e in result.errors))
        return result.scheme, f"#{row.id}"
    return _load(ref, run_tests=False), None


@main.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@DATABASE_OPTION
def diff_(old, new, as_json, database_url) -> None:
    """What changed between two versions of a scheme, in the scheme's own terms.

    OLD and NEW are files (or names/codes of definitions) or stored versions: CODE@ID,
    CODE@current, CODE@previous."""
    from .analysis.diff import diff_schemes, render

    a, _ = _scheme_from(old, database_url)
    b, _ = _scheme_from(new, database_url)
    changes = diff_schemes(a, b)
    if as_json:
        click.echo(json.dumps([{"kind": c.kind, "area": c.area, "subject": c.subject, "detail": c.detail,
                                "text": str(c)} for c in changes], indent=2, ensure_ascii=False))
    else:
        click.echo(render(changes, a, b))


@main.command("impact")
@click.argument("old")
@click.argument("new")
@click.option("--as-of", default=None, help="Evaluation date YYYY-MM-DD (default: today).")
@click.option("--limit", type=click.IntRange(1), default=None, help="Read at most this many units (the first by id).")
@click.option("--sample", "sample_size", type=click.IntRange(0, 100), default=5, show_default=True,
              help="Units whose result changes to show, explained.")
@click.option("--no-explain", is_flag=True, help="Do not print the explanations of the sample.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of text.")
@DATABASE_OPTION
def impact_(old, new, as_of, limit, sample_size, no_explain, as_json, database_url) -> None:
    """Who gains and who loses, and the cost per cycle, if NEW replaced OLD - on the registry of the
    configured database (run it on every change of a scheme kept in git)."""
    from .analysis.impact import impact, render

    a, a_label = _scheme_from(old, database_url)
    b, b_label = _scheme_from(new, database_url)
    if a.code != b.code:
        raise click.ClickException(f"{old} is {a.code} but {new} is {b.code}: compare two versions of one scheme")
    database = _database(database_url)
    try:
        with database.session_factory() as session:
            report = impact(session, a, b, as_of=_parse_date(as_of), limit=limit, sample_size=sample_size,
                            old_label=a_label or old, new_label=b_label or new)
    finally:
        database.dispose()
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(render(report, explanations=not no_explain))


@main.command("dhis2")
@click.argument("scheme")
@click.option("--period", required=True, help="DHIS2 period: YYYYMM (monthly), YYYYQn or YYYY.")
@click.option("--data-set", default=None, help="The DHIS2 data set code to put in the document.")
@click.option("--org-unit", default=None, help="Only this org unit code.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write to a file.")
@DATABASE_OPTION
def dhis2_(scheme, period, data_set, org_unit, output, database_url) -> None:
    """The scheme's indicators as a DHIS2 dataValueSets JSON document for one period.

    SCHEME is a scheme code (its current stored version) or a definition file."""
    from .analysis.dhis2 import PeriodError, data_value_set

    if "@" in scheme or Path(scheme).is_file():
        s, _ = _scheme_from(scheme, database_url)
    else:
        try:  # the version stored in the database (the one the data was captured under)
            s, _ = _scheme_from(f"{scheme}@current", database_url)
        except click.ClickException:
            s = _load(scheme, run_tests=False)
    if not s.indicators:
        raise click.ClickException(f"{s.code} declares no indicators (add an 'indicators:' list)")
    database = _database(database_url)
    try:
        with database.session_factory() as session:
            doc = data_value_set(session, s, period, data_set=data_set, org_unit=org_unit)
    except PeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    finally:
        database.dispose()
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if output:
        Path(output).write_text(text, "utf-8")
        click.echo(f"wrote {output}: {len(doc['dataValues'])} data value(s) for {period}")
    else:
        click.echo(text, nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
