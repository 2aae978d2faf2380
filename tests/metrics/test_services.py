"""Registering, versioning, restoring, certifying and linking definitions, through the services."""

import time

import pytest

from catalog.metrics.models import MetricDefinition, MetricEvent
from catalog.metrics.services import (
    MetricError,
    MetricPermissionError,
    metric_add_synonym,
    metric_check_sql,
    metric_register,
    metric_restore,
    metric_set_status,
    metric_update,
)
from tests.metrics.conftest import WAU_SQL, add_dataset

pytestmark = pytest.mark.django_db


def register(user, **fields):
    data = {"name": "weekly_active_users", "title": "Weekly active users", "sql": WAU_SQL, "dialect": "postgres", **fields}
    return metric_register(user=user, data=data)


def test_register_links_datasets_and_columns_and_makes_version_one(shop_catalog, ana):
    source, datasets = shop_catalog
    definition = register(ana, description="People who **log in**.", tags="product, Engagement", synonyms=["WAU"])
    assert definition.status == MetricDefinition.DRAFT
    assert list(definition.owners.all()) == [ana], "the author owns a definition registered without owners"
    assert sorted(t.name for t in definition.tags.all()) == ["engagement", "product"]
    assert [s.name for s in definition.synonyms.all()] == ["wau"]
    assert [u.dataset_id for u in definition.dataset_uses.all()] == [datasets["sales.events"].pk]
    assert {(u.column_name, u.data_type) for u in definition.column_uses.all()} == {
        ("occurred_at", "timestamp with time zone"), ("customer_id", "bigint"), ("event_type", "text"),
    }
    assert all(u.column_id for u in definition.column_uses.all())
    version = definition.versions.get()
    assert (version.number, version.author, version.message) == (1, ana, "registered")
    assert version.snapshot["sql"] == WAU_SQL and version.snapshot["owners"] == ["ana"]
    assert definition.warnings == [] and len(definition.fingerprint) == 64


def test_unqualified_ambiguous_and_missing_names_are_warnings(shop_catalog, ana):
    definition = register(ana, sql="SELECT sum(o.amount) FROM orders o JOIN sales.refunds r ON r.order_id = o.order_id")
    assert "Table orders is ambiguous: analytics.orders, sales.orders; qualify it with its schema." in definition.warnings
    assert "Table sales.refunds is not in the catalog of source shop." not in definition.warnings  # no source was chosen
    assert "Table sales.refunds is not in the catalog." in definition.warnings
    assert not definition.dataset_uses.exists()


def test_a_source_scopes_resolution_and_sets_the_dialect(shop_catalog, ana):
    source, datasets = shop_catalog
    other = add_dataset(shop_catalog[0].__class__.objects.create(name="other", engine="snowflake", url_display="x", url_encrypted="x"),
                        "sales", "events", [("customer_id", "NUMBER")])
    check = metric_check_sql(WAU_SQL, "postgres")
    assert any("is in several sources" in w for w in check.warnings)
    definition = register(ana, source="shop", dialect="")
    assert definition.dialect == "postgres"
    assert [u.dataset_id for u in definition.dataset_uses.all()] == [datasets["sales.events"].pk] != [other.pk]


@pytest.mark.parametrize("fields, field, message", [
    ({"name": "Weekly Active"}, "name", "lower-case letters, digits and underscores"),
    ({"name": "new"}, "name", "reserved"),
    ({"sql": "SELECT count(* FROM sales.events"}, "sql", "does not parse as PostgreSQL"),
    ({"sql": ""}, "sql", "Write the SQL query"),
    ({"dialect": "oracle"}, "dialect", "Choose one of"),
    ({"owners": ["nobody"]}, "owners", "No user named nobody"),
    ({"source": "nowhere"}, "source", "no source named 'nowhere'"),
    ({"grain": "fortnight"}, "grain", "Choose one of"),
])
def test_bad_input_is_refused_with_a_message_per_field(shop_catalog, ana, fields, field, message):
    with pytest.raises(MetricError) as caught:
        register(ana, **fields)
    assert message in " ".join(caught.value.errors[field])
    assert not MetricDefinition.objects.exists()


def test_anonymous_users_cannot_register(shop_catalog):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(MetricPermissionError):
        register(AnonymousUser())


def test_every_edit_is_a_version_and_an_old_one_can_be_restored(shop_catalog, ana):
    definition = register(ana)
    same = metric_update(definition, user=ana, data={"title": "Weekly active users"})
    assert same.version == 1 and definition.versions.count() == 1, "no change, no version"
    metric_update(definition, user=ana, data={"title": "Weekly active customers", "unit": "customers"}, message="clearer title")
    metric_update(definition, user=ana, data={"sql": WAU_SQL.replace("'login'", "'purchase'")})
    assert definition.version == 3
    versions = list(definition.versions.order_by("number"))
    assert [v.message for v in versions] == ["registered", "clearer title", "changed sql"]
    assert versions[1].snapshot["title"] == "Weekly active customers"
    restored = metric_restore(definition, user=ana, number=1)
    assert restored.version == 4 and restored.title == "Weekly active users" and "'login'" in restored.sql
    assert restored.versions.get(number=4).message == "restored version 1"
    assert restored.unit == ""


def test_only_owners_or_staff_edit_certify_and_deprecate(shop_catalog, ana, bo, staff):
    definition = register(ana)
    with pytest.raises(MetricPermissionError, match="Only the owners of weekly_active_users or staff can certify it"):
        metric_set_status(definition, user=bo, status="certified")
    with pytest.raises(MetricPermissionError):
        metric_update(definition, user=bo, data={"title": "Mine now"})
    metric_set_status(definition, user=ana, status="certified", note="agreed with product")
    replacement = metric_register(user=bo, data={"name": "logged_in_customers", "sql": "SELECT count(*) FROM sales.customers"})
    metric_set_status(definition, user=staff, status="deprecated", replaced_by="logged_in_customers")
    definition.refresh_from_db()
    assert definition.status == "deprecated" and definition.replaced_by == replacement
    events = list(definition.events.order_by("id").values_list("kind", "old_status", "new_status", "user__username", "note"))
    assert events == [("status", "draft", "certified", "ana", "agreed with product"), ("status", "certified", "deprecated", "sam", "")]
    with pytest.raises(MetricError, match="cannot replace itself"):
        metric_set_status(definition, user=staff, status="deprecated", replaced_by="weekly_active_users")


def test_anyone_logged_in_adds_a_synonym_and_synonyms_are_unique(shop_catalog, ana, bo):
    definition = register(ana)
    metric_add_synonym(definition, user=bo, synonym="WAU")
    assert [s.name for s in definition.synonyms.all()] == ["wau"]
    version = definition.versions.get(number=2)
    assert (version.author, version.message) == (bo, "added synonym wau")
    with pytest.raises(MetricError, match="wau is already a synonym of weekly_active_users"):
        register(bo, name="wau", sql="SELECT count(*) FROM sales.orders")
    with pytest.raises(MetricError, match="already a synonym"):
        metric_register(user=bo, data={"name": "logins", "sql": "SELECT count(*) FROM sales.orders", "synonyms": "wau"})


def test_a_certified_definition_that_is_broken_cannot_be_certified_again(shop_catalog, ana):
    definition = register(ana)
    MetricDefinition.objects.filter(pk=definition.pk).update(broken=True, broken_reasons=["column x was removed"])
    definition.refresh_from_db()
    with pytest.raises(MetricError, match="fix its SQL before certifying"):
        metric_set_status(definition, user=ana, status="certified")
    assert not MetricEvent.objects.exists()


def test_snowflake_and_bigquery_sql_resolve_against_their_catalogs(db, ana):
    from catalog.sources.models import Source

    snowflake = Source.objects.create(name="snow", engine="snowflake", url_display="snowflake://u:***@acct/ANALYTICS", url_encrypted="x")
    add_dataset(snowflake, "SALES", "ORDERS", [("ORDER_ID", "NUMBER(38,0)"), ("AMOUNT", "NUMBER(12,2)"), ("STATUS", "TEXT")])
    bigquery = Source.objects.create(name="bq", engine="bigquery", url_display="bigquery://my-project", url_encrypted="x")
    add_dataset(bigquery, "sales", "orders", [("order_id", "INT64"), ("amount", "NUMERIC"), ("ordered_at", "TIMESTAMP")])

    snow = metric_register(user=ana, data={"name": "paid_revenue", "source": "snow", "sql": """
        select sum(o.amount) as revenue, count_if(o.status = 'paid') as paid
        from analytics.sales.orders o  -- database.schema.table, lower case: Snowflake folds it
    """})
    assert snow.dialect == "snowflake" and snow.warnings == []
    assert {(u.column_name, u.data_type) for u in snow.column_uses.all()} == {("AMOUNT", "NUMBER(12,2)"), ("STATUS", "TEXT")}

    bq = metric_register(user=ana, data={"name": "monthly_order_value", "source": "bq", "sql": """
        SELECT DATE_TRUNC(DATE(ordered_at), MONTH) AS month, SUM(amount) AS value
        FROM `my-project.sales.orders`
        GROUP BY month
    """})
    assert bq.dialect == "bigquery" and bq.warnings == []
    assert {u.column_name for u in bq.column_uses.all()} == {"amount", "ordered_at"}


# SQL within the size and depth limits that still takes minutes to qualify: a 12 KB chain of additions, and CTEs
# that double their columns each (star expansion). Without the time budget these took 118 s and 20 s.
SLOW_SQL = [
    "SELECT " + "a + " * 3000 + "1 FROM sales.orders",
    "WITH c0 AS (SELECT order_id, amount FROM sales.orders) "
    + "".join(f", c{i} AS (SELECT * FROM c{i - 1} x JOIN c{i - 1} y ON x.order_id = y.order_id)" for i in range(1, 14))
    + " SELECT count(*) FROM c13",
]


@pytest.mark.parametrize("sql", SLOW_SQL, ids=["additions", "doubling-ctes"])
def test_reading_sql_stops_at_the_time_budget(shop_catalog, ana, settings, sql):
    settings.CANON_METRIC_SQL_TIME_BUDGET = 0.5
    # The budget bounds the work one request can cause: this thread's CPU time, which other processes on a
    # busy machine cannot inflate (wall time can; it only has to stay far from the minutes these took). What
    # runs past the stop is not Python the stop can reach: the catalog queries and, likely, the garbage collector
    # walking this long-lived test process's heap (1.56 s of CPU once, late in a full run on a quiet machine).
    started, cpu_started = time.monotonic(), time.thread_time()
    check = metric_check_sql(sql, "postgres")
    assert time.thread_time() - cpu_started < 3
    assert time.monotonic() - started < 15
    assert not check.ok and "stopped reading this SQL after 0.5 seconds" in str(check.error)
    with pytest.raises(MetricError) as caught:
        register(ana, sql=sql)
    assert "stopped reading this SQL" in str(caught.value.errors["sql"])
    assert not MetricDefinition.objects.exists()


def test_ordinary_sql_is_well_within_the_budget(shop_catalog, settings):
    settings.CANON_METRIC_SQL_TIME_BUDGET = 0.5
    check = metric_check_sql(WAU_SQL, "postgres")
    assert check.ok and check.used_datasets() and check.formatted.startswith("-- customers active")
