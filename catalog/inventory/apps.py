from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "catalog.inventory"
    label = "inventory"
