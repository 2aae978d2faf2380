"""Column profiles from the engines' statistics, kept per crawl, their jumps, and who hears about them.

Every write of profiles goes through here: the crawl step (profiles_observe), a person marking a column
sensitive (column_sensitive_set) or asking to hear about jumps (profile_alerts_set). A column whose name
matches CANON_SENSITIVE_COLUMNS, or that a person marked, keeps counts (null fraction, distinct count,
lengths) and never a value: none is stored, so none can be shown.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string

from catalog.alerts.services import Email, outbox_queue
from catalog.alerts.services.listeners import dataset_listeners
from catalog.inventory.models import Column, Dataset
from catalog.quality.jumps import is_sensitive, jumps
from catalog.quality.models import ColumnProfile, ProfileAlertOptIn, ProfileChange, SensitiveColumn

_COMPARED = ("basis", "null_frac", "distinct", "min_value", "max_value", "min_len", "max_len", "most_common", "values_hidden")


def _row_of(dataset_id: int, column: str, stats: dict, hidden: bool, crawl, now) -> ColumnProfile:
    def text(value):
        return "" if hidden or value is None else str(value)[:1000]
    distinct = stats.get("distinct")
    return ColumnProfile(
        dataset_id=dataset_id, column_name=column, crawl=crawl, observed_at=now, basis=str(stats.get("basis", ""))[:30],
        null_frac=stats.get("null_frac"), distinct=int(distinct) if distinct is not None else None,
        min_value=text(stats.get("min")), max_value=text(stats.get("max")),
        min_len=stats.get("min_len"), max_len=stats.get("max_len"),
        most_common=[] if hidden else [[None if v is None else str(v)[:200], f] for v, f in stats.get("most_common", [])],
        values_hidden=hidden,
    )


def _as_stats(row: ColumnProfile) -> dict:
    return {"null_frac": row.null_frac, "distinct": row.distinct, "min": row.min_value or None, "max": row.max_value or None}


def sensitive_columns(dataset_ids) -> set[tuple[int, str]]:
    """(dataset id, column name) marked sensitive by a person."""
    return set(SensitiveColumn.objects.filter(dataset_id__in=list(dataset_ids)).values_list("dataset_id", "column_name"))


def profiles_observe(source, crawl, extraction, now: datetime) -> list:
    """Store the column profiles this crawl read (only tables whose statistics the engine refreshed), record
    jumps against each column's previous profile, and queue one email per person who asked to hear of them.
    Returns the messages queued. A crawl that read no statistics costs nothing here."""
    read = [meta for meta in extraction.datasets if meta.column_stats]
    if not read:
        return []
    names = {(m.schema, m.name) for m in read}
    ids = {(schema, name): pk for pk, schema, name in Dataset.objects.filter(
        source=source, removed_at__isnull=True, schema_name__in={s for s, _ in names}, name__in={n for _, n in names}
    ).values_list("pk", "schema_name", "name")}
    dataset_ids = [ids[key] for key in names if key in ids]
    previous: dict[tuple[int, str], ColumnProfile] = {}
    for row in ColumnProfile.objects.filter(dataset_id__in=dataset_ids).order_by("dataset_id", "column_name", "-observed_at"):
        previous.setdefault((row.dataset_id, row.column_name), row)
    families = {(d, c): f for d, c, f in Column.objects.filter(dataset_id__in=dataset_ids).values_list("dataset_id", "name", "type_family")}
    marked = sensitive_columns(dataset_ids)
    patterns = settings.CANON_SENSITIVE_COLUMNS
    rows, changes = [], []
    for meta in read:
        dataset_id = ids.get((meta.schema, meta.name))
        if dataset_id is None:
            continue
        for column, stats in sorted(meta.column_stats.items()):
            hidden = (dataset_id, column) in marked or is_sensitive(column, patterns)
            row = _row_of(dataset_id, column, stats, hidden, crawl, now)
            before = previous.get((dataset_id, column))
            if before is not None and all(getattr(before, f) == getattr(row, f) for f in _COMPARED):
                continue  # analyzed again, same statistics: nothing to keep
            rows.append(row)
            if before is not None:
                for kind, description in jumps(_as_stats(before), _as_stats(row), families.get((dataset_id, column), ""),
                                               show_values=not hidden):
                    changes.append(ProfileChange(dataset_id=dataset_id, source_id=source.pk, crawl=crawl, column_name=column,
                                                 kind=kind, description=description[:500], created_at=now))
    ColumnProfile.objects.bulk_create(rows, batch_size=2000)
    ProfileChange.objects.bulk_create(changes, batch_size=2000)
    return _queue(source, crawl, changes)


def _queue(source, crawl, changes: list[ProfileChange]) -> list:
    if not changes:
        return []
    opted = set(ProfileAlertOptIn.objects.values_list("user_id", flat=True))
    if not opted:
        return []
    datasets = {d.pk: d for d in Dataset.objects.filter(pk__in={c.dataset_id for c in changes}).select_related("source", "owner")}
    by_user: dict[int, dict] = {}
    for dataset_id, listeners in dataset_listeners(datasets.values()).items():
        for user, unsubscribe_url in listeners:
            if user.pk in opted:
                entry = by_user.setdefault(user.pk, {"user": user, "groups": {}})
                entry["groups"][dataset_id] = {"dataset": datasets[dataset_id], "unsubscribe_url": unsubscribe_url, "changes": [],
                                               "url": f"{settings.CANON_BASE_URL}{datasets[dataset_id].get_absolute_url()}"}
    for change in changes:
        for entry in by_user.values():
            group = entry["groups"].get(change.dataset_id)
            if group is not None:
                group["changes"].append(change)
    emails = []
    for user_id, entry in by_user.items():
        groups = sorted(entry["groups"].values(), key=lambda g: g["dataset"].qualified_name)
        subject = f"[Canon] {source.name}: column profiles jumped in {len(groups)} dataset{'s' if len(groups) != 1 else ''}"
        context = {"user": entry["user"], "groups": groups, "subject": subject, "source": source}
        emails.append(Email(key=f"profile:crawl:{crawl.pk}:user:{user_id}", kind="profile", user=entry["user"], subject=subject[:300],
                            body_text=render_to_string("quality/email/profile.txt", context),
                            body_html=render_to_string("quality/email/profile.html", context), crawl=crawl))
    return outbox_queue(emails)


@transaction.atomic
def column_sensitive_set(dataset: Dataset, column_name: str, sensitive: bool, user=None) -> bool:
    """Mark (or unmark) a column sensitive. Marking erases the values its stored profiles hold (the counts
    stay); unmarking lets the next profiles keep values again. A name matching CANON_SENSITIVE_COLUMNS stays
    sensitive whatever a person says. Returns whether the column is sensitive now."""
    if sensitive:
        SensitiveColumn.objects.get_or_create(dataset=dataset, column_name=column_name, defaults={"marked_by": user})
        ColumnProfile.objects.filter(dataset=dataset, column_name=column_name).update(
            min_value="", max_value="", most_common=[], values_hidden=True)
        ProfileChange.objects.filter(dataset=dataset, column_name=column_name, kind="range_moved").update(
            description="max is below the previous min")
    else:
        SensitiveColumn.objects.filter(dataset=dataset, column_name=column_name).delete()
    return sensitive or is_sensitive(column_name, settings.CANON_SENSITIVE_COLUMNS)


def profile_alerts_set(user, wanted: bool) -> None:
    """Whether this person hears about profile jumps in the datasets they hear about (owners, watchers)."""
    if wanted:
        ProfileAlertOptIn.objects.get_or_create(user=user)
    else:
        ProfileAlertOptIn.objects.filter(user=user).delete()


def profiles_latest(dataset: Dataset, depth: int = 6) -> dict[str, list[ColumnProfile]]:
    """Each column's latest profiles, newest first (at most `depth`): the dataset page's table and trend."""
    found: dict[str, list[ColumnProfile]] = defaultdict(list)
    for row in ColumnProfile.objects.filter(dataset=dataset).order_by("column_name", "-observed_at"):
        if len(found[row.column_name]) < depth:
            found[row.column_name].append(row)
    return dict(found)
