"""Column profiles from the engines' statistics, kept per crawl, their jumps, and who hears about them.

Every write of profiles goes through here: the crawl step (profiles_observe), a person marking a column
sensitive (column_sensitive_set) or asking to hear about jumps (profile_alerts_set). A column whose name
matches CANON_SENSITIVE_COLUMNS, or that a person marked, keeps counts (null fraction, distinct count,
lengths) and never a value: none is stored, so none can be shown.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.template.loader import render_to_string
from django.utils import timezone

from catalog.alerts.services import Email, outbox_queue
from catalog.alerts.services.listeners import dataset_listeners
from catalog.connectors import ConnectorError
from catalog.connectors.postgres import sample_profiles
from catalog.core.queue import task_send
from catalog.core.sourceurl import parse_source_url, scrub
from catalog.inventory.models import Column, Dataset
from catalog.quality.jumps import is_sensitive, jumps
from catalog.quality.models import (
    ColumnProfile, ProfileAlertOptIn, ProfileChange, SampleState, SamplingPolicy, SensitiveColumn,
)
from catalog.sources.services import source_connector

logger = logging.getLogger(__name__)

_COMPARED = ("basis", "null_frac", "distinct", "min_value", "max_value", "min_len", "max_len", "most_common", "values_hidden")


def _row_of(dataset_id: int, column: str, stats: dict, hidden: bool, crawl, now) -> ColumnProfile:
    def text(value):
        return "" if hidden or value is None else str(value)[:1000]
    distinct = stats.get("distinct")
    return ColumnProfile(
        dataset_id=dataset_id, column_name=column, crawl=crawl, observed_at=now, basis=str(stats.get("basis", ""))[:80],
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
    stats = {ids[(m.schema, m.name)]: m.column_stats for m in read if (m.schema, m.name) in ids}
    return _queue(source, crawl, _store(source, crawl, stats, now), key=f"crawl:{crawl.pk}")


def _store(source, crawl, stats_by_dataset: dict[int, dict[str, dict]], now: datetime) -> list[ProfileChange]:
    """Keep each column's profile that moved, and record the jumps from its previous one."""
    dataset_ids = list(stats_by_dataset)
    previous: dict[tuple[int, str], ColumnProfile] = {}
    for row in ColumnProfile.objects.filter(dataset_id__in=dataset_ids).order_by("dataset_id", "column_name", "-observed_at"):
        previous.setdefault((row.dataset_id, row.column_name), row)
    families = {(d, c): f for d, c, f in Column.objects.filter(dataset_id__in=dataset_ids).values_list("dataset_id", "name", "type_family")}
    marked = sensitive_columns(dataset_ids)
    patterns = settings.CANON_SENSITIVE_COLUMNS
    rows, changes = [], []
    for dataset_id, column_stats in stats_by_dataset.items():
        for column, stats in sorted(column_stats.items()):
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
    return changes


def _queue(source, crawl, changes: list[ProfileChange], *, key: str) -> list:
    """One message per person who hears about these datasets and asked for profile jumps; `key` names the run."""
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
        emails.append(Email(key=f"profile:{key}:user:{user_id}", kind="profile", user=entry["user"], subject=subject[:300],
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


SAMPLED_KINDS = ("table", "materialized_view", "partitioned_table")
SAMPLE_TASK = "canon.profile_sample"


def sampling_set(source, *, enabled: bool, budget_seconds: float = 30.0, percent: float = 1.0) -> SamplingPolicy:
    """Turn a source's sampled profiles on or off. The budget is 1 s to 10 minutes a crawl, the sample 0.01% to 100%."""
    if not 1 <= float(budget_seconds) <= 600:
        raise ValueError("The time budget is between 1 and 600 seconds a crawl.")
    if not 0.01 <= float(percent) <= 100:
        raise ValueError("The sample is between 0.01% and 100% of the table's blocks.")
    policy, _ = SamplingPolicy.objects.update_or_create(
        source=source, defaults={"enabled": enabled, "budget_seconds": float(budget_seconds), "percent": float(percent)})
    return policy


def sampling_wanted(source) -> bool:
    return SamplingPolicy.objects.filter(source=source, enabled=True).exists()


def profiles_sample(source, *, connector=None, now: datetime | None = None) -> str:
    """One sampled-profile run for a source that asked for it: its present tables without engine statistics, the
    least recently sampled first, until the budget is spent. Network I/O outside any transaction; then the
    profiles, jumps, warnings and the run's summary in one. Returns the summary ("" when not asked for)."""
    policy = SamplingPolicy.objects.filter(source=source, enabled=True).first()
    if policy is None:
        return ""
    now = now or timezone.now()
    if (source.engine or "").lower() not in ("postgresql", "postgres"):
        summary = "Sampled profiles: only PostgreSQL sources can be sampled yet."
        SamplingPolicy.objects.filter(pk=policy.pk).update(last_run_at=now, last_summary=summary)
        return summary
    profiled = ColumnProfile.objects.filter(dataset__source=source).exclude(basis__startswith="sample").values("dataset_id")
    last = Subquery(SampleState.objects.filter(dataset=OuterRef("pk")).values("sampled_at")[:1])
    candidates = list(Dataset.objects.present().filter(source=source, kind__in=SAMPLED_KINDS).exclude(pk__in=profiled)
                      .annotate(last_sampled=last).order_by(F("last_sampled").asc(nulls_first=True), "pk")
                      .only("pk", "schema_name", "name"))
    columns: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for dataset_id, name, family in (Column.objects.filter(dataset_id__in=[d.pk for d in candidates])
                                     .order_by("dataset_id", "position").values_list("dataset_id", "name", "type_family")):
        columns[dataset_id].append((name, family))
    by_name = {(d.schema_name, d.name): d.pk for d in candidates}
    tables = [(d.schema_name, d.name, columns.get(d.pk, [])) for d in candidates]
    try:
        connector = connector or source_connector(parse_source_url(source.url), source.options)
        profiles, problems, complete = sample_profiles(connector, tables, percent=policy.percent, budget_s=policy.budget_seconds)
    except ConnectorError as exc:
        summary = f"Sampled profiles could not run: {exc}"[:300]
        SamplingPolicy.objects.filter(pk=policy.pk).update(last_run_at=now, last_summary=summary)
        return summary
    with transaction.atomic():
        changes = _store(source, None, {by_name[key]: stats for key, stats in profiles.items()}, now)
        for key in [*profiles, *problems]:
            SampleState.objects.update_or_create(dataset_id=by_name[key], defaults={
                "sampled_at": now, "warning": problems.get(key, "")[:500]})
        left = len(tables) - len(profiles) - len(problems)
        summary = (f"Sampled {len(profiles)} of {len(tables)} tables without engine statistics "
                   f"({policy.percent:g}% of blocks, {policy.budget_seconds:g} s budget)"
                   + (f"; {len(problems)} refused or timed out" if problems else "")
                   + ("." if complete or not left else f"; out of budget: the other {left} are sampled next crawl."))
        SamplingPolicy.objects.filter(pk=policy.pk).update(last_run_at=now, last_summary=summary[:300])
        messages = _queue(source, None, changes, key=f"sample:{source.pk}:{int(now.timestamp())}")
        if messages:
            transaction.on_commit(_flush_soon)
    return summary


def _flush_soon() -> None:
    try:
        task_send("canon.outbox_flush")
    except Exception as exc:  # the periodic flush sends later
        logger.warning("could not enqueue the outbox flush (%s); the periodic flush will send", scrub(str(exc)))


def sample_soon(source_id: int) -> None:
    """After a crawl commits: a worker samples what the engine keeps no statistics of (queue crawl)."""
    try:
        task_send(SAMPLE_TASK, args=[source_id])
    except Exception as exc:
        logger.warning("could not enqueue the sampled profiles (%s); the next crawl asks again", scrub(str(exc)))
