"""Where an audit entry shows: the object whose page carries it as history, and that page's address.

Keyed by model label, so this module imports no other app's models (the entries name them as text).
"""

from django.urls import NoReverseMatch, reverse

# A write to one of these shows on its parent's page: the first of the (foreign key, parent label) pairs set.
PARENTS: dict[str, list[tuple[str, str]]] = {
    "inventory.column": [("dataset", "inventory.dataset")],
    "inventory.owneridentity": [("source", "sources.source")],
    "sources.crawl": [("source", "sources.source")],
    "metrics.metricversion": [("definition", "metrics.metricdefinition")],
    "alerts.subscription": [("dataset", "inventory.dataset"), ("source", "sources.source")],
    "alerts.subscriptionexclusion": [("dataset", "inventory.dataset")],
    "sources.crawlschedule": [("source", "sources.source")],
    "usage.sourceusage": [("source", "sources.source")],
    "inventory.schemadescription": [("source", "sources.source")],
}  # apps above audit add theirs through tracked.track_model

# The page of an object with history: by its primary key or by its name (its text when the entry was written).
PAGES: dict[str, tuple[str, str]] = {
    "sources.source": ("source-detail", "repr"),
    "inventory.dataset": ("dataset-detail", "pk"),
    "metrics.metricdefinition": ("metric-detail", "repr"),
}


def label_of(obj_or_model) -> str:
    return f"{obj_or_model._meta.app_label}.{obj_or_model._meta.model_name}"


def parent_of(instance) -> tuple[str, int, str] | None:
    """(label, id, text) of the object whose history shows a write to this instance, or None."""
    for field, label in PARENTS.get(label_of(instance), []):
        parent = getattr(instance, field, None)  # a foreign key, or a one-to-one the other way
        if parent is not None:
            return label, parent.pk, str(parent)
    return None


def object_page(label: str, pk, text: str) -> str:
    """The address of the page of the object (label, pk, text), or "" if it has none."""
    if label not in PAGES or pk is None:
        return ""
    name, by = PAGES[label]
    try:
        return reverse(name, args=[pk if by == "pk" else text])
    except NoReverseMatch:
        return ""
