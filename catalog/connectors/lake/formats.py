"""Reading a file's schema from as few bytes as possible, and merging schemas. Django-free.

- Parquet: the schema is in the footer. Two ranged reads: the last 8 bytes (footer length and
  the ``PAR1`` magic), then the footer itself; pyarrow parses the footer from a buffer. The rest
  of the file is never fetched.
- CSV, TSV, JSON Lines (optionally gzip-compressed): one ranged read of the first
  ``sample_bytes`` bytes, cut at the last complete line; pyarrow infers the header and types
  from that sample (pandas when rows disagree on a JSON value's type).

Each reader returns a ``FileSchema``: the columns, or a problem saying why there are none,
plus notes (such as ragged rows skipped) that do not prevent a schema.

Columns are ``(name, arrow_type, nullable, family)`` lists: the native type is Arrow's type
string (``int64``, ``timestamp[us, tz=UTC]``, ``decimal128(10, 2)``), the family Canon's
normalised group.
"""

from __future__ import annotations

import csv
import io
import re
import zlib
from datetime import date, datetime
from dataclasses import dataclass, field
from typing import Callable

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from catalog.connectors.lake.layout import CSV, JSONL, PARQUET, TSV
from catalog.core.oneline import one_line

MAX_FOOTER_BYTES = 64 * 1024 * 1024
Reader = Callable[[int, int], bytes]  # (start, length) -> bytes of one object


@dataclass
class FileSchema:
    columns: list[list] | None = None  # [name, arrow_type, nullable, family]
    problem: str = ""  # why no schema could be read
    transient: bool = False  # the problem may go away by itself (access denied, vanished)
    notes: list[str] = field(default_factory=list)
    # Parquet: per column, what the footer says of its values (footer_stats); None for other formats.
    stats: dict[str, dict] | None = None


def arrow_family(arrow_type) -> str:
    t = pa.types
    if t.is_dictionary(arrow_type):
        return arrow_family(arrow_type.value_type)
    if t.is_boolean(arrow_type):
        return "boolean"
    if t.is_integer(arrow_type):
        return "integer"
    if t.is_floating(arrow_type):
        return "float"
    if t.is_decimal(arrow_type):
        return "decimal"
    if t.is_string(arrow_type) or t.is_large_string(arrow_type) or getattr(t, "is_string_view", lambda _: False)(arrow_type):
        return "text"
    if t.is_timestamp(arrow_type):
        return "timestamp"
    if t.is_date(arrow_type):
        return "date"
    if t.is_time(arrow_type):
        return "time"
    if t.is_duration(arrow_type) or t.is_interval(arrow_type):
        return "interval"
    if t.is_binary(arrow_type) or t.is_large_binary(arrow_type) or t.is_fixed_size_binary(arrow_type):
        return "binary"
    if t.is_map(arrow_type):  # before the lists: an Arrow map is stored as a list of key/value structs
        return "map"
    if t.is_list(arrow_type) or t.is_large_list(arrow_type) or t.is_fixed_size_list(arrow_type):
        return "array"
    if t.is_struct(arrow_type):
        return "struct"
    return "other"


def arrow_type_text(arrow_type) -> str:
    """Arrow's spelling of a type, except that a map reads `map<key, value>` wherever it is nested:
    Arrow adds the name of a Parquet map's entries group (`map<string, int64 ('tags')>`)."""
    text = str(arrow_type)
    if "map<" not in text:
        return text
    if hasattr(arrow_type, "key_type") and hasattr(arrow_type, "item_type"):
        return f"map<{arrow_type_text(arrow_type.key_type)}, {arrow_type_text(arrow_type.item_type)}>"
    if hasattr(arrow_type, "value_field"):  # list, large_list, fixed_size_list (whose size follows: [3])
        return f"{text.split('<', 1)[0]}<{_field_text(arrow_type.value_field)}>{text[text.rindex('>') + 1:]}"
    if text.startswith("struct<"):
        return f"struct<{', '.join(_field_text(arrow_type.field(i)) for i in range(arrow_type.num_fields))}>"
    return text


def _field_text(f) -> str:
    return f"{f.name}: {arrow_type_text(f.type)}" + ("" if f.nullable else " not null")


def columns_of(schema) -> tuple[list[list], list[str]]:
    """A pyarrow schema as column lists, with empty and repeated names made unique (and noted)."""
    columns, notes, seen = [], [], set()
    for index, f in enumerate(schema):
        name = str(f.name).strip() or f"column_{index + 1}"
        if name in seen:
            original, n = name, 2
            while f"{original}_{n}" in seen:
                n += 1
            name = f"{original}_{n}"
            notes.append(f"column name '{original}' appears more than once; the repeat is shown as '{name}'")
        seen.add(name)
        columns.append([name, arrow_type_text(f.type), bool(f.nullable), arrow_family(f.type)])
    return columns, notes


def read_parquet_schema(read: Reader, size: int) -> FileSchema:
    if size < 12:
        return FileSchema(problem=f"not a Parquet file: {size} bytes is too small to hold a footer")
    tail = read(size - 8, 8)
    if tail[4:] == b"PARE":
        return FileSchema(problem="encrypted Parquet footer: Canon cannot read its schema")
    if tail[4:] != b"PAR1":
        return FileSchema(problem="not a Parquet file: it does not end with the PAR1 marker")
    footer_length = int.from_bytes(tail[:4], "little")
    if footer_length <= 0 or footer_length > size - 12:
        return FileSchema(problem=f"corrupt Parquet file: its footer length {footer_length} does not fit a file of {size} bytes")
    if footer_length > MAX_FOOTER_BYTES:
        return FileSchema(problem=f"Parquet footer of {footer_length} bytes is larger than Canon reads ({MAX_FOOTER_BYTES})")
    footer = read(size - 8 - footer_length, footer_length)
    try:
        metadata = pq.read_metadata(pa.BufferReader(footer + tail))
        schema = metadata.schema.to_arrow_schema()
    except Exception as exc:  # pyarrow raises OSError/ArrowInvalid with a useful message
        return FileSchema(problem=f"corrupt Parquet footer: {one_line(exc, first_line=True)}")
    columns, notes = columns_of(schema)
    return FileSchema(columns=columns, notes=notes, stats=footer_stats(metadata))


def footer_stats(metadata) -> dict[str, dict]:
    """Per top-level column, from the row groups' statistics in a Parquet footer (free: the footer is read
    for the schema): {"rows", "nulls", "min", "max"}, each only if every row group has it. Nested fields and
    columns whose statistics are missing or unordered (binary min/max that is not text) get less or nothing."""
    found: dict[str, dict] = {}
    try:
        groups = [metadata.row_group(i) for i in range(metadata.num_row_groups)]
        for j in range(metadata.num_columns):
            name = groups[0].column(j).path_in_schema if groups else None
            if not name or "." in name:
                continue
            rows, nulls, low, high, complete, ordered = 0, 0, None, None, True, True
            for group in groups:
                chunk = group.column(j)
                rows += group.num_rows
                s = chunk.statistics
                if s is None or not s.has_null_count:
                    complete = False
                    continue
                nulls += s.null_count
                if s.has_min_max and ordered:
                    try:
                        low = s.min if low is None or s.min < low else low
                        high = s.max if high is None or s.max > high else high
                    except TypeError:
                        ordered = False
                elif group.num_rows > s.null_count:
                    ordered = False
            entry = {"rows": rows}
            if complete:
                entry["nulls"] = nulls
            if ordered and low is not None and not isinstance(low, bytes):
                entry["min"], entry["max"] = low, high
            found[name] = entry
    except Exception:  # statistics are a bonus: a footer whose schema was read is never refused for them
        return {}
    return found


def merge_footer_stats(files: list[dict[str, dict]]) -> dict[str, dict]:
    """Column profiles (DatasetMeta.column_stats) from the footer statistics of some files of one dataset."""
    merged: dict[str, dict] = {}
    for stats in files:
        for name, entry in stats.items():
            into = merged.setdefault(name, {"rows": 0, "nulls": 0, "complete": True, "min": None, "max": None, "ordered": True})
            into["rows"] += entry["rows"]
            if "nulls" in entry:
                into["nulls"] += entry["nulls"]
            else:
                into["complete"] = False
            if "min" in entry and into["ordered"]:
                try:
                    into["min"] = entry["min"] if into["min"] is None or entry["min"] < into["min"] else into["min"]
                    into["max"] = entry["max"] if into["max"] is None or entry["max"] > into["max"] else into["max"]
                except TypeError:
                    into["ordered"] = False
    profiles = {}
    for name, into in merged.items():
        profile = {"basis": f"parquet footers ({len(files)} file{'s' if len(files) != 1 else ''})"}
        if into["complete"] and into["rows"]:
            profile["null_frac"] = round(into["nulls"] / into["rows"], 4)
        if into["ordered"] and into["min"] is not None:
            profile["min"], profile["max"] = _shown(into["min"]), _shown(into["max"])
        profiles[name] = profile
    return profiles


def _shown(value) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return value.isoformat() if isinstance(value, date) else str(value)


def read_text_sample(read: Reader, size: int, compression: str, sample_bytes: int) -> tuple[bytes | None, str]:
    """(complete lines from the start of the file, problem). Reads at most sample_bytes bytes."""
    length = min(size, sample_bytes)
    raw = read(0, length)
    whole = length >= size
    if compression == "gzip":
        if raw[:2] != b"\x1f\x8b":
            return None, "not gzip-compressed data, though the name ends in .gz"
        out, data = [], raw
        produced = 0
        try:
            while data and produced < sample_bytes * 8:
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                chunk = inflater.decompress(data, sample_bytes * 8 - produced)
                out.append(chunk)
                produced += len(chunk)
                if not inflater.eof:
                    whole = False  # the sample ended inside the stream, or the output cap was reached
                    break
                data = inflater.unused_data  # concatenated gzip members
        except zlib.error as exc:
            if not out:
                return None, f"corrupt gzip data: {exc}"
            whole = False
        text = b"".join(out)
    else:
        text = raw
    if not text.strip():
        return None, "no data: the file holds no rows"
    if not whole:
        cut = text.rfind(b"\n")
        if cut < 0:
            return None, f"no line end in the first {len(text)} bytes: not a line-based text file"
        text = text[: cut + 1]
    return text, ""


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample[:65536]:
        return True
    head = sample[:65536]
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return control > max(8, len(head) // 100)


def _encoding(sample: bytes) -> str:
    try:
        sample.decode("utf-8")
        return "utf8"
    except UnicodeDecodeError:
        return "latin-1"


# CSV dialects ----------------------------------------------------------------------------------

# The delimiters a CSV file may use, in the order preferred when the sample cannot tell them apart.
CSV_DELIMITERS = (",", ";", "\t", "|")
CSV_QUOTES = ('"', "'")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
CSV_DETECTION = 1  # raised when detection changes, so that CSV schemas already read are read again
_DETECT_BYTES = 64 * 1024  # the start of the sample that detection reads
_DETECT_RECORDS = 200


@dataclass
class CsvDialect:
    delimiter: str
    quote: str = '"'  # when detecting: "" detects it, a quote is the one to use
    how: str = "detected"  # "detected", "option", or "format" (a .tsv file is tab-separated)
    ambiguous: str = ""  # what else the sample could have been, when detection could not tell
    decimal_comma: bool = False  # numbers are written 1,5

    def describe(self) -> str:
        """"semicolon (';'), detected" for a person, in a warning."""
        text = f"{DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))} ({self.delimiter!r})"
        if self.quote != '"':
            text += f" with {self.quote} quotes"
        how = {"option": "set by the source option csv_delimiter", "format": "as in every .tsv file"}.get(self.how, self.how)
        return f"{text}, {how}"


def _field_counts(text: str, delimiter: str, quote: str) -> list[int]:
    """Fields per record (quoted delimiters and line ends respected), blank records left out."""
    counts = []
    try:
        for record in csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quote, doublequote=True, strict=False):
            if record and any(field.strip() for field in record):
                counts.append(len(record))
                if len(counts) >= _DETECT_RECORDS:
                    break
    except csv.Error:
        return []
    return counts


def detect_csv_dialect(sample: bytes, encoding: str, quotes: tuple[str, ...] = CSV_QUOTES) -> CsvDialect:
    """The delimiter and quote that split the sample's records into the header's number of fields.
    Counting, not csv.Sniffer (which guesses from character frequencies, so decimal commas `1,5;2,7`
    and quoted delimiters fool it). A reading of several fields that most rows agree with beats a
    one-column reading; among equals the preferred delimiter wins and `ambiguous` names the others."""
    head = sample[:_DETECT_BYTES]
    if len(sample) > _DETECT_BYTES:
        cut = head.rfind(b"\n")
        head = head[: cut + 1] if cut > 0 else head
    text = head.decode("utf-8" if encoding == "utf8" else "latin-1", errors="replace")
    scored = []  # (rank, delimiter, quote, header fields)
    for preference, (delimiter, quote) in enumerate((d, q) for q in quotes for d in CSV_DELIMITERS):
        counts = _field_counts(text, delimiter, quote)
        if not counts:
            continue
        rows = counts[1:]
        consistency = sum(1 for n in rows if n == counts[0]) / len(rows) if rows else 1.0
        several = counts[0] > 1
        scored.append(((several and consistency >= 0.5, consistency, several, -preference), delimiter, quote, counts[0]))
    if not scored:
        return CsvDialect(delimiter=",", quote=quotes[0])
    scored.sort(key=lambda s: s[0], reverse=True)
    best = scored[0]
    rivals = {}
    for rank, delimiter, _, fields in scored[1:]:
        if rank[:3] == best[0][:3] and rank[2] and delimiter != best[1]:
            rivals.setdefault(delimiter, fields)
    ambiguous = ", ".join(f"{DELIMITER_NAMES[d]} ({n} fields)" for d, n in rivals.items())
    return CsvDialect(delimiter=best[1], quote=best[2], ambiguous=ambiguous, decimal_comma=_decimal_comma(text, best[1], best[2]))


_DECIMAL_COMMA = re.compile(r"-?\d+,\d+")
_DECIMAL_POINT = re.compile(r"-?\d+\.\d+")


def _decimal_comma(text: str, delimiter: str, quote: str) -> bool:
    """Numbers written 1,5 (not 1.5) in a file not split on commas: read them as numbers."""
    if delimiter == ",":
        return False
    comma = point = 0
    for record in csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quote, strict=False):
        for value in record:
            value = value.strip()
            if _DECIMAL_COMMA.fullmatch(value):
                comma += 1
            elif _DECIMAL_POINT.fullmatch(value):
                point += 1
    return comma > point


def schema_from_csv(sample: bytes, delimiter: str | CsvDialect) -> FileSchema:
    dialect = delimiter if isinstance(delimiter, CsvDialect) else CsvDialect(delimiter=delimiter, how="format")
    label = "TSV" if dialect.delimiter == "\t" and dialect.how == "format" else "CSV"
    if _looks_binary(sample):
        return FileSchema(problem=f"not {label} text: the file holds binary data")
    encoding = _encoding(sample)
    if dialect.how == "detected":  # the quote too, unless an option set it
        dialect = detect_csv_dialect(sample, encoding, (dialect.quote,) if dialect.quote else CSV_QUOTES)
    ragged = []

    def skip(row):
        ragged.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(sample),
            read_options=pacsv.ReadOptions(use_threads=False, block_size=max(len(sample) + 1, 1 << 16), encoding=encoding),
            parse_options=pacsv.ParseOptions(delimiter=dialect.delimiter, quote_char=dialect.quote, invalid_row_handler=skip),
            convert_options=pacsv.ConvertOptions(decimal_point="," if dialect.decimal_comma else "."),
        )
    except Exception as exc:
        return FileSchema(problem=f"not readable as {label} (delimiter {dialect.describe()}): {one_line(exc, first_line=True)}")
    columns, notes = columns_of(table.schema)
    # Say how the file was split whenever the result may be wrong, and how to split it otherwise.
    how_to_set = {"format": "", "option": "; change the source option csv_delimiter if that is wrong"}.get(
        dialect.how, "; set the source option csv_delimiter (\",\", \";\", \"\\t\" or \"|\") if that is wrong")
    if ragged:
        first = ragged[0]
        notes.insert(0, f"{len(ragged)} ragged row(s) in the sample skipped: the header has {first.expected_columns} "
                        f"fields, a row has {first.actual_columns}"
                        + ("" if dialect.how == "format" else f" (read with delimiter {dialect.describe()}{how_to_set})"))
    elif dialect.ambiguous:
        notes.insert(0, f"delimiter {dialect.describe()}: the sample also splits evenly on {dialect.ambiguous}{how_to_set}")
    return FileSchema(columns=columns, notes=notes)


def schema_from_jsonl(sample: bytes) -> FileSchema:
    if _looks_binary(sample):
        return FileSchema(problem="not JSON Lines: the file holds binary data")
    try:
        table = pajson.read_json(
            pa.BufferReader(sample),
            read_options=pajson.ReadOptions(use_threads=False, block_size=max(len(sample) + 1, 1 << 16)),
            parse_options=pajson.ParseOptions(unexpected_field_behavior="infer"),
        )
        columns, notes = columns_of(table.schema)
        return FileSchema(columns=columns, notes=notes)
    except Exception as exc:
        first_error = one_line(exc, first_line=True)
    # pyarrow refuses a key whose values change type between rows; pandas reads them as objects.
    return _jsonl_with_pandas(sample, first_error)


def _jsonl_with_pandas(sample: bytes, first_error: str) -> FileSchema:
    import pandas as pd  # only for JSON Lines pyarrow refuses: too heavy to load for every lake crawl

    try:
        frame = pd.read_json(io.BytesIO(sample), lines=True)
    except Exception:
        return FileSchema(problem=f"not JSON Lines: {first_error}")
    fields, mixed = [], []
    for name in frame.columns:
        try:
            arrow_type = pa.array(frame[name].tolist(), from_pandas=True).type
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrow_type = pa.string()
            mixed.append(str(name))
        fields.append(pa.field(str(name), arrow_type))
    columns, notes = columns_of(pa.schema(fields))
    if mixed:
        notes.insert(0, f"values of different types in {', '.join(mixed)}: read as string")
    return FileSchema(columns=columns, notes=notes)


def read_schema(fmt: str, compression: str, read: Reader, size: int, *, sample_bytes: int,
                csv_dialect: CsvDialect | None = None) -> FileSchema:
    """The schema of one object, whatever its format. Store errors propagate to the caller.
    A CSV file is split as `csv_dialect` says (a source option), else as detected from its sample."""
    if size == 0:
        return FileSchema(problem="empty file")
    if fmt == PARQUET:
        return read_parquet_schema(read, size)
    sample, problem = read_text_sample(read, size, compression, sample_bytes)
    if sample is None:
        return FileSchema(problem=problem)
    if fmt == TSV:
        return schema_from_csv(sample, "\t")
    if fmt == CSV:
        return schema_from_csv(sample, csv_dialect or CsvDialect(delimiter=",", quote=""))
    if fmt == JSONL:
        return schema_from_jsonl(sample)
    return FileSchema(problem=f"unknown format {fmt}")


# Merging ---------------------------------------------------------------------------------------

def merge_types(a: str, b: str) -> str:
    """A type that holds values of both: Arrow's permissive promotion, else string."""
    if a == b:
        return a
    if a == "null":
        return b
    if b == "null":
        return a
    try:
        left, right = pa.type_for_alias(a), pa.type_for_alias(b)
        merged = pa.unify_schemas([pa.schema([("x", left)]), pa.schema([("x", right)])], promote_options="permissive")
        return str(merged.field("x").type)
    except Exception:
        return "string"


def family_of_type_name(arrow_type: str, fallback: str = "other") -> str:
    try:
        return arrow_family(pa.type_for_alias(arrow_type))
    except Exception:
        return fallback


def merge_columns(variants: list[list[list]]) -> tuple[list[list], dict[str, list[str]]]:
    """The union of several files' columns, in order of first appearance.

    A column is nullable when any file says so or some file lacks it; a column whose type differs
    gets a type that holds both. Returns (merged columns, {column: [types seen]} for conflicts).
    """
    merged: dict[str, list] = {}
    types: dict[str, list[str]] = {}
    present_in: dict[str, int] = {}
    for columns in variants:
        for name, arrow_type, nullable, family in columns:
            present_in[name] = present_in.get(name, 0) + 1
            seen = types.setdefault(name, [])
            if arrow_type not in seen:
                seen.append(arrow_type)
            if name not in merged:
                merged[name] = [name, arrow_type, bool(nullable), family]
                continue
            column = merged[name]
            column[2] = column[2] or bool(nullable)
            if column[1] != arrow_type:
                new_type = merge_types(column[1], arrow_type)
                if new_type != column[1]:
                    column[3] = family if new_type == arrow_type else family_of_type_name(new_type, "text" if new_type == "string" else "other")
                    column[1] = new_type
    for name, column in merged.items():
        if present_in[name] < len(variants):
            column[2] = True
    conflicts = {name: seen for name, seen in types.items() if len([t for t in seen if t != "null"]) > 1}
    return list(merged.values()), conflicts
