from django.apps import AppConfig


class ImpactConfig(AppConfig):
    """What a change would break before it ships: DDL or a dbt manifest checked against the catalog's lineage."""

    name = "catalog.impact"
    label = "impact"
