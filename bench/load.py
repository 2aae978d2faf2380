"""Pages under load while hostile requests run: do search and dataset pages stay fast?

    .venv/bin/python bench/load.py --datasets 10000

One run starts a throwaway PostgreSQL (tests.harness.PostgresServer), migrates a catalog
database, fills it (datasets with COPY, a source with columns, metric definitions), builds the
search index, and serves it with gunicorn as the README's production section runs it
(`gunicorn catalog.wsgi -w 4`: sync workers, one request at a time each; persistent database
connections, `?conn_max_age=60`, as bench/search.py serves). Then, at once:

- `--clients` clients (default 8) load search pages and dataset pages, each request timed;
- `--hostile` clients (default 4), logged in, post the SQL of issue 14 to the form's live check
  (`/metrics/check/`): 2 KB of parentheses nested a thousand deep, which held a worker for
  25-40 s before Canon bounded what one request may read (docs/metrics.md, "Bounds").

The run is bounded by `--requests` page loads and `--seconds`. Any answer other than 200 (or
a page taking longer than the client's 30 s timeout) is an error, hostile ones included.
Progress lines go to stdout; the LAST line is, exactly:

    load clients=.. requests=.. errors=.. search_p95_ms=.. hostile=..
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import PostgresServer, free_port, wait_for_port  # noqa: E402

# The request of issue 14: nested SQL, checked by the form's live panel.
HOSTILE_SQL = "SELECT " + "(" * 1000 + "1" + ")" * 1000
WORDS = ["orders", "customer", "t000042", "revenue", "s3", "payments", "order_id", "t0001", "amount", "status"]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def setup_django(catalog_url: str) -> dict:
    from cryptography.fernet import Fernet

    env = {
        "DATABASE_URL": catalog_url, "CANON_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        # A PostgreSQL catalog with DEBUG off is a production start: it needs a secret key; pages are read
        # anonymously over plain HTTP on loopback (the hostile clients log in).
        "SECRET_KEY": Fernet.generate_key().decode(), "CANON_REQUIRE_LOGIN": "false", "SECURE_SSL_REDIRECT": "false",
        "CANON_VAR_DIR": tempfile.mkdtemp(prefix="canon-bench-var-"), "DJANGO_SETTINGS_MODULE": "catalog.settings",
        "LOG_LEVEL": "ERROR",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return env


def build_catalog(datasets: int) -> tuple[list[int], str]:
    """Datasets (COPY), a source with columns, definitions, the search index; a logged-in session's cookie."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from catalog.inventory.models import Column, Dataset
    from catalog.metrics.services import metric_register
    from catalog.search.rebuild import search_rebuild
    from tests.factories import make_datasets, make_source

    make_datasets(make_source("lake"), datasets)
    shop = make_source("shop", "postgresql://reader:not-used@127.0.0.1:1/shop")
    make_datasets(shop, 3, start=datasets)
    columns = {"orders": ["order_id", "customer_id", "amount", "status", "ordered_at"], "customers": ["customer_id", "email", "country"],
               "payments": ["payment_id", "order_id", "amount", "paid_at"]}
    for dataset, name in zip(Dataset.objects.filter(source=shop).order_by("id"), columns):
        Dataset.objects.filter(pk=dataset.pk).update(schema_name="sales", name=name, column_count=len(columns[name]))
        Column.objects.bulk_create([Column(dataset=dataset, name=c, data_type="text", position=i + 1) for i, c in enumerate(columns[name])])
    user = get_user_model().objects.create_user("writer", "writer@example.com", secrets.token_urlsafe(12))
    metric_register(user=user, data={"name": "revenue", "sql": "SELECT sum(amount) FROM sales.orders"})
    metric_register(user=user, data={"name": "paying_customers", "sql": "SELECT count(DISTINCT customer_id) FROM sales.payments p "
                                                                          "JOIN sales.orders o USING (order_id)"})
    search_rebuild()
    session = SessionStore()
    session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return list(Dataset.objects.order_by("id").values_list("id", flat=True)), session.session_key


def run_load(env: dict, dataset_ids: list[int], session_key: str, *, clients: int, hostile: int, requests: int, seconds: float,
             workers: int) -> dict:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "catalog.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, timeout=60)
        timings: dict[str, list[float]] = {"search": [], "dataset": [], "hostile": []}
        failures: Counter = Counter()
        lock = threading.Lock()
        deadline, started_at, done = [0.0], [0.0], threading.Event()
        csrf = secrets.token_hex(16)  # a CSRF secret of 32 characters: the cookie and the header carry the same one
        hostile_headers = {"Cookie": f"sessionid={session_key}; csrftoken={csrf}", "X-CSRFToken": csrf,
                           "Content-Type": "application/x-www-form-urlencoded"}
        hostile_body = urlencode({"name": "nested", "sql": HOSTILE_SQL, "dialect": "postgres"})

        cpu_at_start = [0.0]

        def client_cpu() -> float:  # this process's CPU: the clients' threads, which share the machine with the server
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return usage.ru_utime + usage.ru_stime

        def start_clock():
            started_at[0], deadline[0] = time.perf_counter(), time.monotonic() + seconds
            cpu_at_start[0] = client_cpu()

        ready = threading.Barrier(clients + hostile + 1, action=start_clock)
        counter = iter(range(requests))

        def timed(connection, kind: str, method: str, path: str, body=None, headers=None) -> http.client.HTTPConnection:
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers or {})
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if ok:
                    timings[kind].append(elapsed)
                else:
                    failures[kind] += 1
            return connection

        def warm(connection):
            for _ in range(3):  # every worker has imported Django and connected before the clock starts
                connection.request("GET", "/search/?q=orders")
                connection.getresponse().read()

        def client(number: int):
            rng = random.Random(number)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                warm(connection)
            finally:
                ready.wait()
            while time.monotonic() < deadline[0]:
                with lock:
                    i = next(counter, None)
                if i is None:
                    break
                if i % 2:
                    connection = timed(connection, "dataset", "GET", f"/datasets/{rng.choice(dataset_ids)}/")
                else:
                    connection = timed(connection, "search", "GET", "/search/?" + urlencode({"q": rng.choice(WORDS)}))
            connection.close()

        def hostile_client(number: int):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                warm(connection)
            finally:
                ready.wait()
            while time.monotonic() < deadline[0] and not done.is_set():
                connection = timed(connection, "hostile", "POST", "/metrics/check/", hostile_body, hostile_headers)
            connection.close()

        pages = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        attackers = [threading.Thread(target=hostile_client, args=(n,)) for n in range(hostile)]
        for thread in pages + attackers:
            thread.start()
        ready.wait()
        for thread in pages:
            thread.join()
        done.set()  # the hostile clients stop with the pages: they are there to run at the same time
        for thread in attackers:
            thread.join()
        wall = time.perf_counter() - started_at[0]
        loads = len(timings["search"]) + len(timings["dataset"])
        return {"requests": loads, "errors": sum(failures.values()), "failures": dict(failures), "wall": wall,
                "client_cpu_share": (client_cpu() - cpu_at_start[0]) / wall if wall else 0.0,
                "search_p50": percentile(timings["search"], 0.5), "search_p95": percentile(timings["search"], 0.95),
                "dataset_p95": percentile(timings["dataset"], 0.95), "hostile_count": len(timings["hostile"]),
                "hostile_p95": percentile(timings["hostile"], 0.95), "hostile_max": max(timings["hostile"], default=0.0)}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=10_000, help="datasets in the catalog (default 10000)")
    parser.add_argument("--clients", type=int, default=8, help="clients loading search and dataset pages (default 8)")
    parser.add_argument("--hostile", type=int, default=4, help="logged-in clients posting nested SQL to the check (default 4)")
    parser.add_argument("--requests", type=int, default=2000, help="page loads at most (default 2000)")
    parser.add_argument("--seconds", type=float, default=60.0, help="the run stops after this long (default 60)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers, as the README runs it (default 4)")
    args = parser.parse_args(argv)

    server = PostgresServer()
    log(f"starting PostgreSQL on 127.0.0.1:{server.port}")
    server.start()
    try:
        env = setup_django(server.create_database("canon"))
        started = time.perf_counter()
        dataset_ids, session_key = build_catalog(args.datasets)
        log(f"catalog of {len(dataset_ids):,} datasets built and indexed in {time.perf_counter() - started:.1f}s")
        from django.db import connections

        connections.close_all()
        # The web server keeps its database connections, as a production deployment does (and bench/search.py
        # measures): DATABASE_URL ?conn_max_age=60.
        env = {**env, "DATABASE_URL": env["DATABASE_URL"] + "?conn_max_age=60"}
        result = run_load(env, dataset_ids, session_key, clients=args.clients, hostile=args.hostile, requests=args.requests,
                          seconds=args.seconds, workers=args.workers)
        log(f"{result['requests']} page loads in {result['wall']:.1f}s by {args.clients} clients ({args.workers} gunicorn sync workers), "
            f"failures {result['failures'] or 'none'}; search p50 {result['search_p50']:.0f} ms, p95 {result['search_p95']:.0f} ms; "
            f"dataset page p95 {result['dataset_p95']:.0f} ms; the clients used {result['client_cpu_share']:.0%} of a core")
        log(f"meanwhile {args.hostile} hostile clients: {result['hostile_count']} nested-SQL checks answered, "
            f"p95 {result['hostile_p95']:.0f} ms, slowest {result['hostile_max']:.0f} ms")
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        server.stop()
    print(f"load clients={args.clients} requests={result['requests']} errors={result['errors']} "
          f"search_p95_ms={result['search_p95']:.0f} hostile={args.hostile}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
