"""The crawl step: read the source's query history (bounded: CANON_USAGE_MAX_STATEMENTS statements, under the
connector's statement timeout) and record it. Never fails the crawl: a history that cannot be read becomes
the note on the source's page, and the usage recorded so far stays."""

import logging

from django.conf import settings
from django.db import transaction

from catalog.connectors.history import QueryHistory, history_reader
from catalog.core.sourceurl import parse_source_url, scrub
from catalog.inventory.outcome import CrawlOutcome
from catalog.sources.services import source_connector
from catalog.usage.models import SourceUsage
from catalog.usage.services import usage_record

logger = logging.getLogger(__name__)


def read_usage(outcome: CrawlOutcome) -> None:
    source = outcome.source
    reader = history_reader(source.engine)
    if reader is None or not settings.CANON_USAGE_ENABLED:
        return  # no history to read here: its datasets' usage stays unknown
    secrets: list[str] = []
    try:
        url = parse_source_url(source.url)
        secrets = url.secrets()
        since = SourceUsage.objects.filter(source=source, available=True).values_list("read_at", flat=True).first()
        history = reader(source_connector(url, source.options), limit=settings.CANON_USAGE_MAX_STATEMENTS, since=since)
    except Exception as exc:  # a connector's bug or a lost connection must not fail the crawl
        logger.warning("query history of %s could not be read (%s)", source.name, exc.__class__.__name__)
        history = QueryHistory(False, note=scrub(f"The query history could not be read: {exc}", secrets))
    try:
        with transaction.atomic():  # a savepoint: a failure here leaves the crawl's own writes alone
            usage_record(source, history, now=outcome.now)
    except Exception:
        logger.exception("usage of %s could not be recorded", source.name)
