"""The API's root page (/api/): every endpoint, not only the router's lists, and where the reference is."""

from rest_framework.reverse import reverse
from rest_framework.routers import APIRootView

# Endpoints outside the router, by URL name: they answer at the root too.
EXTRA_ENDPOINTS = {"search": "api-search", "impact": "api-impact", "schema": "api-schema", "docs": "api-docs"}


class CanonAPIRootView(APIRootView):
    """Canon's REST API: the catalog's sources, datasets, schema changes, metric definitions and subscriptions,
    and search across all of them. Session or token authentication (`Authorization: Token ...`).

    `docs` is the browsable, searchable reference (Swagger UI); `schema` the OpenAPI document it reads."""

    name = "API root"

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        for name, url_name in EXTRA_ENDPOINTS.items():
            response.data[name] = reverse(url_name, request=request, format=kwargs.get("format"))
        return response
