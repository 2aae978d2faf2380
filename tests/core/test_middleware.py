"""CANON_REQUIRE_LOGIN for pages: anonymous visitors are sent to log in, except to the login page
and the unsubscribe links (their signed token is the credential); the API answers for itself."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import make_datasets, make_source

pytestmark = pytest.mark.django_db

PAGES = ["/", "/sources/", "/sources/shop/", "/datasets/", "/changes/", "/metrics/", "/search/?q=orders", "/owners/",
         "/watching/"]


@pytest.fixture
def catalog():
    source = make_source("shop")
    make_datasets(source, 3)
    return source


def test_with_login_required_every_page_sends_anonymous_visitors_to_log_in(client, settings, catalog):
    settings.CANON_REQUIRE_LOGIN = True
    for path in [*PAGES, f"/datasets/{catalog.datasets.first().pk}/"]:
        response = client.get(path)
        assert response.status_code == 302, (path, response.status_code)
        assert response["Location"].startswith("/login/?next="), path
    assert client.post("/watch/", {"source": catalog.pk}).status_code == 302
    assert client.get("/admin/")["Location"].startswith("/admin/login/"), "the admin keeps its own login"


def test_with_login_required_people_who_logged_in_read_everything(client, settings, plain_user, catalog):
    settings.CANON_REQUIRE_LOGIN = True
    client.force_login(plain_user)
    for path in PAGES:
        assert client.get(path).status_code == 200, path


def test_login_and_unsubscribe_stay_open(client, settings):
    settings.CANON_REQUIRE_LOGIN = True
    assert client.get("/login/").status_code == 200
    # A bad token is the unsubscribe view's own answer (400), not a redirect to log in.
    assert client.get("/unsubscribe/not-a-token/").status_code == 400
    assert client.post("/unsubscribe/not-a-token/").status_code == 400


def _patterns(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def test_every_unsubscribe_link_is_marked_login_not_required():
    """Every route under unsubscribe/ is reached from an email, by someone who may not be logged in."""
    unsubscribe = [(route, p) for route, p in _patterns(get_resolver()) if route.startswith("unsubscribe/")]
    assert unsubscribe, "the unsubscribe links are routed"
    for route, pattern in unsubscribe:
        assert getattr(pattern.callback, "login_required", True) is False, route


def test_without_login_required_pages_are_open(client, settings, catalog):
    settings.CANON_REQUIRE_LOGIN = False
    for path in PAGES[:-1]:  # watching is a person's own page: it asks for a login either way
        assert client.get(path).status_code == 200, path
