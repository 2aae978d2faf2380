from django.apps import AppConfig


class DuplicatesConfig(AppConfig):
    name = "catalog.duplicates"
    label = "duplicates"
    verbose_name = "Duplicates"

    def ready(self):
        from catalog.core.searchindex import dataset_copies
        from catalog.core.storage import storage_price_overrides
        from catalog.duplicates.selectors import admin_storage_prices, copies_of
        from catalog.inventory.registry import register_dataset_detail_field

        dataset_copies(copies_of)
        storage_price_overrides(admin_storage_prices)
        register_dataset_detail_field("duplicates", "catalog.duplicates.api.DatasetDuplicatesField")
