"""owners_tell: one message per owner address, keyed, for apps above alerts (duplicates)."""

import pytest

from catalog.alerts.models import OutboxMessage
from catalog.alerts.services import owners_tell
from catalog.inventory.models import Dataset, OwnerIdentity
from tests.factories import make_datasets, make_source

pytestmark = pytest.mark.django_db


def test_each_owner_address_gets_one_message_once(django_user_model):
    source = make_source()
    make_datasets(source, 4)
    a, b, c, d = Dataset.objects.order_by("pk")
    mapped = django_user_model.objects.create_user("rui", email="Rui@Example.com")
    gone = django_user_model.objects.create_user("old", email="old@example.com", is_active=False)
    by_person = OwnerIdentity.objects.create(source=source, name="team_a", user=mapped)
    by_email = OwnerIdentity.objects.create(source=source, name="team_b", email="data@example.com")
    inactive = OwnerIdentity.objects.create(source=source, name="team_c", user=gone)
    Dataset.objects.filter(pk__in=[a.pk, b.pk]).update(owner=by_person)
    Dataset.objects.filter(pk=c.pk).update(owner=by_email)
    Dataset.objects.filter(pk=d.pk).update(owner=inactive)
    datasets = list(Dataset.objects.select_related("owner__user").order_by("pk"))

    queued = owners_tell(datasets, key="duplicate:1-2", kind="duplicate", subject="s", body_text="b")
    assert sorted((m.recipient, m.user_id) for m in queued) == [("Rui@example.com", mapped.pk), ("data@example.com", None)]
    assert OutboxMessage.objects.count() == 2
    # The same person under another spelling of their address is still one message.
    Dataset.objects.filter(pk=d.pk).update(owner=OwnerIdentity.objects.create(source=source, name="team_d", email="RUI@example.com"))
    pair = list(Dataset.objects.select_related("owner__user").filter(pk__in=[a.pk, d.pk]).order_by("pk"))
    [once] = owners_tell(pair, key="duplicate:7-8", kind="duplicate", subject="s", body_text="b")
    assert once.recipient == "Rui@example.com"
    # The same key again (a retried crawl, a pair found again): nothing more.
    assert owners_tell(datasets, key="duplicate:1-2", kind="duplicate", subject="s", body_text="b") == []
    assert OutboxMessage.objects.count() == 3
    assert owners_tell([datasets[1]], key="duplicate:3-4", kind="duplicate", subject="s", body_text="b")[0].recipient == "Rui@example.com"
    assert owners_tell([], key="duplicate:5-6", kind="duplicate", subject="s", body_text="b") == []
