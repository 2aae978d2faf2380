"""Column profiles from the engines' statistics, kept per crawl, their jumps, and who hears about them.

Every write of profiles goes through here: the crawl step (profiles_observe), a person marking a column
sensitive (column_sensitive_set) or asking to hear about jumps (profile_alerts_set). A column whose name
matches CANON_SENSITIVE_COLUMNS, or that a person marked, keeps counts (null fraction, distinct count,
lengths) and never a value: none is stored, so none can be shown.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, OuterRef, Subquery
from django.template.loader import render_to_string
from django.utils import timezone

from catalog.alerts.services import Email, outbox_queue
from catalog.alerts.services.listeners import dataset_listeners
from catalog.connectors import ConnectorError
from catalog.connectors.sampling import sampler
from catalog.core.bulk import JSONText, insert_rows
from catalog.core.queue import task_send
from catalog.core.sourceurl import parse_source_url, scrub
from catalog.inventory.models import Column, Dataset
from catalog.quality.jumps import is_sensitive, jumps
from catalog.quality.models import (
    DatasetProfile, ProfileAlertOptIn, ProfileChange, SampleState, SamplingPolicy, SensitiveColumn,
)
from catalog.sources.services import source_connector

logger = logging.getLogger(__name__)

def _column_doc(stats: dict, hidden: bool) -> dict:
    """What is kept of one column's profile: values only if the column is not sensitive."""
    doc = {"basis": str(stats.get("basis", ""))[:80]}
    for key in ("null_frac", "distinct", "min_len", "max_len"):
        if stats.get(key) is not None:
            doc[key] = stats[key]
    if hidden:
        doc["hidden"] = True
        return doc
    for key in ("min", "max"):
        if stats.get(key) is not None:
            doc[key] = str(stats[key])[:1000]
    if stats.get("most_common"):
        doc["most_common"] = [[None if v is None else str(v)[:200], f] for v, f in stats["most_common"]]
    return doc


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


def profiles_previous(dataset_ids) -> dict[int, dict]:
    """Each dataset's latest profile document."""
    latest = DatasetProfile.objects.filter(dataset_id__in=list(dataset_ids)).values("dataset_id").annotate(last=Max("id")).values("last")
    return dict(DatasetProfile.objects.filter(pk__in=latest).values_list("dataset_id", "columns"))


def _store(source, crawl, stats_by_dataset: dict[int, dict[str, dict]], now: datetime) -> list[ProfileChange]:
    """Keep each dataset's profile document if it moved (one row, written in bulk), and record each column's jumps
    from the previous document."""
    dataset_ids = list(stats_by_dataset)
    previous = profiles_previous(dataset_ids)  # a first crawl has none: nothing more is read
    families = {}
    if previous:
        families = {(d, c): f for d, c, f in Column.objects.filter(dataset_id__in=list(previous))
                    .values_list("dataset_id", "name", "type_family")}
    marked = sensitive_columns(dataset_ids)
    patterns = settings.CANON_SENSITIVE_COLUMNS
    rows, changes = [], []
    for dataset_id, column_stats in stats_by_dataset.items():
        doc = {column: _column_doc(stats, (dataset_id, column) in marked or is_sensitive(column, patterns))
               for column, stats in sorted(column_stats.items())}
        before = previous.get(dataset_id)
        if before == doc:
            continue  # analyzed again, the same statistics: nothing to keep
        rows.append((dataset_id, crawl.pk if crawl else None, now, JSONText(json.dumps(doc, sort_keys=True, separators=(",", ":")))))
        for column, after in (doc.items() if before else ()):
            if column in before:
                for kind, description in jumps(before[column], after, families.get((dataset_id, column), ""),
                                               show_values=not after.get("hidden")):
                    changes.append(ProfileChange(dataset_id=dataset_id, source_id=source.pk, crawl=crawl, column_name=column,
                                                 kind=kind, description=description[:500], created_at=now))
    insert_rows(DatasetProfile, ("dataset_id", "crawl_id", "observed_at", "columns"), rows)
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
        for profile in DatasetProfile.objects.filter(dataset=dataset).select_for_update():
            kept = profile.columns.get(column_name)
            if kept is not None and not kept.get("hidden"):
                profile.columns[column_name] = {k: v for k, v in kept.items() if k not in ("min", "max", "most_common")} | {"hidden": True}
                profile.save(update_fields=["columns"])
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


_EMPTY = {"null_frac": None, "distinct": None, "min": None, "max": None, "min_len": None, "max_len": None, "most_common": [],
          "hidden": False}


def profiles_latest(dataset: Dataset, depth: int = 6) -> dict[str, list[dict]]:
    """Each column's latest profiles, newest first (at most `depth` documents back): the dataset page's table and
    trend. Each profile is its column's document with "observed_at" added."""
    found: dict[str, list[dict]] = defaultdict(list)
    for observed_at, columns in DatasetProfile.objects.filter(dataset=dataset).order_by("-observed_at", "-id").values_list(
            "observed_at", "columns")[:depth]:
        for name, doc in columns.items():
            found[name].append({**_EMPTY, **doc, "observed_at": observed_at})
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
    found = sampler(source.engine)
    if found is None:
        summary = f"Sampled profiles: {source.engine or 'this'} sources cannot be sampled."
        SamplingPolicy.objects.filter(pk=policy.pk).update(last_run_at=now, last_summary=summary)
        return summary
    # Datasets whose latest profile came from the engine's statistics are not sampled.
    profiled = [dataset_id for dataset_id, doc in profiles_previous(
        Dataset.objects.present().filter(source=source, kind__in=SAMPLED_KINDS).values_list("pk", flat=True)).items()
        if any(not str(c.get("basis", "")).startswith("sample") for c in doc.values())]
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
    sample_profiles, unit = found
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
                   f"({policy.percent:g}% of {unit}, {policy.budget_seconds:g} s budget)"
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
