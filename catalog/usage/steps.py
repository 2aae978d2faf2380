"""The crawl step: read the source's query history (bounded: CANON_USAGE_MAX_STATEMENTS statements, under the
connector's statement timeout) and record it. Never fails the crawl: a history that cannot be read becomes
the note on the source's page, and the usage recorded so far stays.

The history is read by the step's `prepare`, which the crawl runs before its transaction (catalog/crawls/steps.py),
so the transaction does not wait on the network; the step records what was read, inside it."""

import logging

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from catalog.connectors.history import QueryHistory, history_reader
from catalog.core.sourceurl import parse_source_url, scrub
from catalog.inventory.outcome import CrawlOutcome
from catalog.sources.services import source_connector
from catalog.usage.models import SourceUsage
from catalog.usage.unavailable import usage_note_unavailable

logger = logging.getLogger(__name__)

# By dotted path: recording a history parses its statements with sqlglot, which a source without one never loads.
RECORD = "catalog.usage.services.usage_record"


def read_history(source) -> QueryHistory | None:
    """The source's history since its last read; None where there is none to read. Never raises."""
    reader = history_reader(source.engine)
    if reader is None or not settings.CANON_USAGE_ENABLED:
        return None  # no history to read here: its datasets' usage stays unknown
    secrets: list[str] = []
    try:
        url = parse_source_url(source.url)
        secrets = url.secrets()
        since = SourceUsage.objects.filter(source=source, available=True).values_list("read_at", flat=True).first()
        return reader(source_connector(url, source.options), limit=settings.CANON_USAGE_MAX_STATEMENTS, since=since)
    except Exception as exc:  # a connector's bug or a lost connection must not fail the crawl
        logger.warning("query history of %s could not be read (%s)", source.name, exc.__class__.__name__)
        return QueryHistory(False, note=scrub(f"The query history could not be read: {exc}", secrets))


def read_usage(outcome: CrawlOutcome) -> None:
    source = outcome.source
    # Read before the transaction by the crawl; here only when the step is run without it.
    history = outcome.prepared[read_usage] if read_usage in outcome.prepared else read_history(source)
    if history is None:
        return
    try:
        with transaction.atomic():  # a savepoint: a failure here leaves the crawl's own writes alone
            if history.available:
                import_string(RECORD)(source, history, now=outcome.now)
            else:
                usage_note_unavailable(source, history.note, now=outcome.now)
    except Exception:
        logger.exception("usage of %s could not be recorded", source.name)


read_usage.prepare = read_history
