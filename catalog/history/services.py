"""Schema changes, recorded in the crawl's transaction from what the apply step did."""

from __future__ import annotations

from catalog.history import diff
from catalog.history.models import SchemaChange
from catalog.inventory.models import Dataset, SchemaVersion


def history_snapshot(source) -> dict[int, tuple[str, str, bool]]:
    """Names and presence before a crawl is applied: {dataset id: (schema, name, removed)}."""
    return {
        pk: (schema, name, removed_at is not None)
        for pk, schema, name, removed_at in Dataset.objects.filter(source=source).values_list("id", "schema_name", "name", "removed_at")
    }


def history_record_changes(source, crawl, result, snapshot, *, now) -> list[SchemaChange]:
    """SchemaChange rows for one applied crawl. The first crawl of a source is the baseline: nothing is recorded."""
    if not snapshot:
        return []
    touched = list(dict.fromkeys([*result.added_ids, *result.changed_ids]))
    rows: list[SchemaChange] = []
    if touched:
        names = {pk: f"{s}.{n}" for pk, s, n in Dataset.objects.filter(id__in=touched).values_list("id", "schema_name", "name")}
        latest: dict[int, list[SchemaVersion]] = {}
        for version in SchemaVersion.objects.filter(dataset_id__in=touched).order_by("dataset_id", "-number").only(
            "id", "dataset_id", "number", "schema", "crawl_id"
        ):
            versions = latest.setdefault(version.dataset_id, [])
            if len(versions) < 2:
                versions.append(version)
        for dataset_id in touched:
            versions = latest.get(dataset_id, [])
            if not versions:
                continue
            new_version = versions[0]
            before = snapshot.get(dataset_id)
            new_name = names[dataset_id]
            if before is None or before[2]:
                # New, or back after removal: "added", plus how it differs from what it was.
                changes = [diff.Change(diff.DATASET_ADDED, diff.NON_BREAKING, new=new_name)]
                if before is not None and len(versions) > 1:
                    changes += diff.diff_schemas(versions[1].schema, new_version.schema)
            else:
                old_name = f"{before[0]}.{before[1]}"
                previous = versions[1].schema if len(versions) > 1 else None
                changes = diff.diff_schemas(previous, new_version.schema, old_name=old_name, new_name=new_name)
            rows += [_row(source, crawl, dataset_id, new_version.pk, new_name, c, now) for c in changes]
    for dataset_id in result.removed_ids:
        schema, name, _ = snapshot[dataset_id]
        change = diff.Change(diff.DATASET_REMOVED, diff.BREAKING, old=f"{schema}.{name}")
        rows.append(_row(source, crawl, dataset_id, None, f"{schema}.{name}", change, now))
    return SchemaChange.objects.bulk_create(rows, batch_size=1000)


def _row(source, crawl, dataset_id, version_id, dataset_name, change: diff.Change, now) -> SchemaChange:
    return SchemaChange(
        source=source, crawl=crawl, dataset_id=dataset_id, version_id=version_id, kind=change.kind, severity=change.severity,
        column=change.column or "", old_value=change.old, new_value=change.new, dataset_name=dataset_name,
        detail=change.detail or {}, created_at=now,
    )
