"""The formula benchmark runs end to end on a small number of households."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_formula_benchmark_smoke_run():
    completed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "formulas.py"), "--households", "2000"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    out = completed.stdout
    assert re.search(r"ratio compiled / hand-written: \d+\.\d+x \(target <= 3x", out), out
    assert "all paths agree" in out
    for path in ("(a)", "(b)", "(c)", "(d)"):
        assert path in out
