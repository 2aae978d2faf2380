"""Usage from MariaDB's performance_schema statement digests, on a real server."""

import pytest

from catalog.crawls.services import source_crawl
from catalog.inventory.models import Column, Dataset
from catalog.sources.services import source_create
from catalog.usage.models import ColumnUsage, DatasetUsage, SourceUsage
from tests.connectors.mysql_shop import build_mysql_shop

pytestmark = pytest.mark.django_db


def test_digests_of_the_sources_database_become_usage(mariadb, mariadb_database):
    build_mysql_shop(mariadb, mariadb_database)  # its views read orders too: measured from the first crawl on
    source = source_create(name="shop", url=mariadb.url(mariadb_database))
    assert source_crawl(source).status == "succeeded"
    orders = Dataset.objects.get(source=source, name="orders")
    before = DatasetUsage.objects.filter(dataset=orders).values_list("queries_30", flat=True).first() or 0
    email = Column.objects.get(dataset__source=source, dataset__name="customers", name="email")
    email_before = ColumnUsage.objects.filter(column_id=email.pk).values_list("queries_30", flat=True).first() or 0
    conn = mariadb.connect(mariadb_database)
    with conn.cursor() as cur:
        for customer in (1, 2, 3):
            cur.execute("SELECT o.amount FROM orders o WHERE o.customer_id = %s", (customer,))
        cur.execute("SELECT c.email FROM customers c")
    conn.close()
    assert source_crawl(source).status == "succeeded"
    usage = SourceUsage.objects.get(source=source)
    assert usage.available, usage.note
    assert DatasetUsage.objects.get(dataset=orders).queries_30 == before + 3
    assert DatasetUsage.objects.get(dataset=orders).last_used_on is not None
    assert ColumnUsage.objects.get(column_id=email.pk).queries_30 == email_before + 1


def test_a_user_without_performance_schema_gets_a_note_not_a_failure(mariadb, mariadb_database):
    build_mysql_shop(mariadb, mariadb_database)
    # A user with no access to performance_schema: the digests cannot be read, and the crawl goes on.
    conn = mariadb.connect()
    with conn.cursor() as cur:
        cur.execute("CREATE OR REPLACE USER 'reader'@'127.0.0.1' IDENTIFIED BY 'pw-reader-9'")
        cur.execute(f"GRANT SELECT ON `{mariadb_database}`.* TO 'reader'@'127.0.0.1'")
    conn.close()
    source = source_create(name="shop", url=mariadb.url(mariadb_database, user="reader", password="pw-reader-9"))
    assert source_crawl(source).status == "succeeded"
    usage = SourceUsage.objects.get(source=source)
    assert not usage.available and "performance_schema" in usage.note and "pw-reader-9" not in usage.note
