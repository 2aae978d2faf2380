from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Mapping, Sequence

from catalog.core.sourceurl import SourceURL, scrub

# Dataset kinds, shared by every connector.
TABLE = "table"
VIEW = "view"
MATERIALIZED_VIEW = "materialized_view"
PARTITIONED_TABLE = "partitioned_table"
FOREIGN_TABLE = "foreign_table"
EXTERNAL_TABLE = "external_table"
FILE_SET = "file_set"


class ConnectorError(Exception):
    """A failure a person can act on. The message is shown as it is: it never holds a secret."""


@dataclass(slots=True)
class ColumnMeta:
    name: str
    data_type: str
    position: int
    nullable: bool = True
    default: str | None = None
    is_primary_key: bool = False
    comment: str = ""
    native_id: str = ""  # PostgreSQL attnum: stable through RENAME COLUMN
    type_family: str = ""  # normalised family (integer, text, ...); empty: the crawl service derives it
    # How the engine fills the column itself, if it does: "identity" (an identity or auto-increment counter),
    # "stored" or "virtual" (a generated column, computed on write or on read). Empty: an ordinary column.
    generated: str = ""


@dataclass(slots=True)
class DatasetMeta:
    schema: str
    name: str
    kind: str = TABLE
    columns: list[ColumnMeta] = field(default_factory=list)
    comment: str = ""
    owner: str = ""
    row_estimate: int | None = None
    size_bytes: int | None = None
    native_id: str = ""  # PostgreSQL oid: stable through RENAME TABLE
    definition: str = ""  # a view's SQL
    last_modified: datetime | None = None  # data last changed, where the engine knows it cheaply
    properties: dict = field(default_factory=dict)  # engine-specific facts (file format, object count, partitions, labels)
    warnings: list[str] = field(default_factory=list)  # problems with this dataset, shown on its page
    # The connector's digest of everything the schema document holds (kind, comment, definition, columns):
    # equal digests mean an equal schema. Empty: the connector keeps none.
    schema_signature: str = ""
    # True when the connector did not read the columns because `schema_signature` is the one the catalog
    # holds for this dataset (ExtractRequest.known): `columns` is then empty and the stored columns are current.
    columns_skipped: bool = False
    # (canonical JSON, fingerprint) of the schema, when the crawl service worked it out early (ExtractRequest.prepare).
    schema_document: tuple[str, str] | None = None
    # The engine's write counters and maintenance times, read for freshness without reading data (PostgreSQL:
    # {"inserted", "updated", "deleted": cumulative counts, "analyzed_at", "vacuumed_at": datetimes or None}).
    # None: the engine keeps none, or they were not asked for (ExtractRequest.statistics).
    activity: dict | None = None
    # Column profiles from the engine's own statistics, by column name (never a scan): {"null_frac": 0..1,
    # "distinct": estimated count, "min", "max": the engine's values as text, "most_common": [[value, frequency]],
    # "min_len", "max_len": text lengths of the values the statistics hold, "basis": where they come from}.
    # Any key may be missing. None: not read this crawl (unchanged statistics, or the engine keeps none).
    column_stats: dict[str, dict] | None = None


@dataclass(slots=True)
class Extraction:
    """A connector's complete answer for the schemas it was asked about."""

    datasets: list[DatasetMeta]
    schemas: list[str]  # every schema that exists and is in scope, empty ones included
    warnings: list[str] = field(default_factory=list)
    # What the connector wants back next crawl (e.g. object keys and ETags already read); None keeps the old state.
    state: dict | None = None


@dataclass(frozen=True, slots=True)
class ExtractRequest:
    """Everything one extract() call is asked, handed over whole: a connector keeps nothing of a past call.

    The crawl service fills it from the catalog; every field has a default that means "know nothing",
    so `extract()` alone reads the whole source from scratch.
    """

    include: Sequence[str] = ()  # schema glob patterns in scope; empty: every schema
    exclude: Sequence[str] = ()  # schema glob patterns left out, even if included
    # Extraction.state of the last successful crawl of this source (what the connector remembered).
    previous_state: Mapping = field(default_factory=dict)
    # What the catalog holds of each present dataset that has a schema signature: native id -> (schema, name,
    # schema_signature). A connector may skip reading the columns of a dataset whose name and signature are
    # unchanged (DatasetMeta.columns_skipped).
    known: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)
    # Work the crawl service does on every dataset once its columns are read (fingerprinting), which a
    # connector may run while it waits on the server for something else (sizes).
    prepare: Callable[[list[DatasetMeta]], None] | None = None
    # Whether to read the engine's statistics for freshness and profiles (catalog reads only, never data).
    statistics: bool = True


def schema_in_scope(schema: str, include: list[str], exclude: list[str]) -> bool:
    """Glob patterns (fnmatch, case-sensitive); an empty include list means every schema."""
    if include and not any(fnmatch.fnmatchcase(schema, p) for p in include):
        return False
    return not any(fnmatch.fnmatchcase(schema, p) for p in exclude)


_NUL = "\x00"
NUL_SHOWN_AS = "\ufffd"
NUL_WARNING = "Names, types or comments here held NUL characters, which the catalog cannot store: each is shown as \ufffd."


def _without_nul(value):
    if isinstance(value, str):
        return value.replace(_NUL, NUL_SHOWN_AS) if _NUL in value else value
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_without_nul(v) for v in value)
    return value


def _clean_fields(obj, names) -> bool:
    """Replace NUL in these attributes of obj; True if any held one."""
    found = False
    for name in names:
        value = getattr(obj, name)
        cleaned = _without_nul(value)
        if cleaned != value:
            setattr(obj, name, cleaned)
            found = True
    return found


_DATASET_FIELDS = ("schema", "name", "comment", "owner", "native_id", "definition", "properties", "warnings", "column_stats")
_COLUMN_FIELDS = ("name", "data_type", "default", "comment", "native_id", "type_family", "generated")


def replace_nul(extraction: "Extraction") -> int:
    """Replace NUL characters (which PostgreSQL text and JSON refuse) everywhere in an extraction.

    A file header, a lake path or an embedded database's metadata can hold one; left in, it fails
    the whole crawl. Each dataset that held one gets a warning. Returns how many datasets did.
    """
    touched = 0
    for dataset in extraction.datasets:
        found = _clean_fields(dataset, _DATASET_FIELDS)
        for column in dataset.columns:
            found = _clean_fields(column, _COLUMN_FIELDS) or found
        if found:
            touched += 1
            dataset.schema_document = None  # made from the text as read
            dataset.warnings.append(NUL_WARNING)
    extraction.schemas = _without_nul(extraction.schemas)
    extraction.warnings = _without_nul(extraction.warnings)
    # The connector's memory (cached columns, object keys) is stored as JSON too. A key changed here no
    # longer matches next time, so that one object is read again.
    if extraction.state and "\\u0000" in json.dumps(extraction.state):
        extraction.state = _without_nul(extraction.state)
    return touched


class Connector:
    """One source's connection settings. Subclasses implement test() and extract()."""

    engine_label = ""
    # Whether extract() may return NUL characters; the crawl service replaces them (replace_nul). PostgreSQL
    # text cannot hold one, so its connectors skip that pass over every name.
    may_return_nul = True

    def __init__(self, url: SourceURL, *, connect_timeout: int = 10, statement_timeout: int = 300, options: dict | None = None):
        self.url = url
        self.connect_timeout = connect_timeout
        self.statement_timeout = statement_timeout
        self.options = dict(options or {})  # per-source settings beyond the URL (e.g. path templates)

    @classmethod
    def check_options(cls, options: dict) -> None:
        """Raise ConnectorError unless this connector reads these options (Source.options). None by default."""
        if options:
            raise ConnectorError(f"{cls.engine_label or cls.__name__} sources take no options (got {', '.join(sorted(map(str, options)))}).")

    def local_paths(self) -> list[str]:
        """The files and folders on this machine that this source opens, as the connector will open them (a
        SQLite file, a lake's folder). The catalog lets a source open them only inside CANON_FILE_ROOTS, checked
        before any is touched. None for a server reached over the network. Raises ConnectorError for a URL
        that names no path."""
        return []

    def test(self) -> str:
        """Connect and return a one-line description of the server. Raises ConnectorError."""
        raise NotImplementedError

    def extract(self, request: ExtractRequest = ExtractRequest()) -> Extraction:
        """The complete answer for the schemas in the request's scope. Raises ConnectorError."""
        raise NotImplementedError

    def scope_warnings(self, available: list[str], include: list[str]) -> list[str]:
        warnings = []
        for pattern in include:
            if not any(fnmatch.fnmatchcase(s, pattern) for s in available):
                shown = ", ".join(sorted(available)[:20]) or "none"
                warnings.append(f"Schema pattern '{pattern}' matched no schema (available: {shown}).")
        return warnings

    def clean_message(self, message: str) -> str:
        return scrub(str(message), self.url.secrets()).strip()
