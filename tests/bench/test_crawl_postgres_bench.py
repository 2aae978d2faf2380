"""CI smoke run of the PostgreSQL crawl benchmark: it builds, crawls, recrawls and reports.

Timings are not asserted (CI machines are noisy); only that the benchmark still
runs end to end and its last line keeps its shape.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

LAST_LINE = re.compile(
    r"crawl tables=(?P<tables>\d+) full_s=(?P<full>[\d.]+) recrawl_s=(?P<recrawl>[\d.]+) floor_s=(?P<floor>[\d.]+) "
    r"full_ratio=(?P<full_ratio>[\d.]+) recrawl_ratio=(?P<recrawl_ratio>[\d.]+) peak_rss_mb=(?P<rss>\d+) "
    r"plain_full_ratio=(?P<plain_full_ratio>[\d.]+) plain_recrawl_ratio=(?P<plain_recrawl_ratio>[\d.]+) "
    r"quality_full_cost=(?P<quality_full>[\d.]+) quality_recrawl_cost=(?P<quality_recrawl>[\d.]+)"
)
PROCESS_LINE = re.compile(
    r"process start_s=(?P<start>[\d.]+) full_s=(?P<full>[\d.]+) recrawl_s=(?P<recrawl>[\d.]+) "
    r"full_ratio=(?P<full_ratio>[\d.]+) recrawl_ratio=(?P<recrawl_ratio>[\d.]+)"
)


# It starts a PostgreSQL of its own for warehouse and catalog: run it once, in the PostgreSQL pass of `make test`.
@pytest.mark.postgres_catalog
def test_crawl_postgres_benchmark_at_30_tables():
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "crawl_postgres.py"), "--tables", "30", "--floor-runs", "2", "--full-crawls", "2", "--recrawls", "2",
         "--process-runs", "1", "--rows", "20"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    match = LAST_LINE.fullmatch(last)
    assert match, last
    values = {k: float(v) for k, v in match.groupdict().items()}
    assert values["tables"] == 30
    assert values["full"] > 0 and values["recrawl"] > 0 and values["floor"] > 0
    assert values["full_ratio"] == pytest.approx(values["full"] / values["floor"], rel=0.2, abs=0.05)
    assert values["recrawl_ratio"] == pytest.approx(values["recrawl"] / values["floor"], rel=0.2, abs=0.05)
    assert 20 < values["rss"] < 4000
    assert "30 added" in done.stdout and "0 added, 0 changed, 0 removed" in done.stdout
    assert "full crawl with quality" in done.stdout and "unchanged recrawl without quality" in done.stdout
    assert values["quality_full"] == pytest.approx(values["full_ratio"] / values["plain_full_ratio"], rel=0.05, abs=0.02)
    assert values["quality_recrawl"] == pytest.approx(values["recrawl_ratio"] / values["plain_recrawl_ratio"], rel=0.05, abs=0.02)
    # The same crawls as `manage.py crawl` processes: they include starting the process, so they take longer.
    process = PROCESS_LINE.fullmatch(done.stdout.strip().splitlines()[-2])
    assert process, done.stdout.strip().splitlines()[-2]
    timed = {k: float(v) for k, v in process.groupdict().items()}
    assert 0 < timed["start"] < timed["full"] and timed["start"] < timed["recrawl"]
    assert timed["full"] > values["full"] and timed["recrawl"] > values["recrawl"]
    assert timed["full_ratio"] == pytest.approx(timed["full"] / values["floor"], rel=0.2, abs=0.05)
