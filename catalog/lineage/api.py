from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from catalog.inventory.models import BuildSql
from catalog.lineage.models import ColumnLineageState
from catalog.lineage.selectors import MAX_HOPS, lineage_downstream, lineage_upstream


_NODE = {
    "type": "object",
    "properties": {
        "depth": {"type": "integer", "description": "1 = direct"},
        "name": {"type": "string"},
        "id": {"type": "integer", "nullable": True},
        "kind": {"type": "string", "nullable": True},
        "url": {"type": "string", "nullable": True},
    },
    "required": ["depth", "name", "id", "kind", "url"],
}


@extend_schema_field({
    "type": "object",
    "readOnly": True,
    "properties": {
        "hops": {"type": "integer"}, "upstream": {"type": "array", "items": _NODE},
        "downstream": {"type": "array", "items": _NODE},
        "derived_from": {
            "type": "object", "nullable": True,
            "description": "Where this dataset's own lineage is read from: its SQL in the warehouse (a view), or a "
                           "tool's (a dbt model built as a table: its compiled SQL, or only the manifest's depends_on "
                           "when it has none). Null for a dataset that reads nothing.",
            "properties": {"origin": {"type": "string", "enum": ["warehouse", "dbt"]},
                           "id": {"type": "string", "description": "The tool's id (a dbt node's unique_id); '' for the warehouse"},
                           "compiled_sql": {"type": "boolean", "description": "Whether there was SQL to read columns from"}},
        },
        "table_level_reason": {"type": "string", "description": "Why its column lineage could not be resolved ('' when it was)"},
    },
    "required": ["hops", "upstream", "downstream", "derived_from", "table_level_reason"],
})
class DatasetLineageField(serializers.Field):
    """A dataset's upstream and downstream datasets, a few hops each way, nearest first.

    Each node: depth (1 = direct), the qualified name, and the dataset's id and API url
    when the name resolves to a dataset in the catalog (null otherwise).
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "*")
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, dataset):
        request = self.context.get("request")

        def node(n):
            return {
                "depth": n.depth,
                "name": n.name,
                "id": n.dataset.pk if n.dataset is not None else None,
                "kind": n.dataset.kind if n.dataset is not None else None,
                "url": reverse("api-dataset-detail", args=[n.dataset.pk], request=request) if n.dataset is not None else None,
            }

        upstream = lineage_upstream(dataset)
        derived_from, reason = None, ""
        if upstream:
            state = ColumnLineageState.objects.filter(dataset_id=dataset.pk).values_list("table_level_reason", flat=True).first()
            reason = state or ""
            if dataset.definition:
                derived_from = {"origin": "warehouse", "id": "", "compiled_sql": True}
            else:
                built = BuildSql.objects.filter(dataset_id=dataset.pk).values_list("origin", "origin_id", "sql").first()
                if built:
                    derived_from = {"origin": built[0], "id": built[1], "compiled_sql": bool(built[2])}
        return {
            "hops": MAX_HOPS,
            "upstream": [node(n) for n in upstream],
            "downstream": [node(n) for n in lineage_downstream(dataset)],
            "derived_from": derived_from,
            "table_level_reason": reason,
        }
