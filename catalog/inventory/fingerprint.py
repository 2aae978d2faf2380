"""A dataset's schema as a canonical document, and its fingerprint. Django-free.

Two crawls that see the same schema produce the same fingerprint, whatever
order the engine returned things in; statistics (rows, size, owner) are not
part of it, so they never make a new schema version. A column's "generated"
key is there only for a column the engine fills itself (identity, stored,
virtual), so the documents of every other column, and their fingerprints,
are what they were before the catalog recorded it.

The fingerprint is the SHA-256 of the document's canonical JSON (sorted keys,
no spaces, UTF-8). `schema_json` writes that text straight from the dataclass,
without building the document, because a crawl fingerprints every dataset it
sees; it must stay byte for byte what `canonical_json(schema_document(meta))` gives.
"""

from __future__ import annotations

import hashlib
import json
from json.encoder import encode_basestring

from catalog.connectors.base import DatasetMeta


def schema_document(meta: DatasetMeta) -> dict:
    return {
        "kind": meta.kind,
        "comment": meta.comment or "",
        "definition": meta.definition or "",
        "columns": [_column_document(c) for c in sorted(meta.columns, key=lambda c: (c.position, c.name))],
    }


def _column_document(c) -> dict:
    document = {
        "name": c.name,
        "type": c.data_type,
        "nullable": bool(c.nullable),
        "default": c.default,
        "primary_key": bool(c.is_primary_key),
        "comment": c.comment or "",
        "position": c.position,
        "native_id": c.native_id or "",
    }
    if c.generated:
        document["generated"] = c.generated
    return document


def canonical_json(document: dict) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint(document: dict) -> str:
    return fingerprint_json(canonical_json(document))


def fingerprint_json(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# Keys in sorted order, as json.dumps(sort_keys=True) writes them.
_COLUMN = '{"comment":%s,"default":%s,"name":%s,"native_id":%s,"nullable":%s,"position":%s,"primary_key":%s,"type":%s}'
_GENERATED_COLUMN = _COLUMN.replace('"default":%s,', '"default":%s,"generated":%s,')


class _Unusual(Exception):
    """A value json.dumps would write differently from the fast path (not a str, not an int)."""


def schema_json(meta: DatasetMeta) -> str:
    """canonical_json(schema_document(meta)), written directly."""
    try:
        return _schema_json(meta)
    except (_Unusual, TypeError):
        return canonical_json(schema_document(meta))


def _schema_json(meta: DatasetMeta) -> str:
    quote = encode_basestring  # the C encoder json.dumps(ensure_ascii=False) uses; TypeError on a non-str
    columns = meta.columns
    previous = None
    for c in columns:
        position = c.position
        if type(position) is not int:
            raise _Unusual
        if previous is not None and position <= previous:
            # Not in strictly increasing position order: sort as schema_document does.
            if any(type(c.position) is not int for c in columns):
                raise _Unusual
            columns = sorted(columns, key=lambda c: (c.position, c.name))
            break
        previous = position
    parts = [
        _COLUMN % (
            quote(c.comment or ""),
            "null" if c.default is None else quote(c.default),
            quote(c.name),
            quote(c.native_id or ""),
            "true" if c.nullable else "false",
            c.position,
            "true" if c.is_primary_key else "false",
            quote(c.data_type),
        ) if not c.generated else _GENERATED_COLUMN % (
            quote(c.comment or ""),
            "null" if c.default is None else quote(c.default),
            quote(c.generated),
            quote(c.name),
            quote(c.native_id or ""),
            "true" if c.nullable else "false",
            c.position,
            "true" if c.is_primary_key else "false",
            quote(c.data_type),
        )
        for c in columns
    ]
    return '{"columns":[%s],"comment":%s,"definition":%s,"kind":%s}' % (
        ",".join(parts), quote(meta.comment or ""), quote(meta.definition or ""), quote(meta.kind),
    )


def schema_fingerprint(meta: DatasetMeta) -> str:
    return fingerprint_json(schema_json(meta))


def prepare_documents(datasets: list[DatasetMeta]) -> None:
    """Work out each read dataset's schema document and fingerprint ahead of the apply step (ExtractRequest.prepare)."""
    for meta in datasets:
        if not meta.columns_skipped:
            meta.schema_document = document_of(meta)


def document_of(meta: DatasetMeta) -> tuple[str, str]:
    """(canonical JSON, fingerprint): as prepared, or now."""
    if meta.schema_document is not None:
        return meta.schema_document
    document = schema_json(meta)
    return document, fingerprint_json(document)
