import pytest

from catalog.sources.models import Crawl
from catalog.crawls.services import source_crawl
from catalog.sources.services import source_create
from tests.shop import build_shop


@pytest.fixture
def shop(warehouse):
    """The shop warehouse, crawled once as source "shop" (the baseline: no alert)."""
    build_shop(warehouse)
    source = source_create(name="shop", url=warehouse.url)
    assert source_crawl(source).status == Crawl.SUCCEEDED
    source.warehouse = warehouse
    return source


def links_by_dataset(body_text: str) -> dict[str, str]:
    """The "Stop alerts for this dataset" link of each dataset group in an alert's text part, as paths."""
    links, current = {}, None
    lines = body_text.splitlines()
    for line, following in zip(lines, lines[1:] + [""]):
        if line and not line.startswith(" ") and following.startswith("http"):
            current = line.split("  [")[0]
        elif "Stop alerts for this dataset: " in line:
            url = line.split("Stop alerts for this dataset: ")[1].strip()
            links[current] = url[url.index("/unsubscribe/"):]
    return links
