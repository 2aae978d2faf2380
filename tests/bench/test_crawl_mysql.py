"""CI smoke run of the MariaDB crawl benchmark: it builds, crawls, recrawls and reports."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# Its catalog is a PostgreSQL of its own: run it once, in the PostgreSQL pass of `make test`.
@pytest.mark.postgres_catalog
def test_crawl_mysql_benchmark_at_30_tables():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "crawl_mysql.py"), "--tables", "30", "--floor-runs", "2", "--recrawls", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"crawl tables=30 full_s=([\d.]+) recrawl_s=([\d.]+) floor_s=([\d.]+) "
                         r"full_ratio=([\d.]+) recrawl_ratio=([\d.]+) peak_rss_mb=(\d+)", last)
    assert match, last
    assert float(match.group(1)) > 0 and float(match.group(3)) > 0
    assert "full crawl: " in done.stdout and "30 added" in done.stdout
