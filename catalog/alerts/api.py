from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from catalog.alerts.models import Subscription, SubscriptionExclusion
from catalog.alerts.services import (
    SubscriptionError,
    exclusion_create,
    exclusion_delete,
    subscription_create,
    subscription_delete,
    subscription_resolve_target,
)
from catalog.core.filters import MAX_ID
from catalog.inventory.models import Dataset


class ExclusionSerializer(serializers.ModelSerializer):
    """A dataset the subscription no longer alerts about ("Stop alerts for this dataset")."""

    name = serializers.SerializerMethodField(help_text="SCHEMA.NAME of the dataset")

    class Meta:
        model = SubscriptionExclusion
        fields = ["dataset", "name", "created_at"]
        read_only_fields = fields

    def get_name(self, exclusion) -> str:
        return f"{exclusion.dataset.schema_name}.{exclusion.dataset.name}"


class ExclusionWriteSerializer(serializers.Serializer):
    dataset = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The id of a dataset the subscription covers")


class SubscriptionSerializer(serializers.ModelSerializer):
    target = serializers.CharField(write_only=True, help_text="SOURCE, SOURCE.SCHEMA or SOURCE.SCHEMA.DATASET")
    source = serializers.SlugRelatedField(slug_field="name", read_only=True)
    watching = serializers.CharField(source="target_label", read_only=True)
    exclusions = ExclusionSerializer(many=True, read_only=True,
                                     help_text="Datasets of a source or schema subscription that no longer alert")

    class Meta:
        model = Subscription
        fields = ["id", "target", "watching", "source", "schema_name", "dataset", "mode", "breaking_only", "exclusions", "created_at"]
        read_only_fields = ["schema_name", "dataset", "created_at"]

    def create(self, validated):
        try:
            source, schema, dataset = subscription_resolve_target(validated["target"])
            return subscription_create(user=self.context["request"].user, source=source, schema_name=schema, dataset=dataset,
                                       mode=validated.get("mode", Subscription.IMMEDIATE),
                                       breaking_only=validated.get("breaking_only", False))
        except SubscriptionError as exc:
            raise serializers.ValidationError({"target": str(exc)}) from None


class SubscriptionViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The current user's subscriptions. POST with a target creates (or updates) one; a dataset of a
    source or schema subscription is left out (and let back in) under exclusions/."""

    serializer_class = SubscriptionSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ["mode", "breaking_only"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False) or not self.request.user.is_authenticated:
            return Subscription.objects.none()  # schema generation, and the 401 path
        exclusions = SubscriptionExclusion.objects.select_related("dataset")
        return (Subscription.objects.filter(user=self.request.user).select_related("source", "dataset")
                .prefetch_related(Prefetch("exclusions", queryset=exclusions)).order_by("id"))

    def perform_destroy(self, instance):
        subscription_delete(instance)

    def _answer(self, subscription, code):
        return Response(self.get_serializer(self.get_queryset().get(pk=subscription.pk)).data, status=code)

    @extend_schema(request=ExclusionWriteSerializer, responses={201: SubscriptionSerializer}, filters=False,
                   summary="Stop alerts for one dataset of this source or schema subscription")
    @action(detail=True, methods=["post"], url_path="exclusions", filter_backends=[], pagination_class=None)
    def exclusions_add(self, request, pk=None):
        subscription = self.get_object()
        given = ExclusionWriteSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        dataset = Dataset.objects.filter(pk=given.validated_data["dataset"]).first()
        if dataset is None:
            raise serializers.ValidationError({"dataset": ["No such dataset."]})
        try:
            exclusion_create(subscription, dataset)
        except SubscriptionError as exc:
            raise serializers.ValidationError({"dataset": [str(exc)]}) from None
        return self._answer(subscription, status.HTTP_201_CREATED)

    @extend_schema(
        request=None, responses={204: None}, filters=False,
        parameters=[OpenApiParameter("dataset", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, OpenApiParameter.PATH,
                                     description="The excluded dataset's id")],
        summary="Alert about this dataset again",
    )
    @action(detail=True, methods=["delete"], url_path=r"exclusions/(?P<dataset>[0-9]+)", filter_backends=[], pagination_class=None)
    def exclusions_remove(self, request, pk=None, dataset=None):
        subscription = self.get_object()
        if int(dataset) > MAX_ID:
            raise NotFound("No such exclusion.")
        exclusion_delete(get_object_or_404(SubscriptionExclusion, subscription=subscription, dataset_id=int(dataset)))
        return Response(status=status.HTTP_204_NO_CONTENT)
