"""What needs attention: the counts the home page opens with, each linking to its list.

Each app that knows of something a team should look at (a breaking change, a broken definition, a failing
source, a stale dataset...) writes an ``attention.py`` with one function per kind of item, registered with
``@register_attention(order)``:

    @register_attention(order=30)
    def broken_definitions() -> Attention:
        broken = MetricDefinition.objects.filter(broken=True)
        return Attention(key="broken-definitions", title="Broken definitions", count=broken.count(),
                         url=reverse("metric-list") + "?broken=1", empty="Every definition runs.",
                         examples=[Example(d.title, d.get_absolute_url()) for d in broken[:3]])

The home page asks every registered function, in order, the first time it is shown (``attention_items``
imports the apps' ``attention.py`` then, not when a process starts). This module sits in core, below every
app, so an app of any layer can declare items without importing the page that shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from django.utils.module_loading import autodiscover_modules

BAD, WARN = "bad", "warn"


@dataclass(frozen=True)
class Example:
    """One of the items behind a count, named and linked: "main.customers: column removed email"."""

    label: str
    url: str
    note: str = ""  # what it hits, how late it is...


@dataclass(frozen=True)
class Attention:
    key: str  # stable, for tests and anchors: "breaking-changes"
    title: str  # "Breaking changes this week"
    count: int
    url: str  # the list the count stands for
    empty: str  # said instead when the count is 0: "No breaking change this week."
    tone: str = BAD  # BAD or WARN: how loud a non-zero count is
    examples: list[Example] = field(default_factory=list)  # a few, the worst first


AttentionFunction = Callable[[], "Attention | None"]
_registry: list[tuple[int, str, AttentionFunction]] = []
_discovered = False


def register_attention(order: int) -> Callable[[AttentionFunction], AttentionFunction]:
    """Declare a function returning one Attention (or None: nothing to say here). Lower orders show first."""

    def decorator(function: AttentionFunction) -> AttentionFunction:
        name = f"{function.__module__}.{function.__qualname__}"
        if all(existing != name for _, existing, _ in _registry):
            _registry.append((order, name, function))
            _registry.sort(key=lambda entry: (entry[0], entry[1]))
        return function

    return decorator


def attention_items() -> list[Attention]:
    """Every registered item, in order."""
    global _discovered
    if not _discovered:
        autodiscover_modules("attention")
        _discovered = True
    items = [function() for _, _, function in _registry]
    return [item for item in items if item is not None]
