"""Native type spellings to a normalised family, for display and search. Django-free.

Drift compares native types; the family only groups them. An unknown type is
'other', never an error.
"""

from __future__ import annotations

import re

FAMILIES = ("integer", "decimal", "float", "text", "boolean", "date", "timestamp", "time", "interval", "json", "binary",
            "array", "struct", "uuid", "geo", "other")

_RULES: list[tuple[re.Pattern, str]] = [
    (re.compile(r"(\[\]$|^array\b|^_|^list\b|^list<|^repeated\b)"), "array"),
    (re.compile(r"^(struct|record|row|object|map|variant_struct)\b|^struct<|^map<"), "struct"),
    (re.compile(r"^(json|jsonb|variant|super)\b"), "json"),
    (re.compile(r"^(tinyint\(1\)|bool|boolean|bit\(1\)|bit)$"), "boolean"),
    (re.compile(r"^(big|small|tiny|medium|huge|u)?int(eger)?\d*\b|^(big|small)?serial\b|^int\d+\b|^uint\d+\b|^long\b|^short\b|^byteint\b|^oid\b"), "integer"),
    (re.compile(r"^(numeric|decimal|number|dec|bignumeric|bigdecimal|money|fixed)\b"), "decimal"),
    (re.compile(r"^(real|float\d*|double|float|binary_float|binary_double)\b"), "float"),
    (re.compile(r"^(timestamp|datetime|timestamptz|timestamp_ntz|timestamp_ltz|timestamp_tz|smalldatetime|datetime2|datetimeoffset)\b"), "timestamp"),
    (re.compile(r"^date\b"), "date"),
    (re.compile(r"^(time|timetz)\b"), "time"),
    (re.compile(r"^interval\b"), "interval"),
    (re.compile(r"^uuid\b|^uniqueidentifier\b"), "uuid"),
    (re.compile(r"^(bytea|blob|binary|varbinary|bytes|longblob|mediumblob|tinyblob|image|raw|long raw)\b"), "binary"),
    (re.compile(r"^(geometry|geography|point|polygon|linestring)\b"), "geo"),
    (re.compile(r"^(text|char|character|varchar|nvarchar|nchar|string|clob|nclob|citext|name|bpchar|tinytext|mediumtext|longtext|enum|set|xml|inet|cidr|macaddr|tsvector|utf8|large_string|str)\b|^character varying\b"), "text"),
]


def type_family(native: str) -> str:
    text = (native or "").strip().lower()
    if not text:
        return "other"
    for pattern, family in _RULES:
        if pattern.search(text):
            return family
    return "other"
