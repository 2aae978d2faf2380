import django_filters
from django.shortcuts import get_object_or_404
from rest_framework import generics, serializers, viewsets
from rest_framework.exceptions import ValidationError

from drf_spectacular.utils import extend_schema_field

from catalog.alerts.impact import change_column_impacts
from catalog.core.filters import IdFilter
from catalog.history.models import SchemaChange
from catalog.history.views import _since
from catalog.inventory.models import Dataset, SchemaVersion


_IMPACT = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "description": "view or metric"},
        "name": {"type": "string"},
        "column": {"type": "string", "description": "the column of it hit; \"\" read in a filter or join (or not a dataset); \"*\" table level"},
        "path": {"type": "array", "items": {"type": "string"}, "description": "schema.name.column, from the changed column on"},
        "table_level": {"type": "boolean", "description": "its SQL could not be resolved to columns: every column counts as read"},
        "describe": {"type": "string"},
    },
    "required": ["kind", "name", "column", "path", "table_level", "describe"],
}


class _ChangeListSerializer(serializers.ListSerializer):
    """Follows every listed change's column downstream at once (a few queries a hop), not once per change."""

    def to_representation(self, data):
        changes = list(data.all() if hasattr(data, "all") else data)
        self.child.context["impacts"] = dict(zip([c.pk for c in changes], change_column_impacts(changes)))
        return super().to_representation(changes)


class SchemaChangeSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="name", read_only=True)
    description = serializers.CharField(source="describe", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True, allow_null=True)
    impacts = serializers.SerializerMethodField()

    class Meta:
        model = SchemaChange
        fields = ["id", "source", "dataset", "dataset_name", "crawl", "version", "kind", "severity", "column", "old_value",
                  "new_value", "description", "impacts", "created_at"]
        list_serializer_class = _ChangeListSerializer

    @extend_schema_field({"type": "array", "items": _IMPACT})
    def get_impacts(self, change) -> list:
        """What reads the changed column (removed, renamed, retyped), hop by hop downstream; [] for other changes."""
        known = self.context.get("impacts")
        impacts = known[change.pk] if known is not None and change.pk in known else change_column_impacts([change])[0]
        return [impact.as_dict() for impact in impacts]


class SinceFilter(django_filters.CharFilter):
    def filter(self, qs, value):
        since = _since(value)
        if value and since is None:
            raise ValidationError({"since": "Use a date (2024-05-01) or a span (7d, 24h)."})
        return qs.filter(created_at__gte=since) if since else qs


class ChangeFilter(django_filters.FilterSet):
    source = django_filters.CharFilter(field_name="source__name")
    dataset = IdFilter(field_name="dataset_id")
    severity = django_filters.ChoiceFilter(choices=SchemaChange.SEVERITY_CHOICES)
    kind = django_filters.ChoiceFilter(choices=SchemaChange.KIND_CHOICES)
    since = SinceFilter(help_text="A date (2024-05-01) or a span (7d, 24h)")

    class Meta:
        model = SchemaChange
        fields = ["source", "dataset", "severity", "kind", "since"]


class ChangeViewSet(viewsets.ReadOnlyModelViewSet):
    """Schema changes, newest first."""

    queryset = SchemaChange.objects.select_related("source", "version").order_by("-created_at", "-id")
    serializer_class = SchemaChangeSerializer
    filterset_class = ChangeFilter
    ordering_fields = ["created_at"]


class SchemaVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = SchemaVersion
        fields = ["number", "fingerprint", "crawl", "created_at", "schema"]


class DatasetVersionList(generics.ListAPIView):
    """Every schema version of one dataset, newest first."""

    serializer_class = SchemaVersionSerializer
    filter_backends = []

    def get_queryset(self):
        dataset = get_object_or_404(Dataset, pk=self.kwargs["pk"])
        return dataset.versions.order_by("-number")
