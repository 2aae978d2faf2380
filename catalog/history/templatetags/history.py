from django import template

register = template.Library()


@register.inclusion_tag("history/_section.html")
def history_section(dataset, limit=8):
    """The dataset's latest schema changes and a link to its whole timeline."""
    changes = list(dataset.schema_changes.order_by("-created_at", "-id")[:limit])
    return {"dataset": dataset, "changes": changes, "versions": dataset.versions.count()}
