"""Before a save, Canon finds definitions that already compute the same thing, and says so; not for different metrics."""

import pytest

from catalog.metrics.models import MetricDefinition
from catalog.metrics.services import (
    SAME_SQL_REASON,
    DuplicateMetric,
    MetricError,
    metric_check,
    metric_register,
    metric_set_status,
    metric_update,
)
from tests.metrics.conftest import WAU_REWRITTEN, WAU_SQL

pytestmark = pytest.mark.django_db


@pytest.fixture
def wau(shop_catalog, ana):
    definition = metric_register(user=ana, data={
        "name": "weekly_active_users", "title": "Weekly active users", "sql": WAU_SQL, "grain": "week", "synonyms": ["actives"],
        "description": "Customers who logged in at least once during the calendar week, counted once each.",
    })
    metric_set_status(definition, user=ana, status="certified")
    return definition


def attempt(user, **fields):
    with pytest.raises(DuplicateMetric) as caught:
        metric_register(user=user, data={"sql": "SELECT count(*) FROM sales.orders", **fields})
    return caught.value.candidates


def test_same_sql_reformatted_with_other_aliases_is_caught(wau, bo):
    reformatted = """select date_trunc('WEEK', X.OCCURRED_AT) as starts, COUNT(distinct X.customer_id) as people -- logins only
                     from Sales.Events X
                     where X.event_type = 'login' group by 1"""
    candidates = attempt(bo, name="login_people", sql=reformatted)
    assert [c.definition.name for c in candidates] == ["weekly_active_users"]
    assert candidates[0].kinds == {"sql"}
    assert candidates[0].summary == "Looks like weekly_active_users, certified, owned by Ana"
    assert not MetricDefinition.objects.filter(name="login_people").exists()


def test_same_aggregate_and_filters_through_a_cte_is_caught(wau, bo):
    candidates = attempt(bo, name="engaged_shoppers", sql=WAU_REWRITTEN)
    assert candidates[0].definition == wau
    assert "aggregate" in candidates[0].kinds
    assert "count(DISTINCT sales.events.customer_id)" in candidates[0].reasons[0]


@pytest.mark.parametrize("name, sql", [
    ("weekly_purchasers", WAU_SQL.replace("'login'", "'purchase'")),
    ("monthly_logins", WAU_SQL.replace("'week'", "'month'")),
    ("weekly_login_events", WAU_SQL.replace("count(DISTINCT e.customer_id)", "count(e.event_id)")),
    ("revenue", "SELECT date_trunc('month', o.ordered_at), sum(o.amount) FROM sales.orders o WHERE o.status = 'paid' GROUP BY 1"),
])
def test_genuinely_different_metrics_are_not_duplicates(wau, bo, name, sql):
    definition = metric_register(user=bo, data={"name": name, "sql": sql})
    assert definition.pk and not definition.versions.get().override_candidates


def test_a_close_name_a_synonym_or_a_similar_description_is_a_candidate(wau, bo):
    assert attempt(bo, name="weekly_active_user")[0].kinds == {"name"}
    typed = metric_check({"name": "actives", "sql": "SELECT count(*) FROM sales.orders"})
    assert typed["errors"]["name"] == ["actives is already a synonym of weekly_active_users."]
    assert typed["candidates"][0].kinds == {"synonym"} and typed["candidates"][0].definition == wau
    assert attempt(bo, name="usage_count", description="Customers who logged in at least once during the week, each counted once.")[0].kinds \
        == {"description"}


def test_a_different_grain_is_not_the_same_metric(wau, bo):
    definition = metric_register(user=bo, data={"name": "login_count_monthly", "sql": WAU_SQL, "grain": "month"})
    assert definition.grain == "month"


def test_force_needs_a_reason_which_is_kept(wau, bo):
    data = {"name": "login_people", "sql": WAU_REWRITTEN}
    with pytest.raises(MetricError) as caught:
        metric_register(user=bo, data=data, force=True)
    assert "Say why" in caught.value.errors["reason"][0]
    definition = metric_register(user=bo, data=data, force=True, reason="Marketing counts app logins separately")
    version = definition.versions.get()
    assert version.override_reason == "Marketing counts app logins separately"
    assert [c["name"] for c in version.override_candidates] == ["weekly_active_users"]
    # An edit that does not touch the likeness again is not stopped by what was already accepted.
    metric_update(definition, user=bo, data={"description": "Logins in the app, per week."})
    assert definition.version == 2


def test_an_edit_into_a_duplicate_is_stopped(wau, bo):
    other = metric_register(user=bo, data={"name": "order_total", "sql": "SELECT sum(amount) FROM sales.orders"})
    with pytest.raises(DuplicateMetric):
        metric_update(other, user=bo, data={"sql": WAU_SQL})
    other.refresh_from_db()
    assert other.version == 1


def test_check_reports_without_saving(wau, bo):
    result = metric_check({"name": "wau", "sql": WAU_REWRITTEN, "dialect": "postgres"})
    assert not result["errors"] and result["sql_error"] is None
    assert [c.definition.name for c in result["candidates"]] == ["weekly_active_users"]
    assert MetricDefinition.objects.count() == 1
    broken = metric_check({"name": "x", "sql": "SELECT count(* FROM t", "dialect": "postgres"})
    assert broken["sql_error"].line == 1 and "sql" in broken["errors"]


BIG_ORDERS = "SELECT count(*) FROM sales.orders o WHERE o.amount >= 20 AND o.status IN ('paid', 'shipped')"


@pytest.mark.parametrize("sql", [
    "SELECT count(1) FROM sales.orders o WHERE 20 <= o.amount AND o.status IN ('shipped', 'paid')",
    "SELECT sum(1) FROM sales.orders WHERE status IN ('shipped', 'paid') AND 20 <= amount",
])
def test_a_mirrored_comparison_reordered_list_and_counted_constant_is_caught(bo, shop_catalog, sql):
    metric_register(user=bo, data={"name": "big_orders", "sql": BIG_ORDERS})
    candidates = attempt(bo, name="large_order_count", sql=sql)
    assert [c.definition.name for c in candidates] == ["big_orders"]
    assert candidates[0].kinds & {"sql", "aggregate"}  # it computes the same
    # The reason names the equivalences, not only formatting and aliases.
    assert candidates[0].kinds == {"sql"} and candidates[0].reasons == [SAME_SQL_REASON]
    for words in ("mirrored comparisons", "BETWEEN", "IN lists", "AND/OR operands", "count(1), sum(1)"):
        assert words in SAME_SQL_REASON


def test_between_is_caught_and_a_near_miss_is_not(bo, shop_catalog):
    metric_register(user=bo, data={"name": "mid_orders", "sql": "SELECT count(*) FROM sales.orders o WHERE o.amount BETWEEN 20 AND 50"})
    assert attempt(bo, name="order_band", sql="SELECT count(*) FROM sales.orders o WHERE 50 >= o.amount AND o.amount >= 20")[0].kinds & {"sql", "aggregate"}
    for name, sql in [("orders_over_20", "SELECT count(*) FROM sales.orders o WHERE o.amount > 20 AND o.amount <= 50"),
                      ("orders_outside_band", "SELECT count(*) FROM sales.orders o WHERE o.amount NOT BETWEEN 20 AND 50")]:
        definition = metric_register(user=bo, data={"name": name, "sql": sql})
        assert definition.pk and not definition.versions.get().override_candidates
