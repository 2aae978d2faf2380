"""A dataset's schema as a canonical document, and its fingerprint. Django-free.

Two crawls that see the same schema produce the same fingerprint, whatever
order the engine returned things in; statistics (rows, size, owner) are not
part of it, so they never make a new schema version.
"""

from __future__ import annotations

import hashlib
import json

from catalog.connectors.base import DatasetMeta


def schema_document(meta: DatasetMeta) -> dict:
    return {
        "kind": meta.kind,
        "comment": meta.comment or "",
        "definition": meta.definition or "",
        "columns": [
            {
                "name": c.name,
                "type": c.data_type,
                "nullable": bool(c.nullable),
                "default": c.default,
                "primary_key": bool(c.is_primary_key),
                "comment": c.comment or "",
                "position": c.position,
                "native_id": c.native_id or "",
            }
            for c in sorted(meta.columns, key=lambda c: (c.position, c.name))
        ],
    }


def fingerprint(document: dict) -> str:
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()
