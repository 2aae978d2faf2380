"""What a change to a dataset breaks, as the apps that know say it.

Alerts name, in each email, what a change impacts (the views that read the dataset, the
metric definitions it breaks). Alerts does not know lineage or metrics: each of those apps
registers an ImpactProvider in its AppConfig.ready(), by dotted path so that starting a
process imports none of them (they import SQL parsing and more), and alerts asks every
registered provider, in the order registered. A new kind of dependent (a dashboard, a dbt
model) is one more provider:

    class DashboardImpacts(ImpactProvider):
        def users_of(self, dataset_ids):
            return {...}  # {dataset id: ["dashboard Revenue", ...]}

    # in DashboardsConfig.ready():
    register_impact_provider("catalog.dashboards.impact.DashboardImpacts")

By column: a column removed, renamed or retyped reaches only what reads that column. Each
provider answers one hop (`column_readers_of`: lineage the view columns derived from it,
metrics the definitions that read it) and `column_impacts_for` walks the hops, so a view
reading a view reading the column is named with the path of columns between them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.utils.module_loading import import_string

from catalog.history import diff


@dataclass(frozen=True)
class Dependent:
    """A dataset that reads another one (a view reading a table), named for an email."""

    dataset_id: int
    kind: str  # "view"
    name: str  # "schema.name"


@dataclass(frozen=True)
class ColumnReader:
    """Something that reads a column: a view's output column (column), a view reading it outside its
    outputs (a filter or join: column ""), a view read only at table level (column "*"), or a metric
    definition (dataset_id None, column "")."""

    kind: str  # "view", "metric"
    name: str  # "schema.name", or the definition's name
    column: str = ""
    dataset_id: int | None = None  # the dataset it is, when it can be read in turn
    table_level: bool = False


@dataclass(frozen=True)
class ColumnImpact:
    """What a change to one column reaches, with the path of columns it took to get there."""

    kind: str
    name: str
    column: str  # the column of `name` hit; "" when it reads the column in a filter or join, or is not a dataset
    path: tuple[str, ...]  # "schema.name.column" from the changed column to the one `name` reads, in order
    table_level: bool = False
    dataset_id: int | None = None  # the dataset it is (a view), None for a definition

    def describe(self) -> str:
        what = f"{self.kind} {self.name}.{self.column}" if self.column and self.column != "*" else f"{self.kind} {self.name}"
        if self.table_level:
            what += " (table level only)"
        elif self.kind == "view" and not self.column:
            what += f" (reads {self.path[-1]} in a filter or join)"
        if len(self.path) > 1:
            what += f" (through {self.path[-1]})"
        return what

    def as_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "column": self.column, "path": list(self.path),
                "table_level": self.table_level, "describe": self.describe()}


class ImpactProvider:
    """One app's answers to "what does this change break?". Each returns only what it knows;
    the defaults know nothing. Every answer is {dataset id: [...]} for the ids asked about,
    leaving out ids with nothing to say."""

    def broken_by(self, dataset_ids: list[int]) -> dict[int, list[str]]:
        """Things the datasets' current state breaks, named ("metric weekly_active_users")."""
        return {}

    def dependents_of(self, dataset_ids: list[int]) -> dict[int, list[Dependent]]:
        """Present datasets that read each dataset, directly or a few hops away, nearest first."""
        return {}

    def users_of(self, dataset_ids: list[int]) -> dict[int, list[str]]:
        """Things that read each dataset, whatever its state, named ("metric weekly_active_users")."""
        return {}

    def column_readers_of(self, columns: list[tuple[int, str]]) -> dict[tuple[int, str], list[ColumnReader]]:
        """What reads each (dataset id, column) directly, one hop. The column "*" stands for any column of
        the dataset (it was reached at table level). Something that reads the dataset but whose columns are
        not known (SQL that could not be resolved) reads every column: it is a ColumnReader(table_level=True)."""
        return {}


_registered: list[str] = []  # dotted paths of ImpactProvider classes
_providers: dict[str, ImpactProvider] = {}  # imported on first use


def register_impact_provider(dotted_path: str) -> None:
    """Called from an AppConfig.ready(); a provider registered twice is asked once."""
    if dotted_path not in _registered:
        _registered.append(dotted_path)


def impact_providers() -> list[ImpactProvider]:
    for dotted_path in _registered:
        if dotted_path not in _providers:
            _providers[dotted_path] = import_string(dotted_path)()
    return [_providers[dotted_path] for dotted_path in _registered]


def impacts_for(dataset_ids) -> dict[int, list[str]]:
    """What a change to each dataset breaks, named for the email, each name once: what the
    change breaks directly, then each dependent ("view sales.daily") followed by what reads
    that dependent ("metric revenue (through sales.daily)")."""
    dataset_ids = list(dataset_ids)
    providers = impact_providers()
    dependents: dict[int, list[Dependent]] = defaultdict(list)
    broken: dict[int, list[str]] = defaultdict(list)
    for provider in providers:
        for dataset_id, found in provider.dependents_of(dataset_ids).items():
            dependents[dataset_id] += found
    for provider in providers:
        for dataset_id, names in provider.broken_by(dataset_ids).items():
            broken[dataset_id] += names
    dependent_ids = list(dict.fromkeys(d.dataset_id for found in dependents.values() for d in found))
    through: dict[int, list[str]] = defaultdict(list)
    if dependent_ids:
        for provider in providers:
            for dataset_id, names in provider.users_of(dependent_ids).items():
                through[dataset_id] += names
    impacts: dict[int, list[str]] = {}
    for dataset_id in dataset_ids:
        names = list(broken.get(dataset_id, []))
        for dependent in dependents.get(dataset_id, []):
            names.append(f"{dependent.kind} {dependent.name}")
            names += [f"{name} (through {dependent.name})" for name in through.get(dependent.dataset_id, [])]
        if names:
            impacts[dataset_id] = list(dict.fromkeys(names))
    return impacts


# How far a column change is followed downstream (views reading views reading views...).
COLUMN_HOPS = 8


def column_impacts_for(columns: dict[tuple[int, str], str]) -> dict[tuple[int, str], list[ColumnImpact]]:
    """What a change to each column reaches, hop by hop: {(dataset id, column): "schema.name.column" as
    the path starts} -> [ColumnImpact, ...], nearest first, each (kind, name, column) once per start.
    Only what reads the column is named; a reader known only at table level is followed on every column."""
    providers = impact_providers()
    impacts: dict[tuple[int, str], list[ColumnImpact]] = {start: [] for start in columns}
    seen: dict[tuple[int, str], set] = {start: set() for start in columns}
    frontier: dict[tuple[int, str], set[tuple[tuple[int, str], tuple[str, ...]]]] = {
        start: {(start, (shown,))} for start, shown in columns.items()}
    for _ in range(COLUMN_HOPS):
        if not frontier:
            break
        readers: dict[tuple[int, str], list[ColumnReader]] = defaultdict(list)
        for provider in providers:
            for key, found in provider.column_readers_of(list(frontier)).items():
                readers[key] += found
        following: dict[tuple[int, str], set] = defaultdict(set)
        for key, routes in frontier.items():
            for reader in readers.get(key, []):
                if key[1] == "*" and reader.dataset_id is not None and reader.column != "*":
                    # What reads a dataset reached whole (dropped, or known only at table level) is reached whole.
                    reader = ColumnReader(reader.kind, reader.name, "*", reader.dataset_id, reader.table_level)
                for start, path in sorted(routes):
                    ident = (reader.kind, reader.name, reader.column, reader.dataset_id)
                    if ident in seen[start] or (reader.dataset_id is not None and reader.dataset_id == start[0]):
                        continue
                    seen[start].add(ident)
                    impacts[start].append(ColumnImpact(reader.kind, reader.name, reader.column, path, reader.table_level,
                                                       reader.dataset_id))
                    if reader.dataset_id is not None and reader.column:
                        step = f"{reader.name}.{reader.column}" if reader.column != "*" else reader.name
                        following[(reader.dataset_id, reader.column)].add((start, path + (step,)))
        frontier = following
    return impacts


# Changes to a column that break what reads it (a new column breaks no reader; a column becoming NOT NULL
# or generated breaks writers, which no view or definition is), and changes that break every reader.
COLUMN_BREAKING_KINDS = frozenset({diff.COLUMN_REMOVED, diff.COLUMN_RENAMED, diff.COLUMN_POSSIBLY_RENAMED, diff.TYPE_CHANGED})
DATASET_BREAKING_KINDS = frozenset({diff.DATASET_REMOVED, diff.DATASET_RENAMED, diff.KIND_CHANGED})


def _changed_columns(change) -> list[str]:
    """The column names a change is about: a renamed column is looked for under both its names (what reads
    it may have been derived before or after the rename)."""
    names = [change.column]
    if change.kind in (diff.COLUMN_RENAMED, diff.COLUMN_POSSIBLY_RENAMED):
        names += [change.old_value or "", change.new_value or ""]
    return list(dict.fromkeys(name for name in names if name))


def change_column_impacts(changes) -> list[list[ColumnImpact]]:
    """For each change (a SchemaChange, or anything with dataset_id, dataset_name, kind, column, old_value and
    new_value), in order, what reads the changed column, hop by hop; [] for a change that breaks no reader."""
    starts: dict[tuple[int, str], str] = {}
    for change in changes:
        if change.kind in COLUMN_BREAKING_KINDS:
            for column in _changed_columns(change):
                starts[(change.dataset_id, column)] = f"{change.dataset_name}.{column}"
    found = column_impacts_for(starts) if starts else {}
    answers = []
    for change in changes:
        impacts: list[ColumnImpact] = []
        if change.kind in COLUMN_BREAKING_KINDS:
            seen = set()
            for column in _changed_columns(change):
                for impact in found.get((change.dataset_id, column), []):
                    if (impact.kind, impact.name, impact.column) not in seen:
                        seen.add((impact.kind, impact.name, impact.column))
                        impacts.append(impact)
        answers.append(impacts)
    return answers


def change_impacts(changes) -> dict[int, list[str]]:
    """What a crawl's changes break, named for the email, by dataset id: what each dataset's state breaks
    now (broken_by), everything that reads a dataset removed, renamed or turned into another kind, and, for
    a column removed, renamed or retyped, only what reads that column, with the column and its path."""
    changes = list(changes)
    dataset_ids = list(dict.fromkeys(change.dataset_id for change in changes))
    names: dict[int, list[str]] = defaultdict(list)
    for provider in impact_providers():
        for dataset_id, broken in provider.broken_by(dataset_ids).items():
            names[dataset_id] += broken
    whole = impacts_for({change.dataset_id for change in changes if change.kind in DATASET_BREAKING_KINDS})
    for dataset_id, found in whole.items():
        names[dataset_id] += found
    for change, impacts in zip(changes, change_column_impacts(changes)):
        names[change.dataset_id] += [impact.describe() for impact in impacts]
    return {dataset_id: list(dict.fromkeys(found)) for dataset_id, found in names.items() if found}
