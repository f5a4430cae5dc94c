"""Fraud signals for the claims reviewers: listed for review, never decided automatically.

- Duplicate claims: the same person, service and date in more than one claim (at one
  facility or several). One GROUP BY over the claim lines.
- Facility outliers: per facility, services claimed per visit, cost asked per visit and
  visits per patient, compared with the peers of the same level: a facility far above
  them (more than twice the peers' median, or more than two standard deviations above
  their mean) is listed. One aggregate query; the statistics are computed per level.

Why a facility is listed is kept as data (`FacilityFigures.signals`: a key and its figures) and
said in English (`flags`) or in the reader's language (`flags_in`, `flag_text`).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, func, select, tuple_

from .. import numformat
from ..storage.models import Facility, Individual
from ..storage.workflow_models import ClaimLineRecord, ClaimRecord

COUNTED = ("entered",)  # claims not yet submitted are left out


@dataclass
class Duplicate:
    individual_id: int
    uid: str
    code: str
    date: date
    claims: list[tuple[int, str, str]]  # (claim id, claim code, facility code)


def duplicates(session, scheme_code: str, since: date | None = None, limit: int = 200) -> list[Duplicate]:
    c, line = ClaimRecord, ClaimLineRecord
    where = [c.scheme_code == scheme_code, c.status.notin_(COUNTED)]
    if since is not None:
        where.append(c.date_from >= since)
    groups = session.execute(
        select(c.individual_id, line.code, c.date_from).join(line, line.claim_id == c.id).where(*where)
        .group_by(c.individual_id, line.code, c.date_from).having(func.count(func.distinct(c.id)) > 1)
        .order_by(c.date_from.desc()).limit(limit)).all()
    if not groups:
        return []
    keys = {(g[0], g[2]) for g in groups}
    rows = session.execute(
        select(c.id, c.code, c.individual_id, c.date_from, line.code, Facility.code, Individual.uid)
        .join(line, line.claim_id == c.id).join(Facility, Facility.id == c.facility_id)
        .join(Individual, Individual.id == c.individual_id)
        .where(*where, tuple_(c.individual_id, c.date_from).in_(list(keys)))).all()
    found = defaultdict(dict)
    uids = {}
    for cid, ccode, pid, when, code, fcode, uid in rows:
        found[(pid, code, when)][cid] = (cid, ccode, fcode)
        uids[pid] = uid
    return [Duplicate(pid, uids.get(pid, ""), code, when, sorted(found[(pid, code, when)].values()))
            for pid, code, when in groups if len(found[(pid, code, when)]) > 1]


@dataclass
class FacilityFigures:
    facility_id: int
    code: str
    name: str
    level: str
    visits: int
    patients: int
    services: int
    asked: Decimal
    flags: list[str] = field(default_factory=list)  # in English
    signals: list[tuple[str, dict]] = field(default_factory=list)  # the same, as data: (key, params)

    def flags_in(self, lang: str | None = "en") -> list[str]:
        return [flag_text(key, params, lang) for key, params in self.signals]

    @property
    def services_per_visit(self) -> Decimal:
        return Decimal(self.services) / self.visits if self.visits else Decimal(0)

    @property
    def cost_per_visit(self) -> Decimal:
        return self.asked / self.visits if self.visits else Decimal(0)

    @property
    def visits_per_patient(self) -> Decimal:
        return Decimal(self.visits) / self.patients if self.patients else Decimal(0)


MEASURES = (("services_per_visit", "services per visit"), ("cost_per_visit", "cost per visit"),
            ("visits_per_patient", "visits per patient"))
MEASURE_WORDS = {"services_per_visit": {"en": "services per visit", "fr": "services par visite"},
                 "cost_per_visit": {"en": "cost per visit", "fr": "coût par visite"},
                 "visits_per_patient": {"en": "visits per patient", "fr": "visites par patient"}}
FLAGS = {
    "median": {"en": "{measure} {value} is more than {factor}× the median of its peers ({median})",
               "fr": "{measure} : {value}, plus de {factor} fois la médiane de ses pairs ({median})"},
    "deviations": {"en": "{measure} {value} is more than {sds} standard deviations above its peers' mean "
                         "({mean} ± {sd})",
                   "fr": "{measure} : {value}, plus de {sds} écarts-types au-dessus de la moyenne de ses pairs "
                         "({mean} ± {sd})"},
}


def _figure(value, lang: str) -> str:
    """A figure with two decimals (English as it always read: 12000.00)."""
    return f"{float(value):.2f}" if lang == "en" else numformat.number(Decimal(str(value)), lang, places=2)


def flag_text(key: str, params: dict, lang: str | None = "en") -> str:
    """Why a facility is listed, in a language."""
    lang = numformat.base(lang)
    words = MEASURE_WORDS.get(params["measure"], {})
    said = {k: (_figure(v, lang) if k in ("value", "median", "mean", "sd") else
                numformat.decimal(Decimal(str(v)), lang) if k in ("factor", "sds") else v) for k, v in params.items()}
    said["measure"] = words.get(lang) or words.get("en") or params["measure"]
    texts = FLAGS[key]
    return texts.get(lang, texts["en"]).format(**said)


def facility_outliers(session, scheme_code: str, since: date | None = None, until: date | None = None,
                      factor: Decimal = Decimal(2), sds: Decimal = Decimal(2)) -> list[FacilityFigures]:
    """Every facility with claims, its figures and, for the outliers, why they stand out."""
    c, line = ClaimRecord, ClaimLineRecord
    where = [c.scheme_code == scheme_code, c.status.notin_(COUNTED)]
    if since is not None:
        where.append(c.date_from >= since)
    if until is not None:
        where.append(c.date_from <= until)
    per_claim = (select(c.id.label("cid"), c.facility_id.label("fid"), c.individual_id.label("pid"),
                        c.asked.label("asked"), func.count(line.id).label("n"))
                 .join(line, line.claim_id == c.id).where(and_(*where)).group_by(c.id, c.facility_id, c.individual_id, c.asked)
                 .subquery())
    rows = session.execute(
        select(per_claim.c.fid, Facility.code, Facility.name, Facility.level, func.count(per_claim.c.cid),
               func.count(func.distinct(per_claim.c.pid)), func.sum(per_claim.c.n), func.sum(per_claim.c.asked))
        .join(Facility, Facility.id == per_claim.c.fid)
        .group_by(per_claim.c.fid, Facility.code, Facility.name, Facility.level)).all()
    figures = [FacilityFigures(fid, code, name, level, int(visits), int(patients), int(services or 0), Decimal(asked or 0))
               for fid, code, name, level, visits, patients, services, asked in rows]
    by_level = defaultdict(list)
    for f in figures:
        by_level[f.level].append(f)
    for peers in by_level.values():
        for f in peers:
            others = [p for p in peers if p is not f]
            if len(others) < 2:
                continue
            for attr, _label in MEASURES:
                values = [float(getattr(p, attr)) for p in others]
                mine = float(getattr(f, attr))
                median = statistics.median(values)
                mean, sd = statistics.fmean(values), statistics.pstdev(values)
                if median > 0 and mine > float(factor) * median:
                    signal = ("median", {"measure": attr, "value": mine, "factor": str(factor), "median": median})
                elif sd > 0 and mine > mean + float(sds) * sd:
                    signal = ("deviations", {"measure": attr, "value": mine, "sds": str(sds), "mean": mean, "sd": sd})
                else:
                    continue
                f.signals.append(signal)
                f.flags.append(flag_text(*signal))
    return sorted(figures, key=lambda f: (not f.flags, f.level, f.code))
