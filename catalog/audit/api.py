from rest_framework import serializers, viewsets
from rest_framework.permissions import IsAdminUser

from catalog.audit import present
from catalog.audit.filters import AuditFilter
from catalog.audit.models import AuditEntry
from catalog.core.openapi import DETAIL, CanonAutoSchema, _error


class StaffOnlySchema(CanonAutoSchema):
    """Reading the audit log is for staff: a logged-in person who is not is answered 403, documented."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction == "response":
            responses.setdefault("403", _error("Not staff", DETAIL))
        return responses


class AuditEntrySerializer(serializers.ModelSerializer):
    kind = serializers.CharField(source="content_type.model", read_only=True)
    action = serializers.CharField(source="get_action_display", read_only=True)
    actor = serializers.CharField(source="actor_name", read_only=True)
    summary = serializers.SerializerMethodField()
    object = serializers.CharField(source="object_repr", read_only=True)

    class Meta:
        model = AuditEntry
        fields = ["id", "timestamp", "actor", "origin", "via", "remote_addr", "kind", "object_id", "object", "parent_type",
                  "parent_id", "action", "summary", "changes", "additional_data"]

    def get_summary(self, entry) -> str:
        return present.summary(entry)


class AuditEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit log, newest first: staff only, read only (nobody changes or deletes an entry)."""

    queryset = AuditEntry.objects.select_related("content_type").order_by("-timestamp", "-id")
    serializer_class = AuditEntrySerializer
    permission_classes = [IsAdminUser]
    schema = StaffOnlySchema()
    filterset_class = AuditFilter
    ordering_fields = ["timestamp"]
