"""Reads of the lineage graph: a few hops up and down from one dataset, one query per hop."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from catalog.inventory.models import Dataset
from catalog.lineage.models import ColumnLineageEdge, LineageEdge

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


def lineage_impacts(dataset_ids, hops: int = MAX_HOPS) -> dict[int, list[tuple[int, str]]]:
    """For each dataset, the present views that read it, directly or through other views:
    {dataset id: [(view id, "schema.name"), ...]}, nearest first. One query per hop for all of them.

    A first-hop edge is matched by the upstream's id or, for a dataset a crawl just removed
    (its edges may already point nowhere), by its qualified name in the same source.
    """
    rows = list(Dataset.objects.filter(id__in=list(dataset_ids)).values_list("id", "source_id", "schema_name", "name"))
    if not rows:
        return {}
    by_name = {(source_id, f"{schema}.{name}"): pk for pk, source_id, schema, name in rows}
    origin_of: dict[int, set[int]] = {pk: {pk} for pk, *_ in rows}  # dataset reached -> origins it stands for
    impacts: dict[int, list[tuple[int, str]]] = {pk: [] for pk, *_ in rows}
    seen: dict[int, set[int]] = {pk: {pk} for pk, *_ in rows}
    condition = Q(upstream_id__in=list(origin_of))
    for source_id in {s for _, s, _, _ in rows}:
        condition |= Q(source_id=source_id, upstream_name__in=[n for (s, n) in by_name if s == source_id])
    edges = LineageEdge.objects.filter(condition, downstream__removed_at__isnull=True)
    for _ in range(hops):
        reached: dict[int, set[int]] = {}
        for upstream_id, source_id, upstream_name, view_id, schema, name in edges.values_list(
            "upstream_id", "source_id", "upstream_name", "downstream_id", "downstream__schema_name", "downstream__name"
        ).order_by("downstream__schema_name", "downstream__name"):
            origins = origin_of.get(upstream_id) if upstream_id in origin_of else None
            if origins is None and (source_id, upstream_name) in by_name:
                origins = {by_name[(source_id, upstream_name)]}
            for origin in origins or ():
                if view_id in seen[origin]:
                    continue
                seen[origin].add(view_id)
                impacts[origin].append((view_id, f"{schema}.{name}"))
                reached.setdefault(view_id, set()).add(origin)
        if not reached:
            break
        origin_of = reached
        edges = LineageEdge.objects.filter(upstream_id__in=list(reached), downstream__removed_at__isnull=True)
    return {pk: views for pk, views in impacts.items() if views}


def lineage_column_readers(columns) -> dict[tuple[int, str], list[tuple[int, str, str, bool]]]:
    """For each (dataset id, column), the present views that read it directly:
    {(dataset id, column): [(view id, "schema.name", the view's column, table level), ...]}. The view's column
    is the output column derived from it, "" when the view reads it only in a filter or join; column "*" asks
    for any column. A view whose columns are not known (its SQL could not be resolved to columns, or was never
    derived) reads every column of what it reads, at table level: its column is "*". Two queries for all."""
    columns = list(columns)
    dataset_ids = list({dataset_id for dataset_id, _ in columns})
    wanted = set(columns)
    readers: dict[tuple[int, str], list[tuple[int, str, str, bool]]] = {key: [] for key in columns}
    by_column: set[tuple[int, str, int, str]] = set()
    for upstream_id, upstream_column, view_id, schema, name, view_column in ColumnLineageEdge.objects.filter(
        upstream_id__in=dataset_ids, downstream__removed_at__isnull=True
    ).values_list("upstream_id", "upstream_column", "downstream_id", "downstream__schema_name", "downstream__name",
                  "downstream_column").order_by("downstream__schema_name", "downstream__name", "downstream_column"):
        for key in ((upstream_id, upstream_column), (upstream_id, "*")):
            if key in wanted and (key[0], key[1], view_id, view_column) not in by_column:
                by_column.add((key[0], key[1], view_id, view_column))
                readers[key].append((view_id, f"{schema}.{name}", view_column, False))
    unknown = LineageEdge.objects.filter(upstream_id__in=dataset_ids, downstream__removed_at__isnull=True).filter(
        Q(downstream__column_lineage__isnull=True) | ~Q(downstream__column_lineage__table_level_reason=""))
    for upstream_id, view_id, schema, name in unknown.values_list(
            "upstream_id", "downstream_id", "downstream__schema_name", "downstream__name").order_by(
            "downstream__schema_name", "downstream__name"):
        for key in wanted:
            if key[0] == upstream_id and not any(r[0] == view_id for r in readers[key]):
                readers[key].append((view_id, f"{schema}.{name}", "*", True))
    return {key: found for key, found in readers.items() if found}


# A hop of the picture shows this many datasets; the rest fold into a "n more" a person can open.
COLLAPSE_AFTER = 6


@dataclass
class PictureHop:
    depth: int  # negative: that many hops upstream; positive: downstream
    shown: list[LineageNode]
    folded: list[LineageNode]

    @property
    def label(self) -> str:
        hops = abs(self.depth)
        return f"{'reads' if self.depth < 0 else 'read by'}{'' if hops == 1 else f', {hops} hops away'}"


def lineage_picture(dataset, upstream: list[LineageNode], downstream: list[LineageNode], *, columns: bool = False) -> list[PictureHop]:
    """The neighbourhood as hops from far upstream to far downstream, each hop's long tail folded. With
    `columns`, each node carries `column_pairs`: which of its columns feed which columns of the dataset one
    hop nearer (upstream) or derive from it (downstream), one query for all."""
    hops: list[PictureHop] = []
    for nodes, sign in ((upstream, -1), (downstream, 1)):
        by_depth: dict[int, list[LineageNode]] = {}
        for node in nodes:
            by_depth.setdefault(node.depth, []).append(node)
        for depth, found in by_depth.items():
            hops.append(PictureHop(sign * depth, found[:COLLAPSE_AFTER], found[COLLAPSE_AFTER:]))
    hops.sort(key=lambda hop: hop.depth)
    if columns:
        ids = {dataset.pk} | {n.dataset.pk for n in upstream + downstream if n.dataset is not None}
        pairs: dict[tuple[int, int], list[tuple[str, str]]] = {}
        for upstream_id, downstream_id, upstream_column, downstream_column in ColumnLineageEdge.objects.filter(
                downstream_id__in=ids, upstream_id__in=ids).exclude(downstream_column="").values_list(
                "upstream_id", "downstream_id", "upstream_column", "downstream_column").order_by("downstream_column", "upstream_column"):
            pairs.setdefault((upstream_id, downstream_id), []).append((upstream_column, downstream_column))
        for hop in hops:
            for node in hop.shown + hop.folded:
                if node.dataset is None:
                    node.column_pairs = []
                elif hop.depth < 0:
                    node.column_pairs = pairs.get((node.dataset.pk, node.via_id), [])
                else:
                    node.column_pairs = pairs.get((node.via_id, node.dataset.pk), [])
    return hops


@dataclass
class ColumnLineageRow:
    column: str
    comes_from: list[tuple[str, str, int | None]]  # (dataset name, column, dataset id when in the catalog)
    read_by: list  # catalog.alerts.impact.ColumnReader, views and definitions


def column_lineage_rows(dataset, columns: list[str], readers: dict[tuple[int, str], list]) -> list[ColumnLineageRow]:
    """Per column of the dataset, in order: the input columns it derives from and what reads it directly
    (`readers`: the impact providers' answer, views and metric definitions); `columns` in the dataset's order.
    Columns with neither are left out."""
    comes_from: dict[str, list[tuple[str, str, int | None]]] = {}
    for column, name, upstream_column, upstream_id in ColumnLineageEdge.objects.filter(downstream=dataset).exclude(
            downstream_column="").values_list("downstream_column", "upstream_name", "upstream_column", "upstream_id").order_by(
            "upstream_name", "upstream_column"):
        comes_from.setdefault(column, []).append((name, upstream_column, upstream_id))
    rows = []
    for column in columns:
        found = comes_from.get(column, [])
        reading = readers.get((dataset.pk, column), [])
        if found or reading:
            rows.append(ColumnLineageRow(column, found, reading))
    return rows
