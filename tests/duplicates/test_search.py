"""Search ranks an original above its copies and labels the copies (on both catalog backends)."""

import duckdb
import pytest

from catalog.alerts.services import subscription_create
from catalog.duplicates.services import duplicate_decide
from catalog.inventory.models import Dataset
from catalog.search.index import search_refresh_weights
from catalog.sources.services import source_create
from tests.duplicates.support import crawl
from tests.search.support import hits

pytestmark = pytest.mark.django_db


def test_the_original_ranks_above_its_more_watched_copy_which_is_labelled(shop, tmp_path, plain_user, staff_user):
    path = tmp_path / "mirror.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute('CREATE TABLE main.customers ("customerId" BIGINT, email VARCHAR, country VARCHAR, "signedUpAt" TIMESTAMP, '
                 "tags VARCHAR[], profile JSON)")
    conn.close()
    mirror = source_create(name="mirror", url=f"duckdb://{path}")
    crawl(mirror)
    original = Dataset.objects.get(source=shop, name="customers")
    copy = Dataset.objects.get(source=mirror, name="customers")
    # Watched by two people, the copy would rank first on popularity alone.
    for user in (plain_user, staff_user):
        subscription_create(user=user, source=mirror, dataset=copy)
    search_refresh_weights([copy.pk, original.pk])
    duplicate_decide(copy, original, verdict="copy", user=staff_user, original=original)

    found = [h for h in hits("customers", kind="dataset") if h.title in ("sales.customers", "main.customers")]
    assert [h.title for h in found] == ["sales.customers", "main.customers"]
    assert "copy of sales.customers" in found[1].subtitle
    assert "copy of" not in found[0].subtitle

    # Not a duplicate after all: the label goes, and popularity decides again.
    duplicate_decide(copy, original, verdict="not", user=staff_user)
    found = [h for h in hits("customers", kind="dataset") if h.title in ("sales.customers", "main.customers")]
    assert [h.title for h in found] == ["main.customers", "sales.customers"]
    assert "copy of" not in found[0].subtitle
