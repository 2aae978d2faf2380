"""Freshness: what each crawl's engine said about when data changed, cadences, and stale or fresh again.

Every write of the quality app goes through here: the crawl step (freshness_observe, then
freshness_check for the source), a person setting a cadence (freshness_cadence_set), and the beat task
(freshness_check over everything). The emails (went stale, fresh again) are queued in the outbox by
alerts' outbox_queue, keyed by dataset and stale episode, after a conditional update: exactly once each.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from catalog.alerts.impact import impacts_for
from catalog.alerts.services import Email, outbox_queue
from catalog.alerts.services.listeners import dataset_listeners
from catalog.core.bulk import insert_rows
from catalog.inventory.models import Dataset
from catalog.quality import cadence as cadences
from catalog.quality.models import DataChange, Freshness

logger = logging.getLogger(__name__)

# Why freshness cannot be known, when the engine keeps no time of change per table.
ENGINE_UNKNOWN = {
    "sqlite": "SQLite keeps no time of last change per table (only the whole file's, which any table's write moves).",
    "duckdb": "DuckDB keeps no time of last change per table.",
}
KIND_UNKNOWN = {
    "view": "A view holds no data of its own: see the tables it reads.",
    "foreign_table": "A foreign table's data lives in another server, which does not say when it changed.",
}
NOT_SAID = "The source did not say when this data last changed."
NO_COUNTERS = "The server keeps no write counters for this table (track_counts off, or none yet)."
_FRESHNESS_FIELDS = ["last_changed_at", "changed_after", "how", "inserted", "updated", "deleted", "analyzed_at",
                     "vacuumed_at", "unknown_reason", "learned_every_s", "learned_around", "deadline"]


def _unknown_reason(engine: str, meta) -> str:
    if meta.kind in KIND_UNKNOWN:
        return KIND_UNKNOWN[meta.kind]
    if engine in ENGINE_UNKNOWN:
        return ENGINE_UNKNOWN[engine]
    return NO_COUNTERS if engine in ("postgresql", "postgres", "redshift") else NOT_SAID


def _aware(moment):
    if moment is None or timezone.is_aware(moment):
        return moment
    return timezone.make_aware(moment, timezone.utc)


def freshness_cadence(freshness: Freshness) -> cadences.Cadence | None:
    """The cadence in force: a person's words first, else the learned one, else none."""
    if freshness.cadence_text:
        try:
            return cadences.parse(freshness.cadence_text)
        except cadences.CadenceError:
            return None
    if freshness.learned_every_s:
        return cadences.interval(timedelta(seconds=freshness.learned_every_s), around=freshness.learned_around)
    return None


def _relearn(rows: list[Freshness]) -> None:
    """Learn each one's cadence again from its latest changes (only worth it when a change was just recorded)."""
    times: dict[int, list[datetime]] = defaultdict(list)
    ids = [f.dataset_id for f in rows]
    for dataset_id, changed_at in (DataChange.objects.filter(dataset_id__in=ids).order_by("dataset_id", "-changed_at")
                                   .values_list("dataset_id", "changed_at")):
        if len(times[dataset_id]) < cadences.LEARN_FROM:
            times[dataset_id].append(changed_at)
    for f in rows:
        learned = cadences.learn(times.get(f.dataset_id, []))
        f.learned_every_s = int(learned.every.total_seconds()) if learned else None
        f.learned_around = learned.around if learned else None


def _set_deadline(f: Freshness) -> None:
    cadence = freshness_cadence(f)
    f.deadline = cadence.deadline(f.last_changed_at) if cadence else None


def freshness_observe(source, crawl, extraction, now: datetime, previous_crawl_at: datetime | None) -> int:
    """Record what the engine said of each dataset's last change; returns how many changes were recorded.

    A change is the engine's time of last change moving (MySQL, Snowflake, BigQuery, a lake's files), or a
    table's write counters moving between two crawls (PostgreSQL: the change happened after the crawl
    before, `previous_crawl_at`, and by this one). Counters that went down were reset (a statistics reset,
    a crash): the new values are the baseline, no change is claimed. An unchanged recrawl writes nothing.
    """
    # What is kept, as plain tuples, with the dataset's name: most of a recrawl's datasets did not move, and are
    # compared only. One query; the datasets watched for the first time are looked up after, usually none.
    ids, kept = {}, {}
    for pk, schema, name, *row in Freshness.objects.filter(source=source, dataset__removed_at__isnull=True).values_list(
            "dataset_id", "dataset__schema_name", "dataset__name", "inserted", "updated", "deleted", "analyzed_at",
            "vacuumed_at", "unknown_reason", "last_changed_at"):
        ids[(schema, name)], kept[pk] = pk, tuple(row)
    if any((meta.schema, meta.name) not in ids for meta in extraction.datasets):
        ids.update({(schema, name): pk for pk, schema, name in Dataset.objects.filter(
            source=source, removed_at__isnull=True, freshness__isnull=True).values_list("pk", "schema_name", "name")})
    engine = (source.engine or "").lower()
    new_rows, moved, data_changes = [], {}, []
    for meta in extraction.datasets:
        dataset_id = ids.get((meta.schema, meta.name))
        if dataset_id is None:
            continue
        activity, modified = meta.activity, _aware(meta.last_modified)
        reason = "" if activity or modified else _unknown_reason(engine, meta)
        counts = (activity["inserted"], activity["updated"], activity["deleted"], activity["analyzed_at"],
                  activity["vacuumed_at"]) if activity else (None,) * 5
        before = kept.get(dataset_id)
        if before is None:
            new_rows.append((dataset_id, source.pk, modified, Freshness.ENGINE if modified else "", *counts, now, reason))
            if modified is not None:
                data_changes.append((dataset_id, crawl.pk, modified, None, Freshness.ENGINE, ""))
            continue
        engine_moved = modified is not None and (before[6] is None or modified > before[6])
        if engine_moved or before[5] != reason or (activity and before[:5] != counts):
            moved[dataset_id] = (activity, modified, reason)
    changed_rows, updated = [], []
    for f in Freshness.objects.filter(dataset_id__in=list(moved)) if moved else ():
        activity, modified, reason = moved[f.dataset_id]
        changed = False
        if modified is not None and (f.last_changed_at is None or modified > f.last_changed_at):
            f.last_changed_at, f.changed_after, f.how, changed = modified, None, Freshness.ENGINE, True
            data_changes.append((f.dataset_id, crawl.pk, modified, None, Freshness.ENGINE, ""))
        if activity:
            counts = (activity["inserted"], activity["updated"], activity["deleted"])
            known = (f.inserted, f.updated, f.deleted)
            if None not in known and counts != known and all(a >= b for a, b in zip(counts, known)) and modified is None:
                what = [f"{a - b:+,} {label}" for a, b, label in zip(counts, known, ("inserted", "updated", "deleted")) if a != b]
                after = previous_crawl_at or f.watching_since
                f.last_changed_at, f.changed_after, f.how, changed = now, after, Freshness.COUNTERS, True
                data_changes.append((f.dataset_id, crawl.pk, now, after, Freshness.COUNTERS, ", ".join(what)))
            f.inserted, f.updated, f.deleted = counts
            f.analyzed_at, f.vacuumed_at = activity["analyzed_at"], activity["vacuumed_at"]
        f.unknown_reason = reason
        (changed_rows if changed else updated).append(f)
    # New rows have no cadence yet (none set, and one change teaches nothing): no deadline. Written with COPY.
    insert_rows(Freshness, ("dataset_id", "source_id", "last_changed_at", "how", "inserted", "updated", "deleted", "analyzed_at",
                            "vacuumed_at", "watching_since", "unknown_reason"), new_rows)
    insert_rows(DataChange, ("dataset_id", "crawl_id", "changed_at", "changed_after", "how", "detail"), data_changes)
    if changed_rows:
        _relearn(changed_rows)
    for f in changed_rows:
        _set_deadline(f)
    Freshness.objects.bulk_update(changed_rows + updated, _FRESHNESS_FIELDS, batch_size=1000)
    return len(data_changes)


class CadenceRefused(ValueError):
    pass


@transaction.atomic
def freshness_cadence_set(dataset: Dataset, text: str, user=None) -> Freshness:
    """A person's cadence for a dataset ("hourly", "by 07:00 UTC on weekdays"); empty text: learn it again.
    Raises CadenceRefused with what would be understood. The dataset is checked at once (stale or not)."""
    text = " ".join(str(text or "").split())
    if text:
        try:
            cadences.parse(text)
        except cadences.CadenceError as exc:
            raise CadenceRefused(str(exc)) from None
    f, _ = Freshness.objects.select_for_update().get_or_create(
        dataset=dataset, defaults={"source_id": dataset.source_id, "watching_since": timezone.now()})
    f.cadence_text, f.cadence_set_by = text[:100], user if text else None
    _set_deadline(f)
    f.save(update_fields=["cadence_text", "cadence_set_by", "deadline"])
    freshness_check(dataset_ids=[dataset.pk])
    f.refresh_from_db()
    return f


def _render(kind: str, context: dict) -> tuple[str, str]:
    return render_to_string(f"quality/email/{kind}.txt", context), render_to_string(f"quality/email/{kind}.html", context)


def _queue(kind: str, rows: list[Freshness], now: datetime) -> list:
    """One message per listener of each dataset, keyed by the stale episode: queued once, whoever asks twice."""
    if not rows:
        return []
    datasets = {d.pk: d for d in Dataset.objects.filter(pk__in=[f.dataset_id for f in rows]).select_related("source", "owner")}
    listeners = dataset_listeners(datasets.values())
    readers = impacts_for(list(datasets))
    emails = []
    for f in rows:
        dataset = datasets[f.dataset_id]
        cadence = freshness_cadence(f)
        for user, unsubscribe_url in listeners.get(f.dataset_id, []):
            subject = (f"[Canon] {dataset.source.name}: {dataset.qualified_name} is stale" if kind == "stale"
                       else f"[Canon] {dataset.source.name}: {dataset.qualified_name} is fresh again")
            context = {"user": user, "dataset": dataset, "freshness": f, "cadence": cadence.describe() if cadence else "",
                       "late": now - f.stale_since if kind == "stale" and f.stale_since else None,
                       "readers": readers.get(f.dataset_id, []), "subject": subject, "unsubscribe_url": unsubscribe_url,
                       "url": f"{settings.CANON_BASE_URL}{dataset.get_absolute_url()}"}
            text, html = _render(kind, context)
            emails.append(Email(key=f"{kind}:{f.dataset_id}:{f.stale_episode}:user:{user.pk}", kind=kind, user=user,
                                subject=subject[:300], body_text=text, body_html=html))
    return outbox_queue(emails)


def freshness_check(now: datetime | None = None, *, source=None, dataset_ids=None) -> list:
    """Mark datasets past their deadline stale and those no longer past it fresh again, each transition once
    (a conditional update), with one email per listener each way. Returns the messages queued; the caller
    flushes the outbox after commit. Removed datasets are left as they are."""
    now = now or timezone.now()
    rows = Freshness.objects.filter(dataset__removed_at__isnull=True)
    if source is not None:
        rows = rows.filter(source=source)
    if dataset_ids is not None:
        rows = rows.filter(dataset_id__in=list(dataset_ids))
    going = list(rows.filter(stale_since__isnull=True, deadline__lte=now))
    back = list(rows.filter(stale_since__isnull=False).filter(Q(deadline__isnull=True) | Q(deadline__gt=now)))
    went_stale, recovered = [], []
    with transaction.atomic():
        for f in going:
            if Freshness.objects.filter(pk=f.pk, stale_since__isnull=True, deadline__lte=now).update(
                    stale_since=F("deadline"), stale_episode=F("stale_episode") + 1):
                f.refresh_from_db()
                went_stale.append(f)
        for f in back:
            if Freshness.objects.filter(pk=f.pk, stale_since__isnull=False, stale_episode=f.stale_episode).update(stale_since=None):
                f.stale_since = None
                recovered.append(f)
        messages = _queue("stale", went_stale, now) + _queue("fresh", recovered, now)
    if went_stale or recovered:
        logger.info("freshness: %s went stale, %s fresh again", len(went_stale), len(recovered))
    return messages
