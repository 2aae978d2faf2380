"""Every write to sources and crawls goes through here: commands, pages, API and tasks alike."""

from __future__ import annotations

import logging
import re
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.connectors import ConnectorError, connector_for
from catalog.core import crypto
from catalog.core.sourceurl import InvalidSourceURL, parse_source_url, scrub
from catalog.inventory.services import inventory_apply_extraction
from catalog.sources.models import Crawl, Source

logger = logging.getLogger(__name__)

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


class SourceError(ValueError):
    """Bad input for a source. The message is safe to show."""


def _patterns(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = re.split(r"[,\s]+", value)
    return [p.strip() for p in value if p and p.strip()]


def _connector(url: str, options: dict | None = None):
    return connector_for(url, connect_timeout=settings.CANON_CONNECT_TIMEOUT, statement_timeout=settings.CANON_STATEMENT_TIMEOUT,
                         options=options)


def source_validate_url(url: str) -> str:
    """Raises SourceError unless some connector reads this URL. Returns the redacted form."""
    try:
        parsed = parse_source_url(url)
        _connector(url)
    except InvalidSourceURL as exc:
        raise SourceError(str(exc)) from None
    return parsed.redacted()


def source_create(*, name: str, url: str, include=None, exclude=None, description: str = "", options: dict | None = None, user=None) -> Source:
    name = (name or "").strip().lower()
    if not _NAME_RE.match(name):
        raise SourceError("A source name is 1–100 lower-case letters, digits, '-' or '_', starting with a letter or digit.")
    if Source.objects.filter(name=name).exists():
        raise SourceError(f"A source named '{name}' already exists.")
    display = source_validate_url(url)
    parsed = parse_source_url(url)
    return Source.objects.create(
        name=name,
        engine=parsed.scheme,
        url_display=display,
        url_encrypted=crypto.encrypt(url.strip()),
        include_schemas=_patterns(include),
        exclude_schemas=_patterns(exclude),
        description=description or "",
        options=dict(options or {}),
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


def source_update(source: Source, *, url: str | None = None, include=None, exclude=None, description: str | None = None) -> Source:
    """An empty or unchanged URL keeps the stored one (its secret is never sent back to the form)."""
    if url and url.strip() and url.strip() != source.url_display:
        source.url_display = source_validate_url(url)
        source.engine = parse_source_url(url).scheme
        source.url_encrypted = crypto.encrypt(url.strip())
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
        secrets = parse_source_url(url).secrets()
        connector = connector_for(url, connect_timeout=min(settings.CANON_CONNECT_TIMEOUT, 5), statement_timeout=10)
        return True, connector.test()
    except (InvalidSourceURL, ConnectorError) as exc:
        return False, scrub(str(exc), secrets)
    except Exception as exc:  # a connector bug must still answer, without a traceback or a secret
        logger.exception("test connection failed unexpectedly")
        return False, scrub(f"{exc.__class__.__name__}: {exc}", secrets)


def source_crawl(source: Source, *, trigger: str = "manual", connector=None) -> Crawl:
    """Crawl one source now. Never raises for a source problem: the crawl records it.

    Extraction (network I/O) happens outside any transaction; applying the answer
    is one transaction, so a failure at any point leaves the catalog as it was.
    """
    started = time.monotonic()
    crawl = Crawl.objects.create(source=source, trigger=trigger, started_at=timezone.now())
    secrets: list[str] = []
    try:
        url = source.url
        secrets = parse_source_url(url).secrets()
        connector = connector or _connector(url, source.options)
        connector.previous_state = source.connector_state or {}
        extraction = connector.extract(source.include_schemas, source.exclude_schemas)
        with transaction.atomic():
            # One crawl applies at a time per source.
            Source.objects.select_for_update().filter(pk=source.pk).first()
            result = inventory_apply_extraction(
                source, crawl, extraction, include=source.include_schemas, exclude=source.exclude_schemas, now=crawl.started_at
            )
            crawl.status = Crawl.SUCCEEDED
            crawl.datasets_seen, crawl.datasets_added = result.seen, result.added
            crawl.datasets_changed, crawl.datasets_removed = result.changed, result.removed
            crawl.columns_seen = result.columns
            crawl.warnings = [scrub(w, secrets) for w in extraction.warnings] + [
                scrub(f"{d.schema}.{d.name}: {w}", secrets) for d in extraction.datasets for w in d.warnings
            ]
            _finish(crawl, started)
            Source.objects.filter(pk=source.pk).update(last_crawl=crawl, last_success_at=crawl.finished_at)
            if extraction.state is not None:
                Source.objects.filter(pk=source.pk).update(connector_state=extraction.state)
    except (ConnectorError, InvalidSourceURL, crypto.DecryptionError) as exc:
        _fail(crawl, started, scrub(str(exc), secrets))
    except Exception as exc:
        logger.error("crawl of %s failed: %s", source.name, scrub(f"{exc.__class__.__name__}: {exc}", secrets))
        _fail(crawl, started, scrub(f"unexpected error ({exc.__class__.__name__}): {exc}", secrets))
    source.refresh_from_db(fields=["last_crawl", "last_success_at"])
    return crawl


def _finish(crawl: Crawl, started: float) -> None:
    crawl.finished_at = timezone.now()
    crawl.duration_s = round(time.monotonic() - started, 3)
    crawl.save()


def _fail(crawl: Crawl, started: float, message: str) -> None:
    crawl.status = Crawl.FAILED
    crawl.error = message[:2000]
    # Nothing was applied: a failed crawl reports no changes.
    crawl.datasets_seen = crawl.datasets_added = crawl.datasets_changed = crawl.datasets_removed = crawl.columns_seen = 0
    crawl.warnings = []
    _finish(crawl, started)
    Source.objects.filter(pk=crawl.source_id).update(last_crawl=crawl)
