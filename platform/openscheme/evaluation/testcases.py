"""The scheme's own test cases: example beneficiaries with expected outcomes.

They run every time a definition is compiled (`openscheme validate`, `load`,
server start), so a change that silently alters who is eligible or how much is
paid is caught before it goes live.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..definitions.messages import MESSAGES as _registered  # noqa: F401 - the keys below
from ..definitions.model import Scheme, TestCase
from ..formulas.messages import Said, base_language, say
from .engine import Evaluation, evaluate, fmt
from .records import FieldError, validate_record


@dataclass(frozen=True)
class Failure:
    code: str
    message: str
    path: tuple
    hint: str = ""
    said: Said | None = None  # the message as data, to say in another language (definitions/messages.py)
    hint_said: Said | None = None


class _RecordMessage:
    """A record error's message inside a failure: as the record said it (in the scheme's default language,
    as always printed), or said again in another language by validating the test's data in it."""

    def __init__(self, scheme: Scheme, case: TestCase, error: FieldError):
        self.scheme, self.case, self.error = scheme, case, error

    def text(self, lang: str | None = "en") -> str:
        if base_language(lang) == "en":
            return self.error.message
        record = validate_record(self.scheme, self.case.data, as_of=as_of_for(self.scheme, self.case), lang=lang)
        again = [e for e in record.errors if (e.path, e.code) == (self.error.path, self.error.code)]
        return again[0].message if again else self.error.message

    def __str__(self) -> str:
        return self.text("en")


class _Why:
    """Why a case is not eligible: the failed rules, each with its reason and the formula's runtime
    error (in English as always printed, or said in another language)."""

    def __init__(self, rules):
        self.rules = [r for r in rules if not r.passed]

    def text(self, lang: str | None = "en") -> str:
        return "; ".join(f"{r.name}: {r.reason}" + (f" ({r.error_text(lang)})" if r.error else "") for r in self.rules)

    def __str__(self) -> str:
        return self.text("en")


class _Lines:
    """A hint that shows the computation: its English lines as always printed, or said again in another
    language from the same steps (`lines_in`, evaluation/explanations.py)."""

    def __init__(self, *outcomes):
        self.outcomes = [x for x in outcomes if x is not None]

    def text(self, lang: str | None = "en") -> str:
        if base_language(lang) == "en":
            return "; ".join(line for x in self.outcomes for line in x.lines)
        return "; ".join(line for x in self.outcomes for line in x.lines_in(lang))

    def __str__(self) -> str:
        return self.text("en")


def _did_you_mean(name: str, candidates) -> tuple[str, Said | None]:
    close = difflib.get_close_matches(name, list(candidates), n=1)
    return (f"did you mean '{close[0]}'?", say("hint_did_you_mean", name=close[0])) if close else ("", None)


@dataclass
class TestOutcome:
    case: TestCase
    evaluation: Evaluation | None
    failures: list[Failure] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def data_path(path: str) -> tuple:
    """"members[2].dob" -> ("members", 2, "dob"): where the value sits under the test's data."""
    out: list = []
    for part in path.replace("]", "").split("."):
        if not part:
            continue
        name, _, index = part.partition("[")
        out.append(name)
        if index.isdigit():
            out.append(int(index))
    return tuple(out)


def as_of_for(scheme: Scheme, case: TestCase) -> date:
    return case.as_of or scheme.period_start or date.today()


def run_case(scheme: Scheme, case: TestCase) -> TestOutcome:
    expect = case.expect
    ev = evaluate(scheme, case.data, as_of=as_of_for(scheme, case), renewal=case.renewal,
                  enrolment_date=case.enrolment_date)
    out = TestOutcome(case, ev)
    fail = out.failures.append
    base = case.path
    errors = {e.path: e for e in ev.record.errors}
    if "errors" in expect:
        wanted = expect["errors"]
        for path, code in wanted.items():
            got = errors.get(path)
            if got is None:
                fail(Failure("E701", f"expected the error {code} on '{path}', but there is none", base + ("expect", "errors", path),
                             said=say("expected_error_none", code=code, path=path)))
            elif got.code != code:
                fail(Failure("E701", f"expected the error {code} on '{path}', got {got.code} ({got.message})",
                             base + ("expect", "errors", path),
                             said=say("expected_error_got", code=code, path=path, got=got.code,
                                      message=_RecordMessage(scheme, case, got))))
        for path, e in errors.items():
            if path not in wanted:
                fail(Failure("E701", f"unexpected error on '{path}': {e.code} {e.message}", base + ("data",),
                             said=say("unexpected_error", path=path, code=e.code, message=_RecordMessage(scheme, case, e))))
        return out
    if errors:
        for e in ev.record.errors:
            fail(Failure("E701", f"the test data is invalid: {e.path}: {e.message}", base + ("data",) + data_path(e.path),
                         "fix the data, or expect the error under expect.errors",
                         said=say("test_data_invalid", path=e.path, message=_RecordMessage(scheme, case, e)),
                         hint_said=say("hint_fix_test_data")))
        return out
    if "eligible" in expect and expect["eligible"] != ev.eligible:
        if ev.eligible:
            msg = "expected not eligible, but every rule passed"
            said = say("expected_not_eligible")
        else:
            why = _Why(ev.rules)
            msg = f"expected eligible, but {why}"
            said = say("expected_eligible", why=why)
        fail(Failure("E702", msg, base + ("expect", "eligible"), said=said))
    if "failed_rules" in expect:
        want, got = sorted(expect["failed_rules"]), sorted(ev.failed_rules)
        unknown = [r for r in want if scheme.rule(r) is None]
        for r in unknown:
            hint, hint_said = _did_you_mean(r, [x.name for x in scheme.eligibility])
            fail(Failure("E707", f"unknown rule '{r}' in failed_rules", base + ("expect", "failed_rules"), hint,
                         said=say("unknown_rule_in_test", name=r), hint_said=hint_said))
        if not unknown and want != got:
            fail(Failure("E703", f"expected failed rules {want or 'none'}, got {got or 'none'}", base + ("expect", "failed_rules"),
                         said=say("expected_failed_rules", want=str(want) if want else say("no_rules"),
                                  got=str(got) if got else say("no_rules"))))
    if "premium" in expect:
        want = Decimal(expect["premium"])
        if ev.premium is None:
            fail(Failure("E704", "expected a premium, but the scheme declares none", base + ("expect", "premium"),
                         said=say("expected_premium_none")))
        elif ev.premium.value != want:
            fail(Failure("E704", f"expected premium {fmt(want)}, got {fmt(ev.premium.value)}",
                         base + ("expect", "premium"), "; ".join(ev.premium.lines),
                         said=say("expected_premium", want=fmt(want), got=fmt(ev.premium.value)),
                         hint_said=_Lines(ev.premium)))
    if "contribution" in expect:
        for part, value in expect["contribution"].items():
            got = (ev.contribution or {}).get(part)
            if got is None or got.value != Decimal(value):
                fail(Failure("E705", f"expected {part} contribution {fmt(Decimal(value))}, got "
                                     f"{fmt(got.value) if got else 'none'}", base + ("expect", "contribution", part),
                             "; ".join(got.lines) if got else "",
                             said=say("expected_contribution", part=part, want=fmt(Decimal(value)),
                                      got=fmt(got.value) if got else say("no_contribution")),
                             hint_said=_Lines(got)))
    for code, value in (expect.get("amounts") or {}).items():
        b = ev.benefit(code)
        if b is None:
            hint, hint_said = _did_you_mean(code, [x.code for x in scheme.benefits])
            fail(Failure("E707", f"unknown benefit '{code}' in amounts", base + ("expect", "amounts", code), hint,
                         said=say("unknown_benefit_in_test", code=code, key="amounts"), hint_said=hint_said))
            continue
        got = b.amount.value if b.amount else Decimal(0)
        if got != Decimal(value):
            detail = "; ".join((b.amount.lines if b.amount else []) + b.lines)
            fail(Failure("E706", f"expected {code} amount {fmt(Decimal(value))}, got {fmt(got)}",
                         base + ("expect", "amounts", code), detail,
                         said=say("expected_amount", code=code, want=fmt(Decimal(value)), got=fmt(got)),
                         hint_said=_Lines(b.amount, b)))
    for code, wanted in (expect.get("entitled") or {}).items():
        b = ev.benefit(code)
        if b is None:
            hint, hint_said = _did_you_mean(code, [x.code for x in scheme.benefits])
            fail(Failure("E707", f"unknown benefit '{code}' in entitled", base + ("expect", "entitled", code), hint,
                         said=say("unknown_benefit_in_test", code=code, key="entitled"), hint_said=hint_said))
        elif b.entitled != wanted:
            fail(Failure("E709", f"expected {code} {'' if wanted else 'not '}to be entitled, but it is"
                                 f"{'' if b.entitled else ' not'}", base + ("expect", "entitled", code),
                         "; ".join(b.lines), said=say("expected_entitled" if wanted else "expected_not_entitled", code=code),
                         hint_said=_Lines(b)))
    known_types = {v.type for b in scheme.benefits for v in b.vouchers}
    for vtype, count in (expect.get("vouchers") or {}).items():
        if vtype not in known_types:
            hint, hint_said = _did_you_mean(vtype, sorted(known_types))
            fail(Failure("E707", f"unknown voucher type '{vtype}' in vouchers", base + ("expect", "vouchers", vtype), hint,
                         said=say("unknown_voucher_in_test", type=vtype), hint_said=hint_said))
            continue
        got = sum(b.vouchers.get(vtype, 0) for b in ev.benefits)
        if got != count:
            fail(Failure("E708", f"expected {count} '{vtype}' voucher(s), got {got}", base + ("expect", "vouchers", vtype),
                         said=say("expected_vouchers", count=count, type=vtype, got=got)))
    return out


def run_tests(scheme: Scheme) -> list[TestOutcome]:
    return [run_case(scheme, case) for case in scheme.tests]
