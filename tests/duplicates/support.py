"""A warehouse with copies in it: a PostgreSQL shop (a view selecting everything from orders, a view computing what
another does, tables without columns) and a DuckDB file with a renamed copy of its customers."""

import duckdb

from catalog.crawls.services import source_crawl
from catalog.inventory.models import Dataset, OwnerIdentity
from catalog.sources.models import Crawl
from catalog.sources.services import source_create
from tests.shop import build_shop


def ds(source, schema, name):
    return Dataset.objects.get(source=source, schema_name=schema, name=name)


def crawl(source):
    done = source_crawl(source)
    assert done.status == Crawl.SUCCEEDED, done.error
    return done


def make_shop(warehouse, django_user_model):
    build_shop(warehouse)
    warehouse.execute("CREATE VIEW analytics.orders_all AS SELECT * FROM sales.orders")
    warehouse.execute("CREATE VIEW analytics.big_orders_again AS SELECT o.order_id AS id, o.amount AS amt FROM sales.orders o "
                      "WHERE 100 < o.amount")
    # The same columns in another order: another relation, not the same SQL.
    warehouse.execute("CREATE VIEW analytics.big_orders_swapped AS SELECT amount, order_id FROM sales.orders WHERE amount > 100")
    for i in range(3):
        warehouse.execute(f"CREATE TABLE scratch.empty_{i} ()")
    source = source_create(name="shop", url=warehouse.url)
    crawl(source)
    olu = django_user_model.objects.create_user("olu", email="olu@example.com")
    OwnerIdentity.objects.filter(source=source, name="sales_team").update(user=olu)
    return source


def duck(tmp_path, name="copies.duckdb"):
    path = tmp_path / name
    conn = duckdb.connect(str(path))
    conn.execute('CREATE TABLE main.customers_backup_2024 ("customerId" BIGINT, "Email" VARCHAR, country VARCHAR, '
                 '"signedUpAt" TIMESTAMP, tags VARCHAR[], profile VARCHAR, loaded_at TIMESTAMP)')
    conn.execute("CREATE TABLE main.weather (station VARCHAR, reading_at TIMESTAMP, celsius DOUBLE, humidity DOUBLE)")
    conn.close()
    return path


