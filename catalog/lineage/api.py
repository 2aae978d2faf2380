from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

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
    "properties": {"hops": {"type": "integer"}, "upstream": {"type": "array", "items": _NODE},
                   "downstream": {"type": "array", "items": _NODE}},
    "required": ["hops", "upstream", "downstream"],
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

        return {
            "hops": MAX_HOPS,
            "upstream": [node(n) for n in lineage_upstream(dataset)],
            "downstream": [node(n) for n in lineage_downstream(dataset)],
        }
