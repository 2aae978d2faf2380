import logging

from django.db import transaction

from catalog.celery import app
from catalog.core.queue import task_send
from catalog.core.sourceurl import scrub
from catalog.quality.profiling import profiles_sample
from catalog.quality.services import freshness_check
from catalog.sources.models import Source

logger = logging.getLogger(__name__)
OUTBOX_FLUSH_TASK = "canon.outbox_flush"


def _flush_soon() -> None:
    try:
        task_send(OUTBOX_FLUSH_TASK)
    except Exception as exc:  # the periodic flush sends later
        logger.warning("could not enqueue the outbox flush (%s); the periodic flush will send", scrub(str(exc)))


@app.task(name="canon.freshness_check", ignore_result=True)
def freshness_check_task() -> int:
    """Periodic (beat): data is late even when nobody crawls. Emails go out after commit."""
    with transaction.atomic():
        messages = freshness_check()
        if messages:
            transaction.on_commit(_flush_soon)
    return len(messages)


@app.task(name="canon.profile_sample", ignore_result=True)
def profile_sample_task(source_id: int) -> str:
    """Sampled profiles of one source's tables without engine statistics, within its budget (queue crawl)."""
    source = Source.objects.filter(pk=source_id).first()
    return profiles_sample(source) if source is not None else ""
