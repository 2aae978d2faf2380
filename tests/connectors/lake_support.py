"""Data lakes for the lake connector's tests: the same files in an S3 bucket on moto or in a folder.

Files are real: Parquet written by pyarrow, CSV and JSON Lines by pandas.
"""

from __future__ import annotations

import gzip
import io
import os
import time
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from catalog.connectors import connector_for


def parquet_bytes(table: pa.Table | dict) -> bytes:
    table = table if isinstance(table, pa.Table) else pa.table(table)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def csv_bytes(frame: pd.DataFrame | dict, sep: str = ",") -> bytes:
    frame = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)
    return frame.to_csv(index=False, sep=sep).encode()


def jsonl_bytes(frame: pd.DataFrame | dict) -> bytes:
    frame = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)
    return frame.to_json(orient="records", lines=True, date_format="iso").encode()


def gz(data: bytes) -> bytes:
    return gzip.compress(data)


class Lake:
    """Somewhere to put objects, and the source URL that reads them."""

    kind = ""

    def put(self, key: str, data: bytes) -> None:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def url(self, prefix: str = "") -> str:
        raise NotImplementedError

    def connector(self, prefix: str = "", **options):
        return connector_for(self.url(prefix), options=options, connect_timeout=5, statement_timeout=30)

    def settle(self) -> None:
        """Make the next put's modification time later than every earlier one's (S3 has 1 s resolution)."""


class S3Lake(Lake):
    kind = "s3"

    def __init__(self, moto, bucket: str):
        self.moto, self.bucket = moto, bucket
        self.root_name = bucket
        self.base = f"s3://{bucket}"
        self.client = moto.client()
        self.client.create_bucket(Bucket=bucket)

    def put(self, key, data, *, tags: dict | None = None):
        extra = {"Tagging": "&".join(f"{k}={v}" for k, v in tags.items())} if tags else {}
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **extra)

    def delete(self, key):
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def url(self, prefix=""):
        return self.moto.url(self.bucket, prefix)

    def tag_root(self, tags: dict) -> None:
        self.client.put_bucket_tagging(Bucket=self.bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})

    def settle(self):
        time.sleep(1.05)


class FolderLake(Lake):
    kind = "file"

    def __init__(self, root: Path):
        self.root = root
        self.root_name = root.name
        self.base = f"file://{root}"
        self.root.mkdir(parents=True, exist_ok=True)
        self._clock = time.time() - 3600

    def put(self, key, data, *, tags: dict | None = None):
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        # Strictly increasing modification times, like uploads one after the other.
        self._clock += 1
        os.utime(path, (self._clock, self._clock))
        for k, v in (tags or {}).items():
            os.setxattr(path, f"user.{k}", v.encode())

    def delete(self, key):
        (self.root / key).unlink()

    def url(self, prefix=""):
        return f"file://{self.root / prefix if prefix else self.root}"

    def tag_root(self, tags: dict) -> None:
        for k, v in tags.items():
            os.setxattr(self.root, f"user.{k}", v.encode())


def make_lake(kind: str, request, tmp_path: Path) -> Lake:
    if kind == "s3":
        moto = request.getfixturevalue("moto")
        bucket = f"lake-{uuid.uuid4().hex[:12]}"
        return S3Lake(moto, bucket)
    return FolderLake(tmp_path / "lake")


@pytest.fixture(params=["s3", "file"])
def lake(request, tmp_path) -> Lake:
    return make_lake(request.param, request, tmp_path)


class ReadRecorder:
    """Wraps a connector's store: every ranged read, as (key, start, length, bytes returned)."""

    def __init__(self, connector):
        self.reads: list[tuple[str, int, int, int]] = []
        opened = connector.open_store

        def open_store(*args, **kwargs):
            store = opened(*args, **kwargs)
            original = store.read_range

            def read_range(key, start, length, etag=""):
                data = original(key, start, length, etag)
                self.reads.append((key, start, length, len(data)))
                return data

            store.read_range = read_range
            return store

        connector.open_store = open_store

    @property
    def bytes_read(self) -> int:
        return sum(r[3] for r in self.reads)

    def keys(self) -> set[str]:
        return {r[0] for r in self.reads}


def by_name(extraction) -> dict:
    return {f"{d.schema}.{d.name}": d for d in extraction.datasets}


def columns(dataset) -> list[tuple[str, str]]:
    return [(c.name, c.data_type) for c in dataset.columns]
