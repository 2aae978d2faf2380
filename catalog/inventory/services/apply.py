"""Apply a connector's complete answer to the stored inventory.

Only what changed is written, in bulk: new datasets and their columns, a new
schema version for each dataset whose fingerprint moved, statistics that
moved, and removals. Removal is concluded only here, from a complete answer,
and only for schemas the answer covered. The caller holds the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Max

from catalog.connectors.base import DatasetMeta, Extraction, schema_in_scope
from catalog.core.bulk import insert_rows
from catalog.connectors.types import type_family
from catalog.inventory.fingerprint import fingerprint, schema_document
from catalog.inventory.models import Column, Dataset, OwnerIdentity, SchemaVersion

COLUMN_FIELDS = ("dataset_id", "name", "position", "data_type", "type_family", "nullable", "default", "is_primary_key", "comment", "native_id", "description")
VERSION_FIELDS = ("dataset_id", "crawl_id", "number", "fingerprint", "schema", "created_at")
DATASET_SCHEMA_FIELDS = ["schema_name", "name", "kind", "native_id", "comment", "definition", "fingerprint", "column_count", "last_changed_at", "removed_at"]
DATASET_FACT_FIELDS = ["row_estimate", "size_bytes", "owner", "last_modified_at", "properties", "warnings"]


@dataclass
class ApplyResult:
    seen: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    columns: int = 0
    added_ids: list[int] = field(default_factory=list)
    changed_ids: list[int] = field(default_factory=list)
    removed_ids: list[int] = field(default_factory=list)


def _column_row(dataset_id: int, c) -> tuple:
    return (dataset_id, c.name, c.position, c.data_type, c.type_family or type_family(c.data_type), bool(c.nullable), c.default,
            bool(c.is_primary_key), c.comment or "", c.native_id or "", "")


def _owner_ids(source, extraction: Extraction) -> dict[str, int]:
    names = {d.owner for d in extraction.datasets if d.owner}
    existing = dict(OwnerIdentity.objects.filter(source=source).values_list("name", "id"))
    missing = names - existing.keys()
    if missing:
        OwnerIdentity.objects.bulk_create([OwnerIdentity(source=source, name=n) for n in sorted(missing)], ignore_conflicts=True)
        existing = dict(OwnerIdentity.objects.filter(source=source).values_list("name", "id"))
    return existing


def inventory_apply_extraction(source, crawl, extraction: Extraction, *, include=None, exclude=None, now: datetime) -> ApplyResult:
    result = ApplyResult()
    owners = _owner_ids(source, extraction)
    stored = {
        (row[1], row[2]): row
        for row in Dataset.objects.filter(source=source).values_list(
            "id", "schema_name", "name", "native_id", "fingerprint", "removed_at", "row_estimate", "size_bytes", "owner_id",
            "last_modified_at", "properties", "warnings",
        )
    }
    incoming_keys = {(d.schema, d.name) for d in extraction.datasets}
    # Present datasets that vanished under their name but may reappear renamed (same native id).
    vanished_by_native = {
        row[3]: row for key, row in stored.items()
        if row[3] and row[5] is None and key not in incoming_keys
    }

    new: list[tuple[DatasetMeta, dict, str]] = []
    changed: list[tuple[int, DatasetMeta, dict, str]] = []
    facts: list[Dataset] = []
    renamed_ids: set[int] = set()

    for meta in extraction.datasets:
        result.seen += 1
        result.columns += len(meta.columns)
        document = schema_document(meta)
        fp = fingerprint(document)
        owner_id = owners.get(meta.owner) if meta.owner else None
        row = stored.get((meta.schema, meta.name))
        if row is None and meta.native_id and meta.native_id in vanished_by_native:
            row = vanished_by_native.pop(meta.native_id)
            renamed_ids.add(row[0])
        if row is None:
            new.append((meta, document, fp))
            continue
        dataset_id, _, _, _, old_fp, removed_at, rows, size, old_owner, old_modified, old_properties, old_warnings = row
        if removed_at is not None:
            result.added += 1
            result.added_ids.append(dataset_id)
            changed.append((dataset_id, meta, document, fp))
        elif old_fp != fp or dataset_id in renamed_ids:
            result.changed += 1
            result.changed_ids.append(dataset_id)
            changed.append((dataset_id, meta, document, fp))
        if (rows, size, old_owner, old_modified, old_properties, old_warnings) != (
            meta.row_estimate, meta.size_bytes, owner_id, meta.last_modified, meta.properties, meta.warnings
        ):
            facts.append(Dataset(id=dataset_id, row_estimate=meta.row_estimate, size_bytes=meta.size_bytes, owner_id=owner_id,
                                 last_modified_at=meta.last_modified, properties=meta.properties, warnings=meta.warnings))

    _insert_new(source, crawl, new, owners, now, result)
    _update_changed(crawl, changed, now)
    if facts:
        Dataset.objects.bulk_update(facts, DATASET_FACT_FIELDS, batch_size=1000)

    # Removal: present, in a schema this crawl covered, not seen and not renamed.
    covered = set(extraction.schemas)
    removed_ids = [
        row[0] for key, row in stored.items()
        if row[5] is None and key not in incoming_keys and row[0] not in renamed_ids
        and (key[0] in covered or schema_in_scope(key[0], include or [], exclude or []))
    ]
    if removed_ids:
        Dataset.objects.filter(id__in=removed_ids).update(removed_at=now, last_changed_at=now)
        result.removed = len(removed_ids)
        result.removed_ids = removed_ids
    return result


def _insert_new(source, crawl, new, owners, now, result: ApplyResult) -> None:
    if not new:
        return
    datasets = [
        Dataset(
            source=source, schema_name=m.schema, name=m.name, kind=m.kind, native_id=m.native_id,
            comment=m.comment or "", definition=m.definition or "", owner_id=owners.get(m.owner) if m.owner else None,
            row_estimate=m.row_estimate, size_bytes=m.size_bytes, column_count=len(m.columns), fingerprint=fp,
            last_modified_at=m.last_modified, properties=m.properties, warnings=m.warnings,
            first_seen_at=now, last_changed_at=now,
        )
        for m, _, fp in new
    ]
    Dataset.objects.bulk_create(datasets, batch_size=1000)
    ids = [d.pk for d in datasets]
    if any(i is None for i in ids):  # backends that do not return ids from bulk inserts
        lookup = dict(((s, n), i) for i, s, n in Dataset.objects.filter(source=source).values_list("id", "schema_name", "name"))
        ids = [lookup[(m.schema, m.name)] for m, _, _ in new]
    insert_rows(Column, COLUMN_FIELDS, (_column_row(i, c) for i, (m, _, _) in zip(ids, new) for c in m.columns))
    insert_rows(SchemaVersion, VERSION_FIELDS, ((i, crawl.pk, 1, fp, doc, now) for i, (_, doc, fp) in zip(ids, new)))
    result.added += len(new)
    result.added_ids.extend(ids)


def _update_changed(crawl, changed, now) -> None:
    """Changed, renamed or returning datasets: update in place so descriptions follow."""
    if not changed:
        return
    ids = [dataset_id for dataset_id, *_ in changed]
    Dataset.objects.bulk_update(
        [
            Dataset(id=i, schema_name=m.schema, name=m.name, kind=m.kind, native_id=m.native_id, comment=m.comment or "",
                    definition=m.definition or "", fingerprint=fp, column_count=len(m.columns), last_changed_at=now, removed_at=None)
            for i, m, _, fp in changed
        ],
        DATASET_SCHEMA_FIELDS,
        batch_size=500,
    )
    existing: dict[int, list[Column]] = {}
    for column in Column.objects.filter(dataset_id__in=ids).only("id", "dataset_id", "name", "native_id"):
        existing.setdefault(column.dataset_id, []).append(column)

    to_update: list[Column] = []
    to_insert: list[tuple] = []
    to_delete: list[int] = []
    for dataset_id, meta, _, _ in changed:
        old = existing.get(dataset_id, [])
        by_native = {c.native_id: c for c in old if c.native_id}
        by_name = {c.name: c for c in old}
        kept: set[int] = set()
        for c in meta.columns:
            match = by_native.get(c.native_id) if c.native_id else None
            if match is None or match.pk in kept:
                match = by_name.get(c.name)
                if match is not None and match.native_id and c.native_id and match.native_id != c.native_id:
                    match = None  # same name, different column: dropped and re-added
            if match is None or match.pk in kept:
                to_insert.append(_column_row(dataset_id, c))
                continue
            kept.add(match.pk)
            to_update.append(Column(id=match.pk, dataset_id=dataset_id, name=c.name, position=c.position, data_type=c.data_type,
                                    type_family=c.type_family or type_family(c.data_type),
                                    nullable=bool(c.nullable), default=c.default, is_primary_key=bool(c.is_primary_key),
                                    comment=c.comment or "", native_id=c.native_id or ""))
        to_delete.extend(c.pk for c in old if c.pk not in kept)

    if to_delete:
        Column.objects.filter(id__in=to_delete).delete()
    if to_update:
        # Renames can swap names inside a dataset: park them first so the unique index never sees a clash.
        old_names = {c.pk: c.name for cols in existing.values() for c in cols}
        renamed = [c for c in to_update if old_names.get(c.pk) != c.name]
        if renamed:
            Column.objects.bulk_update([Column(id=c.pk, name=f"__canon_rename_{c.pk}") for c in renamed], ["name"], batch_size=1000)
        Column.objects.bulk_update(to_update, ["name", "position", "data_type", "type_family", "nullable", "default", "is_primary_key", "comment", "native_id"], batch_size=1000)
    insert_rows(Column, COLUMN_FIELDS, to_insert)

    numbers = dict(SchemaVersion.objects.filter(dataset_id__in=ids).values("dataset_id").annotate(n=Max("number")).values_list("dataset_id", "n"))
    insert_rows(SchemaVersion, VERSION_FIELDS, ((i, crawl.pk, numbers.get(i, 0) + 1, fp, doc, now) for i, _, doc, fp in changed))
