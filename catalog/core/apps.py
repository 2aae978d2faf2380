from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class CoreConfig(AppConfig):
    name = "catalog.core"
    label = "core"

    def ready(self):
        # The embedded default keeps its catalog in a SQLite file under var/; SQLite makes the file but not its
        # folder. Made here, before any connection, since settings make no folder.
        database = settings.DATABASES["default"]
        if database["ENGINE"] == "django.db.backends.sqlite3" and str(database["NAME"]) not in ("", ":memory:"):
            Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
