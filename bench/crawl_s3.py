"""Crawl an S3 bucket of N datasets x M small Parquet objects and compare with a bare listing.

    .venv/bin/python bench/crawl_s3.py --datasets 1000 --objects 100

One run starts a moto_server on loopback (tests.harness.MotoServer: a real S3 HTTP API) and
uploads the bucket: `warehouse/ds_NNNN/dt=YYYY-MM-DD/part-NN.parquet`, five objects per daily
partition, with ten different schemas across datasets. It then measures, in the same run:

- the floor: a bare paginated ListObjectsV2 of the whole bucket with boto3 (what any crawler
  must do at least once), before the crawls and again after them, best kept;
- a first crawl (source_create + source_crawl into a SQLite catalog): listing, placing, reading
  the Parquet footers of the newest `sample_files` objects per dataset, writing the catalog;
- an unchanged recrawl, which must read no object content;
- the crawling process's peak resident memory (moto runs in its own process).

moto serves a listing page in about a second when the bucket holds 100,000 objects (it sorts
the whole bucket for every page), so at full size both the floor and the crawls are dominated
by the server. The client's own CPU seconds are printed alongside, to show what Canon adds.

The LAST line is, exactly:

    s3 objects=N datasets=D list_s=.. full_s=.. recrawl_s=.. full_ratio=.. recrawl_ratio=.. files_read=.. bytes_read=.. peak_rss_mb=..

where files_read and bytes_read are the first crawl's content reads (the recrawl's are zero,
or the benchmark fails).
"""

from __future__ import annotations

import argparse
import io
import itertools
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import MotoServer  # noqa: E402

BUCKET = "bench-lake"
PARTS_PER_DAY = 5
SCHEMAS = 10


def parquet_bodies() -> list[bytes]:
    """Ten small Parquet files (a few rows, a few columns), one per schema."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    bodies = []
    for variant in range(SCHEMAS):
        table = pa.table({
            "event_id": pa.array(range(20), pa.int64()),
            "customer_id": pa.array(range(100, 120), pa.int64()),
            "amount": pa.array([i * 1.25 for i in range(20)], pa.float64()),
            "status": pa.array(["paid"] * 20),
            f"attribute_{variant}": pa.array([variant] * 20, pa.int32()),
        })
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        bodies.append(buffer.getvalue())
    return bodies


def keys_for(datasets: int, objects: int):
    start = date(2024, 1, 1)
    for d in range(datasets):
        for j in range(objects):
            day = start + timedelta(days=j // PARTS_PER_DAY)
            yield d, f"warehouse/ds_{d:04d}/dt={day.isoformat()}/part-{j % PARTS_PER_DAY:02d}.parquet"


def _upload(endpoint_port: int, datasets: int, objects: int, threads: int) -> float:
    moto = MotoServer()
    moto.port = endpoint_port
    client = moto.client(pool=threads + 2)
    client.create_bucket(Bucket=BUCKET)
    bodies = parquet_bodies()
    started = time.perf_counter()
    total = datasets * objects
    done = 0

    def put(item):
        d, key = item
        client.put_object(Bucket=BUCKET, Key=key, Body=bodies[d % SCHEMAS])

    keys = keys_for(datasets, objects)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        while True:
            chunk = list(itertools.islice(keys, 1000))  # bounded: map() would queue every upload at once
            if not chunk:
                break
            list(pool.map(put, chunk))
            done += len(chunk)
            if done % 10000 == 0:
                elapsed = time.perf_counter() - started
                log(f"uploaded {done}/{total} objects ({done / elapsed:.0f}/s)")
    return time.perf_counter() - started


def upload(moto: MotoServer, datasets: int, objects: int, threads: int) -> float:
    """Loads the bucket from a child process, so the crawl's peak memory is measured on its own."""
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_upload, moto.port, datasets, objects, threads).result()


def measure_floor(moto: MotoServer) -> tuple[float, float, int]:
    """A bare paginated listing of the whole bucket: (seconds, client CPU seconds, objects)."""
    client = moto.client()
    started, cpu = time.perf_counter(), time.process_time()
    count = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, PaginationConfig={"PageSize": 1000}):
        count += len(page.get("Contents", ()))
    return time.perf_counter() - started, time.process_time() - cpu, count


def setup_django() -> None:
    from cryptography.fernet import Fernet

    var = tempfile.mkdtemp(prefix="canon-bench-s3-")
    os.environ["DATABASE_URL"] = f"sqlite:///{var}/catalog.sqlite3"
    os.environ["CANON_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    os.environ["CANON_VAR_DIR"] = var
    os.environ["DJANGO_SETTINGS_MODULE"] = "catalog.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=1000, help="datasets (folders) in the bucket (default 1000)")
    parser.add_argument("--objects", type=int, default=100, help="Parquet objects per dataset (default 100)")
    parser.add_argument("--upload-threads", type=int, default=8, help="parallel uploads while loading moto (default 8)")
    parser.add_argument("--sample-files", type=int, default=5, help="the source's sample_files option (default 5)")
    parser.add_argument("--read-concurrency", type=int, default=8, help="the source's read_concurrency option (default 8)")
    parser.add_argument("--recrawls", type=int, default=1, help="unchanged recrawls, best kept (default 1)")
    parser.add_argument("--floor-runs", type=int, default=2, help="bare listings, one before the crawls and the rest after, best kept (default 2)")
    args = parser.parse_args(argv)
    total = args.datasets * args.objects

    moto = MotoServer()
    log(f"starting moto_server on 127.0.0.1:{moto.port}")
    moto.start()
    try:
        upload_s = upload(moto, args.datasets, args.objects, args.upload_threads)
        log(f"bucket: {total} objects in {args.datasets} datasets uploaded in {upload_s:.1f}s ({total / upload_s:.0f}/s)")

        def floor() -> float:
            elapsed, cpu, count = measure_floor(moto)
            if count != total:
                raise SystemExit(f"the listing saw {count} objects, expected {total}")
            log(f"floor: bare listing of {count} objects in {elapsed:.3f}s (client CPU {cpu:.2f}s)")
            return elapsed

        floors = [floor()]

        setup_django()
        from catalog.connectors import connector_for
        from catalog.sources.models import Crawl, Source
        from catalog.crawls.services import source_crawl
        from catalog.sources.services import source_create

        options = {"sample_files": args.sample_files, "read_concurrency": args.read_concurrency}
        source = source_create(name="bench-s3", url=moto.url(BUCKET), options=options)

        def crawl(label: str):
            fresh = Source.objects.get(pk=source.pk)  # with the state the last crawl left, as a task loads it
            connector = connector_for(fresh.url, options=fresh.options)
            started, cpu = time.perf_counter(), time.process_time()
            result = source_crawl(fresh, connector=connector)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            if result.status != Crawl.SUCCEEDED:
                raise SystemExit(f"{label} failed: {result.error}")
            stats = connector.stats
            log(f"{label}: {elapsed:.3f}s, client CPU {cpu:.2f}s ({result.summary()}); files read {stats['files_read']}, "
                f"content requests {stats['read_requests']}, bytes read {stats['bytes_read']}, list requests {stats['list_requests']}, "
                f"peak RSS {peak_rss_mb():.0f} MB")
            return result, elapsed, stats

        result, full_s, full_stats = crawl("first crawl")
        if result.datasets_added != args.datasets:
            raise SystemExit(f"the first crawl added {result.datasets_added} datasets, expected {args.datasets}")
        state_bytes = len(str(Source.objects.get(pk=source.pk).connector_state))
        log(f"connector state: {state_bytes} bytes ({state_bytes / total:.1f} per object)")

        recrawls = []
        for _ in range(max(args.recrawls, 1)):
            result, elapsed, stats = crawl("unchanged recrawl")
            if (result.datasets_added, result.datasets_changed, result.datasets_removed) != (0, 0, 0):
                raise SystemExit(f"an unchanged recrawl changed something: {result.summary()}")
            if stats["bytes_read"] or stats["files_read"]:
                raise SystemExit(f"an unchanged recrawl read object content: {stats}")
            recrawls.append(elapsed)
        recrawl_s = min(recrawls)
        # moto's speed drifts (garbage collection after a bulk load, the machine's load): the floor is
        # also measured after the crawls, and the best run is kept.
        for _ in range(max(args.floor_runs, 1) - 1):
            floors.append(floor())
        list_s = min(floors)
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        moto.stop()

    print(
        f"s3 objects={total} datasets={args.datasets} list_s={list_s:.3f} full_s={full_s:.3f} recrawl_s={recrawl_s:.3f} "
        f"full_ratio={full_s / list_s:.2f} recrawl_ratio={recrawl_s / list_s:.2f} files_read={full_stats['files_read']} "
        f"bytes_read={full_stats['bytes_read']} peak_rss_mb={peak_rss_mb():.0f}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
