"""Opt-in sampled profiles (TABLESAMPLE SYSTEM within a time budget) of tables PostgreSQL keeps no statistics of:
the rest next time when out of budget, a refused or timed-out table is a warning on its page, the crawl goes on."""

import threading

import pytest

from catalog.inventory.models import Dataset
from catalog.quality.models import DatasetProfile, SampleState, SamplingPolicy
from catalog.quality.profiling import SAMPLE_TASK, profiles_sample, sampling_set
from catalog.sources.services import source_create
from tests.quality.conftest import crawled, profile_of, write

pytestmark = pytest.mark.django_db

NO_AUTOVACUUM = "WITH (autovacuum_enabled = false)"


@pytest.fixture
def unanalyzed(warehouse):
    write(warehouse, f"""
        CREATE TABLE public.a (id int, country text, user_email text) {NO_AUTOVACUUM};
        INSERT INTO public.a SELECT i, CASE WHEN i % 5 = 0 THEN NULL ELSE 'DE' END, 'p' || i || '@x.org' FROM generate_series(1, 500) i;
        CREATE TABLE public.b (id int, amount numeric) {NO_AUTOVACUUM};
        INSERT INTO public.b SELECT i, i * 2 FROM generate_series(1, 300) i;
        CREATE TABLE public.c (id int) {NO_AUTOVACUUM};
        INSERT INTO public.c SELECT i FROM generate_series(1, 10) i;
        CREATE TABLE public.analyzed (id int); INSERT INTO public.analyzed VALUES (1); ANALYZE public.analyzed;
    """)
    source = source_create(name="wh", url=warehouse.url)
    crawled(source)
    source.warehouse = warehouse
    return source


def test_sampling_is_opt_in_and_profiles_tables_without_statistics(unanalyzed, django_capture_on_commit_callbacks, monkeypatch):
    assert profiles_sample(unanalyzed) == ""  # not asked for: nothing read
    sampling_set(unanalyzed, enabled=True, budget_seconds=30, percent=100)
    sent = []
    monkeypatch.setattr("catalog.quality.profiling.task_send", lambda name, args=(): sent.append((name, args)))
    with django_capture_on_commit_callbacks(execute=True):
        crawled(unanalyzed)
    assert sent == [(SAMPLE_TASK, [unanalyzed.pk])]  # a worker samples after the crawl commits

    summary = profiles_sample(unanalyzed)
    assert summary == "Sampled 3 of 3 tables without engine statistics (100% of blocks, 30 s budget)."
    country = profile_of("country", "a")
    assert country["basis"] == "sample 100% (TABLESAMPLE SYSTEM, 500 rows)"
    assert (country["null_frac"], country["distinct"], country["min"], country["min_len"]) == (0.2, 1, "DE", 2)
    email = profile_of("user_email", "a")
    assert email["hidden"] and "min" not in email and email["distinct"] == 500
    assert profile_of("id", "analyzed")["basis"] == "pg_stats"  # the engine's statistics: not sampled


def test_out_of_budget_samples_the_rest_next_time_and_says_so(unanalyzed):
    policy = sampling_set(unanalyzed, enabled=True, budget_seconds=1, percent=100)
    SamplingPolicy.objects.filter(pk=policy.pk).update(budget_seconds=0.01)  # spent before the first table
    summary = profiles_sample(unanalyzed)
    assert summary == ("Sampled 0 of 3 tables without engine statistics (100% of blocks, 0.01 s budget); "
                       "out of budget: the other 3 are sampled next crawl.")
    SamplingPolicy.objects.filter(pk=policy.pk).update(budget_seconds=30)
    assert profiles_sample(unanalyzed).startswith("Sampled 3 of 3")


def test_a_refused_table_and_a_timed_out_one_are_warnings_and_the_rest_goes_on(unanalyzed, pg, client):
    wh = unanalyzed.warehouse
    write(wh, "DROP ROLE IF EXISTS sampler; CREATE ROLE sampler LOGIN PASSWORD 'pw-sampler';"
              "GRANT USAGE ON SCHEMA public TO sampler; GRANT SELECT ON public.b, public.c, public.analyzed TO sampler;")
    source = source_create(name="limited", url=pg.url(wh.name, user="sampler", password="pw-sampler"))
    crawled(source)
    sampling_set(source, enabled=True, budget_seconds=2, percent=100)
    summary = profiles_sample(source)
    assert "Sampled 2 of 3 tables" in summary and "1 refused or timed out" in summary
    a = Dataset.objects.get(source=source, name="a")
    warning = SampleState.objects.get(dataset=a).warning
    assert warning.startswith("no sampled profile: permission denied for table a") and "pw-sampler" not in warning
    assert "permission denied for table a" in client.get(a.get_absolute_url()).content.decode()

    # b is locked by another session: the sample waits, the server cancels it when the budget is spent.
    import psycopg

    holder = psycopg.connect(pg.url(wh.name))
    holder.execute("BEGIN; LOCK TABLE public.b IN ACCESS EXCLUSIVE MODE")
    try:
        SampleState.objects.filter(dataset__source=source).delete()  # b first again
        summary = profiles_sample(source)
    finally:
        holder.rollback()
        holder.close()
    b = Dataset.objects.get(source=source, name="b")
    assert "ran past the 2 s budget" in SampleState.objects.get(dataset=b).warning
    assert "out of budget" in summary


def test_the_source_page_turns_sampling_on_for_staff_only(unanalyzed, client, staff_user, plain_user):
    client.force_login(plain_user)
    assert "Save sampling" not in client.get(f"/sources/{unanalyzed.name}/").content.decode()
    client.post(f"/sources/{unanalyzed.name}/sampling/", {"enabled": "1", "budget_seconds": "5", "percent": "2"})
    assert not SamplingPolicy.objects.filter(enabled=True).exists()
    client.force_login(staff_user)
    page = client.post(f"/sources/{unanalyzed.name}/sampling/", {"enabled": "1", "budget_seconds": "5", "percent": "2"},
                       follow=True).content.decode()
    assert "Sampled profiles on for wh." in page and "On: 2.0% of blocks, 5.0 s a crawl." in page
    summary = profiles_sample(unanalyzed)
    assert summary in client.get(f"/sources/{unanalyzed.name}/").content.decode()  # the last run, said on the page
    page = client.post(f"/sources/{unanalyzed.name}/sampling/", {"enabled": "1", "budget_seconds": "9000"}, follow=True).content.decode()
    assert "between 1 and 600 seconds" in page and SamplingPolicy.objects.get().budget_seconds == 5
