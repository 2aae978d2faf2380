"""The REST API: sources (secrets masked), datasets with filters and columns, token auth,
the OpenAPI schema, query counts, and bad input that never gives a 500."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from catalog.inventory.models import Dataset
from catalog.crawls.services import source_crawl
from catalog.sources.services import source_create
from tests.factories import make_datasets, make_source
from tests.shop import build_shop

pytestmark = pytest.mark.django_db

UNREACHABLE = "postgresql://reader:Api-Unreachable-Secret@127.0.0.1:1/nowhere"


@pytest.fixture
def shop(warehouse):
    build_shop(warehouse)
    source = source_create(name="shop", url=warehouse.url)
    assert source_crawl(source).status == "succeeded"
    return source


def names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {d["name"] for d in response.json()["results"]}


# Sources

def test_sources_show_only_the_masked_url(client, pg, shop):
    broken = source_create(name="broken", url=UNREACHABLE)
    source_crawl(broken)
    response = client.get("/api/sources/")
    assert response.status_code == 200
    raw = response.content.decode()
    assert pg.password not in raw and "Api-Unreachable-Secret" not in raw
    results = {s["name"]: s for s in response.json()["results"]}
    assert list(results) == ["broken", "shop"]
    shop_json = results["shop"]
    assert shop_json["url"] == f"postgresql://postgres:***@127.0.0.1:{pg.port}/{shop.url_display.rsplit('/', 1)[1]}"
    assert shop_json["engine"] == "postgresql" and shop_json["dataset_count"] == 7
    assert shop_json["options"] == {}
    assert shop_json["last_crawl"]["status"] == "succeeded" and shop_json["last_crawl"]["datasets_added"] == 7
    assert not {"url_encrypted", "password"} & set(shop_json)
    failed = results["broken"]["last_crawl"]
    assert failed["status"] == "failed" and "127.0.0.1:1" in failed["error"]
    detail = client.get(f"/api/sources/{shop.pk}/")
    assert detail.json()["url"] == shop_json["url"] and pg.password not in detail.content.decode()
    assert [s["name"] for s in client.get("/api/sources/?name=shop").json()["results"]] == ["shop"]
    assert client.get("/api/sources/?name=nope").json()["results"] == []


def test_sources_are_read_only(client, staff_user, shop):
    assert client.post("/api/sources/", {"name": "x", "url": "postgresql://a:b@h/db"}).status_code in (401, 403)
    client.force_login(staff_user)
    assert client.post("/api/sources/", {"name": "x", "url": "postgresql://a:b@h/db"}).status_code == 405
    assert client.delete(f"/api/sources/{shop.pk}/").status_code == 405


def test_sources_endpoint_uses_a_constant_number_of_queries(client, django_assert_max_num_queries):
    counts = []
    for batch in (["a1"], ["b1", "b2", "b3", "b4", "b5"]):
        for name in batch:
            source = source_create(name=name, url=f"postgresql://u:p@127.0.0.1:1/{name}")
            source_crawl(source)
            make_datasets(source, 20)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/sources/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(2):
        client.get("/api/sources/")


# Datasets

def test_datasets_list_present_datasets_with_their_facts(client, shop):
    response = client.get("/api/datasets/")
    body = response.json()
    assert body["count"] == 7
    by_name = {d["name"]: d for d in body["results"]}
    customers = by_name["customers"]
    assert customers["source"] == "shop" and customers["schema_name"] == "sales"
    assert customers["qualified_name"] == "sales.customers" and customers["kind"] == "table"
    assert customers["owner"] == "sales_team" and customers["column_count"] == 6
    assert customers["comment"] == "One row per customer who ever signed up"
    assert customers["url"].endswith(f"/api/datasets/{customers['id']}/")
    assert "columns" not in customers  # the list stays light
    assert by_name["events"]["kind"] == "partitioned_table" and by_name["events"]["row_estimate"] == 500
    # Default order: source, schema, name.
    assert [d["qualified_name"] for d in body["results"]][:2] == ["analytics.big_orders", "analytics.revenue_by_day"]


@pytest.mark.parametrize("query, expected", [
    ("source=shop", {"Order Lines", "big_orders", "customers", "events", "orders", "revenue_by_day", "tmp_import"}),
    ("source=nope", set()),
    ("schema=analytics", {"big_orders", "revenue_by_day"}),
    ("schema=sales&name=order", {"Order Lines", "orders"}),
    ("name=ORDER", {"Order Lines", "orders", "big_orders"}),
    ("kind=materialized_view", {"revenue_by_day"}),
    ("kind=view&source=shop", {"big_orders"}),
    ("name=zzz", set()),
])
def test_dataset_filters(client, shop, query, expected):
    assert names(client.get(f"/api/datasets/?{query}")) == expected


def test_removed_datasets_only_on_request(client, shop, warehouse):
    warehouse.execute("DROP TABLE scratch.tmp_import")
    source_crawl(shop)
    assert "tmp_import" not in names(client.get("/api/datasets/"))
    removed = client.get("/api/datasets/?removed=true").json()["results"]
    assert [d["name"] for d in removed] == ["tmp_import"] and removed[0]["removed_at"]
    assert len(names(client.get("/api/datasets/?removed=false"))) == 6


def test_dataset_detail_has_its_columns(client, shop):
    customers = Dataset.objects.get(name="customers")
    Dataset.objects.filter(pk=customers.pk).update(warnings=["stale statistics"], properties={"labels": {"team": "sales"}})
    response = client.get(f"/api/datasets/{customers.pk}/")
    assert response.status_code == 200
    detail = response.json()
    assert detail["qualified_name"] == "sales.customers" and detail["last_crawled_at"]
    assert detail["warnings"] == ["stale statistics"] and detail["properties"] == {"labels": {"team": "sales"}}
    columns = detail["columns"]
    assert [c["name"] for c in columns] == ["customer_id", "email", "country", "signed_up_at", "tags", "profile"]
    assert [c["position"] for c in columns] == [1, 2, 3, 4, 5, 6]
    by_name = {c["name"]: c for c in columns}
    assert by_name["customer_id"] | {} == {**by_name["customer_id"], "data_type": "bigint", "type_family": "integer",
                                           "is_primary_key": True, "nullable": False}
    assert by_name["email"]["comment"] == "Lower-cased at sign-up" and by_name["email"]["nullable"] is False
    assert by_name["country"]["default"] == "'GB'::bpchar" and by_name["country"]["data_type"] == "character(2)"
    assert by_name["tags"]["type_family"] == "array" and by_name["tags"]["nullable"] is True
    assert by_name["profile"]["default"] is None and by_name["profile"]["is_primary_key"] is False
    view = client.get(f"/api/datasets/{Dataset.objects.get(name='big_orders').pk}/").json()
    assert view["kind"] == "view" and "amount > " in view["definition"]


def test_datasets_endpoint_orders_and_paginates(client):
    make_datasets(make_source(), 120)
    first = client.get("/api/datasets/?ordering=-row_estimate").json()
    assert first["count"] == 120 and len(first["results"]) == 50 and first["next"]
    estimates = [d["row_estimate"] for d in first["results"]]
    assert estimates == sorted(estimates, reverse=True)
    assert estimates[0] == max(Dataset.objects.values_list("row_estimate", flat=True))
    last = client.get("/api/datasets/?page=3").json()
    assert len(last["results"]) == 20 and last["next"] is None


def test_datasets_endpoint_ordering_is_stable_and_puts_unknowns_last(client):
    source = make_source()
    make_datasets(source, 120, column_count=5)  # all equal: only the tie-break orders them
    make_datasets(source, 2, start=120, row_estimate=None)
    ids = []
    for page in (1, 2, 3):
        ids += [d["id"] for d in client.get(f"/api/datasets/?ordering=column_count&page={page}").json()["results"]]
    assert len(ids) == len(set(ids)) == 122 and ids == sorted(ids)
    last = client.get("/api/datasets/?ordering=-row_estimate&page=3").json()["results"]
    estimates = [d["row_estimate"] for d in last]
    assert estimates[-2:] == [None, None] and None not in estimates[:-2]


@pytest.mark.parametrize("path, statuses", [
    ("/api/datasets/abc/", {404}),
    ("/api/datasets/999999/", {404}),
    ("/api/datasets/-1/", {404}),
    ("/api/datasets/99999999999999999999999/", {404}),
    ("/api/sources/abc/", {404}),
    ("/api/sources/999999/", {404}),
    ("/api/datasets/?page=999", {404}),
    ("/api/datasets/?page=abc", {404}),
    ("/api/datasets/?page=0", {404}),
    ("/api/datasets/?kind=bogus", {400}),
    ("/api/datasets/?removed=maybe", {400}),
    ("/api/datasets/?name=%00", {400}),
    ("/api/datasets/?source=%00", {400}),
    ("/api/datasets/?ordering=nonsense", {200}),
    ("/api/datasets/?ordering=-password", {200}),
    ("/api/datasets/?source=no-such-source", {200}),
    ("/api/sources/?ordering=url_encrypted", {200}),
    ("/api/sources/?name=%00", {400}),
    # Numbers the database cannot hold are refused by the filter (a 500 on PostgreSQL before), as are non-ids.
    ("/api/metrics/?dataset=1e30", {400}),
    ("/api/metrics/?dataset=-1", {400}),
    ("/api/changes/?dataset=1e30", {400}),
    ("/api/changes/?dataset=abc", {400}),
    ("/api/search/?q=orders&offset=100000", {400}),
    ("/api/datasets/-1/versions/", {404}),
    ("/api/no-such-thing/", {404}),
])
def test_bad_input_never_gives_a_500(client, shop, path, statuses):
    response = client.get(path)
    assert response.status_code in statuses, (path, response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")


def test_datasets_list_uses_a_constant_number_of_queries(client, django_assert_max_num_queries):
    source = make_source()
    counts = []
    for start, count in ((0, 60), (60, 400)):
        make_datasets(source, count, start=start)
        for query in ("", "?kind=table&ordering=-size_bytes", "?name=t0&page=2"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(f"/api/datasets/{query}").status_code == 200
            counts.append(len(queries))
    assert counts[:3] == counts[3:]
    with django_assert_max_num_queries(3):  # count, the page's ids, its rows with source and owner
        client.get("/api/datasets/")


def test_dataset_detail_uses_a_constant_number_of_queries(client, shop):
    counts = []
    for name in ("tmp_import", "customers"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/api/datasets/{Dataset.objects.get(name=name).pk}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# Authentication and schema

def test_token_authentication(client, staff_user, shop):
    token = Token.objects.create(user=staff_user)
    ok = client.get("/api/datasets/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert ok.status_code == 200 and ok.json()["count"] == 7
    # Authenticated by the token, a write gets past the permission check to the view (which has
    # no writes); without it, it is refused first: 401 with the scheme to use (token auth is listed first).
    assert client.post("/api/datasets/", {}, HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 405
    anonymous = client.post("/api/datasets/", {})
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Token"
    bad = client.get("/api/datasets/", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert bad.status_code == 401 and bad.json()["detail"] == "Invalid token." and bad["WWW-Authenticate"] == "Token"
    staff_user.is_active = False
    staff_user.save()
    refused = client.get("/api/datasets/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert refused.status_code == 401 and refused.json()["detail"] == "User inactive or deleted."


# CANON_REQUIRE_LOGIN: on in production, off in the embedded default (tests/test_settings.py); switched here.

READ_PATHS = ["/api/", "/api/sources/", "/api/datasets/", "/api/changes/", "/api/metrics/", "/api/search/?q=orders",
              "/api/schema/"]


@pytest.mark.parametrize("credentials", [{}, {"HTTP_AUTHORIZATION": "Token not-a-real-token"}, {"HTTP_AUTHORIZATION": "Basic YTpi"}])
def test_with_login_required_the_api_answers_401_and_shows_nothing(client, settings, pg, shop, credentials):
    settings.CANON_REQUIRE_LOGIN = True
    for path in [*READ_PATHS, f"/api/sources/{shop.pk}/", f"/api/datasets/{Dataset.objects.first().pk}/"]:
        response = client.get(path, **credentials)
        assert response.status_code == 401, (path, response.status_code)
        assert response["WWW-Authenticate"] == "Token", path
        assert "shop" not in response.content.decode() and str(pg.port) not in response.content.decode()


def test_with_login_required_a_token_or_a_session_reads_the_api(client, settings, plain_user, shop):
    settings.CANON_REQUIRE_LOGIN = True
    token = Token.objects.create(user=plain_user)
    for path in READ_PATHS:
        assert client.get(path, HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200, path
    client.force_login(plain_user)
    assert names(client.get("/api/sources/")) == {"shop"}
    assert client.get("/api/schema/").status_code == 200


def test_without_login_required_reading_is_open_but_writing_and_bad_tokens_are_not(client, settings, shop):
    settings.CANON_REQUIRE_LOGIN = False
    for path in READ_PATHS:
        assert client.get(path).status_code == 200, path
    assert client.post("/api/subscriptions/", {"dataset": 1}).status_code == 401
    assert client.get("/api/sources/", HTTP_AUTHORIZATION="Token not-a-real-token").status_code == 401


def test_openapi_schema(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.") and schema["info"]["title"] == "Canon API"
    paths = schema["paths"]
    for path in ("/api/sources/", "/api/sources/{id}/", "/api/datasets/", "/api/datasets/{id}/"):
        assert "get" in paths[path], path
    parameters = {p["name"] for p in paths["/api/datasets/"]["get"]["parameters"]}
    assert {"source", "schema", "name", "kind", "removed", "page", "ordering"} <= parameters
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    column = schema["components"]["schemas"]["Column"]["properties"]
    assert {"data_type", "type_family", "nullable", "default", "is_primary_key", "comment"} <= set(column)
    source = schema["components"]["schemas"]["Source"]["properties"]
    assert "url_encrypted" not in source and "Secrets are masked" in source["url"]["description"]
    yaml = client.get("/api/schema/")
    assert yaml.status_code == 200 and b"openapi: 3." in yaml.content


# Page size

def test_page_size_is_honoured_up_to_its_maximum(client, django_assert_max_num_queries):
    make_datasets(make_source(), 620)
    first = client.get("/api/datasets/?page_size=200&ordering=name").json()
    assert first["count"] == 620 and len(first["results"]) == 200 and "page_size=200" in first["next"]
    fourth = client.get("/api/datasets/?page_size=200&page=4&ordering=name").json()
    assert len(fourth["results"]) == 20 and fourth["next"] is None
    with django_assert_max_num_queries(3):  # as many queries for 500 rows as for 50
        assert len(client.get("/api/datasets/?page_size=100000").json()["results"]) == 500, "at most 500"
    for ignored in ("0", "-5", "abc", ""):
        assert len(client.get(f"/api/datasets/?page_size={ignored}").json()["results"]) == 50, ignored
    assert client.get("/api/datasets/?page_size=500&page=3").status_code == 404


def test_page_size_is_the_same_on_every_list_endpoint(client):
    for name in ("a", "b", "c"):
        make_source(name=name)
    page = client.get("/api/sources/?page_size=2").json()
    assert [s["name"] for s in page["results"]] == ["a", "b"] and page["count"] == 3 and page["next"]


def test_page_size_is_in_the_openapi_schema(client):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for path in ("/api/datasets/", "/api/sources/", "/api/changes/", "/api/subscriptions/", "/api/metrics/",
                 "/api/datasets/{id}/versions/"):
        [page_size] = [p for p in paths[path]["get"]["parameters"] if p["name"] == "page_size"]
        assert page_size["in"] == "query" and page_size["schema"]["type"] == "integer", path
        assert "at most 500" in page_size["description"], path
