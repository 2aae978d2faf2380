from rest_framework import mixins, permissions, serializers, viewsets

from catalog.alerts.models import Subscription
from catalog.alerts.services import SubscriptionError, subscription_create, subscription_delete, subscription_resolve_target


class SubscriptionSerializer(serializers.ModelSerializer):
    target = serializers.CharField(write_only=True, help_text="SOURCE, SOURCE.SCHEMA or SOURCE.SCHEMA.DATASET")
    source = serializers.SlugRelatedField(slug_field="name", read_only=True)
    watching = serializers.CharField(source="target_label", read_only=True)

    class Meta:
        model = Subscription
        fields = ["id", "target", "watching", "source", "schema_name", "dataset", "mode", "breaking_only", "created_at"]
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
    """The current user's subscriptions. POST with a target creates (or updates) one."""

    serializer_class = SubscriptionSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ["mode", "breaking_only"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False) or not self.request.user.is_authenticated:
            return Subscription.objects.none()  # schema generation, and the 401 path
        return Subscription.objects.filter(user=self.request.user).select_related("source", "dataset").order_by("id")

    def perform_destroy(self, instance):
        subscription_delete(instance)
