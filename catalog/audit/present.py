"""An audit entry in words: what happened ("changed the URL", "certified", "started a crawl") and its diff rows."""

from __future__ import annotations

from dataclasses import dataclass

from auditlog.models import AbstractLogEntry

from catalog.sources.schedules import interval_text

CREATE, UPDATE, DELETE = AbstractLogEntry.Action.CREATE, AbstractLogEntry.Action.UPDATE, AbstractLogEntry.Action.DELETE

# What each kind of object is called on the pages.
NOUNS = {
    "source": "source", "crawl": "crawl", "crawlschedule": "schedule", "dataset": "dataset", "column": "column",
    "owneridentity": "owner mapping", "metricdefinition": "metric definition", "metricversion": "version",
    "sourceusage": "query text setting", "subscription": "subscription", "subscriptionexclusion": "subscription exception", "user": "user",
}
KINDS = sorted(NOUNS.items(), key=lambda kv: kv[1])


@dataclass
class Row:
    field: str
    before: object
    after: object


def _value(value):
    if value is None or value == "None":
        return ""
    if isinstance(value, dict) and value.get("type") == "m2m":
        return ", ".join(value.get("objects", []))
    return value


def rows(entry) -> list[Row]:
    """Field, before, after; a many-to-many change as the names added or removed."""
    out = []
    for field, change in (entry.changes or {}).items():
        if isinstance(change, dict) and change.get("type") == "m2m":
            names = ", ".join(change.get("objects", []))
            out.append(Row(field, names if change.get("operation") == "delete" else "", names if change.get("operation") == "add" else ""))
        elif isinstance(change, (list, tuple)) and len(change) == 2:
            out.append(Row(field, _value(change[0]), _value(change[1])))
    return out


def _after(entry, field):
    change = (entry.changes or {}).get(field)
    return change[1] if isinstance(change, (list, tuple)) and len(change) == 2 else None


def summary(entry) -> str:
    """One line: what was done to what."""
    model = entry.content_type.model
    noun = NOUNS.get(model, model)
    changes = entry.changes or {}
    if model == "crawl":
        return "confirmed a held mass removal and crawled again" if _after(entry, "allow_mass_removal") in (True, "True") else "started a crawl"
    if model == "metricversion":
        reason = _after(entry, "override_reason")
        text = f"saved version {_after(entry, 'number')}"
        return f"{text}, although it looked like another definition: “{reason}”" if reason else text
    if model == "crawlschedule":
        return _schedule_summary(entry)
    if entry.action == CREATE:
        return f"created {noun} {entry.object_repr}"
    if entry.action == DELETE:
        return f"deleted {noun} {entry.object_repr}"
    if model == "metricdefinition" and "status" in changes:
        status = _after(entry, "status")
        return {"certified": "certified it", "deprecated": "deprecated it", "draft": "returned it to draft"}.get(status, f"set status {status}")
    if model == "source" and "url_display" in changes:
        return "changed the URL (secrets masked)" + (" and " + ", ".join(f for f in changes if f != "url_display") if len(changes) > 1 else "")
    if model in ("dataset", "column") and "description" in changes:
        return f"described {noun} {entry.object_repr}"
    if model == "sourceusage":
        return "chose to keep query text" if _after(entry, "keep_query_text") in (True, "True") else "stopped keeping query text"
    if model == "owneridentity":
        return f"mapped owner {entry.object_repr}"
    return f"changed {', '.join(changes)} of {noun} {entry.object_repr}"


def _schedule_summary(entry) -> str:
    """A source's crawl schedule: "scheduled crawls: every 30 minutes", "paused the crawl schedule", ..."""
    if entry.action == DELETE:
        return "removed the crawl schedule"
    every, cron, enabled = (_value(_after(entry, field)) for field in ("every_seconds", "cron", "enabled"))
    when = ""
    if every:
        when = interval_text(int(every))
    elif cron:
        when = f"cron {cron}"
    if entry.action == CREATE:
        return f"scheduled crawls: {when}" + (" (paused)" if enabled in (False, "False") else "")
    said = [f"changed the crawl schedule to {when}"] if when else []
    if enabled in (False, "False"):
        said.append("paused the crawl schedule")
    elif enabled in (True, "True"):
        said.append("resumed the crawl schedule")
    return " and ".join(said) or "changed the crawl schedule"
