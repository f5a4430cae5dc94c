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
    openscheme serve                       the web application (development server)
    openscheme reference load-icd10        ICD-10 codes

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
from .locate import available, definitions_dir, examples_dir, find_definition, yaml_files


def _print_diagnostics(result) -> None:
    for d in result.diagnostics:
        click.echo(str(d), err=False)


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


@click.group(help=__doc__)
@click.version_option(package_name="openscheme")
def main() -> None:
    pass


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--quiet", "-q", is_flag=True, help="Print problems only, not the summary.")
def validate(paths, strict, quiet) -> None:
    """Check scheme definitions (files or directories); exit 1 on any error."""
    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files += yaml_files(p)
        elif p.exists():
            files.append(p)
        else:
            click.echo(f"{raw}:1:1: E100 no such file or directory")
            files.append(p)
    errors = warnings = 0
    for f in files:
        if not f.exists():
            errors += 1
            continue
        result = compile_file(f)
        _print_diagnostics(result)
        e, w = len(result.errors), len(result.warnings)
        errors += e
        warnings += w
        if not quiet and not e and result.scheme is not None:
            s = result.scheme
            click.echo(f"{f}: ok - {s.code} v{s.version}, {len(s.fields) + len(s.member_fields)} fields, "
                       f"{len(s.eligibility)} rules, {len(s.benefits)} benefits, {len(s.tests)} test cases passed")
    if not quiet:
        click.echo(f"{len(files)} file(s), {errors} error(s), {warnings} warning(s)")
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
            failed += 0
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


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=5000, show_default=True, type=int)
@DATABASE_OPTION
def serve(host, port, database_url) -> None:
    """Run the web application with werkzeug's threaded development server."""
    _serve(host, port, database_url, None)


def _serve(host: str, port: int, database_url: str | None, scheme_paths: list[Path] | None) -> None:
    from werkzeug.serving import run_simple

    from .web.app import create_app

    config = {}
    if database_url:
        config["DATABASE_URL"] = database_url
    if scheme_paths:
        config["SCHEME_PATHS"] = [str(p) for p in scheme_paths if p.exists()]
    app = create_app(config)
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    click.echo(f"openscheme is running at http://{shown}:{port}/  (Ctrl+C to stop)")
    click.echo("note: this is werkzeug's development server, fine for a demo or a small pilot on a trusted "
               "network; in production run the WSGI app 'openscheme.web.app:create_app()' behind a "
               "production server and HTTPS.")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


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


if __name__ == "__main__":  # pragma: no cover
    main()
