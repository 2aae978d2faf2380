from django import template

from catalog.metrics.models import MetricColumnUse, MetricDatasetUse

register = template.Library()


@register.inclusion_tag("metrics/_dataset_section.html")
def metrics_section(dataset):
    """The dataset page's "Metric definitions" section: the definitions that read it, and the dbt node that builds it."""
    uses = list(MetricDatasetUse.objects.filter(dataset=dataset).select_related("definition").order_by("definition__name"))
    columns: dict[int, list[str]] = {}
    if uses:
        for definition_id, name in MetricColumnUse.objects.filter(dataset=dataset).order_by("column_name").values_list(
            "definition_id", "column_name"
        ):
            columns.setdefault(definition_id, []).append(name)
    for use in uses:
        use.columns = columns.get(use.definition_id, [])
    return {"uses": uses, "dbt_nodes": list(dataset.dbt_nodes.all())}
