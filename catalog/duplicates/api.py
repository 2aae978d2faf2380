"""/api/duplicates/: groups of copies with their members, evidence and monthly cost; and decisions about a pair."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from catalog.core.filters import IdFilter
from catalog.duplicates.models import Decision, DuplicateGroup
from catalog.duplicates.selectors import dataset_duplicates, describe_groups, filter_groups, groups_queryset
from catalog.duplicates.services import DecisionError, duplicate_decide
from catalog.inventory.models import Dataset


class DatasetRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="qualified_name")
    source = serializers.CharField(source="source.name")
    engine = serializers.CharField(source="source.engine")
    kind = serializers.CharField()


class DecisionSerializer(serializers.ModelSerializer):
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Decision
        fields = ["dataset_a", "dataset_b", "verdict", "original", "reason", "decided_by", "decided_at"]


class MemberSerializer(serializers.Serializer):
    dataset = DatasetRefSerializer()
    is_original = serializers.BooleanField()
    score = serializers.IntegerField(help_text="0-100; 100 for the original")
    certain = serializers.BooleanField()
    summary = serializers.CharField(help_text='"92%: same 14 columns, 1 extra"')
    evidence = serializers.ListField(child=serializers.CharField())
    like = serializers.IntegerField(source="like.pk", allow_null=True, default=None, help_text="The dataset it was matched with")
    owner = serializers.CharField(source="dataset.owner.name", allow_null=True, default=None)
    size_bytes = serializers.IntegerField(source="dataset.size_bytes", allow_null=True)
    row_estimate = serializers.IntegerField(source="dataset.row_estimate", allow_null=True)
    last_modified_at = serializers.DateTimeField(source="dataset.last_modified_at", allow_null=True)
    cost_per_month = serializers.DecimalField(source="cost", max_digits=14, decimal_places=2, allow_null=True,
                                              help_text="USD: size x the engine's price per GB-month")
    read_by = serializers.SerializerMethodField(help_text="Views reading it (lineage)")
    definitions = serializers.SerializerMethodField(help_text="Metric definitions reading it")
    decision = DecisionSerializer(allow_null=True)

    def get_read_by(self, row) -> list[str]:
        return [v.qualified_name for v in row.read_by]

    def get_definitions(self, row) -> list[str]:
        return [d.name for d in row.definitions]


class DuplicateGroupSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="group.pk")
    kind = serializers.ChoiceField(source="group.kind", choices=DuplicateGroup.KIND_CHOICES)
    score = serializers.IntegerField(source="group.score")
    certain = serializers.BooleanField(source="group.certain")
    size = serializers.IntegerField(source="group.size", help_text="Datasets alike, including any the size cap leaves out")
    warning = serializers.CharField(source="group.warning")
    found_at = serializers.DateTimeField(source="group.found_at")
    copies_cost_per_month = serializers.DecimalField(source="cost", max_digits=14, decimal_places=2)
    members = MemberSerializer(many=True, source="rows", help_text="The original first")


class DecideSerializer(serializers.Serializer):
    dataset = serializers.PrimaryKeyRelatedField(queryset=Dataset.objects.all())
    other = serializers.PrimaryKeyRelatedField(queryset=Dataset.objects.all())
    verdict = serializers.ChoiceField(choices=Decision.VERDICT_CHOICES)
    original = serializers.PrimaryKeyRelatedField(queryset=Dataset.objects.all(), required=False, allow_null=True,
                                                  help_text="For copy: which of the two is the original (default: other)")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


_REF = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "source": {"type": "string"},
                                         "summary": {"type": "string"}}, "required": ["id", "name", "source", "summary"]}


@extend_schema_field({
    "type": "object", "readOnly": True,
    "properties": {"group": {"type": "integer", "nullable": True}, "copy_of": {**_REF, "nullable": True},
                   "evidence": {"type": "array", "items": {"type": "string"}}, "copies": {"type": "array", "items": _REF}},
    "required": ["group", "copy_of", "evidence", "copies"],
})
class DatasetDuplicatesField(serializers.Field):
    """On a dataset's detail: whose copy it looks like (with the evidence), or its copies (at most 20); the group's id
    for /api/duplicates/{id}/."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "*")
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, dataset):
        found = dataset_duplicates(dataset)
        membership, group = found["membership"], found["group"]

        def ref(d, summary):
            return {"id": d.pk, "name": d.qualified_name, "source": d.source.name, "summary": summary}

        if membership is not None:
            return {"group": membership.group_id, "copy_of": ref(membership.group.original, membership.summary),
                    "evidence": membership.evidence, "copies": []}
        return {"group": group.pk if group else None, "copy_of": None, "evidence": [],
                "copies": [ref(m.dataset, m.summary) for m in found["copies"]]}


class DuplicateFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=DuplicateGroup.KIND_CHOICES, method="noop")
    source = django_filters.CharFilter(method="noop", help_text="A source's name: groups with a member there")
    min_score = django_filters.NumberFilter(method="noop", min_value=0, max_value=100)
    certain = django_filters.ChoiceFilter(choices=[("true", "only certain copies"), ("false", "only likely ones")], method="noop")
    dataset = IdFilter(method="noop", help_text="Groups holding this dataset")
    q = django_filters.CharFilter(method="noop", help_text="Part of a member's name")

    class Meta:
        model = DuplicateGroup
        fields = ["kind", "source", "min_score", "certain", "dataset", "q"]

    def noop(self, queryset, name, value):
        return queryset

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        return filter_groups(queryset, kind=data.get("kind") or "", source=data.get("source") or "",
                             min_score=int(data["min_score"]) if data.get("min_score") is not None else None,
                             certain={"true": True, "false": False}.get(data.get("certain") or ""), dataset=int(data["dataset"]) if data.get("dataset") else None,
                             q=(data.get("q") or "")[:200])


class DuplicateGroupViewSet(viewsets.ReadOnlyModelViewSet):
    """Groups of datasets holding the same data (or views computing it), best evidence first: the original and each
    copy with its evidence, source, owner, size, rows, freshness, readers and monthly storage cost."""

    queryset = groups_queryset()
    serializer_class = DuplicateGroupSerializer
    filterset_class = DuplicateFilter

    def _described(self, groups):
        described, _ = describe_groups(groups)
        return [{"group": g, "rows": rows, "cost": cost} for g, rows, cost in described]

    def list(self, request, *args, **kwargs):
        groups = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(groups)
        data = self.get_serializer(self._described(page if page is not None else groups), many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self._described([self.get_object()])[0]).data)

    @extend_schema(request=DecideSerializer, responses={201: DecisionSerializer})
    @action(detail=False, methods=["post"], permission_classes=[IsAuthenticated])
    def decide(self, request):
        """Say what two datasets are: "copy" (dataset is a copy of original, by default other), "not" (never paired
        again) or "keep" (both stay, with a reason). Recorded with who and when; the latest decision on a pair wins."""
        given = DecideSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        try:
            decision = duplicate_decide(data["dataset"], data["other"], verdict=data["verdict"], user=request.user,
                                        reason=data.get("reason", ""), original=data.get("original"))
        except DecisionError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)
