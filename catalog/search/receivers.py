"""Search follows what people write in the inventory (descriptions, owner mappings): inventory
announces each edit (catalog/inventory/signals.py) and these rebuild just those documents."""

from catalog.search.index import search_index_datasets, search_index_owners


def index_described_datasets(sender, dataset_ids, **kwargs) -> None:
    search_index_datasets(dataset_ids)


def index_mapped_owners(sender, owner_identity_ids, **kwargs) -> None:
    search_index_owners(owner_identity_ids)
