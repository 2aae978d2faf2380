"""The crawl's steps: what runs after an extraction is applied, in the order settings.CANON_CRAWL_STEPS lists.

Each step is a function of one CrawlOutcome (catalog/inventory/outcome.py), called inside the crawl's
one transaction: whatever a step writes commits with the crawl or not at all, and a step that raises
fails the crawl, which then changes nothing. A new capability is a module with a step and one line in
the list, as a middleware is one line in MIDDLEWARE; the crawl itself does not change.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from catalog.inventory.outcome import CrawlOutcome

CrawlStep = Callable[[CrawlOutcome], None]


def crawl_steps() -> list[CrawlStep]:
    """The configured steps, imported once per list of dotted paths."""
    return list(_imported(tuple(settings.CANON_CRAWL_STEPS)))


@lru_cache(maxsize=4)
def _imported(paths: tuple[str, ...]) -> tuple[CrawlStep, ...]:
    steps = []
    for path in paths:
        try:
            steps.append(import_string(path))
        except ImportError as exc:
            raise ImproperlyConfigured(f"CANON_CRAWL_STEPS: cannot import {path!r} ({exc})") from exc
    return tuple(steps)


def crawl_steps_prepare(source) -> dict:
    """Before the crawl's transaction: a step with a ``prepare(source)`` (a read over the network, as the query
    history is) runs it here, and finds what it returned in ``outcome.prepared[step]``. A prepare must not raise."""
    return {step: step.prepare(source) for step in crawl_steps() if hasattr(step, "prepare")}


def crawl_steps_run(outcome: CrawlOutcome) -> None:
    for step in crawl_steps():
        step(outcome)
