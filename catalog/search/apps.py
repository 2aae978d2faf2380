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
