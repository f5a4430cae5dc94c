"""The `openscheme` command line.

    openscheme validate PATH...            check definitions; every problem as file:line:col
    openscheme clone EXAMPLE NEW_CODE      copy an example into scheme_definitions/ and check it
    openscheme explain SCHEME              a plain-language summary
    openscheme eval SCHEME --data F.json   eligibility and amounts for one beneficiary, explained
    openscheme test SCHEME                 run the scheme's own test cases
    openscheme schema                      the JSON Schema of the format, for editors

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


if __name__ == "__main__":  # pragma: no cover
    main()
