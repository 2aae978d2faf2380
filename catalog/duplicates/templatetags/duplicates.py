from django import template

from catalog.duplicates.models import Decision
from catalog.duplicates.selectors import dataset_duplicates

register = template.Library()


@register.inclusion_tag("duplicates/_panel.html", takes_context=True)
def duplicates_section(context, dataset):
    """The dataset page's panel: "Looks like a copy of X (92%: same 14 columns, 1 extra)", or its copies; with the forms
    to decide. Two small queries when the dataset is in no group."""
    return {"dataset": dataset, **dataset_duplicates(dataset), "verdicts": Decision.VERDICT_CHOICES,
            "user": context.get("user"), "request": context.get("request")}
