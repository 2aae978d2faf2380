"""The search box on every page, the results page with facets and highlights, suggestions, and the API."""

import re

import pytest

from catalog.metrics.models import MetricDefinition
from tests.search.support import add_dataset, add_metric

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(source, author):
    add_dataset(source, "sales", "customers", [("customer_id", "bigint"), ("email", "text", "Lower-cased at sign-up")],
                description="One row per customer who ever signed up.")
    add_dataset(source, "sales", "orders", [("order_id", "bigint"), ("customer_id", "bigint")],
                description="Orders placed by <script>alert('customers')</script> & co.")
    add_dataset(source, "sales", "customers_2019", [("customer_id", "bigint")], removed=True)
    add_metric(author, source, "active_customers", title="Active customers", status=MetricDefinition.CERTIFIED, tags=["product"],
               description="Customers with at least one order in the week.")
    return source


def test_every_page_has_the_search_box_and_it_submits_to_the_results_page(client, catalog):
    for url in ("/", "/datasets/", "/metrics/", "/owners/"):
        text = client.get(url).content.decode()
        form = re.search(r'<form class="search-box" action="(?P<action>[^"]+)" method="get" role="search" '
                         r'data-suggest-url="(?P<suggest>[^"]+)">', text)
        assert form and form["action"] == "/search/" and form["suggest"] == "/search/suggest/", url
        assert 'name="q"' in text and 'aria-controls="search-suggestions"' in text
        assert "search.js" in text and "Find a dataset by name" not in text


def test_results_page_ranks_across_kinds_with_facets_and_marked_words(client, catalog):
    response = client.get("/search/", {"q": "customers"})
    assert response.status_code == 200
    results = response.context["results"]
    assert [(h.kind, h.title) for h in results.hits[:3]] == [
        ("dataset", "sales.customers"), ("metric", "Active customers"), ("dataset", "sales.customers_2019")]
    text = response.content.decode()
    assert '<a href="/datasets/' in text and "<mark>customers</mark>" in text
    assert 'class="badge removed"' in text and 'class="badge metric-certified">certified' in text
    # Escaped first, then marked: the description's markup is shown as text, the match is still marked.
    assert "<script>alert" not in text
    assert "Orders placed by &lt;script&gt;alert(&#x27;<mark>customers</mark>&#x27;)&lt;/script&gt; &amp; co." in text
    facets = {f["name"]: {v["value"]: v["count"] for v in f["values"]} for f in response.context["facets"]}
    assert facets["kind"]["dataset"] == 3 and facets["kind"]["metric"] == 1 and facets["kind"]["column"] == 1  # email, of customers
    assert facets["status"]["removed"] >= 1 and facets["status"]["certified"] == 1
    assert facets["schema"]["sales"] == 4 and facets["source"]["shop"] == 5
    assert facets["tag"]["product"] == 2  # the definition, and the tag itself (it lists the definition)
    assert 'href="?q=customers&amp;kind=column"' in text


def test_facet_links_filter_and_unfilter(client, catalog):
    response = client.get("/search/", {"q": "customers", "kind": "column"})
    assert {h.kind for h in response.context["results"].hits} == {"column"}
    text = response.content.decode()
    assert 'href="?q=customers" title="Remove this filter">Kind: column ×' in text
    removed = client.get("/search/", {"q": "customers", "status": "removed"}).context["results"].hits
    assert [h.title for h in removed] == ["sales.customers_2019"]


def test_results_page_runs_a_fixed_handful_of_queries(client, catalog, django_assert_max_num_queries):
    for i in range(40):
        add_dataset(catalog, f"s{i % 4}", f"customer_events_{i}", [("customer_id", "bigint"), (f"attr_{i}", "text")],
                    description=f"Customer events, batch {i}")
    # Candidates (names, then text; a typo's trigram pass on SQLite), the hits' documents, the stale badges
    # (catalog/quality): a handful, whatever the number of results.
    for query in ("customers", "custmer", "customer id", "sales.customers", "batch"):
        with django_assert_max_num_queries(6):
            response = client.get("/search/", {"q": query})
        assert response.status_code == 200 and response.context["results"].hits, query
    with django_assert_max_num_queries(6):
        assert client.get("/search/", {"q": "customers", "page": 2}).context["results"].hits


def test_empty_and_odd_queries(client, catalog):
    response = client.get("/search/")
    assert response.status_code == 200 and "Names match in any style" in response.content.decode()
    assert client.get("/search/", {"q": "\x00<>"}).status_code == 200
    assert client.get("/search/", {"q": "x" * 5000, "page": "lots", "kind": "nonsense"}).status_code == 200
    text = client.get("/search/", {"q": "zzqqxx"}).content.decode()
    assert "No dataset, column, definition, owner or tag matches" in text


def test_suggestions_are_the_few_best_results_fast(client, catalog, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        response = client.get("/search/suggest/", {"q": "cust"})
    data = response.json()
    assert data["query"] == "cust" and data["more_url"] == "/search/?q=cust"
    # The certified definition owns the word; then the dataset whose name starts so.
    assert [r["title"] for r in data["results"][:2]] == ["Active customers", "sales.customers"]
    assert data["results"][0]["label"] == "certified" and data["results"][0]["url"] == "/metrics/active_customers/"
    assert data["results"][1]["url"].startswith("/datasets/")
    assert data["results"][1]["title_html"] == "sales.<mark>cust</mark>omers"
    # The search API's hit, cut to what a line of the list shows (catalog.search.api.SearchSuggestionSerializer).
    assert set(data["results"][1]) == {"kind", "kind_label", "title", "title_html", "subtitle", "url", "label"}
    assert (data["results"][0]["kind_label"], data["results"][1]["kind_label"]) == ("metric definition", "dataset")
    assert len(data["results"]) <= 8
    assert client.get("/search/suggest/", {"q": "customers"}).json()["results"][0]["title"] == "sales.customers"
    assert client.get("/search/suggest/", {"q": "custmer"}).json()["results"][0]["title"] == "sales.customers"
    assert client.get("/search/suggest/", {"q": ""}).json()["results"] == []


def test_api_returns_ranked_results_with_kind_id_title_snippet_score_url(client, catalog, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        response = client.get("/api/search/", {"q": "customers", "kind": "dataset", "source": "shop"})
    assert response.status_code == 200
    data = response.json()
    first = data["results"][0]
    assert {"kind", "id", "title", "snippet", "score", "url"} <= set(first)
    assert (first["kind"], first["title"], first["url"]) == ("dataset", "sales.customers", f"/datasets/{first['id']}/")
    assert first["snippet"] == "One row per customer who ever signed up."
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True) and data["count"] == len(data["results"]) == 3
    assert [(r["title"], r["label"], r["matched"]) for r in data["results"][1:]] == [
        ("sales.customers_2019", "removed", "start of the name"), ("sales.orders", "", "text")]
    assert data["results"][1]["snippet"] == "Columns: customer_id."
    assert client.get("/api/search/", {"q": "customers", "source": "elsewhere"}).json()["results"] == []
    assert client.get("/api/search/", {"q": "customers", "kind": "table"}).status_code == 400
    assert client.get("/api/search/", {"q": "customers", "limit": "x"}).status_code == 400
    assert len(client.get("/api/search/", {"q": "customer", "limit": 2}).json()["results"]) == 2
    assert "/api/search/" in client.get("/api/schema/").content.decode()
