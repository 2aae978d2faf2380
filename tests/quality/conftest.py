import pytest

from catalog.crawls.services import source_crawl
from catalog.sources.models import Crawl
from catalog.sources.services import source_create


def write(warehouse, sql: str) -> None:
    """Run SQL in the warehouse and make its write counters visible to the next crawl at once: the server
    flushes a session's statistics when it goes idle, at most once a second unless told to."""
    warehouse.execute(sql)
    warehouse.execute("SELECT pg_catalog.pg_stat_force_next_flush()")
    warehouse.execute("SELECT 1")


def crawled(source):
    crawl = source_crawl(source)
    assert crawl.status == Crawl.SUCCEEDED, crawl.error
    return crawl


@pytest.fixture
def orders(warehouse):
    """A warehouse with a table written to, a view over it and an empty table, crawled once as "shop"."""
    write(warehouse, "CREATE TABLE public.orders (id int PRIMARY KEY, amount numeric); INSERT INTO public.orders VALUES (1, 10), (2, 20);"
                     "CREATE VIEW public.big_orders AS SELECT * FROM public.orders WHERE amount > 15; CREATE TABLE public.quiet (id int);")
    source = source_create(name="shop", url=warehouse.url)
    crawled(source)
    source.warehouse = warehouse
    return source


def profile_of(column: str, dataset: str | None = None) -> dict | None:
    """The latest kept profile of a column (of the dataset so named, if given), as its document; None if none."""
    from catalog.quality.models import DatasetProfile

    rows = DatasetProfile.objects.order_by("-observed_at", "-id")
    if dataset:
        rows = rows.filter(dataset__name=dataset)
    for profile in rows:
        if column in profile.columns:
            return profile.columns[column]
    return None
