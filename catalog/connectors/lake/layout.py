"""From object keys to datasets: which keys are data, which folder is a dataset, which
folders are partitions. Pure functions over strings; Django-free and I/O-free.

Keys are relative to the store's root (an S3 bucket, or the folder of a file:// URL) and use
'/' as separator. The default rule:

- A key is data when its file name has a known format (``.parquet``, ``.csv``, ``.tsv``,
  ``.jsonl``/``.ndjson``/``.json``, the text formats optionally ``.gz``) and no segment of it
  is hidden: segments starting with ``_`` or ``.`` (``_SUCCESS``, ``_temporary/``,
  ``.spark-staging/``), ``.crc`` checksums, folder markers (keys ending in ``/`` or
  ``_$folder$``) are never data.
- The dataset is the folder holding the file, cut at its first Hive partition folder
  (``key=value``): ``sales/orders/dt=2024-01-01/region=eu/part-0.parquet`` belongs to the
  dataset folder ``sales/orders`` with partitions ``dt`` and ``region``. Plain folders below the
  first partition folder are part of the same dataset.
- The dataset's name is that folder's last segment (``orders``); its schema is the path of the
  folder above it, starting with the root's name (``lake/sales`` for bucket ``lake``). Files
  directly in the root belong to a dataset named after the root, in the schema of that name.

Path templates (``options["path_templates"]``) replace the default rule for layouts it reads
wrongly; see ``PathTemplate``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

PARQUET, CSV, TSV, JSONL = "parquet", "csv", "tsv", "jsonl"
FORMATS = (PARQUET, CSV, TSV, JSONL)
FORMAT_LABELS = {PARQUET: "Parquet", CSV: "CSV", TSV: "TSV", JSONL: "JSON Lines"}

_EXTENSIONS = {
    "parquet": PARQUET, "parq": PARQUET, "pq": PARQUET,
    "csv": CSV, "tsv": TSV, "tab": TSV,
    "jsonl": JSONL, "ndjson": JSONL, "json": JSONL,
}
_COMPRESSIONS = {"gz": "gzip", "gzip": "gzip"}
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
_PARTITION_RE = re.compile(r"^([^=/]+)=(.*)$")


def file_format(filename: str) -> tuple[str, str] | None:
    """(format, compression) from a file name, compression '' when none; None: not a format we read."""
    parts = filename.lower().rsplit(".", 2)
    if len(parts) < 2:
        return None
    compression = ""
    if parts[-1] in _COMPRESSIONS and len(parts) == 3:
        compression = _COMPRESSIONS[parts[-1]]
        ext = parts[-2]
    else:
        ext = parts[-1]
    fmt = _EXTENSIONS.get(ext)
    if fmt is None or (compression and fmt == PARQUET):
        return None  # Parquet compresses inside the file; a gzipped Parquet file is not readable as Parquet
    return fmt, compression


def is_hidden_segment(segment: str) -> bool:
    return segment.startswith(("_", "."))


def is_data_key(key: str) -> bool:
    """Folder markers, hidden files and folders, job markers and checksums are not data."""
    if not key or key.endswith("/") or key.endswith("_$folder$") or key.endswith(".crc"):
        return False
    return not any(is_hidden_segment(segment) for segment in key.split("/"))


def partition_of(segment: str) -> tuple[str, str] | None:
    """('dt', '2024-01-01') for a Hive partition folder 'dt=2024-01-01', else None."""
    match = _PARTITION_RE.match(segment)
    if not match or not match.group(1):
        return None
    return unquote(match.group(1)), unquote(match.group(2))


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one data file belongs."""

    schema: str
    name: str
    location: str  # the dataset's folder (or key prefix), relative to the root
    partitions: tuple[tuple[str, str], ...]  # (key, value) pairs, outermost first


class DefaultLayout:
    """The default rule (see the module docstring). Placements are cached per folder."""

    def __init__(self, root_name: str):
        self.root_name = root_name
        self._folders: dict[str, Placement] = {}

    def place(self, key: str) -> Placement | None:
        folder, _, _ = key.rpartition("/")
        placement = self._folders.get(folder)
        if placement is None:
            placement = self._place_folder(folder)
            self._folders[folder] = placement
        return placement

    def _place_folder(self, folder: str) -> Placement:
        segments = folder.split("/") if folder else []
        dataset_segments: list[str] = []
        partitions: list[tuple[str, str]] = []
        in_partitions = False
        for segment in segments:
            partition = partition_of(segment)
            if partition is not None:
                in_partitions = True
                partitions.append(partition)
            elif not in_partitions:
                dataset_segments.append(segment)
        if not dataset_segments:
            return Placement(self.root_name, self.root_name, "", tuple(partitions))
        schema = "/".join([self.root_name, *dataset_segments[:-1]])
        return Placement(schema, dataset_segments[-1], "/".join(dataset_segments) + "/", tuple(partitions))


class TemplateError(ValueError):
    """A path template that cannot be used. The message names the template."""


_TOKEN_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}|\*\*/|\*\*|\*|\?")


class PathTemplate:
    """A layout rule for keys, after DataHub's path_specs.

    Written relative to the source's prefix (``{dataset}/dt={dt}/*.parquet``) or as a full URL
    in the source's bucket or folder (``s3://bucket/raw/{dataset}/dt={dt}/*.parquet``):

    - ``{dataset}`` (required) is the dataset's name: a whole folder, or part of a file name
      (``exports/{dataset}.csv`` makes one dataset per file name);
    - ``{schema}`` (optional) is the dataset's schema; without it the schema is the path above
      the dataset's folder, as in the default rule;
    - any other ``{name}`` is a partition column whose values come from that part of the key;
    - ``*`` matches within one folder level, ``**`` any number of levels, ``?`` one character.

    A template ending in ``/`` matches every file below. ``key=value`` folders that the template
    does not name are partitions too. Only keys a template matches are data.
    """

    def __init__(self, text: str, relative_to: str, root_name: str):
        self.text = text
        self.root_name = root_name
        pattern = text if not relative_to else relative_to.rstrip("/") + "/" + text.lstrip("/")
        pattern = pattern.lstrip("/")
        if pattern.endswith("/") or not pattern:
            pattern += "**/*"
        regex, names, literal = [], [], None
        pos = 0
        for match in _TOKEN_RE.finditer(pattern):
            regex.append(re.escape(pattern[pos:match.start()]))
            if literal is None:
                literal = pattern[:match.start()]
            token = match.group(0)
            if match.group(1):
                name = match.group(1)
                if name in names:
                    raise TemplateError(f"path template '{text}' uses {{{name}}} twice")
                names.append(name)
                regex.append(f"(?P<{name}>[^/]+?)" if name == "dataset" else f"(?P<{name}>[^/]+)")
            elif token == "**/":
                regex.append("(?:[^/]+/)*")
            elif token == "**":
                regex.append(".*")
            elif token == "*":
                regex.append("[^/]*")
            else:
                regex.append("[^/]")
            pos = match.end()
        regex.append(re.escape(pattern[pos:]))
        if "dataset" not in names:
            raise TemplateError(f"path template '{text}' has no {{dataset}}: mark the folder or file name that names a dataset")
        self.regex = re.compile("^" + "".join(regex) + "$")
        self.partition_names = tuple(n for n in names if n not in ("dataset", "schema"))
        # Listing can start at the literal text before the first placeholder or wildcard.
        self.list_prefix = literal if literal is not None else pattern

    def place(self, key: str) -> Placement | None:
        match = self.regex.match(key)
        if match is None:
            return None
        name = match.group("dataset")
        start, end = match.span("dataset")
        parents = key[:start].rstrip("/")
        if "schema" in match.groupdict():
            schema = match.group("schema")
        else:
            schema = "/".join(s for s in [self.root_name, *parents.split("/")] if s) if parents else self.root_name
        after = key[end:]
        location = key[:end] + ("/" if after.startswith("/") else "")
        partitions = [(n, unquote(match.group(n))) for n in self.partition_names]
        named = set(self.partition_names)
        if after.startswith("/"):
            for segment in after.strip("/").split("/")[:-1]:  # folders below the dataset, not the file name
                partition = partition_of(segment)
                if partition is not None and partition[0] not in named:
                    partitions.append(partition)
                    named.add(partition[0])
        return Placement(schema, name, location, tuple(partitions))


class TemplateLayout:
    """Several templates: the first that matches a key places it."""

    def __init__(self, templates: list[PathTemplate]):
        self.templates = templates

    def place(self, key: str) -> Placement | None:
        for template in self.templates:
            placement = template.place(key)
            if placement is not None:
                return placement
        return None


def list_prefixes(prefixes: list[str]) -> list[str]:
    """The fewest prefixes covering all: a prefix inside another is listed with it."""
    kept: list[str] = []
    for prefix in sorted(set(prefixes)):
        if not any(prefix.startswith(k) for k in kept):
            kept.append(prefix)
    return kept


# Partition values: the narrowest type that reads every value; the Hive null marker is no value.
_INT_RE = re.compile(r"^[+-]?\d{1,18}$")
_FLOAT_RE = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$")


def partition_type(values) -> str:
    """The Arrow type name a Hive reader would give these partition values."""
    present = [v for v in values if v not in ("", HIVE_NULL)]
    if not present:
        return "string"
    for regex, arrow in ((_INT_RE, "int64"), (_DATE_RE, "date32[day]"), (_TIMESTAMP_RE, "timestamp[us]"), (_FLOAT_RE, "double")):
        if all(regex.match(v) for v in present):
            return arrow
    if all(v.lower() in ("true", "false") for v in present):
        return "bool"
    return "string"


def partition_sort_key(arrow_type: str):
    if arrow_type == "int64":
        return int
    if arrow_type == "double":
        return float
    return str


def partition_summary(key: str, values: set[str]) -> dict:
    """{'key', 'type', 'count', 'min', 'max'} for one partition key, JSON-ready."""
    arrow = partition_type(values)
    present = [v for v in values if v not in ("", HIVE_NULL)]
    summary = {"key": key, "type": arrow, "count": len(values)}
    if present:
        order = partition_sort_key(arrow)
        low, high = min(present, key=order), max(present, key=order)
        if arrow == "int64":
            low, high = int(low), int(high)
        summary["min"], summary["max"] = low, high
    if len(present) < len(values):
        summary["nulls"] = True
    return summary
