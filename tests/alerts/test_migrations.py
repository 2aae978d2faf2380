"""Migration 0002 gives every existing subscription its own unsubscribe nonce."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE, AFTER = [("alerts", "0001_initial")], [("alerts", "0002_unsubscribe_nonce_exclusions_failing_mail")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_subscriptions_get_distinct_nonces(shop, django_user_model):
    users = [django_user_model.objects.create_user(f"m{i}", f"m{i}@example.com", "pw") for i in range(3)]
    try:
        old = _migrate(BEFORE)
        Subscription = old.get_model("alerts", "Subscription")
        for user in users:
            Subscription.objects.create(user_id=user.pk, source_id=shop.pk)
        new = _migrate(AFTER)
        nonces = list(new.get_model("alerts", "Subscription").objects.values_list("nonce", flat=True))
    finally:
        _migrate(AFTER)
    assert len(nonces) == 3 and len(set(nonces)) == 3 and all(len(n) >= 22 for n in nonces)
