"""What usage adds to search: a dataset more people read (query history, last 30 days) ranks higher, as one
many views or definitions read does. The search app imports this module when it is ready."""

from __future__ import annotations

from catalog.core.searchindex import dataset_readers
from catalog.usage.models import DatasetUsage


@dataset_readers
def people_reading(dataset_ids, **options):
    """How many people (database users) read each dataset in the last 30 days."""
    return DatasetUsage.objects.filter(dataset_id__in=dataset_ids, users_30__gt=0).values_list("dataset_id", "users_30")
