"""Every write of the duplicates app: signatures, groups, decisions, and the email about a new copy.

A crawl calls duplicates_refresh with what it added, changed and removed: those datasets get their signature
made again, their candidates are looked up in the stored buckets (never every dataset), and the groups any
of them is in are detected again (catalog/duplicates/detect.py); every other group stays as it is.
duplicates_detect_all makes every signature and group again (after installing, or from `manage.py
duplicates_detect`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

import sqlglot
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify import qualify

from catalog.alerts.services.owners import owners_tell
from catalog.core.bulk import insert_rows
from catalog.core.queue import task_send
from catalog.core.sourceurl import scrub
from catalog.core.sqlnames import dialect_for
from catalog.duplicates import detect
from catalog.duplicates.models import Decision, DuplicateGroup, DuplicateMember, Signature, SignatureBand
from catalog.inventory.models import Column, Dataset
from catalog.lineage.models import LineageEdge
from catalog.metrics.sqlcompare import sql_fingerprint
from catalog.search.index import search_index_datasets
from catalog.sources.models import Crawl

logger = logging.getLogger(__name__)

BATCH = 2000
SIGNATURE_FIELDS = ["dataset_id", "columns", "set_key", "checksum", "sql", "upstream_id", "computed_at"]
MAX_SQL_CHARS = 20_000  # a longer view definition is not fingerprinted (parsing it costs more than it tells)


class DecisionError(ValueError):
    """A decision that cannot be recorded; the message is for the person who made it."""


@dataclass
class Refresh:
    groups: list[DuplicateGroup] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reindexed: int = 0


# ---------------------------------------------------------------- signatures


def view_sql_fingerprint(definition: str, engine: str) -> str:
    """The fingerprint metric definitions use (formatting, comments, case, alias names, mirrored comparisons and the
    order of conditions left out) of a view's SQL; "" when it has none or it cannot be read."""
    text = (definition or "").strip().rstrip(";")
    if not text or len(text) > MAX_SQL_CHARS:
        return ""
    dialect = dialect_for(engine)
    try:
        tree = sqlglot.parse_one(text, read=dialect)
    except (SqlglotError, RecursionError, ValueError):
        return ""
    if isinstance(tree, exp.Create):
        tree = tree.expression
    if not isinstance(tree, exp.Query):
        return ""
    try:  # columns tied to their tables where the query says which (one table in scope), as the metrics' fingerprint is
        tree = qualify(tree, dialect=dialect, validate_qualify_columns=False, allow_partial_qualification=True,
                       quote_identifiers=False, identify=False)
    except (SqlglotError, RecursionError, ValueError, KeyError, AttributeError, TypeError):
        pass
    return sql_fingerprint(tree, dialect or "")[0]


def _label(source_name: str, schema: str, name: str) -> str:
    return f"{source_name}: {schema}.{name}"


def signatures_make(dataset_ids) -> int:
    """Make and store the signatures (and LSH buckets) of these datasets; removed or missing ones lose theirs."""
    ids = sorted(set(dataset_ids))
    made = 0
    now = timezone.now()
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        datasets = list(Dataset.objects.filter(pk__in=batch, removed_at__isnull=True).values(
            "id", "kind", "definition", "properties", "source__engine"))
        columns: dict[int, set[tuple[str, str]]] = defaultdict(set)
        reads: dict[int, set] = defaultdict(set)
        for downstream, upstream, name in LineageEdge.objects.filter(downstream_id__in=batch).values_list(
                "downstream_id", "upstream_id", "upstream_name"):
            reads[downstream].add((upstream, name))
        rows, bands = [], []
        for dataset_id, name, family in Column.objects.filter(dataset_id__in=batch).values_list("dataset_id", "name", "type_family"):
            columns[dataset_id].add((name, family))
        for d in datasets:
            properties = d["properties"] if isinstance(d["properties"], dict) else {}
            # A folder's partition keys are its layout (dt=2024-03-01/), not columns of the data it copies.
            layout = {p.get("key") for p in properties.get("partition_keys") or [] if isinstance(p, dict)}
            cols = frozenset(detect.column_token(name, family)
                             for name, family in columns.get(d["id"], ()) if name not in layout)
            read = reads.get(d["id"], set())
            upstream = next(iter(read))[0] if len(read) == 1 else None
            checksum = str(properties.get("content_digest") or "")[:128]
            sql = view_sql_fingerprint(d["definition"], d["source__engine"]) if d["definition"] else ""
            rows.append(Signature(dataset_id=d["id"], columns="\n".join(sorted(cols)),
                                  set_key=detect.set_key(cols) if len(cols) >= detect.MIN_COLUMNS else None,
                                  checksum=checksum, sql=sql, upstream_id=upstream, computed_at=now))
            kept = detect.informative(cols)
            if len(cols) >= detect.MIN_COLUMNS and len(kept) >= 2:
                bands.append((d["id"], kept))
        Signature.objects.filter(dataset_id__in=batch).delete()
        SignatureBand.objects.filter(dataset_id__in=batch).delete()
        insert_rows(Signature, SIGNATURE_FIELDS, (tuple(getattr(r, f) for f in SIGNATURE_FIELDS) for r in rows))
        if bands:
            keys = detect.band_keys([kept for _, kept in bands]).tolist()
            insert_rows(SignatureBand, ["dataset_id", "key"],
                        ((dataset_id, key) for (dataset_id, _), row in zip(bands, keys) for key in row))
        made += len(rows)
    return made


def _signatures_of(ids) -> dict[int, detect.Signature]:
    """The stored signatures of these present datasets, as detection reads them."""
    found: dict[int, detect.Signature] = {}
    ids = list(ids)
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        for row in Signature.objects.filter(dataset_id__in=batch, dataset__removed_at__isnull=True).values(
                "dataset_id", "columns", "checksum", "sql", "upstream_id", "dataset__name", "dataset__schema_name",
                "dataset__source__name", "dataset__row_estimate", "dataset__size_bytes", "dataset__first_seen_at"):
            found[row["dataset_id"]] = detect.Signature(
                row["dataset_id"], row["dataset__name"], frozenset(t for t in row["columns"].split("\n") if t),
                row["dataset__row_estimate"], row["dataset__size_bytes"], row["checksum"], row["sql"], row["upstream_id"],
                row["dataset__first_seen_at"].timestamp(),
                _label(row["dataset__source__name"], row["dataset__schema_name"], row["dataset__name"]))
    return found


def _candidates(ids: list[int]) -> set[int]:
    """Datasets that could be like these: sharing an LSH bucket, the same column set, checksum or SQL (a bucket or value
    shared by more than BUCKET_CAP datasets gives its first BUCKET_CAP: thousands of identical tables are one group, and
    it is capped), reading only one of them, or read only by one of them. Counted before they are read, so a crowded
    bucket costs one row, not thousands."""
    found: set[int] = set()
    cap = detect.BUCKET_CAP
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        keys = list(SignatureBand.objects.filter(dataset_id__in=batch).values_list("key", flat=True).distinct())
        for key_start in range(0, len(keys), 5000):
            some = keys[key_start:key_start + 5000]
            sizes = dict(SignatureBand.objects.filter(key__in=some).order_by().values_list("key").annotate(n=Count("id")))
            quiet = [key for key, n in sizes.items() if 1 < n <= cap]  # a crowded bucket tells nothing
            if quiet:
                found.update(SignatureBand.objects.filter(key__in=quiet).values_list("dataset_id", flat=True))
        mine = Signature.objects.filter(dataset_id__in=batch)
        for attribute in ("set_key", "checksum", "sql"):
            values = [v for v in mine.values_list(attribute, flat=True).distinct() if v not in (None, "")]
            for value_start in range(0, len(values), 5000):
                some = values[value_start:value_start + 5000]
                sizes = dict(Signature.objects.filter(**{f"{attribute}__in": some}).order_by().values_list(attribute).annotate(
                    n=Count("dataset_id")))
                quiet = [value for value, n in sizes.items() if 1 < n <= cap]
                if quiet:
                    found.update(Signature.objects.filter(**{f"{attribute}__in": quiet}).values_list("dataset_id", flat=True))
                for value in [value for value, n in sizes.items() if n > cap]:  # identical tables: the first stand for all
                    found.update(Signature.objects.filter(**{attribute: value}).order_by("dataset_id").values_list(
                        "dataset_id", flat=True)[:cap])
        found.update(v for v in mine.exclude(upstream_id=None).values_list("upstream_id", flat=True))
        found.update(Signature.objects.filter(upstream_id__in=batch).values_list("dataset_id", flat=True)[:cap])
    return found


def _decisions_among(ids) -> dict[tuple[int, int], tuple[str, int | None]]:
    ids = list(ids)
    decisions = {}
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        for a, b, verdict, original in Decision.objects.filter(Q(dataset_a_id__in=batch) | Q(dataset_b_id__in=batch)).values_list(
                "dataset_a_id", "dataset_b_id", "verdict", "original_id"):
            decisions[(a, b)] = (verdict, original)
    return decisions


def _batches(ids):
    ids = sorted(ids)
    for start in range(0, len(ids), BATCH):
        yield ids[start:start + BATCH]


def _copy_state(ids=None) -> dict[int, int]:
    """{dataset id: its group's original} for the copies among these (None: every copy): what search labels and ranks
    down."""
    members = DuplicateMember.objects.values_list("dataset_id", "group__original_id")
    if ids is None:
        return dict(members)
    return {d: o for batch in _batches(ids) for d, o in members.filter(dataset_id__in=batch)}


def _groups_touching(ids) -> set[int]:
    """Groups any of these datasets is in, as original or copy."""
    found: set[int] = set()
    for batch in _batches(ids):
        found.update(DuplicateGroup.objects.filter(original_id__in=batch).values_list("pk", flat=True))
        found.update(DuplicateMember.objects.filter(dataset_id__in=batch).values_list("group_id", flat=True))
    return found


def _store(old_group_ids: set[int] | None, detection: detect.Detection, now) -> list[DuplicateGroup]:
    """Replace these groups (None: every group) with the groups detected. When each was first found is kept."""
    old = DuplicateGroup.objects.all()
    found_at: dict[int, object] = {}
    member_found: dict[int, object] = {}
    for batch in ([None] if old_group_ids is None else _batches(old_group_ids)):
        groups = old if batch is None else old.filter(pk__in=batch)
        found_at.update(groups.values_list("original_id", "found_at"))
        member_found.update(DuplicateMember.objects.filter(group__in=groups.values("pk")).values_list("dataset_id", "found_at"))
        groups.delete()
    # A dataset now in a new group may still be in a group left out of the context (capped out of it before).
    members_now = {m.dataset_id for g in detection.groups for m in g.members}
    for batch in _batches(members_now):
        DuplicateMember.objects.filter(dataset_id__in=batch).delete()
        DuplicateGroup.objects.filter(original_id__in=batch).delete()
    stored = []
    for group in detection.groups:
        row = DuplicateGroup.objects.create(
            original_id=group.original, kind=group.kind, score=group.score, certain=group.certain, size=group.size,
            warning=group.warning, found_at=found_at.get(group.original, now), updated_at=now)
        DuplicateMember.objects.bulk_create([
            DuplicateMember(group=row, dataset_id=m.dataset_id, like_id=m.like, score=m.score, certain=m.certain,
                            summary=m.summary, evidence=m.evidence, found_at=member_found.get(m.dataset_id, now))
            for m in group.copies])
        row.detected = group
        stored.append(row)
    return stored


def duplicates_refresh(changed_ids=(), removed_ids=(), *, indexed_after=()) -> Refresh:
    """The incremental pass: signatures of the changed datasets made again, the removed ones' dropped, and the groups
    around them detected again. Search documents of datasets that became or stopped being copies are made again, but
    for `indexed_after`: those the caller has search index anyway (the crawl's search step, which runs after this)."""
    changed_ids, removed_ids = sorted(set(changed_ids)), sorted(set(removed_ids))
    if not changed_ids and not removed_ids:
        return Refresh()
    now = timezone.now()
    signatures_make(changed_ids + removed_ids)
    context = set(changed_ids) | _candidates(changed_ids) | set(removed_ids)
    touched = _groups_touching(context)
    for batch in _batches(touched):  # every member of those groups is detected again with them
        context.update(DuplicateGroup.objects.filter(pk__in=batch).values_list("original_id", flat=True))
        context.update(DuplicateMember.objects.filter(group_id__in=batch).values_list("dataset_id", flat=True))
    before = _copy_state(context)
    signatures = _signatures_of(context)
    detection = detect.detect(signatures.values(), decisions=_decisions_among(context), max_group=settings.CANON_DUPLICATES_MAX_GROUP)
    groups = _store(touched, detection, now)
    after = _copy_state(context)
    for warning in detection.warnings:
        logger.warning("duplicates: %s", warning)
    refresh = Refresh(groups, detection.warnings)
    moved = {i for i in set(before) | set(after) if before.get(i) != after.get(i)} - set(removed_ids) - set(indexed_after)
    refresh.reindexed = search_index_datasets(moved) if moved else 0
    return refresh


def duplicates_detect_all() -> Refresh:
    """The full pass: every present dataset's signature and every group made again."""
    now = timezone.now()
    ids = list(Dataset.objects.filter(removed_at__isnull=True).order_by("pk").values_list("pk", flat=True))
    with transaction.atomic():
        gone = list(Signature.objects.filter(dataset__removed_at__isnull=False).values_list("dataset_id", flat=True))
        signatures_make(ids + gone)
        before = _copy_state()
        signatures = _signatures_of(ids)
        detection = detect.detect(signatures.values(), decisions=_decisions_among(ids), max_group=settings.CANON_DUPLICATES_MAX_GROUP)
        groups = _store(None, detection, now)
        after = _copy_state()
        moved = {i for i in set(before) | set(after) if before.get(i) != after.get(i)}
        reindexed = search_index_datasets(moved) if moved else 0
    return Refresh(groups, detection.warnings, reindexed)


# ---------------------------------------------------------------- telling the owners


def duplicates_announce(groups: list[DuplicateGroup], *, new_ids, crawl=None) -> list:
    """One email to the owners of both datasets, for each copy where one of the two is new (`new_ids`, what a crawl
    added) and the other is not: a new dataset or view that duplicates an existing one. Keyed by the pair, so it
    goes once, whatever crawl finds the pair again."""
    new_ids = set(new_ids)
    if not new_ids or not groups:  # a crawl that only changed datasets announces nothing
        return []
    pairs = []
    for group in groups:
        for member in group.members.select_related("dataset__source", "like__source").all():
            other_id = member.like_id or group.original_id
            if (member.dataset_id in new_ids) != (other_id in new_ids):
                pairs.append(member)
    if not pairs:
        return []
    datasets = Dataset.objects.select_related("source", "owner__user").in_bulk(
        {m.dataset_id for m in pairs} | {m.like_id or m.group.original_id for m in pairs})
    base = settings.CANON_BASE_URL
    messages = []
    for member in pairs:
        copy = datasets[member.dataset_id]
        original = datasets[member.like_id or member.group.original_id]
        new, existing = (copy, original) if copy.pk in new_ids else (original, copy)
        first, second = sorted((copy.pk, original.pk))
        body = "\n".join([
            f"The crawl of {new.source.name} found {new.kind.replace('_', ' ')} {new.qualified_name}, which looks like "
            f"{existing.qualified_name} in {existing.source.name}.",
            "",
            f"Copy: {copy.source.name}: {copy.qualified_name}",
            f"Original: {original.source.name}: {original.qualified_name}",
            f"Likeness: {member.summary}",
            "Evidence:",
            *[f"  - {line}" for line in member.evidence],
            "",
            f"Decide (a copy, not a duplicate, or keep both): {base}{copy.get_absolute_url()}#duplicates",
            f"Every copy and what it costs: {base}/duplicates/",
        ])
        messages.extend(owners_tell(
            [copy, original], key=f"duplicate:{first}-{second}", kind="duplicate", crawl=crawl,
            subject=f"{new.qualified_name} looks like a copy of {existing.qualified_name}" if new is copy
            else f"{existing.qualified_name} looks like a copy of the new {new.qualified_name}",
            body_text=body))
    return messages


# ---------------------------------------------------------------- after a crawl

OUTBOX_FLUSH_TASK = "canon.outbox_flush"


def duplicates_after_crawl(changed_ids, removed_ids, added_ids, *, crawl=None, indexed_after=()) -> list:
    """The crawl step's work: the incremental pass over what the crawl touched, then the emails about new copies.
    Returns the messages queued. `indexed_after`: datasets the crawl's search step indexes after this one."""
    refresh = duplicates_refresh(changed_ids, removed_ids, indexed_after=indexed_after)
    return duplicates_announce(refresh.groups, new_ids=added_ids, crawl=crawl)


def duplicates_after_crawl_task(changed_ids, removed_ids, added_ids, crawl_id: int | None) -> int:
    """The same, in its own transaction, for a crawl too big to do it in its own; then asks a worker to send."""
    with transaction.atomic():
        crawl = Crawl.objects.filter(pk=crawl_id).first() if crawl_id else None
        messages = duplicates_after_crawl(changed_ids, removed_ids, added_ids, crawl=crawl)
    if messages:
        try:
            task_send(OUTBOX_FLUSH_TASK)
        except Exception as exc:
            logger.warning("could not enqueue the outbox flush (%s); the periodic flush will send", scrub(str(exc)))
    return len(messages)


# ---------------------------------------------------------------- decisions


def duplicate_decide(dataset, other, *, verdict: str, user, reason: str = "", original=None) -> Decision:
    """Record what a person said about two datasets (the latest decision on a pair replaces the one before) and detect
    the groups around them again: 'not' (they never pair again), 'copy' (one is a copy of `original`, the other one
    of the two by default), 'keep' (both stay, for `reason`, which is required)."""
    if verdict not in dict(Decision.VERDICT_CHOICES):
        raise DecisionError("Choose: is a copy, not a duplicate, or keep both.")
    if dataset.pk == other.pk:
        raise DecisionError("A dataset is not a copy of itself.")
    reason = (reason or "").strip()
    if verdict == Decision.KEEP and not reason:
        raise DecisionError("Say why both are kept: the next person to find these copies will read it.")
    if len(reason) > 2000:
        raise DecisionError("Keep the reason under 2,000 characters.")
    if verdict == Decision.COPY:
        original = original or other
        if original.pk not in (dataset.pk, other.pk):
            raise DecisionError("The original must be one of the two datasets.")
    else:
        original = None
    a, b = sorted((dataset.pk, other.pk))
    with transaction.atomic():
        decision, _ = Decision.objects.update_or_create(dataset_a_id=a, dataset_b_id=b, defaults={
            "verdict": verdict, "original": original, "reason": reason, "decided_by": user if getattr(user, "pk", None) else None,
            "decided_at": timezone.now()})
        duplicates_refresh([a, b])
    return decision
