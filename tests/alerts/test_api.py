"""/api/subscriptions/: each subscription shows the datasets it no longer alerts about, and its owner
leaves one out or lets it back in through the same service the unsubscribe link and the page use."""

import pytest
from rest_framework.authtoken.models import Token

from catalog.alerts.models import SubscriptionExclusion
from catalog.alerts.services import exclusion_create, subscription_create
from catalog.inventory.models import Dataset
from tests.factories import make_datasets, make_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def lake():
    source = make_source("lake")
    make_datasets(source, 14)  # schemas s0..s6, two datasets each
    other = make_source("other", url="postgresql://reader:not-used@127.0.0.1:1/other")
    make_datasets(other, 1)
    return source


def token_of(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


def test_subscriptions_list_their_exclusions(client, lake, django_user_model, django_assert_max_num_queries):
    ana = django_user_model.objects.create_user("ana", "ana@example.com", "pw-ana-123")
    whole = subscription_create(user=ana, source=lake)
    schema = subscription_create(user=ana, source=lake, schema_name="s1")
    for dataset in Dataset.objects.filter(source=lake, schema_name__in=["s1", "s2"]).order_by("name"):
        exclusion_create(whole, dataset)
    exclusion_create(schema, Dataset.objects.filter(source=lake, schema_name="s1").order_by("name").first())
    headers = token_of(ana)
    with django_assert_max_num_queries(4):  # token, count, page, exclusions with their datasets: not one per subscription
        listed = client.get("/api/subscriptions/", **headers).json()["results"]
    by_id = {s["id"]: s for s in listed}
    assert [e["name"] for e in by_id[whole.pk]["exclusions"]] == ["s1.t000001", "s1.t000008", "s2.t000002", "s2.t000009"]
    assert [e["name"] for e in by_id[schema.pk]["exclusions"]] == ["s1.t000001"]
    first = Dataset.objects.get(source=lake, name="t000001")
    assert by_id[schema.pk]["exclusions"][0]["dataset"] == first.pk
    assert client.get(f"/api/subscriptions/{schema.pk}/", **headers).json()["exclusions"][0]["dataset"] == first.pk


def test_a_person_excludes_a_dataset_of_their_subscription_and_lets_it_back(client, lake, django_user_model):
    ana = django_user_model.objects.create_user("ana", "ana@example.com", "pw-ana-123")
    bo = django_user_model.objects.create_user("bo", "bo@example.com", "pw-bo-123")
    subscription = subscription_create(user=ana, source=lake, schema_name="s3")
    inside = Dataset.objects.get(source=lake, name="t000003")
    outside = Dataset.objects.get(source=lake, name="t000004")  # schema s4
    elsewhere = Dataset.objects.exclude(source=lake).get()
    url = f"/api/subscriptions/{subscription.pk}/exclusions/"
    headers = token_of(ana)

    added = client.post(url, {"dataset": inside.pk}, content_type="application/json", **headers)
    assert added.status_code == 201, added.content
    assert added.json()["id"] == subscription.pk and [e["dataset"] for e in added.json()["exclusions"]] == [inside.pk]
    assert SubscriptionExclusion.objects.filter(subscription=subscription, dataset=inside).exists()
    again = client.post(url, {"dataset": inside.pk}, content_type="application/json", **headers)
    assert again.status_code == 201 and len(again.json()["exclusions"]) == 1  # repeating it is harmless

    # Only a dataset the subscription covers; a dataset that is not there is a 400, not a 500.
    for dataset_id, words in ((outside.pk, "lake.s3 does not cover s4.t000004"), (elsewhere.pk, "lake.s3 does not cover s0.t000000"),
                              (10**9, "No such dataset.")):
        refused = client.post(url, {"dataset": dataset_id}, content_type="application/json", **headers)
        assert refused.status_code == 400 and words in refused.json()["dataset"][0], refused.content
    assert client.post(url, {"dataset": 2**64}, content_type="application/json", **headers).status_code == 400
    dataset_subscription = subscription_create(user=ana, source=lake, dataset=inside)
    refused = client.post(f"/api/subscriptions/{dataset_subscription.pk}/exclusions/", {"dataset": inside.pk},
                          content_type="application/json", **headers)
    assert refused.status_code == 400  # a subscription to the dataset itself is turned off, not excluded from

    # Someone else's subscription is not found; anonymous is a 401.
    assert client.post(url, {"dataset": inside.pk}, content_type="application/json", **token_of(bo)).status_code == 404
    assert client.delete(f"{url}{inside.pk}/", **token_of(bo)).status_code == 404
    assert client.post(url, {"dataset": inside.pk}, content_type="application/json").status_code == 401
    assert SubscriptionExclusion.objects.filter(subscription=subscription).count() == 1

    assert client.delete(f"{url}{inside.pk}/", **headers).status_code == 204
    assert not SubscriptionExclusion.objects.filter(subscription=subscription).exists()
    assert client.delete(f"{url}{inside.pk}/", **headers).status_code == 404
    assert client.delete(f"{url}{2**64}/", **headers).status_code == 404
    assert client.get(f"/api/subscriptions/{subscription.pk}/", **headers).json()["exclusions"] == []


def test_the_schema_documents_the_exclusions(client):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    assert set(paths["/api/subscriptions/{id}/exclusions/"]) == {"post"}
    assert set(paths["/api/subscriptions/{id}/exclusions/{dataset}/"]) == {"delete"}
    listed = client.get("/api/schema/?format=json").json()["components"]["schemas"]["Subscription"]["properties"]
    assert listed["exclusions"]["readOnly"] is True
