"""What people write about datasets and columns, and who owns what: the one path for these writes
(pages, API, admin, demo), each announced (inventory/signals.py) so search follows it."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from catalog.inventory.models import Column, Dataset, OwnerIdentity, SchemaDescription
from catalog.inventory.signals import datasets_described, owner_identities_mapped

MAX_DESCRIPTION = 50_000


class EditError(ValueError):
    pass


def _clean(text: str) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > MAX_DESCRIPTION:
        raise EditError(f"A description is at most {MAX_DESCRIPTION:,} characters.")
    return text


def dataset_describe(dataset: Dataset, *, description: str, user) -> Dataset:
    """Stored as Markdown source; rendered and sanitised on display."""
    dataset.description = _clean(description)
    dataset.description_updated_at = timezone.now()
    dataset.description_updated_by = user if getattr(user, "is_authenticated", False) else None
    dataset.save(update_fields=["description", "description_updated_at", "description_updated_by"])
    datasets_described.send(sender=Dataset, dataset_ids=[dataset.pk])
    return dataset


def column_describe(column: Column, *, description: str, user) -> Column:
    column.description = _clean(description)
    column.save(update_fields=["description"])
    datasets_described.send(sender=Column, dataset_ids=[column.dataset_id])
    return column


def owner_identity_map(identity: OwnerIdentity, *, user=None, email: str = "") -> OwnerIdentity:
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise EditError(f"'{email}' is not an email address.") from None
    identity.user = user
    identity.email = email
    identity.save(update_fields=["user", "email"])
    owner_identities_mapped.send(sender=OwnerIdentity, owner_identity_ids=[identity.pk])
    return identity


def schema_describe(source, schema_name: str, *, description: str, user) -> SchemaDescription:
    """Stored as Markdown source, one per schema of a source; an empty text clears it."""
    row, _ = SchemaDescription.objects.update_or_create(
        source=source, schema_name=schema_name,
        defaults={"description": _clean(description), "updated_at": timezone.now(),
                  "updated_by": user if getattr(user, "is_authenticated", False) else None},
    )
    return row
