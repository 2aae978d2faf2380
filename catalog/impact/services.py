"""What a change would break before it ships, from the catalog alone (it never connects to a warehouse).

A migration's DDL (in a source's dialect) or a dbt manifest from a pull request becomes a list of
planned changes to columns and datasets the catalog holds; each is followed downstream through the
column lineage, as a crawl's change is (`catalog.alerts.impact.column_impacts_for`), and the answer
names every view, dbt model and metric definition it reaches, with the column path, their owners and
watchers, certified definitions first. Nothing is written.
"""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from django.db.models.functions import Lower

from catalog.alerts.impact import ColumnImpact, column_impacts_for
from catalog.alerts.models import Subscription, SubscriptionExclusion
from catalog.core.sqlnames import dialect_for
from catalog.impact import ddl
from catalog.impact.ddl import ImpactInputError, Name, PlannedChange
from catalog.inventory.models import Column, Dataset
from catalog.lineage.columns import ColumnLineageError, view_column_lineage
from catalog.lineage.sql import LineageParseError, case_sensitive, view_upstreams
from catalog.metrics.dbt import DbtImportError, read_target
from catalog.metrics.models import DbtNode, MetricDefinition
from catalog.sources.models import Source

MAX_INPUT_BYTES = 5 * 1024 * 1024
# Where an engine puts a table a statement names without a schema, when the name alone is not unique.
_DEFAULT_SCHEMAS = ("public", "main", "PUBLIC", "dbo")


@dataclass
class Broken:
    """One change that breaks readers: a column (or, column "*", the whole dataset) of a catalog dataset."""

    dataset: Dataset
    column: str  # the column as the catalog spells it; "*" the whole dataset
    what: str  # "column sales.orders.amount removed"
    statement: int | None = None  # DDL: the statement; a manifest: None
    node: str = ""  # a manifest: the dbt node

    @property
    def start(self) -> str:
        return f"{self.dataset.qualified_name}.{self.column}" if self.column != "*" else self.dataset.qualified_name


@dataclass
class ImpactAnswer:
    source: str
    input: str  # "ddl" or "manifest"
    changes: list[dict] = field(default_factory=list)
    impacts: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def breaks(self) -> bool:
        return bool(self.impacts)

    def as_dict(self) -> dict:
        return {"source": self.source, "input": self.input, "breaks": self.breaks, "changes": self.changes,
                "impacts": self.impacts, "notes": self.notes}

    def as_text(self) -> str:
        lines = [f"Canon impact check ({self.input}{', source ' + self.source if self.source else ''}): "
                 + (f"{len(self.impacts)} object{'s' if len(self.impacts) != 1 else ''} would break." if self.breaks
                    else "nothing would break.")]
        for change in self.changes:
            where = f"statement {change['statement']}: " if change.get("statement") else (f"{change['node']}: " if change.get("node") else "")
            lines.append(f"  change  {where}{change['change']}")
        for impact in self.impacts:
            label = impact["kind"].replace("_", " ")
            lines.append(f"- {'[certified] ' if impact.get('certified') else ''}{label} {impact['name']}"
                         + (f" (dbt {', '.join(impact['dbt_models'])})" if impact.get("dbt_models") else ""))
            for hit in impact["hits"]:
                column = f" column {hit['column']}" if hit["column"] and hit["column"] != "*" else ""
                how = " (table level only)" if hit["table_level"] else ""
                lines.append(f"    {' -> '.join(hit['path'])} ->{column or ' ' + impact['name']}{how}  [{hit['change']}]")
            if impact["owners"]:
                lines.append(f"    owners: {', '.join(impact['owners'])}")
            if impact["watchers"]:
                lines.append(f"    watchers: {', '.join(impact['watchers'])}")
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def impact_source(name: str | None) -> Source:
    """The source a DDL file is for: the one named, or the only one there is."""
    if name:
        source = Source.objects.filter(name=name).first()
        if source is None:
            raise ImpactInputError(f"there is no source named '{name}' in the catalog")
        return source
    sources = list(Source.objects.order_by("name")[:2])
    if len(sources) == 1:
        return sources[0]
    raise ImpactInputError("say which source the DDL is for (--source NAME, or \"source\" in the request)"
                           if sources else "the catalog holds no source yet")


def impact_check_ddl(source: Source, text: str) -> ImpactAnswer:
    """What the DDL would break in this source. Raises ImpactInputError (nothing written, nothing read
    from the warehouse) for SQL that does not parse or a table or column the catalog does not know."""
    if len(text.encode()) > MAX_INPUT_BYTES:
        raise ImpactInputError(f"the file is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB")
    dialect = dialect_for(source.engine)
    planned = ddl.read_ddl(text, dialect)
    answer = ImpactAnswer(source=source.name, input="ddl")
    broken = _simulate(source, dialect, planned, answer)
    _follow(broken, answer)
    return answer


def impact_check_manifest(text: str) -> ImpactAnswer:
    """What a dbt manifest.json (a pull request's) would break, compared with the dbt nodes Canon imported:
    a model or source gone or moved to another relation breaks everything that reads its dataset; a
    documented column gone, everything that reads that column."""
    if len(text.encode()) > MAX_INPUT_BYTES * 20:
        raise ImpactInputError("manifest.json is larger than 100 MB")
    with tempfile.TemporaryDirectory(prefix="canon-impact-") as folder:
        Path(folder, "manifest.json").write_text(text, encoding="utf-8")
        try:
            project = read_target(folder)
        except DbtImportError as exc:
            raise ImpactInputError(f"manifest.json: {exc}") from None
    answer = ImpactAnswer(source="", input="manifest")
    relations = {relation.unique_id: relation for relation in project.relations}
    imported = list(DbtNode.objects.filter(dataset__isnull=False, dataset__removed_at__isnull=True).select_related("dataset"))
    if not imported:
        answer.notes.append("Canon has imported no dbt project attached to crawled datasets: nothing to compare with.")
    columns = _columns_of([node.dataset_id for node in imported])
    broken: list[Broken] = []
    for node in imported:
        dataset = node.dataset
        relation = relations.get(node.unique_id)
        if relation is None:
            what = f"dbt {node.resource_type} {node.unique_id} ({dataset.qualified_name}) is gone from the manifest"
            broken.append(Broken(dataset, "*", what, node=node.unique_id))
        elif (relation.schema.lower(), relation.name.lower()) != (node.schema_name.lower(), node.name.lower()):
            what = f"dbt {node.resource_type} {node.unique_id} moves from {dataset.qualified_name} to {relation.schema}.{relation.name}"
            broken.append(Broken(dataset, "*", what, node=node.unique_id))
        else:
            gone = [name for name in node.column_descriptions if name not in relation.columns and name.lower() not in
                    {c.lower() for c in relation.columns}]
            for name in gone:
                column = _column_named(columns.get(dataset.pk, []), name)
                if column is None:
                    continue  # documented, but not a column the catalog holds
                broken.append(Broken(dataset, column, f"column {dataset.qualified_name}.{column} is no longer in dbt "
                                                      f"{node.resource_type} {node.unique_id}", node=node.unique_id))
    for item in broken:
        answer.changes.append({"node": item.node, "change": item.what, "dataset": item.dataset.qualified_name,
                               "column": "" if item.column == "*" else item.column})
    _follow(broken, answer)
    return answer


def _columns_of(dataset_ids) -> dict[int, list[str]]:
    return _columns_with_types(dataset_ids)[0]


def _columns_with_types(dataset_ids) -> tuple[dict[int, list[str]], dict[tuple[int, str], str]]:
    """Each dataset's column names in order, and each (dataset, column)'s type as the engine spells it; one query."""
    columns: dict[int, list[str]] = defaultdict(list)
    types: dict[tuple[int, str], str] = {}
    ids = list(dataset_ids)
    for start in range(0, len(ids), 900):
        for dataset_id, name, data_type in Column.objects.filter(dataset_id__in=ids[start:start + 900]).order_by(
                "dataset_id", "position").values_list("dataset_id", "name", "data_type"):
            columns[dataset_id].append(name)
            types[(dataset_id, name)] = data_type
    return columns, types


def _same_type(known: str, planned: str, dialect) -> bool:
    """Whether the catalog's type and the planned one are the same type, as sqlglot spells both."""
    if not known or not planned:
        return False
    return ddl.type_spelling(known, dialect).lower() == ddl.type_spelling(planned, dialect).lower()


def _schemas_expanded(source: Source, planned: list[PlannedChange]) -> list[PlannedChange]:
    """DROP SCHEMA (and a schema renamed) is every present dataset of that schema dropped or moved."""
    out: list[PlannedChange] = []
    for change in planned:
        if change.kind != ddl.SCHEMA_REMOVED:
            out.append(change)
            continue
        schema = change.table.name
        present = Dataset.objects.filter(source=source, removed_at__isnull=True).order_by("name")
        datasets = list(present.filter(schema_name=schema))
        if not datasets and not (change.table.quoted and case_sensitive(source.engine)):
            datasets = list(present.filter(schema_name__iexact=schema))
        if not datasets:
            raise ImpactInputError(f"statement {change.statement} (line {change.line}): schema {schema} holds no dataset "
                                   f"the catalog of source {source.name} knows", statement=change.statement, line=change.line)
        kind = ddl.DATASET_RENAMED if change.new else ddl.DATASET_REMOVED
        for dataset in datasets:
            new = f"{change.new}.{dataset.name}" if change.new else ""
            out.append(replace(change, kind=kind, table=Name(dataset.schema_name, dataset.name, True), new=new))
    return out


def _column_named(columns: list[str], name: str) -> str | None:
    if name in columns:
        return name
    folded = [c for c in columns if c.lower() == name.lower()]
    return folded[0] if len(folded) == 1 else None


def _candidates(source: Source, names) -> list[Dataset]:
    """The source's present datasets any of these names may mean, in one query (names compared without case)."""
    wanted = sorted({name.name.lower() for name in names})
    return list(Dataset.objects.annotate(lower_name=Lower("name")).filter(
        source=source, removed_at__isnull=True, lower_name__in=wanted)) if wanted else []


def _find(source: Source, name: Name, change: PlannedChange | None = None, candidates: list[Dataset] | None = None) -> Dataset | None:
    present = candidates if candidates is not None else _candidates(source, [name])
    if name.schema:
        found = [d for d in present if (d.schema_name, d.name) == (name.schema, name.name)]
        if not found and not (name.quoted and case_sensitive(source.engine)):
            found = [d for d in present if (d.schema_name.lower(), d.name.lower()) == (name.schema.lower(), name.name.lower())]
    else:
        found = [d for d in present if d.name == name.name] or [d for d in present if d.name.lower() == name.name.lower()]
        if len(found) > 1:
            found = [d for d in found if d.schema_name in _DEFAULT_SCHEMAS] or found
    if len(found) > 1:
        where = f"statement {change.statement} (line {change.line}): " if change else ""
        raise ImpactInputError(f"{where}{name} could be any of {', '.join(d.qualified_name for d in found)}; qualify it",
                               statement=change.statement if change else None, line=change.line if change else None)
    return found[0] if found else None


def _simulate(source: Source, dialect, planned: list[PlannedChange], answer: ImpactAnswer) -> list[Broken]:
    """Apply the statements in order to the catalog's columns, so that a column renamed and then dropped is
    the original column removed, and one added and then dropped breaks nothing; what each original column
    (or dataset) ends as is what breaks."""
    datasets: dict[int, Dataset] = {}
    state: dict[int, dict[str, str | None]] = {}  # dataset -> current column name -> original name (None: added)
    dropped: set[int] = set()
    broken: dict[tuple[int, str], Broken] = {}

    def unknown(change: PlannedChange, what: str):
        return ImpactInputError(f"statement {change.statement} (line {change.line}): {what}", statement=change.statement, line=change.line)

    planned = _schemas_expanded(source, planned)
    candidates = _candidates(source, [change.table for change in planned])
    columns_of, types_of = _columns_with_types([d.pk for d in candidates])
    for change in planned:
        dataset = _find(source, change.table, change, candidates)
        created = change.kind in (ddl.VIEW_REPLACED, ddl.TABLE_REPLACED)
        if dataset is None:
            if created:
                what = "view" if change.kind == ddl.VIEW_REPLACED and not change.column else "table"
                answer.notes.append(f"statement {change.statement}: {change.table} is a new {what}; it breaks nothing")
                continue
            raise unknown(change, f"{change.table} is not a dataset the catalog of source {source.name} holds")
        if created and change.column == "create" and dataset.pk not in dropped:
            answer.notes.append(f"statement {change.statement}: {dataset.qualified_name} exists already; CREATE TABLE "
                                "without OR REPLACE would fail there and change nothing")
            continue
        if dataset.pk in dropped and created:
            # DROP VIEW then CREATE VIEW under the same name: what breaks is what the new view no longer has.
            dropped.discard(dataset.pk)
            broken.pop((dataset.pk, "*"), None)
            state[dataset.pk] = {name: name for name in columns_of.get(dataset.pk, [])}
        elif dataset.pk in dropped:
            raise unknown(change, f"{dataset.qualified_name} was dropped by an earlier statement")
        datasets[dataset.pk] = dataset
        if dataset.pk not in state:
            state[dataset.pk] = {name: name for name in columns_of.get(dataset.pk, [])}
        columns = state[dataset.pk]

        def current(name: str) -> str:
            """The column as the catalog spells it (a statement may write an unquoted name in another case)."""
            if name in columns:
                return name
            folded = [c for c in columns if c.lower() == name.lower()]
            if len(folded) == 1:
                return folded[0]
            raise unknown(change, f"{dataset.qualified_name} has no column {name}")

        def record(column: str | None, what: str):
            if column is None:
                return  # a column this migration added: nothing reads it yet
            earlier = broken.get((dataset.pk, column))
            what = f"{earlier.what}, then {what.split(' ', 2)[-1] if column != '*' else what}" if earlier else what
            broken[(dataset.pk, column)] = Broken(dataset, column, what, earlier.statement if earlier else change.statement)

        if change.kind == ddl.COLUMN_REMOVED:
            name = current(change.column)
            record(columns.pop(name), f"column {dataset.qualified_name}.{name} removed")
        elif change.kind == ddl.COLUMN_RENAMED:
            name = current(change.column)
            original = columns.pop(name)
            columns[change.new] = original
            record(original, f"column {dataset.qualified_name}.{name} renamed to {change.new}")
        elif change.kind == ddl.TYPE_CHANGED:
            name = current(change.column)
            if columns[name] is not None and _same_type(types_of.get((dataset.pk, columns[name]), ""), change.new, dialect):
                # MySQL's MODIFY and CHANGE restate the type with every edit: the same type again breaks nothing.
                answer.notes.append(f"statement {change.statement}: {dataset.qualified_name}.{name} keeps its type {change.new}")
                continue
            record(columns[name], f"column {dataset.qualified_name}.{name} changes type to {change.new}")
        elif change.kind == ddl.COLUMN_ADDED:
            columns[change.column] = None
            answer.notes.append(f"statement {change.statement}: a new column {dataset.qualified_name}.{change.column} breaks nothing")
        elif change.kind == ddl.DATASET_REMOVED:
            dropped.add(dataset.pk)
            record("*", f"{dataset.kind} {dataset.qualified_name} dropped")
        elif change.kind == ddl.DATASET_RENAMED:
            dropped.add(dataset.pk)
            record("*", f"{dataset.kind} {dataset.qualified_name} renamed to {change.new}")
        elif change.kind == ddl.TABLE_REPLACED:
            new_columns = {name.lower(): (name, spelled) for name, spelled in change.columns}
            for name in list(columns):
                if columns[name] is None:
                    continue
                found = new_columns.get(name.lower())
                if found is None:
                    record(columns.pop(name), f"column {dataset.qualified_name}.{name} is not in the table created again")
                elif found[1] and not _same_type(types_of.get((dataset.pk, columns[name]), ""), found[1], dialect):
                    record(columns[name], f"column {dataset.qualified_name}.{name} changes type to {found[1]}")
        elif change.kind == ddl.VIEW_REPLACED:
            for name, what in _view_replaced(source, dialect, dataset, change, columns):
                if name == "*":
                    record("*", what)
                else:
                    record(columns.pop(name), what)
    found = sorted(broken.values(), key=lambda b: (b.statement or 0, b.dataset.qualified_name, b.column))
    for item in found:
        answer.changes.append({"statement": item.statement, "change": item.what, "dataset": item.dataset.qualified_name,
                               "column": "" if item.column == "*" else item.column})
    return found


def _view_replaced(source: Source, dialect, view: Dataset, change: PlannedChange, columns: dict) -> list[tuple[str, str]]:
    """The view's columns the new SQL no longer has (each breaks its readers), or the whole view when the
    new SQL cannot be resolved to columns."""
    try:
        refs = view_upstreams(change.new, dialect, view.schema_name, "")
    except LineageParseError as exc:
        return [("*", f"view {view.qualified_name} replaced by SQL Canon cannot read ({exc})")]
    inputs: dict[tuple[str, str, str], tuple[str, ...]] = {}
    for ref in refs:
        dataset = _find(source, Name(ref.schema, ref.name)) or (_find(source, Name("", ref.name)) if ref.implicit_schema else None)
        if dataset is not None:
            inputs[(ref.catalog, ref.schema, ref.name)] = tuple(_columns_of([dataset.pk]).get(dataset.pk, []))
    try:
        lineage = view_column_lineage(change.new, dialect, view.schema_name, "", inputs, normalize=not case_sensitive(source.engine))
    except ColumnLineageError as exc:
        return [("*", f"view {view.qualified_name} replaced by SQL whose columns Canon cannot resolve ({exc})")]
    outputs = set(lineage.outputs)
    folded = {name.lower() for name in outputs}
    return [(name, f"column {view.qualified_name}.{name} is no longer in the replaced {view.get_kind_display().lower()}")
            for name in list(columns) if columns[name] is not None and name not in outputs and name.lower() not in folded]


def _follow(broken: list[Broken], answer: ImpactAnswer) -> None:
    """Follow each broken column downstream and gather the answer by object, certified definitions first."""
    starts = {(item.dataset.pk, item.column): item.start for item in broken}
    reached = column_impacts_for(starts) if starts else {}
    what_of = {(item.dataset.pk, item.column): item.what for item in broken}
    objects: dict[tuple[str, str], dict] = {}
    for start, impacts in reached.items():
        for impact in impacts:
            key = (impact.kind, impact.name)
            entry = objects.setdefault(key, {"kind": impact.kind, "name": impact.name, "dataset_id": impact.dataset_id, "hits": []})
            entry["hits"].append(_hit(impact, what_of[start]))
    _describe_objects(objects)
    answer.impacts = sorted(objects.values(), key=lambda o: (not o.get("certified"), o["kind"] != "metric", o["name"]))
    for entry in answer.impacts:
        entry.pop("dataset_id", None)


def _hit(impact: ColumnImpact, what: str) -> dict:
    return {"change": what, "column": impact.column, "path": list(impact.path), "table_level": impact.table_level,
            "describe": impact.describe()}


def _describe_objects(objects: dict[tuple[str, str], dict]) -> None:
    """Owners, watchers, certification, dbt models and links, a few queries for all."""
    view_ids = [o["dataset_id"] for o in objects.values() if o["dataset_id"] is not None]
    views = {d.pk: d for d in Dataset.objects.filter(id__in=view_ids).select_related("owner", "owner__user", "source")}
    dbt: dict[int, list[str]] = defaultdict(list)
    for dataset_id, unique_id in DbtNode.objects.filter(dataset_id__in=view_ids).values_list("dataset_id", "unique_id"):
        dbt[dataset_id].append(unique_id)
    watchers = _dataset_watchers(list(views.values()))
    metric_names = [o["name"] for o in objects.values() if o["kind"] == "metric"]
    metrics = {m.name: m for m in MetricDefinition.objects.filter(name__in=metric_names).prefetch_related("owners", "watchers")}
    for entry in objects.values():
        if entry["dataset_id"] is not None and entry["dataset_id"] in views:
            dataset = views[entry["dataset_id"]]
            entry["kind"] = "dbt_model" if dbt.get(dataset.pk) else dataset.kind
            entry["dbt_models"] = dbt.get(dataset.pk, [])
            entry["certified"] = False
            entry["url"] = dataset.get_absolute_url()
            owner = dataset.owner
            entry["owners"] = [_person(owner.user, owner.name, owner.contact_email)] if owner is not None else []
            entry["watchers"] = watchers.get(dataset.pk, [])
        elif entry["kind"] == "metric" and entry["name"] in metrics:
            metric = metrics[entry["name"]]
            entry["certified"] = metric.status == MetricDefinition.CERTIFIED
            entry["status"] = metric.status
            entry["url"] = metric.get_absolute_url()
            entry["dbt_models"] = []
            entry["owners"] = [_person(u) for u in metric.owners.all()] + [str(o) for o in metric.external_owners or []]
            entry["watchers"] = [_person(u) for u in metric.watchers.all()]
        else:
            entry.update(certified=False, url="", dbt_models=[], owners=[], watchers=[])


def _person(user, name: str = "", email: str = "") -> str:
    if user is not None:
        name, email = user.get_full_name() or user.get_username(), user.email or email
    return f"{name} <{email}>" if email else name


def _dataset_watchers(datasets: list[Dataset]) -> dict[int, list[str]]:
    """Who hears about each dataset's changes: subscriptions covering it that are not off or excluded for it."""
    if not datasets:
        return {}
    subscriptions = list(Subscription.objects.filter(source_id__in={d.source_id for d in datasets}).exclude(
        mode=Subscription.OFF).select_related("user"))
    excluded = set(SubscriptionExclusion.objects.filter(dataset_id__in=[d.pk for d in datasets]).values_list("subscription_id", "dataset_id"))
    found: dict[int, list[str]] = {}
    for dataset in datasets:
        people = [_person(s.user) for s in subscriptions
                  if s.covers(dataset.source_id, dataset.schema_name, dataset.pk) and (s.pk, dataset.pk) not in excluded and s.user.is_active]
        found[dataset.pk] = sorted(set(people))
    return found


def answer_json(answer: ImpactAnswer) -> str:
    return json.dumps(answer.as_dict(), indent=2, sort_keys=False)
