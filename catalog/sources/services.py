"""Every write to sources goes through here: commands, pages, API and tasks alike (crawls: catalog/crawls/services.py)."""

from __future__ import annotations

import logging
import re
from collections import defaultdict

from django.conf import settings
from django.db import router
from django.db.models.deletion import Collector

from catalog.connectors import ConnectorError, connector_for
from catalog.core import crypto
from catalog.core.sourceurl import InvalidSourceURL, SourceURL, parse_source_url, scrub
from catalog.sources.fileroots import PathNotAllowed, check_local_paths
from catalog.sources.models import Source

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


def source_connector(url: str | SourceURL, options: dict | None = None):
    """The connector for this URL, with the timeouts of the settings. Raises InvalidSourceURL."""
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
        source_connector(parsed)
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
        type(source_connector(url)).check_options(options)
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


def source_delete_preview(source: Source) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """What deleting the source takes with it, as Django's deletion will do it: ([("datasets", 9), ...] removed,
    [("metric definitions", 2), ...] kept but no longer naming the source). Every app's rows are counted without
    this app knowing them."""
    collector = Collector(using=router.db_for_write(Source))
    collector.collect([source])
    removed: dict[str, int] = defaultdict(int)
    for model, instances in collector.data.items():
        if model is not Source:
            removed[str(model._meta.verbose_name_plural)] += len(instances)
    for queryset in collector.fast_deletes:
        count = queryset.count()
        if count:
            removed[str(queryset.model._meta.verbose_name_plural)] += count
    # Rows of other kinds that stay, with their link to what goes emptied (a definition's source, an email's crawl).
    deleted_models = set(collector.data) | {queryset.model for queryset in collector.fast_deletes}
    unlinked: dict[str, int] = defaultdict(int)
    for (field, _value), batches in collector.field_updates.items():
        if field.model in deleted_models:
            continue
        count = sum(len(batch) if isinstance(batch, (list, set, tuple)) else batch.count() for batch in batches)
        if count:
            unlinked[str(field.model._meta.verbose_name_plural)] += count
    order = lambda item: (-item[1], item[0])  # noqa: E731
    return sorted(((k, v) for k, v in removed.items() if v), key=order), sorted(unlinked.items(), key=order)


def source_delete(source: Source) -> str:
    """Delete the source and everything crawled from it (its schedule too: signals.drop_schedule). Returns its name."""
    name = source.name
    source.delete()
    return name
