from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class SearchConfig(AppConfig):
    name = "catalog.search"
    label = "search"
    verbose_name = "Search"

    def ready(self):
        # Every app's search.py declares its documents (catalog.core.searchindex), as admin.py declares admin pages:
        # importing them registers them. Search itself names no other app.
        autodiscover_modules("search")
        # Search follows what people write in the inventory: inventory announces each edit, and imports no search.
        from catalog.inventory.signals import datasets_described, owner_identities_mapped
        from catalog.search.receivers import index_described_datasets, index_mapped_owners

        datasets_described.connect(index_described_datasets, dispatch_uid="search.index_described_datasets")
        owner_identities_mapped.connect(index_mapped_owners, dispatch_uid="search.index_mapped_owners")
