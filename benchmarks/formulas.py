"""How fast is a formula? The eligibility rule of a cash-transfer scheme, four ways.

    .venv/bin/python benchmarks/formulas.py                   # 1,000,000 households
    .venv/bin/python benchmarks/formulas.py --households 2000  # a smoke run

Builds N synthetic households (a district, 1-10 members with date of birth, sex and
income) and evaluates

    district in poorest
    and count(members, age(dob) >= 60 or age(dob) < 5) >= 2
    and sum(members, income) < 50000

(a) with plain simpleeval, parsing the expression on every evaluation (the usual way
    of using it; its own comprehension syntax stands in for count/sum),
(b) with our simpleeval interpreter on the tree parsed once (`formula.interpret`),
(c) with the production path, the compiled formula (`formula.evaluate`),
(d) with a hand-written Python function of the same rule.

(a) and (b) are slow, so they run on a subsample; (c) and (d) run over all N. All four
must give the same answer for every household of the subsample, and (c) and (d) for
every household; the script exits with status 1 otherwise. Times are wall-clock
(time.perf_counter) with the garbage collector paused while timing; nothing is
asserted about them.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

import simpleeval

from openscheme.formulas import Scope, T, compile_formula
from openscheme.formulas import functions as fn

RULE = ("district in poorest and count(members, age(dob) >= 60 or age(dob) < 5) >= 2 "
        "and sum(members, income) < 50000")

# the same rule in plain simpleeval's own language (comprehensions and subscripts)
SIMPLEEVAL_RULE = ('district in poorest and len([m for m in members if age(m["dob"]) >= 60 '
                   'or age(m["dob"]) < 5]) >= 2 and sum([m["income"] for m in members]) < 50000')

AS_OF = date(2025, 1, 1)
DISTRICTS = [f"district_{i:02d}" for i in range(20)]
POOREST = ("district_03", "district_07", "district_11", "district_15", "district_19")
TARGET_RATIO = 3.0
SUBSAMPLE = 20_000
CHUNK = 100_000

SCOPE = Scope(
    names={"district": T.TEXT, "poorest": T.LIST, "members": T.MEMBERS},
    member_names={"dob": T.DATE, "sex": T.TEXT, "income": T.NUMBER},
    constants={"poorest": POOREST},
    choices={"district": frozenset(DISTRICTS), "sex": frozenset({"male", "female"})},
)


# ---- data ------------------------------------------------------------------------------


def households(n: int, seed: int) -> Iterator[list[dict]]:
    """n synthetic households, in chunks (a million households do not need to sit in memory)."""
    rng = random.Random(seed)
    first_day = AS_OF - timedelta(days=95 * 365)
    # pools keep generation fast; every household still gets its own dicts
    dobs = [first_day + timedelta(days=rng.randrange(95 * 365)) for _ in range(20_000)]
    incomes = [Decimal(rng.randrange(0, 1_500_000)) / 100 for _ in range(20_000)]
    made = 0
    while made < n:
        size = min(CHUNK, n - made)
        chunk = []
        for _ in range(size):
            members = [
                {"dob": rng.choice(dobs), "sex": rng.choice(("male", "female")), "income": rng.choice(incomes)}
                for _ in range(rng.randint(1, 10))
            ]
            chunk.append({"district": rng.choice(DISTRICTS), "members": members})
        made += size
        yield chunk


# ---- the four ways -----------------------------------------------------------------------


def age_at(as_of: date, born: date) -> int:
    return as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))


def hand_written(household: dict, as_of: date) -> bool:
    """What a programmer would write for this one rule."""
    members = household["members"]
    return (
        household["district"] in POOREST
        and sum(1 for m in members if age_at(as_of, m["dob"]) >= 60 or age_at(as_of, m["dob"]) < 5) >= 2
        and sum(m["income"] for m in members) < 50000
    )


def plain_simpleeval(as_of: date) -> Callable[[dict], bool]:
    evaluator = simpleeval.EvalWithCompoundTypes(
        functions={"age": partial(fn.age, as_of), "len": len, "sum": sum},
        names={},
    )

    def evaluate(household: dict) -> bool:
        evaluator.names = {"district": household["district"], "poorest": POOREST,
                           "members": household["members"]}
        return evaluator.eval(SIMPLEEVAL_RULE)  # parses the text every time

    return evaluate


def timed(function: Callable[[dict], object], chunk: list[dict]) -> tuple[float, list]:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        results = [function(household) for household in chunk]
        return time.perf_counter() - start, results
    finally:
        gc.enable()


# ---- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=1_000_000, help="how many (default 1,000,000)")
    parser.add_argument("--subsample", type=int, default=SUBSAMPLE,
                        help=f"households for the slow simpleeval paths (default {SUBSAMPLE:,})")
    parser.add_argument("--seed", type=int, default=20250101)
    args = parser.parse_args(argv)
    if args.households < 1:
        parser.error("--households must be at least 1")

    formula = compile_formula(RULE, SCOPE)
    evaluate, interpret = formula.evaluate, formula.interpret
    as_of = AS_OF
    paths = {
        "a": ("(a) simpleeval, parsing every time", plain_simpleeval(as_of)),
        "b": ("(b) simpleeval, parsed once (formula.interpret)", lambda h: interpret(h, as_of)),
        "c": ("(c) compiled formula (formula.evaluate)", lambda h: evaluate(h, as_of)),
        "d": ("(d) hand-written Python function", lambda h: hand_written(h, as_of)),
    }
    seconds = dict.fromkeys(paths, 0.0)
    evaluated = dict.fromkeys(paths, 0)
    eligible = dict.fromkeys(paths, 0)
    disagreements: list[str] = []
    subsample = min(args.subsample, args.households)
    members_total = 0

    for index, chunk in enumerate(households(args.households, args.seed)):
        members_total += sum(len(h["members"]) for h in chunk)
        results = {}
        for key in ("c", "d"):
            spent, results[key] = timed(paths[key][1], chunk)
            seconds[key] += spent
            evaluated[key] += len(chunk)
            eligible[key] += sum(1 for r in results[key] if r is True)
        if results["c"] != results["d"]:
            disagreements.append(f"compiled and hand-written differ in chunk {index}")
        if index == 0:  # the subsample: the first households
            sample = chunk[:subsample]
            for key in ("a", "b"):
                spent, results[key] = timed(paths[key][1], sample)
                seconds[key] += spent
                evaluated[key] += len(sample)
                eligible[key] += sum(1 for r in results[key] if r is True)
            sample_eligible = {key: sum(1 for r in results[key][:subsample] if r is True) for key in paths}
            for i in range(len(sample)):
                answers = {key: bool(results[key][i]) for key in paths}
                if len(set(answers.values())) > 1:
                    disagreements.append(f"household {i}: {answers}")

    per_eval = {key: seconds[key] / evaluated[key] * 1e6 for key in paths}
    ratio = per_eval["c"] / per_eval["d"]

    print("Formula evaluation benchmark")
    print(f"  rule: {RULE}")
    print(f"  households: {args.households:,} ({members_total / args.households:.1f} members on average), "
          f"as of {as_of.isoformat()}, Python {sys.version.split()[0]}, simpleeval {simpleeval_version()}")
    print()
    header = f"  {'path':<50} {'households':>12} {'total s':>9} {'µs/eval':>9} {'eligible':>10} {'vs (d)':>8}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    for key, (label, _) in paths.items():
        print(f"  {label:<50} {evaluated[key]:>12,} {seconds[key]:>9.3f} {per_eval[key]:>9.2f} "
              f"{eligible[key]:>10,} {per_eval[key] / per_eval['d']:>7.1f}x")
    print()
    counts = ", ".join(f"({key}) {sample_eligible[key]:,}" for key in paths)
    print(f"  eligible in the subsample of {subsample:,}: {counts}")
    print(f"  parse once vs parse every time: {per_eval['a'] / per_eval['b']:.1f}x faster; "
          f"compiled vs parse once: {per_eval['b'] / per_eval['c']:.1f}x faster")
    verdict = "within target" if ratio <= TARGET_RATIO else "ABOVE TARGET"
    print(f"  ratio compiled / hand-written: {ratio:.2f}x (target <= {TARGET_RATIO:.0f}x: {verdict})")
    if disagreements:
        print(f"  DISAGREEMENT between the paths ({len(disagreements)}):")
        for line in disagreements[:10]:
            print(f"    {line}")
        return 1
    print("  all paths agree on every household compared")
    return 0


def simpleeval_version() -> str:
    from importlib import metadata

    return metadata.version("simpleeval")


if __name__ == "__main__":
    sys.exit(main())
