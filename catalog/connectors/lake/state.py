"""What the lake connector remembers between crawls, kept compact: it is stored as JSON.

Per dataset (keyed by schema and name):

- ``seen``: every file listed by the last successful crawl, as 32-bit CRCs of key and ETag,
  packed and base64-encoded (about 5.4 characters per file). A file whose CRC is not in it is
  new or changed, and its schema is read; a file in it is not read again.
- ``variants``: the distinct schemas read so far, each with the CRCs of the files that had it
  and up to three example keys, so the dataset's page can say which files differ.
- ``problems``: files that could not be read, with why, kept while the file is unchanged.
- ``owner``: the owner tag of the newest file read.

A CRC collision can only make a changed file look seen (about one chance in four billion per
file); it never makes an unchanged file read again.
"""

from __future__ import annotations

import base64
import sys
import zlib
from array import array

# 2: map types are spelled map<key, value> and have their own family, and CSV files are split on a
# detected delimiter: schemas remembered by version 1 are read again (as on a first crawl), once.
STATE_VERSION = 2


def file_id(key: str, etag: str) -> int:
    return zlib.crc32(f"{key}\x00{etag}".encode())


def pack(ids) -> str:
    packed = array("I", sorted(ids))
    if packed.itemsize != 4:  # pragma: no cover - every platform CPython supports today has 4-byte unsigned ints
        packed = array("L", sorted(ids))
    if sys.byteorder != "little":  # pragma: no cover
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def unpack(text: str) -> set[int]:
    if not text:
        return set()
    packed = array("I")
    packed.frombytes(base64.b64decode(text))
    if sys.byteorder != "little":  # pragma: no cover
        packed.byteswap()
    return set(packed)


def dataset_key(schema: str, name: str) -> str:
    return f"{schema}\t{name}"


def load(previous: dict | None) -> dict[str, dict]:
    """The datasets of a previous state; an unknown or older layout counts as no state."""
    if not isinstance(previous, dict) or previous.get("v") != STATE_VERSION:
        return {}
    datasets = previous.get("datasets")
    return datasets if isinstance(datasets, dict) else {}
