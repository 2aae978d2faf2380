"""Recording a source's query history: parse each new digest once, add what ran since the last read to the
days it ran, and refresh each dataset's and column's figures. Never raises for bad SQL: it is counted."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import replace
from typing import NamedTuple
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, Max, Q, Sum

from catalog.connectors.history import QueryHistory
from catalog.core.bulk import insert_rows
from catalog.core.sqlnames import dialect_for
from catalog.inventory.models import Column, Dataset
from catalog.search.index import search_refresh_weights
from catalog.usage.models import ColumnUsage, DatasetUsage, QueryCount, QueryDigest, SourceUsage, UsageDay
from catalog.usage.sql import UnparsedStatement, statement_use
from catalog.usage.unavailable import usage_note_unavailable

CHUNK = 2000
DATASET = 0  # UsageDay.column_id of a dataset's own row


def chunked(items, size):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


class _Names:
    """A source's datasets and columns by the names statements use: exact, then without case; a table named
    without a schema is the one dataset of that name, if only one."""

    def __init__(self, source):
        self.exact, self.folded, self.bare = {}, {}, defaultdict(set)
        for pk, schema, name in Dataset.objects.filter(source=source, removed_at__isnull=True).values_list("id", "schema_name", "name"):
            self.exact[(schema, name)] = pk
            self.folded[(schema.lower(), name.lower())] = pk
            self.bare[name.lower()].add(pk)
        self._columns: dict[int, dict[str, int]] = {}

    def dataset(self, schema: str, name: str) -> int | None:
        if schema:
            return self.exact.get((schema, name)) or self.folded.get((schema.lower(), name.lower()))
        found = self.bare.get(name.lower(), ())
        return next(iter(found)) if len(found) == 1 else None

    def load_columns(self, dataset_ids) -> None:
        wanted = [d for d in dataset_ids if d not in self._columns]
        for d in wanted:
            self._columns[d] = {}
        for chunk in chunked(wanted, CHUNK):
            for pk, dataset_id, name in Column.objects.filter(dataset_id__in=chunk).values_list("id", "dataset_id", "name"):
                self._columns[dataset_id][name.lower()] = pk

    def column(self, dataset_id: int, name: str) -> int | None:
        return self._columns.get(dataset_id, {}).get(name.lower())


class _Parsed(NamedTuple):
    """A digest's parse, as the rest of the record reads it (a new one is written without a model instance)."""

    digest: str
    parsed: bool
    reads: list
    writes: list
    columns: list


DIGEST_FIELDS = ("source_id", "digest", "parsed", "reads", "writes", "columns", "text", "first_seen_at")


def _parse(statement, dialect) -> tuple[bool, list, list, list]:
    try:
        use = statement_use(statement.text, dialect, statement.default_schema)
    except UnparsedStatement:
        return False, [], [], []
    return True, sorted(map(list, use.reads)), sorted(map(list, use.writes)), sorted(map(list, use.columns))


def _one_per_digest_and_user(statements):
    """An engine may list a digest twice for one user (MySQL: once per database it ran in): counted together."""
    merged: dict[tuple[str, str], object] = {}
    for s in statements:
        key = (s.digest, s.user)
        if key in merged:
            m = merged[key]
            last = max((d for d in (m.last_seen, s.last_seen) if d), default=None)
            merged[key] = replace(m, calls=m.calls + s.calls, last_seen=last, default_schema=m.default_schema or s.default_schema)
        else:
            merged[key] = s
    return list(merged.values())


def usage_record(source, history: QueryHistory, *, now, budget_seconds: float | None = None) -> SourceUsage:
    """Record what the history says; the source's note says why there is none. New digests are parsed for at most
    budget_seconds (default CANON_USAGE_PARSE_SECONDS); the rest wait for the next crawl, counted then."""
    if budget_seconds is None:
        budget_seconds = settings.CANON_USAGE_PARSE_SECONDS
    if not history.available:
        return usage_note_unavailable(source, history.note, now=now)  # nothing to record
    usage, _ = SourceUsage.objects.get_or_create(source=source)
    usage.available, usage.note, usage.read_at = True, history.note, now
    if usage.first_read_at is None:
        usage.first_read_at = now
    dialect = dialect_for(source.engine)
    statements = _one_per_digest_and_user(history.statements)
    digests = {s.digest for s in statements}
    # Of the digests seen before, only whether each parsed is read now (cheap): their parses are loaded below,
    # for those that ran since the last read.
    parsed_before: dict[str, bool] = {}
    for chunk in chunked(sorted(digests), CHUNK):
        parsed_before.update(QueryDigest.objects.filter(source=source, digest__in=chunk).values_list("digest", "parsed"))
    without_text: dict[str, int] = {}  # digest -> id, of those seen before the source chose to keep query text
    if usage.keep_query_text:
        for chunk in chunked(sorted(parsed_before), CHUNK):
            without_text.update(QueryDigest.objects.filter(source=source, digest__in=chunk, text="").values_list("digest", "id"))
    known: dict[str, QueryDigest | _Parsed] = {}
    new, texts, deferred = [], {}, set()
    deadline = time.monotonic() + budget_seconds if budget_seconds else None
    for statement in statements:
        if statement.digest in deferred:
            continue
        # At least one new digest a crawl, so a budget too small for one still gets through the history in time.
        seen = statement.digest in parsed_before or statement.digest in known
        if not seen and new and deadline is not None and time.monotonic() > deadline:
            deferred.add(statement.digest)  # parsed by the next crawl; its count is taken then
            continue
        if seen:
            if statement.digest in without_text:
                texts[statement.digest] = statement.text
            continue
        digest = known[statement.digest] = _Parsed(statement.digest, *_parse(statement, dialect))
        new.append((source.pk, *digest, statement.text if usage.keep_query_text else "", now))
    insert_rows(QueryDigest, DIGEST_FIELDS, new, batch_size=CHUNK)
    QueryDigest.objects.bulk_update([QueryDigest(id=without_text[d], text=text) for d, text in texts.items()], ["text"],
                                    batch_size=CHUNK)
    parsed_before.update({d: p.parsed for d, p in known.items()})
    if deferred:
        statements = [s for s in statements if s.digest not in deferred]
        digests -= deferred
        usage.note = " ".join(filter(None, [usage.note, f"{len(deferred)} new statements are left for the next crawl "
                                                       f"(parsing is bounded to {budget_seconds:g} s a crawl)."]))
    usage.statements = len(digests)
    usage.parsed = sum(1 for d in digests if parsed_before[d])
    usage.unparsed = usage.statements - usage.parsed

    # What ran since the last read, by digest and user.
    previous: dict[tuple[str, str], QueryCount] = {}
    if history.cumulative:
        for chunk in chunked(sorted(digests), CHUNK):
            for count in QueryCount.objects.filter(source=source, digest__in=chunk):
                previous[(count.digest, count.user)] = count
    ran: list[tuple] = []
    changed_counts, new_counts = [], []
    for statement in statements:
        calls = statement.calls
        if history.cumulative:
            before = previous.get((statement.digest, statement.user))
            delta = calls - before.calls if before is not None and calls >= before.calls else calls  # fewer: the engine reset
            if before is None:
                new_counts.append((source.pk, statement.digest, statement.user, calls))
            elif before.calls != calls:
                before.calls = calls
                changed_counts.append(before)
        else:
            delta = calls
        if delta > 0 and parsed_before[statement.digest]:
            ran.append((statement.digest, statement.user, (statement.last_seen or now).date(), delta))
    insert_rows(QueryCount, ("source_id", "digest", "user", "calls"), new_counts, batch_size=CHUNK)
    QueryCount.objects.bulk_update(changed_counts, ["calls"], batch_size=CHUNK)
    load = sorted({d for d, *_ in ran} - set(known))
    for chunk in chunked(load, CHUNK):
        known.update({d.digest: d for d in QueryDigest.objects.filter(source=source, digest__in=chunk).only(
            "digest", "parsed", "reads", "writes", "columns")})
    ran = [(known[d], user, day, delta) for d, user, day, delta in ran]

    names = _Names(source)
    days: dict[tuple[int, int | None, date, str], list[int]] = defaultdict(lambda: [0, 0])
    resolved = []
    for digest, user, day, delta in ran:
        reads = {names.dataset(*ref) for ref in digest.reads} - {None}
        writes = {names.dataset(*ref) for ref in digest.writes} - {None}
        resolved.append((digest, user, day, delta, reads, writes))
    names.load_columns({d for *_, reads, writes in resolved for d in reads | writes})
    for digest, user, day, delta, reads, writes in resolved:
        for dataset_id in reads:
            days[(dataset_id, DATASET, day, user)][0] += delta
        for dataset_id in writes:
            days[(dataset_id, DATASET, day, user)][1] += delta
        for schema, table, column in digest.columns:
            dataset_id = names.dataset(schema, table)
            column_id = names.column(dataset_id, column) if dataset_id else None
            if column_id is not None:
                days[(dataset_id, column_id, day, user)][0] += delta
    _add_days(days)
    usage.save()
    usage_refresh(source, today=now.date())
    return usage


def _add_days(days: dict) -> None:
    if not days:
        return
    dataset_ids = sorted({k[0] for k in days})
    first = min(k[2] for k in days)
    existing = {}
    for chunk in chunked(dataset_ids, CHUNK):
        for row in UsageDay.objects.filter(dataset_id__in=chunk, day__gte=first):
            existing[(row.dataset_id, row.column_id, row.day, row.user)] = row
    created, updated = [], []
    for key, (reads, writes) in days.items():
        row = existing.get(key)
        if row is None:
            created.append((*key, reads, writes))
        else:
            row.reads += reads
            row.writes += writes
            updated.append(row)
    insert_rows(UsageDay, ("dataset_id", "column_id", "day", "user", "reads", "writes"), created, batch_size=CHUNK)
    UsageDay.objects.bulk_update(updated, ["reads", "writes"], batch_size=CHUNK)


def usage_refresh(source, *, today: date) -> None:
    """Each dataset's and column's figures over the last 30 and 90 days (windows move even when nothing ran)."""
    d30, d90 = today - timedelta(days=29), today - timedelta(days=89)
    rows = (UsageDay.objects.filter(dataset__source=source, day__gte=d90)
            .values("dataset_id", "column_id")
            .annotate(q30=Sum("reads", filter=Q(day__gte=d30)), q90=Sum("reads"), w30=Sum("writes", filter=Q(day__gte=d30)),
                      u30=Count("user", filter=Q(day__gte=d30, reads__gt=0), distinct=True),
                      u90=Count("user", filter=Q(reads__gt=0), distinct=True), last=Max("day", filter=Q(reads__gt=0))))
    datasets, columns = [], []
    for r in rows:
        if r["column_id"] == DATASET:
            datasets.append(DatasetUsage(dataset_id=r["dataset_id"], queries_30=r["q30"] or 0, queries_90=r["q90"] or 0,
                                         users_30=r["u30"], users_90=r["u90"], writes_30=r["w30"] or 0, last_used_on=r["last"]))
        else:
            columns.append(ColumnUsage(column_id=r["column_id"], dataset_id=r["dataset_id"], queries_30=r["q30"] or 0,
                                       queries_90=r["q90"] or 0, users_30=r["u30"], users_90=r["u90"], last_used_on=r["last"]))
    stored = {d.dataset_id: d for d in DatasetUsage.objects.filter(dataset__source=source)}
    before = {pk: d.users_30 for pk, d in stored.items()}
    seen = {d.dataset_id for d in datasets}
    # Last read before the 90 days: kept, so "not read for 200 days" stays known.
    datasets += [DatasetUsage(dataset_id=pk, last_used_on=d.last_used_on) for pk, d in stored.items()
                 if pk not in seen and d.last_used_on is not None]
    _replace(DatasetUsage, "dataset_id", stored, datasets, DatasetUsage.objects.filter(dataset__source=source))
    _replace(ColumnUsage, "column_id", {c.column_id: c for c in ColumnUsage.objects.filter(dataset__source=source)}, columns,
             ColumnUsage.objects.filter(dataset__source=source))
    after = {d.dataset_id: d.users_30 for d in datasets}
    moved = {pk for pk in set(before) | set(after) if before.get(pk, 0) != after.get(pk, 0)}
    if moved:
        search_refresh_weights(moved)  # search ranks datasets more people read higher (usage/search.py)


FIGURES = ("queries_30", "queries_90", "users_30", "users_90", "last_used_on")


def _replace(model, key: str, stored: dict, rows: list, scope) -> None:
    """Make the stored figures these rows, writing only what differs (an unchanged recrawl writes nothing)."""
    fields = [f for f in FIGURES + ("writes_30",) if hasattr(model, f)]
    wanted = {getattr(r, key): r for r in rows}
    gone = [pk for pk in stored if pk not in wanted]
    if gone:
        for chunk in chunked(gone, CHUNK):
            scope.filter(**{f"{key}__in": chunk}).delete()
    model.objects.bulk_create([r for pk, r in wanted.items() if pk not in stored], batch_size=CHUNK)
    changed = [r for pk, r in wanted.items() if pk in stored and any(getattr(r, f) != getattr(stored[pk], f) for f in fields)]
    model.objects.bulk_update(changed, fields, batch_size=CHUNK)


def usage_keep_text(source, *, keep: bool) -> SourceUsage:
    """Opt in (or out) of keeping the statements' text; opting out forgets what was kept."""
    usage, _ = SourceUsage.objects.get_or_create(source=source)
    usage.keep_query_text = keep
    usage.save(update_fields=["keep_query_text"])
    if not keep:
        QueryDigest.objects.filter(source=source).exclude(text="").update(text="")
    return usage
