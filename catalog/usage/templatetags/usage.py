from django import template
from django.conf import settings

from catalog.connectors.history import READERS
from catalog.usage.models import ColumnUsage, DatasetUsage, QueryDigest, SourceUsage

register = template.Library()


def source_state(source) -> tuple[SourceUsage | None, bool]:
    """(its usage row, whether Canon reads history there at all)."""
    return SourceUsage.objects.filter(source_id=source.pk).first(), source.engine.lower() in READERS


@register.inclusion_tag("usage/_source.html", takes_context=True)
def usage_source(context, source):
    usage, readable = source_state(source)
    request = context.get("request")
    top = []
    if usage is not None and usage.keep_query_text:
        top = list(QueryDigest.objects.filter(source_id=source.pk).exclude(text="").order_by("-first_seen_at")[:10])
    return {"source": source, "usage": usage, "readable": readable, "top": top,
            "is_staff": bool(request and request.user.is_staff), "request": request}


@register.inclusion_tag("usage/_dataset.html")
def usage_dataset(dataset):
    usage, readable = source_state(dataset.source)
    figures = DatasetUsage.objects.filter(dataset_id=dataset.pk).first()
    columns = []
    if figures is not None:
        names = dict(dataset.columns.values_list("id", "name"))
        columns = [(names.get(c.column_id, "?"), c) for c in
                   ColumnUsage.objects.filter(dataset_id=dataset.pk, queries_90__gt=0).order_by("-queries_30", "-queries_90")[:10]]
    known = bool(usage and usage.available)
    return {"dataset": dataset, "figures": figures, "known": known, "columns": columns, "readable": readable,
            "note": usage.note if usage else "", "unused_days": settings.CANON_UNUSED_DAYS}
