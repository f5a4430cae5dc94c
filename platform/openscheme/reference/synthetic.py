"""Synthetic beneficiaries for the demo, generated from a scheme's own field declarations.

Nothing here knows a particular scheme: values come from the declarations - choices (with
their `choice_filter`), location fields (a random place of the deepest declared level and its
ancestors), `pattern`s (a random string matching the regular expression: ID and card
numbers), min/max, required or optional, the members roster (sizes, ages, sexes) and the
roles. Names come from small per-country lists shipped in data/names.csv.

Every record is registered through `Registry.register`, so the same validation as the forms,
the API and the import decides: a record it refuses is regenerated for the fields it names
(at most twice, with narrower date ranges) and then skipped and counted. Records carry an
import key "demo:<n>" and the generator is seeded per record, so running the demo again adds
nothing.
"""

from __future__ import annotations

import random
import re
import re._parser as sre_parse
import string
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from ..definitions.model import Field, Scheme
from ..registry.service import Registry
from ..storage.models import Household, Individual, Location
from .seed import DATA, read_data_csv

ELIGIBLE_SHARE = 0.8  # of the records are regenerated towards the eligibility rules (the others stay as drawn)
HOUSEHOLD_SIZES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
HOUSEHOLD_WEIGHTS = (6, 10, 14, 16, 15, 12, 9, 7, 5, 3, 2, 1)
PHONES = {"TZ": ("+255", "7", 9), "NP": ("+977", "98", 10), "GM": ("+220", "7", 7), "CM": ("+237", "6", 9)}
TEXT_HINTS = {
    "employer": ["Himal Textiles Pvt. Ltd.", "Everest Bakery", "Nepal Software House", "Annapurna School",
                 "Kathmandu Cooperative Ltd.", "Pokhara Hotel Group", "Bagmati Carpets", "Lumbini Traders",
                 "Sagarmatha Construction", "Gandaki Tea Estate"],
    "school": ["École publique de Pitoa", "École publique de Domayo", "Lycée de Maroua", "CES de Guider",
               "Collège de Mokolo", "École primaire de Bidzar", "Lycée bilingue de Bertoua", "École de Koza"],
}


# ---- names -----------------------------------------------------------------------------------


@dataclass
class NameBook:
    female: list[str] = field(default_factory=list)
    male: list[str] = field(default_factory=list)
    family: list[str] = field(default_factory=list)


def load_names(path: Path = DATA / "names.csv") -> dict[str, NameBook]:
    books: dict[str, NameBook] = defaultdict(NameBook)
    for row in read_data_csv(path):
        getattr(books[row["country"]], row["kind"]).extend(n.strip() for n in row["names"].split(";") if n.strip())
    everyone = NameBook()
    for book in list(books.values()):
        everyone.female += book.female
        everyone.male += book.male
        everyone.family += book.family
    books["*"] = everyone
    return dict(books)


# ---- strings matching a pattern ---------------------------------------------------------------

_DIGITS = string.digits
_WORD = string.ascii_letters + string.digits + "_"
_PRINTABLE = string.ascii_uppercase + string.digits


def _category_chars(category) -> str:
    name = str(category)
    if "DIGIT" in name:
        return "" if "NOT" in name else _DIGITS
    if "WORD" in name:
        return "" if "NOT" in name else _WORD
    if "SPACE" in name:
        return "" if "NOT" in name else " "
    return _PRINTABLE


def _in_chars(items) -> str:
    chars, negate = [], False
    for op, av in items:
        if op is sre_parse.NEGATE:
            negate = True
        elif op is sre_parse.LITERAL:
            chars.append(chr(av))
        elif op is sre_parse.RANGE:
            chars += [chr(c) for c in range(av[0], av[1] + 1)]
        elif op is sre_parse.CATEGORY:
            chars += list(_category_chars(av))
    if negate:
        return "".join(c for c in _PRINTABLE if c not in chars)
    return "".join(chars) or _PRINTABLE


def _generate(items, rng: random.Random) -> str:
    out = []
    for op, av in items:
        if op is sre_parse.LITERAL:
            out.append(chr(av))
        elif op is sre_parse.NOT_LITERAL:
            out.append(rng.choice([c for c in _PRINTABLE if c != chr(av)]))
        elif op is sre_parse.ANY:
            out.append(rng.choice(_PRINTABLE))
        elif op is sre_parse.IN:
            out.append(rng.choice(_in_chars(av)))
        elif op is sre_parse.CATEGORY:
            out.append(rng.choice(_category_chars(av) or _PRINTABLE))
        elif op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, getattr(sre_parse, "POSSESSIVE_REPEAT", None)):
            low, high, sub = av
            high = low + 3 if high == sre_parse.MAXREPEAT else high
            out += [_generate(sub, rng) for _ in range(rng.randint(low, high))]
        elif op is sre_parse.SUBPATTERN:
            out.append(_generate(av[-1], rng))
        elif op is sre_parse.BRANCH:
            out.append(_generate(rng.choice(av[1]), rng))
        elif op is sre_parse.AT:
            continue
        else:
            raise ValueError(f"pattern element {op} is not supported by the generator")
    return "".join(out)


def string_matching(pattern: str, rng: random.Random, tries: int = 5) -> str | None:
    """A random string that `re.fullmatch(pattern)` accepts, or None if none was found."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return None
    for _ in range(tries):
        try:
            value = _generate(parsed, rng)
        except ValueError:
            return None
        if re.fullmatch(pattern, value):
            return value
    return None


# ---- places ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    level: str
    path: str


class Places:
    """The seeded locations of one country, for location fields and place-name text fields."""

    def __init__(self, session, country: str | None):
        query = select(Location.code, Location.name, Location.level, Location.path)
        if country:
            query = query.where(Location.path.like(f"/{country}/%"))
        self.all = [Place(*row) for row in session.execute(query)]
        self.by_code = {p.code: p for p in self.all}
        self.by_level: dict[str, list[Place]] = defaultdict(list)
        for p in self.all:
            self.by_level[p.level].append(p)

    def ancestors(self, place: Place) -> dict[str, str]:
        """level -> code for the place and everything above it."""
        out = {}
        for code in place.path.strip("/").split("/"):
            p = self.by_code.get(code)
            if p is not None:
                out[p.level] = p.code
        return out

    def within(self, level: str, path: str) -> list[Place]:
        return [p for p in self.by_level.get(level, []) if p.path.startswith(path)]


# ---- records -----------------------------------------------------------------------------------


def _years_ago(today: date, years: float, rng: random.Random) -> date:
    return today - timedelta(days=int(years * 365.25) + rng.randint(0, 364))


class RecordGenerator:
    def __init__(self, scheme: Scheme, places: Places, names: dict[str, NameBook], today: date | None = None):
        self.scheme = scheme
        self.places = places
        self.names = names.get(scheme.country or "") or names["*"]
        self.today = today or date.today()
        self.levels = list(scheme.location_levels)
        rules = " ".join(r.formula.text for r in scheme.eligibility)
        self.women_only = bool(re.search(r"""\bsex\s*==\s*["']F["']""", rules))
        wage = scheme.contributions.wage if scheme.contributions else None
        self.wage_field = wage.field if wage else None
        # fields whose choices are filtered by another field: pick values that leave them a choice
        self.dependents: dict[str, list[Field]] = defaultdict(list)
        for f in scheme.fields + scheme.member_fields:
            if f.choice_filter is not None:
                self.dependents[f.choice_filter.field].append(f)
        self.wage_range = ((wage.minimum_wage or Decimal(10000)), (wage.wage_ceiling or (wage.minimum_wage or Decimal(10000)) * 8)) if wage else None

    # -- people

    def _person(self, rng, sex: str, age_years: tuple[int, int], family: str) -> dict:
        book = self.names
        first = rng.choice(book.female if sex == "F" else book.male)
        return {"_sex": sex, "_dob": _years_ago(self.today, rng.randint(*age_years), rng),
                "_first": first, "_last": family}

    def _household_people(self, rng) -> list[dict]:
        members = self.scheme.members
        size = rng.choices(HOUSEHOLD_SIZES, HOUSEHOLD_WEIGHTS)[0]
        size = max(members.min, min(members.max, size))
        family = rng.choice(self.names.family)
        head_sex = "M" if rng.random() < 0.7 else "F"
        head = self._person(rng, head_sex, (22, 70), family)
        people = [head]
        head_age = (self.today - head["_dob"]).days // 365
        if size >= 2 and rng.random() < 0.85:
            spouse_family = family if rng.random() < 0.5 else rng.choice(self.names.family)
            low = max(18, head_age - 12)
            people.append(self._person(rng, "F" if head_sex == "M" else "M", (low, max(low, head_age + 3)), spouse_family))
        if len(people) < size and head_age > 55 and rng.random() < 0.2:
            people.append(self._person(rng, rng.choice("FM"), (head_age + 18, head_age + 30), family))
        while len(people) < size:
            top = max(0, min(17, head_age - 17))
            people.append(self._person(rng, rng.choice("FM"), (0, top), family))
        return people

    def _individual(self, rng) -> dict:
        sex = "F" if self.women_only else rng.choice("FM")
        ages = (16, 42) if self.women_only else (18, 64)
        return self._person(rng, sex, ages, rng.choice(self.names.family))

    # -- fields

    def _place_for_text(self, f: Field, values: dict, rng) -> str | None:
        """A text field named like a location level ("village") gets a seeded place name."""
        if f.name not in self.levels and f.name not in self.places.by_level:
            return None
        path = "/"
        for value in values.values():
            place = self.places.by_code.get(value) if isinstance(value, str) else None
            if place is not None and len(place.path) > len(path):
                path = place.path
        candidates = self.places.within(f.name, path) or self.places.by_level.get(f.name, [])
        return rng.choice(candidates).name if candidates else None

    def _date(self, f: Field, person: dict | None, rng, step: int) -> date:
        if person is not None and (f.name == "dob" or "birth" in f.name):
            return person["_dob"]
        name = f.name.lower()
        if step == 1 or "lmp" in name or "menstru" in name:
            low, high = self.today - timedelta(days=270), self.today - timedelta(days=14)
        elif step == 2 or "edd" in name or "due" in name or "expected" in name:
            low, high = self.today + timedelta(days=7), self.today + timedelta(days=260)
        else:
            dob = person.get("_dob") if person else None
            low = max(dob + timedelta(days=365 * 18), self.today - timedelta(days=3650)) if dob else self.today - timedelta(days=3650)
            high = self.today
        if isinstance(f.min, date):
            low = max(low, f.min)
        if isinstance(f.max, date):
            high = min(high, f.max)
        if high < low:
            high = low
        return low + timedelta(days=rng.randint(0, (high - low).days))

    def _number(self, f: Field, rng):
        if f.name == self.wage_field and self.wage_range:
            low, high = self.wage_range
            return Decimal(rng.randint(int(low), int(high)) // 100 * 100)
        low = Decimal(f.min) if isinstance(f.min, Decimal) else Decimal(0)
        high = Decimal(f.max) if isinstance(f.max, Decimal) else None
        if f.type == "integer":
            if high is None or high - low > 10:
                value = low + min(int(rng.expovariate(0.4)), int(high - low) if high is not None else 50)
            else:
                value = rng.randint(int(low), int(high))
            return int(value)
        if high is None:
            high = low + (50000 if f.type == "money" else 100)
        places = f.decimals if f.decimals is not None else (0 if f.type == "money" else 1)
        value = Decimal(str(rng.uniform(float(low + (high - low) / 2), float(high))))
        return value.quantize(Decimal(1).scaleb(-places))

    def value(self, f: Field, values: dict, unit_values: dict, person: dict | None, rng, step: int = 0):
        t = f.type
        if t == "calculate" or f.calculate is not None or f.read_only:
            return None
        if person is not None:
            if f.name == "first_name":
                return person["_first"]
            if f.name in ("last_name", "family_name", "surname"):
                return person["_last"]
            if f.name in ("sex", "gender") and {"F", "M"} <= set(f.choice_values):
                return person["_sex"]
        if t in ("select_one", "select_multiple"):
            options = list(f.choices)
            if f.choice_filter is not None:
                wanted = values.get(f.choice_filter.field, unit_values.get(f.choice_filter.field))
                options = [c for c in options if str(c.columns.get(f.choice_filter.column)) == str(wanted)]
            usable = [c for c in options if all(
                any(str(d.columns.get(dep.choice_filter.column)) == c.value for d in dep.choices)
                for dep in self.dependents.get(f.name, ()))]
            options = usable or options
            if not options:
                return None
            if t == "select_one":
                return rng.choice(options).value
            return [c.value for c in rng.sample(options, rng.randint(1, min(3, len(options))))]
        if t == "boolean":  # when repairing, the other value
            return not values.get(f.name) if step else rng.random() < 0.35
        if t == "location":
            candidates = self.places.by_level.get(f.location_level or "", [])
            return rng.choice(candidates).code if candidates else None
        if t == "date":
            return self._date(f, person, rng, step)
        if t in ("integer", "decimal", "money"):
            return self._number(f, rng)
        if t == "phone":
            prefix, start, digits = PHONES.get(self.scheme.country or "", ("+", "", 9))
            phone = prefix + start + "".join(rng.choice(_DIGITS) for _ in range(digits - len(start)))
            if not f.pattern or re.fullmatch(f.pattern, phone):
                return phone
        if t == "email":
            return f"demo{rng.randint(1, 10**6)}@example.org"
        if t == "gps":
            return None
        if f.pattern:
            return string_matching(f.pattern, rng)
        if t == "national_id":
            return "".join(rng.choice(_DIGITS) for _ in range(10))
        place = self._place_for_text(f, unit_values | values, rng)
        if place:
            return place
        for hint, words in TEXT_HINTS.items():
            if hint in f.name:
                return rng.choice(words)
        text = f"{f.label.get('en') or f.name} {rng.randint(1, 999)}"
        return text[: f.max_length] if f.max_length else text

    def _wanted(self, f: Field, rng) -> bool:
        if f.required or f.required_when is not None:
            return True
        return rng.random() < (0.5 if f.unique else 0.8)

    def _locations(self, rng) -> dict[str, str]:
        fields = [f for f in self.scheme.fields if f.type == "location" and f.location_level]
        if not fields:
            return {}
        deepest = max(fields, key=lambda f: self.levels.index(f.location_level) if f.location_level in self.levels else -1)
        candidates = self.places.by_level.get(deepest.location_level, [])
        if not candidates:
            return {}
        above = self.places.ancestors(rng.choice(candidates))
        return {f.name: above[f.location_level] for f in fields if f.location_level in above}

    def _fill(self, fields, values: dict, unit_values: dict, person: dict | None, rng, only=None, step=0) -> None:
        for f in fields:
            if only is not None and f.name not in only:
                continue
            if f.type == "location" and f.name in values and only is None:
                continue
            if only is None and not self._wanted(f, rng):
                continue
            value = self.value(f, values, unit_values, person, rng, step)
            if value is not None:
                values[f.name] = value
            elif only is not None:
                values.pop(f.name, None)

    def record(self, rng: random.Random) -> dict:
        scheme = self.scheme
        if not scheme.is_household:
            person = self._individual(rng)
            values = self._locations(rng)
            self._fill(scheme.fields, values, {}, person, rng)
            values["_person"] = person
            return values
        values = self._locations(rng)
        self._fill(scheme.fields, values, {}, None, rng)
        people = self._household_people(rng)
        members = []
        for person in people:
            member: dict = {}
            self._fill(scheme.member_fields, member, values, person, rng)
            member["_person"] = person
            members.append(member)
        for role in scheme.roles:
            if role.min < 1:
                continue
            if "head" in role.name:
                holder = members[0]
            else:  # e.g. the primary recipient: an adult woman if there is one
                adults = [m for m in members if (self.today - m["_person"]["_dob"]).days >= 18 * 365]
                women = [m for m in adults if m["_person"]["_sex"] == "F"]
                holder = (women or adults or members)[0]
            holder.setdefault("roles", []).append(role.name)
        values["members"] = members
        return values

    def aim_eligible(self, data: dict, rng: random.Random, tries: int = 6) -> None:
        """Regenerate the fields read by what the record fails - an eligibility rule, a benefit's
        condition, a cash amount of zero - a few times, so that most demo beneficiaries qualify and get
        something (a record that stays invalid is left to `repair`)."""
        from ..evaluation import evaluate

        for _ in range(tries):
            ev = evaluate(self.scheme, clean(data), as_of=self.today, explain=False)
            if not ev.record.ok:
                return
            formulas = [r.formula for r in self.scheme.eligibility if r.name in ev.failed_rules]
            for b in self.scheme.benefits if ev.eligible else ():
                outcome = ev.benefit(b.code)
                if outcome is None:
                    continue
                failed = {c.name for c in outcome.conditions if not c.passed}
                formulas += [c.formula for c in b.conditions if c.name in failed]
                if b.eligible_when is not None and not outcome.entitled and not failed:
                    formulas.append(b.eligible_when)
                if b.kind == "cash" and b.amount is not None and outcome.entitled and outcome.amount is not None \
                        and outcome.amount.value <= 0:
                    formulas.append(b.amount)
            if not formulas:
                return
            names: set[str] = set()
            for formula in formulas:
                names |= set(formula.names) | set(formula.member_names)
            places = {f.name for f in self.scheme.fields if f.type == "location"}
            if names & places:  # places are drawn together, each inside the one above
                data.update(self._locations(rng))
            names -= places | {"dob", "sex", "first_name", "last_name"}  # people stay who they are
            self._fill(self.scheme.fields, data, data, data.get("_person"), rng, only=names)
            for member in data.get("members") or []:
                self._fill(self.scheme.member_fields, member, data, member.get("_person"), rng, only=names)

    def repair(self, data: dict, errors, rng: random.Random, step: int) -> None:
        """Regenerate the fields a validation error names (dates move to narrower windows)."""
        for error in errors:
            match = re.match(r"members\[(\d+)\]\.(\w+)", error.path or "")
            if match and data.get("members"):
                index = int(match.group(1))
                if index < len(data["members"]):
                    member = data["members"][index]
                    self._fill(self.scheme.member_fields, member, data, member.get("_person"), rng,
                               only={match.group(2)}, step=step)
                continue
            name = error.field or error.path
            if name and self.scheme.field(name) is not None:
                self._fill(self.scheme.fields, data, data, data.get("_person"), rng, only={name}, step=step)


def clean(data: dict) -> dict:
    """The record without the generator's private keys, with dates as ISO text (like a form)."""
    def plain(v):
        if isinstance(v, date):
            return v.isoformat()
        if isinstance(v, Decimal):
            return format(v, "f")
        return v

    out = {k: plain(v) for k, v in data.items() if not k.startswith("_") and k != "members"}
    if "members" in data:
        out["members"] = [{k: plain(v) for k, v in m.items() if not k.startswith("_")} for m in data["members"]]
    return out


# ---- registering ---------------------------------------------------------------------------------


@dataclass
class GenerationReport:
    scheme: str
    household: bool = False
    added: int = 0
    people: int = 0
    refused: int = 0
    existing: int = 0
    seconds: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        unit = f"households ({self.people} people)" if self.household else "people"
        text = (f"{self.scheme}: {self.added} {unit} added, {self.refused} refused by validation, "
                f"{self.existing} already there ({self.seconds:.1f} s)")
        if self.reasons:
            text += "; refusals: " + ", ".join(f"{k} x{v}" for k, v in sorted(self.reasons.items()))
        return text


def generate(database, catalog, scheme_code: str, count: int, names: dict[str, NameBook] | None = None,
             batch_size: int = 200, today: date | None = None) -> GenerationReport:
    """Register `count` synthetic units (households or individuals) for a scheme, in batches."""
    started = time.perf_counter()
    scheme = catalog.current(scheme_code)
    report = GenerationReport(scheme_code)
    if scheme is None:
        return report
    report.household = scheme.is_household
    table = Household if scheme.is_household else Individual
    names = names or load_names()
    with database.session_factory() as session:
        existing = set(session.scalars(select(table.import_key).where(
            table.scheme_code == scheme_code, table.import_key.like("demo:%"))))
        places = Places(session, scheme.country)
    generator = RecordGenerator(scheme, places, names, today)
    keys = [f"demo:{i}" for i in range(1, count + 1)]
    report.existing = sum(1 for k in keys if k in existing)
    todo = [k for k in keys if k not in existing]
    for start in range(0, len(todo), batch_size):
        with database.session_factory() as session, session.begin():
            registry = Registry(session, catalog, user=None, lang="en", ip="demo")
            for key in todo[start:start + batch_size]:
                rng = random.Random(f"{scheme_code}:{key}")
                data = generator.record(rng)
                if rng.random() < ELIGIBLE_SHARE:
                    generator.aim_eligible(data, rng)
                for step in range(3):
                    result = registry.register(scheme_code, clean(data))
                    if result.ok:
                        break
                    if step < 2:
                        generator.repair(data, result.errors, rng, step + 1)
                if not result.ok:
                    report.refused += 1
                    for e in result.errors:
                        reason = f"{e.path} {e.code}"
                        report.reasons[reason] = report.reasons.get(reason, 0) + 1
                    continue
                result.record.import_key = key
                report.added += 1
                report.people += len(data.get("members") or []) or 1
            session.flush()
    report.seconds = time.perf_counter() - started
    return report
