"""Reads of the lineage graph: a few hops up and down from one dataset, one query per hop."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.lineage.models import LineageEdge

MAX_HOPS = 3


@dataclass
class LineageNode:
    depth: int  # 1 = read directly
    name: str  # the qualified name, as the catalog or the SQL spells it
    dataset: object | None = None  # the catalog's Dataset, when the name resolves to one
    via_id: int | None = None  # the dataset one hop closer

    @property
    def url(self) -> str:
        return self.dataset.get_absolute_url() if self.dataset is not None else ""


def lineage_upstream(dataset, hops: int = MAX_HOPS) -> list[LineageNode]:
    """What the dataset reads, then what those read, up to `hops` away. Each dataset once, nearest first."""
    return _walk(dataset, hops, upstream=True)


def lineage_downstream(dataset, hops: int = MAX_HOPS) -> list[LineageNode]:
    """The views that read the dataset, then the views reading those, up to `hops` away."""
    return _walk(dataset, hops, upstream=False)


def _walk(dataset, hops: int, *, upstream: bool) -> list[LineageNode]:
    seen = {dataset.pk}
    frontier = [dataset.pk]
    nodes: list[LineageNode] = []
    for depth in range(1, hops + 1):
        if not frontier:
            break
        if upstream:
            edges = LineageEdge.objects.filter(downstream_id__in=frontier).select_related("upstream", "upstream__source")
        else:
            edges = LineageEdge.objects.filter(upstream_id__in=frontier, downstream__removed_at__isnull=True).select_related(
                "downstream", "downstream__source")
        next_frontier = []
        for edge in edges.order_by("upstream_name", "downstream__schema_name", "downstream__name"):
            target = edge.upstream if upstream else edge.downstream
            via = edge.downstream_id if upstream else edge.upstream_id
            if target is None:
                key = ("name", edge.upstream_name)
                if key in seen:
                    continue
                seen.add(key)
                nodes.append(LineageNode(depth=depth, name=edge.upstream_name, via_id=via))
                continue
            if target.pk in seen:
                continue
            seen.add(target.pk)
            next_frontier.append(target.pk)
            nodes.append(LineageNode(depth=depth, name=target.qualified_name, dataset=target, via_id=via))
        frontier = next_frontier
    return nodes
