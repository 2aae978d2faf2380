"""The API's own pages: the root lists every endpoint (search included), the reference is Swagger UI served from
the package (no CDN), and the API and admin pages carry Canon's name."""

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_the_api_root_lists_every_endpoint_with_search_and_the_reference(client):
    data = client.get("/api/", HTTP_ACCEPT="application/json").json()
    assert {"sources", "datasets", "changes", "subscriptions", "metrics", "duplicates", "freshness", "audit", "search", "impact",
            "schema", "docs"} <= set(data)
    assert data["search"].endswith("/api/search/") and data["docs"].endswith("/api/docs/")
    browsable = client.get("/api/", HTTP_ACCEPT="text/html").content.decode()
    assert "<title>API root · Canon API</title>" in browsable
    assert '>Canon</a>' in browsable and 'href="/api/docs/">Reference</a>' in browsable


def test_the_reference_is_swagger_ui_from_the_package(client, settings):
    html = client.get("/api/docs/").content.decode()
    assert "<title>Canon API reference</title>" in html
    scripts = re.findall(r'<script src="([^"]+)"', html) + re.findall(r'href="([^"]+\.css)"', html)
    assert scripts and all(src.startswith(settings.STATIC_URL + "drf_spectacular_sidecar/") for src in scripts), scripts
    assert "cdn" not in html.lower() and "/api/schema/" in html
    # The files are there to serve.
    for src in scripts:
        assert finders.find(src[len(settings.STATIC_URL):]), src


def test_the_reference_needs_a_login_when_the_catalog_does(client, settings, plain_user):
    settings.CANON_REQUIRE_LOGIN = True
    assert client.get("/api/docs/").status_code in (302, 401, 403)
    client.force_login(plain_user)
    assert client.get("/api/docs/").status_code == 200


def test_admin_pages_carry_canons_name(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    html = client.get("/admin/").content.decode()
    assert "Canon administration" in html and "<title>Sources, users, owners and settings | Canon admin</title>" in html
