"""A source whose query history cannot be read (no history on its engine's setup, no privilege, an error): the
note its page shows. Light on purpose: usage's crawl step calls it on every crawl of such a source, and recording a
history (catalog/usage/services.py) loads sqlglot."""

from __future__ import annotations

from catalog.usage.models import SourceUsage


def usage_note_unavailable(source, note: str, *, now) -> SourceUsage:
    """Written only if the note changed, so an unchanged recrawl writes nothing here."""
    usage, _ = SourceUsage.objects.get_or_create(source=source)
    if usage.available or usage.note != note or usage.statements:
        usage.available, usage.note, usage.read_at = False, note, now
        usage.statements = usage.parsed = usage.unparsed = 0
        usage.save()
    return usage
