from django.apps import AppConfig


class DuplicatesConfig(AppConfig):
    name = "catalog.duplicates"
    label = "duplicates"
    verbose_name = "Duplicates"

    def ready(self):
        from catalog.audit.tracked import ALL, track_model
        from catalog.core.searchindex import dataset_copies
        from catalog.core.storage import storage_price_overrides
        from catalog.duplicates.models import Decision, StoragePrice
        from catalog.duplicates.selectors import admin_storage_prices, copies_of
        from catalog.inventory.registry import register_dataset_detail_field

        dataset_copies(copies_of)
        storage_price_overrides(admin_storage_prices)
        register_dataset_detail_field("duplicates", "catalog.duplicates.api.DatasetDuplicatesField")
        # A person's decision about two datasets, and a storage price set in the admin, are audited writes.
        track_model(Decision, {"include_fields": ["dataset_a", "dataset_b", "verdict", "original", "reason"]}, ALL,
                    parents=[("dataset_a", "inventory.dataset")])
        track_model(StoragePrice, {"include_fields": ["engine", "usd_per_gb_month"]}, ALL)
