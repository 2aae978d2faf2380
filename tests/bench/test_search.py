"""CI smoke run of the search benchmark, tiny: it builds, indexes, queries, loads the page and reports."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_search_benchmark_at_400_datasets_of_10_columns():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "search.py"), "--datasets", "400", "--columns", "4000",
                           "--requests", "40", "--seconds", "30", "--clients", "4", "--workers", "2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    match = re.fullmatch(r"search docs=(\d+) p50_ms=([\d.]+) p95_ms=([\d.]+) p99_ms=([\d.]+) mrr=([\d.]+)", lines[-1])
    assert match, lines[-1]
    assert int(match.group(1)) >= 4400, "every dataset and column has a document"
    assert float(match.group(5)) >= 0.9, done.stdout[-3000:]
    page = re.fullmatch(r"page clients=4 loads=(\d+) errors=0 rps=\d+ p50_ms=\d+ p95_ms=\d+ p99_ms=\d+ index_s=[\d.]+", lines[-2])
    assert page and int(page.group(1)) > 0, lines[-2]
    assert "queries: " in done.stdout and "MRR by kind of query" in done.stdout
