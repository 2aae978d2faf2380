"""Every crawl goes through here: commands, pages, API, schedules and tasks alike.

A crawl is: take the source's lease -> parse the source URL -> `connector.extract(ExtractRequest(...))`
outside any transaction -> in ONE transaction: apply the extraction to the inventory, hold a mass
removal, run the steps of settings.CANON_CRAWL_STEPS in order on one CrawlOutcome, record the crawl
done -> commit -> ask a worker to send the outbox. A failure at any point leaves the catalog as it was
and is recorded on the crawl.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import timedelta

from billiard.exceptions import SoftTimeLimitExceeded  # what celery.exceptions re-exports, without loading Celery

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.alerts.services import crawl_health_record
from catalog.connectors import ConnectorError
from catalog.connectors.base import ExtractRequest, replace_nul
from catalog.core import crypto
from catalog.core.queue import task_send
from catalog.core.sourceurl import InvalidSourceURL, parse_source_url, scrub
from catalog.crawls.lease import CrawlHeartbeat, crawls_dead, lease_acquire, lease_held, lease_release, stale_after
from catalog.crawls.steps import crawl_steps_prepare, crawl_steps_run
from catalog.history.services import history_snapshot
from catalog.inventory.fingerprint import prepare_documents
from catalog.inventory.models import Dataset
from catalog.inventory.outcome import CrawlOutcome
from catalog.inventory.services import inventory_apply_extraction
from catalog.inventory.services.apply import SkippedColumnsNotKnown
from catalog.sources.fileroots import PathNotAllowed, check_local_paths
from catalog.sources.models import Crawl, Source, SourceState
from catalog.sources.services import source_connector

logger = logging.getLogger(__name__)

CRAWL_TASK = "canon.crawl_source"
OUTBOX_FLUSH_TASK = "canon.outbox_flush"


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
        task_send(OUTBOX_FLUSH_TASK)
    except Exception as exc:
        logger.warning("could not enqueue the outbox flush (%s); the periodic flush will send", scrub(str(exc)))


def crawl_enqueue(source: Source, *, trigger: str = "web", allow_mass_removal: bool = False, user=None) -> Crawl:
    """Queue a crawl for a worker; a queued or running crawl of the same source is returned instead of a second one.
    `user`: the person who asked, shown in the source's crawl list."""
    # A crawl whose worker died is recorded as failed first: "crawl now" never answers with a dead crawl.
    crawl_reap_dead(source)
    active = source.crawls.filter(status__in=Crawl.ACTIVE).order_by("-started_at").first()
    if active is not None and not allow_mass_removal:
        return active
    crawl = Crawl.objects.create(source=source, trigger=trigger, status=Crawl.QUEUED, started_at=timezone.now(),
                                 allow_mass_removal=allow_mass_removal, phase="waiting for a worker",
                                 started_by=user if getattr(user, "is_authenticated", False) else None)
    Source.objects.filter(pk=source.pk).update(last_crawl=crawl)

    def send():
        try:
            task_send(CRAWL_TASK, args=[source.pk], kwargs={"crawl_id": crawl.pk})
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
        connector = connector or source_connector(url, source.options)
        _set_phase(crawl, "reading metadata")
        # The state from the database: a stale object would hand over old state.
        request = ExtractRequest(include=source.include_schemas, exclude=source.exclude_schemas, previous_state=source.connector_state,
                                 known=_known_schemas(source), prepare=prepare_documents,
                                 statistics=settings.CANON_ENGINE_STATISTICS)
        extraction = _extract(connector, request)
        prepared = crawl_steps_prepare(source)  # the steps' own reads over the network, outside the transaction
        try:
            with heartbeat.paused():
                _apply(source, crawl, extraction, secrets, started, request.previous_state, prepared)
        except SkippedColumnsNotKnown:
            # The catalog moved under the connector's assumptions (an edit, another crawl): read everything.
            request = dataclasses.replace(request, known={})
            _set_phase(crawl, "reading metadata")
            extraction = _extract(connector, request)
            with heartbeat.paused():
                _apply(source, crawl, extraction, secrets, started, request.previous_state, prepared)
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


def _hold_mass_removal(source: Source, crawl: Crawl, outcome: CrawlOutcome) -> None:
    """Raise CrawlHeld (rolling the crawl back) if it would remove more than the allowed share of the present datasets."""
    result, before = outcome.result, outcome.names_before
    present_before = sum(1 for _, _, removed in before.values() if not removed)
    share = source.mass_removal_share if source.mass_removal_share is not None else settings.CANON_MASS_REMOVAL_SHARE
    if result.removed and not crawl.allow_mass_removal and result.removed > share * present_before:
        raise CrawlHeld(sorted(f"{before[i][0]}.{before[i][1]}" for i in result.removed_ids), present_before)


def _apply(source: Source, crawl: Crawl, extraction, secrets: list[str], started: float, previous_state: dict,
           prepared: dict | None = None) -> None:
    """Apply a complete extraction and everything that follows from it (the steps), in one transaction."""
    _set_phase(crawl, f"applying {len(extraction.datasets):,} datasets")
    with transaction.atomic():
        # One crawl applies at a time per source; a crawl whose lease was taken over (its heartbeat had
        # stopped, and it was recorded as dead) applies nothing.
        Source.objects.select_for_update().filter(pk=source.pk).first()
        if not lease_held(source, crawl):
            raise CrawlLeaseLost()
        names_before = history_snapshot(source)
        result = inventory_apply_extraction(
            source, crawl, extraction, include=source.include_schemas, exclude=source.exclude_schemas, now=crawl.started_at
        )
        outcome = CrawlOutcome(source=source, crawl=crawl, extraction=extraction, result=result, names_before=names_before,
                               now=crawl.started_at, prepared=prepared or {})
        _hold_mass_removal(source, crawl, outcome)
        crawl_steps_run(outcome)
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
        if extraction.state is not None and extraction.state != previous_state:  # often unchanged, and large
            SourceState.objects.update_or_create(source_id=source.pk, defaults={"data": extraction.state})
        if crawl_health_record(source, crawl) or outcome.messages_queued:  # nothing to send: no message to the broker either
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
    with transaction.atomic():
        if crawl_health_record(crawl.source, crawl):
            transaction.on_commit(_flush_outbox_soon)
