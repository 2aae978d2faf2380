"""Smoke run of the duplicates benchmark at a small size: it builds, detects, updates and reports what the issue asks."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_duplicates_benchmark_at_5000_datasets():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "duplicates.py"), "--datasets", "5000", "--planted", "50"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"duplicates datasets=5000 planted=50 found=(\d+) false_groups=(\d+) full_s=([\d.]+) incremental_s=([\d.]+)",
                         last)
    assert match, last
    found, false_groups, full_s, incremental_s = int(match[1]), int(match[2]), float(match[3]), float(match[4])
    assert found >= 49 and false_groups == 0
    assert full_s > 0 and incremental_s > 0
    # The tiny identical tables made one group, capped, with a warning; the new copies of the incremental pass were found.
    assert "a group of 100 datasets like" in done.stdout and "capped at 50" in done.stdout
    assert re.search(r"incremental pass: 50 changed, \d+ groups made again, 25/25 new copies found", done.stdout), done.stdout
