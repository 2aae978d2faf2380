from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.usage.models import ColumnUsage, DatasetUsage, SourceUsage

USAGE_SCHEMA = {
    "type": "object",
    "properties": {
        "known": {"type": "boolean", "description": "False: the source's query history cannot be read (usage unknown, not unused)"},
        "note": {"type": "string"},
        "queries_per_day_30": {"type": "number"}, "queries_per_day_90": {"type": "number"},
        "queries_30": {"type": "integer"}, "queries_90": {"type": "integer"},
        "users_30": {"type": "integer"}, "users_90": {"type": "integer"},
        "last_used_on": {"type": "string", "format": "date", "nullable": True},
        "columns": {"type": "array", "items": {"type": "object"}, "description": "Per column, the ones read in 90 days"},
    },
}


@extend_schema_field(USAGE_SCHEMA)
class DatasetUsageField(serializers.Field):
    """A dataset's usage from its source's query history: queries per day over 30 and 90 days, distinct users,
    last read, and the same per column."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "*")
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, dataset):
        source_usage = SourceUsage.objects.filter(source_id=dataset.source_id).first()
        known = bool(source_usage and source_usage.available)
        figures = DatasetUsage.objects.filter(dataset_id=dataset.pk).first() if known else None
        names = dict(dataset.columns.values_list("id", "name")) if figures else {}
        columns = [{"column": names.get(c.column_id, ""), "queries_30": c.queries_30, "queries_90": c.queries_90,
                    "users_30": c.users_30, "users_90": c.users_90, "last_used_on": c.last_used_on}
                   for c in ColumnUsage.objects.filter(dataset_id=dataset.pk).order_by("-queries_30")] if figures else []
        figures = figures or DatasetUsage(dataset_id=dataset.pk)
        return {
            "known": known, "note": source_usage.note if source_usage else "",
            "queries_per_day_30": round(figures.per_day_30, 3), "queries_per_day_90": round(figures.per_day_90, 3),
            "queries_30": figures.queries_30, "queries_90": figures.queries_90, "users_30": figures.users_30,
            "users_90": figures.users_90, "last_used_on": figures.last_used_on, "columns": columns,
        }
