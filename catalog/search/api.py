from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.search.engine import search
from catalog.search.models import SearchDocument
from catalog.search.plan import Filters

MAX_LIMIT = 100
# Ranking looks at the best few hundred candidates; an offset past this is refused (a number the database
# cannot take was a 500).
MAX_OFFSET = 10_000


class SearchHitSerializer(serializers.Serializer):
    """A catalog.search.engine.Hit as the API answers it."""

    kind = serializers.ChoiceField(choices=SearchDocument.KIND_CHOICES)
    id = serializers.IntegerField(source="object_id", help_text="The object's id (dataset, column, definition, owner identity or tag)")
    title = serializers.CharField()
    subtitle = serializers.CharField()
    snippet = serializers.CharField(help_text="Plain text around the first match in the description or comment")
    score = serializers.FloatField()
    url = serializers.CharField(help_text="The object's page")
    matched = serializers.CharField(source="tier", help_text="name, start of the name, words of the name, similar name or text")
    status = serializers.CharField(help_text="draft, certified or deprecated (definitions); active or removed")
    label = serializers.CharField(help_text="removed, deprecated or certified; empty otherwise")
    source = serializers.CharField()
    schema = serializers.CharField()
    alias = serializers.CharField(help_text="The synonym the definition was found by")


class SearchSuggestionSerializer(SearchHitSerializer):
    """The same hit as the search box shows it while typing (catalog.search.views.suggest): what a line of the
    list needs, the title with its matches marked (escaped HTML) and the kind spelled for people."""

    id = snippet = score = matched = status = source = schema = alias = None
    kind_label = serializers.CharField(source="get_kind_display")
    title_html = serializers.CharField()


class SearchResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    count = serializers.IntegerField(help_text="Ranked candidates (the best few hundred) after filters")
    results = SearchHitSerializer(many=True)
    facets = serializers.DictField(child=serializers.ListField(child=serializers.ListField()))


FILTERS = [OpenApiParameter(name, str, description=f"Only results with this {name}") for name in
           ("kind", "source", "schema", "owner", "tag", "status")]


class SearchAPIView(APIView):
    """Datasets, columns, metric definitions, owners and tags matching q, best first."""

    @extend_schema(
        parameters=[OpenApiParameter("q", str, required=True, description="What to look for"), *FILTERS,
                    OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                                     description=f"At most this many results (default 20, at most {MAX_LIMIT})"),
                    OpenApiParameter("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
                                     description=f"Skip this many results (at most {MAX_OFFSET:,})")],
        responses=SearchResponseSerializer,
    )
    def get(self, request):
        params = request.query_params
        try:
            limit = min(max(int(params.get("limit", 20)), 1), MAX_LIMIT)
            offset = max(int(params.get("offset", 0)), 0)
        except ValueError:
            return Response({"detail": "limit and offset are whole numbers."}, status=400)
        if offset > MAX_OFFSET:
            return Response({"offset": [f"At most {MAX_OFFSET:,}."]}, status=400)
        kind = (params.get("kind") or "").strip()
        if kind and kind not in dict(SearchDocument.KIND_CHOICES):
            return Response({"kind": [f"Choose one of: {', '.join(dict(SearchDocument.KIND_CHOICES))}."]}, status=400)
        results = search(params.get("q", ""), filters=Filters.from_params(params), limit=limit, offset=offset)
        return Response({
            "query": results.query.text, "count": results.total, "results": SearchHitSerializer(results.hits, many=True).data,
            "facets": {name: [[value, count] for value, count in values] for name, values in results.facets.items()},
        })
