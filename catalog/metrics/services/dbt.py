"""Import a dbt project's target/ folder: descriptions and owners onto crawled datasets, metrics as definitions.

One transaction: a folder that cannot be read, or an import that fails part
way, leaves the catalog as it was. Re-importing updates what it made before
(definitions keyed by the dbt metric's unique id, a new version only where
something changed) and never makes a second copy.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog.inventory.models import BuildSql, Column, Dataset
from catalog.inventory.services import BuildSqlRecord, build_sql_sync
from catalog.metrics.dbt import DbtImportError, DbtProject, read_target
from catalog.metrics.models import DbtNode, MetricDefinition, MetricSynonym
from catalog.metrics.services.definitions import MetricError, metric_register, metric_update
from catalog.metrics.similarity import slug
from catalog.search.index import search_index_datasets
from catalog.sources.models import Source


@dataclass
class DbtImportReport:
    project: str = ""
    dbt_version: str = ""
    relations_attached: int = 0
    relations_unmatched: list[str] = field(default_factory=list)
    descriptions_set: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    compiled_sql_kept: int = 0  # models matched to a dataset whose compiled SQL lineage reads
    without_compiled_sql: list[str] = field(default_factory=list)  # models matched, with none (`dbt parse`)

    def summary(self) -> str:
        return (f"dbt project {self.project} (dbt {self.dbt_version}): {self.relations_attached} models and sources attached to datasets"
                f" ({len(self.relations_unmatched)} not in the catalog), {self.descriptions_set} descriptions filled in; metrics:"
                f" {len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged, {len(self.skipped)} skipped;"
                f" compiled SQL of {self.compiled_sql_kept} models kept for lineage")


def _datasets_by_name(project: DbtProject) -> dict[tuple[str, str], list[Dataset]]:
    names = {r.name.lower() for r in project.relations} | {n.lower() for m in project.metrics for _, n in m.relations}
    if not names:
        return {}
    query = Q()
    for name in names:
        query |= Q(name__iexact=name)
    found: dict[tuple[str, str], list[Dataset]] = {}
    for dataset in Dataset.objects.present().filter(query).select_related("source"):
        found.setdefault((dataset.schema_name.lower(), dataset.name.lower()), []).append(dataset)
    return found


def _users_for(names: list[str]):
    model = get_user_model()
    users, external = [], []
    for name in names:
        user = model.objects.filter(Q(username=name) | Q(email__iexact=name)).first()
        (users.append(user) if user else external.append(name))
    return users, external


def metrics_import_dbt(path, *, user=None) -> DbtImportReport:
    """Read PATH (a dbt target/ folder) and import it. Raises DbtImportError, with nothing written, when it cannot."""
    project = read_target(path)
    report = DbtImportReport(project=project.project_name, dbt_version=project.dbt_version, warnings=list(project.warnings))
    now = timezone.now()
    with transaction.atomic():
        datasets = _datasets_by_name(project)
        sources = Counter()
        builds: dict[int, BuildSqlRecord] = {}
        named = {r.unique_id: (r.schema, r.name) for r in project.relations}
        for relation in project.relations:
            matches = datasets.get((relation.schema.lower(), relation.name.lower()), [])
            dataset = matches[0] if len(matches) == 1 else None
            if len(matches) > 1:
                report.warnings.append(f"{relation.unique_id}: {relation.schema}.{relation.name} is in several sources "
                                       f"({', '.join(sorted(d.source.name for d in matches))}); not attached.")
            node, _ = DbtNode.objects.select_for_update().get_or_create(
                unique_id=relation.unique_id,
                defaults={"resource_type": relation.resource_type, "schema_name": relation.schema, "name": relation.name,
                          "imported_at": now},
            )
            previous_description, previous_columns = node.description, dict(node.column_descriptions or {})
            node.resource_type, node.project, node.schema_name, node.name = relation.resource_type, relation.package, relation.schema, relation.name
            node.description, node.owner, node.meta = relation.description, relation.owner, relation.meta
            node.column_descriptions, node.dataset, node.imported_at = relation.columns, dataset, now
            node.save()
            if dataset is None:
                if not matches:
                    report.relations_unmatched.append(f"{relation.schema}.{relation.name}")
                continue
            report.relations_attached += 1
            sources[dataset.source_id] += 1
            report.descriptions_set += _describe(dataset, relation, previous_description, previous_columns)
            if relation.resource_type == "model":
                builds[dataset.pk] = BuildSqlRecord(
                    origin_id=relation.unique_id, sql=relation.compiled_sql or "", database=relation.database,
                    reads=tuple(sorted({named[d] for d in relation.depends_on if d in named})))
                if relation.compiled_sql:
                    report.compiled_sql_kept += 1
                else:
                    report.without_compiled_sql.append(relation.unique_id)
        # The models' compiled SQL, for lineage (tables and incremental models have no SQL in the warehouse).
        build_sql_sync(BuildSql.DBT, builds, owned_prefix=f"model.{project.project_name}.")
        if report.without_compiled_sql:
            report.warnings.append(f"{len(report.without_compiled_sql)} models have no compiled SQL (a manifest from `dbt parse`): "
                                   "their lineage stays at table level. Import the target/ of `dbt compile` or `dbt build` for "
                                   "column lineage.")

        single_source = None
        if len(sources) == 1:
            single_source = Source.objects.get(pk=next(iter(sources)))
        for metric in project.metrics:
            if metric.problems:
                report.skipped.append(f"{metric.name}: {'; '.join(metric.problems)}")
                continue
            owners, external = _users_for(metric.owners)
            data = {
                "title": metric.title[:200], "sql": metric.sql, "dialect": project.dialect, "time_dimension": metric.time_dimension,
                "grain": metric.grain, "tags": ["dbt", *metric.tags], "external_owners": external,
                "description": metric.description + ("\n\n" if metric.description else "") +
                f"Imported from dbt ({metric.type} metric `{metric.unique_id}`); the SQL is Canon's rendering of it.",
            }
            if owners:
                data["owners"] = owners
            existing = MetricDefinition.objects.filter(dbt_unique_id=metric.unique_id).first()
            try:
                if existing is None:
                    data["name"] = _free_name(metric.name, metric.package)
                    if single_source is not None:
                        data["source"] = single_source
                    metric_register(user=user, data=data, message=f"imported from dbt {project.dbt_version}", origin=MetricDefinition.DBT,
                                    dbt_unique_id=metric.unique_id, check_duplicates=False)
                    report.created.append(data["name"])
                else:
                    version = existing.version
                    metric_update(existing, user=user, data=data, message=f"re-imported from dbt {project.dbt_version}",
                                  check_duplicates=False, internal=True)
                    (report.updated if existing.version != version else report.unchanged).append(existing.name)
            except MetricError as exc:
                raise DbtImportError(f"metric {metric.name} could not be imported: {exc}. Nothing was imported.") from None
        search_index_datasets(d.pk for found in datasets.values() for d in found)  # descriptions it filled in
    return report


def _free_name(name: str, package: str) -> str:
    """The dbt metric's own name, unless a definition written in Canon has it already."""
    name, package = slug(name) or "metric", slug(package)
    candidate = name
    for attempt in (name, f"{package}_{name}", f"dbt_{package}_{name}"):
        candidate = attempt[:100]
        if not MetricDefinition.objects.filter(name=candidate).exists() and not MetricSynonym.objects.filter(name=candidate).exists():
            return candidate
    return candidate


def _describe(dataset: Dataset, relation, previous: str, previous_columns: dict) -> int:
    """Fill in descriptions nobody wrote in Canon: empty ones, or ones the last import wrote. Returns how many were set."""
    written = 0
    if relation.description and (not dataset.description or dataset.description == previous) and dataset.description != relation.description:
        Dataset.objects.filter(pk=dataset.pk).update(description=relation.description, description_updated_at=timezone.now())
        written += 1
    if relation.columns:
        for column in Column.objects.filter(dataset=dataset, name__in=list(relation.columns)):
            text = relation.columns[column.name]
            if text and (not column.description or column.description == previous_columns.get(column.name)) and column.description != text:
                Column.objects.filter(pk=column.pk).update(description=text)
                written += 1
    return written
