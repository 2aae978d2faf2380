"""Every write to sources and crawls goes through here: commands, pages, API and tasks alike."""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.alerts.services import crawl_health_record
from catalog.connectors import ConnectorError, connector_for
from catalog.connectors.base import ExtractRequest, replace_nul
from catalog.core import crypto
from catalog.core.sourceurl import InvalidSourceURL, SourceURL, parse_source_url, scrub
from catalog.inventory.fingerprint import prepare_documents
from catalog.inventory.models import Dataset
from catalog.inventory.services import inventory_apply_extraction
from catalog.inventory.services.apply import SkippedColumnsNotKnown
from catalog.lineage.services import lineage_key, lineage_refresh
from catalog.sources.fileroots import PathNotAllowed, check_local_paths
from catalog.sources.lease import CrawlHeartbeat, crawls_dead, lease_acquire, lease_held, lease_release, stale_after
from catalog.sources.models import Crawl, Source, SourceState

logger = logging.getLogger(__name__)

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


class SourceError(ValueError):
    """Bad input for a source. The message is safe to show."""


class SourceOptionsError(SourceError):
    """The connector options are what is wrong."""


def _patterns(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = re.split(r"[,\s]+", value)
    return [p.strip() for p in value if p and p.strip()]


def _connector(url: str | SourceURL, options: dict | None = None):
    return connector_for(url, connect_timeout=settings.CANON_CONNECT_TIMEOUT, statement_timeout=settings.CANON_STATEMENT_TIMEOUT,
                         options=options)


def _parsed(url: str | SourceURL) -> SourceURL:
    """A URL as typed, parsed once; every check below takes the parsed one. Raises SourceError."""
    if isinstance(url, SourceURL):
        return url
    try:
        return parse_source_url(url)
    except InvalidSourceURL as exc:
        raise SourceError(str(exc)) from None


def source_validate_url(url: str | SourceURL) -> str:
    """Raises SourceError unless some connector reads this URL. Returns the redacted form."""
    parsed = _parsed(url)
    try:
        _connector(parsed)
        check_local_paths(parsed, settings.CANON_FILE_ROOTS)
    except (InvalidSourceURL, PathNotAllowed) as exc:
        raise SourceError(str(exc)) from None
    return parsed.redacted()


def source_check_options(url: str | SourceURL, options) -> dict:
    """The connector settings for a source at this URL, checked by its connector. Raises SourceError."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise SourceOptionsError("Connector options are a JSON object, such as {\"path_templates\": [\"{dataset}/dt={dt}/*.parquet\"]}.")
    try:
        type(_connector(url)).check_options(options)
    except InvalidSourceURL as exc:
        raise SourceError(str(exc)) from None
    except ConnectorError as exc:
        raise SourceOptionsError(f"Connector options: {exc}") from None
    return dict(options)


def source_create(*, name: str, url: str, include=None, exclude=None, description: str = "", options: dict | None = None, user=None) -> Source:
    name = (name or "").strip().lower()
    if not _NAME_RE.match(name):
        raise SourceError("A source name is 1–100 lower-case letters, digits, '-' or '_', starting with a letter or digit.")
    if Source.objects.filter(name=name).exists():
        raise SourceError(f"A source named '{name}' already exists.")
    parsed = _parsed(url)
    display = source_validate_url(parsed)
    options = source_check_options(parsed, options)
    return Source.objects.create(
        name=name,
        engine=parsed.scheme,
        url_display=display,
        url_encrypted=crypto.encrypt(url.strip()),
        include_schemas=_patterns(include),
        exclude_schemas=_patterns(exclude),
        description=description or "",
        options=options,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


def source_update(source: Source, *, url: str | None = None, include=None, exclude=None, description: str | None = None,
                  options: dict | None = None) -> Source:
    """An empty or unchanged URL keeps the stored one (its secret is never sent back to the form).

    The options (None: unchanged) are checked against the URL the source will have.
    """
    new_url = url.strip() if url and url.strip() and url.strip() != source.url_display else None
    parsed = _parsed(new_url) if new_url else None
    if parsed:
        display = source_validate_url(parsed)
    if new_url or (options is not None and options != source.options):
        source.options = source_check_options(parsed or source.url, source.options if options is None else options)
    if new_url:
        source.url_display = display
        source.engine = parsed.scheme
        source.url_encrypted = crypto.encrypt(new_url)
    if include is not None:
        source.include_schemas = _patterns(include)
    if exclude is not None:
        source.exclude_schemas = _patterns(exclude)
    if description is not None:
        source.description = description
    source.save()
    return source


def source_test_connection(url: str) -> tuple[bool, str]:
    """(ok, message) in a few seconds at most; the message never holds a secret."""
    secrets: list[str] = []
    try:
        parsed = parse_source_url(url)
        secrets = parsed.secrets()
        check_local_paths(parsed, settings.CANON_FILE_ROOTS)
        connector = connector_for(parsed, connect_timeout=min(settings.CANON_CONNECT_TIMEOUT, 5), statement_timeout=10)
        return True, connector.test()
    except (InvalidSourceURL, ConnectorError, PathNotAllowed) as exc:
        return False, scrub(str(exc), secrets)
    except Exception as exc:  # a connector bug must still answer, without a traceback or a secret
        logger.exception("test connection failed unexpectedly")
        return False, scrub(f"{exc.__class__.__name__}: {exc}", secrets)


class CrawlHeld(Exception):
    """The crawl would remove too much at once; nothing is applied until a person confirms."""

    def __init__(self, removed: list[str], present: int):
        self.removed, self.present = removed, present
        super().__init__(
            f"this crawl would remove {len(removed)} of {present} datasets; it was not applied. "
            "If they really are gone, confirm on the source's page."
        )


class CrawlLeaseLost(Exception):
    """Another crawl took this one's lease while its heartbeat had stopped: it must apply nothing."""


def _worker_stopped_message() -> str:
    return (f"the worker stopped: this crawl sent no heartbeat for {stale_after().total_seconds():g} s (its process was "
            "killed or ran out of memory, or its machine went away); nothing was applied")


def _mark_worker_stopped(crawls, message: str) -> int:
    """Record each of these running crawls as failed, once: the update is conditional (still running, and
    still matching `crawls`), so two workers finding the same dead crawl record it, and alert on it, once.

    The source row is locked first: a crawl applying its extraction holds it, so it is waited for,
    never marked dead halfway through its transaction."""
    marked = 0
    for crawl in list(crawls.filter(status=Crawl.RUNNING)):
        with transaction.atomic():
            Source.objects.select_for_update().filter(pk=crawl.source_id).first()
            last_sign = crawl.heartbeat_at or crawl.started_at
            if not crawls.filter(pk=crawl.pk, status=Crawl.RUNNING).update(
                status=Crawl.FAILED, phase="", error=message[:2000], finished_at=timezone.now(),
                duration_s=round(max((last_sign - crawl.started_at).total_seconds(), 0.0), 3), warnings=[],
                datasets_seen=0, datasets_added=0, datasets_changed=0, datasets_removed=0, columns_seen=0,
            ):
                continue
            marked += 1
            lease_release(crawl.source, crawl)
            crawl.refresh_from_db()
            logger.warning("crawl #%s of %s: %s", crawl.pk, crawl.source.name, message)
            if crawl_health_record(crawl.source, crawl):
                transaction.on_commit(_flush_outbox_soon)
    return marked


def crawl_reap_dead(source: Source | None = None) -> int:
    """Record the crawls that lost their worker as failed, so they block nothing and no page shows them
    running: running crawls whose heartbeat stopped, and queued crawls no worker took within the crawl
    time limit (a message lost with its broker). Returns how many running crawls were marked."""
    now = timezone.now()
    dead = crawls_dead(now)
    queued = Crawl.objects.filter(status=Crawl.QUEUED,
                                  started_at__lt=now - timedelta(seconds=settings.CANON_CRAWL_TIME_LIMIT + 300))
    if source is not None:
        dead, queued = dead.filter(source=source), queued.filter(source=source)
    queued.update(status=Crawl.FAILED, phase="", finished_at=now,
                  error="lost: no worker took this crawl within the crawl time limit")
    return _mark_worker_stopped(dead, _worker_stopped_message())


def _set_phase(crawl: Crawl, phase: str) -> None:
    crawl.phase = phase
    # Only while it is active: a crawl marked dead meanwhile (it was taken over) stays failed.
    Crawl.objects.filter(pk=crawl.pk, status__in=Crawl.ACTIVE).update(phase=phase, status=crawl.status)


def _flush_outbox_soon() -> None:
    """Ask a worker to send now; if the broker is down, the periodic flush sends later."""
    try:
        from catalog.alerts.tasks import outbox_flush_task

        outbox_flush_task.apply_async(retry=False)
    except Exception as exc:
        logger.warning("could not enqueue the outbox flush (%s); the periodic flush will send", scrub(str(exc)))


def crawl_enqueue(source: Source, *, trigger: str = "web", allow_mass_removal: bool = False) -> Crawl:
    """Queue a crawl for a worker; a queued or running crawl of the same source is returned instead of a second one."""
    # A crawl whose worker died is recorded as failed first: "crawl now" never answers with a dead crawl.
    crawl_reap_dead(source)
    active = source.crawls.filter(status__in=Crawl.ACTIVE).order_by("-started_at").first()
    if active is not None and not allow_mass_removal:
        return active
    crawl = Crawl.objects.create(source=source, trigger=trigger, status=Crawl.QUEUED, started_at=timezone.now(),
                                 allow_mass_removal=allow_mass_removal, phase="waiting for a worker")
    Source.objects.filter(pk=source.pk).update(last_crawl=crawl)

    def send():
        from catalog.sources.tasks import crawl_source_task

        try:
            crawl_source_task.apply_async(args=[source.pk], kwargs={"crawl_id": crawl.pk}, retry=False)
        except Exception as exc:
            _fail(crawl, time.monotonic(), f"could not queue the crawl: the task broker is unreachable ({scrub(str(exc))})")

    transaction.on_commit(send)
    return crawl


def _extract(connector, request: ExtractRequest):
    extraction = connector.extract(request)
    if connector.may_return_nul:
        replace_nul(extraction)
    return extraction


def source_crawl(source: Source, *, trigger: str = "manual", connector=None, crawl: Crawl | None = None,
                 allow_mass_removal: bool = False) -> Crawl:
    """Crawl one source now. Never raises for a source problem: the crawl records it.

    Extraction (network I/O) happens outside any transaction; applying the answer,
    recording its schema changes and writing their emails to the outbox is one
    transaction, so a failure at any point leaves the catalog as it was.
    """
    started = time.monotonic()
    if crawl is None:
        crawl = Crawl.objects.create(source=source, trigger=trigger, started_at=timezone.now(), allow_mass_removal=allow_mass_removal)
    else:
        crawl.started_at = timezone.now()
    if not lease_acquire(source, crawl):
        running = source.crawls.filter(status=Crawl.RUNNING).exclude(pk=crawl.pk).first()
        crawl.status = Crawl.SKIPPED
        crawl.error = f"another crawl of this source is running{f' (crawl #{running.pk})' if running else ''}"
        _finish(crawl, started)
        return crawl
    # The lease may have been taken over from a crawl whose worker died: record that one as failed.
    _mark_worker_stopped(crawls_dead().filter(source=source), _worker_stopped_message())
    heartbeat = CrawlHeartbeat(crawl.pk)
    secrets: list[str] = []
    try:
        crawl.status = Crawl.RUNNING
        crawl.save(update_fields=["status", "started_at"])
        heartbeat.start()
        Source.objects.filter(pk=source.pk).update(last_crawl=crawl)
        _set_phase(crawl, "connecting")
        url = parse_source_url(source.url)  # parsed once, handed on
        secrets = url.secrets()
        check_local_paths(url, settings.CANON_FILE_ROOTS)  # also a source saved before the roots changed
        connector = connector or _connector(url, source.options)
        _set_phase(crawl, "reading metadata")
        # The state from the database: a stale object would hand over old state.
        request = ExtractRequest(include=source.include_schemas, exclude=source.exclude_schemas, previous_state=source.connector_state,
                                 known=_known_schemas(source), prepare=prepare_documents)
        extraction = _extract(connector, request)
        try:
            with heartbeat.paused():
                _apply(source, crawl, extraction, secrets, started, request.previous_state)
        except SkippedColumnsNotKnown:
            # The catalog moved under the connector's assumptions (an edit, another crawl): read everything.
            request = dataclasses.replace(request, known={})
            _set_phase(crawl, "reading metadata")
            extraction = _extract(connector, request)
            with heartbeat.paused():
                _apply(source, crawl, extraction, secrets, started, request.previous_state)
    except CrawlLeaseLost:
        # Usually already recorded as failed by the crawl that took over; if not, recorded here.
        _fail(crawl, started, f"{_worker_stopped_message()}; another crawl of this source took over")
    except CrawlHeld as held:
        crawl.status, crawl.phase = Crawl.HELD, ""
        crawl.error = str(held)
        crawl.held_removals = held.removed[:1000]
        crawl.datasets_seen = crawl.datasets_added = crawl.datasets_changed = crawl.datasets_removed = crawl.columns_seen = 0
        _finish(crawl, started)
    except (ConnectorError, InvalidSourceURL, crypto.DecryptionError, PathNotAllowed) as exc:
        _fail(crawl, started, scrub(str(exc), secrets))
    except SoftTimeLimitExceeded:
        _fail(crawl, started, f"the crawl ran past its time limit of {settings.CANON_CRAWL_TIME_LIMIT} s and was stopped")
    except Exception as exc:
        logger.error("crawl of %s failed: %s", source.name, scrub(f"{exc.__class__.__name__}: {exc}", secrets))
        _fail(crawl, started, scrub(f"unexpected error ({exc.__class__.__name__}): {exc}", secrets))
    finally:
        heartbeat.stop()
        lease_release(source, crawl)
    source.refresh_from_db(fields=["last_crawl", "last_success_at"])
    return crawl


def _known_schemas(source: Source) -> dict[str, tuple[str, str, str]]:
    """ExtractRequest.known: native id -> (schema, name, schema signature) of each present dataset that has one."""
    rows = Dataset.objects.filter(source=source, removed_at__isnull=True).exclude(schema_signature="").exclude(native_id="")
    return {native_id: (schema, name, signature)
            for native_id, schema, name, signature in rows.values_list("native_id", "schema_name", "name", "schema_signature")}


def _apply(source: Source, crawl: Crawl, extraction, secrets: list[str], started: float, previous_state: dict) -> None:
    """Apply a complete extraction and everything that follows from it, in one transaction."""
    from catalog.alerts.services import alerts_queue_for_crawl, crawl_health_record
    from catalog.history.services import history_record_changes, history_snapshot
    from catalog.metrics.services import metrics_after_changes
    from catalog.search.index import search_index_crawl

    _set_phase(crawl, f"applying {len(extraction.datasets):,} datasets")
    with transaction.atomic():
        # One crawl applies at a time per source; a crawl whose lease was taken over (its heartbeat had
        # stopped, and it was recorded as dead) applies nothing.
        Source.objects.select_for_update().filter(pk=source.pk).first()
        if not lease_held(source, crawl):
            raise CrawlLeaseLost()
        snapshot = history_snapshot(source)
        result = inventory_apply_extraction(
            source, crawl, extraction, include=source.include_schemas, exclude=source.exclude_schemas, now=crawl.started_at
        )
        key = lineage_key(source)
        known_key = SourceState.objects.filter(source_id=source.pk).values_list("lineage_key", flat=True).first()
        if result.added or result.changed or result.removed or known_key != key:
            lineage_refresh(source)  # parses every view: not when nothing it depends on moved
        present_before = sum(1 for _, _, removed in snapshot.values() if not removed)
        share = source.mass_removal_share if source.mass_removal_share is not None else settings.CANON_MASS_REMOVAL_SHARE
        if result.removed and not crawl.allow_mass_removal and result.removed > share * present_before:
            raise CrawlHeld(sorted(f"{snapshot[i][0]}.{snapshot[i][1]}" for i in result.removed_ids), present_before)
        changes = history_record_changes(source, crawl, result, snapshot, now=crawl.started_at)
        metrics_after_changes(source, crawl, changes)
        search_index_crawl(source, result)
        queued = alerts_queue_for_crawl(source, crawl, changes)
        crawl.status = Crawl.SUCCEEDED
        crawl.phase = ""
        crawl.datasets_seen, crawl.datasets_added = result.seen, result.added
        crawl.datasets_changed, crawl.datasets_removed = result.changed, result.removed
        crawl.columns_seen = result.columns
        crawl.warnings = [scrub(w, secrets) for w in extraction.warnings] + [
            scrub(f"{d.schema}.{d.name}: {w}", secrets) for d in extraction.datasets for w in d.warnings
        ]
        _finish(crawl, started)
        # The lease ends in the commit that marks the crawl done, so a crawl queued right after is not skipped.
        Source.objects.filter(pk=source.pk).update(last_crawl=crawl, last_success_at=crawl.finished_at, crawl_lease_holder=None)
        remembered = {}
        if extraction.state is not None and extraction.state != previous_state:  # often unchanged, and large
            remembered["data"] = extraction.state
        if known_key != key:
            remembered["lineage_key"] = key
        if remembered:
            SourceState.objects.update_or_create(source_id=source.pk, defaults=remembered)
        if crawl_health_record(source, crawl) or queued:  # nothing to send: no message to the broker either
            transaction.on_commit(_flush_outbox_soon)


def _finish(crawl: Crawl, started: float) -> None:
    crawl.finished_at = timezone.now()
    crawl.duration_s = round(time.monotonic() - started, 3)
    crawl.save()


def _fail(crawl: Crawl, started: float, message: str) -> None:
    if not Crawl.objects.filter(pk=crawl.pk, status__in=Crawl.ACTIVE).exists():
        # Already recorded as dead by the crawl that took its lease over: recorded, and alerted on, once.
        crawl.refresh_from_db()
        return
    crawl.status = Crawl.FAILED
    crawl.error = message[:2000]
    # Nothing was applied: a failed crawl reports no changes.
    crawl.datasets_seen = crawl.datasets_added = crawl.datasets_changed = crawl.datasets_removed = crawl.columns_seen = 0
    crawl.warnings = []
    crawl.phase = ""
    _finish(crawl, started)
    Source.objects.filter(pk=crawl.source_id).update(last_crawl=crawl)
    from catalog.alerts.services import crawl_health_record

    with transaction.atomic():
        if crawl_health_record(crawl.source, crawl):
            transaction.on_commit(_flush_outbox_soon)
