"""The REST API against its own OpenAPI schema (/api/schema/, drf-spectacular), fuzzed with schemathesis.

Every operation is called with generated input (valid and not) as three kinds of user: anonymous, a
reader (an ordinary user with a token) and staff, over a catalog with real objects in it (a crawled
warehouse, many datasets, metric definitions, a subscription). No answer may be a server error, and
every answer must be one the schema declares: its status code, content type and body (nullable
fields declared nullable, the 400/401/403/404 answers documented). Examples per operation are
bounded so the whole run takes about a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from catalog.alerts.services import subscription_create
from catalog.metrics.services import metric_register, metric_set_status
from catalog.crawls.services import source_crawl
from catalog.sources.services import source_create
from catalog.wsgi import application
from tests.factories import make_datasets, make_source
from tests.shop import build_shop

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Examples per operation and kind of user: about 25 operations x 3 users x this many requests.
EXAMPLES = 12


@pytest.fixture
def wsgi_in_test_transaction():
    """Django's WSGI application, called in-process, on the test's database connection: like Django's test
    client, keep request boundaries from closing the connection that holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def catalog(warehouse, django_user_model):
    """A crawled warehouse (datasets, columns, a schema version each), many more datasets, definitions, a subscription."""
    build_shop(warehouse)
    shop = source_create(name="shop", url=warehouse.url)
    assert source_crawl(shop).status == "succeeded"
    make_datasets(make_source("lake"), 60)
    owner = django_user_model.objects.create_user("owner", "owner@example.com", "pw-owner-123")
    revenue = metric_register(user=owner, data={"name": "revenue", "title": "Revenue", "sql": "SELECT sum(amount) FROM sales.orders",
                                                "description": "Paid orders", "tags": ["finance"], "synonyms": ["sales_total"]})
    metric_set_status(revenue, user=owner, status="certified")
    metric_register(user=owner, data={"name": "order_count", "sql": "SELECT count(*) FROM sales.orders WHERE status = 'paid'"})
    subscription_create(user=owner, source=shop)
    return shop


def _users(django_user_model) -> dict[str, dict]:
    reader = django_user_model.objects.create_user("reader", "reader@example.com", "pw-reader-123")
    staff = django_user_model.objects.create_user("staff", "staff@example.com", "pw-staff-123", is_staff=True)
    return {
        "anonymous": {},
        "reader": {"Authorization": f"Token {Token.objects.create(user=reader).key}"},
        "staff": {"Authorization": f"Token {Token.objects.create(user=staff).key}"},
    }


def _fuzz(operation, headers: dict) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def calls(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    calls()


def test_every_operation_answers_as_the_schema_says(wsgi_in_test_transaction, catalog, django_user_model):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_in_test_transaction)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    failures = []
    for kind, headers in _users(django_user_model).items():
        for operation in operations:
            try:
                _fuzz(operation, headers)
            except (Exception, BaseExceptionGroup) as exc:  # every operation's failures, reported together
                failures.append(f"{kind} {operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
