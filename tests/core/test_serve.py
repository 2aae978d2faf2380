"""`manage.py serve`, the embedded default: web server, Celery worker and beat from one command,
with the folder broker (no Redis) and a SQLite catalog, as `make run` starts them."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.harness import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]

# Runs in a SQLite catalog of its own, whatever the suite's catalog is: once, in the PostgreSQL pass.
pytestmark = pytest.mark.postgres_catalog


def _manage(env, *args, timeout=120):
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


ENQUEUE_AND_WAIT = """
import time
from catalog.sources.models import Crawl, Source
from catalog.crawls.services import crawl_enqueue
crawl = crawl_enqueue(Source.objects.get(name="demo-shop"), trigger="web")
deadline = time.monotonic() + 40
while crawl.status in Crawl.ACTIVE and time.monotonic() < deadline:
    time.sleep(0.2)
    crawl.refresh_from_db()
print("CRAWL", crawl.pk, crawl.status, crawl.trigger, crawl.datasets_seen)
"""


def _processes_mentioning(text: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if text in line and "celery" in line]


def test_serve_runs_web_worker_and_beat_and_stops_them_together(tmp_path):
    # The embedded default's own CANON_FILE_ROOTS (not the suite's): the demo's files must be inside them.
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "EMAIL_URL", "CANON_FILE_ROOTS")}
    env.update(CANON_VAR_DIR=str(tmp_path / "var"), LOG_LEVEL="WARNING")
    _manage(env, "migrate", "--noinput")
    demo = _manage(env, "demo")
    assert "demo-shop: 10 datasets seen" in demo and "demo-lake: " in demo and "failed" not in demo, demo
    port = free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        serve = subprocess.Popen([sys.executable, "manage.py", "serve", f"127.0.0.1:{port}"], cwd=ROOT, env=env,
                                 stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout=60)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/sources/demo-shop/", timeout=10) as response:
            assert response.status == 200 and "demo-shop" in response.read().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/canon.css", timeout=10) as response:
            assert response.status == 200

        # "Crawl now" from another process goes through the folder broker to the embedded worker.
        out = _manage(env, "shell", "-c", ENQUEUE_AND_WAIT, timeout=90)
        status = next(line for line in out.splitlines() if line.startswith("CRAWL")).split()
        assert status[2:] == ["succeeded", "web", "10"], log_path.read_text(errors="replace")[-3000:]
        assert (tmp_path / "var" / "celery" / "control" / "crawl.exchange").exists()
        assert not (ROOT / "control").exists()  # kombu's default, relative to the working directory

        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=40) == 0
        # The worker and beat are known by this test's own schedule file, whoever their parent is.
        deadline = time.monotonic() + 15
        while _processes_mentioning(str(tmp_path)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _processes_mentioning(str(tmp_path)), "the worker outlived serve"
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    text = log_path.read_text(errors="replace")
    assert "beat: Starting..." in text and "Task canon.crawl_source" in text

