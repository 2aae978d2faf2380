import django_filters
import django_filters.rest_framework
from django.utils.module_loading import import_string
from rest_framework import serializers, viewsets

from catalog.core.pagination import DeferredJoinPagination, StableOrderingFilter
from catalog.inventory.models import Column, Dataset
from catalog.inventory.registry import dataset_detail_fields


class ColumnSerializer(serializers.ModelSerializer):
    class Meta:
        model = Column
        fields = ["id", "name", "position", "data_type", "type_family", "nullable", "default", "is_primary_key", "generated", "comment",
                  "description"]


class DatasetSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="name", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    qualified_name = serializers.CharField(read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="api-dataset-detail")

    class Meta:
        model = Dataset
        fields = ["id", "url", "source", "schema_name", "name", "qualified_name", "kind", "comment", "description", "owner",
                  "row_estimate", "size_bytes", "column_count", "first_seen_at", "last_changed_at", "removed_at"]


class DatasetDetailSerializer(DatasetSerializer):
    columns = ColumnSerializer(many=True, read_only=True)
    last_crawled_at = serializers.DateTimeField(source="source.last_success_at", read_only=True, allow_null=True)

    class Meta(DatasetSerializer.Meta):
        fields = DatasetSerializer.Meta.fields + ["definition", "fingerprint", "last_modified_at", "last_crawled_at", "properties",
                                                  "warnings", "columns"]

    def get_fields(self):
        """The fields above, then those apps above inventory add (catalog/inventory/registry.py)."""
        fields = super().get_fields()
        for name, dotted_path in dataset_detail_fields().items():
            fields[name] = import_string(dotted_path)()
        return fields


class DatasetFilter(django_filters.FilterSet):
    source = django_filters.CharFilter(field_name="source__name")
    schema = django_filters.CharFilter(field_name="schema_name")
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    kind = django_filters.ChoiceFilter(choices=Dataset.KIND_CHOICES)
    removed = django_filters.ChoiceFilter(
        choices=[("true", "only removed datasets"), ("false", "only present datasets")], method="filter_removed",
        help_text="Without it, the list holds present datasets only.",
    )

    class Meta:
        model = Dataset
        fields = ["source", "schema", "name", "kind", "removed"]

    def filter_removed(self, queryset, name, value):
        return queryset.filter(removed_at__isnull=value != "true")


class DatasetViewSet(viewsets.ReadOnlyModelViewSet):
    """Datasets currently in the catalog (removed ones with ?removed=true)."""

    serializer_class = DatasetSerializer
    filterset_class = DatasetFilter
    ordering_fields = ["name", "schema_name", "kind", "row_estimate", "size_bytes", "column_count", "first_seen_at", "id",
                       "usage__queries_30"]  # reads in 30 days (catalog/usage)
    # By source id, not name: (source, schema_name, name) is the unique index, so the default
    # order needs no sort of the whole table.
    ordering = ["source_id", "schema_name", "name"]
    pagination_class = DeferredJoinPagination
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, StableOrderingFilter]

    def get_queryset(self):
        queryset = Dataset.objects.select_related("source", "owner")
        if self.action == "retrieve":
            return queryset.prefetch_related("columns")
        if self.request.query_params.get("removed") not in ("true", "false"):
            queryset = queryset.filter(removed_at__isnull=True)  # a bad value is refused by the filter (400)
        return queryset

    def get_serializer_class(self):
        return DatasetDetailSerializer if self.action == "retrieve" else DatasetSerializer
