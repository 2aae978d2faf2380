"""A small catalog made directly (no crawl), for the metric tests that only need datasets and columns to exist."""

import pytest
from django.utils import timezone

from catalog.inventory.models import Column, Dataset
from catalog.sources.services import source_create

SHOP = {
    ("sales", "customers"): [("customer_id", "bigint"), ("email", "text"), ("country", "character(2)"),
                             ("signed_up_at", "timestamp with time zone"), ("churned_at", "timestamp with time zone")],
    ("sales", "orders"): [("order_id", "bigint"), ("customer_id", "bigint"), ("amount", "numeric(12,2)"),
                          ("status", "character varying(20)"), ("ordered_at", "timestamp without time zone")],
    ("sales", "events"): [("event_id", "bigint"), ("customer_id", "bigint"), ("event_type", "text"),
                          ("occurred_at", "timestamp with time zone")],
    ("analytics", "orders"): [("order_id", "bigint"), ("amount", "numeric")],
}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Users are made in most of these tests; PBKDF2's deliberate slowness is not what they test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def add_dataset(source, schema, name, columns):
    now = timezone.now()
    dataset = Dataset.objects.create(source=source, schema_name=schema, name=name, first_seen_at=now, last_changed_at=now,
                                     column_count=len(columns))
    Column.objects.bulk_create([Column(dataset=dataset, name=c, data_type=t, position=i + 1) for i, (c, t) in enumerate(columns)])
    return dataset


@pytest.fixture
def shop_catalog(db):
    """Source 'shop' with sales.customers, sales.orders, sales.events and analytics.orders (a second 'orders')."""
    source = source_create(name="shop", url="postgresql://reader:unused@127.0.0.1:1/shop")
    datasets = {f"{s}.{n}": add_dataset(source, s, n, cols) for (s, n), cols in SHOP.items()}
    return source, datasets


@pytest.fixture
def ana(django_user_model):
    return django_user_model.objects.create_user("ana", "ana@example.com", "pw-ana-123", first_name="Ana")


@pytest.fixture
def bo(django_user_model):
    return django_user_model.objects.create_user("bo", "bo@example.com", "pw-bo-123")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("sam", "sam@example.com", "pw-sam-123", is_staff=True)


WAU_SQL = """
-- customers active in the week
SELECT date_trunc('week', e.occurred_at) AS week,
       count(DISTINCT e.customer_id) AS weekly_active
FROM sales.events e
WHERE e.event_type = 'login'
GROUP BY 1
"""

WAU_REWRITTEN = """with logins as (select ev.customer_id as who, ev.occurred_at as at_time
  from SALES.EVENTS as ev where ev.event_type = 'login')
select DATE_TRUNC('week', l.at_time) as wk, COUNT(distinct l.who) as wau  /* same thing, new clothes */
from logins l group by DATE_TRUNC('week', l.at_time)"""
