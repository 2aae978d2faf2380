"""Column profiles from PostgreSQL's pg_stats, kept per crawl: values, sensitive columns, jumps on the pages
and in email to those who asked, and a recrawl that reads no statistics when nothing was analyzed."""

import re

import pytest
from django.core import mail

from catalog.alerts.models import OutboxMessage, Subscription
from catalog.alerts.services import outbox_flush
from catalog.connectors.base import ExtractRequest
from catalog.connectors.postgres import STATS_STATE_KEY, PostgresConnector
from catalog.core.sourceurl import parse_source_url
from catalog.inventory.models import Dataset
from catalog.quality.models import DatasetProfile, ProfileChange
from catalog.quality.profiling import profile_alerts_set
from catalog.sources.services import source_create
from tests.quality.conftest import crawled, profile_of, write

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(warehouse):
    write(warehouse, """
        CREATE TABLE public.people (id int PRIMARY KEY, country text, score int, customer_email text, note text);
        INSERT INTO public.people SELECT i, CASE WHEN i % 4 = 0 THEN 'FR' ELSE 'DE' END, 100 + i % 100,
               'person' || i || '@example.com', NULL FROM generate_series(1, 1000) i;
        ANALYZE public.people;
    """)
    source = source_create(name="crm", url=warehouse.url)
    crawled(source)
    source.warehouse = warehouse
    return source


def latest(name: str) -> dict:
    return profile_of(name)


def test_profiles_come_from_pg_stats(people):
    country, score, email, note = latest("country"), latest("score"), latest("customer_email"), latest("note")
    assert country["basis"] == "pg_stats" and country["null_frac"] == 0 and country["distinct"] == 2
    assert country["most_common"] == [["DE", 0.75], ["FR", 0.25]] and (country["min_len"], country["max_len"]) == (2, 2)
    assert (score["min"], score["max"]) == ("100", "199") and score["distinct"] == 100
    assert note["null_frac"] == 1.0
    # Sensitive by name: counts, and no value stored at all.
    assert email["hidden"] and email["distinct"] > 900 and not {"min", "max", "most_common"} & set(email)
    assert "example.com" not in str(list(DatasetProfile.objects.values_list("columns", flat=True)))
    assert DatasetProfile.objects.count() == 1  # one document for the dataset's five columns


def test_a_recrawl_reads_statistics_only_of_tables_analyzed_since(people):
    connector = PostgresConnector(parse_source_url(people.warehouse.url))
    first = connector.extract()
    [table] = first.datasets
    assert table.column_stats and STATS_STATE_KEY in first.state
    again = connector.extract(ExtractRequest(previous_state=first.state))
    assert again.datasets[0].column_stats is None  # not analyzed since: not read
    crawled(people)
    assert DatasetProfile.objects.count() == 1  # from the first crawl only
    write(people.warehouse, "ANALYZE public.people")
    assert connector.extract(ExtractRequest(previous_state=first.state)).datasets[0].column_stats


def test_a_jump_is_a_change_on_the_pages_and_mailed_to_those_who_asked(people, client, staff_user, plain_user):
    dataset = Dataset.objects.get(name="people")
    Subscription.objects.create(user=staff_user, source=people)
    Subscription.objects.create(user=plain_user, source=people)
    profile_alerts_set(staff_user, True)  # ana asked; bo did not
    write(people.warehouse, """
        UPDATE public.people SET country = NULL WHERE id % 5 = 0;
        UPDATE public.people SET score = 10 + id % 20;
        ANALYZE public.people;
    """)
    crawl = crawled(people)
    found = {(c.column_name, c.kind): c.description for c in ProfileChange.objects.filter(crawl=crawl)}
    assert found[("country", "nulls_rose")] == "null fraction rose from 0% to 20%"
    assert found[("score", "range_moved")] == "max 29 is below the previous min 100"
    assert set(found) == {("country", "nulls_rose"), ("score", "range_moved")}
    [message] = OutboxMessage.objects.filter(kind="profile")
    assert message.recipient == "ana@example.com"
    outbox_flush()
    [sent] = [m for m in mail.outbox if "profiles jumped" in m.subject]
    assert "country: null fraction rose from 0% to 20%" in sent.body and "/unsubscribe/" in sent.body

    page = client.get(dataset.get_absolute_url()).content.decode()
    assert 'id="profiles"' in page and "0% → 20%" in re.sub(r"<[^>]+>", "", page) and "hidden: sensitive" in page
    assert "person1@example.com" not in page
    changes = client.get("/changes/").content.decode()
    assert "Jumps in column profiles" in changes and "null fraction rose from 0% to 20%" in changes

    write(people.warehouse, "UPDATE public.people SET country = 'DE'; ANALYZE public.people")
    crawl = crawled(people)
    assert ProfileChange.objects.filter(crawl=crawl, column_name="country", kind="distinct_collapsed").exists()
    crawled(people)  # nothing analyzed: no new profile, no repeat
    assert OutboxMessage.objects.filter(kind="profile").count() == 2


def test_marking_a_column_sensitive_erases_its_values(people, client, plain_user):
    dataset = Dataset.objects.get(name="people")
    client.force_login(plain_user)
    answer = client.post(f"/datasets/{dataset.pk}/sensitive/", {"column": "country", "sensitive": "1"}, follow=True)
    assert "country is sensitive" in answer.content.decode()
    country = latest("country")
    assert country["hidden"] and "most_common" not in country and country["distinct"] == 2
    assert "FR" not in str(list(DatasetProfile.objects.values_list("columns", flat=True)))
    write(people.warehouse, "UPDATE public.people SET country = 'ES' WHERE id < 10; ANALYZE public.people")
    crawled(people)
    assert latest("country")["hidden"] and "most_common" not in latest("country")
    client.post(f"/datasets/{dataset.pk}/sensitive/", {"column": "country", "sensitive": "0"})
    write(people.warehouse, "UPDATE public.people SET country = 'IT' WHERE id < 10; ANALYZE public.people")
    crawled(people)
    assert latest("country")["most_common"][0][0] == "DE"
    bad = client.post(f"/datasets/{dataset.pk}/sensitive/", {"column": "nope", "sensitive": "1"}, follow=True)
    assert "has no column" in bad.content.decode()


def test_profile_alerts_toggle_from_the_dataset_page(people, client, plain_user):
    dataset = Dataset.objects.get(name="people")
    client.force_login(plain_user)
    page = client.get(dataset.get_absolute_url()).content.decode()
    assert "Email me profile jumps" in page
    answer = client.post("/profile-alerts/", {"wanted": "1", "next": f"{dataset.get_absolute_url()}#profiles"})
    assert answer.status_code == 302 and answer["Location"].endswith("#profiles")
    assert "Stop emails about profile jumps" in client.get(dataset.get_absolute_url()).content.decode()
    assert client.post("/profile-alerts/", {"wanted": "0", "next": "https://evil.example/"})["Location"] == "/"


def test_statistics_of_many_tables_are_read_over_several_crawls(people, monkeypatch):
    write(people.warehouse, "CREATE TABLE public.more (id int); INSERT INTO public.more SELECT generate_series(1, 50); ANALYZE public.more")
    monkeypatch.setattr("catalog.connectors.postgres.STATS_TABLES_PER_CRAWL", 1)
    connector = PostgresConnector(parse_source_url(people.warehouse.url))
    first = connector.extract()
    assert sum(1 for d in first.datasets if d.column_stats) == 1
    second = connector.extract(ExtractRequest(previous_state=first.state))
    assert sum(1 for d in second.datasets if d.column_stats) == 1  # the other one, this time
    assert {d.name for d in first.datasets if d.column_stats} | {d.name for d in second.datasets if d.column_stats} == {"people", "more"}
    third = connector.extract(ExtractRequest(previous_state=second.state))
    assert not any(d.column_stats for d in third.datasets)


def test_awkward_types_never_fail_the_crawl(warehouse):
    write(warehouse, """
        CREATE TYPE mood AS (level int, note text);
        CREATE TABLE public.odd (tags int[], doc jsonb, word text, span int4range, m mood, grid int[][]);
        INSERT INTO public.odd SELECT ARRAY[i, i + 1], jsonb_build_object('k', i), 'say "hi", {' || i || '}',
               int4range(i, i + 5), ROW(i, 'n' || i)::mood, ARRAY[[i, 1], [2, 3]] FROM generate_series(1, 300) i;
        CREATE TABLE public.parted (id int, region text) PARTITION BY LIST (region);
        CREATE TABLE public.parted_eu PARTITION OF public.parted FOR VALUES IN ('eu');
        CREATE TABLE public.parted_us PARTITION OF public.parted FOR VALUES IN ('us');
        INSERT INTO public.parted SELECT i, CASE WHEN i % 2 = 0 THEN 'eu' ELSE 'us' END FROM generate_series(1, 400) i;
        ANALYZE public.odd; ANALYZE public.parted;
    """)
    source = source_create(name="odd", url=warehouse.url)
    crawled(source)
    word = profile_of("word", "odd")
    assert (word["min"], word["max"]) == ('say "hi", {100}', 'say "hi", {9}') and word["null_frac"] == 0  # the server's order (C)
    assert "min" not in profile_of("grid", "odd") and "min" not in profile_of("tags", "odd")
    assert profile_of("region", "parted")["distinct"] == 2  # the partitioned table's whole tree
