"""Watching: who wants to hear about which source, schema or dataset."""

from __future__ import annotations

from django.core import signing

from catalog.alerts.models import Subscription
from catalog.inventory.models import Dataset
from catalog.search.index import search_refresh_weights
from catalog.sources.models import Source

UNSUBSCRIBE_SALT = "canon.unsubscribe"


class SubscriptionError(ValueError):
    pass


def subscription_resolve_target(target: str) -> tuple[Source, str, Dataset | None]:
    """'SOURCE', 'SOURCE.SCHEMA' or 'SOURCE.SCHEMA.DATASET' (the dataset name may itself hold dots)."""
    parts = (target or "").split(".", 2)
    source = Source.objects.filter(name=parts[0]).first()
    if source is None:
        raise SubscriptionError(f"No source named '{parts[0]}'.")
    if len(parts) == 1:
        return source, "", None
    schema = parts[1]
    if len(parts) == 2:
        if not Dataset.objects.filter(source=source, schema_name=schema).exists():
            raise SubscriptionError(f"Source {source.name} has no schema '{schema}'.")
        return source, schema, None
    dataset = Dataset.objects.filter(source=source, schema_name=schema, name=parts[2]).first()
    if dataset is None:
        raise SubscriptionError(f"Source {source.name} has no dataset {schema}.{parts[2]}.")
    return source, schema, dataset


def subscription_create(*, user, source: Source, schema_name: str = "", dataset: Dataset | None = None,
                        mode: str = Subscription.IMMEDIATE, breaking_only: bool = False) -> Subscription:
    """Create or update the user's subscription to that target (one per target)."""
    if mode not in dict(Subscription.MODE_CHOICES):
        raise SubscriptionError(f"Mode is one of: {', '.join(dict(Subscription.MODE_CHOICES))}.")
    if dataset is not None:
        if dataset.source_id != source.pk:
            raise SubscriptionError("That dataset is not in that source.")
        schema_name = dataset.schema_name
    subscription, _ = Subscription.objects.update_or_create(
        user=user, source=source, schema_name=schema_name or "", dataset=dataset,
        defaults={"mode": mode, "breaking_only": bool(breaking_only)},
    )
    search_refresh_weights([dataset.pk] if dataset is not None else [])
    return subscription


def subscription_delete(subscription: Subscription) -> None:
    subscription.delete()
    search_refresh_weights([subscription.dataset_id] if subscription.dataset_id else [])


def unsubscribe_token(user_id: int, *, subscription_id: int | None = None, dataset_id: int | None = None) -> str:
    """A signed token that stops one subscription (or an owner's default watch of one dataset)."""
    return signing.dumps({"u": user_id, "s": subscription_id, "d": dataset_id}, salt=UNSUBSCRIBE_SALT, compress=True)


def _unsubscribe_target(token: str) -> tuple[Subscription | None, Dataset | None, int]:
    """What a token stops: (subscription, None, user) or (None, dataset, user); both None when it is gone."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        raise SubscriptionError("This unsubscribe link is not valid.") from None
    if data.get("s"):
        subscription = Subscription.objects.filter(pk=data["s"], user_id=data["u"]).select_related("source", "dataset").first()
        return subscription, None, data["u"]
    return None, Dataset.objects.filter(pk=data.get("d")).select_related("source").first(), data["u"]


def _label(subscription: Subscription | None, dataset: Dataset | None) -> str:
    if subscription is not None:
        return subscription.target_label
    return f"{dataset.source.name}.{dataset.schema_name}.{dataset.name}"


def unsubscribe_describe(token: str) -> str | None:
    """What an unsubscribe link would stop, changing nothing; None when that is already gone.

    Raises SubscriptionError for a bad token. Mail scanners open links: only a POST unsubscribes.
    """
    subscription, dataset, _ = _unsubscribe_target(token)
    if subscription is None and dataset is None:
        return None
    return _label(subscription, dataset)


def unsubscribe_with_token(token: str) -> str:
    """Apply an unsubscribe link; returns what was stopped. Raises SubscriptionError for a bad token."""
    subscription, dataset, user_id = _unsubscribe_target(token)
    if subscription is not None:
        subscription.mode = Subscription.OFF
        subscription.save(update_fields=["mode"])
        return subscription.target_label
    if dataset is None:
        return "nothing: that subscription or dataset is already gone"
    Subscription.objects.update_or_create(
        user_id=user_id, source=dataset.source, schema_name=dataset.schema_name, dataset=dataset,
        defaults={"mode": Subscription.OFF},
    )
    return _label(None, dataset)
