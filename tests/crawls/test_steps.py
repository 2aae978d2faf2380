"""The crawl's steps: run in the order CANON_CRAWL_STEPS lists, inside the crawl's one transaction, each
handed one CrawlOutcome that carries the added, changed and removed datasets with their schemas."""

import pytest

from catalog.crawls.services import source_crawl
from catalog.crawls.steps import crawl_steps
from catalog.history.models import SchemaChange
from catalog.inventory.models import Dataset
from catalog.inventory.outcome import CrawlOutcome
from catalog.sources.models import Crawl
from catalog.sources.services import source_create

pytestmark = pytest.mark.django_db

SEEN: list[tuple[str, CrawlOutcome]] = []


def first_step(outcome: CrawlOutcome) -> None:
    SEEN.append(("first", outcome))


def second_step(outcome: CrawlOutcome) -> None:
    SEEN.append(("second", outcome))


def failing_step(outcome: CrawlOutcome) -> None:
    raise RuntimeError("a step that breaks")


@pytest.fixture
def recording(settings):
    SEEN.clear()
    settings.CANON_CRAWL_STEPS = [*settings.CANON_CRAWL_STEPS, f"{__name__}.first_step", f"{__name__}.second_step"]
    yield SEEN
    SEEN.clear()


def columns(schema: dict | None) -> list[str]:
    return [c["name"] for c in (schema or {}).get("columns", [])]


def test_the_default_steps_are_the_apps_steps_in_order(settings):
    assert [f"{s.__module__}.{s.__name__}" for s in crawl_steps()] == settings.CANON_CRAWL_STEPS
    assert settings.CANON_CRAWL_STEPS[0] == "catalog.lineage.steps.refresh"


def test_steps_run_in_order_with_what_changed_as_objects(warehouse, recording):
    warehouse.execute("CREATE TABLE public.orders (id int PRIMARY KEY, amount numeric); CREATE TABLE public.gone (id int);")
    source = source_create(name="shop", url=warehouse.url)
    first = source_crawl(source)
    assert first.status == Crawl.SUCCEEDED, first.error
    assert [name for name, _ in recording] == ["first", "second"]
    outcome = recording[0][1]
    assert recording[1][1] is outcome  # one outcome handed from step to step
    assert sorted(c.dataset.name for c in outcome.added) == ["gone", "orders"]
    assert all(c.before is None and c.after for c in outcome.added)
    assert outcome.changes == []  # the first crawl is history's baseline

    recording.clear()
    warehouse.execute("ALTER TABLE public.orders ADD COLUMN placed_at timestamptz; DROP TABLE public.gone; CREATE TABLE public.fresh (id int);")
    second = source_crawl(source)
    assert second.status == Crawl.SUCCEEDED, second.error
    outcome = recording[0][1]
    assert [c.dataset.name for c in outcome.added] == ["fresh"]
    [changed] = outcome.changed
    assert changed.dataset.name == "orders"
    assert columns(changed.before) == ["id", "amount"] and columns(changed.after) == ["id", "amount", "placed_at"]
    [removed] = outcome.removed
    assert removed.dataset.name == "gone" and columns(removed.before) == ["id"] and removed.after is None
    # Steps before these (history's) left what they recorded for the ones after.
    assert {c.pk for c in outcome.changes} == set(SchemaChange.objects.filter(crawl=second).values_list("pk", flat=True))


def test_a_step_that_fails_fails_the_crawl_and_changes_nothing(warehouse, settings):
    warehouse.execute("CREATE TABLE public.orders (id int);")
    source = source_create(name="shop", url=warehouse.url)
    assert source_crawl(source).status == Crawl.SUCCEEDED
    warehouse.execute("CREATE TABLE public.later (id int);")
    settings.CANON_CRAWL_STEPS = [*settings.CANON_CRAWL_STEPS, f"{__name__}.failing_step"]
    crawl = source_crawl(source)
    assert crawl.status == Crawl.FAILED
    assert "a step that breaks" in crawl.error
    assert not Dataset.objects.filter(name="later").exists()
    assert not SchemaChange.objects.filter(crawl=crawl).exists()
