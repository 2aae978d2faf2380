"""Catalog pages: home, datasets (list, detail, descriptions) and owners, over a catalog
crawled from a real PostgreSQL warehouse, and over many generated datasets."""

import re
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.inventory.models import Column, Dataset, OwnerIdentity
from catalog.inventory.views import PAGE_SIZE, SORTS
from catalog.crawls.services import source_crawl
from catalog.sources.services import source_create
from tests.factories import make_datasets, make_source
from tests.shop import build_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(warehouse):
    build_shop(warehouse)
    source = source_create(name="shop", url=warehouse.url)
    crawl = source_crawl(source)
    assert crawl.status == "succeeded", crawl.error
    return source


def page_names(response) -> list[str]:
    return [d.name for d in response.context["page"].object_list]


def body(response) -> str:
    return response.content.decode()


def login(client, user):
    client.force_login(user)
    return client


# Home

def test_home_of_an_empty_catalog_says_what_to_do(client, staff_user):
    assert "A staff member adds sources" in body(client.get("/"))
    page = body(login(client, staff_user).get("/"))
    assert "The catalog is empty" in page and 'href="/sources/new/"' in page


def test_home_counts_what_the_catalog_holds(client, shop):
    response = client.get("/")
    assert response.status_code == 200
    text = body(response)
    stats = re.sub(r"\s+", " ", re.search(r'<div class="stats">(.*?)\n</div>', text, re.S).group(1))
    assert "<strong>1</strong><span>source</span>" in stats
    assert "<strong>3</strong><span>schemas</span>" in stats
    assert "<strong>7</strong><span>datasets</span>" in stats
    assert "<strong>22</strong><span>columns</span>" in stats
    # Kinds by their labels, linked to the filtered list.
    assert 'href="/datasets/?kind=materialized_view">materialized view · 1</a>' in text
    assert 'href="/datasets/?kind=partitioned_table">partitioned table · 1</a>' in text
    assert 'href="/datasets/?kind=table">table · 4</a>' in text
    assert "The catalog is empty" not in text
    # The crawl, and the newest datasets.
    assert '<span class="status succeeded">succeeded</span>' in text
    assert "sales.Order Lines" in text and "analytics.revenue_by_day" in text


def test_home_uses_a_constant_number_of_queries(client, django_assert_max_num_queries):
    source = make_source()
    counts = []
    for start, count in ((0, 5), (5, 300)):
        make_datasets(source, count, start=start)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # The catalog's totals (4), what needs attention (2 per item: its count and its examples), certified
    # definitions and the datasets relied on (1 each).
    with django_assert_max_num_queries(14):
        client.get("/")


# Dataset list

def test_dataset_list_shows_present_datasets_with_their_facts(client, shop):
    response = client.get("/datasets/")
    assert response.status_code == 200
    assert page_names(response) == sorted(page_names(response))
    assert set(page_names(response)) == {"Order Lines", "big_orders", "customers", "events", "orders", "revenue_by_day", "tmp_import"}
    text = body(response)
    assert "7 datasets" in text
    customers = Dataset.objects.get(name="customers")
    row = re.search(rf'<tr>\s*<td><a href="/datasets/{customers.pk}/">customers</a>.*?</tr>', text, re.S).group(0)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[:6] == ["customers", "sales", "shop", "table", "sales_team", "6"]
    assert cells[7].endswith("KB")


@pytest.mark.parametrize("query, expected", [
    ("source=shop&schema=sales", {"Order Lines", "customers", "events", "orders"}),
    ("schema=analytics", {"big_orders", "revenue_by_day"}),
    ("kind=view", {"big_orders"}),
    ("kind=materialized_view", {"revenue_by_day"}),
    ("kind=partitioned_table", {"events"}),
    ("q=ORDER", {"Order Lines", "orders", "big_orders"}),
    ("q=order&schema=sales&kind=table", {"Order Lines", "orders"}),
    ("source=nope", set()),
    ("kind=nonsense", set()),
    ("schema=sales&kind=view", set()),
])
def test_dataset_list_filters(client, shop, query, expected):
    response = client.get(f"/datasets/?{query}")
    assert response.status_code == 200
    assert set(page_names(response)) == expected
    if not expected:
        assert "No dataset matches." in body(response)


def test_dataset_list_filters_by_owner_from_the_owners_page(client, shop):
    sales_team = OwnerIdentity.objects.get(name="sales_team")
    owners_page = body(client.get("/owners/"))
    assert f'href="/datasets/?owner={sales_team.pk}"' in owners_page
    response = client.get(f"/datasets/?owner={sales_team.pk}")
    assert page_names(response) == ["customers"]
    assert "owned by <strong>sales_team</strong> in shop" in body(response)
    assert len(page_names(client.get("/datasets/?owner=abc"))) == 7  # a bad owner id is ignored, not an error


def test_removed_datasets_have_their_own_view(client, shop, warehouse):
    warehouse.execute("DROP TABLE scratch.tmp_import")
    assert source_crawl(shop).datasets_removed == 1
    present = client.get("/datasets/")
    assert "tmp_import" not in page_names(present) and len(page_names(present)) == 6
    assert 'href="?removed=1"' in body(present)
    removed = client.get("/datasets/?removed=1")
    assert page_names(removed) == ["tmp_import"]
    text = body(removed)
    assert '<span class="badge removed">removed</span>' in text
    assert '<input type="hidden" name="removed" value="1">' in text  # filtering keeps to removed ones
    assert page_names(client.get("/datasets/?removed=1&schema=sales")) == []


def _expected_order(rows, sort):
    key_fields = {
        "name": ("name", "schema_name", "id"), "schema": ("schema_name", "name", "id"), "kind": ("kind", "name", "id"),
        "rows": ("row_estimate", "id"), "size": ("size_bytes", "id"), "columns": ("column_count", "id"),
        "first_seen": ("first_seen_at", "id"),
    }[sort.lstrip("-")]
    return [r["name"] for r in sorted(rows, key=lambda r: tuple(r[f] for f in key_fields), reverse=sort.startswith("-"))]


@pytest.mark.parametrize("sort", sorted(SORTS))
def test_dataset_list_sorts_by_each_sortable_column_across_pages(client, sort):
    source = make_source()
    make_datasets(source, 130)
    rows = list(Dataset.objects.values("id", "name", "schema_name", "kind", "row_estimate", "size_bytes", "column_count", "first_seen_at"))
    expected = _expected_order(rows, sort)
    first = client.get(f"/datasets/?sort={sort}")
    second = client.get(f"/datasets/?sort={sort}&page=2")
    last = client.get(f"/datasets/?sort={sort}&page=3")
    assert page_names(first) == expected[:PAGE_SIZE]
    assert page_names(second) == expected[PAGE_SIZE:2 * PAGE_SIZE]
    assert page_names(last) == expected[2 * PAGE_SIZE:]
    # The sorted header says so, and the pager keeps the sort.
    state = "descending" if sort.startswith("-") else "ascending"
    assert f'aria-sort="{state}"' in body(first)
    assert f"sort={sort}&amp;page=2" in body(first).replace("%2D", "-")


def test_unknown_rows_and_sizes_sort_last_either_way(client):
    source = make_source()
    make_datasets(source, 10)
    make_datasets(source, 3, start=10, row_estimate=None, size_bytes=None)  # views: nothing to count
    for sort in ("rows", "size"):
        ascending = page_names(client.get(f"/datasets/?sort={sort}"))
        descending = page_names(client.get(f"/datasets/?sort=-{sort}"))
        assert ascending[-3:] == ["t000010", "t000011", "t000012"], sort
        assert descending[-3:] == ["t000012", "t000011", "t000010"], sort
        assert ascending[:10] == list(reversed(descending[:10])), sort


def test_dataset_list_header_toggles_the_direction(client):
    make_datasets(make_source(), 3)
    text = body(client.get("/datasets/"))
    assert 'aria-sort="ascending"><a href="?sort=-name">Name ↑</a>' in text
    assert '<a href="?sort=-rows">Rows (est.)</a>' in text  # numbers: largest first on the first click
    text = body(client.get("/datasets/?sort=-rows"))
    assert 'aria-sort="descending"><a href="?sort=rows">Rows (est.) ↓</a>' in text


def test_dataset_list_paginates_and_tolerates_bad_input(client):
    make_datasets(make_source(), 120)
    first = client.get("/datasets/")
    assert len(page_names(first)) == PAGE_SIZE and "120 datasets" in body(first)
    assert "page 1 of 3" in body(first)
    assert len(page_names(client.get("/datasets/?page=3"))) == 20
    for bad in ("page=999", "page=-1", "page=abc", "page=", "page=1e3", "sort=nonsense", "sort=-id", "sort=name;drop",
                "removed=yes", "owner=-1", "q=%00", "kind=%27", "schema=" + "x" * 5000):
        response = client.get(f"/datasets/?{bad}")
        assert response.status_code == 200, bad
        assert len(page_names(response)) in (0, 20, PAGE_SIZE), bad
    assert page_names(client.get("/datasets/?page=999")) == page_names(client.get("/datasets/?page=3"))
    assert page_names(client.get("/datasets/?page=abc")) == page_names(first)
    assert page_names(client.get("/datasets/?sort=nonsense")) == page_names(first)


def test_dataset_list_uses_a_constant_number_of_queries(client, django_assert_max_num_queries):
    source = make_source()
    counts = []
    for start, count in ((0, 3), (3, 400)):
        make_datasets(source, count, start=start)
        for query in ("", "?sort=-size&kind=table", "?q=t0&page=2"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(f"/datasets/{query}").status_code == 200
            counts.append((query, len(queries)))
    assert counts[:3] == counts[3:], counts
    with django_assert_max_num_queries(5):  # 4, and one for the page's stale badges (catalog/quality)
        client.get("/datasets/?sort=-rows&page=3")


def test_dataset_list_stays_fast_with_100000_datasets(client, django_assert_max_num_queries):
    assert client.get("/datasets/").status_code == 200  # first request: templates and URLconf load
    source = make_source()
    make_datasets(source, 100_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inventory_dataset")  # as autovacuum would have done by now
    assert Dataset.objects.count() == 100_000
    pages = {
        "/datasets/": ["t000000", "t000049"],
        "/datasets/?sort=-rows": None,
        "/datasets/?sort=first_seen&kind=view": None,
        "/datasets/?page=1500": ["t074950", "t074999"],
        "/datasets/?sort=-size&page=1500": None,
        "/datasets/?q=t09999": ["t099990", "t099999"],
        "/api/datasets/?ordering=name&page=1500": ["t074950", "t074999"],
        "/api/datasets/?page=2000": None,
        "/api/datasets/?ordering=-size_bytes&kind=table": None,
    }
    for path, first_and_last in pages.items():
        started = time.monotonic()
        with django_assert_max_num_queries(4 if path.startswith("/api/") else 5):  # pages: one more for stale badges
            response = client.get(path)
        elapsed = time.monotonic() - started
        assert response.status_code == 200
        if path.startswith("/api/"):
            names = [d["name"] for d in response.json()["results"]]
        else:
            names = page_names(response)
        assert len(names) in (PAGE_SIZE, 10), path
        if first_and_last:
            assert [names[0], names[-1]] == first_and_last, path
        assert elapsed < 3, f"{path}: {elapsed:.2f}s"
    assert "100,000 datasets" in body(client.get("/datasets/"))
    assert "page 1,500 of 2,000" in body(client.get("/datasets/?page=1500"))


# Dataset page

def test_dataset_page_shows_columns_with_their_facts(client, shop):
    customers = Dataset.objects.get(schema_name="sales", name="customers")
    response = client.get(f"/datasets/{customers.pk}/")
    assert response.status_code == 200
    text = body(response)
    assert "One row per customer who ever signed up" in text
    assert "sales_team" in text
    rows = {c.name: re.search(rf'<tr id="col-{c.pk}">(.*?)</tr>', text, re.S).group(1) for c in customers.columns.all()}
    assert list(rows) == ["customer_id", "email", "country", "signed_up_at", "tags", "profile"]
    assert 'title="primary key">PK' in rows["customer_id"] and "PK" not in rows["email"]
    assert "<code>bigint</code>" in rows["customer_id"] and '<span class="family" title="type family">integer</span>' in rows["customer_id"]
    assert "GENERATED ALWAYS AS IDENTITY" in rows["customer_id"]
    assert "<td>no</td>" in rows["email"] and '<span class="muted">yes</span>' in rows["tags"]
    assert "Lower-cased at sign-up" in rows["email"]
    assert "<code>&#x27;GB&#x27;::bpchar</code>" in rows["country"]
    assert "<code>character(2)</code>" in rows["country"] and ">text</span>" in rows["country"]
    assert "<code>text[]</code>" in rows["tags"] and ">array</span>" in rows["tags"]
    assert "<code>jsonb</code>" in rows["profile"] and ">json</span>" in rows["profile"]
    lines = Dataset.objects.get(name="Order Lines")
    assert body(client.get(f"/datasets/{lines.pk}/")).count('title="primary key">PK') == 2


def test_view_and_partitioned_table_pages(client, shop):
    view = Dataset.objects.get(name="big_orders")
    text = body(client.get(f"/datasets/{view.pk}/"))
    assert '<span class="kind">view</span>' in text
    assert "<h2>Definition</h2>" in text and "amount &gt; " in text
    events = Dataset.objects.get(name="events")
    text = body(client.get(f"/datasets/{events.pk}/"))
    assert '<span class="kind">partitioned table</span>' in text
    assert "<dt>Rows (estimated)</dt><dd>500</dd>" in text


def test_dataset_page_shows_warnings_and_source_details_escaped(client, shop):
    orders = Dataset.objects.get(name="orders")
    Dataset.objects.filter(pk=orders.pk).update(
        warnings=["statistics are stale <b>run ANALYZE</b>", "column amount: unknown type"],
        properties={"file_format": "parquet", "object_count": 12345, "partitions": ["dt", "region"], "compressed": True},
        last_modified_at=timezone.now(),
    )
    text = body(client.get(f"/datasets/{orders.pk}/"))
    warnings = re.search(r'<section class="warnings".*?</section>', text, re.S).group(0)
    assert "2 problems" in warnings
    assert "statistics are stale &lt;b&gt;run ANALYZE&lt;/b&gt;" in warnings
    assert "column amount: unknown type" in warnings
    details = re.search(r'<section class="properties">.*?</section>', text, re.S).group(0)
    assert "<dt>File format</dt><dd>parquet</dd>" in details
    assert "<dt>Object count</dt><dd>12,345</dd>" in details
    assert "<dt>Partitions</dt><dd>dt, region</dd>" in details
    assert "<dt>Compressed</dt><dd>yes</dd>" in details
    assert "<dt>Data last changed</dt>" in text
    customers = Dataset.objects.get(name="customers")
    plain = body(client.get(f"/datasets/{customers.pk}/"))
    assert 'class="warnings"' not in plain and 'class="properties"' not in plain


def test_dataset_page_of_a_removed_dataset_and_unknown_ids(client, shop, warehouse):
    warehouse.execute("DROP TABLE scratch.tmp_import")
    source_crawl(shop)
    tmp = Dataset.objects.get(name="tmp_import")
    text = body(client.get(f"/datasets/{tmp.pk}/"))
    assert '<span class="badge removed">removed' in text and "not seen since" in text
    missing = client.get("/datasets/999999/")
    assert missing.status_code == 404 and "Not found" in body(missing)
    assert client.get("/datasets/abc/").status_code == 404
    assert client.get("/datasets/99999999999999999999999/").status_code == 404


def test_dataset_page_uses_a_constant_number_of_queries(client, shop, django_assert_max_num_queries):
    counts = []
    for name in ("tmp_import", "customers"):  # 1 column and 6 columns
        dataset = Dataset.objects.get(name=name)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/datasets/{dataset.pk}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # The dataset and its columns, plus a fixed few for the sections other apps add (lineage, ...).
    with django_assert_max_num_queries(10):
        client.get(f"/datasets/{dataset.pk}/")


# Descriptions

def test_anonymous_people_cannot_edit_descriptions(client, shop):
    customers = Dataset.objects.get(name="customers")
    text = body(client.get(f"/datasets/{customers.pk}/?edit=description&edit_column=email"))
    assert "<textarea" not in text and "Edit description" not in text
    assert "Log in</a> to write one" in text
    response = client.post(f"/datasets/{customers.pk}/description/", {"description": "hacked"})
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
    email = customers.columns.get(name="email")
    response = client.post(f"/datasets/{customers.pk}/columns/{email.pk}/description/", {"description": "hacked"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    customers.refresh_from_db()
    email.refresh_from_db()
    assert customers.description == "" and email.description == ""


def test_description_is_markdown_rendered_and_sanitised(client, shop, plain_user):
    customers = Dataset.objects.get(name="customers")
    login(client, plain_user)
    form = body(client.get(f"/datasets/{customers.pk}/?edit=description"))
    assert '<textarea id="id_description" name="description"' in form
    source = (
        "Every **customer**, see [the wiki](https://wiki.example.com/customers).\n\n"
        "<script>alert('xss')</script>\n\n"
        '<img src=x onerror="alert(1)"> <a href="javascript:alert(2)">click</a>\n\n'
        "| a | b |\n|---|---|\n| 1 | 2 |"
    )
    response = client.post(f"/datasets/{customers.pk}/description/", {"description": source})
    assert response.status_code == 302 and response["Location"] == f"/datasets/{customers.pk}/"
    customers.refresh_from_db()
    assert customers.description == source and customers.description_updated_by == plain_user
    text = body(client.get(response["Location"]))
    assert "Description saved." in text
    shown = re.search(r'<div class="markdown">(.*?)</div>', text, re.S).group(1)
    assert "<strong>customer</strong>" in shown
    assert '<a href="https://wiki.example.com/customers" rel="noopener noreferrer nofollow">the wiki</a>' in shown
    assert "<table>" in shown and "<td>2</td>" in shown
    for unsafe in ("<script", "alert(", "onerror", "javascript:", "<img"):
        assert unsafe not in shown, unsafe
    assert "Edited" in text and "by bo" in text
    # The edit box holds the Markdown source, escaped.
    form = body(client.get(f"/datasets/{customers.pk}/?edit=description"))
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in form and "<script>alert" not in form


def test_column_description_is_saved_and_sanitised(client, shop, plain_user):
    customers = Dataset.objects.get(name="customers")
    email = customers.columns.get(name="email")
    login(client, plain_user)
    form = body(client.get(f"/datasets/{customers.pk}/?edit_column=email"))
    assert f'<textarea id="id_col_{email.pk}" name="description"' in form
    response = client.post(f"/datasets/{customers.pk}/columns/{email.pk}/description/",
                           {"description": "Lower-cased, *unique*.<script>alert(1)</script>"})
    assert response.status_code == 302 and response["Location"] == f"/datasets/{customers.pk}/#col-{email.pk}"
    email.refresh_from_db()
    assert email.description == "Lower-cased, *unique*.<script>alert(1)</script>"
    text = body(client.get(f"/datasets/{customers.pk}/"))
    row = re.search(rf'<tr id="col-{email.pk}">(.*?)</tr>', text, re.S).group(1)
    assert "<em>unique</em>" in row and "<script" not in row and "alert(" not in row
    assert "Description of email saved." in text
    # A column of another dataset is not reachable through this one.
    orders = Dataset.objects.get(name="orders")
    stray = client.post(f"/datasets/{orders.pk}/columns/{email.pk}/description/", {"description": "no"})
    assert stray.status_code == 404
    email.refresh_from_db()
    assert email.description.startswith("Lower-cased")


def test_description_edits_only_by_post_and_within_limits(client, shop, plain_user):
    customers = Dataset.objects.get(name="customers")
    login(client, plain_user)
    assert client.get(f"/datasets/{customers.pk}/description/").status_code == 405
    response = client.post(f"/datasets/{customers.pk}/description/", {"description": "x" * 50_001}, follow=True)
    assert response.status_code == 200 and "at most 50,000 characters" in body(response)
    customers.refresh_from_db()
    assert customers.description == ""
    assert client.post("/datasets/999999/description/", {"description": "x"}).status_code == 404
    assert client.post(f"/datasets/{customers.pk}/columns/999999/description/", {"description": "x"}).status_code == 404


# Owners

def test_owners_page_lists_identities_with_their_present_datasets(client, shop, warehouse):
    warehouse.execute("DROP TABLE scratch.tmp_import")
    source_crawl(shop)
    response = client.get("/owners/")
    assert response.status_code == 200
    text = body(response)
    counts = {o.name: o.dataset_total for o in response.context["page"].object_list}
    assert counts == {"postgres": 5, "sales_team": 1}  # the removed table no longer counts
    assert "<form" not in text.split("<main>")[1].split("</main>")[0].replace('role="search"', "")
    assert "Map each to a person" not in text


def test_staff_maps_an_owner_identity_to_a_person_and_an_email(client, shop, staff_user, plain_user):
    sales_team = OwnerIdentity.objects.get(name="sales_team")
    login(client, staff_user)
    text = body(client.get("/owners/"))
    assert f'action="/owners/{sales_team.pk}/map/"' in text
    # One list of people for the whole page, not one per row.
    assert text.count(f'<option value="{plain_user.username}">') == 1 and text.count('list="people"') == OwnerIdentity.objects.count()
    response = client.post(f"/owners/{sales_team.pk}/map/", {"person": plain_user.username, "email": "sales@example.com", "page": "1"})
    assert response.status_code == 302 and response["Location"] == f"/owners/?page=1#owner-{sales_team.pk}"
    sales_team.refresh_from_db()
    assert sales_team.user == plain_user and sales_team.email == "sales@example.com"
    text = body(client.get("/owners/"))
    assert "Owner sales_team mapped to bo and sales@example.com." in text
    assert f'name="person" list="people" value="{plain_user.username}"' in text
    # Everyone sees the mapping; the dataset page names the person and the address.
    client.logout()
    customers = Dataset.objects.get(name="customers")
    page = body(client.get(f"/datasets/{customers.pk}/"))
    assert '<a href="mailto:sales@example.com">sales@example.com</a>' in page and "(bo)" in page
    # Clearing the mapping.
    login(client, staff_user).post(f"/owners/{sales_team.pk}/map/", {"person": "", "email": ""})
    sales_team.refresh_from_db()
    assert sales_team.user is None and sales_team.email == ""


@pytest.mark.parametrize("data, message", [
    ({"person": "", "email": "not an email"}, "&#x27;not an email&#x27; is not an email address."),
    ({"person": "nobody-here", "email": ""}, "no such person (nobody-here)"),
    ({"person": "999999", "email": ""}, "no such person (999999)"),  # a username, never an id
])
def test_bad_owner_mapping_gives_a_message_and_changes_nothing(client, shop, staff_user, plain_user, data, message):
    sales_team = OwnerIdentity.objects.get(name="sales_team")
    sales_team.user, sales_team.email = plain_user, "kept@example.com"
    sales_team.save()
    response = login(client, staff_user).post(f"/owners/{sales_team.pk}/map/", data, follow=True)
    assert response.status_code == 200
    assert message in body(response) and "not mapped" in body(response)
    sales_team.refresh_from_db()
    assert sales_team.user == plain_user and sales_team.email == "kept@example.com"


def test_only_staff_map_owners(client, shop, plain_user):
    sales_team = OwnerIdentity.objects.get(name="sales_team")
    anonymous = client.post(f"/owners/{sales_team.pk}/map/", {"email": "x@example.com"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    refused = login(client, plain_user).post(f"/owners/{sales_team.pk}/map/", {"email": "x@example.com"})
    assert refused.status_code == 403 and "Not allowed" in body(refused)
    assert client.post("/owners/999999/map/", {}).status_code == 403  # refused before looking anything up
    sales_team.refresh_from_db()
    assert sales_team.email == ""


def test_owners_page_uses_a_constant_number_of_queries(client, shop, staff_user, django_assert_max_num_queries):
    for i in range(40):
        OwnerIdentity.objects.create(source=shop, name=f"role_{i}")
    login(client, staff_user)
    with django_assert_max_num_queries(6):
        assert client.get("/owners/").status_code == 200
