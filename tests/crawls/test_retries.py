"""A crawl that cannot reach its warehouse is tried again by itself; the source page says when, and one person's
click is one attempt: its automatic retries do not add up to "crawls are failing"."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.alerts.models import OutboxMessage
from catalog.crawls.services import crawl_enqueue
from catalog.crawls.tasks import CONNECT_RETRIES, crawl_source_task
from catalog.sources.models import Crawl, Source
from catalog.sources.services import source_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_click_on_an_unreachable_source_is_one_attempt_with_its_retries_shown(client, staff_user, settings, django_capture_on_commit_callbacks):
    settings.CANON_FAILING_AFTER = 2
    source = source_create(name="down", url="postgresql://reader:pw@127.0.0.1:1/nothing", user=staff_user)
    source.owners.add(staff_user)
    with django_capture_on_commit_callbacks(execute=False):  # no broker here: the task runs below, in this process
        clicked = crawl_enqueue(source, trigger="web", user=staff_user)
    before = timezone.now()
    # As a worker runs it: the attempt, then its retries (eagerly here, without the waits).
    crawl_source_task.apply(args=[source.pk], kwargs={"crawl_id": clicked.pk})
    crawls = list(Crawl.objects.filter(source=source).order_by("pk"))
    assert [c.status for c in crawls] == [Crawl.FAILED] * (1 + CONNECT_RETRIES)
    assert [c.trigger for c in crawls] == ["web"] + ["retry"] * CONNECT_RETRIES
    assert crawls[0].started_by == staff_user and all(c.started_by is None for c in crawls[1:])
    # Each attempt that is tried again says when: 30 s, 60 s, 120 s later; the last one is not tried again.
    waits = [(c.retry_at - before).total_seconds() for c in crawls[:-1]]
    assert [round(w / 30) for w in waits] == [1, 2, 4] and crawls[-1].retry_at is None
    # One click, four failed crawls: one failure, not "crawls are failing".
    assert Source.objects.get(pk=source.pk).failure_streak == 1
    assert not OutboxMessage.objects.filter(kind="crawl_failing").exists()

    client.force_login(staff_user)
    page = client.get("/sources/down/").content.decode()
    rows = page[page.index('<table class="list crawls">'):]
    assert rows.count(f"<td>{staff_user.username}</td>") == 1 and rows.count("<td>retry</td>") == CONNECT_RETRIES
    assert "tried again by itself" not in page, "no retry is pending"
    Crawl.objects.filter(pk=crawls[-1].pk).update(retry_at=timezone.now() + timedelta(minutes=2))
    page = client.get("/sources/down/").content.decode()
    assert "Last crawl failed:" in page and "It is tried again by itself" in page and "from now" in page
    api = client.get(f"/api/sources/{source.pk}/").json()["last_crawl"]
    assert api["trigger"] == "retry" and api["started_by"] is None and api["retry_at"]

    # A second attempt (the schedule's, or another click) is the second failure in a row: now it is failing.
    with django_capture_on_commit_callbacks(execute=False):
        again = crawl_enqueue(source, trigger="schedule")
    crawl_source_task.apply(args=[source.pk], kwargs={"crawl_id": again.pk})
    assert Source.objects.get(pk=source.pk).failure_streak == 2
    assert OutboxMessage.objects.filter(kind="crawl_failing").count() == 1
