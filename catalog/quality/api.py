import django_filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets

from catalog.quality.models import Freshness
from catalog.quality.selectors import freshness_summary

_FRESHNESS_SCHEMA = {
    "type": "object",
    "readOnly": True,
    "nullable": True,
    "properties": {
        "state": {"type": "string", "enum": ["stale", "fresh", "unknown"]},
        "last_changed_at": {"type": "string", "format": "date-time", "nullable": True},
        "changed_after": {"type": "string", "format": "date-time", "nullable": True},
        "how": {"type": "string"},
        "unknown_reason": {"type": "string"},
        "cadence": {"type": "string"},
        "cadence_from": {"type": "string", "enum": ["set", "learned", ""]},
        "deadline": {"type": "string", "format": "date-time", "nullable": True},
        "stale_since": {"type": "string", "format": "date-time", "nullable": True},
        "late_s": {"type": "number", "nullable": True},
    },
}


def _represent(f: Freshness) -> dict:
    summary = freshness_summary(f)
    return {
        "state": summary["state"], "last_changed_at": f.last_changed_at, "changed_after": f.changed_after, "how": f.how,
        "unknown_reason": f.unknown_reason, "cadence": summary["cadence"], "cadence_from": summary["cadence_from"],
        "deadline": f.deadline, "stale_since": f.stale_since, "late_s": summary["late_s"],
    }


@extend_schema_field(_FRESHNESS_SCHEMA)
class DatasetFreshnessField(serializers.Field):
    """When the dataset's data last changed as its engine says, its cadence, and whether it is stale (null: not crawled since)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "*")
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, dataset):
        f = Freshness.objects.filter(dataset_id=dataset.pk).first()
        if f is None:
            return None
        shown, moment = _represent(f), serializers.DateTimeField()
        for key in ("last_changed_at", "changed_after", "deadline", "stale_since"):
            shown[key] = moment.to_representation(shown[key]) if shown[key] else None
        return shown


class FreshnessSerializer(serializers.ModelSerializer):
    dataset_name = serializers.CharField(source="dataset.qualified_name", read_only=True)
    source = serializers.SlugRelatedField(slug_field="name", read_only=True)
    state = serializers.SerializerMethodField()
    cadence = serializers.SerializerMethodField()

    class Meta:
        model = Freshness
        fields = ["dataset", "dataset_name", "source", "state", "last_changed_at", "changed_after", "how", "unknown_reason",
                  "cadence", "cadence_text", "deadline", "stale_since"]

    def get_state(self, f) -> str:
        return freshness_summary(f)["state"]

    def get_cadence(self, f) -> str:
        return freshness_summary(f)["cadence"]


class FreshnessFilter(django_filters.FilterSet):
    source = django_filters.CharFilter(field_name="source__name")
    stale = django_filters.BooleanFilter(field_name="stale_since", lookup_expr="isnull", exclude=True,
                                         help_text="true: only stale datasets; false: only those not stale")

    class Meta:
        model = Freshness
        fields = ["source", "stale"]


class FreshnessViewSet(viewsets.ReadOnlyModelViewSet):
    """Freshness of present datasets: when each last changed, its cadence, stale or not (?stale=true)."""

    queryset = Freshness.objects.filter(dataset__removed_at__isnull=True).select_related("dataset", "source").order_by("dataset_id")
    serializer_class = FreshnessSerializer
    filterset_class = FreshnessFilter
    lookup_field = "dataset"
    ordering_fields = ["stale_since", "last_changed_at", "dataset"]
