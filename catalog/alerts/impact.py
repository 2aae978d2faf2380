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
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Dependent:
    """A dataset that reads another one (a view reading a table), named for an email."""

    dataset_id: int
    kind: str  # "view"
    name: str  # "schema.name"


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
