"""Apply a connector's complete answer to the stored inventory.

Only what changed is written, in bulk: new datasets and their columns, a new
schema version for each dataset whose fingerprint moved, statistics that
moved, and removals. Removal is concluded only here, from a complete answer,
and only for schemas the answer covered. The caller holds the transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Max, TextField
from django.db.models.functions import Cast

from catalog.connectors.base import DatasetMeta, Extraction, schema_in_scope
from catalog.connectors.types import type_family
from catalog.core.bulk import JSONText, insert_rows, insert_rows_returning_ids, update_rows
from catalog.core.gcpause import gc_paused
from catalog.inventory.fingerprint import document_of
from catalog.inventory.models import Column, Dataset, OwnerIdentity, SchemaVersion

COLUMN_FIELDS = ("dataset_id", "name", "position", "data_type", "type_family", "nullable", "default", "is_primary_key", "comment", "native_id", "generated",
                 "description")
VERSION_FIELDS = ("dataset_id", "crawl_id", "number", "fingerprint", "schema", "created_at")
COLUMN_SCHEMA_FIELDS = ("name", "position", "data_type", "type_family", "nullable", "default", "is_primary_key", "comment", "native_id", "generated")
DATASET_SCHEMA_FIELDS = ["schema_name", "name", "kind", "native_id", "comment", "definition", "fingerprint", "column_count", "last_changed_at", "removed_at"]
# Facts are compared for every stored dataset seen, changed or not: the schema signature moves with them.
DATASET_FACT_FIELDS = ["row_estimate", "size_bytes", "owner_id", "last_modified_at", "properties", "warnings", "schema_signature"]
NEW_DATASET_FIELDS = ("source_id", "schema_name", "name", "kind", "native_id", "comment", "definition", "owner_id", "row_estimate",
                      "size_bytes", "column_count", "fingerprint", "schema_signature", "last_modified_at", "properties", "warnings", "first_seen_at",
                      "last_changed_at")


# Warnings a later step of the crawl adds to a view (lineage: its SQL did not parse). The connector does not
# report them, so apply keeps them on a view; that step re-derives them whenever the crawl changed anything.
DERIVED_WARNING_PREFIXES = ("Lineage: ",)


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
    # Datasets whose stored columns were corrected though their schema is unchanged (a column's family
    # the connector now gives): not a change to record or alert on, but what is derived from the
    # stored columns (their search documents) is made again, as for a change.
    refreshed_ids: list[int] = field(default_factory=list)


class SkippedColumnsNotKnown(Exception):
    """A dataset came without its columns, but the catalog does not hold them as the connector assumed.

    The connector skips the columns of a dataset the catalog knows under the same name and schema
    signature (ExtractRequest.known). If the catalog changed between the two reads, the crawl service
    extracts again with every column read.
    """


class _Families(dict):
    """type_family, once per distinct native type: a warehouse has hundreds of thousands of columns and a few dozen types."""

    def __missing__(self, data_type):
        family = self[data_type] = type_family(data_type)
        return family


def _column_rows(dataset_id: int, columns, families: _Families):
    return [
        (dataset_id, c.name, c.position, c.data_type, c.type_family or families[c.data_type], bool(c.nullable), c.default,
         bool(c.is_primary_key), c.comment or "", c.native_id or "", c.generated or "", "")
        for c in columns
    ]


_EMPTY_JSON = {"{}": {}, "[]": []}


def _from_json(text):
    """A stored JSON field's value, from its text (only compared, never changed)."""
    if text is None:
        return None
    empty = _EMPTY_JSON.get(text, _EMPTY_JSON)
    return json.loads(text) if empty is _EMPTY_JSON else empty


def _owner_ids(source, extraction: Extraction) -> dict[str, int]:
    names = {d.owner for d in extraction.datasets if d.owner}
    existing = dict(OwnerIdentity.objects.filter(source=source).values_list("name", "id"))
    missing = names - existing.keys()
    if missing:
        OwnerIdentity.objects.bulk_create([OwnerIdentity(source=source, name=n) for n in sorted(missing)], ignore_conflicts=True)
        existing = dict(OwnerIdentity.objects.filter(source=source).values_list("name", "id"))
    return existing


def inventory_apply_extraction(source, crawl, extraction: Extraction, *, include=None, exclude=None, now: datetime) -> ApplyResult:
    with gc_paused():
        return _apply(source, crawl, extraction, include=include, exclude=exclude, now=now)


def _apply(source, crawl, extraction: Extraction, *, include, exclude, now: datetime) -> ApplyResult:
    result = ApplyResult()
    owners = _owner_ids(source, extraction)
    # properties and warnings come as JSON text: nearly all are empty, and need no parsing to compare.
    stored = {
        (row[1], row[2]): row
        for row in Dataset.objects.filter(source=source).annotate(
            properties_json=Cast("properties", TextField()), warnings_json=Cast("warnings", TextField()),
        ).values_list(
            "id", "schema_name", "name", "native_id", "fingerprint", "removed_at", "row_estimate", "size_bytes", "owner_id",
            "last_modified_at", "properties_json", "warnings_json", "schema_signature", "column_count",
        )
    }
    incoming_keys = {(d.schema, d.name) for d in extraction.datasets}
    # Present datasets that vanished under their name but may reappear renamed (same native id).
    vanished_by_native = {
        row[3]: row for key, row in stored.items()
        if row[3] and row[5] is None and key not in incoming_keys
    }

    new: list[DatasetMeta] = []  # fingerprinted while their rows stream to the server
    # (id, meta, schema as canonical JSON, fingerprint): the JSON is what a new SchemaVersion stores.
    changed: list[tuple[int, DatasetMeta, str, str]] = []
    facts: list[tuple] = []  # (id, *DATASET_FACT_FIELDS)
    renamed_ids: set[int] = set()
    families = _Families()
    refiled: list[tuple[int, DatasetMeta]] = []  # unchanged schema, but a column's family is the connector's own

    for meta in extraction.datasets:
        result.seen += 1
        result.columns += len(meta.columns)
        row = stored.get((meta.schema, meta.name))
        if row is None and meta.native_id and meta.native_id in vanished_by_native:
            row = vanished_by_native.pop(meta.native_id)
            renamed_ids.add(row[0])
        if meta.columns_skipped:
            # The stored columns stand for the ones not read: only if this very dataset holds them, as it was.
            if row is None or row[0] in renamed_ids or row[5] is not None or (row[3], row[12]) != (meta.native_id, meta.schema_signature):
                raise SkippedColumnsNotKnown(f"{meta.schema}.{meta.name}")
            result.columns += row[13]  # meta.columns is empty
        if row is None:
            new.append(meta)
            continue
        owner_id = owners.get(meta.owner) if meta.owner else None
        (dataset_id, _, _, _, old_fp, removed_at, rows, size, old_owner, old_modified, old_properties, old_warnings, old_signature,
         _) = row
        if meta.columns_skipped:
            document = fp = None  # unchanged, as its signature says
        else:
            document, fp = document_of(meta)
        if removed_at is not None:
            result.added += 1
            result.added_ids.append(dataset_id)
            changed.append((dataset_id, meta, document, fp))
        elif fp is not None and (old_fp != fp or dataset_id in renamed_ids):
            result.changed += 1
            result.changed_ids.append(dataset_id)
            changed.append((dataset_id, meta, document, fp))
        elif fp is not None and any(c.type_family and c.type_family != families[c.data_type] for c in meta.columns):
            refiled.append((dataset_id, meta))
        warnings, stored_warnings = meta.warnings, _from_json(old_warnings)
        if meta.definition and stored_warnings:
            warnings = meta.warnings + [w for w in stored_warnings if w.startswith(DERIVED_WARNING_PREFIXES)]
        if (rows, size, old_owner, old_modified, old_signature) != (
            meta.row_estimate, meta.size_bytes, owner_id, meta.last_modified, meta.schema_signature
        ) or (_from_json(old_properties) != meta.properties or stored_warnings != warnings):
            facts.append((dataset_id, meta.row_estimate, meta.size_bytes, owner_id, meta.last_modified, meta.properties, warnings,
                          meta.schema_signature))

    _insert_new(source, crawl, new, owners, now, result)
    _update_changed(crawl, changed, now)
    result.refreshed_ids = _refile_families(refiled)
    update_rows(Dataset, DATASET_FACT_FIELDS, facts)

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


def _insert_new(source, crawl, new: list[DatasetMeta], owners, now, result: ApplyResult) -> None:
    if not new:
        return
    schemas: list[tuple[str, str]] = []  # (canonical JSON, fingerprint) of each new dataset

    def dataset_rows():
        for m in new:
            document, fp = document_of(m)
            schemas.append((document, fp))
            yield (source.pk, m.schema, m.name, m.kind, m.native_id, m.comment or "", m.definition or "",
                   owners.get(m.owner) if m.owner else None, m.row_estimate, m.size_bytes, len(m.columns), fp, m.schema_signature, m.last_modified,
                   m.properties, m.warnings, now, now)

    ids = insert_rows_returning_ids(Dataset, NEW_DATASET_FIELDS, dataset_rows(), count=len(new))
    if any(i is None for i in ids):  # backends that do not return ids from bulk inserts
        lookup = dict(((s, n), i) for i, s, n in Dataset.objects.filter(source=source).values_list("id", "schema_name", "name"))
        ids = [lookup[(m.schema, m.name)] for m in new]
    families = _Families()
    insert_rows(Column, COLUMN_FIELDS, (row for i, m in zip(ids, new) for row in _column_rows(i, m.columns, families)))
    insert_rows(SchemaVersion, VERSION_FIELDS, ((i, crawl.pk, 1, fp, JSONText(doc), now) for i, (doc, fp) in zip(ids, schemas)))
    result.added += len(new)
    result.added_ids.extend(ids)


def _refile_families(refiled: list[tuple[int, DatasetMeta]]) -> list[int]:
    """The connector's family for columns of an unchanged schema, where the stored one differs.

    The family is not part of the schema: a connector that learns to file a type better (a PostgreSQL
    domain named "year" over integer was filed as a date by its name) leaves the fingerprint as it was,
    and the stored columns would keep the old family until the schema changed. Only datasets with a
    column whose connector family differs from what its type's name gives are looked at. Returns the
    datasets whose columns were written (none on the crawls after: they are filed already).
    """
    if not refiled:
        return []
    wanted = {(dataset_id, c.name): c.type_family for dataset_id, meta in refiled for c in meta.columns if c.type_family}
    stored = Column.objects.filter(dataset_id__in=[dataset_id for dataset_id, _ in refiled]).values_list(
        "id", "dataset_id", "name", "type_family")
    rows = [(pk, dataset_id, wanted[(dataset_id, name)]) for pk, dataset_id, name, family in stored
            if (dataset_id, name) in wanted and wanted[(dataset_id, name)] != family]
    update_rows(Column, ["type_family"], [(pk, family) for pk, _, family in rows])
    return sorted({dataset_id for _, dataset_id, _ in rows})


def _update_changed(crawl, changed, now) -> None:
    """Changed, renamed or returning datasets: update in place so descriptions follow."""
    if not changed:
        return
    ids = [dataset_id for dataset_id, *_ in changed]
    update_rows(Dataset, DATASET_SCHEMA_FIELDS, [
        (i, m.schema, m.name, m.kind, m.native_id, m.comment or "", m.definition or "", fp, len(m.columns), now, None)
        for i, m, _, fp in changed
    ])
    existing: dict[int, list[Column]] = {}
    for column in Column.objects.filter(dataset_id__in=ids).only("id", "dataset_id", *COLUMN_SCHEMA_FIELDS):
        existing.setdefault(column.dataset_id, []).append(column)

    families = _Families()
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
                to_insert.extend(_column_rows(dataset_id, [c], families))
                continue
            kept.add(match.pk)
            updated = Column(id=match.pk, dataset_id=dataset_id, name=c.name, position=c.position, data_type=c.data_type,
                             type_family=c.type_family or families[c.data_type],
                             nullable=bool(c.nullable), default=c.default, is_primary_key=bool(c.is_primary_key),
                             comment=c.comment or "", native_id=c.native_id or "", generated=c.generated or "")
            # Only columns that really moved are written: a changed table is mostly unchanged columns.
            if any(getattr(updated, f) != getattr(match, f) for f in COLUMN_SCHEMA_FIELDS):
                to_update.append(updated)
        to_delete.extend(c.pk for c in old if c.pk not in kept)

    if to_delete:
        Column.objects.filter(id__in=to_delete).delete()
    if to_update:
        # Renames can swap names inside a dataset: park them first so the unique index never sees a clash.
        old_names = {c.pk: c.name for cols in existing.values() for c in cols}
        renamed = [c for c in to_update if old_names.get(c.pk) != c.name]
        if renamed:
            update_rows(Column, ["name"], [(c.pk, f"__canon_rename_{c.pk}") for c in renamed])
        update_rows(Column, COLUMN_SCHEMA_FIELDS, [(c.pk, *(getattr(c, f) for f in COLUMN_SCHEMA_FIELDS)) for c in to_update])
    insert_rows(Column, COLUMN_FIELDS, to_insert)

    numbers = dict(SchemaVersion.objects.filter(dataset_id__in=ids).values("dataset_id").annotate(n=Max("number")).values_list("dataset_id", "n"))
    insert_rows(SchemaVersion, VERSION_FIELDS, ((i, crawl.pk, numbers.get(i, 0) + 1, fp, JSONText(doc), now) for i, _, doc, fp in changed))
