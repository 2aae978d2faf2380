"""Reads of the duplicates: groups with what each member costs and who reads it, a dataset's panel, search's labels."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q

from catalog.core.storage import monthly_cost, storage_prices
from catalog.duplicates.models import Decision, DuplicateGroup, DuplicateMember, StoragePrice
from catalog.inventory.models import Dataset
from catalog.lineage.models import LineageEdge
from catalog.metrics.models import MetricDatasetUse

MEMBER_DATASET = ("source", "owner")


def admin_storage_prices() -> dict[str, Decimal]:
    """The prices people set in the admin (*Storage prices*): they win over CANON_STORAGE_PRICES (core/storage.py)."""
    return dict(StoragePrice.objects.values_list("engine", "usd_per_gb_month"))


def copies_of(ids) -> dict[int, str]:
    """Search's labels: {dataset id: qualified name of its original} for the copies among these datasets."""
    return {dataset_id: f"{schema}.{name}" for dataset_id, schema, name in DuplicateMember.objects.filter(
        dataset_id__in=list(ids)).values_list("dataset_id", "group__original__schema_name", "group__original__name")}


def groups_queryset():
    members = DuplicateMember.objects.select_related("dataset__source", "dataset__owner", "like").order_by(
        "-certain", "-score", "dataset_id")
    return DuplicateGroup.objects.select_related("original__source", "original__owner").prefetch_related(
        Prefetch("members", queryset=members)).order_by("-certain", "-score", "-size", "id")


def filter_groups(groups, *, kind: str = "", source: str = "", min_score=None, certain=None, dataset=None, q: str = ""):
    """The filters the page and the API share."""
    if kind:
        groups = groups.filter(kind=kind)
    if source:
        groups = groups.filter(Q(original__source__name=source) | Q(members__dataset__source__name=source))
    if min_score is not None:
        groups = groups.filter(score__gte=min_score)
    if certain is not None:
        groups = groups.filter(certain=certain)
    if dataset is not None:
        groups = groups.filter(Q(original_id=dataset) | Q(members__dataset_id=dataset))
    if q:
        groups = groups.filter(Q(original__name__icontains=q) | Q(members__dataset__name__icontains=q))
    return groups.distinct() if (source or dataset is not None or q) else groups


@dataclass
class Row:
    """One member of a group as the page and the API show it."""

    dataset: Dataset
    is_original: bool
    score: int
    certain: bool = False
    summary: str = ""
    evidence: list = field(default_factory=list)
    like: Dataset | None = None
    cost: Decimal | None = None
    read_by: list = field(default_factory=list)  # views (lineage downstream)
    definitions: list = field(default_factory=list)  # metric definitions reading it
    decision: Decision | None = None


def describe_groups(groups) -> tuple[list[tuple[DuplicateGroup, list[Row], Decimal]], dict]:
    """Each group with its rows (original first) and its copies' monthly cost, in a fixed number of queries."""
    groups = list(groups)
    prices = storage_prices()
    ids = {g.original_id for g in groups} | {m.dataset_id for g in groups for m in g.members.all()}
    read_by: dict[int, list] = defaultdict(list)
    for edge in LineageEdge.objects.filter(upstream_id__in=ids, downstream__removed_at__isnull=True).select_related("downstream"):
        read_by[edge.upstream_id].append(edge.downstream)
    definitions: dict[int, list] = defaultdict(list)
    for use in MetricDatasetUse.objects.filter(dataset_id__in=ids).select_related("definition"):
        definitions[use.dataset_id].append(use.definition)
    decisions = {(d.dataset_a_id, d.dataset_b_id): d for d in Decision.objects.filter(
        Q(dataset_a_id__in=ids) | Q(dataset_b_id__in=ids)).select_related("decided_by")}
    described = []
    total = Decimal("0.00")
    kept = Decimal("0.00")
    for group in groups:
        original = group.original
        rows = [Row(original, True, 100, cost=monthly_cost(original.size_bytes, original.source.engine, prices),
                    read_by=read_by.get(original.pk, []), definitions=definitions.get(original.pk, []))]
        group_cost = Decimal("0.00")
        for m in group.members.all():
            d = m.dataset
            other = m.like_id or original.pk
            decision = decisions.get(tuple(sorted((d.pk, other)))) or decisions.get(tuple(sorted((d.pk, original.pk))))
            row = Row(d, False, m.score, m.certain, m.summary, m.evidence, m.like,
                      monthly_cost(d.size_bytes, d.source.engine, prices), read_by.get(d.pk, []), definitions.get(d.pk, []), decision)
            rows.append(row)
            if row.cost is not None:
                if decision is not None and decision.verdict == Decision.KEEP:
                    kept += row.cost
                else:
                    group_cost += row.cost
        total += group_cost
        described.append((group, rows, group_cost))
    return described, {"total": total, "kept": kept, "prices": prices}


def dataset_duplicates(dataset) -> dict:
    """The dataset page's panel: whose copy it is, or its copies, with decisions on the pairs."""
    membership = DuplicateMember.objects.filter(dataset_id=dataset.pk).select_related(
        "group__original__source", "like__source").first()
    group = None
    copies = []
    if membership is None:
        group = DuplicateGroup.objects.filter(original_id=dataset.pk).first()
        if group is not None:
            copies = list(group.members.select_related("dataset__source").order_by("-certain", "-score", "dataset_id")[:20])
    decisions = list(Decision.objects.filter(Q(dataset_a_id=dataset.pk) | Q(dataset_b_id=dataset.pk)).select_related(
        "dataset_a__source", "dataset_b__source", "decided_by", "original")[:20])
    return {"membership": membership, "group": group, "copies": copies, "decisions": decisions}


def copies_cost(groups) -> dict:
    """What the copies of these groups cost a month (the originals are not counted), and how much of it people decided
    to keep: one query over the members, one over the keep decisions."""
    prices = storage_prices()
    rows = list(DuplicateMember.objects.filter(group__in=groups.order_by().values("pk")).values_list(
        "dataset_id", "like_id", "group__original_id", "dataset__size_bytes", "dataset__source__engine"))
    ids = {r[0] for r in rows}
    kept_pairs = set(Decision.objects.filter(verdict=Decision.KEEP).filter(
        Q(dataset_a_id__in=ids) | Q(dataset_b_id__in=ids)).values_list("dataset_a_id", "dataset_b_id")) if ids else set()
    total = kept = Decimal("0.00")
    for dataset_id, like_id, original_id, size, engine in rows:
        cost = monthly_cost(size, engine, prices)
        if cost is None:
            continue
        if tuple(sorted((dataset_id, like_id or original_id))) in kept_pairs or tuple(sorted((dataset_id, original_id))) in kept_pairs:
            kept += cost
        else:
            total += cost
    return {"total": total, "kept": kept, "prices": prices, "copies": len(rows)}
