"""Definitions saved before a change of the SQL normalisation get the fingerprint and signature a new
save would get: from the data migration (metrics/0002) and from `manage.py metrics_refingerprint`."""

import hashlib
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from catalog.metrics.models import MetricDefinition
from catalog.metrics.services import DuplicateMetric, metric_check, metric_register

SAVED = "SELECT count(*) FROM sales.orders WHERE amount >= 20"
MIRRORED = "SELECT count(*) FROM sales.orders WHERE 20 <= amount"
BEFORE, AFTER = ("metrics", "0001_initial"), ("metrics", "0002_refingerprint_normalised_sql")


def as_saved_before_the_normalisation(definition):
    """What a row written before 6c055e1 holds: a fingerprint and signature of the query taken as it was written."""
    old = hashlib.sha256(definition.sql.lower().encode()).hexdigest()
    MetricDefinition.objects.filter(pk=definition.pk).update(fingerprint=old, signature=old[::-1], signature_parts={"aggregates": ["x"]})


def sql_duplicates(sql):
    return [c.definition.name for c in metric_check({"name": "large_orders", "sql": sql})["candidates"] if "sql" in c.kinds]


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_old_definitions_the_new_fingerprint(shop_catalog, bo):
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    big_orders = metric_register(user=bo, data={"name": "big_orders", "sql": SAVED})
    as_saved_before_the_normalisation(big_orders)
    unreadable = metric_register(user=bo, data={"name": "odd_orders", "sql": "SELECT count(*) FROM sales.orders WHERE amount > 7"})
    MetricDefinition.objects.filter(pk=unreadable.pk).update(sql="SELECT count(* FROM sales.orders", fingerprint="kept", signature="kept")
    assert sql_duplicates(MIRRORED) == []  # the old row is not found: what the migration is for

    executor = MigrationExecutor(connection)  # a fresh graph, as `migrate` would build
    executor.migrate([AFTER])

    assert sql_duplicates(MIRRORED) == ["big_orders"]
    with pytest.raises(DuplicateMetric):
        metric_register(user=bo, data={"name": "large_orders", "sql": MIRRORED})
    big_orders.refresh_from_db()
    assert big_orders.signature_parts["aggregates"] != ["x"] and big_orders.version == 1  # no new version
    # SQL that no longer parses keeps what it had, and does not stop the migration.
    assert MetricDefinition.objects.filter(pk=unreadable.pk, fingerprint="kept", signature="kept").exists()


@pytest.mark.django_db
def test_the_command_recomputes_in_batches_and_reports(shop_catalog, bo):
    names = []
    for i in range(5):
        definition = metric_register(user=bo, data={"name": f"orders_over_{i}", "sql": f"SELECT count(*) FROM sales.orders WHERE amount >= {i}"},
                                     check_duplicates=False)
        as_saved_before_the_normalisation(definition)
        names.append(definition.name)
    MetricDefinition.objects.filter(name=names[0]).update(sql="SELECT FROM WHERE (", fingerprint="kept")
    out = io.StringIO()
    call_command("metrics_refingerprint", "--batch-size", "2", stdout=out)
    assert "4 definition(s) given a new fingerprint or signature" in out.getvalue()
    assert "1 definition(s) kept theirs" in out.getvalue()
    assert sql_duplicates("SELECT count(*) FROM sales.orders WHERE 3 <= amount") == ["orders_over_3"]
    assert MetricDefinition.objects.get(name=names[0]).fingerprint == "kept"
    out = io.StringIO()
    call_command("metrics_refingerprint", stdout=out)  # a second run finds nothing to change
    assert "0 definition(s) given" in out.getvalue()
