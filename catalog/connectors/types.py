"""Native type spellings to a normalised family, for display and search. Django-free.

Drift compares native types; the family only groups them. An unknown type is
'other', never an error.
"""

from __future__ import annotations

import re

FAMILIES = ("integer", "decimal", "float", "text", "boolean", "date", "timestamp", "time", "interval", "json", "binary",
            "array", "struct", "map", "uuid", "geo", "other")

# First match wins, so the order matters: arrays, maps and structs before their element types,
# MySQL's tinyint(1) before the integers, Snowflake's NUMBER(p,0) before the decimals.
_RULES: list[tuple[re.Pattern, str]] = [
    (re.compile(r"(\[\d*\]$|^array\b|^_|^list\b|^list<|^large_list<|^repeated\b|^vector\b)"), "array"),
    # A map (key -> value, keys chosen per row: Parquet/Arrow map<k, v>, DuckDB MAP(k, v)) is not a
    # struct (fields named in the schema); a map inside an array is still an array.
    (re.compile(r"^map\b"), "map"),
    (re.compile(r"^(struct|record|row|object|union|variant_struct)\b|^struct<"), "struct"),
    (re.compile(r"^(json|jsonb|variant|super)\b"), "json"),
    (re.compile(r"^(tinyint\(1\)|bool|boolean|bit\(1\)|bit)$"), "boolean"),
    (re.compile(r"^(bit|varbit|bit varying)\b"), "binary"),
    (re.compile(r"^u?(big|small|tiny|medium|huge)?int(eger)?\d*\b|^(big|small)?serial\b|^int\d+\b|^uint\d+\b|^long\b|^short\b"
                r"|^byteint\b|^oid\b|^number\(\d+,\s*0\)$"), "integer"),
    (re.compile(r"^(numeric|decimal|number|dec|bignumeric|bigdecimal|money|smallmoney|fixed)\b"), "decimal"),
    (re.compile(r"^(real|float\d*|double|float|binary_float|binary_double)\b"), "float"),
    (re.compile(r"^(timestamp|datetime|timestamptz|timestamp_\w+|smalldatetime|datetime2|datetimeoffset)\b"), "timestamp"),
    (re.compile(r"^(date|year)\b"), "date"),
    (re.compile(r"^(time|timetz)\b"), "time"),
    (re.compile(r"^interval\b"), "interval"),
    (re.compile(r"^uuid\b|^uniqueidentifier\b"), "uuid"),
    (re.compile(r"^(bytea|blob|binary|varbinary|varbyte|bytes|longblob|mediumblob|tinyblob|image|raw|long raw)\b"), "binary"),
    (re.compile(r"^(geometry|geography|point|polygon|linestring|multipoint|multipolygon|multilinestring|geometrycollection)\b"), "geo"),
    (re.compile(r"^(text|char|character|varchar|varchar2|nvarchar|nvarchar2|nchar|string|clob|nclob|citext|name|bpchar|tinytext|mediumtext"
                r"|longtext|enum|set|xml|inet|cidr|macaddr|tsvector|utf8|large_string|str)\b|^character varying\b|^national\b"), "text"),
]


def type_family(native: str) -> str:
    text = (native or "").strip().lower()
    if not text:
        return "other"
    for pattern, family in _RULES:
        if pattern.search(text):
            return family
    return "other"
