from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "catalog.usage"
    label = "usage"
    verbose_name = "Usage"

    def ready(self):
        from catalog.inventory.registry import register_dataset_detail_field

        # The dataset API's detail shows its usage; inventory imports no usage.
        register_dataset_detail_field("usage", "catalog.usage.api.DatasetUsageField")
