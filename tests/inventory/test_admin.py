"""The admin writes descriptions and owner mappings through the same services as the pages, so search follows."""

import pytest

from catalog.inventory.models import Dataset, OwnerIdentity
from catalog.search.models import SearchDocument
from tests.factories import make_source
from tests.search.support import add_dataset, titles

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save(update_fields=["is_superuser"])
    client.force_login(staff_user)
    return client


def test_a_description_written_in_the_admin_is_found_by_search(admin_client, staff_user):
    dataset = add_dataset(make_source(), "sales", "orders", [("id", "integer")])
    assert "sales.orders" not in titles("quokka")
    response = admin_client.post(f"/admin/inventory/dataset/{dataset.pk}/change/", {"description": "Every quokka order."})
    assert response.status_code == 302, response.content.decode()[:2000]
    dataset.refresh_from_db()
    assert dataset.description == "Every quokka order."
    assert dataset.description_updated_by == staff_user and dataset.description_updated_at is not None
    assert "sales.orders" in titles("quokka")


def test_a_description_too_long_for_the_service_is_refused_on_the_form(admin_client):
    dataset = add_dataset(make_source(), "sales", "orders", [("id", "integer")])
    response = admin_client.post(f"/admin/inventory/dataset/{dataset.pk}/change/", {"description": "x" * 50_001})
    assert response.status_code == 200 and "at most 50,000 characters" in response.content.decode()
    assert Dataset.objects.get(pk=dataset.pk).description == ""


def test_an_owner_mapped_in_the_admin_has_its_search_document_rebuilt(admin_client):
    source = make_source()
    identity = OwnerIdentity.objects.create(source=source, name="analytics_role")
    add_dataset(source, "sales", "orders", [("id", "integer")], owner=identity)
    response = admin_client.post(f"/admin/inventory/owneridentity/{identity.pk}/change/", {
        "source": source.pk, "name": "analytics_role", "user": "", "email": "wombat@example.com"})
    assert response.status_code == 302, response.content.decode()[:2000]
    identity.refresh_from_db()
    assert identity.email == "wombat@example.com"
    document = SearchDocument.objects.get(kind=SearchDocument.OWNER, object_id=identity.pk)
    assert "wombat@example.com" in document.body
