"""A few metric definitions for the embedded demo, against the demo shop (SQLite)."""

from catalog.metrics.models import MetricDefinition
from catalog.metrics.services import metric_register, metric_set_status

DEMO_METRICS = [
    {
        "name": "weekly_active_customers", "title": "Weekly active customers", "unit": "customers", "format": "integer",
        "time_dimension": "occurred_at", "grain": "week", "tags": ["product", "engagement"], "synonyms": ["wac"],
        "description": "Customers with at least one product event (page view, search, login, …) in the week.",
        "sql": "SELECT strftime('%Y-%W', e.occurred_at) AS week,\n       COUNT(DISTINCT e.customer_id) AS active_customers\n"
               "FROM product_events AS e\nGROUP BY 1",
        "certify": True,
    },
    {
        "name": "monthly_revenue", "title": "Monthly revenue", "unit": "EUR", "format": "currency", "time_dimension": "paid_at",
        "grain": "month", "tags": ["finance"], "synonyms": ["turnover"],
        "description": "Money received in the month, **refunds excluded**. Payments, not orders: an unpaid order is no revenue.",
        "sql": "SELECT strftime('%Y-%m', p.paid_at) AS month,\n       SUM(p.amount) AS revenue\nFROM payments AS p\n"
               "WHERE NOT p.refunded\nGROUP BY 1",
        "certify": True,
    },
    {
        "name": "churn_rate", "title": "Churn rate", "unit": "%", "format": "percent", "time_dimension": "churned_at",
        "tags": ["customers"], "synonyms": ["attrition"],
        "description": "Share of the customers who ever signed up whose subscription has lapsed (churned_at is set).",
        "sql": "SELECT CAST(COUNT(c.churned_at) AS REAL) / COUNT(*) AS churn_rate\nFROM customers AS c",
        "certify": False,
    },
]


def demo_metrics(source, user) -> list[MetricDefinition]:
    """Register the demo definitions once (a second run leaves them as they are)."""
    made = []
    for spec in DEMO_METRICS:
        if MetricDefinition.objects.filter(name=spec["name"]).exists():
            continue
        data = {k: v for k, v in spec.items() if k != "certify"}
        definition = metric_register(user=user, data={**data, "dialect": "sqlite", "source": source}, message="registered with the demo",
                                     check_duplicates=False)
        if spec["certify"]:
            metric_set_status(definition, user=user, status=MetricDefinition.CERTIFIED, note="agreed with finance and product")
        made.append(definition)
    return made
