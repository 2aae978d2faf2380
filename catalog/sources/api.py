from django.db.models import Count, Q
from rest_framework import serializers, viewsets

from catalog.sources.models import Crawl, Source


class CrawlSerializer(serializers.ModelSerializer):
    started_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True,
                                              help_text="Who asked for it; null for schedules, commands and retries")

    class Meta:
        model = Crawl
        fields = ["id", "status", "trigger", "started_by", "started_at", "finished_at", "duration_s", "datasets_seen", "datasets_added",
                  "datasets_changed", "datasets_removed", "columns_seen", "error", "warnings", "retry_at"]


class SourceSerializer(serializers.ModelSerializer):
    url = serializers.CharField(source="url_display", read_only=True, help_text="Secrets are masked as ***")
    dataset_count = serializers.IntegerField(read_only=True)
    last_crawl = CrawlSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Source
        fields = ["id", "name", "engine", "url", "include_schemas", "exclude_schemas", "options", "description", "created_at",
                  "last_success_at", "last_crawl", "dataset_count"]


class SourceViewSet(viewsets.ReadOnlyModelViewSet):
    """Sources. Their URLs are shown with secrets masked; adding a source is a staff action."""

    queryset = Source.objects.select_related("last_crawl", "last_crawl__started_by").annotate(
        dataset_count=Count("datasets", filter=Q(datasets__removed_at__isnull=True))
    ).order_by("name")
    serializer_class = SourceSerializer
    filterset_fields = ["engine", "name"]
    ordering_fields = ["name", "created_at", "last_success_at"]
