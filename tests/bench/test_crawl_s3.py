"""CI smoke run of the S3 crawl benchmark, tiny: it uploads, lists, crawls, recrawls and reports."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_crawl_s3_benchmark_at_3_datasets_of_10_objects():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "crawl_s3.py"), "--datasets", "3", "--objects", "10"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"s3 objects=30 datasets=3 list_s=([\d.]+) full_s=([\d.]+) recrawl_s=([\d.]+) full_ratio=([\d.]+) "
                         r"recrawl_ratio=([\d.]+) files_read=(\d+) bytes_read=(\d+) peak_rss_mb=(\d+)", last)
    assert match, last
    assert int(match.group(6)) == 3 * 5, "the first crawl reads the 5 newest files of each dataset"
    assert 0 < int(match.group(7)) < 30 * 2000, "footers only"
    assert "unchanged recrawl" in done.stdout and "files read 0" in done.stdout
