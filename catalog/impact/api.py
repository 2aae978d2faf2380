"""POST /api/impact/: what a change would break, for CI. Login or token required; reads only the catalog."""

import json as jsonlib

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.impact.ddl import ImpactInputError
from catalog.impact.services import impact_check_ddl, impact_check_manifest, impact_source


class ImpactRequestSerializer(serializers.Serializer):
    source = serializers.CharField(required=False, allow_blank=True, help_text="The source the DDL is for (needed when there are several)")
    ddl = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                help_text="DDL in the source's dialect: ALTER TABLE ... DROP/RENAME/ALTER COLUMN TYPE, DROP TABLE/VIEW, "
                                          "CREATE OR REPLACE VIEW")
    manifest = serializers.JSONField(required=False, help_text="A dbt manifest.json (the pull request's), as JSON")

    def validate(self, data):
        if bool(data.get("ddl", "").strip()) == ("manifest" in data):
            raise serializers.ValidationError("Give either ddl or manifest.")
        return data


_HIT = inline_serializer("ImpactHit", {
    "change": serializers.CharField(), "column": serializers.CharField(),
    "path": serializers.ListField(child=serializers.CharField()), "table_level": serializers.BooleanField(),
    "describe": serializers.CharField(),
})
_ANSWER = inline_serializer("ImpactAnswer", {
    "source": serializers.CharField(), "input": serializers.CharField(), "breaks": serializers.BooleanField(),
    "changes": serializers.ListField(child=serializers.DictField()),
    "impacts": serializers.ListField(child=inline_serializer("ImpactObject", {
        "kind": serializers.CharField(), "name": serializers.CharField(), "certified": serializers.BooleanField(),
        "url": serializers.CharField(), "dbt_models": serializers.ListField(child=serializers.CharField()),
        "owners": serializers.ListField(child=serializers.CharField()),
        "watchers": serializers.ListField(child=serializers.CharField()),
        "hits": serializers.ListField(child=_HIT),
    })),
    "notes": serializers.ListField(child=serializers.CharField()),
})
_UNREADABLE = inline_serializer("ImpactUnreadable", {
    "error": serializers.CharField(), "statement": serializers.IntegerField(allow_null=True),
    "line": serializers.IntegerField(allow_null=True), "column": serializers.IntegerField(allow_null=True),
})


class ImpactView(APIView):
    """What a migration (DDL) or a dbt manifest would break: every view, dbt model and metric definition
    reached, with the column path, owners and watchers, certified definitions first. `breaks` is what CI
    fails on; input that cannot be read is a 400 naming the statement and where."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=ImpactRequestSerializer, responses={200: _ANSWER, 400: OpenApiResponse(_UNREADABLE)})
    def post(self, request):
        body = ImpactRequestSerializer(data=request.data)
        if not body.is_valid():  # answered in the same shape as input that cannot be read, for CI to print one way
            problems = [f"{field}: {' '.join(str(m) for m in messages)}" if field != "non_field_errors" else " ".join(str(m) for m in messages)
                        for field, messages in body.errors.items()]
            return Response(ImpactInputError("; ".join(problems)).as_dict(), status=status.HTTP_400_BAD_REQUEST)
        data = body.validated_data
        try:
            if "manifest" in data:
                manifest = data["manifest"]
                if not isinstance(manifest, dict):
                    raise ImpactInputError("manifest.json does not hold a JSON object; it is not a dbt manifest")
                answer = impact_check_manifest(jsonlib.dumps(manifest))
            else:
                answer = impact_check_ddl(impact_source(data.get("source") or None), data["ddl"])
        except ImpactInputError as exc:
            return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
        return Response(answer.as_dict())
