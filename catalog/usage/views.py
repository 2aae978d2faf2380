from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from catalog.connectors.history import READERS
from catalog.core.decorators import staff_required
from catalog.core.storage import monthly_cost, storage_prices
from catalog.sources.models import Source
from catalog.usage.models import SourceUsage
from catalog.usage.selectors import unused_datasets
from catalog.usage.services import usage_keep_text


@staff_required
@require_POST
def query_text_view(request, name):
    """Opt a source in (or out) of keeping its statements' text."""
    source = get_object_or_404(Source, name=name)
    keep = request.POST.get("keep") == "1"
    usage_keep_text(source, keep=keep)
    messages.info(request, f"Query text of {source.name} is {'kept from the next crawl on' if keep else 'no longer kept; what was kept is gone'}.")
    return redirect(source.get_absolute_url() + "#usage")


def unused(request):
    """Datasets nobody read for CANON_UNUSED_DAYS days, biggest first: candidates to drop. Only where the query
    history is known; the rest is listed as "usage unknown", never as unused."""
    days = settings.CANON_UNUSED_DAYS
    today = timezone.now().date()
    known = SourceUsage.objects.filter(available=True)
    datasets = unused_datasets(days).select_related("source", "source__usage", "owner", "owner__user", "usage")
    page = Paginator(datasets, 50).get_page(request.GET.get("page"))
    prices = storage_prices()
    rows = [{"dataset": d, "cost": monthly_cost(d.size_bytes, d.source.engine, prices),
             "history_since": d.source.usage.first_read_at,
             "young_history": d.source.usage.first_read_at and d.source.usage.first_read_at.date() > today - timedelta(days=days)}
            for d in page]
    unknown = []
    readable_ids = set(known.values_list("source_id", flat=True))
    for source in Source.objects.order_by("name"):
        if source.pk in readable_ids:
            continue
        usage = SourceUsage.objects.filter(source=source).first()
        reason = (usage.note if usage and usage.note else
                  "Canon reads no query history from this kind of source." if source.engine.lower() not in READERS
                  else "The query history has not been read yet.")
        unknown.append({"source": source, "reason": reason,
                        "datasets": source.datasets.filter(removed_at__isnull=True).count()})
    return render(request, "usage/unused.html", {"page": page, "rows": rows, "days": days, "unknown": unknown})
