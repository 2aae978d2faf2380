"""/api/metrics/: definitions (CRUD through the services), their versions, and a check that saves nothing.

Creating or editing a definition that looks like existing ones answers 409 with
the candidates; send the same request with "force": true and a "reason" to save
it anyway (the reason is kept on the version).
"""

import django_filters
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from catalog.core.filters import IdFilter
from catalog.metrics.models import MetricColumnUse, MetricDatasetUse, MetricDefinition, MetricVersion
from catalog.metrics.services import (
    DuplicateMetric,
    MetricError,
    MetricPermissionError,
    metric_add_synonym,
    metric_check,
    metric_delete,
    metric_register,
    metric_set_status,
    metric_update,
    metric_watch,
)


class MetricSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-metric-detail")
    page_url = serializers.CharField(source="get_absolute_url", read_only=True)
    source = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    owners = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    synonyms = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    replaced_by = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    datasets = serializers.SerializerMethodField()
    columns = serializers.SerializerMethodField()

    class Meta:
        model = MetricDefinition
        fields = ["id", "url", "page_url", "name", "title", "description", "sql", "dialect", "source", "time_dimension", "grain",
                  "unit", "format", "owners", "external_owners", "tags", "synonyms", "status", "replaced_by", "origin", "dbt_unique_id",
                  "version", "broken", "broken_reasons", "warnings", "datasets", "columns", "created_at", "updated_at"]

    def get_datasets(self, definition) -> list[dict]:
        return [{"id": u.dataset_id, "name": u.dataset_name, "source": u.dataset.source.name, "removed": u.dataset.removed_at is not None}
                for u in definition.dataset_uses.all()]

    def get_columns(self, definition) -> list[dict]:
        names = {u.dataset_id: u.dataset_name for u in definition.dataset_uses.all()}
        return [{"dataset_id": u.dataset_id, "dataset": names.get(u.dataset_id, ""), "column": u.column_name, "data_type": u.data_type}
                for u in definition.column_uses.all()]


class MetricWriteSerializer(serializers.Serializer):
    """The fields a client may send; anything left out keeps its value on update."""

    name = serializers.CharField(required=False)
    title = serializers.CharField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    sql = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    dialect = serializers.CharField(required=False, allow_blank=True)
    source = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    time_dimension = serializers.CharField(required=False, allow_blank=True)
    grain = serializers.CharField(required=False, allow_blank=True)
    unit = serializers.CharField(required=False, allow_blank=True)
    format = serializers.CharField(required=False, allow_blank=True)
    owners = serializers.ListField(child=serializers.CharField(), required=False)
    tags = serializers.ListField(child=serializers.CharField(), required=False)
    synonyms = serializers.ListField(child=serializers.CharField(), required=False)
    message = serializers.CharField(required=False, allow_blank=True, help_text="Kept with the new version")
    force = serializers.BooleanField(required=False, default=False, help_text="Save although it looks like existing definitions")
    reason = serializers.CharField(required=False, allow_blank=True, help_text="Why, when forcing; kept with the version")

    def service_data(self) -> dict:
        return {k: v for k, v in self.validated_data.items() if k not in ("message", "force", "reason")}


class MetricVersionSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = MetricVersion
        fields = ["number", "author", "created_at", "message", "override_reason", "override_candidates", "snapshot"]


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=MetricDefinition.STATUS_CHOICES)
    replaced_by = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="Name of the definition to use instead")
    note = serializers.CharField(required=False, allow_blank=True)


class MetricFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MetricDefinition.STATUS_CHOICES)
    owner = django_filters.CharFilter(field_name="owners__username")
    tag = django_filters.CharFilter(field_name="tags__name")
    broken = django_filters.BooleanFilter()
    origin = django_filters.ChoiceFilter(choices=MetricDefinition.ORIGIN_CHOICES)
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    dataset = IdFilter(field_name="dataset_uses__dataset_id", help_text="Definitions that read this dataset")

    class Meta:
        model = MetricDefinition
        fields = ["status", "owner", "tag", "broken", "origin", "name", "dataset"]


DUPLICATE = OpenApiResponse(
    inline_serializer("MetricDuplicates", {"detail": serializers.CharField(), "candidates": serializers.ListField(child=serializers.DictField())}),
    description="It looks like existing definitions: the candidates; send again with force and a reason to save anyway",
)


def _duplicate_response(exc: DuplicateMetric) -> Response:
    return Response({
        "detail": "This looks like existing definitions. Add your name as a synonym of one of them, or send again with "
                  "\"force\": true and a \"reason\".",
        "candidates": [c.as_dict() for c in exc.candidates],
    }, status=status.HTTP_409_CONFLICT)


class MetricViewSet(viewsets.ModelViewSet):
    """Metric definitions. Writes go through the same services as the pages; every edit is a new version."""

    serializer_class = MetricSerializer
    filterset_class = MetricFilter
    ordering_fields = ["name", "status", "updated_at", "created_at", "id"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return MetricDefinition.objects.select_related("source", "replaced_by").prefetch_related(
            "owners", "tags", "synonyms",
            Prefetch("dataset_uses", queryset=MetricDatasetUse.objects.select_related("dataset__source")),
            Prefetch("column_uses", queryset=MetricColumnUse.objects.order_by("dataset_id", "column_name")),
        ).distinct()

    def _answer(self, definition, code=status.HTTP_200_OK):
        definition = self.get_queryset().get(pk=definition.pk)
        return Response(MetricSerializer(definition, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=MetricWriteSerializer, responses={201: MetricSerializer, 409: DUPLICATE})
    def create(self, request, *args, **kwargs):
        given = MetricWriteSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            definition = metric_register(user=request.user, data=given.service_data(), message=given.validated_data.get("message", ""),
                                         force=given.validated_data["force"], reason=given.validated_data.get("reason", ""))
        except DuplicateMetric as exc:
            return _duplicate_response(exc)
        except MetricError as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        except MetricPermissionError as exc:
            raise PermissionDenied(str(exc)) from None
        return self._answer(definition, status.HTTP_201_CREATED)

    @extend_schema(request=MetricWriteSerializer, responses={200: MetricSerializer, 409: DUPLICATE})
    def update(self, request, *args, **kwargs):
        definition = self.get_object()
        given = MetricWriteSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        try:
            metric_update(definition, user=request.user, data=given.service_data(), message=given.validated_data.get("message", ""),
                          force=given.validated_data.get("force", False), reason=given.validated_data.get("reason", ""))
        except DuplicateMetric as exc:
            return _duplicate_response(exc)
        except MetricError as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        except MetricPermissionError as exc:
            raise PermissionDenied(str(exc)) from None
        return self._answer(definition)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        try:
            metric_delete(self.get_object(), user=request.user)
        except MetricPermissionError as exc:
            raise PermissionDenied(str(exc)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=MetricVersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request, pk=None):
        definition = self.get_object()
        versions = definition.versions.select_related("author").order_by("-number")
        page = self.paginate_queryset(versions)
        data = MetricVersionSerializer(page if page is not None else versions, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(request=MetricWriteSerializer, responses={200: dict})
    @action(detail=False, methods=["post"], permission_classes=[IsAuthenticated])
    def check(self, request):
        """Parse, resolve and look for duplicates, without saving. Send "instance": ID to check an edit of that definition."""
        given = MetricWriteSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        instance = None
        if request.data.get("instance"):
            instance = MetricDefinition.objects.filter(pk=request.data.get("instance")).first()
        result = metric_check(given.service_data(), instance=instance)
        check = result["check"]
        ok = check is not None and check.ok
        return Response({
            "ok": ok and not result["errors"],
            "errors": result["errors"],
            "sql_error": result["sql_error"].as_dict() if result["sql_error"] else None,
            "warnings": check.warnings if ok else [],
            "datasets": [{"id": d.pk, "name": d.qualified_name, "source": d.source.name} for d in check.used_datasets()] if ok else [],
            "columns": [{"dataset": d.qualified_name, "column": name, "data_type": t} for d, name, t in check.used_columns()] if ok else [],
            "formatted_sql": check.formatted if check else "",
            "fingerprint": check.analysis.fingerprint if ok else "",
            "candidates": [c.as_dict() for c in result["candidates"]],
        })

    @extend_schema(request=StatusSerializer, responses={200: MetricSerializer})
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        """Certify, deprecate (with replaced_by) or return to draft. Owners and staff only."""
        definition = self.get_object()
        given = StatusSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            metric_set_status(definition, user=request.user, status=given.validated_data["status"],
                              replaced_by=given.validated_data.get("replaced_by") or None, note=given.validated_data.get("note", ""))
        except MetricError as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        except MetricPermissionError as exc:
            raise PermissionDenied(str(exc)) from None
        return self._answer(definition)

    @extend_schema(request=None, responses={200: MetricSerializer})
    @action(detail=True, methods=["post"])
    def synonyms(self, request, pk=None):
        """Add {"synonym": "attrition"}: any logged-in user; the way to avoid registering a duplicate."""
        definition = self.get_object()
        try:
            metric_add_synonym(definition, user=request.user, synonym=str(request.data.get("synonym", "")))
        except MetricError as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        return self._answer(definition)

    @extend_schema(request=None, responses={200: MetricSerializer})
    @action(detail=True, methods=["post", "delete"])
    def watch(self, request, pk=None):
        """POST to watch (hear when it breaks), DELETE to stop."""
        definition = self.get_object()
        metric_watch(definition, user=request.user, watching=request.method == "POST")
        return self._answer(definition)
