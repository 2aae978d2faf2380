"""Ranking the way people mean it. These run on both catalog backends (PostgreSQL: tsvector + pg_trgm; SQLite: FTS5 +
trigram table): `make test` runs the suite once on each, and nothing here is PostgreSQL-only."""

import pytest

from catalog.alerts.services import subscription_create
from catalog.inventory.models import OwnerIdentity
from catalog.metrics.models import MetricDefinition
from catalog.search.index import search_index_owners
from tests.search.support import add_dataset, add_metric, hits, titles

pytestmark = pytest.mark.django_db


def test_exact_name_beats_prefix_beats_words_beats_description(source):
    add_dataset(source, "sales", "shipments", [("shipment_id", "bigint")],
                description="One row per parcel sent, for orders that shipped.")
    add_dataset(source, "sales", "orders_archive", [("order_id", "bigint")])
    add_dataset(source, "sales", "big_orders_view", [("order_id", "bigint")])
    add_dataset(source, "sales", "orders", [("order_id", "bigint")])

    found = hits("orders", kind="dataset")
    assert [h.title for h in found] == ["sales.orders", "sales.orders_archive", "sales.big_orders_view", "sales.shipments"]
    assert [h.tier for h in found] == ["name", "start of the name", "words of the name", "text"]
    assert found[0].score > found[1].score > found[2].score > found[3].score
    assert "<mark>orders</mark>" in found[3].snippet_html  # the description says why it matched


@pytest.mark.parametrize("query", ["order_items", "orderitems", "order items", "OrderItems", "ORDER-ITEMS", "orderItems"])
def test_naming_styles_all_find_order_items(source, query):
    add_dataset(source, "sales", "orders", [("order_id", "bigint")])
    add_dataset(source, "sales", "items", [("item_id", "bigint")])
    add_dataset(source, "sales", "order_items", [("order_id", "bigint"), ("item_id", "bigint")])
    add_dataset(source, "sales", "order_item_notes", [("note", "text")])
    found = hits(query)
    assert found[0].title == "sales.order_items"
    assert found[0].tier == "name"


def test_camel_case_and_digits_in_stored_names_are_words_too(source):
    add_dataset(source, "web", "PageViewEvents2024", [("sessionId", "text")])
    assert titles("page view events")[0] == "web.PageViewEvents2024"
    assert titles("view events 2024")[0] == "web.PageViewEvents2024"  # words of the name
    assert titles("session id")[0] == "PageViewEvents2024.sessionId"  # a column, named in camelCase


@pytest.mark.parametrize("typo", ["custmer", "customrs", "cutsomers"])
def test_a_typo_finds_customers(source, typo):
    add_dataset(source, "sales", "customers", [("customer_id", "bigint")])
    add_dataset(source, "sales", "orders", [("order_id", "bigint")])
    add_dataset(source, "hr", "contracts", [("contract_id", "bigint")])
    found = hits(typo)
    assert found, typo
    assert found[0].title == "sales.customers"
    assert found[0].tier == "similar name"
    assert "<mark>customers</mark>" in found[0].title_html
    assert "sales.orders" not in [h.title for h in found]


def test_certified_definitions_rank_first_for_the_words_they_own(source, author):
    add_metric(author, source, "revenue_net", title="Net revenue")
    add_metric(author, source, "revenue_recognised", title="Recognised revenue", status=MetricDefinition.CERTIFIED)
    add_dataset(source, "finance", "revenue_ledger_raw", [("amount", "numeric")])
    found = hits("revenue")
    assert [h.title for h in found[:3]] == ["Recognised revenue", "Net revenue", "finance.revenue_ledger_raw"]
    assert found[0].label == "certified"
    assert found[1].label == ""


def test_synonyms_count_as_the_definitions_name(source, author):
    add_dataset(source, "hr", "attrition_survey", [("answer", "text")])
    add_metric(author, source, "churn_rate", title="Churn rate", synonyms=["attrition", "customer_loss"])
    found = hits("attrition")
    assert found[0].title == "Churn rate"
    assert found[0].tier == "name" and found[0].alias == "attrition"
    assert "also called attrition" in found[0].subtitle
    assert found[1].title == "hr.attrition_survey"
    assert hits("customer loss")[0].title == "Churn rate"  # a synonym in another naming style


def test_deprecated_definitions_come_last_and_say_so(source, author):
    old = add_metric(author, source, "active_users", title="Active users (old)")
    add_metric(author, source, "active_users_web", title="Active users on the web")
    add_metric(author, source, "active_users_v2", title="Active users", status=MetricDefinition.CERTIFIED)
    from catalog.metrics.services import metric_set_status

    metric_set_status(old, user=author, status=MetricDefinition.DEPRECATED)
    found = hits("active users", kind="metric")
    assert [h.title for h in found] == ["Active users", "Active users on the web", "Active users (old)"]
    assert found[-1].label == "deprecated" and found[-1].status == "deprecated"


def test_removed_datasets_rank_lower_and_are_labelled(source):
    add_dataset(source, "sales", "invoices", [("invoice_id", "bigint")], removed=True)
    add_dataset(source, "billing", "invoices_2024", [("invoice_id", "bigint")])
    found = hits("invoices", kind="dataset")
    assert [h.title for h in found] == ["billing.invoices_2024", "sales.invoices"]
    assert found[1].label == "removed" and found[0].label == ""
    columns = hits("invoice_id", kind="column")
    assert [h.label for h in columns] == ["", "removed"]  # a removed dataset's columns follow it down


def test_datasets_many_watch_or_definitions_use_rank_higher(source, author, django_user_model):
    clean = add_dataset(source, "web", "events_clean", [("event_id", "bigint")])
    add_dataset(source, "web", "events_raw", [("event_id", "bigint")])
    assert titles("events")[:2] == ["web.events_raw", "web.events_clean"]  # the closer name first, while nobody cares

    for name in ("bo", "cy"):
        subscription_create(user=django_user_model.objects.create_user(name, f"{name}@example.com", "pw"), source=source, dataset=clean)
    assert titles("events")[:2] == ["web.events_clean", "web.events_raw"]

    used = add_dataset(source, "web", "events_full", [("event_id", "bigint")])
    for name in ("wau", "dau", "mau"):
        add_metric(author, source, name, sql="SELECT count(DISTINCT event_id) FROM web.events_full")
    assert used.metric_uses.count() == 3
    ranked = titles("events")
    assert ranked.index("web.events_full") < ranked.index("web.events_raw")  # used by three definitions, though a longer name
    # Columns of a much-used dataset come first among the many columns of one name.
    assert [h.subtitle for h in hits("event_id", kind="column")] == [
        "bigint column of web.events_full in shop", "bigint column of web.events_clean in shop", "bigint column of web.events_raw in shop"]


def test_columns_by_name_and_by_comment(source):
    add_dataset(source, "finance", "payments", [("payment_id", "bigint"), ("iban_hash", "text", "IBAN, pseudonymised with a salted SHA-256")])
    add_dataset(source, "finance", "refunds", [("refund_id", "bigint")])
    found = hits("iban_hash")
    assert (found[0].kind, found[0].title, found[0].tier) == ("column", "payments.iban_hash", "name")
    assert found[0].url.endswith(f"#col-{found[0].object_id}")
    assert hits("iban")[0].title == "payments.iban_hash"
    by_comment = hits("pseudonymised")
    assert by_comment[0].title == "payments.iban_hash" and by_comment[0].tier == "text"
    assert "<mark>pseudonymised</mark>" in by_comment[0].snippet_html
    # A word finds the dataset by the names of its columns too, below the column itself; a name typed as a name
    # (iban_hash) that matched names is answered from names alone.
    assert [h.title for h in hits("iban")][:2] == ["payments.iban_hash", "finance.payments"]
    assert "finance.payments" not in [h.title for h in found]


def test_a_qualified_name_prefers_that_schema(source):
    add_dataset(source, "analytics", "orders", [("order_id", "bigint")])
    add_dataset(source, "sales", "orders", [("order_id", "bigint")])
    assert titles("sales.orders", kind="dataset") == ["sales.orders", "analytics.orders"]
    assert titles("analytics.orders", kind="dataset") == ["analytics.orders", "sales.orders"]
    assert titles("sales.orders.order_id")[0] == "orders.order_id"
    assert hits("sales.orders.order_id")[0].subtitle.startswith("bigint column of sales.orders")


def test_owners_and_tags_are_found_and_filters_narrow(source, author):
    identity = OwnerIdentity.objects.create(source=source, name="finance_team", email="money@example.com")
    search_index_owners([identity.pk])
    add_dataset(source, "finance", "ledger", [("amount", "numeric")], owner=identity)
    add_metric(author, source, "monthly_revenue", title="Monthly revenue", tags=["finance", "board"])
    found = hits("finance")
    kinds = {h.kind: h for h in found}
    assert {"owner", "tag", "dataset", "metric"} <= set(kinds)
    assert kinds["tag"].title == "finance" and kinds["tag"].tier == "name"
    assert kinds["owner"].url == f"/datasets/?owner={identity.pk}"
    assert titles("finance", kind="tag") == ["finance"]
    assert titles("finance", owner="finance_team", kind="dataset") == ["finance.ledger"]
    assert titles("revenue", tag="board") == ["Monthly revenue", "board"]  # the tag lists the definitions it marks
    assert titles("ledger", source="nowhere") == []


def test_nothing_for_nothing(source):
    add_dataset(source, "sales", "orders", [("order_id", "bigint")])
    assert hits("") == [] and hits("   ") == [] and hits("?!") == []
    assert hits("zzzqqqxxx") == []
